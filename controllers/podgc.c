/* podgc.c — the pod garbage collector, as Kubernetes' PodGC
 * (pkg/controller/podgc): pods that nothing else will ever clean up.
 *
 *  - Orphans: a pod bound to a node that no longer exists. Like Kubernetes
 *    it waits a quarantine (40 s) in case the node is being re-registered,
 *    then marks the pod DisruptionTarget (reason DeletionByPodGC), Failed
 *    if it was not terminal, and deletes it at once (gracePeriodSeconds 0:
 *    no agent is left to confirm the end of a graceful deletion).
 *  - Terminated pods beyond a threshold (12,500, Kubernetes' default
 *    --terminated-pod-gc-threshold): the oldest Succeeded/Failed pods are
 *    deleted until the count is back at it.
 *
 * The queue is keyed by node name: a deleted node is looked at again after
 * the quarantine, and the full pass finds pods whose node is missing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_internal.h"
#include "util/util.h"

#define PODGC "pod-garbage-collector"
#define PODGC_QUARANTINE_MS 40000
#define PODGC_TERMINATED_THRESHOLD 12500
#define PODGC_TERMINATED_KEY "_terminated" /* queue key for the threshold check */

static bool wants(const struct store_event *e)
{
    return e->o.resource_len == 5 && memcmp(e->o.resource, "nodes", 5) == 0 &&
           e->type == STORE_DELETED;
}

static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    ctl_enqueue_after(c, PODGC, "nodes", "", name, PODGC_QUARANTINE_MS);
    (void)obj;
}

struct scan {
    struct umap nodes;   /* live node names */
    struct umap missing; /* node names pods are bound to that do not exist */
    size_t terminated;
};

static int scan_pod(void *arg, const struct store_obj *o)
{
    struct scan *s = arg;
    char node[256], phase[32];
    if (ctl_obj_field(o, "nodeName", node, sizeof node) && !umap_get(&s->nodes, node))
        umap_put(&s->missing, node, (void *)1);
    if (ctl_obj_field(o, "phase", phase, sizeof phase) &&
        (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
        s->terminated++;
    return 0;
}

static int scan_node(void *arg, const struct store_obj *o)
{
    struct scan *s = arg;
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)o->name_len, o->name);
    umap_put(&s->nodes, name, (void *)1);
    return 0;
}

/* A full pass that decodes nothing: node names are keys, and the pods'
 * nodeName and phase are read from their encoding (ctl_obj_field), so it
 * costs little with 5,000 nodes and 50,000 pods. */
static void resync(struct ctl *c)
{
    struct scan s = {0};
    struct store_read r;
    if (store_read_begin(ctl_store(c), &r) == 0) {
        store_list(&r, "nodes", NULL, scan_node, &s);
        store_list(&r, "pods", NULL, scan_pod, &s);
        store_read_end(&r);
    }
    const char *node;
    void *v;
    size_t it = 0;
    while (umap_next(&s.missing, &it, &node, &v))
        ctl_enqueue_after(c, PODGC, "nodes", "", node, PODGC_QUARANTINE_MS);
    if (s.terminated > PODGC_TERMINATED_THRESHOLD)
        ctl_enqueue(c, PODGC, "pods", "", PODGC_TERMINATED_KEY);
    umap_free(&s.nodes);
    umap_free(&s.missing);
}

static bool delete_now(struct ctl *c, json_t *pod)
{
    json_t *md = json_object_get(pod, "metadata");
    char path[600];
    ctl_object_path("pods", ctl_str(md, "namespace"), ctl_str(md, "name"), path,
                    sizeof path - 24);
    strcat(path, "?gracePeriodSeconds=0");
    int st = ctl_api(c, "DELETE", path, NULL, NULL, NULL);
    return st == 200 || st == 202 || st == 404;
}

/* The pods bound to a node that has been gone for the quarantine. */
static bool sync_orphans(struct ctl *c, const char *node)
{
    json_t *n = ctl_get(c, "nodes", "", node);
    if (n) { /* it came back */
        json_decref(n);
        return true;
    }
    json_t *pods = ctl_list(c, "pods", NULL, node), *p;
    bool ok = true;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        if (strcmp(ctl_str(json_object_get(p, "spec"), "nodeName"), node) != 0)
            continue;
        json_t *status = json_object_get(p, "status");
        if (!json_is_object(status)) {
            status = json_object();
            json_object_set_new(p, "status", status);
        }
        bool was_active = ctl_pod_active(p);
        bool changed = ctl_condition_set(status, "DisruptionTarget", "True", "DeletionByPodGC",
                                         "PodGC: node no longer exists", false);
        if (was_active) {
            json_object_set_new(status, "phase", json_string("Failed"));
            changed = true;
        }
        if (changed && ctl_status_update(c, "pods", p) != 200)
            ok = false;
        LOG_INFO("controllers: pod %s/%s is bound to the missing node %s: deleting it",
                 ctl_str(json_object_get(p, "metadata"), "namespace"),
                 ctl_str(json_object_get(p, "metadata"), "name"), node);
        ok &= delete_now(c, p);
    }
    json_decref(pods);
    return ok;
}

static int by_finish_time(const void *a, const void *b)
{
    json_t *pa = *(json_t *const *)a, *pb = *(json_t *const *)b;
    const char *ta = ctl_str(json_object_get(pa, "metadata"), "creationTimestamp");
    const char *tb = ctl_str(json_object_get(pb, "metadata"), "creationTimestamp");
    return strcmp(ta, tb);
}

/* Deletes the oldest terminated pods beyond the threshold. */
static bool sync_terminated(struct ctl *c)
{
    json_t *pods = ctl_list(c, "pods", NULL, NULL), *p;
    json_t **done = NULL;
    size_t n = 0, i;
    json_array_foreach(pods, i, p) if (!ctl_pod_active(p) &&
                                       !json_object_get(json_object_get(p, "metadata"),
                                                        "deletionTimestamp"))
    {
        done = xrealloc(done, (n + 1) * sizeof *done);
        done[n++] = p;
    }
    bool ok = true;
    if (n > PODGC_TERMINATED_THRESHOLD) {
        qsort(done, n, sizeof *done, by_finish_time);
        for (i = 0; i < n - PODGC_TERMINATED_THRESHOLD; i++)
            ok &= delete_now(c, done[i]);
    }
    free(done);
    json_decref(pods);
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    if (strcmp(resource, "pods") == 0 && strcmp(name, PODGC_TERMINATED_KEY) == 0)
        return sync_terminated(c);
    (void)ns;
    return sync_orphans(c, name);
}

const struct ctl_def ctl_pod_gc = {
    .name = PODGC,
    .component = "pod-garbage-collector",
    .wants = wants,
    .on_change = on_change,
    .sync = sync,
    .resync = resync,
};
