/* test_scheduler.c — unit tests for the scheduler's pure core (scheduler/
 * cache.c, filter.c, score.c, queue.c): each filter with Kubernetes'
 * reasons, the scores' preferences, the cache's accounting (assume,
 * forget, bound pods, finished pods, stale revisions, removed nodes), the
 * number of nodes examined, and the queue's order and backoff.
 *
 * Nodes and pods are written as compact JSON through two helpers,
 * node(name, labels, cpu, memory, pods, extra-spec) and pod(...). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"
#include "scheduler/sched_internal.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad test JSON: %s: %s", e.text, text);
    return j;
}

/* A Ready node; labels and spec are JSON object texts (or NULL). */
static void add_node(struct sched_cache *c, const char *name, const char *labels, const char *cpu,
                     const char *mem, const char *pods, const char *spec)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":%s,"
             "\"status\":{\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"%s\"},"
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
             name, labels ? labels : "{}", spec ? spec : "{}", cpu, mem, pods);
    json_t *n = parse(buf);
    sched_cache_node_set(c, n);
    json_decref(n);
}

/* A pod in namespace "ns"; cpu/mem requests may be NULL; spec_extra is
 * spliced into spec (",\"nodeSelector\":{...}") and md_extra into metadata. */
static struct sched_pod *add_pod(struct sched_cache *c, const char *name, const char *cpu,
                                 const char *mem, const char *node, const char *spec_extra,
                                 const char *md_extra, uint64_t rev)
{
    char req[256] = "", buf[8192];
    if (cpu || mem)
        snprintf(req, sizeof req, ",\"resources\":{\"requests\":{%s%s%s%s%s%s%s}}",
                 cpu ? "\"cpu\":\"" : "", cpu ? cpu : "", cpu ? "\"" : "", cpu && mem ? "," : "",
                 mem ? "\"memory\":\"" : "", mem ? mem : "", mem ? "\"" : "");
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":\"u-%s\"%s},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"%s}]%s%s%s%s}}",
             name, name, md_extra ? md_extra : "", req, node ? ",\"nodeName\":\"" : "",
             node ? node : "", node ? "\"" : "", spec_extra ? spec_extra : "");
    json_t *p = parse(buf);
    struct sched_pod *sp = sched_cache_pod_set(c, p, rev);
    json_decref(p);
    return sp;
}

/* A node by name, present or a placeholder. */
static struct sched_node *sched_node_by(struct sched_cache *c, const char *name)
{
    struct sched_node *n = umap_get(&c->nodes, name);
    if (!n)
        fail_msg("no node %s", name);
    return n;
}

static const char *decide(struct sched_cache *c, struct sched_pod *p, struct sched_decision *d)
{
    assert_non_null(p);
    sched_cache_decide(c, p, d);
    return d->node ? sched_node_name(d->node) : NULL;
}

/* ---- filters ---- */

static void test_fit_and_message(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "a", NULL, "1", "1Gi", "110", NULL);
    add_node(c, "b", NULL, "4", "1Gi", "110", NULL);
    add_node(c, "c", NULL, "4", "8Gi", "1", NULL);
    add_pod(c, "full", NULL, NULL, "c", NULL, NULL, 1); /* c now holds its one pod */
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", "2", "2Gi", NULL, NULL, NULL, 2);
    assert_null(decide(c, p, &d));
    /* Sorted as the "count reason" strings, as kube-scheduler does. */
    assert_string_equal(d.message, "0/3 nodes are available: 1 Insufficient cpu, 1 Too many "
                                   "pods, 2 Insufficient memory.");
    (void)state;
    sched_cache_free(c);
}

static void test_message_sorted(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "a", "{\"disk\":\"hdd\"}", "1", "1Gi", "110", NULL);
    add_node(c, "b", "{\"disk\":\"hdd\"}", "1", "1Gi", "110", NULL);
    add_node(c, "c", "{\"disk\":\"ssd\"}", "1", "1Gi", "110", NULL);
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", "2", NULL, NULL, ",\"nodeSelector\":{\"disk\":\"ssd\"}",
                                  NULL, 1);
    assert_null(decide(c, p, &d));
    assert_string_equal(d.message, "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) "
                                   "didn't match Pod's node affinity/selector.");
    (void)state;
    sched_cache_free(c);
}

static void test_no_requests_fit_anywhere(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "a", NULL, "1", "1Gi", "110", NULL);
    add_pod(c, "hog", "1", "1Gi", "a", NULL, NULL, 1);
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", NULL, NULL, NULL, NULL, NULL, 2);
    assert_string_equal(decide(c, p, &d), "a"); /* counts as zero, like Kubernetes */
    (void)state;
    sched_cache_free(c);
}

static void expect_only(struct sched_cache *c, const char *spec_extra, const char *want)
{
    static unsigned k;
    char name[32];
    snprintf(name, sizeof name, "q%u", ++k);
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, name, NULL, NULL, NULL, spec_extra, NULL, 1000 + k);
    for (int i = 0; i < 20; i++) { /* whatever the tie-break, only `want` fits */
        const char *got = decide(c, p, &d);
        if (!want)
            assert_null(got);
        else if (!got || strcmp(got, want) != 0)
            fail_msg("%s: got %s, want %s (%s)", spec_extra, got ? got : "none", want, d.message);
    }
}

static void test_node_affinity_operators(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "a", "{\"zone\":\"z1\",\"gen\":\"3\"}", "4", "8Gi", "110", NULL);
    add_node(c, "b", "{\"zone\":\"z2\",\"gen\":\"5\",\"gpu\":\"yes\"}", "4", "8Gi", "110", NULL);
#define AFF(terms) ",\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[" terms "]}}}"
    expect_only(c, AFF("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"z2\"]}]}"), "b");
    expect_only(c, AFF("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"NotIn\",\"values\":[\"z2\"]}]}"), "a");
    expect_only(c, AFF("{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]}"), "b");
    expect_only(c, AFF("{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"DoesNotExist\"}]}"), "a");
    expect_only(c, AFF("{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Gt\",\"values\":[\"4\"]}]}"), "b");
    expect_only(c, AFF("{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"Lt\",\"values\":[\"4\"]}]}"), "a");
    expect_only(c, AFF("{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"a\"]}]}"), "a");
    /* Terms are ORed; expressions in a term ANDed. */
    expect_only(c, AFF("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"z1\"]},{\"key\":\"gpu\",\"operator\":\"Exists\"}]}"), NULL);
    expect_only(c, AFF("{\"matchExpressions\":[{\"key\":\"zone\",\"operator\":\"In\",\"values\":[\"z9\"]}]},{\"matchExpressions\":[{\"key\":\"gen\",\"operator\":\"In\",\"values\":[\"3\"]}]}"), "a");
    expect_only(c, ",\"nodeSelector\":{\"zone\":\"z1\"}", "a");
    expect_only(c, ",\"nodeSelector\":{\"zone\":\"z1\",\"gpu\":\"yes\"}", NULL);
#undef AFF
    (void)state;
    sched_cache_free(c);
}

static void test_taints_and_cordon(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "tainted", NULL, "4", "8Gi", "110",
             "{\"taints\":[{\"key\":\"dedicated\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]}");
    add_node(c, "cordoned", NULL, "4", "8Gi", "110", "{\"unschedulable\":true}");
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", NULL, NULL, NULL, NULL, NULL, 1);
    assert_null(decide(c, p, &d));
    assert_string_equal(d.message, "0/2 nodes are available: 1 node(s) had untolerated taint "
                                   "{dedicated: db}, 1 node(s) were unschedulable.");
    expect_only(c, ",\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"db\",\"effect\":\"NoSchedule\"}]", "tainted");
    expect_only(c, ",\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Exists\"}]", "tainted");
    expect_only(c, ",\"tolerations\":[{\"key\":\"dedicated\",\"value\":\"web\",\"effect\":\"NoSchedule\"}]", NULL);
    expect_only(c, ",\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Exists\",\"effect\":\"NoExecute\"}]", NULL);
    (void)state;
    sched_cache_free(c);
}

static void test_tolerate_everything(void **state)
{
    /* "operator: Exists" without a key tolerates every taint, the cordon's
     * node.kubernetes.io/unschedulable included (as in Kubernetes). */
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "tainted", NULL, "4", "8Gi", "110",
             "{\"taints\":[{\"key\":\"x\",\"effect\":\"NoExecute\"}],\"unschedulable\":true}");
    expect_only(c, ",\"tolerations\":[{\"operator\":\"Exists\"}]", "tainted");
    (void)state;
    sched_cache_free(c);
}

static void test_not_ready(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    json_t *n = parse("{\"metadata\":{\"name\":\"down\"},\"status\":{\"allocatable\":{\"cpu\":\"4\","
                      "\"memory\":\"1Gi\",\"pods\":\"10\"},\"conditions\":[{\"type\":\"Ready\","
                      "\"status\":\"Unknown\"}]}}");
    assert_true(sched_cache_node_set(c, n));
    assert_false(sched_cache_node_set(c, n)); /* nothing changed */
    json_decref(n);
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", NULL, NULL, NULL, NULL, NULL, 1);
    assert_null(decide(c, p, &d));
    assert_string_equal(d.message, "0/1 nodes are available: 1 node(s) had untolerated taint "
                                   "{node.kubernetes.io/not-ready: }.");
    expect_only(c, ",\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\"}]", "down");
    (void)state;
    sched_cache_free(c);
}

static void test_host_ports(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "a", NULL, "4", "8Gi", "110", NULL);
    add_node(c, "b", NULL, "4", "8Gi", "110", NULL);
    json_t *p = parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\",\"uid\":\"w\"},\"spec\":"
                      "{\"nodeName\":\"a\",\"containers\":[{\"name\":\"c\",\"ports\":[{"
                      "\"containerPort\":80,\"hostPort\":8080}]}]}}");
    sched_cache_pod_set(c, p, 1);
    json_decref(p);
    /* The same port, any protocol TCP (the default): only b. */
    struct sched_decision d;
    p = parse("{\"metadata\":{\"name\":\"web2\",\"namespace\":\"ns\",\"uid\":\"w2\"},\"spec\":"
              "{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080,"
              "\"protocol\":\"TCP\"}]}]}}");
    struct sched_pod *sp = sched_cache_pod_set(c, p, 2);
    json_decref(p);
    for (int i = 0; i < 10; i++)
        assert_string_equal(decide(c, sp, &d), "b");
    /* UDP on the same number does not collide. */
    p = parse("{\"metadata\":{\"name\":\"dns\",\"namespace\":\"ns\",\"uid\":\"d\"},\"spec\":"
              "{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80,\"hostPort\":8080,"
              "\"protocol\":\"UDP\"}]}],\"nodeSelector\":{\"kubernetes.io/hostname\":\"a\"}}}");
    add_node(c, "a", "{\"kubernetes.io/hostname\":\"a\"}", "4", "8Gi", "110", NULL);
    sp = sched_cache_pod_set(c, p, 3);
    json_decref(p);
    assert_string_equal(decide(c, sp, &d), "a");
    (void)state;
    sched_cache_free(c);
}

#define ANTI(sel) ",\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":{\"matchLabels\":" sel "},\"topologyKey\":\"kubernetes.io/hostname\"}]}}"

static void test_anti_affinity(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    char labels[64];
    for (int i = 0; i < 3; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        snprintf(labels, sizeof labels, "{\"kubernetes.io/hostname\":\"%s\"}", name);
        add_node(c, name, labels, "4", "8Gi", "110", NULL);
    }
    /* Three replicas that repel each other: one per node, then no room. */
    struct sched_decision d;
    for (int i = 0; i < 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "r%d", i);
        struct sched_pod *p = add_pod(c, name, NULL, NULL, NULL, ANTI("{\"app\":\"db\"}"),
                                      ",\"labels\":{\"app\":\"db\"}", 10 + i);
        const char *got = decide(c, p, &d);
        if (i < 3) {
            assert_non_null(got);
            assert_int_equal(sched_node_by(c, got)->n_pods, 0);
            sched_cache_assume(c, p, d.node);
        } else {
            assert_null(got);
            assert_string_equal(d.message, "0/3 nodes are available: 3 node(s) didn't match "
                                           "pod anti-affinity rules.");
        }
    }
    /* Symmetry: a plain pod labelled app=db is kept off the nodes whose pods
     * repel app=db. */
    struct sched_pod *p = add_pod(c, "plain", NULL, NULL, NULL, NULL, ",\"labels\":{\"app\":\"db\"}", 20);
    assert_null(decide(c, p, &d));
    assert_string_equal(d.message, "0/3 nodes are available: 3 node(s) didn't satisfy existing "
                                   "pods anti-affinity rules.");
    /* Another namespace is not covered by the terms (their own namespace). */
    json_t *o = parse("{\"metadata\":{\"name\":\"other\",\"namespace\":\"ns2\",\"uid\":\"o\","
                      "\"labels\":{\"app\":\"db\"}},\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
    struct sched_pod *op = sched_cache_pod_set(c, o, 21);
    json_decref(o);
    assert_non_null(decide(c, op, &d));
    (void)state;
    sched_cache_free(c);
}

#define AFFINITY(sel, key) ",\"affinity\":{\"podAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":[{\"labelSelector\":{\"matchLabels\":" sel "},\"topologyKey\":\"" key "\"}]}}"

static void test_pod_affinity(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "a1", "{\"zone\":\"z1\"}", "4", "8Gi", "110", NULL);
    add_node(c, "a2", "{\"zone\":\"z1\"}", "4", "8Gi", "110", NULL);
    add_node(c, "b1", "{\"zone\":\"z2\"}", "4", "8Gi", "110", NULL);
    add_node(c, "nozone", NULL, "4", "8Gi", "110", NULL);
    add_pod(c, "db", NULL, NULL, "b1", NULL, ",\"labels\":{\"app\":\"db\"}", 1);
    /* Near the db: its zone only. */
    expect_only(c, AFFINITY("{\"app\":\"db\"}", "zone"), "b1");
    /* Nothing matches and the pod does not match itself: nowhere. */
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "lonely", NULL, NULL, NULL,
                                  AFFINITY("{\"app\":\"cache\"}", "zone"), NULL, 50);
    assert_null(decide(c, p, &d));
    assert_string_equal(d.message, "0/4 nodes are available: 4 node(s) didn't match pod "
                                   "affinity rules.");
    /* The first of a group that selects itself goes anywhere the key is. */
    p = add_pod(c, "web-0", NULL, NULL, NULL, AFFINITY("{\"app\":\"web\"}", "zone"),
                ",\"labels\":{\"app\":\"web\"}", 51);
    const char *first = decide(c, p, &d);
    assert_non_null(first);
    assert_string_not_equal(first, "nozone");
    sched_cache_assume(c, p, d.node);
    /* The second follows it into its zone. */
    struct sched_pod *q = add_pod(c, "web-1", NULL, NULL, NULL,
                                  AFFINITY("{\"app\":\"web\"}", "zone"),
                                  ",\"labels\":{\"app\":\"web\"}", 52);
    const char *zone = sched_node_label(d.node, "zone");
    for (int i = 0; i < 10; i++) {
        const char *got = decide(c, q, &d);
        assert_non_null(got);
        assert_string_equal(sched_node_label(d.node, "zone"), zone);
    }
    (void)state;
    sched_cache_free(c);
}

static void test_topology_spread(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "a", "{\"zone\":\"z1\"}", "8", "8Gi", "110", NULL);
    add_node(c, "b", "{\"zone\":\"z2\"}", "8", "8Gi", "110", NULL);
    add_node(c, "nozone", NULL, "8", "8Gi", "110", NULL);
    add_pod(c, "w1", NULL, NULL, "a", NULL, ",\"labels\":{\"app\":\"w\"}", 1);
    add_pod(c, "w2", NULL, NULL, "a", NULL, ",\"labels\":{\"app\":\"w\"}", 2);
    struct sched_decision d;
    const char *spread = ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"zone\","
                         "\"whenUnsatisfiable\":\"DoNotSchedule\",\"labelSelector\":{\"matchLabels\":"
                         "{\"app\":\"w\"}}}]";
    struct sched_pod *p = add_pod(c, "w3", NULL, NULL, NULL, spread, ",\"labels\":{\"app\":\"w\"}", 3);
    for (int i = 0; i < 10; i++)
        assert_string_equal(decide(c, p, &d), "b");
    /* A node without the key never qualifies; with a is full by skew and
     * nozone lacking the label, b is the only answer even off a cordon. */
    add_node(c, "b", "{\"zone\":\"z2\"}", "8", "8Gi", "110", "{\"unschedulable\":true}");
    assert_null(decide(c, p, &d));
    assert_string_equal(d.message, "0/3 nodes are available: 1 node(s) didn't match pod topology "
                                   "spread constraints, 1 node(s) didn't match pod topology spread "
                                   "constraints (missing required label), 1 node(s) were "
                                   "unschedulable.");
    (void)state;
    sched_cache_free(c);
}

/* ---- scores ---- */

static void test_least_allocated_spreads(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 7);
    add_node(c, "busy", NULL, "4", "8Gi", "110", NULL);
    add_node(c, "idle", NULL, "4", "8Gi", "110", NULL);
    add_pod(c, "x", "3", "6Gi", "busy", NULL, NULL, 1);
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", "100m", "100Mi", NULL, NULL, NULL, 2);
    for (int i = 0; i < 10; i++)
        assert_string_equal(decide(c, p, &d), "idle");
    (void)state;
    sched_cache_free(c);
}

static void test_balanced_allocation(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 7);
    /* Same free share on both, but on "cpuheavy" a memory-heavy pod evens
     * the node out. */
    add_node(c, "cpuheavy", NULL, "4", "8Gi", "110", NULL);
    add_node(c, "memheavy", NULL, "4", "8Gi", "110", NULL);
    add_pod(c, "x", "2", "1Gi", "cpuheavy", NULL, NULL, 1);
    add_pod(c, "y", "500m", "4Gi", "memheavy", NULL, NULL, 2);
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", "100m", "3Gi", NULL, NULL, NULL, 3);
    struct sched_node *a = sched_node_by(c, "cpuheavy"), *b = sched_node_by(c, "memheavy");
    assert_true(sched_score_node(c, p, a) > sched_score_node(c, p, b));
    assert_string_equal(decide(c, p, &d), "cpuheavy");
    (void)state;
    sched_cache_free(c);
}

static void test_preferred_affinity_and_prefer_no_schedule(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 7);
    add_node(c, "plain", NULL, "4", "8Gi", "110", NULL);
    add_node(c, "ssd", "{\"disk\":\"ssd\"}", "4", "8Gi", "110", NULL);
    add_node(c, "avoid", "{\"disk\":\"ssd\"}", "4", "8Gi", "110",
             "{\"taints\":[{\"key\":\"spot\",\"effect\":\"PreferNoSchedule\"}]}");
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", NULL, NULL, NULL,
                                  ",\"affinity\":{\"nodeAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":"
                                  "[{\"weight\":50,\"preference\":{\"matchExpressions\":[{\"key\":\"disk\","
                                  "\"operator\":\"In\",\"values\":[\"ssd\"]}]}}]}}",
                                  NULL, 1);
    for (int i = 0; i < 10; i++)
        assert_string_equal(decide(c, p, &d), "ssd");
    (void)state;
    sched_cache_free(c);
}

#define PREF(kind, sel) ",\"affinity\":{\"" kind "\":{\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"weight\":100,\"podAffinityTerm\":{\"labelSelector\":{\"matchLabels\":" sel "},\"topologyKey\":\"kubernetes.io/hostname\"}}]}}"

static void test_preferred_pod_affinity(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 7);
    add_node(c, "n1", "{\"kubernetes.io/hostname\":\"n1\"}", "4", "8Gi", "110", NULL);
    add_node(c, "n2", "{\"kubernetes.io/hostname\":\"n2\"}", "4", "8Gi", "110", NULL);
    /* The cache pod makes n1 a little fuller, so without a preference the
     * scores would pick n2. */
    add_pod(c, "cache", "200m", "256Mi", "n1", NULL, ",\"labels\":{\"app\":\"cache\"}", 1);
    struct sched_decision d;
    struct sched_pod *near = add_pod(c, "near", NULL, NULL, NULL,
                                     PREF("podAffinity", "{\"app\":\"cache\"}"), NULL, 2);
    struct sched_pod *far = add_pod(c, "far", NULL, NULL, NULL,
                                    PREF("podAntiAffinity", "{\"app\":\"cache\"}"), NULL, 3);
    for (int i = 0; i < 10; i++) {
        assert_string_equal(decide(c, near, &d), "n1");
        assert_string_equal(decide(c, far, &d), "n2");
    }
    /* ScheduleAnyway spreading: away from the node holding a selected pod,
     * even though it is the emptier one. */
    add_pod(c, "w0", NULL, NULL, "n2", NULL, ",\"labels\":{\"app\":\"w\"}", 4);
    add_pod(c, "hog", "1", "1Gi", "n1", NULL, NULL, 5);
    struct sched_pod *w1 = add_pod(
        c, "w1", NULL, NULL, NULL,
        ",\"topologySpreadConstraints\":[{\"maxSkew\":1,\"topologyKey\":\"kubernetes.io/hostname\","
        "\"whenUnsatisfiable\":\"ScheduleAnyway\",\"labelSelector\":{\"matchLabels\":{\"app\":\"w\"}}}]",
        ",\"labels\":{\"app\":\"w\"}", 6);
    for (int i = 0; i < 10; i++)
        assert_string_equal(decide(c, w1, &d), "n1");
    (void)state;
    sched_cache_free(c);
}

static void test_spread_by_owner_and_zone(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 7);
    add_node(c, "a1", "{\"topology.kubernetes.io/zone\":\"z1\"}", "4", "8Gi", "110", NULL);
    add_node(c, "a2", "{\"topology.kubernetes.io/zone\":\"z1\"}", "4", "8Gi", "110", NULL);
    add_node(c, "b1", "{\"topology.kubernetes.io/zone\":\"z2\"}", "4", "8Gi", "110", NULL);
    const char *own = ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
                      "\"name\":\"rs\",\"uid\":\"rs-1\",\"controller\":true}]";
    add_pod(c, "r0", NULL, NULL, "a1", NULL, own, 1);
    /* a2 is empty, but its zone already has a replica: b1 wins. */
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "r1", NULL, NULL, NULL, NULL, own, 2);
    for (int i = 0; i < 10; i++)
        assert_string_equal(decide(c, p, &d), "b1");
    (void)state;
    sched_cache_free(c);
}

/* ---- the cache ---- */

static void test_assume_forget_and_bound(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    add_node(c, "a", NULL, "1", "1Gi", "110", NULL);
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", "600m", "100Mi", NULL, NULL, NULL, 5);
    assert_string_equal(decide(c, p, &d), "a");
    sched_cache_assume(c, p, d.node);
    int64_t cpu, mem, pods;
    sched_node_usage(d.node, &cpu, &mem, &pods);
    assert_int_equal(cpu, 600);
    assert_int_equal(pods, 1);
    /* The next one no longer fits while the first is assumed. */
    struct sched_pod *q = add_pod(c, "q", "600m", NULL, NULL, NULL, NULL, 6);
    assert_null(decide(c, q, &d));
    sched_cache_forget(c, p);
    assert_string_equal(decide(c, q, &d), "a");
    /* A stale change (an older revision) is ignored; the bound version
     * counts the pod once. */
    assert_non_null(add_pod(c, "q", "600m", NULL, NULL, NULL, NULL, 6));
    assert_null(add_pod(c, "q", "600m", NULL, "a", NULL, NULL, 9));
    assert_null(add_pod(c, "q", "600m", NULL, "a", NULL, NULL, 9));
    struct sched_node *a = sched_node_by(c, "a");
    sched_node_usage(a, &cpu, &mem, &pods);
    assert_int_equal(cpu, 600);
    assert_int_equal(pods, 1);
    assert_string_equal(sched_pod_node_name(sched_cache_pod(c, "ns", "q")), "a");
    /* Finished: the node has room again. */
    json_t *done = parse("{\"metadata\":{\"name\":\"q\",\"namespace\":\"ns\",\"uid\":\"u-q\"},"
                         "\"spec\":{\"nodeName\":\"a\",\"containers\":[{\"name\":\"c\",\"resources\":"
                         "{\"requests\":{\"cpu\":\"600m\"}}}]},\"status\":{\"phase\":\"Succeeded\"}}");
    assert_null(sched_cache_pod_set(c, done, 10));
    json_decref(done);
    sched_node_usage(a, &cpu, &mem, &pods);
    assert_int_equal(cpu, 0);
    assert_int_equal(pods, 0);
    (void)state;
    sched_cache_free(c);
}

/* A bound pod decoded by sched_pod_decode (only what the cache counts) is
 * counted exactly as the whole pod is: same usage on its node, labels,
 * owner, priority, ports, anti-affinity terms; and a pending pod is
 * decoded whole but for its managedFields. */
static void test_pod_decode_bound_is_enough(void **state)
{
    const char *text =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\","
        "\"uid\":\"u-p\",\"labels\":{\"app\":\"web\"},\"finalizers\":[\"x/y\"],"
        "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\","
        "\"uid\":\"u-rs\",\"controller\":true}],\"managedFields\":[{\"manager\":\"m\"}]},"
        "\"spec\":{%s\"priority\":7,\"containers\":[{\"name\":\"c\",\"image\":\"i\","
        "\"ports\":[{\"containerPort\":80,\"hostPort\":8080}],"
        "\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"}}}],"
        "\"affinity\":{\"podAntiAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
        "[{\"labelSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"topologyKey\":"
        "\"kubernetes.io/hostname\"}]}}},\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\","
        "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";
    char buf[4096];
    struct sched_cache *c[2];
    struct sched_pod *p[2];
    for (int i = 0; i < 2; i++) {
        c[i] = sched_cache_new(0, 1);
        add_node(c[i], "a", NULL, "4", "8Gi", "110", NULL);
        snprintf(buf, sizeof buf, text, "\"nodeName\":\"a\",");
        json_t *full = parse(buf), *obj = full;
        struct ubuf mp = {0};
        if (i == 1) {
            assert_int_equal(codec_json_to_msgpack(full, &mp), 0);
            obj = sched_pod_decode(mp.data, mp.len);
            assert_non_null(obj);
            assert_null(json_object_get(obj, "status") ?
                        json_object_get(json_object_get(obj, "status"), "podIP") : NULL);
            assert_null(json_object_get(json_object_get(obj, "metadata"), "managedFields"));
        }
        assert_null(sched_cache_pod_set(c[i], obj, 3));
        if (obj != full)
            json_decref(obj);
        json_decref(full);
        ubuf_free(&mp);
        p[i] = sched_cache_pod(c[i], "ns", "p");
        assert_non_null(p[i]);
    }
    int64_t cpu[2], mem[2], pods[2];
    for (int i = 0; i < 2; i++)
        sched_node_usage(sched_node_by(c[i], "a"), &cpu[i], &mem[i], &pods[i]);
    assert_int_equal(cpu[0], 250);
    assert_int_equal(cpu[1], cpu[0]);
    assert_int_equal(mem[1], mem[0]);
    assert_int_equal(pods[1], pods[0]);
    assert_true(json_equal(p[1]->labels, p[0]->labels));
    assert_string_equal(p[1]->owner, p[0]->owner);
    assert_string_equal(p[1]->uid, "u-p");
    assert_int_equal(p[1]->priority, 7);
    assert_int_equal(p[1]->n_ports, p[0]->n_ports);
    assert_int_equal(p[1]->n_ports, 1);
    assert_true(p[1]->finalizers);
    assert_non_null(p[1]->anti);
    assert_true(json_equal(p[1]->anti, p[0]->anti));
    for (int i = 0; i < 2; i++)
        sched_cache_free(c[i]);

    /* Pending: the whole pod, status included, but not its managedFields
     * (its writes edit the stored bytes). */
    snprintf(buf, sizeof buf, text, "");
    json_t *full = parse(buf);
    struct ubuf mp = {0};
    assert_int_equal(codec_json_to_msgpack(full, &mp), 0);
    json_t *obj = sched_pod_decode(mp.data, mp.len);
    json_object_del(json_object_get(full, "metadata"), "managedFields");
    assert_true(json_equal(obj, full));
    json_decref(obj);
    json_decref(full);
    ubuf_free(&mp);
    (void)state;
}

/* The binding the scheduler writes by editing the stored bytes is, byte
 * for byte, the encoding of what pods/binding makes of the decoded pod
 * (less resourceVersion): with and without a status, its conditions, an
 * earlier PodScheduled=False, a stored resourceVersion. A pod that has a
 * node or is being deleted is refused, as pods/binding refuses it. */
static void test_bind_encode_same_bytes(void **state)
{
    static const char *const pods[] = {
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":\"d\","
        "\"uid\":\"u\",\"managedFields\":[{\"manager\":\"m\",\"fieldsV1\":{\"f:spec\":{}}}]},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}],\"schedulerName\":"
        "\"default-scheduler\"},\"status\":{\"phase\":\"Pending\"}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"resourceVersion\":\"9\"},"
        "\"spec\":{\"containers\":[]}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{},\"status\":{\"conditions\":"
        "[{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":\"PodScheduled\",\"status\":"
        "\"False\",\"reason\":\"Unschedulable\"},{\"type\":\"X\"}],\"phase\":\"Pending\"}}",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"\"},"
        "\"status\":{\"qosClass\":\"BestEffort\"},\"z\":[1,2.5,null,true]}",
    };
    const char *now = "2026-12-07T14:00:00Z";
    char err[256];
    for (size_t i = 0; i < sizeof pods / sizeof pods[0]; i++) {
        json_t *pod = parse(pods[i]);
        json_t *want = kube_pod_bind(pod, "node-7", NULL, now, err, sizeof err);
        assert_non_null(want);
        json_object_del(json_object_get(want, "metadata"), "resourceVersion");
        struct ubuf in = {0}, got = {0}, exp = {0};
        assert_int_equal(codec_json_to_msgpack(pod, &in), 0);
        assert_int_equal(codec_json_to_msgpack(want, &exp), 0);
        assert_int_equal(sched_bind_encode(in.data, in.len, pod, "node-7", now, &got), 0);
        assert_int_equal(got.len, exp.len);
        assert_memory_equal(got.data, exp.data, exp.len);
        ubuf_free(&in);
        ubuf_free(&got);
        ubuf_free(&exp);
        json_decref(want);
        json_decref(pod);
    }
    static const char *const refused[] = {
        "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"n\"}}",
        "{\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"},"
        "\"spec\":{}}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        json_t *pod = parse(refused[i]);
        struct ubuf in = {0}, got = {0};
        assert_int_equal(codec_json_to_msgpack(pod, &in), 0);
        assert_int_equal(sched_bind_encode(in.data, in.len, pod, "n2", now, &got), -1);
        assert_int_equal(got.len, 0);
        ubuf_free(&in);
        ubuf_free(&got);
        json_decref(pod);
    }
    (void)state;
}

/* The Event written with each binding is, byte for byte, the encoding of
 * the same Event built with jansson (as the scheduler built it before). */
static void test_event_encode_same_bytes(void **state)
{
    const struct sched_event e = {
        .name = "p.0123456789abcdef", .ns = "bench", .uid = "u-e", .now = "2026-12-07T14:00:00Z",
        .pod = "p", .pod_uid = "u-p", .reason = "Scheduled",
        .message = "Successfully assigned bench/p to n1", .type = "Normal", .action = "Binding"};
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s, s:s, s:s}, s:s,"
                           " s:s, s:s, s:{s:s}, s:s, s:s, s:i, s:s, s:s, s:s}",
                           "apiVersion", "v1", "kind", "Event", "metadata", "name", e.name,
                           "namespace", e.ns, "uid", e.uid, "creationTimestamp", e.now,
                           "involvedObject", "kind", "Pod", "apiVersion", "v1", "namespace", e.ns,
                           "name", e.pod, "uid", e.pod_uid, "reason", e.reason, "message",
                           e.message, "type", e.type, "source", "component", SCHED_NAME,
                           "firstTimestamp", e.now, "lastTimestamp", e.now, "count", 1,
                           "reportingComponent", SCHED_NAME, "reportingInstance", SCHED_NAME,
                           "action", e.action);
    struct ubuf want = {0}, got = {0};
    assert_int_equal(codec_json_to_msgpack(ev, &want), 0);
    sched_event_encode(&e, &got);
    assert_int_equal(got.len, want.len);
    assert_memory_equal(got.data, want.data, want.len);
    ubuf_free(&want);
    ubuf_free(&got);
    json_decref(ev);
    (void)state;
}

static void test_pending_rules(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    /* Other schedulers' pods and pods being deleted are not ours. */
    assert_null(add_pod(c, "other", NULL, NULL, NULL, ",\"schedulerName\":\"custom\"", NULL, 1));
    assert_non_null(add_pod(c, "mine", NULL, NULL, NULL, ",\"schedulerName\":\"default-scheduler\"", NULL, 2));
    assert_null(add_pod(c, "going", NULL, NULL, NULL, NULL,
                        ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"", 3));
    /* A bound pod on a node the cache has not seen waits on a placeholder,
     * not schedulable, and is counted once the node arrives. */
    assert_null(add_pod(c, "early", "1", NULL, "later", NULL, NULL, 4));
    assert_int_equal(sched_cache_node_count(c), 0);
    add_node(c, "later", NULL, "2", "1Gi", "110", NULL);
    int64_t cpu, mem, pods;
    sched_node_usage(sched_node_by(c, "later"), &cpu, &mem, &pods);
    assert_int_equal(cpu, 1000);
    /* Removing the node keeps its pods counted until they go. */
    sched_cache_node_remove(c, "later");
    assert_int_equal(sched_cache_node_count(c), 0);
    sched_cache_pod_remove(c, "ns", "early");
    assert_null(sched_cache_node(c, "later"));
    (void)state;
    sched_cache_free(c);
}

static void test_requests_rules(void **state)
{
    /* Init containers: the max of each init (with earlier sidecars)
     * against the sum of the app containers and sidecars; plus overhead. */
    json_t *p = parse(
        "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"2\"}}},"
        "{\"name\":\"side\",\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":\"100m\","
        "\"memory\":\"1Gi\"}}}],\"containers\":[{\"name\":\"a\",\"resources\":{\"requests\":"
        "{\"cpu\":\"500m\"},\"limits\":{\"memory\":\"2Gi\"}}}],\"overhead\":{\"cpu\":\"10m\"}}}");
    struct kube_pod_requests r, nz;
    kube_pod_requests(p, false, &r);
    kube_pod_requests(p, true, &nz);
    json_decref(p);
    assert_int_equal(r.cpu_milli, 2010);
    assert_int_equal(r.memory, 3LL << 30);
    assert_int_equal(nz.cpu_milli, 2000);
    (void)state;
}

static void test_feasible_wanted(void **state)
{
    assert_int_equal(sched_feasible_wanted(50, 0), 50);
    assert_int_equal(sched_feasible_wanted(100, 0), 100);  /* 50%: 50 -> at least 100 */
    assert_int_equal(sched_feasible_wanted(1000, 0), 420); /* 50 - 8 = 42% */
    assert_int_equal(sched_feasible_wanted(5000, 0), 500); /* 50 - 40 = 10% */
    assert_int_equal(sched_feasible_wanted(10000, 0), 500); /* floor of 5% */
    assert_int_equal(sched_feasible_wanted(5000, 100), 5000);
    assert_int_equal(sched_feasible_wanted(5000, 1), 100);
    (void)state;
}

static void test_search_rotates(void **state)
{
    /* With 300 identical nodes and 100 wanted, successive searches start
     * where the last stopped, so every node is examined in turn. */
    struct sched_cache *c = sched_cache_new(10, 1);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%03d", i);
        add_node(c, name, NULL, "4", "8Gi", "110", NULL);
    }
    struct sched_decision d;
    struct sched_pod *p = add_pod(c, "p", NULL, NULL, NULL, NULL, NULL, 1);
    unsigned checked = 0;
    for (int i = 0; i < 3; i++) {
        decide(c, p, &d);
        assert_int_equal(d.n_checked, 100);
        checked += d.n_checked;
    }
    assert_int_equal(checked, 300);
    assert_int_equal(c->next_start, 0);
    (void)state;
    sched_cache_free(c);
}

/* ---- the queue ---- */

static void test_queue_order_and_backoff(void **state)
{
    struct sched_cache *c = sched_cache_new(0, 1);
    struct sched_queue q = {0};
    struct sched_pod *low = add_pod(c, "low", NULL, NULL, NULL, NULL, NULL, 1);
    struct sched_pod *high = add_pod(c, "high", NULL, NULL, NULL, ",\"priority\":1000", NULL, 2);
    struct sched_pod *low2 = add_pod(c, "low2", NULL, NULL, NULL, NULL, NULL, 3);
    sched_queue_add(&q, low);
    sched_queue_add(&q, high);
    sched_queue_add(&q, low2);
    sched_queue_add(&q, low); /* already queued: once */
    assert_ptr_equal(sched_queue_pop(&q), high);
    assert_ptr_equal(sched_queue_pop(&q), low);
    /* Parked as unschedulable: not due on time alone before a minute, due
     * after a cluster change once its 1 s backoff passed. */
    sched_queue_park(&q, low, true, 1000);
    sched_queue_flush(&q, 1500);
    assert_int_equal(q.n_active, 1);
    sched_queue_move_all(&q);
    sched_queue_flush(&q, 1900);
    assert_int_equal(q.n_active, 1);
    sched_queue_flush(&q, 2000);
    assert_int_equal(q.n_active, 2);
    assert_ptr_equal(sched_queue_pop(&q), low2); /* earlier arrival */
    assert_ptr_equal(sched_queue_pop(&q), low);
    /* The backoff doubles: second failure 2 s, then 4 s ... up to 10 s. */
    sched_queue_park(&q, low, false, 10000);
    assert_int_equal(sched_queue_next_due(&q), 12000);
    sched_queue_remove(&q, low);
    for (int i = 0; i < 6; i++) {
        sched_queue_park(&q, low, false, 0);
        sched_queue_remove(&q, low);
    }
    sched_queue_park(&q, low, false, 0);
    assert_int_equal(sched_queue_next_due(&q), 10000);
    sched_queue_free(&q);
    (void)state;
    sched_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_and_message),
        cmocka_unit_test(test_message_sorted),
        cmocka_unit_test(test_no_requests_fit_anywhere),
        cmocka_unit_test(test_node_affinity_operators),
        cmocka_unit_test(test_taints_and_cordon),
        cmocka_unit_test(test_tolerate_everything),
        cmocka_unit_test(test_not_ready),
        cmocka_unit_test(test_host_ports),
        cmocka_unit_test(test_anti_affinity),
        cmocka_unit_test(test_pod_affinity),
        cmocka_unit_test(test_topology_spread),
        cmocka_unit_test(test_least_allocated_spreads),
        cmocka_unit_test(test_balanced_allocation),
        cmocka_unit_test(test_preferred_affinity_and_prefer_no_schedule),
        cmocka_unit_test(test_preferred_pod_affinity),
        cmocka_unit_test(test_spread_by_owner_and_zone),
        cmocka_unit_test(test_assume_forget_and_bound),
        cmocka_unit_test(test_pod_decode_bound_is_enough),
        cmocka_unit_test(test_pending_rules),
        cmocka_unit_test(test_bind_encode_same_bytes),
        cmocka_unit_test(test_event_encode_same_bytes),
        cmocka_unit_test(test_requests_rules),
        cmocka_unit_test(test_feasible_wanted),
        cmocka_unit_test(test_search_rotates),
        cmocka_unit_test(test_queue_order_and_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
