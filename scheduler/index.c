/* index.c — indexes over the counted pods, so that the filters that look
 * across the cluster (pod anti-affinity, topology spread) do not scan every
 * pod for every decision.
 *
 * By label: "namespace \1 key=value" -> the counted pods carrying that
 * label. A selector with matchLabels walks only the smallest of its
 * labels' sets and checks the rest on those pods.
 *
 * Anti-affinity groups: counted pods with required anti-affinity terms,
 * grouped by (namespace, terms) — the replicas of one workload share
 * them — each group with its terms' parsed selectors and, per term, how
 * many members sit in each topology domain (the value of the term's
 * topologyKey on the member's node). "Which domains repel this pod" is then
 * a walk over the groups, not over the pods. A node whose labels change
 * moves its members between domains (sched_index_node_labels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched_internal.h"

/* ---- by label ---- */

static void label_key(char *buf, size_t len, const char *ns, const char *k, const char *v)
{
    snprintf(buf, len, "%s\x01%s=%s", ns, k, v);
}

static void index_labels(struct sched_cache *c, struct sched_pod *p, bool add)
{
    const char *k;
    json_t *v;
    char key[1024];
    json_object_foreach(p->labels, k, v) {
        if (!json_is_string(v))
            continue;
        label_key(key, sizeof key, p->ns, k, json_string_value(v));
        struct umap *set = umap_get(&c->by_label, key);
        if (add) {
            if (!set) {
                set = xcalloc(1, sizeof *set);
                umap_put(&c->by_label, key, set);
            }
            umap_put(set, p->key, p);
        } else if (set) {
            umap_del(set, p->key);
            if (!set->n) {
                umap_del(&c->by_label, key);
                umap_free(set);
                free(set);
            }
        }
    }
}

void sched_each_selected(struct sched_cache *c, const char *ns, json_t *ls,
                         const struct kube_selector *sel, sched_pod_fn fn, void *arg)
{
    json_t *ml = json_object_get(ls, "matchLabels");
    if (ns && json_object_size(ml)) {
        struct umap *best = NULL;
        const char *k;
        json_t *v;
        char key[1024];
        json_object_foreach(ml, k, v) {
            if (!json_is_string(v))
                return;
            label_key(key, sizeof key, ns, k, json_string_value(v));
            struct umap *set = umap_get(&c->by_label, key);
            if (!set)
                return; /* no counted pod has this label: none matches */
            if (!best || set->n < best->n)
                best = set;
        }
        size_t it = 0;
        void *q;
        while (umap_next(best, &it, NULL, &q))
            if (kube_selector_match(sel, ((struct sched_pod *)q)->labels))
                fn(arg, q);
        return;
    }
    size_t it = 0;
    void *v;
    while (umap_next(&c->nodes, &it, NULL, &v)) {
        struct sched_node *n = v;
        for (unsigned i = 0; i < n->n_pods; i++) {
            struct sched_pod *q = n->pods[i];
            if ((!ns || strcmp(q->ns, ns) == 0) && kube_selector_match(sel, q->labels))
                fn(arg, q);
        }
    }
}

/* ---- anti-affinity groups ---- */

struct sched_anti_group {
    char *key;
    char *ns;
    json_t *terms;
    unsigned n;
    struct kube_selector **sels; /* NULL where a term selects nothing */
    struct umap *domains;        /* per term: value -> 1 + members there */
    unsigned members;
};

static void group_count(struct sched_anti_group *g, json_t *node_labels, int delta)
{
    for (unsigned i = 0; i < g->n; i++) {
        const char *key = sched_str(json_array_get(g->terms, i), "topologyKey");
        const char *v = json_string_value(json_object_get(node_labels, key));
        if (!*key || !v)
            continue;
        uintptr_t cur = (uintptr_t)umap_get(&g->domains[i], v);
        cur = (cur ? cur : 1) + (uintptr_t)(intptr_t)delta;
        if (cur <= 1)
            umap_del(&g->domains[i], v);
        else
            umap_put(&g->domains[i], v, (void *)cur);
    }
}

static struct sched_anti_group *group_get(struct sched_cache *c, struct sched_pod *p)
{
    char *terms = json_dumps(p->anti, JSON_COMPACT | JSON_SORT_KEYS);
    size_t len = strlen(p->ns) + strlen(terms) + 2;
    char *key = xmalloc(len);
    snprintf(key, len, "%s\x01%s", p->ns, terms);
    free(terms);
    struct sched_anti_group *g = umap_get(&c->anti_groups, key);
    if (g) {
        free(key);
        return g;
    }
    g = xcalloc(1, sizeof *g);
    g->key = key;
    g->ns = xstrdup(p->ns);
    g->terms = json_incref(p->anti);
    g->n = (unsigned)json_array_size(p->anti);
    g->sels = xcalloc(g->n, sizeof *g->sels);
    g->domains = xcalloc(g->n, sizeof *g->domains);
    for (unsigned i = 0; i < g->n; i++) {
        json_t *ls = json_object_get(json_array_get(p->anti, i), "labelSelector");
        char err[128];
        if (json_is_object(ls)) /* a nil selector selects nothing */
            g->sels[i] = kube_selector_from_json(ls, err, sizeof err);
    }
    umap_put(&c->anti_groups, key, g);
    return g;
}

static void group_free(struct sched_anti_group *g)
{
    for (unsigned i = 0; i < g->n; i++) {
        kube_selector_free(g->sels[i]);
        umap_free(&g->domains[i]);
    }
    free(g->sels);
    free(g->domains);
    json_decref(g->terms);
    free(g->ns);
    free(g->key);
    free(g);
}

void sched_index_pod(struct sched_cache *c, struct sched_pod *p, bool add)
{
    index_labels(c, p, add);
    if (!p->anti)
        return;
    if (add) {
        struct sched_anti_group *g = group_get(c, p);
        g->members++;
        group_count(g, p->node->labels, 1);
        p->anti_group = g;
        return;
    }
    struct sched_anti_group *g = p->anti_group;
    p->anti_group = NULL;
    if (!g)
        return;
    group_count(g, p->node->labels, -1);
    if (--g->members == 0) {
        umap_del(&c->anti_groups, g->key);
        group_free(g);
    }
}

void sched_index_node_labels(struct sched_cache *c, struct sched_node *n, json_t *old,
                             json_t *now)
{
    (void)c;
    for (unsigned i = 0; i < n->n_pods; i++) {
        struct sched_anti_group *g = n->pods[i]->anti_group;
        if (g) {
            group_count(g, old, -1);
            group_count(g, now, 1);
        }
    }
}

/* Whether a term of a pod in term_ns covers namespace ns: its namespaces,
 * every namespace for a namespaceSelector (see filter.c), else its own. */
static bool covers(json_t *term, const char *term_ns, const char *ns)
{
    json_t *nss = json_object_get(term, "namespaces"), *x;
    size_t i;
    if (json_array_size(nss)) {
        json_array_foreach(nss, i, x) if (json_is_string(x) && strcmp(json_string_value(x), ns) == 0)
            return true;
        return false;
    }
    if (json_is_object(json_object_get(term, "namespaceSelector")))
        return true;
    return strcmp(term_ns, ns) == 0;
}

void sched_anti_existing(struct sched_cache *c, struct sched_pod *p, sched_domain_fn fn,
                         void *arg)
{
    size_t it = 0;
    void *v;
    while (umap_next(&c->anti_groups, &it, NULL, &v)) {
        struct sched_anti_group *g = v;
        for (unsigned i = 0; i < g->n; i++) {
            json_t *term = json_array_get(g->terms, i);
            if (!g->sels[i] || !covers(term, g->ns, p->ns) ||
                !kube_selector_match(g->sels[i], p->labels))
                continue;
            const char *key = sched_str(term, "topologyKey");
            size_t jt = 0;
            const char *value;
            while (umap_next(&g->domains[i], &jt, &value, NULL))
                fn(arg, key, value);
        }
    }
}

void sched_index_free(struct sched_cache *c)
{
    size_t it = 0;
    void *v;
    while (umap_next(&c->by_label, &it, NULL, &v)) {
        umap_free(v);
        free(v);
    }
    umap_free(&c->by_label);
    it = 0;
    while (umap_next(&c->anti_groups, &it, NULL, &v))
        group_free(v);
    umap_free(&c->anti_groups);
}
