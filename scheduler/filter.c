/* filter.c — which nodes can take a pod, with Kubernetes' filters and its
 * words for why not.
 *
 * The filters, in kube-scheduler's order, each a plugin there:
 * NodeUnschedulable (cordon), TaintToleration (NoSchedule and NoExecute;
 * a node that is not Ready counts as tainted node.kubernetes.io/not-ready,
 * as the node lifecycle controller would taint it), NodeAffinity
 * (nodeSelector and required node affinity: In, NotIn, Exists,
 * DoesNotExist, Gt, Lt, and matchFields on metadata.name), NodePorts,
 * NodeResourcesFit (cpu, memory, pod count; requests only, a pod without
 * requests asks for nothing), InterPodAffinity's required anti-affinity
 * (the pod's own terms, and existing pods' terms against it, on any
 * topology key) and required affinity (a node in a domain holding a pod
 * each term selects; the first pod of a group that selects itself may go
 * anywhere), and PodTopologySpread's DoNotSchedule constraints. A node
 * fails at its first failing filter; the reasons are counted over the
 * nodes into kube-scheduler's message, "0/5 nodes are available: 3
 * Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
 *
 * How many nodes are examined: like kube-scheduler, the search stops once
 * it has found sched_feasible_wanted() feasible nodes: all of them below
 * 100 nodes, else percentageOfNodesToScore of them (adaptive by default:
 * 50% minus 1% per 125 nodes, at least 5%) but at least 100; and the next
 * search starts where this one stopped, so every node gets its turn.
 *
 * Anti-affinity and spread constraints need the pods that match a selector
 * anywhere in the cluster: they are gathered once per decision, before the
 * node loop, through the indexes of index.c. A namespaceSelector in a pod
 * affinity term cannot be evaluated without namespace labels here; it is
 * taken to cover every namespace (for anti-affinity: the safe side). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched_internal.h"

#define R_UNSCHEDULABLE "node(s) were unschedulable"
#define R_AFFINITY "node(s) didn't match Pod's node affinity/selector"
#define R_PORTS "node(s) didn't have free ports for the requested pod ports"
#define R_ANTI "node(s) didn't match pod anti-affinity rules"
#define R_ANTI_EXISTING "node(s) didn't satisfy existing pods anti-affinity rules"
#define R_POD_AFFINITY "node(s) didn't match pod affinity rules"
#define R_SPREAD "node(s) didn't match pod topology spread constraints"
#define R_SPREAD_LABEL "node(s) didn't match pod topology spread constraints (missing required label)"

unsigned sched_feasible_wanted(unsigned n, unsigned percentage)
{
    if (n < 100)
        return n;
    unsigned pct = percentage;
    if (!pct) {
        int adaptive = 50 - (int)(n / 125);
        pct = adaptive < 5 ? 5 : (unsigned)adaptive;
    }
    if (pct >= 100)
        return n;
    unsigned want = (unsigned)((uint64_t)n * pct / 100);
    return want < 100 ? 100 : want;
}

/* ---- reasons ---- */

#define MAX_REASONS 24

struct reasons {
    struct {
        char text[192];
        unsigned n;
    } r[MAX_REASONS];
    unsigned k;
};

static void reason_add(struct reasons *rs, const char *text)
{
    for (unsigned i = 0; i < rs->k; i++)
        if (strcmp(rs->r[i].text, text) == 0) {
            rs->r[i].n++;
            return;
        }
    if (rs->k == MAX_REASONS)
        return;
    snprintf(rs->r[rs->k].text, sizeof rs->r[0].text, "%s", text);
    rs->r[rs->k++].n = 1;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "0/N nodes are available: 1 Insufficient cpu, 2 ...": kube-scheduler's
 * FitError prints each reason with its count and sorts those strings. */
static void reasons_message(struct reasons *rs, unsigned n_nodes, char *buf, size_t len)
{
    char parts[MAX_REASONS][208], *sorted[MAX_REASONS];
    for (unsigned i = 0; i < rs->k; i++) {
        snprintf(parts[i], sizeof parts[i], "%u %s", rs->r[i].n, rs->r[i].text);
        sorted[i] = parts[i];
    }
    qsort(sorted, rs->k, sizeof sorted[0], str_cmp);
    size_t o = (size_t)snprintf(buf, len, "0/%u nodes are available", n_nodes);
    for (unsigned i = 0; i < rs->k && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s %s", i ? "," : ":", sorted[i]);
    if (o < len)
        snprintf(buf + o, len - o, ".");
}

/* ---- tolerations and taints ---- */

bool sched_tolerates(json_t *tolerations, const struct sched_taint *t)
{
    static const char *effects[] = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"};
    json_t *tol;
    size_t i;
    json_array_foreach(tolerations, i, tol) if (kube_toleration_matches(tol, t->key, t->value,
                                                                        effects[t->effect]))
        return true;
    return false;
}

static const struct sched_taint not_ready_taint = {(char *)"node.kubernetes.io/not-ready",
                                                   (char *)"", SCHED_NO_SCHEDULE};
static const struct sched_taint unschedulable_taint = {(char *)"node.kubernetes.io/unschedulable",
                                                       (char *)"", SCHED_NO_SCHEDULE};

/* The first NoSchedule/NoExecute taint the pod does not tolerate. */
static const struct sched_taint *untolerated(json_t *tols, const struct sched_node *n)
{
    for (unsigned i = 0; i < n->n_taints; i++)
        if (n->taints[i].effect != SCHED_PREFER_NO_SCHEDULE && !sched_tolerates(tols, &n->taints[i]))
            return &n->taints[i];
    if (!n->ready && !sched_tolerates(tols, &not_ready_taint))
        return &not_ready_taint;
    return NULL;
}

/* ---- node affinity ---- */


/* A NodeSelectorTerm: every expression and field requirement holds; a term
 * with none matches nothing. */
bool sched_node_term_match(json_t *term, const struct sched_node *n)
{
    json_t *exprs = json_object_get(term, "matchExpressions");
    json_t *fields = json_object_get(term, "matchFields"), *r;
    size_t i;
    if (!json_array_size(exprs) && !json_array_size(fields))
        return false;
    json_array_foreach(exprs, i, r) if (!kube_node_requirement_match(r, sched_node_label(n, sched_str(r, "key"))))
        return false;
    json_array_foreach(fields, i, r) {
        if (strcmp(sched_str(r, "key"), "metadata.name") != 0 ||
            !kube_node_requirement_match(r, n->name))
            return false;
    }
    return true;
}

bool sched_node_affinity_match(json_t *pod, const struct sched_node *n)
{
    json_t *spec = json_object_get(pod, "spec");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(spec, "nodeSelector"), k, v) {
        const char *have = sched_node_label(n, k);
        if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    json_t *req = json_object_get(json_object_get(json_object_get(spec, "affinity"),
                                                  "nodeAffinity"),
                                  "requiredDuringSchedulingIgnoredDuringExecution");
    if (!json_is_object(req))
        return true;
    json_t *term;
    size_t i;
    json_array_foreach(json_object_get(req, "nodeSelectorTerms"), i, term)
        if (sched_node_term_match(term, n))
            return true;
    return false;
}

/* ---- host ports ---- */

static bool ports_conflict(const struct sched_port *a, const struct sched_port *b)
{
    if (a->port != b->port || strcmp(a->proto, b->proto) != 0)
        return false;
    bool any_a = !*a->ip || strcmp(a->ip, "0.0.0.0") == 0;
    bool any_b = !*b->ip || strcmp(b->ip, "0.0.0.0") == 0;
    return any_a || any_b || strcmp(a->ip, b->ip) == 0;
}

static bool ports_free(const struct sched_pod *p, const struct sched_node *n)
{
    for (unsigned i = 0; i < p->n_ports; i++)
        for (unsigned j = 0; j < n->n_pods; j++)
            for (unsigned k = 0; k < n->pods[j]->n_ports; k++)
                if (ports_conflict(&p->ports[i], &n->pods[j]->ports[k]))
                    return false;
    return true;
}

/* ---- topology domains: (key, value) sets and counts ---- */

/* Domains as "key=value" strings; keys listed separately so a node is
 * checked with one lookup per key. */
struct domains {
    struct umap set; /* "key=value" -> 1 + count (a pointer-sized integer; never NULL) */
    char *keys[8];
    unsigned n_keys;
};

static void domain_key(char *buf, size_t len, const char *key, const char *value)
{
    snprintf(buf, len, "%s=%s", key, value);
}

static void domains_add(struct domains *d, const char *key, const char *value, long delta)
{
    char k[512];
    domain_key(k, sizeof k, key, value);
    uintptr_t n = (uintptr_t)umap_get(&d->set, k);
    umap_put(&d->set, k, (void *)((n ? n : 1) + (uintptr_t)delta));
    for (unsigned i = 0; i < d->n_keys; i++)
        if (strcmp(d->keys[i], key) == 0)
            return;
    if (d->n_keys < 8)
        d->keys[d->n_keys++] = xstrdup(key);
}

/* The count of a domain; -1 if it was never added. */
static long domains_count(const struct domains *d, const char *key, const char *value)
{
    char k[512];
    domain_key(k, sizeof k, key, value);
    return (long)(uintptr_t)umap_get(&d->set, k) - 1;
}

/* True if n lies in one of the domains. */
static bool domains_hit(const struct domains *d, const struct sched_node *n)
{
    for (unsigned i = 0; i < d->n_keys; i++) {
        const char *v = sched_node_label(n, d->keys[i]);
        if (v && domains_count(d, d->keys[i], v) > 0)
            return true;
    }
    return false;
}

static void domains_free(struct domains *d)
{
    umap_free(&d->set);
    for (unsigned i = 0; i < d->n_keys; i++)
        free(d->keys[i]);
}

struct each_ctx {
    struct sched_pod *p;
    sched_pod_fn fn;
    void *arg;
};

static void each_other(void *arg, struct sched_pod *q)
{
    struct each_ctx *ec = arg;
    if (q != ec->p)
        ec->fn(ec->arg, q);
}

void sched_term_each(struct sched_cache *c, struct sched_pod *p, json_t *term, sched_pod_fn fn,
                     void *arg)
{
    json_t *ls = json_object_get(term, "labelSelector"), *x;
    size_t j;
    if (!json_is_object(ls)) /* a nil selector selects nothing */
        return;
    char err[128];
    struct kube_selector *sel = kube_selector_from_json(ls, err, sizeof err);
    if (!sel)
        return;
    struct each_ctx ec = {p, fn, arg};
    json_t *nss = json_object_get(term, "namespaces");
    if (json_array_size(nss)) {
        json_array_foreach(nss, j, x) if (json_is_string(x))
            sched_each_selected(c, json_string_value(x), ls, sel, each_other, &ec);
    } else {
        bool all = json_is_object(json_object_get(term, "namespaceSelector"));
        sched_each_selected(c, all ? NULL : p->ns, ls, sel, each_other, &ec);
    }
    kube_selector_free(sel);
}

struct domain_ctx {
    const char *key;
    struct domains *out;
};

static void domain_one(void *arg, struct sched_pod *q)
{
    struct domain_ctx *dc = arg;
    const char *dv = sched_node_label(q->node, dc->key);
    if (dv)
        domains_add(dc->out, dc->key, dv, 1);
}

/* The domains (the term's topologyKey = value) of the counted pods, other
 * than p, that a pod affinity term of p selects. */
static void term_domains(struct sched_cache *c, struct sched_pod *p, json_t *term,
                         struct domains *out)
{
    struct domain_ctx dc = {sched_str(term, "topologyKey"), out};
    if (*dc.key)
        sched_term_each(c, p, term, domain_one, &dc);
}

/* The pod's own required anti-affinity terms: the domains they forbid. */
static void anti_own(struct sched_cache *c, struct sched_pod *p, struct domains *out)
{
    json_t *term;
    size_t i;
    json_array_foreach(p->anti, i, term)
        term_domains(c, p, term, out);
}

static bool values_contain(json_t *values, const char *v)
{
    json_t *x;
    size_t i;
    json_array_foreach(values, i, x) if (strcmp(json_string_value(x) ? json_string_value(x) : "",
                                                v) == 0) return true;
    return false;
}

/* Whether a term of p selects p itself (its namespaces cover p's). */
static bool term_selects_self(json_t *term, struct sched_pod *p)
{
    json_t *ls = json_object_get(term, "labelSelector"), *nss = json_object_get(term, "namespaces");
    if (!json_is_object(ls) || (json_array_size(nss) && !values_contain(nss, p->ns)))
        return false;
    char err[128];
    struct kube_selector *sel = kube_selector_from_json(ls, err, sizeof err);
    bool m = sel && kube_selector_match(sel, p->labels);
    kube_selector_free(sel);
    return m;
}

static void existing_one(void *arg, const char *key, const char *value)
{
    domains_add(arg, key, value, 1);
}

/* Existing pods' required anti-affinity terms that select this pod
 * (through the anti-affinity groups). */
static void anti_existing(struct sched_cache *c, struct sched_pod *p, struct domains *out)
{
    sched_anti_existing(c, p, existing_one, out);
}

/* ---- topology spread (DoNotSchedule) ---- */

struct spread {
    const char *key;
    long max_skew;
    long min; /* the smallest count over eligible domains */
    bool self; /* the pod matches its own selector */
    struct domains counts;
};

#define SPREAD_FAST 16

/* Counting pods per domain: the first SPREAD_FAST values in an array (the
 * common case: a few zones), the rest straight into the map. */
struct spread_ctx {
    struct spread *s;
    uint32_t stamp;
    const char *vals[SPREAD_FAST];
    long counts[SPREAD_FAST];
    unsigned n;
};

static void spread_one(void *arg, struct sched_pod *q)
{
    struct spread_ctx *sc = arg;
    if (!q->node->present || q->node->stamp != sc->stamp)
        return;
    const char *v = sched_node_label(q->node, sc->s->key);
    unsigned k = 0;
    while (k < sc->n && strcmp(sc->vals[k], v) != 0)
        k++;
    if (k < sc->n) {
        sc->counts[k]++;
    } else if (sc->n < SPREAD_FAST) {
        sc->vals[sc->n] = v;
        sc->counts[sc->n++] = 1;
    } else {
        domains_add(&sc->s->counts, sc->s->key, v, 1);
    }
}

/* Counts, per domain of key over the nodes the pod may go to (they have
 * the key and match its node affinity: kube-scheduler's default
 * nodeAffinityPolicy Honor), the pods of its namespace that the constraint
 * selects on those nodes. The eligible nodes are stamped so that each
 * counted pod's node is checked in O(1). */
static bool spread_prepare(struct sched_cache *c, struct sched_pod *p, json_t *con,
                           struct spread *s)
{
    memset(s, 0, sizeof *s);
    s->key = sched_str(con, "topologyKey");
    s->max_skew = (long)json_integer_value(json_object_get(con, "maxSkew"));
    if (!*s->key || s->max_skew < 1)
        return false;
    char err[128];
    json_t *ls = json_object_get(con, "labelSelector");
    struct kube_selector *sel = json_is_object(ls) ? kube_selector_from_json(ls, err, sizeof err)
                                                   : NULL;
    s->self = sel && kube_selector_match(sel, p->labels);
    uint32_t stamp = ++c->stamp;
    /* Domains are few (zones, racks) and nodes many: remember the values
     * already registered and skip the map for them. */
    const char *seen[16];
    unsigned n_seen = 0;
    bool affinity = json_object_size(json_object_get(json_object_get(p->obj, "spec"),
                                                     "nodeSelector")) ||
                    json_object_get(json_object_get(json_object_get(p->obj, "spec"), "affinity"),
                                    "nodeAffinity");
    for (unsigned i = 0; i < c->n_list; i++) {
        const char *v = sched_node_label(c->list[i], s->key);
        if (!v || (affinity && !sched_node_affinity_match(p->obj, c->list[i])))
            continue;
        c->list[i]->stamp = stamp;
        unsigned k = 0;
        while (k < n_seen && strcmp(seen[k], v) != 0)
            k++;
        if (k < n_seen)
            continue;
        domains_add(&s->counts, s->key, v, 0);
        if (n_seen < sizeof seen / sizeof seen[0])
            seen[n_seen++] = v;
    }
    struct spread_ctx sc = {.s = s, .stamp = stamp};
    if (sel)
        sched_each_selected(c, p->ns, ls, sel, spread_one, &sc);
    for (unsigned k = 0; k < sc.n; k++)
        domains_add(&s->counts, s->key, sc.vals[k], sc.counts[k]);
    kube_selector_free(sel);
    s->min = -1;
    size_t it = 0;
    void *v;
    while (umap_next(&s->counts.set, &it, NULL, &v)) {
        long n = (long)(uintptr_t)v - 1;
        if (s->min < 0 || n < s->min)
            s->min = n;
    }
    if (s->min < 0)
        s->min = 0;
    return true;
}

static const char *spread_fails(const struct spread *s, const struct sched_node *n)
{
    const char *v = sched_node_label(n, s->key);
    if (!v)
        return R_SPREAD_LABEL;
    long have = domains_count(&s->counts, s->key, v);
    long skew = (have < 0 ? 0 : have) + (s->self ? 1 : 0) - s->min;
    return skew > s->max_skew ? R_SPREAD : NULL;
}

/* ---- the node loop ---- */

#define MAX_SPREAD 4

#define MAX_POD_AFFINITY 4

struct prep {
    json_t *tols;
    bool has_affinity;
    struct domains anti, anti_ex;
    /* Required pod affinity: per term, the domains holding a pod it selects;
     * aff_anywhere when no pod matches any term but the pod matches all of
     * them itself (the first of a group goes anywhere the keys exist). */
    struct domains aff[MAX_POD_AFFINITY];
    const char *aff_key[MAX_POD_AFFINITY];
    unsigned n_aff;
    bool aff_anywhere;
    struct spread spread[MAX_SPREAD];
    unsigned n_spread;
};

static void prep_init(struct sched_cache *c, struct sched_pod *p, struct prep *pr)
{
    memset(pr, 0, sizeof *pr);
    json_t *spec = json_object_get(p->obj, "spec");
    pr->tols = json_object_get(spec, "tolerations");
    pr->has_affinity = json_object_size(json_object_get(spec, "nodeSelector")) ||
                       json_object_get(json_object_get(spec, "affinity"), "nodeAffinity");
    if (p->anti)
        anti_own(c, p, &pr->anti);
    if (c->anti_groups.n)
        anti_existing(c, p, &pr->anti_ex);
    json_t *con, *term;
    size_t i;
    bool none = true, self = true;
    json_array_foreach(json_object_get(json_object_get(json_object_get(spec, "affinity"),
                                                       "podAffinity"),
                                       "requiredDuringSchedulingIgnoredDuringExecution"),
                       i, term) {
        if (pr->n_aff == MAX_POD_AFFINITY)
            break;
        pr->aff_key[pr->n_aff] = sched_str(term, "topologyKey");
        term_domains(c, p, term, &pr->aff[pr->n_aff]);
        none &= pr->aff[pr->n_aff].set.n == 0;
        self &= term_selects_self(term, p);
        pr->n_aff++;
    }
    pr->aff_anywhere = none && self;
    json_array_foreach(json_object_get(spec, "topologySpreadConstraints"), i, con) {
        if (pr->n_spread == MAX_SPREAD ||
            strcmp(sched_str(con, "whenUnsatisfiable"), "DoNotSchedule") != 0)
            continue;
        if (spread_prepare(c, p, con, &pr->spread[pr->n_spread]))
            pr->n_spread++;
        else
            domains_free(&pr->spread[pr->n_spread].counts);
    }
}

static void prep_free(struct prep *pr)
{
    domains_free(&pr->anti);
    domains_free(&pr->anti_ex);
    for (unsigned i = 0; i < pr->n_aff; i++)
        domains_free(&pr->aff[i]);
    for (unsigned i = 0; i < pr->n_spread; i++)
        domains_free(&pr->spread[i].counts);
}

/* Runs the filters on one node: true if it passes, else the reasons. */
static bool node_passes(struct sched_pod *p, struct prep *pr, struct sched_node *n,
                        struct reasons *rs)
{
    if (n->unschedulable && !sched_tolerates(pr->tols, &unschedulable_taint)) {
        reason_add(rs, R_UNSCHEDULABLE);
        return false;
    }
    const struct sched_taint *t = untolerated(pr->tols, n);
    if (t) {
        char why[192];
        snprintf(why, sizeof why, "node(s) had untolerated taint {%.60s: %.60s}", t->key,
                 t->value);
        reason_add(rs, why);
        return false;
    }
    if (pr->has_affinity && !sched_node_affinity_match(p->obj, n)) {
        reason_add(rs, R_AFFINITY);
        return false;
    }
    if (p->n_ports && !ports_free(p, n)) {
        reason_add(rs, R_PORTS);
        return false;
    }
    bool fit = true;
    if (p->req.cpu_milli > 0 && p->req.cpu_milli > n->alloc_cpu - n->req_cpu) {
        reason_add(rs, "Insufficient cpu");
        fit = false;
    }
    if (p->req.memory > 0 && p->req.memory > n->alloc_mem - n->req_mem) {
        reason_add(rs, "Insufficient memory");
        fit = false;
    }
    if ((int64_t)n->n_pods + 1 > n->alloc_pods) {
        reason_add(rs, "Too many pods");
        fit = false;
    }
    if (!fit)
        return false;
    if (pr->anti.n_keys && domains_hit(&pr->anti, n)) {
        reason_add(rs, R_ANTI);
        return false;
    }
    if (pr->anti_ex.n_keys && domains_hit(&pr->anti_ex, n)) {
        reason_add(rs, R_ANTI_EXISTING);
        return false;
    }
    for (unsigned i = 0; i < pr->n_aff; i++) {
        const char *v = sched_node_label(n, pr->aff_key[i]);
        if (!v || (!pr->aff_anywhere && domains_count(&pr->aff[i], pr->aff_key[i], v) <= 0)) {
            reason_add(rs, R_POD_AFFINITY);
            return false;
        }
    }
    for (unsigned i = 0; i < pr->n_spread; i++) {
        const char *why = spread_fails(&pr->spread[i], n);
        if (why) {
            reason_add(rs, why);
            return false;
        }
    }
    return true;
}

unsigned sched_filter_nodes(struct sched_cache *c, struct sched_pod *p, struct sched_node **out,
                            unsigned max, struct sched_decision *d)
{
    struct prep pr;
    struct reasons rs = {.k = 0};
    unsigned n = c->n_list, want = sched_feasible_wanted(n, c->percentage), found = 0, i;
    if (want > max)
        want = max;
    prep_init(c, p, &pr);
    unsigned start = n ? c->next_start % n : 0;
    for (i = 0; i < n && found < want; i++) {
        struct sched_node *node = c->list[(start + i) % n];
        if (node_passes(p, &pr, node, &rs))
            out[found++] = node;
    }
    c->next_start = n ? (start + i) % n : 0;
    d->n_nodes = n;
    d->n_checked = i;
    d->n_feasible = found;
    d->message[0] = '\0';
    if (!found)
        reasons_message(&rs, n, d->message, sizeof d->message);
    prep_free(&pr);
    return found;
}

struct sched_prep *sched_prep_new(struct sched_cache *c, struct sched_pod *p)
{
    struct prep *pr = xmalloc(sizeof *pr);
    prep_init(c, p, pr);
    return (struct sched_prep *)pr;
}

bool sched_prep_fits(struct sched_prep *prep, struct sched_pod *p, struct sched_node *n)
{
    struct reasons rs = {.k = 0};
    return node_passes(p, (struct prep *)prep, n, &rs);
}

void sched_prep_free(struct sched_prep *prep)
{
    if (!prep)
        return;
    prep_free((struct prep *)prep);
    free(prep);
}

void sched_cache_decide(struct sched_cache *c, struct sched_pod *p, struct sched_decision *d)
{
    assert(p->pending && p->obj && !p->node);
    /* The feasible list lives in the cache and grows with the cluster:
     * no allocation per decision. */
    if (c->cap_feasible < c->n_list || !c->feasible) {
        c->cap_feasible = c->n_list ? c->n_list : 1;
        c->feasible = xrealloc(c->feasible, c->cap_feasible * sizeof *c->feasible);
    }
    unsigned n = sched_filter_nodes(c, p, c->feasible, c->n_list, d);
    d->node = sched_score_pick(c, p, c->feasible, n);
}
