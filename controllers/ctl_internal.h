/* ctl_internal.h — the controllers' decision functions, apart from their
 * I/O so unit tests can drive them with hand-built states (tests/unit/
 * test_ctl_*.c). Private to controllers/ and its tests; controllers.h is
 * the module's public header. One section per controller file. */
#ifndef BOSUN_CTL_INTERNAL_H
#define BOSUN_CTL_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "controllers/controllers.h"
#include "util/util.h"

/* ---- queue.c ---- */

#define CTL_MAX_QUEUE 100000

/* A key to sync: "resource/namespace/name", for controller def (an index
 * in the runtime's table). */
struct ctl_work {
    unsigned def;
    char *key;
    uint64_t not_before_ms;
    unsigned backoff_ms; /* the last retry's, doubled on the next failure */
    bool bulk;           /* queued by a full pass only */
};
/* The work queue (queue.c): zeroed is empty. */
struct ctl_queue {
    struct ctl_work *v;
    size_t n, cap;
    struct umap index; /* "def/key" -> 1 + position in v */
};
/* Queues def's key; a key queued already keeps one entry: the earlier
 * time, the larger backoff, and bulk only if both were. */
void ctl_queue_add(struct ctl_queue *q, unsigned def, const char *key, uint64_t not_before_ms,
                   bool bulk, unsigned backoff_ms);
/* Takes the keys due at now_ms of the controllers with may_sync[def] out
 * of the queue, in the order to sync them: those not bulk first. A new
 * array of *n_due entries, each owning its key. */
struct ctl_work *ctl_queue_take_due(struct ctl_queue *q, uint64_t now_ms, const bool *may_sync,
                                    size_t *n_due);
void ctl_queue_clear(struct ctl_queue *q);
void ctl_queue_free(struct ctl_queue *q);

/* ---- events.c ---- */

/* What client-go's EventCorrelator remembers (events.c): zeroed is new. */
struct ctl_correlator {
    struct umap aggregates; /* source, object, type, reason -> distinct messages */
    struct umap buckets;    /* source, object -> spam filter tokens */
};
/* An event to record: its source (the controller's component), the
 * object it is about, and what happened. */
struct ctl_event_about {
    const char *component, *kind, *api_version, *ns, *name, *uid;
    const char *type, *reason, *message;
};
/* Decides about an event at now_ms: false drops it (the spam filter);
 * true fills msg (the message, or the combined one) and name (the Event's
 * name: the same name for the same event, whose count is to grow). */
bool ctl_correlate(struct ctl_correlator *k, const struct ctl_event_about *e, int64_t now_ms,
                   char *msg, size_t msg_len, char *name, size_t name_len);
void ctl_correlator_free(struct ctl_correlator *k);

/* ---- backoff.c ---- */

/* Per-key exponential backoff (backoff.c), Kubernetes' flowcontrol.Backoff:
 * a key is active while less than its delay has passed since it was last
 * stepped; ctl_backoff_next steps it (initial delay, then doubling up to
 * max; initial again once unused for 2 x max). Set up by
 * ctl_backoff_init. */
struct ctl_backoff {
    struct umap keys; /* key -> delay and last step */
    int64_t initial_ms, max_ms;
};
void ctl_backoff_init(struct ctl_backoff *b, int64_t initial_ms, int64_t max_ms);
/* Whether key is in backoff at now_ms; if so *remaining_ms (may be NULL)
 * is how long it still lasts. */
bool ctl_backoff_active(const struct ctl_backoff *b, const char *key, int64_t now_ms,
                        int64_t *remaining_ms);
void ctl_backoff_next(struct ctl_backoff *b, const char *key, int64_t now_ms);
/* Forgets keys unused for 2 x max. */
void ctl_backoff_gc(struct ctl_backoff *b, int64_t now_ms);
void ctl_backoff_free(struct ctl_backoff *b);

/* ---- tainteviction.c ---- */

/* When a pod with these tolerations must leave a node with these taints
 * (Unix ms): 0 if a NoExecute taint is not tolerated at all, the taint's
 * timeAdded (unknown_added_ms for a taint without one) plus the shortest
 * matching tolerationSeconds otherwise (the earliest over the taints),
 * INT64_MAX if it may stay forever. */
int64_t ctl_taint_eviction_time(json_t *tolerations, json_t *taints, int64_t unknown_added_ms);

/* ---- objects.c, podcache.c: claiming (Kubernetes' ControllerRefManager) ---- */

/* What a controller does with an object its selector may claim
 * (ClaimObject), given whether the object matches (the selector and the
 * controller's filter): keep it (ours and matching, even while the owner
 * is being deleted), adopt it (an orphan that matches, not being deleted,
 * in the owner's namespace, the owner not being deleted), release it
 * (ours but no longer matching, the owner not being deleted), or ignore
 * it (someone else's, or nothing to do). */
enum ctl_claim { CTL_CLAIM_IGNORE, CTL_CLAIM_KEEP, CTL_CLAIM_ADOPT, CTL_CLAIM_RELEASE };
enum ctl_claim ctl_claim_decide(json_t *owner, bool match, json_t *obj);
/* AdoptPod's strategic merge patch: {"metadata":{"ownerReferences":[the
 * owner as controller, blockOwnerDeletion], "uid": obj's uid (a
 * precondition: uid is immutable), "finalizers":[finalizer] if not
 * NULL}}. ReleasePod's: {"metadata":{"ownerReferences":[{"$patch":
 * "delete","uid": the owner's}], "uid": obj's,
 * "$deleteFromPrimitiveList/finalizers":[finalizer] if not NULL}}. New. */
json_t *ctl_claim_adopt_patch(json_t *owner, const char *api_version, const char *kind,
                              json_t *obj, const char *finalizer);
json_t *ctl_claim_release_patch(json_t *owner, json_t *obj, const char *finalizer);

/* One sync's claiming of one kind of object (a ControllerRefManager). */
struct kube_selector;
struct ctl_claimer {
    struct ctl *c;
    json_t *owner;                   /* as the sync read it */
    const char *owner_resource;      /* its resource ("jobs"), to read it again */
    const char *api_version, *kind;  /* its apiVersion and kind, for the reference */
    const struct kube_selector *sel; /* its selector */
    bool (*filter)(json_t *owner, json_t *obj); /* more than the selector, or NULL */
    const char *finalizer; /* added on adoption, removed on release; or NULL */
    int can_adopt;         /* the owner's recheck: 0 not made yet, 1 passed, -1 failed */
};
/* Whether obj matches m's selector and filter. */
bool ctl_claim_match(const struct ctl_claimer *m, json_t *obj);
/* ClaimPods (ClaimReplicaSets, ClaimControllerRevisions) over objs, of
 * resource: adopts and releases as ctl_claim_decide says, the first
 * adoption after the owner's recheck. Returns what the owner now controls
 * (a new array; adopted objects as the patch returned them); *ok is
 * cleared if an adoption or release failed (not for an object gone, nor
 * a release refused because the object is another one). */
json_t *ctl_claim(struct ctl_claimer *m, const char *resource, json_t *objs, bool *ok);
/* Of objs, those m's owner keeps without a write (controlled and
 * matching): what a re-read after the sync's own writes still claims. */
json_t *ctl_claim_kept(const struct ctl_claimer *m, json_t *objs);
/* The pods of ns the owner uid controls and those with no controller
 * (from the pod cache; shared, read-only): all a claim can concern. */
json_t *ctl_pods_claimable(struct ctl *c, const char *ns, const char *uid);
/* ClaimPods over those of m's owner (getDaemonPods, getPodsForJob,
 * getPodsForStatefulSet): ctl_claim's result. */
json_t *ctl_claim_pods(struct ctl_claimer *m, bool *ok);
/* ctl_claim_kept over the pods m's owner controls: what it still claims
 * when read again after its own writes (a new array). */
json_t *ctl_pods_kept(const struct ctl_claimer *m);
/* The same for another resource, read from this replica (decoded only if
 * the raw bytes hold the uid or may lack a controller reference). */
json_t *ctl_list_claimable(struct ctl *c, const char *resource, const char *ns, const char *uid);
/* Its prefilter on an encoded object: false only if every "controller"
 * key in it is true (then it has a controller); decoding decides. */
bool ctl_obj_maybe_orphan(const struct store_obj *o);
/* For an orphan: queues (as controller) every object of resource in ns
 * whose non-empty selector matches obj's labels (GetPodReplicaSets,
 * GetPodJobs, ...: they may adopt it). */
void ctl_enqueue_selecting(struct ctl *c, const char *controller, const char *resource,
                           const char *ns, json_t *obj);
/* For a change that left an object without a controller: queues the
 * owner of this kind it had just before, if any (it lost something). */
void ctl_enqueue_previous_owner(struct ctl *c, const struct store_event *e,
                                const char *controller, const char *resource, const char *kind);
/* The controller reference of the version before the change being offered
 * (ctl_enqueue_previous_owner), worked out once for every controller that
 * asks: rev is the change's revision (0: not yet), kind and name are ""
 * when that version had no controller. Kept by the runtime. */
struct ctl_prev_owner {
    uint64_t rev;
    char kind[64];
    char name[256];
};
struct ctl_prev_owner *ctl_prev_owner(struct ctl *c);
/* The owners of one resource in one namespace with their selectors, as
 * ctl_enqueue_selecting lists them while changes are offered: the offered
 * changes share one read transaction, so the list cannot change during the
 * batch and is made once per (resource, namespace) instead of once per
 * orphan pod and controller. Kept by the runtime, emptied after a batch
 * (ctl_selecting_forget). */
struct ctl_selecting {
    char *resource, *ns;
    size_t n;
    char **names;
    struct kube_selector **sels; /* NULL: matches nothing */
};
#define CTL_SELECTING_MAX 32 /* memos in one batch; beyond, lists as before */
struct ctl_selecting_memo {
    size_t n;
    struct ctl_selecting v[CTL_SELECTING_MAX];
};
/* The memo while changes are offered, else NULL. */
struct ctl_selecting_memo *ctl_selecting_memo(struct ctl *c);
void ctl_selecting_forget(struct ctl_selecting_memo *m);
/* A read transaction for a lookup: while changes are offered, the one they
 * are read in (a consistent view at least as new as the change at hand,
 * shared by every on_change), else own, begun here; NULL if none could be
 * begun. Pair with ctl_read_end(r, own). */
struct store_read *ctl_read_begin(struct ctl *c, struct store_read *own);
void ctl_read_end(struct store_read *r, struct store_read *own);

/* ---- replicaset.c, deployment.c ---- */

/* The most pods a ReplicaSet creates or deletes in one sync (Kubernetes'
 * burstReplicas), and the first slow-start batch. */
#define CTL_RS_BURST 500
#define CTL_RS_SLOW_START 1
/* Slow start: the sizes of the batches count creations go in (1, 2, 4,
 * ... the rest); fills sizes (up to max) and returns how many. */
size_t ctl_rs_slow_start(size_t count, size_t initial, size_t *sizes, size_t max);
/* Sorts pods (an array) least valuable first, as Kubernetes picks pods to
 * delete: unassigned, Pending < Unknown < Running, not ready, lower
 * pod-deletion-cost, more pods of related (the pods of every ReplicaSet
 * with the same controller, or NULL) on the same node, ready for less
 * time, more restarts, newer; times compared in log2 buckets of their age
 * at now_ms (wall), ties by uid. */
void ctl_rs_sort_for_deletion(json_t *pods, json_t *related, int64_t now_ms);
/* The status a ReplicaSet should have with these claimed active pods:
 * replicas, fullyLabeledReplicas, readyReplicas, availableReplicas,
 * observedGeneration, and a ReplicaFailure condition when manage_err (the
 * first create/delete error; NULL if none) is set, removed when not. A new
 * object; rs's own status is copied for everything else. */
json_t *ctl_rs_status(json_t *rs, json_t *pods, const char *manage_err, int64_t now_ms);
/* Milliseconds until the next of pods (ready, not yet available for
 * minReadySeconds) becomes available; -1 if none will. */
int64_t ctl_rs_next_available_ms(json_t *rs, json_t *pods, int64_t now_ms);

/* The Deployment's annotations and label (Kubernetes' names). */
#define CTL_DEPLOY_HASH_LABEL "pod-template-hash"
#define CTL_DEPLOY_REVISION "deployment.kubernetes.io/revision"
#define CTL_DEPLOY_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define CTL_DEPLOY_DESIRED "deployment.kubernetes.io/desired-replicas"
#define CTL_DEPLOY_MAX "deployment.kubernetes.io/max-replicas"
#define CTL_DEPLOY_MAX_HISTORY_CHARS 2000
/* An int-or-percent value scaled to total ("25%" of 10 → 3 rounding up, 2
 * down); false if v is neither an integer nor "N%". */
bool ctl_deploy_scaled(json_t *v, int32_t total, bool round_up, int32_t *out);
/* maxSurge and maxUnavailable resolved for d's replicas (both 0 → 1
 * unavailable); 0 for Recreate; unavailable at most replicas. */
int32_t ctl_deploy_max_surge(json_t *d);
int32_t ctl_deploy_max_unavailable(json_t *d);
/* spec.replicas of a Deployment or ReplicaSet (1 if unset, as defaulted). */
int32_t ctl_deploy_replicas(json_t *obj);
/* Whether two pod templates are equal but for the pod-template-hash label. */
bool ctl_deploy_template_equal(json_t *a, json_t *b);
/* Sorts ReplicaSets oldest first (creationTimestamp, then name). */
void ctl_deploy_sort_by_age(json_t *rss);
/* The new ReplicaSet of d among rss (the oldest whose template equals d's),
 * borrowed, or NULL; the others go to old (a new array, borrowed refs). */
json_t *ctl_deploy_find_new(json_t *d, json_t *rss, json_t **old);
/* The revision annotation of rs (0 if none or malformed); the largest in rss. */
int64_t ctl_deploy_revision(json_t *rs);
int64_t ctl_deploy_max_revision(json_t *rss);
/* Kubernetes' SetNewReplicaSetAnnotations: copies d's annotations (but
 * the skipped ones), raises the revision to new_revision keeping the old
 * one in revision-history, and, for a ReplicaSet about to be created
 * (!exists), sets desired- and max-replicas. Returns whether rs changed. */
bool ctl_deploy_set_new_rs_annotations(json_t *d, json_t *rs, int64_t new_revision, bool exists);
/* Sets rs's desired- and max-replicas annotations for d; whether changed. */
bool ctl_deploy_set_replicas_annotations(json_t *d, json_t *rs);
/* The size the new ReplicaSet may grow to now (NewRSNewReplicas). */
int32_t ctl_deploy_new_rs_replicas(json_t *d, json_t *all, json_t *new_rs);
/* The rolling update's two steps on working copies of the ReplicaSets
 * (their spec.replicas and replica annotations are changed in place; the
 * caller writes the ones that changed): scale the new ReplicaSet up (or
 * down to replicas), or the old ones down within maxUnavailable, unhealthy
 * replicas first. Each returns whether it scaled anything. all = old +
 * new. */
bool ctl_deploy_reconcile_new(json_t *d, json_t *all, json_t *new_rs);
bool ctl_deploy_reconcile_old(json_t *d, json_t *all, json_t *old, json_t *new_rs);
/* Scales rs to n for d (spec.replicas and, if anything changes or force,
 * the replica annotations); whether the size changed. */
bool ctl_deploy_scale_rs(json_t *d, json_t *rs, int32_t n, bool force);
/* Whether d's replicas differ from an active ReplicaSet's desired-replicas
 * annotation (a scaling event, not a rollout). */
bool ctl_deploy_is_scaling_event(json_t *d, json_t *all);
/* Kubernetes' scale(): the only active ReplicaSet (or the newest) takes
 * the deployment's size; a saturated new one leaves the old ones at 0; in
 * a rolling update the change is spread over the active ReplicaSets in
 * proportion to their size (max-replicas annotation), the leftover to the
 * largest. Works on working copies like the reconcile functions. */
void ctl_deploy_scale(json_t *d, json_t *new_rs, json_t *old);
/* The deployment's status from its ReplicaSets (calculateStatus: counts,
 * observedGeneration, collisionCount, the Available condition); with
 * rollout (syncRolloutStatus) also the Progressing condition (complete,
 * progressing, or past progressDeadlineSeconds at wall time now_ms) and
 * ReplicaFailure. A new object. */
json_t *ctl_deploy_status(json_t *d, json_t *all, json_t *new_rs, bool rollout, int64_t now_ms);
/* Kubernetes' SetDeploymentCondition on a status object; the Progressing
 * variant of syncRolloutStatus refreshes lastUpdateTime on progress. */
void ctl_deploy_condition_set(json_t *status, const char *type, const char *cstatus,
                              const char *reason, const char *message, const char *now);
/* Whether d's rollout is complete by status st (DeploymentComplete). */
bool ctl_deploy_complete(json_t *d, json_t *st);
/* The old ReplicaSets to delete past revisionHistoryLimit: oldest revision
 * first, only those with no replicas and an up-to-date status. A new
 * array (borrowed refs). */
json_t *ctl_deploy_cleanup(json_t *d, json_t *old);

/* ---- statefulset.c ---- */

/* The labels a StatefulSet's pods and revisions carry. */
#define CTL_STS_POD_NAME_LABEL "statefulset.kubernetes.io/pod-name"
#define CTL_STS_POD_INDEX_LABEL "apps.kubernetes.io/pod-index"
#define CTL_STS_REVISION_LABEL "controller-revision-hash"
#define CTL_STS_HASH_LABEL "controller.kubernetes.io/hash"

/* The ordinal of pod_name in the set named set_name ("web-3" → 3), or -1
 * if the name is not the set's name, a dash and a decimal number. */
int ctl_sts_ordinal(const char *set_name, const char *pod_name);
/* isMemberOf: whether pod_name is set_name, a dash and one or more digits
 * (Kubernetes' getParentName; unlike ctl_sts_ordinal it takes leading
 * zeros and any length): only such pods are the set's to claim. */
bool ctl_sts_is_member(const char *set_name, const char *pod_name);
/* A claim's name: TEMPLATE-SET-ORDINAL ("data-web-0"). */
void ctl_sts_claim_name(const char *tmpl_name, const char *set_name, int ordinal, char *buf,
                        size_t len);
/* What a ControllerRevision of set holds, as Kubernetes stores it: a
 * strategic merge patch that puts the pod template back,
 * {"spec":{"template":{..., "$patch":"replace"}}}, keys sorted. New. */
json_t *ctl_sts_revision_data(json_t *set);
/* The pod template a revision restores (its data without "$patch"), or
 * NULL. Borrowed from revision, except that "$patch" is skipped: returns a
 * new object. */
json_t *ctl_sts_revision_template(json_t *revision);
/* The ControllerRevisions of a set sorted by revision number (then name);
 * a new array holding the same objects. */
json_t *ctl_sts_revisions_sorted(json_t *revisions);
/* The index in sorted revisions of the newest one whose data equals data,
 * or -1. */
int ctl_sts_equal_revision(json_t *sorted, json_t *data);
/* Names (a new array of strings) of the revisions to delete so that at
 * most spec.revisionHistoryLimit revisions are kept besides the live ones
 * (the current and update revisions and any a pod is at); oldest first. */
json_t *ctl_sts_history_to_delete(json_t *set, json_t *sorted, json_t *pods, const char *cur_rev,
                                  const char *upd_rev);

/* A new Pod for ordinal of set from tmpl (a revision's template), at
 * revision rev_name: name SET-ORDINAL, hostname and subdomain, the
 * identity and revision labels, a persistentVolumeClaim volume per claim
 * template, the set as controller. */
json_t *ctl_sts_new_pod(json_t *set, json_t *tmpl, int ordinal, const char *rev_name);
/* The claims (a new array) a pod of this ordinal needs, one per
 * volumeClaimTemplate, labelled with the template's labels and the set's
 * selector labels. */
json_t *ctl_sts_new_claims(json_t *set, int ordinal);
/* Whether an existing claim belongs to an earlier pod of that name that is
 * gone (an owner reference to a Pod of that name with another uid than
 * pod_uid, "" for a pod not created yet): such a claim is about to be
 * collected, and the pod must wait for it (whenScaled: Delete). */
bool ctl_sts_claim_stale(json_t *set, json_t *claim, const char *pod_name, const char *pod_uid);
/* The ownerReferences (a new array) that claim, of pod, should have under
 * the set's persistentVolumeClaimRetentionPolicy: whenDeleted=Delete → the
 * set as controller while the pod is in range; whenScaled=Delete → the pod
 * as controller once its ordinal is out of range. Other owners are kept;
 * a claim with another controller, or stale references to an earlier set
 * or pod of the same name, is left as it is. */
json_t *ctl_sts_claim_refs(json_t *set, json_t *pod, bool in_range, json_t *claim);

/* What one sync decides to do with the set's pods (ctl_sts_plan). */
enum ctl_sts_op { CTL_STS_CREATE, CTL_STS_DELETE };
struct ctl_sts_action {
    enum ctl_sts_op op;
    int ordinal;
    bool at_current;    /* CREATE: from the current revision, not the update one */
    json_t *pod;        /* DELETE: the pod (borrowed from the view) */
    const char *reason; /* DELETE: "failed", "scale-down" or "update" */
};
struct ctl_sts_view {
    json_t *set;         /* with spec and status */
    json_t *pods;        /* the pods it controls */
    const char *cur_rev; /* the current and update revisions' names */
    const char *upd_rev;
    int64_t now_ms;
};
struct ctl_sts_plan {
    struct ctl_sts_action *v;
    size_t n, cap;
    /* Blocked on a pod that is Ready but not yet available
     * (minReadySeconds): look again later. */
    bool wait_available;
};
/* Kubernetes' updateStatefulSet on one snapshot: failed pods deleted (the
 * replacement comes once the old one is gone), missing ordinals created,
 * condemned ordinals deleted highest first, then a RollingUpdate (highest
 * ordinal at or above the partition first; maxUnavailable at a time,
 * default 1). OrderedReady stops at the first pod not Running, Ready and
 * available, and acts on one pod per sync; Parallel acts on all at once.
 * A set being deleted gets nothing. */
void ctl_sts_plan(const struct ctl_sts_view *v, struct ctl_sts_plan *out);
void ctl_sts_plan_free(struct ctl_sts_plan *p);
/* The status the set should have with these pods (new): replicas, ready,
 * available, current and updated counts, the revisions, collisionCount,
 * observedGeneration; a finished RollingUpdate makes the update revision
 * current. Conditions are kept from the set's status. */
json_t *ctl_sts_status(const struct ctl_sts_view *v, json_int_t collision_count);
/* Whether two statuses differ (absent counts as zero or ""). */
bool ctl_sts_status_differs(json_t *a, json_t *b);

/* ---- job.c, cronjob.c ---- */

#define CTL_JOB_FINALIZER "batch.kubernetes.io/job-tracking"
#define CTL_JOB_INDEX_KEY "batch.kubernetes.io/job-completion-index"
#define CTL_JOB_INDEX_ENV "JOB_COMPLETION_INDEX"
#define CTL_JOB_MAX_UNCOUNTED 500     /* Kubernetes' MaxUncountedPods */
#define CTL_JOB_MAX_CREATE_DELETE 500 /* MaxPodCreateDeletePerSync */
#define CTL_JOB_BACKOFF_MS 10000      /* DefaultJobPodFailureBackOff */
#define CTL_JOB_BACKOFF_MAX_MS 360000 /* MaxJobPodFailureBackOff */

/* A set of completion indexes as status.completedIndexes writes it:
 * sorted, disjoint, non-adjacent intervals, "0-3,5,7-9". */
struct ctl_ival {
    int32_t first, last;
};
struct ctl_ivals {
    struct ctl_ival *v;
    size_t n, cap;
};
/* Adds the indexes of s below limit (malformed parts are skipped, as
 * Kubernetes' parseIndexesFromString does). */
void ctl_ivals_parse(struct ctl_ivals *iv, const char *s, int32_t limit);
void ctl_ivals_add(struct ctl_ivals *iv, int32_t x);
bool ctl_ivals_has(const struct ctl_ivals *iv, int32_t x);
int64_t ctl_ivals_total(const struct ctl_ivals *iv);
char *ctl_ivals_format(const struct ctl_ivals *iv); /* malloc'd; "" when empty */
void ctl_ivals_free(struct ctl_ivals *iv);

/* A pod's completion index (its annotation), or -1. */
int32_t ctl_job_pod_index(json_t *pod);
/* When a finished pod finished (Unix ms), as Kubernetes' getFinishedTime:
 * the last container's finishedAt, else Ready=False's transition, else
 * deletionTimestamp - grace, else creationTimestamp. */
int64_t ctl_job_pod_finish_ms(json_t *pod);
/* isPodFailed: phase Failed, or (unless only failed pods are replaced:
 * podReplacementPolicy Failed or a podFailurePolicy) deleted and not
 * Succeeded. */
bool ctl_job_pod_failed(json_t *job, json_t *pod);
/* The wait before the next pod may be created after `failures` failures
 * since the last success, the last at last_failure_ms: 10 s doubling per
 * failure, at most 6 min, minus the time since (0 if none is left). */
int64_t ctl_job_backoff_remaining_ms(int32_t failures, int64_t last_failure_ms, int64_t now_ms);
/* The first rule of a podFailurePolicy matching a failed pod
 * (matchPodFailurePolicy): onExitCodes (In/NotIn over the non-zero exit
 * codes of terminated containers, then init containers, optionally of one
 * container) or onPodConditions (type and status). FailJob fills msg with
 * Kubernetes' message. */
enum ctl_job_pfp {
    CTL_PFP_NONE,
    CTL_PFP_IGNORE,
    CTL_PFP_COUNT,
    CTL_PFP_FAIL_JOB,
    CTL_PFP_FAIL_INDEX
};
enum ctl_job_pfp ctl_job_pfp_match(json_t *policy, json_t *pod, char *msg, size_t len);
/* The lowest `count` indexes below completions that are neither succeeded
 * nor held by a pod of `taken` (an array of pods); fills out, returns how
 * many. */
size_t ctl_job_pending_indexes(int32_t completions, const struct ctl_ivals *succeeded,
                               json_t *taken, size_t count, int32_t *out);
/* A new pod for job (index -1: NonIndexed): the template, the job as
 * controller, the tracking finalizer, generateName JOB- (or JOB-INDEX-
 * with the index annotation and label, hostname JOB-INDEX and the
 * JOB_COMPLETION_INDEX env in every container). */
json_t *ctl_job_new_pod(json_t *job, int32_t index);
/* Whether job has its Complete or Failed condition True (type set to it). */
bool ctl_job_finished(json_t *job, const char **type);
/* ttlSecondsAfterFinished: ms left before a finished job is deleted (0:
 * now), or -1 (no TTL, or not finished). */
int64_t ctl_job_ttl_remaining_ms(json_t *job, int64_t now_ms);

/* What one sync of a Job decides (syncJob up to the status flush). The
 * caller deletes `remove`, creates `create`, writes `status` if `flush`,
 * removes the finalizer from `strip`, then re-reads the pods and calls
 * ctl_job_settle. */
struct ctl_job_plan {
    json_t *status;     /* the new status (a new object) */
    bool flush;         /* it differs from the stored one */
    json_t *create;     /* new pods (array) */
    json_t *remove;     /* pods to delete (array, borrowed from pods) */
    bool remove_strip;  /* strip their finalizer first (suspend, surplus) */
    json_t *strip;      /* pods whose finalizer goes after the flush (borrowed) */
    json_t *final;      /* Complete/Failed condition to add once settled, or NULL */
    bool reached_max;   /* stopped at CTL_JOB_MAX_UNCOUNTED: not finished yet */
    int64_t requeue_ms; /* > 0: sync again after this long (backoff, deadline) */
    const char *event;  /* "Suspended", "Resumed" or NULL */
};
void ctl_job_plan(json_t *job, json_t *pods, int64_t now_ms, struct ctl_job_plan *p);
void ctl_job_plan_free(struct ctl_job_plan *p);
/* After the finalizer removals, with the pods as they are now: uids in
 * status.uncountedTerminatedPods whose pod no longer has the finalizer move
 * to the succeeded/failed counters; then, if final is set, nothing is
 * uncounted and no pod is terminating, final becomes a condition
 * (completionTime too for Complete) and *finished is set. Returns whether
 * the status changed. */
bool ctl_job_settle(json_t *status, json_t *pods, json_t *final, bool reached_max,
                    int64_t now_ms, bool *finished);

struct kube_cron;
struct util_tz;
/* The first run time (Unix s) strictly after t the schedule allows in zone
 * tz (NULL: UTC), as robfig/cron's Next finds it, or -1 if none within 5
 * years (@every: t + delay, whole seconds). */
int64_t ctl_cron_next(const struct kube_cron *s, const struct util_tz *tz, int64_t t);
/* The last run time at or before t (the last Next result <= t), or -1. */
int64_t ctl_cron_prev(const struct kube_cron *s, const struct util_tz *tz, int64_t t);
/* mostRecentScheduleTime: the latest run time in (earliest, now], where
 * earliest is lastScheduleTime (else creationTimestamp) raised to
 * now - startingDeadlineSeconds when that is set (deadline_s >= 0); -1 if
 * none. *missed gets how many run times were missed (rough, as
 * Kubernetes counts them). */
int64_t ctl_cron_most_recent(const struct kube_cron *s, const struct util_tz *tz, int64_t earliest,
                             int64_t now, int64_t deadline_s, int64_t *missed);
/* The name of the Job a CronJob runs at scheduled (Unix s): NAME-MINUTES. */
void ctl_cron_job_name(const char *cronjob, int64_t scheduled, char *buf, size_t len);
/* The Job a CronJob runs at scheduled: its jobTemplate's labels,
 * annotations (plus batch.kubernetes.io/cronjob-scheduled-timestamp, the
 * time in zone tz as Go's RFC 3339) and spec, the CronJob as controller.
 * New. */
json_t *ctl_cron_new_job(json_t *cronjob, const struct util_tz *tz, int64_t scheduled);
/* The names of the finished jobs (an array; borrowed from jobs, oldest
 * first) beyond the history limits: successful ones past
 * successfulJobsHistoryLimit, failed past failedJobsHistoryLimit. New
 * array. */
json_t *ctl_cron_history_to_delete(json_t *cronjob, json_t *jobs);

/* ---- daemonset.c, endpoints.c, endpointslice.c ---- */

/* DaemonSet (daemonset.c). ds, node and pod are decoded objects; nodes and
 * pods JSON arrays (pods: the DaemonSet's own); hash is the current
 * revision's controller-revision-hash. */

/* Adds Kubernetes' daemon tolerations to a pod spec (not-ready and
 * unreachable NoExecute; disk/memory/pid-pressure and unschedulable
 * NoSchedule; network-unavailable NoSchedule with hostNetwork), replacing
 * a toleration with the same key, operator, value and effect. */
void ctl_ds_add_default_tolerations(json_t *pod_spec);
/* NodeShouldRunDaemonPod: whether a new daemon pod belongs on node, and
 * (*should_continue) whether one already there may stay (only untolerated
 * NoExecute taints evict). */
bool ctl_ds_node_should_run(json_t *ds, json_t *node, bool *should_continue);
/* The node a daemon pod is for: spec.nodeName, else its required
 * matchFields metadata.name In [node]; NULL if neither (borrowed). */
const char *ctl_ds_pod_target_node(json_t *pod);
/* Whether a pod has the current template (hash or template generation). */
bool ctl_ds_pod_updated(json_t *ds, json_t *pod, const char *hash);
/* A new daemon pod for node (generateName "NAME-", labels
 * controller-revision-hash and pod-template-generation, the daemon
 * tolerations, required node affinity to the node). */
json_t *ctl_ds_new_pod(json_t *ds, const char *hash, const char *node);
/* Whether a ControllerRevision holds ds's current template. */
bool ctl_ds_revision_matches(json_t *ds, json_t *rev);
/* manage(): the nodes that need a pod (names) and the pods to delete
 * (pod objects); both new arrays. failed_pods (borrowed from delete_pods)
 * are the Failed ones among them, for the FailedDaemonPod Event;
 * requeue_ms > 0 is when a failed pod held back by its backoff may go. */
struct ctl_ds_plan {
    json_t *create_nodes;
    json_t *delete_pods;
    json_t *failed_pods;
    int64_t requeue_ms;
};
/* A failed daemon pod is deleted (and so replaced) at most once per step
 * of the backoff of its DaemonSet generation and node (daemon_controller.
 * go's failedPodsBackoff, 1 s doubling to 15 min): a pod the node keeps
 * failing does not make the controller fight it in a hot loop. backoff
 * may be NULL (no backoff); now_ms is wall time. */
#define CTL_DS_FAILED_BACKOFF_MS 1000
#define CTL_DS_FAILED_BACKOFF_MAX_MS (15 * 60 * 1000)
void ctl_ds_plan_manage(json_t *ds, json_t *nodes, json_t *pods, const char *hash,
                        int64_t now_ms, struct ctl_backoff *backoff, struct ctl_ds_plan *out);
/* AllowsSurge: a RollingUpdate whose maxSurge is not 0. */
bool ctl_ds_allows_surge(json_t *ds);
/* rollingUpdate() with maxSurge > 0 (ds must allow surge): the nodes to
 * give a new pod beside their old one, and the old pods to delete (their
 * new pod is available, or they are unavailable on a node that should not
 * run one, ...); *wait_ms is when the next surging pod becomes available
 * (-1: none waits). now_ms is wall time. */
void ctl_ds_plan_surge(json_t *ds, json_t *nodes, json_t *pods, const char *hash,
                       int64_t now_ms, struct ctl_ds_plan *out, int64_t *wait_ms);
/* rollingUpdate() with maxSurge 0: the old pods to delete now (a new
 * array of pod objects); now_ms is wall time, for minReadySeconds. */
json_t *ctl_ds_plan_rolling(json_t *ds, json_t *nodes, json_t *pods, const char *hash,
                            int64_t now_ms);
/* The status numbers (desiredNumberScheduled, currentNumberScheduled,
 * numberMisscheduled, numberReady, numberAvailable, updatedNumberScheduled,
 * numberUnavailable), as a new object. */
json_t *ctl_ds_status(json_t *ds, json_t *nodes, json_t *pods, const char *hash, int64_t now_ms);

/* Endpoints (endpoints.c); also what the EndpointSlice controller shares. */
#define CTL_EP_MAX_ADDRESSES 1000 /* Endpoints over this are truncated */
#define CTL_EP_BATCH_MS 100       /* a pod's change syncs its Services this much later */
/* Whether the Service's (non-empty) selector selects the pod. */
bool ctl_ep_selects(json_t *svc, json_t *pod);
/* status.podIP, else the first status.podIPs; "" if none. */
const char *ctl_ep_pod_ip(json_t *pod);
/* ShouldPodBeInEndpoints: an IP, not terminal, and not being deleted
 * unless include_terminating. */
bool ctl_ep_pod_included(json_t *pod, bool include_terminating);
/* podutil.FindPort: the port a Service port's targetPort means on the pod
 * (a number, or a container port of that name and protocol); -1 if none. */
int ctl_ep_find_port(json_t *pod, json_t *svc_port);
/* An Endpoints address {ip, nodeName, targetRef, hostname} for a pod. */
json_t *ctl_ep_address(json_t *svc, json_t *pod);
/* An EndpointPort {name, port, protocol, appProtocol} for a Service port
 * resolved to number; name always present when slice (EndpointSlice). */
json_t *ctl_ep_port(json_t *svc_port, int number, bool slice);
/* The subsets of the Service's Endpoints from pods (any pods: those it does
 * not select are skipped), repacked and sorted. */
json_t *ctl_ep_subsets(json_t *svc, json_t *pods);
/* Truncates subsets to max addresses as Kubernetes does; true if it did. */
bool ctl_ep_truncate(json_t *subsets, size_t max);
/* The Endpoints' labels for a Service (a new object). */
json_t *ctl_ep_labels(json_t *svc);
/* The Endpoints object to write for svc, or NULL if cur (NULL: none yet)
 * is already right; now is the trigger time. */
json_t *ctl_ep_desired(json_t *svc, json_t *pods, json_t *cur, const char *now);
/* The pods of the Service's namespace it may select (prefiltered). */
json_t *ctl_ep_candidate_pods(struct ctl *c, json_t *svc);
/* Which Services a pod concerns: each namespace's Services with selectors,
 * and the Services each pod was last seen selected by. */
struct ctl_svc_index;
typedef void (*ctl_svc_fn)(void *arg, const char *ns, const char *svc);
struct ctl_svc_index *ctl_svc_index_new(void);
void ctl_svc_index_free(void *index);
/* Records a Service (svc NULL: deleted). */
void ctl_svc_index_set(struct ctl_svc_index *x, const char *ns, const char *name, json_t *svc);
/* Calls fn for every Service that selects labels now or selected the pod
 * before; gone: the pod was deleted (forgotten). */
void ctl_svc_index_pod(struct ctl_svc_index *x, const char *ns, const char *pod, json_t *labels,
                       bool gone, ctl_svc_fn fn, void *arg);
/* Records that the Service selected the pod (so its next change reaches
 * the Service even if its labels no longer match). */
void ctl_svc_index_remember(struct ctl_svc_index *x, const char *ns, const char *pod,
                            const char *svc);
/* The controller's index (made on first use), and remembering every pod
 * of pods the Service selects. */
struct ctl_svc_index *ctl_ep_index(struct ctl *c, const char *controller);
void ctl_ep_remember(struct ctl *c, const char *controller, json_t *svc, json_t *pods);
/* The change stream of both controllers: Services, and pods with an IP;
 * a pod's Services are queued CTL_EP_BATCH_MS later. */
bool ctl_ep_wants(const struct store_event *e);
void ctl_ep_on_change(struct ctl *c, const char *controller, const struct store_event *e,
                      json_t *obj);
void ctl_ep_resync(struct ctl *c, const char *controller);

/* EndpointSlices (endpointslice.c). */
#define CTL_EPS_MAX_ENDPOINTS 100
/* One slice endpoint for a pod; zones maps node names to zones. */
json_t *ctl_eps_endpoint(json_t *svc, json_t *pod, json_t *zones);
/* The desired endpoints grouped by port set: a new array of {ports,
 * endpoints (sorted by address)}. */
json_t *ctl_eps_desired(json_t *svc, json_t *pods, json_t *zones);
/* The labels of the Service's slices (a new object). */
json_t *ctl_eps_labels(json_t *svc);
/* What to write so that existing (the slices labelled for the Service)
 * hold desired with at most max endpoints each: slices to create (bodies
 * with generateName), to update (whole objects) and to delete; new arrays. */
struct ctl_eps_plan {
    json_t *create;
    json_t *update;
    json_t *remove;
};
void ctl_eps_reconcile(json_t *svc, json_t *desired, json_t *existing, size_t max,
                       struct ctl_eps_plan *out);


/* ---- disruption.c: PodDisruptionBudget status ---- */

/* How long an eviction's entry in status.disruptedPods keeps the pod out
 * of currentHealthy (Kubernetes' DeletionTimeout). */
#define CTL_PDB_DELETION_TIMEOUT_MS (2 * 60 * 1000)
/* How the controller reads the objects a pod's controller reference leads
 * to: a new reference, or NULL if absent (the replica, or a test's map). */
struct ctl_pdb_lookup {
    json_t *(*get)(void *arg, const char *resource, const char *ns, const char *name);
    void *arg;
};
struct ctl_pdb_counts {
    int32_t expected, desired, healthy;
};
/* getExpectedPodCount: expectedPods and desiredHealthy of pdb over pods
 * (the pods it covers); *unmanaged counts the pods without a controller
 * that a percentage or maxUnavailable had to skip. false with err when a
 * controller is missing or has no scale (the sync fails). */
bool ctl_pdb_expected(json_t *pdb, json_t *pods, const struct ctl_pdb_lookup *lk,
                      struct ctl_pdb_counts *n, size_t *unmanaged, char *err, size_t len);
/* buildDisruptedPodMap: of status.disruptedPods, the entries of pods that
 * exist and are not being deleted, younger than the timeout at now_ms (a
 * new object); *recheck_ms is the earliest expiry (wall ms), or -1. */
json_t *ctl_pdb_disrupted(json_t *pdb, json_t *pods, int64_t now_ms, int64_t *recheck_ms);
/* countHealthyPods: Ready pods not being deleted nor in disrupted. */
int32_t ctl_pdb_healthy(json_t *pods, json_t *disrupted, int64_t now_ms);
/* updatePdbStatus: the budget with its new status (disruptionsAllowed,
 * observedGeneration, the condition at now), or NULL if the stored status
 * already says it all. */
json_t *ctl_pdb_status(json_t *pdb, const struct ctl_pdb_counts *n, json_t *disrupted,
                       const char *now);
/* failSafe: the budget with disruptionsAllowed 0 and its condition False,
 * reason SyncFailed, message why (a new object). */
json_t *ctl_pdb_fail_safe(json_t *pdb, const char *why, const char *now);

/* ---- volumes.c, autoscaler.c ---- */

/* volumes.c: PersistentVolume binding (Kubernetes' pv_controller.go and
 * index.go). The provisioner this controller implements itself: */
#define CTL_PROVISIONER_HOSTPATH "bosun.dev/hostpath"
/* The class of a claim or volume: the annotation
 * volume.beta.kubernetes.io/storage-class, else spec.storageClassName,
 * else "" (no class). */
const char *ctl_volume_class(json_t *obj);
/* A volume's spec.capacity.storage / a claim's
 * spec.resources.requests.storage, in bytes (-1 / 0 if absent). */
int64_t ctl_volume_capacity(json_t *pv);
int64_t ctl_claim_request(json_t *pvc);
/* IsVolumeBoundToClaim: pv's claimRef names pvc (namespace and name) and
 * its uid is pvc's or empty (pre-bound by name). */
bool ctl_volume_bound_to(json_t *pv, json_t *pvc);
/* checkVolumeSatisfyClaim: capacity >= request, same class, same volume
 * mode, access modes a superset of the claim's; false with why. */
bool ctl_volume_satisfies(json_t *pv, json_t *pvc, char *why, size_t len);
/* findMatchingVolume: of pvs (an array), the volume pre-bound to pvc if
 * one fits it, else (unless delay_binding) the Available volume without a
 * claimRef, of the claim's class, matching its selector, with the fewest
 * access modes covering the claim's, and the smallest capacity that holds
 * the request; NULL if none. Borrowed from pvs. */
json_t *ctl_volume_find_match(json_t *pvs, json_t *pvc, bool delay_binding);
/* The volume the hostPath provisioner makes for pvc of class sc: named
 * pvc-<claim uid>, hostPath sc.parameters.path (or /var/lib/bosun/volumes)
 * + "/" + that name, the claim's request, access modes, class and volume
 * mode, sc's reclaim policy (Delete if unset) and mount options, claimRef
 * set to the claim, node affinity to node if not NULL/"". New reference. */
json_t *ctl_volume_provision(json_t *pvc, json_t *sc, const char *node);

/* autoscaler.c: the HorizontalPodAutoscaler (Kubernetes' horizontal.go and
 * replica_calculator.go). Times are wall-clock Unix milliseconds. */
#define CTL_HPA_TOLERANCE 0.1
#define CTL_HPA_CPU_INIT_PERIOD_MS (300 * 1000)    /* --horizontal-pod-autoscaler-cpu-initialization-period */
#define CTL_HPA_INITIAL_READINESS_MS (30 * 1000)   /* --horizontal-pod-autoscaler-initial-readiness-delay */
#define CTL_HPA_DOWNSCALE_WINDOW_S 300             /* --horizontal-pod-autoscaler-downscale-stabilization */
#define CTL_HPA_HISTORY 256                        /* samples kept per list (3600 s / 15 s fits) */

/* What one metric proposes (GetResourceReplicas, GetRawResourceReplicas). */
struct ctl_hpa_calc {
    int32_t replicas;      /* the proposal */
    int32_t utilization;   /* percent of the requests (Utilization targets) */
    int64_t average_milli; /* average usage per pod with a metric, in milli-units */
};
/* The replicas a Resource metric proposes: pods are the target's pods (an
 * array), metrics an object of PodMetrics by pod name, resource "cpu" or
 * "memory", current the target's spec.replicas; target_util > 0 for an
 * averageUtilization target (percent of requests), else target_avg_milli
 * for an averageValue one. Pods being deleted or Failed are ignored,
 * Pending ones and (cpu) not-yet-ready ones are unready, pods without a
 * metric are missing; then as Kubernetes: within tolerance 0.1 nothing
 * changes; missing pods count as 100% (or the target) on a scale-down and
 * 0 on a scale-up, unready pods as 0 on a scale-up, and a proposal that
 * would reverse the direction is no change. false with err (no pods, no
 * metrics, a container without a request). */
bool ctl_hpa_resource_replicas(json_t *pods, json_t *metrics, const char *resource,
                               int32_t current, int32_t target_util, int64_t target_avg_milli,
                               int64_t now_ms, struct ctl_hpa_calc *out, char *err, size_t len);

/* What the controller remembers of one HPA while it leads, as
 * kube-controller-manager does in memory: its recent recommendations and
 * its scale events (replicas = how many were added or removed). */
struct ctl_hpa_sample {
    int64_t at_ms;
    int32_t replicas;
};
struct ctl_hpa_history {
    struct ctl_hpa_sample recs[CTL_HPA_HISTORY], up[CTL_HPA_HISTORY], down[CTL_HPA_HISTORY];
    size_t n_recs, n_up, n_down;
};
/* The outcome of normalising a proposal: the AbleToScale reason and message
 * (ReadyForNewScale or Scale{Up,Down}Stabilized) and the ScalingLimited one
 * (DesiredWithinRange, TooFewReplicas, TooManyReplicas, ScaleUpLimit,
 * ScaleDownLimit). */
struct ctl_hpa_verdict {
    const char *able_reason, *able_message;
    bool limited;
    const char *limited_reason, *limited_message;
};
/* normalizeDesiredReplicas(WithBehaviors): stabilises proposed over the
 * recommendations in h (recording it), then bounds it by min/maxReplicas
 * and the scale-up/scale-down rate. Without spec.behavior: a 300 s
 * downscale window and a scale-up limit of max(2 x current, 4); with it,
 * its windows (scaleDown's unset = 300 s) and policies. */
int32_t ctl_hpa_normalize(json_t *hpa, struct ctl_hpa_history *h, int32_t current,
                          int32_t proposed, int64_t now_ms, struct ctl_hpa_verdict *v);
/* storeScaleEvent: records a rescale from -> to (only with spec.behavior). */
void ctl_hpa_record_scale(json_t *hpa, struct ctl_hpa_history *h, int32_t from, int32_t to,
                          int64_t now_ms);

/* ---- protection.c ---- */

/* pvc-protection: whether a pod of pods (any namespace; those of other
 * namespaces are ignored) that is not Succeeded or Failed names pvc in
 * spec.volumes (persistentVolumeClaim.claimName, or a generic ephemeral
 * volume's claim POD-VOLUME). */
bool ctl_pvc_in_use(json_t *pvc, json_t *pods);
/* pv-protection: whether pv is Bound (status.phase) to claim (the object
 * its claimRef names, NULL if absent) with the uid the claimRef holds. */
bool ctl_pv_in_use(json_t *pv, json_t *claim);

/* ---- kubesvc.c ---- */

/* The `kubernetes` Service's clusterIP: the first address of the service
 * range (10.96.0.0/16, server/write.c), as Kubernetes gives it the first
 * address of --service-cluster-ip-range; the random allocator never picks
 * it. */
#define CTL_KUBESVC_IP "10.96.0.1"
/* The API endpoints of the voters in a GET /cluster/status reply: a new
 * array of {"ip", "port"}, sorted by port then ip, without duplicates;
 * members whose API URL is not http://IPv4:PORT are left out. */
json_t *ctl_kubesvc_members(json_t *status);
/* The port most of those members serve on (ties: the smallest); 0 if none. */
int ctl_kubesvc_target_port(json_t *members);
/* What to write for Service default/kubernetes, Endpoints default/kubernetes:
 * NULL if cur (NULL: absent) is right already; else the object to create
 * (no resourceVersion) or cur corrected (ports, type and labels of the
 * Service; subsets and labels of the Endpoints). New. */
json_t *ctl_kubesvc_service(json_t *cur, int target_port);
json_t *ctl_kubesvc_endpoints(json_t *cur, json_t *members);
/* Of our existing slices (borrowed), those to write (*write, new: created
 * if without a resourceVersion) and those to delete (*remove): one slice
 * per member port, "kubernetes" for target_port, "kubernetes-PORT" else. */
void ctl_kubesvc_slices(json_t *existing, json_t *members, int target_port, json_t **write,
                        json_t **remove);

#endif
