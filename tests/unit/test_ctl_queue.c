/* test_ctl_queue.c — unit tests for the controllers' work queue
 * (controllers/queue.c): a key queued twice is one entry (the earlier
 * time, the larger backoff, bulk only if both were), keys not yet due or
 * of a controller that may not sync yet stay queued, and the due keys come
 * out with those changes queued before those only a full pass queued. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"

static void free_due(struct ctl_work *due, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(due[i].key);
    free(due);
}

static void test_one_entry_per_key(void **state)
{
    (void)state;
    struct ctl_queue q = {0};
    bool all[2] = {true, true};
    ctl_queue_add(&q, 0, "replicasets/default/a", 500, true, 0);
    ctl_queue_add(&q, 0, "replicasets/default/a", 200, true, 400);
    ctl_queue_add(&q, 0, "replicasets/default/a", 900, false, 100);
    ctl_queue_add(&q, 1, "replicasets/default/a", 0, true, 0); /* another controller's */
    assert_int_equal(q.n, 2);
    size_t n;
    struct ctl_work *due = ctl_queue_take_due(&q, 199, all, &n);
    assert_int_equal(n, 1); /* controller 1's, due at once */
    assert_int_equal(due[0].def, 1);
    free_due(due, n);
    due = ctl_queue_take_due(&q, 200, all, &n);
    assert_int_equal(n, 1);
    assert_string_equal(due[0].key, "replicasets/default/a");
    assert_int_equal(due[0].not_before_ms, 200);
    assert_int_equal(due[0].backoff_ms, 400);
    assert_false(due[0].bulk);
    free_due(due, n);
    assert_int_equal(q.n, 0);
    /* Gone from the index too: queued again, it is a new entry. */
    ctl_queue_add(&q, 0, "replicasets/default/a", 0, true, 0);
    due = ctl_queue_take_due(&q, 0, all, &n);
    assert_int_equal(n, 1);
    assert_true(due[0].bulk);
    free_due(due, n);
    ctl_queue_free(&q);
}

static void test_changes_before_bulk(void **state)
{
    (void)state;
    struct ctl_queue q = {0};
    bool all[1] = {true};
    char key[64];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "replicasets/default/bulk-%d", i);
        ctl_queue_add(&q, 0, key, 0, true, 0);
    }
    ctl_queue_add(&q, 0, "replicasets/default/new", 0, false, 0);
    ctl_queue_add(&q, 0, "replicasets/default/bulk-50", 0, false, 0); /* changed since */
    size_t n;
    struct ctl_work *due = ctl_queue_take_due(&q, 0, all, &n);
    assert_int_equal(n, 101);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(due[i].bulk, i >= 2);
    assert_true(strcmp(due[0].key, "replicasets/default/new") == 0 ||
                strcmp(due[1].key, "replicasets/default/new") == 0);
    assert_true(strcmp(due[0].key, "replicasets/default/bulk-50") == 0 ||
                strcmp(due[1].key, "replicasets/default/bulk-50") == 0);
    free_due(due, n);
    ctl_queue_free(&q);
}

static void test_gated_controllers_wait(void **state)
{
    (void)state;
    struct ctl_queue q = {0};
    bool may[3] = {true, false, true};
    ctl_queue_add(&q, 0, "replicasets/default/a", 0, false, 0);
    ctl_queue_add(&q, 1, "daemonsets/default/b", 0, false, 0);
    ctl_queue_add(&q, 2, "jobs/default/c", 50, false, 0);
    size_t n;
    struct ctl_work *due = ctl_queue_take_due(&q, 10, may, &n);
    assert_int_equal(n, 1);
    assert_int_equal(due[0].def, 0);
    free_due(due, n);
    assert_int_equal(q.n, 2);
    may[1] = true;
    due = ctl_queue_take_due(&q, 100, may, &n);
    assert_int_equal(n, 2);
    free_due(due, n);
    assert_int_equal(q.n, 0);
    ctl_queue_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_entry_per_key),
        cmocka_unit_test(test_changes_before_bulk),
        cmocka_unit_test(test_gated_controllers_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
