/* test_chaos_ctl.c — unit tests for the controller invariants of `bosun
 * chaos --workload controllers` (tools/chaos_ctl.c, reading
 * controllers.jsonl).
 *
 * One small record tells a healthy story: StatefulSet sts-a (OrderedReady,
 * 2 replicas) gets pod 0 bound, Running and Ready before pod 1 is created;
 * ReplicaSet rs-a gets its one pod; Job j (2 completions, parallelism 1)
 * runs pod j-a to success, counts it, then pod j-b, counts it, and is
 * Complete. The Pod stream is resumed after a bookmark, as the recorder
 * does. That record must PASS. Each mutation below — a pod bound a second
 * time, two pods with one ordinal, an OrderedReady pod created before its
 * predecessor was Ready, a Job above its parallelism, a Job counting a
 * success no pod had, or more than its completions, a ReplicaSet short of
 * its replicas at the end, a Job never finished, a pod left terminating, a
 * stream out of order, a resume from the wrong revision — must FAIL with
 * words that name it. Malformed lines are refused with their line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/chaos_internal.h"

enum {
    M_REBIND = 1 << 0,
    M_DUP_ORDINAL = 1 << 1,
    M_EARLY = 1 << 2,
    M_OVER_PARALLEL = 1 << 3,
    M_OVERCOUNT = 1 << 4,
    M_OVER_COMPLETIONS = 1 << 5,
    M_RS_SHORT = 1 << 6,
    M_JOB_UNFINISHED = 1 << 7,
    M_TERMINATING = 1 << 8,
    M_REORDER = 1 << 9,
    M_BAD_RESUME = 1 << 10,
};

static void line(struct ubuf *b, const char *kind, const char *type, unsigned rv, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));
static void line(struct ubuf *b, const char *kind, const char *type, unsigned rv, const char *fmt,
                 ...)
{
    char obj[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(obj, sizeof obj, fmt, ap);
    va_end(ap);
    ubuf_appendf(b, "{\"t\":%u,\"kind\":\"%s\",\"type\":\"%s\",\"rv\":\"%u\",\"object\":{%s}}\n",
                 rv, kind, type, rv, obj);
}

/* A pod's summary: name (uid "u-NAME"), owner kind and uid, node, phase,
 * ready, deleting, index. */
static void pod(struct ubuf *b, const char *type, unsigned rv, const char *name,
                const char *owner, const char *owner_uid, const char *node, const char *phase,
                bool ready, bool deleting, int index)
{
    line(b, "Pod", type, rv,
         "\"name\":\"%s\",\"uid\":\"u-%s\",\"owner\":\"%s\",\"owner_uid\":\"%s\",\"node\":\"%s\","
         "\"phase\":\"%s\",\"ready\":%s,\"deleting\":%s,\"index\":%d",
         name, name, owner, owner_uid, node, phase, ready ? "true" : "false",
         deleting ? "true" : "false", index);
}

static void sts_pod(struct ubuf *b, const char *type, unsigned rv, int i, const char *node,
                    const char *phase, bool ready)
{
    char name[16];
    snprintf(name, sizeof name, "sts-a-%d", i);
    pod(b, type, rv, name, "StatefulSet", "S", node, phase, ready, false, i);
}

static void job(struct ubuf *b, const char *type, unsigned rv, int succeeded, bool complete)
{
    line(b, "Job", type, rv,
         "\"name\":\"j\",\"uid\":\"J\",\"parallelism\":1,\"completions\":2,\"indexed\":false,"
         "\"succeeded\":%d,\"complete\":%s,\"failed\":false",
         succeeded, complete ? "true" : "false");
}

static void rs(struct ubuf *b, const char *type, unsigned rv, int replicas, int status)
{
    line(b, "ReplicaSet", type, rv,
         "\"name\":\"rs-a\",\"uid\":\"R\",\"replicas\":%d,\"status_replicas\":%d", replicas, status);
}

static void lists(struct ubuf *b)
{
    static const char *const kinds[] = {"Pod", "Job", "StatefulSet", "ReplicaSet"};
    for (int k = 0; k < 4; k++)
        ubuf_appendf(b, "{\"t\":1,\"kind\":\"%s\",\"open\":\"list\",\"rv\":\"5\",\"server\":\"s1\","
                        "\"items\":[]}\n",
                     kinds[k]);
    ubuf_appendf(b, "{\"t\":2,\"driver\":\"create StatefulSet sts-a\",\"status\":201}\n");
}

static void story_sts(struct ubuf *b, unsigned m)
{
    line(b, "StatefulSet", "ADDED", 10,
         "\"name\":\"sts-a\",\"uid\":\"S\",\"replicas\":2,\"ordered\":true,\"ready_replicas\":0");
    sts_pod(b, "ADDED", 20, 0, "", "Pending", false);
    sts_pod(b, "MODIFIED", 30, 0, "n1", "Pending", false);
    sts_pod(b, "MODIFIED", 40, 0, "n1", "Running", !(m & M_EARLY));
    sts_pod(b, "ADDED", 50, 1, "", "Pending", false);
    if (m & M_EARLY)
        sts_pod(b, "MODIFIED", 55, 0, "n1", "Running", true);
    sts_pod(b, "MODIFIED", 60, 1, "n2", "Pending", false);
    sts_pod(b, "MODIFIED", 70, 1, "n2", "Running", true);
    if (m & M_DUP_ORDINAL)
        pod(b, "ADDED", 75, "sts-a-1x", "StatefulSet", "S", "n1", "Running", true, false, 1);
    line(b, "StatefulSet", "MODIFIED", 80,
         "\"name\":\"sts-a\",\"uid\":\"S\",\"replicas\":2,\"ordered\":true,\"ready_replicas\":2");
}

static void story_rs(struct ubuf *b, unsigned m)
{
    rs(b, "ADDED", 90, 1, 0);
    pod(b, "ADDED", 100, "rs-a-x", "ReplicaSet", "R", "", "Pending", false, false, -1);
    pod(b, "MODIFIED", 110, "rs-a-x", "ReplicaSet", "R", "n1", "Running", true, false, -1);
    rs(b, "MODIFIED", 120, 1, 1);
    if (m & M_RS_SHORT)
        rs(b, "MODIFIED", 125, 2, 1);
}

static void story_job(struct ubuf *b, unsigned m)
{
    job(b, "ADDED", 130, 0, false);
    pod(b, "ADDED", 140, "j-a", "Job", "J", "", "Pending", false, false, -1);
    pod(b, "MODIFIED", 150, "j-a", "Job", "J", "n2", "Running", true, false, -1);
    if (m & M_OVER_PARALLEL)
        pod(b, "ADDED", 155, "j-b", "Job", "J", "", "Pending", false, false, -1);
    if (m & M_OVERCOUNT)
        job(b, "MODIFIED", 157, 1, false);
    pod(b, "MODIFIED", 160, "j-a", "Job", "J", "n2", "Succeeded", false, false, -1);
    job(b, "MODIFIED", 170, 1, false);
    if (!(m & M_OVER_PARALLEL))
        pod(b, "ADDED", 180, "j-b", "Job", "J", "", "Pending", false, false, -1);
    pod(b, "MODIFIED", 190, "j-b", "Job", "J", "n1", "Succeeded", false, false, -1);
    job(b, "MODIFIED", 200, (m & M_OVER_COMPLETIONS) ? 3 : 2, !(m & M_JOB_UNFINISHED));
}

static void story_end(struct ubuf *b, unsigned m)
{
    if (m & M_REBIND)
        sts_pod(b, "MODIFIED", 210, 0, "n2", "Running", true);
    if (m & M_TERMINATING)
        pod(b, "MODIFIED", 220, "rs-a-x", "ReplicaSet", "R", "n1", "Running", true, true, -1);
    ubuf_appendf(b, "{\"t\":3,\"kind\":\"Pod\",\"type\":\"BOOKMARK\",\"rv\":\"230\"}\n"
                    "{\"t\":3,\"kind\":\"Pod\",\"close\":\"eof\"}\n"
                    "{\"t\":3,\"kind\":\"Pod\",\"open\":\"resume\",\"rv\":\"%s\",\"server\":\"s2\"}\n",
                 (m & M_BAD_RESUME) ? "240" : "230");
    if (m & M_REORDER)
        pod(b, "MODIFIED", 225, "rs-a-x", "ReplicaSet", "R", "n1", "Running", true, false, -1);
}

static void story(struct ubuf *b, unsigned m)
{
    lists(b);
    story_sts(b, m);
    story_rs(b, m);
    story_job(b, m);
    story_end(b, m);
}

struct run {
    struct chaos_ctl *c;
    struct chaos_ctl_result r;
};

static void check(struct run *x, unsigned m)
{
    struct ubuf b = {0};
    story(&b, m);
    char err[512] = "";
    if (chaos_ctl_parse(&x->c, b.data, b.len, err, sizeof err) != 0)
        fail_msg("parse: %s", err);
    chaos_ctl_check(x->c, &x->r);
    ubuf_append(&x->r.text, "", 1);
    ubuf_free(&b);
}

static void run_free(struct run *x)
{
    chaos_ctl_result_free(&x->r);
    chaos_ctl_free(x->c);
}

static void test_healthy_story_passes(void **state)
{
    (void)state;
    struct run x;
    check(&x, 0);
    if (!x.r.ok)
        fail_msg("want PASS, got:\n%s", x.r.text.data);
    assert_int_equal(x.r.violations, 0);
    assert_non_null(strstr(x.r.text.data, "controllers  PASS (20 changes of 5 pods, 1 jobs, "
                                          "1 statefulsets, 1 replicasets; 1 driver changes, 0 not "
                                          "acknowledged; 1 resumes, 0 410s)"));
    run_free(&x);
}

static const struct {
    const char *what;
    unsigned m;
    const char *words;
} failing[] = {
    {"a pod bound twice", M_REBIND,
     "at rv 210: pod sts-a-0 (uid u-sts-a-0) was bound to n1 at rv 30, now to n2"},
    {"two pods with one ordinal", M_DUP_ORDINAL,
     "at rv 75: pod sts-a-1x (uid u-sts-a-1x) created while pod sts-a-1 (uid u-sts-a-1) has "
     "ordinal 1 of the same StatefulSet"},
    {"OrderedReady out of order", M_EARLY,
     "at rv 50: pod sts-a-1 created (OrderedReady) while ordinal 0 had never been Ready"},
    {"a job above its parallelism", M_OVER_PARALLEL,
     "at rv 155: job j has 2 active pods, parallelism 1"},
    {"a job counting a success no pod had", M_OVERCOUNT,
     "at rv 157: job j counts 1 succeeded, but only 0 distinct pods succeeded"},
    {"a job counting more than its completions", M_OVER_COMPLETIONS,
     "at rv 200: job j counts 3 succeeded, completions 2"},
    {"a replicaset short at the end", M_RS_SHORT,
     "at the end: replicaset rs-a has 1 live pods and status.replicas 1, replicas 2"},
    {"a job never finished", M_JOB_UNFINISHED,
     "at the end: job j is not finished with 2 succeeded of 2 completions and 0 active pods"},
    {"a pod left terminating", M_TERMINATING, "at the end: pod rs-a-x is still terminating"},
    {"a stream out of order", M_REORDER,
     "the Pod watch delivered rv 225 after rv 230 (line 29): out of order or duplicated"},
    {"a resume from the wrong revision", M_BAD_RESUME,
     "the Pod watch resumed from rv 240, but its last revision was 230"},
};

static void test_violations_fail(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        struct run x;
        check(&x, failing[i].m);
        if (x.r.ok || !strstr(x.r.text.data, failing[i].words))
            fail_msg("%s: want FAIL with \"%s\", got:\n%s", failing[i].what, failing[i].words,
                     x.r.text.data);
        run_free(&x);
    }
}

/* The whole check: a controllers FAIL fails the verdict and is the anomaly. */
static void test_verdict_names_controllers(void **state)
{
    (void)state;
    struct chaos_history h;
    chaos_history_init(&h);
    const char *hist = "{\"id\":0,\"client\":0,\"f\":\"create\",\"key\":\"chaos/k1\","
                       "\"value\":\"a\",\"invoke\":1,\"complete\":2,\"result\":\"ok\","
                       "\"rv\":\"3\"}\n";
    char err[512] = "";
    assert_int_equal(chaos_history_parse(&h, hist, strlen(hist), err, sizeof err), 0);
    struct ubuf b = {0};
    story(&b, M_OVER_PARALLEL);
    assert_int_equal(chaos_ctl_parse(&h.ctl, b.data, b.len, err, sizeof err), 0);
    struct chaos_options o = {0};
    struct chaos_report r;
    chaos_check_history(&h, &o, &r);
    ubuf_append(&r.text, "", 1);
    ubuf_append(&r.json, "", 1);
    assert_int_equal(r.verdict, CHAOS_FAILED);
    assert_false(r.ctl_ok);
    assert_non_null(strstr(r.text.data, "controllers  FAIL"));
    assert_non_null(strstr(r.json.data, "\"controllers\":\"FAIL\""));
    assert_non_null(strstr(r.json.data, "\"anomaly\":{\"kind\":\"controllers\",\"why\":\"job j "
                                        "has 2 active pods, parallelism 1\"}"));
    chaos_report_free(&r);
    ubuf_free(&b);
    chaos_history_free(&h);
}

static void expect_parse_error(const char *text, const char *needle)
{
    struct chaos_ctl *c = NULL;
    char err[512] = "";
    if (chaos_ctl_parse(&c, text, strlen(text), err, sizeof err) == 0 || !strstr(err, needle))
        fail_msg("want an error with \"%s\", got \"%s\"", needle, err);
    chaos_ctl_free(c);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_parse_error("{\"t\":1,\"kind\":\"Pod\",\"type\":\"ADDED\",\"rv\":3,"
                       "\"object\":{\"name\":\"a\",\"uid\":\"b\"}}\n",
                       "line 1: an event before the kind's first list");
    expect_parse_error("{\"t\":1,\"kind\":\"Node\",\"open\":\"list\",\"rv\":3,\"items\":[]}\n",
                       "\"kind\" must be");
    expect_parse_error("{\"t\":1,\"kind\":\"Pod\",\"open\":\"list\",\"rv\":3,\"items\":[]}\n"
                       "{\"t\":1,\"kind\":\"Pod\",\"type\":\"ADDED\",\"rv\":4,"
                       "\"object\":{\"name\":\"a\"}}\n",
                       "line 2: an object needs \"name\" and \"uid\"");
    expect_parse_error("{\"t\":1,\"kind\":\"Pod\",\"open\":\"resume\",\"rv\":3}\n",
                       "a resume before the kind's first list");
    expect_parse_error("{\"t\":1,\"kind\":\"Pod\",\"open\":\"list\",\"rv\":0,\"items\":[]}\n",
                       "an opening needs \"rv\"");
    expect_parse_error("{\"t\":1,\"kind\":\"Pod\",\"open\":\"list\",\"rv\":3,\"items\":[]}\n"
                       "{\"t\":1,\"kind\":\"Pod\",\"type\":\"ADDED\",\"rv\":4,\"object\":{\"name\":"
                       "\"a\",\"uid\":\"b\",\"owner\":\"Job\"}}\n",
                       "\"owner\" (a kind) and \"owner_uid\" go together");
    expect_parse_error("{\"t\":1,\"kind\":\"Pod\"}\n", "a line needs");
    expect_parse_error("[1]\n", "line 1: not a JSON object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthy_story_passes),
        cmocka_unit_test(test_violations_fail),
        cmocka_unit_test(test_verdict_names_controllers),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
