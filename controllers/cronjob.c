/* cronjob.c — the CronJob controller, as Kubernetes'
 * pkg/controller/cronjob (cronjob_controllerv2.go, utils.go).
 *
 * A CronJob runs a Job from its jobTemplate at each time its schedule
 * allows. The schedule is parsed by kube_cron_parse (the parser validation
 * uses: one bit per allowed minute, hour, day of month, month and day of
 * week, robfig/cron's rule that the two day fields combine with AND when
 * either is "*", else OR; descriptors; "@every D"). Run times are
 * robfig/cron's (SpecSchedule.Next, stepped field by field in local wall
 * time) in spec.timeZone, UTC if unset: the zone is read from the system's
 * TZif files (util/tz.c; `make deps` installs tzdata), so DST transitions
 * behave as in Kubernetes (a time in a spring-forward gap is skipped, one
 * repeated at a fall-back can run twice). A zone that cannot be loaded
 * gets an UnknownTimeZone Warning and no runs. The Job's
 * cronjob-scheduled-timestamp annotation is the run time in that zone.
 *
 * One sync, level-triggered: the CronJob's Jobs are the ones it controls;
 * status.active is made their unfinished ones (Kubernetes only reports an
 * unfinished Job missing from the list; here it is put back, which a
 * failover between a create and the status write needs), finished ones
 * leave it (SawCompletedJob) and the latest completionTime of a Complete
 * one is status.lastSuccessfulTime. Unless suspended or being deleted, the
 * most recent run time after lastScheduleTime (or creation), and not older
 * than startingDeadlineSeconds, is due (ctl_cron_most_recent); more than a
 * hundred missed times get a TooManyMissedTimes Warning. A due run is
 * skipped when it is past its startingDeadlineSeconds (MissSchedule), or
 * under concurrencyPolicy Forbid while a Job is active (JobAlreadyActive;
 * the CronJob's Jobs changing brings it back); Replace first deletes the
 * active Jobs. The Job is named NAME-<scheduled time in minutes since the
 * epoch>, so a retry or a new leader can never run the same time twice:
 * the create meets 409, and a Job of that name that is ours counts as
 * created. Then lastScheduleTime is the run's time, finished Jobs beyond
 * successfulJobsHistoryLimit / failedJobsHistoryLimit are deleted (oldest
 * start first, Background), the status is written (PUT /status with the
 * read resourceVersion), and the key is queued again for the next run
 * time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define CRON "cronjob"
#define CRON_SCHEDULED_ANNOTATION "batch.kubernetes.io/cronjob-scheduled-timestamp"
#define CRON_HORIZON_S (5 * 366 * 86400LL) /* how far next/prev look */
#define CRON_MANY_MISSED 100

/* ---- schedules ---- */

static bool bit(uint64_t mask, int v)
{
    return (mask >> v) & 1;
}

static bool day_matches(const struct kube_cron *s, const struct tm *tm)
{
    bool dom = bit(s->dom, tm->tm_mday), dow = bit(s->dow, tm->tm_wday);
    return s->dom_star || s->dow_star ? dom && dow : dom || dow;
}

/* The local wall-clock fields of Unix time t in tz (NULL: UTC). */
static void local_tm(const struct util_tz *tz, int64_t t, struct tm *tm)
{
    time_t x = (time_t)(t + util_tz_offset(tz, t));
    gmtime_r(&x, tm);
}

/* Go's time.Date(tm's fields, normalised, in tz); tm is refreshed to the
 * local fields of the result. */
static int64_t date_in(const struct util_tz *tz, struct tm *tm)
{
    int64_t t = util_tz_from_civil(tz, (int64_t)timegm(tm));
    local_tm(tz, t, tm);
    return t;
}

/* Go's t.Add(d) followed by a look at the local fields. */
static int64_t add_s(const struct util_tz *tz, int64_t t, int64_t d, struct tm *tm)
{
    local_tm(tz, t + d, tm);
    return t + d;
}

/* robfig/cron's SpecSchedule.Next in its location, step by step: months,
 * then days (AddDate, midnight corrected after a DST change), hours and
 * minutes (absolute steps), seconds (0 only); each field that does not
 * match first truncates the smaller ones once, and a field wrapping around
 * starts over from the month. So a time in a spring-forward gap is
 * skipped, and one repeated at a fall-back may run twice, as in
 * Kubernetes. */
static int64_t next_in_zone(const struct kube_cron *s, const struct util_tz *tz, int64_t t)
{
    struct tm tm;
    int64_t x = add_s(tz, t, 1, &tm);
    int year_limit = tm.tm_year + 5;
    bool added = false;
wrap:
    if (tm.tm_year > year_limit)
        return -1;
    while (!bit(s->month, tm.tm_mon + 1)) {
        if (!added) {
            added = true;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
            x = date_in(tz, &tm);
        }
        tm.tm_mon++;
        x = date_in(tz, &tm);
        if (tm.tm_mon == 0)
            goto wrap;
    }
    while (!day_matches(s, &tm)) {
        if (!added) {
            added = true;
            tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
            x = date_in(tz, &tm);
        }
        tm.tm_mday++;
        x = date_in(tz, &tm);
        if (tm.tm_hour != 0) /* a DST change moved midnight */
            x = add_s(tz, x, (tm.tm_hour > 12 ? 24 - tm.tm_hour : -tm.tm_hour) * 3600LL, &tm);
        if (tm.tm_mday == 1)
            goto wrap;
    }
    while (!bit(s->hour, tm.tm_hour)) {
        if (!added) {
            added = true;
            tm.tm_min = tm.tm_sec = 0;
            x = date_in(tz, &tm);
        }
        x = add_s(tz, x, 3600, &tm);
        if (tm.tm_hour == 0)
            goto wrap;
    }
    while (!bit(s->minute, tm.tm_min)) {
        if (!added) {
            added = true;
            x = add_s(tz, x - (x % 60 + 60) % 60, 0, &tm); /* Truncate(time.Minute) */
        }
        x = add_s(tz, x, 60, &tm);
        if (tm.tm_min == 0)
            goto wrap;
    }
    if (tm.tm_sec != 0) { /* the standard parser allows second 0 only */
        added = true;
        x = add_s(tz, x, 60 - tm.tm_sec, &tm);
        goto wrap;
    }
    return x;
}

int64_t ctl_cron_next(const struct kube_cron *s, const struct util_tz *tz, int64_t t)
{
    if (s->every_s > 0)
        return t + s->every_s;
    return next_in_zone(s, tz, t);
}

int64_t ctl_cron_prev(const struct kube_cron *s, const struct util_tz *tz, int64_t t)
{
    /* robfig/cron has no Prev: the last Next at or before t, searched from
     * ever longer windows back, so a window holds few run times. */
    static const int64_t windows[] = {3600, 86400, 32 * 86400, 367 * 86400, CRON_HORIZON_S};
    if (s->every_s > 0)
        return -1; /* a constant delay has no fixed times */
    for (size_t i = 0; i < sizeof windows / sizeof windows[0]; i++) {
        int64_t x = next_in_zone(s, tz, t - windows[i]), y;
        if (x < 0 || x > t)
            continue;
        while ((y = next_in_zone(s, tz, x)) >= 0 && y <= t)
            x = y;
        return x;
    }
    return -1;
}

int64_t ctl_cron_most_recent(const struct kube_cron *s, const struct util_tz *tz, int64_t earliest,
                             int64_t now, int64_t deadline_s, int64_t *missed)
{
    *missed = 0;
    if (deadline_s >= 0 && now - deadline_s > earliest)
        earliest = now - deadline_s; /* nothing older may still start */
    int64_t t1 = ctl_cron_next(s, tz, earliest);
    if (t1 < 0 || t1 > now)
        return -1;
    if (s->every_s > 0) {
        int64_t k = (now - t1) / s->every_s;
        *missed = k + 1;
        return t1 + k * s->every_s;
    }
    int64_t t2 = ctl_cron_next(s, tz, t1);
    if (t2 < 0 || t2 > now)
        *missed = 1;
    else
        *missed = (now - t1) / (t2 - t1) + 1; /* Kubernetes' rough count */
    return ctl_cron_prev(s, tz, now);
}

/* ---- jobs ---- */

static json_t *md_of(json_t *o)
{
    return json_object_get(o, "metadata");
}

static bool str_eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static void time_format(int64_t s, char *buf, size_t len)
{
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* An RFC 3339 time in Unix seconds, or -1. */
static int64_t time_s(const char *s)
{
    int64_t ms = util_time_parse(s);
    return ms < 0 ? -1 : ms / 1000;
}

void ctl_cron_job_name(const char *cronjob, int64_t scheduled, char *buf, size_t len)
{
    snprintf(buf, len, "%s-%lld", cronjob, (long long)(scheduled / 60));
}

/* RFC 3339 in tz, as Go formats it: "Z" for a zero offset, else ±hh:mm. */
static void time_format_in(const struct util_tz *tz, int64_t s, char *buf, size_t len)
{
    int32_t off = util_tz_offset(tz, s);
    if (off == 0) {
        time_format(s, buf, len);
        return;
    }
    struct tm tm;
    local_tm(tz, s, &tm);
    char local[24];
    strftime(local, sizeof local, "%Y-%m-%dT%H:%M:%S", &tm);
    int32_t a = off < 0 ? -off : off;
    snprintf(buf, len, "%s%c%02d:%02d", local, off < 0 ? '-' : '+', a / 3600, a % 3600 / 60);
}

json_t *ctl_cron_new_job(json_t *cronjob, const struct util_tz *tz, int64_t scheduled)
{
    json_t *tmpl = json_object_get(json_object_get(cronjob, "spec"), "jobTemplate");
    json_t *tmd = md_of(tmpl), *md = json_object();
    char name[300], when[40];
    ctl_cron_job_name(ctl_str(md_of(cronjob), "name"), scheduled, name, sizeof name);
    time_format_in(tz, scheduled, when, sizeof when);
    json_t *labels = json_object_get(tmd, "labels"), *ann = json_object_get(tmd, "annotations");
    json_object_set_new(md, "name", json_string(name));
    json_object_set_new(md, "namespace", json_string(ctl_str(md_of(cronjob), "namespace")));
    if (json_is_object(labels))
        json_object_set_new(md, "labels", json_deep_copy(labels));
    json_t *a = json_is_object(ann) ? json_deep_copy(ann) : json_object();
    json_object_set_new(a, CRON_SCHEDULED_ANNOTATION, json_string(when));
    json_object_set_new(md, "annotations", a);
    json_object_set_new(md, "ownerReferences",
                        json_pack("[o]", ctl_owner_ref(cronjob, "batch/v1", "CronJob")));
    json_t *spec = json_object_get(tmpl, "spec");
    return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "batch/v1", "kind", "Job", "metadata",
                     md, "spec", spec ? json_deep_copy(spec) : json_object());
}

static bool job_cond_true(json_t *job, const char *type)
{
    json_t *cd = ctl_condition_get(job, type);
    return cd && str_eq(ctl_str(cd, "status"), "True");
}

/* byJobStartTime: started before not started, then by start, then name. */
static int by_start(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *sx = ctl_str(json_object_get(x, "status"), "startTime");
    const char *sy = ctl_str(json_object_get(y, "status"), "startTime");
    if (!*sx != !*sy)
        return *sx ? -1 : 1;
    int c = strcmp(sx, sy);
    return c ? c : strcmp(ctl_str(md_of(x), "name"), ctl_str(md_of(y), "name"));
}

/* Appends to out the oldest of `finished` beyond limit. */
static void oldest_beyond(json_t *finished, json_int_t limit, json_t *out)
{
    size_t n = json_array_size(finished);
    if ((json_int_t)n <= limit)
        return;
    json_t **v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(finished, i);
    qsort(v, n, sizeof *v, by_start);
    for (size_t i = 0; i < n - (size_t)limit; i++)
        json_array_append(out, v[i]);
    free(v);
}

json_t *ctl_cron_history_to_delete(json_t *cronjob, json_t *jobs)
{
    json_t *spec = json_object_get(cronjob, "spec"), *out = json_array();
    json_t *ok_limit = json_object_get(spec, "successfulJobsHistoryLimit");
    json_t *fail_limit = json_object_get(spec, "failedJobsHistoryLimit");
    json_t *succeeded = json_array(), *failed = json_array(), *j;
    size_t i;
    json_array_foreach(jobs, i, j)
    {
        if (job_cond_true(j, "Complete"))
            json_array_append(succeeded, j);
        else if (job_cond_true(j, "Failed"))
            json_array_append(failed, j);
    }
    if (json_is_integer(ok_limit))
        oldest_beyond(succeeded, json_integer_value(ok_limit), out);
    if (json_is_integer(fail_limit))
        oldest_beyond(failed, json_integer_value(fail_limit), out);
    json_decref(succeeded);
    json_decref(failed);
    return out;
}

/* ---- I/O ---- */

/* The Jobs the CronJob controls. */
static json_t *owned_jobs(struct ctl *c, const char *ns, const char *uid)
{
    json_t *all = ctl_list(c, "jobs", ns, uid), *out = json_array(), *j;
    size_t i;
    json_array_foreach(all, i, j)
    {
        json_t *ref = ctl_controller_ref(j);
        if (ref && str_eq(ctl_str(ref, "uid"), uid))
            json_array_append(out, j);
    }
    json_decref(all);
    return out;
}

static json_t *job_ref(json_t *job)
{
    json_t *md = md_of(job);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "Job", "namespace",
                     ctl_str(md, "namespace"), "name", ctl_str(md, "name"), "uid",
                     ctl_str(md, "uid"), "apiVersion", "batch/v1");
}

static bool job_finished(json_t *job)
{
    return job_cond_true(job, "Complete") || job_cond_true(job, "Failed");
}

static bool ref_listed(json_t *active, const char *uid)
{
    json_t *r;
    size_t i;
    json_array_foreach(active, i, r) if (str_eq(ctl_str(r, "uid"), uid)) return true;
    return false;
}

/* status.active and lastSuccessfulTime from the Jobs as they are. */
static void status_from_jobs(struct ctl *c, json_t *cj, json_t *status, json_t *jobs)
{
    json_t *old = json_object_get(status, "active"), *active = json_array(), *r, *j;
    size_t i;
    json_array_foreach(old, i, r)
    { /* keep the order of the ones still running */
        json_array_foreach(jobs, i, j) if (str_eq(ctl_str(md_of(j), "uid"), ctl_str(r, "uid")))
        {
            if (!job_finished(j))
                json_array_append_new(active, job_ref(j));
            else
                ctl_event(c, "cronjobs", cj, "Normal", "SawCompletedJob",
                          "Saw completed job: %s, condition: %s", ctl_str(md_of(j), "name"),
                          job_cond_true(j, "Complete") ? "Complete" : "Failed");
        }
    }
    int64_t last_ok = time_s(ctl_str(status, "lastSuccessfulTime"));
    json_array_foreach(jobs, i, j)
    {
        if (!job_finished(j) && !ref_listed(active, ctl_str(md_of(j), "uid")))
            json_array_append_new(active, job_ref(j));
        int64_t done = time_s(ctl_str(json_object_get(j, "status"), "completionTime"));
        if (job_cond_true(j, "Complete") && done > last_ok)
            last_ok = done;
    }
    if (json_array_size(active))
        json_object_set_new(status, "active", active);
    else {
        json_decref(active);
        json_object_del(status, "active");
    }
    if (last_ok >= 0) {
        char buf[32];
        time_format(last_ok, buf, sizeof buf);
        json_object_set_new(status, "lastSuccessfulTime", json_string(buf));
    }
}

static int delete_job(struct ctl *c, json_t *job)
{
    char path[600];
    json_t *md = md_of(job);
    ctl_object_path("jobs", ctl_str(md, "namespace"), ctl_str(md, "name"), path, sizeof path);
    json_t *opts = json_pack("{s:s, s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1",
                             "propagationPolicy", "Background");
    int st = ctl_api(c, "DELETE", path, NULL, opts, NULL);
    json_decref(opts);
    return st;
}

static bool utc_zone(const char *tz)
{
    static const char *const utc[] = {"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal",
                                      "Universal", "Etc/Zulu", "Zulu", "UCT", "Etc/UCT"};
    for (size_t i = 0; i < sizeof utc / sizeof utc[0]; i++)
        if (str_eq(tz, utc[i]))
            return true;
    return false;
}

/* Replace: the active Jobs go first. */
static bool replace_active(struct ctl *c, json_t *cj, json_t *status, json_t *jobs)
{
    json_t *j;
    size_t i;
    bool ok = true;
    json_array_foreach(jobs, i, j)
    {
        if (job_finished(j) || json_object_get(md_of(j), "deletionTimestamp"))
            continue;
        int st = delete_job(c, j);
        if (st == 200 || st == 202)
            ctl_event(c, "cronjobs", cj, "Normal", "SuccessfulDelete", "Deleted job %s",
                      ctl_str(md_of(j), "name"));
        ok &= st == 200 || st == 202 || st == 404;
    }
    if (ok)
        json_object_del(status, "active");
    return ok;
}

/* Creates the run at `when`; true when it exists (created now or before). */
static bool run_job(struct ctl *c, json_t *cj, const struct util_tz *tz, json_t *status,
                    int64_t when)
{
    json_t *job = ctl_cron_new_job(cj, tz, when), *reply = NULL;
    const char *ns = ctl_str(md_of(cj), "namespace");
    char path[600], name[300];
    snprintf(name, sizeof name, "%s", ctl_str(md_of(job), "name"));
    snprintf(path, sizeof path, "/apis/batch/v1/namespaces/%s/jobs", ns);
    int st = ctl_api(c, "POST", path, NULL, job, &reply);
    json_decref(job);
    bool ok = st == 201;
    if (st == 201) {
        ctl_event(c, "cronjobs", cj, "Normal", "SuccessfulCreate", "Created job %s", name);
    } else if (st == 409) { /* created before (a retry, a failover): ours? */
        json_t *cur = ctl_get(c, "jobs", ns, name), *ref = ctl_controller_ref(cur);
        ok = ref && str_eq(ctl_str(ref, "uid"), ctl_str(md_of(cj), "uid"));
        json_decref(reply);
        reply = cur;
    } else {
        ctl_event(c, "cronjobs", cj, "Warning", "FailedCreate", "Error creating job: %s",
                  *ctl_str(reply, "message") ? ctl_str(reply, "message") : "no answer");
    }
    if (ok) {
        if (!job_finished(reply) && !ref_listed(json_object_get(status, "active"),
                                                 ctl_str(md_of(reply), "uid"))) {
            json_t *active = json_object_get(status, "active");
            if (!json_is_array(active)) {
                active = json_array();
                json_object_set_new(status, "active", active);
            }
            json_array_append_new(active, job_ref(reply));
        }
        char buf[32];
        time_format(when, buf, sizeof buf);
        json_object_set_new(status, "lastScheduleTime", json_string(buf));
    }
    json_decref(reply);
    return ok;
}

/* The schedule part of syncCronJob in zone tz; returns false on a failed
 * write and sets *requeue_s (> 0) to the next run time from now. */
static bool schedule_in(struct ctl *c, json_t *cj, const struct util_tz *tz, json_t *status,
                        json_t *jobs, int64_t now, int64_t *requeue_s)
{
    json_t *spec = json_object_get(cj, "spec");
    struct kube_cron s;
    char err[256];
    const char *why = kube_cron_parse(ctl_str(spec, "schedule"), &s, err, sizeof err);
    if (why) {
        ctl_event(c, "cronjobs", cj, "Warning", "UnparseableSchedule",
                  "unparseable schedule: \"%s\" : %s", ctl_str(spec, "schedule"), why);
        return true;
    }
    int64_t earliest = time_s(ctl_str(status, "lastScheduleTime"));
    if (earliest < 0)
        earliest = time_s(ctl_str(md_of(cj), "creationTimestamp"));
    json_t *sds = json_object_get(spec, "startingDeadlineSeconds");
    int64_t deadline = json_is_integer(sds) ? json_integer_value(sds) : -1, missed;
    int64_t when = ctl_cron_most_recent(&s, tz, earliest, now, deadline, &missed);
    int64_t next = ctl_cron_next(&s, tz, now);
    if (next > 0)
        *requeue_s = next - now;
    if (when < 0)
        return true;
    if (missed > CRON_MANY_MISSED)
        ctl_event(c, "cronjobs", cj, "Warning", "TooManyMissedTimes",
                  "too many missed start times: %lld. Set or decrease .spec.startingDeadlineSeconds "
                  "or check clock skew",
                  (long long)missed);
    if (deadline >= 0 && when + deadline < now) {
        char buf[32];
        time_format(when, buf, sizeof buf);
        ctl_event(c, "cronjobs", cj, "Warning", "MissSchedule",
                  "Missed scheduled time to start a job: %s", buf);
        return true;
    }
    if (time_s(ctl_str(status, "lastScheduleTime")) == when)
        return true; /* this run was made */
    const char *policy = ctl_str(spec, "concurrencyPolicy");
    if (str_eq(policy, "Forbid") && json_array_size(json_object_get(status, "active"))) {
        ctl_event(c, "cronjobs", cj, "Normal", "JobAlreadyActive",
                  "Not starting job because prior execution is running and concurrency policy is "
                  "Forbid");
        return true;
    }
    if (str_eq(policy, "Replace") && !replace_active(c, cj, status, jobs))
        return false;
    return run_job(c, cj, tz, status, when);
}

/* The schedule part of syncCronJob: in spec.timeZone (UTC if unset), read
 * from the system's zoneinfo; a zone that cannot be loaded gets an
 * UnknownTimeZone Warning and no runs, as in Kubernetes. */
static bool schedule(struct ctl *c, json_t *cj, json_t *status, json_t *jobs, int64_t now,
                     int64_t *requeue_s)
{
    const char *name = json_string_value(json_object_get(json_object_get(cj, "spec"),
                                                         "timeZone"));
    struct util_tz *tz = NULL;
    char err[300];
    if (name && !utc_zone(name) && !(tz = util_tz_load(NULL, name, err, sizeof err))) {
        ctl_event(c, "cronjobs", cj, "Warning", "UnknownTimeZone", "invalid timeZone: \"%s\": %s",
                  name, err);
        return true;
    }
    bool ok = schedule_in(c, cj, tz, status, jobs, now, requeue_s);
    util_tz_free(tz);
    return ok;
}

/* Deletes the finished Jobs beyond the history limits. */
static bool cleanup_history(struct ctl *c, json_t *cj, json_t *jobs)
{
    json_t *old = ctl_cron_history_to_delete(cj, jobs), *j;
    size_t i;
    bool ok = true;
    json_array_foreach(old, i, j)
    {
        int st = delete_job(c, j);
        if (st == 200 || st == 202)
            ctl_event(c, "cronjobs", cj, "Normal", "SuccessfulDelete", "Deleted job %s",
                      ctl_str(md_of(j), "name"));
        ok &= st == 200 || st == 202 || st == 404;
    }
    json_decref(old);
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    json_t *cj = ctl_get(c, "cronjobs", ns, name);
    if (!cj)
        return true;
    json_t *jobs = owned_jobs(c, ns, ctl_str(md_of(cj), "uid"));
    json_t *st = json_object_get(cj, "status");
    json_t *status = json_is_object(st) ? json_deep_copy(st) : json_object();
    json_t *before = json_deep_copy(status);
    status_from_jobs(c, cj, status, jobs);
    bool ok = true;
    int64_t requeue_s = 0;
    bool active = !json_object_get(md_of(cj), "deletionTimestamp");
    if (active && !json_is_true(json_object_get(json_object_get(cj, "spec"), "suspend")))
        ok = schedule(c, cj, status, jobs, util_wall_ms() / 1000, &requeue_s);
    if (active)
        ok &= cleanup_history(c, cj, jobs);
    if (!json_equal(before, status)) {
        json_object_set(cj, "status", status);
        int code = ctl_status_update(c, "cronjobs", cj);
        ok &= code == 200 || code == 404;
    }
    if (requeue_s > 0)
        ctl_enqueue_after(c, CRON, resource, ns, name,
                          (unsigned)(requeue_s > 86400 ? 86400 : requeue_s) * 1000 + 100);
    json_decref(before);
    json_decref(status);
    json_decref(jobs);
    json_decref(cj);
    return ok;
}

/* ---- watching ---- */

static bool res_is(const struct store_event *e, const char *res)
{
    return e->o.resource_len == strlen(res) && memcmp(e->o.resource, res, e->o.resource_len) == 0;
}

static bool wants(const struct store_event *e)
{
    return res_is(e, "cronjobs") || (res_is(e, "jobs") && ctl_obj_has(&e->o, "CronJob"));
}

static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    if (res_is(e, "cronjobs")) {
        ctl_enqueue(c, CRON, "cronjobs", ns, name);
        return;
    }
    json_t *ref = ctl_controller_ref(obj);
    if (ref && str_eq(ctl_str(ref, "kind"), "CronJob"))
        ctl_enqueue(c, CRON, "cronjobs", ns, ctl_str(ref, "name"));
}

static void resync(struct ctl *c)
{
    json_t *all = ctl_list(c, "cronjobs", NULL, NULL), *cj;
    size_t i;
    json_array_foreach(all, i, cj) ctl_enqueue(c, CRON, "cronjobs",
                                               ctl_str(md_of(cj), "namespace"),
                                               ctl_str(md_of(cj), "name"));
    json_decref(all);
}

const struct ctl_def ctl_cronjob = {
    .name = CRON,
    .component = "cronjob-controller",
    .wants = wants,
    .on_change = on_change,
    .sync = sync,
    .resync = resync,
};
