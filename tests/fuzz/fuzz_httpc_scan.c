/* fuzz_httpc_scan.c — libFuzzer harness for httpc_response_scan
 * (httpc/httpc.c): how `bosun bench writes`, which reads its sockets
 * itself, tells that an answer has all arrived.
 *
 * The input is scanned whole and as every prefix a read could have left
 * (stepping faster through long inputs). The checks: a complete answer's
 * length lies within the input, its status is a three-digit number of at
 * least 200, its body starts after a status line and within it, and every
 * prefix shorter than it is "not all there yet" or malformed, never
 * complete. Sanitizers catch over-reads (the input is not
 * terminated).
 *
 *   make build/fuzz/fuzz_httpc_scan && ./build/fuzz/fuzz_httpc_scan -max_total_time=60 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpc/httpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    bool head = size > 0 && (data[0] & 1);
    struct httpc_scan sc;
    long end = httpc_response_scan(buf, size, head, &sc);
    assert(end >= -1 && (end < 0 || (size_t)end <= size));
    if (end > 0) {
        assert(sc.status >= 200 && sc.status <= 999);
        assert(sc.body_off >= 12 && sc.body_off <= (size_t)end);
        for (size_t n = 0; n < (size_t)end; n += 1 + n / 8) {
            char *p = malloc(n ? n : 1);
            memcpy(p, buf, n);
            struct httpc_scan s2;
            long e2 = httpc_response_scan(p, n, head, &s2);
            assert(e2 == 0 || e2 == -1);
            free(p);
        }
    }
    free(buf);
    return 0;
}
