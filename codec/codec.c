/* codec.c — JSON (jansson) <-> msgpack, for Raft entries and the store.
 *
 * Encoding walks the jansson tree depth-first and writes straight into the
 * caller's struct ubuf with util's msgpack writer (mp_put_*, util/mp.c),
 * byte for byte what msgpack-c's packer writes, which test_codec holds it
 * to: the packer's write callback per header and per body had made an
 * encode cost twice as much. Objects are
 * written in jansson's iteration order, which is insertion order, so key
 * order survives a round trip. Integers take the smallest encoding, as
 * msgpack_pack_int64 picks it (non-negative values as positive fixint or
 * uint8..uint64, negative ones as negative fixint or int8..int64); strings
 * of 32-255 bytes are str8; reals are always float64.
 *
 * Decoding is a small recursive-descent reader written here rather than
 * msgpack_unpack_next: it builds jansson values directly from the buffer,
 * with no intermediate msgpack_object tree or zone, because every object the
 * store hands out is decoded on a hot path. It is written for hostile input:
 *   - every length is checked against the bytes left before it is used;
 *   - a container's element count is checked against the bytes left (each
 *     element takes at least one byte), so a 5-byte header cannot make us
 *     loop four billion times;
 *   - nesting deeper than CODEC_MAX_DEPTH is refused, which also bounds the
 *     recursion;
 *   - strings and keys must be valid UTF-8 (jansson checks), map keys must be
 *     strings and unique, uint64 above INT64_MAX, NaN/Inf, bin, ext and the
 *     never-used 0xc1 are refused;
 *   - keys may not contain NUL: jansson stores them, but json_object_get and
 *     json_equal treat keys as C strings, so such a key would alias another.
 *     (jansson's parser refuses them too; the encoder refuses them so that
 *     what encodes decodes.) NUL inside string values is fine;
 *   - the value must span the whole buffer (no trailing bytes).
 * On any failure the partial tree is released and NULL returned.
 *
 * Editing (codec_msgpack_edit) copies the bytes of every entry it does not
 * change and rebuilds only the maps on the edited paths.
 *
 * Depth: a top-level scalar has depth 0, a top-level array or object depth 1,
 * its container children depth 2, and so on; the encoder and decoder apply
 * the same rule, so whatever encodes also decodes. */
#include "codec/codec.h"

#include <assert.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- encoding ---------------------------------------------------------- */

static int codec_encode_value(struct ubuf *b, const json_t *v, int depth);

static int codec_encode_object(struct ubuf *b, const json_t *v, int depth)
{
    json_t *o = (json_t *)v; /* the iterator API takes non-const; nothing is modified */
    mp_put_map(b, json_object_size(o));
    for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        if (memchr(key, '\0', klen))
            return -1;
        mp_put_str(b, key, klen);
        if (codec_encode_value(b, json_object_iter_value(it), depth) != 0)
            return -1;
    }
    return 0;
}

static int codec_encode_array(struct ubuf *b, const json_t *v, int depth)
{
    size_t n = json_array_size(v);
    mp_put_array(b, n);
    for (size_t i = 0; i < n; i++)
        if (codec_encode_value(b, json_array_get(v, i), depth) != 0)
            return -1;
    return 0;
}

/* depth is the number of containers enclosing v. */
static int codec_encode_value(struct ubuf *b, const json_t *v, int depth)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        if (depth + 1 > CODEC_MAX_DEPTH)
            return -1;
        return codec_encode_object(b, v, depth + 1);
    case JSON_ARRAY:
        if (depth + 1 > CODEC_MAX_DEPTH)
            return -1;
        return codec_encode_array(b, v, depth + 1);
    case JSON_STRING:
        mp_put_str(b, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        mp_put_int(b, (int64_t)json_integer_value(v));
        return 0;
    case JSON_REAL:
        mp_put_double(b, json_real_value(v));
        return 0;
    case JSON_TRUE:
        mp_put_byte(b, 0xc3);
        return 0;
    case JSON_FALSE:
        mp_put_byte(b, 0xc2);
        return 0;
    case JSON_NULL:
        mp_put_byte(b, 0xc0);
        return 0;
    }
    return -1;
}

int codec_json_to_msgpack(const json_t *v, struct ubuf *out)
{
    if (!v)
        return -1;
    size_t start = out->len;
    if (codec_encode_value(out, v, 0) != 0) {
        out->len = start; /* leave the buffer as it was */
        if (out->data)
            out->data[start] = '\0';
        return -1;
    }
    return 0;
}

/* ---- decoding ---------------------------------------------------------- */

/* Invariant: p <= end; p is the next unread byte. */
struct codec_reader {
    const unsigned char *p;
    const unsigned char *end;
};

static size_t codec_left(const struct codec_reader *r) { return (size_t)(r->end - r->p); }

/* Reads an n-byte big-endian unsigned integer (n <= 8); -1 if too few bytes. */
static int codec_read_be(struct codec_reader *r, size_t n, uint64_t *out)
{
    if (codec_left(r) < n)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | r->p[i];
    r->p += n;
    *out = v;
    return 0;
}

/* Reads the header of a str (fixstr, str8/16/32) into *len, checking that
 * the body is present; -1 if the next value is not a string or is cut. */
static int codec_read_str_header(struct codec_reader *r, size_t *len)
{
    if (codec_left(r) < 1)
        return -1;
    unsigned char b = *r->p++;
    uint64_t n;
    if ((b & 0xe0) == 0xa0)
        n = b & 0x1f;
    else if (b == 0xd9 || b == 0xda || b == 0xdb) {
        if (codec_read_be(r, (size_t)1 << (b - 0xd9), &n) != 0)
            return -1;
    } else
        return -1;
    if (n > codec_left(r))
        return -1;
    *len = (size_t)n;
    return 0;
}

static json_t *codec_decode_value(struct codec_reader *r, int depth);

static json_t *codec_decode_array(struct codec_reader *r, uint64_t n, int depth)
{
    if (depth > CODEC_MAX_DEPTH || n > codec_left(r))
        return NULL;
    json_t *a = json_array();
    for (uint64_t i = 0; i < n; i++) {
        json_t *v = codec_decode_value(r, depth);
        if (!v || json_array_append_new(a, v) != 0) { /* append_new releases v */
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static int codec_skip_value(struct codec_reader *r, int depth);
static int codec_read_map_header(struct codec_reader *r, uint64_t *n);

/* Whether the key is the first segment of the dotted path skip; *rest is
 * then what follows its dot, or NULL if it is the last segment. */
static bool codec_skip_hit(const char *skip, const char *key, size_t klen, const char **rest)
{
    if (!skip)
        return false;
    const char *dot = strchr(skip, '.');
    size_t slen = dot ? (size_t)(dot - skip) : strlen(skip);
    if (slen != klen || memcmp(skip, key, klen) != 0)
        return false;
    *rest = dot ? dot + 1 : NULL;
    return true;
}

/* A map of n entries; without the value at the dotted path skip (NULL:
 * everything), which is stepped over, not decoded. */
static json_t *codec_decode_object(struct codec_reader *r, uint64_t n, int depth, const char *skip)
{
    /* Each entry takes at least two bytes: a fixstr key and a fixint value. */
    if (depth > CODEC_MAX_DEPTH || n > codec_left(r) / 2)
        return NULL;
    json_t *o = json_object();
    size_t kept = 0;
    for (uint64_t i = 0; i < n; i++) {
        size_t klen;
        if (codec_read_str_header(r, &klen) != 0)
            goto fail;
        const char *key = (const char *)r->p;
        if (memchr(key, '\0', klen))
            goto fail;
        r->p += klen;
        const char *rest = NULL;
        json_t *v;
        uint64_t m;
        if (!codec_skip_hit(skip, key, klen, &rest)) {
            v = codec_decode_value(r, depth);
        } else if (!rest) {
            if (codec_skip_value(r, depth) != 0)
                goto fail;
            continue;
        } else {
            struct codec_reader at = *r;
            if (codec_read_map_header(&at, &m) == 0) {
                *r = at;
                v = codec_decode_object(r, m, depth + 1, rest);
            } else {
                v = codec_decode_value(r, depth);
            }
        }
        if (!v)
            goto fail;
        /* setn_new checks the key's UTF-8 and releases v on failure; a
         * size that does not grow means a duplicate key replaced a value. */
        if (json_object_setn_new(o, key, klen, v) != 0 || json_object_size(o) != ++kept)
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

/* A float32 (width 4) or float64 (8) into *d; -1 if too few bytes. */
static int codec_read_real(struct codec_reader *r, size_t width, double *d)
{
    uint64_t bits;
    if (codec_read_be(r, width, &bits) != 0)
        return -1;
    if (width == 4) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        *d = f;
    } else {
        memcpy(d, &bits, sizeof *d);
    }
    return 0;
}

static json_t *codec_decode_real(struct codec_reader *r, size_t width)
{
    double d;
    if (codec_read_real(r, width, &d) != 0)
        return NULL;
    return json_real(d); /* NULL for NaN and infinities */
}

/* The header byte b has been consumed; reads an integer of the given width. */
static json_t *codec_decode_int(struct codec_reader *r, unsigned char b)
{
    uint64_t u;
    if (b >= 0xcc && b <= 0xcf) { /* uint8..uint64 */
        if (codec_read_be(r, (size_t)1 << (b - 0xcc), &u) != 0 || u > INT64_MAX)
            return NULL;
        return json_integer((json_int_t)u);
    }
    size_t width = (size_t)1 << (b - 0xd0); /* int8..int64 */
    if (codec_read_be(r, width, &u) != 0)
        return NULL;
    int64_t s;
    switch (width) {
    case 1: s = (int8_t)(uint8_t)u; break;
    case 2: s = (int16_t)(uint16_t)u; break;
    case 4: s = (int32_t)(uint32_t)u; break;
    default: {
        memcpy(&s, &u, sizeof s); /* two's complement, without UB */
        break;
    }
    }
    return json_integer((json_int_t)s);
}

/* depth is the number of containers enclosing the value being read. */
static json_t *codec_decode_value(struct codec_reader *r, int depth)
{
    if (codec_left(r) < 1)
        return NULL;
    unsigned char b = *r->p;
    uint64_t n;
    if (b <= 0x7f) {
        r->p++;
        return json_integer(b);
    }
    if (b >= 0xe0) {
        r->p++;
        return json_integer((json_int_t)(int8_t)b);
    }
    if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) {
        size_t len;
        if (codec_read_str_header(r, &len) != 0)
            return NULL;
        json_t *s = json_stringn((const char *)r->p, len); /* NULL if not UTF-8 */
        r->p += len;
        return s;
    }
    r->p++;
    if ((b & 0xf0) == 0x80)
        return codec_decode_object(r, b & 0x0f, depth + 1, NULL);
    if ((b & 0xf0) == 0x90)
        return codec_decode_array(r, b & 0x0f, depth + 1);
    switch (b) {
    case 0xc0: return json_null();
    case 0xc2: return json_false();
    case 0xc3: return json_true();
    case 0xca: return codec_decode_real(r, 4);
    case 0xcb: return codec_decode_real(r, 8);
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
    case 0xd0: case 0xd1: case 0xd2: case 0xd3:
        return codec_decode_int(r, b);
    case 0xdc: case 0xdd:
        if (codec_read_be(r, b == 0xdc ? 2 : 4, &n) != 0)
            return NULL;
        return codec_decode_array(r, n, depth + 1);
    case 0xde: case 0xdf:
        if (codec_read_be(r, b == 0xde ? 2 : 4, &n) != 0)
            return NULL;
        return codec_decode_object(r, n, depth + 1, NULL);
    default:
        return NULL; /* 0xc1 (never used), bin, ext, fixext */
    }
}

/* ---- partial decoding -------------------------------------------------- */

/* Steps over one value without decoding it; -1 if malformed or if it holds
 * what codec_decode_value refuses (bin, ext). */
static int codec_skip_value(struct codec_reader *r, int depth)
{
    if (depth > CODEC_MAX_DEPTH || codec_left(r) < 1)
        return -1;
    unsigned char b = *r->p;
    uint64_t n = 0, items = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
        r->p++;
        return 0;
    }
    if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) {
        size_t len;
        if (codec_read_str_header(r, &len) != 0)
            return -1;
        r->p += len;
        return 0;
    }
    r->p++;
    if ((b & 0xf0) == 0x80 || (b & 0xf0) == 0x90) {
        items = (uint64_t)(b & 0x0f) * ((b & 0xf0) == 0x80 ? 2 : 1);
    } else if (b == 0xca || b == 0xcb) {
        return codec_read_be(r, b == 0xca ? 4 : 8, &n);
    } else if (b >= 0xcc && b <= 0xd3) {
        return codec_read_be(r, (size_t)1 << ((b - 0xcc) & 3), &n);
    } else if (b >= 0xdc && b <= 0xdf) {
        if (codec_read_be(r, (b & 1) ? 4 : 2, &n) != 0)
            return -1;
        items = b >= 0xde ? 2 * n : n;
    } else {
        return -1;
    }
    if (items > codec_left(r))
        return -1;
    for (uint64_t i = 0; i < items; i++)
        if (codec_skip_value(r, depth + 1) != 0)
            return -1;
    return 0;
}

/* Reads a map header: its number of entries; -1 if the value is no map. */
static int codec_read_map_header(struct codec_reader *r, uint64_t *n)
{
    if (codec_left(r) < 1)
        return -1;
    unsigned char b = *r->p++;
    if ((b & 0xf0) == 0x80) {
        *n = b & 0x0f;
        return 0;
    }
    if (b == 0xde || b == 0xdf)
        return codec_read_be(r, b == 0xde ? 2 : 4, n);
    return -1;
}

/* Leaves r at the value of key in the map at r: 0, 1 if the value there is
 * no map or has no such key, -1 if malformed. */
static int codec_seek_key(struct codec_reader *r, const char *key, size_t klen, int depth)
{
    uint64_t n;
    if (codec_read_map_header(r, &n) != 0)
        return 1;
    for (uint64_t i = 0; i < n; i++) {
        size_t len;
        if (codec_read_str_header(r, &len) != 0)
            return -1;
        bool hit = len == klen && memcmp(r->p, key, klen) == 0;
        r->p += len;
        if (hit)
            return 0;
        if (codec_skip_value(r, depth + 1) != 0)
            return -1;
    }
    return 1;
}

/* Sets v (stolen) in out at a dotted path, making the maps on the way. */
static int codec_set_path(json_t *out, const char *path, json_t *v)
{
    json_t *at = out;
    for (const char *seg = path;;) {
        const char *dot = strchr(seg, '.');
        size_t slen = dot ? (size_t)(dot - seg) : strlen(seg);
        if (!dot)
            return json_object_setn_new(at, seg, slen, v);
        json_t *next = json_object_getn(at, seg, slen);
        if (!json_is_object(next)) {
            next = json_object();
            json_object_setn_new(at, seg, slen, next);
        }
        at = next;
        seg = dot + 1;
    }
}

/* Multi-path extraction walks each map once for all the paths below it:
 * a pod's paths share "metadata" and "spec", and seeking each path from
 * the top stepped over metadata.managedFields (most of a stored pod) once
 * per path. at[i] is where path i's segment for this map starts; active,
 * the paths still looking in it (bit i: path i). The first entry with a
 * key wins, as a seek from the top would find it. */
#define CODEC_EXTRACT_MAX 32

static int codec_extract_level(struct codec_reader *r, const char *const *paths,
                               const size_t *at, uint32_t active, bool finish, json_t *out,
                               int depth);

/* The paths in active whose segment at this level is key: those that end
 * there (*leaf) and those that go on below it (*deeper, with next[i]
 * where their next segment starts). */
static void codec_extract_match(const char *const *paths, const size_t *at, uint32_t active,
                                const unsigned char *key, size_t klen, uint32_t *leaf,
                                uint32_t *deeper, size_t *next)
{
    *leaf = *deeper = 0;
    for (unsigned i = 0; active >> i; i++) {
        if (!(active >> i & 1))
            continue;
        const char *seg = paths[i] + at[i];
        if (klen && (unsigned char)seg[0] != key[0])
            continue; /* most keys differ at once: no need to measure seg */
        const char *dot = strchr(seg, '.');
        size_t slen = dot ? (size_t)(dot - seg) : strlen(seg);
        if (slen != klen || memcmp(seg, key, klen) != 0)
            continue;
        if (dot) {
            *deeper |= 1u << i;
            next[i] = at[i] + slen + 1;
        } else {
            *leaf |= 1u << i;
        }
    }
}

/* The value at r, the one under a key that paths reached: decoded into
 * out for the paths that end there, walked for those that go on; r is
 * left after it if need_end (else the walk may stop once every path is
 * found). 0, or -1 if malformed. */
static int codec_extract_value(struct codec_reader *r, const char *const *paths,
                               const size_t *next, uint32_t leaf, uint32_t deeper, bool need_end,
                               json_t *out, int depth)
{
    if (leaf) {
        struct codec_reader lr = *r;
        json_t *v = codec_decode_value(&lr, depth);
        if (!v)
            return -1;
        for (unsigned i = 0; leaf >> i; i++) {
            if (!(leaf >> i & 1))
                continue;
            bool last = leaf >> i == 1; /* the same path twice: a copy each */
            if (codec_set_path(out, paths[i], last ? v : json_deep_copy(v)) != 0) {
                if (!last)
                    json_decref(v);
                return -1;
            }
        }
    }
    if (deeper) {
        struct codec_reader dr = *r;
        int rc = codec_extract_level(&dr, paths, next, deeper, need_end, out, depth);
        if (rc < 0)
            return -1;
        if (rc == 1 && !need_end) /* a map, and no one reads on */
            return 0;
        if (rc == 1) { /* a map, walked to its end */
            *r = dr;
            return 0;
        }
    }
    return need_end ? codec_skip_value(r, depth) : 0;
}

/* Walks the map at r for the active paths. -1 if malformed, 0 if the value
 * is no map (nothing found), 1 if a map: walked to its end if finish, else
 * only until every active path was found. */
static int codec_extract_level(struct codec_reader *r, const char *const *paths,
                               const size_t *at, uint32_t active, bool finish, json_t *out,
                               int depth)
{
    uint64_t n;
    if (depth > CODEC_MAX_DEPTH || codec_read_map_header(r, &n) != 0)
        return 0;
    for (uint64_t i = 0; i < n && (active || finish); i++) {
        size_t klen;
        if (codec_read_str_header(r, &klen) != 0)
            return -1;
        const unsigned char *key = r->p;
        r->p += klen;
        uint32_t leaf = 0, deeper = 0;
        size_t next[CODEC_EXTRACT_MAX];
        if (active)
            codec_extract_match(paths, at, active, key, klen, &leaf, &deeper, next);
        active &= ~(leaf | deeper);
        int rc = leaf | deeper ? codec_extract_value(r, paths, next, leaf, deeper,
                                                     finish || active, out, depth + 1)
                               : codec_skip_value(r, depth + 1);
        if (rc != 0)
            return -1;
    }
    return 1;
}

json_t *codec_msgpack_extract(const void *buf, size_t len, const char *const *paths, unsigned n)
{
    if (!buf || len == 0)
        return NULL;
    assert(n <= CODEC_EXTRACT_MAX);
    size_t at[CODEC_EXTRACT_MAX] = {0};
    uint32_t active = n == CODEC_EXTRACT_MAX ? UINT32_MAX : (1u << n) - 1;
    struct codec_reader r = {buf, (const unsigned char *)buf + len};
    json_t *out = json_object();
    if (codec_extract_level(&r, paths, at, active, false, out, 0) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- editing a map without decoding it --------------------------------
 *
 * codec_msgpack_edit rewrites only the maps on the edited paths; every other
 * entry's bytes are copied as they are, which is what the encoder would
 * write again, since stored bytes are the encoder's. An edited map's count
 * may change and its header comes first, so its entries go to a scratch
 * buffer that is appended behind the new header. */

/* The first segment of a dotted path: its length; *last if no dot follows. */
static size_t edit_segment(const char *path, bool *last)
{
    const char *dot = strchr(path, '.');
    *last = !dot;
    return dot ? (size_t)(dot - path) : strlen(path);
}

static void edit_put_key(struct ubuf *out, const char *key, size_t klen)
{
    mp_put_str(out, key, klen);
}

/* Whether any of the edits sets a value (a group of deletes under a map
 * that is not there changes nothing, as json_object_del would not). */
static bool edit_sets(const struct codec_edit *const *ed, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (ed[i]->value)
            return true;
    return false;
}

static int edit_map(struct codec_reader *r, const struct codec_edit *const *ed,
                    const char *const *rest, unsigned n, int depth, struct ubuf *out);

/* The edits among ed[from..n) that are not done and whose path continues
 * under key: marked done, their remaining paths in sub/subrest; returns how
 * many, or -1 if one of them ends at key and another goes on below it. *whole
 * is the one that ends at key, or -1. */
static int edit_group(const struct codec_edit *const *ed, const char *const *rest, bool *done,
                      unsigned from, unsigned n, const char *key, size_t klen, int *whole,
                      const struct codec_edit **sub, const char **subrest)
{
    unsigned nsub = 0;
    *whole = -1;
    for (unsigned j = from; j < n; j++) {
        bool last;
        size_t sl = edit_segment(rest[j], &last);
        if (done[j] || sl != klen || memcmp(rest[j], key, klen) != 0)
            continue;
        done[j] = true;
        if (last) {
            *whole = (int)j;
        } else {
            sub[nsub] = ed[j];
            subrest[nsub++] = rest[j] + sl + 1;
        }
    }
    return *whole >= 0 && nsub ? -1 : (int)nsub;
}

/* Appends key and what the group makes of the value at r (NULL: there is
 * none); *count grows by the entries written. */
static int edit_entry(struct codec_reader *r, const char *key, size_t klen, int whole,
                      const struct codec_edit *const *ed, const struct codec_edit **sub,
                      const char **subrest, unsigned nsub, int depth, struct ubuf *body,
                      uint64_t *count)
{
    if (whole >= 0) {
        if (r && codec_skip_value(r, depth) != 0)
            return -1;
        if (!ed[whole]->value)
            return 0;
        edit_put_key(body, key, klen);
        (*count)++;
        /* The value sits inside depth maps: the depth limit counts them. */
        return codec_encode_value(body, ed[whole]->value, depth);
    }
    if (!r && !edit_sets(sub, nsub))
        return 0;
    edit_put_key(body, key, klen);
    (*count)++;
    return edit_map(r, sub, subrest, nsub, depth + 1, body);
}

/* Appends the map at r (NULL: an empty one) with the edits ed[0..n) made,
 * rest[i] being what remains of ed[i]'s path below this map. */
static int edit_map(struct codec_reader *r, const struct codec_edit *const *ed,
                    const char *const *rest, unsigned n, int depth, struct ubuf *out)
{
    const struct codec_edit *sub[CODEC_EDIT_MAX];
    const char *subrest[CODEC_EDIT_MAX];
    bool done[CODEC_EDIT_MAX] = {false};
    uint64_t entries = 0, count = 0;
    struct ubuf body = {0};
    int whole, nsub, rc = -1;
    if (depth > CODEC_MAX_DEPTH || (r && codec_read_map_header(r, &entries) != 0))
        return -1;
    for (uint64_t i = 0; i < entries; i++) {
        const unsigned char *start = r->p;
        size_t klen;
        if (codec_read_str_header(r, &klen) != 0)
            goto out;
        const char *key = (const char *)r->p;
        r->p += klen;
        nsub = edit_group(ed, rest, done, 0, n, key, klen, &whole, sub, subrest);
        if (nsub < 0)
            goto out;
        if (whole < 0 && nsub == 0) { /* untouched: copied as it is */
            if (codec_skip_value(r, depth) != 0)
                goto out;
            ubuf_append(&body, start, (size_t)(r->p - start));
            count++;
        } else if (edit_entry(r, key, klen, whole, ed, sub, subrest, (unsigned)nsub, depth,
                              &body, &count) != 0) {
            goto out;
        }
    }
    /* What is not there yet is added at the end, in the edits' order. */
    for (unsigned j = 0; j < n; j++) {
        if (done[j])
            continue;
        bool last;
        size_t klen = edit_segment(rest[j], &last);
        nsub = edit_group(ed, rest, done, j, n, rest[j], klen, &whole, sub, subrest);
        if (nsub < 0 || edit_entry(NULL, rest[j], klen, whole, ed, sub, subrest,
                                   (unsigned)nsub, depth, &body, &count) != 0)
            goto out;
    }
    mp_put_map(out, count);
    ubuf_append(out, body.data, body.len);
    rc = 0;
out:
    ubuf_free(&body);
    return rc;
}

int codec_msgpack_edit(const void *buf, size_t len, const struct codec_edit *edits, unsigned n,
                       struct ubuf *out)
{
    const struct codec_edit *ed[CODEC_EDIT_MAX];
    const char *rest[CODEC_EDIT_MAX];
    struct codec_reader r = {buf, (const unsigned char *)buf + len};
    size_t start = out->len;
    if (n > CODEC_EDIT_MAX)
        return -1;
    for (unsigned i = 0; i < n; i++) {
        ed[i] = &edits[i];
        rest[i] = edits[i].path;
    }
    if (edit_map(&r, ed, rest, n, 1, out) != 0 || r.p != r.end) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return -1;
    }
    return 0;
}

/* ---- msgpack straight to JSON text ---------------------------------------
 *
 * codec_msgpack_json_text writes what json_dumps(codec_msgpack_to_json(buf),
 * JSON_COMPACT) would, byte for byte, without the jansson tree in between:
 * the same escapes (\\ \" \b \f \n \r \t, \u%04X for other control
 * characters, everything else as is), integers as %lld, reals as jansson's
 * %.17g with ".0" added to integral values and the exponent's '+' and
 * leading zeros removed. It refuses what the decoder refuses (invalid UTF-8,
 * NUL in keys, NaN and infinities, bin, ext, depth), except duplicate keys,
 * which it does not look for (what the store holds was encoded from JSON
 * objects, which have none). fuzz_codec checks it against the decoder. */

static int jt_value(struct codec_reader *r, struct ubuf *out, int depth);

/* One byte, without ubuf_append's call and terminator: JSON text is mostly
 * punctuation and short strings, and these were a third of its cost. The
 * terminator is written once at the end (codec_msgpack_json_text). */
static inline void jt_put(struct ubuf *out, char c)
{
    if (out->len + 2 > out->cap)
        ubuf_reserve(out, 1);
    out->data[out->len++] = c;
}

/* Bytes, as jt_put writes one: without ubuf_append's call and terminator. */
static inline void jt_append(struct ubuf *out, const void *p, size_t n)
{
    if (out->len + n + 1 > out->cap)
        ubuf_reserve(out, n);
    memcpy(out->data + out->len, p, n);
    out->len += n;
}

/* An integer as %lld writes it, without printf. */
static void jt_int(struct ubuf *out, long long v)
{
    char b[24], *p = b + sizeof b;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    jt_append(out, p, (size_t)(b + sizeof b - p));
}

/* Whether byte c goes into a JSON string as it is and alone: printable
 * ASCII other than the quote and the backslash. */
static inline bool jt_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

size_t codec_utf8_len(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

/* Whether all 8 bytes of w are jt_plain. Byte by byte, that test was half
 * of the rendering's time; here it is the "has a zero byte" trick,
 * (x - 0x01..) & ~x & 0x80.., which is exact about whether some byte
 * qualifies: once for bytes below 0x20 (x = w, subtracting 0x20..), once
 * each for the quote and the backslash (x = w ^ that byte, which is zero
 * where w has it); non-ASCII bytes are the high bits of w. */
static inline bool jt_plain8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    uint64_t bad = (w & high) | ((w - ones * 0x20) & ~w & high) |
                   ((quote - ones) & ~quote & high) | ((backslash - ones) & ~backslash & high);
    return bad == 0;
}

static int jt_string(struct ubuf *out, const unsigned char *s, size_t len)
{
    jt_put(out, '"');
    size_t i = 0, from = 0; /* s[from .. i) is plain and waiting to be copied */
    while (i < len) {
        uint64_t w;
        if (i + 8 <= len && (memcpy(&w, s + i, 8), jt_plain8(w))) {
            i += 8; /* the common case: no escape, no UTF-8 check */
            continue;
        }
        unsigned char c = s[i];
        if (jt_plain(c)) {
            i++;
            continue;
        }
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            if (c < 0x20) {
                snprintf(u, sizeof u, "\\u%04X", c);
                esc = u;
            }
        }
        if (esc) {
            jt_append(out, s + from, i - from);
            jt_append(out, esc, strlen(esc));
            from = ++i;
            continue;
        }
        size_t n = codec_utf8_len(s + i, len - i);
        if (n == 0)
            return -1;
        i += n;
    }
    jt_append(out, s + from, len - from);
    jt_put(out, '"');
    return 0;
}

/* A real as jansson's jsonp_dtostr writes it (precision 17). */
static int jt_real(struct ubuf *out, double d)
{
    if (isnan(d) || isinf(d))
        return -1;
    char b[64];
    snprintf(b, sizeof b, "%.17g", d);
    char *e = strchr(b, 'e');
    if (!e && !strchr(b, '.'))
        strcat(b, ".0");
    if (e) { /* "1e+05" -> "1e5", "1e-05" -> "1e-5" */
        char *p = e + 1, *q = p;
        if (*q == '+')
            q++;
        else if (*q == '-')
            *p++ = *q++;
        while (*q == '0' && q[1])
            q++;
        memmove(p, q, strlen(q) + 1);
    }
    ubuf_append(out, b, strlen(b));
    return 0;
}

static int jt_scalar(struct codec_reader *r, struct ubuf *out, unsigned char b)
{
    json_t *v = NULL;
    switch (b) {
    case 0xc0: ubuf_append(out, "null", 4); return 0;
    case 0xc2: ubuf_append(out, "false", 5); return 0;
    case 0xc3: ubuf_append(out, "true", 4); return 0;
    case 0xca: case 0xcb: {
        double d;
        return codec_read_real(r, b == 0xca ? 4 : 8, &d) == 0 ? jt_real(out, d) : -1;
    }
    default:
        if (b < 0xcc || b > 0xd3)
            return -1;
        v = codec_decode_int(r, b); /* small: no tree to speak of */
        if (!v)
            return -1;
        jt_int(out, (long long)json_integer_value(v));
        json_decref(v);
        return 0;
    }
}

/* A map's entries; at the top level (rv set) metadata.resourceVersion is
 * set to rv as object_render does: in place if present, else at the end. */
static int jt_map(struct codec_reader *r, struct ubuf *out, uint64_t n, int depth, const char *rv,
                  bool in_metadata)
{
    if (depth > CODEC_MAX_DEPTH || n > codec_left(r) / 2)
        return -1;
    const char *want = in_metadata ? "resourceVersion" : "metadata";
    bool seen = false;
    jt_put(out, '{');
    for (uint64_t i = 0; i < n; i++) {
        size_t klen;
        if (codec_read_str_header(r, &klen) != 0 || memchr(r->p, '\0', klen))
            return -1;
        const unsigned char *key = r->p;
        r->p += klen;
        if (i)
            jt_put(out, ',');
        if (jt_string(out, key, klen) != 0)
            return -1;
        jt_put(out, ':');
        bool hit = rv && klen == strlen(want) && memcmp(key, want, klen) == 0;
        if (!hit) {
            if (jt_value(r, out, depth) != 0)
                return -1;
            continue;
        }
        seen = true;
        uint64_t m;
        struct codec_reader at = *r;
        if (!in_metadata && codec_read_map_header(&at, &m) == 0) {
            *r = at;
            if (jt_map(r, out, m, depth + 1, rv, true) != 0)
                return -1;
            continue;
        }
        if (codec_skip_value(r, depth) != 0)
            return -1;
        if (in_metadata)
            ubuf_appendf(out, "\"%s\"", rv);
        else
            ubuf_appendf(out, "{\"resourceVersion\":\"%s\"}", rv);
    }
    if (rv && !seen)
        ubuf_appendf(out, in_metadata ? "%s\"resourceVersion\":\"%s\"" :
                     "%s\"metadata\":{\"resourceVersion\":\"%s\"}", n ? "," : "", rv);
    jt_put(out, '}');
    return 0;
}

static int jt_array(struct codec_reader *r, struct ubuf *out, uint64_t n, int depth)
{
    if (depth > CODEC_MAX_DEPTH || n > codec_left(r))
        return -1;
    jt_put(out, '[');
    for (uint64_t i = 0; i < n; i++) {
        if (i)
            jt_put(out, ',');
        if (jt_value(r, out, depth) != 0)
            return -1;
    }
    jt_put(out, ']');
    return 0;
}

static int jt_value(struct codec_reader *r, struct ubuf *out, int depth)
{
    if (codec_left(r) < 1)
        return -1;
    unsigned char b = *r->p;
    uint64_t n;
    if (b <= 0x7f || b >= 0xe0) {
        r->p++;
        jt_int(out, b <= 0x7f ? (long long)b : (long long)(int8_t)b);
        return 0;
    }
    if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) {
        size_t len;
        if (codec_read_str_header(r, &len) != 0)
            return -1;
        const unsigned char *s = r->p;
        r->p += len;
        return jt_string(out, s, len);
    }
    r->p++;
    if ((b & 0xf0) == 0x80)
        return jt_map(r, out, b & 0x0f, depth + 1, NULL, false);
    if ((b & 0xf0) == 0x90)
        return jt_array(r, out, b & 0x0f, depth + 1);
    if (b == 0xdc || b == 0xdd || b == 0xde || b == 0xdf) {
        if (codec_read_be(r, (b & 1) ? 4 : 2, &n) != 0)
            return -1;
        return b <= 0xdd ? jt_array(r, out, n, depth + 1)
                         : jt_map(r, out, n, depth + 1, NULL, false);
    }
    return jt_scalar(r, out, b);
}

/* The end of a rendering that began at out->len == start: on success (rc
 * 0) the terminator jt_put leaves to here; otherwise out as it was. */
static int jt_end(struct ubuf *out, size_t start, int rc)
{
    if (rc != 0) {
        out->len = start;
        if (out->data)
            out->data[out->len] = '\0';
        return rc;
    }
    ubuf_reserve(out, 0);
    out->data[out->len] = '\0';
    return 0;
}

int codec_msgpack_json_text(const void *buf, size_t len, const char *rv, struct ubuf *out)
{
    if (!buf || len == 0)
        return -1;
    struct codec_reader r = {buf, (const unsigned char *)buf + len};
    size_t start = out->len;
    uint64_t n;
    int rc = rv ? (codec_read_map_header(&r, &n) == 0 ? jt_map(&r, out, n, 1, rv, false) : -1)
                : jt_value(&r, out, 0);
    return jt_end(out, start, rc != 0 || r.p != r.end ? -1 : 0);
}

json_t *codec_msgpack_to_json_without(const void *buf, size_t len, const char *skip)
{
    if (!buf || len == 0)
        return NULL;
    struct codec_reader r = {buf, (const unsigned char *)buf + len}, at = r;
    uint64_t n;
    json_t *v;
    if (codec_read_map_header(&at, &n) == 0) {
        r = at;
        v = codec_decode_object(&r, n, 1, skip);
    } else {
        v = codec_decode_value(&r, 0);
    }
    if (v && r.p != r.end) { /* trailing bytes */
        json_decref(v);
        return NULL;
    }
    return v;
}

json_t *codec_msgpack_to_json(const void *buf, size_t len)
{
    return codec_msgpack_to_json_without(buf, len, NULL);
}

int codec_msgpack_json_text_at(const void *buf, size_t len, const char *key, const char *rv,
                               struct ubuf *out)
{
    if (!buf || len == 0)
        return -1;
    struct codec_reader r = {buf, (const unsigned char *)buf + len};
    int rc = codec_seek_key(&r, key, strlen(key), 0);
    if (rc != 0)
        return rc;
    size_t start = out->len;
    uint64_t n;
    if (rv)
        rc = codec_read_map_header(&r, &n) == 0 ? jt_map(&r, out, n, 2, rv, true) : 1;
    else
        rc = jt_value(&r, out, 1);
    return jt_end(out, start, rc);
}
