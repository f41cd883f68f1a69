/* fuzz_selector.c — libFuzzer harness for kube/selector.c.
 *
 * Each input is tried three ways:
 *   1. as the string form (kube_selector_parse, up to the first NUL, as a
 *      query parameter would arrive);
 *   2. as a LabelSelector object, when it is JSON (kube_selector_from_json);
 *   3. as a LabelSelector whose matchLabels is the input parsed as labels
 *      ("k=v" pairs), so keys and values of every shape reach validation.
 * Whatever parses is matched against fixed label sets. The checks: a refusal
 * always says why (a non-empty, terminated message); an empty selector
 * matches every label set; a selector never matches differently on a second
 * call. Sanitizers catch crashes, over-reads and leaks.
 *
 *   make build/fuzz/fuzz_selector && ./build/fuzz/fuzz_selector -max_total_time=60 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

static const char *const fuzz_label_sets[] = {
    "{}",
    "{\"app\":\"web\",\"env\":\"prod\",\"tier\":\"\",\"n\":\"42\"}",
    "{\"a\":\"b\",\"in\":\"notin\",\"x.example.com/y\":\"-1\",\"k\":\"9223372036854775807\"}",
    "{\"a\":1,\"b\":null,\"c\":[\"d\"]}",
};
#define FUZZ_N_SETS (sizeof fuzz_label_sets / sizeof fuzz_label_sets[0])

static void fuzz_check(struct kube_selector *s, const char *err, size_t errlen, json_t **sets)
{
    if (!s) {
        if (err[0] == '\0' || strnlen(err, errlen) == errlen)
            abort();
        return;
    }
    bool empty = kube_selector_empty(s);
    for (size_t i = 0; i < FUZZ_N_SETS; i++) {
        bool m = kube_selector_match(s, sets[i]);
        if (m != kube_selector_match(s, sets[i]) || (empty && !m))
            abort();
    }
    if (empty && !kube_selector_match(s, NULL))
        abort();
    kube_selector_free(s);
}

/* matchLabels built from "k=v" lines of the input, in a LabelSelector */
static json_t *fuzz_labels_selector(const char *text)
{
    json_t *ml = json_object();
    char *copy = strdup(text), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        json_object_set_new_nocheck(ml, line, json_string_nocheck(eq + 1));
    }
    free(copy);
    return json_pack("{s:o}", "matchLabels", ml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *sets[FUZZ_N_SETS];
    for (size_t i = 0; i < FUZZ_N_SETS; i++)
        sets[i] = json_loads(fuzz_label_sets[i], 0, NULL);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char err[256];

    fuzz_check(kube_selector_parse(text, err, sizeof err), err, sizeof err, sets);

    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (j) {
        fuzz_check(kube_selector_from_json(j, err, sizeof err), err, sizeof err, sets);
        json_decref(j);
    }

    json_t *ls = fuzz_labels_selector(text);
    fuzz_check(kube_selector_from_json(ls, err, sizeof err), err, sizeof err, sets);
    json_decref(ls);

    free(text);
    for (size_t i = 0; i < FUZZ_N_SETS; i++)
        json_decref(sets[i]);
    return 0;
}
