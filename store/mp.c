/* mp.c — the store's minimal msgpack writer and bounds-checked reader (see
 * mp.h). Only the types the store's records use: array, uint, str, bin. */
#include "store/mp.h"

static void put_be(struct ubuf *b, uint8_t tag, uint64_t v, int bytes)
{
    unsigned char tmp[9];
    tmp[0] = tag;
    for (int i = 0; i < bytes; i++)
        tmp[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    ubuf_append(b, tmp, (size_t)bytes + 1);
}

void mp_put_array(struct ubuf *b, uint32_t n)
{
    if (n < 16) {
        unsigned char c = (unsigned char)(0x90 | n);
        ubuf_append(b, &c, 1);
    } else if (n <= 0xffff) {
        put_be(b, 0xdc, n, 2);
    } else {
        put_be(b, 0xdd, n, 4);
    }
}

void mp_put_uint(struct ubuf *b, uint64_t v)
{
    if (v < 128) {
        unsigned char c = (unsigned char)v;
        ubuf_append(b, &c, 1);
    } else if (v <= 0xff) {
        put_be(b, 0xcc, v, 1);
    } else if (v <= 0xffff) {
        put_be(b, 0xcd, v, 2);
    } else if (v <= 0xffffffffu) {
        put_be(b, 0xce, v, 4);
    } else {
        put_be(b, 0xcf, v, 8);
    }
}

void mp_put_str(struct ubuf *b, const char *s, size_t n)
{
    if (n < 32) {
        unsigned char c = (unsigned char)(0xa0 | n);
        ubuf_append(b, &c, 1);
    } else if (n <= 0xff) {
        put_be(b, 0xd9, n, 1);
    } else if (n <= 0xffff) {
        put_be(b, 0xda, n, 2);
    } else {
        put_be(b, 0xdb, n, 4);
    }
    ubuf_append(b, s, n);
}

void mp_put_bin(struct ubuf *b, const void *p, size_t n)
{
    if (n <= 0xff)
        put_be(b, 0xc4, n, 1);
    else if (n <= 0xffff)
        put_be(b, 0xc5, n, 2);
    else
        put_be(b, 0xc6, n, 4);
    ubuf_append(b, p, n);
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
