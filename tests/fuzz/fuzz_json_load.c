/* fuzz_json_load.c — differential libFuzzer harness for codec_json_load
 * (codec/json_load.c) against jansson's json_loadb.
 *
 * For every input and each flag set bosun uses: both loaders accept it or
 * both reject it, and what they accept is the same tree (json_equal) with
 * the same key order (the compact, ordered dumps are equal). One known
 * difference: jansson skips a NUL byte that follows a number or literal
 * (its one-byte lookahead loses it: "true\0" and "[1\0]" load), which is
 * not JSON; codec_json_load rejects it. No read past the input's end: it
 * is not terminated.
 *
 *   make build/fuzz/fuzz_json_load && \
 *     ./build/fuzz/fuzz_json_load -max_total_time=60 COPY_OF_CORPUS */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

static void check(const char *buf, size_t size, size_t flags)
{
    json_error_t e1, e2;
    json_t *want = json_loadb(buf, size, flags, &e1);
    json_t *got = codec_json_load(buf, size, flags, &e2);
    assert(!want == !got || (want && !got && memchr(buf, 0, size)));
    if (want && !got) {
        json_decref(want);
        return;
    }
    if (want) {
        assert(json_equal(want, got));
        char *a = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
        char *b = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
        assert(a && b && strcmp(a, b) == 0);
        free(a);
        free(b);
    } else {
        assert(e2.text[0] != '\0' && e2.line >= 1 && e2.position >= 0 &&
               (size_t)e2.position <= size);
    }
    json_decref(want);
    json_decref(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    check(buf, size, 0);
    check(buf, size, JSON_DECODE_ANY);
    check(buf, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES);
    check(buf, size, JSON_DECODE_ANY | JSON_ALLOW_NUL);
    free(buf);
    return 0;
}
