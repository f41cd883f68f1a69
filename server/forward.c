/* forward.c — writes and linearizable reads from any server.
 *
 * On the leader a write goes straight to the proposer (cluster_propose). On a
 * follower it is forwarded, already encoded, to the leader's
 * POST /internal/propose; the leader answers with the result and the entry's
 * index, and the follower answers its client only once it has applied that
 * index itself, so a client sees its own writes on whichever server it asks.
 * A read without resourceVersion asks the leader for a read index (a barrier
 * it committed after the read arrived: GET /internal/readindex) and waits
 * until this replica has applied it.
 *
 * Outcomes: "not leader" (nothing was appended) is retried against the new
 * leader until the request's deadline; a connection that fails after the
 * request was sent is an unknown outcome (504), never "not done". While no
 * leader is known, requests wait up to two election timeouts, then get 503.
 * Connections to the leader are kept in a small pool. */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/codec.h"
#include "httpc/httpc.h"
#include "server/internal.h"

#define POOL_MAX 64 /* idle connections kept: the forwarder's threads and read-index calls */

struct pooled {
    char url[160];
    struct httpc *c;
};

/* A request to the leader under way (a batch of a forwarder thread, or
 * the read index), so that it can be given up when the leader changes
 * (server_leader_changed); guarded by mu. */
struct fwd_flight {
    pthread_mutex_t *mu;
    struct httpc *c; /* NULL while none is */
    uint64_t leader; /* the leader it went to */
};

/* A follower's read-index requests to the leader, shared: a reader may
 * use the answer of any request that was sent after it arrived (the leader
 * answers with a commit index confirmed after receiving it, so that index
 * covers every write acknowledged before the reader arrived). Requests are
 * numbered; a reader that arrives while request g is in flight waits for
 * g + 1, which the first reader woken after g sends for all of them. One
 * HTTP round trip then serves every read that arrived during the previous
 * one, instead of one per read (5.5k linearizable GETs/s on a follower
 * against 35k/s at resourceVersion=0 before). */
struct ri_flight {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint64_t started; /* the number of the last request sent */
    uint64_t done;    /* the number of the last request answered */
    bool in_flight;
    struct cluster_result last; /* the answer to request `done` */
    pthread_mutex_t fl_mu; /* guards fl (not held while waiting, unlike mu) */
    struct fwd_flight fl;  /* the request in flight */
};

struct fwd_pool {
    pthread_mutex_t mu;
    struct pooled idle[POOL_MAX];
    unsigned n;
    struct ri_flight ri;
};

struct fwd_pool *fwd_pool_new(void)
{
    struct fwd_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->ri.mu, NULL);
    pthread_mutex_init(&p->ri.fl_mu, NULL);
    p->ri.fl.mu = &p->ri.fl_mu;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->ri.cond, &ca);
    pthread_condattr_destroy(&ca);
    return p;
}

void fwd_pool_free(struct fwd_pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n; i++)
        httpc_free(p->idle[i].c);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->ri.mu);
    pthread_mutex_destroy(&p->ri.fl_mu);
    pthread_cond_destroy(&p->ri.cond);
    free(p);
}

static struct httpc *pool_get(struct fwd_pool *p, const char *url)
{
    pthread_mutex_lock(&p->mu);
    for (unsigned i = p->n; i-- > 0;) {
        if (strcmp(p->idle[i].url, url) == 0) {
            struct httpc *c = p->idle[i].c;
            p->idle[i] = p->idle[--p->n];
            pthread_mutex_unlock(&p->mu);
            return c;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return httpc_new(url);
}

static void pool_put(struct fwd_pool *p, const char *url, struct httpc *c)
{
    pthread_mutex_lock(&p->mu);
    if (p->n < POOL_MAX) {
        snprintf(p->idle[p->n].url, sizeof p->idle[p->n].url, "%s", url);
        p->idle[p->n++].c = c;
        c = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (c)
        httpc_free(c);
}

bool server_member_api(struct server *s, uint64_t id, char *url, size_t len)
{
    for (unsigned i = 0; i < s->cfg.n_peers; i++)
        if (s->cfg.peers[i].id == id) {
            snprintf(url, len, "%s", s->cfg.peers[i].api_url);
            return true;
        }
    char name[24];
    snprintf(name, sizeof name, "%llu", (unsigned long long)id);
    struct store_read r;
    struct store_obj o;
    bool found = false;
    if (store_read_begin(s->store, &r) != 0)
        return false;
    if (store_get(&r, MEMBERS_RESOURCE, "", name, &o) == 0) {
        json_t *v = codec_msgpack_to_json(o.obj, o.obj_len);
        const char *api = json_string_value(json_object_get(v, "api"));
        if (api) {
            snprintf(url, len, "%s", api);
            found = true;
        }
        json_decref(v);
    }
    store_read_end(&r);
    return found;
}

static int remaining_ms(uint64_t deadline)
{
    uint64_t now = util_now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

static void flight_begin(struct fwd_flight *fl, struct httpc *c, uint64_t leader)
{
    if (!fl)
        return;
    pthread_mutex_lock(fl->mu);
    fl->c = c;
    fl->leader = leader;
    pthread_mutex_unlock(fl->mu);
}

/* Whether the request was given up meanwhile (then c must not be reused,
 * even if its answer came first). */
static bool flight_end(struct fwd_flight *fl, struct httpc *c)
{
    if (!fl)
        return false;
    pthread_mutex_lock(fl->mu);
    bool aborted = fl->c != c;
    fl->c = NULL;
    pthread_mutex_unlock(fl->mu);
    return aborted;
}

/* One request to the leader's internal API; the JSON answer in *out. Returns
 * 0, -1 if the request may have been delivered, -2 if it surely was not
 * (the leader's address is unknown). fl (or NULL) records it while under
 * way. */
static int leader_call(struct server *s, uint64_t leader, const char *method, const char *path,
                       const void *body, size_t len, int timeout_ms, json_t **out,
                       struct fwd_flight *fl)
{
    char url[160];
    if (!server_member_api(s, leader, url, sizeof url))
        return -2;
    struct httpc *c = pool_get(s->pool, url);
    if (!c)
        return -2;
    static const char *const hdrs[] = {"Content-Type: application/x-msgpack", NULL};
    struct httpc_response resp;
    flight_begin(fl, c, leader);
    int rc = httpc_request(c, method, path, hdrs, body, len, timeout_ms, &resp);
    bool aborted = flight_end(fl, c);
    if (rc != 0) {
        /* httpc may have retried on a fresh connection, so even "refused"
         * can follow a first attempt that was delivered: unknown. */
        httpc_free(c);
        return -1;
    }
    if (aborted)
        httpc_free(c);
    else
        pool_put(s->pool, url, c);
    *out = resp.status == 200 ? codec_json_load(resp.body, resp.body_len, 0, NULL) : NULL;
    httpc_response_free(&resp);
    return *out ? 0 : -1;
}

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

static uint64_t no_leader_wait_ms(struct server *s) { return 2ull * s->cfg.election_ms + 500; }

void server_submit(struct server *s, const void *cmd, size_t len, struct cluster_result *out)
{
    server_submit_until(s, cmd, len, util_now_ms() + (uint64_t)s->cfg.request_timeout_ms, out);
}

void server_submit_until(struct server *s, const void *cmd, size_t len, uint64_t deadline,
                         struct cluster_result *out)
{
    uint64_t leaderless_since = 0;
    memset(out, 0, sizeof *out);
    for (;;) {
        int left = remaining_ms(deadline);
        if (left == 0) {
            out->code = CLUSTER_TIMEOUT;
            return;
        }
        uint64_t leader = cluster_leader_id(s->cluster);
        if (leader == s->cfg.id) {
            cluster_propose(s->cluster, cmd, len, left, out);
            if (out->code != CLUSTER_NOT_LEADER)
                return;
        } else if (leader != 0) {
            leaderless_since = 0;
            forwarder_submit(s->fwd, cmd, len, out);
            if (out->code == CLUSTER_OK) {
                if (!store_wait_index(s->store, out->index, remaining_ms(deadline)))
                    out->code = CLUSTER_TIMEOUT;
                return;
            }
            if (out->code != CLUSTER_NOT_LEADER)
                return;
        }
        /* No leader known, or it just moved: wait for the next one. */
        if (!leaderless_since)
            leaderless_since = util_now_ms();
        if (util_now_ms() - leaderless_since > no_leader_wait_ms(s)) {
            out->code = CLUSTER_NOT_LEADER;
            return;
        }
        sleep_ms(20);
    }
}

/* The first try of server_submit_until, without blocking: to the leader's
 * proposer if this server leads, else to the forwarder. With no leader
 * known there is nothing to try: "not leader", and the caller goes on with
 * server_submit_until on a thread that may wait for one. */
void server_submit_async(struct server *s, const void *cmd, size_t len, uint64_t deadline,
                         server_done_fn fn, void *arg)
{
    uint64_t leader = cluster_leader_id(s->cluster);
    if (leader == s->cfg.id) {
        cluster_propose_async(s->cluster, cmd, len, remaining_ms(deadline), fn, arg);
    } else if (leader != 0) {
        forwarder_submit_async(s->fwd, cmd, len, deadline, fn, arg);
    } else {
        struct cluster_result r = {.code = CLUSTER_NOT_LEADER};
        fn(arg, &r);
    }
}

void server_submit_object(struct server *s, struct store_cmd *cmd, json_t *obj,
                          struct cluster_result *out)
{
    struct ubuf enc = {0}, cmdbuf = {0};
    if (obj) {
        codec_json_to_msgpack(obj, &enc);
        cmd->obj = enc.data;
        cmd->obj_len = enc.len;
    }
    store_cmd_encode(cmd, &cmdbuf);
    server_submit(s, cmdbuf.data, cmdbuf.len, out);
    ubuf_free(&enc);
    ubuf_free(&cmdbuf);
}

/* ---- the forwarder: a follower's writes go to the leader in batches ---- */

#define FWD_THREADS 4
#define FWD_MAX_ITEMS 1024
#define FWD_MAX_BYTES (4u << 20)

/* One write waiting to be forwarded. A synchronous one lives on the
 * submitting thread's stack, which waits until the forwarder has answered it
 * (the forwarder's own request has a deadline, so that wait is bounded). An
 * asynchronous one (fn set) is on the heap; the forwarder answers it through
 * fn once this server has applied the write, and frees it. */
struct fwd_item {
    const void *cmd;
    size_t len;
    struct cluster_result res;
    bool done;
    pthread_cond_t cond; /* its own, so an answer wakes only its waiter */
    server_done_fn fn;
    void *arg;
    uint64_t deadline;
    struct fwd_item *next;
};

struct forwarder {
    struct server *s;
    pthread_mutex_t mu;
    pthread_cond_t work;  /* items queued, or stopping */
    struct fwd_item *head, *tail;
    bool stop;
    struct fwd_worker {
        struct forwarder *f;
        pthread_t thread;
        struct fwd_flight fl; /* its request under way */
    } workers[FWD_THREADS];
};

/* Called with f->mu held. */
static void fwd_enqueue(struct forwarder *f, struct fwd_item *it)
{
    if (f->tail)
        f->tail->next = it;
    else
        f->head = it;
    f->tail = it;
    pthread_cond_signal(&f->work);
}

void forwarder_submit(struct forwarder *f, const void *cmd, size_t len, struct cluster_result *out)
{
    struct fwd_item it = {.cmd = cmd, .len = len};
    pthread_cond_init(&it.cond, NULL);
    pthread_mutex_lock(&f->mu);
    fwd_enqueue(f, &it);
    while (!it.done)
        pthread_cond_wait(&it.cond, &f->mu);
    pthread_mutex_unlock(&f->mu);
    pthread_cond_destroy(&it.cond);
    *out = it.res;
}

void forwarder_submit_async(struct forwarder *f, const void *cmd, size_t len, uint64_t deadline,
                            server_done_fn fn, void *arg)
{
    struct fwd_item *it = xcalloc(1, sizeof *it);
    *it = (struct fwd_item){.cmd = cmd, .len = len, .fn = fn, .arg = arg, .deadline = deadline};
    pthread_mutex_lock(&f->mu);
    fwd_enqueue(f, it);
    pthread_mutex_unlock(&f->mu);
}

/* Takes up to FWD_MAX_ITEMS / FWD_MAX_BYTES queued items; NULL when stopping. */
static struct fwd_item *take_batch(struct forwarder *f, unsigned *n)
{
    pthread_mutex_lock(&f->mu);
    while (!f->head && !f->stop)
        pthread_cond_wait(&f->work, &f->mu);
    struct fwd_item *first = f->head, *last = NULL;
    size_t bytes = 0;
    *n = 0;
    for (struct fwd_item *it = f->head;
         it && *n < FWD_MAX_ITEMS && (*n == 0 || bytes + it->len <= FWD_MAX_BYTES); it = it->next) {
        bytes += it->len;
        last = it;
        (*n)++;
    }
    if (last) {
        f->head = last->next;
        if (!f->head)
            f->tail = NULL;
        last->next = NULL;
    }
    pthread_mutex_unlock(&f->mu);
    return last ? first : NULL;
}

/* The asynchronous items of a batch, answered: a write the leader applied
 * is answered once this server has applied it too (one wait for the whole
 * batch, bounded by the items' earliest deadline), as server_submit does. */
static void answer_async(struct forwarder *f, struct fwd_item *items)
{
    uint64_t index = 0, deadline = UINT64_MAX;
    for (struct fwd_item *it = items; it; it = it->next) {
        if (it->res.code == CLUSTER_OK && it->res.index > index)
            index = it->res.index;
        if (it->deadline < deadline)
            deadline = it->deadline;
    }
    bool applied = index == 0 || store_wait_index(f->s->store, index, remaining_ms(deadline));
    for (struct fwd_item *it = items, *next; it; it = next) {
        next = it->next;
        if (it->res.code == CLUSTER_OK && !applied &&
            !store_wait_index(f->s->store, it->res.index, 0))
            it->res.code = CLUSTER_TIMEOUT;
        it->fn(it->arg, &it->res);
        free(it);
    }
}

static void answer_batch(struct forwarder *f, struct fwd_item *items)
{
    struct fwd_item *async = NULL, **tail = &async, **pp = &items;
    while (*pp) { /* move the asynchronous items out */
        struct fwd_item *it = *pp;
        if (it->fn) {
            *pp = it->next;
            it->next = NULL;
            *tail = it;
            tail = &it->next;
        } else {
            pp = &it->next;
        }
    }
    pthread_mutex_lock(&f->mu);
    for (struct fwd_item *it = items, *next; it; it = next) {
        next = it->next; /* it may be gone once done is set and f->mu dropped */
        it->done = true;
        pthread_cond_signal(&it->cond);
    }
    pthread_mutex_unlock(&f->mu);
    if (async)
        answer_async(f, async);
}

/* A leader that does not answer a batch within a few election timeouts is
 * paused, partitioned or dead, and has likely been replaced: give up on it
 * (the outcome is unknown) instead of holding every forwarder thread, and
 * the writes queued behind them, for the whole request timeout. */
static int forward_timeout_ms(const struct server *s)
{
    int t = 3 * (int)s->cfg.election_ms;
    if (t < 2000)
        t = 2000;
    return t < s->cfg.request_timeout_ms ? t : s->cfg.request_timeout_ms;
}

/* Sends items to the leader's POST /internal/propose: the body is a sequence
 * of [4-byte big-endian length][command]; the answer is a JSON array of
 * [cluster code, store code, revision, index], one per command. */
static void send_batch(struct forwarder *f, struct fwd_item *items, unsigned n,
                       struct fwd_flight *fl)
{
    struct server *s = f->s;
    struct ubuf body = {0};
    for (struct fwd_item *it = items; it; it = it->next) {
        unsigned char hdr[4] = {(unsigned char)(it->len >> 24), (unsigned char)(it->len >> 16),
                                (unsigned char)(it->len >> 8), (unsigned char)it->len};
        ubuf_append(&body, hdr, 4);
        ubuf_append(&body, it->cmd, it->len);
        memset(&it->res, 0, sizeof it->res);
        it->res.code = CLUSTER_NOT_LEADER; /* until the leader says otherwise */
    }
    uint64_t leader = cluster_leader_id(s->cluster);
    forwarder_leader_changed(f, leader);
    json_t *ans = NULL;
    int rc = leader && leader != s->cfg.id
                 ? leader_call(s, leader, "POST", "/internal/propose", body.data, body.len,
                               forward_timeout_ms(s), &ans, fl)
                 : -2;
    ubuf_free(&body);
    if (rc == 0 && (!json_is_array(ans) || json_array_size(ans) != n))
        rc = -1;
    unsigned i = 0;
    for (struct fwd_item *it = items; it; it = it->next, i++) {
        if (rc == -1) {
            it->res.code = CLUSTER_UNKNOWN; /* it may have been delivered */
        } else if (rc == 0) {
            json_t *r = json_array_get(ans, i);
            it->res.code = (int)json_integer_value(json_array_get(r, 0));
            it->res.res.code = (int)json_integer_value(json_array_get(r, 1));
            it->res.res.rev = (uint64_t)json_integer_value(json_array_get(r, 2));
            it->res.index = (uint64_t)json_integer_value(json_array_get(r, 3));
        }
    }
    json_decref(ans);
    answer_batch(f, items);
}

static void *forwarder_main(void *arg)
{
    struct fwd_worker *w = arg;
    struct forwarder *f = w->f;
    for (;;) {
        unsigned n;
        struct fwd_item *items = take_batch(f, &n);
        if (!items)
            return NULL;
        send_batch(f, items, n, &w->fl);
    }
}

/* Gives up fl's request if it went to another leader than leader; with
 * fl->mu held. Returns the leader it went to, or 0. */
static uint64_t flight_give_up(struct fwd_flight *fl, uint64_t leader)
{
    if (!fl->c || fl->leader == leader)
        return 0;
    httpc_abort(fl->c);
    fl->c = NULL; /* aborted once is enough; flight_end sees it was */
    return fl->leader;
}

void forwarder_leader_changed(struct forwarder *f, uint64_t leader)
{
    if (!f || !leader)
        return;
    unsigned given_up = 0;
    uint64_t old = 0, was;
    pthread_mutex_lock(&f->mu);
    for (unsigned i = 0; i < FWD_THREADS; i++)
        if ((was = flight_give_up(&f->workers[i].fl, leader)) != 0) {
            old = was;
            given_up++;
        }
    pthread_mutex_unlock(&f->mu);
    if (given_up)
        LOG_INFO("forward: %u batches to former leader %llu given up (outcome unknown): "
                 "leader %llu now",
                 given_up, (unsigned long long)old, (unsigned long long)leader);
}

void server_leader_changed(struct server *s, uint64_t leader)
{
    if (!leader)
        return;
    forwarder_leader_changed(s->fwd, leader);
    struct fwd_flight *fl = &s->pool->ri.fl;
    pthread_mutex_lock(fl->mu);
    uint64_t old = flight_give_up(fl, leader);
    pthread_mutex_unlock(fl->mu);
    if (old) /* a read index is asked again at once: nothing was written */
        LOG_INFO("forward: read index from former leader %llu given up: leader %llu now",
                 (unsigned long long)old, (unsigned long long)leader);
}

struct forwarder *forwarder_start(struct server *s)
{
    struct forwarder *f = xcalloc(1, sizeof *f);
    f->s = s;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->work, NULL);
    for (int i = 0; i < FWD_THREADS; i++) {
        struct fwd_worker *w = &f->workers[i];
        w->f = f;
        w->fl.mu = &f->mu;
        pthread_create(&w->thread, NULL, forwarder_main, w);
        pthread_setname_np(w->thread, "forwarder");
    }
    return f;
}

/* Called after the HTTP server stopped: nobody submits any more. */
void forwarder_stop(struct forwarder *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_broadcast(&f->work);
    pthread_mutex_unlock(&f->mu);
    for (int i = 0; i < FWD_THREADS; i++)
        pthread_join(f->workers[i].thread, NULL);
    pthread_cond_destroy(&f->work);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

/* One read-index request to the leader. */
static void read_index_ask(struct server *s, uint64_t leader, int timeout_ms,
                           struct cluster_result *cr)
{
    json_t *ans = NULL;
    cr->code = CLUSTER_NOT_LEADER;
    if (leader_call(s, leader, "GET", "/internal/readindex", NULL, 0, timeout_ms, &ans,
                    &s->pool->ri.fl) == 0) {
        cr->code = (int)json_integer_value(json_object_get(ans, "code"));
        cr->index = (uint64_t)json_integer_value(json_object_get(ans, "index"));
        json_decref(ans);
    }
}

/* A read index from a request sent after this call began (see ri_flight). */
static void read_index_shared(struct server *s, uint64_t leader, int timeout_ms,
                              struct cluster_result *cr)
{
    struct ri_flight *f = &s->pool->ri;
    struct timespec until;
    util_deadline(&until, timeout_ms);
    pthread_mutex_lock(&f->mu);
    uint64_t want = f->started + 1;
    for (;;) {
        if (f->done >= want) {
            *cr = f->last;
            break;
        }
        if (!f->in_flight) {
            f->in_flight = true;
            uint64_t n = ++f->started;
            assert(n >= want);
            pthread_mutex_unlock(&f->mu);
            struct cluster_result got;
            read_index_ask(s, leader, timeout_ms, &got);
            pthread_mutex_lock(&f->mu);
            f->last = got;
            f->done = n;
            f->in_flight = false;
            pthread_cond_broadcast(&f->cond);
            continue;
        }
        if (pthread_cond_timedwait(&f->cond, &f->mu, &until) == ETIMEDOUT) {
            cr->code = CLUSTER_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&f->mu);
}

int server_read_barrier(struct server *s, char *msg, size_t msglen)
{
    uint64_t deadline = util_now_ms() + (uint64_t)s->cfg.request_timeout_ms;
    uint64_t start = util_now_ms();
    for (;;) {
        int left = remaining_ms(deadline);
        if (left == 0)
            break;
        struct cluster_info in;
        cluster_info(s->cluster, &in);
        struct cluster_result cr = {.code = CLUSTER_NOT_LEADER};
        if (in.leader_id == s->cfg.id) {
            cluster_read_index(s->cluster, left, &cr);
        } else if (in.leader_id != 0) {
            read_index_shared(s, in.leader_id, left, &cr);
        }
        if (cr.code == CLUSTER_OK) {
            if (store_wait_index(s->store, cr.index, remaining_ms(deadline)))
                return 0;
            break;
        }
        if (cr.code == CLUSTER_TIMEOUT)
            break;
        if (util_now_ms() - start > no_leader_wait_ms(s)) {
            snprintf(msg, msglen, "no leader is known: the cluster has no quorum or is electing "
                                  "one");
            return 503;
        }
        sleep_ms(20);
    }
    snprintf(msg, msglen, "the read could not be made consistent in time");
    return 504;
}

enum MHD_Result server_forward_json(struct server *s, const char *method, const char *path,
                                    struct request *rq, bool *leading)
{
    struct cluster_info in;
    uint64_t start = util_now_ms();
    *leading = false;
    for (;;) {
        /* A candidate asked (a leader handing over forwards to the one it
         * chose, which may hear so before it knows it won): once it leads,
         * the request is its own, not one to wait out and refuse. */
        if (cluster_is_leader(s->cluster)) {
            *leading = true;
            return MHD_NO;
        }
        cluster_info(s->cluster, &in);
        if (in.leader_id && in.leader_id != s->cfg.id)
            break;
        if (util_now_ms() - start > no_leader_wait_ms(s))
            return reply_status(rq, 503, "ServiceUnavailable", "no leader is known");
        sleep_ms(20);
    }
    char url[160];
    if (!server_member_api(s, in.leader_id, url, sizeof url))
        return reply_status(rq, 503, "ServiceUnavailable", "the leader's API address is unknown");
    struct httpc *c = httpc_new(url);
    static const char *const hdrs[] = {"Content-Type: application/json", NULL};
    struct httpc_response resp;
    int rc = c ? httpc_request(c, method, path, hdrs, rq->body.data, rq->body.len, 60000, &resp)
               : -1;
    httpc_free(c);
    if (rc != 0)
        return reply_status(rq, 504, "Timeout", "the leader did not answer");
    enum MHD_Result ret =
        reply_text(rq, (unsigned)resp.status, resp.content_type ? resp.content_type
                                                                 : "application/json",
                   resp.body ? resp.body : "");
    httpc_response_free(&resp);
    return ret;
}

/* ---- the leader's side ---- */

/* The commands of a forwarded batch: each a 4-byte big-endian length, then
 * a store command. Their count, or -1 if one is malformed (*bad its place). */
static int batch_split(struct request *rq, const void ***cmds, size_t **lens, unsigned *bad)
{
    const unsigned char *p = (const unsigned char *)rq->body.data, *end = p + rq->body.len;
    unsigned n = 0, cap = 64;
    *cmds = xmalloc(cap * sizeof **cmds);
    *lens = xmalloc(cap * sizeof **lens);
    while (p && p < end) {
        size_t len = end - p < 4 ? SIZE_MAX
                                 : (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
        if (len > (size_t)(end - p) - 4 || !store_cmd_valid(p + 4, len)) {
            free(*cmds);
            free(*lens);
            *bad = n;
            return -1;
        }
        if (n == cap) {
            cap *= 2;
            *cmds = xrealloc(*cmds, cap * sizeof **cmds);
            *lens = xrealloc(*lens, cap * sizeof **lens);
        }
        (*cmds)[n] = p + 4;
        (*lens)[n++] = len;
        p += 4 + len;
    }
    return (int)n;
}

static enum MHD_Result batch_reply(struct request *rq, const struct cluster_result *outs,
                                   unsigned n)
{
    json_t *arr = json_array();
    for (unsigned i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("[i, i, I, I]", outs[i].code, outs[i].res.code,
                                             (json_int_t)outs[i].res.rev,
                                             (json_int_t)outs[i].index));
    return reply_json(rq, 200, arr);
}

/* A forwarded batch proposed without a thread: the leader's side of every
 * write that reaches a follower. On a worker it cost two thread hand-offs
 * per batch, and under a trickle of writes (Lease renewals) every batch is
 * one write. Each command's outcome arrives on the Raft loop; the last one
 * resumes the connection and the event loop replies. */
struct batch_async {
    unsigned n;
    unsigned left; /* outcomes still to come (atomic) */
    struct request *rq;
    struct cluster_result *outs;
    struct batch_slot {
        struct batch_async *b;
        unsigned i;
    } *slots;
};

static void batch_async_free(struct batch_async *b)
{
    free(b->outs);
    free(b->slots);
    free(b);
}

static enum MHD_Result batch_async_reply(struct request *rq)
{
    struct batch_async *b = rq->async;
    rq->async = NULL;
    rq->abandon = NULL;
    enum MHD_Result ret = batch_reply(rq, b->outs, b->n);
    batch_async_free(b);
    return ret;
}

static void batch_async_abandon(struct request *rq)
{
    batch_async_free(rq->async);
    rq->async = NULL;
}

/* On the Raft loop (or the caller's thread when stopping). */
static void batch_async_done(void *arg, const struct cluster_result *cr)
{
    struct batch_slot *slot = arg;
    struct batch_async *b = slot->b;
    b->outs[slot->i] = *cr;
    if (__atomic_sub_fetch(&b->left, 1, __ATOMIC_ACQ_REL) == 0)
        http_async_finish(b->rq, batch_async_reply);
}

/* The leader's side of the forwarder: a batch of framed commands, proposed
 * together; a malformed frame makes the whole request a 400. */
int internal_start_async(struct request *rq)
{
    if (strcmp(rq->url, "/internal/propose") != 0 || strcmp(rq->method, "POST") != 0)
        return -1;
    const void **cmds;
    size_t *lens;
    unsigned bad = 0;
    int n = batch_split(rq, &cmds, &lens, &bad);
    if (n < 0)
        return (int)reply_status(rq, 400, "BadRequest", "malformed command %u", bad);
    if (n == 0) {
        free(cmds);
        free(lens);
        return (int)batch_reply(rq, NULL, 0);
    }
    struct batch_async *b = xcalloc(1, sizeof *b);
    b->n = b->left = (unsigned)n;
    b->rq = rq;
    b->outs = xcalloc((size_t)n, sizeof *b->outs);
    b->slots = xcalloc((size_t)n, sizeof *b->slots);
    void **args = xmalloc((size_t)n * sizeof *args);
    for (int i = 0; i < n; i++) {
        b->slots[i] = (struct batch_slot){b, (unsigned)i};
        args[i] = &b->slots[i];
    }
    rq->async = b;
    rq->abandon = batch_async_abandon;
    http_async_begin(rq);
    cluster_propose_batch_async(rq->srv->cluster, cmds, lens, (unsigned)n,
                                rq->srv->cfg.request_timeout_ms, batch_async_done, args);
    free(args);
    free(cmds);
    free(lens);
    return MHD_YES;
}

static enum MHD_Result internal_readindex(struct request *rq)
{
    struct cluster_result cr;
    cluster_read_index(rq->srv->cluster, rq->srv->cfg.request_timeout_ms, &cr);
    return reply_json(rq, 200, json_pack("{s:i, s:I}", "code", cr.code, "index",
                                         (json_int_t)cr.index));
}

enum MHD_Result internal_handle(struct request *rq)
{
    /* POST /internal/propose never gets here: internal_start_async takes
     * it on the event loop (one too large was refused before). */
    if (strcmp(rq->url, "/internal/readindex") == 0 && strcmp(rq->method, "GET") == 0)
        return internal_readindex(rq);
    return reply_status(rq, 404, "NotFound", "no such internal endpoint");
}
