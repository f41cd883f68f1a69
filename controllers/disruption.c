/* disruption.c — the disruption controller: the status of every
 * PodDisruptionBudget, as Kubernetes' pkg/controller/disruption keeps it,
 * which is what the eviction subresource (server/eviction.c) decides by.
 *
 * For a budget, sync reads the pods its selector covers (kube_pdb_selects)
 * and computes, as trySync does:
 *  - expectedPods and desiredHealthy (getExpectedPodCount): with an integer
 *    minAvailable, the pods counted and minAvailable itself; with a
 *    percentage minAvailable, or with maxUnavailable, the sum of the scales
 *    of the pods' controllers (getExpectedScale: each pod's controller
 *    reference leads to a ReplicaSet, the Deployment above it, a
 *    StatefulSet, or any kind with a scale subresource; a pod without a
 *    controller is "unmanaged" and skipped with an Event; a controller that
 *    cannot be found, or a kind without scale, fails the sync) and the
 *    percentage of it rounded up;
 *  - disruptedPods: the entries the eviction subresource added for pods
 *    that still exist and are not being deleted, dropped once older than
 *    DeletionTimeout (2 minutes: the eviction did not end in a deletion);
 *  - currentHealthy: the covered pods that are Ready, not being deleted and
 *    not in disruptedPods;
 *  - disruptionsAllowed = currentHealthy - desiredHealthy, never below 0,
 *    and 0 while no pod is expected;
 *  - observedGeneration and the DisruptionAllowed condition
 *    (SufficientPods / InsufficientPods).
 * The status is written (PUT /status, preconditioned on the budget's
 * resourceVersion) only when one of these changed. A sync that fails
 * writes the fail-safe status (disruptionsAllowed 0, condition
 * SyncFailed) so that no eviction is allowed on a stale count, and is
 * retried with the runtime's backoff. The earliest disruptedPods expiry
 * queues the budget again (Kubernetes' recheck queue).
 *
 * Changes: a budget queues itself; a pod (added, changed or deleted)
 * queues every budget of its namespace that covers it. The decisions are
 * pure functions (ctl_pdb_*, ctl_internal.h), tested on hand-built states
 * in tests/unit/test_ctl_disruption.c; the controllers they look up come
 * through a ctl_pdb_lookup, the replica in production. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "server/server.h"
#include "util/util.h"

#define DC "disruption"
#define PDBS "poddisruptionbudgets"

/* ---- the expected count (getExpectedPodCount, getExpectedScale) ---- */

/* What looking for a pod's controller found. */
enum pdb_found { PDB_NONE, PDB_FOUND, PDB_ERROR };

static json_t *pdb_md(json_t *o)
{
    return json_object_get(o, "metadata");
}

/* spec.replicas, 1 when unset (as defaulted). */
static int32_t pdb_replicas(json_t *obj)
{
    json_t *r = json_object_get(json_object_get(obj, "spec"), "replicas");
    return json_is_integer(r) ? (int32_t)json_integer_value(r) : 1;
}

/* verifyGroupKind: ref names kind in one of groups ("apps", "extensions"). */
static bool pdb_ref_is(json_t *ref, const char *kind, bool apps)
{
    if (!ref || strcmp(ctl_str(ref, "kind"), kind) != 0)
        return false;
    const char *av = ctl_str(ref, "apiVersion"), *slash = strchr(av, '/');
    size_t glen = slash ? (size_t)(slash - av) : 0;
    if (!apps)
        return glen == 0;
    return (glen == 4 && strncmp(av, "apps", 4) == 0) ||
           (glen == 10 && strncmp(av, "extensions", 10) == 0);
}

/* The object ref names in ns, if it is still the one it names (same uid). */
static json_t *pdb_get_ref(const struct ctl_pdb_lookup *lk, const char *resource, const char *ns,
                           json_t *ref)
{
    json_t *o = lk->get(lk->arg, resource, ns, ctl_str(ref, "name"));
    if (o && strcmp(ctl_str(pdb_md(o), "uid"), ctl_str(ref, "uid")) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* getPodDeployment, then getPodReplicaSet: a ReplicaSet's Deployment if it
 * has one (and it exists), else the ReplicaSet unless a Deployment
 * controls it. */
static enum pdb_found pdb_find_rs_owner(const struct ctl_pdb_lookup *lk, const char *ns,
                                        json_t *ref, char *uid, size_t uidlen, int32_t *scale)
{
    json_t *rs = pdb_get_ref(lk, "replicasets", ns, ref);
    if (!rs)
        return PDB_NONE;
    json_t *dref = ctl_controller_ref(rs), *owner = rs;
    json_t *d = pdb_ref_is(dref, "Deployment", true) ? pdb_get_ref(lk, "deployments", ns, dref)
                                                      : NULL;
    if (d)
        owner = d;
    else if (dref && strcmp(ctl_str(dref, "kind"), "Deployment") == 0)
        owner = NULL; /* left to the scale finder, as Kubernetes does */
    enum pdb_found f = owner ? PDB_FOUND : PDB_NONE;
    if (owner) {
        snprintf(uid, uidlen, "%s", ctl_str(pdb_md(owner), "uid"));
        *scale = pdb_replicas(owner);
    }
    json_decref(d);
    json_decref(rs);
    return f;
}

/* getScaleController: any kind served with a scale subresource (in
 * bosun: apps' Deployment, ReplicaSet and StatefulSet); another served
 * kind, or one not served at all, is an error. */
static enum pdb_found pdb_find_scale(const struct ctl_pdb_lookup *lk, const char *ns, json_t *ref,
                                     char *uid, size_t uidlen, int32_t *scale, char *err,
                                     size_t len)
{
    static const char *const scalable[] = {"Deployment", "ReplicaSet", "StatefulSet"};
    const char *av = ctl_str(ref, "apiVersion"), *kind = ctl_str(ref, "kind");
    const char *resource = server_resource_of_kind(av, kind);
    if (!resource) {
        snprintf(err, len, "no matches for kind \"%s\" in version \"%s\"", kind, av);
        return PDB_ERROR;
    }
    bool has_scale = false;
    for (size_t i = 0; i < sizeof scalable / sizeof scalable[0]; i++)
        has_scale |= pdb_ref_is(ref, scalable[i], true);
    if (!has_scale) {
        const char *slash = strchr(av, '/');
        snprintf(err, len, "%s%s%.*s does not implement the scale subresource", resource,
                 slash ? "." : "", slash ? (int)(slash - av) : 0, av);
        return PDB_ERROR;
    }
    json_t *o = pdb_get_ref(lk, resource, ns, ref);
    if (!o)
        return PDB_NONE;
    snprintf(uid, uidlen, "%s", ctl_str(pdb_md(o), "uid"));
    *scale = pdb_replicas(o);
    json_decref(o);
    return PDB_FOUND;
}

/* The finders of Kubernetes in their order: the controller of a pod's
 * controller reference and its scale. */
static enum pdb_found pdb_find_controller(const struct ctl_pdb_lookup *lk, const char *ns,
                                          json_t *ref, char *uid, size_t uidlen, int32_t *scale,
                                          char *err, size_t len)
{
    if (pdb_ref_is(ref, "ReplicaSet", true)) {
        enum pdb_found f = pdb_find_rs_owner(lk, ns, ref, uid, uidlen, scale);
        if (f != PDB_NONE)
            return f;
    }
    if (pdb_ref_is(ref, "StatefulSet", true)) {
        json_t *ss = pdb_get_ref(lk, "statefulsets", ns, ref);
        if (ss) {
            snprintf(uid, uidlen, "%s", ctl_str(pdb_md(ss), "uid"));
            *scale = pdb_replicas(ss);
            json_decref(ss);
            return PDB_FOUND;
        }
    }
    return pdb_find_scale(lk, ns, ref, uid, uidlen, scale, err, len);
}

/* getExpectedScale: the sum of the scales of the pods' controllers, each
 * counted once. */
static bool pdb_expected_scale(json_t *pdb, json_t *pods, const struct ctl_pdb_lookup *lk,
                               int32_t *expected, size_t *unmanaged, char *err, size_t len)
{
    const char *ns = ctl_str(pdb_md(pdb), "namespace");
    struct umap seen = {0}; /* controller uid -> scale + 1 */
    json_t *pod;
    size_t i;
    bool ok = true;
    *expected = 0;
    json_array_foreach(pods, i, pod)
    {
        json_t *ref = ctl_controller_ref(pod);
        if (!ref) {
            (*unmanaged)++;
            continue;
        }
        if (umap_get(&seen, ctl_str(ref, "uid")))
            continue;
        char uid[64] = "";
        int32_t scale = 0;
        enum pdb_found f = pdb_find_controller(lk, ns, ref, uid, sizeof uid, &scale, err, len);
        if (f == PDB_NONE)
            snprintf(err, len, "found no controllers for pod \"%s\"", ctl_str(pdb_md(pod), "name"));
        if (f != PDB_FOUND) {
            ok = false;
            break;
        }
        if (!umap_get(&seen, uid)) {
            umap_put(&seen, uid, (void *)1);
            *expected += scale;
        }
        umap_put(&seen, ctl_str(ref, "uid"), (void *)1);
    }
    umap_free(&seen);
    return ok;
}

/* GetScaledValueFromIntOrPercent, rounding up. */
static bool pdb_scaled(json_t *v, int32_t total, int32_t *out, char *err, size_t len)
{
    if (ctl_deploy_scaled(v, total, true, out))
        return true;
    snprintf(err, len, "invalid value for IntOrString: invalid type: string is not a percentage");
    return false;
}

bool ctl_pdb_expected(json_t *pdb, json_t *pods, const struct ctl_pdb_lookup *lk,
                      struct ctl_pdb_counts *n, size_t *unmanaged, char *err, size_t len)
{
    assert(lk && lk->get && n && unmanaged);
    json_t *spec = json_object_get(pdb, "spec");
    json_t *max_u = json_object_get(spec, "maxUnavailable"), *min_a = json_object_get(spec,
                                                                                       "minAvailable");
    n->expected = n->desired = 0;
    *unmanaged = 0;
    if (max_u && !json_is_null(max_u)) {
        int32_t unavailable;
        if (!pdb_expected_scale(pdb, pods, lk, &n->expected, unmanaged, err, len) ||
            !pdb_scaled(max_u, n->expected, &unavailable, err, len))
            return false;
        n->desired = n->expected - unavailable > 0 ? n->expected - unavailable : 0;
    } else if (json_is_integer(min_a)) {
        n->desired = (int32_t)json_integer_value(min_a);
        n->expected = (int32_t)json_array_size(pods);
    } else if (json_is_string(min_a)) {
        if (!pdb_expected_scale(pdb, pods, lk, &n->expected, unmanaged, err, len) ||
            !pdb_scaled(min_a, n->expected, &n->desired, err, len))
            return false;
    }
    return true;
}

/* ---- disrupted pods and health (buildDisruptedPodMap, countHealthyPods) ---- */

static bool pdb_deleting(json_t *pod)
{
    return json_object_get(pdb_md(pod), "deletionTimestamp") != NULL;
}

json_t *ctl_pdb_disrupted(json_t *pdb, json_t *pods, int64_t now_ms, int64_t *recheck_ms)
{
    json_t *had = json_object_get(json_object_get(pdb, "status"), "disruptedPods");
    json_t *out = json_object(), *pod;
    size_t i;
    *recheck_ms = -1;
    json_array_foreach(pods, i, pod)
    {
        const char *name = ctl_str(pdb_md(pod), "name");
        const char *when = json_string_value(json_object_get(had, name));
        if (pdb_deleting(pod) || !when)
            continue;
        int64_t due = util_time_parse(when) + CTL_PDB_DELETION_TIMEOUT_MS;
        if (due < now_ms)
            continue; /* the eviction did not end in a deletion: forgotten */
        if (*recheck_ms < 0 || due < *recheck_ms)
            *recheck_ms = due;
        json_object_set_new(out, name, json_string(when));
    }
    return out;
}

int32_t ctl_pdb_healthy(json_t *pods, json_t *disrupted, int64_t now_ms)
{
    json_t *pod;
    size_t i;
    int32_t healthy = 0;
    json_array_foreach(pods, i, pod)
    {
        const char *when = json_string_value(json_object_get(disrupted, ctl_str(pdb_md(pod),
                                                                                 "name")));
        if (pdb_deleting(pod))
            continue;
        if (when && util_time_parse(when) + CTL_PDB_DELETION_TIMEOUT_MS > now_ms)
            continue; /* about to be deleted */
        healthy += kube_pod_ready(pod);
    }
    return healthy;
}

/* ---- the status (updatePdbStatus, failSafe) ---- */

static json_int_t pdb_status_int(json_t *pdb, const char *k)
{
    return json_integer_value(json_object_get(json_object_get(pdb, "status"), k));
}

/* Whether the stored status already says all this. */
static bool pdb_status_current(json_t *pdb, const struct ctl_pdb_counts *n, int32_t allowed,
                               json_t *disrupted)
{
    json_t *had = json_object_get(json_object_get(pdb, "status"), "disruptedPods");
    bool same_map = json_object_size(had) == 0 ? json_object_size(disrupted) == 0
                                               : json_equal(had, disrupted);
    return pdb_status_int(pdb, "currentHealthy") == n->healthy &&
           pdb_status_int(pdb, "desiredHealthy") == n->desired &&
           pdb_status_int(pdb, "expectedPods") == n->expected &&
           pdb_status_int(pdb, "disruptionsAllowed") == allowed && same_map &&
           kube_pdb_conditions_current(pdb);
}

json_t *ctl_pdb_status(json_t *pdb, const struct ctl_pdb_counts *n, json_t *disrupted,
                       const char *now)
{
    int32_t allowed = n->healthy - n->desired;
    if (n->expected <= 0 || allowed <= 0)
        allowed = 0;
    if (pdb_status_current(pdb, n, allowed, disrupted))
        return NULL;
    json_t *next = json_deep_copy(pdb);
    json_t *conds = json_object_get(json_object_get(pdb, "status"), "conditions");
    json_t *st = json_pack("{s:i, s:i, s:i, s:i, s:I}", "currentHealthy", n->healthy,
                           "desiredHealthy", n->desired, "expectedPods", n->expected,
                           "disruptionsAllowed", allowed, "observedGeneration",
                           json_integer_value(json_object_get(pdb_md(pdb), "generation")));
    if (json_object_size(disrupted))
        json_object_set(st, "disruptedPods", disrupted);
    if (json_is_array(conds))
        json_object_set_new(st, "conditions", json_deep_copy(conds));
    json_object_set_new(next, "status", st);
    kube_pdb_condition_update(next, now);
    assert(kube_pdb_conditions_current(next));
    return next;
}

json_t *ctl_pdb_fail_safe(json_t *pdb, const char *why, const char *now)
{
    json_t *next = json_deep_copy(pdb);
    json_t *st = json_object_get(next, "status");
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(next, "status", st);
    }
    json_object_set_new(st, "disruptionsAllowed", json_integer(0));
    kube_pdb_condition_update(next, now);
    json_t *conds = json_object_get(st, "conditions"), *cd;
    size_t i;
    json_array_foreach(conds, i, cd) if (strcmp(ctl_str(cd, "type"), "DisruptionAllowed") == 0)
    {
        json_object_set_new(cd, "reason", json_string("SyncFailed"));
        json_object_set_new(cd, "message", json_string(why));
    }
    return next;
}

/* ---- I/O: the sync ---- */

static json_t *lookup_replica(void *arg, const char *resource, const char *ns, const char *name)
{
    return ctl_get(arg, resource, ns, name);
}

/* The pods of the budget's namespace it covers (a new array). */
static json_t *pdb_pods(struct ctl *c, json_t *pdb)
{
    json_t *all = ctl_list(c, "pods", ctl_str(pdb_md(pdb), "namespace"), NULL), *out = json_array();
    json_t *pod;
    size_t i;
    json_array_foreach(all, i, pod) if (kube_pdb_selects(pdb, pod)) json_array_append(out, pod);
    json_decref(all);
    return out;
}

static bool pdb_write(struct ctl *c, json_t *next)
{
    int st = ctl_status_update(c, PDBS, next);
    if (st != 200 && st != 404)
        LOG_INFO("controllers: PodDisruptionBudget %s/%s status: HTTP %d",
                 ctl_str(pdb_md(next), "namespace"), ctl_str(pdb_md(next), "name"), st);
    return st == 200 || st == 404;
}

/* The sync failed: no eviction may rely on the old count. */
static bool pdb_fail(struct ctl *c, json_t *pdb, const char *why)
{
    char now[32];
    util_time_rfc3339(now, sizeof now);
    ctl_event(c, PDBS, pdb, "Warning", "CalculateExpectedPodCountFailed",
              "Failed to calculate the number of expected pods: %s", why);
    json_t *next = ctl_pdb_fail_safe(pdb, why, now);
    if (!json_equal(next, pdb))
        pdb_write(c, next);
    json_decref(next);
    return false;
}

static bool pdb_sync_one(struct ctl *c, json_t *pdb, json_t *pods)
{
    struct ctl_pdb_lookup lk = {lookup_replica, c};
    struct ctl_pdb_counts n;
    size_t unmanaged;
    char err[512] = "", now[32];
    if (json_array_size(pods) == 0)
        ctl_event(c, PDBS, pdb, "Normal", "NoPods", "No matching pods found");
    if (!ctl_pdb_expected(pdb, pods, &lk, &n, &unmanaged, err, sizeof err))
        return pdb_fail(c, pdb, err);
    if (unmanaged)
        ctl_event(c, PDBS, pdb, "Warning", "UnmanagedPods",
                  "Pods selected by this PodDisruptionBudget were found to be unmanaged. As a "
                  "result, the status of the PDB cannot be calculated correctly, which may "
                  "result in undefined behavior. To account for these pods please set "
                  "\".spec.minAvailable\" field of the PDB to an integer value.");
    int64_t now_ms = util_wall_ms(), recheck_ms;
    json_t *disrupted = ctl_pdb_disrupted(pdb, pods, now_ms, &recheck_ms);
    n.healthy = ctl_pdb_healthy(pods, disrupted, now_ms);
    util_time_rfc3339(now, sizeof now);
    json_t *next = ctl_pdb_status(pdb, &n, disrupted, now);
    bool ok = !next || pdb_write(c, next);
    json_decref(next);
    json_decref(disrupted);
    if (ok && recheck_ms >= 0) {
        json_t *md = pdb_md(pdb);
        ctl_enqueue_after(c, DC, PDBS, ctl_str(md, "namespace"), ctl_str(md, "name"),
                          (unsigned)(recheck_ms - now_ms + 1000));
    }
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    json_t *pdb = ctl_get(c, PDBS, ns, name);
    if (!pdb)
        return true;
    json_t *pods = pdb_pods(c, pdb);
    bool ok = pdb_sync_one(c, pdb, pods);
    json_decref(pods);
    json_decref(pdb);
    return ok;
}

/* ---- changes ---- */

static bool wants(const struct store_event *e)
{
    return ctl_is_resource(&e->o, PDBS) || ctl_is_resource(&e->o, "pods");
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    if (ctl_is_resource(&e->o, PDBS)) {
        if (e->type != STORE_DELETED)
            ctl_enqueue(c, DC, PDBS, ns, name);
        return;
    }
    json_t *pdbs = ctl_list(c, PDBS, ns, NULL), *pdb;
    size_t i;
    json_array_foreach(pdbs, i, pdb) if (kube_pdb_selects(pdb, obj))
        ctl_enqueue(c, DC, PDBS, ns, ctl_str(pdb_md(pdb), "name"));
    json_decref(pdbs);
}

static void resync(struct ctl *c)
{
    ctl_enqueue_all(c, DC, PDBS);
}

const struct ctl_def ctl_disruption = {
    .name = DC,
    .component = "controllermanager",
    .wants = wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
};
