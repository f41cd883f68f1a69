/* fuzz_proxy_head.c — libFuzzer harness for nodeproxy_parse_head
 * (server/nodeproxy.c): the status line and headers of a kubelet's answer
 * to pods/log or pods/exec, read by the API server as they arrive.
 *
 * The input is parsed whole and then as every prefix a read could have
 * left (stepping faster through long inputs). The checks: a complete head
 * has a three-digit status and a length within the input that ends with
 * the blank line; its header values are terminated strings; a prefix of a
 * complete head shorter than it is "not all there yet", never complete or
 * malformed. Sanitizers catch over-reads (the input is not terminated).
 *
 *   make build/fuzz/fuzz_proxy_head && ./build/fuzz/fuzz_proxy_head -max_total_time=60 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct nodeproxy_head h;
    int rc = nodeproxy_parse_head(buf, size, &h);
    assert(rc >= -1 && rc <= 1);
    if (rc == 0) {
        assert(h.code >= 0 && h.code <= 999);
        assert(h.len >= 16 && h.len <= size && memcmp(buf + h.len - 4, "\r\n\r\n", 4) == 0);
        assert(memchr(h.accept, 0, sizeof h.accept) && memchr(h.protocol, 0, sizeof h.protocol));
        for (size_t n = 0; n < h.len; n += 1 + n / 8) {
            char *p = malloc(n ? n : 1);
            memcpy(p, buf, n);
            struct nodeproxy_head g;
            assert(nodeproxy_parse_head(p, n, &g) == 1);
            free(p);
        }
    }
    free(buf);
    return 0;
}
