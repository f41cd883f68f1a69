/* fuzz_tz.c — libFuzzer harness for util/tz.c, the TZif reader.
 *
 * Each input is tried two ways:
 *   1. as a whole TZif file (util_tz_parse);
 *   2. as the POSIX TZ string of a footer (up to its first newline), behind
 *      a fixed, valid version 2 header and data block with no transitions,
 *      so the rule parser and the rule's evaluation are reached at once.
 * Whatever parses is asked for the offset at instants spread from 1900 to
 * 2100 and around the edges of int32 and the transitions' range. The
 * checks: a refusal always says why (a non-empty, terminated message); an
 * offset is within 26 hours of UTC and the same on a second call; a
 * wall-clock time resolves to an instant within 26 hours of it. Sanitizers
 * catch crashes, over-reads and leaks.
 *
 *   make build/fuzz/fuzz_tz && ./build/fuzz/fuzz_tz -max_total_time=60 tests/fuzz/corpus/fuzz_tz */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define FUZZ_DAY 86400LL
#define FUZZ_MAX_OFF (26 * 3600)

static const int64_t fuzz_instants[] = {
    -2208988800LL, -1LL, 0, 1, 951782400LL, 1774746000LL, 2147483647LL, 2147483648LL,
    4102444800LL, -2147483648LL, 1806201000LL, 1824949800LL,
};

static void fuzz_check_zone(struct util_tz *tz, const char *err, size_t errlen)
{
    if (!tz) {
        if (err[0] == '\0' || strnlen(err, errlen) == errlen)
            abort();
        return;
    }
    for (size_t i = 0; i < sizeof fuzz_instants / sizeof fuzz_instants[0]; i++) {
        for (int64_t d = -2; d <= 2; d++) {
            int64_t t = fuzz_instants[i] + d * 97 * FUZZ_DAY;
            int32_t off = util_tz_offset(tz, t);
            if (off < -FUZZ_MAX_OFF || off > FUZZ_MAX_OFF || off != util_tz_offset(tz, t))
                abort();
            int64_t u = util_tz_from_civil(tz, t);
            if (u < t - FUZZ_MAX_OFF || u > t + FUZZ_MAX_OFF)
                abort();
        }
    }
    util_tz_free(tz);
}

static void fuzz_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A version 2 file with one type (UTC, "UTC") and no transitions, then
 * "\n" footer "\n"; returns its length. */
static size_t fuzz_with_footer(const uint8_t *footer, size_t n, unsigned char *out)
{
    size_t len = 0;
    for (int pass = 0; pass < 2; pass++) {
        unsigned char *h = out + len;
        memset(h, 0, 44);
        memcpy(h, "TZif2", 5);
        fuzz_put32(h + 36, 1); /* typecnt */
        fuzz_put32(h + 40, 4); /* charcnt */
        len += 44;
        memset(out + len, 0, 6); /* utoff 0, isdst 0, desigidx 0 */
        len += 6;
        memcpy(out + len, "UTC", 4);
        len += 4;
    }
    out[len++] = '\n';
    memcpy(out + len, footer, n);
    len += n;
    out[len++] = '\n';
    return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    fuzz_check_zone(util_tz_parse(data, size, err, sizeof err), err, sizeof err);

    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    if (n > 300)
        n = 300;
    unsigned char *file = malloc(2 * 54 + n + 2);
    size_t len = fuzz_with_footer(data, n, file);
    err[0] = '\0';
    fuzz_check_zone(util_tz_parse(file, len, err, sizeof err), err, sizeof err);
    free(file);
    return 0;
}
