/* test_raft_crc.c — the CRC-32 libraft puts on every entry and snapshot
 * (byteCrc32) is the same function after patches 0009 (slicing-by-8) and
 * 0011 (carry-less multiplication for buffers of 64 bytes or more, on CPUs
 * that have it) as the byte-at-a-time definition they replace: segments
 * written by a libraft without the patches must read back with it, and the
 * other way round.
 *
 * byteCrc32 is internal to libraft (no public header) but an ordinary
 * symbol of the static library bosun links, so it is declared here. The
 * reference is the definition: MSB-first CRC-32, polynomial 0x04c11db7, no
 * reflection, no final xor, computed bit by bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

unsigned byteCrc32(const void *buf, const size_t size, const unsigned init);

static unsigned crc_by_bits(const uint8_t *p, size_t n, unsigned crc)
{
    while (n--) {
        crc ^= (unsigned)*p++ << 24;
        for (int b = 0; b < 8; b++)
            crc = crc & 0x80000000u ? (crc << 1) ^ 0x04c11db7u : crc << 1;
    }
    return crc;
}

/* A known value, so that reference and library cannot agree on a wrong
 * function: "123456789" under this CRC (CRC-32/MPEG-2 without its initial
 * all-ones) is 0x89a1897f. */
static void test_known_value(void **state)
{
    (void)state;
    assert_int_equal(crc_by_bits((const uint8_t *)"123456789", 9, 0), 0x89a1897fu);
    assert_int_equal(byteCrc32("123456789", 9, 0), 0x89a1897fu);
    assert_int_equal(byteCrc32("", 0, 0x1234u), 0x1234u);
}

/* Every length from 0 to 200 (the 8-byte steps, the 16-byte blocks from 64
 * bytes on, and every tail), at every
 * alignment, then long random buffers; seeds chain as libraft chains a
 * header's CRC into its data's. */
static void test_matches_definition(void **state)
{
    (void)state;
    enum { MAX = 70000 };
    uint8_t *buf = malloc(MAX + 8);
    assert_non_null(buf);
    srand(7);
    for (size_t i = 0; i < MAX + 8; i++)
        buf[i] = (uint8_t)rand();
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 200; len++) {
            unsigned seed = (unsigned)rand() * 2654435761u;
            assert_int_equal(byteCrc32(buf + off, len, seed), crc_by_bits(buf + off, len, seed));
        }
    for (int i = 0; i < 200; i++) {
        size_t off = (size_t)rand() % 8, len = (size_t)rand() % MAX;
        unsigned seed = (unsigned)rand();
        assert_int_equal(byteCrc32(buf + off, len, seed), crc_by_bits(buf + off, len, seed));
    }
    /* A split buffer chained through the seed is the whole buffer's CRC. */
    unsigned whole = byteCrc32(buf, 1000, 0);
    assert_int_equal(byteCrc32(buf + 333, 667, byteCrc32(buf, 333, 0)), whole);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_value),
        cmocka_unit_test(test_matches_definition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
