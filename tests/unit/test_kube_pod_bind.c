/* test_kube_pod_bind.c — unit tests for binding a pod to a node
 * (kube/pod.c): kube_pod_bind (pods/binding: a wholly new object).
 *
 * It must set spec.nodeName, replace any PodScheduled condition with True
 * at `now` and keep the others, merge the Binding's annotations, refuse a
 * pod being deleted or already assigned, and leave the pod it was given as
 * it was. (The scheduler's byte-level binding is checked against it in
 * test_scheduler.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kube/kube.h"

static json_t *pod(void)
{
    json_t *p = json_loads(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\","
        "\"labels\":{\"a\":\"b\"},\"annotations\":{\"x\":\"1\"}},\"spec\":{\"containers\":"
        "[{\"name\":\"c\",\"image\":\"i\"}]},\"status\":{\"phase\":\"Pending\",\"conditions\":"
        "[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\"},"
        "{\"type\":\"Other\",\"status\":\"True\"}]}}",
        0, NULL);
    assert_non_null(p);
    return p;
}

static void check_bound(json_t *b, const char *node)
{
    json_t *spec = json_object_get(b, "spec");
    assert_string_equal(json_string_value(json_object_get(spec, "nodeName")), node);
    json_t *conds = json_object_get(json_object_get(b, "status"), "conditions");
    assert_int_equal(json_array_size(conds), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(conds, 0), "type")),
                        "Other");
    json_t *c = json_array_get(conds, 1);
    assert_string_equal(json_string_value(json_object_get(c, "type")), "PodScheduled");
    assert_string_equal(json_string_value(json_object_get(c, "status")), "True");
    assert_string_equal(json_string_value(json_object_get(c, "lastTransitionTime")),
                        "2026-01-02T03:04:05Z");
    assert_true(json_is_null(json_object_get(c, "lastProbeTime")));
}

static void test_bind_deep(void **state)
{
    (void)state;
    json_t *p = pod(), *before = json_deep_copy(p);
    json_t *ann = json_pack("{s:s}", "y", "2");
    char err[256];
    json_t *b = kube_pod_bind(p, "n1", ann, "2026-01-02T03:04:05Z", err, sizeof err);
    assert_non_null(b);
    check_bound(b, "n1");
    json_t *bann = json_object_get(json_object_get(b, "metadata"), "annotations");
    assert_int_equal(json_object_size(bann), 2);
    assert_true(json_equal(p, before)); /* the pod is as it was */
    assert_ptr_not_equal(json_object_get(json_object_get(b, "spec"), "containers"),
                         json_object_get(json_object_get(p, "spec"), "containers"));
    json_decref(b);
    json_decref(ann);
    json_decref(before);
    json_decref(p);
}

static void test_bind_refused(void **state)
{
    (void)state;
    char err[256];
    json_t *p = pod();
    json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string("n0"));
    assert_null(kube_pod_bind(p, "n1", NULL, "2026-01-02T03:04:05Z", err, sizeof err));
    assert_string_equal(err, "pod p is already assigned to node \"n0\"");
    assert_null(kube_pod_bind(p, "n1", NULL, "2026-01-02T03:04:05Z", err, sizeof err));
    json_decref(p);
    p = pod();
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
                        json_string("2026-01-02T03:04:05Z"));
    assert_null(kube_pod_bind(p, "n1", NULL, "2026-01-02T03:04:05Z", err, sizeof err));
    assert_string_equal(err, "pod p is being deleted, cannot be assigned to a host");
    json_decref(p);
}

static void test_bind_bare_pod(void **state)
{
    (void)state;
    char err[256];
    json_t *p = json_pack("{s:{s:s}}", "metadata", "name", "bare");
    json_t *b = kube_pod_bind(p, "n1", NULL, "2026-01-02T03:04:05Z", err, sizeof err);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "spec"), "nodeName")),
                        "n1");
    assert_int_equal(json_array_size(json_object_get(json_object_get(b, "status"), "conditions")),
                     1);
    assert_null(json_object_get(p, "spec"));
    json_decref(b);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_deep),
        cmocka_unit_test(test_bind_refused),
        cmocka_unit_test(test_bind_bare_pod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
