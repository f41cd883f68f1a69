/* internal.h — what the files of server/ share: the server's state, the
 * request being handled, the resource table, replies, and the write/read
 * paths that hide whether this server is the leader.
 *
 * Threading: libmicrohttpd runs one thread per connection, so a handler may
 * block (waiting for a proposal, a read index or a watch event); LMDB read
 * transactions make reads concurrent with each other and with apply. */
#ifndef BOSUN_SERVER_INTERNAL_H
#define BOSUN_SERVER_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "raft/cluster.h"
#include "store/store.h"
#include "util/util.h"

#define SERVER_MAX_BODY (3u << 20) /* 3 MiB, as Kubernetes' default */
#define SERVER_MAX_PEERS CLUSTER_MAX_MEMBERS
#define MEMBERS_RESOURCE "_members" /* internal records: member id -> API URL */

struct server_config {
    uint64_t id;
    char data_dir[1024];
    char listen[128];    /* host:port of the HTTP API */
    char raft_addr[128]; /* host:port of the Raft transport */
    char api_url[160];   /* how others reach our API (from listen) */
    char join[160];      /* URL of a member to join through, or "" */
    struct cluster_peer peers[SERVER_MAX_PEERS];
    unsigned n_peers;
    unsigned election_ms, heartbeat_ms;
    unsigned snapshot_threshold, snapshot_trailing;
    unsigned max_inflight;
    uint64_t history;
    int request_timeout_ms;
    int bookmark_interval_ms;
    int log_level;
};

struct fwd_pool;  /* forward.c */
struct forwarder; /* forward.c */

struct server {
    struct server_config cfg;
    struct store *store;
    struct cluster *cluster;
    struct MHD_Daemon *mhd;
    struct fwd_pool *pool;
    struct forwarder *fwd;
    int listen_fd;
    volatile int stopping; /* set by the signal handler's thread */
    pthread_t housekeeper;
};

/* ---- resources (resources.c) ---- */
struct resource {
    const char *group; /* "" for the core group */
    const char *version;
    const char *kind;
    const char *plural;
    const char *singular;
    bool namespaced;
    const char *short_names; /* comma-separated, or "" */
    const char *subresources; /* comma-separated: "status,scale" */
    const char *categories;   /* comma-separated: "all", or "" */
};
const struct resource *resource_find(const char *group, const char *version, const char *plural);
const struct resource *resource_at(unsigned i); /* NULL past the end */
/* "apps/v1" or "v1" into buf. */
void resource_api_version(const struct resource *r, char *buf, size_t len);

/* ---- requests (http.c) ---- */
struct request {
    struct server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    struct ubuf body;
    bool too_large;
};
const char *request_arg(struct request *rq, const char *name);
int http_listen(const char *hostport, char *err, size_t errlen);
int http_start(struct server *s, char *err, size_t errlen);
void http_stop(struct server *s);
enum MHD_Result reply_json(struct request *rq, unsigned code, json_t *v); /* steals v */
enum MHD_Result reply_text(struct request *rq, unsigned code, const char *type, const char *text);
/* A Kubernetes Status with status Failure. */
enum MHD_Result reply_status(struct request *rq, unsigned code, const char *reason,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
json_t *status_new(unsigned code, const char *reason, const char *message);

/* ---- the Kubernetes API (api.c, watch.c) ---- */
enum MHD_Result api_handle(struct request *rq);
struct api_target {
    const struct resource *res;
    char ns[256];
    char name[256];
    char sub[32];
};
enum MHD_Result watch_start(struct request *rq, const struct api_target *t);
/* Field selectors (selector.c): metadata.name / metadata.namespace equality. */
struct field_sel {
    char name[256];
    char ns[256];
    bool bad;
};
void field_sel_parse(const char *s, struct field_sel *fs);
bool field_sel_match(const struct field_sel *fs, const struct store_obj *o);
/* msgpack object as stored -> JSON with metadata.resourceVersion set. */
json_t *object_render(const struct store_obj *o, uint64_t rev);

/* ---- the cluster endpoints (cluster_api.c) ---- */
enum MHD_Result cluster_api_handle(struct request *rq);

/* ---- writes and linearizable reads, leader or not (forward.c) ---- */
struct fwd_pool *fwd_pool_new(void);
void fwd_pool_free(struct fwd_pool *p);
/* Batches a follower's writes to the leader (see forward.c). */
struct forwarder *forwarder_start(struct server *s);
void forwarder_stop(struct forwarder *f);
void forwarder_submit(struct forwarder *f, const void *cmd, size_t len, struct cluster_result *out);
/* Proposes cmd through the leader, waiting until this server has applied it. */
void server_submit(struct server *s, const void *cmd, size_t len, struct cluster_result *out);
/* Encodes obj (msgpack) into cmd, encodes cmd and submits it. obj may be
 * NULL (delete). */
void server_submit_object(struct server *s, struct store_cmd *cmd, json_t *obj,
                          struct cluster_result *out);
/* Makes the next local read linearizable; 0, or an HTTP status to answer. */
int server_read_barrier(struct server *s, char *msg, size_t msglen);
/* The API URL of a member, from the peer list or the members records. */
bool server_member_api(struct server *s, uint64_t id, char *url, size_t len);
/* Sends a JSON request to the leader's API (cluster endpoints). */
enum MHD_Result server_forward_json(struct server *s, const char *method, const char *path,
                                    struct request *rq);
/* The housekeeper thread: on the leader, records every bootstrap peer's API
 * URL in the replicated members records. */
void *server_housekeeper(void *arg);
enum MHD_Result internal_handle(struct request *rq);

#endif
