/* chaos_internal.h — private header of `bosun chaos` (tools/chaos*.c): the
 * recorded history (chaos_history.c reads DIR/history.jsonl,
 * DIR/final.json, DIR/watch.jsonl and DIR/controllers.jsonl into it), the
 * checker (chaos_check.c judges it, chaos_watch.c the watch streams,
 * chaos_ctl.c the controller invariants), and the runner that records it
 * (chaos_run.c: flags and orchestration; the servers' processes and the
 * faults in chaos_faults.c, membership changes in chaos_membership.c, the
 * Raft fault proxy in chaos_proxy.c, the clients in chaos_workload.c, the
 * watchers in chaos_watcher.c, the controllers workload in
 * chaos_ctl_run.c, DIR/report.html in chaos_report.c).
 *
 * The file formats are described at the top of chaos_history.c, the
 * checking algorithm at the top of chaos_check.c. Strings (keys, values,
 * server ids) are interned: everywhere else they are small integers. */
#ifndef BOSUN_CHAOS_INTERNAL_H
#define BOSUN_CHAOS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* A completion time that never came (result "unknown"). */
#define CHAOS_NEVER INT64_MAX

/* The namespace of the workload's ConfigMaps: the clients write there, the
 * watchers watch it, the final state is read from it. */
#define CHAOS_NAMESPACE "chaos"

enum chaos_fn { CHAOS_CREATE, CHAOS_GET, CHAOS_UPDATE, CHAOS_DELETE, CHAOS_NFN };
enum chaos_result { CHAOS_OK, CHAOS_FAIL, CHAOS_UNKNOWN, CHAOS_NRESULT };

/* Interned strings: id → string, string → id. */
struct chaos_strtab {
    char **s;
    int n, cap;
    struct umap ids; /* string → (void *)(intptr_t)(id + 1) */
};
int chaos_strtab_intern(struct chaos_strtab *t, const char *s);
int chaos_strtab_find(const struct chaos_strtab *t, const char *s); /* -1 if absent */
void chaos_strtab_free(struct chaos_strtab *t);

/* One line of history.jsonl. */
struct chaos_op {
    int64_t id;     /* the runner's op id, unique */
    int client;     /* the process that ran it (>= 0) */
    enum chaos_fn fn;
    int key;        /* chaos_history.keys */
    int value;      /* written (create, update), observed (ok get, ok delete); -1 none */
    uint64_t expect_rv; /* precondition (update, delete); 0 none */
    uint64_t rv;        /* assigned (ok create/update) or observed (ok get/delete); 0 unknown */
    int64_t invoke;     /* ns, monotonic */
    int64_t complete;   /* ns; CHAOS_NEVER when result is unknown */
    enum chaos_result result;
    int status;         /* HTTP status of a fail (0 if not given) */
    char reason[32];    /* Kubernetes Status reason of a fail ("" if not given) */
    int line;           /* in history.jsonl, for messages */
};

/* The final state one server reported after healing (final.json). */
struct chaos_entry {
    int key, value;
    uint64_t rv;
};
struct chaos_server_state {
    char *id;
    struct chaos_entry *entries; /* sorted by key id, one per key */
    int n;
};

struct chaos_watch;
struct chaos_ctl;

struct chaos_history {
    struct chaos_op *ops; /* in file order */
    size_t n, cap;
    struct chaos_strtab keys, values;
    int *writer;      /* per value id: index of the op that wrote it, or -1 */
    int nclients;     /* distinct client ids */
    int64_t t0;       /* earliest invoke: times are printed relative to it */
    int64_t t_end;    /* latest known time (invoke or completion) */
    bool has_final;
    struct chaos_server_state *servers; /* sorted by id */
    int nservers;
    struct chaos_watch *watch; /* watch.jsonl; NULL when not given */
    struct chaos_ctl *ctl;     /* controllers.jsonl; NULL when not given */
};

/* Parsing (chaos_history.c). Each returns 0, or -1 with a message naming
 * the line or member in err. A history's written values must be unique. */
void chaos_history_init(struct chaos_history *h);
void chaos_history_free(struct chaos_history *h);
int chaos_history_parse(struct chaos_history *h, const char *text, size_t len, char *err,
                        size_t errlen);
int chaos_final_parse(struct chaos_history *h, const char *text, size_t len, char *err,
                      size_t errlen);
/* Reads DIR/history.jsonl, unless no_final DIR/final.json, and
 * DIR/watch.jsonl and DIR/controllers.jsonl if they exist (h->watch and
 * h->ctl stay NULL if not). */
int chaos_history_load(struct chaos_history *h, const char *dir, bool no_final, char *err,
                       size_t errlen);

/* The parsers' shared pieces (chaos_history.c). A line's parser gets the
 * line as a JSON object: 0, or -1 with why. chaos_each_line calls fn on
 * every line of a .jsonl text that is not blank; an error names the file
 * and the line. chaos_fail formats into err and returns -1.
 * chaos_parse_rv: a resourceVersion, a decimal string or an integer > 0. */
struct json_t;
typedef int (*chaos_line_fn)(void *ctx, const struct json_t *o, int lineno, char *why,
                             size_t whylen);
int chaos_each_line(const char *file, const char *text, size_t len, chaos_line_fn fn, void *ctx,
                    char *err, size_t errlen);
int chaos_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int chaos_parse_rv(const struct json_t *j, uint64_t *out);

const char *chaos_fn_name(enum chaos_fn fn);
const char *chaos_result_name(enum chaos_result r);
/* Whether a fail is a definite non-effect the model can use: AlreadyExists
 * on create, NotFound on get/update/delete, Conflict on a conditional
 * update/delete. Any other fail is treated as unknown. */
bool chaos_fail_is_definite(const struct chaos_op *op);
/* "op 17 client 3 update default/k3 v9 if rv 88 → ok rv 91 [1.204–1.230 s]" */
void chaos_op_describe(const struct chaos_history *h, const struct chaos_op *op, struct ubuf *out);
/* "1.204" seconds since t0, or "?" for CHAOS_NEVER. */
void chaos_time_fmt(const struct chaos_history *h, int64_t t, char *buf, size_t len);

/* The per-key model's operations (chaos_check.c builds them from the ops
 * and final reads; the search and the tests use them). */
enum chaos_kind {
    CHAOS_K_CREATE,       /* ok create: absent → (value, rv) */
    CHAOS_K_CREATE_MAYBE, /* unknown create: if absent → (value, ?) */
    CHAOS_K_PRESENT,      /* create failed AlreadyExists: present */
    CHAOS_K_READ,         /* ok get / final read: present with (value, rv) */
    CHAOS_K_ABSENT,       /* NotFound on get/update/delete, final read of nothing */
    CHAOS_K_UPDATE,       /* ok update: present [, rv == expect] → (value, rv) */
    CHAOS_K_UPDATE_MAYBE, /* unknown update: as ok update if it applies */
    CHAOS_K_CONFLICT,     /* Conflict: present with rv != expect */
    CHAOS_K_DELETE,       /* ok delete: present [, rv == expect] → absent */
    CHAOS_K_DELETE_MAYBE, /* unknown delete */
};

struct chaos_kop {
    enum chaos_kind kind;
    int op;           /* index in chaos_history.ops; -1 - server index for a final read */
    int value;        /* -1 none (for DELETE: the observed value, if given) */
    uint64_t expect;  /* 0 none */
    uint64_t rv;      /* 0 unknown */
    int64_t call, ret; /* ret CHAOS_NEVER for unknown outcomes */
};

/* The model's state of one key: absent (value -1) or present with
 * (value, rv); rv 0 while an unknown write's revision is not yet bound.
 * floor is the highest revision this key has had: a new write's must be
 * higher (Kubernetes revisions only grow). */
struct chaos_state {
    int32_t value;
    uint32_t pad; /* zero: states are hashed and compared as bytes */
    uint64_t rv;
    uint64_t floor;
};

/* One step of the model: whether op can take effect in *s, and the new
 * state into *next. Unknown ops always can (they may have been a no-op). */
bool chaos_model_step(const struct chaos_state *s, const struct chaos_kop *op,
                      struct chaos_state *next);
/* Whether op is a write whose outcome is unknown (a *_MAYBE kind). */
bool chaos_kop_unknown_write(const struct chaos_kop *op);

/* The outcome of searching one key's operations. */
enum chaos_key_verdict { CHAOS_KEY_OK, CHAOS_KEY_FAIL, CHAOS_KEY_LIMIT };
struct chaos_key_result {
    enum chaos_key_verdict verdict;
    long long states;  /* cache entries made */
    int *prefix;       /* the longest linearizable prefix found (kop indexes) */
    int nprefix;
    int stuck;         /* the kop that could not be placed after it, or -1 */
    struct chaos_state at; /* the state after the prefix */
};
void chaos_key_result_free(struct chaos_key_result *r);
/* Wing & Gong's search with Lowe's memoization over n kops; gives up after
 * max_states cache entries (CHAOS_KEY_LIMIT). */
void chaos_check_key(const struct chaos_kop *ops, int n, long long max_states,
                     struct chaos_key_result *out);

/* One key's operations as the model sees them (chaos_check.c builds them:
 * the history's in file order, then the final reads). */
struct chaos_keyops {
    int key;
    struct chaos_kop *kops;
    int n;
    const int *kop_of_op; /* history op index → kop index in its key */
};

/* A short proof of non-linearizability (chaos_explain.c): s the read (or
 * create) that cannot be explained, w the write of its value, x the write
 * that must lie between (-1 when not part of the proof). */
enum chaos_proof_kind {
    CHAOS_PROOF_NO_WRITER,
    CHAOS_PROOF_WRITTEN_LATER,
    CHAOS_PROOF_WRONG_RV,
    CHAOS_PROOF_OVERWRITTEN,
    CHAOS_PROOF_ABSENT_BUT_WRITTEN,
    CHAOS_PROOF_CREATE_BUT_PRESENT,
};
struct chaos_proof {
    enum chaos_proof_kind kind;
    int s, w, x;
};
bool chaos_find_proof(const struct chaos_history *h, const struct chaos_keyops *ko,
                      struct chaos_proof *out);
void chaos_proof_words(const struct chaos_history *h, const struct chaos_keyops *ko,
                       const struct chaos_proof *p, struct ubuf *out);
/* Why r->stuck could not be placed after r's prefix, in words. */
void chaos_search_words(const struct chaos_history *h, const struct chaos_keyops *ko,
                        const struct chaos_key_result *r, struct ubuf *out);
/* "update v9 by client 1 (op 12, ok, 0.900–1.100 s)" */
void chaos_kop_short(const struct chaos_history *h, const struct chaos_kop *k, struct ubuf *out);
/* Drops read-like kops (not stuck) while the rest still fails (each
 * re-check bounded to max_states, at most 20,000); keep[i] says what is
 * left; returns how many. */
int chaos_minimize(const struct chaos_keyops *ko, int stuck, bool *keep, long long max_states);

/* ---------------------------------------------------------------- watch */

/* What the watchers saw: watch.jsonl (format at the top of chaos_history.c),
 * read and judged by chaos_watch.c. */
enum chaos_wkind {
    CHAOS_WE_ADDED, /* events: the change log's types */
    CHAOS_WE_MODIFIED,
    CHAOS_WE_DELETED,
    CHAOS_WE_BOOKMARK, /* every change up to rv was delivered */
    CHAOS_WE_LIST,     /* a stream opened after a LIST at rv (its objects: items) */
    CHAOS_WE_RESUME,   /* a stream reopened from rv */
    CHAOS_WE_EXPIRED,  /* 410 Expired answered to a resume from rv */
    CHAOS_WE_CLOSE,    /* the stream ended, for the reason in why */
    CHAOS_NWKIND
};

struct chaos_wline {
    enum chaos_wkind kind;
    int64_t t;         /* ns, the history's clock: when it arrived */
    uint64_t rv;       /* 0 for a close */
    int key, value;    /* events: chaos_watch.keys / values; value -1 none */
    int item0, nitems; /* a list: its objects, chaos_watch.items[item0..] */
    int64_t history;   /* expired: the server's change log size; 0 unknown */
    char why[24];      /* close: "eof", "broken", "silent", "stop", "error 500" */
    int line;          /* in watch.jsonl, for messages */
};

/* One server's lines, in the order its watcher wrote them. */
struct chaos_wserver {
    char *id;
    struct chaos_wline *lines;
    int n, cap;
};

struct chaos_watch {
    struct chaos_wserver *servers; /* sorted by id */
    int nservers;
    struct chaos_strtab keys, values;
    struct chaos_entry *items; /* the lists' objects (key, value, rv) */
    int nitems, cap;
};

/* 0, or -1 with a message naming the line in err; w is then still to be
 * freed. */
int chaos_watch_parse(struct chaos_watch *w, const char *text, size_t len, char *err,
                      size_t errlen);
void chaos_watch_free(struct chaos_watch *w); /* and w itself */
const char *chaos_wkind_name(enum chaos_wkind k);

/* The watch guarantees checked against the history (chaos_watch.c): on
 * every server, events in strictly increasing revisions, none missing
 * between a stream's start and the last revision it delivered, the same
 * change at each revision on every server and in the history's
 * acknowledged writes, a 410 only for a revision the log had dropped. */
struct chaos_watch_result {
    bool ok;
    int violations;
    struct ubuf text;     /* the verdict's watch lines */
    struct json_t *json;  /* {"result", "servers": {...}, "violations": [...]} */
};
void chaos_watch_check(const struct chaos_history *h, const struct chaos_watch *w,
                       struct chaos_watch_result *out);
void chaos_watch_result_free(struct chaos_watch_result *r);
/* Per server: events, bookmarks, streams, reconnects, 410s. */
void chaos_watch_figures(const struct chaos_watch *w, struct ubuf *out);

/* ---------------------------------------------------------------- controllers */

/* What the recorder of the controllers workload saw (controllers.jsonl,
 * format at the top of chaos_ctl.c), and the controller invariants judged
 * on it. */
int chaos_ctl_parse(struct chaos_ctl **out, const char *text, size_t len, char *err,
                    size_t errlen);
void chaos_ctl_free(struct chaos_ctl *c);
struct chaos_ctl_result {
    bool ok;
    int violations;
    struct ubuf text;    /* the verdict's controllers lines */
    struct json_t *json; /* {"result", "figures": {...}, "violations": [...]} */
};
void chaos_ctl_check(const struct chaos_ctl *c, struct chaos_ctl_result *out);
void chaos_ctl_result_free(struct chaos_ctl_result *r);

/* The whole check (chaos_check.c). */
struct chaos_options {
    long long max_states; /* per key; 0: the default */
    bool json;
};
enum chaos_verdict { CHAOS_PASS, CHAOS_FAILED, CHAOS_UNDECIDED };
struct chaos_report {
    enum chaos_verdict verdict;
    struct ubuf text; /* the human verdict, figures included */
    struct ubuf json; /* the same as one JSON document */
    int failed_keys, limit_keys;
    bool linearizable, lost_write, converged;
    bool watch_ok; /* true too when there was no watch.jsonl to check */
    bool ctl_ok;   /* true too when there was no controllers.jsonl */
};
void chaos_check_history(const struct chaos_history *h, const struct chaos_options *o,
                         struct chaos_report *r);
void chaos_report_free(struct chaos_report *r);

/* ================================================================ runner */

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/types.h>

enum { CHAOS_MAX_SERVERS = 7 };

/* Monotonic nanoseconds: the clock of history.jsonl and faults.jsonl. */
int64_t chaos_now_ns(void);
/* Sleeps until t (ns, monotonic) or until *stop, whichever comes first. */
void chaos_sleep_until(int64_t t, const volatile sig_atomic_t *stop);

/* A seeded PRNG (splitmix64): the faults' schedule and the clients' choices
 * come from --seed, never from rand(). */
struct chaos_rng {
    uint64_t s;
};
uint64_t chaos_rng_next(struct chaos_rng *r);
uint64_t chaos_rng_below(struct chaos_rng *r, uint64_t n); /* [0, n), n > 0 */

/* The Raft fault proxy (chaos_proxy.c): one listening port per server; a
 * connection to server j's proxy port is forwarded to j's real Raft port
 * unless the link from its sender (named by libraft's handshake) to j is
 * cut. Ids are 1..n. */
struct chaos_proxy;
struct chaos_proxy *chaos_proxy_start(int n, const int *proxy_ports, const int *raft_ports,
                                      char *err, size_t errlen);
/* cut[(i - 1) * n + (j - 1)]: drop traffic from server i to server j. Open
 * connections across a newly cut link are closed. NULL heals everything. */
void chaos_proxy_partition(struct chaos_proxy *p, const bool *cut);
struct chaos_proxy_stats {
    long long accepted, forwarded, refused, severed;
};
void chaos_proxy_stats(struct chaos_proxy *p, struct chaos_proxy_stats *out);
void chaos_proxy_stop(struct chaos_proxy *p);

/* One server of the runner's cluster (chaos_faults.c starts and stops it). */
struct chaos_server {
    int id;
    pid_t pid;   /* 0 while killed (reaped) */
    bool paused; /* SIGSTOPped */
    int api_port, raft_port, proxy_port;
    char api[48];   /* "http://127.0.0.1:P" */
    char *data_dir; /* DIR/sN */
    char *log;      /* DIR/sN.log */
    char **argv;    /* NULL-terminated; the same on every restart */
    char **envp;    /* the environment it runs with, NULL-terminated */
    char *disk;     /* DIR/sN.disk, the disk fault hook's control file; NULL: no hook */
    bool foreign;   /* --kubeconfig: a server of a running cluster, not our child */
    char raft_address[64]; /* foreign: its Raft address, as the members list says */
};
/* Whether s runs and is not paused (a foreign server is taken to run). */
bool chaos_server_up(const struct chaos_server *s);

struct chaos_cluster {
    int n;
    struct chaos_server servers[CHAOS_MAX_SERVERS];
    char *dir; /* absolute */
    struct chaos_proxy *proxy;
    int restarts; /* after kills and crashes */
    int crashes;  /* servers that exited by themselves */
    int unrejoined; /* membership faults whose server did not come back */
    const volatile sig_atomic_t *stop; /* the run's interrupt flag (chaos_faults_run) */
    int64_t t0;   /* the run's start (ns), for messages */
    bool attached; /* --kubeconfig: the servers are foreign, no proxy */
    char *bin;     /* this binary, for the hollow nodes */
};

/* How the runner's servers run. */
struct chaos_server_options {
    long watch_history;  /* their --watch-history (changes kept for watches) */
    bool disk_hook;      /* with the disk fault hook (BOSUN_FAULT_DISK,
                            raft/disk_fault.c) on DIR/sN.disk */
    const char *election_timeout; /* their --election-timeout; NULL: theirs */
};

/* chaos_faults.c: the processes. Each returns 0, or -1 after a message. */
int chaos_cluster_init(struct chaos_cluster *c, int n, const char *dir, const char *bin,
                       const struct chaos_server_options *o, char *err, size_t errlen);
int chaos_server_spawn(struct chaos_server *s);
/* chaos_attach.c: --kubeconfig. The server URL of the kubeconfig's current
 * context (or of context, if not NULL) into url; 0, or -1 with why. */
int chaos_kubeconfig_server(const char *path, const char *context, char *url, size_t len,
                            char *err, size_t errlen);
/* The running cluster that url is a server of, as foreign servers (its
 * members from /cluster/status: every one a voter, ids 1..N, N >= 3);
 * 0, or -1 with why. */
int chaos_cluster_attach(struct chaos_cluster *c, const char *url, const char *dir,
                         const char *bin, char *err, size_t errlen);
/* Deletes namespace chaos (what an earlier run left) and waits until it is
 * gone, at most ms; 0, or -1 with why. */
int chaos_namespace_reset(const struct chaos_cluster *c, int ms, char *err, size_t errlen);
/* The leader one live, unpaused server names (0 if none), its term. */
int chaos_cluster_leader(const struct chaos_cluster *c, uint64_t *term);
/* SIGCONT the paused, SIGTERM everyone, SIGKILL after grace_ms; reaps all. */
void chaos_cluster_stop(struct chaos_cluster *c, int grace_ms);
void chaos_cluster_free(struct chaos_cluster *c);

enum chaos_fault_kind {
    CHAOS_F_KILL,             /* kill -9, restart at its end */
    CHAOS_F_PAUSE,            /* SIGSTOP, SIGCONT at its end */
    CHAOS_F_PARTITION,        /* majority/minority split, or a ring (5+) */
    CHAOS_F_PARTITION_LEADER, /* the leader isolated */
    CHAOS_F_DISK,             /* slow or full disk under one server's Raft log */
    CHAOS_F_MEMBERSHIP,       /* a server removed from the cluster, added back */
    CHAOS_F_TRANSFER,         /* leadership moved away through the API */
    CHAOS_NFAULTKIND
};
const char *chaos_fault_kind_name(enum chaos_fault_kind k);
/* A comma-separated list of kind names (or "all") into a bit mask of
 * 1 << kind: 0, or -1 with the first unknown name in err. */
int chaos_fault_kinds_parse(const char *list, unsigned *out, char *err, size_t errlen);

/* A fault's steps after its start (removed, added back, caught up ...),
 * with their times: faults.jsonl's "steps". */
enum { CHAOS_FAULT_STEPS = 6 };
struct chaos_fault_step {
    int64_t t; /* ns */
    char what[80];
};

struct chaos_fault {
    enum chaos_fault_kind kind;
    char what[96];   /* in words: "kill -9 s2 (the leader)" */
    char shape[16];  /* "split", "ring", "isolate" or "" */
    int targets[CHAOS_MAX_SERVERS];
    int ntargets;
    bool leader;     /* aimed at the leader of the moment */
    int64_t start, end; /* ns; end 0 while it lasts */
    struct chaos_fault_step steps[CHAOS_FAULT_STEPS];
    int nsteps;
};
/* Appends a step at the current time (the last one is overwritten when
 * there is no room left). */
void chaos_fault_step(struct chaos_fault *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* faults.jsonl's line for f: a new reference. */
struct json_t *chaos_fault_json(const struct chaos_fault *f);

/* chaos_membership.c: the membership fault. begin removes a server through
 * the API (the leader a third of the time) and records f's start; 0, or -1
 * when it could not (no leader, the change refused). end adds it back with
 * its data and waits until it is a voter that caught up; 0, or -1 if it
 * was not within the bound (a step says so). */
int chaos_membership_begin(struct chaos_cluster *c, struct chaos_rng *rng, struct chaos_fault *f);
int chaos_membership_end(struct chaos_cluster *c, struct chaos_fault *f);

struct chaos_faults {
    struct chaos_fault *f;
    int n, cap;
};

/* Injects faults, one at a time at seeded random intervals, until end_ns or
 * until *stop; each is appended to out and, once ended, to jsonl. Returns
 * with every fault ended (healed, resumed, restarted). kinds: a bit mask of
 * 1 << chaos_fault_kind. */
void chaos_faults_run(struct chaos_cluster *c, unsigned kinds, struct chaos_rng *rng,
                      int64_t end_ns, const volatile sig_atomic_t *stop, struct chaos_faults *out,
                      FILE *jsonl);
void chaos_faults_free(struct chaos_faults *f);

/* The workload (chaos_workload.c): clients threads over the servers. */
enum chaos_workload_kind { CHAOS_W_OBJECTS, CHAOS_W_REGISTER };
struct chaos_workload_options {
    enum chaos_workload_kind kind;
    int clients;
    int keys;
    double rate; /* total ops/s; 0 unlimited */
    int timeout_ms;
    uint64_t seed;
};
struct chaos_workload;
/* Starts the clients on the servers' APIs (round-robin); the register
 * workload creates its keys first. NULL after a message in err. */
struct chaos_workload *chaos_workload_start(const struct chaos_cluster *c,
                                            const struct chaos_workload_options *o, char *err,
                                            size_t errlen);
/* Stops the clients (each finishes or times out its operation). */
void chaos_workload_stop(struct chaos_workload *w);
/* Every recorded operation, one JSON line each; 0 or -1. */
int chaos_workload_write(const struct chaos_workload *w, const char *path);
long long chaos_workload_count(const struct chaos_workload *w);
void chaos_workload_free(struct chaos_workload *w);

/* The watchers (chaos_watcher.c): a thread per server keeps a watch on the
 * workload's ConfigMaps open on that server, resumes it from the last
 * revision it saw whenever it breaks, and writes every line to path
 * (watch.jsonl). NULL after a message in err. */
struct chaos_watchers;
struct chaos_watchers *chaos_watchers_start(const struct chaos_cluster *c, const char *path,
                                            uint64_t seed, long watch_history, char *err,
                                            size_t errlen);
/* A watch stream, shared by the watchers and the controllers' recorders
 * (chaos_watcher.c). chaos_stream_open GETs path on api as a stream
 * (Accept JSON): the stream on 200, else NULL; the HTTP status in *status
 * (0 without an answer). chaos_stream_read hands every whole line to fn
 * (with the time its bytes came) until fn returns non-zero (returned), the
 * stream ends, nothing comes for silent_ms, or *stop: the CHAOS_STREAM_*
 * values, all <= 0. */
struct httpc;
enum { CHAOS_STREAM_EOF = 0, CHAOS_STREAM_BROKEN = -1, CHAOS_STREAM_SILENT = -2,
       CHAOS_STREAM_STOP = -3 };
typedef int (*chaos_stream_line_fn)(void *ctx, const char *text, size_t len, int64_t t);
struct httpc *chaos_stream_open(const char *api, const char *path, int timeout_ms, int *status);
int chaos_stream_read(struct httpc *h, struct ubuf *pending, char *chunk, size_t cap,
                      const atomic_bool *stop, int silent_ms, chaos_stream_line_fn fn,
                      void *ctx);
/* Until every watcher has a stream open, at most ms; whether they all do. */
bool chaos_watchers_ready(struct chaos_watchers *w, int ms, const volatile sig_atomic_t *stop);
/* Until every watcher has delivered its server's current revision (read
 * from /cluster/status now), at most ms; whether they all have. */
bool chaos_watchers_settle(struct chaos_watchers *w, int ms, const volatile sig_atomic_t *stop);
/* Stops and joins the threads, closes the file and frees w; 0, or -1 if
 * the file could not be written. */
int chaos_watchers_stop(struct chaos_watchers *w);

/* The controllers workload (chaos_ctl_run.c): hollow nodes (a `bosun
 * agent` child), a driver thread scaling StatefulSets and ReplicaSets and
 * creating Jobs in namespace chaos, and a recorder per kind writing every
 * change to path (controllers.jsonl). Start after the namespace exists;
 * NULL after a message in err. */
struct chaos_ctl_run;
struct chaos_ctl_run *chaos_ctl_start(const struct chaos_cluster *c, const char *path,
                                      uint64_t seed, char *err, size_t errlen);
/* Stops the driver (with the clients, when the faults end). */
void chaos_ctl_stop_driver(struct chaos_ctl_run *r);
/* After healing: until the controllers have settled (at most ms), then
 * until the recorders have seen the cluster's revision; whether both
 * happened, with a line in notes. Then the nodes stop, so that the
 * servers go quiet for the digests. */
bool chaos_ctl_settle(struct chaos_ctl_run *r, int ms, const volatile sig_atomic_t *stop,
                      struct ubuf *notes);
/* Stops the recorders and the nodes, closes the file, frees r; 0, or -1 if
 * the file could not be written. */
int chaos_ctl_stop(struct chaos_ctl_run *r);

/* The leader of each moment, sampled during the run (chaos_run.c). */
struct chaos_term {
    int64_t t;    /* ns */
    int leader;   /* 0: none known */
    uint64_t term;
};

/* What the report and the figures show (chaos_report.c). */
struct chaos_run_record {
    const struct chaos_history *h;
    const struct chaos_fault *faults;
    int nfaults;
    const struct chaos_term *terms;
    int nterms;
    int servers;
    const char *command; /* how it was run */
    const char *verdict; /* "PASS" | "FAIL" | ... */
    const char *checker_text;
    const char *notes; /* convergence, recovery: text */
};
/* Time from a fault's reference point (its start when a majority stayed
 * connected through it, as with every fault here, else its end) to the
 * completion of the first ok write invoked after it; -1 if none. */
int64_t chaos_fault_unavailability(const struct chaos_history *h, const struct chaos_fault *f);
/* The figures in words: operations by result, faults by kind, and each
 * fault's unavailability. */
void chaos_figures(const struct chaos_run_record *r, struct ubuf *out);
int chaos_report_html(const struct chaos_run_record *r, const char *path);

/* chaos_run.c: `bosun chaos [flags]`. */
int chaos_run_main(int argc, char **argv);

#endif
