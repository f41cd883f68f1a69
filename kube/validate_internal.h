/* validate_internal.h — what the files of kube_validate share; not for use outside
 * kube/validate*.c.
 *
 * kube_validate (kube.h) is split by job across kube/validate*.c (see
 * validate.c for the layout). They share the walk's context (struct vctx:
 * the causes so far and the current field path), the messages of a syntax
 * check (struct msgs), the small JSON accessors below (static inline, so
 * their short names stay private to each file), and the functions declared
 * here, whose names carry the kv_ prefix; everything else is static to its
 * file. */
#ifndef BOSUN_KUBE_VALIDATE_INTERNAL_H
#define BOSUN_KUBE_VALIDATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

/* ---- the walk: causes and the field path ---- */

#define VPATH_MAX 512
#define VPATH_OVERFLOW ((size_t)-1)

struct vctx {
    json_t *causes;     /* NULL until the first cause */
    json_t *old;        /* the stored object on update, else NULL */
    size_t len;         /* path[len] == '\0' */
    unsigned overflows; /* pushed segments that did not fit */
    char path[VPATH_MAX];
};

/* The messages one syntax check produces, as Go's []string. */
struct msgs {
    int n;
    char m[4][640];
};

/* A kind's name rule: DNS-1123 subdomain, DNS-1123 label or DNS-1035 label. */
typedef void (*name_fn)(const char *name, bool prefix, struct msgs *ms);

/* ---- JSON access: wrong types read as unset ---- */

static inline json_t *jget(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_null(v) ? NULL : v;
}

static inline json_t *jobj(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_object(v) ? v : NULL;
}

static inline json_t *jarr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_array(v) ? v : NULL;
}

static inline const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static inline const char *jstr0(json_t *o, const char *k)
{
    const char *s = jstr(o, k);
    return s ? s : "";
}

static inline bool jint(json_t *o, const char *k, json_int_t *v)
{
    json_t *j = json_object_get(o, k);
    if (!json_is_integer(j))
        return false;
    *v = json_integer_value(j);
    return true;
}

static inline json_int_t jint0(json_t *o, const char *k)
{
    json_int_t v = 0;
    jint(o, k, &v);
    return v;
}

static inline bool jtrue(json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static inline size_t jsize(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0;
}

static inline bool str_in(const char *s, const char *const *set)
{
    for (size_t i = 0; s && set[i]; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

/* ---- the field path, causes and Go's rendering of values (validate.c) ---- */

size_t kv_path_child(struct vctx *c, const char *name);
size_t kv_path_index(struct vctx *c, size_t i);
size_t kv_path_key(struct vctx *c, const char *key);
void kv_path_pop(struct vctx *c, size_t mark);
void kv_go_quote(struct ubuf *b, const char *s);
void kv_go_map(struct ubuf *b, json_t *m);
void kv_go_strings(struct ubuf *b, json_t *a);
void kv_go_label_selector(struct ubuf *b, json_t *sel);
void kv_go_intstr(struct ubuf *b, json_t *v);
void kv_go_json(struct ubuf *b, json_t *v);
void kv_required(struct vctx *c, const char *child, const char *detail);
void kv_forbidden(struct vctx *c, const char *child, const char *detail);
void kv_too_long(struct vctx *c, const char *child, long max);
void kv_too_many(struct vctx *c, const char *child, size_t actual, size_t max);
void kv_invalid_raw(struct vctx *c, const char *child, const char *rendered, const char *detail);
void kv_invalid(struct vctx *c, const char *child, const char *value, const char *detail);
void kv_invalid_int(struct vctx *c, const char *child, json_int_t value, const char *detail);
void kv_invalid_go(struct vctx *c, const char *child, void (*render)(struct ubuf *, json_t *),
                   json_t *value, const char *detail);
void kv_unsupported_raw(struct vctx *c, const char *child, const char *rendered,
                        const char *const *valid);
void kv_unsupported(struct vctx *c, const char *child, const char *value, const char *const *valid);
void kv_duplicate_raw(struct vctx *c, const char *child, const char *rendered, const char *detail);
void kv_duplicate(struct vctx *c, const char *child, const char *value);
void kv_not_found(struct vctx *c, const char *child, const char *value);
bool kv_sem_equal(json_t *a, json_t *b);
void kv_check_immutable(struct vctx *c, const char *child, json_t *now, json_t *was);

/* ---- syntaxes, object names and quantities (validate_syntax.c) ---- */

void kv_invalid_each(struct vctx *c, const char *child, const char *value, const struct msgs *ms);
extern const char kv_not_negative_msg[];
extern const char kv_immutable_msg[];
void kv_is_dns1123_label(const char *s, struct msgs *ms);
void kv_is_dns1123_subdomain(const char *s, struct msgs *ms);
void kv_is_qualified_name(const char *s, struct msgs *ms);
void kv_is_label_value(const char *s, struct msgs *ms);
void kv_is_config_map_key(const char *s, struct msgs *ms);
void kv_is_port_name(const char *s, struct msgs *ms);
void kv_is_env_var_name(const char *s, struct msgs *ms);
void kv_is_path_segment_name(const char *s, struct msgs *ms);
bool kv_is_ip(const char *s);
bool kv_is_ipv4(const char *s);
bool kv_is_ipv6(const char *s);
bool kv_is_cidr(const char *s);
bool kv_is_percent(const char *s);
void kv_name_subdomain(const char *name, bool prefix, struct msgs *ms);
void kv_name_label(const char *name, bool prefix, struct msgs *ms);
void kv_name_dns1035(const char *name, bool prefix, struct msgs *ms);
void kv_check_dns_label(struct vctx *c, const char *child, const char *value);
void kv_check_subdomain(struct vctx *c, const char *child, const char *value);
void kv_check_qualified_name(struct vctx *c, const char *child, const char *value);
void kv_check_nonnegative(struct vctx *c, json_t *o, const char *k);
void kv_check_port_num(struct vctx *c, const char *child, json_int_t port);
void kv_check_port_num_or_name(struct vctx *c, const char *child, json_t *port);
void kv_check_ip(struct vctx *c, const char *child, const char *ip);
void kv_check_non_special_ip(struct vctx *c, const char *child, const char *ip);
const char *kv_quantity_text(json_t *q, char *buf, size_t len);
bool kv_quantity_value(json_t *q, double *v);

/* ---- ObjectMeta and label selectors (validate_meta.c) ---- */

void kv_check_labels(struct vctx *c, const char *child, json_t *labels);
void kv_check_annotations(struct vctx *c, const char *child, json_t *ann);
void kv_check_object_meta(struct vctx *c, json_t *md, bool namespaced, name_fn name_rule);
void kv_check_immutable_str(struct vctx *c, const char *child, json_t *cur, json_t *old);
void kv_check_object_meta_update(struct vctx *c, json_t *md, json_t *old_md);
void kv_check_label_selector(struct vctx *c, const char *child, json_t *sel);
bool kv_selector_is_empty(json_t *sel);
bool kv_selector_parses(json_t *sel);
bool kv_selector_matches(json_t *sel, json_t *labels);
void kv_check_selector_selects_template(struct vctx *c, json_t *sel, json_t *template);

/* ---- pod specs and Pod (validate_pod.c) ---- */

void kv_check_local_descending_path(struct vctx *c, const char *child, const char *path);
void kv_check_volume_sources(struct vctx *c, json_t *holder, const char *type_name);
void kv_check_enum(struct vctx *c, json_t *o, const char *k, const char *const *valid);
extern const char *const kv_taint_effects[];
extern const char *const kv_preemption_policies[];
void kv_check_pod_template(struct vctx *c, json_t *template, json_t *extra_volumes);
void kv_check_pod(struct vctx *c, json_t *obj);
void kv_munge_member(json_t *munged, json_t *was, const char *k);
void kv_check_pod_update(struct vctx *c, json_t *obj, json_t *old);

/* ---- containers (validate_container.c) ---- */

extern const char *const kv_protocols[];
bool kv_has_prefix(const char *s, const char *prefix);
void kv_check_container_resource_name(struct vctx *c, const char *name);
void kv_check_containers(struct vctx *c, json_t *spec, json_t *volumes, json_t *names);
void kv_check_init_containers(struct vctx *c, json_t *spec, json_t *volumes, json_t *names);

/* ---- core/v1 kinds (validate_core.c) ---- */

void kv_check_service(struct vctx *c, json_t *obj);
void kv_check_service_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_endpoints(struct vctx *c, json_t *obj);
void kv_check_namespace(struct vctx *c, json_t *obj);
void kv_check_node(struct vctx *c, json_t *obj);
void kv_check_node_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_config_map(struct vctx *c, json_t *obj);
void kv_check_config_map_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_secret(struct vctx *c, json_t *obj);
void kv_check_secret_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_pv(struct vctx *c, json_t *obj);
void kv_check_pv_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_pvc(struct vctx *c, json_t *obj);
void kv_check_pvc_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_event(struct vctx *c, json_t *obj);

/* ---- apps/v1 and batch/v1 kinds (validate_workloads.c) ---- */

/* ValidatePositiveIntOrPercent on o[k], and with at_most_100
 * IsNotMoreThan100Percent (apps' rules, which policy reuses). */
void kv_check_int_or_percent(struct vctx *c, json_t *o, const char *k, bool at_most_100);
void kv_check_deployment(struct vctx *c, json_t *obj);
void kv_check_replicaset(struct vctx *c, json_t *obj);
void kv_check_selector_immutable(struct vctx *c, json_t *obj, json_t *old);
void kv_check_daemonset(struct vctx *c, json_t *obj);
void kv_check_statefulset(struct vctx *c, json_t *obj);
void kv_check_statefulset_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_controller_revision(struct vctx *c, json_t *obj);
void kv_check_controller_revision_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_job(struct vctx *c, json_t *obj);
void kv_check_job_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_cronjob(struct vctx *c, json_t *obj);

/* ---- cron schedules (validate_cron.c) ---- */

const char *kv_cron_parse(const char *spec, char *err, size_t errlen);

/* ---- autoscaling, coordination, discovery, scheduling, policy (validate_misc.c) ---- */

void kv_check_hpa(struct vctx *c, json_t *obj);
void kv_check_lease(struct vctx *c, json_t *obj);
void kv_check_endpoint_slice(struct vctx *c, json_t *obj);
void kv_check_endpoint_slice_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_priority_class(struct vctx *c, json_t *obj);
void kv_check_priority_class_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_storage_class(struct vctx *c, json_t *obj);
void kv_check_storage_class_update(struct vctx *c, json_t *obj, json_t *old);
void kv_check_pdb(struct vctx *c, json_t *obj);

#endif
