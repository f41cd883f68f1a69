/* validate.c — Kubernetes' validation of API objects.
 *
 * The rules, field paths and messages of Kubernetes 1.32's
 * pkg/apis/{core,apps,batch,autoscaling,coordination,discovery,scheduling,policy}
 * /validation and of apimachinery's ObjectMeta, label and name checks, for
 * the kinds bosun serves, run on the defaulted JSON object. Each failure is
 * a cause {reason, message, field} as Kubernetes' field.Error renders it:
 *
 *   reason                 message (field.Error's ErrorBody)
 *   FieldValueRequired     Required value[: detail]
 *   FieldValueInvalid      Invalid value: <value>: detail
 *   FieldValueNotSupported Unsupported value: "x": supported values: "a", "b"
 *   FieldValueDuplicate    Duplicate value: "x"
 *   FieldValueForbidden    Forbidden: detail
 *   FieldValueTooLong      Too long: may not be more than N bytes
 *   FieldValueTooMany      Too many: N: must have at most M items
 *   FieldValueNotFound     Not found: "x"
 *
 * with <value> printed as Go 1.32 prints it: strings quoted (strconv.Quote),
 * numbers plain, and the composite values the way %#v shows them
 * (map[string]string{"app":"x"}, v1.LabelSelector{...},
 * intstr.IntOrString{...}) or, for big structs (a pod template), as compact
 * JSON; field paths are Kubernetes' ("spec.containers[0].ports[1]
 * .containerPort", "metadata.labels", "data[key]"). Quantities are shown as
 * written, where Kubernetes shows its canonical form ("0.5" for "500m").
 *
 * How it works: a table maps each kind to its namespace scope, its name
 * rule (DNS-1123 subdomain, DNS-1123 label or DNS-1035 label), a validate
 * function and, for updates (old != NULL), an update function for the
 * immutable fields. The shared parts (ObjectMeta, label selectors, pod
 * specs and pod templates, the name and value syntaxes) are functions used
 * by every kind that embeds them. The walk keeps the current field path in a
 * fixed buffer (struct vctx), pushing and popping segments as it descends.
 * Values of the wrong JSON type are treated as unset: the schema check
 * reports them, and validation must not crash on a body it never saw
 * checked.
 *
 * The files, one job each: validate.c (this file) holds the entry point,
 * the table of kinds and the shared machinery (the field path, the error
 * constructors of field/errors.go, Go's rendering of values, semantic
 * equality and immutable fields); validate_syntax.c the name and value
 * syntaxes; validate_meta.c ObjectMeta and label selectors; validate_pod.c
 * the pod spec, pod templates and Pod, with validate_container.c for the
 * containers; validate_core.c the other core/v1 kinds; validate_workloads.c
 * the apps and batch kinds, with validate_cron.c for CronJob schedules;
 * validate_misc.c the kinds of the smaller groups. validate_internal.h
 * declares what they share, with the kv_ prefix.
 *
 * Not checked (Kubernetes does): security contexts, affinity, topology
 * spread, resource claims, scheduling and readiness gates, host aliases,
 * pod-specific annotations (seccomp, AppArmor, sysctls), downward API field
 * paths, the internals of most volume sources, status (subresources), most
 * of Event, EndpointSlice's topology hints, a CronJob's time zone database,
 * fields behind alpha feature gates. A Job's selector is checked only when
 * set: the server generates it. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/validate_internal.h"

json_t *kube_status(unsigned code, const char *reason, const char *message)
{
    return json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1",
                     "metadata", "status", code < 400 ? "Success" : "Failure", "message", message,
                     "reason", reason, "code", (int)code);
}

/* ==== the walk: causes and the field path ==== */

/* Appends open, seg (n bytes) and close to the path, with a dot first if
 * dot and the path is not empty. Every field of every object passes here,
 * so it copies bytes instead of formatting (snprintf was a tenth of a pod
 * create's validation). A path that would not fit is left as it was. */
static size_t vp_append(struct vctx *c, char open, const char *seg, size_t n, char close,
                        bool dot)
{
    size_t mark = c->len;
    size_t need = (dot && c->len) + (open != 0) + n + (close != 0);
    if (need >= sizeof c->path - c->len) {
        c->overflows++;
        return VPATH_OVERFLOW;
    }
    char *p = c->path + c->len;
    if (dot && c->len)
        *p++ = '.';
    if (open)
        *p++ = open;
    memcpy(p, seg, n);
    p += n;
    if (close)
        *p++ = close;
    *p = '\0';
    c->len = (size_t)(p - c->path);
    return mark;
}

/* field.Path's Child, Index and Key; each returns the mark kv_path_pop takes. */
size_t kv_path_child(struct vctx *c, const char *name)
{
    return vp_append(c, 0, name, strlen(name), 0, true);
}

size_t kv_path_index(struct vctx *c, size_t i)
{
    char digits[24], *d = digits + sizeof digits;
    do
        *--d = (char)('0' + i % 10);
    while ((i /= 10) != 0);
    return vp_append(c, '[', d, (size_t)(digits + sizeof digits - d), ']', false);
}

size_t kv_path_key(struct vctx *c, const char *key)
{
    return vp_append(c, '[', key, strlen(key), ']', false);
}

void kv_path_pop(struct vctx *c, size_t mark)
{
    if (mark == VPATH_OVERFLOW) {
        c->overflows--;
        return;
    }
    c->len = mark;
    c->path[mark] = '\0';
}

/* A JSON string; bytes that are not UTF-8 (a value cut short) become '?'. */
static json_t *string_lossy(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = xstrdup(s);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* Adds a cause at the current path, or at its child when child is set. */
static void v_emit(struct vctx *c, const char *child, const char *reason, const char *message)
{
    size_t mark = child ? kv_path_child(c, child) : c->len;
    char field[VPATH_MAX + 8];
    snprintf(field, sizeof field, "%s%s", c->path, c->overflows ? "..." : "");
    if (child)
        kv_path_pop(c, mark);
    if (!c->causes)
        c->causes = json_array();
    json_t *cause = json_object();
    json_object_set_new(cause, "reason", json_string(reason));
    json_object_set_new(cause, "message", string_lossy(message));
    json_object_set_new(cause, "field", string_lossy(field));
    json_array_append_new(c->causes, cause);
}

/* ---- Go's rendering of values ---- */

/* strconv.Quote: printable runes kept, the rest escaped. */
void kv_go_quote(struct ubuf *b, const char *s)
{
    ubuf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': ubuf_append(b, "\\\"", 2); break;
        case '\\': ubuf_append(b, "\\\\", 2); break;
        case '\a': ubuf_append(b, "\\a", 2); break;
        case '\b': ubuf_append(b, "\\b", 2); break;
        case '\f': ubuf_append(b, "\\f", 2); break;
        case '\n': ubuf_append(b, "\\n", 2); break;
        case '\r': ubuf_append(b, "\\r", 2); break;
        case '\t': ubuf_append(b, "\\t", 2); break;
        case '\v': ubuf_append(b, "\\v", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                ubuf_appendf(b, "\\x%02x", *p);
            else
                ubuf_append(b, p, 1);
        }
    }
    ubuf_append(b, "\"", 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* %#v of a map[string]string: keys sorted, nil when absent. */
void kv_go_map(struct ubuf *b, json_t *m)
{
    if (!json_is_object(m)) {
        ubuf_appendf(b, "map[string]string(nil)");
        return;
    }
    size_t n = json_object_size(m), i = 0;
    const char **keys = xcalloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof *keys, cmp_str);
    ubuf_appendf(b, "map[string]string{");
    for (i = 0; i < n; i++) {
        if (i)
            ubuf_append(b, ", ", 2);
        kv_go_quote(b, keys[i]);
        ubuf_append(b, ":", 1);
        const char *val = json_string_value(json_object_get(m, keys[i]));
        kv_go_quote(b, val ? val : "");
    }
    ubuf_append(b, "}", 1);
    free(keys);
}

/* %#v of a []string: nil when absent. */
void kv_go_strings(struct ubuf *b, json_t *a)
{
    if (!json_is_array(a)) {
        ubuf_appendf(b, "[]string(nil)");
        return;
    }
    ubuf_appendf(b, "[]string{");
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        if (i)
            ubuf_append(b, ", ", 2);
        kv_go_quote(b, json_is_string(e) ? json_string_value(e) : "");
    }
    ubuf_append(b, "}", 1);
}

/* %#v of a *metav1.LabelSelector, dereferenced as field.Error does. */
void kv_go_label_selector(struct ubuf *b, json_t *sel)
{
    ubuf_appendf(b, "v1.LabelSelector{MatchLabels:");
    kv_go_map(b, json_object_get(sel, "matchLabels"));
    ubuf_appendf(b, ", MatchExpressions:");
    json_t *exprs = json_object_get(sel, "matchExpressions");
    if (!json_is_array(exprs)) {
        ubuf_appendf(b, "[]v1.LabelSelectorRequirement(nil)}");
        return;
    }
    ubuf_appendf(b, "[]v1.LabelSelectorRequirement{");
    size_t i;
    json_t *e;
    json_array_foreach(exprs, i, e) {
        ubuf_appendf(b, "%sv1.LabelSelectorRequirement{Key:", i ? ", " : "");
        kv_go_quote(b, jstr0(e, "key"));
        ubuf_appendf(b, ", Operator:");
        kv_go_quote(b, jstr0(e, "operator"));
        ubuf_appendf(b, ", Values:");
        kv_go_strings(b, json_object_get(e, "values"));
        ubuf_append(b, "}", 1);
    }
    ubuf_appendf(b, "}}");
}

/* %#v of an intstr.IntOrString value. */
void kv_go_intstr(struct ubuf *b, json_t *v)
{
    if (json_is_string(v)) {
        ubuf_appendf(b, "intstr.IntOrString{Type:1, IntVal:0, StrVal:");
        kv_go_quote(b, json_string_value(v));
        ubuf_append(b, "}", 1);
    } else {
        ubuf_appendf(b, "intstr.IntOrString{Type:0, IntVal:%" JSON_INTEGER_FORMAT ", StrVal:\"\"}",
                     json_is_integer(v) ? json_integer_value(v) : 0);
    }
}

/* Compact JSON, for values Go would print as a large struct. */
void kv_go_json(struct ubuf *b, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    ubuf_appendf(b, "%s", s ? s : "null");
    free(s);
}

/* ---- the error constructors of field/errors.go ---- */

static void v_simple(struct vctx *c, const char *child, const char *reason, const char *type,
                     const char *detail)
{
    struct ubuf m = {0};
    ubuf_appendf(&m, "%s", type);
    if (detail && *detail)
        ubuf_appendf(&m, ": %s", detail);
    v_emit(c, child, reason, m.data);
    ubuf_free(&m);
}

void kv_required(struct vctx *c, const char *child, const char *detail)
{
    v_simple(c, child, "FieldValueRequired", "Required value", detail);
}

void kv_forbidden(struct vctx *c, const char *child, const char *detail)
{
    v_simple(c, child, "FieldValueForbidden", "Forbidden", detail);
}

void kv_too_long(struct vctx *c, const char *child, long max)
{
    char detail[64];
    snprintf(detail, sizeof detail, "may not be more than %ld byte%s", max, max == 1 ? "" : "s");
    v_simple(c, child, "FieldValueTooLong", "Too long", detail);
}

void kv_too_many(struct vctx *c, const char *child, size_t actual, size_t max)
{
    char msg[96];
    snprintf(msg, sizeof msg, "Too many: %zu: must have at most %zu item%s", actual, max,
             max == 1 ? "" : "s");
    v_emit(c, child, "FieldValueTooMany", msg);
}

/* type: "Invalid value" and the like; rendered: the value as Go prints it. */
static void v_valued(struct vctx *c, const char *child, const char *reason, const char *type,
                     const char *rendered, const char *detail)
{
    struct ubuf m = {0};
    ubuf_appendf(&m, "%s: %s", type, rendered);
    if (detail && *detail)
        ubuf_appendf(&m, ": %s", detail);
    v_emit(c, child, reason, m.data);
    ubuf_free(&m);
}

void kv_invalid_raw(struct vctx *c, const char *child, const char *rendered, const char *detail)
{
    v_valued(c, child, "FieldValueInvalid", "Invalid value", rendered, detail);
}

void kv_invalid(struct vctx *c, const char *child, const char *value, const char *detail)
{
    struct ubuf q = {0};
    kv_go_quote(&q, value);
    kv_invalid_raw(c, child, q.data, detail);
    ubuf_free(&q);
}

void kv_invalid_int(struct vctx *c, const char *child, json_int_t value, const char *detail)
{
    char s[32];
    snprintf(s, sizeof s, "%" JSON_INTEGER_FORMAT, value);
    kv_invalid_raw(c, child, s, detail);
}

/* Invalid with a value rendered by a go_* function. */
void kv_invalid_go(struct vctx *c, const char *child, void (*render)(struct ubuf *, json_t *),
                   json_t *value, const char *detail)
{
    struct ubuf r = {0};
    render(&r, value);
    kv_invalid_raw(c, child, r.data, detail);
    ubuf_free(&r);
}

/* NotSupported with a value rendered already; valid: NULL-terminated, in
 * the order Kubernetes lists them. */
void kv_unsupported_raw(struct vctx *c, const char *child, const char *rendered,
                        const char *const *valid)
{
    struct ubuf d = {0};
    ubuf_appendf(&d, "supported values: ");
    for (size_t i = 0; valid[i]; i++) {
        if (i)
            ubuf_append(&d, ", ", 2);
        kv_go_quote(&d, valid[i]);
    }
    v_valued(c, child, "FieldValueNotSupported", "Unsupported value", rendered, d.data);
    ubuf_free(&d);
}

void kv_unsupported(struct vctx *c, const char *child, const char *value, const char *const *valid)
{
    struct ubuf q = {0};
    kv_go_quote(&q, value);
    kv_unsupported_raw(c, child, q.data, valid);
    ubuf_free(&q);
}

void kv_duplicate_raw(struct vctx *c, const char *child, const char *rendered, const char *detail)
{
    v_valued(c, child, "FieldValueDuplicate", "Duplicate value", rendered, detail);
}

void kv_duplicate(struct vctx *c, const char *child, const char *value)
{
    struct ubuf q = {0};
    kv_go_quote(&q, value);
    kv_duplicate_raw(c, child, q.data, NULL);
    ubuf_free(&q);
}

void kv_not_found(struct vctx *c, const char *child, const char *value)
{
    struct ubuf q = {0};
    kv_go_quote(&q, value);
    v_valued(c, child, "FieldValueNotFound", "Not found", q.data, NULL);
    ubuf_free(&q);
}

/* ==== semantic equality and immutable fields ==== */

/* Semantic equality as apiequality.Semantic.DeepEqual sees JSON: absent,
 * null, [] and {} are all the empty value. */
static bool json_empty(json_t *v)
{
    return !v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

bool kv_sem_equal(json_t *a, json_t *b)
{
    if (json_empty(a) || json_empty(b))
        return json_empty(a) && json_empty(b);
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v) {
            if (!kv_sem_equal(v, json_object_get(b, k)))
                return false;
        }
        json_object_foreach(b, k, v) {
            if (!json_object_get(a, k) && !json_empty(v))
                return false;
        }
        return true;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!kv_sem_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

/* %#v of a scalar, or JSON for anything bigger; an unset pointer is "null"
 * as field.Error prints it. */
static void go_value(struct ubuf *b, json_t *v)
{
    if (json_is_string(v))
        kv_go_quote(b, json_string_value(v));
    else if (json_is_integer(v))
        ubuf_appendf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_boolean(v))
        ubuf_appendf(b, "%s", json_is_true(v) ? "true" : "false");
    else if (!v || json_is_null(v))
        ubuf_appendf(b, "\"null\"");
    else
        kv_go_json(b, v);
}

/* ValidateImmutableField for any member of now and was. */
void kv_check_immutable(struct vctx *c, const char *child, json_t *now, json_t *was)
{
    if (kv_sem_equal(now, was))
        return;
    bool selector = json_is_object(now) && (json_object_get(now, "matchLabels") ||
                                            json_object_get(now, "matchExpressions"));
    kv_invalid_go(c, child, selector ? kv_go_label_selector : go_value, now, kv_immutable_msg);
}

/* ==== the table ==== */

typedef void (*validate_fn)(struct vctx *c, json_t *obj);
typedef void (*update_fn)(struct vctx *c, json_t *obj, json_t *old);

static const struct kind_rules {
    const char *group, *kind;
    bool namespaced;
    name_fn name;
    validate_fn validate; /* the object itself, on create and update */
    update_fn update;     /* what may not change; NULL when only metadata */
} kind_rules[] = {
    {"", "Namespace", false, kv_name_label, kv_check_namespace, NULL},
    {"", "Node", false, kv_name_subdomain, kv_check_node, kv_check_node_update},
    {"", "Pod", true, kv_name_subdomain, kv_check_pod, kv_check_pod_update},
    {"", "Service", true, kv_name_dns1035, kv_check_service, kv_check_service_update},
    {"", "Endpoints", true, kv_name_subdomain, kv_check_endpoints, NULL},
    {"", "ConfigMap", true, kv_name_subdomain, kv_check_config_map, kv_check_config_map_update},
    {"", "Secret", true, kv_name_subdomain, kv_check_secret, kv_check_secret_update},
    {"", "PersistentVolume", false, kv_name_subdomain, kv_check_pv, kv_check_pv_update},
    {"", "PersistentVolumeClaim", true, kv_name_subdomain, kv_check_pvc, kv_check_pvc_update},
    {"", "Event", true, kv_name_subdomain, kv_check_event, NULL},
    {"", "ServiceAccount", true, kv_name_subdomain, NULL, NULL},
    {"apps", "Deployment", true, kv_name_subdomain, kv_check_deployment,
     kv_check_selector_immutable},
    {"apps", "ReplicaSet", true, kv_name_subdomain, kv_check_replicaset,
     kv_check_selector_immutable},
    {"apps", "DaemonSet", true, kv_name_subdomain, kv_check_daemonset, kv_check_selector_immutable},
    {"apps", "StatefulSet", true, kv_name_label, kv_check_statefulset, kv_check_statefulset_update},
    {"apps", "ControllerRevision", true, kv_name_subdomain, kv_check_controller_revision,
     kv_check_controller_revision_update},
    {"batch", "Job", true, kv_name_subdomain, kv_check_job, kv_check_job_update},
    {"batch", "CronJob", true, kv_name_subdomain, kv_check_cronjob, NULL},
    {"autoscaling", "HorizontalPodAutoscaler", true, kv_name_subdomain, kv_check_hpa, NULL},
    {"coordination.k8s.io", "Lease", true, kv_name_subdomain, kv_check_lease, NULL},
    {"discovery.k8s.io", "EndpointSlice", true, kv_name_subdomain, kv_check_endpoint_slice,
     kv_check_endpoint_slice_update},
    {"scheduling.k8s.io", "PriorityClass", false, kv_name_subdomain, kv_check_priority_class,
     kv_check_priority_class_update},
    {"storage.k8s.io", "StorageClass", false, kv_name_subdomain, kv_check_storage_class,
     kv_check_storage_class_update},
    {"policy", "PodDisruptionBudget", true, kv_name_subdomain, kv_check_pdb, NULL},
};

static const struct kind_rules *rules_find(const char *group, const char *kind)
{
    for (size_t i = 0; i < sizeof kind_rules / sizeof kind_rules[0]; i++)
        if (strcmp(kind_rules[i].group, group) == 0 && strcmp(kind_rules[i].kind, kind) == 0)
            return &kind_rules[i];
    return NULL;
}

json_t *kube_validate(const char *group, const char *kind, json_t *obj, json_t *old)
{
    const struct kind_rules *r = group && kind ? rules_find(group, kind) : NULL;
    if (!r)
        return NULL;
    struct vctx c = {.old = json_is_object(old) ? old : NULL};
    json_t *md = jobj(obj, "metadata");
    kv_check_object_meta(&c, md, r->namespaced, r->name);
    if (c.old) {
        kv_check_object_meta_update(&c, md, jobj(c.old, "metadata"));
        if (r->update)
            r->update(&c, obj, c.old);
    }
    if (r->validate)
        r->validate(&c, obj);
    assert(c.len == 0 && c.overflows == 0); /* every push was popped */
    return c.causes;
}
