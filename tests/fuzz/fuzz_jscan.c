/* fuzz_jscan.c — libFuzzer harness for util/jscan.c (finding values in
 * JSON text without decoding it) and agent_pod_view, which builds on it.
 *
 * On any input: no read past the end (the input is not terminated), a
 * value found starts within the input, and a string found from any quote
 * ends where a byte-by-byte walk of the string rule ends it. On input that
 * jansson decodes as an object without duplicate keys: every top-level key
 * written without escapes is found, and its value's extent decodes to what
 * the full decode holds under that key (differential); agent_pod_view, when it answers,
 * holds only values equal to the full decode's.
 *
 *   make build/fuzz/fuzz_jscan && ./build/fuzz/fuzz_jscan -max_total_time=60 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "util/util.h"

/* Every member of the view equals the full object's at the same path. */
static void check_view(json_t *view, json_t *full)
{
    const char *part;
    json_t *members;
    json_object_foreach(view, part, members) {
        json_t *src = json_object_get(full, part);
        const char *k;
        json_t *v;
        json_object_foreach(members, k, v) assert(json_equal(v, json_object_get(src, k)));
    }
}

/* The string rule walked a byte at a time, the character after a backslash
 * skipped: util_json_string (memchr to each quote) must end where it does. */
static const char *string_walk(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    if (p >= end || *p != '"')
        return NULL;
    const char *q = p + 1;
    while (q < end && *q != '"')
        q += *q == '\\' ? 2 : 1;
    return q < end ? q + 1 : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    const char *end = buf + size;
    for (const char *p = buf; p < end; p++) { /* from every quote */
        const char *s;
        size_t n;
        if (*p == '"')
            assert(util_json_string(p, end, &s, &n) == string_walk(p, end));
    }
    const char *e = util_json_skip(buf, end);
    assert(!e || (e > buf && e <= end));
    json_t *full = json_loadb(buf, size, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(full)) {
        const char *key;
        json_t *want;
        json_object_foreach(full, key, want) {
            if (strlen(key) > 64 || strchr(key, '"') || strchr(key, '\\'))
                continue;
            const char *v = util_json_member(buf, end, key);
            char quoted[80];
            snprintf(quoted, sizeof quoted, "\"%s\"", key);
            if (!v) { /* only if the key is written with an escape */
                assert(!memmem(buf, size, quoted, strlen(quoted)) || memchr(buf, '\\', size));
                continue;
            }
            assert(v >= buf && v < end);
            const char *ve = util_json_skip(v, end);
            assert(ve);
            json_t *got = json_loadb(v, (size_t)(ve - v), JSON_DECODE_ANY, NULL);
            assert(got && json_equal(got, want));
            json_decref(got);
        }
        json_t *view = agent_pod_view(buf, end);
        if (view)
            check_view(view, full);
        json_decref(view);
    } else {
        json_decref(agent_pod_view(buf, end)); /* whatever it says, no crash */
    }
    json_decref(full);
    free(buf);
    return 0;
}
