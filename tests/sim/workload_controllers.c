/* workload_controllers.c — the controllers' workload of the deterministic
 * simulation (sim --workload controllers).
 *
 * Every simulated member runs what a `bosun server` runs above Raft: the
 * real API server (server_embed, requests served by server_call on this
 * thread) over its replica, the real controllers (controllers_new,
 * controllers_turn, their writes going to that API server) and the real
 * scheduler (scheduler_new, scheduler_turn, its bindings proposed in
 * batches). The process's
 * edges are replaced at link time (-Wl,--wrap, see the Makefile), so the
 * production code is unchanged:
 *  - cluster_propose, cluster_read_index, cluster_is_leader, ... go to the
 *    fixture (sim_propose_cmd, sim_read_index): a write waits by stepping
 *    the simulated world, faults included, until its entry is applied;
 *  - httpc_new/httpc_request (the controllers' loopback HTTP) call the
 *    member's own embedded API server;
 *  - util_now_ms, util_wall_ms, util_time_rfc3339, util_uuid4,
 *    util_random_bytes and usleep use simulated time and a counter, so a
 *    seed replays exactly (a sleep steps the world).
 * A member the fixture kills loses its controllers and API server (made
 * anew before its next turn), as a crashed process would: calls still under
 * way in it fail at once (-1, not leader).
 *
 * Beside them run a user, who creates ReplicaSets, StatefulSets and Jobs,
 * scales the sets and deletes pods and ReplicaSets, and a kubelet, who
 * registers three nodes and renews their Leases, moves the pods bound to
 * them to Running and Ready and Job pods to Succeeded (now and then
 * Failed), and deletes for good the pods being deleted gracefully; both
 * through the leader's API, as kubectl and a node would. Pods request cpu,
 * and the nodes have room for all of them, barely.
 *
 * Checked on each replica in turn, every CHECK_EVERY_MS (the issue's
 * controller invariants):
 *  - a StatefulSet's pods are named SET-ORDINAL with an ordinal below the
 *    largest replicas the set ever had;
 *  - a ReplicaSet never has more live pods than the largest replicas it
 *    ever had (a new leader acting on a stale view would create more);
 *  - a Job never has more active pods than its parallelism, never counts
 *    more succeeded than its completions nor than the pods the kubelet
 *    made succeed (a count kept twice across a failover), and an Indexed
 *    Job's completed indexes are indexes whose pod succeeded;
 *  - every pod is bound once (its node never changes, on any replica), and
 *    no node's unfinished pods request more cpu than it has.
 * After the heal (ctlw_settle), without faults: every ReplicaSet and
 * StatefulSet has exactly its replicas, ready; every Job is Complete with
 * its completions; a deleted ReplicaSet's pods are gone; and finished Jobs'
 * pods no longer carry the job-tracking finalizer. */
#include <inttypes.h>
#include <jansson.h>
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "controllers/controllers.h"
#include "httpc/httpc.h"
#include "scheduler/scheduler.h"
#include "server/server.h"
#include "store/store.h"
#include "tests/sim/sim.h"
#include "util/util.h"

#define MEMBERS_MAX 5
#define OBJ_MAX 2 /* of each kind per seed */
#define REPLICAS_MAX 4
#define COMPLETIONS_MAX 5
#define TURNS_PER_TICK 8 /* a member's busy turns in one tick */
#define KUBELET_PODS 6   /* pods the kubelet moves per tick */
/* The invariants are checked on one replica this often (simulated), each
 * in turn: decoding every pod of every replica on every tick was most of a
 * seed's time, and a violation lasts longer than this (it would take the
 * controllers a sync to undo, if they ever did). */
#define CHECK_EVERY_MS 100
#define EPOCH_MS 1767225600000ll /* 2026-01-01T00:00:00Z: simulated wall time 0 */
#define MONO_BASE_MS 1000000ull  /* simulated monotonic time 0 (never 0: "unset" in places) */
#define TRACKING_FINALIZER "batch.kubernetes.io/job-tracking"
#define NODES 3
#define NODE_MILLICPU 2000 /* each node's allocatable cpu */
#define POD_MILLICPU 250   /* each pod's request: 22 pods at most fit, barely */
#define LEASE_RENEW_MS 10000
#define SCHED_BATCH 4 /* pods per scheduling round (with their events, a few entries) */
#define KILL_AFTER_BATCH 8 /* 1 in this many acknowledged scheduler batches kills the leader */

struct member {
    struct ctlw *w;
    unsigned i;
    struct server *srv;
    struct controllers *ctl;
    struct scheduler *sched;
    bool crashed; /* killed since its controllers and API server were made */
};

/* What httpc_new returns in the simulation: the member whose API it calls. */
struct sim_http {
    struct member *m;
};

struct set_rec { /* a ReplicaSet or StatefulSet the user made */
    char name[32];
    int32_t max_replicas; /* the most it ever had */
    bool deleted;
};

struct job_rec {
    char name[32];
    int32_t parallelism, completions;
    bool indexed;
    /* The kubelet's record: pods it made (or may have made: the write's
     * outcome was unknown) succeed, by uid, and their indexes. */
    struct umap succeeded;
    bool index_ok[COMPLETIONS_MAX];
};

struct ctlw {
    struct sim *sm;
    unsigned n;
    struct member m[MEMBERS_MAX];
    bool have_ns;
    bool have_nodes;
    uint64_t next_renew_ms;
    struct set_rec rs[OBJ_MAX], sts[OBJ_MAX];
    struct job_rec jobs[OBJ_MAX];
    unsigned n_rs, n_sts, n_jobs;
    uint64_t ids;                /* uuids and random bytes come from this counter */
    uint64_t calls, pods, turns; /* pods: started by the kubelet */
    bool settling;
    uint64_t next_check_ms;
    unsigned next_checked; /* the replica the next check looks at */
    struct umap bound;     /* pod uid -> the node it was first seen bound to (malloc'd) */
};

/* The wrapped functions below take no argument to find the workload by:
 * the seed being run sets this (the simulation is one thread). */
static struct ctlw *g_w;

/* ---- the process's edges, wrapped (-Wl,--wrap) ---- */

uint64_t __real_util_now_ms(void);
uint64_t __real_util_now_us(void);
int64_t __real_util_wall_ms(void);
void __real_util_time_rfc3339(char *buf, size_t len);
void __real_util_uuid4(char *buf, size_t len);
void __real_util_random_bytes(void *buf, size_t n);
int __real_usleep(useconds_t us);
struct httpc *__real_httpc_new(const char *url);
void __real_httpc_free(struct httpc *c);
int __real_httpc_request(struct httpc *c, const char *method, const char *path,
                         const char *const *headers, const void *body, size_t body_len,
                         int timeout_ms, struct httpc_response *resp);

uint64_t __wrap_util_now_ms(void);
uint64_t __wrap_util_now_us(void);
int64_t __wrap_util_wall_ms(void);
void __wrap_util_time_rfc3339(char *buf, size_t len);
void __wrap_util_uuid4(char *buf, size_t len);
void __wrap_util_random_bytes(void *buf, size_t n);
int __wrap_usleep(useconds_t us);
struct httpc *__wrap_httpc_new(const char *url);
void __wrap_httpc_free(struct httpc *c);
int __wrap_httpc_request(struct httpc *c, const char *method, const char *path,
                         const char *const *headers, const void *body, size_t body_len,
                         int timeout_ms, struct httpc_response *resp);
bool __wrap_cluster_is_leader(struct cluster *c);
uint64_t __wrap_cluster_leader_id(struct cluster *c);
void __wrap_cluster_info(struct cluster *c, struct cluster_info *out);
void __wrap_cluster_read_index(struct cluster *c, int timeout_ms, struct cluster_result *out);
void __wrap_cluster_propose(struct cluster *c, const void *cmd, size_t len, int timeout_ms,
                            struct cluster_result *out);
void __wrap_cluster_propose_batch(struct cluster *c, const void *const *cmds, const size_t *lens,
                                  unsigned n, int timeout_ms, struct cluster_result *outs);
void __wrap_cluster_propose_async(struct cluster *c, const void *cmd, size_t len, int timeout_ms,
                                  cluster_done_fn fn, void *arg);
void __wrap_cluster_propose_batch_async(struct cluster *c, const void *const *cmds,
                                        const size_t *lens, unsigned n, int timeout_ms,
                                        cluster_done_fn fn, void *const *args);

uint64_t __wrap_util_now_ms(void)
{
    return g_w ? MONO_BASE_MS + sim_time_ms(g_w->sm) : __real_util_now_ms();
}

uint64_t __wrap_util_now_us(void)
{
    return g_w ? (MONO_BASE_MS + sim_time_ms(g_w->sm)) * 1000 : __real_util_now_us();
}

int64_t __wrap_util_wall_ms(void)
{
    return g_w ? EPOCH_MS + (int64_t)sim_time_ms(g_w->sm) : __real_util_wall_ms();
}

void __wrap_util_time_rfc3339(char *buf, size_t len)
{
    if (!g_w) {
        __real_util_time_rfc3339(buf, len);
        return;
    }
    time_t secs = (time_t)(__wrap_util_wall_ms() / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static uint64_t next_random(struct ctlw *w)
{
    uint64_t z = (++w->ids) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void __wrap_util_random_bytes(void *buf, size_t n)
{
    if (!g_w) {
        __real_util_random_bytes(buf, n);
        return;
    }
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = next_random(g_w);
        memcpy(p + i, &r, n - i < 8 ? n - i : 8);
    }
}

void __wrap_util_uuid4(char *buf, size_t len)
{
    if (!g_w) {
        __real_util_uuid4(buf, len);
        return;
    }
    uint64_t a = next_random(g_w), b = next_random(g_w);
    snprintf(buf, len, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-8%03" PRIx64 "-%012" PRIx64,
             a >> 32, (a >> 16) & 0xffff, a & 0xfff, b >> 52, b & (uint64_t)0xffffffffffff);
}

/* A sleep is simulated time passing: the world steps meanwhile. */
int __wrap_usleep(useconds_t us)
{
    if (!g_w)
        return __real_usleep(us);
    uint64_t until = sim_time_ms(g_w->sm) + (us + 999) / 1000;
    do
        sim_advance(g_w->sm);
    while (sim_time_ms(g_w->sm) < until && !sim_failed(g_w->sm));
    return 0;
}

struct httpc *__wrap_httpc_new(const char *url)
{
    if (!g_w)
        return __real_httpc_new(url);
    unsigned i = 0;
    if (sscanf(url, "sim://%u", &i) != 1 || i >= g_w->n)
        return NULL;
    struct sim_http *h = xcalloc(1, sizeof *h);
    h->m = &g_w->m[i];
    return (struct httpc *)(void *)h;
}

void __wrap_httpc_free(struct httpc *c)
{
    if (!g_w) {
        __real_httpc_free(c);
        return;
    }
    free(c);
}

static bool member_up(struct member *m)
{
    return !m->crashed && sim_alive(m->w->sm, m->i);
}

int __wrap_httpc_request(struct httpc *c, const char *method, const char *path,
                         const char *const *headers, const void *body, size_t body_len,
                         int timeout_ms, struct httpc_response *resp)
{
    if (!g_w)
        return __real_httpc_request(c, method, path, headers, body, body_len, timeout_ms, resp);
    struct member *m = ((struct sim_http *)(void *)c)->m;
    memset(resp, 0, sizeof *resp);
    if (!member_up(m))
        return -1; /* a dead process's connection */
    g_w->calls++;
    resp->status =
        server_call(m->srv, method, path, headers, body, body_len, &resp->body, &resp->body_len);
    return 0;
}

static struct member *member_of(struct cluster *c)
{
    return (struct member *)(void *)c;
}

bool __wrap_cluster_is_leader(struct cluster *c)
{
    struct member *m = member_of(c);
    return member_up(m) && raft_state(sim_raft(m->w->sm, m->i)) == RAFT_LEADER;
}

/* Only itself, when it leads: an embedded server has no forwarder, so a
 * follower's write waits (sleeping, so the world steps) as for an unknown
 * leader, and fails as not the leader in the end. */
uint64_t __wrap_cluster_leader_id(struct cluster *c)
{
    return __wrap_cluster_is_leader(c) ? member_of(c)->i + 1 : 0;
}

void __wrap_cluster_info(struct cluster *c, struct cluster_info *out)
{
    struct member *m = member_of(c);
    struct raft *r = sim_raft(m->w->sm, m->i);
    memset(out, 0, sizeof *out);
    out->id = m->i + 1;
    out->state = raft_state(r);
    out->term = raft_current_term(r);
    out->leader_id = __wrap_cluster_leader_id(c);
    out->commit_index = raft_commit_index(r);
    out->last_applied = raft_last_applied(r);
    out->last_index = raft_last_index(r);
}

void __wrap_cluster_read_index(struct cluster *c, int timeout_ms, struct cluster_result *out)
{
    struct member *m = member_of(c);
    if (!member_up(m)) {
        memset(out, 0, sizeof *out);
        out->code = CLUSTER_NOT_LEADER;
        return;
    }
    sim_read_index(m->w->sm, m->i, timeout_ms, out);
}

/* Proposes in entries of at most 8 commands one after the other (the real
 * proposer packs what waits into entries the same way). */
static void propose_entries(struct member *m, const void *const *cmds, const size_t *lens,
                            unsigned n, int timeout_ms, struct cluster_result *outs)
{
    for (unsigned k = 0; k < n; k += 8) {
        unsigned chunk = n - k < 8 ? n - k : 8;
        if (member_up(m)) {
            sim_propose_cmds(m->w->sm, m->i, cmds + k, lens + k, chunk, timeout_ms, outs + k);
            continue;
        }
        memset(outs + k, 0, chunk * sizeof *outs);
        for (unsigned j = 0; j < chunk; j++)
            outs[k + j].code = CLUSTER_NOT_LEADER;
    }
}

/* The scheduler's batches. Now and then the leader dies the moment its
 * batch is acknowledged: its followers have the entries but do not yet
 * know them committed, so the next leader's replica lacks those bindings
 * until its own first commit, the instant a new scheduler must not
 * trust its replica. */
void __wrap_cluster_propose_batch(struct cluster *c, const void *const *cmds, const size_t *lens,
                                  unsigned n, int timeout_ms, struct cluster_result *outs)
{
    struct member *m = member_of(c);
    propose_entries(m, cmds, lens, n, timeout_ms, outs);
    if (n && outs[n - 1].code == CLUSTER_OK && sim_chance(m->w->sm, 1, KILL_AFTER_BATCH))
        sim_kill(m->w->sm, m->i, "the leader, its scheduler's batch just acknowledged");
}

void __wrap_cluster_propose(struct cluster *c, const void *cmd, size_t len, int timeout_ms,
                            struct cluster_result *out)
{
    propose_entries(member_of(c), &cmd, &len, 1, timeout_ms, out);
}

/* server_call serves a request as a worker does, which never proposes
 * without waiting: these are the event loop's and the forwarder's. */
void __wrap_cluster_propose_async(struct cluster *c, const void *cmd, size_t len, int timeout_ms,
                                  cluster_done_fn fn, void *arg)
{
    (void)c, (void)cmd, (void)len, (void)timeout_ms, (void)fn, (void)arg;
    fprintf(stderr, "sim: cluster_propose_async called: not expected in the simulation\n");
    abort();
}

void __wrap_cluster_propose_batch_async(struct cluster *c, const void *const *cmds,
                                        const size_t *lens, unsigned n, int timeout_ms,
                                        cluster_done_fn fn, void *const *args)
{
    (void)c, (void)cmds, (void)lens, (void)n, (void)timeout_ms, (void)fn, (void)args;
    fprintf(stderr, "sim: cluster_propose_batch_async called: not expected in the simulation\n");
    abort();
}

/* ---- members ---- */

static void member_make(struct member *m)
{
    struct sim *sm = m->w->sm;
    struct cluster *cl = (struct cluster *)(void *)m;
    m->srv = server_embed(m->i + 1, sim_store(sm, m->i), cl);
    struct controllers_config cc = {
        .store = sim_store(sm, m->i), .cluster = cl, .node_grace_ms = 40000, .serial = true};
    snprintf(cc.api_url, sizeof cc.api_url, "sim://%u", m->i);
    m->ctl = controllers_new(&cc);
    struct scheduler_config sc = {
        .store = sim_store(sm, m->i), .cluster = cl, .batch_max = SCHED_BATCH, .history = 100000};
    snprintf(sc.api_url, sizeof sc.api_url, "sim://%u", m->i);
    m->sched = scheduler_new(&sc);
    m->crashed = false;
}

static void member_unmake(struct member *m)
{
    controllers_free(m->ctl);
    scheduler_free(m->sched);
    server_embed_free(m->srv);
    m->ctl = NULL;
    m->sched = NULL;
    m->srv = NULL;
}

void ctlw_killed(struct ctlw *w, unsigned i)
{
    w->m[i].crashed = true;
}

/* The member that leads (alive, made, and its Raft leader), or NULL. */
static struct member *leader(struct ctlw *w)
{
    for (unsigned i = 0; i < w->n; i++) {
        struct member *m = &w->m[i];
        if (m->srv && __wrap_cluster_is_leader((struct cluster *)(void *)m))
            return m;
    }
    return NULL;
}

/* ---- the API, as a client ---- */

/* A request to member m's API; the status (-1: its process is gone) and
 * the decoded reply if out is not NULL. */
static int api(struct member *m, const char *method, const char *path, const char *ct, json_t *body,
               json_t **out)
{
    if (out)
        *out = NULL;
    if (!member_up(m))
        return -1;
    char *data = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Content-Type: %s", ct ? ct : "application/json");
    const char *headers[] = {hdr, NULL};
    char *reply = NULL;
    size_t n = 0;
    m->w->calls++;
    int st = server_call(m->srv, method, path, headers, data, data ? strlen(data) : 0, &reply, &n);
    free(data);
    if (out && reply)
        *out = json_loadb(reply, n, 0, NULL);
    free(reply);
    return st;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static json_t *md(json_t *o)
{
    return json_object_get(o, "metadata");
}

/* ---- the user ---- */

static json_t *pod_template(const char *app, bool job)
{
    char cpu[16];
    snprintf(cpu, sizeof cpu, "%dm", POD_MILLICPU);
    return json_pack("{s:{s:{s:s}}, s:{s:s, s:[{s:s, s:s, s:{s:{s:s}}}]}}", "metadata", "labels",
                     "app", app, "spec", "restartPolicy", job ? "Never" : "Always", "containers",
                     "name", "c", "image", "busybox", "resources", "requests", "cpu", cpu);
}

static void user_create_rs(struct ctlw *w, struct member *m)
{
    struct set_rec *r = &w->rs[w->n_rs];
    snprintf(r->name, sizeof r->name, "rs-%u", w->n_rs);
    int32_t replicas = (int32_t)sim_rnd(w->sm, REPLICAS_MAX + 1);
    json_t *b = json_pack("{s:s, s:s, s:{s:s}, s:{s:i, s:{s:{s:s}}, s:o}}", "apiVersion", "apps/v1",
                          "kind", "ReplicaSet", "metadata", "name", r->name, "spec", "replicas",
                          replicas, "selector", "matchLabels", "app", r->name, "template",
                          pod_template(r->name, false));
    int st = api(m, "POST", "/apis/apps/v1/namespaces/default/replicasets", NULL, b, NULL);
    json_decref(b);
    sim_trace(w->sm, "user: create replicaset %s (%d replicas): %d", r->name, replicas, st);
    if (st == 201 || st >= 500 || st < 0) { /* made, or maybe made */
        r->max_replicas = replicas;
        w->n_rs++;
    }
}

static void user_create_sts(struct ctlw *w, struct member *m)
{
    struct set_rec *r = &w->sts[w->n_sts];
    snprintf(r->name, sizeof r->name, "sts-%u", w->n_sts);
    int32_t replicas = (int32_t)sim_rnd(w->sm, REPLICAS_MAX + 1);
    const char *policy = sim_chance(w->sm, 1, 2) ? "OrderedReady" : "Parallel";
    json_t *b = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:i, s:s, s:{s:{s:s}}, s:o}}", "apiVersion",
                          "apps/v1", "kind", "StatefulSet", "metadata", "name", r->name, "spec",
                          "serviceName", r->name, "replicas", replicas, "podManagementPolicy",
                          policy, "selector", "matchLabels", "app", r->name, "template",
                          pod_template(r->name, false));
    int st = api(m, "POST", "/apis/apps/v1/namespaces/default/statefulsets", NULL, b, NULL);
    json_decref(b);
    sim_trace(w->sm, "user: create statefulset %s (%d replicas, %s): %d", r->name, replicas, policy,
              st);
    if (st == 201 || st >= 500 || st < 0) {
        r->max_replicas = replicas;
        w->n_sts++;
    }
}

static void user_create_job(struct ctlw *w, struct member *m)
{
    struct job_rec *j = &w->jobs[w->n_jobs];
    snprintf(j->name, sizeof j->name, "job-%u", w->n_jobs);
    j->completions = 1 + (int32_t)sim_rnd(w->sm, COMPLETIONS_MAX);
    j->parallelism = 1 + (int32_t)sim_rnd(w->sm, 3);
    j->indexed = sim_chance(w->sm, 1, 2);
    json_t *b = json_pack("{s:s, s:s, s:{s:s}, s:{s:i, s:i, s:s, s:i, s:o}}", "apiVersion",
                          "batch/v1", "kind", "Job", "metadata", "name", j->name, "spec",
                          "completions", j->completions, "parallelism", j->parallelism,
                          "completionMode", j->indexed ? "Indexed" : "NonIndexed", "backoffLimit",
                          1000, "template", pod_template(j->name, true));
    int st = api(m, "POST", "/apis/batch/v1/namespaces/default/jobs", NULL, b, NULL);
    json_decref(b);
    sim_trace(w->sm, "user: create job %s (%d completions, parallelism %d, %s): %d", j->name,
              j->completions, j->parallelism, j->indexed ? "Indexed" : "NonIndexed", st);
    if (st == 201 || st >= 500 || st < 0)
        w->n_jobs++;
}

static void user_scale(struct ctlw *w, struct member *m, struct set_rec *r, const char *plural)
{
    int32_t replicas = (int32_t)sim_rnd(w->sm, REPLICAS_MAX + 1);
    char path[256];
    snprintf(path, sizeof path, "/apis/apps/v1/namespaces/default/%s/%s", plural, r->name);
    json_t *b = json_pack("{s:{s:i}}", "spec", "replicas", replicas);
    int st = api(m, "PATCH", path, "application/merge-patch+json", b, NULL);
    json_decref(b);
    sim_trace(w->sm, "user: scale %s %s to %d: %d", plural, r->name, replicas, st);
    if ((st == 200 || st >= 500 || st < 0) && replicas > r->max_replicas)
        r->max_replicas = replicas;
}

static void user_delete_rs(struct ctlw *w, struct member *m, struct set_rec *r)
{
    char path[256];
    snprintf(path, sizeof path, "/apis/apps/v1/namespaces/default/replicasets/%s", r->name);
    int st = api(m, "DELETE", path, NULL, NULL, NULL);
    sim_trace(w->sm, "user: delete replicaset %s: %d", r->name, st);
    if (st == 200 || st == 202 || st == 404)
        r->deleted = true;
}

struct pick {
    unsigned want, seen;
    char name[256];
};

static int pick_pod(void *arg, const struct store_obj *o)
{
    struct pick *p = arg;
    if (p->seen++ == p->want)
        snprintf(p->name, sizeof p->name, "%.*s", (int)o->name_len, o->name);
    return 0;
}

static void user_delete_pod(struct ctlw *w, struct member *m)
{
    struct store_read rd;
    struct pick p = {.want = sim_rnd(w->sm, 16)};
    if (store_read_begin(sim_store(w->sm, m->i), &rd) != 0)
        return;
    store_list(&rd, "pods", "default", pick_pod, &p);
    store_read_end(&rd);
    if (!p.name[0])
        return;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", p.name);
    int st = api(m, "DELETE", path, NULL, NULL, NULL);
    sim_trace(w->sm, "user: delete pod %s: %d", p.name, st);
}

static void user_turn(struct ctlw *w, struct member *m)
{
    if (!w->have_ns) {
        json_t *b = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                              "metadata", "name", "default");
        int st = api(m, "POST", "/api/v1/namespaces", NULL, b, NULL);
        json_decref(b);
        sim_trace(w->sm, "user: create namespace default: %d", st);
        w->have_ns = st == 201 || st == 409;
        return;
    }
    unsigned roll = sim_rnd(w->sm, 100);
    if (roll < 4 && w->n_rs < OBJ_MAX)
        user_create_rs(w, m);
    else if (roll < 8 && w->n_sts < OBJ_MAX)
        user_create_sts(w, m);
    else if (roll < 12 && w->n_jobs < OBJ_MAX)
        user_create_job(w, m);
    else if (roll < 16 && w->n_rs && !w->rs[roll % w->n_rs].deleted)
        user_scale(w, m, &w->rs[roll % w->n_rs], "replicasets");
    else if (roll < 20 && w->n_sts)
        user_scale(w, m, &w->sts[roll % w->n_sts], "statefulsets");
    else if (roll < 24)
        user_delete_pod(w, m);
    else if (roll < 25 && w->n_rs && !w->rs[roll % w->n_rs].deleted)
        user_delete_rs(w, m, &w->rs[roll % w->n_rs]);
}

/* ---- the kubelet ---- */

static json_t *owner(json_t *obj)
{
    size_t i;
    json_t *ref;
    json_array_foreach(json_object_get(md(obj), "ownerReferences"), i,
                       ref) if (json_is_true(json_object_get(ref, "controller"))) return ref;
    return NULL;
}

static struct job_rec *job_named(struct ctlw *w, const char *name)
{
    for (unsigned k = 0; k < w->n_jobs; k++)
        if (strcmp(w->jobs[k].name, name) == 0)
            return &w->jobs[k];
    return NULL;
}

static json_t *condition(const char *type, const char *status, const char *now)
{
    return json_pack("{s:s, s:s, s:s}", "type", type, "status", status, "lastTransitionTime", now);
}

/* The pod's status as a node would write it: Running and Ready, or
 * terminated (Succeeded, Failed). */
static void kubelet_status(json_t *pod, const char *phase, unsigned ip)
{
    char now[32], addr[32];
    __wrap_util_time_rfc3339(now, sizeof now);
    snprintf(addr, sizeof addr, "10.244.%u.%u", (ip >> 8) & 255, ip & 255);
    bool running = strcmp(phase, "Running") == 0;
    json_t *state =
        running ? json_pack("{s:{s:s}}", "running", "startedAt", now)
                : json_pack("{s:{s:i, s:s, s:s}}", "terminated", "exitCode",
                            strcmp(phase, "Succeeded") == 0 ? 0 : 1, "finishedAt", now, "reason",
                            strcmp(phase, "Succeeded") == 0 ? "Completed" : "Error");
    json_t *st = json_pack(
        "{s:s, s:s, s:s, s:[o, o], s:[{s:s, s:o, s:b, s:i, s:s, s:s}]}", "phase", phase, "podIP",
        addr, "startTime", now, "conditions", condition("Ready", running ? "True" : "False", now),
        condition("PodScheduled", "True", now), "containerStatuses", "name", "c", "state", state,
        "ready", running, "restartCount", 0, "image", "busybox", "imageID", "busybox");
    json_object_set_new(pod, "status", st);
}

struct kube_pods {
    json_t *pods;
    bool to_move; /* only those the kubelet may move */
};

/* Whether the kubelet has something to do with the pod, from its bytes (a
 * pod decoded is a hundred allocations, which under ASan were most of a
 * seed's time): not yet Running, or a Job's pod that is. */
static bool may_move(const struct store_obj *o)
{
    char phase[32];
    if (ctl_obj_has(o, "deletionTimestamp") || !ctl_obj_field(o, "phase", phase, sizeof phase) ||
        strcmp(phase, "Pending") == 0)
        return true;
    return strcmp(phase, "Running") == 0 && ctl_obj_has(o, "Job");
}

static int collect_pod(void *arg, const struct store_obj *o)
{
    struct kube_pods *k = arg;
    if (k->to_move && !may_move(o))
        return 0;
    json_t *p = ctl_decode(o);
    if (p)
        json_array_append_new(k->pods, p);
    return 0;
}

/* The pods in default on member i's replica (those the kubelet may move,
 * or all), decoded, in key order. */
static json_t *pods_of(struct ctlw *w, unsigned i, bool to_move)
{
    struct kube_pods k = {json_array(), to_move};
    struct store_read rd;
    if (store_read_begin(sim_store(w->sm, i), &rd) == 0) {
        store_list(&rd, "pods", "default", collect_pod, &k);
        store_read_end(&rd);
    }
    return k.pods;
}

static void kubelet_record(struct ctlw *w, json_t *pod)
{
    json_t *ref = owner(pod);
    struct job_rec *j =
        ref && strcmp(str(ref, "kind"), "Job") == 0 ? job_named(w, str(ref, "name")) : NULL;
    if (!j)
        return;
    umap_put(&j->succeeded, str(md(pod), "uid"), j);
    const char *ix =
        str(json_object_get(md(pod), "annotations"), "batch.kubernetes.io/job-completion-index");
    if (*ix && atoi(ix) >= 0 && atoi(ix) < COMPLETIONS_MAX)
        j->index_ok[atoi(ix)] = true;
}

/* A pod being deleted gracefully: its containers are stopped, and the
 * node deletes it for good (grace period 0, preconditioned on its uid). */
static void kubelet_finish(struct ctlw *w, struct member *m, json_t *pod)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", str(md(pod), "name"));
    json_t *opts =
        json_pack("{s:s, s:s, s:i, s:{s:s}}", "kind", "DeleteOptions", "apiVersion", "v1",
                  "gracePeriodSeconds", 0, "preconditions", "uid", str(md(pod), "uid"));
    int st = api(m, "DELETE", path, NULL, opts, NULL);
    json_decref(opts);
    sim_trace(w->sm, "kubelet: pod %s gone: %d", str(md(pod), "name"), st);
}

/* Registers the nodes (Ready, NODE_MILLICPU of cpu) and their Leases once,
 * then renews the Leases every LEASE_RENEW_MS: the node lifecycle
 * controller makes a node whose Lease goes stale NotReady (and tainted),
 * which a long enough outage does here too. */
static void kubelet_nodes(struct ctlw *w, struct member *m)
{
    if (w->have_nodes && sim_time_ms(w->sm) < w->next_renew_ms)
        return;
    char now[40], wall[32], cpu[16];
    __wrap_util_time_rfc3339(wall, sizeof wall);
    snprintf(now, sizeof now, "%.19s.%06dZ", wall, (int)(__wrap_util_wall_ms() % 1000) * 1000);
    snprintf(cpu, sizeof cpu, "%dm", NODE_MILLICPU);
    bool ok = true;
    if (!w->have_nodes) {
        json_t *b = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
                              "metadata", "name", "kube-node-lease");
        int st = api(m, "POST", "/api/v1/namespaces", NULL, b, NULL);
        json_decref(b);
        ok = st == 201 || st == 409;
    }
    for (unsigned k = 0; k < NODES && ok; k++) {
        char name[16], path[160];
        snprintf(name, sizeof name, "node-%u", k);
        json_t *cur = NULL;
        if (!w->have_nodes) {
            json_t *b =
                json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "Node",
                          "metadata", "name", name, "labels", "kubernetes.io/hostname", name);
            int st = api(m, "POST", "/api/v1/nodes", NULL, b, &cur);
            json_decref(b);
            if (st == 201) {
                json_t *res =
                    json_pack("{s:s, s:s, s:s}", "cpu", cpu, "memory", "8Gi", "pods", "110");
                json_object_set_new(cur, "status",
                                    json_pack("{s:O, s:o, s:[o]}", "capacity", res, "allocatable",
                                              res, "conditions", condition("Ready", "True", wall)));
                snprintf(path, sizeof path, "/api/v1/nodes/%s/status", name);
                st = api(m, "PUT", path, NULL, cur, NULL);
            }
            json_decref(cur);
            cur = NULL;
            ok = st == 200 || st == 409;
        }
        snprintf(path, sizeof path,
                 "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", name);
        int st = ok ? api(m, "GET", path, NULL, NULL, &cur) : -1;
        if (st == 200) {
            json_object_set_new(json_object_get(cur, "spec"), "renewTime", json_string(now));
            st = api(m, "PUT", path, NULL, cur, NULL);
        } else if (st == 404) {
            json_t *b = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s}}", "apiVersion",
                                  "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
                                  name, "namespace", "kube-node-lease", "spec", "holderIdentity",
                                  name, "leaseDurationSeconds", 40, "renewTime", now);
            st = api(m, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                     NULL, b, NULL);
            json_decref(b);
        }
        json_decref(cur);
        ok = st == 200 || st == 201;
    }
    sim_trace(w->sm, "kubelet: %s the nodes' leases: %s", w->have_nodes ? "renew" : "register",
              ok ? "ok" : "failed");
    if (ok) {
        w->have_nodes = true;
        w->next_renew_ms = sim_time_ms(w->sm) + LEASE_RENEW_MS;
    }
}

static void kubelet_turn(struct ctlw *w, struct member *m)
{
    kubelet_nodes(w, m);
    json_t *pods = pods_of(w, m->i, true);
    size_t i;
    json_t *pod;
    unsigned moved = 0;
    json_array_foreach(pods, i, pod)
    {
        if (moved >= KUBELET_PODS)
            break;
        const char *node = str(json_object_get(pod, "spec"), "nodeName");
        if (!*node) /* not ours yet: the scheduler's */
            continue;
        if (json_object_get(md(pod), "deletionTimestamp")) {
            moved++;
            kubelet_finish(w, m, pod);
            continue;
        }
        const char *phase = str(json_object_get(pod, "status"), "phase");
        json_t *ref = owner(pod);
        bool job = ref && strcmp(str(ref, "kind"), "Job") == 0;
        const char *next = NULL;
        if (!*phase || strcmp(phase, "Pending") == 0)
            next = "Running";
        else if (job && strcmp(phase, "Running") == 0 && (w->settling || sim_chance(w->sm, 1, 3)))
            next = sim_chance(w->sm, 1, 20) && !w->settling ? "Failed" : "Succeeded";
        if (!next)
            continue;
        moved++;
        w->pods += strcmp(next, "Running") == 0;
        kubelet_status(pod, next, (unsigned)i + 1);
        char path[512];
        snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s/status",
                 str(md(pod), "name"));
        int st = api(m, "PUT", path, NULL, pod, NULL);
        sim_trace(w->sm, "kubelet: pod %s %s: %d", str(md(pod), "name"), next, st);
        /* Succeeded, or maybe (the outcome is unknown): the Job may count it. */
        if (strcmp(next, "Succeeded") == 0 && (st == 200 || st >= 500 || st < 0))
            kubelet_record(w, pod);
    }
    json_decref(pods);
}

/* ---- the invariants ---- */

static struct set_rec *set_named(struct set_rec *sets, unsigned n, const char *name)
{
    for (unsigned k = 0; k < n; k++)
        if (strcmp(sets[k].name, name) == 0)
            return &sets[k];
    return NULL;
}

static bool pod_active(json_t *pod)
{
    const char *phase = str(json_object_get(pod, "status"), "phase");
    return !json_object_get(md(pod), "deletionTimestamp") && strcmp(phase, "Succeeded") != 0 &&
           strcmp(phase, "Failed") != 0;
}

/* Live pods per owner name, for one kind. */
static int32_t count_owned(json_t *pods, const char *kind, const char *name, bool active_only)
{
    int32_t n = 0;
    size_t i;
    json_t *pod;
    json_array_foreach(pods, i, pod)
    {
        json_t *ref = owner(pod);
        if (!ref || strcmp(str(ref, "kind"), kind) != 0 || strcmp(str(ref, "name"), name) != 0)
            continue;
        if (active_only ? pod_active(pod) : !json_object_get(md(pod), "deletionTimestamp"))
            n++;
    }
    return n;
}

static json_t *get_obj(struct ctlw *w, unsigned i, const char *resource, const char *name)
{
    struct store_read rd;
    struct store_obj o;
    json_t *obj = NULL;
    if (store_read_begin(sim_store(w->sm, i), &rd) != 0)
        return NULL;
    if (store_get(&rd, resource, "default", name, &o) == 0)
        obj = ctl_decode(&o);
    store_read_end(&rd);
    return obj;
}

static void check_sts_pods(struct ctlw *w, unsigned i, json_t *pods)
{
    size_t k;
    json_t *pod;
    json_array_foreach(pods, k, pod)
    {
        json_t *ref = owner(pod);
        if (!ref || strcmp(str(ref, "kind"), "StatefulSet") != 0)
            continue;
        const char *set = str(ref, "name"), *name = str(md(pod), "name");
        struct set_rec *r = set_named(w->sts, w->n_sts, set);
        size_t n = strlen(set);
        char *end = NULL;
        long ord =
            strncmp(name, set, n) == 0 && name[n] == '-' ? strtol(name + n + 1, &end, 10) : -1;
        if (!r || ord < 0 || !end || *end || ord >= r->max_replicas)
            sim_fail(w->sm,
                     "s%u: pod %s of StatefulSet %s has no ordinal below %d, the most replicas "
                     "the set ever had",
                     i, name, set, r ? r->max_replicas : -1);
    }
}

static void check_job(struct ctlw *w, unsigned i, json_t *pods, struct job_rec *j)
{
    json_t *job = get_obj(w, i, "jobs", j->name);
    if (!job)
        return;
    int32_t active = count_owned(pods, "Job", j->name, true);
    json_t *st = json_object_get(job, "status");
    json_int_t succeeded = json_integer_value(json_object_get(st, "succeeded"));
    size_t made = j->succeeded.n;
    if (active > j->parallelism)
        sim_fail(w->sm, "s%u: Job %s has %d active pods, parallelism %d", i, j->name, active,
                 j->parallelism);
    if (succeeded > j->completions || (size_t)succeeded > made)
        sim_fail(w->sm,
                 "s%u: Job %s counts %" JSON_INTEGER_FORMAT
                 " succeeded, with %d completions and %zu pods the kubelet made succeed",
                 i, j->name, succeeded, j->completions, made);
    const char *ci = str(st, "completedIndexes");
    for (const char *p = ci; j->indexed && *p;) { /* "1,3-5" */
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (*end == '-')
            b = strtol(end + 1, &end, 10);
        for (long x = a; x <= b; x++)
            if (x < 0 || x >= COMPLETIONS_MAX || !j->index_ok[x])
                sim_fail(w->sm,
                         "s%u: Job %s counts index %ld completed (%s), no pod of it succeeded", i,
                         j->name, x, ci);
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p) /* malformed */
            break;
    }
    json_decref(job);
}

/* A cpu quantity in millicores ("250m", "2", "0.5"). */
static int64_t millicpu(const char *q)
{
    size_t n = strlen(q);
    return n && q[n - 1] == 'm' ? atoll(q) : (int64_t)(atof(q) * 1000);
}

static int64_t pod_millicpu(json_t *pod)
{
    int64_t sum = 0;
    size_t k;
    json_t *c;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), k, c) sum +=
        millicpu(str(json_object_get(json_object_get(c, "resources"), "requests"), "cpu"));
    return sum;
}

/* Every pod bound once (its node never changes, on any replica), and no
 * node's pods (those not finished, being deleted included: they hold their
 * room until gone) requesting more cpu than it has. */
static void check_bindings(struct ctlw *w, unsigned i, json_t *pods)
{
    int64_t used[NODES] = {0};
    size_t k;
    json_t *pod;
    json_array_foreach(pods, k, pod)
    {
        const char *node = str(json_object_get(pod, "spec"), "nodeName");
        const char *uid = str(md(pod), "uid");
        if (!*node)
            continue;
        const char *first = umap_get(&w->bound, uid);
        if (!first)
            umap_put(&w->bound, uid, xstrdup(node));
        else if (strcmp(first, node) != 0)
            sim_fail(w->sm, "s%u: pod %s (uid %s) bound to %s, and before to %s", i,
                     str(md(pod), "name"), uid, node, first);
        unsigned x;
        if (sscanf(node, "node-%u", &x) != 1 || x >= NODES) {
            sim_fail(w->sm, "s%u: pod %s bound to %s, not a node", i, str(md(pod), "name"), node);
            continue;
        }
        const char *phase = str(json_object_get(pod, "status"), "phase");
        if (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0)
            used[x] += pod_millicpu(pod);
    }
    for (unsigned x = 0; x < NODES; x++)
        if (used[x] > NODE_MILLICPU)
            sim_fail(w->sm,
                     "s%u: node-%u over-committed: its pods request %" PRId64
                     "m of cpu, it has %dm",
                     i, x, used[x], NODE_MILLICPU);
}

/* On one replica, a different one each time. */
static void check_invariants(struct ctlw *w)
{
    unsigned i = w->next_checked++ % w->n;
    {
        json_t *pods = pods_of(w, i, false);
        check_sts_pods(w, i, pods);
        check_bindings(w, i, pods);
        for (unsigned k = 0; k < w->n_rs; k++) {
            int32_t live = count_owned(pods, "ReplicaSet", w->rs[k].name, false);
            if (live > w->rs[k].max_replicas)
                sim_fail(w->sm,
                         "s%u: ReplicaSet %s has %d live pods, it never had more than %d replicas",
                         i, w->rs[k].name, live, w->rs[k].max_replicas);
        }
        for (unsigned k = 0; k < w->n_jobs; k++)
            check_job(w, i, pods, &w->jobs[k]);
        json_decref(pods);
    }
}

/* ---- turns ---- */

static void controllers_turns(struct ctlw *w)
{
    for (unsigned i = 0; i < w->n && !sim_failed(w->sm); i++) {
        struct member *m = &w->m[i];
        if (m->crashed && sim_alive(w->sm, i)) { /* restarted: a new process */
            member_unmake(m);
            member_make(m);
            sim_trace(w->sm, "s%u: controllers and API server restarted", i);
        }
        if (!member_up(m))
            continue;
        for (unsigned t = 0; t < TURNS_PER_TICK && !sim_failed(w->sm) && member_up(m); t++) {
            w->turns++;
            if (controllers_turn(m->ctl) != CONTROLLERS_BUSY)
                break;
        }
        for (unsigned t = 0; t < TURNS_PER_TICK && !sim_failed(w->sm) && member_up(m); t++) {
            int wait;
            w->turns++;
            if (scheduler_turn(m->sched, &wait) != SCHEDULER_BUSY)
                break;
        }
    }
}

void ctlw_tick(struct ctlw *w)
{
    struct member *m = leader(w);
    if (m && !w->settling)
        user_turn(w, m);
    if ((m = leader(w)) != NULL && w->have_ns)
        kubelet_turn(w, m);
    controllers_turns(w);
    if (!sim_failed(w->sm) && sim_time_ms(w->sm) >= w->next_check_ms) {
        check_invariants(w);
        w->next_check_ms = sim_time_ms(w->sm) + CHECK_EVERY_MS;
    }
}

/* ---- the end: every object at its spec ---- */

/* Why member i's replica is not settled yet ("" when it is). */
static void unsettled(struct ctlw *w, unsigned i, char *why, size_t len)
{
    json_t *pods = pods_of(w, i, false);
    why[0] = '\0';
    for (unsigned k = 0; k < w->n_rs && !why[0]; k++) {
        struct set_rec *r = &w->rs[k];
        json_t *rs = get_obj(w, i, "replicasets", r->name);
        int32_t live = count_owned(pods, "ReplicaSet", r->name, false);
        json_t *st = json_object_get(rs, "status");
        json_int_t want =
            json_integer_value(json_object_get(json_object_get(rs, "spec"), "replicas"));
        if (r->deleted && (rs || live))
            snprintf(why, len, "deleted ReplicaSet %s: %s, %d pods", r->name,
                     rs ? "still there" : "gone", live);
        else if (!r->deleted && rs &&
                 (live != want || json_integer_value(json_object_get(st, "readyReplicas")) != want))
            snprintf(why, len,
                     "ReplicaSet %s: %d live pods, %" JSON_INTEGER_FORMAT
                     " ready, %" JSON_INTEGER_FORMAT " wanted",
                     r->name, live, json_integer_value(json_object_get(st, "readyReplicas")), want);
        json_decref(rs);
    }
    for (unsigned k = 0; k < w->n_sts && !why[0]; k++) {
        json_t *set = get_obj(w, i, "statefulsets", w->sts[k].name);
        int32_t live = count_owned(pods, "StatefulSet", w->sts[k].name, false);
        json_t *st = json_object_get(set, "status");
        json_int_t want =
            json_integer_value(json_object_get(json_object_get(set, "spec"), "replicas"));
        if (set &&
            (live != want || json_integer_value(json_object_get(st, "readyReplicas")) != want))
            snprintf(why, len,
                     "StatefulSet %s: %d pods, %" JSON_INTEGER_FORMAT
                     " ready, %" JSON_INTEGER_FORMAT " wanted",
                     w->sts[k].name, live, json_integer_value(json_object_get(st, "readyReplicas")),
                     want);
        json_decref(set);
    }
    for (unsigned k = 0; k < w->n_jobs && !why[0]; k++) {
        struct job_rec *j = &w->jobs[k];
        json_t *job = get_obj(w, i, "jobs", j->name);
        json_t *st = json_object_get(job, "status");
        bool complete = false;
        size_t x;
        json_t *c;
        json_array_foreach(json_object_get(st, "conditions"), x, c) complete |=
            strcmp(str(c, "type"), "Complete") == 0 && strcmp(str(c, "status"), "True") == 0;
        if (job &&
            (!complete || json_integer_value(json_object_get(st, "succeeded")) != j->completions))
            snprintf(why, len, "Job %s: %s, %" JSON_INTEGER_FORMAT " of %d succeeded", j->name,
                     complete ? "Complete" : "not Complete",
                     json_integer_value(json_object_get(st, "succeeded")), j->completions);
        json_decref(job);
    }
    size_t x;
    json_t *pod;
    json_array_foreach(pods, x, pod)
    {
        json_t *ref = owner(pod);
        size_t f;
        json_t *fin;
        if (why[0] || !ref || strcmp(str(ref, "kind"), "Job") != 0 || pod_active(pod))
            continue;
        json_array_foreach(json_object_get(md(pod), "finalizers"), f,
                           fin) if (strcmp(json_string_value(fin) ? json_string_value(fin) : "",
                                           TRACKING_FINALIZER) == 0)
            snprintf(why, len, "pod %s of Job %s: finished, still with its finalizer",
                     str(md(pod), "name"), str(ref, "name"));
    }
    json_decref(pods);
}

void ctlw_settle(struct ctlw *w, uint64_t timeout_ms)
{
    struct sim *sm = w->sm;
    uint64_t until = sim_time_ms(sm) + timeout_ms, next = sim_time_ms(sm);
    char why[512] = "";
    w->settling = true;
    sim_trace(sm, "settle: the controllers' workload runs without faults");
    while (!sim_failed(sm)) {
        if (sim_time_ms(sm) >= next) {
            ctlw_tick(w);
            struct member *m = leader(w);
            if (m) {
                unsettled(w, m->i, why, sizeof why);
                if (!why[0]) {
                    sim_trace(sm, "settle: every object at its spec on the leader s%u", m->i);
                    return;
                }
            }
            next = sim_time_ms(sm) + 100;
        }
        if (sim_time_ms(sm) >= until) {
            sim_fail(sm,
                     "the controllers did not bring every object to its spec within %" PRIu64
                     " ms of the heal: %s",
                     timeout_ms, why[0] ? why : "no leader");
            return;
        }
        sim_advance(sm);
    }
}

/* ---- life ---- */

struct ctlw *ctlw_new(struct sim *sm)
{
    struct ctlw *w = xcalloc(1, sizeof *w);
    w->sm = sm;
    w->n = sim_servers(sm);
    g_w = w;
    for (unsigned i = 0; i < w->n; i++) {
        w->m[i].w = w;
        w->m[i].i = i;
        member_make(&w->m[i]);
    }
    return w;
}

void ctlw_free(struct ctlw *w)
{
    if (!w)
        return;
    for (unsigned i = 0; i < w->n; i++)
        member_unmake(&w->m[i]);
    for (unsigned k = 0; k < OBJ_MAX; k++)
        umap_free(&w->jobs[k].succeeded);
    size_t it = 0;
    const char *key;
    void *node;
    while (umap_next(&w->bound, &it, &key, &node))
        free(node);
    umap_free(&w->bound);
    g_w = NULL;
    free(w);
}

void ctlw_totals(const struct ctlw *w, uint64_t *calls, uint64_t *pods, uint64_t *turns)
{
    *calls = w->calls;
    *pods = w->pods;
    *turns = w->turns;
}
