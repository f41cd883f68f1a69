/* chaos_proxy.c — the fault proxy `bosun chaos` puts on every Raft link, so
 * that partitions cut Raft traffic for real.
 *
 * Each server j gets a proxy port Q_j owned by the runner; every server's
 * --peers list names Q_j as j's Raft address, so every connection to j goes
 * through us and is forwarded to j's real Raft port R_j. libraft's uv
 * transport opens one connection per (sender, receiver) pair and sends only
 * from the connecting side; the connection starts with a handshake
 * (uv_tcp_connect.c, little-endian 64-bit words):
 *     protocol (1) | sender's server id | address length L (padded to 8) |
 *     the sender's Raft address, NUL-terminated, zero-padded to L bytes
 * We read it, so we know the link i→j a connection carries, then forward it
 * or close it according to the partition table. The receiver answers a
 * message on its own connection to the address the handshake gave
 * (recv_append_entries.c: message.server_address = address), which is the
 * sender's real --raft-address: we rewrite it to Q_i, so the answers come
 * through the proxy too.
 *
 * One thread runs a poll() loop over the listening sockets, a wake-up pipe
 * and every connection's two sockets. A connection is a pair of pipes
 * (client→server, server→client), each with a bounded buffer: a side is read
 * only while its buffer has room, so a paused (SIGSTOPped) receiver pushes
 * back on its sender instead of growing our memory. Both sockets have
 * TCP_NODELAY, as bosun's own transport does (raft/transport.c), or every
 * hop would wait on delayed ACKs.
 *
 * chaos_proxy_partition swaps the table under a mutex and wakes the thread,
 * which closes every open connection across a cut link; new ones across it
 * are closed once their handshake is read, and libraft keeps reconnecting
 * (about once a second) until the link heals. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>

#include "tools/chaos_internal.h"

enum {
    PROXY_BUF_MAX = 1 << 20,    /* per direction; reading stops above it */
    PROXY_HANDSHAKE_MAX = 1024, /* an address longer than this is garbage */
    PROXY_MAX_CONNS = 256,
    PROXY_HANDSHAKE_PROTOCOL = 1, /* UV__TCP_HANDSHAKE_PROTOCOL */
};

/* One direction of a connection: bytes read from `from`, not yet written to
 * `to`. */
struct proxy_pipe {
    char *buf;
    size_t len;
    bool eof; /* from has ended: shut down to's write side once drained */
};

struct proxy_conn {
    int client, server; /* sockets; server is -1 until the handshake is read */
    int from, to;       /* server ids: the link i→j it carries (from 0 until known) */
    struct proxy_pipe up, down; /* client→server, server→client */
};

struct chaos_proxy {
    int n;
    int listen_fd[CHAOS_MAX_SERVERS];
    int raft_port[CHAOS_MAX_SERVERS];
    int proxy_port[CHAOS_MAX_SERVERS];
    int wake[2];
    pthread_t thread;
    pthread_mutex_t mu;
    bool cut[CHAOS_MAX_SERVERS * CHAOS_MAX_SERVERS]; /* under mu */
    bool changed;                                    /* under mu */
    bool stopping;                                   /* under mu */
    struct chaos_proxy_stats stats;                  /* under mu */
    struct proxy_conn *conns[PROXY_MAX_CONNS];       /* the thread's own */
    int nconns;
};

/* ---------------------------------------------------------------- sockets */

static void proxy_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int proxy_listen(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A blocking connect to 127.0.0.1:port (on loopback it completes at once,
 * even to a paused process: the kernel accepts into the backlog), then
 * non-blocking. -1 if refused (the server is down). */
static int proxy_dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    proxy_nodelay(fd);
    return fd;
}

/* ---------------------------------------------------------------- the handshake */

static uint64_t proxy_get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void proxy_put64(struct ubuf *b, uint64_t v)
{
    unsigned char w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned char)(v >> (8 * i));
    ubuf_append(b, w, 8);
}

/* Parses the handshake at the start of the client pipe. Returns its length
 * (and the sender's id in *from), 0 if more bytes are needed, -1 if it is
 * not a handshake from one of our servers. */
static long proxy_handshake_parse(const struct chaos_proxy *p, const struct proxy_pipe *pp,
                                  int *from)
{
    if (pp->len < 24)
        return 0;
    const unsigned char *b = (const unsigned char *)pp->buf;
    uint64_t proto = proxy_get64(b), id = proxy_get64(b + 8), alen = proxy_get64(b + 16);
    if (proto != PROXY_HANDSHAKE_PROTOCOL || id < 1 || id > (uint64_t)p->n || alen == 0 ||
        alen > PROXY_HANDSHAKE_MAX || alen % 8 != 0)
        return -1;
    if (pp->len < 24 + alen)
        return 0;
    *from = (int)id;
    return (long)(24 + alen);
}

/* The handshake as the receiver should see it: the sender's address
 * replaced by its proxy port, so the receiver's answers come through us. */
static void proxy_handshake_rewrite(const struct chaos_proxy *p, int from, struct ubuf *out)
{
    char addr[64];
    int len = snprintf(addr, sizeof addr, "127.0.0.1:%d", p->proxy_port[from - 1]) + 1;
    size_t padded = ((size_t)len + 7) / 8 * 8;
    proxy_put64(out, PROXY_HANDSHAKE_PROTOCOL);
    proxy_put64(out, (uint64_t)from);
    proxy_put64(out, padded);
    char zeros[8] = {0};
    ubuf_append(out, addr, (size_t)len);
    ubuf_append(out, zeros, padded - (size_t)len);
}

/* ---------------------------------------------------------------- connections */

static void proxy_conn_close(struct chaos_proxy *p, int i)
{
    assert(i >= 0 && i < p->nconns);
    struct proxy_conn *c = p->conns[i];
    close(c->client);
    if (c->server >= 0)
        close(c->server);
    free(c->up.buf);
    free(c->down.buf);
    free(c);
    p->conns[i] = p->conns[--p->nconns];
}

static bool proxy_is_cut(struct chaos_proxy *p, int from, int to)
{
    pthread_mutex_lock(&p->mu);
    bool cut = p->cut[(from - 1) * p->n + (to - 1)];
    pthread_mutex_unlock(&p->mu);
    return cut;
}

static void proxy_count(struct chaos_proxy *p, long long *field)
{
    pthread_mutex_lock(&p->mu);
    (*field)++;
    pthread_mutex_unlock(&p->mu);
}

static void proxy_accept(struct chaos_proxy *p, int j)
{
    for (;;) {
        int fd = accept4(p->listen_fd[j - 1], NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return;
        if (p->nconns == PROXY_MAX_CONNS) {
            close(fd);
            continue;
        }
        proxy_nodelay(fd);
        struct proxy_conn *c = xcalloc(1, sizeof *c);
        *c = (struct proxy_conn){.client = fd, .server = -1, .to = j};
        c->up.buf = xmalloc(PROXY_BUF_MAX);
        c->down.buf = xmalloc(PROXY_BUF_MAX);
        p->conns[p->nconns++] = c;
        proxy_count(p, &p->stats.accepted);
    }
}

/* Once the handshake is in: decide, dial the real port, queue the
 * rewritten handshake and whatever followed it. Returns false to close. */
static bool proxy_conn_open(struct chaos_proxy *p, struct proxy_conn *c)
{
    int from = 0;
    long hs = proxy_handshake_parse(p, &c->up, &from);
    if (hs == 0)
        return c->up.len < PROXY_BUF_MAX && !c->up.eof;
    if (hs < 0 || from == c->to)
        return false;
    c->from = from;
    if (proxy_is_cut(p, from, c->to)) {
        proxy_count(p, &p->stats.refused);
        return false;
    }
    c->server = proxy_dial(p->raft_port[c->to - 1]);
    if (c->server < 0)
        return false;
    struct ubuf b = {0};
    proxy_handshake_rewrite(p, from, &b);
    ubuf_append(&b, c->up.buf + hs, c->up.len - (size_t)hs);
    if (b.len > PROXY_BUF_MAX) {
        ubuf_free(&b);
        return false;
    }
    memcpy(c->up.buf, b.data, b.len);
    c->up.len = b.len;
    ubuf_free(&b);
    proxy_count(p, &p->stats.forwarded);
    return true;
}

/* Reads what `from` has into pp; false when the connection should close. */
static bool proxy_pipe_read(struct proxy_pipe *pp, int from)
{
    while (pp->len < PROXY_BUF_MAX && !pp->eof) {
        ssize_t r = read(from, pp->buf + pp->len, PROXY_BUF_MAX - pp->len);
        if (r > 0) {
            pp->len += (size_t)r;
        } else if (r == 0) {
            pp->eof = true;
        } else if (errno == EINTR) {
            continue;
        } else {
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
    }
    return true;
}

/* Writes what pp holds to `to`; false when the connection should close. */
static bool proxy_pipe_write(struct proxy_pipe *pp, int to)
{
    while (pp->len > 0) {
        ssize_t w = send(to, pp->buf, pp->len, MSG_NOSIGNAL);
        if (w > 0) {
            memmove(pp->buf, pp->buf + w, pp->len - (size_t)w);
            pp->len -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            return w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
    }
    /* A half-closed stream means the peer went away: Raft never half-closes. */
    return !pp->eof;
}

/* Serves one connection's events; false to close it. */
static bool proxy_conn_serve(struct chaos_proxy *p, struct proxy_conn *c, short crev, short srev)
{
    if ((crev | srev) & (POLLERR | POLLNVAL))
        return false;
    if ((crev & (POLLIN | POLLHUP)) && !proxy_pipe_read(&c->up, c->client))
        return false;
    if (c->server < 0) {
        if (!proxy_conn_open(p, c))
            return false;
        if (c->server < 0)
            return true; /* the handshake is not all in yet */
    }
    if ((srev & (POLLIN | POLLHUP)) && !proxy_pipe_read(&c->down, c->server))
        return false;
    return proxy_pipe_write(&c->up, c->server) && proxy_pipe_write(&c->down, c->client);
}

/* After a partition change: close every connection across a cut link. */
static void proxy_sever(struct chaos_proxy *p)
{
    pthread_mutex_lock(&p->mu);
    for (int i = p->nconns - 1; i >= 0; i--) {
        struct proxy_conn *c = p->conns[i];
        if (c->from == 0 || !p->cut[(c->from - 1) * p->n + (c->to - 1)])
            continue;
        p->stats.severed++;
        proxy_conn_close(p, i); /* takes no lock */
    }
    p->changed = false; /* chaos_proxy_partition waits for this */
    pthread_mutex_unlock(&p->mu);
}

static short proxy_events(const struct proxy_pipe *in, const struct proxy_pipe *out)
{
    return (short)((in->len < PROXY_BUF_MAX && !in->eof ? POLLIN : 0) |
                   (out->len > 0 ? POLLOUT : 0));
}

static void *proxy_thread(void *arg)
{
    struct chaos_proxy *p = arg;
    struct pollfd fds[1 + CHAOS_MAX_SERVERS + 2 * PROXY_MAX_CONNS];
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool stopping = p->stopping, changed = p->changed;
        pthread_mutex_unlock(&p->mu);
        if (stopping)
            break;
        if (changed)
            proxy_sever(p);
        nfds_t k = 0;
        fds[k++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        for (int j = 0; j < p->n; j++)
            fds[k++] = (struct pollfd){.fd = p->listen_fd[j], .events = POLLIN};
        int nc = p->nconns;
        for (int i = 0; i < nc; i++) {
            struct proxy_conn *c = p->conns[i];
            fds[k++] = (struct pollfd){.fd = c->client, .events = proxy_events(&c->up, &c->down)};
            fds[k++] = (struct pollfd){.fd = c->server,
                                       .events = c->server < 0 ? 0 : proxy_events(&c->down, &c->up)};
        }
        if (poll(fds, k, 1000) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            char drain[64];
            while (read(p->wake[0], drain, sizeof drain) > 0)
                ;
        }
        /* connections first (their indexes match fds), newest last */
        for (int i = nc - 1; i >= 0; i--) {
            const struct pollfd *cf = &fds[1 + p->n + 2 * i];
            if (!proxy_conn_serve(p, p->conns[i], cf[0].revents, cf[1].revents))
                proxy_conn_close(p, i);
        }
        for (int j = 0; j < p->n; j++)
            if (fds[1 + j].revents & POLLIN)
                proxy_accept(p, j + 1);
    }
    while (p->nconns > 0)
        proxy_conn_close(p, p->nconns - 1);
    return NULL;
}

/* ---------------------------------------------------------------- the interface */

static void proxy_wake(struct chaos_proxy *p)
{
    char c = 1;
    if (write(p->wake[1], &c, 1) < 0) {
        /* the pipe is full: the thread is already due to wake */
    }
}

struct chaos_proxy *chaos_proxy_start(int n, const int *proxy_ports, const int *raft_ports,
                                      char *err, size_t errlen)
{
    assert(n >= 1 && n <= CHAOS_MAX_SERVERS);
    struct chaos_proxy *p = xcalloc(1, sizeof *p);
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        free(p);
        return NULL;
    }
    for (int j = 0; j < n; j++) {
        p->raft_port[j] = raft_ports[j];
        p->proxy_port[j] = proxy_ports[j];
        p->listen_fd[j] = proxy_listen(proxy_ports[j]);
        if (p->listen_fd[j] < 0) {
            snprintf(err, errlen, "cannot listen on 127.0.0.1:%d: %s", proxy_ports[j],
                     strerror(errno));
            for (int k = 0; k < j; k++)
                close(p->listen_fd[k]);
            close(p->wake[0]);
            close(p->wake[1]);
            free(p);
            return NULL;
        }
    }
    if (pthread_create(&p->thread, NULL, proxy_thread, p) != 0) {
        snprintf(err, errlen, "cannot start the proxy thread");
        for (int j = 0; j < n; j++)
            close(p->listen_fd[j]);
        close(p->wake[0]);
        close(p->wake[1]);
        free(p);
        return NULL;
    }
    return p;
}

void chaos_proxy_partition(struct chaos_proxy *p, const bool *cut)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->n * p->n; i++)
        p->cut[i] = cut ? cut[i] : false;
    for (int i = 0; i < p->n; i++)
        assert(!p->cut[i * p->n + i]); /* a server always reaches itself */
    p->changed = true;
    pthread_mutex_unlock(&p->mu);
    proxy_wake(p);
    /* wait (briefly) until the thread has severed the cut connections, so
     * the partition is in force when we return */
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&p->mu);
        bool pending = p->changed;
        pthread_mutex_unlock(&p->mu);
        if (!pending)
            break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

void chaos_proxy_stats(struct chaos_proxy *p, struct chaos_proxy_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->stats;
    pthread_mutex_unlock(&p->mu);
}

void chaos_proxy_stop(struct chaos_proxy *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_mutex_unlock(&p->mu);
    proxy_wake(p);
    pthread_join(p->thread, NULL);
    for (int j = 0; j < p->n; j++)
        close(p->listen_fd[j]);
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
