/* test_ctl_autoscaler.c — unit tests for the HorizontalPodAutoscaler's
 * decisions (controllers/autoscaler.c): the replica calculator (the
 * formula, the 0.1 tolerance, missing metrics on the way up and down,
 * unready and ignored pods, the cpu initialisation period, averageValue
 * targets, errors) and normalisation (min/max, the legacy scale-up limit
 * and downscale window, spec.behavior's stabilization windows and rate
 * policies with recorded scale events). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"
#include "util/util.h"

#define T0 "2026-01-01T00:00:00Z" /* pods start and become ready here */
#define HOUR_MS (3600 * 1000LL)

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

static int64_t t0(void)
{
    return util_time_parse(T0);
}

/* A Running, Ready pod started at T0 requesting 100m cpu. */
static json_t *pod(const char *name)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"%s\"},\"spec\":{\"containers\":[{\"name\":\"c\","
             "\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]},\"status\":{\"phase\":"
             "\"Running\",\"startTime\":\"" T0 "\",\"conditions\":[{\"type\":\"Ready\","
             "\"status\":\"True\",\"lastTransitionTime\":\"" T0 "\"}]}}",
             name);
    return parse(buf);
}

static json_t *metric(const char *cpu, const char *stamp)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"timestamp\":\"%s\",\"window\":\"5s\",\"containers\":[{\"name\":\"c\","
             "\"usage\":{\"cpu\":\"%s\"}}]}",
             stamp ? stamp : "2026-01-01T00:10:00Z", cpu);
    return parse(buf);
}

struct set {
    json_t *pods, *metrics;
};

/* n pods p0..p(n-1); usage[i] NULL: no metric. */
static struct set make(size_t n, const char *const *usage)
{
    struct set s = {json_array(), json_object()};
    for (size_t i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "p%zu", i);
        json_array_append_new(s.pods, pod(name));
        if (usage[i])
            json_object_set_new(s.metrics, name, metric(usage[i], NULL));
    }
    return s;
}

static void drop(struct set s)
{
    json_decref(s.pods);
    json_decref(s.metrics);
}

/* The proposal at an hour after T0 (past the cpu initialisation period),
 * for a 50% utilization target; -1 on error. */
static int32_t propose(struct set s, int32_t current, int32_t *util)
{
    struct ctl_hpa_calc out = {0};
    char err[256];
    if (!ctl_hpa_resource_replicas(s.pods, s.metrics, "cpu", current, 50, 0, t0() + HOUR_MS,
                                   &out, err, sizeof err))
        return -1;
    if (util)
        *util = out.utilization;
    return out.replicas;
}

static void test_formula_and_tolerance(void **state)
{
    (void)state;
    int32_t util;
    struct set s = make(2, (const char *[]){"100m", "100m"});
    assert_int_equal(propose(s, 2, &util), 4); /* ceil(2 x 100/50) */
    assert_int_equal(util, 100);
    drop(s);
    s = make(3, (const char *[]){"80m", "70m", "90m"});
    assert_int_equal(propose(s, 3, &util), 5); /* 80% -> ceil(3 x 1.6) */
    assert_int_equal(util, 80);
    drop(s);
    /* within 10% of the target: no change, whatever the count says */
    s = make(2, (const char *[]){"54m", "54m"});
    assert_int_equal(propose(s, 7, NULL), 7);
    drop(s);
    s = make(2, (const char *[]){"46m", "46m"});
    assert_int_equal(propose(s, 2, NULL), 2);
    drop(s);
    s = make(2, (const char *[]){"56m", "56m"});
    assert_int_equal(propose(s, 2, NULL), 3); /* 1.12 */
    drop(s);
    s = make(4, (const char *[]){"10m", "10m", "10m", "10m"});
    assert_int_equal(propose(s, 4, NULL), 1); /* ceil(4 x 0.2) */
    drop(s);
}

static void test_missing_metrics(void **state)
{
    (void)state;
    /* Up: the pod without a metric counts as 0: 200/300 = 66% -> ceil(3 x 1.32) */
    struct set s = make(3, (const char *[]){"100m", "100m", NULL});
    assert_int_equal(propose(s, 3, NULL), 4);
    drop(s);
    /* Down: as 100% of its request: 130/400 = 32% -> ceil(4 x 0.64) = 3 */
    s = make(4, (const char *[]){"10m", "10m", "10m", NULL});
    assert_int_equal(propose(s, 4, NULL), 3);
    drop(s);
    /* Down, but the assumption would reverse the direction: no change */
    s = make(2, (const char *[]){"40m", NULL});
    assert_int_equal(propose(s, 2, NULL), 2); /* 40% -> 70%: 1.4 > 1 */
    drop(s);
    /* No metric at all: an error */
    s = make(2, (const char *[]){NULL, NULL});
    char err[256];
    struct ctl_hpa_calc out;
    assert_false(ctl_hpa_resource_replicas(s.pods, s.metrics, "cpu", 2, 50, 0, t0() + HOUR_MS,
                                           &out, err, sizeof err));
    assert_non_null(strstr(err, "did not receive metrics"));
    drop(s);
}

static void test_unready_and_ignored(void **state)
{
    (void)state;
    /* A Pending pod is unready: 0 on a scale-up (200/300) ... */
    struct set s = make(3, (const char *[]){"100m", "100m", NULL});
    json_object_set_new(json_object_get(json_array_get(s.pods, 2), "status"), "phase",
                        json_string("Pending"));
    assert_int_equal(propose(s, 3, NULL), 4);
    drop(s);
    /* ... and left out of a scale-down */
    s = make(3, (const char *[]){"10m", "10m", NULL});
    json_object_set_new(json_object_get(json_array_get(s.pods, 2), "status"), "phase",
                        json_string("Pending"));
    assert_int_equal(propose(s, 3, NULL), 1); /* ceil(2 x 0.2) */
    drop(s);
    /* Pods being deleted or Failed are ignored, metric or not */
    s = make(3, (const char *[]){"100m", "100m", "1000m"});
    json_object_set_new(json_object_get(json_array_get(s.pods, 2), "metadata"),
                        "deletionTimestamp", json_string(T0));
    assert_int_equal(propose(s, 3, NULL), 4);
    json_object_set_new(json_object_get(json_array_get(s.pods, 1), "status"), "phase",
                        json_string("Failed"));
    assert_int_equal(propose(s, 3, NULL), 2); /* ceil(1 x 2) */
    drop(s);
    /* A pod that is not Ready: unready */
    s = make(2, (const char *[]){"100m", "100m"});
    json_t *ready = json_array_get(json_object_get(json_object_get(json_array_get(s.pods, 1),
                                                                   "status"),
                                                   "conditions"),
                                   0);
    json_object_set_new(ready, "status", json_string("False"));
    json_object_set_new(ready, "lastTransitionTime", json_string("2026-01-01T00:00:05Z"));
    assert_int_equal(propose(s, 2, NULL), 2); /* up with unready: 100/200 = 50% -> no change */
    drop(s);
}

static void test_cpu_initialization(void **state)
{
    (void)state;
    /* Within 5 minutes of its start, a sample taken less than a window after
     * the pod became ready does not count. */
    struct set s = make(2, (const char *[]){"100m", "100m"});
    json_object_set_new(s.metrics, "p1", metric("100m", "2026-01-01T00:00:03Z"));
    struct ctl_hpa_calc out;
    char err[256];
    int64_t now = t0() + 60 * 1000;
    assert_true(ctl_hpa_resource_replicas(s.pods, s.metrics, "cpu", 2, 50, 0, now, &out, err,
                                          sizeof err));
    assert_int_equal(out.replicas, 2); /* p1 unready: counted 0 -> 100/200 = 50% */
    json_object_set_new(s.metrics, "p1", metric("100m", "2026-01-01T00:00:05Z"));
    assert_true(ctl_hpa_resource_replicas(s.pods, s.metrics, "cpu", 2, 50, 0, now, &out, err,
                                          sizeof err));
    assert_int_equal(out.replicas, 4); /* a whole window after: it counts */
    drop(s);
}

static void test_average_value_and_errors(void **state)
{
    (void)state;
    struct set s = make(2, (const char *[]){"100m", "300m"});
    struct ctl_hpa_calc out;
    char err[256];
    assert_true(ctl_hpa_resource_replicas(s.pods, s.metrics, "cpu", 2, 0, 50, t0() + HOUR_MS,
                                          &out, err, sizeof err));
    assert_int_equal(out.average_milli, 200);
    assert_int_equal(out.replicas, 8); /* ceil(2 x 200/50) */
    /* a container without a request: no utilization */
    json_t *p0 = json_array_get(s.pods, 0);
    json_t *c0 = json_array_get(json_object_get(json_object_get(p0, "spec"), "containers"), 0);
    json_object_del(c0, "resources");
    assert_false(ctl_hpa_resource_replicas(s.pods, s.metrics, "cpu", 2, 50, 0, t0() + HOUR_MS,
                                           &out, err, sizeof err));
    assert_non_null(strstr(err, "missing request for cpu in container c of Pod p0"));
    /* but averageValue does not need one */
    assert_true(ctl_hpa_resource_replicas(s.pods, s.metrics, "cpu", 2, 0, 50, t0() + HOUR_MS,
                                          &out, err, sizeof err));
    drop(s);
    json_t *none = json_array(), *m = json_object();
    assert_false(ctl_hpa_resource_replicas(none, m, "cpu", 2, 50, 0, t0(), &out, err, sizeof err));
    assert_non_null(strstr(err, "no pods returned by selector"));
    json_decref(none);
    json_decref(m);
}

static json_t *hpa(int lo, int hi, const char *behavior)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"spec\":{\"minReplicas\":%d,\"maxReplicas\":%d%s%s}}", lo, hi,
             behavior ? ",\"behavior\":" : "", behavior ? behavior : "");
    return parse(buf);
}

/* Kubernetes' defaults for a behavior with only a scale-down window. */
#define BEHAVIOR(down_window, down_policies)                                                  \
    "{\"scaleUp\":{\"stabilizationWindowSeconds\":0,\"selectPolicy\":\"Max\",\"policies\":"    \
    "[{\"type\":\"Pods\",\"value\":4,\"periodSeconds\":15},{\"type\":\"Percent\",\"value\":100," \
    "\"periodSeconds\":15}]},\"scaleDown\":{\"stabilizationWindowSeconds\":" #down_window      \
    ",\"selectPolicy\":\"Max\",\"policies\":" down_policies "}}"
#define DOWN_DEFAULT "[{\"type\":\"Percent\",\"value\":100,\"periodSeconds\":15}]"

static void test_legacy_normalize(void **state)
{
    (void)state;
    struct ctl_hpa_history *h = calloc(1, sizeof *h);
    struct ctl_hpa_verdict v;
    int64_t now = t0();
    json_t *o = hpa(1, 20, NULL);
    /* scale-up limit max(2 x current, 4) */
    assert_int_equal(ctl_hpa_normalize(o, h, 1, 10, now, &v), 4);
    assert_string_equal(v.limited_reason, "ScaleUpLimit");
    assert_true(v.limited);
    assert_int_equal(ctl_hpa_normalize(o, h, 3, 10, now, &v), 6);
    json_decref(o);
    o = hpa(2, 5, NULL);
    memset(h, 0, sizeof *h);
    assert_int_equal(ctl_hpa_normalize(o, h, 4, 10, now, &v), 5);
    assert_string_equal(v.limited_reason, "TooManyReplicas");
    /* the 300 s downscale window: 10 was recommended just now */
    assert_int_equal(ctl_hpa_normalize(o, h, 5, 2, now + 100 * 1000, &v), 5);
    assert_string_equal(v.able_reason, "ScaleDownStabilized");
    /* 10 has left the window, 2 (100 s) has not */
    assert_int_equal(ctl_hpa_normalize(o, h, 5, 1, now + 400 * 1000, &v), 2);
    assert_string_equal(v.able_reason, "ScaleDownStabilized");
    assert_string_equal(v.limited_reason, "DesiredWithinRange");
    /* then 1 is all there is, and minReplicas holds */
    assert_int_equal(ctl_hpa_normalize(o, h, 2, 1, now + 800 * 1000, &v), 2);
    assert_string_equal(v.limited_reason, "TooFewReplicas");
    assert_true(v.limited);
    assert_int_equal(ctl_hpa_normalize(o, h, 3, 3, now + 1200 * 1000, &v), 3);
    assert_string_equal(v.able_reason, "ReadyForNewScale");
    assert_string_equal(v.limited_reason, "DesiredWithinRange");
    assert_false(v.limited);
    json_decref(o);
    free(h);
}

static void test_behavior_scale_down(void **state)
{
    (void)state;
    struct ctl_hpa_history *h = calloc(1, sizeof *h);
    struct ctl_hpa_verdict v;
    int64_t now = t0();
    /* window 0, 100% per 15 s: straight down to the proposal */
    json_t *o = hpa(1, 10, BEHAVIOR(0, DOWN_DEFAULT));
    h->recs[h->n_recs++] = (struct ctl_hpa_sample){now - 1000, 6};
    assert_int_equal(ctl_hpa_normalize(o, h, 6, 2, now, &v), 2);
    assert_string_equal(v.limited_reason, "DesiredWithinRange");
    json_decref(o);
    /* window 60 s: the highest recent recommendation holds */
    memset(h, 0, sizeof *h);
    o = hpa(1, 10, BEHAVIOR(60, DOWN_DEFAULT));
    h->recs[h->n_recs++] = (struct ctl_hpa_sample){now - 30 * 1000, 6};
    assert_int_equal(ctl_hpa_normalize(o, h, 6, 2, now, &v), 6);
    assert_string_equal(v.able_reason, "ScaleDownStabilized");
    assert_int_equal(ctl_hpa_normalize(o, h, 6, 2, now + 45 * 1000, &v), 2);
    json_decref(o);
    /* one pod per minute, events counted over the period */
    memset(h, 0, sizeof *h);
    o = hpa(1, 10, BEHAVIOR(0, "[{\"type\":\"Pods\",\"value\":1,\"periodSeconds\":60}]"));
    assert_int_equal(ctl_hpa_normalize(o, h, 6, 2, now, &v), 5);
    assert_string_equal(v.limited_reason, "ScaleDownLimit");
    ctl_hpa_record_scale(o, h, 6, 5, now);
    assert_int_equal(ctl_hpa_normalize(o, h, 5, 2, now + 30 * 1000, &v), 5);
    assert_int_equal(ctl_hpa_normalize(o, h, 5, 2, now + 61 * 1000, &v), 4);
    /* minReplicas still rules */
    json_decref(o);
    o = hpa(3, 10, BEHAVIOR(0, DOWN_DEFAULT));
    memset(h, 0, sizeof *h);
    assert_int_equal(ctl_hpa_normalize(o, h, 6, 1, now, &v), 3);
    assert_string_equal(v.limited_reason, "TooFewReplicas");
    json_decref(o);
    free(h);
}

static void test_behavior_scale_up(void **state)
{
    (void)state;
    struct ctl_hpa_history *h = calloc(1, sizeof *h);
    struct ctl_hpa_verdict v;
    int64_t now = t0();
    json_t *o = hpa(1, 50, BEHAVIOR(0, DOWN_DEFAULT));
    /* max(4 pods, 100%) per 15 s */
    assert_int_equal(ctl_hpa_normalize(o, h, 2, 20, now, &v), 6);
    assert_string_equal(v.limited_reason, "ScaleUpLimit");
    assert_int_equal(ctl_hpa_normalize(o, h, 10, 30, now, &v), 20);
    /* after a scale-up of 4 in this period, no more until it ends */
    ctl_hpa_record_scale(o, h, 2, 6, now);
    assert_int_equal(ctl_hpa_normalize(o, h, 6, 20, now + 5000, &v), 6);
    assert_int_equal(ctl_hpa_normalize(o, h, 6, 20, now + 16000, &v), 12);
    /* maxReplicas */
    assert_int_equal(ctl_hpa_normalize(o, h, 40, 60, now + 60000, &v), 50);
    assert_string_equal(v.limited_reason, "TooManyReplicas");
    json_decref(o);
    /* a scale-up window: the lowest recent recommendation */
    memset(h, 0, sizeof *h);
    o = hpa(1, 50, "{\"scaleUp\":{\"stabilizationWindowSeconds\":60,\"selectPolicy\":\"Max\","
                   "\"policies\":[{\"type\":\"Pods\",\"value\":4,\"periodSeconds\":15}]},"
                   "\"scaleDown\":{\"stabilizationWindowSeconds\":0,\"policies\":"
                   DOWN_DEFAULT "}}");
    h->recs[h->n_recs++] = (struct ctl_hpa_sample){now - 30 * 1000, 3};
    assert_int_equal(ctl_hpa_normalize(o, h, 3, 8, now, &v), 3);
    assert_string_equal(v.able_reason, "ScaleUpStabilized");
    /* Disabled: no scaling up at all */
    json_decref(o);
    memset(h, 0, sizeof *h);
    o = hpa(1, 50, "{\"scaleUp\":{\"selectPolicy\":\"Disabled\",\"policies\":[]},"
                   "\"scaleDown\":{\"stabilizationWindowSeconds\":0,\"policies\":"
                   DOWN_DEFAULT "}}");
    assert_int_equal(ctl_hpa_normalize(o, h, 3, 8, now, &v), 3);
    json_decref(o);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formula_and_tolerance),
        cmocka_unit_test(test_missing_metrics),
        cmocka_unit_test(test_unready_and_ignored),
        cmocka_unit_test(test_cpu_initialization),
        cmocka_unit_test(test_average_value_and_errors),
        cmocka_unit_test(test_legacy_normalize),
        cmocka_unit_test(test_behavior_scale_down),
        cmocka_unit_test(test_behavior_scale_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
