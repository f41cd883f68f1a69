/* test_chaos_faults.c — unit tests for the pure parts of `bosun chaos`'s
 * faults (tools/chaos_faults.c): the --faults list (every kind by name,
 * "all", an unknown name refused by name, an empty list refused) and a
 * fault's line in faults.jsonl (its steps with their times, the last step
 * kept when there are more than there is room for). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tools/chaos_internal.h"

static void test_kinds_parse(void **state)
{
    (void)state;
    unsigned k;
    char err[128] = "";
    assert_int_equal(chaos_fault_kinds_parse("disk,membership", &k, err, sizeof err), 0);
    assert_int_equal(k, 1u << CHAOS_F_DISK | 1u << CHAOS_F_MEMBERSHIP);
    assert_int_equal(chaos_fault_kinds_parse("kill,,partition-leader", &k, err, sizeof err), 0);
    assert_int_equal(k, 1u << CHAOS_F_KILL | 1u << CHAOS_F_PARTITION_LEADER);
    assert_int_equal(chaos_fault_kinds_parse("all", &k, err, sizeof err), 0);
    assert_int_equal(k, (1u << CHAOS_NFAULTKIND) - 1);
    for (int i = 0; i < CHAOS_NFAULTKIND; i++) {
        assert_int_equal(chaos_fault_kinds_parse(chaos_fault_kind_name(i), &k, err, sizeof err), 0);
        assert_int_equal(k, 1u << i);
    }
    assert_int_equal(chaos_fault_kinds_parse("pause,floods,disk", &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"floods\""));
    assert_int_equal(chaos_fault_kinds_parse(",", &k, err, sizeof err), -1);
}

static void test_fault_json_has_steps(void **state)
{
    (void)state;
    struct chaos_fault f = {.kind = CHAOS_F_MEMBERSHIP, .leader = true, .start = 10, .end = 99};
    snprintf(f.what, sizeof f.what, "remove s2 (the leader)");
    snprintf(f.shape, sizeof f.shape, "running");
    f.targets[f.ntargets++] = 2;
    chaos_fault_step(&f, "s%d added back (HTTP %d)", 2, 200);
    json_t *o = chaos_fault_json(&f);
    assert_string_equal(json_string_value(json_object_get(o, "kind")), "membership");
    assert_int_equal(json_integer_value(json_object_get(o, "end")), 99);
    json_t *steps = json_object_get(o, "steps");
    assert_int_equal(json_array_size(steps), 1);
    json_t *s0 = json_array_get(steps, 0);
    assert_string_equal(json_string_value(json_object_get(s0, "what")), "s2 added back (HTTP 200)");
    assert_true(json_integer_value(json_object_get(s0, "t")) > 0);
    json_decref(o);

    /* more steps than room: the last one still says how it ended */
    for (int i = 0; i < CHAOS_FAULT_STEPS + 2; i++)
        chaos_fault_step(&f, "step %d", i);
    assert_int_equal(f.nsteps, CHAOS_FAULT_STEPS);
    char last[16];
    snprintf(last, sizeof last, "step %d", CHAOS_FAULT_STEPS + 1);
    assert_string_equal(f.steps[CHAOS_FAULT_STEPS - 1].what, last);

    struct chaos_fault none = {.kind = CHAOS_F_KILL};
    o = chaos_fault_json(&none);
    assert_int_equal(json_array_size(json_object_get(o, "steps")), 0);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_parse),
        cmocka_unit_test(test_fault_json_has_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
