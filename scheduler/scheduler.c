/* scheduler.c — the scheduler's thread: leadership, the change stream, the
 * batches of bindings, and the metrics (see scheduler.h).
 *
 * While this server leads, the thread loops: apply the replica's new
 * changes to the cache (pods and nodes only), release parked pods that are
 * due, then take up to batch_max pods from the queue, decide each against
 * the cache (assuming the chosen node at once) and propose every resulting
 * write together with cluster_propose_batch: one queueing, normally one
 * Raft entry. A binding is the pod as pods/binding leaves it
 * (kube_pod_bind), proposed as an update preconditioned on the revision the
 * decision saw, with a "Scheduled" Event created beside it; both are
 * encoded from the pod's stored bytes at that revision (bind.c), read in
 * one transaction per batch, not built in jansson. A pod that fits
 * nowhere gets PodScheduled=False/Unschedulable (only when the message
 * changed) and a "FailedScheduling" Warning Event whose count grows on
 * repeats. A binding that conflicts is forgotten: the newer version of the
 * pod is in the change stream and queues it again if it is still pending.
 *
 * On losing leadership everything is dropped; a new leader rebuilds from its
 * own replica. The preconditions make a double binding impossible even when
 * an old leader's entry commits after a new leader read the pod. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/codec.h"
#include "httpc/httpc.h"
#include "scheduler/sched_internal.h"

#define BATCH_DEFAULT 2048
#define PROPOSE_TIMEOUT_MS 10000
#define CHANGES_PER_STEP 8192
#define FLUSH_MS 50
/* After the change that wakes an idle scheduler, it waits this long for
 * more, so that a burst of creates is one batch and a trickle of other
 * writes (Lease renewals: hundreds a second with 5,000 nodes) is not one
 * wake-up each. Short against the create-to-bound latency it adds. */
#define SETTLE_MS 5

/* Buckets of the create-to-bound histogram, in seconds. */
static const double lat_buckets[] = {0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5,   1,     2.5,   5,    10,    30,    60};
#define N_BUCKETS (sizeof lat_buckets / sizeof lat_buckets[0])

struct sched_metrics {
    uint64_t scheduled, unschedulable, errors, conflicts, batches, leader_starts;
    uint64_t preemptions, victims;
    uint64_t lat_counts[N_BUCKETS + 1];
    double lat_sum;
    uint64_t pending_active, pending_backoff, pending_unschedulable;
    bool leading;
};

struct scheduler {
    struct scheduler_config cfg;
    struct httpc *http; /* loopback to this server's API, for preemption */
    pthread_t thread;
    volatile int stop;
    struct sched_cache *cache; /* NULL while not leading */
    struct sched_queue q;
    uint64_t cursor;
    bool moved; /* the cluster changed: unschedulable pods may fit */
    uint64_t next_flush_ms; /* when parked pods are next looked at */
    pthread_mutex_t mu; /* guards m */
    struct sched_metrics m;
};

/* ---- building the cache ---- */

static bool is_res(const struct store_obj *o, const char *name)
{
    size_t n = strlen(name);
    return o->resource_len == n && memcmp(o->resource, name, n) == 0;
}

static void on_pod(struct scheduler *s, json_t *obj, uint64_t rev)
{
    json_t *md = json_object_get(obj, "metadata");
    struct sched_pod *old = sched_cache_pod(s->cache, sched_str(md, "namespace"),
                                            sched_str(md, "name"));
    bool was_counted = old && old->node && !old->nominated;
    struct sched_pod *p = sched_cache_pod_set(s->cache, obj, rev);
    if (p) {
        /* A pod that preempted (here or under an earlier leader) keeps its
         * room on the nominated node until its next attempt. */
        const char *nn = sched_str(json_object_get(obj, "status"), "nominatedNodeName");
        struct sched_node *held = *nn && !p->node ? sched_cache_node(s->cache, nn) : NULL;
        if (held)
            sched_cache_nominate(s->cache, p, held);
        sched_queue_add(&s->q, p);
        return;
    }
    struct sched_pod *now = sched_cache_pod(s->cache, sched_str(md, "namespace"),
                                            sched_str(md, "name"));
    if (now)
        sched_queue_remove(&s->q, now);
    if (was_counted && (!now || !now->node))
        s->moved = true; /* it finished: its node has room again */
}

static void on_pod_deleted(struct scheduler *s, const struct store_obj *o)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)o->ns_len, o->ns);
    snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
    struct sched_pod *p = sched_cache_pod(s->cache, ns, name);
    if (!p)
        return;
    if (p->node)
        s->moved = true;
    sched_queue_remove(&s->q, p);
    sched_cache_pod_remove(s->cache, ns, name);
}

static void on_node(struct scheduler *s, json_t *obj)
{
    if (sched_cache_node_set(s->cache, obj))
        s->moved = true;
}

static int rebuild_one(void *arg, const struct store_obj *o)
{
    struct scheduler *s = arg;
    json_t *obj = is_res(o, "nodes") ? codec_msgpack_to_json(o->obj, o->obj_len)
                                     : sched_pod_decode(o->obj, o->obj_len);
    if (!obj)
        return 0;
    if (is_res(o, "nodes"))
        on_node(s, obj);
    else
        on_pod(s, obj, o->mod_rev);
    json_decref(obj);
    return 0;
}

static void drop_cache(struct scheduler *s)
{
    sched_queue_free(&s->q);
    sched_cache_free(s->cache);
    s->cache = NULL;
}

static void rebuild(struct scheduler *s)
{
    drop_cache(s);
    uint64_t seed;
    util_random_bytes(&seed, sizeof seed);
    s->cache = sched_cache_new(s->cfg.percentage_of_nodes, seed);
    struct store_read r;
    if (store_read_begin(s->cfg.store, &r) != 0)
        return;
    store_list(&r, "nodes", NULL, rebuild_one, s);
    store_list(&r, "pods", NULL, rebuild_one, s);
    s->cursor = r.revision;
    store_read_end(&r);
    LOG_INFO("scheduler: started (leader): %u nodes, %zu pods pending", sched_cache_node_count(s->cache),
             s->q.n_active);
}

/* Whether the cache already has this pod at revision rev or later (its own
 * writes set the pod's revision when they are applied), so the change need
 * not be decoded. */
static bool known_at(struct scheduler *s, const struct store_obj *o, uint64_t rev)
{
    char key[640]; /* the cache's key, "ns/name" */
    snprintf(key, sizeof key, "%.*s/%.*s", (int)o->ns_len, o->ns, (int)o->name_len, o->name);
    struct sched_pod *p = umap_get(&s->cache->pods, key);
    return p && rev <= p->rev;
}

struct follow_ctx {
    struct scheduler *s;
    unsigned n;
};

static int follow_one(void *arg, const struct store_event *e)
{
    struct follow_ctx *fc = arg;
    struct scheduler *s = fc->s;
    s->cursor = e->rev;
    bool pod = is_res(&e->o, "pods"), node = !pod && is_res(&e->o, "nodes");
    if (pod || node) {
        if (e->type == STORE_DELETED) {
            if (pod) {
                on_pod_deleted(s, &e->o);
            } else {
                char name[256];
                snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
                sched_cache_node_remove(s->cache, name);
            }
        } else if (pod && known_at(s, &e->o, e->rev)) {
            /* our own binding or status write coming back: nothing new */
        } else {
            json_t *obj = pod ? sched_pod_decode(e->o.obj, e->o.obj_len)
                              : codec_msgpack_to_json(e->o.obj, e->o.obj_len);
            if (obj && pod)
                on_pod(s, obj, e->rev);
            else if (obj)
                on_node(s, obj);
            json_decref(obj);
        }
    }
    return ++fc->n >= CHANGES_PER_STEP;
}

/* Applies new changes; false if the log moved past the cursor. */
static bool follow(struct scheduler *s)
{
    struct store_read r;
    if (store_read_begin(s->cfg.store, &r) != 0)
        return true;
    struct follow_ctx fc = {s, 0};
    int rc = store_changes(&r, s->cursor, follow_one, &fc);
    store_read_end(&r);
    return rc != STORE_GONE_ERR;
}

/* ---- the batch ---- */

enum { W_BIND = 1, W_FAIL, W_EVENT, W_EVICT };

struct write {
    int kind;
    struct sched_pod *p;
    struct ubuf cmd;
    json_t *next; /* W_FAIL: the pod as written */
};

struct batch {
    struct write *w;
    unsigned n, cap;
    char now[40];
    struct store_read r; /* what the writes are made from (batch_read) */
    bool reading;
};

/* The batch's read transaction, begun at its first use and ended before
 * the batch is proposed; NULL if it could not be begun. */
static struct store_read *batch_read(struct scheduler *s, struct batch *b)
{
    if (!b->reading && store_read_begin(s->cfg.store, &b->r) != 0)
        return NULL;
    b->reading = true;
    return &b->r;
}

enum stored { STORED_OK, STORED_MOVED, STORED_ERROR };

/* The stored pod p: STORED_OK if the replica still holds it at the
 * revision the decision saw; STORED_MOVED if it does not (a write made
 * from it could only conflict, and the newer pod is in the change stream);
 * STORED_ERROR if it could not be read. */
static enum stored batch_stored(struct scheduler *s, struct batch *b, struct sched_pod *p,
                                struct store_obj *o)
{
    struct store_read *r = batch_read(s, b);
    if (!r)
        return STORED_ERROR;
    int rc = store_get(r, "pods", p->ns, p->name, o);
    if (rc == STORE_NOT_FOUND || (rc == 0 && o->mod_rev != p->rev))
        return STORED_MOVED;
    return rc == 0 ? STORED_OK : STORED_ERROR;
}

static struct write *batch_add(struct batch *b, int kind, struct sched_pod *p)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->w = xrealloc(b->w, b->cap * sizeof *b->w);
    }
    struct write *w = &b->w[b->n++];
    memset(w, 0, sizeof *w);
    w->kind = kind;
    w->p = p;
    return w;
}

static void encode(struct write *w, int op, const char *resource, const char *ns,
                   const char *name, uint64_t expect_rev, const char *uid, json_t *obj)
{
    struct ubuf enc = {0};
    json_object_del(json_object_get(obj, "metadata"), "resourceVersion");
    codec_json_to_msgpack(obj, &enc);
    struct store_cmd cmd = {.op = op, .resource = resource, .ns = ns, .name = name,
                            .expect_rev = expect_rev, .uid = uid, .obj = enc.data,
                            .obj_len = enc.len};
    store_cmd_encode(&cmd, &w->cmd);
    ubuf_free(&enc);
}

static uint64_t fnv(const char *a, const char *b)
{
    return util_hash_str(util_hash_str(UTIL_HASH_SEED, a), b);
}

/* An Event about pod p, named after the pod's uid and the reason. One
 * that can repeat (repeats) is counted again when it exists in the
 * replica, as the event recorder aggregates repeats; the others (a pod is
 * bound or preempted once) are created without looking, which keeps a
 * store read off every binding. */
static void add_event(struct scheduler *s, struct batch *b, struct sched_pod *p, const char *type,
                      const char *reason, const char *message, bool repeats)
{
    char name[320], uid[40];
    snprintf(name, sizeof name, "%.200s.%016llx", p->name,
             (unsigned long long)fnv(p->uid, reason));
    struct store_read *r = repeats ? batch_read(s, b) : NULL;
    struct store_obj cur;
    json_t *ev = NULL;
    uint64_t rev = 0;
    if (r && store_get(r, "events", p->ns, name, &cur) == 0) {
        ev = codec_msgpack_to_json(cur.obj, cur.obj_len);
        rev = cur.mod_rev;
    }
    struct write *w = batch_add(b, W_EVENT, p);
    if (ev) {
        json_object_set_new(ev, "count",
                            json_integer(json_integer_value(json_object_get(ev, "count")) + 1));
        json_object_set_new(ev, "lastTimestamp", json_string(b->now));
        json_object_set_new(ev, "message", json_string(message));
        encode(w, STORE_OP_UPDATE, "events", p->ns, name, rev, NULL, ev);
        json_decref(ev);
        return;
    }
    util_uuid4(uid, sizeof uid);
    const struct sched_event e = {
        .name = name, .ns = p->ns, .uid = uid, .now = b->now, .pod = p->name,
        .pod_uid = p->uid, .reason = reason, .message = message, .type = type,
        .action = strcmp(reason, "Scheduled") == 0 ? "Binding" : "Scheduling"};
    struct ubuf enc = {0};
    sched_event_encode(&e, &enc);
    struct store_cmd cmd = {.op = STORE_OP_CREATE, .resource = "events", .ns = p->ns,
                            .name = name, .uid = uid, .obj = enc.data, .obj_len = enc.len};
    store_cmd_encode(&cmd, &w->cmd);
    ubuf_free(&enc);
}

/* A pod update preconditioned on the revision the decision saw. */
static void encode_pod(struct write *w, struct sched_pod *p, const struct ubuf *obj)
{
    struct store_cmd cmd = {.op = STORE_OP_UPDATE, .resource = "pods", .ns = p->ns,
                            .name = p->name, .expect_rev = p->rev, .obj = obj->data,
                            .obj_len = obj->len};
    store_cmd_encode(&cmd, &w->cmd);
}

static void add_binding(struct scheduler *s, struct batch *b, struct sched_pod *p,
                        struct sched_node *node)
{
    char msg[640];
    struct store_obj cur;
    struct ubuf next = {0};
    /* Only pending pods (no node, not being deleted) are queued. */
    assert(!*sched_str(json_object_get(p->obj, "spec"), "nodeName"));
    enum stored st = batch_stored(s, b, p, &cur);
    if (st == STORED_MOVED) {
        pthread_mutex_lock(&s->mu);
        s->m.conflicts++; /* the newer pod is in the change stream */
        pthread_mutex_unlock(&s->mu);
        return;
    }
    if (st != STORED_OK || sched_bind_encode(cur.obj, cur.obj_len, p->obj,
                                             sched_node_name(node), b->now, &next) != 0) {
        /* Nothing else will bring it back: it is tried again after a backoff. */
        LOG_WARN("scheduler: cannot bind %s: its stored object %s", p->key,
                 st == STORED_OK ? "does not decode" : "cannot be read");
        pthread_mutex_lock(&s->mu);
        s->m.errors++;
        pthread_mutex_unlock(&s->mu);
        sched_queue_park(&s->q, p, false, util_now_ms());
        return;
    }
    sched_cache_assume(s->cache, p, node);
    struct write *w = batch_add(b, W_BIND, p);
    encode_pod(w, p, &next);
    ubuf_free(&next);
    snprintf(msg, sizeof msg, "Successfully assigned %s/%s to %s", p->ns, p->name,
             sched_node_name(node));
    add_event(s, b, p, "Normal", "Scheduled", msg, false);
}

/* The pod with PodScheduled=False (and status.nominatedNodeName after a
 * preemption), or NULL if it already says this. */
static json_t *unschedulable_pod(struct sched_pod *p, const char *message, const char *now,
                                 const char *nominated)
{
    json_t *st = json_object_get(p->obj, "status"), *c;
    size_t i;
    json_array_foreach(json_object_get(st, "conditions"), i, c)
        if (!nominated && strcmp(sched_str(c, "type"), "PodScheduled") == 0 &&
            strcmp(sched_str(c, "status"), "False") == 0 &&
            strcmp(sched_str(c, "message"), message) == 0)
            return NULL;
    json_t *next = json_deep_copy(p->obj);
    st = json_object_get(next, "status");
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(next, "status", st);
    }
    json_t *kept = json_array();
    json_array_foreach(json_object_get(st, "conditions"), i, c)
        if (strcmp(sched_str(c, "type"), "PodScheduled") != 0)
            json_array_append(kept, c);
    json_array_append_new(kept, json_pack("{s:s, s:s, s:n, s:s, s:s, s:s}", "type",
                                          "PodScheduled", "status", "False", "lastProbeTime",
                                          "lastTransitionTime", now, "reason", "Unschedulable",
                                          "message", message));
    json_object_set_new(st, "conditions", kept);
    if (nominated)
        json_object_set_new(st, "nominatedNodeName", json_string(nominated));
    if (!*sched_str(st, "phase"))
        json_object_set_new(st, "phase", json_string("Pending"));
    return next;
}

static void add_failure(struct scheduler *s, struct batch *b, struct sched_pod *p,
                        const char *message, const char *nominated)
{
    json_t *next = unschedulable_pod(p, message, b->now, nominated);
    struct store_obj cur;
    struct ubuf enc = {0};
    /* Written as edits of the stored pod: p->obj lacks its managedFields
     * (sched_pod_decode), which must be kept. */
    json_t *st = json_object_get(next, "status");
    struct codec_edit edits[4] = {{"metadata.resourceVersion", NULL},
                                  {"status.conditions", json_object_get(st, "conditions")}};
    unsigned n = 2;
    if (nominated)
        edits[n++] = (struct codec_edit){"status.nominatedNodeName",
                                         json_object_get(st, "nominatedNodeName")};
    edits[n++] = (struct codec_edit){"status.phase", json_object_get(st, "phase")};
    if (next && batch_stored(s, b, p, &cur) == STORED_OK &&
        codec_msgpack_edit(cur.obj, cur.obj_len, edits, n, &enc) == 0) {
        struct write *w = batch_add(b, W_FAIL, p);
        encode_pod(w, p, &enc);
        w->next = next;
    } else {
        json_decref(next);
    }
    ubuf_free(&enc);
    add_event(s, b, p, "Warning", "FailedScheduling", message, true);
}

static void metrics_bound(struct scheduler *s, struct sched_pod *p, uint64_t now)
{
    double sec = (double)(now - p->first_seen_ms) / 1000.0;
    unsigned i = 0;
    while (i < N_BUCKETS && sec > lat_buckets[i])
        i++;
    s->m.scheduled++;
    s->m.lat_counts[i]++;
    s->m.lat_sum += sec;
}

/* Applies the outcome of the batch's writes to the cache and the queue. */
static void batch_settle(struct scheduler *s, struct batch *b, const struct cluster_result *res)
{
    uint64_t now = util_now_ms();
    pthread_mutex_lock(&s->mu);
    for (unsigned i = 0; i < b->n; i++) {
        struct write *w = &b->w[i];
        struct sched_pod *p = w->p;
        bool ok = res[i].code == CLUSTER_OK && res[i].res.code == STORE_OK;
        bool failed_cluster = res[i].code != CLUSTER_OK;
        if (w->kind == W_BIND) {
            if (ok) {
                metrics_bound(s, p, now);
                p->rev = res[i].res.rev;
                json_decref(p->obj);
                p->obj = NULL;
                p->pending = false;
                continue;
            }
            sched_cache_forget(s->cache, p);
            if (failed_cluster) {
                s->m.errors++;
                sched_queue_park(&s->q, p, false, now);
            } else {
                s->m.conflicts++; /* the newer pod is in the change stream */
            }
        } else if (w->kind == W_FAIL && ok) {
            json_decref(p->obj);
            p->obj = w->next;
            w->next = NULL;
            p->rev = res[i].res.rev;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static void batch_free(struct batch *b)
{
    for (unsigned i = 0; i < b->n; i++) {
        ubuf_free(&b->w[i].cmd);
        json_decref(b->w[i].next);
    }
    free(b->w);
}

static void batch_propose(struct scheduler *s, struct batch *b)
{
    if (!b->n)
        return;
    const void **cmds = xmalloc(b->n * sizeof *cmds);
    size_t *lens = xmalloc(b->n * sizeof *lens);
    struct cluster_result *res = xcalloc(b->n, sizeof *res);
    for (unsigned i = 0; i < b->n; i++) {
        cmds[i] = b->w[i].cmd.data;
        lens[i] = b->w[i].cmd.len;
    }
    cluster_propose_batch(s->cfg.cluster, cmds, lens, b->n, PROPOSE_TIMEOUT_MS, res);
    batch_settle(s, b, res);
    free(cmds);
    free(lens);
    free(res);
}

/* Deletes a victim with finalizers through the API, so that they are
 * honoured as for any client's delete (it is only marked). */
static void delete_via_api(struct scheduler *s, struct sched_pod *v)
{
    char body[256], path[700];
    snprintf(body, sizeof body,
             "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"preconditions\":{\"uid\":\"%s\"}}",
             v->uid);
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", v->ns, v->name);
    const char *hdrs[] = {"Content-Type: application/json", "User-Agent: bosun-scheduler", NULL};
    struct httpc_response resp;
    if (s->http && httpc_request(s->http, "DELETE", path, hdrs, body, strlen(body),
                                 PROPOSE_TIMEOUT_MS, &resp) == 0)
        httpc_response_free(&resp);
}

/* Preemption (preempt.c): the victims are deleted in this round's
 * proposal (preconditioned on their uid; one with finalizers
 * through the API instead), each gets a "Preempted" event, they stop
 * counting on their node at once, and their room is held for p. True if p
 * got a node to wait for. */
static bool preempt(struct scheduler *s, struct batch *b, struct sched_pod *p)
{
    struct sched_pod **victims;
    unsigned n;
    struct sched_node *node = sched_preempt_plan(s->cache, p, &victims, &n);
    if (!node) {
        free(victims);
        return false;
    }
    char msg[640];
    snprintf(msg, sizeof msg, "Preempted by pod %s on node %s", p->uid, sched_node_name(node));
    for (unsigned i = 0; i < n; i++) {
        struct sched_pod *v = victims[i];
        LOG_INFO("scheduler: preempting %s on %s for %s (priority %d > %d)", v->key,
                 sched_node_name(node), p->key, p->priority, v->priority);
        if (v->finalizers) {
            delete_via_api(s, v);
        } else {
            struct write *w = batch_add(b, W_EVICT, v);
            /* The uid only: a victim whose status its node just updated is
             * still the pod chosen. */
            struct store_cmd cmd = {.op = STORE_OP_DELETE, .resource = "pods", .ns = v->ns,
                                    .name = v->name, .expect_uid = v->uid};
            store_cmd_encode(&cmd, &w->cmd);
        }
        add_event(s, b, v, "Normal", "Preempted", msg, false);
        sched_cache_forget_counted(s->cache, v);
    }
    free(victims);
    pthread_mutex_lock(&s->mu);
    s->m.preemptions++;
    s->m.victims += n;
    pthread_mutex_unlock(&s->mu);
    sched_cache_nominate(s->cache, p, node);
    s->moved = true; /* p may go as soon as its backoff passes */
    return true;
}

/* One round: decide up to batch_max pods, then write the outcome. */
static void schedule_batch(struct scheduler *s)
{
    struct batch b = {0};
    struct sched_decision d;
    util_time_rfc3339(b.now, sizeof b.now);
    uint64_t now = util_now_ms();
    unsigned taken = 0, failed = 0;
    struct sched_pod *p;
    while (taken < s->cfg.batch_max && (p = sched_queue_pop(&s->q))) {
        taken++;
        sched_cache_unreserve(s->cache, p); /* its own reservation, if any */
        sched_cache_decide(s->cache, p, &d);
        if (d.node) {
            add_binding(s, &b, p, d.node);
            continue;
        }
        failed++;
        /* A pod that preempted before and still does not fit lost its
         * room (a victim's deletion failed, or the node changed): the
         * rounds are synchronous, so no deletion of ours is still on its
         * way, and it may preempt afresh. */
        const char *nominate = NULL;
        if (preempt(s, &b, p))
            nominate = sched_pod_node_name(p);
        sched_queue_park(&s->q, p, true, now);
        if (nominate || !p->last_message || strcmp(p->last_message, d.message) != 0 ||
            p->attempts % 8 == 1) {
            free(p->last_message);
            p->last_message = xstrdup(d.message);
            add_failure(s, &b, p, d.message, nominate);
        }
    }
    pthread_mutex_lock(&s->mu);
    s->m.unschedulable += failed;
    s->m.batches++;
    pthread_mutex_unlock(&s->mu);
    if (b.reading)
        store_read_end(&b.r);
    batch_propose(s, &b);
    batch_free(&b);
}

/* ---- the thread ---- */

static void metrics_gauges(struct scheduler *s, bool leading)
{
    pthread_mutex_lock(&s->mu);
    s->m.leading = leading;
    s->m.pending_active = leading ? s->q.n_active : 0;
    s->m.pending_unschedulable = leading ? s->q.n_unschedulable : 0;
    s->m.pending_backoff = leading ? s->q.n_parked - s->q.n_unschedulable : 0;
    pthread_mutex_unlock(&s->mu);
}

/* One round: the changes, then a batch of pods. Returns 0 if there is more
 * to do at once, else how long (ms) nothing falls due unless the store
 * changes. */
static int step(struct scheduler *s)
{
    /* Catch up with the change stream before deciding anything, so that
     * decisions see the latest state and the cursor does not fall behind
     * the change log (which would force a rebuild). */
    for (int i = 0; i < 64; i++) {
        uint64_t before = s->cursor;
        if (!follow(s)) {
            LOG_WARN("scheduler: the change log moved past revision %llu; rebuilding",
                     (unsigned long long)s->cursor);
            rebuild(s);
            break;
        }
        if (s->cursor - before < CHANGES_PER_STEP)
            break;
    }
    if (s->moved) {
        sched_queue_move_all(&s->q);
        s->moved = false;
    }
    uint64_t now = util_now_ms();
    /* Flushing walks every parked pod: at most every FLUSH_MS (the
     * backoffs are whole seconds), not on every round. */
    if (now >= s->next_flush_ms) {
        sched_queue_flush(&s->q, now);
        s->next_flush_ms = now + FLUSH_MS;
    }
    metrics_gauges(s, true);
    if (s->q.n_active) {
        schedule_batch(s);
        return 0;
    }
    uint64_t due = sched_queue_next_due(&s->q);
    if (due != UINT64_MAX && due < s->next_flush_ms)
        due = s->next_flush_ms;
    return due == UINT64_MAX ? 1000 : due <= now ? 1 : (int)(due - now > 1000 ? 1000 : due - now);
}

/* A new leader's log holds every committed entry (Raft's election rule),
 * but its replica may not have applied them yet: the new term's first
 * commit is what tells it they are committed. A cache built before then
 * would miss the last leader's latest bindings and place pods in room
 * those already took: a binding's precondition stops a pod being bound
 * twice, not a node being over-committed. So, as the controllers do, the
 * cache is built once this replica has applied up to a read index. */
static bool caught_up(struct scheduler *s)
{
    struct cluster_result res;
    cluster_read_index(s->cfg.cluster, PROPOSE_TIMEOUT_MS, &res);
    return res.code == CLUSTER_OK &&
           store_wait_index(s->cfg.store, res.index, PROPOSE_TIMEOUT_MS);
}

enum scheduler_turn scheduler_turn(struct scheduler *s, int *wait_ms)
{
    *wait_ms = 0;
    if (!cluster_is_leader(s->cfg.cluster)) {
        if (s->cache) {
            LOG_INFO("scheduler: stopped (no longer the leader)");
            drop_cache(s);
            metrics_gauges(s, false);
        }
        return SCHEDULER_FOLLOWING;
    }
    if (!s->cache) {
        if (!caught_up(s))
            return SCHEDULER_CATCHING_UP;
        rebuild(s);
        pthread_mutex_lock(&s->mu);
        s->m.leader_starts++;
        pthread_mutex_unlock(&s->mu);
    }
    *wait_ms = step(s);
    return *wait_ms ? SCHEDULER_IDLE : SCHEDULER_BUSY;
}

static void *run(void *arg)
{
    struct scheduler *s = arg;
    while (!s->stop) {
        int wait;
        switch (scheduler_turn(s, &wait)) {
        case SCHEDULER_FOLLOWING:
            usleep(100 * 1000);
            break;
        case SCHEDULER_CATCHING_UP:
            usleep(50 * 1000);
            break;
        case SCHEDULER_IDLE:
            if (store_revision(s->cfg.store) == s->cursor &&
                store_wait_revision_above(s->cfg.store, s->cursor, wait))
                usleep(SETTLE_MS * 1000);
            break;
        case SCHEDULER_BUSY:
            break;
        }
    }
    return NULL;
}

struct scheduler *scheduler_new(const struct scheduler_config *cfg)
{
    struct scheduler *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    if (!s->cfg.batch_max)
        s->cfg.batch_max = BATCH_DEFAULT;
    /* A round writes about two changes per pod (binding, event); it must
     * stay well inside the change log, or the scheduler could not follow
     * its own writes and would rebuild after every round. */
    if (s->cfg.history && s->cfg.batch_max > s->cfg.history / 8)
        s->cfg.batch_max = s->cfg.history / 8 ? (unsigned)(s->cfg.history / 8) : 1;
    if (*s->cfg.api_url)
        s->http = httpc_new(s->cfg.api_url);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

void scheduler_free(struct scheduler *s)
{
    if (!s)
        return;
    drop_cache(s);
    pthread_mutex_destroy(&s->mu);
    httpc_free(s->http);
    free(s);
}

struct scheduler *scheduler_start(const struct scheduler_config *cfg)
{
    struct scheduler *s = scheduler_new(cfg);
    pthread_create(&s->thread, NULL, run, s);
    /* Named so that its CPU time can be read apart from the rest of the
     * server (/proc/PID/task/TID/comm; bosun bench schedule does). */
    pthread_setname_np(s->thread, "scheduler");
    return s;
}

void scheduler_stop(struct scheduler *s)
{
    if (!s)
        return;
    s->stop = 1;
    store_wake_all(s->cfg.store);
    pthread_join(s->thread, NULL);
    scheduler_free(s);
}

/* ---- metrics ---- */

void scheduler_metrics(struct scheduler *s, struct ubuf *out)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    struct sched_metrics m = s->m;
    pthread_mutex_unlock(&s->mu);
    ubuf_appendf(out,
                 "# HELP scheduler_schedule_attempts_total Scheduling attempts by result.\n"
                 "# TYPE scheduler_schedule_attempts_total counter\n"
                 "scheduler_schedule_attempts_total{profile=\"%s\",result=\"scheduled\"} %llu\n"
                 "scheduler_schedule_attempts_total{profile=\"%s\",result=\"unschedulable\"} %llu\n"
                 "scheduler_schedule_attempts_total{profile=\"%s\",result=\"error\"} %llu\n",
                 SCHED_NAME, (unsigned long long)m.scheduled, SCHED_NAME,
                 (unsigned long long)m.unschedulable, SCHED_NAME, (unsigned long long)m.errors);
    ubuf_appendf(out,
                 "# HELP bosun_scheduler_pods_scheduled_total Pods bound by this server's scheduler.\n"
                 "# TYPE bosun_scheduler_pods_scheduled_total counter\n"
                 "bosun_scheduler_pods_scheduled_total %llu\n"
                 "# HELP bosun_scheduler_binding_conflicts_total Bindings refused because the pod changed.\n"
                 "# TYPE bosun_scheduler_binding_conflicts_total counter\n"
                 "bosun_scheduler_binding_conflicts_total %llu\n"
                 "# HELP bosun_scheduler_batches_total Scheduling rounds (one proposal each).\n"
                 "# TYPE bosun_scheduler_batches_total counter\n"
                 "bosun_scheduler_batches_total %llu\n"
                 "# HELP scheduler_preemption_attempts_total Preemptions that evicted pods.\n"
                 "# TYPE scheduler_preemption_attempts_total counter\n"
                 "scheduler_preemption_attempts_total %llu\n"
                 "# HELP scheduler_preemption_victims_total Pods evicted by preemption.\n"
                 "# TYPE scheduler_preemption_victims_total counter\n"
                 "scheduler_preemption_victims_total %llu\n"
                 "# HELP bosun_scheduler_leading Whether this server's scheduler is active.\n"
                 "# TYPE bosun_scheduler_leading gauge\n"
                 "bosun_scheduler_leading %d\n",
                 (unsigned long long)m.scheduled, (unsigned long long)m.conflicts,
                 (unsigned long long)m.batches, (unsigned long long)m.preemptions,
                 (unsigned long long)m.victims, m.leading ? 1 : 0);
    ubuf_appendf(out,
                 "# HELP scheduler_pending_pods Pending pods by queue.\n"
                 "# TYPE scheduler_pending_pods gauge\n"
                 "scheduler_pending_pods{queue=\"active\"} %llu\n"
                 "scheduler_pending_pods{queue=\"backoff\"} %llu\n"
                 "scheduler_pending_pods{queue=\"unschedulable\"} %llu\n",
                 (unsigned long long)m.pending_active, (unsigned long long)m.pending_backoff,
                 (unsigned long long)m.pending_unschedulable);
    ubuf_appendf(out,
                 "# HELP bosun_scheduler_pod_create_to_bound_seconds From the scheduler first"
                 " seeing a pending pod to its binding being applied.\n"
                 "# TYPE bosun_scheduler_pod_create_to_bound_seconds histogram\n");
    uint64_t cum = 0;
    for (unsigned i = 0; i <= N_BUCKETS; i++) {
        cum += m.lat_counts[i];
        if (i < N_BUCKETS)
            ubuf_appendf(out, "bosun_scheduler_pod_create_to_bound_seconds_bucket{le=\"%g\"} %llu\n",
                         lat_buckets[i], (unsigned long long)cum);
        else
            ubuf_appendf(out, "bosun_scheduler_pod_create_to_bound_seconds_bucket{le=\"+Inf\"} %llu\n",
                         (unsigned long long)cum);
    }
    ubuf_appendf(out,
                 "bosun_scheduler_pod_create_to_bound_seconds_sum %.6f\n"
                 "bosun_scheduler_pod_create_to_bound_seconds_count %llu\n",
                 m.lat_sum, (unsigned long long)cum);
}
