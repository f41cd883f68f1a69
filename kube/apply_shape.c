/* apply_shape.c — what server-side apply knows about a value: its shape, its
 * order and its name as a path element.
 *
 * The schema-side and value-side groundwork of structured-merge-diff that
 * the walks of fieldset.c and apply_merge.c stand on: how the value at a
 * path merges (struct shape: a leaf, a struct field by field, a map key by
 * key, an atomic, keyed or set list), read from the generated schema plus
 * the +structType=atomic and +mapType=atomic markers it does not carry;
 * values as Go's encoding/json writes them and as smd orders and compares
 * them; path elements as FieldsV1 keys ("f:", "k:{...}", "v:...") and as
 * smd prints them in conflicts; and the index of a list's items by path
 * element (struct lindex), a hash table that keeps each walk linear.
 *
 * How it works: ka_shape_child and ka_shape_elem step a shape down into a
 * field or a list element; ka_lindex_build serialises each item's path
 * element once (keyed lists: the key fields, with schema defaults for
 * absent ones; sets: the value) and chains the items that share one, so a
 * walk looks an element up in the other list in constant time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/apply_internal.h"

/* ---- shapes: how the value at a path merges, from the schema ---- */

/* Types marked +structType=atomic in k8s.io/api 0.32 (the schema does not
 * carry the marker); sorted for bsearch. */
static const char *const atomic_structs[] = {
    "io.k8s.api.autoscaling.v1.CrossVersionObjectReference",
    "io.k8s.api.core.v1.ConfigMapKeySelector",
    "io.k8s.api.core.v1.EndpointAddress",
    "io.k8s.api.core.v1.EndpointPort",
    "io.k8s.api.core.v1.LocalObjectReference",
    "io.k8s.api.core.v1.NodeSelector",
    "io.k8s.api.core.v1.NodeSelectorTerm",
    "io.k8s.api.core.v1.ObjectFieldSelector",
    "io.k8s.api.core.v1.ObjectReference",
    "io.k8s.api.core.v1.ResourceFieldSelector",
    "io.k8s.api.core.v1.ScopeSelector",
    "io.k8s.api.core.v1.SecretKeySelector",
    "io.k8s.api.core.v1.SecretReference",
    "io.k8s.api.core.v1.TopologySelectorTerm",
    "io.k8s.api.core.v1.TypedLocalObjectReference",
    "io.k8s.api.discovery.v1.EndpointPort",
    "io.k8s.api.networking.v1.ServiceBackendPort",
    "io.k8s.api.rbac.v1.RoleRef",
    "io.k8s.api.rbac.v1.Subject",
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
};

/* Map fields marked +mapType=atomic: "<owner type> <field>". */
static const char *const atomic_maps[] = {
    "io.k8s.api.core.v1.PodSpec nodeSelector",
    "io.k8s.api.core.v1.ReplicationControllerSpec selector",
    "io.k8s.api.core.v1.ServiceSpec selector",
    "io.k8s.api.node.v1.Scheduling nodeSelector",
};

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool atomic_struct(const struct kube_type *t)
{
    const char *name = t->name;
    return bsearch(&name, atomic_structs, sizeof atomic_structs / sizeof *atomic_structs,
                   sizeof *atomic_structs, str_cmp) != NULL;
}

static bool atomic_map(const struct kube_type *owner, const struct kube_field *f)
{
    size_t on = strlen(owner->name);
    for (size_t i = 0; i < sizeof atomic_maps / sizeof *atomic_maps; i++) {
        const char *s = atomic_maps[i];
        if (!strncmp(s, owner->name, on) && s[on] == ' ' && !strcmp(s + on + 1, f->name))
            return true;
    }
    return false;
}

/* What Kubernetes' OpenAPI-to-smd conversion makes of a list: its
 * x-kubernetes-list-type, else "merge" patch strategy makes it keyed (with
 * the merge key) or a set (of scalars), else atomic. */
static enum shape_kind list_kind(const struct kube_field *f)
{
    const char *lt = f->list_type;
    if (lt && !strcmp(lt, "atomic"))
        return SH_ATOMIC_LIST;
    if (lt && !strcmp(lt, "set"))
        return SH_SET_LIST;
    if (lt && !strcmp(lt, "map"))
        return f->list_map_keys[0] || f->patch_merge_key ? SH_KEYED_LIST : SH_ATOMIC_LIST;
    if (f->patch_strategy && strstr(f->patch_strategy, "merge")) {
        if (f->vtype != KUBE_V_OBJECT)
            return SH_SET_LIST;
        if (f->patch_merge_key)
            return SH_KEYED_LIST;
    }
    return SH_ATOMIC_LIST;
}

static struct shape shape_of_field(const struct kube_type *owner, const struct kube_field *f)
{
    struct shape s = {SH_LEAF, NULL, f, false};
    if (f->repeated) {
        s.kind = list_kind(f);
        s.type = f->type;
    } else if (f->map) {
        if (!atomic_map(owner, f))
            s.kind = SH_MAP;
    } else if (f->vtype == KUBE_V_OBJECT && f->type && !atomic_struct(f->type)) {
        s.kind = SH_STRUCT;
        s.type = f->type;
    }
    return s;
}

/* The shape of member `name` of a struct or map; unknown fields are leaves. */
struct shape ka_shape_child(const struct shape *sh, const char *name)
{
    struct shape s = {SH_LEAF, NULL, NULL, false};
    if (sh->kind == SH_STRUCT && sh->type) {
        const struct kube_field *f = kube_type_field(sh->type, name);
        if (f)
            return shape_of_field(sh->type, f);
    }
    return s;
}

struct shape ka_shape_elem(const struct shape *list)
{
    struct shape s = {SH_LEAF, NULL, list->field, true};
    if (list->kind == SH_KEYED_LIST && list->type && !atomic_struct(list->type)) {
        s.kind = SH_STRUCT;
        s.type = list->type;
    }
    return s;
}

bool ka_is_granular(const struct shape *sh)
{
    return sh->kind == SH_STRUCT || sh->kind == SH_MAP || sh->kind == SH_KEYED_LIST ||
           sh->kind == SH_SET_LIST;
}

/* Whether v (NULL: absent) has the JSON type the shape walks into. */
bool ka_shape_fits(const struct shape *sh, json_t *v)
{
    if (!v)
        return true;
    if (sh->kind == SH_STRUCT || sh->kind == SH_MAP)
        return json_is_object(v);
    if (sh->kind == SH_KEYED_LIST || sh->kind == SH_SET_LIST)
        return json_is_array(v);
    return true;
}

bool ka_container_empty(json_t *v)
{
    return !v || json_is_null(v) || (json_is_object(v) && !json_object_size(v)) ||
           (json_is_array(v) && !json_array_size(v));
}

/* Whether a container's own path is added or removed when it appears or
 * disappears. Kubernetes compares Go objects, where non-pointer structs
 * are always there and lists and maps without omitempty are null rather
 * than absent; so within an object only list elements and optional lists
 * and maps count, but inside a list element that appeared or went
 * (`gone`) everything does. */
bool ka_tracks_presence(const struct shape *sh, bool gone)
{
    if (sh->elem || gone)
        return true;
    if (sh->kind == SH_STRUCT)
        return false;
    return sh->field && !sh->field->required;
}

/* The key fields of a keyed list, and the defaults smd takes from the
 * OpenAPI schema when an element omits one (+default markers on keys). */
static size_t list_keys(const struct kube_field *f, const char **keys)
{
    size_t n = 0;
    if (f->list_type && !strcmp(f->list_type, "map"))
        while (n < 4 && f->list_map_keys[n]) {
            keys[n] = f->list_map_keys[n];
            n++;
        }
    if (!n && f->patch_merge_key)
        keys[n++] = f->patch_merge_key;
    return n;
}

static json_t *key_default(const struct kube_type *elem, const char *key)
{
    if (!strcmp(key, "protocol"))
        return json_string("TCP");
    if (elem && !strcmp(elem->name, "io.k8s.api.core.v1.LocalObjectReference") &&
        !strcmp(key, "name"))
        return json_string("");
    return NULL;
}

/* ---- values: Go's JSON encoding, smd's ordering and equality ---- */

static int strp_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object, sorted; buf when it is large enough, else
 * malloc'd (the caller frees what is not buf). */
static const char **sorted_keys(json_t *o, const char **buf, size_t cap, size_t *n)
{
    *n = json_object_size(o);
    const char **k = *n <= cap ? buf : xmalloc(*n * sizeof *k);
    size_t i = 0;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) k[i++] = key;
    if (*n > cap) {
        qsort(k, *n, sizeof *k, strp_cmp);
        return k;
    }
    for (size_t a = 1; a < *n; a++) /* list keys: one or two names */
        for (size_t b = a; b > 0 && strcmp(k[b - 1], k[b]) > 0; b--) {
            const char *t = k[b];
            k[b] = k[b - 1];
            k[b - 1] = t;
        }
    return k;
}

static void fmt_real(char *buf, size_t n, double d)
{
    if (d > -1e15 && d < 1e15 && d == (double)(long long)d) {
        snprintf(buf, n, "%.0f", d);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* A JSON string as Go's encoding/json writes it (HTML characters escaped). */
void ka_go_quote(struct ubuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ubuf_append(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7] = {0};
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2);
        } else if (c == '\r') {
            memcpy(esc, "\\r", 2);
        } else if (c == '\t') {
            memcpy(esc, "\\t", 2);
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        } else if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
            memcpy(esc, (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
            ubuf_append(b, s + i - run, run);
            run = 0;
            ubuf_append(b, esc, 6);
            i += 2;
            continue;
        } else {
            run++;
            continue;
        }
        ubuf_append(b, s + i - run, run);
        run = 0;
        ubuf_append(b, esc, strlen(esc));
    }
    ubuf_append(b, s + n - run, run);
    ubuf_append(b, "\"", 1);
}

/* v as Go's encoding/json writes it: compact, keys sorted. */
void ka_go_json(struct ubuf *b, json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *buf[8];
        size_t n;
        const char **k = sorted_keys(v, buf, 8, &n);
        ubuf_append(b, "{", 1);
        for (size_t i = 0; i < n; i++) {
            if (i)
                ubuf_append(b, ",", 1);
            ka_go_quote(b, k[i], strlen(k[i]));
            ubuf_append(b, ":", 1);
            ka_go_json(b, json_object_get(v, k[i]));
        }
        ubuf_append(b, "}", 1);
        if (k != buf)
            free(k);
        break;
    }
    case JSON_ARRAY:
        ubuf_append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                ubuf_append(b, ",", 1);
            ka_go_json(b, json_array_get(v, i));
        }
        ubuf_append(b, "]", 1);
        break;
    case JSON_STRING:
        ka_go_quote(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        ubuf_appendf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        fmt_real(num, sizeof num, json_real_value(v));
        ubuf_appendf(b, "%s", num);
        break;
    case JSON_TRUE:
        ubuf_append(b, "true", 4);
        break;
    case JSON_FALSE:
        ubuf_append(b, "false", 5);
        break;
    case JSON_NULL:
        ubuf_append(b, "null", 4);
        break;
    }
}

/* smd's value.ToString, for field paths in conflict messages. */
void ka_go_tostring(struct ubuf *b, json_t *v)
{
    char num[64];
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        ubuf_append(b, "\"", 1);
        for (size_t i = 0; i < json_string_length(v); i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '"' || c == '\\')
                ubuf_appendf(b, "\\%c", c);
            else if (c == '\n')
                ubuf_append(b, "\\n", 2);
            else if (c == '\t')
                ubuf_append(b, "\\t", 2);
            else if (c == '\r')
                ubuf_append(b, "\\r", 2);
            else if (c < 0x20 || c == 0x7f)
                ubuf_appendf(b, "\\x%02x", c);
            else
                ubuf_append(b, s + i, 1);
        }
        ubuf_append(b, "\"", 1);
        break;
    }
    case JSON_REAL:
        fmt_real(num, sizeof num, json_real_value(v));
        ubuf_appendf(b, "%s", num);
        break;
    case JSON_ARRAY:
        ubuf_append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                ubuf_append(b, ",", 1);
            ka_go_tostring(b, json_array_get(v, i));
        }
        ubuf_append(b, "]", 1);
        break;
    case JSON_OBJECT: {
        const char *buf[8];
        size_t n;
        const char **k = sorted_keys(v, buf, 8, &n);
        for (size_t i = 0; i < n; i++) {
            ubuf_appendf(b, "%s=", k[i]);
            ka_go_tostring(b, json_object_get(v, k[i]));
        }
        if (k != buf)
            free(k);
        break;
    }
    default:
        ka_go_json(b, v);
    }
}

/* smd's total order on values: numbers, strings, booleans, lists, maps, null. */
static int value_rank(json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_INTEGER:
    case JSON_REAL:
        return 0;
    case JSON_STRING:
        return 1;
    case JSON_TRUE:
    case JSON_FALSE:
        return 2;
    case JSON_ARRAY:
        return 3;
    case JSON_OBJECT:
        return 4;
    default:
        return 5;
    }
}

static int object_cmp(json_t *a, json_t *b)
{
    const char *ba[8], *bb[8];
    size_t na, nb;
    const char **ka = sorted_keys(a, ba, 8, &na), **kb = sorted_keys(b, bb, 8, &nb);
    int c = 0;
    for (size_t i = 0; !c && i < na && i < nb; i++) {
        c = strcmp(ka[i], kb[i]);
        if (!c)
            c = ka_value_cmp(json_object_get(a, ka[i]), json_object_get(b, kb[i]));
    }
    if (!c && na != nb)
        c = na < nb ? -1 : 1;
    if (ka != ba)
        free(ka);
    if (kb != bb)
        free(kb);
    return c;
}

int ka_value_cmp(json_t *a, json_t *b)
{
    int ra = value_rank(a), rb = value_rank(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    switch (ra) {
    case 0:
        if (json_is_integer(a) && json_is_integer(b)) {
            json_int_t x = json_integer_value(a), y = json_integer_value(b);
            return (x > y) - (x < y);
        } else {
            double x = json_number_value(a), y = json_number_value(b);
            return (x > y) - (x < y);
        }
    case 1:
        return strcmp(json_string_value(a), json_string_value(b));
    case 2:
        return (int)json_is_true(a) - (int)json_is_true(b);
    case 3:
        for (size_t i = 0; i < json_array_size(a) && i < json_array_size(b); i++) {
            int c = ka_value_cmp(json_array_get(a, i), json_array_get(b, i));
            if (c)
                return c;
        }
        return (json_array_size(a) > json_array_size(b)) - (json_array_size(a) < json_array_size(b));
    case 4:
        return object_cmp(a, b);
    default:
        return 0;
    }
}

/* Deep equality, numbers compared by value (1 == 1.0) as smd does. */
bool ka_val_equal(json_t *a, json_t *b)
{
    if (a == b)
        return true;
    if (!a || !b)
        return false;
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v) {
            if (!ka_val_equal(v, json_object_get(b, k)))
                return false;
        }
        return true;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!ka_val_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

/* ---- path elements and list indexes ---- */

/* A path element as smd's PathElement.String prints it: .name, [k=v,...],
 * [=v], [i]. key is the serialised element ("f:name" for fields). */
void ka_pe_print(struct ubuf *b, enum pe_kind kind, const char *key, json_t *val)
{
    switch (kind) {
    case PE_FIELD:
        ubuf_appendf(b, ".%s", key + 2);
        break;
    case PE_KEY: {
        const char *buf[8];
        size_t n;
        const char **k = sorted_keys(val, buf, 8, &n);
        ubuf_append(b, "[", 1);
        for (size_t i = 0; i < n; i++) {
            ubuf_appendf(b, "%s%s=", i ? "," : "", k[i]);
            ka_go_tostring(b, json_object_get(val, k[i]));
        }
        ubuf_append(b, "]", 1);
        if (k != buf)
            free(k);
        break;
    }
    case PE_VALUE:
        ubuf_append(b, "[=", 2);
        ka_go_tostring(b, val);
        ubuf_append(b, "]", 1);
        break;
    case PE_INDEX:
        ubuf_appendf(b, "[%" JSON_INTEGER_FORMAT "]", json_integer_value(val));
        break;
    }
}

/* The path element of a list item: "k:{...}" (with *val its key fields)
 * for keyed lists, "v:<json>" (with *val the item) for sets. NULL when a
 * keyed item is not an object or lacks a key without default; *missing
 * then names the key ("" for a non-object). */
static char *item_pe(const struct shape *list, json_t *item, json_t **val, const char **missing)
{
    struct ubuf b = {0};
    *val = NULL;
    if (list->kind == SH_SET_LIST) {
        ubuf_append(&b, "v:", 2);
        ka_go_json(&b, item);
        *val = json_incref(item);
        return b.data;
    }
    const char *keys[4];
    size_t n = list_keys(list->field, keys);
    if (!json_is_object(item)) {
        *missing = "";
        return NULL;
    }
    json_t *kv = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(item, keys[i]);
        if (v && !json_is_null(v)) {
            json_object_set(kv, keys[i], v);
            continue;
        }
        json_t *d = key_default(list->type, keys[i]);
        if (!d) {
            *missing = keys[i];
            json_decref(kv);
            return NULL;
        }
        json_object_set_new(kv, keys[i], d);
    }
    ubuf_append(&b, "k:", 2);
    ka_go_json(&b, kv);
    *val = kv;
    return b.data;
}

static uint64_t str_hash(const char *s)
{
    return util_hash_str(UTIL_HASH_SEED, s);
}

size_t ka_lindex_find(const struct lindex *ix, const char *key)
{
    if (!ix->cap || !key)
        return NONE;
    for (size_t h = (size_t)str_hash(key) & (ix->cap - 1);; h = (h + 1) & (ix->cap - 1)) {
        size_t s = ix->slot[h];
        if (!s)
            return NONE;
        if (!strcmp(ix->key[s - 1], key))
            return s - 1;
    }
}

static void lindex_insert(struct lindex *ix, size_t i)
{
    for (size_t h = (size_t)str_hash(ix->key[i]) & (ix->cap - 1);; h = (h + 1) & (ix->cap - 1)) {
        size_t s = ix->slot[h];
        if (!s) {
            ix->slot[h] = i + 1;
            return;
        }
        if (!strcmp(ix->key[s - 1], ix->key[i])) {
            size_t f = s - 1, t = f;
            while (ix->next[t] != NONE)
                t = ix->next[t];
            ix->next[t] = i;
            ix->first[i] = f;
            ix->dup[i] = ix->dup[f] = ix->any_dup = true;
            return;
        }
    }
}

void ka_lindex_free(struct lindex *ix)
{
    for (size_t i = 0; i < ix->n; i++) {
        free(ix->key[i]);
        json_decref(ix->val[i]);
    }
    free(ix->key);
    free(ix->val);
    free(ix->first);
    free(ix->next);
    free(ix->dup);
    free(ix->slot);
    memset(ix, 0, sizeof *ix);
}

/* Indexes arr (NULL: empty). With e, an item without a path element is
 * an error reported at path fr, as smd reports it; without, it is left
 * unindexed. */
int ka_lindex_build(struct lindex *ix, const struct shape *list, json_t *arr,
                    const struct frame *fr, struct aerr *e)
{
    memset(ix, 0, sizeof *ix);
    ix->n = json_is_array(arr) ? json_array_size(arr) : 0;
    if (!ix->n)
        return 0;
    ix->key = xcalloc(ix->n, sizeof *ix->key);
    ix->val = xcalloc(ix->n, sizeof *ix->val);
    ix->first = xmalloc(ix->n * sizeof *ix->first);
    ix->next = xmalloc(ix->n * sizeof *ix->next);
    ix->dup = xcalloc(ix->n, sizeof *ix->dup);
    for (ix->cap = 8; ix->cap < 2 * ix->n; ix->cap *= 2)
        ;
    ix->slot = xcalloc(ix->cap, sizeof *ix->slot);
    for (size_t i = 0; i < ix->n; i++) {
        const char *missing = NULL;
        ix->first[i] = i;
        ix->next[i] = NONE;
        ix->key[i] = item_pe(list, json_array_get(arr, i), &ix->val[i], &missing);
        if (ix->key[i]) {
            lindex_insert(ix, i);
        } else if (e) {
            struct ubuf p = {0};
            fs_frame_path(fr, &p);
            if (*missing)
                ka_aerr_set(e,
                            "%s: element %zu: associative list with keys has an element that omits "
                            "key field \"%s\" (and doesn't have default value)",
                            p.data ? p.data : "", i, missing);
            else
                ka_aerr_set(e, "%s: element %zu: expected an object", p.data ? p.data : "", i);
            ubuf_free(&p);
            ka_lindex_free(ix);
            return -1;
        }
    }
    return 0;
}

