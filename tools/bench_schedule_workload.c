/* bench_schedule_workload.c — the presets of `bosun bench schedule`: which
 * nodes to start and which pods to create, like kube-scheduler's
 * scheduler_perf cases.
 *
 * Every node is 4 cpu, 32Gi, 110 pods, in one of 3 zones; a preset splits
 * the nodes into groups (one `bosun agent` each) with their own labels and
 * taints. Every pod starts from the base pod — one pause container
 * requesting cpu 100m and memory 500Mi (scheduler_perf's pod-default), or
 * --pod-template — and a preset makes "shapes" of it by adding constraints.
 * A shape is rendered once to JSON with two placeholders, the pod's name and
 * its group label value, which bsch_pod_render replaces per pod: creating a
 * pod costs a few string copies, not a JSON encoding.
 *
 *   basic            one group; the base pod (at most 40 a node by cpu)
 *   node-affinity    half the nodes pool=a, half pool=b; pods require pool In (a)
 *   anti-affinity    pods in groups of min(100, N) sharing a label, each with a
 *                    required podAntiAffinity on kubernetes.io/hostname against
 *                    its group: one pod of a group per node
 *   topology-spread  pods in groups of 1000 with a topologySpreadConstraint over
 *                    topology.kubernetes.io/zone, maxSkew 1, DoNotSchedule
 *   taints           a fifth of the nodes tainted dedicated=bench:NoSchedule;
 *                    every other pod tolerates it
 *   preemption       PriorityClasses bench-low (100) and bench-high (1000); first
 *                    4 pods of 1 cpu per node at low priority fill every node
 *                    (not measured), then the measured pods, 1 cpu at high
 *                    priority, each of which must preempt one
 *   mixed            pool=a 40%, pool=b 40%, pool=b tainted 20%; the pods cycle
 *                    through basic, node-affinity, anti-affinity, spread and
 *                    tolerating shapes
 *
 * Group label values carry the shape's number (s2-g000017), so that groups
 * of different shapes never select each other's pods. Sizes that cannot fit
 * (more pods than the preset's nodes hold) are refused up front: the run
 * could only time out. With --pod-template the requests are the template's
 * and that check is skipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "httpc/httpc.h"
#include "tools/bench_schedule_internal.h"
#include "tools/tools.h"

enum {
    BSCH_PODS_PER_NODE = 40,    /* the base pod: 4000m / 100m */
    BSCH_ANTI_GROUP = 100,
    BSCH_SPREAD_GROUP = 1000,
    BSCH_PREEMPT_PER_NODE = 4,  /* 1-cpu pods on a 4-cpu node */
    BSCH_TEMPLATE_MAX = 1 << 20,
};

struct bsch_preset {
    const char *name;
    int (*setup)(struct bsch_run *r, json_t *base);
    const char *help;
};

/* ---- shapes ----------------------------------------------------------- */

static json_t *bsch_obj(json_t *parent, const char *key)
{
    json_t *v = json_object_get(parent, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(parent, key, v);
    }
    return v;
}

static json_t *bsch_first_container(json_t *pod)
{
    return json_array_get(json_object_get(json_object_get(pod, "spec"), "containers"), 0);
}

static void bsch_shape_requests(json_t *pod, const char *cpu, const char *memory)
{
    json_t *c = bsch_first_container(pod);
    if (c)
        json_object_set_new(bsch_obj(c, "resources"), "requests",
                            json_pack("{s:s, s:s}", "cpu", cpu, "memory", memory));
}

static void bsch_shape_group_label(json_t *pod)
{
    json_object_set_new(bsch_obj(bsch_obj(pod, "metadata"), "labels"), BSCH_LABEL_GROUP,
                        json_string(BSCH_PH_GROUP));
}

static void bsch_shape_node_affinity(json_t *pod, const char *pool)
{
    json_t *term = json_pack("{s:[{s:s, s:s, s:[s]}]}", "matchExpressions", "key", BSCH_LABEL_POOL,
                             "operator", "In", "values", pool);
    json_t *aff = bsch_obj(bsch_obj(pod, "spec"), "affinity");
    json_object_set_new(aff, "nodeAffinity",
                        json_pack("{s:{s:[o]}}", "requiredDuringSchedulingIgnoredDuringExecution",
                                  "nodeSelectorTerms", term));
}

static void bsch_shape_anti_affinity(json_t *pod)
{
    bsch_shape_group_label(pod);
    json_t *aff = bsch_obj(bsch_obj(pod, "spec"), "affinity");
    json_object_set_new(
        aff, "podAntiAffinity",
        json_pack("{s:[{s:{s:{s:s}}, s:s}]}", "requiredDuringSchedulingIgnoredDuringExecution",
                  "labelSelector", "matchLabels", BSCH_LABEL_GROUP, BSCH_PH_GROUP, "topologyKey",
                  "kubernetes.io/hostname"));
}

static void bsch_shape_spread(json_t *pod)
{
    bsch_shape_group_label(pod);
    json_object_set_new(
        bsch_obj(pod, "spec"), "topologySpreadConstraints",
        json_pack("[{s:i, s:s, s:s, s:{s:{s:s}}}]", "maxSkew", 1, "topologyKey",
                  "topology.kubernetes.io/zone", "whenUnsatisfiable", "DoNotSchedule",
                  "labelSelector", "matchLabels", BSCH_LABEL_GROUP, BSCH_PH_GROUP));
}

static void bsch_shape_toleration(json_t *pod)
{
    json_object_set_new(bsch_obj(pod, "spec"), "tolerations",
                        json_pack("[{s:s, s:s, s:s, s:s}]", "key", BSCH_TAINT_KEY, "operator",
                                  "Equal", "value", "bench", "effect", "NoSchedule"));
}

static void bsch_shape_priority(json_t *pod, const char *class_name)
{
    json_object_set_new(bsch_obj(pod, "spec"), "priorityClassName", json_string(class_name));
}

/* Adds a copy of pod, changed by fn (may be NULL), as the next shape. */
static void bsch_shape_add(struct bsch_workload *wl, json_t *base, void (*fn)(json_t *pod))
{
    json_t *pod = json_deep_copy(base);
    if (fn)
        fn(pod);
    wl->shapes[wl->n_shapes++] = json_dumps(pod, JSON_COMPACT);
    json_decref(pod);
}

static void bsch_shape_pool_a(json_t *pod) { bsch_shape_node_affinity(pod, "a"); }

/* ---- node groups and phases ------------------------------------------- */

static void bsch_group_add(struct bsch_workload *wl, long long count, const char *labels,
                           const char *taints)
{
    if (count <= 0)
        return;
    struct bsch_node_group *g = &wl->groups[wl->n_groups];
    g->count = count;
    snprintf(g->name, sizeof g->name, "%c", 'a' + wl->n_groups);
    snprintf(g->labels, sizeof g->labels, "%s", labels ? labels : "");
    snprintf(g->taints, sizeof g->taints, "%s", taints ? taints : "");
    wl->n_groups++;
}

static void bsch_phases_set(struct bsch_run *r, long long fill)
{
    struct bsch_workload *wl = &r->wl;
    if (fill > 0)
        wl->phases[wl->n_phases++] = (struct bsch_phase){.name = "fill", .count = fill};
    wl->phases[wl->n_phases++] = (struct bsch_phase){
        .name = "measure", .first = fill, .count = r->o->pods, .measured = true};
    r->n_pods = fill + r->o->pods;
}

/* More pods than the nodes can hold: a run that could only time out. */
static int bsch_capacity_check(const struct bsch_run *r, long long pods, long long capacity,
                               const char *why)
{
    if (r->o->pod_template || pods <= capacity)
        return 0;
    bsch_say("preset %s: %lld pods cannot fit (at most %lld: %s)", r->wl.preset, pods, capacity,
             why);
    return 2;
}

/* ---- the presets ------------------------------------------------------ */

static int bsch_preset_basic(struct bsch_run *r, json_t *base)
{
    long long n = r->o->nodes;
    bsch_group_add(&r->wl, n, NULL, NULL);
    bsch_shape_add(&r->wl, base, NULL);
    bsch_phases_set(r, 0);
    return bsch_capacity_check(r, r->o->pods, n * BSCH_PODS_PER_NODE, "40 per node by cpu");
}

static int bsch_preset_node_affinity(struct bsch_run *r, json_t *base)
{
    long long n = r->o->nodes, a = (n + 1) / 2;
    bsch_group_add(&r->wl, a, BSCH_LABEL_POOL "=a", NULL);
    bsch_group_add(&r->wl, n - a, BSCH_LABEL_POOL "=b", NULL);
    bsch_shape_add(&r->wl, base, bsch_shape_pool_a);
    bsch_phases_set(r, 0);
    return bsch_capacity_check(r, r->o->pods, a * BSCH_PODS_PER_NODE,
                               "40 on each of the pool=a half of the nodes");
}

static int bsch_preset_anti_affinity(struct bsch_run *r, json_t *base)
{
    long long n = r->o->nodes;
    bsch_group_add(&r->wl, n, NULL, NULL);
    bsch_shape_add(&r->wl, base, bsch_shape_anti_affinity);
    r->wl.group_size = n < BSCH_ANTI_GROUP ? n : BSCH_ANTI_GROUP;
    bsch_phases_set(r, 0);
    return bsch_capacity_check(r, r->o->pods, n * BSCH_PODS_PER_NODE, "40 per node by cpu");
}

static int bsch_preset_spread(struct bsch_run *r, json_t *base)
{
    long long n = r->o->nodes;
    bsch_group_add(&r->wl, n, NULL, NULL);
    bsch_shape_add(&r->wl, base, bsch_shape_spread);
    r->wl.group_size = BSCH_SPREAD_GROUP;
    bsch_phases_set(r, 0);
    if (n < BSCH_ZONES) {
        bsch_say("preset topology-spread needs at least %d nodes (one per zone)", BSCH_ZONES);
        return 2;
    }
    return bsch_capacity_check(r, r->o->pods, (n / BSCH_ZONES) * BSCH_ZONES * BSCH_PODS_PER_NODE,
                               "40 per node, as many in each zone");
}

static int bsch_preset_taints(struct bsch_run *r, json_t *base)
{
    long long n = r->o->nodes, tainted = n / 5;
    bsch_group_add(&r->wl, n - tainted, NULL, NULL);
    bsch_group_add(&r->wl, tainted, NULL, BSCH_TAINT_KEY "=bench:NoSchedule");
    bsch_shape_add(&r->wl, base, bsch_shape_toleration);
    bsch_shape_add(&r->wl, base, NULL);
    bsch_phases_set(r, 0);
    return bsch_capacity_check(r, r->o->pods / 2, (n - tainted) * BSCH_PODS_PER_NODE,
                               "the pods without the toleration, 40 on each untainted node");
}

static void bsch_shape_low(json_t *pod)
{
    bsch_shape_requests(pod, "1", "500Mi");
    bsch_shape_priority(pod, "bench-low");
}

static void bsch_shape_high(json_t *pod)
{
    bsch_shape_requests(pod, "1", "500Mi");
    bsch_shape_priority(pod, "bench-high");
}

static int bsch_preset_preemption(struct bsch_run *r, json_t *base)
{
    long long n = r->o->nodes, fill = n * BSCH_PREEMPT_PER_NODE;
    bsch_group_add(&r->wl, n, NULL, NULL);
    bsch_shape_add(&r->wl, base, bsch_shape_low);
    bsch_shape_add(&r->wl, base, bsch_shape_high);
    r->wl.fill_shape = 0;
    r->wl.first_measured = 1;
    r->wl.priority_classes = true;
    bsch_phases_set(r, fill);
    if (r->o->pods <= fill)
        return 0;
    bsch_say("preset preemption: --pods %lld is more than the %lld low-priority pods that fill "
             "the nodes (4 per node); each measured pod takes one's place",
             r->o->pods, fill);
    return 2;
}

static int bsch_preset_mixed(struct bsch_run *r, json_t *base)
{
    long long n = r->o->nodes, a = n * 2 / 5, b = n * 2 / 5, c = n - a - b;
    if (a == 0)
        a = 1, c = n - a - b; /* pool=a must exist */
    bsch_group_add(&r->wl, a, BSCH_LABEL_POOL "=a", NULL);
    bsch_group_add(&r->wl, b, BSCH_LABEL_POOL "=b", NULL);
    bsch_group_add(&r->wl, c, BSCH_LABEL_POOL "=b", BSCH_TAINT_KEY "=bench:NoSchedule");
    bsch_shape_add(&r->wl, base, NULL);
    bsch_shape_add(&r->wl, base, bsch_shape_pool_a);
    bsch_shape_add(&r->wl, base, bsch_shape_anti_affinity);
    bsch_shape_add(&r->wl, base, bsch_shape_spread);
    bsch_shape_add(&r->wl, base, bsch_shape_toleration);
    long long untainted = a + b, g = untainted / 2;
    r->wl.group_size = g < 1 ? 1 : g > BSCH_ANTI_GROUP ? BSCH_ANTI_GROUP : g;
    bsch_phases_set(r, 0);
    if (n < BSCH_ZONES) {
        bsch_say("preset mixed needs at least %d nodes (one per zone)", BSCH_ZONES);
        return 2;
    }
    long long p = r->o->pods;
    int rc = bsch_capacity_check(r, (p + 4) / 5, a * BSCH_PODS_PER_NODE,
                                 "the node-affinity fifth, 40 on each pool=a node");
    return rc ? rc
              : bsch_capacity_check(r, p - p / 5, untainted * BSCH_PODS_PER_NODE,
                                    "the pods without the toleration, 40 per untainted node");
}

static const struct bsch_preset bsch_presets[] = {
    {"basic", bsch_preset_basic, "requests only (cpu 100m, memory 500Mi)"},
    {"node-affinity", bsch_preset_node_affinity, "required node affinity to half the nodes"},
    {"anti-affinity", bsch_preset_anti_affinity, "required pod anti-affinity within groups"},
    {"topology-spread", bsch_preset_spread, "spread over zones, maxSkew 1 (DoNotSchedule)"},
    {"taints", bsch_preset_taints, "a fifth of the nodes tainted; half the pods tolerate it"},
    {"preemption", bsch_preset_preemption, "fill with low priority, then preempt with high"},
    {"mixed", bsch_preset_mixed, "a blend of the above but preemption"},
};

static const struct bsch_preset *bsch_preset_get(const char *name)
{
    for (size_t i = 0; i < sizeof bsch_presets / sizeof bsch_presets[0]; i++)
        if (strcmp(bsch_presets[i].name, name) == 0)
            return &bsch_presets[i];
    return NULL;
}

bool bsch_preset_known(const char *name) { return bsch_preset_get(name) != NULL; }

void bsch_presets_usage(FILE *f)
{
    for (size_t i = 0; i < sizeof bsch_presets / sizeof bsch_presets[0]; i++)
        fprintf(f, "                       %-16s %s\n", bsch_presets[i].name, bsch_presets[i].help);
}

/* ---- the base pod ----------------------------------------------------- */

static json_t *bsch_base_default(void)
{
    return json_pack("{s:s, s:s, s:{}, s:{s:[{s:s, s:s, s:{s:{s:s, s:s}}}]}}", "apiVersion", "v1",
                     "kind", "Pod", "metadata", "spec", "containers", "name", "pause", "image",
                     "registry.k8s.io/pause:3.10", "resources", "requests", "cpu", "100m",
                     "memory", "500Mi");
}

/* Reads --pod-template (JSON, or YAML through codec_yaml_to_json). */
static json_t *bsch_base_from_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        bsch_say("cannot read --pod-template %s: %s", path, strerror(errno));
        return NULL;
    }
    struct ubuf b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.len <= BSCH_TEMPLATE_MAX)
        ubuf_append(&b, buf, n);
    fclose(f);
    char err[256] = "";
    json_t *pod = codec_yaml_to_json(b.data ? b.data : "", b.len, err, sizeof err);
    ubuf_free(&b);
    const char *kind = json_string_value(json_object_get(pod, "kind"));
    if (!json_is_object(pod) || (kind && strcmp(kind, "Pod") != 0) ||
        !json_is_array(json_object_get(json_object_get(pod, "spec"), "containers"))) {
        bsch_say("--pod-template %s is not a Pod with spec.containers%s%s", path,
                 *err ? ": " : "", err);
        json_decref(pod);
        return NULL;
    }
    json_object_set_new(pod, "apiVersion", json_string("v1"));
    json_object_set_new(pod, "kind", json_string("Pod"));
    json_object_del(pod, "status");
    json_t *md = bsch_obj(pod, "metadata");
    static const char *const drop[] = {"namespace",         "generateName",  "uid",
                                       "resourceVersion",   "managedFields", "ownerReferences",
                                       "creationTimestamp", "generation"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        json_object_del(md, drop[i]);
    if (json_object_get(json_object_get(pod, "spec"), "nodeName")) {
        bsch_say("note: --pod-template's spec.nodeName is dropped (it would bypass the scheduler)");
        json_object_del(json_object_get(pod, "spec"), "nodeName");
    }
    return pod;
}

int bsch_workload_build(struct bsch_run *r)
{
    struct bsch_workload *wl = &r->wl;
    const struct bsch_preset *p = bsch_preset_get(r->o->preset);
    *wl = (struct bsch_workload){.preset = p->name, .fill_shape = -1, .group_size = 1};
    json_t *base = r->o->pod_template ? bsch_base_from_file(r->o->pod_template)
                                      : bsch_base_default();
    if (!base)
        return 2;
    json_t *md = bsch_obj(base, "metadata");
    json_object_set_new(md, "name", json_string(BSCH_PH_NAME));
    json_object_set_new(bsch_obj(md, "labels"), BSCH_LABEL_RUN, json_string(r->id));
    int rc = p->setup(r, base);
    json_decref(base);
    return rc;
}

void bsch_workload_free(struct bsch_workload *wl)
{
    for (int i = 0; i < wl->n_shapes; i++)
        free(wl->shapes[i]);
    wl->n_shapes = 0;
}

/* ---- one pod ---------------------------------------------------------- */

/* The shape and group label value of pod i. */
static int bsch_pod_shape(const struct bsch_run *r, long long i, char *group, size_t len)
{
    const struct bsch_workload *wl = &r->wl;
    const struct bsch_phase *last = &wl->phases[wl->n_phases - 1];
    if (i < last->first) {
        snprintf(group, len, "fill");
        return wl->fill_shape;
    }
    long long j = i - last->first;
    int n = wl->n_shapes - wl->first_measured, s = wl->first_measured + (int)(j % n);
    snprintf(group, len, "s%d-g%06lld", s, j / n / wl->group_size);
    return s;
}

void bsch_pod_render(const struct bsch_run *r, long long i, struct ubuf *b)
{
    char name[32], group[40];
    bsch_pod_name(r, i, name, sizeof name);
    const char *cur = r->wl.shapes[bsch_pod_shape(r, i, group, sizeof group)];
    for (const char *p; (p = strstr(cur, "@@"));) {
        ubuf_append(b, cur, (size_t)(p - cur));
        if (strncmp(p, BSCH_PH_NAME, sizeof BSCH_PH_NAME - 1) == 0) {
            ubuf_append(b, name, strlen(name));
            cur = p + sizeof BSCH_PH_NAME - 1;
        } else if (strncmp(p, BSCH_PH_GROUP, sizeof BSCH_PH_GROUP - 1) == 0) {
            ubuf_append(b, group, strlen(group));
            cur = p + sizeof BSCH_PH_GROUP - 1;
        } else {
            ubuf_append(b, p, 2);
            cur = p + 2;
        }
    }
    ubuf_append(b, cur, strlen(cur)); /* ubuf keeps it terminated */
}

/* ---- PriorityClasses -------------------------------------------------- */

int bsch_priority_classes_ensure(struct bsch_run *r)
{
    static const struct {
        const char *name;
        int value;
    } classes[] = {{"bench-low", 100}, {"bench-high", 1000}};
    struct httpc *h = httpc_new(r->servers[0]);
    int rc = 0;
    for (size_t i = 0; h && i < sizeof classes / sizeof classes[0] && rc == 0; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"apiVersion\":\"scheduling.k8s.io/v1\",\"kind\":\"PriorityClass\","
                 "\"metadata\":{\"name\":\"%s\"},\"value\":%d,\"description\":"
                 "\"bosun bench schedule\"}",
                 classes[i].name, classes[i].value);
        int status = bench_http_call(h, "POST", "/apis/scheduling.k8s.io/v1/priorityclasses", NULL,
                                     "application/json", body, 30000, NULL);
        if (status == 404)
            rc = 1;
        else if (status != 201 && status != 409) {
            bsch_say("cannot create PriorityClass %s: HTTP %d", classes[i].name, status);
            rc = -1;
        }
    }
    if (h)
        httpc_free(h);
    return h ? rc : -1;
}
