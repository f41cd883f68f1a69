/* patch_json.c — JSON patch (RFC 6902, application/json-patch+json).
 *
 * A list of operations (add, remove, replace, move, copy, test), each with
 * an RFC 6901 pointer, applied in order to a deep copy of the document; the
 * first one that fails fails the patch with evanphx/json-patch's words.
 * Pointers are strict RFC 6901: "~1" is "/", "~0" is "~", an index is "0" or
 * digits without a leading zero, "-" appends. "copy" may grow the document
 * by at most KUBE_PATCH_COPY_LIMIT bytes in all.
 *
 * How it works: each operation's pointer is parsed into unescaped tokens
 * (struct jp_path); a table maps the op name to its function, which finds
 * the parent container of the target and puts (jp_put) or takes (jp_take)
 * the value there; struct jp_run carries the document being edited, the
 * bytes copied so far and the caller's error buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/patch_internal.h"
#include "util/util.h"

/* The most a JSON patch's copy operations may add to a document, in bytes of
 * compact JSON: the apiserver's default JSONPatchMaxCopyBytes. */
#define KUBE_PATCH_COPY_LIMIT (3 * 1024 * 1024)

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
        return kp_fail(r->e,
                       "%s operation does not apply: doc is missing %s: \"%s\": missing value",
                       op, what, path);
    }
    if (json_is_object(c)) {
        kp_obj_setn(c, t->s, t->len, v);
        return 0;
    }
    size_t n = json_array_size(c), i = n;
    if (!key_is(t->s, t->len, "-") && !jp_index(t, &i)) {
        json_decref(v);
        return kp_fail(r->e, "error in %s for path: '%s': value was not a proper array index: '%s'",
                       op, path, t->s);
    }
    if (i > n) {
        json_decref(v);
        return kp_fail(
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
        kp_fail(r->e, "%s operation does not apply: doc is missing %s: \"%s\": missing value", op,
                what, path);
        return NULL;
    }
    const struct jp_token *t = &p->tok[p->n - 1];
    json_t *v = jp_child(c, t);
    if (!v) {
        if (json_is_object(c))
            kp_fail(r->e,
                    "error in %s for path: '%s': Unable to remove nonexistent key: %s: missing value",
                    op, path, t->s);
        else
            kp_fail(r->e,
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
    return jp_put(r, "add", "path", path, p, kp_must(json_deep_copy(json_object_get(op, "value"))));
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
    json_t *v = kp_must(json_deep_copy(json_object_get(op, "value")));
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
        return kp_fail(r->e,
                       "replace operation does not apply: doc is missing path: \"%s\": missing value",
                       path);
    }
    if (!jp_child(c, t)) {
        json_decref(v);
        return kp_fail(r->e,
                       "replace operation does not apply: doc is missing key: %s: missing value",
                       path);
    }
    if (json_is_object(c)) {
        kp_obj_setn(c, t->s, t->len, v);
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
        return kp_fail(r->e, "%s operation failed to decode from: missing value", name);
    if (bad)
        return kp_fail(r->e, "%s operation does not apply: from is not a JSON pointer: \"%s\"",
                       name, *from);
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
        rc = kp_fail(r->e,
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
        return kp_fail(
            r->e, "copy operation does not apply: doc is missing from path: \"%s\": missing value",
            from);
    size_t size = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
    r->copied += size;
    if (r->copied > KUBE_PATCH_COPY_LIMIT)
        return kp_fail(r->e,
                       "Unable to complete the copy, the accumulated size increase of copy is %zu, "
                       "exceeding the limit %d",
                       r->copied, KUBE_PATCH_COPY_LIMIT);
    return jp_put(r, "copy", "destination path", path, p, kp_must(json_deep_copy(v)));
}

static int jp_op_test(struct jp_run *r, json_t *op, const char *path, const struct jp_path *p)
{
    json_t *v = jp_get(r->root, p);
    if (!v && (p->n == 0 || !jp_parent(r->root, p)))
        return kp_fail(r->e,
                       "test operation does not apply: is missing path: \"%s\": missing value",
                       path);
    if (!v || !json_equal(v, json_object_get(op, "value")))
        return kp_fail(r->e, "testing value %s failed: test failed", path);
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
        return kp_fail(r->e, "json patch: operation %zu is not an object but %s", i,
                       kp_brief(op, b, sizeof b));
    json_t *name = json_object_get(op, "op");
    const struct jp_opdef *def = jp_opdef(name);
    if (!def)
        return kp_fail(r->e, "Unexpected kind: %s",
                       json_is_string(name) ? json_string_value(name) : "unknown");
    struct jp_path p;
    bool bad;
    const char *path = jp_member(op, "path", &p, &bad);
    if (!path)
        return kp_fail(r->e, "%s operation failed to decode path: missing value", def->name);
    if (bad)
        return kp_fail(r->e, "%s operation does not apply: path is not a JSON pointer: \"%s\"",
                       def->name, path);
    int rc = def->value && !json_object_get(op, "value")
                 ? kp_fail(r->e,
                           "%s operation does not apply: missing value field for path: \"%s\"",
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
        kp_fail(&e, "json patch: no document");
        return NULL;
    }
    if (!json_is_array(ops)) {
        kp_fail(&e, "json patch: the patch must be an array of operations, not a %s",
                ops ? kp_type_name(ops) : "nothing");
        return NULL;
    }
    struct jp_run r = {kp_must(json_deep_copy(doc)), 0, &e};
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
