/* resources.c — the one table of the API's resources.
 *
 * Every route, and later discovery and OpenAPI, is derived from this table:
 * group, version, kind, plural, singular, scope, short names, subresources,
 * categories.
 * Resources are stored under their plural name, so `pods` in namespace `a`
 * named `x` is the store key ("pods", "a", "x"). The metrics.k8s.io
 * resources are the one exception: served as `pods` and `nodes` like
 * metrics-server's, but stored as `podmetrics` and `nodemetrics` (their
 * twins in stored_as, which the request handlers get from resource_find
 * and the controllers see as the store's names), written by the node
 * agents (agent/metrics.c) and read by `kubectl top` and the
 * HorizontalPodAutoscaler. They come last so that kubectl's "pods" still
 * means the core group's. */
#include <stdio.h>
#include <string.h>

#include "server/internal.h"
#include "server/server.h"

static const struct resource resources[] = {
    {"", "v1", "Namespace", "namespaces", "namespace", false, "ns", "status,finalize", ""},
    {"", "v1", "Node", "nodes", "node", false, "no", "status", ""},
    {"", "v1", "Pod", "pods", "pod", true, "po", "status,log,exec,binding,eviction", "all"},
    {"", "v1", "Service", "services", "service", true, "svc", "status", "all"},
    {"", "v1", "Endpoints", "endpoints", "endpoints", true, "ep", "", ""},
    {"", "v1", "ConfigMap", "configmaps", "configmap", true, "cm", "", ""},
    {"", "v1", "Secret", "secrets", "secret", true, "", "", ""},
    {"", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", false, "pv", "status", ""},
    {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", true, "pvc", "status", ""},
    {"", "v1", "Event", "events", "event", true, "ev", "", ""},
    {"", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, "sa", "", ""},
    {"apps", "v1", "Deployment", "deployments", "deployment", true, "deploy", "status,scale", "all"},
    {"apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, "rs", "status,scale", "all"},
    {"apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, "ds", "status", "all"},
    {"apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, "sts", "status,scale", "all"},
    {"apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", true, "", "", ""},
    {"batch", "v1", "Job", "jobs", "job", true, "", "status", "all"},
    {"batch", "v1", "CronJob", "cronjobs", "cronjob", true, "cj", "status", "all"},
    {"autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", true, "hpa", "status", "all"},
    {"coordination.k8s.io", "v1", "Lease", "leases", "lease", true, "", "", ""},
    {"discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, "", "", ""},
    {"scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", false, "pc", "", ""},
    {"storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", false, "sc", "", ""},
    {"policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", true, "pdb", "status", ""},
    {"metrics.k8s.io", "v1beta1", "PodMetrics", "pods", "", true, "", "", ""},
    {"metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", "", false, "", "", ""},
};

/* The rows whose objects are stored under another name than their plural
 * (which would collide with the core group's in the store): the handlers
 * get these twins, identical but for the plural. */
static const struct resource stored_as[] = {
    {.group = "metrics.k8s.io", .version = "v1beta1", .kind = "PodMetrics",
     .plural = "podmetrics", .singular = "", .namespaced = true, .short_names = "",
     .subresources = "", .categories = ""},
    {.group = "metrics.k8s.io", .version = "v1beta1", .kind = "NodeMetrics",
     .plural = "nodemetrics", .singular = "", .namespaced = false, .short_names = "",
     .subresources = "", .categories = ""},
};

/* The twin of a table row, or the row itself. */
static const struct resource *stored(const struct resource *r)
{
    for (size_t i = 0; i < sizeof stored_as / sizeof stored_as[0]; i++)
        if (strcmp(stored_as[i].group, r->group) == 0 && strcmp(stored_as[i].kind, r->kind) == 0)
            return &stored_as[i];
    return r;
}

const struct resource *resource_find(const char *group, const char *version, const char *plural)
{
    for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++) {
        const struct resource *r = &resources[i];
        if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0 &&
            strcmp(r->plural, plural) == 0)
            return stored(r);
    }
    return NULL;
}

const struct resource *resource_at(unsigned i)
{
    return i < sizeof resources / sizeof resources[0] ? &resources[i] : NULL;
}

void resource_api_version(const struct resource *r, char *buf, size_t len)
{
    if (r->group[0])
        snprintf(buf, len, "%s/%s", r->group, r->version);
    else
        snprintf(buf, len, "%s", r->version);
}

bool server_resource_at(unsigned i, const char **plural, bool *namespaced)
{
    const struct resource *r = resource_at(i);
    if (!r)
        return false;
    *plural = stored(r)->plural;
    *namespaced = r->namespaced;
    return true;
}

bool server_resource_path(const char *plural, const char *ns, const char *name, char *buf,
                          size_t len)
{
    const struct resource *r = NULL;
    for (unsigned i = 0; (r = resource_at(i)) && strcmp(stored(r)->plural, plural) != 0; i++)
        ;
    if (!r)
        return false;
    char gv[96];
    if (r->group[0])
        snprintf(gv, sizeof gv, "/apis/%s/%s", r->group, r->version);
    else
        snprintf(gv, sizeof gv, "/api/%s", r->version);
    int n;
    if (r->namespaced && ns && *ns)
        n = snprintf(buf, len, "%s/namespaces/%s/%s%s%s", gv, ns, r->plural,
                     name && *name ? "/" : "", name ? name : "");
    else
        n = snprintf(buf, len, "%s/%s%s%s", gv, r->plural, name && *name ? "/" : "",
                     name ? name : "");
    return n > 0 && (size_t)n < len;
}

const char *server_resource_of_kind(const char *api_version, const char *kind)
{
    const char *slash = strchr(api_version, '/');
    size_t glen = slash ? (size_t)(slash - api_version) : 0;
    const char *version = slash ? slash + 1 : api_version;
    const struct resource *r;
    for (unsigned i = 0; (r = resource_at(i)); i++)
        if (strcmp(r->kind, kind) == 0 && strcmp(r->version, version) == 0 &&
            strlen(r->group) == glen && strncmp(r->group, api_version, glen) == 0)
            return stored(r)->plural;
    return NULL;
}
