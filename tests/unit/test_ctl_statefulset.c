/* test_ctl_statefulset.c — unit tests for the StatefulSet controller's
 * decisions (controllers/statefulset.c): ordinals and claim names, which
 * pods it claims (isMemberOf and the selector), the pods and claims it
 * makes, the revision data kubectl reads back, which revision is reused
 * and which are pruned, the claims' owner references
 * under each retention policy, and the plan of one sync — which ordinal is
 * created or deleted next under OrderedReady and Parallel, scale-down in
 * reverse order, failed pods, partitions, maxUnavailable, OnDelete — and
 * the status it reports.
 *
 * Sets and pods are built as JSON text by small helpers: set(replicas,
 * spec_extra) and pod(name, phase, ready, revision, extra metadata). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"
#include "kube/kube.h"

#define NOW_MS 1700000000000LL /* 2023-11-14T22:13:20Z */

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

/* A StatefulSet "web" in "ns" with defaults as the server stores them;
 * spec_extra is spliced into spec (",\"podManagementPolicy\":\"Parallel\""). */
static json_t *set(int replicas, const char *spec_extra)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\","
             "\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\",\"uid\":\"set-uid\","
             "\"generation\":3},"
             "\"spec\":{\"replicas\":%d,\"serviceName\":\"nginx\","
             "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1\"}]}},"
             "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\","
             "\"labels\":{\"tier\":\"db\"}},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"]}}],"
             "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0}}"
             "%s}}",
             replicas, spec_extra ? spec_extra : "");
    return parse(buf);
}

/* A pod of "web"; phase "" leaves the status out; ready adds the Ready
 * condition (since 2023-11-14T22:00:00Z); md_extra goes into metadata. */
static json_t *pod(const char *name, const char *phase, bool ready, const char *rev,
                   const char *md_extra)
{
    char buf[2048], status[512] = "";
    if (*phase)
        snprintf(status, sizeof status,
                 ",\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\","
                 "\"status\":\"%s\",\"lastTransitionTime\":\"2023-11-14T22:00:00Z\"}]}",
                 phase, ready ? "True" : "False");
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"uid-%s\","
             "\"labels\":{\"app\":\"web\",\"controller-revision-hash\":\"%s\"}%s},"
             "\"spec\":{}%s}",
             name, name, rev, md_extra ? md_extra : "", status);
    return parse(buf);
}

static json_t *running(const char *name, const char *rev)
{
    return pod(name, "Running", true, rev, NULL);
}

static json_t *pods_of(json_t *first, ...)
{
    json_t *a = json_array();
    va_list ap;
    va_start(ap, first);
    for (json_t *p = first; p; p = va_arg(ap, json_t *))
        json_array_append_new(a, p);
    va_end(ap);
    return a;
}

/* The plan as text: "+2" create ordinal 2 (at the update revision), "+c1"
 * at the current one, "-3:update" delete web-3 and why; space separated. */
static void plan_text(json_t *s, json_t *pods, const char *cur, const char *upd, char *out,
                      size_t len, bool *wait_available)
{
    struct ctl_sts_view v = {s, pods, cur, upd, NOW_MS};
    struct ctl_sts_plan p;
    ctl_sts_plan(&v, &p);
    out[0] = '\0';
    for (size_t i = 0; i < p.n; i++) {
        char one[64];
        if (p.v[i].op == CTL_STS_CREATE)
            snprintf(one, sizeof one, "%s+%s%d", i ? " " : "", p.v[i].at_current ? "c" : "",
                     p.v[i].ordinal);
        else
            snprintf(one, sizeof one, "%s-%d:%s", i ? " " : "", p.v[i].ordinal, p.v[i].reason);
        strncat(out, one, len - strlen(out) - 1);
    }
    if (wait_available)
        *wait_available = p.wait_available;
    ctl_sts_plan_free(&p);
}

static void assert_plan(json_t *s, json_t *pods, const char *want)
{
    char got[512];
    plan_text(s, pods, "web-r1", "web-r1", got, sizeof got, NULL);
    assert_string_equal(got, want);
}

/* ---- names ---- */

static void test_ordinals_and_claim_names(void **state)
{
    assert_int_equal(ctl_sts_ordinal("web", "web-0"), 0);
    assert_int_equal(ctl_sts_ordinal("web", "web-12"), 12);
    assert_int_equal(ctl_sts_ordinal("web", "web-x"), -1);
    assert_int_equal(ctl_sts_ordinal("web", "web-"), -1);
    assert_int_equal(ctl_sts_ordinal("web", "web-01"), -1);
    assert_int_equal(ctl_sts_ordinal("web", "webs-1"), -1);
    assert_int_equal(ctl_sts_ordinal("web", "web-db-1"), -1);
    assert_int_equal(ctl_sts_ordinal("web-db", "web-db-1"), 1);
    assert_int_equal(ctl_sts_ordinal("web", "web-1-2"), -1);
    char buf[64];
    ctl_sts_claim_name("data", "web", 2, buf, sizeof buf);
    assert_string_equal(buf, "data-web-2");
}

/* ---- pods and claims ---- */

/* isMemberOf, Kubernetes' getParentName: the name before the last dash,
 * if only digits follow it (leading zeros and all). */
static void test_is_member(void **state)
{
    (void)state;
    assert_true(ctl_sts_is_member("web", "web-0"));
    assert_true(ctl_sts_is_member("web", "web-12"));
    assert_true(ctl_sts_is_member("web", "web-01"));
    assert_true(ctl_sts_is_member("web-db", "web-db-1"));
    assert_false(ctl_sts_is_member("web", "web-db-1"));
    assert_false(ctl_sts_is_member("web", "web-1-2"));
    assert_false(ctl_sts_is_member("web", "web-"));
    assert_false(ctl_sts_is_member("web", "web-x"));
    assert_false(ctl_sts_is_member("web", "webs-1"));
    assert_false(ctl_sts_is_member("web", "web"));
    assert_false(ctl_sts_is_member("web", "x-web-1"));
}

/* getPodsForStatefulSet's claim: the selector and isMemberOf. An orphan
 * web-3 that matches is adopted, an orphan of another name is not, even if
 * it matches; a pod of the set relabelled away is released. */
static void test_claim_members(void **state)
{
    (void)state;
    json_t *s = set(3, NULL);
    char err[64];
    struct kube_selector *sel = kube_selector_from_json(
        json_object_get(json_object_get(s, "spec"), "selector"), err, sizeof err);
    assert_non_null(sel);
    const char *ours = ",\"ownerReferences\":[{\"uid\":\"set-uid\",\"controller\":true,"
                       "\"kind\":\"StatefulSet\",\"name\":\"web\"}]";
    json_t *orphan = running("web-3", "r1"), *stranger = running("db-0", "r1");
    json_t *mine = pod("web-1", "Running", true, "r1", ours);
    json_t *strayed = pod("web-2", "Running", true, "r1", ours);
    json_object_set_new(json_object_get(json_object_get(strayed, "metadata"), "labels"), "app",
                        json_string("other"));
    json_t *cases[] = {orphan, stranger, mine, strayed};
    enum ctl_claim want[] = {CTL_CLAIM_ADOPT, CTL_CLAIM_IGNORE, CTL_CLAIM_KEEP,
                             CTL_CLAIM_RELEASE};
    for (size_t i = 0; i < 4; i++) {
        json_t *md = json_object_get(cases[i], "metadata");
        bool match = kube_selector_match(sel, json_object_get(md, "labels")) &&
                     ctl_sts_is_member("web", ctl_str(md, "name"));
        assert_int_equal(ctl_claim_decide(s, match, cases[i]), want[i]);
        json_decref(cases[i]);
    }
    kube_selector_free(sel);
    json_decref(s);
}

static void test_new_pod_identity_and_storage(void **state)
{
    json_t *s = set(3, NULL);
    json_object_set_new(json_object_get(json_object_get(json_object_get(s, "spec"), "template"),
                                        "spec"),
                        "volumes",
                        parse("[{\"name\":\"data\",\"emptyDir\":{}},"
                              "{\"name\":\"cfg\",\"configMap\":{\"name\":\"x\"}}]"));
    json_t *tmpl = json_object_get(json_object_get(s, "spec"), "template");
    json_t *p = ctl_sts_new_pod(s, tmpl, 2, "web-abc");
    json_t *md = json_object_get(p, "metadata");
    assert_string_equal(ctl_str(md, "name"), "web-2");
    assert_string_equal(ctl_str(md, "namespace"), "ns");
    json_t *labels = json_object_get(md, "labels");
    assert_string_equal(ctl_str(labels, "app"), "web");
    assert_string_equal(ctl_str(labels, CTL_STS_POD_NAME_LABEL), "web-2");
    assert_string_equal(ctl_str(labels, CTL_STS_POD_INDEX_LABEL), "2");
    assert_string_equal(ctl_str(labels, CTL_STS_REVISION_LABEL), "web-abc");
    json_t *ref = ctl_controller_ref(p);
    assert_non_null(ref);
    assert_string_equal(ctl_str(ref, "kind"), "StatefulSet");
    assert_string_equal(ctl_str(ref, "uid"), "set-uid");
    json_t *spec = json_object_get(p, "spec");
    assert_string_equal(ctl_str(spec, "hostname"), "web-2");
    assert_string_equal(ctl_str(spec, "subdomain"), "nginx");
    /* The claim's volume replaces the template's "data"; "cfg" stays. */
    json_t *vols = json_object_get(spec, "volumes");
    assert_int_equal(json_array_size(vols), 2);
    json_t *v0 = json_array_get(vols, 0), *v1 = json_array_get(vols, 1);
    assert_string_equal(ctl_str(v0, "name"), "data");
    assert_string_equal(ctl_str(json_object_get(v0, "persistentVolumeClaim"), "claimName"),
                        "data-web-2");
    assert_null(json_object_get(v0, "emptyDir"));
    assert_string_equal(ctl_str(v1, "name"), "cfg");
    json_decref(p);
    json_decref(s);
}

static void test_new_claims(void **state)
{
    json_t *s = set(3, NULL);
    json_t *claims = ctl_sts_new_claims(s, 1);
    assert_int_equal(json_array_size(claims), 1);
    json_t *c = json_array_get(claims, 0), *md = json_object_get(c, "metadata");
    assert_string_equal(ctl_str(c, "kind"), "PersistentVolumeClaim");
    assert_string_equal(ctl_str(md, "name"), "data-web-1");
    assert_string_equal(ctl_str(md, "namespace"), "ns");
    json_t *labels = json_object_get(md, "labels");
    assert_string_equal(ctl_str(labels, "tier"), "db"); /* the template's */
    assert_string_equal(ctl_str(labels, "app"), "web"); /* the selector's */
    assert_null(json_object_get(md, "ownerReferences")); /* Retain: kept */
    assert_string_equal(
        json_string_value(json_array_get(
            json_object_get(json_object_get(c, "spec"), "accessModes"), 0)),
        "ReadWriteOnce");
    json_decref(claims);
    json_decref(s);
}

/* ---- revisions ---- */

static void test_revision_data_round_trip(void **state)
{
    json_t *s = set(3, NULL);
    json_t *data = ctl_sts_revision_data(s);
    char *text = json_dumps(data, JSON_COMPACT);
    /* Keys sorted, "$patch" first, as Kubernetes' json.Marshal writes it. */
    assert_non_null(strstr(text, "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":"));
    free(text);
    json_t *rev = json_pack("{s:O}", "data", data);
    json_t *tmpl = ctl_sts_revision_template(rev);
    assert_true(json_equal(tmpl, json_object_get(json_object_get(s, "spec"), "template")));
    json_decref(tmpl);
    json_decref(rev);
    json_decref(data);
    json_decref(s);
}

static json_t *revision(const char *name, int number, json_t *s)
{
    json_t *data = ctl_sts_revision_data(s);
    json_t *r = json_pack("{s:{s:s}, s:o, s:i}", "metadata", "name", name, "data", data,
                          "revision", number);
    return r;
}

static void set_image(json_t *s, const char *image)
{
    json_t *c = json_array_get(
        json_object_get(
            json_object_get(json_object_get(json_object_get(s, "spec"), "template"), "spec"),
            "containers"),
        0);
    json_object_set_new(c, "image", json_string(image));
}

static void test_revision_selection(void **state)
{
    json_t *v1 = set(3, NULL), *v2 = set(3, NULL), *v3 = set(3, NULL);
    set_image(v2, "nginx:2");
    set_image(v3, "nginx:3");
    /* Out of order on purpose: sorted by revision number. */
    json_t *revs = pods_of(revision("web-b", 2, v2), revision("web-a", 1, v1), NULL);
    json_t *sorted = ctl_sts_revisions_sorted(revs);
    assert_string_equal(ctl_str(json_object_get(json_array_get(sorted, 0), "metadata"), "name"),
                        "web-a");
    json_t *d1 = ctl_sts_revision_data(v1), *d2 = ctl_sts_revision_data(v2),
           *d3 = ctl_sts_revision_data(v3);
    assert_int_equal(ctl_sts_equal_revision(sorted, d2), 1); /* unchanged: the newest */
    assert_int_equal(ctl_sts_equal_revision(sorted, d1), 0); /* a rollback: renumber it */
    assert_int_equal(ctl_sts_equal_revision(sorted, d3), -1); /* new */
    json_decref(d1);
    json_decref(d2);
    json_decref(d3);
    json_decref(sorted);
    json_decref(revs);
    json_decref(v1);
    json_decref(v2);
    json_decref(v3);
}

static void test_history_limit(void **state)
{
    json_t *s = set(2, ",\"revisionHistoryLimit\":1");
    json_t *revs = json_array();
    const char *names[] = {"web-1", "web-2", "web-3", "web-4", "web-5"};
    for (int i = 0; i < 5; i++)
        json_array_append_new(revs, json_pack("{s:{s:s}, s:i}", "metadata", "name", names[i],
                                              "revision", i + 1));
    /* web-2 is live through a pod, web-4 and web-5 are current and update. */
    json_t *pods = pods_of(running("web-0", "web-2"), running("web-1", "web-5"), NULL);
    json_t *del = ctl_sts_history_to_delete(s, revs, pods, "web-4", "web-5");
    /* Non-live: web-1, web-3; keep the newest one (web-3). */
    assert_int_equal(json_array_size(del), 1);
    assert_string_equal(json_string_value(json_array_get(del, 0)), "web-1");
    json_decref(del);
    json_object_set_new(json_object_get(s, "spec"), "revisionHistoryLimit", json_integer(0));
    del = ctl_sts_history_to_delete(s, revs, pods, "web-4", "web-5");
    assert_int_equal(json_array_size(del), 2);
    json_decref(del);
    json_decref(pods);
    json_decref(revs);
    json_decref(s);
}

/* ---- claims' owners ---- */

static json_t *claim_with_refs(const char *refs)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"metadata\":{\"name\":\"data-web-1\"%s%s}}",
             refs ? ",\"ownerReferences\":" : "", refs ? refs : "");
    return parse(buf);
}

static const char *ref_kinds(json_t *refs, char *buf, size_t len)
{
    json_t *r;
    size_t i;
    buf[0] = '\0';
    json_array_foreach(refs, i, r)
    {
        strncat(buf, ctl_str(r, "kind"), len - strlen(buf) - 1);
        if (json_is_true(json_object_get(r, "controller")))
            strncat(buf, "*", len - strlen(buf) - 1);
        strncat(buf, " ", len - strlen(buf) - 1);
    }
    return buf;
}

static void check_refs(const char *policy, bool in_range, const char *claim_refs,
                       const char *want)
{
    char extra[256], buf[256];
    snprintf(extra, sizeof extra, ",\"persistentVolumeClaimRetentionPolicy\":%s", policy);
    json_t *s = set(1, extra), *p = running("web-1", "r");
    json_t *c = claim_with_refs(claim_refs);
    json_t *refs = ctl_sts_claim_refs(s, p, in_range, c);
    assert_string_equal(ref_kinds(refs, buf, sizeof buf), want);
    json_decref(refs);
    json_decref(c);
    json_decref(p);
    json_decref(s);
}

static void test_claim_refs_by_policy(void **state)
{
    const char *rr = "{\"whenDeleted\":\"Retain\",\"whenScaled\":\"Retain\"}";
    const char *dr = "{\"whenDeleted\":\"Delete\",\"whenScaled\":\"Retain\"}";
    const char *rd = "{\"whenDeleted\":\"Retain\",\"whenScaled\":\"Delete\"}";
    const char *dd = "{\"whenDeleted\":\"Delete\",\"whenScaled\":\"Delete\"}";
    check_refs(rr, true, NULL, "");
    check_refs(rr, false, NULL, "");
    check_refs(dr, true, NULL, "StatefulSet* ");
    check_refs(dr, false, NULL, "StatefulSet* ");
    check_refs(rd, true, NULL, "");
    check_refs(rd, false, NULL, "Pod* ");
    check_refs(dd, true, NULL, "StatefulSet* ");
    check_refs(dd, false, NULL, "Pod* "); /* the set's reference goes */
    check_refs(dd, false, "[{\"kind\":\"StatefulSet\",\"name\":\"web\",\"uid\":\"set-uid\","
                          "\"controller\":true}]",
               "Pod* ");
    /* Scaled back up: the pod's reference goes. */
    check_refs(rd, true, "[{\"kind\":\"Pod\",\"name\":\"web-1\",\"uid\":\"uid-web-1\"}]", "");
    /* Back to Retain: ours are removed, others kept. */
    check_refs(rr, true, "[{\"kind\":\"StatefulSet\",\"name\":\"web\",\"uid\":\"set-uid\"},"
                         "{\"kind\":\"ConfigMap\",\"name\":\"x\",\"uid\":\"u\"}]",
               "ConfigMap ");
    /* Another controller: ours are not added. */
    check_refs(dd, true, "[{\"kind\":\"Thing\",\"name\":\"x\",\"uid\":\"u\",\"controller\":true}]",
               "Thing* ");
    /* A stale reference (an earlier pod web-1): left alone. */
    check_refs(dd, false, "[{\"kind\":\"Pod\",\"name\":\"web-1\",\"uid\":\"old\"}]", "Pod ");
}

static void test_claim_stale(void **state)
{
    json_t *keep = set(1, NULL);
    json_t *del = set(1, ",\"persistentVolumeClaimRetentionPolicy\":"
                         "{\"whenDeleted\":\"Retain\",\"whenScaled\":\"Delete\"}");
    json_t *c = claim_with_refs("[{\"kind\":\"Pod\",\"name\":\"web-1\",\"uid\":\"old\"}]");
    assert_false(ctl_sts_claim_stale(keep, c, "web-1", ""));
    assert_true(ctl_sts_claim_stale(del, c, "web-1", ""));
    assert_false(ctl_sts_claim_stale(del, c, "web-1", "old"));
    json_t *fresh = claim_with_refs(NULL);
    assert_false(ctl_sts_claim_stale(del, fresh, "web-1", ""));
    json_decref(fresh);
    json_decref(c);
    json_decref(del);
    json_decref(keep);
}

/* ---- the plan: creation ---- */

static void test_ordered_ready_creates_one_at_a_time(void **state)
{
    json_t *s = set(3, NULL);
    json_t *none = json_array();
    assert_plan(s, none, "+0");
    json_t *p0 = pods_of(pod("web-0", "Pending", false, "web-r1", NULL), NULL);
    assert_plan(s, p0, ""); /* web-0 not Running and Ready: wait */
    json_t *p0nr = pods_of(pod("web-0", "Running", false, "web-r1", NULL), NULL);
    assert_plan(s, p0nr, "");
    json_t *p0r = pods_of(running("web-0", "web-r1"), NULL);
    assert_plan(s, p0r, "+1");
    /* A hole: web-1 missing while web-2 exists: web-1 first. */
    json_t *hole = pods_of(running("web-0", "web-r1"), running("web-2", "web-r1"), NULL);
    assert_plan(s, hole, "+1");
    json_t *all = pods_of(running("web-0", "web-r1"), running("web-1", "web-r1"),
                          running("web-2", "web-r1"), NULL);
    assert_plan(s, all, "");
    json_decref(none);
    json_decref(p0);
    json_decref(p0nr);
    json_decref(p0r);
    json_decref(hole);
    json_decref(all);
    json_decref(s);
}

static void test_parallel_creates_all(void **state)
{
    json_t *s = set(4, ",\"podManagementPolicy\":\"Parallel\"");
    json_t *none = json_array();
    assert_plan(s, none, "+0 +1 +2 +3");
    json_t *some = pods_of(pod("web-1", "Pending", false, "web-r1", NULL), NULL);
    assert_plan(s, some, "+0 +2 +3");
    json_decref(none);
    json_decref(some);
    json_decref(s);
}

static void test_start_ordinal(void **state)
{
    json_t *s = set(2, ",\"ordinals\":{\"start\":5}");
    json_t *pods = pods_of(running("web-0", "web-r1"), NULL);
    /* web-0 is out of range: condemned, but the replicas come first. */
    assert_plan(s, pods, "+5");
    json_t *full = pods_of(running("web-0", "web-r1"), running("web-5", "web-r1"),
                           running("web-6", "web-r1"), NULL);
    assert_plan(s, full, "-0:scale-down");
    json_decref(full);
    json_decref(pods);
    json_decref(s);
}

static void test_min_ready_seconds(void **state)
{
    /* Ready since 22:00:00, now is 22:13:20 (800 s). */
    json_t *slow = set(2, ",\"minReadySeconds\":900");
    json_t *fast = set(2, ",\"minReadySeconds\":60");
    json_t *pods = pods_of(running("web-0", "web-r1"), NULL);
    char got[128];
    bool wait = false;
    plan_text(slow, pods, "web-r1", "web-r1", got, sizeof got, &wait);
    assert_string_equal(got, "");
    assert_true(wait);
    plan_text(fast, pods, "web-r1", "web-r1", got, sizeof got, &wait);
    assert_string_equal(got, "+1");
    assert_false(wait);
    json_decref(pods);
    json_decref(slow);
    json_decref(fast);
}

/* ---- the plan: failures and terminating pods ---- */

static void test_failed_pod_deleted_then_recreated(void **state)
{
    json_t *s = set(3, NULL);
    json_t *failed = pods_of(running("web-0", "web-r1"), pod("web-1", "Failed", false, "web-r1", NULL),
                             NULL);
    assert_plan(s, failed, "-1:failed");
    /* Being deleted: wait for it to be gone, do not create web-1 again. */
    json_t *going = pods_of(running("web-0", "web-r1"),
                            pod("web-1", "Failed", false, "web-r1",
                                ",\"deletionTimestamp\":\"2023-11-14T22:13:00Z\""),
                            NULL);
    assert_plan(s, going, "");
    json_t *gone = pods_of(running("web-0", "web-r1"), NULL);
    assert_plan(s, gone, "+1");
    /* Parallel: the failed pod goes, the rest carry on. */
    json_t *par = set(3, ",\"podManagementPolicy\":\"Parallel\"");
    json_t *pf = pods_of(pod("web-0", "Failed", false, "web-r1", NULL), NULL);
    assert_plan(par, pf, "-0:failed +1 +2");
    /* A terminating (not failed) pod is not replaced while it exists. */
    json_t *term = pods_of(pod("web-0", "Running", true, "web-r1",
                               ",\"deletionTimestamp\":\"2023-11-14T22:13:00Z\""),
                           NULL);
    assert_plan(s, term, "");
    assert_plan(par, term, "+1 +2");
    json_decref(term);
    json_decref(pf);
    json_decref(par);
    json_decref(failed);
    json_decref(going);
    json_decref(gone);
    json_decref(s);
}

/* ---- the plan: scale-down ---- */

static void test_scale_down_reverse_one_at_a_time(void **state)
{
    json_t *s = set(1, NULL);
    json_t *pods = pods_of(running("web-0", "web-r1"), running("web-1", "web-r1"),
                           running("web-2", "web-r1"), NULL);
    assert_plan(s, pods, "-2:scale-down");
    /* web-2 terminating: wait for it before web-1. */
    json_t *t = pods_of(running("web-0", "web-r1"), running("web-1", "web-r1"),
                        pod("web-2", "Running", true, "web-r1",
                            ",\"deletionTimestamp\":\"2023-11-14T22:13:00Z\""),
                        NULL);
    assert_plan(s, t, "");
    /* Only when the replicas are healthy; an unhealthy condemned pod may
     * go only if it is the first unhealthy one, so healthy ones above it
     * go first. */
    json_t *s2 = set(2, NULL);
    json_t *u = pods_of(running("web-0", "web-r1"), pod("web-1", "Running", false, "web-r1", NULL),
                        running("web-2", "web-r1"), NULL);
    assert_plan(s2, u, "");
    json_decref(s2);
    assert_plan(s, u, "-2:scale-down");
    json_t *u1 = pods_of(running("web-0", "web-r1"), pod("web-1", "Running", false, "web-r1", NULL),
                         NULL);
    assert_plan(s, u1, "-1:scale-down");
    json_decref(u1);
    json_t *u2 = pods_of(running("web-0", "web-r1"), running("web-1", "web-r1"),
                         pod("web-2", "Running", false, "web-r1", NULL), NULL);
    assert_plan(s, u2, "-2:scale-down");
    json_t *r0 = pods_of(pod("web-0", "Running", false, "web-r1", NULL), running("web-1", "web-r1"),
                         NULL);
    assert_plan(s, r0, ""); /* a replica not Ready blocks scale-down */
    json_t *par = set(1, ",\"podManagementPolicy\":\"Parallel\"");
    assert_plan(par, pods, "-2:scale-down -1:scale-down");
    assert_plan(par, t, "-1:scale-down");
    json_decref(par);
    json_decref(r0);
    json_decref(u2);
    json_decref(u);
    json_decref(t);
    json_decref(pods);
    json_decref(s);
}

static void test_set_being_deleted(void **state)
{
    json_t *s = set(3, NULL);
    json_object_set_new(json_object_get(s, "metadata"), "deletionTimestamp",
                        json_string("2023-11-14T22:13:00Z"));
    json_t *none = json_array();
    assert_plan(s, none, "");
    json_decref(none);
    json_decref(s);
}

/* ---- the plan: updates ---- */

static void assert_update_plan(json_t *s, json_t *pods, const char *want)
{
    char got[512];
    plan_text(s, pods, "web-old", "web-new", got, sizeof got, NULL);
    assert_string_equal(got, want);
}

static void test_rolling_update_highest_first(void **state)
{
    json_t *s = set(3, NULL);
    json_t *old = pods_of(running("web-0", "web-old"), running("web-1", "web-old"),
                          running("web-2", "web-old"), NULL);
    assert_update_plan(s, old, "-2:update");
    /* web-2 gone: recreated at the update revision (partition 0). */
    json_t *gone = pods_of(running("web-0", "web-old"), running("web-1", "web-old"), NULL);
    assert_update_plan(s, gone, "+2");
    /* web-2 new but not Ready yet: wait. */
    json_t *wait = pods_of(running("web-0", "web-old"), running("web-1", "web-old"),
                           pod("web-2", "Running", false, "web-new", NULL), NULL);
    assert_update_plan(s, wait, "");
    json_t *next = pods_of(running("web-0", "web-old"), running("web-1", "web-old"),
                           running("web-2", "web-new"), NULL);
    assert_update_plan(s, next, "-1:update");
    json_t *done = pods_of(running("web-0", "web-new"), running("web-1", "web-new"),
                           running("web-2", "web-new"), NULL);
    assert_update_plan(s, done, "");
    /* Parallel rolls the same way, one at a time. */
    json_t *par = set(3, ",\"podManagementPolicy\":\"Parallel\"");
    assert_update_plan(par, old, "-2:update");
    json_decref(par);
    json_decref(old);
    json_decref(gone);
    json_decref(wait);
    json_decref(next);
    json_decref(done);
    json_decref(s);
}

static void test_partition(void **state)
{
    json_t *s = set(4, NULL);
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(s, "spec"), "updateStrategy"),
                        "rollingUpdate"),
        "partition", json_integer(2));
    json_t *pods = pods_of(running("web-0", "web-old"), running("web-1", "web-old"),
                           running("web-2", "web-new"), running("web-3", "web-new"), NULL);
    assert_update_plan(s, pods, ""); /* below the partition: left alone */
    json_t *mid = pods_of(running("web-0", "web-old"), running("web-1", "web-old"),
                          running("web-2", "web-old"), running("web-3", "web-new"), NULL);
    assert_update_plan(s, mid, "-2:update");
    /* Created below the partition: at the current revision. */
    json_t *holes = pods_of(running("web-0", "web-old"), NULL);
    assert_update_plan(s, holes, "+c1");
    json_t *holes2 = pods_of(running("web-0", "web-old"), running("web-1", "web-old"), NULL);
    assert_update_plan(s, holes2, "+2");
    json_decref(holes2);
    json_decref(holes);
    json_decref(mid);
    json_decref(pods);
    json_decref(s);
}

static void test_on_delete(void **state)
{
    json_t *s = set(2, NULL);
    json_object_set_new(json_object_get(s, "spec"), "updateStrategy",
                        parse("{\"type\":\"OnDelete\"}"));
    json_t *pods = pods_of(running("web-0", "web-old"), running("web-1", "web-old"), NULL);
    assert_update_plan(s, pods, "");
    json_t *one = pods_of(running("web-0", "web-old"), NULL);
    assert_update_plan(s, one, "+1"); /* a deleted pod comes back updated */
    json_decref(one);
    json_decref(pods);
    json_decref(s);
}

static void test_max_unavailable(void **state)
{
    json_t *s = set(4, ",\"podManagementPolicy\":\"Parallel\"");
    json_object_set_new(json_object_get(json_object_get(s, "spec"), "updateStrategy"),
                        "rollingUpdate", parse("{\"partition\":0,\"maxUnavailable\":2}"));
    json_t *pods = pods_of(running("web-0", "web-old"), running("web-1", "web-old"),
                           running("web-2", "web-old"), running("web-3", "web-old"), NULL);
    assert_update_plan(s, pods, "-3:update -2:update");
    json_t *one_down = pods_of(running("web-0", "web-old"), running("web-1", "web-old"),
                               running("web-2", "web-old"),
                               pod("web-3", "Running", false, "web-new", NULL), NULL);
    assert_update_plan(s, one_down, "-2:update");
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(s, "spec"), "updateStrategy"),
                        "rollingUpdate"),
        "maxUnavailable", json_string("50%"));
    assert_update_plan(s, pods, "-3:update -2:update");
    /* a percentage rounds down (30% of 4 is 1), as Kubernetes does */
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(s, "spec"), "updateStrategy"),
                        "rollingUpdate"),
        "maxUnavailable", json_string("30%"));
    assert_update_plan(s, pods, "-3:update");
    json_decref(one_down);
    json_decref(pods);
    json_decref(s);
}

/* ---- status ---- */

static void test_status(void **state)
{
    json_t *s = set(3, ",\"minReadySeconds\":900");
    json_t *pods = pods_of(running("web-0", "web-old"), running("web-1", "web-new"),
                           pod("web-2", "Pending", false, "web-new", NULL),
                           pod("web-x", "Running", true, "web-new", NULL), NULL);
    struct ctl_sts_view v = {s, pods, "web-old", "web-new", NOW_MS};
    json_t *st = ctl_sts_status(&v, 2);
    assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "replicas")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "readyReplicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "availableReplicas")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "currentReplicas")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "updatedReplicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "collisionCount")), 2);
    assert_string_equal(ctl_str(st, "currentRevision"), "web-old");
    assert_string_equal(ctl_str(st, "updateRevision"), "web-new");
    assert_false(ctl_sts_status_differs(st, st));
    json_t *other = json_deep_copy(st);
    json_object_set_new(other, "readyReplicas", json_integer(3));
    assert_true(ctl_sts_status_differs(st, other));
    json_object_del(other, "readyReplicas");
    json_object_set_new(st, "readyReplicas", json_integer(0));
    assert_false(ctl_sts_status_differs(st, other)); /* absent = 0 */
    json_decref(other);
    json_decref(st);
    json_decref(pods);
    /* Every pod updated and Ready: the update revision becomes current. */
    pods = pods_of(running("web-0", "web-new"), running("web-1", "web-new"),
                   running("web-2", "web-new"), NULL);
    v.pods = pods;
    st = ctl_sts_status(&v, 0);
    assert_string_equal(ctl_str(st, "currentRevision"), "web-new");
    assert_int_equal(json_integer_value(json_object_get(st, "currentReplicas")), 3);
    json_decref(st);
    json_decref(pods);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinals_and_claim_names),
        cmocka_unit_test(test_is_member),
        cmocka_unit_test(test_claim_members),
        cmocka_unit_test(test_new_pod_identity_and_storage),
        cmocka_unit_test(test_new_claims),
        cmocka_unit_test(test_revision_data_round_trip),
        cmocka_unit_test(test_revision_selection),
        cmocka_unit_test(test_history_limit),
        cmocka_unit_test(test_claim_refs_by_policy),
        cmocka_unit_test(test_claim_stale),
        cmocka_unit_test(test_ordered_ready_creates_one_at_a_time),
        cmocka_unit_test(test_parallel_creates_all),
        cmocka_unit_test(test_start_ordinal),
        cmocka_unit_test(test_min_ready_seconds),
        cmocka_unit_test(test_failed_pod_deleted_then_recreated),
        cmocka_unit_test(test_scale_down_reverse_one_at_a_time),
        cmocka_unit_test(test_set_being_deleted),
        cmocka_unit_test(test_rolling_update_highest_first),
        cmocka_unit_test(test_partition),
        cmocka_unit_test(test_on_delete),
        cmocka_unit_test(test_max_unavailable),
        cmocka_unit_test(test_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
