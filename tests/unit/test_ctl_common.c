/* test_ctl_common.c — unit tests for what the controllers share
 * (controllers/objects.c) and for the taint eviction deadline
 * (controllers/tainteviction.c): pod readiness and availability, owner
 * references, pods made from templates, template hashes (deterministic,
 * key-order independent, changed by the collision count, in Kubernetes'
 * safe alphabet), conditions (transition time only on a status change),
 * reading one field from an encoded object, a pod change's head (what
 * the pod_head controllers read), claiming (ClaimObject's
 * decision, the adopt and release patches, the match with a filter), and
 * when a pod must leave a NoExecute-tainted node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

static void test_pod_states(void **state)
{
    (void)state;
    json_t *ready = parse("{\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\","
                          "\"status\":\"True\",\"lastTransitionTime\":\"2026-01-01T00:00:00Z\"}]}}");
    json_t *done = parse("{\"status\":{\"phase\":\"Succeeded\"}}");
    json_t *dying = parse("{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}}");
    assert_true(ctl_pod_active(ready));
    assert_false(ctl_pod_active(done));
    assert_false(ctl_pod_active(dying));
    assert_true(ctl_pod_ready(ready));
    assert_false(ctl_pod_ready(done));
    int64_t t0 = util_time_parse("2026-01-01T00:00:00Z");
    assert_true(t0 > 0);
    assert_true(ctl_pod_available(ready, 0, t0));
    assert_false(ctl_pod_available(ready, 10, t0 + 9999));
    assert_true(ctl_pod_available(ready, 10, t0 + 10000));
    json_decref(ready);
    json_decref(done);
    json_decref(dying);
}

static void test_time_parse(void **state)
{
    (void)state;
    assert_int_equal(util_time_parse("1970-01-01T00:00:10Z"), 10000);
    assert_int_equal(util_time_parse("1970-01-01T00:00:10.123456Z"), 10000);
    assert_int_equal(util_time_parse("1970-01-01T00:00:10"), -1);
    assert_int_equal(util_time_parse("yesterday"), -1);
    assert_int_equal(util_time_parse(NULL), -1);
}

static void test_owner_and_template(void **state)
{
    (void)state;
    json_t *rs = parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\",\"uid\":\"u-1\"}}");
    json_t *tmpl = parse("{\"metadata\":{\"labels\":{\"app\":\"web\"},\"annotations\":{\"a\":\"b\"}},"
                         "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}");
    json_t *pod = ctl_pod_from_template(rs, "apps/v1", "ReplicaSet", tmpl);
    json_t *md = json_object_get(pod, "metadata");
    assert_string_equal(ctl_str(md, "namespace"), "ns");
    assert_string_equal(ctl_str(json_object_get(md, "labels"), "app"), "web");
    assert_string_equal(ctl_str(json_object_get(md, "annotations"), "a"), "b");
    json_t *ref = ctl_controller_ref(pod);
    assert_non_null(ref);
    assert_string_equal(ctl_str(ref, "uid"), "u-1");
    assert_string_equal(ctl_str(ref, "kind"), "ReplicaSet");
    assert_true(json_is_true(json_object_get(ref, "blockOwnerDeletion")));
    assert_string_equal(ctl_str(json_array_get(json_object_get(json_object_get(pod, "spec"),
                                                               "containers"), 0), "image"), "nginx");
    /* the pod is a copy: changing it leaves the template alone */
    json_object_set_new(json_object_get(md, "labels"), "x", json_string("y"));
    assert_null(json_object_get(json_object_get(json_object_get(tmpl, "metadata"), "labels"), "x"));
    json_decref(pod);
    json_decref(rs);
    json_decref(tmpl);
}

static void test_template_hash(void **state)
{
    (void)state;
    json_t *a = parse("{\"x\":1,\"y\":{\"b\":2,\"a\":3}}");
    json_t *b = parse("{\"y\":{\"a\":3,\"b\":2},\"x\":1}");
    json_t *c = parse("{\"x\":2,\"y\":{\"b\":2,\"a\":3}}");
    char ha[16], hb[16], hc[16], hn[16];
    ctl_template_hash(a, NULL, ha, sizeof ha);
    ctl_template_hash(b, NULL, hb, sizeof hb);
    ctl_template_hash(c, NULL, hc, sizeof hc);
    json_t *one = json_integer(1);
    ctl_template_hash(a, one, hn, sizeof hn);
    assert_string_equal(ha, hb);
    assert_string_not_equal(ha, hc);
    assert_string_not_equal(ha, hn);
    assert_true(strlen(ha) >= 1 && strlen(ha) <= 10);
    for (const char *p = ha; *p; p++)
        assert_non_null(strchr("bcdfghjklmnpqrstvwxz2456789", *p));
    json_decref(one);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_conditions(void **state)
{
    (void)state;
    json_t *st = json_object();
    assert_true(ctl_condition_set(st, "Available", "False", "MinimumReplicasUnavailable", "m", true));
    json_t *obj = json_pack("{s:O}", "status", st);
    json_t *cd = ctl_condition_get(obj, "Available");
    assert_non_null(cd);
    json_object_set_new(cd, "lastTransitionTime", json_string("old"));
    /* the same again: nothing changes */
    assert_false(ctl_condition_set(st, "Available", "False", "MinimumReplicasUnavailable", "m", true));
    /* a new message keeps the transition time; a new status moves it */
    assert_true(ctl_condition_set(st, "Available", "False", "MinimumReplicasUnavailable", "n", true));
    assert_string_equal(ctl_str(cd, "lastTransitionTime"), "old");
    assert_true(ctl_condition_set(st, "Available", "True", "MinimumReplicasAvailable", "n", true));
    assert_string_not_equal(ctl_str(cd, "lastTransitionTime"), "old");
    assert_int_equal(json_array_size(json_object_get(st, "conditions")), 1);
    json_decref(obj);
    json_decref(st);
}

static void test_obj_field(void **state)
{
    (void)state;
    json_t *pod = parse("{\"spec\":{\"nodeName\":\"n-1\"},\"status\":{\"nominatedNodeName\":\"x\","
                        "\"phase\":\"Running\",\"long\":\"" /* > 31 bytes: str8 header */
                        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}");
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(pod, &b), 0);
    struct store_obj o = {.obj = b.data, .obj_len = b.len};
    char out[64];
    assert_true(ctl_obj_field(&o, "nodeName", out, sizeof out));
    assert_string_equal(out, "n-1");
    assert_true(ctl_obj_field(&o, "phase", out, sizeof out));
    assert_string_equal(out, "Running");
    assert_true(ctl_obj_field(&o, "long", out, sizeof out));
    assert_int_equal(strlen(out), 40);
    assert_false(ctl_obj_field(&o, "long", out, 10)); /* does not fit */
    assert_false(ctl_obj_field(&o, "spec", out, sizeof out)); /* not a string */
    assert_false(ctl_obj_field(&o, "missing", out, sizeof out));
    ubuf_free(&b);
    json_decref(pod);
}

/* What the pod_head controllers read of a pod change is the same from
 * ctl_pod_head as from the whole pod, and the head holds nothing else. */
static void test_pod_head(void **state)
{
    (void)state;
    json_t *pod = parse(
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
        "\"namespace\":\"ns\",\"uid\":\"u1\",\"labels\":{\"app\":\"a\"},"
        "\"finalizers\":[\"batch.kubernetes.io/job-tracking\"],"
        "\"deletionTimestamp\":\"2026-01-01T00:00:00Z\",\"managedFields\":[{\"manager\":\"m\"}],"
        "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\","
        "\"uid\":\"u0\",\"controller\":true}]},\"spec\":{\"nodeName\":\"n-1\","
        "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]},"
        "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\"}}");
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(pod, &b), 0);
    struct store_obj o = {.obj = b.data, .obj_len = b.len, .mod_rev = 7};
    json_t *head = ctl_pod_head(&o), *whole = ctl_decode_pod(&o);
    assert_non_null(head);
    assert_true(json_equal(ctl_controller_ref(head), ctl_controller_ref(whole)));
    assert_int_equal(ctl_pod_active(head), ctl_pod_active(whole));
    json_t *hmd = json_object_get(head, "metadata"), *wmd = json_object_get(whole, "metadata");
    const char *same[] = {"name", "namespace", "uid", "labels", "finalizers", "deletionTimestamp"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        assert_true(json_equal(json_object_get(hmd, same[i]), json_object_get(wmd, same[i])));
    assert_string_equal(ctl_str(json_object_get(head, "spec"), "nodeName"), "n-1");
    assert_string_equal(ctl_str(json_object_get(head, "status"), "phase"), "Running");
    assert_null(json_object_get(hmd, "managedFields"));
    assert_null(json_object_get(json_object_get(head, "spec"), "containers"));
    assert_null(json_object_get(json_object_get(head, "status"), "podIP"));
    json_decref(head);
    json_decref(whole);
    ubuf_free(&b);
    json_decref(pod);
}

/* ClaimObject's decisions beyond the ReplicaSet's (test_ctl_workloads.c):
 * a finished orphan is adoptable (DaemonSets and Jobs claim every pod;
 * only the ReplicaSet filters active ones first), a reference with
 * controller false makes no controller, a cluster-scoped owner (no
 * namespace) adopts in any namespace. */
static void test_claim_decide(void **state)
{
    (void)state;
    json_t *ds = parse("{\"metadata\":{\"name\":\"d\",\"namespace\":\"ns\",\"uid\":\"ds-1\"}}");
    json_t *done = parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"p-1\"},"
                         "\"status\":{\"phase\":\"Succeeded\"}}");
    json_t *weak = parse("{\"metadata\":{\"name\":\"w\",\"namespace\":\"ns\",\"uid\":\"w-1\","
                         "\"ownerReferences\":[{\"uid\":\"x\",\"kind\":\"X\","
                         "\"controller\":false}]}}");
    json_t *far = parse("{\"metadata\":{\"name\":\"f\",\"namespace\":\"other\",\"uid\":\"f-1\"}}");
    json_t *global = parse("{\"metadata\":{\"name\":\"g\",\"uid\":\"g-1\"}}");
    assert_int_equal(ctl_claim_decide(ds, true, done), CTL_CLAIM_ADOPT);
    assert_int_equal(ctl_claim_decide(ds, false, done), CTL_CLAIM_IGNORE);
    assert_int_equal(ctl_claim_decide(ds, true, weak), CTL_CLAIM_ADOPT);
    assert_int_equal(ctl_claim_decide(ds, true, far), CTL_CLAIM_IGNORE);
    assert_int_equal(ctl_claim_decide(global, true, far), CTL_CLAIM_ADOPT);
    json_t *all[] = {ds, done, weak, far, global};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
}

/* AdoptPod's and ReleasePod's patches, as Kubernetes marshals them; a
 * Job's add and remove its tracking finalizer. */
static void test_claim_patches(void **state)
{
    (void)state;
    json_t *job = parse("{\"metadata\":{\"name\":\"j\",\"namespace\":\"ns\",\"uid\":\"job-1\"}}");
    json_t *pod = parse("{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"pod-1\"}}");
    json_t *adopt = ctl_claim_adopt_patch(job, "batch/v1", "Job", pod, NULL);
    json_t *want = parse("{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"batch/v1\","
                         "\"kind\":\"Job\",\"name\":\"j\",\"uid\":\"job-1\",\"controller\":true,"
                         "\"blockOwnerDeletion\":true}],\"uid\":\"pod-1\"}}");
    assert_true(json_equal(adopt, want));
    json_decref(adopt);
    adopt = ctl_claim_adopt_patch(job, "batch/v1", "Job", pod, CTL_JOB_FINALIZER);
    json_object_set_new(json_object_get(want, "metadata"), "finalizers",
                        json_pack("[s]", CTL_JOB_FINALIZER));
    assert_true(json_equal(adopt, want));
    json_t *release = ctl_claim_release_patch(job, pod, NULL);
    json_t *want_rel = parse("{\"metadata\":{\"ownerReferences\":[{\"$patch\":\"delete\","
                             "\"uid\":\"job-1\"}],\"uid\":\"pod-1\"}}");
    assert_true(json_equal(release, want_rel));
    json_decref(release);
    release = ctl_claim_release_patch(job, pod, CTL_JOB_FINALIZER);
    json_object_set_new(json_object_get(want_rel, "metadata"),
                        "$deleteFromPrimitiveList/finalizers", json_pack("[s]", CTL_JOB_FINALIZER));
    assert_true(json_equal(release, want_rel));
    json_t *all[] = {job, pod, adopt, want, release, want_rel};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
}

static bool maybe_orphan(const char *text)
{
    json_t *obj = parse(text);
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(obj, &b), 0);
    struct store_obj o = {.obj = b.data, .obj_len = b.len};
    bool yes = ctl_obj_maybe_orphan(&o);
    ubuf_free(&b);
    json_decref(obj);
    return yes;
}

/* The byte prefilter of ctl_list_claimable never skips an orphan: no
 * reference, a reference without controller or with controller false,
 * "controller" as a label value or in a longer key; it skips objects
 * whose every reference is a controller. */
static void test_claimable_prefilter(void **state)
{
    (void)state;
    assert_true(maybe_orphan("{\"metadata\":{\"name\":\"a\"}}"));
    assert_true(maybe_orphan("{\"metadata\":{\"ownerReferences\":[{\"uid\":\"x\"}]}}"));
    assert_true(maybe_orphan("{\"metadata\":{\"ownerReferences\":[{\"uid\":\"x\","
                             "\"controller\":false}]}}"));
    assert_true(maybe_orphan("{\"metadata\":{\"labels\":{\"role\":\"controller\","
                             "\"controller-revision-hash\":\"h\"}}}"));
    assert_true(maybe_orphan("{\"metadata\":{\"ownerReferences\":[{\"uid\":\"x\","
                             "\"controller\":true},{\"uid\":\"y\",\"controller\":false}]}}"));
    assert_false(maybe_orphan("{\"metadata\":{\"labels\":{\"controller-revision-hash\":\"h\"},"
                              "\"ownerReferences\":[{\"uid\":\"x\",\"controller\":true}]}}"));
}

static bool name_starts_k(json_t *owner, json_t *obj)
{
    (void)owner;
    return ctl_str(json_object_get(obj, "metadata"), "name")[0] == 'k';
}

/* The match is the selector and the filter; what a re-read keeps is what
 * the owner controls and still matches. */
static void test_claim_match_and_kept(void **state)
{
    (void)state;
    json_t *owner = parse("{\"metadata\":{\"name\":\"o\",\"namespace\":\"ns\",\"uid\":\"o-1\"}}");
    json_t *sel_json = parse("{\"matchLabels\":{\"app\":\"a\"}}");
    char err[64];
    struct kube_selector *sel = kube_selector_from_json(sel_json, err, sizeof err);
    assert_non_null(sel);
    struct ctl_claimer m = {.owner = owner, .owner_resource = "daemonsets",
                            .api_version = "apps/v1", .kind = "DaemonSet", .sel = sel,
                            .filter = name_starts_k};
    const char *ours = ",\"ownerReferences\":[{\"uid\":\"o-1\",\"controller\":true}]";
    const char *specs[][3] = {
        {"k1", "a", ours},  /* kept */
        {"x1", "a", ours},  /* ours, filtered out: released, not kept */
        {"k2", "b", ours},  /* ours, relabelled: released, not kept */
        {"k3", "a", ""},    /* an orphan that matches: adopted, not kept yet */
    };
    json_t *objs = json_array();
    for (size_t i = 0; i < 4; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"u%zu\","
                 "\"labels\":{\"app\":\"%s\"}%s}}",
                 specs[i][0], i, specs[i][1], specs[i][2]);
        json_array_append_new(objs, parse(text));
    }
    assert_true(ctl_claim_match(&m, json_array_get(objs, 0)));
    assert_false(ctl_claim_match(&m, json_array_get(objs, 1)));
    assert_false(ctl_claim_match(&m, json_array_get(objs, 2)));
    assert_true(ctl_claim_match(&m, json_array_get(objs, 3)));
    assert_int_equal(ctl_claim_decide(owner, ctl_claim_match(&m, json_array_get(objs, 1)),
                                      json_array_get(objs, 1)),
                     CTL_CLAIM_RELEASE);
    json_t *kept = ctl_claim_kept(&m, objs);
    assert_int_equal(json_array_size(kept), 1);
    assert_string_equal(ctl_str(json_object_get(json_array_get(kept, 0), "metadata"), "name"),
                        "k1");
    json_decref(kept);
    json_decref(objs);
    kube_selector_free(sel);
    json_decref(sel_json);
    json_decref(owner);
}

static void test_taint_eviction_time(void **state)
{
    (void)state;
    json_t *taints = parse("[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\","
                           "\"timeAdded\":\"1970-01-01T00:01:40Z\"},"
                           "{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]");
    json_t *none = parse("[]");
    json_t *dflt = parse("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                         "\"effect\":\"NoExecute\",\"tolerationSeconds\":300}]");
    json_t *two = parse("[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":\"Exists\","
                        "\"effect\":\"NoExecute\",\"tolerationSeconds\":300},"
                        "{\"operator\":\"Exists\",\"tolerationSeconds\":30}]");
    json_t *forever = parse("[{\"operator\":\"Exists\"}]");
    json_t *negative = parse("[{\"operator\":\"Exists\",\"tolerationSeconds\":-5}]");
    json_t *wrong = parse("[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]");
    assert_int_equal(ctl_taint_eviction_time(none, taints, 7000), 0);
    assert_int_equal(ctl_taint_eviction_time(wrong, taints, 7000), 0);
    assert_int_equal(ctl_taint_eviction_time(dflt, taints, 7000), 100000 + 300000);
    assert_int_equal(ctl_taint_eviction_time(two, taints, 7000), 100000 + 30000);
    assert_int_equal(ctl_taint_eviction_time(forever, taints, 7000), INT64_MAX);
    assert_int_equal(ctl_taint_eviction_time(negative, taints, 7000), 100000);
    /* NoSchedule taints alone never evict */
    json_t *ns_only = parse("[{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]");
    assert_int_equal(ctl_taint_eviction_time(none, ns_only, 7000), INT64_MAX);
    /* a taint without timeAdded counts from when it was first seen */
    json_t *untimed = parse("[{\"key\":\"k\",\"effect\":\"NoExecute\"}]");
    assert_int_equal(ctl_taint_eviction_time(dflt, untimed, 7000), 0);
    assert_int_equal(ctl_taint_eviction_time(forever, untimed, 7000), INT64_MAX);
    assert_int_equal(ctl_taint_eviction_time(two, untimed, 7000), 7000 + 30000);
    json_decref(untimed);
    json_t *all[] = {taints, none, dflt, two, forever, negative, wrong, ns_only};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod_states),       cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_owner_and_template), cmocka_unit_test(test_template_hash),
        cmocka_unit_test(test_conditions),       cmocka_unit_test(test_obj_field),
        cmocka_unit_test(test_taint_eviction_time), cmocka_unit_test(test_claim_decide),
        cmocka_unit_test(test_claim_patches),    cmocka_unit_test(test_claim_match_and_kept),
        cmocka_unit_test(test_claimable_prefilter), cmocka_unit_test(test_pod_head),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
