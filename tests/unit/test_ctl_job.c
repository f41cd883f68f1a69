/* test_ctl_job.c — unit tests for the Job controller's decisions
 * (controllers/job.c): completion-index interval lists, the failure
 * backoff, pod failure policy rules, which indexes to create, the pods it
 * makes, and ctl_job_plan / ctl_job_settle on hand-built Jobs and pods:
 * how many pods to create or delete, finished pods recorded in
 * uncountedTerminatedPods before their finalizer goes and counted once,
 * the interim and final conditions, suspend, deadlines, the TTL.
 *
 * JSON is written with single quotes (J() turns them into double ones). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"
#include "util/util.h"
#include "tests/unit/test_json.h"

#define NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static const char *str_at(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* A Job named pi in ns t; spec is the JSON text of extra spec fields. */
static json_t *job(const char *spec, const char *status)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{'apiVersion':'batch/v1','kind':'Job','metadata':{'name':'pi','namespace':'t',"
             "'uid':'job-uid'},'spec':{'parallelism':3,'backoffLimit':6,"
             "'completionMode':'NonIndexed','template':{'metadata':{'labels':{'a':'b'}},"
             "'spec':{'restartPolicy':'Never','containers':[{'name':'c','image':'x'}]}}%s%s},"
             "'status':%s}",
             *spec ? "," : "", spec, status ? status : "{}");
    return J(buf);
}

/* A pod of the job: phase, finalizer or not, completion index (-1 none),
 * exit code of its container when terminated, finish time offset (s). */
static json_t *pod(const char *uid, const char *phase, bool fin, int index, int exit_code,
                   int finished_s_ago)
{
    char ann[128] = "{}", fins[96] = "[]", cs[512] = "[]", finished[32];
    if (index >= 0)
        snprintf(ann, sizeof ann, "{'batch.kubernetes.io/job-completion-index':'%d'}", index);
    if (fin)
        snprintf(fins, sizeof fins, "['batch.kubernetes.io/job-tracking']");
    time_t t = (time_t)(NOW_MS / 1000 - finished_s_ago);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(finished, sizeof finished, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
        snprintf(cs, sizeof cs,
                 "[{'name':'c','state':{'terminated':{'exitCode':%d,'finishedAt':'%s'}}}]",
                 exit_code, finished);
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'pod-%s','namespace':'t','uid':'%s','annotations':%s,"
             "'finalizers':%s,'creationTimestamp':'2025-12-31T00:00:00Z',"
             "'ownerReferences':[{'apiVersion':'batch/v1','kind':'Job','name':'pi',"
             "'uid':'job-uid','controller':true}]},'spec':{'nodeName':'n1'},"
             "'status':{'phase':'%s','conditions':[{'type':'Ready','status':'%s'}],"
             "'containerStatuses':%s}}",
             uid, uid, ann, fins, phase, !strcmp(phase, "Running") ? "True" : "False", cs);
    return J(buf);
}

static json_t *uncounted(json_t *status, const char *which)
{
    return json_object_get(json_object_get(status, "uncountedTerminatedPods"), which);
}

static json_int_t int_at(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static json_t *cond(json_t *status, const char *type)
{
    json_t *c;
    size_t i;
    json_array_foreach(json_object_get(status, "conditions"), i, c) if (
        !strcmp(str_at(c, "type"), type)) return c;
    return NULL;
}

/* ---- interval lists ---- */

static void test_intervals(void **state)
{
    struct ctl_ivals iv = {0};
    ctl_ivals_parse(&iv, "0-3,5,7-9", 100);
    assert_int_equal(ctl_ivals_total(&iv), 8);
    assert_true(ctl_ivals_has(&iv, 0) && ctl_ivals_has(&iv, 3) && ctl_ivals_has(&iv, 8));
    assert_false(ctl_ivals_has(&iv, 4) || ctl_ivals_has(&iv, 6) || ctl_ivals_has(&iv, 10));
    char *s = ctl_ivals_format(&iv);
    assert_string_equal(s, "0-3,5,7-9");
    free(s);
    ctl_ivals_add(&iv, 4); /* joins its neighbours */
    s = ctl_ivals_format(&iv);
    assert_string_equal(s, "0-5,7-9");
    free(s);
    ctl_ivals_add(&iv, 6);
    ctl_ivals_add(&iv, 12);
    ctl_ivals_add(&iv, 11);
    s = ctl_ivals_format(&iv);
    assert_string_equal(s, "0-9,11-12");
    free(s);
    ctl_ivals_free(&iv);
    /* limit cuts, malformed parts are skipped, order does not matter */
    ctl_ivals_parse(&iv, "7-9,a,2,3-1,0-1,,x-2,4", 8);
    s = ctl_ivals_format(&iv);
    assert_string_equal(s, "0-2,4,7");
    free(s);
    ctl_ivals_free(&iv);
    s = ctl_ivals_format(&iv);
    assert_string_equal(s, "");
    free(s);
    /* two adjacent singles form a range, as Kubernetes writes them */
    ctl_ivals_add(&iv, 1);
    ctl_ivals_add(&iv, 0);
    s = ctl_ivals_format(&iv);
    assert_string_equal(s, "0-1");
    free(s);
    ctl_ivals_free(&iv);
}

/* ---- backoff ---- */

static void test_backoff(void **state)
{
    assert_int_equal(ctl_job_backoff_remaining_ms(0, NOW_MS, NOW_MS), 0);
    assert_int_equal(ctl_job_backoff_remaining_ms(1, NOW_MS, NOW_MS), 10000);
    assert_int_equal(ctl_job_backoff_remaining_ms(1, NOW_MS - 4000, NOW_MS), 6000);
    assert_int_equal(ctl_job_backoff_remaining_ms(1, NOW_MS - 11000, NOW_MS), 0);
    assert_int_equal(ctl_job_backoff_remaining_ms(2, NOW_MS, NOW_MS), 20000);
    assert_int_equal(ctl_job_backoff_remaining_ms(3, NOW_MS, NOW_MS), 40000);
    assert_int_equal(ctl_job_backoff_remaining_ms(6, NOW_MS, NOW_MS), 320000);
    assert_int_equal(ctl_job_backoff_remaining_ms(7, NOW_MS, NOW_MS), 360000); /* capped */
    assert_int_equal(ctl_job_backoff_remaining_ms(40, NOW_MS, NOW_MS), 360000);
}

/* The backoff in a plan: the last failure decides, a later success resets. */
static void test_plan_backoff(void **state)
{
    json_t *j = job("'completions':2,'parallelism':1", "{'failed':1}");
    json_t *pods = json_pack("[o]", pod("f1", "Failed", false, -1, 1, 2));
    struct ctl_job_plan p;
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.create), 0);
    assert_true(p.requeue_ms > 7000 && p.requeue_ms <= 8000);
    ctl_job_plan_free(&p);
    /* two failures since the last success: 20 s */
    json_array_append_new(pods, pod("f2", "Failed", false, -1, 1, 1));
    json_array_append_new(pods, pod("s1", "Succeeded", false, -1, 0, 100));
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_true(p.requeue_ms > 18000 && p.requeue_ms <= 19000);
    ctl_job_plan_free(&p);
    /* a success after the failures: no wait */
    json_array_append_new(pods, pod("s2", "Succeeded", false, -1, 0, 0));
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.create), 1);
    ctl_job_plan_free(&p);
    json_decref(pods);
    json_decref(j);
}

/* ---- pod failure policy ---- */

static void test_pod_failure_policy(void **state)
{
    json_t *policy = J("{'rules':["
                       "{'action':'Ignore','onPodConditions':[{'type':'DisruptionTarget',"
                       "'status':'True'}]},"
                       "{'action':'FailJob','onExitCodes':{'containerName':'c','operator':'In',"
                       "'values':[42]}},"
                       "{'action':'Count','onExitCodes':{'operator':'NotIn','values':[1,2]}}]}");
    char msg[256];
    json_t *p = pod("a", "Failed", true, -1, 42, 0);
    assert_int_equal(ctl_job_pfp_match(policy, p, msg, sizeof msg), CTL_PFP_FAIL_JOB);
    assert_string_equal(msg, "Container c for pod t/pod-a failed with exit code 42 matching "
                             "FailJob rule at index 1");
    json_decref(p);
    p = pod("b", "Failed", true, -1, 1, 0); /* 1 is in NotIn's list: no rule */
    assert_int_equal(ctl_job_pfp_match(policy, p, NULL, 0), CTL_PFP_NONE);
    json_decref(p);
    p = pod("c", "Failed", true, -1, 7, 0);
    assert_int_equal(ctl_job_pfp_match(policy, p, NULL, 0), CTL_PFP_COUNT);
    /* the condition rule comes first */
    json_array_append_new(json_object_get(json_object_get(p, "status"), "conditions"),
                          J("{'type':'DisruptionTarget','status':'True'}"));
    assert_int_equal(ctl_job_pfp_match(policy, p, NULL, 0), CTL_PFP_IGNORE);
    json_decref(p);
    /* another container's exit code does not match a containerName rule */
    p = pod("d", "Failed", true, -1, 42, 0);
    json_t *cs = json_array_get(json_object_get(json_object_get(p, "status"), "containerStatuses"),
                                0);
    json_object_set_new(cs, "name", json_string("other"));
    assert_int_equal(ctl_job_pfp_match(policy, p, NULL, 0), CTL_PFP_COUNT);
    json_decref(p);
    json_decref(policy);
}

/* FailJob in a plan: FailureTarget at once, the running pods deleted. */
static void test_plan_fail_job(void **state)
{
    json_t *j = job("'completions':5,'podReplacementPolicy':'Failed','podFailurePolicy':"
                    "{'rules':[{'action':'FailJob','onExitCodes':{'operator':'In',"
                    "'values':[3]}}]}",
                    NULL);
    json_t *pods = json_pack("[o,o]", pod("a", "Failed", true, -1, 3, 0),
                             pod("b", "Running", true, -1, 0, 0));
    struct ctl_job_plan p;
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.remove), 1); /* first the active pods go */
    assert_false(p.remove_strip);                   /* keeping their finalizer */
    assert_null(p.final);
    ctl_job_plan_free(&p);
    /* the pod is now being deleted and killed */
    json_object_set_new(json_object_get(json_array_get(pods, 1), "metadata"),
                        "deletionTimestamp", json_string("2026-01-01T00:00:00Z"));
    json_object_set_new(json_object_get(json_array_get(pods, 1), "status"), "phase",
                        json_string("Failed"));
    ctl_job_plan(j, pods, NOW_MS, &p);
    json_t *ft = cond(p.status, "FailureTarget");
    assert_non_null(ft);
    assert_string_equal(str_at(ft, "reason"), "PodFailurePolicy");
    assert_string_equal(str_at(p.final, "type"), "Failed");
    assert_int_equal(json_array_size(uncounted(p.status, "failed")), 2);
    assert_int_equal(json_array_size(p.strip), 2);
    ctl_job_plan_free(&p);
    json_decref(pods);
    json_decref(j);
}

/* ---- pods ---- */

static void test_pending_indexes(void **state)
{
    struct ctl_ivals done = {0};
    ctl_ivals_parse(&done, "0,2", 6);
    json_t *taken = json_pack("[o]", pod("x", "Running", true, 1, 0, 0));
    int32_t out[8];
    size_t n = ctl_job_pending_indexes(6, &done, taken, 2, out);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 4);
    n = ctl_job_pending_indexes(6, &done, taken, 8, out);
    assert_int_equal(n, 3);
    assert_int_equal(out[2], 5);
    json_decref(taken);
    ctl_ivals_free(&done);
}

static void test_new_pod(void **state)
{
    json_t *j = job("'completions':5,'completionMode':'Indexed'", NULL);
    json_t *tspec = json_object_get(
        json_object_get(json_object_get(json_object_get(j, "spec"), "template"), "spec"), "containers");
    json_array_append_new(tspec, J("{'name':'d','image':'y','env':[{'name':'JOB_COMPLETION_INDEX',"
                                   "'value':'mine'}]}"));
    json_t *p = ctl_job_new_pod(j, 3);
    json_t *md = json_object_get(p, "metadata"), *spec = json_object_get(p, "spec");
    assert_string_equal(str_at(md, "generateName"), "pi-3-");
    assert_string_equal(str_at(json_object_get(md, "annotations"), CTL_JOB_INDEX_KEY), "3");
    assert_string_equal(str_at(json_object_get(md, "labels"), CTL_JOB_INDEX_KEY), "3");
    assert_string_equal(str_at(json_object_get(md, "labels"), "a"), "b");
    assert_string_equal(str_at(spec, "hostname"), "pi-3");
    assert_string_equal(json_string_value(json_array_get(json_object_get(md, "finalizers"), 0)),
                        CTL_JOB_FINALIZER);
    json_t *c0 = json_array_get(json_object_get(spec, "containers"), 0);
    json_t *env = json_array_get(json_object_get(c0, "env"), 0);
    assert_string_equal(str_at(env, "name"), "JOB_COMPLETION_INDEX");
    assert_string_equal(
        str_at(json_object_get(json_object_get(env, "valueFrom"), "fieldRef"), "fieldPath"),
        "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    json_t *c1 = json_array_get(json_object_get(spec, "containers"), 1);
    assert_int_equal(json_array_size(json_object_get(c1, "env")), 1); /* its own is kept */
    json_t *ref = json_array_get(json_object_get(md, "ownerReferences"), 0);
    assert_string_equal(str_at(ref, "uid"), "job-uid");
    assert_true(json_is_true(json_object_get(ref, "controller")));
    json_decref(p);
    json_decref(j);
    j = job("'completions':5", NULL);
    p = ctl_job_new_pod(j, -1);
    md = json_object_get(p, "metadata");
    assert_string_equal(str_at(md, "generateName"), "pi-");
    assert_null(json_object_get(md, "annotations"));
    assert_null(json_object_get(json_object_get(p, "spec"), "hostname"));
    json_decref(p);
    json_decref(j);
}

/* ---- plans ---- */

static void test_plan_start(void **state)
{
    json_t *j = job("'completions':10", NULL), *pods = json_array();
    struct ctl_job_plan p;
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.create), 3); /* parallelism */
    assert_int_equal(int_at(p.status, "active"), 3);
    assert_string_equal(str_at(p.status, "startTime"), "2026-01-01T00:00:00Z");
    assert_true(p.flush);
    assert_null(p.final);
    ctl_job_plan_free(&p);
    /* nearly done: only what is left to complete */
    json_object_set_new(json_object_get(j, "status"), "succeeded", json_integer(9));
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.create), 1);
    ctl_job_plan_free(&p);
    /* three running and 9 done: two are surplus, deleted without counting */
    json_array_append_new(pods, pod("r1", "Running", true, -1, 0, 0));
    json_array_append_new(pods, pod("r2", "Running", true, -1, 0, 0));
    json_array_append_new(pods, pod("r3", "Running", true, -1, 0, 0));
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.create), 0);
    assert_int_equal(json_array_size(p.remove), 2);
    assert_true(p.remove_strip);
    ctl_job_plan_free(&p);
    /* one lost its finalizer for a removal whose DELETE never came (a
     * leader died between the two): it goes, though not surplus */
    json_object_set_new(json_object_get(j, "status"), "succeeded", json_integer(7));
    json_object_set_new(json_object_get(json_array_get(pods, 1), "metadata"), "finalizers",
                        json_array());
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.remove), 1);
    assert_string_equal(
        str_at(json_object_get(json_array_get(p.remove, 0), "metadata"), "uid"), "r2");
    ctl_job_plan_free(&p);
    json_decref(pods);
    json_decref(j);
}

/* Finished pods: recorded, un-finalized, counted — each exactly once. */
static void test_plan_tracking(void **state)
{
    json_t *j = job("'completions':10", "{'succeeded':2,'startTime':'2026-01-01T00:00:00Z'}");
    json_t *pods = json_pack("[o,o,o,o,o]", pod("s1", "Succeeded", true, -1, 0, 1),
                             pod("s2", "Succeeded", true, -1, 0, 1),
                             pod("old", "Succeeded", false, -1, 0, 50),
                             pod("r1", "Running", true, -1, 0, 0),
                             pod("f1", "Failed", true, -1, 1, 0));
    struct ctl_job_plan p;
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_true(p.flush);
    assert_int_equal(json_array_size(uncounted(p.status, "succeeded")), 2);
    assert_int_equal(json_array_size(uncounted(p.status, "failed")), 1);
    assert_int_equal(int_at(p.status, "succeeded"), 2); /* not yet */
    assert_int_equal(json_array_size(p.strip), 3);     /* s1, s2, f1; not r1 */
    /* 2 + 2 done, so 6 left: parallelism 3, one active */
    assert_int_equal(json_array_size(p.create), 0); /* f1 failed after them: backoff */
    assert_true(p.requeue_ms > 0);
    /* A failover right after the flush: the same pods, the flushed status. */
    json_object_set(j, "status", p.status);
    json_t *flushed = json_deep_copy(p.status);
    ctl_job_plan_free(&p);
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(uncounted(p.status, "succeeded")), 2); /* not twice */
    assert_int_equal(json_array_size(p.strip), 3);
    ctl_job_plan_free(&p);
    /* The finalizers go (the failover may come now too): settle counts. */
    for (int i = 0; i < 5; i++) {
        json_t *md = json_object_get(json_array_get(pods, (size_t)i), "metadata");
        if (strcmp(str_at(md, "uid"), "r1"))
            json_object_set_new(md, "finalizers", json_array());
    }
    bool finished;
    assert_true(ctl_job_settle(flushed, pods, NULL, false, NOW_MS, &finished));
    assert_false(finished);
    assert_int_equal(int_at(flushed, "succeeded"), 4);
    assert_int_equal(int_at(flushed, "failed"), 1);
    assert_null(uncounted(flushed, "succeeded"));
    /* and planning again from there counts nothing more */
    json_object_set(j, "status", flushed);
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.strip), 0);
    assert_null(uncounted(p.status, "succeeded"));
    assert_int_equal(int_at(p.status, "succeeded"), 4);
    ctl_job_plan_free(&p);
    json_decref(flushed);
    json_decref(pods);
    json_decref(j);
}

static void test_plan_complete(void **state)
{
    json_t *j = job("'completions':2", "{'succeeded':1,'startTime':'2026-01-01T00:00:00Z'}");
    json_t *pods = json_pack("[o]", pod("s2", "Succeeded", true, -1, 0, 1));
    struct ctl_job_plan p;
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.create), 0);
    json_t *scm = cond(p.status, "SuccessCriteriaMet");
    assert_non_null(scm);
    assert_string_equal(str_at(scm, "reason"), "CompletionsReached");
    assert_string_equal(str_at(p.final, "type"), "Complete");
    assert_null(cond(p.status, "Complete")); /* not before the pod is counted */
    bool finished;
    json_t *st = json_deep_copy(p.status);
    assert_false(ctl_job_settle(st, pods, p.final, false, NOW_MS, &finished) && finished);
    /* the finalizer is gone */
    json_object_set_new(json_object_get(json_array_get(pods, 0), "metadata"), "finalizers",
                        json_array());
    assert_true(ctl_job_settle(st, pods, p.final, false, NOW_MS, &finished));
    assert_true(finished);
    assert_int_equal(int_at(st, "succeeded"), 2);
    assert_string_equal(str_at(cond(st, "Complete"), "status"), "True");
    assert_string_equal(str_at(st, "completionTime"), "2026-01-01T00:00:00Z");
    json_object_set(j, "status", st);
    assert_true(ctl_job_finished(j, NULL));
    json_decref(st);
    ctl_job_plan_free(&p);
    json_decref(pods);
    json_decref(j);
}

static void test_plan_backoff_limit(void **state)
{
    json_t *j = job("'completions':3,'backoffLimit':1",
                    "{'failed':1,'startTime':'2026-01-01T00:00:00Z'}");
    json_t *pods = json_pack("[o,o]", pod("f2", "Failed", true, -1, 1, 1),
                             pod("r", "Running", true, -1, 0, 0));
    struct ctl_job_plan p;
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.remove), 1); /* the running one is killed */
    ctl_job_plan_free(&p);
    json_array_remove(pods, 1);
    ctl_job_plan(j, pods, NOW_MS, &p);
    json_t *ft = cond(p.status, "FailureTarget");
    assert_string_equal(str_at(ft, "reason"), "BackoffLimitExceeded");
    assert_string_equal(str_at(ft, "message"), "Job has reached the specified backoff limit");
    assert_string_equal(str_at(p.final, "type"), "Failed");
    assert_int_equal(json_array_size(p.create), 0);
    /* settles into Failed once f2 is counted */
    json_object_set_new(json_object_get(json_array_get(pods, 0), "metadata"), "finalizers",
                        json_array());
    bool finished;
    ctl_job_settle(p.status, pods, p.final, false, NOW_MS, &finished);
    assert_true(finished);
    assert_int_equal(int_at(p.status, "failed"), 2);
    assert_string_equal(str_at(cond(p.status, "Failed"), "reason"), "BackoffLimitExceeded");
    assert_null(json_object_get(p.status, "completionTime"));
    ctl_job_plan_free(&p);
    json_decref(pods);
    json_decref(j);
}

static void test_plan_suspend_and_deadline(void **state)
{
    json_t *j = job("'completions':3,'suspend':true", "{'startTime':'2026-01-01T00:00:00Z'}");
    json_t *pods = json_pack("[o,o]", pod("a", "Running", true, -1, 0, 0),
                             pod("b", "Running", true, -1, 0, 0));
    struct ctl_job_plan p;
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.remove), 2);
    assert_true(p.remove_strip); /* suspended pods are not failures */
    assert_string_equal(str_at(cond(p.status, "Suspended"), "status"), "True");
    assert_string_equal(p.event, "Suspended");
    assert_int_equal(int_at(p.status, "active"), 0);
    json_object_set(j, "status", p.status);
    ctl_job_plan_free(&p);
    /* resumed: Suspended False, startTime reset, pods again */
    json_object_set_new(json_object_get(j, "spec"), "suspend", json_false());
    json_t *none = json_array();
    ctl_job_plan(j, none, NOW_MS + 60000, &p);
    assert_string_equal(str_at(cond(p.status, "Suspended"), "status"), "False");
    assert_string_equal(str_at(cond(p.status, "Suspended"), "reason"), "JobResumed");
    assert_string_equal(str_at(p.status, "startTime"), "2026-01-01T00:01:00Z");
    assert_int_equal(json_array_size(p.create), 3);
    ctl_job_plan_free(&p);
    /* a deadline: requeued at it, failed past it */
    json_object_set_new(json_object_get(j, "spec"), "activeDeadlineSeconds", json_integer(10));
    json_object_set_new(json_object_get(j, "status"), "startTime",
                        json_string("2026-01-01T00:00:00Z"));
    ctl_job_plan(j, none, NOW_MS + 4000, &p);
    assert_int_equal(p.requeue_ms, 6000);
    ctl_job_plan_free(&p);
    ctl_job_plan(j, none, NOW_MS + 10000, &p);
    assert_string_equal(str_at(cond(p.status, "FailureTarget"), "reason"), "DeadlineExceeded");
    assert_int_equal(json_array_size(p.create), 0);
    ctl_job_plan_free(&p);
    json_decref(none);
    json_decref(pods);
    json_decref(j);
}

static void test_plan_indexed(void **state)
{
    json_t *j = job("'completions':5,'completionMode':'Indexed'",
                    "{'completedIndexes':'0','succeeded':1,'startTime':'2026-01-01T00:00:00Z'}");
    json_t *pods = json_pack("[o,o,o,o]", pod("a", "Succeeded", true, 1, 0, 1),
                             pod("b", "Succeeded", true, 2, 0, 1),
                             pod("c", "Running", true, 4, 0, 0),
                             pod("d", "Running", true, 4, 0, 0)); /* a duplicate */
    struct ctl_job_plan p;
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_string_equal(str_at(p.status, "completedIndexes"), "0-2");
    assert_int_equal(int_at(p.status, "succeeded"), 3);
    assert_null(uncounted(p.status, "succeeded")); /* the index is the record */
    assert_int_equal(json_array_size(p.remove), 1); /* the duplicate of 4 */
    assert_int_equal(json_array_size(p.create), 0); /* deletions first */
    ctl_job_plan_free(&p);
    json_array_remove(pods, 3);
    ctl_job_plan(j, pods, NOW_MS, &p);
    assert_int_equal(json_array_size(p.create), 1); /* index 3 */
    assert_string_equal(
        str_at(json_object_get(json_object_get(json_array_get(p.create, 0), "metadata"),
                               "annotations"),
               CTL_JOB_INDEX_KEY),
        "3");
    ctl_job_plan_free(&p);
    json_decref(pods);
    json_decref(j);
}

static void test_ttl(void **state)
{
    json_t *j = job("'ttlSecondsAfterFinished':30",
                    "{'conditions':[{'type':'Complete','status':'True',"
                    "'lastTransitionTime':'2026-01-01T00:00:00Z'}]}");
    assert_int_equal(ctl_job_ttl_remaining_ms(j, NOW_MS + 10000), 20000);
    assert_int_equal(ctl_job_ttl_remaining_ms(j, NOW_MS + 40000), 0);
    json_decref(j);
    j = job("", "{'conditions':[{'type':'Complete','status':'True',"
                "'lastTransitionTime':'2026-01-01T00:00:00Z'}]}");
    assert_int_equal(ctl_job_ttl_remaining_ms(j, NOW_MS), -1); /* no TTL */
    json_decref(j);
    j = job("'ttlSecondsAfterFinished':0", NULL);
    assert_int_equal(ctl_job_ttl_remaining_ms(j, NOW_MS), -1); /* not finished */
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intervals),        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_plan_backoff),     cmocka_unit_test(test_pod_failure_policy),
        cmocka_unit_test(test_plan_fail_job),    cmocka_unit_test(test_pending_indexes),
        cmocka_unit_test(test_new_pod),          cmocka_unit_test(test_plan_start),
        cmocka_unit_test(test_plan_tracking),    cmocka_unit_test(test_plan_complete),
        cmocka_unit_test(test_plan_backoff_limit), cmocka_unit_test(test_plan_suspend_and_deadline),
        cmocka_unit_test(test_plan_indexed),     cmocka_unit_test(test_ttl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
