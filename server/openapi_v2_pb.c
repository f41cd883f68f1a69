/* openapi_v2_pb.c — a Swagger 2.0 document (JSON) as gnostic's
 * openapi_v2.Document protobuf (github.com/google/gnostic-models,
 * openapiv2/OpenAPIv2.proto), the only form client-go's OpenAPISchema, and
 * so kubectl's client-side validation, can read.
 *
 * The encoding is driven by tables, one per message (`struct pb_message`):
 * each field names the JSON key it is made from, its protobuf number and
 * how the JSON value becomes it. gnostic's shapes need three more rules:
 *   - wrapper messages (TypeItem, ItemsItem, SchemaItem, ...) are made from
 *     the whole JSON value of their field, not from one of its keys (key
 *     NULL); a oneof picks its member by the value's "in" (`when`), as for
 *     parameters (body, query, path);
 *   - JSON objects used as maps (definitions, properties, paths, responses)
 *     are repeated Named* messages {name = 1, value = 2}, in key order;
 *   - keys beginning with "x-" are vendor extensions: NamedAny {name,
 *     Any {yaml = 2}}, the value written as JSON, which is YAML (kube-openapi
 *     reads the yaml string of each).
 * Only the fields bosun's documents use are listed; a key no table knows is
 * counted (the caller logs it) and left out. */
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

enum pb_kind {
    PB_STRING,   /* a JSON string */
    PB_BOOL,     /* a JSON boolean, written when true */
    PB_STRINGS,  /* a JSON string or array of strings: a repeated string */
    PB_MESSAGE,  /* an embedded message made from the value */
    PB_MESSAGES, /* a JSON array: one embedded message per element */
    PB_NAMED,    /* a JSON object: one Named{name, value} message per key */
};

struct pb_message;

struct pb_field {
    const char *key; /* NULL: made from the whole value of the message */
    unsigned num;
    enum pb_kind kind;
    const struct pb_message *msg; /* PB_MESSAGE(S), PB_NAMED: the value's message */
    const char *when;             /* key NULL: the comma-separated "in" values it is for */
};

struct pb_message {
    unsigned extensions; /* vendor_extension's number, 0 if none */
    const struct pb_field *fields; /* ends with a zero num */
};

/* ---- the messages of OpenAPIv2.proto that bosun's documents use ---- */

static const struct pb_message m_schema;

static const struct pb_field f_type_item[] = {{NULL, 1, PB_STRINGS, NULL, NULL}, {0}};
static const struct pb_message m_type_item = {0, f_type_item};

static const struct pb_field f_schema_wrap[] = {{NULL, 1, PB_MESSAGE, &m_schema, NULL}, {0}};
/* ItemsItem, AdditionalPropertiesItem and SchemaItem hold a Schema as 1. */
static const struct pb_message m_schema_wrap = {0, f_schema_wrap};

static const struct pb_field f_named_schemas[] = {{NULL, 1, PB_NAMED, &m_schema, NULL}, {0}};
/* Properties and Definitions. */
static const struct pb_message m_named_schemas = {0, f_named_schemas};

static const struct pb_field f_schema[] = {
    {"$ref", 1, PB_STRING, NULL, NULL},
    {"format", 2, PB_STRING, NULL, NULL},
    {"title", 3, PB_STRING, NULL, NULL},
    {"description", 4, PB_STRING, NULL, NULL},
    {"required", 19, PB_STRINGS, NULL, NULL},
    {"additionalProperties", 21, PB_MESSAGE, &m_schema_wrap, NULL},
    {"type", 22, PB_MESSAGE, &m_type_item, NULL},
    {"items", 23, PB_MESSAGE, &m_schema_wrap, NULL},
    {"allOf", 24, PB_MESSAGES, &m_schema, NULL},
    {"properties", 25, PB_MESSAGE, &m_named_schemas, NULL},
    {"readOnly", 27, PB_BOOL, NULL, NULL},
    {0},
};
static const struct pb_message m_schema = {31, f_schema};

static const struct pb_field f_body_parameter[] = {
    {"description", 1, PB_STRING, NULL, NULL}, {"name", 2, PB_STRING, NULL, NULL},
    {"in", 3, PB_STRING, NULL, NULL},          {"required", 4, PB_BOOL, NULL, NULL},
    {"schema", 5, PB_MESSAGE, &m_schema, NULL}, {0},
};
static const struct pb_message m_body_parameter = {6, f_body_parameter};

static const struct pb_field f_query_parameter[] = {
    {"required", 1, PB_BOOL, NULL, NULL},    {"in", 2, PB_STRING, NULL, NULL},
    {"description", 3, PB_STRING, NULL, NULL}, {"name", 4, PB_STRING, NULL, NULL},
    {"type", 6, PB_STRING, NULL, NULL},      {"format", 7, PB_STRING, NULL, NULL},
    {"uniqueItems", 20, PB_BOOL, NULL, NULL}, {0},
};
static const struct pb_message m_query_parameter = {23, f_query_parameter};

static const struct pb_field f_path_parameter[] = {
    {"required", 1, PB_BOOL, NULL, NULL},    {"in", 2, PB_STRING, NULL, NULL},
    {"description", 3, PB_STRING, NULL, NULL}, {"name", 4, PB_STRING, NULL, NULL},
    {"type", 5, PB_STRING, NULL, NULL},      {"format", 6, PB_STRING, NULL, NULL},
    {"uniqueItems", 19, PB_BOOL, NULL, NULL}, {0},
};
static const struct pb_message m_path_parameter = {22, f_path_parameter};

static const struct pb_field f_non_body_parameter[] = {
    {NULL, 3, PB_MESSAGE, &m_query_parameter, "query"},
    {NULL, 4, PB_MESSAGE, &m_path_parameter, "path"},
    {0},
};
static const struct pb_message m_non_body_parameter = {0, f_non_body_parameter};

static const struct pb_field f_parameter[] = {
    {NULL, 1, PB_MESSAGE, &m_body_parameter, "body"},
    {NULL, 2, PB_MESSAGE, &m_non_body_parameter, "query,path"},
    {0},
};
static const struct pb_message m_parameter = {0, f_parameter};

static const struct pb_field f_parameters_item[] = {{NULL, 1, PB_MESSAGE, &m_parameter, NULL},
                                                    {0}};
static const struct pb_message m_parameters_item = {0, f_parameters_item};

static const struct pb_field f_response[] = {
    {"description", 1, PB_STRING, NULL, NULL},
    {"schema", 2, PB_MESSAGE, &m_schema_wrap, NULL}, /* SchemaItem */
    {0},
};
static const struct pb_message m_response = {5, f_response};

static const struct pb_field f_response_value[] = {{NULL, 1, PB_MESSAGE, &m_response, NULL},
                                                   {0}};
static const struct pb_message m_response_value = {0, f_response_value};

static const struct pb_field f_responses[] = {{NULL, 1, PB_NAMED, &m_response_value, NULL}, {0}};
static const struct pb_message m_responses = {2, f_responses};

static const struct pb_field f_operation[] = {
    {"tags", 1, PB_STRINGS, NULL, NULL},
    {"summary", 2, PB_STRING, NULL, NULL},
    {"description", 3, PB_STRING, NULL, NULL},
    {"operationId", 5, PB_STRING, NULL, NULL},
    {"produces", 6, PB_STRINGS, NULL, NULL},
    {"consumes", 7, PB_STRINGS, NULL, NULL},
    {"parameters", 8, PB_MESSAGES, &m_parameters_item, NULL},
    {"responses", 9, PB_MESSAGE, &m_responses, NULL},
    {"schemes", 10, PB_STRINGS, NULL, NULL},
    {"deprecated", 11, PB_BOOL, NULL, NULL},
    {0},
};
static const struct pb_message m_operation = {13, f_operation};

static const struct pb_field f_path_item[] = {
    {"get", 2, PB_MESSAGE, &m_operation, NULL},
    {"put", 3, PB_MESSAGE, &m_operation, NULL},
    {"post", 4, PB_MESSAGE, &m_operation, NULL},
    {"delete", 5, PB_MESSAGE, &m_operation, NULL},
    {"options", 6, PB_MESSAGE, &m_operation, NULL},
    {"head", 7, PB_MESSAGE, &m_operation, NULL},
    {"patch", 8, PB_MESSAGE, &m_operation, NULL},
    {"parameters", 9, PB_MESSAGES, &m_parameters_item, NULL},
    {0},
};
static const struct pb_message m_path_item = {10, f_path_item};

static const struct pb_field f_paths[] = {{NULL, 2, PB_NAMED, &m_path_item, NULL}, {0}};
static const struct pb_message m_paths = {1, f_paths};

static const struct pb_field f_info[] = {
    {"title", 1, PB_STRING, NULL, NULL},
    {"version", 2, PB_STRING, NULL, NULL},
    {"description", 3, PB_STRING, NULL, NULL},
    {0},
};
static const struct pb_message m_info = {7, f_info};

static const struct pb_field f_document[] = {
    {"swagger", 1, PB_STRING, NULL, NULL},
    {"info", 2, PB_MESSAGE, &m_info, NULL},
    {"host", 3, PB_STRING, NULL, NULL},
    {"basePath", 4, PB_STRING, NULL, NULL},
    {"schemes", 5, PB_STRINGS, NULL, NULL},
    {"consumes", 6, PB_STRINGS, NULL, NULL},
    {"produces", 7, PB_STRINGS, NULL, NULL},
    {"paths", 8, PB_MESSAGE, &m_paths, NULL},
    {"definitions", 9, PB_MESSAGE, &m_named_schemas, NULL},
    {0},
};
static const struct pb_message m_document = {16, f_document};

/* ---- wire format ---- */

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static void put_varint(struct ubuf *out, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b[n] |= 0x80;
        n++;
    } while (v);
    ubuf_append(out, b, n);
}

static void put_tag(struct ubuf *out, unsigned num, unsigned wire)
{
    put_varint(out, (uint64_t)num << 3 | wire);
}

static void put_bytes(struct ubuf *out, unsigned num, const void *p, size_t n)
{
    put_tag(out, num, WIRE_LEN);
    put_varint(out, n);
    ubuf_append(out, p, n);
}

static void put_string(struct ubuf *out, unsigned num, const char *s)
{
    put_bytes(out, num, s, strlen(s));
}

/* ---- encoding ---- */

struct pb_enc {
    size_t unknown; /* JSON keys no field took */
};

static void encode_message(struct pb_enc *e, struct ubuf *out, const struct pb_message *m,
                           json_t *v);

/* Writes field num as message m made from v. */
static void put_message(struct pb_enc *e, struct ubuf *out, unsigned num,
                        const struct pb_message *m, json_t *v)
{
    struct ubuf sub = {0};
    encode_message(e, &sub, m, v);
    put_bytes(out, num, sub.data, sub.len);
    ubuf_free(&sub);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of o, sorted (free the array; the keys are o's). */
static const char **sorted_keys(json_t *o, size_t *n)
{
    const char **keys = xcalloc(json_object_size(o) + 1, sizeof *keys);
    const char *key;
    json_t *v;
    *n = 0;
    json_object_foreach(o, key, v) keys[(*n)++] = key;
    qsort(keys, *n, sizeof *keys, key_cmp);
    return keys;
}

static bool is_extension(const char *key)
{
    return strncmp(key, "x-", 2) == 0;
}

/* A vendor extension: NamedAny {name = 1, value = Any {yaml = 2}}. */
static void put_extension(struct ubuf *out, unsigned num, const char *key, json_t *v)
{
    char *yaml = json_dumps(v, JSON_ENCODE_ANY | JSON_SORT_KEYS);
    struct ubuf any = {0}, named = {0};
    put_string(&any, 2, yaml ? yaml : "null");
    put_string(&named, 1, key);
    put_bytes(&named, 2, any.data, any.len);
    put_bytes(out, num, named.data, named.len);
    ubuf_free(&any);
    ubuf_free(&named);
    free(yaml);
}

/* One Named message {name = 1, value = 2} per key of o (extensions apart
 * when the message has a field for them). */
static void put_named(struct pb_enc *e, struct ubuf *out, const struct pb_field *f, json_t *o,
                      bool skip_extensions)
{
    size_t n;
    const char **keys = sorted_keys(o, &n);
    for (size_t i = 0; i < n; i++) {
        if (skip_extensions && is_extension(keys[i]))
            continue;
        struct ubuf named = {0};
        put_string(&named, 1, keys[i]);
        put_message(e, &named, 2, f->msg, json_object_get(o, keys[i]));
        put_bytes(out, f->num, named.data, named.len);
        ubuf_free(&named);
    }
    free(keys);
}

static void put_strings(struct ubuf *out, unsigned num, json_t *v)
{
    size_t i;
    json_t *s;
    if (json_is_string(v))
        put_string(out, num, json_string_value(v));
    json_array_foreach(v, i, s) {
        if (json_is_string(s))
            put_string(out, num, json_string_value(s));
    }
}

static void put_field(struct pb_enc *e, struct ubuf *out, const struct pb_field *f, json_t *v,
                      bool skip_extensions)
{
    size_t i;
    json_t *el;
    switch (f->kind) {
    case PB_STRING:
        if (json_is_string(v))
            put_string(out, f->num, json_string_value(v));
        break;
    case PB_BOOL:
        if (json_is_true(v)) {
            put_tag(out, f->num, WIRE_VARINT);
            put_varint(out, 1);
        }
        break;
    case PB_STRINGS:
        put_strings(out, f->num, v);
        break;
    case PB_MESSAGE:
        put_message(e, out, f->num, f->msg, v);
        break;
    case PB_MESSAGES:
        json_array_foreach(v, i, el) put_message(e, out, f->num, f->msg, el);
        break;
    case PB_NAMED:
        put_named(e, out, f, v, skip_extensions);
        break;
    }
}

/* Whether a whole-value field is the one of its oneof for v's "in". */
static bool when_matches(const char *when, json_t *v)
{
    if (!when)
        return true;
    const char *in = json_string_value(json_object_get(v, "in"));
    char item[32];
    const char *csv = when;
    while (in && discovery_csv_next(&csv, item, sizeof item))
        if (strcmp(item, in) == 0)
            return true;
    return false;
}

static const struct pb_field *field_of(const struct pb_message *m, const char *key)
{
    for (const struct pb_field *f = m->fields; f->num; f++)
        if (f->key && strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

/* Whether m is made from whole values only (a wrapper or a map). */
static bool whole_value(const struct pb_message *m)
{
    for (const struct pb_field *f = m->fields; f->num; f++)
        if (f->key)
            return false;
    return true;
}

static void encode_message(struct pb_enc *e, struct ubuf *out, const struct pb_message *m,
                           json_t *v)
{
    for (const struct pb_field *f = m->fields; f->num; f++)
        if (!f->key && when_matches(f->when, v))
            put_field(e, out, f, v, m->extensions != 0);
    if (!json_is_object(v) || whole_value(m)) {
        if (m->extensions && json_is_object(v)) {
            size_t n;
            const char **keys = sorted_keys(v, &n);
            for (size_t i = 0; i < n; i++)
                if (is_extension(keys[i]))
                    put_extension(out, m->extensions, keys[i], json_object_get(v, keys[i]));
            free(keys);
        }
        return;
    }
    size_t n;
    const char **keys = sorted_keys(v, &n);
    for (size_t i = 0; i < n; i++) {
        const struct pb_field *f = field_of(m, keys[i]);
        json_t *x = json_object_get(v, keys[i]);
        if (f)
            put_field(e, out, f, x, false);
        else if (m->extensions && is_extension(keys[i]))
            put_extension(out, m->extensions, keys[i], x);
        else
            e->unknown++;
    }
    free(keys);
}

size_t openapi_v2_protobuf(json_t *doc, struct ubuf *out)
{
    struct pb_enc e = {0};
    encode_message(&e, out, &m_document, doc);
    return e.unknown;
}
