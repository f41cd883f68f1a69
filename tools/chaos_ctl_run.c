/* chaos_ctl_run.c — the controllers workload of `bosun chaos` (--workload
 * controllers): hollow nodes, a driver that keeps the leader's controllers
 * busy, and a recorder of everything they do, in DIR/controllers.jsonl
 * (the format and the invariants judged on it are at the top of
 * chaos_ctl.c). It runs beside the objects clients, which keep the
 * linearizability checks going.
 *
 * The parts:
 *  - The nodes: one `BIN agent --hollow 4` (DIR/agent.log) with every
 *    server in its failover list. It registers the nodes, runs pods bound
 *    to them, completes Job pods after their bosun.dev/hollow-run-seconds
 *    and finishes deletions.
 *  - The driver: a thread that creates StatefulSets sts-a (OrderedReady)
 *    and sts-b (Parallel) and ReplicaSets rs-a and rs-b in namespace chaos,
 *    then every 0.2-0.8 s (from the seed) scales one of them (0-4 and 0-6
 *    replicas) or creates a Job (1-5 completions, parallelism 1-3, Indexed
 *    or not), through whichever server answers: servers are tried in turn
 *    on a lost connection or a 5xx. Each change is a "driver" line.
 *  - The recorders: a thread per kind (Pod, Job, StatefulSet, ReplicaSet)
 *    LISTs the namespace once, then watches from that revision, and
 *    resumes from the last revision delivered (event or bookmark) on the
 *    next server whenever a stream ends: at the server's timeoutSeconds
 *    (3-8 s from the seed), a broken connection, 5 s of silence. So the
 *    record is the whole change history of each kind, stitched across
 *    servers, and its order is checked too. A 410 is written down and
 *    followed by a new LIST.
 *  - Settling, after healing: chaos_ctl_settle waits (bounded) until the
 *    controllers are done — StatefulSets and ReplicaSets at their replicas
 *    and observed generation, every Job finished, no pod terminating or
 *    unbound — then until every recorder has seen the cluster's revision
 *    of that moment. The checker judges the end state whatever happened:
 *    a controller that never converged is a FAIL there. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "tools/chaos_internal.h"
#include "tools/tools.h"

extern char **environ;

#define CR_NS "/namespaces/" CHAOS_NAMESPACE
#define CR_NODE_PREFIX "chaos-node-" /* the agent names them PREFIX0000 ... */

enum {
    CR_NODES = 4,
    CR_HTTP_MS = 3000,
    CR_READ = 64 * 1024,
    CR_SILENT_MS = 5000,
    CR_RETRY_MS = 200,
    CR_TIMEOUT_MIN_S = 3,
    CR_TIMEOUT_SPAN_S = 6,
    CR_MAX_JOBS = 40,
    CR_AGENT_GRACE_MS = 5000,
};

enum cr_kind { CR_POD, CR_JOB, CR_STS, CR_RS, CR_NKIND };
static const char *const cr_kinds[CR_NKIND] = {"Pod", "Job", "StatefulSet", "ReplicaSet"};
static const char *const cr_paths[CR_NKIND] = {
    "/api/v1" CR_NS "/pods", "/apis/batch/v1" CR_NS "/jobs",
    "/apis/apps/v1" CR_NS "/statefulsets", "/apis/apps/v1" CR_NS "/replicasets"};

struct cr_recorder {
    struct chaos_ctl_run *run;
    enum cr_kind kind;
    int server; /* index of the server it watches now */
    pthread_t thread;
    bool started;
    struct chaos_rng rng;
    atomic_ullong seen; /* the last revision delivered; 0 none */
    uint64_t rv;        /* the thread's: where to resume from; 0 to list */
    struct ubuf pending;
    char *chunk;
    bool expired; /* the stream ended with 410 */
};

struct chaos_ctl_run {
    int n;
    char api[CHAOS_MAX_SERVERS][48];
    int ids[CHAOS_MAX_SERVERS];
    struct chaos_server agent;
    atomic_bool stop, stop_driver;
    pthread_t driver;
    bool driver_started;
    uint64_t seed;
    bool attached; /* the cluster goes on after the run */
    struct cr_recorder rec[CR_NKIND];
    pthread_mutex_t mu; /* f, failed */
    FILE *f;
    bool failed;
};

/* ---------------------------------------------------------------- lines */

static void cr_emit(struct chaos_ctl_run *r, json_t *line)
{
    char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    pthread_mutex_lock(&r->mu);
    if (!s || fprintf(r->f, "%s\n", s) < 0)
        r->failed = true;
    pthread_mutex_unlock(&r->mu);
    free(s);
}

static json_t *cr_line(const struct cr_recorder *k)
{
    return json_pack("{s:I, s:s}", "t", (json_int_t)chaos_now_ns(), "kind", cr_kinds[k->kind]);
}

static json_t *cr_rv(uint64_t rv)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, rv);
    return json_string(s);
}

static int cr_int(const json_t *o, const char *name, int def)
{
    const json_t *v = json_object_get(o, name);
    return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

/* Whether o's status has a condition of type with status "True". */
static bool cr_condition(const json_t *o, const char *type)
{
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, c)
    {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *s = json_string_value(json_object_get(c, "status"));
        if (t && s && strcmp(t, type) == 0 && strcmp(s, "True") == 0)
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- summaries */

/* A pod's index: its StatefulSet ordinal (the pod-index label, or the
 * name's last number) or its Job completion index; -1 none. */
static int cr_pod_index(const json_t *md, const char *owner)
{
    const json_t *labels = json_object_get(md, "labels");
    const json_t *ann = json_object_get(md, "annotations");
    const char *s = NULL;
    if (strcmp(owner, "StatefulSet") == 0) {
        s = json_string_value(json_object_get(labels, "apps.kubernetes.io/pod-index"));
        const char *name = json_string_value(json_object_get(md, "name"));
        const char *dash = name ? strrchr(name, '-') : NULL;
        if (!s && dash)
            s = dash + 1;
    } else if (strcmp(owner, "Job") == 0) {
        s = json_string_value(json_object_get(ann, "batch.kubernetes.io/job-completion-index"));
    }
    return s && *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 9 ? atoi(s) : -1;
}

static void cr_sum_pod(const json_t *o, const json_t *md, json_t *out)
{
    const char *owner = "", *owner_uid = "";
    size_t i;
    const json_t *ref;
    json_array_foreach(json_object_get(md, "ownerReferences"), i, ref)
    {
        if (json_is_true(json_object_get(ref, "controller"))) {
            owner = json_string_value(json_object_get(ref, "kind")) ?: "";
            owner_uid = json_string_value(json_object_get(ref, "uid")) ?: "";
        }
    }
    const json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
    const char *node = json_string_value(json_object_get(spec, "nodeName"));
    const char *phase = json_string_value(json_object_get(st, "phase"));
    json_object_set_new(out, "owner", json_string(owner));
    json_object_set_new(out, "owner_uid", json_string(owner_uid));
    json_object_set_new(out, "node", json_string(node ? node : ""));
    json_object_set_new(out, "phase", json_string(phase ? phase : ""));
    json_object_set_new(out, "ready", json_boolean(cr_condition(o, "Ready")));
    json_object_set_new(out, "deleting", json_boolean(json_object_get(md, "deletionTimestamp")));
    json_object_set_new(out, "index", json_integer(cr_pod_index(md, owner)));
}

static void cr_sum_job(const json_t *o, json_t *out)
{
    const json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
    const char *mode = json_string_value(json_object_get(spec, "completionMode"));
    json_object_set_new(out, "parallelism", json_integer(cr_int(spec, "parallelism", 1)));
    json_object_set_new(out, "completions", json_integer(cr_int(spec, "completions", -1)));
    json_object_set_new(out, "indexed", json_boolean(mode && strcmp(mode, "Indexed") == 0));
    json_object_set_new(out, "succeeded", json_integer(cr_int(st, "succeeded", 0)));
    json_object_set_new(out, "complete", json_boolean(cr_condition(o, "Complete")));
    json_object_set_new(out, "failed", json_boolean(cr_condition(o, "Failed")));
}

static void cr_sum_set(enum cr_kind kind, const json_t *o, json_t *out)
{
    const json_t *spec = json_object_get(o, "spec"), *st = json_object_get(o, "status");
    json_object_set_new(out, "replicas", json_integer(cr_int(spec, "replicas", 1)));
    if (kind == CR_RS) {
        json_object_set_new(out, "status_replicas", json_integer(cr_int(st, "replicas", 0)));
        return;
    }
    const char *policy = json_string_value(json_object_get(spec, "podManagementPolicy"));
    json_object_set_new(out, "ordered", json_boolean(!policy || strcmp(policy, "Parallel") != 0));
    json_object_set_new(out, "ready_replicas", json_integer(cr_int(st, "readyReplicas", 0)));
}

/* The summary chaos_ctl.c reads, and the object's revision; NULL if it
 * lacks a name, uid or revision. */
static json_t *cr_summary(enum cr_kind kind, const json_t *o, uint64_t *rv)
{
    const json_t *md = json_object_get(o, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *uid = json_string_value(json_object_get(md, "uid"));
    const char *rvs = json_string_value(json_object_get(md, "resourceVersion"));
    *rv = rvs ? strtoull(rvs, NULL, 10) : 0;
    if (!name || !uid || !*rv)
        return NULL;
    json_t *out = json_pack("{s:s, s:s}", "name", name, "uid", uid);
    if (kind == CR_POD)
        cr_sum_pod(o, md, out);
    else if (kind == CR_JOB)
        cr_sum_job(o, out);
    else
        cr_sum_set(kind, o, out);
    return out;
}

/* ---------------------------------------------------------------- the recorders */

static void cr_delivered(struct cr_recorder *k, uint64_t rv)
{
    k->rv = rv;
    atomic_store(&k->seen, rv);
}

static void cr_pause(void)
{
    bench_sleep_ms(CR_RETRY_MS);
}

/* LIST: the "open" line with the items, and the revision; 0 if it failed. */
static uint64_t cr_list(struct cr_recorder *k)
{
    struct chaos_ctl_run *r = k->run;
    json_t *list = bench_get_json(r->api[k->server], cr_paths[k->kind], CR_HTTP_MS);
    const char *lrv = json_string_value(
        json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
    const json_t *items = json_object_get(list, "items");
    uint64_t rv = lrv ? strtoull(lrv, NULL, 10) : 0;
    if (rv == 0 || !json_is_array(items)) {
        json_decref(list);
        return 0;
    }
    json_t *out = json_array(), *line = cr_line(k);
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
    {
        uint64_t orv;
        json_t *sum = cr_summary(k->kind, it, &orv);
        if (sum)
            json_array_append_new(out, sum);
    }
    json_decref(list);
    json_object_set_new(line, "open", json_string("list"));
    json_object_set_new(line, "rv", cr_rv(rv));
    json_object_set_new(line, "items", out);
    char id[16];
    snprintf(id, sizeof id, "s%d", r->ids[k->server]);
    json_object_set_new(line, "server", json_string(id));
    cr_emit(r, line);
    return rv;
}

static struct httpc *cr_open(struct cr_recorder *k, uint64_t rv, int *status)
{
    char path[256];
    int timeout = CR_TIMEOUT_MIN_S + (int)chaos_rng_below(&k->rng, CR_TIMEOUT_SPAN_S);
    snprintf(path, sizeof path,
             "%s?watch=true&resourceVersion=%" PRIu64 "&allowWatchBookmarks=true"
             "&timeoutSeconds=%d",
             cr_paths[k->kind], rv, timeout);
    return chaos_stream_open(k->run->api[k->server], path, CR_HTTP_MS, status);
}

/* One event line; -1 when the stream must end (an ERROR: 410 sets
 * *expired). */
/* A BOOKMARK's or an event's line (sum NULL for a bookmark), and its
 * revision noted as delivered. */
static void cr_write(struct cr_recorder *k, const char *type, uint64_t rv, json_t *sum)
{
    json_t *line = cr_line(k);
    json_object_set_new(line, "type", json_string(type));
    json_object_set_new(line, "rv", cr_rv(rv));
    if (sum)
        json_object_set_new(line, "object", sum);
    cr_emit(k->run, line);
    cr_delivered(k, rv);
}

static int cr_event(struct cr_recorder *k, const char *text, size_t len, bool *expired)
{
    json_t *ev = json_loadb(text, len, 0, NULL), *obj = json_object_get(ev, "object");
    const char *type = json_string_value(json_object_get(ev, "type"));
    int rc = 0;
    uint64_t rv = 0;
    if (!type) {
        /* not an event */
    } else if (strcmp(type, "ERROR") == 0) {
        *expired = json_integer_value(json_object_get(obj, "code")) == 410;
        rc = -1;
    } else if (strcmp(type, "BOOKMARK") == 0) {
        const char *rvs = json_string_value(
            json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
        if (rvs && (rv = strtoull(rvs, NULL, 10)) > 0)
            cr_write(k, type, rv, NULL);
    } else {
        json_t *sum = cr_summary(k->kind, obj, &rv);
        if (sum)
            cr_write(k, type, rv, sum);
    }
    json_decref(ev);
    return rc;
}

static int cr_line_fn(void *ctx, const char *text, size_t len, int64_t t)
{
    struct cr_recorder *k = ctx;
    (void)t;
    return cr_event(k, text, len, &k->expired) < 0;
}

/* Reads one stream to its end; why it ended. */
static const char *cr_read(struct cr_recorder *k, struct httpc *h)
{
    static const char *const why[] = {"eof", "broken", "silent", "stop"};
    int rc = chaos_stream_read(h, &k->pending, k->chunk, CR_READ, &k->run->stop, CR_SILENT_MS,
                               cr_line_fn, k);
    return rc > 0 ? (k->expired ? "expired" : "error") : why[-rc];
}

/* One stream: listed first when there is nothing to resume from, read to
 * its end, closed; the next one goes to the next server. */
static void cr_stream(struct cr_recorder *k)
{
    struct chaos_ctl_run *r = k->run;
    if (k->rv == 0) {
        uint64_t rv = cr_list(k);
        if (rv == 0) {
            k->server = (k->server + 1) % r->n;
            cr_pause();
            return;
        }
        cr_delivered(k, rv);
    }
    int status;
    struct httpc *h = cr_open(k, k->rv, &status);
    k->expired = status == 410;
    const char *why = k->expired ? "expired" : "refused";
    if (h) {
        json_t *line = cr_line(k);
        char id[16];
        snprintf(id, sizeof id, "s%d", r->ids[k->server]);
        json_object_set_new(line, "open", json_string("resume"));
        json_object_set_new(line, "rv", cr_rv(k->rv));
        json_object_set_new(line, "server", json_string(id));
        cr_emit(r, line);
        why = cr_read(k, h);
        httpc_free(h);
    }
    json_t *line = cr_line(k);
    if (k->expired) {
        json_object_set_new(line, "expired", cr_rv(k->rv));
        k->rv = 0;
    } else {
        json_object_set_new(line, "close", json_string(why));
    }
    cr_emit(r, line);
    k->server = (k->server + 1) % r->n;
    if (!h)
        cr_pause();
}

static void *cr_thread(void *arg)
{
    struct cr_recorder *k = arg;
    k->chunk = xmalloc(CR_READ);
    while (!atomic_load(&k->run->stop))
        cr_stream(k);
    free(k->chunk);
    ubuf_free(&k->pending);
    return NULL;
}

/* ---------------------------------------------------------------- the driver */

struct cr_driver {
    struct chaos_ctl_run *r;
    struct chaos_rng rng;
    int server;
    struct httpc *h;
    int jobs;
};

/* One change, tried on each server in turn while the answer is no answer
 * or a 5xx; written down as a driver line. */
static void cr_change(struct cr_driver *d, const char *what, const char *method,
                      const char *path, const char *ctype, const char *body)
{
    struct chaos_ctl_run *r = d->r;
    int status = 0;
    for (int tries = 0; tries < r->n && !atomic_load(&r->stop_driver); tries++) {
        if (!d->h)
            d->h = httpc_new(r->api[d->server]);
        status = d->h ? bench_http_call(d->h, method, path, NULL, ctype, body, CR_HTTP_MS, NULL)
                      : 0;
        if (status != 0 && status < 500)
            break;
        httpc_free(d->h);
        d->h = NULL;
        d->server = (d->server + 1) % r->n;
    }
    char id[16];
    snprintf(id, sizeof id, "s%d", r->ids[d->server]);
    cr_emit(r, json_pack("{s:I, s:s, s:s, s:i}", "t", (json_int_t)chaos_now_ns(), "driver", what,
                         "server", id, "status", status));
}

static const char *const cr_container =
    "\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.9\","
    "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"}}}]";

static void cr_create_set(struct cr_driver *d, const char *kind, const char *name, int replicas,
                          const char *extra)
{
    char body[1024], path[128], what[96];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"%s\",\"metadata\":{\"name\":\"%s\"},"
             "\"spec\":{\"replicas\":%d,%s\"selector\":{\"matchLabels\":{\"app\":\"%s\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"%s\"}},\"spec\":{%s}}}}",
             kind, name, replicas, extra, name, name, cr_container);
    snprintf(path, sizeof path, "/apis/apps/v1" CR_NS "/%ss",
             strcmp(kind, "StatefulSet") == 0 ? "statefulset" : "replicaset");
    snprintf(what, sizeof what, "create %s %s with %d replicas", kind, name, replicas);
    cr_change(d, what, "POST", path, "application/json", body);
}

static void cr_scale(struct cr_driver *d, const char *resource, const char *name, int replicas)
{
    char body[64], path[160], what[96];
    snprintf(body, sizeof body, "{\"spec\":{\"replicas\":%d}}", replicas);
    snprintf(path, sizeof path, "/apis/apps/v1" CR_NS "/%ss/%s", resource, name);
    snprintf(what, sizeof what, "scale %s %s to %d", resource, name, replicas);
    cr_change(d, what, "PATCH", path, "application/merge-patch+json", body);
}

static void cr_create_job(struct cr_driver *d)
{
    int completions = 1 + (int)chaos_rng_below(&d->rng, 5);
    int parallelism = 1 + (int)chaos_rng_below(&d->rng, 3);
    bool indexed = chaos_rng_below(&d->rng, 2);
    char body[1024], what[96];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"job-%d\"},"
             "\"spec\":{\"completions\":%d,\"parallelism\":%d,\"completionMode\":\"%s\","
             "\"template\":{\"metadata\":{\"annotations\":"
             "{\"bosun.dev/hollow-run-seconds\":\"1\"}},"
             "\"spec\":{\"restartPolicy\":\"Never\",%s}}}}",
             d->jobs, completions, parallelism, indexed ? "Indexed" : "NonIndexed", cr_container);
    snprintf(what, sizeof what, "create job job-%d: %d completions, parallelism %d, %s", d->jobs,
             completions, parallelism, indexed ? "Indexed" : "NonIndexed");
    d->jobs++;
    cr_change(d, what, "POST", "/apis/batch/v1" CR_NS "/jobs", "application/json", body);
}

static void *cr_driver_thread(void *arg)
{
    struct chaos_ctl_run *r = arg;
    struct cr_driver d = {.r = r, .rng = {r->seed ^ 0x5bd1e995u}};
    cr_create_set(&d, "StatefulSet", "sts-a", 2,
                  "\"serviceName\":\"sts-a\",\"podManagementPolicy\":\"OrderedReady\",");
    cr_create_set(&d, "StatefulSet", "sts-b", 3,
                  "\"serviceName\":\"sts-b\",\"podManagementPolicy\":\"Parallel\",");
    cr_create_set(&d, "ReplicaSet", "rs-a", 3, "");
    cr_create_set(&d, "ReplicaSet", "rs-b", 2, "");
    while (!atomic_load(&r->stop_driver)) {
        int64_t next = chaos_now_ns() + (200 + (int64_t)chaos_rng_below(&d.rng, 600)) * 1000000;
        while (!atomic_load(&r->stop_driver) && chaos_now_ns() < next)
            bench_sleep_ms(20);
        if (atomic_load(&r->stop_driver))
            break;
        int what = (int)chaos_rng_below(&d.rng, 10);
        const char *name = chaos_rng_below(&d.rng, 2) ? "a" : "b";
        char set[8];
        if (what < 4) {
            snprintf(set, sizeof set, "sts-%s", name);
            cr_scale(&d, "statefulset", set, (int)chaos_rng_below(&d.rng, 5));
        } else if (what < 7 || d.jobs >= CR_MAX_JOBS) {
            snprintf(set, sizeof set, "rs-%s", name);
            cr_scale(&d, "replicaset", set, (int)chaos_rng_below(&d.rng, 7));
        } else {
            cr_create_job(&d);
        }
    }
    httpc_free(d.h);
    return NULL;
}

/* ---------------------------------------------------------------- the nodes */

static int cr_agent_start(struct chaos_ctl_run *r, const struct chaos_cluster *c)
{
    struct ubuf urls = {0};
    for (int i = 0; i < c->n; i++)
        ubuf_appendf(&urls, "%s%s", i ? "," : "", c->servers[i].api);
    ubuf_append(&urls, "", 1);
    char count[16];
    snprintf(count, sizeof count, "%d", CR_NODES);
    const char *argv[] = {c->bin, "agent", "--hollow", count, "--server",
                          urls.data, "--name-prefix", CR_NODE_PREFIX, "--workers", "8",
                          "--metrics-interval", "0", NULL};
    int n = (int)(sizeof argv / sizeof *argv);
    r->agent.argv = xcalloc((size_t)n, sizeof *r->agent.argv);
    for (int i = 0; i < n - 1; i++)
        r->agent.argv[i] = xstrdup(argv[i]);
    ubuf_free(&urls);
    r->agent.envp = environ;
    struct ubuf log = {0};
    ubuf_appendf(&log, "%s/agent.log%c", c->dir, '\0');
    r->agent.log = log.data;
    return chaos_server_spawn(&r->agent);
}

static void cr_agent_stop(struct chaos_ctl_run *r)
{
    if (r->agent.pid > 0) {
        kill(r->agent.pid, SIGTERM);
        int st;
        int64_t deadline = chaos_now_ns() + CR_AGENT_GRACE_MS * 1000000LL;
        while (waitpid(r->agent.pid, &st, WNOHANG) == 0) {
            if (chaos_now_ns() > deadline) {
                kill(r->agent.pid, SIGKILL);
                waitpid(r->agent.pid, &st, 0);
                break;
            }
            bench_sleep_ms(50);
        }
        r->agent.pid = 0;
    }
    for (int i = 0; r->agent.argv && r->agent.argv[i]; i++)
        free(r->agent.argv[i]);
    free(r->agent.argv);
    free(r->agent.log);
    r->agent.argv = NULL;
    r->agent.log = NULL;
}

/* Attached to a cluster that goes on: the hollow nodes leave it. */
static void cr_nodes_delete(struct chaos_ctl_run *r)
{
    for (int i = 0; i < CR_NODES; i++) {
        char path[96];
        snprintf(path, sizeof path, "/api/v1/nodes/" CR_NODE_PREFIX "%04d", i);
        for (int s = 0; s < r->n; s++) {
            struct httpc *h = httpc_new(r->api[s]);
            int status = h ? bench_http_call(h, "DELETE", path, NULL, NULL, NULL, CR_HTTP_MS, NULL)
                           : 0;
            httpc_free(h);
            if (status == 200 || status == 404)
                break;
        }
    }
}

/* ---------------------------------------------------------------- life */

struct chaos_ctl_run *chaos_ctl_start(const struct chaos_cluster *c, const char *path,
                                      uint64_t seed, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    struct chaos_ctl_run *r = xcalloc(1, sizeof *r);
    r->n = c->n;
    r->f = f;
    r->seed = seed;
    r->attached = c->attached;
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->stop, false);
    atomic_init(&r->stop_driver, false);
    for (int i = 0; i < c->n; i++) {
        snprintf(r->api[i], sizeof r->api[i], "%s", c->servers[i].api);
        r->ids[i] = c->servers[i].id;
    }
    if (cr_agent_start(r, c) != 0) {
        snprintf(err, errlen, "cannot start the hollow nodes (bosun agent)");
        chaos_ctl_stop(r);
        return NULL;
    }
    for (int k = 0; k < CR_NKIND; k++) {
        struct cr_recorder *rec = &r->rec[k];
        rec->run = r;
        rec->kind = (enum cr_kind)k;
        rec->server = k % c->n;
        rec->rng.s = seed * 0x9e3779b97f4a7c15ull + (uint64_t)k + 1;
        atomic_init(&rec->seen, 0);
        rec->started = pthread_create(&rec->thread, NULL, cr_thread, rec) == 0;
    }
    /* The driver starts once every recorder has listed, so the record
     * holds the workload's objects from their creation. */
    for (int t = 0; t < 100; t++) {
        bool all = true;
        for (int k = 0; k < CR_NKIND; k++)
            all &= atomic_load(&r->rec[k].seen) > 0;
        if (all)
            break;
        bench_sleep_ms(100);
    }
    r->driver_started = pthread_create(&r->driver, NULL, cr_driver_thread, r) == 0;
    return r;
}

void chaos_ctl_stop_driver(struct chaos_ctl_run *r)
{
    if (!r || atomic_exchange(&r->stop_driver, true))
        return;
    if (r->driver_started)
        pthread_join(r->driver, NULL);
    r->driver_started = false;
}

/* What is not settled yet in one server's lists, in words ("" if all is). */
static void cr_pending(const char *api, struct ubuf *why)
{
    for (int k = CR_JOB; k < CR_NKIND; k++) {
        json_t *list = bench_get_json(api, cr_paths[k], CR_HTTP_MS);
        const json_t *items = json_object_get(list, "items"), *o;
        size_t i;
        if (!json_is_array(items))
            ubuf_appendf(why, "%s list unreadable; ", cr_kinds[k]);
        json_array_foreach(items, i, o)
        {
            const json_t *md = json_object_get(o, "metadata"), *spec = json_object_get(o, "spec");
            const json_t *st = json_object_get(o, "status");
            const char *name = json_string_value(json_object_get(md, "name"));
            bool done;
            if (k == CR_JOB) {
                done = cr_condition(o, "Complete") || cr_condition(o, "Failed");
            } else {
                int want = cr_int(spec, "replicas", 1);
                done = cr_int(st, "replicas", 0) == want && cr_int(st, "readyReplicas", 0) == want &&
                       cr_int(st, "observedGeneration", 0) == cr_int(md, "generation", 0);
            }
            if (!done)
                ubuf_appendf(why, "%s %s; ", cr_kinds[k], name ? name : "?");
        }
        json_decref(list);
    }
    json_t *pods = bench_get_json(api, cr_paths[CR_POD], CR_HTTP_MS);
    const json_t *o;
    size_t i;
    json_array_foreach(json_object_get(pods, "items"), i, o)
    {
        const json_t *md = json_object_get(o, "metadata");
        const char *node =
            json_string_value(json_object_get(json_object_get(o, "spec"), "nodeName"));
        if (json_object_get(md, "deletionTimestamp") || !node || !*node)
            ubuf_appendf(why, "pod %s; ", json_string_value(json_object_get(md, "name")) ?: "?");
    }
    if (!pods)
        ubuf_appendf(why, "Pod list unreadable; ");
    json_decref(pods);
}

bool chaos_ctl_settle(struct chaos_ctl_run *r, int ms, const volatile sig_atomic_t *stop,
                      struct ubuf *notes)
{
    int64_t t0 = chaos_now_ns(), deadline = t0 + (int64_t)ms * 1000000;
    struct ubuf why = {0};
    bool settled = false;
    for (int s = 0; !*stop && !settled; s = (s + 1) % r->n) {
        why.len = 0;
        cr_pending(r->api[s], &why);
        settled = why.len == 0;
        if (settled || chaos_now_ns() > deadline)
            break;
        chaos_sleep_until(chaos_now_ns() + 500000000, stop);
    }
    ubuf_append(&why, "", 1);
    if (settled)
        ubuf_appendf(notes, "controllers: settled %.1f s after healing\n",
                     (double)(chaos_now_ns() - t0) / 1e9);
    else if (!*stop)
        ubuf_appendf(notes, "controllers: not settled within %d s of healing: %s\n", ms / 1000,
                     why.data);
    ubuf_free(&why);
    /* The recorders catch up with the revision of now. */
    uint64_t target = 0;
    for (int i = 0; i < r->n; i++) {
        json_t *st = tools_status_fetch(r->api[i], CR_HTTP_MS);
        uint64_t rev = (uint64_t)json_integer_value(json_object_get(st, "revision"));
        target = rev > target ? rev : target;
        json_decref(st);
    }
    int64_t until = chaos_now_ns() + 15000000000LL;
    bool caught = false;
    while (!*stop && !caught && chaos_now_ns() < until) {
        caught = true;
        for (int k = 0; k < CR_NKIND; k++)
            caught &= atomic_load(&r->rec[k].seen) >= target;
        if (!caught)
            chaos_sleep_until(chaos_now_ns() + 50000000, stop);
    }
    if (!caught && !*stop)
        ubuf_appendf(notes, "controllers: a recorder did not reach rv %" PRIu64 " within 15 s\n",
                     target);
    cr_agent_stop(r); /* its Lease renewals would keep the servers' digests moving */
    if (r->attached)
        cr_nodes_delete(r);
    return settled && caught;
}

int chaos_ctl_stop(struct chaos_ctl_run *r)
{
    if (!r)
        return 0;
    chaos_ctl_stop_driver(r);
    atomic_store(&r->stop, true);
    for (int k = 0; k < CR_NKIND; k++)
        if (r->rec[k].started)
            pthread_join(r->rec[k].thread, NULL);
    cr_agent_stop(r);
    int rc = r->failed ? -1 : 0;
    if (fclose(r->f) != 0)
        rc = -1;
    pthread_mutex_destroy(&r->mu);
    free(r);
    return rc;
}
