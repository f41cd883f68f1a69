/* http.c — the HTTP front: libmicrohttpd setup, request bodies, replies, and
 * the top-level routing table.
 *
 * libmicrohttpd runs HTTP_LOOP_THREADS event-loop threads (epoll), which
 * never block. It calls `access` several times per request: first with no
 * body (we allocate a struct request), then with each piece of the upload
 * (appended, up to SERVER_MAX_BODY; beyond that the request is marked and
 * answered 413 without keeping the bytes), then once more with nothing left.
 * That last call suspends the connection and hands the request to a worker
 * thread (workers.c), where the route's handler runs and may block; the
 * reply it makes is kept in the request (http_queue), the worker resumes the
 * connection, and libmicrohttpd calls `access` again, which queues it.
 * A watch's reply is a stream that the event loop fills without any thread
 * of its own (watch.c). A create runs on the event loop up to its proposal
 * and waits for it without a thread (write.c, http_async_*): the proposal's
 * answer resumes the connection, and `access` replies (RQ_FINISH). */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kube/kube.h"
#include "controllers/controllers.h"
#include "scheduler/scheduler.h"
#include "server/internal.h"
#include "server/server.h"

/* ---- in-process requests (server_call) ----
 * A request served on the caller's thread, as a worker serves one, without
 * a connection: its query and headers are kept here, and the reply's body
 * is captured instead of queued. */
struct inproc {
    const char *const *headers; /* "Name: value", NULL-terminated */
    char **args;                /* the query, decoded: key, value, key, value... */
    size_t n_args;
    bool replied;
    unsigned code;
    struct ubuf reply;
};

/* A query component, percent- and plus-decoded, as libmicrohttpd does. */
static char *query_decode(const char *s, size_t n)
{
    char *out = xmalloc(n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        int hi = s[i] == '%' && i + 2 < n ? util_hex_digit(s[i + 1]) : -1;
        int lo = hi >= 0 ? util_hex_digit(s[i + 2]) : -1;
        if (lo >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = s[i] == '+' ? ' ' : s[i];
        }
    }
    *o = '\0';
    return out;
}

static void inproc_parse_query(struct inproc *ip, const char *q)
{
    while (*q) {
        size_t n = strcspn(q, "&");
        if (n) {
            const char *eq = memchr(q, '=', n);
            size_t kn = eq ? (size_t)(eq - q) : n;
            ip->args = xrealloc(ip->args, (ip->n_args + 2) * sizeof *ip->args);
            ip->args[ip->n_args++] = query_decode(q, kn);
            ip->args[ip->n_args++] = eq ? query_decode(eq + 1, n - kn - 1) : xstrdup("");
        }
        q += n + (q[n] == '&');
    }
}

const char *inproc_header(const struct inproc *ip, const char *name)
{
    size_t n = strlen(name);
    for (const char *const *h = ip->headers; h && *h; h++)
        if (strncasecmp(*h, name, n) == 0 && (*h)[n] == ':') {
            const char *v = *h + n + 1;
            return v + strspn(v, " ");
        }
    return NULL;
}

/* The first reply is the request's (a handler answers once). */
static void inproc_reply(struct inproc *ip, unsigned code, const void *data, size_t len)
{
    if (ip->replied)
        return;
    ip->replied = true;
    ip->code = code;
    ubuf_append(&ip->reply, data, len);
}

const char *request_arg(struct request *rq, const char *name)
{
    if (rq->inproc) {
        for (size_t i = 0; i + 1 < rq->inproc->n_args; i += 2)
            if (strcmp(rq->inproc->args[i], name) == 0)
                return rq->inproc->args[i + 1];
        return NULL;
    }
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

void request_warn(struct request *rq, const char *text)
{
    ubuf_appendf(&rq->warnings, "299 - \"");
    for (const char *p = text; *p; p++) /* a quoted-string: no quotes, no newlines */
        ubuf_append(&rq->warnings, *p == '"' ? "'" : *p == '\n' ? " " : p, 1);
    ubuf_append(&rq->warnings, "\"\n", 2);
}

static void add_warnings(struct MHD_Response *r, struct request *rq)
{
    if (!rq->warnings.len)
        return;
    ubuf_append(&rq->warnings, "", 1);
    char *save = NULL;
    for (char *w = strtok_r(rq->warnings.data, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
        MHD_add_response_header(r, "Warning", w);
    rq->warnings.len = 0;
}

/* Queues a reply: at once on the event loop, or kept for it when the
 * handler runs on a worker (the event loop queues it on resume). */
enum MHD_Result http_queue(struct request *rq, unsigned code, struct MHD_Response *r)
{
    if (!r)
        return MHD_NO;
    if (rq->inproc) { /* a reply made here (discovery, OpenAPI): its code only */
        inproc_reply(rq->inproc, code, "", 0);
        MHD_destroy_response(r);
        return MHD_YES;
    }
    if (rq->state != RQ_RUNNING) {
        enum MHD_Result ret = MHD_queue_response(rq->conn, code, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (rq->reply) /* a handler answers once; keep the first */
        MHD_destroy_response(r);
    else {
        rq->reply = r;
        rq->reply_code = code;
    }
    return MHD_YES;
}

/* retry_after > 0: a Retry-After header, as Kubernetes sends with a Status
 * whose details carry retryAfterSeconds (429s, timeouts). */
static enum MHD_Result reply_buf(struct request *rq, unsigned code, const char *type, char *data,
                                 size_t len, long retry_after)
{
    if (rq->inproc) {
        inproc_reply(rq->inproc, code, data, len);
        free(data);
        return MHD_YES;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    add_warnings(r, rq);
    if (retry_after > 0) {
        char secs[24];
        snprintf(secs, sizeof secs, "%ld", retry_after);
        MHD_add_response_header(r, "Retry-After", secs);
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache, private");
    return http_queue(rq, code, r);
}

/* A Status's details.retryAfterSeconds, else 0. */
static long status_retry_after(json_t *v)
{
    const char *kind = json_string_value(json_object_get(v, "kind"));
    if (!kind || strcmp(kind, "Status") != 0)
        return 0;
    json_t *secs = json_object_get(json_object_get(v, "details"), "retryAfterSeconds");
    return (long)json_integer_value(secs);
}

enum MHD_Result reply_json(struct request *rq, unsigned code, json_t *v)
{
    long retry_after = status_retry_after(v);
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!s)
        return reply_text(rq, 500, "text/plain", "cannot encode the reply\n");
    size_t len = strlen(s);
    s = xrealloc(s, len + 2);
    s[len++] = '\n';
    return reply_buf(rq, code, "application/json", s, len, retry_after);
}

/* The buffers of a reply_json_parts response, freed with it. */
struct parts {
    struct ubuf head, body;
};

static void parts_free(void *cls)
{
    struct parts *p = cls;
    ubuf_free(&p->head);
    ubuf_free(&p->body);
    free(p);
}

enum MHD_Result reply_json_parts(struct request *rq, unsigned code, struct ubuf *head,
                                 struct ubuf *body, const char *tail)
{
    if (rq->inproc) {
        struct ubuf all = {0};
        ubuf_append(&all, head->data, head->len);
        ubuf_append(&all, body->data, body->len);
        ubuf_append(&all, tail, strlen(tail));
        inproc_reply(rq->inproc, code, all.data, all.len);
        ubuf_free(&all);
        ubuf_free(head);
        ubuf_free(body);
        return MHD_YES;
    }
    struct parts *p = xcalloc(1, sizeof *p);
    p->head = *head;
    p->body = *body;
    *head = *body = (struct ubuf){0};
    struct MHD_IoVec iov[3] = {{p->head.data, p->head.len},
                               {p->body.data, p->body.len},
                               {tail, strlen(tail)}};
    struct MHD_Response *r = MHD_create_response_from_iovec(iov, 3, parts_free, p);
    if (!r) {
        parts_free(p);
        return MHD_NO;
    }
    add_warnings(r, rq);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-cache, private");
    return http_queue(rq, code, r);
}

/* The object in mp (msgpack, as stored) as JSON with resourceVersion rev,
 * written straight from the msgpack (object_text): the same bytes json_dumps
 * would send for the decoded object, at a third of the cost, which matters
 * for the reply to every create and update. */
enum MHD_Result reply_object_msgpack(struct request *rq, unsigned code, const void *mp, size_t len,
                                     uint64_t rev)
{
    struct store_obj o = {.obj = mp, .obj_len = len};
    size_t n;
    char *s = object_text(&o, rev, &n);
    if (!s)
        return reply_status(rq, 500, "InternalError", "cannot encode the reply");
    s = xrealloc(s, n + 2);
    s[n++] = '\n';
    return reply_buf(rq, code, "application/json", s, n, 0);
}

enum MHD_Result reply_text(struct request *rq, unsigned code, const char *type, const char *text)
{
    return reply_buf(rq, code, type, xstrdup(text), strlen(text), 0);
}


enum MHD_Result reply_status(struct request *rq, unsigned code, const char *reason,
                             const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return reply_json(rq, code, kube_status(code, reason, msg));
}

static enum MHD_Result version_handle(struct request *rq)
{
    json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor",
                          "32", "gitVersion", "v1.32.0-bosun", "gitCommit", "", "gitTreeState",
                          "clean", "buildDate", "2026-01-01T00:00:00Z", "goVersion", "none",
                          "compiler", "cc", "platform", "linux/amd64");
    return reply_json(rq, 200, v);
}

static enum MHD_Result health_handle(struct request *rq)
{
    struct cluster_info in;
    cluster_info(rq->srv->cluster, &in);
    if (strcmp(rq->url, "/readyz") == 0 && in.leader_id == 0)
        return reply_text(rq, 503, "text/plain", "no leader known\n");
    return reply_text(rq, 200, "text/plain", "ok");
}

/* Prometheus' text format: the scheduler's figures (on the leader; zeros
 * and bosun_scheduler_leading 0 elsewhere) and this member's Raft state. */
static enum MHD_Result metrics_handle(struct request *rq)
{
    struct ubuf b = {0};
    struct cluster_info in;
    cluster_info(rq->srv->cluster, &in);
    ubuf_appendf(&b,
                 "# HELP bosun_raft_term This member's Raft term.\n# TYPE bosun_raft_term gauge\n"
                 "bosun_raft_term %llu\n"
                 "# HELP bosun_raft_leader Whether this member leads.\n# TYPE bosun_raft_leader gauge\n"
                 "bosun_raft_leader %d\n"
                 "# HELP bosun_raft_commit_index Highest committed index.\n"
                 "# TYPE bosun_raft_commit_index gauge\nbosun_raft_commit_index %llu\n"
                 "# HELP bosun_raft_applied_index Highest applied index.\n"
                 "# TYPE bosun_raft_applied_index gauge\nbosun_raft_applied_index %llu\n"
                 "# HELP bosun_store_revision The cluster revision this replica reached.\n"
                 "# TYPE bosun_store_revision gauge\nbosun_store_revision %llu\n",
                 (unsigned long long)in.term, in.leader_id == in.id ? 1 : 0,
                 (unsigned long long)in.commit_index, (unsigned long long)in.last_applied,
                 (unsigned long long)store_revision(rq->srv->store));
    scheduler_metrics(rq->srv->scheduler, &b);
    controllers_metrics(rq->srv->controllers, &b);
    ubuf_append(&b, "", 1);
    enum MHD_Result r = reply_text(rq, 200, "text/plain; version=0.0.4; charset=utf-8", b.data);
    ubuf_free(&b);
    return r;
}

struct route {
    const char *prefix; /* matched when the URL equals it or continues with '/' or '?' */
    enum MHD_Result (*fn)(struct request *rq);
};

static const struct route routes[] = {
    {"/version", version_handle},        {"/healthz", health_handle},
    {"/livez", health_handle},           {"/readyz", health_handle},
    {"/cluster", cluster_api_handle},    {"/internal", internal_handle},
    {"/api", api_handle},                {"/apis", api_handle},
    {"/openapi", openapi_handle},        {"/metrics", metrics_handle},
};

static bool prefix_match(const char *url, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(url, prefix, n) == 0 && (url[n] == '\0' || url[n] == '/' || url[n] == '?');
}

static enum MHD_Result dispatch(struct request *rq)
{
    if (rq->too_large)
        return reply_status(rq, 413, "RequestEntityTooLarge",
                            "the request body is larger than %u bytes", SERVER_MAX_BODY);
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (prefix_match(rq->url, routes[i].prefix))
            return routes[i].fn(rq);
    return reply_status(rq, 404, "NotFound", "the server could not find the requested resource");
}

enum MHD_Result http_restart(struct request *rq)
{
    rq->warnings.len = 0;
    return dispatch(rq);
}

int server_call(struct server *s, const char *method, const char *url,
                const char *const *headers, const void *body, size_t len, char **reply,
                size_t *reply_len)
{
    struct inproc ip = {.headers = headers};
    const char *q = strchr(url, '?');
    char *path = q ? xstrndup(url, (size_t)(q - url)) : xstrdup(url);
    if (q)
        inproc_parse_query(&ip, q + 1);
    struct request rq = {.srv = s, .method = method, .url = path, .state = RQ_RUNNING,
                         .inproc = &ip};
    if (len > SERVER_MAX_BODY)
        rq.too_large = true;
    else
        ubuf_append(&rq.body, body, len);
    if (request_is_watch(&rq))
        reply_status(&rq, 405, "MethodNotAllowed", "server_call does not serve watches");
    else
        dispatch(&rq);
    assert(!rq.async && !rq.reply);
    int code = ip.replied ? (int)ip.code : 500;
    ubuf_append(&ip.reply, "", 1);
    ip.reply.len--;
    if (reply_len)
        *reply_len = ip.reply.len;
    if (reply)
        *reply = ip.reply.data;
    else
        ubuf_free(&ip.reply);
    for (size_t i = 0; i < ip.n_args; i++)
        free(ip.args[i]);
    free(ip.args);
    ubuf_free(&rq.body);
    ubuf_free(&rq.warnings);
    free(path);
    return code;
}

bool request_is_watch(struct request *rq)
{
    const char *w = request_arg(rq, "watch");
    return strcmp(rq->method, "GET") == 0 && w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0);
}

/* On a worker: the handler (or an asynchronous request's next step), then
 * back to the event loop. */
static void http_run(struct request *rq)
{
    enum MHD_Result (*next)(struct request *rq) = rq->next;
    rq->next = NULL;
    if (next)
        next(rq);
    else
        dispatch(rq);
    rq->state = RQ_DONE;
    if (next)
        __atomic_sub_fetch(&rq->srv->async_inflight, 1, __ATOMIC_SEQ_CST);
    MHD_resume_connection(rq->conn);
}

void http_async_begin(struct request *rq)
{
    assert(rq->state == RQ_READING);
    rq->state = RQ_ASYNC;
    __atomic_add_fetch(&rq->srv->async_inflight, 1, __ATOMIC_SEQ_CST);
    MHD_suspend_connection(rq->conn);
}

void http_async_finish(struct request *rq, enum MHD_Result (*fn)(struct request *rq))
{
    assert(rq->state == RQ_ASYNC);
    rq->next = fn;
    rq->state = RQ_FINISH;
    MHD_resume_connection(rq->conn);
}

void http_async_to_worker(struct request *rq, enum MHD_Result (*fn)(struct request *rq))
{
    assert(rq->state == RQ_ASYNC);
    rq->next = fn;
    rq->state = RQ_RUNNING;
    workers_submit(rq->srv->workers, rq);
}

/* On the event loop: the reply of an asynchronous request. */
static enum MHD_Result finish_async(struct request *rq)
{
    enum MHD_Result (*fn)(struct request *rq) = rq->next;
    rq->next = NULL;
    rq->state = RQ_SENT; /* replies are queued at once from here */
    enum MHD_Result ret = fn(rq);
    __atomic_sub_fetch(&rq->srv->async_inflight, 1, __ATOMIC_SEQ_CST);
    return ret;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    struct request *rq = *con_cls;
    struct server *s = cls;
    if (!rq) {
        rq = xcalloc(1, sizeof *rq);
        rq->srv = s;
        rq->conn = conn;
        rq->method = method;
        rq->url = url;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body.len + *upload_size > SERVER_MAX_BODY)
            rq->too_large = true;
        else
            ubuf_append(&rq->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    switch (rq->state) {
    case RQ_READING:
        if (s->stopping) /* the pool is draining: answer here, without blocking */
            return reply_status(rq, 503, "ServiceUnavailable", "the server is shutting down");
        /* A watch's start only parses and queues its stream (watch.c), so
         * it runs here: a burst of watches must not start a burst of workers. */
        if (request_is_watch(rq)) {
            rq->state = RQ_SENT;
            return dispatch(rq);
        }
        /* Likewise a create or an update: its CPU work here, its wait
         * without a thread. If it gives up, the worker starts over. */
        if (!rq->too_large) {
            int handled = internal_start_async(rq);
            if (handled < 0)
                handled = api_start_async(rq);
            if (handled >= 0)
                return (enum MHD_Result)handled;
            rq->warnings.len = 0;
        }
        rq->state = RQ_RUNNING;
        MHD_suspend_connection(conn);
        workers_submit(s->workers, rq);
        return MHD_YES;
    case RQ_RUNNING: /* not called while suspended */
    case RQ_ASYNC:
        assert(!"access called for a suspended request");
        return MHD_NO;
    case RQ_FINISH:
        return finish_async(rq);
    case RQ_DONE:
        if (!rq->reply)
            return MHD_NO; /* the handler could not answer: close */
        struct MHD_Response *r = rq->reply;
        rq->reply = NULL;
        rq->state = RQ_SENT;
        enum MHD_Result ret = MHD_queue_response(conn, rq->reply_code, r);
        MHD_destroy_response(r);
        return ret;
    case RQ_SENT:
        return MHD_YES;
    }
    return MHD_NO;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *rq = *con_cls;
    if (rq && rq->async && rq->state != RQ_FINISH) {
        /* Suspended, its answer still to come (which will touch rq): only
         * libmicrohttpd's stop ends such a connection, after wait_async
         * gave up. Better leaked than used after free, so close to exit. */
        assert(rq->srv->stopping);
        LOG_WARN("http: a connection ended while its request waited; left as it is");
        *con_cls = NULL;
        return;
    }
    if (rq && rq->upgrade) /* its 101 never went out */
        rq->upgrade_abandon(rq->upgrade);
    if (rq) {
        if (rq->async) {
            /* Resumed with its answer (RQ_FINISH), but libmicrohttpd found
             * the client gone (it hung up while the request waited) and
             * ends the connection without asking for the reply. */
            rq->next = NULL;
            rq->abandon(rq);
            __atomic_sub_fetch(&rq->srv->async_inflight, 1, __ATOMIC_SEQ_CST);
        }
        assert(!rq->async);
        if (rq->reply)
            MHD_destroy_response(rq->reply);
        ubuf_free(&rq->body);
        ubuf_free(&rq->warnings);
        free(rq);
    }
    *con_cls = NULL;
}

static void mhd_log(void *arg, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n')
        line[--n] = '\0';
    LOG_DEBUG("http: %s", line);
}

/* Binds the API socket ourselves, so a port in use is one clear error. */
int http_listen(const char *hostport, char *err, size_t errlen)
{
    char host[128];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(err, errlen, "%s: expected HOST:PORT", hostport);
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    struct sockaddr_in sa = {.sin_family = AF_INET};
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "%s: expected an IPv4 HOST:PORT", hostport);
        return -1;
    }
    sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1024) != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", hostport, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Connections: every watch holds one, so the limit is set by file
 * descriptors: what RLIMIT_NOFILE allows (raised to its hard limit here),
 * less a reserve for LMDB, the Raft transport and the forwarder. Threads no
 * longer bound it: a connection has no thread of its own, and a request
 * holds a worker only while its handler runs. */
#define HTTP_FD_RESERVE 256
#define HTTP_MAX_CONNECTIONS 20000
#define HTTP_LOOP_THREADS 2 /* this machine's cores; the loops only move bytes */
/* Each connection's memory pool: its request head, read buffer and reply
 * head, and a watch stream's chunk buffer (half of it). libmicrohttpd zeroes
 * the pool between requests, so its size is paid on every request: 32 KiB
 * (the default) cost 3.5 us of 52 per create on the leader's event loops,
 * 16 KiB half that. A request head may still take about 15 KiB, far more
 * than kubectl sends; a longer one is answered 431 (tests/e2e/test_api.py).
 */
#define HTTP_CONN_MEMORY (16u << 10)

static unsigned connection_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1000;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t n = rl.rlim_cur > HTTP_FD_RESERVE * 2 ? rl.rlim_cur - HTTP_FD_RESERVE : rl.rlim_cur / 2;
    return n > HTTP_MAX_CONNECTIONS ? HTTP_MAX_CONNECTIONS : (unsigned)n;
}

int http_start(struct server *s, char *err, size_t errlen)
{
    unsigned limit = connection_limit();
    s->workers = workers_new(http_run);
    s->hub = watch_hub_new(s);
    s->proxy = nodeproxy_new();
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG; /* upgrades: pods/exec */
    s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_LISTEN_SOCKET,
                              s->listen_fd, MHD_OPTION_NOTIFY_COMPLETED, completed_cb, s,
                              MHD_OPTION_CONNECTION_LIMIT, limit,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
                              MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_LOOP_THREADS,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)3600,
                              MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
    if (!s->mhd) {
        snprintf(err, errlen, "cannot start the HTTP server on %s", s->cfg.listen);
        return -1;
    }
    LOG_DEBUG("http: up to %u connections", limit);
    return 0;
}

/* Asynchronous requests end by themselves: the Raft loop and the forwarder
 * answer each by its deadline. New ones are refused once s->stopping is
 * set (before http_stop), so the count only falls; the bound is a backstop. */
static void wait_async(struct server *s)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint64_t give_up = util_now_ms() + (uint64_t)s->cfg.request_timeout_ms + 5000;
    while (__atomic_load_n(&s->async_inflight, __ATOMIC_SEQ_CST) > 0 && util_now_ms() < give_up)
        usleep(10000);
}

/* libmicrohttpd may not stop while a connection is suspended: first the
 * workers finish (new requests are answered 503 on the loop meanwhile),
 * then every parked watch is resumed to end its stream.
 *
 * No MHD_quiesce_daemon: with epoll event loops of its own it races with
 * them (both remove the listen socket from an epoll set, and the loser of
 * the race aborts the process: "Failed to remove listen FD from epoll
 * set", once in a CI run at a test's teardown). Connections that arrive
 * while stopping are answered 503 instead of waiting unserved. */
void http_stop(struct server *s)
{
    assert(!s->mhd || s->stopping);
    wait_async(s);
    workers_free(s->workers);
    s->workers = NULL;
    watch_hub_stop(s->hub);
    nodeproxy_wait(s);
    if (s->mhd) {
        MHD_stop_daemon(s->mhd);
        s->listen_fd = -1; /* not quiesced, libmicrohttpd closed it */
    }
    s->mhd = NULL;
    watch_hub_free(s->hub);
    s->hub = NULL;
    nodeproxy_free(s->proxy);
    s->proxy = NULL;
}
