/* podstatus.c — the pod jobs: what a kubelet would write for a pod that
 * starts, completes, or is deleted, written by a worker (jobs.c).
 *
 * Each job carries a copy of what it needs (podwatch.c made it), and first
 * checks that its pod is still the one it was made for (same key, same uid
 * in the pod table); if not, it does nothing. Status writes are strategic
 * merge patches of /status, as the kubelet's status manager sends them:
 * conditions merge by type, so the PodScheduled condition the binding
 * wrote keeps its time (we add one only when the pod has none, as the
 * kubelet does for pods created with spec.nodeName).
 *   run       phase Running, hostIP(s), podIP(s), startTime, the five
 *             conditions True, a running status per container (and a
 *             completed one per init container);
 *   complete  phase Succeeded: containers terminated with exit code 0,
 *             reason Completed; Ready and ContainersReady False, reason
 *             PodCompleted. A pod with bosun.dev/hollow-exit-code N != 0
 *             (podwatch.c) ends Failed instead: containers terminated with
 *             exit code N, reason Error;
 *   delete    for a pod being deleted: if it ran and is not terminal yet,
 *             first its terminal status (containers killed: exit code 143,
 *             reason Error, phase Failed — so a Job counts it as failed,
 *             not succeeded), then DELETE with gracePeriodSeconds 0 and the
 *             pod's uid as precondition, as the kubelet does once the
 *             containers have stopped.
 * The run patch names the resourceVersion of the pod it was decided on (a
 * precondition, server/write.c): jobs of one pod run on different workers,
 * and a "Running" that arrived after the delete job's terminal status (a
 * retry after an unknown outcome, a slow worker) used to bring a killed pod
 * back to Running, where it stayed terminating for ever. The terminal
 * writes need no precondition: nothing comes after them.
 * Outcomes: 2xx done; 404 the pod is gone: done; 409 on a status write: read
 * the pod again and retry if it is still the same pod (up to 5 times) — for
 * the run patch only if it is still Pending and not being deleted, at the
 * revision just read; 409 on the delete: the uid changed, done; 5xx or no
 * answer: retry with backoff; any other 4xx: an error (logged once per
 * kind), done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "util/util.h"

#define POD_CONFLICT_RETRIES 5

struct agent_pod_job *agent_pod_job_new(enum agent_job_kind kind, const char *ns,
                                        const char *name, const char *uid, int node)
{
    struct agent_pod_job *pj = xcalloc(1, sizeof *pj);
    pj->job.kind = kind;
    pj->ns = xstrdup(ns);
    pj->name = xstrdup(name);
    size_t kl = strlen(ns) + strlen(name) + 2;
    pj->key = xmalloc(kl);
    snprintf(pj->key, kl, "%s/%s", ns, name);
    snprintf(pj->uid, sizeof pj->uid, "%s", uid);
    pj->node = node;
    return pj;
}

void agent_pod_job_free(struct agent_pod_job *pj)
{
    if (!pj)
        return;
    free(pj->ns);
    free(pj->name);
    free(pj->key);
    free(pj->containers);
    free(pj->init_containers);
    free(pj);
}

/* ---- status bodies ---- */

static json_t *condition(const char *type, bool ok, const char *reason, const char *when)
{
    json_t *c = json_pack("{s:s, s:s, s:s}", "type", type, "status", ok ? "True" : "False",
                          "lastTransitionTime", when);
    if (reason)
        json_object_set_new(c, "reason", json_string(reason));
    return c;
}

enum cstate { C_RUNNING, C_COMPLETED, C_KILLED, C_EXITED };

/* One status per container of blob ("name\0image\0"...); state decides
 * (C_EXITED: terminated with pj->exit_code). */
static json_t *container_statuses(const struct agent_pod_job *pj, const char *blob,
                                  enum cstate state, const char *started, const char *finished)
{
    int code = state == C_COMPLETED ? 0 : state == C_EXITED ? pj->exit_code : 143;
    json_t *a = json_array();
    for (const char *p = blob; p && *p;) {
        const char *name = p, *image = p + strlen(p) + 1;
        p = image + strlen(image) + 1;
        char cid[80], iid[80];
        agent_fake_id(pj->uid, name, cid, sizeof cid);
        agent_fake_id("image", image, iid, sizeof iid);
        char container_id[96], image_id[96];
        snprintf(container_id, sizeof container_id, "hollow://%s", cid);
        snprintf(image_id, sizeof image_id, "hollow://sha256:%s", iid);
        json_t *st;
        if (state == C_RUNNING)
            st = json_pack("{s:{s:s}}", "running", "startedAt", started);
        else
            st = json_pack("{s:{s:i, s:s, s:s, s:s, s:s}}", "terminated", "exitCode", code,
                           "reason", code == 0 ? "Completed" : "Error", "startedAt", started,
                           "finishedAt", finished, "containerID", container_id);
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:i, s:o, s:{}}", "name", name, "image",
                         image, "imageID", image_id, "containerID", container_id, "ready",
                         state == C_RUNNING, "started", state == C_RUNNING, "restartCount", 0,
                         "state", st, "lastState"));
    }
    return a;
}

static json_t *status_running(struct agent *ag, const struct agent_pod_job *pj)
{
    char start[32], pod_ip[16];
    agent_time_rfc3339(pj->start_wall_ms, start, sizeof start);
    agent_ip_format(pj->ip, pod_ip, sizeof pod_ip);
    const char *host_ip = ag->nodes[pj->node].ip;
    json_t *conds = json_array();
    static const char *types[] = {"PodReadyToStartContainers", "Initialized", "Ready",
                                  "ContainersReady"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        json_array_append_new(conds, condition(types[i], true, NULL, start));
    if (!pj->has_scheduled)
        json_array_append_new(conds, condition("PodScheduled", true, NULL, start));
    json_t *st = json_pack("{s:s, s:o, s:s, s:[{s:s}], s:s, s:[{s:s}], s:s, s:o}", "phase",
                           "Running", "conditions", conds, "hostIP", host_ip, "hostIPs", "ip",
                           host_ip, "podIP", pod_ip, "podIPs", "ip", pod_ip, "startTime", start,
                           "containerStatuses",
                           container_statuses(pj, pj->containers, C_RUNNING, start, NULL));
    if (pj->init_containers)
        json_object_set_new(st, "initContainerStatuses",
                            container_statuses(pj, pj->init_containers, C_COMPLETED, start,
                                               start));
    return json_pack("{s:o}", "status", st);
}

/* Succeeded (completed), or Failed (killed for deletion, or exited with
 * pj->exit_code != 0). */
static json_t *status_terminal(const struct agent_pod_job *pj, enum cstate state)
{
    bool succeeded = state == C_COMPLETED;
    char start[32], now[32];
    agent_time_rfc3339(pj->start_wall_ms, start, sizeof start);
    agent_time_rfc3339(agent_wall_ms(), now, sizeof now);
    json_t *conds = json_pack("[o, o, o, o]", condition("PodReadyToStartContainers", false, NULL,
                                                        now),
                              condition("Initialized", true, "PodCompleted", start),
                              condition("Ready", false, "PodCompleted", now),
                              condition("ContainersReady", false, "PodCompleted", now));
    return json_pack("{s:{s:s, s:o, s:o}}", "status", "phase", succeeded ? "Succeeded" : "Failed",
                     "conditions", conds, "containerStatuses",
                     container_statuses(pj, pj->containers, state, start, now));
}

/* ---- the writes ---- */

static const char *message_of(json_t *st)
{
    const char *m = json_string_value(json_object_get(st, "message"));
    return m ? m : "(no message)";
}

enum write_outcome { W_DONE, W_GONE, W_RETRY, W_FAILED };

/* The pod as the server has it now: its HTTP status, and *out. */
static int pod_read(struct agent_conn *k, const struct agent_pod_job *pj, json_t **out)
{
    char path[600];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", pj->ns, pj->name);
    return agent_conn_json(k, "GET", path, NULL, NULL, out);
}

static bool same_uid(json_t *pod, const struct agent_pod_job *pj)
{
    const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
    return uid && strcmp(uid, pj->uid) == 0;
}

/* After a 409: is the pod still there with the same uid? */
static bool pod_still_same(struct agent_conn *k, const struct agent_pod_job *pj)
{
    json_t *out = NULL;
    bool same = pod_read(k, pj, &out) == 200 && same_uid(out, pj);
    json_decref(out);
    return same;
}

/* Before writing "Running" again: is the pod still waiting to run, and not
 * being deleted? If so, *rv is its resourceVersion now (the precondition of
 * the next try). An attempt whose outcome was unknown (504 while the leader
 * changed) may have been applied, and the pod may have completed since:
 * writing Running again would undo a completion that its Job already
 * counted. When the server cannot say, yes, with *rv unchanged (the write
 * fails the same way and is retried). */
static bool pod_still_pending(struct agent_conn *k, const struct agent_pod_job *pj, char *rv,
                              size_t rvlen)
{
    json_t *out = NULL;
    int st = pod_read(k, pj, &out);
    if (st < 0 || st >= 500) {
        json_decref(out);
        return true;
    }
    json_t *md = json_object_get(out, "metadata");
    const char *phase =
        json_string_value(json_object_get(json_object_get(out, "status"), "phase"));
    const char *cur = json_string_value(json_object_get(md, "resourceVersion"));
    bool pending = st == 200 && same_uid(out, pj) && !json_object_get(md, "deletionTimestamp") &&
                   (!phase || !*phase || strcmp(phase, "Pending") == 0) && cur;
    if (pending)
        snprintf(rv, rvlen, "%s", cur);
    json_decref(out);
    return pending;
}

/* After the run patch's 409: run at the revision now, or not at all. */
static bool run_still_wanted(struct agent_conn *k, struct agent_pod_job *pj)
{
    if (pod_still_pending(k, pj, pj->rv, sizeof pj->rv))
        return true;
    LOG_DEBUG("pod %s moved on before it ran (deleted, or terminal): not run", pj->key);
    return false;
}

/* Makes patch apply only to the pod at resourceVersion rv ("" : to any). */
static void pin_rv(json_t *patch, const char *rv)
{
    if (!*rv)
        return;
    json_t *md = json_object_get(patch, "metadata");
    if (!md) {
        md = json_object();
        json_object_set_new(patch, "metadata", md);
    }
    json_object_set_new(md, "resourceVersion", json_string(rv));
}

/* A strategic merge patch of the pod's status. */
static enum write_outcome status_write(struct agent *ag, struct agent_conn *k,
                                       struct agent_pod_job *pj, json_t *patch,
                                       enum agent_err kind)
{
    char path[600];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s/status", pj->ns, pj->name);
    for (int attempt = 0;; attempt++) {
        json_t *out = NULL;
        int st = agent_conn_write(k, "PATCH", path, "application/strategic-merge-patch+json",
                                  patch, &out);
        enum write_outcome r;
        if (st == 200)
            r = W_DONE;
        else if (st == 404)
            r = W_GONE;
        else if (st < 0 || st >= 500)
            r = W_RETRY;
        else if (st == 409 && attempt < POD_CONFLICT_RETRIES && pj->job.kind == AGENT_JOB_POD_RUN)
            r = run_still_wanted(k, pj) ? W_RETRY : W_GONE;
        else if (st == 409 && attempt < POD_CONFLICT_RETRIES)
            r = pod_still_same(k, pj) ? W_RETRY : W_GONE;
        else
            r = W_FAILED;
        if (r == W_FAILED || (r == W_RETRY && st != 409))
            agent_error(ag, kind, "pod %s status: %s", pj->key,
                        st < 0 ? "no server answers" : message_of(out));
        json_decref(out);
        if (r != W_RETRY || st != 409)
            return r;
        if (pj->job.kind == AGENT_JOB_POD_RUN) /* again, at the revision just read */
            pin_rv(patch, pj->rv);
    }
}

/* The handler's answer to an outcome. */
static uint64_t pod_job_next(struct agent_job *j, enum write_outcome r)
{
    if (r != W_RETRY)
        return 0;
    return util_now_ms() + agent_backoff_ms(++j->attempts);
}

uint64_t agent_pod_run(struct agent *ag, struct agent_conn *k, struct agent_job *j)
{
    struct agent_pod_job *pj = (struct agent_pod_job *)j;
    if (!agent_pods_current(&ag->pods, pj->key, pj->uid))
        return 0;
    if (j->attempts > 0 && !pod_still_pending(k, pj, pj->rv, sizeof pj->rv))
        return 0; /* an earlier attempt took effect, or the pod moved on */
    json_t *patch = status_running(ag, pj);
    pin_rv(patch, pj->rv);
    enum write_outcome r = status_write(ag, k, pj, patch, AGENT_ERR_POD_RUN);
    json_decref(patch);
    if (r == W_DONE)
        atomic_fetch_add(&ag->st.running, 1);
    return pod_job_next(j, r);
}

uint64_t agent_pod_complete(struct agent *ag, struct agent_conn *k, struct agent_job *j)
{
    struct agent_pod_job *pj = (struct agent_pod_job *)j;
    if (!agent_pods_current(&ag->pods, pj->key, pj->uid))
        return 0;
    json_t *patch = status_terminal(pj, pj->exit_code ? C_EXITED : C_COMPLETED);
    enum write_outcome r = status_write(ag, k, pj, patch, AGENT_ERR_POD_COMPLETE);
    json_decref(patch);
    if (r == W_DONE)
        atomic_fetch_add(&ag->st.succeeded, 1);
    return pod_job_next(j, r);
}

uint64_t agent_pod_delete(struct agent *ag, struct agent_conn *k, struct agent_job *j)
{
    struct agent_pod_job *pj = (struct agent_pod_job *)j;
    if (!agent_pods_current(&ag->pods, pj->key, pj->uid))
        return 0;
    if (pj->started && !pj->terminal && pj->containers) {
        json_t *patch = status_terminal(pj, C_KILLED);
        enum write_outcome r = status_write(ag, k, pj, patch, AGENT_ERR_POD_DELETE);
        json_decref(patch);
        if (r != W_DONE)
            return pod_job_next(j, r);
        pj->terminal = true;
    }
    char path[600];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", pj->ns, pj->name);
    json_t *opts = json_pack("{s:s, s:s, s:i, s:{s:s}}", "kind", "DeleteOptions", "apiVersion",
                             "v1", "gracePeriodSeconds", 0, "preconditions", "uid", pj->uid);
    json_t *out = NULL;
    int st = agent_conn_write(k, "DELETE", path, "application/json", opts, &out);
    json_decref(opts);
    enum write_outcome r = st == 200 || st == 202 ? W_DONE
                           : st == 404 || st == 409 ? W_GONE
                           : st < 0 || st >= 500    ? W_RETRY
                                                    : W_FAILED;
    if (r == W_RETRY || r == W_FAILED)
        agent_error(ag, AGENT_ERR_POD_DELETE, "deleting pod %s: %s", pj->key,
                    st < 0 ? "no server answers" : message_of(out));
    json_decref(out);
    if (r == W_DONE)
        atomic_fetch_add(&ag->st.deleted, 1);
    return pod_job_next(j, r);
}
