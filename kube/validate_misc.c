/* validate_misc.c — the kinds of the smaller API groups.
 *
 * autoscaling/v2's HorizontalPodAutoscaler (replica bounds, the scale
 * target, metrics and their targets, scaling behaviour),
 * coordination.k8s.io's Lease, discovery.k8s.io's EndpointSlice (address
 * type, addresses, ports), scheduling.k8s.io's PriorityClass (the
 * reserved system- classes, and a value that may not change) and
 * storage.k8s.io's StorageClass (provisioner, parameters, reclaim policy
 * and binding mode, none of which may change) and policy/v1's
 * PodDisruptionBudget (minAvailable or maxUnavailable, each a positive int
 * or a percentage of at most 100%, a valid selector, a known unhealthy pod
 * eviction policy, and non-negative counts in the status).
 *
 * How it works: one kv_check_<kind> per kind, and the update rules of
 * EndpointSlice, PriorityClass and StorageClass, called from
 * kube_validate's table. */
#include <stdio.h>
#include <string.h>

#include "kube/validate_internal.h"

/* ==== autoscaling/v2: HorizontalPodAutoscaler ==== */

static void check_metric_target(struct vctx *c, json_t *target)
{
    static const char *const types[] = {"Utilization", "Value", "AverageValue", NULL};
    const char *type = jstr0(target, "type");
    size_t mark = kv_path_child(c, "target");
    if (!*type)
        kv_required(c, "type", "must specify a metric target type");
    if (!str_in(type, types))
        kv_invalid(c, "type", type, "must be either Utilization, Value, or AverageValue");
    static const char *const quantities[] = {"value", "averageValue"};
    for (size_t i = 0; i < 2; i++) {
        double v;
        char buf[48];
        json_t *q = jget(target, quantities[i]);
        if (kv_quantity_value(q, &v) && v <= 0)
            kv_invalid(c, quantities[i], kv_quantity_text(q, buf, sizeof buf), "must be positive");
    }
    json_int_t util;
    if (jint(target, "averageUtilization", &util) && util < 1)
        kv_invalid_int(c, "averageUtilization", util, "must be greater than 0");
    kv_path_pop(c, mark);
}

static void check_resource_metric(struct vctx *c, json_t *src)
{
    const char *name = jstr0(src, "name");
    json_t *target = jobj(src, "target");
    if (!*name) {
        kv_required(c, "name", "must specify a resource name");
    } else {
        size_t m = kv_path_child(c, "name");
        kv_check_container_resource_name(c, name);
        kv_path_pop(c, m);
    }
    check_metric_target(c, target);
    size_t m = kv_path_child(c, "target");
    if (!jget(target, "averageUtilization") && !jget(target, "averageValue"))
        kv_required(c, "averageUtilization",
                    "must set either a target raw value or a target utilization");
    if (jget(target, "averageUtilization") && jget(target, "averageValue"))
        kv_forbidden(c, "averageValue",
                     "may not set both a target raw value and a target utilization");
    kv_path_pop(c, m);
}

/* The metric source types and the member each one fills. */
static const struct {
    const char *type, *member;
} metric_sources[] = {
    {"Object", "object"},
    {"Pods", "pods"},
    {"Resource", "resource"},
    {"External", "external"},
    {"ContainerResource", "containerResource"},
};

static void check_metric(struct vctx *c, json_t *metric)
{
    static const char *const types[] = {
        "Object", "Pods", "Resource", "External", "ContainerResource", NULL};
    const char *type = jstr0(metric, "type");
    if (!*type)
        kv_required(c, "type", "must specify a metric source type");
    if (!str_in(type, types))
        kv_unsupported(c, "type", type, types);
    size_t present = 0;
    for (size_t i = 0; i < sizeof metric_sources / sizeof metric_sources[0]; i++)
        present += jget(metric, metric_sources[i].member) != NULL;
    for (size_t i = 0; i < sizeof metric_sources / sizeof metric_sources[0]; i++) {
        const char *member = metric_sources[i].member;
        bool chosen = strcmp(metric_sources[i].type, type) == 0;
        if (chosen && !jget(metric, member))
            kv_required(c, member, "must populate information for the given metric source");
        else if (!chosen && jget(metric, member) && present > 1)
            kv_forbidden(c, member, "must populate the given metric source only");
    }
    if (strcmp(type, "Resource") == 0 && jobj(metric, "resource")) {
        size_t m = kv_path_child(c, "resource");
        check_resource_metric(c, jobj(metric, "resource"));
        kv_path_pop(c, m);
    }
}

static void check_scaling_rules(struct vctx *c, json_t *rules)
{
    static const char *const selects[] = {"Max", "Min", "Disabled", NULL};
    static const char *const types[] = {"Pods", "Percent", NULL};
    json_int_t window;
    if (jint(rules, "stabilizationWindowSeconds", &window) && window < 0)
        kv_invalid_int(c, "stabilizationWindowSeconds", window,
                       "must be greater than or equal to zero");
    if (jint(rules, "stabilizationWindowSeconds", &window) && window > 3600)
        kv_invalid_int(c, "stabilizationWindowSeconds", window,
                       "must be less than or equal to 3600");
    const char *select = jstr(rules, "selectPolicy");
    if (select && !str_in(select, selects))
        kv_unsupported(c, "selectPolicy", select, selects);
    json_t *policies = jarr(rules, "policies");
    if (json_array_size(policies) == 0)
        kv_required(c, "policies", "must specify at least one Policy");
    size_t i;
    json_t *p;
    json_array_foreach(policies, i, p) {
        size_t m1 = kv_path_child(c, "policies"), m2 = kv_path_index(c, i);
        const char *type = jstr0(p, "type");
        json_int_t value = jint0(p, "value"), period = jint0(p, "periodSeconds");
        if (!str_in(type, types))
            kv_unsupported(c, "type", type, types);
        if (value <= 0)
            kv_invalid_int(c, "value", value, "must be greater than zero");
        if (period <= 0)
            kv_invalid_int(c, "periodSeconds", period, "must be greater than zero");
        if (period > 1800)
            kv_invalid_int(c, "periodSeconds", period, "must be less than or equal to 1800");
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
}

void kv_check_hpa(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    json_int_t min = 0, max = jint0(spec, "maxReplicas");
    bool has_min = jint(spec, "minReplicas", &min);
    if (has_min && min < 1)
        kv_invalid_int(c, "minReplicas", min, "must be greater than or equal to 1");
    if (max < 1)
        kv_invalid_int(c, "maxReplicas", max, "must be greater than 0");
    if (has_min && max < min)
        kv_invalid_int(c, "maxReplicas", max, "must be greater than or equal to `minReplicas`");
    json_t *ref = jobj(spec, "scaleTargetRef");
    size_t m = kv_path_child(c, "scaleTargetRef");
    static const char *const ref_fields[] = {"kind", "name"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = jstr0(ref, ref_fields[i]);
        struct msgs ms = {0};
        if (!*v)
            kv_required(c, ref_fields[i], "");
        kv_is_path_segment_name(v, &ms);
        kv_invalid_each(c, ref_fields[i], v, &ms);
    }
    kv_path_pop(c, m);
    size_t i;
    json_t *metric;
    json_array_foreach(jarr(spec, "metrics"), i, metric) {
        size_t m1 = kv_path_child(c, "metrics"), m2 = kv_path_index(c, i);
        check_metric(c, metric);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    json_t *behavior = jobj(spec, "behavior");
    static const char *const directions[] = {"scaleUp", "scaleDown"};
    for (size_t d = 0; behavior && d < 2; d++) {
        json_t *rules = jobj(behavior, directions[d]);
        if (!rules)
            continue;
        size_t m1 = kv_path_child(c, "behavior"), m2 = kv_path_child(c, directions[d]);
        check_scaling_rules(c, rules);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    kv_path_pop(c, mark);
}

/* ==== coordination, discovery, scheduling ==== */

void kv_check_lease(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    json_int_t v;
    size_t mark = kv_path_child(c, "spec");
    if (jint(spec, "leaseDurationSeconds", &v) && v <= 0)
        kv_invalid_int(c, "leaseDurationSeconds", v, "must be greater than 0");
    if (jint(spec, "leaseTransitions", &v) && v < 0)
        kv_invalid_int(c, "leaseTransitions", v, kv_not_negative_msg);
    kv_path_pop(c, mark);
}

/* IsFullyQualifiedDomainName, for FQDN endpoint addresses. */
static void check_fqdn(struct vctx *c, const char *name)
{
    char buf[300];
    snprintf(buf, sizeof buf, "%s", name);
    size_t n = strlen(buf);
    if (!n) {
        kv_required(c, NULL, "");
        return;
    }
    if (buf[n - 1] == '.')
        buf[--n] = '\0';
    struct msgs ms = {0};
    kv_is_dns1123_subdomain(buf, &ms);
    if (ms.n) {
        char joined[1300] = "";
        for (int i = 0; i < ms.n; i++)
            snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "," : "",
                     ms.m[i]);
        kv_invalid(c, NULL, buf, joined);
    } else if (!strchr(buf, '.')) {
        kv_invalid(c, NULL, buf, "should be a domain with at least two segments separated by dots");
    }
}

static void check_slice_endpoint(struct vctx *c, json_t *ep, const char *type)
{
    json_t *addrs = jarr(ep, "addresses");
    if (json_array_size(addrs) == 0)
        kv_required(c, "addresses", "must contain at least 1 address");
    else if (json_array_size(addrs) > 100)
        kv_too_many(c, "addresses", json_array_size(addrs), 100);
    size_t i;
    json_t *a;
    json_array_foreach(addrs, i, a) {
        const char *s = json_is_string(a) ? json_string_value(a) : "";
        size_t m1 = kv_path_child(c, "addresses"), m2 = kv_path_index(c, i);
        if (strcmp(type, "IPv4") == 0 && !kv_is_ipv4(s))
            kv_invalid(c, NULL, s, "must be a valid IPv4 address");
        else if (strcmp(type, "IPv6") == 0 && !kv_is_ipv6(s))
            kv_invalid(c, NULL, s, "must be a valid IPv6 address");
        else if (strcmp(type, "FQDN") == 0)
            check_fqdn(c, s);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    if (json_is_string(jget(ep, "nodeName")))
        kv_check_subdomain(c, "nodeName", jstr(ep, "nodeName"));
    if (json_is_string(jget(ep, "hostname")))
        kv_check_dns_label(c, "hostname", jstr(ep, "hostname"));
}

void kv_check_endpoint_slice(struct vctx *c, json_t *obj)
{
    static const char *const types[] = {"FQDN", "IPv4", "IPv6", NULL};
    const char *type = jstr0(obj, "addressType");
    if (!*type)
        kv_required(c, "addressType", "");
    else if (!str_in(type, types))
        kv_unsupported(c, "addressType", type, types);
    json_t *endpoints = jarr(obj, "endpoints");
    size_t mark = kv_path_child(c, "endpoints"), i;
    json_t *e;
    if (json_array_size(endpoints) > 1000)
        kv_too_many(c, NULL, json_array_size(endpoints), 1000);
    json_array_foreach(endpoints, i, e) {
        size_t m = kv_path_index(c, i);
        check_slice_endpoint(c, e, type);
        kv_path_pop(c, m);
    }
    kv_path_pop(c, mark);
    json_t *names = json_object();
    mark = kv_path_child(c, "ports");
    json_array_foreach(jarr(obj, "ports"), i, e) {
        size_t m = kv_path_index(c, i);
        const char *name = jstr0(e, "name"), *proto = jstr(e, "protocol");
        if (*name)
            kv_check_dns_label(c, "name", name);
        if (json_object_get(names, name))
            kv_duplicate(c, "name", name);
        json_object_set_new(names, name, json_true());
        if (!proto)
            kv_required(c, "protocol", "");
        else if (!str_in(proto, kv_protocols))
            kv_unsupported(c, "protocol", proto, kv_protocols);
        kv_path_pop(c, m);
    }
    kv_path_pop(c, mark);
    json_decref(names);
}

void kv_check_endpoint_slice_update(struct vctx *c, json_t *obj, json_t *old)
{
    kv_check_immutable(c, "addressType", jget(obj, "addressType"), jget(old, "addressType"));
}

/* The system classes a "system-" name may take, with their values. */
static const struct {
    const char *name;
    json_int_t value;
} system_priority_classes[] = {
    {"system-node-critical", 2000001000},
    {"system-cluster-critical", 2000000000},
};

void kv_check_priority_class(struct vctx *c, json_t *obj)
{
    const char *name = jstr0(jobj(obj, "metadata"), "name");
    json_int_t value = jint0(obj, "value");
    if (kv_has_prefix(name, "system-")) {
        char why[200];
        snprintf(why, sizeof why, "%.100s is not a known system priority class", name);
        for (size_t i = 0; i < sizeof system_priority_classes / sizeof system_priority_classes[0];
             i++) {
            if (strcmp(system_priority_classes[i].name, name) != 0)
                continue;
            if (value != system_priority_classes[i].value)
                snprintf(why, sizeof why, "value of %s PriorityClass must be %" JSON_INTEGER_FORMAT,
                         name, system_priority_classes[i].value);
            else if (jtrue(obj, "globalDefault"))
                snprintf(why, sizeof why, "globalDefault of %s PriorityClass must be false", name);
            else
                why[0] = '\0';
        }
        if (why[0]) {
            char detail[300];
            snprintf(detail, sizeof detail,
                     "priority class names with 'system-' prefix are reserved for system use only. "
                     "error: %s",
                     why);
            size_t m = kv_path_child(c, "metadata");
            kv_forbidden(c, "name", detail);
            kv_path_pop(c, m);
        }
    } else if (value > 1000000000) {
        kv_forbidden(c, "value", "maximum allowed value of a user defined priority is 1000000000");
    }
    const char *preempt = jstr(obj, "preemptionPolicy");
    if (preempt && !str_in(preempt, kv_preemption_policies))
        kv_unsupported(c, "preemptionPolicy", preempt, kv_preemption_policies);
}

void kv_check_priority_class_update(struct vctx *c, json_t *obj, json_t *old)
{
    if (!kv_sem_equal(jget(obj, "value"), jget(old, "value")))
        kv_forbidden(c, "value", "may not be changed in an update.");
    kv_check_immutable(c, "preemptionPolicy", jget(obj, "preemptionPolicy"),
                       jget(old, "preemptionPolicy"));
}

/* ==== storage.k8s.io/v1: StorageClass ==== */

#define SC_MAX_PARAMETERS 512
#define SC_MAX_PARAMETERS_SIZE (256 * 1024)

/* ValidateStorageClass: a provisioner that is a qualified name, at most
 * 512 parameters of at most 256 KiB in all with no empty name, a reclaim
 * policy of Delete or Retain, a known binding mode. */
void kv_check_storage_class(struct vctx *c, json_t *obj)
{
    const char *prov = jstr0(obj, "provisioner");
    if (!*prov) {
        kv_required(c, "provisioner", "");
    } else {
        char lower[320];
        size_t i = 0;
        for (; prov[i] && i + 1 < sizeof lower; i++)
            lower[i] = (char)(prov[i] >= 'A' && prov[i] <= 'Z' ? prov[i] + 32 : prov[i]);
        lower[i] = '\0';
        kv_check_qualified_name(c, "provisioner", lower);
    }
    json_t *params = jget(obj, "parameters"), *v;
    const char *k;
    size_t total = 0;
    bool empty_key = false;
    json_object_foreach(params, k, v)
    {
        empty_key |= !*k;
        total += strlen(k) + (json_is_string(v) ? strlen(json_string_value(v)) : 0);
    }
    if (json_object_size(params) > SC_MAX_PARAMETERS)
        kv_too_many(c, "parameters", json_object_size(params), SC_MAX_PARAMETERS);
    if (total > SC_MAX_PARAMETERS_SIZE)
        kv_too_long(c, "parameters", SC_MAX_PARAMETERS_SIZE);
    if (empty_key)
        kv_invalid_raw(c, "parameters", "\"\"", "invalid empty parameter name");
    static const char *const reclaim[] = {"Delete", "Retain", NULL};
    const char *policy = jstr(obj, "reclaimPolicy");
    if (policy && !str_in(policy, reclaim))
        kv_unsupported(c, "reclaimPolicy", policy, reclaim);
    static const char *const modes[] = {"Immediate", "WaitForFirstConsumer", NULL};
    const char *mode = jstr(obj, "volumeBindingMode");
    if (!mode)
        kv_required(c, "volumeBindingMode", "");
    else if (!str_in(mode, modes))
        kv_unsupported(c, "volumeBindingMode", mode, modes);
}

/* ValidateStorageClassUpdate: only metadata and allowVolumeExpansion may
 * change. */
void kv_check_storage_class_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const fixed[] = {"parameters", "provisioner", "reclaimPolicy"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        if (kv_sem_equal(jget(obj, fixed[i]), jget(old, fixed[i])))
            continue;
        char detail[80];
        snprintf(detail, sizeof detail, "updates to %s are forbidden.", fixed[i]);
        kv_forbidden(c, fixed[i], detail);
    }
    kv_check_immutable(c, "volumeBindingMode", jget(obj, "volumeBindingMode"),
                       jget(old, "volumeBindingMode"));
}

/* ==== policy/v1: PodDisruptionBudget ==== */

/* ValidatePodDisruptionBudgetSpec, and the non-negative counts of
 * ValidatePodDisruptionBudgetStatusUpdate (the main resource cannot change
 * the status, so checking it on every write only ever concerns /status). */
void kv_check_pdb(struct vctx *c, json_t *obj)
{
    static const char *const policies[] = {"AlwaysAllow", "IfHealthyBudget", NULL};
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    if (jget(spec, "minAvailable") && jget(spec, "maxUnavailable"))
        kv_invalid_go(c, NULL, kv_go_json, spec, "minAvailable and maxUnavailable cannot be both set");
    kv_check_int_or_percent(c, spec, "minAvailable", true);
    kv_check_int_or_percent(c, spec, "maxUnavailable", true);
    kv_check_label_selector(c, "selector", jget(spec, "selector"));
    const char *policy = jstr(spec, "unhealthyPodEvictionPolicy");
    if (policy && !str_in(policy, policies))
        kv_unsupported(c, "unhealthyPodEvictionPolicy", policy, policies);
    kv_path_pop(c, mark);
    json_t *status = jobj(obj, "status");
    static const char *const counts[] = {"disruptionsAllowed", "currentHealthy", "desiredHealthy",
                                         "expectedPods"};
    mark = kv_path_child(c, "status");
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        kv_check_nonnegative(c, status, counts[i]);
    kv_path_pop(c, mark);
}
