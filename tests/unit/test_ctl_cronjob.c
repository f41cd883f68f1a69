/* test_ctl_cronjob.c — unit tests for the CronJob controller's decisions
 * (controllers/cronjob.c) over schedules parsed by kube_cron_parse: the
 * next and previous run times (ranges, steps, lists, names, descriptors,
 * the day-of-month/day-of-week rule, month ends, @every), the most recent
 * due time with missed runs and startingDeadlineSeconds, the Jobs' names
 * and bodies, and which finished Jobs the history limits delete. */
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
#include "kube/kube.h"
#include "util/util.h"
#include "tests/unit/test_json.h"

static int64_t T(const char *rfc3339)
{
    int64_t ms = util_time_parse(rfc3339);
    assert_true(ms >= 0);
    return ms / 1000;
}

static struct kube_cron S(const char *spec)
{
    struct kube_cron s;
    char err[256];
    const char *why = kube_cron_parse(spec, &s, err, sizeof err);
    if (why)
        fail_msg("%s: %s", spec, why);
    return s;
}

static void assert_next(const char *spec, const char *from, const char *want)
{
    struct kube_cron s = S(spec);
    int64_t got = ctl_cron_next(&s, NULL, T(from));
    if (got != T(want)) {
        char buf[32];
        time_t t = (time_t)got;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fail_msg("%s after %s: %s, want %s", spec, from, buf, want);
    }
}

static void test_parse(void **state)
{
    struct kube_cron s = S("*/15 9-17 * jan-mar,dec mon-fri");
    assert_true(s.minute == ((1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45)));
    assert_true(s.hour == (((1ull << 18) - 1) & ~((1ull << 9) - 1)));
    assert_true(s.month == ((1ull << 1) | (1ull << 2) | (1ull << 3) | (1ull << 12)));
    assert_true(s.dom_star);
    assert_false(s.dow_star);
    s = S("@hourly");
    assert_true(s.minute == 1 && s.dom_star && s.dow_star);
    s = S("@every 1h30m");
    assert_int_equal(s.every_s, 5400);
    char err[256];
    assert_non_null(kube_cron_parse("61 * * * *", NULL, err, sizeof err));
    assert_non_null(kube_cron_parse("* * * *", NULL, err, sizeof err));
    assert_null(kube_cron_parse("0 0 29 2 *", NULL, err, sizeof err));
}

static void test_next(void **state)
{
    assert_next("* * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z");
    assert_next("* * * * *", "2026-01-01T00:00:30Z", "2026-01-01T00:01:00Z");
    assert_next("*/15 * * * *", "2026-01-01T00:07:00Z", "2026-01-01T00:15:00Z");
    assert_next("5 4 * * *", "2026-01-01T04:05:00Z", "2026-01-02T04:05:00Z");
    assert_next("0 0 1 * *", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z");
    assert_next("0 0 31 * *", "2026-02-01T00:00:00Z", "2026-03-31T00:00:00Z");
    assert_next("0 0 29 2 *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
    assert_next("@yearly", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z");
    assert_next("@weekly", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"); /* a Sunday */
    assert_next("30 6-16/4 * * 1-5", "2026-01-02T15:00:00Z", "2026-01-05T06:30:00Z");
    /* both day fields restricted: either matches (the 13th, or a Friday) */
    assert_next("0 0 13 * 5", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    assert_next("0 0 13 * 5", "2026-01-10T00:00:00Z", "2026-01-13T00:00:00Z");
    /* "*" in one of them: both must match (the Mondays only) */
    assert_next("0 0 * * mon", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z");
    assert_next("0 12 * * *", "2026-12-31T23:00:00Z", "2027-01-01T12:00:00Z");
    struct kube_cron s = S("@every 90s");
    assert_int_equal(ctl_cron_next(&s, NULL, 1000), 1090);
}

static void test_prev(void **state)
{
    struct kube_cron s = S("*/15 * * * *");
    assert_int_equal(ctl_cron_prev(&s, NULL, T("2026-01-01T00:14:59Z")), T("2026-01-01T00:00:00Z"));
    assert_int_equal(ctl_cron_prev(&s, NULL, T("2026-01-01T00:15:00Z")), T("2026-01-01T00:15:00Z"));
    s = S("0 0 1 * *");
    assert_int_equal(ctl_cron_prev(&s, NULL, T("2026-03-15T10:00:00Z")), T("2026-03-01T00:00:00Z"));
    s = S("30 23 31 * *");
    assert_int_equal(ctl_cron_prev(&s, NULL, T("2026-05-01T00:00:00Z")), T("2026-03-31T23:30:00Z"));
    s = S("0 9 * * 1-5");
    assert_int_equal(ctl_cron_prev(&s, NULL, T("2026-01-04T12:00:00Z")), T("2026-01-02T09:00:00Z"));
}

static void test_most_recent(void **state)
{
    struct kube_cron s = S("* * * * *");
    int64_t missed;
    /* created 00:00:30, now 00:00:50: nothing due */
    assert_int_equal(
        ctl_cron_most_recent(&s, NULL, T("2026-01-01T00:00:30Z"), T("2026-01-01T00:00:50Z"), -1, &missed),
        -1);
    /* one due */
    assert_int_equal(
        ctl_cron_most_recent(&s, NULL, T("2026-01-01T00:00:30Z"), T("2026-01-01T00:01:10Z"), -1, &missed),
        T("2026-01-01T00:01:00Z"));
    assert_int_equal(missed, 1);
    /* the last ran at 00:01; now 00:05:30: four missed, the latest is run */
    assert_int_equal(
        ctl_cron_most_recent(&s, NULL, T("2026-01-01T00:01:00Z"), T("2026-01-01T00:05:30Z"), -1, &missed),
        T("2026-01-01T00:05:00Z"));
    assert_int_equal(missed, 4);
    /* a controller down for a week: many missed */
    s = S("0 * * * *");
    assert_int_equal(ctl_cron_most_recent(&s, NULL, T("2026-01-01T00:00:00Z"),
                                          T("2026-01-08T00:30:00Z"), -1, &missed),
                     T("2026-01-08T00:00:00Z"));
    assert_true(missed > 100);
    /* startingDeadlineSeconds: older times are not considered at all */
    assert_int_equal(ctl_cron_most_recent(&s, NULL, T("2026-01-01T00:00:00Z"),
                                          T("2026-01-08T00:30:00Z"), 600, &missed),
                     -1);
    assert_int_equal(ctl_cron_most_recent(&s, NULL, T("2026-01-01T00:00:00Z"),
                                          T("2026-01-08T00:05:00Z"), 600, &missed),
                     T("2026-01-08T00:00:00Z"));
    assert_int_equal(missed, 1);
    s = S("@every 1m");
    assert_int_equal(
        ctl_cron_most_recent(&s, NULL, T("2026-01-01T00:00:00Z"), T("2026-01-01T00:03:30Z"), -1, &missed),
        T("2026-01-01T00:03:00Z"));
    assert_int_equal(missed, 3);
}

static void test_new_job(void **state)
{
    char name[64];
    ctl_cron_job_name("hello", T("2026-01-01T00:05:00Z"), name, sizeof name);
    assert_string_equal(name, "hello-29453765");
    json_t *cj = J("{'metadata':{'name':'hello','namespace':'t','uid':'cj-uid'},'spec':{"
                   "'schedule':'* * * * *','jobTemplate':{'metadata':{'labels':{'app':'x'},"
                   "'annotations':{'note':'y'}},'spec':{'completions':2,'template':{'spec':{"
                   "'restartPolicy':'Never','containers':[{'name':'c','image':'i'}]}}}}}}");
    json_t *job = ctl_cron_new_job(cj, NULL, T("2026-01-01T00:05:00Z"));
    json_t *md = json_object_get(job, "metadata");
    assert_string_equal(json_string_value(json_object_get(md, "name")), "hello-29453765");
    assert_string_equal(json_string_value(json_object_get(json_object_get(md, "labels"), "app")),
                        "x");
    json_t *ann = json_object_get(md, "annotations");
    assert_string_equal(json_string_value(json_object_get(ann, "note")), "y");
    assert_string_equal(json_string_value(json_object_get(
                            ann, "batch.kubernetes.io/cronjob-scheduled-timestamp")),
                        "2026-01-01T00:05:00Z");
    json_t *ref = json_array_get(json_object_get(md, "ownerReferences"), 0);
    assert_string_equal(json_string_value(json_object_get(ref, "kind")), "CronJob");
    assert_string_equal(json_string_value(json_object_get(ref, "uid")), "cj-uid");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(job, "spec"),
                                                        "completions")),
                     2);
    json_decref(job);
    json_decref(cj);
}

static json_t *finished_job(const char *name, const char *type, const char *start)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'%s'},'status':{'startTime':'%s','conditions':[{'type':'%s',"
             "'status':'True'}]}}",
             name, start, type);
    return J(buf);
}

static void test_history(void **state)
{
    json_t *cj = J("{'spec':{'successfulJobsHistoryLimit':2,'failedJobsHistoryLimit':1}}");
    json_t *jobs = json_pack(
        "[o,o,o,o,o,o]", finished_job("s3", "Complete", "2026-01-01T00:03:00Z"),
        finished_job("s1", "Complete", "2026-01-01T00:01:00Z"),
        finished_job("s2", "Complete", "2026-01-01T00:02:00Z"),
        finished_job("f1", "Failed", "2026-01-01T00:01:30Z"),
        finished_job("f2", "Failed", "2026-01-01T00:02:30Z"),
        J("{'metadata':{'name':'running'},'status':{'startTime':'2026-01-01T00:00:00Z'}}"));
    json_t *del = ctl_cron_history_to_delete(cj, jobs);
    assert_int_equal(json_array_size(del), 2);
    const char *a = json_string_value(
        json_object_get(json_object_get(json_array_get(del, 0), "metadata"), "name"));
    const char *b = json_string_value(
        json_object_get(json_object_get(json_array_get(del, 1), "metadata"), "name"));
    assert_string_equal(a, "s1");
    assert_string_equal(b, "f1");
    json_decref(del);
    json_object_set_new(json_object_get(cj, "spec"), "successfulJobsHistoryLimit",
                        json_integer(0));
    del = ctl_cron_history_to_delete(cj, jobs);
    assert_int_equal(json_array_size(del), 4);
    json_decref(del);
    json_decref(jobs);
    json_decref(cj);
}

/* Run times in a zone, DST included, as robfig/cron steps through them. */
static void assert_next_in(const char *zone, const char *spec, const char *from, const char *want)
{
    char err[160];
    struct util_tz *tz = util_tz_load(NULL, zone, err, sizeof err);
    if (!tz)
        fail_msg("%s (make deps installs tzdata)", err);
    struct kube_cron s = S(spec);
    int64_t got = ctl_cron_next(&s, tz, T(from));
    util_tz_free(tz);
    if (got != T(want))
        fail_msg("%s in %s after %s: %lld, want %s (%lld)", spec, zone, from, (long long)got,
                 want, (long long)T(want));
}

static void test_time_zones(void **state)
{
    (void)state;
    /* Kolkata is +05:30: its top of the hour is :30 UTC. */
    assert_next_in("Asia/Kolkata", "0 * * * *", "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z");
    assert_next_in("Asia/Kolkata", "0 9 * * *", "2026-01-01T00:00:00Z", "2026-01-01T03:30:00Z");
    /* New York springs forward on 2026-03-08 (02:00 -> 03:00): 02:30 does
     * not happen that day, the next is the 9th's, in EDT. */
    assert_next_in("America/New_York", "30 2 * * *", "2026-03-07T08:00:00Z",
                   "2026-03-09T06:30:00Z");
    assert_next_in("America/New_York", "0 3 * * *", "2026-03-08T05:00:00Z",
                   "2026-03-08T07:00:00Z");
    /* It falls back on 2026-11-01 (02:00 -> 01:00): 01:30 happens twice and
     * runs twice (EDT, then EST), then the next day's in EST. */
    assert_next_in("America/New_York", "30 1 * * *", "2026-11-01T04:00:00Z",
                   "2026-11-01T05:30:00Z");
    assert_next_in("America/New_York", "30 1 * * *", "2026-11-01T05:30:00Z",
                   "2026-11-01T06:30:00Z");
    assert_next_in("America/New_York", "30 1 * * *", "2026-11-01T06:30:00Z",
                   "2026-11-02T06:30:00Z");
    /* A daily run across the change keeps its wall-clock time. */
    assert_next_in("America/New_York", "0 12 * * *", "2026-03-07T18:00:00Z",
                   "2026-03-08T16:00:00Z");
    /* Past the file's transitions (2037), its footer's rule. */
    assert_next_in("America/New_York", "0 12 1 * *", "2040-06-15T00:00:00Z",
                   "2040-07-01T16:00:00Z");
    assert_next_in("America/New_York", "0 12 1 * *", "2039-12-15T00:00:00Z",
                   "2040-01-01T17:00:00Z");
    /* The southern hemisphere: DST across the new year. */
    assert_next_in("Australia/Sydney", "0 9 15 * *", "2040-01-01T00:00:00Z",
                   "2040-01-14T22:00:00Z");
    assert_next_in("Australia/Sydney", "0 9 15 * *", "2040-07-01T00:00:00Z",
                   "2040-07-14T23:00:00Z");

    char err[160];
    struct util_tz *kol = util_tz_load(NULL, "Asia/Kolkata", err, sizeof err);
    assert_non_null(kol);
    struct kube_cron s = S("0 * * * *");
    assert_int_equal(ctl_cron_prev(&s, kol, T("2026-01-01T01:10:00Z")), T("2026-01-01T00:30:00Z"));
    assert_int_equal(ctl_cron_prev(&s, kol, T("2026-01-01T00:30:00Z")), T("2026-01-01T00:30:00Z"));
    int64_t missed;
    assert_int_equal(ctl_cron_most_recent(&s, kol, T("2026-01-01T00:00:00Z"),
                                          T("2026-01-01T02:45:00Z"), -1, &missed),
                     T("2026-01-01T02:30:00Z"));
    assert_int_equal(missed, 3);
    /* The Job's scheduled-timestamp annotation is in the zone. */
    json_t *cj = J("{'metadata':{'name':'c','namespace':'ns','uid':'u'},'spec':{'jobTemplate':"
                   "{'spec':{}}}}");
    json_t *job = ctl_cron_new_job(cj, kol, T("2026-01-01T00:30:00Z"));
    json_t *ann = json_object_get(json_object_get(job, "metadata"), "annotations");
    assert_string_equal(json_string_value(json_object_get(
                            ann, "batch.kubernetes.io/cronjob-scheduled-timestamp")),
                        "2026-01-01T06:00:00+05:30");
    json_decref(job);
    job = ctl_cron_new_job(cj, NULL, T("2026-01-01T00:30:00Z"));
    ann = json_object_get(json_object_get(job, "metadata"), "annotations");
    assert_string_equal(json_string_value(json_object_get(
                            ann, "batch.kubernetes.io/cronjob-scheduled-timestamp")),
                        "2026-01-01T00:30:00Z");
    json_decref(job);
    json_decref(cj);
    util_tz_free(kol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_next),
        cmocka_unit_test(test_prev),        cmocka_unit_test(test_most_recent),
        cmocka_unit_test(test_new_job),     cmocka_unit_test(test_history),
        cmocka_unit_test(test_time_zones),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
