/* apply_internal.h — what the files of kube_apply and kube_managed_fields_update
 * share; not for use outside kube/apply*.c and kube/fieldset.c.
 *
 * Server-side apply (kube.h) is split by job (see apply.c for the layout).
 * The files share the request's error (struct aerr), the shape of the value
 * at a path (struct shape), path elements and list indexes (struct lindex),
 * field sets (struct fnode) and the walks' frames (struct frame), and
 * metadata.managedFields decoded (struct mgrs). Functions on field sets and
 * the walks that build them carry the fs_ prefix, the others ka_; the two
 * one-line accessors below are static inline, so their short names stay
 * private to each file; everything else is static to its file. */
#ifndef BOSUN_KUBE_APPLY_INTERNAL_H
#define BOSUN_KUBE_APPLY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/kube.h"
#include "util/util.h"

#define NONE SIZE_MAX /* no index */

/* ---- errors (apply.c) ---- */

struct aerr {
    char *buf;
    size_t len;
    bool set;
};

void ka_aerr_set(struct aerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- shapes: how the value at a path merges, from the schema (apply_shape.c) ---- */

enum shape_kind {
    SH_LEAF,        /* scalars, atomic structs and maps, raw JSON: replaced whole */
    SH_STRUCT,      /* a message: field by field */
    SH_MAP,         /* map<string, scalar>: key by key */
    SH_ATOMIC_LIST, /* replaced whole */
    SH_KEYED_LIST,  /* elements identified by their key fields ("k:") */
    SH_SET_LIST,    /* elements identified by their value ("v:") */
};

struct shape {
    enum shape_kind kind;
    const struct kube_type *type;   /* SH_STRUCT; keyed lists: the element type */
    const struct kube_field *field; /* the field holding the value; NULL at the root */
    bool elem;                      /* a list element: its own presence is tracked */
};

static inline bool is_named(const struct shape *sh, const char *name)
{
    return sh->kind == SH_STRUCT && sh->type && kube_type_field(sh->type, name);
}

struct shape ka_shape_child(const struct shape *sh, const char *name);
struct shape ka_shape_elem(const struct shape *list);
bool ka_is_granular(const struct shape *sh);
bool ka_shape_fits(const struct shape *sh, json_t *v);
bool ka_container_empty(json_t *v);
bool ka_tracks_presence(const struct shape *sh, bool gone);

/* ---- values: Go's JSON encoding, smd's ordering and equality (apply_shape.c) ---- */

void ka_go_quote(struct ubuf *b, const char *s, size_t n);
void ka_go_json(struct ubuf *b, json_t *v);
void ka_go_tostring(struct ubuf *b, json_t *v);
int ka_value_cmp(json_t *a, json_t *b);
bool ka_val_equal(json_t *a, json_t *b);

/* ---- path elements and list indexes (apply_shape.c) ---- */

/* In smd's order: a node's field children sort before its keyed elements,
 * which sort before set values. */
enum pe_kind { PE_FIELD, PE_KEY, PE_VALUE, PE_INDEX };

/* A list's items by path element: key[i] (NULL when item i has none),
 * the first item with the same key, the next one, whether it repeats. */
struct lindex {
    size_t n;
    char **key;
    json_t **val;
    size_t *first, *next;
    bool *dup, any_dup;
    size_t cap;
    size_t *slot; /* hash table of item index + 1; 0 is empty */
};

struct frame;
void ka_pe_print(struct ubuf *b, enum pe_kind kind, const char *key, json_t *val);
size_t ka_lindex_find(const struct lindex *ix, const char *key);
void ka_lindex_free(struct lindex *ix);
int ka_lindex_build(struct lindex *ix, const struct shape *list, json_t *arr,
                    const struct frame *fr, struct aerr *e);

/* ---- field sets (fieldset.c) ---- */

struct fnode {
    char *key;          /* the serialised path element; NULL at the root */
    enum pe_kind kind;
    json_t *val;        /* PE_KEY: the key fields; PE_VALUE: the value; PE_INDEX: the index */
    bool member;        /* this path itself is in the set */
    struct fnode **kid; /* sorted by pe_cmp once the set is finished */
    size_t n, cap;
};

struct fnode *fs_node_new(enum pe_kind kind, char *key, json_t *val);
void fs_node_free(struct fnode *n);
struct fnode *fs_node_copy(const struct fnode *n);
struct fnode *fs_done(struct fnode *root);
const struct fnode *fs_match_kid(const struct fnode *n, size_t *j, const struct fnode *k);
struct fnode *fs_field_kid(const struct fnode *n, const char *name, size_t *at);
struct fnode *fs_union(const struct fnode *a, const struct fnode *b);
/* fs_union that consumes a and b: returns one of them when the other is
 * NULL (a create's whole change set is not copied twice). */
struct fnode *fs_union_take(struct fnode *a, struct fnode *b);
struct fnode *fs_diff(const struct fnode *a, const struct fnode *b);
struct fnode *fs_inter(const struct fnode *a, const struct fnode *b);
void fs_subtract(struct fnode **s, const struct fnode *b);
int fs_parse(json_t *fields, struct fnode **out);
json_t *fs_emit(const struct fnode *n, bool self);
void fs_paths(const struct fnode *n, struct ubuf *path, void (*fn)(void *arg, const char *path),
              void *arg);

/* ---- walking JSON and building sets (fieldset.c) ---- */

/* One step of a walk: the path element, and the nodes for this path in up
 * to three sets being built, created when something is first inserted
 * under it (so a walk builds each set in one pass). */
struct frame {
    struct frame *up;
    enum pe_kind kind;
    const char *name; /* PE_FIELD: the field name; otherwise the serialised element */
    json_t *val;
    struct fnode *at[3];
};

#define FIELD_FRAME(up_, name_) {(up_), PE_FIELD, (name_), NULL, {NULL, NULL, NULL}}
#define ITEM_FRAME(up_, kind_, key_, val_) {(up_), (kind_), (key_), (val_), {NULL, NULL, NULL}}

/* The three sets of a comparison, struct frame's at[]. */
enum { ADDED, MODIFIED, REMOVED };

void fs_frame_path(const struct frame *f, struct ubuf *b);
int fs_set_walk(struct frame *fr, const struct shape *sh, json_t *v, struct aerr *e);
void fs_cmp_walk(struct frame *fr, const struct shape *sh, json_t *l, json_t *r, bool gone);

/* ---- a configuration merged onto live, and pruned (apply_merge.c) ---- */

int ka_merge_val(const struct shape *sh, json_t **v, json_t *r, struct frame *fr, struct aerr *e);
void ka_prune_walk(json_t *v, const struct shape *sh, const struct fnode *last,
                   const struct fnode *owned);

/* ---- managers: metadata.managedFields decoded (apply_managed.c) ---- */

struct mgr {
    char *manager;
    bool apply;        /* operation Apply, else Update */
    char *api_version;
    char *subresource; /* "" when none */
    char *time;        /* NULL when none is recorded */
    struct fnode *set; /* NULL: owns nothing, and the entry is dropped */
};

/* Entries keep their index until encoded: an emptied one has set NULL. */
struct mgrs {
    struct mgr *v;
    size_t n, cap;
};

static inline const char *str_field(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

void ka_mgrs_free(struct mgrs *ms);
size_t ka_mgrs_add(struct mgrs *ms, const char *manager, bool apply, const char *gv,
                   const char *sub);
int ka_mgrs_decode(struct mgrs *ms, json_t *arr, struct aerr *e);
int ka_ident_cmp(const struct mgr *a, const struct mgr *b);
void ka_mgr_print(const struct mgr *m, struct ubuf *b);
void ka_mgrs_encode(const struct mgrs *ms, json_t *obj);
void ka_cap_updaters(struct mgrs *ms);

#endif
