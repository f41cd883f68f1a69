/* defaults.c — Kubernetes' defaulting of API objects.
 *
 * Kubernetes fills unset fields of every object it decodes from the
 * SetDefaults_* functions of the API group (pkg/apis/core/v1/defaults.go,
 * apps/v1, batch/v1, autoscaling/v2, scheduling/v1, storage/v1, discovery/v1) and the
 * +default markers of the types; the registry then prepares a few more (a
 * Secret's stringData folded into data, a Namespace's finalizer, a
 * Service's IP families). kube_defaults_apply does the same to a JSON
 * object, in place, as Kubernetes 1.32 does with its default feature gates.
 *
 * How it works: a table maps each kind to one function. Shared parts are
 * functions of their own, called wherever the type appears, as Go's
 * generated SetObjectDefaults_* do: the PodSpec defaults (containers,
 * probes, volumes) run for a Pod and for every pod template (Deployment,
 * ReplicaSet, DaemonSet, StatefulSet, Job, CronJob's job template); the
 * PersistentVolumeClaim defaults for a claim and for a StatefulSet's claim
 * templates. A Go "unset" is JSON absent or null, and for a string also "";
 * for a non-pointer Go integer (a probe's periodSeconds) 0 is unset too.
 * Values of the wrong JSON type are left alone: the schema check reports
 * them, and defaulting must not crash on a body it never saw checked.
 *
 * Not defaulted, as in Kubernetes: the selector and labels of apps/v1
 * workloads (spec.selector is required), tolerations (admission adds
 * those). Left to the server: a Service's clusterIP and nodePorts (cluster
 * state). A Job's generated selector is made here once the server has given
 * the Job its uid (see job_generate_selector). Differences: a Namespace gets the
 * "kubernetes" finalizer only when spec.finalizers is absent (the registry
 * adds it on create only, and this function does not know which write it
 * is); an absent pod template is not created (Go defaults the zero struct,
 * which validation then rejects anyway); quantities are not rounded up to
 * milli-units. */
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

/* ---- JSON helpers: "unset" as Go sees it ---- */

/* True when o has no value for k (absent or null). */
static bool unset(json_t *o, const char *k)
{
    return json_is_null(json_object_get(o, k)) || !json_object_get(o, k);
}

/* The object at o[k], or NULL when it is absent or not an object. */
static json_t *obj_at(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_object(v) ? v : NULL;
}

/* The object at o[k], created when unset; NULL when o is not an object or
 * o[k] holds something else. */
static json_t *obj_ensure(json_t *o, const char *k)
{
    if (!json_is_object(o))
        return NULL;
    if (unset(o, k))
        json_object_set_new(o, k, json_object());
    return obj_at(o, k);
}

static void default_str(json_t *o, const char *k, const char *v)
{
    if (!json_is_object(o))
        return;
    json_t *cur = json_object_get(o, k);
    if (!cur || json_is_null(cur) || (json_is_string(cur) && json_string_length(cur) == 0))
        json_object_set_new(o, k, json_string(v));
}

/* A pointer field (*int32, *bool): only absent or null is unset. */
static void default_json(json_t *o, const char *k, json_t *v)
{
    if (json_is_object(o) && unset(o, k))
        json_object_set_new(o, k, v);
    else
        json_decref(v);
}

static void default_int(json_t *o, const char *k, json_int_t v)
{
    default_json(o, k, json_integer(v));
}

static void default_bool(json_t *o, const char *k, bool v)
{
    default_json(o, k, json_boolean(v));
}

/* A value field (int32 without a pointer): 0 is unset too. */
static void default_int_value(json_t *o, const char *k, json_int_t v)
{
    json_t *cur = json_object_get(o, k);
    if (json_is_integer(cur) && json_integer_value(cur) == 0)
        json_object_set_new(o, k, json_integer(v));
    else
        default_int(o, k, v);
}

/* Calls fn on each object in the array o[k]. */
static void each(json_t *o, const char *k, void (*fn)(json_t *))
{
    json_t *arr = json_object_get(o, k);
    size_t i;
    json_t *e;
    if (!json_is_array(arr))
        return;
    json_array_foreach(arr, i, e) {
        if (json_is_object(e))
            fn(e);
    }
}

/* String defaults listed as tables: o[field] = value when unset. */
struct str_default {
    const char *member; /* the sub-object they apply to, or NULL for o itself */
    const char *field;
    const char *value;
};

static void apply_str_defaults(json_t *o, const struct str_default *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        default_str(d[i].member ? obj_at(o, d[i].member) : o, d[i].field, d[i].value);
}

#define APPLY_STR_DEFAULTS(o, table) apply_str_defaults(o, table, sizeof table / sizeof table[0])

/* ---- containers ---- */

/* PullAlways for ":latest" or no tag (and no digest), else PullIfNotPresent,
 * as parsers.ParseImageName and SetDefaults_Container decide. References
 * that do not parse (empty, upper case) get IfNotPresent, as there. */
static const char *image_pull_policy(const char *image)
{
    if (!image || !*image)
        return "IfNotPresent";
    const char *at = strchr(image, '@');
    size_t len = at ? (size_t)(at - image) : strlen(image);
    const char *slash = NULL;
    for (const char *p = image; p < image + len; p++)
        if (*p == '/')
            slash = p;
    const char *last = slash ? slash + 1 : image;
    const char *colon = memchr(last, ':', len - (size_t)(last - image));
    size_t name_len = colon ? (size_t)(colon - image) : len;
    for (size_t i = 0; i < name_len; i++)
        if (image[i] >= 'A' && image[i] <= 'Z')
            return "IfNotPresent";
    if (colon)
        return strncmp(colon + 1, "latest", 6) == 0 && colon + 7 == image + len ? "Always"
                                                                                : "IfNotPresent";
    return at ? "IfNotPresent" : "Always";
}

static void defaults_http_get(json_t *handler)
{
    static const struct str_default http_get[] = {
        {"httpGet", "path", "/"},
        {"httpGet", "scheme", "HTTP"},
    };
    APPLY_STR_DEFAULTS(handler, http_get);
}

static void defaults_probe(json_t *probe)
{
    if (!probe)
        return;
    default_int_value(probe, "timeoutSeconds", 1);
    default_int_value(probe, "periodSeconds", 10);
    default_int_value(probe, "successThreshold", 1);
    default_int_value(probe, "failureThreshold", 3);
    defaults_http_get(probe);
}

static void defaults_protocol_tcp(json_t *port)
{
    default_str(port, "protocol", "TCP");
}

static void defaults_field_ref(json_t *holder)
{
    default_str(obj_at(holder, "fieldRef"), "apiVersion", "v1");
}

static void defaults_env_var(json_t *env)
{
    defaults_field_ref(obj_at(env, "valueFrom"));
}

static void defaults_container(json_t *c)
{
    json_t *image = json_object_get(c, "image");
    default_str(c, "imagePullPolicy", image_pull_policy(json_string_value(image)));
    default_str(c, "terminationMessagePath", "/dev/termination-log");
    default_str(c, "terminationMessagePolicy", "File");
    each(c, "ports", defaults_protocol_tcp);
    each(c, "env", defaults_env_var);
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        defaults_probe(obj_at(c, probes[i]));
    json_t *lifecycle = obj_at(c, "lifecycle");
    if (lifecycle) {
        json_t *post = obj_at(lifecycle, "postStart"), *pre = obj_at(lifecycle, "preStop");
        if (post)
            defaults_http_get(post);
        if (pre)
            defaults_http_get(pre);
    }
}

/* ---- volumes ---- */

static void defaults_downward_api_item(json_t *item)
{
    defaults_field_ref(item);
}

static void defaults_projection(json_t *source)
{
    default_int(obj_at(source, "serviceAccountToken"), "expirationSeconds", 3600);
    each(obj_at(source, "downwardAPI"), "items", defaults_downward_api_item);
}

static void defaults_pvc_spec(json_t *spec)
{
    default_str(spec, "volumeMode", "Filesystem");
}

/* Whether a volume names any source: the inline members of
 * io.k8s.api.core.v1.Volume in the schema. */
static bool volume_has_source(json_t *vol, const char *type_name)
{
    const struct kube_type *t = kube_schema_type(type_name);
    if (!t)
        return true;
    for (unsigned i = 0; i < t->n_fields; i++)
        if (t->fields[i].inlined && !unset(vol, t->fields[i].name))
            return true;
    return false;
}

/* Defaults of the volume sources shared by Volume and PersistentVolumeSpec. */
static void defaults_volume_sources(json_t *v)
{
    static const struct str_default sources[] = {
        {"iscsi", "iscsiInterface", "default"},
        {"rbd", "pool", "rbd"},
        {"rbd", "user", "admin"},
        {"rbd", "keyring", "/etc/ceph/keyring"},
        {"azureDisk", "cachingMode", "ReadWrite"},
        {"azureDisk", "fsType", "ext4"},
        {"azureDisk", "kind", "Shared"},
        {"scaleIO", "storageMode", "ThinProvisioned"},
        {"scaleIO", "fsType", "xfs"},
    };
    APPLY_STR_DEFAULTS(v, sources);
    default_bool(obj_at(v, "azureDisk"), "readOnly", false);
    json_t *host_path = obj_at(v, "hostPath");
    if (host_path && unset(host_path, "type"))
        json_object_set_new(host_path, "type", json_string("")); /* HostPathUnset */
}

static void defaults_volume(json_t *vol)
{
    if (!volume_has_source(vol, "io.k8s.api.core.v1.Volume"))
        json_object_set_new(vol, "emptyDir", json_object());
    static const char *const moded[] = {"secret", "configMap", "downwardAPI", "projected"};
    for (size_t i = 0; i < sizeof moded / sizeof moded[0]; i++)
        default_int(obj_at(vol, moded[i]), "defaultMode", 0644);
    each(obj_at(vol, "downwardAPI"), "items", defaults_downward_api_item);
    each(obj_at(vol, "projected"), "sources", defaults_projection);
    json_t *claim = obj_at(obj_at(vol, "ephemeral"), "volumeClaimTemplate");
    defaults_pvc_spec(obj_at(claim, "spec"));
    defaults_volume_sources(vol);
}

/* ---- pod specs and templates ---- */

/* SetDefaults_PodSpec and what the generated code applies inside a
 * PodSpec; shared by Pods and every pod template. */
static void defaults_pod_spec(json_t *spec)
{
    if (!spec)
        return;
    static const struct str_default pod_spec[] = {
        {NULL, "dnsPolicy", "ClusterFirst"},
        {NULL, "restartPolicy", "Always"},
        {NULL, "schedulerName", "default-scheduler"},
    };
    APPLY_STR_DEFAULTS(spec, pod_spec);
    obj_ensure(spec, "securityContext");
    default_int(spec, "terminationGracePeriodSeconds", 30);
    each(spec, "containers", defaults_container);
    each(spec, "initContainers", defaults_container);
    each(spec, "ephemeralContainers", defaults_container);
    each(spec, "volumes", defaults_volume);
}

static void defaults_pod_template(json_t *template)
{
    defaults_pod_spec(obj_at(template, "spec"));
}

/* SetDefaults_Pod: requests default to limits where only limits are set. */
static void defaults_requests_from_limits(json_t *c)
{
    json_t *res = obj_at(c, "resources");
    json_t *limits = obj_at(res, "limits");
    if (!limits)
        return;
    json_t *requests = obj_ensure(res, "requests");
    if (!requests)
        return;
    const char *k;
    json_t *v;
    json_object_foreach(limits, k, v) {
        if (!json_object_get(requests, k))
            json_object_set(requests, k, v);
    }
}

/* With host networking every container port is a host port. */
static void defaults_host_port(json_t *port)
{
    json_t *cp = json_object_get(port, "containerPort");
    json_t *hp = json_object_get(port, "hostPort");
    if (json_is_integer(cp) &&
        (!hp || json_is_null(hp) || (json_is_integer(hp) && !json_integer_value(hp))))
        json_object_set(port, "hostPort", cp);
}

static void defaults_host_ports(json_t *c)
{
    each(c, "ports", defaults_host_port);
}

static void defaults_pod(json_t *obj)
{
    json_t *spec = obj_at(obj, "spec");
    if (!spec)
        return;
    each(spec, "containers", defaults_requests_from_limits);
    each(spec, "initContainers", defaults_requests_from_limits);
    default_bool(spec, "enableServiceLinks", true);
    if (json_is_true(json_object_get(spec, "hostNetwork"))) {
        each(spec, "containers", defaults_host_ports);
        each(spec, "initContainers", defaults_host_ports);
    }
    defaults_pod_spec(spec);
}

/* ---- core/v1 ---- */

static void defaults_service_port(json_t *port)
{
    default_str(port, "protocol", "TCP");
    json_t *target = json_object_get(port, "targetPort");
    bool target_unset = !target || json_is_null(target) ||
                        (json_is_integer(target) && json_integer_value(target) == 0) ||
                        (json_is_string(target) && json_string_length(target) == 0);
    json_t *p = json_object_get(port, "port");
    if (target_unset && json_is_integer(p))
        json_object_set(port, "targetPort", p);
}

static bool string_is(json_t *o, const char *k, const char *v)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && strcmp(s, v) == 0;
}

static bool service_externally_accessible(json_t *spec)
{
    json_t *ext = json_object_get(spec, "externalIPs");
    return string_is(spec, "type", "LoadBalancer") || string_is(spec, "type", "NodePort") ||
           (string_is(spec, "type", "ClusterIP") && json_array_size(ext) > 0);
}

static void defaults_service(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    if (!spec)
        return;
    default_str(spec, "sessionAffinity", "None");
    if (string_is(spec, "sessionAffinity", "None")) {
        json_object_del(spec, "sessionAffinityConfig");
    } else if (string_is(spec, "sessionAffinity", "ClientIP")) {
        json_t *client_ip = obj_ensure(obj_ensure(spec, "sessionAffinityConfig"), "clientIP");
        default_int(client_ip, "timeoutSeconds", 10800);
    }
    default_str(spec, "type", "ClusterIP");
    each(spec, "ports", defaults_service_port);
    if (service_externally_accessible(spec))
        default_str(spec, "externalTrafficPolicy", "Cluster");
    bool external_name = string_is(spec, "type", "ExternalName");
    if (!external_name)
        default_str(spec, "internalTrafficPolicy", "Cluster");
    if (string_is(spec, "type", "LoadBalancer"))
        default_bool(spec, "allocateLoadBalancerNodePorts", true);
    /* The registry's IP family choice for a single-stack IPv4 cluster. */
    if (!external_name) {
        default_str(spec, "ipFamilyPolicy", "SingleStack");
        json_t *families = json_object_get(spec, "ipFamilies");
        if (!families || json_is_null(families) ||
            (json_is_array(families) && json_array_size(families) == 0))
            json_object_set_new(spec, "ipFamilies", json_pack("[s]", "IPv4"));
    }
}

static void defaults_namespace(json_t *obj)
{
    json_t *md = obj_at(obj, "metadata");
    const char *name = json_string_value(json_object_get(md, "name"));
    if (name && *name) {
        json_t *labels = obj_ensure(md, "labels");
        if (labels)
            json_object_set_new(labels, "kubernetes.io/metadata.name", json_string(name));
    }
    /* The registry adds the "kubernetes" finalizer on create; here only when
     * the list is absent, so a namespace finalized to [] keeps it empty. */
    json_t *spec = obj_ensure(obj, "spec");
    if (spec && unset(spec, "finalizers"))
        json_object_set_new(spec, "finalizers", json_pack("[s]", "kubernetes"));
    default_str(obj_ensure(obj, "status"), "phase", "Active");
}

/* The registry's job in Kubernetes: stringData values win over data and
 * are stored base64-encoded in data; stringData itself is never stored. */
static void defaults_secret(json_t *obj)
{
    default_str(obj, "type", "Opaque");
    json_t *string_data = obj_at(obj, "stringData");
    json_t *data = string_data ? obj_ensure(obj, "data") : NULL;
    if (data) {
        const char *k;
        json_t *v;
        json_object_foreach(string_data, k, v) {
            if (!json_is_string(v))
                continue;
            struct ubuf enc = {0};
            util_base64_encode(json_string_value(v), json_string_length(v), &enc);
            json_object_set_new(data, k, json_stringn(enc.data ? enc.data : "", enc.len));
            ubuf_free(&enc);
        }
    }
    json_object_del(obj, "stringData");
}

static void defaults_pv(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    default_str(spec, "persistentVolumeReclaimPolicy", "Retain");
    default_str(spec, "volumeMode", "Filesystem");
    if (spec)
        defaults_volume_sources(spec);
    default_str(obj_ensure(obj, "status"), "phase", "Pending");
}

static void defaults_pvc(json_t *obj)
{
    defaults_pvc_spec(obj_ensure(obj, "spec"));
    default_str(obj_ensure(obj, "status"), "phase", "Pending");
}

static void defaults_endpoint_subset(json_t *subset)
{
    each(subset, "ports", defaults_protocol_tcp);
}

static void defaults_endpoints(json_t *obj)
{
    each(obj, "subsets", defaults_endpoint_subset);
}

static void defaults_node(json_t *obj)
{
    json_t *status = obj_at(obj, "status");
    json_t *capacity = obj_at(status, "capacity");
    if (capacity && unset(status, "allocatable"))
        json_object_set_new(status, "allocatable", json_deep_copy(capacity));
}

/* ---- apps/v1 ---- */

/* The rollingUpdate member of a RollingUpdate strategy, created when
 * unset, with maxUnavailable and maxSurge defaulted (ownership of both
 * values passes here). */
static void defaults_rolling_update(json_t *strategy, json_t *max_unavailable, json_t *max_surge)
{
    json_t *ru = obj_ensure(strategy, "rollingUpdate");
    default_json(ru, "maxUnavailable", max_unavailable);
    default_json(ru, "maxSurge", max_surge);
}

static void defaults_deployment(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    if (!spec)
        return;
    default_int(spec, "replicas", 1);
    json_t *strategy = obj_ensure(spec, "strategy");
    default_str(strategy, "type", "RollingUpdate");
    if (string_is(strategy, "type", "RollingUpdate"))
        defaults_rolling_update(strategy, json_string("25%"), json_string("25%"));
    default_int(spec, "revisionHistoryLimit", 10);
    default_int(spec, "progressDeadlineSeconds", 600);
    defaults_pod_template(obj_at(spec, "template"));
}

static void defaults_replicaset(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    default_int(spec, "replicas", 1);
    defaults_pod_template(obj_at(spec, "template"));
}

static void defaults_daemonset(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    if (!spec)
        return;
    json_t *strategy = obj_ensure(spec, "updateStrategy");
    default_str(strategy, "type", "RollingUpdate");
    if (string_is(strategy, "type", "RollingUpdate"))
        defaults_rolling_update(strategy, json_integer(1), json_integer(0));
    default_int(spec, "revisionHistoryLimit", 10);
    defaults_pod_template(obj_at(spec, "template"));
}

static void defaults_claim_template(json_t *claim)
{
    defaults_pvc(claim);
}

static void defaults_statefulset(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    if (!spec)
        return;
    default_str(spec, "podManagementPolicy", "OrderedReady");
    json_t *strategy = obj_ensure(spec, "updateStrategy");
    if (strategy && unset(strategy, "type")) {
        default_str(strategy, "type", "RollingUpdate");
        obj_ensure(strategy, "rollingUpdate");
    }
    if (string_is(strategy, "type", "RollingUpdate"))
        default_int(obj_at(strategy, "rollingUpdate"), "partition", 0);
    static const struct str_default retention[] = {
        {"persistentVolumeClaimRetentionPolicy", "whenDeleted", "Retain"},
        {"persistentVolumeClaimRetentionPolicy", "whenScaled", "Retain"},
    };
    obj_ensure(spec, "persistentVolumeClaimRetentionPolicy");
    APPLY_STR_DEFAULTS(spec, retention);
    default_int(spec, "replicas", 1);
    default_int(spec, "revisionHistoryLimit", 10);
    defaults_pod_template(obj_at(spec, "template"));
    each(spec, "volumeClaimTemplates", defaults_claim_template);
}

/* ---- batch/v1 ---- */

static void defaults_pod_condition_pattern(json_t *pattern)
{
    default_str(pattern, "status", "True");
}

static void defaults_pod_failure_rule(json_t *rule)
{
    each(rule, "onPodConditions", defaults_pod_condition_pattern);
}

/* What every JobSpec gets, a Job's or a CronJob's template. */
static void defaults_job_spec_common(json_t *spec)
{
    each(obj_at(spec, "podFailurePolicy"), "rules", defaults_pod_failure_rule);
    defaults_pod_template(obj_at(spec, "template"));
}

/* The registry's generateSelector (pkg/registry/batch/job/strategy.go),
 * done here once the object has its uid, that is on the server's create
 * (prepare_create sets the uid before defaulting; a client's body without
 * one is left alone): unless spec.manualSelector is true, the template gets
 * the labels job-name and controller-uid, legacy and batch.kubernetes.io/
 * forms (a label already there is kept), and the selector matches
 * batch.kubernetes.io/controller-uid. Validation then checks the selector
 * selects the template. On an update the stored selector is already there
 * and nothing changes. */
static void job_generate_selector(json_t *obj, json_t *spec)
{
    json_t *md = json_object_get(obj, "metadata");
    const char *uid = json_string_value(json_object_get(md, "uid"));
    const char *name = json_string_value(json_object_get(md, "name"));
    if (!uid || !*uid || !name || json_is_true(json_object_get(spec, "manualSelector")))
        return;
    json_t *tmpl = obj_ensure(spec, "template"), *tmd = tmpl ? obj_ensure(tmpl, "metadata") : NULL;
    json_t *labels = tmd ? obj_ensure(tmd, "labels") : NULL;
    json_t *sel = obj_ensure(spec, "selector");
    json_t *ml = sel ? obj_ensure(sel, "matchLabels") : NULL;
    if (!labels || !ml)
        return;
    static const char *const name_keys[] = {"job-name", "batch.kubernetes.io/job-name"};
    static const char *const uid_keys[] = {"controller-uid", "batch.kubernetes.io/controller-uid"};
    for (int i = 0; i < 2; i++) {
        if (unset(labels, name_keys[i]))
            json_object_set_new(labels, name_keys[i], json_string(name));
        if (unset(labels, uid_keys[i]))
            json_object_set_new(labels, uid_keys[i], json_string(uid));
    }
    if (unset(ml, uid_keys[1]))
        json_object_set_new(ml, uid_keys[1], json_string(uid));
}

static void defaults_job(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    if (!spec)
        return;
    job_generate_selector(obj, spec);
    if (unset(spec, "completions") && unset(spec, "parallelism"))
        default_int(spec, "completions", 1);
    default_int(spec, "parallelism", 1);
    default_int(spec, "backoffLimit", 6);
    json_t *md = obj_ensure(obj, "metadata");
    json_t *tlabels = obj_at(obj_at(obj_at(spec, "template"), "metadata"), "labels");
    json_t *labels = json_object_get(md, "labels");
    if (md && tlabels &&
        (!labels || json_is_null(labels) ||
         (json_is_object(labels) && json_object_size(labels) == 0)))
        json_object_set_new(md, "labels", json_deep_copy(tlabels));
    default_str(spec, "completionMode", "NonIndexed");
    default_bool(spec, "suspend", false);
    default_str(spec, "podReplacementPolicy",
                obj_at(spec, "podFailurePolicy") ? "Failed" : "TerminatingOrFailed");
    defaults_job_spec_common(spec);
}

static void defaults_cronjob(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    if (!spec)
        return;
    default_str(spec, "concurrencyPolicy", "Allow");
    default_bool(spec, "suspend", false);
    default_int(spec, "successfulJobsHistoryLimit", 3);
    default_int(spec, "failedJobsHistoryLimit", 1);
    defaults_job_spec_common(obj_at(obj_at(spec, "jobTemplate"), "spec"));
}

/* ---- autoscaling/v2, scheduling/v1, storage/v1, discovery/v1 ---- */

static json_t *hpa_policy(const char *type, int value, int period)
{
    return json_pack("{s:s, s:i, s:i}", "type", type, "value", value, "periodSeconds", period);
}

/* GenerateHPAScaleUpRules / GenerateHPAScaleDownRules: the rules given,
 * with every unset member taken from the defaults. */
static void defaults_hpa_rules(json_t *behavior, const char *which, bool up)
{
    json_t *rules = obj_ensure(behavior, which);
    if (!rules)
        return;
    if (up)
        default_int(rules, "stabilizationWindowSeconds", 0);
    default_str(rules, "selectPolicy", "Max");
    if (unset(rules, "policies")) {
        json_t *policies = json_array();
        if (up)
            json_array_append_new(policies, hpa_policy("Pods", 4, 15));
        json_array_append_new(policies, hpa_policy("Percent", 100, 15));
        json_object_set_new(rules, "policies", policies);
    }
}

static void defaults_hpa(json_t *obj)
{
    json_t *spec = obj_ensure(obj, "spec");
    if (!spec)
        return;
    default_int(spec, "minReplicas", 1);
    json_t *metrics = json_object_get(spec, "metrics");
    if (!metrics || json_is_null(metrics) || (json_is_array(metrics) && !json_array_size(metrics)))
        json_object_set_new(spec, "metrics",
                            json_pack("[{s:s, s:{s:s, s:{s:s, s:i}}}]", "type", "Resource",
                                      "resource", "name", "cpu", "target", "type", "Utilization",
                                      "averageUtilization", 80));
    json_t *behavior = obj_at(spec, "behavior");
    if (behavior) {
        defaults_hpa_rules(behavior, "scaleUp", true);
        defaults_hpa_rules(behavior, "scaleDown", false);
    }
}

static void defaults_priority_class(json_t *obj)
{
    default_str(obj, "preemptionPolicy", "PreemptLowerPriority");
}

/* SetDefaults_StorageClass */
static void defaults_storage_class(json_t *obj)
{
    default_str(obj, "reclaimPolicy", "Delete");
    default_str(obj, "volumeBindingMode", "Immediate");
}

static void defaults_endpoint_port(json_t *port)
{
    if (unset(port, "name"))
        json_object_set_new(port, "name", json_string(""));
    defaults_protocol_tcp(port);
}

static void defaults_endpoint_slice(json_t *obj)
{
    each(obj, "ports", defaults_endpoint_port);
}

/* ---- the table ---- */

static const struct {
    const char *group, *kind;
    void (*apply)(json_t *obj);
} kind_defaults[] = {
    {"", "Namespace", defaults_namespace},
    {"", "Node", defaults_node},
    {"", "Pod", defaults_pod},
    {"", "Service", defaults_service},
    {"", "Endpoints", defaults_endpoints},
    {"", "Secret", defaults_secret},
    {"", "PersistentVolume", defaults_pv},
    {"", "PersistentVolumeClaim", defaults_pvc},
    {"apps", "Deployment", defaults_deployment},
    {"apps", "ReplicaSet", defaults_replicaset},
    {"apps", "DaemonSet", defaults_daemonset},
    {"apps", "StatefulSet", defaults_statefulset},
    {"batch", "Job", defaults_job},
    {"batch", "CronJob", defaults_cronjob},
    {"autoscaling", "HorizontalPodAutoscaler", defaults_hpa},
    {"scheduling.k8s.io", "PriorityClass", defaults_priority_class},
    {"storage.k8s.io", "StorageClass", defaults_storage_class},
    {"discovery.k8s.io", "EndpointSlice", defaults_endpoint_slice},
};

void kube_defaults_apply(const char *group, const char *kind, json_t *obj)
{
    if (!json_is_object(obj) || !group || !kind)
        return;
    for (size_t i = 0; i < sizeof kind_defaults / sizeof kind_defaults[0]; i++) {
        if (strcmp(kind_defaults[i].group, group) == 0 &&
            strcmp(kind_defaults[i].kind, kind) == 0) {
            kind_defaults[i].apply(obj);
            return;
        }
    }
}
