/* ws.c — the server side of WebSocket framing (RFC 6455), as much as the
 * kubelet's exec endpoint needs: the handshake's accept key, reading the
 * client's frames and writing ours.
 *
 * kubectl's exec speaks the v5.channel.k8s.io subprotocol over it: every
 * message is a binary frame whose first byte is the channel (0 stdin, 1
 * stdout, 2 stderr, 3 status, 4 resize, 255 "close channel"). That layer
 * is exec.c's; this file only knows frames.
 *
 * Reading is incremental: agent_ws_parse looks at what has arrived and
 * either needs more bytes, finds one whole frame (unmasking its payload in
 * place), or finds a protocol error. A client's frames must be masked, and
 * a control frame (close, ping, pong) must be whole and at most 125 bytes;
 * a payload over AGENT_WS_MAX_PAYLOAD is refused rather than buffered. */
#include <string.h>

#include "agent/agent_internal.h"
#include "util/util.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void agent_ws_accept_key(const char *key, char out[29])
{
    struct ubuf in = {0}, b64 = {0};
    ubuf_appendf(&in, "%s%s", key, WS_GUID);
    unsigned char d[20];
    util_sha1(in.data, in.len, d);
    util_base64_encode(d, sizeof d, &b64);
    memcpy(out, b64.data, 28);
    out[28] = '\0';
    ubuf_free(&in);
    ubuf_free(&b64);
}

int agent_ws_parse(unsigned char *buf, size_t len, struct agent_ws_frame *f)
{
    if (len < 2)
        return 0;
    f->fin = buf[0] & 0x80;
    f->opcode = buf[0] & 0x0f;
    if (buf[0] & 0x70)
        return -1; /* no extension was negotiated */
    bool masked = buf[1] & 0x80;
    uint64_t n = buf[1] & 0x7f;
    size_t hdr = 2;
    if (n == 126) {
        if (len < 4)
            return 0;
        n = (uint64_t)buf[2] << 8 | buf[3];
        hdr = 4;
    } else if (n == 127) {
        if (len < 10)
            return 0;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | buf[2 + i];
        hdr = 10;
    }
    bool control = f->opcode & 0x08;
    if (!masked || n > AGENT_WS_MAX_PAYLOAD || (control && (n > 125 || !f->fin)))
        return -1;
    if ((f->opcode > 2 && f->opcode < 8) || f->opcode > 10)
        return -1; /* reserved opcodes */
    if (len < hdr + 4 || len - hdr - 4 < n)
        return 0;
    unsigned char *mask = buf + hdr;
    f->payload = buf + hdr + 4;
    f->len = (size_t)n;
    for (size_t i = 0; i < f->len; i++)
        f->payload[i] ^= mask[i & 3];
    return (int)(hdr + 4 + f->len);
}

size_t agent_ws_header(unsigned char hdr[10], int opcode, size_t len)
{
    hdr[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        hdr[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xffff) {
        hdr[1] = 126;
        hdr[2] = (unsigned char)(len >> 8);
        hdr[3] = (unsigned char)len;
        return 4;
    }
    hdr[1] = 127;
    for (int i = 0; i < 8; i++)
        hdr[2 + i] = (unsigned char)((uint64_t)len >> (8 * (7 - i)));
    return 10;
}
