/* mp.c — a minimal msgpack writer and a bounds-checked reader (util.h),
 * shared by codec/ (its JSON encoder) and store/ (its fixed-shape records).
 *
 * The writer picks the smallest encoding of every header and integer, as
 * msgpack-c's packer does (test_codec holds the encoder to it byte for
 * byte). It writes straight into the buffer's free space, one reservation
 * per call: going through ubuf_append per header and per body, or through
 * msgpack-c's write callback, had made encoding cost about twice as much.
 * The buffer stays NUL-terminated, as ubuf_append leaves it.
 *
 * The reader reads only arrays, uints, strings and bins, the types of the
 * store's records; any read past the end or of the wrong type sets err. */
#include <assert.h>

#include "util/util.h"

/* The buffer's free space, at least n bytes (and one for the NUL). */
static unsigned char *room(struct ubuf *b, size_t n)
{
    ubuf_reserve(b, n);
    return (unsigned char *)b->data + b->len;
}

/* Counts what was written up to end, and terminates. */
static void done(struct ubuf *b, unsigned char *end)
{
    *end = '\0';
    b->len = (size_t)(end - (unsigned char *)b->data);
}

static unsigned char *put_be(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
    return p + bytes;
}

/* A header with its length: fix | n below fix_max, else tag8, tag16 or
 * tag32 (tag8 0: none, as for maps and arrays) and n big-endian. */
static unsigned char *put_len(unsigned char *p, unsigned char fix, size_t fix_max,
                              unsigned char tag8, unsigned char tag16, unsigned char tag32,
                              size_t n)
{
    assert(n <= UINT32_MAX);
    if (n < fix_max) {
        *p++ = (unsigned char)(fix | n);
    } else if (tag8 && n <= 0xff) {
        *p++ = tag8;
        *p++ = (unsigned char)n;
    } else if (n <= 0xffff) {
        *p++ = tag16;
        p = put_be(p, n, 2);
    } else {
        *p++ = tag32;
        p = put_be(p, n, 4);
    }
    return p;
}

void mp_put_map(struct ubuf *b, size_t n)
{
    done(b, put_len(room(b, 5), 0x80, 16, 0, 0xde, 0xdf, n));
}

void mp_put_array(struct ubuf *b, size_t n)
{
    done(b, put_len(room(b, 5), 0x90, 16, 0, 0xdc, 0xdd, n));
}

void mp_put_uint(struct ubuf *b, uint64_t v)
{
    unsigned char *p = room(b, 9);
    if (v < 128) {
        *p++ = (unsigned char)v; /* positive fixint */
    } else {
        int n = v <= 0xff ? 1 : v <= 0xffff ? 2 : v <= 0xffffffffu ? 4 : 8;
        *p++ = n == 1 ? 0xcc : n == 2 ? 0xcd : n == 4 ? 0xce : 0xcf;
        p = put_be(p, v, n);
    }
    done(b, p);
}

void mp_put_int(struct ubuf *b, int64_t v)
{
    if (v >= 0) {
        mp_put_uint(b, (uint64_t)v);
        return;
    }
    unsigned char *p = room(b, 9);
    if (v >= -32) {
        *p++ = (unsigned char)(v & 0xff); /* negative fixint */
    } else {
        int n = v >= -128 ? 1 : v >= -32768 ? 2 : v >= INT32_MIN ? 4 : 8;
        *p++ = n == 1 ? 0xd0 : n == 2 ? 0xd1 : n == 4 ? 0xd2 : 0xd3;
        p = put_be(p, (uint64_t)v, n);
    }
    done(b, p);
}

void mp_put_double(struct ubuf *b, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    unsigned char *p = room(b, 9);
    *p++ = 0xcb;
    done(b, put_be(p, bits, 8));
}

/* nil (0xc0), false (0xc2) or true (0xc3). */
void mp_put_byte(struct ubuf *b, unsigned char c)
{
    unsigned char *p = room(b, 1);
    *p++ = c;
    done(b, p);
}

void mp_put_str(struct ubuf *b, const char *s, size_t n)
{
    unsigned char *p = put_len(room(b, 5 + n), 0xa0, 32, 0xd9, 0xda, 0xdb, n);
    if (n)
        memcpy(p, s, n);
    done(b, p + n);
}

void mp_put_bin(struct ubuf *b, const void *v, size_t n)
{
    unsigned char *p = put_len(room(b, 5 + n), 0, 0, 0xc4, 0xc5, 0xc6, n);
    if (n)
        memcpy(p, v, n);
    done(b, p + n);
}

void mp_reader_init(struct mp_reader *r, const void *buf, size_t len)
{
    r->p = buf;
    r->end = len ? r->p + len : r->p; /* NULL + 0 is undefined in C */
    r->err = false;
}

static uint64_t get_be(struct mp_reader *r, int bytes)
{
    if (r->err || r->end - r->p < bytes) {
        r->err = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | r->p[i];
    r->p += bytes;
    return v;
}

static int get_tag(struct mp_reader *r)
{
    if (r->err || r->p >= r->end) {
        r->err = true;
        return -1;
    }
    return *r->p++;
}

uint32_t mp_get_array(struct mp_reader *r)
{
    int t = get_tag(r);
    if (t >= 0x90 && t <= 0x9f)
        return (uint32_t)(t & 0x0f);
    if (t == 0xdc)
        return (uint32_t)get_be(r, 2);
    if (t == 0xdd)
        return (uint32_t)get_be(r, 4);
    r->err = true;
    return 0;
}

uint64_t mp_get_uint(struct mp_reader *r)
{
    int t = get_tag(r);
    if (t >= 0 && t < 0x80)
        return (uint64_t)t;
    switch (t) {
    case 0xcc: return get_be(r, 1);
    case 0xcd: return get_be(r, 2);
    case 0xce: return get_be(r, 4);
    case 0xcf: return get_be(r, 8);
    default: r->err = true; return 0;
    }
}

static const void *take(struct mp_reader *r, size_t n)
{
    if (r->err || (size_t)(r->end - r->p) < n) {
        r->err = true;
        return NULL;
    }
    const void *p = r->p;
    r->p += n;
    return p;
}

const char *mp_get_str(struct mp_reader *r, size_t *len)
{
    int t = get_tag(r);
    size_t n;
    if (t >= 0xa0 && t <= 0xbf)
        n = (size_t)(t & 0x1f);
    else if (t == 0xd9)
        n = (size_t)get_be(r, 1);
    else if (t == 0xda)
        n = (size_t)get_be(r, 2);
    else if (t == 0xdb)
        n = (size_t)get_be(r, 4);
    else {
        r->err = true;
        *len = 0;
        return "";
    }
    const char *p = take(r, n);
    *len = p ? n : 0;
    return p ? p : "";
}

const void *mp_get_bin(struct mp_reader *r, size_t *len)
{
    int t = get_tag(r);
    size_t n;
    if (t == 0xc4)
        n = (size_t)get_be(r, 1);
    else if (t == 0xc5)
        n = (size_t)get_be(r, 2);
    else if (t == 0xc6)
        n = (size_t)get_be(r, 4);
    else {
        r->err = true;
        *len = 0;
        return NULL;
    }
    const void *p = take(r, n);
    *len = p ? n : 0;
    return p;
}
