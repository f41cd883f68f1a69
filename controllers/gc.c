/* gc.c — the garbage collector: dependents follow their owners, as
 * Kubernetes' garbage collector makes them (metadata.ownerReferences).
 *
 *  - Background: when an owner is deleted, its dependents are deleted (a
 *    dependent that still has another live owner only loses the dead
 *    reference).
 *  - Foreground: an owner deleted with propagationPolicy=Foreground carries
 *    the foregroundDeletion finalizer; its dependents are deleted
 *    (foreground too), and the finalizer is removed once none is left, which
 *    lets the owner go.
 *  - Orphan: the orphan finalizer makes the collector remove the owner's
 *    reference from every dependent, then the finalizer.
 *
 * Dependents live in the owner's namespace (or anywhere for a
 * cluster-scoped owner), so a deleted owner costs one walk over its
 * namespace. Deletions of the kinds that usually own things (workloads,
 * services, claims) are acted on at once; a deleted pod's claims (which a
 * StatefulSet may hand to it) are looked for among the claims only, and a
 * deleted dependent's owners are looked up by the names in its references;
 * a full pass every CTL_RESYNC_MS
 * finds every other dangling reference by comparing each owner uid with the
 * set of live uids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "server/server.h"
#include "util/util.h"

#define GC "garbage-collector"
#define ORPHANS "_orphans" /* queue key: the uid of a deleted owner */
#define GC_SCAN "_scan"    /* queue key: the search for dangling references */
#define GC_SCAN_DELAY_MS 3000
/* A deleted pod's dependents are looked at a little later: its agent
 * deletes the pod's PodMetrics itself when it sees the pod go, and one
 * API call per deleted pod from this single thread would hold up every
 * other controller during a large rollout. */
#define GC_POD_DELAY_MS 5000

static const char *const owner_kinds[] = {"deployments", "replicasets",  "statefulsets",
                                          "daemonsets",  "jobs",         "cronjobs",
                                          "services",    "persistentvolumeclaims"};

static bool is_owner_kind(const char *res, size_t len)
{
    for (size_t i = 0; i < sizeof owner_kinds / sizeof owner_kinds[0]; i++)
        if (strlen(owner_kinds[i]) == len && memcmp(owner_kinds[i], res, len) == 0)
            return true;
    return false;
}

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool has_finalizer(json_t *obj, const char *f)
{
    json_t *fs = json_object_get(json_object_get(obj, "metadata"), "finalizers"), *v;
    size_t i;
    json_array_foreach(fs, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), f)) return
        true;
    return false;
}

static bool owned_by(json_t *obj, const char *uid)
{
    json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), *r;
    size_t i;
    json_array_foreach(refs, i, r) if (!strcmp(str(r, "uid"), uid)) return true;
    return false;
}

/* A deleted pod's dependents, keyed "uid:name" (pod names have no ':'). */
static void enqueue_pod_orphans(struct ctl *c, const char *ns, const char *uid, const char *name)
{
    char key[400];
    snprintf(key, sizeof key, "%s:%s", uid, name);
    ctl_enqueue_after(c, GC, ORPHANS "-of-pod", ns, key, GC_POD_DELAY_MS);
}

/* The resource an ownerReference names, and its scope; NULL if unknown. */
static const char *owner_resource(json_t *ref, bool *namespaced)
{
    const char *plural = server_resource_of_kind(str(ref, "apiVersion"), str(ref, "kind")), *p;
    *namespaced = false;
    for (unsigned k = 0; plural && server_resource_at(k, &p, namespaced); k++)
        if (strcmp(p, plural) == 0)
            return plural;
    return NULL;
}

/* Whether the owner that obj's reference with uid names still exists (the
 * same name with the same uid), looked up now: a reference that looked
 * dangling in a full pass may name an owner created since, and acting on
 * it would delete a live owner's dependents. Kubernetes' collector also
 * looks the owner up before it deletes. */
static bool owner_alive(struct ctl *c, json_t *obj, const char *ns, const char *uid)
{
    json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), *r;
    size_t i;
    json_array_foreach(refs, i, r)
    {
        if (strcmp(str(r, "uid"), uid) != 0)
            continue;
        bool namespaced;
        const char *plural = owner_resource(r, &namespaced);
        if (!plural)
            return false;
        json_t *owner = ctl_get(c, plural, namespaced ? ns : "", str(r, "name"));
        bool alive = owner && strcmp(str(json_object_get(owner, "metadata"), "uid"), uid) == 0;
        json_decref(owner);
        return alive;
    }
    return false;
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char res[128], ns[256], name[256], uid[64];
    snprintf(res, sizeof res, "%.*s", (int)e->o.resource_len, e->o.resource);
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    snprintf(uid, sizeof uid, "%.*s", (int)e->o.uid_len, e->o.uid);
    json_t *md = json_object_get(obj, "metadata");
    if (e->type == STORE_DELETED) {
        if (is_owner_kind(e->o.resource, e->o.resource_len))
            ctl_enqueue(c, GC, ORPHANS, ns, uid);
        else if (strcmp(res, "pods") == 0)
            enqueue_pod_orphans(c, ns, uid, name);
        /* An owner waiting in the foreground may now be free to go: the
         * reference names it, so it is looked up by name, not searched. */
        json_t *refs = json_object_get(md, "ownerReferences"), *r;
        size_t i;
        json_array_foreach(refs, i, r)
        {
            bool namespaced;
            const char *plural = owner_resource(r, &namespaced);
            if (plural)
                ctl_enqueue(c, GC, plural, namespaced ? ns : "", str(r, "name"));
            else
                ctl_enqueue(c, GC, ORPHANS "-owner", ns, str(r, "uid"));
        }
        return;
    }
    if (json_object_get(md, "deletionTimestamp") &&
        (has_finalizer(obj, "foregroundDeletion") || has_finalizer(obj, "orphan")))
        ctl_enqueue(c, GC, res, ns, name);
}

/* ---- dependents ---- */

struct dep {
    char *resource, *ns, *name;
    json_t *obj;
};

struct dep_list {
    const char *uid;
    struct dep *v;
    size_t n, cap;
};

static void collect_dep(struct ctl *c, void *arg, const char *resource, const struct store_obj *o,
                        json_t *obj)
{
    struct dep_list *dl = arg;
    if (!owned_by(obj, dl->uid))
        return;
    if (dl->n == dl->cap) {
        dl->cap = dl->cap ? dl->cap * 2 : 16;
        dl->v = xrealloc(dl->v, dl->cap * sizeof *dl->v);
    }
    dl->v[dl->n++] = (struct dep){xstrdup(resource), xstrndup(o->ns, o->ns_len),
                                  xstrndup(o->name, o->name_len), json_incref(obj)};
}

static void deps_free(struct dep_list *dl)
{
    for (size_t i = 0; i < dl->n; i++) {
        free(dl->v[i].resource);
        free(dl->v[i].ns);
        free(dl->v[i].name);
        json_decref(dl->v[i].obj);
    }
    free(dl->v);
}

static void deps_find(struct ctl *c, const char *ns, const char *uid, struct dep_list *dl)
{
    memset(dl, 0, sizeof *dl);
    dl->uid = uid;
    ctl_each_object(c, ns && *ns ? ns : NULL, uid, collect_dep, dl);
}

/* Rewrites a dependent without its owner references to uid. */
static bool remove_owner_ref(struct ctl *c, const struct dep *d, const char *uid)
{
    json_t *obj = json_deep_copy(d->obj);
    json_t *md = json_object_get(obj, "metadata");
    json_t *refs = json_object_get(md, "ownerReferences"), *kept = json_array(), *r;
    size_t i;
    json_array_foreach(refs, i, r) if (strcmp(str(r, "uid"), uid) != 0) json_array_append(kept, r);
    if (json_array_size(kept))
        json_object_set_new(md, "ownerReferences", kept);
    else {
        json_decref(kept);
        json_object_del(md, "ownerReferences");
    }
    char path[1024];
    bool ok = ctl_object_path(d->resource, d->ns, d->name, path, sizeof path);
    int st = ok ? ctl_api(c, "PUT", path, NULL, obj, NULL) : 404;
    json_decref(obj);
    return st == 200 || st == 404;
}

static bool delete_object(struct ctl *c, const char *resource, const char *ns, const char *name,
                          const char *uid, const char *propagation)
{
    char path[1024];
    if (!ctl_object_path(resource, ns, name, path, sizeof path))
        return true;
    json_t *opts = json_pack("{s:s, s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
                             "v1", "propagationPolicy", propagation, "preconditions", "uid", uid);
    int st = ctl_api(c, "DELETE", path, NULL, opts, NULL);
    json_decref(opts);
    return st == 200 || st == 202 || st == 404 || st == 409;
}

/* ---- live uids, for references to owners that are gone ---- */

struct uid_set {
    char **v;
    size_t n, cap;
};

static void collect_uid(struct ctl *c, void *arg, const char *resource, const struct store_obj *o,
                        json_t *obj)
{
    struct uid_set *us = arg;
    if (us->n == us->cap) {
        us->cap = us->cap ? us->cap * 2 : 1024;
        us->v = xrealloc(us->v, us->cap * sizeof *us->v);
    }
    us->v[us->n++] = xstrndup(o->uid, o->uid_len);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool uid_live(const struct uid_set *us, const char *uid)
{
    return us->n && bsearch(&uid, us->v, us->n, sizeof *us->v, cmp_str) != NULL;
}

struct dangling_ctx {
    const struct uid_set *live;
};

static void check_refs(struct ctl *c, void *arg, const char *resource, const struct store_obj *o,
                       json_t *obj)
{
    struct dangling_ctx *dc = arg;
    json_t *md = json_object_get(obj, "metadata");
    json_t *refs = json_object_get(md, "ownerReferences"), *r;
    size_t i;
    char ns[256];
    snprintf(ns, sizeof ns, "%.*s", (int)o->ns_len, o->ns);
    json_array_foreach(refs, i, r)
    {
        const char *uid = str(r, "uid");
        if (!*uid || uid_live(dc->live, uid))
            continue;
        if (strcmp(str(r, "kind"), "Pod") == 0 && strcmp(str(r, "apiVersion"), "v1") == 0)
            enqueue_pod_orphans(c, ns, uid, str(r, "name"));
        else
            ctl_enqueue(c, GC, ORPHANS, ns, uid);
    }
    if (json_object_get(md, "deletionTimestamp") &&
        (has_finalizer(obj, "foregroundDeletion") || has_finalizer(obj, "orphan"))) {
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
        ctl_enqueue(c, GC, resource, ns, name);
    }
}

/* The full pass only queues the scan, a few seconds later: it decodes
 * every object that has owners, and a new leader's first seconds belong to
 * the controllers that keep workloads running, not to a search for garbage
 * that can wait. */
static void resync(struct ctl *c)
{
    ctl_enqueue_after(c, GC, GC_SCAN, "", "all", GC_SCAN_DELAY_MS);
}

static void scan(struct ctl *c)
{
    struct uid_set live = {0};
    ctl_each_object(c, NULL, "", collect_uid, &live);
    if (live.n)
        qsort(live.v, live.n, sizeof *live.v, cmp_str);
    struct dangling_ctx dc = {&live};
    ctl_each_object(c, NULL, "ownerReferences", check_refs, &dc);
    ctl_each_object(c, NULL, "deletionTimestamp", check_refs, &dc);
    for (size_t i = 0; i < live.n; i++)
        free(live.v[i]);
    free(live.v);
}

/* ---- sync ---- */

/* The owner uid is gone: delete its dependents, or drop the reference from
 * those that have other owners. */
static bool sync_orphans(struct ctl *c, const char *ns, const char *uid)
{
    struct dep_list dl;
    deps_find(c, ns, uid, &dl);
    bool ok = true;
    if (dl.n && owner_alive(c, dl.v[0].obj, dl.v[0].ns, uid)) {
        deps_free(&dl);
        return true;
    }
    for (size_t i = 0; i < dl.n; i++) {
        struct dep *d = &dl.v[i];
        json_t *refs = json_object_get(json_object_get(d->obj, "metadata"), "ownerReferences");
        if (json_array_size(refs) > 1)
            ok &= remove_owner_ref(c, d, uid);
        else
            ok &= delete_object(c, d->resource, d->ns, d->name,
                                str(json_object_get(d->obj, "metadata"), "uid"), "Background");
    }
    deps_free(&dl);
    return ok;
}

static bool remove_finalizer(struct ctl *c, const char *resource, const char *ns,
                             const char *name, json_t *obj, const char *f)
{
    json_t *next = json_deep_copy(obj);
    json_t *md = json_object_get(next, "metadata");
    json_t *fs = json_object_get(md, "finalizers"), *kept = json_array(), *v;
    size_t i;
    json_array_foreach(fs, i, v) if (strcmp(json_string_value(v) ? json_string_value(v) : "", f))
        json_array_append(kept, v);
    json_object_set_new(md, "finalizers", kept);
    char path[1024];
    int st = ctl_object_path(resource, ns, name, path, sizeof path)
                 ? ctl_api(c, "PUT", path, NULL, next, NULL)
                 : 404;
    json_decref(next);
    return st == 200 || st == 404;
}

/* An owner being deleted with the foregroundDeletion or orphan finalizer. */
static bool sync_owner(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    struct store_read r;
    struct store_obj o;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return false;
    json_t *obj = NULL;
    if (store_get(&r, resource, ns, name, &o) == 0) {
        char rv[24];
        snprintf(rv, sizeof rv, "%llu", (unsigned long long)o.mod_rev);
        obj = codec_msgpack_to_json(o.obj, o.obj_len);
        if (obj)
            json_object_set_new(json_object_get(obj, "metadata"), "resourceVersion",
                                json_string(rv));
    }
    store_read_end(&r);
    if (!obj)
        return true; /* gone */
    json_t *md = json_object_get(obj, "metadata");
    const char *uid = str(md, "uid");
    bool ok = true;
    if (json_object_get(md, "deletionTimestamp") && has_finalizer(obj, "orphan")) {
        struct dep_list dl;
        deps_find(c, ns, uid, &dl);
        for (size_t i = 0; i < dl.n; i++)
            ok &= remove_owner_ref(c, &dl.v[i], uid);
        deps_free(&dl);
        ok = ok && remove_finalizer(c, resource, ns, name, obj, "orphan");
    } else if (json_object_get(md, "deletionTimestamp") &&
               has_finalizer(obj, "foregroundDeletion")) {
        struct dep_list dl;
        deps_find(c, ns, uid, &dl);
        for (size_t i = 0; i < dl.n; i++) {
            json_t *dmd = json_object_get(dl.v[i].obj, "metadata");
            if (!json_object_get(dmd, "deletionTimestamp"))
                delete_object(c, dl.v[i].resource, dl.v[i].ns, dl.v[i].name, str(dmd, "uid"),
                              "Foreground");
        }
        /* Done when no dependent is left; their deletion re-queues us. */
        ok = dl.n == 0 && remove_finalizer(c, resource, ns, name, obj, "foregroundDeletion");
        deps_free(&dl);
    }
    json_decref(obj);
    return ok;
}

/* A dependent of uid went: if uid is an owner waiting in the foreground,
 * look at it again. */
static bool sync_owner_of(struct ctl *c, const char *ns, const char *uid);

/* One dependent of a deleted owner: drop the reference if it has other
 * owners, else delete it. */
static bool release_or_delete(struct ctl *c, const char *resource, const char *ns, json_t *obj,
                              const char *uid)
{
    json_t *md = json_object_get(obj, "metadata");
    struct dep d = {(char *)resource, (char *)ns, (char *)str(md, "name"), obj};
    if (json_array_size(json_object_get(md, "ownerReferences")) > 1)
        return remove_owner_ref(c, &d, uid);
    return delete_object(c, resource, ns, d.name, str(md, "uid"), "Background");
}

/* A deleted pod's dependents. Pods own only two things: the claims a
 * StatefulSet hands them (persistentVolumeClaimRetentionPolicy whenScaled:
 * Delete) and their PodMetrics (named like the pod, written by the agents).
 * So only those are looked at, never the whole namespace for every
 * deleted pod: a rollout of 10,000 pods would otherwise walk the
 * namespace 10,000 times. key is "uid:name". */
static bool sync_pod_orphans(struct ctl *c, const char *ns, const char *key)
{
    char uid[128];
    const char *colon = strchr(key, ':');
    if (!colon || (size_t)(colon - key) >= sizeof uid)
        return true;
    snprintf(uid, sizeof uid, "%.*s", (int)(colon - key), key);
    json_t *claims = ctl_list(c, "persistentvolumeclaims", ns, uid), *pvc;
    bool ok = true;
    size_t i;
    json_array_foreach(claims, i, pvc) if (owned_by(pvc, uid) && !owner_alive(c, pvc, ns, uid))
        ok &= release_or_delete(c, "persistentvolumeclaims", ns, pvc, uid);
    json_decref(claims);
    json_t *pm = ctl_get(c, "podmetrics", ns, colon + 1);
    if (pm && owned_by(pm, uid) && !owner_alive(c, pm, ns, uid))
        ok &= release_or_delete(c, "podmetrics", ns, pm, uid);
    json_decref(pm);
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    if (strcmp(resource, GC_SCAN) == 0) {
        scan(c);
        return true;
    }
    if (strcmp(resource, ORPHANS) == 0)
        return sync_orphans(c, ns, name);
    if (strcmp(resource, ORPHANS "-of-pod") == 0)
        return sync_pod_orphans(c, ns, name);
    if (strcmp(resource, ORPHANS "-owner") == 0)
        return sync_owner_of(c, ns, name);
    return sync_owner(c, resource, ns, name);
}

struct find_uid {
    const char *uid;
    char resource[128], ns[256], name[256];
    bool found;
};

static void match_uid(struct ctl *c, void *arg, const char *resource, const struct store_obj *o,
                      json_t *obj)
{
    struct find_uid *fu = arg;
    if (fu->found || o->uid_len != strlen(fu->uid) || memcmp(o->uid, fu->uid, o->uid_len) != 0)
        return;
    if (!json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp"))
        return;
    fu->found = true;
    snprintf(fu->resource, sizeof fu->resource, "%s", resource);
    snprintf(fu->ns, sizeof fu->ns, "%.*s", (int)o->ns_len, o->ns);
    snprintf(fu->name, sizeof fu->name, "%.*s", (int)o->name_len, o->name);
}

static bool sync_owner_of(struct ctl *c, const char *ns, const char *uid)
{
    struct find_uid fu = {.uid = uid};
    ctl_each_object(c, ns && *ns ? ns : NULL, "deletionTimestamp", match_uid, &fu);
    if (!fu.found && ns && *ns) /* a cluster-scoped owner */
        ctl_each_object(c, NULL, "deletionTimestamp", match_uid, &fu);
    return !fu.found || sync_owner(c, fu.resource, fu.ns, fu.name);
}

/* Deletions of owners or of dependents; objects marked for deletion. */
static bool wants(const struct store_event *e)
{
    if (e->type == STORE_DELETED)
        return is_owner_kind(e->o.resource, e->o.resource_len) ||
               ctl_obj_has(&e->o, "ownerReferences");
    return ctl_obj_has(&e->o, "deletionTimestamp");
}

const struct ctl_def ctl_garbage_collector = {
    .name = GC,
    .component = "garbage-collector",
    .wants = wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
};
