/* test_kube_defaults.c — unit tests for kube/defaults.c: Kubernetes 1.32's
 * defaulting of each kind bosun serves.
 *
 * Each test applies kube_defaults_apply to a small object and compares the
 * result with the object Kubernetes stores (written out in full where the
 * kind is small, member by member where it is not). Defaulting must be
 * idempotent and must leave values of the wrong type alone, so those are
 * tested too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kube/kube.h"

/* A cmocka test function; no test uses the state. */
#define TEST(name) static void name(void **state __attribute__((unused)))

static json_t *parse(const char *s)
{
    json_error_t err;
    json_t *v = json_loads(s, 0, &err);
    if (!v)
        fail_msg("bad test JSON: %s: %s", err.text, s);
    return v;
}

/* obj after defaulting must equal want, and defaulting again changes
 * nothing. */
static void expect_defaults(const char *group, const char *kind, const char *obj, const char *want)
{
    json_t *o = parse(obj), *w = parse(want);
    kube_defaults_apply(group, kind, o);
    if (!json_equal(o, w)) {
        char *got = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
        char *exp = json_dumps(w, JSON_INDENT(1) | JSON_SORT_KEYS);
        print_error("got:\n%s\nwant:\n%s\n", got, exp);
        free(got);
        free(exp);
        fail();
    }
    json_t *again = json_deep_copy(o);
    kube_defaults_apply(group, kind, again);
    assert_true(json_equal(o, again));
    json_decref(again);
    json_decref(o);
    json_decref(w);
}

/* The value at a dotted path ("spec.template.spec.dnsPolicy"; "[0]" for
 * array elements), or NULL. */
static json_t *at(json_t *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && v;
         tok = strtok_r(NULL, ".", &save)) {
        char *br = strchr(tok, '[');
        if (br)
            *br = '\0';
        if (*tok)
            v = json_object_get(v, tok);
        while (br && v) {
            v = json_array_get(v, strtoul(br + 1, NULL, 10));
            br = strchr(br + 1, '[');
        }
    }
    return v;
}

static void assert_str_at(json_t *v, const char *path, const char *want)
{
    json_t *got = at(v, path);
    if (!json_is_string(got))
        fail_msg("%s: not a string", path);
    assert_string_equal(json_string_value(got), want);
}

static void assert_int_at(json_t *v, const char *path, json_int_t want)
{
    json_t *got = at(v, path);
    if (!json_is_integer(got))
        fail_msg("%s: not an integer", path);
    assert_int_equal(json_integer_value(got), want);
}

static json_t *defaulted(const char *group, const char *kind, const char *obj)
{
    json_t *o = parse(obj);
    kube_defaults_apply(group, kind, o);
    return o;
}

/* ---- Pod ---- */

TEST(test_bare_pod)
{
    expect_defaults(
        "", "Pod",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
        " \"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}",
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
        " \"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\","
        "   \"imagePullPolicy\":\"Always\",\"terminationMessagePath\":\"/dev/termination-log\","
        "   \"terminationMessagePolicy\":\"File\"}],"
        "  \"dnsPolicy\":\"ClusterFirst\",\"restartPolicy\":\"Always\","
        "  \"schedulerName\":\"default-scheduler\",\"securityContext\":{},"
        "  \"terminationGracePeriodSeconds\":30,\"enableServiceLinks\":true}}");
}

TEST(test_pod_kept_values)
{
    /* What the client set stays, zero values of pointer fields included. */
    expect_defaults(
        "", "Pod",
        "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"imagePullPolicy\":"
        "\"Never\","
        "  "
        "\"terminationMessagePath\":\"/"
        "t\",\"terminationMessagePolicy\":\"FallbackToLogsOnError\"}],"
        " \"dnsPolicy\":\"Default\",\"restartPolicy\":\"Never\",\"schedulerName\":\"s\","
        " \"securityContext\":{\"runAsUser\":1},\"terminationGracePeriodSeconds\":0,"
        " \"enableServiceLinks\":false}}",
        "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"imagePullPolicy\":"
        "\"Never\","
        "  "
        "\"terminationMessagePath\":\"/"
        "t\",\"terminationMessagePolicy\":\"FallbackToLogsOnError\"}],"
        " \"dnsPolicy\":\"Default\",\"restartPolicy\":\"Never\",\"schedulerName\":\"s\","
        " \"securityContext\":{\"runAsUser\":1},\"terminationGracePeriodSeconds\":0,"
        " \"enableServiceLinks\":false}}");
}

TEST(test_image_pull_policy)
{
    static const struct {
        const char *image, *policy;
    } cases[] = {
        {"nginx", "Always"},
        {"nginx:latest", "Always"},
        {"nginx:1.25", "IfNotPresent"},
        {"registry.local:5000/nginx", "Always"},
        {"registry.local:5000/nginx:v1", "IfNotPresent"},
        {"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "IfNotPresent"},
        {"nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
         "Always"},
        {"nginx:latestx", "IfNotPresent"},
        {"", "IfNotPresent"},
        {"Nginx", "IfNotPresent"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char obj[512];
        snprintf(obj, sizeof obj,
                 "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"%s\"}],"
                 "\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]}}",
                 cases[i].image, cases[i].image);
        json_t *o = defaulted("", "Pod", obj);
        assert_str_at(o, "spec.containers[0].imagePullPolicy", cases[i].policy);
        assert_str_at(o, "spec.initContainers[0].imagePullPolicy", cases[i].policy);
        json_decref(o);
    }
}

TEST(test_pod_ports_probes_env)
{
    json_t *o =
        defaulted("", "Pod",
                  "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x:1\","
                  " \"ports\":[{\"containerPort\":80},{\"containerPort\":53,\"protocol\":\"UDP\"}],"
                  " \"livenessProbe\":{\"httpGet\":{\"port\":80},\"periodSeconds\":0},"
                  " \"readinessProbe\":{\"tcpSocket\":{\"port\":80},\"timeoutSeconds\":5},"
                  " \"startupProbe\":{\"exec\":{\"command\":[\"true\"]}},"
                  " \"lifecycle\":{\"preStop\":{\"httpGet\":{\"port\":80,\"path\":\"/stop\"}}},"
                  " \"env\":[{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata."
                  "name\"}}}]}]}}");
    assert_str_at(o, "spec.containers[0].ports[0].protocol", "TCP");
    assert_str_at(o, "spec.containers[0].ports[1].protocol", "UDP");
    assert_int_at(o, "spec.containers[0].livenessProbe.periodSeconds", 10); /* 0 is unset */
    assert_int_at(o, "spec.containers[0].livenessProbe.timeoutSeconds", 1);
    assert_int_at(o, "spec.containers[0].livenessProbe.successThreshold", 1);
    assert_int_at(o, "spec.containers[0].livenessProbe.failureThreshold", 3);
    assert_str_at(o, "spec.containers[0].livenessProbe.httpGet.path", "/");
    assert_str_at(o, "spec.containers[0].livenessProbe.httpGet.scheme", "HTTP");
    assert_int_at(o, "spec.containers[0].readinessProbe.timeoutSeconds", 5);
    assert_int_at(o, "spec.containers[0].startupProbe.failureThreshold", 3);
    assert_str_at(o, "spec.containers[0].lifecycle.preStop.httpGet.path", "/stop");
    assert_str_at(o, "spec.containers[0].lifecycle.preStop.httpGet.scheme", "HTTP");
    assert_str_at(o, "spec.containers[0].env[0].valueFrom.fieldRef.apiVersion", "v1");
    assert_null(at(o, "spec.containers[0].readinessProbe.httpGet"));
    json_decref(o);
}

TEST(test_pod_requests_from_limits)
{
    json_t *o = defaulted("", "Pod",
                          "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\","
                          " \"resources\":{\"limits\":{\"cpu\":\"1\",\"memory\":\"1Gi\"},"
                          "\"requests\":{\"cpu\":\"500m\"}}}],"
                          " \"initContainers\":[{\"name\":\"i\",\"image\":\"x\",\"resources\":{"
                          "\"limits\":{\"cpu\":\"2\"}}}]}}");
    assert_str_at(o, "spec.containers[0].resources.requests.cpu", "500m");
    assert_str_at(o, "spec.containers[0].resources.requests.memory", "1Gi");
    assert_str_at(o, "spec.initContainers[0].resources.requests.cpu", "2");
    json_decref(o);
    /* Templates do not get it: only SetDefaults_Pod does this. */
    o = defaulted(
        "apps", "Deployment",
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\","
        "\"resources\":{\"limits\":{\"cpu\":\"1\"}}}]}}}}");
    assert_null(at(o, "spec.template.spec.containers[0].resources.requests"));
    assert_null(at(o, "spec.template.spec.enableServiceLinks"));
    json_decref(o);
}

TEST(test_pod_host_network_ports)
{
    json_t *o =
        defaulted("", "Pod",
                  "{\"spec\":{\"hostNetwork\":true,\"containers\":[{\"name\":\"c\",\"image\":\"x\","
                  "\"ports\":[{\"containerPort\":8080},{\"containerPort\":9,\"hostPort\":19}]}]}}");
    assert_int_at(o, "spec.containers[0].ports[0].hostPort", 8080);
    assert_int_at(o, "spec.containers[0].ports[1].hostPort", 19);
    json_decref(o);
    o = defaulted("", "Pod",
                  "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"ports\":[{"
                  "\"containerPort\":8080}]}]}}");
    assert_null(at(o, "spec.containers[0].ports[0].hostPort"));
    json_decref(o);
}

TEST(test_pod_volumes)
{
    json_t *o =
        defaulted("", "Pod",
                  "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}],\"volumes\":["
                  " {\"name\":\"a\"},"
                  " {\"name\":\"b\",\"configMap\":{\"name\":\"cm\"}},"
                  " {\"name\":\"c\",\"secret\":{\"secretName\":\"s\",\"defaultMode\":256}},"
                  " {\"name\":\"d\",\"downwardAPI\":{\"items\":[{\"path\":\"n\",\"fieldRef\":{"
                  "\"fieldPath\":\"metadata.name\"}}]}},"
                  " {\"name\":\"e\",\"projected\":{\"sources\":[{\"serviceAccountToken\":{\"path\":"
                  "\"t\"}}]}},"
                  " {\"name\":\"f\",\"hostPath\":{\"path\":\"/x\"}},"
                  " {\"name\":\"g\",\"iscsi\":{\"targetPortal\":\"p\",\"iqn\":\"q\",\"lun\":0}},"
                  " {\"name\":\"h\",\"rbd\":{\"monitors\":[\"m\"],\"image\":\"i\"}},"
                  " {\"name\":\"i\",\"ephemeral\":{\"volumeClaimTemplate\":{\"spec\":{"
                  "\"accessModes\":[\"ReadWriteOnce\"]}}}}"
                  "]}}");
    assert_true(json_is_object(at(o, "spec.volumes[0].emptyDir")));
    assert_int_at(o, "spec.volumes[1].configMap.defaultMode", 420);
    assert_int_at(o, "spec.volumes[2].secret.defaultMode", 256);
    assert_null(at(o, "spec.volumes[1].emptyDir"));
    assert_int_at(o, "spec.volumes[3].downwardAPI.defaultMode", 420);
    assert_str_at(o, "spec.volumes[3].downwardAPI.items[0].fieldRef.apiVersion", "v1");
    assert_int_at(o, "spec.volumes[4].projected.defaultMode", 420);
    assert_int_at(o, "spec.volumes[4].projected.sources[0].serviceAccountToken.expirationSeconds",
                  3600);
    assert_str_at(o, "spec.volumes[5].hostPath.type", "");
    assert_str_at(o, "spec.volumes[6].iscsi.iscsiInterface", "default");
    assert_str_at(o, "spec.volumes[7].rbd.pool", "rbd");
    assert_str_at(o, "spec.volumes[7].rbd.user", "admin");
    assert_str_at(o, "spec.volumes[7].rbd.keyring", "/etc/ceph/keyring");
    assert_str_at(o, "spec.volumes[8].ephemeral.volumeClaimTemplate.spec.volumeMode", "Filesystem");
    json_decref(o);
}

/* ---- apps/v1 ---- */

TEST(test_deployment)
{
    expect_defaults(
        "apps", "Deployment",
        "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
        " \"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},"
        "  \"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1\"}]}}}}",
        "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
        " \"replicas\":1,\"revisionHistoryLimit\":10,\"progressDeadlineSeconds\":600,"
        " \"strategy\":{\"type\":\"RollingUpdate\","
        "  \"rollingUpdate\":{\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}},"
        " \"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},"
        "  \"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx:1\","
        "   "
        "\"imagePullPolicy\":\"IfNotPresent\",\"terminationMessagePath\":\"/dev/termination-log\","
        "   \"terminationMessagePolicy\":\"File\"}],"
        "   \"dnsPolicy\":\"ClusterFirst\",\"restartPolicy\":\"Always\","
        "   \"schedulerName\":\"default-scheduler\",\"securityContext\":{},"
        "   \"terminationGracePeriodSeconds\":30}}}}");
}

TEST(test_deployment_kept)
{
    /* Recreate gets no rollingUpdate; replicas 0 and set limits stay; a
     * partial rollingUpdate is completed. */
    json_t *o = defaulted("apps", "Deployment",
                          "{\"spec\":{\"replicas\":0,\"revisionHistoryLimit\":0,\"strategy\":{"
                          "\"type\":\"Recreate\"}}}");
    assert_int_at(o, "spec.replicas", 0);
    assert_int_at(o, "spec.revisionHistoryLimit", 0);
    assert_null(at(o, "spec.strategy.rollingUpdate"));
    assert_null(at(o, "spec.template")); /* not invented */
    assert_null(at(o, "spec.selector"));
    json_decref(o);
    o = defaulted("apps", "Deployment",
                  "{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":3}}}}");
    assert_str_at(o, "spec.strategy.type", "RollingUpdate");
    assert_int_at(o, "spec.strategy.rollingUpdate.maxSurge", 3);
    assert_str_at(o, "spec.strategy.rollingUpdate.maxUnavailable", "25%");
    json_decref(o);
}

TEST(test_replicaset_daemonset)
{
    json_t *o = defaulted(
        "apps", "ReplicaSet",
        "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}");
    assert_int_at(o, "spec.replicas", 1);
    assert_str_at(o, "spec.template.spec.restartPolicy", "Always");
    assert_null(at(o, "spec.revisionHistoryLimit"));
    json_decref(o);
    expect_defaults(
        "apps", "DaemonSet", "{\"spec\":{}}",
        "{\"spec\":{\"updateStrategy\":{\"type\":\"RollingUpdate\","
        "\"rollingUpdate\":{\"maxUnavailable\":1,\"maxSurge\":0}},\"revisionHistoryLimit\":10}}");
    expect_defaults(
        "apps", "DaemonSet", "{\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\"}}}",
        "{\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\"},\"revisionHistoryLimit\":10}}");
}

TEST(test_statefulset)
{
    expect_defaults(
        "apps", "StatefulSet",
        "{\"spec\":{\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"},"
        " \"spec\":{\"accessModes\":[\"ReadWriteOnce\"]}}]}}",
        "{\"spec\":{\"podManagementPolicy\":\"OrderedReady\",\"replicas\":1,"
        "\"revisionHistoryLimit\":10,"
        " \"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0}},"
        " \"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Retain\",\"whenScaled\":"
        "\"Retain\"},"
        " \"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\"},"
        "  \"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"volumeMode\":\"Filesystem\"},"
        "  \"status\":{\"phase\":\"Pending\"}}]}}");
    /* OnDelete set by the client: no rollingUpdate appears. */
    expect_defaults("apps", "StatefulSet",
                    "{\"spec\":{\"updateStrategy\":{\"type\":\"OnDelete\"},"
                    "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Delete\"}}}",
                    "{\"spec\":{\"podManagementPolicy\":\"OrderedReady\",\"replicas\":1,"
                    "\"revisionHistoryLimit\":10,\"updateStrategy\":{\"type\":\"OnDelete\"},"
                    "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Delete\","
                    "\"whenScaled\":\"Retain\"}}}");
}

/* ---- core/v1 ---- */

TEST(test_service)
{
    expect_defaults("", "Service",
                    "{\"spec\":{\"selector\":{\"a\":\"b\"},\"ports\":[{\"port\":80},"
                    " {\"port\":443,\"targetPort\":\"https\",\"protocol\":\"UDP\"},{\"port\":8080,"
                    "\"targetPort\":0}]}}",
                    "{\"spec\":{\"selector\":{\"a\":\"b\"},\"ports\":[{\"port\":80,\"protocol\":"
                    "\"TCP\",\"targetPort\":80},"
                    " {\"port\":443,\"targetPort\":\"https\",\"protocol\":\"UDP\"},"
                    " {\"port\":8080,\"targetPort\":8080,\"protocol\":\"TCP\"}],"
                    " \"type\":\"ClusterIP\",\"sessionAffinity\":\"None\","
                    "\"internalTrafficPolicy\":\"Cluster\","
                    " \"ipFamilyPolicy\":\"SingleStack\",\"ipFamilies\":[\"IPv4\"]}}");
}

TEST(test_service_types)
{
    json_t *o = defaulted("", "Service",
                          "{\"spec\":{\"type\":\"LoadBalancer\",\"sessionAffinity\":\"ClientIP\","
                          "\"ports\":[{\"port\":80,\"targetPort\":\"\"}]}}");
    assert_str_at(o, "spec.externalTrafficPolicy", "Cluster");
    assert_true(json_is_true(at(o, "spec.allocateLoadBalancerNodePorts")));
    assert_int_at(o, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", 10800);
    assert_int_at(o, "spec.ports[0].targetPort", 80);
    json_decref(o);
    o = defaulted("", "Service", "{\"spec\":{\"type\":\"NodePort\"}}");
    assert_str_at(o, "spec.externalTrafficPolicy", "Cluster");
    assert_null(at(o, "spec.allocateLoadBalancerNodePorts"));
    json_decref(o);
    /* ExternalName: no families, no internal traffic policy. */
    expect_defaults("", "Service",
                    "{\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"a.b\"}}",
                    "{\"spec\":{\"type\":\"ExternalName\",\"externalName\":\"a.b\","
                    "\"sessionAffinity\":\"None\"}}");
    /* Affinity None drops a stray config. */
    o = defaulted("", "Service",
                  "{\"spec\":{\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":5}}}}");
    assert_null(at(o, "spec.sessionAffinityConfig"));
    json_decref(o);
}

TEST(test_secret_string_data)
{
    expect_defaults("", "Secret",
                    "{\"data\":{\"a\":\"YQ==\",\"keep\":\"aw==\"},\"stringData\":{\"a\":\"x\","
                    "\"b\":\"hello\",\"e\":\"\"}}",
                    "{\"type\":\"Opaque\",\"data\":{\"a\":\"eA==\",\"keep\":\"aw==\",\"b\":"
                    "\"aGVsbG8=\",\"e\":\"\"}}");
    expect_defaults("", "Secret", "{\"type\":\"kubernetes.io/tls\",\"stringData\":{\"k\":\"ab\"}}",
                    "{\"type\":\"kubernetes.io/tls\",\"data\":{\"k\":\"YWI=\"}}");
    expect_defaults("", "Secret", "{\"type\":\"\"}", "{\"type\":\"Opaque\"}");
}

TEST(test_namespace)
{
    expect_defaults(
        "", "Namespace", "{\"metadata\":{\"name\":\"team-a\",\"labels\":{\"x\":\"y\"}}}",
        "{\"metadata\":{\"name\":\"team-a\",\"labels\":{\"x\":\"y\","
        "\"kubernetes.io/metadata.name\":\"team-a\"}},"
        "\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}}");
    /* The label follows the name, whatever the client wrote; a finalized
     * namespace keeps its empty list; no name, no label. */
    expect_defaults(
        "", "Namespace",
        "{\"metadata\":{\"name\":\"b\",\"labels\":{\"kubernetes.io/metadata.name\":\"x\"}},"
        "\"spec\":{\"finalizers\":[]},\"status\":{\"phase\":\"Terminating\"}}",
        "{\"metadata\":{\"name\":\"b\",\"labels\":{\"kubernetes.io/metadata.name\":\"b\"}},"
        "\"spec\":{\"finalizers\":[]},\"status\":{\"phase\":\"Terminating\"}}");
    expect_defaults(
        "", "Namespace", "{\"metadata\":{\"generateName\":\"t-\"}}",
        "{\"metadata\":{\"generateName\":\"t-\"},\"spec\":{\"finalizers\":[\"kubernetes\"]},"
        "\"status\":{\"phase\":\"Active\"}}");
}

TEST(test_volumes_and_claims)
{
    expect_defaults("", "PersistentVolume", "{\"spec\":{\"hostPath\":{\"path\":\"/d\"}}}",
                    "{\"spec\":{\"hostPath\":{\"path\":\"/d\",\"type\":\"\"},"
                    "\"persistentVolumeReclaimPolicy\":\"Retain\",\"volumeMode\":\"Filesystem\"},"
                    "\"status\":{\"phase\":\"Pending\"}}");
    expect_defaults("", "PersistentVolumeClaim", "{\"spec\":{\"volumeMode\":\"Block\"}}",
                    "{\"spec\":{\"volumeMode\":\"Block\"},\"status\":{\"phase\":\"Pending\"}}");
    expect_defaults(
        "", "PersistentVolumeClaim", "{}",
        "{\"spec\":{\"volumeMode\":\"Filesystem\"},\"status\":{\"phase\":\"Pending\"}}");
}

TEST(test_core_others)
{
    expect_defaults(
        "", "Endpoints",
        "{\"subsets\":[{\"ports\":[{\"port\":80},{\"port\":53,\"protocol\":\"UDP\"}]}]}",
        "{\"subsets\":[{\"ports\":[{\"port\":80,\"protocol\":\"TCP\"},"
        "{\"port\":53,\"protocol\":\"UDP\"}]}]}");
    expect_defaults("", "Node", "{\"status\":{\"capacity\":{\"cpu\":\"4\"}}}",
                    "{\"status\":{\"capacity\":{\"cpu\":\"4\"},\"allocatable\":{\"cpu\":\"4\"}}}");
    expect_defaults("", "Node",
                    "{\"status\":{\"capacity\":{\"cpu\":\"4\"},\"allocatable\":{\"cpu\":\"3\"}}}",
                    "{\"status\":{\"capacity\":{\"cpu\":\"4\"},\"allocatable\":{\"cpu\":\"3\"}}}");
    expect_defaults("", "ServiceAccount", "{\"metadata\":{\"name\":\"sa\"}}",
                    "{\"metadata\":{\"name\":\"sa\"}}");
    expect_defaults("", "ConfigMap", "{\"data\":{\"a\":\"b\"}}", "{\"data\":{\"a\":\"b\"}}");
    expect_defaults("", "Event", "{\"reason\":\"r\"}", "{\"reason\":\"r\"}");
}

/* ---- batch/v1 ---- */

TEST(test_job)
{
    json_t *o = defaulted("batch", "Job",
                          "{\"metadata\":{\"name\":\"j\"},\"spec\":{\"template\":{\"metadata\":{"
                          "\"labels\":{\"a\":\"b\"}},"
                          "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\","
                          "\"image\":\"x\"}]}}}}");
    assert_int_at(o, "spec.completions", 1);
    assert_int_at(o, "spec.parallelism", 1);
    assert_int_at(o, "spec.backoffLimit", 6);
    assert_str_at(o, "spec.completionMode", "NonIndexed");
    assert_true(json_is_false(at(o, "spec.suspend")));
    assert_str_at(o, "spec.podReplacementPolicy", "TerminatingOrFailed");
    assert_str_at(o, "metadata.labels.a", "b"); /* labels from the template */
    assert_null(at(o, "spec.manualSelector"));
    assert_null(at(o, "spec.selector")); /* the server's, not a default */
    assert_str_at(o, "spec.template.spec.restartPolicy", "Never");
    assert_str_at(o, "spec.template.spec.containers[0].terminationMessagePolicy", "File");
    json_decref(o);
    /* parallelism alone: completions stays unset (a work queue). */
    o = defaulted("batch", "Job",
                  "{\"metadata\":{\"labels\":{\"own\":\"1\"}},\"spec\":{\"parallelism\":3,"
                  "\"podFailurePolicy\":{\"rules\":[{\"action\":\"Ignore\",\"onPodConditions\":[{"
                  "\"type\":\"DisruptionTarget\"}]}]},"
                  "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}}}}}");
    assert_null(at(o, "spec.completions"));
    assert_int_at(o, "spec.parallelism", 3);
    assert_str_at(o, "spec.podReplacementPolicy", "Failed");
    assert_str_at(o, "spec.podFailurePolicy.rules[0].onPodConditions[0].status", "True");
    assert_null(at(o, "metadata.labels.a"));
    assert_str_at(o, "metadata.labels.own", "1");
    json_decref(o);
}

TEST(test_cronjob)
{
    json_t *o =
        defaulted("batch", "CronJob",
                  "{\"spec\":{\"schedule\":\"* * * * *\",\"jobTemplate\":{\"spec\":{\"template\":"
                  "{\"spec\":{\"restartPolicy\":\"OnFailure\",\"containers\":[{\"name\":\"c\","
                  "\"image\":\"x\"}]}}}}}}");
    assert_str_at(o, "spec.concurrencyPolicy", "Allow");
    assert_true(json_is_false(at(o, "spec.suspend")));
    assert_int_at(o, "spec.successfulJobsHistoryLimit", 3);
    assert_int_at(o, "spec.failedJobsHistoryLimit", 1);
    assert_str_at(o, "spec.jobTemplate.spec.template.spec.dnsPolicy", "ClusterFirst");
    assert_str_at(o, "spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicy", "Always");
    /* The Job's own defaults wait until the Job is created. */
    assert_null(at(o, "spec.jobTemplate.spec.backoffLimit"));
    json_decref(o);
}

/* ---- autoscaling, scheduling, discovery ---- */

TEST(test_hpa)
{
    expect_defaults(
        "autoscaling", "HorizontalPodAutoscaler", "{\"spec\":{\"maxReplicas\":5}}",
        "{\"spec\":{\"maxReplicas\":5,\"minReplicas\":1,\"metrics\":[{\"type\":\"Resource\","
        "\"resource\":{\"name\":\"cpu\",\"target\":{\"type\":\"Utilization\","
        "\"averageUtilization\":80}}}]}}");
    json_t *o = defaulted("autoscaling", "HorizontalPodAutoscaler",
                          "{\"spec\":{\"minReplicas\":2,\"metrics\":[{\"type\":\"Pods\"}],"
                          "\"behavior\":{\"scaleDown\":{\"stabilizationWindowSeconds\":60}}}}");
    assert_int_at(o, "spec.minReplicas", 2);
    assert_str_at(o, "spec.metrics[0].type", "Pods");
    assert_int_at(o, "spec.behavior.scaleUp.stabilizationWindowSeconds", 0);
    assert_str_at(o, "spec.behavior.scaleUp.selectPolicy", "Max");
    assert_str_at(o, "spec.behavior.scaleUp.policies[0].type", "Pods");
    assert_int_at(o, "spec.behavior.scaleUp.policies[0].value", 4);
    assert_str_at(o, "spec.behavior.scaleUp.policies[1].type", "Percent");
    assert_int_at(o, "spec.behavior.scaleUp.policies[1].value", 100);
    assert_int_at(o, "spec.behavior.scaleUp.policies[1].periodSeconds", 15);
    assert_int_at(o, "spec.behavior.scaleDown.stabilizationWindowSeconds", 60);
    assert_str_at(o, "spec.behavior.scaleDown.policies[0].type", "Percent");
    assert_null(at(o, "spec.behavior.scaleDown.policies[1]"));
    json_decref(o);
    /* No behavior, none added. */
    o = defaulted("autoscaling", "HorizontalPodAutoscaler", "{\"spec\":{}}");
    assert_null(at(o, "spec.behavior"));
    json_decref(o);
}

TEST(test_priority_class_slice_lease)
{
    expect_defaults("scheduling.k8s.io", "PriorityClass", "{\"value\":10}",
                    "{\"value\":10,\"preemptionPolicy\":\"PreemptLowerPriority\"}");
    expect_defaults("scheduling.k8s.io", "PriorityClass",
                    "{\"value\":10,\"preemptionPolicy\":\"Never\"}",
                    "{\"value\":10,\"preemptionPolicy\":\"Never\"}");
    expect_defaults(
        "discovery.k8s.io", "EndpointSlice",
        "{\"addressType\":\"IPv4\",\"ports\":[{\"port\":80},{\"name\":\"dns\",\"protocol\":\"UDP\"}"
        "]}",
        "{\"addressType\":\"IPv4\",\"ports\":[{\"port\":80,\"name\":\"\",\"protocol\":\"TCP\"},"
        "{\"name\":\"dns\",\"protocol\":\"UDP\"}]}");
    expect_defaults("coordination.k8s.io", "Lease", "{\"spec\":{}}", "{\"spec\":{}}");
}

/* ---- robustness ---- */

TEST(test_wrong_types_left_alone)
{
    /* Every member of the wrong type: nothing crashes, nothing is replaced. */
    static const char *const bodies[] = {
        "{\"spec\":7}",
        "{\"spec\":{\"containers\":\"x\",\"volumes\":[1,null,{\"secret\":3}],\"securityContext\":"
        "\"x\"}}",
        "{\"spec\":{\"containers\":[{\"image\":5,\"ports\":[7],\"livenessProbe\":[]}]}}",
        "{\"spec\":{\"template\":[],\"strategy\":\"x\"}}",
        "{\"metadata\":[],\"stringData\":{\"a\":1},\"data\":3}",
        "{\"spec\":{\"ports\":[{\"port\":\"80\",\"targetPort\":null}]}}",
        "[]",
        "null",
    };
    static const struct {
        const char *group, *kind;
    } kinds[] = {
        {"", "Pod"},
        {"", "Service"},
        {"", "Secret"},
        {"", "Namespace"},
        {"apps", "Deployment"},
        {"apps", "StatefulSet"},
        {"apps", "DaemonSet"},
        {"batch", "Job"},
        {"batch", "CronJob"},
        {"autoscaling", "HorizontalPodAutoscaler"},
        {"", "PersistentVolume"},
        {"", "Node"},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
            json_t *o = json_loads(bodies[b], JSON_DECODE_ANY, NULL);
            kube_defaults_apply(kinds[k].group, kinds[k].kind, o);
            json_decref(o);
        }
    }
    json_t *o = defaulted("", "Pod", "{\"spec\":{\"securityContext\":\"x\",\"dnsPolicy\":5}}");
    assert_str_at(o, "spec.securityContext", "x");
    assert_int_at(o, "spec.dnsPolicy", 5);
    json_decref(o);
    kube_defaults_apply("", "Pod", NULL);
    kube_defaults_apply(NULL, "Pod", NULL);
}

TEST(test_unknown_kind)
{
    expect_defaults("example.com", "Widget", "{\"spec\":{}}", "{\"spec\":{}}");
    expect_defaults("apps", "Pod", "{\"spec\":{}}", "{\"spec\":{}}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bare_pod),
        cmocka_unit_test(test_pod_kept_values),
        cmocka_unit_test(test_image_pull_policy),
        cmocka_unit_test(test_pod_ports_probes_env),
        cmocka_unit_test(test_pod_requests_from_limits),
        cmocka_unit_test(test_pod_host_network_ports),
        cmocka_unit_test(test_pod_volumes),
        cmocka_unit_test(test_deployment),
        cmocka_unit_test(test_deployment_kept),
        cmocka_unit_test(test_replicaset_daemonset),
        cmocka_unit_test(test_statefulset),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_service_types),
        cmocka_unit_test(test_secret_string_data),
        cmocka_unit_test(test_namespace),
        cmocka_unit_test(test_volumes_and_claims),
        cmocka_unit_test(test_core_others),
        cmocka_unit_test(test_job),
        cmocka_unit_test(test_cronjob),
        cmocka_unit_test(test_hpa),
        cmocka_unit_test(test_priority_class_slice_lease),
        cmocka_unit_test(test_wrong_types_left_alone),
        cmocka_unit_test(test_unknown_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
