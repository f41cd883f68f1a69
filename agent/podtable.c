/* podtable.c — the pods bound to the agent's nodes, by "namespace/name".
 *
 * A chained hash table (FNV-1a, power-of-two buckets, doubled when the
 * entries outnumber the buckets), so an event costs O(1) whatever the
 * number of pods; 200,000 entries take about 30 MB. The watcher inserts,
 * updates and removes entries; workers only ask whether a job's pod is
 * still the one it was made for (agent_pods_current: same key, same uid),
 * so a job outliving its pod — deleted, or replaced by a namesake — does
 * nothing. Every function but agent_pods_current expects the caller to
 * hold t->mu. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "util/util.h"

#define PODS_MIN_BUCKETS 1024

static uint64_t pods_hash(const char *s)
{
    return util_hash_str(UTIL_HASH_SEED, s);
}

void agent_pods_init(struct agent_pods *t)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    t->n_buckets = PODS_MIN_BUCKETS;
    t->buckets = xcalloc(t->n_buckets, sizeof *t->buckets);
}

static void pod_free(struct agent_pod *p)
{
    free(p->key);
    free(p);
}

void agent_pods_free(struct agent_pods *t)
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct agent_pod *p = t->buckets[i];
        while (p) {
            struct agent_pod *next = p->next;
            pod_free(p);
            p = next;
        }
    }
    free(t->buckets);
    t->buckets = NULL;
    t->n = 0;
    pthread_mutex_destroy(&t->mu);
}

static void pods_grow(struct agent_pods *t)
{
    size_t nb = t->n_buckets * 2;
    struct agent_pod **b = xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct agent_pod *p = t->buckets[i];
        while (p) {
            struct agent_pod *next = p->next;
            size_t h = pods_hash(p->key) & (nb - 1);
            p->next = b[h];
            b[h] = p;
            p = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = nb;
}

struct agent_pod *agent_pods_find(struct agent_pods *t, const char *key)
{
    for (struct agent_pod *p = t->buckets[pods_hash(key) & (t->n_buckets - 1)]; p; p = p->next)
        if (strcmp(p->key, key) == 0)
            return p;
    return NULL;
}

struct agent_pod *agent_pods_insert(struct agent_pods *t, const char *key, const char *uid,
                                    int node)
{
    if (t->n >= t->n_buckets)
        pods_grow(t);
    struct agent_pod *p = xcalloc(1, sizeof *p);
    p->key = xstrdup(key);
    snprintf(p->uid, sizeof p->uid, "%s", uid);
    p->node = node;
    p->gen = t->gen;
    size_t h = pods_hash(key) & (t->n_buckets - 1);
    p->next = t->buckets[h];
    t->buckets[h] = p;
    t->n++;
    return p;
}

void agent_pods_remove(struct agent_pods *t, const char *key)
{
    struct agent_pod **pp = &t->buckets[pods_hash(key) & (t->n_buckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->key, key) == 0) {
            struct agent_pod *p = *pp;
            *pp = p->next;
            pod_free(p);
            t->n--;
            return;
        }
    }
}

size_t agent_pods_sweep(struct agent_pods *t, uint32_t gen)
{
    size_t removed = 0;
    for (size_t i = 0; i < t->n_buckets; i++) {
        struct agent_pod **pp = &t->buckets[i];
        while (*pp) {
            struct agent_pod *p = *pp;
            if (p->gen == gen) {
                pp = &p->next;
                continue;
            }
            *pp = p->next;
            pod_free(p);
            t->n--;
            removed++;
        }
    }
    return removed;
}

bool agent_pods_current(struct agent_pods *t, const char *key, const char *uid)
{
    pthread_mutex_lock(&t->mu);
    struct agent_pod *p = agent_pods_find(t, key);
    bool same = p && strcmp(p->uid, uid) == 0;
    pthread_mutex_unlock(&t->mu);
    return same;
}
