/* nodeproxy.c — pods/log and pods/exec: the API server passes them to the
 * kubelet endpoint of the pod's node, as Kubernetes' API server does.
 *
 * Any server answers them (a follower too): it reads the pod and its Node
 * from its own replica, after the usual read barrier, checks what
 * Kubernetes' API server checks (the container named, or the pod's only
 * one; a node assigned; for exec, a pod not yet completed), and connects
 * to the node's kubelet endpoint, which bosun's agent advertises in the
 * Node's annotation bosun.dev/kubelet-endpoint ("HOST:PORT"; a hollow
 * node's InternalIP is made up). An error from the kubelet (a Status) is
 * passed on with its code.
 *
 * Logs: the request goes out as HTTP/1.0, so the kubelet's body is the
 * bytes up to its close, with no chunking to undo. Our reply is a stream
 * (chunked) that libmicrohttpd's event loop pulls from the kubelet's
 * socket without blocking: when nothing has arrived the reader suspends
 * the connection, and the stream's own thread resumes it once the socket
 * has bytes or an end, or the client hung up. A followed log can stay
 * open for hours, so it must not hold an event loop, and a thread that
 * only waits in poll() costs nothing; there are few of these.
 *
 * Exec: an upgrade. The client's WebSocket handshake is sent on to the
 * kubelet with its key and subprotocols; the kubelet's 101 (its accept key
 * and subprotocol) is answered to the client, and a thread then copies
 * bytes both ways until either side ends. The frames are not looked at:
 * they are the kubelet's and kubectl's business, as in Kubernetes' proxy.
 *
 * Both are known to srv->proxy while they run: at stop, http_stop
 * (nodeproxy_wait) shuts the exec sessions' sockets down and waits
 * (bounded) for them and the log streams, which end once they see
 * srv->stopping. An exec whose client goes before its 101 is sent is
 * given back by completed_cb (request.upgrade). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/codec.h"
#include "kube/kube.h"
#include "server/internal.h"

#define PROXY_CONNECT_MS 5000
#define PROXY_HEADER_MS 15000
#define PROXY_HEADER_MAX 16384
#define PROXY_ERROR_BODY_MAX 65536
#define PROXY_TICK_MS 500 /* how often a waiting stream looks at srv->stopping */
#define PROXY_LINGER_MS 10000 /* after one side of an exec ended, the other's last bytes */
#define ENDPOINT_ANNOTATION "bosun.dev/kubelet-endpoint"

/* ---- finding the kubelet ---- */

struct proxy_target {
    char ns[256], pod[256], node[256], container[256];
    char endpoint[128]; /* HOST:PORT */
};

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool has_container(json_t *spec, const char *name)
{
    static const char *const lists[] = {"containers", "initContainers", "ephemeralContainers"};
    for (size_t l = 0; l < 3; l++) {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(spec, lists[l]), i, c) {
            if (jstr(c, "name") && strcmp(jstr(c, "name"), name) == 0)
                return true;
        }
    }
    return false;
}

/* The container the request means: its argument, or the pod's only one. */
static bool pick_container(struct request *rq, json_t *pod, struct proxy_target *pt,
                           enum MHD_Result *ret)
{
    json_t *spec = json_object_get(pod, "spec");
    const char *want = request_arg(rq, "container");
    if (want && *want) {
        if (!has_container(spec, want)) {
            *ret = reply_status(rq, 400, "BadRequest", "container %s is not valid for pod %s",
                                want, pt->pod);
            return false;
        }
        snprintf(pt->container, sizeof pt->container, "%s", want);
        return true;
    }
    json_t *cs = json_object_get(spec, "containers");
    if (json_array_size(cs) == 1) {
        snprintf(pt->container, sizeof pt->container, "%s", jstr(json_array_get(cs, 0), "name"));
        return true;
    }
    /* Kubernetes' words, init containers included */
    struct ubuf msg = {0};
    ubuf_appendf(&msg, "a container name must be specified for pod %s", pt->pod);
    json_t *init = json_object_get(spec, "initContainers");
    for (int l = 0; l < 2; l++) {
        json_t *list = l ? init : cs;
        if (!json_array_size(list))
            continue;
        ubuf_appendf(&msg, l ? " or one of the init containers: [" : ", choose one of: [");
        size_t i;
        json_t *c;
        json_array_foreach(list, i, c) ubuf_appendf(&msg, "%s%s", i ? " " : "", jstr(c, "name"));
        ubuf_append(&msg, "]", 1);
    }
    ubuf_append(&msg, "", 1);
    *ret = reply_status(rq, 400, "BadRequest", "%s", msg.data);
    ubuf_free(&msg);
    return false;
}

static json_t *read_object(struct server *s, const char *res, const char *ns, const char *name)
{
    struct store_read r;
    struct store_obj o;
    if (store_read_begin(s->store, &r) != 0)
        return NULL;
    json_t *v = store_get(&r, res, ns, name, &o) == 0 ? object_render(&o, o.mod_rev) : NULL;
    store_read_end(&r);
    return v;
}

/* Reads the pod and its node; true with pt filled, else replied. */
static bool proxy_resolve(struct request *rq, const struct api_target *t, bool exec,
                          struct proxy_target *pt, enum MHD_Result *ret)
{
    if (rq->inproc) {
        *ret = reply_status(rq, 400, "BadRequest", "pods/%s needs a connection", t->sub);
        return false;
    }
    if (api_read_consistency(rq, ret))
        return false;
    snprintf(pt->ns, sizeof pt->ns, "%s", t->ns);
    snprintf(pt->pod, sizeof pt->pod, "%s", t->name);
    json_t *pod = read_object(rq->srv, "pods", t->ns, t->name);
    if (!pod) {
        *ret = api_reply_not_found(rq, t, t->name);
        return false;
    }
    bool ok = pick_container(rq, pod, pt, ret);
    const char *node = jstr(json_object_get(pod, "spec"), "nodeName");
    const char *phase = jstr(json_object_get(pod, "status"), "phase");
    if (ok && (!node || !*node)) {
        /* Kubernetes: no host, no log yet (an empty one); exec refused */
        *ret = exec ? reply_status(rq, 400, "BadRequest", "pod %s does not have a host assigned",
                                   t->name)
                    : reply_text(rq, 200, "text/plain", "");
        ok = false;
    } else if (ok && exec && phase &&
               (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) {
        *ret = reply_status(rq, 400, "BadRequest",
                            "cannot exec into a container in a completed pod; current phase is "
                            "%s",
                            phase);
        ok = false;
    }
    if (ok)
        snprintf(pt->node, sizeof pt->node, "%s", node);
    json_decref(pod);
    if (!ok)
        return false;
    json_t *n = read_object(rq->srv, "nodes", "", pt->node);
    const char *ep = jstr(json_object_get(json_object_get(n, "metadata"), "annotations"),
                          ENDPOINT_ANNOTATION);
    if (!n || !ep || strlen(ep) >= sizeof pt->endpoint) {
        *ret = !n ? reply_status(rq, 404, "NotFound", "nodes \"%s\" not found", pt->node)
                  : reply_status(rq, 503, "ServiceUnavailable",
                                 "node %s has no kubelet endpoint (annotation %s)", pt->node,
                                 ENDPOINT_ANNOTATION);
        json_decref(n);
        return false;
    }
    snprintf(pt->endpoint, sizeof pt->endpoint, "%s", ep);
    json_decref(n);
    return true;
}

/* ---- talking to the kubelet ---- */

static int connect_to(const char *hostport, char *err, size_t errlen)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (!colon || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(err, errlen, "bad kubelet endpoint \"%s\"", hostport);
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    long port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        snprintf(err, errlen, "bad kubelet endpoint \"%s\"", hostport);
        return -1;
    }
    sa.sin_port = htons((uint16_t)port);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (poll(&p, 1, PROXY_CONNECT_MS) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0)
            errno = soerr, rc = soerr ? -1 : 0;
        else
            errno = ETIMEDOUT;
    }
    if (rc != 0) {
        snprintf(err, errlen, "dial tcp %s: connect: %s", hostport, strerror(errno));
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* The kubelet's answer: its head, and the bytes read past it. */
struct upstream_reply {
    struct nodeproxy_head h;
    struct ubuf rest;
};

static void header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    const char *v = line + n + 1;
    size_t vl = len - n - 1;
    while (vl && (*v == ' ' || *v == '\t'))
        v++, vl--;
    snprintf(out, cap, "%.*s", (int)vl, v);
}

int nodeproxy_parse_head(const char *data, size_t len, struct nodeproxy_head *h)
{
    memset(h, 0, sizeof *h);
    h->content_length = -1;
    const char *end = memmem(data, len, "\r\n\r\n", 4);
    if (!end)
        return len >= PROXY_HEADER_MAX ? -1 : 1;
    /* "HTTP/1.x NNN ..." */
    if (end - data < 12 || memcmp(data, "HTTP/1.", 7) != 0 || data[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++) {
        if (data[i] < '0' || data[i] > '9')
            return -1;
        h->code = h->code * 10 + (data[i] - '0');
    }
    const char *line = memmem(data, (size_t)(end + 2 - data), "\r\n", 2) + 2;
    while (line < end) { /* each header line ends in \r\n, the last at end */
        const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        size_t n = (size_t)(eol - line);
        header_value(line, n, "Sec-WebSocket-Accept", h->accept, sizeof h->accept);
        header_value(line, n, "Sec-WebSocket-Protocol", h->protocol, sizeof h->protocol);
        char cl[24] = "";
        header_value(line, n, "Content-Length", cl, sizeof cl);
        if (cl[0]) {
            char *e;
            long v = strtol(cl, &e, 10);
            if (*e || v < 0)
                return -1;
            h->content_length = v;
        }
        line = eol + 2;
    }
    h->len = (size_t)(end + 4 - data);
    return 0;
}

/* Reads the status line and headers (blocking, bounded). 0, or -1. */
static int read_reply_head(int fd, struct upstream_reply *ur)
{
    struct ubuf b = {0};
    uint64_t deadline = util_now_ms() + PROXY_HEADER_MS;
    int rc;
    while ((rc = nodeproxy_parse_head(b.data ? b.data : "", b.len, &ur->h)) == 1) {
        if (util_now_ms() >= deadline)
            break;
        ubuf_reserve(&b, 4096);
        ssize_t n = recv(fd, b.data + b.len, 4096, 0);
        if (n > 0) {
            b.len += (size_t)n;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            break;
        } else {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 200);
        }
    }
    if (rc == 0)
        ubuf_append(&ur->rest, b.data + ur->h.len, b.len - ur->h.len);
    ubuf_free(&b);
    return rc == 0 ? 0 : -1;
}

/* A kubelet's error: its body up to its close (bounded), passed on as the
 * Status it is, or wrapped in one. */
static enum MHD_Result reply_upstream_error(struct request *rq, int fd, struct upstream_reply *ur)
{
    uint64_t deadline = util_now_ms() + PROXY_HEADER_MS;
    size_t want = ur->h.content_length >= 0 && ur->h.content_length < PROXY_ERROR_BODY_MAX
                      ? (size_t)ur->h.content_length
                      : PROXY_ERROR_BODY_MAX; /* else: up to its close */
    while (ur->rest.len < want && util_now_ms() < deadline) {
        ubuf_reserve(&ur->rest, 4096);
        ssize_t n = recv(fd, ur->rest.data + ur->rest.len, 4096, 0);
        if (n > 0) {
            ur->rest.len += (size_t)n;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            break;
        } else {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 200);
        }
    }
    json_t *v = codec_json_load(ur->rest.data ? ur->rest.data : "", ur->rest.len, 0, NULL);
    unsigned code = ur->h.code >= 400 && ur->h.code < 600 ? (unsigned)ur->h.code : 502;
    if (v && json_is_string(json_object_get(v, "message")))
        return reply_json(rq, code, v);
    json_decref(v);
    return reply_status(rq, code, code == 502 ? "BadGateway" : "InternalError",
                        "the kubelet answered %d: %.*s", ur->h.code, (int)ur->rest.len,
                        ur->rest.data ? ur->rest.data : "");
}

static void append_escaped(struct ubuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            ubuf_append(b, s, 1);
        else
            ubuf_appendf(b, "%%%02X", c);
    }
}

static enum MHD_Result query_pair(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct ubuf *q = cls; /* the request's query again, every pair (command= repeats) */
    ubuf_append(q, q->len ? "&" : "?", 1);
    append_escaped(q, key);
    ubuf_append(q, "=", 1);
    append_escaped(q, value ? value : "");
    return MHD_YES;
}

/* Connects to the kubelet and sends GET path + the request's query with
 * extra headers. The socket, or -1 after replying. */
static int upstream_open(struct request *rq, const struct proxy_target *pt, const char *what,
                         const char *version, const char *extra, enum MHD_Result *ret)
{
    char err[256];
    int fd = connect_to(pt->endpoint, err, sizeof err);
    if (fd < 0) {
        *ret = reply_status(rq, 500, "InternalError", "%s for pod %s/%s on node %s: %s", what,
                            pt->ns, pt->pod, pt->node, err);
        return -1;
    }
    struct ubuf q = {0};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_pair, &q);
    struct ubuf req = {0};
    ubuf_appendf(&req, "GET /%s/%s/%s/%s%s HTTP/%s\r\nHost: %s\r\n%s\r\n",
                 strcmp(what, "logs") == 0 ? "containerLogs" : "exec", pt->ns, pt->pod,
                 pt->container, q.data ? q.data : "", version, pt->endpoint, extra);
    bool ok = util_send_all(fd, req.data, req.len, PROXY_HEADER_MS);
    ubuf_free(&req);
    ubuf_free(&q);
    if (!ok) {
        close(fd);
        *ret = reply_status(rq, 500, "InternalError", "%s for pod %s/%s: the kubelet at %s hung up",
                            what, pt->ns, pt->pod, pt->endpoint);
        return -1;
    }
    return fd;
}

/* upstream_open, then the kubelet's head: the socket when it answered
 * want (ur filled), else -1 after replying (its error passed on). */
static int upstream_call(struct request *rq, const struct proxy_target *pt, const char *what,
                         const char *version, const char *extra, int want,
                         struct upstream_reply *ur, enum MHD_Result *ret)
{
    int fd = upstream_open(rq, pt, what, version, extra, ret);
    if (fd < 0)
        return -1;
    if (read_reply_head(fd, ur) != 0) {
        *ret = reply_status(rq, 500, "InternalError",
                            "%s for pod %s/%s: no answer from the kubelet at %s", what, pt->ns,
                            pt->pod, pt->endpoint);
    } else if (ur->h.code != want) {
        *ret = reply_upstream_error(rq, fd, ur);
    } else {
        return fd;
    }
    close(fd);
    ubuf_free(&ur->rest);
    return -1;
}

/* What runs: the log streams (counted) and the exec sessions (listed, so
 * that a stop can shut their sockets down and wait for their threads). */
struct splice;
struct nodeproxy {
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* a stream or session ended */
    int streams;
    struct splice *sessions; /* linked by splice.next */
};

struct nodeproxy *nodeproxy_new(void)
{
    struct nodeproxy *np = xcalloc(1, sizeof *np);
    pthread_mutex_init(&np->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&np->cv, &ca);
    pthread_condattr_destroy(&ca);
    return np;
}

void nodeproxy_free(struct nodeproxy *np)
{
    if (!np)
        return;
    pthread_cond_destroy(&np->cv);
    pthread_mutex_destroy(&np->mu);
    free(np);
}

static void streams_add(struct server *s, int d)
{
    pthread_mutex_lock(&s->proxy->mu);
    s->proxy->streams += d;
    pthread_cond_broadcast(&s->proxy->cv);
    pthread_mutex_unlock(&s->proxy->mu);
}

/* ---- logs: a stream pulled from the kubelet's socket ---- */

struct log_relay {
    struct server *srv;
    struct MHD_Connection *conn;
    int up;     /* the kubelet's socket */
    int client; /* the client's, to see it hang up */
    struct ubuf pre; /* bytes read with the kubelet's headers */
    size_t pre_off;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool parked, stop;
};

/* The relay's thread: while the reader is parked (the connection
 * suspended), waits for the kubelet's bytes or end, the client's hang-up or
 * the server's stop, then resumes the connection. */
static void *relay_thread(void *arg)
{
    struct log_relay *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->parked && !r->stop)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->stop)
            break;
        pthread_mutex_unlock(&r->mu);
        for (;;) {
            struct pollfd p[2] = {{.fd = r->up, .events = POLLIN},
                                  {.fd = r->client, .events = POLLRDHUP}};
            int n = poll(p, r->client >= 0 ? 2 : 1, PROXY_TICK_MS);
            if (n != 0 || r->srv->stopping)
                break;
        }
        pthread_mutex_lock(&r->mu);
        r->parked = false;
        MHD_resume_connection(r->conn);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

static ssize_t relay_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct log_relay *r = cls;
    if (r->pre_off < r->pre.len) {
        size_t n = r->pre.len - r->pre_off;
        n = n > max ? max : n;
        memcpy(buf, r->pre.data + r->pre_off, n);
        r->pre_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(r->up, buf, max, MSG_DONTWAIT);
    if (n > 0)
        return n;
    if (n == 0 || (errno != EAGAIN && errno != EINTR) || r->srv->stopping ||
        util_peer_gone(r->client))
        return MHD_CONTENT_READER_END_OF_STREAM;
    MHD_suspend_connection(r->conn);
    pthread_mutex_lock(&r->mu);
    r->parked = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

static void relay_free(void *cls)
{
    struct log_relay *r = cls;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    close(r->up);
    ubuf_free(&r->pre);
    streams_add(r->srv, -1);
    free(r);
}

/* A 422 about one of the PodLogOptions, in Kubernetes' words. */
static enum MHD_Result reply_bad_option(struct request *rq, const char *pod, const char *field,
                                        const char *value, const char *why)
{
    char detail[512], msg[1024];
    if (value)
        snprintf(detail, sizeof detail, "Invalid value: %s: %s", value, why);
    else
        snprintf(detail, sizeof detail, "Forbidden: %s", why);
    snprintf(msg, sizeof msg, "PodLogOptions \"%s\" is invalid: %s: %s", pod, field, detail);
    json_t *st = kube_status(422, "Invalid", msg);
    json_object_set_new(st, "details",
                        json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "name", pod, "kind",
                                  "PodLogOptions", "causes", "reason",
                                  value ? "FieldValueInvalid" : "FieldValueForbidden", "message",
                                  detail, "field", field));
    return reply_json(rq, 422, st);
}

/* The integer options, as Kubernetes validates them (ValidatePodLogOptions):
 * true, or false after replying. */
static bool log_options_valid(struct request *rq, const char *pod, enum MHD_Result *ret)
{
    static const struct {
        const char *name;
        long long min;
        const char *why;
    } opts[] = {{"tailLines", 0, "must be greater than or equal to 0"},
                {"limitBytes", 1, "must be greater than 0"},
                {"sinceSeconds", 1, "must be greater than 0"}};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const char *v = request_arg(rq, opts[i].name);
        if (!v)
            continue;
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (!*v || *end || errno) {
            *ret = reply_status(rq, 400, "BadRequest", "%s: \"%s\" is not a whole number",
                                opts[i].name, v);
            return false;
        }
        if (n < opts[i].min) {
            *ret = reply_bad_option(rq, pod, opts[i].name, v, opts[i].why);
            return false;
        }
    }
    if (request_arg(rq, "sinceSeconds") && request_arg(rq, "sinceTime")) {
        *ret = reply_bad_option(rq, pod, "sinceSeconds", NULL,
                                "at most one of `sinceTime` or `sinceSeconds` may be specified");
        return false;
    }
    return true;
}

enum MHD_Result nodeproxy_log(struct request *rq, const struct api_target *t)
{
    struct proxy_target pt;
    enum MHD_Result ret;
    if (!log_options_valid(rq, t->name, &ret) || !proxy_resolve(rq, t, false, &pt, &ret))
        return ret;
    struct upstream_reply ur = {0};
    int fd = upstream_call(rq, &pt, "logs", "1.0", "", 200, &ur, &ret);
    if (fd < 0)
        return ret;
    struct log_relay *r = xcalloc(1, sizeof *r);
    r->srv = rq->srv;
    r->conn = rq->conn;
    r->up = fd;
    r->pre = ur.rest;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    r->client = ci ? ci->connect_fd : -1;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->th, NULL, relay_thread, r) != 0) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        close(fd);
        ubuf_free(&r->pre);
        free(r);
        return reply_status(rq, 503, "ServiceUnavailable", "cannot start a log stream: %s",
                            strerror(errno));
    }
    streams_add(rq->srv, 1);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, relay_reader, r, relay_free);
    if (!resp) {
        relay_free(r);
        return reply_status(rq, 503, "ServiceUnavailable", "cannot start a log stream");
    }
    MHD_add_response_header(resp, "Content-Type", "text/plain");
    MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
    return http_queue(rq, 200, resp);
}

/* ---- exec: an upgrade, then bytes both ways ---- */

struct splice {
    struct server *srv;
    struct splice *next; /* in srv->proxy->sessions from the 101 on */
    int up;
    struct ubuf pre; /* the kubelet's bytes read with its headers: the client's first */
    int client;      /* -1 until the upgrade */
    struct ubuf client_pre; /* the client's bytes libmicrohttpd read past its headers */
    struct MHD_UpgradeResponseHandle *urh;
};

static void session_add(struct splice *sp)
{
    struct nodeproxy *np = sp->srv->proxy;
    pthread_mutex_lock(&np->mu);
    sp->next = np->sessions;
    np->sessions = sp;
    pthread_mutex_unlock(&np->mu);
}

/* Takes sp out of the list and frees it: its thread's (or the abandon's)
 * last touch of the server. */
static void session_end(struct splice *sp)
{
    struct nodeproxy *np = sp->srv->proxy;
    pthread_mutex_lock(&np->mu);
    for (struct splice **p = &np->sessions; *p; p = &(*p)->next) {
        if (*p == sp) {
            *p = sp->next;
            break;
        }
    }
    pthread_cond_broadcast(&np->cv);
    pthread_mutex_unlock(&np->mu);
    close(sp->up);
    ubuf_free(&sp->pre);
    ubuf_free(&sp->client_pre);
    free(sp);
}

/* Copies what one side has to the other: 1 moved (or nothing yet), 0 at
 * its end, -1 on an error (either side's). */
static int pump(int from, int to)
{
    char buf[32768];
    ssize_t n = recv(from, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0)
        return 0;
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 1 : -1;
    return util_send_all(to, buf, (size_t)n, 30000) ? 1 : -1;
}

/* Bytes both ways until both sides have ended. One side's end is passed on
 * as a half-close, and the other direction goes on, so that the last
 * frames of the WebSocket closing handshake still cross: closing a socket
 * with bytes unread would reset it, and a reset can destroy what the peer
 * had not read yet (exec's final status). A stop shuts both sockets down
 * (nodeproxy_wait), which ends any wait here at once. */
static void *splice_thread(void *arg)
{
    struct splice *sp = arg;
    bool ok = util_send_all(sp->client, sp->pre.data ? sp->pre.data : "", sp->pre.len, 30000) &&
              util_send_all(sp->up, sp->client_pre.data ? sp->client_pre.data : "",
                       sp->client_pre.len, 30000);
    bool open[2] = {ok, ok}; /* client to kubelet, kubelet to client */
    uint64_t give_up = UINT64_MAX;
    while ((open[0] || open[1]) && !sp->srv->stopping && util_now_ms() < give_up) {
        struct pollfd p[2] = {{.fd = open[0] ? sp->client : -1, .events = POLLIN},
                              {.fd = open[1] ? sp->up : -1, .events = POLLIN}};
        int n = poll(p, 2, PROXY_TICK_MS);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && n > 0; i++) {
            if (!open[i] || !p[i].revents)
                continue;
            int from = i ? sp->up : sp->client, to = i ? sp->client : sp->up;
            if (pump(from, to) <= 0) { /* its end, or the other side's */
                open[i] = false;
                shutdown(to, SHUT_WR);
                give_up = util_now_ms() + PROXY_LINGER_MS;
            }
        }
    }
    MHD_upgrade_action(sp->urh, MHD_UPGRADE_ACTION_CLOSE);
    session_end(sp);
    return NULL;
}

/* The 101 never went out (the client went while the kubelet answered). */
static void splice_abandon(void *arg)
{
    session_end(arg);
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls,
                       const char *extra_in, size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh)
{
    (void)conn;
    struct request *rq = con_cls;
    struct splice *sp = cls;
    rq->upgrade = NULL; /* ours now */
    pthread_mutex_lock(&sp->srv->proxy->mu); /* nodeproxy_wait reads client */
    sp->client = sock;
    pthread_mutex_unlock(&sp->srv->proxy->mu);
    sp->urh = urh;
    if (extra_in_size)
        ubuf_append(&sp->client_pre, extra_in, extra_in_size);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, splice_thread, sp) != 0) {
        LOG_WARN("exec: cannot start a thread: %s", strerror(errno));
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        session_end(sp);
    }
    pthread_attr_destroy(&attr);
}

enum MHD_Result nodeproxy_exec(struct request *rq, const struct api_target *t)
{
    const char *upgrade = request_header(rq, "Upgrade");
    const char *key = request_header(rq, "Sec-WebSocket-Key");
    const char *proto = request_header(rq, "Sec-WebSocket-Protocol");
    struct proxy_target pt;
    enum MHD_Result ret;
    if (!proxy_resolve(rq, t, true, &pt, &ret))
        return ret;
    bool ws = upgrade && strcasecmp(upgrade, "websocket") == 0 && key && strlen(key) <= 64;
    /* Not a WebSocket (kubectl retries over SPDY when its WebSocket was
     * refused): the kubelet is asked without an upgrade, so that its
     * answer says what is wrong with this exec (not running, exec off...)
     * before that it speaks WebSocket only, and kubectl shows that. */
    char extra[512];
    if (ws)
        snprintf(extra, sizeof extra,
                 "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Protocol: %.200s\r\n",
                 key, proto ? proto : "");
    else
        snprintf(extra, sizeof extra, "Connection: close\r\n");
    struct upstream_reply ur = {0};
    int fd = upstream_call(rq, &pt, "exec", "1.1", extra, 101, &ur, &ret);
    if (fd < 0)
        return ret;
    struct splice *sp = xcalloc(1, sizeof *sp);
    sp->srv = rq->srv;
    sp->up = fd;
    sp->client = -1;
    sp->pre = ur.rest;
    struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, sp);
    if (!resp) {
        close(fd);
        ubuf_free(&sp->pre);
        free(sp);
        return reply_status(rq, 503, "ServiceUnavailable", "cannot upgrade the connection");
    }
    session_add(sp);
    rq->upgrade = sp;
    rq->upgrade_abandon = splice_abandon;
    MHD_add_response_header(resp, "Upgrade", "websocket");
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", ur.h.accept);
    if (ur.h.protocol[0])
        MHD_add_response_header(resp, "Sec-WebSocket-Protocol", ur.h.protocol);
    return http_queue(rq, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
}

void nodeproxy_wait(struct server *s)
{
    struct nodeproxy *np = s->proxy;
    if (!np)
        return;
    struct timespec deadline;
    util_deadline(&deadline, 3 * PROXY_TICK_MS + 2000);
    pthread_mutex_lock(&np->mu);
    for (struct splice *sp = np->sessions; sp; sp = sp->next) {
        shutdown(sp->up, SHUT_RDWR);
        if (sp->client >= 0)
            shutdown(sp->client, SHUT_RDWR);
    }
    while ((np->streams > 0 || np->sessions) &&
           pthread_cond_timedwait(&np->cv, &np->mu, &deadline) == 0)
        ;
    if (np->streams > 0 || np->sessions)
        LOG_WARN("http: %d log stream(s) and %s exec session(s) still open at stop", np->streams,
                 np->sessions ? "some" : "no");
    pthread_mutex_unlock(&np->mu);
}
