/* fuzz_protobuf.c — libFuzzer harness for kube_protobuf_decode, the
 * decoder of Kubernetes protobuf request bodies (kube/protobuf.c).
 *
 * An input that starts with the "k8s\0" magic is decoded as a whole body.
 * Any other input is decoded bare: its first byte picks one of the served
 * kinds and the rest is that object's encoding, so the fuzzer spends its
 * time inside nested messages rather than on the envelope. Whatever
 * decodes must be a JSON object (with apiVersion and kind for bodies) that
 * jansson can print and read back to an equal value, and decoding it
 * again must give the same value; whatever is refused must come with a
 * "protobuf: " message. Sanitizers catch crashes, over-reads and leaks.
 *
 *   make build/fuzz/fuzz_protobuf
 *   ./build/fuzz/fuzz_protobuf -max_total_time=180 CORPUS_DIR
 * Seeds: the .pb files of .deps/src/k8s/api/testdata/HEAD, as they are
 * (bodies) and as a kind byte followed by the object inside (bare). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

static const char *const fuzz_kinds[][3] = {
    {"", "v1", "Namespace"},
    {"", "v1", "Node"},
    {"", "v1", "Pod"},
    {"", "v1", "Service"},
    {"", "v1", "Endpoints"},
    {"", "v1", "ConfigMap"},
    {"", "v1", "Secret"},
    {"", "v1", "PersistentVolume"},
    {"", "v1", "PersistentVolumeClaim"},
    {"", "v1", "Event"},
    {"", "v1", "ServiceAccount"},
    {"apps", "v1", "Deployment"},
    {"apps", "v1", "ReplicaSet"},
    {"apps", "v1", "DaemonSet"},
    {"apps", "v1", "StatefulSet"},
    {"apps", "v1", "ControllerRevision"},
    {"batch", "v1", "Job"},
    {"batch", "v1", "CronJob"},
    {"autoscaling", "v2", "HorizontalPodAutoscaler"},
    {"coordination.k8s.io", "v1", "Lease"},
    {"discovery.k8s.io", "v1", "EndpointSlice"},
    {"scheduling.k8s.io", "v1", "PriorityClass"},
    {"", "v1", "ResourceQuota"},
    {"policy", "v1", "PodDisruptionBudget"},
};
#define FUZZ_N_KINDS (sizeof fuzz_kinds / sizeof fuzz_kinds[0])

static json_t *fuzz_decode(const uint8_t *data, size_t size, char *err, size_t errlen)
{
    if (size >= 4 && memcmp(data, "k8s\0", 4) == 0)
        return kube_protobuf_decode(data, size, err, errlen);
    if (size == 0)
        return kube_protobuf_decode(data, size, err, errlen);
    const char *const *k = fuzz_kinds[data[0] % FUZZ_N_KINDS];
    const struct kube_type *t = kube_schema_kind(k[0], k[1], k[2]);
    if (!t)
        abort(); /* the schema lost a served kind */
    return kube_protobuf_decode_message(t, data + 1, size - 1, err, errlen);
}

/* The result must survive jansson's printer and parser unchanged: every
 * string valid UTF-8 without NUL, every number finite. */
static void fuzz_check_json(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    if (!text)
        abort();
    json_error_t e;
    json_t *back = json_loads(text, 0, &e);
    if (!back || !json_equal(v, back))
        abort();
    json_decref(back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256] = "";
    json_t *v = fuzz_decode(data, size, err, sizeof err);
    if (!v) {
        if (strncmp(err, "protobuf: ", 10) != 0)
            abort();
        return 0;
    }
    if (!json_is_object(v))
        abort();
    if (size >= 4 && memcmp(data, "k8s\0", 4) == 0 &&
        (!json_is_string(json_object_get(v, "apiVersion")) ||
         !json_is_string(json_object_get(v, "kind"))))
        abort();
    fuzz_check_json(v);
    json_t *again = fuzz_decode(data, size, err, sizeof err);
    if (!again || !json_equal(v, again))
        abort();
    json_decref(again);
    json_decref(v);
    return 0;
}
