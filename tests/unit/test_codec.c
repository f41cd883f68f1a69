/* test_codec.c — unit tests for codec (JSON <-> msgpack).
 *
 * Round trips check that values, key order and integer extremes survive;
 * hand-written byte strings check the exact wire format and that every kind
 * of malformed or hostile buffer (truncation, trailing bytes, non-string
 * keys, bin/ext, invalid UTF-8, nesting bombs, lying length headers) is
 * refused with NULL rather than a crash. msgpack-c's own packer produces some
 * inputs, so the decoder is checked against a second implementation.
 * codec_json_load is held to jansson's json_loadb on the edges of the JSON
 * grammar (and, in fuzz_json_load, on whatever the fuzzer makes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

/* x and y dump to the same compact text: same values, same key order. */
static void assert_same_text(const json_t *x, const json_t *y)
{
    char *a = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
    char *b = json_dumps(y, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Encodes v, decodes the result and returns the decoded value (never NULL). */
static json_t *roundtrip(const json_t *v)
{
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(v, &b), 0);
    json_t *back = codec_msgpack_to_json(b.data, b.len);
    ubuf_free(&b);
    assert_non_null(back);
    assert_true(json_equal((json_t *)v, back));
    return back;
}

/* Round-trips a JSON text and checks the re-serialised text is identical,
 * which also checks key order (json_dumps keeps insertion order). */
static void roundtrip_text(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    assert_non_null(v);
    json_t *back = roundtrip(v);
    assert_same_text(v, back);
    json_decref(back);
    json_decref(v);
}

static json_t *decode_bytes(const char *bytes, size_t len) { return codec_msgpack_to_json(bytes, len); }

#define DECODE(lit) decode_bytes(lit, sizeof(lit) - 1)

static void assert_rejects(const char *bytes, size_t len)
{
    json_t *v = codec_msgpack_to_json(bytes, len);
    assert_null(v);
}

#define REJECTS(lit) assert_rejects(lit, sizeof(lit) - 1)

static void encode_expect(const json_t *v, const char *bytes, size_t len)
{
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(v, &b), 0);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, bytes, len);
    ubuf_free(&b);
}

/* ---- round trips -------------------------------------------------------- */

static void test_roundtrip_nested_object(void **state)
{
    roundtrip_text("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\","
                   "\"namespace\":\"default\",\"labels\":{\"z\":\"1\",\"a\":\"2\",\"m\":\"3\"},"
                   "\"resourceVersion\":\"42\",\"generation\":7},\"spec\":{\"containers\":[{"
                   "\"name\":\"c\",\"image\":\"nginx:1.25\",\"ports\":[{\"containerPort\":80}],"
                   "\"resources\":{\"limits\":{\"cpu\":\"500m\"}}}],\"nodeName\":null,"
                   "\"hostNetwork\":false,\"priority\":-5,\"ratio\":0.25},\"status\":{}}");
}

static void test_roundtrip_key_order(void **state)
{
    /* Keys deliberately out of lexical and hash order. */
    json_t *o = json_object();
    const char *keys[] = {"zeta", "alpha", "mid", "b", "a", "", "yy", "x"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set_new(o, keys[i], json_integer((json_int_t)i));
    json_t *back = roundtrip(o);
    size_t i = 0;
    const char *key;
    json_t *val;
    json_object_foreach(back, key, val) {
        assert_string_equal(key, keys[i]);
        assert_int_equal(json_integer_value(val), (json_int_t)i);
        i++;
    }
    assert_int_equal(i, sizeof keys / sizeof keys[0]);
    json_decref(back);
    json_decref(o);
}

static void test_roundtrip_integers(void **state)
{
    const json_int_t vals[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL,
                               4294967296LL, INT64_MAX, INT64_MAX - 1, -1, -31, -32, -33, -127,
                               -128, -129, -32768, -32769, INT32_MIN, (json_int_t)INT32_MIN - 1,
                               INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        json_t *v = json_integer(vals[i]);
        json_t *back = roundtrip(v);
        assert_true(json_is_integer(back));
        assert_true(json_integer_value(back) == vals[i]);
        json_decref(back);
        json_decref(v);
    }
}

static void test_integer_wire_format(void **state)
{
    json_t *v = json_integer(5);
    encode_expect(v, "\x05", 1);
    json_integer_set(v, -1);
    encode_expect(v, "\xff", 1);
    json_integer_set(v, 200);
    encode_expect(v, "\xcc\xc8", 2);
    json_integer_set(v, INT64_MIN);
    encode_expect(v, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9);
    json_integer_set(v, INT64_MAX);
    encode_expect(v, "\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9);
    json_decref(v);
}

static void test_decode_all_integer_forms(void **state)
{
    struct {
        const char *bytes;
        size_t len;
        json_int_t want;
    } cases[] = {
        {"\x7f", 1, 127},
        {"\xe0", 1, -32},
        {"\xcc\xff", 2, 255},
        {"\xcd\xff\xff", 3, 65535},
        {"\xce\xff\xff\xff\xff", 5, 4294967295LL},
        {"\xcf\x7f\xff\xff\xff\xff\xff\xff\xff", 9, INT64_MAX},
        {"\xd0\x80", 2, -128},
        {"\xd0\x05", 2, 5},
        {"\xd1\x80\x00", 3, -32768},
        {"\xd2\x80\x00\x00\x00", 5, INT32_MIN},
        {"\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, INT64_MIN},
        {"\xd3\xff\xff\xff\xff\xff\xff\xff\xfe", 9, -2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *v = decode_bytes(cases[i].bytes, cases[i].len);
        assert_non_null(v);
        assert_true(json_is_integer(v));
        assert_true(json_integer_value(v) == cases[i].want);
        json_decref(v);
    }
}

static void test_roundtrip_reals(void **state)
{
    const double vals[] = {0.0, -0.0, 1.5, -2.25, 1e308, -1e-308, 5e-324, 3.141592653589793,
                           0.1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        json_t *v = json_real(vals[i]);
        struct ubuf b = {0};
        assert_int_equal(codec_json_to_msgpack(v, &b), 0);
        assert_int_equal(b.len, 9);
        assert_int_equal((unsigned char)b.data[0], 0xcb);
        ubuf_free(&b);
        json_t *back = roundtrip(v);
        assert_true(json_is_real(back));
        assert_memory_equal(&vals[i], &(double){json_real_value(back)}, sizeof(double));
        json_decref(back);
        json_decref(v);
    }
}

static void test_decode_float32(void **state)
{
    json_t *v = DECODE("\xca\x3f\xc0\x00\x00");
    assert_non_null(v);
    assert_true(json_is_real(v));
    assert_true(json_real_value(v) == 1.5);
    json_decref(v);
    v = DECODE("\xca\xc0\x20\x00\x00");
    assert_non_null(v);
    assert_true(json_real_value(v) == -2.5);
    json_decref(v);
}

static void test_roundtrip_unicode(void **state)
{
    roundtrip_text("[\"h\\u00e9llo\",\"\\u65e5\\u672c\\u8a9e\",\"\\ud83d\\ude00\",\"\","
                   "{\"cl\\u00e9\":\"\\u00fc\",\"\\ud83d\\ude80\":[\"\\u0000\"]}]");
    /* Embedded NUL in a string value survives. */
    json_t *o = json_object();
    json_object_set_new(o, "key", json_stringn("a\0b", 3));
    json_t *back = roundtrip(o);
    json_t *s = json_object_get(back, "key");
    assert_non_null(s);
    assert_int_equal(json_string_length(s), 3);
    assert_memory_equal(json_string_value(s), "a\0b", 3);
    json_decref(back);
    json_decref(o);
}

/* jansson treats keys as C strings in json_object_get and json_equal, so a
 * key with a NUL would alias a shorter one: refused both ways. */
static void test_reject_nul_in_key(void **state)
{
    json_t *o = json_object();
    json_object_setn_new(o, "k\0ey", 4, json_true());
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(o, &b), -1);
    assert_int_equal(b.len, 0);
    ubuf_free(&b);
    json_decref(o);
    REJECTS("\x81\xa4k\0ey\xc3");
    REJECTS("\x81\xa1\0\xc3");
}

static void test_roundtrip_string_sizes(void **state)
{
    const size_t sizes[] = {0, 31, 32, 255, 256, 65535, 65536, 200000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *s = malloc(sizes[i] + 1);
        for (size_t j = 0; j < sizes[i]; j++)
            s[j] = (char)('a' + j % 26);
        s[sizes[i]] = '\0';
        json_t *v = json_stringn(s, sizes[i]);
        json_decref(roundtrip(v));
        json_decref(v);
        free(s);
    }
}

static void test_roundtrip_scalars(void **state)
{
    roundtrip_text("null");
    roundtrip_text("true");
    roundtrip_text("false");
    roundtrip_text("[null,true,false,0,\"\",[],{}]");
    json_t *v = json_null();
    encode_expect(v, "\xc0", 1);
    v = json_true();
    encode_expect(v, "\xc3", 1);
    v = json_false();
    encode_expect(v, "\xc2", 1);
}

static void test_roundtrip_large_containers(void **state)
{
    /* 16 and 65536 elements cross the fix/16/32-bit header boundaries. */
    const size_t sizes[] = {15, 16, 65535, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        json_t *a = json_array();
        json_t *o = json_object();
        for (size_t j = 0; j < sizes[i]; j++) {
            char key[32];
            snprintf(key, sizeof key, "k%zu", j);
            json_array_append_new(a, json_integer((json_int_t)j));
            json_object_set_new(o, key, json_integer((json_int_t)j));
        }
        json_decref(roundtrip(a));
        json_decref(roundtrip(o));
        json_decref(a);
        json_decref(o);
    }
}

static void test_encode_appends(void **state)
{
    struct ubuf b = {0};
    ubuf_append(&b, "xy", 2);
    json_t *v = json_integer(1);
    assert_int_equal(codec_json_to_msgpack(v, &b), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "xy\x01", 3);
    json_t *back = codec_msgpack_to_json(b.data + 2, 1);
    assert_true(json_equal(v, back));
    json_decref(back);
    json_decref(v);
    ubuf_free(&b);
}

/* msgpack-c's packer produces what our decoder must read. */
/* The encoder writes what msgpack-c's packer writes, byte for byte, at
 * every boundary of every encoding: the stored bytes of objects written
 * before it stopped using the packer, codec_msgpack_edit's output and
 * other replicas' entries must all stay comparable. */
static void pack_reference(msgpack_packer *pk, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        msgpack_pack_map(pk, json_object_size(v));
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            msgpack_pack_str_with_body(pk, k, strlen(k));
            pack_reference(pk, x);
        }
        break;
    }
    case JSON_ARRAY:
        msgpack_pack_array(pk, json_array_size(v));
        for (size_t i = 0; i < json_array_size(v); i++)
            pack_reference(pk, json_array_get(v, i));
        break;
    case JSON_STRING:
        msgpack_pack_str_with_body(pk, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(v));
        break;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(v));
        break;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        break;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        break;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        break;
    }
}

static void test_encode_matches_msgpack_c(void **state)
{
    (void)state;
    static const int64_t edges[] = {0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536,
                                    4294967295LL, 4294967296LL, INT64_MAX, -1, -31, -32, -33,
                                    -127, -128, -129, -32767, -32768, -32769, -2147483647LL,
                                    INT32_MIN, (int64_t)INT32_MIN - 1, INT64_MIN};
    static const size_t sizes[] = {0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536, 70000};
    json_t *all = json_array();
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++)
        json_array_append_new(all, json_integer(edges[i]));
    json_array_append_new(all, json_real(0.1));
    json_array_append_new(all, json_real(-1e300));
    json_array_append_new(all, json_true());
    json_array_append_new(all, json_false());
    json_array_append_new(all, json_null());
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        char *str = malloc(n + 1);
        memset(str, 'x', n);
        str[n] = '\0';
        json_array_append_new(all, json_stringn(str, n));
        json_t *arr = json_array(), *obj = json_object();
        for (size_t j = 0; j < n; j++) {
            char key[24];
            snprintf(key, sizeof key, "k%zu", j);
            json_array_append_new(arr, json_integer((json_int_t)j));
            json_object_set_new(obj, key, json_null());
        }
        json_array_append_new(all, arr);
        json_array_append_new(all, obj);
        json_object_set_new(obj, n < 32 ? str : "long", json_string(str)); /* key sizes too */
        free(str);
    }
    for (size_t i = 0; i < json_array_size(all); i++) {
        json_t *v = json_array_get(all, i);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        pack_reference(&pk, v);
        struct ubuf got = {0};
        assert_int_equal(codec_json_to_msgpack(v, &got), 0);
        assert_int_equal(got.len, sb.size);
        assert_memory_equal(got.data, sb.data, sb.size);
        assert_int_equal(got.data[got.len], '\0'); /* a ubuf stays terminated */
        ubuf_free(&got);
        msgpack_sbuffer_destroy(&sb);
    }
    json_decref(all);
}

static void test_decode_msgpack_c_output(void **state)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str_with_body(&pk, "n", 1);
    msgpack_pack_uint64(&pk, 12345678901ULL);
    msgpack_pack_str_with_body(&pk, "f", 1);
    msgpack_pack_float(&pk, 0.5f);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int8(&pk, -3);
    msgpack_pack_nil(&pk);
    msgpack_pack_str_with_body(&pk, "s", 1);
    msgpack_pack_str_with_body(&pk, "x\xc3\xa9", 3);
    json_t *v = codec_msgpack_to_json(sb.data, sb.size);
    assert_non_null(v);
    json_t *want = json_pack("{s:I,s:f,s:[i,n],s:s}", "n", (json_int_t)12345678901LL, "f", 0.5,
                             "a", -3, "s", "x\xc3\xa9");
    assert_true(json_equal(v, want));
    json_decref(want);
    json_decref(v);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- rejection ---------------------------------------------------------- */

static void test_reject_empty_and_null(void **state)
{
    assert_null(codec_msgpack_to_json(NULL, 0));
    assert_null(codec_msgpack_to_json("", 0));
    assert_int_equal(codec_json_to_msgpack(NULL, &(struct ubuf){0}), -1);
}

static void test_reject_every_truncation(void **state)
{
    json_t *v = json_loads("{\"a\":[1,-200,70000,-5000000000,1.5,\"str\",null,true],"
                           "\"bb\":{\"c\":\"\\u00e9\\u65e5\",\"d\":{}},\"e\":[[]]}",
                           0, NULL);
    assert_non_null(v);
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(v, &b), 0);
    for (size_t n = 0; n < b.len; n++) {
        char *cut = malloc(n ? n : 1); /* exact size: ASan catches any over-read */
        memcpy(cut, b.data, n);
        assert_null(codec_msgpack_to_json(cut, n));
        free(cut);
    }
    json_t *back = codec_msgpack_to_json(b.data, b.len);
    assert_true(json_equal(v, back));
    json_decref(back);
    ubuf_free(&b);
    json_decref(v);
}

static void test_reject_trailing_bytes(void **state)
{
    REJECTS("\xc0\xc0");
    REJECTS("\x01\x00");
    REJECTS("\x80\x00"); /* {} then 0 */
    REJECTS("\x91\x01\x02");
}

static void test_reject_non_string_keys(void **state)
{
    REJECTS("\x81\x01\x02");         /* {1: 2} */
    REJECTS("\x81\xc0\x02");         /* {nil: 2} */
    REJECTS("\x81\x90\x02");         /* {[]: 2} */
    REJECTS("\x81\x80\x02");         /* {{}: 2} */
    REJECTS("\x81\xc4\x01x\x02");    /* {bin "x": 2} */
    REJECTS("\x82\xa1x\x01\xc3\x02"); /* second key is true */
}

static void test_reject_duplicate_keys(void **state)
{
    REJECTS("\x82\xa1x\x01\xa1x\x02");
    json_t *v = DECODE("\x82\xa1x\x01\xa1y\x02");
    assert_non_null(v);
    json_decref(v);
}

static void test_reject_bin_ext_and_reserved(void **state)
{
    REJECTS("\xc4\x01x");                 /* bin8 */
    REJECTS("\xc5\x00\x01x");             /* bin16 */
    REJECTS("\xc6\x00\x00\x00\x01x");     /* bin32 */
    REJECTS("\xc7\x01\x05x");             /* ext8 */
    REJECTS("\xc8\x00\x01\x05x");         /* ext16 */
    REJECTS("\xc9\x00\x00\x00\x01\x05x"); /* ext32 */
    REJECTS("\xd4\x05x");                 /* fixext1 */
    REJECTS("\xd5\x05xx");
    REJECTS("\xd6\x05xxxx");
    REJECTS("\xd7\x05xxxxxxxx");
    REJECTS("\xd8\x05xxxxxxxxxxxxxxxx");
    REJECTS("\xc1");                      /* never used */
    REJECTS("\x91\xc1");
}

static void test_reject_unrepresentable_numbers(void **state)
{
    REJECTS("\xcf\x80\x00\x00\x00\x00\x00\x00\x00");     /* INT64_MAX + 1 */
    REJECTS("\xcf\xff\xff\xff\xff\xff\xff\xff\xff");     /* UINT64_MAX */
    REJECTS("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00");     /* NaN */
    REJECTS("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00");     /* +Inf */
    REJECTS("\xcb\xff\xf0\x00\x00\x00\x00\x00\x00");     /* -Inf */
    REJECTS("\xca\x7f\xc0\x00\x00");                     /* float32 NaN */
    REJECTS("\xca\xff\x80\x00\x00");                     /* float32 -Inf */
}

static void test_reject_invalid_utf8(void **state)
{
    REJECTS("\xa1\xff");                 /* not UTF-8 at all */
    REJECTS("\xa2\xc0\x80");             /* overlong NUL */
    REJECTS("\xa3\xed\xa0\x80");         /* UTF-16 surrogate */
    REJECTS("\xa2\xe6\x97");             /* cut multibyte sequence */
    REJECTS("\xa4\xf4\x90\x80\x80");     /* above U+10FFFF */
    REJECTS("\xd9\x01\x80");             /* str8, lone continuation byte */
    REJECTS("\x81\xa1\xff\x01");         /* invalid key */
    REJECTS("\x81\xa1k\xa1\xfe");        /* invalid value */
    json_t *v = DECODE("\xa2\xc3\xa9"); /* "é" is fine */
    assert_non_null(v);
    assert_string_equal(json_string_value(v), "\xc3\xa9");
    json_decref(v);
}

static void test_reject_lying_lengths(void **state)
{
    REJECTS("\xdb\xff\xff\xff\xff" "abc");  /* str32 of 4 GiB */
    REJECTS("\xda\x00\x05" "abc");          /* str16 of 5, 3 present */
    REJECTS("\xdd\xff\xff\xff\xff\x01\x01"); /* array32 of 4G elements */
    REJECTS("\xdf\xff\xff\xff\xff\xa1k\x01"); /* map32 of 4G entries */
    REJECTS("\xdc\x00\x03\x01\x01");        /* array16 of 3, 2 present */
    REJECTS("\xde\x00\x02\xa1k\x01");       /* map16 of 2, 1 present */
    REJECTS("\x9f");                        /* fixarray of 15, none present */
    REJECTS("\x81\xa1k");                   /* key without value */
    REJECTS("\xdb\x00\x00");                /* cut length field */
    REJECTS("\xdc\x00");                    /* cut array16 count */
    REJECTS("\xdf\x00\x00\x00");            /* cut map32 count */
    REJECTS("\xd9");                        /* cut str8 length */
}

static void nest_arrays(struct ubuf *b, size_t depth)
{
    for (size_t i = 0; i < depth; i++)
        ubuf_append(b, "\x91", 1);
    ubuf_append(b, "\xc0", 1);
}

static void test_depth_limit_decode(void **state)
{
    struct ubuf b = {0};
    nest_arrays(&b, CODEC_MAX_DEPTH);
    json_t *v = codec_msgpack_to_json(b.data, b.len);
    assert_non_null(v);
    json_decref(v);
    b.len = 0;
    nest_arrays(&b, CODEC_MAX_DEPTH + 1);
    assert_null(codec_msgpack_to_json(b.data, b.len));
    /* Objects count too: {"k": [{"k": ...}]} */
    b.len = 0;
    for (int i = 0; i < CODEC_MAX_DEPTH + 1; i++)
        ubuf_append(&b, (i % 2) ? "\x91" : "\x81\xa1k", (i % 2) ? 1 : 3);
    ubuf_append(&b, "\x01", 1);
    assert_null(codec_msgpack_to_json(b.data, b.len));
    ubuf_free(&b);
}

static void test_depth_bomb(void **state)
{
    /* A megabyte of nested array and map headers must fail fast, without
     * recursing a million frames. */
    const size_t n = 1 << 20;
    char *bomb = malloc(n);
    memset(bomb, 0x91, n);
    assert_null(codec_msgpack_to_json(bomb, n));
    for (size_t i = 0; i + 2 < n; i += 3)
        memcpy(bomb + i, "\x81\xa0", 2), bomb[i + 2] = (char)0xdc;
    assert_null(codec_msgpack_to_json(bomb, n));
    memset(bomb, 0xdd, n);
    assert_null(codec_msgpack_to_json(bomb, n));
    free(bomb);
}

static void test_depth_limit_encode(void **state)
{
    json_t *root = json_array();
    json_t *cur = root;
    for (int i = 1; i < CODEC_MAX_DEPTH; i++) {
        json_t *next = (i % 2) ? json_object() : json_array();
        if (json_is_array(cur))
            json_array_append_new(cur, next);
        else
            json_object_set_new(cur, "k", next);
        cur = next;
    }
    /* root nests exactly CODEC_MAX_DEPTH containers deep. */
    struct ubuf b = {0};
    ubuf_append(&b, "pre", 3);
    assert_int_equal(codec_json_to_msgpack(root, &b), 0);
    json_t *back = codec_msgpack_to_json(b.data + 3, b.len - 3);
    assert_non_null(back);
    assert_true(json_equal(root, back));
    json_decref(back);
    /* One more level: refused, and the buffer is left as it was. */
    if (json_is_array(cur))
        json_array_append_new(cur, json_array());
    else
        json_object_set_new(cur, "k", json_array());
    b.len = 3;
    assert_int_equal(codec_json_to_msgpack(root, &b), -1);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "pre", 4);
    ubuf_free(&b);
    json_decref(root);
}

/* ---- YAML (yaml.c) ---- */

static void yaml_expect(const char *yaml, const char *want_json)
{
    char err[256] = "";
    json_t *got = codec_yaml_to_json(yaml, strlen(yaml), err, sizeof err);
    if (!got)
        fail_msg("yaml failed: %s", err);
    json_t *want = json_loads(want_json, JSON_DECODE_ANY, NULL);
    assert_non_null(want);
    if (!json_equal(got, want)) {
        char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
        fail_msg("got %s want %s", g, want_json);
    }
    json_decref(got);
    json_decref(want);
}

static void test_yaml_manifest(void **state)
{
    yaml_expect("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web}\n"
                "spec:\n  containers:\n  - name: c\n    image: nginx\n    ports:\n"
                "    - containerPort: 80\n",
                "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                "\"image\":\"nginx\",\"ports\":[{\"containerPort\":80}]}]}}");
}

static void test_yaml_scalars(void **state)
{
    yaml_expect("[1, -2, 0x1f, 0o17, 1.5, 1e3, true, false, null, ~, '', \"3\", yes, 01, .inf, "
                "1.2.3, 08]",
                "[1,-2,31,15,1.5,1000.0,true,false,null,null,\"\",\"3\",\"yes\",1,\".inf\","
                "\"1.2.3\",8]");
    yaml_expect("a:\nb: !!str 5\n", "{\"a\":null,\"b\":\"5\"}");
    yaml_expect("", "null");
    yaml_expect("{\"json\": [1, {\"x\": \"y\"}]}", "{\"json\":[1,{\"x\":\"y\"}]}");
    yaml_expect("a: |\n  line1\n  line2\n", "{\"a\":\"line1\\nline2\\n\"}");
    /* only the first document */
    yaml_expect("a: 1\n---\nb: 2\n", "{\"a\":1}");
}

static void test_yaml_anchors(void **state)
{
    yaml_expect("base: &b {x: 1}\nother: *b\n", "{\"base\":{\"x\":1},\"other\":{\"x\":1}}");
}

static void yaml_reject(const char *yaml, const char *want_in_err)
{
    char err[256] = "";
    json_t *got = codec_yaml_to_json(yaml, strlen(yaml), err, sizeof err);
    assert_null(got);
    if (!strstr(err, want_in_err))
        fail_msg("error \"%s\" lacks \"%s\"", err, want_in_err);
}

static void test_yaml_errors(void **state)
{
    yaml_reject("a: [1, 2\n", "yaml: line");
    yaml_reject("a: 1\na: 2\n", "already defined");
    yaml_reject("? [1]\n: x\n", "must be a scalar");
    yaml_reject("a: *nope\n", "unknown anchor");
    yaml_reject("a: \"\xff\"\n", "yaml");
    /* billion laughs: each level doubles the copies */
    struct ubuf b = {0};
    ubuf_appendf(&b, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 12; i++)
        ubuf_appendf(&b, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n",
                     i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
    ubuf_append(&b, "", 1);
    yaml_reject(b.data, "too many nodes");
    ubuf_free(&b);
    /* deep nesting */
    struct ubuf d = {0};
    for (int i = 0; i < 1000; i++)
        ubuf_append(&d, "[", 1);
    ubuf_append(&d, "", 1);
    char err[256];
    assert_null(codec_yaml_to_json(d.data, strlen(d.data), err, sizeof err));
    ubuf_free(&d);
}

/* ---- partial decoding (codec_msgpack_extract) ---------------------------- */

static json_t *extract_text(const char *text, const char *const *paths, unsigned n)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(v, &b), 0);
    json_decref(v);
    json_t *out = codec_msgpack_extract(b.data, b.len, paths, n);
    ubuf_free(&b);
    return out;
}

static void extract_expect(const char *text, const char *const *paths, unsigned n,
                           const char *want)
{
    json_t *got = extract_text(text, paths, n);
    assert_non_null(got);
    json_t *w = json_loads(want, 0, NULL);
    char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
    if (!json_equal(got, w))
        fail_msg("extract: got %s, want %s", g, want);
    free(g);
    json_decref(w);
    json_decref(got);
}

/* Only the paths asked for, at the same place, whatever sits around them
 * (every kind of value is stepped over: ints of each width, reals, strings,
 * nested maps and arrays, null, booleans). */
static void test_extract_selected_paths(void **state)
{
    (void)state;
    const char *pod =
        "{\"apiVersion\":\"v1\",\"n\":[1,-1,300,-300,70000,-70000,5000000000,1.5,null,true,false],"
        "\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\",\"tier\":\"x\"},"
        "\"annotations\":{\"a\":\"b\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80}]}],"
        "\"nodeName\":\"node-7\",\"hostNetwork\":true},\"status\":{\"phase\":\"Running\"}}";
    const char *const p1[] = {"spec.nodeName", "metadata.labels", "status.phase"};
    extract_expect(pod, p1, 3,
                   "{\"spec\":{\"nodeName\":\"node-7\"},\"metadata\":{\"labels\":"
                   "{\"app\":\"web\",\"tier\":\"x\"}},\"status\":{\"phase\":\"Running\"}}");
    const char *const p2[] = {"spec.hostNetwork", "spec.nodeName"};
    extract_expect(pod, p2, 2, "{\"spec\":{\"hostNetwork\":true,\"nodeName\":\"node-7\"}}");
    /* absent paths, or paths through a non-map, are left out */
    const char *const p3[] = {"spec.schedulerName", "apiVersion.x", "metadata.name.y", "nope"};
    extract_expect(pod, p3, 4, "{}");
    extract_expect(pod, NULL, 0, "{}");
}

/* Paths sharing prefixes are found in one walk: a whole map and a key in
 * it, the same path twice, a deep path next to a shallow one, and keys
 * wanted after a map that was walked for other paths. */
static void test_extract_shared_prefixes(void **state)
{
    (void)state;
    const char *pod = "{\"metadata\":{\"name\":\"p\",\"managedFields\":[{\"f\":{\"a\":[1,2]}}],"
                      "\"labels\":{\"app\":\"web\"},\"uid\":\"u\"},"
                      "\"spec\":{\"a\":{\"b\":{\"c\":3}},\"nodeName\":\"n\"},"
                      "\"status\":{\"phase\":\"Running\"}}";
    const char *const p1[] = {"metadata.uid", "metadata", "metadata.name"};
    extract_expect(pod, p1, 3,
                   "{\"metadata\":{\"name\":\"p\",\"managedFields\":[{\"f\":{\"a\":[1,2]}}],"
                   "\"labels\":{\"app\":\"web\"},\"uid\":\"u\"}}");
    const char *const p2[] = {"status.phase", "spec.a.b.c", "spec.a.b", "metadata.uid",
                              "status.phase", "spec.nodeName", "spec.a.x"};
    extract_expect(pod, p2, 7,
                   "{\"metadata\":{\"uid\":\"u\"},\"spec\":{\"a\":{\"b\":{\"c\":3}},"
                   "\"nodeName\":\"n\"},\"status\":{\"phase\":\"Running\"}}");
    /* a key twice in a map (not the encoder's output): the first wins */
    static const char dup[] = "\x82\xa1" "a" "\x01" "\xa1" "a" "\x02";
    const char *const pa[] = {"a"};
    json_t *got = codec_msgpack_extract(dup, sizeof dup - 1, pa, 1);
    assert_int_equal(json_integer_value(json_object_get(got, "a")), 1);
    json_decref(got);
}

/* A large map (map16) with long strings (str8/16) before the wanted key. */
static void test_extract_after_large_values(void **state)
{
    (void)state;
    json_t *o = json_object();
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        json_object_set_new(o, k, json_string_nocheck(i % 2 ? "short" : ""));
    }
    char big[70000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_object_set_new(o, "big", json_string(big));
    json_object_set_new(o, "want", json_pack("{s:s}", "me", "here"));
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(o, &b), 0);
    const char *const p[] = {"want.me"};
    json_t *got = codec_msgpack_extract(b.data, b.len, p, 1);
    assert_non_null(got);
    assert_string_equal(json_string_value(json_object_get(json_object_get(got, "want"), "me")),
                        "here");
    json_decref(got);
    /* every truncation of the buffer: an answer or NULL, never a crash */
    for (size_t cut = 0; cut < b.len; cut += 97) {
        json_t *t = codec_msgpack_extract(b.data, cut, p, 1);
        json_decref(t);
    }
    ubuf_free(&b);
    json_decref(o);
}

/* Malformed bytes on the way to the key: NULL, as the full decoder says. */
static void test_extract_rejects_malformed(void **state)
{
    (void)state;
    const char *const p[] = {"b"};
    /* {"a": bin8 "xy", "b": 1}: bin is refused, so "b" cannot be reached */
    static const char bin[] = "\x82\xa1" "a" "\xc4\x02xy" "\xa1" "b" "\x01";
    assert_null(codec_msgpack_extract(bin, sizeof bin - 1, p, 1));
    /* a map16 that claims more entries than bytes */
    static const char lying[] = "\xde\xff\xff\xa1" "a" "\x01";
    assert_null(codec_msgpack_extract(lying, sizeof lying - 1, p, 1));
    /* no map at the top: nothing found, not an error */
    static const char arr[] = "\x91\x01";
    json_t *e = codec_msgpack_extract(arr, sizeof arr - 1, p, 1);
    assert_non_null(e);
    assert_int_equal(json_object_size(e), 0);
    json_decref(e);
}

/* ---- JSON text straight from msgpack (codec_msgpack_json_text) ---------- */

static void text_expect(const char *in, const char *rv, const char *want)
{
    json_t *v = json_loads(in, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(v);
    struct ubuf b = {0}, t = {0};
    assert_int_equal(codec_json_to_msgpack(v, &b), 0);
    json_decref(v);
    assert_int_equal(codec_msgpack_json_text(b.data, b.len, rv, &t), 0);
    ubuf_append(&t, "", 1);
    assert_string_equal(t.data, want);
    ubuf_free(&t);
    ubuf_free(&b);
}

/* jansson's own text: escapes, UTF-8 as is, integers, reals (%.17g, ".0"
 * added, exponent without '+' or leading zeros), nesting, empty containers. */
static void test_text_as_json_dumps(void **state)
{
    (void)state;
    text_expect("{\"s\":\"a\\\"b\\\\c\\u0001\\u001f/\\u007f\u00e9\\n\\t\\b\\f\\r\\u0000z\"}", NULL,
                "{\"s\":\"a\\\"b\\\\c\\u0001\\u001F/\x7f\u00e9\\n\\t\\b\\f\\r\\u0000z\"}");
    text_expect("[0,127,128,-1,-32,-33,65536,-70000,9223372036854775807,-9223372036854775808]",
                NULL, "[0,127,128,-1,-32,-33,65536,-70000,9223372036854775807,-9223372036854775808]");
    text_expect("[0.1,1e20,1e-5,3.0,-0.0,1.5e300,123456789012345678.0]", NULL,
                "[0.10000000000000001,1e20,1.0000000000000001e-5,3.0,-0.0,"
                "1.5000000000000001e300,1.2345678901234568e17]");
    text_expect("{\"a\":[],\"b\":{},\"c\":[null,true,false,{\"d\":[1]}]}", NULL,
                "{\"a\":[],\"b\":{},\"c\":[null,true,false,{\"d\":[1]}]}");
}

/* Strings are scanned 8 bytes at a time: each byte that needs more than a
 * copy (a control byte, the quote, the backslash, 0x7f's neighbours, 2-, 3-
 * and 4-byte UTF-8, an invalid byte), at every offset of every length
 * around the word size, gives json_dumps' text, or -1 when jansson
 * refuses the string too. */
static void test_text_strings_by_word(void **state)
{
    (void)state;
    static const char *const odd[] = {"\x01", "\x1f", "\"", "\\", "\n", " ", "~", "\x7f",
                                      "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                      "\xff", "\xc3"};
    for (size_t k = 0; k < sizeof odd / sizeof odd[0]; k++)
        for (size_t len = 1; len <= 24; len++)
            for (size_t at = 0; at < len; at++) {
                char s[40];
                size_t n = 0, ol = strlen(odd[k]);
                for (size_t i = 0; i < len; i++) {
                    if (i == at) {
                        memcpy(s + n, odd[k], ol);
                        n += ol;
                    } else {
                        s[n++] = (char)('a' + i % 26);
                    }
                }
                struct ubuf b = {0}, t = {0};
                mp_put_str(&b, s, n);
                int rc = codec_msgpack_json_text(b.data, b.len, NULL, &t);
                json_t *v = json_stringn(s, n);
                if (!v) {
                    assert_int_equal(rc, -1);
                } else {
                    char *want = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                    assert_int_equal(rc, 0);
                    assert_string_equal(t.data, want);
                    free(want);
                    json_decref(v);
                }
                ubuf_free(&t);
                ubuf_free(&b);
            }
}

/* With a resourceVersion: set in place, added to metadata, or a metadata
 * made for it, as object_render does. */
static void test_text_sets_resource_version(void **state)
{
    (void)state;
    text_expect("{\"kind\":\"X\",\"metadata\":{\"name\":\"n\",\"resourceVersion\":\"1\","
                "\"uid\":\"u\"},\"spec\":{}}", "9",
                "{\"kind\":\"X\",\"metadata\":{\"name\":\"n\",\"resourceVersion\":\"9\","
                "\"uid\":\"u\"},\"spec\":{}}");
    text_expect("{\"metadata\":{\"labels\":{\"resourceVersion\":\"x\"}},\"z\":1}", "9",
                "{\"metadata\":{\"labels\":{\"resourceVersion\":\"x\"},\"resourceVersion\":\"9\"},"
                "\"z\":1}");
    text_expect("{\"metadata\":{}}", "9", "{\"metadata\":{\"resourceVersion\":\"9\"}}");
    text_expect("{\"metadata\":\"odd\",\"z\":1}", "9",
                "{\"metadata\":{\"resourceVersion\":\"9\"},\"z\":1}");
    text_expect("{\"z\":{\"metadata\":{}}}", "9",
                "{\"z\":{\"metadata\":{}},\"metadata\":{\"resourceVersion\":\"9\"}}");
    text_expect("{}", "9", "{\"metadata\":{\"resourceVersion\":\"9\"}}");
    /* not a map: refused with a resourceVersion; malformed: refused, out untouched */
    struct ubuf t = {0};
    assert_int_equal(codec_msgpack_json_text("\x91\x01", 2, "9", &t), -1);
    assert_int_equal(codec_msgpack_json_text("\x81\xa1" "a" "\xa2\xff\xfe", 7, NULL, &t), -1);
    assert_int_equal(t.len, 0);
    ubuf_free(&t);
}

static struct ubuf mp_of(const char *text)
{
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    struct ubuf b = {0};
    assert_int_equal(codec_json_to_msgpack(v, &b), 0);
    json_decref(v);
    return b;
}

/* A Table row's cells read the object without its managedFields: the
 * path is stepped over wherever it sits, nothing else moves; a path that
 * reaches no map, or nothing, leaves the object whole. */
static void test_decode_without(void **state)
{
    (void)state;
    struct {
        const char *in, *skip, *want;
    } cases[] = {
        {"{\"metadata\":{\"name\":\"p\",\"managedFields\":[{\"f\":{\"x\":1}}],\"uid\":\"u\"},"
         "\"spec\":{\"managedFields\":1}}",
         "metadata.managedFields",
         "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},\"spec\":{\"managedFields\":1}}"},
        {"{\"metadata\":\"odd\",\"a\":1}", "metadata.managedFields",
         "{\"metadata\":\"odd\",\"a\":1}"},
        {"{\"a\":1,\"b\":[1,{\"c\":2}],\"d\":3}", "b", "{\"a\":1,\"d\":3}"},
        {"[1,2]", "a", "[1,2]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ubuf b = mp_of(cases[i].in);
        json_t *got = codec_msgpack_to_json_without(b.data, b.len, cases[i].skip);
        json_t *want = json_loads(cases[i].want, 0, NULL);
        assert_non_null(got);
        assert_true(json_equal(got, want));
        assert_int_equal(json_object_size(got), json_object_size(want));
        json_decref(got);
        json_decref(want);
        /* every truncation: NULL, never a crash */
        for (size_t cut = 1; cut < b.len; cut++)
            assert_null(codec_msgpack_to_json_without(b.data, cut, cases[i].skip));
        ubuf_free(&b);
    }
}

/* A Table row's PartialObjectMetadata: the metadata's text with the
 * resourceVersion set in place or at the end; 1 when there is none. */
static void test_text_at_key(void **state)
{
    (void)state;
    struct ubuf b = mp_of("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"1\","
                          "\"a\":\"\\u00e9\\\"\"},\"spec\":{}}");
    struct ubuf t = {0};
    assert_int_equal(codec_msgpack_json_text_at(b.data, b.len, "metadata", "7", &t), 0);
    assert_string_equal(t.data, "{\"name\":\"p\",\"resourceVersion\":\"7\",\"a\":\"\u00e9\\\"\"}");
    t.len = 0;
    assert_int_equal(codec_msgpack_json_text_at(b.data, b.len, "spec", NULL, &t), 0);
    assert_string_equal(t.data, "{}");
    t.len = 0;
    assert_int_equal(codec_msgpack_json_text_at(b.data, b.len, "status", "7", &t), 1);
    assert_int_equal(codec_msgpack_json_text_at(b.data, b.len, "kind", "7", &t), 1);
    assert_int_equal(t.len, 0);
    ubuf_free(&b);
    b = mp_of("{\"metadata\":{}}");
    assert_int_equal(codec_msgpack_json_text_at(b.data, b.len, "metadata", "7", &t), 0);
    assert_string_equal(t.data, "{\"resourceVersion\":\"7\"}");
    ubuf_free(&b);
    ubuf_free(&t);
}

/* codec_json_load against jansson's json_loadb on the cases at the edges of
 * the grammar: both accept and build the same tree, or both refuse. */
static void load_same(const char *text, size_t len, size_t flags)
{
    json_error_t e;
    json_t *want = json_loadb(text, len, flags, NULL);
    json_t *got = codec_json_load(text, len, flags, &e);
    if (!want) {
        assert_null(got);
        assert_true(e.text[0] != '\0');
        return;
    }
    assert_non_null(got);
    assert_true(json_equal(want, got));
    assert_same_text(want, got);
    json_decref(want);
    json_decref(got);
}

static void test_json_load_matches_jansson(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{}", "[]", " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", "{\"a\":1,\"a\":2,\"b\":3}",
        "{\"b\":1,\"a\":{\"c\":[true,false,null]}}", "-0", "0", "-0.0", "1.5e3", "1E+2",
        "1e-400", "1e400", "-1e400", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "01", "-01", "1.", ".5", "-", "+1",
        "1e", "1e+", "0x10", "\"\"", "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "\"\\u00e9\\u20ac\"",
        "\"\\ud83d\\ude00\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"",
        "\"\\u0000\"", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"\xc3\xa9\"", "\"\xc0\x80\"",
        "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf0\x9f\x98\x80\"", "\"\xe2\x82\"",
        "\"\x7f\"", "\"a\x01\"", "\"unterminated", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}",
        "{1:2}", "{\"a\":1 \"b\":2}", "[1 2]", "true", "truex", "tru", "nul", "false ",
        "[true,false,null]", "1 2", "", "   ", "\xef\xbb\xbf{}", "[\"\\u0041\\u0042\"]",
        "{\"\\u0061\":1,\"a\":2}", "{\"\\u0061\":\"\\u0062\",\"c\\n\":[\"\\t\"]}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        load_same(cases[i], strlen(cases[i]), JSON_DECODE_ANY);
        load_same(cases[i], strlen(cases[i]), 0);
        load_same(cases[i], strlen(cases[i]), JSON_DECODE_ANY | JSON_REJECT_DUPLICATES);
        load_same(cases[i], strlen(cases[i]), JSON_DECODE_ANY | JSON_ALLOW_NUL);
    }
    /* NUL bytes: in a string value with JSON_ALLOW_NUL only, never in a key. */
    load_same("\"a\\u0000b\"", 10, JSON_DECODE_ANY | JSON_ALLOW_NUL);
    load_same("{\"a\\u0000\":1}", 13, JSON_DECODE_ANY | JSON_ALLOW_NUL);
    load_same("\"a\0b\"", 5, JSON_DECODE_ANY);
    load_same("[1]\0", 4, JSON_DECODE_ANY);
}

/* Every value counts a level, scalars too; deeper than 2048 is refused. */
static void test_json_load_depth(void **state)
{
    (void)state;
    for (int d = 2047; d <= 2049; d++) {
        char *b = malloc((size_t)d * 6 + 8);
        size_t n = 0;
        for (int i = 0; i < d; i++)
            b[n++] = '[';
        for (int i = 0; i < d; i++)
            b[n++] = ']';
        load_same(b, n, 0);
        n = 0;
        for (int i = 0; i < d; i++) {
            memcpy(b + n, "{\"a\":", 5);
            n += 5;
        }
        b[n++] = '1';
        for (int i = 0; i < d; i++)
            b[n++] = '}';
        load_same(b, n, 0);
        free(b);
    }
}

/* The error says where: line (from 1), column and byte position. */
static void test_json_load_error_position(void **state)
{
    (void)state;
    json_error_t e;
    const char *t = "{\n  \"a\": 1,\n  \"b\": tru\n}";
    assert_null(codec_json_load(t, strlen(t), 0, &e));
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 7);
    assert_int_equal(e.position, (int)(strstr(t, "tru") - t));
    assert_non_null(strstr(e.text, "invalid token"));
    assert_null(codec_json_load(NULL, 0, JSON_DECODE_ANY, NULL));
}

/* codec_msgpack_edit: edits in place keep their key's position, new keys
 * go last in the edits' order (maps made on the way), deleting under a map
 * that is not there changes nothing, and what it cannot do leaves out as it
 * was: a path through a non-map, one path a prefix of another, a value
 * too deep for where it goes, too many edits, trailing bytes. */
static void test_msgpack_edit(void **state)
{
    json_t *obj = json_loads("{\"a\":{\"x\":1,\"y\":2},\"b\":\"s\",\"c\":[1]}", 0, NULL);
    json_t *one = json_integer(1), *str = json_string("v");
    struct ubuf in = {0}, out = {0};
    assert_int_equal(codec_json_to_msgpack(obj, &in), 0);

    const struct codec_edit ok[] = {
        {"a.x", str}, {"a.y", NULL}, {"n.m.k", one}, {"b", NULL}, {"gone.q", NULL}, {"a.z", one},
    };
    assert_int_equal(codec_msgpack_edit(in.data, in.len, ok, 6, &out), 0);
    json_t *got = codec_msgpack_to_json(out.data, out.len);
    char *text = json_dumps(got, JSON_COMPACT);
    assert_string_equal(text, "{\"a\":{\"x\":\"v\",\"z\":1},\"c\":[1],\"n\":{\"m\":{\"k\":1}}}");
    free(text);
    json_decref(got);

    const struct codec_edit bad[][2] = {
        {{"b.q", one}, {"c", NULL}},    /* b is a string */
        {{"a", NULL}, {"a.x", one}},    /* a prefix of another path */
        {{"a.x", one}, {"a", one}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        out.len = 0;
        assert_int_equal(codec_msgpack_edit(in.data, in.len, bad[i], 2, &out), -1);
        assert_int_equal(out.len, 0);
    }
    /* A value that would nest deeper than CODEC_MAX_DEPTH where it goes:
     * refused, as encoding the edited tree would be. */
    json_t *deep = json_integer(1);
    for (int i = 0; i < CODEC_MAX_DEPTH - 1; i++)
        deep = json_pack("[o]", deep);
    assert_int_equal(codec_json_to_msgpack(deep, &out), 0); /* fits at the top */
    out.len = 0;
    const struct codec_edit too_deep[] = {{"a.deep", deep}};
    assert_int_equal(codec_msgpack_edit(in.data, in.len, too_deep, 1, &out), -1);
    assert_int_equal(out.len, 0);
    json_decref(deep);
    struct codec_edit many[CODEC_EDIT_MAX + 1];
    for (unsigned i = 0; i <= CODEC_EDIT_MAX; i++)
        many[i] = (struct codec_edit){"b", NULL};
    assert_int_equal(codec_msgpack_edit(in.data, in.len, many, CODEC_EDIT_MAX + 1, &out), -1);
    ubuf_append(&in, "\xc0", 1); /* a trailing nil */
    assert_int_equal(codec_msgpack_edit(in.data, in.len, ok, 1, &out), -1);
    assert_int_equal(out.len, 0);
    ubuf_free(&in);
    ubuf_free(&out);
    json_decref(one);
    json_decref(str);
    json_decref(obj);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_without),
        cmocka_unit_test(test_text_at_key),
        cmocka_unit_test(test_text_as_json_dumps),
        cmocka_unit_test(test_text_strings_by_word),
        cmocka_unit_test(test_text_sets_resource_version),
        cmocka_unit_test(test_extract_selected_paths),
        cmocka_unit_test(test_extract_shared_prefixes),
        cmocka_unit_test(test_extract_after_large_values),
        cmocka_unit_test(test_extract_rejects_malformed),
        cmocka_unit_test(test_roundtrip_nested_object),
        cmocka_unit_test(test_roundtrip_key_order),
        cmocka_unit_test(test_roundtrip_integers),
        cmocka_unit_test(test_integer_wire_format),
        cmocka_unit_test(test_decode_all_integer_forms),
        cmocka_unit_test(test_roundtrip_reals),
        cmocka_unit_test(test_decode_float32),
        cmocka_unit_test(test_roundtrip_unicode),
        cmocka_unit_test(test_reject_nul_in_key),
        cmocka_unit_test(test_roundtrip_string_sizes),
        cmocka_unit_test(test_roundtrip_scalars),
        cmocka_unit_test(test_roundtrip_large_containers),
        cmocka_unit_test(test_encode_appends),
        cmocka_unit_test(test_encode_matches_msgpack_c),
        cmocka_unit_test(test_decode_msgpack_c_output),
        cmocka_unit_test(test_reject_empty_and_null),
        cmocka_unit_test(test_reject_every_truncation),
        cmocka_unit_test(test_reject_trailing_bytes),
        cmocka_unit_test(test_reject_non_string_keys),
        cmocka_unit_test(test_reject_duplicate_keys),
        cmocka_unit_test(test_reject_bin_ext_and_reserved),
        cmocka_unit_test(test_reject_unrepresentable_numbers),
        cmocka_unit_test(test_reject_invalid_utf8),
        cmocka_unit_test(test_reject_lying_lengths),
        cmocka_unit_test(test_depth_limit_decode),
        cmocka_unit_test(test_depth_bomb),
        cmocka_unit_test(test_depth_limit_encode),
        cmocka_unit_test(test_yaml_manifest),
        cmocka_unit_test(test_yaml_scalars),
        cmocka_unit_test(test_yaml_anchors),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_json_load_matches_jansson),
        cmocka_unit_test(test_json_load_depth),
        cmocka_unit_test(test_json_load_error_position),
        cmocka_unit_test(test_msgpack_edit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
