/* objects.c — what the controllers share about objects: reading them from
 * this replica, owner references, pods made from templates, pod readiness,
 * template hashes, conditions and status writes.
 *
 * Reads go straight to the local LMDB replica (the controllers run on the
 * leader, which has applied every write it acknowledged); lists are
 * prefiltered on the raw msgpack bytes (keys and strings are stored
 * verbatim) so that, say, the pods of one owner are found by its uid
 * without decoding the namespace's other pods. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
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

json_t *ctl_decode(const struct store_obj *o)
{
    json_t *obj = codec_msgpack_to_json(o->obj, o->obj_len);
    json_t *md = json_object_get(obj, "metadata");
    if (json_is_object(md)) {
        char rv[24];
        snprintf(rv, sizeof rv, "%llu", (unsigned long long)o->mod_rev);
        json_object_set_new(md, "resourceVersion", json_string(rv));
    }
    return obj;
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
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return lc.out;
    store_list(&r, resource, ns, list_one, &lc);
    store_read_end(&r);
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
    json_t *cd = ctl_condition_get(pod, "Ready");
    return cd && strcmp(ctl_str(cd, "status"), "True") == 0;
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
