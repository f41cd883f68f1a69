/* admit.c — admission steps that need the cluster's state, run on create
 * before validation: Kubernetes' Priority, DefaultTolerationSeconds and
 * DefaultStorageClass admission plugins.
 *
 * A pod's priority comes from its PriorityClass: spec.priorityClassName
 * names one (the built-in system-cluster-critical and system-node-critical
 * need no object), or the class marked globalDefault applies, or the
 * priority is 0. The class's value goes into spec.priority and its
 * preemptionPolicy into spec.preemptionPolicy when the pod sets none; a
 * missing class, or a spec.priority that disagrees with the class, is a
 * 403 Forbidden with the plugin's words. A class just created through
 * another server may not have reached this replica yet: a miss is checked
 * again after a read barrier before it is refused.
 *
 * And DefaultTolerationSeconds: a pod that does not already tolerate the
 * node lifecycle's NoExecute taints (node.kubernetes.io/not-ready and
 * unreachable) gets tolerations for them with tolerationSeconds 300, as
 * every pod in Kubernetes does.
 *
 * And DefaultStorageClass: a new PersistentVolumeClaim with no
 * spec.storageClassName at all (an empty string means "no class" and is
 * kept) and no beta storage-class annotation gets the default
 * StorageClass's name: the class annotated
 * storageclass.kubernetes.io/is-default-class "true" (or the beta
 * annotation), the newest one if several are. With no default class the
 * claim is left alone; the volume binder assigns a default class that
 * appears later (retroactive default assignment).
 *
 * And StorageObjectInUseProtection: a new PersistentVolumeClaim gets the
 * finalizer kubernetes.io/pvc-protection and a new PersistentVolume
 * kubernetes.io/pv-protection (once), so that deleting one only marks it
 * until the pvc-protection controller sees no pod using the claim, or the
 * pv-protection controller no claim bound to the volume
 * (controllers/volumes.c). */
#include <stdio.h>
#include <string.h>

#include "codec/codec.h"
#include "kube/kube.h"
#include "server/internal.h"

#define SYSTEM_CLUSTER_CRITICAL 2000000000
#define SYSTEM_NODE_CRITICAL 2000001000

struct pc_find {
    const char *name; /* NULL: the global default */
    json_t *found;
};

static int pc_one(void *arg, const struct store_obj *o)
{
    struct pc_find *f = arg;
    if (f->name && (o->name_len != strlen(f->name) || memcmp(o->name, f->name, o->name_len)))
        return 0;
    json_t *pc = codec_msgpack_to_json(o->obj, o->obj_len);
    if (!pc)
        return 0;
    if (!f->name && !json_is_true(json_object_get(pc, "globalDefault"))) {
        json_decref(pc);
        return 0;
    }
    /* Several global defaults: the lowest value wins, as in Kubernetes. */
    if (f->found && json_integer_value(json_object_get(f->found, "value")) <=
                        json_integer_value(json_object_get(pc, "value"))) {
        json_decref(pc);
        return 0;
    }
    json_decref(f->found);
    f->found = pc;
    return 0;
}

/* The class named name (NULL: the global default), or NULL. */
static json_t *pc_lookup(struct server *s, const char *name)
{
    struct store_read r;
    struct pc_find f = {name, NULL};
    if (store_read_begin(s->store, &r) != 0)
        return NULL;
    store_list(&r, "priorityclasses", "", pc_one, &f);
    store_read_end(&r);
    return f.found;
}

int admit_pod_priority(struct server *s, json_t *pod, bool may_block, char *msg, size_t len)
{
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec))
        return 0;
    const char *cls = api_str(spec, "priorityClassName");
    json_int_t value = 0;
    const char *policy = NULL;
    json_t *pc = NULL;
    if (strcmp(cls, "system-cluster-critical") == 0 || strcmp(cls, "system-node-critical") == 0) {
        value = cls[7] == 'c' ? SYSTEM_CLUSTER_CRITICAL : SYSTEM_NODE_CRITICAL;
    } else {
        pc = pc_lookup(s, *cls ? cls : NULL);
        if (!pc && *cls && !may_block)
            return -1;
        if (!pc && *cls) {
            char why[160];
            if (server_read_barrier(s, why, sizeof why) == 0)
                pc = pc_lookup(s, cls);
        }
        if (!pc && *cls) {
            snprintf(msg, len, "pods \"%s\" is forbidden: no PriorityClass with name %s was found",
                     api_str(api_metadata(pod), "name"), cls);
            return 403;
        }
        if (pc) {
            value = json_integer_value(json_object_get(pc, "value"));
            policy = api_str(pc, "preemptionPolicy");
            if (!*cls)
                json_object_set_new(spec, "priorityClassName",
                                    json_string(api_str(api_metadata(pc), "name")));
        }
    }
    json_t *given = json_object_get(spec, "priority");
    if (json_is_integer(given) && json_integer_value(given) != value) {
        snprintf(msg, len,
                 "pods \"%s\" is forbidden: the integer value of priority (%lld) must not be "
                 "provided in pod spec; priority admission controller computed %lld from the given "
                 "PriorityClass name",
                 api_str(api_metadata(pod), "name"), (long long)json_integer_value(given),
                 (long long)value);
        json_decref(pc);
        return 403;
    }
    json_object_set_new(spec, "priority", json_integer(value));
    if (!json_object_get(spec, "preemptionPolicy"))
        json_object_set_new(spec, "preemptionPolicy",
                            json_string(policy && *policy ? policy : "PreemptLowerPriority"));
    json_decref(pc);
    return 0;
}

/* Whether tols holds a toleration of key's NoExecute taint. */
static bool tolerates_no_execute(json_t *tols, const char *key)
{
    json_t *t;
    size_t i;
    json_array_foreach(tols, i, t) {
        const char *k = api_str(t, "key"), *eff = api_str(t, "effect");
        bool key_ok = (!*k && strcmp(api_str(t, "operator"), "Exists") == 0) || strcmp(k, key) == 0;
        if (key_ok && (!*eff || strcmp(eff, "NoExecute") == 0))
            return true;
    }
    return false;
}

void admit_pod_default_tolerations(json_t *pod)
{
    static const char *keys[] = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"};
    json_t *spec = json_object_get(pod, "spec");
    if (!json_is_object(spec))
        return;
    json_t *tols = json_object_get(spec, "tolerations");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (tolerates_no_execute(tols, keys[i]))
            continue;
        if (!json_is_array(tols)) {
            tols = json_array();
            json_object_set_new(spec, "tolerations", tols);
        }
        json_array_append_new(tols, json_pack("{s:s, s:s, s:s, s:I}", "key", keys[i], "operator",
                                              "Exists", "effect", "NoExecute",
                                              "tolerationSeconds", (json_int_t)300));
    }
}

/* ---- DefaultStorageClass ---- */

struct sc_find {
    json_t *found; /* the newest default class so far */
};

static bool sc_is_default(json_t *sc)
{
    json_t *ann = json_object_get(api_metadata(sc), "annotations");
    return strcmp(api_str(ann, "storageclass.kubernetes.io/is-default-class"), "true") == 0 ||
           strcmp(api_str(ann, "storageclass.beta.kubernetes.io/is-default-class"), "true") == 0;
}

static int sc_one(void *arg, const struct store_obj *o)
{
    struct sc_find *f = arg;
    json_t *sc = codec_msgpack_to_json(o->obj, o->obj_len);
    if (!sc || !sc_is_default(sc)) {
        json_decref(sc);
        return 0;
    }
    /* Newest wins; equal times: the first name in order (Kubernetes). */
    if (f->found && strcmp(api_str(api_metadata(sc), "creationTimestamp"),
                           api_str(api_metadata(f->found), "creationTimestamp")) <= 0) {
        json_decref(sc);
        return 0;
    }
    json_decref(f->found);
    f->found = sc;
    return 0;
}

void admit_pvc_default_class(struct server *s, json_t *pvc)
{
    json_t *spec = json_object_get(pvc, "spec");
    json_t *ann = json_object_get(api_metadata(pvc), "annotations");
    if (!json_is_object(spec) || (json_object_get(spec, "storageClassName") &&
                                  !json_is_null(json_object_get(spec, "storageClassName"))) ||
        json_object_get(ann, "volume.beta.kubernetes.io/storage-class"))
        return;
    struct store_read r;
    struct sc_find f = {NULL};
    if (store_read_begin(s->store, &r) != 0)
        return;
    store_list(&r, "storageclasses", "", sc_one, &f);
    store_read_end(&r);
    if (f.found)
        json_object_set_new(spec, "storageClassName",
                            json_string(api_str(api_metadata(f.found), "name")));
    json_decref(f.found);
}

void admit_storage_protection(const char *plural, json_t *obj)
{
    const char *fin = strcmp(plural, "persistentvolumeclaims") == 0 ? KUBE_PVC_PROTECTION_FINALIZER
                      : strcmp(plural, "persistentvolumes") == 0    ? KUBE_PV_PROTECTION_FINALIZER
                                                                    : NULL;
    json_t *md = api_metadata(obj);
    if (!fin || !json_is_object(md))
        return;
    json_t *fins = json_object_get(md, "finalizers"), *f;
    size_t i;
    if (!json_is_array(fins)) {
        if (fins && !json_is_null(fins))
            return; /* malformed: validation answers it */
        fins = json_array();
        json_object_set_new(md, "finalizers", fins);
    }
    json_array_foreach(fins, i, f) if (json_is_string(f) && strcmp(json_string_value(f), fin) == 0)
        return;
    json_array_append_new(fins, json_string(fin));
}
