/* queue.c — the controllers' work queue (see ctl_internal.h): keys to sync,
 * each for one controller, with the time before which it is not due.
 *
 * An array of entries and a map from "controller index/key" to the
 * entry's position: a key queued again is the same entry (moved earlier if
 * the new time is earlier), so a key is synced once however many changes
 * queued it. Removal moves the last entry into the hole, so the array has
 * no order; ctl_queue_take_due gives the order in which to sync: keys that
 * changes queued first, then those only a full pass queued (bulk), so that
 * a new object waits for no key of a new leader's first pass. */
#include <stdio.h>
#include <stdlib.h>

#include "controllers/ctl_internal.h"
#include "util/util.h"

static void index_key(char *buf, size_t len, unsigned def, const char *key)
{
    snprintf(buf, len, "%u/%s", def, key);
}

void ctl_queue_add(struct ctl_queue *q, unsigned def, const char *key, uint64_t not_before_ms,
                   bool bulk, unsigned backoff_ms)
{
    char ik[820];
    index_key(ik, sizeof ik, def, key);
    uintptr_t at = (uintptr_t)umap_get(&q->index, ik);
    if (at) {
        struct ctl_work *w = &q->v[at - 1];
        if (not_before_ms < w->not_before_ms)
            w->not_before_ms = not_before_ms;
        w->bulk &= bulk;
        if (backoff_ms > w->backoff_ms)
            w->backoff_ms = backoff_ms;
        return;
    }
    if (q->n == CTL_MAX_QUEUE) {
        LOG_WARN("controllers: queue full, dropping %s (the next full pass finds it)", key);
        return;
    }
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->v = xrealloc(q->v, q->cap * sizeof *q->v);
    }
    q->v[q->n++] = (struct ctl_work){def, xstrdup(key), not_before_ms, backoff_ms, bulk};
    umap_put(&q->index, ik, (void *)(uintptr_t)q->n);
}

/* Removes v[i], moving the last entry into its place. */
static void remove_at(struct ctl_queue *q, size_t i)
{
    char ik[820];
    index_key(ik, sizeof ik, q->v[i].def, q->v[i].key);
    umap_del(&q->index, ik);
    q->v[i] = q->v[--q->n];
    if (i < q->n) {
        index_key(ik, sizeof ik, q->v[i].def, q->v[i].key);
        umap_put(&q->index, ik, (void *)(uintptr_t)(i + 1));
    }
}

struct ctl_work *ctl_queue_take_due(struct ctl_queue *q, uint64_t now_ms, const bool *may_sync,
                                    size_t *n_due)
{
    struct ctl_work *due = NULL;
    size_t n = 0, cap = 0;
    for (int bulk = 0; bulk < 2; bulk++)
        for (size_t i = 0; i < q->n;) {
            struct ctl_work *w = &q->v[i];
            if (w->not_before_ms > now_ms || w->bulk != bulk || !may_sync[w->def]) {
                i++;
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                due = xrealloc(due, cap * sizeof *due);
            }
            due[n++] = *w; /* the key goes with it */
            remove_at(q, i);
        }
    *n_due = n;
    return due;
}

void ctl_queue_clear(struct ctl_queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->v[i].key);
    q->n = 0;
    umap_free(&q->index);
}

void ctl_queue_free(struct ctl_queue *q)
{
    ctl_queue_clear(q);
    free(q->v);
    q->v = NULL;
    q->cap = 0;
}
