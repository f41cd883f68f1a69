/* fuzz_codec.c — libFuzzer harness for codec_msgpack_to_json.
 *
 * Each input is decoded as msgpack. Whatever decodes must
 *   1. re-encode, and the re-encoding must decode to an equal value;
 *   2. agree with msgpack-c's own unpacker, used here as an independent
 *      oracle: msgpack-c must accept the same bytes (unless it runs out of
 *      its fixed 32-level stack) and yield the same values in the same order.
 *   3. codec_msgpack_json_text must write json_dumps' very text;
 *   4. codec_msgpack_extract must pick out of it exactly what its paths
 *      reach (and never crash on any input);
 *   5. codec_msgpack_to_json_without must give it less the skipped path,
 *      and codec_msgpack_json_text_at json_dumps' text of one key's value
 *      (with a resourceVersion set, as a Table row's metadata);
 *   6. codec_msgpack_edit must make the edits jansson makes on it, byte for
 *      byte when it is the encoder's own output.
 * Anything else is a bug and aborts. Sanitizers catch crashes, over-reads
 * and leaks on the inputs the decoder refuses.
 *
 *   make build/fuzz/fuzz_codec && ./build/fuzz/fuzz_codec -max_total_time=60 */
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

/* Same as json_equal, but compares object keys by length too. (jansson's
 * json_equal looks keys up as C strings; the codec refuses NUL in keys, so
 * this is belt and braces.) Also requires the same key order. */
static int fuzz_json_same(json_t *a, json_t *b)
{
    if (json_typeof(a) != json_typeof(b))
        return 0;
    switch (json_typeof(a)) {
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        void *ia = json_object_iter(a), *ib = json_object_iter(b);
        for (; ia && ib; ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib)) {
            size_t la = json_object_iter_key_len(ia), lb = json_object_iter_key_len(ib);
            if (la != lb || memcmp(json_object_iter_key(ia), json_object_iter_key(ib), la) != 0)
                return 0;
            if (!fuzz_json_same(json_object_iter_value(ia), json_object_iter_value(ib)))
                return 0;
        }
        return !ia && !ib;
    }
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!fuzz_json_same(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);
        return memcmp(&x, &y, sizeof x) == 0; /* bitwise: keeps -0.0 apart */
    }
    default:
        return json_equal(a, b);
    }
}

/* Does msgpack-c's object o hold the same value as the codec's j? */
static int fuzz_matches_msgpack(const msgpack_object *o, json_t *j)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_is_null(j);
    case MSGPACK_OBJECT_BOOLEAN:
        return o->via.boolean ? json_is_true(j) : json_is_false(j);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return json_is_integer(j) && json_integer_value(j) >= 0 &&
               (uint64_t)json_integer_value(j) == o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_is_integer(j) && json_integer_value(j) == o->via.i64;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return json_is_real(j) && memcmp(&o->via.f64, &(double){json_real_value(j)}, 8) == 0;
    case MSGPACK_OBJECT_STR:
        /* msgpack-c gives an empty string a NULL pointer: no memcmp then */
        return json_is_string(j) && json_string_length(j) == o->via.str.size &&
               (o->via.str.size == 0 ||
                memcmp(json_string_value(j), o->via.str.ptr, o->via.str.size) == 0);
    case MSGPACK_OBJECT_ARRAY:
        if (!json_is_array(j) || json_array_size(j) != o->via.array.size)
            return 0;
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (!fuzz_matches_msgpack(&o->via.array.ptr[i], json_array_get(j, i)))
                return 0;
        return 1;
    case MSGPACK_OBJECT_MAP: {
        if (!json_is_object(j) || json_object_size(j) != o->via.map.size)
            return 0;
        void *it = json_object_iter(j);
        for (uint32_t i = 0; i < o->via.map.size; i++, it = json_object_iter_next(j, it)) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            if (!it || k->type != MSGPACK_OBJECT_STR ||
                k->via.str.size != json_object_iter_key_len(it) ||
                (k->via.str.size &&
                 memcmp(k->via.str.ptr, json_object_iter_key(it), k->via.str.size) != 0))
                return 0;
            if (!fuzz_matches_msgpack(&o->via.map.ptr[i].val, json_object_iter_value(it)))
                return 0;
        }
        return 1;
    }
    default:
        return 0; /* bin, ext: the codec must have refused them */
    }
}

static void fuzz_check_oracle(const uint8_t *data, size_t size, json_t *v)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack_next(&up, (const char *)data, size, &off);
    if (rc == MSGPACK_UNPACK_NOMEM_ERROR) { /* msgpack-c's 32-level stack */
        msgpack_unpacked_destroy(&up);
        return;
    }
    if (rc != MSGPACK_UNPACK_SUCCESS || off != size || !fuzz_matches_msgpack(&up.data, v))
        abort();
    msgpack_unpacked_destroy(&up);
}

/* The value at a dotted path of v, or NULL (the oracle for extraction). */
static json_t *fuzz_path_get(json_t *v, const char *path)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && v;
         tok = strtok_r(NULL, ".", &save))
        v = json_is_object(v) ? json_object_get(v, tok) : NULL;
    return v;
}

/* codec_msgpack_extract on any input: no crash; and when the whole input
 * decodes to an object v, exactly the values the paths reach in v, placed
 * at the same paths. */
static void fuzz_check_extract(const uint8_t *data, size_t size, json_t *v)
{
    static const char *const paths[] = {"a", "a.b", "b", "metadata.labels", "spec.nodeName"};
    const unsigned n = sizeof paths / sizeof paths[0];
    json_t *got = codec_msgpack_extract(data, size, paths, n);
    if (v && json_is_object(v)) {
        json_t *want = json_object();
        for (unsigned i = 0; i < n; i++) {
            json_t *x = fuzz_path_get(v, paths[i]);
            if (!x)
                continue;
            json_t *at = want;
            char buf[64];
            snprintf(buf, sizeof buf, "%s", paths[i]);
            char *save = NULL, *tok = strtok_r(buf, ".", &save);
            for (char *next; (next = strtok_r(NULL, ".", &save)); tok = next) {
                json_t *sub = json_object_get(at, tok);
                if (!json_is_object(sub))
                    json_object_set_new(at, tok, sub = json_object());
                at = sub;
            }
            json_object_set_new(at, tok, json_deep_copy(x));
        }
        if (!got || !json_equal(got, want))
            abort();
        json_decref(want);
    }
    json_decref(got);
}

/* codec_msgpack_json_text must write exactly json_dumps' text of whatever
 * decodes, and with a resourceVersion, exactly what the server's
 * object_render and json_dumps make of an object. */
static void fuzz_check_text(const uint8_t *data, size_t size, json_t *v)
{
    struct ubuf t = {0};
    int rc = codec_msgpack_json_text(data, size, NULL, &t);
    if (!v) {
        ubuf_free(&t);
        return;
    }
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (rc != 0 || !want || t.len != strlen(want) || memcmp(t.data, want, t.len) != 0)
        abort();
    free(want);
    t.len = 0;
    rc = codec_msgpack_json_text(data, size, "42", &t);
    if (json_is_object(v)) {
        json_t *c = json_deep_copy(v);
        json_t *md = json_object_get(c, "metadata");
        if (!json_is_object(md))
            json_object_set_new(c, "metadata", md = json_object());
        json_object_set_new(md, "resourceVersion", json_string("42"));
        want = json_dumps(c, JSON_COMPACT);
        if (rc != 0 || !want || t.len != strlen(want) || memcmp(t.data, want, t.len) != 0)
            abort();
        free(want);
        json_decref(c);
    } else if (rc == 0) {
        abort(); /* with a resourceVersion, only a map is rendered */
    }
    ubuf_free(&t);
}

/* codec_msgpack_to_json_without on any input: no crash; when the input
 * decodes to v, exactly v without the value at the path. */
static void fuzz_check_without(const uint8_t *data, size_t size, json_t *v, const char *path)
{
    json_t *got = codec_msgpack_to_json_without(data, size, path);
    if (v) {
        json_t *want = json_deep_copy(v);
        char buf[64];
        snprintf(buf, sizeof buf, "%s", path);
        char *dot = strchr(buf, '.');
        if (dot)
            *dot = '\0';
        json_t *at = json_is_object(want) ? want : NULL;
        if (at && dot)
            at = json_object_get(at, buf);
        if (json_is_object(at))
            json_object_del(at, dot ? dot + 1 : buf);
        if (!got || !fuzz_json_same(got, want))
            abort();
        json_decref(want);
    }
    json_decref(got);
}

/* codec_msgpack_json_text_at on any input: no crash; when the input
 * decodes to an object v, json_dumps' text of v[key] (with rv, of that map
 * with its resourceVersion set), or 1 if there is none (or no map). */
static void fuzz_check_text_at(const uint8_t *data, size_t size, json_t *v, const char *key,
                               const char *rv)
{
    struct ubuf t = {0};
    int rc = codec_msgpack_json_text_at(data, size, key, rv, &t);
    json_t *x = json_is_object(v) ? json_object_get(v, key) : NULL;
    if (json_is_object(v)) {
        if (!x || (rv && !json_is_object(x))) {
            if (rc != 1 || t.len != 0)
                abort();
        } else {
            json_t *c = json_deep_copy(x);
            if (rv)
                json_object_set_new(c, "resourceVersion", json_string(rv));
            char *want = json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY);
            if (rc != 0 || !want || t.len != strlen(want) || memcmp(t.data, want, t.len) != 0)
                abort();
            free(want);
            json_decref(c);
        }
    }
    ubuf_free(&t);
}

/* The oracle for codec_msgpack_edit: the edits made on a copy of v with
 * jansson, or NULL where the codec must refuse (a path through a value
 * that is no map). */
static json_t *fuzz_edit_want(json_t *v, const struct codec_edit *ed, unsigned n)
{
    json_t *c = json_deep_copy(v);
    for (unsigned i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", ed[i].path);
        json_t *at = c;
        char *save = NULL, *tok = strtok_r(buf, ".", &save);
        for (char *next; at && (next = strtok_r(NULL, ".", &save)); tok = next) {
            json_t *sub = json_object_get(at, tok);
            if (sub && !json_is_object(sub)) {
                json_decref(c);
                return NULL;
            }
            if (!sub && ed[i].value)
                json_object_set_new(at, tok, sub = json_object());
            at = sub;
        }
        if (at && ed[i].value)
            json_object_set_new(at, tok, json_deep_copy(ed[i].value));
        else if (at)
            json_object_del(at, tok);
    }
    return c;
}

/* codec_msgpack_edit on any input: no crash; when the input decodes to an
 * object v, what jansson makes of v (byte for byte when the input is the
 * encoder's own), or -1 exactly where jansson's walk meets a non-map. */
static void fuzz_check_edit(const uint8_t *data, size_t size, json_t *v)
{
    json_t *cond = json_pack("[{s:s, s:s}]", "type", "PodScheduled", "status", "True");
    json_t *one = json_integer(7), *s = json_string("n1"), *m = json_pack("{s:i}", "x", 1);
    const struct codec_edit sets[][4] = {
        {{"metadata.resourceVersion", NULL}, {"spec.nodeName", s}, {"status.conditions", cond}},
        {{"a", NULL}, {"b.c", one}, {"b.d", NULL}, {"e", m}},
        {{"a.b.c", s}, {"a.d", NULL}, {"f", NULL}, {"a.e.f", NULL}},
    };
    const unsigned lens[] = {3, 4, 4};
    struct ubuf canon = {0};
    bool canonical = v && codec_json_to_msgpack(v, &canon) == 0 && canon.len == size &&
                     memcmp(canon.data, data, size) == 0;
    for (unsigned k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        struct ubuf got = {0};
        int rc = codec_msgpack_edit(data, size, sets[k], lens[k], &got);
        json_t *want = json_is_object(v) ? fuzz_edit_want(v, sets[k], lens[k]) : NULL;
        if (json_is_object(v) && !want != (rc != 0))
            abort();
        if (want) {
            json_t *g = codec_msgpack_to_json(got.data, got.len);
            if (!g || !fuzz_json_same(g, want))
                abort();
            struct ubuf wb = {0};
            codec_json_to_msgpack(want, &wb);
            if (canonical && (wb.len != got.len || memcmp(wb.data, got.data, got.len) != 0))
                abort();
            ubuf_free(&wb);
            json_decref(g);
        }
        json_decref(want);
        ubuf_free(&got);
    }
    ubuf_free(&canon);
    json_decref(cond);
    json_decref(one);
    json_decref(s);
    json_decref(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = codec_msgpack_to_json(data, size);
    fuzz_check_extract(data, size, v);
    fuzz_check_text(data, size, v);
    fuzz_check_without(data, size, v, "a");
    fuzz_check_without(data, size, v, "a.b");
    fuzz_check_without(data, size, v, "metadata.managedFields");
    fuzz_check_text_at(data, size, v, "a", NULL);
    fuzz_check_text_at(data, size, v, "metadata", "42");
    fuzz_check_edit(data, size, v);
    if (!v)
        return 0;
    fuzz_check_oracle(data, size, v);
    struct ubuf b = {0};
    if (codec_json_to_msgpack(v, &b) != 0)
        abort();
    json_t *again = codec_msgpack_to_json(b.data, b.len);
    if (!again || !json_equal(v, again) || !fuzz_json_same(v, again))
        abort();
    json_decref(again);
    json_decref(v);
    ubuf_free(&b);
    return 0;
}
