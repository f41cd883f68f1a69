/* preempt.c — preemption: a pending pod that fits nowhere may evict pods of
 * lower priority from one node (Kubernetes' DefaultPreemption, simplified).
 *
 * For each node (from a rotating start, up to PREEMPT_CANDIDATES candidates
 * found), every pod of lower priority is taken off the node in the cache
 * and the filters are run: if the pod would fit, the removed pods are put
 * back one by one, highest priority first, keeping each one that still
 * lets the pod fit (kube-scheduler's "reprieve"); those left out are the
 * victims. The chosen node is the one whose highest-priority victim is
 * lowest, then with the fewest victims, then the lowest sum of their
 * priorities. Victims are considered for what frees room on their node:
 * resources, pod count and host ports (the cluster-wide anti-affinity and
 * spreading gathered before the simulation are not re-evaluated). Pods
 * with preemptionPolicy Never do not preempt. */
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched_internal.h"

#define PREEMPT_CANDIDATES 100

struct plan {
    struct sched_node *node;
    struct sched_pod **victims;
    unsigned n;
    int64_t top, sum; /* highest victim priority, sum of priorities */
};

static int by_priority_desc(const void *a, const void *b)
{
    const struct sched_pod *x = *(struct sched_pod *const *)a, *y = *(struct sched_pod *const *)b;
    return x->priority != y->priority ? (x->priority < y->priority ? 1 : -1)
                                      : strcmp(x->key, y->key);
}

/* Takes q off its node for the simulation and back, keeping its flags. */
static void sim_remove(struct sched_cache *c, struct sched_pod *q)
{
    bool assumed = q->assumed, nominated = q->nominated;
    sched_node_remove_pod(c, q);
    q->assumed = assumed;
    q->nominated = nominated;
}

static void sim_add(struct sched_cache *c, struct sched_node *n, struct sched_pod *q)
{
    bool assumed = q->assumed;
    sched_node_add_pod(c, n, q);
    q->assumed = assumed;
}

/* The victims on n, or false if removing every lower-priority pod does not
 * make room. The node is left as it was. */
static bool node_plan(struct sched_cache *c, struct sched_prep *prep, struct sched_pod *p,
                      struct sched_node *n, struct plan *out)
{
    struct sched_pod **lower = NULL;
    unsigned k = 0;
    for (unsigned i = 0; i < n->n_pods; i++)
        if (n->pods[i]->priority < p->priority && !n->pods[i]->nominated)
            k++;
    if (!k)
        return false;
    lower = xmalloc(k * sizeof *lower);
    k = 0;
    for (unsigned i = 0; i < n->n_pods; i++)
        if (n->pods[i]->priority < p->priority && !n->pods[i]->nominated)
            lower[k++] = n->pods[i];
    for (unsigned i = 0; i < k; i++)
        sim_remove(c, lower[i]);
    bool fits = sched_prep_fits(prep, p, n);
    memset(out, 0, sizeof *out);
    if (fits) {
        qsort(lower, k, sizeof *lower, by_priority_desc);
        out->victims = xmalloc(k * sizeof *out->victims);
        for (unsigned i = 0; i < k; i++) {
            sim_add(c, n, lower[i]);
            if (sched_prep_fits(prep, p, n))
                continue; /* reprieved */
            sim_remove(c, lower[i]);
            out->victims[out->n++] = lower[i];
            if (out->n == 1 || lower[i]->priority > out->top)
                out->top = lower[i]->priority;
            out->sum += lower[i]->priority;
        }
        out->node = n;
        for (unsigned i = 0; i < out->n; i++)
            sim_add(c, n, out->victims[i]);
    } else {
        for (unsigned i = 0; i < k; i++)
            sim_add(c, n, lower[i]);
    }
    free(lower);
    return fits;
}

static bool better(const struct plan *a, const struct plan *b)
{
    if (a->top != b->top)
        return a->top < b->top;
    if (a->n != b->n)
        return a->n < b->n;
    return a->sum < b->sum;
}

struct sched_node *sched_preempt_plan(struct sched_cache *c, struct sched_pod *p,
                                      struct sched_pod ***victims, unsigned *n_victims)
{
    *victims = NULL;
    *n_victims = 0;
    if (p->never_preempt || !c->n_list)
        return NULL;
    struct sched_prep *prep = sched_prep_new(c, p);
    struct plan best = {0}, cur;
    unsigned found = 0, start = c->next_start % c->n_list;
    for (unsigned i = 0; i < c->n_list && found < PREEMPT_CANDIDATES; i++) {
        struct sched_node *n = c->list[(start + i) % c->n_list];
        if (!node_plan(c, prep, p, n, &cur))
            continue;
        found++;
        if (!best.node || better(&cur, &best)) {
            free(best.victims);
            best = cur;
        } else {
            free(cur.victims);
        }
    }
    sched_prep_free(prep);
    *victims = best.victims;
    *n_victims = best.n;
    return best.node;
}
