/* test_agent_ws.c — WebSocket frames as the kubelet endpoint reads and
 * writes them (agent/ws.c): RFC 6455's handshake example, masked client
 * frames of each length encoding arriving a byte at a time, control-frame
 * rules, reserved opcodes and bits, and our unmasked headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_internal.h"
#include "util/util.h"

/* A masked client frame of payload p (len n) with opcode op into out. */
static size_t client_frame(unsigned char *out, int op, bool fin, const unsigned char *p, size_t n)
{
    static const unsigned char mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t h = 0;
    out[h++] = (unsigned char)((fin ? 0x80 : 0) | op);
    if (n < 126) {
        out[h++] = (unsigned char)(0x80 | n);
    } else if (n <= 0xffff) {
        out[h++] = 0x80 | 126;
        out[h++] = (unsigned char)(n >> 8);
        out[h++] = (unsigned char)n;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (unsigned char)((uint64_t)n >> (8 * i));
    }
    memcpy(out + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < n; i++)
        out[h + i] = p[i] ^ mask[i & 3];
    return h + n;
}

static void test_accept_key(void **state)
{
    (void)state;
    char out[29];
    agent_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* Every length encoding: nothing until the last byte, then the payload. */
static void test_parse_lengths(void **state)
{
    (void)state;
    static unsigned char payload[70000], frame[70100], copy[70100];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (unsigned char)(i * 7);
    const size_t lens[] = {0, 1, 125, 126, 65535, 65536, 70000};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = client_frame(frame, 2, true, payload, lens[k]);
        for (size_t have = 0; have < n; have += have < 20 ? 1 : 997) {
            memcpy(copy, frame, have);
            struct agent_ws_frame f;
            assert_int_equal(agent_ws_parse(copy, have, &f), 0);
        }
        memcpy(copy, frame, n);
        struct agent_ws_frame f;
        assert_int_equal(agent_ws_parse(copy, n + 3, &f), (int)n); /* extra bytes: next frame */
        assert_true(f.fin);
        assert_int_equal(f.opcode, 2);
        assert_int_equal(f.len, lens[k]);
        if (lens[k])
            assert_memory_equal(f.payload, payload, lens[k]);
    }
}

static void test_parse_refusals(void **state)
{
    (void)state;
    unsigned char p[200] = {0}, frame[300];
    struct agent_ws_frame f;
    size_t n = client_frame(frame, 2, true, p, 10);
    frame[1] &= 0x7f; /* unmasked client frame */
    assert_int_equal(agent_ws_parse(frame, n, &f), -1);
    n = client_frame(frame, 9, true, p, 126); /* a ping over 125 bytes */
    assert_int_equal(agent_ws_parse(frame, n, &f), -1);
    n = client_frame(frame, 8, false, p, 2); /* a fragmented close */
    assert_int_equal(agent_ws_parse(frame, n, &f), -1);
    n = client_frame(frame, 3, true, p, 2); /* reserved opcodes */
    assert_int_equal(agent_ws_parse(frame, n, &f), -1);
    n = client_frame(frame, 11, true, p, 2);
    assert_int_equal(agent_ws_parse(frame, n, &f), -1);
    n = client_frame(frame, 2, true, p, 2);
    frame[0] |= 0x40; /* RSV1 without an extension */
    assert_int_equal(agent_ws_parse(frame, n, &f), -1);
    /* a length over the limit is refused from the header alone */
    unsigned char big[14] = {0x82, 0xff, 0, 0, 0, 0, 0x7f, 0, 0, 0};
    assert_int_equal(agent_ws_parse(big, 10, &f), -1);
    /* a continuation and a pong are frames like others */
    n = client_frame(frame, 0, false, p, 5);
    assert_int_equal(agent_ws_parse(frame, n, &f), (int)n);
    assert_int_equal(f.opcode, 0);
    assert_false(f.fin);
}

static void test_header(void **state)
{
    (void)state;
    unsigned char h[10];
    assert_int_equal(agent_ws_header(h, 2, 5), 2);
    assert_int_equal(h[0], 0x82);
    assert_int_equal(h[1], 5);
    assert_int_equal(agent_ws_header(h, 8, 126), 4);
    assert_int_equal(h[0], 0x88);
    assert_int_equal(h[1], 126);
    assert_int_equal(h[2] << 8 | h[3], 126);
    assert_int_equal(agent_ws_header(h, 1, 65536), 10);
    assert_int_equal(h[1], 127);
    assert_int_equal(h[7], 1);
    assert_int_equal(h[8] | h[9], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_parse_lengths),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
