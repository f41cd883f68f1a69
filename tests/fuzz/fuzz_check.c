/* fuzz_check.c — libFuzzer harness for kube_schema_check, kube_defaults_apply
 * and kube_validate.
 *
 * Each input that parses as JSON is taken as a Pod, as a Deployment and as
 * one more served kind (picked by the input's length), and goes through what
 * the server does with a write: the schema check (strict, then pruning),
 * defaulting, and validation, on create and as an update of itself. Besides
 * crashes, leaks and undefined behaviour (the sanitizers), it aborts when
 *   1. a cause is not {reason, message, field}, all strings;
 *   2. after pruning, a strict check still finds an unknown field;
 *   3. defaulting twice differs from defaulting once;
 *   4. validation changes the object it checks.
 *
 *   make build/fuzz/fuzz_check && ./build/fuzz/fuzz_check -max_total_time=120 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

static const struct {
    const char *group, *version, *kind;
} fuzz_kinds[] = {
    {"", "v1", "Namespace"},
    {"", "v1", "Node"},
    {"", "v1", "Service"},
    {"", "v1", "Endpoints"},
    {"", "v1", "ConfigMap"},
    {"", "v1", "Secret"},
    {"", "v1", "PersistentVolume"},
    {"", "v1", "PersistentVolumeClaim"},
    {"", "v1", "Event"},
    {"", "v1", "ServiceAccount"},
    {"apps", "v1", "ReplicaSet"},
    {"apps", "v1", "DaemonSet"},
    {"apps", "v1", "StatefulSet"},
    {"apps", "v1", "ControllerRevision"},
    {"batch", "v1", "Job"},
    {"batch", "v1", "CronJob"},
    {"autoscaling", "v2", "HorizontalPodAutoscaler"},
    {"coordination.k8s.io", "v1", "Lease"},
    {"discovery.k8s.io", "v1", "EndpointSlice"},
    {"scheduling.k8s.io", "v1", "PriorityClass"},
    {"policy", "v1", "PodDisruptionBudget"},
};

/* Invariant 1; returns whether any cause is an unknown field. */
static int fuzz_causes_ok(json_t *causes)
{
    int unknown = 0;
    if (!causes)
        return 0;
    if (!json_is_array(causes) || json_array_size(causes) == 0)
        abort();
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c) {
        const char *reason = json_string_value(json_object_get(c, "reason"));
        if (!reason || !json_is_string(json_object_get(c, "message")) ||
            !json_is_string(json_object_get(c, "field")))
            abort();
        unknown |= strcmp(reason, "FieldValueInvalid") == 0;
    }
    return unknown;
}

static void fuzz_kind(const char *group, const char *version, const char *kind, json_t *input)
{
    const struct kube_type *t = kube_schema_kind(group, version, kind);
    if (!t)
        abort();
    json_t *obj = json_deep_copy(input);
    json_t *causes = kube_schema_check(t, obj, 1);
    fuzz_causes_ok(causes);
    json_decref(causes);
    causes = kube_schema_check(t, obj, 0); /* prunes */
    fuzz_causes_ok(causes);
    json_decref(causes);
    causes = kube_schema_check(t, obj, 1);
    if (fuzz_causes_ok(causes)) /* 2 */
        abort();
    json_decref(causes);

    kube_defaults_apply(group, kind, obj);
    json_t *again = json_deep_copy(obj);
    kube_defaults_apply(group, kind, again);
    if (!json_equal(obj, again)) /* 3 */
        abort();

    json_t *before = json_deep_copy(obj);
    causes = kube_validate(group, kind, obj, NULL);
    fuzz_causes_ok(causes);
    json_decref(causes);
    causes = kube_validate(group, kind, obj, again);
    fuzz_causes_ok(causes);
    json_decref(causes);
    /* An update from the raw input exercises the immutable-field rules on
     * objects that differ. */
    causes = kube_validate(group, kind, obj, input);
    fuzz_causes_ok(causes);
    json_decref(causes);
    if (!json_equal(obj, before)) /* 4 */
        abort();
    json_decref(before);
    json_decref(again);
    json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *input = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!input)
        return 0;
    fuzz_kind("", "v1", "Pod", input);
    fuzz_kind("apps", "v1", "Deployment", input);
    size_t n = sizeof fuzz_kinds / sizeof fuzz_kinds[0];
    fuzz_kind(fuzz_kinds[size % n].group, fuzz_kinds[size % n].version, fuzz_kinds[size % n].kind,
              input);
    json_decref(input);
    return 0;
}
