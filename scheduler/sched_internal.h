/* sched_internal.h — the scheduler's cache structures, shared by cache.c,
 * filter.c, score.c, queue.c and scheduler.c; nothing outside scheduler/
 * includes it. */
#ifndef BOSUN_SCHED_INTERNAL_H
#define BOSUN_SCHED_INTERNAL_H

#include "kube/kube.h"
#include "scheduler/scheduler.h"

enum sched_effect { SCHED_NO_SCHEDULE = 1, SCHED_PREFER_NO_SCHEDULE = 2, SCHED_NO_EXECUTE = 3 };

struct sched_taint {
    char *key;
    char *value;
    int effect; /* enum sched_effect */
};

struct sched_port {
    int port;
    char proto[8];
    char ip[48]; /* "" or 0.0.0.0: every address */
};

struct sched_node {
    char *name;
    json_t *labels; /* an object, never NULL */
    struct sched_taint *taints;
    unsigned n_taints;
    bool unschedulable;
    bool ready;
    bool present;   /* a Node object exists (else only pods point here) */
    int zone;       /* interned topology.kubernetes.io/zone, -1 if none */
    unsigned index; /* position in the cache's node list, when present */
    int64_t alloc_cpu, alloc_mem, alloc_pods;
    int64_t req_cpu, req_mem; /* the pods' requests */
    int64_t nz_cpu, nz_mem;   /* non-zero requests, for scoring */
    struct sched_pod **pods;  /* counted here: bound or assumed */
    unsigned n_pods, cap_pods;
    uint32_t stamp; /* scratch: marks nodes during one decision */
};

/* Where a pod is in the scheduling queues (queue.c). */
enum sched_qstate { SCHED_Q_NONE = 0, SCHED_Q_ACTIVE, SCHED_Q_BACKOFF, SCHED_Q_UNSCHEDULABLE };

struct sched_pod {
    char *key; /* "ns/name" */
    char *ns, *name, *uid;
    uint64_t rev;
    json_t *obj; /* the stored object while pending; NULL once counted */
    struct sched_node *node; /* where it is counted, or NULL */
    unsigned node_slot;      /* its index in node->pods */
    bool assumed;            /* counted by us; the binding is not yet seen */
    struct kube_pod_requests req, nz;
    json_t *labels; /* object, never NULL */
    char *owner;    /* the controller's uid, or NULL */
    int32_t priority;
    struct sched_port *ports;
    unsigned n_ports;
    json_t *anti; /* required podAntiAffinity terms (array), or NULL */
    bool pending;
    /* queue state (queue.c) */
    int qstate;
    size_t heap_idx;
    uint64_t seq;
    uint64_t not_before_ms;
    uint64_t parked_ms;
    unsigned attempts;
    uint64_t first_seen_ms;
    char *last_message; /* the last unschedulable message written */
    bool nominated;     /* counted on node as a reservation after preemption */
    bool never_preempt; /* spec.preemptionPolicy: Never */
    bool finalizers;    /* metadata.finalizers is not empty */
    struct sched_anti_group *anti_group; /* index.c, while counted */
};

/* Per controller (owner uid): its pods per zone, for spreading. */
struct sched_owner {
    unsigned total;
    unsigned *zone_counts;
    unsigned n_zones;
};

struct sched_cache {
    struct umap nodes; /* name -> struct sched_node (present or not) */
    struct sched_node **list; /* present nodes */
    unsigned n_list, cap_list;
    struct sched_node **feasible; /* filter.c's scratch, one decision at a time */
    unsigned cap_feasible;
    struct umap pods;   /* "ns/name" -> struct sched_pod */
    struct umap owners; /* uid -> struct sched_owner */
    char **zones;       /* interned zone names */
    unsigned n_zones;
    struct umap by_label;    /* index.c: "ns\1k=v" -> umap of counted pods */
    struct umap anti_groups; /* index.c: counted pods' anti-affinity groups */
    unsigned percentage;
    unsigned next_start; /* where the next search starts (round robin) */
    uint32_t stamp;
    uint64_t rng;
};

/* cache.c */
const char *sched_str(json_t *o, const char *k);
/* Appends to out the stored pod in buf (msgpack) bound to node at now, as
 * the scheduler writes it: what codec_json_to_msgpack makes of
 * kube_pod_bind's pod less its resourceVersion, made by editing the bytes
 * (bind.c). pod is buf decoded, or the part of it with spec.nodeName,
 * metadata.deletionTimestamp and status.conditions. -1 if the pod has a
 * node or is being deleted, or buf does not decode. */
int sched_bind_encode(const void *buf, size_t len, json_t *pod, const char *node,
                      const char *now, struct ubuf *out);

/* A new Event about a pod, as the scheduler records it (count 1, first and
 * last seen now, source and reporting component the scheduler). */
struct sched_event {
    const char *name, *ns, *uid, *now; /* the Event's */
    const char *pod, *pod_uid;         /* the involved pod's */
    const char *reason, *message, *type, *action;
};

/* Appends the Event's msgpack encoding to out (bind.c): what
 * codec_json_to_msgpack writes for the same object built with jansson. */
void sched_event_encode(const struct sched_event *e, struct ubuf *out);

/* A stored pod (msgpack) decoded for sched_cache_pod_set: all but its
 * managedFields while it has no node, else only the fields the cache
 * counts it by. */
json_t *sched_pod_decode(const void *buf, size_t len);
void sched_node_add_pod(struct sched_cache *c, struct sched_node *n, struct sched_pod *p);
void sched_node_remove_pod(struct sched_cache *c, struct sched_pod *p);
struct sched_owner *sched_owner_get(struct sched_cache *c, const char *uid);
const char *sched_node_label(const struct sched_node *n, const char *key);

/* index.c: the label and anti-affinity indexes over counted pods. */
struct sched_anti_group;
void sched_index_pod(struct sched_cache *c, struct sched_pod *p, bool add);
void sched_index_node_labels(struct sched_cache *c, struct sched_node *n, json_t *old,
                             json_t *now);
void sched_index_free(struct sched_cache *c);
typedef void (*sched_pod_fn)(void *arg, struct sched_pod *q);
/* Every counted pod in ns (NULL: every namespace) that sel matches; ls is
 * sel's LabelSelector JSON, whose matchLabels pick the index to walk. */
void sched_each_selected(struct sched_cache *c, const char *ns, json_t *ls,
                         const struct kube_selector *sel, sched_pod_fn fn, void *arg);
/* Every counted pod other than p that a pod (anti-)affinity term of p
 * selects (its labelSelector within its namespaces; filter.c). */
void sched_term_each(struct sched_cache *c, struct sched_pod *p, json_t *term, sched_pod_fn fn,
                     void *arg);
/* Every (topologyKey, value) domain holding a counted pod whose required
 * anti-affinity terms select p. */
typedef void (*sched_domain_fn)(void *arg, const char *key, const char *value);
void sched_anti_existing(struct sched_cache *c, struct sched_pod *p, sched_domain_fn fn,
                         void *arg);

/* filter.c: runs the filters over the nodes and leaves the feasible ones in
 * out (at most max), counting why the others failed into d->message. */
unsigned sched_filter_nodes(struct sched_cache *c, struct sched_pod *p, struct sched_node **out,
                            unsigned max, struct sched_decision *d);
/* How many feasible nodes to look for among n (kube-scheduler's rule). */
unsigned sched_feasible_wanted(unsigned n, unsigned percentage);
bool sched_node_affinity_match(json_t *pod, const struct sched_node *n);
/* A NodeSelectorTerm (matchExpressions and matchFields) against a node. */
bool sched_node_term_match(json_t *term, const struct sched_node *n);
bool sched_tolerates(json_t *tolerations, const struct sched_taint *t);

/* The filters for one pod, prepared once (the cluster-wide gathering for
 * anti-affinity and spreading) and run on single nodes: preemption asks
 * whether a node would fit the pod with some of its pods gone. */
struct sched_prep;
struct sched_prep *sched_prep_new(struct sched_cache *c, struct sched_pod *p);
bool sched_prep_fits(struct sched_prep *prep, struct sched_pod *p, struct sched_node *n);
void sched_prep_free(struct sched_prep *prep);

/* preempt.c: a node where removing pods of lower priority lets p fit, and
 * the fewest such pods (victims, an array the caller frees); NULL if none. */
struct sched_node *sched_preempt_plan(struct sched_cache *c, struct sched_pod *p,
                                      struct sched_pod ***victims, unsigned *n_victims);

/* score.c: the best of the feasible nodes (ties broken at random). */
struct sched_node *sched_score_pick(struct sched_cache *c, struct sched_pod *p,
                                    struct sched_node **nodes, unsigned n);
/* One node's score parts, for tests: the weighted total. */
int64_t sched_score_node(struct sched_cache *c, struct sched_pod *p, struct sched_node *n);

/* queue.c: the scheduling queue */
#define SCHED_UNSCHEDULABLE_MAX_MS 60000

struct sched_queue {
    struct sched_pod **heap; /* active, by priority then arrival */
    size_t n_active, cap_active;
    struct sched_pod **parked; /* backoff and unschedulable */
    size_t n_parked, cap_parked;
    size_t n_unschedulable;
    uint64_t seq;
    uint64_t next_due; /* earliest due time of a parked pod (queue.c) */
};

/* A pending pod not in the queue goes to the active heap. */
void sched_queue_add(struct sched_queue *q, struct sched_pod *p);
void sched_queue_remove(struct sched_queue *q, struct sched_pod *p);
struct sched_pod *sched_queue_pop(struct sched_queue *q);
/* After a failed attempt (the pod is out of the queue): unschedulable, or
 * an error to retry after the backoff. */
void sched_queue_park(struct sched_queue *q, struct sched_pod *p, bool unschedulable,
                      uint64_t now_ms);
/* Moves the parked pods that are due to the active heap. */
void sched_queue_flush(struct sched_queue *q, uint64_t now_ms);
/* The cluster changed: unschedulable pods become due when their backoff
 * passes. */
void sched_queue_move_all(struct sched_queue *q);
uint64_t sched_queue_next_due(const struct sched_queue *q); /* UINT64_MAX if none */
void sched_queue_free(struct sched_queue *q);

#endif
