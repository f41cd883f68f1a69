/* eviction.c — POST /api/v1/namespaces/{ns}/pods/{name}/eviction: a pod
 * deleted only if its PodDisruptionBudget allows it, as Kubernetes'
 * pkg/registry/core/pod/storage/eviction.go does it (what `kubectl drain`
 * calls for every pod of the node).
 *
 * The body is a policy/v1 (or policy/v1beta1) Eviction: metadata.name must
 * be the pod's (400 otherwise), deleteOptions are a DELETE's (grace
 * period, preconditions, propagation, dryRun). Then:
 *
 *  1. A pod that no budget can protect (Pending, Succeeded, Failed, or
 *     already being deleted) is deleted at once; a non-terminal one with
 *     its read resourceVersion as a precondition (unless the client gave
 *     one), so that it cannot have become Ready in between; a conflict
 *     reads it again.
 *  2. The budgets of the namespace whose selector covers the pod
 *     (kube_pdb_selects): more than one is a 500; none, the pod is deleted.
 *  3. With one budget: an unready pod is deleted without touching the
 *     budget if its unhealthyPodEvictionPolicy is AlwaysAllow, or if the
 *     budget is met (currentHealthy >= desiredHealthy > 0), again
 *     preconditioned on the pod's resourceVersion (a conflict is a 429:
 *     the budget is "still being processed"). Otherwise checkAndDecrement:
 *     a budget whose status lags its generation is a 429 with
 *     retryAfterSeconds 10; disruptionsAllowed 0 is a 429 whose cause
 *     (DisruptionBudget) says how many healthy pods it needs and has;
 *     else disruptionsAllowed is decremented and the pod recorded in
 *     status.disruptedPods at the current time, in one write
 *     preconditioned on the budget's resourceVersion (a conflict reads it
 *     again and decides again), and then the pod is deleted. The
 *     disruption controller (controllers/disruption.c) forgets the entry
 *     once the pod is gone or after 2 minutes.
 *
 * The deletion is write.c's (write_delete_object): a bound pod is marked
 * for graceful deletion, which its node's agent finishes. The
 * DisruptionTarget condition (reason EvictionByEvictionAPI) that Kubernetes
 * writes in an update just before the deletion is set on the marked pod in
 * the same write; a pod deleted at once goes without it. Success is a 201
 * with a Status Success, as Kubernetes' create handler answers. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "server/internal.h"

#define EVICTION_RETRIES 20        /* Kubernetes' EvictionsRetry steps */
#define EVICTION_MAX_DISRUPTED 2000 /* MaxDisruptedPodSize */
#define PDB_RESOURCE "poddisruptionbudgets"
#define VIOLATION_MSG "Cannot evict pod as it would violate the pod's disruption budget."

/* One eviction being served. */
struct eviction {
    struct request *rq;
    const struct api_target *t; /* the pod */
    struct delete_opts opts;    /* the Eviction's deleteOptions */
    bool client_rv;             /* the client set a resourceVersion precondition */
    json_t *pod; /* as last read (owned) */
    uint64_t rev;
};

/* ---- the body ---- */

/* deleteOptions.dryRun as Kubernetes' propagateDryRun merges it with the
 * query's dryRun=All: both set and different is an error. */
static bool eviction_dry_run(json_t *del, bool query, struct delete_opts *o, unsigned *code,
                             char *msg, size_t len)
{
    json_t *body_dr = json_object_get(del, "dryRun"), *v;
    bool body = false;
    size_t i;
    json_array_foreach(body_dr, i, v) body |= json_is_string(v) &&
                                             strcmp(json_string_value(v), "All") == 0;
    if (query && json_array_size(body_dr) && !body) {
        *code = 500;
        snprintf(msg, len, "Non-matching dry-run options in request and content");
        return false;
    }
    o->dry_run = query || body;
    return true;
}

bool eviction_options(json_t *body, const char *ns, const char *name, bool query_dry_run,
                      struct delete_opts *o, unsigned *code, char *msg, size_t len)
{
    assert(json_is_object(body) && ns && name && o);
    memset(o, 0, sizeof *o);
    o->grace = -1;
    *code = 400;
    json_t *md = json_object_get(body, "metadata");
    const char *bns = api_str(md, "namespace");
    if (*bns && strcmp(bns, ns) != 0) {
        snprintf(msg, len, "the namespace of the provided object does not match the namespace "
                 "sent on the request");
        return false;
    }
    if (strcmp(api_str(md, "name"), name) != 0) {
        snprintf(msg, len, "name in URL does not match name in Eviction object");
        return false;
    }
    json_t *del = json_object_get(body, "deleteOptions");
    if (json_is_object(del) && !delete_opts_from_json(del, o, code, msg, len))
        return false;
    return eviction_dry_run(del, query_dry_run, o, code, msg, len);
}

/* Decodes and checks the Eviction; false after replying. */
static bool eviction_parse(struct eviction *ev, enum MHD_Result *ret)
{
    json_t *body = body_decode_object(ev->rq, ret);
    if (!body)
        return false;
    if (strcmp(api_str(body, "apiVersion"), "policy/v1beta1") == 0) /* the same shape */
        json_object_set_new(body, "apiVersion", json_string("policy/v1"));
    bool ok = write_body_check(ev->rq, ev->t, body, "Eviction", "policy/v1", ret);
    unsigned code;
    char msg[512];
    if (ok && !eviction_options(body, ev->t->ns, ev->t->name, api_dry_run(ev->rq), &ev->opts,
                                &code, msg, sizeof msg)) {
        *ret = reply_status(ev->rq, code, code == 422   ? "Invalid"
                                          : code == 500 ? "InternalError"
                                                        : "BadRequest",
                            "%s", msg);
        ok = false;
    }
    ev->client_rv = ev->opts.pre_rev != 0;
    json_decref(body);
    return ok;
}

/* ---- replies ---- */

static enum MHD_Result eviction_reply_ok(struct eviction *ev)
{
    json_t *st = kube_status(201, "", "");
    json_object_del(st, "reason");
    json_object_del(st, "message");
    return reply_json(ev->rq, 201, st);
}

/* A 429 TooManyRequests with one DisruptionBudget cause. */
static enum MHD_Result eviction_reply_429(struct eviction *ev, long retry_after, const char *fmt,
                                          ...) __attribute__((format(printf, 3, 4)));
static enum MHD_Result eviction_reply_429(struct eviction *ev, long retry_after, const char *fmt,
                                          ...)
{
    char cause[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cause, sizeof cause, fmt, ap);
    va_end(ap);
    json_t *st = kube_status(429, "TooManyRequests", VIOLATION_MSG);
    json_t *details = json_pack("{s:[{s:s, s:s}]}", "causes", "reason", "DisruptionBudget",
                                "message", cause);
    if (retry_after > 0)
        json_object_set_new(details, "retryAfterSeconds", json_integer(retry_after));
    json_object_set_new(st, "details", details);
    return reply_json(ev->rq, 429, st);
}

/* createTooManyRequestsError: the budget's status is behind. */
static enum MHD_Result eviction_reply_processing(struct eviction *ev, const char *pdb)
{
    return eviction_reply_429(ev, 10, "The disruption budget %s is still being processed by the "
                              "server.", pdb);
}

/* errors.NewForbidden(policy.Resource("poddisruptionbudget"), name, why). */
static enum MHD_Result eviction_reply_forbidden(struct eviction *ev, const char *pdb,
                                                const char *why)
{
    char msg[600];
    snprintf(msg, sizeof msg, "poddisruptionbudget.policy \"%s\" is forbidden: %s", pdb, why);
    json_t *st = kube_status(403, "Forbidden", msg);
    json_object_set_new(st, "details", json_pack("{s:s, s:s, s:s}", "name", pdb, "group",
                                                 "policy", "kind", "poddisruptionbudget"));
    return reply_json(ev->rq, 403, st);
}

/* ---- the pod ---- */

/* Reads the pod into ev (linearizable: the caller caught up first); false
 * after replying 404/500. */
static bool eviction_read_pod(struct eviction *ev, enum MHD_Result *ret)
{
    char uid[64];
    json_decref(ev->pod);
    ev->pod = NULL;
    int rc = api_read_current(ev->rq->srv, ev->t, &ev->pod, &ev->rev, uid, sizeof uid);
    if (rc == STORE_NOT_FOUND)
        *ret = api_reply_not_found(ev->rq, ev->t, ev->t->name);
    else if (rc != 0)
        *ret = reply_status(ev->rq, 500, "InternalError", "cannot read the store");
    return rc == 0;
}

static const char *pod_phase(json_t *pod)
{
    return api_str(json_object_get(pod, "status"), "phase");
}

static bool pod_deleting(json_t *pod)
{
    return json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL;
}

/* canIgnorePDB: terminal, Pending or already being deleted. */
static bool pod_ignores_pdb(json_t *pod)
{
    const char *phase = pod_phase(pod);
    return !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed") || !strcmp(phase, "Pending") ||
           pod_deleting(pod);
}

/* shouldEnforceResourceVersion: not terminal, not being deleted. */
static bool pod_enforces_rv(json_t *pod)
{
    const char *phase = pod_phase(pod);
    return strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0 && !pod_deleting(pod);
}

/* The DisruptionTarget condition Kubernetes sets before the deletion. */
static void pod_mark_disrupted(json_t *pod, void *arg)
{
    kube_pod_condition_set(pod, "DisruptionTarget", "True", "EvictionByEvictionAPI",
                           "Eviction API: evicting", arg);
}

/* Deletes the pod with ev's options, preconditioned on rev if not 0. */
static void eviction_delete(struct eviction *ev, uint64_t rev, struct del_result *dr)
{
    char now[32];
    util_time_rfc3339(now, sizeof now);
    struct delete_opts o = ev->opts;
    if (rev)
        o.pre_rev = rev;
    o.on_mark = pod_mark_disrupted;
    o.on_mark_arg = now;
    write_delete_object(ev->rq, ev->t, &o, dr);
}

static bool deleted(const struct del_result *dr)
{
    return dr->outcome == DEL_GONE || dr->outcome == DEL_MARKED ||
           dr->outcome == DEL_ALREADY_MARKED;
}

/* Step 1: a pod no budget protects goes at once. Returns 1 after replying
 * (deleted, or failed), 0 when the budgets must decide (ev->pod read). */
static int eviction_unprotected(struct eviction *ev, enum MHD_Result *ret)
{
    for (int attempt = 0; attempt < EVICTION_RETRIES; attempt++) {
        if (!eviction_read_pod(ev, ret))
            return 1;
        if (!pod_ignores_pdb(ev->pod))
            return 0;
        bool pin = pod_enforces_rv(ev->pod) && !ev->client_rv;
        struct del_result dr;
        eviction_delete(ev, pin ? ev->rev : 0, &dr);
        json_decref(dr.obj);
        if (deleted(&dr)) {
            *ret = eviction_reply_ok(ev);
            return 1;
        }
        if (dr.outcome != DEL_CONFLICT || ev->client_rv) {
            *ret = write_delete_failed(ev->rq, ev->t, &dr);
            return 1;
        }
    }
    *ret = api_reply_conflict(ev->rq, ev->t, ev->t->name);
    return 1;
}

/* ---- the budgets ---- */

struct pdb_scan {
    json_t *pod;
    json_t *found; /* the budgets covering the pod */
};

static int pdb_scan_one(void *arg, const struct store_obj *o)
{
    struct pdb_scan *sc = arg;
    json_t *pdb = object_render(o, o->mod_rev);
    if (pdb && kube_pdb_selects(pdb, sc->pod))
        json_array_append(sc->found, pdb);
    json_decref(pdb);
    return 0;
}

/* getPodDisruptionBudgets: the budgets of the pod's namespace covering it
 * (a new array), or NULL if the store cannot be read. */
static json_t *eviction_budgets(struct eviction *ev)
{
    struct store_read r;
    if (store_read_begin(ev->rq->srv->store, &r) != 0)
        return NULL;
    struct pdb_scan sc = {ev->pod, json_array()};
    store_list(&r, PDB_RESOURCE, ev->t->ns, pdb_scan_one, &sc);
    store_read_end(&r);
    return sc.found;
}

static json_int_t pdb_status_int(json_t *pdb, const char *k)
{
    return json_integer_value(json_object_get(json_object_get(pdb, "status"), k));
}

/* An unready pod the budget lets go without counting it. */
static bool pdb_lets_unready_go(json_t *pdb)
{
    const char *policy = api_str(json_object_get(pdb, "spec"), "unhealthyPodEvictionPolicy");
    json_int_t desired = pdb_status_int(pdb, "desiredHealthy");
    return strcmp(policy, "AlwaysAllow") == 0 ||
           (pdb_status_int(pdb, "currentHealthy") >= desired && desired > 0);
}

/* checkAndDecrement's refusals: true after replying (429, 403). */
static bool pdb_refuses(struct eviction *ev, json_t *pdb, const char *name, enum MHD_Result *ret)
{
    json_int_t gen = json_integer_value(json_object_get(json_object_get(pdb, "metadata"),
                                                        "generation"));
    json_int_t allowed = pdb_status_int(pdb, "disruptionsAllowed");
    json_t *disrupted = json_object_get(json_object_get(pdb, "status"), "disruptedPods");
    if (pdb_status_int(pdb, "observedGeneration") < gen)
        *ret = eviction_reply_processing(ev, name);
    else if (allowed < 0)
        *ret = eviction_reply_forbidden(ev, name, "pdb disruptions allowed is negative");
    else if (json_object_size(disrupted) > EVICTION_MAX_DISRUPTED)
        *ret = eviction_reply_forbidden(ev, name, "DisruptedPods map too big - too many "
                                        "evictions not confirmed by PDB controller");
    else if (allowed == 0)
        *ret = eviction_reply_429(ev, 0, "The disruption budget %s needs %lld healthy pods and "
                                  "has %lld currently", name,
                                  (long long)pdb_status_int(pdb, "desiredHealthy"),
                                  (long long)pdb_status_int(pdb, "currentHealthy"));
    else
        return false;
    return true;
}

/* The budget with one disruption taken by the pod, as checkAndDecrement
 * writes it (the caller checked that it allows one). */
static json_t *pdb_decremented(struct eviction *ev, json_t *pdb)
{
    json_int_t allowed = pdb_status_int(pdb, "disruptionsAllowed");
    assert(allowed > 0);
    char now[32];
    util_time_rfc3339(now, sizeof now);
    json_t *next = json_deep_copy(pdb), *st = json_object_get(next, "status");
    json_object_set_new(st, "disruptionsAllowed", json_integer(allowed - 1));
    if (allowed == 1)
        kube_pdb_condition_update(next, now);
    if (!json_is_object(json_object_get(st, "disruptedPods")))
        json_object_set_new(st, "disruptedPods", json_object());
    json_object_set_new(json_object_get(st, "disruptedPods"), ev->t->name, json_string(now));
    json_object_del(json_object_get(next, "metadata"), "resourceVersion");
    return next;
}

/* Proposes the budget's new status over revision rev: the store's code,
 * or -1 with the cluster's failure in cr. */
static int pdb_propose(struct eviction *ev, json_t *next, const struct api_target *pt, uint64_t rev,
                       struct cluster_result *cr)
{
    struct store_cmd cmd = {.op = STORE_OP_UPDATE, .resource = PDB_RESOURCE, .ns = pt->ns,
                            .name = pt->name, .expect_rev = rev};
    server_submit_object(ev->rq->srv, &cmd, next, cr);
    return cr->code == CLUSTER_OK ? cr->res.code : -1;
}

/* Step 3's verify-and-decrement, retried on conflicts: 0 when the budget
 * took the disruption (or would have, on a dry run), else 1 after
 * replying. */
static int pdb_take_disruption(struct eviction *ev, const char *name, enum MHD_Result *ret)
{
    struct api_target pt = {.res = resource_find("policy", "v1", PDB_RESOURCE)};
    assert(pt.res);
    snprintf(pt.ns, sizeof pt.ns, "%s", ev->t->ns);
    snprintf(pt.name, sizeof pt.name, "%s", name);
    for (int attempt = 0; attempt < EVICTION_RETRIES; attempt++) {
        json_t *pdb = NULL;
        uint64_t rev;
        char uid[64];
        int rc = api_read_current(ev->rq->srv, &pt, &pdb, &rev, uid, sizeof uid);
        if (rc == STORE_NOT_FOUND) {
            *ret = api_reply_not_found(ev->rq, &pt, name);
            return 1;
        }
        if (rc != 0) {
            *ret = reply_status(ev->rq, 500, "InternalError", "cannot read the store");
            return 1;
        }
        json_t *next = pdb_refuses(ev, pdb, name, ret) ? NULL : pdb_decremented(ev, pdb);
        json_decref(pdb);
        if (!next)
            return 1;
        struct cluster_result cr;
        rc = ev->opts.dry_run ? STORE_OK : pdb_propose(ev, next, &pt, rev, &cr);
        json_decref(next);
        if (rc == STORE_OK)
            return 0;
        if (rc == -1) {
            *ret = api_reply_cluster_failure(ev->rq, &cr);
            return 1;
        }
        if (rc == STORE_NOT_FOUND) {
            *ret = api_reply_not_found(ev->rq, &pt, name);
            return 1;
        }
        /* A conflict: someone wrote the budget first; decide again on a
         * fresh read. */
        if (api_read_fresh(ev->rq, ret) != 0)
            return 1;
    }
    json_t *st = kube_status(504, "Timeout", "");
    char msg[400];
    snprintf(msg, sizeof msg, "couldn't update PodDisruptionBudget \"%s\" due to conflicts", name);
    json_object_set_new(st, "message", json_string(msg));
    json_object_set_new(st, "details", json_pack("{s:i}", "retryAfterSeconds", 10));
    *ret = reply_json(ev->rq, 504, st);
    return 1;
}

/* Steps 2 and 3, then the deletion. */
static enum MHD_Result eviction_with_budgets(struct eviction *ev)
{
    enum MHD_Result ret;
    json_t *pdbs = eviction_budgets(ev);
    if (!pdbs)
        return reply_status(ev->rq, 500, "InternalError", "cannot read the store");
    if (json_array_size(pdbs) > 1) { /* a Status without a reason, as Kubernetes' */
        json_decref(pdbs);
        json_t *st = kube_status(500, "", "This pod has more than one PodDisruptionBudget, which "
                                "the eviction subresource does not support.");
        json_object_del(st, "reason");
        return reply_json(ev->rq, 500, st);
    }
    json_t *pdb = json_array_get(pdbs, 0);
    char name[256] = "";
    bool pin = false; /* an unready pod let go: it must still be unready */
    if (pdb) {
        snprintf(name, sizeof name, "%s", api_str(json_object_get(pdb, "metadata"), "name"));
        pin = !kube_pod_ready(ev->pod) && pdb_lets_unready_go(pdb);
    }
    json_decref(pdbs);
    if (*name && !pin && pdb_take_disruption(ev, name, &ret) != 0)
        return ret;
    struct del_result dr;
    eviction_delete(ev, pin ? ev->rev : 0, &dr);
    json_decref(dr.obj);
    if (deleted(&dr))
        return eviction_reply_ok(ev);
    if (dr.outcome == DEL_CONFLICT && pin && !ev->client_rv)
        return eviction_reply_processing(ev, name);
    return write_delete_failed(ev->rq, ev->t, &dr);
}

enum MHD_Result eviction_create(struct request *rq, const struct api_target *t)
{
    assert(strcmp(t->res->plural, "pods") == 0 && t->name[0]);
    struct eviction ev = {.rq = rq, .t = t, .opts = {.grace = -1}};
    enum MHD_Result ret;
    if (!eviction_parse(&ev, &ret))
        return ret;
    /* Kubernetes reads the pod and the budgets from etcd: a linearizable
     * read here, so that a follower decides on the leader's state. */
    if (api_read_fresh(rq, &ret) != 0)
        return ret;
    if (eviction_unprotected(&ev, &ret) == 0)
        ret = eviction_with_budgets(&ev);
    json_decref(ev.pod);
    return ret;
}
