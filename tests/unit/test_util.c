/* test_util.c — unit tests for util/: uuids, durations, byte buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/util.h"

static void test_uuid_shape(void **state)
{
    char a[40], b[40];
    util_uuid4(a, sizeof a);
    util_uuid4(b, sizeof b);
    assert_int_equal(strlen(a), 36);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(a[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", a[i]));
    }
    assert_int_equal(a[14], '4');                  /* version 4 */
    assert_non_null(strchr("89ab", a[19]));        /* RFC 4122 variant */
    char small[10];
    util_uuid4(small, sizeof small);               /* truncated, terminated */
    assert_int_equal(strlen(small), 9);
}

static void test_parse_duration(void **state)
{
    assert_int_equal(util_parse_duration_ms("250"), 250);
    assert_int_equal(util_parse_duration_ms("250ms"), 250);
    assert_int_equal(util_parse_duration_ms("1.5s"), 1500);
    assert_int_equal(util_parse_duration_ms("2m"), 120000);
    assert_int_equal(util_parse_duration_ms("1h"), 3600000);
    assert_int_equal(util_parse_duration_ms(""), -1);
    assert_int_equal(util_parse_duration_ms("abc"), -1);
    assert_int_equal(util_parse_duration_ms("5x"), -1);
    assert_int_equal(util_parse_duration_ms("-1s"), -1);
}

static void test_ubuf(void **state)
{
    struct ubuf b = {0};
    for (int i = 0; i < 1000; i++)
        ubuf_appendf(&b, "%d,", i);
    assert_int_equal(b.data[b.len], '\0');
    assert_memory_equal(b.data, "0,1,2,", 6);
    size_t len = b.len;
    ubuf_append(&b, "xyz", 3);
    assert_int_equal(b.len, len + 3);
    assert_string_equal(b.data + len, "xyz");
    ubuf_free(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_shape),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_ubuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
