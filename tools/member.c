/* member.c — `bosun member add|remove|role` and `bosun transfer`: thin
 * clients of a server's cluster endpoints, for changing the membership and
 * the leadership of a running cluster.
 *
 *   member add      POST   /cluster/members           {"id","address","api"}
 *   member remove   DELETE /cluster/members/{id}
 *   member role     POST   /cluster/members/{id}/role {"role"}
 *   transfer        POST   /cluster/transfer          {"id"}   (0 = any)
 *
 * Any server will do: it forwards the change to the leader. --server takes a
 * comma-separated list; the next URL is tried only when one cannot be
 * reached, never after a server answered. An error answer is a Kubernetes
 * Status object whose message is printed as is, and the command exits 1.
 *
 * The subcommands of `member` are one table (name, handler, flags it takes,
 * usage); one parser reads the flags of every command and the table says
 * which are allowed and required. */
#include "tools/tools.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "util/util.h"

enum {
    MEMBER_ADD_TIMEOUT_MS = 60000, /* the new server catches up before it becomes a voter */
    MEMBER_CHANGE_TIMEOUT_MS = 30000,
    MEMBER_TRANSFER_TIMEOUT_MS = 15000,
    MEMBER_TRANSFER_WAIT_MS = 5000, /* how long to watch for the new leader */
};

/* The flags, as bits, so that a command can say which it takes. */
enum member_flag {
    MF_SERVER = 1 << 0,
    MF_ID = 1 << 1,
    MF_ADDRESS = 1 << 2,
    MF_API = 1 << 3,
    MF_ROLE = 1 << 4,
};

struct member_options {
    unsigned given; /* enum member_flag bits */
    const char *server;
    long long id;
    const char *address;
    const char *api;
    const char *role;
};

struct member_command {
    const char *name;   /* "member add" */
    int (*run)(const struct member_command *cmd, const struct member_options *o);
    unsigned allowed;   /* flags it takes */
    unsigned required;  /* flags it needs */
    const char *usage;  /* --help text */
};

/* ---- talking to a server ---------------------------------------------- */

/* Sends one request with a JSON body (or none) to the first server in the
 * comma-separated list that can be reached. Returns 0 with resp filled, or -1
 * with a message printed if none could be reached. */
static int member_request(const char *cmdname, const char *servers, const char *method,
                          const char *path, json_t *body, int timeout_ms,
                          struct httpc_response *resp)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    const char *const headers[] = {"Content-Type: application/json", "Accept: application/json",
                                   NULL};
    char *list = xstrdup(servers), *save = NULL;
    int rc = -1;
    for (char *url = strtok_r(list, ",", &save); url && rc != 0; url = strtok_r(NULL, ",", &save)) {
        struct httpc *h = httpc_new(url);
        if (!h) {
            fprintf(stderr, "bosun %s: bad server URL %s (want http://HOST:PORT)\n", cmdname, url);
            continue;
        }
        rc = httpc_request(h, method, path, text ? headers : headers + 1, text,
                           text ? strlen(text) : 0, timeout_ms, resp);
        if (rc != 0)
            fprintf(stderr, "bosun %s: cannot reach %s: %s\n", cmdname, url,
                    errno == ETIMEDOUT || errno == EAGAIN ? "timed out" : strerror(errno));
        httpc_free(h);
    }
    free(list);
    free(text);
    return rc;
}

/* Prints why the server refused: the Status message if the body is one,
 * else the body itself. */
static void member_print_failure(const char *cmdname, const struct httpc_response *resp)
{
    json_t *st = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(st, "message"));
    const char *reason = json_string_value(json_object_get(st, "reason"));
    if (msg)
        fprintf(stderr, "bosun %s: %s (%s%sHTTP %d)\n", cmdname, msg, reason ? reason : "",
                reason ? ", " : "", resp->status);
    else
        fprintf(stderr, "bosun %s: HTTP %d: %.*s\n", cmdname, resp->status,
                resp->body ? (int)strcspn(resp->body, "\n") : 0, resp->body ? resp->body : "");
    json_decref(st);
}

/* One request whose success needs no more than a line saying so. Returns
 * the exit status: 0 on a 2xx answer, 1 otherwise. body is consumed. */
static int member_call(const struct member_command *cmd, const struct member_options *o,
                       const char *method, const char *path, json_t *body, int timeout_ms,
                       const char *done)
{
    struct httpc_response resp = {0};
    int rc = member_request(cmd->name, o->server, method, path, body, timeout_ms, &resp);
    json_decref(body);
    if (rc != 0)
        return 1;
    bool ok = resp.status >= 200 && resp.status < 300;
    if (ok)
        printf("%s\n", done);
    else
        member_print_failure(cmd->name, &resp);
    httpc_response_free(&resp);
    return ok ? 0 : 1;
}

/* ---- the commands ----------------------------------------------------- */

static int member_add(const struct member_command *cmd, const struct member_options *o)
{
    json_t *body = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)o->id, "address", o->address,
                             "api", o->api);
    char done[512];
    snprintf(done, sizeof done, "added member %lld (raft %s, api %s) as a voter", o->id,
             o->address, o->api);
    return member_call(cmd, o, "POST", "/cluster/members", body, MEMBER_ADD_TIMEOUT_MS, done);
}

static int member_remove(const struct member_command *cmd, const struct member_options *o)
{
    char path[64], done[64];
    snprintf(path, sizeof path, "/cluster/members/%lld", o->id);
    snprintf(done, sizeof done, "removed member %lld", o->id);
    return member_call(cmd, o, "DELETE", path, NULL, MEMBER_CHANGE_TIMEOUT_MS, done);
}

static int member_role(const struct member_command *cmd, const struct member_options *o)
{
    static const char *const roles[] = {"voter", "standby", "spare"};
    bool known = false;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        known |= strcmp(o->role, roles[i]) == 0;
    if (!known) {
        fprintf(stderr, "bosun %s: --role must be voter, standby or spare, not %s\n", cmd->name,
                o->role);
        return 2;
    }
    char path[80], done[96];
    snprintf(path, sizeof path, "/cluster/members/%lld/role", o->id);
    snprintf(done, sizeof done, "member %lld is now a %s", o->id, o->role);
    return member_call(cmd, o, "POST", path, json_pack("{s:s}", "role", o->role),
                       MEMBER_CHANGE_TIMEOUT_MS, done);
}

/* The leader that the first reachable server names: its id (0 if none is
 * known or no server answers), and its API URL in api. */
static long long transfer_current_leader(const char *servers, char *api, size_t len)
{
    char *list = xstrdup(servers), *save = NULL;
    long long leader = 0;
    api[0] = '\0';
    for (char *url = strtok_r(list, ",", &save); url; url = strtok_r(NULL, ",", &save)) {
        struct httpc *h = httpc_new(url);
        struct httpc_response resp = {0};
        if (!h || httpc_request(h, "GET", "/cluster/status", NULL, NULL, 0, 1000, &resp) != 0) {
            httpc_free(h);
            continue;
        }
        json_t *st = resp.status == 200 && resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL)
                                                     : NULL;
        bool answered = st != NULL;
        leader = json_integer_value(json_object_get(st, "leader_id"));
        const char *a = json_string_value(json_object_get(st, "leader_api"));
        snprintf(api, len, "%s", a ? a : "");
        json_decref(st);
        httpc_response_free(&resp);
        httpc_free(h);
        if (answered)
            break;
    }
    free(list);
    return leader;
}

static int member_transfer(const struct member_command *cmd, const struct member_options *o)
{
    char api[256];
    long long before = transfer_current_leader(o->server, api, sizeof api);
    if (o->id > 0 && o->id == before) {
        printf("server %lld is already the leader\n", before);
        return 0;
    }
    int rc = member_call(cmd, o, "POST", "/cluster/transfer",
                         json_pack("{s:I}", "id", (json_int_t)o->id), MEMBER_TRANSFER_TIMEOUT_MS,
                         "leadership transfer requested");
    if (rc != 0)
        return rc;
    /* Report where leadership went, as the servers see it. */
    uint64_t deadline = util_now_ms() + MEMBER_TRANSFER_WAIT_MS;
    while (util_now_ms() < deadline) {
        long long now = transfer_current_leader(o->server, api, sizeof api);
        if (now > 0 && now != before && (o->id == 0 || now == o->id)) {
            printf("the leader is now server %lld%s%s\n", now, api[0] ? " at " : "", api);
            return 0;
        }
        usleep(100 * 1000);
    }
    printf("the servers do not report a new leader yet (see bosun status)\n");
    return 0;
}

/* ---- flags and dispatch ----------------------------------------------- */

static const struct member_command member_commands[] = {
    {"member add", member_add, MF_SERVER | MF_ID | MF_ADDRESS | MF_API,
     MF_SERVER | MF_ID | MF_ADDRESS | MF_API,
     "usage: bosun member add --server URL --id N --address HOST:PORT --api URL\n"
     "\n"
     "Adds server N to the cluster: the leader adds it as a spare, lets it catch up\n"
     "and promotes it to voter. Start the new server first with --join URL.\n"
     "\n"
     "  --server URL[,URL]  any server of the cluster (the next is tried if unreachable)\n"
     "  --id N              the new server's id (> 0, unused)\n"
     "  --address HOST:PORT its Raft address, e.g. 127.0.0.1:7004\n"
     "  --api URL           its API URL, e.g. http://127.0.0.1:6004\n"},
    {"member remove", member_remove, MF_SERVER | MF_ID, MF_SERVER | MF_ID,
     "usage: bosun member remove --server URL --id N\n"
     "\n"
     "Removes server N from the cluster configuration (it is not stopped).\n"
     "\n"
     "  --server URL[,URL]  any server of the cluster\n"
     "  --id N              the member to remove\n"},
    {"member role", member_role, MF_SERVER | MF_ID | MF_ROLE, MF_SERVER | MF_ID | MF_ROLE,
     "usage: bosun member role --server URL --id N --role voter|standby|spare\n"
     "\n"
     "Changes a member's role: voters vote and count for commits; standbys\n"
     "replicate the log without voting; spares only stay in the configuration.\n"
     "\n"
     "  --server URL[,URL]  any server of the cluster\n"
     "  --id N              the member\n"
     "  --role ROLE         voter, standby or spare\n"},
};

static const struct member_command transfer_command = {
    "transfer", member_transfer, MF_SERVER | MF_ID, MF_SERVER,
    "usage: bosun transfer --server URL [--id N]\n"
    "\n"
    "Asks the leader to hand leadership to voter N (default 0: whichever voter is\n"
    "most up to date), then reports the new leader.\n"
    "\n"
    "  --server URL[,URL]  any server of the cluster\n"
    "  --id N              the voter to become leader (default 0 = any)\n"};

static const char *member_flag_name(unsigned flag)
{
    switch (flag) {
    case MF_SERVER: return "--server";
    case MF_ID: return "--id";
    case MF_ADDRESS: return "--address";
    case MF_API: return "--api";
    default: return "--role";
    }
}

/* Checks one flag's value; returns 0 or -1 with a message printed. */
static int member_check_value(const char *cmdname, unsigned flag, const char *v,
                              struct member_options *o)
{
    if (flag == MF_ID) {
        char *end;
        errno = 0;
        o->id = strtoll(v, &end, 10);
        if (errno == 0 && end != v && *end == '\0' && o->id >= 0)
            return 0;
        fprintf(stderr, "bosun %s: --id must be a server id (a number), not %s\n", cmdname, v);
        return -1;
    }
    if (flag == MF_ADDRESS) {
        const char *colon = strrchr(v, ':');
        if (colon && colon > v && atoi(colon + 1) > 0 && colon[1 + strspn(colon + 1, "0123456789")] == '\0')
            return 0;
        fprintf(stderr, "bosun %s: --address must be HOST:PORT, not %s\n", cmdname, v);
        return -1;
    }
    if ((flag == MF_API || flag == MF_SERVER) && strncmp(v, "http://", 7) != 0) {
        fprintf(stderr, "bosun %s: %s must be an http:// URL, not %s\n", cmdname,
                member_flag_name(flag), v);
        return -1;
    }
    return 0;
}

/* Parses the flags of cmd into o. Returns -1 to go on, else the exit status. */
static int member_parse(const struct member_command *cmd, int argc, char **argv,
                        struct member_options *o)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, MF_SERVER}, {"id", required_argument, NULL, MF_ID},
        {"address", required_argument, NULL, MF_ADDRESS}, {"api", required_argument, NULL, MF_API},
        {"role", required_argument, NULL, MF_ROLE},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct member_options){0};
    optind = 0;
    opterr = 0;
    int opt, index = -1;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, &index)) != -1) {
        if (opt == 'h') {
            fputs(cmd->usage, stdout);
            return 0;
        }
        if (opt == '?' || opt == ':') {
            fprintf(stderr, "bosun %s: %s %s (see bosun %s --help)\n", cmd->name,
                    opt == ':' ? "flag needs a value:" : "unknown flag", argv[optind - 1], cmd->name);
            return 2;
        }
        if (!(cmd->allowed & (unsigned)opt)) {
            fprintf(stderr, "bosun %s: flag --%s does not apply here (see bosun %s --help)\n",
                    cmd->name, longopts[index].name, cmd->name);
            return 2;
        }
        if (member_check_value(cmd->name, (unsigned)opt, optarg, o) != 0)
            return 2;
        o->given |= (unsigned)opt;
        switch (opt) {
        case MF_SERVER: o->server = optarg; break;
        case MF_ADDRESS: o->address = optarg; break;
        case MF_API: o->api = optarg; break;
        case MF_ROLE: o->role = optarg; break;
        default: break;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bosun %s: unexpected argument %s\n", cmd->name, argv[optind]);
        return 2;
    }
    unsigned missing = cmd->required & ~o->given;
    if (missing) {
        fprintf(stderr, "bosun %s: %s is required (see bosun %s --help)\n", cmd->name,
                member_flag_name(missing & -missing), cmd->name);
        return 2;
    }
    if ((o->given & MF_ID) && o->id == 0 && cmd->run != member_transfer) {
        fprintf(stderr, "bosun %s: --id must be > 0\n", cmd->name);
        return 2;
    }
    return -1;
}

static int member_run(const struct member_command *cmd, int argc, char **argv)
{
    struct member_options o;
    int rc = member_parse(cmd, argc, argv, &o);
    return rc >= 0 ? rc : cmd->run(cmd, &o);
}

static void member_usage(FILE *f)
{
    fprintf(f, "usage: bosun member <add|remove|role> [flags]\n\n");
    for (size_t i = 0; i < sizeof member_commands / sizeof member_commands[0]; i++) {
        const char *u = member_commands[i].usage + strlen("usage: ");
        fprintf(f, "  %.*s\n", (int)strcspn(u, "\n"), u);
    }
    fprintf(f, "\n`bosun member <command> --help` describes its flags.\n");
}

int tools_member_main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "bosun member: which one? add, remove or role (see bosun member --help)\n");
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        member_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof member_commands / sizeof member_commands[0]; i++)
        if (strcmp(argv[1], member_commands[i].name + strlen("member ")) == 0)
            return member_run(&member_commands[i], argc - 1, argv + 1);
    fprintf(stderr, "bosun member: unknown command %s (want add, remove or role)\n", argv[1]);
    return 2;
}

int tools_transfer_main(int argc, char **argv)
{
    return member_run(&transfer_command, argc, argv);
}
