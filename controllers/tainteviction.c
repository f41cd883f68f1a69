/* tainteviction.c — the taint eviction controller: pods leave nodes whose
 * NoExecute taints they do not tolerate, as Kubernetes' taint manager
 * (pkg/controller/tainteviction) makes them.
 *
 * For a pod on a node with NoExecute taints: if one taint is tolerated by
 * none of the pod's tolerations, the pod is evicted at once; otherwise it
 * is evicted when the shortest tolerationSeconds among the tolerations
 * that match has passed since the taint's timeAdded (a toleration without
 * tolerationSeconds tolerates forever). Basing the deadline on timeAdded,
 * which is stored in the node, rather than on when this leader saw the
 * taint, makes the deadline the same on every leader: a failover neither
 * restarts nor shortens a pod's grace (a taint without timeAdded counts
 * from when this leader first saw the node tainted: a failover can only
 * lengthen that grace). The node lifecycle controller adds
 * the unreachable / not-ready NoExecute taints, and the API server gives
 * every pod 300 s tolerations of both (DefaultTolerationSeconds), so a pod
 * on a dead node goes after 5 minutes, and its controller replaces it.
 *
 * Eviction is what Kubernetes does: a DisruptionTarget condition (reason
 * DeletionByTaintManager) on the pod's status, then a DELETE, and an
 * Event TaintManagerEviction. The queue is keyed by node: a change to a
 * tainted node, or to a pod on one, syncs the node; a pod not yet due
 * requeues its node for its deadline. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define TE "taint-eviction"

int64_t ctl_taint_eviction_time(json_t *tolerations, json_t *taints, int64_t unknown_added_ms)
{
    int64_t when = INT64_MAX;
    json_t *t;
    size_t i;
    json_array_foreach(taints, i, t)
    {
        if (strcmp(ctl_str(t, "effect"), "NoExecute") != 0)
            continue;
        int64_t best = -2; /* -2 untolerated, -1 forever, else seconds */
        json_t *tol;
        size_t j;
        json_array_foreach(tolerations, j, tol)
        {
            if (!kube_toleration_matches(tol, ctl_str(t, "key"), ctl_str(t, "value"), "NoExecute"))
                continue;
            json_t *secs = json_object_get(tol, "tolerationSeconds");
            /* Kubernetes: a zero or negative tolerationSeconds means evict
             * at once; none means tolerate forever. */
            int64_t s = json_is_integer(secs) ? json_integer_value(secs) : -1;
            if (json_is_integer(secs) && s < 0)
                s = 0;
            if (best == -2 || (s >= 0 && (best == -1 || s < best)))
                best = s;
        }
        if (best == -2)
            return 0; /* not tolerated: now */
        if (best == -1)
            continue;
        int64_t added = util_time_parse(ctl_str(t, "timeAdded"));
        int64_t due = (added >= 0 ? added : unknown_added_ms) + best * 1000;
        if (due < when)
            when = due;
    }
    return when;
}

static bool has_no_execute(json_t *node)
{
    json_t *t;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(node, "spec"), "taints"), i, t)
        if (strcmp(ctl_str(t, "effect"), "NoExecute") == 0) return true;
    return false;
}

/* The state: the nodes with NoExecute taints, each with when this leader
 * first saw it so (Unix ms, boxed), so that a pod's change is looked at
 * only if its node has one. */
static struct umap *tainted(struct ctl *c)
{
    void **slot = ctl_state(c, TE);
    if (!*slot)
        *slot = xcalloc(1, sizeof(struct umap));
    return *slot;
}

static void free_state(void *state)
{
    size_t it = 0;
    const char *k;
    void *v;
    while (umap_next(state, &it, &k, &v))
        free(v);
    umap_free(state);
    free(state);
}

static void tainted_put(struct ctl *c, const char *name)
{
    if (umap_get(tainted(c), name))
        return;
    int64_t *since = xmalloc(sizeof *since);
    *since = util_wall_ms();
    umap_put(tainted(c), name, since);
}

static void tainted_del(struct ctl *c, const char *name)
{
    free(umap_del(tainted(c), name));
}

static void note_node(struct ctl *c, const char *name, json_t *node)
{
    if (node && has_no_execute(node)) {
        tainted_put(c, name);
        ctl_enqueue(c, TE, "nodes", "", name);
    } else {
        tainted_del(c, name);
    }
}

static bool wants(const struct store_event *e)
{
    return (e->o.resource_len == 5 && memcmp(e->o.resource, "nodes", 5) == 0) ||
           (e->o.resource_len == 4 && memcmp(e->o.resource, "pods", 4) == 0 &&
            e->type != STORE_DELETED);
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char name[256];
    if (e->o.resource_len == 5) {
        snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
        note_node(c, name, e->type == STORE_DELETED ? NULL : obj);
        return;
    }
    const char *node = ctl_str(json_object_get(obj, "spec"), "nodeName");
    if (*node && umap_get(tainted(c), node))
        ctl_enqueue(c, TE, "nodes", "", node);
}

static void resync(struct ctl *c)
{
    json_t *nodes = ctl_list(c, "nodes", NULL, "NoExecute"), *n;
    size_t i;
    json_array_foreach(nodes, i, n) note_node(c, ctl_str(json_object_get(n, "metadata"), "name"), n);
    json_decref(nodes);
}

/* DisruptionTarget on the pod's status, then the DELETE. */
static bool evict(struct ctl *c, json_t *pod)
{
    json_t *md = json_object_get(pod, "metadata");
    const char *ns = ctl_str(md, "namespace"), *name = ctl_str(md, "name");
    json_t *status = json_object_get(pod, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(pod, "status", status);
    }
    if (ctl_condition_set(status, "DisruptionTarget", "True", "DeletionByTaintManager",
                          "Taint manager: deleting due to NoExecute taint", false)) {
        int st = ctl_status_update(c, "pods", pod);
        if (st == 404)
            return true;
        if (st != 200)
            return false;
    }
    ctl_event(c, "pods", pod, "Normal", "TaintManagerEviction", "Marking for deletion Pod %s/%s",
              ns, name);
    char path[600];
    ctl_object_path("pods", ns, name, path, sizeof path);
    int st = ctl_api(c, "DELETE", path, NULL, NULL, NULL);
    LOG_INFO("controllers: evicting pod %s/%s from a NoExecute-tainted node: %d", ns, name, st);
    return st == 200 || st == 202 || st == 404;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    json_t *node = ctl_get(c, "nodes", "", name);
    if (!node || !has_no_execute(node)) {
        tainted_del(c, name);
        json_decref(node);
        return true;
    }
    tainted_put(c, name);
    int64_t since = *(int64_t *)umap_get(tainted(c), name);
    json_t *taints = json_object_get(json_object_get(node, "spec"), "taints");
    json_t *pods = ctl_list(c, "pods", NULL, name), *p;
    int64_t now = util_wall_ms(), next = INT64_MAX;
    bool ok = true;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        json_t *spec = json_object_get(p, "spec");
        if (strcmp(ctl_str(spec, "nodeName"), name) != 0 ||
            json_object_get(json_object_get(p, "metadata"), "deletionTimestamp"))
            continue;
        int64_t when =
            ctl_taint_eviction_time(json_object_get(spec, "tolerations"), taints, since);
        if (when <= now)
            ok &= evict(c, p);
        else if (when < next)
            next = when;
    }
    if (next != INT64_MAX)
        ctl_enqueue_after(c, TE, "nodes", "", name,
                          (unsigned)(next - now > 3600000 ? 3600000 : next - now) + 100);
    json_decref(pods);
    json_decref(node);
    (void)resource;
    (void)ns;
    return ok;
}

const struct ctl_def ctl_taint_eviction = {
    .name = TE,
    .component = "taint-eviction-controller",
    .wants = wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
    .free_state = free_state,
};
