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
 * re-canonicalised.
 *
 * The files: table.c (this file) holds the column documentation, the
 * columns of each kind, the table of kinds and the two entry points;
 * table_row.c reads objects and builds rows (ages, "<none>", joins,
 * selectors); table_pod.c, table_core.c, table_workloads.c and
 * table_misc.c the cells of each kind. table_internal.h declares what they
 * share. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/table_internal.h"

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

/* ---- the columns of each kind ---- */

struct tbl_col {
    const char *name, *type, *format, *description;
    int priority; /* 1: only in -o wide */
};

#define DESC_SC_PROVISIONER "provisioner indicates the type of the provisioner."
#define DESC_SC_RECLAIM \
    "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes " \
    "of this storage class. Defaults to Delete."
#define DESC_SC_BINDING \
    "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  " \
    "When unset, VolumeBindingImmediate is used. This field is only honored by servers that " \
    "enable the VolumeScheduling feature."
#define DESC_SC_EXPANSION "allowVolumeExpansion shows whether the storage class allow volume expand."

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

static const struct tbl_col storageclass_cols[] = {
    COL_NAME,
    {"Provisioner", "string", "", DESC_SC_PROVISIONER, 0},
    {"ReclaimPolicy", "string", "", DESC_SC_RECLAIM, 0},
    {"VolumeBindingMode", "string", "", DESC_SC_BINDING, 0},
    {"AllowVolumeExpansion", "string", "", DESC_SC_EXPANSION, 0},
    COL_AGE,
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

static void tbl_default_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_age(r);
}

/* ---- the table of kinds ---- */

typedef void tbl_cells_fn(struct tbl_row *r);

struct tbl_kind {
    const char *group, *kind;
    const struct tbl_col *cols;
    size_t n_cols;
    tbl_cells_fn *cells;
};

#define KIND(group, kind, prefix)                                                                  \
    {group, kind, prefix##_cols, sizeof prefix##_cols / sizeof prefix##_cols[0],                   \
     tbl_##prefix##_cells}

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
    KIND("storage.k8s.io", "StorageClass", storageclass),
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
