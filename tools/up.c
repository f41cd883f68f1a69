/* up.c — `bosun up`, `bosun down` and `bosun status`: a local cluster of N
 * servers on 127.0.0.1, for development, tests and demos.
 *
 * `up` lays a cluster out in one directory DIR. Server i (1..N) serves the API
 * on 127.0.0.1:P+i and Raft on 127.0.0.1:P+100+i, keeps its data in DIR/si,
 * and every server gets the same --peers list so that they bootstrap
 * together. `up` forks and execs `bosun server` N times, writes
 * DIR/cluster.json (ids, pids, addresses, data dirs, logs and the exact argv:
 * what `down`, `status` and the chaos and e2e tests need to find, kill and
 * restart a server) and DIR/kubeconfig, then polls GET /cluster/status until
 * some server reports a leader and prints how to use the cluster.
 *
 * In the foreground, each server's stdout and stderr arrive on one pipe. A
 * single poll() loop reads the pipes and a signalfd (SIGINT, SIGTERM,
 * SIGCHLD), so there is no signal handler and no global flag: lines are
 * printed with an "[sN] " prefix (and appended to DIR/sN.log), deaths are
 * reported as they happen, and a stop signal sends SIGTERM to every server
 * and SIGKILL to those still alive 5 s later (a second signal kills at once).
 * The servers run in their own process group, so a terminal's Ctrl-C reaches
 * only `up`, which stops them in order; PR_SET_PDEATHSIG makes them die with
 * `up` if it is killed outright. With --detach each server starts its own
 * session with its output appended to DIR/sN.log and outlives `up`.
 *
 * `down` and `status` read DIR/cluster.json. A recorded pid is signalled only
 * while /proc/PID/cmdline still reads `... server ... --data-dir <its data
 * dir> ...`, so a recycled pid is never killed. */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "util/util.h"

enum {
    UP_DEFAULT_SERVERS = 3,
    UP_MAX_SERVERS = 50,
    UP_DEFAULT_BASE_PORT = 16440,
    UP_RAFT_PORT_OFFSET = 100,
    UP_LEADER_WAIT_MS = 15000,
    UP_LEADER_POLL_MS = 300,
    UP_STOP_GRACE_MS = 5000,
    UP_STATUS_TIMEOUT_MS = 1000,
    UP_PARTIAL_LINE_MAX = 64 * 1024,
};

/* One server of a local cluster, as recorded in cluster.json. */
struct up_server {
    int id;
    pid_t pid;           /* 0 when not running: never started, or reaped by us */
    char *api;           /* "http://127.0.0.1:16441" */
    char *raft;          /* "127.0.0.1:16541" */
    char *data_dir;      /* absolute */
    char *log;           /* absolute: DIR/sN.log */
    char **argv;         /* NULL-terminated, argv[0] the absolute binary; NULL when loaded */
    int out_fd;          /* foreground: read end of the output pipe, or -1 */
    int log_fd;          /* foreground: DIR/sN.log, where the output is copied, or -1 */
    struct ubuf partial; /* foreground: output read after the last newline */
};

struct up_cluster {
    char *dir; /* absolute */
    int n;
    struct up_server *servers;
};

struct up_options {
    int servers;
    const char *dir;
    int base_port;
    bool detach;
    const char *bin;
    int extra_argc; /* server flags after "--" */
    char **extra_argv;
};

/* ---- small helpers ---------------------------------------------------- */

static char *up_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *up_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Parses a whole decimal integer in [min, max]; -1 if s is anything else. */
static int up_parse_int(const char *s, long min, long max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int tools_mkdir_p(const char *path)
{
    char *p = xstrdup(path);
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            rc = -1;
        if (end)
            break;
        *s = '/';
    }
    free(p);
    return rc;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int tools_rmtree(const char *dir)
{
    if (!dir || !*dir)
        return 0;
    return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 || errno == ENOENT ? 0 : -1;
}

/* Reports a flag parsing error from getopt_long in one line; returns 2. */
static int up_flag_error(const char *cmd, int opt, char **argv)
{
    const char *arg = argv[optind - 1];
    if (opt == ':')
        fprintf(stderr, "bosun %s: flag %s needs a value (see bosun %s --help)\n", cmd, arg, cmd);
    else
        fprintf(stderr, "bosun %s: unknown flag %s (see bosun %s --help)\n", cmd, arg, cmd);
    return 2;
}

static long long up_json_int(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static const char *up_json_str(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : dflt;
}

/* GET /cluster/status from the server at api (tools.h). */
json_t *tools_status_fetch(const char *api, int timeout_ms)
{
    struct httpc *h = httpc_new(api);
    if (!h)
        return NULL;
    struct httpc_response resp = {0};
    json_t *st = NULL;
    const char *const headers[] = {"Accept: application/json", NULL};
    if (httpc_request(h, "GET", "/cluster/status", headers, NULL, 0, timeout_ms, &resp) == 0) {
        if (resp.status == 200 && resp.body)
            st = json_loadb(resp.body, resp.body_len, 0, NULL);
        httpc_response_free(&resp);
    }
    httpc_free(h);
    if (st && !json_is_object(st)) {
        json_decref(st);
        st = NULL;
    }
    return st;
}

/* ---- the cluster record: DIR/cluster.json ----------------------------- */

static void up_server_free(struct up_server *s)
{
    free(s->api);
    free(s->raft);
    free(s->data_dir);
    free(s->log);
    if (s->argv)
        for (char **a = s->argv; *a; a++)
            free(*a);
    free(s->argv);
    if (s->out_fd >= 0)
        close(s->out_fd);
    if (s->log_fd >= 0)
        close(s->log_fd);
    ubuf_free(&s->partial);
}

static void up_cluster_free(struct up_cluster *c)
{
    for (int i = 0; i < c->n; i++)
        up_server_free(&c->servers[i]);
    free(c->servers);
    free(c->dir);
    memset(c, 0, sizeof *c);
}

static char *up_cluster_file(const char *dir) { return up_strf("%s/cluster.json", dir); }

/* Reads DIR/cluster.json into c. Returns 0, 1 if the file does not exist, or
 * -1 with a message printed if it cannot be read. */
static int up_cluster_load(const char *cmd, const char *dir, struct up_cluster *c)
{
    memset(c, 0, sizeof *c);
    char *path = up_cluster_file(dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        int missing = access(path, F_OK) != 0;
        if (!missing)
            fprintf(stderr, "bosun %s: cannot read %s: %s\n", cmd, path, jerr.text);
        free(path);
        return missing ? 1 : -1;
    }
    json_t *servers = json_object_get(root, "servers");
    if (!json_is_array(servers)) {
        fprintf(stderr, "bosun %s: %s has no \"servers\" array\n", cmd, path);
        json_decref(root);
        free(path);
        return -1;
    }
    c->dir = xstrdup(dir);
    c->n = (int)json_array_size(servers);
    c->servers = xcalloc((size_t)c->n + 1, sizeof *c->servers);
    for (int i = 0; i < c->n; i++) {
        json_t *o = json_array_get(servers, (size_t)i);
        struct up_server *s = &c->servers[i];
        s->id = (int)up_json_int(o, "id");
        s->pid = (pid_t)up_json_int(o, "pid");
        s->api = xstrdup(up_json_str(o, "api", ""));
        s->raft = xstrdup(up_json_str(o, "raft", ""));
        s->data_dir = xstrdup(up_json_str(o, "data_dir", ""));
        s->log = xstrdup(up_json_str(o, "log", ""));
        s->out_fd = s->log_fd = -1;
    }
    json_decref(root);
    free(path);
    return 0;
}

/* Writes DIR/cluster.json atomically (a temporary file, then rename). */
static int up_cluster_save(const struct up_cluster *c)
{
    json_t *servers = json_array();
    for (int i = 0; i < c->n; i++) {
        const struct up_server *s = &c->servers[i];
        json_t *args = json_array();
        for (char **a = s->argv; a && *a; a++)
            json_array_append_new(args, json_string(*a));
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(s->id));
        json_object_set_new(o, "pid", json_integer(s->pid));
        json_object_set_new(o, "api", json_string(s->api));
        json_object_set_new(o, "raft", json_string(s->raft));
        json_object_set_new(o, "data_dir", json_string(s->data_dir));
        json_object_set_new(o, "log", json_string(s->log));
        json_object_set_new(o, "argv", args);
        json_array_append_new(servers, o);
    }
    json_t *root = json_object();
    json_object_set_new(root, "servers", servers);
    char *path = up_cluster_file(c->dir);
    char *tmp = up_strf("%s.tmp", path);
    int rc = json_dump_file(root, tmp, JSON_INDENT(2)) == 0 && rename(tmp, path) == 0 ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "bosun up: cannot write %s: %s\n", path, strerror(errno));
    json_decref(root);
    free(tmp);
    free(path);
    return rc;
}

/* Whether s->pid is still the server recorded in s: a live process whose
 * command line is `... server ... --data-dir <s->data_dir> ...`. A zombie
 * has an empty command line and so does not count. */
static bool up_server_is_running(const struct up_server *s)
{
    if (s->pid <= 0 || !s->data_dir[0])
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)s->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    static const size_t cap = 32 * 1024;
    char *buf = xmalloc(cap);
    size_t len = 0;
    ssize_t r;
    while (len < cap - 1 && (r = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    buf[len] = '\0';
    /* "server" need not be argv[1]: --bin may be a wrapper script */
    const char *prev = NULL;
    bool is_server = false, match = false;
    for (size_t i = 0; i < len && !match; i += strlen(buf + i) + 1) {
        const char *arg = buf + i;
        if (strcmp(arg, "server") == 0)
            is_server = true;
        if (is_server && prev && strcmp(prev, "--data-dir") == 0 && strcmp(arg, s->data_dir) == 0)
            match = true;
        prev = arg;
    }
    free(buf);
    return match;
}

/* ---- bosun up: preparing the cluster ---------------------------------- */

static void up_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun up [--servers N] --dir DIR [--base-port P] [--detach] [--bin PATH]\n"
            "                [-- extra server flags...]\n"
            "\n"
            "Starts a local cluster of N `bosun server`s on 127.0.0.1 and waits until one\n"
            "of them is leader. Server i serves the API on port P+i and Raft on P+100+i and\n"
            "keeps its data in DIR/si. DIR/cluster.json records the servers (pids, ports,\n"
            "argv) and DIR/kubeconfig points kubectl at the first server.\n"
            "\n"
            "  --servers N     number of servers, 1..%d (default %d)\n"
            "  --dir DIR       the cluster's directory (required; created if missing)\n"
            "  --base-port P   API ports are P+1..P+N, Raft ports P+101..P+100+N (default %d)\n"
            "  --detach        run the servers in the background, output in DIR/sN.log,\n"
            "                  and exit once a leader is elected (and has made the default\n"
            "                  namespace); stop with `bosun down`\n"
            "  --bin PATH      the bosun binary to run as servers (default: this one)\n"
            "  -- FLAGS...     passed to every server, e.g. -- --log-level debug\n"
            "\n"
            "In the foreground, every server's output is printed with an \"[sN] \" prefix;\n"
            "Ctrl-C (SIGINT) or SIGTERM stops all servers (SIGTERM, SIGKILL after 5 s).\n"
            "Refuses to start if DIR/cluster.json names servers that are still running.\n",
            UP_MAX_SERVERS, UP_DEFAULT_SERVERS, UP_DEFAULT_BASE_PORT);
}

/* Parses `bosun up` flags into o. Returns -1 to go on, else the exit status. */
static int up_parse_options(int argc, char **argv, struct up_options *o)
{
    static const struct option longopts[] = {
        {"servers", required_argument, NULL, 'n'}, {"dir", required_argument, NULL, 'd'},
        {"base-port", required_argument, NULL, 'p'}, {"detach", no_argument, NULL, 'D'},
        {"bin", required_argument, NULL, 'b'},       {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct up_options){.servers = UP_DEFAULT_SERVERS, .base_port = UP_DEFAULT_BASE_PORT};
    optind = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (up_parse_int(optarg, 1, UP_MAX_SERVERS, &o->servers) != 0) {
                fprintf(stderr, "bosun up: --servers must be 1..%d, not %s\n", UP_MAX_SERVERS, optarg);
                return 2;
            }
            break;
        case 'd': o->dir = optarg; break;
        case 'p':
            if (up_parse_int(optarg, 1, 65535 - UP_RAFT_PORT_OFFSET - UP_MAX_SERVERS, &o->base_port) != 0) {
                fprintf(stderr, "bosun up: --base-port must be a port number, not %s\n", optarg);
                return 2;
            }
            break;
        case 'D': o->detach = true; break;
        case 'b': o->bin = optarg; break;
        case 'h': up_usage(stdout); return 0;
        default: return up_flag_error("up", opt, argv);
        }
    }
    if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
        fprintf(stderr, "bosun up: unexpected argument %s (server flags go after --)\n", argv[optind]);
        return 2;
    }
    o->extra_argc = argc - optind;
    o->extra_argv = argv + optind;
    if (!o->dir) {
        fprintf(stderr, "bosun up: --dir DIR is required (see bosun up --help)\n");
        return 2;
    }
    return -1;
}

/* Whether nothing listens on 127.0.0.1:port. SO_REUSEADDR keeps sockets in
 * TIME_WAIT from counting, as they do not stop the server from binding. */
bool tools_port_free(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool free_ = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return free_;
}

static int up_check_ports(const struct up_options *o)
{
    for (int i = 1; i <= o->servers; i++) {
        int ports[2] = {o->base_port + i, o->base_port + UP_RAFT_PORT_OFFSET + i};
        for (int k = 0; k < 2; k++)
            if (!tools_port_free(ports[k])) {
                fprintf(stderr,
                        "bosun up: port 127.0.0.1:%d is already in use (choose another --base-port)\n",
                        ports[k]);
                return -1;
            }
    }
    return 0;
}

/* Refuses to go on if DIR/cluster.json names a server that is still running. */
static int up_check_not_running(const char *dir)
{
    struct up_cluster old;
    int rc = up_cluster_load("up", dir, &old);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    for (int i = 0; i < old.n; i++)
        if (up_server_is_running(&old.servers[i])) {
            fprintf(stderr,
                    "bosun up: %s already runs a cluster (s%d is pid %d); stop it first with "
                    "`bosun down --dir %s`\n",
                    dir, old.servers[i].id, (int)old.servers[i].pid, dir);
            up_cluster_free(&old);
            return -1;
        }
    up_cluster_free(&old);
    return 0;
}

/* The absolute path of the binary to run as servers (tools.h). */
char *tools_resolve_bin(const char *cmd, const char *bin)
{
    char path[PATH_MAX];
    if (!bin) {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0) {
            fprintf(stderr, "bosun %s: cannot find my own binary: %s\n", cmd, strerror(errno));
            return NULL;
        }
        path[n] = '\0';
        return xstrdup(path);
    }
    if (!realpath(bin, path) || access(path, X_OK) != 0) {
        fprintf(stderr, "bosun %s: --bin %s is not an executable: %s\n", cmd, bin, strerror(errno));
        return NULL;
    }
    return xstrdup(path);
}

static char *up_peers_list(const struct up_options *o)
{
    struct ubuf b = {0};
    for (int i = 1; i <= o->servers; i++)
        ubuf_appendf(&b, "%s%d=127.0.0.1:%d=http://127.0.0.1:%d", i > 1 ? "," : "", i,
                     o->base_port + UP_RAFT_PORT_OFFSET + i, o->base_port + i);
    ubuf_append(&b, "", 1);
    return b.data;
}

static char **up_server_argv(const struct up_options *o, const char *bin, const char *peers,
                             const struct up_server *s)
{
    const char *fixed[] = {bin,    "server",   "--id",           NULL, "--data-dir", s->data_dir,
                           "--listen", NULL, "--raft-address", s->raft, "--peers", peers};
    size_t nfixed = sizeof fixed / sizeof fixed[0];
    char **args = xcalloc(nfixed + (size_t)o->extra_argc + 1, sizeof *args);
    for (size_t i = 0; i < nfixed; i++)
        args[i] = fixed[i] ? xstrdup(fixed[i]) : NULL;
    args[3] = up_strf("%d", s->id);
    args[7] = xstrdup(s->api + strlen("http://"));
    for (int i = 0; i < o->extra_argc; i++)
        args[nfixed + (size_t)i] = xstrdup(o->extra_argv[i]);
    return args;
}

/* Creates DIR and the data dirs, checks that nothing runs there and that the
 * ports are free, and fills c with the servers to start. */
static int up_cluster_prepare(const struct up_options *o, struct up_cluster *c)
{
    memset(c, 0, sizeof *c);
    char absdir[PATH_MAX];
    if (tools_mkdir_p(o->dir) != 0 || !realpath(o->dir, absdir)) {
        fprintf(stderr, "bosun up: cannot create %s: %s\n", o->dir, strerror(errno));
        return -1;
    }
    if (up_check_not_running(absdir) != 0 || up_check_ports(o) != 0)
        return -1;
    char *bin = tools_resolve_bin("up", o->bin);
    if (!bin)
        return -1;
    char *peers = up_peers_list(o);
    c->dir = xstrdup(absdir);
    c->n = o->servers;
    c->servers = xcalloc((size_t)c->n, sizeof *c->servers);
    int rc = 0;
    for (int i = 0; i < c->n; i++) {
        struct up_server *s = &c->servers[i];
        s->id = i + 1;
        s->api = up_strf("http://127.0.0.1:%d", o->base_port + s->id);
        s->raft = up_strf("127.0.0.1:%d", o->base_port + UP_RAFT_PORT_OFFSET + s->id);
        s->data_dir = up_strf("%s/s%d", c->dir, s->id);
        s->log = up_strf("%s/s%d.log", c->dir, s->id);
        s->argv = up_server_argv(o, bin, peers, s);
        s->out_fd = s->log_fd = -1;
        if (rc == 0 && tools_mkdir_p(s->data_dir) != 0) {
            fprintf(stderr, "bosun up: cannot create %s: %s\n", s->data_dir, strerror(errno));
            rc = -1;
        }
    }
    free(peers);
    free(bin);
    return rc;
}

/* DIR/kubeconfig: cluster "bosun" at the first server, user "admin" without
 * credentials, context "bosun" current. */
static int up_write_kubeconfig(const struct up_cluster *c)
{
    char *path = up_strf("%s/kubeconfig", c->dir);
    char *tmp = up_strf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (f) {
        fprintf(f,
                "# written by `bosun up` for the cluster in %s\n"
                "apiVersion: v1\n"
                "kind: Config\n"
                "clusters:\n"
                "- name: bosun\n"
                "  cluster:\n"
                "    server: %s\n"
                "    insecure-skip-tls-verify: true\n"
                "users:\n"
                "- name: admin\n"
                "  user: {}\n"
                "contexts:\n"
                "- name: bosun\n"
                "  context:\n"
                "    cluster: bosun\n"
                "    user: admin\n"
                "current-context: bosun\n"
                "preferences: {}\n",
                c->dir, c->servers[0].api);
        rc = fclose(f) == 0 && rename(tmp, path) == 0 ? 0 : -1;
    }
    if (rc != 0)
        fprintf(stderr, "bosun up: cannot write %s: %s\n", path, strerror(errno));
    free(tmp);
    free(path);
    return rc;
}

/* ---- bosun up: starting the servers ----------------------------------- */

/* In the child: wires stdin to /dev/null and stdout+stderr to out, detaches
 * or joins `up`'s fate, restores the signal mask and execs the server. */
static void up_exec_server(const struct up_server *s, int out, bool detach, pid_t parent,
                           const sigset_t *mask) __attribute__((noreturn));
static void up_exec_server(const struct up_server *s, int out, bool detach, pid_t parent,
                           const sigset_t *mask)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0 && devnull != 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    dup2(out, 1);
    dup2(out, 2);
    if (detach) {
        setsid();
    } else {
        setpgid(0, 0); /* a terminal's Ctrl-C goes to `up` only; it stops us in order */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) /* `up` died before prctl took effect */
            _exit(1);
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, mask, NULL);
    execv(s->argv[0], s->argv);
    dprintf(2, "bosun up: cannot run %s: %s\n", s->argv[0], strerror(errno));
    _exit(127);
}

/* Forks and execs server s. In the foreground its output goes to a new pipe
 * (s->out_fd) and is copied to s->log_fd; detached, it is appended to s->log
 * directly. Returns 0, or -1 with a message printed. */
static int up_spawn_server(struct up_server *s, bool detach, const sigset_t *child_mask)
{
    int pipefd[2] = {-1, -1};
    int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        fprintf(stderr, "bosun up: cannot open %s: %s\n", s->log, strerror(errno));
        return -1;
    }
    if (!detach && pipe2(pipefd, O_CLOEXEC) != 0) {
        fprintf(stderr, "bosun up: pipe: %s\n", strerror(errno));
        close(logfd);
        return -1;
    }
    int out = detach ? logfd : pipefd[1];
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bosun up: fork: %s\n", strerror(errno));
        close(logfd);
        if (!detach) {
            close(pipefd[0]);
            close(pipefd[1]);
        }
        return -1;
    }
    if (pid == 0)
        up_exec_server(s, out, detach, parent, child_mask);
    s->pid = pid;
    if (detach) {
        close(logfd);
    } else {
        close(pipefd[1]);
        s->out_fd = pipefd[0];
        s->log_fd = logfd;
        fcntl(s->out_fd, F_SETFL, fcntl(s->out_fd, F_GETFL) | O_NONBLOCK);
    }
    return 0;
}

/* Asks every running server for /cluster/status. Returns the id of the
 * leader one of them names (preferring a server that says it is leader), or 0. */
static int up_find_leader(const struct up_cluster *c)
{
    int named = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->servers[i].pid <= 0)
            continue;
        json_t *st = tools_status_fetch(c->servers[i].api, 500);
        if (!st)
            continue;
        bool is_leader = strcmp(up_json_str(st, "role", ""), "leader") == 0;
        long long leader = is_leader ? up_json_int(st, "id") : up_json_int(st, "leader_id");
        json_decref(st);
        if (is_leader && leader > 0)
            return (int)leader;
        if (leader > 0)
            named = (int)leader;
    }
    return named;
}

static const struct up_server *up_server_by_id(const struct up_cluster *c, int id)
{
    for (int i = 0; i < c->n; i++)
        if (c->servers[i].id == id)
            return &c->servers[i];
    return NULL;
}

static void up_print_banner(const struct up_cluster *c, int leader, bool detach)
{
    const char *prog = program_invocation_name;
    const struct up_server *l = up_server_by_id(c, leader);
    printf("\nbosun: cluster of %d server%s is up in %s; leader is s%d (%s)\n", c->n,
           c->n == 1 ? "" : "s", c->dir, leader, l ? l->api : "not started by this command");
    for (int i = 0; i < c->n; i++) {
        const struct up_server *s = &c->servers[i];
        if (s->pid > 0)
            printf("  s%-3d pid %-8d api %-24s raft %s\n", s->id, (int)s->pid, s->api, s->raft);
        else
            printf("  s%-3d (exited)     api %-24s raft %s\n", s->id, s->api, s->raft);
    }
    printf("\nUse it with kubectl:\n");
    printf("  kubectl --kubeconfig %s/kubeconfig get namespaces\n", c->dir);
    printf("  export KUBECONFIG=%s/kubeconfig   # then e.g. kubectl get pods -A\n", c->dir);
    printf("Inspect it:\n");
    printf("  %s status --dir %s\n", prog, c->dir);
    if (detach) {
        printf("Logs are in %s/sN.log. Stop it with:\n", c->dir);
        printf("  %s down --dir %s\n\n", prog, c->dir);
    } else {
        printf("Logs are also in %s/sN.log. Ctrl-C stops the cluster.\n\n", c->dir);
    }
    fflush(stdout);
}

static void up_describe_exit(const struct up_server *s, int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "s%d (pid %d) exited with status %d", s->id, (int)s->pid,
                 WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "s%d (pid %d) was killed by signal %d (%s)", s->id, (int)s->pid,
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "s%d (pid %d) stopped running", s->id, (int)s->pid);
}

/* ---- bosun up --detach ------------------------------------------------ */

/* Prints the last lines of a server's log, indented, after it died (tools.h). */
void tools_print_log_tail(const char *path, int lines)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[4096];
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)sizeof buf - 1 ? size - (off_t)sizeof buf + 1 : 0;
    ssize_t n = pread(fd, buf, sizeof buf - 1, from);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *start = buf + n;
    int seen = 0;
    while (start > buf && seen <= lines)
        if (*--start == '\n' && start + 1 < buf + n)
            seen++;
    if (seen > lines)
        start++;
    fprintf(stderr, "    last lines of %s:\n", path);
    for (char *save = NULL, *line = strtok_r(start, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        fprintf(stderr, "    | %s\n", line);
}

/* Reaps servers that died while `up --detach` waits for a leader, and
 * reports them. Returns how many have died so far. */
static int up_reap_detached(struct up_cluster *c, int *dead)
{
    for (int i = 0; i < c->n; i++) {
        struct up_server *s = &c->servers[i];
        int status;
        if (s->pid <= 0 || waitpid(s->pid, &status, WNOHANG) != s->pid)
            continue;
        char what[160];
        up_describe_exit(s, status, what, sizeof what);
        fprintf(stderr, "bosun up: %s during start-up\n", what);
        tools_print_log_tail(s->log, 10);
        s->pid = 0;
        (*dead)++;
    }
    return *dead;
}

/* Whether the leader has made the "default" namespace (it does so just
 * after winning): until then a `kubectl apply` right after `up --detach`
 * fails with namespaces "default" not found. */
static bool up_namespace_ready(const struct up_cluster *c, int leader)
{
    const struct up_server *l = up_server_by_id(c, leader);
    json_t *ns = l ? bench_get_json(l->api, "/api/v1/namespaces/default", 2000) : NULL;
    json_decref(ns);
    return ns != NULL || !l; /* a leader not started here: nothing to wait for */
}

static int up_wait_detached(struct up_cluster *c)
{
    uint64_t deadline = util_now_ms() + UP_LEADER_WAIT_MS;
    int dead = 0, leader = 0;
    while (util_now_ms() < deadline && up_reap_detached(c, &dead) < c->n) {
        if ((leader = up_find_leader(c)) > 0 && up_namespace_ready(c, leader))
            break;
        usleep(UP_LEADER_POLL_MS * 1000);
    }
    const char *prog = program_invocation_name;
    if (leader > 0 && dead == 0) {
        up_print_banner(c, leader, true);
        return 0;
    }
    if (dead == c->n)
        fprintf(stderr, "bosun up: every server exited; see %s/sN.log\n", c->dir);
    else if (leader > 0)
        fprintf(stderr, "bosun up: s%d is leader but %d server(s) died; stop the rest with `%s down --dir %s`\n",
                leader, dead, prog, c->dir);
    else
        fprintf(stderr,
                "bosun up: no leader within %d s; the servers keep running (logs in %s/sN.log); "
                "stop them with `%s down --dir %s`\n",
                UP_LEADER_WAIT_MS / 1000, c->dir, prog, c->dir);
    return 1;
}

/* ---- bosun up in the foreground --------------------------------------- */

/* The state of the foreground loop. */
struct up_loop {
    struct up_cluster *c;
    int sigfd;
    int running;       /* servers not yet reaped */
    int open_pipes;    /* output pipes not yet at end of file */
    uint64_t started_ms;
    uint64_t next_check_ms; /* next leader poll; 0 once a leader was seen */
    bool warned_no_leader;
    bool stopping;
    uint64_t kill_at_ms; /* when stopping: SIGKILL whoever is left; 0 once sent */
    uint64_t all_reaped_ms;
};

/* Prints every whole line of s->partial with the "[sN] " prefix; at end of
 * file (or if a line grows huge) the rest too. */
static void up_print_lines(struct up_server *s, bool flush_rest)
{
    struct ubuf *b = &s->partial;
    size_t start = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] != '\n')
            continue;
        printf("[s%d] %.*s\n", s->id, (int)(i - start), b->data + start);
        start = i + 1;
    }
    if (start < b->len && (flush_rest || b->len - start > UP_PARTIAL_LINE_MAX)) {
        printf("[s%d] %.*s\n", s->id, (int)(b->len - start), b->data + start);
        start = b->len;
    }
    memmove(b->data, b->data + start, b->len - start);
    b->len -= start;
    fflush(stdout);
}

/* Reads what server s wrote (a bounded amount, so that one chatty server does
 * not starve the others), copies it to its log file and prints its lines. */
static void up_pump_output(struct up_loop *l, struct up_server *s)
{
    char buf[16384];
    for (int round = 0; round < 8; round++) {
        ssize_t r = read(s->out_fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r > 0) {
            if (s->log_fd >= 0 && write(s->log_fd, buf, (size_t)r) != r) {
                close(s->log_fd); /* a full disk must not stop the cluster */
                s->log_fd = -1;
            }
            ubuf_append(&s->partial, buf, (size_t)r);
            up_print_lines(s, false);
            continue;
        }
        up_print_lines(s, true); /* end of file, or an error we cannot recover from */
        close(s->out_fd);
        s->out_fd = -1;
        l->open_pipes--;
        return;
    }
}

static void up_signal_all(struct up_cluster *c, int sig)
{
    for (int i = 0; i < c->n; i++)
        if (c->servers[i].pid > 0)
            kill(c->servers[i].pid, sig); /* unreaped children: the pid cannot be reused */
}

static void up_reap_foreground(struct up_loop *l)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < l->c->n; i++) {
            struct up_server *s = &l->c->servers[i];
            if (s->pid != pid)
                continue;
            char what[160];
            up_describe_exit(s, status, what, sizeof what);
            s->pid = 0;
            l->running--;
            printf("bosun: %s%s\n", what,
                   l->stopping || l->running == 0 ? "" : "; the others keep running");
            fflush(stdout);
        }
    }
    if (l->running == 0 && l->all_reaped_ms == 0)
        l->all_reaped_ms = util_now_ms();
}

static void up_begin_stop(struct up_loop *l, const char *why)
{
    if (l->stopping) {
        printf("bosun: %s again; killing the servers\n", why);
        up_signal_all(l->c, SIGKILL);
        l->kill_at_ms = 0;
        return;
    }
    printf("bosun: %s; stopping %d server(s)\n", why, l->running);
    fflush(stdout);
    l->stopping = true;
    l->kill_at_ms = util_now_ms() + UP_STOP_GRACE_MS;
    up_signal_all(l->c, SIGTERM);
}

static void up_handle_signals(struct up_loop *l)
{
    struct signalfd_siginfo si;
    while (read(l->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD)
            up_reap_foreground(l);
        else
            up_begin_stop(l, si.ssi_signo == SIGINT ? "interrupted" : "terminated");
    }
}

/* The timers: polling for a leader until one is seen, and the SIGKILL that
 * follows a stop that took too long. */
static void up_handle_timers(struct up_loop *l)
{
    uint64_t now = util_now_ms();
    if (l->stopping && l->kill_at_ms && now >= l->kill_at_ms && l->running > 0) {
        printf("bosun: %d server(s) still running after %d s; sending SIGKILL\n", l->running,
               UP_STOP_GRACE_MS / 1000);
        up_signal_all(l->c, SIGKILL);
        l->kill_at_ms = 0;
    }
    if (l->stopping || l->running == 0 || !l->next_check_ms || now < l->next_check_ms)
        return;
    int leader = up_find_leader(l->c);
    now = util_now_ms();
    if (leader > 0) {
        up_print_banner(l->c, leader, false);
        l->next_check_ms = 0;
        return;
    }
    if (!l->warned_no_leader && now - l->started_ms >= UP_LEADER_WAIT_MS) {
        printf("bosun: no leader after %d s; still waiting (the servers' output is above)\n",
               UP_LEADER_WAIT_MS / 1000);
        l->warned_no_leader = true;
    }
    l->next_check_ms = now + (l->warned_no_leader ? 1000 : UP_LEADER_POLL_MS);
}

static bool up_loop_done(const struct up_loop *l)
{
    if (l->running > 0)
        return false;
    /* every server is gone: print what is left in the pipes, but do not wait
     * forever on a pipe some grandchild might hold open */
    return l->open_pipes == 0 || util_now_ms() - l->all_reaped_ms > 1000;
}

static int up_run_foreground(struct up_cluster *c, int sigfd)
{
    struct up_loop l = {.c = c, .sigfd = sigfd, .started_ms = util_now_ms()};
    l.next_check_ms = l.started_ms + UP_LEADER_POLL_MS;
    for (int i = 0; i < c->n; i++) {
        l.running += c->servers[i].pid > 0;
        l.open_pipes += c->servers[i].out_fd >= 0;
    }
    struct pollfd *fds = xcalloc((size_t)c->n + 1, sizeof *fds);
    struct up_server **owner = xcalloc((size_t)c->n + 1, sizeof *owner);
    while (!up_loop_done(&l)) {
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = sigfd, .events = POLLIN};
        for (int i = 0; i < c->n; i++)
            if (c->servers[i].out_fd >= 0) {
                owner[n] = &c->servers[i];
                fds[n++] = (struct pollfd){.fd = c->servers[i].out_fd, .events = POLLIN};
            }
        if (poll(fds, n, 100) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN)
            up_handle_signals(&l);
        for (nfds_t i = 1; i < n; i++)
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
                up_pump_output(&l, owner[i]);
        up_handle_timers(&l);
    }
    free(owner);
    free(fds);
    if (!l.stopping) {
        printf("bosun: every server has exited\n");
        return 1;
    }
    printf("bosun: cluster stopped\n");
    return 0;
}

int tools_up_main(int argc, char **argv)
{
    struct up_options o;
    int rc = up_parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    signal(SIGCHLD, SIG_DFL); /* an inherited SIG_IGN would reap the servers behind our back */
    struct up_cluster c;
    if (up_cluster_prepare(&o, &c) != 0) {
        up_cluster_free(&c);
        return 1;
    }
    /* In the foreground the signals we act on are read from a signalfd; the
     * children get the original mask back before exec. */
    sigset_t handled, original;
    sigemptyset(&handled);
    sigaddset(&handled, SIGINT);
    sigaddset(&handled, SIGTERM);
    sigaddset(&handled, SIGCHLD);
    sigprocmask(SIG_BLOCK, o.detach ? NULL : &handled, &original);
    int sigfd = o.detach ? -1 : signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    if (!o.detach && sigfd < 0) {
        fprintf(stderr, "bosun up: signalfd: %s\n", strerror(errno));
        up_cluster_free(&c);
        return 1;
    }
    rc = 0;
    for (int i = 0; i < c.n && rc == 0; i++)
        rc = up_spawn_server(&c.servers[i], o.detach, &original);
    if (rc == 0)
        rc = up_cluster_save(&c) | up_write_kubeconfig(&c);
    if (rc != 0) {
        /* partly started: take down what did start */
        up_signal_all(&c, SIGKILL);
        for (int i = 0; i < c.n; i++)
            if (c.servers[i].pid > 0)
                waitpid(c.servers[i].pid, NULL, 0);
        rc = 1;
    } else if (o.detach) {
        printf("bosun: started %d server(s) in %s; waiting for a leader\n", c.n, c.dir);
        fflush(stdout);
        rc = up_wait_detached(&c);
    } else {
        printf("bosun: started %d server(s) in %s; waiting for a leader\n", c.n, c.dir);
        fflush(stdout);
        rc = up_run_foreground(&c, sigfd);
    }
    if (sigfd >= 0)
        close(sigfd);
    sigprocmask(SIG_SETMASK, &original, NULL);
    up_cluster_free(&c);
    return rc;
}

/* ---- bosun down ------------------------------------------------------- */

static void down_usage(FILE *f)
{
    fprintf(f, "usage: bosun down --dir DIR\n"
               "\n"
               "Stops the servers of the local cluster recorded in DIR/cluster.json: SIGTERM to\n"
               "each that is still running (a pid whose /proc/PID/cmdline is that server's), then\n"
               "SIGKILL to any still running after %d s. The data dirs are kept.\n"
               "\n"
               "  --dir DIR   the cluster's directory, as given to `bosun up`\n",
            UP_STOP_GRACE_MS / 1000);
}

/* Waits up to ms for the signalled servers to stop; returns how many still run. */
static int down_wait(const struct up_cluster *c, const bool *signalled, int ms)
{
    uint64_t deadline = util_now_ms() + (uint64_t)ms;
    for (;;) {
        int left = 0;
        for (int i = 0; i < c->n; i++)
            left += signalled[i] && up_server_is_running(&c->servers[i]);
        if (left == 0 || util_now_ms() >= deadline)
            return left;
        usleep(50 * 1000);
    }
}

/* SIGTERM to every server still running, SIGKILL to those left after the
 * grace period; prints what became of each. Returns how many could not be
 * stopped. */
static int down_stop(const struct up_cluster *c)
{
    bool *signalled = xcalloc((size_t)c->n + 1, sizeof *signalled);
    int failed = 0;
    for (int i = 0; i < c->n; i++) {
        const struct up_server *s = &c->servers[i];
        if (!up_server_is_running(s)) {
            printf("s%d (pid %d) was not running\n", s->id, (int)s->pid);
        } else if (kill(s->pid, SIGTERM) == 0) {
            signalled[i] = true;
        } else {
            printf("s%d (pid %d): cannot signal it: %s\n", s->id, (int)s->pid, strerror(errno));
            failed++;
        }
    }
    down_wait(c, signalled, UP_STOP_GRACE_MS);
    for (int i = 0; i < c->n; i++) {
        const struct up_server *s = &c->servers[i];
        if (signalled[i] && !up_server_is_running(s)) {
            printf("stopped s%d (pid %d)\n", s->id, (int)s->pid);
            signalled[i] = false;
        } else if (signalled[i]) {
            kill(s->pid, SIGKILL);
        }
    }
    down_wait(c, signalled, 2000);
    for (int i = 0; i < c->n; i++) {
        const struct up_server *s = &c->servers[i];
        if (!signalled[i])
            continue;
        if (up_server_is_running(s)) {
            printf("s%d (pid %d) is still running after SIGKILL\n", s->id, (int)s->pid);
            failed++;
        } else {
            printf("killed s%d (pid %d) with SIGKILL after %d s\n", s->id, (int)s->pid,
                   UP_STOP_GRACE_MS / 1000);
        }
    }
    free(signalled);
    return failed;
}

int tools_down_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    optind = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (opt == 'd')
            dir = optarg;
        else if (opt == 'h')
            return down_usage(stdout), 0;
        else
            return up_flag_error("down", opt, argv);
    }
    if (optind < argc) {
        fprintf(stderr, "bosun down: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    if (!dir) {
        fprintf(stderr, "bosun down: --dir DIR is required (see bosun down --help)\n");
        return 2;
    }
    struct up_cluster c;
    int rc = up_cluster_load("down", dir, &c);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "bosun down: no cluster in %s (no cluster.json)\n", dir);
        return 1;
    }
    int failed = down_stop(&c);
    up_cluster_free(&c);
    return failed ? 1 : 0;
}

/* ---- bosun status ----------------------------------------------------- */

/* One row of the status table: a server to ask, and its answer. */
struct status_target {
    int id;      /* known from cluster.json or a members list; 0 if not */
    char *api;
    json_t *st;  /* its /cluster/status, or NULL if it did not answer */
};

struct status_list {
    struct status_target *t;
    size_t n, cap;
};

static void status_usage(FILE *f)
{
    fprintf(f, "usage: bosun status (--dir DIR | --server URL[,URL...])\n"
               "\n"
               "Asks each server for GET /cluster/status and prints one row per server:\n"
               "ID ROLE TERM LEADER COMMIT APPLIED REVISION API. A server that does not answer\n"
               "is shown as \"down\". Members that the answering servers list are asked too.\n"
               "Exits 0 if some server knows a leader, 1 if none does.\n"
               "\n"
               "  --dir DIR          the servers of the local cluster in DIR/cluster.json\n"
               "  --server URL,...   these servers' API URLs, e.g. http://127.0.0.1:16441\n");
}

static void status_list_add(struct status_list *l, int id, const char *api)
{
    size_t len = strlen(api);
    while (len > 0 && api[len - 1] == '/')
        len--;
    for (size_t i = 0; i < l->n; i++)
        if (strlen(l->t[i].api) == len && strncmp(l->t[i].api, api, len) == 0) {
            if (!l->t[i].id)
                l->t[i].id = id;
            return;
        }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->t = xrealloc(l->t, l->cap * sizeof *l->t);
    }
    l->t[l->n++] = (struct status_target){.id = id, .api = xstrndup(api, len)};
}

static void status_list_free(struct status_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->t[i].api);
        json_decref(l->t[i].st);
    }
    free(l->t);
}

/* Fills l from --dir or --server; returns 0, or -1 with a message printed. */
static int status_list_init(struct status_list *l, const char *dir, const char *servers)
{
    if (servers) {
        char *copy = xstrdup(servers), *save = NULL;
        for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save))
            status_list_add(l, 0, u);
        free(copy);
        return 0;
    }
    struct up_cluster c;
    int rc = up_cluster_load("status", dir, &c);
    if (rc != 0) {
        if (rc > 0)
            fprintf(stderr, "bosun status: no cluster in %s (no cluster.json)\n", dir);
        return -1;
    }
    for (int i = 0; i < c.n; i++)
        status_list_add(l, c.servers[i].id, c.servers[i].api);
    up_cluster_free(&c);
    return 0;
}

/* Asks every listed server, then any member they name that is not listed
 * yet (servers added with `bosun member add`), once. */
static void status_list_query(struct status_list *l)
{
    size_t first = l->n;
    for (size_t i = 0; i < l->n; i++) {
        struct status_target *t = &l->t[i];
        t->st = tools_status_fetch(t->api, UP_STATUS_TIMEOUT_MS);
        if (t->st && !t->id)
            t->id = (int)up_json_int(t->st, "id");
        if (!t->st || i >= first)
            continue;
        /* status_list_add may move l->t: t is not used below */
        json_t *members = json_object_get(t->st, "members");
        size_t k;
        json_t *m;
        json_array_foreach(members, k, m)
        {
            const char *api = up_json_str(m, "api", NULL);
            if (api && api[0])
                status_list_add(l, (int)up_json_int(m, "id"), api);
        }
    }
}

static void status_print(const struct status_list *l)
{
    printf("%-4s %-11s %-6s %-6s %-8s %-8s %-9s %s\n", "ID", "ROLE", "TERM", "LEADER", "COMMIT",
           "APPLIED", "REVISION", "API");
    for (size_t i = 0; i < l->n; i++) {
        const struct status_target *t = &l->t[i];
        char id[16];
        snprintf(id, sizeof id, t->id ? "%d" : "-", t->id);
        if (!t->st) {
            printf("%-4s %-11s %-6s %-6s %-8s %-8s %-9s %s\n", id, "down", "-", "-", "-", "-", "-",
                   t->api);
            continue;
        }
        char leader[24];
        long long lid = up_json_int(t->st, "leader_id");
        snprintf(leader, sizeof leader, lid ? "%lld" : "-", lid);
        printf("%-4s %-11s %-6lld %-6s %-8lld %-8lld %-9lld %s\n", id,
               up_json_str(t->st, "role", "?"), up_json_int(t->st, "term"), leader,
               up_json_int(t->st, "commit_index"), up_json_int(t->st, "applied_index"),
               up_json_int(t->st, "revision"), t->api);
    }
}

int tools_status_main(int argc, char **argv)
{
    static const struct option longopts[] = {{"dir", required_argument, NULL, 'd'},
                                             {"server", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *dir = NULL, *servers = NULL;
    optind = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        if (opt == 'd')
            dir = optarg;
        else if (opt == 's')
            servers = optarg;
        else if (opt == 'h')
            return status_usage(stdout), 0;
        else
            return up_flag_error("status", opt, argv);
    }
    if (optind < argc) {
        fprintf(stderr, "bosun status: unexpected argument %s\n", argv[optind]);
        return 2;
    }
    if (!dir == !servers) {
        fprintf(stderr, "bosun status: give exactly one of --dir DIR or --server URL[,URL]\n");
        return 2;
    }
    struct status_list l = {0};
    if (status_list_init(&l, dir, servers) != 0) {
        status_list_free(&l);
        return 1;
    }
    status_list_query(&l);
    status_print(&l);
    bool leader = false;
    for (size_t i = 0; i < l.n; i++)
        leader |= l.t[i].st && up_json_int(l.t[i].st, "leader_id") > 0;
    if (!leader)
        fprintf(stderr, "bosun status: no server knows a leader\n");
    status_list_free(&l);
    return leader ? 0 : 1;
}
