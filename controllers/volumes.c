/* volumes.c — the PersistentVolume binder: claims meet volumes, as
 * Kubernetes' persistent volume controller binds them
 * (pkg/controller/volume/persistentvolume/pv_controller.go, index.go).
 *
 * Claims. A Pending claim binds to the volume pre-bound to it
 * (spec.claimRef naming it), else to the smallest Available, unclaimed
 * volume that satisfies it: same class (the beta annotation, else
 * spec.storageClassName; "" only matches volumes with no class), access
 * modes a superset of the claim's (volumes with fewer modes first), the
 * same volume mode, capacity at least the request, labels matching the
 * claim's selector. A claim that names its volume (spec.volumeName) waits
 * for exactly that one. With no volume to take, a claim whose class's
 * provisioner is bosun.dev/hostpath gets one made for it (named
 * pvc-<claim uid>, a hostPath under the class's parameters.path or
 * /var/lib/bosun/volumes, the class's reclaim policy, claimRef already
 * set, annotated pv.kubernetes.io/provisioned-by); another provisioner's
 * claim waits for it (an ExternalProvisioning event) and a claim with no
 * class waits for a volume (FailedBinding). A class with
 * volumeBindingMode WaitForFirstConsumer delays all that until a pod using
 * the claim has a node: Kubernetes' scheduler then annotates the claim
 * volume.kubernetes.io/selected-node; ours does not do volume binding, so
 * this controller sets that annotation itself from the first bound pod it
 * finds using the claim, and a volume it provisions then gets node affinity
 * to that node (static volumes' node affinity is not checked). A claim
 * created with no class at all, before any default StorageClass existed,
 * is given the default class once one appears (retroactive default
 * assignment; server/admit.c does it at creation).
 *
 * Binding writes both sides, each step only if not yet done, so a sync cut
 * short (or a failover) just resumes: the volume's spec.claimRef (with the
 * claim's uid; annotated pv.kubernetes.io/bound-by-controller unless a
 * user pre-bound it), its phase Bound, the claim's spec.volumeName and
 * annotations pv.kubernetes.io/bind-completed (and bound-by-controller when
 * the controller chose the volume), then the claim's status: phase Bound,
 * the volume's capacity and access modes.
 *
 * Volumes. No claimRef (or one without a uid: pre-bound, waiting): phase
 * Available. Its claim gone (or replaced by a new claim of the same name,
 * another uid): phase Released, then the reclaim policy: Retain keeps it,
 * Delete deletes it (Recycle is deprecated and not done: the volume stays
 * Released with a warning). Bound to a claim that is bound to another
 * volume: a volume this controller bound is unbound (claimRef removed, a
 * user's pre-binding keeps the name but loses the uid), a provisioned one
 * with policy Delete is released and deleted.
 *
 * Bound claims. A claim whose volume is gone, or whose volume is bound to
 * another claim, is Lost (Warning ClaimLost / ClaimMisbound), as in
 * Kubernetes; it never binds again.
 *
 * Keys: "persistentvolumes//name" and "persistentvolumeclaims/ns/name".
 * A change of either queues both sides; a volume becoming Available and
 * unclaimed, or a StorageClass change, queues every unbound claim; a pod
 * with a claim volume and a node queues its claims.
 * Writes are PUTs preconditioned on the revision read, so a concurrent
 * change makes the sync fail and retry on the new state. The decisions
 * (matching, satisfying, the provisioned volume) are pure functions
 * declared in ctl_internal.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define VB "volume-binder"
#define PVS "persistentvolumes"
#define PVCS "persistentvolumeclaims"
#define ANN_BIND_COMPLETED "pv.kubernetes.io/bind-completed"
#define ANN_BOUND_BY_CONTROLLER "pv.kubernetes.io/bound-by-controller"
#define ANN_PROVISIONED_BY "pv.kubernetes.io/provisioned-by"
#define ANN_SELECTED_NODE "volume.kubernetes.io/selected-node"
#define ANN_STORAGE_PROVISIONER "volume.kubernetes.io/storage-provisioner"
#define ANN_BETA_STORAGE_PROVISIONER "volume.beta.kubernetes.io/storage-provisioner"
#define ANN_BETA_CLASS "volume.beta.kubernetes.io/storage-class"
#define ANN_DEFAULT_CLASS "storageclass.kubernetes.io/is-default-class"
#define ANN_BETA_DEFAULT_CLASS "storageclass.beta.kubernetes.io/is-default-class"
#define DEFAULT_HOSTPATH_DIR "/var/lib/bosun/volumes"

/* ==== decisions (ctl_internal.h) ==== */

static json_t *md_of(json_t *o)
{
    return json_object_get(o, "metadata");
}

static const char *annotation(json_t *o, const char *key)
{
    return ctl_str(json_object_get(md_of(o), "annotations"), key);
}

const char *ctl_volume_class(json_t *obj)
{
    json_t *beta = json_object_get(json_object_get(md_of(obj), "annotations"), ANN_BETA_CLASS);
    if (json_is_string(beta))
        return json_string_value(beta);
    return ctl_str(json_object_get(obj, "spec"), "storageClassName");
}

bool ctl_volume_bound_to(json_t *pv, json_t *pvc)
{
    json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
    if (!json_is_object(ref))
        return false;
    json_t *md = md_of(pvc);
    const char *uid = ctl_str(ref, "uid");
    return strcmp(ctl_str(ref, "name"), ctl_str(md, "name")) == 0 &&
           strcmp(ctl_str(ref, "namespace"), ctl_str(md, "namespace")) == 0 &&
           (!*uid || strcmp(uid, ctl_str(md, "uid")) == 0);
}

static const char *volume_mode(json_t *obj)
{
    const char *m = ctl_str(json_object_get(obj, "spec"), "volumeMode");
    return *m ? m : "Filesystem";
}

static bool has_mode(json_t *modes, const char *mode)
{
    json_t *m;
    size_t i;
    json_array_foreach(modes, i, m) if (strcmp(json_string_value(m) ? json_string_value(m) : "",
                                               mode) == 0) return true;
    return false;
}

/* The volume's access modes contain every one of the claim's. */
static bool modes_cover(json_t *pv, json_t *pvc)
{
    json_t *have = json_object_get(json_object_get(pv, "spec"), "accessModes");
    json_t *want = json_object_get(json_object_get(pvc, "spec"), "accessModes"), *m;
    size_t i;
    json_array_foreach(want, i, m) if (!has_mode(have, json_string_value(m) ? json_string_value(m)
                                                                             : "")) return false;
    return true;
}

int64_t ctl_volume_capacity(json_t *pv)
{
    json_t *cap = json_object_get(json_object_get(pv, "spec"), "capacity");
    return kube_quantity_value(json_object_get(cap, "storage"), false);
}

int64_t ctl_claim_request(json_t *pvc)
{
    json_t *res = json_object_get(json_object_get(pvc, "spec"), "resources");
    json_t *q = json_object_get(json_object_get(res, "requests"), "storage");
    int64_t v = q ? kube_quantity_value(q, false) : 0;
    return v < 0 ? 0 : v;
}

bool ctl_volume_satisfies(json_t *pv, json_t *pvc, char *why, size_t len)
{
    if (ctl_volume_capacity(pv) < ctl_claim_request(pvc))
        snprintf(why, len, "requested PV is too small");
    else if (strcmp(ctl_volume_class(pv), ctl_volume_class(pvc)) != 0)
        snprintf(why, len, "storageClassName does not match");
    else if (strcmp(volume_mode(pv), volume_mode(pvc)) != 0)
        snprintf(why, len, "incompatible volumeMode");
    else if (!modes_cover(pv, pvc))
        snprintf(why, len, "incompatible accessMode");
    else
        return true;
    return false;
}

static bool selector_matches(json_t *pvc, json_t *pv)
{
    json_t *sel = json_object_get(json_object_get(pvc, "spec"), "selector");
    if (!json_is_object(sel))
        return true;
    char err[128];
    struct kube_selector *s = kube_selector_from_json(sel, err, sizeof err);
    if (!s)
        return false; /* an invalid selector matches nothing */
    bool ok = kube_selector_match(s, json_object_get(md_of(pv), "labels"));
    kube_selector_free(s);
    return ok;
}

json_t *ctl_volume_find_match(json_t *pvs, json_t *pvc, bool delay_binding)
{
    json_t *best = NULL, *pv;
    int64_t want = ctl_claim_request(pvc), best_cap = 0;
    size_t best_modes = 0, i;
    json_array_foreach(pvs, i, pv)
    {
        if (json_object_get(md_of(pv), "deletionTimestamp"))
            continue;
        int64_t cap = ctl_volume_capacity(pv);
        if (cap < want || !modes_cover(pv, pvc) ||
            strcmp(volume_mode(pv), volume_mode(pvc)) != 0)
            continue;
        json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
        if (json_is_object(ref) && ctl_volume_bound_to(pv, pvc))
            return pv; /* pre-bound to this claim */
        if (delay_binding || json_is_object(ref) ||
            strcmp(ctl_str(json_object_get(pv, "status"), "phase"), "Available") != 0 ||
            !selector_matches(pvc, pv) ||
            strcmp(ctl_volume_class(pv), ctl_volume_class(pvc)) != 0)
            continue;
        /* index.go tries the sets of access modes with the fewest modes
         * first, then takes the smallest volume of the first set that has
         * one. */
        size_t n_modes =
            json_array_size(json_object_get(json_object_get(pv, "spec"), "accessModes"));
        if (!best || n_modes < best_modes || (n_modes == best_modes && cap < best_cap)) {
            best = pv;
            best_cap = cap;
            best_modes = n_modes;
        }
    }
    return best;
}

json_t *ctl_volume_provision(json_t *pvc, json_t *sc, const char *node)
{
    json_t *md = md_of(pvc), *spec = json_object_get(pvc, "spec");
    char name[128], path[1024];
    snprintf(name, sizeof name, "pvc-%s", ctl_str(md, "uid"));
    const char *dir = ctl_str(json_object_get(sc, "parameters"), "path");
    snprintf(path, sizeof path, "%s/%s", *dir ? dir : DEFAULT_HOSTPATH_DIR, name);
    const char *policy = ctl_str(sc, "reclaimPolicy");
    json_t *req = json_object_get(json_object_get(json_object_get(spec, "resources"), "requests"),
                                  "storage");
    json_t *zero = json_string("0");
    json_t *modes = json_object_get(spec, "accessModes");
    json_t *pv = json_pack(
        "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:{s:O}, s:O, s:s, s:s, s:s, s:{s:s, s:s},"
        " s:{s:s, s:s, s:s, s:s, s:s}}}",
        "apiVersion", "v1", "kind", "PersistentVolume", "metadata", "name", name, "annotations",
        ANN_PROVISIONED_BY, CTL_PROVISIONER_HOSTPATH, "spec", "capacity", "storage",
        req ? req : zero, "accessModes", modes ? modes : zero,
        "persistentVolumeReclaimPolicy", *policy ? policy : "Delete", "storageClassName",
        ctl_volume_class(pvc), "volumeMode", volume_mode(pvc), "hostPath", "path", path, "type",
        "DirectoryOrCreate", "claimRef", "kind", "PersistentVolumeClaim", "apiVersion", "v1",
        "namespace", ctl_str(md, "namespace"), "name", ctl_str(md, "name"), "uid",
        ctl_str(md, "uid"));
    json_decref(zero);
    if (!modes)
        json_object_set_new(json_object_get(pv, "spec"), "accessModes", json_array());
    json_t *mount = json_object_get(sc, "mountOptions");
    if (json_is_array(mount))
        json_object_set(json_object_get(pv, "spec"), "mountOptions", mount);
    if (node && *node)
        json_object_set_new(
            json_object_get(pv, "spec"), "nodeAffinity",
            json_pack("{s:{s:[{s:[{s:s, s:s, s:[s]}]}]}}", "required", "nodeSelectorTerms",
                      "matchExpressions", "key", "kubernetes.io/hostname", "operator", "In",
                      "values", node));
    return pv;
}

/* ==== reading and writing ==== */

/* PUTs obj (or its /status); replaces *obj with the stored result so a
 * next write carries the new revision. Returns whether it was written. */
static bool put(struct ctl *c, const char *res, json_t **obj, bool status)
{
    json_t *md = md_of(*obj);
    char path[700];
    if (!ctl_object_path(res, ctl_str(md, "namespace"), ctl_str(md, "name"), path,
                         sizeof path - 8))
        return false;
    if (status)
        strcat(path, "/status");
    json_t *out = NULL;
    int st = ctl_api(c, "PUT", path, NULL, *obj, &out);
    if (st != 200 || !out) {
        if (st != 409)
            LOG_WARN("controllers: volume binder: PUT %s: %d", path, st);
        json_decref(out);
        return false;
    }
    json_decref(*obj);
    *obj = out;
    return true;
}

static json_t *ensure_obj(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

static void set_annotation(json_t *obj, const char *key, const char *value)
{
    json_object_set_new(ensure_obj(ensure_obj(obj, "metadata"), "annotations"), key,
                        json_string(value));
}

static const char *phase_of(json_t *obj)
{
    return ctl_str(json_object_get(obj, "status"), "phase");
}

/* Sets status.phase (and a message, or none) through /status. */
static bool set_phase(struct ctl *c, const char *res, json_t **obj, const char *phase,
                      const char *message)
{
    json_t *st = ensure_obj(*obj, "status");
    if (strcmp(phase_of(*obj), phase) == 0 && strcmp(ctl_str(st, "message"), message) == 0)
        return true;
    json_object_set_new(st, "phase", json_string(phase));
    if (*message)
        json_object_set_new(st, "message", json_string(message));
    else
        json_object_del(st, "message");
    if (strcmp(res, PVS) == 0) {
        char now[32];
        util_time_rfc3339(now, sizeof now);
        json_object_set_new(st, "lastPhaseTransitionTime", json_string(now));
    }
    return put(c, res, obj, true);
}

/* ==== binding ==== */

/* bind(): both sides, each step only if not done yet. */
static bool bind(struct ctl *c, json_t *pv, json_t *pvc)
{
    json_t *md = md_of(pvc);
    json_t *pv_spec = ensure_obj(pv, "spec");
    json_t *ref = json_object_get(pv_spec, "claimRef");
    bool ok = true;
    if (!json_is_object(ref) || strcmp(ctl_str(ref, "uid"), ctl_str(md, "uid")) != 0) {
        if (!json_is_object(ref))
            set_annotation(pv, ANN_BOUND_BY_CONTROLLER, "yes");
        char rv[32];
        snprintf(rv, sizeof rv, "%s", ctl_str(md, "resourceVersion"));
        json_object_set_new(pv_spec, "claimRef",
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind",
                                      "PersistentVolumeClaim", "apiVersion", "v1", "namespace",
                                      ctl_str(md, "namespace"), "name", ctl_str(md, "name"), "uid",
                                      ctl_str(md, "uid"), "resourceVersion", rv));
        ok = put(c, PVS, &pv, false);
    }
    ok = ok && set_phase(c, PVS, &pv, "Bound", "");
    json_t *spec = ensure_obj(pvc, "spec");
    const char *pv_name = ctl_str(md_of(pv), "name");
    if (ok && (strcmp(ctl_str(spec, "volumeName"), pv_name) != 0 ||
               strcmp(annotation(pvc, ANN_BIND_COMPLETED), "yes") != 0)) {
        if (strcmp(ctl_str(spec, "volumeName"), pv_name) != 0) {
            json_object_set_new(spec, "volumeName", json_string(pv_name));
            set_annotation(pvc, ANN_BOUND_BY_CONTROLLER, "yes");
        }
        set_annotation(pvc, ANN_BIND_COMPLETED, "yes");
        ok = put(c, PVCS, &pvc, false);
    }
    if (ok) {
        json_t *st = ensure_obj(pvc, "status");
        json_t *cap = json_object_get(json_object_get(pv, "spec"), "capacity");
        json_t *modes = json_object_get(json_object_get(pv, "spec"), "accessModes");
        bool same = strcmp(ctl_str(st, "phase"), "Bound") == 0 &&
                    json_equal(json_object_get(st, "capacity"), cap) &&
                    json_equal(json_object_get(st, "accessModes"), modes);
        if (!same) {
            json_object_set_new(st, "phase", json_string("Bound"));
            if (cap)
                json_object_set(st, "capacity", cap);
            if (modes)
                json_object_set(st, "accessModes", modes);
            ok = put(c, PVCS, &pvc, true);
        }
    }
    json_decref(pv);
    json_decref(pvc);
    return ok;
}

/* ==== claims ==== */

static bool claim_pending(struct ctl *c, json_t *pvc, const char *type, const char *reason,
                          const char *fmt, const char *arg)
{
    bool ok = set_phase(c, PVCS, &pvc, "Pending", "");
    if (reason) {
        char msg[512];
        snprintf(msg, sizeof msg, fmt, arg);
        ctl_event(c, PVCS, pvc, type, reason, "%s", msg);
    }
    json_decref(pvc);
    return ok;
}

static bool claim_lost(struct ctl *c, json_t *pvc, const char *reason, const char *msg)
{
    bool ok = true;
    if (strcmp(phase_of(pvc), "Lost") != 0) {
        ok = set_phase(c, PVCS, &pvc, "Lost", "");
        if (ok)
            ctl_event(c, PVCS, pvc, "Warning", reason, "%s", msg);
    }
    json_decref(pvc);
    return ok;
}

static bool is_default_class(json_t *sc)
{
    return strcmp(annotation(sc, ANN_DEFAULT_CLASS), "true") == 0 ||
           strcmp(annotation(sc, ANN_BETA_DEFAULT_CLASS), "true") == 0;
}

/* The newest default StorageClass's name, or "" (borrowed from classes). */
static const char *default_class(json_t *classes)
{
    json_t *sc, *best = NULL;
    size_t i;
    json_array_foreach(classes, i, sc) if (is_default_class(sc) &&
                                           (!best || strcmp(ctl_str(md_of(sc), "creationTimestamp"),
                                                            ctl_str(md_of(best), "creationTimestamp")) > 0))
        best = sc;
    return best ? ctl_str(md_of(best), "name") : "";
}

/* A claim with no class at all gets the default class once one exists. */
static bool assign_default_class(struct ctl *c, json_t **pvc, bool *changed)
{
    json_t *spec = json_object_get(*pvc, "spec");
    json_t *cls = json_object_get(spec, "storageClassName");
    *changed = false;
    if ((cls && !json_is_null(cls)) ||
        json_object_get(json_object_get(md_of(*pvc), "annotations"), ANN_BETA_CLASS))
        return true;
    json_t *classes = ctl_list(c, "storageclasses", NULL, "is-default-class");
    const char *name = default_class(classes);
    bool ok = true;
    if (*name) {
        json_object_set_new(spec, "storageClassName", json_string(name));
        ok = put(c, PVCS, pvc, false);
        *changed = ok;
    }
    json_decref(classes);
    return ok;
}

/* The node of a scheduled pod of the claim's namespace that mounts it. */
static bool consumer_node(struct ctl *c, json_t *pvc, char *node, size_t len)
{
    json_t *md = md_of(pvc);
    json_t *pods = ctl_list(c, "pods", ctl_str(md, "namespace"), ctl_str(md, "name")), *p, *v;
    size_t i, j;
    node[0] = '\0';
    json_array_foreach(pods, i, p)
    {
        json_t *spec = json_object_get(p, "spec");
        if (!*ctl_str(spec, "nodeName") || !ctl_pod_active(p))
            continue;
        json_array_foreach(json_object_get(spec, "volumes"), j, v)
        {
            json_t *src = json_object_get(v, "persistentVolumeClaim");
            if (strcmp(ctl_str(src, "claimName"), ctl_str(md, "name")) == 0 && !node[0])
                snprintf(node, len, "%s", ctl_str(spec, "nodeName"));
        }
    }
    json_decref(pods);
    return node[0] != '\0';
}

/* Creates the claim's volume through the hostPath provisioner. */
static bool provision(struct ctl *c, json_t *pvc, json_t *sc)
{
    const char *prov = ctl_str(sc, "provisioner");
    if (strcmp(annotation(pvc, ANN_STORAGE_PROVISIONER), prov) != 0) {
        set_annotation(pvc, ANN_STORAGE_PROVISIONER, prov);
        set_annotation(pvc, ANN_BETA_STORAGE_PROVISIONER, prov);
        if (!put(c, PVCS, &pvc, false)) {
            json_decref(pvc);
            return false;
        }
    }
    json_t *pv = ctl_volume_provision(pvc, sc, annotation(pvc, ANN_SELECTED_NODE)), *out = NULL;
    int st = ctl_api(c, "POST", "/api/v1/persistentvolumes", NULL, pv, &out);
    if (st == 201)
        ctl_event(c, PVCS, pvc, "Normal", "ProvisioningSucceeded",
                  "Successfully provisioned volume %s using %s",
                  ctl_str(md_of(pv), "name"), prov);
    else if (st != 409)
        ctl_event(c, PVCS, pvc, "Warning", "ProvisioningFailed",
                  "Failed to provision volume with StorageClass \"%s\": %s (HTTP %d)",
                  ctl_volume_class(pvc), ctl_str(out, "message"), st);
    json_decref(out);
    json_decref(pv);
    json_decref(pvc);
    /* The new volume's change queues the claim, which then binds to it. */
    return st == 201 || st == 409;
}

/* syncUnboundClaim with no volumeName: match, provision, or wait. */
static bool claim_find_volume(struct ctl *c, json_t *pvc)
{
    bool changed, ok = assign_default_class(c, &pvc, &changed);
    if (!ok || changed) { /* the claim's change brings it back */
        json_decref(pvc);
        return ok;
    }
    const char *cls = ctl_volume_class(pvc);
    json_t *sc = *cls ? ctl_get(c, "storageclasses", "", cls) : NULL;
    bool delay = sc && strcmp(ctl_str(sc, "volumeBindingMode"), "WaitForFirstConsumer") == 0;
    if (delay && !*annotation(pvc, ANN_SELECTED_NODE)) {
        char node[256];
        if (consumer_node(c, pvc, node, sizeof node)) {
            set_annotation(pvc, ANN_SELECTED_NODE, node);
            ok = put(c, PVCS, &pvc, false);
            json_decref(pvc);
        } else {
            ok = claim_pending(c, pvc, "Normal", "WaitForFirstConsumer",
                               "waiting for first consumer to be created before binding%s", "");
        }
        json_decref(sc);
        return ok;
    }
    json_t *pvs = ctl_list(c, PVS, NULL, NULL);
    json_t *pv = ctl_volume_find_match(pvs, pvc, false);
    if (pv) {
        json_t *fresh = ctl_get(c, PVS, "", ctl_str(md_of(pv), "name"));
        ok = fresh && bind(c, fresh, pvc);
        if (!fresh)
            json_decref(pvc);
    } else if (!*cls) {
        ok = claim_pending(c, pvc, "Normal", "FailedBinding",
                           "no persistent volumes available for this claim and no storage class "
                           "is set%s", "");
    } else if (!sc) {
        ok = claim_pending(c, pvc, "Warning", "ProvisioningFailed",
                           "storageclass.storage.k8s.io \"%s\" not found", cls);
    } else if (strcmp(ctl_str(sc, "provisioner"), CTL_PROVISIONER_HOSTPATH) == 0) {
        ok = provision(c, pvc, sc);
    } else {
        ok = claim_pending(c, pvc, "Normal", "ExternalProvisioning",
                           "Waiting for a volume to be created either by the external provisioner "
                           "'%s' or manually by the system administrator. If volume creation is "
                           "delayed, please verify that the provisioner is running and correctly "
                           "registered.", ctl_str(sc, "provisioner"));
    }
    json_decref(pvs);
    json_decref(sc);
    return ok;
}

/* syncUnboundClaim with a volumeName: wait for exactly that volume. */
static bool claim_named_volume(struct ctl *c, json_t *pvc, const char *vname)
{
    json_t *pv = ctl_get(c, PVS, "", vname);
    if (!pv)
        return claim_pending(c, pvc, "Normal", "FailedBinding", "volume \"%s\" not found", vname);
    json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
    char why[128];
    if (!json_is_object(ref)) {
        if (!ctl_volume_satisfies(pv, pvc, why, sizeof why)) {
            json_decref(pv);
            return claim_pending(c, pvc, "Warning", "VolumeMismatch",
                                 "Cannot bind to requested volume: %s", why);
        }
        return bind(c, pv, pvc);
    }
    if (ctl_volume_bound_to(pv, pvc))
        return bind(c, pv, pvc);
    json_decref(pv);
    return claim_pending(c, pvc, "Warning", "FailedBinding",
                         "volume \"%s\" already bound to a different claim.", vname);
}

/* syncBoundClaim */
static bool claim_bound(struct ctl *c, json_t *pvc, const char *vname)
{
    if (!*vname)
        return claim_lost(c, pvc, "ClaimLost",
                          "Bound claim has lost reference to PersistentVolume. Data on the volume "
                          "is lost!");
    json_t *pv = ctl_get(c, PVS, "", vname);
    if (!pv)
        return claim_lost(c, pvc, "ClaimLost",
                          "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
    json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
    if (!json_is_object(ref) || ctl_volume_bound_to(pv, pvc))
        return bind(c, pv, pvc);
    json_decref(pv);
    return claim_lost(c, pvc, "ClaimMisbound",
                      "Two claims are bound to the same volume, this one is bound incorrectly");
}

static bool sync_claim(struct ctl *c, const char *ns, const char *name)
{
    json_t *pvc = ctl_get(c, PVCS, ns, name);
    if (!pvc)
        return true; /* its volume's sync releases the volume */
    if (json_object_get(md_of(pvc), "deletionTimestamp") || strcmp(phase_of(pvc), "Lost") == 0) {
        json_decref(pvc);
        return true;
    }
    char vname[256];
    snprintf(vname, sizeof vname, "%s", ctl_str(json_object_get(pvc, "spec"), "volumeName"));
    if (strcmp(annotation(pvc, ANN_BIND_COMPLETED), "yes") == 0)
        return claim_bound(c, pvc, vname);
    if (vname[0])
        return claim_named_volume(c, pvc, vname);
    return claim_find_volume(c, pvc);
}

/* ==== volumes ==== */

/* reclaimVolume for a released volume. */
static bool reclaim(struct ctl *c, json_t *pv)
{
    const char *policy = ctl_str(json_object_get(pv, "spec"), "persistentVolumeReclaimPolicy");
    bool ok = true;
    if (strcmp(policy, "Delete") == 0) {
        char path[600];
        ctl_object_path(PVS, "", ctl_str(md_of(pv), "name"), path, sizeof path);
        int st = ctl_api(c, "DELETE", path, NULL, NULL, NULL);
        ok = st == 200 || st == 202 || st == 404;
    } else if (strcmp(policy, "Recycle") == 0) {
        ctl_event(c, PVS, pv, "Warning", "VolumeFailedRecycle",
                  "Recycle is deprecated and not supported: the volume stays Released");
    }
    json_decref(pv);
    return ok;
}

/* unbindVolume: a controller's binding goes, a user's pre-binding keeps
 * the claim's name but loses its uid. */
static bool unbind(struct ctl *c, json_t *pv)
{
    json_t *spec = json_object_get(pv, "spec");
    json_t *anns = json_object_get(md_of(pv), "annotations");
    if (json_object_get(anns, ANN_BOUND_BY_CONTROLLER)) {
        json_object_del(spec, "claimRef");
        json_object_del(anns, ANN_BOUND_BY_CONTROLLER);
    } else {
        json_object_del(json_object_get(spec, "claimRef"), "uid");
    }
    bool ok = put(c, PVS, &pv, false) && set_phase(c, PVS, &pv, "Available", "");
    json_decref(pv);
    return ok;
}

static bool sync_volume(struct ctl *c, const char *name)
{
    json_t *pv = ctl_get(c, PVS, "", name);
    if (!pv || json_object_get(md_of(pv), "deletionTimestamp")) {
        json_decref(pv);
        return true;
    }
    json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
    bool ok;
    if (!json_is_object(ref) || !*ctl_str(ref, "uid")) {
        if (json_is_object(ref))
            ctl_enqueue(c, VB, PVCS, ctl_str(ref, "namespace"), ctl_str(ref, "name"));
        ok = set_phase(c, PVS, &pv, "Available", "");
        json_decref(pv);
        return ok;
    }
    json_t *pvc = ctl_get(c, PVCS, ctl_str(ref, "namespace"), ctl_str(ref, "name"));
    if (pvc && strcmp(ctl_str(md_of(pvc), "uid"), ctl_str(ref, "uid")) != 0) {
        json_decref(pvc); /* a new claim of the same name is another claim */
        pvc = NULL;
    }
    if (!pvc) {
        if (strcmp(phase_of(pv), "Released") != 0 && strcmp(phase_of(pv), "Failed") != 0 &&
            !set_phase(c, PVS, &pv, "Released", "")) {
            json_decref(pv);
            return false;
        }
        return reclaim(c, pv);
    }
    const char *bound = ctl_str(json_object_get(pvc, "spec"), "volumeName");
    if (!*bound || strcmp(bound, name) == 0) {
        if (!*bound)
            ctl_enqueue(c, VB, PVCS, ctl_str(ref, "namespace"), ctl_str(ref, "name"));
        ok = set_phase(c, PVS, &pv, "Bound", "");
        json_decref(pv);
    } else if (*annotation(pv, ANN_PROVISIONED_BY) &&
               strcmp(ctl_str(json_object_get(pv, "spec"), "persistentVolumeReclaimPolicy"),
                      "Delete") == 0) {
        ok = set_phase(c, PVS, &pv, "Released", "");
        if (ok)
            return reclaim(c, pv);
        json_decref(pv);
    } else {
        ok = unbind(c, pv);
    }
    json_decref(pvc);
    return ok;
}

/* ==== the controller ==== */

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    if (strcmp(resource, PVS) == 0)
        return sync_volume(c, name);
    if (strcmp(resource, PVCS) == 0)
        return sync_claim(c, ns, name);
    return true;
}

static bool res_is(const struct store_event *e, const char *res)
{
    return e->o.resource_len == strlen(res) && memcmp(e->o.resource, res, e->o.resource_len) == 0;
}

static bool wants(const struct store_event *e)
{
    return res_is(e, PVS) || res_is(e, PVCS) || res_is(e, "storageclasses") ||
           (res_is(e, "pods") && e->type != STORE_DELETED &&
            ctl_obj_has(&e->o, "persistentVolumeClaim") && ctl_obj_has(&e->o, "nodeName"));
}

static void enqueue_unbound_claims(struct ctl *c)
{
    json_t *pvcs = ctl_list(c, PVCS, NULL, NULL), *p;
    size_t i;
    json_array_foreach(pvcs, i, p) if (strcmp(phase_of(p), "Bound") != 0)
        ctl_enqueue(c, VB, PVCS, ctl_str(md_of(p), "namespace"), ctl_str(md_of(p), "name"));
    json_decref(pvcs);
}

static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    json_t *md = md_of(obj), *spec = json_object_get(obj, "spec");
    if (res_is(e, PVS)) {
        if (e->type != STORE_DELETED)
            ctl_enqueue(c, VB, PVS, "", ctl_str(md, "name"));
        json_t *ref = json_object_get(spec, "claimRef");
        if (json_is_object(ref))
            ctl_enqueue(c, VB, PVCS, ctl_str(ref, "namespace"), ctl_str(ref, "name"));
        else if (e->type != STORE_DELETED && strcmp(phase_of(obj), "Available") == 0)
            enqueue_unbound_claims(c); /* a volume free for the taking */
    } else if (res_is(e, PVCS)) {
        if (e->type != STORE_DELETED)
            ctl_enqueue(c, VB, PVCS, ctl_str(md, "namespace"), ctl_str(md, "name"));
        if (*ctl_str(spec, "volumeName"))
            ctl_enqueue(c, VB, PVS, "", ctl_str(spec, "volumeName"));
    } else if (res_is(e, "storageclasses")) {
        enqueue_unbound_claims(c);
    } else if (*ctl_str(spec, "nodeName")) { /* a pod with claims, on a node */
        json_t *v;
        size_t i;
        json_array_foreach(json_object_get(spec, "volumes"), i, v)
        {
            const char *claim = ctl_str(json_object_get(v, "persistentVolumeClaim"), "claimName");
            if (*claim)
                ctl_enqueue(c, VB, PVCS, ctl_str(md, "namespace"), claim);
        }
    }
}

static void resync(struct ctl *c)
{
    json_t *pvs = ctl_list(c, PVS, NULL, NULL), *p;
    size_t i;
    json_array_foreach(pvs, i, p) ctl_enqueue(c, VB, PVS, "", ctl_str(md_of(p), "name"));
    json_decref(pvs);
    json_t *pvcs = ctl_list(c, PVCS, NULL, NULL);
    json_array_foreach(pvcs, i, p)
        ctl_enqueue(c, VB, PVCS, ctl_str(md_of(p), "namespace"), ctl_str(md_of(p), "name"));
    json_decref(pvcs);
}

const struct ctl_def ctl_volume_binder = {
    .name = VB,
    .component = "persistentvolume-controller",
    .wants = wants,
    .on_change = on_change,
    .sync = sync,
    .resync = resync,
};
