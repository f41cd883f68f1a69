/* internal.h — what the files of server/ share: the server's state, the
 * request being handled, the resource table, replies, and the write/read
 * paths that hide whether this server is the leader.
 *
 * Threading: libmicrohttpd's event loops (http.c) hand every request to a
 * worker thread (workers.c), so a handler may block (waiting for a proposal
 * or a read index); watch streams are filled by the event loops and parked
 * while idle (watch.c); creates run on the event loops and wait for their
 * proposal without a thread (write.c). LMDB read transactions make reads concurrent with
 * each other and with apply. */
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
    char state_memory[256]; /* memory file system for the LMDB replica, or "" */
    char listen[128];    /* host:port of the HTTP API */
    char raft_addr[128]; /* host:port of the Raft transport */
    char raft_advertise[128]; /* how others reach it (default raft_addr) */
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
    unsigned percentage_of_nodes; /* scheduler: 0 adapts */
    unsigned node_grace_ms;       /* a node's Lease older than this: NotReady */
};

struct fwd_pool;  /* forward.c */
struct controllers; /* controllers/ */
struct scheduler;   /* scheduler/ */
struct forwarder; /* forward.c */

struct member_probes;
struct leader_watch;
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
    struct controllers *controllers; /* act while this server leads */
    struct scheduler *scheduler;     /* likewise */
    struct watch_cache *wcache;       /* watch.c */
    struct workers *workers;          /* workers.c: where handlers run */
    struct watch_hub *hub;            /* watch.c: parked watch streams */
    unsigned async_inflight; /* asynchronous requests not yet answered (atomic) */
    struct nodeproxy *proxy; /* pods/log streams and exec sessions running (nodeproxy.c) */
    struct member_probes *probes; /* cluster_api.c: which members answer */
    struct leader_watch *lwatch;  /* leaderwatch.c: is our leader's process alive */
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
/* The resource a request's path names, as the handlers use it: its plural
 * is the store's key, which for metrics.k8s.io's pods and nodes is
 * "podmetrics" and "nodemetrics" (see resources.c). */
const struct resource *resource_find(const char *group, const char *version, const char *plural);
/* The table's rows, as discovery and OpenAPI show them; NULL past the end. */
const struct resource *resource_at(unsigned i);
/* "apps/v1" or "v1" into buf. */
void resource_api_version(const struct resource *r, char *buf, size_t len);

/* ---- requests (http.c) ---- */
enum request_state {
    RQ_READING, /* on the event loop: headers and body arrive */
    RQ_RUNNING, /* on a worker: the handler runs, the connection is suspended */
    RQ_DONE,    /* the handler returned; its reply waits for the event loop */
    RQ_SENT,    /* the reply is queued */
    RQ_ASYNC,   /* suspended without a thread: a write waits for its proposal */
    RQ_FINISH,  /* its outcome is in; the event loop runs `finish` to reply */
};

struct request {
    struct server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    struct ubuf body;
    bool too_large;
    struct ubuf warnings; /* "Warning:" header values for the reply, '\n'-separated */
    enum request_state state;
    struct MHD_Response *reply; /* made on the worker, queued by the event loop */
    unsigned reply_code;
    struct request *next_job; /* workers.c's queue */
    /* An asynchronous write (write_create_start): its state, and what runs
     * next, on the event loop (RQ_FINISH) or on a worker (RQ_RUNNING);
     * abandon frees async if the connection ends before next ran. */
    void *async;
    enum MHD_Result (*next)(struct request *rq);
    void (*abandon)(struct request *rq);
    /* server_call's request (no connection): its headers and query, and
     * where the reply goes; NULL for a request from libmicrohttpd. */
    struct inproc *inproc;
    /* An upgrade answered (pods/exec's 101) whose handler has not run yet:
     * if the connection ends first, completed_cb gives it back with
     * upgrade_abandon (nodeproxy.c); the handler clears it. */
    void *upgrade;
    void (*upgrade_abandon)(void *upgrade);
};
/* server_call's requests (http.c): a header of one, by name (any case). */
struct inproc;
const char *inproc_header(const struct inproc *ip, const char *name);

/* Queues r (and drops our reference to it) with the status code: every
 * handler's reply goes through here (see http.c). */
enum MHD_Result http_queue(struct request *rq, unsigned code, struct MHD_Response *r);

/* Asynchronous requests (http.c), in this order: begin (on the event loop,
 * in the handler: suspends the connection), then from any thread either
 * finish (the event loop runs fn to reply) or to_worker (a worker runs fn,
 * which may block, and its reply is sent as a handler's is). */
void http_async_begin(struct request *rq);
void http_async_finish(struct request *rq, enum MHD_Result (*fn)(struct request *rq));
void http_async_to_worker(struct request *rq, enum MHD_Result (*fn)(struct request *rq));
/* On a worker (as to_worker's fn): serves the request from the start, as a
 * handler, forgetting warnings a first try added. */
enum MHD_Result http_restart(struct request *rq);

/* ---- worker threads (workers.c) ---- */
struct workers *workers_new(void (*run)(struct request *rq));
void workers_submit(struct workers *wk, struct request *rq);
void workers_free(struct workers *wk); /* runs what is queued, then ends */
/* A warning kubectl prints ("Warning: unknown field ..."): sent as an RFC
 * 7234 Warning header (299) with the reply. */
void request_warn(struct request *rq, const char *text);
const char *request_arg(struct request *rq, const char *name);
/* A GET with watch=true (or 1): a watch, not a list. */
bool request_is_watch(struct request *rq);
int http_listen(const char *hostport, char *err, size_t errlen);
int http_start(struct server *s, char *err, size_t errlen);
void http_stop(struct server *s);
enum MHD_Result reply_json(struct request *rq, unsigned code, json_t *v); /* steals v */
/* JSON text already written, in three parts sent one after another
 * without copying them together: head and body (whose buffers the
 * response takes) and tail (static). */
enum MHD_Result reply_json_parts(struct request *rq, unsigned code, struct ubuf *head,
                                 struct ubuf *body, const char *tail);
enum MHD_Result reply_text(struct request *rq, unsigned code, const char *type, const char *text);
/* An object stored as msgpack, sent as JSON with resourceVersion rev. */
enum MHD_Result reply_object_msgpack(struct request *rq, unsigned code, const void *mp, size_t len,
                                     uint64_t rev);
/* A Kubernetes Status with status Failure. */
enum MHD_Result reply_status(struct request *rq, unsigned code, const char *reason,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

const char *request_header(struct request *rq, const char *name);
/* The body's media type without parameters, lowercased ("" if none). */
void request_media_type(struct request *rq, char *out, size_t len);

/* ---- request bodies (body.c) ----
 * JSON, YAML or Kubernetes protobuf, by Content-Type; NULL after replying
 * 400/415 (*ret holds the reply). */
json_t *body_decode_any(struct request *rq, enum MHD_Result *ret);
json_t *body_decode_object(struct request *rq, enum MHD_Result *ret);

/* ---- output: JSON or Table (render.c) ---- */
enum render_include { RENDER_INCLUDE_METADATA, RENDER_INCLUDE_OBJECT, RENDER_INCLUDE_NONE };
struct render {
    const struct resource *res;
    bool table; /* the client asked for meta.k8s.io/v1 Table */
    enum render_include include;
    bool columns_sent; /* watches: column definitions go in the first event */
    int64_t now; /* the printers' "now" (AGE): the request's, or each watch event's */
};
void render_init(struct render *rd, struct request *rq, const struct resource *r);
/* A listed object's Table row, appended to out as JSON text (the rows of
 * a list are text, written as it is read, like a List's items): its cells
 * from the object decoded without metadata.managedFields (no printer
 * reads them), its object (includeObject) straight from the msgpack, with
 * resourceVersion rv. 0, or -1 (out unchanged) if it does not decode. */
int render_row_text(struct render *rd, const struct store_obj *o, const char *rv,
                    struct ubuf *out);
/* The text of a list's Table up to its rows: kind, apiVersion, metadata
 * (rv, continue), columnDefinitions, then "rows":[ . */
void render_table_head(struct render *rd, const char *rv, const char *cont, struct ubuf *head);
/* Each steals its JSON argument and returns what to send. */
json_t *render_object(struct render *rd, json_t *obj);
json_t *render_event(struct render *rd, json_t *obj);

/* ---- the Kubernetes API (api.c, list.c, watch.c, write.c) ---- */
enum MHD_Result api_handle(struct request *rq);
struct api_target {
    const struct resource *res;
    char ns[256];
    char name[256];
    char sub[32];
};
enum MHD_Result watch_start(struct request *rq, const struct api_target *t);
/* ---- pods/log and pods/exec, passed to the node's kubelet (nodeproxy.c) ---- */
enum MHD_Result nodeproxy_log(struct request *rq, const struct api_target *t);
enum MHD_Result nodeproxy_exec(struct request *rq, const struct api_target *t);
/* With the HTTP front (http_start, http_stop). wait, at stop once
 * srv->stopping is set: ends the exec sessions (their sockets shut down)
 * and waits for them and the log streams (bounded). */
struct nodeproxy *nodeproxy_new(void);
void nodeproxy_wait(struct server *s);
void nodeproxy_free(struct nodeproxy *np);
/* A kubelet's status line and headers at the start of data: 0 (filled),
 * 1 if the head is not all there yet, -1 if it is not HTTP or too long. */
struct nodeproxy_head {
    int code;
    char accept[64], protocol[64]; /* Sec-WebSocket-Accept, -Protocol */
    size_t len;                    /* of the head, blank line included */
    long content_length;           /* -1 if not given */
};
int nodeproxy_parse_head(const char *data, size_t len, struct nodeproxy_head *h);
/* Events rendered once for all watches (watch.c): slot = revision % size. */
#define WATCH_CACHE_SLOTS 1024
struct watch_slot {
    uint64_t rev;
    char *json; /* the object as JSON text, or NULL */
    size_t len;
};
struct watch_cache {
    pthread_mutex_t mu;
    struct watch_slot slot[WATCH_CACHE_SLOTS];
};
/* The parked watch streams and the thread that resumes them when the
 * store's revision moves, a bookmark or a deadline falls due, or once a
 * second to notice clients that hung up. */
struct watch_hub *watch_hub_new(struct server *s);
void watch_hub_stop(struct watch_hub *h); /* resumes every parked stream, parks no more */
void watch_hub_free(struct watch_hub *h);
struct watch_cache *watch_cache_new(void);
void watch_cache_free(struct watch_cache *wc);
enum MHD_Result list_handle(struct request *rq, const struct api_target *t);
enum MHD_Result write_create(struct request *rq, const struct api_target *t);
/* On the event loop: a create that waits for nothing but its proposal,
 * without a worker (see write.c). -1 if it must run on a worker (nothing
 * was done), else the MHD result of replying or going asynchronous. */
int write_create_start(struct request *rq, const struct api_target *t);
/* The same for a PUT or PATCH (not server-side apply) of an object or its
 * /status: answered or waiting without a thread, or -1 for a worker. */
int write_update_start(struct request *rq, const struct api_target *t);
/* The same for a DELETE of an object (write.c, "DELETE without a worker"). */
int write_delete_start(struct request *rq, const struct api_target *t);
/* The same for POST /internal/propose, a batch a follower forwarded. */
int internal_start_async(struct request *rq);
/* The same test for any request: -1, or handled (api.c). */
int api_start_async(struct request *rq);
enum MHD_Result write_update(struct request *rq, const struct api_target *t);
enum MHD_Result write_patch(struct request *rq, const struct api_target *t);
enum MHD_Result write_delete(struct request *rq, const struct api_target *t);
enum MHD_Result write_delete_collection(struct request *rq, const struct api_target *t);
enum MHD_Result write_get_scale(struct request *rq, const struct api_target *t);

/* Checks a decoded body (a subresource's: kind and api_version) against
 * the schema as every write does (fieldValidation; wrong types); false
 * after replying 400. */
bool write_body_check(struct request *rq, const struct api_target *t, json_t *obj,
                      const char *kind, const char *api_version, enum MHD_Result *ret);
/* Deletion as DELETE does it, for pods/eviction too (write.c). */
struct delete_opts {
    char propagation[16]; /* "", Background, Foreground, Orphan */
    long grace;           /* -1: not given */
    uint64_t pre_rev;     /* preconditions: 0 and "" when none */
    char pre_uid[64];
    bool dry_run; /* besides the request's dryRun=All */
    /* Called on the object's copy when the deletion only marks it (a pod
     * in its grace period, finalizers), before the write; NULL: none. */
    void (*on_mark)(json_t *obj, void *arg);
    void *on_mark_arg;
};
/* Adds a DeleteOptions object's fields to o (set grace -1 and the rest 0
 * first); false with the HTTP status (400, 422) and message if it is not
 * an object or names an unknown propagation policy. */
bool delete_opts_from_json(json_t *opts, struct delete_opts *o, unsigned *code, char *msg,
                           size_t len);
/* What one deletion came to. */
enum del_outcome {
    DEL_GONE,           /* deleted */
    DEL_MARKED,         /* marked (finalizers, a pod's grace); obj is the marked object */
    DEL_ALREADY_MARKED, /* was marked before; obj is it */
    DEL_NOT_FOUND,
    DEL_CONFLICT,       /* a precondition failed, or too many races */
    DEL_FAILED,         /* the store or the cluster failed; see code and msg */
};
struct del_result {
    enum del_outcome outcome;
    json_t *obj; /* DEL_MARKED, DEL_ALREADY_MARKED (owned) */
    char uid[64];
    struct cluster_result cr;
    unsigned code; /* DEL_FAILED: HTTP status */
    char msg[256];
};
/* Reads the object t names, decides (delete or mark), proposes with the
 * read revision and uid as preconditions, and on a race reads again
 * (unless o has preconditions). Replies nothing. */
void write_delete_object(struct request *rq, const struct api_target *t,
                         const struct delete_opts *o, struct del_result *dr);
/* The reply to a deletion that did not succeed (NOT_FOUND, CONFLICT, FAILED). */
enum MHD_Result write_delete_failed(struct request *rq, const struct api_target *t,
                                    const struct del_result *dr);
/* An Eviction body's options (eviction.c): its name and namespace must be
 * the path's, its deleteOptions (and dryRun, merged with the query's) go
 * to o; false with the HTTP status (400, 422, 500) and message. */
bool eviction_options(json_t *body, const char *ns, const char *name, bool query_dry_run,
                      struct delete_opts *o, unsigned *code, char *msg, size_t len);
/* POST pods/{name}/eviction (eviction.c). */
enum MHD_Result eviction_create(struct request *rq, const struct api_target *t);
enum MHD_Result write_bind(struct request *rq, const struct api_target *t);

/* Shared by the handlers (api.c). */
const char *api_str(json_t *obj, const char *key); /* "" if absent */
json_t *api_metadata(json_t *obj);                  /* created if absent */
bool api_dry_run(struct request *rq);               /* dryRun=All */
enum MHD_Result api_reply_cluster_failure(struct request *rq, const struct cluster_result *cr);
enum MHD_Result api_reply_conflict(struct request *rq, const struct api_target *t,
                                   const char *name);
enum MHD_Result api_reply_object_status(struct request *rq, unsigned code, const char *reason,
                                        const struct api_target *t, const char *name,
                                        const char *what_happened);
enum MHD_Result api_reply_not_found(struct request *rq, const struct api_target *t,
                                    const char *name);
/* The resourceVersion rules of a read; 0, or the HTTP status replied. */
int api_read_consistency(struct request *rq, enum MHD_Result *ret);
/* Catches this replica up to a read index; 0, or the HTTP status replied. */
int api_read_fresh(struct request *rq, enum MHD_Result *ret);
/* admit.c: a new pod's priority from its PriorityClass (Kubernetes'
 * Priority admission); 0, or the HTTP status (403) with the message, or -1
 * if the class is not here yet and may_block forbids the read barrier that
 * would make sure. */
int admit_pod_priority(struct server *s, json_t *pod, bool may_block, char *msg, size_t len);
/* Kubernetes' DefaultStorageClass: a claim with no class gets the default
 * StorageClass's name, if there is a default class. */
void admit_pvc_default_class(struct server *s, json_t *pvc);
/* Kubernetes' StorageObjectInUseProtection: a new claim (plural
 * "persistentvolumeclaims") or volume ("persistentvolumes") gets its
 * protection finalizer; other objects are left alone. */
void admit_storage_protection(const char *plural, json_t *obj);
/* Kubernetes' DefaultTolerationSeconds: 300 s for not-ready/unreachable. */
void admit_pod_default_tolerations(json_t *pod);
/* The current object decoded, its revision and uid: 0, STORE_NOT_FOUND, -1. */
int api_read_current(struct server *s, const struct api_target *t, json_t **obj, uint64_t *rev,
                     char *uid, size_t uidlen);
/* The same with only the values at the given dotted paths decoded
 * (codec_msgpack_extract; paths NULL: all): for a check of a few fields. */
int api_read_paths(struct server *s, const struct api_target *t, const char *const *paths,
                   unsigned n, json_t **obj, uint64_t *rev, char *uid, size_t uidlen);

/* Label and field selectors of lists and watches (filter.c). */
struct filter;
/* NULL, with what is wrong in err, if a selector does not parse or names a
 * field Kubernetes does not select on for this kind (answer 400). */
struct filter *filter_parse(const struct resource *r, const char *label_sel,
                            const char *field_sel, char *err, size_t errlen);
void filter_free(struct filter *f);
/* The metadata.name / metadata.namespace equalities, on the store key. */
bool filter_match_key(const struct filter *f, const struct store_obj *o);
/* True if it selects nothing out: no label or field selector. */
bool filter_is_empty(const struct filter *f);
/* True if filter_match must also see the decoded object. */
bool filter_needs_object(const struct filter *f);
bool filter_match(const struct filter *f, json_t *obj);
/* Only what filter_match reads of a stored object (its selected fields and
 * labels), decoded without the rest: a watch or list that selects by field
 * or label decodes in full only what it returns. NULL if it does not decode. */
json_t *filter_view(const struct filter *f, const struct store_obj *o);
/* The metadata.name=X equality, or NULL: a list for one name is a get. */
const char *filter_name(const struct filter *f);
/* msgpack object as stored -> JSON with metadata.resourceVersion set. */
json_t *object_render(const struct store_obj *o, uint64_t rev);
/* The same as compact JSON text (malloc'd, *len bytes, not terminated),
 * written straight from the msgpack: json_dumps(object_render(o, rev)),
 * without the tree. NULL if the object does not decode. */
char *object_text(const struct store_obj *o, uint64_t rev, size_t *len);

/* ---- the cluster endpoints (cluster_api.c) ---- */
enum MHD_Result cluster_api_handle(struct request *rq);

/* ---- writes and linearizable reads, leader or not (forward.c) ---- */
struct fwd_pool *fwd_pool_new(void);
void fwd_pool_free(struct fwd_pool *p);
/* Batches a follower's writes to the leader (see forward.c). */
struct forwarder *forwarder_start(struct server *s);
void forwarder_stop(struct forwarder *f);
void forwarder_submit(struct forwarder *f, const void *cmd, size_t len, struct cluster_result *out);
/* This server's Raft leader is now leader (its id; 0: none known, nothing
 * is done): the batches under way to another one are given up at once, as
 * etcd fails proposals on a leader change. Their writes' outcome is
 * unknown (the old leader may have replicated them), and is answered so,
 * instead of holding the forwarder's threads, and the writes queued
 * behind them, until the old leader steps down (two election timeouts
 * when cut off) or the forward timeout (when paused). */
void forwarder_leader_changed(struct forwarder *f, uint64_t leader);
/* The same, and the read index under way (a follower's linearizable read)
 * is asked of the new leader, without waiting for the old one. */
void server_leader_changed(struct server *s, uint64_t leader);
/* What an asynchronous write is told, once, on whichever thread has the
 * answer (the Raft loop's, the forwarder's, or the submitter's own): it must
 * not block. */
typedef cluster_done_fn server_done_fn;
void forwarder_submit_async(struct forwarder *f, const void *cmd, size_t len, uint64_t deadline,
                            server_done_fn fn, void *arg);
/* Proposes cmd through the leader, waiting until this server has applied it. */
void server_submit(struct server *s, const void *cmd, size_t len, struct cluster_result *out);
/* The same with a deadline (util_now_ms() time) instead of the request timeout. */
void server_submit_until(struct server *s, const void *cmd, size_t len, uint64_t deadline,
                         struct cluster_result *out);
/* One try of server_submit that does not block: fn gets the outcome, as
 * server_submit would give it, except CLUSTER_NOT_LEADER, which here means
 * that no leader took the write (none is known, or it just moved): the
 * caller retries with server_submit_until where it may block. cmd must stay
 * valid until fn runs. */
void server_submit_async(struct server *s, const void *cmd, size_t len, uint64_t deadline,
                         server_done_fn fn, void *arg);
/* Encodes obj (msgpack) into cmd, encodes cmd and submits it. obj may be
 * NULL (delete). */
void server_submit_object(struct server *s, struct store_cmd *cmd, json_t *obj,
                          struct cluster_result *out);
/* Makes the next local read linearizable; 0, or an HTTP status to answer. */
int server_read_barrier(struct server *s, char *msg, size_t msglen);
/* The API URL of a member, from the peer list or the members records. */
bool server_member_api(struct server *s, uint64_t id, char *url, size_t len);
/* Sends a JSON request to the leader's API (cluster endpoints). If this
 * server becomes the leader while it waits to know one, nothing is sent or
 * answered: *leading is set, and the caller serves the request itself. */
enum MHD_Result server_forward_json(struct server *s, const char *method, const char *path,
                                    struct request *rq, bool *leading);
/* The housekeeper thread: on the leader, records every bootstrap peer's API
 * URL in the replicated members records; on every server, probes the other
 * members' /readyz once a second (server_member_reachable). */
void *server_housekeeper(void *arg);
/* Whether member id answers its /readyz: this server always; another one
 * until it has failed every probe for MEMBER_DOWN_MS (and also before its
 * first probe, so that a new server or leader does not drop everyone). */
#define MEMBER_DOWN_MS 3000
bool server_member_reachable(struct server *s, uint64_t id);
/* The leader watch (leaderwatch.c): a follower's idle connection to its
 * leader's API; closed and then refused, the leader's process is gone and
 * the follower campaigns at once (cluster_leader_gone). */
struct leader_watch *leader_watch_start(struct server *s);
void leader_watch_stop(struct leader_watch *w);
void server_probes_new(struct server *s);
void server_probes_free(struct server *s);
enum MHD_Result internal_handle(struct request *rq);

/* ---- discovery and OpenAPI (discovery.c, openapi.c) ---- */
/* What Kubernetes serves for a subresource: the kind it answers with (kind
 * NULL: the parent resource's own) and its verbs, comma-separated. */
struct discovery_subresource {
    const char *name;
    const char *group, *version, *kind;
    const char *verbs;
};
const struct discovery_subresource *discovery_subresource(const char *name); /* or NULL */
/* The group, version and kind a subresource of r answers with. */
void discovery_subresource_kind(const struct resource *r, const struct discovery_subresource *sr,
                                const char **group, const char **version, const char **kind);
/* The next item of a comma-separated list (a resource's short names,
 * subresources...) into buf, advancing *cursor; false at the end. */
bool discovery_csv_next(const char **cursor, char *buf, size_t len);
/* The first resource of the n-th distinct group/version of the resource
 * table, in table order; NULL past the end. */
const struct resource *discovery_gv_at(unsigned n);
/* GET /api (apis false) and /apis: aggregated discovery when the Accept
 * header asks for it, else APIVersions / APIGroupList. */
enum MHD_Result discovery_handle_root(struct request *rq, bool apis);
/* GET /api/v1, /apis/{g}/{v}: APIResourceList; version NULL or "": GET
 * /apis/{g}: APIGroup. */
enum MHD_Result discovery_handle_group_version(struct request *rq, const char *group,
                                               const char *version);
/* GET /openapi/v3 and /openapi/v3/api/v1, /openapi/v3/apis/{g}/{v};
 * /openapi/v2 goes to openapi_v2_handle. */
enum MHD_Result openapi_handle(struct request *rq);
/* The OpenAPI 3.0 document of one group/version, as GET /openapi/v3/... sends it. */
json_t *openapi_gv_document(const char *group, const char *version);
/* GET /openapi/v2: the Swagger 2.0 document of every group/version (openapi_v2.c),
 * JSON or, as kubectl asks for it, gnostic protobuf. */
enum MHD_Result openapi_v2_handle(struct request *rq);
/* The gnostic openapi_v2.Document protobuf of a Swagger 2.0 document into out
 * (openapi_v2_pb.c); the number of JSON keys it had no field for. */
size_t openapi_v2_protobuf(json_t *doc, struct ubuf *out);

#endif
