/* test_httpc.c — unit tests for httpc against a scripted in-test HTTP server.
 *
 * Each test starts its own tiny server on 127.0.0.1 with an ephemeral port:
 * one acceptor thread, one thread per connection. A connection's thread
 * reads requests (request line, headers, Content-Length body) and answers by
 * path from a table of canned behaviours: Content-Length and chunked bodies,
 * bodies up to EOF, 204/304, interim 100, closing after a response, dropping
 * a request without answering, never answering, trickling bytes, garbage.
 * The server counts accepted connections, which is how the tests see
 * keep-alive reuse and reconnects. Every thread polls with a short timeout
 * and checks a stop flag, so teardown joins them all within milliseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "httpc/httpc.h"
#include "util/util.h"

#define SRV_MAX_CONNS 64
#define BIG_SIZE (1u << 20)

struct srv {
    int lfd;
    int port;
    pthread_t acceptor;
    atomic_int stop;
    atomic_int conns; /* connections accepted so far */
    pthread_t workers[SRV_MAX_CONNS];
    int nworkers; /* written by the acceptor only; read after it is joined */
};

struct srv_conn {
    struct srv *srv;
    int fd;
};

/* One parsed request. */
struct srv_req {
    char method[16];
    char path[256];
    char *head; /* the raw head, NUL-terminated */
    char *body;
    size_t body_len;
};

/* ---- server plumbing ---------------------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool srv_send(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

static bool srv_sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool srv_sendf(int fd, const char *fmt, ...)
{
    struct ubuf b = {0};
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    ubuf_reserve(&b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b.data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    bool ok = srv_send(fd, b.data, (size_t)n);
    ubuf_free(&b);
    return ok;
}

/* Waits for fd to be readable: 1, or 0 if the server is stopping. */
static int srv_wait_readable(struct srv *s, int fd)
{
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20) > 0)
            return 1;
    }
    return 0;
}

/* Reads one request from fd into *in (which may hold leftovers). 1 on
 * success, 0 on EOF or stop. */
static int srv_read_request(struct srv *s, int fd, struct ubuf *in, struct srv_req *r)
{
    memset(r, 0, sizeof *r);
    char *end;
    while (!(end = in->data ? strstr(in->data, "\r\n\r\n") : NULL)) {
        if (!srv_wait_readable(s, fd))
            return 0;
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0)
            return 0;
        ubuf_append(in, tmp, (size_t)n);
    }
    size_t head_len = (size_t)(end - in->data) + 4;
    r->head = xstrndup(in->data, head_len);
    sscanf(r->head, "%15s %255s", r->method, r->path);
    if (strcmp(r->path, "/echo-slow") == 0)
        sleep_ms(200); /* let the client's send buffer fill up */
    size_t clen = 0;
    for (char *line = strstr(r->head, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
            clen = strtoul(line + 17, NULL, 10);
    while (in->len < head_len + clen) {
        if (!srv_wait_readable(s, fd))
            goto fail;
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0)
            goto fail;
        ubuf_append(in, tmp, (size_t)n);
    }
    r->body = xstrndup(in->data + head_len, clen);
    r->body_len = clen;
    memmove(in->data, in->data + head_len + clen, in->len - head_len - clen);
    in->len -= head_len + clen;
    in->data[in->len] = '\0';
    return 1;
fail:
    free(r->head);
    r->head = NULL;
    return 0;
}

/* ---- canned responses -----------------------------------------------------
 * Each returns true to keep the connection for another request. */

static bool route_hello(int fd, struct srv_req *r)
{
    return srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
}

static bool route_echo(int fd, struct srv_req *r)
{
    return srv_sendf(fd, "HTTP/1.1 201 Created\r\nContent-Length: %zu\r\n\r\n", r->body_len) &&
           srv_send(fd, r->body, r->body_len);
}

static bool route_headers(int fd, struct srv_req *r)
{
    size_t n = strlen(r->head);
    return srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n) &&
           srv_send(fd, r->head, n);
}

static bool route_chunked(int fd, struct srv_req *r)
{
    /* Mixed-case names, a chunk extension, upper-case hex, a trailer. */
    return srv_sendf(fd, "HTTP/1.1 200 OK\r\ncontent-TYPE:  application/json \r\n"
                         "transfer-ENCODING: Chunked\r\n\r\n"
                         "7\r\nHello, \r\n8;foo=bar\r\nchunked \r\n"
                         "00C\r\nworld, again\r\n0\r\nX-Trailer: yes\r\n\r\n");
}

static void fill_pattern(char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (i * 7 + i / 251) % 26);
}

static bool route_big(int fd, struct srv_req *r)
{
    char *body = malloc(BIG_SIZE);
    fill_pattern(body, BIG_SIZE);
    bool ok = srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n", BIG_SIZE) &&
              srv_send(fd, body, BIG_SIZE);
    free(body);
    return ok;
}

static bool route_bigchunked(int fd, struct srv_req *r)
{
    char *body = malloc(BIG_SIZE);
    fill_pattern(body, BIG_SIZE);
    bool ok = srv_sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; ok && off < BIG_SIZE; off += 3000) {
        size_t n = BIG_SIZE - off < 3000 ? BIG_SIZE - off : 3000;
        ok = srv_sendf(fd, "%zx\r\n", n) && srv_send(fd, body + off, n) && srv_sendf(fd, "\r\n");
    }
    ok = ok && srv_sendf(fd, "0\r\n\r\n");
    free(body);
    return ok;
}

static bool route_close(int fd, struct srv_req *r)
{
    srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye");
    return false; /* closes without having said so */
}

static bool route_connclose(int fd, struct srv_req *r)
{
    srv_sendf(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye");
    return false;
}

static bool route_drop(int fd, struct srv_req *r) { return false; }

static bool route_204(int fd, struct srv_req *r)
{
    return srv_sendf(fd, "HTTP/1.1 204 No Content\r\nX-Thing: y\r\n\r\n");
}

static bool route_304(int fd, struct srv_req *r)
{
    /* A 304 may carry the Content-Length of the representation; no body follows. */
    return srv_sendf(fd, "HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n");
}

static bool route_eof(int fd, struct srv_req *r)
{
    srv_sendf(fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil eof");
    return false;
}

static bool route_continue(int fd, struct srv_req *r)
{
    return srv_sendf(fd, "HTTP/1.1 100 Continue\r\n\r\n"
                         "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
}

static bool route_garbage(int fd, struct srv_req *r)
{
    srv_sendf(fd, "FOO BAR BAZ\r\n\r\n");
    return false;
}

static bool route_badchunk(int fd, struct srv_req *r)
{
    srv_sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
    return false;
}

static bool route_short(int fd, struct srv_req *r)
{
    srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    return false;
}

static bool route_trickle(int fd, struct srv_req *r)
{
    const char *msg = "\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\nX-Lf-Only: 1\n\r\nabc";
    for (const char *p = msg; *p; p++) {
        if (!srv_send(fd, p, 1))
            return false;
        sleep_ms(1);
    }
    return true;
}

static bool route_hugehead(int fd, struct srv_req *r)
{
    bool ok = srv_sendf(fd, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; ok && i < 2000; i++)
        ok = srv_sendf(fd, "X-Filler-%04d: %060d\r\n", i, i);
    srv_sendf(fd, "Content-Length: 0\r\n\r\n");
    return false;
}

static bool route_dupcl(int fd, struct srv_req *r)
{
    srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
    return false;
}

static bool route_fold(int fd, struct srv_req *r)
{
    srv_sendf(fd, "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 1\r\n\r\na");
    return false;
}

static bool route_hugechunk(int fd, struct srv_req *r)
{
    srv_sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "FFFFFFFFFFFFFFFFFF\r\nabc\r\n");
    return false;
}

static bool route_longline(int fd, struct srv_req *r)
{
    bool ok = srv_sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
    for (int i = 0; ok && i < 100; i++)
        ok = srv_sendf(fd, "%0100d", i);
    return false;
}

static bool route_http10_keepalive(int fd, struct srv_req *r)
{
    return srv_sendf(fd, "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n10");
}

/* One 10-byte chunk that arrives in two parts, 300 ms apart. */
static bool route_partialchunk(int fd, struct srv_req *r)
{
    if (!srv_sendf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabcd"))
        return false;
    sleep_ms(300);
    return srv_sendf(fd, "efghij\r\n0\r\n\r\n");
}

/* A watch: two events as two chunks, 300 ms apart. */
static bool route_stream(int fd, struct srv_req *r)
{
    if (!srv_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n7\r\nevent1\n\r\n"))
        return false;
    sleep_ms(300);
    return srv_sendf(fd, "7\r\nevent2\n\r\n0\r\n\r\n");
}

struct route {
    const char *path;
    bool (*fn)(int fd, struct srv_req *r);
};

static const struct route routes[] = {
    {"/hello", route_hello},         {"/base/hello", route_hello},
    {"/echo", route_echo},           {"/headers", route_headers},
    {"/chunked", route_chunked},     {"/big", route_big},
    {"/bigchunked", route_bigchunked}, {"/close", route_close},
    {"/connclose", route_connclose}, {"/drop", route_drop},
    {"/204", route_204},             {"/304", route_304},
    {"/eof", route_eof},             {"/continue", route_continue},
    {"/garbage", route_garbage},     {"/badchunk", route_badchunk},
    {"/short", route_short},         {"/trickle", route_trickle},
    {"/stream", route_stream},       {"/echo-slow", route_echo},
    {"/hugehead", route_hugehead},   {"/dupcl", route_dupcl},
    {"/fold", route_fold},           {"/hugechunk", route_hugechunk},
    {"/longline", route_longline},   {"/http10", route_http10_keepalive},
    {"/partialchunk", route_partialchunk},
};

/* "/slow" never answers: it holds the connection until the client leaves. */
static void srv_hold(struct srv *s, int fd)
{
    char tmp[256];
    while (srv_wait_readable(s, fd) && recv(fd, tmp, sizeof tmp, 0) > 0)
        ;
}

static void *srv_conn_main(void *arg)
{
    struct srv_conn *sc = arg;
    struct ubuf in = {0};
    struct srv_req r;
    while (srv_read_request(sc->srv, sc->fd, &in, &r)) {
        bool keep = false;
        if (strcmp(r.path, "/slow") == 0)
            srv_hold(sc->srv, sc->fd);
        for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
            if (strcmp(r.path, routes[i].path) == 0)
                keep = routes[i].fn(sc->fd, &r);
        free(r.head);
        free(r.body);
        if (!keep)
            break;
    }
    ubuf_free(&in);
    close(sc->fd);
    free(sc);
    return NULL;
}

static void *srv_accept_main(void *arg)
{
    struct srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        atomic_fetch_add(&s->conns, 1);
        struct srv_conn *sc = xmalloc(sizeof *sc);
        sc->srv = s;
        sc->fd = fd;
        if (s->nworkers == SRV_MAX_CONNS ||
            pthread_create(&s->workers[s->nworkers], NULL, srv_conn_main, sc) != 0) {
            close(fd);
            free(sc);
            continue;
        }
        s->nworkers++;
    }
    return NULL;
}

/* Binds 127.0.0.1 on an ephemeral port; returns the listening fd. */
static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 64), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int srv_setup(void **state)
{
    struct srv *s = xcalloc(1, sizeof *s);
    s->lfd = listen_loopback(&s->port);
    if (pthread_create(&s->acceptor, NULL, srv_accept_main, s) != 0)
        return -1;
    *state = s;
    return 0;
}

static int srv_teardown(void **state)
{
    struct srv *s = *state;
    atomic_store(&s->stop, 1);
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    close(s->lfd);
    free(s);
    return 0;
}

/* ---- helpers -------------------------------------------------------------- */

static struct httpc *client(struct srv *s)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
    struct httpc *c = httpc_new(url);
    assert_non_null(c);
    return c;
}

/* GET path, expecting status and body. */
static void get_expect(struct httpc *c, const char *path, int status, const char *body)
{
    struct httpc_response resp;
    assert_int_equal(httpc_request(c, "GET", path, NULL, NULL, 0, 2000, &resp), 0);
    assert_int_equal(resp.status, status);
    assert_non_null(resp.body);
    assert_int_equal(resp.body_len, strlen(body));
    assert_string_equal(resp.body, body);
    httpc_response_free(&resp);
}

static void get_fails(struct httpc *c, const char *path, int err)
{
    struct httpc_response resp;
    errno = 0;
    assert_int_equal(httpc_request(c, "GET", path, NULL, NULL, 0, 2000, &resp), -1);
    assert_int_equal(errno, err);
    assert_null(resp.body);
    assert_null(resp.content_type);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_content_length(void **state)
{
    struct httpc *c = client(*state);
    struct httpc_response resp;
    assert_int_equal(httpc_request(c, "GET", "/hello", NULL, NULL, 0, 2000, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "text/plain");
    assert_int_equal(resp.body_len, 5);
    assert_string_equal(resp.body, "hello");
    httpc_response_free(&resp);
    httpc_free(c);
}

static void test_chunked(void **state)
{
    struct httpc *c = client(*state);
    struct httpc_response resp;
    assert_int_equal(httpc_request(c, "GET", "/chunked", NULL, NULL, 0, 2000, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/json");
    assert_string_equal(resp.body, "Hello, chunked world, again");
    httpc_response_free(&resp);
    httpc_free(c);
}

static void test_keepalive_reuse(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    for (int i = 0; i < 3; i++) {
        get_expect(c, "/hello", 200, "hello");
        get_expect(c, "/chunked", 200, "Hello, chunked world, again");
        struct httpc_response resp;
        assert_int_equal(httpc_request(c, "POST", "/echo", NULL, "abc", 3, 2000, &resp), 0);
        assert_int_equal(resp.status, 201);
        assert_string_equal(resp.body, "abc");
        httpc_response_free(&resp);
    }
    assert_int_equal(atomic_load(&s->conns), 1);
    httpc_free(c);
}

static void test_request_headers(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    const char *hdrs[] = {"X-Custom: 1", "Accept: application/json", NULL};
    struct httpc_response resp;
    assert_int_equal(httpc_request(c, "GET", "/headers", hdrs, NULL, 0, 2000, &resp), 0);
    char host[64];
    snprintf(host, sizeof host, "\r\nHost: 127.0.0.1:%d\r\n", s->port);
    assert_non_null(strstr(resp.body, "GET /headers HTTP/1.1\r\n"));
    assert_non_null(strstr(resp.body, host));
    assert_non_null(strstr(resp.body, "\r\nConnection: keep-alive\r\n"));
    assert_non_null(strstr(resp.body, "\r\nX-Custom: 1\r\n"));
    assert_non_null(strstr(resp.body, "\r\nAccept: application/json\r\n"));
    assert_null(strstr(resp.body, "Content-Length"));
    httpc_response_free(&resp);

    /* A body brings Content-Length; a caller's Host replaces ours. */
    const char *own_host[] = {"host: example", NULL};
    assert_int_equal(httpc_request(c, "PUT", "/headers", own_host, "{}", 2, 2000, &resp), 0);
    assert_non_null(strstr(resp.body, "\r\nContent-Length: 2\r\n"));
    assert_non_null(strstr(resp.body, "\r\nhost: example\r\n"));
    assert_null(strstr(resp.body, "\r\nHost:"));
    httpc_response_free(&resp);
    /* POST without a body still says Content-Length: 0. */
    assert_int_equal(httpc_request(c, "POST", "/headers", NULL, NULL, 0, 2000, &resp), 0);
    assert_non_null(strstr(resp.body, "\r\nContent-Length: 0\r\n"));
    httpc_response_free(&resp);
    httpc_free(c);
}

static void test_large_request_body(void **state)
{
    struct httpc *c = client(*state);
    size_t n = 3 * BIG_SIZE;
    char *body = malloc(n);
    fill_pattern(body, n);
    struct httpc_response resp;
    assert_int_equal(httpc_request(c, "POST", "/echo", NULL, body, n, 5000, &resp), 0);
    assert_int_equal(resp.status, 201);
    assert_int_equal(resp.body_len, n);
    assert_memory_equal(resp.body, body, n);
    httpc_response_free(&resp);
    free(body);
    httpc_free(c);
}

/* The server waits before reading, so the client's sends fill the socket
 * buffer and have to wait for room. */
static void test_request_body_back_pressure(void **state)
{
    struct httpc *c = client(*state);
    size_t n = 24 * BIG_SIZE;
    char *body = malloc(n);
    fill_pattern(body, n);
    struct httpc_response resp;
    assert_int_equal(httpc_request(c, "PUT", "/echo-slow", NULL, body, n, 10000, &resp), 0);
    assert_int_equal(resp.body_len, n);
    assert_memory_equal(resp.body, body, n);
    httpc_response_free(&resp);
    free(body);
    httpc_free(c);
}

static void test_large_responses(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    char *want = malloc(BIG_SIZE);
    fill_pattern(want, BIG_SIZE);
    const char *paths[] = {"/big", "/bigchunked", "/big"};
    for (size_t i = 0; i < 3; i++) {
        struct httpc_response resp;
        assert_int_equal(httpc_request(c, "GET", paths[i], NULL, NULL, 0, 5000, &resp), 0);
        assert_int_equal(resp.body_len, BIG_SIZE);
        assert_memory_equal(resp.body, want, BIG_SIZE);
        assert_int_equal(resp.body[BIG_SIZE], '\0');
        httpc_response_free(&resp);
    }
    assert_int_equal(atomic_load(&s->conns), 1);
    free(want);
    httpc_free(c);
}

static void test_reconnect_after_server_close(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    get_expect(c, "/close", 200, "bye");
    sleep_ms(50); /* the server's FIN arrives while the connection idles */
    get_expect(c, "/hello", 200, "hello");
    assert_int_equal(atomic_load(&s->conns), 2);
    /* The same without a pause: whichever side of the race, it must work. */
    for (int i = 0; i < 20; i++) {
        get_expect(c, "/close", 200, "bye");
        get_expect(c, "/hello", 200, "hello");
    }
    httpc_free(c);
}

static void test_reconnect_only_once(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    get_expect(c, "/hello", 200, "hello");
    /* The server drops the request on the kept connection, then on the fresh
     * one: one retry, then the error. */
    get_fails(c, "/drop", ECONNRESET);
    assert_int_equal(atomic_load(&s->conns), 2);
    get_expect(c, "/hello", 200, "hello");
    assert_int_equal(atomic_load(&s->conns), 3);
    httpc_free(c);
}

static void test_fresh_connection_not_retried(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    get_fails(c, "/drop", ECONNRESET);
    assert_int_equal(atomic_load(&s->conns), 1);
    httpc_free(c);
}

static void test_timeout(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    struct httpc_response resp;
    uint64_t t0 = util_now_ms();
    errno = 0;
    assert_int_equal(httpc_request(c, "GET", "/slow", NULL, NULL, 0, 200, &resp), -1);
    uint64_t took = util_now_ms() - t0;
    assert_int_equal(errno, ETIMEDOUT);
    assert_true(took >= 190 && took < 1000);
    /* The connection was closed; the next request gets a new one. */
    get_expect(c, "/hello", 200, "hello");
    assert_int_equal(atomic_load(&s->conns), 2);
    httpc_free(c);
}

struct aborter {
    struct httpc *c;
    int after_ms;
};

static void *abort_main(void *arg)
{
    struct aborter *a = arg;
    sleep_ms(a->after_ms);
    httpc_abort(a->c);
    return NULL;
}

/* Another thread gives up a request the server holds, on a kept-alive
 * connection (which would otherwise earn a retry): it fails at once, is
 * not sent again, and the client stays failed. */
static void test_abort(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    get_expect(c, "/hello", 200, "hello");
    struct aborter a = {c, 100};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, abort_main, &a), 0);
    struct httpc_response resp;
    uint64_t t0 = util_now_ms();
    assert_int_equal(httpc_request(c, "POST", "/slow", NULL, "x", 1, 5000, &resp), -1);
    uint64_t took = util_now_ms() - t0;
    pthread_join(t, NULL);
    assert_true(took >= 90 && took < 2000);
    assert_int_equal(atomic_load(&s->conns), 1); /* no retry on a fresh connection */
    errno = 0;
    assert_int_equal(httpc_request(c, "GET", "/hello", NULL, NULL, 0, 1000, &resp), -1);
    assert_int_equal(errno, ECANCELED);
    assert_int_equal(atomic_load(&s->conns), 1);
    httpc_free(c);
}

static void test_connect_refused(void **state)
{
    int port;
    int fd = listen_loopback(&port);
    close(fd); /* nothing listens there now */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    struct httpc *c = httpc_new(url);
    struct httpc_response resp;
    uint64_t t0 = util_now_ms();
    assert_int_equal(httpc_request(c, "GET", "/", NULL, NULL, 0, 2000, &resp), -1);
    assert_int_equal(errno, ECONNREFUSED);
    assert_true(util_now_ms() - t0 < 1000);
    httpc_free(c);
}

static void test_no_body_responses(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    get_expect(c, "/204", 204, "");
    get_expect(c, "/304", 304, "");
    get_expect(c, "/hello", 200, "hello");
    assert_int_equal(atomic_load(&s->conns), 1);
    httpc_free(c);
}

static void test_body_until_eof(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    get_expect(c, "/eof", 200, "until eof");
    get_expect(c, "/hello", 200, "hello");
    assert_int_equal(atomic_load(&s->conns), 2);
    httpc_free(c);
}

static void test_connection_close_header(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    get_expect(c, "/connclose", 200, "bye");
    get_expect(c, "/hello", 200, "hello");
    assert_int_equal(atomic_load(&s->conns), 2);
    httpc_free(c);
}

static void test_stream_watch(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    struct httpc_response resp;
    assert_int_equal(httpc_stream_open(c, "GET", "/stream", NULL, NULL, 0, 2000, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_null(resp.body);
    assert_string_equal(resp.content_type, "application/json");
    char buf[256];
    long n = httpc_stream_read(c, buf, sizeof buf, 2000);
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "event1\n", 7);
    /* Nothing for 50 ms: a timeout, and the stream stays usable. */
    errno = 0;
    assert_int_equal(httpc_stream_read(c, buf, sizeof buf, 50), -1);
    assert_int_equal(errno, ETIMEDOUT);
    n = httpc_stream_read(c, buf, sizeof buf, 2000);
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "event2\n", 7);
    assert_int_equal(httpc_stream_read(c, buf, sizeof buf, 2000), 0);
    assert_int_equal(httpc_stream_read(c, buf, sizeof buf, 2000), 0);
    httpc_response_free(&resp);
    /* The stream ended cleanly, so the connection is reused. */
    get_expect(c, "/hello", 200, "hello");
    assert_int_equal(atomic_load(&s->conns), 1);
    httpc_free(c);
}

static void test_stream_abandoned(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    struct httpc_response resp;
    assert_int_equal(httpc_stream_open(c, "GET", "/stream", NULL, NULL, 0, 2000, &resp), 0);
    char buf[64];
    assert_int_equal(httpc_stream_read(c, buf, sizeof buf, 2000), 7);
    httpc_response_free(&resp);
    get_expect(c, "/hello", 200, "hello"); /* mid-body: needs a new connection */
    assert_int_equal(atomic_load(&s->conns), 2);
    assert_int_equal(httpc_stream_open(c, "GET", "/stream", NULL, NULL, 0, 2000, &resp), 0);
    httpc_response_free(&resp);
    httpc_close(c);
    assert_int_equal(httpc_stream_read(c, buf, sizeof buf, 100), 0);
    httpc_free(c);
}

static void test_stream_small_reads(void **state)
{
    const char *paths[] = {"/chunked", "/hello", "/eof", "/204"};
    const char *want[] = {"Hello, chunked world, again", "hello", "until eof", ""};
    for (size_t i = 0; i < 4; i++) {
        struct httpc *c = client(*state);
        struct httpc_response resp;
        assert_int_equal(httpc_stream_open(c, "GET", paths[i], NULL, NULL, 0, 2000, &resp), 0);
        char all[128], buf[4];
        size_t len = 0;
        long n;
        while ((n = httpc_stream_read(c, buf, sizeof buf, 2000)) > 0) {
            assert_true(n <= 4);
            memcpy(all + len, buf, (size_t)n);
            len += (size_t)n;
        }
        assert_int_equal(n, 0);
        assert_int_equal(len, strlen(want[i]));
        assert_memory_equal(all, want[i], len);
        httpc_response_free(&resp);
        httpc_free(c);
    }
}

static void test_http10_keepalive(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    get_expect(c, "/http10", 200, "10");
    get_expect(c, "/http10", 200, "10");
    assert_int_equal(atomic_load(&s->conns), 1);
    httpc_free(c);
}

/* A timeout in the middle of a chunk hands over what has arrived. */
static void test_stream_partial_chunk(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    struct httpc_response resp;
    assert_int_equal(httpc_stream_open(c, "GET", "/partialchunk", NULL, NULL, 0, 2000, &resp), 0);
    char buf[64];
    assert_int_equal(httpc_stream_read(c, buf, sizeof buf, 100), 4);
    assert_memory_equal(buf, "abcd", 4);
    assert_int_equal(httpc_stream_read(c, buf, sizeof buf, 2000), 6);
    assert_memory_equal(buf, "efghij", 6);
    assert_int_equal(httpc_stream_read(c, buf, sizeof buf, 2000), 0);
    httpc_response_free(&resp);
    get_expect(c, "/hello", 200, "hello");
    assert_int_equal(atomic_load(&s->conns), 1);
    httpc_free(c);
}

static void test_interim_response(void **state)
{
    struct httpc *c = client(*state);
    get_expect(c, "/continue", 200, "ok");
    get_expect(c, "/hello", 200, "hello");
    httpc_free(c);
}

static void test_trickled_response(void **state)
{
    struct httpc *c = client(*state);
    get_expect(c, "/trickle", 200, "abc");
    get_expect(c, "/hello", 200, "hello");
    httpc_free(c);
}

static void test_malformed_responses(void **state)
{
    struct httpc *c = client(*state);
    get_fails(c, "/garbage", EPROTO);
    get_fails(c, "/badchunk", EPROTO);
    get_fails(c, "/short", EPROTO);
    get_fails(c, "/hugehead", EMSGSIZE);
    get_fails(c, "/dupcl", EPROTO);
    get_fails(c, "/fold", EPROTO);
    get_fails(c, "/hugechunk", EPROTO);
    get_fails(c, "/longline", EMSGSIZE);
    get_expect(c, "/hello", 200, "hello");
    httpc_free(c);
}

static void test_base_path(void **state)
{
    struct srv *s = *state;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/base/", s->port);
    struct httpc *c = httpc_new(url);
    assert_non_null(c);
    get_expect(c, "/hello", 200, "hello");
    httpc_free(c);
}

static void test_url_parsing(void **state)
{
    const char *good[] = {"http://127.0.0.1:6001", "http://localhost", "HTTP://h:1/",
                          "http://[::1]:8080/api/v1", "http://[::1]", "http://host:65535"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct httpc *c = httpc_new(good[i]);
        assert_non_null(c);
        httpc_free(c);
    }
    const char *bad[] = {"https://h", "http://", "http://:80", "http://h:0", "http://h:65536",
                         "http://h:12a", "ftp://h", "h:80", "http://a b", "http://[::1",
                         "http://[::1]x", "http://h:80?x", "http://u@h", "http://h/a b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(httpc_new(bad[i]));
    assert_null(httpc_new(NULL));
    httpc_free(NULL);
}

static void test_invalid_arguments(void **state)
{
    struct srv *s = *state;
    struct httpc *c = client(s);
    struct httpc_response resp;
    const char *crlf[] = {"X: a\r\nInjected: 1", NULL};
    const char *nocolon[] = {"NoColon", NULL};
    assert_int_equal(httpc_request(c, "GE T", "/hello", NULL, NULL, 0, 1000, &resp), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(httpc_request(c, "GET", "/a b", NULL, NULL, 0, 1000, &resp), -1);
    assert_int_equal(httpc_request(c, "GET", "", NULL, NULL, 0, 1000, &resp), -1);
    assert_int_equal(httpc_request(c, "GET", "/x", crlf, NULL, 0, 1000, &resp), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(httpc_request(c, "GET", "/x", nocolon, NULL, 0, 1000, &resp), -1);
    assert_int_equal(httpc_request(c, "POST", "/x", NULL, NULL, 5, 1000, &resp), -1);
    assert_int_equal(httpc_stream_read(c, NULL, 0, 100), -1);
    assert_int_equal(atomic_load(&s->conns), 0);
    httpc_free(c);
}

/* Presence (server/leaderwatch.c): an idle connection stays open while the
 * peer keeps it, reports the peer's close, and a new one to a port where
 * nothing listens is refused. */
static void test_presence(void **state)
{
    (void)state;
    int port, lfd = listen_loopback(&port);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    struct httpc *c = httpc_new(url);
    assert_int_equal(httpc_wait_closed(c, 10), -1); /* not connected yet */
    assert_int_equal(httpc_open(c, 1000), 0);
    int afd = accept(lfd, NULL, NULL);
    assert_true(afd >= 0);
    assert_int_equal(httpc_wait_closed(c, 50), 0); /* quiet: still open */
    assert_int_equal(write(afd, "x", 1), 1);
    assert_int_equal(httpc_wait_closed(c, 1000), 0); /* bytes are dropped */
    close(afd);
    assert_int_equal(httpc_wait_closed(c, 1000), 1); /* the peer closed it */
    assert_int_equal(httpc_wait_closed(c, 10), -1);
    close(lfd);
    errno = 0;
    assert_int_equal(httpc_open(c, 1000), -1);
    assert_int_equal(errno, ECONNREFUSED);
    httpc_free(c);
}

/* httpc_response_scan: whole answers, every prefix of one, framing errors. */
static long scan(const char *r, int *status, bool *keep)
{
    struct httpc_scan sc = {0};
    long end = httpc_response_scan(r, strlen(r), false, &sc);
    *status = sc.status;
    *keep = sc.keep_alive;
    return end;
}

static void test_scan_complete(void **state)
{
    (void)state;
    int st;
    bool keep;
    const char *len = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello";
    assert_int_equal(scan(len, &st, &keep), (long)strlen(len));
    assert_int_equal(st, 201);
    assert_true(keep);
    const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n";
    assert_int_equal(scan(chunked, &st, &keep), (long)strlen(chunked));
    assert_int_equal(st, 200);
    const char *lf = "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n1\na\n0\n\n";
    assert_int_equal(scan(lf, &st, &keep), (long)strlen(lf));
    const char *interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\n"
                          "Content-Length: 0\r\n\r\n";
    assert_int_equal(scan(interim, &st, &keep), (long)strlen(interim));
    assert_int_equal(st, 404);
    assert_false(keep); /* HTTP/1.0 without keep-alive */
    const char *close = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx";
    assert_int_equal(scan(close, &st, &keep), (long)strlen(close));
    assert_false(keep);
    const char *nobody = "HTTP/1.1 204 No Content\r\n\r\n";
    assert_int_equal(scan(nobody, &st, &keep), (long)strlen(nobody));
    /* Bytes after the answer are not part of it. */
    const char *two = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1";
    assert_int_equal(scan(two, &st, &keep), (long)strlen(two) - 8);
    /* A HEAD answer has no body whatever Content-Length says. */
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
    struct httpc_scan sc;
    assert_int_equal(httpc_response_scan(head, strlen(head), true, &sc), (long)strlen(head));
    /* The body starts after the final head, past any interim one. */
    assert_int_equal(httpc_response_scan(interim, strlen(interim), false, &sc),
                     (long)strlen(interim));
    assert_int_equal(sc.body_off, strlen(interim));
    assert_int_equal(httpc_response_scan(len, strlen(len), false, &sc), (long)strlen(len));
    assert_string_equal(len + sc.body_off, "hello");
    assert_false(sc.chunked);
    assert_int_equal(httpc_response_scan(chunked, strlen(chunked), false, &sc),
                     (long)strlen(chunked));
    assert_true(sc.chunked);
    assert_int_equal(strncmp(chunked + sc.body_off, "3;x=y\r\n", 7), 0);
}

static void test_scan_prefixes(void **state)
{
    (void)state;
    const char *rs[] = {
        "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: t\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    };
    for (size_t k = 0; k < sizeof rs / sizeof rs[0]; k++) {
        size_t n = strlen(rs[k]);
        for (size_t i = 0; i < n; i++) {
            struct httpc_scan sc;
            assert_int_equal(httpc_response_scan(rs[k], i, false, &sc), 0);
        }
    }
}

static void test_scan_malformed(void **state)
{
    (void)state;
    int st;
    bool keep;
    assert_int_equal(scan("HTTP/1.1 2x0 OK\r\n\r\n", &st, &keep), -1);
    assert_int_equal(scan("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                          &st, &keep), -1);
    assert_int_equal(scan("HTTP/1.1 200 OK\r\n\r\nbody until EOF", &st, &keep), -1);
    assert_int_equal(scan("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                          &st, &keep), -1);
    assert_int_equal(scan("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY",
                          &st, &keep), -1);
    assert_int_equal(scan("HTTP/1.1 101 Switching Protocols\r\n\r\n", &st, &keep), -1);
    /* Found by fuzz_httpc_scan: an answer to HEAD that switches protocols. */
    const char *sw = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
    struct httpc_scan sc;
    assert_int_equal(httpc_response_scan(sw, strlen(sw), true, &sc), -1);
    assert_int_equal(scan("HTTP/1.1 200 OK\r\n folded: no\r\n\r\n", &st, &keep), -1);
}

#define SRV_TEST(fn) cmocka_unit_test_setup_teardown(fn, srv_setup, srv_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        SRV_TEST(test_content_length),
        SRV_TEST(test_chunked),
        SRV_TEST(test_keepalive_reuse),
        SRV_TEST(test_request_headers),
        SRV_TEST(test_large_request_body),
        SRV_TEST(test_request_body_back_pressure),
        SRV_TEST(test_large_responses),
        SRV_TEST(test_reconnect_after_server_close),
        SRV_TEST(test_reconnect_only_once),
        SRV_TEST(test_fresh_connection_not_retried),
        SRV_TEST(test_timeout),
        SRV_TEST(test_abort),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_presence),
        SRV_TEST(test_no_body_responses),
        SRV_TEST(test_body_until_eof),
        SRV_TEST(test_connection_close_header),
        SRV_TEST(test_stream_watch),
        SRV_TEST(test_stream_abandoned),
        SRV_TEST(test_stream_small_reads),
        SRV_TEST(test_http10_keepalive),
        SRV_TEST(test_stream_partial_chunk),
        SRV_TEST(test_interim_response),
        SRV_TEST(test_trickled_response),
        SRV_TEST(test_malformed_responses),
        SRV_TEST(test_base_path),
        cmocka_unit_test(test_url_parsing),
        SRV_TEST(test_invalid_arguments),
        cmocka_unit_test(test_scan_complete),
        cmocka_unit_test(test_scan_prefixes),
        cmocka_unit_test(test_scan_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
