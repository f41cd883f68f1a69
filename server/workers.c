/* workers.c — the threads that run request handlers.
 *
 * libmicrohttpd runs a small pool of event-loop threads (http.c); they parse
 * requests and send replies but must never block. Our handlers do block:
 * a write waits for its Raft entry to commit, a linearizable read for the
 * read index, a follower for the leader it forwards to. So the event loop
 * suspends the connection and hands the request to this pool; the handler
 * runs here, leaves its reply in the request, and resumes the connection,
 * and the event loop sends the reply.
 *
 * The pool is elastic: a job that finds no idle thread starts one, up to
 * WORKERS_MAX; a thread idle for WORKERS_IDLE_MS ends, down to WORKERS_MIN.
 * So 256 clients each waiting for an update's commit hold 256 threads, as
 * they did with a thread per connection, while 5,000 idle watch streams
 * and creates waiting for their commit (write.c) hold none. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "server/internal.h"

#define WORKERS_MIN 4
#define WORKERS_MAX 2048
#define WORKERS_IDLE_MS 10000
#define WORKERS_STACK (1u << 20) /* see http.c: handlers keep data on the heap */

struct workers {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stopping */
    pthread_cond_t gone; /* a thread ended */
    struct request *head, *tail; /* queued, linked by rq->next_job */
    unsigned queued, threads, idle, busy;
    bool stopping;
    void (*run)(struct request *rq);
};

static void *worker_main(void *arg)
{
    struct workers *wk = arg;
    pthread_mutex_lock(&wk->mu);
    for (;;) {
        while (!wk->head && !wk->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += WORKERS_IDLE_MS / 1000;
            wk->idle++;
            int rc = pthread_cond_timedwait(&wk->work, &wk->mu, &ts);
            wk->idle--;
            if (rc == ETIMEDOUT && !wk->head && wk->threads > WORKERS_MIN)
                goto out;
        }
        if (!wk->head) /* stopping, nothing left */
            break;
        struct request *rq = wk->head;
        wk->head = rq->next_job;
        if (!wk->head)
            wk->tail = NULL;
        wk->queued--;
        wk->busy++;
        pthread_mutex_unlock(&wk->mu);
        wk->run(rq);
        pthread_mutex_lock(&wk->mu);
        wk->busy--;
    }
out:
    wk->threads--;
    pthread_cond_broadcast(&wk->gone);
    pthread_mutex_unlock(&wk->mu);
    return NULL;
}

/* Called with wk->mu held. */
static void spawn(struct workers *wk)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, WORKERS_STACK);
    pthread_t t;
    if (pthread_create(&t, &at, worker_main, wk) == 0) {
        pthread_setname_np(t, "http-worker");
        wk->threads++;
    }
    else
        LOG_WARN("http: cannot start a worker thread (%u running)", wk->threads);
    pthread_attr_destroy(&at);
}

struct workers *workers_new(void (*run)(struct request *rq))
{
    struct workers *wk = xcalloc(1, sizeof *wk);
    pthread_mutex_init(&wk->mu, NULL);
    pthread_cond_init(&wk->work, NULL);
    pthread_cond_init(&wk->gone, NULL);
    wk->run = run;
    return wk;
}

void workers_submit(struct workers *wk, struct request *rq)
{
    pthread_mutex_lock(&wk->mu);
    rq->next_job = NULL;
    if (wk->tail)
        wk->tail->next_job = rq;
    else
        wk->head = rq;
    wk->tail = rq;
    wk->queued++;
    /* Queued jobs beyond the idle threads each get a new thread. (An idle
     * thread that was signalled but has not woken yet still counts as idle,
     * and a job it will take counts as queued, so they pair up.) */
    if (wk->queued > wk->idle && wk->threads < WORKERS_MAX)
        spawn(wk);
    assert(wk->threads > 0);
    pthread_cond_signal(&wk->work);
    pthread_mutex_unlock(&wk->mu);
}

/* Runs what is queued, then ends every thread and frees the pool. */
void workers_free(struct workers *wk)
{
    if (!wk)
        return;
    pthread_mutex_lock(&wk->mu);
    wk->stopping = true;
    pthread_cond_broadcast(&wk->work);
    while (wk->threads > 0)
        pthread_cond_wait(&wk->gone, &wk->mu);
    pthread_mutex_unlock(&wk->mu);
    pthread_cond_destroy(&wk->work);
    pthread_cond_destroy(&wk->gone);
    pthread_mutex_destroy(&wk->mu);
    free(wk);
}
