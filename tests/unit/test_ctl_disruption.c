/* test_ctl_disruption.c — unit tests for the disruption controller's
 * decisions (controllers/disruption.c) on hand-built states: desiredHealthy
 * and expectedPods from an integer or percentage minAvailable or
 * maxUnavailable (getExpectedPodCount, with the controllers' scales:
 * Deployment above a ReplicaSet, a lone ReplicaSet, a StatefulSet, each
 * counted once), the errors (no controller, a kind without scale, an
 * unknown kind) and unmanaged pods, disruptedPods expiry after 2 minutes,
 * currentHealthy, disruptionsAllowed and the DisruptionAllowed condition,
 * written only when something changed, and the fail-safe status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "tests/unit/test_json.h"
#include "util/util.h"

#define NOW "2026-01-01T01:00:00Z"

static int64_t now_ms(void)
{
    return util_time_parse(NOW);
}

/* A pod in namespace ns, Ready or not, controlled by kind/name/uid (kind
 * NULL: no controller). */
static json_t *pod(const char *name, bool ready, const char *kind, const char *owner,
                   const char *uid)
{
    json_t *p = J("{\"metadata\":{\"namespace\":\"ns\",\"labels\":{\"app\":\"web\"}},"
                      "\"status\":{\"phase\":\"Running\",\"conditions\":[]}}");
    json_t *md = json_object_get(p, "metadata");
    json_object_set_new(md, "name", json_string(name));
    json_array_append_new(json_object_get(json_object_get(p, "status"), "conditions"),
                          json_pack("{s:s, s:s}", "type", "Ready", "status",
                                    ready ? "True" : "False"));
    if (kind)
        json_object_set_new(md, "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion",
                                      strcmp(kind, "Job") == 0 ? "batch/v1" : "apps/v1", "kind",
                                      kind, "name", owner, "uid", uid, "controller", 1));
    return p;
}

/* A workload with replicas, optionally controlled by a Deployment. */
static json_t *workload(const char *name, const char *uid, int replicas, const char *deploy,
                        const char *deploy_uid)
{
    json_t *w = json_pack("{s:{s:s, s:s, s:s}, s:{s:i}}", "metadata", "namespace", "ns", "name",
                          name, "uid", uid, "spec", "replicas", replicas);
    if (deploy)
        json_object_set_new(json_object_get(w, "metadata"), "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "apps/v1",
                                      "kind", "Deployment", "name", deploy, "uid", deploy_uid,
                                      "controller", 1));
    return w;
}

/* The lookup: objects keyed "resource/name". */
static json_t *from_map(void *arg, const char *resource, const char *ns, const char *name)
{
    char key[300];
    snprintf(key, sizeof key, "%s/%s", resource, name);
    assert_string_equal(ns, "ns");
    return json_incref(json_object_get(arg, key));
}

static json_t *budget(const char *spec_json)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"b\",\"generation\":2},\"spec\":%s,"
             "\"status\":{\"disruptionsAllowed\":0,\"currentHealthy\":0,\"desiredHealthy\":0,"
             "\"expectedPods\":0}}",
             spec_json);
    return J(buf);
}

/* Runs ctl_pdb_expected; returns its verdict. */
static bool expected(json_t *pdb, json_t *pods, json_t *objs, struct ctl_pdb_counts *n,
                     size_t *unmanaged, char *err)
{
    struct ctl_pdb_lookup lk = {from_map, objs};
    return ctl_pdb_expected(pdb, pods, &lk, n, unmanaged, err, 256);
}

static void test_min_available_int(void **state)
{
    (void)state;
    json_t *objs = json_object(), *pods = json_array();
    json_array_append_new(pods, pod("a", true, NULL, NULL, NULL));
    json_array_append_new(pods, pod("b", true, NULL, NULL, NULL));
    json_array_append_new(pods, pod("c", false, NULL, NULL, NULL));
    json_t *pdb = budget("{\"minAvailable\":2}");
    struct ctl_pdb_counts n;
    size_t unmanaged;
    char err[256] = "";
    assert_true(expected(pdb, pods, objs, &n, &unmanaged, err));
    /* An integer minAvailable counts the pods; no controller is needed. */
    assert_int_equal(n.expected, 3);
    assert_int_equal(n.desired, 2);
    assert_int_equal(unmanaged, 0);
    json_t *dis = json_object();
    n.healthy = ctl_pdb_healthy(pods, dis, now_ms());
    assert_int_equal(n.healthy, 2);
    json_t *next = ctl_pdb_status(pdb, &n, dis, NOW);
    assert_non_null(next);
    json_t *st = json_object_get(next, "status");
    assert_int_equal(json_integer_value(json_object_get(st, "disruptionsAllowed")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 2);
    json_t *cd = json_array_get(json_object_get(st, "conditions"), 0);
    assert_string_equal(json_string_value(json_object_get(cd, "type")), "DisruptionAllowed");
    assert_string_equal(json_string_value(json_object_get(cd, "status")), "False");
    assert_string_equal(json_string_value(json_object_get(cd, "reason")), "InsufficientPods");
    /* One more Ready pod: one disruption allowed. */
    n.healthy = 3;
    json_t *next2 = ctl_pdb_status(next, &n, dis, "2026-01-01T01:00:05Z");
    assert_non_null(next2);
    st = json_object_get(next2, "status");
    assert_int_equal(json_integer_value(json_object_get(st, "disruptionsAllowed")), 1);
    cd = json_array_get(json_object_get(st, "conditions"), 0);
    assert_string_equal(json_string_value(json_object_get(cd, "reason")), "SufficientPods");
    assert_string_equal(json_string_value(json_object_get(cd, "lastTransitionTime")),
                        "2026-01-01T01:00:05Z");
    json_decref(next2);
    json_decref(next);
    json_decref(dis);
    json_decref(pdb);
    json_decref(pods);
    json_decref(objs);
}

/* Pods of a Deployment (through its ReplicaSet) and of a StatefulSet. */
static void scaled_state(json_t **objs, json_t **pods)
{
    *objs = json_object();
    json_object_set_new(*objs, "replicasets/web-1", workload("web-1", "rs1", 3, "web", "d1"));
    json_object_set_new(*objs, "replicasets/web-2", workload("web-2", "rs2", 1, "web", "d1"));
    json_object_set_new(*objs, "deployments/web", workload("web", "d1", 5, NULL, NULL));
    json_object_set_new(*objs, "statefulsets/db", workload("db", "s1", 2, NULL, NULL));
    *pods = json_array();
    json_array_append_new(*pods, pod("w1", true, "ReplicaSet", "web-1", "rs1"));
    json_array_append_new(*pods, pod("w2", true, "ReplicaSet", "web-1", "rs1"));
    json_array_append_new(*pods, pod("w3", true, "ReplicaSet", "web-2", "rs2"));
    json_array_append_new(*pods, pod("d0", true, "StatefulSet", "db", "s1"));
}

static void test_percent_and_max_unavailable(void **state)
{
    (void)state;
    json_t *objs, *pods;
    scaled_state(&objs, &pods);
    struct ctl_pdb_counts n;
    size_t unmanaged;
    char err[256] = "";
    /* The Deployment's 5 (counted once for both ReplicaSets) + the set's 2. */
    json_t *pdb = budget("{\"minAvailable\":\"50%\"}");
    assert_true(expected(pdb, pods, objs, &n, &unmanaged, err));
    assert_int_equal(n.expected, 7);
    assert_int_equal(n.desired, 4); /* 3.5 rounded up */
    json_decref(pdb);
    pdb = budget("{\"maxUnavailable\":\"30%\"}");
    assert_true(expected(pdb, pods, objs, &n, &unmanaged, err));
    assert_int_equal(n.expected, 7);
    assert_int_equal(n.desired, 4); /* 7 - ceil(2.1) */
    json_decref(pdb);
    pdb = budget("{\"maxUnavailable\":10}");
    assert_true(expected(pdb, pods, objs, &n, &unmanaged, err));
    assert_int_equal(n.desired, 0); /* never below 0 */
    json_decref(pdb);
    /* A ReplicaSet whose Deployment is gone counts its own replicas. */
    json_object_del(objs, "deployments/web");
    pdb = budget("{\"maxUnavailable\":1}");
    assert_true(expected(pdb, pods, objs, &n, &unmanaged, err));
    assert_int_equal(n.expected, 3 + 1 + 2);
    assert_int_equal(n.desired, 5);
    /* An unmanaged pod is skipped, not an error. */
    json_array_append_new(pods, pod("stray", true, NULL, NULL, NULL));
    assert_true(expected(pdb, pods, objs, &n, &unmanaged, err));
    assert_int_equal(unmanaged, 1);
    assert_int_equal(n.expected, 6);
    json_decref(pdb);
    json_decref(pods);
    json_decref(objs);
}

static void test_expected_errors(void **state)
{
    (void)state;
    json_t *objs = json_object(), *pods = json_array();
    json_object_set_new(objs, "daemonsets/ds", workload("ds", "x1", 1, NULL, NULL));
    json_array_append_new(pods, pod("p", true, "DaemonSet", "ds", "x1"));
    json_t *pdb = budget("{\"maxUnavailable\":1}");
    struct ctl_pdb_counts n;
    size_t unmanaged;
    char err[256] = "";
    assert_false(expected(pdb, pods, objs, &n, &unmanaged, err));
    assert_string_equal(err, "daemonsets.apps does not implement the scale subresource");
    json_array_clear(pods);
    json_array_append_new(pods, pod("q", true, "ReplicaSet", "gone", "rs9"));
    assert_false(expected(pdb, pods, objs, &n, &unmanaged, err));
    assert_string_equal(err, "found no controllers for pod \"q\"");
    json_array_clear(pods);
    json_array_append_new(pods, pod("r", true, "Widget", "w", "w1"));
    assert_false(expected(pdb, pods, objs, &n, &unmanaged, err));
    assert_string_equal(err, "no matches for kind \"Widget\" in version \"apps/v1\"");
    /* The fail-safe status: nothing allowed, the reason said. */
    json_t *fs = ctl_pdb_fail_safe(pdb, err, NOW);
    json_t *st = json_object_get(fs, "status");
    assert_int_equal(json_integer_value(json_object_get(st, "disruptionsAllowed")), 0);
    json_t *cd = json_array_get(json_object_get(st, "conditions"), 0);
    assert_string_equal(json_string_value(json_object_get(cd, "reason")), "SyncFailed");
    assert_string_equal(json_string_value(json_object_get(cd, "message")), err);
    assert_string_equal(json_string_value(json_object_get(cd, "status")), "False");
    json_decref(fs);
    json_decref(pdb);
    json_decref(pods);
    json_decref(objs);
}

static void test_disrupted_pods_expire(void **state)
{
    (void)state;
    json_t *pods = json_array();
    json_array_append_new(pods, pod("fresh", true, NULL, NULL, NULL));
    json_array_append_new(pods, pod("stale", true, NULL, NULL, NULL));
    json_array_append_new(pods, pod("going", true, NULL, NULL, NULL));
    json_array_append_new(pods, pod("other", true, NULL, NULL, NULL));
    json_object_set_new(json_object_get(json_array_get(pods, 2), "metadata"),
                        "deletionTimestamp", json_string(NOW));
    json_t *pdb = budget("{\"minAvailable\":1}");
    json_object_set_new(json_object_get(pdb, "status"), "disruptedPods",
                        J("{\"fresh\":\"2026-01-01T00:59:30Z\","   /* 30 s ago */
                              "\"stale\":\"2026-01-01T00:57:59Z\","    /* past 2 min */
                              "\"going\":\"2026-01-01T00:59:50Z\","    /* being deleted */
                              "\"vanished\":\"2026-01-01T00:59:55Z\"}")); /* no such pod */
    int64_t recheck;
    json_t *dis = ctl_pdb_disrupted(pdb, pods, now_ms(), &recheck);
    assert_int_equal(json_object_size(dis), 1);
    assert_non_null(json_object_get(dis, "fresh"));
    assert_int_equal(recheck, util_time_parse("2026-01-01T01:01:30Z"));
    /* fresh is about to go, going is going: stale and other are healthy. */
    assert_int_equal(ctl_pdb_healthy(pods, dis, now_ms()), 2);
    /* After the timeout, fresh is forgotten too. */
    json_t *later = ctl_pdb_disrupted(pdb, pods, now_ms() + CTL_PDB_DELETION_TIMEOUT_MS, &recheck);
    assert_int_equal(json_object_size(later), 0);
    assert_int_equal(recheck, -1);
    json_decref(later);
    json_decref(dis);
    json_decref(pdb);
    json_decref(pods);
}

static void test_status_written_only_on_change(void **state)
{
    (void)state;
    json_t *pdb = budget("{\"minAvailable\":1}");
    struct ctl_pdb_counts n = {.expected = 2, .desired = 1, .healthy = 2};
    json_t *dis = J("{\"a\":\"2026-01-01T00:59:30Z\"}");
    json_t *next = ctl_pdb_status(pdb, &n, dis, NOW);
    assert_non_null(next);
    assert_true(json_equal(json_object_get(json_object_get(next, "status"), "disruptedPods"), dis));
    assert_true(kube_pdb_conditions_current(next));
    assert_null(ctl_pdb_status(next, &n, dis, "2026-01-01T02:00:00Z"));
    /* A new generation must be observed even with the same counts. */
    json_object_set_new(json_object_get(next, "metadata"), "generation", json_integer(3));
    json_t *again = ctl_pdb_status(next, &n, dis, NOW);
    assert_non_null(again);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(again, "status"),
                                                        "observedGeneration")), 3);
    /* No pod expected: nothing allowed, whatever is healthy. */
    struct ctl_pdb_counts none = {.expected = 0, .desired = 0, .healthy = 3};
    json_t *empty = json_object();
    json_t *z = ctl_pdb_status(again, &none, empty, NOW);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(z, "status"),
                                                        "disruptionsAllowed")), 0);
    assert_null(json_object_get(json_object_get(z, "status"), "disruptedPods"));
    json_decref(z);
    json_decref(empty);
    json_decref(again);
    json_decref(next);
    json_decref(dis);
    json_decref(pdb);
}

static void test_selection(void **state)
{
    (void)state;
    json_t *p = pod("a", true, NULL, NULL, NULL);
    json_t *pdb = budget("{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}");
    assert_true(kube_pdb_selects(pdb, p));
    json_decref(pdb);
    pdb = budget("{\"selector\":{}}"); /* policy/v1: everything */
    assert_true(kube_pdb_selects(pdb, p));
    json_decref(pdb);
    pdb = budget("{}"); /* no selector: nothing */
    assert_false(kube_pdb_selects(pdb, p));
    json_decref(pdb);
    pdb = budget("{\"selector\":{\"matchLabels\":{\"app\":\"db\"}}}");
    assert_false(kube_pdb_selects(pdb, p));
    json_decref(pdb);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_available_int),
        cmocka_unit_test(test_percent_and_max_unavailable),
        cmocka_unit_test(test_expected_errors),
        cmocka_unit_test(test_disrupted_pods_expire),
        cmocka_unit_test(test_status_written_only_on_change),
        cmocka_unit_test(test_selection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
