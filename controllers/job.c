/* job.c — the Job controller (with the TTL-after-finished controller), as
 * Kubernetes' pkg/controller/job and pkg/controller/ttlafterfinished.
 *
 * A Job runs pods from its template until spec.completions of them
 * succeeded (NonIndexed), or one pod per index 0..completions-1 succeeded
 * (Indexed: pods JOB-INDEX-xxxxx with the completion index annotation and
 * label, hostname JOB-INDEX and the JOB_COMPLETION_INDEX env), never more
 * than spec.parallelism at a time; failed pods are replaced after an
 * exponential backoff (10 s doubling, at most 6 min) until more than
 * spec.backoffLimit failed; podFailurePolicy may fail the Job at once,
 * ignore a failure or count it; activeDeadlineSeconds fails it when it ran
 * too long; spec.suspend deletes its active pods; ttlSecondsAfterFinished
 * deletes it (Foreground, as Kubernetes) that long after it finished.
 *
 * Job tracking with finalizers, exactly as Kubernetes does it, so that no
 * completion is ever counted twice or lost, whatever moment the leader
 * dies: every pod is created with the batch.kubernetes.io/job-tracking
 * finalizer. A finished pod is (1) recorded in the Job's
 * status.uncountedTerminatedPods (for Indexed jobs its index goes straight
 * into status.completedIndexes), written before anything else; (2) its
 * finalizer is removed; (3) uids in the uncounted lists whose pod no longer
 * has the finalizer move to status.succeeded/failed. A pod with the
 * finalizer that is not in the lists is new; one in the lists is not
 * counted again; one without the finalizer was counted. Failure or success
 * first writes the interim FailureTarget or SuccessCriteriaMet condition
 * (Kubernetes 1.32), then, when nothing is uncounted or terminating, Failed
 * or Complete (with completionTime).
 *
 * How it works: the decision is ctl_job_plan, a pure function of the Job
 * and its pods (tests/unit/test_ctl_job.c); sync() executes it: deletes and
 * creates pods (concurrently, ctl_api_many), and if it did, reads the pods
 * again and plans once more (so the status always describes this replica:
 * read-your-writes on the leader replaces Kubernetes' expectations); then
 * writes the status (PUT /status with the read resourceVersion), removes
 * finalizers, reads the pods again and settles the counters
 * (ctl_job_settle). Every step is idempotent; a failed write fails the sync,
 * which the runtime retries after a backoff. (The runtime starts a new
 * leader's controllers only once its replica has applied everything the
 * last leader committed.)
 *
 * A sync of an unfinished Job first claims the pods of its namespace
 * (getPodsForJob: ctl_claim, objects.c): an orphan its selector matches
 * is adopted with the tracking finalizer added, a pod of its own that it
 * no longer matches is released with the finalizer removed; a failed
 * claim fails the sync. An orphan pod (not being deleted) queues the Job
 * that controlled it just before, if any, and every Job of its namespace
 * that selects it.
 *
 * Pods whose Job is gone or finished keep no finalizer: a pod change of
 * such a pod queues "pods/NS/NAME", whose sync removes it (syncOrphanPod).
 * Not done: backoffLimitPerIndex/maxFailedIndexes, the FailIndex action,
 * successPolicy, managedBy. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define JOB "job"

/* ---- small helpers ---- */

static json_t *md_of(json_t *o)
{
    return json_object_get(o, "metadata");
}

static const char *phase_of(json_t *pod)
{
    return ctl_str(json_object_get(pod, "status"), "phase");
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static void time_format(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_int_t int_or(json_t *o, const char *k, json_int_t dflt)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static bool has_finalizer(json_t *obj, const char *f)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(md_of(obj), "finalizers"), i, v) if (
        json_is_string(v) && str_eq(json_string_value(v), f)) return true;
    return false;
}

static bool in_strings(json_t *arr, const char *s)
{
    json_t *v;
    size_t i;
    json_array_foreach(arr, i, v) if (json_is_string(v) && str_eq(json_string_value(v), s)) return
        true;
    return false;
}

static bool being_deleted(json_t *obj)
{
    return json_object_get(md_of(obj), "deletionTimestamp") != NULL;
}

static bool is_terminal(json_t *pod)
{
    return str_eq(phase_of(pod), "Succeeded") || str_eq(phase_of(pod), "Failed");
}

static json_t *job_spec(json_t *job)
{
    return json_object_get(job, "spec");
}

static bool job_indexed(json_t *job)
{
    return str_eq(ctl_str(job_spec(job), "completionMode"), "Indexed");
}

static bool job_suspended(json_t *job)
{
    return json_is_true(json_object_get(job_spec(job), "suspend"));
}

/* -1 when spec.completions is unset (a work queue). */
static int32_t job_completions(json_t *job)
{
    return (int32_t)int_or(job_spec(job), "completions", -1);
}

static bool only_replace_failed(json_t *job)
{
    json_t *spec = job_spec(job);
    return str_eq(ctl_str(spec, "podReplacementPolicy"), "Failed") ||
           json_object_get(spec, "podFailurePolicy") != NULL;
}

static json_t *condition_of(json_t *status, const char *type)
{
    json_t *cd;
    size_t i;
    json_array_foreach(json_object_get(status, "conditions"), i, cd) if (
        str_eq(ctl_str(cd, "type"), type)) return cd;
    return NULL;
}

static bool condition_true(json_t *status, const char *type)
{
    return str_eq(ctl_str(condition_of(status, type), "status"), "True");
}

static json_t *condition_new(const char *type, const char *status, const char *reason,
                             const char *message, const char *now)
{
    json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status", status,
                          "lastProbeTime", now, "lastTransitionTime", now);
    if (*reason)
        json_object_set_new(c, "reason", json_string(reason));
    if (*message)
        json_object_set_new(c, "message", json_string(message));
    return c;
}

/* ensureJobConditionStatus: appends or updates condition type; a False
 * one is never appended. Returns whether anything changed. */
static bool condition_ensure(json_t *status, const char *type, const char *cstatus,
                             const char *reason, const char *message, const char *now)
{
    json_t *conds = json_object_get(status, "conditions");
    json_t *cur = condition_of(status, type);
    if (cur) {
        if (str_eq(ctl_str(cur, "status"), cstatus) && str_eq(ctl_str(cur, "reason"), reason) &&
            str_eq(ctl_str(cur, "message"), message))
            return false;
        json_t *n = condition_new(type, cstatus, reason, message, now);
        json_object_update(cur, n);
        if (!*reason)
            json_object_del(cur, "reason");
        if (!*message)
            json_object_del(cur, "message");
        json_decref(n);
        return true;
    }
    if (str_eq(cstatus, "False"))
        return false;
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    json_array_append_new(conds, condition_new(type, cstatus, reason, message, now));
    return true;
}

/* Sets an integer counter, omitted at 0 as Go's omitempty does. */
static void counter_set(json_t *status, const char *k, int64_t v)
{
    if (v)
        json_object_set_new(status, k, json_integer(v));
    else
        json_object_del(status, k);
}

/* ---- interval lists (indexed_job_utils.go) ---- */

void ctl_ivals_free(struct ctl_ivals *iv)
{
    free(iv->v);
    memset(iv, 0, sizeof *iv);
}

static void ivals_insert_at(struct ctl_ivals *iv, size_t at, int32_t first, int32_t last)
{
    if (iv->n == iv->cap) {
        iv->cap = iv->cap ? iv->cap * 2 : 8;
        iv->v = xrealloc(iv->v, iv->cap * sizeof *iv->v);
    }
    memmove(&iv->v[at + 1], &iv->v[at], (iv->n - at) * sizeof *iv->v);
    iv->v[at] = (struct ctl_ival){first, last};
    iv->n++;
}

/* Adds [first, last], merging with overlapping or adjacent intervals. */
static void ivals_add_range(struct ctl_ivals *iv, int32_t first, int32_t last)
{
    assert(first <= last);
    size_t i = 0;
    while (i < iv->n && iv->v[i].last + 1 < first)
        i++;
    if (i == iv->n || iv->v[i].first > last + 1) {
        ivals_insert_at(iv, i, first, last);
        return;
    }
    if (first < iv->v[i].first)
        iv->v[i].first = first;
    if (last > iv->v[i].last)
        iv->v[i].last = last;
    while (i + 1 < iv->n && iv->v[i + 1].first <= iv->v[i].last + 1) { /* swallow the next */
        if (iv->v[i + 1].last > iv->v[i].last)
            iv->v[i].last = iv->v[i + 1].last;
        memmove(&iv->v[i + 1], &iv->v[i + 2], (iv->n - i - 2) * sizeof *iv->v);
        iv->n--;
    }
}

void ctl_ivals_add(struct ctl_ivals *iv, int32_t x)
{
    ivals_add_range(iv, x, x);
}

bool ctl_ivals_has(const struct ctl_ivals *iv, int32_t x)
{
    for (size_t i = 0; i < iv->n && iv->v[i].first <= x; i++)
        if (x <= iv->v[i].last)
            return true;
    return false;
}

int64_t ctl_ivals_total(const struct ctl_ivals *iv)
{
    int64_t t = 0;
    for (size_t i = 0; i < iv->n; i++)
        t += (int64_t)iv->v[i].last - iv->v[i].first + 1;
    return t;
}

static bool parse_index(const char *s, const char *end, int32_t *out)
{
    if (s == end || end - s > 9)
        return false;
    int32_t v = 0;
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    *out = v;
    return true;
}

void ctl_ivals_parse(struct ctl_ivals *iv, const char *s, int32_t limit)
{
    while (s && *s) {
        const char *comma = strchr(s, ',');
        const char *end = comma ? comma : s + strlen(s);
        const char *dash = memchr(s, '-', (size_t)(end - s));
        int32_t first, last;
        bool ok = dash ? parse_index(s, dash, &first) && parse_index(dash + 1, end, &last)
                       : parse_index(s, end, &first);
        if (!dash)
            last = first;
        if (ok && first <= last && first < limit)
            ivals_add_range(iv, first, last < limit ? last : limit - 1);
        s = comma ? comma + 1 : NULL;
    }
}

char *ctl_ivals_format(const struct ctl_ivals *iv)
{
    struct ubuf b = {0};
    for (size_t i = 0; i < iv->n; i++) {
        if (iv->v[i].first == iv->v[i].last)
            ubuf_appendf(&b, "%s%d", i ? "," : "", iv->v[i].first);
        else
            ubuf_appendf(&b, "%s%d-%d", i ? "," : "", iv->v[i].first, iv->v[i].last);
    }
    return b.data ? b.data : xstrdup("");
}

/* ---- pods ---- */

int32_t ctl_job_pod_index(json_t *pod)
{
    const char *s =
        ctl_str(json_object_get(md_of(pod), "annotations"), CTL_JOB_INDEX_KEY);
    int32_t v;
    return parse_index(s, s + strlen(s), &v) ? v : -1;
}

/* A pod of an Indexed job counts only with an index below completions. */
static bool valid_index(json_t *job, json_t *pod)
{
    if (!job_indexed(job))
        return true;
    int32_t ix = ctl_job_pod_index(pod);
    return ix >= 0 && ix < job_completions(job);
}

int64_t ctl_job_pod_finish_ms(json_t *pod)
{
    json_t *st = json_object_get(pod, "status"), *cs;
    size_t i;
    int64_t latest = -1;
    bool all = json_array_size(json_object_get(st, "containerStatuses")) > 0;
    json_array_foreach(json_object_get(st, "containerStatuses"), i, cs)
    {
        json_t *term = json_object_get(json_object_get(cs, "state"), "terminated");
        int64_t t = util_time_parse(ctl_str(term, "finishedAt"));
        if (!term || t < 0)
            all = false;
        else if (t > latest)
            latest = t;
    }
    if (all && latest >= 0)
        return latest;
    json_t *ready = condition_of(st, "Ready");
    int64_t t = util_time_parse(ctl_str(ready, "lastTransitionTime"));
    if (str_eq(ctl_str(ready, "status"), "False") && t >= 0)
        return t;
    t = util_time_parse(ctl_str(md_of(pod), "deletionTimestamp"));
    if (t >= 0)
        return t - int_or(md_of(pod), "deletionGracePeriodSeconds", 0) * 1000;
    return util_time_parse(ctl_str(md_of(pod), "creationTimestamp"));
}

bool ctl_job_pod_failed(json_t *job, json_t *pod)
{
    if (str_eq(phase_of(pod), "Failed"))
        return true;
    if (only_replace_failed(job))
        return false;
    return being_deleted(pod) && !str_eq(phase_of(pod), "Succeeded");
}

static bool pod_terminating(json_t *pod)
{
    return being_deleted(pod) && !is_terminal(pod);
}

int64_t ctl_job_backoff_remaining_ms(int32_t failures, int64_t last_failure_ms, int64_t now_ms)
{
    if (failures <= 0 || last_failure_ms < 0)
        return 0;
    int64_t d = CTL_JOB_BACKOFF_MS;
    for (int32_t i = 1; i < failures && d < CTL_JOB_BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > CTL_JOB_BACKOFF_MAX_MS)
        d = CTL_JOB_BACKOFF_MAX_MS;
    int64_t elapsed = now_ms - last_failure_ms;
    return d < elapsed ? 0 : d - elapsed;
}

/* The failures since the last success and the time of the last one, from
 * every finished pod the job still has (Kubernetes keeps the same record
 * in memory, built from the pods it sees finish). */
static void backoff_record(json_t *job, json_t *pods, int32_t *failures, int64_t *last_ms)
{
    int64_t last_success = -1;
    json_t *p;
    size_t i;
    json_array_foreach(pods, i, p) if (str_eq(phase_of(p), "Succeeded"))
    {
        int64_t t = ctl_job_pod_finish_ms(p);
        if (t > last_success)
            last_success = t;
    }
    *failures = 0;
    *last_ms = -1;
    json_array_foreach(pods, i, p)
    {
        if (!ctl_job_pod_failed(job, p))
            continue;
        int64_t t = ctl_job_pod_finish_ms(p);
        if (last_success >= 0 && t <= last_success)
            continue;
        (*failures)++;
        if (t > *last_ms)
            *last_ms = t;
    }
}

/* ---- pod failure policy (pod_failure_policy.go) ---- */

static bool exit_code_matches(json_int_t code, json_t *req)
{
    const char *op = ctl_str(req, "operator");
    bool in = false;
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(req, "values"), i, v) in |= json_integer_value(v) == code;
    return str_eq(op, "In") ? in : str_eq(op, "NotIn") ? !in : false;
}

static json_t *matching_container(json_t *statuses, json_t *req)
{
    const char *only = json_string_value(json_object_get(req, "containerName"));
    json_t *cs;
    size_t i;
    json_array_foreach(statuses, i, cs)
    {
        json_t *term = json_object_get(json_object_get(cs, "state"), "terminated");
        if (!term || (only && !str_eq(only, ctl_str(cs, "name"))))
            continue;
        json_int_t code = int_or(term, "exitCode", 0);
        if (code != 0 && exit_code_matches(code, req))
            return cs;
    }
    return NULL;
}

static json_t *matching_condition(json_t *pod, json_t *patterns)
{
    json_t *cd, *pat;
    size_t i, j;
    json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, cd)
        json_array_foreach(patterns, j, pat) if (
            str_eq(ctl_str(cd, "type"), ctl_str(pat, "type")) &&
            str_eq(ctl_str(cd, "status"), *ctl_str(pat, "status") ? ctl_str(pat, "status")
                                                                  : "True")) return cd;
    return NULL;
}

enum ctl_job_pfp ctl_job_pfp_match(json_t *policy, json_t *pod, char *msg, size_t len)
{
    json_t *rule, *md = md_of(pod);
    size_t i;
    json_array_foreach(json_object_get(policy, "rules"), i, rule)
    {
        const char *action = ctl_str(rule, "action");
        json_t *codes = json_object_get(rule, "onExitCodes");
        json_t *hit_c = NULL, *hit_p = NULL;
        if (codes) {
            json_t *st = json_object_get(pod, "status");
            hit_c = matching_container(json_object_get(st, "containerStatuses"), codes);
            if (!hit_c)
                hit_c = matching_container(json_object_get(st, "initContainerStatuses"), codes);
            if (!hit_c)
                continue;
        } else if (json_object_get(rule, "onPodConditions")) {
            hit_p = matching_condition(pod, json_object_get(rule, "onPodConditions"));
            if (!hit_p)
                continue;
        } else {
            continue;
        }
        if (str_eq(action, "Ignore"))
            return CTL_PFP_IGNORE;
        if (str_eq(action, "Count"))
            return CTL_PFP_COUNT;
        if (str_eq(action, "FailIndex"))
            return CTL_PFP_FAIL_INDEX;
        if (!str_eq(action, "FailJob"))
            continue;
        if (msg && hit_c)
            snprintf(msg, len,
                     "Container %s for pod %s/%s failed with exit code %lld matching FailJob rule "
                     "at index %zu",
                     ctl_str(hit_c, "name"), ctl_str(md, "namespace"), ctl_str(md, "name"),
                     (long long)int_or(json_object_get(json_object_get(hit_c, "state"),
                                                       "terminated"),
                                       "exitCode", 0),
                     i);
        else if (msg)
            snprintf(msg, len, "Pod %s/%s has condition %s matching FailJob rule at index %zu",
                     ctl_str(md, "namespace"), ctl_str(md, "name"), ctl_str(hit_p, "type"), i);
        return CTL_PFP_FAIL_JOB;
    }
    return CTL_PFP_NONE;
}

/* Whether a failed pod counts against backoffLimit (not Ignored). */
static bool failure_counts(json_t *job, json_t *pod)
{
    json_t *policy = json_object_get(job_spec(job), "podFailurePolicy");
    return !policy || ctl_job_pfp_match(policy, pod, NULL, 0) != CTL_PFP_IGNORE;
}

/* ---- creating pods ---- */

size_t ctl_job_pending_indexes(int32_t completions, const struct ctl_ivals *succeeded,
                               json_t *taken, size_t count, int32_t *out)
{
    struct ctl_ivals busy = {0};
    for (size_t i = 0; i < succeeded->n; i++)
        ivals_add_range(&busy, succeeded->v[i].first, succeeded->v[i].last);
    json_t *p;
    size_t i, n = 0;
    json_array_foreach(taken, i, p)
    {
        int32_t ix = ctl_job_pod_index(p);
        if (ix >= 0)
            ctl_ivals_add(&busy, ix);
    }
    for (int32_t cand = 0; cand < completions && n < count; cand++)
        if (!ctl_ivals_has(&busy, cand))
            out[n++] = cand;
    ctl_ivals_free(&busy);
    return n;
}

static void add_index_env(json_t *containers)
{
    json_t *c;
    size_t i;
    json_array_foreach(containers, i, c)
    {
        json_t *env = json_object_get(c, "env"), *e;
        size_t j;
        bool has = false;
        json_array_foreach(env, j, e) has |= str_eq(ctl_str(e, "name"), CTL_JOB_INDEX_ENV);
        if (has)
            continue;
        if (!json_is_array(env)) {
            env = json_array();
            json_object_set_new(c, "env", env);
        }
        json_array_append_new(
            env, json_pack("{s:s, s:{s:{s:s}}}", "name", CTL_JOB_INDEX_ENV, "valueFrom",
                           "fieldRef", "fieldPath",
                           "metadata.annotations['" CTL_JOB_INDEX_KEY "']"));
    }
}

static json_t *obj_child(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(o, k, v);
    }
    return v;
}

json_t *ctl_job_new_pod(json_t *job, int32_t index)
{
    json_t *pod = ctl_pod_from_template(job, "batch/v1", "Job",
                                        json_object_get(job_spec(job), "template"));
    json_t *md = md_of(pod), *spec = json_object_get(pod, "spec");
    const char *name = ctl_str(md_of(job), "name");
    json_t *fins = json_object_get(md, "finalizers");
    if (!json_is_array(fins)) {
        fins = json_array();
        json_object_set_new(md, "finalizers", fins);
    }
    if (!in_strings(fins, CTL_JOB_FINALIZER))
        json_array_append_new(fins, json_string(CTL_JOB_FINALIZER));
    char prefix[128], ix[16];
    if (index < 0) {
        snprintf(prefix, sizeof prefix, "%s-", name);
    } else {
        /* podGenerateNameWithIndex: JOB-INDEX-, the job's name cut so that
         * the generated name fits a DNS label (63) with its 5 random chars. */
        snprintf(ix, sizeof ix, "-%d-", index);
        int keep = 58 - (int)strlen(ix);
        snprintf(prefix, sizeof prefix, "%.*s%s", keep, name, ix);
        snprintf(ix, sizeof ix, "%d", index);
        json_object_set_new(obj_child(md, "annotations"), CTL_JOB_INDEX_KEY, json_string(ix));
        json_object_set_new(obj_child(md, "labels"), CTL_JOB_INDEX_KEY, json_string(ix));
        char host[128];
        snprintf(host, sizeof host, "%s-%d", name, index);
        json_object_set_new(spec, "hostname", json_string(host));
        add_index_env(json_object_get(spec, "initContainers"));
        add_index_env(json_object_get(spec, "containers"));
    }
    json_object_set_new(md, "generateName", json_string(prefix));
    return pod;
}

/* controller.ActivePods: which pod to delete first. Unassigned before
 * assigned, Pending < Unknown < Running, not ready before ready, newer
 * before older. */
static int phase_rank(json_t *p)
{
    const char *ph = phase_of(p);
    return str_eq(ph, "Pending") || !*ph ? 0 : str_eq(ph, "Unknown") ? 1 : 2;
}

static int deletion_order(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int ax = *ctl_str(json_object_get(x, "spec"), "nodeName") != 0;
    int ay = *ctl_str(json_object_get(y, "spec"), "nodeName") != 0;
    if (ax != ay)
        return ax - ay;
    if (phase_rank(x) != phase_rank(y))
        return phase_rank(x) - phase_rank(y);
    if (ctl_pod_ready(x) != ctl_pod_ready(y))
        return (int)ctl_pod_ready(x) - (int)ctl_pod_ready(y);
    int c = strcmp(ctl_str(md_of(y), "creationTimestamp"), ctl_str(md_of(x), "creationTimestamp"));
    return c ? c : strcmp(ctl_str(md_of(x), "name"), ctl_str(md_of(y), "name"));
}

/* activePodsForRemoval: first the active pods without the tracking
 * finalizer (a removal that lost its DELETE: the finalizer goes first so
 * the pod is not counted as failed, and a leader can die between the two
 * writes; such a pod could never be counted, so its removal is finished),
 * for an Indexed job the pods with no valid index or a duplicate one (the
 * least advanced of each index), then the least advanced pods, at least
 * rm_at_least in all. A new array. */
static json_t *pods_for_removal(json_t *job, json_t *active, size_t rm_at_least)
{
    size_t n = json_array_size(active);
    json_t **v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(active, i);
    qsort(v, n, sizeof *v, deletion_order);
    json_t *rm = json_array();
    bool *gone = xcalloc(n ? n : 1, sizeof *gone);
    for (size_t i = 0; i < n; i++)
        if (!has_finalizer(v[i], CTL_JOB_FINALIZER)) {
            json_array_append(rm, v[i]);
            gone[i] = true;
        }
    if (job_indexed(job)) {
        for (size_t i = 0; i < n; i++) {
            if (gone[i])
                continue;
            bool dup = false;
            for (size_t j = i + 1; j < n && !dup; j++) /* a more advanced pod holds it */
                dup = ctl_job_pod_index(v[j]) == ctl_job_pod_index(v[i]);
            if (!valid_index(job, v[i]) || dup) {
                json_array_append(rm, v[i]);
                gone[i] = true;
            }
        }
    }
    for (size_t i = 0; i < n && json_array_size(rm) < rm_at_least; i++)
        if (!gone[i])
            json_array_append(rm, v[i]);
    free(gone);
    free(v);
    return rm;
}

/* ---- the plan (syncJob) ---- */

struct job_view {
    json_t *job, *pods, *status;
    json_t *active;        /* borrowed pods */
    json_t *unc_succeeded; /* uncountedTerminatedPods lists (in status) */
    json_t *unc_failed;
    int32_t ready, terminating;
    int64_t succeeded, failed;
    struct ctl_ivals prev_indexes, indexes; /* Indexed: stored, and with new successes */
    char now[32];
    int64_t now_ms;
};

static json_t *string_list(json_t *o, const char *k)
{
    json_t *a = json_object_get(o, k);
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(o, k, a);
    }
    return a;
}

/* The counts syncJob starts from. */
static void view_init(struct job_view *w, json_t *job, json_t *pods, int64_t now_ms)
{
    memset(w, 0, sizeof *w);
    w->job = job;
    w->pods = pods;
    w->now_ms = now_ms;
    time_format(now_ms, w->now, sizeof w->now);
    json_t *st = json_object_get(job, "status");
    w->status = json_is_object(st) ? json_deep_copy(st) : json_object();
    json_t *unc = obj_child(w->status, "uncountedTerminatedPods");
    w->unc_succeeded = string_list(unc, "succeeded");
    w->unc_failed = string_list(unc, "failed");
    w->active = json_array();
    json_t *p;
    size_t i;
    int64_t new_s = 0, new_f = 0;
    json_array_foreach(pods, i, p)
    {
        const char *uid = ctl_str(md_of(p), "uid");
        if (ctl_pod_active(p)) {
            json_array_append(w->active, p);
            w->ready += ctl_pod_ready(p);
        }
        w->terminating += pod_terminating(p);
        if (!has_finalizer(p, CTL_JOB_FINALIZER) || !valid_index(job, p))
            continue;
        if (str_eq(phase_of(p), "Succeeded") && !in_strings(w->unc_succeeded, uid))
            new_s++;
        else if (ctl_job_pod_failed(job, p) && !in_strings(w->unc_failed, uid) &&
                 failure_counts(job, p))
            new_f++;
    }
    w->succeeded = int_or(w->status, "succeeded", 0) + new_s +
                   (int64_t)json_array_size(w->unc_succeeded);
    w->failed = int_or(w->status, "failed", 0) + new_f + (int64_t)json_array_size(w->unc_failed);
    if (job_indexed(job)) {
        int32_t comp = job_completions(job);
        ctl_ivals_parse(&w->prev_indexes, ctl_str(w->status, "completedIndexes"), comp);
        ctl_ivals_parse(&w->indexes, ctl_str(w->status, "completedIndexes"), comp);
        json_array_foreach(pods, i, p) if (str_eq(phase_of(p), "Succeeded") &&
                                           has_finalizer(p, CTL_JOB_FINALIZER) &&
                                           valid_index(job, p))
            ctl_ivals_add(&w->indexes, ctl_job_pod_index(p));
        w->succeeded = ctl_ivals_total(&w->indexes);
    }
}

static void view_free(struct job_view *w)
{
    json_decref(w->active);
    ctl_ivals_free(&w->prev_indexes);
    ctl_ivals_free(&w->indexes);
}

/* pastBackoffLimitOnFailure: restarts of running pods under OnFailure. */
static bool past_backoff_on_failure(json_t *job, json_t *pods)
{
    json_t *tspec = json_object_get(json_object_get(job_spec(job), "template"), "spec");
    if (!str_eq(ctl_str(tspec, "restartPolicy"), "OnFailure"))
        return false;
    int64_t restarts = 0, limit = int_or(job_spec(job), "backoffLimit", 6);
    json_t *p, *cs;
    size_t i, j;
    json_array_foreach(pods, i, p)
    {
        if (!str_eq(phase_of(p), "Running") && !str_eq(phase_of(p), "Pending"))
            continue;
        json_t *st = json_object_get(p, "status");
        json_array_foreach(json_object_get(st, "containerStatuses"), j, cs) restarts +=
            int_or(cs, "restartCount", 0);
        json_array_foreach(json_object_get(st, "initContainerStatuses"), j, cs) restarts +=
            int_or(cs, "restartCount", 0);
    }
    return limit == 0 ? restarts > 0 : restarts >= limit;
}

/* The condition the job is heading for (finishedCondition), or NULL; may
 * ask for a requeue at the active deadline. */
static json_t *finished_condition(struct job_view *w, struct ctl_job_plan *p)
{
    json_t *spec = job_spec(w->job), *st = w->status, *c;
    if ((c = condition_of(st, "SuccessCriteriaMet")) && str_eq(ctl_str(c, "status"), "True"))
        return condition_new("SuccessCriteriaMet", "True", ctl_str(c, "reason"),
                             ctl_str(c, "message"), w->now);
    if ((c = condition_of(st, "FailureTarget")) && str_eq(ctl_str(c, "status"), "True"))
        return condition_new("Failed", "True", ctl_str(c, "reason"), ctl_str(c, "message"),
                             w->now);
    json_t *policy = json_object_get(spec, "podFailurePolicy"), *pod;
    size_t i;
    char msg[512];
    json_array_foreach(w->pods, i, pod) if (policy && ctl_job_pod_failed(w->job, pod) &&
                                            ctl_job_pfp_match(policy, pod, msg, sizeof msg) ==
                                                CTL_PFP_FAIL_JOB) return
        condition_new("FailureTarget", "True", "PodFailurePolicy", msg, w->now);
    if (w->failed > int_or(spec, "backoffLimit", 6) || past_backoff_on_failure(w->job, w->pods))
        return condition_new("FailureTarget", "True", "BackoffLimitExceeded",
                             "Job has reached the specified backoff limit", w->now);
    json_t *ads = json_object_get(spec, "activeDeadlineSeconds");
    int64_t start = util_time_parse(ctl_str(st, "startTime"));
    if (json_is_integer(ads) && start >= 0 && !job_suspended(w->job)) {
        int64_t left = start + json_integer_value(ads) * 1000 - w->now_ms;
        if (left <= 0)
            return condition_new("FailureTarget", "True", "DeadlineExceeded",
                                 "Job was active longer than specified deadline", w->now);
        p->requeue_ms = left;
    }
    return NULL;
}

static void requeue_at_most(struct ctl_job_plan *p, int64_t ms)
{
    if (ms > 0 && (p->requeue_ms <= 0 || ms < p->requeue_ms))
        p->requeue_ms = ms;
}

/* manageJob: deletes surplus pods (or every one if suspended), else
 * creates the missing ones after the backoff. Returns the active count
 * the job will have. */
static int64_t manage(struct job_view *w, struct ctl_job_plan *p)
{
    json_t *spec = job_spec(w->job);
    int64_t active = (int64_t)json_array_size(w->active);
    int64_t parallelism = int_or(spec, "parallelism", 1);
    int32_t completions = job_completions(w->job);
    if (job_suspended(w->job)) {
        json_decref(p->remove);
        p->remove = pods_for_removal(w->job, w->active, (size_t)active);
        p->remove_strip = true;
        return active - (int64_t)json_array_size(p->remove);
    }
    int64_t want;
    if (completions < 0)
        want = w->succeeded > 0 ? active : parallelism;
    else
        want = completions - w->succeeded < parallelism ? completions - w->succeeded : parallelism;
    if (want < 0)
        want = 0;
    json_t *rm = pods_for_removal(w->job, w->active, (size_t)(active > want ? active - want : 0));
    while (json_array_size(rm) > CTL_JOB_MAX_CREATE_DELETE)
        json_array_remove(rm, json_array_size(rm) - 1);
    if (json_array_size(rm)) {
        json_decref(p->remove);
        p->remove = rm;
        p->remove_strip = true;
        return active - (int64_t)json_array_size(rm);
    }
    json_decref(rm);
    int64_t diff = want - (only_replace_failed(w->job) ? w->terminating : 0) - active;
    if (diff <= 0)
        return active;
    int32_t failures;
    int64_t last_failure;
    backoff_record(w->job, w->pods, &failures, &last_failure);
    int64_t wait = ctl_job_backoff_remaining_ms(failures, last_failure, w->now_ms);
    if (wait > 0) {
        requeue_at_most(p, wait);
        return active;
    }
    if (diff > CTL_JOB_MAX_CREATE_DELETE)
        diff = CTL_JOB_MAX_CREATE_DELETE;
    if (job_indexed(w->job)) {
        int32_t *ix = xcalloc((size_t)diff, sizeof *ix);
        json_t *taken = json_deep_copy(w->active);
        if (only_replace_failed(w->job)) { /* terminating pods still hold theirs */
            json_t *pod;
            size_t i;
            json_array_foreach(w->pods, i, pod) if (pod_terminating(pod))
                json_array_append(taken, pod);
        }
        size_t n = ctl_job_pending_indexes(completions, &w->indexes, taken, (size_t)diff, ix);
        json_decref(taken);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(p->create, ctl_job_new_pod(w->job, ix[i]));
        free(ix);
    } else {
        for (int64_t i = 0; i < diff; i++)
            json_array_append_new(p->create, ctl_job_new_pod(w->job, -1));
    }
    return active + (int64_t)json_array_size(p->create);
}

/* The Suspended condition after manageJob (and the startTime reset on
 * resume). */
static void suspend_condition(struct job_view *w, struct ctl_job_plan *p)
{
    if (job_suspended(w->job)) {
        if (condition_ensure(w->status, "Suspended", "True", "JobSuspended", "Job suspended",
                             w->now))
            p->event = "Suspended";
    } else if (condition_ensure(w->status, "Suspended", "False", "JobResumed", "Job resumed",
                                w->now)) {
        p->event = "Resumed";
        json_object_set_new(w->status, "startTime", json_string(w->now));
    }
}

/* trackJobStatusAndRemoveFinalizers up to the flush: finished pods into
 * the uncounted lists (or completedIndexes), the pods whose finalizer may
 * go, and the interim condition. */
static void track(struct job_view *w, struct ctl_job_plan *p, json_t *fin)
{
    json_t *policy = json_object_get(job_spec(w->job), "podFailurePolicy");
    bool failing = fin && !str_eq(ctl_str(fin, "type"), "SuccessCriteriaMet");
    size_t added = 0;
    json_t *pod;
    size_t i;
    json_array_foreach(w->pods, i, pod)
    {
        if (!has_finalizer(pod, CTL_JOB_FINALIZER))
            continue;
        const char *uid = ctl_str(md_of(pod), "uid");
        bool failed = ctl_job_pod_failed(w->job, pod);
        bool succeeded = str_eq(phase_of(pod), "Succeeded");
        if (!(being_deleted(w->job) || fin || succeeded || failed))
            continue; /* still running: keep its finalizer */
        json_array_append(p->strip, pod);
        if (succeeded && !in_strings(w->unc_failed, uid)) {
            if (job_indexed(w->job)) {
                int32_t ix = ctl_job_pod_index(pod);
                if (valid_index(w->job, pod) && !ctl_ivals_has(&w->prev_indexes, ix))
                    added++;
            } else if (!in_strings(w->unc_succeeded, uid)) {
                json_array_append_new(w->unc_succeeded, json_string(uid));
                added++;
            }
        } else if ((failed || failing) && !in_strings(w->unc_failed, uid) &&
                   valid_index(w->job, pod)) {
            if (!policy || ctl_job_pfp_match(policy, pod, NULL, 0) != CTL_PFP_IGNORE)
                json_array_append_new(w->unc_failed, json_string(uid));
            added++;
        }
        if (json_array_size(w->unc_succeeded) + json_array_size(w->unc_failed) + added >=
            CTL_JOB_MAX_UNCOUNTED) {
            p->reached_max = true;
            break;
        }
    }
    if (job_indexed(w->job)) {
        char *s = ctl_ivals_format(&w->indexes);
        if (*s)
            json_object_set_new(w->status, "completedIndexes", json_string(s));
        else
            json_object_del(w->status, "completedIndexes");
        counter_set(w->status, "succeeded", ctl_ivals_total(&w->indexes));
        free(s);
    }
    if (!fin)
        return;
    const char *type = ctl_str(fin, "type");
    if (str_eq(type, "FailureTarget") || str_eq(type, "SuccessCriteriaMet")) {
        condition_ensure(w->status, type, "True", ctl_str(fin, "reason"), ctl_str(fin, "message"),
                         w->now);
        p->final = condition_new(str_eq(type, "FailureTarget") ? "Failed" : "Complete", "True",
                                 ctl_str(fin, "reason"), ctl_str(fin, "message"), w->now);
    } else {
        p->final = json_incref(fin);
    }
}

/* Moves the uncounted uids whose pod lost its finalizer (or is gone) to the
 * counters; whether anything moved. */
static bool clean_uncounted(json_t *status, json_t *pods)
{
    json_t *unc = obj_child(status, "uncountedTerminatedPods");
    static const char *const lists[] = {"succeeded", "failed"};
    bool changed = false;
    for (int l = 0; l < 2; l++) {
        json_t *uids = json_object_get(unc, lists[l]), *kept = json_array(), *u;
        size_t i, moved = 0;
        json_array_foreach(uids, i, u)
        {
            json_t *pod;
            size_t j;
            bool held = false;
            json_array_foreach(pods, j, pod) held |=
                str_eq(ctl_str(md_of(pod), "uid"), json_string_value(u)) &&
                has_finalizer(pod, CTL_JOB_FINALIZER);
            if (held)
                json_array_append(kept, u);
            else
                moved++;
        }
        if (moved) {
            counter_set(status, lists[l], int_or(status, lists[l], 0) + (int64_t)moved);
            changed = true;
            json_array_clear(uids); /* in place: a caller may hold the list */
            json_array_extend(uids, kept);
        }
        json_decref(kept);
    }
    return changed;
}

/* Drops empty uncounted lists, as Go's omitempty writes them. */
static void uncounted_tidy(json_t *status)
{
    json_t *unc = obj_child(status, "uncountedTerminatedPods");
    if (!json_array_size(json_object_get(unc, "succeeded")))
        json_object_del(unc, "succeeded");
    if (!json_array_size(json_object_get(unc, "failed")))
        json_object_del(unc, "failed");
}

void ctl_job_plan(json_t *job, json_t *pods, int64_t now_ms, struct ctl_job_plan *p)
{
    memset(p, 0, sizeof *p);
    p->create = json_array();
    p->remove = json_array();
    p->strip = json_array();
    struct job_view w;
    view_init(&w, job, pods, now_ms);
    json_t *before = json_deep_copy(w.status);
    uncounted_tidy(before);
    if (!json_object_get(w.status, "startTime") && !job_suspended(job))
        json_object_set_new(w.status, "startTime", json_string(w.now));
    json_t *fin = finished_condition(&w, p);
    int64_t active = (int64_t)json_array_size(w.active);
    if (fin) {
        if (active) { /* delete them first (finalizers kept: they count as failed) */
            json_decref(p->remove);
            p->remove = json_deep_copy(w.active);
            json_decref(fin);
            fin = NULL;
            active = 0;
        }
    } else {
        bool managed = !being_deleted(job);
        if (managed)
            active = manage(&w, p);
        int32_t comp = job_completions(job);
        bool complete = comp < 0 ? w.succeeded > 0 && active == 0
                                 : w.succeeded >= comp && active == 0 &&
                                       !json_array_size(p->create);
        if (complete)
            fin = condition_new("SuccessCriteriaMet", "True", "CompletionsReached",
                                "Reached expected number of succeeded pods", w.now);
        else if (managed)
            suspend_condition(&w, p);
    }
    counter_set(w.status, "active", active);
    int32_t ready = w.ready;
    json_t *pod;
    size_t i;
    json_array_foreach(p->remove, i, pod) ready -= ctl_pod_ready(pod);
    json_object_set_new(w.status, "ready", json_integer(ready));
    json_object_set_new(w.status, "terminating",
                        json_integer(w.terminating + (json_int_t)json_array_size(p->remove)));
    clean_uncounted(w.status, pods);
    track(&w, p, fin);
    uncounted_tidy(w.status);
    json_decref(fin);
    p->status = w.status;
    p->flush = !json_equal(before, w.status);
    json_decref(before);
    view_free(&w);
}

void ctl_job_plan_free(struct ctl_job_plan *p)
{
    json_decref(p->status);
    json_decref(p->create);
    json_decref(p->remove);
    json_decref(p->strip);
    json_decref(p->final);
    memset(p, 0, sizeof *p);
}

bool ctl_job_settle(json_t *status, json_t *pods, json_t *final, bool reached_max,
                    int64_t now_ms, bool *finished)
{
    *finished = false;
    bool changed = clean_uncounted(status, pods);
    uncounted_tidy(status);
    int32_t terminating = 0;
    json_t *pod;
    size_t i;
    json_array_foreach(pods, i, pod) terminating += pod_terminating(pod);
    if (json_integer_value(json_object_get(status, "terminating")) != terminating) {
        json_object_set_new(status, "terminating", json_integer(terminating));
        changed = true;
    }
    json_t *unc = json_object_get(status, "uncountedTerminatedPods");
    if (!final || reached_max || json_array_size(json_object_get(unc, "succeeded")) ||
        json_array_size(json_object_get(unc, "failed")) || terminating)
        return changed;
    char now[32];
    time_format(now_ms, now, sizeof now);
    const char *type = ctl_str(final, "type");
    condition_ensure(status, type, "True", ctl_str(final, "reason"), ctl_str(final, "message"),
                     now);
    if (str_eq(type, "Complete"))
        json_object_set_new(status, "completionTime",
                            json_string(ctl_str(condition_of(status, "Complete"),
                                                "lastTransitionTime")));
    *finished = true;
    return true;
}

bool ctl_job_finished(json_t *job, const char **type)
{
    json_t *st = json_object_get(job, "status");
    const char *t = condition_true(st, "Complete") ? "Complete"
                    : condition_true(st, "Failed") ? "Failed"
                                                   : NULL;
    if (type)
        *type = t;
    return t != NULL;
}

int64_t ctl_job_ttl_remaining_ms(json_t *job, int64_t now_ms)
{
    const char *type;
    json_t *ttl = json_object_get(job_spec(job), "ttlSecondsAfterFinished");
    if (!json_is_integer(ttl) || !ctl_job_finished(job, &type))
        return -1;
    int64_t done = util_time_parse(
        ctl_str(condition_of(json_object_get(job, "status"), type), "lastTransitionTime"));
    if (done < 0)
        return -1;
    int64_t left = done + json_integer_value(ttl) * 1000 - now_ms;
    return left > 0 ? left : 0;
}

/* ---- I/O ---- */

static void pod_path(json_t *pod, char *buf, size_t len)
{
    ctl_object_path("pods", ctl_str(md_of(pod), "namespace"), ctl_str(md_of(pod), "name"), buf,
                    len);
}

/* The strategic merge patch that removes the tracking finalizer. */
static json_t *strip_patch(void)
{
    return json_pack("{s:{s:[s]}}", "metadata", "$deleteFromPrimitiveList/finalizers",
                     CTL_JOB_FINALIZER);
}

/* Removes the finalizer from every pod of pods that has it; false if any
 * write failed. */
static bool strip_finalizers(struct ctl *c, json_t *pods)
{
    size_t n = json_array_size(pods), k = 0;
    struct ctl_call *calls = xcalloc(n ? n : 1, sizeof *calls);
    json_t *pod;
    size_t i;
    json_array_foreach(pods, i, pod)
    {
        if (!has_finalizer(pod, CTL_JOB_FINALIZER))
            continue;
        calls[k].method = "PATCH";
        calls[k].content_type = "application/strategic-merge-patch+json";
        pod_path(pod, calls[k].path, sizeof calls[k].path);
        calls[k].body = strip_patch();
        k++;
    }
    bool ok = true;
    ctl_api_many(c, calls, k);
    for (size_t j = 0; j < k; j++)
        ok &= calls[j].status == 200 || calls[j].status == 404;
    for (size_t j = 0; j < k; j++)
        json_decref(calls[j].body);
    free(calls);
    return ok;
}

/* Deletes (and, strip, first un-finalizes) the pods; creates the new ones.
 * Events as Kubernetes' pod control records them. False if any failed. */
static bool manage_pods(struct ctl *c, json_t *job, struct ctl_job_plan *p)
{
    bool ok = true;
    if (p->remove_strip)
        ok &= strip_finalizers(c, p->remove);
    size_t nr = json_array_size(p->remove), nc = json_array_size(p->create);
    struct ctl_call *calls = xcalloc(nr + nc + 1, sizeof *calls);
    json_t *pod;
    size_t i;
    json_array_foreach(p->remove, i, pod)
    {
        calls[i].method = "DELETE";
        calls[i].want_reply = true;
        pod_path(pod, calls[i].path, sizeof calls[i].path);
    }
    const char *ns = ctl_str(md_of(job), "namespace");
    json_array_foreach(p->create, i, pod)
    {
        struct ctl_call *k = &calls[nr + i];
        k->method = "POST";
        snprintf(k->path, sizeof k->path, "/api/v1/namespaces/%s/pods", ns);
        k->body = json_incref(pod);
        k->want_reply = true;
    }
    ctl_api_many(c, calls, nr + nc);
    for (size_t j = 0; j < nr + nc; j++) {
        bool del = j < nr;
        int st = calls[j].status;
        const char *name = del ? ctl_str(md_of(json_array_get(p->remove, j)), "name")
                               : ctl_str(md_of(calls[j].reply), "name");
        if (del && (st == 200 || st == 202))
            ctl_event(c, "jobs", job, "Normal", "SuccessfulDelete", "Deleted pod: %s", name);
        else if (!del && st == 201)
            ctl_event(c, "jobs", job, "Normal", "SuccessfulCreate", "Created pod: %s", name);
        else if (!(del && st == 404)) {
            ok = false;
            const char *msg = ctl_str(calls[j].reply, "message");
            LOG_WARN("controllers: job %s/%s: %s pod %s: HTTP %d %s", ns,
                     ctl_str(md_of(job), "name"), del ? "deleting" : "creating", name, st, msg);
            ctl_event(c, "jobs", job, "Warning", del ? "FailedDelete" : "FailedCreate",
                      "Error %s pod: %s", del ? "deleting" : "creating",
                      *msg ? msg : "no answer");
        }
        json_decref(calls[j].body);
        json_decref(calls[j].reply);
    }
    free(calls);
    return ok;
}

static int status_write(struct ctl *c, json_t *job, json_t *status)
{
    json_object_set(job, "status", status);
    int st = ctl_status_update(c, "jobs", job);
    if (st == 200) { /* the next write is preconditioned on this one */
        json_t *fresh = ctl_get(c, "jobs", ctl_str(md_of(job), "namespace"),
                                       ctl_str(md_of(job), "name"));
        if (fresh)
            json_object_set(md_of(job), "resourceVersion",
                            json_object_get(md_of(fresh), "resourceVersion"));
        json_decref(fresh);
    }
    return st;
}

/* The Job's finished: no pod keeps the finalizer; TTL. */
static bool sync_finished(struct ctl *c, json_t *job, json_t *pods)
{
    bool ok = strip_finalizers(c, pods);
    int64_t left = ctl_job_ttl_remaining_ms(job, util_wall_ms());
    json_t *md = md_of(job);
    if (left > 0) {
        ctl_enqueue_after(c, JOB, "jobs", ctl_str(md, "namespace"), ctl_str(md, "name"),
                          (unsigned)(left > 86400000 ? 86400000 : left) + 100);
    } else if (left == 0 && !being_deleted(job)) {
        char path[600];
        ctl_object_path("jobs", ctl_str(md, "namespace"), ctl_str(md, "name"), path, sizeof path);
        json_t *opts = json_pack("{s:s, s:s, s:s, s:{s:s}}", "kind", "DeleteOptions",
                                 "apiVersion", "v1", "propagationPolicy", "Foreground",
                                 "preconditions", "uid", ctl_str(md, "uid"));
        int st = ctl_api(c, "DELETE", path, NULL, opts, NULL);
        json_decref(opts);
        if (st == 200 || st == 202)
            LOG_INFO("controllers: job %s/%s: deleted %s after it finished (ttl)",
                     ctl_str(md, "namespace"), ctl_str(md, "name"), "Foreground");
        ok &= st == 200 || st == 202 || st == 404 || st == 409;
    }
    return ok;
}

static void finished_event(struct ctl *c, json_t *job, json_t *final)
{
    if (str_eq(ctl_str(final, "type"), "Complete"))
        ctl_event(c, "jobs", job, "Normal", "Completed", "Job completed");
    else
        ctl_event(c, "jobs", job, "Warning", ctl_str(final, "reason"), "%s",
                  ctl_str(final, "message"));
}

static bool sync_job(struct ctl *c, const char *ns, const char *name)
{
    json_t *job = ctl_get(c, "jobs", ns, name);
    if (!job)
        return true;
    json_t *pods = NULL;
    struct kube_selector *sel = NULL;
    bool ok = true;
    if (ctl_job_finished(job, NULL)) {
        pods = ctl_pods_owned(c, ns, ctl_str(md_of(job), "uid"));
        ok = sync_finished(c, job, pods);
        goto out;
    }
    const char *mode = ctl_str(job_spec(job), "completionMode");
    if (*mode && !str_eq(mode, "Indexed") && !str_eq(mode, "NonIndexed"))
        goto out; /* UnknownCompletionMode: skipped, as Kubernetes */
    char err[128];
    sel = kube_selector_from_json(json_object_get(job_spec(job), "selector"), err, sizeof err);
    if (!sel) { /* the server generates and validates it: not worth a retry */
        LOG_WARN("controllers: job %s/%s: bad selector: %s", ns, name, err);
        goto out;
    }
    struct ctl_claimer m = {.c = c, .owner = job, .owner_resource = "jobs",
                            .api_version = "batch/v1", .kind = "Job", .sel = sel,
                            .finalizer = CTL_JOB_FINALIZER};
    pods = ctl_claim_pods(&m, &ok); /* getPodsForJob */
    if (!ok)
        goto out; /* as syncJob: a failed claim fails the sync */
    struct ctl_job_plan p;
    ctl_job_plan(job, pods, util_wall_ms(), &p);
    if (json_array_size(p.remove) || json_array_size(p.create)) {
        ok = manage_pods(c, job, &p);
        ctl_job_plan_free(&p);
        json_decref(pods); /* plan again from what is there now */
        pods = ctl_pods_kept(&m);
        ctl_job_plan(job, pods, util_wall_ms(), &p);
        if (json_array_size(p.remove) || json_array_size(p.create)) {
            ok = false; /* something would not go: retry after a backoff */
            ctl_job_plan_free(&p);
            goto out;
        }
    }
    if (p.flush && status_write(c, job, p.status) != 200) {
        ctl_job_plan_free(&p);
        ok = false;
        goto out;
    }
    if (p.event)
        ctl_event(c, "jobs", job, "Normal", p.event, "Job %s",
                  str_eq(p.event, "Suspended") ? "suspended" : "resumed");
    ok &= strip_finalizers(c, p.strip);
    json_decref(pods);
    pods = ctl_pods_kept(&m);
    bool finished;
    json_t *status = json_deep_copy(p.status);
    if (ctl_job_settle(status, pods, p.final, p.reached_max, util_wall_ms(), &finished)) {
        if (status_write(c, job, status) != 200)
            ok = false;
        else if (finished)
            finished_event(c, job, p.final);
    }
    json_decref(status);
    if (p.requeue_ms > 0)
        ctl_enqueue_after(c, JOB, "jobs", ns, name,
                          (unsigned)(p.requeue_ms > 86400000 ? 86400000 : p.requeue_ms) + 100);
    if (finished && json_is_integer(json_object_get(job_spec(job), "ttlSecondsAfterFinished")))
        ctl_enqueue(c, JOB, "jobs", ns, name);
    ctl_job_plan_free(&p);
out:
    kube_selector_free(sel);
    json_decref(pods);
    json_decref(job);
    return ok;
}

/* syncOrphanPod: a pod with the finalizer whose Job is gone or finished. */
static bool sync_orphan_pod(struct ctl *c, const char *ns, const char *name)
{
    json_t *pod = ctl_get(c, "pods", ns, name);
    if (!pod || !has_finalizer(pod, CTL_JOB_FINALIZER)) {
        json_decref(pod);
        return true;
    }
    json_t *ref = ctl_controller_ref(pod);
    bool ok = true;
    if (ref && (!str_eq(ctl_str(ref, "kind"), "Job") ||
                !str_eq(ctl_str(ref, "apiVersion"), "batch/v1"))) {
        json_decref(pod);
        return true; /* someone else's */
    }
    json_t *job = ref ? ctl_get(c, "jobs", ns, ctl_str(ref, "name")) : NULL;
    bool ours = job && str_eq(ctl_str(md_of(job), "uid"), ctl_str(ref, "uid"));
    if (!ours || ctl_job_finished(job, NULL)) {
        json_t *one = json_pack("[O]", pod);
        ok = strip_finalizers(c, one);
        json_decref(one);
    }
    json_decref(job);
    json_decref(pod);
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    if (str_eq(resource, "pods"))
        return sync_orphan_pod(c, ns, name);
    return sync_job(c, ns, name);
}

/* ---- watching ---- */

static bool res_is(const struct store_event *e, const char *res)
{
    return e->o.resource_len == strlen(res) && memcmp(e->o.resource, res, e->o.resource_len) == 0;
}

/* Every pod: an orphan may be adopted, a pod that lost its controller may
 * have been a Job's. */
static bool wants(const struct store_event *e)
{
    return res_is(e, "jobs") || res_is(e, "pods");
}

static bool job_exists(struct ctl *c, const char *ns, const char *name, const char *uid)
{
    json_t *job = ctl_get(c, "jobs", ns, name);
    bool yes = job && str_eq(ctl_str(md_of(job), "uid"), uid);
    json_decref(job);
    return yes;
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    if (res_is(e, "jobs")) {
        ctl_enqueue(c, JOB, "jobs", ns, name);
        return;
    }
    json_t *ref = ctl_controller_ref(obj);
    bool job_ref = ref && str_eq(ctl_str(ref, "kind"), "Job") &&
                   str_eq(ctl_str(ref, "apiVersion"), "batch/v1");
    if (job_ref)
        ctl_enqueue(c, JOB, "jobs", ns, ctl_str(ref, "name"));
    if (e->type != STORE_DELETED && has_finalizer(obj, CTL_JOB_FINALIZER) &&
        (!job_ref || !job_exists(c, ns, ctl_str(ref, "name"), ctl_str(ref, "uid"))))
        ctl_enqueue(c, JOB, "pods", ns, name);
    if (ref || e->type == STORE_DELETED || json_object_get(md_of(obj), "deletionTimestamp"))
        return; /* nobody adopts an orphan that goes */
    ctl_enqueue_previous_owner(c, e, JOB, "jobs", "Job");
    ctl_enqueue_selecting(c, JOB, "jobs", ns, obj);
}

static void resync(struct ctl *c)
{
    json_t *jobs = ctl_list(c, "jobs", NULL, NULL), *j;
    size_t i;
    json_array_foreach(jobs, i, j)
        ctl_enqueue(c, JOB, "jobs", ctl_str(md_of(j), "namespace"), ctl_str(md_of(j), "name"));
    json_decref(jobs);
    json_t *pods = ctl_list(c, "pods", NULL, CTL_JOB_FINALIZER), *p;
    json_array_foreach(pods, i, p)
    {
        json_t *ref = ctl_controller_ref(p);
        const char *ns = ctl_str(md_of(p), "namespace");
        if (has_finalizer(p, CTL_JOB_FINALIZER) &&
            (!ref || !job_exists(c, ns, ctl_str(ref, "name"), ctl_str(ref, "uid"))))
            ctl_enqueue(c, JOB, "pods", ns, ctl_str(md_of(p), "name"));
    }
    json_decref(pods);
}

const struct ctl_def ctl_job = {
    .name = JOB,
    .component = "job-controller",
    .wants = wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
};
