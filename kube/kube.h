/* kube — Kubernetes object semantics, with no I/O: the API schema, label
 * selectors, the patch engines, and Table rendering. server/ calls these
 * between parsing a request and proposing a write; controllers and the
 * scheduler reuse the selectors.
 *
 * The schema (schema.c) is generated at build time from Debian's sources of
 * k8s.io/api and k8s.io/apimachinery 0.32.3 (their generated.proto files:
 * field names, protobuf numbers, types, documentation, and the patch and list
 * markers), so OpenAPI, strict field validation, strategic merge patch,
 * server-side apply and protobuf decoding all read one description of the
 * types; the metrics.k8s.io types, which those sources lack, are written by
 * hand in schema_metrics.c. Pods (pod.c): binding, requests, tolerations
 * and node affinity, shared by the scheduler and the controllers; cron
 * schedules (validate_cron.c) for validation and the CronJob controller.
 * Everything here is immutable or owned by the caller, so any thread
 * may call any function. */
#ifndef BOSUN_KUBE_H
#define BOSUN_KUBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the schema (schema.c, data generated into build/gen/) ---- */

/* How a field's value looks in JSON. */
enum kube_vtype {
    KUBE_V_STRING,
    KUBE_V_BYTES, /* base64 string in JSON */
    KUBE_V_BOOL,
    KUBE_V_INT32,
    KUBE_V_INT64,
    KUBE_V_DOUBLE,
    KUBE_V_OBJECT,        /* a message: see field->type */
    KUBE_V_QUANTITY,      /* resource.Quantity: "100m", "1Gi" (JSON string or number) */
    KUBE_V_INT_OR_STRING, /* intstr.IntOrString: 3 or "25%" */
    KUBE_V_TIME,          /* meta/v1 Time and MicroTime: RFC 3339 string */
    KUBE_V_DURATION,      /* meta/v1 Duration: "1m30s" */
    KUBE_V_RAW,           /* any JSON: RawExtension, FieldsV1, apiextensions JSON */
};

struct kube_type;

struct kube_field {
    const char *name;           /* the JSON name, e.g. "initContainers" */
    unsigned num;               /* protobuf field number */
    enum kube_vtype vtype;      /* for lists and maps: of each element/value */
    const struct kube_type *type; /* KUBE_V_OBJECT only */
    bool repeated;              /* a JSON array */
    bool map;                   /* a JSON object with string keys (map<string, V>) */
    const char *description;
    const char *patch_strategy; /* "merge", "retainKeys", "merge,retainKeys" or NULL */
    const char *patch_merge_key; /* e.g. "name", or NULL */
    const char *list_type;      /* "atomic", "set", "map", or NULL */
    const char *list_map_keys[4]; /* for list_type "map"; NULL-terminated */
    bool inlined;  /* JSON-only: comes from an inline member (see kube_type) */
    bool required; /* neither +optional nor omitempty in Kubernetes */
    bool omit_zero; /* a scalar Go omits from JSON when zero ("", 0, false):
                       omitempty and not a pointer; protobuf sends it anyway */
};

struct kube_type {
    const char *name;        /* OpenAPI name: "io.k8s.api.core.v1.PodSpec" */
    const char *description;
    const char *group, *version, *kind; /* set for top-level kinds only */
    const struct kube_field *fields; /* the JSON view, sorted by name */
    unsigned n_fields;
    /* Members Go inlines into this type's JSON (Volume's volumeSource):
     * their fields appear in `fields` marked inlined; protobuf keeps them
     * as a nested message with this number. */
    const struct kube_field *inlines;
    unsigned n_inlines;
};

/* The generated index of kinds (schema.c). */
struct kube_schema_kind {
    const char *gvk; /* "group/version/Kind", "" group for core */
    unsigned type;   /* index into the types */
};

/* A type by OpenAPI name, or NULL. */
const struct kube_type *kube_schema_type(const char *name);
/* The top-level type of a kind ("" group for core), or NULL. */
const struct kube_type *kube_schema_kind(const char *group, const char *version,
                                         const char *kind);
/* A field of a type by JSON name, or NULL. For top-level kinds, "apiVersion"
 * and "kind" are fields too. */
const struct kube_field *kube_type_field(const struct kube_type *t, const char *name);
/* Every type, for OpenAPI documents: i from 0 until NULL. */
const struct kube_type *kube_schema_type_at(unsigned i);

/* ---- label selectors (selector.c) ---- */

/* A parsed label selector: the string form of `?labelSelector=`
 * ("a=b,c!=d,e in (f,g),h notin (i),j,!k"), or a LabelSelector object
 * ({matchLabels, matchExpressions}). The empty selector matches
 * everything. */
struct kube_selector;
/* NULL on a syntax error, with the reason in err. */
struct kube_selector *kube_selector_parse(const char *s, char *err, size_t errlen);
struct kube_selector *kube_selector_from_json(json_t *label_selector, char *err, size_t errlen);
/* labels: the object's metadata.labels (a JSON object), or NULL. */
bool kube_selector_match(const struct kube_selector *sel, json_t *labels);
bool kube_selector_empty(const struct kube_selector *sel);
void kube_selector_free(struct kube_selector *sel);

/* ---- patches (patch.c) ----
 * Each returns a new document (the caller owns it) and leaves doc and patch
 * untouched; on failure NULL, with what is wrong in err (a patch that does
 * not apply: a test op that fails, a path that does not exist, a directive
 * with the wrong shape). */
json_t *kube_patch_merge(json_t *doc, json_t *patch, char *err, size_t errlen);   /* RFC 7386 */
json_t *kube_patch_json(json_t *doc, json_t *ops, char *err, size_t errlen);      /* RFC 6902 */
/* Strategic merge patch; type is the document's top-level type (merge keys
 * and strategies come from the schema); NULL type merges like RFC 7386 but
 * keeps the directives' meaning where it can. */
json_t *kube_patch_strategic(const struct kube_type *type, json_t *doc, json_t *patch, char *err,
                             size_t errlen);

/* ---- tables (table.c) ----
 * The columns `kubectl get` prints for a kind, as Kubernetes' printers
 * define them (meta.k8s.io/v1 TableColumnDefinition objects; priority 1
 * columns are -o wide only), and one row's cells for an object. now is the
 * wall clock in seconds, for AGE and the like. */
json_t *kube_table_columns(const char *group, const char *kind);
json_t *kube_table_cells(const char *group, const char *kind, json_t *obj, int64_t now);

/* ---- server-side apply and managed fields (apply.c) ----
 * managedFields entries are Kubernetes' metav1.ManagedFieldsEntry:
 * {manager, operation Apply|Update, apiVersion, time, fieldsType "FieldsV1",
 * fieldsV1, subresource}. */

/* Server-side apply of config (the applied configuration) by manager onto
 * live (NULL when the object does not exist yet), for the main resource or
 * a subresource ("" or "status"). Returns the new object, with
 * metadata.managedFields updated, or NULL: on conflicts with other managers
 * (force false) *conflicts is set to a JSON array of
 * {"reason":"FieldManagerConflict","message":"conflict with \"mgr\": .spec.replicas",
 *  "field":".spec.replicas"} and err says "Apply failed with N conflict(s): ...";
 * on a configuration that cannot be applied, err says why and *conflicts
 * stays NULL. now is an RFC 3339 time. */
json_t *kube_apply(const struct kube_type *t, json_t *live, json_t *config, const char *manager,
                   const char *subresource, bool force, const char *now, json_t **conflicts,
                   char *err, size_t errlen);
/* Every other write (create, update, patch) by manager: records in next's
 * metadata.managedFields (operation Update) the fields manager set or
 * changed relative to old (NULL on create), taking them from other
 * managers' sets, as Kubernetes' field manager does. */
void kube_managed_fields_update(const struct kube_type *t, json_t *old, json_t *next,
                                const char *manager, const char *subresource, const char *now);

/* ---- defaulting, schema checks and validation (defaults.c, validate.c) ---- */

/* A metav1.Status: "Success" below 400, else "Failure" with reason (the
 * server's error answers, and the agent's kubelet endpoint's). */
json_t *kube_status(unsigned code, const char *reason, const char *message);

/* Kubernetes' defaulting for a new or updated object (the SetDefaults_*
 * functions of the API group, and what the registry prepares: a Secret's
 * stringData folded into data). Cluster state (a Service's clusterIP) is
 * the server's. */
void kube_defaults_apply(const char *group, const char *kind, json_t *obj);
/* Decoding rules against the schema (check.c): a JSON value of the wrong
 * type, or one its type cannot parse (a bad quantity, base64 or time), is a
 * cause {"reason":"FieldValueTypeInvalid", "message":"expected an integer,
 * got a string", "field":".spec.containers[0].ports[0].containerPort"}; a
 * field the schema does not know is a cause {"reason":"FieldValueInvalid",
 * "message":"unknown field \"spec.foo\"", "field":".spec.foo"} when strict,
 * and is dropped from obj otherwise (Kubernetes prunes unknown fields).
 * null is accepted anywhere (unset). Returns NULL when clean, or a JSON
 * array of at most 100 causes; either way the server answers 400. */
json_t *kube_schema_check(const struct kube_type *t, json_t *obj, bool strict);
/* A resource.Quantity ("100m", "1Gi", "1e3", "0.5") as a number; false when
 * s is not one (check.c). */
bool kube_quantity_parse(const char *s, double *value);
/* Kubernetes' validation of an object (ValidatePod, ValidateDeployment,
 * ...), run after kube_defaults_apply; old is the stored object on update
 * (immutable fields), NULL on create. NULL when valid (or the kind is not
 * one bosun validates), or a JSON array of causes {reason
 * (FieldValueRequired, FieldValueInvalid, FieldValueNotSupported,
 * FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong,
 * FieldValueTooMany, FieldValueNotFound), message (Kubernetes' text:
 * "Required value", "Invalid value: \"Foo\": ..."), field
 * ("spec.containers[0].image")}. The server expects metadata.name and
 * namespace filled (generateName resolved), a Job's generated selector in
 * place, and keeps a Service's allocated clusterIP when an update leaves it
 * empty. */
json_t *kube_validate(const char *group, const char *kind, json_t *obj, json_t *old);

/* ---- cron schedules (validate_cron.c) ---- */

/* A CronJob schedule as robfig/cron/v3's ParseStandard leaves it: one bit
 * per allowed value of each field (minute 0-59, hour 0-23, dom 1-31, month
 * 1-12, dow 0-6); dom_star/dow_star when that field was "*" or "?" (then
 * the two day fields must both match, else either may); every_s > 0 for
 * "@every D" (a constant delay, whole seconds, the masks unused). A TZ= or
 * CRON_TZ= prefix is skipped. */
struct kube_cron {
    uint64_t minute, hour, dom, month, dow;
    bool dom_star, dow_star;
    int64_t every_s;
};
/* Parses spec into out (NULL: only validate); NULL on success, else
 * robfig's error text (in err or a constant). */
const char *kube_cron_parse(const char *spec, struct kube_cron *out, char *err, size_t errlen);

/* ---- pods (pod.c) ---- */

/* A pod bound to node, as pods/binding does it: spec.nodeName set, the
 * Binding's annotations merged into the pod's, a PodScheduled=True
 * condition at `now` (RFC 3339). A new object; NULL with the reason in err
 * when the pod is being deleted or already has a node (a 409). */
json_t *kube_pod_bind(json_t *pod, const char *node, json_t *annotations, const char *now,
                      char *err, size_t errlen);
/* What a pod asks of its node (see pod.c): cpu in millicores, memory in
 * bytes. nonzero counts unset container requests as 100m / 200Mi (the
 * scheduler's scoring). */
struct kube_pod_requests {
    int64_t cpu_milli;
    int64_t memory;
};
void kube_pod_requests(json_t *pod, bool nonzero, struct kube_pod_requests *out);
/* Whether one toleration (a JSON object of a pod's spec.tolerations)
 * tolerates the taint key=value:effect, as Kubernetes' ToleratesTaint: an
 * empty toleration effect matches every effect, an empty key every key,
 * Equal (or no operator) compares values, Exists ignores them. */
bool kube_toleration_matches(json_t *toleration, const char *key, const char *value,
                             const char *effect);
/* Whether node (a Node object) satisfies the pod spec's nodeSelector and
 * required node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt;
 * matchFields on metadata.name), as Kubernetes'
 * GetRequiredNodeAffinity(pod).Match(node). */
bool kube_node_affinity_match(json_t *pod_spec, json_t *node);
/* One NodeSelectorRequirement against a label's (or field's) value, NULL
 * when the node has no such label. */
bool kube_node_requirement_match(json_t *req, const char *value);
/* podutil.IsPodReady: the pod's Ready condition is True. */
bool kube_pod_ready(json_t *pod);
/* UpdatePodCondition: the pod's status.conditions entry of type (created,
 * with status and conditions if missing) gets status, reason and message;
 * lastTransitionTime becomes now (RFC 3339) when the status changes.
 * Returns whether anything changed. */
bool kube_pod_condition_set(json_t *pod, const char *type, const char *status,
                            const char *reason, const char *message, const char *now);
/* A Quantity (string or number) in whole units, or thousandths with milli,
 * rounded up as Kubernetes does; -1 when v is not a quantity. */
int64_t kube_quantity_value(json_t *v, bool milli);

/* ---- PodDisruptionBudgets (pdb.c) ---- */

/* Whether pdb covers pod: same namespace, and spec.selector (as
 * LabelSelectorAsSelector reads it: missing matches nothing, {} every pod)
 * matches the pod's labels; a selector that does not parse covers nothing. */
bool kube_pdb_selects(json_t *pdb, json_t *pod);
/* UpdateDisruptionAllowedCondition: status.conditions' DisruptionAllowed
 * is True/SufficientPods when status.disruptionsAllowed > 0, else
 * False/InsufficientPods, with status.observedGeneration; its
 * lastTransitionTime becomes now (RFC 3339) when the status changes.
 * pdb must have a status object. Returns whether anything changed. */
bool kube_pdb_condition_update(json_t *pdb, const char *now);
/* ConditionsAreUpToDate: the condition is there and agrees with
 * disruptionsAllowed, and observedGeneration is metadata.generation. */
bool kube_pdb_conditions_current(json_t *pdb);

/* ---- protobuf (protobuf.c) ---- */

/* Decodes a Kubernetes protobuf body (application/vnd.kubernetes.protobuf:
 * "k8s\0", then a runtime.Unknown envelope naming apiVersion and kind
 * around the object's own encoding) into the JSON object a client would
 * have sent, apiVersion and kind included; the caller owns it. NULL on
 * malformed input, an unknown kind, or a string JSON cannot carry (invalid
 * UTF-8, NUL), with the reason in err. */
json_t *kube_protobuf_decode(const void *buf, size_t len, char *err, size_t errlen);
/* Whether the KUBE_V_TIME field `field` of the type named type_name (its
 * OpenAPI name) is a meta/v1 MicroTime, which JSON shows with six
 * fractional digits, rather than a Time, shown in whole seconds. */
bool kube_protobuf_micro_time(const char *type_name, const char *field);
/* Decodes one bare message of type t (no magic, no envelope: what the
 * envelope's raw holds) into a new JSON object without apiVersion and
 * kind; NULL with the reason in err, as above. */
json_t *kube_protobuf_decode_message(const struct kube_type *t, const void *buf, size_t len,
                                     char *err, size_t errlen);

/* ---- storage protection (server/admit.c, controllers/protection.c) ---- */

/* The finalizers Kubernetes' StorageObjectInUseProtection admission puts on
 * every new claim and volume, and its controllers remove once unused. */
#define KUBE_PVC_PROTECTION_FINALIZER "kubernetes.io/pvc-protection"
#define KUBE_PV_PROTECTION_FINALIZER "kubernetes.io/pv-protection"

#endif
