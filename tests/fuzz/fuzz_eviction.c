/* fuzz_eviction.c — libFuzzer harness for the eviction subresource's body
 * (server/eviction.c: eviction_options, with write.c's
 * delete_opts_from_json) and for what a PodDisruptionBudget means
 * (kube/pdb.c).
 *
 * Each input that parses as a JSON object is taken:
 *   1. as a policy/v1 Eviction, checked against the schema as the server
 *      checks a body (strict, then pruned), then read by eviction_options
 *      for pod "p" in namespace "ns", with and without the query's
 *      dryRun=All;
 *   2. as a PodDisruptionBudget in namespace "ns": which of fixed pods it
 *      covers, and its DisruptionAllowed condition updated twice.
 * The checks: a refused body says why (400, 422 or 500 and a non-empty
 * message); accepted options name a known propagation policy; selection
 * is the same on a second call; updating the condition a second time
 * changes nothing, and afterwards the condition is current whenever
 * observedGeneration is the generation. Sanitizers catch crashes,
 * over-reads and leaks.
 *
 *   make build/fuzz/fuzz_eviction && ./build/fuzz/fuzz_eviction -max_total_time=60 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "server/internal.h"

static const char *const fuzz_pods[] = {
    "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"labels\":{\"app\":\"web\"}}}",
    "{\"metadata\":{\"name\":\"q\",\"namespace\":\"ns\"}}",
    "{\"metadata\":{\"name\":\"r\",\"namespace\":\"other\",\"labels\":{\"app\":\"web\"}}}",
};
#define FUZZ_N_PODS (sizeof fuzz_pods / sizeof fuzz_pods[0])

static void fuzz_options(json_t *body, bool query_dry_run)
{
    struct delete_opts o;
    unsigned code = 0;
    char msg[512] = "";
    if (!eviction_options(body, "ns", "p", query_dry_run, &o, &code, msg, sizeof msg)) {
        if ((code != 400 && code != 422 && code != 500) || !msg[0])
            abort();
        return;
    }
    if (o.propagation[0] && strcmp(o.propagation, "Background") != 0 &&
        strcmp(o.propagation, "Foreground") != 0 && strcmp(o.propagation, "Orphan") != 0)
        abort();
    if (query_dry_run && !o.dry_run)
        abort();
}

static void fuzz_as_eviction(json_t *obj)
{
    const struct kube_type *t = kube_schema_kind("policy", "v1", "Eviction");
    if (!t)
        abort(); /* the generated schema must hold policy/v1 */
    json_t *body = json_deep_copy(obj);
    json_decref(kube_schema_check(t, body, true));
    json_decref(kube_schema_check(t, body, false)); /* prunes unknown fields */
    fuzz_options(body, false);
    fuzz_options(body, true);
    json_decref(body);
}

static void fuzz_as_budget(json_t *obj)
{
    json_t *pdb = json_deep_copy(obj);
    json_t *md = json_object_get(pdb, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(pdb, "metadata", md);
    }
    json_object_set_new(md, "namespace", json_string("ns"));
    for (size_t i = 0; i < FUZZ_N_PODS; i++) {
        json_t *pod = json_loads(fuzz_pods[i], 0, NULL);
        if (kube_pdb_selects(pdb, pod) != kube_pdb_selects(pdb, pod))
            abort();
        json_decref(pod);
    }
    if (!json_is_object(json_object_get(pdb, "status")))
        json_object_set_new(pdb, "status", json_object());
    kube_pdb_condition_update(pdb, "2026-01-01T00:00:00Z");
    if (kube_pdb_condition_update(pdb, "2026-01-01T00:00:01Z"))
        abort();
    json_t *st = json_object_get(pdb, "status");
    if (json_integer_value(json_object_get(st, "observedGeneration")) ==
            json_integer_value(json_object_get(md, "generation")) &&
        !kube_pdb_conditions_current(pdb))
        abort();
    json_decref(pdb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (json_is_object(obj)) {
        fuzz_as_eviction(obj);
        fuzz_as_budget(obj);
    }
    json_decref(obj);
    return 0;
}
