/* replicaset.c — the ReplicaSet controller: keeps spec.replicas pods that
 * match spec.selector, as Kubernetes' ReplicaSet controller does
 * (pkg/controller/replicaset).
 *
 * A sync of one ReplicaSet reads it and the active pods of its namespace
 * that may concern it (its own and the orphans, from the pod cache), then:
 *  1. claims them (ctl_claim, objects.c): a matching orphan is adopted and
 *     a pod of ours that stopped matching is released, each by a strategic
 *     merge patch of its ownerReferences preconditioned on the pod's uid;
 *     a claim that fails fails the sync;
 *  2. unless the ReplicaSet is being deleted, creates the missing pods
 *     (generateName "<rs>-") in slow-start batches of 1, 2, 4, ... through
 *     ctl_api_many (the server group-commits each batch), stopping at the
 *     first failing batch, or deletes the surplus least valuable first
 *     (ctl_rs_sort_for_deletion); at most CTL_RS_BURST either way per sync;
 *  3. writes the status computed from the claimed pods before step 2, as
 *     Kubernetes does (the pods made or deleted come back as changes and
 *     sync the ReplicaSet again), with a ReplicaFailure condition when a
 *     create or delete failed; a ReplicaSet with minReadySeconds is synced
 *     again when its next ready pod becomes available.
 * Events: SuccessfulCreate "Created pod: X", SuccessfulDelete "Deleted pod:
 * X", FailedCreate / FailedDelete (ctl_event: written in batches).
 *
 * No expectations: the leader reads its own writes (see ctl_get), so a
 * sync always counts the pods it made before. A sync whose writes fail is
 * retried after a backoff; creates that timed out may still have happened,
 * and the retry counts them before creating more.
 *
 * Pod changes wake the ReplicaSet named by the pod's controller reference,
 * or, for an orphan (or a pod that just lost its controller), every
 * ReplicaSet of the namespace whose selector matches it. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define RSC "replicaset"
#define DELETION_COST "controller.kubernetes.io/pod-deletion-cost"

/* ---- decisions ---- */

static json_t *meta(json_t *o)
{
    return json_object_get(o, "metadata");
}

size_t ctl_rs_slow_start(size_t count, size_t initial, size_t *sizes, size_t max)
{
    assert(initial > 0);
    size_t n = 0, batch = initial < count ? initial : count;
    while (batch > 0 && n < max) {
        sizes[n++] = batch;
        count -= batch;
        batch = 2 * batch < count ? 2 * batch : count;
    }
    return n;
}

/* A pod's features that decide its deletion order, read once. */
struct ranked {
    json_t *pod;
    bool assigned, ready;
    int phase; /* Pending 0 < Unknown 1 < Running 2; others 0 like Go's zero value */
    int32_t cost;
    int rank; /* related active pods on the same node */
    int64_t ready_ms, created_ms; /* 0: unknown */
    int64_t restarts, sidecar_restarts;
    const char *uid;
};

static int phase_ordinal(const char *phase)
{
    if (strcmp(phase, "Unknown") == 0)
        return 1;
    if (strcmp(phase, "Running") == 0)
        return 2;
    return 0;
}

static int32_t deletion_cost(json_t *pod)
{
    const char *v = ctl_str(json_object_get(meta(pod), "annotations"), DELETION_COST);
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < INT32_MIN || n > INT32_MAX)
        return 0;
    return (int32_t)n;
}

static int64_t max_restarts(json_t *statuses)
{
    int64_t m = 0;
    json_t *s;
    size_t i;
    json_array_foreach(statuses, i, s)
    {
        int64_t r = json_integer_value(json_object_get(s, "restartCount"));
        m = r > m ? r : m;
    }
    return m;
}

static int64_t time_ms(const char *s)
{
    int64_t t = *s ? util_time_parse(s) : -1;
    return t < 0 ? 0 : t;
}

/* log2 of the age at now in nanoseconds, Kubernetes' bucket; -1 if not past. */
static int64_t age_bucket(int64_t t_ms, int64_t now_ms)
{
    double d_ns = (double)(now_ms - t_ms) * 1e6;
    return d_ns > 0 ? (int64_t)log2(d_ns) : -1;
}

/* afterOrZero, then log buckets, then uid (Kubernetes' order for times:
 * zero first, then the more recent). Returns <0 if a goes first, >0 if b,
 * 0 if the times are equal. */
static int cmp_times(int64_t ta, int64_t tb, const char *ua, const char *ub, int64_t now)
{
    if (ta == tb)
        return 0;
    if (!ta || !tb || !now)
        return !ta ? -1 : !tb ? 1 : (ta > tb ? -1 : 1);
    int64_t d = age_bucket(ta, now) - age_bucket(tb, now);
    if (d == 0)
        return strcmp(ua, ub) < 0 ? -1 : 1;
    return d < 0 ? -1 : 1;
}

static int cmp_ranked(const void *pa, const void *pb, void *arg)
{
    const struct ranked *a = pa, *b = pb;
    int64_t sort_now = *(const int64_t *)arg;
    if (a->assigned != b->assigned)
        return a->assigned ? 1 : -1;
    if (a->phase != b->phase)
        return a->phase < b->phase ? -1 : 1;
    if (a->ready != b->ready)
        return a->ready ? 1 : -1;
    if (a->cost != b->cost)
        return a->cost < b->cost ? -1 : 1;
    if (a->rank != b->rank)
        return a->rank > b->rank ? -1 : 1;
    if (a->ready && b->ready) {
        int r = cmp_times(a->ready_ms, b->ready_ms, a->uid, b->uid, sort_now);
        if (r)
            return r;
    }
    if (a->restarts != b->restarts)
        return a->restarts > b->restarts ? -1 : 1;
    if (a->sidecar_restarts != b->sidecar_restarts)
        return a->sidecar_restarts > b->sidecar_restarts ? -1 : 1;
    return cmp_times(a->created_ms, b->created_ms, a->uid, b->uid, sort_now);
}

/* The related active pods per node name (counts boxed in the pointers):
 * counted once, so ranking n pods costs O(n), not O(n * related). */
static void count_on_nodes(json_t *related, struct umap *counts)
{
    json_t *p;
    size_t i;
    json_array_foreach(related, i, p)
    {
        const char *node = ctl_str(json_object_get(p, "spec"), "nodeName");
        if (ctl_pod_active(p))
            umap_put(counts, node, (void *)((uintptr_t)umap_get(counts, node) + 1));
    }
}

void ctl_rs_sort_for_deletion(json_t *pods, json_t *related, int64_t now_ms)
{
    size_t n = json_array_size(pods);
    if (n < 2)
        return;
    struct ranked *v = xcalloc(n, sizeof *v);
    struct umap counts = {0};
    count_on_nodes(related ? related : pods, &counts);
    json_t *p;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        json_t *st = json_object_get(p, "status");
        const char *node = ctl_str(json_object_get(p, "spec"), "nodeName");
        v[i].pod = json_incref(p);
        v[i].assigned = *node != '\0';
        v[i].phase = phase_ordinal(ctl_str(st, "phase"));
        v[i].ready = ctl_pod_ready(p);
        v[i].cost = deletion_cost(p);
        v[i].rank = (int)(uintptr_t)umap_get(&counts, node);
        v[i].ready_ms =
            v[i].ready ? time_ms(ctl_str(ctl_condition_get(p, "Ready"), "lastTransitionTime")) : 0;
        v[i].created_ms = time_ms(ctl_str(meta(p), "creationTimestamp"));
        v[i].restarts = max_restarts(json_object_get(st, "containerStatuses"));
        v[i].sidecar_restarts = max_restarts(json_object_get(st, "initContainerStatuses"));
        v[i].uid = ctl_str(meta(p), "uid");
    }
    umap_free(&counts);
    qsort_r(v, n, sizeof *v, cmp_ranked, &now_ms);
    json_array_clear(pods);
    for (i = 0; i < n; i++)
        json_array_append_new(pods, v[i].pod);
    free(v);
}

static bool labels_superset(json_t *labels, json_t *want)
{
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v)
    {
        json_t *have = json_object_get(labels, k);
        if (!have || !json_equal(have, v))
            return false;
    }
    return true;
}

json_t *ctl_rs_status(json_t *rs, json_t *pods, const char *manage_err, int64_t now_ms)
{
    json_t *spec = json_object_get(rs, "spec");
    json_t *tlabels = json_object_get(meta(json_object_get(spec, "template")), "labels");
    int64_t min_ready = json_integer_value(json_object_get(spec, "minReadySeconds"));
    json_int_t full = 0, ready = 0, avail = 0;
    json_t *p;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        if (labels_superset(json_object_get(meta(p), "labels"), tlabels))
            full++;
        if (ctl_pod_ready(p)) {
            ready++;
            if (ctl_pod_available(p, min_ready, now_ms))
                avail++;
        }
    }
    json_t *old = json_object_get(rs, "status");
    json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
    json_t *conds = json_object_get(st, "conditions");
    bool has_failure = ctl_condition_get(rs, "ReplicaFailure") != NULL;
    if (manage_err && !has_failure) {
        int64_t diff = (int64_t)json_array_size(pods) - ctl_deploy_replicas(rs);
        ctl_condition_set(st, "ReplicaFailure", "True",
                          diff < 0   ? "FailedCreate"
                          : diff > 0 ? "FailedDelete"
                                     : "",
                          manage_err, false);
    } else if (!manage_err && has_failure) {
        json_t *kept = json_array(), *cd;
        json_array_foreach(conds, i, cd) if (strcmp(ctl_str(cd, "type"), "ReplicaFailure") != 0)
            json_array_append(kept, cd);
        if (json_array_size(kept))
            json_object_set_new(st, "conditions", kept);
        else {
            json_decref(kept);
            json_object_del(st, "conditions");
        }
    }
    /* As Kubernetes serializes it: replicas always, the rest omitted at 0. */
    json_object_set_new(st, "replicas", json_integer((json_int_t)json_array_size(pods)));
    const char *keys[] = {"fullyLabeledReplicas", "readyReplicas", "availableReplicas",
                          "observedGeneration"};
    json_int_t vals[] = {full, ready, avail,
                         json_integer_value(json_object_get(meta(rs), "generation"))};
    for (size_t k = 0; k < 4; k++)
        if (vals[k])
            json_object_set_new(st, keys[k], json_integer(vals[k]));
        else
            json_object_del(st, keys[k]);
    return st;
}

int64_t ctl_rs_next_available_ms(json_t *rs, json_t *pods, int64_t now_ms)
{
    int64_t min_ready = json_integer_value(json_object_get(json_object_get(rs, "spec"),
                                                           "minReadySeconds"));
    int64_t best = -1;
    json_t *p;
    size_t i;
    if (min_ready <= 0)
        return -1;
    json_array_foreach(pods, i, p)
    {
        if (!ctl_pod_ready(p) || ctl_pod_available(p, min_ready, now_ms))
            continue;
        int64_t since = time_ms(ctl_str(ctl_condition_get(p, "Ready"), "lastTransitionTime"));
        int64_t left = since ? since + min_ready * 1000 - now_ms : min_ready * 1000;
        left = left < 0 ? 0 : left;
        if (best < 0 || left < best)
            best = left;
    }
    return best;
}

/* ---- I/O ---- */

/* The active pods of ns that can concern rs (FilterActivePods, before
 * the claim, as Kubernetes' syncReplicaSet does): a new array. */
static json_t *active_candidates(struct ctl *c, json_t *rs)
{
    json_t *all = ctl_pods_claimable(c, ctl_str(meta(rs), "namespace"), ctl_str(meta(rs), "uid"));
    json_t *out = json_array(), *p;
    size_t i;
    json_array_foreach(all, i, p) if (ctl_pod_active(p)) json_array_append(out, p);
    json_decref(all);
    return out;
}

static const char *reply_message(json_t *reply, int st, char *buf, size_t len)
{
    const char *m = ctl_str(reply, "message");
    if (*m)
        return m;
    snprintf(buf, len, "HTTP %d", st);
    return buf;
}

/* Creates n pods in slow-start batches; returns the first error (NULL if
 * none) in err. */
static void create_pods(struct ctl *c, json_t *rs, size_t n, char *err, size_t errlen)
{
    const char *name = ctl_str(meta(rs), "name"), *ns = ctl_str(meta(rs), "namespace");
    json_t *tmpl = json_object_get(json_object_get(rs, "spec"), "template");
    size_t sizes[64];
    size_t nb = ctl_rs_slow_start(n, CTL_RS_SLOW_START, sizes, 64);
    char gen[300];
    snprintf(gen, sizeof gen, "%.240s-", name);
    for (size_t b = 0; b < nb && !*err; b++) {
        struct ctl_call *calls = xcalloc(sizes[b], sizeof *calls);
        for (size_t i = 0; i < sizes[b]; i++) {
            json_t *pod = ctl_pod_from_template(rs, "apps/v1", "ReplicaSet", tmpl);
            json_object_set_new(meta(pod), "generateName", json_string(gen));
            calls[i].method = "POST";
            calls[i].want_reply = true;
            calls[i].body = pod;
            snprintf(calls[i].path, sizeof calls[i].path, "/api/v1/namespaces/%s/pods", ns);
        }
        ctl_api_many(c, calls, sizes[b]);
        for (size_t i = 0; i < sizes[b]; i++) {
            char msg[600], tmp[32];
            if (calls[i].status == 201) {
                snprintf(msg, sizeof msg, "Created pod: %s",
                         ctl_str(meta(calls[i].reply), "name"));
                ctl_event(c, "replicasets", rs, "Normal", "SuccessfulCreate", "%s", msg);
            } else {
                const char *why = reply_message(calls[i].reply, calls[i].status, tmp, sizeof tmp);
                snprintf(msg, sizeof msg, "Error creating: %s", why);
                ctl_event(c, "replicasets", rs, "Warning", "FailedCreate", "%s", msg);
                if (!*err)
                    snprintf(err, errlen, "%s", why);
            }
            json_decref(calls[i].body);
            json_decref(calls[i].reply);
        }
        free(calls);
    }
}

/* The active pods of every ReplicaSet with the same controller as rs
 * (rs's own if it has none), for ranking pods doubled up on nodes. */
static json_t *related_pods(struct ctl *c, json_t *rs, json_t *mine)
{
    json_t *ref = ctl_controller_ref(rs);
    if (!ref)
        return json_incref(mine);
    json_t *rss = ctl_list(c, "replicasets", ctl_str(meta(rs), "namespace"), ctl_str(ref, "uid"));
    json_t *out = json_array(), *x;
    size_t i;
    json_array_foreach(rss, i, x)
    {
        json_t *r = ctl_controller_ref(x);
        if (!r || strcmp(ctl_str(r, "uid"), ctl_str(ref, "uid")) != 0)
            continue;
        json_t *pods = ctl_pods_owned(c, ctl_str(meta(x), "namespace"), ctl_str(meta(x), "uid"));
        json_array_extend(out, pods);
        json_decref(pods);
    }
    json_decref(rss);
    return out;
}

static void delete_pods(struct ctl *c, json_t *rs, json_t *mine, size_t n, char *err,
                        size_t errlen)
{
    json_t *victims = json_copy(mine);
    if (n < json_array_size(victims)) {
        json_t *related = related_pods(c, rs, mine);
        ctl_rs_sort_for_deletion(victims, related, util_wall_ms());
        json_decref(related);
    }
    struct ctl_call *calls = xcalloc(n, sizeof *calls);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(victims, i);
        calls[i].method = "DELETE";
        calls[i].want_reply = true;
        ctl_object_path("pods", ctl_str(meta(p), "namespace"), ctl_str(meta(p), "name"),
                        calls[i].path, sizeof calls[i].path);
        calls[i].body = json_pack("{s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
                                  "v1", "preconditions", "uid", ctl_str(meta(p), "uid"));
    }
    ctl_api_many(c, calls, n);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(victims, i);
        char msg[600], tmp[32];
        if (calls[i].status == 200 || calls[i].status == 202) {
            snprintf(msg, sizeof msg, "Deleted pod: %s", ctl_str(meta(p), "name"));
            ctl_event(c, "replicasets", rs, "Normal", "SuccessfulDelete", "%s", msg);
        } else if (calls[i].status != 404) {
            const char *why = reply_message(calls[i].reply, calls[i].status, tmp, sizeof tmp);
            snprintf(msg, sizeof msg, "Error deleting: %s", why);
            ctl_event(c, "replicasets", rs, "Warning", "FailedDelete", "%s", msg);
            if (!*err)
                snprintf(err, errlen, "%s", why);
        }
        json_decref(calls[i].body);
        json_decref(calls[i].reply);
    }
    free(calls);
    json_decref(victims);
}

static bool write_status(struct ctl *c, json_t *rs, json_t *st)
{
    if (json_equal(st, json_object_get(rs, "status")))
        return true;
    json_t *next = json_deep_copy(rs);
    json_object_set(next, "status", st);
    int code = ctl_status_update(c, "replicasets", next);
    json_decref(next);
    return code == 200 || code == 404;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    json_t *rs = ctl_get(c, "replicasets", ns, name);
    if (!rs)
        return true;
    char serr[256];
    json_t *spec = json_object_get(rs, "spec");
    struct kube_selector *sel =
        kube_selector_from_json(json_object_get(spec, "selector"), serr, sizeof serr);
    if (!sel) {
        LOG_WARN("controllers: replicaset %s/%s: bad selector: %s", ns, name, serr);
        json_decref(rs);
        return true;
    }
    bool ok = true;
    struct ctl_claimer m = {.c = c, .owner = rs, .owner_resource = "replicasets",
                            .api_version = "apps/v1", .kind = "ReplicaSet", .sel = sel};
    json_t *pods = active_candidates(c, rs);
    json_t *mine = ctl_claim(&m, "pods", pods, &ok);
    json_decref(pods);
    kube_selector_free(sel);
    if (!ok) { /* as syncReplicaSet: a failed claim fails the sync, retried */
        json_decref(mine);
        json_decref(rs);
        return false;
    }
    char err[512] = "";
    if (!json_object_get(meta(rs), "deletionTimestamp")) {
        int64_t diff = (int64_t)json_array_size(mine) - ctl_deploy_replicas(rs);
        size_t n = (size_t)(diff < 0 ? -diff : diff);
        n = n > CTL_RS_BURST ? CTL_RS_BURST : n;
        if (diff < 0)
            create_pods(c, rs, n, err, sizeof err);
        else if (diff > 0)
            delete_pods(c, rs, mine, n, err, sizeof err);
    }
    int64_t now = util_wall_ms();
    json_t *st = ctl_rs_status(rs, mine, *err ? err : NULL, now);
    ok = write_status(c, rs, st) && ok && !*err;
    int64_t next = ctl_rs_next_available_ms(rs, mine, now);
    if (next >= 0)
        ctl_enqueue_after(c, RSC, "replicasets", ns, name, (unsigned)next + 100);
    json_decref(st);
    json_decref(mine);
    json_decref(rs);
    return ok;
}

/* ---- changes ---- */

static bool wants(const struct store_event *e)
{
    return ctl_is_resource(&e->o, "replicasets") || ctl_is_resource(&e->o, "pods");
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    if (ctl_is_resource(&e->o, "replicasets")) {
        if (e->type != STORE_DELETED)
            ctl_enqueue(c, RSC, "replicasets", ns, name);
        return;
    }
    json_t *ref = ctl_controller_ref(obj);
    if (ref) {
        if (strcmp(ctl_str(ref, "kind"), "ReplicaSet") == 0)
            ctl_enqueue(c, RSC, "replicasets", ns, ctl_str(ref, "name"));
        return;
    }
    if (e->type == STORE_DELETED)
        return; /* nobody cares about an orphan's deletion */
    ctl_enqueue_previous_owner(c, e, RSC, "replicasets", "ReplicaSet");
    if (ctl_pod_active(obj))
        ctl_enqueue_selecting(c, RSC, "replicasets", ns, obj);
}

static int resync_one(void *arg, const struct store_obj *o)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)o->ns_len, o->ns);
    snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
    ctl_enqueue(arg, RSC, "replicasets", ns, name);
    return 0;
}

static void resync(struct ctl *c)
{
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return;
    store_list(&r, "replicasets", NULL, resync_one, c);
    store_read_end(&r);
}

const struct ctl_def ctl_replicaset = {
    .name = RSC,
    .component = "replicaset-controller",
    .wants = wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
};
