/* nodelifecycle.c — the node lifecycle controller: a node that stops
 * renewing its Lease becomes NotReady, as in Kubernetes.
 *
 * A node's agent renews its coordination.k8s.io Lease in kube-node-lease
 * (and posts its Ready condition now and then). Like Kubernetes, this
 * controller does not trust the agent's clock: it remembers, per node, when
 * it last saw the Lease's renewTime (or the Ready heartbeat) change, and a
 * node whose last change is older than the grace period
 * (--node-monitor-grace-period, 40 s) gets its Ready, MemoryPressure,
 * DiskPressure and PIDPressure conditions set to Unknown, reason
 * NodeStatusUnknown, "Kubelet stopped posting node status.". Taints follow
 * the Ready condition: Unknown → node.kubernetes.io/unreachable, False →
 * node.kubernetes.io/not-ready (NoSchedule and NoExecute), True → neither;
 * so the scheduler stops placing pods there and a recovered node is
 * schedulable again. After a failover the new leader starts every node's
 * clock afresh, as kube-controller-manager does. Evicting pods from
 * NoExecute-tainted nodes belongs to the pod eviction controller (later). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "util/util.h"

#define NLC "nodelifecycle"
#define NLC_RESYNC_DELAY_MS 2000
#define TAINT_UNREACHABLE "node.kubernetes.io/unreachable"
#define TAINT_NOT_READY "node.kubernetes.io/not-ready"

struct seen {
    char renew[48]; /* the Lease's renewTime as last seen */
    char beat[48];  /* the Ready condition's lastHeartbeatTime */
    uint64_t observed_ms;
};

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool wants(const struct store_event *e)
{
    return (e->o.resource_len == 5 && memcmp(e->o.resource, "nodes", 5) == 0) ||
           (e->o.resource_len == 6 && memcmp(e->o.resource, "leases", 6) == 0 &&
            e->o.ns_len == 15 && memcmp(e->o.ns, "kube-node-lease", 15) == 0);
}

static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    ctl_enqueue(c, NLC, "nodes", "", name);
}

/* A full pass looks at every node a little later: on a new leader every
 * node's clock starts afresh anyway (nothing can be NotReady before the
 * grace period), and the first round belongs to the workloads' keys. */
static int resync_one(void *arg, const struct store_obj *o)
{
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
    ctl_enqueue_after(arg, NLC, "nodes", "", name, NLC_RESYNC_DELAY_MS);
    return 0;
}

static void resync(struct ctl *c)
{
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return;
    store_list(&r, "nodes", NULL, resync_one, c);
    store_read_end(&r);
}

static json_t *condition(json_t *node, const char *type)
{
    json_t *cond;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, cond)
        if (strcmp(jstr(cond, "type"), type) == 0)
            return cond;
    return NULL;
}

static void free_state(void *state)
{
    struct umap *m = state;
    size_t it = 0;
    void *v;
    while (umap_next(m, &it, NULL, &v))
        free(v);
    umap_free(m);
    free(m);
}

/* When this leader last saw the node's agent alive. */
static struct seen *observe(struct ctl *c, const char *name, json_t *node, json_t *lease)
{
    void **slot = ctl_state(c, NLC);
    if (!*slot)
        *slot = xcalloc(1, sizeof(struct umap));
    struct umap *m = *slot;
    struct seen *s = umap_get(m, name);
    const char *renew = jstr(json_object_get(lease, "spec"), "renewTime");
    const char *beat = jstr(condition(node, "Ready"), "lastHeartbeatTime");
    if (!s) {
        s = xcalloc(1, sizeof *s);
        umap_put(m, name, s);
        s->observed_ms = util_now_ms();
    } else if (strcmp(s->renew, renew) != 0 || strcmp(s->beat, beat) != 0) {
        s->observed_ms = util_now_ms();
    }
    snprintf(s->renew, sizeof s->renew, "%s", renew);
    snprintf(s->beat, sizeof s->beat, "%s", beat);
    return s;
}

/* Sets the agent-reported conditions to Unknown. */
static bool mark_unknown(struct ctl *c, const char *name, json_t *node)
{
    static const char *types[] = {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"};
    char now[40], path[512];
    util_time_rfc3339(now, sizeof now);
    json_t *st = json_object_get(node, "status");
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(node, "status", st);
    }
    json_t *conds = json_object_get(st, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(st, "conditions", conds);
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        json_t *cond = condition(node, types[i]);
        if (!cond) {
            cond = json_pack("{s:s}", "type", types[i]);
            json_array_append_new(conds, cond);
        }
        if (strcmp(jstr(cond, "status"), "Unknown") != 0)
            json_object_set_new(cond, "lastTransitionTime", json_string(now));
        json_object_set_new(cond, "status", json_string("Unknown"));
        json_object_set_new(cond, "reason", json_string("NodeStatusUnknown"));
        json_object_set_new(cond, "message", json_string("Kubelet stopped posting node status."));
    }
    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", name);
    int st_code = ctl_api(c, "PUT", path, NULL, node, NULL);
    if (st_code == 200)
        ctl_event(c, "nodes", node, "Normal", "NodeNotReady", "Node %s status is now: NodeNotReady",
                  name);
    return st_code == 200 || st_code == 404;
}

static bool has_taint(json_t *taints, const char *key, const char *effect)
{
    json_t *t;
    size_t i;
    json_array_foreach(taints, i, t) if (strcmp(jstr(t, "key"), key) == 0 &&
                                         strcmp(jstr(t, "effect"), effect) == 0) return true;
    return false;
}

/* Makes the node's lifecycle taints match its Ready condition. */
static bool reconcile_taints(struct ctl *c, const char *name, json_t *node)
{
    const char *ready = jstr(condition(node, "Ready"), "status");
    const char *want = strcmp(ready, "True") == 0    ? NULL
                       : strcmp(ready, "False") == 0 ? TAINT_NOT_READY
                                                     : TAINT_UNREACHABLE;
    json_t *spec = json_object_get(node, "spec");
    json_t *taints = json_object_get(spec, "taints");
    bool ok_now = true;
    const char *keys[] = {TAINT_UNREACHABLE, TAINT_NOT_READY};
    for (int k = 0; k < 2; k++) {
        bool wanted = want && strcmp(want, keys[k]) == 0;
        if (wanted != has_taint(taints, keys[k], "NoSchedule") ||
            wanted != has_taint(taints, keys[k], "NoExecute"))
            ok_now = false;
    }
    if (ok_now)
        return true;
    char now[40], path[512];
    util_time_rfc3339(now, sizeof now);
    json_t *kept = json_array(), *t;
    size_t i;
    json_array_foreach(taints, i, t)
        if (strcmp(jstr(t, "key"), TAINT_UNREACHABLE) != 0 && strcmp(jstr(t, "key"), TAINT_NOT_READY) != 0)
            json_array_append(kept, t);
    if (want) {
        json_array_append_new(kept, json_pack("{s:s, s:s}", "key", want, "effect", "NoSchedule"));
        json_array_append_new(kept, json_pack("{s:s, s:s, s:s}", "key", want, "effect",
                                              "NoExecute", "timeAdded", now));
    }
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(node, "spec", spec);
    }
    if (json_array_size(kept))
        json_object_set_new(spec, "taints", kept);
    else {
        json_decref(kept);
        json_object_del(spec, "taints");
    }
    snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
    int code = ctl_api(c, "PUT", path, NULL, node, NULL);
    return code == 200 || code == 404;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    json_t *node = ctl_get(c, "nodes", "", name);
    void **slot = ctl_state(c, NLC);
    if (!node) {
        if (*slot)
            free(umap_del(*slot, name));
        return true;
    }
    json_t *lease = ctl_get(c, "leases", "kube-node-lease", name);
    struct seen *s = observe(c, name, node, lease);
    json_decref(lease);
    uint64_t age = util_now_ms() - s->observed_ms, grace = ctl_node_grace_ms(c);
    bool ok = true;
    if (age > grace) {
        if (strcmp(jstr(condition(node, "Ready"), "status"), "Unknown") != 0) {
            LOG_INFO("controllers: node %s: no heartbeat for %llu ms, marking it NotReady", name,
                     (unsigned long long)age);
            ok = mark_unknown(c, name, node);
            json_decref(node);
            return ok; /* the node's change brings it back for its taints */
        }
    } else {
        ctl_enqueue_after(c, NLC, "nodes", "", name, (unsigned)(grace - age) + 200);
    }
    ok = reconcile_taints(c, name, node);
    json_decref(node);
    (void)resource;
    (void)ns;
    return ok;
}

const struct ctl_def ctl_node_lifecycle = {
    .name = NLC,
    .component = "node-controller",
    .wants = wants,
    .on_change = on_change,
    .sync = sync,
    .resync = resync,
    .free_state = free_state,
};
