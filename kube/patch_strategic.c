/* patch_strategic.c — strategic merge patch
 * (application/strategic-merge-patch+json), as strategicpatch's mergeMap and
 * mergeSlice do it.
 *
 * Objects merge key by key; lists whose schema field has patchStrategy
 * "merge" merge by patchMergeKey (objects) or by union (primitives), in the
 * patch's order with the server's other elements interleaved where they
 * were; any other list or value is replaced. The directives "$patch",
 * "$retainKeys", "$setElementOrder/<list>" and
 * "$deleteFromPrimitiveList/<list>" are honoured, and where we part from Go
 * is listed in patch.c.
 *
 * How it works: smp_map walks the patch object over a deep copy of the
 * document, with the schema's view of the object being merged (struct
 * smp_node) and of each key (struct smp_slot: strategy, merge key, the
 * child's schema). It honours the object's $patch and $retainKeys, merges
 * each list a $setElementOrder governs and puts it in that order, then
 * merges every other key (or applies its $deleteFromPrimitiveList); merge
 * lists go through smp_merge_list. Values taken from the patch are made
 * fresh (smp_fresh): deep copies without nulls or directives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/patch_internal.h"
#include "util/util.h"

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
    return kp_fail(e, "unknown patch type: %s in map: %s", kp_brief(d, b1, sizeof b1),
                   kp_brief(v, b2, sizeof b2));
}

static int smp_no_merge_key(struct perr *e, json_t *v, const char *mk)
{
    char b[160];
    return kp_fail(e, "map: %s does not contain declared merge key: %s",
                   kp_brief(v, b, sizeof b), mk);
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
    case JSON_ARRAY: return kp_fail(e, "lists of lists are not supported");
    default: return kp_fail(e, "list element types are not identical: a list holds a null");
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
            return kp_fail(e, "list element types are not identical: %s",
                           kp_brief(list ? list : v, b, sizeof b));
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
    json_t *out = kp_must(json_array());
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
    return kp_must(json_deep_copy(pv));
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
    json_t *out = kp_must(json_array());
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
        case SMP_MERGE: return kp_fail(e, "merging lists cannot yet be specified in the patch");
        case SMP_DELETE:
            if (!mk) {
                char b[160];
                return kp_fail(e,
                               "map: %s: a \"$patch: delete\" element needs a list with a merge key",
                               kp_brief(v, b, sizeof b));
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
    json_t *out = kp_must(json_array());
    size_t nb = json_array_size(base);
    for (size_t i = 0; i < nb + rest->n; i++) {
        json_t *v = i < nb ? json_array_get(base, i) : rest->v[i - nb];
        if (smp_index(out, NULL, v, NULL) == SIZE_MAX)
            json_array_append_new(out, kp_must(json_deep_copy(v)));
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
    json_t *view = kp_must(json_array());
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
    json_t *base = kp_must(json_deep_copy(ol)), *merged = NULL, *out = NULL;
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
        kp_fail(e, "cannot merge lists without merge key for %.*s", key_width(klen), key);
        goto done;
    }
    if (kind == SMP_K_OBJECT) {
        merged = kp_must(json_array());
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
        return kp_fail(e, "invalid patch format of retainKeys");
    const char *key;
    size_t klen;
    json_object_keylen_foreach(patch, key, klen, v) {
        if (json_is_null(v) || key_is(key, klen, SMP_PATCH) || key_is(key, klen, SMP_RETAIN_KEYS) ||
            key_has_prefix(key, klen, SMP_DELETE_PRIM) || key_has_prefix(key, klen, SMP_ORDER))
            continue;
        json_t *ks = kp_must(json_stringn_nocheck(key, klen));
        bool listed = smp_index(keep, NULL, ks, NULL) != SIZE_MAX;
        json_decref(ks);
        if (!listed)
            return kp_fail(e,
                           "invalid patch format of retainKeys: %.*s is not in the $retainKeys list",
                           key_width(klen), key);
    }
    void *next;
    json_object_keylen_foreach_safe(orig, next, key, klen, v) {
        json_t *ks = kp_must(json_stringn_nocheck(key, klen));
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
        return kp_fail(e, "The order in patch list:\n%s\n doesn't match %s list:\n%s\n",
                       kp_brief(pl, b1, sizeof b1), SMP_ORDER, kp_brief(order, b2, sizeof b2));
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
        return kp_fail(e, "invalid patch format of setElementOrder list");
    const char *name = key + plen;
    size_t nlen = klen - plen;
    json_t *ol = json_object_getn(orig, name, nlen), *pl = json_object_getn(patch, name, nlen);
    if ((ol && !json_is_array(ol)) || (pl && !json_is_array(pl)))
        return kp_fail(e, "invalid patch format of setElementOrder list: %.*s is a %s, not a list",
                       key_width(nlen), name, kp_type_name(ol && !json_is_array(ol) ? ol : pl));
    struct smp_slot slot = smp_lookup(node, name, nlen);
    if (smp_check_order(pl, order, slot.merge_key, e) != 0)
        return -1;
    if (!ol && !pl)
        return 0;
    json_t *view = NULL, *merged;
    if (!pl)
        merged = kp_must(json_deep_copy(ol));
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
    kp_obj_setn(orig, name, nlen, merged);
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
        return kp_fail(e, "invalid patch format of primitive list");
    const char *name = key + plen;
    size_t nlen = klen - plen, i;
    json_t *ol = json_object_getn(orig, name, nlen), *v;
    int kind = SMP_K_EMPTY;
    if (!json_is_array(ol))
        return 0;
    if (smp_kinds(ol, NULL, &kind, e) != 0 || smp_kinds(dl, NULL, &kind, e) != 0)
        return -1;
    if (kind == SMP_K_OBJECT)
        return kp_fail(e, "invalid patch format of primitive list: %.*s holds objects",
                       key_width(nlen), name);
    json_t *out = kp_must(json_array());
    json_array_foreach(ol, i, v)
        if (smp_index(dl, NULL, v, NULL) == SIZE_MAX)
            json_array_append_new(out, kp_must(json_deep_copy(v)));
    kp_obj_setn(orig, name, nlen, out);
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
        kp_obj_setn(orig, key, klen, nv);
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
        orig = d < 0 ? NULL : kp_must(json_object());
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
        kp_fail(&e, "strategic merge patch: no patch");
        return NULL;
    }
    if (doc && !json_is_object(doc) && !json_is_null(doc)) {
        kp_fail(&e, "strategic merge patch: the document is a %s, not an object",
                kp_type_name(doc));
        return NULL;
    }
    /* Like the apiserver, a null patch changes nothing. */
    if (!json_is_object(patch) && !json_is_null(patch)) {
        kp_fail(&e, "strategic merge patch: the patch is a %s, not an object", kp_type_name(patch));
        return NULL;
    }
    json_t *orig = json_is_object(doc) ? kp_must(json_deep_copy(doc)) : kp_must(json_object());
    if (json_is_null(patch))
        return orig;
    struct smp_node root = {type, NULL};
    return smp_map(&root, orig, patch, &e);
}
