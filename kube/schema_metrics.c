/* schema_metrics.c — the schema of metrics.k8s.io/v1beta1 (PodMetrics,
 * NodeMetrics, their lists, ContainerMetrics), which lives in k8s.io/metrics
 * rather than among the k8s.io/api packages the generated schema is made
 * from (scripts/gen_schema.py), so it is written out here from that
 * package's types.go: the same names, JSON names and protobuf numbers.
 *
 * The server serves these kinds from stored objects the node agents write
 * (server/resources.c, agent/metrics.c); with their types known, their
 * writes are checked like any other's and OpenAPI documents them.
 *
 * How: the types are static and sorted by name, after every generated type
 * (their OpenAPI names, io.k8s.metrics..., sort after io.k8s.api...), so
 * schema.c appends them to its lookups and its iteration. Their metadata
 * fields point at the generated ObjectMeta and ListMeta, whose addresses
 * are not constant expressions here: those two pointers are filled once,
 * under pthread_once, before any lookup returns a type; nothing changes
 * afterwards, so readers need no lock. */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include "kube/kube.h"

#define MV "io.k8s.metrics.pkg.apis.metrics.v1beta1."
#define META "io.k8s.apimachinery.pkg.apis.meta.v1."

#define D_APIVERSION "APIVersion defines the versioned schema of this representation of an object."
#define D_KIND "Kind is a string value representing the REST resource this object represents."
#define D_TIMESTAMP \
    "The end of the interval [timestamp-window, timestamp] the metrics were collected over."
#define D_WINDOW "The length of the interval the metrics were collected over."

#define F(n_, num_, vt_, ty_, rep_, map_, desc_, req_)                                            \
    {.name = n_, .num = num_, .vtype = vt_, .type = ty_, .repeated = rep_, .map = map_,           \
     .description = desc_, .required = req_}

enum { T_CONTAINER, T_NODE, T_NODE_LIST, T_POD, T_POD_LIST, T_N };

static struct kube_type types[T_N];

static struct kube_field container_fields[] = {
    F("name", 1, KUBE_V_STRING, NULL, false, false,
      "The name of the container, as in the pod's spec.containers.", true),
    F("usage", 2, KUBE_V_QUANTITY, NULL, false, true,
      "The resources the container uses: cpu, and memory as its working set.", true),
};

static struct kube_field node_fields[] = {
    F("apiVersion", 0, KUBE_V_STRING, NULL, false, false, D_APIVERSION, false),
    F("kind", 0, KUBE_V_STRING, NULL, false, false, D_KIND, false),
    F("metadata", 1, KUBE_V_OBJECT, NULL, false, false, "Standard object's metadata.", false),
    F("timestamp", 2, KUBE_V_TIME, NULL, false, false, D_TIMESTAMP, true),
    F("usage", 4, KUBE_V_QUANTITY, NULL, false, true,
      "The resources the node uses: cpu, and memory as its working set.", true),
    F("window", 3, KUBE_V_DURATION, NULL, false, false, D_WINDOW, true),
};

static struct kube_field node_list_fields[] = {
    F("apiVersion", 0, KUBE_V_STRING, NULL, false, false, D_APIVERSION, false),
    F("items", 2, KUBE_V_OBJECT, &types[T_NODE], true, false, "The list of node metrics.", true),
    F("kind", 0, KUBE_V_STRING, NULL, false, false, D_KIND, false),
    F("metadata", 1, KUBE_V_OBJECT, NULL, false, false, "Standard list metadata.", false),
};

static struct kube_field pod_fields[] = {
    F("apiVersion", 0, KUBE_V_STRING, NULL, false, false, D_APIVERSION, false),
    F("containers", 4, KUBE_V_OBJECT, &types[T_CONTAINER], true, false,
      "The metrics of each container, collected over the same window.", true),
    F("kind", 0, KUBE_V_STRING, NULL, false, false, D_KIND, false),
    F("metadata", 1, KUBE_V_OBJECT, NULL, false, false, "Standard object's metadata.", false),
    F("timestamp", 2, KUBE_V_TIME, NULL, false, false, D_TIMESTAMP, true),
    F("window", 3, KUBE_V_DURATION, NULL, false, false, D_WINDOW, true),
};

static struct kube_field pod_list_fields[] = {
    F("apiVersion", 0, KUBE_V_STRING, NULL, false, false, D_APIVERSION, false),
    F("items", 2, KUBE_V_OBJECT, &types[T_POD], true, false, "The list of pod metrics.", true),
    F("kind", 0, KUBE_V_STRING, NULL, false, false, D_KIND, false),
    F("metadata", 1, KUBE_V_OBJECT, NULL, false, false, "Standard list metadata.", false),
};

#define NF(a) (unsigned)(sizeof a / sizeof a[0])
#define TYPE(nm_, desc_, f_)                                                                       \
    {.name = MV nm_, .description = desc_, .fields = f_, .n_fields = NF(f_)}
#define KIND(nm_, desc_, f_)                                                                       \
    {.name = MV nm_, .description = desc_, .group = "metrics.k8s.io", .version = "v1beta1",       \
     .kind = nm_, .fields = f_, .n_fields = NF(f_)}

static struct kube_type types[T_N] = {
    [T_CONTAINER] = TYPE("ContainerMetrics", "The resource usage of one container.",
                         container_fields),
    [T_NODE] = KIND("NodeMetrics", "The resource usage of a node.", node_fields),
    [T_NODE_LIST] = KIND("NodeMetricsList", "A list of NodeMetrics.", node_list_fields),
    [T_POD] = KIND("PodMetrics", "The resource usage of the containers of a pod.", pod_fields),
    [T_POD_LIST] = KIND("PodMetricsList", "A list of PodMetrics.", pod_list_fields),
};

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The metadata fields' types, from the generated schema (see above). */
static void resolve(void)
{
    const struct kube_type *om = kube_schema_type(META "ObjectMeta");
    const struct kube_type *lm = kube_schema_type(META "ListMeta");
    struct kube_field *objects[] = {&node_fields[2], &pod_fields[3]};
    struct kube_field *lists[] = {&node_list_fields[3], &pod_list_fields[3]};
    for (size_t i = 0; i < 2; i++) {
        objects[i]->type = om;
        lists[i]->type = lm;
    }
}

const struct kube_type *kube_schema_metrics_at(unsigned i)
{
    pthread_once(&once, resolve);
    return i < T_N ? &types[i] : NULL;
}

const struct kube_type *kube_schema_metrics_type(const char *name)
{
    if (strncmp(name, MV, sizeof MV - 1) != 0)
        return NULL;
    for (unsigned i = 0; i < T_N; i++)
        if (strcmp(types[i].name, name) == 0)
            return kube_schema_metrics_at(i);
    return NULL;
}

const struct kube_type *kube_schema_metrics_kind(const char *group, const char *version,
                                                 const char *kind)
{
    if (strcmp(group, "metrics.k8s.io") != 0 || strcmp(version, "v1beta1") != 0)
        return NULL;
    for (unsigned i = 0; i < T_N; i++)
        if (types[i].kind && strcmp(types[i].kind, kind) == 0)
            return kube_schema_metrics_at(i);
    return NULL;
}
