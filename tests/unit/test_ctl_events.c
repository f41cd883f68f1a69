/* test_ctl_events.c — unit tests for the controllers' event correlator
 * (controllers/events.c), against client-go's EventCorrelator: distinct
 * messages are events of their own up to the 9th, from the 10th on they
 * are one combined event whose name stays; a repeated message keeps its
 * name; 25 events per source and object, then one per 5 minutes; another
 * object or source has its own budget; the aggregation window is 10
 * minutes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"

static struct ctl_event_about about(const char *name, const char *message)
{
    return (struct ctl_event_about){"replicaset-controller", "ReplicaSet", "apps/v1", "default",
                                    name, name, "Normal", "SuccessfulCreate", message};
}

static bool decide(struct ctl_correlator *k, const char *obj, const char *message, int64_t now,
                   char *msg, char *name)
{
    struct ctl_event_about e = about(obj, message);
    return ctl_correlate(k, &e, now, msg, 1100, name, 320);
}

static void test_similar_events_are_combined(void **state)
{
    (void)state;
    struct ctl_correlator k = {0};
    char msg[1100], name[320], first[320], combined[320] = "";
    char names[9][320];
    for (int i = 0; i < 20; i++) {
        char m[64];
        snprintf(m, sizeof m, "Created pod: big-%d", i);
        assert_true(decide(&k, "big", m, 1000, msg, name));
        if (i < 9) {
            assert_string_equal(msg, m);
            strcpy(names[i], name);
            for (int j = 0; j < i; j++)
                assert_string_not_equal(names[j], name);
        } else {
            char want[128];
            snprintf(want, sizeof want, "(combined from similar events): %s", m);
            assert_string_equal(msg, want);
            if (i > 9)
                assert_string_equal(name, combined);
            strcpy(combined, name);
        }
    }
    /* The same message again is the same event (its count grows). */
    assert_true(decide(&k, "other", "Created pod: x", 1000, msg, first));
    assert_true(decide(&k, "other", "Created pod: x", 2000, msg, name));
    assert_string_equal(first, name);
    assert_string_equal(msg, "Created pod: x");
    /* After the window, distinct messages are events of their own again. */
    assert_true(decide(&k, "big", "Created pod: later", 1000 + 601 * 1000, msg, name));
    assert_string_equal(msg, "Created pod: later");
    ctl_correlator_free(&k);
}

static void test_spam_filter(void **state)
{
    (void)state;
    struct ctl_correlator k = {0};
    char msg[1100], name[320];
    int64_t t = 5000;
    for (int i = 0; i < 25; i++)
        assert_true(decide(&k, "big", "Created pod: a", t, msg, name));
    assert_false(decide(&k, "big", "Created pod: a", t, msg, name));
    assert_false(decide(&k, "big", "Created pod: b", t + 299 * 1000, msg, name));
    /* Another object has a budget of its own. */
    assert_true(decide(&k, "small", "Created pod: a", t, msg, name));
    /* One token every 5 minutes. */
    assert_true(decide(&k, "big", "Created pod: c", t + 300 * 1000, msg, name));
    assert_false(decide(&k, "big", "Created pod: d", t + 301 * 1000, msg, name));
    ctl_correlator_free(&k);
}

static void test_many_objects_stay_bounded(void **state)
{
    (void)state;
    struct ctl_correlator k = {0};
    char msg[1100], name[320], obj[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(obj, sizeof obj, "pod-%d", i);
        assert_true(decide(&k, obj, "Evicted", 1000 + i, msg, name));
    }
    assert_true(k.aggregates.n <= 4097 && k.buckets.n <= 4097);
    ctl_correlator_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_similar_events_are_combined),
        cmocka_unit_test(test_spam_filter),
        cmocka_unit_test(test_many_objects_stay_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
