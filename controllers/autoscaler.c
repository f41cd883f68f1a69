/* autoscaler.c — the HorizontalPodAutoscaler controller (autoscaling/v2),
 * as Kubernetes' pkg/controller/podautoscaler (horizontal.go,
 * replica_calculator.go) scales workloads.
 *
 * Every 15 s per HPA (ctl_enqueue_after; at once when one is created or its
 * spec changes): read the target's /scale (a Deployment, ReplicaSet,
 * StatefulSet — anything with the subresource), select its pods with the
 * scale's status.selector, and for each Resource metric (cpu or memory,
 * target averageUtilization or averageValue) compute a proposal from the
 * pods' metrics (metrics.k8s.io PodMetrics, which the node agents write:
 * see agent/metrics.c): ceil(ready pods x usage / target), nothing within
 * the 0.1 tolerance, missing and unready pods handled as the replica
 * calculator does. The largest proposal wins, then it is normalised: the
 * stabilisation window (scale-down's 300 s by default, or
 * spec.behavior's), min/maxReplicas, and the rate policies (by default at
 * most 4 pods or 100% per 15 s up). A target at 0 replicas is left alone
 * (ScalingActive False, ScalingDisabled). A different count is written to
 * /scale, with a SuccessfulRescale event; then the status: currentReplicas,
 * desiredReplicas, currentMetrics, lastScaleTime, conditions AbleToScale,
 * ScalingActive and ScalingLimited, written only when it changed. Metrics
 * that cannot be had give ScalingActive False (FailedGetResourceMetric) and
 * an event, and no scaling.
 *
 * The recommendations and scale events that stabilisation and rate limits
 * look back on live in memory (struct ctl_hpa_history per HPA) while this
 * server leads, as in kube-controller-manager: a new leader starts them
 * afresh with the current count as its first recommendation, so it never
 * scales down sooner than a whole window after taking over. The decision
 * functions are pure (ctl_internal.h); this file's I/O is the /scale GET
 * and PUT, the status PUT and events. Not done: Pods, Object, External and
 * ContainerResource metrics (reported as invalid), the metric-freshness
 * checks metrics-server makes. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define HPA "autoscaler"
#define HPAS "horizontalpodautoscalers"
#define HPA_SYNC_MS 15000

/* ==== the replica calculator (pure) ==== */

static int32_t max32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static int32_t min32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

/* A PodMetrics' usage of resource, summed over its containers (milli). */
static int64_t pod_usage(json_t *pm, const char *resource)
{
    json_t *ct;
    size_t i;
    int64_t sum = 0;
    json_array_foreach(json_object_get(pm, "containers"), i, ct)
    {
        int64_t v = kube_quantity_value(json_object_get(json_object_get(ct, "usage"), resource),
                                        true);
        sum += v > 0 ? v : 0;
    }
    return sum;
}

/* The pod's request of resource, summed over its containers (milli); -1
 * with err if a container has none. */
static int64_t pod_request(json_t *pod, const char *resource, char *err, size_t len)
{
    json_t *ct;
    size_t i;
    int64_t sum = 0;
    json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, ct)
    {
        json_t *q = json_object_get(json_object_get(json_object_get(ct, "resources"), "requests"),
                                    resource);
        int64_t v = q ? kube_quantity_value(q, true) : -1;
        if (v < 0) {
            snprintf(err, len, "missing request for %s in container %s of Pod %s", resource,
                     ctl_str(ct, "name"), ctl_str(json_object_get(pod, "metadata"), "name"));
            return -1;
        }
        sum += v;
    }
    return sum;
}

enum pod_group { POD_READY, POD_UNREADY, POD_MISSING, POD_IGNORED };

/* groupPods: which of the replica calculator's groups pod falls in. */
static enum pod_group group_pod(json_t *pod, json_t *pm, const char *resource, int64_t now_ms)
{
    json_t *st = json_object_get(pod, "status");
    const char *phase = ctl_str(st, "phase");
    if (json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") ||
        strcmp(phase, "Failed") == 0)
        return POD_IGNORED;
    if (strcmp(phase, "Pending") == 0)
        return POD_UNREADY;
    if (!pm)
        return POD_MISSING;
    if (strcmp(resource, "cpu") != 0)
        return POD_READY;
    json_t *ready = ctl_condition_get(pod, "Ready");
    int64_t start = util_time_parse(ctl_str(st, "startTime"));
    if (!ready || start < 0)
        return POD_UNREADY;
    int64_t since = util_time_parse(ctl_str(ready, "lastTransitionTime"));
    bool is_false = strcmp(ctl_str(ready, "status"), "False") == 0;
    if (start + CTL_HPA_CPU_INIT_PERIOD_MS > now_ms) {
        /* In its initialisation period: a sample counts once the pod is
         * ready and a whole window was measured since it became so. */
        long window = util_parse_duration_ms(ctl_str(pm, "window"));
        int64_t at = util_time_parse(ctl_str(pm, "timestamp"));
        return is_false || at < since + (window > 0 ? window : 0) ? POD_UNREADY : POD_READY;
    }
    /* Later: only a pod that was never ready is ignored. */
    return is_false && start + CTL_HPA_INITIAL_READINESS_MS > since ? POD_UNREADY : POD_READY;
}

struct sample {
    int64_t usage, request;
    bool counted; /* has a metric (real or assumed) */
};

/* GetResourceUtilizationRatio / GetMetricUsageRatio over the counted
 * samples: the ratio to the target, the utilization and the average. */
static bool usage_ratio(const struct sample *s, size_t n, int32_t target_util,
                        int64_t target_avg, double *ratio, int32_t *util, int64_t *avg,
                        size_t *n_counted)
{
    int64_t usage = 0, requests = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s[i].counted)
            continue;
        usage += s[i].usage;
        requests += s[i].request;
        k++;
    }
    *n_counted = k;
    if (k == 0)
        return false;
    *avg = usage / (int64_t)k;
    if (target_util > 0) {
        if (requests == 0)
            return false;
        *util = (int32_t)(usage * 100 / requests);
        *ratio = (double)*util / (double)target_util;
    } else {
        *util = 0;
        *ratio = (double)*avg / (double)target_avg;
    }
    return true;
}

bool ctl_hpa_resource_replicas(json_t *pods, json_t *metrics, const char *resource,
                               int32_t current, int32_t target_util, int64_t target_avg_milli,
                               int64_t now_ms, struct ctl_hpa_calc *out, char *err, size_t len)
{
    size_t n = json_array_size(pods), i, n_counted;
    if (n == 0) {
        snprintf(err, len, "no pods returned by selector while calculating replica count");
        return false;
    }
    if (target_util <= 0 && target_avg_milli <= 0) {
        snprintf(err, len, "invalid resource metric target for %s", resource);
        return false;
    }
    struct sample *s = xcalloc(n, sizeof *s);
    enum pod_group *g = xcalloc(n, sizeof *g);
    size_t ready = 0, unready = 0, missing = 0;
    json_t *pod;
    bool ok = false;
    json_array_foreach(pods, i, pod)
    {
        json_t *pm = json_object_get(metrics, ctl_str(json_object_get(pod, "metadata"), "name"));
        g[i] = group_pod(pod, pm, resource, now_ms);
        ready += g[i] == POD_READY;
        unready += g[i] == POD_UNREADY;
        missing += g[i] == POD_MISSING;
        if (target_util > 0 && g[i] != POD_IGNORED &&
            (s[i].request = pod_request(pod, resource, err, len)) < 0)
            goto out;
        s[i].usage = pm ? pod_usage(pm, resource) : 0;
        s[i].counted = g[i] == POD_READY;
    }
    double ratio;
    int32_t util;
    int64_t avg;
    if (!usage_ratio(s, n, target_util, target_avg_milli, &ratio, &util, &avg, &n_counted)) {
        snprintf(err, len, ready ? "no metrics returned matched known pods"
                                 : "did not receive metrics for targeted pods (pods might be "
                                   "unready)");
        goto out;
    }
    out->utilization = util;
    out->average_milli = avg;
    ok = true;
    bool up_with_unready = unready > 0 && ratio > 1.0;
    if (!up_with_unready && missing == 0) {
        out->replicas = fabs(1.0 - ratio) <= CTL_HPA_TOLERANCE
                            ? current
                            : (int32_t)ceil(ratio * (double)ready);
        goto out;
    }
    /* Assume the worst for the direction of travel and compute again. */
    for (i = 0; i < n; i++) {
        if (g[i] == POD_MISSING && ratio < 1.0) {
            int64_t fallback = target_util > 0 ? max32(100, target_util) : 0;
            s[i].usage = target_util > 0 ? s[i].request * fallback / 100 : target_avg_milli;
            s[i].counted = true;
        } else if (g[i] == POD_MISSING && ratio > 1.0) {
            s[i].usage = 0;
            s[i].counted = true;
        } else if (g[i] == POD_UNREADY && up_with_unready) {
            s[i].usage = 0;
            s[i].counted = true;
        }
    }
    double new_ratio;
    int32_t new_util;
    int64_t new_avg;
    usage_ratio(s, n, target_util, target_avg_milli, &new_ratio, &new_util, &new_avg, &n_counted);
    if (fabs(1.0 - new_ratio) <= CTL_HPA_TOLERANCE || (ratio < 1.0 && new_ratio > 1.0) ||
        (ratio > 1.0 && new_ratio < 1.0)) {
        out->replicas = current;
        goto out;
    }
    int32_t proposal = (int32_t)ceil(new_ratio * (double)n_counted);
    if ((new_ratio < 1.0 && proposal > current) || (new_ratio > 1.0 && proposal < current))
        proposal = current;
    out->replicas = proposal;
out:
    free(s);
    free(g);
    return ok;
}

/* ==== normalisation (pure) ==== */

static void push(struct ctl_hpa_sample *a, size_t *n, struct ctl_hpa_sample x)
{
    if (*n == CTL_HPA_HISTORY) { /* full: the oldest goes */
        memmove(a, a + 1, (CTL_HPA_HISTORY - 1) * sizeof *a);
        (*n)--;
    }
    a[(*n)++] = x;
}

static int64_t int_at(json_t *o, const char *key, int64_t def)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

/* stabilizeRecommendation (no behavior): the highest recommendation of
 * the downscale window. */
static int32_t stabilize_legacy(struct ctl_hpa_history *h, int32_t proposed, int64_t now_ms)
{
    int64_t cutoff = now_ms - CTL_HPA_DOWNSCALE_WINDOW_S * 1000LL;
    int32_t best = proposed;
    size_t old = SIZE_MAX;
    for (size_t i = 0; i < h->n_recs; i++) {
        if (h->recs[i].at_ms < cutoff)
            old = i;
        else
            best = max32(best, h->recs[i].replicas);
    }
    struct ctl_hpa_sample x = {now_ms, proposed};
    if (old != SIZE_MAX)
        h->recs[old] = x;
    else
        push(h->recs, &h->n_recs, x);
    return best;
}

/* stabilizeRecommendationWithBehaviors */
static int32_t stabilize(struct ctl_hpa_history *h, json_t *up, json_t *down, int32_t current,
                         int32_t proposed, int64_t now_ms)
{
    int64_t up_cut = now_ms - int_at(up, "stabilizationWindowSeconds", 0) * 1000;
    int64_t down_cut =
        now_ms - int_at(down, "stabilizationWindowSeconds", CTL_HPA_DOWNSCALE_WINDOW_S) * 1000;
    int32_t up_rec = proposed, down_rec = proposed;
    size_t old = SIZE_MAX;
    for (size_t i = 0; i < h->n_recs; i++) {
        if (h->recs[i].at_ms > up_cut)
            up_rec = min32(up_rec, h->recs[i].replicas);
        if (h->recs[i].at_ms > down_cut)
            down_rec = max32(down_rec, h->recs[i].replicas);
        if (h->recs[i].at_ms < up_cut && h->recs[i].at_ms < down_cut)
            old = i;
    }
    int32_t rec = current;
    if (rec < up_rec)
        rec = up_rec;
    if (rec > down_rec)
        rec = down_rec;
    struct ctl_hpa_sample x = {now_ms, proposed};
    if (old != SIZE_MAX)
        h->recs[old] = x;
    else
        push(h->recs, &h->n_recs, x);
    return rec;
}

/* getReplicasChangePerPeriod */
static int32_t change_in_period(const struct ctl_hpa_sample *ev, size_t n, int64_t period_s,
                                int64_t now_ms)
{
    int32_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].at_ms > now_ms - period_s * 1000)
            sum += ev[i].replicas;
    return sum;
}

/* calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors */
static int32_t rate_limit(json_t *rules, const struct ctl_hpa_sample *ev, size_t n, int32_t current,
                          bool up, int64_t now_ms)
{
    const char *select = ctl_str(rules, "selectPolicy");
    if (strcmp(select, "Disabled") == 0)
        return current;
    bool pick_min = strcmp(select, "Min") == 0;
    /* Up: Max picks the largest limit; down: Max picks the smallest. */
    bool take_larger = up ? !pick_min : pick_min;
    int32_t result = take_larger ? INT32_MIN : INT32_MAX;
    json_t *p;
    size_t i;
    json_array_foreach(json_object_get(rules, "policies"), i, p)
    {
        int64_t value = int_at(p, "value", 0), period = int_at(p, "periodSeconds", 15);
        int32_t changed = change_in_period(ev, n, period, now_ms);
        int32_t start = up ? current - changed : current + changed;
        int32_t proposed;
        bool pods = strcmp(ctl_str(p, "type"), "Pods") == 0;
        if (up)
            proposed = pods ? start + (int32_t)value
                            : (int32_t)ceil((double)start * (1.0 + (double)value / 100.0));
        else
            proposed = pods ? start - (int32_t)value
                            : (int32_t)((double)start * (1.0 - (double)value / 100.0));
        result = take_larger ? max32(result, proposed) : min32(result, proposed);
    }
    if (result == INT32_MIN || result == INT32_MAX)
        return current;
    return result;
}

static int32_t clamp_with_behavior(json_t *behavior, struct ctl_hpa_history *h, int32_t current,
                                   int32_t desired, int32_t min, int32_t max, int64_t now_ms,
                                   struct ctl_hpa_verdict *v)
{
    v->limited_reason = "DesiredWithinRange";
    v->limited_message = "the desired count is within the acceptable range";
    if (desired > current) {
        int32_t limit = rate_limit(json_object_get(behavior, "scaleUp"), h->up, h->n_up, current,
                                   true, now_ms);
        limit = max32(limit, current);
        int32_t allowed = max;
        const char *r = "TooManyReplicas",
                   *m = "the desired replica count is more than the maximum replica count";
        if (allowed > limit) {
            allowed = limit;
            r = "ScaleUpLimit";
            m = "the desired replica count is increasing faster than the maximum scale rate";
        }
        if (desired > allowed) {
            v->limited_reason = r;
            v->limited_message = m;
            return allowed;
        }
    } else if (desired < current) {
        int32_t limit = rate_limit(json_object_get(behavior, "scaleDown"), h->down, h->n_down,
                                   current, false, now_ms);
        limit = min32(limit, current);
        int32_t allowed = min;
        const char *r = "TooFewReplicas",
                   *m = "the desired replica count is less than the minimum replica count";
        if (allowed < limit) {
            allowed = limit;
            r = "ScaleDownLimit";
            m = "the desired replica count is decreasing faster than the maximum scale rate";
        }
        if (desired < allowed) {
            v->limited_reason = r;
            v->limited_message = m;
            return allowed;
        }
    }
    return desired;
}

/* convertDesiredReplicasWithRules (no behavior) */
static int32_t clamp_legacy(int32_t current, int32_t desired, int32_t min, int32_t max,
                            struct ctl_hpa_verdict *v)
{
    int32_t up_limit = max32(2 * current, 4), allowed = max;
    const char *r = "TooManyReplicas",
               *m = "the desired replica count is more than the maximum replica count";
    if (max > up_limit) {
        allowed = up_limit;
        r = "ScaleUpLimit";
        m = "the desired replica count is increasing faster than the maximum scale rate";
    }
    v->limited_reason = "DesiredWithinRange";
    v->limited_message = "the desired count is within the acceptable range";
    if (desired < min) {
        v->limited_reason = "TooFewReplicas";
        v->limited_message = "the desired replica count is less than the minimum replica count";
        return min;
    }
    if (desired > allowed) {
        v->limited_reason = r;
        v->limited_message = m;
        return allowed;
    }
    return desired;
}

int32_t ctl_hpa_normalize(json_t *hpa, struct ctl_hpa_history *h, int32_t current,
                          int32_t proposed, int64_t now_ms, struct ctl_hpa_verdict *v)
{
    json_t *spec = json_object_get(hpa, "spec");
    json_t *behavior = json_object_get(spec, "behavior");
    int32_t min = (int32_t)int_at(spec, "minReplicas", 1), max = (int32_t)int_at(spec, "maxReplicas", 1);
    int32_t stable;
    bool stabilized_up = proposed >= current;
    if (json_is_object(behavior))
        stable = stabilize(h, json_object_get(behavior, "scaleUp"),
                           json_object_get(behavior, "scaleDown"), current, proposed, now_ms);
    else
        stable = stabilize_legacy(h, proposed, now_ms);
    if (stable != proposed) {
        v->able_reason = stabilized_up && json_is_object(behavior) ? "ScaleUpStabilized"
                                                                   : "ScaleDownStabilized";
        v->able_message = stabilized_up && json_is_object(behavior)
                              ? "recent recommendations were lower than current one, applying "
                                "the lowest recent recommendation"
                              : "recent recommendations were higher than current one, applying "
                                "the highest recent recommendation";
    } else {
        v->able_reason = "ReadyForNewScale";
        v->able_message = "recommended size matches current size";
    }
    int32_t desired = json_is_object(behavior)
                          ? clamp_with_behavior(behavior, h, current, stable, min, max, now_ms, v)
                          : clamp_legacy(current, stable, min, max, v);
    v->limited = desired != stable;
    return desired;
}

void ctl_hpa_record_scale(json_t *hpa, struct ctl_hpa_history *h, int32_t from, int32_t to,
                          int64_t now_ms)
{
    if (!json_is_object(json_object_get(json_object_get(hpa, "spec"), "behavior")) || from == to)
        return;
    struct ctl_hpa_sample x = {now_ms, to > from ? to - from : from - to};
    /* Events older than the longest period allowed (1800 s) are dropped. */
    struct ctl_hpa_sample *a = to > from ? h->up : h->down;
    size_t *n = to > from ? &h->n_up : &h->n_down, k = 0;
    for (size_t i = 0; i < *n; i++)
        if (a[i].at_ms > now_ms - 1800 * 1000LL)
            a[k++] = a[i];
    *n = k;
    push(a, n, x);
}

/* ==== the controller ==== */

struct hpa_state {
    struct umap hist; /* "ns/name" -> struct ctl_hpa_history */
};

static void free_state(void *p)
{
    struct hpa_state *s = p;
    size_t it = 0;
    void *v;
    while (umap_next(&s->hist, &it, NULL, &v))
        free(v);
    umap_free(&s->hist);
    free(s);
}

static struct hpa_state *state_of(struct ctl *c)
{
    void **slot = ctl_state(c, HPA);
    if (!*slot)
        *slot = xcalloc(1, sizeof(struct hpa_state));
    return *slot;
}

/* The HPA's history; a new one starts with the current count as its first
 * recommendation (recordInitialRecommendation). */
static struct ctl_hpa_history *history(struct ctl *c, const char *ns, const char *name,
                                       int32_t current, int64_t now_ms)
{
    char key[600];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    struct hpa_state *s = state_of(c);
    struct ctl_hpa_history *h = umap_get(&s->hist, key);
    if (!h) {
        h = xcalloc(1, sizeof *h);
        h->recs[h->n_recs++] = (struct ctl_hpa_sample){now_ms, current};
        umap_put(&s->hist, key, h);
    }
    return h;
}

/* The /scale path of the HPA's scaleTargetRef, or false. */
static bool scale_path(json_t *hpa, char *buf, size_t len)
{
    json_t *ref = json_object_get(json_object_get(hpa, "spec"), "scaleTargetRef");
    const char *kind = ctl_str(ref, "kind"), *av = ctl_str(ref, "apiVersion");
    static const struct {
        const char *kind, *resource;
    } kinds[] = {{"Deployment", "deployments"},
                 {"ReplicaSet", "replicasets"},
                 {"StatefulSet", "statefulsets"},
                 {"ReplicationController", "replicationcontrollers"}};
    const char *res = NULL;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            res = kinds[i].resource;
    (void)av;
    if (!res || !ctl_object_path(res, ctl_str(json_object_get(hpa, "metadata"), "namespace"),
                                 ctl_str(ref, "name"), buf, len - 7))
        return false;
    strcat(buf, "/scale");
    return true;
}

/* The pods the selector picks in ns, and their PodMetrics by name. */
static json_t *select_pods(struct ctl *c, const char *ns, const char *selector, json_t **metrics,
                           char *err, size_t len)
{
    struct kube_selector *sel = kube_selector_parse(selector, err, len);
    *metrics = json_object();
    if (!sel)
        return NULL;
    json_t *all = ctl_list(c, "pods", ns, NULL), *out = json_array(), *p;
    size_t i;
    json_array_foreach(all, i, p)
    {
        json_t *md = json_object_get(p, "metadata");
        if (!kube_selector_match(sel, json_object_get(md, "labels")))
            continue;
        json_array_append(out, p);
        json_t *pm = ctl_get(c, "podmetrics", ns, ctl_str(md, "name"));
        if (pm)
            json_object_set_new(*metrics, ctl_str(md, "name"), pm);
    }
    kube_selector_free(sel);
    json_decref(all);
    return out;
}

static void fmt_milli(char *buf, size_t len, int64_t milli)
{
    if (milli % 1000 == 0)
        snprintf(buf, len, "%lld", (long long)(milli / 1000));
    else
        snprintf(buf, len, "%lldm", (long long)milli);
}

/* computeReplicasForMetrics: the largest proposal, the metric statuses
 * (one per spec metric), and the name of the winning metric; -1 with err
 * when no metric gave a proposal. */
static int32_t compute(struct ctl *c, json_t *hpa, int32_t current, const char *selector,
                       json_t *statuses, char *metric_name, size_t name_len, char *err,
                       size_t err_len)
{
    json_t *md = json_object_get(hpa, "metadata"), *m;
    const char *ns = ctl_str(md, "namespace");
    json_t *metrics = NULL;
    json_t *pods = select_pods(c, ns, selector, &metrics, err, err_len);
    int32_t best = -1;
    size_t i;
    json_array_foreach(json_object_get(json_object_get(hpa, "spec"), "metrics"), i, m)
    {
        json_t *res = json_object_get(m, "resource"), *target = json_object_get(res, "target");
        const char *rname = ctl_str(res, "name");
        if (strcmp(ctl_str(m, "type"), "Resource") != 0 || !*rname) {
            snprintf(err, err_len, "invalid metrics (%s): only Resource metrics are supported",
                     ctl_str(m, "type"));
            json_array_append_new(statuses, json_pack("{s:s}", "type", ""));
            continue;
        }
        int32_t util = (int32_t)int_at(target, "averageUtilization", 0);
        int64_t avg = 0;
        if (strcmp(ctl_str(target, "type"), "AverageValue") == 0) {
            util = 0;
            avg = kube_quantity_value(json_object_get(target, "averageValue"), true);
        }
        struct ctl_hpa_calc calc;
        if (!pods || !ctl_hpa_resource_replicas(pods, metrics, rname, current, util, avg,
                                                util_wall_ms(), &calc, err, err_len)) {
            json_array_append_new(statuses, json_pack("{s:s}", "type", ""));
            continue;
        }
        char avg_s[32];
        fmt_milli(avg_s, sizeof avg_s, calc.average_milli);
        json_t *cur = json_pack("{s:s}", "averageValue", avg_s);
        if (util > 0)
            json_object_set_new(cur, "averageUtilization", json_integer(calc.utilization));
        json_array_append_new(statuses, json_pack("{s:s, s:{s:s, s:o}}", "type", "Resource",
                                                  "resource", "name", rname, "current", cur));
        if (calc.replicas > best) {
            best = calc.replicas;
            snprintf(metric_name, name_len, util > 0 ? "%s resource utilization (percentage of "
                                                       "request)"
                                                     : "%s resource",
                     rname);
        }
    }
    json_decref(pods);
    json_decref(metrics);
    return best;
}

static bool set_cond(json_t *hpa, const char *type, const char *st, const char *reason,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static bool set_cond(json_t *hpa, const char *type, const char *st, const char *reason,
                     const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *status = json_object_get(hpa, "status");
    if (!json_is_object(status)) {
        status = json_object();
        json_object_set_new(hpa, "status", status);
    }
    return ctl_condition_set(status, type, st, reason, msg, false);
}

/* Writes the status if it changed since it was read. */
static bool write_status(struct ctl *c, json_t *hpa, json_t *before)
{
    if (json_equal(json_object_get(hpa, "status"), before))
        return true;
    int st = ctl_status_update(c, HPAS, hpa);
    return st == 200 || st == 404;
}

static void set_replicas(json_t *hpa, int32_t current, int32_t desired, json_t *statuses,
                         bool rescaled)
{
    json_t *status = json_object_get(hpa, "status");
    json_object_set_new(status, "currentReplicas", json_integer(current));
    json_object_set_new(status, "desiredReplicas", json_integer(desired));
    if (statuses && json_array_size(statuses))
        json_object_set(status, "currentMetrics", statuses);
    else
        json_object_del(status, "currentMetrics");
    if (rescaled) {
        char now[32];
        util_time_rfc3339(now, sizeof now);
        json_object_set_new(status, "lastScaleTime", json_string(now));
    }
}

/* reconcileAutoscaler for one HPA read with its revision. */
static bool reconcile(struct ctl *c, json_t *hpa, json_t *before)
{
    json_t *md = json_object_get(hpa, "metadata"), *spec = json_object_get(hpa, "spec");
    const char *ns = ctl_str(md, "namespace"), *name = ctl_str(md, "name");
    json_t *ref = json_object_get(spec, "scaleTargetRef");
    json_object_set(json_object_get(hpa, "status"), "observedGeneration",
                    json_object_get(md, "generation"));
    char path[700];
    json_t *scale = NULL;
    int st = scale_path(hpa, path, sizeof path) ? ctl_api(c, "GET", path, NULL, NULL, &scale) : 404;
    if (st != 200 || !scale) {
        set_cond(hpa, "AbleToScale", "False", "FailedGetScale",
                 "the HPA controller was unable to get the target's current scale: %s %s not found",
                 ctl_str(ref, "kind"), ctl_str(ref, "name"));
        ctl_event(c, HPAS, hpa, "Warning", "FailedGetScale", "%s %s/%s not found",
                  ctl_str(ref, "kind"), ns, ctl_str(ref, "name"));
        json_decref(scale);
        return write_status(c, hpa, before);
    }
    set_cond(hpa, "AbleToScale", "True", "SucceededGetScale",
             "the HPA controller was able to get the target's current scale");
    int32_t current = (int32_t)int_at(json_object_get(scale, "spec"), "replicas", 0);
    char selector[1024];
    snprintf(selector, sizeof selector, "%s", ctl_str(json_object_get(scale, "status"), "selector"));
    int32_t min = (int32_t)int_at(spec, "minReplicas", 1), max = (int32_t)int_at(spec, "maxReplicas", 1);
    int64_t now = util_wall_ms();
    struct ctl_hpa_history *h = history(c, ns, name, current, now);
    int32_t desired = 0;
    bool rescale = false;
    json_t *statuses = json_array();
    char reason[256] = "";
    if (current == 0 && min != 0) {
        set_cond(hpa, "ScalingActive", "False", "ScalingDisabled",
                 "scaling is disabled since the replica count of the target is zero");
    } else if (current > max) {
        snprintf(reason, sizeof reason, "Current number of replicas above Spec.MaxReplicas");
        desired = max;
    } else if (current < min) {
        snprintf(reason, sizeof reason, "Current number of replicas below Spec.MinReplicas");
        desired = min;
    } else {
        char metric[128] = "", err[512] = "";
        int32_t proposal = selector[0] ? compute(c, hpa, current, selector, statuses, metric,
                                                 sizeof metric, err, sizeof err)
                                       : -1;
        if (!selector[0])
            snprintf(err, sizeof err, "selector is required");
        if (proposal < 0) {
            set_cond(hpa, "ScalingActive", "False", "FailedGetResourceMetric",
                     "the HPA was unable to compute the replica count: %s", err);
            set_replicas(hpa, current, int_at(json_object_get(hpa, "status"), "desiredReplicas",
                                              current),
                         statuses, false);
            ctl_event(c, HPAS, hpa, "Warning", "FailedComputeMetricsReplicas",
                      "invalid metrics (%zu invalid out of %zu), first error is: failed to get %s "
                      "resource metric value: %s",
                      json_array_size(statuses), json_array_size(statuses), "cpu", err);
            json_decref(statuses);
            json_decref(scale);
            return write_status(c, hpa, before);
        }
        set_cond(hpa, "ScalingActive", "True", "ValidMetricFound",
                 "the HPA was able to successfully calculate a replica count from %s", metric);
        if (proposal > current)
            snprintf(reason, sizeof reason, "%s above target", metric);
        else if (proposal < current)
            snprintf(reason, sizeof reason, "All metrics below target");
        struct ctl_hpa_verdict v;
        desired = ctl_hpa_normalize(hpa, h, current, proposal, now, &v);
        set_cond(hpa, "AbleToScale", "True", v.able_reason, "%s", v.able_message);
        set_cond(hpa, "ScalingLimited", v.limited ? "True" : "False", v.limited_reason, "%s",
                 v.limited_message);
    }
    rescale = !(current == 0 && min != 0) && desired != current;
    bool ok = true;
    if (rescale) {
        json_object_set_new(json_object_get(scale, "spec"), "replicas", json_integer(desired));
        st = ctl_api(c, "PUT", path, NULL, scale, NULL);
        if (st != 200) {
            ctl_event(c, HPAS, hpa, "Warning", "FailedRescale", "New size: %d; reason: %s; error: HTTP %d",
                      desired, reason, st);
            set_cond(hpa, "AbleToScale", "False", "FailedUpdateScale",
                     "the HPA controller was unable to update the target scale: HTTP %d", st);
            set_replicas(hpa, current, current, statuses, false);
            write_status(c, hpa, before);
            json_decref(statuses);
            json_decref(scale);
            return false;
        }
        set_cond(hpa, "AbleToScale", "True", "SucceededRescale",
                 "the HPA controller was able to update the target scale to %d", desired);
        ctl_event(c, HPAS, hpa, "Normal", "SuccessfulRescale", "New size: %d; reason: %s", desired,
                  reason);
        ctl_hpa_record_scale(hpa, h, current, desired, now);
    } else {
        desired = current;
    }
    set_replicas(hpa, current, desired, statuses, rescale);
    ok = write_status(c, hpa, before);
    json_decref(statuses);
    json_decref(scale);
    return ok;
}


static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    json_t *hpa = ctl_get(c, HPAS, ns, name);
    if (!hpa) {
        char key[600];
        snprintf(key, sizeof key, "%s/%s", ns, name);
        free(umap_del(&state_of(c)->hist, key));
        return true;
    }
    if (!json_is_object(json_object_get(hpa, "status")))
        json_object_set_new(hpa, "status", json_object());
    json_t *before = json_deep_copy(json_object_get(hpa, "status"));
    bool ok = reconcile(c, hpa, before);
    json_decref(before);
    json_decref(hpa);
    if (ok) /* the resync period; a failure comes back after its backoff */
        ctl_enqueue_after(c, HPA, HPAS, ns, name, HPA_SYNC_MS);
    return ok;
}

static bool wants(const struct store_event *e)
{
    return e->o.resource_len == strlen(HPAS) && memcmp(e->o.resource, HPAS, e->o.resource_len) == 0;
}

/* A new HPA or a new spec is looked at now; the controller's own status
 * writes wait for the 15 s period, as in Kubernetes. */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (e->type == STORE_DELETED)
        return; /* the queued sync finds it gone and forgets it */
    json_t *gen = json_object_get(md, "generation");
    json_t *seen = json_object_get(json_object_get(obj, "status"), "observedGeneration");
    if (e->type == STORE_ADDED || !json_equal(gen, seen))
        ctl_enqueue(c, HPA, HPAS, ctl_str(md, "namespace"), ctl_str(md, "name"));
}

/* At election every HPA is synced at once; later full passes only make
 * sure each has its periodic sync queued. */
static void resync(struct ctl *c)
{
    bool fresh = *ctl_state(c, HPA) == NULL;
    state_of(c);
    json_t *all = ctl_list(c, HPAS, NULL, NULL), *h;
    size_t i;
    json_array_foreach(all, i, h)
    {
        json_t *md = json_object_get(h, "metadata");
        ctl_enqueue_after(c, HPA, HPAS, ctl_str(md, "namespace"), ctl_str(md, "name"),
                          fresh ? 0 : HPA_SYNC_MS);
    }
    json_decref(all);
}

const struct ctl_def ctl_autoscaler = {
    .name = HPA,
    .component = "horizontal-pod-autoscaler",
    .wants = wants,
    .on_change = on_change,
    .sync = sync,
    .resync = resync,
    .free_state = free_state,
};
