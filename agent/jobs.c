/* jobs.c — the agent's jobs: who runs what, when.
 *
 * Every write the agent makes is a job (agent_internal.h): a node's
 * registration, Lease renewal or heartbeat, a pod's move to Running or
 * Succeeded, a pod's deletion. Jobs wait in one of two FIFO queues — urgent
 * (node jobs: a late Lease makes the node NotReady) and pods — or, when
 * they are for later, in a min-heap on their due time. One mutex guards
 * both; it is held only to link or unlink a job.
 *
 * Workers (--workers threads, each with its own keep-alive connection,
 * conn.c) take the urgent queue first, run the job's handler from the kind
 * table below without the lock, and do what the handler returns: finished
 * (a pod job is freed), or run again at a time (periodic node jobs, and
 * retries with backoff). So many requests are in flight at once, one per
 * worker, which is what lets thousands of pods a second go Running: each
 * status write waits for a Raft commit, and the servers commit the writes
 * that arrive together in one entry.
 *
 * The ticker thread sleeps until the earliest timer, but at least a tick
 * (10 ms), so that timers due close together are moved in one batch; it
 * moves every due job to its queue and wakes one idle worker per job (not
 * all of them: with 32 workers a broadcast per Lease cost more CPU than
 * the renewals). Every 10 s it logs a progress line if nodes registered or
 * pods moved since the last one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_internal.h"
#include "util/util.h"

#define SCHED_PROGRESS_MS 10000
#define SCHED_TICK_MS 10 /* timers run up to this late, moved in batches */
#define SCHED_BACKOFF_MIN_MS 250
#define SCHED_BACKOFF_MAX_MS 10000

static const struct {
    const char *name;
    agent_job_fn run;
    bool urgent;
} job_kinds[AGENT_JOB_KINDS] = {
    [AGENT_JOB_REGISTER] = {"register", agent_node_register, true},
    [AGENT_JOB_LEASE] = {"lease", agent_node_lease, true},
    [AGENT_JOB_HEARTBEAT] = {"heartbeat", agent_node_heartbeat, true},
    [AGENT_JOB_POD_RUN] = {"pod-run", agent_pod_run, false},
    [AGENT_JOB_POD_COMPLETE] = {"pod-complete", agent_pod_complete, false},
    [AGENT_JOB_POD_DELETE] = {"pod-delete", agent_pod_delete, false},
};

static bool job_is_pod(const struct agent_job *j)
{
    return j->kind >= AGENT_JOB_POD_RUN;
}

static void job_release(struct agent_job *j)
{
    if (job_is_pod(j))
        agent_pod_job_free((struct agent_pod_job *)j);
}

uint64_t agent_backoff_ms(unsigned attempts)
{
    uint64_t ms = SCHED_BACKOFF_MIN_MS;
    for (unsigned i = 1; i < attempts && ms < SCHED_BACKOFF_MAX_MS; i++)
        ms *= 2;
    return ms < SCHED_BACKOFF_MAX_MS ? ms : SCHED_BACKOFF_MAX_MS;
}

void agent_sched_init(struct agent_sched *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->work_cv, &ca);
    pthread_cond_init(&s->tick_cv, &ca);
    pthread_condattr_destroy(&ca);
}

/* ---- the queues and the heap (caller holds s->mu) ---- */

static void queue_push(struct agent_sched *s, struct agent_job *j)
{
    int q = job_kinds[j->kind].urgent ? 0 : 1;
    j->next = NULL;
    if (s->tail[q])
        s->tail[q]->next = j;
    else
        s->head[q] = j;
    s->tail[q] = j;
    s->queued[q]++;
}

static struct agent_job *queue_pop(struct agent_sched *s)
{
    for (int q = 0; q < 2; q++) {
        struct agent_job *j = s->head[q];
        if (!j)
            continue;
        s->head[q] = j->next;
        if (!s->head[q])
            s->tail[q] = NULL;
        s->queued[q]--;
        j->next = NULL;
        return j;
    }
    return NULL;
}

static void heap_swap(struct agent_job **h, size_t a, size_t b)
{
    struct agent_job *t = h[a];
    h[a] = h[b];
    h[b] = t;
}

static void heap_push(struct agent_sched *s, struct agent_job *j)
{
    if (s->heap_n == s->heap_cap) {
        s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 1024;
        s->heap = xrealloc(s->heap, s->heap_cap * sizeof *s->heap);
    }
    size_t i = s->heap_n++;
    s->heap[i] = j;
    while (i > 0 && s->heap[(i - 1) / 2]->due_ms > s->heap[i]->due_ms) {
        heap_swap(s->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct agent_job *heap_pop(struct agent_sched *s)
{
    struct agent_job *top = s->heap[0];
    s->heap[0] = s->heap[--s->heap_n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->heap_n && s->heap[l]->due_ms < s->heap[m]->due_ms)
            m = l;
        if (r < s->heap_n && s->heap[r]->due_ms < s->heap[m]->due_ms)
            m = r;
        if (m == i)
            break;
        heap_swap(s->heap, i, m);
        i = m;
    }
    return top;
}

/* ---- public: scheduling ---- */

void agent_sched_now(struct agent *ag, struct agent_job *j)
{
    struct agent_sched *s = &ag->sched;
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        job_release(j);
        return;
    }
    queue_push(s, j);
    if (s->n_idle)
        pthread_cond_signal(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
}

void agent_sched_at(struct agent *ag, struct agent_job *j, uint64_t due_ms)
{
    struct agent_sched *s = &ag->sched;
    if (due_ms <= util_now_ms()) {
        agent_sched_now(ag, j);
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        job_release(j);
        return;
    }
    j->due_ms = due_ms;
    heap_push(s, j);
    /* A timer due more than a tick before the ticker wakes: wake it. */
    if (s->heap[0] == j && due_ms + SCHED_TICK_MS < s->ticker_wake_ms)
        pthread_cond_signal(&s->tick_cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- threads ---- */

struct worker_arg {
    struct agent *ag;
    int i;
};

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    struct agent *ag = wa->ag;
    struct agent_sched *s = &ag->sched;
    struct agent_conn *k = &s->conns[wa->i];
    free(wa);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct agent_job *j = NULL;
        while (!s->stopping && !(j = queue_pop(s))) {
            s->n_idle++;
            pthread_cond_wait(&s->work_cv, &s->mu);
            s->n_idle--;
        }
        if (s->stopping) {
            if (j)
                queue_push(s, j); /* freed by agent_sched_stop */
            break;
        }
        pthread_mutex_unlock(&s->mu);
        uint64_t again = job_kinds[j->kind].run(ag, k, j);
        if (again)
            agent_sched_at(ag, j, again);
        else
            job_release(j);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    agent_conn_close(k);
    return NULL;
}

/* One progress line: what changed since the last one. */
static void progress_log(struct agent *ag, long last[4])
{
    struct agent_stats *st = &ag->st;
    long now[4] = {atomic_load(&st->registered), atomic_load(&st->running),
                   atomic_load(&st->succeeded), atomic_load(&st->deleted)};
    if (memcmp(now, last, sizeof now) == 0)
        return;
    long errors = 0;
    for (int i = 0; i < AGENT_ERR_COUNT; i++)
        errors += atomic_load(&st->errors[i]);
    pthread_mutex_lock(&ag->pods.mu);
    size_t tracked = ag->pods.n;
    pthread_mutex_unlock(&ag->pods.mu);
    LOG_INFO("nodes %ld/%d registered; pods: %zu on our nodes, %ld started (+%ld), %ld "
             "succeeded, %ld deleted; %ld lease renewals, %ld failovers, %ld errors",
             now[0], ag->cfg.hollow, tracked, now[1], now[1] - last[1], now[2], now[3],
             (long)atomic_load(&st->leases), (long)atomic_load(&st->failovers), errors);
    memcpy(last, now, sizeof now);
}

static void *ticker_main(void *arg)
{
    struct agent *ag = arg;
    struct agent_sched *s = &ag->sched;
    long last[4] = {0};
    uint64_t next_progress = util_now_ms() + SCHED_PROGRESS_MS;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        uint64_t now = util_now_ms();
        unsigned moved = 0;
        while (s->heap_n && s->heap[0]->due_ms <= now) {
            queue_push(s, heap_pop(s));
            moved++;
        }
        /* Wake one worker per job, not all of them for each. */
        if (moved && moved >= (unsigned)s->n_idle)
            pthread_cond_broadcast(&s->work_cv);
        else
            for (; moved; moved--)
                pthread_cond_signal(&s->work_cv);
        if (now >= next_progress) {
            pthread_mutex_unlock(&s->mu);
            progress_log(ag, last);
            pthread_mutex_lock(&s->mu);
            next_progress = now + SCHED_PROGRESS_MS;
            continue;
        }
        /* Sleep until the earliest timer, but at least a tick: timers due
         * within a tick are moved together, so 5,000 Leases renewed every
         * 10 s wake the ticker 100 times a second, not 500. */
        uint64_t wake = next_progress;
        if (s->heap_n && s->heap[0]->due_ms < wake)
            wake = s->heap[0]->due_ms;
        if (wake < now + SCHED_TICK_MS)
            wake = now + SCHED_TICK_MS;
        struct timespec ts;
        util_deadline(&ts, (int)(wake - now));
        s->ticker_wake_ms = wake;
        pthread_cond_timedwait(&s->tick_cv, &s->mu, &ts);
        s->ticker_wake_ms = 0;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void agent_sched_start(struct agent *ag, int n)
{
    struct agent_sched *s = &ag->sched;
    s->n_workers = n;
    s->workers = xcalloc((size_t)n, sizeof *s->workers);
    s->conns = xcalloc((size_t)n, sizeof *s->conns);
    for (int i = 0; i < n; i++) {
        agent_conn_init(&s->conns[i], ag);
        struct worker_arg *wa = xmalloc(sizeof *wa);
        wa->ag = ag;
        wa->i = i;
        pthread_create(&s->workers[i], NULL, worker_main, wa);
    }
    pthread_create(&s->ticker, NULL, ticker_main, ag);
}

void agent_sched_stop(struct agent *ag)
{
    struct agent_sched *s = &ag->sched;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->work_cv);
    pthread_cond_broadcast(&s->tick_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->workers) {
        pthread_join(s->ticker, NULL);
        for (int i = 0; i < s->n_workers; i++)
            pthread_join(s->workers[i], NULL);
    }
    struct agent_job *j;
    while ((j = queue_pop(s)))
        job_release(j);
    while (s->heap_n)
        job_release(heap_pop(s));
    free(s->heap);
    free(s->workers);
    free(s->conns);
    s->heap = NULL;
    s->workers = NULL;
    s->conns = NULL;
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->tick_cv);
    pthread_mutex_destroy(&s->mu);
}
