/* statefulset.c — the StatefulSet controller: pods with a stable identity
 * and their own storage, created, scaled and updated in order, as
 * Kubernetes' pkg/controller/statefulset does.
 *
 * A set of n replicas owns pods SET-0 … SET-(n-1) (from spec.ordinals.start
 * if set): each pod's hostname is its name and its subdomain the set's
 * serviceName, it carries the labels statefulset.kubernetes.io/pod-name,
 * apps.kubernetes.io/pod-index and controller-revision-hash, and for every
 * volumeClaimTemplate a PersistentVolumeClaim TEMPLATE-SET-ORDINAL, created
 * before the pod and kept when the pod goes (unless the
 * persistentVolumeClaimRetentionPolicy says Delete: then the claim gets the
 * set, or once scaled away the pod, as its controller, and the garbage
 * collector, gc.c, removes it with its owner).
 *
 * History: the pod template is recorded in apps/v1 ControllerRevisions
 * named SET-HASH whose data is the strategic merge patch that puts the
 * template back ({"spec":{"template":{..., "$patch":"replace"}}}), which is
 * what `kubectl rollout history/undo` read and send back. A template equal
 * to an older revision (an undo) gets that revision renumbered as the
 * newest instead of a new one; a name taken by different data bumps
 * status.collisionCount. status.currentRevision is the revision the set is
 * moving from, status.updateRevision the one it moves to.
 *
 * A sync first claims (ctl_claim, objects.c, as Kubernetes' sync): the
 * ControllerRevisions of the namespace with no controller that the
 * selector matches are adopted (adoptOrphanRevisions), then the pods:
 * orphans named SET-<digits> (isMemberOf) that the selector matches are
 * adopted, pods of the set that no longer match released; a failed claim
 * fails the sync. An orphan pod (not being deleted) queues the set that
 * controlled it just before, if any, and every set of its namespace that
 * selects it. (A claimed pod whose ordinal bosun does not parse, SET-01,
 * is then ignored, as Kubernetes ignores ordinals it cannot parse.)
 *
 * It reads the set, its revisions, pods and claims from this replica
 * (on the leader it holds every write we made), decides with ctl_sts_plan —
 * a pure function of that snapshot, unit-tested in
 * tests/unit/test_ctl_statefulset.c — and acts: claims first, then pods,
 * then the status (with the set's resourceVersion as precondition), then
 * the history beyond revisionHistoryLimit. Pod names are fixed, so a
 * create that already happened (a retried sync, a new leader that has not
 * seen it yet), or a name another's pod holds, meets AlreadyExists, which
 * fails the sync: it is retried after a backoff; a pod is only ever
 * replaced after the old one is gone from the store, so no ordinal ever
 * has two pods. Deletes carry the pod's uid as precondition. OrderedReady
 * acts on one pod per sync and waits for the change stream (the pod
 * becoming Ready, going away) to sync again. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define STS "statefulset"
#define STALE_CLAIM_RETRY_MS 1000

/* ==== small readers ==== */

static json_t *jat(json_t *o, const char *k)
{
    return json_object_get(o, k);
}

static json_int_t jint(json_t *o, const char *k, json_int_t dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static json_t *meta(json_t *o)
{
    return json_object_get(o, "metadata");
}

static const char *name_of(json_t *o)
{
    return ctl_str(meta(o), "name");
}

static const char *uid_of(json_t *o)
{
    return ctl_str(meta(o), "uid");
}

static bool terminating(json_t *pod)
{
    return jat(meta(pod), "deletionTimestamp") != NULL;
}

static const char *phase(json_t *pod)
{
    return ctl_str(jat(pod, "status"), "phase");
}

/* isRunningAndReady */
static bool running_ready(json_t *pod)
{
    return strcmp(phase(pod), "Running") == 0 && ctl_pod_ready(pod);
}

static bool available(json_t *pod, json_int_t min_ready, int64_t now_ms)
{
    return running_ready(pod) && ctl_pod_available(pod, min_ready, now_ms);
}

/* isHealthy */
static bool healthy(json_t *pod)
{
    return running_ready(pod) && !terminating(pod);
}

static const char *pod_revision(json_t *pod)
{
    return ctl_str(jat(meta(pod), "labels"), CTL_STS_REVISION_LABEL);
}

static json_t *spec_of(json_t *set)
{
    return jat(set, "spec");
}

static json_int_t replicas_of(json_t *set)
{
    return jint(spec_of(set), "replicas", 1);
}

static json_int_t start_of(json_t *set)
{
    return jint(jat(spec_of(set), "ordinals"), "start", 0);
}

static bool policy_is(json_t *set, const char *which, const char *value)
{
    json_t *p = jat(spec_of(set), "persistentVolumeClaimRetentionPolicy");
    const char *v = ctl_str(p, which);
    return strcmp(*v ? v : "Retain", value) == 0;
}

/* ==== names ==== */

int ctl_sts_ordinal(const char *set_name, const char *pod_name)
{
    size_t n = strlen(set_name);
    if (strncmp(pod_name, set_name, n) != 0 || pod_name[n] != '-')
        return -1;
    const char *d = pod_name + n + 1;
    if (!*d || (d[0] == '0' && d[1]) || strlen(d) > 9)
        return -1;
    int v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9')
            return -1;
        v = v * 10 + (*d - '0');
    }
    return v;
}

bool ctl_sts_is_member(const char *set_name, const char *pod_name)
{
    /* getParentName's (.*)-([0-9]+)$: the part before the last dash, if
     * only digits (at least one) follow it. */
    const char *dash = strrchr(pod_name, '-');
    if (!dash || !dash[1])
        return false;
    for (const char *d = dash + 1; *d; d++)
        if (*d < '0' || *d > '9')
            return false;
    size_t n = strlen(set_name);
    return (size_t)(dash - pod_name) == n && strncmp(pod_name, set_name, n) == 0;
}

void ctl_sts_claim_name(const char *tmpl_name, const char *set_name, int ordinal, char *buf,
                        size_t len)
{
    assert(ordinal >= 0);
    snprintf(buf, len, "%s-%s-%d", tmpl_name, set_name, ordinal);
}

/* ==== revisions ==== */

json_t *ctl_sts_revision_data(json_t *set)
{
    json_t *tmpl = jat(spec_of(set), "template");
    json_t *copy = json_is_object(tmpl) ? json_deep_copy(tmpl) : json_object();
    json_object_set_new(copy, "$patch", json_string("replace"));
    /* Canonical: keys sorted, as Go's json.Marshal of a map writes them
     * (kubectl compares the bytes to tell a revision matches). */
    json_t *raw = json_pack("{s:{s:o}}", "spec", "template", copy);
    char *text = json_dumps(raw, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(raw);
    json_t *out = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return out ? out : json_object();
}

json_t *ctl_sts_revision_template(json_t *revision)
{
    json_t *t = jat(jat(jat(revision, "data"), "spec"), "template");
    if (!json_is_object(t))
        return NULL;
    json_t *copy = json_deep_copy(t);
    json_object_del(copy, "$patch");
    return copy;
}

static int cmp_revision(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t rx = jint(x, "revision", 0), ry = jint(y, "revision", 0);
    if (rx != ry)
        return rx < ry ? -1 : 1;
    return strcmp(name_of(x), name_of(y));
}

json_t *ctl_sts_revisions_sorted(json_t *revisions)
{
    size_t n = json_array_size(revisions);
    json_t **v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(revisions, i);
    qsort(v, n, sizeof *v, cmp_revision);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(out, v[i]);
    free(v);
    return out;
}

int ctl_sts_equal_revision(json_t *sorted, json_t *data)
{
    for (size_t i = json_array_size(sorted); i-- > 0;)
        if (json_equal(jat(json_array_get(sorted, i), "data"), data))
            return (int)i;
    return -1;
}

static bool name_in(json_t *names, const char *name)
{
    json_t *v;
    size_t i;
    json_array_foreach(names, i, v) if (strcmp(json_string_value(v), name) == 0) return true;
    return false;
}

json_t *ctl_sts_history_to_delete(json_t *set, json_t *sorted, json_t *pods, const char *cur_rev,
                                  const char *upd_rev)
{
    json_t *live = json_array(), *old = json_array(), *p, *r;
    size_t i;
    json_array_append_new(live, json_string(cur_rev));
    json_array_append_new(live, json_string(upd_rev));
    json_array_foreach(pods, i, p) if (*pod_revision(p))
        json_array_append_new(live, json_string(pod_revision(p)));
    json_array_foreach(sorted, i, r) if (!name_in(live, name_of(r)))
        json_array_append_new(old, json_string(name_of(r)));
    json_int_t limit = jint(spec_of(set), "revisionHistoryLimit", 10);
    limit = limit < 0 ? 0 : limit;
    /* Keep the newest `limit` of them: the rest, oldest first, go. */
    size_t n_old = json_array_size(old);
    size_t n_del = (json_int_t)n_old > limit ? n_old - (size_t)limit : 0;
    while (json_array_size(old) > n_del)
        json_array_remove(old, json_array_size(old) - 1);
    json_decref(live);
    return old;
}

/* ==== pods and claims ==== */

static json_t *claim_volume(const char *tmpl_name, const char *claim_name)
{
    return json_pack("{s:s, s:{s:s}}", "name", tmpl_name, "persistentVolumeClaim", "claimName",
                     claim_name);
}

/* updateStorage: a persistentVolumeClaim volume per claim template, in
 * place of any template volume of the same name. */
static void pod_set_storage(json_t *set, json_t *pod, int ordinal)
{
    json_t *spec = jat(pod, "spec");
    json_t *old = jat(spec, "volumes"), *vols = json_array(), *t, *v;
    json_t *tmpls = jat(spec_of(set), "volumeClaimTemplates");
    size_t i, j;
    json_array_foreach(tmpls, i, t)
    {
        char claim[512];
        ctl_sts_claim_name(name_of(t), name_of(set), ordinal, claim, sizeof claim);
        json_array_append_new(vols, claim_volume(name_of(t), claim));
    }
    json_array_foreach(old, i, v)
    {
        bool replaced = false;
        json_array_foreach(tmpls, j, t) replaced |= strcmp(ctl_str(v, "name"), name_of(t)) == 0;
        if (!replaced)
            json_array_append(vols, v);
    }
    if (json_array_size(vols))
        json_object_set_new(spec, "volumes", vols);
    else
        json_decref(vols);
}

json_t *ctl_sts_new_pod(json_t *set, json_t *tmpl, int ordinal, const char *rev_name)
{
    assert(ordinal >= 0);
    json_t *pod = ctl_pod_from_template(set, "apps/v1", "StatefulSet", tmpl);
    json_t *md = meta(pod);
    char name[320], idx[16];
    snprintf(name, sizeof name, "%s-%d", name_of(set), ordinal);
    snprintf(idx, sizeof idx, "%d", ordinal);
    json_object_set_new(md, "name", json_string(name));
    json_t *labels = jat(md, "labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(md, "labels", labels);
    }
    json_object_set_new(labels, CTL_STS_POD_NAME_LABEL, json_string(name));
    json_object_set_new(labels, CTL_STS_POD_INDEX_LABEL, json_string(idx));
    json_object_set_new(labels, CTL_STS_REVISION_LABEL, json_string(rev_name));
    json_t *spec = jat(pod, "spec");
    json_object_set_new(spec, "hostname", json_string(name));
    const char *svc = ctl_str(spec_of(set), "serviceName");
    if (*svc)
        json_object_set_new(spec, "subdomain", json_string(svc));
    pod_set_storage(set, pod, ordinal);
    return pod;
}

json_t *ctl_sts_new_claims(json_t *set, int ordinal)
{
    json_t *out = json_array(), *t;
    json_t *sel = jat(jat(spec_of(set), "selector"), "matchLabels");
    size_t i;
    json_array_foreach(jat(spec_of(set), "volumeClaimTemplates"), i, t)
    {
        char name[512];
        ctl_sts_claim_name(name_of(t), name_of(set), ordinal, name, sizeof name);
        json_t *labels = json_is_object(jat(meta(t), "labels")) ? json_deep_copy(jat(meta(t), "labels"))
                                                               : json_object();
        if (json_is_object(sel))
            json_object_update(labels, sel);
        json_t *md = json_pack("{s:s, s:s, s:o}", "name", name, "namespace",
                               ctl_str(meta(set), "namespace"), "labels", labels);
        if (json_is_object(jat(meta(t), "annotations")))
            json_object_set_new(md, "annotations", json_deep_copy(jat(meta(t), "annotations")));
        json_t *spec = jat(t, "spec");
        json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind",
                                             "PersistentVolumeClaim", "metadata", md, "spec",
                                             spec ? json_deep_copy(spec) : json_object()));
    }
    return out;
}

/* An owner reference that names kind/name but another uid than uid:
 * left by an earlier object of the same name (hasStaleOwnerRef). */
static bool has_stale_ref(json_t *obj, const char *kind, const char *name, const char *uid)
{
    json_t *r;
    size_t i;
    json_array_foreach(jat(meta(obj), "ownerReferences"), i, r)
    {
        if (strcmp(ctl_str(r, "kind"), kind) == 0 && strcmp(ctl_str(r, "name"), name) == 0)
            return strcmp(ctl_str(r, "uid"), uid) != 0;
    }
    return false;
}

bool ctl_sts_claim_stale(json_t *set, json_t *claim, const char *pod_name, const char *pod_uid)
{
    if (policy_is(set, "whenScaled", "Retain"))
        return false; /* claims are meant to be reused */
    return has_stale_ref(claim, "Pod", pod_name, pod_uid);
}

static bool ref_is(json_t *r, const char *uid)
{
    return strcmp(ctl_str(r, "uid"), uid) == 0;
}

json_t *ctl_sts_claim_refs(json_t *set, json_t *pod, bool in_range, json_t *claim)
{
    json_t *refs = jat(meta(claim), "ownerReferences"), *r;
    const char *set_uid = uid_of(set), *pod_uid = uid_of(pod);
    if (has_stale_ref(claim, "StatefulSet", name_of(set), set_uid) ||
        has_stale_ref(claim, "Pod", name_of(pod), pod_uid))
        return json_is_array(refs) ? json_deep_copy(refs) : json_array();
    json_t *out = json_array();
    bool other_controller = false;
    size_t i;
    json_array_foreach(refs, i, r)
    {
        if (ref_is(r, set_uid) || ref_is(r, pod_uid))
            continue; /* ours: rebuilt below */
        other_controller |= json_is_true(jat(r, "controller"));
        json_array_append(out, r);
    }
    if (other_controller)
        return out;
    bool set_ref = false, pod_ref = false;
    if (policy_is(set, "whenScaled", "Delete") && !in_range)
        pod_ref = true;
    else if (policy_is(set, "whenDeleted", "Delete"))
        set_ref = in_range || !policy_is(set, "whenScaled", "Delete");
    if (set_ref)
        json_array_append_new(out, ctl_owner_ref(set, "apps/v1", "StatefulSet"));
    if (pod_ref)
        json_array_append_new(out, ctl_owner_ref(pod, "v1", "Pod"));
    return out;
}

/* ==== the plan ==== */

static void plan_add(struct ctl_sts_plan *p, struct ctl_sts_action a)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->v = xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = a;
}

void ctl_sts_plan_free(struct ctl_sts_plan *p)
{
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* newVersionedStatefulSetPod: whether a new pod of this ordinal is made
 * from the current revision (below the partition) rather than the update
 * revision. */
static bool create_at_current(json_t *set, int ordinal)
{
    json_t *strategy = jat(spec_of(set), "updateStrategy");
    json_t *ru = jat(strategy, "rollingUpdate");
    json_int_t start = start_of(set);
    if (json_is_object(ru))
        return ordinal < start + jint(ru, "partition", 0);
    bool rolling = strcmp(ctl_str(strategy, "type"), "OnDelete") != 0;
    return rolling && ordinal < start + jint(jat(set, "status"), "currentReplicas", 0);
}

/* maxUnavailable as a count of n (a percentage rounds up), at least 1. */
static json_int_t max_unavailable(json_t *ru, json_int_t n)
{
    json_t *v = jat(ru, "maxUnavailable");
    json_int_t m = 1;
    if (json_is_integer(v))
        m = json_integer_value(v);
    else if (json_is_string(v)) {
        long pct = strtol(json_string_value(v), NULL, 10);
        m = pct * n / 100; /* rounded down, as getStatefulSetMaxUnavailable */
    }
    return m < 1 ? 1 : m;
}

/* The pods split by ordinal: replicas[i] holds ordinal start+i (or NULL),
 * condemned the rest, highest ordinal first. */
struct split {
    json_int_t start, n;
    json_t **replicas;
    bool *touched; /* replicas[i] created or deleted in this plan */
    json_t **condemned;
    size_t n_condemned;
};

struct cpod {
    json_t *pod;
    int ordinal;
};

static int cmp_ordinal_desc(const void *a, const void *b)
{
    int x = ((const struct cpod *)a)->ordinal, y = ((const struct cpod *)b)->ordinal;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void split_pods(json_t *set, json_t *pods, struct split *s)
{
    s->start = start_of(set);
    s->n = replicas_of(set);
    s->n = s->n < 0 ? 0 : s->n;
    s->replicas = xcalloc(s->n ? (size_t)s->n : 1, sizeof *s->replicas);
    s->touched = xcalloc(s->n ? (size_t)s->n : 1, sizeof *s->touched);
    struct cpod *cv = xcalloc(json_array_size(pods) + 1, sizeof *cv);
    size_t nc = 0, i;
    json_t *p;
    json_array_foreach(pods, i, p)
    {
        int ord = ctl_sts_ordinal(name_of(set), name_of(p));
        if (ord < 0)
            continue; /* not a member: ignored, as Kubernetes does */
        if (ord >= s->start && ord < s->start + s->n)
            s->replicas[ord - s->start] = p;
        else
            cv[nc++] = (struct cpod){p, ord};
    }
    qsort(cv, nc, sizeof *cv, cmp_ordinal_desc);
    s->condemned = xcalloc(nc + 1, sizeof *s->condemned);
    for (size_t k = 0; k < nc; k++)
        s->condemned[k] = cv[k].pod;
    s->n_condemned = nc;
    free(cv);
}

static void split_free(struct split *s)
{
    free(s->replicas);
    free(s->touched);
    free(s->condemned);
}

/* The first pod that is not healthy: a missing or unhealthy replica in
 * ordinal order, else an unhealthy condemned one, lowest ordinal first.
 * *missing is set when it is a replica not created yet. */
static json_t *first_unhealthy(const struct split *s, bool *missing)
{
    *missing = false;
    for (json_int_t i = 0; i < s->n; i++) {
        if (!s->replicas[i]) {
            *missing = true;
            return NULL;
        }
        if (!healthy(s->replicas[i]))
            return s->replicas[i];
    }
    for (size_t k = s->n_condemned; k-- > 0;)
        if (!healthy(s->condemned[k]))
            return s->condemned[k];
    return NULL;
}

/* processReplica over [start, start+n); false to stop the sync there. */
static bool plan_replicas(const struct ctl_sts_view *v, struct split *s, bool monotonic,
                          struct ctl_sts_plan *out)
{
    json_int_t min_ready = jint(spec_of(v->set), "minReadySeconds", 0);
    for (json_int_t i = 0; i < s->n; i++) {
        json_t *pod = s->replicas[i];
        int ord = (int)(s->start + i);
        if (pod && (!strcmp(phase(pod), "Failed") || !strcmp(phase(pod), "Succeeded"))) {
            /* Its replacement comes when it is gone from the store. */
            if (!terminating(pod))
                plan_add(out, (struct ctl_sts_action){CTL_STS_DELETE, ord, false, pod, "failed"});
            s->touched[i] = true;
            if (monotonic)
                return false;
            continue;
        }
        if (!pod) {
            plan_add(out, (struct ctl_sts_action){CTL_STS_CREATE, ord,
                                                  create_at_current(v->set, ord), NULL, NULL});
            s->touched[i] = true;
            if (monotonic)
                return false;
            continue;
        }
        if (monotonic && (terminating(pod) || !running_ready(pod)))
            return false;
        if (monotonic && !available(pod, min_ready, v->now_ms)) {
            out->wait_available = true;
            return false;
        }
    }
    return true; /* Parallel: a failed pod does not stop the others */
}

/* processCondemned, highest ordinal first; false to stop the sync. */
static bool plan_condemned(const struct ctl_sts_view *v, struct split *s, bool monotonic,
                           struct ctl_sts_plan *out)
{
    json_int_t min_ready = jint(spec_of(v->set), "minReadySeconds", 0);
    bool missing;
    json_t *first = first_unhealthy(s, &missing);
    for (size_t k = 0; k < s->n_condemned; k++) {
        json_t *pod = s->condemned[k];
        int ord = ctl_sts_ordinal(name_of(v->set), name_of(pod));
        if (terminating(pod)) {
            if (monotonic)
                return false;
            continue;
        }
        if (monotonic && pod != first && !running_ready(pod))
            return false;
        if (monotonic && pod != first && !available(pod, min_ready, v->now_ms)) {
            out->wait_available = true;
            return false;
        }
        plan_add(out, (struct ctl_sts_action){CTL_STS_DELETE, ord, false, pod, "scale-down"});
        if (monotonic)
            return false;
    }
    return true;
}

/* A replica created or deleted by this plan, or not healthy. */
static bool replica_unhealthy(const struct split *s, json_int_t i)
{
    return s->touched[i] || !s->replicas[i] || !healthy(s->replicas[i]);
}

/* RollingUpdate: the highest ordinal at or above the partition that is
 * not at the update revision goes first, one at a time (or up to
 * maxUnavailable unhealthy at once). */
static void plan_update(const struct ctl_sts_view *v, struct split *s, struct ctl_sts_plan *out)
{
    json_t *ru = jat(jat(spec_of(v->set), "updateStrategy"), "rollingUpdate");
    json_int_t min = jint(ru, "partition", 0);
    if (jat(ru, "maxUnavailable")) {
        json_int_t unavailable = 0, budget;
        for (json_int_t i = 0; i < s->n; i++)
            unavailable += replica_unhealthy(s, i);
        budget = max_unavailable(ru, s->n) - unavailable;
        for (json_int_t i = s->n - 1; i >= min && budget > 0; i--) {
            json_t *pod = s->replicas[i];
            if (s->touched[i] || !pod || terminating(pod) ||
                strcmp(pod_revision(pod), v->upd_rev) == 0)
                continue;
            plan_add(out, (struct ctl_sts_action){CTL_STS_DELETE, (int)(s->start + i), false, pod,
                                                  "update"});
            budget--;
        }
        return;
    }
    for (json_int_t i = s->n - 1; i >= min; i--) {
        json_t *pod = s->replicas[i];
        if (s->touched[i] || !pod)
            return;
        if (strcmp(pod_revision(pod), v->upd_rev) != 0 && !terminating(pod)) {
            plan_add(out, (struct ctl_sts_action){CTL_STS_DELETE, (int)(s->start + i), false, pod,
                                                  "update"});
            return;
        }
        if (!healthy(pod))
            return;
    }
}

void ctl_sts_plan(const struct ctl_sts_view *v, struct ctl_sts_plan *out)
{
    assert(v->set && v->cur_rev && v->upd_rev);
    memset(out, 0, sizeof *out);
    if (jat(meta(v->set), "deletionTimestamp"))
        return; /* the garbage collector takes the pods */
    bool monotonic = strcmp(ctl_str(spec_of(v->set), "podManagementPolicy"), "Parallel") != 0;
    struct split s;
    split_pods(v->set, v->pods, &s);
    if (plan_replicas(v, &s, monotonic, out) && plan_condemned(v, &s, monotonic, out)) {
        json_t *strategy = jat(spec_of(v->set), "updateStrategy");
        if (strcmp(ctl_str(strategy, "type"), "OnDelete") != 0)
            plan_update(v, &s, out);
    }
    split_free(&s);
}

/* ==== status ==== */

json_t *ctl_sts_status(const struct ctl_sts_view *v, json_int_t collision_count)
{
    json_int_t replicas = 0, ready = 0, avail = 0, current = 0, updated = 0;
    json_int_t min_ready = jint(spec_of(v->set), "minReadySeconds", 0);
    json_t *p;
    size_t i;
    json_array_foreach(v->pods, i, p)
    {
        if (ctl_sts_ordinal(name_of(v->set), name_of(p)) < 0)
            continue;
        bool created = *phase(p) != '\0';
        replicas += created;
        if (running_ready(p)) {
            ready++;
            avail += available(p, min_ready, v->now_ms);
        }
        if (created && !terminating(p)) {
            current += strcmp(pod_revision(p), v->cur_rev) == 0;
            updated += strcmp(pod_revision(p), v->upd_rev) == 0;
        }
    }
    const char *cur = v->cur_rev;
    json_int_t want = replicas_of(v->set);
    json_t *strategy = jat(spec_of(v->set), "updateStrategy");
    /* completeRollingUpdate */
    if (strcmp(ctl_str(strategy, "type"), "OnDelete") != 0 && updated == want && ready == want &&
        replicas == want) {
        cur = v->upd_rev;
        current = updated;
    }
    json_t *st = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:I}", "observedGeneration",
                           jint(meta(v->set), "generation", 0), "replicas", replicas,
                           "readyReplicas", ready, "currentReplicas", current, "updatedReplicas",
                           updated, "availableReplicas", avail, "currentRevision", cur,
                           "updateRevision", v->upd_rev, "collisionCount", collision_count);
    json_t *conds = jat(jat(v->set, "status"), "conditions");
    if (json_is_array(conds))
        json_object_set(st, "conditions", conds);
    return st;
}

bool ctl_sts_status_differs(json_t *a, json_t *b)
{
    static const char *const ints[] = {"observedGeneration", "replicas",        "readyReplicas",
                                       "currentReplicas",    "updatedReplicas", "availableReplicas",
                                       "collisionCount"};
    static const char *const strs[] = {"currentRevision", "updateRevision"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (jint(a, ints[i], 0) != jint(b, ints[i], 0))
            return true;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strcmp(ctl_str(a, strs[i]), ctl_str(b, strs[i])) != 0)
            return true;
    return false;
}

/* ==== I/O: reading ==== */

/* The ControllerRevisions in ns that the set controls, sorted. */
static json_t *revisions_owned(struct ctl *c, const char *ns, json_t *set)
{
    json_t *all = ctl_list(c, "controllerrevisions", ns, uid_of(set)), *mine = json_array(), *r;
    size_t i;
    json_array_foreach(all, i, r)
    {
        json_t *ref = ctl_controller_ref(r);
        if (ref && ref_is(ref, uid_of(set)))
            json_array_append(mine, r);
    }
    json_decref(all);
    json_t *sorted = ctl_sts_revisions_sorted(mine);
    json_decref(mine);
    return sorted;
}

static json_t *find_named(json_t *arr, const char *name)
{
    json_t *o;
    size_t i;
    json_array_foreach(arr, i, o) if (strcmp(name_of(o), name) == 0) return o;
    return NULL;
}

/* ==== I/O: the update revision ==== */

static bool object_path(const char *resource, const char *ns, const char *name, char *buf,
                        size_t len)
{
    return ctl_object_path(resource, ns, name, buf, len);
}

/* The path of the collection (for a POST). */
static bool collection_path(const char *resource, const char *ns, char *buf, size_t len)
{
    return ctl_object_path(resource, ns, NULL, buf, len);
}

/* A new ControllerRevision for data, numbered rev, named by the hash of
 * data and the collision count (history.NewControllerRevision). */
static json_t *new_revision(json_t *set, json_t *data, json_int_t rev, json_int_t collisions)
{
    char hash[16], name[320];
    json_t *cc = json_integer(collisions);
    ctl_template_hash(data, cc, hash, sizeof hash);
    json_decref(cc);
    snprintf(name, sizeof name, "%.240s-%s", name_of(set), hash);
    json_t *tl = jat(meta(jat(spec_of(set), "template")), "labels");
    json_t *labels = json_is_object(tl) ? json_deep_copy(tl) : json_object();
    json_object_set_new(labels, CTL_STS_HASH_LABEL, json_string(hash));
    json_t *refs = json_array();
    json_array_append_new(refs, ctl_owner_ref(set, "apps/v1", "StatefulSet"));
    json_t *md = json_pack("{s:s, s:s, s:o, s:o}", "name", name, "namespace",
                           ctl_str(meta(set), "namespace"), "labels", labels, "ownerReferences",
                           refs);
    json_t *ann = jat(meta(set), "annotations");
    if (json_is_object(ann) && json_object_size(ann))
        json_object_set_new(md, "annotations", json_deep_copy(ann));
    return json_pack("{s:s, s:s, s:o, s:O, s:I}", "apiVersion", "apps/v1", "kind",
                     "ControllerRevision", "metadata", md, "data", data, "revision", rev);
}

/* Creates the revision for data, bumping *collisions while its name is
 * taken by other data (CreateControllerRevision). New, or NULL. */
static json_t *create_revision(struct ctl *c, json_t *set, json_t *data, json_int_t next,
                               json_int_t *collisions)
{
    const char *ns = ctl_str(meta(set), "namespace");
    char path[600];
    collection_path("controllerrevisions", ns, path, sizeof path);
    for (int tries = 0; tries < 8; tries++) {
        json_t *cr = new_revision(set, data, next, *collisions), *reply = NULL;
        int st = ctl_api(c, "POST", path, NULL, cr, &reply);
        if (st == 201) {
            json_decref(cr);
            return reply;
        }
        json_decref(reply);
        if (st != 409) {
            LOG_WARN("statefulset %s/%s: cannot create revision %s: %d", ns, name_of(set),
                     name_of(cr), st);
            json_decref(cr);
            return NULL;
        }
        json_t *have = ctl_get(c, "controllerrevisions", ns, name_of(cr));
        json_decref(cr);
        if (have && json_equal(jat(have, "data"), data))
            return have; /* made before (by us, or a leader before us) */
        json_decref(have);
        ++*collisions;
    }
    return NULL;
}

/* getStatefulSetRevisions' update revision: the newest revision if its data
 * is the set's, an older equal one renumbered as the newest (a rollback),
 * or a new one. Returns a new reference, or NULL (retry). */
static json_t *update_revision(struct ctl *c, json_t *set, json_t *sorted, json_int_t *collisions)
{
    json_t *data = ctl_sts_revision_data(set);
    size_t n = json_array_size(sorted);
    json_int_t next = n ? jint(json_array_get(sorted, n - 1), "revision", 0) + 1 : 1;
    int eq = ctl_sts_equal_revision(sorted, data);
    json_t *out = NULL;
    if (eq >= 0 && (size_t)eq == n - 1) {
        out = json_incref(json_array_get(sorted, n - 1));
    } else if (eq >= 0) {
        json_t *r = json_deep_copy(json_array_get(sorted, (size_t)eq));
        char path[600];
        json_object_set_new(r, "revision", json_integer(next));
        object_path("controllerrevisions", ctl_str(meta(set), "namespace"), name_of(r), path,
                    sizeof path);
        int st = ctl_api(c, "PUT", path, NULL, r, &out);
        if (st != 200) {
            json_decref(out);
            out = NULL;
        }
        json_decref(r);
    } else {
        out = create_revision(c, set, data, next, collisions);
    }
    json_decref(data);
    return out;
}

/* ==== I/O: claims ==== */

struct sync_ctx {
    struct ctl *c;
    json_t *set;
    const char *ns;
    json_t *claims; /* this namespace's claims that may be the set's */
    unsigned events; /* recorded in this sync */
    bool ok;
    bool retry_soon;
};

static int put_object(struct ctl *c, const char *resource, json_t *obj)
{
    char path[600];
    if (!object_path(resource, ctl_str(meta(obj), "namespace"), name_of(obj), path, sizeof path))
        return -1;
    return ctl_api(c, "PUT", path, NULL, obj, NULL);
}

/* Sets the owner references of the pod's claims as the retention policy
 * wants them (before a condemned pod goes, so the collector takes its
 * claims with it). */
static void fix_claim_refs(struct sync_ctx *x, json_t *pod, bool in_range)
{
    json_t *want = ctl_sts_new_claims(x->set, ctl_sts_ordinal(name_of(x->set), name_of(pod))), *w;
    size_t i;
    json_array_foreach(want, i, w)
    {
        json_t *claim = find_named(x->claims, name_of(w));
        if (!claim || jat(meta(claim), "deletionTimestamp"))
            continue;
        json_t *refs = ctl_sts_claim_refs(x->set, pod, in_range, claim);
        json_t *have = jat(meta(claim), "ownerReferences");
        bool same = json_equal(refs, have) || (!have && json_array_size(refs) == 0);
        if (!same) {
            json_t *next = json_deep_copy(claim);
            if (json_array_size(refs))
                json_object_set(meta(next), "ownerReferences", refs);
            else
                json_object_del(meta(next), "ownerReferences");
            int st = put_object(x->c, "persistentvolumeclaims", next);
            x->ok &= st == 200 || st == 404;
            json_decref(next);
        }
        json_decref(refs);
    }
    json_decref(want);
}

/* Records an Event about the set, at most EVENT_BUDGET per sync: like
 * Kubernetes' recorder, which lets an object burst 25 events and then
 * drops most, a big Parallel set must not spend its sync on events. */
#define EVENT_BUDGET 25
static void set_event(struct sync_ctx *x, const char *type, const char *reason, const char *what,
                      const char *detail)
{
    if (x->events++ >= EVENT_BUDGET)
        return;
    if (strcmp(reason, "RecreatingFailedPod") == 0)
        ctl_event(x->c, "statefulsets", x->set, type, reason,
                  "StatefulSet %s/%s is recreating failed Pod %s", x->ns, name_of(x->set), what);
    else if (detail)
        ctl_event(x->c, "statefulsets", x->set, type, reason,
                  "create Claim %s Pod %s in StatefulSet %s success", what, detail,
                  name_of(x->set));
    else
        ctl_event(x->c, "statefulsets", x->set, type, reason, "%s Pod %s in StatefulSet %s successful",
                  strcmp(reason, "SuccessfulCreate") == 0 ? "create" : "delete", what,
                  name_of(x->set));
}

/* Queues (in calls, up to *n) a POST for each claim of ordinal that does
 * not exist. False if the pod cannot have its claims now: one is being
 * deleted, or (for a pod about to be created, new_pod) about to be
 * collected with an earlier pod of that name. Both wait a moment. */
static bool queue_claims(struct sync_ctx *x, int ordinal, bool new_pod, struct ctl_call **calls,
                         size_t *n, size_t *cap)
{
    char pod_name[320];
    snprintf(pod_name, sizeof pod_name, "%s-%d", name_of(x->set), ordinal);
    json_t *want = ctl_sts_new_claims(x->set, ordinal), *w;
    bool ok = true;
    size_t i;
    json_array_foreach(want, i, w)
    {
        json_t *have = find_named(x->claims, name_of(w));
        if (have && (jat(meta(have), "deletionTimestamp") ||
                     (new_pod && ctl_sts_claim_stale(x->set, have, pod_name, "")))) {
            x->retry_soon = true;
            ok = false;
        }
    }
    json_array_foreach(want, i, w)
    {
        if (!ok || find_named(x->claims, name_of(w)))
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *calls = xrealloc(*calls, *cap * sizeof **calls);
        }
        struct ctl_call *k = &(*calls)[(*n)++];
        memset(k, 0, sizeof *k);
        k->method = "POST";
        collection_path("persistentvolumeclaims", x->ns, k->path, sizeof k->path);
        k->body = json_incref(w);
    }
    json_decref(want);
    return ok;
}

/* Sends the queued claim creates; false if one failed (its pod waits). */
static bool send_claims(struct sync_ctx *x, struct ctl_call *calls, size_t n)
{
    bool ok = true;
    ctl_api_many(x->c, calls, n);
    for (size_t i = 0; i < n; i++) {
        const char *cn = name_of(calls[i].body);
        if (calls[i].status == 201) {
            char pod_name[320]; /* TEMPLATE-SET-N is the claim of pod SET-N */
            snprintf(pod_name, sizeof pod_name, "%s%s", name_of(x->set), strrchr(cn, '-'));
            set_event(x, "Normal", "SuccessfulCreate", cn, pod_name);
        } else if (calls[i].status != 409) {
            LOG_WARN("statefulset %s/%s: cannot create claim %s: %d", x->ns, name_of(x->set), cn,
                     calls[i].status);
            ok = false;
        }
        json_decref(calls[i].body);
    }
    return ok;
}

/* The pods to create, after their claims: all claims at once, then all
 * pods at once (Parallel makes many; ctl_api_many lets the server commit
 * them together). */
static void do_creates(struct sync_ctx *x, const struct ctl_sts_plan *plan, json_t *cur_tmpl,
                       json_t *upd_tmpl, const char *cur_rev, const char *upd_rev)
{
    struct ctl_call *cc = NULL, *calls = xcalloc(plan->n + 1, sizeof *calls);
    size_t n_cc = 0, cap_cc = 0, n = 0;
    for (size_t i = 0; i < plan->n; i++) {
        const struct ctl_sts_action *a = &plan->v[i];
        if (a->op != CTL_STS_CREATE || !queue_claims(x, a->ordinal, true, &cc, &n_cc, &cap_cc))
            continue;
        calls[n].method = "POST";
        collection_path("pods", x->ns, calls[n].path, sizeof calls[n].path);
        calls[n].body = ctl_sts_new_pod(x->set, a->at_current ? cur_tmpl : upd_tmpl, a->ordinal,
                                        a->at_current ? cur_rev : upd_rev);
        n++;
    }
    /* A pod never goes without its claims: if any claim failed, no pod
     * now (the next sync tries both again). */
    if (!send_claims(x, cc, n_cc)) {
        x->ok = false;
        for (size_t i = 0; i < n; i++)
            json_decref(calls[i].body);
        n = 0;
    }
    free(cc);
    ctl_api_many(x->c, calls, n);
    for (size_t i = 0; i < n; i++) {
        const char *pn = name_of(calls[i].body);
        if (calls[i].status == 201) {
            set_event(x, "Normal", "SuccessfulCreate", pn, NULL);
        } else if (calls[i].status == 409) {
            /* Not ours (the claim took ours and the orphans it could):
             * retried with a backoff until the name is free, as
             * Kubernetes' sync fails on AlreadyExists. */
            LOG_DEBUG("statefulset %s/%s: pod %s exists", x->ns, name_of(x->set), pn);
            x->ok = false;
        } else {
            LOG_WARN("statefulset %s/%s: cannot create pod %s: %d", x->ns, name_of(x->set), pn,
                     calls[i].status);
            x->ok = false;
        }
        json_decref(calls[i].body);
    }
    free(calls);
}

static void do_deletes(struct sync_ctx *x, const struct ctl_sts_plan *plan, json_int_t replicas,
                       json_int_t start)
{
    struct ctl_call *calls = xcalloc(plan->n + 1, sizeof *calls);
    const struct ctl_sts_action **acts = xcalloc(plan->n + 1, sizeof *acts);
    size_t n = 0;
    for (size_t i = 0; i < plan->n; i++) {
        const struct ctl_sts_action *a = &plan->v[i];
        if (a->op != CTL_STS_DELETE)
            continue;
        /* A claim follows its scaled-away pod only if it says so first. */
        if (strcmp(a->reason, "scale-down") == 0)
            fix_claim_refs(x, a->pod, a->ordinal >= start && a->ordinal < start + replicas);
        if (!x->ok)
            break;
        calls[n].method = "DELETE";
        object_path("pods", x->ns, name_of(a->pod), calls[n].path, sizeof calls[n].path);
        calls[n].body = json_pack("{s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
                                  "v1", "preconditions", "uid", uid_of(a->pod));
        acts[n++] = a;
    }
    ctl_api_many(x->c, calls, n);
    for (size_t i = 0; i < n; i++) {
        int st = calls[i].status;
        const char *pn = name_of(acts[i]->pod);
        if (st == 200 || st == 202) {
            if (strcmp(acts[i]->reason, "failed") == 0)
                set_event(x, "Warning", "RecreatingFailedPod", pn, NULL);
            set_event(x, "Normal", "SuccessfulDelete", pn, NULL);
        } else if (st != 404 && st != 409) {
            LOG_WARN("statefulset %s/%s: cannot delete pod %s: %d", x->ns, name_of(x->set), pn,
                     st);
            x->ok = false;
        }
        json_decref(calls[i].body);
    }
    free(calls);
    free(acts);
}

/* Claims of existing pods: created if missing while the pod is Pending
 * (createMissingPersistentVolumeClaims), owner references as the policy
 * wants them for pods in range. */
static void tend_claims(struct sync_ctx *x, json_t *pods)
{
    json_int_t start = start_of(x->set), n = replicas_of(x->set);
    struct ctl_call *cc = NULL;
    size_t n_cc = 0, cap_cc = 0;
    json_t *p;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        int ord = ctl_sts_ordinal(name_of(x->set), name_of(p));
        if (ord < 0 || terminating(p))
            continue;
        bool in_range = ord >= start && ord < start + n;
        if (in_range && strcmp(phase(p), "Pending") == 0)
            queue_claims(x, ord, false, &cc, &n_cc, &cap_cc);
        if (in_range)
            fix_claim_refs(x, p, true);
    }
    x->ok &= send_claims(x, cc, n_cc);
    free(cc);
}

static void truncate_history(struct sync_ctx *x, json_t *sorted, json_t *pods, const char *cur,
                             const char *upd)
{
    json_t *names = ctl_sts_history_to_delete(x->set, sorted, pods, cur, upd), *v;
    size_t i;
    json_array_foreach(names, i, v)
    {
        char path[600];
        object_path("controllerrevisions", x->ns, json_string_value(v), path, sizeof path);
        int st = ctl_api(x->c, "DELETE", path, NULL, NULL, NULL);
        x->ok &= st == 200 || st == 202 || st == 404;
    }
    json_decref(names);
}

static bool write_status(struct sync_ctx *x, json_t *status)
{
    if (!ctl_sts_status_differs(jat(x->set, "status"), status))
        return true;
    json_t *next = json_deep_copy(x->set);
    json_object_set(next, "status", status);
    int st = ctl_status_update(x->c, "statefulsets", next);
    json_decref(next);
    if (st != 200 && st != 404)
        LOG_DEBUG("statefulset %s/%s: status update: %d", x->ns, name_of(x->set), st);
    return st == 200 || st == 404;
}

/* Pods Ready but short of minReadySeconds: sync again when the first of
 * them becomes available. */
static void requeue_for_available(struct sync_ctx *x, json_t *pods, int64_t now_ms)
{
    json_int_t min_ready = jint(spec_of(x->set), "minReadySeconds", 0);
    if (min_ready <= 0)
        return;
    int64_t soonest = -1;
    json_t *p;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        if (!running_ready(p) || available(p, min_ready, now_ms))
            continue;
        int64_t since =
            util_time_parse(ctl_str(ctl_condition_get(p, "Ready"), "lastTransitionTime"));
        int64_t at = since >= 0 ? since + min_ready * 1000 : now_ms + 1000;
        soonest = soonest < 0 || at < soonest ? at : soonest;
    }
    if (soonest >= 0) {
        int64_t d = soonest - now_ms + 50;
        ctl_enqueue_after(x->c, STS, "statefulsets", x->ns, name_of(x->set),
                          (unsigned)(d < 50 ? 50 : d > 600000 ? 600000 : d));
    }
}

/* ==== sync ==== */

/* Acts on one set whose revisions are known; false to retry. */
static bool sync_set(struct sync_ctx *x, json_t *pods, json_t *sorted, json_t *cur, json_t *upd,
                     json_int_t collisions)
{
    char needle[300];
    snprintf(needle, sizeof needle, "-%s-", name_of(x->set));
    x->claims = ctl_list(x->c, "persistentvolumeclaims", x->ns, needle);
    int64_t now = util_wall_ms();
    struct ctl_sts_view v = {x->set, pods, name_of(cur), name_of(upd), now};
    json_t *cur_tmpl = ctl_sts_revision_template(cur), *upd_tmpl = ctl_sts_revision_template(upd);
    if (!cur_tmpl || !upd_tmpl) {
        LOG_WARN("statefulset %s/%s: revision without a template", x->ns, name_of(x->set));
        x->ok = false;
    }
    struct ctl_sts_plan plan;
    ctl_sts_plan(&v, &plan);
    if (x->ok && !jat(meta(x->set), "deletionTimestamp")) {
        tend_claims(x, pods);
        do_creates(x, &plan, cur_tmpl, upd_tmpl, v.cur_rev, v.upd_rev);
        if (x->ok)
            do_deletes(x, &plan, replicas_of(x->set), start_of(x->set));
    }
    json_t *status = ctl_sts_status(&v, collisions);
    x->ok = write_status(x, status) && x->ok;
    json_decref(status);
    if (x->ok)
        truncate_history(x, sorted, pods, v.cur_rev, v.upd_rev);
    requeue_for_available(x, pods, now);
    if (x->retry_soon)
        ctl_enqueue_after(x->c, STS, "statefulsets", x->ns, name_of(x->set),
                          STALE_CLAIM_RETRY_MS);
    ctl_sts_plan_free(&plan);
    json_decref(cur_tmpl);
    json_decref(upd_tmpl);
    json_decref(x->claims);
    return x->ok;
}

/* isMemberOf, the claim's filter: SET-ORDINAL pods only. */
static bool member_filter(json_t *set, json_t *pod)
{
    return ctl_sts_is_member(name_of(set), name_of(pod));
}

/* adoptOrphanRevisions: the revisions of the namespace with no controller
 * that the selector matches become the set's (none is released). */
static bool adopt_orphan_revisions(struct ctl *c, json_t *set, const struct kube_selector *sel)
{
    json_t *all = ctl_list_claimable(c, "controllerrevisions", ctl_str(meta(set), "namespace"),
                                     uid_of(set));
    json_t *orphans = json_array(), *r;
    size_t i;
    json_array_foreach(all, i, r) if (!ctl_controller_ref(r)) json_array_append(orphans, r);
    struct ctl_claimer m = {.c = c, .owner = set, .owner_resource = "statefulsets",
                            .api_version = "apps/v1", .kind = "StatefulSet", .sel = sel};
    bool ok = true;
    json_decref(ctl_claim(&m, "controllerrevisions", orphans, &ok));
    json_decref(orphans);
    json_decref(all);
    return ok;
}

/* The set's revisions, pods and the sync; false to retry. */
static bool sync_claimed(struct ctl *c, json_t *set, const struct kube_selector *sel)
{
    const char *ns = ctl_str(meta(set), "namespace");
    bool claimed = true;
    json_t *pods = NULL;
    if (adopt_orphan_revisions(c, set, sel)) { /* then getPodsForStatefulSet */
        struct ctl_claimer m = {.c = c, .owner = set, .owner_resource = "statefulsets",
                                .api_version = "apps/v1", .kind = "StatefulSet", .sel = sel,
                                .filter = member_filter};
        pods = ctl_claim_pods(&m, &claimed);
    }
    if (!pods || !claimed) { /* as sync(): a failed claim fails the sync */
        json_decref(pods);
        return false;
    }
    struct sync_ctx x = {.c = c, .set = set, .ns = ns, .ok = true};
    json_t *sorted = revisions_owned(c, ns, set);
    json_int_t collisions = jint(jat(set, "status"), "collisionCount", 0);
    json_t *upd = update_revision(c, set, sorted, &collisions);
    bool ok = false;
    if (upd) {
        /* The history as it is now (upd may be new or renumbered). */
        json_decref(sorted);
        sorted = revisions_owned(c, ns, set);
        json_t *cur = find_named(sorted, ctl_str(jat(set, "status"), "currentRevision"));
        ok = sync_set(&x, pods, sorted, cur ? cur : upd, upd, collisions);
        json_decref(upd);
    }
    json_decref(sorted);
    json_decref(pods);
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    json_t *set = ctl_get(c, "statefulsets", ns, name);
    if (!set)
        return true; /* gone: the garbage collector takes what it owned */
    if (jat(meta(set), "deletionTimestamp")) {
        json_decref(set);
        return true;
    }
    char err[128];
    struct kube_selector *sel = kube_selector_from_json(jat(spec_of(set), "selector"), err,
                                                        sizeof err);
    bool ok = true;
    if (sel) /* a bad one is no transient error: not retried, as Kubernetes */
        ok = sync_claimed(c, set, sel);
    else
        LOG_WARN("statefulset %s/%s: bad selector: %s", ns, name, err);
    kube_selector_free(sel);
    json_decref(set);
    return ok;
}

/* ==== the change stream ==== */

static bool res_is(const struct store_event *e, const char *res)
{
    size_t n = strlen(res);
    return e->o.resource_len == n && memcmp(e->o.resource, res, n) == 0;
}

/* Every pod: an orphan may be adopted, a pod that lost its controller may
 * have been a set's. */
static bool wants(const struct store_event *e)
{
    if (res_is(e, "statefulsets") || res_is(e, "persistentvolumeclaims") || res_is(e, "pods"))
        return true;
    return res_is(e, "controllerrevisions") && ctl_obj_has(&e->o, "StatefulSet");
}

static void enqueue_all_in(struct ctl *c, const char *ns)
{
    json_t *sets = ctl_list(c, "statefulsets", ns, NULL), *s;
    size_t i;
    json_array_foreach(sets, i, s)
        ctl_enqueue(c, STS, "statefulsets", ctl_str(meta(s), "namespace"), name_of(s));
    json_decref(sets);
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    if (res_is(e, "statefulsets")) {
        ctl_enqueue(c, STS, "statefulsets", ns, name);
        return;
    }
    if (res_is(e, "persistentvolumeclaims")) {
        /* A claim a pod waits for may be gone now. Rare: every set of the
         * namespace looks again. */
        if (e->type == STORE_DELETED || jat(meta(obj), "deletionTimestamp"))
            enqueue_all_in(c, ns);
        return;
    }
    json_t *ref = ctl_controller_ref(obj);
    if (ref && strcmp(ctl_str(ref, "kind"), "StatefulSet") == 0)
        ctl_enqueue(c, STS, "statefulsets", ns, ctl_str(ref, "name"));
    if (ref || !res_is(e, "pods") || e->type == STORE_DELETED || terminating(obj))
        return; /* nobody adopts an orphan that goes */
    ctl_enqueue_previous_owner(c, e, STS, "statefulsets", "StatefulSet");
    ctl_enqueue_selecting(c, STS, "statefulsets", ns, obj);
}

static void resync(struct ctl *c)
{
    enqueue_all_in(c, NULL);
}

const struct ctl_def ctl_statefulset = {
    .name = STS,
    .component = "statefulset-controller",
    .wants = wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
};
