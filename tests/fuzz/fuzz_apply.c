/* fuzz_apply.c — libFuzzer harness for kube_apply and
 * kube_managed_fields_update (kube/apply.c).
 *
 * Input: one flags byte, then a live object and an applied configuration
 * as two JSON texts separated by a newline (an empty or unparsable live
 * text means "create"). The flags pick the kind, the manager, force and
 * the subresource. Checked:
 *   1. kube_apply either returns an object, or fails with a message and,
 *      for conflicts, a list of FieldManagerConflict causes;
 *   2. applying the same configuration again by the same manager
 *      succeeds and changes nothing, managedFields and times included;
 *   3. kube_managed_fields_update from the result to a copy of it records
 *      nothing, and from the live object to the result does not crash.
 * Anything else aborts. Sanitizers catch the rest.
 *
 *   make build/fuzz/fuzz_apply && ./build/fuzz/fuzz_apply -max_total_time=60 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

static const char *const kinds[][3] = {
    {"apps", "v1", "Deployment"},
    {"", "v1", "Pod"},
    {"", "v1", "Service"},
    {"", "v1", "ConfigMap"},
};

static void check_causes(json_t *causes)
{
    if (!json_is_array(causes) || !json_array_size(causes))
        abort();
    json_t *c;
    size_t i;
    json_array_foreach(causes, i, c) {
        if (strcmp(json_string_value(json_object_get(c, "reason")), "FieldManagerConflict") ||
            !json_is_string(json_object_get(c, "message")) ||
            !json_is_string(json_object_get(c, "field")))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *nl = memchr(text, '\n', len);
    if (!nl)
        return 0;
    const char *const *k = kinds[flags & 3];
    const struct kube_type *t = kube_schema_kind(k[0], k[1], k[2]);
    const char *manager = flags & 4 ? "kubectl" : "fuzzer";
    const char *sub = flags & 8 ? "status" : "";
    bool force = flags & 16;

    json_t *live = json_loadb(text, (size_t)(nl - text), 0, NULL);
    json_t *config = json_loadb(nl + 1, len - (size_t)(nl - text) - 1, 0, NULL);
    if (!config || !json_is_object(live)) {
        json_decref(live);
        live = NULL;
    }
    if (!config)
        return 0;

    char err[512] = "";
    json_t *causes = NULL;
    json_t *obj = kube_apply(t, live, config, manager, sub, force, "2025-01-01T00:00:00Z", &causes,
                             err, sizeof err);
    if (!obj) {
        if (!err[0])
            abort();
        if (causes)
            check_causes(causes);
    } else {
        if (causes)
            abort();
        json_t *again = kube_apply(t, obj, config, manager, sub, false, "2025-01-01T00:01:00Z",
                                   &causes, err, sizeof err);
        if (!again || !json_equal(again, obj)) {
            char *a = json_dumps(obj, JSON_COMPACT), *b = again ? json_dumps(again, JSON_COMPACT) : NULL;
            fprintf(stderr, "apply is not idempotent:\n%s\n%s\n%s\n", a, b ? b : err, err);
            abort();
        }
        json_decref(again);
        json_t *copy = json_deep_copy(obj);
        kube_managed_fields_update(t, obj, copy, "noop", sub, "2025-01-01T00:02:00Z");
        if (!json_equal(copy, obj))
            abort();
        json_decref(copy);
        if (live) {
            copy = json_deep_copy(obj);
            kube_managed_fields_update(t, live, copy, "updater", sub, "2025-01-01T00:03:00Z");
            json_decref(copy);
        }
    }
    json_decref(causes);
    json_decref(obj);
    json_decref(live);
    json_decref(config);
    return 0;
}
