/* table_workloads.c — the Table rows of the apps/v1 and batch/v1 workloads.
 *
 * Deployment, ReplicaSet, DaemonSet, StatefulSet and ControllerRevision
 * (ready, desired and current counts, containers, images, selector, the
 * owning controller), Job (status, completions, duration) and CronJob
 * (schedule, time zone, suspend, active jobs, last schedule), as
 * printers.go prints them.
 *
 * How it works: one tbl_<kind>_cells per kind, called through table.c's
 * table of kinds, each appending one cell per column of its kind. */
#include <stdint.h>
#include <string.h>

#include "kube/table_internal.h"

/* ---- apps ---- */

void tbl_deployment_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_fmt(r, "%lld/%lld", (long long)tbl_int(r->obj, "status.readyReplicas", 0),
                 (long long)tbl_int(r->obj, "spec.replicas", 1));
    tbl_cell_int(r, tbl_int(r->obj, "status.updatedReplicas", 0));
    tbl_cell_int(r, tbl_int(r->obj, "status.availableReplicas", 0));
    tbl_cell_age(r);
    tbl_cells_containers(r, "spec.template.spec.containers");
    /* printDeployment prints selector.String() itself: "" when empty,
     * "<invalid>" when Kubernetes would refuse it */
    struct ubuf b = {0};
    if (tbl_selector_string(tbl_at(r->obj, "spec.selector"), &b))
        tbl_cell_buf(r, &b, "");
    else {
        ubuf_free(&b);
        tbl_cell_str(r, "<invalid>");
    }
}

void tbl_replicaset_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_int(r, tbl_int(r->obj, "spec.replicas", 1));
    tbl_cell_int(r, tbl_int(r->obj, "status.replicas", 0));
    tbl_cell_int(r, tbl_int(r->obj, "status.readyReplicas", 0));
    tbl_cell_age(r);
    tbl_cells_containers(r, "spec.template.spec.containers");
    tbl_cell_selector(r, "spec.selector");
}

void tbl_daemonset_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_int(r, tbl_int(r->obj, "status.desiredNumberScheduled", 0));
    tbl_cell_int(r, tbl_int(r->obj, "status.currentNumberScheduled", 0));
    tbl_cell_int(r, tbl_int(r->obj, "status.numberReady", 0));
    tbl_cell_int(r, tbl_int(r->obj, "status.updatedNumberScheduled", 0));
    tbl_cell_int(r, tbl_int(r->obj, "status.numberAvailable", 0));
    tbl_cell_labels(r, "spec.template.spec.nodeSelector");
    tbl_cell_age(r);
    tbl_cells_containers(r, "spec.template.spec.containers");
    tbl_cell_selector(r, "spec.selector");
}

void tbl_statefulset_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_fmt(r, "%lld/%lld", (long long)tbl_int(r->obj, "status.readyReplicas", 0),
                 (long long)tbl_int(r->obj, "spec.replicas", 1));
    tbl_cell_age(r);
    tbl_cells_containers(r, "spec.template.spec.containers");
}

/* The controller owner as "kind.group/name" (lower-cased group kind), or
 * "<none>" */
static void cell_controller(struct tbl_row *r)
{
    json_t *ref, *owner = NULL;
    size_t i;
    json_array_foreach(tbl_at(r->obj, "metadata.ownerReferences"), i, ref) {
        if (tbl_true(ref, "controller")) {
            owner = ref;
            break;
        }
    }
    if (!owner) {
        tbl_cell_str(r, "<none>");
        return;
    }
    const char *api = tbl_str(owner, "apiVersion"), *slash = strchr(api, '/');
    const char *kind = tbl_str(owner, "kind");
    struct ubuf b = {0};
    ubuf_appendf(&b, "%s", kind);
    if (slash && slash > api)
        ubuf_appendf(&b, ".%.*s", (int)(slash - api), api);
    for (size_t k = 0; k < b.len; k++)
        if (b.data[k] >= 'A' && b.data[k] <= 'Z')
            b.data[k] = (char)(b.data[k] - 'A' + 'a');
    if (b.len)
        ubuf_appendf(&b, "/");
    ubuf_appendf(&b, "%s", tbl_str(owner, "name"));
    tbl_cell_buf(r, &b, "");
}

void tbl_controllerrevision_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    cell_controller(r);
    tbl_cell_int(r, tbl_int(r->obj, "revision", 0));
    tbl_cell_age(r);
}

/* ---- batch ---- */

static const char *job_status(json_t *job)
{
    if (tbl_condition_true(job, "status.conditions", "Complete"))
        return "Complete";
    if (tbl_condition_true(job, "status.conditions", "Failed"))
        return "Failed";
    if (tbl_has(job, "metadata.deletionTimestamp"))
        return "Terminating";
    if (tbl_condition_true(job, "status.conditions", "Suspended"))
        return "Suspended";
    if (tbl_condition_true(job, "status.conditions", "FailureTarget"))
        return "FailureTarget";
    return "Running";
}

static void cell_job_completions(struct tbl_row *r)
{
    long long done = (long long)tbl_int(r->obj, "status.succeeded", 0);
    int64_t parallelism = tbl_int(r->obj, "spec.parallelism", 1);
    if (tbl_has(r->obj, "spec.completions"))
        tbl_cell_fmt(r, "%lld/%lld", done, (long long)tbl_int(r->obj, "spec.completions", 0));
    else if (parallelism > 1)
        tbl_cell_fmt(r, "%lld/1 of %lld", done, (long long)parallelism);
    else
        tbl_cell_fmt(r, "%lld/1", done);
}

/* How long the job ran or has been running; "" before it starts. */
static void cell_job_duration(struct tbl_row *r)
{
    struct tbl_time start = tbl_time_at(r->obj, "status.startTime");
    struct tbl_time end = tbl_time_at(r->obj, "status.completionTime");
    char buf[32] = "";
    if (start.set && !end.set)
        tbl_since(r, start, buf, sizeof buf);
    else if (start.set)
        tbl_human(buf, sizeof buf, tbl_sub(end.sec, end.nsec, start.sec, start.nsec));
    tbl_cell_str(r, buf);
}

void tbl_job_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_str(r, job_status(r->obj));
    cell_job_completions(r);
    cell_job_duration(r);
    tbl_cell_age(r);
    tbl_cells_containers(r, "spec.template.spec.containers");
    tbl_cell_selector(r, "spec.selector");
}

void tbl_cronjob_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_str(r, tbl_str(r->obj, "spec.schedule"));
    tbl_cell_str(r, tbl_str_or(r->obj, "spec.timeZone", "<none>"));
    json_t *suspend = tbl_at(r->obj, "spec.suspend");
    tbl_cell_str(r,
                 json_is_boolean(suspend) ? (json_is_true(suspend) ? "True" : "False") : "False");
    tbl_cell_int(r, (int64_t)tbl_len(r->obj, "status.active"));
    if (tbl_has(r->obj, "status.lastScheduleTime"))
        tbl_cell_since(r, "status.lastScheduleTime");
    else
        tbl_cell_str(r, "<none>");
    tbl_cell_age(r);
    tbl_cells_containers(r, "spec.jobTemplate.spec.template.spec.containers");
    tbl_cell_selector(r, "spec.jobTemplate.spec.selector");
}
