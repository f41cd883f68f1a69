/* resources.c — the one table of the API's resources.
 *
 * Every route, and later discovery and OpenAPI, is derived from this table:
 * group, version, kind, plural, singular, scope, short names, subresources,
 * categories.
 * Resources are stored under their plural name, so `pods` in namespace `a`
 * named `x` is the store key ("pods", "a", "x"). */
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
};

const struct resource *resource_find(const char *group, const char *version, const char *plural)
{
    for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++) {
        const struct resource *r = &resources[i];
        if (strcmp(r->group, group) == 0 && strcmp(r->version, version) == 0 &&
            strcmp(r->plural, plural) == 0)
            return r;
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
    *plural = r->plural;
    *namespaced = r->namespaced;
    return true;
}

bool server_resource_path(const char *plural, const char *ns, const char *name, char *buf,
                          size_t len)
{
    const struct resource *r = NULL;
    for (unsigned i = 0; (r = resource_at(i)) && strcmp(r->plural, plural) != 0; i++)
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
        n = snprintf(buf, len, "%s/namespaces/%s/%s%s%s", gv, ns, plural, name && *name ? "/" : "",
                     name ? name : "");
    else
        n = snprintf(buf, len, "%s/%s%s%s", gv, plural, name && *name ? "/" : "",
                     name ? name : "");
    return n > 0 && (size_t)n < len;
}
