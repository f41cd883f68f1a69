/* table_pod.c — a Pod's Table row, with the STATUS logic of kubectl's printPod.
 *
 * Ready ("1/2", counting restartable init containers), STATUS, restarts
 * ("5 (3m ago)"), age, IP, node, nominated node and readiness gates.
 * STATUS is printPod's walk: the phase or status.reason, SchedulingGated,
 * then the init containers ("Init:1/3", "Init:CrashLoopBackOff",
 * "Init:Error"), then the app containers from last to first (waiting
 * reasons, "Completed", "Signal:9", "ExitCode:1"), with "Running" or
 * "NotReady" for a pod whose containers still run after one completed,
 * and "Terminating" or "Unknown" for a pod being deleted.
 *
 * How it works: pod_summarize fills a struct pod_summary (the reason, ready
 * and total counts, restarts and the last restart's time), from which
 * tbl_pod_cells writes the row. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/table_internal.h"

/* ---- Pod ---- */

/* The pod's displayed status, its ready count and its restarts: printPod's
 * walk over init containers, then containers (last to first). */
struct pod_summary {
    struct ubuf reason;
    int64_t ready, total, restarts;
    struct tbl_time last_restart;
};

static void pod_reason(struct pod_summary *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pod_reason(struct pod_summary *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    p->reason.len = 0;
    ubuf_appendf(&p->reason, "%s", s);
    free(s);
}

/* A sidecar: an init container with restartPolicy Always. */
static bool pod_restartable_init(json_t *pod, const char *name)
{
    json_t *c, *found = NULL;
    size_t i;
    json_array_foreach(tbl_at(pod, "spec.initContainers"), i, c) {
        if (tbl_streq(c, "name", name))
            found = c;
    }
    return tbl_streq(found, "restartPolicy", "Always");
}

static void pod_note_restart(struct tbl_time *last, json_t *cs)
{
    if (!tbl_has(cs, "lastState.terminated"))
        return;
    struct tbl_time t = tbl_time_at(cs, "lastState.terminated.finishedAt");
    if (tbl_before(*last, t))
        *last = t;
}

/* Returns whether the pod is still initializing. */
static bool pod_init_containers(json_t *pod, struct pod_summary *p, int64_t *sidecar_restarts,
                                struct tbl_time *sidecar_last)
{
    json_t *cs;
    size_t i;
    json_array_foreach(tbl_at(pod, "status.initContainerStatuses"), i, cs) {
        int64_t rc = tbl_int32(cs, "restartCount", 0);
        bool sidecar = pod_restartable_init(pod, tbl_str(cs, "name"));
        p->restarts += rc;
        pod_note_restart(&p->last_restart, cs);
        if (sidecar) {
            *sidecar_restarts += rc;
            pod_note_restart(sidecar_last, cs);
        }
        json_t *term = tbl_at(cs, "state.terminated");
        const char *waiting = tbl_str(cs, "state.waiting.reason");
        if (term && tbl_int(term, "exitCode", 0) == 0)
            continue;
        if (sidecar && tbl_true(cs, "started")) {
            p->ready += tbl_true(cs, "ready");
            continue;
        }
        if (term && *tbl_str(term, "reason"))
            pod_reason(p, "Init:%s", tbl_str(term, "reason"));
        else if (term && tbl_int(term, "signal", 0) != 0)
            pod_reason(p, "Init:Signal:%lld", (long long)tbl_int(term, "signal", 0));
        else if (term)
            pod_reason(p, "Init:ExitCode:%lld", (long long)tbl_int(term, "exitCode", 0));
        else if (*waiting && strcmp(waiting, "PodInitializing") != 0)
            pod_reason(p, "Init:%s", waiting);
        else
            pod_reason(p, "Init:%zu/%zu", i, tbl_len(pod, "spec.initContainers"));
        return true;
    }
    return false;
}

static void pod_containers(json_t *pod, struct pod_summary *p)
{
    json_t *list = tbl_at(pod, "status.containerStatuses");
    bool has_running = false;
    for (size_t i = json_is_array(list) ? json_array_size(list) : 0; i-- > 0;) {
        json_t *cs = json_array_get(list, i), *term = tbl_at(cs, "state.terminated");
        p->restarts += tbl_int32(cs, "restartCount", 0);
        pod_note_restart(&p->last_restart, cs);
        const char *waiting = tbl_str(cs, "state.waiting.reason");
        if (*waiting) {
            pod_reason(p, "%s", waiting);
        } else if (term && *tbl_str(term, "reason")) {
            pod_reason(p, "%s", tbl_str(term, "reason"));
        } else if (term) {
            if (tbl_int(term, "signal", 0) != 0)
                pod_reason(p, "Signal:%lld", (long long)tbl_int(term, "signal", 0));
            else
                pod_reason(p, "ExitCode:%lld", (long long)tbl_int(term, "exitCode", 0));
        } else if (tbl_true(cs, "ready") && tbl_has(cs, "state.running")) {
            has_running = true;
            p->ready++;
        }
    }
    /* a container still running turns "Completed" back into Running */
    if (strcmp(p->reason.data, "Completed") == 0 && has_running)
        pod_reason(p, "%s",
                   tbl_condition_true(pod, "status.conditions", "Ready") ? "Running" : "NotReady");
}

static void pod_summarize(json_t *pod, struct pod_summary *p)
{
    const char *phase = tbl_str_or(pod, "status.phase", "Pending");
    pod_reason(p, "%s", *tbl_str(pod, "status.reason") ? tbl_str(pod, "status.reason") : phase);
    json_t *c;
    size_t i;
    json_array_foreach(tbl_at(pod, "status.conditions"), i, c) {
        if (tbl_streq(c, "type", "PodScheduled") && tbl_streq(c, "reason", "SchedulingGated"))
            pod_reason(p, "SchedulingGated");
    }
    p->total = (int64_t)tbl_len(pod, "spec.containers");
    json_array_foreach(tbl_at(pod, "spec.initContainers"), i, c) {
        p->total += tbl_streq(c, "restartPolicy", "Always");
    }

    int64_t sidecar_restarts = 0;
    struct tbl_time sidecar_last = {0};
    bool initializing = pod_init_containers(pod, p, &sidecar_restarts, &sidecar_last);
    if (!initializing || tbl_condition_true(pod, "status.conditions", "Initialized")) {
        p->restarts = sidecar_restarts;
        p->last_restart = sidecar_last;
        pod_containers(pod, p);
    }

    if (tbl_has(pod, "metadata.deletionTimestamp")) {
        if (tbl_streq(pod, "status.reason", "NodeLost"))
            pod_reason(p, "Unknown");
        else if (strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0)
            pod_reason(p, "Terminating");
    }
}

/* "1/2" of the readiness gates whose condition is True, or "<none>" */
static void cell_readiness_gates(struct tbl_row *r)
{
    json_t *gates = tbl_at(r->obj, "spec.readinessGates"), *g;
    size_t n = json_is_array(gates) ? json_array_size(gates) : 0, i;
    if (n == 0) {
        tbl_cell_str(r, "<none>");
        return;
    }
    int64_t ok = 0;
    json_array_foreach(gates, i, g) {
        ok += tbl_condition_true(r->obj, "status.conditions", tbl_str(g, "conditionType"));
    }
    tbl_cell_fmt(r, "%lld/%zu", (long long)ok, n);
}

/* status.podIP, else the first of status.podIPs (podIP is authoritative in
 * the v1 conversion), else "<none>" */
static const char *pod_ip(json_t *pod)
{
    const char *ip = tbl_str(pod, "status.podIP");
    if (!*ip)
        ip = tbl_str(json_array_get(tbl_at(pod, "status.podIPs"), 0), "ip");
    return *ip ? ip : "<none>";
}

void tbl_pod_cells(struct tbl_row *r)
{
    struct pod_summary p = {0};
    pod_summarize(r->obj, &p);
    tbl_cell_name(r);
    tbl_cell_fmt(r, "%lld/%lld", (long long)p.ready, (long long)p.total);
    tbl_cell_str(r, p.reason.data);
    if (p.restarts != 0 && p.last_restart.set) {
        char ago[32];
        tbl_since(r, p.last_restart, ago, sizeof ago);
        tbl_cell_fmt(r, "%lld (%s ago)", (long long)p.restarts, ago);
    } else {
        tbl_cell_fmt(r, "%lld", (long long)p.restarts);
    }
    ubuf_free(&p.reason);
    tbl_cell_age(r);
    tbl_cell_str(r, pod_ip(r->obj));
    tbl_cell_field(r, "spec.nodeName", "<none>");
    tbl_cell_field(r, "status.nominatedNodeName", "<none>");
    cell_readiness_gates(r);
}
