/* test_ctl_workloads.c — unit tests for the ReplicaSet and Deployment
 * controllers' decisions (controllers/replicaset.c, deployment.c, through
 * ctl_internal.h): claiming, slow-start batches, which pods go first on a
 * scale-down, ReplicaSet status, the rolling update's arithmetic
 * (maxSurge / maxUnavailable, reconcileNewReplicaSet,
 * reconcileOldReplicaSets), proportional scaling, revisions and their
 * history, the deployment's status and conditions, and the cleanup of old
 * ReplicaSets. Objects are hand-built JSON; the figures are worked through
 * in the comments, following Kubernetes' own tests where they exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define NOW "2026-01-01T12:00:00Z"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

static json_t *parsef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *parsef(const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return parse(buf);
}

static int64_t now_ms(void)
{
    return util_time_parse(NOW);
}

/* A pod named name (uid u-name): node "" = unassigned; phase; ready since
 * ready_at ("" = not ready); created at created; restarts; extra metadata
 * members spliced in (",\"annotations\":{...}"). */
static json_t *pod(const char *name, const char *node, const char *phase, const char *ready_at,
                   const char *created, int restarts, const char *md_extra)
{
    char ready[256] = "";
    if (*ready_at)
        snprintf(ready, sizeof ready,
                 ",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
                 "\"lastTransitionTime\":\"%s\"}]",
                 ready_at);
    return parsef("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"u-%s\","
                  "\"creationTimestamp\":\"%s\",\"labels\":{\"app\":\"a\"}%s},"
                  "\"spec\":{\"nodeName\":\"%s\"},"
                  "\"status\":{\"phase\":\"%s\",\"containerStatuses\":[{\"restartCount\":%d}]%s}}",
                  name, name, created, md_extra ? md_extra : "", node, phase, restarts, ready);
}

static const char *name_at(json_t *arr, size_t i)
{
    return ctl_str(json_object_get(json_array_get(arr, i), "metadata"), "name");
}

/* ---- ReplicaSet ---- */

static void test_slow_start(void **state)
{
    size_t sizes[64];
    size_t n = ctl_rs_slow_start(10, 1, sizes, 64);
    assert_int_equal(n, 4);
    assert_int_equal(sizes[0], 1);
    assert_int_equal(sizes[1], 2);
    assert_int_equal(sizes[2], 4);
    assert_int_equal(sizes[3], 3);
    assert_int_equal(ctl_rs_slow_start(0, 1, sizes, 64), 0);
    assert_int_equal(ctl_rs_slow_start(1, 1, sizes, 64), 1);
    /* 500 = 1+2+...+128 (255) + 245 */
    n = ctl_rs_slow_start(500, 1, sizes, 64);
    assert_int_equal(n, 9);
    assert_int_equal(sizes[7], 128);
    assert_int_equal(sizes[8], 245);
}

/* ClaimObject's decision with the ReplicaSet's match: its selector. */
static enum ctl_claim rs_claim(json_t *rs, const struct kube_selector *sel, json_t *pod)
{
    json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
    return ctl_claim_decide(rs, kube_selector_match(sel, labels), pod);
}

static void test_claim(void **state)
{
    json_t *rs = parse("{\"metadata\":{\"name\":\"r\",\"namespace\":\"ns\",\"uid\":\"rs-1\"}}");
    json_t *sel_json = parse("{\"matchLabels\":{\"app\":\"a\"}}");
    char err[64];
    struct kube_selector *sel = kube_selector_from_json(sel_json, err, sizeof err);
    json_t *orphan = pod("o", "n1", "Running", "", NOW, 0, NULL);
    json_t *other = pod("x", "n1", "Running", "", NOW, 0, NULL);
    json_t *ref_other = parse("[{\"uid\":\"rs-2\",\"controller\":true,\"kind\":\"ReplicaSet\"}]");
    json_object_set(json_object_get(other, "metadata"), "ownerReferences", ref_other);
    json_t *mine = pod("m", "n1", "Running", "", NOW, 0, NULL);
    json_t *ref_mine = parse("[{\"uid\":\"rs-1\",\"controller\":true,\"kind\":\"ReplicaSet\"}]");
    json_object_set(json_object_get(mine, "metadata"), "ownerReferences", ref_mine);
    json_t *strayed = pod("s", "n1", "Running", "", NOW, 0, NULL);
    json_object_set(json_object_get(strayed, "metadata"), "ownerReferences", ref_mine);
    json_object_set_new(json_object_get(strayed, "metadata"), "labels",
                        parse("{\"app\":\"b\"}"));
    json_t *going = pod("g", "n1", "Running", "", NOW, 0,
                        ",\"deletionTimestamp\":\"" NOW "\"");
    json_t *elsewhere = pod("e", "n1", "Running", "", NOW, 0, NULL);
    json_object_set_new(json_object_get(elsewhere, "metadata"), "namespace", json_string("ns2"));

    assert_int_equal(rs_claim(rs, sel, orphan), CTL_CLAIM_ADOPT);
    assert_int_equal(rs_claim(rs, sel, other), CTL_CLAIM_IGNORE);
    assert_int_equal(rs_claim(rs, sel, mine), CTL_CLAIM_KEEP);
    assert_int_equal(rs_claim(rs, sel, strayed), CTL_CLAIM_RELEASE);
    assert_int_equal(rs_claim(rs, sel, going), CTL_CLAIM_IGNORE);
    assert_int_equal(rs_claim(rs, sel, elsewhere), CTL_CLAIM_IGNORE);
    /* An owner being deleted keeps what it has, adopts and releases nothing. */
    json_object_set_new(json_object_get(rs, "metadata"), "deletionTimestamp", json_string(NOW));
    assert_int_equal(rs_claim(rs, sel, orphan), CTL_CLAIM_IGNORE);
    assert_int_equal(rs_claim(rs, sel, strayed), CTL_CLAIM_IGNORE);
    assert_int_equal(rs_claim(rs, sel, mine), CTL_CLAIM_KEEP);

    kube_selector_free(sel);
    json_decref(sel_json);
    json_decref(ref_other);
    json_decref(ref_mine);
    json_t *all[] = {rs, orphan, other, mine, strayed, going, elsewhere};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        json_decref(all[i]);
}

/* Kubernetes' order, one rule at a time: each pair differs in one rule
 * only, the first pod being the one to delete first. */
static void test_deletion_order(void **state)
{
    const char *old = "2026-01-01T10:00:00Z", *recent = "2026-01-01T11:59:50Z";
    json_t *pods = json_array();
    json_array_append_new(pods, pod("running-ready-old", "n1", "Running", old, old, 0, NULL));
    json_array_append_new(pods, pod("unassigned", "", "Pending", "", old, 0, NULL));
    json_array_append_new(pods, pod("running-not-ready", "n2", "Running", "", old, 0, NULL));
    json_array_append_new(pods, pod("pending", "n3", "Pending", "", old, 0, NULL));
    json_array_append_new(pods, pod("unknown", "n4", "Unknown", "", old, 0, NULL));
    json_array_append_new(pods, pod("running-ready-recent", "n5", "Running", recent, old, 0, NULL));
    ctl_rs_sort_for_deletion(pods, NULL, now_ms());
    assert_string_equal(name_at(pods, 0), "unassigned");
    assert_string_equal(name_at(pods, 1), "pending");
    assert_string_equal(name_at(pods, 2), "unknown");
    assert_string_equal(name_at(pods, 3), "running-not-ready");
    assert_string_equal(name_at(pods, 4), "running-ready-recent");
    assert_string_equal(name_at(pods, 5), "running-ready-old");
    json_decref(pods);

    /* Same state: more restarts first, then the newer; the deletion cost
     * comes before both. */
    pods = json_array();
    json_array_append_new(pods, pod("old", "n1", "Running", old, old, 0, NULL));
    json_array_append_new(pods, pod("new", "n2", "Running", old, recent, 0, NULL));
    json_array_append_new(pods, pod("restarts", "n3", "Running", old, old, 5, NULL));
    json_array_append_new(pods, pod("cheap", "n4", "Running", old, old, 0,
                                    ",\"annotations\":{\"controller.kubernetes.io/"
                                    "pod-deletion-cost\":\"-10\"}"));
    ctl_rs_sort_for_deletion(pods, NULL, now_ms());
    assert_string_equal(name_at(pods, 0), "cheap");
    assert_string_equal(name_at(pods, 1), "restarts");
    assert_string_equal(name_at(pods, 2), "new");
    assert_string_equal(name_at(pods, 3), "old");
    json_decref(pods);

    /* Doubled up on a node goes first: n1 holds two related pods. */
    pods = json_array();
    json_array_append_new(pods, pod("alone", "n2", "Running", old, old, 0, NULL));
    json_array_append_new(pods, pod("crowded", "n1", "Running", old, old, 0, NULL));
    json_t *related = json_deep_copy(pods);
    json_array_append_new(related, pod("sibling", "n1", "Running", old, old, 0, NULL));
    ctl_rs_sort_for_deletion(pods, related, now_ms());
    assert_string_equal(name_at(pods, 0), "crowded");
    json_decref(related);
    json_decref(pods);

    /* Ages in the same log2 bucket compare by uid, not by the exact time:
     * created 100 s and 101 s ago share a bucket; "a" < "b". */
    pods = json_array();
    json_array_append_new(pods, pod("b", "n1", "Running", old, "2026-01-01T11:58:20Z", 0, NULL));
    json_array_append_new(pods, pod("a", "n2", "Running", old, "2026-01-01T11:58:19Z", 0, NULL));
    ctl_rs_sort_for_deletion(pods, NULL, now_ms());
    assert_string_equal(name_at(pods, 0), "a");
    json_decref(pods);
}

static json_t *rs_obj(const char *name, const char *created, int replicas, int gen,
                      const char *extra_spec)
{
    return parsef("{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"uid-%s\","
                  "\"generation\":%d,\"creationTimestamp\":\"%s\"},"
                  "\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":{\"app\":\"a\"}},"
                  "\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\",\"tier\":\"web\"}},"
                  "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}%s}}",
                  name, name, gen, created, replicas, extra_spec ? extra_spec : "");
}

static void test_rs_status(void **state)
{
    json_t *rs = rs_obj("r", NOW, 3, 4, ",\"minReadySeconds\":30");
    json_t *pods = json_array();
    /* ready for an hour: available; ready 10 s ago: not yet (30 s) */
    json_array_append_new(pods, pod("p1", "n1", "Running", "2026-01-01T11:00:00Z", NOW, 0, NULL));
    json_array_append_new(pods, pod("p2", "n1", "Running", "2026-01-01T11:59:50Z", NOW, 0, NULL));
    json_array_append_new(pods, pod("p3", "n1", "Pending", "", NOW, 0, NULL));
    json_object_set_new(json_object_get(json_array_get(pods, 0), "metadata"), "labels",
                        parse("{\"app\":\"a\",\"tier\":\"web\"}"));
    json_t *st = ctl_rs_status(rs, pods, NULL, now_ms());
    assert_int_equal(json_integer_value(json_object_get(st, "replicas")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "fullyLabeledReplicas")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "readyReplicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "availableReplicas")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 4);
    assert_null(json_object_get(st, "conditions"));
    /* p2 becomes available 20 s from now */
    assert_int_equal(ctl_rs_next_available_ms(rs, pods, now_ms()), 20000);

    /* A create error: ReplicaFailure FailedCreate (fewer pods than wanted);
     * cleared by the next clean sync. */
    json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(5));
    json_t *failed = ctl_rs_status(rs, pods, "quota exceeded", now_ms());
    json_object_set(rs, "status", failed);
    json_t *cd = ctl_condition_get(rs, "ReplicaFailure");
    assert_non_null(cd);
    assert_string_equal(ctl_str(cd, "reason"), "FailedCreate");
    assert_string_equal(ctl_str(cd, "message"), "quota exceeded");
    json_t *clean = ctl_rs_status(rs, pods, NULL, now_ms());
    assert_null(json_object_get(clean, "conditions"));
    /* Zero counts are left out, as Kubernetes serializes them. */
    json_t *empty = json_array();
    json_t *none = ctl_rs_status(rs, empty, NULL, now_ms());
    json_decref(empty);
    assert_int_equal(json_integer_value(json_object_get(none, "replicas")), 0);
    assert_null(json_object_get(none, "readyReplicas"));
    json_decref(none);
    json_decref(clean);
    json_decref(failed);
    json_decref(st);
    json_decref(pods);
    json_decref(rs);
}

/* ---- Deployment ---- */

/* A deployment: replicas, maxSurge and maxUnavailable as JSON texts. */
static json_t *deploy(int replicas, const char *surge, const char *unavail)
{
    return parsef("{\"metadata\":{\"name\":\"d\",\"namespace\":\"ns\",\"uid\":\"d-uid\","
                  "\"generation\":2,\"annotations\":{\"team\":\"x\","
                  "\"deployment.kubernetes.io/revision\":\"7\"}},"
                  "\"spec\":{\"replicas\":%d,\"progressDeadlineSeconds\":600,"
                  "\"revisionHistoryLimit\":1,"
                  "\"selector\":{\"matchLabels\":{\"app\":\"a\"}},"
                  "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
                  "{\"maxSurge\":%s,\"maxUnavailable\":%s}},"
                  "\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\",\"tier\":\"web\"}},"
                  "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}},"
                  "\"status\":{}}",
                  replicas, surge, unavail);
}

/* A ReplicaSet of the deployment with its status counts. */
static json_t *drs(const char *name, const char *created, int replicas, int avail,
                   const char *image, const char *annos)
{
    return parsef(
        "{\"metadata\":{\"name\":\"%s\",\"uid\":\"u-%s\",\"generation\":1,"
        "\"creationTimestamp\":\"%s\",\"annotations\":{%s}},"
        "\"spec\":{\"replicas\":%d,\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\","
        "\"tier\":\"web\",\"pod-template-hash\":\"h-%s\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]}}},"
        "\"status\":{\"replicas\":%d,\"readyReplicas\":%d,\"availableReplicas\":%d,"
        "\"observedGeneration\":1}}",
        name, name, created, annos ? annos : "", replicas, name, image, replicas, avail, avail);
}

static int32_t reps(json_t *rs)
{
    return ctl_deploy_replicas(rs);
}

static void test_scaled_values(void **state)
{
    int32_t v;
    json_t *p = json_string("25%"), *i = json_integer(4), *bad = json_string("25");
    assert_true(ctl_deploy_scaled(p, 10, true, &v));
    assert_int_equal(v, 3);
    assert_true(ctl_deploy_scaled(p, 10, false, &v));
    assert_int_equal(v, 2);
    assert_true(ctl_deploy_scaled(i, 10, false, &v));
    assert_int_equal(v, 4);
    assert_false(ctl_deploy_scaled(bad, 10, true, &v));
    json_decref(p);
    json_decref(i);
    json_decref(bad);

    json_t *d = deploy(10, "\"25%\"", "\"25%\"");
    assert_int_equal(ctl_deploy_max_surge(d), 3);
    assert_int_equal(ctl_deploy_max_unavailable(d), 2);
    json_decref(d);
    /* Both resolving to 0 (10% of 5 rounds down to 0 unavailable, 0 surge):
     * one may be unavailable. */
    d = deploy(5, "0", "\"10%\"");
    assert_int_equal(ctl_deploy_max_surge(d), 0);
    assert_int_equal(ctl_deploy_max_unavailable(d), 1);
    json_decref(d);
    /* Unavailable is capped at the replicas. */
    d = deploy(3, "1", "\"200%\"");
    assert_int_equal(ctl_deploy_max_unavailable(d), 3);
    json_decref(d);
    /* Recreate: neither. */
    d = deploy(3, "1", "1");
    json_object_set_new(json_object_get(json_object_get(d, "spec"), "strategy"), "type",
                        json_string("Recreate"));
    assert_int_equal(ctl_deploy_max_surge(d), 0);
    assert_int_equal(ctl_deploy_max_unavailable(d), 0);
    json_decref(d);
}

/* A rollout of 10 replicas with maxSurge 3 and maxUnavailable 2, step by
 * step as Kubernetes takes it. */
static void test_rolling_steps(void **state)
{
    json_t *d = deploy(10, "3", "2");
    json_object_set_new(json_object_get(json_object_get(d, "spec"), "template"), "spec",
                        parse("{\"containers\":[{\"name\":\"c\",\"image\":\"v2\"}]}"));
    json_t *old = drs("d-old", "2026-01-01T10:00:00Z", 10, 10, "v1", NULL);
    json_t *nrs = drs("d-new", "2026-01-01T11:00:00Z", 0, 0, "v2", NULL);
    json_t *all = json_pack("[O, O]", old, nrs), *olds = json_pack("[O]", old);

    /* Up to 10 + 3 pods in all: the new one may take 3. */
    assert_int_equal(ctl_deploy_new_rs_replicas(d, all, nrs), 3);
    assert_true(ctl_deploy_reconcile_new(d, all, nrs));
    assert_int_equal(reps(nrs), 3);
    assert_string_equal(ctl_str(json_object_get(json_object_get(nrs, "metadata"), "annotations"),
                                CTL_DEPLOY_DESIRED),
                        "10");
    assert_string_equal(ctl_str(json_object_get(json_object_get(nrs, "metadata"), "annotations"),
                                CTL_DEPLOY_MAX),
                        "13");
    /* At 13 it cannot grow. */
    assert_false(ctl_deploy_reconcile_new(d, all, nrs));

    /* Old down: 13 pods, at least 8 available, the new one's 3 are not
     * available: at most 13 - 8 - 3 = 2 may go, and 10 available - 8 = 2. */
    assert_true(ctl_deploy_reconcile_old(d, all, olds, nrs));
    assert_int_equal(reps(old), 8);

    /* The old one's status catches up (8, all available); the new one's 3
     * become available: the new one grows to 5 (8 + 5 = 13). */
    json_object_set_new(json_object_get(old, "status"), "availableReplicas", json_integer(8));
    json_object_set_new(json_object_get(nrs, "status"), "availableReplicas", json_integer(3));
    assert_true(ctl_deploy_reconcile_new(d, all, nrs));
    assert_int_equal(reps(nrs), 5);
    /* 13 pods, 8 needed, 2 new not available: 3 may go; available 11 - 8 = 3. */
    assert_true(ctl_deploy_reconcile_old(d, all, olds, nrs));
    assert_int_equal(reps(old), 5);

    /* Unhealthy old replicas go first, whatever availability says: old 5
     * (1 available) and new 8 (6 available): 13 - 8 - 2 = 3 may go, taken
     * from the old set's 4 unavailable ones (5 → 2); then nothing more
     * (1 + 6 available < 8). */
    json_object_set_new(json_object_get(old, "status"), "availableReplicas", json_integer(1));
    json_object_set_new(json_object_get(nrs, "status"), "availableReplicas", json_integer(6));
    json_object_set_new(json_object_get(nrs, "spec"), "replicas", json_integer(8));
    assert_true(ctl_deploy_reconcile_old(d, all, olds, nrs));
    assert_int_equal(reps(old), 2);

    /* A new set above the deployment's size goes down to it. */
    json_object_set_new(json_object_get(nrs, "spec"), "replicas", json_integer(12));
    assert_true(ctl_deploy_reconcile_new(d, all, nrs));
    assert_int_equal(reps(nrs), 10);
    json_decref(all);
    json_decref(olds);
    json_decref(old);
    json_decref(nrs);
    json_decref(d);
}

/* A ReplicaSet's status counts the pods its last sync deleted (it is made
 * from the pods it saw): an old set just scaled 6 -> 5 still says 6
 * available. Trusting that, 7 available - 5 needed would take 2 more and
 * leave 4 of 6 available with maxUnavailable 1; counting at most its spec,
 * 5 + 1 - 5 = 1 goes. (Seen once in CI as 4 ready pods of 6.) */
static void test_stale_old_status(void **state)
{
    json_t *d = deploy(6, "1", "1");
    json_object_set_new(json_object_get(json_object_get(d, "spec"), "template"), "spec",
                        parse("{\"containers\":[{\"name\":\"c\",\"image\":\"v2\"}]}"));
    json_t *old = drs("d-old", "2026-01-01T10:00:00Z", 5, 6, "v1", NULL);
    json_t *nrs = drs("d-new", "2026-01-01T11:00:00Z", 2, 1, "v2", NULL);
    json_t *all = json_pack("[O, O]", old, nrs), *olds = json_pack("[O]", old);
    assert_true(ctl_deploy_reconcile_old(d, all, olds, nrs));
    assert_int_equal(reps(old), 4);
    /* Once the old set's status says 4, nothing more goes (4 + 1 = 5). */
    json_object_set_new(json_object_get(old, "status"), "availableReplicas", json_integer(4));
    assert_false(ctl_deploy_reconcile_old(d, all, olds, nrs));
    assert_int_equal(reps(old), 4);
    json_decref(all);
    json_decref(olds);
    json_decref(old);
    json_decref(nrs);
    json_decref(d);
}

/* Kubernetes' documented example: 10 replicas, maxSurge 3, maxUnavailable
 * 2, mid-rollout with the old set at 8 and the new at 5 (both annotated
 * max-replicas 13), scaled to 15: 18 pods allowed, 5 to add, split 8/13
 * and 5/13 of 18: +3 to the old (8 → 11), +2 to the new (5 → 7). */
static void test_proportional_scaling(void **state)
{
    json_t *d = deploy(15, "3", "2");
    const char *ann = "\"deployment.kubernetes.io/desired-replicas\":\"10\","
                      "\"deployment.kubernetes.io/max-replicas\":\"13\"";
    json_t *old = drs("d-old", "2026-01-01T10:00:00Z", 8, 8, "v1", ann);
    json_t *nrs = drs("d-new", "2026-01-01T11:00:00Z", 5, 0, "i", ann);
    json_t *olds = json_pack("[O]", old), *all = json_pack("[O, O]", old, nrs);
    assert_true(ctl_deploy_is_scaling_event(d, all));
    ctl_deploy_scale(d, nrs, olds);
    assert_int_equal(reps(old), 11);
    assert_int_equal(reps(nrs), 7);
    json_t *a = json_object_get(json_object_get(old, "metadata"), "annotations");
    assert_string_equal(ctl_str(a, CTL_DEPLOY_DESIRED), "15");
    assert_string_equal(ctl_str(a, CTL_DEPLOY_MAX), "18");
    assert_false(ctl_deploy_is_scaling_event(d, all));

    /* Down to 5 (max 8): 18 → 8, 10 to remove, the larger (older on ties)
     * first: old 11*8/18 = 4.9 → 5 (-6), new 7*8/18 = 3.1 → 3 (-4). */
    json_object_set_new(json_object_get(d, "spec"), "replicas", json_integer(5));
    ctl_deploy_scale(d, nrs, olds);
    assert_int_equal(reps(old), 5);
    assert_int_equal(reps(nrs), 3);

    /* Only one active set: it simply takes the size. */
    json_object_set_new(json_object_get(old, "spec"), "replicas", json_integer(0));
    ctl_deploy_scale(d, nrs, olds);
    assert_int_equal(reps(nrs), 5);
    json_decref(all);
    json_decref(olds);
    json_decref(old);
    json_decref(nrs);
    json_decref(d);
}

static const char *anno(json_t *o, const char *k)
{
    return ctl_str(json_object_get(json_object_get(o, "metadata"), "annotations"), k);
}

static void test_revisions(void **state)
{
    json_t *d = deploy(3, "1", "1");
    json_t *r1 = drs("d-1", "2026-01-01T09:00:00Z", 0, 0, "i",
                     "\"deployment.kubernetes.io/revision\":\"1\"");
    json_t *r2 = drs("d-2", "2026-01-01T10:00:00Z", 3, 3, "v2",
                     "\"deployment.kubernetes.io/revision\":\"2\"");
    json_t *r1b = drs("d-1b", "2026-01-01T11:00:00Z", 0, 0, "i", NULL);
    json_t *rss = json_pack("[O, O, O]", r2, r1b, r1), *old = NULL;

    /* The new set is the oldest whose template equals the deployment's,
     * hash label aside. */
    assert_ptr_equal(ctl_deploy_find_new(d, rss, &old), r1);
    assert_int_equal(json_array_size(old), 2);
    assert_int_equal(ctl_deploy_max_revision(old), 2);

    /* Rolling back to revision 1: it becomes 3, remembering 1; d's own
     * annotations are copied but its revision is not. */
    assert_true(ctl_deploy_set_new_rs_annotations(d, r1, 3, true));
    assert_string_equal(anno(r1, CTL_DEPLOY_REVISION), "3");
    assert_string_equal(anno(r1, CTL_DEPLOY_REVISION_HISTORY), "1");
    assert_string_equal(anno(r1, "team"), "x");
    assert_string_equal(anno(r1, CTL_DEPLOY_DESIRED), ""); /* existing: not set here */
    assert_false(ctl_deploy_set_new_rs_annotations(d, r1, 3, true));
    assert_true(ctl_deploy_set_new_rs_annotations(d, r1, 5, true));
    assert_string_equal(anno(r1, CTL_DEPLOY_REVISION_HISTORY), "1,3");
    /* A lower revision never lowers it. */
    assert_false(ctl_deploy_set_new_rs_annotations(d, r1, 4, true));
    assert_string_equal(anno(r1, CTL_DEPLOY_REVISION), "5");

    /* A set about to be created gets its replica annotations too. */
    assert_true(ctl_deploy_set_new_rs_annotations(d, r1b, 6, false));
    assert_string_equal(anno(r1b, CTL_DEPLOY_REVISION), "6");
    assert_string_equal(anno(r1b, CTL_DEPLOY_REVISION_HISTORY), "");
    assert_string_equal(anno(r1b, CTL_DEPLOY_DESIRED), "3");
    assert_string_equal(anno(r1b, CTL_DEPLOY_MAX), "4");

    /* kubectl's rollback patch carries "creationTimestamp": null and empty
     * objects: still the same template. */
    json_t *ta = parse("{\"metadata\":{\"labels\":{\"a\":\"1\"}},\"spec\":{\"x\":1}}");
    json_t *tb = parse("{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"a\":\"1\","
                       "\"pod-template-hash\":\"h\"}},\"spec\":{\"x\":1,\"resources\":{}}}");
    json_t *tc = parse("{\"metadata\":{\"labels\":{\"a\":\"2\"}},\"spec\":{\"x\":1}}");
    assert_true(ctl_deploy_template_equal(ta, tb));
    assert_false(ctl_deploy_template_equal(ta, tc));
    json_decref(ta);
    json_decref(tb);
    json_decref(tc);

    /* The hash moves with collisionCount. */
    char h0[16], h1[16];
    json_t *tmpl = json_object_get(json_object_get(d, "spec"), "template"), *one = json_integer(1);
    ctl_template_hash(tmpl, NULL, h0, sizeof h0);
    ctl_template_hash(tmpl, one, h1, sizeof h1);
    assert_string_not_equal(h0, h1);
    json_decref(one);
    json_decref(old);
    json_decref(rss);
    json_decref(r1);
    json_decref(r1b);
    json_decref(r2);
    json_decref(d);
}

static json_t *cond(json_t *st, const char *type)
{
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(st, "conditions"), i, c) if (strcmp(ctl_str(c, "type"),
                                                                           type) == 0) return c;
    return NULL;
}

static void test_deployment_status(void **state)
{
    json_t *d = deploy(4, "1", "1");
    json_t *old = drs("d-old", "2026-01-01T10:00:00Z", 2, 2, "v1", NULL);
    json_t *nrs = drs("d-new", "2026-01-01T11:00:00Z", 3, 1, "i", NULL);
    json_t *all = json_pack("[O, O]", old, nrs);
    json_t *st = ctl_deploy_status(d, all, nrs, true, now_ms());
    assert_int_equal(json_integer_value(json_object_get(st, "replicas")), 5);
    assert_int_equal(json_integer_value(json_object_get(st, "updatedReplicas")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "availableReplicas")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "unavailableReplicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 2);
    /* 3 available >= 4 - 1 */
    assert_string_equal(ctl_str(cond(st, "Available"), "status"), "True");
    assert_string_equal(ctl_str(cond(st, "Available"), "reason"), "MinimumReplicasAvailable");
    assert_string_equal(ctl_str(cond(st, "Progressing"), "reason"), "ReplicaSetUpdated");
    assert_string_equal(ctl_str(cond(st, "Progressing"), "message"),
                        "ReplicaSet \"d-new\" is progressing.");
    json_object_set(d, "status", st);

    /* No progress for longer than the deadline: timed out. */
    json_object_set_new(cond(st, "Progressing"), "lastUpdateTime",
                        json_string("2026-01-01T11:49:00Z"));
    json_t *late = ctl_deploy_status(d, all, nrs, true, now_ms());
    assert_string_equal(ctl_str(cond(late, "Progressing"), "reason"), "ProgressDeadlineExceeded");
    assert_string_equal(ctl_str(cond(late, "Progressing"), "status"), "False");
    json_decref(late);

    /* Done: the old set at 0, the new at 4 all available. */
    json_object_set_new(json_object_get(old, "spec"), "replicas", json_integer(0));
    json_object_set_new(json_object_get(old, "status"), "replicas", json_integer(0));
    json_object_set_new(json_object_get(old, "status"), "availableReplicas", json_integer(0));
    json_object_set_new(json_object_get(nrs, "spec"), "replicas", json_integer(4));
    json_object_set_new(json_object_get(nrs, "status"), "replicas", json_integer(4));
    json_object_set_new(json_object_get(nrs, "status"), "availableReplicas", json_integer(4));
    json_t *done = ctl_deploy_status(d, all, nrs, true, now_ms());
    assert_true(ctl_deploy_complete(d, done));
    assert_string_equal(ctl_str(cond(done, "Progressing"), "reason"), "NewReplicaSetAvailable");
    assert_string_equal(ctl_str(cond(done, "Progressing"), "message"),
                        "ReplicaSet \"d-new\" has successfully progressed.");
    assert_null(json_object_get(done, "unavailableReplicas"));

    /* Below minimum availability. */
    json_object_set_new(json_object_get(nrs, "status"), "availableReplicas", json_integer(1));
    json_t *low = ctl_deploy_status(d, all, nrs, false, now_ms());
    assert_string_equal(ctl_str(cond(low, "Available"), "reason"), "MinimumReplicasUnavailable");
    json_decref(low);
    json_decref(done);
    json_decref(st);
    json_decref(all);
    json_decref(old);
    json_decref(nrs);
    json_decref(d);
}

static void test_cleanup(void **state)
{
    json_t *d = deploy(3, "1", "1"); /* revisionHistoryLimit 1 */
    json_t *a = drs("d-a", "2026-01-01T09:00:00Z", 0, 0, "a",
                    "\"deployment.kubernetes.io/revision\":\"1\"");
    json_t *b = drs("d-b", "2026-01-01T10:00:00Z", 0, 0, "b",
                    "\"deployment.kubernetes.io/revision\":\"3\"");
    json_t *c = drs("d-c", "2026-01-01T10:30:00Z", 0, 0, "c",
                    "\"deployment.kubernetes.io/revision\":\"2\"");
    json_t *busy = drs("d-busy", "2026-01-01T08:00:00Z", 1, 1, "x",
                       "\"deployment.kubernetes.io/revision\":\"0\"");
    json_t *old = json_pack("[O, O, O, O]", b, busy, a, c);
    /* 4 old, keep 1: the 3 lowest revisions are candidates (busy "0", 1,
     * 2), busy is skipped for its replica. */
    json_t *gone = ctl_deploy_cleanup(d, old);
    assert_int_equal(json_array_size(gone), 2);
    assert_string_equal(name_at(gone, 0), "d-a");
    assert_string_equal(name_at(gone, 1), "d-c");
    json_decref(gone);
    json_decref(old);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(busy);
    json_decref(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slow_start),
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_deletion_order),
        cmocka_unit_test(test_rs_status),
        cmocka_unit_test(test_scaled_values),
        cmocka_unit_test(test_rolling_steps),
        cmocka_unit_test(test_stale_old_status),
        cmocka_unit_test(test_proportional_scaling),
        cmocka_unit_test(test_revisions),
        cmocka_unit_test(test_deployment_status),
        cmocka_unit_test(test_cleanup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
