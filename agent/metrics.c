/* metrics.c — the hollow nodes' resource metrics: what metrics-server would
 * scrape from kubelets, written by the agent as metrics.k8s.io/v1beta1
 * PodMetrics and NodeMetrics objects, so `kubectl top` and the
 * HorizontalPodAutoscaler (controllers/autoscaler.c) have usage to read.
 *
 * Why objects the agent writes: a hollow pod runs nothing, so its usage is
 * synthetic and only the agent knows it; the server serves the metrics
 * API from stored objects (server/resources.c) written like any other,
 * which replicates them, survives failovers and needs no aggregation
 * layer. The usage of a pod's container is its request times --cpu-usage
 * (default 0.5; memory likewise), or, when the pod is annotated
 * bosun.dev/hollow-cpu-usage (or -memory-usage) with a quantity, that
 * quantity for the pod, shared evenly by its containers. A node's usage is
 * the sum over its running pods.
 *
 * How: one thread. Every --metrics-interval (default 5 s; 0 turns metrics
 * off), or 5 ms per pod if that is longer (10,000 pods: a round every 50
 * s, so a benchmark's cluster is not flooded), it lists the bound pods from
 * its server's replica (resourceVersion=0, 500 a page), and writes, over a few connections at once so the
 * servers commit them together, the PodMetrics of each running pod of our
 * nodes that has been Ready for at least one interval (metrics-server
 * likewise needs one window of samples: its timestamp is then a whole
 * window after the pod became ready, which the autoscaler requires of new
 * pods) and whose usage changed, or whose last write is 12 intervals old
 * (a refresh, so timestamps stay recent); and each node's NodeMetrics on
 * the same rule. So a steady pod costs one write a minute, a changed one
 * is seen within an interval. A PodMetrics is owned by its pod (an
 * ownerReference), so the garbage collector removes it if its pod goes;
 * the agent also deletes the ones of pods it stops seeing. The thread owns
 * all of its state; the only shared things are the agent's configuration
 * and its connections' failover index. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define METRICS_CPU_ANNOTATION "bosun.dev/hollow-cpu-usage"
#define METRICS_MEMORY_ANNOTATION "bosun.dev/hollow-memory-usage"
#define METRICS_REFRESH_INTERVALS 12
#define METRICS_WRITERS 4
#define METRICS_API "/apis/metrics.k8s.io/v1beta1"
#define METRICS_PAGE 500
#define METRICS_MS_PER_POD 5

/* What was last written for one pod or node. */
struct written {
    int64_t cpu_milli, mem_milli;
    uint64_t at_ms; /* monotonic */
    uint32_t round; /* the last round that saw it */
};

/* One write of a round. */
struct mwrite {
    char path[600];   /* the object's path */
    char coll[600];   /* its collection, for a create */
    json_t *body;     /* NULL: delete */
};

struct agent_metrics {
    struct agent *ag;
    pthread_t thread;
    struct umap written; /* "pod/ns/name" or "node/name" -> struct written */
    uint32_t round;
    struct mwrite *w;
    size_t n_w, cap_w, next; /* next: taken with __atomic_fetch_add */
    struct agent_conn conns[METRICS_WRITERS];
};

/* ---- usage ---- */

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static int64_t quantity_milli(json_t *q)
{
    int64_t v = q ? kube_quantity_value(q, true) : 0;
    return v > 0 ? v : 0;
}

static const char *annotation(json_t *pod, const char *key)
{
    json_t *a = json_object_get(json_object_get(json_object_get(pod, "metadata"), "annotations"),
                                key);
    return json_is_string(a) ? json_string_value(a) : NULL;
}

/* The usage of each container (milli-units), into cpu[] and mem[]. */
static void pod_usage(const struct agent_config *cfg, json_t *pod, int64_t *cpu, int64_t *mem,
                      size_t n)
{
    json_t *cts = json_object_get(json_object_get(pod, "spec"), "containers"), *ct;
    const char *ann[2] = {annotation(pod, METRICS_CPU_ANNOTATION),
                          annotation(pod, METRICS_MEMORY_ANNOTATION)};
    const char *res[2] = {"cpu", "memory"};
    int64_t *out[2] = {cpu, mem};
    for (int r = 0; r < 2; r++) {
        double given;
        if (ann[r] && kube_quantity_parse(ann[r], &given) && given >= 0) {
            int64_t total = (int64_t)(given * 1000.0 + 0.5), share = total / (int64_t)n;
            for (size_t i = 0; i < n; i++)
                out[r][i] = share + (i == 0 ? total - share * (int64_t)n : 0);
            continue;
        }
        size_t i;
        json_array_foreach(cts, i, ct)
        {
            json_t *req = json_object_get(json_object_get(json_object_get(ct, "resources"),
                                                          "requests"),
                                          res[r]);
            out[r][i] = (int64_t)((double)quantity_milli(req) * cfg->cpu_usage);
        }
    }
}

static void fmt_quantity(char *buf, size_t len, int64_t milli, bool cpu)
{
    if (cpu)
        snprintf(buf, len, "%lldm", (long long)milli);
    else /* memory in bytes; Ki when it divides, as metrics-server prints */
        snprintf(buf, len, milli / 1000 % 1024 == 0 ? "%lldKi" : "%lld",
                 (long long)(milli / 1000 % 1024 == 0 ? milli / 1000 / 1024 : milli / 1000));
}

/* ---- the round ---- */

static void add_write(struct agent_metrics *m, const char *path, const char *coll, json_t *body)
{
    if (m->n_w == m->cap_w) {
        m->cap_w = m->cap_w ? 2 * m->cap_w : 64;
        m->w = xrealloc(m->w, m->cap_w * sizeof *m->w);
    }
    struct mwrite *w = &m->w[m->n_w++];
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->coll, sizeof w->coll, "%s", coll);
    w->body = body;
}

/* Whether the usage is worth writing now, recording it if so. */
static bool due(struct agent_metrics *m, const char *key, int64_t cpu, int64_t mem,
                uint64_t interval_ms)
{
    uint64_t now = util_now_ms();
    struct written *w = umap_get(&m->written, key);
    if (!w) {
        w = xcalloc(1, sizeof *w);
        umap_put(&m->written, key, w);
    } else if (w->cpu_milli == cpu && w->mem_milli == mem &&
               now - w->at_ms < interval_ms * METRICS_REFRESH_INTERVALS) {
        w->round = m->round;
        return false;
    }
    *w = (struct written){cpu, mem, now, m->round};
    return true;
}

struct node_sum {
    int64_t cpu, mem;
    bool seen;
};

/* The pod's metrics, if it is running on one of our nodes, has been
 * Ready for an interval, and its usage is due. */
static void consider_pod(struct agent_metrics *m, json_t *pod, struct node_sum *nodes,
                         const char *stamp, const char *window, int64_t wall_ms)
{
    struct agent *ag = m->ag;
    json_t *md = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
    int node = agent_node_index(ag, jstr(spec, "nodeName"));
    json_t *st = json_object_get(pod, "status");
    const char *phase = json_string_value(json_object_get(st, "phase"));
    if (node < 0 || !phase || strcmp(phase, "Running") != 0 ||
        json_object_get(md, "deletionTimestamp"))
        return;
    json_t *cts = json_object_get(spec, "containers"), *cond, *ct;
    size_t n = json_array_size(cts), i;
    int64_t ready_since = -1;
    json_array_foreach(json_object_get(st, "conditions"), i, cond)
    {
        const char *type = json_string_value(json_object_get(cond, "type"));
        const char *s = json_string_value(json_object_get(cond, "status"));
        if (type && s && strcmp(type, "Ready") == 0 && strcmp(s, "True") == 0)
            ready_since = agent_time_parse(jstr(cond, "lastTransitionTime"));
    }
    if (n == 0 || ready_since < 0)
        return;
    int64_t *cpu = xcalloc(n, sizeof *cpu), *mem = xcalloc(n, sizeof *mem), tc = 0, tm = 0;
    pod_usage(&ag->cfg, pod, cpu, mem, n);
    for (i = 0; i < n; i++) {
        tc += cpu[i];
        tm += mem[i];
    }
    nodes[node].cpu += tc;
    nodes[node].mem += tm;
    nodes[node].seen = true;
    const char *ns = jstr(md, "namespace"), *name = jstr(md, "name");
    char key[600];
    snprintf(key, sizeof key, "pod/%s/%s", ns, name);
    if (wall_ms - ready_since >= (int64_t)ag->cfg.metrics_interval_ms &&
        due(m, key, tc, tm, ag->cfg.metrics_interval_ms)) {
        json_t *containers = json_array();
        json_array_foreach(cts, i, ct)
        {
            char c[32], mm[32];
            fmt_quantity(c, sizeof c, cpu[i], true);
            fmt_quantity(mm, sizeof mm, mem[i], false);
            json_array_append_new(containers,
                                  json_pack("{s:s, s:{s:s, s:s}}", "name", jstr(ct, "name"),
                                            "usage", "cpu", c, "memory", mm));
        }
        json_t *labels = json_object_get(md, "labels");
        json_t *body = json_pack(
            "{s:s, s:s, s:{s:s, s:s, s:o, s:[{s:s, s:s, s:s, s:s}]}, s:s, s:s, s:o}", "apiVersion",
            "metrics.k8s.io/v1beta1", "kind", "PodMetrics", "metadata", "name", name, "namespace",
            ns, "labels", labels ? json_incref(labels) : json_object(), "ownerReferences",
            "apiVersion", "v1", "kind", "Pod", "name", name, "uid", jstr(md, "uid"), "timestamp",
            stamp, "window", window, "containers", containers);
        char path[600], coll[600];
        snprintf(coll, sizeof coll, METRICS_API "/namespaces/%s/pods", ns);
        snprintf(path, sizeof path, "%s/%s", coll, name);
        add_write(m, path, coll, body);
    }
    free(cpu);
    free(mem);
}

static void consider_node(struct agent_metrics *m, int i, const struct node_sum *s,
                          const char *stamp, const char *window)
{
    char key[300], c[32], mm[32], path[600];
    const char *name = m->ag->nodes[i].name;
    snprintf(key, sizeof key, "node/%s", name);
    if (!s->seen && !umap_get(&m->written, key))
        return; /* a node that never ran a pod: nothing to say yet */
    if (!due(m, key, s->cpu, s->mem, m->ag->cfg.metrics_interval_ms))
        return;
    fmt_quantity(c, sizeof c, s->cpu, true);
    fmt_quantity(mm, sizeof mm, s->mem, false);
    json_t *body = json_pack("{s:s, s:s, s:{s:s}, s:s, s:s, s:{s:s, s:s}}", "apiVersion",
                             "metrics.k8s.io/v1beta1", "kind", "NodeMetrics", "metadata", "name",
                             name, "timestamp", stamp, "window", window, "usage", "cpu", c,
                             "memory", mm);
    snprintf(path, sizeof path, METRICS_API "/nodes/%s", name);
    add_write(m, path, METRICS_API "/nodes", body);
}

/* The pods that were written before and not seen this round: delete. */
static void forget_gone(struct agent_metrics *m)
{
    size_t it = 0;
    const char *key;
    void *v;
    while (umap_next(&m->written, &it, &key, &v)) {
        if (((struct written *)v)->round == m->round || strncmp(key, "pod/", 4) != 0)
            continue;
        const char *ns = key + 4, *slash = strchr(ns, '/');
        char path[600];
        if (slash) {
            snprintf(path, sizeof path, METRICS_API "/namespaces/%.*s/pods/%s", (int)(slash - ns),
                     ns, slash + 1);
            add_write(m, path, "", NULL);
        }
        free(umap_del(&m->written, key));
    }
}

/* One write: PUT (create-or-replace semantics: a 404 is then a POST). */
static void write_one(struct agent_conn *k, struct mwrite *w)
{
    if (!w->body) {
        agent_conn_json(k, "DELETE", w->path, NULL, NULL, NULL);
        return;
    }
    int st = agent_conn_json(k, "PUT", w->path, "application/json", w->body, NULL);
    if (st == 404)
        st = agent_conn_json(k, "POST", w->coll, "application/json", w->body, NULL);
    if (st != 200 && st != 201 && st != 409)
        agent_error(k->ag, AGENT_ERR_METRICS, "writing metrics %s: HTTP %d", w->path, st);
}

struct writer {
    struct agent_metrics *m;
    struct agent_conn *k;
};

static void *writer_run(void *arg)
{
    struct writer *wr = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&wr->m->next, 1, __ATOMIC_RELAXED);
        if (i >= wr->m->n_w)
            return NULL;
        write_one(wr->k, &wr->m->w[i]);
    }
}

/* The round's writes over up to METRICS_WRITERS connections at once. */
static void flush(struct agent_metrics *m)
{
    struct writer wr[METRICS_WRITERS];
    pthread_t th[METRICS_WRITERS];
    bool started[METRICS_WRITERS] = {false};
    size_t k = m->n_w < METRICS_WRITERS ? m->n_w : METRICS_WRITERS;
    m->next = 0;
    for (size_t i = 0; i < k; i++)
        wr[i] = (struct writer){m, &m->conns[i]};
    for (size_t i = 1; i < k; i++)
        started[i] = pthread_create(&th[i], NULL, writer_run, &wr[i]) == 0;
    if (k)
        writer_run(&wr[0]);
    for (size_t i = 1; i < k; i++)
        if (started[i])
            pthread_join(th[i], NULL);
    for (size_t i = 0; i < m->n_w; i++)
        json_decref(m->w[i].body);
    m->n_w = 0;
}

/* Lists the bound pods from this server's replica, a page at a time, and
 * considers each; returns how many were listed, or -1 if a page failed. */
static long list_pods(struct agent_metrics *m, struct node_sum *nodes, const char *stamp,
                      const char *window, int64_t wall)
{
    char path[1200], cont[800] = "";
    long n = 0;
    do {
        snprintf(path, sizeof path,
                 "/api/v1/pods?fieldSelector=spec.nodeName%%21%%3D&limit=%d%s%s", METRICS_PAGE,
                 cont[0] ? "&continue=" : "&resourceVersion=0", cont);
        cont[0] = '\0';
        json_t *list = NULL;
        int st = agent_conn_json(&m->conns[0], "GET", path, NULL, NULL, &list);
        if (st != 200 || !list) {
            json_decref(list);
            return -1;
        }
        json_t *pod;
        size_t i;
        json_array_foreach(json_object_get(list, "items"), i, pod)
        {
            consider_pod(m, pod, nodes, stamp, window, wall);
            n++;
        }
        /* The token is base64: its + / = are escaped for the query. */
        const char *next = jstr(json_object_get(list, "metadata"), "continue");
        size_t k = 0;
        for (const char *p = next; *p && k + 4 < sizeof cont; p++)
            k += (size_t)(strchr("+/=", *p) ? snprintf(cont + k, 4, "%%%02X", *p)
                                            : snprintf(cont + k, 2, "%c", *p));
        cont[k] = '\0';
        json_decref(list);
    } while (cont[0]);
    return n;
}

/* One round; returns how many pods it listed (-1: the list failed). */
static long round_run(struct agent_metrics *m)
{
    struct agent *ag = m->ag;
    m->round++;
    int64_t wall = agent_wall_ms();
    char stamp[32], window[32];
    agent_time_rfc3339(wall, stamp, sizeof stamp);
    snprintf(window, sizeof window, "%.3gs", (double)ag->cfg.metrics_interval_ms / 1000.0);
    struct node_sum *nodes = xcalloc((size_t)ag->cfg.hollow, sizeof *nodes);
    long n = list_pods(m, nodes, stamp, window, wall);
    if (n >= 0) { /* a complete view: nodes' sums and the pods that went */
        for (int i = 0; i < ag->cfg.hollow; i++)
            consider_node(m, i, &nodes[i], stamp, window);
        forget_gone(m);
    }
    free(nodes);
    flush(m);
    return n;
}

/* Rounds every --metrics-interval, or 5 ms per pod listed if longer, so
 * that a cluster of many pods pays a bounded cost: the LIST and the writes
 * grow with the pods, the rate of rounds shrinks with them. */
static void *metrics_run(void *arg)
{
    struct agent_metrics *m = arg;
    struct agent *ag = m->ag;
    uint64_t next = util_now_ms() + ag->cfg.metrics_interval_ms;
    while (!atomic_load(&ag->stopping)) {
        uint64_t now = util_now_ms();
        if (now < next) {
            usleep((useconds_t)((next - now < 1000 ? next - now : 1000) * 1000));
            continue;
        }
        long n = round_run(m);
        uint64_t period = ag->cfg.metrics_interval_ms;
        if (n > 0 && (uint64_t)n * METRICS_MS_PER_POD > period)
            period = (uint64_t)n * METRICS_MS_PER_POD;
        next = util_now_ms() + period;
    }
    return NULL;
}

void agent_metrics_start(struct agent *ag)
{
    if (ag->cfg.metrics_interval_ms == 0)
        return;
    struct agent_metrics *m = xcalloc(1, sizeof *m);
    m->ag = ag;
    for (int i = 0; i < METRICS_WRITERS; i++)
        agent_conn_init(&m->conns[i], ag);
    if (pthread_create(&m->thread, NULL, metrics_run, m) != 0) {
        free(m);
        return;
    }
    ag->metrics = m;
}

void agent_metrics_stop(struct agent *ag)
{
    struct agent_metrics *m = ag->metrics;
    if (!m)
        return;
    pthread_join(m->thread, NULL); /* it checks ag->stopping every second */
    for (int i = 0; i < METRICS_WRITERS; i++)
        agent_conn_close(&m->conns[i]);
    size_t it = 0;
    void *v;
    while (umap_next(&m->written, &it, NULL, &v))
        free(v);
    umap_free(&m->written);
    free(m->w);
    free(m);
    ag->metrics = NULL;
}
