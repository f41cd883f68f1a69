/* fieldset.c — field sets: smd's fieldpath.Set, FieldsV1, and the walks that
 * build sets from objects.
 *
 * A field set is a tree of path elements (struct fnode): "f:<name>" for
 * struct fields and map keys, "k:{...}" for elements of keyed lists,
 * "v:<json>" for elements of sets; a node is a member when its own path is
 * in the set ("." in FieldsV1). This file makes, parses (fs_parse),
 * serialises (fs_emit) and combines them (fs_union, fs_diff, fs_inter,
 * fs_subtract), lists their paths for conflict messages (fs_paths), and
 * builds them from JSON: fs_set_walk (the fields a configuration sets,
 * smd's ToFieldSet) and fs_cmp_walk (what was added, modified or removed
 * between two values, smd's Compare).
 *
 * How it works: children stay in smd's order (fields, then keys, then
 * values; keys and values compared as typed values), so the set operations
 * are linear merges and FieldsV1 comes out byte for byte as Kubernetes
 * writes it. A walk carries a chain of frames (struct frame), one per path
 * element, each holding this path's node in up to three sets being built,
 * created only when something is first inserted under it, so each set is
 * built in one pass; fs_done then sorts it, merging repeated children and
 * dropping empty ones. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/apply_internal.h"

#define OBJECT_META "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

/* ---- field sets ---- */

struct fnode *fs_node_new(enum pe_kind kind, char *key, json_t *val)
{
    struct fnode *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->key = key;
    n->val = val;
    return n;
}

void fs_node_free(struct fnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        fs_node_free(n->kid[i]);
    free(n->kid);
    free(n->key);
    json_decref(n->val);
    free(n);
}

static struct fnode *fnode_push(struct fnode *parent, struct fnode *child)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? 2 * parent->cap : 4;
        parent->kid = xrealloc(parent->kid, parent->cap * sizeof *parent->kid);
    }
    parent->kid[parent->n++] = child;
    return child;
}

/* A node like n (its path element), without members or children. */
static struct fnode *fnode_head(const struct fnode *n)
{
    return fs_node_new(n->kind, n->key ? xstrdup(n->key) : NULL,
                       n->val ? json_incref(n->val) : NULL);
}

struct fnode *fs_node_copy(const struct fnode *n)
{
    struct fnode *c = fnode_head(n);
    c->member = n->member;
    for (size_t i = 0; i < n->n; i++)
        fnode_push(c, fs_node_copy(n->kid[i]));
    return c;
}

static int pe_cmp(const struct fnode *a, const struct fnode *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    int c = a->kind == PE_FIELD ? 0 : ka_value_cmp(a->val, b->val);
    return c ? c : strcmp(a->key, b->key);
}

static int kid_cmp(const void *a, const void *b)
{
    return pe_cmp(*(struct fnode *const *)a, *(struct fnode *const *)b);
}

/* Sorts n's children, merges repeated ones, drops empty ones, all the way
 * down; true when n ends up empty. */
static bool fset_finish(struct fnode *n)
{
    if (n->n > 1) {
        qsort(n->kid, n->n, sizeof *n->kid, kid_cmp);
        size_t w = 1;
        for (size_t i = 1; i < n->n; i++) {
            struct fnode *a = n->kid[w - 1], *b = n->kid[i];
            if (pe_cmp(a, b)) {
                n->kid[w++] = b;
                continue;
            }
            a->member |= b->member;
            for (size_t j = 0; j < b->n; j++)
                fnode_push(a, b->kid[j]);
            b->n = 0;
            fs_node_free(b);
        }
        n->n = w;
    }
    size_t w = 0;
    for (size_t i = 0; i < n->n; i++) {
        if (fset_finish(n->kid[i]))
            fs_node_free(n->kid[i]);
        else
            n->kid[w++] = n->kid[i];
    }
    n->n = w;
    return !n->member && !n->n;
}

/* A finished set, or NULL (the empty set). */
struct fnode *fs_done(struct fnode *root)
{
    if (root && fset_finish(root)) {
        fs_node_free(root);
        return NULL;
    }
    return root;
}

/* The child of n matching k, moving *j forward through n's children;
 * calls must come in the children's order. */
const struct fnode *fs_match_kid(const struct fnode *n, size_t *j, const struct fnode *k)
{
    if (!n)
        return NULL;
    while (*j < n->n && pe_cmp(n->kid[*j], k) < 0)
        (*j)++;
    return *j < n->n && !pe_cmp(n->kid[*j], k) ? n->kid[*j] : NULL;
}

/* The field child "f:name" of n, or NULL. */
struct fnode *fs_field_kid(const struct fnode *n, const char *name, size_t *at)
{
    size_t lo = 0, hi = n ? n->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct fnode *k = n->kid[mid];
        int c = k->kind != PE_FIELD ? 1 : strcmp(k->key + 2, name);
        if (!c) {
            if (at)
                *at = mid;
            return n->kid[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

struct fnode *fs_union(const struct fnode *a, const struct fnode *b)
{
    if (!a || !b)
        return a ? fs_node_copy(a) : b ? fs_node_copy(b) : NULL;
    struct fnode *o = fnode_head(a);
    o->member = a->member || b->member;
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i >= a->n ? 1 : j >= b->n ? -1 : pe_cmp(a->kid[i], b->kid[j]);
        if (c < 0)
            fnode_push(o, fs_node_copy(a->kid[i++]));
        else if (c > 0)
            fnode_push(o, fs_node_copy(b->kid[j++]));
        else
            fnode_push(o, fs_union(a->kid[i++], b->kid[j++]));
    }
    return o;
}

struct fnode *fs_union_take(struct fnode *a, struct fnode *b)
{
    if (!a || !b)
        return a ? a : b;
    struct fnode *o = fs_union(a, b);
    fs_node_free(a);
    fs_node_free(b);
    return o;
}

/* a without b's members; NULL when nothing is left. */
struct fnode *fs_diff(const struct fnode *a, const struct fnode *b)
{
    if (!a)
        return NULL;
    if (!b)
        return fs_node_copy(a);
    struct fnode *o = fnode_head(a);
    o->member = a->member && !b->member;
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct fnode *bk = fs_match_kid(b, &j, a->kid[i]);
        struct fnode *d = bk ? fs_diff(a->kid[i], bk) : fs_node_copy(a->kid[i]);
        if (d)
            fnode_push(o, d);
    }
    if (!o->member && !o->n) {
        fs_node_free(o);
        return NULL;
    }
    return o;
}

/* The members in both; NULL when none. */
struct fnode *fs_inter(const struct fnode *a, const struct fnode *b)
{
    if (!a || !b)
        return NULL;
    struct fnode *o = fnode_head(a);
    o->member = a->member && b->member;
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct fnode *bk = fs_match_kid(b, &j, a->kid[i]);
        struct fnode *d = bk ? fs_inter(a->kid[i], bk) : NULL;
        if (d)
            fnode_push(o, d);
    }
    if (!o->member && !o->n) {
        fs_node_free(o);
        return NULL;
    }
    return o;
}

/* Replaces *s by *s minus b. */
void fs_subtract(struct fnode **s, const struct fnode *b)
{
    if (!*s || !b)
        return;
    struct fnode *d = fs_diff(*s, b);
    fs_node_free(*s);
    *s = d;
}

/* Parses one FieldsV1 key into a path element; 1 for kinds smd skips. */
static int pe_parse(const char *s, enum pe_kind *kind, char **key, json_t **val)
{
    if (strlen(s) < 2 || s[1] != ':')
        return -1;
    struct ubuf b = {0};
    *val = NULL;
    switch (s[0]) {
    case 'f':
        *kind = PE_FIELD;
        *key = xstrdup(s);
        return 0;
    case 'k':
    case 'v':
        *val = json_loads(s + 2, JSON_DECODE_ANY, NULL);
        if (!*val || (s[0] == 'k' && !json_is_object(*val))) {
            json_decref(*val);
            return -1;
        }
        *kind = s[0] == 'k' ? PE_KEY : PE_VALUE;
        ubuf_append(&b, s, 2);
        ka_go_json(&b, *val);
        *key = b.data;
        return 0;
    case 'i': {
        char *end;
        long i = strtol(s + 2, &end, 10);
        if (*end || end == s + 2)
            return -1;
        *kind = PE_INDEX;
        *val = json_integer(i);
        ubuf_appendf(&b, "i:%ld", i);
        *key = b.data;
        return 0;
    }
    default:
        return 1;
    }
}

static int fset_parse_into(struct fnode *n, json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        if (!json_is_object(v))
            return -1;
        if (!strcmp(k, ".")) {
            n->member = true;
            continue;
        }
        enum pe_kind kind;
        char *key;
        json_t *val;
        int rc = pe_parse(k, &kind, &key, &val);
        if (rc < 0)
            return -1;
        if (rc > 0)
            continue;
        struct fnode *c = fnode_push(n, fs_node_new(kind, key, val));
        if (fset_parse_into(c, v) < 0)
            return -1;
        if (!c->n) /* smd: a path with no children is a member */
            c->member = true;
    }
    return 0;
}

/* A FieldsV1 object as a set (*out NULL when empty); -1 when malformed. */
int fs_parse(json_t *fields, struct fnode **out)
{
    *out = NULL;
    if (!fields || json_is_null(fields))
        return 0;
    if (!json_is_object(fields))
        return -1;
    struct fnode *root = fs_node_new(PE_FIELD, NULL, NULL);
    if (fset_parse_into(root, fields) < 0) {
        fs_node_free(root);
        return -1;
    }
    root->member = false;
    *out = fs_done(root);
    return 0;
}

/* The set as FieldsV1: children in order, "." first when a node is both a
 * member and a parent. */
json_t *fs_emit(const struct fnode *n, bool self)
{
    json_t *o = json_object();
    if (self && n->member && n->n)
        json_object_set_new(o, ".", json_object());
    for (size_t i = 0; n && i < n->n; i++) {
        const struct fnode *k = n->kid[i];
        json_object_set_new(o, k->key, k->n ? fs_emit(k, true) : json_object());
    }
    return o;
}

/* Calls fn with every member's path, in smd's order (a level's members,
 * then its children's subtrees). */
void fs_paths(const struct fnode *n, struct ubuf *path,
              void (*fn)(void *arg, const char *path), void *arg)
{
    size_t base = path->len;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n->n; i++) {
            const struct fnode *k = n->kid[i];
            if (pass == 0 ? !k->member : !k->n)
                continue;
            ka_pe_print(path, k->kind, k->key, k->val);
            if (pass == 0)
                fn(arg, path->data);
            else
                fs_paths(k, path, fn, arg);
            path->len = base;
            path->data[base] = '\0';
        }
}

/* ---- walking JSON and building sets ---- */

static struct fnode *frame_node(struct frame *f, int which)
{
    if (!f->at[which]) {
        struct fnode *parent = frame_node(f->up, which);
        char *key;
        if (f->kind == PE_FIELD) {
            size_t l = strlen(f->name);
            key = xmalloc(l + 3);
            memcpy(key, "f:", 2);
            memcpy(key + 2, f->name, l + 1);
        } else {
            key = xstrdup(f->name);
        }
        f->at[which] =
            fnode_push(parent, fs_node_new(f->kind, key, f->val ? json_incref(f->val) : NULL));
    }
    return f->at[which];
}

static void frame_mark(struct frame *f, int which)
{
    frame_node(f, which)->member = true;
}

void fs_frame_path(const struct frame *f, struct ubuf *b)
{
    if (!f || !f->up)
        return;
    fs_frame_path(f->up, b);
    if (f->kind == PE_FIELD)
        ubuf_appendf(b, ".%s", f->name);
    else
        ka_pe_print(b, f->kind, f->name, f->val);
}

/* -- the fields a value sets (smd's ToFieldSet) -- */

static int set_walk_items(struct frame *fr, const struct shape *sh, json_t *v, struct aerr *e)
{
    struct lindex ix;
    if (ka_lindex_build(&ix, sh, v, fr, e))
        return -1;
    struct shape es = ka_shape_elem(sh);
    enum pe_kind kind = sh->kind == SH_KEYED_LIST ? PE_KEY : PE_VALUE;
    int rc = 0;
    for (size_t i = 0; i < ix.n && !rc; i++) {
        struct frame ef = ITEM_FRAME(fr, kind, ix.key[i], ix.val[i]);
        if (ix.dup[i]) { /* smd owns a repeated item as a whole */
            if (ix.first[i] == i)
                frame_mark(&ef, 0);
            continue;
        }
        if (es.kind == SH_STRUCT)
            rc = fs_set_walk(&ef, &es, json_array_get(v, i), e);
        frame_mark(&ef, 0);
    }
    ka_lindex_free(&ix);
    return rc;
}

int fs_set_walk(struct frame *fr, const struct shape *sh, json_t *v, struct aerr *e)
{
    if (!ka_shape_fits(sh, v) || !ka_is_granular(sh)) {
        frame_mark(fr, 0);
        return 0;
    }
    if (sh->kind == SH_KEYED_LIST || sh->kind == SH_SET_LIST)
        return set_walk_items(fr, sh, v, e);
    const char *k;
    json_t *cv;
    json_object_foreach(v, k, cv) {
        struct shape cs = ka_shape_child(sh, k);
        struct frame cf = FIELD_FRAME(fr, k);
        /* smd: null and {} values, and map keys, own their own path */
        if (json_is_null(cv) || (json_is_object(cv) && !json_object_size(cv)) || !cs.field ||
            sh->kind == SH_MAP)
            frame_mark(&cf, 0);
        if (!json_is_null(cv) && fs_set_walk(&cf, &cs, cv, e))
            return -1;
    }
    return 0;
}

/* -- what changed between two values (smd's Compare) -- */

static bool skip_field(const struct shape *sh, const char *name)
{
    /* managedFields is never owned; comparing it is wasted work */
    return sh->type && !strcmp(name, "managedFields") && !strcmp(sh->type->name, OBJECT_META);
}

static void cmp_fields(struct frame *fr, const struct shape *sh, json_t *l, json_t *r, bool gone)
{
    const char *k;
    json_t *v;
    if (l)
        json_object_foreach(l, k, v) {
            if (skip_field(sh, k))
                continue;
            struct shape cs = ka_shape_child(sh, k);
            struct frame cf = FIELD_FRAME(fr, k);
            fs_cmp_walk(&cf, &cs, v, r ? json_object_get(r, k) : NULL, gone);
        }
    if (r)
        json_object_foreach(r, k, v) {
            if ((l && json_object_get(l, k)) || skip_field(sh, k))
                continue;
            struct shape cs = ka_shape_child(sh, k);
            struct frame cf = FIELD_FRAME(fr, k);
            fs_cmp_walk(&cf, &cs, NULL, v, gone);
        }
}

/* Items that repeat a key are compared as one atomic value, as smd does. */
static void cmp_repeated(struct frame *ef, const struct lindex *li, json_t *l, size_t i,
                         const struct lindex *ri, json_t *r, size_t j)
{
    if (j == NONE) {
        frame_mark(ef, REMOVED);
        return;
    }
    size_t a = i, b = j;
    while (a != NONE && b != NONE && ka_val_equal(json_array_get(l, a), json_array_get(r, b))) {
        a = li->next[a];
        b = ri->next[b];
    }
    if (a != NONE || b != NONE)
        frame_mark(ef, MODIFIED);
}

static void cmp_items(struct frame *fr, const struct shape *sh, json_t *l, json_t *r, bool gone)
{
    struct lindex li, ri;
    ka_lindex_build(&li, sh, l, NULL, NULL);
    ka_lindex_build(&ri, sh, r, NULL, NULL);
    struct shape es = ka_shape_elem(sh);
    enum pe_kind kind = sh->kind == SH_KEYED_LIST ? PE_KEY : PE_VALUE;
    for (size_t i = 0; i < li.n; i++) {
        if (!li.key[i] || li.first[i] != i)
            continue;
        size_t j = ka_lindex_find(&ri, li.key[i]);
        struct frame ef = ITEM_FRAME(fr, kind, li.key[i], li.val[i]);
        if (li.dup[i] || (j != NONE && ri.dup[j]))
            cmp_repeated(&ef, &li, l, i, &ri, r, j);
        else
            fs_cmp_walk(&ef, &es, json_array_get(l, i), j != NONE ? json_array_get(r, j) : NULL,
                        gone || j == NONE);
    }
    for (size_t j = 0; j < ri.n; j++) {
        if (!ri.key[j] || ri.first[j] != j || ka_lindex_find(&li, ri.key[j]) != NONE)
            continue;
        struct frame ef = ITEM_FRAME(fr, kind, ri.key[j], ri.val[j]);
        if (ri.dup[j])
            frame_mark(&ef, ADDED);
        else
            fs_cmp_walk(&ef, &es, NULL, json_array_get(r, j), true);
    }
    ka_lindex_free(&li);
    ka_lindex_free(&ri);
}

void fs_cmp_walk(struct frame *fr, const struct shape *sh, json_t *l, json_t *r, bool gone)
{
    if (json_is_null(l))
        l = NULL;
    if (json_is_null(r))
        r = NULL;
    if (!l && !r)
        return;
    if (!ka_is_granular(sh) || !ka_shape_fits(sh, l) || !ka_shape_fits(sh, r) ||
        (ka_container_empty(l) && ka_container_empty(r))) {
        if (!l)
            frame_mark(fr, ADDED);
        else if (!r)
            frame_mark(fr, REMOVED);
        else if (!ka_val_equal(l, r))
            frame_mark(fr, MODIFIED);
        return;
    }
    if ((!l || !r) && ka_tracks_presence(sh, gone))
        frame_mark(fr, l ? REMOVED : ADDED);
    if (sh->kind == SH_STRUCT || sh->kind == SH_MAP)
        cmp_fields(fr, sh, l, r, gone);
    else
        cmp_items(fr, sh, l, r, gone);
}

