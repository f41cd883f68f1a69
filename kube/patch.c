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
 * $setElementOrder places new elements after deletions (smp_go_view). */
#include "kube/kube.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* The most a JSON patch's copy operations may add to a document, in bytes of
 * compact JSON: the apiserver's default JSONPatchMaxCopyBytes. */
#define KUBE_PATCH_COPY_LIMIT (3 * 1024 * 1024)

/* ---- shared helpers ---- */

/* The caller's error buffer. */
struct perr {
    char *buf;
    size_t len;
};

static int fail(struct perr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes the reason into the caller's buffer; returns -1 so callers can
 * `return fail(...)`. */
static int fail(struct perr *e, const char *fmt, ...)
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
static json_t *must(json_t *v)
{
    if (!v) {
        LOG_ERROR("patch: out of memory");
        abort();
    }
    return v;
}

static void obj_setn(json_t *obj, const char *key, size_t klen, json_t *value)
{
    /* nocheck: every key comes from a jansson string or object already. */
    if (json_object_setn_new_nocheck(obj, key, klen, value) != 0) {
        LOG_ERROR("patch: out of memory");
        abort();
    }
}

static const char *type_name(const json_t *v)
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
static const char *brief(const json_t *v, char *out, size_t n)
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

static bool str_is(const json_t *v, const char *s)
{
    size_t n = strlen(s);
    return json_is_string(v) && json_string_length(v) == n &&
           memcmp(json_string_value(v), s, n) == 0;
}

static bool key_is(const char *key, size_t klen, const char *s)
{
    return strlen(s) == klen && memcmp(key, s, klen) == 0;
}

static bool key_has_prefix(const char *key, size_t klen, const char *prefix)
{
    size_t n = strlen(prefix);
    return klen >= n && memcmp(key, prefix, n) == 0;
}

/* A key for "%.*s" (keys are short; a silly one is cut). */
static int key_width(size_t klen) { return klen > 256 ? 256 : (int)klen; }

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
                tv = must(json_object());
                obj_setn(target, key, klen, tv);
            }
            merge_into(tv, pv);
        } else {
            obj_setn(target, key, klen, must(json_deep_copy(pv)));
        }
    }
}

json_t *kube_patch_merge(json_t *doc, json_t *patch, char *err, size_t errlen)
{
    struct perr e = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!patch) {
        fail(&e, "Invalid JSON Patch: no patch");
        return NULL;
    }
    if (json_is_array(patch))
        return must(json_deep_copy(patch));
    if (!json_is_object(patch)) {
        fail(&e, "Invalid JSON Patch: a merge patch is a JSON object, not a %s", type_name(patch));
        return NULL;
    }
    json_t *out = json_is_object(doc) ? must(json_deep_copy(doc)) : must(json_object());
    merge_into(out, patch);
    return out;
}

/* ==== JSON patch (RFC 6902) ==== */

/* One reference token of a JSON pointer, unescaped. */
struct jp_token {
    char *s; /* NUL-terminated copy */
    size_t len;
};

/* A parsed JSON pointer: "" has no tokens and means the whole document. */
struct jp_path {
    struct jp_token *tok;
    size_t n;
};

static void jp_path_free(struct jp_path *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->tok[i].s);
    free(p->tok);
    p->tok = NULL;
    p->n = 0;
}

/* Unescapes one token (RFC 6901 section 4: "~1" is "/", "~0" is "~"); -1
 * when a "~" is followed by anything else. */
static int jp_unescape(const char *s, size_t len, struct jp_token *t)
{
    t->s = xmalloc(len + 1);
    t->len = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '~') {
            if (i + 1 == len || (s[i + 1] != '0' && s[i + 1] != '1'))
                return -1;
            c = s[++i] == '0' ? '~' : '/';
        }
        t->s[t->len++] = c;
    }
    t->s[t->len] = '\0';
    return 0;
}

/* Parses a pointer: "" or "/" followed by tokens separated by "/". */
static int jp_parse(const char *s, size_t len, struct jp_path *p)
{
    p->tok = NULL;
    p->n = 0;
    if (len == 0)
        return 0;
    if (s[0] != '/')
        return -1;
    size_t ntok = 0;
    for (size_t i = 0; i < len; i++)
        ntok += s[i] == '/';
    p->tok = xcalloc(ntok, sizeof *p->tok);
    const char *end = s + len;
    for (const char *t = s + 1;;) {
        const char *slash = memchr(t, '/', (size_t)(end - t));
        const char *stop = slash ? slash : end;
        if (jp_unescape(t, (size_t)(stop - t), &p->tok[p->n++]) != 0) {
            jp_path_free(p);
            return -1;
        }
        if (!slash)
            break;
        t = slash + 1;
    }
    return 0;
}

/* An RFC 6901 array index: "0", or digits without a leading zero. */
static bool jp_index(const struct jp_token *t, size_t *out)
{
    if (t->len == 0 || t->len > 18 || (t->s[0] == '0' && t->len > 1))
        return false;
    size_t v = 0;
    for (size_t i = 0; i < t->len; i++) {
        if (t->s[i] < '0' || t->s[i] > '9')
            return false;
        v = v * 10 + (size_t)(t->s[i] - '0');
    }
    *out = v;
    return true;
}

/* The member or element a token names in c, or NULL. */
static json_t *jp_child(json_t *c, const struct jp_token *t)
{
    size_t i;
    if (json_is_object(c))
        return json_object_getn(c, t->s, t->len);
    if (json_is_array(c) && jp_index(t, &i))
        return json_array_get(c, i);
    return NULL;
}

/* The object or array that holds the location p names (p->n >= 1), or NULL
 * when the way there is missing. */
static json_t *jp_parent(json_t *root, const struct jp_path *p)
{
    json_t *c = root;
    for (size_t i = 0; c && i + 1 < p->n; i++)
        c = jp_child(c, &p->tok[i]);
    return json_is_object(c) || json_is_array(c) ? c : NULL;
}

static json_t *jp_get(json_t *root, const struct jp_path *p)
{
    if (p->n == 0)
        return root;
    json_t *c = jp_parent(root, p);
    return c ? jp_child(c, &p->tok[p->n - 1]) : NULL;
}

/* One run of kube_patch_json: the working document and where errors go. */
struct jp_run {
    json_t *root;
    size_t copied; /* bytes added by copy operations so far */
    struct perr *e;
};

/* Puts v (owned) at p, as "add" does: replaces an object member, inserts
 * into an array. what names the location in errors ("path", "destination
 * path"). */
static int jp_put(struct jp_run *r, const char *op, const char *what, const char *path,
                  const struct jp_path *p, json_t *v)
{
    if (p->n == 0) {
        json_decref(r->root);
        r->root = v;
        return 0;
    }
    json_t *c = jp_parent(r->root, p);
    const struct jp_token *t = &p->tok[p->n - 1];
    if (!c) {
        json_decref(v);
        return fail(r->e, "%s operation does not apply: doc is missing %s: \"%s\": missing value",
                    op, what, path);
    }
    if (json_is_object(c)) {
        obj_setn(c, t->s, t->len, v);
        return 0;
    }
    size_t n = json_array_size(c), i = n;
    if (!key_is(t->s, t->len, "-") && !jp_index(t, &i)) {
        json_decref(v);
        return fail(r->e, "error in %s for path: '%s': value was not a proper array index: '%s'",
                    op, path, t->s);
    }
    if (i > n) {
        json_decref(v);
        return fail(
            r->e,
            "error in %s for path: '%s': Unable to access invalid index: %zu: invalid index "
            "referenced",
            op, path, i);
    }
    if (json_array_insert_new(c, i, v) != 0)
        abort(); /* out of memory */
    return 0;
}

/* Detaches the value at p and returns it (owned), or NULL with the reason. */
static json_t *jp_take(struct jp_run *r, const char *op, const char *what, const char *path,
                       const struct jp_path *p)
{
    json_t *c = p->n ? jp_parent(r->root, p) : NULL;
    if (!c) {
        fail(r->e, "%s operation does not apply: doc is missing %s: \"%s\": missing value", op,
             what, path);
        return NULL;
    }
    const struct jp_token *t = &p->tok[p->n - 1];
    json_t *v = jp_child(c, t);
    if (!v) {
        if (json_is_object(c))
            fail(r->e,
                 "error in %s for path: '%s': Unable to remove nonexistent key: %s: missing value",
                 op, path, t->s);
        else
            fail(r->e,
                 "error in %s for path: '%s': Unable to access invalid index: %s: invalid index "
                 "referenced",
                 op, path, t->s);
        return NULL;
    }
    json_incref(v);
    if (json_is_object(c)) {
        json_object_deln(c, t->s, t->len);
    } else {
        size_t i = 0;
        jp_index(t, &i);
        json_array_remove(c, i);
    }
    return v;
}

/* The value of one operation's member name, which must be a string. */
static const char *jp_member(json_t *op, const char *name, struct jp_path *p, bool *bad)
{
    json_t *v = json_object_get(op, name);
    *bad = false;
    if (!json_is_string(v))
        return NULL;
    if (jp_parse(json_string_value(v), json_string_length(v), p) != 0)
        *bad = true;
    return json_string_value(v);
}

/* Each operation gets the run, the operation object, and its parsed path. */
typedef int (*jp_fn)(struct jp_run *r, json_t *op, const char *path, const struct jp_path *p);

static int jp_op_add(struct jp_run *r, json_t *op, const char *path, const struct jp_path *p)
{
    return jp_put(r, "add", "path", path, p, must(json_deep_copy(json_object_get(op, "value"))));
}

static int jp_op_remove(struct jp_run *r, json_t *op, const char *path, const struct jp_path *p)
{
    (void)op;
    json_t *v = jp_take(r, "remove", "path", path, p);
    json_decref(v);
    return v ? 0 : -1;
}

static int jp_op_replace(struct jp_run *r, json_t *op, const char *path, const struct jp_path *p)
{
    json_t *v = must(json_deep_copy(json_object_get(op, "value")));
    if (p->n == 0) {
        json_decref(r->root);
        r->root = v;
        return 0;
    }
    json_t *c = jp_parent(r->root, p);
    const struct jp_token *t = &p->tok[p->n - 1];
    size_t i = 0;
    if (!c) {
        json_decref(v);
        return fail(r->e,
                    "replace operation does not apply: doc is missing path: \"%s\": missing value",
                    path);
    }
    if (!jp_child(c, t)) {
        json_decref(v);
        return fail(r->e, "replace operation does not apply: doc is missing key: %s: missing value",
                    path);
    }
    if (json_is_object(c)) {
        obj_setn(c, t->s, t->len, v);
    } else {
        jp_index(t, &i); /* jp_child found it, so it is an index */
        json_array_set_new(c, i, v);
    }
    return 0;
}

/* "from" of move and copy, parsed into f; -1 with the reason. */
static int jp_from(struct jp_run *r, json_t *op, const char *name, const char **from,
                   struct jp_path *f)
{
    bool bad;
    *from = jp_member(op, "from", f, &bad);
    if (!*from)
        return fail(r->e, "%s operation failed to decode from: missing value", name);
    if (bad)
        return fail(r->e, "%s operation does not apply: from is not a JSON pointer: \"%s\"", name,
                    *from);
    return 0;
}

static int jp_op_move(struct jp_run *r, json_t *op, const char *path, const struct jp_path *p)
{
    const char *from;
    struct jp_path f;
    if (jp_from(r, op, "move", &from, &f) != 0)
        return -1;
    int rc = 0;
    if (f.n == 0 && p->n > 0) {
        rc = fail(r->e,
                  "move operation does not apply: cannot move the document into itself: \"%s\"",
                  path);
    } else if (f.n > 0) {
        /* Taking the value out first makes a move into its own subtree
         * fail on the destination, as RFC 6902 section 4.4 requires. */
        json_t *v = jp_take(r, "move", "from path", from, &f);
        rc = v ? jp_put(r, "move", "destination path", path, p, v) : -1;
    }
    jp_path_free(&f);
    return rc;
}

static int jp_op_copy(struct jp_run *r, json_t *op, const char *path, const struct jp_path *p)
{
    const char *from;
    struct jp_path f;
    if (jp_from(r, op, "copy", &from, &f) != 0)
        return -1;
    json_t *v = jp_get(r->root, &f);
    jp_path_free(&f);
    if (!v)
        return fail(
            r->e, "copy operation does not apply: doc is missing from path: \"%s\": missing value",
            from);
    size_t size = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    r->copied += size;
    if (r->copied > KUBE_PATCH_COPY_LIMIT)
        return fail(r->e,
                    "Unable to complete the copy, the accumulated size increase of copy is %zu, "
                    "exceeding the limit %d",
                    r->copied, KUBE_PATCH_COPY_LIMIT);
    return jp_put(r, "copy", "destination path", path, p, must(json_deep_copy(v)));
}

static int jp_op_test(struct jp_run *r, json_t *op, const char *path, const struct jp_path *p)
{
    json_t *v = jp_get(r->root, p);
    if (!v && (p->n == 0 || !jp_parent(r->root, p)))
        return fail(r->e, "test operation does not apply: is missing path: \"%s\": missing value",
                    path);
    if (!v || !json_equal(v, json_object_get(op, "value")))
        return fail(r->e, "testing value %s failed: test failed", path);
    return 0;
}

/* The operations, and what each needs besides "op" and "path". */
static const struct jp_opdef {
    const char *name;
    jp_fn fn;
    bool value; /* needs "value" */
} jp_ops[] = {
    {"add", jp_op_add, true},    {"remove", jp_op_remove, false}, {"replace", jp_op_replace, true},
    {"move", jp_op_move, false}, {"copy", jp_op_copy, false},     {"test", jp_op_test, true},
};

static const struct jp_opdef *jp_opdef(json_t *name)
{
    for (size_t i = 0; i < sizeof jp_ops / sizeof jp_ops[0]; i++)
        if (str_is(name, jp_ops[i].name))
            return &jp_ops[i];
    return NULL;
}

/* Checks operation number i and runs it. */
static int jp_apply_one(struct jp_run *r, json_t *op, size_t i)
{
    char b[128];
    if (!json_is_object(op))
        return fail(r->e, "json patch: operation %zu is not an object but %s", i,
                    brief(op, b, sizeof b));
    json_t *name = json_object_get(op, "op");
    const struct jp_opdef *def = jp_opdef(name);
    if (!def)
        return fail(r->e, "Unexpected kind: %s",
                    json_is_string(name) ? json_string_value(name) : "unknown");
    struct jp_path p;
    bool bad;
    const char *path = jp_member(op, "path", &p, &bad);
    if (!path)
        return fail(r->e, "%s operation failed to decode path: missing value", def->name);
    if (bad)
        return fail(r->e, "%s operation does not apply: path is not a JSON pointer: \"%s\"",
                    def->name, path);
    int rc = def->value && !json_object_get(op, "value")
                 ? fail(r->e, "%s operation does not apply: missing value field for path: \"%s\"",
                        def->name, path)
                 : def->fn(r, op, path, &p);
    jp_path_free(&p);
    return rc;
}

json_t *kube_patch_json(json_t *doc, json_t *ops, char *err, size_t errlen)
{
    struct perr e = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!doc) {
        fail(&e, "json patch: no document");
        return NULL;
    }
    if (!json_is_array(ops)) {
        fail(&e, "json patch: the patch must be an array of operations, not a %s",
             ops ? type_name(ops) : "nothing");
        return NULL;
    }
    struct jp_run r = {must(json_deep_copy(doc)), 0, &e};
    size_t i;
    json_t *op;
    json_array_foreach(ops, i, op) {
        if (jp_apply_one(&r, op, i) != 0) {
            json_decref(r.root);
            return NULL;
        }
    }
    return r.root;
}

/* ==== strategic merge patch ==== */

#define SMP_PATCH "$patch"
#define SMP_RETAIN_KEYS "$retainKeys"
#define SMP_ORDER "$setElementOrder"
#define SMP_DELETE_PRIM "$deleteFromPrimitiveList"

/* What the schema says about the object being merged: a message type, a map
 * field (every key holds a value of map->type), or nothing. */
struct smp_node {
    const struct kube_type *type;
    const struct kube_field *map;
};

/* What the schema says about one key of that object. */
struct smp_slot {
    bool merge, replace;   /* patchStrategy ("retainKeys" needs nothing here) */
    const char *merge_key; /* patchMergeKey, or NULL */
    struct smp_node child; /* the value's schema, or each list element's */
};

/* The $patch directive of a patch object. */
enum smp_directive { SMP_NONE, SMP_MERGE, SMP_REPLACE, SMP_DELETE };

/* The kinds of elements a list may have; strategicpatch merges only lists
 * whose elements all have one kind. */
enum smp_kind { SMP_K_EMPTY, SMP_K_OBJECT, SMP_K_STRING, SMP_K_NUMBER, SMP_K_BOOL };

/* Borrowed elements, in order. */
struct smp_items {
    json_t **v;
    size_t n;
};

/* A field by JSON name: a linear scan, so patch.c needs nothing of schema.c. */
static const struct kube_field *smp_field_of(const struct kube_type *t, const char *key,
                                             size_t klen)
{
    for (unsigned i = 0; t->fields && i < t->n_fields; i++) {
        const char *name = t->fields[i].name;
        if (name && key_is(key, klen, name))
            return &t->fields[i];
    }
    return NULL;
}

/* Whether a comma-separated patchStrategy names word. */
static bool smp_strategy_has(const char *strategy, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = strategy; s && *s;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len == n && memcmp(s, word, n) == 0)
            return true;
        s = comma ? comma + 1 : NULL;
    }
    return false;
}

static struct smp_slot smp_lookup(const struct smp_node *node, const char *key, size_t klen)
{
    struct smp_slot s = {0};
    if (node->map) {
        if (node->map->vtype == KUBE_V_OBJECT)
            s.child.type = node->map->type;
        return s;
    }
    const struct kube_field *f = node->type ? smp_field_of(node->type, key, klen) : NULL;
    if (!f)
        return s;
    s.merge = smp_strategy_has(f->patch_strategy, "merge");
    s.replace = smp_strategy_has(f->patch_strategy, "replace");
    s.merge_key = f->patch_merge_key && f->patch_merge_key[0] ? f->patch_merge_key : NULL;
    if (f->map)
        s.child.map = f;
    else if (f->vtype == KUBE_V_OBJECT)
        s.child.type = f->type;
    return s;
}

/* The $patch directive of v (an object), or -1 for one Kubernetes does not
 * know. */
static int smp_directive(json_t *v, struct perr *e)
{
    json_t *d = json_is_object(v) ? json_object_get(v, SMP_PATCH) : NULL;
    if (!d)
        return SMP_NONE;
    if (str_is(d, "merge"))
        return SMP_MERGE;
    if (str_is(d, "replace"))
        return SMP_REPLACE;
    if (str_is(d, "delete"))
        return SMP_DELETE;
    char b1[64], b2[160];
    return fail(e, "unknown patch type: %s in map: %s", brief(d, b1, sizeof b1),
                brief(v, b2, sizeof b2));
}

static int smp_no_merge_key(struct perr *e, json_t *v, const char *mk)
{
    char b[160];
    return fail(e, "map: %s does not contain declared merge key: %s", brief(v, b, sizeof b), mk);
}

/* The kind of one element; -1 for lists and nulls, which no merge takes. */
static int smp_kind_of(json_t *v, struct perr *e)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return SMP_K_OBJECT;
    case JSON_STRING: return SMP_K_STRING;
    case JSON_INTEGER:
    case JSON_REAL: return SMP_K_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE: return SMP_K_BOOL;
    case JSON_ARRAY: return fail(e, "lists of lists are not supported");
    default: return fail(e, "list element types are not identical: a list holds a null");
    }
}

/* Adds the kinds of an array's elements (list) or of items (when list is
 * NULL) to *kind; -1 when they differ. */
static int smp_kinds(json_t *list, const struct smp_items *items, int *kind, struct perr *e)
{
    size_t n = list ? json_array_size(list) : items->n;
    for (size_t i = 0; i < n; i++) {
        json_t *v = list ? json_array_get(list, i) : items->v[i];
        int k = smp_kind_of(v, e);
        if (k < 0)
            return -1;
        if (*kind != SMP_K_EMPTY && *kind != k) {
            char b[160];
            return fail(e, "list element types are not identical: %s",
                        brief(list ? list : v, b, sizeof b));
        }
        *kind = k;
    }
    return 0;
}

static json_t *smp_map(const struct smp_node *node, json_t *orig, json_t *patch, struct perr *e);
static json_t *smp_fresh(const struct smp_slot *slot, json_t *pv, bool *drop, struct perr *e);

/* A list from the patch taken as it is (a new list, a replaced list, the
 * rest of a "$patch: replace" list): directive elements dropped, objects
 * cleaned as new values, nulls and primitives kept. */
static json_t *smp_fresh_items(const struct smp_slot *slot, const struct smp_items *items,
                               struct perr *e)
{
    struct smp_slot elem = {.child = slot->child};
    json_t *out = must(json_array());
    for (size_t i = 0; i < items->n; i++) {
        json_t *v = items->v[i];
        int d = smp_directive(v, e);
        bool drop = false;
        json_t *nv = d == SMP_NONE ? smp_fresh(&elem, v, &drop, e) : NULL;
        if (d < 0 || (d == SMP_NONE && !nv && !drop)) {
            json_decref(out);
            return NULL;
        }
        if (nv)
            json_array_append_new(out, nv);
    }
    return out;
}

/* The elements of an array, borrowed. */
static struct smp_items smp_items_of(json_t *list)
{
    struct smp_items it = {xcalloc(json_array_size(list) + 1, sizeof(json_t *)), 0};
    for (; it.n < json_array_size(list); it.n++)
        it.v[it.n] = json_array_get(list, it.n);
    return it;
}

static json_t *smp_fresh_list(const struct smp_slot *slot, json_t *list, struct perr *e)
{
    struct smp_items it = smp_items_of(list);
    json_t *out = smp_fresh_items(slot, &it, e);
    free(it.v);
    return out;
}

/* A value the patch brings where the document has none (or has one of
 * another type): null-free and directive-free, like Go's
 * discardNullValuesFromPatch and removeDirectives. An object with
 * "$patch: delete" is dropped. */
static json_t *smp_fresh(const struct smp_slot *slot, json_t *pv, bool *drop, struct perr *e)
{
    *drop = false;
    if (json_is_object(pv)) {
        int d = smp_directive(pv, e);
        if (d < 0)
            return NULL;
        if (d == SMP_DELETE) {
            *drop = true;
            return NULL;
        }
        return smp_map(&slot->child, NULL, pv, e);
    }
    if (json_is_array(pv))
        return smp_fresh_list(slot, pv, e);
    return must(json_deep_copy(pv));
}

/* ---- ordering (Go's normalizeElementOrder and mergeSortedSlice) ---- */

/* What identifies a list element: its merge key's value, or itself. */
static json_t *smp_ident(json_t *v, const char *mk) { return mk ? json_object_get(v, mk) : v; }

/* Where v is in list (an array, or items when list is NULL), by merge key;
 * SIZE_MAX when absent. */
static size_t smp_index(json_t *list, const struct smp_items *items, json_t *v, const char *mk)
{
    json_t *id = smp_ident(v, mk);
    size_t n = list ? json_array_size(list) : items ? items->n : 0;
    for (size_t i = 0; id && i < n; i++) {
        json_t *w = smp_ident(list ? json_array_get(list, i) : items->v[i], mk);
        if (w && json_equal(w, id))
            return i;
    }
    return SIZE_MAX;
}

/* One element being placed: its positions in the patch's order and in the
 * server's list, and in the merged list (for a stable sort). */
struct smp_place {
    json_t *v;
    size_t in_order, in_server, at;
};

static int smp_by_order(const void *a, const void *b)
{
    const struct smp_place *x = a, *y = b;
    if (x->in_order != y->in_order)
        return x->in_order < y->in_order ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

static int smp_by_server(const void *a, const void *b)
{
    const struct smp_place *x = a, *y = b;
    if (x->in_server != y->in_server)
        return x->in_server < y->in_server ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* Checks that every element of a keyed list carries the merge key. */
static int smp_check_keys(json_t *list, const struct smp_items *items, const char *mk,
                          struct perr *e)
{
    size_t n = list ? json_array_size(list) : items->n;
    for (size_t i = 0; i < n; i++) {
        json_t *v = list ? json_array_get(list, i) : items->v[i];
        if (!json_is_object(v) || !json_object_get(v, mk))
            return smp_no_merge_key(e, v, mk);
    }
    return 0;
}

/* The merged list in its final order: elements named in order (the patch
 * list, or a $setElementOrder list) come in that order; the others keep the
 * order they have in server (the document's list) and are slotted in before
 * the first ordered element that the server has after them. Returns a new
 * array of the same elements. */
static json_t *smp_order(json_t *merged, const struct smp_items *order, json_t *server,
                         const char *mk, struct perr *e)
{
    if (mk && (smp_check_keys(merged, NULL, mk, e) || smp_check_keys(NULL, order, mk, e)))
        return NULL;
    size_t n = json_array_size(merged), np = 0, ns = 0;
    struct smp_place *ordered = xcalloc(n + 1, sizeof *ordered);
    struct smp_place *rest = xcalloc(n + 1, sizeof *rest);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(merged, i);
        struct smp_place pl = {v, smp_index(NULL, order, v, mk), smp_index(server, NULL, v, mk), i};
        if (pl.in_order != SIZE_MAX)
            ordered[np++] = pl;
        else
            rest[ns++] = pl;
    }
    qsort(ordered, np, sizeof *ordered, smp_by_order);
    qsort(rest, ns, sizeof *rest, smp_by_server);
    json_t *out = must(json_array());
    for (size_t i = 0, j = 0; i < ns || j < np;) {
        bool left = j >= np ||
                    (i < ns && rest[i].in_server != SIZE_MAX && ordered[j].in_server != SIZE_MAX &&
                     rest[i].in_server < ordered[j].in_server);
        json_array_append(out, left ? rest[i++].v : ordered[j++].v);
    }
    free(ordered);
    free(rest);
    return out;
}

/* ---- lists ---- */

/* Drops every element of list whose merge key equals id. */
static void smp_delete_matching(json_t *list, const char *mk, json_t *id)
{
    for (size_t i = json_array_size(list); i-- > 0;) {
        json_t *w = json_object_get(json_array_get(list, i), mk);
        if (w && json_equal(w, id))
            json_array_remove(list, i);
    }
}

/* Applies a merge list's directive elements to base (the document's list,
 * copied): deletes by merge key, notes a replace; the other elements go to
 * rest. */
static int smp_specials(json_t *pl, const char *mk, json_t *base, struct smp_items *rest,
                        bool *replace, struct perr *e)
{
    size_t i;
    json_t *v;
    json_array_foreach(pl, i, v) {
        int d = smp_directive(v, e);
        json_t *id = mk ? json_object_get(v, mk) : NULL;
        switch (d) {
        case SMP_NONE: rest->v[rest->n++] = v; break;
        case SMP_REPLACE: *replace = true; break;
        case SMP_MERGE: return fail(e, "merging lists cannot yet be specified in the patch");
        case SMP_DELETE:
            if (!mk) {
                char b[160];
                return fail(e,
                            "map: %s: a \"$patch: delete\" element needs a list with a merge key",
                            brief(v, b, sizeof b));
            }
            if (!id)
                return smp_no_merge_key(e, v, mk);
            smp_delete_matching(base, mk, id);
            break;
        default: return -1;
        }
    }
    return 0;
}

/* Merges the patch's objects into merged by merge key; new ones are
 * appended. */
static int smp_merge_objects(const struct smp_slot *slot, json_t *merged,
                             const struct smp_items *rest, struct perr *e)
{
    const char *mk = slot->merge_key;
    for (size_t i = 0; i < rest->n; i++) {
        json_t *pv = rest->v[i], *nv;
        if (!json_object_get(pv, mk))
            return smp_no_merge_key(e, pv, mk);
        size_t at = smp_index(merged, NULL, pv, mk);
        if (at != SIZE_MAX) {
            nv = smp_map(&slot->child, json_incref(json_array_get(merged, at)), pv, e);
            if (!nv)
                return -1;
            json_array_set_new(merged, at, nv);
        } else {
            bool drop;
            struct smp_slot elem = {.child = slot->child};
            nv = smp_fresh(&elem, pv, &drop, e);
            if (!nv)
                return -1;
            json_array_append_new(merged, nv);
        }
    }
    return 0;
}

/* Appends the patch's primitives that merged lacks (and drops merged's own
 * duplicates: Go's deduplicateScalars). */
static json_t *smp_union(json_t *base, const struct smp_items *rest)
{
    json_t *out = must(json_array());
    size_t nb = json_array_size(base);
    for (size_t i = 0; i < nb + rest->n; i++) {
        json_t *v = i < nb ? json_array_get(base, i) : rest->v[i - nb];
        if (smp_index(out, NULL, v, NULL) == SIZE_MAX)
            json_array_append_new(out, must(json_deep_copy(v)));
    }
    return out;
}

/* How Go's mergeSlice leaves the document's own list, which a
 * $setElementOrder then orders the server-only elements by: deleting k
 * elements shifts the rest down inside the same Go array, and the first k
 * appended elements land in the freed tail, so the document's list reads
 * survivors then those new elements. (The apiserver's lists have no spare
 * capacity, so nothing else shows.) Returns a new array. */
static json_t *smp_go_view(json_t *survivors, json_t *merged, size_t deleted)
{
    json_t *view = must(json_array());
    size_t ns = json_array_size(survivors), nm = json_array_size(merged);
    json_array_extend(view, survivors);
    for (size_t i = ns; i < nm && i < ns + deleted; i++)
        json_array_append(view, json_array_get(merged, i));
    return view;
}

/* Go's mergeSlice for a list with the merge strategy: ol the document's list
 * (left alone), pl the patch's; returns the new list. If view is not NULL,
 * *view gets what a $setElementOrder orders by (smp_go_view), or NULL for
 * ol itself. */
static json_t *smp_merge_list(const struct smp_slot *slot, const char *key, size_t klen, json_t *ol,
                              json_t *pl, json_t **view, struct perr *e)
{
    const char *mk = slot->merge_key;
    struct smp_items rest = {xcalloc(json_array_size(pl) + 1, sizeof(json_t *)), 0};
    json_t *base = must(json_deep_copy(ol)), *merged = NULL, *out = NULL;
    if (view)
        *view = NULL;
    bool replace = false;
    int kind = SMP_K_EMPTY;
    if (smp_specials(pl, mk, base, &rest, &replace, e) != 0)
        goto done;
    if (replace) {
        /* The rest of the patch list is the list; keep Go's check that its
         * objects carry their merge key. */
        json_decref(base);
        base = smp_fresh_items(slot, &rest, e);
        rest.n = 0;
        if (!base)
            goto done;
    }
    if (smp_kinds(base, NULL, &kind, e) != 0 || smp_kinds(NULL, &rest, &kind, e) != 0)
        goto done;
    if (kind == SMP_K_OBJECT && !mk) {
        fail(e, "cannot merge lists without merge key for %.*s", key_width(klen), key);
        goto done;
    }
    if (kind == SMP_K_OBJECT) {
        merged = must(json_array());
        json_array_extend(merged, base);
        if (smp_merge_objects(slot, merged, &rest, e) != 0)
            goto done;
        if (view && !replace)
            *view = smp_go_view(base, merged, json_array_size(ol) - json_array_size(base));
    } else {
        merged = smp_union(base, &rest);
    }
    out = smp_order(merged, &rest, base, kind == SMP_K_OBJECT ? mk : NULL, e);
done:
    if (!out && view) {
        json_decref(*view);
        *view = NULL;
    }
    json_decref(merged);
    json_decref(base);
    free(rest.v);
    return out;
}

/* ---- the directives beside fields ---- */

/* "$retainKeys": the keys of orig not in the list go; every key the patch
 * sets must be in it. */
static int smp_retain_keys(json_t *orig, json_t *patch, struct perr *e)
{
    json_t *keep = json_object_get(patch, SMP_RETAIN_KEYS), *v;
    if (!keep)
        return 0;
    size_t i;
    json_array_foreach(keep, i, v)
        if (!json_is_string(v))
            break;
    if (!json_is_array(keep) || i < json_array_size(keep))
        return fail(e, "invalid patch format of retainKeys");
    const char *key;
    size_t klen;
    json_object_keylen_foreach(patch, key, klen, v) {
        if (json_is_null(v) || key_is(key, klen, SMP_PATCH) || key_is(key, klen, SMP_RETAIN_KEYS) ||
            key_has_prefix(key, klen, SMP_DELETE_PRIM) || key_has_prefix(key, klen, SMP_ORDER))
            continue;
        json_t *ks = must(json_stringn_nocheck(key, klen));
        bool listed = smp_index(keep, NULL, ks, NULL) != SIZE_MAX;
        json_decref(ks);
        if (!listed)
            return fail(e,
                        "invalid patch format of retainKeys: %.*s is not in the $retainKeys list",
                        key_width(klen), key);
    }
    void *next;
    json_object_keylen_foreach_safe(orig, next, key, klen, v) {
        json_t *ks = must(json_stringn_nocheck(key, klen));
        if (smp_index(keep, NULL, ks, NULL) == SIZE_MAX)
            json_object_deln(orig, key, klen);
        json_decref(ks);
    }
    return 0;
}

/* Go's validatePatchWithSetOrderList: the patch list's elements must come in
 * the $setElementOrder list's order. */
static int smp_check_order(json_t *pl, json_t *order, const char *mk, struct perr *e)
{
    size_t np = json_array_size(pl), no = json_array_size(order), p = 0, s = 0;
    if (!np || !no)
        return 0;
    while (p < np && s < no) {
        json_t *v = json_array_get(pl, p), *o = json_array_get(order, s);
        if (mk && !json_is_object(v))
            return smp_no_merge_key(e, v, mk);
        if (json_is_object(v) && json_object_get(v, SMP_PATCH)) {
            p++;
            continue;
        }
        if (mk && !json_object_get(v, mk))
            return smp_no_merge_key(e, v, mk);
        if (mk && (!json_is_object(o) || !json_object_get(o, mk)))
            return smp_no_merge_key(e, o, mk);
        if (json_equal(smp_ident(v, mk), smp_ident(o, mk)))
            p++;
        s++;
    }
    /* Go leaves "$patch: delete" elements out of this check (when the list
     * has a merge key). */
    while (mk && p < np && str_is(json_object_get(json_array_get(pl, p), SMP_PATCH), "delete"))
        p++;
    if (p < np) {
        char b1[200], b2[200];
        return fail(e, "The order in patch list:\n%s\n doesn't match %s list:\n%s\n",
                    brief(pl, b1, sizeof b1), SMP_ORDER, brief(order, b2, sizeof b2));
    }
    return 0;
}

/* One "$setElementOrder/<name>": merges the list it governs (if the patch
 * has it) and puts the result in the order it gives. */
static int smp_set_order(const struct smp_node *node, json_t *orig, json_t *patch, const char *key,
                         size_t klen, json_t *order, struct perr *e)
{
    size_t plen = strlen(SMP_ORDER "/");
    if (!key_has_prefix(key, klen, SMP_ORDER "/") || !json_is_array(order))
        return fail(e, "invalid patch format of setElementOrder list");
    const char *name = key + plen;
    size_t nlen = klen - plen;
    json_t *ol = json_object_getn(orig, name, nlen), *pl = json_object_getn(patch, name, nlen);
    if ((ol && !json_is_array(ol)) || (pl && !json_is_array(pl)))
        return fail(e, "invalid patch format of setElementOrder list: %.*s is a %s, not a list",
                    key_width(nlen), name, type_name(ol && !json_is_array(ol) ? ol : pl));
    struct smp_slot slot = smp_lookup(node, name, nlen);
    if (smp_check_order(pl, order, slot.merge_key, e) != 0)
        return -1;
    if (!ol && !pl)
        return 0;
    json_t *view = NULL, *merged;
    if (!pl)
        merged = must(json_deep_copy(ol));
    else if (ol && slot.merge)
        merged = smp_merge_list(&slot, name, nlen, ol, pl, &view, e);
    else
        merged = smp_fresh_list(&slot, pl, e);
    int kind = SMP_K_EMPTY;
    if (merged && smp_kinds(merged, NULL, &kind, e) != 0) {
        json_decref(merged);
        merged = NULL;
    }
    if (merged && kind != SMP_K_EMPTY) {
        struct smp_items it = smp_items_of(order);
        const char *mk = kind == SMP_K_OBJECT ? slot.merge_key : NULL;
        json_t *sorted = smp_order(merged, &it, view ? view : ol, mk, e);
        free(it.v);
        json_decref(merged);
        merged = sorted;
    }
    json_decref(view);
    if (!merged)
        return -1;
    obj_setn(orig, name, nlen, merged);
    return 0;
}

static int smp_set_orders(const struct smp_node *node, json_t *orig, json_t *patch, struct perr *e)
{
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach(patch, key, klen, v) {
        if (key_has_prefix(key, klen, SMP_ORDER) &&
            smp_set_order(node, orig, patch, key, klen, v, e))
            return -1;
    }
    return 0;
}

/* Whether the patch orders the list named key, which smp_set_order then
 * merged already. */
static bool smp_ordered(json_t *patch, const char *key, size_t klen)
{
    size_t plen = strlen(SMP_ORDER "/");
    char *name = xmalloc(plen + klen + 1);
    memcpy(name, SMP_ORDER "/", plen);
    memcpy(name + plen, key, klen);
    bool found = json_object_getn(patch, name, plen + klen) != NULL;
    free(name);
    return found;
}

/* "$deleteFromPrimitiveList/<name>": drops those values from the list. */
static int smp_delete_from(json_t *orig, const char *key, size_t klen, json_t *dl, struct perr *e)
{
    size_t plen = strlen(SMP_DELETE_PRIM "/");
    if (!key_has_prefix(key, klen, SMP_DELETE_PRIM "/") || !json_is_array(dl))
        return fail(e, "invalid patch format of primitive list");
    const char *name = key + plen;
    size_t nlen = klen - plen, i;
    json_t *ol = json_object_getn(orig, name, nlen), *v;
    int kind = SMP_K_EMPTY;
    if (!json_is_array(ol))
        return 0;
    if (smp_kinds(ol, NULL, &kind, e) != 0 || smp_kinds(dl, NULL, &kind, e) != 0)
        return -1;
    if (kind == SMP_K_OBJECT)
        return fail(e, "invalid patch format of primitive list: %.*s holds objects",
                    key_width(nlen), name);
    json_t *out = must(json_array());
    json_array_foreach(ol, i, v)
        if (smp_index(dl, NULL, v, NULL) == SIZE_MAX)
            json_array_append_new(out, must(json_deep_copy(v)));
    obj_setn(orig, name, nlen, out);
    return 0;
}

/* ---- objects ---- */

/* One key of the patch: null deletes, objects merge, merge lists merge,
 * anything else replaces. */
static int smp_merge_key(const struct smp_node *node, json_t *orig, const char *key, size_t klen,
                         json_t *pv, struct perr *e)
{
    if (json_is_null(pv)) {
        json_object_deln(orig, key, klen);
        return 0;
    }
    struct smp_slot slot = smp_lookup(node, key, klen);
    json_t *ov = json_object_getn(orig, key, klen), *nv;
    bool drop = false;
    if (json_is_object(ov) && json_is_object(pv) && !slot.replace)
        nv = smp_map(&slot.child, json_incref(ov), pv, e);
    else if (json_is_array(ov) && json_is_array(pv) && slot.merge)
        nv = smp_merge_list(&slot, key, klen, ov, pv, NULL, e);
    else
        nv = smp_fresh(&slot, pv, &drop, e);
    if (drop)
        json_object_deln(orig, key, klen);
    else if (nv)
        obj_setn(orig, key, klen, nv);
    return nv || drop ? 0 : -1;
}

static int smp_merge_keys(const struct smp_node *node, json_t *orig, json_t *patch, struct perr *e)
{
    const char *key;
    size_t klen;
    json_t *pv;
    json_object_keylen_foreach(patch, key, klen, pv) {
        int rc = 0;
        if (key_is(key, klen, SMP_PATCH) || key_is(key, klen, SMP_RETAIN_KEYS) ||
            key_has_prefix(key, klen, SMP_ORDER) || smp_ordered(patch, key, klen))
            continue; /* done before */
        if (key_has_prefix(key, klen, SMP_DELETE_PRIM))
            rc = smp_delete_from(orig, key, klen, pv, e);
        else
            rc = smp_merge_key(node, orig, key, klen, pv, e);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Go's mergeMap: merges patch (an object) into orig (owned; NULL or not an
 * object counts as {}); returns the result, owned, or NULL with the reason.
 * "$patch: delete" gives {}, "$patch: replace" the rest of the patch. */
static json_t *smp_map(const struct smp_node *node, json_t *orig, json_t *patch, struct perr *e)
{
    int d = smp_directive(patch, e);
    if (d < 0 || d == SMP_DELETE || d == SMP_REPLACE || !json_is_object(orig)) {
        json_decref(orig);
        orig = d < 0 ? NULL : must(json_object());
        if (d < 0 || d == SMP_DELETE)
            return orig;
    }
    if (smp_retain_keys(orig, patch, e) != 0 || smp_set_orders(node, orig, patch, e) != 0 ||
        smp_merge_keys(node, orig, patch, e) != 0) {
        json_decref(orig);
        return NULL;
    }
    return orig;
}

json_t *kube_patch_strategic(const struct kube_type *type, json_t *doc, json_t *patch, char *err,
                             size_t errlen)
{
    struct perr e = {err, errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!patch) {
        fail(&e, "strategic merge patch: no patch");
        return NULL;
    }
    if (doc && !json_is_object(doc) && !json_is_null(doc)) {
        fail(&e, "strategic merge patch: the document is a %s, not an object", type_name(doc));
        return NULL;
    }
    /* Like the apiserver, a null patch changes nothing. */
    if (!json_is_object(patch) && !json_is_null(patch)) {
        fail(&e, "strategic merge patch: the patch is a %s, not an object", type_name(patch));
        return NULL;
    }
    json_t *orig = json_is_object(doc) ? must(json_deep_copy(doc)) : must(json_object());
    if (json_is_null(patch))
        return orig;
    struct smp_node root = {type, NULL};
    return smp_map(&root, orig, patch, &e);
}
