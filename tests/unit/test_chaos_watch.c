/* test_chaos_watch.c — unit tests for the watch check of `bosun chaos`
 * (tools/chaos_watch.c, and the watch.jsonl reader in chaos_history.c).
 *
 * One small history (client 0 creates chaos/k1 = "a" at revision 10,
 * client 1 updates it to "b" at 11, client 2 deletes it — at 12, which only
 * a watch can tell — and client 3 creates it again as "c" at 13) is watched
 * on two servers. Each server's lines are written in a little script:
 *   L9     a stream opened after a LIST at 9 (nothing listed)
 *   R11    a stream resumed from 11
 *   11     the event at 11 (as the log has it); 11=x: with value "x"
 *   B14    a bookmark at 14
 *   X      the stream closed (broken)
 *   E11/H  410 Expired to a resume from 11, change log of H revisions (0:
 *          not said)
 *   T3.5   the next line at 3.5 ms (else 1 ms after the one before)
 * The ordered, complete watch — with reconnects, a resume, bookmarks —
 * must PASS; a gap, a duplicate, a reorder, a divergent value between
 * servers, a resume that skipped its first change, a bookmark past a
 * skipped change, a delete no server delivered, a resume from beyond what
 * was delivered and a 410 for a revision the log still held must each
 * FAIL with words that name the revision. Without watch.jsonl the check is
 * NOT RUN; malformed lines are refused with their line number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/chaos_internal.h"

/* ---------------------------------------------------------------- the history */

/* The changes of the log: revision, type, value. */
static const struct {
    unsigned rv;
    const char *type, *value;
} changes[] = {{10, "ADDED", "a"}, {11, "MODIFIED", "b"}, {12, "DELETED", "b"}, {13, "ADDED", "c"}};

static void history(struct ubuf *b)
{
    ubuf_appendf(b, "{\"id\":0,\"client\":0,\"f\":\"create\",\"key\":\"chaos/k1\",\"value\":\"a\","
                    "\"invoke\":1000000,\"complete\":2000000,\"result\":\"ok\",\"rv\":\"10\"}\n"
                    "{\"id\":1,\"client\":1,\"f\":\"update\",\"key\":\"chaos/k1\",\"value\":\"b\","
                    "\"expect_rv\":\"10\",\"invoke\":3000000,\"complete\":4000000,"
                    "\"result\":\"ok\",\"rv\":\"11\"}\n"
                    "{\"id\":2,\"client\":2,\"f\":\"delete\",\"key\":\"chaos/k1\","
                    "\"invoke\":5000000,\"complete\":6000000,\"result\":\"ok\"}\n"
                    "{\"id\":3,\"client\":3,\"f\":\"create\",\"key\":\"chaos/k1\",\"value\":\"c\","
                    "\"invoke\":7000000,\"complete\":8000000,\"result\":\"ok\",\"rv\":\"13\"}\n");
}

static const char *final_json = "{\"servers\":{\"s1\":{\"chaos/k1\":{\"value\":\"c\",\"rv\":13}},"
                                "\"s2\":{\"chaos/k1\":{\"value\":\"c\",\"rv\":13}}}}";

/* ---------------------------------------------------------------- the scripts */

/* The rest of an event's line: "11" or "11=x". */
static void event_body(struct ubuf *b, const char *tok)
{
    char *end;
    unsigned rv = (unsigned)strtoul(tok, &end, 10);
    const char *type = "MODIFIED", *value = *end == '=' ? end + 1 : NULL;
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++)
        if (changes[i].rv == rv) {
            type = changes[i].type;
            value = value ? value : changes[i].value;
        }
    ubuf_appendf(b, "\"type\":\"%s\",\"key\":\"chaos/k1\",\"rv\":\"%u\",\"value\":\"%s\"}\n",
                 type, rv, value ? value : "?");
}

/* One server's lines from its script; the first at t0 ms, then 1 ms apart
 * (T<ms> sets the time of the next). */
static void script(struct ubuf *b, const char *server, double t0, const char *s)
{
    char tok[32];
    int n;
    unsigned rv, hist;
    for (double t = t0; sscanf(s, " %31s%n", tok, &n) == 1; s += n, t += 1) {
        if (tok[0] == 'T') {
            t = atof(tok + 1) - 1;
            continue;
        }
        ubuf_appendf(b, "{\"server\":\"%s\",\"t\":%lld,", server, (long long)(t * 1e6));
        rv = (unsigned)atoi(tok + 1);
        if (tok[0] == 'L')
            ubuf_appendf(b, "\"open\":\"list\",\"rv\":%u}\n", rv);
        else if (tok[0] == 'R')
            ubuf_appendf(b, "\"open\":\"resume\",\"rv\":%u}\n", rv);
        else if (tok[0] == 'B')
            ubuf_appendf(b, "\"type\":\"BOOKMARK\",\"rv\":%u}\n", rv);
        else if (tok[0] == 'X')
            ubuf_appendf(b, "\"close\":\"broken\"}\n");
        else if (tok[0] == 'E' && sscanf(tok + 1, "%u/%u", &rv, &hist) == 2 && hist)
            ubuf_appendf(b, "\"expired\":\"%u\",\"history\":%u}\n", rv, hist);
        else if (tok[0] == 'E')
            ubuf_appendf(b, "\"expired\":\"%u\"}\n", rv);
        else
            event_body(b, tok);
    }
}

/* The history, final.json and the watch of s1 and s2 checked together. */
struct run {
    struct chaos_history h;
    struct chaos_report r;
};

static void check(struct run *x, const char *s1, const char *s2)
{
    struct ubuf hist = {0}, w = {0};
    char err[512];
    history(&hist);
    chaos_history_init(&x->h);
    if (chaos_history_parse(&x->h, hist.data, hist.len, err, sizeof err) < 0 ||
        chaos_final_parse(&x->h, final_json, strlen(final_json), err, sizeof err) < 0)
        fail_msg("history: %s", err);
    if (s1 || s2) {
        script(&w, "s1", 0.5, s1 ? s1 : "");
        script(&w, "s2", 0.7, s2 ? s2 : "");
        x->h.watch = xcalloc(1, sizeof *x->h.watch);
        if (chaos_watch_parse(x->h.watch, w.data, w.len, err, sizeof err) < 0)
            fail_msg("watch: %s\n%s", err, w.data);
    }
    struct chaos_options o = {0};
    chaos_check_history(&x->h, &o, &x->r);
    ubuf_append(&x->r.text, "", 1);
    ubuf_free(&hist);
    ubuf_free(&w);
}

static void run_free(struct run *x)
{
    chaos_report_free(&x->r);
    chaos_history_free(&x->h);
}

static void expect(const char *s1, const char *s2, enum chaos_verdict want, const char *needle)
{
    struct run x;
    check(&x, s1, s2);
    if (x.r.verdict != want || (needle && !strstr(x.r.text.data, needle)))
        fail_msg("want verdict %d with \"%s\", got %d:\n%s%s", want, needle ? needle : "",
                 x.r.verdict, x.r.text.data, x.r.json.data);
    run_free(&x);
}

/* The good s1: one stream from a list, every change, a bookmark. */
#define S1_GOOD "L9 10 11 12 13 B14 X"

/* ---------------------------------------------------------------- passing */

static void test_ordered_complete_passes(void **state)
{
    /* s2 reconnects twice: resumed from what it delivered last, event or
     * bookmark; a bookmark may repeat the revision it resumed from. */
    expect(S1_GOOD, "L9 10 11 X R11 12 B12 X R12 B12 13 B14", CHAOS_PASS, "watch        PASS");
    struct run x;
    check(&x, S1_GOOD, "L9 10 11 X R11 12 B12 X R12 B12 13 B14");
    assert_true(x.r.watch_ok);
    assert_non_null(strstr(x.r.text.data, "4 revisions known, 3 of them acknowledged writes"));
    assert_non_null(strstr(x.r.json.data, "\"watch\":\"PASS\""));
    struct ubuf fig = {0};
    chaos_watch_figures(x.h.watch, &fig);
    ubuf_append(&fig, "", 1);
    assert_non_null(strstr(fig.data, "s2        4 events, 3 bookmarks, 2 reconnects (2 resumed"));
    ubuf_free(&fig);
    run_free(&x);
}

static void test_no_watch_is_not_run(void **state)
{
    expect(NULL, NULL, CHAOS_PASS, "watch        NOT RUN (no watch.jsonl)");
}

static void test_legal_expired_passes(void **state)
{
    /* At 3.5 ms, a log of 1 revision may have dropped 10 (the next write
     * invoked, client 3's, got 13: the server may have been at 12). The
     * new list at 13 starts a new stream. */
    expect(S1_GOOD, "L9 10 T3.5 E10/1 L13 B14", CHAOS_PASS, "watch        PASS");
    /* Without the log's size, or with no write after it, a 410 is taken. */
    expect(S1_GOOD, "L9 10 T3.5 E10/0 L13 B14", CHAOS_PASS, "watch        PASS");
    expect(S1_GOOD, "L9 10 T9 E10/5 L13 B14", CHAOS_PASS, "watch        PASS");
}

/* ---------------------------------------------------------------- failing */

/* Each watch must FAIL with the words given. */
static const struct {
    const char *what, *s1, *s2, *words;
} failing[] = {
    {"a gap", S1_GOOD, "L9 10 12 13 B14",
     "s2's watch skipped revision 11 (update of chaos/k1 to \"b\", acknowledged to client 1) "
     "between 10 and 12"},
    {"a duplicate", S1_GOOD, "L9 10 11 11 12 13",
     "s2's watch delivered revision 11 (update of chaos/k1 to \"b\", acknowledged to client 1) "
     "twice"},
    {"a duplicate after resuming too early", S1_GOOD, "L9 10 11 X R10 11 12 13",
     "delivered revision 11"},
    {"a reorder", S1_GOOD, "L9 10 12 11 13",
     "s2's watch delivered revision 11 (update of chaos/k1 to \"b\", acknowledged to client 1) "
     "after revision 12 (out of order)"},
    {"a value other servers disagree with", S1_GOOD, "L9 10 11 12=x 13",
     "s2's watch disagrees on revision 12 (delete of chaos/k1, value \"b\", seen by s1): it "
     "delivered revision 12 (delete of chaos/k1, value \"x\", seen by s2)"},
    {"a value the history disagrees with", NULL, "L9 10 11=y 12 13",
     "s2's watch disagrees on revision 11 (update of chaos/k1 to \"b\", acknowledged to client "
     "1)"},
    {"a resume that skipped its first change", S1_GOOD, "L9 10 11 X R11 13",
     "s2's watch resumed from 11 but its first event was revision 13: it skipped revision 12 "
     "(delete of chaos/k1, value \"b\", seen by s1)"},
    {"a bookmark past a gap", S1_GOOD, "L9 10 B13",
     "s2's watch skipped revision 11 (update of chaos/k1 to \"b\", acknowledged to client 1) "
     "and 2 more between 10 and its bookmark at 13"},
    {"a bookmark going back", S1_GOOD, "L9 10 11 12 13 B14 B12", "bookmarks may not go back"},
    /* The delete's revision is known to no one: the key's story tells. */
    {"a delete no server delivered", "L9 10 11 13", "L9 10 11 13",
     "s1's watch sent ADDED of chaos/k1 at revision 13 while chaos/k1 existed in its stream "
     "(since revision 11): a DELETED is missing"},
    {"a resume past what was delivered", S1_GOOD, "L9 10 X R12 13",
     "s2's watch resumed from 12, past the last revision it had delivered (10)"},
    /* With 1000 revisions kept, 10 was still in the log when client 3's
     * create, invoked after the 410, got 13. */
    {"a 410 for a revision still in the log", S1_GOOD, "L9 10 T3.5 E10/1000 L13 B14",
     "s2 answered 410 Expired to a resume from 10 at 0.003 s, but its change log (the last 1000 "
     "revisions) still held it: a write invoked after that got revision 13"},
};

static void test_violations_fail(void **state)
{
    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        struct run x;
        check(&x, failing[i].s1, failing[i].s2);
        if (x.r.verdict != CHAOS_FAILED || x.r.watch_ok || !strstr(x.r.text.data, failing[i].words))
            fail_msg("%s: want FAIL with \"%s\", got:\n%s", failing[i].what, failing[i].words,
                     x.r.text.data);
        run_free(&x);
    }
}

static void test_json_names_violations(void **state)
{
    struct run x;
    check(&x, S1_GOOD, "L9 10 12 13");
    assert_int_equal(x.r.verdict, CHAOS_FAILED);
    assert_false(x.r.watch_ok);
    assert_non_null(strstr(x.r.json.data, "\"watch\":\"FAIL\""));
    assert_non_null(strstr(x.r.json.data, "\"kind\":\"gap\",\"server\":\"s2\",\"rv\":11"));
    assert_non_null(strstr(x.r.json.data, "\"anomaly\":{\"kind\":\"watch\""));
    run_free(&x);
}

/* ---------------------------------------------------------------- parsing */

static void expect_parse_error(const char *text, const char *needle)
{
    struct chaos_watch *w = xcalloc(1, sizeof *w);
    char err[512] = "";
    if (chaos_watch_parse(w, text, strlen(text), err, sizeof err) == 0 || !strstr(err, needle))
        fail_msg("want an error with \"%s\", got \"%s\"", needle, err);
    chaos_watch_free(w);
}

static void test_parse_errors(void **state)
{
    expect_parse_error("{\"server\":\"s1\",\"t\":1,\"type\":\"ADDED\",\"key\":\"a/b\",\"rv\":3}\n",
                       "line 1: ADDED outside an open stream");
    expect_parse_error("{\"server\":\"s1\",\"t\":1,\"open\":\"list\",\"rv\":3}\n\n"
                       "{\"server\":\"s1\",\"t\":2,\"type\":\"ADDED\",\"rv\":4}\n",
                       "line 3: an event needs \"key\"");
    expect_parse_error("{\"t\":1,\"open\":\"list\",\"rv\":3}\n", "\"server\" must be");
    expect_parse_error("{\"server\":\"s1\",\"t\":1,\"open\":\"later\",\"rv\":3}\n",
                       "\"open\" must be");
    expect_parse_error("{\"server\":\"s1\",\"t\":1,\"open\":\"list\",\"close\":\"eof\"}\n",
                       "a line has one of");
    expect_parse_error("{\"server\":\"s1\",\"t\":1,\"open\":\"resume\",\"rv\":\"x\"}\n",
                       "\"rv\" must be a revision");
    expect_parse_error("{\"server\":\"s1\",\"t\":1,\"expired\":5,\"history\":-2}\n",
                       "\"history\" must be");
    expect_parse_error("{\"server\":\"s1\",\"t\":1,\"open\":\"list\",\"rv\":3,\"items\":[]}\n",
                       "\"items\" must be");
    expect_parse_error("\n", "holds no line");
    expect_parse_error("[1]\n", "line 1: not a JSON object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordered_complete_passes),
        cmocka_unit_test(test_no_watch_is_not_run),
        cmocka_unit_test(test_legal_expired_passes),
        cmocka_unit_test(test_violations_fail),
        cmocka_unit_test(test_json_names_violations),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
