/* controllers — what the elected leader does to make objects behave as in
 * Kubernetes: the shared runtime (runtime.c) and one file per controller.
 *
 * The runtime runs one thread on every server; it works only while this
 * server leads. On winning an election it rebuilds its view from this
 * replica (a full pass of every controller), then follows the replica's
 * change stream: each change is offered to every controller, which queues
 * the keys it must look at; the queued keys are then synced one by one,
 * level-triggered (a sync looks at the current state, not at the event), and
 * a full pass runs again every CTL_RESYNC_MS in case something was missed.
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
};

struct controllers *controllers_start(const struct controllers_config *cfg);
void controllers_stop(struct controllers *c);

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
 * one. Best effort: a failure is logged, never fatal. */
void ctl_event(struct ctl *c, const char *resource, json_t *obj, const char *type,
               const char *reason, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Calls fn for every stored object of every API resource in ns (NULL: all)
 * whose encoding contains the bytes of needle (NULL: every object), with
 * the object decoded; needle "" calls fn for every object with obj NULL
 * (keys and uid only, nothing decoded). */
typedef void (*ctl_obj_fn)(struct ctl *c, void *arg, const char *resource,
                           const struct store_obj *o, json_t *obj);
void ctl_each_object(struct ctl *c, const char *ns, const char *needle, ctl_obj_fn fn, void *arg);

/* One controller: what it watches and how it syncs a key. */
struct ctl_def {
    const char *name;
    /* Whether a change may concern this controller, judged from the keys
     * and the encoded bytes alone (NULL: every change). Changes no
     * controller wants are never decoded: most writes are pods and
     * leases that only one or two controllers look at. */
    bool (*wants)(const struct store_event *e);
    /* Offered the changes it wants; queues keys with ctl_enqueue. obj is
     * decoded. */
    void (*on_change)(struct ctl *c, const struct store_event *e, json_t *obj);
    /* Syncs one key; false to retry it later (after a backoff). */
    bool (*sync)(struct ctl *c, const char *resource, const char *ns, const char *name);
    /* A full pass over the state (at start and every CTL_RESYNC_MS). */
    void (*resync)(struct ctl *c);
    void (*free_state)(void *state); /* may be NULL */
};

extern const struct ctl_def ctl_garbage_collector; /* gc.c */
extern const struct ctl_def ctl_namespace;         /* namespace.c */
extern const struct ctl_def ctl_node_lifecycle;    /* nodelifecycle.c */

#endif
