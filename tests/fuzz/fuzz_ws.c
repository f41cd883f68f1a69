/* fuzz_ws.c — libFuzzer harness for agent/ws.c, the WebSocket frame reader
 * of the kubelet endpoint's exec sessions (what any client of the API can
 * send, passed through by the API server unread).
 *
 * The input is read as a stream of frames, as exec.c reads its buffer:
 * frame after frame until one needs more bytes or is refused. The checks:
 * a frame's length covers at least its header and at most what was given;
 * its payload lies inside it; a control frame is whole and at most 125
 * bytes; every prefix of an accepted frame asks for more (0), never
 * accepts or refuses early. Sanitizers catch over-reads.
 *
 *   make build/fuzz/fuzz_ws && ./build/fuzz/fuzz_ws -max_total_time=60 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *buf = malloc(size ? size : 1), *copy = malloc(size ? size : 1);
    memcpy(buf, data, size);
    size_t off = 0;
    while (off < size) {
        struct agent_ws_frame f;
        memcpy(copy, buf + off, size - off);
        int n = agent_ws_parse(buf + off, size - off, &f);
        if (n <= 0)
            break;
        assert((size_t)n >= 6 && (size_t)n <= size - off);
        assert(f.payload >= buf + off && f.payload + f.len == buf + off + n);
        assert(!(f.opcode & 8) || (f.fin && f.len <= 125));
        for (size_t have = 0; have < (size_t)n; have += 1 + have / 4) {
            struct agent_ws_frame g;
            unsigned char *p = malloc(have ? have : 1);
            memcpy(p, copy, have);
            assert(agent_ws_parse(p, have, &g) == 0);
            free(p);
        }
        off += (size_t)n;
    }
    free(buf);
    free(copy);
    return 0;
}
