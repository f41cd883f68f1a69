/* httpc.c — a small blocking HTTP/1.1 client over TCP (see httpc.h).
 *
 * How it works. A struct httpc owns at most one non-blocking socket and a
 * read buffer. Every public call turns its timeout into one absolute
 * deadline, and every wait (connect, send, receive) is a poll() bounded by
 * what is left of it, so no call blocks longer than its timeout.
 *
 * A request is the head (request line and headers, built in a ubuf) and the
 * caller's body, sent together with sendmsg() and MSG_NOSIGNAL. The response
 * head is read into the buffer until the blank line and parsed in place:
 * status line, then headers by case-insensitive name (Content-Length,
 * Transfer-Encoding, Connection, Content-Type). That decides how the body
 * is framed:
 *   - none: HEAD, 1xx, 204 and 304;
 *   - chunked: a small state machine (size line, data, CRLF, ..., trailers);
 *   - Content-Length;
 *   - neither: the body runs until the server closes.
 * The body is then read on demand: httpc_request reads all of it,
 * httpc_stream_read one piece per call (for chunked bodies, one chunk, or as
 * much of it as fits). Bytes received beyond what a step needs stay in the
 * buffer for the next step.
 *
 * Keep-alive. After a body ends the connection is kept unless the server
 * said "Connection: close", spoke HTTP/1.0 without keep-alive, or delimited
 * the body by closing. A kept connection may have been closed by the server
 * meanwhile (idle timeout): before reusing it we peek for a pending EOF, and
 * if the send fails or the connection ends before any byte of the response
 * arrives, we reconnect and send the request once more. A connection whose
 * stream was abandoned mid-body is closed before the next request.
 *
 * Errors set errno: ETIMEDOUT (deadline), EPROTO (malformed response),
 * EMSGSIZE (head, line or body over the limits below), EINVAL (bad
 * arguments), ECONNRESET (closed without a response) or the socket's.
 *
 * Caveats.
 *   - A negative timeout means no deadline. Name resolution (getaddrinfo) is
 *     not bounded by the deadline; with numeric hosts it does no I/O.
 *   - httpc_request closes the connection on a timeout; httpc_stream_read
 *     does not: it returns -1 with ETIMEDOUT and the stream can be read
 *     again, so a watcher can wake up periodically. A timeout in the middle
 *     of a chunk returns the bytes that did arrive.
 *   - The one retry also applies to POST/PUT/PATCH/DELETE. It only happens
 *     when not a byte of response came, which for a server that closes idle
 *     connections means the request was never read; a server that crashed
 *     after acting on it and before answering would see it twice.
 *   - A path in the base URL ("http://h:1/base") is prepended to every
 *     request path. */
#include "httpc/httpc.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/util.h"

#define HTTPC_MAX_HEAD (64 * 1024)          /* status line and headers */
#define HTTPC_MAX_LINE 4096                 /* a chunk-size or trailer line */
#define HTTPC_MAX_BODY ((size_t)1 << 30)    /* what httpc_request will hold */
#define HTTPC_READ_SIZE (16 * 1024)         /* smallest read into the buffer */
#define HTTPC_NO_DEADLINE UINT64_MAX
#define HTTPC_CLOSED (-2)                   /* peer closed before any response byte */

enum httpc_framing { HTTPC_BODY_NONE, HTTPC_BODY_LENGTH, HTTPC_BODY_CHUNKED, HTTPC_BODY_EOF };
enum httpc_chunk_state { HTTPC_CHUNK_SIZE, HTTPC_CHUNK_DATA, HTTPC_CHUNK_CRLF, HTTPC_CHUNK_TRAILER };

struct httpc {
    char *host;      /* for getaddrinfo: no brackets around IPv6 */
    char port[6];
    char *authority; /* the Host header: host[:port] as written in the URL */
    char *prefix;    /* the URL's path without trailing '/', prepended to paths; may be "" */

    int fd; /* -1 when not connected */
    /* httpc_abort, from another thread: fd is changed and shut down only
     * under fd_mu, so an abort never reaches a socket that took a closed
     * one's number; aborted is read without it (atomically). */
    pthread_mutex_t fd_mu;
    bool aborted;

    /* Read buffer. Unread bytes are buf[pos..len); len <= cap. */
    char *buf;
    size_t pos, len, cap;

    /* The response being read. in_body is true from the end of its head until
     * its body has been read to the end; only then may the connection carry
     * another request. */
    bool in_body;
    bool keep_alive; /* reuse the connection once this body ends */
    enum httpc_framing framing;
    enum httpc_chunk_state chunk;
    uint64_t left; /* bytes left of the Content-Length body or of the current chunk */
};

/* ---- time -------------------------------------------------------------- */

static uint64_t httpc_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? HTTPC_NO_DEADLINE : util_now_ms() + (uint64_t)timeout_ms;
}

/* Milliseconds left until deadline, as a poll() timeout. */
static int httpc_ms_left(uint64_t deadline)
{
    if (deadline == HTTPC_NO_DEADLINE)
        return -1;
    uint64_t now = util_now_ms();
    if (now >= deadline)
        return 0;
    return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/* Waits until fd is ready for events; 0, or -1 with ETIMEDOUT or poll's errno.
 * POLLERR and POLLHUP count as ready: the next I/O call reports them. */
static int httpc_wait(int fd, short events, uint64_t deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, httpc_ms_left(deadline));
        if (n > 0)
            return 0;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* ---- URL --------------------------------------------------------------- */

static bool httpc_parse_port(const char *s, size_t n, char out[6])
{
    if (n == 0 || n > 5)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* Splits "host[:port]" or "[v6][:port]" into c->host and c->port. */
static bool httpc_parse_authority(struct httpc *c, const char *a, size_t n)
{
    const char *host = a, *colon = NULL;
    size_t host_len;
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return false;
        host = a + 1;
        host_len = (size_t)(close - host);
        if (close + 1 < a + n) {
            if (close[1] != ':')
                return false;
            colon = close + 1;
        }
    } else {
        colon = memchr(a, ':', n);
        host_len = colon ? (size_t)(colon - a) : n;
    }
    if (host_len == 0)
        return false;
    for (size_t i = 0; i < host_len; i++)
        if ((unsigned char)host[i] <= ' ' || host[i] == '@' || host[i] == 0x7f)
            return false;
    if (colon) {
        if (!httpc_parse_port(colon + 1, (size_t)(a + n - colon - 1), c->port))
            return false;
    } else
        memcpy(c->port, "80", 3);
    c->host = xstrndup(host, host_len);
    c->authority = xstrndup(a, n);
    return true;
}

struct httpc *httpc_new(const char *url)
{
    if (!url || strncasecmp(url, "http://", 7) != 0)
        return NULL;
    const char *a = url + 7;
    size_t alen = strcspn(a, "/?#");
    const char *path = a + alen;
    if (*path == '?' || *path == '#')
        return NULL;
    size_t plen = strlen(path);
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f)
            return NULL;
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    struct httpc *c = xcalloc(1, sizeof *c);
    c->fd = -1;
    pthread_mutex_init(&c->fd_mu, NULL);
    if (!httpc_parse_authority(c, a, alen)) {
        httpc_free(c);
        return NULL;
    }
    c->prefix = xstrndup(path, plen);
    return c;
}

void httpc_close(struct httpc *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->fd_mu);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    pthread_mutex_unlock(&c->fd_mu);
    c->pos = c->len = 0;
    c->in_body = false;
}

static int httpc_connect(struct httpc *c, uint64_t deadline);

int httpc_open(struct httpc *c, int timeout_ms)
{
    httpc_close(c);
    return httpc_connect(c, util_now_ms() + (uint64_t)timeout_ms);
}

int httpc_wait_closed(struct httpc *c, int timeout_ms)
{
    if (c->fd < 0)
        return -1;
    struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, timeout_ms) <= 0)
        return 0; /* quiet (or EINTR): still open */
    char drop[512];
    ssize_t n = recv(c->fd, drop, sizeof drop, MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)))
        return 0;
    httpc_close(c);
    return 1;
}

int httpc_fd(const struct httpc *c)
{
    return c->fd;
}

void httpc_free(struct httpc *c)
{
    if (!c)
        return;
    httpc_close(c);
    pthread_mutex_destroy(&c->fd_mu);
    free(c->host);
    free(c->authority);
    free(c->prefix);
    free(c->buf);
    free(c);
}

void httpc_abort(struct httpc *c)
{
    pthread_mutex_lock(&c->fd_mu);
    __atomic_store_n(&c->aborted, true, __ATOMIC_RELEASE);
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR); /* the request's poll and recv return at once */
    pthread_mutex_unlock(&c->fd_mu);
}

void httpc_response_free(struct httpc_response *resp)
{
    if (!resp)
        return;
    free(resp->content_type);
    free(resp->body);
    memset(resp, 0, sizeof *resp);
}

/* ---- connection -------------------------------------------------------- */

/* Connects one address; 0 with c->fd set, or -1 (errno). */
static int httpc_connect_addr(struct httpc *c, const struct addrinfo *ai, uint64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        int err = errno;
        if (err == EINPROGRESS || err == EINTR) {
            socklen_t len = sizeof err;
            if (httpc_wait(fd, POLLOUT, deadline) != 0)
                err = errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
        if (err != 0) {
            close(fd);
            errno = err;
            return -1;
        }
    }
    pthread_mutex_lock(&c->fd_mu);
    bool aborted = __atomic_load_n(&c->aborted, __ATOMIC_ACQUIRE);
    if (!aborted)
        c->fd = fd;
    pthread_mutex_unlock(&c->fd_mu);
    if (aborted) {
        close(fd);
        errno = ECANCELED;
        return -1;
    }
    return 0;
}

static int httpc_connect(struct httpc *c, uint64_t deadline)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(c->host, c->port, &hints, &res);
    if (rc != 0) {
        if (rc != EAI_SYSTEM)
            errno = EHOSTUNREACH;
        return -1;
    }
    int err = EHOSTUNREACH;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (httpc_connect_addr(c, ai, deadline) == 0)
            break;
        err = errno;
        if (err == ETIMEDOUT)
            break; /* the deadline is spent: no time for the other addresses */
    }
    freeaddrinfo(res);
    c->pos = c->len = 0;
    if (c->fd < 0) {
        errno = err;
        return -1;
    }
    return 0;
}

/* Has the server closed the kept-alive connection (EOF or error pending)? */
static bool httpc_peer_gone(struct httpc *c)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLERR | POLLHUP | POLLNVAL))
        return true;
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_PEEK);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* ---- sending ----------------------------------------------------------- */

static bool httpc_conn_error(int err)
{
    return err == EPIPE || err == ECONNRESET || err == ENOTCONN || err == ECONNABORTED;
}

/* Sends iov[0..cnt) entirely. 0, HTTPC_CLOSED if the peer had closed, or -1. */
static int httpc_send_all(struct httpc *c, struct iovec *iov, int cnt, uint64_t deadline)
{
    while (cnt > 0) {
        if (iov->iov_len == 0) {
            iov++, cnt--;
            continue;
        }
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (httpc_wait(c->fd, POLLOUT, deadline) != 0)
                    return -1;
                continue;
            }
            return httpc_conn_error(errno) ? HTTPC_CLOSED : -1;
        }
        size_t done = (size_t)n;
        while (cnt > 0 && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++, cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + done;
            iov->iov_len -= done;
        }
    }
    return 0;
}

static bool httpc_is_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!strchr("!#$%&'*+-.^_`|~", *s) && !(*s >= '0' && *s <= '9') &&
            !(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z'))
            return false;
    return true;
}

/* Does header line h ("Name: value") have the given name? */
static bool httpc_header_is(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && (h[n] == ':' || h[n] == ' ' || h[n] == '\t');
}

int httpc_build_head(const struct httpc *c, struct ubuf *out, const char *method,
                     const char *path, const char *const *headers, bool has_body, size_t body_len)
{
    if (!httpc_is_token(method) || !path || !*path)
        goto invalid;
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            goto invalid;
    ubuf_appendf(out, "%s %s%s HTTP/1.1\r\n", method, c->prefix, path);
    bool host = false, conn = false, length = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        const char *h = headers[i];
        if (!strchr(h, ':') || strpbrk(h, "\r\n") || h[0] == ':' || h[0] == ' ')
            goto invalid;
        host |= httpc_header_is(h, "Host");
        conn |= httpc_header_is(h, "Connection");
        length |= httpc_header_is(h, "Content-Length") || httpc_header_is(h, "Transfer-Encoding");
        ubuf_appendf(out, "%s\r\n", h);
    }
    if (!host)
        ubuf_appendf(out, "Host: %s\r\n", c->authority);
    if (!conn)
        ubuf_append(out, "Connection: keep-alive\r\n", 24);
    bool wants_length = has_body || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
                        !strcmp(method, "PATCH");
    if (wants_length && !length)
        ubuf_appendf(out, "Content-Length: %zu\r\n", body_len);
    ubuf_append(out, "\r\n", 2);
    return 0;
invalid:
    errno = EINVAL;
    return -1;
}

/* ---- receiving --------------------------------------------------------- */

/* Receives more bytes into the buffer: >0 bytes, 0 at EOF, -1 (errno). */
static long httpc_fill(struct httpc *c, uint64_t deadline)
{
    if (c->pos == c->len)
        c->pos = c->len = 0;
    if (c->cap - c->len < HTTPC_READ_SIZE && c->pos > 0) {
        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
        c->len -= c->pos;
        c->pos = 0;
    }
    if (c->cap - c->len < HTTPC_READ_SIZE) {
        c->cap = c->len + (c->cap > HTTPC_READ_SIZE ? c->cap : HTTPC_READ_SIZE);
        c->buf = xrealloc(c->buf, c->cap);
    }
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n >= 0) {
            c->len += (size_t)n;
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        if (httpc_wait(c->fd, POLLIN, deadline) != 0)
            return -1;
    }
}

/* Moves up to want body bytes to dst, waiting for at least one: the count,
 * 0 at EOF, or -1. Large reads on an empty buffer go straight to dst. */
static long httpc_read_some(struct httpc *c, char *dst, size_t want, uint64_t deadline)
{
    if (c->pos == c->len && want >= HTTPC_READ_SIZE) {
        for (;;) {
            ssize_t n = recv(c->fd, dst, want, 0);
            if (n >= 0)
                return n;
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return -1;
            if (httpc_wait(c->fd, POLLIN, deadline) != 0)
                return -1;
        }
    }
    if (c->pos == c->len) {
        long n = httpc_fill(c, deadline);
        if (n <= 0)
            return n;
    }
    size_t n = c->len - c->pos < want ? c->len - c->pos : want;
    memcpy(dst, c->buf + c->pos, n);
    c->pos += n;
    return (long)n;
}

/* Takes one line (without CR LF) from the buffer, receiving as needed. The
 * line points into the buffer and stays valid until the next receive. */
static int httpc_read_line(struct httpc *c, uint64_t deadline, const char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
        if (nl) {
            *line = c->buf + c->pos;
            *len = (size_t)(nl - *line);
            if (*len > 0 && (*line)[*len - 1] == '\r')
                (*len)--;
            c->pos = (size_t)(nl + 1 - c->buf);
            return 0;
        }
        if (c->len - c->pos > HTTPC_MAX_LINE) {
            errno = EMSGSIZE;
            return -1;
        }
        long n = httpc_fill(c, deadline);
        if (n == 0)
            errno = EPROTO; /* the body ended in the middle of its framing */
        if (n <= 0)
            return -1;
    }
}

/* ---- response head ----------------------------------------------------- */

static void httpc_body_done(struct httpc *c);

struct httpc_head {
    int status;
    int minor;        /* HTTP/1.minor */
    bool chunked;     /* Transfer-Encoding ends in chunked */
    bool other_te;    /* Transfer-Encoding present but not chunked */
    bool has_length;
    uint64_t length;
    int conn;         /* Connection: 0 unsaid, 1 keep-alive, -1 close */
    char *content_type;
};

static bool httpc_name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

bool httpc_list_has(const char *v, size_t n, const char *token, bool last)
{
    size_t tl = strlen(token);
    bool found = false;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && (v[a] == ' ' || v[a] == '\t'))
            a++;
        while (b > a && (v[b - 1] == ' ' || v[b - 1] == '\t'))
            b--;
        found = b - a == tl && strncasecmp(v + a, token, tl) == 0;
        if (found && !last)
            return true;
        i = j + 1;
    }
    return found;
}

static int httpc_parse_length(const char *v, size_t n, uint64_t *out)
{
    if (n == 0 || n > 18)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return 0;
}

static int httpc_parse_header(struct httpc_head *h, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    if (!colon || colon == line || line[0] == ' ' || line[0] == '\t')
        return -1; /* also refuses obsolete line folding */
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vn = (size_t)(end - v);
    if (httpc_name_is(line, name_len, "Content-Length")) {
        uint64_t len;
        if (httpc_parse_length(v, vn, &len) != 0 || (h->has_length && h->length != len))
            return -1;
        h->has_length = true;
        h->length = len;
    } else if (httpc_name_is(line, name_len, "Transfer-Encoding")) {
        h->chunked = httpc_list_has(v, vn, "chunked", true);
        h->other_te = !h->chunked;
    } else if (httpc_name_is(line, name_len, "Connection")) {
        if (httpc_list_has(v, vn, "close", false))
            h->conn = -1;
        else if (h->conn == 0 && httpc_list_has(v, vn, "keep-alive", false))
            h->conn = 1;
    } else if (httpc_name_is(line, name_len, "Content-Type")) {
        free(h->content_type);
        h->content_type = xstrndup(v, vn);
    }
    return 0;
}

static int httpc_parse_status(struct httpc_head *h, const char *line, size_t n)
{
    if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
        line[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++)
        if (line[i] < '0' || line[i] > '9')
            return -1;
    if (n > 12 && line[12] != ' ')
        return -1;
    h->minor = line[7] - '0';
    h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    return h->status >= 100 ? 0 : -1;
}

/* Parses the head in buf[0..n), which ends with its blank line. */
static int httpc_parse_head(struct httpc_head *h, const char *buf, size_t n)
{
    bool first = true;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t len = (size_t)(nl - (buf + i));
        const char *line = buf + i;
        i += len + 1;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0)
            break; /* the blank line */
        int rc = first ? httpc_parse_status(h, line, len) : httpc_parse_header(h, line, len);
        if (rc != 0) {
            errno = EPROTO;
            return -1;
        }
        first = false;
    }
    return first ? -1 : 0;
}

/* Finds the blank line ending the head in the buffer; the head's length
 * including it, or 0 if it has not all arrived. *scanned saves rescanning. */
static size_t httpc_head_end(const char *b, size_t n, size_t *scanned)
{
    for (size_t i = *scanned; i < n; i++) {
        if (b[i] != '\n')
            continue;
        if (i + 1 < n && b[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n')
            return i + 3;
    }
    *scanned = n > 2 ? n - 2 : 0;
    return 0;
}

/* Waits until a whole head is in the buffer at pos; *end is its length.
 * 0, HTTPC_CLOSED if the connection ended before any byte, or -1. */
static int httpc_await_head(struct httpc *c, uint64_t deadline, size_t *end)
{
    size_t scanned = 0;
    for (;;) {
        /* Clients should ignore empty lines before a status line (RFC 9112 2.2). */
        if (c->pos < c->len && (c->buf[c->pos] == '\r' || c->buf[c->pos] == '\n')) {
            c->pos++;
            scanned = 0;
            continue;
        }
        if ((*end = httpc_head_end(c->buf + c->pos, c->len - c->pos, &scanned)) != 0)
            return 0;
        if (c->len - c->pos > HTTPC_MAX_HEAD) {
            errno = EMSGSIZE;
            return -1;
        }
        bool nothing_yet = c->pos == c->len;
        long n = httpc_fill(c, deadline);
        if (n > 0)
            continue;
        if (nothing_yet && (n == 0 || httpc_conn_error(errno))) {
            errno = ECONNRESET;
            return HTTPC_CLOSED;
        }
        if (n == 0)
            errno = EPROTO;
        return -1;
    }
}

/* Reads the status line and headers of one response (skipping interim 1xx
 * responses) and sets up the body framing. 0, HTTPC_CLOSED if the
 * connection ended before any byte arrived, or -1. */
static int httpc_read_head(struct httpc *c, bool head_request, uint64_t deadline,
                           struct httpc_response *resp)
{
    struct httpc_head h;
    for (bool interim = false;; interim = true) {
        size_t end;
        int rc = httpc_await_head(c, deadline, &end);
        if (rc == HTTPC_CLOSED && interim)
            rc = -1; /* an interim response came: not a request to retry */
        if (rc != 0)
            return rc;
        memset(&h, 0, sizeof h);
        if (httpc_parse_head(&h, c->buf + c->pos, end) != 0) {
            free(h.content_type);
            errno = EPROTO;
            return -1;
        }
        c->pos += end;
        if (h.status >= 200 || h.status == 101)
            break;
        free(h.content_type); /* 100 Continue and friends: wait for the real one */
    }
    resp->status = h.status;
    resp->content_type = h.content_type;
    c->keep_alive = h.conn == 1 || (h.conn == 0 && h.minor >= 1);
    c->left = 0;
    c->chunk = HTTPC_CHUNK_SIZE;
    if (head_request || h.status < 200 || h.status == 204 || h.status == 304)
        c->framing = HTTPC_BODY_NONE;
    else if (h.chunked)
        c->framing = HTTPC_BODY_CHUNKED;
    else if (h.has_length && !h.other_te) {
        c->framing = h.length ? HTTPC_BODY_LENGTH : HTTPC_BODY_NONE;
        c->left = h.length;
    } else
        c->framing = HTTPC_BODY_EOF;
    if (c->framing == HTTPC_BODY_EOF || h.status == 101)
        c->keep_alive = false;
    c->in_body = true;
    if (c->framing == HTTPC_BODY_NONE)
        httpc_body_done(c);
    return 0;
}

/* ---- scanning a response in memory ------------------------------------ */

/* The length of the chunked body at b[0..n) (chunks, last chunk, trailer
 * and the blank line ending it), 0 if it has not all arrived, -1 if its
 * framing is broken. Lines are read as httpc_read_line reads them. */
static int httpc_parse_chunk_size(const char *line, size_t n, uint64_t *out);

static long httpc_chunked_end(const char *b, size_t n)
{
    size_t i = 0;
    for (;;) {
        const char *nl = memchr(b + i, '\n', n - i);
        if (!nl)
            return n - i > HTTPC_MAX_LINE ? -1 : 0;
        size_t len = (size_t)(nl - (b + i));
        uint64_t size;
        if (httpc_parse_chunk_size(b + i, len > 0 && b[i + len - 1] == '\r' ? len - 1 : len,
                                   &size) != 0)
            return -1;
        i += len + 1;
        if (size == 0)
            break;
        if (n - i < size)
            return 0;
        i += (size_t)size;
        if (i < n && b[i] == '\r')
            i++;
        if (i == n)
            return 0;
        if (b[i++] != '\n')
            return -1;
    }
    for (;;) { /* trailer fields, ignored, up to the blank line */
        const char *nl = memchr(b + i, '\n', n - i);
        if (!nl)
            return n - i > HTTPC_MAX_LINE ? -1 : 0;
        size_t len = (size_t)(nl - (b + i));
        i += len + 1;
        if (len == 0 || (len == 1 && b[i - 2] == '\r'))
            return i > LONG_MAX ? -1 : (long)i;
    }
}

long httpc_response_scan(const char *buf, size_t n, bool head_request, struct httpc_scan *out)
{
    size_t pos = 0;
    for (;;) {
        while (pos < n && (buf[pos] == '\r' || buf[pos] == '\n'))
            pos++; /* empty lines before a status line (RFC 9112 2.2) */
        size_t scanned = 0, end = httpc_head_end(buf + pos, n - pos, &scanned);
        if (end == 0)
            return n - pos > HTTPC_MAX_HEAD ? -1 : 0;
        struct httpc_head h;
        memset(&h, 0, sizeof h);
        int rc = httpc_parse_head(&h, buf + pos, end);
        free(h.content_type);
        if (rc != 0)
            return -1;
        pos += end;
        if (h.status < 200 && h.status != 101)
            continue; /* interim: the real answer follows */
        *out = (struct httpc_scan){.status = h.status,
                                   .keep_alive = h.conn == 1 || (h.conn == 0 && h.minor >= 1),
                                   .chunked = h.chunked, .body_off = pos};
        if (h.status == 101)
            return -1; /* a switched protocol has no end */
        if (head_request || h.status == 204 || h.status == 304)
            return (long)pos;
        if (h.chunked) {
            long body = httpc_chunked_end(buf + pos, n - pos);
            return body <= 0 ? body : (long)pos + body;
        }
        if (!h.has_length || h.other_te || h.length > HTTPC_MAX_BODY)
            return -1; /* framed by the connection's end, or too big */
        return n - pos < h.length ? 0 : (long)(pos + h.length);
    }
}

/* ---- response body ----------------------------------------------------- */

/* The body has been read to its end: keep or drop the connection. */
static void httpc_body_done(struct httpc *c)
{
    c->in_body = false;
    if (!c->keep_alive)
        httpc_close(c);
}

/* Parses a chunk-size line: hex digits, then optional extensions. */
static int httpc_parse_chunk_size(const char *line, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < n; i++) {
        int d = util_hex_digit(line[i]);
        if (d < 0)
            break;
        if (i >= 15) /* over 2^60: nobody sends that, so it is garbage */
            return -1;
        v = v * 16 + (uint64_t)d;
    }
    if (i == 0 || (i < n && line[i] != ';' && line[i] != ' ' && line[i] != '\t'))
        return -1;
    *out = v;
    return 0;
}

/* Reads body bytes of a chunked response: up to cap bytes of the current
 * chunk, waiting for the whole of it unless the deadline passes with some
 * already read. >0, 0 at the end of the body, or -1. */
static long httpc_read_chunked(struct httpc *c, char *dst, size_t cap, uint64_t deadline)
{
    const char *line;
    size_t len;
    for (;;) {
        switch (c->chunk) {
        case HTTPC_CHUNK_SIZE:
            if (httpc_read_line(c, deadline, &line, &len) != 0)
                return -1;
            if (httpc_parse_chunk_size(line, len, &c->left) != 0) {
                errno = EPROTO;
                return -1;
            }
            c->chunk = c->left ? HTTPC_CHUNK_DATA : HTTPC_CHUNK_TRAILER;
            break;
        case HTTPC_CHUNK_DATA: {
            size_t want = c->left < cap ? (size_t)c->left : cap, got = 0;
            while (got < want) {
                long n = httpc_read_some(c, dst + got, want - got, deadline);
                if (n <= 0) {
                    if (got > 0)
                        break; /* hand over what we have; the error recurs next call */
                    if (n == 0)
                        errno = EPROTO;
                    return -1;
                }
                got += (size_t)n;
            }
            c->left -= got;
            if (c->left == 0)
                c->chunk = HTTPC_CHUNK_CRLF;
            return (long)got;
        }
        case HTTPC_CHUNK_CRLF:
            if (httpc_read_line(c, deadline, &line, &len) != 0)
                return -1;
            if (len != 0) {
                errno = EPROTO;
                return -1;
            }
            c->chunk = HTTPC_CHUNK_SIZE;
            break;
        case HTTPC_CHUNK_TRAILER:
            if (httpc_read_line(c, deadline, &line, &len) != 0)
                return -1;
            if (len == 0) {
                httpc_body_done(c);
                return 0;
            }
            break; /* trailer fields are ignored */
        }
    }
}

/* Reads the next piece of the current body: >0, 0 at its end, or -1. */
static long httpc_read_body(struct httpc *c, char *dst, size_t cap, uint64_t deadline)
{
    if (!c->in_body)
        return 0;
    long n;
    switch (c->framing) {
    case HTTPC_BODY_NONE:
        httpc_body_done(c);
        return 0;
    case HTTPC_BODY_LENGTH:
        n = httpc_read_some(c, dst, c->left < cap ? (size_t)c->left : cap, deadline);
        if (n == 0)
            errno = EPROTO; /* closed before Content-Length bytes */
        if (n <= 0)
            return -1;
        c->left -= (uint64_t)n;
        if (c->left == 0)
            httpc_body_done(c);
        return n;
    case HTTPC_BODY_EOF:
        n = httpc_read_some(c, dst, cap, deadline);
        if (n == 0)
            httpc_body_done(c);
        return n;
    case HTTPC_BODY_CHUNKED:
        return httpc_read_chunked(c, dst, cap, deadline);
    }
    return -1;
}

/* ---- requests ---------------------------------------------------------- */

/* Sends a request and reads the response head, reconnecting once if a
 * kept-alive connection turns out closed. On failure the connection is
 * closed and resp holds nothing. */
static int httpc_exchange(struct httpc *c, const char *method, const char *path,
                          const char *const *headers, const void *body, size_t body_len,
                          uint64_t deadline, struct httpc_response *resp)
{
    memset(resp, 0, sizeof *resp);
    if (!c || (!body && body_len)) {
        errno = EINVAL;
        return -1;
    }
    if (__atomic_load_n(&c->aborted, __ATOMIC_ACQUIRE)) {
        errno = ECANCELED;
        return -1;
    }
    struct ubuf head = {0};
    if (httpc_build_head(c, &head, method, path, headers, body != NULL, body_len) != 0) {
        ubuf_free(&head);
        return -1;
    }
    if (c->in_body) /* a stream was abandoned mid-body */
        httpc_close(c);
    if (c->fd >= 0 && c->pos == c->len && httpc_peer_gone(c))
        httpc_close(c); /* idle connection the server has since closed */
    int rc = -1;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = c->fd >= 0;
        if (!reused && httpc_connect(c, deadline) != 0)
            break;
        struct iovec iov[2] = {{head.data, head.len}, {(void *)body, body ? body_len : 0}};
        rc = httpc_send_all(c, iov, 2, deadline);
        if (rc == 0)
            rc = httpc_read_head(c, strcmp(method, "HEAD") == 0, deadline, resp);
        if (rc == 0)
            break;
        int err = errno;
        httpc_close(c);
        errno = err;
        if (rc != HTTPC_CLOSED || !reused || __atomic_load_n(&c->aborted, __ATOMIC_ACQUIRE))
            break;
    }
    int err = errno;
    ubuf_free(&head);
    errno = err;
    return rc == 0 ? 0 : -1;
}

/* Closes the connection and releases resp, keeping errno. */
static int httpc_fail(struct httpc *c, struct httpc_response *resp)
{
    int err = errno;
    httpc_close(c);
    httpc_response_free(resp);
    errno = err;
    return -1;
}

int httpc_request(struct httpc *c, const char *method, const char *path, const char *const *headers,
                  const void *body, size_t body_len, int timeout_ms, struct httpc_response *resp)
{
    uint64_t deadline = httpc_deadline(timeout_ms);
    if (httpc_exchange(c, method, path, headers, body, body_len, deadline, resp) != 0)
        return -1;
    struct ubuf b = {0};
    if (c->framing == HTTPC_BODY_LENGTH) {
        if (c->left > HTTPC_MAX_BODY) {
            errno = EMSGSIZE;
            return httpc_fail(c, resp);
        }
        ubuf_reserve(&b, (size_t)c->left);
    }
    for (;;) {
        if (b.len > HTTPC_MAX_BODY) {
            ubuf_free(&b);
            errno = EMSGSIZE;
            return httpc_fail(c, resp);
        }
        ubuf_reserve(&b, HTTPC_READ_SIZE);
        long n = httpc_read_body(c, b.data + b.len, b.cap - b.len - 1, deadline);
        if (n < 0) {
            ubuf_free(&b);
            return httpc_fail(c, resp);
        }
        if (n == 0)
            break;
        b.len += (size_t)n;
    }
    b.data[b.len] = '\0';
    resp->body = b.data;
    resp->body_len = b.len;
    return 0;
}

int httpc_stream_open(struct httpc *c, const char *method, const char *path,
                      const char *const *headers, const void *body, size_t body_len,
                      int timeout_ms, struct httpc_response *resp)
{
    return httpc_exchange(c, method, path, headers, body, body_len,
                          httpc_deadline(timeout_ms), resp);
}

long httpc_stream_read(struct httpc *c, char *buf, size_t cap, int timeout_ms)
{
    if (!c || !buf || cap == 0) {
        errno = EINVAL;
        return -1;
    }
    if (!c->in_body)
        return 0;
    if (cap > LONG_MAX)
        cap = LONG_MAX;
    long n = httpc_read_body(c, buf, cap, httpc_deadline(timeout_ms));
    if (n < 0 && errno != ETIMEDOUT) {
        int err = errno;
        httpc_close(c);
        errno = err;
    }
    return n;
}
