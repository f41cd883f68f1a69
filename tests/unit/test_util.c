/* test_util.c — unit tests for util/: uuids, durations, byte buffers, time
 * zones (TZif files built here byte by byte, and the system's zoneinfo). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/socket.h>
#include <unistd.h>

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

static int cmp_uuid(const void *a, const void *b)
{
    return memcmp(a, b, 37);
}

/* Random bytes come from a per-thread pool refilled from getrandom: uuids
 * across many refills are all distinct, and a request larger than the
 * pool's share bypasses it. Every byte value turns up (not a zeroed pool). */
static void test_random_pool(void **state)
{
    (void)state;
    enum { N = 5000 };
    char(*u)[37] = malloc(sizeof *u * N);
    for (int i = 0; i < N; i++)
        util_uuid4(u[i], sizeof u[i]);
    qsort(u, N, sizeof *u, cmp_uuid);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(u[i - 1], u[i]);
    free(u);
    unsigned char seen[256] = {0}, big[4096];
    for (int i = 0; i < 200; i++) {
        unsigned char b[7];
        util_random_bytes(b, sizeof b);
        for (size_t k = 0; k < sizeof b; k++)
            seen[b[k]] = 1;
    }
    util_random_bytes(big, sizeof big);
    for (size_t k = 0; k < sizeof big; k++)
        seen[big[k]] = 1;
    int n = 0;
    for (int k = 0; k < 256; k++)
        n += seen[k];
    assert_int_equal(n, 256);
}

static void test_hex_digit(void **state)
{
    (void)state;
    const char *digits = "0123456789abcdef", *upper = "ABCDEF";
    for (int i = 0; i < 16; i++)
        assert_int_equal(util_hex_digit(digits[i]), i);
    for (int i = 0; i < 6; i++)
        assert_int_equal(util_hex_digit(upper[i]), 10 + i);
    const char *not_hex = "gG/:@`% \0";
    for (const char *p = not_hex; *p; p++)
        assert_int_equal(util_hex_digit(*p), -1);
    assert_int_equal(util_hex_digit('\0'), -1);
}

static void sha1_hex(const char *msg, size_t len, char hex[41])
{
    unsigned char d[20];
    util_sha1(msg, len, d);
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* FIPS 180 examples, lengths around the one- and two-block padding edges,
 * and RFC 6455's handshake example. */
static void test_sha1(void **state)
{
    (void)state;
    char hex[41];
    sha1_hex("", 0, hex);
    assert_string_equal(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    sha1_hex("abc", 3, hex);
    assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes */
    sha1_hex(two, strlen(two), hex);
    assert_string_equal(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    char a[1000];
    memset(a, 'a', sizeof a);
    sha1_hex(a, 64, hex);
    assert_string_equal(hex, "0098ba824b5c16427bd7a1122a5a442a25ec644d");
    sha1_hex(a, 55, hex);
    assert_string_equal(hex, "c1c8bbdc22796e28c0e15163d20899b65621d65a");
    sha1_hex(a, 1000, hex);
    assert_string_equal(hex, "291e9a6c66994949b57ba5e650361e98fc36b1ba");
    const char *ws = "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char d[20];
    util_sha1(ws, strlen(ws), d);
    struct ubuf b = {0};
    util_base64_encode(d, 20, &b);
    ubuf_append(&b, "", 1);
    assert_string_equal(b.data, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    ubuf_free(&b);
}

/* A connected socket's peer: there, then gone once it closes. */
static void test_peer_gone(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_false(util_peer_gone(sv[0]));
    assert_int_equal(write(sv[1], "x", 1), 1); /* data to read is not a hang-up */
    assert_false(util_peer_gone(sv[0]));
    close(sv[1]);
    assert_true(util_peer_gone(sv[0]));
    close(sv[0]);
    assert_false(util_peer_gone(-1));
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

/* ---- time zones ---- */

static void put32(struct ubuf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    ubuf_append(b, x, 4);
}

static void put64(struct ubuf *b, int64_t v)
{
    put32(b, (uint32_t)((uint64_t)v >> 32));
    put32(b, (uint32_t)v);
}

/* A version 2 TZif file: transitions at times[i] to type idx[i], types of
 * the given offsets (isdst for odd types), designation "ABC\0", footer. The
 * caller frees b->data. */
static void tzif_build(struct ubuf *b, size_t n, const int64_t *times, const uint8_t *idx,
                       size_t ntypes, const int32_t *offs, const char *footer)
{
    for (int pass = 0; pass < 2; pass++) {
        ubuf_append(b, "TZif2", 5);
        ubuf_append(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
        put32(b, 0); /* isutcnt */
        put32(b, 0); /* isstdcnt */
        put32(b, 0); /* leapcnt */
        put32(b, (uint32_t)n);
        put32(b, (uint32_t)ntypes);
        put32(b, 4); /* charcnt */
        for (size_t i = 0; i < n; i++)
            pass ? put64(b, times[i]) : put32(b, (uint32_t)times[i]);
        ubuf_append(b, idx, n);
        for (size_t i = 0; i < ntypes; i++) {
            put32(b, (uint32_t)offs[i]);
            unsigned char t[2] = {(unsigned char)(i & 1), 0}; /* isdst, designation 0 */
            ubuf_append(b, t, 2);
        }
        ubuf_append(b, "ABC", 4);
    }
    ubuf_append(b, "\n", 1);
    ubuf_append(b, footer, strlen(footer));
    ubuf_append(b, "\n", 1);
}

/* Transitions in 2026 UTC: +1h at 2026-03-29T01:00Z, back at 2026-10-25T01:00Z. */
static const int64_t eu_times[] = {1774746000, 1792890000};
static const uint8_t eu_idx[] = {1, 0};
static const int32_t eu_offs[] = {3600, 7200};

static void test_tz_parse(void **state)
{
    (void)state;
    struct ubuf b = {0};
    tzif_build(&b, 2, eu_times, eu_idx, 2, eu_offs, "CET-1CEST,M3.5.0,M10.5.0/3");
    char err[128] = "";
    struct util_tz *tz = util_tz_parse((const unsigned char *)b.data, b.len, err, sizeof err);
    assert_non_null(tz);
    assert_int_equal(util_tz_offset(tz, 0), 3600);                /* before: type 0 */
    assert_int_equal(util_tz_offset(tz, 1774746000 - 1), 3600);
    assert_int_equal(util_tz_offset(tz, 1774746000), 7200);       /* CEST */
    assert_int_equal(util_tz_offset(tz, 1792890000 - 1), 7200);
    /* After the last transition, the footer: 2027's DST runs from
     * 2027-03-28T01:00Z to 2027-10-31T01:00Z. */
    assert_int_equal(util_tz_offset(tz, 1792890000), 3600);
    assert_int_equal(util_tz_offset(tz, 1806195600 - 1), 3600);
    assert_int_equal(util_tz_offset(tz, 1806195600), 7200);
    assert_int_equal(util_tz_offset(tz, 1824944400 - 1), 7200);
    assert_int_equal(util_tz_offset(tz, 1824944400), 3600);
    /* Wall clock to instant, as Go's time.Date: 02:30 on 2027-03-28 does
     * not exist: the offset at 02:30Z (CEST) puts it at 00:30Z, which is
     * before the change, so CET's offset is used: 01:30Z (03:30 CEST).
     * 02:30 on 2027-10-31 happens twice: the offset at 02:30Z (CET) puts it
     * at 01:30Z, inside CET: the second one. */
    assert_int_equal(util_tz_from_civil(tz, 1806201000), 1806201000 - 3600);
    assert_int_equal(util_tz_from_civil(tz, 1824949800), 1824949800 - 3600);
    assert_int_equal(util_tz_from_civil(tz, 1816000000), 1816000000 - 7200); /* July */
    util_tz_free(tz);
    /* Every truncation is refused with a reason, never read past. */
    for (size_t n = 0; n < b.len; n++) {
        err[0] = '\0';
        tz = util_tz_parse((const unsigned char *)b.data, n, err, sizeof err);
        if (tz)
            fail_msg("a TZif cut to %zu of %zu bytes parsed", n, b.len);
        assert_true(err[0] != '\0');
    }
    free(b.data);
    /* Inconsistent files. */
    const int64_t backwards[] = {1792890000, 1774746000};
    const uint8_t bad_idx[] = {1, 5};
    const char *bad_footers[] = {"CET", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.5.0",
                                 "CET-1CEST,M3.5.0,M10.5.0/3x", "<AB>1"};
    struct { const int64_t *t; const uint8_t *i; const char *f; } cases[] = {
        {backwards, eu_idx, ""}, {eu_times, bad_idx, ""}, {eu_times, eu_idx, bad_footers[0]},
        {eu_times, eu_idx, bad_footers[1]}, {eu_times, eu_idx, bad_footers[2]},
        {eu_times, eu_idx, bad_footers[3]}, {eu_times, eu_idx, bad_footers[4]}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ubuf c = {0};
        tzif_build(&c, 2, cases[k].t, cases[k].i, 2, eu_offs, cases[k].f);
        err[0] = '\0';
        tz = util_tz_parse((const unsigned char *)c.data, c.len, err, sizeof err);
        if (tz)
            fail_msg("bad TZif case %zu parsed", k);
        assert_true(err[0] != '\0');
        free(c.data);
    }
    assert_null(util_tz_parse((const unsigned char *)"TZjf", 4, err, sizeof err));
}

static void test_tz_system(void **state)
{
    (void)state;
    char err[160];
    assert_null(util_tz_load(NULL, "../../etc/passwd", err, sizeof err));
    assert_string_equal(err, "time: invalid location name"); /* Go's errLocation */
    assert_null(util_tz_load(NULL, "/etc/localtime", err, sizeof err));
    assert_null(util_tz_load(NULL, "Mars/Olympus_Mons", err, sizeof err));
    assert_null(util_tz_load(NULL, "zone.tab", err, sizeof err)); /* not TZif */
    struct util_tz *ny = util_tz_load(NULL, "America/New_York", err, sizeof err);
    if (!ny)
        fail_msg("%s (make deps installs tzdata)", err);
    assert_int_equal(util_tz_offset(ny, 1768478400), -18000); /* 2026-01-15T12:00Z EST */
    assert_int_equal(util_tz_offset(ny, 1772953200 - 1), -18000); /* 2026-03-08T07:00Z */
    assert_int_equal(util_tz_offset(ny, 1772953200), -14400);
    assert_int_equal(util_tz_offset(ny, 2224857600), -14400); /* 2040-07-01 (footer) */
    assert_int_equal(util_tz_offset(ny, 2209032000), -18000); /* 2040-01-01 */
    util_tz_free(ny);
    struct util_tz *syd = util_tz_load(NULL, "Australia/Sydney", err, sizeof err);
    assert_non_null(syd);
    assert_int_equal(util_tz_offset(syd, 2209032000), 39600); /* summer: AEDT */
    assert_int_equal(util_tz_offset(syd, 2224857600), 36000);
    util_tz_free(syd);
    struct util_tz *kol = util_tz_load(NULL, "Asia/Kolkata", err, sizeof err);
    assert_non_null(kol);
    assert_int_equal(util_tz_offset(kol, 1768478400), 19800);
    util_tz_free(kol);
    assert_int_equal(util_tz_offset(NULL, 12345), 0);
}

/* Deleting the key umap_next just returned does not disturb the walk:
 * every key is still visited once. */
static void test_umap_delete_while_iterating(void **state)
{
    (void)state;
    struct umap m = {0};
    char key[16];
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "k%d", i);
        umap_put(&m, key, (void *)(intptr_t)(i + 1));
    }
    size_t it = 0, seen = 0;
    const char *k;
    void *v;
    while (umap_next(&m, &it, &k, &v)) {
        seen++;
        if ((intptr_t)v % 2 == 0)
            umap_del(&m, k);
    }
    assert_int_equal(seen, 500);
    assert_int_equal(m.n, 250);
    assert_null(umap_get(&m, "k1"));  /* value 2 */
    assert_non_null(umap_get(&m, "k0")); /* value 1 */
    umap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uuid_shape),
        cmocka_unit_test(test_random_pool),
        cmocka_unit_test(test_hex_digit),
        cmocka_unit_test(test_sha1),
        cmocka_unit_test(test_peer_gone),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_ubuf),
        cmocka_unit_test(test_umap_delete_while_iterating),
        cmocka_unit_test(test_tz_parse),
        cmocka_unit_test(test_tz_system),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
