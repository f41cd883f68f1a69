/* apply.c — server-side apply and managed fields (metadata.managedFields).
 *
 * What it is for. Kubernetes records in every object which fields each
 * "manager" (kubectl, a controller, ...) owns. Server-side apply uses that
 * record to merge a partial configuration into the live object, to delete
 * what an applier stopped applying, and to refuse changes to fields other
 * managers own unless forced; every other write moves the fields it changes
 * to its manager. This file does what sigs.k8s.io/structured-merge-diff v4
 * (merge/update.go, typed/) and k8s.io/apimachinery's managedfields package
 * do for built-in types, with list and map semantics read from the
 * generated schema (kube.h).
 *
 * How it works. A field set is a tree of path elements (struct fnode):
 * "f:<name>" for struct fields and map keys, "k:{...}" for elements of
 * keyed ("map") lists, "v:<json>" for elements of sets; a node is a
 * member when its own path is in the set ("." in FieldsV1). Children stay
 * in smd's order (fields, then keys, then values; keys and values compared
 * as typed values), so union, difference and intersection are linear
 * merges and FieldsV1 comes out byte for byte as Kubernetes writes it.
 * Four walks over JSON, guided by the schema (struct shape), do the work:
 * set_walk (the fields a configuration sets), cmp_walk (what was added,
 * modified or removed between two objects), merge_val (configuration onto
 * live) and prune_walk (delete what an applier gave up). Lists are indexed
 * by a hash of their elements' path elements, so each walk is linear in
 * the size of the object (plus sorting the sets).
 *
 * Apply = merge; the applier's set becomes the configuration's; prune;
 * compare live with the result: fields another manager owns that were
 * added or changed are conflicts (with force they move to the applier),
 * removed fields leave every set. Update = compare old with new; what
 * changed moves to the manager. Both drop identity fields (apiVersion,
 * kind, metadata.name, ...) from the writer's set, ignore status on the
 * main resource and spec on /status (the registry resets those), and
 * write one managedFields entry per (manager, operation, subresource, and
 * for Update the apiVersion), sorted as Kubernetes sorts them. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

#define NONE SIZE_MAX
#define MAX_UPDATE_MANAGERS 10 /* Kubernetes' DefaultMaxUpdateManagers */
#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define OBJECT_META "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

/* ---- errors ---- */

struct aerr {
    char *buf;
    size_t len;
    bool set;
};

static void aerr_set(struct aerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void aerr_set(struct aerr *e, const char *fmt, ...)
{
    if (!e || e->set)
        return;
    e->set = true;
    if (!e->buf || !e->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->buf, e->len, fmt, ap);
    va_end(ap);
}

/* ---- shapes: how the value at a path merges, from the schema ---- */

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
static struct shape shape_child(const struct shape *sh, const char *name)
{
    struct shape s = {SH_LEAF, NULL, NULL, false};
    if (sh->kind == SH_STRUCT && sh->type) {
        const struct kube_field *f = kube_type_field(sh->type, name);
        if (f)
            return shape_of_field(sh->type, f);
    }
    return s;
}

static struct shape shape_elem(const struct shape *list)
{
    struct shape s = {SH_LEAF, NULL, list->field, true};
    if (list->kind == SH_KEYED_LIST && list->type && !atomic_struct(list->type)) {
        s.kind = SH_STRUCT;
        s.type = list->type;
    }
    return s;
}

static bool is_granular(const struct shape *sh)
{
    return sh->kind == SH_STRUCT || sh->kind == SH_MAP || sh->kind == SH_KEYED_LIST ||
           sh->kind == SH_SET_LIST;
}

/* Whether v (NULL: absent) has the JSON type the shape walks into. */
static bool shape_fits(const struct shape *sh, json_t *v)
{
    if (!v)
        return true;
    if (sh->kind == SH_STRUCT || sh->kind == SH_MAP)
        return json_is_object(v);
    if (sh->kind == SH_KEYED_LIST || sh->kind == SH_SET_LIST)
        return json_is_array(v);
    return true;
}

static bool container_empty(json_t *v)
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
static bool tracks_presence(const struct shape *sh, bool gone)
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
static void go_quote(struct ubuf *b, const char *s, size_t n)
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
static void go_json(struct ubuf *b, json_t *v)
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
            go_quote(b, k[i], strlen(k[i]));
            ubuf_append(b, ":", 1);
            go_json(b, json_object_get(v, k[i]));
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
            go_json(b, json_array_get(v, i));
        }
        ubuf_append(b, "]", 1);
        break;
    case JSON_STRING:
        go_quote(b, json_string_value(v), json_string_length(v));
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
static void go_tostring(struct ubuf *b, json_t *v)
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
            go_tostring(b, json_array_get(v, i));
        }
        ubuf_append(b, "]", 1);
        break;
    case JSON_OBJECT: {
        const char *buf[8];
        size_t n;
        const char **k = sorted_keys(v, buf, 8, &n);
        for (size_t i = 0; i < n; i++) {
            ubuf_appendf(b, "%s=", k[i]);
            go_tostring(b, json_object_get(v, k[i]));
        }
        if (k != buf)
            free(k);
        break;
    }
    default:
        go_json(b, v);
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

static int value_cmp(json_t *a, json_t *b);

static int object_cmp(json_t *a, json_t *b)
{
    const char *ba[8], *bb[8];
    size_t na, nb;
    const char **ka = sorted_keys(a, ba, 8, &na), **kb = sorted_keys(b, bb, 8, &nb);
    int c = 0;
    for (size_t i = 0; !c && i < na && i < nb; i++) {
        c = strcmp(ka[i], kb[i]);
        if (!c)
            c = value_cmp(json_object_get(a, ka[i]), json_object_get(b, kb[i]));
    }
    if (!c && na != nb)
        c = na < nb ? -1 : 1;
    if (ka != ba)
        free(ka);
    if (kb != bb)
        free(kb);
    return c;
}

static int value_cmp(json_t *a, json_t *b)
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
            int c = value_cmp(json_array_get(a, i), json_array_get(b, i));
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
static bool val_equal(json_t *a, json_t *b)
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
            if (!val_equal(v, json_object_get(b, k)))
                return false;
        }
        return true;
    }
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!val_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

/* ---- path elements and list indexes ---- */

/* In smd's order: a node's field children sort before its keyed elements,
 * which sort before set values. */
enum pe_kind { PE_FIELD, PE_KEY, PE_VALUE, PE_INDEX };

/* A path element as smd's PathElement.String prints it: .name, [k=v,...],
 * [=v], [i]. key is the serialised element ("f:name" for fields). */
static void pe_print(struct ubuf *b, enum pe_kind kind, const char *key, json_t *val)
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
            go_tostring(b, json_object_get(val, k[i]));
        }
        ubuf_append(b, "]", 1);
        if (k != buf)
            free(k);
        break;
    }
    case PE_VALUE:
        ubuf_append(b, "[=", 2);
        go_tostring(b, val);
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
        go_json(&b, item);
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
    go_json(&b, kv);
    *val = kv;
    return b.data;
}

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

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static size_t lindex_find(const struct lindex *ix, const char *key)
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

static void lindex_free(struct lindex *ix)
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

struct frame;
static void frame_path(const struct frame *f, struct ubuf *b);

/* Indexes arr (NULL: empty). With e, an item without a path element is
 * an error reported at path fr, as smd reports it; without, it is left
 * unindexed. */
static int lindex_build(struct lindex *ix, const struct shape *list, json_t *arr,
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
            frame_path(fr, &p);
            if (*missing)
                aerr_set(e,
                         "%s: element %zu: associative list with keys has an element that omits "
                         "key field \"%s\" (and doesn't have default value)",
                         p.data ? p.data : "", i, missing);
            else
                aerr_set(e, "%s: element %zu: expected an object", p.data ? p.data : "", i);
            ubuf_free(&p);
            lindex_free(ix);
            return -1;
        }
    }
    return 0;
}

/* ---- field sets ---- */

struct fnode {
    char *key;          /* the serialised path element; NULL at the root */
    enum pe_kind kind;
    json_t *val;        /* PE_KEY: the key fields; PE_VALUE: the value; PE_INDEX: the index */
    bool member;        /* this path itself is in the set */
    struct fnode **kid; /* sorted by pe_cmp once the set is finished */
    size_t n, cap;
};

static struct fnode *fnode_new(enum pe_kind kind, char *key, json_t *val)
{
    struct fnode *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->key = key;
    n->val = val;
    return n;
}

static void fnode_free(struct fnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++)
        fnode_free(n->kid[i]);
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
    return fnode_new(n->kind, n->key ? xstrdup(n->key) : NULL, n->val ? json_incref(n->val) : NULL);
}

static struct fnode *fnode_copy(const struct fnode *n)
{
    struct fnode *c = fnode_head(n);
    c->member = n->member;
    for (size_t i = 0; i < n->n; i++)
        fnode_push(c, fnode_copy(n->kid[i]));
    return c;
}

static int pe_cmp(const struct fnode *a, const struct fnode *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    int c = a->kind == PE_FIELD ? 0 : value_cmp(a->val, b->val);
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
            fnode_free(b);
        }
        n->n = w;
    }
    size_t w = 0;
    for (size_t i = 0; i < n->n; i++) {
        if (fset_finish(n->kid[i]))
            fnode_free(n->kid[i]);
        else
            n->kid[w++] = n->kid[i];
    }
    n->n = w;
    return !n->member && !n->n;
}

/* A finished set, or NULL (the empty set). */
static struct fnode *fset_done(struct fnode *root)
{
    if (root && fset_finish(root)) {
        fnode_free(root);
        return NULL;
    }
    return root;
}

/* The child of n matching k, moving *j forward through n's children;
 * calls must come in the children's order. */
static const struct fnode *match_kid(const struct fnode *n, size_t *j, const struct fnode *k)
{
    if (!n)
        return NULL;
    while (*j < n->n && pe_cmp(n->kid[*j], k) < 0)
        (*j)++;
    return *j < n->n && !pe_cmp(n->kid[*j], k) ? n->kid[*j] : NULL;
}

/* The field child "f:name" of n, or NULL. */
static struct fnode *field_kid(const struct fnode *n, const char *name, size_t *at)
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

static struct fnode *fset_union(const struct fnode *a, const struct fnode *b)
{
    if (!a || !b)
        return a ? fnode_copy(a) : b ? fnode_copy(b) : NULL;
    struct fnode *o = fnode_head(a);
    o->member = a->member || b->member;
    size_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        int c = i >= a->n ? 1 : j >= b->n ? -1 : pe_cmp(a->kid[i], b->kid[j]);
        if (c < 0)
            fnode_push(o, fnode_copy(a->kid[i++]));
        else if (c > 0)
            fnode_push(o, fnode_copy(b->kid[j++]));
        else
            fnode_push(o, fset_union(a->kid[i++], b->kid[j++]));
    }
    return o;
}

/* a without b's members; NULL when nothing is left. */
static struct fnode *fset_diff(const struct fnode *a, const struct fnode *b)
{
    if (!a)
        return NULL;
    if (!b)
        return fnode_copy(a);
    struct fnode *o = fnode_head(a);
    o->member = a->member && !b->member;
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct fnode *bk = match_kid(b, &j, a->kid[i]);
        struct fnode *d = bk ? fset_diff(a->kid[i], bk) : fnode_copy(a->kid[i]);
        if (d)
            fnode_push(o, d);
    }
    if (!o->member && !o->n) {
        fnode_free(o);
        return NULL;
    }
    return o;
}

/* The members in both; NULL when none. */
static struct fnode *fset_inter(const struct fnode *a, const struct fnode *b)
{
    if (!a || !b)
        return NULL;
    struct fnode *o = fnode_head(a);
    o->member = a->member && b->member;
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct fnode *bk = match_kid(b, &j, a->kid[i]);
        struct fnode *d = bk ? fset_inter(a->kid[i], bk) : NULL;
        if (d)
            fnode_push(o, d);
    }
    if (!o->member && !o->n) {
        fnode_free(o);
        return NULL;
    }
    return o;
}

/* Replaces *s by *s minus b. */
static void fset_subtract(struct fnode **s, const struct fnode *b)
{
    if (!*s || !b)
        return;
    struct fnode *d = fset_diff(*s, b);
    fnode_free(*s);
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
        go_json(&b, *val);
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
        struct fnode *c = fnode_push(n, fnode_new(kind, key, val));
        if (fset_parse_into(c, v) < 0)
            return -1;
        if (!c->n) /* smd: a path with no children is a member */
            c->member = true;
    }
    return 0;
}

/* A FieldsV1 object as a set (*out NULL when empty); -1 when malformed. */
static int fset_parse(json_t *fields, struct fnode **out)
{
    *out = NULL;
    if (!fields || json_is_null(fields))
        return 0;
    if (!json_is_object(fields))
        return -1;
    struct fnode *root = fnode_new(PE_FIELD, NULL, NULL);
    if (fset_parse_into(root, fields) < 0) {
        fnode_free(root);
        return -1;
    }
    root->member = false;
    *out = fset_done(root);
    return 0;
}

/* The set as FieldsV1: children in order, "." first when a node is both a
 * member and a parent. */
static json_t *fset_emit(const struct fnode *n, bool self)
{
    json_t *o = json_object();
    if (self && n->member && n->n)
        json_object_set_new(o, ".", json_object());
    for (size_t i = 0; n && i < n->n; i++) {
        const struct fnode *k = n->kid[i];
        json_object_set_new(o, k->key, k->n ? fset_emit(k, true) : json_object());
    }
    return o;
}

/* Calls fn with every member's path, in smd's order (a level's members,
 * then its children's subtrees). */
static void fset_paths(const struct fnode *n, struct ubuf *path,
                       void (*fn)(void *arg, const char *path), void *arg)
{
    size_t base = path->len;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n->n; i++) {
            const struct fnode *k = n->kid[i];
            if (pass == 0 ? !k->member : !k->n)
                continue;
            pe_print(path, k->kind, k->key, k->val);
            if (pass == 0)
                fn(arg, path->data);
            else
                fset_paths(k, path, fn, arg);
            path->len = base;
            path->data[base] = '\0';
        }
}

/* ---- walking JSON and building sets ---- */

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
        f->at[which] = fnode_push(parent, fnode_new(f->kind, key, f->val ? json_incref(f->val) : NULL));
    }
    return f->at[which];
}

static void frame_mark(struct frame *f, int which)
{
    frame_node(f, which)->member = true;
}

static void frame_path(const struct frame *f, struct ubuf *b)
{
    if (!f || !f->up)
        return;
    frame_path(f->up, b);
    if (f->kind == PE_FIELD)
        ubuf_appendf(b, ".%s", f->name);
    else
        pe_print(b, f->kind, f->name, f->val);
}

/* -- the fields a value sets (smd's ToFieldSet) -- */

static int set_walk(struct frame *fr, const struct shape *sh, json_t *v, struct aerr *e);

static int set_walk_items(struct frame *fr, const struct shape *sh, json_t *v, struct aerr *e)
{
    struct lindex ix;
    if (lindex_build(&ix, sh, v, fr, e))
        return -1;
    struct shape es = shape_elem(sh);
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
            rc = set_walk(&ef, &es, json_array_get(v, i), e);
        frame_mark(&ef, 0);
    }
    lindex_free(&ix);
    return rc;
}

static int set_walk(struct frame *fr, const struct shape *sh, json_t *v, struct aerr *e)
{
    if (!shape_fits(sh, v) || !is_granular(sh)) {
        frame_mark(fr, 0);
        return 0;
    }
    if (sh->kind == SH_KEYED_LIST || sh->kind == SH_SET_LIST)
        return set_walk_items(fr, sh, v, e);
    const char *k;
    json_t *cv;
    json_object_foreach(v, k, cv) {
        struct shape cs = shape_child(sh, k);
        struct frame cf = FIELD_FRAME(fr, k);
        /* smd: null and {} values, and map keys, own their own path */
        if (json_is_null(cv) || (json_is_object(cv) && !json_object_size(cv)) || !cs.field ||
            sh->kind == SH_MAP)
            frame_mark(&cf, 0);
        if (!json_is_null(cv) && set_walk(&cf, &cs, cv, e))
            return -1;
    }
    return 0;
}

/* -- what changed between two values (smd's Compare) -- */

enum { ADDED, MODIFIED, REMOVED };

static void cmp_walk(struct frame *fr, const struct shape *sh, json_t *l, json_t *r, bool gone);

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
            struct shape cs = shape_child(sh, k);
            struct frame cf = FIELD_FRAME(fr, k);
            cmp_walk(&cf, &cs, v, r ? json_object_get(r, k) : NULL, gone);
        }
    if (r)
        json_object_foreach(r, k, v) {
            if ((l && json_object_get(l, k)) || skip_field(sh, k))
                continue;
            struct shape cs = shape_child(sh, k);
            struct frame cf = FIELD_FRAME(fr, k);
            cmp_walk(&cf, &cs, NULL, v, gone);
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
    while (a != NONE && b != NONE && val_equal(json_array_get(l, a), json_array_get(r, b))) {
        a = li->next[a];
        b = ri->next[b];
    }
    if (a != NONE || b != NONE)
        frame_mark(ef, MODIFIED);
}

static void cmp_items(struct frame *fr, const struct shape *sh, json_t *l, json_t *r, bool gone)
{
    struct lindex li, ri;
    lindex_build(&li, sh, l, NULL, NULL);
    lindex_build(&ri, sh, r, NULL, NULL);
    struct shape es = shape_elem(sh);
    enum pe_kind kind = sh->kind == SH_KEYED_LIST ? PE_KEY : PE_VALUE;
    for (size_t i = 0; i < li.n; i++) {
        if (!li.key[i] || li.first[i] != i)
            continue;
        size_t j = lindex_find(&ri, li.key[i]);
        struct frame ef = ITEM_FRAME(fr, kind, li.key[i], li.val[i]);
        if (li.dup[i] || (j != NONE && ri.dup[j]))
            cmp_repeated(&ef, &li, l, i, &ri, r, j);
        else
            cmp_walk(&ef, &es, json_array_get(l, i), j != NONE ? json_array_get(r, j) : NULL,
                     gone || j == NONE);
    }
    for (size_t j = 0; j < ri.n; j++) {
        if (!ri.key[j] || ri.first[j] != j || lindex_find(&li, ri.key[j]) != NONE)
            continue;
        struct frame ef = ITEM_FRAME(fr, kind, ri.key[j], ri.val[j]);
        if (ri.dup[j])
            frame_mark(&ef, ADDED);
        else
            cmp_walk(&ef, &es, NULL, json_array_get(r, j), true);
    }
    lindex_free(&li);
    lindex_free(&ri);
}

static void cmp_walk(struct frame *fr, const struct shape *sh, json_t *l, json_t *r, bool gone)
{
    if (json_is_null(l))
        l = NULL;
    if (json_is_null(r))
        r = NULL;
    if (!l && !r)
        return;
    if (!is_granular(sh) || !shape_fits(sh, l) || !shape_fits(sh, r) ||
        (container_empty(l) && container_empty(r))) {
        if (!l)
            frame_mark(fr, ADDED);
        else if (!r)
            frame_mark(fr, REMOVED);
        else if (!val_equal(l, r))
            frame_mark(fr, MODIFIED);
        return;
    }
    if ((!l || !r) && tracks_presence(sh, gone))
        frame_mark(fr, l ? REMOVED : ADDED);
    if (sh->kind == SH_STRUCT || sh->kind == SH_MAP)
        cmp_fields(fr, sh, l, r, gone);
    else
        cmp_items(fr, sh, l, r, gone);
}

/* -- a configuration merged onto a live value (smd's Merge, config wins) -- */

static int merge_val(const struct shape *sh, json_t **v, json_t *r, struct frame *fr,
                     struct aerr *e);

static int merge_fields(const struct shape *sh, json_t *l, json_t *r, struct frame *fr,
                        struct aerr *e)
{
    const char *k;
    json_t *rv;
    json_object_foreach(r, k, rv) {
        struct shape cs = shape_child(sh, k);
        struct frame cf = FIELD_FRAME(fr, k);
        json_t *cur = json_object_get(l, k);
        json_t *nv = cur ? json_incref(cur) : NULL;
        if (merge_val(&cs, &nv, rv, &cf, e)) {
            json_decref(nv);
            return -1;
        }
        if (nv)
            json_object_set_new(l, k, nv);
        else
            json_object_del(l, k);
    }
    return 0;
}

/* Appends to out the merge of live item lc (NULL: none) and config item rc. */
static int merge_item(json_t *out, const struct shape *es, json_t *lc, json_t *rc,
                      struct frame *ef, struct aerr *e)
{
    json_t *nv = lc ? json_incref(lc) : NULL;
    if (merge_val(es, &nv, rc, ef, e)) {
        json_decref(nv);
        return -1;
    }
    if (nv)
        json_array_append_new(out, nv);
    return 0;
}

/* Merges two associative lists in smd's order: live items keep their
 * places, items both have follow the configuration's order, new items
 * go where the configuration puts them. */
static int merge_items(const struct shape *sh, json_t **v, json_t *r, struct frame *fr,
                       struct aerr *e)
{
    json_t *l = *v;
    struct lindex li, ri;
    lindex_build(&li, sh, l, NULL, NULL);
    if (lindex_build(&ri, sh, r, fr, e)) {
        lindex_free(&li);
        return -1;
    }
    struct shape es = shape_elem(sh);
    enum pe_kind kind = sh->kind == SH_KEYED_LIST ? PE_KEY : PE_VALUE;
    int rc = 0;
    for (size_t j = 0; j < ri.n && ri.any_dup; j++)
        if (ri.dup[j]) {
            struct ubuf p = {0}, k = {0};
            frame_path(fr, &p);
            pe_print(&k, kind, ri.key[j], ri.val[j]);
            aerr_set(e, "%s: duplicate entries for key %s", p.data ? p.data : "", k.data);
            ubuf_free(&p);
            ubuf_free(&k);
            rc = -1;
            break;
        }
    size_t *shared = xmalloc((ri.n + 1) * sizeof *shared), ns = 0, sp = 0;
    bool *done = xcalloc(ri.n + 1, sizeof *done);
    for (size_t j = 0; j < ri.n; j++)
        if (lindex_find(&li, ri.key[j]) != NONE)
            shared[ns++] = j;
    size_t next = ns ? shared[0] : NONE;
    json_t *out = json_array();
    for (size_t i = 0, j = 0; !rc && (i < li.n || j < ri.n);) {
        if (i < li.n && j < ri.n) {
            const char *lk = li.key[i];
            if (lk && !strcmp(lk, ri.key[j])) {
                struct frame ef = ITEM_FRAME(fr, kind, ri.key[j], ri.val[j]);
                rc = merge_item(out, &es, li.dup[i] ? NULL : json_array_get(l, i),
                                json_array_get(r, j), &ef, e);
                done[j] = true;
                i++, j++;
                sp++;
                next = sp < ns ? shared[sp] : NONE;
                continue;
            }
            size_t rj = lindex_find(&ri, lk);
            if (rj != NONE && next != NONE && next != rj) { /* shared, placed later */
                i++;
                continue;
            }
        }
        if (i < li.n) {
            size_t rj = lindex_find(&ri, li.key[i]);
            if (rj == NONE) {
                json_array_append(out, json_array_get(l, i));
                i++;
                continue;
            }
            if (done[rj])
                i++;
        }
        if (j < ri.n) {
            size_t lj = lindex_find(&li, ri.key[j]);
            struct frame ef = ITEM_FRAME(fr, kind, ri.key[j], ri.val[j]);
            done[j] = true;
            rc = merge_item(out, &es, lj != NONE && !li.dup[lj] ? json_array_get(l, lj) : NULL,
                            json_array_get(r, j), &ef, e);
            if (next == j) {
                sp++;
                next = sp < ns ? shared[sp] : NONE;
            }
            j++;
        }
    }
    free(shared);
    free(done);
    lindex_free(&li);
    lindex_free(&ri);
    if (rc) {
        json_decref(out);
        return -1;
    }
    json_decref(*v);
    *v = out;
    return 0;
}

/* Merges config value r into *v (owned; NULL when absent). A null in the
 * configuration unsets the field. */
static int merge_val(const struct shape *sh, json_t **v, json_t *r, struct frame *fr,
                     struct aerr *e)
{
    if (!r)
        return 0;
    if (json_is_null(r)) {
        json_decref(*v);
        *v = NULL;
        return 0;
    }
    if (!is_granular(sh) || !shape_fits(sh, r)) {
        json_decref(*v);
        *v = json_deep_copy(r);
        return 0;
    }
    if (!*v || !shape_fits(sh, *v) || json_is_null(*v)) {
        json_decref(*v);
        *v = json_is_object(r) ? json_object() : json_array();
    }
    if (container_empty(*v) && container_empty(r)) {
        json_decref(*v);
        *v = json_deep_copy(r);
        return 0;
    }
    if (json_is_object(r))
        return merge_fields(sh, *v, r, fr, e);
    return merge_items(sh, v, r, fr, e);
}

/* -- removing what an applier gave up (smd's prune) --
 * An item of the applier's previous set `last` goes, with everything under
 * it, when no manager (the applier's new set included) owns it; struct
 * fields count as owned when anything under them is (smd's
 * EnsureNamedFieldsAreMembers). */

static bool is_named(const struct shape *sh, const char *name)
{
    return sh->kind == SH_STRUCT && sh->type && kube_type_field(sh->type, name);
}

static void prune_walk(json_t *v, const struct shape *sh, const struct fnode *last,
                       const struct fnode *owned);

static void prune_fields(json_t *v, const struct shape *sh, const struct fnode *last,
                         const struct fnode *owned)
{
    size_t j = 0;
    for (size_t i = 0; i < last->n && last->kid[i]->kind == PE_FIELD; i++) {
        const struct fnode *lk = last->kid[i], *ok = match_kid(owned, &j, lk);
        const char *name = lk->key + 2;
        json_t *cv = json_object_get(v, name);
        if (!cv)
            continue;
        bool named = is_named(sh, name);
        bool in_last = lk->member || (named && lk->n);
        bool in_owned = ok && (ok->member || (named && ok->n));
        if (in_last && !in_owned) {
            json_object_del(v, name);
            continue;
        }
        struct shape cs = shape_child(sh, name);
        if (!lk->n || !is_granular(&cs) || !shape_fits(&cs, cv) || container_empty(cv))
            continue;
        prune_walk(cv, &cs, lk, ok);
        if (container_empty(cv)) /* emptied: smd leaves null, Go omits it */
            json_object_del(v, name);
    }
}

static void prune_items(json_t *v, const struct shape *sh, const struct fnode *last,
                        const struct fnode *owned)
{
    struct lindex ix;
    lindex_build(&ix, sh, v, NULL, NULL);
    struct shape es = shape_elem(sh);
    bool *drop = xcalloc(ix.n + 1, sizeof *drop), any = false;
    size_t j = 0;
    for (size_t i = 0; i < last->n; i++) {
        const struct fnode *lk = last->kid[i], *ok = match_kid(owned, &j, lk);
        size_t at = lk->kind == PE_FIELD ? NONE : lindex_find(&ix, lk->key);
        if (at == NONE)
            continue;
        if (lk->member && !(ok && ok->member)) {
            for (size_t x = at; x != NONE; x = ix.next[x])
                drop[x] = any = true;
            continue;
        }
        if (lk->n && is_granular(&es))
            for (size_t x = at; x != NONE; x = ix.next[x])
                if (shape_fits(&es, json_array_get(v, x)))
                    prune_walk(json_array_get(v, x), &es, lk, ok);
    }
    if (any) {
        json_t *keep = json_array();
        for (size_t x = 0; x < ix.n; x++)
            if (!drop[x])
                json_array_append(keep, json_array_get(v, x));
        json_array_clear(v);
        json_array_extend(v, keep);
        json_decref(keep);
    }
    free(drop);
    lindex_free(&ix);
}

static void prune_walk(json_t *v, const struct shape *sh, const struct fnode *last,
                       const struct fnode *owned)
{
    if (sh->kind == SH_STRUCT || sh->kind == SH_MAP)
        prune_fields(v, sh, last, owned);
    else if (sh->kind == SH_KEYED_LIST || sh->kind == SH_SET_LIST)
        prune_items(v, sh, last, owned);
}

/* ---- the request: schema, subresource, version, clock ---- */

struct ctx {
    struct shape root;
    const char *sub;   /* "" for the main resource */
    const char *reset; /* the top-level field the registry resets: never owned */
    char gv[256];      /* the object's group/version */
    const char *now;
};

static void ctx_init(struct ctx *c, const struct kube_type *t, const char *sub, const char *now,
                     json_t *obj)
{
    memset(c, 0, sizeof *c);
    c->root.kind = SH_STRUCT;
    c->root.type = t;
    c->sub = sub ? sub : "";
    c->now = now;
    if (!c->sub[0])
        c->reset = "status";
    else if (!strcmp(c->sub, "status"))
        c->reset = "spec";
    if (t && t->version && t->version[0])
        snprintf(c->gv, sizeof c->gv, "%s%s%s", t->group ? t->group : "",
                 t->group && t->group[0] ? "/" : "", t->version);
    else if (json_is_string(json_object_get(obj, "apiVersion")))
        snprintf(c->gv, sizeof c->gv, "%s", json_string_value(json_object_get(obj, "apiVersion")));
}

/* Drops the reset field's subtree from a set (Kubernetes' ResetFields
 * filter): the main resource does not own status, /status not spec. */
static struct fnode *drop_reset(const struct ctx *c, struct fnode *s)
{
    size_t at;
    if (!s || !c->reset || !field_kid(s, c->reset, &at))
        return s;
    fnode_free(s->kid[at]);
    memmove(s->kid + at, s->kid + at + 1, (s->n - at - 1) * sizeof *s->kid);
    s->n--;
    return fset_done(s);
}

/* Drops what Kubernetes never records as owned (its stripMetaManager). */
static struct fnode *strip_identity(struct fnode *s)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata"};
    static const char *const meta[] = {"clusterName", "creationTimestamp", "generation",
                                       "managedFields", "name", "namespace",
                                       "resourceVersion", "selfLink", "uid"};
    if (!s)
        return NULL;
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
        struct fnode *k = field_kid(s, top[i], NULL);
        if (k)
            k->member = false;
    }
    struct fnode *m = field_kid(s, "metadata", NULL);
    for (size_t i = 0; m && i < sizeof meta / sizeof *meta; i++) {
        struct fnode *k = field_kid(m, meta[i], NULL);
        if (k)
            k->member = false;
    }
    return fset_done(s);
}

/* The fields value v sets; -1 on a list item without its key. */
static int fields_of(const struct ctx *c, json_t *v, struct fnode **out, struct aerr *e)
{
    struct fnode *root = fnode_new(PE_FIELD, NULL, NULL);
    struct frame fr = {NULL, PE_FIELD, NULL, NULL, {root, NULL, NULL}};
    *out = NULL;
    if (set_walk(&fr, &c->root, v, e)) {
        fnode_free(root);
        return -1;
    }
    root->member = false;
    *out = fset_done(root);
    return 0;
}

/* What changed from l to r: out[ADDED], out[MODIFIED], out[REMOVED]. */
static void compare(const struct ctx *c, json_t *l, json_t *r, struct fnode **out)
{
    struct fnode *roots[3];
    for (int i = 0; i < 3; i++)
        roots[i] = fnode_new(PE_FIELD, NULL, NULL);
    struct frame fr = {NULL, PE_FIELD, NULL, NULL, {roots[0], roots[1], roots[2]}};
    cmp_walk(&fr, &c->root, l, r, false);
    for (int i = 0; i < 3; i++) {
        roots[i]->member = false;
        out[i] = fset_done(roots[i]);
    }
}

/* A change as the field manager sees it: changed (added or modified) and
 * removed fields, without the reset field. */
struct change {
    struct fnode *changed, *removed;
};

static void change_compute(const struct ctx *c, json_t *old, json_t *new, struct change *ch)
{
    struct fnode *d[3];
    compare(c, old, new, d);
    ch->changed = drop_reset(c, fset_union(d[ADDED], d[MODIFIED]));
    ch->removed = drop_reset(c, d[REMOVED]);
    fnode_free(d[ADDED]);
    fnode_free(d[MODIFIED]);
}

static void change_free(struct change *ch)
{
    fnode_free(ch->changed);
    fnode_free(ch->removed);
}

/* ---- managers: metadata.managedFields decoded ---- */

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

static void mgrs_free(struct mgrs *ms)
{
    for (size_t i = 0; i < ms->n; i++) {
        struct mgr *m = &ms->v[i];
        free(m->manager);
        free(m->api_version);
        free(m->subresource);
        free(m->time);
        fnode_free(m->set);
    }
    free(ms->v);
    memset(ms, 0, sizeof *ms);
}

/* Kubernetes' manager identity: Apply entries are one per manager and
 * subresource whatever the version; Update entries one per version too. */
static bool mgr_is(const struct mgr *m, const char *manager, bool apply, const char *gv,
                   const char *sub)
{
    return m->apply == apply && !strcmp(m->manager, manager) && !strcmp(m->subresource, sub) &&
           (apply || !strcmp(m->api_version, gv));
}

/* The live entry (one that owns something) with this identity, or NONE. */
static size_t mgrs_find(const struct mgrs *ms, const char *manager, bool apply, const char *gv,
                        const char *sub)
{
    for (size_t i = 0; i < ms->n; i++)
        if (ms->v[i].set && mgr_is(&ms->v[i], manager, apply, gv, sub))
            return i;
    return NONE;
}

static size_t mgrs_add(struct mgrs *ms, const char *manager, bool apply, const char *gv,
                       const char *sub)
{
    size_t i = mgrs_find(ms, manager, apply, gv, sub);
    if (i != NONE)
        return i;
    if (ms->n == ms->cap) {
        ms->cap = ms->cap ? 2 * ms->cap : 4;
        ms->v = xrealloc(ms->v, ms->cap * sizeof *ms->v);
    }
    struct mgr *m = &ms->v[ms->n];
    memset(m, 0, sizeof *m);
    m->manager = xstrdup(manager);
    m->apply = apply;
    m->api_version = xstrdup(gv);
    m->subresource = xstrdup(sub);
    return ms->n++;
}

static const char *str_field(json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static int mgr_decode(struct mgrs *ms, json_t *en, size_t i, struct aerr *e)
{
    const char *op = str_field(en, "operation"), *av = str_field(en, "apiVersion");
    const char *ft = str_field(en, "fieldsType");
    struct fnode *set;
    if (!json_is_object(en)) {
        aerr_set(e, "managed fields entry %zu is not an object", i);
        return -1;
    }
    if (!op || (strcmp(op, "Apply") && strcmp(op, "Update"))) {
        aerr_set(e, "operation must be `Apply` or `Update`");
        return -1;
    }
    if (!av || !*av) {
        aerr_set(e, "apiVersion must not be empty");
        return -1;
    }
    if (!ft || !*ft) {
        aerr_set(e, "missing fieldsType in managed fields entry %zu", i);
        return -1;
    }
    if (strcmp(ft, "FieldsV1")) {
        aerr_set(e, "invalid fieldsType \"%s\" in managed fields entry %zu", ft, i);
        return -1;
    }
    if (fset_parse(json_object_get(en, "fieldsV1"), &set)) {
        aerr_set(e, "error decoding set of managed fields entry %zu", i);
        return -1;
    }
    const char *manager = str_field(en, "manager"), *sub = str_field(en, "subresource");
    size_t at = mgrs_add(ms, manager ? manager : "", !strcmp(op, "Apply"), av, sub ? sub : "");
    struct mgr *m = &ms->v[at]; /* a repeated identity: the last entry wins */
    fnode_free(m->set);
    m->set = set;
    free(m->api_version);
    m->api_version = xstrdup(av);
    free(m->time);
    m->time = str_field(en, "time") ? xstrdup(str_field(en, "time")) : NULL;
    return 0;
}

static int mgrs_decode(struct mgrs *ms, json_t *arr, struct aerr *e)
{
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr)) {
        aerr_set(e, "metadata.managedFields must be a list");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (mgr_decode(ms, json_array_get(arr, i), i, e)) {
            mgrs_free(ms);
            return -1;
        }
    return 0;
}

static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Seconds since the epoch of an RFC 3339 time; 0 when absent or unparsable. */
static long long time_secs(const char *s)
{
    int y, mo, d, h, mi, se, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6)
        return 0;
    const char *p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    long long t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    int oh, om;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
        t -= (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    return t;
}

/* Kubernetes' identifier for a manager (BuildManagerIdentifier), which
 * orders conflicts and capped managers. */
static void mgr_ident(const struct mgr *m, struct ubuf *b)
{
    ubuf_append(b, "{\"manager\":", 11);
    go_quote(b, m->manager, strlen(m->manager));
    ubuf_appendf(b, ",\"operation\":\"%s\"", m->apply ? "Apply" : "Update");
    if (!m->apply) {
        ubuf_append(b, ",\"apiVersion\":", 14);
        go_quote(b, m->api_version, strlen(m->api_version));
    }
    if (m->subresource[0]) {
        ubuf_append(b, ",\"subresource\":", 15);
        go_quote(b, m->subresource, strlen(m->subresource));
    }
    ubuf_append(b, "}", 1);
}

static int ident_cmp(const struct mgr *a, const struct mgr *b)
{
    struct ubuf x = {0}, y = {0};
    mgr_ident(a, &x);
    mgr_ident(b, &y);
    int c = strcmp(x.data, y.data);
    ubuf_free(&x);
    ubuf_free(&y);
    return c;
}

/* How a conflict message names a manager (printManager). */
static void mgr_print(const struct mgr *m, struct ubuf *b)
{
    json_t *s = json_string(m->manager);
    go_tostring(b, s);
    json_decref(s);
    if (m->subresource[0])
        ubuf_appendf(b, " with subresource \"%s\"", m->subresource);
    if (!m->apply)
        ubuf_appendf(b, " using %s", m->api_version);
}

/* Kubernetes' order of managedFields entries: Apply before Update, then
 * by time, manager, apiVersion, subresource. */
static int mgr_order(const void *a, const void *b)
{
    const struct mgr *p = *(const struct mgr *const *)a, *q = *(const struct mgr *const *)b;
    if (p->apply != q->apply)
        return p->apply ? -1 : 1;
    long long ps = time_secs(p->time), qs = time_secs(q->time);
    if (ps != qs)
        return ps < qs ? -1 : 1;
    int c = strcmp(p->manager, q->manager);
    if (!c)
        c = strcmp(p->api_version, q->api_version);
    return c ? c : strcmp(p->subresource, q->subresource);
}

static json_t *mgr_entry(const struct mgr *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "manager", json_string(m->manager));
    json_object_set_new(o, "operation", json_string(m->apply ? "Apply" : "Update"));
    json_object_set_new(o, "apiVersion", json_string(m->api_version));
    if (m->time)
        json_object_set_new(o, "time", json_string(m->time));
    json_object_set_new(o, "fieldsType", json_string("FieldsV1"));
    json_object_set_new(o, "fieldsV1", fset_emit(m->set, false));
    if (m->subresource[0])
        json_object_set_new(o, "subresource", json_string(m->subresource));
    return o;
}

/* Writes the managers into obj's metadata.managedFields (removed when none). */
static void mgrs_encode(const struct mgrs *ms, json_t *obj)
{
    const struct mgr **order = xmalloc((ms->n + 1) * sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < ms->n; i++)
        if (ms->v[i].set)
            order[n++] = &ms->v[i];
    qsort(order, n, sizeof *order, mgr_order);
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta) && n) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    if (json_is_object(meta)) {
        if (!n) {
            json_object_del(meta, "managedFields");
        } else {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, mgr_entry(order[i]));
            json_object_set_new(meta, "managedFields", arr);
        }
    }
    free(order);
}

struct aged {
    const struct mgrs *ms;
    size_t i;
};

static int aged_cmp(const void *a, const void *b)
{
    const struct aged *x = a, *y = b;
    const struct mgr *p = &x->ms->v[x->i], *q = &y->ms->v[y->i];
    long long ps = time_secs(p->time), qs = time_secs(q->time);
    if (ps != qs)
        return ps < qs ? -1 : 1;
    return ident_cmp(p, q);
}

/* Keeps at most MAX_UPDATE_MANAGERS Update entries by folding the oldest
 * into one "ancient-changes" entry per version (capManagersManager). */
static void cap_updaters(struct mgrs *ms)
{
    struct aged *up = xmalloc((ms->n + 1) * sizeof *up);
    size_t n = 0;
    for (size_t i = 0; i < ms->n; i++)
        if (ms->v[i].set && !ms->v[i].apply)
            up[n++] = (struct aged){ms, i};
    if (n > MAX_UPDATE_MANAGERS) {
        qsort(up, n, sizeof *up, aged_cmp);
        size_t *first = xmalloc(n * sizeof *first), nfirst = 0, length = n;
        for (size_t k = 0; k < n && length > MAX_UPDATE_MANAGERS; k++) {
            struct mgr *m = &ms->v[up[k].i];
            size_t f = NONE;
            for (size_t x = 0; x < nfirst && f == NONE; x++)
                if (!strcmp(ms->v[first[x]].api_version, m->api_version))
                    f = first[x];
            if (f == NONE) {
                first[nfirst++] = up[k].i;
                continue;
            }
            size_t b = mgrs_find(ms, "ancient-changes", false, m->api_version, "");
            if (b == NONE) { /* the version's oldest becomes the bucket */
                b = f;
                free(ms->v[b].manager);
                ms->v[b].manager = xstrdup("ancient-changes");
                ms->v[b].subresource[0] = '\0';
            }
            m = &ms->v[up[k].i];
            struct fnode *u = fset_union(ms->v[b].set, m->set);
            fnode_free(ms->v[b].set);
            ms->v[b].set = u;
            free(ms->v[b].time);
            ms->v[b].time = m->time ? xstrdup(m->time) : NULL;
            fnode_free(m->set);
            m->set = NULL;
            length--;
        }
        free(first);
    }
    free(up);
}

/* ---- the field manager's update (merge.Updater.update) ---- */

/* Each manager's share of the changed fields, but self's (NONE: every
 * manager): conf[i], NULL when none. Returns how many managers have some. */
static size_t change_conflicts(const struct mgrs *ms, size_t self, const struct change *ch,
                               struct fnode **conf)
{
    size_t n = 0;
    for (size_t i = 0; i < ms->n; i++) {
        conf[i] = i == self ? NULL : fset_inter(ms->v[i].set, ch->changed);
        n += conf[i] != NULL;
    }
    return n;
}

/* Moves the changed fields away from the other managers and drops removed
 * fields from every set but self's. */
static void change_take(struct mgrs *ms, size_t self, struct fnode **conf, const struct change *ch)
{
    for (size_t i = 0; i < ms->n; i++) {
        if (i == self)
            continue;
        fset_subtract(&ms->v[i].set, conf[i]);
        fset_subtract(&ms->v[i].set, ch->removed);
    }
}

static void conf_free(struct fnode **conf, size_t n)
{
    for (size_t i = 0; conf && i < n; i++)
        fnode_free(conf[i]);
    free(conf);
}

/* -- conflict reports, worded as Kubernetes words them -- */

struct report {
    json_t *causes;
    struct ubuf msg;   /* this manager's part of the message */
    const char *cause; /* "conflict with <manager>" */
    size_t count;
};

static void report_path(void *arg, const char *path)
{
    struct report *r = arg;
    json_t *c = json_object();
    json_object_set_new(c, "reason", json_string("FieldManagerConflict"));
    json_object_set_new(c, "message", json_string(r->cause));
    json_object_set_new(c, "field", json_string(path));
    json_array_append_new(r->causes, c);
    ubuf_appendf(&r->msg, "\n- %s", path);
    r->count++;
}

struct conf_ref {
    const struct mgrs *ms;
    size_t i;
};

static int conf_ref_cmp(const void *a, const void *b)
{
    const struct conf_ref *x = a, *y = b;
    return ident_cmp(&x->ms->v[x->i], &y->ms->v[y->i]);
}

static json_t *report_conflicts(const struct mgrs *ms, struct fnode **conf, struct aerr *e)
{
    struct conf_ref *order = xmalloc((ms->n + 1) * sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < ms->n; i++)
        if (conf[i])
            order[n++] = (struct conf_ref){ms, i};
    qsort(order, n, sizeof *order, conf_ref_cmp);
    struct report r = {json_array(), {0}, NULL, 0};
    struct ubuf body = {0}, path = {0}, who = {0};
    ubuf_append(&path, "", 0);
    for (size_t k = 0; k < n; k++) {
        who.len = 0;
        ubuf_append(&who, "conflict with ", 14);
        mgr_print(&ms->v[order[k].i], &who);
        r.cause = who.data;
        r.msg.len = 0;
        ubuf_appendf(&r.msg, "%sconflicts with %s:", k ? "\n" : "", who.data + 14);
        fset_paths(conf[order[k].i], &path, report_path, &r);
        ubuf_append(&body, r.msg.data, r.msg.len);
    }
    if (r.count == 1) {
        json_t *c = json_array_get(r.causes, 0);
        aerr_set(e, "Apply failed with 1 conflict: %s: %s", str_field(c, "message"),
                 str_field(c, "field"));
    } else {
        aerr_set(e, "Apply failed with %zu conflicts: %s", r.count, body.data ? body.data : "");
    }
    ubuf_free(&body);
    ubuf_free(&path);
    ubuf_free(&who);
    ubuf_free(&r.msg);
    free(order);
    return r.causes;
}

/* ---- kubectl's upgrade from client-side apply (lastAppliedManager) ----
 * When "kubectl" applies and its conflicts are all fields of the
 * last-applied-configuration annotation whose live values still match
 * it, client-side apply owned them: the apply goes through as forced. */

static json_t *last_applied_value(json_t *obj)
{
    json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    json_t *v = json_object_get(ann, LAST_APPLIED);
    return json_is_string(v) && json_string_length(v) ? v : NULL;
}

static struct fnode *last_applied_allowed(const struct ctx *c, json_t *live)
{
    json_t *s = last_applied_value(live);
    json_t *la = s ? json_loads(json_string_value(s), 0, NULL) : NULL;
    struct fnode *set = NULL, *d[3] = {NULL, NULL, NULL};
    const char *av = str_field(la, "apiVersion");
    if (json_is_object(la) && av && !strcmp(av, c->gv) && !fields_of(c, la, &set, NULL)) {
        compare(c, la, live, d);
        for (int i = 0; i < 3; i++) {
            fset_subtract(&set, d[i]);
            fnode_free(d[i]);
        }
    }
    json_decref(la);
    return set;
}

/* kubectl's annotation follows its server-side applies (lastAppliedUpdater). */
static void last_applied_update(json_t *obj, json_t *config)
{
    json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    if (!last_applied_value(obj))
        return;
    json_t *copy = json_deep_copy(config);
    json_t *cann = json_object_get(json_object_get(copy, "metadata"), "annotations");
    if (json_is_object(cann))
        json_object_del(cann, LAST_APPLIED);
    struct ubuf b = {0};
    go_json(&b, copy);
    ubuf_append(&b, "\n", 1);
    json_object_set_new(ann, LAST_APPLIED, json_stringn(b.data, b.len));
    ubuf_free(&b);
    json_decref(copy);
}

/* ---- apply ---- */

static int check_config(const struct kube_type *t, const struct ctx *c, json_t *live,
                        json_t *config, struct aerr *e)
{
    if (!json_is_object(config)) {
        aerr_set(e, "the applied configuration must be a JSON object");
        return -1;
    }
    if (live && !json_is_object(live)) {
        aerr_set(e, "the live object must be a JSON object");
        return -1;
    }
    const char *av = str_field(config, "apiVersion"), *kind = str_field(config, "kind");
    if (!av || !*av || !kind || !*kind) {
        aerr_set(e, "invalid object type: apiVersion and kind must be set");
        return -1;
    }
    if ((t && t->kind && strcmp(kind, t->kind)) || strcmp(av, c->gv)) {
        aerr_set(e, "invalid object type: %s, Kind=%s", av, kind);
        return -1;
    }
    json_t *mf = json_object_get(json_object_get(config, "metadata"), "managedFields");
    if (mf && !json_is_null(mf)) {
        aerr_set(e, "metadata.managedFields must be nil");
        return -1;
    }
    return 0;
}

/* An object with fields but no managedFields: its fields go to
 * "before-first-apply" so an applier does not take them silently
 * (skipNonAppliedManager). */
static void track_before_first_apply(const struct ctx *c, json_t *live, struct mgrs *ms)
{
    json_t *empty = json_object();
    struct change ch;
    change_compute(c, empty, live, &ch);
    struct fnode *set = strip_identity(ch.changed);
    ch.changed = NULL;
    if (set) {
        size_t i = mgrs_add(ms, "before-first-apply", false, c->gv, c->sub);
        ms->v[i].set = set;
        free(ms->v[i].time);
        ms->v[i].time = c->now ? xstrdup(c->now) : NULL;
    }
    change_free(&ch);
    json_decref(empty);
}

/* The union of every manager's set. */
static struct fnode *all_owned(const struct mgrs *ms)
{
    struct fnode *u = NULL;
    for (size_t i = 0; i < ms->n; i++) {
        struct fnode *x = fset_union(u, ms->v[i].set);
        fnode_free(u);
        u = x;
    }
    return u;
}

/* The registry keeps what the request may not change: status on the main
 * resource (dropped on create), spec on /status. */
static void reset_values(const struct ctx *c, json_t *live, json_t *obj)
{
    if (!c->reset || !is_named(&c->root, c->reset))
        return;
    json_t *lv = live ? json_object_get(live, c->reset) : NULL;
    if (lv)
        json_object_set_new(obj, c->reset, json_deep_copy(lv));
    else
        json_object_del(obj, c->reset);
}

/* Settles ownership after the merge: conflicts, force, removals. Returns
 * -1 (with *causes) when other managers' fields conflict. */
static int apply_settle(const struct ctx *c, json_t *base, json_t *obj, json_t *live,
                        struct mgrs *ms, size_t self, const char *manager, bool force,
                        json_t **causes, struct aerr *e)
{
    struct change ch;
    change_compute(c, base, obj, &ch);
    struct fnode **conf = xcalloc(ms->n + 1, sizeof *conf);
    int rc = 0;
    if (change_conflicts(ms, self, &ch, conf) && !force) {
        struct fnode *allowed = !strcmp(manager, "kubectl") ? last_applied_allowed(c, live) : NULL;
        struct fnode **left = xcalloc(ms->n + 1, sizeof *left);
        size_t nleft = 0;
        for (size_t i = 0; i < ms->n; i++) {
            left[i] = allowed ? fset_diff(conf[i], allowed) : conf[i] ? fnode_copy(conf[i]) : NULL;
            nleft += left[i] != NULL;
        }
        if (nleft) {
            json_t *cs = report_conflicts(ms, left, e);
            if (causes)
                *causes = cs;
            else
                json_decref(cs);
            rc = -1;
        }
        conf_free(left, ms->n);
        fnode_free(allowed);
    }
    if (!rc)
        change_take(ms, self, conf, &ch);
    conf_free(conf, ms->n);
    change_free(&ch);
    return rc;
}

json_t *kube_apply(const struct kube_type *t, json_t *live, json_t *config, const char *manager,
                   const char *subresource, bool force, const char *now, json_t **conflicts,
                   char *err, size_t errlen)
{
    struct aerr e = {err, errlen, false};
    struct ctx c;
    struct mgrs ms = {0};
    if (conflicts)
        *conflicts = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!manager || !*manager)
        manager = "unknown";
    ctx_init(&c, t, subresource, now, json_is_object(config) ? config : NULL);
    if (check_config(t, &c, live, config, &e))
        return NULL;
    if (live && mgrs_decode(&ms, json_object_get(json_object_get(live, "metadata"), "managedFields"),
                            &e))
        return NULL;
    json_t *empty = json_object(), *base = live ? live : empty;
    if (live && !ms.n)
        track_before_first_apply(&c, live, &ms);

    json_t *obj = json_deep_copy(base);
    struct frame root = {NULL, PE_FIELD, NULL, NULL, {NULL, NULL, NULL}};
    struct fnode *applied = NULL;
    if (merge_val(&c.root, &obj, config, &root, &e) || fields_of(&c, config, &applied, &e))
        goto fail;
    size_t self = mgrs_add(&ms, manager, true, c.gv, c.sub);
    struct fnode *last = ms.v[self].set;
    ms.v[self].set = drop_reset(&c, applied);
    free(ms.v[self].api_version);
    ms.v[self].api_version = xstrdup(c.gv);
    if (last) {
        struct fnode *owned = all_owned(&ms);
        prune_walk(obj, &c.root, last, owned);
        fnode_free(owned);
        fnode_free(last);
    }
    reset_values(&c, live, obj);
    if (apply_settle(&c, base, obj, live, &ms, self, manager, force, conflicts, &e))
        goto fail;
    ms.v[self].set = strip_identity(ms.v[self].set);
    if (!live || !val_equal(base, obj)) {
        free(ms.v[self].time);
        ms.v[self].time = now ? xstrdup(now) : NULL;
    }
    if (!strcmp(manager, "kubectl"))
        last_applied_update(obj, config);
    mgrs_encode(&ms, obj);
    mgrs_free(&ms);
    json_decref(empty);
    return obj;
fail:
    json_decref(obj);
    mgrs_free(&ms);
    json_decref(empty);
    return NULL;
}

/* ---- every other write ---- */

/* Where an update's managers come from (decodeLiveOrNew): the new object's
 * managedFields unless absent, unreadable or empty (an explicit [] or
 * [{}] resets them); subresources always use the stored object's. */
static void update_managers_load(json_t *old, json_t *next, const char *sub, struct mgrs *ms)
{
    json_t *nmf = json_object_get(json_object_get(next, "metadata"), "managedFields");
    json_t *omf = json_object_get(json_object_get(old, "metadata"), "managedFields");
    if (!sub[0]) {
        if (json_is_array(nmf) &&
            (!json_array_size(nmf) ||
             (json_array_size(nmf) == 1 && json_is_object(json_array_get(nmf, 0)) &&
              !json_object_size(json_array_get(nmf, 0)))))
            return;
        if (!mgrs_decode(ms, nmf, NULL) && ms->n)
            return;
        mgrs_free(ms);
    }
    if (mgrs_decode(ms, omf, NULL))
        mgrs_free(ms);
}

void kube_managed_fields_update(const struct kube_type *t, json_t *old, json_t *next,
                                const char *manager, const char *subresource, const char *now)
{
    struct ctx c;
    struct mgrs ms = {0};
    if (!json_is_object(next) || (old && !json_is_object(old)))
        return;
    if (!manager || !*manager)
        manager = "unknown";
    ctx_init(&c, t, subresource, now, next);
    update_managers_load(old, next, c.sub, &ms);
    json_t *meta = json_object_get(next, "metadata");
    if (json_is_object(meta))
        json_object_del(meta, "managedFields");
    const char *uid = str_field(json_object_get(old, "metadata"), "uid");
    if (!ms.n && old && uid && *uid) /* never tracked: stays untracked */
        return;

    json_t *empty = json_object();
    struct change ch;
    change_compute(&c, old ? old : empty, next, &ch);
    struct fnode **conf = xcalloc(ms.n + 1, sizeof *conf);
    change_conflicts(&ms, NONE, &ch, conf);
    change_take(&ms, NONE, conf, &ch);
    conf_free(conf, ms.n);
    struct fnode *mine = strip_identity(ch.changed);
    ch.changed = NULL;
    if (mine) {
        size_t i = mgrs_add(&ms, manager, false, c.gv, c.sub);
        struct fnode *u = fset_union(ms.v[i].set, mine);
        fnode_free(ms.v[i].set);
        fnode_free(mine);
        ms.v[i].set = u;
        free(ms.v[i].time);
        ms.v[i].time = now ? xstrdup(now) : NULL;
    }
    cap_updaters(&ms);
    mgrs_encode(&ms, next);
    change_free(&ch);
    mgrs_free(&ms);
    json_decref(empty);
}
