/* patch_internal.h — what the three PATCH engines share; not for use outside
 * kube/patch*.c.
 *
 * kube_patch_merge, kube_patch_json and kube_patch_strategic (kube.h) live
 * in patch.c, patch_json.c and patch_strategic.c (see patch.c). They share
 * the caller's error buffer (struct perr), the helpers of patch.c, whose
 * names carry the kp_ prefix, and the small key and string tests below
 * (static inline, so their short names stay private to each file);
 * everything else is static to its file. */
#ifndef BOSUN_KUBE_PATCH_INTERNAL_H
#define BOSUN_KUBE_PATCH_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* The caller's error buffer. */
struct perr {
    char *buf;
    size_t len;
};

/* ---- errors, copies and messages (patch.c) ---- */

/* Writes the reason into the caller's buffer; returns -1 so callers can
 * `return kp_fail(...)`. */
int kp_fail(struct perr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* v, or abort when jansson ran out of memory (it returned NULL). */
json_t *kp_must(json_t *v);
/* json_object_setn_new for a key already valid UTF-8; aborts on OOM. */
void kp_obj_setn(json_t *obj, const char *key, size_t klen, json_t *value);
/* "object", "array", "string", "number", "boolean" or "null". */
const char *kp_type_name(const json_t *v);
/* v as compact JSON in out (n >= 8), cut with "..." when too long. */
const char *kp_brief(const json_t *v, char *out, size_t n);

/* ---- keys and strings ---- */

static inline bool str_is(const json_t *v, const char *s)
{
    size_t n = strlen(s);
    return json_is_string(v) && json_string_length(v) == n &&
           memcmp(json_string_value(v), s, n) == 0;
}

static inline bool key_is(const char *key, size_t klen, const char *s)
{
    return strlen(s) == klen && memcmp(key, s, klen) == 0;
}

static inline bool key_has_prefix(const char *key, size_t klen, const char *prefix)
{
    size_t n = strlen(prefix);
    return klen >= n && memcmp(key, prefix, n) == 0;
}

/* A key for "%.*s" (keys are short; a silly one is cut). */
static inline int key_width(size_t klen) { return klen > 256 ? 256 : (int)klen; }

#endif
