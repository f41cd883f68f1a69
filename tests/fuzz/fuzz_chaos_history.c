/* fuzz_chaos_history.c — libFuzzer harness for the history reader of
 * `bosun chaos check` (tools/chaos_history.c) and, on what it accepts, the
 * checker itself (tools/chaos_check.c, chaos_search.c, chaos_explain.c).
 *
 * The input is DIR/history.jsonl, optionally followed by a NUL byte and
 * DIR/final.json. Parsing must either succeed or fail with a message;
 * an accepted history is checked with a small search bound (so that no
 * input runs long), and the verdict must be one of the three with a text
 * ending in its "result" line and a JSON document that parses. The
 * checker's own asserts (model, search, explanation) do the rest;
 * sanitizers catch memory errors.
 *
 *   make build/fuzz/fuzz_chaos_history && ./build/fuzz/fuzz_chaos_history \
 *       -max_total_time=60 tests/fuzz/corpus/fuzz_chaos_history */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tools/chaos_internal.h"

static void fuzz_check(const struct chaos_history *h)
{
    struct chaos_options o = {.max_states = 2000};
    struct chaos_report r;
    chaos_check_history(h, &o, &r);
    if (r.verdict != CHAOS_PASS && r.verdict != CHAOS_FAILED && r.verdict != CHAOS_UNDECIDED)
        abort();
    ubuf_append(&r.text, "", 1);
    if (!strstr(r.text.data, "\nresult       "))
        abort();
    json_t *j = json_loadb(r.json.data, r.json.len, 0, NULL);
    if (!j || !json_is_string(json_object_get(j, "result")))
        abort();
    if ((r.verdict == CHAOS_PASS) != (strcmp(json_string_value(json_object_get(j, "result")), "PASS") == 0))
        abort();
    json_decref(j);
    chaos_report_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384) /* a bounded input keeps every run short */
        return 0;
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t hlen = nul ? (size_t)(nul - text) : size;
    struct chaos_history h;
    char err[512] = "";
    chaos_history_init(&h);
    int rc = chaos_history_parse(&h, text, hlen, err, sizeof err);
    if (rc == 0 && nul)
        rc = chaos_final_parse(&h, nul + 1, size - hlen - 1, err, sizeof err);
    if (rc < 0 && !err[0])
        abort(); /* every refusal says why */
    if (rc == 0)
        fuzz_check(&h);
    chaos_history_free(&h);
    return 0;
}
