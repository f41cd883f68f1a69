/* protection.c — the pvc-protection and pv-protection controllers: a
 * claim a pod still uses, or a volume still bound, is not removed while in
 * use, as Kubernetes' pkg/controller/volume/pvcprotection and pvprotection
 * keep them.
 *
 * Admission (server/admit.c, StorageObjectInUseProtection) gives every new
 * PersistentVolumeClaim the finalizer kubernetes.io/pvc-protection and
 * every new PersistentVolume kubernetes.io/pv-protection, so a DELETE only
 * marks them (deletionTimestamp). These controllers then remove the
 * finalizer, which lets the API remove the object, once:
 *   - a claim: no pod of its namespace that is not terminated (phase not
 *     Succeeded or Failed) names it in spec.volumes[].persistentVolumeClaim
 *     .claimName, or as the claim of a generic ephemeral volume (POD-VOLUME);
 *     every pod counts, bound or not, as bosun's scheduler and nodes do not
 *     refuse a claim being deleted the way Kubernetes' do;
 *   - a volume: its status.phase is not Bound, or its claimRef names no
 *     claim that still exists with that uid.
 * Keys: "persistentvolumeclaims/ns/name" (pvc-protection) and
 * "persistentvolumes//name" (pv-protection). A claim or volume marked for
 * deletion is queued; so are the claims a pod names when the pod changes
 * or goes, and the volume a claim was bound to when the claim changes or
 * goes. The finalizer goes by a PUT preconditioned on the revision read,
 * so a concurrent change makes the sync fail and retry on the new state.
 * The decisions are pure functions (ctl_pvc_in_use, ctl_pv_in_use) tested
 * in tests/unit/test_ctl_volumes.c. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define PVCP "pvc-protection"
#define PVP "pv-protection"
#define PVS "persistentvolumes"
#define PVCS "persistentvolumeclaims"
#define PVC_FINALIZER KUBE_PVC_PROTECTION_FINALIZER
#define PV_FINALIZER KUBE_PV_PROTECTION_FINALIZER

static json_t *md_of(json_t *o)
{
    return json_object_get(o, "metadata");
}

/* ---- decisions ---- */

static bool pod_terminated(json_t *pod)
{
    const char *phase = ctl_str(json_object_get(pod, "status"), "phase");
    return strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
}

/* Whether pod names the claim called name (directly, or as its generic
 * ephemeral volume's claim POD-VOLUME). */
static bool pod_names_claim(json_t *pod, const char *name)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "volumes"), i, v)
    {
        const char *claim = ctl_str(json_object_get(v, "persistentVolumeClaim"), "claimName");
        if (strcmp(claim, name) == 0)
            return true;
        if (json_is_object(json_object_get(v, "ephemeral"))) {
            char eph[512];
            snprintf(eph, sizeof eph, "%s-%s", ctl_str(md_of(pod), "name"), ctl_str(v, "name"));
            if (strcmp(eph, name) == 0)
                return true;
        }
    }
    return false;
}

bool ctl_pvc_in_use(json_t *pvc, json_t *pods)
{
    const char *ns = ctl_str(md_of(pvc), "namespace"), *name = ctl_str(md_of(pvc), "name");
    json_t *pod;
    size_t i;
    json_array_foreach(pods, i, pod) if (strcmp(ctl_str(md_of(pod), "namespace"), ns) == 0 &&
                                         !pod_terminated(pod) && pod_names_claim(pod, name))
        return true;
    return false;
}

bool ctl_pv_in_use(json_t *pv, json_t *claim)
{
    if (strcmp(ctl_str(json_object_get(pv, "status"), "phase"), "Bound") != 0)
        return false;
    json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
    if (!json_is_object(ref) || !claim)
        return false;
    const char *uid = ctl_str(ref, "uid");
    return strcmp(ctl_str(md_of(claim), "name"), ctl_str(ref, "name")) == 0 &&
           strcmp(ctl_str(md_of(claim), "namespace"), ctl_str(ref, "namespace")) == 0 &&
           (!*uid || strcmp(ctl_str(md_of(claim), "uid"), uid) == 0);
}

/* ---- I/O ---- */

static bool has_finalizer(json_t *obj, const char *fin)
{
    json_t *f;
    size_t i;
    json_array_foreach(json_object_get(md_of(obj), "finalizers"), i, f)
        if (strcmp(json_string_value(f) ? json_string_value(f) : "", fin) == 0)
            return true;
    return false;
}

/* Removes fin from obj by a PUT preconditioned on its resourceVersion;
 * steals obj. */
static bool remove_finalizer(struct ctl *c, const char *resource, json_t *obj, const char *fin)
{
    assert(has_finalizer(obj, fin) && json_object_get(md_of(obj), "deletionTimestamp"));
    json_t *fins = json_object_get(md_of(obj), "finalizers"), *kept = json_array(), *f;
    size_t i;
    json_array_foreach(fins, i, f) if (!json_is_string(f) || strcmp(json_string_value(f), fin))
        json_array_append(kept, f);
    json_object_set_new(md_of(obj), "finalizers", kept);
    char path[600];
    const char *ns = ctl_str(md_of(obj), "namespace"), *name = ctl_str(md_of(obj), "name");
    ctl_object_path(resource, ns, name, path, sizeof path);
    int st = ctl_api(c, "PUT", path, NULL, obj, NULL);
    if (st == 200)
        LOG_INFO("controllers: %s %s%s%s: finalizer %s removed", resource, ns, *ns ? "/" : "",
                 name, fin);
    json_decref(obj);
    return st == 200 || st == 404;
}

static bool sync_claim(struct ctl *c, const char *ns, const char *name)
{
    json_t *pvc = ctl_get(c, PVCS, ns, name);
    if (!pvc || !json_object_get(md_of(pvc), "deletionTimestamp") ||
        !has_finalizer(pvc, PVC_FINALIZER)) {
        json_decref(pvc);
        return true;
    }
    /* The pods that may name it: those whose bytes hold its name, and for
     * a generic ephemeral volume's claim (POD-VOLUME, owned by its pod)
     * that pod, whose bytes need not hold the joined name. */
    json_t *pods = ctl_list(c, "pods", ns, name), *ref = ctl_controller_ref(pvc);
    if (ref && strcmp(ctl_str(ref, "kind"), "Pod") == 0) {
        json_t *owner = ctl_get(c, "pods", ns, ctl_str(ref, "name"));
        if (owner)
            json_array_append_new(pods, owner);
    }
    bool in_use = ctl_pvc_in_use(pvc, pods);
    json_decref(pods);
    if (in_use) {
        json_decref(pvc);
        return true; /* queued again when one of its pods ends or goes */
    }
    return remove_finalizer(c, PVCS, pvc, PVC_FINALIZER);
}

static bool sync_volume(struct ctl *c, const char *name)
{
    json_t *pv = ctl_get(c, PVS, "", name);
    if (!pv || !json_object_get(md_of(pv), "deletionTimestamp") ||
        !has_finalizer(pv, PV_FINALIZER)) {
        json_decref(pv);
        return true;
    }
    json_t *ref = json_object_get(json_object_get(pv, "spec"), "claimRef");
    json_t *claim = json_is_object(ref)
                        ? ctl_get(c, PVCS, ctl_str(ref, "namespace"), ctl_str(ref, "name"))
                        : NULL;
    bool in_use = ctl_pv_in_use(pv, claim);
    json_decref(claim);
    if (in_use) {
        json_decref(pv);
        return true; /* queued again when its claim changes or goes */
    }
    return remove_finalizer(c, PVS, pv, PV_FINALIZER);
}

static bool sync_pvc(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    return strcmp(resource, PVCS) != 0 || sync_claim(c, ns, name);
}

static bool sync_pv(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)ns;
    return strcmp(resource, PVS) != 0 || sync_volume(c, name);
}

/* ---- the change stream ---- */

static bool res_is(const struct store_event *e, const char *res)
{
    return e->o.resource_len == strlen(res) && memcmp(e->o.resource, res, e->o.resource_len) == 0;
}

static bool wants_pvc(const struct store_event *e)
{
    return (res_is(e, PVCS) && ctl_obj_has(&e->o, "deletionTimestamp")) ||
           (res_is(e, "pods") &&
            (ctl_obj_has(&e->o, "persistentVolumeClaim") || ctl_obj_has(&e->o, "ephemeral")));
}

static bool wants_pv(const struct store_event *e)
{
    return (res_is(e, PVS) && ctl_obj_has(&e->o, "deletionTimestamp")) || res_is(e, PVCS);
}

/* The claims a pod names, when it may no longer use them. */
static void pod_changed(struct ctl *c, const struct store_event *e, json_t *pod)
{
    if (e->type != STORE_DELETED && !pod_terminated(pod) &&
        !json_object_get(md_of(pod), "deletionTimestamp"))
        return;
    const char *ns = ctl_str(md_of(pod), "namespace");
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "volumes"), i, v)
    {
        const char *claim = ctl_str(json_object_get(v, "persistentVolumeClaim"), "claimName");
        char eph[512];
        if (!*claim && json_is_object(json_object_get(v, "ephemeral"))) {
            snprintf(eph, sizeof eph, "%s-%s", ctl_str(md_of(pod), "name"), ctl_str(v, "name"));
            claim = eph;
        }
        if (*claim)
            ctl_enqueue(c, PVCP, PVCS, ns, claim);
    }
}

static void on_change_pvc(struct ctl *c, const struct store_event *e, json_t *obj)
{
    if (res_is(e, "pods")) {
        pod_changed(c, e, obj);
        return;
    }
    if (e->type != STORE_DELETED)
        ctl_enqueue(c, PVCP, PVCS, ctl_str(md_of(obj), "namespace"), ctl_str(md_of(obj), "name"));
}

static void on_change_pv(struct ctl *c, const struct store_event *e, json_t *obj)
{
    if (res_is(e, PVS)) {
        if (e->type != STORE_DELETED)
            ctl_enqueue(c, PVP, PVS, "", ctl_str(md_of(obj), "name"));
        return;
    }
    const char *vname = ctl_str(json_object_get(obj, "spec"), "volumeName");
    if (*vname) /* a claim changed or went: its volume may be free */
        ctl_enqueue(c, PVP, PVS, "", vname);
}

/* Every marked object of resource, queued for controller. */
static void enqueue_marked(struct ctl *c, const char *controller, const char *resource)
{
    json_t *objs = ctl_list(c, resource, NULL, "deletionTimestamp"), *o;
    size_t i;
    json_array_foreach(objs, i, o) if (json_object_get(md_of(o), "deletionTimestamp"))
        ctl_enqueue(c, controller, resource, ctl_str(md_of(o), "namespace"),
                    ctl_str(md_of(o), "name"));
    json_decref(objs);
}

static void resync_pvc(struct ctl *c)
{
    enqueue_marked(c, PVCP, PVCS);
}

static void resync_pv(struct ctl *c)
{
    enqueue_marked(c, PVP, PVS);
}

const struct ctl_def ctl_pvc_protection = {
    .name = PVCP,
    .component = "pvc-protection-controller",
    .wants = wants_pvc,
    .on_change = on_change_pvc,
    .sync = sync_pvc,
    .resync = resync_pvc,
};

const struct ctl_def ctl_pv_protection = {
    .name = PVP,
    .component = "pv-protection-controller",
    .wants = wants_pv,
    .on_change = on_change_pv,
    .sync = sync_pv,
    .resync = resync_pv,
};
