/* validate_workloads.c — the apps/v1 and batch/v1 workloads.
 *
 * apps/validation and batch/validation: Deployment, ReplicaSet, DaemonSet,
 * StatefulSet and ControllerRevision; Job and CronJob. Each checks its
 * selector against its pod template, its pod template (through
 * validate_pod.c), its counts and its update strategy (int-or-percent
 * values such as maxSurge and maxUnavailable); a CronJob's schedule is
 * parsed by validate_cron.c.
 *
 * How it works: one kv_check_<kind> per kind and the update rules (the
 * immutable selector, a StatefulSet's fixed spec fields, a Job's template
 * whose scheduling directives alone may change, and only while the Job is
 * suspended and has not started), called from kube_validate's table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/validate_internal.h"

/* ==== apps/v1 ==== */

static const char percent_msg[] =
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
    "'93%', regex used for validation is '[0-9]+%')";

/* getIntOrPercentValue: the number, percent or not. */
static long intstr_value(json_t *v, bool *percent)
{
    *percent = json_is_string(v);
    if (json_is_integer(v))
        return (long)json_integer_value(v);
    if (json_is_string(v) && kv_is_percent(json_string_value(v)))
        return strtol(json_string_value(v), NULL, 10);
    return 0;
}

/* ValidatePositiveIntOrPercent and IsNotMoreThan100Percent. */
void kv_check_int_or_percent(struct vctx *c, json_t *o, const char *k, bool at_most_100)
{
    json_t *v = jget(o, k);
    bool percent;
    if (json_is_string(v) && !kv_is_percent(json_string_value(v)))
        kv_invalid_go(c, k, kv_go_intstr, v, percent_msg);
    else if (json_is_integer(v) && json_integer_value(v) < 0)
        kv_invalid_int(c, k, json_integer_value(v), kv_not_negative_msg);
    if (at_most_100 && intstr_value(v, &percent) > 100 && percent)
        kv_invalid_go(c, k, kv_go_intstr, v, "must not be greater than 100%");
}

static bool intstr_zero(json_t *v)
{
    bool percent;
    return intstr_value(v, &percent) == 0;
}

/* %#v of apps.DeploymentStrategy / DaemonSetUpdateStrategy / ...: the type
 * and whether a rolling update is set. */
static void go_strategy(struct ubuf *b, const char *type_name, const char *ru_type, json_t *s)
{
    ubuf_appendf(b, "apps.%s{Type:", type_name);
    kv_go_quote(b, jstr0(s, "type"));
    if (jobj(s, "rollingUpdate")) {
        ubuf_appendf(b, ", RollingUpdate:&apps.%s", ru_type);
        kv_go_json(b, jobj(s, "rollingUpdate"));
        ubuf_append(b, "}", 1);
    } else {
        ubuf_appendf(b, ", RollingUpdate:(*apps.%s)(nil)}", ru_type);
    }
}

static void go_deployment_strategy(struct ubuf *b, json_t *s)
{
    go_strategy(b, "DeploymentStrategy", "RollingUpdateDeployment", s);
}

static void go_daemonset_strategy(struct ubuf *b, json_t *s)
{
    go_strategy(b, "DaemonSetUpdateStrategy", "RollingUpdateDaemonSet", s);
}

static void go_statefulset_strategy(struct ubuf *b, json_t *s)
{
    go_strategy(b, "StatefulSetUpdateStrategy", "RollingUpdateStatefulSetStrategy", s);
}

/* The selector checks every workload makes: required, valid, and not
 * empty; returns whether LabelSelectorAsSelector accepts it. */
static bool check_workload_selector(struct vctx *c, json_t *spec, const char *kind_name)
{
    json_t *sel = jobj(spec, "selector");
    if (!sel) {
        kv_required(c, "selector", "");
        return true;
    }
    kv_check_label_selector(c, "selector", sel);
    if (kv_selector_is_empty(sel)) {
        char detail[64];
        snprintf(detail, sizeof detail, "empty selector is invalid for %s", kind_name);
        kv_invalid_go(c, "selector", kv_go_label_selector, sel, detail);
    }
    return kv_selector_parses(sel);
}

/* Workload pods run until replaced: restartPolicy Always and no deadline,
 * at "template.spec" under the current path. A DaemonSet reports the
 * deadline as Invalid, the others as Forbidden. */
static void check_template_runs_forever(struct vctx *c, json_t *template, const char *kind)
{
    static const char *const always[] = {"Always", NULL};
    json_t *pod = jobj(template, "spec");
    const char *restart = jstr0(pod, "restartPolicy");
    char detail[64];
    snprintf(detail, sizeof detail, "activeDeadlineSeconds in %s is not Supported", kind);
    size_t m1 = kv_path_child(c, "template"), m2 = kv_path_child(c, "spec");
    if (strcmp(restart, "Always") != 0)
        kv_unsupported(c, "restartPolicy", restart, always);
    json_t *ads = jget(pod, "activeDeadlineSeconds");
    if (ads && strcmp(kind, "DaemonSet") == 0)
        kv_invalid_int(c, "activeDeadlineSeconds", jint0(pod, "activeDeadlineSeconds"), detail);
    else if (ads)
        kv_forbidden(c, "activeDeadlineSeconds", detail);
    kv_path_pop(c, m2);
    kv_path_pop(c, m1);
}

/* ValidatePodTemplateSpecForReplicaSet, shared by Deployment and
 * ReplicaSet, at the current path "spec". */
static void check_replicaset_template(struct vctx *c, json_t *spec)
{
    json_t *template = jobj(spec, "template");
    if (!template) {
        kv_required(c, "template", "");
        return;
    }
    kv_check_selector_selects_template(c, jobj(spec, "selector"), template);
    size_t mark = kv_path_child(c, "template");
    kv_check_pod_template(c, template, NULL);
    kv_path_pop(c, mark);
    check_template_runs_forever(c, template, "ReplicaSet");
}

static void check_deployment_strategy(struct vctx *c, json_t *spec)
{
    static const char *const types[] = {"Recreate", "RollingUpdate", NULL};
    json_t *s = jobj(spec, "strategy");
    const char *type = jstr0(s, "type");
    size_t mark = kv_path_child(c, "strategy");
    json_t *ru = jobj(s, "rollingUpdate");
    if (strcmp(type, "Recreate") == 0) {
        if (ru)
            kv_forbidden(c, "rollingUpdate",
                         "may not be specified when strategy `type` is 'Recreate'");
    } else if (strcmp(type, "RollingUpdate") == 0) {
        if (!ru) {
            kv_required(c, "rollingUpdate", "this should be defaulted and never be nil");
        } else {
            size_t m = kv_path_child(c, "rollingUpdate");
            kv_check_int_or_percent(c, ru, "maxUnavailable", false);
            kv_check_int_or_percent(c, ru, "maxSurge", false);
            if (intstr_zero(jget(ru, "maxUnavailable")) && intstr_zero(jget(ru, "maxSurge")))
                kv_invalid_go(c, "maxUnavailable", kv_go_intstr, jget(ru, "maxUnavailable"),
                              "may not be 0 when `maxSurge` is 0");
            kv_check_int_or_percent(c, ru, "maxUnavailable", true);
            kv_path_pop(c, m);
        }
    } else {
        struct ubuf r = {0};
        go_deployment_strategy(&r, s);
        kv_unsupported_raw(c, NULL, r.data, types);
        ubuf_free(&r);
    }
    kv_path_pop(c, mark);
}

void kv_check_deployment(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    kv_check_nonnegative(c, spec, "replicas");
    if (!check_workload_selector(c, spec, "deployment"))
        kv_invalid_go(c, "selector", kv_go_label_selector, jobj(spec, "selector"),
                      "invalid label selector");
    else
        check_replicaset_template(c, spec);
    check_deployment_strategy(c, spec);
    kv_check_nonnegative(c, spec, "minReadySeconds");
    kv_check_nonnegative(c, spec, "revisionHistoryLimit");
    json_int_t pds;
    if (jint(spec, "progressDeadlineSeconds", &pds)) {
        kv_check_nonnegative(c, spec, "progressDeadlineSeconds");
        if (pds <= jint0(spec, "minReadySeconds"))
            kv_invalid_int(c, "progressDeadlineSeconds", pds,
                           "must be greater than minReadySeconds");
    }
    kv_path_pop(c, mark);
}

void kv_check_replicaset(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    kv_check_nonnegative(c, spec, "replicas");
    kv_check_nonnegative(c, spec, "minReadySeconds");
    if (!check_workload_selector(c, spec, "deployment"))
        kv_invalid_go(c, "selector", kv_go_label_selector, jobj(spec, "selector"),
                      "invalid label selector");
    else
        check_replicaset_template(c, spec);
    kv_path_pop(c, mark);
}

/* Deployment, ReplicaSet and DaemonSet updates: the selector is fixed
 * (apps/v1 strategies' ValidateUpdate). */
void kv_check_selector_immutable(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *sel = jget(jobj(obj, "spec"), "selector"), *was = jget(jobj(old, "spec"), "selector");
    if (kv_sem_equal(sel, was))
        return;
    size_t mark = kv_path_child(c, "spec");
    if (json_is_object(sel))
        kv_invalid_go(c, "selector", kv_go_label_selector, sel, kv_immutable_msg);
    else
        kv_invalid_raw(c, "selector", "\"null\"", kv_immutable_msg);
    kv_path_pop(c, mark);
}

static void check_daemonset_strategy(struct vctx *c, json_t *spec)
{
    json_t *s = jobj(spec, "updateStrategy");
    const char *type = jstr0(s, "type");
    size_t mark = kv_path_child(c, "updateStrategy");
    if (strcmp(type, "RollingUpdate") == 0) {
        json_t *ru = jobj(s, "rollingUpdate");
        if (!ru) {
            kv_required(c, "rollingUpdate", "");
        } else {
            size_t m = kv_path_child(c, "rollingUpdate");
            kv_check_int_or_percent(c, ru, "maxUnavailable", false);
            kv_check_int_or_percent(c, ru, "maxSurge", false);
            kv_check_int_or_percent(c, ru, "maxUnavailable", true);
            kv_check_int_or_percent(c, ru, "maxSurge", true);
            bool unavailable = !intstr_zero(jget(ru, "maxUnavailable"));
            bool surge = !intstr_zero(jget(ru, "maxSurge"));
            if (unavailable && surge)
                kv_invalid_go(c, "maxSurge", kv_go_intstr, jget(ru, "maxSurge"),
                              "may not be set when maxUnavailable is non-zero");
            else if (!unavailable && !surge)
                kv_required(c, "maxUnavailable", "cannot be 0 when maxSurge is 0");
            kv_path_pop(c, m);
        }
    } else if (strcmp(type, "OnDelete") != 0) {
        static const char *const types[] = {"RollingUpdate", "OnDelete", NULL};
        struct ubuf r = {0};
        go_daemonset_strategy(&r, s);
        kv_unsupported_raw(c, NULL, r.data, types);
        ubuf_free(&r);
    }
    kv_path_pop(c, mark);
}

void kv_check_daemonset(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec"), *sel = jobj(spec, "selector");
    json_t *template = jobj(spec, "template");
    size_t mark = kv_path_child(c, "spec");
    kv_check_label_selector(c, "selector", sel);
    if ((!sel || kv_selector_parses(sel)) && !kv_selector_is_empty(sel))
        kv_check_selector_selects_template(c, sel, template);
    if (kv_selector_is_empty(sel))
        kv_invalid_go(c, "selector", kv_go_label_selector, sel,
                      "empty selector is invalid for daemonset");
    if (!template) {
        kv_required(c, "template", "");
    } else {
        size_t m = kv_path_child(c, "template");
        kv_check_pod_template(c, template, NULL);
        kv_path_pop(c, m);
        check_template_runs_forever(c, template, "DaemonSet");
    }
    kv_check_nonnegative(c, spec, "minReadySeconds");
    check_daemonset_strategy(c, spec);
    kv_check_nonnegative(c, spec, "revisionHistoryLimit");
    kv_path_pop(c, mark);
}

static void check_statefulset_strategy(struct vctx *c, json_t *spec)
{
    json_t *s = jobj(spec, "updateStrategy"), *ru = jobj(s, "rollingUpdate");
    const char *type = jstr0(s, "type");
    if (!*type) {
        kv_required(c, "updateStrategy", "");
    } else if (strcmp(type, "OnDelete") == 0) {
        if (ru) {
            size_t m = kv_path_child(c, "updateStrategy");
            kv_invalid_go(c, "rollingUpdate", kv_go_json, ru,
                          "only allowed for updateStrategy 'RollingUpdate'");
            kv_path_pop(c, m);
        }
    } else if (strcmp(type, "RollingUpdate") == 0) {
        size_t m1 = kv_path_child(c, "updateStrategy"), m2 = kv_path_child(c, "rollingUpdate");
        kv_check_nonnegative(c, ru, "partition");
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    } else {
        kv_invalid_go(c, "updateStrategy", go_statefulset_strategy, s,
                      "must be 'RollingUpdate' or 'OnDelete'");
    }
}

void kv_check_statefulset(struct vctx *c, json_t *obj)
{
    static const char *const retention[] = {"Retain", "Delete", NULL};
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    const char *pmp = jstr0(spec, "podManagementPolicy");
    if (!*pmp)
        kv_required(c, "podManagementPolicy", "");
    else if (strcmp(pmp, "OrderedReady") != 0 && strcmp(pmp, "Parallel") != 0)
        kv_invalid(c, "podManagementPolicy", pmp, "must be 'OrderedReady' or 'Parallel'");
    check_statefulset_strategy(c, spec);
    json_t *policy = jobj(spec, "persistentVolumeClaimRetentionPolicy");
    if (policy) {
        size_t m = kv_path_child(c, "persistentVolumeClaimRetentionPolicy");
        static const char *const members[] = {"whenDeleted", "whenScaled"};
        for (size_t i = 0; i < 2; i++)
            if (!str_in(jstr0(policy, members[i]), retention))
                kv_unsupported(c, members[i], jstr0(policy, members[i]), retention);
        kv_path_pop(c, m);
    }
    kv_check_nonnegative(c, spec, "replicas");
    kv_check_nonnegative(c, spec, "minReadySeconds");
    json_int_t start;
    if (jint(jobj(spec, "ordinals"), "start", &start) && start < 0)
        kv_invalid_int(c, "ordinals.start", start, kv_not_negative_msg);
    json_t *sel = jobj(spec, "selector"), *template = jobj(spec, "template");
    bool parses = check_workload_selector(c, spec, "statefulset");
    if (!parses) {
        kv_invalid_go(c, "selector", kv_go_label_selector, sel, NULL);
    } else if (!template) {
        kv_required(c, "template", "");
    } else {
        /* ValidatePodTemplateSpecForStatefulSet: Kubernetes leaves the pod
         * spec itself unchecked here. */
        kv_check_selector_selects_template(c, sel, template);
        size_t m = kv_path_child(c, "template");
        json_t *md = jobj(template, "metadata");
        kv_check_labels(c, "labels", jget(md, "labels"));
        kv_check_annotations(c, "annotations", jget(md, "annotations"));
        kv_path_pop(c, m);
    }
    if (template)
        check_template_runs_forever(c, template, "StatefulSet");
    kv_path_pop(c, mark);
}

/* ValidateStatefulSetUpdate: only some of the spec may change. */
void kv_check_statefulset_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const mutable[] = {"replicas",       "template",
                                          "updateStrategy", "minReadySeconds",
                                          "ordinals",       "persistentVolumeClaimRetentionPolicy"};
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    json_t *clone = spec ? json_deep_copy(spec) : json_object();
    for (size_t i = 0; i < sizeof mutable / sizeof mutable[0]; i++)
        kv_munge_member(clone, was, mutable[i]);
    if (!kv_sem_equal(clone, was))
        kv_forbidden(c, "spec",
                     "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                     "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                     "'minReadySeconds' are forbidden");
    json_decref(clone);
}

void kv_check_controller_revision(struct vctx *c, json_t *obj)
{
    if (!jget(obj, "data"))
        kv_required(c, "data", "data is mandatory");
    kv_check_nonnegative(c, obj, "revision");
}

void kv_check_controller_revision_update(struct vctx *c, json_t *obj, json_t *old)
{
    if (!kv_sem_equal(jget(obj, "data"), jget(old, "data")))
        kv_invalid_go(c, "data", kv_go_json, jget(obj, "data"), kv_immutable_msg);
}

/* ==== batch/v1: Job and CronJob (the schedule parser is validate_cron.c) ==== */

static void check_job_restart_policy(struct vctx *c, json_t *spec)
{
    static const char *const allowed[] = {"OnFailure", "Never", NULL};
    const char *restart = jstr0(jobj(jobj(spec, "template"), "spec"), "restartPolicy");
    size_t m1 = kv_path_child(c, "template"), m2 = kv_path_child(c, "spec");
    if (!*restart || strcmp(restart, "Always") == 0)
        kv_required(c, "restartPolicy", "valid values: \"OnFailure\", \"Never\"");
    else if (!str_in(restart, allowed))
        kv_unsupported(c, "restartPolicy", restart, allowed);
    else if (jobj(spec, "podFailurePolicy") && strcmp(restart, "Never") != 0)
        kv_invalid(c, "restartPolicy", restart,
                   "only \"Never\" is supported when podFailurePolicy is specified");
    kv_path_pop(c, m2);
    kv_path_pop(c, m1);
}

/* validateJobSpec, at the current path (a Job's "spec" or a CronJob's
 * "spec.jobTemplate.spec"). */
static void check_job_spec(struct vctx *c, json_t *spec)
{
    static const char *const counts[] = {"parallelism", "completions", "activeDeadlineSeconds",
                                         "backoffLimit", "ttlSecondsAfterFinished"};
    static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        kv_check_nonnegative(c, spec, counts[i]);
    const char *mode = jstr(spec, "completionMode");
    if (mode && !str_in(mode, modes))
        kv_unsupported(c, "completionMode", mode, modes);
    if (mode && strcmp(mode, "Indexed") == 0) {
        json_int_t parallelism;
        if (!jget(spec, "completions"))
            kv_required(c, "completions", "when completion mode is Indexed");
        if (jint(spec, "parallelism", &parallelism) && parallelism > 100000)
            kv_invalid_int(c, "parallelism", parallelism,
                           "must be less than or equal to 100000 when completion mode is Indexed");
    }
    const char *replacement = jstr(spec, "podReplacementPolicy");
    if (replacement) {
        static const char *const failed[] = {"Failed", NULL};
        static const char *const all[] = {"Failed", "TerminatingOrFailed", NULL};
        const char *const *valid = jobj(spec, "podFailurePolicy") ? failed : all;
        if (!str_in(replacement, valid))
            kv_unsupported(c, "podReplacementPolicy", replacement, valid);
    }
    json_t *template = jobj(spec, "template");
    if (!template) {
        kv_required(c, "template", "");
        return;
    }
    size_t mark = kv_path_child(c, "template");
    kv_check_pod_template(c, template, NULL);
    kv_path_pop(c, mark);
    check_job_restart_policy(c, spec);
}

void kv_check_job(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec"), *sel = jobj(spec, "selector");
    size_t mark = kv_path_child(c, "spec");
    check_job_spec(c, spec);
    /* The server generates the selector (controller-uid) when the client
     * does not set one; a given selector must select the template. */
    if (sel) {
        kv_check_label_selector(c, "selector", sel);
        if (kv_selector_parses(sel) &&
            !kv_selector_matches(sel, jobj(jobj(jobj(spec, "template"), "metadata"), "labels"))) {
            size_t m1 = kv_path_child(c, "template"), m2 = kv_path_child(c, "metadata");
            kv_invalid_go(c, "labels", kv_go_map,
                          jobj(jobj(jobj(spec, "template"), "metadata"), "labels"),
                          "`selector` does not match template `labels`");
            kv_path_pop(c, m2);
            kv_path_pop(c, m1);
        }
    }
    kv_path_pop(c, mark);
    json_int_t completions;
    if (strcmp(jstr0(spec, "completionMode"), "Indexed") == 0 &&
        jint(spec, "completions", &completions) && completions > 0) {
        const char *name = jstr0(jobj(obj, "metadata"), "name");
        char host[128];
        struct msgs ms = {0};
        snprintf(host, sizeof host, "%.100s-%" JSON_INTEGER_FORMAT, name, completions - 1);
        kv_is_dns1123_label(host, &ms);
        if (ms.n) {
            char detail[200];
            snprintf(detail, sizeof detail,
                     "will not able to create pod with invalid DNS label: %s", host);
            size_t m = kv_path_child(c, "metadata");
            kv_invalid(c, "name", name, detail);
            kv_path_pop(c, m);
        }
    }
}

/* validateTimeZone's time.LoadLocation: the zone must exist in this
 * machine's zoneinfo (`make deps` installs tzdata), as the CronJob
 * controller will read it; Go's own words ("unknown time zone X"). */
static void check_time_zone(struct vctx *c, const char *tz)
{
    char err[300];
    struct util_tz *z = util_tz_load(NULL, tz, err, sizeof err);
    if (!z)
        kv_invalid(c, "timeZone", tz, err);
    util_tz_free(z);
}

/* Pod template fields a suspended Job that never started may still change
 * (JobMutableNodeSchedulingDirectives). */
static void unmunge_scheduling(json_t *clone, json_t *template)
{
    static const char *const spec_fields[] = {"nodeSelector", "tolerations", "affinity",
                                              "schedulingGates"};
    static const char *const meta_fields[] = {"labels", "annotations"};
    json_t *cs = jobj(clone, "spec"), *cm = jobj(clone, "metadata");
    for (size_t i = 0; cs && i < sizeof spec_fields / sizeof spec_fields[0]; i++)
        kv_munge_member(cs, jobj(template, "spec"), spec_fields[i]);
    for (size_t i = 0; cm && i < sizeof meta_fields / sizeof meta_fields[0]; i++)
        kv_munge_member(cm, jobj(template, "metadata"), meta_fields[i]);
}

void kv_check_job_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const immutable[] = {
        "podFailurePolicy", "backoffLimitPerIndex", "managedBy",           "successPolicy",
        "selector",         "completionMode",       "podReplacementPolicy"};
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    size_t mark = kv_path_child(c, "spec");
    bool elastic = strcmp(jstr0(spec, "completionMode"), "Indexed") == 0 &&
                   kv_sem_equal(jget(spec, "completions"), jget(spec, "parallelism"));
    if (!elastic)
        kv_check_immutable(c, "completions", jget(spec, "completions"), jget(was, "completions"));
    for (size_t i = 0; i < sizeof immutable / sizeof immutable[0]; i++)
        kv_check_immutable(c, immutable[i], jget(spec, immutable[i]), jget(was, immutable[i]));
    json_t *template = jget(spec, "template"), *was_template = jget(was, "template");
    json_t *clone = was_template ? json_deep_copy(was_template) : NULL;
    if (clone && jtrue(was, "suspend") && !jget(jobj(old, "status"), "startTime"))
        unmunge_scheduling(clone, template);
    if (!kv_sem_equal(template, clone))
        kv_invalid_go(c, "template", kv_go_json, template, kv_immutable_msg);
    json_decref(clone);
    kv_path_pop(c, mark);
}

void kv_check_cronjob(struct vctx *c, json_t *obj)
{
    static const char *const policies[] = {"Allow", "Forbid", "Replace", NULL};
    const char *name = jstr0(jobj(obj, "metadata"), "name");
    if (strlen(name) > 52) {
        size_t m = kv_path_child(c, "metadata");
        kv_invalid(c, "name", name, "must be no more than 52 characters");
        kv_path_pop(c, m);
    }
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    const char *schedule = jstr0(spec, "schedule");
    if (!*schedule) {
        kv_required(c, "schedule", "");
    } else {
        char err[512];
        const char *why = kv_cron_parse(schedule, err, sizeof err);
        if (why)
            kv_invalid(c, "schedule", schedule, why);
        bool allow_tz = c->old && strstr(jstr0(jobj(c->old, "spec"), "schedule"), "TZ");
        if (allow_tz && strstr(schedule, "TZ") && jget(spec, "timeZone"))
            kv_invalid(c, "schedule", schedule,
                       "cannot use both timeZone field and TZ or CRON_TZ in schedule");
        else if (!allow_tz && strstr(schedule, "TZ"))
            kv_invalid(c, "schedule", schedule,
                       "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    }
    kv_check_nonnegative(c, spec, "startingDeadlineSeconds");
    const char *tz = jstr(spec, "timeZone");
    if (tz && !*tz)
        kv_invalid(c, "timeZone", tz, "timeZone must be nil or non-empty string");
    else if (tz && strcasecmp(tz, "Local") == 0)
        kv_invalid(
            c, "timeZone", tz,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones");
    else if (tz && strcmp(tz, "UTC") != 0)
        check_time_zone(c, tz);
    kv_check_enum(c, spec, "concurrencyPolicy", policies);
    json_t *job_spec = jobj(jobj(spec, "jobTemplate"), "spec");
    size_t m1 = kv_path_child(c, "jobTemplate"), m2 = kv_path_child(c, "spec");
    check_job_spec(c, job_spec);
    if (jget(job_spec, "selector"))
        kv_invalid_go(c, "selector", kv_go_label_selector, jobj(job_spec, "selector"),
                      "`selector` will be auto-generated");
    if (jtrue(job_spec, "manualSelector")) {
        static const char *const manual[] = {"nil", "false", NULL};
        kv_unsupported_raw(c, "manualSelector", "true", manual);
    }
    kv_path_pop(c, m2);
    kv_path_pop(c, m1);
    kv_check_nonnegative(c, spec, "successfulJobsHistoryLimit");
    kv_check_nonnegative(c, spec, "failedJobsHistoryLimit");
    kv_path_pop(c, mark);
}
