/* fuzz_patch.c — libFuzzer harness for the three patch engines of kube/patch.c.
 *
 * Each input is split at its first NUL byte into a document and a patch,
 * both parsed as JSON (any value, not only objects; strings may hold NUL);
 * inputs without a NUL or with text that does not parse are skipped. The
 * pair then goes through
 *   1. kube_patch_merge — and, since merge patches are idempotent (RFC 7386),
 *      applying the patch again to the result must change nothing;
 *   2. kube_patch_json, with the patch as the operations;
 *   3. kube_patch_strategic with a small built-in schema (a pod-like type
 *      with every patch strategy Kubernetes uses) and with no schema.
 * Every engine must either return a document and leave err empty, or return
 * NULL with a reason in err, and must leave both inputs as they were.
 * Anything else aborts; sanitizers catch crashes and leaks.
 *
 *   clang -std=c11 -D_GNU_SOURCE -I. $(pkg-config --cflags jansson) \
 *     -fsanitize=fuzzer,address,undefined -O1 -o /tmp/fuzz_patch \
 *     tests/fuzz/fuzz_patch.c kube/patch.c util/util.c $(pkg-config --libs jansson) -lpthread
 *   /tmp/fuzz_patch -max_total_time=120 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

/* ---- a pod-like schema: every patchStrategy and a map of objects ---- */

static const struct kube_type fz_pod, fz_container, fz_port, fz_env, fz_volume, fz_strategy;

#define FZ_FIELDS(t) .fields = t##_fields, .n_fields = sizeof t##_fields / sizeof t##_fields[0]
#define FZ_SCALAR(n, vt) {.name = n, .vtype = vt}
#define FZ_OBJ(n, t, strategy)                                                                     \
    {.name = n, .vtype = KUBE_V_OBJECT, .type = &t, .patch_strategy = strategy}
#define FZ_LIST(n, t, strategy, key)                                                               \
    {.name = n, .vtype = KUBE_V_OBJECT, .type = &t, .repeated = true, .patch_strategy = strategy, \
     .patch_merge_key = key}

static const struct kube_field fz_port_fields[] = {
    FZ_SCALAR("containerPort", KUBE_V_INT32),
    FZ_SCALAR("name", KUBE_V_STRING),
    FZ_SCALAR("protocol", KUBE_V_STRING),
};
static const struct kube_field fz_env_fields[] = {
    FZ_SCALAR("name", KUBE_V_STRING),
    FZ_SCALAR("value", KUBE_V_STRING),
    FZ_SCALAR("valueFrom", KUBE_V_RAW),
};
static const struct kube_field fz_container_fields[] = {
    {.name = "args", .vtype = KUBE_V_STRING, .repeated = true},
    FZ_LIST("env", fz_env, "merge", "name"),
    FZ_SCALAR("image", KUBE_V_STRING),
    FZ_SCALAR("name", KUBE_V_STRING),
    FZ_LIST("ports", fz_port, "merge", "containerPort"),
};
static const struct kube_field fz_volume_fields[] = {
    FZ_SCALAR("configMap", KUBE_V_RAW),
    FZ_SCALAR("emptyDir", KUBE_V_RAW),
    FZ_SCALAR("name", KUBE_V_STRING),
};
static const struct kube_field fz_strategy_fields[] = {
    FZ_SCALAR("rollingUpdate", KUBE_V_RAW),
    FZ_SCALAR("type", KUBE_V_STRING),
};
static const struct kube_field fz_pod_fields[] = {
    {.name = "byName", .vtype = KUBE_V_OBJECT, .type = &fz_container, .map = true},
    FZ_LIST("containers", fz_container, "merge", "name"),
    {.name = "finalizers", .vtype = KUBE_V_STRING, .repeated = true, .patch_strategy = "merge"},
    {.name = "labels", .vtype = KUBE_V_STRING, .map = true},
    {.name = "raw", .vtype = KUBE_V_RAW, .patch_strategy = "replace"},
    FZ_OBJ("spec", fz_pod, NULL),
    FZ_OBJ("strategy", fz_strategy, "retainKeys"),
    FZ_LIST("volumes", fz_volume, "merge,retainKeys", "name"),
};

static const struct kube_type fz_port = {.name = "ContainerPort", FZ_FIELDS(fz_port)};
static const struct kube_type fz_env = {.name = "EnvVar", FZ_FIELDS(fz_env)};
static const struct kube_type fz_container = {.name = "Container", FZ_FIELDS(fz_container)};
static const struct kube_type fz_volume = {.name = "Volume", FZ_FIELDS(fz_volume)};
static const struct kube_type fz_strategy = {.name = "DeploymentStrategy", FZ_FIELDS(fz_strategy)};
static const struct kube_type fz_pod = {.name = "PodSpec", FZ_FIELDS(fz_pod)};

/* ---- checks ---- */

static void fz_die(const char *what, json_t *doc, json_t *patch)
{
    char *d = json_dumps(doc, JSON_COMPACT | JSON_ENCODE_ANY);
    char *p = json_dumps(patch, JSON_COMPACT | JSON_ENCODE_ANY);
    fprintf(stderr, "fuzz_patch: %s\n  doc   %s\n  patch %s\n", what, d, p);
    free(d);
    free(p);
    abort();
}

/* One engine's answer: a result with no error, or an error and no result. */
static void fz_check_answer(const char *engine, json_t *out, const char *err, json_t *doc,
                            json_t *patch)
{
    if (out && err[0])
        fz_die(engine, doc, patch);
    if (!out && !err[0])
        fz_die(engine, doc, patch);
}

static void fz_merge(json_t *doc, json_t *patch)
{
    char err[256] = "x";
    json_t *out = kube_patch_merge(doc, patch, err, sizeof err);
    fz_check_answer("merge: result and error disagree", out, err, doc, patch);
    if (out) {
        json_t *again = kube_patch_merge(out, patch, err, sizeof err);
        if (!again || !json_equal(again, out))
            fz_die("merge: applying the patch twice changed the result", doc, patch);
        json_decref(again);
    }
    json_decref(out);
}

static void fz_json(json_t *doc, json_t *patch)
{
    char err[256] = "x";
    json_t *out = kube_patch_json(doc, patch, err, sizeof err);
    fz_check_answer("json: result and error disagree", out, err, doc, patch);
    json_decref(out);
}

static void fz_strategic(const struct kube_type *t, json_t *doc, json_t *patch)
{
    char err[256] = "x";
    json_t *out = kube_patch_strategic(t, doc, patch, err, sizeof err);
    fz_check_answer("strategic: result and error disagree", out, err, doc, patch);
    if (out && !json_is_object(out))
        fz_die("strategic: the result is not an object", doc, patch);
    json_decref(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul)
        return 0;
    size_t dlen = (size_t)(nul - data);
    json_t *doc = json_loadb((const char *)data, dlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *patch =
        json_loadb((const char *)nul + 1, size - dlen - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (doc && patch) {
        json_t *doc0 = json_deep_copy(doc), *patch0 = json_deep_copy(patch);
        fz_merge(doc, patch);
        fz_json(doc, patch);
        fz_strategic(&fz_pod, doc, patch);
        fz_strategic(NULL, doc, patch);
        if (!json_equal(doc, doc0) || !json_equal(patch, patch0))
            fz_die("an engine changed its input", doc0, patch0);
        json_decref(doc0);
        json_decref(patch0);
    }
    json_decref(doc);
    json_decref(patch);
    return 0;
}
