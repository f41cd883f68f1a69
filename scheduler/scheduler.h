/* scheduler — the elected leader assigns pending pods to nodes.
 *
 * One thread per server, working only while the server leads (like the
 * controllers): at election, once this replica has applied up to a read
 * index, it builds a cache of every node and pod from the replica, then
 * follows the replica's change stream, not HTTP. Pending
 * pods wait in a queue ordered by priority then arrival; each is run
 * through Kubernetes' filters and scores against the cached nodes, assumed
 * onto the chosen node at once (so the next pod sees that node's capacity
 * taken), and bound in a batch: many bindings, each an update
 * preconditioned on the pod's resourceVersion, in one proposal, so a pod is
 * never bound twice even across failovers. Pods that fit nowhere get a
 * PodScheduled=False condition and a FailedScheduling event, and are
 * retried with backoff when nodes or pods change.
 *
 * The cache and the decision (cache.c, filter.c, score.c, queue.c) are
 * pure and unit-tested; scheduler.c is the thread, the batches and the
 * metrics. */
#ifndef BOSUN_SCHEDULER_H
#define BOSUN_SCHEDULER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "raft/cluster.h"
#include "store/store.h"
#include "util/util.h"

#define SCHED_NAME "default-scheduler"

struct scheduler;

struct scheduler_config {
    struct store *store;
    struct cluster *cluster;
    /* Percentage of nodes to look at before settling on the best feasible
     * one found (kube-scheduler's percentageOfNodesToScore); 0 adapts to the
     * cluster's size as kube-scheduler does (see filter.c). */
    unsigned percentage_of_nodes;
    unsigned batch_max; /* bindings per proposal; default 2048 */
    uint64_t history;   /* the store's change log length (bounds batch_max) */
    char api_url[160];  /* this server's API over loopback (preemption's deletes) */
};

struct scheduler *scheduler_start(const struct scheduler_config *cfg);
void scheduler_stop(struct scheduler *s);

/* Without the thread (the deterministic simulation, tests/sim): new, a
 * turn whenever the caller likes (it never sleeps), free. An idle turn
 * gives in *wait_ms how long nothing falls due unless the store changes. */
enum scheduler_turn {
    SCHEDULER_FOLLOWING, /* not the leader */
    SCHEDULER_CATCHING_UP, /* a new leader whose replica is not caught up yet */
    SCHEDULER_IDLE,      /* leading, nothing to schedule now */
    SCHEDULER_BUSY,      /* leading, more to do at once */
};
struct scheduler *scheduler_new(const struct scheduler_config *cfg);
enum scheduler_turn scheduler_turn(struct scheduler *s, int *wait_ms);
void scheduler_free(struct scheduler *s);
/* Appends the scheduler's metrics in Prometheus' text format. */
void scheduler_metrics(struct scheduler *s, struct ubuf *out);

/* ---- the pure core, also used by the unit tests ---- */

struct sched_cache;
struct sched_pod;
struct sched_node;

struct sched_cache *sched_cache_new(unsigned percentage_of_nodes, uint64_t seed);
void sched_cache_free(struct sched_cache *c);
/* A Node added or changed (the stored object) / removed. node_set returns
 * true when what scheduling looks at changed (a new node, its labels,
 * taints, cordon, readiness or allocatable). */
bool sched_cache_node_set(struct sched_cache *c, json_t *node);
void sched_cache_node_remove(struct sched_cache *c, const char *name);
/* A Pod added or changed at revision rev / removed. Returns the pod when it
 * is waiting to be scheduled by us (no node, not being deleted, not
 * finished, our schedulerName), else NULL. Bound pods are counted on their
 * node; a change at or below the revision the cache already has is
 * ignored. */
struct sched_pod *sched_cache_pod_set(struct sched_cache *c, json_t *pod, uint64_t rev);
void sched_cache_pod_remove(struct sched_cache *c, const char *ns, const char *name);
struct sched_pod *sched_cache_pod(struct sched_cache *c, const char *ns, const char *name);

/* The outcome of one scheduling attempt. */
struct sched_decision {
    struct sched_node *node; /* NULL: fits nowhere */
    unsigned n_nodes;        /* nodes in the cluster */
    unsigned n_checked;      /* nodes run through the filters */
    unsigned n_feasible;     /* of those, nodes that passed */
    char message[1024];      /* "0/5 nodes are available: ..." when node is NULL */
};
void sched_cache_decide(struct sched_cache *c, struct sched_pod *p, struct sched_decision *d);
/* Counts p on node (before its binding is written), and forgets that. */
void sched_cache_assume(struct sched_cache *c, struct sched_pod *p, struct sched_node *node);
void sched_cache_forget(struct sched_cache *c, struct sched_pod *p);
/* After preemption: p's room on node is held for it (counted like a pod)
 * until its next attempt, which first takes the reservation back
 * (unreserve returns the node, NULL if there was none). */
void sched_cache_nominate(struct sched_cache *c, struct sched_pod *p, struct sched_node *node);
struct sched_node *sched_cache_unreserve(struct sched_cache *c, struct sched_pod *p);
/* A preemption victim stops counting on its node now (its deletion is on
 * its way; a failed one brings it back with its next change). */
void sched_cache_forget_counted(struct sched_cache *c, struct sched_pod *p);

const char *sched_node_name(const struct sched_node *n);
const char *sched_pod_node_name(const struct sched_pod *p); /* "" if none */
/* What the cache counts on a node: requests and pods (tests, metrics). */
void sched_node_usage(const struct sched_node *n, int64_t *cpu_milli, int64_t *memory,
                      int64_t *pods);
struct sched_node *sched_cache_node(struct sched_cache *c, const char *name);
unsigned sched_cache_node_count(const struct sched_cache *c);

#endif
