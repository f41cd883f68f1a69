/* transport.c — libraft's TCP transport with TCP_NODELAY on every stream.
 *
 * raft_uv_tcp never sets TCP_NODELAY, so a small AppendEntries and its small
 * reply meet Nagle's algorithm and delayed ACKs: every commit waited about
 * 40 ms on loopback. This wrapper forwards each call of the transport
 * interface to libraft's own TCP transport and turns Nagle off on each
 * stream it accepts or connects, before handing the stream to raft_uv. */
#include <raft.h>
#include <raft/uv.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "raft/transport.h"
#include "util/util.h"

struct nodelay {
    struct raft_uv_transport tcp; /* libraft's; its data points back here */
    struct raft_uv_transport *outer;
    raft_uv_accept_cb accept_cb;
    raft_uv_transport_close_cb close_cb;
};

struct connect_req {
    struct raft_uv_connect inner;
    struct raft_uv_connect *outer_req;
    raft_uv_connect_cb cb;
};

static void stream_nodelay(struct uv_stream_s *stream)
{
    if (stream && stream->type == UV_TCP)
        uv_tcp_nodelay((uv_tcp_t *)stream, 1);
}

static int nd_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    struct nodelay *n = t->impl;
    int rv = n->tcp.init(&n->tcp, id, address);
    if (rv != 0)
        memcpy(t->errmsg, n->tcp.errmsg, sizeof t->errmsg);
    return rv;
}

static void nd_accepted(struct raft_uv_transport *inner, raft_id id, const char *address,
                        struct uv_stream_s *stream)
{
    struct nodelay *n = inner->data;
    stream_nodelay(stream);
    n->accept_cb(n->outer, id, address, stream);
}

static int nd_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct nodelay *n = t->impl;
    n->accept_cb = cb;
    int rv = n->tcp.listen(&n->tcp, nd_accepted);
    if (rv != 0)
        memcpy(t->errmsg, n->tcp.errmsg, sizeof t->errmsg);
    return rv;
}

static void nd_connected(struct raft_uv_connect *req, struct uv_stream_s *stream, int status)
{
    struct connect_req *c = req->data;
    if (status == 0)
        stream_nodelay(stream);
    c->cb(c->outer_req, stream, status);
    free(c);
}

static int nd_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    struct nodelay *n = t->impl;
    struct connect_req *c = xcalloc(1, sizeof *c);
    c->inner.data = c;
    c->outer_req = req;
    c->cb = cb;
    int rv = n->tcp.connect(&n->tcp, &c->inner, id, address, nd_connected);
    if (rv != 0) {
        memcpy(t->errmsg, n->tcp.errmsg, sizeof t->errmsg);
        free(c);
    }
    return rv;
}

static void nd_closed(struct raft_uv_transport *inner)
{
    struct nodelay *n = inner->data;
    n->close_cb(n->outer);
}

static void nd_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct nodelay *n = t->impl;
    n->close_cb = cb;
    n->tcp.close(&n->tcp, nd_closed);
}

int transport_init(struct raft_uv_transport *t, struct uv_loop_s *loop)
{
    struct nodelay *n = xcalloc(1, sizeof *n);
    n->tcp.version = 1;
    int rv = raft_uv_tcp_init(&n->tcp, loop);
    if (rv != 0) {
        memcpy(t->errmsg, n->tcp.errmsg, sizeof t->errmsg);
        free(n);
        return rv;
    }
    n->tcp.data = n;
    n->outer = t;
    t->version = 1;
    t->impl = n;
    t->init = nd_init;
    t->listen = nd_listen;
    t->connect = nd_connect;
    t->close = nd_close;
    return 0;
}

int transport_set_bind(struct raft_uv_transport *t, const char *address)
{
    struct nodelay *n = t->impl;
    return raft_uv_tcp_set_bind_address(&n->tcp, address);
}

void transport_close(struct raft_uv_transport *t)
{
    struct nodelay *n = t->impl;
    raft_uv_tcp_close(&n->tcp);
    free(n);
    t->impl = NULL;
}
