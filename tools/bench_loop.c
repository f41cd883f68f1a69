/* bench_loop.c — many HTTP clients on a few threads, for the load
 * generators (`bosun bench writes`, the creators of `bosun bench schedule`).
 *
 * A client is one keep-alive connection (httpc, to servers[c % n]) with at
 * most one request in flight; the clients are dealt out to cfg->threads
 * epoll loops (client c to loop c % threads) that send and read the
 * sockets themselves, so a request costs a send, a recv and a share of an
 * epoll_wait instead of a sleeping and waking thread. With 256 clients, a
 * thread each had cost 39-43 us of CPU per request here; the servers being
 * measured share the machine's two cores with the load generator.
 *
 * The caller's callbacks decide everything else, on the client's loop
 * thread (never two at once for one client):
 *   next(arg, c, req, &at)  fills client c's next request (method, path,
 *                           headers, body; the head is built with
 *                           httpc_build_head), to be sent at `at` (0:
 *                           now); false when c has no more.
 *   done(arg, c, status, body, len, sent_us, &at)
 *                           the answer (status 0: none: refused, reset,
 *                           malformed, timed out); says whether to send the
 *                           same request again (BENCH_RESEND) or go on
 *                           with next (BENCH_NEXT), not before `at`.
 *   timeout_ms(arg, now)    the timeout of a request sent now (optional;
 *                           else cfg->timeout_ms).
 *   stopping(arg)           (optional) true: a client waiting to send its
 *                           next request ends now; one waiting to resend
 *                           gets done() again with status 0 (which should
 *                           then say BENCH_NEXT); one with a request in
 *                           flight ends when it does and next() says so.
 * A kept-alive connection the server closed before any byte of the answer
 * is reconnected and the request sent again once, as httpc does. An
 * answer the loop cannot frame, or one on a connection that is not kept
 * alive, closes the connection; the next request opens a new one. Waits
 * (pacing, backoff) and timeouts are looked at every BENCH_LOOP_TICK_US, so
 * a wait is late by up to that much. */
#include "tools/tools.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "httpc/httpc.h"
#include "util/util.h"

#define BENCH_LOOP_TICK_US 2000
#define BENCH_LOOP_EVENTS 256
#define BENCH_LOOP_READ 16384

enum bench_client_state {
    BENCH_C_WAIT, /* until at_us, then next() (or resend) */
    BENCH_C_BUSY, /* a request in flight */
    BENCH_C_DONE,
};

struct bench_client {
    int index;
    struct httpc *http;
    int reg_fd;            /* the socket in the loop's epoll set, or -1 */
    struct bench_req req;  /* what next() asked for */
    struct ubuf out;       /* the request: head and body */
    size_t out_off;        /* bytes of it sent */
    struct ubuf in;        /* the answer so far */
    enum bench_client_state state;
    bool send_due;         /* WAIT: then send `out` (paced or resent), not call next() */
    bool resend;           /* WAIT: what it sends is a retry */
    bool reused;           /* BUSY: went on a kept-alive connection */
    bool want_out;         /* EPOLLOUT armed */
    uint64_t at_us;        /* WAIT: when */
    uint64_t sent_us, timeout_us;
};

struct bench_loop {
    const struct bench_loop_cfg *cfg;
    struct bench_client **cs;
    int n, active;         /* its clients, those not done */
    int ep;
    pthread_t thread;
};

static void bench_client_drop(struct bench_client *c)
{
    httpc_close(c->http);
    c->reg_fd = -1;
}

static int bench_loop_timeout_ms(const struct bench_loop *l, uint64_t now)
{
    return l->cfg->timeout_ms_fn ? l->cfg->timeout_ms_fn(l->cfg->arg, now) : l->cfg->timeout_ms;
}

static void bench_client_end(struct bench_loop *l, struct bench_client *c, int status,
                             const char *body, size_t len);

static void bench_client_arm(struct bench_loop *l, struct bench_client *c, bool out)
{
    if (c->want_out == out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(l->ep, EPOLL_CTL_MOD, c->reg_fd, &ev);
    c->want_out = out;
}

/* Sends what is left of the request; EPOLLOUT waits for room. */
static void bench_client_send(struct bench_loop *l, struct bench_client *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->reg_fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            bench_client_arm(l, c, true);
            return;
        } else {
            bench_client_drop(c);
            bench_client_end(l, c, 0, NULL, 0);
            return;
        }
    }
    bench_client_arm(l, c, false);
}

/* Sends c->out, connecting first if c has no connection. */
static void bench_client_issue(struct bench_loop *l, struct bench_client *c)
{
    uint64_t now = util_now_us();
    int timeout_ms = bench_loop_timeout_ms(l, now);
    c->state = BENCH_C_BUSY;
    c->sent_us = now;
    c->timeout_us = now + (uint64_t)timeout_ms * 1000;
    c->in.len = 0;
    c->out_off = 0;
    c->reused = c->reg_fd >= 0;
    if (!c->reused) {
        if (httpc_open(c->http, timeout_ms) != 0) {
            bench_client_drop(c);
            bench_client_end(l, c, 0, NULL, 0);
            return;
        }
        c->reg_fd = httpc_fd(c->http);
        c->want_out = false;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(l->ep, EPOLL_CTL_ADD, c->reg_fd, &ev);
    }
    bench_client_send(l, c);
}

/* Asks for c's next request and sends it, or parks c until it is due. */
static void bench_client_advance(struct bench_loop *l, struct bench_client *c)
{
    uint64_t at = 0;
    c->req.method = NULL;
    c->req.path[0] = '\0';
    c->req.headers = NULL;
    c->req.body.len = 0;
    if (!l->cfg->next(l->cfg->arg, c->index, &c->req, &at)) {
        c->state = BENCH_C_DONE;
        l->active--;
        bench_client_drop(c);
        return;
    }
    c->out.len = 0;
    if (httpc_build_head(c->http, &c->out, c->req.method ? c->req.method : "POST", c->req.path,
                         c->req.headers, true, c->req.body.len) != 0) {
        bench_client_end(l, c, 0, NULL, 0); /* a request that cannot be framed: no answer */
        return;
    }
    ubuf_append(&c->out, c->req.body.data, c->req.body.len);
    if (at > util_now_us()) {
        c->state = BENCH_C_WAIT;
        c->send_due = true;
        c->resend = false;
        c->at_us = at;
        return;
    }
    bench_client_issue(l, c);
}

/* The request of c ended with status (0: none): the caller decides. */
static void bench_client_end(struct bench_loop *l, struct bench_client *c, int status,
                             const char *body, size_t len)
{
    uint64_t at = 0;
    enum bench_then then = l->cfg->done(l->cfg->arg, c->index, status, body, len, c->sent_us, &at);
    if (at > util_now_us()) {
        c->state = BENCH_C_WAIT;
        c->send_due = c->resend = then == BENCH_RESEND;
        c->at_us = at;
    } else if (then == BENCH_RESEND) {
        bench_client_issue(l, c);
    } else {
        bench_client_advance(l, c);
    }
}

/* c's socket is readable: take what came; book the answer once it is whole. */
static void bench_client_read(struct bench_loop *l, struct bench_client *c)
{
    ubuf_reserve(&c->in, BENCH_LOOP_READ);
    ssize_t n = recv(c->reg_fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (c->state != BENCH_C_BUSY) { /* an idle connection closed, or spoke out of turn */
        bench_client_drop(c);
        return;
    }
    if (n <= 0) {
        bool again = c->reused && c->in.len == 0 && c->out_off == c->out.len;
        bench_client_drop(c);
        if (again)
            bench_client_issue(l, c); /* a fresh connection: not reused, so only once */
        else
            bench_client_end(l, c, 0, NULL, 0);
        return;
    }
    c->in.len += (size_t)n;
    struct httpc_scan sc;
    long end = httpc_response_scan(c->in.data, c->in.len, false, &sc);
    if (end == 0)
        return;
    if (end < 0 || (size_t)end != c->in.len || !sc.keep_alive)
        bench_client_drop(c); /* unframed, or more than one answer: start afresh */
    if (end < 0) {
        bench_client_end(l, c, 0, NULL, 0);
        return;
    }
    c->in.data[end] = '\0';
    bench_client_end(l, c, sc.status, c->in.data + sc.body_off, (size_t)end - sc.body_off);
}

/* Times out requests and wakes the clients whose wait is over. */
static void bench_loop_tick(struct bench_loop *l, uint64_t now)
{
    bool stopping = l->cfg->stopping && l->cfg->stopping(l->cfg->arg);
    for (int k = 0; k < l->n; k++) {
        struct bench_client *c = l->cs[k];
        if (c->state == BENCH_C_WAIT && stopping && c->resend) {
            bench_client_end(l, c, 0, NULL, 0); /* its retry is off: done() books it */
        } else if (c->state == BENCH_C_WAIT && stopping) {
            c->state = BENCH_C_DONE;
            l->active--;
            bench_client_drop(c);
        } else if (c->state == BENCH_C_BUSY && now >= c->timeout_us) {
            bench_client_drop(c);
            bench_client_end(l, c, 0, NULL, 0);
        } else if (c->state == BENCH_C_WAIT && now >= c->at_us) {
            if (c->send_due)
                bench_client_issue(l, c);
            else
                bench_client_advance(l, c);
        }
    }
}

static void *bench_loop_main(void *arg)
{
    struct bench_loop *l = arg;
    for (int k = 0; k < l->n; k++)
        bench_client_advance(l, l->cs[k]);
    struct epoll_event evs[BENCH_LOOP_EVENTS];
    uint64_t tick = util_now_us() + BENCH_LOOP_TICK_US;
    while (l->active > 0) {
        int n = epoll_wait(l->ep, evs, BENCH_LOOP_EVENTS, BENCH_LOOP_TICK_US / 1000);
        for (int i = 0; i < n; i++) {
            struct bench_client *c = evs[i].data.ptr;
            if (c->reg_fd < 0)
                continue; /* dropped earlier in this batch */
            if ((evs[i].events & EPOLLOUT) && c->state == BENCH_C_BUSY)
                bench_client_send(l, c);
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && c->reg_fd >= 0)
                bench_client_read(l, c);
        }
        uint64_t now = util_now_us();
        if (now >= tick) {
            bench_loop_tick(l, now);
            tick = now + BENCH_LOOP_TICK_US;
        }
    }
    return NULL;
}

static void bench_loops_free(struct bench_loop *ls, int n_loops, struct bench_client *cs,
                             int n_clients)
{
    for (int t = 0; t < n_loops; t++) {
        if (ls[t].ep >= 0)
            close(ls[t].ep);
        free(ls[t].cs);
    }
    for (int i = 0; i < n_clients; i++) {
        httpc_free(cs[i].http);
        ubuf_free(&cs[i].req.body);
        ubuf_free(&cs[i].out);
        ubuf_free(&cs[i].in);
    }
    free(ls);
    free(cs);
}

int bench_loop_run(const struct bench_loop_cfg *cfg)
{
    int n = cfg->clients, threads = cfg->threads < 1 ? 1 : cfg->threads;
    if (threads > n)
        threads = n;
    struct bench_client *cs = xcalloc((size_t)n, sizeof *cs);
    struct bench_loop *ls = xcalloc((size_t)threads, sizeof *ls);
    for (int t = 0; t < threads; t++) {
        ls[t] = (struct bench_loop){.cfg = cfg, .ep = epoll_create1(EPOLL_CLOEXEC)};
        ls[t].cs = xcalloc((size_t)n / (size_t)threads + 1, sizeof *ls[t].cs);
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        cs[i] = (struct bench_client){.index = i, .reg_fd = -1};
        cs[i].http = httpc_new(cfg->servers[i % cfg->n_servers]);
        if (!cs[i].http) {
            fprintf(stderr, "bosun bench: bad server URL %s\n", cfg->servers[i % cfg->n_servers]);
            rc = -1;
        }
        struct bench_loop *l = &ls[i % threads];
        l->cs[l->n++] = &cs[i];
        l->active++;
    }
    for (int t = 0; t < threads && rc == 0; t++)
        if (ls[t].ep < 0) {
            fprintf(stderr, "bosun bench: epoll: %s\n", strerror(errno));
            rc = -1;
        }
    int started = 0;
    for (; rc == 0 && started < threads; started++) {
        int err = pthread_create(&ls[started].thread, NULL, bench_loop_main, &ls[started]);
        if (err != 0) {
            fprintf(stderr, "bosun bench: cannot start a client thread: %s\n", strerror(err));
            rc = -1;
            break;
        }
    }
    if (rc != 0 && started > 0 && cfg->abort)
        cfg->abort(cfg->arg); /* the loops already started must end */
    for (int t = 0; t < started; t++)
        pthread_join(ls[t].thread, NULL);
    bench_loops_free(ls, threads, cs, n);
    return rc;
}
