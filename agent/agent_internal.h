/* agent_internal.h — what the files of agent/ share: the agent's state, its
 * connections with failover, the job scheduler, the hollow nodes and the
 * pod table. Private to agent/; the public entry point is agent.h.
 *
 *   hollow.c     flags, start, the signal wait, stop
 *   conn.c       a keep-alive connection that fails over along --server
 *   jobs.c       jobs: two FIFO queues, a timer heap, worker threads, ticker
 *   node.c       Node objects, registration, Lease renewal, heartbeats
 *   podtable.c   the pods bound to our nodes, keyed "ns/name"
 *   podwatch.c   LIST + WATCH of bound pods, deciding what each pod needs
 *   podstatus.c  the pod jobs: Running, Succeeded or Failed, delete
 *   metrics.c    the pods' and nodes' synthetic usage, as metrics.k8s.io objects
 *   kubelet.c    the nodes' kubelet endpoint: container logs, and exec's upgrade
 *   podlog.c     what a hollow container "printed": the log kubelet.c serves
 *   exec.c       an exec session: a child process behind kubectl's WebSocket
 *   ws.c         WebSocket frames (RFC 6455), the server's side
 *
 * Threads: main (waits for a signal or --duration), the ticker (moves due
 * timers to the queues, logs progress), --workers workers (each with its
 * own connection, running one job at a time), the pod watcher and the
 * metrics thread (with short-lived writer threads of its own). Shared
 * state is the scheduler (one mutex), the pod table (one mutex), the nodes'
 * uids (one mutex), the servers' current index and the counters (atomics);
 * the configuration is read-only once parsed; the rest is owned by one
 * thread at a time: a job by whoever holds it (queue, heap or worker), a
 * node's other fields by the worker running its job. */
#ifndef BOSUN_AGENT_INTERNAL_H
#define BOSUN_AGENT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "util/util.h"

#define AGENT_MAX_NODES 20000
#define AGENT_MAX_SERVERS 16
#define AGENT_REQUEST_TIMEOUT_MS 10000
#define AGENT_HEARTBEAT_MS (5 * 60 * 1000) /* the kubelet's nodeStatusReportFrequency */
#define AGENT_RUN_SECONDS_ANNOTATION "bosun.dev/hollow-run-seconds"
#define AGENT_EXIT_CODE_ANNOTATION "bosun.dev/hollow-exit-code"
#define AGENT_LOG_ANNOTATION "bosun.dev/hollow-log"
/* Where the API server reaches a node's kubelet endpoint: "HOST:PORT". */
#define AGENT_ENDPOINT_ANNOTATION "bosun.dev/kubelet-endpoint"

/* ---- configuration (hollow.c parses the flags into it) ---- */

struct agent_config {
    int hollow;                          /* number of nodes, 1..AGENT_MAX_NODES */
    char *servers[AGENT_MAX_SERVERS];    /* base URLs, in failover order */
    int n_servers;
    char prefix[200];                    /* node name prefix */
    int name_width;                      /* digits of the node index, so names sort */
    char cpu[32], memory[32];            /* capacity quantities as given */
    long pods;                           /* capacity: pods */
    json_t *labels;                      /* object: --labels plus the fixed ones */
    int zones;                           /* 0: no zone label */
    json_t *taints;                      /* array of {key, value, effect} */
    int lease_seconds;
    long duration_ms;                    /* 0: until a signal */
    int workers;                         /* connections/threads for writes */
    double cpu_usage;                    /* metrics: usage = request x this (--cpu-usage) */
    uint64_t metrics_interval_ms;        /* metrics: period of the rounds; 0: off */
    uint64_t start_delay_ms;             /* a bound pod runs this long after it is seen */
    char kubelet_address[64];            /* the kubelet endpoint's address (--kubelet-address) */
    int kubelet_port;                    /* its port; 0: any free one (--kubelet-port) */
    char exec_dir[1024];                 /* exec's working directories; "": exec off */
};

/* ---- errors, logged once per kind, then counted ---- */

enum agent_err {
    AGENT_ERR_REGISTER,
    AGENT_ERR_LEASE,
    AGENT_ERR_HEARTBEAT,
    AGENT_ERR_POD_RUN,
    AGENT_ERR_POD_COMPLETE,
    AGENT_ERR_POD_DELETE,
    AGENT_ERR_LIST,
    AGENT_ERR_WATCH,
    AGENT_ERR_METRICS,
    AGENT_ERR_COUNT
};

/* Counters for the progress lines and the final report. */
struct agent_stats {
    atomic_long registered;   /* nodes registered (created or taken over) */
    atomic_long leases;       /* lease writes that succeeded */
    atomic_long heartbeats;
    atomic_long running;      /* pods moved to Running */
    atomic_long succeeded;    /* pods moved to Succeeded (or Failed: hollow-exit-code) */
    atomic_long deleted;      /* pods deleted after their deletionTimestamp */
    atomic_long requests;     /* HTTP requests answered */
    atomic_long failovers;
    atomic_long errors[AGENT_ERR_COUNT];
    atomic_bool logged[AGENT_ERR_COUNT];
};

/* ---- jobs (jobs.c) ---- */

enum agent_job_kind {
    AGENT_JOB_REGISTER,  /* create or take over a Node, then its Lease */
    AGENT_JOB_LEASE,     /* renew a Lease (periodic) */
    AGENT_JOB_HEARTBEAT, /* the Node's conditions (periodic) */
    AGENT_JOB_POD_RUN,
    AGENT_JOB_POD_COMPLETE,
    AGENT_JOB_POD_DELETE,
    AGENT_JOB_KINDS
};

/* A unit of work. Node jobs are embedded in their node and live as long as
 * the agent; pod jobs are struct agent_pod_job, freed when done. A job is
 * in exactly one place at a time: a queue, the timer heap, or a worker. */
struct agent_job {
    enum agent_job_kind kind;
    struct agent_job *next; /* queue link */
    uint64_t due_ms;        /* timer heap: when to queue it (monotonic) */
    unsigned attempts;      /* consecutive failures, for backoff */
};

struct agent_conn;
struct agent;

/* What a job's handler returns: 0 when it is finished (pod jobs are then
 * freed), else the monotonic time at which to run it again. */
typedef uint64_t (*agent_job_fn)(struct agent *ag, struct agent_conn *k, struct agent_job *j);

struct agent_sched {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* workers: something was queued, or stop */
    pthread_cond_t tick_cv; /* ticker: a new earliest timer, or stop */
    /* Queue 0 is urgent (node registration, leases, heartbeats: a late
     * lease makes the node NotReady); queue 1 is the pods'. */
    struct agent_job *head[2], *tail[2];
    size_t queued[2];
    struct agent_job **heap; /* min-heap on due_ms */
    size_t heap_n, heap_cap;
    bool stopping;
    int n_idle;           /* workers waiting on work_cv */
    uint64_t ticker_wake_ms; /* when the sleeping ticker wakes; 0 while awake */
    pthread_t ticker;
    pthread_t *workers;
    struct agent_conn *conns; /* one per worker */
    int n_workers;
};

void agent_sched_init(struct agent_sched *s);
/* Starts the ticker and n workers. */
void agent_sched_start(struct agent *ag, int n);
/* Stops and joins the threads, frees the queued and timed pod jobs. */
void agent_sched_stop(struct agent *ag);
/* Queues j to run now / at due_ms (monotonic). */
void agent_sched_now(struct agent *ag, struct agent_job *j);
void agent_sched_at(struct agent *ag, struct agent_job *j, uint64_t due_ms);
/* Backoff for a job's attempt-th consecutive failure: 0.25 s doubling to 10 s. */
uint64_t agent_backoff_ms(unsigned attempts);

/* ---- connections with failover (conn.c) ---- */

/* One keep-alive connection to the current server of the list. When a
 * server stops answering (connection refused, reset, timeout) or keeps
 * answering 503/504, the agent's current index moves to the next URL, and
 * every connection follows it on its next request. */
struct agent_conn {
    struct agent *ag;
    struct httpc *c;
    int idx;     /* the server c talks to */
    int unavail; /* consecutive 503/504 answers from it */
};

void agent_conn_init(struct agent_conn *k, struct agent *ag);
void agent_conn_close(struct agent_conn *k);
/* One request (content_type NULL: no body) with failover: tried on each
 * server at most once while they fail at the transport level. 0 with resp
 * filled (any HTTP status), or -1 when no server answered. */
int agent_conn_request(struct agent_conn *k, const char *method, const char *path,
                       const char *content_type, const char *body, size_t body_len,
                       struct httpc_response *resp);
/* Opens a stream (a watch) with the same failover; see httpc_stream_open. */
int agent_conn_stream(struct agent_conn *k, const char *path, struct httpc_response *resp);
/* The server k talks to stopped answering: move on (once per failure). */
void agent_conn_failed(struct agent_conn *k, const char *why);
/* Convenience: JSON body, returns the status (-1: no server answered);
 * *out (if not NULL) gets the decoded body or NULL. */
int agent_conn_json(struct agent_conn *k, const char *method, const char *path,
                    const char *content_type, json_t *body, json_t **out);
/* The same for a write whose answer matters only when it is refused (the
 * lease renewals, the pods' status writes, their deletes): *err gets the
 * decoded answer only when it is not 2xx, so that a success's echo of the
 * whole object (a pod: kilobytes) is not decoded to be thrown away. */
int agent_conn_write(struct agent_conn *k, const char *method, const char *path,
                     const char *content_type, json_t *body, json_t **err);

/* ---- hollow nodes (node.c) ---- */

struct agent_node {
    struct agent_job reg;   /* AGENT_JOB_REGISTER, then AGENT_JOB_HEARTBEAT */
    struct agent_job lease; /* AGENT_JOB_LEASE */
    char name[256];
    char ip[16];            /* InternalIP, fixed by the index */
    char uid[48];           /* the Node's, once registered (owner of the Lease); nodes_mu */
    uint64_t phase_ms;      /* offset of its renewals in the lease period */
    bool registered;        /* only its reg job touches it */
    atomic_bool lease_exists;
};

void agent_nodes_init(struct agent *ag);
void agent_nodes_free(struct agent *ag);
/* Queues every node's registration. */
void agent_nodes_start(struct agent *ag);
/* The index of our node with this name, or -1 (O(name length)). */
int agent_node_index(const struct agent *ag, const char *name);
uint64_t agent_node_register(struct agent *ag, struct agent_conn *k, struct agent_job *j);
uint64_t agent_node_lease(struct agent *ag, struct agent_conn *k, struct agent_job *j);
uint64_t agent_node_heartbeat(struct agent *ag, struct agent_conn *k, struct agent_job *j);

/* ---- pods (podtable.c, podwatch.c, podstatus.c) ---- */

/* What the agent remembers of a pod bound to one of its nodes. */
struct agent_pod {
    struct agent_pod *next; /* hash chain */
    char *key;              /* "ns/name" */
    char uid[40];
    int node;
    uint32_t ip;            /* the pod IP we gave it; 0 until we run it */
    uint32_t gen;           /* the list generation that last saw it */
    int64_t start_wall_ms;  /* when we started it (wall clock), or 0 */
    bool run_queued, complete_queued, delete_queued;
};

struct agent_pods {
    pthread_mutex_t mu;
    struct agent_pod **buckets;
    size_t n_buckets, n;
    uint32_t gen;
};

void agent_pods_init(struct agent_pods *t);
void agent_pods_free(struct agent_pods *t);
/* Under t->mu: the entry for key, or NULL; insert a new one; remove one. */
struct agent_pod *agent_pods_find(struct agent_pods *t, const char *key);
struct agent_pod *agent_pods_insert(struct agent_pods *t, const char *key, const char *uid,
                                    int node);
void agent_pods_remove(struct agent_pods *t, const char *key);
/* Under t->mu: removes every entry whose gen is not gen (after a relist). */
size_t agent_pods_sweep(struct agent_pods *t, uint32_t gen);
/* Is the pod key still the one with this uid? (locks) */
bool agent_pods_current(struct agent_pods *t, const char *key, const char *uid);

/* A pod job: everything its request needs, copied out of the event, so the
 * job holds no JSON and no reference into the table. */
struct agent_pod_job {
    struct agent_job job; /* first: the scheduler sees this */
    char *ns, *name, *key;
    char uid[40];
    char rv[24];             /* RUN: the pod's resourceVersion when it was decided */
    int node;
    uint32_t ip;
    int64_t start_wall_ms;   /* startTime and containers' startedAt */
    bool terminal;           /* DELETE: the pod already has a terminal phase */
    bool started;            /* DELETE: we (or a kubelet) ran it */
    bool has_scheduled;      /* the pod has its PodScheduled condition */
    int exit_code;           /* COMPLETE: the containers' exit code (0: Succeeded) */
    char *containers;        /* "name\0image\0" per container, then "\0" */
    char *init_containers;   /* same for initContainers, or NULL */
};

/* podwatch.c: the parts of the pod whose JSON text is at obj that the
 * agent reads (metadata: namespace, name, uid, resourceVersion,
 * deletionTimestamp, annotations; spec: nodeName, restartPolicy,
 * containers, initContainers; status: phase, startTime, conditions),
 * decoded without decoding the rest; NULL if the text does not scan. */
json_t *agent_pod_view(const char *obj, const char *end);

struct agent_pod_job *agent_pod_job_new(enum agent_job_kind kind, const char *ns,
                                        const char *name, const char *uid, int node);
void agent_pod_job_free(struct agent_pod_job *pj);
uint64_t agent_pod_run(struct agent *ag, struct agent_conn *k, struct agent_job *j);
uint64_t agent_pod_complete(struct agent *ag, struct agent_conn *k, struct agent_job *j);
uint64_t agent_pod_delete(struct agent *ag, struct agent_conn *k, struct agent_job *j);

/* The watcher thread (podwatch.c). */
void agent_podwatch_start(struct agent *ag);
void agent_podwatch_stop(struct agent *ag);

/* The metrics thread (metrics.c): started after the pod watcher, stopped
 * (joined) once ag->stopping is set; does nothing with --metrics-interval 0. */
struct agent_metrics;
void agent_metrics_start(struct agent *ag);
void agent_metrics_stop(struct agent *ag);

/* ---- the kubelet endpoint (kubelet.c, exec.c, ws.c) ---- */

struct agent_kubelet;
/* Starts listening on cfg.kubelet_address:kubelet_port (before the nodes
 * register: they advertise the port). 0, or -1 with the reason logged. */
int agent_kubelet_start(struct agent *ag);
/* Stops serving and waits for the exec sessions to end (their children are
 * killed). */
void agent_kubelet_stop(struct agent *ag);

/* A hollow container's log (podlog.c): its lines so far, each with the
 * wall-clock ms it is stamped with; ended once the container terminated. */
struct agent_log {
    struct agent_log_line {
        int64_t ms;
        char *text;
    } *v;
    size_t n;
    bool ended;
};
struct agent_log_opts {
    bool timestamps;
    int64_t since_ms; /* wall; 0: every line */
    long limit;       /* bytes; -1: no limit */
};
/* The container's spec and status (NULL if none yet) in the pod, among its
 * containers, then its init containers; false if it has no such one. */
bool agent_pod_container(json_t *pod, const char *name, json_t **spec, json_t **status);
/* The log of container of pod as the API has it; false if the pod has no
 * such container. A container not started yet has no lines. */
bool agent_log_make(json_t *pod, const char *container, struct agent_log *l);
void agent_log_free(struct agent_log *l);
/* Appends lines from..n-1 as the kubelet writes them; *sent counts the
 * bytes against o->limit. True once the limit is reached (out cut there). */
bool agent_log_format(const struct agent_log *l, size_t from, const struct agent_log_opts *o,
                      long *sent, struct ubuf *out);

/* What an exec session needs, copied out of its request. */
struct agent_exec {
    struct agent *ag;
    char **argv;       /* the command, NULL-terminated */
    char **env;        /* "K=V", NULL-terminated: the container's literal env */
    char dir[1100];    /* the working directory, created */
    bool in, out, err, tty;
};
/* Runs one session on the upgraded socket fd (extra: bytes already read
 * past the handshake), then frees x. Blocks until the command has ended
 * or the client has gone. */
void agent_exec_run(struct agent_exec *x, int fd, const char *extra, size_t extra_len);
void agent_exec_free(struct agent_exec *x);

#define AGENT_WS_MAX_PAYLOAD (4u << 20)
struct agent_ws_frame {
    bool fin;
    int opcode; /* 0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong */
    unsigned char *payload;
    size_t len;
};
/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key. */
void agent_ws_accept_key(const char *key, char out[29]);
/* One frame from the start of buf: its length (the payload unmasked in
 * place), 0 if more bytes are needed, -1 on a protocol error. */
int agent_ws_parse(unsigned char *buf, size_t len, struct agent_ws_frame *f);
/* A server frame's header (FIN set, no mask) for a payload of len: its size. */
size_t agent_ws_header(unsigned char hdr[10], int opcode, size_t len);

/* ---- the agent ---- */

struct agent {
    struct agent_config cfg;
    atomic_int server_cur;          /* index into cfg.servers all connections use */
    atomic_ullong last_failover_log; /* ms, to rate-limit failover lines */
    atomic_bool stopping;
    struct agent_stats st;
    struct agent_sched sched;
    struct agent_node *nodes;       /* cfg.hollow of them */
    pthread_mutex_t nodes_mu;       /* the nodes' uid */
    uint64_t start_ms;              /* monotonic, when the agent started */
    atomic_ullong all_registered_ms; /* monotonic, when the last node registered; 0 before */
    struct agent_pods pods;
    atomic_uint pod_ip_next;        /* pod IPs: 10.128.0.0/9, by a counter */
    pthread_t watcher;
    bool watcher_started;
    char started_at[32];            /* RFC 3339: lastTransitionTime of the node conditions */
    struct agent_metrics *metrics;  /* metrics.c's thread, or NULL */
    struct agent_kubelet *kubelet;  /* kubelet.c's endpoint, or NULL */
    int kubelet_port;               /* the port it listens on; 0 before */
};

/* Logs the first error of a kind at WARN and counts every one. */
void agent_error(struct agent *ag, enum agent_err kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A dotted IPv4 address from a host-order integer; buf >= 16. */
void agent_ip_format(uint32_t ip, char *buf, size_t len);
/* Wall clock: RFC 3339 seconds ("...Z") and MicroTime ("....000000Z") of
 * ms since the epoch; buf >= 32. */
void agent_time_rfc3339(int64_t wall_ms, char *buf, size_t len);
void agent_time_micro(int64_t wall_ms, char *buf, size_t len);
int64_t agent_wall_ms(void);
/* A stable fake id: up to 64 hex digits hashed from salt and name. */
void agent_fake_id(const char *salt, const char *name, char *out, size_t len);
/* Parses RFC 3339 ("2006-01-02T15:04:05Z", optional fraction) to wall ms; -1. */
int64_t agent_time_parse(const char *s);

#endif
