/* openapi_v2.c — GET /openapi/v2: the one Swagger 2.0 document of every
 * group/version served. kubectl reads it for client-side validation, which
 * it falls back to when server-side field validation cannot check a file:
 * a `kind: List` (its items are validated one by one against the
 * definitions, unknown and missing required fields rejected), and kinds
 * whose PATCH operation lacks a fieldValidation parameter.
 *
 * The document is converted from the OpenAPI v3 documents of openapi.c, so
 * both come from the same compiled-in resource table and schema and agree
 * on every name, field and marker. Kubernetes renders v2 differently from
 * v3, and the conversion follows its spellings:
 *   definitions  the union of the v3 components, under the same names;
 *                $ref points to #/definitions/ and stands directly beside
 *                the description (no allOf wrapping); no defaults (the
 *                validation reads none); the number-or-string types
 *                (Quantity, IntOrString) are strings, as kube-openapi's v2
 *                parser accepts no oneOf;
 *   paths        the union of the v3 paths; parameters carry their type
 *                themselves (uniqueItems, as Kubernetes'), the request body
 *                is an `in: body` parameter, its media types `consumes`, the
 *                responses' media types `produces`, each response a schema.
 * x-kubernetes-group-version-kind (a list on definitions, an object on
 * operations), the list and patch markers and `required` are kept as is.
 *
 * kubectl (client-go's OpenAPISchema) asks with Accept
 * application/com.github.proto-openapi.spec.v2@v1.0+protobuf only and
 * decodes the body as gnostic's openapi_v2.Document protobuf; that encoding
 * is openapi_v2_pb.c's. Other clients get JSON.
 * Both forms are built once per process, on the first request
 * (pthread_once), and kept: the JSON document itself is freed. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

#define V3_REF "#/components/schemas/"
#define V2_REF "#/definitions/"
/* Asked for as ...spec.v2@v1.0+protobuf (kubectl) or ...spec.v2.v1.0+protobuf;
 * answered, as Kubernetes does, with the second: client-go parses the
 * Content-Type, and Go's mime package rejects the '@'. */
#define PB_MEDIA "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
#define PB_MEDIA_PREFIX "application/com.github.proto-openapi.spec.v2"

/* ---- schemas ---- */

static json_t *v2_schema(json_t *s);

static json_t *v2_ref(json_t *ref)
{
    const char *r = json_string_value(ref);
    if (!r || strncmp(r, V3_REF, strlen(V3_REF)) != 0)
        return json_incref(ref);
    char buf[256];
    snprintf(buf, sizeof buf, V2_REF "%s", r + strlen(V3_REF));
    return json_string(buf);
}

static json_t *v2_properties(json_t *props)
{
    json_t *out = json_object();
    const char *name;
    json_t *p;
    json_object_foreach(props, name, p) json_object_set_new(out, name, v2_schema(p));
    return out;
}

/* allOf:[{$ref}] (a struct field in v3) becomes the $ref itself. */
static void merge_all_of(json_t *out, json_t *all_of)
{
    size_t i;
    json_t *member;
    json_array_foreach(all_of, i, member) {
        json_t *m = v2_schema(member);
        json_object_update_missing(out, m);
        json_decref(m);
    }
}

/* One schema, v3 rendering in, v2 rendering out (a new object). */
static json_t *v2_schema(json_t *s)
{
    if (!json_is_object(s))
        return json_incref(s);
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(s, key, v) {
        if (strcmp(key, "default") == 0)
            continue;
        if (strcmp(key, "$ref") == 0)
            json_object_set_new(out, key, v2_ref(v));
        else if (strcmp(key, "allOf") == 0)
            merge_all_of(out, v);
        else if (strcmp(key, "oneOf") == 0)
            json_object_set_new(out, "type", json_string("string"));
        else if (strcmp(key, "properties") == 0)
            json_object_set_new(out, key, v2_properties(v));
        else if (strcmp(key, "items") == 0 || strcmp(key, "additionalProperties") == 0)
            json_object_set_new(out, key, v2_schema(v));
        else
            json_object_set(out, key, v);
    }
    return out;
}

/* ---- paths ---- */

/* {name, in, description, required, schema:{type}} -> the type beside the rest. */
static json_t *v2_parameter(json_t *p)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(p, key, v) {
        if (strcmp(key, "schema") == 0)
            json_object_set(out, "type", json_object_get(v, "type"));
        else
            json_object_set(out, key, v);
    }
    json_object_set_new(out, "uniqueItems", json_true());
    return out;
}

static json_t *v2_parameters(json_t *params)
{
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(params, i, p) json_array_append_new(out, v2_parameter(p));
    return out;
}

/* The schema of the first media type of a v3 content map. */
static json_t *content_schema(json_t *content)
{
    void *it = json_object_iter(content);
    return it ? json_object_get(json_object_iter_value(it), "schema") : NULL;
}

/* Appends the media types of content to a, each once. */
static void add_media_types(json_t *a, json_t *content)
{
    const char *type;
    json_t *v;
    json_object_foreach(content, type, v) {
        size_t i;
        json_t *have;
        bool found = false;
        json_array_foreach(a, i, have) found = found || strcmp(json_string_value(have), type) == 0;
        if (!found)
            json_array_append_new(a, json_string(type));
    }
}

static json_t *body_parameter(json_t *request_body)
{
    json_t *p = json_pack("{s:s, s:s}", "in", "body", "name", "body");
    if (json_is_true(json_object_get(request_body, "required")))
        json_object_set_new(p, "required", json_true());
    json_t *schema = content_schema(json_object_get(request_body, "content"));
    json_object_set_new(p, "schema", schema ? v2_schema(schema) : json_object());
    return p;
}

/* responses: {code: {description, content}} -> {code: {description, schema}}. */
static json_t *v2_responses(json_t *responses, json_t *produces)
{
    json_t *out = json_object();
    const char *code;
    json_t *r;
    json_object_foreach(responses, code, r) {
        json_t *content = json_object_get(r, "content");
        json_t *o = json_pack("{s:O}", "description", json_object_get(r, "description"));
        json_t *schema = content_schema(content);
        if (schema)
            json_object_set_new(o, "schema", v2_schema(schema));
        add_media_types(produces, content);
        json_object_set_new(out, code, o);
    }
    return out;
}

static json_t *v2_operation(json_t *op)
{
    json_t *out = json_object(), *params = json_array(), *produces = json_array();
    const char *key;
    json_t *v;
    json_object_foreach(op, key, v) {
        if (strcmp(key, "requestBody") == 0) {
            json_array_insert_new(params, 0, body_parameter(v));
            json_t *consumes = json_array();
            add_media_types(consumes, json_object_get(v, "content"));
            json_object_set_new(out, "consumes", consumes);
        } else if (strcmp(key, "parameters") == 0) {
            json_t *query = v2_parameters(v);
            json_array_extend(params, query);
            json_decref(query);
        } else if (strcmp(key, "responses") == 0) {
            json_object_set_new(out, key, v2_responses(v, produces));
        } else {
            json_object_set(out, key, v);
        }
    }
    if (json_array_size(params))
        json_object_set_new(out, "parameters", params);
    else
        json_decref(params);
    json_object_set_new(out, "produces", produces);
    return out;
}

static json_t *v2_path_item(json_t *item)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(item, key, v) {
        if (strcmp(key, "parameters") == 0)
            json_object_set_new(out, key, v2_parameters(v));
        else
            json_object_set_new(out, key, v2_operation(v));
    }
    return out;
}

/* ---- the document ---- */

/* Adds one group/version's v3 document to the v2 paths and definitions. */
static void add_gv(json_t *paths, json_t *definitions, json_t *v3)
{
    json_t *v3_paths = json_object_get(v3, "paths");
    json_t *schemas = json_object_get(json_object_get(v3, "components"), "schemas");
    const char *key;
    json_t *v;
    json_object_foreach(v3_paths, key, v) json_object_set_new(paths, key, v2_path_item(v));
    json_object_foreach(schemas, key, v) {
        if (!json_object_get(definitions, key))
            json_object_set_new(definitions, key, v2_schema(v));
    }
}

static json_t *v2_document(void)
{
    json_t *paths = json_object(), *definitions = json_object();
    for (unsigned i = 0; discovery_gv_at(i); i++) {
        const struct resource *gv = discovery_gv_at(i);
        json_t *v3 = openapi_gv_document(gv->group, gv->version);
        add_gv(paths, definitions, v3);
        json_decref(v3);
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:o}", "swagger", "2.0", "info", "title",
                     "Kubernetes", "version", "v1.32.0", "paths", paths, "definitions",
                     definitions);
}

/* ---- the cache ---- */

/* Written once, by cache_build under cache_once; read-only afterwards. */
static struct {
    char *json;
    size_t json_len;
    struct ubuf pb;
} cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_build(void)
{
    uint64_t t0 = util_now_us();
    json_t *doc = v2_document();
    size_t unknown = openapi_v2_protobuf(doc, &cache.pb);
    if (unknown)
        LOG_WARN("openapi v2: %zu keys have no protobuf field", unknown);
    cache.json = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    if (!cache.json)
        cache.json = xstrdup("{}");
    cache.json_len = strlen(cache.json);
    LOG_INFO("openapi v2: %zu definitions, %zu bytes of JSON, %zu of protobuf, built in %.1f ms",
             json_object_size(json_object_get(doc, "definitions")), cache.json_len, cache.pb.len,
             (double)(util_now_us() - t0) / 1000.0);
    json_decref(doc);
}

/* ---- serving ---- */

static bool wants_protobuf(struct request *rq)
{
    const char *accept = request_header(rq, "Accept");
    return accept && strstr(accept, PB_MEDIA_PREFIX);
}

enum MHD_Result openapi_v2_handle(struct request *rq)
{
    pthread_once(&cache_once, cache_build);
    bool pb = wants_protobuf(rq);
    const char *data = pb ? cache.pb.data : cache.json;
    size_t len = pb ? cache.pb.len : cache.json_len;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", pb ? PB_MEDIA : "application/json");
    MHD_add_response_header(r, "Vary", "Accept");
    MHD_add_response_header(r, "Cache-Control", "no-cache, private");
    return http_queue(rq, 200, r);
}
