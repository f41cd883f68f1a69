/* runtime.c — the controllers' shared runtime (see controllers.h): one
 * thread that, while this server leads, follows the replica's change stream,
 * feeds it to the controllers, and syncs the keys they queue.
 *
 * The work queue (queue.c) is deduplicated (a key queued twice is synced
 * once) and a key whose sync fails is retried after a backoff that doubles
 * from 100 ms up to 10 s. On losing leadership the queue is dropped; the
 * next leader starts from its own replica with a full pass, so nothing is
 * lost: the controllers are level-triggered and idempotent.
 *
 * Each turn of the loop (lead_turn) takes a step of the full pass under
 * way, offers the new changes, and runs a round of syncs; steps and rounds
 * are cut at CTL_ROUND_MS when other work waits, so that nothing waits for
 * a whole pass or queue. */
#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/codec.h"
#include "controllers/ctl_internal.h"
#include "httpc/httpc.h"
#include "server/server.h"
#include "util/util.h"

#define CTL_BACKOFF_MIN_MS 100
#define CTL_BACKOFF_MAX_MS 10000
#define CTL_API_TIMEOUT_MS 10000
#define CTL_EVENT_BATCH 256
#define CTL_SLOW_SYNC_MS 200 /* a sync this long is logged */
/* When writes outrun a short change log (--watch-history), the cursor
 * falls off it again and again; a full pass per loop then eats a core the
 * scheduler needs. So at most one such pass a second: the changes skipped
 * in between are covered by the pass that follows. */
#define CTL_PASS_GAP_MS 1000
/* After the first change that wakes it, the loop waits this long for more
 * before a round: 5,000 hollow nodes renew 500 Leases a second, one entry
 * each, and a round per change cost the leader a thread wake-up and a read
 * transaction per write. Kubernetes' informers deliver in batches too. */
#define CTL_SETTLE_MS 10
/* A round of syncs, and a step of a full pass, ends after this long if
 * there is more to do, so that a change (a new ReplicaSet, say) waits for
 * at most one sync in progress, not for a whole pass or queue: a new
 * leader's full pass of a large cluster takes a few hundred ms. */
#define CTL_ROUND_MS 20

/* A full pass goes through them in this order, and each starts work as
 * soon as its own part of the pass is done (see pass_step): the ones that
 * keep workloads running come first, garbage last. */
static const struct ctl_def *const defs[] = {
    &ctl_replicaset,    &ctl_deployment,         &ctl_statefulset,    &ctl_job,
    &ctl_daemonset,     &ctl_node_lifecycle,     &ctl_taint_eviction, &ctl_endpoints,
    &ctl_endpointslice, &ctl_volume_binder,      &ctl_cronjob,        &ctl_autoscaler,
    &ctl_namespace,     &ctl_service_account,    &ctl_kubernetes_service, &ctl_pvc_protection,
    &ctl_pv_protection, &ctl_disruption,         &ctl_pod_gc,             &ctl_garbage_collector};
#define N_DEFS (sizeof defs / sizeof defs[0])

struct ctl {
    struct controllers_config cfg;
    struct httpc *http;
    struct httpc *pool[CTL_API_PARALLEL]; /* ctl_api_many's connections, made on first use */
    struct ctl_queue queue;
    struct ctl_correlator correlator; /* which Events to write (events.c) */
    void *state[N_DEFS]; /* each controller's own, while leading */
    struct ctl_pod_cache *pods; /* kept warm on a follower too (podcache.c) */
    json_t **events; /* recorded, not yet written (ctl_events_flush) */
    int current; /* the controller being called (index in defs), or -1 */
    bool in_pass; /* a resync is being called: what it queues is bulk */
    /* The full pass under way goes on at defs[pass_next] (N_DEFS: none is).
     * A controller is offered changes and synced only once its own resync
     * has run since this server became leader: before that, its state is
     * not built, and the resync, which reads the replica afresh, covers
     * every change it was not offered. */
    unsigned pass_next;
    bool resynced[N_DEFS];
    bool first_pass;
    uint64_t lead_t0_ms; /* when this server's controllers started leading */
    bool acted;          /* a key was synced since */
    uint64_t pass_t0_ms, pass_slowest_ms;
    const char *pass_slowest;
    size_t n_events, cap_events;
    uint64_t cursor; /* changes up to here were offered */
    uint64_t next_resync_ms;
    uint64_t next_warm_ms; /* a follower's next pod cache catch-up */
    uint64_t last_pass_ms;
    bool pass_due; /* the change log moved past the cursor: a full pass must follow */
    /* While follow_changes offers changes: its read transaction, which the
     * lookups of on_change share (ctl_read_begin), and the previous owner
     * of the change at hand, worked out once for every controller. */
    struct store_read *offering;
    struct ctl_prev_owner prev_owner;
    struct ctl_selecting_memo selecting; /* this batch's (ctl_enqueue_selecting) */
};

struct controllers {
    struct ctl ctl;
    pthread_t thread;
    volatile int stop;
    bool leading; /* this server's controllers lead (lead_begin ran) */
    /* The pod cache's figures, published by the thread for /metrics. */
    _Atomic size_t cache_pods;
    _Atomic uint64_t cache_rev;
};

/* ---- the queue ---- */

static unsigned def_index(const char *name)
{
    for (unsigned i = 0; i < N_DEFS; i++)
        if (strcmp(defs[i]->name, name) == 0)
            return i;
    assert(!"no controller of that name");
    return 0;
}

void ctl_enqueue_after(struct ctl *c, const char *controller, const char *resource,
                       const char *ns, const char *name, unsigned delay_ms)
{
    char key[800];
    snprintf(key, sizeof key, "%s/%s/%s", resource, ns ? ns : "", name);
    ctl_queue_add(&c->queue, def_index(controller), key,
                  delay_ms ? util_now_ms() + delay_ms : 0, c->in_pass, 0);
}

void ctl_enqueue(struct ctl *c, const char *controller, const char *resource, const char *ns,
                 const char *name)
{
    ctl_enqueue_after(c, controller, resource, ns, name, 0);
}

struct enqueue_all {
    struct ctl *c;
    const char *controller, *resource;
};

static int enqueue_one(void *arg, const struct store_obj *o)
{
    struct enqueue_all *ea = arg;
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)o->ns_len, o->ns);
    snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
    ctl_enqueue(ea->c, ea->controller, ea->resource, ns, name);
    return 0;
}

void ctl_enqueue_all(struct ctl *c, const char *controller, const char *resource)
{
    struct store_read r;
    if (store_read_begin(c->cfg.store, &r) != 0)
        return;
    struct enqueue_all ea = {c, controller, resource};
    store_list(&r, resource, NULL, enqueue_one, &ea);
    store_read_end(&r);
}

bool ctl_is_resource(const struct store_obj *o, const char *resource)
{
    return o->resource_len == strlen(resource) &&
           memcmp(o->resource, resource, o->resource_len) == 0;
}

void **ctl_state(struct ctl *c, const char *controller)
{
    return &c->state[def_index(controller)];
}

struct ctl_pod_cache *ctl_pod_cache(struct ctl *c)
{
    if (!c->pods)
        c->pods = ctl_pod_cache_new();
    return c->pods;
}

/* The controllers' own state goes with leadership; the pod cache stays
 * (see follow_idle). */
static void state_clear(struct ctl *c)
{
    for (unsigned i = 0; i < N_DEFS; i++)
        if (c->state[i] && defs[i]->free_state) {
            defs[i]->free_state(c->state[i]);
            c->state[i] = NULL;
        }
}

static void queue_clear(struct ctl *c)
{
    for (size_t i = 0; i < c->n_events; i++)
        json_decref(c->events[i]);
    c->n_events = 0;
    ctl_queue_clear(&c->queue);
}

/* Syncs one key; a failure queues it again after its backoff. */
static void sync_one(struct ctl *c, const struct ctl_work *w)
{
    char buf[800];
    snprintf(buf, sizeof buf, "%s", w->key);
    char *res = buf, *ns = strchr(res, '/'), *name = ns ? strchr(ns + 1, '/') : NULL;
    if (!ns || !name)
        return;
    *ns++ = '\0';
    *name++ = '\0';
    uint64_t t0 = util_now_ms();
    c->current = (int)w->def;
    bool ok = defs[w->def]->sync(c, res, ns, name);
    c->current = -1;
    uint64_t took = util_now_ms() - t0;
    if (took >= CTL_SLOW_SYNC_MS)
        LOG_INFO("controllers: %s: sync of %s/%s/%s took %llu ms", defs[w->def]->name, res, ns,
                 name, (unsigned long long)took);
    if (!ok) {
        unsigned b = w->backoff_ms ? w->backoff_ms * 2 : CTL_BACKOFF_MIN_MS;
        b = b > CTL_BACKOFF_MAX_MS ? CTL_BACKOFF_MAX_MS : b;
        ctl_queue_add(&c->queue, w->def, w->key, util_now_ms() + b, w->bulk, b);
    }
}

/* Whether a round of syncs should make way: a full pass is under way or
 * changes wait to be offered. */
static bool other_work(struct ctl *c)
{
    return c->pass_next < N_DEFS || store_revision(c->cfg.store) > c->cursor;
}

/* Syncs the due keys; after CTL_ROUND_MS, if there is other work, the
 * keys left go back to the queue, as due as they were. The due keys leave
 * the queue first, so a sync may queue its own key again (for later).
 * Returns how many were synced; *more says whether due keys are left. */
static size_t queue_run(struct ctl *c, bool *more)
{
    size_t n_due, k = 0;
    struct ctl_work *due = ctl_queue_take_due(&c->queue, util_now_ms(), c->resynced, &n_due);
    uint64_t t0 = util_now_ms();
    for (; k < n_due && !(k && util_now_ms() - t0 >= CTL_ROUND_MS && other_work(c)); k++) {
        sync_one(c, &due[k]);
        free(due[k].key);
    }
    *more = k < n_due;
    for (size_t i = k; i < n_due; i++) {
        ctl_queue_add(&c->queue, due[i].def, due[i].key, due[i].not_before_ms, due[i].bulk,
                      due[i].backoff_ms);
        free(due[i].key);
    }
    free(due);
    return k;
}

/* ---- reading the replica ---- */

struct store *ctl_store(struct ctl *c)
{
    return c->cfg.store;
}

struct store_read *ctl_read_begin(struct ctl *c, struct store_read *own)
{
    if (c->offering)
        return c->offering;
    return store_read_begin(c->cfg.store, own) == 0 ? own : NULL;
}

void ctl_read_end(struct store_read *r, struct store_read *own)
{
    if (r && r == own)
        store_read_end(own);
}

struct ctl_selecting_memo *ctl_selecting_memo(struct ctl *c)
{
    return c->offering ? &c->selecting : NULL;
}

struct ctl_prev_owner *ctl_prev_owner(struct ctl *c)
{
    return &c->prev_owner;
}

unsigned ctl_node_grace_ms(struct ctl *c)
{
    return c->cfg.node_grace_ms ? c->cfg.node_grace_ms : 40000;
}

struct each_ctx {
    struct ctl *c;
    const char *resource;
    const char *needle;
    size_t needle_len;
    ctl_obj_fn fn;
    void *arg;
};

static int each_one(void *arg, const struct store_obj *o)
{
    struct each_ctx *ec = arg;
    if (ec->needle && !ec->needle_len) {
        ec->fn(ec->c, ec->arg, ec->resource, o, NULL);
        return 0;
    }
    /* The needle's bytes appear as they are in the msgpack encoding (keys
     * and strings are stored verbatim): objects without them are skipped
     * undecoded, which makes the full passes cheap. */
    if (ec->needle && !memmem(o->obj, o->obj_len, ec->needle, ec->needle_len))
        return 0;
    json_t *obj = codec_msgpack_to_json(o->obj, o->obj_len);
    if (obj)
        ec->fn(ec->c, ec->arg, ec->resource, o, obj);
    json_decref(obj);
    return 0;
}

void ctl_each_object(struct ctl *c, const char *ns, const char *needle, ctl_obj_fn fn, void *arg)
{
    const char *plural;
    bool namespaced;
    for (unsigned i = 0; server_resource_at(i, &plural, &namespaced); i++) {
        if (ns && !namespaced)
            continue;
        struct store_read r;
        if (store_read_begin(c->cfg.store, &r) != 0)
            return;
        struct each_ctx ec = {c, plural, needle, needle ? strlen(needle) : 0, fn, arg};
        store_list(&r, plural, ns, each_one, &ec);
        store_read_end(&r);
    }
}

struct offer_ctx {
    struct ctl *c;
    unsigned n;
};

bool ctl_obj_has(const struct store_obj *o, const char *s)
{
    return memmem(o->obj, o->obj_len, s, strlen(s)) != NULL;
}

static int offer_change(void *arg, const struct store_event *e)
{
    struct offer_ctx *oc = arg;
    oc->c->cursor = e->rev;
    bool want[N_DEFS] = {0}, any = false, whole = false;
    bool pod = ctl_is_resource(&e->o, "pods");
    if (e->o.resource_len && e->o.resource[0] != '_') /* not internal records */
        for (unsigned i = 0; i < N_DEFS; i++) {
            want[i] = oc->c->resynced[i] && defs[i]->on_change &&
                      (!defs[i]->wants || defs[i]->wants(e));
            any |= want[i];
            whole |= want[i] && (!pod || !defs[i]->pod_head);
        }
    /* Every change goes by the pod cache (which must see each revision);
     * a pod decoded whole there serves the controllers too. Else the
     * cache keeps the bytes, and the controllers get what they read. */
    json_t *obj = oc->c->pods ? ctl_pod_cache_offer(oc->c->pods, e, pod && whole) : NULL;
    if (!obj && any)
        obj = !pod ? codec_msgpack_to_json(e->o.obj, e->o.obj_len)
              : whole ? ctl_decode_pod(&e->o) /* as the pod cache would have given it */
                      : ctl_pod_head(&e->o);
    for (unsigned i = 0; obj && i < N_DEFS; i++)
        if (want[i]) {
            oc->c->current = (int)i;
            defs[i]->on_change(oc->c, e, obj);
            oc->c->current = -1;
        }
    json_decref(obj);
    return ++oc->n >= 4096;
}

/* Offers the changes after the cursor; false if the log moved past it (a
 * full pass must replace them). */
static bool follow_changes(struct ctl *c)
{
    struct store_read r;
    if (store_read_begin(c->cfg.store, &r) != 0)
        return true;
    struct offer_ctx oc = {c, 0};
    c->offering = &r;
    c->prev_owner.rev = 0;
    int rc = store_changes(&r, c->cursor, offer_change, &oc);
    c->offering = NULL;
    ctl_selecting_forget(&c->selecting);
    store_read_end(&r);
    return rc != STORE_GONE_ERR;
}

/* Starts a full pass: every controller's resync, in defs' order, a step
 * at a time (pass_step). Changes from here on are offered as usual. */
static void pass_begin(struct ctl *c, bool first)
{
    c->cursor = store_revision(c->cfg.store);
    c->pass_next = 0;
    c->first_pass = first;
    c->pass_t0_ms = util_now_ms();
    c->pass_slowest_ms = 0;
    c->pass_slowest = "";
    c->pass_due = false;
}

/* Runs the next resyncs of the pass under way, for CTL_ROUND_MS at most. */
static void pass_step(struct ctl *c)
{
    uint64_t t0 = util_now_ms();
    while (c->pass_next < N_DEFS && util_now_ms() - t0 < CTL_ROUND_MS) {
        unsigned i = c->pass_next++;
        uint64_t t = util_now_ms();
        c->current = (int)i;
        c->in_pass = true;
        if (defs[i]->resync)
            defs[i]->resync(c);
        c->in_pass = false;
        c->current = -1;
        c->resynced[i] = true;
        if (util_now_ms() - t > c->pass_slowest_ms) {
            c->pass_slowest_ms = util_now_ms() - t;
            c->pass_slowest = defs[i]->name;
        }
    }
    if (c->pass_next < N_DEFS)
        return;
    c->next_resync_ms = util_now_ms() + CTL_RESYNC_MS;
    c->last_pass_ms = util_now_ms();
    util_log(c->first_pass ? UTIL_LOG_INFO : UTIL_LOG_DEBUG,
             "controllers: full pass in %llu ms (slowest: %s, %llu ms), %zu keys queued",
             (unsigned long long)(util_now_ms() - c->pass_t0_ms), c->pass_slowest,
             (unsigned long long)c->pass_slowest_ms, c->queue.n);
}

/* ---- the API ---- */

int ctl_api(struct ctl *c, const char *method, const char *path, const char *content_type,
            json_t *body, json_t **out)
{
    char *data = body ? json_dumps(body, JSON_COMPACT) : NULL;
    char ct[160];
    snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type : "application/json");
    const char *headers[] = {ct, "User-Agent: bosun-controller-manager", NULL};
    struct httpc_response resp;
    int rc = httpc_request(c->http, method, path, headers, data, data ? strlen(data) : 0,
                           CTL_API_TIMEOUT_MS, &resp);
    free(data);
    if (out)
        *out = NULL;
    if (rc != 0)
        return -1;
    if (out && resp.body)
        *out = codec_json_load(resp.body, resp.body_len, 0, NULL);
    int status = resp.status;
    httpc_response_free(&resp);
    return status;
}

struct many_ctx {
    struct ctl *c;
    struct ctl_call *calls;
    size_t n;
    size_t next; /* taken with __atomic_fetch_add */
};

struct many_worker {
    struct many_ctx *m;
    struct httpc *http;
};

static void call_one(struct httpc *http, struct ctl_call *k)
{
    char *data = k->body ? json_dumps(k->body, JSON_COMPACT) : NULL;
    char ct[160];
    snprintf(ct, sizeof ct, "Content-Type: %s",
             k->content_type ? k->content_type : "application/json");
    const char *headers[] = {ct, "User-Agent: bosun-controller-manager", NULL};
    struct httpc_response resp;
    int rc = httpc_request(http, k->method, k->path, headers, data, data ? strlen(data) : 0,
                           CTL_API_TIMEOUT_MS, &resp);
    free(data);
    k->reply = NULL;
    k->status = rc == 0 ? resp.status : -1;
    if (rc == 0 && k->want_reply && resp.body)
        k->reply = codec_json_load(resp.body, resp.body_len, 0, NULL);
    if (rc == 0)
        httpc_response_free(&resp);
}

static void *many_run(void *arg)
{
    struct many_worker *w = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&w->m->next, 1, __ATOMIC_RELAXED);
        if (i >= w->m->n)
            return NULL;
        call_one(w->http, &w->m->calls[i]);
    }
}

void ctl_api_many(struct ctl *c, struct ctl_call *calls, size_t n)
{
    if (n == 0)
        return;
    unsigned k = n < CTL_API_PARALLEL ? (unsigned)n : CTL_API_PARALLEL;
    if (c->cfg.serial)
        k = 1;
    struct many_ctx m = {c, calls, n, 0};
    struct many_worker w[CTL_API_PARALLEL];
    pthread_t th[CTL_API_PARALLEL];
    bool started[CTL_API_PARALLEL] = {false};
    for (unsigned i = 0; i < k; i++) {
        if (!c->pool[i])
            c->pool[i] = httpc_new(c->cfg.api_url);
        w[i] = (struct many_worker){&m, c->pool[i]};
    }
    /* Worker 0 is this thread; the others are short-lived threads, each on
     * its own connection (httpc is not shared between threads). */
    for (unsigned i = 1; i < k; i++)
        started[i] = pthread_create(&th[i], NULL, many_run, &w[i]) == 0;
    many_run(&w[0]);
    for (unsigned i = 1; i < k; i++)
        if (started[i])
            pthread_join(th[i], NULL);
}

bool ctl_object_path(const char *resource, const char *ns, const char *name, char *buf,
                     size_t len)
{
    return server_resource_path(resource, ns, name, buf, len);
}

/* ---- events ---- */

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

void ctl_event(struct ctl *c, const char *resource, json_t *obj, const char *type,
               const char *reason, const char *fmt, ...)
{
    char given[1024], msg[1100], now[32], name[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(given, sizeof given, fmt, ap);
    va_end(ap);
    json_t *md = json_object_get(obj, "metadata");
    const char *ns = *jstr(md, "namespace") ? jstr(md, "namespace") : "default";
    const char *component = c->current >= 0 && defs[c->current]->component
                                ? defs[c->current]->component
                                : "bosun-controller-manager";
    struct ctl_event_about about = {component, jstr(obj, "kind"), jstr(obj, "apiVersion"),
                                    jstr(md, "namespace"), jstr(md, "name"), jstr(md, "uid"),
                                    type, reason, given};
    if (!ctl_correlate(&c->correlator, &about, util_wall_ms(), msg, sizeof msg, name,
                       sizeof name))
        return; /* the spam filter's */
    util_time_rfc3339(now, sizeof now);
    /* A repeat within the batch only bumps the pending event's count. */
    for (size_t i = 0; i < c->n_events; i++) {
        json_t *p = c->events[i];
        json_t *pmd = json_object_get(p, "metadata");
        if (strcmp(jstr(pmd, "name"), name) == 0 && strcmp(jstr(pmd, "namespace"), ns) == 0) {
            json_int_t n = json_integer_value(json_object_get(p, "count"));
            json_object_set_new(p, "count", json_integer(n + 1));
            json_object_set_new(p, "lastTimestamp", json_string(now));
            json_object_set_new(p, "message", json_string(msg)); /* a combined one's latest */
            return;
        }
    }
    json_t *ev = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:{s:s},"
        " s:s, s:s, s:i, s:s, s:s}",
        "apiVersion", "v1", "kind", "Event", "metadata", "name", name, "namespace", ns,
        "involvedObject", "kind", jstr(obj, "kind"), "apiVersion", jstr(obj, "apiVersion"),
        "name", jstr(md, "name"), "namespace", jstr(md, "namespace"), "uid", jstr(md, "uid"),
        "resourceVersion", jstr(md, "resourceVersion"), "reason", reason, "message", msg, "type",
        type, "source", "component", component, "firstTimestamp", now, "lastTimestamp", now,
        "count", 1, "reportingComponent", component, "reportingInstance", "bosun");
    if (c->n_events == c->cap_events) {
        c->cap_events = c->cap_events ? c->cap_events * 2 : 64;
        c->events = xrealloc(c->events, c->cap_events * sizeof *c->events);
    }
    c->events[c->n_events++] = ev;
    (void)resource;
    if (c->n_events >= CTL_EVENT_BATCH)
        ctl_events_flush(c);
}

/* An event seen before (409 on create): add the pending count to it. */
static int event_bump(struct ctl *c, json_t *ev)
{
    json_t *md = json_object_get(ev, "metadata"), *cur = NULL;
    char path[1024];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/events/%s", jstr(md, "namespace"),
             jstr(md, "name"));
    int st = ctl_api(c, "GET", path, NULL, NULL, &cur);
    if (st == 200 && cur) {
        json_int_t n = json_integer_value(json_object_get(cur, "count"));
        json_int_t add = json_integer_value(json_object_get(ev, "count"));
        json_object_set_new(cur, "count", json_integer(n + (add > 0 ? add : 1)));
        json_object_set(cur, "lastTimestamp", json_object_get(ev, "lastTimestamp"));
        json_object_set(cur, "message", json_object_get(ev, "message"));
        st = ctl_api(c, "PUT", path, NULL, cur, NULL);
    }
    json_decref(cur);
    return st;
}

void ctl_events_flush(struct ctl *c)
{
    size_t n = c->n_events;
    if (!n)
        return;
    struct ctl_call *calls = xcalloc(n, sizeof *calls);
    for (size_t i = 0; i < n; i++) {
        json_t *md = json_object_get(c->events[i], "metadata");
        calls[i].method = "POST";
        snprintf(calls[i].path, sizeof calls[i].path, "/api/v1/namespaces/%s/events",
                 jstr(md, "namespace"));
        calls[i].body = c->events[i];
    }
    ctl_api_many(c, calls, n);
    for (size_t i = 0; i < n; i++) {
        int st = calls[i].status;
        if (st == 409)
            st = event_bump(c, c->events[i]);
        if (st != 201 && st != 200)
            LOG_WARN("controllers: cannot record event %s on %s: %d",
                     jstr(c->events[i], "reason"),
                     jstr(json_object_get(c->events[i], "involvedObject"), "name"), st);
        json_decref(c->events[i]);
    }
    free(calls);
    c->n_events = 0;
}

/* ---- the thread ---- */

/* A new leader's log holds every committed entry (Raft's election rule),
 * but its replica may not have applied them yet: a controller acting on
 * it could, say, create a pod the last leader already created. So the
 * controllers start only once this replica has applied up to a read
 * index, as a linearizable read would. */
static bool caught_up(struct ctl *c)
{
    struct cluster_result res;
    cluster_read_index(c->cfg.cluster, CTL_API_TIMEOUT_MS, &res);
    if (res.code != CLUSTER_OK)
        return false;
    return store_wait_index(c->cfg.store, res.index, CTL_API_TIMEOUT_MS);
}

static int stop_at_first(void *arg, const struct store_obj *o)
{
    (void)o;
    *(bool *)arg = true;
    return 1;
}

/* Whether this replica holds any object that owns pods through a
 * controller that reads the pod cache. */
static bool pod_owners_exist(struct ctl *c)
{
    static const char *const owners[] = {"replicasets", "statefulsets", "jobs", "daemonsets"};
    bool found = false;
    struct store_read r;
    if (store_read_begin(c->cfg.store, &r) != 0)
        return false;
    for (size_t i = 0; i < sizeof owners / sizeof owners[0] && !found; i++)
        store_list(&r, owners[i], NULL, stop_at_first, &found);
    store_read_end(&r);
    return found;
}

/* A follower's idle turn, every 20 ms (how soon a new leader's
 * controllers start; checking costs a mutex): once a second it brings the
 * pod cache up to date (once there are pods to own), so that on winning an
 * election the first syncs do not wait for it to be built from the whole
 * replica. Once a second, not on every turn: a pod's changes within the
 * second are then read once, which keeps the followers' share of the CPU
 * during a large rollout small. */
static void follow_idle(struct ctl *c)
{
    if (util_now_ms() >= c->next_warm_ms) {
        if (c->pods || pod_owners_exist(c))
            ctl_pod_cache_warm(c);
        c->next_warm_ms = util_now_ms() + 1000;
    }
}

static void publish(struct controllers *cs)
{
    cs->cache_pods = ctl_pod_cache_size(cs->ctl.pods);
    cs->cache_rev = ctl_pod_cache_revision(cs->ctl.pods);
}

/* A new leader's start: its controllers' state is built afresh by a first
 * full pass. */
static void lead_begin(struct ctl *c)
{
    LOG_INFO("controllers: started (leader)");
    memset(c->resynced, 0, sizeof c->resynced);
    c->lead_t0_ms = util_now_ms();
    c->acted = false;
    pass_begin(c, true);
}

/* One turn while leading: a step of the full pass under way, the changes,
 * a round of syncs. Returns whether there is more to do at once. */
static bool lead_turn(struct ctl *c)
{
    if (c->pass_next < N_DEFS)
        pass_step(c);
    if (!follow_changes(c) && !c->pass_due) {
        /* Worth a warning: a full pass reads the whole replica again, and
         * one that falls behind again under load can keep doing so. */
        LOG_WARN("controllers: the change log moved past revision %llu before it was "
                 "offered: a full pass follows",
                 (unsigned long long)c->cursor);
        c->pass_due = true;
    }
    bool idle_pass = c->pass_next == N_DEFS;
    if (idle_pass && (util_now_ms() >= c->next_resync_ms ||
                      (c->pass_due && util_now_ms() >= c->last_pass_ms + CTL_PASS_GAP_MS)))
        pass_begin(c, false);
    else if (c->pass_due) /* skipped changes: the full pass due soon covers them */
        c->cursor = store_revision(c->cfg.store);
    bool more;
    size_t synced = queue_run(c, &more);
    if (synced && !c->acted) { /* how long a new leader takes to act */
        c->acted = true;
        LOG_INFO("controllers: first %zu syncs done %llu ms after the start", synced,
                 (unsigned long long)(util_now_ms() - c->lead_t0_ms));
    }
    ctl_events_flush(c);
    return more || c->pass_next < N_DEFS;
}

enum controllers_turn controllers_turn(struct controllers *cs)
{
    struct ctl *c = &cs->ctl;
    if (!cluster_is_leader(c->cfg.cluster)) {
        if (cs->leading)
            LOG_INFO("controllers: stopped (no longer the leader)");
        cs->leading = false;
        c->pass_next = N_DEFS;
        ctl_correlator_free(&c->correlator); /* a new leader's recorder starts afresh */
        queue_clear(c);
        state_clear(c);
        follow_idle(c);
        publish(cs);
        return CONTROLLERS_FOLLOWING;
    }
    if (!cs->leading) {
        if (!caught_up(c))
            return CONTROLLERS_CATCHING_UP;
        cs->leading = true;
        lead_begin(c);
    }
    bool more = lead_turn(c);
    publish(cs);
    return more ? CONTROLLERS_BUSY : CONTROLLERS_IDLE;
}

static void *run(void *arg)
{
    struct controllers *cs = arg;
    struct ctl *c = &cs->ctl;
    while (!cs->stop) {
        switch (controllers_turn(cs)) {
        case CONTROLLERS_FOLLOWING:
            usleep(20 * 1000);
            break;
        case CONTROLLERS_CATCHING_UP:
            usleep(50 * 1000);
            break;
        case CONTROLLERS_IDLE: {
            uint64_t cur = c->cursor;
            if (store_revision(c->cfg.store) == cur &&
                store_wait_revision_above(c->cfg.store, cur, c->queue.n ? 100 : 1000))
                usleep(CTL_SETTLE_MS * 1000);
            break;
        }
        case CONTROLLERS_BUSY:
            break;
        }
    }
    return NULL;
}

struct controllers *controllers_new(const struct controllers_config *cfg)
{
    struct controllers *cs = xcalloc(1, sizeof *cs);
    cs->ctl.cfg = *cfg;
    cs->ctl.current = -1;
    cs->ctl.pass_next = N_DEFS;
    cs->ctl.http = httpc_new(cfg->api_url);
    if (!cs->ctl.http) {
        free(cs);
        return NULL;
    }
    return cs;
}

void controllers_free(struct controllers *cs)
{
    if (!cs)
        return;
    struct ctl *c = &cs->ctl;
    queue_clear(c);
    state_clear(c);
    ctl_pod_cache_free(c->pods);
    httpc_free(c->http);
    for (unsigned i = 0; i < CTL_API_PARALLEL; i++)
        httpc_free(c->pool[i]);
    ctl_queue_free(&c->queue);
    ctl_correlator_free(&c->correlator);
    free(c->events);
    free(cs);
}

struct controllers *controllers_start(const struct controllers_config *cfg)
{
    struct controllers *cs = controllers_new(cfg);
    if (!cs)
        return NULL;
    pthread_create(&cs->thread, NULL, run, cs);
    pthread_setname_np(cs->thread, "controllers");
    return cs;
}

void controllers_stop(struct controllers *cs)
{
    if (!cs)
        return;
    cs->stop = 1;
    store_wake_all(cs->ctl.cfg.store);
    pthread_join(cs->thread, NULL);
    controllers_free(cs);
}

void controllers_metrics(struct controllers *cs, struct ubuf *out)
{
    if (!cs)
        return;
    ubuf_appendf(out,
                 "# HELP bosun_controllers_pod_cache_pods Pods in the controllers' pod cache "
                 "(kept on followers too).\n"
                 "# TYPE bosun_controllers_pod_cache_pods gauge\n"
                 "bosun_controllers_pod_cache_pods %zu\n"
                 "# HELP bosun_controllers_pod_cache_revision The revision the pod cache reached.\n"
                 "# TYPE bosun_controllers_pod_cache_revision gauge\n"
                 "bosun_controllers_pod_cache_revision %llu\n",
                 (size_t)cs->cache_pods, (unsigned long long)cs->cache_rev);
}
