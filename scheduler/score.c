/* score.c — which feasible node is best for a pod: kube-scheduler's
 * default scores, each 0..100, weighted and summed.
 *
 *   NodeResourcesFit, LeastAllocated (weight 1): the mean over cpu and
 *     memory of the share left free after the pod, with non-zero requests.
 *   NodeResourcesBalancedAllocation (weight 1): 100 × (1 − the standard
 *     deviation of the cpu and memory shares requested), so cpu-heavy and
 *     memory-heavy pods pair up.
 *   NodeAffinity (weight 2): the weights of the preferred terms a node
 *     matches, scaled so the best node gets 100.
 *   TaintToleration (weight 3): fewer PreferNoSchedule taints the pod does
 *     not tolerate is better, scaled so the worst node gets 0.
 *   InterPodAffinity (weight 2): for each preferred pod affinity term, its
 *     weight for every pod it selects in the node's topology domain, minus
 *     the same for preferred anti-affinity terms, scaled between the
 *     lowest and the highest candidate.
 *   PodTopologySpread (weight 2): for ScheduleAnyway constraints, fewer
 *     selected pods in the node's domain is better, scaled the same way.
 *   Spreading (weight 2): pods of the same controller (the ownerReference
 *     with controller=true) go where there are fewest of them, on the node
 *     and, with 2/3 of the weight when nodes carry
 *     topology.kubernetes.io/zone, in the zone: the SelectorSpread formula
 *     kube-scheduler used before PodTopologySpread's system defaults.
 *
 * The highest total wins; ties are broken at random (reservoir sampling),
 * as in kube-scheduler's selectHost. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched_internal.h"

#define W_LEAST 1
#define W_BALANCED 1
#define W_AFFINITY 2
#define W_TAINT 3
#define W_SPREAD 2
#define W_POD_AFFINITY 2
#define W_TOPOLOGY_SPREAD 2
#define MAX_PREF 8

/* A preferred pod (anti-)affinity term: its signed weight and, per value
 * of its topology key, how many pods it selects there. */
struct pref {
    const char *key;
    int64_t weight;
    struct umap counts; /* value -> 1 + pods */
};

struct prefs {
    struct pref t[MAX_PREF];
    unsigned n;
};

struct pref_ctx {
    struct pref *t;
};

static void pref_count(void *arg, struct sched_pod *q)
{
    struct pref *t = ((struct pref_ctx *)arg)->t;
    const char *v = sched_node_label(q->node, t->key);
    if (!v)
        return;
    uintptr_t n = (uintptr_t)umap_get(&t->counts, v);
    umap_put(&t->counts, v, (void *)((n ? n : 1) + 1));
}

static void prefs_add(struct sched_cache *c, struct sched_pod *p, json_t *list, int sign,
                      struct prefs *ps)
{
    json_t *w;
    size_t i;
    json_array_foreach(list, i, w) {
        json_t *term = json_object_get(w, "podAffinityTerm");
        const char *key = sched_str(term, "topologyKey");
        if (ps->n == MAX_PREF || !*key)
            continue;
        struct pref *t = &ps->t[ps->n++];
        memset(t, 0, sizeof *t);
        t->key = key;
        t->weight = sign * json_integer_value(json_object_get(w, "weight"));
        struct pref_ctx pc = {t};
        sched_term_each(c, p, term, pref_count, &pc);
    }
}

/* ScheduleAnyway topology spread constraints: like anti-affinity terms of
 * weight 1 on the pods they select in the pod's namespace. */
static void spread_prefs(struct sched_cache *c, struct sched_pod *p, struct prefs *ps)
{
    json_t *con;
    size_t i;
    ps->n = 0;
    json_array_foreach(json_object_get(json_object_get(p->obj, "spec"),
                                       "topologySpreadConstraints"),
                       i, con) {
        const char *key = sched_str(con, "topologyKey");
        if (ps->n == MAX_PREF || !*key ||
            strcmp(sched_str(con, "whenUnsatisfiable"), "ScheduleAnyway") != 0)
            continue;
        struct pref *t = &ps->t[ps->n++];
        memset(t, 0, sizeof *t);
        t->key = key;
        t->weight = -1;
        struct pref_ctx pc = {t};
        sched_term_each(c, p, con, pref_count, &pc);
    }
}

static void prefs_init(struct sched_cache *c, struct sched_pod *p, struct prefs *ps)
{
    json_t *aff = json_object_get(json_object_get(p->obj, "spec"), "affinity");
    const char *pref = "preferredDuringSchedulingIgnoredDuringExecution";
    ps->n = 0;
    prefs_add(c, p, json_object_get(json_object_get(aff, "podAffinity"), pref), 1, ps);
    prefs_add(c, p, json_object_get(json_object_get(aff, "podAntiAffinity"), pref), -1, ps);
}

static void prefs_free(struct prefs *ps)
{
    for (unsigned i = 0; i < ps->n; i++)
        umap_free(&ps->t[i].counts);
}

static int64_t prefs_raw(const struct prefs *ps, const struct sched_node *n)
{
    int64_t s = 0;
    for (unsigned i = 0; i < ps->n; i++) {
        const char *v = sched_node_label(n, ps->t[i].key);
        uintptr_t k = v ? (uintptr_t)umap_get(&ps->t[i].counts, v) : 0;
        if (k > 1)
            s += ps->t[i].weight * (int64_t)(k - 1);
    }
    return s;
}

static uint64_t rng_next(struct sched_cache *c)
{
    /* xorshift64*: fast and good enough to break ties */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 2685821657736338717ull;
}

static int64_t least_allocated(const struct sched_pod *p, const struct sched_node *n)
{
    int64_t s = 0;
    int64_t cpu = n->nz_cpu + p->nz.cpu_milli, mem = n->nz_mem + p->nz.memory;
    if (n->alloc_cpu > 0 && cpu <= n->alloc_cpu)
        s += (n->alloc_cpu - cpu) * 100 / n->alloc_cpu;
    if (n->alloc_mem > 0 && mem <= n->alloc_mem)
        s += (n->alloc_mem - mem) * 100 / n->alloc_mem;
    return s / 2;
}

static int64_t balanced(const struct sched_pod *p, const struct sched_node *n)
{
    double fc = n->alloc_cpu > 0 ? (double)(n->req_cpu + p->req.cpu_milli) / n->alloc_cpu : 0;
    double fm = n->alloc_mem > 0 ? (double)(n->req_mem + p->req.memory) / n->alloc_mem : 0;
    if (fc > 1)
        fc = 1;
    if (fm > 1)
        fm = 1;
    double std = fabs(fc - fm) / 2; /* of two values */
    return (int64_t)((1 - std) * 100);
}

static int64_t affinity_raw(json_t *preferred, const struct sched_node *n)
{
    int64_t s = 0;
    json_t *t;
    size_t i;
    json_array_foreach(preferred, i, t) {
        if (sched_node_term_match(json_object_get(t, "preference"), n))
            s += json_integer_value(json_object_get(t, "weight"));
    }
    return s;
}

static int64_t taint_raw(json_t *tols, const struct sched_node *n)
{
    int64_t k = 0;
    for (unsigned i = 0; i < n->n_taints; i++)
        if (n->taints[i].effect == SCHED_PREFER_NO_SCHEDULE && !sched_tolerates(tols, &n->taints[i]))
            k++;
    return k;
}

static unsigned owner_on_node(const struct sched_pod *p, const struct sched_node *n)
{
    unsigned k = 0;
    for (unsigned i = 0; i < n->n_pods; i++)
        if (n->pods[i]->owner && strcmp(n->pods[i]->owner, p->owner) == 0)
            k++;
    return k;
}

struct raw {
    int64_t fixed; /* least allocated + balanced, weighted */
    int64_t aff, taint, pod_aff, spread_pref;
    unsigned on_node, in_zone;
};

static void raw_scores(struct sched_cache *c, struct sched_pod *p, struct sched_node *n,
                       json_t *preferred, json_t *tols, struct sched_owner *o,
                       const struct prefs *ps, const struct prefs *sp, struct raw *r)
{
    r->pod_aff = ps->n ? prefs_raw(ps, n) : 0;
    r->spread_pref = sp->n ? prefs_raw(sp, n) : 0;
    r->fixed = W_LEAST * least_allocated(p, n) + W_BALANCED * balanced(p, n);
    r->aff = preferred ? affinity_raw(preferred, n) : 0;
    r->taint = n->n_taints ? taint_raw(tols, n) : 0;
    r->on_node = o ? owner_on_node(p, n) : 0;
    r->in_zone = o && n->zone >= 0 && (unsigned)n->zone < o->n_zones ? o->zone_counts[n->zone] : 0;
    (void)c;
}

/* Normalises the raw parts over all candidates (max, and min for the pod
 * affinity part, which may be negative) and sums them. */
static int64_t total(const struct raw *r, const struct raw *max, const struct raw *min, bool zones)
{
    int64_t s = r->fixed;
    if (max->pod_aff > min->pod_aff)
        s += W_POD_AFFINITY * ((r->pod_aff - min->pod_aff) * 100 / (max->pod_aff - min->pod_aff));
    if (max->spread_pref > min->spread_pref)
        s += W_TOPOLOGY_SPREAD * ((r->spread_pref - min->spread_pref) * 100 /
                                  (max->spread_pref - min->spread_pref));
    if (max->aff > 0)
        s += W_AFFINITY * (r->aff * 100 / max->aff);
    s += W_TAINT * (max->taint > 0 ? 100 - r->taint * 100 / max->taint : 100);
    double spread = max->on_node ? 100.0 * (max->on_node - r->on_node) / max->on_node : 100.0;
    if (zones) {
        double z = max->in_zone ? 100.0 * (max->in_zone - r->in_zone) / max->in_zone : 100.0;
        spread = spread / 3.0 + z * 2.0 / 3.0;
    }
    return s + (int64_t)(W_SPREAD * spread);
}

static void pod_score_inputs(struct sched_cache *c, struct sched_pod *p, json_t **preferred,
                             json_t **tols, struct sched_owner **o)
{
    json_t *spec = json_object_get(p->obj, "spec");
    *preferred = json_object_get(json_object_get(json_object_get(spec, "affinity"),
                                                 "nodeAffinity"),
                                 "preferredDuringSchedulingIgnoredDuringExecution");
    if (!json_array_size(*preferred))
        *preferred = NULL;
    *tols = json_object_get(spec, "tolerations");
    *o = sched_owner_get(c, p->owner);
}

struct sched_node *sched_score_pick(struct sched_cache *c, struct sched_pod *p,
                                    struct sched_node **nodes, unsigned n)
{
    if (n == 0)
        return NULL;
    if (n == 1)
        return nodes[0];
    json_t *preferred, *tols;
    struct sched_owner *o;
    pod_score_inputs(c, p, &preferred, &tols, &o);
    struct raw *r = xmalloc(n * sizeof *r), max = {0}, min = {0};
    struct prefs ps, sp;
    prefs_init(c, p, &ps);
    spread_prefs(c, p, &sp);
    bool zones = false;
    for (unsigned i = 0; i < n; i++) {
        raw_scores(c, p, nodes[i], preferred, tols, o, &ps, &sp, &r[i]);
        if (i == 0 || r[i].pod_aff > max.pod_aff)
            max.pod_aff = r[i].pod_aff;
        if (i == 0 || r[i].pod_aff < min.pod_aff)
            min.pod_aff = r[i].pod_aff;
        if (i == 0 || r[i].spread_pref > max.spread_pref)
            max.spread_pref = r[i].spread_pref;
        if (i == 0 || r[i].spread_pref < min.spread_pref)
            min.spread_pref = r[i].spread_pref;
        if (r[i].aff > max.aff)
            max.aff = r[i].aff;
        if (r[i].taint > max.taint)
            max.taint = r[i].taint;
        if (r[i].on_node > max.on_node)
            max.on_node = r[i].on_node;
        if (r[i].in_zone > max.in_zone)
            max.in_zone = r[i].in_zone;
        zones |= nodes[i]->zone >= 0;
    }
    struct sched_node *best = NULL;
    int64_t best_score = INT64_MIN;
    unsigned ties = 0;
    for (unsigned i = 0; i < n; i++) {
        int64_t s = total(&r[i], &max, &min, zones && o);
        if (s > best_score) {
            best_score = s;
            best = nodes[i];
            ties = 1;
        } else if (s == best_score && rng_next(c) % ++ties == 0) {
            best = nodes[i];
        }
    }
    free(r);
    prefs_free(&ps);
    prefs_free(&sp);
    return best;
}

int64_t sched_score_node(struct sched_cache *c, struct sched_pod *p, struct sched_node *n)
{
    json_t *preferred, *tols;
    struct sched_owner *o;
    pod_score_inputs(c, p, &preferred, &tols, &o);
    struct raw r;
    struct prefs ps, sp;
    prefs_init(c, p, &ps);
    spread_prefs(c, p, &sp);
    raw_scores(c, p, n, preferred, tols, o, &ps, &sp, &r);
    prefs_free(&ps);
    prefs_free(&sp);
    return total(&r, &r, &r, n->zone >= 0 && o);
}
