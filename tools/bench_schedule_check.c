/* bench_schedule_check.c — the invariants `bosun bench schedule` checks at
 * the end of a run, from the cluster's final state and the watch's record.
 *
 * It LISTs every node and then every pod of the cluster (pages of 500,
 * each decoded and dropped before the next, so 50,000 pods never sit in
 * memory as JSON; pods of other namespaces count only for their nodes'
 * usage), and checks, for every pod of the run:
 *   - it is bound: created, not deleted, and spec.nodeName set;
 *   - it was bound once: its nodeName never changed (nor was cleared) in the
 *     watch, and the watch saw the node the final state has;
 *   - its node exists;
 *   - its node's labels satisfy its nodeSelector and its required node
 *     affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt; terms ORed,
 *     expressions ANDed);
 *   - it tolerates every NoSchedule and NoExecute taint of its node;
 * and, over all of them:
 *   - no node is over-committed: the requests of the pods bound to it that
 *     have not terminated (containers summed, the largest init container if
 *     larger, plus overhead) stay within its allocatable cpu and memory, and
 *     their number within its allocatable pods;
 *   - required pod anti-affinity on kubernetes.io/hostname: no pod shares a
 *     node with another pod its terms select (other topology keys are not
 *     checked);
 *   - topology spread (DoNotSchedule): for each constraint, the pods its
 *     selector matches are spread over the values of its topology key among
 *     all nodes with at most maxSkew between the fullest and the emptiest
 *     domain. Placed one at a time with no deletions, every placement keeps
 *     that true, so the final state must too.
 * Pods share few distinct label sets and constraint sets (a preset has a
 * few shapes; groups add a label value), so both are interned: each pod
 * keeps two small ids and each distinct set is decoded once. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "httpc/httpc.h"
#include "tools/bench_schedule_internal.h"
#include "tools/tools.h"

enum { BSCH_CHECK_PAGE = 500, BSCH_CHECK_TIMEOUT_MS = 60000, BSCH_CHECK_RESTARTS = 20 };

struct bsch_cnode {
    json_t *labels;           /* owned */
    json_t *taints;           /* owned; spec.taints */
    long long cpu, mem, pods; /* allocatable: milli-cpu, milli-bytes, count */
    long long used_cpu, used_mem, used_pods;
};

struct bsch_cpod {
    int32_t node;   /* index in ctx->nodes, -1 unbound or missing */
    int32_t labels; /* index in ctx->label_sets */
    int32_t cons;   /* index in ctx->cons_sets, -1 none */
};

struct bsch_check_ctx {
    struct bsch_run *r;
    struct bsch_checks *c;
    struct bsch_names node_names;
    struct bsch_cnode *nodes;
    size_t cap_nodes;
    struct bsch_names label_sets, cons_sets;
    json_t **label_objs, **cons_objs;
    size_t cap_labels, cap_cons;
    struct bsch_cpod *pods;   /* by run pod index */
    bool *present;
};

/* ---- quantities ------------------------------------------------------- */

long long bsch_quantity_milli(const char *s)
{
    static const struct {
        const char *suffix;
        long double mult;
    } units[] = {{"", 1},         {"m", 1e-3L},         {"u", 1e-6L},         {"n", 1e-9L},
                 {"k", 1e3L},     {"M", 1e6L},          {"G", 1e9L},          {"T", 1e12L},
                 {"P", 1e15L},    {"E", 1e18L},         {"Ki", 1024.0L},      {"Mi", 1048576.0L},
                 {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L},
                 {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L}};
    if (!s || !((*s >= '0' && *s <= '9') || *s == '.') || strpbrk(s, "xX"))
        return -1; /* no sign, inf, nan or hex */
    char *end;
    errno = 0;
    long double v = strtold(s, &end);
    if (end == s || errno != 0 || !isfinite((double)v) || v < 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].suffix) == 0) {
            long double m = ceill(v * units[i].mult * 1000.0L);
            return m > 9e18L ? -1 : (long long)m;
        }
    return -1;
}

/* A quantity that may be a JSON string or number; 0 if absent. */
static long long bsch_qty(const json_t *v)
{
    if (json_is_number(v))
        return (long long)ceil(json_number_value(v) * 1000.0);
    long long q = bsch_quantity_milli(json_string_value(v));
    return q < 0 ? 0 : q;
}

/* ---- matching --------------------------------------------------------- */

static const char *bsch_label(const json_t *labels, const char *key)
{
    return json_string_value(json_object_get(labels, key));
}

static bool bsch_in_values(const json_t *values, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(values, i, x)
    {
        const char *s = json_string_value(x);
        if (s && v && strcmp(s, v) == 0)
            return true;
    }
    return false;
}

/* One requirement {key, operator, values} against labels. */
static bool bsch_requirement_match(const json_t *labels, const json_t *req)
{
    const char *key = json_string_value(json_object_get(req, "key"));
    const char *op = json_string_value(json_object_get(req, "operator"));
    const json_t *values = json_object_get(req, "values");
    const char *v = key ? bsch_label(labels, key) : NULL;
    if (!op)
        return false;
    if (strcmp(op, "In") == 0)
        return v && bsch_in_values(values, v);
    if (strcmp(op, "NotIn") == 0)
        return !v || !bsch_in_values(values, v);
    if (strcmp(op, "Exists") == 0)
        return v != NULL;
    if (strcmp(op, "DoesNotExist") == 0)
        return v == NULL;
    if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
        const char *lim = json_string_value(json_array_get(values, 0));
        if (!v || !lim)
            return false;
        long long a = strtoll(v, NULL, 10), b = strtoll(lim, NULL, 10);
        return op[0] == 'G' ? a > b : a < b;
    }
    return false;
}

static bool bsch_requirements_match(const json_t *labels, const json_t *reqs)
{
    size_t i;
    json_t *req;
    json_array_foreach(reqs, i, req) if (!bsch_requirement_match(labels, req)) return false;
    return true;
}

/* A LabelSelector {matchLabels, matchExpressions}; an empty one matches all. */
static bool bsch_selector_match(const json_t *labels, const json_t *sel)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(sel, "matchLabels"), k, v)
    {
        const char *have = bsch_label(labels, k);
        if (!have || !json_string_value(v) || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    return bsch_requirements_match(labels, json_object_get(sel, "matchExpressions"));
}

/* nodeSelector and required node affinity against a node's labels. */
static bool bsch_node_selected(const json_t *cons, const json_t *labels, const char *node_name)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(cons, "nodeSelector"), k, v)
    {
        const char *have = bsch_label(labels, k);
        if (!have || !json_string_value(v) || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    json_t *req = json_object_get(
        json_object_get(json_object_get(json_object_get(cons, "affinity"), "nodeAffinity"),
                        "requiredDuringSchedulingIgnoredDuringExecution"),
        "nodeSelectorTerms");
    if (json_array_size(req) == 0)
        return true;
    size_t i;
    json_t *term;
    json_array_foreach(req, i, term)
    {
        json_t *fields = json_object_get(term, "matchFields");
        json_t *meta = json_pack("{s:s}", "metadata.name", node_name);
        bool ok = bsch_requirements_match(labels, json_object_get(term, "matchExpressions")) &&
                  bsch_requirements_match(meta, fields);
        json_decref(meta);
        if (ok)
            return true;
    }
    return false;
}

static bool bsch_tolerates(const json_t *tols, const json_t *taint)
{
    const char *tkey = json_string_value(json_object_get(taint, "key"));
    const char *tval = json_string_value(json_object_get(taint, "value"));
    const char *teff = json_string_value(json_object_get(taint, "effect"));
    size_t i;
    json_t *tol;
    json_array_foreach(tols, i, tol)
    {
        const char *key = json_string_value(json_object_get(tol, "key"));
        const char *op = json_string_value(json_object_get(tol, "operator"));
        const char *val = json_string_value(json_object_get(tol, "value"));
        const char *eff = json_string_value(json_object_get(tol, "effect"));
        bool exists = op && strcmp(op, "Exists") == 0;
        if (eff && *eff && (!teff || strcmp(eff, teff) != 0))
            continue;
        if (key && *key && (!tkey || strcmp(key, tkey) != 0))
            continue;
        if ((!key || !*key) && !exists)
            continue;
        if (exists || strcmp(val ? val : "", tval ? tval : "") == 0)
            return true;
    }
    return false;
}

/* The first NoSchedule/NoExecute taint of the node the pod does not tolerate. */
static const json_t *bsch_untolerated(const json_t *cons, const json_t *taints)
{
    size_t i;
    json_t *t;
    json_array_foreach(taints, i, t)
    {
        const char *eff = json_string_value(json_object_get(t, "effect"));
        if (!eff || (strcmp(eff, "NoSchedule") != 0 && strcmp(eff, "NoExecute") != 0))
            continue;
        if (!bsch_tolerates(json_object_get(cons, "tolerations"), t))
            return t;
    }
    return NULL;
}

/* ---- the context ------------------------------------------------------ */

static void bsch_violation(struct bsch_check_ctx *x, long long *counter, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void bsch_violation(struct bsch_check_ctx *x, long long *counter, const char *fmt, ...)
{
    (*counter)++;
    if (x->c->example[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->c->example, sizeof x->c->example, fmt, ap);
    va_end(ap);
}

/* Interns the canonical form of v (NULL: an empty object) in t; new sets
 * keep a copy in *objs. Returns the id. */
static int bsch_set_intern(struct bsch_names *t, json_t ***objs, size_t *cap, json_t *v)
{
    json_t *empty = v ? NULL : json_object();
    char *s = json_dumps(v ? v : empty, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(empty);
    size_t before = t->n;
    int id = bsch_names_intern(t, s, strlen(s));
    if (t->n > before) {
        if (t->n > *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *objs = xrealloc(*objs, *cap * sizeof **objs);
        }
        (*objs)[id] = v ? json_deep_copy(v) : json_object();
    }
    free(s);
    return id;
}

/* One page: the first server that answers (a 410 is an answer). */
static json_t *bsch_list_page(struct bsch_check_ctx *x, const char *path, int *status)
{
    *status = 0;
    for (int i = 0; i < x->r->n_servers; i++) {
        struct httpc *h = httpc_new(x->r->servers[i]);
        struct httpc_response resp = {0};
        *status = h ? bench_http_call(h, "GET", path, NULL, NULL, NULL, BSCH_CHECK_TIMEOUT_MS,
                                      &resp)
                    : 0;
        json_t *v = *status == 200 && resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL)
                                                 : NULL;
        if (*status)
            httpc_response_free(&resp);
        if (h)
            httpc_free(h);
        if (v || (*status != 0 && *status < 500))
            return v;
    }
    return NULL;
}

/* Every page of a LIST; fn is called for each item. A list whose continue
 * token expires (410: the change log moved on) starts over after reset
 * (if not NULL) forgets what its items did. -1 if a page failed. */
static int bsch_list_each(struct bsch_check_ctx *x, const char *base,
                          void (*fn)(struct bsch_check_ctx *x, json_t *item),
                          void (*reset)(struct bsch_check_ctx *x))
{
    char path[1024], cont[512] = "";
    int status, restarts = 0;
    /* Not do-while: a restart `continue`s with an empty token, which a
     * do-while condition would take for the end of the list. */
    for (;;) {
        snprintf(path, sizeof path, "%s%slimit=%d%s%s", base, strchr(base, '?') ? "&" : "?",
                 BSCH_CHECK_PAGE, *cont ? "&continue=" : "", cont);
        json_t *list = bsch_list_page(x, path, &status), *item;
        if (!list && status == 410 && *cont && restarts++ < BSCH_CHECK_RESTARTS) {
            cont[0] = '\0';
            if (reset)
                reset(x);
            continue;
        }
        if (!list) {
            bsch_say("checks: cannot list %s: %s %d", base, status ? "HTTP" : "no answer", status);
            return -1;
        }
        const char *c = json_string_value(
            json_object_get(json_object_get(list, "metadata"), "continue"));
        snprintf(cont, sizeof cont, "%s", c ? c : "");
        size_t i;
        json_array_foreach(json_object_get(list, "items"), i, item) fn(x, item);
        json_decref(list);
        if (!*cont)
            return 0;
    }
}

static void bsch_node_take(struct bsch_check_ctx *x, json_t *node)
{
    json_t *md = json_object_get(node, "metadata"), *st = json_object_get(node, "status");
    const char *name = json_string_value(json_object_get(md, "name"));
    if (!name)
        return;
    size_t before = x->node_names.n;
    int id = bsch_names_intern(&x->node_names, name, strlen(name));
    if (x->node_names.n == before)
        return;
    if ((size_t)id >= x->cap_nodes) {
        x->cap_nodes = x->cap_nodes ? x->cap_nodes * 2 : 1024;
        x->nodes = xrealloc(x->nodes, x->cap_nodes * sizeof *x->nodes);
    }
    json_t *alloc = json_object_get(st, "allocatable");
    if (!json_is_object(alloc))
        alloc = json_object_get(st, "capacity");
    json_t *labels = json_object_get(md, "labels"), *taints;
    taints = json_object_get(json_object_get(node, "spec"), "taints");
    x->nodes[id] = (struct bsch_cnode){
        .labels = labels ? json_deep_copy(labels) : json_object(),
        .taints = taints ? json_deep_copy(taints) : json_array(),
        .cpu = bsch_qty(json_object_get(alloc, "cpu")),
        .mem = bsch_qty(json_object_get(alloc, "memory")),
        .pods = bsch_qty(json_object_get(alloc, "pods")) / 1000,
    };
    x->c->nodes_seen++;
}

/* Requests of one pod: containers summed, the largest init container if
 * larger, plus overhead. */
static void bsch_pod_requests(const json_t *spec, long long *cpu, long long *mem)
{
    long long c = 0, m = 0, ic = 0, im = 0;
    size_t i;
    json_t *ctr;
    json_array_foreach(json_object_get(spec, "containers"), i, ctr)
    {
        json_t *req = json_object_get(json_object_get(ctr, "resources"), "requests");
        c += bsch_qty(json_object_get(req, "cpu"));
        m += bsch_qty(json_object_get(req, "memory"));
    }
    json_array_foreach(json_object_get(spec, "initContainers"), i, ctr)
    {
        json_t *req = json_object_get(json_object_get(ctr, "resources"), "requests");
        long long a = bsch_qty(json_object_get(req, "cpu"));
        long long b = bsch_qty(json_object_get(req, "memory"));
        ic = a > ic ? a : ic;
        im = b > im ? b : im;
    }
    json_t *over = json_object_get(spec, "overhead");
    *cpu = (c > ic ? c : ic) + bsch_qty(json_object_get(over, "cpu"));
    *mem = (m > im ? m : im) + bsch_qty(json_object_get(over, "memory"));
}

/* The pod's scheduling constraints, as one object to intern. */
static json_t *bsch_pod_constraints(const json_t *spec)
{
    static const char *const keys[] = {"nodeSelector", "affinity", "tolerations",
                                       "topologySpreadConstraints"};
    json_t *cons = json_object();
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(spec, keys[i]);
        if (v)
            json_object_set(cons, keys[i], v);
    }
    return cons;
}

/* Checks what can be checked of one pod alone against its node. */
static void bsch_pod_check_node(struct bsch_check_ctx *x, const char *name, const char *node,
                                int nid, const json_t *spec, const json_t *status)
{
    struct bsch_checks *c = x->c;
    if (nid < 0) {
        bsch_violation(x, &c->missing_node, "pod %s is bound to node %s, which does not exist",
                       name, node);
        return;
    }
    struct bsch_cnode *n = &x->nodes[nid];
    json_t *cons = bsch_pod_constraints(spec);
    if (!bsch_node_selected(cons, n->labels, node))
        bsch_violation(x, &c->selector, "pod %s is on node %s, whose labels its nodeSelector or "
                       "required node affinity excludes", name, node);
    const json_t *t = bsch_untolerated(cons, n->taints);
    if (t)
        bsch_violation(x, &c->taints, "pod %s is on node %s without tolerating its taint %s:%s",
                       name, node, json_string_value(json_object_get(t, "key")),
                       json_string_value(json_object_get(t, "effect")));
    json_decref(cons);
    const char *phase = json_string_value(json_object_get(status, "phase"));
    if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
        return; /* terminated pods hold no resources */
    long long cpu, mem;
    bsch_pod_requests(spec, &cpu, &mem);
    n->used_cpu += cpu;
    n->used_mem += mem;
    n->used_pods++;
}

/* A pod of another namespace, or not of this run: it only uses its node. */
static void bsch_pod_usage(struct bsch_check_ctx *x, const json_t *spec, const json_t *status)
{
    const char *node = json_string_value(json_object_get(spec, "nodeName"));
    int nid = node ? bsch_names_find(&x->node_names, node, strlen(node)) : -1;
    const char *phase = json_string_value(json_object_get(status, "phase"));
    if (nid < 0 || (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)))
        return;
    long long cpu, mem;
    bsch_pod_requests(spec, &cpu, &mem);
    x->nodes[nid].used_cpu += cpu;
    x->nodes[nid].used_mem += mem;
    x->nodes[nid].used_pods++;
}

/* Forgets what a partial pods list counted, to list them again. */
static void bsch_pods_reset(struct bsch_check_ctx *x)
{
    struct bsch_checks *c = x->c;
    for (size_t i = 0; i < x->node_names.n; i++)
        x->nodes[i].used_cpu = x->nodes[i].used_mem = x->nodes[i].used_pods = 0;
    for (long long i = 0; i < x->r->n_pods; i++) {
        x->present[i] = false;
        x->pods[i] = (struct bsch_cpod){.node = -1, .labels = 0, .cons = -1};
    }
    c->pods_seen = c->unbound = c->watch_mismatch = c->missing_node = c->selector = c->taints = 0;
    c->example[0] = '\0';
}

static void bsch_pod_take(struct bsch_check_ctx *x, json_t *pod)
{
    struct bsch_run *r = x->r;
    json_t *md = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    long long i = name && ns && strcmp(ns, r->o->ns) == 0 ? bsch_pod_index(r, name, strlen(name))
                                                          : -1;
    if (i >= 0 && x->present[i])
        return;
    if (i < 0) {
        bsch_pod_usage(x, spec, json_object_get(pod, "status"));
        return;
    }
    x->present[i] = true;
    x->c->pods_seen++;
    const char *node = json_string_value(json_object_get(spec, "nodeName"));
    struct bsch_cpod *cp = &x->pods[i];
    json_t *cons = bsch_pod_constraints(spec);
    cp->labels = bsch_set_intern(&x->label_sets, &x->label_objs, &x->cap_labels,
                                 json_object_get(md, "labels"));
    cp->cons = json_object_size(cons)
                   ? bsch_set_intern(&x->cons_sets, &x->cons_objs, &x->cap_cons, cons)
                   : -1;
    json_decref(cons);
    const struct bsch_pod *p = &r->pods[i];
    const char *seen = p->node >= 0 ? r->nodes.names[p->node] : NULL;
    if (!node || !*node) {
        bsch_violation(x, &x->c->unbound, "pod %s was never bound", name);
        return;
    }
    if (!seen || strcmp(seen, node) != 0)
        bsch_violation(x, &x->c->watch_mismatch, "pod %s is bound to %s, but the watch saw %s",
                       name, node, seen ? seen : "no binding");
    cp->node = bsch_names_find(&x->node_names, node, strlen(node));
    bsch_pod_check_node(x, name, node, cp->node, spec, json_object_get(pod, "status"));
}

/* ---- checks over all pods --------------------------------------------- */

static void bsch_check_overcommit(struct bsch_check_ctx *x)
{
    for (size_t i = 0; i < x->node_names.n; i++) {
        const struct bsch_cnode *n = &x->nodes[i];
        if (n->used_cpu <= n->cpu && n->used_mem <= n->mem && n->used_pods <= n->pods)
            continue;
        bsch_violation(x, &x->c->overcommitted,
                       "node %s is over-committed: cpu %lldm of %lldm, memory %lld of %lld "
                       "bytes, %lld pods of %lld",
                       x->node_names.names[i], n->used_cpu, n->cpu, n->used_mem / 1000,
                       n->mem / 1000, n->used_pods, n->pods);
    }
}

/* Pods by node: order[start[n] .. start[n+1]) are the pods on node n. */
static void bsch_pods_by_node(struct bsch_check_ctx *x, long long **order, size_t **start)
{
    size_t nn = x->node_names.n;
    *start = xcalloc(nn + 2, sizeof **start);
    for (long long i = 0; i < x->r->n_pods; i++)
        if (x->present[i] && x->pods[i].node >= 0)
            (*start)[x->pods[i].node + 2]++;
    for (size_t k = 2; k < nn + 2; k++)
        (*start)[k] += (*start)[k - 1];
    *order = xmalloc(((*start)[nn + 1] + 1) * sizeof **order);
    for (long long i = 0; i < x->r->n_pods; i++)
        if (x->present[i] && x->pods[i].node >= 0)
            (*order)[(*start)[x->pods[i].node + 1]++] = i;
}

static void bsch_check_anti_affinity(struct bsch_check_ctx *x)
{
    long long *order;
    size_t *start;
    bsch_pods_by_node(x, &order, &start);
    for (size_t n = 0; n < x->node_names.n; n++)
        for (size_t a = start[n]; a < start[n + 1]; a++) {
            const struct bsch_cpod *p = &x->pods[order[a]];
            json_t *terms = p->cons < 0 ? NULL : json_object_get(json_object_get(json_object_get(
                x->cons_objs[p->cons], "affinity"), "podAntiAffinity"),
                "requiredDuringSchedulingIgnoredDuringExecution");
            size_t k;
            json_t *term;
            json_array_foreach(terms, k, term)
            {
                const char *key = json_string_value(json_object_get(term, "topologyKey"));
                if (!key || strcmp(key, "kubernetes.io/hostname") != 0)
                    continue;
                json_t *sel = json_object_get(term, "labelSelector");
                for (size_t b = start[n]; b < start[n + 1]; b++) {
                    const json_t *labels = x->label_objs[x->pods[order[b]].labels];
                    if (b == a || !bsch_selector_match(labels, sel))
                        continue;
                    char pa[32], pb[32];
                    bsch_pod_name(x->r, order[a], pa, sizeof pa);
                    bsch_pod_name(x->r, order[b], pb, sizeof pb);
                    bsch_violation(x, &x->c->anti_affinity, "pods %s and %s are both on node %s, "
                                   "but %s's anti-affinity excludes that", pa, pb,
                                   x->node_names.names[n], pa);
                    break;
                }
            }
        }
    free(order);
    free(start);
}

/* One spread constraint: counts per domain of the matching pods. */
static void bsch_check_one_spread(struct bsch_check_ctx *x, const json_t *tsc)
{
    const char *key = json_string_value(json_object_get(tsc, "topologyKey"));
    const char *when = json_string_value(json_object_get(tsc, "whenUnsatisfiable"));
    long long skew = json_integer_value(json_object_get(tsc, "maxSkew"));
    if (!key || (when && strcmp(when, "DoNotSchedule") != 0) || skew < 1)
        return;
    json_t *sel = json_object_get(tsc, "labelSelector");
    struct bsch_names domains = {0};
    int *node_domain = xmalloc((x->node_names.n + 1) * sizeof *node_domain);
    for (size_t n = 0; n < x->node_names.n; n++) {
        const char *v = bsch_label(x->nodes[n].labels, key);
        node_domain[n] = v ? bsch_names_intern(&domains, v, strlen(v)) : -1;
    }
    long long *count = xcalloc(domains.n + 1, sizeof *count);
    signed char *match = xcalloc(x->label_sets.n + 1, 1); /* 0 unknown, 1 yes, 2 no */
    for (long long i = 0; i < x->r->n_pods; i++) {
        const struct bsch_cpod *p = &x->pods[i];
        if (!x->present[i] || p->node < 0 || node_domain[p->node] < 0)
            continue;
        if (!match[p->labels])
            match[p->labels] = bsch_selector_match(x->label_objs[p->labels], sel) ? 1 : 2;
        if (match[p->labels] == 1)
            count[node_domain[p->node]]++;
    }
    long long lo = -1, hi = 0;
    for (size_t d = 0; d < domains.n; d++) {
        lo = lo < 0 || count[d] < lo ? count[d] : lo;
        hi = count[d] > hi ? count[d] : hi;
    }
    if (domains.n > 0 && hi - lo > skew) {
        char *s = json_dumps(sel, JSON_COMPACT | JSON_SORT_KEYS);
        bsch_violation(x, &x->c->spread, "pods selected by %s are spread over %s with skew %lld "
                       "(%lld to %lld), over maxSkew %lld", s ? s : "?", key, hi - lo, lo, hi,
                       skew);
        free(s);
    }
    free(match);
    free(count);
    free(node_domain);
    bsch_names_free(&domains);
}

static void bsch_check_spread(struct bsch_check_ctx *x)
{
    for (size_t k = 0; k < x->cons_sets.n; k++) {
        size_t i;
        json_t *tsc;
        json_array_foreach(json_object_get(x->cons_objs[k], "topologySpreadConstraints"), i, tsc)
            bsch_check_one_spread(x, tsc);
    }
}

/* Created pods the final list lacks and the watch never saw deleted, and
 * pods whose node changed in the watch. */
static void bsch_check_watch_record(struct bsch_check_ctx *x)
{
    for (long long i = 0; i < x->r->n_pods; i++) {
        const struct bsch_pod *p = &x->r->pods[i];
        char name[32];
        bsch_pod_name(x->r, i, name, sizeof name);
        if (p->rebinds)
            bsch_violation(x, &x->c->rebound, "pod %s changed node %d time(s) after binding",
                           name, p->rebinds);
        if (!x->present[i] && atomic_load(&p->status) == 201 && !atomic_load(&p->deleted))
            bsch_violation(x, &x->c->unbound, "pod %s was created but is gone, and the watch "
                           "did not see it deleted", name);
    }
}

static void bsch_check_ctx_free(struct bsch_check_ctx *x)
{
    for (size_t i = 0; i < x->node_names.n; i++) {
        json_decref(x->nodes[i].labels);
        json_decref(x->nodes[i].taints);
    }
    for (size_t i = 0; i < x->label_sets.n; i++)
        json_decref(x->label_objs[i]);
    for (size_t i = 0; i < x->cons_sets.n; i++)
        json_decref(x->cons_objs[i]);
    free(x->nodes);
    free(x->label_objs);
    free(x->cons_objs);
    free(x->pods);
    free(x->present);
    bsch_names_free(&x->node_names);
    bsch_names_free(&x->label_sets);
    bsch_names_free(&x->cons_sets);
}

void bsch_checks_run(struct bsch_run *r, struct bsch_checks *c)
{
    *c = (struct bsch_checks){0};
    struct bsch_check_ctx x = {.r = r, .c = c};
    x.pods = xcalloc((size_t)r->n_pods, sizeof *x.pods);
    x.present = xcalloc((size_t)r->n_pods, sizeof *x.present);
    for (long long i = 0; i < r->n_pods; i++)
        x.pods[i] = (struct bsch_cpod){.node = -1, .labels = 0, .cons = -1};
    if (bsch_list_each(&x, "/api/v1/nodes", bsch_node_take, NULL) == 0 &&
        bsch_list_each(&x, "/api/v1/pods", bsch_pod_take, bsch_pods_reset) == 0) {
        c->ran = true;
        bsch_check_watch_record(&x);
        bsch_check_overcommit(&x);
        bsch_check_anti_affinity(&x);
        bsch_check_spread(&x);
    }
    bsch_check_ctx_free(&x);
}

bool bsch_checks_ok(const struct bsch_checks *c)
{
    return c->ran && c->unbound == 0 && c->rebound == 0 && c->missing_node == 0 &&
           c->overcommitted == 0 && c->selector == 0 && c->taints == 0 && c->anti_affinity == 0 &&
           c->spread == 0 && c->watch_mismatch == 0;
}
