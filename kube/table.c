/* table.c — server-side printing: the Table columns and row cells of each kind.
 *
 * `kubectl get` asks for meta.k8s.io/v1 Table and prints what the server
 * sends, so the columns and cells here are those of Kubernetes 1.32's
 * pkg/printers/internalversion/printers.go: the same column names ("Name",
 * "Ready", "Up-to-date"; kubectl upper-cases them), types, formats,
 * descriptions (copied from the API's field documentation, k8s.io/api
 * 0.32.3) and priorities, and cells computed by the same rules (the pod
 * STATUS logic, "5 (3m ago)" restarts, node roles, service ports, job
 * status and completions, duration.HumanDuration ages...). The API server
 * always renders the wide form and lets the client drop priority-1 columns,
 * so every row has one cell per column.
 *
 * How it works: one table, tbl_kinds, maps (group, kind) to a column list and
 * a cells function; kube_table_columns and kube_table_cells look the kind up
 * and either turn the column list into JSON or call the cells function, which
 * appends one JSON value per column to the row. Kinds not in the table get
 * the columns Kubernetes gives a custom resource with no printer columns:
 * Name and Age.
 *
 * Objects are read as JSON in their v1 shape. Where Kubernetes would have
 * filled a default into every stored object, an absent field reads as that
 * default (spec.replicas 1, a Service's type ClusterIP and port protocol TCP,
 * a Job's parallelism 1, a CronJob's suspend false, an HPA's minReplicas 1,
 * a PriorityClass's preemptionPolicy PreemptLowerPriority, a Secret's type
 * Opaque, and the phases Pending for pods and volumes and Active for
 * namespaces), so a table shows what a real cluster would show for the same
 * object. Quantities (capacities, HPA targets) are printed as stored, not
 * re-canonicalised. */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

/* ---- column documentation, from the API's types (k8s.io/api 0.32.3) ---- */

#define DESC_NAME \
    "Name must be unique within a namespace. Is required when creating resources, although " \
    "some resources may allow a client to request the generation of an appropriate name " \
    "automatically. Name is primarily intended for creation idempotence and configuration " \
    "definition. Cannot be updated. More info: " \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
#define DESC_AGE \
    "CreationTimestamp is a timestamp representing the server time when this object was " \
    "created. It is not guaranteed to be set in happens-before order across separate " \
    "operations. Clients may not set this value. It is represented in RFC3339 form and is " \
    "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: " \
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
#define DESC_POD_IP \
    "podIP address allocated to the pod. Routable at least within the cluster. Empty if " \
    "not yet allocated."
#define DESC_POD_NODE \
    "NodeName indicates in which node this pod is scheduled. If empty, this pod is a " \
    "candidate for scheduling by the scheduler defined in schedulerName. Once this field " \
    "is set, the kubelet for this node becomes responsible for the lifecycle of this pod. " \
    "This field should not be used to express a desire for the pod to be scheduled on a " \
    "specific node. " \
    "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename"
#define DESC_POD_NOMINATED \
    "nominatedNodeName is set only when this pod preempts other pods on the node, but it " \
    "cannot be scheduled right away as preemption victims receive their graceful " \
    "termination periods. This field does not guarantee that the pod will be scheduled on " \
    "this node. Scheduler may decide to place the pod elsewhere if other nodes become " \
    "available sooner. Scheduler may also decide to give the resources on this node to a " \
    "higher priority pod that is created after preemption. As a result, this field may be " \
    "different than PodSpec.nodeName when the pod is scheduled."
#define DESC_POD_GATES \
    "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready " \
    "when all its containers are ready AND all conditions specified in the readiness gates " \
    "have status equal to \"True\" More info: " \
    "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates"
#define DESC_NODE_VERSION \
    "Kubelet Version reported by the node."
#define DESC_NODE_ADDRESSES \
    "List of addresses reachable to the node. Queried from cloud provider, if available. " \
    "More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: " \
    "This field is declared as mergeable, but the merge key is not sufficiently unique, " \
    "which can cause data corruption when it is merged. Callers should instead use a " \
    "full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should " \
    "assume that addresses can change during the lifetime of a Node. However, there are " \
    "some exceptions where this may not be possible, such as Pods that inherit a Node's " \
    "address in its own status or consumers of the downward API (status.hostIP)."
#define DESC_NODE_OS \
    "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."
#define DESC_NODE_KERNEL \
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."
#define DESC_NODE_RUNTIME \
    "ContainerRuntime Version reported by the node through runtime remote API (e.g. " \
    "containerd://1.4.2)."
#define DESC_SVC_TYPE \
    "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are " \
    "ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a " \
    "cluster-internal IP address for load-balancing to endpoints. Endpoints are determined " \
    "by the selector or if that is not specified, by manual construction of an Endpoints " \
    "object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated " \
    "and the endpoints are published as a set of endpoints rather than a virtual IP. " \
    "\"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the " \
    "same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an " \
    "external load-balancer (if supported in the current cloud) which routes to the same " \
    "endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified " \
    "externalName. Several other fields do not apply to ExternalName services. More info: " \
    "https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types"
#define DESC_SVC_CLUSTER_IP \
    "clusterIP is the IP address of the service and is usually assigned randomly. If an " \
    "address is specified manually, is in-range (as per system configuration), and is not " \
    "in use, it will be allocated to the service; otherwise creation of the service will " \
    "fail. This field may not be changed through updates unless the type field is also " \
    "being changed to ExternalName (which requires this field to be blank) or the type " \
    "field is being changed from ExternalName (in which case this field may optionally be " \
    "specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a " \
    "valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), " \
    "which is useful when direct endpoint connections are preferred and proxying is not " \
    "required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field " \
    "is specified when creating a Service of type ExternalName, creation will fail. This " \
    "field will be wiped when updating a Service to type ExternalName. More info: " \
    "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
#define DESC_SVC_EXTERNAL_IPS \
    "externalIPs is a list of IP addresses for which nodes in the cluster will also accept " \
    "traffic for this service.  These IPs are not managed by Kubernetes.  The user is " \
    "responsible for ensuring that traffic arrives at a node with this IP.  A common " \
    "example is external load-balancers that are not part of the Kubernetes system."
#define DESC_SVC_PORTS \
    "The list of ports that are exposed by this service. More info: " \
    "https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"
#define DESC_SVC_SELECTOR \
    "Route service traffic to pods with label keys and values matching this selector. If " \
    "empty or not present, the service is assumed to have an external process managing its " \
    "endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, " \
    "NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: " \
    "https://kubernetes.io/docs/concepts/services-networking/service/"
#define DESC_EP_SUBSETS \
    "The set of all endpoints is the union of all subsets. Addresses are placed into " \
    "subsets according to the IPs they share. A single address with multiple ports, some " \
    "of which are ready and some of which are not (because they come from different " \
    "containers) will result in the address being displayed in different subsets for the " \
    "different ports. No address will appear in both Addresses and NotReadyAddresses in " \
    "the same subset. Sets of addresses and ports that comprise a service."
#define DESC_CM_DATA \
    "Data contains the configuration data. Each key must consist of alphanumeric " \
    "characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the " \
    "BinaryData field. The keys stored in Data must not overlap with the keys in the " \
    "BinaryData field, this is enforced during validation process."
#define DESC_SECRET_TYPE \
    "Used to facilitate programmatic handling of secret data. More info: " \
    "https://kubernetes.io/docs/concepts/configuration/secret/#secret-types"
#define DESC_SECRET_DATA \
    "Data contains the secret data. Each key must consist of alphanumeric characters, '-', " \
    "'_' or '.'. The serialized form of the secret data is a base64 encoded string, " \
    "representing the arbitrary (possibly non-string) data value here. Described in " \
    "https://tools.ietf.org/html/rfc4648#section-4"
#define DESC_SA_SECRETS \
    "Secrets is a list of the secrets in the same namespace that pods running using this " \
    "ServiceAccount are allowed to use. Pods are only limited to this list if this service " \
    "account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The " \
    "\"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. " \
    "Prefer separate namespaces to isolate access to mounted secrets. This field should " \
    "not be used to find auto-generated service account token secrets for use outside of " \
    "pods. Instead, tokens can be requested directly using the TokenRequest API, or " \
    "service account token secrets can be manually created. More info: " \
    "https://kubernetes.io/docs/concepts/configuration/secret"
#define DESC_PV_CAPACITY \
    "capacity is the description of the persistent volume's resources and capacity. More " \
    "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"
#define DESC_PV_ACCESS \
    "accessModes contains all ways the volume can be mounted. More info: " \
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"
#define DESC_PV_RECLAIM \
    "persistentVolumeReclaimPolicy defines what happens to a persistent volume when " \
    "released from its claim. Valid options are Retain (default for manually created " \
    "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), " \
    "and Recycle (deprecated). Recycle must be supported by the volume plugin underlying " \
    "this PersistentVolume. More info: " \
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming"
#define DESC_PV_PHASE \
    "phase indicates if a volume is available, bound to a claim, or released by a claim. " \
    "More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"
#define DESC_PV_CLAIM \
    "claimRef is part of a bi-directional binding between PersistentVolume and " \
    "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the " \
    "authoritative bind between PV and PVC. More info: " \
    "https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding"
#define DESC_PV_REASON \
    "reason is a brief CamelCase string that describes any failure and is meant for " \
    "machine parsing and tidy display in the CLI."
#define DESC_PV_MODE \
    "volumeMode defines if a volume is intended to be used with a formatted filesystem or " \
    "to remain in raw block state. Value of Filesystem is implied when not included in " \
    "spec."
#define DESC_PVC_PHASE \
    "phase represents the current phase of PersistentVolumeClaim."
#define DESC_PVC_VOLUME \
    "volumeName is the binding reference to the PersistentVolume backing this claim."
#define DESC_PVC_CAPACITY \
    "capacity represents the actual resources of the underlying volume."
#define DESC_PVC_ACCESS \
    "accessModes contains the actual access modes the volume backing the PVC has. More " \
    "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"
#define DESC_PVC_MODE \
    "volumeMode defines what type of volume is required by the claim. Value of Filesystem " \
    "is implied when not included in claim spec."
#define DESC_EV_LAST \
    "The time at which the most recent occurrence of this event was recorded."
#define DESC_EV_TYPE \
    "Type of this event (Normal, Warning), new types could be added in the future"
#define DESC_EV_REASON \
    "This should be a short, machine understandable string that gives the reason for the " \
    "transition into the object's current status."
#define DESC_EV_OBJECT \
    "The object that this event is about."
#define DESC_EV_SUBOBJECT \
    "If referring to a piece of an object instead of an entire object, this string should " \
    "contain a valid JSON/Go field access statement, such as " \
    "desiredState.manifest.containers[2]. For example, if the object reference is to a " \
    "container within a pod, this would take on a value like: \"spec.containers{name}\" " \
    "(where \"name\" refers to the name of the container that triggered the event) or if no " \
    "container name is specified \"spec.containers[2]\" (container with index 2 in this " \
    "pod). This syntax is chosen only to have some well-defined way of referencing a part " \
    "of an object."
#define DESC_EV_SOURCE \
    "The component reporting this event. Should be a short machine understandable string."
#define DESC_EV_MESSAGE \
    "A human-readable description of the status of this operation."
#define DESC_EV_FIRST \
    "The time at which the event was first recorded. (Time of server receipt is in " \
    "TypeMeta.)"
#define DESC_EV_COUNT \
    "The number of times this event has occurred."
#define DESC_NODE_SELECTOR \
    "NodeSelector is a selector which must be true for the pod to fit on a node. Selector " \
    "which must match a node's labels for the pod to be scheduled on that node. More info: " \
    "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"
#define DESC_DEPLOY_UPDATED \
    "Total number of non-terminated pods targeted by this deployment that have the desired " \
    "template spec."
#define DESC_DEPLOY_AVAILABLE \
    "Total number of available pods (ready for at least minReadySeconds) targeted by this " \
    "deployment."
#define DESC_DEPLOY_SELECTOR \
    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be " \
    "the ones affected by this deployment."
#define DESC_RS_DESIRED \
    "Replicas is the number of desired replicas. This is a pointer to distinguish between " \
    "explicit zero and unspecified. Defaults to 1. More info: " \
    "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller"
#define DESC_RS_CURRENT \
    "Replicas is the most recently observed number of replicas. More info: " \
    "https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller"
#define DESC_RS_READY \
    "The number of ready replicas for this replica set."
#define DESC_RS_SELECTOR \
    "Selector is a label query over pods that should match the replica count. If the " \
    "selector is empty, it is defaulted to the labels present on the pod template. Label " \
    "keys and values that must match in order to be controlled by this replica set. More " \
    "info: " \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
#define DESC_DS_DESIRED \
    "The total number of nodes that should be running the daemon pod (including nodes " \
    "correctly running the daemon pod). More info: " \
    "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
#define DESC_DS_CURRENT \
    "The number of nodes that are running at least 1 daemon pod and are supposed to run " \
    "the daemon pod. More info: " \
    "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
#define DESC_DS_READY \
    "The number of nodes that should be running the daemon pod and have one or more of the " \
    "daemon pod running and ready."
#define DESC_DS_UPDATED \
    "The total number of nodes that are running updated daemon pod"
#define DESC_DS_AVAILABLE \
    "The number of nodes that should be running the daemon pod and have one or more of the " \
    "daemon pod running and available (ready for at least spec.minReadySeconds)"
#define DESC_DS_SELECTOR \
    "A label query over pods that are managed by the daemon set. Must match in order to be " \
    "controlled. If empty, defaulted to labels on Pod template. More info: " \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
#define DESC_CR_REVISION \
    "revision indicates the revision of the state represented by Data."
#define DESC_JOB_SUCCEEDED \
    "The number of pods which reached phase Succeeded. The value increases monotonically " \
    "for a given spec. However, it may decrease in reaction to scale down of elastic " \
    "indexed jobs."
#define DESC_JOB_SELECTOR \
    "A label query over pods that should match the pod count. Normally, the system sets " \
    "this field for you. More info: " \
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
#define DESC_CJ_SCHEDULE \
    "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."
#define DESC_CJ_TIMEZONE \
    "The time zone name for the given schedule, see " \
    "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this " \
    "will default to the time zone of the kube-controller-manager process. The set of " \
    "valid time zone names and the time zone offset is loaded from the system-wide time " \
    "zone database by the API server during CronJob validation and the controller manager " \
    "during execution. If no system-wide time zone database can be found a bundled version " \
    "of the database is used instead. If the time zone name becomes invalid during the " \
    "lifetime of a CronJob or due to a change in host configuration, the controller will " \
    "stop creating new new Jobs and will create a system event with the reason " \
    "UnknownTimeZone. More information can be found in " \
    "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"
#define DESC_CJ_SUSPEND \
    "This flag tells the controller to suspend subsequent executions, it does not apply to " \
    "already started executions.  Defaults to false."
#define DESC_CJ_ACTIVE \
    "A list of pointers to currently running jobs."
#define DESC_CJ_LAST \
    "Information when was the last time the job was successfully scheduled."
#define DESC_HPA_REF \
    "scaleTargetRef points to the target resource to scale, and is used to the pods for " \
    "which metrics should be collected, as well as to actually change the replica count."
#define DESC_HPA_METRICS \
    "metrics contains the specifications for which to use to calculate the desired replica " \
    "count (the maximum replica count across all metrics will be used).  The desired " \
    "replica count is calculated multiplying the ratio between the target value and the " \
    "current value by the current number of pods.  Ergo, metrics used must decrease as the " \
    "pod count is increased, and vice-versa.  See the individual metric source types for " \
    "more information about how each type of metric must respond."
#define DESC_HPA_MIN \
    "minReplicas is the lower limit for the number of replicas to which the autoscaler can " \
    "scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha " \
    "feature gate HPAScaleToZero is enabled and at least one Object or External metric is " \
    "configured.  Scaling is active as long as at least one metric value is available."
#define DESC_HPA_MAX \
    "maxReplicas is the upper limit for the number of replicas to which the autoscaler can " \
    "scale up. It cannot be less that minReplicas."
#define DESC_HPA_REPLICAS \
    "currentReplicas is current number of replicas of pods managed by this autoscaler, as " \
    "last seen by the autoscaler."
#define DESC_LEASE_HOLDER \
    "holderIdentity contains the identity of the holder of a current lease. If Coordinated " \
    "Leader Election is used, the holder identity must be equal to the elected " \
    "LeaseCandidate.metadata.name field."
#define DESC_EPS_TYPE \
    "addressType specifies the type of address carried by this EndpointSlice. All " \
    "addresses in this slice must be the same type. This field is immutable after " \
    "creation. The following address types are currently supported: * IPv4: Represents an " \
    "IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully " \
    "Qualified Domain Name."
#define DESC_EPS_PORTS \
    "ports specifies the list of network ports exposed by each endpoint in this slice. " \
    "Each port must have a unique name. When ports is empty, it indicates that there are " \
    "no defined ports. When a port is defined with a nil port value, it indicates \"all " \
    "ports\". Each slice may include a maximum of 100 ports."
#define DESC_EPS_ENDPOINTS \
    "endpoints is a list of unique endpoints in this slice. Each slice may include a " \
    "maximum of 1000 endpoints."
#define DESC_PC_VALUE \
    "value represents the integer value of this priority class. This is the actual " \
    "priority that pods receive when they have the name of this class in their pod spec."
#define DESC_PC_DEFAULT \
    "globalDefault specifies whether this PriorityClass should be considered as the " \
    "default priority for pods that do not have any priority class. Only one PriorityClass " \
    "can be marked as `globalDefault`. However, if more than one PriorityClasses exists " \
    "with their `globalDefault` field set to true, the smallest value of such global " \
    "default PriorityClasses will be used as the default priority."
#define DESC_PC_PREEMPTION \
    "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, " \
    "PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."

/* ---- reading the object ---- */

/* The value at a dotted path ("status.nodeInfo.osImage"), or NULL when any
 * step is missing, null, or not an object. */
static json_t *tbl_at(json_t *o, const char *path)
{
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        o = json_is_object(o) ? json_object_getn(o, path, n) : NULL;
        path += n + (dot != NULL);
    }
    return json_is_null(o) ? NULL : o;
}

static bool tbl_has(json_t *o, const char *path)
{
    return tbl_at(o, path) != NULL;
}

/* A string field, "" when absent or not a string. */
static const char *tbl_str(json_t *o, const char *path)
{
    json_t *v = tbl_at(o, path);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* A string field, or def when absent (or not a string). */
static const char *tbl_str_or(json_t *o, const char *path, const char *def)
{
    json_t *v = tbl_at(o, path);
    return json_is_string(v) ? json_string_value(v) : def;
}

static int64_t tbl_int(json_t *o, const char *path, int64_t def)
{
    json_t *v = tbl_at(o, path);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) > -9e18 && json_real_value(v) < 9e18)
        return (int64_t)json_real_value(v);
    return def;
}

/* An int32 field (counts like restartCount), clamped to its range so sums
 * of them cannot overflow. */
static int64_t tbl_int32(json_t *o, const char *path, int64_t def)
{
    int64_t v = tbl_int(o, path, def);
    return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v;
}

static bool tbl_true(json_t *o, const char *path)
{
    return json_is_true(tbl_at(o, path));
}

static size_t tbl_len(json_t *o, const char *path)
{
    json_t *v = tbl_at(o, path);
    return json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0;
}

static bool tbl_streq(json_t *o, const char *path, const char *want)
{
    return strcmp(tbl_str(o, path), want) == 0;
}

/* ---- time: RFC 3339 timestamps and duration.HumanDuration ---- */

/* A metav1.Time or MicroTime; unset is Go's zero time. */
struct tbl_time {
    bool set;
    int64_t sec; /* Unix seconds */
    int32_t nsec;
};

static int64_t tbl_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool tbl_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "2006-01-02T15:04:05[.999999999](Z|+07:00)"; unset when absent or bad, and
 * for Go's zero time (0001-01-01T00:00:00Z), which Kubernetes prints as
 * unknown. */
static struct tbl_time tbl_time_at(json_t *o, const char *path)
{
    struct tbl_time t = {0};
    const char *s = tbl_str(o, path);
    int y, mo, d, h, mi, se;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) < 20 || !tbl_digits(s, 4, &y) || s[4] != '-' || !tbl_digits(s + 5, 2, &mo) ||
        s[7] != '-' || !tbl_digits(s + 8, 2, &d) || s[10] != 'T' || !tbl_digits(s + 11, 2, &h) ||
        s[13] != ':' || !tbl_digits(s + 14, 2, &mi) || s[16] != ':' ||
        !tbl_digits(s + 17, 2, &se))
        return t;
    bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || se > 59)
        return t;
    const char *p = s + 19;
    int32_t nsec = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                nsec = nsec * 10 + (*p - '0');
        if (digits == 0)
            return t;
        for (; digits < 9; digits++)
            nsec *= 10;
    }
    int64_t offset = 0;
    if (*p == 'Z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (!tbl_digits(p + 1, 2, &oh) || !tbl_digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return t;
        offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return t;
    }
    if (*p != '\0')
        return t;
    t.sec = tbl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    t.nsec = nsec;
    t.set = !(y == 1 && mo == 1 && d == 1 && h == 0 && mi == 0 && se == 0 && nsec == 0 &&
              offset == 0);
    return t;
}

/* a before b, as metav1.Time.Before; unset is earlier than everything. */
static bool tbl_before(struct tbl_time a, struct tbl_time b)
{
    if (!b.set)
        return false;
    if (!a.set)
        return true;
    return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec);
}

#define TBL_NS 1000000000LL

/* b - a in nanoseconds, saturating like Go's Time.Sub. */
static int64_t tbl_sub(int64_t b_sec, int32_t b_nsec, int64_t a_sec, int32_t a_nsec)
{
    int64_t ds;
    if (__builtin_sub_overflow(b_sec, a_sec, &ds))
        return b_sec > a_sec ? INT64_MAX : INT64_MIN;
    if (ds > INT64_MAX / TBL_NS - 1)
        return INT64_MAX;
    if (ds < INT64_MIN / TBL_NS + 1)
        return INT64_MIN;
    return ds * TBL_NS + (b_nsec - a_nsec);
}

/* duration.HumanDuration: about two significant figures, "0s" .. "10y". */
static void tbl_human(char *buf, size_t len, int64_t d)
{
    const int64_t minute = 60 * TBL_NS, hour = 60 * minute;
    int64_t seconds = d / TBL_NS;
    if (seconds < -1) {
        snprintf(buf, len, "<invalid>");
        return;
    }
    if (seconds < 0) {
        snprintf(buf, len, "0s");
        return;
    }
    if (seconds < 60 * 2) {
        snprintf(buf, len, "%llds", (long long)seconds);
        return;
    }
    int64_t minutes = d / minute;
    if (minutes < 10) {
        int64_t s = seconds % 60;
        if (s == 0)
            snprintf(buf, len, "%lldm", (long long)minutes);
        else
            snprintf(buf, len, "%lldm%llds", (long long)minutes, (long long)s);
        return;
    }
    if (minutes < 60 * 3) {
        snprintf(buf, len, "%lldm", (long long)minutes);
        return;
    }
    int64_t hours = d / hour;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0)
            snprintf(buf, len, "%lldh", (long long)hours);
        else
            snprintf(buf, len, "%lldh%lldm", (long long)hours, (long long)m);
    } else if (hours < 48) {
        snprintf(buf, len, "%lldh", (long long)hours);
    } else if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0)
            snprintf(buf, len, "%lldd", (long long)(hours / 24));
        else
            snprintf(buf, len, "%lldd%lldh", (long long)(hours / 24), (long long)h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(buf, len, "%lldd", (long long)(hours / 24));
    } else if (hours < 24 * 365 * 8) {
        int64_t dy = (hours / 24) % 365;
        if (dy == 0)
            snprintf(buf, len, "%lldy", (long long)(hours / 24 / 365));
        else
            snprintf(buf, len, "%lldy%lldd", (long long)(hours / 24 / 365), (long long)dy);
    } else {
        snprintf(buf, len, "%lldy", (long long)(hours / 24 / 365));
    }
}

/* ---- building a row ---- */

struct tbl_row {
    json_t *obj;   /* the object being printed */
    int64_t now;   /* wall clock, Unix seconds */
    json_t *cells; /* the row, one value per column */
};

/* translateTimestampSince: the age of t, "<unknown>" when unset. */
static void tbl_since(const struct tbl_row *r, struct tbl_time t, char *buf, size_t len)
{
    if (!t.set)
        snprintf(buf, len, "<unknown>");
    else
        tbl_human(buf, len, tbl_sub(r->now, 0, t.sec, t.nsec));
}

static void cell_str(struct tbl_row *r, const char *s)
{
    json_t *v = json_string(s);
    json_array_append_new(r->cells, v ? v : json_string(""));
}

static void cell_fmt(struct tbl_row *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cell_fmt(struct tbl_row *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    cell_str(r, s);
    free(s);
}

static void cell_int(struct tbl_row *r, int64_t v)
{
    json_array_append_new(r->cells, json_integer(v));
}

static void cell_bool(struct tbl_row *r, bool v)
{
    json_array_append_new(r->cells, json_boolean(v));
}

/* The text in b (or fallback when b is empty), and b is freed. */
static void cell_buf(struct tbl_row *r, struct ubuf *b, const char *fallback)
{
    cell_str(r, b->len ? b->data : fallback);
    ubuf_free(b);
}

/* A string field, or fallback when it is absent or empty. */
static void cell_field(struct tbl_row *r, const char *path, const char *fallback)
{
    const char *s = tbl_str(r->obj, path);
    cell_str(r, *s ? s : fallback);
}

static void cell_since(struct tbl_row *r, const char *path)
{
    char buf[32];
    tbl_since(r, tbl_time_at(r->obj, path), buf, sizeof buf);
    cell_str(r, buf);
}

static void cell_name(struct tbl_row *r)
{
    cell_str(r, tbl_str(r->obj, "metadata.name"));
}

static void cell_age(struct tbl_row *r)
{
    cell_since(r, "metadata.creationTimestamp");
}

static void tbl_sep(struct ubuf *b, const char *sep)
{
    if (b->len)
        ubuf_appendf(b, "%s", sep);
}

/* ---- shared formatting ---- */

/* layoutContainerCells: the names and the images of containers, each joined
 * by commas. */
static void cells_containers(struct tbl_row *r, const char *path)
{
    json_t *cs = tbl_at(r->obj, path), *c;
    struct ubuf names = {0}, images = {0};
    size_t i;
    json_array_foreach(cs, i, c) {
        ubuf_appendf(&names, "%s%s", i ? "," : "", tbl_str(c, "name"));
        ubuf_appendf(&images, "%s%s", i ? "," : "", tbl_str(c, "image"));
    }
    cell_buf(r, &names, "");
    cell_buf(r, &images, "");
}

static int tbl_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels.FormatLabels: "k=v" pairs of a string map sorted by key, "<none>"
 * when there are none. */
static void cell_labels(struct tbl_row *r, const char *path)
{
    json_t *m = tbl_at(r->obj, path);
    size_t n = json_is_object(m) ? json_object_size(m) : 0, i = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof *keys, tbl_strcmp);
    struct ubuf b = {0};
    for (i = 0; i < n; i++) {
        json_t *val = json_object_get(m, keys[i]);
        tbl_sep(&b, ",");
        ubuf_appendf(&b, "%s=%s", keys[i], json_is_string(val) ? json_string_value(val) : "");
    }
    free(keys);
    cell_buf(r, &b, "<none>");
}

/* One requirement of a LabelSelector, for printing. */
struct tbl_req {
    size_t at;       /* its place in the selector, to keep the sort stable */
    const char *key;
    const char *op;  /* "=", "in", "notin", "" (exists), "!" (does not exist) */
    json_t *values;  /* the value of "=", or the values array */
};

static int tbl_req_cmp(const void *x, const void *y)
{
    const struct tbl_req *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

/* Requirement.String() */
static void tbl_req_format(struct ubuf *b, const struct tbl_req *q)
{
    if (strcmp(q->op, "!") == 0) {
        ubuf_appendf(b, "!%s", q->key);
        return;
    }
    if (!*q->op) {
        ubuf_appendf(b, "%s", q->key);
        return;
    }
    if (strcmp(q->op, "=") == 0) {
        ubuf_appendf(b, "%s=%s", q->key, json_string_value(q->values));
        return;
    }
    size_t n = json_array_size(q->values);
    const char **vals = xmalloc((n ? n : 1) * sizeof *vals);
    for (size_t i = 0; i < n; i++)
        vals[i] = json_string_value(json_array_get(q->values, i));
    qsort(vals, n, sizeof *vals, tbl_strcmp);
    ubuf_appendf(b, "%s %s (", q->key, q->op);
    for (size_t i = 0; i < n; i++)
        ubuf_appendf(b, "%s%s", i ? "," : "", vals[i]);
    ubuf_appendf(b, ")");
    free(vals);
}

/* LabelSelectorAsSelector(sel).String(): the requirements sorted by key
 * (stably: matchLabels before matchExpressions of the same key), joined by
 * commas; "" for a nil selector (labels.Nothing) and an empty one. false if
 * Kubernetes would refuse the selector. */
static bool tbl_selector_string(json_t *sel, struct ubuf *out)
{
    struct kube_selector *parsed = kube_selector_from_json(sel, NULL, 0);
    if (!parsed)
        return false;
    kube_selector_free(parsed);
    json_t *ml = tbl_at(sel, "matchLabels"), *me = tbl_at(sel, "matchExpressions");
    size_t n = (json_is_object(ml) ? json_object_size(ml) : 0) +
               (json_is_array(me) ? json_array_size(me) : 0);
    struct tbl_req *reqs = xmalloc((n ? n : 1) * sizeof *reqs), q;
    size_t k = 0, i;
    const char *key;
    json_t *v;
    json_object_foreach(ml, key, v) {
        reqs[k] = (struct tbl_req){k, key, "=", v};
        k++;
    }
    json_array_foreach(me, i, v) {
        const char *op = tbl_str(v, "operator");
        q = (struct tbl_req){k, tbl_str(v, "key"), "", tbl_at(v, "values")};
        q.op = !strcmp(op, "In")       ? "in"
               : !strcmp(op, "NotIn")  ? "notin"
               : !strcmp(op, "Exists") ? ""
                                       : "!";
        reqs[k++] = q;
    }
    qsort(reqs, k, sizeof *reqs, tbl_req_cmp);
    for (i = 0; i < k; i++) {
        tbl_sep(out, ",");
        tbl_req_format(out, &reqs[i]);
    }
    free(reqs);
    return true;
}

/* metav1.FormatLabelSelector: "<none>" when empty, "<error>" when invalid. */
static void cell_selector(struct tbl_row *r, const char *path)
{
    struct ubuf b = {0};
    if (!tbl_selector_string(tbl_at(r->obj, path), &b)) {
        ubuf_free(&b);
        cell_str(r, "<error>");
        return;
    }
    cell_buf(r, &b, "<none>");
}

/* "a,b,c + 2 more..." after max items, as listWithMoreString and friends. */
struct tbl_list {
    struct ubuf b;
    size_t shown, count, max;
};

static void tbl_list_add(struct tbl_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tbl_list_add(struct tbl_list *l, const char *fmt, ...)
{
    l->count++;
    if (l->shown == l->max)
        return;
    l->shown++;
    tbl_sep(&l->b, ",");
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    ubuf_appendf(&l->b, "%s", s);
    free(s);
}

static void cell_list(struct tbl_row *r, struct tbl_list *l, const char *if_empty)
{
    if (l->count > l->max)
        ubuf_appendf(&l->b, " + %zu more...", l->count - l->max);
    cell_buf(r, &l->b, if_empty);
}

/* net.JoinHostPort */
static void tbl_list_hostport(struct tbl_list *l, const char *host, int64_t port)
{
    if (strchr(host, ':'))
        tbl_list_add(l, "[%s]:%lld", host, (long long)port);
    else
        tbl_list_add(l, "%s:%lld", host, (long long)port);
}

/* A resource.Quantity as stored: a string, or a JSON number. */
static void tbl_quantity(char *buf, size_t len, json_t *q)
{
    if (json_is_string(q))
        snprintf(buf, len, "%s", json_string_value(q));
    else if (json_is_integer(q))
        snprintf(buf, len, "%lld", (long long)json_integer_value(q));
    else if (json_is_real(q))
        snprintf(buf, len, "%g", json_real_value(q));
    else
        snprintf(buf, len, "<nil>");
}

/* intstr.IntOrString.String() */
static void tbl_int_or_string(char *buf, size_t len, json_t *v)
{
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, len, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* The first condition of a type in a conditions list, or NULL. */
static json_t *tbl_condition(json_t *o, const char *path, const char *type)
{
    json_t *c;
    size_t i;
    json_array_foreach(tbl_at(o, path), i, c) {
        if (tbl_streq(c, "type", type))
            return c;
    }
    return NULL;
}

static bool tbl_condition_true(json_t *o, const char *path, const char *type)
{
    return tbl_streq(tbl_condition(o, path, type), "status", "True");
}

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
        cell_str(r, "<none>");
        return;
    }
    int64_t ok = 0;
    json_array_foreach(gates, i, g) {
        ok += tbl_condition_true(r->obj, "status.conditions", tbl_str(g, "conditionType"));
    }
    cell_fmt(r, "%lld/%zu", (long long)ok, n);
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

static void pod_cells(struct tbl_row *r)
{
    struct pod_summary p = {0};
    pod_summarize(r->obj, &p);
    cell_name(r);
    cell_fmt(r, "%lld/%lld", (long long)p.ready, (long long)p.total);
    cell_str(r, p.reason.data);
    if (p.restarts != 0 && p.last_restart.set) {
        char ago[32];
        tbl_since(r, p.last_restart, ago, sizeof ago);
        cell_fmt(r, "%lld (%s ago)", (long long)p.restarts, ago);
    } else {
        cell_fmt(r, "%lld", (long long)p.restarts);
    }
    ubuf_free(&p.reason);
    cell_age(r);
    cell_str(r, pod_ip(r->obj));
    cell_field(r, "spec.nodeName", "<none>");
    cell_field(r, "status.nominatedNodeName", "<none>");
    cell_readiness_gates(r);
}

/* ---- core kinds ---- */

static void namespace_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_str(r, tbl_str_or(r->obj, "status.phase", "Active"));
    cell_age(r);
}

/* The first address of a type, or "<none>" */
static void cell_node_address(struct tbl_row *r, const char *type)
{
    json_t *a;
    size_t i;
    json_array_foreach(tbl_at(r->obj, "status.addresses"), i, a) {
        if (tbl_streq(a, "type", type)) {
            cell_str(r, tbl_str(a, "address"));
            return;
        }
    }
    cell_str(r, "<none>");
}

/* Ready, NotReady or Unknown from the (last) Ready condition, then
 * SchedulingDisabled for a cordoned node. */
static void cell_node_status(struct tbl_row *r)
{
    json_t *c, *ready = NULL;
    size_t i;
    json_array_foreach(tbl_at(r->obj, "status.conditions"), i, c) {
        if (tbl_streq(c, "type", "Ready"))
            ready = c;
    }
    const char *status = !ready                              ? "Unknown"
                         : tbl_streq(ready, "status", "True") ? "Ready"
                                                              : "NotReady";
    bool cordoned = tbl_true(r->obj, "spec.unschedulable");
    cell_fmt(r, "%s%s", status, cordoned ? ",SchedulingDisabled" : "");
}

/* findNodeRoles: node-role.kubernetes.io/<role> keys and the value of
 * kubernetes.io/role, sorted and without repeats; "<none>" */
static void cell_node_roles(struct tbl_row *r)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    json_t *labels = tbl_at(r->obj, "metadata.labels"), *v;
    size_t n = 0, cap = json_is_object(labels) ? json_object_size(labels) : 0;
    const char **roles = xmalloc((cap ? cap : 1) * sizeof *roles);
    const char *k;
    if (cap)
        json_object_foreach(labels, k, v) {
            if (strncmp(k, prefix, sizeof prefix - 1) == 0 && k[sizeof prefix - 1])
                roles[n++] = k + sizeof prefix - 1;
            else if (strcmp(k, "kubernetes.io/role") == 0 && json_is_string(v) &&
                     *json_string_value(v))
                roles[n++] = json_string_value(v);
        }
    qsort(roles, n, sizeof *roles, tbl_strcmp);
    struct ubuf b = {0};
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(roles[i], roles[i - 1]) != 0) {
            tbl_sep(&b, ",");
            ubuf_appendf(&b, "%s", roles[i]);
        }
    free(roles);
    cell_buf(r, &b, "<none>");
}

static void node_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_node_status(r);
    cell_node_roles(r);
    cell_age(r);
    cell_str(r, tbl_str(r->obj, "status.nodeInfo.kubeletVersion"));
    cell_node_address(r, "InternalIP");
    cell_node_address(r, "ExternalIP");
    cell_field(r, "status.nodeInfo.osImage", "<unknown>");
    cell_field(r, "status.nodeInfo.kernelVersion", "<unknown>");
    cell_field(r, "status.nodeInfo.containerRuntimeVersion", "<unknown>");
}

/* spec.clusterIP, else the first of spec.clusterIPs, else "<none>" */
static const char *service_cluster_ip(json_t *svc)
{
    const char *ip = tbl_str(svc, "spec.clusterIP");
    if (!*ip)
        ip = json_string_value(json_array_get(tbl_at(svc, "spec.clusterIPs"), 0));
    return ip && *ip ? ip : "<none>";
}

static void tbl_join_strings(struct ubuf *b, json_t *list)
{
    json_t *v;
    size_t i;
    json_array_foreach(list, i, v) {
        tbl_sep(b, ",");
        ubuf_appendf(b, "%s", json_is_string(v) ? json_string_value(v) : "");
    }
}

/* loadBalancerStatusStringer (wide): the ingress IPs, or hostnames, sorted
 * and without repeats */
static void service_lb_ips(json_t *svc, struct ubuf *b)
{
    json_t *in = tbl_at(svc, "status.loadBalancer.ingress"), *e;
    size_t n = 0, i;
    const char **v = xmalloc((json_is_array(in) && json_array_size(in) ? json_array_size(in) : 1) *
                             sizeof *v);
    json_array_foreach(in, i, e) {
        const char *s = *tbl_str(e, "ip") ? tbl_str(e, "ip") : tbl_str(e, "hostname");
        if (*s)
            v[n++] = s;
    }
    qsort(v, n, sizeof *v, tbl_strcmp);
    for (i = 0; i < n; i++)
        if (i == 0 || strcmp(v[i], v[i - 1]) != 0) {
            tbl_sep(b, ",");
            ubuf_appendf(b, "%s", v[i]);
        }
    free(v);
}

/* getServiceExternalIP, as the server renders it (wide) */
static void cell_service_external_ip(struct tbl_row *r, const char *type)
{
    json_t *ext = tbl_at(r->obj, "spec.externalIPs");
    bool has_ext = json_is_array(ext) && json_array_size(ext) > 0;
    struct ubuf b = {0};
    if (!strcmp(type, "ClusterIP") || !strcmp(type, "NodePort")) {
        tbl_join_strings(&b, ext);
        cell_buf(r, &b, "<none>");
    } else if (!strcmp(type, "LoadBalancer")) {
        service_lb_ips(r->obj, &b);
        if (has_ext)
            tbl_join_strings(&b, ext);
        cell_buf(r, &b, "<pending>");
    } else if (!strcmp(type, "ExternalName")) {
        cell_str(r, tbl_str(r->obj, "spec.externalName"));
    } else {
        cell_str(r, "<unknown>");
    }
}

/* makePortString: "80/TCP", "80:30080/TCP", joined by commas */
static void cell_service_ports(struct tbl_row *r)
{
    json_t *p;
    size_t i;
    struct ubuf b = {0};
    json_array_foreach(tbl_at(r->obj, "spec.ports"), i, p) {
        tbl_sep(&b, ",");
        ubuf_appendf(&b, "%lld", (long long)tbl_int(p, "port", 0));
        if (tbl_int(p, "nodePort", 0) > 0)
            ubuf_appendf(&b, ":%lld", (long long)tbl_int(p, "nodePort", 0));
        ubuf_appendf(&b, "/%s", tbl_str_or(p, "protocol", "TCP"));
    }
    cell_buf(r, &b, "<none>");
}

static void service_cells(struct tbl_row *r)
{
    const char *type = tbl_str_or(r->obj, "spec.type", "ClusterIP");
    cell_name(r);
    cell_str(r, type);
    cell_str(r, service_cluster_ip(r->obj));
    cell_service_external_ip(r, type);
    cell_service_ports(r);
    cell_age(r);
    cell_labels(r, "spec.selector");
}

/* formatEndpoints: "ip:port" for every address and port, the first three */
static void endpoints_cells(struct tbl_row *r)
{
    json_t *subsets = tbl_at(r->obj, "subsets"), *ss, *a, *p;
    size_t i, j, k;
    cell_name(r);
    if (!json_is_array(subsets) || json_array_size(subsets) == 0) {
        cell_str(r, "<none>");
    } else {
        struct tbl_list l = {.max = 3};
        json_array_foreach(subsets, i, ss) {
            json_t *addrs = tbl_at(ss, "addresses"), *ports = tbl_at(ss, "ports");
            if (!json_is_array(ports) || json_array_size(ports) == 0) {
                json_array_foreach(addrs, j, a) {
                    tbl_list_add(&l, "%s", tbl_str(a, "ip"));
                }
                continue;
            }
            json_array_foreach(ports, k, p) {
                json_array_foreach(addrs, j, a) {
                    tbl_list_hostport(&l, tbl_str(a, "ip"), tbl_int(p, "port", 0));
                }
            }
        }
        cell_list(r, &l, "");
    }
    cell_age(r);
}

static void configmap_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_int(r, (int64_t)(tbl_len(r->obj, "data") + tbl_len(r->obj, "binaryData")));
    cell_age(r);
}

static void secret_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_str(r, tbl_str_or(r->obj, "type", "Opaque"));
    cell_int(r, (int64_t)tbl_len(r->obj, "data"));
    cell_age(r);
}

static void serviceaccount_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_int(r, (int64_t)tbl_len(r->obj, "secrets"));
    cell_age(r);
}

/* GetAccessModesAsString: RWO, ROX, RWX, RWOP, in that order, once each */
static void cell_access_modes(struct tbl_row *r, const char *path)
{
    static const char *const modes[][2] = {{"ReadWriteOnce", "RWO"},
                                           {"ReadOnlyMany", "ROX"},
                                           {"ReadWriteMany", "RWX"},
                                           {"ReadWriteOncePod", "RWOP"}};
    json_t *list = tbl_at(r->obj, path), *m;
    struct ubuf b = {0};
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        size_t i;
        json_array_foreach(list, i, m) {
            if (json_is_string(m) && strcmp(json_string_value(m), modes[k][0]) == 0) {
                tbl_sep(&b, ",");
                ubuf_appendf(&b, "%s", modes[k][1]);
                break;
            }
        }
    }
    cell_buf(r, &b, "");
}

static void cell_quantity(struct tbl_row *r, const char *path)
{
    char buf[128];
    json_t *q = tbl_at(r->obj, path);
    if (q)
        tbl_quantity(buf, sizeof buf, q);
    else
        snprintf(buf, sizeof buf, "0"); /* the zero Quantity */
    cell_str(r, buf);
}

/* The beta storage-class annotation wins over spec.storageClassName. */
static void cell_storage_class(struct tbl_row *r)
{
    json_t *ann = json_object_get(tbl_at(r->obj, "metadata.annotations"),
                                  "volume.beta.kubernetes.io/storage-class");
    cell_str(r, json_is_string(ann) ? json_string_value(ann)
                                    : tbl_str(r->obj, "spec.storageClassName"));
}

/* the phase, or Terminating once deletion has begun */
static void cell_volume_phase(struct tbl_row *r)
{
    bool deleting = tbl_has(r->obj, "metadata.deletionTimestamp");
    cell_str(r, deleting ? "Terminating" : tbl_str_or(r->obj, "status.phase", "Pending"));
}

static void pv_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_quantity(r, "spec.capacity.storage");
    cell_access_modes(r, "spec.accessModes");
    cell_str(r, tbl_str(r->obj, "spec.persistentVolumeReclaimPolicy"));
    cell_volume_phase(r);
    if (tbl_has(r->obj, "spec.claimRef"))
        cell_fmt(r, "%s/%s", tbl_str(r->obj, "spec.claimRef.namespace"),
                 tbl_str(r->obj, "spec.claimRef.name"));
    else
        cell_str(r, "");
    cell_storage_class(r);
    cell_str(r, tbl_str_or(r->obj, "spec.volumeAttributesClassName", "<unset>"));
    cell_str(r, tbl_str(r->obj, "status.reason"));
    cell_age(r);
    cell_str(r, tbl_str_or(r->obj, "spec.volumeMode", "<unset>"));
}

static void pvc_cells(struct tbl_row *r)
{
    bool bound = *tbl_str(r->obj, "spec.volumeName") != '\0';
    cell_name(r);
    cell_volume_phase(r);
    cell_str(r, tbl_str(r->obj, "spec.volumeName"));
    if (bound) {
        cell_quantity(r, "status.capacity.storage");
        cell_access_modes(r, "status.accessModes");
    } else {
        cell_str(r, "");
        cell_str(r, "");
    }
    cell_storage_class(r);
    cell_str(r, tbl_str_or(r->obj, "spec.volumeAttributesClassName", "<unset>"));
    cell_age(r);
    cell_str(r, tbl_str_or(r->obj, "spec.volumeMode", "<unset>"));
}

/* ---- Event ---- */

/* formatEventSource: component (or reportingComponent), then ", host" (or
 * reportingInstance) when there is one */
static void cell_event_source(struct tbl_row *r)
{
    const char *component = tbl_str(r->obj, "source.component");
    const char *host = tbl_str(r->obj, "source.host");
    if (!*component)
        component = tbl_str(r->obj, "reportingComponent");
    if (!*host)
        host = tbl_str(r->obj, "reportingInstance");
    cell_fmt(r, "%s%s%s", component, *host ? ", " : "", host);
}

/* strings.TrimSpace, for ASCII space */
static void cell_trimmed(struct tbl_row *r, const char *s)
{
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
        n--;
    cell_fmt(r, "%.*s", (int)n, s);
}

/* "kind/name", the kind lower-cased; just the kind when there is no name */
static void cell_event_object(struct tbl_row *r)
{
    struct ubuf b = {0};
    for (const char *k = tbl_str(r->obj, "involvedObject.kind"); *k; k++) {
        char c = *k >= 'A' && *k <= 'Z' ? (char)(*k - 'A' + 'a') : *k;
        ubuf_append(&b, &c, 1);
    }
    const char *name = tbl_str(r->obj, "involvedObject.name");
    if (*name)
        ubuf_appendf(&b, "/%s", name);
    cell_buf(r, &b, "");
}

static void event_cells(struct tbl_row *r)
{
    char first[32], last[32];
    struct tbl_time ft = tbl_time_at(r->obj, "firstTimestamp");
    tbl_since(r, ft.set ? ft : tbl_time_at(r->obj, "eventTime"), first, sizeof first);
    struct tbl_time lt = tbl_time_at(r->obj, "lastTimestamp");
    if (lt.set)
        tbl_since(r, lt, last, sizeof last);
    else
        snprintf(last, sizeof last, "%s", first);
    int64_t count = tbl_int(r->obj, "count", 0);
    if (tbl_has(r->obj, "series")) {
        tbl_since(r, tbl_time_at(r->obj, "series.lastObservedTime"), last, sizeof last);
        count = tbl_int(r->obj, "series.count", 0);
    } else if (count == 0) {
        count = 1; /* singleton events of the new API have no count */
    }
    cell_str(r, last);
    cell_str(r, tbl_str(r->obj, "type"));
    cell_str(r, tbl_str(r->obj, "reason"));
    cell_event_object(r);
    cell_str(r, tbl_str(r->obj, "involvedObject.fieldPath"));
    cell_event_source(r);
    cell_trimmed(r, tbl_str(r->obj, "message"));
    cell_str(r, first);
    cell_int(r, count);
    cell_name(r);
}

/* ---- apps ---- */

static void deployment_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_fmt(r, "%lld/%lld", (long long)tbl_int(r->obj, "status.readyReplicas", 0),
             (long long)tbl_int(r->obj, "spec.replicas", 1));
    cell_int(r, tbl_int(r->obj, "status.updatedReplicas", 0));
    cell_int(r, tbl_int(r->obj, "status.availableReplicas", 0));
    cell_age(r);
    cells_containers(r, "spec.template.spec.containers");
    /* printDeployment prints selector.String() itself: "" when empty,
     * "<invalid>" when Kubernetes would refuse it */
    struct ubuf b = {0};
    if (tbl_selector_string(tbl_at(r->obj, "spec.selector"), &b))
        cell_buf(r, &b, "");
    else {
        ubuf_free(&b);
        cell_str(r, "<invalid>");
    }
}

static void replicaset_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_int(r, tbl_int(r->obj, "spec.replicas", 1));
    cell_int(r, tbl_int(r->obj, "status.replicas", 0));
    cell_int(r, tbl_int(r->obj, "status.readyReplicas", 0));
    cell_age(r);
    cells_containers(r, "spec.template.spec.containers");
    cell_selector(r, "spec.selector");
}

static void daemonset_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_int(r, tbl_int(r->obj, "status.desiredNumberScheduled", 0));
    cell_int(r, tbl_int(r->obj, "status.currentNumberScheduled", 0));
    cell_int(r, tbl_int(r->obj, "status.numberReady", 0));
    cell_int(r, tbl_int(r->obj, "status.updatedNumberScheduled", 0));
    cell_int(r, tbl_int(r->obj, "status.numberAvailable", 0));
    cell_labels(r, "spec.template.spec.nodeSelector");
    cell_age(r);
    cells_containers(r, "spec.template.spec.containers");
    cell_selector(r, "spec.selector");
}

static void statefulset_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_fmt(r, "%lld/%lld", (long long)tbl_int(r->obj, "status.readyReplicas", 0),
             (long long)tbl_int(r->obj, "spec.replicas", 1));
    cell_age(r);
    cells_containers(r, "spec.template.spec.containers");
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
        cell_str(r, "<none>");
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
    cell_buf(r, &b, "");
}

static void controllerrevision_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_controller(r);
    cell_int(r, tbl_int(r->obj, "revision", 0));
    cell_age(r);
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
        cell_fmt(r, "%lld/%lld", done, (long long)tbl_int(r->obj, "spec.completions", 0));
    else if (parallelism > 1)
        cell_fmt(r, "%lld/1 of %lld", done, (long long)parallelism);
    else
        cell_fmt(r, "%lld/1", done);
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
    cell_str(r, buf);
}

static void job_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_str(r, job_status(r->obj));
    cell_job_completions(r);
    cell_job_duration(r);
    cell_age(r);
    cells_containers(r, "spec.template.spec.containers");
    cell_selector(r, "spec.selector");
}

static void cronjob_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_str(r, tbl_str(r->obj, "spec.schedule"));
    cell_str(r, tbl_str_or(r->obj, "spec.timeZone", "<none>"));
    json_t *suspend = tbl_at(r->obj, "spec.suspend");
    cell_str(r, json_is_boolean(suspend) ? (json_is_true(suspend) ? "True" : "False") : "False");
    cell_int(r, (int64_t)tbl_len(r->obj, "status.active"));
    if (tbl_has(r->obj, "status.lastScheduleTime"))
        cell_since(r, "status.lastScheduleTime");
    else
        cell_str(r, "<none>");
    cell_age(r);
    cells_containers(r, "spec.jobTemplate.spec.template.spec.containers");
    cell_selector(r, "spec.jobTemplate.spec.selector");
}

/* ---- autoscaling ---- */

/* One metric of formatHPAMetrics: "current/target", with the resource name
 * for Resource metrics and "(avg)" for average values of Object and
 * External ones. */
static void hpa_metric(struct ubuf *b, json_t *spec, json_t *status)
{
    static const struct {
        const char *type, *field;
        bool named, avg_suffix;
    } kinds[] = {
        {"External", "external", false, true},
        {"Pods", "pods", false, false},
        {"Object", "object", false, true},
        {"Resource", "resource", true, false},
        {"ContainerResource", "containerResource", true, false},
    };
    const char *type = tbl_str(spec, "type");
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].type, type) != 0)
        k++;
    if (k == sizeof kinds / sizeof kinds[0]) {
        ubuf_appendf(b, "<unknown type>");
        return;
    }
    json_t *src = tbl_at(spec, kinds[k].field), *target = tbl_at(src, "target");
    json_t *cur = tbl_at(tbl_at(status, kinds[k].field), "current");
    bool have_status = tbl_has(status, kinds[k].field);
    char current[128] = "<unknown>", want[128];
    if (kinds[k].named)
        ubuf_appendf(b, "%s: ", tbl_str(src, "name"));
    bool avg = tbl_has(target, "averageValue") || !strcmp(type, "Pods");
    if (avg) {
        if (have_status && (tbl_has(cur, "averageValue") || !kinds[k].avg_suffix))
            tbl_quantity(current, sizeof current, tbl_at(cur, "averageValue"));
        tbl_quantity(want, sizeof want, tbl_at(target, "averageValue"));
        ubuf_appendf(b, "%s/%s%s", current, want, kinds[k].avg_suffix ? " (avg)" : "");
    } else if (kinds[k].named) {
        if (have_status && tbl_has(cur, "averageUtilization"))
            snprintf(current, sizeof current, "%lld%%",
                     (long long)tbl_int(cur, "averageUtilization", 0));
        if (tbl_has(target, "averageUtilization"))
            snprintf(want, sizeof want, "%lld%%",
                     (long long)tbl_int(target, "averageUtilization", 0));
        else
            snprintf(want, sizeof want, "<auto>");
        ubuf_appendf(b, "%s/%s", current, want);
    } else {
        if (have_status)
            tbl_quantity(current, sizeof current, tbl_at(cur, "value"));
        tbl_quantity(want, sizeof want, tbl_at(target, "value"));
        ubuf_appendf(b, "%s/%s", current, want);
    }
}

/* formatHPAMetrics: the first two metrics, then "+ N more..." */
static void cell_hpa_targets(struct tbl_row *r)
{
    json_t *specs = tbl_at(r->obj, "spec.metrics");
    json_t *statuses = tbl_at(r->obj, "status.currentMetrics");
    size_t n = json_is_array(specs) ? json_array_size(specs) : 0;
    if (n == 0) {
        cell_str(r, "<none>");
        return;
    }
    struct ubuf b = {0};
    for (size_t i = 0; i < n && i < 2; i++) {
        tbl_sep(&b, ", ");
        hpa_metric(&b, json_array_get(specs, i), json_array_get(statuses, i));
    }
    if (n > 2)
        ubuf_appendf(&b, " + %zu more...", n - 2);
    cell_buf(r, &b, "");
}

static void hpa_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_fmt(r, "%s/%s", tbl_str(r->obj, "spec.scaleTargetRef.kind"),
             tbl_str(r->obj, "spec.scaleTargetRef.name"));
    cell_hpa_targets(r);
    cell_fmt(r, "%lld", (long long)tbl_int(r->obj, "spec.minReplicas", 1));
    cell_int(r, tbl_int(r->obj, "spec.maxReplicas", 0));
    cell_int(r, tbl_int(r->obj, "status.currentReplicas", 0));
    cell_age(r);
}

/* ---- the rest ---- */

static void lease_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_str(r, tbl_str(r->obj, "spec.holderIdentity"));
    cell_age(r);
}

static void endpointslice_cells(struct tbl_row *r)
{
    json_t *v;
    size_t i, j;
    cell_name(r);
    cell_str(r, tbl_str(r->obj, "addressType"));
    struct tbl_list ports = {.max = 3};
    json_array_foreach(tbl_at(r->obj, "ports"), i, v) {
        if (tbl_has(v, "port"))
            tbl_list_add(&ports, "%lld", (long long)tbl_int(v, "port", 0));
        else if (tbl_has(v, "name"))
            tbl_list_add(&ports, "%s", tbl_str(v, "name"));
        else
            tbl_list_add(&ports, "*");
    }
    cell_list(r, &ports, "<unset>");
    struct tbl_list addrs = {.max = 3};
    json_array_foreach(tbl_at(r->obj, "endpoints"), i, v) {
        json_t *a;
        json_array_foreach(tbl_at(v, "addresses"), j, a) {
            tbl_list_add(&addrs, "%s", json_is_string(a) ? json_string_value(a) : "");
        }
    }
    cell_list(r, &addrs, "<unset>");
    cell_age(r);
}

static void priorityclass_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_int(r, tbl_int(r->obj, "value", 0));
    cell_bool(r, tbl_true(r->obj, "globalDefault"));
    cell_age(r);
    cell_str(r, tbl_str_or(r->obj, "preemptionPolicy", "PreemptLowerPriority"));
}

static void cell_int_or_string(struct tbl_row *r, const char *path)
{
    char buf[64];
    json_t *v = tbl_at(r->obj, path);
    if (!v)
        snprintf(buf, sizeof buf, "N/A");
    else
        tbl_int_or_string(buf, sizeof buf, v);
    cell_str(r, buf);
}

static void pdb_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_int_or_string(r, "spec.minAvailable");
    cell_int_or_string(r, "spec.maxUnavailable");
    cell_int(r, tbl_int(r->obj, "status.disruptionsAllowed", 0));
    cell_age(r);
}

static void default_cells(struct tbl_row *r)
{
    cell_name(r);
    cell_age(r);
}

/* ---- the columns of each kind ---- */

struct tbl_col {
    const char *name, *type, *format, *description;
    int priority; /* 1: only in -o wide */
};

#define COL_NAME {"Name", "string", "name", DESC_NAME, 0}
#define COL_AGE {"Age", "string", "", DESC_AGE, 0}
#define COL_CONTAINERS {"Containers", "string", "", "Names of each container in the template.", 1}
#define COL_IMAGES                                                                                 \
    {"Images", "string", "", "Images referenced by each container in the template.", 1}
#define READY_PODS "Number of the pod with ready state"

static const struct tbl_col pod_cols[] = {
    COL_NAME,
    {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted and when the last "
     "container in this pod has restarted.",
     0},
    COL_AGE,
    {"IP", "string", "", DESC_POD_IP, 1},
    {"Node", "string", "", DESC_POD_NODE, 1},
    {"Nominated Node", "string", "", DESC_POD_NOMINATED, 1},
    {"Readiness Gates", "string", "", DESC_POD_GATES, 1},
};

static const struct tbl_col namespace_cols[] = {
    COL_NAME,
    {"Status", "string", "", "The status of the namespace", 0},
    COL_AGE,
};

static const struct tbl_col node_cols[] = {
    COL_NAME,
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    COL_AGE,
    {"Version", "string", "", DESC_NODE_VERSION, 0},
    {"Internal-IP", "string", "", DESC_NODE_ADDRESSES, 1},
    {"External-IP", "string", "", DESC_NODE_ADDRESSES, 1},
    {"OS-Image", "string", "", DESC_NODE_OS, 1},
    {"Kernel-Version", "string", "", DESC_NODE_KERNEL, 1},
    {"Container-Runtime", "string", "", DESC_NODE_RUNTIME, 1},
};

static const struct tbl_col service_cols[] = {
    COL_NAME,
    {"Type", "string", "", DESC_SVC_TYPE, 0},
    {"Cluster-IP", "string", "", DESC_SVC_CLUSTER_IP, 0},
    {"External-IP", "string", "", DESC_SVC_EXTERNAL_IPS, 0},
    {"Port(s)", "string", "", DESC_SVC_PORTS, 0},
    COL_AGE,
    {"Selector", "string", "", DESC_SVC_SELECTOR, 1},
};

static const struct tbl_col endpoints_cols[] = {
    COL_NAME,
    {"Endpoints", "string", "", DESC_EP_SUBSETS, 0},
    COL_AGE,
};

static const struct tbl_col configmap_cols[] = {
    COL_NAME,
    {"Data", "string", "", DESC_CM_DATA, 0},
    COL_AGE,
};

static const struct tbl_col secret_cols[] = {
    COL_NAME,
    {"Type", "string", "", DESC_SECRET_TYPE, 0},
    {"Data", "string", "", DESC_SECRET_DATA, 0},
    COL_AGE,
};

static const struct tbl_col pv_cols[] = {
    COL_NAME,
    {"Capacity", "string", "", DESC_PV_CAPACITY, 0},
    {"Access Modes", "string", "", DESC_PV_ACCESS, 0},
    {"Reclaim Policy", "string", "", DESC_PV_RECLAIM, 0},
    {"Status", "string", "", DESC_PV_PHASE, 0},
    {"Claim", "string", "", DESC_PV_CLAIM, 0},
    {"StorageClass", "string", "", "StorageClass of the pv", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pv", 0},
    {"Reason", "string", "", DESC_PV_REASON, 0},
    COL_AGE,
    {"VolumeMode", "string", "", DESC_PV_MODE, 1},
};

static const struct tbl_col pvc_cols[] = {
    COL_NAME,
    {"Status", "string", "", DESC_PVC_PHASE, 0},
    {"Volume", "string", "", DESC_PVC_VOLUME, 0},
    {"Capacity", "string", "", DESC_PVC_CAPACITY, 0},
    {"Access Modes", "string", "", DESC_PVC_ACCESS, 0},
    {"StorageClass", "string", "", "StorageClass of the pvc", 0},
    {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pvc", 0},
    COL_AGE,
    {"VolumeMode", "string", "", DESC_PVC_MODE, 1},
};

static const struct tbl_col event_cols[] = {
    {"Last Seen", "string", "", DESC_EV_LAST, 0},
    {"Type", "string", "", DESC_EV_TYPE, 0},
    {"Reason", "string", "", DESC_EV_REASON, 0},
    {"Object", "string", "", DESC_EV_OBJECT, 0},
    {"Subobject", "string", "", DESC_EV_SUBOBJECT, 1},
    {"Source", "string", "", DESC_EV_SOURCE, 1},
    {"Message", "string", "", DESC_EV_MESSAGE, 0},
    {"First Seen", "string", "", DESC_EV_FIRST, 1},
    {"Count", "string", "", DESC_EV_COUNT, 1},
    {"Name", "string", "name", DESC_NAME, 1},
};

static const struct tbl_col serviceaccount_cols[] = {
    COL_NAME,
    {"Secrets", "string", "", DESC_SA_SECRETS, 0},
    COL_AGE,
};

static const struct tbl_col deployment_cols[] = {
    COL_NAME,
    {"Ready", "string", "", READY_PODS, 0},
    {"Up-to-date", "string", "", DESC_DEPLOY_UPDATED, 0},
    {"Available", "string", "", DESC_DEPLOY_AVAILABLE, 0},
    COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    {"Selector", "string", "", DESC_DEPLOY_SELECTOR, 1},
};

static const struct tbl_col replicaset_cols[] = {
    COL_NAME,
    {"Desired", "integer", "", DESC_RS_DESIRED, 0},
    {"Current", "integer", "", DESC_RS_CURRENT, 0},
    {"Ready", "integer", "", DESC_RS_READY, 0},
    COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    {"Selector", "string", "", DESC_RS_SELECTOR, 1},
};

static const struct tbl_col daemonset_cols[] = {
    COL_NAME,
    {"Desired", "integer", "", DESC_DS_DESIRED, 0},
    {"Current", "integer", "", DESC_DS_CURRENT, 0},
    {"Ready", "integer", "", DESC_DS_READY, 0},
    {"Up-to-date", "integer", "", DESC_DS_UPDATED, 0},
    {"Available", "integer", "", DESC_DS_AVAILABLE, 0},
    {"Node Selector", "string", "", DESC_NODE_SELECTOR, 0},
    COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    {"Selector", "string", "", DESC_DS_SELECTOR, 1},
};

static const struct tbl_col statefulset_cols[] = {
    COL_NAME,
    {"Ready", "string", "", READY_PODS, 0},
    COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
};

static const struct tbl_col controllerrevision_cols[] = {
    COL_NAME,
    {"Controller", "string", "", "Controller of the object", 0},
    {"Revision", "string", "", DESC_CR_REVISION, 0},
    COL_AGE,
};

static const struct tbl_col job_cols[] = {
    COL_NAME,
    {"Status", "string", "", "Status of the job.", 0},
    {"Completions", "string", "", DESC_JOB_SUCCEEDED, 0},
    {"Duration", "string", "", "Time required to complete the job.", 0},
    COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    {"Selector", "string", "", DESC_JOB_SELECTOR, 1},
};

static const struct tbl_col cronjob_cols[] = {
    COL_NAME,
    {"Schedule", "string", "", DESC_CJ_SCHEDULE, 0},
    {"Timezone", "string", "", DESC_CJ_TIMEZONE, 0},
    {"Suspend", "boolean", "", DESC_CJ_SUSPEND, 0},
    {"Active", "integer", "", DESC_CJ_ACTIVE, 0},
    {"Last Schedule", "string", "", DESC_CJ_LAST, 0},
    COL_AGE,
    COL_CONTAINERS,
    COL_IMAGES,
    {"Selector", "string", "", DESC_JOB_SELECTOR, 1},
};

static const struct tbl_col hpa_cols[] = {
    COL_NAME,
    {"Reference", "string", "", DESC_HPA_REF, 0},
    {"Targets", "string", "", DESC_HPA_METRICS, 0},
    {"MinPods", "string", "", DESC_HPA_MIN, 0},
    {"MaxPods", "string", "", DESC_HPA_MAX, 0},
    {"Replicas", "string", "", DESC_HPA_REPLICAS, 0},
    COL_AGE,
};

static const struct tbl_col lease_cols[] = {
    COL_NAME,
    {"Holder", "string", "", DESC_LEASE_HOLDER, 0},
    COL_AGE,
};

static const struct tbl_col endpointslice_cols[] = {
    COL_NAME,
    {"AddressType", "string", "", DESC_EPS_TYPE, 0},
    {"Ports", "string", "", DESC_EPS_PORTS, 0},
    {"Endpoints", "string", "", DESC_EPS_ENDPOINTS, 0},
    COL_AGE,
};

static const struct tbl_col priorityclass_cols[] = {
    COL_NAME,
    {"Value", "integer", "", DESC_PC_VALUE, 0},
    {"Global-Default", "boolean", "", DESC_PC_DEFAULT, 0},
    COL_AGE,
    {"PreemptionPolicy", "string", "", DESC_PC_PREEMPTION, 0},
};

static const struct tbl_col pdb_cols[] = {
    COL_NAME,
    {"Min Available", "string", "", "The minimum number of pods that must be available.", 0},
    {"Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0},
    {"Allowed Disruptions", "integer", "",
     "Calculated number of pods that may be disrupted at this time.", 0},
    COL_AGE,
};

/* A kind with no printer: what Kubernetes shows for a custom resource
 * without printer columns. */
static const struct tbl_col default_cols[] = {
    COL_NAME,
    {"Age", "date", "", DESC_AGE, 0},
};

/* ---- the table of kinds ---- */

typedef void tbl_cells_fn(struct tbl_row *r);

struct tbl_kind {
    const char *group, *kind;
    const struct tbl_col *cols;
    size_t n_cols;
    tbl_cells_fn *cells;
};

#define KIND(group, kind, prefix)                                                                  \
    {group, kind, prefix##_cols, sizeof prefix##_cols / sizeof prefix##_cols[0], prefix##_cells}

static const struct tbl_kind tbl_kinds[] = {
    KIND("", "Pod", pod),
    KIND("", "Namespace", namespace),
    KIND("", "Node", node),
    KIND("", "Service", service),
    KIND("", "Endpoints", endpoints),
    KIND("", "ConfigMap", configmap),
    KIND("", "Secret", secret),
    KIND("", "PersistentVolume", pv),
    KIND("", "PersistentVolumeClaim", pvc),
    KIND("", "Event", event),
    KIND("", "ServiceAccount", serviceaccount),
    KIND("apps", "Deployment", deployment),
    KIND("apps", "ReplicaSet", replicaset),
    KIND("apps", "DaemonSet", daemonset),
    KIND("apps", "StatefulSet", statefulset),
    KIND("apps", "ControllerRevision", controllerrevision),
    KIND("batch", "Job", job),
    KIND("batch", "CronJob", cronjob),
    KIND("autoscaling", "HorizontalPodAutoscaler", hpa),
    KIND("coordination.k8s.io", "Lease", lease),
    KIND("discovery.k8s.io", "EndpointSlice", endpointslice),
    KIND("scheduling.k8s.io", "PriorityClass", priorityclass),
    KIND("policy", "PodDisruptionBudget", pdb),
};

static const struct tbl_kind tbl_default = KIND("", "", default);

static const struct tbl_kind *tbl_find(const char *group, const char *kind)
{
    for (size_t i = 0; i < sizeof tbl_kinds / sizeof tbl_kinds[0]; i++) {
        const struct tbl_kind *k = &tbl_kinds[i];
        if (strcmp(k->group, group ? group : "") == 0 && strcmp(k->kind, kind ? kind : "") == 0)
            return k;
    }
    return &tbl_default;
}

json_t *kube_table_columns(const char *group, const char *kind)
{
    const struct tbl_kind *k = tbl_find(group, kind);
    json_t *cols = json_array();
    for (size_t i = 0; i < k->n_cols; i++) {
        const struct tbl_col *c = &k->cols[i];
        json_array_append_new(cols, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", c->name, "type",
                                              c->type, "format", c->format, "description",
                                              c->description, "priority", c->priority));
    }
    return cols;
}

json_t *kube_table_cells(const char *group, const char *kind, json_t *obj, int64_t now)
{
    const struct tbl_kind *k = tbl_find(group, kind);
    struct tbl_row r = {.obj = obj, .now = now, .cells = json_array()};
    k->cells(&r);
    assert(json_array_size(r.cells) == k->n_cols); /* one cell per column */
    return r.cells;
}
