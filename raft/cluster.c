/* cluster.c — the Raft member's loop thread, its request queue, group
 * commit and read-index (see cluster.h for the model).
 *
 * Requests from other threads are `struct call`s: heap objects holding the
 * caller's arguments, a condition variable and the answer. The caller pushes
 * one on `queue` under `mu` and wakes the loop (uv_async_send); the loop
 * moves calls to its own lists and answers each exactly once (call_finish).
 * A caller that times out marks its call abandoned; whichever side comes last
 * frees it, so neither ever touches freed memory. An asynchronous proposal
 * (cluster_propose_async) has a callback instead of a waiter: the loop calls
 * it with the answer and frees the call, or calls it with a timeout at its
 * deadline (expire_cb) and marks it abandoned.
 *
 * Group commit: proposals wait in `proposals` until fewer than max_inflight
 * entries are in flight; then one entry takes every waiting command (up to
 * max_entry_bytes). While an entry is being replicated and fsynced, new
 * commands pile up and go together into the next one, so the number of
 * fsyncs grows with time, not with clients.
 *
 * Read-index: reads wait in `reads` for a barrier proposed after they arrived
 * (at most one barrier in flight); when it commits, this member was leader
 * when every one of those reads arrived, and its index covers every write
 * acknowledged before them. */
#include "raft/cluster.h"
#include "raft/disk_fault.h"
#include "raft/transport.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

enum call_type {
    CALL_PROPOSE,
    CALL_READ,
    CALL_ADD,
    CALL_ASSIGN,
    CALL_REMOVE,
    CALL_TRANSFER,
    CALL_HURRY,
    CALL_STOP,
};

struct call {
    enum call_type type;
    struct call *next;
    pthread_mutex_t mu; /* guards done, abandoned and result */
    pthread_cond_t cond;
    bool done;
    bool abandoned;
    /* arguments */
    void *cmd;
    size_t cmd_len;
    uint64_t id;
    int role;
    char address[128];
    /* asynchronous calls (cluster_propose_async): answered through done_fn
     * on the loop instead of cond; deadline_ms bounds the wait */
    cluster_done_fn done_fn;
    void *done_arg;
    uint64_t deadline_ms;
    /* answer */
    struct cluster_result result;
};

/* One appended entry and the calls waiting for it. */
struct batch {
    struct raft_apply req;
    struct cluster *c;
    struct call **calls;
    unsigned n;
    struct store_batch_result *results; /* set by on_result at apply */
    struct batch *next;
};

struct barrier {
    struct raft_barrier req;
    struct cluster *c;
    struct call *reads;  /* the reads this barrier serves */
    uint64_t read_index; /* what they get: see read_barrier_start */
    uint64_t term;
};

struct change {
    struct raft_change req;
    struct cluster *c;
    struct call *call;
    bool promote_next; /* add: assign voter once the spare is in */
};

struct xfer {
    struct raft_transfer req;
    struct cluster *c;
    struct call *call;
};

struct cluster {
    struct cluster_config cfg;
    struct store *store;
    uv_loop_t loop;
    uv_async_t async;
    uv_check_t check;
    uv_timer_t tune; /* adapts the snapshot threshold to the state's size */
    uv_timer_t expire; /* answers asynchronous proposals past their deadline */
    struct raft_io io;
    struct disk_fault *disk_fault; /* NULL unless cfg.fault_disk */
    struct raft_uv_transport transport;
    struct raft raft;
    struct raft_fsm fsm;
    struct cluster_fsm cfsm;
    pthread_t thread;
    char raft_dir[1024];
    char raft_addr[128];

    pthread_mutex_t mu; /* guards queue and stopping */
    struct call *queue, *queue_tail;
    bool stopping;
    pthread_mutex_t info_mu; /* guards info */
    struct cluster_info info;

    /* loop thread only */
    struct call *proposals, *proposals_tail;
    struct call *reads;
    struct batch *inflight; /* appended entries, oldest first */
    unsigned n_inflight;
    bool barrier_busy;
    bool nudge_busy;
    uint64_t term_committed; /* a term in which one of our entries committed */
    bool change_busy;
    bool closing;
    /* cluster_leader_gone: the dead leader this follower stopped waiting a
     * whole election timeout for (0: none), and whether it has been a
     * candidate since */
    uint64_t hurry_from;
    bool hurry_campaigned;
};

const char *cluster_code_name(int code)
{
    static const char *names[] = {"ok", "not leader", "outcome unknown", "timeout", "error",
                                  "shutting down"};
    return code >= 0 && code <= CLUSTER_SHUTDOWN ? names[code] : "?";
}

/* ---- calls ---- */

static struct call *call_new(enum call_type type)
{
    struct call *k = xcalloc(1, sizeof *k);
    k->type = type;
    pthread_mutex_init(&k->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&k->cond, &ca);
    pthread_condattr_destroy(&ca);
    return k;
}

static void call_free(struct call *k)
{
    pthread_cond_destroy(&k->cond);
    pthread_mutex_destroy(&k->mu);
    free(k->cmd);
    free(k);
}

/* Loop side: answer a call once. Each call has its own lock, so answering a
 * batch of 50 does not make 50 waiters fight over one mutex. */
static void call_finish(struct cluster *c, struct call *k, int code)
{
    (void)c;
    if (k->done_fn) { /* asynchronous: nobody waits on cond */
        k->result.code = code;
        k->done_fn(k->done_arg, &k->result);
        call_free(k);
        return;
    }
    pthread_mutex_lock(&k->mu);
    assert(!k->done);
    k->result.code = code;
    k->done = true;
    bool abandoned = k->abandoned;
    if (!abandoned)
        pthread_cond_signal(&k->cond);
    pthread_mutex_unlock(&k->mu);
    if (abandoned)
        call_free(k);
}

/* Queues calls (linked through next) with one lock and one wake-up; false if
 * the cluster is stopping (then nothing was queued). */
static bool calls_queue(struct cluster *c, struct call *first, struct call *last)
{
    pthread_mutex_lock(&c->mu);
    if (c->stopping) {
        pthread_mutex_unlock(&c->mu);
        return false;
    }
    if (c->queue_tail)
        c->queue_tail->next = first;
    else
        c->queue = first;
    c->queue_tail = last;
    pthread_mutex_unlock(&c->mu);
    uv_async_send(&c->async);
    return true;
}


/* Caller side: wait for a queued call until ts, copy the answer out, and
 * free it (or leave it to the loop, marked abandoned). */
static void call_wait(struct call *k, const struct timespec *ts, struct cluster_result *out)
{
    pthread_mutex_lock(&k->mu);
    while (!k->done)
        if (pthread_cond_timedwait(&k->cond, &k->mu, ts) == ETIMEDOUT)
            break;
    bool done = k->done;
    if (done)
        *out = k->result;
    else
        k->abandoned = true;
    pthread_mutex_unlock(&k->mu);
    if (done) {
        call_free(k);
    } else {
        memset(out, 0, sizeof *out);
        out->code = CLUSTER_TIMEOUT;
    }
}

static void call_run(struct cluster *c, struct call *k, int timeout_ms, struct cluster_result *out)
{
    struct timespec ts;
    util_deadline(&ts, timeout_ms);
    if (!calls_queue(c, k, k)) {
        memset(out, 0, sizeof *out);
        out->code = CLUSTER_SHUTDOWN;
        call_free(k);
        return;
    }
    call_wait(k, &ts, out);
}

static void not_leader(struct cluster *c, struct call *k)
{
    raft_id id;
    const char *addr;
    raft_leader(&c->raft, &id, &addr);
    k->result.leader_id = id;
    call_finish(c, k, CLUSTER_NOT_LEADER);
}

static void call_error(struct cluster *c, struct call *k, const char *what, int rv)
{
    snprintf(k->result.message, sizeof k->result.message, "%s: %s", what, raft_strerror(rv));
    if (rv == RAFT_NOTLEADER || rv == RAFT_LEADERSHIPLOST) {
        if (rv == RAFT_NOTLEADER) {
            not_leader(c, k);
            return;
        }
        call_finish(c, k, CLUSTER_UNKNOWN);
        return;
    }
    call_finish(c, k, CLUSTER_ERROR);
}

/* ---- group commit ---- */

static bool on_result(void *arg, struct store_batch_result *br)
{
    struct cluster *c = arg;
    for (struct batch *b = c->inflight; b; b = b->next)
        if (b->req.index == br->index) {
            b->results = br;
            return true;
        }
    return false;
}

static void batch_unlink(struct cluster *c, struct batch *b)
{
    struct batch **pp = &c->inflight;
    while (*pp && *pp != b)
        pp = &(*pp)->next;
    assert(*pp == b);
    *pp = b->next;
    c->n_inflight--;
}

static void propose_pending(struct cluster *c);

static void nudge_done(struct raft_barrier *req, int status)
{
    struct cluster *c = req->data;
    c->nudge_busy = false;
    free(req);
}

/* Followers learn a new commit index only with the next AppendEntries, which
 * on an idle leader is the next heartbeat (up to two heartbeat intervals).
 * A follower waiting to apply its forwarded write would wait that long, and
 * so would every watch on a follower for the leader's own writes (the
 * controllers', clients' of the leader): 50-150 ms measured with
 * `bosun bench watch --writer LEADER`. So when nothing else is about to be
 * sent, append an (empty) barrier entry: its AppendEntries goes out at once
 * and carries the commit index. Under load an entry is always in flight and
 * no barrier is added. */
static void nudge_followers(struct cluster *c)
{
    if (c->n_inflight > 0 || c->barrier_busy || c->nudge_busy ||
        raft_state(&c->raft) != RAFT_LEADER)
        return;
    struct raft_barrier *req = xcalloc(1, sizeof *req);
    req->data = c;
    if (raft_barrier(&c->raft, req, nudge_done) != 0) {
        free(req);
        return;
    }
    c->nudge_busy = true;
}

static void batch_applied(struct raft_apply *req, int status, void *result)
{
    struct batch *b = req->data;
    struct cluster *c = b->c;
    (void)result;
    batch_unlink(c, b);
    store_publish_index(c->store, raft_last_applied(&c->raft));
    if (status == 0 && raft_state(&c->raft) == RAFT_LEADER)
        c->term_committed = raft_current_term(&c->raft);
    for (unsigned i = 0; i < b->n; i++) {
        struct call *k = b->calls[i];
        k->result.index = b->req.index;
        if (status == 0 && b->results && i < b->results->n) {
            k->result.res = b->results->r[i];
            call_finish(c, k, CLUSTER_OK);
        } else {
            /* Appended but not known to be applied here: it may still commit. */
            call_finish(c, k, status == 0 ? CLUSTER_ERROR : CLUSTER_UNKNOWN);
        }
    }
    free(b->results);
    free(b->calls);
    free(b);
    if (c->closing)
        return;
    propose_pending(c);
    if (status == 0)
        nudge_followers(c);
}

/* Moves up to max_entry_bytes of waiting proposals into one entry. */
static void propose_one(struct cluster *c)
{
    struct ubuf head = {0};
    unsigned n = 0;
    size_t bytes = 0;
    struct call *k = c->proposals;
    while (k && (n == 0 || bytes + k->cmd_len <= c->cfg.max_entry_bytes)) {
        bytes += k->cmd_len;
        n++;
        k = k->next;
    }
    store_entry_encode_header(n, c->cfg.history, &head);
    struct raft_buffer buf;
    /* raft_uv requires entry lengths in multiples of 8; the padding zeros
     * follow the last command and apply never reads them. */
    buf.len = (head.len + bytes + 7) & ~(size_t)7;
    buf.base = raft_calloc(1, buf.len);
    if (!buf.base)
        abort();
    memcpy(buf.base, head.data, head.len);
    size_t head_len = head.len;
    ubuf_free(&head);

    struct batch *b = xcalloc(1, sizeof *b);
    b->c = c;
    b->req.data = b;
    b->calls = xmalloc(n * sizeof *b->calls);
    char *p = (char *)buf.base + head_len;
    for (unsigned i = 0; i < n; i++) {
        k = c->proposals;
        c->proposals = k->next;
        k->next = NULL;
        memcpy(p, k->cmd, k->cmd_len);
        p += k->cmd_len;
        b->calls[b->n++] = k;
    }
    if (!c->proposals)
        c->proposals_tail = NULL;

    int rv = raft_apply(&c->raft, &b->req, &buf, 1, batch_applied);
    if (rv != 0) {
        /* libraft's ClientSubmit refuses with NOTLEADER or NOSPACE before it
         * takes the entry, so buf is still ours then. Past those checks it
         * may already have released buf, so for any other error we must
         * not free it: a rare leak beats a double free. */
        if (rv == RAFT_NOTLEADER || rv == RAFT_NOSPACE)
            raft_free(buf.base);
        LOG_WARN("raft: propose failed: %s (%s)", raft_strerror(rv), raft_errmsg(&c->raft));
        for (unsigned i = 0; i < b->n; i++)
            call_error(c, b->calls[i], "propose", rv);
        free(b->calls);
        free(b);
        return;
    }
    /* Oldest first, so on_result's search is short. */
    struct batch **pp = &c->inflight;
    while (*pp)
        pp = &(*pp)->next;
    *pp = b;
    c->n_inflight++;
}

static void propose_pending(struct cluster *c)
{
    if (c->proposals && raft_state(&c->raft) != RAFT_LEADER) {
        while (c->proposals) {
            struct call *k = c->proposals;
            c->proposals = k->next;
            not_leader(c, k);
        }
        c->proposals_tail = NULL;
        return;
    }
    /* A leader transferring its leadership refuses new entries (libraft
     * answers NOTLEADER): they wait here until the transfer is over, then
     * go to this leader (the transfer failed) or are sent on to the new one
     * (check_cb). */
    if (raft_transferee(&c->raft) != 0)
        return;
    while (c->proposals && c->n_inflight < c->cfg.max_inflight)
        propose_one(c);
}

/* ---- read index ---- */

static void read_barrier_start(struct cluster *c);

static void read_barrier_done(struct raft_barrier *req, int status)
{
    struct barrier *b = req->data;
    struct cluster *c = b->c;
    c->barrier_busy = false;
    store_publish_index(c->store, raft_last_applied(&c->raft));
    if (status == 0)
        c->term_committed = b->term;
    while (b->reads) {
        struct call *k = b->reads;
        b->reads = k->next;
        k->result.index = b->read_index ? b->read_index : req->index;
        if (status == 0)
            call_finish(c, k, CLUSTER_OK);
        else
            call_error(c, k, "read barrier", status);
    }
    free(b);
    if (!c->closing)
        read_barrier_start(c);
}

static void read_barrier_start(struct cluster *c)
{
    if (c->barrier_busy || !c->reads)
        return;
    if (raft_state(&c->raft) != RAFT_LEADER) {
        while (c->reads) {
            struct call *k = c->reads;
            c->reads = k->next;
            not_leader(c, k);
        }
        return;
    }
    struct barrier *b = xcalloc(1, sizeof *b);
    b->c = c;
    b->req.data = b;
    b->reads = c->reads;
    c->reads = NULL;
    /* Raft thesis 6.4: once the leader has committed an entry of its current
     * term, its commit index covers every write acknowledged before now, so
     * the reads need only that index, provided the barrier (proposed now)
     * then commits, proving it was still leader after they arrived. Before
     * that, the barrier's own index is the safe answer. Followers usually
     * have applied the commit index already and need not wait. */
    b->term = raft_current_term(&c->raft);
    if (c->term_committed == b->term)
        b->read_index = raft_commit_index(&c->raft);
    int rv = raft_barrier(&c->raft, &b->req, read_barrier_done);
    if (rv != 0) {
        while (b->reads) {
            struct call *k = b->reads;
            b->reads = k->next;
            call_error(c, k, "read barrier", rv);
        }
        free(b);
        return;
    }
    c->barrier_busy = true;
}

/* ---- membership and leadership ---- */

static void change_done(struct raft_change *req, int status)
{
    struct change *ch = req->data;
    struct cluster *c = ch->c;
    if (status == 0 && ch->promote_next) {
        /* The spare is in; promoting it to voter makes libraft catch it up
         * first, then commit the new configuration. */
        ch->promote_next = false;
        int rv = raft_assign(&c->raft, &ch->req, ch->call->id, RAFT_VOTER, change_done);
        if (rv == 0)
            return;
        status = rv;
    }
    c->change_busy = false;
    if (status == 0)
        call_finish(c, ch->call, CLUSTER_OK);
    else
        call_error(c, ch->call, "membership change", status);
    free(ch);
}

/* Why a membership change cannot start now, or NULL. libraft 0.22.1
 * refuses a change during a leadership transfer or while another
 * configuration is uncommitted (a new leader's log may end with one) or a
 * promotion runs, and when it refuses after encoding the configuration it
 * leaks it (clientChangeConfiguration): so ask libraft only when it will
 * take the change. The caller tries again later. */
static const char *change_refusal(const struct cluster *c)
{
    if (c->change_busy)
        return "another membership change is in progress";
    if (raft_transferee(&c->raft) != 0)
        return "a leadership transfer is in progress";
    if (c->raft.configuration_uncommitted_index != 0 || c->raft.leader_state.promotee_id != 0)
        return "the previous configuration is not committed yet";
    return NULL;
}

static void change_start(struct cluster *c, struct call *k)
{
    if (raft_state(&c->raft) != RAFT_LEADER) {
        not_leader(c, k);
        return;
    }
    const char *busy = change_refusal(c);
    if (busy) {
        snprintf(k->result.message, sizeof k->result.message, "%s", busy);
        call_finish(c, k, CLUSTER_ERROR);
        return;
    }
    struct change *ch = xcalloc(1, sizeof *ch);
    ch->c = c;
    ch->call = k;
    ch->req.data = ch;
    int rv;
    switch (k->type) {
    case CALL_ADD:
        ch->promote_next = true;
        rv = raft_add(&c->raft, &ch->req, k->id, k->address, change_done);
        break;
    case CALL_ASSIGN:
        rv = raft_assign(&c->raft, &ch->req, k->id, k->role, change_done);
        break;
    default:
        rv = raft_remove(&c->raft, &ch->req, k->id, change_done);
        break;
    }
    if (rv != 0) {
        free(ch);
        call_error(c, k, "membership change", rv);
        return;
    }
    c->change_busy = true;
}

static void transfer_done(struct raft_transfer *req)
{
    struct xfer *x = req->data;
    struct cluster *c = x->c;
    raft_id id;
    const char *addr;
    raft_leader(&c->raft, &id, &addr);
    x->call->result.leader_id = id;
    if (id != c->cfg.id && id != 0)
        call_finish(c, x->call, CLUSTER_OK);
    else {
        snprintf(x->call->result.message, sizeof x->call->result.message,
                 "leadership did not move within the election timeout");
        call_finish(c, x->call, CLUSTER_ERROR);
    }
    free(x);
}

static void transfer_start(struct cluster *c, struct call *k)
{
    if (raft_state(&c->raft) != RAFT_LEADER) {
        not_leader(c, k);
        return;
    }
    struct xfer *x = xcalloc(1, sizeof *x);
    x->c = c;
    x->call = k;
    x->req.data = x;
    int rv = raft_transfer(&c->raft, &x->req, k->id, transfer_done);
    if (rv != 0) {
        free(x);
        call_error(c, k, "transfer", rv);
    }
}

/* ---- the loop ---- */

/* Leadership changes are logged: when this member starts or stops leading
 * and which leader it follows, the first thing to read after a failover.
 * Only the loop thread writes c->info, so reading the old copy here needs
 * no lock. */
static void log_role_change(const struct cluster_info *was, const struct cluster_info *now)
{
    bool led = was->state == RAFT_LEADER, leads = now->state == RAFT_LEADER;
    if (leads && !led)
        LOG_INFO("raft: leading (term %llu)", (unsigned long long)now->term);
    else if (led && !leads)
        LOG_INFO("raft: no longer leading (term %llu, %s)", (unsigned long long)now->term,
                 now->state_name);
    else if (!leads && now->leader_id && now->leader_id != was->leader_id)
        LOG_INFO("raft: following %llu (term %llu)", (unsigned long long)now->leader_id,
                 (unsigned long long)now->term);
}

static void refresh_info(struct cluster *c)
{
    struct cluster_info in = {0};
    raft_id lid;
    const char *laddr;
    in.id = c->cfg.id;
    in.state = raft_state(&c->raft);
    in.state_name = raft_state_name(in.state);
    in.term = raft_current_term(&c->raft);
    raft_leader(&c->raft, &lid, &laddr);
    in.leader_id = lid;
    if (laddr)
        snprintf(in.leader_addr, sizeof in.leader_addr, "%s", laddr);
    in.commit_index = raft_commit_index(&c->raft);
    in.last_applied = raft_last_applied(&c->raft);
    in.last_index = raft_last_index(&c->raft);
    const struct raft_configuration *conf = &c->raft.configuration;
    for (unsigned i = 0; i < conf->n && i < CLUSTER_MAX_MEMBERS; i++) {
        in.members[i].id = conf->servers[i].id;
        snprintf(in.members[i].address, sizeof in.members[i].address, "%s",
                 conf->servers[i].address);
        in.members[i].role = conf->servers[i].role;
        in.n_members++;
    }
    log_role_change(&c->info, &in);
    pthread_mutex_lock(&c->info_mu);
    c->info = in;
    pthread_mutex_unlock(&c->info_mu);
}

/* Snapshot cadence. A snapshot copies the whole state, so taking one every
 * fixed number of entries makes its cost grow with the state: with batches of
 * ~50 writes and 200k objects, half the leader's CPU went to snapshots. Here
 * the threshold is raised so that the log since the last snapshot is about
 * as large as the state itself: the copying then costs at most as much as
 * the writing did (amortised O(1) per byte), and the log on disk stays within
 * twice the state. The default threshold is the floor; a threshold given
 * explicitly (cfg.snapshot_adaptive false) is used as it is. */
#define SNAPSHOT_THRESHOLD_MAX (1u << 20)
static void tune_cb(uv_timer_t *h)
{
    struct cluster *c = h->data;
    if (c->closing || c->cfsm.entries_applied == 0 || !c->cfg.snapshot_adaptive)
        return;
    uint64_t avg = c->cfsm.bytes_applied / c->cfsm.entries_applied;
    uint64_t want = store_size_bytes(c->store) / (avg ? avg : 1);
    if (want < c->cfg.snapshot_threshold)
        want = c->cfg.snapshot_threshold;
    if (want > SNAPSHOT_THRESHOLD_MAX)
        want = SNAPSHOT_THRESHOLD_MAX;
    raft_set_snapshot_threshold(&c->raft, (unsigned)want);
}

/* An asynchronous proposal has no waiter to time it out: past its deadline
 * it is answered CLUSTER_TIMEOUT here (its entry may still commit, as a
 * synchronous caller's may after it gave up) and left abandoned, so the
 * answer that comes later only frees it. */
#define EXPIRE_TICK_MS 100
static void expire_call(struct call *k, uint64_t now)
{
    if (!k->done_fn || now < k->deadline_ms)
        return;
    k->result.code = CLUSTER_TIMEOUT;
    k->done_fn(k->done_arg, &k->result);
    k->done_fn = NULL;
    k->abandoned = true;
}

static void expire_cb(uv_timer_t *h)
{
    struct cluster *c = h->data;
    if (c->closing)
        return;
    uint64_t now = util_now_ms();
    for (struct call *k = c->proposals; k; k = k->next)
        expire_call(k, now);
    for (struct batch *b = c->inflight; b; b = b->next)
        for (unsigned i = 0; i < b->n; i++)
            expire_call(b->calls[i], now);
}

/* Fast failover. A follower whose leader's process is known to be gone
 * (cluster_leader_gone: the server saw its connection to the leader's API
 * close and a new one refused) need not wait for its election timeout, 1
 * to 2 s by default, to notice the silence: it lowers its timeout to
 * HURRY_MS (at least two heartbeats) until the election is over, which
 * libraft measures from the last heartbeat, so it campaigns at once. The
 * other survivors learn the same thing at the same moment and do the
 * same; one that still believes in the old leader rejects a pre-vote (the
 * leader stickiness of Raft 4.2.3) and its own lowered timer soon ends
 * that belief. Safety does not depend on timeouts; if the leader was not
 * dead after all, its heartbeats keep the followers where they are and
 * their pre-votes fail. The normal timeout comes back once this member
 * leads, or follows a leader after having campaigned, or follows another
 * leader. */
#define HURRY_MS 150
static unsigned hurry_ms(const struct cluster *c)
{
    unsigned ms = c->cfg.election_ms < HURRY_MS ? c->cfg.election_ms : HURRY_MS;
    return ms < 2 * c->cfg.heartbeat_ms ? 2 * c->cfg.heartbeat_ms : ms;
}

static void hurry_start(struct cluster *c, struct call *k)
{
    raft_id lid;
    const char *addr;
    raft_leader(&c->raft, &lid, &addr);
    if (raft_state(&c->raft) == RAFT_FOLLOWER && lid == k->id && !c->hurry_from &&
        hurry_ms(c) < c->cfg.election_ms) {
        LOG_INFO("raft: leader %llu is gone: election timeout %u ms until there is a new one",
                 (unsigned long long)lid, hurry_ms(c));
        raft_set_election_timeout(&c->raft, hurry_ms(c));
        c->hurry_from = lid;
        c->hurry_campaigned = false;
    }
    call_finish(c, k, CLUSTER_OK);
}

/* After every iteration: the normal election timeout back once the
 * election that hurry_start brought forward is over. */
static void hurry_check(struct cluster *c)
{
    if (!c->hurry_from)
        return;
    raft_id lid;
    const char *addr;
    raft_leader(&c->raft, &lid, &addr);
    int st = raft_state(&c->raft);
    if (st == RAFT_CANDIDATE)
        c->hurry_campaigned = true;
    bool over = st == RAFT_LEADER || st == RAFT_UNAVAILABLE ||
                (st == RAFT_FOLLOWER && lid && (lid != c->hurry_from || c->hurry_campaigned));
    if (!over)
        return;
    raft_set_election_timeout(&c->raft, c->cfg.election_ms);
    LOG_INFO("raft: leader %llu now; election timeout %u ms again", (unsigned long long)lid,
             c->cfg.election_ms);
    c->hurry_from = 0;
}

static void close_all(struct cluster *c);

static void async_cb(uv_async_t *h)
{
    struct cluster *c = h->data;
    pthread_mutex_lock(&c->mu);
    struct call *k = c->queue;
    c->queue = c->queue_tail = NULL;
    pthread_mutex_unlock(&c->mu);
    bool stop = false;
    while (k) {
        struct call *next = k->next;
        k->next = NULL;
        if (c->closing) {
            call_finish(c, k, CLUSTER_SHUTDOWN);
            k = next;
            continue;
        }
        switch (k->type) {
        case CALL_PROPOSE:
            if (c->proposals_tail)
                c->proposals_tail->next = k;
            else
                c->proposals = k;
            c->proposals_tail = k;
            break;
        case CALL_READ:
            k->next = c->reads;
            c->reads = k;
            break;
        case CALL_ADD:
        case CALL_ASSIGN:
        case CALL_REMOVE:
            change_start(c, k);
            break;
        case CALL_TRANSFER:
            transfer_start(c, k);
            break;
        case CALL_HURRY:
            hurry_start(c, k);
            break;
        case CALL_STOP:
            stop = true;
            call_finish(c, k, CLUSTER_OK);
            break;
        }
        k = next;
    }
    if (stop) {
        close_all(c);
        return;
    }
    propose_pending(c);
    read_barrier_start(c);
}

/* After every loop iteration: publish what followers applied (barriers and
 * configuration entries do not pass through the fsm), refresh the info copy,
 * and fail queued work if leadership was lost. */
static void check_cb(uv_check_t *h)
{
    struct cluster *c = h->data;
    if (c->closing)
        return;
    store_publish_index(c->store, raft_last_applied(&c->raft));
    hurry_check(c);
    refresh_info(c);
    if (raft_state(&c->raft) != RAFT_LEADER) {
        propose_pending(c);
        read_barrier_start(c);
    } else if (c->proposals && raft_transferee(&c->raft) == 0) {
        propose_pending(c); /* held back by a transfer that is over */
    }
}

static void raft_closed(struct raft *r)
{
    struct cluster *c = r->data;
    raft_uv_close(&c->io);
    transport_close(&c->transport);
    uv_close((uv_handle_t *)&c->async, NULL);
}

static void close_all(struct cluster *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_check_stop(&c->check);
    uv_close((uv_handle_t *)&c->check, NULL);
    uv_timer_stop(&c->tune);
    uv_close((uv_handle_t *)&c->tune, NULL);
    uv_timer_stop(&c->expire);
    uv_close((uv_handle_t *)&c->expire, NULL);
    /* Everything still queued here never reached Raft: not done. */
    while (c->proposals) {
        struct call *k = c->proposals;
        c->proposals = k->next;
        call_finish(c, k, CLUSTER_SHUTDOWN);
    }
    while (c->reads) {
        struct call *k = c->reads;
        c->reads = k->next;
        call_finish(c, k, CLUSTER_SHUTDOWN);
    }
    raft_close(&c->raft, raft_closed);
}

static void *loop_main(void *arg)
{
    struct cluster *c = arg;
    uv_run(&c->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int bootstrap(struct cluster *c, const struct cluster_config *cfg, char *err, size_t errlen)
{
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    bool self = false;
    for (unsigned i = 0; i < cfg->n_peers; i++) {
        int rv = raft_configuration_add(&conf, cfg->peers[i].id, cfg->peers[i].raft_addr,
                                        RAFT_VOTER);
        if (rv != 0) {
            snprintf(err, errlen, "peer list: %s", raft_strerror(rv));
            raft_configuration_close(&conf);
            return -1;
        }
        self |= cfg->peers[i].id == cfg->id;
    }
    if (!self) {
        snprintf(err, errlen, "the peer list does not contain this server's id %llu",
                 (unsigned long long)c->cfg.id);
        raft_configuration_close(&conf);
        return -1;
    }
    int rv = raft_bootstrap(&c->raft, &conf);
    raft_configuration_close(&conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) { /* CANTBOOTSTRAP: already has state */
        snprintf(err, errlen, "bootstrap: %s", raft_errmsg(&c->raft));
        return -1;
    }
    return 0;
}

static void config_defaults(struct cluster_config *cfg)
{
    if (!cfg->election_ms)
        cfg->election_ms = 1000;
    if (!cfg->heartbeat_ms)
        cfg->heartbeat_ms = 100;
    if (!cfg->snapshot_threshold)
        cfg->snapshot_threshold = 1024;
    if (!cfg->snapshot_trailing)
        cfg->snapshot_trailing = 128;
    if (!cfg->max_inflight)
        cfg->max_inflight = 2;
    if (!cfg->max_entry_bytes)
        cfg->max_entry_bytes = 8u << 20;
}

/* Undoes a start that failed after raft_init: closing libraft closes its I/O
 * and transport, and running the loop once more completes every close. */
static void start_abort(struct cluster *c)
{
    c->closing = true;
    uv_close((uv_handle_t *)&c->check, NULL);
    uv_close((uv_handle_t *)&c->tune, NULL);
    uv_close((uv_handle_t *)&c->expire, NULL);
    raft_close(&c->raft, raft_closed);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    uv_loop_close(&c->loop);
    /* libraft finalizes a snapshot it was writing when it closes; this is
     * a backstop for its read transaction, which store_close must not see. */
    store_snapshot_release(c->cfsm.snap);
    c->cfsm.snap = NULL;
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->info_mu);
    free(c);
}

/* The disk fault hook (disk_fault.c), when configured, sits between libraft
 * and raft_uv's append and close; these find it from the io in struct
 * cluster. */
static struct cluster *io_cluster(struct raft_io *io)
{
    return (struct cluster *)((char *)io - offsetof(struct cluster, io));
}

static int fault_append(struct raft_io *io, struct raft_io_append *req,
                        const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
    return disk_fault_append(io_cluster(io)->disk_fault, io, req, entries, n, cb);
}

static void fault_close(struct raft_io *io, raft_io_close_cb cb)
{
    disk_fault_close(io_cluster(io)->disk_fault, io, cb);
}

int cluster_start(struct cluster **out, const struct cluster_config *cfg, struct store *store,
                  char *err, size_t errlen)
{
    struct cluster *c = xcalloc(1, sizeof *c);
    int rv = 0;
    err[0] = '\0';
    c->cfg = *cfg;
    config_defaults(&c->cfg);
    snprintf(c->raft_dir, sizeof c->raft_dir, "%s", cfg->raft_dir);
    snprintf(c->raft_addr, sizeof c->raft_addr, "%s", cfg->raft_addr);
    c->cfg.raft_dir = c->raft_dir;
    c->cfg.raft_addr = c->raft_addr;
    c->cfg.peers = NULL; /* only used below, while the caller's array lives */
    c->store = store;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->info_mu, NULL);
    uv_loop_init(&c->loop);
    uv_async_init(&c->loop, &c->async, async_cb);
    c->async.data = c;
    uv_check_init(&c->loop, &c->check);
    c->check.data = c;
    uv_timer_init(&c->loop, &c->tune);
    c->tune.data = c;
    uv_timer_init(&c->loop, &c->expire);
    c->expire.data = c;

    if ((rv = transport_init(&c->transport, &c->loop)) != 0) {
        snprintf(err, errlen, "raft transport: %s", raft_strerror(rv));
        return -1;
    }
    if ((rv = raft_uv_init(&c->io, &c->loop, c->raft_dir, &c->transport)) != 0) {
        snprintf(err, errlen, "raft storage in %s: %s", c->raft_dir, c->io.errmsg);
        return -1;
    }
    /* Snapshots are written uncompressed: lz4 over the whole state cost more
     * CPU than the disk space it saves is worth here. */
    raft_uv_set_snapshot_compression(&c->io, false);
    if (cfg->fault_disk && cfg->fault_disk[0]) {
        c->disk_fault = disk_fault_new(&c->loop, &c->io, cfg->fault_disk);
        c->io.append = fault_append;
        c->io.close = fault_close;
    }
    c->cfsm.store = store;
    c->cfsm.raft = &c->raft;
    c->cfsm.on_result = on_result;
    c->cfsm.arg = c;
    cluster_fsm_init(&c->fsm, &c->cfsm);
    /* The member's address is how the others reach it (a proxy, a NAT):
     * libraft puts it in the configuration; the transport listens on
     * raft_addr. */
    const char *own = cfg->raft_advertise && cfg->raft_advertise[0] ? cfg->raft_advertise
                                                                      : c->raft_addr;
    if (strcmp(own, c->raft_addr) != 0 &&
        (rv = transport_set_bind(&c->transport, c->raft_addr)) != 0) {
        snprintf(err, errlen, "raft transport bind %s: %s", c->raft_addr, raft_strerror(rv));
        return -1;
    }
    if ((rv = raft_init(&c->raft, &c->io, &c->fsm, cfg->id, own)) != 0) {
        snprintf(err, errlen, "raft init: %s", raft_errmsg(&c->raft));
        return -1;
    }
    c->raft.data = c;
    raft_set_election_timeout(&c->raft, c->cfg.election_ms);
    raft_set_heartbeat_timeout(&c->raft, c->cfg.heartbeat_ms);
    raft_set_pre_vote(&c->raft, true);
    raft_set_snapshot_threshold(&c->raft, c->cfg.snapshot_threshold);
    raft_set_snapshot_trailing(&c->raft, c->cfg.snapshot_trailing);
    /* libraft seeds its election-timeout randomness from the clock before it
     * knows the server id, so servers started together could draw the same
     * timeouts and split votes for many terms (seen: 7-21 s elections). */
    unsigned seed;
    util_random_bytes(&seed, sizeof seed);
    raft_seed(&c->raft, seed);
    if ((cfg->n_peers && bootstrap(c, cfg, err, errlen) != 0) ||
        (rv = raft_start(&c->raft)) != 0) {
        if (!err[0] || rv != 0)
            snprintf(err, errlen, "raft start on %s: %s%s%s", c->raft_addr, raft_strerror(rv),
                     c->io.errmsg[0] ? ": " : "", c->io.errmsg);
        start_abort(c);
        return -1;
    }
    uv_check_start(&c->check, check_cb);
    uv_timer_start(&c->tune, tune_cb, 1000, 1000);
    uv_timer_start(&c->expire, expire_cb, EXPIRE_TICK_MS, EXPIRE_TICK_MS);
    refresh_info(c);
    if (pthread_create(&c->thread, NULL, loop_main, c) != 0) {
        snprintf(err, errlen, "cannot start the raft thread");
        return -1;
    }
    pthread_setname_np(c->thread, "raft-loop");
    *out = c;
    return 0;
}

void cluster_stop(struct cluster *c)
{
    if (!c)
        return;
    struct cluster_result r;
    call_run(c, call_new(CALL_STOP), 10000, &r);
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    /* Calls that raced with the stop never reached the loop. */
    while (c->queue) {
        struct call *k = c->queue;
        c->queue = k->next;
        k->next = NULL;
        call_finish(c, k, CLUSTER_SHUTDOWN);
    }
    uv_loop_close(&c->loop);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->info_mu);
    free(c);
}

/* n proposals of copies of cmds, linked in order; calls[i] is the i-th. */
static struct call **proposals_new(const void *const *cmds, const size_t *lens, unsigned n)
{
    struct call **calls = xmalloc((n ? n : 1) * sizeof *calls);
    for (unsigned i = 0; i < n; i++) {
        struct call *k = calls[i] = call_new(CALL_PROPOSE);
        k->cmd = xmalloc(lens[i]);
        memcpy(k->cmd, cmds[i], lens[i]);
        k->cmd_len = lens[i];
        if (i)
            calls[i - 1]->next = k;
    }
    return calls;
}

void cluster_propose(struct cluster *c, const void *cmd, size_t len, int timeout_ms,
                     struct cluster_result *out)
{
    cluster_propose_batch(c, &cmd, &len, 1, timeout_ms, out);
}

void cluster_propose_async(struct cluster *c, const void *cmd, size_t len, int timeout_ms,
                           cluster_done_fn fn, void *arg)
{
    cluster_propose_batch_async(c, &cmd, &len, 1, timeout_ms, fn, &arg);
}

void cluster_propose_batch(struct cluster *c, const void *const *cmds, const size_t *lens,
                           unsigned n, int timeout_ms, struct cluster_result *outs)
{
    struct timespec ts;
    if (n == 0)
        return;
    util_deadline(&ts, timeout_ms);
    struct call **calls = proposals_new(cmds, lens, n);
    if (!calls_queue(c, calls[0], calls[n - 1])) {
        for (unsigned i = 0; i < n; i++) {
            memset(&outs[i], 0, sizeof outs[i]);
            outs[i].code = CLUSTER_SHUTDOWN;
            call_free(calls[i]);
        }
    } else {
        for (unsigned i = 0; i < n; i++)
            call_wait(calls[i], &ts, &outs[i]);
    }
    free(calls);
}

void cluster_propose_batch_async(struct cluster *c, const void *const *cmds, const size_t *lens,
                                 unsigned n, int timeout_ms, cluster_done_fn fn,
                                 void *const *args)
{
    if (n == 0)
        return;
    struct call **calls = proposals_new(cmds, lens, n);
    uint64_t deadline = util_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (unsigned i = 0; i < n; i++) {
        calls[i]->done_fn = fn;
        calls[i]->done_arg = args[i];
        calls[i]->deadline_ms = deadline;
    }
    if (!calls_queue(c, calls[0], calls[n - 1])) {
        for (unsigned i = 0; i < n; i++) {
            calls[i]->result.code = CLUSTER_SHUTDOWN;
            fn(args[i], &calls[i]->result);
            call_free(calls[i]);
        }
    }
    free(calls);
}

void cluster_read_index(struct cluster *c, int timeout_ms, struct cluster_result *out)
{
    call_run(c, call_new(CALL_READ), timeout_ms, out);
}

void cluster_member_add(struct cluster *c, uint64_t id, const char *address, int timeout_ms,
                        struct cluster_result *out)
{
    struct call *k = call_new(CALL_ADD);
    k->id = id;
    snprintf(k->address, sizeof k->address, "%s", address);
    call_run(c, k, timeout_ms, out);
}

void cluster_member_assign(struct cluster *c, uint64_t id, int role, int timeout_ms,
                           struct cluster_result *out)
{
    struct call *k = call_new(CALL_ASSIGN);
    k->id = id;
    k->role = role;
    call_run(c, k, timeout_ms, out);
}

void cluster_member_remove(struct cluster *c, uint64_t id, int timeout_ms,
                           struct cluster_result *out)
{
    struct call *k = call_new(CALL_REMOVE);
    k->id = id;
    call_run(c, k, timeout_ms, out);
}

void cluster_transfer(struct cluster *c, uint64_t id, int timeout_ms, struct cluster_result *out)
{
    struct call *k = call_new(CALL_TRANSFER);
    k->id = id;
    call_run(c, k, timeout_ms, out);
}

void cluster_leader_gone(struct cluster *c, uint64_t leader_id)
{
    struct call *k = call_new(CALL_HURRY);
    k->id = leader_id;
    struct cluster_result res;
    call_run(c, k, 1000, &res);
}

void cluster_info(struct cluster *c, struct cluster_info *out)
{
    pthread_mutex_lock(&c->info_mu);
    *out = c->info;
    pthread_mutex_unlock(&c->info_mu);
}

bool cluster_is_leader(struct cluster *c)
{
    pthread_mutex_lock(&c->info_mu);
    bool l = c->info.state == RAFT_LEADER;
    pthread_mutex_unlock(&c->info_mu);
    return l;
}

uint64_t cluster_leader_id(struct cluster *c)
{
    pthread_mutex_lock(&c->info_mu);
    uint64_t id = c->info.leader_id;
    pthread_mutex_unlock(&c->info_mu);
    return id;
}
