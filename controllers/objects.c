/* objects.c — what the controllers share about objects: reading them from
 * this replica, owner references, claiming (adoption and release), pods
 * made from templates, pod readiness, template hashes, conditions and
 * status writes.
 *
 * Reads go straight to the local LMDB replica (the controllers run on the
 * leader, which has applied every write it acknowledged); lists are
 * prefiltered on the raw msgpack bytes (keys and strings are stored
 * verbatim) so that, say, the pods of one owner are found by its uid
 * without decoding the namespace's other pods.
 *
 * Claiming is Kubernetes' ControllerRefManager (pkg/controller/
 * controller_ref_manager.go), shared by every workload controller: an
 * orphan (no controller reference) that matches the owner's selector (and
 * the controller's own filter) in its namespace, not being deleted, is
 * adopted while the owner is not being deleted; an object the owner
 * controls that no longer matches is released. Both are strategic merge
 * patches of metadata.ownerReferences carrying the object's uid, so they
 * fail (422) on a namesake made since; a Job's also add and remove its
 * tracking finalizer. Before the first adoption of a sync the owner is
 * read again through the API, a linearizable read, and nothing is adopted
 * if it has just been deleted or replaced (RecheckDeletionTimestamp). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

const char *ctl_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

bool ctl_obj_field(const struct store_obj *o, const char *key, char *out, size_t len)
{
    size_t klen = strlen(key);
    if (klen > 31 || len == 0)
        return false;
    unsigned char pat[32];
    pat[0] = (unsigned char)(0xa0 | klen); /* the key as a msgpack fixstr */
    memcpy(pat + 1, key, klen);
    const unsigned char *p = o->obj, *end = p + o->obj_len;
    while ((p = memmem(p, (size_t)(end - p), pat, klen + 1)) != NULL) {
        const unsigned char *v = p + klen + 1;
        size_t n = 0, hdr = 1;
        if (v < end && (*v & 0xe0) == 0xa0)
            n = *v & 0x1f;
        else if (v + 1 < end && *v == 0xd9)
            n = v[1], hdr = 2;
        else if (v + 2 < end && *v == 0xda)
            n = (size_t)v[1] << 8 | v[2], hdr = 3;
        else {
            p = v;
            continue;
        }
        if (v + hdr + n > end || n >= len)
            return false;
        memcpy(out, v + hdr, n);
        out[n] = '\0';
        return true;
    }
    return false;
}

static json_t *decode_without(const struct store_obj *o, const char *skip)
{
    json_t *obj = codec_msgpack_to_json_without(o->obj, o->obj_len, skip);
    json_t *md = json_object_get(obj, "metadata");
    if (json_is_object(md)) {
        char rv[24];
        snprintf(rv, sizeof rv, "%llu", (unsigned long long)o->mod_rev);
        json_object_set_new(md, "resourceVersion", json_string(rv));
    }
    return obj;
}

json_t *ctl_decode(const struct store_obj *o)
{
    return decode_without(o, NULL);
}

json_t *ctl_decode_pod(const struct store_obj *o)
{
    return decode_without(o, "metadata.managedFields");
}

json_t *ctl_pod_head(const struct store_obj *o)
{
    static const char *const paths[] = {
        "metadata.name",       "metadata.namespace",        "metadata.uid",
        "metadata.labels",     "metadata.ownerReferences",  "metadata.finalizers",
        "metadata.deletionTimestamp", "spec.nodeName",      "status.phase",
    };
    return codec_msgpack_extract(o->obj, o->obj_len, paths, sizeof paths / sizeof paths[0]);
}

json_t *ctl_get(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    struct store_read r;
    struct store_obj o;
    json_t *obj = NULL;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return NULL;
    if (store_get(&r, resource, ns ? ns : "", name, &o) == 0)
        obj = ctl_decode(&o);
    store_read_end(&r);
    return obj;
}

struct list_ctx {
    json_t *out;
    const char *needle;
    size_t needle_len;
};

static int list_one(void *arg, const struct store_obj *o)
{
    struct list_ctx *lc = arg;
    if (lc->needle && !memmem(o->obj, o->obj_len, lc->needle, lc->needle_len))
        return 0;
    json_t *obj = ctl_decode(o);
    if (obj)
        json_array_append_new(lc->out, obj);
    return 0;
}

json_t *ctl_list(struct ctl *c, const char *resource, const char *ns, const char *needle)
{
    struct list_ctx lc = {json_array(), needle, needle ? strlen(needle) : 0};
    struct store_read own, *r = ctl_read_begin(c, &own);
    if (r)
        store_list(r, resource, ns, list_one, &lc);
    ctl_read_end(r, &own);
    return lc.out;
}

json_t *ctl_controller_ref(json_t *obj)
{
    json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), *r;
    size_t i;
    json_array_foreach(refs, i, r) if (json_is_true(json_object_get(r, "controller"))) return r;
    return NULL;
}

json_t *ctl_owner_ref(json_t *owner, const char *api_version, const char *kind)
{
    json_t *md = json_object_get(owner, "metadata");
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", api_version, "kind", kind,
                     "name", ctl_str(md, "name"), "uid", ctl_str(md, "uid"), "controller", 1,
                     "blockOwnerDeletion", 1);
}

/* ---- claiming: Kubernetes' ControllerRefManager ---- */

static json_t *md_of(json_t *o)
{
    return json_object_get(o, "metadata");
}

enum ctl_claim ctl_claim_decide(json_t *owner, bool match, json_t *obj)
{
    json_t *ref = ctl_controller_ref(obj);
    bool owner_deleting = json_object_get(md_of(owner), "deletionTimestamp") != NULL;
    if (ref) {
        if (strcmp(ctl_str(ref, "uid"), ctl_str(md_of(owner), "uid")) != 0)
            return CTL_CLAIM_IGNORE; /* someone else's */
        if (match)
            return CTL_CLAIM_KEEP; /* even while the owner goes: that takes no write */
        return owner_deleting ? CTL_CLAIM_IGNORE : CTL_CLAIM_RELEASE;
    }
    if (owner_deleting || !match || json_object_get(md_of(obj), "deletionTimestamp"))
        return CTL_CLAIM_IGNORE;
    const char *ons = ctl_str(md_of(owner), "namespace");
    if (*ons && strcmp(ons, ctl_str(md_of(obj), "namespace")) != 0)
        return CTL_CLAIM_IGNORE;
    return CTL_CLAIM_ADOPT;
}

json_t *ctl_claim_adopt_patch(json_t *owner, const char *api_version, const char *kind,
                              json_t *obj, const char *finalizer)
{
    json_t *md = json_pack("{s:[o], s:s}", "ownerReferences",
                           ctl_owner_ref(owner, api_version, kind), "uid",
                           ctl_str(md_of(obj), "uid"));
    if (finalizer)
        json_object_set_new(md, "finalizers", json_pack("[s]", finalizer));
    return json_pack("{s:o}", "metadata", md);
}

json_t *ctl_claim_release_patch(json_t *owner, json_t *obj, const char *finalizer)
{
    json_t *md = json_pack("{s:[{s:s, s:s}], s:s}", "ownerReferences", "$patch", "delete", "uid",
                           ctl_str(md_of(owner), "uid"), "uid", ctl_str(md_of(obj), "uid"));
    if (finalizer)
        json_object_set_new(md, "$deleteFromPrimitiveList/finalizers",
                            json_pack("[s]", finalizer));
    return json_pack("{s:o}", "metadata", md);
}

bool ctl_claim_match(const struct ctl_claimer *m, json_t *obj)
{
    return kube_selector_match(m->sel, json_object_get(md_of(obj), "labels")) &&
           (!m->filter || m->filter(m->owner, obj));
}

json_t *ctl_claim_kept(const struct ctl_claimer *m, json_t *objs)
{
    json_t *out = json_array(), *o;
    size_t i;
    json_array_foreach(objs, i, o) if (ctl_claim_decide(m->owner, ctl_claim_match(m, o), o) ==
                                       CTL_CLAIM_KEEP) json_array_append(out, o);
    return out;
}

/* RecheckDeletionTimestamp: the owner read again, without resourceVersion
 * (linearizable, not this replica's possibly older copy); adoption is
 * refused if it cannot be read, is another object now, or is going. */
static bool owner_recheck(struct ctl_claimer *m)
{
    json_t *md = md_of(m->owner), *fresh = NULL;
    char path[600];
    int st = -1;
    if (ctl_object_path(m->owner_resource, ctl_str(md, "namespace"), ctl_str(md, "name"), path,
                        sizeof path))
        st = ctl_api(m->c, "GET", path, NULL, NULL, &fresh);
    const char *why = st != 200 ? "cannot read it again"
                      : strcmp(ctl_str(md_of(fresh), "uid"), ctl_str(md, "uid")) != 0
                          ? "it is gone"
                      : json_object_get(md_of(fresh), "deletionTimestamp")
                          ? "it has just been deleted"
                          : NULL;
    if (why)
        LOG_WARN("controllers: %s %s/%s: can't adopt: %s (%d)", m->kind,
                 ctl_str(md, "namespace"), ctl_str(md, "name"), why, st);
    json_decref(fresh);
    return why == NULL;
}

/* canAdopt: the recheck, at most once per claimer. */
static bool can_adopt(struct ctl_claimer *m)
{
    if (m->can_adopt == 0)
        m->can_adopt = owner_recheck(m) ? 1 : -1;
    return m->can_adopt > 0;
}

static int patch_object(struct ctl_claimer *m, const char *resource, json_t *obj, json_t *patch,
                        json_t **reply)
{
    char path[600];
    if (!ctl_object_path(resource, ctl_str(md_of(obj), "namespace"), ctl_str(md_of(obj), "name"),
                         path, sizeof path))
        return -1;
    return ctl_api(m->c, "PATCH", path, "application/strategic-merge-patch+json", patch, reply);
}

/* AdoptPod: the patched object joins claimed; an object gone meanwhile is
 * no error, any other failure is (the sync is retried). */
static bool claim_adopt(struct ctl_claimer *m, const char *resource, json_t *obj,
                        json_t *claimed)
{
    if (!can_adopt(m))
        return false;
    json_t *patch = ctl_claim_adopt_patch(m->owner, m->api_version, m->kind, obj, m->finalizer);
    json_t *reply = NULL;
    int st = patch_object(m, resource, obj, patch, &reply);
    json_decref(patch);
    const char *oname = ctl_str(md_of(m->owner), "name"), *name = ctl_str(md_of(obj), "name");
    if (st == 200) {
        LOG_INFO("controllers: %s %s adopted %s %s", m->kind, oname, resource, name);
        json_array_append(claimed, json_is_object(reply) ? reply : obj);
    } else if (st != 404) {
        LOG_WARN("controllers: %s %s: adopting %s %s: %d %s", m->kind, oname, resource, name, st,
                 ctl_str(reply, "message"));
    }
    json_decref(reply);
    return st == 200 || st == 404;
}

/* ReleasePod: gone (404) or no longer ours, or another object of that
 * name (422: the uid does not match) are no errors. */
static bool claim_release(struct ctl_claimer *m, const char *resource, json_t *obj)
{
    json_t *patch = ctl_claim_release_patch(m->owner, obj, m->finalizer);
    int st = patch_object(m, resource, obj, patch, NULL);
    json_decref(patch);
    const char *oname = ctl_str(md_of(m->owner), "name"), *name = ctl_str(md_of(obj), "name");
    if (st == 200)
        LOG_INFO("controllers: %s %s released %s %s", m->kind, oname, resource, name);
    else if (st != 404 && st != 422)
        LOG_WARN("controllers: %s %s: releasing %s %s: %d", m->kind, oname, resource, name, st);
    return st == 200 || st == 404 || st == 422;
}

json_t *ctl_claim(struct ctl_claimer *m, const char *resource, json_t *objs, bool *ok)
{
    assert(m->c && m->owner && m->owner_resource && m->api_version && m->kind && m->sel);
    json_t *claimed = json_array(), *o;
    size_t i;
    json_array_foreach(objs, i, o)
    {
        switch (ctl_claim_decide(m->owner, ctl_claim_match(m, o), o)) {
        case CTL_CLAIM_KEEP:
            json_array_append(claimed, o);
            break;
        case CTL_CLAIM_ADOPT:
            *ok &= claim_adopt(m, resource, o, claimed);
            break;
        case CTL_CLAIM_RELEASE:
            *ok &= claim_release(m, resource, o);
            break;
        case CTL_CLAIM_IGNORE:
            break;
        }
    }
    return claimed;
}

json_t *ctl_claim_pods(struct ctl_claimer *m, bool *ok)
{
    json_t *md = md_of(m->owner);
    json_t *all = ctl_pods_claimable(m->c, ctl_str(md, "namespace"), ctl_str(md, "uid"));
    json_t *mine = ctl_claim(m, "pods", all, ok);
    json_decref(all);
    return mine;
}

json_t *ctl_pods_kept(const struct ctl_claimer *m)
{
    json_t *md = md_of(m->owner);
    json_t *owned = ctl_pods_owned(m->c, ctl_str(md, "namespace"), ctl_str(md, "uid"));
    json_t *kept = ctl_claim_kept(m, owned);
    json_decref(owned);
    return kept;
}

struct claimable_ctx {
    json_t *out;
    const char *uid;
};

/* The key "controller" (a msgpack fixstr, 0xaa) absent, or somewhere not
 * followed by true (0xc3): a string "controller" elsewhere is followed by
 * the next key, never by true (an array mixing strings and booleans would
 * be needed). Objects this rejects have controller: true in every
 * reference carrying the key, so they are controlled — by the uid's owner
 * only if they contain the uid, which is looked for apart. */
bool ctl_obj_maybe_orphan(const struct store_obj *o)
{
    static const char key[] = "\xaa" "controller"; /* split, or \xaac reads as one escape */
    const size_t klen = sizeof key - 1;
    const unsigned char *p = o->obj, *end = p + o->obj_len;
    bool seen = false;
    while ((p = memmem(p, (size_t)(end - p), key, klen)) != NULL) {
        seen = true;
        p += klen;
        if (p >= end || *p != 0xc3)
            return true;
    }
    return !seen;
}

static int claimable_one(void *arg, const struct store_obj *o)
{
    struct claimable_ctx *x = arg;
    if (!memmem(o->obj, o->obj_len, x->uid, strlen(x->uid)) && !ctl_obj_maybe_orphan(o))
        return 0;
    json_t *obj = ctl_decode(o);
    json_t *ref = obj ? ctl_controller_ref(obj) : NULL;
    if (obj && (!ref || strcmp(ctl_str(ref, "uid"), x->uid) == 0))
        json_array_append(x->out, obj);
    json_decref(obj);
    return 0;
}

json_t *ctl_list_claimable(struct ctl *c, const char *resource, const char *ns, const char *uid)
{
    assert(uid && *uid);
    struct claimable_ctx x = {json_array(), uid};
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return x.out;
    store_list(&r, resource, ns, claimable_one, &x);
    store_read_end(&r);
    return x.out;
}

/* The owners of resource in ns, each with its selector (NULL when it
 * matches nothing: an empty selector matches nothing here, not
 * everything). */
static void selecting_list(struct ctl *c, const char *resource, const char *ns,
                           struct ctl_selecting *out)
{
    json_t *owners = ctl_list(c, resource, ns, NULL), *ow;
    size_t i, n = json_array_size(owners);
    *out = (struct ctl_selecting){xstrdup(resource), xstrdup(ns), n,
                                  xcalloc(n ? n : 1, sizeof *out->names),
                                  xcalloc(n ? n : 1, sizeof *out->sels)};
    json_array_foreach(owners, i, ow)
    {
        char err[64];
        struct kube_selector *sel = kube_selector_from_json(
            json_object_get(json_object_get(ow, "spec"), "selector"), err, sizeof err);
        if (sel && kube_selector_empty(sel)) {
            kube_selector_free(sel);
            sel = NULL;
        }
        out->names[i] = xstrdup(ctl_str(md_of(ow), "name"));
        out->sels[i] = sel;
    }
    json_decref(owners);
}

static void selecting_free(struct ctl_selecting *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->names[i]);
        kube_selector_free(s->sels[i]);
    }
    free(s->names);
    free(s->sels);
    free(s->resource);
    free(s->ns);
}

void ctl_selecting_forget(struct ctl_selecting_memo *m)
{
    for (size_t i = 0; i < m->n; i++)
        selecting_free(&m->v[i]);
    m->n = 0;
}

/* The owners of resource in ns: from the batch's memo while changes are
 * offered (made on first use), else listed into tmp. */
static const struct ctl_selecting *selecting_get(struct ctl *c, const char *resource,
                                                 const char *ns, struct ctl_selecting *tmp)
{
    struct ctl_selecting_memo *m = ctl_selecting_memo(c);
    for (size_t i = 0; m && i < m->n; i++)
        if (!strcmp(m->v[i].resource, resource) && !strcmp(m->v[i].ns, ns))
            return &m->v[i];
    if (m && m->n < CTL_SELECTING_MAX) {
        selecting_list(c, resource, ns, &m->v[m->n]);
        return &m->v[m->n++];
    }
    selecting_list(c, resource, ns, tmp);
    return tmp;
}

void ctl_enqueue_selecting(struct ctl *c, const char *controller, const char *resource,
                           const char *ns, json_t *obj)
{
    struct ctl_selecting tmp = {0};
    const struct ctl_selecting *s = selecting_get(c, resource, ns, &tmp);
    json_t *labels = json_object_get(md_of(obj), "labels");
    for (size_t i = 0; i < s->n; i++)
        if (s->sels[i] && kube_selector_match(s->sels[i], labels))
            ctl_enqueue(c, controller, resource, ns, s->names[i]);
    if (s == &tmp)
        selecting_free(&tmp);
}

/* Fills m with the controller reference of the version before e. */
static void prev_owner_find(struct ctl *c, const struct store_event *e, struct ctl_prev_owner *m)
{
    struct store_read own, *r = ctl_read_begin(c, &own);
    struct store_event prev;
    m->kind[0] = m->name[0] = '\0';
    if (r && store_change_at(r, e->prev_rev, &prev) == 0 &&
        ctl_obj_has(&prev.o, "ownerReferences")) {
        json_t *old = codec_msgpack_to_json(prev.o.obj, prev.o.obj_len);
        json_t *ref = ctl_controller_ref(old);
        snprintf(m->kind, sizeof m->kind, "%s", ctl_str(ref, "kind"));
        snprintf(m->name, sizeof m->name, "%s", ctl_str(ref, "name"));
        json_decref(old);
    }
    ctl_read_end(r, &own);
}

void ctl_enqueue_previous_owner(struct ctl *c, const struct store_event *e,
                                const char *controller, const char *resource, const char *kind)
{
    if (!e->prev_rev)
        return;
    /* Four controllers ask about every orphan's change: one read for all. */
    struct ctl_prev_owner *m = ctl_prev_owner(c);
    if (m->rev != e->rev) {
        prev_owner_find(c, e, m);
        m->rev = e->rev;
    }
    if (*m->kind && strcmp(m->kind, kind) == 0) {
        char ns[256];
        snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
        ctl_enqueue(c, controller, resource, ns, m->name);
    }
}

json_t *ctl_pod_from_template(json_t *owner, const char *api_version, const char *kind,
                              json_t *tmpl)
{
    json_t *tmd = json_object_get(tmpl, "metadata");
    json_t *md = json_object();
    const char *copied[] = {"labels", "annotations", "finalizers"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
        json_t *v = json_object_get(tmd, copied[i]);
        if (v)
            json_object_set_new(md, copied[i], json_deep_copy(v));
    }
    json_object_set_new(md, "namespace",
                        json_string(ctl_str(json_object_get(owner, "metadata"), "namespace")));
    json_t *refs = json_array();
    json_array_append_new(refs, ctl_owner_ref(owner, api_version, kind));
    json_object_set_new(md, "ownerReferences", refs);
    json_t *spec = json_object_get(tmpl, "spec");
    return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", md,
                     "spec", spec ? json_deep_copy(spec) : json_object());
}

bool ctl_pod_active(json_t *pod)
{
    const char *phase = ctl_str(json_object_get(pod, "status"), "phase");
    return strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0 &&
           !json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp");
}

json_t *ctl_condition_get(json_t *obj, const char *type)
{
    json_t *conds = json_object_get(json_object_get(obj, "status"), "conditions"), *cd;
    size_t i;
    json_array_foreach(conds, i, cd) if (strcmp(ctl_str(cd, "type"), type) == 0) return cd;
    return NULL;
}

bool ctl_pod_ready(json_t *pod)
{
    return kube_pod_ready(pod);
}

bool ctl_pod_available(json_t *pod, int64_t min_ready_s, int64_t now_ms)
{
    if (!ctl_pod_ready(pod))
        return false;
    if (min_ready_s <= 0)
        return true;
    int64_t since = util_time_parse(ctl_str(ctl_condition_get(pod, "Ready"), "lastTransitionTime"));
    return since >= 0 && since + min_ready_s * 1000 <= now_ms;
}

/* Kubernetes' rand.SafeEncodeString alphabet: no vowels (no words), no
 * 0/1/3 (look-alikes of o/l/e). */
static const char safe_chars[] = "bcdfghjklmnpqrstvwxz2456789";

void ctl_template_hash(json_t *tmpl, json_t *collision_count, char *out, size_t len)
{
    char *text = json_dumps(tmpl, JSON_COMPACT | JSON_SORT_KEYS);
    uint32_t h = 2166136261u;
    for (const char *p = text ? text : ""; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    free(text);
    if (json_is_integer(collision_count)) {
        uint32_t n = (uint32_t)json_integer_value(collision_count);
        for (int i = 0; i < 4; i++) /* little-endian, as Kubernetes adds it */
            h = (h ^ ((n >> (8 * i)) & 0xff)) * 16777619u;
    }
    char digits[16];
    snprintf(digits, sizeof digits, "%u", h);
    size_t i = 0;
    for (; digits[i] && i + 1 < len; i++)
        out[i] = safe_chars[(unsigned char)digits[i] % (sizeof safe_chars - 1)];
    if (len)
        out[i < len ? i : len - 1] = '\0';
}

bool ctl_condition_set(json_t *status, const char *type, const char *cond_status,
                       const char *reason, const char *message, bool with_update_time)
{
    char now[32];
    util_time_rfc3339(now, sizeof now);
    json_t *conds = json_object_get(status, "conditions"), *cd = NULL, *x;
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    size_t i;
    json_array_foreach(conds, i, x) if (strcmp(ctl_str(x, "type"), type) == 0) cd = x;
    if (cd && strcmp(ctl_str(cd, "status"), cond_status) == 0 &&
        strcmp(ctl_str(cd, "reason"), reason) == 0 && strcmp(ctl_str(cd, "message"), message) == 0)
        return false;
    if (!cd) {
        cd = json_object();
        json_array_append_new(conds, cd);
        json_object_set_new(cd, "type", json_string(type));
    }
    if (strcmp(ctl_str(cd, "status"), cond_status) != 0)
        json_object_set_new(cd, "lastTransitionTime", json_string(now));
    if (with_update_time)
        json_object_set_new(cd, "lastUpdateTime", json_string(now));
    json_object_set_new(cd, "status", json_string(cond_status));
    json_object_set_new(cd, "reason", json_string(reason));
    json_object_set_new(cd, "message", json_string(message));
    return true;
}

int ctl_status_update(struct ctl *c, const char *resource, json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    char path[600];
    if (!ctl_object_path(resource, ctl_str(md, "namespace"), ctl_str(md, "name"), path,
                         sizeof path - 8))
        return -1;
    strcat(path, "/status");
    return ctl_api(c, "PUT", path, NULL, obj, NULL);
}
