/* test_agent_podlog.c — a hollow container's log (agent/podlog.c): the
 * lines made from the pod (the annotation's, or started/exited), their
 * stamps, and the kubelet's options: sinceSeconds/sinceTime, timestamps,
 * limitBytes (cut mid-line), and a follower's "only the new lines". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_internal.h"
#include "util/util.h"

#define STARTED "2026-12-07T05:00:00Z"
#define FINISHED "2026-12-07T05:00:07Z"

static json_t *pod(const char *log_annotation, bool terminated)
{
    json_t *state = terminated ? json_pack("{s:{s:s, s:s, s:i, s:s}}", "terminated", "startedAt",
                                           STARTED, "finishedAt", FINISHED, "exitCode", 3,
                                           "reason", "Error")
                               : json_pack("{s:{s:s}}", "running", "startedAt", STARTED);
    json_t *p = json_pack("{s:{s:s}, s:{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}]},"
                          " s:{s:[{s:s, s:o}]}}",
                          "metadata", "name", "p", "spec", "nodeName", "hollow-0007",
                          "containers", "name", "app", "image", "nginx:1.25", "initContainers",
                          "name", "init", "image", "busybox", "status", "containerStatuses",
                          "name", "app", "state", state);
    if (log_annotation)
        json_object_set_new(json_object_get(p, "metadata"), "annotations",
                            json_pack("{s:s}", AGENT_LOG_ANNOTATION, log_annotation));
    return p;
}

static char *render(const struct agent_log *l, size_t from, struct agent_log_opts o,
                    long *sent, bool *cut)
{
    struct ubuf out = {0};
    *cut = agent_log_format(l, from, &o, sent, &out);
    ubuf_append(&out, "", 1);
    return out.data;
}

static void test_annotation_lines(void **state)
{
    (void)state;
    json_t *p = pod("alpha\nbeta\n\ngamma", false);
    struct agent_log l;
    assert_true(agent_log_make(p, "app", &l));
    assert_int_equal(l.n, 4); /* an empty line is a line */
    assert_false(l.ended);
    assert_int_equal(l.v[0].ms, util_time_parse(STARTED));
    long sent = 0;
    bool cut;
    char *s = render(&l, 0, (struct agent_log_opts){.limit = -1}, &sent, &cut);
    assert_string_equal(s, "alpha\nbeta\n\ngamma\n");
    assert_false(cut);
    free(s);
    s = render(&l, 0, (struct agent_log_opts){.timestamps = true, .limit = -1}, &sent, &cut);
    assert_string_equal(s, "2026-12-07T05:00:00.000000000Z alpha\n"
                           "2026-12-07T05:00:00.000000000Z beta\n"
                           "2026-12-07T05:00:00.000000000Z \n"
                           "2026-12-07T05:00:00.000000000Z gamma\n");
    free(s);
    agent_log_free(&l);
    json_decref(p);
}

static void test_started_then_exited(void **state)
{
    (void)state;
    json_t *p = pod(NULL, false);
    struct agent_log l;
    assert_true(agent_log_make(p, "app", &l));
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].text, "hollow container \"app\" started on node hollow-0007 from "
                                     "image \"nginx:1.25\" (nothing runs in a hollow pod)");
    size_t seen = l.n;
    agent_log_free(&l);
    json_decref(p);
    /* terminated: the same first line, one more; a follower sends the new one */
    p = pod(NULL, true);
    assert_true(agent_log_make(p, "app", &l));
    assert_true(l.ended);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.v[1].ms, util_time_parse(FINISHED));
    long sent = 0;
    bool cut;
    char *s = render(&l, seen, (struct agent_log_opts){.limit = -1}, &sent, &cut);
    assert_string_equal(s, "hollow container \"app\" exited with code 3 (Error)\n");
    free(s);
    /* since: only lines stamped at or after it */
    s = render(&l, 0,
               (struct agent_log_opts){.since_ms = util_time_parse(STARTED) + 1, .limit = -1},
               &sent, &cut);
    assert_string_equal(s, "hollow container \"app\" exited with code 3 (Error)\n");
    free(s);
    agent_log_free(&l);
    json_decref(p);
}

static void test_limit_bytes(void **state)
{
    (void)state;
    json_t *p = pod("alpha\nbeta\ngamma", false);
    struct agent_log l;
    assert_true(agent_log_make(p, "app", &l));
    long sent = 0;
    bool cut;
    char *s = render(&l, 0, (struct agent_log_opts){.limit = 8}, &sent, &cut);
    assert_string_equal(s, "alpha\nbe");
    assert_true(cut);
    assert_int_equal(sent, 8);
    free(s);
    /* the budget spans calls (a follower's later lines) */
    sent = 0;
    s = render(&l, 0, (struct agent_log_opts){.limit = 6}, &sent, &cut);
    assert_string_equal(s, "alpha\n");
    assert_true(cut);
    free(s);
    sent = 3;
    s = render(&l, 2, (struct agent_log_opts){.limit = 100}, &sent, &cut);
    assert_string_equal(s, "gamma\n");
    assert_false(cut);
    assert_int_equal(sent, 9);
    free(s);
    agent_log_free(&l);
    json_decref(p);
}

static void test_containers(void **state)
{
    (void)state;
    json_t *p = pod(NULL, false), *spec, *status;
    struct agent_log l;
    assert_false(agent_log_make(p, "nope", &l));
    assert_true(agent_pod_container(p, "init", &spec, &status));
    assert_null(status);
    assert_true(agent_log_make(p, "init", &l)); /* known, not started: no lines */
    assert_int_equal(l.n, 0);
    assert_false(l.ended);
    agent_log_free(&l);
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_annotation_lines),
        cmocka_unit_test(test_started_then_exited),
        cmocka_unit_test(test_limit_bytes),
        cmocka_unit_test(test_containers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
