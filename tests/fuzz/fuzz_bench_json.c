/* fuzz_bench_json.c — libFuzzer harness for the watch-event scanner of
 * `bosun bench schedule` (tools/bench_schedule_watch.c, on util/jscan.c),
 * which reads the few fields it needs out of each event line without
 * decoding it. (fuzz_jscan checks the scanner against jansson.)
 *
 * The input is one event line. The scanner looks up the members the
 * benchmark reads (type, object, metadata, name, spec, nodeName,
 * resourceVersion) at two depths, as bsch_watch_event does. The checks:
 * every value it returns lies inside the input, a string's bytes too, and
 * a second lookup returns the same pointer. Sanitizers catch over-reads.
 *
 *   make build/fuzz/fuzz_bench_json && ./build/fuzz/fuzz_bench_json -max_total_time=60 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static void fuzz_inside(const char *v, const char *begin, const char *end)
{
    if (v && (v < begin || v > end))
        abort();
}

/* Looks up key in the object at p; checks the answer and, when it is a
 * string, its bytes. */
static const char *fuzz_member(const char *p, const char *begin, const char *end, const char *key)
{
    if (!p)
        return NULL;
    const char *v = util_json_member(p, end, key);
    fuzz_inside(v, begin, end);
    if (v != util_json_member(p, end, key))
        abort();
    const char *s;
    size_t n;
    const char *after = v ? util_json_string(v, end, &s, &n) : NULL;
    if (after) {
        fuzz_inside(after, begin, end);
        if (s < begin || s + n > end || after <= s)
            abort();
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so that any read past the end is seen. */
    char *buf = malloc(size ? size : 1);
    if (size)
        memcpy(buf, data, size);
    const char *b = buf, *e = buf + size;
    fuzz_member(b, b, e, "type");
    const char *obj = fuzz_member(b, b, e, "object");
    const char *md = fuzz_member(obj, b, e, "metadata");
    fuzz_member(md, b, e, "name");
    fuzz_member(md, b, e, "resourceVersion");
    fuzz_member(md, b, e, "deletionTimestamp");
    const char *spec = fuzz_member(obj, b, e, "spec");
    fuzz_member(spec, b, e, "nodeName");
    free(buf);
    return 0;
}
