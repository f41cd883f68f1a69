/* fuzz_chaos_history.c — libFuzzer harness for the history reader of
 * `bosun chaos check` (tools/chaos_history.c) and, on what it accepts, the
 * checker itself (tools/chaos_check.c, chaos_search.c, chaos_explain.c).
 *
 * The input is DIR/history.jsonl, optionally followed by a NUL byte and
 * DIR/final.json (skipped when empty), by another NUL byte and
 * DIR/watch.jsonl (tools/chaos_watch.c checks it; skipped when empty), and
 * by a third NUL byte and DIR/controllers.jsonl (tools/chaos_ctl.c reads
 * and checks it). Parsing must either
 * succeed or fail with a message;
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
    const char *part[4] = {(const char *)data, NULL, NULL, NULL};
    size_t len[4] = {size, 0, 0, 0};
    for (int i = 1; i < 4 && part[i - 1]; i++) {
        const char *nul = memchr(part[i - 1], '\0', len[i - 1]);
        if (!nul)
            break;
        part[i] = nul + 1;
        len[i] = len[i - 1] - (size_t)(part[i] - part[i - 1]);
        len[i - 1] = (size_t)(nul - part[i - 1]);
    }
    struct chaos_history h;
    char err[512] = "";
    chaos_history_init(&h);
    int rc = chaos_history_parse(&h, part[0], len[0], err, sizeof err);
    if (rc == 0 && part[1] && len[1] > 0)
        rc = chaos_final_parse(&h, part[1], len[1], err, sizeof err);
    if (rc == 0 && part[2] && len[2] > 0) {
        h.watch = xcalloc(1, sizeof *h.watch);
        rc = chaos_watch_parse(h.watch, part[2], len[2], err, sizeof err);
    }
    if (rc == 0 && part[3])
        rc = chaos_ctl_parse(&h.ctl, part[3], len[3], err, sizeof err);
    if (rc < 0 && !err[0])
        abort(); /* every refusal says why */
    if (rc == 0)
        fuzz_check(&h);
    chaos_history_free(&h);
    return 0;
}
