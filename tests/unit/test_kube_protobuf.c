/* test_kube_protobuf.c — unit tests for kube/protobuf.c, the decoder of
 * Kubernetes protobuf request bodies.
 *
 * How it checks the decoder:
 *   - against Kubernetes' own round-trip fixtures: k8s.io/api ships, for
 *     every kind, one object encoded as protobuf (testdata/HEAD/<group>.
 *     <version>.<Kind>.pb) and as JSON (.json); each served kind must decode
 *     to exactly that JSON, and so must every other kind the schema knows;
 *   - against kubectl itself: bodies that kubectl v1.32 POSTed to a
 *     recording server for `kubectl create ...`, next to the JSON the same
 *     command prints with --dry-run=client -o json;
 *   - on hand-built messages (a small encoder below) for each rule of the
 *     wire format and each special value type, and for each error;
 *   - on every truncation and every one-byte corruption of real bodies,
 *     which must give NULL or an object, never a crash (ASan watches).
 *
 * Tests run from the repository root; the k8s.io/api sources are found at
 * $BOSUN_K8S_API or .deps/src/k8s/api (fetched by `make deps`). */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube/kube.h"

/* ---- files ---- */

static const char *api_dir(void)
{
    const char *d = getenv("BOSUN_K8S_API");
    return d && *d ? d : ".deps/src/k8s/api";
}

/* The whole file, or NULL if it cannot be read. */
static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

static uint8_t *testdata(const char *name, const char *ext, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/testdata/HEAD/%s.%s", api_dir(), name, ext);
    uint8_t *b = slurp(path, len);
    if (!b)
        fail_msg("cannot read %s (run `make deps`, or set BOSUN_K8S_API)", path);
    return b;
}

static json_t *testdata_json(const char *name)
{
    size_t n;
    uint8_t *b = testdata(name, "json", &n);
    json_error_t e;
    json_t *j = json_loadb((const char *)b, n, 0, &e);
    free(b);
    if (!j)
        fail_msg("%s.json: %s", name, e.text);
    return j;
}

/* ---- comparing ---- */

/* Fails the test with both documents when they differ. */
static void expect_json(json_t *got, json_t *want, const char *what)
{
    if (json_equal(got, want))
        return;
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(1));
    char *w = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(1));
    print_error("%s: decoded\n%s\nwant\n%s\n", what, g, w);
    free(g);
    free(w);
    fail_msg("%s: decoded JSON differs", what);
}

static bool is_wire_zero(json_t *v)
{
    return (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_integer(v) && json_integer_value(v) == 0) || json_is_false(v);
}

/* The one known difference between a decoded Go client body and the JSON
 * the same client prints: gogo's marshalers always write non-pointer
 * scalars, so "" / 0 / false reach the wire, where Go's JSON encoder drops
 * them (omitempty). The schema does not record which Go fields are
 * pointers (whose explicit zero, like `replicas: 0`, must stay), so the
 * decoder keeps every value present on the wire, and this removes from
 * `got` the zero scalars that `want` does not have. */
static void drop_wire_zeros(json_t *got, json_t *want)
{
    if (json_is_object(got) && json_is_object(want)) {
        const char *k;
        json_t *v;
        void *tmp;
        json_object_foreach_safe(got, tmp, k, v) {
            json_t *w = json_object_get(want, k);
            if (!w && is_wire_zero(v))
                json_object_del(got, k);
            else if (w)
                drop_wire_zeros(v, w);
        }
    } else if (json_is_array(got) && json_is_array(want) &&
               json_array_size(got) == json_array_size(want)) {
        for (size_t i = 0; i < json_array_size(got); i++)
            drop_wire_zeros(json_array_get(got, i), json_array_get(want, i));
    }
}

static json_t *decode_ok(const void *buf, size_t len)
{
    char err[256];
    json_t *j = kube_protobuf_decode(buf, len, err, sizeof err);
    if (!j)
        fail_msg("decode failed: %s", err);
    return j;
}

/* Decoding must fail with an error that contains `want`. */
static void expect_error(const void *buf, size_t len, const char *want)
{
    char err[256] = "untouched";
    json_t *j = kube_protobuf_decode(buf, len, err, sizeof err);
    if (j) {
        char *s = json_dumps(j, JSON_SORT_KEYS);
        print_error("decoded %s\n", s);
        free(s);
        json_decref(j);
        fail_msg("expected an error containing \"%s\"", want);
    }
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
    assert_memory_equal(err, "protobuf: ", 10);
}

/* ---- a small protobuf encoder for hand-built messages ---- */

struct pbw {
    uint8_t *b;
    size_t n, cap;
};

static void w_raw(struct pbw *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 16;
        w->b = realloc(w->b, w->cap);
    }
    if (n)
        memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void w_varint(struct pbw *w, uint64_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b |= 0x80;
        w_raw(w, &b, 1);
    } while (v);
}

static void w_tag(struct pbw *w, unsigned num, unsigned wire)
{
    w_varint(w, (uint64_t)num << 3 | wire);
}

static void w_uint(struct pbw *w, unsigned num, uint64_t v)
{
    w_tag(w, num, 0);
    w_varint(w, v);
}

static void w_bytes(struct pbw *w, unsigned num, const void *p, size_t n)
{
    w_tag(w, num, 2);
    w_varint(w, n);
    w_raw(w, p, n);
}

static void w_str(struct pbw *w, unsigned num, const char *s)
{
    w_bytes(w, num, s, strlen(s));
}

/* Writes sub as the length-delimited field num, and frees sub. */
static void w_msg(struct pbw *w, unsigned num, struct pbw *sub)
{
    w_bytes(w, num, sub->b, sub->n);
    free(sub->b);
    *sub = (struct pbw){0};
}

/* "k8s\0" + runtime.Unknown{typeMeta{apiVersion, kind}, raw}; frees raw. */
static void w_envelope(struct pbw *w, const char *api_version, const char *kind, struct pbw *raw)
{
    struct pbw tm = {0}, unk = {0};
    w_str(&tm, 1, api_version);
    w_str(&tm, 2, kind);
    w_msg(&unk, 1, &tm);
    w_msg(&unk, 2, raw);
    w_str(&unk, 4, "application/vnd.kubernetes.protobuf");
    w_raw(w, "k8s\0", 4);
    w_raw(w, unk.b, unk.n);
    free(unk.b);
}

/* Wraps raw in an envelope and decodes it; frees raw. */
static json_t *decode_raw(const char *api_version, const char *kind, struct pbw *raw)
{
    struct pbw body = {0};
    w_envelope(&body, api_version, kind, raw);
    json_t *j = decode_ok(body.b, body.n);
    free(body.b);
    return j;
}

static void expect_raw_error(const char *api_version, const char *kind, struct pbw *raw,
                             const char *want)
{
    struct pbw body = {0};
    w_envelope(&body, api_version, kind, raw);
    expect_error(body.b, body.n, want);
    free(body.b);
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    if (!j)
        fail_msg("bad expected JSON %s: %s", text, e.text);
    return j;
}

static void expect_raw_json(const char *api_version, const char *kind, struct pbw *raw,
                            const char *want_text)
{
    json_t *got = decode_raw(api_version, kind, raw);
    json_t *want = parse(want_text);
    expect_json(got, want, want_text);
    json_decref(got);
    json_decref(want);
}

/* ---- Kubernetes' round-trip fixtures ---- */

/* The kinds bosun serves. */
static const char *const served[] = {
    "core.v1.Namespace", "core.v1.Node", "core.v1.Pod", "core.v1.Service",
    "core.v1.Endpoints", "core.v1.ConfigMap", "core.v1.Secret", "core.v1.PersistentVolume",
    "core.v1.PersistentVolumeClaim", "core.v1.Event", "core.v1.ServiceAccount",
    "apps.v1.Deployment", "apps.v1.ReplicaSet", "apps.v1.DaemonSet", "apps.v1.StatefulSet",
    "apps.v1.ControllerRevision", "batch.v1.Job", "batch.v1.CronJob",
    "autoscaling.v2.HorizontalPodAutoscaler", "coordination.k8s.io.v1.Lease",
    "discovery.k8s.io.v1.EndpointSlice", "scheduling.k8s.io.v1.PriorityClass",
};

/* The fixtures' objects have every field set to a non-zero value, so no
 * normalising is needed: the decoded JSON must be exactly Go's. */
static void test_testdata_served(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof served / sizeof served[0]; i++) {
        size_t n;
        uint8_t *pb = testdata(served[i], "pb", &n);
        json_t *got = decode_ok(pb, n);
        json_t *want = testdata_json(served[i]);
        expect_json(got, want, served[i]);
        json_decref(got);
        json_decref(want);
        free(pb);
    }
}

/* Fixtures that are known to decode differently, and why. Each must still
 * differ, so that the entry is removed once the cause is fixed. */
/* Fixtures known to decode differently from Go's JSON, with why. (None
 * now: IngressClassParametersReference's proto field aPIGroup used to be
 * named so; gen_schema.py takes JSON names from Go's tags since.) */
static const struct {
    const char *name, *why;
} known_diffs[] = {
    {"", ""},
};

static const char *known_diff(const char *name)
{
    for (size_t i = 0; i < sizeof known_diffs / sizeof known_diffs[0]; i++)
        if (strcmp(known_diffs[i].name, name) == 0)
            return known_diffs[i].why;
    return NULL;
}

/* One fixture of a kind outside the served list: decodes to Go's JSON,
 * or is refused because the schema does not know the kind (or, for
 * WatchEvent, because its envelope names none, which Go refuses too).
 * Returns whether it decoded. */
static bool check_other_fixture(const char *name)
{
    size_t n;
    uint8_t *pb = testdata(name, "pb", &n);
    char err[256];
    json_t *got = kube_protobuf_decode(pb, n, err, sizeof err);
    free(pb);
    if (!got) {
        if (!strstr(err, "unknown kind") && !strstr(err, "envelope has no kind"))
            fail_msg("%s: %s", name, err);
        return false;
    }
    json_t *want = testdata_json(name);
    if (known_diff(name))
        assert_false(json_equal(got, want));
    else
        expect_json(got, want, name);
    json_decref(got);
    json_decref(want);
    return true;
}

static void test_testdata_all_known_kinds(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/testdata/HEAD", api_dir());
    DIR *d = opendir(path);
    if (!d)
        fail_msg("cannot open %s", path);
    unsigned decoded = 0, files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".pb") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - 3), e->d_name);
        files++;
        decoded += check_other_fixture(name);
    }
    closedir(d);
    /* the served kinds and the other kinds of the schema's packages */
    assert_true(files > 100);
    assert_true(decoded >= 40);
}

/* ---- bodies captured from kubectl v1.32 ----
 * A python http.server on 127.0.0.1 recorded the POST bodies of these
 * commands (Content-Type application/vnd.kubernetes.protobuf, query
 * fieldManager=kubectl-create&fieldValidation=Strict); `want` is what the
 * same command prints with --dry-run=client -o json. */
static const struct {
    const char *name, *cmd, *hex, *want;
} captures[] = {
    {"configmap",
     "kubectl create configmap x --from-literal=a=b",
     "6b3873000a0f0a0276311209436f6e6669674d6170121b0a110a017812001a0022002a0032003800420012060a01"
     "611201621a002200",
     "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\",\"creationTim"
     "estamp\":null},\"data\":{\"a\":\"b\"}}"},
    {"configmap_files",
     "kubectl create configmap cm2 --from-file=bin.dat --from-file=t.txt",
     "6b3873000a0f0a0276311209436f6e6669674d6170123d0a130a03636d3212001a0022002a00320038004200120f"
     "0a05742e747874120668656c6c6f0a1a150a0762696e2e646174120a0001ff2062696e6172791a002200",
     "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"cm2\",\"creationT"
     "imestamp\":null},\"data\":{\"t.txt\":\"hello\\n\"},\"binaryData\":{\"bin.dat\":\"AAH/IGJ"
     "pbmFyeQ==\"}}"},
    {"secret_docker",
     "kubectl create secret docker-registry reg --docker-server=r.example --docker-usernam"
     "e=u --docker-password=p",
     "6b3873000a0c0a02763112065365637265741291010a130a0372656712001a0022002a00320038004200125a0a11"
     "2e646f636b6572636f6e6669676a736f6e12457b226175746873223a7b22722e6578616d706c65223a7b22757365"
     "726e616d65223a2275222c2270617373776f7264223a2270222c2261757468223a2264547077227d7d7d1a1e6b75"
     "6265726e657465732e696f2f646f636b6572636f6e6669676a736f6e1a002200",
     "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"reg\",\"creationTime"
     "stamp\":null},\"data\":{\".dockerconfigjson\":\"eyJhdXRocyI6eyJyLmV4YW1wbGUiOnsidXNlcm5h"
     "bWUiOiJ1IiwicGFzc3dvcmQiOiJwIiwiYXV0aCI6ImRUcHcifX19\"},\"type\":\"kubernetes.io/dockerc"
     "onfigjson\"}"},
    {"namespace",
     "kubectl create namespace ns1",
     "6b3873000a0f0a02763112094e616d657370616365121b0a130a036e733112001a0022002a003200380042001200"
     "1a020a001a002200",
     "{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"ns1\",\"creationT"
     "imestamp\":null},\"spec\":{},\"status\":{}}"},
    {"serviceaccount",
     "kubectl create serviceaccount sa1",
     "6b3873000a140a027631120e536572766963654163636f756e7412150a130a0373613112001a0022002a00320038"
     "0042001a002200",
     "{\"kind\":\"ServiceAccount\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"sa1\",\"crea"
     "tionTimestamp\":null}}"},
    {"deployment",
     "kubectl create deployment web2 --image=nginx --image=redis --replicas=0",
     "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412d5010a210a047765623212001a0022002a00"
     "3200380042005a0b0a0361707012047765623212a1010800120d0a0b0a036170701204776562321a85010a1d0a00"
     "12001a0022002a003200380042005a0b0a03617070120477656232126412220a056e67696e7812056e67696e782a"
     "0042006a007200800100880100900100a2010012220a057265646973120572656469732a0042006a007200800100"
     "880100900100a201001a00320042004a0052005800600068008201008a01009a0100c2010022020a00280038001a"
     "0c0800100018002000280038001a002200",
     "{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\",\"metadata\":{\"name\":\"web2\",\"cr"
     "eationTimestamp\":null,\"labels\":{\"app\":\"web2\"}},\"spec\":{\"replicas\":0,\"selecto"
     "r\":{\"matchLabels\":{\"app\":\"web2\"}},\"template\":{\"metadata\":{\"creationTimestamp"
     "\":null,\"labels\":{\"app\":\"web2\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\",\"i"
     "mage\":\"nginx\",\"resources\":{}},{\"name\":\"redis\",\"image\":\"redis\",\"resources\""
     ":{}}]}},\"strategy\":{}},\"status\":{}}"},
    {"job",
     "kubectl create job j1 --image=busybox -- sleep 5",
     "6b3873000a0f0a0862617463682f763112034a6f621284010a120a026a3112001a0022002a003200380042001264"
     "32620a100a0012001a0022002a00320038004200124e122b0a026a31120762757379626f781a05736c6565701a01"
     "352a0042006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a"
     "01009a0100c201001a082000280030003a001a002200",
     "{\"kind\":\"Job\",\"apiVersion\":\"batch/v1\",\"metadata\":{\"name\":\"j1\",\"creationTi"
     "mestamp\":null},\"spec\":{\"template\":{\"metadata\":{\"creationTimestamp\":null},\"spec"
     "\":{\"containers\":[{\"name\":\"j1\",\"image\":\"busybox\",\"command\":[\"sleep\",\"5\"]"
     ",\"resources\":{}}],\"restartPolicy\":\"Never\"}}},\"status\":{}}"},
    {"cronjob",
     "kubectl create cronjob cj --image=busybox --schedule='*/5 * * * *' -- echo hi",
     "6b3873000a130a0862617463682f7631120743726f6e4a6f6212a8010a120a02636a12001a0022002a0032003800"
     "4200128f010a0b2a2f35202a202a202a202a1a002a7e0a120a02636a12001a0022002a0032003800420012683266"
     "0a100a0012001a0022002a003200380042001252122b0a02636a120762757379626f781a046563686f1a0268692a"
     "0042006a007200800100880100900100a201001a094f6e4661696c757265320042004a0052005800600068008201"
     "008a01009a0100c201001a001a002200",
     "{\"kind\":\"CronJob\",\"apiVersion\":\"batch/v1\",\"metadata\":{\"name\":\"cj\",\"creati"
     "onTimestamp\":null},\"spec\":{\"schedule\":\"*/5 * * * *\",\"jobTemplate\":{\"metadata\""
     ":{\"name\":\"cj\",\"creationTimestamp\":null},\"spec\":{\"template\":{\"metadata\":{\"cr"
     "eationTimestamp\":null},\"spec\":{\"containers\":[{\"name\":\"cj\",\"image\":\"busybox\""
     ",\"command\":[\"echo\",\"hi\"],\"resources\":{}}],\"restartPolicy\":\"OnFailure\"}}}}},\""
     "status\":{}}"},
    {"service_nodeport",
     "kubectl create service nodeport np1 --tcp=5678:8080 --node-port=30080",
     "6b3873000a0d0a027631120753657276696365126d0a1f0a036e703112001a0022002a003200380042005a0a0a03"
     "61707012036e703112460a200a09353637382d38303830120354435018ae2c2207080010903f1a002880eb01120a"
     "0a0361707012036e70311a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200",
     "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"np1\",\"creationTim"
     "estamp\":null,\"labels\":{\"app\":\"np1\"}},\"spec\":{\"ports\":[{\"name\":\"5678-8080\""
     ",\"protocol\":\"TCP\",\"port\":5678,\"targetPort\":8080,\"nodePort\":30080}],\"selector\""
     ":{\"app\":\"np1\"},\"type\":\"NodePort\"},\"status\":{\"loadBalancer\":{}}}"},
    {"quota",
     "kubectl create quota q1 --hard=cpu=1,memory=1Gi,pods=10",
     "6b3873000a130a027631120d5265736f7572636551756f746112430a120a02713112001a0022002a003200380042"
     "00122b0a0a0a0363707512030a01310a0f0a066d656d6f727912050a033147690a0c0a04706f647312040a023130"
     "1a001a002200",
     "{\"kind\":\"ResourceQuota\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"q1\",\"creati"
     "onTimestamp\":null},\"spec\":{\"hard\":{\"cpu\":\"1\",\"memory\":\"1Gi\",\"pods\":\"10\""
     "}},\"status\":{}}"},
    {"pdb",
     "kubectl create poddisruptionbudget pdb1 --selector=app=x --min-available=50%",
     "6b3873000a200a09706f6c6963792f76311213506f6444697372757074696f6e427564676574123b0a140a047064"
     "623112001a0022002a0032003800420012170a09080110001a03353025120a0a080a036170701201781a0a080018"
     "002000280030001a002200",
     "{\"kind\":\"PodDisruptionBudget\",\"apiVersion\":\"policy/v1\",\"metadata\":{\"name\":\""
     "pdb1\",\"creationTimestamp\":null},\"spec\":{\"minAvailable\":\"50%\",\"selector\":{\"ma"
     "tchLabels\":{\"app\":\"x\"}}},\"status\":{\"disruptionsAllowed\":0,\"currentHealthy\":0,"
     "\"desiredHealthy\":0,\"expectedPods\":0}}"},
    {"priorityclass",
     "kubectl create priorityclass high --value=1000 --description='high prio' --global-de"
     "fault=false",
     "6b3873000a250a147363686564756c696e672e6b38732e696f2f7631120d5072696f72697479436c617373123c0a"
     "140a046869676812001a0022002a0032003800420010e8071800220968696768207072696f2a14507265656d7074"
     "4c6f7765725072696f726974791a002200",
     "{\"kind\":\"PriorityClass\",\"apiVersion\":\"scheduling.k8s.io/v1\",\"metadata\":{\"name"
     "\":\"high\",\"creationTimestamp\":null},\"value\":1000,\"description\":\"high prio\",\"p"
     "reemptionPolicy\":\"PreemptLowerPriority\"}"},
};

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void test_kubectl_captures(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++) {
        uint8_t body[1024];
        size_t n = unhex(captures[i].hex, body, sizeof body);
        json_t *got = decode_ok(body, n);
        json_t *want = parse(captures[i].want);
        drop_wire_zeros(got, want);
        expect_json(got, want, captures[i].cmd);
        json_decref(got);
        json_decref(want);
    }
}

/* What the wire carries that kubectl's JSON leaves out: exactly the
 * omitempty zeros drop_wire_zeros explains. */
static void test_kubectl_wire_zeros(void **state)
{
    (void)state;
    uint8_t body[1024];
    size_t n = unhex(captures[0].hex, body, sizeof body);
    json_t *got = decode_ok(body, n);
    /* Go sends generateName "", namespace "", generation 0...: omitempty
     * non-pointer fields, which its JSON leaves out, and so do we. */
    json_t *want = parse("{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
                         "\"x\",\"creationTimestamp\":null},\"data\":{\"a\":\"b\"}}");
    expect_json(got, want, "configmap as on the wire");
    json_decref(got);
    json_decref(want);
}

/* ---- robustness on real bodies ----
 * A body cut short mostly fails at once (the envelope's raw length runs
 * past the end), so the object inside is also cut at every offset and
 * decoded bare, which fails deep inside nested messages. The fuzzer
 * (tests/fuzz/fuzz_protobuf.c) explores far more; these stay quick. */

static uint64_t get_varint(const uint8_t **p, const uint8_t *end)
{
    uint64_t v = 0;
    for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
    }
    return v;
}

/* The raw object inside a well-formed body (runtime.Unknown field 2);
 * *field is where its tag starts. */
static const uint8_t *envelope_raw(const uint8_t *body, size_t n, size_t *rawlen,
                                   const uint8_t **field)
{
    const uint8_t *p = body + 4, *end = body + n;
    while (p < end) {
        *field = p;
        uint64_t tag = get_varint(&p, end);
        assert_int_equal(tag & 7, 2);
        uint64_t len = get_varint(&p, end);
        assert_true(len <= (uint64_t)(end - p));
        if (tag >> 3 == 2) {
            *rawlen = len;
            return p;
        }
        p += len;
    }
    fail_msg("no raw in the envelope");
    return NULL;
}

/* Decodes buf[0..n) as a body, or bare as type t when t is not NULL, from
 * an allocation of exactly n bytes so that ASan sees any over-read; the
 * result must be NULL with a message, or an object. Returns whether it
 * decoded. */
static bool decode_exact(const struct kube_type *t, const uint8_t *buf, size_t n)
{
    char err[256] = "";
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, buf, n);
    json_t *j = t ? kube_protobuf_decode_message(t, copy, n, err, sizeof err)
                  : kube_protobuf_decode(copy, n, err, sizeof err);
    free(copy);
    if (!j) {
        assert_true(strlen(err) > 10);
        return false;
    }
    assert_true(json_is_object(j));
    json_decref(j);
    return true;
}

/* Every prefix of a body, and every stride-th of the object inside. */
static void check_prefixes(const uint8_t *pb, size_t n, const struct kube_type *t, size_t stride)
{
    size_t rawlen = 0;
    const uint8_t *field = pb;
    const uint8_t *raw = envelope_raw(pb, n, &rawlen, &field);
    size_t raw_start = (size_t)(field - pb), raw_end = (size_t)(raw - pb) + rawlen;
    /* Every field of the envelope is optional: a prefix that stops just
     * before raw is an empty object, and one that keeps all of raw (but
     * not all of contentEncoding and contentType) may decode too. */
    for (size_t i = 0; i <= n; i++) {
        bool ok = decode_exact(NULL, pb, i);
        if (i <= raw_end || i == n)
            assert_int_equal(ok, i == raw_start || i >= raw_end);
    }
    unsigned ok = 0;
    for (size_t i = 0; i < rawlen; i += stride)
        ok += decode_exact(t, raw, i);
    ok += decode_exact(t, raw, rawlen);
    assert_true(ok >= 2); /* the empty prefix and the whole object, at least */
}

static void check_testdata_prefixes(const char *name, const struct kube_type *t, size_t stride)
{
    size_t n;
    uint8_t *pb = testdata(name, "pb", &n);
    check_prefixes(pb, n, t, stride);
    free(pb);
}

static void test_truncations(void **state)
{
    (void)state;
    check_testdata_prefixes("core.v1.ConfigMap", kube_schema_kind("", "v1", "ConfigMap"), 1);
    check_testdata_prefixes("apps.v1.ControllerRevision",
                            kube_schema_kind("apps", "v1", "ControllerRevision"), 1);
    check_testdata_prefixes("core.v1.Pod", kube_schema_kind("", "v1", "Pod"), 3);
    uint8_t body[1024];
    assert_string_equal(captures[5].name, "deployment");
    size_t n = unhex(captures[5].hex, body, sizeof body);
    check_prefixes(body, n, kube_schema_kind("apps", "v1", "Deployment"), 1);
    /* a body cut inside its last string is refused, not shortened */
    expect_error(body, n - 5, "beyond the end");
}

/* Bytes of a body replaced by a few values: NULL or an object. */
static void check_corruptions(const char *name, size_t stride)
{
    static const uint8_t values[] = {0x00, 0x7f, 0x80, 0xff, 0x02, 0x05, 0x0b};
    size_t n;
    uint8_t *pb = testdata(name, "pb", &n);
    uint8_t *copy = malloc(n);
    unsigned ok = 0, refused = 0;
    for (size_t i = 0; i < n; i += stride) {
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(copy, pb, n);
            copy[i] = values[v];
            if (decode_exact(NULL, copy, n))
                ok++;
            else
                refused++;
        }
    }
    assert_true(ok > 0 && refused > 0);
    free(copy);
    free(pb);
}

static void test_corruptions(void **state)
{
    (void)state;
    check_corruptions("core.v1.ConfigMap", 1);
    check_corruptions("apps.v1.Deployment", 41);
}

/* ---- the envelope ---- */

static void test_envelope_errors(void **state)
{
    (void)state;
    expect_error("", 0, "magic");
    expect_error(NULL, 0, "magic");
    expect_error("k8s", 3, "magic");
    expect_error("k8s\1\n\0", 6, "magic");
    expect_error("{\"kind\":\"Pod\"}", 14, "magic");
    expect_error("k8s\0", 4, "envelope has no kind");

    struct pbw raw = {0};
    expect_raw_error("v1", "Nope", &raw, "unknown kind v1/Nope");
    expect_raw_error("apps/v1", "ConfigMap", &raw, "unknown kind apps/v1/ConfigMap");
    expect_raw_error("a/b/c", "Pod", &raw, "unexpected apiVersion");
    expect_raw_error("", "Pod", &raw, "envelope has no apiVersion");
    expect_raw_error("v1", "", &raw, "envelope has no kind");

    struct pbw tm = {0}, unk = {0}, body = {0};
    w_str(&tm, 1, "v1");
    w_bytes(&tm, 2, "Po\0d", 4);
    w_msg(&unk, 1, &tm);
    w_raw(&body, "k8s\0", 4);
    w_raw(&body, unk.b, unk.n);
    expect_error(body.b, body.n, "kind contains NUL");
    free(unk.b);
    free(body.b);

    /* typeMeta with the wrong wire type */
    body = (struct pbw){0};
    w_raw(&body, "k8s\0", 4);
    w_uint(&body, 1, 7);
    expect_error(body.b, body.n, "envelope field 1 has wire type 0");
    free(body.b);

    /* a kind longer than any Kubernetes kind */
    char longkind[300];
    memset(longkind, 'K', sizeof longkind - 1);
    longkind[sizeof longkind - 1] = '\0';
    expect_raw_error("v1", longkind, &raw, "kind longer than");
}

static void test_envelope_ok(void **state)
{
    (void)state;
    /* An empty object; contentEncoding, contentType and unknown envelope
     * fields are ignored, as Go's decoder ignores them. */
    struct pbw tm = {0}, unk = {0}, body = {0};
    w_str(&tm, 1, "v1");
    w_str(&tm, 2, "ConfigMap");
    w_msg(&unk, 1, &tm);
    w_str(&unk, 3, "");
    w_str(&unk, 4, "application/vnd.kubernetes.protobuf");
    w_uint(&unk, 9, 1);
    w_raw(&body, "k8s\0", 4);
    w_raw(&body, unk.b, unk.n);
    json_t *got = decode_ok(body.b, body.n);
    json_t *want = parse("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}");
    expect_json(got, want, "empty ConfigMap");
    json_decref(got);
    json_decref(want);
    free(unk.b);
    free(body.b);

    /* "/v1" is the core group, as schema.ParseGroupVersion reads it */
    struct pbw raw = {0};
    expect_raw_json("/v1", "Namespace", &raw, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\"}");
    expect_raw_json("scheduling.k8s.io/v1", "PriorityClass", &raw,
                    "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\"}");
}

static void test_error_buffer(void **state)
{
    (void)state;
    char small[12];
    assert_null(kube_protobuf_decode("xx", 2, small, sizeof small));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_null(kube_protobuf_decode("xx", 2, NULL, 0));
    assert_null(kube_protobuf_decode("xx", 2, small, 0));
    assert_null(kube_protobuf_decode("k8s\0\x0a\x80", 6, small, 1));
    assert_string_equal(small, "");
    char err[100];
    assert_null(kube_protobuf_decode(NULL, 5, err, sizeof err)); /* no buffer, no bytes */
    assert_non_null(strstr(err, "magic"));
}

/* ---- the wire format ---- */

static void test_wire_errors(void **state)
{
    (void)state;
    struct pbw raw = {0};
    w_raw(&raw, "\x20\x80", 2); /* immutable, its varint cut */
    expect_raw_error("v1", "ConfigMap", &raw, "immutable: truncated varint");

    w_raw(&raw, "\xa0", 1); /* a tag cut */
    expect_raw_error("v1", "ConfigMap", &raw, "truncated varint");

    w_raw(&raw, "\x20\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
    expect_raw_error("v1", "ConfigMap", &raw, "immutable: varint longer than 10 bytes");

    w_raw(&raw, "\x0a\x05\x0a\x01", 4); /* metadata of 5 bytes, 2 there */
    expect_raw_error("v1", "ConfigMap", &raw, "length 5 beyond the end");

    w_raw(&raw, "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10); /* length 2^63-1 */
    expect_raw_error("v1", "ConfigMap", &raw, "beyond the end");

    w_str(&raw, 4, "yes"); /* immutable is a bool */
    expect_raw_error("v1", "ConfigMap", &raw, "immutable: wire type 2, want 0");

    w_uint(&raw, 1, 3); /* metadata is a message */
    expect_raw_error("v1", "ConfigMap", &raw, "metadata: wire type 0, want 2");

    w_uint(&raw, 2, 3); /* data is a map */
    expect_raw_error("v1", "ConfigMap", &raw, "data: map entry has wire type 0");

    w_tag(&raw, 77, 6);
    expect_raw_error("v1", "ConfigMap", &raw, "illegal wire type 6");

    w_tag(&raw, 77, 7);
    expect_raw_error("v1", "ConfigMap", &raw, "illegal wire type 7");

    w_raw(&raw, "\x00\x00", 2);
    expect_raw_error("v1", "ConfigMap", &raw, "illegal field number 0");

    w_tag(&raw, 77, 4);
    expect_raw_error("v1", "ConfigMap", &raw, "unexpected end of group 77");

    w_tag(&raw, 77, 3);
    w_uint(&raw, 1, 1);
    expect_raw_error("v1", "ConfigMap", &raw, "group 77 not ended");

    w_tag(&raw, 77, 3);
    w_tag(&raw, 78, 4);
    expect_raw_error("v1", "ConfigMap", &raw, "group 77 ended by tag 78");

    w_tag(&raw, 77, 1);
    w_raw(&raw, "1234567", 7);
    expect_raw_error("v1", "ConfigMap", &raw, "truncated 8-byte fixed value");

    w_tag(&raw, 77, 5);
    w_raw(&raw, "123", 3);
    expect_raw_error("v1", "ConfigMap", &raw, "truncated 4-byte fixed value");
}

static void test_string_errors(void **state)
{
    (void)state;
    struct pbw raw = {0}, meta = {0};
    w_bytes(&meta, 1, "a\xff", 2);
    w_msg(&raw, 1, &meta);
    expect_raw_error("v1", "ConfigMap", &raw, "metadata.name: string is not valid UTF-8");

    w_bytes(&meta, 3, "\xed\xa0\x80", 3); /* a UTF-16 surrogate */
    w_msg(&raw, 1, &meta);
    expect_raw_error("v1", "ConfigMap", &raw, "metadata.namespace: string is not valid UTF-8");

    w_bytes(&meta, 1, "a\0b", 3);
    w_msg(&raw, 1, &meta);
    expect_raw_error("v1", "ConfigMap", &raw, "metadata.name: string contains NUL");

    struct pbw entry = {0};
    w_bytes(&entry, 1, "k\0", 2);
    w_str(&entry, 2, "v");
    w_msg(&raw, 2, &entry);
    expect_raw_error("v1", "ConfigMap", &raw, "data: string contains NUL");

    w_bytes(&entry, 1, "\xc0\x80", 2); /* overlong NUL */
    w_msg(&raw, 2, &entry);
    expect_raw_error("v1", "ConfigMap", &raw, "data: string is not valid UTF-8");

    w_str(&entry, 1, "k");
    w_uint(&entry, 2, 1);
    w_msg(&raw, 2, &entry);
    expect_raw_error("v1", "ConfigMap", &raw, "data: wire type 0, want 2");
}

static void test_unknown_fields_skipped(void **state)
{
    (void)state;
    struct pbw raw = {0}, meta = {0};
    w_uint(&raw, 90, 12345);
    w_tag(&raw, 91, 1);
    w_raw(&raw, "12345678", 8);
    w_str(&raw, 92, "whatever");
    w_tag(&raw, 93, 5);
    w_raw(&raw, "1234", 4);
    w_tag(&raw, 94, 3); /* a group with a nested group inside */
    w_uint(&raw, 1, 1);
    w_tag(&raw, 2, 3);
    w_str(&raw, 3, "x");
    w_tag(&raw, 2, 4);
    w_tag(&raw, 94, 4);
    w_str(&meta, 1, "x");
    w_uint(&meta, 99, 1);
    w_msg(&raw, 1, &meta);
    expect_raw_json("v1", "ConfigMap", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}");
}

static void test_scalars(void **state)
{
    (void)state;
    struct pbw raw = {0}, spec = {0};
    w_uint(&spec, 1, (UINT64_C(1) << 32) + 5); /* int32 keeps the low 32 bits */
    w_uint(&spec, 5, UINT64_MAX);              /* -1 as a 10-byte varint */
    w_uint(&spec, 7, 2);                       /* any non-zero bool is true */
    w_uint(&spec, 9, 0);                       /* a zero present is kept */
    w_msg(&raw, 2, &spec);
    expect_raw_json("apps/v1", "Deployment", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"spec\":{\"replicas\":5,"
                    "\"minReadySeconds\":-1,\"paused\":true,\"progressDeadlineSeconds\":0}}");

    w_uint(&raw, 3, UINT64_MAX); /* ControllerRevision.revision, int64 */
    expect_raw_json("apps/v1", "ControllerRevision", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"revision\":-1}");

    w_uint(&raw, 3, UINT64_C(0x7fffffffffffffff));
    w_uint(&raw, 3, UINT64_C(0x8000000000000000)); /* the last one wins */
    expect_raw_json("apps/v1", "ControllerRevision", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                    "\"revision\":-9223372036854775808}");
}

static void test_messages_merge(void **state)
{
    (void)state;
    struct pbw raw = {0}, meta = {0}, spec = {0};
    w_str(&meta, 1, "a");
    w_msg(&raw, 1, &meta);
    w_str(&meta, 3, "ns");
    w_str(&meta, 1, "b");
    w_msg(&raw, 1, &meta);
    w_msg(&raw, 2, &spec); /* present but empty */
    w_msg(&raw, 3, &spec);
    w_msg(&spec, 2, &meta); /* selector {} */
    w_msg(&raw, 2, &spec);
    expect_raw_json("apps/v1", "Deployment", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":"
                    "\"b\",\"namespace\":\"ns\"},\"spec\":{\"selector\":{}},\"status\":{}}");
}

static void test_repeated(void **state)
{
    (void)state;
    struct pbw raw = {0}, spec = {0}, sc = {0}, packed = {0};
    w_uint(&sc, 4, 1);              /* unpacked */
    w_varint(&packed, 2);
    w_varint(&packed, UINT64_MAX);  /* -1 */
    w_varint(&packed, 1u << 31);
    w_msg(&sc, 4, &packed);         /* packed */
    w_msg(&sc, 4, &packed);         /* packed, empty */
    w_uint(&sc, 4, 4);
    w_msg(&spec, 14, &sc);
    struct pbw c = {0};
    w_str(&c, 1, "a");
    w_str(&c, 3, "sh");
    w_str(&c, 3, "-c");
    w_msg(&spec, 2, &c);
    w_str(&c, 1, "b");
    w_msg(&spec, 2, &c);
    w_msg(&raw, 2, &spec);
    expect_raw_json("v1", "Pod", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"securityContext\":"
                    "{\"supplementalGroups\":[1,2,-1,2147483648,4]},\"containers\":[{\"name\":"
                    "\"a\",\"command\":[\"sh\",\"-c\"]},{\"name\":\"b\"}]}}");

    /* a packed list cut inside a varint */
    w_raw(&packed, "\x05\x80", 2);
    w_msg(&sc, 4, &packed);
    w_msg(&spec, 14, &sc);
    w_msg(&raw, 2, &spec);
    expect_raw_error("v1", "Pod", &raw, "spec.securityContext.supplementalGroups: truncated varint");

    /* repeated strings do not come packed */
    w_uint(&c, 3, 1);
    w_msg(&spec, 2, &c);
    w_msg(&raw, 2, &spec);
    expect_raw_error("v1", "Pod", &raw, "spec.containers.command: wire type 0, want 2");
}

static void test_maps(void **state)
{
    (void)state;
    struct pbw raw = {0}, e = {0};
    w_str(&e, 1, "k");
    w_msg(&raw, 2, &e); /* no value: "" */
    w_str(&e, 2, "v");
    w_msg(&raw, 2, &e); /* no key: "" */
    w_str(&e, 1, "a");
    w_str(&e, 2, "1");
    w_msg(&raw, 2, &e);
    w_str(&e, 2, "2");
    w_str(&e, 1, "a");
    w_str(&e, 2, "3"); /* the last value in an entry wins */
    w_uint(&e, 7, 7);  /* unknown entry fields are skipped */
    w_msg(&raw, 2, &e);
    w_str(&e, 1, "b");
    w_bytes(&e, 2, "\xff\x00", 2);
    w_msg(&raw, 3, &e);
    w_str(&e, 1, "empty");
    w_msg(&raw, 3, &e);
    expect_raw_json("v1", "ConfigMap", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"data\":{\"k\":\"\",\"\":\"v\","
                    "\"a\":\"3\"},\"binaryData\":{\"b\":\"/wA=\",\"empty\":\"\"}}");
}

static void test_bytes_base64(void **state)
{
    (void)state;
    static const char *const want[] = {"", "YQ==", "YWI=", "YWJj", "YWJjZA==", "YWJjZGU="};
    for (size_t n = 0; n < 6; n++) {
        struct pbw raw = {0}, e = {0};
        w_str(&e, 1, "k");
        w_bytes(&e, 2, "abcde", n);
        w_msg(&raw, 2, &e);
        char text[200];
        snprintf(text, sizeof text,
                 "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{\"k\":\"%s\"}}", want[n]);
        expect_raw_json("v1", "Secret", &raw, text);
    }
}

/* Volume's volumeSource and Probe's handler are inline members: Go
 * flattens them into the parent's JSON, protobuf nests them. */
static void test_inline_members(void **state)
{
    (void)state;
    struct pbw raw = {0}, spec = {0}, vol = {0}, src = {0}, hp = {0};
    w_str(&hp, 1, "/data");
    w_msg(&src, 1, &hp);
    w_str(&vol, 1, "v");
    w_msg(&vol, 2, &src);
    w_msg(&spec, 1, &vol);

    struct pbw c = {0}, probe = {0}, handler = {0}, get = {0}, port = {0};
    w_uint(&port, 1, 0);
    w_uint(&port, 2, 8080);
    w_msg(&get, 2, &port);
    w_str(&get, 1, "/healthz");
    w_msg(&handler, 2, &get);
    w_msg(&probe, 1, &handler);
    w_uint(&probe, 4, 10);
    w_str(&c, 1, "c");
    w_msg(&c, 10, &probe);
    w_msg(&spec, 2, &c);
    w_msg(&raw, 2, &spec);
    expect_raw_json("v1", "Pod", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"volumes\":[{\"name\":\"v\","
                    "\"hostPath\":{\"path\":\"/data\"}}],\"containers\":[{\"name\":\"c\","
                    "\"livenessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080},"
                    "\"periodSeconds\":10}}]}}");

    /* The flattened fields carry the member's numbers; in the parent those
     * numbers mean nothing (Volume has no field 5), so they are skipped. */
    w_str(&vol, 1, "v");
    w_str(&vol, 5, "not nfs");
    w_msg(&spec, 1, &vol);
    w_msg(&raw, 2, &spec);
    expect_raw_json("v1", "Pod", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"spec\":{\"volumes\":[{\"name\":"
                    "\"v\"}]}}");

    w_uint(&vol, 2, 1);
    w_msg(&spec, 1, &vol);
    w_msg(&raw, 2, &spec);
    expect_raw_error("v1", "Pod", &raw, "spec.volumes: inline member has wire type 0");
}

static void test_int_or_string(void **state)
{
    (void)state;
    struct pbw raw = {0}, spec = {0}, port = {0}, ios = {0};
    w_uint(&port, 3, 80);
    w_uint(&ios, 1, 1);
    w_str(&ios, 3, "http");
    w_uint(&ios, 2, 99); /* ignored for a string */
    w_msg(&port, 4, &ios);
    w_msg(&spec, 1, &port);
    w_uint(&port, 3, 81);
    w_msg(&port, 4, &ios); /* empty: int 0 */
    w_msg(&spec, 1, &port);
    w_uint(&port, 3, 82);
    w_uint(&ios, 2, UINT64_MAX);
    w_uint(&ios, 9, 1);
    w_msg(&port, 4, &ios);
    w_msg(&spec, 1, &port);
    w_msg(&raw, 2, &spec);
    expect_raw_json("v1", "Service", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"spec\":{\"ports\":["
                    "{\"port\":80,\"targetPort\":\"http\"},{\"port\":81,\"targetPort\":0},"
                    "{\"port\":82,\"targetPort\":-1}]}}");

    w_uint(&ios, 1, 2);
    w_msg(&port, 4, &ios);
    w_msg(&spec, 1, &port);
    w_msg(&raw, 2, &spec);
    expect_raw_error("v1", "Service", &raw, "spec.ports.targetPort: intstr type 2");

    w_str(&ios, 2, "x");
    w_msg(&port, 4, &ios);
    w_msg(&spec, 1, &port);
    w_msg(&raw, 2, &spec);
    expect_raw_error("v1", "Service", &raw, "intstr field 2 has wire type 2");

    w_uint(&ios, 1, 1);
    w_bytes(&ios, 3, "\xfe", 1);
    w_msg(&port, 4, &ios);
    w_msg(&spec, 1, &port);
    w_msg(&raw, 2, &spec);
    expect_raw_error("v1", "Service", &raw, "targetPort: string is not valid UTF-8");
}

static void test_quantity(void **state)
{
    (void)state;
    struct pbw raw = {0}, spec = {0}, e = {0}, q = {0};
    w_str(&q, 1, "1Gi");
    w_str(&e, 1, "memory");
    w_msg(&e, 2, &q);
    w_msg(&spec, 1, &e);
    w_str(&e, 1, "pods");
    w_msg(&e, 2, &q); /* a Quantity message without its string: Go's zero */
    w_msg(&spec, 1, &e);
    w_str(&e, 1, "cpu"); /* no value at all: also zero */
    w_msg(&spec, 1, &e);
    w_str(&q, 1, "1");
    w_uint(&q, 2, 5); /* skipped */
    w_str(&q, 1, "500m");
    w_str(&e, 1, "gpu");
    w_msg(&e, 2, &q);
    w_msg(&spec, 1, &e);
    w_msg(&raw, 2, &spec);
    expect_raw_json("v1", "ResourceQuota", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"spec\":{\"hard\":{"
                    "\"memory\":\"1Gi\",\"pods\":\"0\",\"cpu\":\"0\",\"gpu\":\"500m\"}}}");

    w_str(&q, 1, "");
    w_str(&e, 1, "x");
    w_msg(&e, 2, &q);
    w_msg(&spec, 1, &e);
    w_msg(&raw, 2, &spec);
    expect_raw_error("v1", "ResourceQuota", &raw, "spec.hard: empty quantity");

    w_uint(&q, 1, 1);
    w_str(&e, 1, "x");
    w_msg(&e, 2, &q);
    w_msg(&spec, 1, &e);
    w_msg(&raw, 2, &spec);
    expect_raw_error("v1", "ResourceQuota", &raw, "quantity has wire type 0");
}

/* A Time or MicroTime message {seconds, nanos} at field num of w. */
static void w_time(struct pbw *w, unsigned num, int64_t secs, int32_t nanos)
{
    struct pbw t = {0};
    w_uint(&t, 1, (uint64_t)secs);
    w_uint(&t, 2, (uint64_t)(int64_t)nanos);
    w_msg(w, num, &t);
}

/* Lease.spec.renewTime (MicroTime) and metadata.creationTimestamp (Time)
 * of one value, as JSON strings or null. */
static void expect_times(int64_t secs, int32_t nanos, const char *micro, const char *whole)
{
    struct pbw raw = {0}, meta = {0}, spec = {0};
    w_time(&meta, 8, secs, nanos);
    w_msg(&raw, 1, &meta);
    w_time(&spec, 4, secs, nanos);
    w_msg(&raw, 2, &spec);
    char text[300];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":"
             "{\"creationTimestamp\":%s},\"spec\":{\"renewTime\":%s}}",
             whole, micro);
    expect_raw_json("coordination.k8s.io/v1", "Lease", &raw, text);
}

static void test_times(void **state)
{
    (void)state;
    expect_times(0, 0, "\"1970-01-01T00:00:00.000000Z\"", "\"1970-01-01T00:00:00Z\"");
    expect_times(1199149261, 0, "\"2008-01-01T01:01:01.000000Z\"", "\"2008-01-01T01:01:01Z\"");
    /* Time drops nanoseconds as Go's Unmarshal does; MicroTime truncates
     * them to microseconds as Go's RFC3339Micro formatting does */
    expect_times(951782400, 123456789, "\"2000-02-29T00:00:00.123456Z\"",
                 "\"2000-02-29T00:00:00Z\"");
    /* negative nanos borrow from the seconds (time.Unix normalises) */
    expect_times(0, -1, "\"1969-12-31T23:59:59.999999Z\"", "\"1970-01-01T00:00:00Z\"");
    expect_times(-1, 2000000000, "\"1970-01-01T00:00:01.000000Z\"", "\"1969-12-31T23:59:59Z\"");
    expect_times(INT64_C(-62167219200), 0, "\"0000-01-01T00:00:00.000000Z\"",
                 "\"0000-01-01T00:00:00Z\"");
    expect_times(INT64_C(253402300799), 999999999, "\"9999-12-31T23:59:59.999999Z\"",
                 "\"9999-12-31T23:59:59Z\"");
    /* Go's zero time.Time is null in JSON */
    expect_times(INT64_C(-62135596800), 0, "null", "null");
    expect_times(INT64_C(-62135596801), 1000000000, "null", "\"0000-12-31T23:59:59Z\"");

    /* an empty message is the zero time too, which kubectl sends for every
     * creationTimestamp */
    struct pbw raw = {0}, meta = {0}, t = {0};
    w_msg(&meta, 8, &t);
    w_msg(&raw, 1, &meta);
    expect_raw_json("v1", "ConfigMap", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
                    "{\"creationTimestamp\":null}}");

    w_time(&meta, 8, INT64_C(253402300800), 0);
    w_msg(&raw, 1, &meta);
    expect_raw_error("v1", "ConfigMap", &raw, "metadata.creationTimestamp: time 253402300800s");
    w_time(&meta, 8, INT64_MIN, 0);
    w_msg(&raw, 1, &meta);
    expect_raw_error("v1", "ConfigMap", &raw, "outside years 0000-9999");

    struct pbw spec = {0};
    w_time(&spec, 4, INT64_MAX, 1999999999);
    w_msg(&raw, 2, &spec);
    expect_raw_error("coordination.k8s.io/v1", "Lease", &raw, "time out of range");

    w_str(&t, 1, "now");
    w_msg(&meta, 8, &t);
    w_msg(&raw, 1, &meta);
    expect_raw_error("v1", "ConfigMap", &raw, "time field 1 has wire type 2");
}

/* Event.eventTime and Event.series.lastObservedTime are MicroTime,
 * firstTimestamp a Time. */
static void test_event_times(void **state)
{
    (void)state;
    struct pbw raw = {0}, series = {0};
    w_time(&raw, 6, 10, 500000);
    w_time(&raw, 10, 10, 500000);
    w_uint(&series, 1, 2);
    w_time(&series, 2, 10, 1000);
    w_msg(&raw, 11, &series);
    expect_raw_json("v1", "Event", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"firstTimestamp\":"
                    "\"1970-01-01T00:00:10Z\",\"eventTime\":\"1970-01-01T00:00:10.000500Z\","
                    "\"series\":{\"count\":2,\"lastObservedTime\":"
                    "\"1970-01-01T00:00:10.000001Z\"}}");
}

/* The MicroTime list of protobuf.c against the generated.proto files of
 * the schema's packages (scripts/gen_schema.py's PACKAGES). */
static void test_micro_time_table(void **state)
{
    (void)state;
    static const char *const pkgs[] = {
        "core/v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2",
        "coordination/v1", "discovery/v1", "policy/v1", "scheduling/v1",
        "networking/v1", "rbac/v1", "storage/v1", "events/v1", "node/v1",
    };
    unsigned found = 0;
    for (size_t i = 0; i < sizeof pkgs / sizeof pkgs[0]; i++) {
        char path[512], line[1024], type[512] = "", pkg[200] = "";
        snprintf(path, sizeof path, "%s/%s/generated.proto", api_dir(), pkgs[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            fail_msg("cannot read %s", path);
        while (fgets(line, sizeof line, f)) {
            char name[200], field[200];
            if (sscanf(line, "package k8s.io.%199[^;];", pkg) == 1)
                continue;
            if (sscanf(line, "message %199s {", name) == 1) {
                snprintf(type, sizeof type, "io.k8s.%s.%s", pkg, name);
                continue;
            }
            if (sscanf(line, " optional .k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime %199s",
                       field) != 1)
                continue;
            const struct kube_type *t = kube_schema_type(type);
            assert_non_null(t);
            const struct kube_field *fd = kube_type_field(t, field);
            assert_non_null(fd);
            assert_int_equal(fd->vtype, KUBE_V_TIME);
            if (!kube_protobuf_micro_time(type, field))
                fail_msg("%s.%s is a MicroTime missing from protobuf.c's list", type, field);
            found++;
        }
        fclose(f);
    }
    assert_int_equal(found, 6);
    assert_false(kube_protobuf_micro_time("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                                          "creationTimestamp"));
    assert_false(kube_protobuf_micro_time("io.k8s.api.core.v1.Event", "firstTimestamp"));
}

/* ---- RawExtension ---- */

static void w_raw_ext(struct pbw *w, unsigned num, const void *p, size_t n)
{
    struct pbw r = {0};
    w_bytes(&r, 1, p, n);
    w_msg(w, num, &r);
}

static void w_raw_ext_s(struct pbw *w, unsigned num, const char *s)
{
    w_raw_ext(w, num, s, strlen(s));
}

static void test_raw_extension(void **state)
{
    (void)state;
    struct pbw raw = {0}, r = {0};
    w_raw_ext_s(&raw, 2, "{\"a\":[1,2.5,null,\"x\"]}");
    expect_raw_json("apps/v1", "ControllerRevision", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\","
                    "\"data\":{\"a\":[1,2.5,null,\"x\"]}}");
    w_raw_ext_s(&raw, 2, " 7 ");
    expect_raw_json("apps/v1", "ControllerRevision", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"data\":7}");
    w_raw_ext_s(&raw, 2, "");
    expect_raw_json("apps/v1", "ControllerRevision", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"data\":null}");
    w_msg(&raw, 2, &r);
    expect_raw_json("apps/v1", "ControllerRevision", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"data\":null}");

    w_raw_ext_s(&raw, 2, "{bad");
    expect_raw_error("apps/v1", "ControllerRevision", &raw, "data: raw JSON:");
    w_raw_ext_s(&raw, 2, "{} {}");
    expect_raw_error("apps/v1", "ControllerRevision", &raw, "data: raw JSON:");
    w_raw_ext_s(&raw, 2, "\"\\u0000\"");
    expect_raw_error("apps/v1", "ControllerRevision", &raw, "data: raw JSON:");
    w_uint(&r, 1, 1);
    w_msg(&raw, 2, &r);
    expect_raw_error("apps/v1", "ControllerRevision", &raw, "raw has wire type 0");

    /* an object in Kubernetes protobuf inside: decoded like a body */
    struct pbw inner = {0}, env = {0}, meta = {0};
    w_str(&meta, 1, "cm");
    w_msg(&inner, 1, &meta);
    w_envelope(&env, "v1", "ConfigMap", &inner);
    w_raw_ext(&raw, 2, env.b, env.n);
    free(env.b);
    expect_raw_json("apps/v1", "ControllerRevision", &raw,
                    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ControllerRevision\",\"data\":{"
                    "\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\"}}}");

    /* managedFields[].fieldsV1 is a FieldsV1 {Raw = 1}: JSON as well */
    struct pbw mf = {0};
    w_str(&mf, 1, "kubectl");
    w_raw_ext_s(&mf, 7, "{\"f:data\":{}}");
    w_msg(&meta, 17, &mf);
    w_msg(&raw, 1, &meta);
    expect_raw_json("v1", "ConfigMap", &raw,
                    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"managedFields\":"
                    "[{\"manager\":\"kubectl\",\"fieldsV1\":{\"f:data\":{}}}]}}");
}

/* ---- nesting ---- */

/* n ControllerRevisions, each holding the next in its data. */
static void w_revision_chain(struct pbw *out, int n)
{
    struct pbw cur = {0};
    w_uint(&cur, 3, 1);
    for (int i = 0; i < n; i++) {
        struct pbw env = {0}, next = {0};
        w_envelope(&env, "apps/v1", "ControllerRevision", &cur);
        w_raw_ext(&next, 2, env.b, env.n);
        free(env.b);
        cur = next;
    }
    w_envelope(out, "apps/v1", "ControllerRevision", &cur);
}

static void test_nesting_limit(void **state)
{
    (void)state;
    struct pbw body = {0};
    w_revision_chain(&body, 5);
    json_t *j = decode_ok(body.b, body.n);
    json_t *v = j;
    for (int i = 0; i < 5; i++)
        v = json_object_get(v, "data");
    assert_int_equal(json_integer_value(json_object_get(v, "revision")), 1);
    json_decref(j);
    free(body.b);
    body = (struct pbw){0};

    w_revision_chain(&body, 40);
    expect_error(body.b, body.n, "nesting deeper than 64");
    free(body.b);
    body = (struct pbw){0};

    /* unknown groups nested 10 deep are skipped, 100 deep refused */
    for (int depth = 10; depth <= 100; depth += 90) {
        struct pbw raw = {0};
        for (int i = 0; i < depth; i++)
            w_tag(&raw, 50, 3);
        for (int i = 0; i < depth; i++)
            w_tag(&raw, 50, 4);
        if (depth == 10)
            expect_raw_json("v1", "ConfigMap", &raw, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}");
        else
            expect_raw_error("v1", "ConfigMap", &raw, "nesting deeper than 64");
    }
}

/* ---- bare messages of synthetic types: value types the served kinds do
 * not use (Duration, double, float) and unbounded recursion ---- */

static const struct kube_type syn;
static const struct kube_field syn_fields[] = {
    {.name = "child", .num = 1, .vtype = KUBE_V_OBJECT, .type = &syn},
    {.name = "d", .num = 2, .vtype = KUBE_V_DURATION},
    {.name = "m", .num = 6, .vtype = KUBE_V_OBJECT, .type = &syn, .map = true},
    {.name = "mb", .num = 7, .vtype = KUBE_V_BOOL, .map = true},
    {.name = "md", .num = 8, .vtype = KUBE_V_DURATION, .map = true},
    {.name = "mi", .num = 9, .vtype = KUBE_V_INT32, .map = true},
    {.name = "mr", .num = 10, .vtype = KUBE_V_RAW, .map = true},
    {.name = "mx", .num = 11, .vtype = KUBE_V_DOUBLE, .map = true},
    {.name = "x", .num = 3, .vtype = KUBE_V_DOUBLE},
    {.name = "xs", .num = 4, .vtype = KUBE_V_DOUBLE, .repeated = true},
};
static const struct kube_type syn = {
    .name = "test.Syn", .fields = syn_fields, .n_fields = sizeof syn_fields / sizeof syn_fields[0]};

static void expect_message(struct pbw *raw, const char *want_text)
{
    char err[256];
    json_t *got = kube_protobuf_decode_message(&syn, raw->b, raw->n, err, sizeof err);
    if (!got)
        fail_msg("%s: %s", want_text, err);
    json_t *want = parse(want_text);
    expect_json(got, want, want_text);
    json_decref(got);
    json_decref(want);
    free(raw->b);
    *raw = (struct pbw){0};
}

static void expect_message_error(struct pbw *raw, const char *want)
{
    char err[256];
    json_t *got = kube_protobuf_decode_message(&syn, raw->b, raw->n, err, sizeof err);
    assert_null(got);
    if (!strstr(err, want))
        fail_msg("error \"%s\" does not contain \"%s\"", err, want);
    free(raw->b);
    *raw = (struct pbw){0};
}

static void test_durations(void **state)
{
    (void)state;
    /* Go's time.Duration.String for each */
    static const struct {
        int64_t ns;
        const char *s;
    } cases[] = {
        {0, "0s"},
        {1, "1ns"},
        {999, "999ns"},
        {1000, "1\xc2\xb5s"},
        {1100, "1.1\xc2\xb5s"},
        {2200000, "2.2ms"},
        {1000000000, "1s"},
        {3300000000, "3.3s"},
        {90000000000, "1m30s"},
        {INT64_C(3600000000000), "1h0m0s"},
        {INT64_C(18367001000000), "5h6m7.001s"},
        {-1500000000, "-1.5s"},
        {-1, "-1ns"},
        {INT64_MAX, "2562047h47m16.854775807s"},
        {INT64_MIN, "-2562047h47m16.854775808s"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct pbw raw = {0}, d = {0};
        w_uint(&d, 1, (uint64_t)cases[i].ns);
        w_msg(&raw, 2, &d);
        char text[100];
        snprintf(text, sizeof text, "{\"d\":\"%s\"}", cases[i].s);
        expect_message(&raw, text);
    }
    struct pbw raw = {0}, d = {0};
    w_msg(&raw, 2, &d);
    expect_message(&raw, "{\"d\":\"0s\"}");
    w_uint(&d, 2, 5); /* unknown: skipped */
    w_uint(&d, 1, 60000000000);
    w_msg(&raw, 2, &d);
    expect_message(&raw, "{\"d\":\"1m0s\"}");
    w_str(&d, 1, "1s");
    w_msg(&raw, 2, &d);
    expect_message_error(&raw, "d: duration has wire type 2");
    w_raw(&d, "\x08\x80", 2);
    w_msg(&raw, 2, &d);
    expect_message_error(&raw, "d: truncated varint");
    w_tag(&d, 3, 7);
    w_msg(&raw, 2, &d);
    expect_message_error(&raw, "d: illegal wire type 7");
}

static void test_doubles(void **state)
{
    (void)state;
    struct pbw raw = {0}, packed = {0};
    double x = 2.5, y = -0.125;
    float f = 0.5f;
    w_tag(&raw, 3, 1);
    w_raw(&raw, &x, 8); /* fixed64, little-endian on the machines we run */
    w_tag(&raw, 4, 1);
    w_raw(&raw, &y, 8);
    w_raw(&packed, &x, 8);
    w_raw(&packed, &y, 8);
    w_msg(&raw, 4, &packed);
    w_tag(&raw, 4, 5); /* proto float: the schema folds it into double */
    w_raw(&raw, &f, 4);
    expect_message(&raw, "{\"x\":2.5,\"xs\":[-0.125,2.5,-0.125,0.5]}");

    double nan = NAN;
    w_tag(&raw, 3, 1);
    w_raw(&raw, &nan, 8);
    expect_message_error(&raw, "x: nan cannot be represented in JSON");
    w_raw(&packed, &x, 7);
    w_msg(&raw, 4, &packed);
    expect_message_error(&raw, "xs: truncated 8-byte fixed value");
    w_uint(&raw, 3, 1);
    expect_message_error(&raw, "x: wire type 0, want 1");
}

/* n messages of type syn, each the child of the one before. */
static void w_children(struct pbw *out, int n)
{
    struct pbw cur = {0}, d = {0};
    w_uint(&d, 1, 1000);
    w_msg(&cur, 2, &d);
    for (int i = 0; i < n; i++) {
        struct pbw next = {0};
        w_msg(&next, 1, &cur);
        cur = next;
    }
    *out = cur;
}

static void test_message_recursion(void **state)
{
    (void)state;
    struct pbw raw;
    w_children(&raw, 60);
    char err[256];
    json_t *j = kube_protobuf_decode_message(&syn, raw.b, raw.n, err, sizeof err);
    assert_non_null(j);
    json_t *v = j;
    for (int i = 0; i < 60; i++)
        v = json_object_get(v, "child");
    assert_string_equal(json_string_value(json_object_get(v, "d")), "1\xc2\xb5s");
    json_decref(j);
    free(raw.b);
    w_children(&raw, 70);
    expect_message_error(&raw, "nesting deeper than 64");
}

static void test_message_map_of_messages(void **state)
{
    (void)state;
    struct pbw raw = {0}, e = {0}, v = {0}, d = {0};
    w_uint(&d, 1, 1);
    w_msg(&v, 2, &d);
    w_str(&e, 1, "a");
    w_msg(&e, 2, &v);
    w_msg(&raw, 6, &e);
    w_str(&e, 1, "b"); /* no value: {} */
    w_msg(&raw, 6, &e);
    expect_message(&raw, "{\"m\":{\"a\":{\"d\":\"1ns\"},\"b\":{}}}");

    /* entries without a value get Go's zero value of the map's type */
    for (unsigned num = 7; num <= 11; num++) {
        w_str(&e, 1, "z");
        w_msg(&raw, num, &e);
    }
    w_str(&e, 1, "t");
    w_uint(&e, 2, 1);
    w_msg(&raw, 7, &e);
    expect_message(&raw, "{\"mb\":{\"z\":false,\"t\":true},\"md\":{\"z\":\"0s\"},"
                         "\"mi\":{\"z\":0},\"mr\":{\"z\":null},\"mx\":{\"z\":0.0}}");
    assert_null(kube_protobuf_decode_message(&syn, "\x08", 1, NULL, 0));
    char err[100];
    json_t *j = kube_protobuf_decode_message(&syn, NULL, 0, err, sizeof err);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_testdata_served),
        cmocka_unit_test(test_testdata_all_known_kinds),
        cmocka_unit_test(test_kubectl_captures),
        cmocka_unit_test(test_kubectl_wire_zeros),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_corruptions),
        cmocka_unit_test(test_envelope_errors),
        cmocka_unit_test(test_envelope_ok),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_wire_errors),
        cmocka_unit_test(test_string_errors),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_messages_merge),
        cmocka_unit_test(test_repeated),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_bytes_base64),
        cmocka_unit_test(test_inline_members),
        cmocka_unit_test(test_int_or_string),
        cmocka_unit_test(test_quantity),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_event_times),
        cmocka_unit_test(test_micro_time_table),
        cmocka_unit_test(test_raw_extension),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_message_recursion),
        cmocka_unit_test(test_message_map_of_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
