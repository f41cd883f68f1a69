/* util — small helpers every module uses: logging, clocks, ids, byte buffers.
 *
 * Nothing here keeps global mutable state except the log level, which `main`
 * sets once before any thread starts (util_log_set_level). */
#ifndef BOSUN_UTIL_H
#define BOSUN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>

enum util_log_level { UTIL_LOG_DEBUG = 0, UTIL_LOG_INFO = 1, UTIL_LOG_WARN = 2, UTIL_LOG_ERROR = 3 };

void util_log_set_level(int level);
void util_log_set_prefix(const char *prefix); /* e.g. "s1"; copied */
void util_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_DEBUG(...) util_log(UTIL_LOG_DEBUG, __VA_ARGS__)
#define LOG_INFO(...) util_log(UTIL_LOG_INFO, __VA_ARGS__)
#define LOG_WARN(...) util_log(UTIL_LOG_WARN, __VA_ARGS__)
#define LOG_ERROR(...) util_log(UTIL_LOG_ERROR, __VA_ARGS__)

struct timespec;
/* The CLOCK_MONOTONIC time timeout_ms from now, for pthread_cond_timedwait
 * on condition variables created with that clock. */
void util_deadline(struct timespec *ts, int timeout_ms);
/* Monotonic milliseconds, for timeouts and latencies. */
uint64_t util_now_ms(void);
/* Monotonic microseconds. */
uint64_t util_now_us(void);
/* Wall clock as RFC 3339 in UTC with second precision ("2026-01-02T03:04:05Z"); buf >= 21. */
void util_time_rfc3339(char *buf, size_t len);
/* Wall clock in Unix milliseconds (for comparing with stored timestamps). */
int64_t util_wall_ms(void);
/* Parses an RFC 3339 UTC timestamp ("2026-01-02T03:04:05Z", fractions of a
 * second allowed and ignored) into Unix milliseconds; -1 if malformed. */
int64_t util_time_parse(const char *s);
/* A random RFC 4122 version 4 uuid; buf >= 37. */
void util_uuid4(char *buf, size_t len);
/* Fills buf with n random bytes from getrandom(). */
void util_random_bytes(void *buf, size_t n);

/* A growable byte buffer. Zero-initialise, then append; free with ubuf_free. */
struct ubuf {
    char *data;
    size_t len;
    size_t cap;
};
void ubuf_reserve(struct ubuf *b, size_t extra);
void ubuf_append(struct ubuf *b, const void *p, size_t n);
void ubuf_appendf(struct ubuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ubuf_free(struct ubuf *b);

/* msgpack (mp.c): a writer appending to a ubuf, every header and integer
 * in its smallest encoding (as msgpack-c's packer), and a bounds-checked
 * reader of arrays, uints, strings and bins (the store's records). */
void mp_put_map(struct ubuf *b, size_t n); /* n <= UINT32_MAX */
void mp_put_array(struct ubuf *b, size_t n); /* n <= UINT32_MAX */
void mp_put_uint(struct ubuf *b, uint64_t v);
void mp_put_int(struct ubuf *b, int64_t v);
void mp_put_double(struct ubuf *b, double x); /* always float64 */
void mp_put_byte(struct ubuf *b, unsigned char c); /* nil 0xc0, false 0xc2, true 0xc3 */
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

/* Has the peer of a connected socket hung up (or the socket failed)?
 * Without reading: a look at POLLRDHUP. False for fd < 0. */
bool util_peer_gone(int fd);

/* Sends all of len bytes on a socket, blocking or not (MSG_NOSIGNAL),
 * waiting at most timeout_ms each time it takes none. False on an error
 * or a timeout. */
bool util_send_all(int fd, const void *buf, size_t len, int timeout_ms);

/* The value of a hexadecimal digit (either case), or -1. */
int util_hex_digit(char c);

/* Standard base64 with padding (RFC 4648 section 4). decode: 0, or -1 on
 * a malformed string (out may then hold a partial result). */
void util_base64_encode(const void *data, size_t len, struct ubuf *out);
int util_base64_decode(const char *s, size_t len, struct ubuf *out);

/* SHA-1 of len bytes (sha1.c): only for the WebSocket handshake. */
void util_sha1(const void *data, size_t len, unsigned char out[20]);

/* Allocation that aborts on failure: bosun treats out-of-memory as fatal. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* FNV-1a over n bytes, continuing from h (start with UTIL_HASH_SEED): the
 * one hash of the maps, digests and generated names (map.c). The seed is
 * not FNV's textbook basis (a digit short), but it is the one the store's
 * digests and the Events' names have always been made with. */
#define UTIL_HASH_SEED 1469598103934665603ull
uint64_t util_hash(uint64_t h, const void *p, size_t n);
static inline uint64_t util_hash_str(uint64_t h, const char *s)
{
    return util_hash(h, s, strlen(s));
}

/* A string-keyed hash map of pointers (map.c). Zero-initialise; keys are
 * copied, values are the caller's. put returns the value it replaced (or
 * NULL), del the value it removed. Iterate with umap_next from *iter = 0;
 * the map must not change during an iteration, except that the key
 * umap_next just returned may be deleted (a delete leaves a tombstone and
 * moves no slot; the returned key pointer dies with it). */
struct umap_slot {
    char *key;
    void *val;
    uint64_t hash;
};
struct umap {
    struct umap_slot *slots;
    size_t cap;  /* a power of two, or 0 */
    size_t n;    /* live keys */
    size_t used; /* live keys and tombstones */
};
void *umap_get(const struct umap *m, const char *key);
void *umap_put(struct umap *m, const char *key, void *val);
void *umap_del(struct umap *m, const char *key);
bool umap_next(const struct umap *m, size_t *iter, const char **key, void **val);
void umap_free(struct umap *m);

/* Parses "123", "1.5s", "200ms", "2m" into milliseconds; -1 on error. */
long util_parse_duration_ms(const char *s);

/* ---- JSON text scanned, not decoded (jscan.c) ---- */

/* The string at p (after whitespace): its raw contents (escapes not
 * undone) in *s and *len; returns the end of the string, NULL if none is whole
 * before end. */
const char *util_json_string(const char *p, const char *end, const char **s, size_t *len);
/* The end of the value at p, NULL if it is cut short or there is none. */
const char *util_json_skip(const char *p, const char *end);
/* Walks the members of the object at p: vals[k] gets where the value of
 * keys[k] starts, or NULL; stops once all are found. false if the text is
 * not an object as far as it was walked, or a key holds an escape. */
bool util_json_members(const char *p, const char *end, const char *const *keys, int n,
                       const char **vals);
/* The start of the value of key in the object at p, or NULL. */
const char *util_json_member(const char *p, const char *end, const char *key);

/* ---- time zones (tz.c): TZif files, no global TZ state ---- */

struct util_tz;
/* A zone from the bytes of a TZif file (RFC 8536, versions 1 to 4); NULL
 * with the reason in err if they are not a well-formed one. */
struct util_tz *util_tz_parse(const unsigned char *data, size_t len, char *err, size_t errlen);
/* The zone named by an IANA name ("Europe/Paris") from dir (NULL:
 * /usr/share/zoneinfo); NULL with Go's words in err: "time: invalid
 * location name" for a name with ".." or a leading slash, "unknown time
 * zone X" if it is not a zone name or its file is missing or malformed. */
struct util_tz *util_tz_load(const char *dir, const char *name, char *err, size_t errlen);
void util_tz_free(struct util_tz *tz);
/* The offset east of UTC in seconds at Unix time t (tz NULL: UTC, 0). */
int32_t util_tz_offset(const struct util_tz *tz, int64_t t);
/* The Unix time of a local wall-clock time (its fields counted as if UTC,
 * e.g. by timegm), resolved as Go's time.Date does in a gap or an overlap. */
int64_t util_tz_from_civil(const struct util_tz *tz, int64_t civil);

#endif
