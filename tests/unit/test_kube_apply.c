/* test_kube_apply.c — unit tests for kube/apply.c: server-side apply and
 * managed fields against the real schema. Expected FieldsV1 documents and
 * conflict messages are the ones Kubernetes 1.32 writes for the same
 * requests; each test says where it departs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kube/kube.h"

#define T0 "2025-01-01T00:00:00Z"
#define T1 "2025-01-01T00:01:00Z"
#define T2 "2025-01-01T00:02:00Z"
#define T3 "2025-01-01T00:03:00Z"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *v = json_loads(s, 0, &e);
    if (!v)
        fail_msg("bad JSON in test: %s: %s", e.text, s);
    return v;
}

static const struct kube_type *deployment(void)
{
    const struct kube_type *t = kube_schema_kind("apps", "v1", "Deployment");
    assert_non_null(t);
    return t;
}

/* A value by dotted path ("spec.replicas"; numbers index arrays). */
static json_t *at(json_t *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && v;
         tok = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, (size_t)atoi(tok)) : json_object_get(v, tok);
    return v;
}

static json_t *entry(json_t *obj, const char *manager, const char *op)
{
    json_t *mf = at(obj, "metadata.managedFields"), *e;
    size_t i;
    json_array_foreach(mf, i, e) {
        if (!strcmp(json_string_value(json_object_get(e, "manager")), manager) &&
            !strcmp(json_string_value(json_object_get(e, "operation")), op))
            return e;
    }
    return NULL;
}

/* A manager's FieldsV1 as compact JSON, in the order it was written. */
static char *fields(json_t *obj, const char *manager, const char *op)
{
    json_t *e = entry(obj, manager, op);
    if (!e)
        return strdup("<none>");
    return json_dumps(json_object_get(e, "fieldsV1"), JSON_COMPACT);
}

static void assert_fields(json_t *obj, const char *manager, const char *op, const char *want)
{
    char *got = fields(obj, manager, op);
    if (strcmp(got, want))
        fail_msg("fieldsV1 of %s/%s:\n got  %s\n want %s", manager, op, got, want);
    free(got);
}

static size_t n_entries(json_t *obj)
{
    return json_array_size(at(obj, "metadata.managedFields"));
}

static json_t *apply(json_t *live, const char *config, const char *manager, bool force,
                     const char *now)
{
    char err[512];
    json_t *conflicts = NULL, *cfg = J(config);
    json_t *out = kube_apply(deployment(), live, cfg, manager, "", force, now, &conflicts, err,
                             sizeof err);
    if (!out)
        fail_msg("apply by %s failed: %s", manager, err);
    assert_null(conflicts);
    json_decref(cfg);
    return out;
}

/* Applies expecting conflicts; returns the causes, err gets the message. */
static json_t *apply_conflict(json_t *live, const char *config, const char *manager, char *err,
                              size_t errlen)
{
    json_t *conflicts = NULL, *cfg = J(config);
    json_t *out = kube_apply(deployment(), live, cfg, manager, "", false, T3, &conflicts, err,
                             errlen);
    assert_null(out);
    assert_non_null(conflicts);
    json_decref(cfg);
    return conflicts;
}

#define WEB_HEAD "\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\"," \
                 "\"metadata\":{\"name\":\"web\",\"namespace\":\"default\""

static const char web[] =
    "{" WEB_HEAD ",\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx:1.27\","
    "\"ports\":[{\"containerPort\":80}]}]}}}}";

/* What kubectl apply --server-side writes for that manifest in
 * Kubernetes 1.32: selector atomic (LabelSelector is +structType=atomic),
 * the port's key completed with the default protocol, no "." on maps the
 * configuration only fills. */
static const char web_fields[] =
    "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
    "\"f:spec\":{\"f:replicas\":{},\"f:selector\":{},"
    "\"f:template\":{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},"
    "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:image\":{},"
    "\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":"
    "{\".\":{},\"f:containerPort\":{}}}}}}}}}";

static void test_apply_create(void **state)
{
    (void)state;
    json_t *cfg = J(web);
    json_t *obj = apply(NULL, web, "kubectl", false, T0);
    assert_int_equal(json_integer_value(at(obj, "spec.replicas")), 2);
    assert_string_equal(json_string_value(at(obj, "spec.template.spec.containers.0.image")),
                        "nginx:1.27");
    assert_int_equal(n_entries(obj), 1);
    char *e = json_dumps(entry(obj, "kubectl", "Apply"), JSON_COMPACT);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":\"apps/v1\","
             "\"time\":\"" T0 "\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":%s}",
             web_fields);
    assert_string_equal(e, want);
    free(e);
    /* the configuration is left alone */
    json_t *again = J(web);
    assert_true(json_equal(cfg, again));
    json_decref(again);
    json_decref(cfg);
    json_decref(obj);
}

/* The example of the Kubernetes documentation (server-side-apply, "Field
 * management"), with keys in the order the server writes them. */
static void test_apply_configmap_docs_example(void **state)
{
    (void)state;
    const struct kube_type *cm = kube_schema_kind("", "v1", "ConfigMap");
    json_t *cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                    "\"test-cm\",\"namespace\":\"default\",\"labels\":{\"test-label\":\"test\"}},"
                    "\"data\":{\"key\":\"some value\"}}");
    char err[256];
    json_t *conflicts = NULL;
    json_t *obj = kube_apply(cm, NULL, cfg, "kubectl", "", false, T0, &conflicts, err, sizeof err);
    assert_non_null(obj);
    assert_fields(obj, "kubectl", "Apply",
                  "{\"f:data\":{\"f:key\":{}},\"f:metadata\":{\"f:labels\":{\"f:test-label\":{}}}}");
    assert_string_equal(json_string_value(at(obj, "metadata.managedFields.0.apiVersion")), "v1");
    json_decref(obj);
    json_decref(cfg);
}

static void test_reapply_same_is_noop(void **state)
{
    (void)state;
    json_t *a = apply(NULL, web, "kubectl", false, T0);
    json_t *b = apply(a, web, "kubectl", false, T1);
    assert_true(json_equal(a, b)); /* time too: nothing changed */
    json_decref(a);
    json_decref(b);
}

static void test_apply_removes_what_it_stops_applying(void **state)
{
    (void)state;
    json_t *a = apply(NULL,
                      "{" WEB_HEAD ",\"labels\":{\"app\":\"web\",\"tier\":\"fe\"}},"
                      "\"spec\":{\"replicas\":2,\"minReadySeconds\":5,\"template\":{\"spec\":"
                      "{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"env\":[{\"name\":\"A\","
                      "\"value\":\"1\"},{\"name\":\"B\",\"value\":\"2\"}]}]}}}}",
                      "kubectl", false, T0);
    json_t *b = apply(a,
                      "{" WEB_HEAD ",\"labels\":{\"app\":\"web\"}},"
                      "\"spec\":{\"replicas\":2,\"template\":{\"spec\":"
                      "{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"env\":[{\"name\":\"B\","
                      "\"value\":\"2\"}]}]}}}}",
                      "kubectl", false, T1);
    assert_null(at(b, "metadata.labels.tier"));
    assert_string_equal(json_string_value(at(b, "metadata.labels.app")), "web");
    assert_null(at(b, "spec.minReadySeconds"));
    json_t *env = at(b, "spec.template.spec.containers.0.env");
    assert_int_equal(json_array_size(env), 1);
    assert_string_equal(json_string_value(at(env, "0.name")), "B");
    assert_fields(b, "kubectl", "Apply",
                  "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{},"
                  "\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":"
                  "{\".\":{},\"f:env\":{\"k:{\\\"name\\\":\\\"B\\\"}\":{\".\":{},\"f:name\":{},"
                  "\"f:value\":{}}},\"f:image\":{},\"f:name\":{}}}}}}}");
    assert_string_equal(json_string_value(json_object_get(entry(b, "kubectl", "Apply"), "time")),
                        T1);
    /* dropping the last label removes the emptied map too */
    json_t *c = apply(b,
                      "{" WEB_HEAD "},\"spec\":{\"replicas\":2,\"template\":{\"spec\":"
                      "{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
                      "kubectl", false, T2);
    assert_null(at(c, "metadata.labels"));
    assert_null(at(c, "spec.template.spec.containers.0.env"));
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_removed_field_kept_when_another_owns_it(void **state)
{
    (void)state;
    json_t *a = apply(NULL,
                      "{" WEB_HEAD ",\"labels\":{\"app\":\"web\",\"team\":\"x\"}},"
                      "\"spec\":{\"replicas\":2}}",
                      "alice", false, T0);
    /* bob applies the same value: shared, no conflict */
    json_t *b = apply(a, "{" WEB_HEAD ",\"labels\":{\"team\":\"x\"}}}", "bob", false, T1);
    assert_fields(b, "bob", "Apply", "{\"f:metadata\":{\"f:labels\":{\"f:team\":{}}}}");
    /* bob's entry has no time: applying changed nothing (as Kubernetes) */
    assert_null(json_object_get(entry(b, "bob", "Apply"), "time"));
    json_t *c = apply(b, "{" WEB_HEAD ",\"labels\":{\"app\":\"web\"}},\"spec\":{\"replicas\":2}}",
                      "alice", false, T2);
    assert_string_equal(json_string_value(at(c, "metadata.labels.team")), "x");
    assert_fields(c, "alice", "Apply",
                  "{\"f:metadata\":{\"f:labels\":{\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{}}}");
    assert_fields(c, "bob", "Apply", "{\"f:metadata\":{\"f:labels\":{\"f:team\":{}}}}");
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_conflict_between_appliers_and_force(void **state)
{
    (void)state;
    json_t *a = apply(NULL, "{" WEB_HEAD "},\"spec\":{\"replicas\":2}}", "alice", false, T0);
    char err[512];
    const char *bob = "{" WEB_HEAD "},\"spec\":{\"replicas\":3}}";
    json_t *c = apply_conflict(a, bob, "bob", err, sizeof err);
    assert_string_equal(err, "Apply failed with 1 conflict: conflict with \"alice\": .spec.replicas");
    char *s = json_dumps(c, JSON_COMPACT);
    assert_string_equal(s, "[{\"reason\":\"FieldManagerConflict\",\"message\":\"conflict with "
                           "\\\"alice\\\"\",\"field\":\".spec.replicas\"}]");
    free(s);
    json_decref(c);
    json_t *b = apply(a, bob, "bob", true, T1);
    assert_int_equal(json_integer_value(at(b, "spec.replicas")), 3);
    assert_fields(b, "bob", "Apply", "{\"f:spec\":{\"f:replicas\":{}}}");
    assert_null(entry(b, "alice", "Apply")); /* alice owned nothing else */
    /* alice now conflicts with bob */
    json_t *c2 = apply_conflict(b, "{" WEB_HEAD "},\"spec\":{\"replicas\":2}}", "alice", err,
                                sizeof err);
    assert_string_equal(err, "Apply failed with 1 conflict: conflict with \"bob\": .spec.replicas");
    json_decref(c2);
    json_decref(a);
    json_decref(b);
}

static void test_conflict_with_update_managers(void **state)
{
    (void)state;
    /* kubectl create (or client-side apply's POST) owns everything */
    json_t *old = J(web);
    json_object_set_new(at(old, "metadata"), "uid", json_string("u1"));
    kube_managed_fields_update(deployment(), NULL, old, "kubectl-client-side-apply", "", T0);
    char err[512];
    json_t *c = apply_conflict(old, "{" WEB_HEAD "},\"spec\":{\"replicas\":5}}", "kubectl", err,
                               sizeof err);
    assert_string_equal(err, "Apply failed with 1 conflict: conflict with "
                             "\"kubectl-client-side-apply\" using apps/v1: .spec.replicas");
    assert_string_equal(json_string_value(at(c, "0.message")),
                        "conflict with \"kubectl-client-side-apply\" using apps/v1");
    json_decref(c);
    /* the same value is shared, not a conflict */
    json_t *same = apply(old, "{" WEB_HEAD "},\"spec\":{\"replicas\":2}}", "kubectl", false, T1);
    assert_fields(same, "kubectl", "Apply", "{\"f:spec\":{\"f:replicas\":{}}}");
    assert_non_null(entry(same, "kubectl-client-side-apply", "Update"));

    /* kubectl edit changes the image: it owns it now */
    json_t *edited = json_deep_copy(old);
    json_object_set_new(at(edited, "spec.template.spec.containers.0"), "image",
                        json_string("nginx:1.28"));
    kube_managed_fields_update(deployment(), old, edited, "kubectl-edit", "", T1);
    assert_fields(edited, "kubectl-edit", "Update",
                  "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":"
                  "\\\"nginx\\\"}\":{\"f:image\":{}}}}}}}");
    c = apply_conflict(edited,
                       "{" WEB_HEAD "},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":"
                       "\"nginx\",\"image\":\"nginx:1.29\"}]}}}}",
                       "ci", err, sizeof err);
    assert_string_equal(err, "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using "
                             "apps/v1: .spec.template.spec.containers[name=\"nginx\"].image");
    json_decref(c);
    json_decref(old);
    json_decref(same);
    json_decref(edited);
}

static void test_multiple_conflicts_message(void **state)
{
    (void)state;
    json_t *a = apply(NULL, "{" WEB_HEAD "},\"spec\":{\"replicas\":2,\"minReadySeconds\":1}}",
                      "alice", false, T0);
    json_t *b = json_deep_copy(a);
    json_object_set_new(at(b, "metadata"), "labels", J("{\"app\":\"web\"}"));
    kube_managed_fields_update(deployment(), a, b, "bob", "", T1);
    char err[512];
    json_t *c = apply_conflict(b,
                               "{" WEB_HEAD ",\"labels\":{\"app\":\"x\"}},"
                               "\"spec\":{\"replicas\":3,\"minReadySeconds\":2}}",
                               "carol", err, sizeof err);
    assert_string_equal(err, "Apply failed with 3 conflicts: conflicts with \"alice\":\n"
                             "- .spec.minReadySeconds\n- .spec.replicas\n"
                             "conflicts with \"bob\" using apps/v1:\n- .metadata.labels.app");
    assert_int_equal(json_array_size(c), 3);
    json_decref(c);
    json_decref(a);
    json_decref(b);
}

/* kubectl's upgrade path: client-side apply first, then --server-side
 * with a change to a field the last-applied configuration holds. */
static void test_client_side_apply_upgrade(void **state)
{
    (void)state;
    json_t *old = J("{" WEB_HEAD ",\"annotations\":{\"kubectl.kubernetes.io/last-applied-"
                    "configuration\":\"{\\\"apiVersion\\\":\\\"apps/v1\\\",\\\"kind\\\":"
                    "\\\"Deployment\\\",\\\"metadata\\\":{\\\"name\\\":\\\"web\\\",\\\"namespace"
                    "\\\":\\\"default\\\"},\\\"spec\\\":{\\\"replicas\\\":2}}\\n\"}},"
                    "\"spec\":{\"replicas\":2}}");
    kube_managed_fields_update(deployment(), NULL, old, "kubectl-client-side-apply", "", T0);
    json_t *b = apply(old, "{" WEB_HEAD "},\"spec\":{\"replicas\":4}}", "kubectl", false, T1);
    assert_int_equal(json_integer_value(at(b, "spec.replicas")), 4);
    assert_fields(b, "kubectl", "Apply", "{\"f:spec\":{\"f:replicas\":{}}}");
    assert_string_equal(
        json_string_value(json_object_get(at(b, "metadata.annotations"),
                                          "kubectl.kubernetes.io/last-applied-configuration")),
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
        "\"namespace\":\"default\"},\"spec\":{\"replicas\":4}}\n");
    /* another manager gets no such pass */
    char err[256];
    json_t *c = apply_conflict(old, "{" WEB_HEAD "},\"spec\":{\"replicas\":4}}", "other", err,
                               sizeof err);
    json_decref(c);
    json_decref(old);
    json_decref(b);
}

/* Two appliers with the same value share the field; then neither may
 * change it alone, and one giving it up leaves it to the other. */
static void test_shared_ownership(void **state)
{
    (void)state;
    const char *two = "{" WEB_HEAD "},\"spec\":{\"replicas\":2}}";
    json_t *a = apply(NULL, two, "alice", false, T0);
    json_t *b = apply(a, two, "bob", false, T1);
    assert_fields(b, "alice", "Apply", "{\"f:spec\":{\"f:replicas\":{}}}");
    assert_fields(b, "bob", "Apply", "{\"f:spec\":{\"f:replicas\":{}}}");
    char err[256];
    json_t *c = apply_conflict(b, "{" WEB_HEAD "},\"spec\":{\"replicas\":4}}", "alice", err,
                               sizeof err);
    assert_string_equal(err, "Apply failed with 1 conflict: conflict with \"bob\": .spec.replicas");
    json_decref(c);
    json_t *d = apply(b, "{" WEB_HEAD "}}", "bob", false, T2);
    assert_int_equal(json_integer_value(at(d, "spec.replicas")), 2);
    assert_null(entry(d, "bob", "Apply"));
    json_t *e = apply(d, "{" WEB_HEAD "},\"spec\":{\"replicas\":4}}", "alice", false, T3);
    assert_int_equal(json_integer_value(at(e, "spec.replicas")), 4);
    json_decref(a);
    json_decref(b);
    json_decref(d);
    json_decref(e);
}

/* --force-conflicts against an Update manager takes the field from it,
 * and only that field. */
static void test_force_takes_from_updater(void **state)
{
    (void)state;
    json_t *old = J(web);
    kube_managed_fields_update(deployment(), NULL, old, "kubectl-client-side-apply", "", T0);
    json_t *b = apply(old, "{" WEB_HEAD "},\"spec\":{\"replicas\":5}}", "kubectl", true, T1);
    assert_int_equal(json_integer_value(at(b, "spec.replicas")), 5);
    assert_fields(b, "kubectl", "Apply", "{\"f:spec\":{\"f:replicas\":{}}}");
    char *f = fields(b, "kubectl-client-side-apply", "Update");
    assert_null(strstr(f, "f:replicas"));
    assert_non_null(strstr(f, "f:selector"));
    free(f);
    /* Apply entries come before Update entries */
    assert_string_equal(json_string_value(at(b, "metadata.managedFields.0.operation")), "Apply");
    assert_string_equal(json_string_value(at(b, "metadata.managedFields.1.operation")), "Update");
    json_decref(old);
    json_decref(b);
}

/* What a configuration owns when it sets empty and null values, as smd:
 * {} and null own the field itself, an empty associative list nothing,
 * an empty atomic list the list. null unsets the field. */
static void test_empty_and_null_values(void **state)
{
    (void)state;
    json_t *a = apply(NULL,
                      "{" WEB_HEAD ",\"labels\":{},\"finalizers\":[]},\"spec\":{\"minReadySeconds\":"
                      "3,\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"args\":[],"
                      "\"resources\":{}}]}}}}",
                      "alice", false, T0);
    assert_fields(a, "alice", "Apply",
                  "{\"f:metadata\":{\"f:labels\":{}},\"f:spec\":{\"f:minReadySeconds\":{},"
                  "\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":"
                  "{\".\":{},\"f:args\":{},\"f:name\":{},\"f:resources\":{}}}}}}}");
    json_t *b = apply(a, "{" WEB_HEAD "},\"spec\":{\"minReadySeconds\":null}}", "alice", false, T1);
    assert_null(at(b, "spec.minReadySeconds"));
    assert_fields(b, "alice", "Apply", "{\"f:spec\":{\"f:minReadySeconds\":{}}}");
    json_decref(a);
    json_decref(b);
}

/* Client-side apply's pass only covers fields the annotation holds with
 * their live values: the others still conflict. */
static void test_client_side_apply_upgrade_partial(void **state)
{
    (void)state;
    json_t *old = J("{" WEB_HEAD ",\"annotations\":{\"kubectl.kubernetes.io/last-applied-"
                    "configuration\":\"{\\\"apiVersion\\\":\\\"apps/v1\\\",\\\"kind\\\":"
                    "\\\"Deployment\\\",\\\"metadata\\\":{\\\"name\\\":\\\"web\\\"},\\\"spec\\\":"
                    "{\\\"replicas\\\":2}}\"}},\"spec\":{\"replicas\":2,\"minReadySeconds\":1}}");
    kube_managed_fields_update(deployment(), NULL, old, "kubectl-client-side-apply", "", T0);
    char err[512];
    json_t *c = apply_conflict(old, "{" WEB_HEAD "},\"spec\":{\"replicas\":4,\"minReadySeconds\":2}}",
                               "kubectl", err, sizeof err);
    assert_string_equal(err, "Apply failed with 1 conflict: conflict with "
                             "\"kubectl-client-side-apply\" using apps/v1: .spec.minReadySeconds");
    json_decref(c);
    json_decref(old);
}

/* Other kinds' list keys and atomic maps: a Service's ports are keyed by
 * port and protocol, its selector is +mapType=atomic; a Pod's volumes by
 * name, volumeMounts by mountPath, tolerations atomic. */
static void test_service_and_pod(void **state)
{
    (void)state;
    char err[256];
    json_t *conflicts = NULL;
    json_t *cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},"
                    "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":[{\"port\":80,"
                    "\"targetPort\":8080}]}}");
    json_t *svc = kube_apply(kube_schema_kind("", "v1", "Service"), NULL, cfg, "kubectl", "", false,
                             T0, &conflicts, err, sizeof err);
    assert_non_null(svc);
    assert_fields(svc, "kubectl", "Apply",
                  "{\"f:spec\":{\"f:ports\":{\"k:{\\\"port\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":"
                  "{\".\":{},\"f:port\":{},\"f:targetPort\":{}}},\"f:selector\":{}}}");
    json_decref(cfg);
    json_decref(svc);
    cfg = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{"
            "\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"volumeMounts\":[{\"name\":\"v\","
            "\"mountPath\":\"/d\"}]}],\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}],"
            "\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\"}]}}");
    json_t *pod = kube_apply(kube_schema_kind("", "v1", "Pod"), NULL, cfg, "kubectl", "", false, T0,
                             &conflicts, err, sizeof err);
    assert_non_null(pod);
    assert_fields(pod, "kubectl", "Apply",
                  "{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},"
                  "\"f:image\":{},\"f:name\":{},\"f:volumeMounts\":{\"k:{\\\"mountPath\\\":"
                  "\\\"/d\\\"}\":{\".\":{},\"f:mountPath\":{},\"f:name\":{}}}}},"
                  "\"f:tolerations\":{},\"f:volumes\":{\"k:{\\\"name\\\":\\\"v\\\"}\":{\".\":{},"
                  "\"f:emptyDir\":{},\"f:name\":{}}}}}");
    json_decref(cfg);
    json_decref(pod);
}

static const char *containers_cfg(const char *items)
{
    static char buf[1024];
    snprintf(buf, sizeof buf,
             "{" WEB_HEAD "},\"spec\":{\"template\":{\"spec\":{\"containers\":[%s]}}}}", items);
    return buf;
}

static void test_containers_merged_by_name(void **state)
{
    (void)state;
    json_t *a = apply(NULL, containers_cfg("{\"name\":\"a\",\"image\":\"ia\"}"), "alice", false, T0);
    json_t *b = apply(a, containers_cfg("{\"name\":\"b\",\"image\":\"ib\"}"), "bob", false, T1);
    json_t *cs = at(b, "spec.template.spec.containers");
    assert_int_equal(json_array_size(cs), 2);
    assert_string_equal(json_string_value(at(cs, "0.name")), "a");
    assert_string_equal(json_string_value(at(cs, "1.name")), "b");
    assert_fields(b, "bob", "Apply",
                  "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":"
                  "\\\"b\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{}}}}}}}");
    /* alice changes her own container freely, adds a field to bob's */
    json_t *c = apply(b,
                      containers_cfg("{\"name\":\"a\",\"image\":\"ia2\"},{\"name\":\"b\","
                                     "\"args\":[\"-v\"]}"),
                      "alice", false, T2);
    assert_string_equal(json_string_value(at(c, "spec.template.spec.containers.0.image")), "ia2");
    assert_string_equal(json_string_value(at(c, "spec.template.spec.containers.1.image")), "ib");
    assert_string_equal(json_string_value(at(c, "spec.template.spec.containers.1.args.0")), "-v");
    /* bob may not change alice's image */
    char err[512];
    json_t *conf = apply_conflict(
        c, containers_cfg("{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":\"ib\"}"),
        "bob", err, sizeof err);
    assert_string_equal(err, "Apply failed with 1 conflict: conflict with \"alice\": "
                             ".spec.template.spec.containers[name=\"a\"].image");
    json_decref(conf);
    /* alice lets go of her container; bob's stays, with her args gone and
     * the element bob still owns kept */
    json_t *d = apply(c, "{" WEB_HEAD "}}", "alice", false, T3);
    cs = at(d, "spec.template.spec.containers");
    assert_int_equal(json_array_size(cs), 1);
    assert_string_equal(json_string_value(at(cs, "0.name")), "b");
    assert_null(at(cs, "0.args"));
    assert_null(entry(d, "alice", "Apply"));
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

static void test_set_lists(void **state)
{
    (void)state;
    json_t *a = apply(NULL, "{" WEB_HEAD ",\"finalizers\":[\"a.io/x\"]}}", "alice", false, T0);
    json_t *b = apply(a, "{" WEB_HEAD ",\"finalizers\":[\"b.io/y\",\"a.io/x\"]}}", "bob", false,
                      T1);
    char *s = json_dumps(at(b, "metadata.finalizers"), JSON_COMPACT);
    assert_string_equal(s, "[\"b.io/y\",\"a.io/x\"]");
    free(s);
    assert_fields(a, "alice", "Apply", "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a.io/x\\\"\":{}}}}");
    assert_fields(b, "bob", "Apply",
                  "{\"f:metadata\":{\"f:finalizers\":{\"v:\\\"a.io/x\\\"\":{},"
                  "\"v:\\\"b.io/y\\\"\":{}}}}");
    /* bob drops both: a.io/x is still alice's */
    json_t *c = apply(b, "{" WEB_HEAD "}}", "bob", false, T2);
    s = json_dumps(at(c, "metadata.finalizers"), JSON_COMPACT);
    assert_string_equal(s, "[\"a.io/x\"]");
    free(s);
    /* a set's order follows the configuration for items both have */
    json_t *d = apply(c, "{" WEB_HEAD ",\"finalizers\":[\"z\",\"a.io/x\",\"m\"]}}", "alice", false,
                      T3);
    s = json_dumps(at(d, "metadata.finalizers"), JSON_COMPACT);
    assert_string_equal(s, "[\"z\",\"a.io/x\",\"m\"]");
    free(s);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(d);
}

/* smd's list order: live items keep their places, shared ones follow the
 * configuration, new ones go where the configuration puts them. */
static void test_merge_order(void **state)
{
    (void)state;
    json_t *a = apply(NULL,
                      containers_cfg("{\"name\":\"a\"},{\"name\":\"b\"},{\"name\":\"c\"}"),
                      "alice", false, T0);
    json_t *b = apply(a, containers_cfg("{\"name\":\"x\"},{\"name\":\"c\"},{\"name\":\"a\"}"), "bob",
                      false, T1);
    json_t *cs = at(b, "spec.template.spec.containers");
    /* a is shared but comes later in the configuration: it waits for c;
     * b, live only, keeps its place ahead of them; x goes before c */
    const char *want[] = {"b", "x", "c", "a"};
    assert_int_equal(json_array_size(cs), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(cs, i), "name")),
                            want[i]);
    json_decref(a);
    json_decref(b);
}

static const char web_created[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"default\",\"uid\":\"u1\",\"resourceVersion\":\"7\",\"generation\":1,"
    "\"creationTimestamp\":\"" T0 "\",\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"replicas\":1,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":\"25%\","
    "\"maxUnavailable\":\"25%\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\",\"ports\":"
    "[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"resources\":{\"limits\":{\"cpu\":\"1\"}},"
    "\"livenessProbe\":{\"httpGet\":{\"path\":\"/\",\"port\":80}},\"securityContext\":{}}],"
    "\"restartPolicy\":\"Always\"}}},\"status\":{}}";

/* kubectl create: the creator owns every field it set and the defaults,
 * but not identity fields or status. As Kubernetes, "." marks maps, the
 * optional lists, the list elements that came into being and everything
 * that came with them (a new container's probe and resources); unlike
 * it, pointer structs of the object itself (spec.strategy.rollingUpdate)
 * get no "." (the schema does not say which structs are pointers). */
static void test_update_on_create(void **state)
{
    (void)state;
    json_t *obj = J(web_created);
    kube_managed_fields_update(deployment(), NULL, obj, "kubectl-create", "", T0);
    assert_int_equal(n_entries(obj), 1);
    assert_fields(
        obj, "kubectl-create", "Update",
        "{\"f:metadata\":{\"f:labels\":{\".\":{},\"f:app\":{}}},\"f:spec\":{\"f:replicas\":{},"
        "\"f:selector\":{},\"f:strategy\":{\"f:rollingUpdate\":{\"f:maxSurge\":{},"
        "\"f:maxUnavailable\":{}},\"f:type\":{}},\"f:template\":{\"f:metadata\":{\"f:labels\":"
        "{\".\":{},\"f:app\":{}}},\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":"
        "{\".\":{},\"f:image\":{},\"f:livenessProbe\":{\".\":{},\"f:httpGet\":{\".\":{},"
        "\"f:path\":{},\"f:port\":{}}},\"f:name\":{},\"f:ports\":{\".\":{},\"k:{\\\"containerPort\\\":"
        "80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{},\"f:protocol\":{}}},"
        "\"f:resources\":{\".\":{},\"f:limits\":{\".\":{},\"f:cpu\":{}}},\"f:securityContext\":{}}},"
        "\"f:restartPolicy\":{}}}}}");
    char *e = json_dumps(at(obj, "metadata.managedFields.0"), JSON_COMPACT);
    assert_non_null(strstr(e, "{\"manager\":\"kubectl-create\",\"operation\":\"Update\","
                              "\"apiVersion\":\"apps/v1\",\"time\":\"" T0 "\","
                              "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":"));
    free(e);
    json_decref(obj);
}

static void test_update_moves_ownership(void **state)
{
    (void)state;
    json_t *old = J(web_created);
    kube_managed_fields_update(deployment(), NULL, old, "kubectl-create", "", T0);
    json_t *next = json_deep_copy(old);
    json_object_set_new(at(next, "spec.template.spec.containers.0"), "image", json_string("n2"));
    json_object_del(at(next, "spec.template.spec.containers.0"), "ports");
    json_object_set_new(at(next, "metadata"), "resourceVersion", json_string("8"));
    kube_managed_fields_update(deployment(), old, next, "kubectl-edit", "", T1);
    assert_int_equal(n_entries(next), 2);
    assert_fields(next, "kubectl-edit", "Update",
                  "{\"f:spec\":{\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":"
                  "\\\"nginx\\\"}\":{\"f:image\":{}}}}}}}");
    char *f = fields(next, "kubectl-create", "Update");
    assert_null(strstr(f, "f:image"));
    assert_null(strstr(f, "f:ports"));
    assert_non_null(strstr(f, "f:name"));
    free(f);
    /* entries sorted by time: kubectl-create (T0) first */
    assert_string_equal(json_string_value(at(next, "metadata.managedFields.0.manager")),
                        "kubectl-create");
    /* a write that changes nothing records nothing */
    json_t *same = json_deep_copy(next);
    kube_managed_fields_update(deployment(), next, same, "noop", "", T2);
    assert_true(json_equal(same, next));
    /* the same manager again: one entry, fields merged, time moved */
    json_t *again = json_deep_copy(next);
    json_object_set_new(at(again, "spec"), "replicas", json_integer(3));
    kube_managed_fields_update(deployment(), next, again, "kubectl-edit", "", T2);
    assert_int_equal(n_entries(again), 2);
    assert_fields(again, "kubectl-edit", "Update",
                  "{\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":"
                  "{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\"f:image\":{}}}}}}}");
    assert_string_equal(
        json_string_value(json_object_get(entry(again, "kubectl-edit", "Update"), "time")), T2);
    json_decref(old);
    json_decref(next);
    json_decref(same);
    json_decref(again);
}

static void test_update_untracked_and_reset(void **state)
{
    (void)state;
    /* an existing object without managedFields stays untracked */
    json_t *old = J(web_created);
    json_t *next = json_deep_copy(old);
    json_object_set_new(at(next, "spec"), "replicas", json_integer(4));
    kube_managed_fields_update(deployment(), old, next, "m", "", T1);
    assert_null(at(next, "metadata.managedFields"));
    /* managedFields: [] in the request resets them */
    kube_managed_fields_update(deployment(), NULL, old, "creator", "", T0);
    json_t *reset = json_deep_copy(old);
    json_object_set_new(at(reset, "metadata"), "managedFields", json_array());
    kube_managed_fields_update(deployment(), old, reset, "m", "", T1);
    assert_null(at(reset, "metadata.managedFields"));
    json_decref(old);
    json_decref(next);
    json_decref(reset);
}

/* An update whose object leaves managedFields out keeps the stored ones
 * and adds the writer's (Kubernetes' decodeLiveOrNew): the controllers'
 * pod cache keeps pods without them and relies on this. */
static void test_update_without_managed_fields_keeps_them(void **state)
{
    (void)state;
    json_t *old = J(web_created);
    kube_managed_fields_update(deployment(), NULL, old, "creator", "", T0);
    json_t *next = json_deep_copy(old);
    json_object_del(at(next, "metadata"), "managedFields");
    json_object_set_new(at(next, "spec"), "replicas", json_integer(4));
    kube_managed_fields_update(deployment(), old, next, "controller", "", T1);
    assert_int_equal(n_entries(next), 2);
    assert_non_null(entry(next, "creator", "Update"));
    assert_fields(next, "controller", "Update", "{\"f:spec\":{\"f:replicas\":{}}}");
    json_decref(old);
    json_decref(next);
}

static void test_status_subresource(void **state)
{
    (void)state;
    json_t *live = apply(NULL, web, "kubectl", false, T0);
    char err[256];
    json_t *conflicts = NULL;
    json_t *cfg = J("{" WEB_HEAD "},\"spec\":{\"replicas\":9},\"status\":{\"replicas\":1}}");
    json_t *s = kube_apply(deployment(), live, cfg, "ctrl", "status", false, T1, &conflicts, err,
                           sizeof err);
    assert_non_null(s);
    assert_int_equal(json_integer_value(at(s, "spec.replicas")), 2);
    assert_int_equal(json_integer_value(at(s, "status.replicas")), 1);
    json_t *e = entry(s, "ctrl", "Apply");
    assert_string_equal(json_string_value(json_object_get(e, "subresource")), "status");
    assert_fields(s, "ctrl", "Apply", "{\"f:status\":{\"f:replicas\":{}}}");
    /* the main resource neither takes nor owns status */
    json_t *m = apply(s, "{" WEB_HEAD "},\"status\":{\"replicas\":7}}", "other", false, T2);
    assert_int_equal(json_integer_value(at(m, "status.replicas")), 1);
    assert_null(entry(m, "other", "Apply"));
    /* an Update on /status records status only */
    json_t *u = json_deep_copy(m);
    json_object_set_new(at(u, "status"), "readyReplicas", json_integer(1));
    kube_managed_fields_update(deployment(), m, u, "kube-controller-manager", "status", T3);
    assert_fields(u, "kube-controller-manager", "Update", "{\"f:status\":{\"f:readyReplicas\":{}}}");
    assert_string_equal(
        json_string_value(
            json_object_get(entry(u, "kube-controller-manager", "Update"), "subresource")),
        "status");
    json_decref(cfg);
    json_decref(live);
    json_decref(s);
    json_decref(m);
    json_decref(u);
}

static void test_before_first_apply(void **state)
{
    (void)state;
    json_t *live = J(web_created);
    char err[512];
    json_t *c = apply_conflict(live, "{" WEB_HEAD "},\"spec\":{\"replicas\":3}}", "kubectl", err,
                               sizeof err);
    assert_string_equal(err, "Apply failed with 1 conflict: conflict with \"before-first-apply\" "
                             "using apps/v1: .spec.replicas");
    json_decref(c);
    json_decref(live);
}

static void test_bad_configurations(void **state)
{
    (void)state;
    struct {
        const char *config, *want;
    } cases[] = {
        {"{" WEB_HEAD "},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\"},"
         "{\"name\":\"a\"}]}}}}",
         ".spec.template.spec.containers: duplicate entries for key [name=\"a\"]"},
        {"{" WEB_HEAD "},\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}}}",
         ".spec.template.spec.containers: element 0: associative list with keys has an element "
         "that omits key field \"name\" (and doesn't have default value)"},
        {"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}",
         "invalid object type: v1, Kind=Pod"},
        {"{" WEB_HEAD ",\"managedFields\":[]}}", "metadata.managedFields must be nil"},
        {"{\"kind\":\"Deployment\"}", "invalid object type: apiVersion and kind must be set"},
        {"[]", "the applied configuration must be a JSON object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char err[512];
        json_t *conflicts = NULL, *cfg = J(cases[i].config);
        json_t *out = kube_apply(deployment(), NULL, cfg, "m", "", false, T0, &conflicts, err,
                                 sizeof err);
        assert_null(out);
        assert_null(conflicts);
        assert_string_equal(err, cases[i].want);
        json_decref(cfg);
    }
    /* unreadable managedFields on the live object */
    json_t *live = J("{" WEB_HEAD ",\"managedFields\":[{\"manager\":\"x\",\"operation\":\"Patch\","
                     "\"apiVersion\":\"apps/v1\",\"fieldsType\":\"FieldsV1\"}]}}");
    json_t *cfg = J(web), *conflicts = NULL;
    char err[256];
    assert_null(kube_apply(deployment(), live, cfg, "m", "", false, T0, &conflicts, err,
                           sizeof err));
    assert_string_equal(err, "operation must be `Apply` or `Update`");
    json_decref(live);
    json_decref(cfg);
}

/* FieldsV1 from elsewhere is read in any order and written back sorted
 * as smd sorts: numbers as numbers, fields before keys before values. */
static void test_fieldsv1_order(void **state)
{
    (void)state;
    json_t *old = J(web_created);
    json_object_set_new(
        at(old, "metadata"), "managedFields",
        J("[{\"manager\":\"m\",\"operation\":\"Update\",\"apiVersion\":\"apps/v1\","
          "\"time\":\"" T0 "\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:spec\":{"
          "\"f:template\":{\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{"
          "\"f:ports\":{\"k:{\\\"protocol\\\":\\\"TCP\\\",\\\"containerPort\\\":443}\":{},"
          "\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
          "\"f:protocol\":{},\"f:containerPort\":{}},\".\":{}},\"f:name\":{},\".\":{}}}}},"
          "\"f:replicas\":{}}}}]"));
    json_t *next = json_deep_copy(old);
    json_object_set_new(at(next, "metadata"), "labels", J("{\"app\":\"web\",\"x\":\"y\"}"));
    kube_managed_fields_update(deployment(), old, next, "labeler", "", T1);
    assert_fields(next, "m", "Update",
                  "{\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":"
                  "{\"k:{\\\"name\\\":\\\"nginx\\\"}\":{\".\":{},\"f:name\":{},\"f:ports\":{\".\":{},"
                  "\"k:{\\\"containerPort\\\":80,\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},"
                  "\"f:containerPort\":{},\"f:protocol\":{}},\"k:{\\\"containerPort\\\":443,"
                  "\\\"protocol\\\":\\\"TCP\\\"}\":{}}}}}}}}");
    assert_fields(next, "labeler", "Update", "{\"f:metadata\":{\"f:labels\":{\"f:x\":{}}}}");
    json_decref(old);
    json_decref(next);
}

/* ownerReferences elements are atomic (OwnerReference is
 * +structType=atomic): the element is the leaf. */
static void test_owner_references(void **state)
{
    (void)state;
    const struct kube_type *rs = kube_schema_kind("apps", "v1", "ReplicaSet");
    json_t *obj = J("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":"
                    "\"r\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                    "\"name\":\"web\",\"uid\":\"u1\",\"controller\":true}],"
                    "\"annotations\":{\"a\":\"b\"}}}");
    kube_managed_fields_update(rs, NULL, obj, "kube-controller-manager", "", T0);
    assert_fields(obj, "kube-controller-manager", "Update",
                  "{\"f:metadata\":{\"f:annotations\":{\".\":{},\"f:a\":{}},\"f:ownerReferences\":"
                  "{\".\":{},\"k:{\\\"uid\\\":\\\"u1\\\"}\":{}}}}");
    json_decref(obj);
}

static void test_cap_update_managers(void **state)
{
    (void)state;
    json_t *cur = J(web_created);
    kube_managed_fields_update(deployment(), NULL, cur, "creator", "", "2025-01-01T00:00:00Z");
    for (int i = 0; i < 11; i++) {
        json_t *next = json_deep_copy(cur);
        char key[16], name[16], now[32];
        snprintf(key, sizeof key, "k%02d", i);
        snprintf(name, sizeof name, "m%02d", i);
        snprintf(now, sizeof now, "2025-01-01T01:%02d:00Z", i);
        json_object_set_new(at(next, "metadata.labels"), key, json_string("v"));
        kube_managed_fields_update(deployment(), cur, next, name, "", now);
        json_decref(cur);
        cur = next;
    }
    /* 12 updaters: oldest first, the version's first (creator) becomes
     * ancient-changes and takes m00 and m01, leaving 10 */
    assert_int_equal(n_entries(cur), 10);
    assert_null(entry(cur, "creator", "Update"));
    assert_null(entry(cur, "m00", "Update"));
    assert_null(entry(cur, "m01", "Update"));
    assert_non_null(entry(cur, "m02", "Update"));
    char *f = fields(cur, "ancient-changes", "Update");
    assert_non_null(strstr(f, "\"f:k00\":{}"));
    assert_non_null(strstr(f, "f:replicas"));
    free(f);
    json_decref(cur);
}

/* Performance: 1000-element lists stay linear (a quadratic walk would
 * take seconds under the sanitizers). */
static void test_large_lists(void **state)
{
    (void)state;
    enum { N = 1000 };
    json_t *cfg = J("{" WEB_HEAD ",\"finalizers\":[]},\"spec\":{\"template\":{\"spec\":"
                    "{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"env\":[]}]}}}}");
    json_t *env = at(cfg, "spec.template.spec.containers.0.env"), *fin = at(cfg, "metadata.finalizers");
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "V%04d", N - i);
        json_t *e = json_object();
        json_object_set_new(e, "name", json_string(name));
        json_object_set_new(e, "value", json_integer(i));
        json_array_append_new(env, e);
        snprintf(name, sizeof name, "f.io/%d", i);
        json_array_append_new(fin, json_string(name));
    }
    clock_t t0 = clock();
    char err[256];
    json_t *conflicts = NULL;
    json_t *a = kube_apply(deployment(), NULL, cfg, "alice", "", false, T0, &conflicts, err,
                           sizeof err);
    assert_non_null(a);
    json_object_set_new(json_array_get(env, N / 2), "value", json_string("changed"));
    json_array_remove(env, 0);
    json_t *b = kube_apply(deployment(), a, cfg, "alice", "", false, T1, &conflicts, err, sizeof err);
    assert_non_null(b);
    assert_int_equal(json_array_size(at(b, "spec.template.spec.containers.0.env")), N - 1);
    json_t *c = json_deep_copy(b);
    json_object_set_new(json_array_get(at(c, "spec.template.spec.containers.0.env"), 7), "value",
                        json_string("edited"));
    kube_managed_fields_update(deployment(), b, c, "editor", "", T2);
    assert_non_null(entry(c, "editor", "Update"));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (secs > 3.0)
        fail_msg("1000-element apply took %.2fs", secs);
    json_decref(cfg);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_create),
        cmocka_unit_test(test_apply_configmap_docs_example),
        cmocka_unit_test(test_reapply_same_is_noop),
        cmocka_unit_test(test_apply_removes_what_it_stops_applying),
        cmocka_unit_test(test_removed_field_kept_when_another_owns_it),
        cmocka_unit_test(test_conflict_between_appliers_and_force),
        cmocka_unit_test(test_conflict_with_update_managers),
        cmocka_unit_test(test_multiple_conflicts_message),
        cmocka_unit_test(test_client_side_apply_upgrade),
        cmocka_unit_test(test_shared_ownership),
        cmocka_unit_test(test_force_takes_from_updater),
        cmocka_unit_test(test_empty_and_null_values),
        cmocka_unit_test(test_client_side_apply_upgrade_partial),
        cmocka_unit_test(test_service_and_pod),
        cmocka_unit_test(test_containers_merged_by_name),
        cmocka_unit_test(test_set_lists),
        cmocka_unit_test(test_merge_order),
        cmocka_unit_test(test_update_on_create),
        cmocka_unit_test(test_update_moves_ownership),
        cmocka_unit_test(test_update_untracked_and_reset),
        cmocka_unit_test(test_update_without_managed_fields_keeps_them),
        cmocka_unit_test(test_status_subresource),
        cmocka_unit_test(test_before_first_apply),
        cmocka_unit_test(test_bad_configurations),
        cmocka_unit_test(test_fieldsv1_order),
        cmocka_unit_test(test_owner_references),
        cmocka_unit_test(test_cap_update_managers),
        cmocka_unit_test(test_large_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
