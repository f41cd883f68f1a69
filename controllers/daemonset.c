/* daemonset.c — the DaemonSet controller: one pod of each DaemonSet on
 * every node that should run it, as Kubernetes' pkg/controller/daemon
 * keeps them (daemon_controller.go, update.go, util/daemonset_util.go).
 *
 * A sync of one DaemonSet, level-triggered (nothing while it is being
 * deleted, or if its selector is empty):
 *  0. claims (ctl_claim, objects.c, as controlledHistories and
 *     getDaemonPods): the ControllerRevisions and the pods of its
 *     namespace with no controller that its selector matches are adopted,
 *     its own that it no longer matches released; a failed claim fails
 *     the sync;
 *  1. history: the ControllerRevision matching the pod template
 *     (NAME-<ctl_template_hash>, data = {"spec":{"template":…,"$patch":
 *     "replace"}}) is found or created with the next revision number; its
 *     hash is the controller-revision-hash label of new pods;
 *  2. manage: for every node, whether it should run the daemon pod (the
 *     template's nodeName, nodeSelector, required node affinity, and its
 *     tolerations plus the daemon defaults against the node's NoSchedule
 *     and NoExecute taints) and whether a pod already there may continue
 *     (only untolerated NoExecute taints evict); a missing pod is created,
 *     pinned to its node by required node affinity `matchFields
 *     metadata.name In [node]` so that the scheduler binds it; pods that
 *     must go, failed or succeeded pods, and all but the oldest of several
 *     are deleted; a failed pod only once per step of a backoff (1 s
 *     doubling to 15 min) per DaemonSet generation and node, with a
 *     FailedDaemonPod Event, so that a node that keeps failing the pod is
 *     not fought in a hot loop. Bosun has no pod garbage collector, so daemon pods whose
 *     node no longer exists are deleted here too (Kubernetes' PodGC does it
 *     for scheduled ones);
 *  3. RollingUpdate with maxSurge 0: old pods are deleted while the
 *     number of unavailable daemon pods stays within maxUnavailable; the
 *     next manage creates their replacements. With maxSurge > 0 (then
 *     maxUnavailable is 0: validation) the new pod starts beside the old
 *     one instead (update.go's surge branch): a node whose old pod is not
 *     available gets its new pod at once; of the nodes whose old pod is
 *     available, as many as maxSurge (of the desired nodes, rounding up)
 *     minus the nodes already surging (new pod not yet available, or
 *     excess pods) get theirs; once a new pod is available (Ready for
 *     minReadySeconds) the old one on its node is deleted, and the sync is
 *     queued again for when the next surging pod becomes available. Manage
 *     then keeps two pods on a node only while the oldest new one is not
 *     available and the oldest old one is Ready. OnDelete leaves old pods
 *     alone;
 *  4. status: desired/current/misscheduled/ready/available/updated/
 *     unavailable numbers and observedGeneration;
 *  5. old ControllerRevisions beyond revisionHistoryLimit are deleted,
 *     except those that live pods still carry.
 *
 * The decisions (node fit, what manage and the rolling update do, the
 * status) are pure functions on JSON states, declared in ctl_internal.h
 * and unit-tested. The node fit duplicates, on JSON, a small part of
 * scheduler/filter.c (toleration and node selector term matching), whose
 * functions work on the scheduler's cache structures and are private to
 * scheduler/.
 *
 * Changes: a DaemonSet queues itself; a pod with a DaemonSet controller
 * reference queues that DaemonSet; an orphan pod (not being deleted)
 * queues the DaemonSet that controlled it just before, if any, and every
 * DaemonSet of its namespace that selects it; a node whose labels or
 * taints changed (or that came or went) queues every DaemonSet —
 * heartbeats that change nothing else are ignored, as Kubernetes'
 * shouldIgnoreNodeUpdate does. The template generation
 * (pod-template-generation label) is the DaemonSet's
 * deprecated.daemonset.template.generation annotation when
 * present, else its metadata.generation: bosun's API server does not keep
 * a separate template generation. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define DS "daemonset"
#define HASH_LABEL "controller-revision-hash"
#define GEN_LABEL "pod-template-generation"
#define GEN_ANNOTATION "deprecated.daemonset.template.generation"
#define BURST 250 /* Kubernetes' burstReplicas: writes per sync and kind */

/* ---- small JSON helpers ---- */

static json_t *meta(json_t *o)
{
    return json_object_get(o, "metadata");
}

static const char *name_of(json_t *o)
{
    return ctl_str(meta(o), "name");
}

static json_t *at(json_t *o, const char *a, const char *b)
{
    return json_object_get(json_object_get(o, a), b);
}

static json_t *obj_ensure(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(o, key, v);
    }
    return v;
}

static const char *label(json_t *o, const char *key)
{
    return json_string_value(json_object_get(json_object_get(meta(o), "labels"), key));
}

static const char *phase(json_t *pod)
{
    return ctl_str(json_object_get(pod, "status"), "phase");
}

static bool terminal(json_t *pod)
{
    return strcmp(phase(pod), "Succeeded") == 0 || strcmp(phase(pod), "Failed") == 0;
}

static bool deleting(json_t *o)
{
    return json_object_get(meta(o), "deletionTimestamp") != NULL;
}

/* ---- tolerations and taints ---- */

static const struct {
    const char *key, *effect;
    bool host_network_only;
} daemon_tolerations[] = {
    {"node.kubernetes.io/not-ready", "NoExecute", false},
    {"node.kubernetes.io/unreachable", "NoExecute", false},
    {"node.kubernetes.io/disk-pressure", "NoSchedule", false},
    {"node.kubernetes.io/memory-pressure", "NoSchedule", false},
    {"node.kubernetes.io/pid-pressure", "NoSchedule", false},
    {"node.kubernetes.io/unschedulable", "NoSchedule", false},
    {"node.kubernetes.io/network-unavailable", "NoSchedule", true},
};

/* Toleration.MatchToleration: the same key, operator, value and effect. */
static bool toleration_same(json_t *a, json_t *b)
{
    static const char *fields[] = {"key", "operator", "value", "effect"};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(ctl_str(a, fields[i]), ctl_str(b, fields[i])) != 0)
            return false;
    return true;
}

void ctl_ds_add_default_tolerations(json_t *pod_spec)
{
    assert(json_is_object(pod_spec));
    json_t *tols = json_object_get(pod_spec, "tolerations");
    if (!json_is_array(tols)) {
        tols = json_array();
        json_object_set_new(pod_spec, "tolerations", tols);
    }
    bool host = json_is_true(json_object_get(pod_spec, "hostNetwork"));
    for (size_t d = 0; d < sizeof daemon_tolerations / sizeof daemon_tolerations[0]; d++) {
        if (daemon_tolerations[d].host_network_only && !host)
            continue;
        json_t *t = json_pack("{s:s, s:s, s:s}", "key", daemon_tolerations[d].key, "operator",
                              "Exists", "effect", daemon_tolerations[d].effect);
        json_t *x;
        size_t i;
        bool replaced = false;
        json_array_foreach(tols, i, x) if (toleration_same(x, t))
        {
            json_array_set(tols, i, t); /* drops a tolerationSeconds, as Kubernetes does */
            replaced = true;
            break;
        }
        if (!replaced)
            json_array_append(tols, t);
        json_decref(t);
    }
}

/* Whether a taint with one of the effects (NoExecute only, or NoSchedule
 * and NoExecute) is tolerated by none of tols. */
static bool untolerated(json_t *taints, json_t *tols, bool no_execute_only)
{
    json_t *t, *tol;
    size_t i, j;
    json_array_foreach(taints, i, t)
    {
        const char *eff = ctl_str(t, "effect");
        if (strcmp(eff, "NoExecute") != 0 && (no_execute_only || strcmp(eff, "NoSchedule") != 0))
            continue;
        bool ok = false;
        json_array_foreach(tols, j, tol) if (kube_toleration_matches(tol, ctl_str(t, "key"),
                                                                     ctl_str(t, "value"), eff))
        {
            ok = true;
            break;
        }
        if (!ok)
            return true;
    }
    return false;
}

/* ---- decisions ---- */

bool ctl_ds_node_should_run(json_t *ds, json_t *node, bool *should_continue)
{
    json_t *spec = json_object_get(at(ds, "spec", "template"), "spec");
    const char *want = ctl_str(spec, "nodeName");
    *should_continue = false;
    if ((*want && strcmp(want, name_of(node)) != 0) || !kube_node_affinity_match(spec, node))
        return false;
    /* The pod's tolerations: the template's plus the daemon defaults. */
    json_t *tols = json_object(), *v = json_object_get(spec, "tolerations");
    if (v)
        json_object_set_new(tols, "tolerations", json_deep_copy(v));
    if ((v = json_object_get(spec, "hostNetwork")))
        json_object_set(tols, "hostNetwork", v);
    ctl_ds_add_default_tolerations(tols);
    json_t *taints = at(node, "spec", "taints");
    json_t *tl = json_object_get(tols, "tolerations");
    bool fits = !untolerated(taints, tl, false);
    *should_continue = fits || !untolerated(taints, tl, true);
    json_decref(tols);
    return fits;
}

const char *ctl_ds_pod_target_node(json_t *pod)
{
    json_t *spec = json_object_get(pod, "spec");
    if (*ctl_str(spec, "nodeName"))
        return ctl_str(spec, "nodeName");
    json_t *terms = at(at(spec, "affinity", "nodeAffinity"),
                       "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms");
    json_t *term, *r;
    size_t i, j;
    json_array_foreach(terms, i, term) json_array_foreach(json_object_get(term, "matchFields"), j, r)
    {
        json_t *values = json_object_get(r, "values");
        if (strcmp(ctl_str(r, "key"), "metadata.name") == 0 &&
            strcmp(ctl_str(r, "operator"), "In") == 0)
            return json_array_size(values) == 1 ? json_string_value(json_array_get(values, 0))
                                                : NULL;
    }
    return NULL;
}

/* The template generation as a label value. */
static void template_generation(json_t *ds, char *buf, size_t len)
{
    const char *ann = json_string_value(at(meta(ds), "annotations", GEN_ANNOTATION));
    if (ann && *ann)
        snprintf(buf, len, "%s", ann);
    else
        snprintf(buf, len, "%lld",
                 (long long)json_integer_value(json_object_get(meta(ds), "generation")));
}

bool ctl_ds_pod_updated(json_t *ds, json_t *pod, const char *hash)
{
    char gen[32];
    template_generation(ds, gen, sizeof gen);
    const char *h = label(pod, HASH_LABEL), *g = label(pod, GEN_LABEL);
    return (hash && *hash && h && strcmp(h, hash) == 0) || (g && strcmp(g, gen) == 0);
}

json_t *ctl_ds_new_pod(json_t *ds, const char *hash, const char *node)
{
    json_t *tmpl = json_deep_copy(at(ds, "spec", "template"));
    if (!json_is_object(tmpl)) {
        json_decref(tmpl);
        tmpl = json_object();
    }
    char gen[32];
    template_generation(ds, gen, sizeof gen);
    json_t *labels = obj_ensure(obj_ensure(tmpl, "metadata"), "labels");
    json_object_set_new(labels, GEN_LABEL, json_string(gen));
    json_object_set_new(labels, HASH_LABEL, json_string(hash));
    json_t *spec = obj_ensure(tmpl, "spec");
    ctl_ds_add_default_tolerations(spec);
    /* ReplaceDaemonSetPodNodeNameNodeAffinity: the scheduler binds it there. */
    json_t *na = obj_ensure(obj_ensure(spec, "affinity"), "nodeAffinity");
    json_object_set_new(
        na, "requiredDuringSchedulingIgnoredDuringExecution",
        json_pack("{s:[{s:[{s:s, s:s, s:[s]}]}]}", "nodeSelectorTerms", "matchFields", "key",
                  "metadata.name", "operator", "In", "values", node));
    json_t *pod = ctl_pod_from_template(ds, "apps/v1", "DaemonSet", tmpl);
    json_decref(tmpl);
    char gn[300];
    snprintf(gn, sizeof gn, "%.250s-", name_of(ds));
    json_object_set_new(meta(pod), "generateName", json_string(gn));
    return pod;
}

/* podByCreationTimestampAndPhase: scheduled first, then oldest, then name. */
static int pod_order(const void *a, const void *b)
{
    json_t *p = *(json_t *const *)a, *q = *(json_t *const *)b;
    bool ps = *ctl_str(json_object_get(p, "spec"), "nodeName");
    bool qs = *ctl_str(json_object_get(q, "spec"), "nodeName");
    if (ps != qs)
        return ps ? -1 : 1;
    int c = strcmp(ctl_str(meta(p), "creationTimestamp"), ctl_str(meta(q), "creationTimestamp"));
    return c ? c : strcmp(name_of(p), name_of(q));
}

/* Sorts a JSON array of pods in place by pod_order. */
static void sort_pods(json_t *pods)
{
    size_t n = json_array_size(pods);
    if (n < 2)
        return;
    json_t **v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(pods, i));
    qsort(v, n, sizeof *v, pod_order);
    json_array_clear(pods);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(pods, v[i]);
    free(v);
}

/* getNodesToDaemonPods: node name -> new JSON array of its daemon pods
 * (oldest first), leaving out terminal pods being deleted and pods whose
 * node cannot be told. */
static void group_by_node(json_t *pods, struct umap *out)
{
    json_t *p;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        const char *node = ctl_ds_pod_target_node(p);
        if (!node || (terminal(p) && deleting(p)))
            continue;
        json_t *list = umap_get(out, node);
        if (!list) {
            list = json_array();
            umap_put(out, node, list);
        }
        json_array_append(list, p);
    }
    size_t it = 0;
    void *v;
    while (umap_next(out, &it, NULL, &v))
        sort_pods(v);
}

static void group_free(struct umap *m)
{
    size_t it = 0;
    void *v;
    while (umap_next(m, &it, NULL, &v))
        json_decref(v);
    umap_free(m);
}

/* intstr.GetScaledValueFromIntOrPercent, rounding up. */
static long scaled(json_t *v, long total)
{
    if (json_is_integer(v))
        return (long)json_integer_value(v);
    const char *s = json_string_value(v);
    if (!s)
        return 0;
    char *end;
    long pct = strtol(s, &end, 10);
    if (*end == '%')
        return (pct * total + 99) / 100;
    return pct;
}

/* SurgeCount: a RollingUpdate's maxSurge scaled to total (rounding up);
 * 0 for any other strategy. */
static long surge_count(json_t *ds, long total)
{
    json_t *strategy = at(ds, "spec", "updateStrategy");
    if (strcmp(ctl_str(strategy, "type"), "RollingUpdate") != 0)
        return 0;
    return scaled(json_object_get(json_object_get(strategy, "rollingUpdate"), "maxSurge"), total);
}

bool ctl_ds_allows_surge(json_t *ds)
{
    return surge_count(ds, 1) > 0;
}

static int64_t min_ready_s(json_t *ds)
{
    return json_integer_value(at(ds, "spec", "minReadySeconds"));
}

/* podsShouldBeOnNode's surge rule for running (oldest first): the oldest
 * new and the oldest old pod may stay together, until the new one is
 * available or the old one is not Ready; every other pod goes. (New =
 * ctl_ds_pod_updated, the rolling update's test, so both agree.) */
static void plan_surge_node(json_t *ds, json_t *running, const char *hash, int64_t now_ms,
                            struct ctl_ds_plan *out)
{
    assert(ctl_ds_allows_surge(ds));
    json_t *oldest_new = NULL, *oldest_old = NULL, *p;
    size_t i;
    json_array_foreach(running, i, p)
    {
        json_t **slot = ctl_ds_pod_updated(ds, p, hash) ? &oldest_new : &oldest_old;
        if (*slot)
            json_array_append(out->delete_pods, p);
        else
            *slot = p;
    }
    if (oldest_new && oldest_old &&
        (!ctl_pod_ready(oldest_old) || ctl_pod_available(oldest_new, min_ready_s(ds), now_ms)))
        json_array_append(out->delete_pods, oldest_old);
}

/* A failed pod on node: deleted unless its DaemonSet generation and node
 * are in backoff (then the sync comes back when it ends); deleting it
 * steps the backoff. */
static void plan_failed(json_t *ds, json_t *node, json_t *pod, int64_t now_ms,
                        struct ctl_backoff *backoff, struct ctl_ds_plan *out)
{
    if (backoff) {
        char key[512];
        int64_t left;
        snprintf(key, sizeof key, "%s/%" JSON_INTEGER_FORMAT "/%s", ctl_str(meta(ds), "uid"),
                 json_integer_value(at(ds, "status", "observedGeneration")), name_of(node));
        if (ctl_backoff_active(backoff, key, now_ms, &left)) {
            if (!out->requeue_ms || left < out->requeue_ms)
                out->requeue_ms = left;
            return;
        }
        ctl_backoff_next(backoff, key, now_ms);
    }
    json_array_append(out->delete_pods, pod);
    json_array_append(out->failed_pods, pod);
}

/* podsShouldBeOnNode. */
static void plan_node(json_t *ds, json_t *node, json_t *here, const char *hash, int64_t now_ms,
                      struct ctl_backoff *backoff, struct ctl_ds_plan *out)
{
    bool cont, run = ctl_ds_node_should_run(ds, node, &cont);
    json_t *p;
    size_t i;
    if (run && !here) {
        json_array_append_new(out->create_nodes, json_string(name_of(node)));
    } else if (cont) {
        json_t *running = json_array();
        json_array_foreach(here, i, p)
        {
            if (deleting(p))
                continue;
            if (strcmp(phase(p), "Failed") == 0) /* replaced by the next sync */
                plan_failed(ds, node, p, now_ms, backoff, out);
            else if (terminal(p)) /* succeeded: replaced without a backoff */
                json_array_append(out->delete_pods, p);
            else
                json_array_append(running, p);
        }
        if (ctl_ds_allows_surge(ds))
            plan_surge_node(ds, running, hash, now_ms, out);
        else
            for (i = 1; i < json_array_size(running); i++) /* keep the oldest */
                json_array_append(out->delete_pods, json_array_get(running, i));
        json_decref(running);
    } else if (here) {
        json_array_foreach(here, i, p) if (!deleting(p)) json_array_append(out->delete_pods, p);
    }
}

void ctl_ds_plan_manage(json_t *ds, json_t *nodes, json_t *pods, const char *hash,
                        int64_t now_ms, struct ctl_backoff *backoff, struct ctl_ds_plan *out)
{
    out->create_nodes = json_array();
    out->delete_pods = json_array();
    out->failed_pods = json_array();
    out->requeue_ms = 0;
    struct umap by_node = {0}, present = {0};
    group_by_node(pods, &by_node);
    json_t *node;
    size_t i;
    json_array_foreach(nodes, i, node)
    {
        umap_put(&present, name_of(node), node);
        plan_node(ds, node, umap_get(&by_node, name_of(node)), hash, now_ms, backoff, out);
    }
    /* Pods for nodes that are gone: never scheduled ones (Kubernetes'
     * getUnscheduledPodsWithoutNode) and, for want of a pod GC, bound ones. */
    size_t it = 0;
    const char *k;
    void *v;
    while (umap_next(&by_node, &it, &k, &v)) {
        if (umap_get(&present, k))
            continue;
        json_t *p;
        json_array_foreach((json_t *)v, i, p) if (!deleting(p)) json_array_append(out->delete_pods, p);
    }
    umap_free(&present);
    group_free(&by_node);
}

/* The new and old pod on a node (findUpdatedPodsOnNode); false if there
 * are several of either (manage sorts that out first). */
static bool updated_on_node(json_t *ds, json_t *here, const char *hash, json_t **new_pod,
                            json_t **old_pod)
{
    json_t *p;
    size_t i;
    *new_pod = *old_pod = NULL;
    json_array_foreach(here, i, p)
    {
        if (deleting(p))
            continue;
        json_t **slot = ctl_ds_pod_updated(ds, p, hash) ? new_pod : old_pod;
        if (*slot)
            return false;
        *slot = p;
    }
    return true;
}

/* One node's part of the rolling update. */
struct rolling {
    json_t *ds;
    const char *hash;
    int64_t now_ms, min_ready;
    long unavailable, max_unavailable;
    json_t *replace;    /* old pods not available: deleted regardless */
    json_t *candidates; /* old available pods, deleted within the budget */
};

static void rolling_node(struct rolling *r, json_t *here)
{
    json_t *np, *op;
    if (!updated_on_node(r->ds, here, r->hash, &np, &op) || (!np && !op) || (np && op)) {
        r->unavailable++; /* manage creates or deletes first */
    } else if (np) {
        if (!ctl_pod_available(np, r->min_ready, r->now_ms))
            r->unavailable++;
    } else if (!ctl_pod_available(op, r->min_ready, r->now_ms)) {
        json_array_append(r->replace, op);
    } else if (r->unavailable < r->max_unavailable) {
        json_array_append(r->candidates, op);
    }
}

/* How many of nodes should run a daemon pod (desiredNumberScheduled). */
static long desired_nodes(json_t *ds, json_t *nodes)
{
    long desired = 0;
    json_t *node;
    size_t i;
    json_array_foreach(nodes, i, node)
    {
        bool cont;
        desired += ctl_ds_node_should_run(ds, node, &cont);
    }
    return desired;
}

json_t *ctl_ds_plan_rolling(json_t *ds, json_t *nodes, json_t *pods, const char *hash,
                            int64_t now_ms)
{
    struct rolling r = {ds, hash, now_ms,
                        json_integer_value(at(ds, "spec", "minReadySeconds")), 0, 0,
                        json_array(), json_array()};
    struct umap by_node = {0}, seen = {0};
    group_by_node(pods, &by_node);
    long desired = desired_nodes(ds, nodes);
    json_t *node;
    size_t i;
    json_t *ru = json_object_get(at(ds, "spec", "updateStrategy"), "rollingUpdate");
    r.max_unavailable = scaled(json_object_get(ru, "maxUnavailable"), desired);
    if (desired > 0 && r.max_unavailable <= 0)
        r.max_unavailable = 1; /* an impossible configuration: Kubernetes' default */
    json_array_foreach(nodes, i, node)
    {
        bool cont;
        json_t *here = umap_get(&by_node, name_of(node));
        umap_put(&seen, name_of(node), node);
        if (here || ctl_ds_node_should_run(ds, node, &cont))
            rolling_node(&r, here);
    }
    size_t it = 0;
    const char *k;
    void *v;
    while (umap_next(&by_node, &it, &k, &v))
        if (!umap_get(&seen, k))
            rolling_node(&r, v);
    long room = r.max_unavailable - r.unavailable;
    for (i = 0; room > 0 && i < json_array_size(r.candidates); i++, room--)
        json_array_append(r.replace, json_array_get(r.candidates, i));
    json_decref(r.candidates);
    umap_free(&seen);
    group_free(&by_node);
    return r.replace;
}

/* One surge round's tally (update.go's rollingUpdate, maxSurge > 0). */
struct surge {
    json_t *ds;
    const char *hash;
    int64_t now_ms;
    long num_surge;      /* nodes surging already (or with excess pods) */
    long num_available;  /* nodes whose old (else new) pod is available */
    json_t *keep_until;  /* new pods surging: ready, waiting for minReadySeconds */
    json_t *should_not_run; /* available old pods on nodes that should not run one */
    json_t *allowed;     /* nodes whose old pod is unavailable: a new pod at once */
    json_t *candidates;  /* nodes whose old pod is available: within maxSurge */
};

static bool surge_available(struct surge *g, json_t *pod)
{
    return ctl_pod_available(pod, min_ready_s(g->ds), g->now_ms);
}

/* One node's part: its pods here (not NULL), node the Node object. */
static void surge_node(struct surge *g, json_t *node, json_t *here, struct ctl_ds_plan *out)
{
    json_t *np, *op;
    bool cont;
    if (!updated_on_node(g->ds, here, g->hash, &np, &op)) {
        g->num_surge++; /* manage sorts the excess out first */
        return;
    }
    if (op || np)
        g->num_available += surge_available(g, op ? op : np);
    if (!op)
        return; /* up to date, or manage creates it */
    bool run = ctl_ds_node_should_run(g->ds, node, &cont);
    if (np) {
        if (surge_available(g, np)) {
            json_array_append(out->delete_pods, op); /* replaced */
        } else {
            g->num_surge++;
            json_array_append(g->keep_until, np);
        }
    } else if (!surge_available(g, op)) {
        if (run)
            json_array_append_new(g->allowed, json_string(name_of(node)));
        else
            json_array_append(out->delete_pods, op);
    } else if (run) {
        json_array_append_new(g->candidates, json_string(name_of(node)));
    } else {
        json_array_append(g->should_not_run, op);
    }
}

void ctl_ds_plan_surge(json_t *ds, json_t *nodes, json_t *pods, const char *hash,
                       int64_t now_ms, struct ctl_ds_plan *out, int64_t *wait_ms)
{
    assert(ctl_ds_allows_surge(ds));
    out->create_nodes = json_array();
    out->delete_pods = json_array();
    out->failed_pods = NULL;
    out->requeue_ms = 0;
    struct surge g = {ds, hash, now_ms, 0, 0, json_array(), json_array(), json_array(),
                      json_array()};
    struct umap by_node = {0};
    group_by_node(pods, &by_node);
    long desired = desired_nodes(ds, nodes);
    json_t *node;
    size_t i;
    json_array_foreach(nodes, i, node)
    {
        json_t *here = umap_get(&by_node, name_of(node));
        if (here)
            surge_node(&g, node, here, out);
    }
    /* Pods on nodes that should not run one go only while enough others
     * are available: with maxSurge the owner expects no gap. */
    long deletable = g.num_available - desired;
    for (i = 0; deletable > 0 && i < json_array_size(g.should_not_run); i++, deletable--)
        json_array_append(out->delete_pods, json_array_get(g.should_not_run, i));
    long room = surge_count(ds, desired) - g.num_surge;
    json_array_extend(out->create_nodes, g.allowed);
    for (i = 0; room > 0 && i < json_array_size(g.candidates); i++, room--)
        json_array_append(out->create_nodes, json_array_get(g.candidates, i));
    *wait_ms = ctl_rs_next_available_ms(ds, g.keep_until, now_ms);
    json_decref(g.keep_until);
    json_decref(g.should_not_run);
    json_decref(g.allowed);
    json_decref(g.candidates);
    group_free(&by_node);
}

json_t *ctl_ds_status(json_t *ds, json_t *nodes, json_t *pods, const char *hash, int64_t now_ms)
{
    long desired = 0, current = 0, mis = 0, ready = 0, available = 0, updated = 0;
    int64_t min_ready = json_integer_value(at(ds, "spec", "minReadySeconds"));
    struct umap by_node = {0};
    group_by_node(pods, &by_node);
    json_t *node;
    size_t i;
    json_array_foreach(nodes, i, node)
    {
        bool cont, run = ctl_ds_node_should_run(ds, node, &cont);
        json_t *here = umap_get(&by_node, name_of(node));
        bool scheduled = json_array_size(here) > 0;
        if (!run) {
            mis += scheduled;
            continue;
        }
        desired++;
        if (!scheduled)
            continue;
        current++;
        json_t *p = json_array_get(here, 0); /* the oldest */
        if (ctl_pod_ready(p)) {
            ready++;
            available += ctl_pod_available(p, min_ready, now_ms);
        }
        updated += ctl_ds_pod_updated(ds, p, hash);
    }
    group_free(&by_node);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "desiredNumberScheduled",
                     (json_int_t)desired, "currentNumberScheduled", (json_int_t)current,
                     "numberMisscheduled", (json_int_t)mis, "numberReady", (json_int_t)ready,
                     "numberAvailable", (json_int_t)available, "updatedNumberScheduled",
                     (json_int_t)updated, "numberUnavailable", (json_int_t)(desired - available));
}

bool ctl_ds_revision_matches(json_t *ds, json_t *rev)
{
    json_t *t = json_deep_copy(json_object_get(at(rev, "data", "spec"), "template"));
    json_object_del(t, "$patch");
    bool same = t && json_equal(t, at(ds, "spec", "template"));
    json_decref(t);
    return same;
}

/* ---- I/O: the change stream ---- */

static bool is(const struct store_event *e, const char *res)
{
    size_t n = strlen(res);
    return e->o.resource_len == n && memcmp(e->o.resource, res, n) == 0;
}

/* Every pod: an orphan may be adopted, a pod that lost its controller may
 * have been a DaemonSet's. */
static bool wants(const struct store_event *e)
{
    return is(e, "daemonsets") || is(e, "nodes") || is(e, "pods");
}

static int enqueue_one(void *arg, const struct store_obj *o)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)o->ns_len, o->ns);
    snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
    ctl_enqueue(arg, DS, "daemonsets", ns, name);
    return 0;
}

/* Queues every DaemonSet (keys only, nothing decoded). */
static void enqueue_all(struct ctl *c)
{
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return;
    store_list(&r, "daemonsets", NULL, enqueue_one, c);
    store_read_end(&r);
}

/* What of a node the DaemonSets look at: its labels and taints. */
static uint64_t node_digest(json_t *node)
{
    json_t *d = json_pack("{s:O*, s:O*}", "l", at(node, "metadata", "labels"), "t",
                          at(node, "spec", "taints"));
    char *text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    uint64_t h = util_hash_str(UTIL_HASH_SEED, text ? text : "");
    free(text);
    json_decref(d);
    return h | 1; /* never 0: 0 is "unknown" */
}

/* The controller's memory on this leader: the nodes' digests, and the
 * failed pods' backoff. */
struct ds_state {
    struct umap digests; /* node name -> uint64_t digest */
    struct ctl_backoff failed;
};

static void free_state(void *state)
{
    struct ds_state *st = state;
    size_t it = 0;
    void *v;
    while (umap_next(&st->digests, &it, NULL, &v))
        free(v);
    umap_free(&st->digests);
    ctl_backoff_free(&st->failed);
    free(st);
}

static struct ds_state *state_of(struct ctl *c)
{
    void **slot = ctl_state(c, DS);
    if (!*slot) {
        struct ds_state *st = xcalloc(1, sizeof *st);
        ctl_backoff_init(&st->failed, CTL_DS_FAILED_BACKOFF_MS, CTL_DS_FAILED_BACKOFF_MAX_MS);
        *slot = st;
    }
    return *slot;
}

/* Records a node's digest; true if it differs from the one recorded. */
static bool node_changed(struct ctl *c, const char *name, json_t *node)
{
    struct umap *m = &state_of(c)->digests;
    uint64_t *old = umap_get(m, name);
    if (!node) {
        free(umap_del(m, name));
        return true;
    }
    uint64_t d = node_digest(node);
    if (old && *old == d)
        return false;
    if (!old) {
        old = xmalloc(sizeof *old);
        umap_put(m, name, old);
    }
    *old = d;
    return true;
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    if (is(e, "daemonsets")) {
        ctl_enqueue(c, DS, "daemonsets", ns, name);
    } else if (is(e, "pods")) {
        json_t *ref = ctl_controller_ref(obj);
        if (ref && strcmp(ctl_str(ref, "kind"), "DaemonSet") == 0)
            ctl_enqueue(c, DS, "daemonsets", ns, ctl_str(ref, "name"));
        if (ref || e->type == STORE_DELETED || deleting(obj))
            return; /* nobody adopts an orphan that goes */
        ctl_enqueue_previous_owner(c, e, DS, "daemonsets", "DaemonSet");
        ctl_enqueue_selecting(c, DS, "daemonsets", ns, obj);
    } else if (node_changed(c, name, e->type == STORE_DELETED ? NULL : obj)) {
        enqueue_all(c);
    }
}

/* Every DaemonSet is synced, the nodes' digests are taken afresh, and
 * backoffs long over are forgotten. */
static void resync(struct ctl *c)
{
    enqueue_all(c);
    ctl_backoff_gc(&state_of(c)->failed, util_wall_ms());
    json_t *nodes = ctl_list(c, "nodes", NULL, NULL), *n;
    size_t i;
    json_array_foreach(nodes, i, n) node_changed(c, name_of(n), n);
    json_decref(nodes);
}

/* ---- I/O: history ---- */

static json_int_t revision_of(json_t *rev)
{
    return json_integer_value(json_object_get(rev, "revision"));
}

static json_t *new_revision(json_t *ds, const char *hash, json_int_t number)
{
    json_t *labels = json_deep_copy(at(at(ds, "spec", "template"), "metadata", "labels"));
    if (!json_is_object(labels)) {
        json_decref(labels);
        labels = json_object();
    }
    json_object_set_new(labels, HASH_LABEL, json_string(hash));
    json_t *tmpl = json_deep_copy(at(ds, "spec", "template"));
    json_object_set_new(tmpl, "$patch", json_string("replace"));
    char name[300];
    snprintf(name, sizeof name, "%.240s-%s", name_of(ds), hash);
    json_t *md = json_pack("{s:s, s:s, s:o, s:[o]}", "name", name, "namespace",
                           ctl_str(meta(ds), "namespace"), "labels", labels, "ownerReferences",
                           ctl_owner_ref(ds, "apps/v1", "DaemonSet"));
    json_t *ann = at(ds, "metadata", "annotations");
    if (json_is_object(ann))
        json_object_set_new(md, "annotations", json_deep_copy(ann));
    return json_pack("{s:s, s:s, s:o, s:{s:{s:o}}, s:I}", "apiVersion", "apps/v1", "kind",
                     "ControllerRevision", "metadata", md, "data", "spec", "template", tmpl,
                     "revision", number);
}

static bool put_object(struct ctl *c, const char *resource, json_t *obj)
{
    char path[800];
    if (!ctl_object_path(resource, ctl_str(meta(obj), "namespace"), name_of(obj), path,
                         sizeof path))
        return false;
    int st = ctl_api(c, "PUT", path, NULL, obj, NULL);
    return st == 200 || st == 404;
}

static bool delete_path(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    char path[800];
    if (!ctl_object_path(resource, ns, name, path, sizeof path))
        return false;
    int st = ctl_api(c, "DELETE", path, NULL, NULL, NULL);
    return st == 200 || st == 202 || st == 404;
}

/* Bumps status.collisionCount after a name collision (snapshot()). */
static bool bump_collision(struct ctl *c, json_t *ds)
{
    json_t *copy = json_deep_copy(ds), *st = obj_ensure(copy, "status");
    json_object_set_new(st, "collisionCount",
                        json_integer(json_integer_value(json_object_get(st, "collisionCount")) + 1));
    LOG_INFO("controllers: daemonset %s/%s: revision name collision, collisionCount now %lld",
             ctl_str(meta(ds), "namespace"), name_of(ds),
             (long long)json_integer_value(json_object_get(st, "collisionCount")));
    ctl_status_update(c, "daemonsets", copy);
    json_decref(copy);
    return false; /* the DaemonSet's change brings it back */
}

/* Creates the current revision; false to retry. */
static bool create_revision(struct ctl *c, json_t *ds, const char *hash, json_int_t number,
                            json_t **cur)
{
    const char *ns = ctl_str(meta(ds), "namespace");
    json_t *rev = new_revision(ds, hash, number);
    char path[600];
    snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/controllerrevisions", ns);
    int st = ctl_api(c, "POST", path, NULL, rev, cur);
    if (st == 409) {
        json_decref(*cur);
        *cur = ctl_get(c, "controllerrevisions", ns, name_of(rev));
        json_decref(rev);
        if (*cur && ctl_ds_revision_matches(ds, *cur))
            return true;
        json_decref(*cur);
        *cur = NULL;
        return bump_collision(c, ds);
    }
    json_decref(rev);
    if (st != 201) {
        json_decref(*cur);
        *cur = NULL;
        return false;
    }
    return true;
}

/* controlledHistories: the revisions of ds's namespace it claims (adopting
 * orphans its selector matches, releasing its own that it no longer
 * does); a new array. */
static json_t *claim_history(struct ctl_claimer *m, bool *ok)
{
    json_t *md = meta(m->owner);
    json_t *all = ctl_list_claimable(m->c, "controllerrevisions", ctl_str(md, "namespace"),
                                     ctl_str(md, "uid"));
    json_t *mine = ctl_claim(m, "controllerrevisions", all, ok);
    json_decref(all);
    return mine;
}

/* constructHistory: the current revision's hash into hash, the old ones
 * into *old (a new array). */
static bool construct_history(struct ctl_claimer *m, char *hash, size_t len, json_t **old)
{
    struct ctl *c = m->c;
    json_t *ds = m->owner;
    const char *ns = ctl_str(meta(ds), "namespace");
    bool ok = true;
    *old = json_array();
    json_t *revs = claim_history(m, &ok), *r;
    if (!ok) {
        json_decref(revs);
        return false;
    }
    json_t *cur = NULL;
    json_int_t max_old = 0;
    size_t i;
    json_array_foreach(revs, i, r)
    {
        if (!ctl_ds_revision_matches(ds, r)) {
            json_array_append(*old, r);
            max_old = revision_of(r) > max_old ? revision_of(r) : max_old;
        } else if (!cur || revision_of(r) > revision_of(cur)) {
            if (cur) /* dedupCurHistories: keep the newest */
                ok &= delete_path(c, "controllerrevisions", ns, name_of(cur));
            cur = r;
        } else {
            ok &= delete_path(c, "controllerrevisions", ns, name_of(r));
        }
    }
    json_incref(cur);
    json_decref(revs);
    char want[16];
    ctl_template_hash(at(ds, "spec", "template"), at(ds, "status", "collisionCount"), want,
                      sizeof want);
    if (!cur) {
        if (!create_revision(c, ds, want, max_old + 1, &cur))
            return false;
    } else if (revision_of(cur) < max_old + 1) {
        json_object_set_new(cur, "revision", json_integer(max_old + 1));
        ok &= put_object(c, "controllerrevisions", cur);
    }
    const char *h = label(cur, HASH_LABEL);
    snprintf(hash, len, "%s", h ? h : want);
    json_decref(cur);
    return ok;
}

/* cleanupHistory: old revisions beyond revisionHistoryLimit, oldest first,
 * except those live pods carry. */
static int rev_order(const void *a, const void *b)
{
    json_int_t x = revision_of(*(json_t *const *)a), y = revision_of(*(json_t *const *)b);
    return x < y ? -1 : x > y;
}

static bool cleanup_history(struct ctl *c, json_t *ds, json_t *old, json_t *pods)
{
    json_t *limit_v = at(ds, "spec", "revisionHistoryLimit");
    long limit = json_is_integer(limit_v) ? (long)json_integer_value(limit_v) : 10;
    long to_kill = (long)json_array_size(old) - limit;
    if (to_kill <= 0)
        return true;
    size_t n = json_array_size(old), i;
    json_t **v = xmalloc(n * sizeof *v);
    for (i = 0; i < n; i++)
        v[i] = json_array_get(old, i);
    qsort(v, n, sizeof *v, rev_order);
    bool ok = true;
    for (i = 0; i < n && to_kill > 0; i++) {
        const char *h = label(v[i], HASH_LABEL);
        bool live = false;
        json_t *p;
        size_t j;
        json_array_foreach(pods, j, p) if (h && label(p, HASH_LABEL) &&
                                           strcmp(label(p, HASH_LABEL), h) == 0) live = true;
        if (live)
            continue;
        ok &= delete_path(c, "controllerrevisions", ctl_str(meta(ds), "namespace"),
                          name_of(v[i]));
        to_kill--;
    }
    free(v);
    return ok;
}

/* ---- I/O: pods ---- */

static bool create_pods(struct ctl *c, json_t *ds, json_t *node_names, const char *hash)
{
    size_t n = json_array_size(node_names);
    n = n > BURST ? BURST : n;
    if (!n)
        return true;
    struct ctl_call *calls = xcalloc(n, sizeof *calls);
    const char *ns = ctl_str(meta(ds), "namespace");
    for (size_t i = 0; i < n; i++) {
        calls[i].method = "POST";
        snprintf(calls[i].path, sizeof calls[i].path, "/api/v1/namespaces/%s/pods", ns);
        calls[i].body = ctl_ds_new_pod(ds, hash, json_string_value(json_array_get(node_names, i)));
        calls[i].want_reply = true;
    }
    ctl_api_many(c, calls, n);
    bool ok = n == json_array_size(node_names);
    for (size_t i = 0; i < n; i++) {
        if (calls[i].status == 201)
            ctl_event(c, "daemonsets", ds, "Normal", "SuccessfulCreate", "Created pod: %s",
                      name_of(calls[i].reply));
        else {
            ok = false;
            ctl_event(c, "daemonsets", ds, "Warning", "FailedCreate",
                      "Error creating: %s (%d)", ctl_str(calls[i].reply, "message"),
                      calls[i].status);
        }
        json_decref(calls[i].body);
        json_decref(calls[i].reply);
    }
    free(calls);
    return ok;
}

static bool delete_pods(struct ctl *c, json_t *ds, json_t *pods)
{
    size_t n = json_array_size(pods);
    n = n > BURST ? BURST : n;
    if (!n)
        return true;
    struct ctl_call *calls = xcalloc(n, sizeof *calls);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(pods, i);
        calls[i].method = "DELETE";
        ctl_object_path("pods", ctl_str(meta(p), "namespace"), name_of(p), calls[i].path,
                        sizeof calls[i].path);
        calls[i].body = json_pack("{s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
                                  "v1", "preconditions", "uid", ctl_str(meta(p), "uid"));
    }
    ctl_api_many(c, calls, n);
    bool ok = n == json_array_size(pods);
    for (size_t i = 0; i < n; i++) {
        int st = calls[i].status;
        if (st == 200 || st == 202)
            ctl_event(c, "daemonsets", ds, "Normal", "SuccessfulDelete", "Deleted pod: %s",
                      name_of(json_array_get(pods, i)));
        else if (st != 404 && st != 409) /* 409: another pod by now */
            ok = false;
        json_decref(calls[i].body);
    }
    free(calls);
    return ok;
}

/* ---- I/O: the sync ---- */

static bool status_same(json_t *cur, json_t *want)
{
    const char *k;
    json_t *v;
    json_object_foreach(want, k, v) if (json_integer_value(json_object_get(cur, k)) !=
                                        json_integer_value(v)) return false;
    return true;
}

static bool update_status(struct ctl *c, json_t *ds, json_t *nodes, json_t *pods,
                          const char *hash)
{
    json_t *want = ctl_ds_status(ds, nodes, pods, hash, util_wall_ms());
    json_t *cur = json_object_get(ds, "status");
    json_int_t gen = json_integer_value(json_object_get(meta(ds), "generation"));
    bool ok = true;
    if (!status_same(cur, want) ||
        json_integer_value(json_object_get(cur, "observedGeneration")) < gen) {
        json_t *copy = json_deep_copy(ds), *st = obj_ensure(copy, "status");
        json_object_update(st, want);
        json_object_set_new(st, "observedGeneration", json_integer(gen));
        int code = ctl_status_update(c, "daemonsets", copy);
        ok = code == 200 || code == 404;
        json_decref(copy);
    }
    json_int_t min_ready = json_integer_value(at(ds, "spec", "minReadySeconds"));
    if (min_ready > 0 && json_integer_value(json_object_get(want, "numberReady")) !=
                             json_integer_value(json_object_get(want, "numberAvailable")))
        ctl_enqueue_after(c, DS, "daemonsets", ctl_str(meta(ds), "namespace"), name_of(ds),
                          (unsigned)min_ready * 1000);
    json_decref(want);
    return ok;
}

static bool selects_everything(json_t *ds)
{
    json_t *sel = at(ds, "spec", "selector");
    return !json_object_size(json_object_get(sel, "matchLabels")) &&
           !json_array_size(json_object_get(sel, "matchExpressions"));
}

/* The surge rolling update's writes; *pods is read again after them. The
 * sync comes back when the next surging pod becomes available (a pod
 * turning Ready queues it anyway). */
static bool rolling_surge(struct ctl *c, json_t *ds, json_t *nodes, json_t **pods,
                          const char *hash, struct ctl_claimer *mp)
{
    struct ctl_ds_plan plan;
    int64_t wait_ms;
    ctl_ds_plan_surge(ds, nodes, *pods, hash, util_wall_ms(), &plan, &wait_ms);
    bool ok = true;
    if (json_array_size(plan.create_nodes) || json_array_size(plan.delete_pods)) {
        ok = delete_pods(c, ds, plan.delete_pods);
        ok &= create_pods(c, ds, plan.create_nodes, hash);
        json_decref(*pods);
        *pods = ctl_pods_kept(mp);
    }
    if (wait_ms >= 0)
        ctl_enqueue_after(c, DS, "daemonsets", ctl_str(meta(ds), "namespace"), name_of(ds),
                          (unsigned)wait_ms + 100);
    json_decref(plan.create_nodes);
    json_decref(plan.delete_pods);
    return ok;
}

static bool sync_ds(struct ctl *c, json_t *ds, const struct kube_selector *sel)
{
    char hash[16];
    json_t *old = NULL;
    struct ctl_claimer mr = {.c = c, .owner = ds, .owner_resource = "daemonsets",
                             .api_version = "apps/v1", .kind = "DaemonSet", .sel = sel};
    struct ctl_claimer mp = mr;
    if (!construct_history(&mr, hash, sizeof hash, &old)) {
        json_decref(old);
        return false;
    }
    bool claimed = true;
    json_t *pods = ctl_claim_pods(&mp, &claimed); /* getDaemonPods */
    if (!claimed) { /* manage() fails the sync on a failed claim */
        json_decref(pods);
        json_decref(old);
        return false;
    }
    json_t *nodes = ctl_list(c, "nodes", NULL, NULL);
    struct ctl_ds_plan plan;
    ctl_ds_plan_manage(ds, nodes, pods, hash, util_wall_ms(), &state_of(c)->failed, &plan);
    bool wrote = json_array_size(plan.create_nodes) || json_array_size(plan.delete_pods);
    json_t *p;
    size_t i;
    json_array_foreach(plan.failed_pods, i, p)
        ctl_event(c, "daemonsets", ds, "Warning", "FailedDaemonPod",
                  "Found failed daemon pod %s/%s on node %s, will try to kill it",
                  ctl_str(meta(p), "namespace"), name_of(p), ctl_str(json_object_get(p, "spec"), "nodeName"));
    if (plan.requeue_ms > 0)
        ctl_enqueue_after(c, DS, "daemonsets", ctl_str(meta(ds), "namespace"), name_of(ds),
                          (unsigned)plan.requeue_ms);
    bool ok = delete_pods(c, ds, plan.delete_pods);
    ok &= create_pods(c, ds, plan.create_nodes, hash);
    json_decref(plan.create_nodes);
    json_decref(plan.delete_pods);
    json_decref(plan.failed_pods);
    if (wrote) { /* read our own writes */
        json_decref(pods);
        pods = ctl_pods_kept(&mp);
    }
    if (ok && ctl_ds_allows_surge(ds)) {
        ok = rolling_surge(c, ds, nodes, &pods, hash, &mp);
    } else if (ok &&
               strcmp(ctl_str(at(ds, "spec", "updateStrategy"), "type"), "RollingUpdate") == 0) {
        json_t *old_pods = ctl_ds_plan_rolling(ds, nodes, pods, hash, util_wall_ms());
        if (json_array_size(old_pods)) {
            ok &= delete_pods(c, ds, old_pods);
            json_decref(pods);
            pods = ctl_pods_kept(&mp);
        }
        json_decref(old_pods);
    }
    ok &= update_status(c, ds, nodes, pods, hash);
    ok &= cleanup_history(c, ds, old, pods);
    json_decref(old);
    json_decref(pods);
    json_decref(nodes);
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    json_t *ds = ctl_get(c, "daemonsets", ns, name);
    if (!ds)
        return true;
    if (deleting(ds)) {
        json_decref(ds);
        return true; /* the garbage collector takes its pods and revisions */
    }
    if (selects_everything(ds)) {
        ctl_event(c, "daemonsets", ds, "Warning", "SelectingAll",
                  "This daemon set is selecting all pods. A non-empty selector is required.");
        json_decref(ds);
        return true;
    }
    char err[128];
    struct kube_selector *sel =
        kube_selector_from_json(at(ds, "spec", "selector"), err, sizeof err);
    bool ok = true;
    if (sel)
        ok = sync_ds(c, ds, sel);
    else /* validation keeps these out: not worth a retry */
        LOG_WARN("controllers: daemonset %s/%s: bad selector: %s", ns, name, err);
    kube_selector_free(sel);
    json_decref(ds);
    return ok;
}

const struct ctl_def ctl_daemonset = {
    .name = DS,
    .component = "daemonset-controller",
    .wants = wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
    .free_state = free_state,
};
