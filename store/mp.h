/* mp.h — internal to store/: a minimal msgpack writer and reader for the
 * store's own fixed-shape records (commands, object records, change records).
 *
 * Objects themselves are opaque msgpack blobs here (codec/ converts them); the
 * records around them are small arrays of uints, strings and one bin, so a
 * hand-rolled reader is faster than a general unpacker (no zone allocation)
 * and, being bounds-checked at every step, safe on corrupt input. */
#ifndef BOSUN_STORE_MP_H
#define BOSUN_STORE_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

void mp_put_array(struct ubuf *b, uint32_t n);
void mp_put_uint(struct ubuf *b, uint64_t v);
void mp_put_str(struct ubuf *b, const char *s, size_t n);
void mp_put_bin(struct ubuf *b, const void *p, size_t n);

/* A cursor over a buffer; any read past the end or of the wrong type sets
 * err and returns a zero value, so callers check err once at the end. */
struct mp_reader {
    const unsigned char *p;
    const unsigned char *end;
    bool err;
};

void mp_reader_init(struct mp_reader *r, const void *buf, size_t len);
uint32_t mp_get_array(struct mp_reader *r);
uint64_t mp_get_uint(struct mp_reader *r);
const char *mp_get_str(struct mp_reader *r, size_t *len);
const void *mp_get_bin(struct mp_reader *r, size_t *len);

#endif
