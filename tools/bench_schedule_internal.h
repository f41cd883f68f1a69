/* bench_schedule_internal.h — what the files of `bosun bench schedule` share
 * (private to tools/bench_schedule*.c; the command's entry point is in
 * tools.h).
 *
 *   bench_schedule.c           flags, the run from start to end, the creators,
 *                              the progress line
 *   bench_schedule_procs.c     the processes: the cluster (`bosun up`/`down`),
 *                              the hollow nodes (`bosun agent`), the leader's
 *                              pid and CPU time
 *   bench_schedule_workload.c  the presets: node groups and pod bodies
 *   bench_schedule_watch.c     the watch thread that sees every binding
 *   bench_schedule_check.c     the invariants, from the final state
 *   bench_schedule_report.c    the figures, the report, JSON and the SVG plot
 *
 * One struct bsch_run holds a run's state; it lives on main's stack and is
 * shared with the threads (creators, watch) through the atomics below. */
#ifndef BOSUN_TOOLS_BENCH_SCHEDULE_INTERNAL_H
#define BOSUN_TOOLS_BENCH_SCHEDULE_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "tools/tools.h"
#include "util/util.h"

enum {
    BSCH_MAX_GROUPS = 4,   /* node groups = `bosun agent` processes */
    BSCH_MAX_SHAPES = 8,   /* pod bodies of a workload */
    BSCH_MAX_PHASES = 2,   /* preemption: fill, then measure */
    BSCH_MAX_SERVERS = 64,
    BSCH_NODE_CPU_MILLI = 4000, /* every hollow node: --cpu 4 --memory 32Gi --pods 110 */
    BSCH_NODE_PODS = 110,
    BSCH_ZONES = 3,
};
#define BSCH_NODE_MEMORY_BYTES (32LL << 30)

/* The label every node and pod of a run carries, with the run's id. */
#define BSCH_LABEL_RUN "bench.bosun.dev/run"
#define BSCH_LABEL_POOL "bench.bosun.dev/pool"
#define BSCH_LABEL_GROUP "bench.bosun.dev/group"
#define BSCH_TAINT_KEY "bench.bosun.dev/dedicated"
/* Placeholders in a pod shape, replaced per pod (bsch_pod_render). */
#define BSCH_PH_NAME "@@NAME@@"
#define BSCH_PH_GROUP "@@GROUP@@"

struct bsch_options {
    long long nodes, pods;
    int servers;              /* to start; 0 with --server or --kubeconfig */
    const char *server_list;  /* --server */
    const char *kubeconfig;
    const char *pod_template;
    const char *preset;
    double create_rate;       /* pods per second, 0: as fast as the clients go */
    int clients;
    int threads;              /* event loops the clients share */
    const char *json_path, *plot_path;
    long timeout_ms;
    int base_port;            /* 0: pick a free one */
    const char *bin;          /* the bosun binary for up/down/agent; NULL: this one */
    const char *ns;
    bool keep;
};

/* One `bosun agent --hollow` process and what its nodes look like. */
struct bsch_node_group {
    long long count;
    char name[8];        /* a, b, c: in the node names */
    char labels[192];    /* extra k=v,... (the run label is added) */
    char taints[128];    /* key=value:Effect,... or "" */
};

/* A contiguous range of pods created together. The preemption preset
 * first fills the nodes with low-priority pods (not measured), then
 * measures the high-priority ones. */
struct bsch_phase {
    const char *name;    /* "fill" or "measure" */
    long long first, count;
    bool measured;
    /* creators */
    _Atomic long long next;       /* tickets handed out */
    _Atomic long long sent, created, failed;
    /* the watch */
    _Atomic long long bound, gone; /* gone: deleted before being bound */
    uint64_t start_us;            /* the phase's first POST */
};

struct bsch_workload {
    const char *preset;
    struct bsch_node_group groups[BSCH_MAX_GROUPS];
    int n_groups;
    char *shapes[BSCH_MAX_SHAPES]; /* pod JSON with placeholders */
    int n_shapes;                  /* measured pods cycle through shapes[first_measured..] */
    int fill_shape;                /* -1, or the fill pods' shape */
    int first_measured;
    long long group_size;          /* pods per group label value */
    bool priority_classes;         /* bench-low and bench-high are needed */
    bool skipped;                  /* the server lacks what the preset needs */
    struct bsch_phase phases[BSCH_MAX_PHASES];
    int n_phases;
};

/* What is known of one pod. Creators write sent/answered/status/created_ts
 * of their own pods; the watch thread writes node/bound/rebinds/deleted.
 * The main thread reads the atomic ones while the run goes on (is the phase
 * done?), the rest only after the writers are joined. */
struct bsch_pod {
    uint64_t sent_us;       /* the first POST sent (util_now_us); 0: never */
    uint64_t due_us;        /* under --create-rate, when that POST was due; 0: none */
    uint64_t answered_us;   /* its 201 */
    _Atomic uint64_t bound_us; /* the first watch event with spec.nodeName */
    int64_t created_ts;     /* metadata.creationTimestamp, Unix seconds; 0 unknown */
    int32_t node;           /* index in run->nodes; -1 while unbound */
    _Atomic int16_t status; /* the POST's final HTTP status (0: no answer) */
    uint8_t rebinds;        /* nodeName changed (or was cleared) after binding */
    _Atomic uint8_t deleted;
};

/* Interned strings: node names, label sets, constraint shapes. */
struct bsch_names {
    char **names;
    uint32_t *slots;        /* open addressing: index + 1, 0 empty */
    size_t n, cap, n_slots;
};
int bsch_names_intern(struct bsch_names *t, const char *s, size_t len);
int bsch_names_find(const struct bsch_names *t, const char *s, size_t len);
void bsch_names_free(struct bsch_names *t);

/* The CPU seconds of the processes the report names. */
struct bsch_cpu {
    pid_t pid;
    pid_t tid; /* one thread of pid, or 0 for the whole process */
    double before, after;
};

struct bsch_run {
    const struct bsch_options *o;
    char id[9];                   /* random hex: labels, node names */
    char *dir;                    /* our temporary directory */
    bool own_cluster;             /* started with bosun up: stop it at the end */
    char *bin;                    /* absolute path of the binary we run */
    char *servers[BSCH_MAX_SERVERS];
    int n_servers;
    int base_port;
    int sigfd;                    /* SIGINT/SIGTERM, read by the main thread */
    sigset_t child_mask;          /* the signal mask children get back */
    _Atomic bool stop;            /* interrupted, or timed out: threads return */
    struct bsch_workload wl;
    int name_digits;
    struct bsch_pod *pods;
    long long n_pods;             /* every phase */
    struct bsch_names nodes;      /* node names seen by the watch */
    /* processes */
    pid_t agents[BSCH_MAX_GROUPS];
    int n_agents;
    int agents_unclean;           /* did not exit 0 on SIGTERM */
    /* the watch */
    pthread_t watch_thread;
    bool watch_started;
    char watch_rv[32];            /* where the watch (re)starts */
    _Atomic bool watch_ready;     /* the stream is open */
    _Atomic long long watch_events, watch_reconnects, watch_relists;
    /* CPU: the leader, every server we know the pid of, the agents, us */
    int leader_id, leader_id_after;
    char leader_api[128];
    struct bsch_cpu leader;
    struct bsch_cpu sched; /* the leader's "scheduler" thread */
    struct bsch_cpu ctl;   /* the leader's "controllers" thread */
    struct bsch_cpu server_cpu[BSCH_MAX_SERVERS];
    int n_server_cpu;
    struct bsch_cpu agent_cpu[BSCH_MAX_GROUPS];
    double self_cpu_before, self_cpu_after;
    /* the end */
    bool timed_out, interrupted;
    uint64_t end_us;
    long long pc_missing;          /* priority classes could not be created */
};

/* A phase of pod i (which is in exactly one). */
struct bsch_phase *bsch_phase_of(struct bsch_run *r, long long i);

/* ---- bench_schedule.c ---- */
/* Prints "bosun bench schedule: ..." to stderr. */
void bsch_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether SIGINT/SIGTERM arrived (sets r->stop and r->interrupted). */
bool bsch_interrupted(struct bsch_run *r);
/* The pod name of index i into buf (bench-000001 for 0). */
void bsch_pod_name(const struct bsch_run *r, long long i, char *buf, size_t len);
/* The index of a pod name of this run, or -1. */
long long bsch_pod_index(const struct bsch_run *r, const char *name, size_t len);
/* A JSON document from any server (tried in turn); NULL if none answers 200. */
json_t *bsch_get_json(const struct bsch_run *r, const char *path, int timeout_ms);
double bsch_self_cpu(void);

/* ---- bench_schedule_procs.c ---- */
int bsch_cluster_start(struct bsch_run *r);
void bsch_cluster_stop(struct bsch_run *r);
int bsch_servers_from_kubeconfig(struct bsch_run *r, const char *path);
void bsch_servers_from_list(struct bsch_run *r, const char *list);
/* Adds the API URLs of the members the servers name. */
void bsch_servers_discover(struct bsch_run *r);
int bsch_agents_start(struct bsch_run *r);
/* Reaps agents that have exited; the number still running. */
int bsch_agents_alive(struct bsch_run *r, bool report);
/* Stops them; the number that did not exit 0 on SIGTERM (reported). */
int bsch_agents_stop(struct bsch_run *r);
/* Finds the leader (r->leader_id, r->leader_api); 0, or -1 if none. */
int bsch_leader_find(struct bsch_run *r, int *id);
/* Samples the CPU of the leader, the servers, the agents and this process:
 * before the measured phase (after = false) and after it. */
void bsch_cpu_sample(struct bsch_run *r, bool after);
/* utime + stime of a process in seconds, or -1. */
double bsch_proc_cpu(pid_t pid);
double bsch_thread_cpu(pid_t pid, pid_t tid);
/* The tid of pid's thread named name (its comm), or 0. */
pid_t bsch_thread_find(pid_t pid, const char *name);

/* ---- bench_schedule_workload.c ---- */
/* Lists the presets for --help. */
void bsch_presets_usage(FILE *f);
bool bsch_preset_known(const char *name);
/* Builds r->wl from the options: node groups, shapes, phases. Returns 0, or
 * 2 after a one-line message (an infeasible size, a bad template). */
int bsch_workload_build(struct bsch_run *r);
void bsch_workload_free(struct bsch_workload *wl);
/* The body of pod i into b (NUL-terminated). */
void bsch_pod_render(const struct bsch_run *r, long long i, struct ubuf *b);
/* Creates the PriorityClasses the workload needs; 0, 1 if the server does
 * not serve them (the preset is skipped), -1 on another error. */
int bsch_priority_classes_ensure(struct bsch_run *r);

/* ---- bench_schedule_watch.c ---- */
/* The revision to start from (a LIST of the namespace); 0 or -1. */
int bsch_watch_prepare(struct bsch_run *r);
int bsch_watch_start(struct bsch_run *r);
void bsch_watch_stop(struct bsch_run *r);

/* ---- bench_schedule_check.c ---- */
struct bsch_checks {
    bool ran;                  /* the final state could be read */
    long long nodes_seen, pods_seen;
    long long unbound;         /* pods created and never bound (not deleted) */
    long long rebound;         /* pods whose nodeName changed in the watch */
    long long missing_node;    /* bound to a node that does not exist */
    long long overcommitted;   /* nodes over allocatable cpu, memory or pods */
    long long selector;        /* nodeSelector or required node affinity not met */
    long long taints;          /* on a node with a taint it does not tolerate */
    long long anti_affinity;   /* pods sharing a topology domain with a pod they repel */
    long long spread;          /* spread constraints whose skew is over maxSkew */
    long long watch_mismatch;  /* the watch and the final state disagree on a node */
    char example[512];         /* the first violation, in words */
};
void bsch_checks_run(struct bsch_run *r, struct bsch_checks *c);
bool bsch_checks_ok(const struct bsch_checks *c);
/* A Kubernetes quantity in milli-units (ceil); -1 if malformed. */
long long bsch_quantity_milli(const char *s);

/* ---- bench_schedule_report.c ---- */
struct bsch_bucket {
    double t;                    /* seconds since the first create, bucket start */
    long long created, bound;    /* cumulative at the bucket's end */
    uint32_t p50, p99;           /* create->bound of the pods bound in it, us */
    long long n;
};
struct bsch_figures {
    long long pods, created, bound, failed, deleted;
    long long fill_deleted;      /* fill pods deleted (preempted) */
    double seconds;              /* first create -> last bind */
    double rate;
    double steady_rate, steady_seconds;
    /* Under --create-rate: the pods created (by their due time) but not
     * yet bound when half and when nine tenths of them were due; -1 unknown */
    long long backlog_half, backlog_late;
    double create_seconds, create_rate;
    struct bench_lat lat;         /* create -> bound */
    struct bench_lat post;        /* POST -> 201 */
    struct bench_lat lag;         /* under --create-rate: due -> first POST sent */
    int fail_status[8];
    long long fail_count[8];
    int n_fail;
    double leader_cpu_s, servers_cpu_s, agents_cpu_s, self_cpu_s;
    double cpu_ms_per_pod;       /* leader CPU / bound; < 0 unknown */
    double sched_cpu_s, sched_ms_per_pod; /* the scheduler thread's; < 0 unknown */
    double ctl_cpu_s, ctl_ms_per_pod;     /* the controllers thread's; < 0 unknown */
    int64_t first_created_ts, last_created_ts;
    struct bsch_bucket *buckets;
    int n_buckets;
    double bucket_s;
};
/* When a pod's latency starts: its due time under --create-rate (so a
 * load generator that falls behind adds its lag instead of hiding it),
 * else its first POST. 0: never sent. */
static inline uint64_t bsch_pod_start_us(const struct bsch_pod *p)
{
    return p->due_us && p->due_us < p->sent_us ? p->due_us : p->sent_us;
}
void bsch_figures_compute(struct bsch_run *r, struct bsch_figures *f);
void bsch_figures_free(struct bsch_figures *f);
void bsch_report_print(FILE *out, const struct bsch_run *r, const struct bsch_figures *f,
                       const struct bsch_checks *c);
int bsch_report_json(const char *path, const struct bsch_run *r, const struct bsch_figures *f,
                     const struct bsch_checks *c);
int bsch_report_svg(const char *path, const struct bsch_run *r, const struct bsch_figures *f);

#endif
