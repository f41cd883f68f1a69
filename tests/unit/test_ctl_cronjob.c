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
    int64_t got = ctl_cron_next(&s, T(from));
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
    assert_int_equal(ctl_cron_next(&s, 1000), 1090);
}

static void test_prev(void **state)
{
    struct kube_cron s = S("*/15 * * * *");
    assert_int_equal(ctl_cron_prev(&s, T("2026-01-01T00:14:59Z")), T("2026-01-01T00:00:00Z"));
    assert_int_equal(ctl_cron_prev(&s, T("2026-01-01T00:15:00Z")), T("2026-01-01T00:15:00Z"));
    s = S("0 0 1 * *");
    assert_int_equal(ctl_cron_prev(&s, T("2026-03-15T10:00:00Z")), T("2026-03-01T00:00:00Z"));
    s = S("30 23 31 * *");
    assert_int_equal(ctl_cron_prev(&s, T("2026-05-01T00:00:00Z")), T("2026-03-31T23:30:00Z"));
    s = S("0 9 * * 1-5");
    assert_int_equal(ctl_cron_prev(&s, T("2026-01-04T12:00:00Z")), T("2026-01-02T09:00:00Z"));
}

static void test_most_recent(void **state)
{
    struct kube_cron s = S("* * * * *");
    int64_t missed;
    /* created 00:00:30, now 00:00:50: nothing due */
    assert_int_equal(
        ctl_cron_most_recent(&s, T("2026-01-01T00:00:30Z"), T("2026-01-01T00:00:50Z"), -1, &missed),
        -1);
    /* one due */
    assert_int_equal(
        ctl_cron_most_recent(&s, T("2026-01-01T00:00:30Z"), T("2026-01-01T00:01:10Z"), -1, &missed),
        T("2026-01-01T00:01:00Z"));
    assert_int_equal(missed, 1);
    /* the last ran at 00:01; now 00:05:30: four missed, the latest is run */
    assert_int_equal(
        ctl_cron_most_recent(&s, T("2026-01-01T00:01:00Z"), T("2026-01-01T00:05:30Z"), -1, &missed),
        T("2026-01-01T00:05:00Z"));
    assert_int_equal(missed, 4);
    /* a controller down for a week: many missed */
    s = S("0 * * * *");
    assert_int_equal(ctl_cron_most_recent(&s, T("2026-01-01T00:00:00Z"),
                                          T("2026-01-08T00:30:00Z"), -1, &missed),
                     T("2026-01-08T00:00:00Z"));
    assert_true(missed > 100);
    /* startingDeadlineSeconds: older times are not considered at all */
    assert_int_equal(ctl_cron_most_recent(&s, T("2026-01-01T00:00:00Z"),
                                          T("2026-01-08T00:30:00Z"), 600, &missed),
                     -1);
    assert_int_equal(ctl_cron_most_recent(&s, T("2026-01-01T00:00:00Z"),
                                          T("2026-01-08T00:05:00Z"), 600, &missed),
                     T("2026-01-08T00:00:00Z"));
    assert_int_equal(missed, 1);
    s = S("@every 1m");
    assert_int_equal(
        ctl_cron_most_recent(&s, T("2026-01-01T00:00:00Z"), T("2026-01-01T00:03:30Z"), -1, &missed),
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
    json_t *job = ctl_cron_new_job(cj, T("2026-01-01T00:05:00Z"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_next),
        cmocka_unit_test(test_prev),        cmocka_unit_test(test_most_recent),
        cmocka_unit_test(test_new_job),     cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
