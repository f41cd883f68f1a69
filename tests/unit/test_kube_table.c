/* test_kube_table.c — unit tests for kube/table.c: the columns of each kind,
 * and rows as Kubernetes 1.32 prints them (pod status and restarts, node
 * status and roles, service ports, job status and completions, ages at the
 * boundaries of duration.HumanDuration...).
 *
 * Objects are written as JSON with single quotes (J() swaps them), rows are
 * compared cell by cell with row_is(), whose expected cells are strings, or
 * "#123" for an integer cell and "?true"/"?false" for a boolean one. Time is
 * fixed: NOW is 2025-01-01T00:00:00Z, and ts(seconds) names a moment that
 * many seconds earlier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "kube/kube.h"
#include "tests/unit/test_json.h"

#define NOW 1735689600LL /* 2025-01-01T00:00:00Z */


/* The RFC 3339 time `ago` seconds before NOW; a rotating static buffer, so a
 * few can be used in one expression. */
static const char *ts(long long ago)
{
    static char bufs[8][32];
    static int next;
    char *b = bufs[next++ % 8];
    time_t t = (time_t)(NOW - ago);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

/* An object from a printf format of single-quoted JSON. */
static json_t *Jf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *Jf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    assert_true(vasprintf(&s, fmt, ap) >= 0);
    va_end(ap);
    json_t *j = J(s);
    free(s);
    return j;
}

/* Compares the cells of obj (which is released) with the expected ones,
 * NULL-terminated. */
static void row_is(const char *group, const char *kind, json_t *obj, ...)
{
    json_t *cells = kube_table_cells(group, kind, obj, NOW);
    json_t *cols = kube_table_columns(group, kind);
    assert_int_equal(json_array_size(cells), json_array_size(cols));
    va_list ap;
    va_start(ap, obj);
    size_t i = 0;
    for (const char *want; (want = va_arg(ap, const char *)); i++) {
        json_t *c = json_array_get(cells, i);
        const char *col = json_string_value(json_object_get(json_array_get(cols, i), "name"));
        if (want[0] == '#') {
            if (!json_is_integer(c) || json_integer_value(c) != atoll(want + 1))
                fail_msg("%s cell %zu (%s): want integer %s, got %s", kind, i, col, want + 1,
                         json_dumps(c, JSON_ENCODE_ANY));
        } else if (want[0] == '?') {
            if (!json_is_boolean(c) || json_is_true(c) != (strcmp(want + 1, "true") == 0))
                fail_msg("%s cell %zu (%s): want %s", kind, i, col, want + 1);
        } else if (!json_is_string(c) || strcmp(json_string_value(c), want) != 0) {
            fail_msg("%s cell %zu (%s): want \"%s\", got %s", kind, i, col, want,
                     json_dumps(c, JSON_ENCODE_ANY));
        }
    }
    va_end(ap);
    json_decref(cells);
    json_decref(cols);
    json_decref(obj);
}

/* One cell of a row, as a string the caller frees. */
static char *cell_of(const char *group, const char *kind, json_t *obj, size_t i)
{
    json_t *cells = kube_table_cells(group, kind, obj, NOW);
    json_t *c = json_array_get(cells, i);
    char *s = json_is_string(c) ? strdup(json_string_value(c)) : json_dumps(c, JSON_ENCODE_ANY);
    json_decref(cells);
    json_decref(obj);
    return s;
}

/* The AGE cell of a namespace created `ago` seconds before NOW. */
static void age_is(long long ago, const char *want)
{
    char *got = cell_of("", "Namespace", Jf("{'metadata':{'name':'n','creationTimestamp':'%s'}}",
                                            ts(ago)),
                        2);
    if (strcmp(got, want) != 0)
        fail_msg("age of %llds: want %s, got %s", ago, want, got);
    free(got);
}

/* ---- columns ---- */

static void test_pod_columns(void **state)
{
    json_t *cols = kube_table_columns("", "Pod");
    const char *names[] = {"Name", "Ready", "Status", "Restarts", "Age",
                           "IP", "Node", "Nominated Node", "Readiness Gates"};
    assert_int_equal(json_array_size(cols), 9);
    for (size_t i = 0; i < 9; i++) {
        json_t *c = json_array_get(cols, i);
        assert_string_equal(json_string_value(json_object_get(c, "name")), names[i]);
        assert_string_equal(json_string_value(json_object_get(c, "type")), "string");
        assert_non_null(json_object_get(c, "format"));
        assert_non_null(json_object_get(c, "description"));
        assert_int_equal(json_integer_value(json_object_get(c, "priority")), i < 5 ? 0 : 1);
    }
    json_t *name = json_array_get(cols, 0);
    assert_string_equal(json_string_value(json_object_get(name, "format")), "name");
    assert_true(strncmp(json_string_value(json_object_get(name, "description")),
                        "Name must be unique within a namespace. Is required when creating", 65) ==
                0);
    assert_true(strncmp(json_string_value(json_object_get(json_array_get(cols, 4), "description")),
                        "CreationTimestamp is a timestamp representing the server time", 61) == 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 1), "format")), "");
    json_decref(cols);
}

static void test_columns_of_kinds(void **state)
{
    static const struct {
        const char *group, *kind, *names;
    } kinds[] = {
        {"", "Namespace", "Name,Status,Age"},
        {"", "Node", "Name,Status,Roles,Age,Version,Internal-IP,External-IP,OS-Image,"
                     "Kernel-Version,Container-Runtime"},
        {"", "Service", "Name,Type,Cluster-IP,External-IP,Port(s),Age,Selector"},
        {"", "Endpoints", "Name,Endpoints,Age"},
        {"", "ConfigMap", "Name,Data,Age"},
        {"", "Secret", "Name,Type,Data,Age"},
        {"", "PersistentVolume", "Name,Capacity,Access Modes,Reclaim Policy,Status,Claim,"
                                 "StorageClass,VolumeAttributesClass,Reason,Age,VolumeMode"},
        {"", "PersistentVolumeClaim", "Name,Status,Volume,Capacity,Access Modes,StorageClass,"
                                      "VolumeAttributesClass,Age,VolumeMode"},
        {"", "Event", "Last Seen,Type,Reason,Object,Subobject,Source,Message,First Seen,Count,"
                      "Name"},
        {"", "ServiceAccount", "Name,Secrets,Age"},
        {"apps", "Deployment", "Name,Ready,Up-to-date,Available,Age,Containers,Images,Selector"},
        {"apps", "ReplicaSet", "Name,Desired,Current,Ready,Age,Containers,Images,Selector"},
        {"apps", "DaemonSet", "Name,Desired,Current,Ready,Up-to-date,Available,Node Selector,"
                              "Age,Containers,Images,Selector"},
        {"apps", "StatefulSet", "Name,Ready,Age,Containers,Images"},
        {"apps", "ControllerRevision", "Name,Controller,Revision,Age"},
        {"batch", "Job", "Name,Status,Completions,Duration,Age,Containers,Images,Selector"},
        {"batch", "CronJob", "Name,Schedule,Timezone,Suspend,Active,Last Schedule,Age,"
                             "Containers,Images,Selector"},
        {"autoscaling", "HorizontalPodAutoscaler", "Name,Reference,Targets,MinPods,MaxPods,"
                                                   "Replicas,Age"},
        {"coordination.k8s.io", "Lease", "Name,Holder,Age"},
        {"discovery.k8s.io", "EndpointSlice", "Name,AddressType,Ports,Endpoints,Age"},
        {"scheduling.k8s.io", "PriorityClass", "Name,Value,Global-Default,Age,PreemptionPolicy"},
        {"policy", "PodDisruptionBudget", "Name,Min Available,Max Unavailable,"
                                          "Allowed Disruptions,Age"},
        {"example.com", "Widget", "Name,Age"},
        {"apps", "Pod", "Name,Age"}, /* the group is part of the kind */
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        json_t *cols = kube_table_columns(kinds[k].group, kinds[k].kind);
        char got[512] = "";
        for (size_t i = 0; i < json_array_size(cols); i++) {
            json_t *c = json_array_get(cols, i);
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
                     json_string_value(json_object_get(c, "name")));
            const char *d = json_string_value(json_object_get(c, "description"));
            assert_true(d && *d);
        }
        if (strcmp(got, kinds[k].names) != 0)
            fail_msg("%s/%s: want %s, got %s", kinds[k].group, kinds[k].kind, kinds[k].names, got);
        /* a row for an empty object has a cell for every column */
        json_t *obj = json_object();
        json_t *cells = kube_table_cells(kinds[k].group, kinds[k].kind, obj, NOW);
        assert_int_equal(json_array_size(cells), json_array_size(cols));
        json_decref(cells);
        /* and so does a row for no object at all */
        cells = kube_table_cells(kinds[k].group, kinds[k].kind, NULL, NOW);
        assert_int_equal(json_array_size(cells), json_array_size(cols));
        json_decref(cells);
        json_decref(obj);
        json_decref(cols);
    }
}

static void test_column_details(void **state)
{
    json_t *cols = kube_table_columns("", "Event");
    json_t *name = json_array_get(cols, 9);
    assert_string_equal(json_string_value(json_object_get(name, "format")), "name");
    assert_int_equal(json_integer_value(json_object_get(name, "priority")), 1);
    json_decref(cols);
    cols = kube_table_columns("apps", "ReplicaSet");
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 1), "type")),
                        "integer");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(cols, 5), "description")),
        "Names of each container in the template.");
    json_decref(cols);
    cols = kube_table_columns("batch", "CronJob");
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 3), "type")),
                        "boolean");
    json_decref(cols);
    cols = kube_table_columns("example.com", "Widget");
    assert_string_equal(json_string_value(json_object_get(json_array_get(cols, 1), "type")),
                        "date");
    json_decref(cols);
    cols = kube_table_columns(NULL, NULL);
    assert_int_equal(json_array_size(cols), 2);
    json_decref(cols);
}

/* ---- ages ---- */

static void test_human_duration(void **state)
{
    age_is(0, "0s");
    age_is(-1, "0s"); /* a second of clock skew is now */
    age_is(-2, "<invalid>");
    age_is(1, "1s");
    age_is(59, "59s");
    age_is(119, "119s");
    age_is(120, "2m");
    age_is(121, "2m1s");
    age_is(5 * 60 + 10, "5m10s");
    age_is(9 * 60 + 59, "9m59s");
    age_is(10 * 60, "10m");
    age_is(10 * 60 + 59, "10m");
    age_is(179 * 60 + 59, "179m");
    age_is(180 * 60, "3h");
    age_is(3 * 3600 + 60, "3h1m");
    age_is(7 * 3600 + 59 * 60 + 59, "7h59m");
    age_is(8 * 3600, "8h");
    age_is(47 * 3600 + 3599, "47h");
    age_is(48 * 3600, "2d");
    age_is(49 * 3600, "2d1h");
    age_is(8 * 86400 - 1, "7d23h");
    age_is(8 * 86400, "8d");
    age_is(729 * 86400, "729d");
    age_is(730 * 86400, "2y");
    age_is(731 * 86400, "2y1d");
    age_is(8 * 365 * 86400 - 1, "7y364d");
    age_is(8 * 365 * 86400, "8y");
    age_is(30LL * 365 * 86400, "30y");
}

static void test_age_edges(void **state)
{
    row_is("", "Namespace", J("{'metadata':{'name':'n'}}"), "n", "Active", "<unknown>", NULL);
    row_is("", "Namespace",
           J("{'metadata':{'name':'n','creationTimestamp':'garbage'},'status':{'phase':'Terminating'}}"),
           "n", "Terminating", "<unknown>", NULL);
    /* Go's zero time prints as unknown */
    row_is("", "Namespace", J("{'metadata':{'name':'n','creationTimestamp':'0001-01-01T00:00:00Z'}}"),
           "n", "Active", "<unknown>", NULL);
    /* fractions count: 10.5 seconds is 10s, 0.5 seconds in the future is 0s */
    row_is("", "Namespace", J("{'metadata':{'name':'n','creationTimestamp':'2024-12-31T23:59:49.5Z'}}"),
           "n", "Active", "10s", NULL);
    row_is("", "Namespace", J("{'metadata':{'name':'n','creationTimestamp':'2025-01-01T00:00:00.5Z'}}"),
           "n", "Active", "0s", NULL);
    /* not times: each prints as unknown */
    static const char *const bad[] = {
        "2025-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-04-31T00:00:00Z",
        "2024-01-01T24:00:00Z", "2024-01-01t00:00:00Z", "2024-01-01T00:00:00",
        "2024-01-01T00:00:00+0100", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00Zjunk",
        "2024-01-01 00:00:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *age = cell_of("", "Namespace",
                            Jf("{'metadata':{'name':'n','creationTimestamp':'%s'}}", bad[i]), 2);
        if (strcmp(age, "<unknown>") != 0)
            fail_msg("%s: want <unknown>, got %s", bad[i], age);
        free(age);
    }
    row_is("", "Namespace", J("{'metadata':{'name':'n','creationTimestamp':'2024-02-29T00:00:00Z'}}"),
           "n", "Active", "307d", NULL);
    /* offsets */
    row_is("", "Namespace",
           J("{'metadata':{'name':'n','creationTimestamp':'2025-01-01T00:55:00+01:00'}}"), "n",
           "Active", "5m", NULL);
    row_is("", "Namespace",
           J("{'metadata':{'name':'n','creationTimestamp':'2024-12-31T18:00:00-05:00'}}"), "n",
           "Active", "60m", NULL);
}

/* ---- Pod ---- */

static json_t *pod(const char *status_json)
{
    return Jf("{'metadata':{'name':'web','creationTimestamp':'%s'},"
              "'spec':{'nodeName':'n1','containers':[{'name':'app','image':'nginx'}]},"
              "'status':%s}",
              ts(300), status_json);
}

static void test_pod_running(void **state)
{
    row_is("", "Pod",
           pod("{'phase':'Running','podIP':'10.0.0.5','conditions':[{'type':'Ready','status':'True'}],"
               "'containerStatuses':[{'name':'app','ready':true,'restartCount':0,"
               "'state':{'running':{'startedAt':'2024-12-31T23:56:00Z'}}}]}"),
           "web", "1/1", "Running", "0", "5m", "10.0.0.5", "n1", "<none>", "<none>", NULL);
}

static void test_pod_crashloop(void **state)
{
    char status[512];
    snprintf(status, sizeof status,
             "{'phase':'Running','containerStatuses':[{'name':'app','ready':false,"
             "'restartCount':5,'state':{'waiting':{'reason':'CrashLoopBackOff'}},"
             "'lastState':{'terminated':{'exitCode':1,'reason':'Error','finishedAt':'%s'}}}]}",
             ts(185));
    row_is("", "Pod", pod(status), "web", "0/1", "CrashLoopBackOff", "5 (3m5s ago)", "5m",
           "<none>", "n1", "<none>", "<none>", NULL);
    /* restarts without a known finish time: the bare count */
    row_is("", "Pod",
           pod("{'phase':'Running','containerStatuses':[{'name':'app','restartCount':2,"
               "'state':{'waiting':{'reason':'CrashLoopBackOff'}},"
               "'lastState':{'terminated':{'exitCode':1}}}]}"),
           "web", "0/1", "CrashLoopBackOff", "2", "5m", "<none>", "n1", "<none>", "<none>", NULL);
}

static void test_pod_waiting_and_terminated(void **state)
{
    row_is("", "Pod",
           pod("{'phase':'Pending','containerStatuses':[{'name':'app',"
               "'state':{'waiting':{'reason':'ContainerCreating'}}}]}"),
           "web", "0/1", "ContainerCreating", "0", "5m", "<none>", "n1", "<none>", "<none>", NULL);
    row_is("", "Pod", pod("{'phase':'Pending'}"), "web", "0/1", "Pending", "0", "5m", "<none>",
           "n1", "<none>", "<none>", NULL);
    row_is("", "Pod", pod("{}"), "web", "0/1", "Pending", "0", "5m", "<none>", "n1", "<none>",
           "<none>", NULL);
    row_is("", "Pod",
           pod("{'phase':'Succeeded','containerStatuses':[{'name':'app',"
               "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}"),
           "web", "0/1", "Completed", "0", "5m", "<none>", "n1", "<none>", "<none>", NULL);
    row_is("", "Pod",
           pod("{'phase':'Failed','containerStatuses':[{'name':'app',"
               "'state':{'terminated':{'exitCode':137}}}]}"),
           "web", "0/1", "ExitCode:137", "0", "5m", "<none>", "n1", "<none>", "<none>", NULL);
    row_is("", "Pod",
           pod("{'phase':'Failed','containerStatuses':[{'name':'app',"
               "'state':{'terminated':{'exitCode':0,'signal':9}}}]}"),
           "web", "0/1", "Signal:9", "0", "5m", "<none>", "n1", "<none>", "<none>", NULL);
    /* the pod's own reason wins over its phase */
    row_is("", "Pod", pod("{'phase':'Failed','reason':'Evicted'}"), "web", "0/1", "Evicted", "0",
           "5m", "<none>", "n1", "<none>", "<none>", NULL);
    row_is("", "Pod",
           pod("{'phase':'Pending','conditions':[{'type':'PodScheduled','status':'False',"
               "'reason':'SchedulingGated'}]}"),
           "web", "0/1", "SchedulingGated", "0", "5m", "<none>", "n1", "<none>", "<none>", NULL);
}

static void test_pod_completed_but_running(void **state)
{
    const char *two = "{'metadata':{'name':'p'},'spec':{'containers':[{'name':'a'},{'name':'b'}]},"
                      "'status':{'phase':'Running','conditions':[%s],'containerStatuses':["
                      "{'name':'a','ready':true,'state':{'running':{}}},"
                      "{'name':'b','state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}}";
    row_is("", "Pod", Jf(two, "{'type':'Ready','status':'True'}"), "p", "1/2", "Running", "0",
           "<unknown>", "<none>", "<none>", "<none>", "<none>", NULL);
    row_is("", "Pod", Jf(two, "{'type':'Ready','status':'False'}"), "p", "1/2", "NotReady", "0",
           "<unknown>", "<none>", "<none>", "<none>", "<none>", NULL);
}

static void test_pod_terminating(void **state)
{
    json_t *p = pod("{'phase':'Running','containerStatuses':[{'name':'app','ready':true,"
                    "'state':{'running':{}}}]}");
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
                        json_string(ts(10)));
    row_is("", "Pod", p, "web", "1/1", "Terminating", "0", "5m", "<none>", "n1", "<none>",
           "<none>", NULL);
    /* a finished pod being deleted keeps its status */
    p = pod("{'phase':'Succeeded','containerStatuses':[{'name':'app',"
            "'state':{'terminated':{'exitCode':0,'reason':'Completed'}}}]}");
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp", json_string(ts(10)));
    row_is("", "Pod", p, "web", "0/1", "Completed", "0", "5m", "<none>", "n1", "<none>", "<none>",
           NULL);
    /* a pod on a lost node */
    p = pod("{'phase':'Running','reason':'NodeLost'}");
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp", json_string(ts(10)));
    row_is("", "Pod", p, "web", "0/1", "Unknown", "0", "5m", "<none>", "n1", "<none>", "<none>",
           NULL);
}

static json_t *init_pod(const char *init_specs, const char *init_statuses)
{
    return Jf("{'metadata':{'name':'p'},'spec':{'initContainers':[%s],"
              "'containers':[{'name':'app'}]},'status':{'phase':'Pending',"
              "'initContainerStatuses':[%s],'containerStatuses':[{'name':'app',"
              "'state':{'waiting':{'reason':'PodInitializing'}}}]}}",
              init_specs, init_statuses);
}

static void test_pod_init(void **state)
{
    const char *one = "{'name':'init'}";
    const char *two = "{'name':'i1'},{'name':'i2'}";
    row_is("", "Pod", init_pod(one, "{'name':'init','state':{'waiting':{'reason':'PodInitializing'}}}"),
           "p", "0/1", "Init:0/1", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>", NULL);
    row_is("", "Pod", init_pod(one, "{'name':'init','state':{'running':{}}}"), "p", "0/1",
           "Init:0/1", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>", NULL);
    row_is("", "Pod",
           init_pod(two, "{'name':'i1','state':{'terminated':{'exitCode':0}}},"
                         "{'name':'i2','state':{'running':{}}}"),
           "p", "0/1", "Init:1/2", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>", NULL);
    row_is("", "Pod",
           init_pod(one, "{'name':'init','restartCount':3,"
                         "'state':{'waiting':{'reason':'CrashLoopBackOff'}}}"),
           "p", "0/1", "Init:CrashLoopBackOff", "3", "<unknown>", "<none>", "<none>", "<none>",
           "<none>", NULL);
    row_is("", "Pod", init_pod(one, "{'name':'init','state':{'terminated':{'exitCode':2}}}"),
           "p", "0/1", "Init:ExitCode:2", "0", "<unknown>", "<none>", "<none>", "<none>",
           "<none>", NULL);
    row_is("", "Pod",
           init_pod(one, "{'name':'init','state':{'terminated':{'exitCode':1,'signal':15}}}"),
           "p", "0/1", "Init:Signal:15", "0", "<unknown>", "<none>", "<none>", "<none>",
           "<none>", NULL);
    row_is("", "Pod",
           init_pod(one, "{'name':'init','state':{'terminated':{'exitCode':1,'reason':'Error'}}}"),
           "p", "0/1", "Init:Error", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>",
           NULL);
    /* all init containers done: the containers decide */
    row_is("", "Pod", init_pod(one, "{'name':'init','state':{'terminated':{'exitCode':0}}}"),
           "p", "0/1", "PodInitializing", "0", "<unknown>", "<none>", "<none>", "<none>",
           "<none>", NULL);
}

static void test_pod_sidecar(void **state)
{
    /* a restartable init container counts as a container once started */
    row_is("", "Pod",
           J("{'metadata':{'name':'p'},'spec':{'initContainers':[{'name':'proxy',"
             "'restartPolicy':'Always'}],'containers':[{'name':'app'}]},"
             "'status':{'phase':'Running','conditions':[{'type':'Initialized','status':'True'},"
             "{'type':'Ready','status':'True'}],"
             "'initContainerStatuses':[{'name':'proxy','ready':true,'started':true,"
             "'restartCount':1,'state':{'running':{}}}],"
             "'containerStatuses':[{'name':'app','ready':true,'restartCount':2,"
             "'state':{'running':{}}}]}}"),
           "p", "2/2", "Running", "3", "<unknown>", "<none>", "<none>", "<none>", "<none>", NULL);
    /* not started yet: still initializing */
    row_is("", "Pod",
           J("{'metadata':{'name':'p'},'spec':{'initContainers':[{'name':'proxy',"
             "'restartPolicy':'Always'}],'containers':[{'name':'app'}]},"
             "'status':{'phase':'Pending','initContainerStatuses':[{'name':'proxy',"
             "'started':false,'state':{'running':{}}}]}}"),
           "p", "0/2", "Init:0/1", "0", "<unknown>", "<none>", "<none>", "<none>", "<none>", NULL);
}

static void test_pod_restart_ages(void **state)
{
    /* the latest finish among the containers is the one shown */
    json_t *p = Jf("{'metadata':{'name':'p'},'spec':{'containers':[{'name':'a'},{'name':'b'}]},"
                   "'status':{'phase':'Running','containerStatuses':["
                   "{'name':'a','ready':true,'restartCount':1,'state':{'running':{}},"
                   "'lastState':{'terminated':{'finishedAt':'%s'}}},"
                   "{'name':'b','ready':true,'restartCount':4,'state':{'running':{}},"
                   "'lastState':{'terminated':{'finishedAt':'%s'}}}]}}",
                   ts(7200), ts(90));
    row_is("", "Pod", p, "p", "2/2", "Running", "5 (90s ago)", "<unknown>", "<none>", "<none>",
           "<none>", "<none>", NULL);
}

static void test_pod_wide(void **state)
{
    row_is("", "Pod",
           J("{'metadata':{'name':'p'},'spec':{'readinessGates':[{'conditionType':'a'},"
             "{'conditionType':'b'}]},'status':{'phase':'Pending','podIPs':[{'ip':'fd00::1'},"
             "{'ip':'10.1.1.1'}],'nominatedNodeName':'n9','conditions':["
             "{'type':'a','status':'True'},{'type':'b','status':'False'}]}}"),
           "p", "0/0", "Pending", "0", "<unknown>", "fd00::1", "<none>", "n9", "1/2", NULL);
}

/* ---- other core kinds ---- */

static void test_node(void **state)
{
    const char *fmt = "{'metadata':{'name':'n1','creationTimestamp':'%s','labels':{%s}},"
                      "'spec':{%s},'status':{'conditions':[%s],"
                      "'addresses':[{'type':'Hostname','address':'n1'},"
                      "{'type':'InternalIP','address':'10.0.0.1'}],"
                      "'nodeInfo':{'kubeletVersion':'v1.32.3','osImage':'Debian GNU/Linux 13'}}}";
    row_is("", "Node",
           Jf(fmt, ts(86400 * 3),
              "'node-role.kubernetes.io/control-plane':'','node-role.kubernetes.io/master':'',"
              "'kubernetes.io/hostname':'n1'",
              "", "{'type':'Ready','status':'True'}"),
           "n1", "Ready", "control-plane,master", "3d", "v1.32.3", "10.0.0.1", "<none>",
           "Debian GNU/Linux 13", "<unknown>", "<unknown>", NULL);
    row_is("", "Node",
           Jf(fmt, ts(60), "'kubernetes.io/role':'worker','node-role.kubernetes.io/':''",
              "'unschedulable':true", "{'type':'Ready','status':'False'}"),
           "n1", "NotReady,SchedulingDisabled", "worker", "60s", "v1.32.3", "10.0.0.1", "<none>",
           "Debian GNU/Linux 13", "<unknown>", "<unknown>", NULL);
    row_is("", "Node", Jf(fmt, ts(60), "", "", "{'type':'MemoryPressure','status':'False'}"),
           "n1", "Unknown", "<none>", "60s", "v1.32.3", "10.0.0.1", "<none>",
           "Debian GNU/Linux 13", "<unknown>", "<unknown>", NULL);
    row_is("", "Node",
           Jf(fmt, ts(60), "'kubernetes.io/role':'a','node-role.kubernetes.io/a':''",
              "'unschedulable':true", "{'type':'Ready','status':'Unknown'}"),
           "n1", "NotReady,SchedulingDisabled", "a", "60s", "v1.32.3", "10.0.0.1", "<none>",
           "Debian GNU/Linux 13", "<unknown>", "<unknown>", NULL);
    row_is("", "Node", J("{'metadata':{'name':'n'},'spec':{'unschedulable':true}}"), "n",
           "Unknown,SchedulingDisabled", "<none>", "<unknown>", "", "<none>", "<none>",
           "<unknown>", "<unknown>", "<unknown>", NULL);
}

static void test_service(void **state)
{
    row_is("", "Service",
           Jf("{'metadata':{'name':'web','creationTimestamp':'%s'},'spec':{'type':'ClusterIP',"
              "'clusterIP':'10.96.0.10','clusterIPs':['10.96.0.10'],'ports':[{'port':80,"
              "'protocol':'TCP','targetPort':8080}],'selector':{'tier':'front','app':'web'}}}",
              ts(3600)),
           "web", "ClusterIP", "10.96.0.10", "<none>", "80/TCP", "60m", "app=web,tier=front",
           NULL);
    row_is("", "Service",
           J("{'metadata':{'name':'np'},'spec':{'type':'NodePort','clusterIPs':['10.96.1.1'],"
             "'ports':[{'port':80,'nodePort':30080},{'port':53,'protocol':'UDP'}],"
             "'externalIPs':['1.2.3.4','5.6.7.8']}}"),
           "np", "NodePort", "10.96.1.1", "1.2.3.4,5.6.7.8", "80:30080/TCP,53/UDP", "<unknown>",
           "<none>", NULL);
    row_is("", "Service", J("{'metadata':{'name':'lb'},'spec':{'type':'LoadBalancer'}}"), "lb",
           "LoadBalancer", "<none>", "<pending>", "<none>", "<unknown>", "<none>", NULL);
    row_is("", "Service",
           J("{'metadata':{'name':'lb'},'spec':{'type':'LoadBalancer','externalIPs':['9.9.9.9']},"
             "'status':{'loadBalancer':{'ingress':[{'ip':'5.5.5.5'},{'hostname':'lb.example.com'},"
             "{'ip':'1.1.1.1'},{'ip':'5.5.5.5'}]}}}"),
           "lb", "LoadBalancer", "<none>", "1.1.1.1,5.5.5.5,lb.example.com,9.9.9.9", "<none>",
           "<unknown>", "<none>", NULL);
    row_is("", "Service",
           J("{'metadata':{'name':'ext'},'spec':{'type':'ExternalName',"
             "'externalName':'db.example.com'}}"),
           "ext", "ExternalName", "<none>", "db.example.com", "<none>", "<unknown>", "<none>",
           NULL);
    row_is("", "Service", J("{'metadata':{'name':'h'},'spec':{'clusterIP':'None'}}"), "h",
           "ClusterIP", "None", "<none>", "<none>", "<unknown>", "<none>", NULL);
    row_is("", "Service", J("{'metadata':{'name':'x'},'spec':{'type':'Weird'}}"), "x", "Weird",
           "<none>", "<unknown>", "<none>", "<unknown>", "<none>", NULL);
}

static void test_endpoints(void **state)
{
    row_is("", "Endpoints", J("{'metadata':{'name':'e'}}"), "e", "<none>", "<unknown>", NULL);
    row_is("", "Endpoints",
           J("{'metadata':{'name':'e'},'subsets':[{'addresses':[{'ip':'10.0.0.1'},"
             "{'ip':'10.0.0.2'}],'ports':[{'port':80},{'port':443}]}]}"),
           "e", "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...", "<unknown>", NULL);
    row_is("", "Endpoints",
           J("{'metadata':{'name':'e'},'subsets':[{'addresses':[{'ip':'fd00::1'}],"
             "'ports':[{'port':53}]},{'addresses':[{'ip':'10.0.0.9'}]}]}"),
           "e", "[fd00::1]:53,10.0.0.9", "<unknown>", NULL);
    row_is("", "Endpoints", J("{'metadata':{'name':'e'},'subsets':[{'ports':[{'port':80}]}]}"),
           "e", "", "<unknown>", NULL);
}

static void test_configmap_secret_serviceaccount(void **state)
{
    row_is("", "ConfigMap",
           J("{'metadata':{'name':'c'},'data':{'a':'1','b':'2'},'binaryData':{'c':'AA=='}}"), "c",
           "#3", "<unknown>", NULL);
    row_is("", "ConfigMap", J("{'metadata':{'name':'c'}}"), "c", "#0", "<unknown>", NULL);
    row_is("", "Secret",
           J("{'metadata':{'name':'s'},'type':'kubernetes.io/tls','data':{'tls.crt':'',"
             "'tls.key':''}}"),
           "s", "kubernetes.io/tls", "#2", "<unknown>", NULL);
    row_is("", "Secret", J("{'metadata':{'name':'s'}}"), "s", "Opaque", "#0", "<unknown>", NULL);
    row_is("", "ServiceAccount",
           J("{'metadata':{'name':'default'},'secrets':[{'name':'t'}]}"), "default", "#1",
           "<unknown>", NULL);
}

static void test_volumes(void **state)
{
    row_is("", "PersistentVolume",
           J("{'metadata':{'name':'pv1'},'spec':{'capacity':{'storage':'10Gi'},"
             "'accessModes':['ReadWriteMany','ReadWriteOnce','ReadWriteOnce'],"
             "'persistentVolumeReclaimPolicy':'Retain','storageClassName':'fast',"
             "'claimRef':{'namespace':'ns','name':'data'},'volumeMode':'Filesystem'},"
             "'status':{'phase':'Bound'}}"),
           "pv1", "10Gi", "RWO,RWX", "Retain", "Bound", "ns/data", "fast", "<unset>", "",
           "<unknown>", "Filesystem", NULL);
    row_is("", "PersistentVolume",
           J("{'metadata':{'name':'pv2','deletionTimestamp':'2024-01-01T00:00:00Z',"
             "'annotations':{'volume.beta.kubernetes.io/storage-class':'old'}},"
             "'spec':{'storageClassName':'new'},'status':{'phase':'Failed','reason':'Oops'}}"),
           "pv2", "0", "", "", "Terminating", "", "old", "<unset>", "Oops", "<unknown>",
           "<unset>", NULL);
    row_is("", "PersistentVolumeClaim",
           J("{'metadata':{'name':'data'},'spec':{'volumeName':'pv1','storageClassName':'fast',"
             "'resources':{'requests':{'storage':'1Gi'}}},'status':{'phase':'Bound',"
             "'capacity':{'storage':'10Gi'},'accessModes':['ReadWriteOncePod']}}"),
           "data", "Bound", "pv1", "10Gi", "RWOP", "fast", "<unset>", "<unknown>", "<unset>",
           NULL);
    row_is("", "PersistentVolumeClaim",
           J("{'metadata':{'name':'data'},'spec':{'volumeAttributesClassName':'gold',"
             "'volumeMode':'Block'}}"),
           "data", "Pending", "", "", "", "", "gold", "<unknown>", "Block", NULL);
}

static void test_event(void **state)
{
    row_is("", "Event",
           Jf("{'metadata':{'name':'web.1'},'type':'Warning','reason':'BackOff',"
              "'message':'  Back-off restarting failed container\\n','count':7,"
              "'firstTimestamp':'%s','lastTimestamp':'%s',"
              "'involvedObject':{'kind':'Pod','name':'web','fieldPath':'spec.containers{app}'},"
              "'source':{'component':'kubelet','host':'n1'}}",
              ts(3600), ts(30)),
           "30s", "Warning", "BackOff", "pod/web", "spec.containers{app}", "kubelet, n1",
           "Back-off restarting failed container", "60m", "#7", "web.1", NULL);
    /* events.k8s.io-style: eventTime (a MicroTime: 3599.877s ago is 59m), series,
     * reporting controller, no count */
    row_is("", "Event",
           Jf("{'metadata':{'name':'e'},'type':'Normal','reason':'Scheduled','eventTime':"
              "'2024-12-31T23:00:00.123456Z','reportingComponent':'default-scheduler',"
              "'involvedObject':{'kind':'Node'}}"),
           "59m", "Normal", "Scheduled", "node", "", "default-scheduler", "", "59m", "#1", "e",
           NULL);
    row_is("", "Event",
           Jf("{'metadata':{'name':'e'},'eventTime':'%s','series':{'count':4,"
              "'lastObservedTime':'%s'},'reportingComponent':'c','reportingInstance':'i',"
              "'involvedObject':{'kind':'Deployment','name':'d'}}",
              ts(600), ts(5)),
           "5s", "", "", "deployment/d", "", "c, i", "", "10m", "#4", "e", NULL);
    row_is("", "Event", J("{'metadata':{'name':'e'}}"), "<unknown>", "", "", "", "", "", "",
           "<unknown>", "#1", "e", NULL);
}

/* ---- apps ---- */

static void test_deployment(void **state)
{
    row_is("apps", "Deployment",
           Jf("{'metadata':{'name':'web','creationTimestamp':'%s'},'spec':{'replicas':3,"
              "'selector':{'matchLabels':{'app':'web'},'matchExpressions':[{'key':'tier',"
              "'operator':'In','values':['b','a']},{'key':'canary','operator':'DoesNotExist'},"
              "{'key':'env','operator':'NotIn','values':['qa']},{'key':'app','operator':"
              "'Exists'}]},'template':{'spec':{'containers':[{'name':'app','image':'nginx:1'},"
              "{'name':'log','image':'busybox'}]}}},'status':{'replicas':3,'readyReplicas':2,"
              "'updatedReplicas':3,'availableReplicas':2}}",
              ts(90)),
           "web", "2/3", "#3", "#2", "90s", "app,log", "nginx:1,busybox",
           "app=web,app,!canary,env notin (qa),tier in (a,b)", NULL);
    /* spec.replicas defaults to 1; no selector prints as nothing */
    row_is("apps", "Deployment", J("{'metadata':{'name':'d'}}"), "d", "0/1", "#0", "#0",
           "<unknown>", "", "", "", NULL);
    row_is("apps", "Deployment",
           J("{'metadata':{'name':'d'},'spec':{'replicas':0,'selector':{}}}"), "d", "0/0", "#0",
           "#0", "<unknown>", "", "", "", NULL);
    row_is("apps", "Deployment",
           J("{'metadata':{'name':'d'},'spec':{'selector':{'matchExpressions':[{'key':'a',"
             "'operator':'In'}]}}}"),
           "d", "0/1", "#0", "#0", "<unknown>", "", "", "<invalid>", NULL);
}

static void test_replicaset_daemonset_statefulset(void **state)
{
    row_is("apps", "ReplicaSet",
           J("{'metadata':{'name':'rs'},'spec':{'replicas':3,'selector':{'matchLabels':"
             "{'b':'2','a':'1'}},'template':{'spec':{'containers':[{'name':'c','image':'i'}]}}},"
             "'status':{'replicas':3,'readyReplicas':1}}"),
           "rs", "#3", "#3", "#1", "<unknown>", "c", "i", "a=1,b=2", NULL);
    row_is("apps", "ReplicaSet", J("{'metadata':{'name':'rs'},'spec':{'selector':{}}}"), "rs",
           "#1", "#0", "#0", "<unknown>", "", "", "<none>", NULL);
    row_is("apps", "ReplicaSet",
           J("{'metadata':{'name':'rs'},'spec':{'selector':{'matchLabels':{'bad key':'x'}}}}"),
           "rs", "#1", "#0", "#0", "<unknown>", "", "", "<error>", NULL);
    row_is("apps", "DaemonSet",
           J("{'metadata':{'name':'ds'},'spec':{'selector':{'matchLabels':{'k':'v'}},"
             "'template':{'spec':{'nodeSelector':{'os':'linux','arch':'amd64'},"
             "'containers':[{'name':'agent','image':'agent:2'}]}}},'status':{"
             "'desiredNumberScheduled':5,'currentNumberScheduled':4,'numberReady':3,"
             "'updatedNumberScheduled':2,'numberAvailable':1}}"),
           "ds", "#5", "#4", "#3", "#2", "#1", "arch=amd64,os=linux", "<unknown>", "agent",
           "agent:2", "k=v", NULL);
    row_is("apps", "DaemonSet", J("{'metadata':{'name':'ds'}}"), "ds", "#0", "#0", "#0", "#0",
           "#0", "<none>", "<unknown>", "", "", "<none>", NULL);
    row_is("apps", "StatefulSet",
           J("{'metadata':{'name':'db'},'spec':{'replicas':3,'template':{'spec':{'containers':"
             "[{'name':'pg','image':'postgres'}]}}},'status':{'readyReplicas':3}}"),
           "db", "3/3", "<unknown>", "pg", "postgres", NULL);
}

static void test_controllerrevision(void **state)
{
    row_is("apps", "ControllerRevision",
           J("{'metadata':{'name':'ds-7d9','ownerReferences':[{'apiVersion':'apps/v1',"
             "'kind':'DaemonSet','name':'ds','controller':true}]},'revision':4}"),
           "ds-7d9", "daemonset.apps/ds", "#4", "<unknown>", NULL);
    row_is("apps", "ControllerRevision",
           J("{'metadata':{'name':'r','ownerReferences':[{'apiVersion':'v1','kind':'Pod',"
             "'name':'p','controller':false},{'apiVersion':'v1','kind':'ReplicationController',"
             "'name':'rc','controller':true}]},'revision':1}"),
           "r", "replicationcontroller/rc", "#1", "<unknown>", NULL);
    row_is("apps", "ControllerRevision", J("{'metadata':{'name':'r'}}"), "r", "<none>", "#0",
           "<unknown>", NULL);
}

/* ---- batch ---- */

static json_t *job(const char *spec, const char *status)
{
    return Jf("{'metadata':{'name':'j','creationTimestamp':'%s'},'spec':{%s%s"
              "'template':{'spec':{'containers':[{'name':'c','image':'i'}]}},"
              "'selector':{'matchLabels':{'batch.kubernetes.io/controller-uid':'u1'}}},"
              "'status':{%s}}",
              ts(600), spec, *spec ? "," : "", status);
}

static void test_job(void **state)
{
    char status[512];
    snprintf(status, sizeof status,
             "'succeeded':1,'startTime':'%s','completionTime':'%s',"
             "'conditions':[{'type':'SuccessCriteriaMet','status':'True'},"
             "{'type':'Complete','status':'True'}]",
             ts(600), ts(583));
    row_is("batch", "Job", job("'completions':1,'parallelism':1", status), "j", "Complete",
           "1/1", "17s", "10m", "c", "i", "batch.kubernetes.io/controller-uid=u1", NULL);
    snprintf(status, sizeof status, "'active':3,'startTime':'%s'", ts(150));
    row_is("batch", "Job", job("'parallelism':3", status), "j", "Running", "0/1 of 3", "2m30s",
           "10m", "c", "i", "batch.kubernetes.io/controller-uid=u1", NULL);
    row_is("batch", "Job", job("'completions':5", "'succeeded':2,'failed':1"), "j", "Running",
           "2/5", "", "10m", "c", "i", "batch.kubernetes.io/controller-uid=u1", NULL);
    row_is("batch", "Job",
           job("", "'conditions':[{'type':'Failed','status':'True','reason':'BackoffLimitExceeded'}]"),
           "j", "Failed", "0/1", "", "10m", "c", "i", "batch.kubernetes.io/controller-uid=u1",
           NULL);
    row_is("batch", "Job", job("", "'conditions':[{'type':'Suspended','status':'True'}]"), "j",
           "Suspended", "0/1", "", "10m", "c", "i", "batch.kubernetes.io/controller-uid=u1", NULL);
    row_is("batch", "Job", job("", "'conditions':[{'type':'Suspended','status':'False'}]"), "j",
           "Running", "0/1", "", "10m", "c", "i", "batch.kubernetes.io/controller-uid=u1", NULL);
    row_is("batch", "Job", job("", "'conditions':[{'type':'FailureTarget','status':'True'}]"),
           "j", "FailureTarget", "0/1", "", "10m", "c", "i",
           "batch.kubernetes.io/controller-uid=u1", NULL);
    json_t *j = job("", "'conditions':[{'type':'Suspended','status':'True'}]");
    json_object_set_new(json_object_get(j, "metadata"), "deletionTimestamp", json_string(ts(1)));
    row_is("batch", "Job", j, "j", "Terminating", "0/1", "", "10m", "c", "i",
           "batch.kubernetes.io/controller-uid=u1", NULL);
    /* complete wins over terminating */
    j = job("", "'conditions':[{'type':'Complete','status':'True'}]");
    json_object_set_new(json_object_get(j, "metadata"), "deletionTimestamp", json_string(ts(1)));
    row_is("batch", "Job", j, "j", "Complete", "0/1", "", "10m", "c", "i",
           "batch.kubernetes.io/controller-uid=u1", NULL);
}

static void test_cronjob(void **state)
{
    row_is("batch", "CronJob",
           Jf("{'metadata':{'name':'cj','creationTimestamp':'%s'},'spec':{'schedule':"
              "'*/5 * * * *','jobTemplate':{'spec':{'template':{'spec':{'containers':"
              "[{'name':'c','image':'i'}]}}}}},'status':{'active':[{'name':'j1'}],"
              "'lastScheduleTime':'%s'}}",
              ts(86400), ts(240)),
           "cj", "*/5 * * * *", "<none>", "False", "#1", "4m", "24h", "c", "i", "<none>", NULL);
    row_is("batch", "CronJob",
           J("{'metadata':{'name':'cj'},'spec':{'schedule':'@daily','timeZone':'Etc/UTC',"
             "'suspend':true,'jobTemplate':{'spec':{'selector':{'matchLabels':{'a':'b'}}}}}}"),
           "cj", "@daily", "Etc/UTC", "True", "#0", "<none>", "<unknown>", "", "", "a=b", NULL);
}

/* ---- autoscaling and the rest ---- */

static void test_hpa(void **state)
{
    row_is("autoscaling", "HorizontalPodAutoscaler",
           J("{'metadata':{'name':'h'},'spec':{'scaleTargetRef':{'kind':'Deployment',"
             "'name':'web'},'minReplicas':2,'maxReplicas':10,'metrics':[{'type':'Resource',"
             "'resource':{'name':'cpu','target':{'type':'Utilization','averageUtilization':80}}}]},"
             "'status':{'currentReplicas':3,'currentMetrics':[{'type':'Resource','resource':"
             "{'name':'cpu','current':{'averageUtilization':45,'averageValue':'120m'}}}]}}"),
           "h", "Deployment/web", "cpu: 45%/80%", "2", "#10", "#3", "<unknown>", NULL);
    row_is("autoscaling", "HorizontalPodAutoscaler",
           J("{'metadata':{'name':'h'},'spec':{'scaleTargetRef':{'kind':'Deployment',"
             "'name':'web'},'maxReplicas':5,'metrics':["
             "{'type':'Resource','resource':{'name':'memory','target':{'type':'AverageValue',"
             "'averageValue':'500Mi'}}},"
             "{'type':'Pods','pods':{'metric':{'name':'qps'},'target':{'type':'AverageValue',"
             "'averageValue':'10'}}},"
             "{'type':'External','external':{'metric':{'name':'q'},'target':{'type':'Value',"
             "'value':'3'}}}]}}"),
           "h", "Deployment/web", "memory: <unknown>/500Mi, <unknown>/10 + 1 more...", "1", "#5",
           "#0", "<unknown>", NULL);
    row_is("autoscaling", "HorizontalPodAutoscaler",
           J("{'metadata':{'name':'h'},'spec':{'scaleTargetRef':{'kind':'StatefulSet',"
             "'name':'db'},'maxReplicas':3,'metrics':["
             "{'type':'External','external':{'metric':{'name':'q'},'target':{'type':'AverageValue',"
             "'averageValue':'30'}}},"
             "{'type':'Object','object':{'metric':{'name':'rps'},'target':{'type':'Value',"
             "'value':'100'}}}]},'status':{'currentMetrics':["
             "{'type':'External','external':{'current':{'averageValue':'12'}}},"
             "{'type':'Object','object':{'current':{'value':'80'}}}]}}"),
           "h", "StatefulSet/db", "12/30 (avg), 80/100", "1", "#3", "#0", "<unknown>", NULL);
    row_is("autoscaling", "HorizontalPodAutoscaler",
           J("{'metadata':{'name':'h'},'spec':{'metrics':[{'type':'Resource','resource':"
             "{'name':'cpu','target':{'type':'Utilization'}}},{'type':'Bogus'}]}}"),
           "h", "/", "cpu: <unknown>/<auto>, <unknown type>", "1", "#0", "#0", "<unknown>", NULL);
    row_is("autoscaling", "HorizontalPodAutoscaler", J("{'metadata':{'name':'h'}}"), "h", "/",
           "<none>", "1", "#0", "#0", "<unknown>", NULL);
}

static void test_lease_slice_priority_pdb(void **state)
{
    row_is("coordination.k8s.io", "Lease",
           J("{'metadata':{'name':'kube-scheduler'},'spec':{'holderIdentity':'s1_abc'}}"),
           "kube-scheduler", "s1_abc", "<unknown>", NULL);
    row_is("coordination.k8s.io", "Lease", J("{'metadata':{'name':'l'}}"), "l", "", "<unknown>",
           NULL);
    row_is("discovery.k8s.io", "EndpointSlice",
           J("{'metadata':{'name':'web-abc'},'addressType':'IPv4','ports':[{'name':'http',"
             "'port':80},{'name':'https'},{},{'port':9090}],'endpoints':[{'addresses':"
             "['10.0.0.1']},{'addresses':['10.0.0.2','10.0.0.3']},{'addresses':['10.0.0.4']}]}"),
           "web-abc", "IPv4", "80,https,* + 1 more...", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
           "<unknown>", NULL);
    row_is("discovery.k8s.io", "EndpointSlice",
           J("{'metadata':{'name':'e'},'addressType':'IPv6'}"), "e", "IPv6", "<unset>", "<unset>",
           "<unknown>", NULL);
    row_is("scheduling.k8s.io", "PriorityClass",
           J("{'metadata':{'name':'system-node-critical'},'value':2000001000,"
             "'globalDefault':false,'preemptionPolicy':'Never'}"),
           "system-node-critical", "#2000001000", "?false", "<unknown>", "Never", NULL);
    row_is("scheduling.k8s.io", "PriorityClass",
           J("{'metadata':{'name':'p'},'value':-5,'globalDefault':true}"), "p", "#-5", "?true",
           "<unknown>", "PreemptLowerPriority", NULL);
    row_is("policy", "PodDisruptionBudget",
           J("{'metadata':{'name':'pdb'},'spec':{'minAvailable':2},'status':"
             "{'disruptionsAllowed':1}}"),
           "pdb", "2", "N/A", "#1", "<unknown>", NULL);
    row_is("policy", "PodDisruptionBudget",
           J("{'metadata':{'name':'pdb'},'spec':{'maxUnavailable':'25%'}}"), "pdb", "N/A", "25%",
           "#0", "<unknown>", NULL);
}

/* Objects of the wrong shape print something and never crash. */
static void test_malformed_objects(void **state)
{
    static const char *const shapes[] = {
        "[]", "3", "'x'", "null",
        "{'metadata':[],'spec':'x','status':7}",
        "{'metadata':{'name':5,'labels':[],'creationTimestamp':9},'spec':{'containers':{},"
        "'initContainers':[1,null,'x'],'selector':[],'ports':'p','replicas':'3',"
        "'template':{'spec':{'containers':[null,{'name':1}]}}},'status':{'conditions':[1,[]],"
        "'containerStatuses':[null,{'state':[]},{'state':{'terminated':[]}}],"
        "'initContainerStatuses':{},'addresses':{},'loadBalancer':{'ingress':[null,1]}}}",
        "{'subsets':[null,{'addresses':[null],'ports':[null]}],'ports':[null,{'port':'x'}],"
        "'endpoints':[{'addresses':[1,null]}],'involvedObject':[],'series':{},'count':'x',"
        "'data':[],'secrets':{},'spec':{'metrics':[null,{'type':'Resource'},{'type':'Pods',"
        "'pods':[]},{'type':'External'}],'selector':{'matchExpressions':[{'key':'a',"
        "'operator':'In','values':[1]}]},'jobTemplate':null,'minAvailable':[]},"
        "'status':{'currentMetrics':'x'}}",
    };
    static const char *const kinds[][2] = {
        {"", "Pod"}, {"", "Namespace"}, {"", "Node"}, {"", "Service"}, {"", "Endpoints"},
        {"", "ConfigMap"}, {"", "Secret"}, {"", "PersistentVolume"},
        {"", "PersistentVolumeClaim"}, {"", "Event"}, {"", "ServiceAccount"},
        {"apps", "Deployment"}, {"apps", "ReplicaSet"}, {"apps", "DaemonSet"},
        {"apps", "StatefulSet"}, {"apps", "ControllerRevision"}, {"batch", "Job"},
        {"batch", "CronJob"}, {"autoscaling", "HorizontalPodAutoscaler"},
        {"coordination.k8s.io", "Lease"}, {"discovery.k8s.io", "EndpointSlice"},
        {"scheduling.k8s.io", "PriorityClass"}, {"policy", "PodDisruptionBudget"},
        {"x", "Y"},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        char *text = strdup(shapes[s]);
        for (char *p = text; *p; p++)
            if (*p == '\'')
                *p = '"';
        json_t *obj = json_loads(text, JSON_DECODE_ANY, NULL);
        assert_non_null(obj);
        free(text);
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            json_t *cells = kube_table_cells(kinds[k][0], kinds[k][1], obj, NOW);
            json_t *cols = kube_table_columns(kinds[k][0], kinds[k][1]);
            assert_int_equal(json_array_size(cells), json_array_size(cols));
            json_decref(cells);
            json_decref(cols);
        }
        json_decref(obj);
    }
}

static void test_unknown_kind(void **state)
{
    row_is("example.com", "Widget",
           Jf("{'metadata':{'name':'w','creationTimestamp':'%s'},'spec':{}}", ts(42)), "w", "42s",
           NULL);
    row_is("", "LimitRange", J("{'metadata':{'name':'lr'}}"), "lr", "<unknown>", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod_columns),
        cmocka_unit_test(test_columns_of_kinds),
        cmocka_unit_test(test_column_details),
        cmocka_unit_test(test_human_duration),
        cmocka_unit_test(test_age_edges),
        cmocka_unit_test(test_pod_running),
        cmocka_unit_test(test_pod_crashloop),
        cmocka_unit_test(test_pod_waiting_and_terminated),
        cmocka_unit_test(test_pod_completed_but_running),
        cmocka_unit_test(test_pod_terminating),
        cmocka_unit_test(test_pod_init),
        cmocka_unit_test(test_pod_sidecar),
        cmocka_unit_test(test_pod_restart_ages),
        cmocka_unit_test(test_pod_wide),
        cmocka_unit_test(test_node),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_configmap_secret_serviceaccount),
        cmocka_unit_test(test_volumes),
        cmocka_unit_test(test_event),
        cmocka_unit_test(test_deployment),
        cmocka_unit_test(test_replicaset_daemonset_statefulset),
        cmocka_unit_test(test_controllerrevision),
        cmocka_unit_test(test_job),
        cmocka_unit_test(test_cronjob),
        cmocka_unit_test(test_hpa),
        cmocka_unit_test(test_lease_slice_priority_pdb),
        cmocka_unit_test(test_malformed_objects),
        cmocka_unit_test(test_unknown_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
