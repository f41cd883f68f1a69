/* transport.h — internal to raft/: libraft's TCP transport with TCP_NODELAY
 * (see transport.c). Same lifecycle as raft_uv_tcp_init/raft_uv_tcp_close. */
#ifndef BOSUN_RAFT_TRANSPORT_H
#define BOSUN_RAFT_TRANSPORT_H

struct raft_uv_transport;
struct uv_loop_s;

int transport_init(struct raft_uv_transport *t, struct uv_loop_s *loop);
void transport_close(struct raft_uv_transport *t);
/* Listen on address instead of the member's own (raft_init's) address. */
int transport_set_bind(struct raft_uv_transport *t, const char *address);

#endif
