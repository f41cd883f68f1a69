/* podcache.c — the pods of this replica, decoded once and kept while this
 * server leads: what a Kubernetes informer's cache is to its controllers.
 *
 * Without it, every sync of a ReplicaSet (or Job, StatefulSet, DaemonSet)
 * decoded its namespace's pods from LMDB: during the rollout of a
 * 10,000-replica Deployment that was most of the leader's CPU. The cache
 * keeps each pod's decoded JSON (with metadata.resourceVersion) under
 * "ns/name", and two indexes: by controller uid (the pods a workload
 * owns) and, per namespace, the pods with no controller (the orphans a
 * workload may adopt). Pods are kept as ctl_decode_pod gives them,
 * without metadata.managedFields, but decoded only when first asked for:
 * until then a pod is its stored bytes (a copy) and revision. Most pod
 * changes are never read by a sync (a bare pod's, or a pod's that changes
 * again before its owner syncs), and decoding every change was most of
 * the controllers thread's time in `bench schedule`; the bytes are also
 * about a fifth of the decoded size.
 *
 * It is exact at a revision: built from one read transaction, then moved
 * forward over the change log, and it catches up to the replica's current
 * revision whenever it is asked for pods, so a controller still reads its
 * own writes (see ctl_get). The runtime also feeds it the pod changes it
 * offers to the controllers (ctl_pod_cache_offer), so a pod change is
 * decoded once for both. If the log no longer reaches the cache's
 * revision it is rebuilt. It outlives leadership: a follower keeps it
 * caught up while there are pod owners to sync (ctl_pod_cache_warm, once a
 * second, reading each changed pod once), so that a new leader's first
 * syncs find it ready — building it for 10,000 pods took 1.4 s of a
 * failover, before the first controller action.
 * Invariant: every pod change up to rev is applied and none after it.
 *
 * The pods it returns are shared with the cache: read-only (copy one with
 * json_deep_copy before changing it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "util/util.h"

/* One pod: its stored bytes and revision until first asked for, then
 * (cpod_obj) obj, decoded, and raw NULL. */
struct cpod {
    json_t *obj;
    void *raw;
    size_t raw_len;
    uint64_t rev;
    char *owner; /* controller uid, or NULL */
    char *ns;
};

struct ctl_pod_cache {
    bool built;
    uint64_t rev;           /* every change up to here is in */
    struct umap pods;       /* "ns/name" -> struct cpod */
    struct umap owners;     /* controller uid -> struct umap (set of keys) */
    struct umap orphans;    /* namespace -> struct umap (set of keys) */
};

static bool is_pods(const struct store_obj *o)
{
    return o->resource_len == 4 && memcmp(o->resource, "pods", 4) == 0;
}

static void set_add(struct umap *sets, const char *k, const char *key)
{
    struct umap *s = umap_get(sets, k);
    if (!s) {
        s = xcalloc(1, sizeof *s);
        umap_put(sets, k, s);
    }
    umap_put(s, key, (void *)1);
}

static void set_del(struct umap *sets, const char *k, const char *key)
{
    struct umap *s = umap_get(sets, k);
    if (!s)
        return;
    umap_del(s, key);
    if (s->n == 0) {
        umap_del(sets, k);
        umap_free(s);
        free(s);
    }
}

static void sets_free(struct umap *sets)
{
    size_t it = 0;
    const char *k;
    void *v;
    while (umap_next(sets, &it, &k, &v)) {
        umap_free(v);
        free(v);
    }
    umap_free(sets);
}

static void cpod_free(struct cpod *p)
{
    json_decref(p->obj);
    free(p->raw);
    free(p->owner);
    free(p->ns);
    free(p);
}

static void cpod_remove(struct ctl_pod_cache *pc, const char *key)
{
    struct cpod *p = umap_del(&pc->pods, key);
    if (!p)
        return;
    if (p->owner)
        set_del(&pc->owners, p->owner, key);
    else
        set_del(&pc->orphans, p->ns, key);
    cpod_free(p);
}

/* The uid of obj's controller (a copy), or NULL. */
static char *controller_uid(json_t *obj)
{
    json_t *ref = ctl_controller_ref(obj);
    return ref && *ctl_str(ref, "uid") ? xstrdup(ctl_str(ref, "uid")) : NULL;
}

/* The controller uid of a pod not decoded yet: its ownerReferences alone
 * are decoded, and only if the bytes hold that key at all. */
static char *raw_owner(const struct store_obj *o)
{
    static const char *const path[] = {"metadata.ownerReferences"};
    if (!ctl_obj_has(o, "ownerReferences"))
        return NULL;
    json_t *refs = codec_msgpack_extract(o->obj, o->obj_len, path, 1);
    char *uid = controller_uid(refs);
    json_decref(refs);
    return uid;
}

/* Adds o's pod under key: obj if the caller decoded it, else a copy of
 * o's bytes to decode when asked for. */
static void cpod_add(struct ctl_pod_cache *pc, const char *key, const char *ns,
                     const struct store_obj *o, json_t *obj)
{
    struct cpod *p = xcalloc(1, sizeof *p);
    if (obj) {
        p->obj = json_incref(obj);
        p->owner = controller_uid(obj);
    } else {
        p->raw = xmalloc(o->obj_len ? o->obj_len : 1);
        memcpy(p->raw, o->obj, o->obj_len);
        p->raw_len = o->obj_len;
        p->rev = o->mod_rev;
        p->owner = raw_owner(o);
    }
    p->ns = xstrdup(ns);
    umap_put(&pc->pods, key, p);
    if (p->owner)
        set_add(&pc->owners, p->owner, key);
    else
        set_add(&pc->orphans, ns, key);
}

/* The pod decoded (NULL if its bytes do not decode), decoding it now if
 * no one asked before. */
static json_t *cpod_obj(struct cpod *p)
{
    if (p->raw) {
        struct store_obj o = {.obj = p->raw, .obj_len = p->raw_len, .mod_rev = p->rev};
        p->obj = ctl_decode_pod(&o);
        free(p->raw);
        p->raw = NULL;
    }
    return p->obj;
}

/* Puts one pod's state under its key: o's pod (decoded as obj, or NULL to
 * decode later), or none if o is NULL (gone). */
static void cache_set(struct ctl_pod_cache *pc, const struct store_obj *key_of,
                      const struct store_obj *o, json_t *obj)
{
    char key[600], ns[256];
    snprintf(ns, sizeof ns, "%.*s", (int)key_of->ns_len, key_of->ns);
    snprintf(key, sizeof key, "%s/%.*s", ns, (int)key_of->name_len, key_of->name);
    cpod_remove(pc, key);
    if (o)
        cpod_add(pc, key, ns, o, obj);
}

static int build_one(void *arg, const struct store_obj *o)
{
    cache_set(arg, o, o, NULL);
    return 0;
}

static void cache_clear(struct ctl_pod_cache *pc)
{
    size_t it = 0;
    const char *k;
    void *v;
    while (umap_next(&pc->pods, &it, &k, &v))
        cpod_free(v);
    umap_free(&pc->pods);
    sets_free(&pc->owners);
    sets_free(&pc->orphans);
    pc->built = false;
}

static void cache_build(struct ctl *c, struct ctl_pod_cache *pc)
{
    cache_clear(pc);
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return;
    store_list(&r, "pods", NULL, build_one, pc);
    pc->rev = r.revision;
    pc->built = true;
    store_read_end(&r);
}

static int follow_one(void *arg, const struct store_event *e)
{
    struct ctl_pod_cache *pc = arg;
    if (is_pods(&e->o))
        cache_set(pc, &e->o, e->type == STORE_DELETED ? NULL : &e->o, NULL);
    pc->rev = e->rev;
    return 0;
}

/* The keys ("ns/name") of the pods changed after a revision. */
static int note_changed(void *arg, const struct store_event *e)
{
    if (is_pods(&e->o)) {
        char key[600];
        snprintf(key, sizeof key, "%.*s/%.*s", (int)e->o.ns_len, e->o.ns, (int)e->o.name_len,
                 e->o.name);
        umap_put(arg, key, (void *)1);
    }
    return 0;
}

/* Brings a built cache to r's revision by reading each changed pod once,
 * as it is now: a pod changes several times within a second (created,
 * bound, running, ready), and decoding is most of the cost. False if the
 * log no longer reaches the cache's revision. */
static bool catch_up_coalesced(struct ctl_pod_cache *pc, struct store_read *r)
{
    struct umap changed = {0};
    if (store_changes(r, pc->rev, note_changed, &changed) != 0) {
        umap_free(&changed);
        return false;
    }
    size_t it = 0;
    const char *key;
    void *v;
    while (umap_next(&changed, &it, &key, &v)) {
        const char *slash = strchr(key, '/');
        char ns[256];
        snprintf(ns, sizeof ns, "%.*s", (int)(slash - key), key);
        struct store_obj o;
        if (store_get(r, "pods", ns, slash + 1, &o) == 0)
            cache_set(pc, &o, &o, NULL);
        else
            cpod_remove(pc, key);
    }
    umap_free(&changed);
    pc->rev = r->revision;
    return true;
}

/* Brings the cache to the replica's current revision: change by change
 * (each decoded), or coalesced (each changed pod read once as it is now). */
static void cache_advance(struct ctl *c, struct ctl_pod_cache *pc, bool coalesce)
{
    if (!pc->built) {
        cache_build(c, pc);
        return;
    }
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return;
    bool ok;
    if (coalesce) {
        ok = catch_up_coalesced(pc, &r);
    } else {
        int rc = store_changes(&r, pc->rev, follow_one, pc);
        ok = rc != STORE_GONE_ERR;
        if (rc == 0 && r.revision > pc->rev)
            pc->rev = r.revision;
    }
    store_read_end(&r);
    if (!ok)
        cache_build(c, pc);
}

static void cache_catch_up(struct ctl *c, struct ctl_pod_cache *pc)
{
    cache_advance(c, pc, false);
}

void ctl_pod_cache_warm(struct ctl *c)
{
    cache_advance(c, ctl_pod_cache(c), true);
}

size_t ctl_pod_cache_size(const struct ctl_pod_cache *pc)
{
    return pc && pc->built ? pc->pods.n : 0;
}

uint64_t ctl_pod_cache_revision(const struct ctl_pod_cache *pc)
{
    return pc && pc->built ? pc->rev : 0;
}

struct ctl_pod_cache *ctl_pod_cache_new(void)
{
    return xcalloc(1, sizeof(struct ctl_pod_cache));
}

void ctl_pod_cache_free(struct ctl_pod_cache *pc)
{
    if (!pc)
        return;
    cache_clear(pc);
    free(pc);
}

json_t *ctl_pod_cache_offer(struct ctl_pod_cache *pc, const struct store_event *e, bool decode)
{
    /* Every revision is one change (store.c), so the next change of the
     * cache is exactly rev + 1; after a gap (the runtime's full pass skips
     * changes) the cache catches up from the log when next asked. */
    if (!pc->built || e->rev != pc->rev + 1)
        return NULL;
    json_t *obj = NULL;
    if (!is_pods(&e->o)) {
        /* nothing to keep */
    } else if (e->type == STORE_DELETED) {
        cache_set(pc, &e->o, NULL, NULL);
    } else if (!decode) {
        cache_set(pc, &e->o, &e->o, NULL);
    } else {
        obj = ctl_decode_pod(&e->o); /* bytes that do not decode: no pod */
        cache_set(pc, &e->o, obj ? &e->o : NULL, obj);
    }
    pc->rev = e->rev;
    return obj;
}

static int by_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The pods of a set, in key order (as a list from the store would be). */
static json_t *collect(struct ctl_pod_cache *pc, struct umap *set)
{
    json_t *out = json_array();
    if (!set)
        return out;
    const char **keys = xmalloc((set->n + 1) * sizeof *keys);
    size_t n = 0, it = 0;
    const char *key;
    void *v;
    while (umap_next(set, &it, &key, &v))
        keys[n++] = key;
    qsort(keys, n, sizeof *keys, by_key);
    for (size_t i = 0; i < n; i++) {
        struct cpod *p = umap_get(&pc->pods, keys[i]);
        json_t *obj = p ? cpod_obj(p) : NULL;
        if (obj)
            json_array_append(out, obj);
    }
    free(keys);
    return out;
}

json_t *ctl_pods_owned(struct ctl *c, const char *ns, const char *owner_uid)
{
    struct ctl_pod_cache *pc = ctl_pod_cache(c);
    cache_catch_up(c, pc);
    json_t *all = collect(pc, umap_get(&pc->owners, owner_uid)), *out = json_array(), *p;
    size_t i;
    json_array_foreach(all, i, p) if (!ns ||
                                      strcmp(ctl_str(json_object_get(p, "metadata"), "namespace"),
                                             ns) == 0) json_array_append(out, p);
    json_decref(all);
    return out;
}

json_t *ctl_pods_orphaned(struct ctl *c, const char *ns)
{
    struct ctl_pod_cache *pc = ctl_pod_cache(c);
    cache_catch_up(c, pc);
    return collect(pc, umap_get(&pc->orphans, ns));
}

json_t *ctl_pods_claimable(struct ctl *c, const char *ns, const char *uid)
{
    json_t *out = ctl_pods_owned(c, ns, uid), *orphans = ctl_pods_orphaned(c, ns);
    json_array_extend(out, orphans);
    json_decref(orphans);
    return out;
}
