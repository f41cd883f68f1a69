/* patch.c — the three PATCH bodies Kubernetes accepts: JSON merge patch
 * (RFC 7386, application/merge-patch+json), JSON patch (RFC 6902,
 * application/json-patch+json) and strategic merge patch
 * (application/strategic-merge-patch+json).
 *
 * How it works: every engine deep-copies the document and edits only that
 * copy, reading the patch in place; whatever it takes from the patch it deep
 * copies too, so the result shares nothing with the inputs and a failure
 * anywhere just drops the copy. Errors use the words of the Go code the
 * apiserver runs (evanphx/json-patch for the first two,
 * k8s.io/apimachinery/pkg/util/strategicpatch for the third), so a client
 * sees what it would see from Kubernetes.
 *
 * Merge patch is RFC 7386 except at the top: Kubernetes answers a patch that
 * is null, a string, a number or a boolean with "Invalid JSON Patch" (400),
 * so do we; an array replaces the document as the RFC says (and the server's
 * decoding then refuses it, as Kubernetes does).
 *
 * JSON patch is RFC 6902 with RFC 6901 pointers: "~1" is "/", "~0" is "~",
 * an array index is "0" or digits without a leading zero, "-" appends, and
 * add may use index == length. (evanphx also takes negative indices and
 * leading zeros; the RFC does not, nor do we.) "copy" may grow the document
 * by at most KUBE_PATCH_COPY_LIMIT bytes, the apiserver's JSONPatchMaxCopyBytes.
 *
 * Strategic merge patch follows strategicpatch.mergeMap and mergeSlice
 * (patch.go). The schema says, for each field of a type, its patchStrategy
 * ("merge", "retainKeys", "merge,retainKeys"; "replace" is honoured too) and
 * patchMergeKey:
 *   - objects merge key by key; null deletes a key;
 *   - a list with strategy merge merges: objects by merge key (a patch
 *     element whose key is already there is merged into it, others are
 *     appended), primitives by union; the result comes in the patch's order,
 *     with the elements only the server has interleaved where they were;
 *   - any other list, and any other value, is replaced;
 *   - directives: {"$patch": "replace"|"delete"|"merge"} in an object;
 *     {"$patch": "replace"} and {<key>: v, "$patch": "delete"} in a merge
 *     list; "$setElementOrder/<list>", "$deleteFromPrimitiveList/<list>" and
 *     "$retainKeys" beside the lists and fields they govern.
 * With no schema (a NULL type, an unknown field, KUBE_V_RAW) lists are
 * replaced, as Kubernetes does for unstructured objects, and the directives
 * keep whatever meaning they have without merge keys.
 * Where we part from Go, on purpose: Go leaves junk in the result that its
 * typed decoding then drops (directive keys inside a new value, nulls inside
 * a replaced list's objects), we drop it here; a directive of the wrong
 * shape is an error even where Go would ignore it; "$patch: merge" in an
 * object is the default rather than an unknown patch type; a field the
 * schema does not know merges without strategy where Go fails ("unable to
 * find api field"; the server's schema check judges unknown fields); and a
 * new object holding "$patch: replace" keeps its other keys where Go drops
 * it. One Go quirk we keep, because kubectl users see it: how a
 * $setElementOrder places new elements after deletions (smp_go_view).
 *
 * The files: patch.c (this one: the helpers the engines share, declared in
 * kube/patch_internal.h, and JSON merge patch), patch_json.c (JSON patch)
 * and patch_strategic.c (strategic merge patch). */
#include "kube/kube.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/patch_internal.h"
#include "util/util.h"

/* ---- shared helpers ---- */

/* Writes the reason into the caller's buffer; returns -1 so callers can
 * `return kp_fail(...)`. */
int kp_fail(struct perr *e, const char *fmt, ...)
{
    if (e->buf && e->len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* jansson returns NULL only when it is out of memory, which bosun treats as
 * fatal (util/util.h). */
json_t *kp_must(json_t *v)
{
    if (!v) {
        LOG_ERROR("patch: out of memory");
        abort();
    }
    return v;
}

void kp_obj_setn(json_t *obj, const char *key, size_t klen, json_t *value)
{
    /* nocheck: every key comes from a jansson string or object already. */
    if (json_object_setn_new_nocheck(obj, key, klen, value) != 0) {
        LOG_ERROR("patch: out of memory");
        abort();
    }
}

const char *kp_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

/* v as compact JSON in out (n >= 8), cut with "..." when too long: for
 * error messages. */
const char *kp_brief(const json_t *v, char *out, size_t n)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (!s) {
        snprintf(out, n, "%s", v ? "?" : "nothing");
        return out;
    }
    size_t len = strlen(s);
    if (len < n) {
        memcpy(out, s, len + 1);
    } else {
        memcpy(out, s, n - 4);
        memcpy(out + n - 4, "...", 4);
    }
    free(s);
    return out;
}

/* ==== JSON merge patch (RFC 7386) ==== */

/* RFC 7386 MergePatch(target, patch) for an object patch: target is an
 * object of the working copy, edited in place. */
static void merge_into(json_t *target, json_t *patch)
{
    const char *key;
    size_t klen;
    json_t *pv;
    json_object_keylen_foreach(patch, key, klen, pv) {
        if (json_is_null(pv)) {
            json_object_deln(target, key, klen);
        } else if (json_is_object(pv)) {
            json_t *tv = json_object_getn(target, key, klen);
            if (!json_is_object(tv)) {
                tv = kp_must(json_object());
                kp_obj_setn(target, key, klen, tv);
            }
            merge_into(tv, pv);
        } else {
            kp_obj_setn(target, key, klen, kp_must(json_deep_copy(pv)));
        }
    }
}

json_t *kube_patch_merge(json_t *doc, json_t *patch, char *err, size_t errlen)
{
    struct perr e = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!patch) {
        kp_fail(&e, "Invalid JSON Patch: no patch");
        return NULL;
    }
    if (json_is_array(patch))
        return kp_must(json_deep_copy(patch));
    if (!json_is_object(patch)) {
        kp_fail(&e, "Invalid JSON Patch: a merge patch is a JSON object, not a %s",
                kp_type_name(patch));
        return NULL;
    }
    json_t *out = json_is_object(doc) ? kp_must(json_deep_copy(doc)) : kp_must(json_object());
    merge_into(out, patch);
    return out;
}
