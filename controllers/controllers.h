/* controllers — what the elected leader does to make objects behave as in
 * Kubernetes: the shared runtime (runtime.c) and one file per controller.
 *
 * The runtime runs one thread on every server; it works only while this
 * server leads. On winning an election it rebuilds its view from this
 * replica (a full pass of every controller), then follows the replica's
 * change stream: each change is offered to every controller, which queues
 * the keys it must look at; the queued keys are then synced one by one,
 * level-triggered (a sync looks at the current state, not at the event), and
 * a full pass runs again every CTL_RESYNC_MS in case something was missed,
 * and within a second whenever the change log moved past the stream.
 * Controllers write through the server's own API over loopback HTTP, so
 * their writes get exactly the semantics of a client's (finalizers,
 * preconditions, validation) and are replicated like any other. */
#ifndef BOSUN_CONTROLLERS_H
#define BOSUN_CONTROLLERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "raft/cluster.h"
#include "store/store.h"

#define CTL_RESYNC_MS 30000

struct controllers;

struct controllers_config {
    struct store *store;
    struct cluster *cluster;
    char api_url[160]; /* this server's API, reachable over loopback */
    unsigned node_grace_ms; /* node lifecycle: a Lease older than this is NotReady */
    /* ctl_api_many makes its calls one after another, on the caller's
     * thread (the deterministic simulation's single thread), instead of
     * from CTL_API_PARALLEL threads. */
    bool serial;
};

/* Starts the controllers' thread, which runs controllers_turn in a loop,
 * sleeping while there is nothing to do; controllers_stop ends and frees. */
struct controllers *controllers_start(const struct controllers_config *cfg);
void controllers_stop(struct controllers *c);

/* Without the thread (the deterministic simulation, tests/sim): new, then
 * a turn whenever the caller likes, then free. A turn never sleeps; it
 * says what the thread would do next. */
enum controllers_turn {
    CONTROLLERS_FOLLOWING,    /* not the leader: the pod cache was kept warm */
    CONTROLLERS_CATCHING_UP,  /* a new leader whose replica is not caught up yet */
    CONTROLLERS_IDLE,         /* leading, nothing queued that is due */
    CONTROLLERS_BUSY,         /* leading, more to do at once */
};
struct controllers *controllers_new(const struct controllers_config *cfg);
enum controllers_turn controllers_turn(struct controllers *c);
void controllers_free(struct controllers *c);
/* Appends the controllers' Prometheus metrics: the pod cache's size and
 * revision, on a follower as on the leader. c may be NULL. */
struct ubuf;
void controllers_metrics(struct controllers *c, struct ubuf *out);

/* ---- for the controllers themselves (runtime.c) ---- */

/* Whether the encoded object of o contains the bytes of s (msgpack keeps
 * keys and strings verbatim): a cheap prefilter before decoding. */
bool ctl_obj_has(const struct store_obj *o, const char *s);

struct ctl; /* the runtime as a controller sees it */

/* A key to sync later: "resource/namespace/name" (namespace may be ""). */
void ctl_enqueue(struct ctl *c, const char *controller, const char *resource, const char *ns,
                 const char *name);
/* The same, not to be synced before delay_ms from now (a key already
 * queued keeps the earlier of the two times). */
void ctl_enqueue_after(struct ctl *c, const char *controller, const char *resource,
                       const char *ns, const char *name, unsigned delay_ms);
/* Queues every stored object of resource (a full pass's usual work). */
void ctl_enqueue_all(struct ctl *c, const char *controller, const char *resource);
/* Whether o is an object of resource (its plural, as stored). */
bool ctl_is_resource(const struct store_obj *o, const char *resource);
struct store *ctl_store(struct ctl *c);
/* The controller's own state while this server leads: a slot it fills as it
 * likes; the runtime frees it with the controller's free_state when
 * leadership is lost, so a new term starts from nothing. */
void **ctl_state(struct ctl *c, const char *controller);
unsigned ctl_node_grace_ms(struct ctl *c);
/* A request to the API; returns the HTTP status (-1 on a connection error)
 * and, if out is not NULL, the decoded JSON reply (or NULL). path is
 * absolute ("/api/v1/..."), body JSON or NULL. */
int ctl_api(struct ctl *c, const char *method, const char *path, const char *content_type,
            json_t *body, json_t **out);
/* The API path of an object: "/apis/apps/v1/namespaces/ns/deployments/x". */
bool ctl_object_path(const char *resource, const char *ns, const char *name, char *buf,
                     size_t len);
/* Records an Event about obj (a decoded object of `resource`), as
 * Kubernetes' event recorder does: type "Normal" or "Warning", a reason
 * in CamelCase, a message; a repeat of the same event (same object,
 * reason and message) bumps its count and lastTimestamp instead of adding
 * one, and client-go's EventCorrelator combines similar events and drops
 * spam (events.c). Best effort: a failure is logged, never fatal. Events are written
 * in batches (ctl_api_many) after each round of syncs, or once 256 are
 * pending, so a controller creating a thousand pods does not pay a
 * thousand sequential writes for their Events. */
void ctl_event(struct ctl *c, const char *resource, json_t *obj, const char *type,
               const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Writes the pending Events now (the runtime does it after each round). */
void ctl_events_flush(struct ctl *c);
/* Calls fn for every stored object of every API resource in ns (NULL: all)
 * whose encoding contains the bytes of needle (NULL: every object), with
 * the object decoded; needle "" calls fn for every object with obj NULL
 * (keys and uid only, nothing decoded). */
typedef void (*ctl_obj_fn)(struct ctl *c, void *arg, const char *resource,
                           const struct store_obj *o, json_t *obj);
void ctl_each_object(struct ctl *c, const char *ns, const char *needle, ctl_obj_fn fn, void *arg);

/* ---- what controllers share about objects (objects.c) ---- */

/* The string value of the first map key `key` in the encoded object
 * (msgpack, undecoded), copied into out: a cheap look at one field (a
 * pod's nodeName, phase) in a full pass over many objects. False if no
 * such key holds a string. Keys are unique enough in the kinds it is used
 * on; a caller that needs certainty decodes. */
bool ctl_obj_field(const struct store_obj *o, const char *key, char *out, size_t len);
/* A stored object decoded, with metadata.resourceVersion (kept beside the
 * object, not in it) filled in as the API serves it, so a write of it back
 * is preconditioned on what was read; NULL if malformed. */
json_t *ctl_decode(const struct store_obj *o);
/* A stored pod decoded as controllers see pods (the pod cache, the
 * changes offered): ctl_decode without metadata.managedFields, which no
 * controller reads and which are the largest and costliest part of a small
 * pod to decode and free. A controller's update of a pod that leaves them
 * out keeps the stored ones, as in Kubernetes. */
json_t *ctl_decode_pod(const struct store_obj *o);
/* Only what the controllers' pod_head handlers read of a pod: metadata's
 * name, namespace, uid, labels, ownerReferences, finalizers,
 * deletionTimestamp, spec.nodeName and status.phase. */
json_t *ctl_pod_head(const struct store_obj *o);
/* A string member of o, or "" (never NULL). */
const char *ctl_str(json_t *o, const char *key);
/* The decoded object from this replica, or NULL if absent, with its
 * metadata.resourceVersion filled in (as ctl_list does). On the leader an
 * API write returns after the leader applied it, so a controller reads its
 * own writes here: that is what Kubernetes' "expectations" are for, and why
 * this runtime needs none (a write whose outcome is unknown fails the sync,
 * which is retried after a backoff, by which time the write either applied
 * or never will). */
json_t *ctl_get(struct ctl *c, const char *resource, const char *ns, const char *name);
/* Every stored object of resource in ns (NULL: all namespaces) whose
 * encoding contains needle (NULL: all), decoded with their resourceVersion,
 * as a new JSON array. */
json_t *ctl_list(struct ctl *c, const char *resource, const char *ns, const char *needle);
/* ---- the pod cache (podcache.c) ---- */

/* The pods in ns (NULL: any) whose controller reference names owner_uid,
 * and the pods in ns with no controller, in name order, from the pod
 * cache: decoded once, kept while leading, caught up to this replica's
 * revision on every call (so a controller reads its own writes). The
 * pods are SHARED with the cache: read-only; json_deep_copy one to
 * change it. */
json_t *ctl_pods_owned(struct ctl *c, const char *ns, const char *owner_uid);
json_t *ctl_pods_orphaned(struct ctl *c, const char *ns);
/* For the runtime: the cache of this term (made on first use), its end,
 * and a change offered to the controllers: a pod change the cache has not
 * seen yet is applied and, if decode, its decoded pod returned (shared),
 * else NULL (the cache decodes it if a sync asks for it). */
struct ctl_pod_cache;
struct ctl_pod_cache *ctl_pod_cache(struct ctl *c);
struct ctl_pod_cache *ctl_pod_cache_new(void);
void ctl_pod_cache_free(struct ctl_pod_cache *pc);
/* Builds the pod cache if needed and brings it to the replica's revision:
 * what a follower does to be ready to lead. */
void ctl_pod_cache_warm(struct ctl *c);
/* How many pods it holds and the revision it reached (0, 0 if not built). */
size_t ctl_pod_cache_size(const struct ctl_pod_cache *pc);
uint64_t ctl_pod_cache_revision(const struct ctl_pod_cache *pc);
json_t *ctl_pod_cache_offer(struct ctl_pod_cache *pc, const struct store_event *e, bool decode);
/* The ownerReference of obj with controller: true, or NULL (borrowed). */
json_t *ctl_controller_ref(json_t *obj);
/* A new controller reference to owner: {apiVersion, kind, name, uid,
 * controller: true, blockOwnerDeletion: true}. */
json_t *ctl_owner_ref(json_t *owner, const char *api_version, const char *kind);
/* A new Pod made from a pod template (template.metadata labels,
 * annotations and finalizers, template.spec), in the owner's namespace,
 * controlled by owner. The caller sets metadata.name or generateName. */
json_t *ctl_pod_from_template(json_t *owner, const char *api_version, const char *kind,
                              json_t *tmpl);
/* Pod state as controllers judge it: active = not Succeeded/Failed and not
 * being deleted; ready = condition Ready is True; available = ready for at
 * least min_ready_s seconds at wall time now_ms. */
bool ctl_pod_active(json_t *pod);
bool ctl_pod_ready(json_t *pod);
bool ctl_pod_available(json_t *pod, int64_t min_ready_s, int64_t now_ms);
/* Kubernetes' hash of a pod template (pod-template-hash, controller
 * revision names): FNV-1a 32 of the canonical JSON (keys sorted), plus
 * collision_count if not NULL, encoded with Kubernetes' safe alphabet
 * (no vowels, no look-alike digits). out >= 16 bytes. */
void ctl_template_hash(json_t *tmpl, json_t *collision_count, char *out, size_t len);
/* Sets condition `type` in the array status.conditions (created if
 * missing): lastTransitionTime changes only when the status does;
 * lastUpdateTime (if with_update_time) whenever anything does. Returns
 * whether anything changed. */
bool ctl_condition_set(json_t *status, const char *type, const char *cond_status,
                       const char *reason, const char *message, bool with_update_time);
/* The condition `type` in obj's status.conditions, or NULL (borrowed). */
json_t *ctl_condition_get(json_t *obj, const char *type);
/* Writes obj's status through the /status subresource (PUT, with obj's
 * resourceVersion as precondition); returns the HTTP status. */
int ctl_status_update(struct ctl *c, const char *resource, json_t *obj);

/* Many API calls at once, over up to CTL_API_PARALLEL connections: the
 * server's group commit turns concurrent writes into few Raft entries, so
 * a controller creating a thousand pods pays a few fsyncs, not a thousand.
 * Each call's status (-1 on a connection error) and reply (if want_reply)
 * are filled in; the caller frees reply and body. */
#define CTL_API_PARALLEL 16
struct ctl_call {
    const char *method;
    const char *content_type; /* NULL: application/json */
    char path[512];
    json_t *body;
    bool want_reply;
    int status;
    json_t *reply;
};
void ctl_api_many(struct ctl *c, struct ctl_call *calls, size_t n);

/* One controller: what it watches and how it syncs a key. */
struct ctl_def {
    const char *name;
    /* The Events' source, as Kubernetes names the controller
     * ("deployment-controller"); NULL: "bosun-controller-manager". */
    const char *component;
    /* Whether a change may concern this controller, judged from the keys
     * and the encoded bytes alone (NULL: every change). Changes no
     * controller wants are never decoded: most writes are pods and
     * leases that only one or two controllers look at. */
    bool (*wants)(const struct store_event *e);
    /* Offered the changes it wants; queues keys with ctl_enqueue. obj is
     * decoded: whole, or for a pod only ctl_pod_head's fields if pod_head. */
    void (*on_change)(struct ctl *c, const struct store_event *e, json_t *obj);
    /* on_change reads no more of a pod than ctl_pod_head decodes. When only
     * such controllers want a pod change, the pod is not decoded whole. */
    bool pod_head;
    /* Syncs one key; false to retry it later (after a backoff). */
    bool (*sync)(struct ctl *c, const char *resource, const char *ns, const char *name);
    /* A full pass over the state (at start and every CTL_RESYNC_MS). */
    void (*resync)(struct ctl *c);
    void (*free_state)(void *state); /* may be NULL */
};

extern const struct ctl_def ctl_garbage_collector; /* gc.c */
extern const struct ctl_def ctl_namespace;         /* namespace.c */
extern const struct ctl_def ctl_service_account;   /* serviceaccount.c */
extern const struct ctl_def ctl_node_lifecycle;    /* nodelifecycle.c */
extern const struct ctl_def ctl_replicaset;        /* replicaset.c */
extern const struct ctl_def ctl_deployment;        /* deployment.c */
extern const struct ctl_def ctl_statefulset;       /* statefulset.c */
extern const struct ctl_def ctl_job;               /* job.c */
extern const struct ctl_def ctl_cronjob;           /* cronjob.c */
extern const struct ctl_def ctl_daemonset;         /* daemonset.c */
extern const struct ctl_def ctl_endpoints;         /* endpoints.c */
extern const struct ctl_def ctl_endpointslice;     /* endpointslice.c */
extern const struct ctl_def ctl_taint_eviction;    /* tainteviction.c */
extern const struct ctl_def ctl_pod_gc;            /* podgc.c */
extern const struct ctl_def ctl_volume_binder;     /* volumes.c */
extern const struct ctl_def ctl_autoscaler;        /* autoscaler.c */
extern const struct ctl_def ctl_kubernetes_service; /* kubesvc.c */
extern const struct ctl_def ctl_pvc_protection;    /* protection.c */
extern const struct ctl_def ctl_pv_protection;     /* protection.c */
extern const struct ctl_def ctl_disruption;        /* disruption.c */

#endif
