/* chaos_membership.c — the membership fault of `bosun chaos`: a server
 * removed from the cluster through the API, kept out a while, then added
 * back, as an operator takes a server out and puts it back.
 *
 * Begin. The target is the leader a third of the time, else a random other
 * server, and only while every server is a voter. DELETE
 * /cluster/members/{id} goes to another server (a follower forwards it to
 * the leader), which answers once the new configuration is committed: the
 * fault's start. A timeout or an error answer proves nothing, so the
 * leader's members are read again: if the target is still a voter the fault
 * is not started; if it is gone, or no leader says, the fault goes on (the
 * end puts the target back whatever happened). A third of the time each,
 * the removed server:
 *  - runs on out of the cluster with its API answering. Its Raft log no
 *    longer grows, so its linearizable reads and writes time out (the read
 *    index the leader gives it is never applied there): the checker sees
 *    "unknown", never a stale ok. Its watcher's stream stays quiet until it
 *    is back;
 *  - is killed while out and started again, with its data and the same
 *    argv, just before it is added back;
 *  - is killed and comes back as a new machine would: its data directory
 *    removed, started with --join (through another server) instead of
 *    --peers, announcing its proxy address (--advertise-raft-address), so
 *    it gets the whole state from the leader.
 *
 * End. POST /cluster/members {"id", "address": its proxy address, "api"} to
 * another server: the leader adds it as a spare, lets it catch up, makes it
 * a voter, and answers. Until the leader lists it as a voter (at most 60 s),
 * each round adds it again if it is missing, or makes it a voter if it is
 * there with another role (a leader change can cut an add short). Then
 * until its applied index reaches the leader's commit index of that moment
 * (at most 30 s): the fault's end. Each step goes into the fault (the
 * "steps" of faults.jsonl). A server that is not a voter again in time is
 * counted (chaos_cluster.unrejoined): the run fails. An interrupt (the
 * run's stop flag) cuts every wait short.
 *
 * Attached to a running cluster (--kubeconfig), the server is never
 * killed, and is added back at the Raft address the members list gave. */
#include <assert.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "tools/chaos_internal.h"
#include "tools/tools.h"

enum {
    MB_STATUS_MS = 1000,
    MB_REMOVE_MS = 35000,  /* the server gives a removal 30 s */
    MB_ADD_MS = 65000,     /* and an add (catch up, then voter) 60 s */
    MB_RECHECK_MS = 10000, /* after a removal without a clear answer */
    MB_BACK_MS = 60000,
    MB_CATCHUP_MS = 30000,
};

/* What becomes of a removed server while it is out (the fault's shape). */
enum mb_mode { MB_RUNNING, MB_STOPPED, MB_WIPED, MB_MODES };
static const char *const mb_shapes[MB_MODES] = {"running", "stopped", "wiped"};

static void mb_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* The leader's /cluster/status (a new reference), or NULL if no running
 * server says it leads. */
static json_t *mb_leader_status(const struct chaos_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        if (!chaos_server_up(&c->servers[i]))
            continue;
        json_t *st = tools_status_fetch(c->servers[i].api, MB_STATUS_MS);
        const char *role = json_string_value(json_object_get(st, "role"));
        if (role && strcmp(role, "leader") == 0)
            return st;
        json_decref(st);
    }
    return NULL;
}

/* Server id's role in the leader's configuration into buf: "voter",
 * "standby", "spare", or "" when it is not a member; false when no leader
 * answered. */
static bool mb_role(const struct chaos_cluster *c, int id, char *buf, size_t len)
{
    json_t *st = mb_leader_status(c), *m;
    if (!st)
        return false;
    size_t i;
    buf[0] = '\0';
    json_array_foreach(json_object_get(st, "members"), i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        if (json_integer_value(json_object_get(m, "id")) == id && role)
            snprintf(buf, len, "%s", role);
    }
    json_decref(st);
    return true;
}

/* One request to the first running server but skip that answers: its HTTP
 * status, 0 if none did. */
static int mb_request(const struct chaos_cluster *c, int skip, const char *method, const char *path,
                      const char *body, int timeout_ms)
{
    for (int i = 0; i < c->n; i++) {
        const struct chaos_server *s = &c->servers[i];
        if (s->id == skip || !chaos_server_up(s))
            continue;
        struct httpc *h = httpc_new(s->api);
        int status = h ? bench_http_call(h, method, path, NULL, body ? "application/json" : NULL,
                                         body, timeout_ms, NULL)
                       : 0;
        httpc_free(h);
        if (status != 0)
            return status;
    }
    return 0;
}

/* Whether the leader's configuration is every server, each a voter (a
 * membership fault starts only from a whole cluster). */
static bool mb_all_voters(const struct chaos_cluster *c)
{
    json_t *st = mb_leader_status(c), *m;
    int voters = 0;
    size_t i;
    json_array_foreach(json_object_get(st, "members"), i, m)
    {
        const char *role = json_string_value(json_object_get(m, "role"));
        voters += role && strcmp(role, "voter") == 0;
    }
    json_decref(st);
    return voters == c->n;
}

/* After a removal without a clear answer: false only if the leader still
 * lists id as a voter. */
static bool mb_removed_after_all(const struct chaos_cluster *c, int id)
{
    int64_t deadline = chaos_now_ns() + MB_RECHECK_MS * 1000000LL;
    char role[16];
    while (!*c->stop && chaos_now_ns() < deadline) {
        if (mb_role(c, id, role, sizeof role))
            return strcmp(role, "voter") != 0;
        mb_sleep_ms(500);
    }
    return true;
}

int chaos_membership_begin(struct chaos_cluster *c, struct chaos_rng *rng, struct chaos_fault *f)
{
    assert(c->n >= 3);
    bool at_leader = chaos_rng_below(rng, 3) == 0;
    enum mb_mode mode = (enum mb_mode)chaos_rng_below(rng, MB_MODES);
    int other = 1 + (int)chaos_rng_below(rng, (uint64_t)c->n - 1);
    int leader = chaos_cluster_leader(c, NULL);
    if (leader <= 0 || !mb_all_voters(c))
        return -1;
    int id = at_leader ? leader : other >= leader ? other + 1 : other;
    struct chaos_server *s = &c->servers[id - 1];
    if (s->foreign) /* a server of a running cluster is not ours to kill */
        mode = MB_RUNNING;
    bool stop = mode != MB_RUNNING;
    if (!chaos_server_up(s))
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/cluster/members/%d", id);
    int status = mb_request(c, id, "DELETE", path, NULL, MB_REMOVE_MS);
    if (status != 200 && !mb_removed_after_all(c, id)) {
        fprintf(stderr, "bosun chaos: removing s%d: HTTP %d, still a voter; no membership fault\n",
                id, status);
        return -1;
    }
    f->start = chaos_now_ns();
    f->leader = id == leader;
    f->targets[f->ntargets++] = id;
    snprintf(f->shape, sizeof f->shape, "%s", mb_shapes[mode]);
    snprintf(f->what, sizeof f->what, "remove s%d%s%s", id, f->leader ? " (the leader)" : "",
             mode == MB_WIPED ? ", killed while out, its data dropped"
             : stop           ? ", killed while out"
                              : "");
    if (status != 200)
        chaos_fault_step(f, "the removal answered HTTP %d, but s%d is no voter", status, id);
    if (stop) {
        kill(s->pid, SIGKILL); /* not reaped yet: the pid is still ours */
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    return 0;
}

/* Until the leader lists id as a voter, adding it or promoting it as
 * needed; whether it did within MB_BACK_MS. */
static bool mb_add_back(struct chaos_cluster *c, struct chaos_fault *f, const struct chaos_server *s)
{
    char body[256], path[64], role[16];
    char address[80];
    if (s->foreign)
        snprintf(address, sizeof address, "%s", s->raft_address);
    else
        snprintf(address, sizeof address, "127.0.0.1:%d", s->proxy_port);
    snprintf(body, sizeof body, "{\"id\":%d,\"address\":\"%s\",\"api\":\"%s\"}", s->id,
             address, s->api);
    snprintf(path, sizeof path, "/cluster/members/%d/role", s->id);
    int64_t deadline = chaos_now_ns() + MB_BACK_MS * 1000000LL;
    bool asked = false;
    while (!*c->stop && chaos_now_ns() < deadline) {
        if (!mb_role(c, s->id, role, sizeof role)) {
            mb_sleep_ms(500); /* no leader now */
            continue;
        }
        if (strcmp(role, "voter") == 0)
            return true;
        int status = role[0] ? mb_request(c, s->id, "POST", path, "{\"role\":\"voter\"}", MB_ADD_MS)
                             : mb_request(c, s->id, "POST", "/cluster/members", body, MB_ADD_MS);
        if (!asked)
            chaos_fault_step(f, "s%d added back (HTTP %d)", s->id, status);
        asked = true;
        if (status != 200)
            mb_sleep_ms(1000);
    }
    return false;
}

/* Until s has applied what the leader had committed once it was a voter. */
static void mb_catch_up(const struct chaos_cluster *c, struct chaos_fault *f,
                        const struct chaos_server *s)
{
    json_t *st = mb_leader_status(c);
    long long commit = json_integer_value(json_object_get(st, "commit_index")), applied = -1;
    json_decref(st);
    int64_t deadline = chaos_now_ns() + MB_CATCHUP_MS * 1000000LL;
    while (!*c->stop && chaos_now_ns() < deadline) {
        st = tools_status_fetch(s->api, MB_STATUS_MS);
        applied = st ? json_integer_value(json_object_get(st, "applied_index")) : -1;
        json_decref(st);
        if (applied >= commit) {
            chaos_fault_step(f, "s%d a voter again and caught up (applied %lld)", s->id, applied);
            return;
        }
        mb_sleep_ms(100);
    }
    if (!*c->stop)
        chaos_fault_step(f, "s%d a voter again, not caught up in %d s (applied %lld of %lld)",
                         s->id, MB_CATCHUP_MS / 1000, applied, commit);
}

/* s started as a new machine: no data directory, --join through
 * another running server instead of --peers, its proxy address announced.
 * 0, or -1 if it could not be started. */
static int mb_spawn_wiped(struct chaos_cluster *c, struct chaos_server *s, char *through,
                          size_t len)
{
    const struct chaos_server *via = NULL;
    for (int i = 0; i < c->n && !via; i++)
        if (c->servers[i].id != s->id && chaos_server_up(&c->servers[i]))
            via = &c->servers[i];
    if (!via || tools_rmtree(s->data_dir) != 0) /* the server makes it again */
        return -1;
    snprintf(through, len, "s%d", via->id);
    size_t n = 0;
    while (s->argv[n])
        n++;
    char proxy[32];
    snprintf(proxy, sizeof proxy, "127.0.0.1:%d", s->proxy_port);
    char **argv = xcalloc(n + 5, sizeof *argv), **keep = s->argv;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(keep[i], "--peers") == 0 && i + 1 < n) {
            i++; /* and its value */
            continue;
        }
        argv[k++] = keep[i];
    }
    argv[k++] = "--join";
    argv[k++] = (char *)via->api;
    argv[k++] = "--advertise-raft-address";
    argv[k++] = proxy;
    /* Only this start: a later restart (a kill fault) finds the data the
     * join left and takes the usual argv, whose --peers it then ignores. */
    s->argv = argv;
    int rc = chaos_server_spawn(s);
    s->argv = keep;
    free(argv);
    return rc;
}

int chaos_membership_end(struct chaos_cluster *c, struct chaos_fault *f)
{
    assert(f->ntargets == 1 && c->stop);
    struct chaos_server *s = &c->servers[f->targets[0] - 1];
    if (*c->stop) {
        chaos_fault_step(f, "s%d not added back: the run was interrupted", s->id);
        return -1;
    }
    char via[16];
    if (!s->foreign && s->pid == 0 && strcmp(f->shape, mb_shapes[MB_WIPED]) == 0) {
        if (mb_spawn_wiped(c, s, via, sizeof via) == 0) {
            c->restarts++;
            chaos_fault_step(f, "s%d started again with an empty data dir, joining through %s",
                             s->id, via);
        }
    } else if (!s->foreign && s->pid == 0 && chaos_server_spawn(s) == 0) {
        c->restarts++;
        chaos_fault_step(f, "s%d started again with its data", s->id);
    }
    if (!mb_add_back(c, f, s)) {
        if (*c->stop)
            return -1;
        chaos_fault_step(f, "s%d not a voter again within %d s", s->id, MB_BACK_MS / 1000);
        fprintf(stderr, "bosun chaos: s%d is not a voter again %d s after being added back\n",
                s->id, MB_BACK_MS / 1000);
        c->unrejoined++;
        return -1;
    }
    mb_catch_up(c, f, s);
    return 0;
}
