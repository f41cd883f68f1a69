/* json_load.c — JSON text to a jansson tree, a run of bytes at a time.
 *
 * Why not json_loadb: jansson's loader reads its input through a stream one
 * byte per call, checking UTF-8 and copying into a string buffer byte by
 * byte: 12 us for the 1.1 KiB ConfigMap of `bosun bench writes` here, 8% of
 * the leader's CPU in that benchmark. This loader scans a string's plain
 * bytes in a tight loop and hands the run to jansson in one piece
 * (json_stringn_nocheck: already checked here), so only the tree's
 * allocations remain.
 *
 * What it accepts and builds is exactly what json_loadb does with the same
 * flags (the differential fuzz target fuzz_json_load holds it to that):
 *   - RFC 8259 JSON with whitespace ' ', '\t', '\n', '\r' around tokens;
 *     without JSON_DECODE_ANY the top value must be an object or array;
 *     only whitespace may follow it;
 *   - strings: valid UTF-8 (no overlong forms, surrogates or code points
 *     past U+10FFFF), no byte below 0x20 unescaped; escapes \" \\ \/ \b \f
 *     \n \r \t \uXXXX, a high surrogate escape only followed by a low one;
 *     \u0000 only with JSON_ALLOW_NUL, and never in an object key;
 *   - numbers: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; without a
 *     fraction or exponent an integer (json_int_t; one that does not fit is
 *     an error, as in jansson), else a real (strtod; an overflow to infinity
 *     is an error, an underflow is not);
 *   - a duplicate object key replaces the earlier value in its place, or is
 *     an error with JSON_REJECT_DUPLICATES (the same jansson calls decide);
 *   - every value, scalars too, counts one level of depth, and a value
 *     deeper than 2048 levels is an error (jansson's JSON_PARSER_MAX_DEPTH).
 * Other flags are not supported (asserted). Errors fill json_error_t's text
 * (our words), line, column and position. The recursion is bounded by the
 * depth limit. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

#define JL_MAX_DEPTH 2048
#define JL_NUMBER_MAX 64 /* longer number tokens are copied to the heap */

struct jl {
    const unsigned char *start, *p, *end;
    size_t flags;
    struct ubuf scratch; /* a string with escapes, decoded */
    json_error_t *err;
    bool failed;
};

/* Fails the load once (the first error is the one reported), pointing at
 * `at`; returns NULL so that callers can return it. */
static void *jl_fail(struct jl *j, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void *jl_fail(struct jl *j, const unsigned char *at, const char *fmt, ...)
{
    if (j->failed)
        return NULL;
    j->failed = true;
    if (!j->err)
        return NULL;
    json_error_t *e = j->err;
    memset(e, 0, sizeof *e);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text - 1, fmt, ap);
    va_end(ap);
    snprintf(e->source, sizeof e->source, "<buffer>");
    e->position = (int)(at - j->start);
    e->line = 1;
    const unsigned char *line = j->start;
    for (const unsigned char *q = j->start; q < at; q++)
        if (*q == '\n') {
            e->line++;
            line = q + 1;
        }
    e->column = (int)(at - line);
    return NULL;
}

static void jl_ws(struct jl *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int jl_hex4(const unsigned char *p, const unsigned char *end, uint32_t *out)
{
    if (end - p < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static void jl_put_utf8(struct ubuf *b, uint32_t v)
{
    unsigned char u[4];
    size_t n;
    if (v < 0x80) {
        u[0] = (unsigned char)v;
        n = 1;
    } else if (v < 0x800) {
        u[0] = (unsigned char)(0xc0 | v >> 6);
        u[1] = (unsigned char)(0x80 | (v & 0x3f));
        n = 2;
    } else if (v < 0x10000) {
        u[0] = (unsigned char)(0xe0 | v >> 12);
        u[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
        u[2] = (unsigned char)(0x80 | (v & 0x3f));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xf0 | v >> 18);
        u[1] = (unsigned char)(0x80 | ((v >> 12) & 0x3f));
        u[2] = (unsigned char)(0x80 | ((v >> 6) & 0x3f));
        u[3] = (unsigned char)(0x80 | (v & 0x3f));
        n = 4;
    }
    ubuf_append(b, u, n);
}

/* Decodes the escape at j->p (just past the backslash) into scratch. */
static int jl_escape(struct jl *j, bool *nul)
{
    const unsigned char *at = j->p - 1;
    if (j->p >= j->end)
        return jl_fail(j, at, "unterminated string"), -1;
    unsigned char c = *j->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = c ? strchr(from, c) : NULL;
    if (k) {
        ubuf_append(&j->scratch, &to[k - from], 1);
        return 0;
    }
    uint32_t v, lo;
    if (c != 'u' || jl_hex4(j->p, j->end, &v) != 0)
        return jl_fail(j, at, "invalid escape in a string"), -1;
    j->p += 4;
    if (v >= 0xdc00 && v <= 0xdfff)
        return jl_fail(j, at, "invalid Unicode escape: a lone low surrogate"), -1;
    if (v >= 0xd800 && v <= 0xdbff) {
        if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
            jl_hex4(j->p + 2, j->end, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
            return jl_fail(j, at, "invalid Unicode escape: a high surrogate without a low one"),
                   -1;
        j->p += 6;
        v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (v == 0) {
        if (!(j->flags & JSON_ALLOW_NUL))
            return jl_fail(j, at, "\\u0000 is not allowed in a string"), -1;
        *nul = true;
    }
    jl_put_utf8(&j->scratch, v);
    return 0;
}

/* Reads the string at j->p (on its opening quote). Its text is either a
 * run of the input (*s, *len) or, if it holds escapes, in j->scratch. */
static int jl_string(struct jl *j, const char **s, size_t *len, bool *nul)
{
    const unsigned char *open = j->p++;
    const unsigned char *run = j->p;
    bool escaped = false;
    *nul = false;
    for (;;) {
        /* The common case: plain printable ASCII, a byte a step. */
        while (j->p < j->end && *j->p >= 0x20 && *j->p < 0x80 && *j->p != '"' && *j->p != '\\')
            j->p++;
        if (j->p >= j->end)
            return jl_fail(j, open, "unterminated string"), -1;
        unsigned char c = *j->p;
        if (c == '"')
            break;
        if (c < 0x20)
            return jl_fail(j, j->p, "control character 0x%x in a string", c), -1;
        if (c >= 0x80) {
            size_t n = codec_utf8_len(j->p, (size_t)(j->end - j->p));
            if (!n)
                return jl_fail(j, j->p, "invalid UTF-8 byte 0x%x", c), -1;
            j->p += n;
            continue;
        }
        /* A backslash: from here the string is built in scratch. */
        if (!escaped) {
            j->scratch.len = 0;
            escaped = true;
        }
        ubuf_append(&j->scratch, run, (size_t)(j->p - run));
        j->p++;
        if (jl_escape(j, nul) != 0)
            return -1;
        run = j->p;
    }
    if (escaped) {
        ubuf_append(&j->scratch, run, (size_t)(j->p - run));
        *s = j->scratch.data;
        *len = j->scratch.len;
    } else {
        *s = (const char *)run;
        *len = (size_t)(j->p - run);
    }
    j->p++; /* the closing quote */
    return 0;
}

static bool jl_digit(const struct jl *j)
{
    return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

static void jl_digits(struct jl *j)
{
    while (jl_digit(j))
        j->p++;
}

/* A number token, checked against the grammar, converted as jansson does:
 * strtoll for an integer, strtod for a real, on a terminated copy. */
static json_t *jl_number(struct jl *j)
{
    const unsigned char *t = j->p;
    bool real = false;
    if (*j->p == '-')
        j->p++;
    if (!jl_digit(j))
        return jl_fail(j, t, "invalid number");
    if (*j->p++ != '0')
        jl_digits(j);
    else if (jl_digit(j))
        return jl_fail(j, t, "invalid number: a leading zero");
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        real = true;
        if (!jl_digit(j))
            return jl_fail(j, t, "invalid number: no digit after the point");
        jl_digits(j);
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        real = true;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!jl_digit(j))
            return jl_fail(j, t, "invalid number: no digit in the exponent");
        jl_digits(j);
    }
    size_t n = (size_t)(j->p - t);
    char small[JL_NUMBER_MAX + 1], *buf = n <= JL_NUMBER_MAX ? small : malloc(n + 1);
    if (!buf)
        return jl_fail(j, t, "out of memory");
    memcpy(buf, t, n);
    buf[n] = '\0';
    json_t *v = NULL;
    errno = 0;
    if (!real) {
        long long x = strtoll(buf, NULL, 10);
        if (errno == ERANGE)
            jl_fail(j, t, "integer out of range: %s", buf);
        else
            v = json_integer((json_int_t)x);
    } else {
        double x = strtod(buf, NULL);
        if (errno == ERANGE && (x == HUGE_VAL || x == -HUGE_VAL))
            jl_fail(j, t, "real number overflow: %s", buf);
        else
            v = json_real(x);
    }
    if (buf != small)
        free(buf);
    return v;
}

static json_t *jl_literal(struct jl *j, const char *word, json_t *v)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return jl_fail(j, j->p, "invalid token");
    j->p += n;
    return v;
}

static json_t *jl_value(struct jl *j, int depth);

static json_t *jl_array(struct jl *j, int depth)
{
    json_t *a = json_array();
    j->p++;
    jl_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return a;
    }
    for (;;) {
        json_t *v = jl_value(j, depth + 1);
        if (!v)
            break;
        if (json_array_append_new(a, v) != 0) {
            jl_fail(j, j->p, "out of memory");
            break;
        }
        jl_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return a;
        }
        jl_fail(j, j->p, "',' or ']' expected in an array");
        break;
    }
    json_decref(a);
    return NULL;
}

/* One member: key, colon, value, into o. */
static int jl_member(struct jl *j, json_t *o, int depth)
{
    const char *k;
    size_t klen;
    bool nul;
    if (j->p >= j->end || *j->p != '"')
        return jl_fail(j, j->p, "a string key expected in an object"), -1;
    const unsigned char *at = j->p;
    if (jl_string(j, &k, &klen, &nul) != 0)
        return -1;
    if (nul)
        return jl_fail(j, at, "NUL byte in an object key"), -1;
    /* A key with escapes was decoded into scratch, which the value may
     * reuse: it gets its own copy. Any other key is a run of the input. */
    char *own = NULL;
    if (k == j->scratch.data) {
        if (!(own = malloc(klen ? klen : 1)))
            return jl_fail(j, at, "out of memory"), -1;
        memcpy(own, k, klen);
        k = own;
    }
    int rc = -1;
    if ((j->flags & JSON_REJECT_DUPLICATES) && json_object_getn(o, k, klen)) {
        jl_fail(j, at, "duplicate object key \"%.*s\"", (int)klen, k);
        goto out;
    }
    jl_ws(j);
    if (j->p >= j->end || *j->p != ':') {
        jl_fail(j, j->p, "':' expected after an object key");
        goto out;
    }
    j->p++;
    json_t *v = jl_value(j, depth + 1);
    if (v && json_object_setn_new_nocheck(o, k, klen, v) == 0)
        rc = 0;
    else if (v)
        jl_fail(j, at, "out of memory");
out:
    free(own);
    return rc;
}

static json_t *jl_object(struct jl *j, int depth)
{
    json_t *o = json_object();
    j->p++;
    jl_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return o;
    }
    for (;;) {
        if (jl_member(j, o, depth) != 0)
            break;
        jl_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            jl_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return o;
        }
        jl_fail(j, j->p, "',' or '}' expected in an object");
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *jl_value(struct jl *j, int depth)
{
    jl_ws(j);
    if (j->p >= j->end)
        return jl_fail(j, j->p, "unexpected end of input");
    if (depth > JL_MAX_DEPTH)
        return jl_fail(j, j->p, "nested deeper than %d levels", JL_MAX_DEPTH);
    switch (*j->p) {
    case '{':
        return jl_object(j, depth);
    case '[':
        return jl_array(j, depth);
    case '"': {
        const char *s;
        size_t len;
        bool nul;
        if (jl_string(j, &s, &len, &nul) != 0)
            return NULL;
        return json_stringn_nocheck(s, len);
    }
    case 't':
        return jl_literal(j, "true", json_true());
    case 'f':
        return jl_literal(j, "false", json_false());
    case 'n':
        return jl_literal(j, "null", json_null());
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return jl_number(j);
        return jl_fail(j, j->p, "invalid token");
    }
}

json_t *codec_json_load(const char *buf, size_t len, size_t flags, json_error_t *err)
{
    assert((flags & ~(size_t)(JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)) == 0);
    static const char empty[1] = "";
    struct jl j = {.start = (const unsigned char *)(buf ? buf : empty), .flags = flags, .err = err};
    j.p = j.start;
    j.end = j.start + (buf ? len : 0);
    jl_ws(&j);
    json_t *v = NULL;
    if (!(flags & JSON_DECODE_ANY) && (j.p >= j.end || (*j.p != '{' && *j.p != '[')))
        jl_fail(&j, j.p, "'[' or '{' expected");
    else
        v = jl_value(&j, 1);
    if (v) {
        jl_ws(&j);
        if (j.p < j.end) {
            jl_fail(&j, j.p, "end of input expected after the value");
            json_decref(v);
            v = NULL;
        }
    }
    ubuf_free(&j.scratch);
    return v;
}
