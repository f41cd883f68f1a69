/* deployment.c — the Deployment controller: rolls a Deployment's pod
 * template out through ReplicaSets, as Kubernetes' deployment controller
 * does (pkg/controller/deployment).
 *
 * Each distinct pod template gets a ReplicaSet named
 * "<deployment>-<hash>" (ctl_template_hash of the template and
 * status.collisionCount), whose selector, template labels and own labels
 * carry pod-template-hash=<hash>. The ReplicaSet whose template equals the
 * deployment's (but for that label) is the new one; every other one it
 * controls is old. Its revision (annotation deployment.kubernetes.io/
 * revision) is one more than the largest old revision — so a rollback,
 * which puts an old template back, makes that old ReplicaSet the newest
 * revision, the revisions it had kept in revision-history.
 *
 * A sync (level-triggered, from the stored deployment and ReplicaSets):
 *  1. claims ReplicaSets: adopts matching orphans, releases those that
 *     stopped matching (ownerReferences patches);
 *  2. a deployment being deleted only gets its status; a paused one and a
 *     scaling event (spec.replicas differs from an active ReplicaSet's
 *     desired-replicas annotation) are scaled (ctl_deploy_scale: in
 *     proportion during a rollout) without rollout progress;
 *  3. RollingUpdate: create the new ReplicaSet if missing, then either
 *     scale it up within maxSurge (ctl_deploy_reconcile_new) or, if it
 *     could not, scale old ones down within maxUnavailable
 *     (ctl_deploy_reconcile_old); Recreate: scale every old one to 0, wait
 *     until none of their pods is left, then create and scale up the new;
 *  4. once complete, deletes old ReplicaSets with no replicas past
 *     revisionHistoryLimit;
 *  5. writes the status: counts, the Available condition, and the
 *     Progressing condition (NewReplicaSetCreated, FoundNewReplicaSet,
 *     ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded,
 *     DeploymentPaused/Resumed), and requeues itself for the deadline.
 * The decisions are pure functions on working copies of the ReplicaSets
 * (ctl_internal.h); the sync then writes every ReplicaSet whose size or
 * replica annotations changed, recording "ScalingReplicaSet" events.
 *
 * One guard Kubernetes gets from its informers' timing: the rollout steps
 * wait until every ReplicaSet's status has observed its latest spec
 * (status.observedGeneration), so availability is never judged from the
 * counts of a size the ReplicaSet controller has not acted on yet. */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define DC "deployment"
#define MAX_INT32 2147483647

static json_t *meta(json_t *o)
{
    return json_object_get(o, "metadata");
}

static json_t *spec(json_t *o)
{
    return json_object_get(o, "spec");
}

static json_t *status(json_t *o)
{
    return json_object_get(o, "status");
}

static int32_t st_int(json_t *o, const char *k)
{
    return (int32_t)json_integer_value(json_object_get(status(o), k));
}

/* Sets (or, for 0, removes: Go's omitempty) an integer member. */
static void set_count(json_t *o, const char *k, int64_t v)
{
    if (v)
        json_object_set_new(o, k, json_integer(v));
    else
        json_object_del(o, k);
}

static json_t *annotations(json_t *o)
{
    json_t *md = meta(o), *a = json_object_get(md, "annotations");
    if (!json_is_object(a)) {
        a = json_object();
        json_object_set_new(md, "annotations", a);
    }
    return a;
}

static void format_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- arithmetic ---- */

int32_t ctl_deploy_replicas(json_t *obj)
{
    json_t *r = json_object_get(spec(obj), "replicas");
    return json_is_integer(r) ? (int32_t)json_integer_value(r) : 1;
}

bool ctl_deploy_scaled(json_t *v, int32_t total, bool round_up, int32_t *out)
{
    if (json_is_integer(v)) {
        *out = (int32_t)json_integer_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    char *end;
    long pct = s ? strtol(s, &end, 10) : 0;
    if (!s || end == s || strcmp(end, "%") != 0)
        return false;
    int64_t num = (int64_t)pct * total;
    *out = (int32_t)(round_up ? (num + 99) / 100 : num / 100);
    return true;
}

static bool is_rolling(json_t *d)
{
    json_t *st = json_object_get(spec(d), "strategy");
    return strcmp(ctl_str(st, "type"), "Recreate") != 0;
}

static void fenceposts(json_t *d, int32_t *surge, int32_t *unavail)
{
    json_t *ru = json_object_get(json_object_get(spec(d), "strategy"), "rollingUpdate");
    int32_t n = ctl_deploy_replicas(d);
    json_t *ms = json_object_get(ru, "maxSurge"), *mu = json_object_get(ru, "maxUnavailable");
    *surge = *unavail = 0;
    if (ms && !ctl_deploy_scaled(ms, n, true, surge))
        *surge = 0;
    if (mu && !ctl_deploy_scaled(mu, n, false, unavail))
        *unavail = 0;
    if (*surge == 0 && *unavail == 0)
        *unavail = 1; /* as Kubernetes: surge may be impossible (quota) */
}

int32_t ctl_deploy_max_surge(json_t *d)
{
    int32_t s, u;
    if (!is_rolling(d))
        return 0;
    fenceposts(d, &s, &u);
    return s;
}

int32_t ctl_deploy_max_unavailable(json_t *d)
{
    int32_t s, u, n = ctl_deploy_replicas(d);
    if (!is_rolling(d) || n == 0)
        return 0;
    fenceposts(d, &s, &u);
    return u > n ? n : u;
}

static int32_t sum_spec(json_t *rss)
{
    int32_t n = 0;
    json_t *rs;
    size_t i;
    json_array_foreach(rss, i, rs) if (json_is_object(rs)) n += ctl_deploy_replicas(rs);
    return n;
}

static int32_t sum_status(json_t *rss, const char *k)
{
    int32_t n = 0;
    json_t *rs;
    size_t i;
    json_array_foreach(rss, i, rs) if (json_is_object(rs)) n += st_int(rs, k);
    return n;
}

/* The available pods a rollout may count on: per ReplicaSet, its status'
 * availableReplicas but never more than its spec. A ReplicaSet's status is
 * computed from its pods as they were before its own sync deleted the
 * surplus (as Kubernetes' calculateStatus does), so right after a
 * scale-down it still counts pods that are going; trusting it would let a
 * second scale-down take availability below replicas - maxUnavailable. */
static int32_t sum_available(json_t *rss)
{
    int32_t n = 0;
    json_t *rs;
    size_t i;
    json_array_foreach(rss, i, rs) if (json_is_object(rs))
    {
        int32_t avail = st_int(rs, "availableReplicas"), want = ctl_deploy_replicas(rs);
        n += avail < want ? avail : want;
    }
    return n;
}

/* ---- templates, revisions, annotations ---- */

/* Drops nulls and empty objects and arrays, recursively: what Kubernetes'
 * semantic equality of typed templates does not see (kubectl's rollback
 * patch, for one, carries "creationTimestamp": null). */
static void strip_empty(json_t *v)
{
    if (json_is_array(v)) {
        json_t *x;
        size_t i;
        json_array_foreach(v, i, x) strip_empty(x);
        return;
    }
    if (!json_is_object(v))
        return;
    const char *k;
    json_t *x;
    void *tmp;
    json_object_foreach_safe(v, tmp, k, x)
    {
        strip_empty(x);
        if (json_is_null(x) || (json_is_object(x) && json_object_size(x) == 0) ||
            (json_is_array(x) && json_array_size(x) == 0))
            json_object_del(v, k);
    }
}

static json_t *template_without_hash(json_t *t)
{
    json_t *c = json_deep_copy(t);
    strip_empty(c);
    json_t *md = json_object_get(c, "metadata");
    json_t *labels = json_object_get(md, "labels");
    json_object_del(labels, CTL_DEPLOY_HASH_LABEL);
    if (labels && json_object_size(labels) == 0)
        json_object_del(md, "labels");
    if (md && json_object_size(md) == 0)
        json_object_del(c, "metadata");
    return c;
}

bool ctl_deploy_template_equal(json_t *a, json_t *b)
{
    json_t *x = template_without_hash(a), *y = template_without_hash(b);
    bool eq = json_equal(x, y);
    json_decref(x);
    json_decref(y);
    return eq;
}

static int cmp_age(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int64_t ta = util_time_parse(ctl_str(meta(a), "creationTimestamp"));
    int64_t tb = util_time_parse(ctl_str(meta(b), "creationTimestamp"));
    if (ta != tb)
        return ta < tb ? -1 : 1;
    return strcmp(ctl_str(meta(a), "name"), ctl_str(meta(b), "name"));
}

/* Sorts a JSON array with a comparator of json_t pointers. */
static void sort_array(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr);
    json_t **v = xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}

void ctl_deploy_sort_by_age(json_t *rss)
{
    sort_array(rss, cmp_age);
}

json_t *ctl_deploy_find_new(json_t *d, json_t *rss, json_t **old)
{
    json_t *tmpl = json_object_get(spec(d), "template"), *found = NULL, *rs;
    size_t i;
    ctl_deploy_sort_by_age(rss);
    json_array_foreach(rss, i, rs) if (ctl_deploy_template_equal(
                                           json_object_get(spec(rs), "template"), tmpl))
    {
        found = rs;
        break;
    }
    if (old) {
        *old = json_array();
        json_array_foreach(rss, i, rs) if (rs != found) json_array_append(*old, rs);
    }
    return found;
}

int64_t ctl_deploy_revision(json_t *rs)
{
    const char *v = ctl_str(json_object_get(meta(rs), "annotations"), CTL_DEPLOY_REVISION);
    char *end;
    long long n = strtoll(v, &end, 10);
    return *v && !*end && n > 0 ? n : 0;
}

int64_t ctl_deploy_max_revision(json_t *rss)
{
    int64_t m = 0;
    json_t *rs;
    size_t i;
    json_array_foreach(rss, i, rs)
    {
        int64_t v = ctl_deploy_revision(rs);
        m = v > m ? v : m;
    }
    return m;
}

static bool skip_annotation(const char *k)
{
    static const char *const skip[] = {"kubectl.kubernetes.io/last-applied-configuration",
                                       CTL_DEPLOY_REVISION, CTL_DEPLOY_REVISION_HISTORY,
                                       CTL_DEPLOY_DESIRED, CTL_DEPLOY_MAX,
                                       "deprecated.deployment.rollback.to"};
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (strcmp(k, skip[i]) == 0)
            return true;
    return false;
}

static bool set_annotation(json_t *o, const char *k, const char *v)
{
    json_t *a = annotations(o);
    if (strcmp(ctl_str(a, k), v) == 0 && json_object_get(a, k))
        return false;
    json_object_set_new(a, k, json_string(v));
    return true;
}

/* Appends old to the comma-separated history, dropping the oldest entries
 * past CTL_DEPLOY_MAX_HISTORY_CHARS. */
static void history_append(json_t *rs, const char *old)
{
    const char *h = ctl_str(json_object_get(meta(rs), "annotations"), CTL_DEPLOY_REVISION_HISTORY);
    if (!*h) {
        set_annotation(rs, CTL_DEPLOY_REVISION_HISTORY, old);
        return;
    }
    size_t total = strlen(h) + strlen(old) + 1;
    const char *start = h;
    while (total > CTL_DEPLOY_MAX_HISTORY_CHARS && start) {
        const char *comma = strchr(start, ',');
        size_t part = comma ? (size_t)(comma - start) : strlen(start);
        total -= part + 1;
        start = comma ? comma + 1 : NULL;
    }
    if (total > CTL_DEPLOY_MAX_HISTORY_CHARS)
        return;
    struct ubuf b = {0};
    if (start && *start)
        ubuf_appendf(&b, "%s,", start);
    ubuf_appendf(&b, "%s", old);
    ubuf_append(&b, "", 1);
    set_annotation(rs, CTL_DEPLOY_REVISION_HISTORY, b.data);
    ubuf_free(&b);
}

bool ctl_deploy_set_replicas_annotations(json_t *d, json_t *rs)
{
    char desired[16], max[16];
    snprintf(desired, sizeof desired, "%d", ctl_deploy_replicas(d));
    snprintf(max, sizeof max, "%d", ctl_deploy_replicas(d) + ctl_deploy_max_surge(d));
    bool a = set_annotation(rs, CTL_DEPLOY_DESIRED, desired);
    bool b = set_annotation(rs, CTL_DEPLOY_MAX, max);
    return a || b;
}

bool ctl_deploy_set_new_rs_annotations(json_t *d, json_t *rs, int64_t new_revision, bool exists)
{
    bool changed = false;
    json_t *da = json_object_get(meta(d), "annotations"), *v;
    const char *k;
    json_t *ra = annotations(rs);
    json_object_foreach(da, k, v)
    {
        json_t *have = json_object_get(ra, k);
        if (skip_annotation(k) || (have && json_equal(have, v)))
            continue;
        json_object_set(ra, k, v);
        changed = true;
    }
    const char *old = ctl_str(ra, CTL_DEPLOY_REVISION);
    bool had = json_object_get(ra, CTL_DEPLOY_REVISION) != NULL;
    char *end;
    long long old_rev = *old ? strtoll(old, &end, 10) : 0;
    if (*old && *end)
        return false; /* not a number: leave it */
    if (old_rev < new_revision) {
        char oldbuf[32], nb[32];
        snprintf(oldbuf, sizeof oldbuf, "%s", old);
        snprintf(nb, sizeof nb, "%lld", (long long)new_revision);
        set_annotation(rs, CTL_DEPLOY_REVISION, nb);
        changed = true;
        if (had)
            history_append(rs, oldbuf);
    }
    if (!exists && ctl_deploy_set_replicas_annotations(d, rs))
        changed = true;
    return changed;
}

/* ---- scaling ---- */

int32_t ctl_deploy_new_rs_replicas(json_t *d, json_t *all, json_t *new_rs)
{
    int32_t want = ctl_deploy_replicas(d), cur = ctl_deploy_replicas(new_rs);
    if (!is_rolling(d))
        return want;
    int32_t max_total = want + ctl_deploy_max_surge(d), current = sum_spec(all);
    if (current >= max_total)
        return cur;
    int32_t up = max_total - current;
    up = up < want - cur ? up : want - cur;
    return cur + up;
}

bool ctl_deploy_scale_rs(json_t *d, json_t *rs, int32_t n, bool force)
{
    bool size = ctl_deploy_replicas(rs) != n;
    char desired[16], max[16];
    snprintf(desired, sizeof desired, "%d", ctl_deploy_replicas(d));
    snprintf(max, sizeof max, "%d", ctl_deploy_replicas(d) + ctl_deploy_max_surge(d));
    json_t *a = json_object_get(meta(rs), "annotations");
    bool annos = strcmp(ctl_str(a, CTL_DEPLOY_DESIRED), desired) != 0 ||
                 strcmp(ctl_str(a, CTL_DEPLOY_MAX), max) != 0;
    if (!size && !(force && annos))
        return false;
    json_object_set_new(spec(rs), "replicas", json_integer(n));
    ctl_deploy_set_replicas_annotations(d, rs);
    return size;
}

bool ctl_deploy_reconcile_new(json_t *d, json_t *all, json_t *new_rs)
{
    int32_t want = ctl_deploy_replicas(d), cur = ctl_deploy_replicas(new_rs);
    if (cur == want)
        return false;
    if (cur > want)
        return ctl_deploy_scale_rs(d, new_rs, want, false);
    return ctl_deploy_scale_rs(d, new_rs, ctl_deploy_new_rs_replicas(d, all, new_rs), false);
}

/* Old ReplicaSets with unavailable replicas lose those first (they cannot
 * make availability worse), up to max; returns how many went. */
static int32_t cleanup_unhealthy(json_t *d, json_t *old, int32_t max)
{
    int32_t total = 0;
    json_t *rs;
    size_t i;
    ctl_deploy_sort_by_age(old);
    json_array_foreach(old, i, rs)
    {
        int32_t n = ctl_deploy_replicas(rs), avail = st_int(rs, "availableReplicas");
        if (total >= max)
            break;
        if (n == 0 || n <= avail)
            continue;
        int32_t down = max - total < n - avail ? max - total : n - avail;
        ctl_deploy_scale_rs(d, rs, n - down, false);
        total += down;
    }
    return total;
}

/* Scales old ReplicaSets down, oldest first, while the available pods stay
 * at least replicas - maxUnavailable. */
static int32_t scale_down_old(json_t *d, json_t *all, json_t *old)
{
    int32_t min_avail = ctl_deploy_replicas(d) - ctl_deploy_max_unavailable(d);
    int32_t avail = sum_available(all);
    if (avail <= min_avail)
        return 0;
    int32_t want = avail - min_avail, total = 0;
    json_t *rs;
    size_t i;
    ctl_deploy_sort_by_age(old);
    json_array_foreach(old, i, rs)
    {
        int32_t n = ctl_deploy_replicas(rs);
        if (total >= want)
            break;
        if (n == 0)
            continue;
        int32_t down = n < want - total ? n : want - total;
        ctl_deploy_scale_rs(d, rs, n - down, false);
        total += down;
    }
    return total;
}

static json_t *active_of(json_t *rss)
{
    json_t *out = json_array(), *rs;
    size_t i;
    json_array_foreach(rss, i, rs) if (json_is_object(rs) && ctl_deploy_replicas(rs) > 0)
        json_array_append(out, rs);
    return out;
}

bool ctl_deploy_reconcile_old(json_t *d, json_t *all, json_t *old, json_t *new_rs)
{
    json_t *active = active_of(old);
    int32_t old_count = sum_spec(active);
    bool scaled = false;
    if (old_count > 0) {
        int32_t min_avail = ctl_deploy_replicas(d) - ctl_deploy_max_unavailable(d);
        int32_t new_unavail = ctl_deploy_replicas(new_rs) - st_int(new_rs, "availableReplicas");
        int32_t max_down = sum_spec(all) - min_avail - new_unavail;
        if (max_down > 0) {
            int32_t cleaned = cleanup_unhealthy(d, active, max_down);
            int32_t down = scale_down_old(d, all, active);
            scaled = cleaned + down > 0;
        }
    }
    json_decref(active);
    return scaled;
}

bool ctl_deploy_is_scaling_event(json_t *d, json_t *all)
{
    json_t *rs;
    size_t i;
    json_array_foreach(all, i, rs)
    {
        if (!json_is_object(rs) || ctl_deploy_replicas(rs) == 0)
            continue;
        const char *v = ctl_str(json_object_get(meta(rs), "annotations"), CTL_DEPLOY_DESIRED);
        char *end;
        long n = strtol(v, &end, 10);
        if (*v && !*end && n != ctl_deploy_replicas(d))
            return true;
    }
    return false;
}

static bool is_saturated(json_t *d, json_t *rs)
{
    if (!rs)
        return false;
    const char *v = ctl_str(json_object_get(meta(rs), "annotations"), CTL_DEPLOY_DESIRED);
    char *end;
    long desired = strtol(v, &end, 10);
    int32_t n = ctl_deploy_replicas(d);
    return *v && !*end && ctl_deploy_replicas(rs) == n && desired == n &&
           st_int(rs, "availableReplicas") == n;
}

static int cmp_size_newer(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int32_t na = ctl_deploy_replicas(a), nb = ctl_deploy_replicas(b);
    if (na != nb)
        return na > nb ? -1 : 1;
    return -cmp_age(pa, pb);
}

static int cmp_size_older(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int32_t na = ctl_deploy_replicas(a), nb = ctl_deploy_replicas(b);
    if (na != nb)
        return na > nb ? -1 : 1;
    return cmp_age(pa, pb);
}

/* Kubernetes' getReplicaSetFraction: rs's share of a resize, rounded. */
static int32_t rs_fraction(json_t *rs, json_t *d)
{
    int32_t n = ctl_deploy_replicas(rs), want = ctl_deploy_replicas(d);
    if (want == 0)
        return -n;
    int32_t max_now = want + ctl_deploy_max_surge(d);
    const char *v = ctl_str(json_object_get(meta(rs), "annotations"), CTL_DEPLOY_MAX);
    char *end;
    long before = strtol(v, &end, 10);
    if (!*v || *end || before == 0)
        before = st_int(d, "replicas");
    if (before == 0)
        return 0;
    double size = (double)n * max_now / (double)before;
    return (int32_t)round(size) - n;
}

static int32_t proportion(json_t *rs, json_t *d, int32_t to_add, int32_t added)
{
    if (ctl_deploy_replicas(rs) == 0 || to_add == 0 || to_add == added)
        return 0;
    int32_t f = rs_fraction(rs, d), allowed = to_add - added;
    if (to_add > 0)
        return f < allowed ? f : allowed;
    return f > allowed ? f : allowed;
}

/* The only active ReplicaSet, or the newest if none is active; NULL if
 * several are active. */
static json_t *active_or_latest(json_t *new_rs, json_t *old)
{
    json_t *all = json_copy(old);
    if (new_rs)
        json_array_append(all, new_rs);
    json_t *active = active_of(all), *out = NULL;
    if (json_array_size(active) == 1)
        out = json_array_get(active, 0);
    else if (json_array_size(active) == 0 && new_rs)
        out = new_rs;
    else if (json_array_size(active) == 0 && json_array_size(old)) {
        ctl_deploy_sort_by_age(all);
        out = json_array_get(all, json_array_size(all) - 1);
    }
    json_decref(active);
    json_decref(all);
    return out;
}

void ctl_deploy_scale(json_t *d, json_t *new_rs, json_t *old)
{
    int32_t want = ctl_deploy_replicas(d);
    json_t *one = active_or_latest(new_rs, old);
    if (one) {
        if (ctl_deploy_replicas(one) != want)
            ctl_deploy_scale_rs(d, one, want, false);
        return;
    }
    if (is_saturated(d, new_rs)) {
        json_t *rs;
        size_t i;
        json_array_foreach(old, i, rs) if (ctl_deploy_replicas(rs) > 0)
            ctl_deploy_scale_rs(d, rs, 0, false);
        return;
    }
    if (!is_rolling(d))
        return;
    json_t *all = json_copy(old);
    if (new_rs)
        json_array_append(all, new_rs);
    json_t *active = active_of(all);
    json_decref(all);
    int32_t allowed = want > 0 ? want + ctl_deploy_max_surge(d) : 0;
    int32_t to_add = allowed - sum_spec(active), added = 0;
    if (to_add > 0)
        sort_array(active, cmp_size_newer);
    else if (to_add < 0)
        sort_array(active, cmp_size_older);
    size_t n = json_array_size(active);
    int32_t *size = xcalloc(n + 1, sizeof *size);
    for (size_t i = 0; i < n; i++) {
        json_t *rs = json_array_get(active, i);
        int32_t p = to_add ? proportion(rs, d, to_add, added) : 0;
        size[i] = ctl_deploy_replicas(rs) + p;
        added += p;
    }
    for (size_t i = 0; i < n; i++) {
        if (i == 0 && to_add != 0) {
            size[0] += to_add - added;
            size[0] = size[0] < 0 ? 0 : size[0];
        }
        ctl_deploy_scale_rs(d, json_array_get(active, i), size[i], true);
    }
    free(size);
    json_decref(active);
}

/* ---- status and conditions ---- */

static json_t *condition_of(json_t *st, const char *type)
{
    json_t *cd;
    size_t i;
    json_array_foreach(json_object_get(st, "conditions"), i, cd) if (strcmp(ctl_str(cd, "type"),
                                                                            type) == 0) return cd;
    return NULL;
}

static void condition_remove(json_t *st, const char *type)
{
    json_t *conds = json_object_get(st, "conditions");
    for (size_t i = 0; i < json_array_size(conds);)
        if (strcmp(ctl_str(json_array_get(conds, i), "type"), type) == 0)
            json_array_remove(conds, i);
        else
            i++;
    if (conds && json_array_size(conds) == 0)
        json_object_del(st, "conditions");
}

void ctl_deploy_condition_set(json_t *st, const char *type, const char *cstatus,
                              const char *reason, const char *message, const char *now)
{
    json_t *cur = condition_of(st, type);
    if (cur && strcmp(ctl_str(cur, "status"), cstatus) == 0 &&
        strcmp(ctl_str(cur, "reason"), reason) == 0)
        return;
    char transition[40];
    snprintf(transition, sizeof transition, "%s",
             cur && strcmp(ctl_str(cur, "status"), cstatus) == 0
                 ? ctl_str(cur, "lastTransitionTime")
                 : now);
    condition_remove(st, type);
    json_t *conds = json_object_get(st, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(st, "conditions", conds);
    }
    json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type,
                                           "status", cstatus, "lastUpdateTime", now,
                                           "lastTransitionTime", transition, "reason", reason,
                                           "message", message));
}

static bool has_deadline(json_t *d)
{
    json_t *p = json_object_get(spec(d), "progressDeadlineSeconds");
    return json_is_integer(p) && json_integer_value(p) != MAX_INT32;
}

bool ctl_deploy_complete(json_t *d, json_t *st)
{
    int32_t n = ctl_deploy_replicas(d);
    json_int_t gen = json_integer_value(json_object_get(meta(d), "generation"));
    return json_integer_value(json_object_get(st, "updatedReplicas")) == n &&
           json_integer_value(json_object_get(st, "replicas")) == n &&
           json_integer_value(json_object_get(st, "availableReplicas")) == n &&
           json_integer_value(json_object_get(st, "observedGeneration")) >= gen;
}

static int64_t st_get(json_t *st, const char *k)
{
    return json_integer_value(json_object_get(st, k));
}

static bool progressing(json_t *d, json_t *st)
{
    json_t *old = status(d);
    return st_get(st, "updatedReplicas") > st_get(old, "updatedReplicas") ||
           st_get(st, "replicas") - st_get(st, "updatedReplicas") <
               st_get(old, "replicas") - st_get(old, "updatedReplicas") ||
           st_get(st, "readyReplicas") > st_get(old, "readyReplicas") ||
           st_get(st, "availableReplicas") > st_get(old, "availableReplicas");
}

static bool timed_out(json_t *d, json_t *st, int64_t now_ms)
{
    json_t *cd = condition_of(st, "Progressing");
    if (!has_deadline(d) || !cd || strcmp(ctl_str(cd, "reason"), "NewReplicaSetAvailable") == 0)
        return false;
    if (strcmp(ctl_str(cd, "reason"), "ProgressDeadlineExceeded") == 0)
        return true;
    int64_t from = util_time_parse(ctl_str(cd, "lastUpdateTime"));
    int64_t deadline = json_integer_value(json_object_get(spec(d), "progressDeadlineSeconds"));
    return from >= 0 && from + deadline * 1000 < now_ms;
}

static void rollout_conditions(json_t *d, json_t *st, json_t *new_rs, const char *now,
                               int64_t now_ms)
{
    char msg[600];
    const char *rsname = new_rs ? ctl_str(meta(new_rs), "name") : NULL;
    json_t *cur = condition_of(status(d), "Progressing");
    bool done = st_get(st, "replicas") == st_get(st, "updatedReplicas") && cur &&
                strcmp(ctl_str(cur, "reason"), "NewReplicaSetAvailable") == 0;
    if (done)
        return;
    if (ctl_deploy_complete(d, st)) {
        if (rsname)
            snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has successfully progressed.", rsname);
        else
            snprintf(msg, sizeof msg, "Deployment \"%s\" has successfully progressed.",
                     ctl_str(meta(d), "name"));
        ctl_deploy_condition_set(st, "Progressing", "True", "NewReplicaSetAvailable", msg, now);
    } else if (progressing(d, st)) {
        if (rsname)
            snprintf(msg, sizeof msg, "ReplicaSet \"%s\" is progressing.", rsname);
        else
            snprintf(msg, sizeof msg, "Deployment \"%s\" is progressing.",
                     ctl_str(meta(d), "name"));
        /* Progress refreshes lastUpdateTime even with the same reason. */
        json_t *c = condition_of(st, "Progressing");
        char transition[40];
        snprintf(transition, sizeof transition, "%s",
                 c && strcmp(ctl_str(c, "status"), "True") == 0 ? ctl_str(c, "lastTransitionTime")
                                                                : now);
        condition_remove(st, "Progressing");
        ctl_deploy_condition_set(st, "Progressing", "True", "ReplicaSetUpdated", msg, now);
        json_object_set_new(condition_of(st, "Progressing"), "lastTransitionTime",
                            json_string(transition));
    } else if (timed_out(d, st, now_ms)) {
        if (rsname)
            snprintf(msg, sizeof msg, "ReplicaSet \"%s\" has timed out progressing.", rsname);
        else
            snprintf(msg, sizeof msg, "Deployment \"%s\" has timed out progressing.",
                     ctl_str(meta(d), "name"));
        ctl_deploy_condition_set(st, "Progressing", "False", "ProgressDeadlineExceeded", msg,
                                 now);
    }
}

/* The ReplicaFailure condition of the new ReplicaSet, else of any. */
static json_t *replica_failure(json_t *all, json_t *new_rs)
{
    json_t *cd = new_rs ? ctl_condition_get(new_rs, "ReplicaFailure") : NULL, *rs;
    size_t i;
    json_array_foreach(all, i, rs) if (!cd && json_is_object(rs)) cd =
        ctl_condition_get(rs, "ReplicaFailure");
    return cd;
}

json_t *ctl_deploy_status(json_t *d, json_t *all, json_t *new_rs, bool rollout, int64_t now_ms)
{
    char now[40];
    format_time(now_ms, now, sizeof now);
    int32_t avail = sum_status(all, "availableReplicas"), total = sum_spec(all);
    int32_t unavail = total - avail > 0 ? total - avail : 0;
    json_t *st = json_object();
    set_count(st, "observedGeneration", json_integer_value(json_object_get(meta(d), "generation")));
    set_count(st, "replicas", sum_status(all, "replicas"));
    set_count(st, "updatedReplicas", new_rs ? st_int(new_rs, "replicas") : 0);
    set_count(st, "readyReplicas", sum_status(all, "readyReplicas"));
    set_count(st, "availableReplicas", avail);
    set_count(st, "unavailableReplicas", unavail);
    json_t *cc = json_object_get(status(d), "collisionCount");
    if (cc)
        json_object_set(st, "collisionCount", cc);
    json_t *conds = json_object_get(status(d), "conditions");
    if (json_array_size(conds))
        json_object_set_new(st, "conditions", json_deep_copy(conds));
    if (avail >= ctl_deploy_replicas(d) - ctl_deploy_max_unavailable(d))
        ctl_deploy_condition_set(st, "Available", "True", "MinimumReplicasAvailable",
                                 "Deployment has minimum availability.", now);
    else
        ctl_deploy_condition_set(st, "Available", "False", "MinimumReplicasUnavailable",
                                 "Deployment does not have minimum availability.", now);
    if (!rollout)
        return st;
    if (!has_deadline(d))
        condition_remove(st, "Progressing");
    else
        rollout_conditions(d, st, new_rs, now, now_ms);
    json_t *rf = replica_failure(all, new_rs);
    if (rf)
        ctl_deploy_condition_set(st, "ReplicaFailure", ctl_str(rf, "status"),
                                 ctl_str(rf, "reason"), ctl_str(rf, "message"), now);
    else
        condition_remove(st, "ReplicaFailure");
    return st;
}

static int cmp_revision(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    int64_t ra = ctl_deploy_revision(a), rb = ctl_deploy_revision(b);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    return cmp_age(pa, pb);
}

json_t *ctl_deploy_cleanup(json_t *d, json_t *old)
{
    json_t *out = json_array(), *alive = json_array(), *rs;
    json_t *limit = json_object_get(spec(d), "revisionHistoryLimit");
    size_t i;
    if (!json_is_integer(limit))
        return out;
    json_array_foreach(old, i, rs) if (json_is_object(rs) &&
                                       !json_object_get(meta(rs), "deletionTimestamp"))
        json_array_append(alive, rs);
    int64_t diff = (int64_t)json_array_size(alive) - json_integer_value(limit);
    sort_array(alive, cmp_revision);
    for (int64_t k = 0; k < diff; k++) {
        rs = json_array_get(alive, (size_t)k);
        if (st_int(rs, "replicas") != 0 || ctl_deploy_replicas(rs) != 0 ||
            json_integer_value(json_object_get(meta(rs), "generation")) >
                st_int(rs, "observedGeneration"))
            continue;
        json_array_append(out, rs);
    }
    json_decref(alive);
    return out;
}

/* ---- I/O: the state of one sync ---- */

struct dsync {
    struct ctl *c;
    json_t *d;     /* the deployment, its resourceVersion kept current */
    json_t *all;   /* the claimed ReplicaSets: working copies */
    json_t *saved; /* name -> each ReplicaSet as stored */
    const char *ns, *name;
};

static void saved_put(struct dsync *s, json_t *rs)
{
    json_object_set_new(s->saved, ctl_str(meta(rs), "name"), json_deep_copy(rs));
}

/* Replaces a working copy's contents by the stored object (a reply). */
static void refresh(struct dsync *s, json_t *rs, json_t *stored)
{
    json_object_update(rs, stored);
    saved_put(s, rs);
}

static bool put_status(struct dsync *s)
{
    char path[600];
    json_t *reply = NULL;
    ctl_object_path("deployments", s->ns, s->name, path, sizeof path - 8);
    strcat(path, "/status");
    int st = ctl_api(s->c, "PUT", path, NULL, s->d, &reply);
    if (st == 200 && json_is_object(reply))
        json_object_set(meta(s->d), "resourceVersion",
                        json_object_get(meta(reply), "resourceVersion"));
    json_decref(reply);
    if (st != 200 && st != 404)
        LOG_INFO("controllers: deployment %s/%s: status update: %d", s->ns, s->name, st);
    return st == 200;
}

static bool put_rs(struct dsync *s, json_t *rs)
{
    char path[600];
    json_t *reply = NULL;
    ctl_object_path("replicasets", s->ns, ctl_str(meta(rs), "name"), path, sizeof path);
    int st = ctl_api(s->c, "PUT", path, NULL, rs, &reply);
    if (st == 200 && json_is_object(reply))
        refresh(s, rs, reply);
    json_decref(reply);
    if (st != 200)
        LOG_INFO("controllers: deployment %s/%s: updating replicaset %s: %d", s->ns, s->name,
                 ctl_str(meta(rs), "name"), st);
    return st == 200;
}

/* Writes every ReplicaSet whose size or replica annotations the decisions
 * changed; records the scaling events. */
static bool write_scaled(struct dsync *s)
{
    json_t *rs;
    size_t i;
    bool ok = true;
    json_array_foreach(s->all, i, rs)
    {
        json_t *was = json_object_get(s->saved, ctl_str(meta(rs), "name"));
        if (!was || json_equal(was, rs))
            continue;
        int32_t from = ctl_deploy_replicas(was), to = ctl_deploy_replicas(rs);
        if (!put_rs(s, rs)) {
            ok = false;
            break; /* as Kubernetes: stop at the first failure, requeue */
        }
        if (from != to)
            ctl_event(s->c, "deployments", s->d, "Normal", "ScalingReplicaSet",
                      "Scaled %s replica set %s from %d to %d", to > from ? "up" : "down",
                      ctl_str(meta(rs), "name"), from, to);
    }
    return ok;
}

static void enqueue_after_ms(struct dsync *s, int64_t ms)
{
    ctl_enqueue_after(s->c, DC, "deployments", s->ns, s->name, (unsigned)(ms < 0 ? 0 : ms));
}

/* Kubernetes' requeueStuckDeployment: check the deadline when it passes. */
static void requeue_stuck(struct dsync *s, json_t *st, int64_t now_ms)
{
    json_t *cd = condition_of(status(s->d), "Progressing");
    if (!has_deadline(s->d) || !cd || ctl_deploy_complete(s->d, st) ||
        strcmp(ctl_str(cd, "reason"), "ProgressDeadlineExceeded") == 0)
        return;
    int64_t from = util_time_parse(ctl_str(cd, "lastUpdateTime"));
    int64_t deadline = json_integer_value(json_object_get(spec(s->d), "progressDeadlineSeconds"));
    int64_t after = from + deadline * 1000 - now_ms;
    enqueue_after_ms(s, after < 1000 ? 1000 : after + 1000);
}

/* Writes the status if it changed (syncDeploymentStatus, or with rollout
 * syncRolloutStatus). */
static bool sync_status(struct dsync *s, json_t *new_rs, bool rollout)
{
    int64_t now = util_wall_ms();
    json_t *st = ctl_deploy_status(s->d, s->all, new_rs, rollout, now);
    bool ok = true;
    if (json_equal(st, status(s->d))) {
        if (rollout)
            requeue_stuck(s, st, now);
    } else {
        json_object_set(s->d, "status", st);
        ok = put_status(s);
    }
    json_decref(st);
    return ok;
}

/* ---- I/O: claiming ReplicaSets ---- */

static bool claim_rss(struct dsync *s, const struct kube_selector *sel)
{
    struct ctl_claimer m = {.c = s->c, .owner = s->d, .owner_resource = "deployments",
                            .api_version = "apps/v1", .kind = "Deployment", .sel = sel};
    json_t *rss = ctl_list(s->c, "replicasets", s->ns, NULL), *rs;
    bool ok = true;
    json_t *mine = ctl_claim(&m, "replicasets", rss, &ok);
    size_t i;
    json_array_foreach(mine, i, rs) json_array_append(s->all, rs);
    json_decref(mine);
    json_decref(rss);
    json_array_foreach(s->all, i, rs) saved_put(s, rs);
    return ok;
}

/* ---- I/O: the new ReplicaSet ---- */

static bool set_deploy_revision(json_t *d, const char *rev)
{
    return set_annotation(d, CTL_DEPLOY_REVISION, rev);
}

/* The existing new ReplicaSet: bring its annotations and minReadySeconds
 * up to date, then the deployment's revision. */
static bool sync_existing_new(struct dsync *s, json_t *rs, int64_t new_rev)
{
    json_t *dmrs = json_object_get(spec(s->d), "minReadySeconds");
    json_t *rmrs = json_object_get(spec(rs), "minReadySeconds");
    bool annos = ctl_deploy_set_new_rs_annotations(s->d, rs, new_rev, true);
    bool mrs = json_integer_value(dmrs) != json_integer_value(rmrs);
    if (annos || mrs) {
        set_count(spec(rs), "minReadySeconds", json_integer_value(dmrs));
        return put_rs(s, rs);
    }
    bool needs = set_deploy_revision(
        s->d, ctl_str(json_object_get(meta(rs), "annotations"), CTL_DEPLOY_REVISION));
    if (has_deadline(s->d) && !condition_of(status(s->d), "Progressing")) {
        char msg[400], now[40];
        util_time_rfc3339(now, sizeof now);
        snprintf(msg, sizeof msg, "Found new replica set \"%s\"", ctl_str(meta(rs), "name"));
        json_t *st = status(s->d);
        if (!json_is_object(st)) {
            st = json_object();
            json_object_set_new(s->d, "status", st);
        }
        ctl_deploy_condition_set(st, "Progressing", "True", "FoundNewReplicaSet", msg, now);
        needs = true;
    }
    return !needs || put_status(s);
}

static json_t *build_new_rs(json_t *d, const char *hash)
{
    json_t *tmpl = json_deep_copy(json_object_get(spec(d), "template"));
    json_t *tmd = json_object_get(tmpl, "metadata");
    if (!json_is_object(tmd)) {
        tmd = json_object();
        json_object_set_new(tmpl, "metadata", tmd);
    }
    json_t *labels = json_object_get(tmd, "labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(tmd, "labels", labels);
    }
    json_object_set_new(labels, CTL_DEPLOY_HASH_LABEL, json_string(hash));
    json_t *sel = json_deep_copy(json_object_get(spec(d), "selector"));
    json_t *ml = json_object_get(sel, "matchLabels");
    if (!json_is_object(ml)) {
        ml = json_object();
        json_object_set_new(sel, "matchLabels", ml);
    }
    json_object_set_new(ml, CTL_DEPLOY_HASH_LABEL, json_string(hash));
    char name[300];
    snprintf(name, sizeof name, "%.240s-%s", ctl_str(meta(d), "name"), hash);
    json_t *refs = json_array();
    json_array_append_new(refs, ctl_owner_ref(d, "apps/v1", "Deployment"));
    json_t *rs = json_pack("{s:s, s:s, s:{s:s, s:s, s:o, s:o}, s:{s:i, s:o, s:o}}", "apiVersion",
                           "apps/v1", "kind", "ReplicaSet", "metadata", "name", name, "namespace",
                           ctl_str(meta(d), "namespace"), "ownerReferences", refs, "labels",
                           json_deep_copy(labels), "spec", "replicas", 0, "selector", sel, "template", tmpl);
    json_t *mrs = json_object_get(spec(d), "minReadySeconds");
    if (json_integer_value(mrs))
        json_object_set(spec(rs), "minReadySeconds", mrs);
    return rs;
}

/* A name collision: bump status.collisionCount so the next sync hashes
 * differently. */
static void bump_collisions(struct dsync *s)
{
    json_t *st = status(s->d);
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(s->d, "status", st);
    }
    json_int_t n = json_integer_value(json_object_get(st, "collisionCount"));
    json_object_set_new(st, "collisionCount", json_integer(n + 1));
    if (put_status(s))
        LOG_INFO("controllers: deployment %s/%s: hash collision, collisionCount %lld", s->ns,
                 s->name, (long long)n + 1);
}

/* Creates the new ReplicaSet; *out is it (borrowed from s->all) or NULL. */
static bool create_new_rs(struct dsync *s, json_t *old, int64_t new_rev, json_t **out)
{
    char hash[16];
    ctl_template_hash(json_object_get(spec(s->d), "template"),
                      json_object_get(status(s->d), "collisionCount"), hash, sizeof hash);
    json_t *rs = build_new_rs(s->d, hash);
    json_t *all = json_copy(old);
    json_array_append(all, rs);
    int32_t n = ctl_deploy_new_rs_replicas(s->d, all, rs);
    json_decref(all);
    json_object_set_new(spec(rs), "replicas", json_integer(n));
    ctl_deploy_set_new_rs_annotations(s->d, rs, new_rev, false);
    char path[600];
    json_t *reply = NULL;
    snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/replicasets", s->ns);
    int st = ctl_api(s->c, "POST", path, NULL, rs, &reply);
    const char *rsname = ctl_str(meta(rs), "name");
    bool exists = st == 409;
    json_t *made = NULL;
    if (st == 201 && json_is_object(reply)) {
        made = json_incref(reply);
    } else if (exists) {
        json_t *cur = ctl_get(s->c, "replicasets", s->ns, rsname);
        json_t *ref = cur ? ctl_controller_ref(cur) : NULL;
        if (ref && strcmp(ctl_str(ref, "uid"), ctl_str(meta(s->d), "uid")) == 0 &&
            ctl_deploy_template_equal(json_object_get(spec(s->d), "template"),
                                      json_object_get(spec(cur), "template")))
            made = json_incref(cur);
        else
            bump_collisions(s);
        json_decref(cur);
    } else {
        char msg[800];
        snprintf(msg, sizeof msg, "Failed to create new replica set \"%s\": %s", rsname,
                 *ctl_str(reply, "message") ? ctl_str(reply, "message") : "error");
        if (has_deadline(s->d)) {
            char now[40];
            util_time_rfc3339(now, sizeof now);
            ctl_deploy_condition_set(status(s->d), "Progressing", "False", "ReplicaSetCreateError",
                                     msg, now);
            put_status(s);
        }
        ctl_event(s->c, "deployments", s->d, "Warning", "ReplicaSetCreateError", "%s", msg);
    }
    json_decref(reply);
    json_decref(rs);
    if (!made)
        return false;
    json_array_append(s->all, made);
    saved_put(s, made);
    *out = made;
    json_decref(made);
    if (!exists && n > 0)
        ctl_event(s->c, "deployments", s->d, "Normal", "ScalingReplicaSet",
                  "Scaled up replica set %s from 0 to %d", ctl_str(meta(*out), "name"), n);
    char rev[32];
    snprintf(rev, sizeof rev, "%lld", (long long)new_rev);
    bool needs = set_deploy_revision(s->d, rev);
    if (!exists && has_deadline(s->d)) {
        char msg[400], now[40];
        util_time_rfc3339(now, sizeof now);
        snprintf(msg, sizeof msg, "Created new replica set \"%s\"", ctl_str(meta(*out), "name"));
        json_t *dst = status(s->d);
        if (!json_is_object(dst)) {
            dst = json_object();
            json_object_set_new(s->d, "status", dst);
        }
        ctl_deploy_condition_set(dst, "Progressing", "True", "NewReplicaSetCreated", msg, now);
        needs = true;
    }
    return !needs || put_status(s);
}

/* getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created if asked
 * and missing) and the old ones (a new array). */
static bool new_and_old(struct dsync *s, bool create, json_t **new_rs, json_t **old)
{
    *new_rs = ctl_deploy_find_new(s->d, s->all, old);
    int64_t rev = ctl_deploy_max_revision(*old) + 1;
    if (*new_rs)
        return sync_existing_new(s, *new_rs, rev);
    if (!create)
        return true;
    return create_new_rs(s, *old, rev, new_rs);
}

/* ---- I/O: the strategies ---- */

static bool cleanup(struct dsync *s, json_t *old)
{
    json_t *gone = ctl_deploy_cleanup(s->d, old), *rs;
    size_t i;
    bool ok = true;
    json_array_foreach(gone, i, rs)
    {
        char path[600];
        ctl_object_path("replicasets", s->ns, ctl_str(meta(rs), "name"), path, sizeof path);
        json_t *opts = json_pack("{s:s, s:s, s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
                                 "v1", "preconditions", "uid", ctl_str(meta(rs), "uid"));
        int st = ctl_api(s->c, "DELETE", path, NULL, opts, NULL);
        json_decref(opts);
        if (st != 200 && st != 202 && st != 404 && st != 409) {
            ok = false;
            break;
        }
    }
    json_decref(gone);
    return ok;
}

/* A paused deployment or a scaling event: sizes only. */
static bool sync_scale(struct dsync *s)
{
    json_t *new_rs, *old;
    bool ok = new_and_old(s, false, &new_rs, &old);
    if (ok) {
        ctl_deploy_scale(s->d, new_rs, old);
        ok = write_scaled(s);
    }
    if (ok && json_is_true(json_object_get(spec(s->d), "paused")))
        ok = cleanup(s, old);
    ok = ok && sync_status(s, new_rs, false);
    json_decref(old);
    return ok;
}

/* Whether every ReplicaSet's status has seen its latest spec. */
static bool rss_observed(struct dsync *s)
{
    json_t *rs;
    size_t i;
    json_array_foreach(s->all, i, rs) if (json_integer_value(json_object_get(meta(rs),
                                                                             "generation")) >
                                          st_int(rs, "observedGeneration")) return false;
    return true;
}

static bool rollout_rolling(struct dsync *s)
{
    json_t *new_rs, *old;
    bool ok = new_and_old(s, true, &new_rs, &old);
    if (!ok || !new_rs) {
        json_decref(old);
        return false;
    }
    if (ctl_deploy_reconcile_new(s->d, s->all, new_rs) ||
        ctl_deploy_reconcile_old(s->d, s->all, old, new_rs)) {
        ok = write_scaled(s) && sync_status(s, new_rs, true);
        json_decref(old);
        return ok;
    }
    if (ctl_deploy_complete(s->d, status(s->d)))
        ok = cleanup(s, old);
    ok = ok && sync_status(s, new_rs, true);
    json_decref(old);
    return ok;
}

/* Whether pods of old ReplicaSets still exist (not finished). */
static bool old_pods_running(struct dsync *s, json_t *new_rs, json_t *old)
{
    if (sum_status(old, "replicas") > 0)
        return true;
    json_t *rs;
    size_t i;
    bool running = false;
    json_array_foreach(old, i, rs)
    {
        json_t *pods = ctl_pods_owned(s->c, s->ns, ctl_str(meta(rs), "uid")), *p;
        size_t k;
        json_array_foreach(pods, k, p)
        {
            const char *ph = ctl_str(status(p), "phase");
            if (strcmp(ph, "Succeeded") != 0 && strcmp(ph, "Failed") != 0)
                running = true;
        }
        json_decref(pods);
    }
    (void)new_rs;
    return running;
}

static bool rollout_recreate(struct dsync *s)
{
    json_t *new_rs, *old;
    bool ok = new_and_old(s, false, &new_rs, &old);
    if (!ok) {
        json_decref(old);
        return false;
    }
    bool scaled = false;
    json_t *rs;
    size_t i;
    json_array_foreach(old, i, rs) if (ctl_deploy_replicas(rs) > 0) scaled |=
        ctl_deploy_scale_rs(s->d, rs, 0, false);
    if (scaled || old_pods_running(s, new_rs, old)) {
        ok = write_scaled(s) && sync_status(s, new_rs, true);
        json_decref(old);
        return ok;
    }
    if (!new_rs) {
        json_decref(old);
        if (!new_and_old(s, true, &new_rs, &old) || !new_rs) {
            json_decref(old);
            return false;
        }
    }
    ctl_deploy_scale_rs(s->d, new_rs, ctl_deploy_replicas(s->d), false);
    ok = write_scaled(s);
    if (ok && ctl_deploy_complete(s->d, status(s->d)))
        ok = cleanup(s, old);
    ok = ok && sync_status(s, new_rs, true);
    json_decref(old);
    return ok;
}

/* Progressing Unknown when paused or resumed (not over a timeout). */
static bool check_paused(struct dsync *s)
{
    if (!has_deadline(s->d))
        return true;
    json_t *cd = condition_of(status(s->d), "Progressing");
    if (cd && strcmp(ctl_str(cd, "reason"), "ProgressDeadlineExceeded") == 0)
        return true;
    bool paused = json_is_true(json_object_get(spec(s->d), "paused"));
    bool paused_cond = cd && strcmp(ctl_str(cd, "reason"), "DeploymentPaused") == 0;
    char now[40];
    util_time_rfc3339(now, sizeof now);
    json_t *st = status(s->d);
    if (paused == paused_cond)
        return true;
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(s->d, "status", st);
    }
    if (paused)
        ctl_deploy_condition_set(st, "Progressing", "Unknown", "DeploymentPaused",
                                 "Deployment is paused", now);
    else
        ctl_deploy_condition_set(st, "Progressing", "Unknown", "DeploymentResumed",
                                 "Deployment is resumed", now);
    return put_status(s);
}

static bool selector_is_everything(json_t *sel)
{
    return json_is_object(sel) && json_object_size(json_object_get(sel, "matchLabels")) == 0 &&
           json_array_size(json_object_get(sel, "matchExpressions")) == 0;
}

static bool sync_deployment(struct dsync *s)
{
    json_t *sel_json = json_object_get(spec(s->d), "selector");
    if (selector_is_everything(sel_json)) {
        ctl_event(s->c, "deployments", s->d, "Warning", "SelectingAll",
                  "This deployment is selecting all pods. A non-empty selector is required.");
        json_int_t gen = json_integer_value(json_object_get(meta(s->d), "generation"));
        if (st_get(status(s->d), "observedGeneration") < gen) {
            if (!json_is_object(status(s->d)))
                json_object_set_new(s->d, "status", json_object());
            json_object_set_new(status(s->d), "observedGeneration", json_integer(gen));
            put_status(s);
        }
        return true;
    }
    char err[200];
    struct kube_selector *sel = kube_selector_from_json(sel_json, err, sizeof err);
    if (!sel)
        return true;
    bool ok = claim_rss(s, sel);
    kube_selector_free(sel);
    if (!ok)
        return false;
    if (json_object_get(meta(s->d), "deletionTimestamp")) {
        json_t *new_rs, *old;
        ok = new_and_old(s, false, &new_rs, &old) && sync_status(s, new_rs, false);
        json_decref(old);
        return ok;
    }
    if (!check_paused(s))
        return false;
    if (json_is_true(json_object_get(spec(s->d), "paused")))
        return sync_scale(s);
    {
        json_t *new_rs, *old;
        json_t *probe = json_deep_copy(s->all); /* no writes: a pure look */
        new_rs = ctl_deploy_find_new(s->d, probe, &old);
        json_t *all = json_copy(old);
        if (new_rs)
            json_array_append(all, new_rs);
        bool scaling = ctl_deploy_is_scaling_event(s->d, all);
        json_decref(all);
        json_decref(old);
        json_decref(probe);
        if (scaling)
            return sync_scale(s);
    }
    if (!rss_observed(s)) {
        /* The ReplicaSet controller has not acted on a size yet; its status
         * write brings us back. Keep the status current meanwhile. */
        json_t *new_rs, *old;
        new_rs = ctl_deploy_find_new(s->d, s->all, &old);
        ok = sync_status(s, new_rs, true);
        json_decref(old);
        enqueue_after_ms(s, 1000);
        return ok;
    }
    return is_rolling(s->d) ? rollout_rolling(s) : rollout_recreate(s);
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    json_t *d = ctl_get(c, "deployments", ns, name);
    if (!d)
        return true;
    struct dsync s = {c, d, json_array(), json_object(), ns, name};
    bool ok = sync_deployment(&s);
    json_decref(s.all);
    json_decref(s.saved);
    json_decref(d);
    return ok;
}

/* ---- changes ---- */

static bool wants(const struct store_event *e)
{
    return ctl_is_resource(&e->o, "deployments") || ctl_is_resource(&e->o, "replicasets") ||
           (ctl_is_resource(&e->o, "pods") && e->type == STORE_DELETED &&
            ctl_obj_has(&e->o, "ReplicaSet"));
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    if (ctl_is_resource(&e->o, "deployments")) {
        if (e->type != STORE_DELETED)
            ctl_enqueue(c, DC, "deployments", ns, name);
        return;
    }
    json_t *ref = ctl_controller_ref(obj);
    if (ctl_is_resource(&e->o, "pods")) { /* a deleted pod: Recreate waits for them */
        if (!ref || strcmp(ctl_str(ref, "kind"), "ReplicaSet") != 0)
            return;
        json_t *rs = ctl_get(c, "replicasets", ns, ctl_str(ref, "name"));
        json_t *dref = rs ? ctl_controller_ref(rs) : NULL;
        if (dref && strcmp(ctl_str(dref, "kind"), "Deployment") == 0)
            ctl_enqueue(c, DC, "deployments", ns, ctl_str(dref, "name"));
        json_decref(rs);
        return;
    }
    if (ref) {
        if (strcmp(ctl_str(ref, "kind"), "Deployment") == 0)
            ctl_enqueue(c, DC, "deployments", ns, ctl_str(ref, "name"));
        return;
    }
    if (e->type != STORE_DELETED) {
        ctl_enqueue_previous_owner(c, e, DC, "deployments", "Deployment");
        ctl_enqueue_selecting(c, DC, "deployments", ns, obj);
    }
}

static int resync_one(void *arg, const struct store_obj *o)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)o->ns_len, o->ns);
    snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
    ctl_enqueue(arg, DC, "deployments", ns, name);
    return 0;
}

static void resync(struct ctl *c)
{
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) != 0)
        return;
    store_list(&r, "deployments", NULL, resync_one, c);
    store_read_end(&r);
}

const struct ctl_def ctl_deployment = {
    .name = DC,
    .component = "deployment-controller",
    .wants = wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
};
