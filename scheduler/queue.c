/* queue.c — the scheduling queue: which pending pod to try next, and when
 * to try again one that did not fit.
 *
 * As kube-scheduler's PriorityQueue: an active heap ordered by priority
 * (higher first), then by arrival; pods that failed wait "parked", either
 * in backoff (an error: retried once their backoff passes) or as
 * unschedulable (retried when the cluster changes in a way that may let
 * them fit — a node added or changed, a pod removed — once their backoff
 * passes, or after SCHED_UNSCHEDULABLE_MAX_MS regardless). The backoff is
 * 1 s, doubling per failed attempt, up to 10 s. */
#include <assert.h>
#include <stdlib.h>

#include "scheduler/sched_internal.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 10000

static bool before(const struct sched_pod *a, const struct sched_pod *b)
{
    return a->priority != b->priority ? a->priority > b->priority : a->seq < b->seq;
}

static void heap_set(struct sched_queue *q, size_t i, struct sched_pod *p)
{
    q->heap[i] = p;
    p->heap_idx = i;
}

static void heap_up(struct sched_queue *q, size_t i)
{
    struct sched_pod *p = q->heap[i];
    while (i > 0 && before(p, q->heap[(i - 1) / 2])) {
        heap_set(q, i, q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(q, i, p);
}

static void heap_down(struct sched_queue *q, size_t i)
{
    struct sched_pod *p = q->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        struct sched_pod *best = p;
        if (l < q->n_active && before(q->heap[l], best))
            m = l, best = q->heap[l];
        if (r < q->n_active && before(q->heap[r], best))
            m = r, best = q->heap[r];
        if (m == i)
            break;
        heap_set(q, i, q->heap[m]);
        i = m;
    }
    heap_set(q, i, p);
}

static void active_push(struct sched_queue *q, struct sched_pod *p)
{
    if (q->n_active == q->cap_active) {
        q->cap_active = q->cap_active ? q->cap_active * 2 : 256;
        q->heap = xrealloc(q->heap, q->cap_active * sizeof *q->heap);
    }
    p->qstate = SCHED_Q_ACTIVE;
    p->seq = ++q->seq;
    q->heap[q->n_active] = p;
    p->heap_idx = q->n_active++;
    heap_up(q, p->heap_idx);
}

static void park_push(struct sched_queue *q, struct sched_pod *p, int state)
{
    if (q->n_parked == q->cap_parked) {
        q->cap_parked = q->cap_parked ? q->cap_parked * 2 : 256;
        q->parked = xrealloc(q->parked, q->cap_parked * sizeof *q->parked);
    }
    p->qstate = state;
    p->heap_idx = q->n_parked;
    q->parked[q->n_parked++] = p;
    if (state == SCHED_Q_UNSCHEDULABLE)
        q->n_unschedulable++;
}

static void park_remove(struct sched_queue *q, struct sched_pod *p)
{
    assert(p->heap_idx < q->n_parked && q->parked[p->heap_idx] == p);
    if (p->qstate == SCHED_Q_UNSCHEDULABLE)
        q->n_unschedulable--;
    q->parked[p->heap_idx] = q->parked[--q->n_parked];
    q->parked[p->heap_idx]->heap_idx = p->heap_idx;
    p->qstate = SCHED_Q_NONE;
}

void sched_queue_remove(struct sched_queue *q, struct sched_pod *p)
{
    if (p->qstate == SCHED_Q_ACTIVE) {
        size_t i = p->heap_idx;
        assert(i < q->n_active && q->heap[i] == p);
        struct sched_pod *last = q->heap[--q->n_active];
        if (i < q->n_active) {
            heap_set(q, i, last);
            heap_down(q, i);
            heap_up(q, last->heap_idx);
        }
        p->qstate = SCHED_Q_NONE;
    } else if (p->qstate != SCHED_Q_NONE) {
        park_remove(q, p);
    }
}

void sched_queue_add(struct sched_queue *q, struct sched_pod *p)
{
    if (p->qstate == SCHED_Q_NONE)
        active_push(q, p);
}

struct sched_pod *sched_queue_pop(struct sched_queue *q)
{
    if (!q->n_active)
        return NULL;
    struct sched_pod *p = q->heap[0];
    sched_queue_remove(q, p);
    return p;
}

static uint64_t due_at(const struct sched_pod *p)
{
    return p->qstate == SCHED_Q_BACKOFF ? p->not_before_ms
                                        : p->parked_ms + SCHED_UNSCHEDULABLE_MAX_MS;
}

static uint64_t backoff_ms(const struct sched_pod *p)
{
    uint64_t b = BACKOFF_MIN_MS;
    for (unsigned i = 1; i < p->attempts && b < BACKOFF_MAX_MS; i++)
        b *= 2;
    return b > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b;
}

void sched_queue_park(struct sched_queue *q, struct sched_pod *p, bool unschedulable,
                      uint64_t now_ms)
{
    assert(p->qstate == SCHED_Q_NONE);
    p->attempts++;
    p->not_before_ms = now_ms + backoff_ms(p);
    p->parked_ms = now_ms;
    park_push(q, p, unschedulable ? SCHED_Q_UNSCHEDULABLE : SCHED_Q_BACKOFF);
    if (q->n_parked == 1 || due_at(p) < q->next_due)
        q->next_due = due_at(p);
}

/* Recomputes the earliest due time of the parked pods. */
static void due_recompute(struct sched_queue *q)
{
    q->next_due = UINT64_MAX;
    for (size_t i = 0; i < q->n_parked; i++)
        if (due_at(q->parked[i]) < q->next_due)
            q->next_due = due_at(q->parked[i]);
}

void sched_queue_flush(struct sched_queue *q, uint64_t now_ms)
{
    for (size_t i = 0; i < q->n_parked;) {
        struct sched_pod *p = q->parked[i];
        bool due = p->qstate == SCHED_Q_BACKOFF
                       ? p->not_before_ms <= now_ms
                       : p->parked_ms + SCHED_UNSCHEDULABLE_MAX_MS <= now_ms;
        if (!due) {
            i++;
            continue;
        }
        park_remove(q, p); /* moves the last one into slot i */
        active_push(q, p);
    }
    due_recompute(q);
}

void sched_queue_move_all(struct sched_queue *q)
{
    if (!q->n_unschedulable)
        return;
    for (size_t i = 0; i < q->n_parked; i++)
        if (q->parked[i]->qstate == SCHED_Q_UNSCHEDULABLE) {
            q->parked[i]->qstate = SCHED_Q_BACKOFF;
            q->n_unschedulable--;
        }
    due_recompute(q);
}

uint64_t sched_queue_next_due(const struct sched_queue *q)
{
    /* Kept by park, flush and move_all; a removal can only make it early,
     * which costs one empty flush. */
    return q->n_parked ? q->next_due : UINT64_MAX;
}

void sched_queue_free(struct sched_queue *q)
{
    free(q->heap);
    free(q->parked);
    *q = (struct sched_queue){0};
}
