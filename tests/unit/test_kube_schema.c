/* test_kube_schema.c — unit tests for kube/schema.c and the schema that
 * scripts/gen_schema.py derives from the k8s.io/api sources: kinds, merge
 * keys, list types, inline members, special value types. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "kube/kube.h"

static const struct kube_field *field_path(const struct kube_type *t, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const struct kube_field *f = NULL;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok;
         tok = strtok_r(NULL, ".", &save)) {
        assert_non_null(t);
        f = kube_type_field(t, tok);
        if (!f)
            return NULL;
        t = f->type;
    }
    return f;
}

static void test_kinds(void **state)
{
    const struct kube_type *pod = kube_schema_kind("", "v1", "Pod");
    assert_non_null(pod);
    assert_string_equal(pod->name, "io.k8s.api.core.v1.Pod");
    assert_string_equal(pod->kind, "Pod");
    assert_string_equal(pod->group, "");
    assert_non_null(kube_type_field(pod, "apiVersion"));
    assert_non_null(kube_type_field(pod, "kind"));
    assert_non_null(kube_schema_kind("apps", "v1", "Deployment"));
    assert_non_null(kube_schema_kind("apps", "v1", "DeploymentList"));
    assert_non_null(kube_schema_kind("batch", "v1", "CronJob"));
    assert_non_null(kube_schema_kind("autoscaling", "v2", "HorizontalPodAutoscaler"));
    assert_non_null(kube_schema_kind("autoscaling", "v1", "Scale"));
    assert_non_null(kube_schema_kind("coordination.k8s.io", "v1", "Lease"));
    assert_non_null(kube_schema_kind("discovery.k8s.io", "v1", "EndpointSlice"));
    assert_null(kube_schema_kind("apps", "v1", "Pod"));
    assert_null(kube_schema_kind("", "v1", "PodSpec")); /* a type, not a kind */
    assert_non_null(kube_schema_type("io.k8s.api.core.v1.PodSpec"));
    assert_null(kube_schema_type("io.k8s.api.core.v1.Nope"));
}

static void test_merge_keys(void **state)
{
    const struct kube_type *pod = kube_schema_kind("", "v1", "Pod");
    const struct kube_field *c = field_path(pod, "spec.containers");
    assert_non_null(c);
    assert_true(c->repeated);
    assert_int_equal(c->vtype, KUBE_V_OBJECT);
    assert_string_equal(c->patch_strategy, "merge");
    assert_string_equal(c->patch_merge_key, "name");
    assert_string_equal(c->list_type, "map");
    assert_string_equal(c->list_map_keys[0], "name");
    assert_null(c->list_map_keys[1]);
    assert_true(c->required);
    const struct kube_field *ports = field_path(pod, "spec.containers.ports");
    assert_string_equal(ports->patch_merge_key, "containerPort");
    assert_string_equal(ports->list_map_keys[0], "containerPort");
    assert_string_equal(ports->list_map_keys[1], "protocol");
    const struct kube_field *fin = field_path(pod, "metadata.finalizers");
    assert_string_equal(fin->patch_strategy, "merge");
    assert_int_equal(fin->vtype, KUBE_V_STRING);
    const struct kube_type *dep = kube_schema_kind("apps", "v1", "Deployment");
    assert_string_equal(field_path(dep, "spec.strategy")->patch_strategy, "retainKeys");
    assert_string_equal(field_path(dep, "spec.template.spec.volumes")->patch_strategy,
                        "merge,retainKeys");
    assert_false(field_path(dep, "spec.replicas")->required);
}

static void test_value_types(void **state)
{
    const struct kube_type *pod = kube_schema_kind("", "v1", "Pod");
    assert_int_equal(field_path(pod, "metadata.creationTimestamp")->vtype, KUBE_V_TIME);
    assert_int_equal(field_path(pod, "metadata.managedFields.fieldsV1")->vtype, KUBE_V_RAW);
    const struct kube_field *lim = field_path(pod, "spec.containers.resources.limits");
    assert_true(lim->map);
    assert_int_equal(lim->vtype, KUBE_V_QUANTITY);
    assert_int_equal(field_path(pod, "spec.containers.livenessProbe.httpGet.port")->vtype,
                     KUBE_V_INT_OR_STRING);
    const struct kube_type *cm = kube_schema_kind("", "v1", "ConfigMap");
    assert_true(kube_type_field(cm, "data")->map);
    assert_int_equal(kube_type_field(cm, "binaryData")->vtype, KUBE_V_BYTES);
    assert_int_equal(field_path(pod, "spec.activeDeadlineSeconds")->vtype, KUBE_V_INT64);
}

static void test_inline(void **state)
{
    /* Volume's VolumeSource is inline in JSON, nested in protobuf. */
    const struct kube_type *vol = kube_schema_type("io.k8s.api.core.v1.Volume");
    const struct kube_field *cm = kube_type_field(vol, "configMap");
    assert_non_null(cm);
    assert_true(cm->inlined);
    assert_null(kube_type_field(vol, "volumeSource"));
    assert_int_equal(vol->n_inlines, 1);
    assert_string_equal(vol->inlines[0].name, "volumeSource");
    assert_string_equal(vol->inlines[0].type->name, "io.k8s.api.core.v1.VolumeSource");
    assert_false(kube_type_field(vol, "name")->inlined);
}

static void test_docs_and_order(void **state)
{
    const struct kube_type *c = kube_schema_type("io.k8s.api.core.v1.Container");
    const struct kube_field *img = kube_type_field(c, "image");
    assert_non_null(strstr(img->description, "Container image name."));
    assert_null(strstr(img->description, "+optional"));
    for (unsigned i = 0; kube_schema_type_at(i + 1); i++)
        assert_true(strcmp(kube_schema_type_at(i)->name, kube_schema_type_at(i + 1)->name) < 0);
    for (unsigned i = 0; i + 1 < c->n_fields; i++)
        assert_true(strcmp(c->fields[i].name, c->fields[i + 1].name) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),         cmocka_unit_test(test_merge_keys),
        cmocka_unit_test(test_value_types),   cmocka_unit_test(test_inline),
        cmocka_unit_test(test_docs_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
