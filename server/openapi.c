/* openapi.c — the OpenAPI v3 documents kubectl reads: GET /openapi/v3 (an
 * index of the group/versions served, each with the URL of its document and
 * a hash of it) and GET /openapi/v3/api/v1, /openapi/v3/apis/{g}/{v} (one
 * OpenAPI 3.0 document per group/version). kubectl needs them for create
 * and apply with the default --validate=strict (it sends fieldValidation=Strict
 * only if the PATCH operations of the kind carry a fieldValidation
 * parameter), for client-side apply (x-kubernetes-patch-* markers of the
 * schemas drive its strategic merge patch) and for explain. GET /openapi/v2
 * goes to openapi_v2.c, which converts these documents into the one Swagger
 * 2.0 document kubectl's client-side validation reads (kind: List files);
 * anything else is a 404.
 *
 * How a document is made, from the resource table (resources.c) and the API
 * schema (kube/kube.h), both compiled in:
 *   paths       for each resource of the group/version, the collection path
 *               (list, create, deletecollection), the item path (get, put,
 *               patch, delete), for namespaced resources the all-namespaces
 *               list path, and one path per subresource whose operations
 *               follow the subresource's verbs (discovery.c's table). Every
 *               operation names its group/version/kind, its action and its
 *               query parameters; the operation shapes are the table `ops`;
 *   components  the schemas of every type reachable from the kinds the
 *               operations take and return, walking the fields (schema_add);
 *               fields become OpenAPI v3 properties as Kubernetes renders
 *               them: scalars by the value-type table, objects as
 *               allOf:[$ref], lists and maps as array/items and
 *               object/additionalProperties, Time, Quantity, IntOrString and
 *               the raw types as references to their own schemas (`specials`).
 *
 * The documents depend on nothing but compiled-in tables, so they are built
 * once per process (pthread_once, on the first request) with sorted keys and
 * kept as strings: every server of a cluster running the same binary serves
 * byte-identical documents with the same hash (FNV-1a 64), and a request is a
 * lookup and a write of the cached bytes. The cache is never modified after
 * it is built, so handlers read it without locks. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "server/internal.h"

#define META "io.k8s.apimachinery.pkg.apis.meta.v1."
#define SCHEMA_REF "#/components/schemas/"
#define V3_PREFIX "/openapi/v3"
#define V2_PATH "/openapi/v2" /* openapi_v2.c */

/* ---- query parameters ---- */

enum qp {
    QP_ALLOW_WATCH_BOOKMARKS,
    QP_COMMAND,
    QP_CONTAINER,
    QP_CONTINUE,
    QP_DRY_RUN,
    QP_FIELD_MANAGER,
    QP_FIELD_SELECTOR,
    QP_FIELD_VALIDATION,
    QP_FOLLOW,
    QP_FORCE,
    QP_GRACE_PERIOD,
    QP_LABEL_SELECTOR,
    QP_LIMIT,
    QP_PREVIOUS,
    QP_PROPAGATION,
    QP_RESOURCE_VERSION,
    QP_SINCE_SECONDS,
    QP_STDERR,
    QP_STDIN,
    QP_STDOUT,
    QP_TAIL_LINES,
    QP_TIMEOUT,
    QP_TIMESTAMPS,
    QP_TTY,
    QP_WATCH,
    QP_N
};
#define BIT(q) (1u << (q))

static const struct qparam {
    const char *name, *type, *description;
} qparams[QP_N] = {
    [QP_ALLOW_WATCH_BOOKMARKS] = {"allowWatchBookmarks", "boolean",
                                  "Ask for BOOKMARK events in a watch."},
    [QP_COMMAND] = {"command", "string", "The command to run, one argument per occurrence."},
    [QP_CONTAINER] = {"container", "string", "The container to use; the only one if omitted."},
    [QP_CONTINUE] = {"continue", "string", "The continue token of a previous list."},
    [QP_DRY_RUN] = {"dryRun", "string",
                    "All: process the request without persisting anything."},
    [QP_FIELD_MANAGER] = {"fieldManager", "string",
                          "The name of the actor making the change (server-side apply)."},
    [QP_FIELD_SELECTOR] = {"fieldSelector", "string",
                           "Only objects whose fields match (metadata.name, metadata.namespace)."},
    [QP_FIELD_VALIDATION] = {"fieldValidation", "string",
                             "How to treat unknown or duplicate fields in the body: Ignore, Warn "
                             "or Strict (reject the request)."},
    [QP_FOLLOW] = {"follow", "boolean", "Keep streaming the log as it grows."},
    [QP_FORCE] = {"force", "boolean",
                  "Apply only: take ownership of fields other managers own."},
    [QP_GRACE_PERIOD] = {"gracePeriodSeconds", "integer",
                         "Seconds before the object is deleted; 0 deletes at once."},
    [QP_LABEL_SELECTOR] = {"labelSelector", "string", "Only objects whose labels match."},
    [QP_LIMIT] = {"limit", "integer", "The most objects to return in one list response."},
    [QP_PREVIOUS] = {"previous", "boolean", "The log of the previous run of the container."},
    [QP_PROPAGATION] = {"propagationPolicy", "string",
                        "Orphan, Background or Foreground: what happens to dependents."},
    [QP_RESOURCE_VERSION] = {"resourceVersion", "string",
                             "The resourceVersion to serve from, or to watch after."},
    [QP_SINCE_SECONDS] = {"sinceSeconds", "integer", "Only log lines newer than this."},
    [QP_STDERR] = {"stderr", "boolean", "Stream the command's standard error."},
    [QP_STDIN] = {"stdin", "boolean", "Stream the command's standard input."},
    [QP_STDOUT] = {"stdout", "boolean", "Stream the command's standard output."},
    [QP_TAIL_LINES] = {"tailLines", "integer", "Only the last lines of the log."},
    [QP_TIMEOUT] = {"timeoutSeconds", "integer", "End a list or watch after this long."},
    [QP_TIMESTAMPS] = {"timestamps", "boolean", "Prefix each log line with its time."},
    [QP_TTY] = {"tty", "boolean", "Allocate a terminal for the command."},
    [QP_WATCH] = {"watch", "boolean", "Stream changes instead of returning a list."},
};

#define QP_WRITE (BIT(QP_DRY_RUN) | BIT(QP_FIELD_MANAGER) | BIT(QP_FIELD_VALIDATION))
#define QP_LIST                                                                          \
    (BIT(QP_ALLOW_WATCH_BOOKMARKS) | BIT(QP_CONTINUE) | BIT(QP_FIELD_SELECTOR) |         \
     BIT(QP_LABEL_SELECTOR) | BIT(QP_LIMIT) | BIT(QP_RESOURCE_VERSION) | BIT(QP_TIMEOUT) | \
     BIT(QP_WATCH))
#define QP_DELETE (BIT(QP_DRY_RUN) | BIT(QP_GRACE_PERIOD) | BIT(QP_PROPAGATION))
#define QP_LOG                                                                               \
    (BIT(QP_CONTAINER) | BIT(QP_FOLLOW) | BIT(QP_PREVIOUS) | BIT(QP_SINCE_SECONDS) |         \
     BIT(QP_TAIL_LINES) | BIT(QP_TIMESTAMPS))
#define QP_EXEC                                                                              \
    (BIT(QP_COMMAND) | BIT(QP_CONTAINER) | BIT(QP_STDERR) | BIT(QP_STDIN) | BIT(QP_STDOUT) | \
     BIT(QP_TTY))

/* ---- operations ---- */

enum body { BODY_NONE, BODY_OBJECT, BODY_PATCH, BODY_DELETE };
enum answer { ANSWER_OBJECT, ANSWER_LIST, ANSWER_STATUS, ANSWER_TEXT };

enum op_id {
    OP_LIST,
    OP_CREATE,
    OP_DELETE_COLLECTION,
    OP_READ,
    OP_REPLACE,
    OP_PATCH,
    OP_DELETE,
    OP_READ_LOG,
    OP_CONNECT_GET,
    OP_CONNECT_POST,
    OP_N
};

static const struct op {
    const char *method;  /* the key in the path item */
    const char *action;  /* x-kubernetes-action */
    const char *id_verb; /* the operationId's first word */
    const char *words;   /* the description's verb phrase */
    unsigned params;     /* QP_ bits */
    enum body body;
    enum answer answer;
    const char *codes; /* the success codes */
} ops[OP_N] = {
    [OP_LIST] = {"get", "list", "list", "list or watch objects of kind", QP_LIST, BODY_NONE,
                 ANSWER_LIST, "200"},
    [OP_CREATE] = {"post", "post", "create", "create", QP_WRITE, BODY_OBJECT, ANSWER_OBJECT,
                   "200,201,202"},
    [OP_DELETE_COLLECTION] = {"delete", "deletecollection", "deleteCollection",
                              "delete collection of", QP_LIST | QP_DELETE, BODY_DELETE,
                              ANSWER_STATUS, "200"},
    [OP_READ] = {"get", "get", "read", "read", 0, BODY_NONE, ANSWER_OBJECT, "200"},
    [OP_REPLACE] = {"put", "put", "replace", "replace", QP_WRITE, BODY_OBJECT, ANSWER_OBJECT,
                    "200,201"},
    [OP_PATCH] = {"patch", "patch", "patch", "partially update", QP_WRITE | BIT(QP_FORCE),
                  BODY_PATCH, ANSWER_OBJECT, "200,201"},
    [OP_DELETE] = {"delete", "delete", "delete", "delete", QP_DELETE, BODY_DELETE, ANSWER_OBJECT,
                   "200,202"},
    [OP_READ_LOG] = {"get", "get", "read", "read", QP_LOG, BODY_NONE, ANSWER_TEXT, "200"},
    [OP_CONNECT_GET] = {"get", "connect", "connectGet", "connect GET requests to", QP_EXEC,
                        BODY_NONE, ANSWER_TEXT, "200"},
    [OP_CONNECT_POST] = {"post", "connect", "connectPost", "connect POST requests to", QP_EXEC,
                         BODY_NONE, ANSWER_TEXT, "200"},
};

static const char *const patch_types[] = {
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
};

static const struct {
    const char *code, *description;
} code_names[] = {{"200", "OK"}, {"201", "Created"}, {"202", "Accepted"}};

/* A subresource verb's operation: the object ones, except for the streams. */
static enum op_id subresource_op(const char *sub, const char *verb)
{
    static const struct {
        const char *sub, *verb;
        enum op_id op;
    } streams[] = {{"log", "get", OP_READ_LOG},
                   {"exec", "get", OP_CONNECT_GET},
                   {"exec", "create", OP_CONNECT_POST}};
    static const struct {
        const char *verb;
        enum op_id op;
    } plain[] = {{"get", OP_READ}, {"update", OP_REPLACE}, {"patch", OP_PATCH},
                 {"create", OP_CREATE}};
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
        if (strcmp(streams[i].sub, sub) == 0 && strcmp(streams[i].verb, verb) == 0)
            return streams[i].op;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(plain[i].verb, verb) == 0)
            return plain[i].op;
    return OP_N;
}

/* ---- value types ---- */

static const struct scalar {
    enum kube_vtype vtype;
    const char *type, *format;
    const char *zero; /* the JSON of the "default" Kubernetes gives it, or NULL */
} scalars[] = {
    {KUBE_V_STRING, "string", NULL, "\"\""}, {KUBE_V_BYTES, "string", "byte", NULL},
    {KUBE_V_BOOL, "boolean", NULL, "false"}, {KUBE_V_INT32, "integer", "int32", "0"},
    {KUBE_V_INT64, "integer", "int64", "0"},  {KUBE_V_DOUBLE, "number", "double", "0.0"},
};

/* Value types with a schema of their own, referenced by the fields that
 * hold them (field: only for fields of that name). */
static const struct special {
    enum kube_vtype vtype;
    const char *field;
    const char *name;
    const char *shape; /* the schema, without its description */
} specials[] = {
    {KUBE_V_TIME, NULL, META "Time", "{\"type\":\"string\",\"format\":\"date-time\"}"},
    {KUBE_V_DURATION, NULL, META "Duration", "{\"type\":\"string\"}"},
    {KUBE_V_RAW, "fieldsV1", META "FieldsV1", "{\"type\":\"object\"}"},
    {KUBE_V_RAW, NULL, "io.k8s.apimachinery.pkg.runtime.RawExtension", "{\"type\":\"object\"}"},
    {KUBE_V_QUANTITY, NULL, "io.k8s.apimachinery.pkg.api.resource.Quantity",
     "{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"number\"}]}"},
    {KUBE_V_INT_OR_STRING, NULL, "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
     "{\"format\":\"int-or-string\",\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}"},
};

/* meta/v1 types that are kinds of the core group in Kubernetes' documents,
 * though the schema lists them with no kind. */
static const char *const meta_kinds[] = {"Status", "DeleteOptions"};

/* What every document references besides the kinds of its resources. */
static const char *const always_schemas[] = {META "Status", META "DeleteOptions", META "Patch"};

static const struct scalar *scalar_of(enum kube_vtype vt)
{
    for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (scalars[i].vtype == vt)
            return &scalars[i];
    return NULL;
}

/* Sets "default" to the zero value of a scalar type. */
static void set_zero_default(json_t *o, enum kube_vtype vt)
{
    const struct scalar *sc = scalar_of(vt);
    if (sc && sc->zero)
        json_object_set_new(o, "default", json_loads(sc->zero, JSON_DECODE_ANY, NULL));
}

static const struct special *special_of(const struct kube_field *f)
{
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
        if (specials[i].vtype == f->vtype &&
            (!specials[i].field || strcmp(specials[i].field, f->name) == 0))
            return &specials[i];
    return NULL;
}

/* ---- one group/version's document ---- */

struct gv_builder {
    const char *group, *version;
    char prefix[128]; /* "/api/v1", "/apis/apps/v1" */
    char tag[96];     /* "core_v1", "coordination_v1" */
    char id_gv[96];   /* operationId part: "CoreV1", "CoordinationV1" */
    json_t *paths, *schemas;
};

/* A reference to a schema; a bare object if the schema lacks the type. */
static json_t *ref(const char *name)
{
    if (!name)
        return json_pack("{s:s}", "type", "object");
    char buf[256];
    snprintf(buf, sizeof buf, SCHEMA_REF "%s", name);
    return json_pack("{s:s}", "$ref", buf);
}

static json_t *all_of(json_t *reference)
{
    return json_pack("{s:[o]}", "allOf", reference);
}

static void set_description(json_t *o, const char *d)
{
    if (d && d[0])
        json_object_set_new(o, "description", json_string(d));
}

static json_t *gvk_object(const char *group, const char *version, const char *kind)
{
    return json_pack("{s:s, s:s, s:s}", "group", group, "kind", kind, "version", version);
}

static void schema_add(struct gv_builder *b, const struct kube_type *t);

static void special_add(struct gv_builder *b, const struct special *sp)
{
    if (json_object_get(b->schemas, sp->name))
        return;
    json_t *s = json_loads(sp->shape, 0, NULL);
    const struct kube_type *t = kube_schema_type(sp->name);
    set_description(s, t ? t->description : NULL);
    json_object_set_new(b->schemas, sp->name, s);
}

/* The schema of one value of field f (an element, for lists and maps):
 * {"type":...} for scalars, {"$ref":...} otherwise (its schema added). */
static json_t *value_schema(struct gv_builder *b, const struct kube_field *f)
{
    const struct scalar *sc = scalar_of(f->vtype);
    if (sc) {
        json_t *s = json_pack("{s:s}", "type", sc->type);
        if (sc->format)
            json_object_set_new(s, "format", json_string(sc->format));
        return s;
    }
    if (f->vtype == KUBE_V_OBJECT && f->type) {
        schema_add(b, f->type);
        return ref(f->type->name);
    }
    const struct special *sp = special_of(f);
    if (sp) {
        special_add(b, sp);
        return ref(sp->name);
    }
    return json_pack("{s:s}", "type", "object");
}

/* The element of a list or map: structs get Kubernetes' allOf + default {},
 * scalars their zero value as default. */
static json_t *element_schema(struct gv_builder *b, const struct kube_field *f)
{
    json_t *v = value_schema(b, f);
    if (f->vtype == KUBE_V_OBJECT && f->type) {
        v = all_of(v);
        json_object_set_new(v, "default", json_object());
    } else {
        set_zero_default(v, f->vtype);
    }
    return v;
}

static void set_markers(json_t *p, const struct kube_field *f)
{
    if (f->list_type)
        json_object_set_new(p, "x-kubernetes-list-type", json_string(f->list_type));
    if (f->list_map_keys[0]) {
        json_t *keys = json_array();
        for (size_t i = 0; i < 4 && f->list_map_keys[i]; i++)
            json_array_append_new(keys, json_string(f->list_map_keys[i]));
        json_object_set_new(p, "x-kubernetes-list-map-keys", keys);
    }
    if (f->patch_merge_key)
        json_object_set_new(p, "x-kubernetes-patch-merge-key", json_string(f->patch_merge_key));
    if (f->patch_strategy)
        json_object_set_new(p, "x-kubernetes-patch-strategy", json_string(f->patch_strategy));
}

/* A field as a property of its type's schema. A struct field defaults to
 * {} where Kubernetes' mostly does (required ones, and those of a kind:
 * metadata, spec and status are values, not pointers, in Go); a required
 * scalar to its zero value. */
static json_t *property(struct gv_builder *b, const struct kube_type *owner,
                        const struct kube_field *f)
{
    json_t *p;
    if (f->repeated || f->map) {
        p = json_pack("{s:s, s:o}", "type", f->repeated ? "array" : "object",
                      f->repeated ? "items" : "additionalProperties", element_schema(b, f));
    } else {
        p = value_schema(b, f);
        if (json_object_get(p, "$ref"))
            p = all_of(p);
        if (f->vtype == KUBE_V_OBJECT && (f->required || owner->kind))
            json_object_set_new(p, "default", json_object());
        else if (f->required)
            set_zero_default(p, f->vtype);
    }
    set_description(p, f->description);
    set_markers(p, f);
    return p;
}

static bool is_meta_kind(const struct kube_type *t, const char **kind)
{
    for (size_t i = 0; i < sizeof meta_kinds / sizeof meta_kinds[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, META "%s", meta_kinds[i]);
        if (strcmp(t->name, name) == 0) {
            *kind = meta_kinds[i];
            return true;
        }
    }
    return false;
}

/* Status and DeleteOptions: the kind list and apiVersion/kind properties
 * (TypeMeta's) their schema lacks. */
static void add_meta_kind(json_t *s, const char *kind)
{
    const struct kube_type *tm = kube_schema_type(META "TypeMeta");
    json_t *props = json_object_get(s, "properties");
    for (unsigned i = 0; tm && props && i < tm->n_fields; i++) {
        json_t *p = json_pack("{s:s}", "type", "string");
        set_description(p, tm->fields[i].description);
        json_object_set_new(props, tm->fields[i].name, p);
    }
    json_object_set_new(s, "x-kubernetes-group-version-kind",
                        json_pack("[o]", gvk_object("", "v1", kind)));
}

/* Adds t's schema and, through its fields, every schema it references.
 * The entry is inserted before the fields are walked, which ends cycles. */
static void schema_add(struct gv_builder *b, const struct kube_type *t)
{
    if (json_object_get(b->schemas, t->name))
        return;
    json_t *s = json_object();
    json_object_set_new(b->schemas, t->name, s);
    set_description(s, t->description);
    json_object_set_new(s, "type", json_string("object"));
    json_t *props = json_object(), *required = json_array();
    for (unsigned i = 0; i < t->n_fields; i++) {
        const struct kube_field *f = &t->fields[i];
        json_object_set_new(props, f->name, property(b, t, f));
        if (f->required)
            json_array_append_new(required, json_string(f->name));
    }
    if (t->n_fields)
        json_object_set_new(s, "properties", props);
    else
        json_decref(props);
    if (json_array_size(required))
        json_object_set_new(s, "required", required);
    else
        json_decref(required);
    const char *kind;
    if (t->kind)
        json_object_set_new(s, "x-kubernetes-group-version-kind",
                            json_pack("[o]", gvk_object(t->group, t->version, t->kind)));
    else if (is_meta_kind(t, &kind))
        add_meta_kind(s, kind);
}

/* A type's schema name, its schema added; NULL if the schema lacks it. */
static const char *schema_name(struct gv_builder *b, const struct kube_type *t)
{
    if (!t)
        return NULL;
    schema_add(b, t);
    return t->name;
}

/* ---- paths ---- */

/* What a path's operations act on. */
struct target {
    const struct resource *r;
    const char *sub;          /* the subresource, or NULL */
    const char *g, *v, *k;    /* the kind taken and returned */
    bool ns;                  /* the path has {namespace} */
    bool item;                /* the path has {name} */
    bool all_namespaces;      /* the list across namespaces */
};

static json_t *parameter(const char *name, const char *in, const char *type,
                         const char *description, bool required)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:{s:s}}", "name", name, "in", in, "description",
                          description, "schema", "type", type);
    if (required)
        json_object_set_new(p, "required", json_true());
    return p;
}

static json_t *query_parameters(unsigned bits)
{
    json_t *a = json_array();
    for (unsigned q = 0; q < QP_N; q++)
        if (bits & BIT(q))
            json_array_append_new(a, parameter(qparams[q].name, "query", qparams[q].type,
                                               qparams[q].description, false));
    return a;
}

static json_t *path_parameters(const struct target *t)
{
    json_t *a = json_array();
    char d[160];
    if (t->item) {
        snprintf(d, sizeof d, "name of the %s", t->r->kind);
        json_array_append_new(a, parameter("name", "path", "string", d, true));
    }
    if (t->ns)
        json_array_append_new(a, parameter("namespace", "path", "string",
                                           "object name and auth scope, such as for teams "
                                           "and projects",
                                           true));
    json_array_append_new(a, parameter("pretty", "query", "string",
                                       "If 'true', the output is pretty printed.", false));
    return a;
}

static void capitalize_into(char *buf, size_t len, const char *word)
{
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s", word);
    if (buf[n] >= 'a' && buf[n] <= 'z')
        buf[n] = (char)(buf[n] - 'a' + 'A');
}

/* "listCoreV1NamespacedPod", "patchAppsV1NamespacedDeploymentScale",
 * "listCoreV1PodForAllNamespaces". */
static void operation_id(char *buf, size_t len, const struct gv_builder *b, const struct op *op,
                         const struct target *t)
{
    snprintf(buf, len, "%s%s%s%s", op->id_verb, b->id_gv, t->ns ? "Namespaced" : "",
             t->r->kind);
    if (t->sub)
        capitalize_into(buf, len, t->sub);
    if (t->all_namespaces)
        capitalize_into(buf, len, "ForAllNamespaces");
}

static json_t *media(const char *const *types, size_t n, json_t *schema)
{
    json_t *c = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(c, types[i], json_pack("{s:O}", "schema", schema));
    json_decref(schema);
    return c;
}

/* The schema an operation answers with. */
static json_t *answer_schema(struct gv_builder *b, const struct op *op, const struct target *t)
{
    char list_kind[160];
    switch (op->answer) {
    case ANSWER_TEXT:
        return json_pack("{s:s}", "type", "string");
    case ANSWER_STATUS:
        return ref(schema_name(b, kube_schema_type(META "Status")));
    case ANSWER_LIST:
        snprintf(list_kind, sizeof list_kind, "%sList", t->k);
        return ref(schema_name(b, kube_schema_kind(t->g, t->v, list_kind)));
    case ANSWER_OBJECT:
        break;
    }
    return ref(schema_name(b, kube_schema_kind(t->g, t->v, t->k)));
}

static json_t *responses(struct gv_builder *b, const struct op *op, const struct target *t)
{
    static const char *const json_types[] = {"application/json"};
    static const char *const list_types[] = {"application/json",
                                             "application/json;stream=watch"};
    static const char *const text_types[] = {"text/plain"};
    json_t *rs = json_object();
    const char *csv = op->codes;
    char code[8];
    while (discovery_csv_next(&csv, code, sizeof code)) {
        json_t *schema = answer_schema(b, op, t);
        json_t *content = op->answer == ANSWER_LIST   ? media(list_types, 2, schema)
                          : op->answer == ANSWER_TEXT ? media(text_types, 1, schema)
                                                      : media(json_types, 1, schema);
        const char *words = "OK";
        for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
            if (strcmp(code_names[i].code, code) == 0)
                words = code_names[i].description;
        json_object_set_new(rs, code,
                            json_pack("{s:s, s:o}", "description", words, "content", content));
    }
    return rs;
}

static json_t *request_body(struct gv_builder *b, const struct op *op, const struct target *t)
{
    static const char *const any[] = {"*/*"};
    switch (op->body) {
    case BODY_OBJECT:
        return json_pack("{s:o, s:b}", "content",
                         media(any, 1, ref(schema_name(b, kube_schema_kind(t->g, t->v, t->k)))),
                         "required", true);
    case BODY_PATCH:
        return json_pack("{s:o, s:b}", "content",
                         media(patch_types, sizeof patch_types / sizeof patch_types[0],
                               ref(schema_name(b, kube_schema_type(META "Patch")))),
                         "required", true);
    case BODY_DELETE:
        return json_pack("{s:o}", "content",
                         media(any, 1, ref(schema_name(b, kube_schema_type(META "DeleteOptions")))));
    case BODY_NONE:
        break;
    }
    return NULL;
}

static json_t *operation(struct gv_builder *b, const struct op *op, const struct target *t)
{
    char id[256], desc[256];
    operation_id(id, sizeof id, b, op, t);
    if (t->sub)
        snprintf(desc, sizeof desc, "%s %s of the specified %s", op->words, t->sub, t->r->kind);
    else if (t->item)
        snprintf(desc, sizeof desc, "%s the specified %s", op->words, t->r->kind);
    else
        snprintf(desc, sizeof desc, "%s %s", op->words, t->r->kind);
    json_t *o = json_pack("{s:s, s:s, s:o, s:[s], s:s, s:o}", "description", desc, "operationId",
                          id, "responses", responses(b, op, t), "tags", b->tag,
                          "x-kubernetes-action", op->action, "x-kubernetes-group-version-kind",
                          gvk_object(t->g, t->v, t->k));
    if (op->params)
        json_object_set_new(o, "parameters", query_parameters(op->params));
    json_t *body = request_body(b, op, t);
    if (body)
        json_object_set_new(o, "requestBody", body);
    return o;
}

/* Adds path with the given operations (OP_N ends the list). */
static void add_path(struct gv_builder *b, const char *path, const struct target *t,
                     const enum op_id *list)
{
    json_t *item = json_pack("{s:o}", "parameters", path_parameters(t));
    for (; *list != OP_N; list++)
        json_object_set_new(item, ops[*list].method, operation(b, &ops[*list], t));
    json_object_set_new(b->paths, path, item);
}

static void add_subresource_paths(struct gv_builder *b, const char *item_path,
                                  const struct target *item)
{
    const char *csv = item->r->subresources;
    char sub[32];
    while (discovery_csv_next(&csv, sub, sizeof sub)) {
        const struct discovery_subresource *sr = discovery_subresource(sub);
        if (!sr)
            continue;
        struct target t = *item;
        t.sub = sr->name;
        discovery_subresource_kind(item->r, sr, &t.g, &t.v, &t.k);
        enum op_id list[8];
        size_t n = 0;
        const char *verbs = sr->verbs;
        char verb[32];
        while (n + 1 < sizeof list / sizeof list[0] && discovery_csv_next(&verbs, verb, sizeof verb))
            if (subresource_op(sub, verb) != OP_N)
                list[n++] = subresource_op(sub, verb);
        list[n] = OP_N;
        char path[320];
        snprintf(path, sizeof path, "%s/%s", item_path, sub);
        add_path(b, path, &t, list);
    }
}

static void add_resource_paths(struct gv_builder *b, const struct resource *r)
{
    static const enum op_id collection_ops[] = {OP_LIST, OP_CREATE, OP_DELETE_COLLECTION, OP_N};
    static const enum op_id item_ops[] = {OP_READ, OP_REPLACE, OP_PATCH, OP_DELETE, OP_N};
    static const enum op_id all_ops[] = {OP_LIST, OP_N};
    struct target t = {.r = r, .g = r->group, .v = r->version, .k = r->kind, .ns = r->namespaced};
    char collection[256], item[320];
    snprintf(collection, sizeof collection, "%s%s/%s", b->prefix,
             r->namespaced ? "/namespaces/{namespace}" : "", r->plural);
    snprintf(item, sizeof item, "%s/{name}", collection);
    add_path(b, collection, &t, collection_ops);
    t.item = true;
    add_path(b, item, &t, item_ops);
    add_subresource_paths(b, item, &t);
    if (r->namespaced) {
        struct target all = {.r = r, .g = r->group, .v = r->version, .k = r->kind,
                             .all_namespaces = true};
        snprintf(collection, sizeof collection, "%s/%s", b->prefix, r->plural);
        add_path(b, collection, &all, all_ops);
    }
}

/* "coordination.k8s.io" -> words "coordination"; "rbac.authorization.k8s.io"
 * -> "rbac", "authorization". Kubernetes' tags and operation ids drop the
 * ".k8s.io" suffix. */
static void gv_names(struct gv_builder *b)
{
    char group[96];
    snprintf(group, sizeof group, "%s", b->group[0] ? b->group : "core");
    size_t n = strlen(group);
    if (n > 7 && strcmp(group + n - 7, ".k8s.io") == 0)
        group[n - 7] = '\0';
    b->tag[0] = b->id_gv[0] = '\0';
    char *save = NULL;
    for (char *w = strtok_r(group, ".", &save); w; w = strtok_r(NULL, ".", &save)) {
        size_t t = strlen(b->tag);
        snprintf(b->tag + t, sizeof b->tag - t, "%s_", w);
        capitalize_into(b->id_gv, sizeof b->id_gv, w);
    }
    size_t t = strlen(b->tag);
    snprintf(b->tag + t, sizeof b->tag - t, "%s", b->version);
    capitalize_into(b->id_gv, sizeof b->id_gv, b->version);
    if (b->group[0])
        snprintf(b->prefix, sizeof b->prefix, "/apis/%s/%s", b->group, b->version);
    else
        snprintf(b->prefix, sizeof b->prefix, "/api/%s", b->version);
}

json_t *openapi_gv_document(const char *group, const char *version)
{
    struct gv_builder b = {.group = group, .version = version, .paths = json_object(),
                           .schemas = json_object()};
    gv_names(&b);
    for (unsigned i = 0; resource_at(i); i++) {
        const struct resource *r = resource_at(i);
        if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0)
            add_resource_paths(&b, r);
    }
    for (size_t i = 0; i < sizeof always_schemas / sizeof always_schemas[0]; i++)
        schema_name(&b, kube_schema_type(always_schemas[i]));
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:{s:o}}", "openapi", "3.0.0", "info", "title",
                     "Kubernetes", "version", "v1.32.0", "paths", b.paths, "components",
                     "schemas", b.schemas);
}

/* ---- the cache ---- */

struct gv_doc {
    char path[128]; /* "api/v1", "apis/apps/v1" */
    char hash[17];  /* FNV-1a 64 of json, uppercase hex */
    char *json;
    size_t len;
};

/* Written once, by cache_build under cache_once; read-only afterwards. */
static struct {
    struct gv_doc *docs;
    unsigned n;
    char *root;
    size_t root_len;
} cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;


static char *dump(json_t *v, size_t *len)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(v);
    if (!s)
        s = xstrdup("{}");
    *len = strlen(s);
    return s;
}

static void cache_build(void)
{
    uint64_t t0 = util_now_us();
    size_t total = 0;
    while (discovery_gv_at(cache.n))
        cache.n++;
    cache.docs = xcalloc(cache.n ? cache.n : 1, sizeof *cache.docs);
    json_t *paths = json_object();
    for (unsigned i = 0; i < cache.n; i++) {
        const struct resource *gv = discovery_gv_at(i);
        struct gv_doc *d = &cache.docs[i];
        if (gv->group[0])
            snprintf(d->path, sizeof d->path, "apis/%s/%s", gv->group, gv->version);
        else
            snprintf(d->path, sizeof d->path, "api/%s", gv->version);
        d->json = dump(openapi_gv_document(gv->group, gv->version), &d->len);
        snprintf(d->hash, sizeof d->hash, "%016" PRIX64, util_hash(UTIL_HASH_SEED, d->json, d->len));
        total += d->len;
        char url[256];
        snprintf(url, sizeof url, V3_PREFIX "/%s?hash=%s", d->path, d->hash);
        json_object_set_new(paths, d->path, json_pack("{s:s}", "serverRelativeURL", url));
    }
    cache.root = dump(json_pack("{s:o}", "paths", paths), &cache.root_len);
    LOG_INFO("openapi: %u group/version documents, %zu bytes, built in %.1f ms", cache.n, total,
             (double)(util_now_us() - t0) / 1000.0);
}

/* ---- serving ---- */

static enum MHD_Result reply_cached(struct request *rq, const char *data, size_t len,
                                    bool immutable)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control",
                            immutable ? "public, immutable" : "no-cache, private");
    return http_queue(rq, 200, r);
}

static const struct gv_doc *doc_find(const char *path)
{
    size_t n = strlen(path);
    while (n && path[n - 1] == '/')
        n--;
    for (unsigned i = 0; i < cache.n; i++)
        if (strlen(cache.docs[i].path) == n && strncmp(cache.docs[i].path, path, n) == 0)
            return &cache.docs[i];
    return NULL;
}

enum MHD_Result openapi_handle(struct request *rq)
{
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
        return reply_status(rq, 405, "MethodNotAllowed", "%s is not supported on %s",
                            rq->method, rq->url);
    if (strcmp(rq->url, V2_PATH) == 0)
        return openapi_v2_handle(rq);
    size_t plen = strlen(V3_PREFIX);
    if (strncmp(rq->url, V3_PREFIX, plen) != 0 || (rq->url[plen] && rq->url[plen] != '/'))
        return reply_status(rq, 404, "NotFound", "the server could not find the requested "
                                                 "resource");
    pthread_once(&cache_once, cache_build);
    const char *rest = rq->url + plen;
    while (*rest == '/')
        rest++;
    if (!*rest)
        return reply_cached(rq, cache.root, cache.root_len, false);
    const struct gv_doc *d = doc_find(rest);
    if (!d)
        return reply_status(rq, 404, "NotFound", "no OpenAPI document for %s", rest);
    const char *hash = request_arg(rq, "hash");
    return reply_cached(rq, d->json, d->len, hash && strcmp(hash, d->hash) == 0);
}
