/* test_ctl_daemonset.c — unit tests for the DaemonSet controller's
 * decisions (controllers/daemonset.c, through ctl_internal.h): which nodes
 * should run a daemon pod (nodeName, nodeSelector, required node affinity,
 * taints against the template's and the default tolerations), the pods it
 * makes, what manage() creates and deletes, what a rolling update deletes
 * within maxUnavailable, the status numbers, and revision matching.
 *
 * Objects are written as JSON with single quotes (J() turns them into
 * double quotes) to keep the C strings readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controllers/ctl_internal.h"
#include "tests/unit/test_json.h"

/* A DaemonSet whose template spec is spec_extra's members plus a container. */
static json_t *ds_with(const char *spec_extra, const char *strategy)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'d','namespace':'ns','uid':'u-ds','generation':3},"
             "'spec':{'selector':{'matchLabels':{'app':'d'}},'updateStrategy':%s,"
             "'template':{'metadata':{'labels':{'app':'d'}},"
             "'spec':{'containers':[{'name':'c','image':'i'}]%s%s}}}}",
             strategy ? strategy : "{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':1}}",
             spec_extra ? "," : "", spec_extra ? spec_extra : "");
    return J(buf);
}

static json_t *node(const char *name, const char *labels, const char *taints)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "{'metadata':{'name':'%s','labels':%s},'spec':{'taints':%s}}", name,
             labels ? labels : "{}", taints ? taints : "[]");
    return J(buf);
}

static void plan_free(struct ctl_ds_plan *p)
{
    json_decref(p->create_nodes);
    json_decref(p->delete_pods);
    json_decref(p->failed_pods); /* NULL from ctl_ds_plan_surge */
}

/* A daemon pod: on node (bound), hash label, phase, Ready, created at t. */
static json_t *dpod(const char *name, const char *node_name, const char *hash, const char *phase,
                    bool ready, const char *t)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'%s','namespace':'ns','uid':'uid-%s','creationTimestamp':'%s',"
             "'labels':{'app':'d','controller-revision-hash':'%s'},"
             "'ownerReferences':[{'kind':'DaemonSet','name':'d','uid':'u-ds','controller':true}]},"
             "'spec':{'nodeName':'%s'},"
             "'status':{'phase':'%s','conditions':[{'type':'Ready','status':'%s',"
             "'lastTransitionTime':'2020-01-01T00:00:00Z'}]}}",
             name, name, t, hash, node_name, phase, ready ? "True" : "False");
    return J(buf);
}

static bool run_on(json_t *ds, json_t *n, bool *cont)
{
    bool r = ctl_ds_node_should_run(ds, n, cont);
    json_decref(n);
    return r;
}

static void test_node_fit(void **state)
{
    (void)state;
    bool cont;
    json_t *ds = ds_with("'nodeSelector':{'disk':'ssd'}", NULL);
    assert_true(run_on(ds, node("a", "{'disk':'ssd'}", NULL), &cont) && cont);
    assert_false(run_on(ds, node("b", "{'disk':'hdd'}", NULL), &cont) || cont);
    assert_false(run_on(ds, node("c", NULL, NULL), &cont) || cont);
    /* NoSchedule untolerated: no new pod, the one there stays. */
    assert_false(run_on(ds, node("a", "{'disk':'ssd'}",
                                 "[{'key':'x','value':'y','effect':'NoSchedule'}]"), &cont));
    assert_true(cont);
    /* NoExecute untolerated: neither. */
    assert_false(run_on(ds, node("a", "{'disk':'ssd'}", "[{'key':'x','effect':'NoExecute'}]"),
                        &cont) || cont);
    /* PreferNoSchedule does not matter. */
    assert_true(run_on(ds, node("a", "{'disk':'ssd'}",
                                "[{'key':'x','effect':'PreferNoSchedule'}]"), &cont));
    json_decref(ds);

    /* The default tolerations: unschedulable, pressure, not-ready NoExecute. */
    ds = ds_with(NULL, NULL);
    assert_true(run_on(ds, node("a", NULL,
                                "[{'key':'node.kubernetes.io/unschedulable','effect':'NoSchedule'},"
                                "{'key':'node.kubernetes.io/disk-pressure','effect':'NoSchedule'},"
                                "{'key':'node.kubernetes.io/not-ready','effect':'NoExecute'}]"),
                       &cont) && cont);
    /* not-ready NoSchedule is not tolerated by default; the pod may stay. */
    assert_false(run_on(ds, node("a", NULL,
                                 "[{'key':'node.kubernetes.io/not-ready','effect':'NoSchedule'}]"),
                        &cont));
    assert_true(cont);
    /* network-unavailable only with hostNetwork. */
    const char *net = "[{'key':'node.kubernetes.io/network-unavailable','effect':'NoSchedule'}]";
    assert_false(run_on(ds, node("a", NULL, net), &cont));
    json_decref(ds);
    ds = ds_with("'hostNetwork':true", NULL);
    assert_true(run_on(ds, node("a", NULL, net), &cont));
    json_decref(ds);

    /* The template's own tolerations: Equal needs the value, Exists does not. */
    ds = ds_with("'tolerations':[{'key':'x','operator':'Equal','value':'y','effect':'NoSchedule'},"
                 "{'key':'z','operator':'Exists'}]",
                 NULL);
    assert_true(run_on(ds, node("a", NULL, "[{'key':'x','value':'y','effect':'NoSchedule'},"
                                           "{'key':'z','value':'q','effect':'NoExecute'}]"),
                       &cont));
    assert_false(run_on(ds, node("a", NULL, "[{'key':'x','value':'w','effect':'NoSchedule'}]"),
                        &cont));
    json_decref(ds);

    /* Required node affinity (expressions and fields) and nodeName. */
    ds = ds_with("'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':"
                 "{'nodeSelectorTerms':[{'matchExpressions':[{'key':'zone','operator':'In',"
                 "'values':['z1','z2']}]},{'matchFields':[{'key':'metadata.name',"
                 "'operator':'In','values':['special']}]}]}}}",
                 NULL);
    assert_true(run_on(ds, node("a", "{'zone':'z2'}", NULL), &cont));
    assert_false(run_on(ds, node("b", "{'zone':'z3'}", NULL), &cont));
    assert_true(run_on(ds, node("special", NULL, NULL), &cont));
    json_decref(ds);
    ds = ds_with("'nodeName':'only'", NULL);
    assert_true(run_on(ds, node("only", NULL, NULL), &cont));
    assert_false(run_on(ds, node("other", NULL, NULL), &cont) || cont);
    json_decref(ds);
}

static void test_default_tolerations(void **state)
{
    (void)state;
    json_t *spec = J("{'tolerations':[{'key':'node.kubernetes.io/not-ready','operator':'Exists',"
                     "'effect':'NoExecute','tolerationSeconds':300},{'key':'mine'}]}");
    ctl_ds_add_default_tolerations(spec);
    json_t *tols = json_object_get(spec, "tolerations");
    assert_int_equal(json_array_size(tols), 7); /* mine + 6 defaults */
    /* The matching one lost its tolerationSeconds, in place. */
    assert_null(json_object_get(json_array_get(tols, 0), "tolerationSeconds"));
    assert_string_equal(ctl_str(json_array_get(tols, 1), "key"), "mine");
    ctl_ds_add_default_tolerations(spec); /* idempotent */
    assert_int_equal(json_array_size(tols), 7);
    json_decref(spec);
    spec = J("{'hostNetwork':true}");
    ctl_ds_add_default_tolerations(spec);
    assert_int_equal(json_array_size(json_object_get(spec, "tolerations")), 7);
    json_decref(spec);
}

static void test_new_pod(void **state)
{
    (void)state;
    json_t *ds = ds_with("'affinity':{'podAntiAffinity':{},'nodeAffinity':"
                         "{'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':"
                         "[{'matchExpressions':[{'key':'a','operator':'Exists'}]}]}}}",
                         NULL);
    json_t *p = ctl_ds_new_pod(ds, "h123", "node-7");
    json_t *md = json_object_get(p, "metadata");
    assert_string_equal(ctl_str(md, "generateName"), "d-");
    assert_string_equal(ctl_str(md, "namespace"), "ns");
    json_t *labels = json_object_get(md, "labels");
    assert_string_equal(ctl_str(labels, "controller-revision-hash"), "h123");
    assert_string_equal(ctl_str(labels, "pod-template-generation"), "3");
    assert_string_equal(ctl_str(labels, "app"), "d");
    json_t *ref = ctl_controller_ref(p);
    assert_non_null(ref);
    assert_string_equal(ctl_str(ref, "kind"), "DaemonSet");
    assert_string_equal(ctl_str(ref, "uid"), "u-ds");
    /* Pinned by affinity, not by nodeName; other affinity kept. */
    assert_string_equal(ctl_str(json_object_get(p, "spec"), "nodeName"), "");
    assert_string_equal(ctl_ds_pod_target_node(p), "node-7");
    json_t *aff = json_object_get(json_object_get(p, "spec"), "affinity");
    assert_non_null(json_object_get(aff, "podAntiAffinity"));
    json_t *terms = json_object_get(
        json_object_get(json_object_get(aff, "nodeAffinity"),
                        "requiredDuringSchedulingIgnoredDuringExecution"),
        "nodeSelectorTerms");
    assert_int_equal(json_array_size(terms), 1);
    assert_int_equal(json_array_size(json_object_get(json_object_get(p, "spec"), "tolerations")),
                     6);
    /* The template itself is unchanged. */
    assert_null(json_object_get(json_object_get(json_object_get(json_object_get(ds, "spec"),
                                                                "template"),
                                                "spec"),
                                "tolerations"));
    assert_true(ctl_ds_pod_updated(ds, p, "h123"));
    assert_true(ctl_ds_pod_updated(ds, p, "other")); /* by template generation */
    json_decref(p);
    json_decref(ds);
}

static bool has_name(json_t *arr, const char *name)
{
    json_t *x;
    size_t i;
    json_array_foreach(arr, i, x)
    {
        const char *n = json_is_string(x) ? json_string_value(x)
                                          : ctl_str(json_object_get(x, "metadata"), "name");
        if (strcmp(n, name) == 0)
            return true;
    }
    return false;
}

static void test_plan_manage(void **state)
{
    (void)state;
    json_t *ds = ds_with("'nodeSelector':{'run':'yes'}", NULL);
    json_t *nodes = json_array();
    json_array_append_new(nodes, node("n1", "{'run':'yes'}", NULL));
    json_array_append_new(nodes, node("n2", "{'run':'yes'}", NULL));
    json_array_append_new(nodes, node("n3", NULL, NULL)); /* not selected */
    json_array_append_new(nodes, node("n4", "{'run':'yes'}", NULL)); /* empty */
    json_array_append_new(nodes, node("n5", "{'run':'yes'}", NULL)); /* failed pod */
    json_array_append_new(nodes, node("n6", "{'run':'yes'}",
                                      "[{'key':'k','effect':'NoSchedule'}]")); /* stays */
    json_t *pods = json_array();
    json_array_append_new(pods, dpod("p1", "n1", "h", "Running", true, "2020-01-01T00:00:01Z"));
    json_array_append_new(pods, dpod("p2new", "n2", "h", "Running", true, "2020-01-01T00:00:09Z"));
    json_array_append_new(pods, dpod("p2old", "n2", "h", "Running", true, "2020-01-01T00:00:02Z"));
    json_array_append_new(pods, dpod("p3", "n3", "h", "Running", true, "2020-01-01T00:00:03Z"));
    json_array_append_new(pods, dpod("p5", "n5", "h", "Failed", false, "2020-01-01T00:00:05Z"));
    json_array_append_new(pods, dpod("p6", "n6", "h", "Running", true, "2020-01-01T00:00:06Z"));
    json_array_append_new(pods, dpod("gone", "n9", "h", "Running", true, "2020-01-01T00:00:07Z"));
    /* An unscheduled pod for n4 (its affinity names it) counts as n4's. */
    json_t *un = ctl_ds_new_pod(ds, "h", "n4");
    json_object_set_new(json_object_get(un, "metadata"), "name", json_string("p4"));
    json_array_append_new(pods, un);
    struct ctl_ds_plan plan;
    ctl_ds_plan_manage(ds, nodes, pods, "h", 0, NULL, &plan);
    /* n5: the failed pod goes now; its replacement comes with the next sync. */
    assert_int_equal(json_array_size(plan.create_nodes), 0);
    assert_int_equal(json_array_size(plan.delete_pods), 4);
    assert_true(has_name(plan.delete_pods, "p2new")); /* the oldest stays */
    assert_true(has_name(plan.delete_pods, "p3"));    /* misscheduled */
    assert_true(has_name(plan.delete_pods, "p5"));    /* failed */
    assert_true(has_name(plan.delete_pods, "gone"));  /* its node is gone */
    plan_free(&plan);

    /* Once those went: n5 needs one; nothing else. */
    json_t *left = json_array(), *p;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        const char *n = ctl_str(json_object_get(p, "metadata"), "name");
        if (strcmp(n, "p2new") && strcmp(n, "p3") && strcmp(n, "p5") && strcmp(n, "gone"))
            json_array_append(left, p);
    }
    ctl_ds_plan_manage(ds, nodes, left, "h", 0, NULL, &plan);
    assert_int_equal(json_array_size(plan.create_nodes), 1);
    assert_true(has_name(plan.create_nodes, "n5"));
    assert_int_equal(json_array_size(plan.delete_pods), 0);
    plan_free(&plan);

    json_t *st = ctl_ds_status(ds, nodes, left, "h", 0);
    /* desired: n1 n2 n4 n5 (n6 has an untolerated NoSchedule taint) */
    assert_int_equal(json_integer_value(json_object_get(st, "desiredNumberScheduled")), 4);
    assert_int_equal(json_integer_value(json_object_get(st, "currentNumberScheduled")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "numberMisscheduled")), 1); /* n6 */
    /* p4 is not Ready (no status) */
    assert_int_equal(json_integer_value(json_object_get(st, "numberReady")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "numberAvailable")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "numberUnavailable")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "updatedNumberScheduled")), 3);
    json_decref(st);
    json_decref(left);
    json_decref(pods);
    json_decref(nodes);
    json_decref(ds);
}

/* Five nodes, each with a pod of hash hashes[i] (Ready as ready[i]). */
static json_t *rolling_pods(const char *const *hashes, const bool *ready)
{
    json_t *pods = json_array();
    for (int i = 0; i < 5; i++) {
        char name[16], n[16];
        snprintf(name, sizeof name, "p%d", i);
        snprintf(n, sizeof n, "n%d", i);
        json_array_append_new(pods,
                              dpod(name, n, hashes[i], "Running", ready[i], "2020-01-01T00:00:00Z"));
    }
    return pods;
}

static json_t *five_nodes(void)
{
    json_t *nodes = json_array();
    for (int i = 0; i < 5; i++) {
        char n[16];
        snprintf(n, sizeof n, "n%d", i);
        json_array_append_new(nodes, node(n, NULL, NULL));
    }
    return nodes;
}

static void test_plan_rolling(void **state)
{
    (void)state;
    json_t *ds = ds_with(NULL, "{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':2}}");
    json_object_set_new(json_object_get(ds, "metadata"), "generation", json_integer(9));
    json_t *nodes = five_nodes();
    const char *old[] = {"old", "old", "old", "old", "old"};
    const bool all[] = {true, true, true, true, true};
    json_t *pods = rolling_pods(old, all);
    json_t *del = ctl_ds_plan_rolling(ds, nodes, pods, "new", 0);
    assert_int_equal(json_array_size(del), 2);
    json_decref(del);
    json_decref(pods);

    /* An old pod that is not available is replaced regardless of the budget. */
    const bool one_down[] = {true, false, true, true, true};
    pods = rolling_pods(old, one_down);
    del = ctl_ds_plan_rolling(ds, nodes, pods, "new", 0);
    assert_int_equal(json_array_size(del), 3);
    assert_true(has_name(del, "p1"));
    json_decref(del);
    json_decref(pods);

    /* A new pod not yet available takes one of the budget. */
    const char *mixed[] = {"new", "old", "old", "old", "old"};
    const bool first_down[] = {false, true, true, true, true};
    pods = rolling_pods(mixed, first_down);
    del = ctl_ds_plan_rolling(ds, nodes, pods, "new", 0);
    assert_int_equal(json_array_size(del), 1);
    assert_false(has_name(del, "p0"));
    json_decref(del);
    json_decref(pods);

    /* A node with no pod counts as unavailable: budget 2 - 1. */
    pods = rolling_pods(old, all);
    json_array_remove(pods, 4);
    del = ctl_ds_plan_rolling(ds, nodes, pods, "new", 0);
    assert_int_equal(json_array_size(del), 1);
    json_decref(del);
    json_decref(pods);

    /* Done: nothing. */
    const char *fresh[] = {"new", "new", "new", "new", "new"};
    pods = rolling_pods(fresh, all);
    del = ctl_ds_plan_rolling(ds, nodes, pods, "new", 0);
    assert_int_equal(json_array_size(del), 0);
    json_decref(del);
    json_decref(pods);
    json_decref(ds);

    /* A percentage rounds up: 30% of 5 = 2; 0 becomes 1. */
    ds = ds_with(NULL, "{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':'30%'}}");
    pods = rolling_pods(old, all);
    del = ctl_ds_plan_rolling(ds, nodes, pods, "new", 0);
    assert_int_equal(json_array_size(del), 2);
    json_decref(del);
    json_decref(ds);
    ds = ds_with(NULL, "{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':0}}");
    del = ctl_ds_plan_rolling(ds, nodes, pods, "new", 0);
    assert_int_equal(json_array_size(del), 1);
    json_decref(del);
    json_decref(pods);
    json_decref(ds);
    json_decref(nodes);
}

#define SURGE(v) "{'type':'RollingUpdate','rollingUpdate':{'maxUnavailable':0,'maxSurge':" v "}}"

/* The names in a plan's arrays, for short assertions. */
static void test_plan_surge(void **state)
{
    (void)state;
    json_t *ds = ds_with(NULL, SURGE("2"));
    assert_true(ctl_ds_allows_surge(ds));
    json_t *nodes = five_nodes();
    const char *old[] = {"old", "old", "old", "old", "old"};
    const bool all[] = {true, true, true, true, true};
    json_t *pods = rolling_pods(old, all);
    struct ctl_ds_plan plan;
    int64_t wait;
    /* Every old pod available: maxSurge nodes get a new pod, nothing goes. */
    ctl_ds_plan_surge(ds, nodes, pods, "new", 0, &plan, &wait);
    assert_int_equal(json_array_size(plan.create_nodes), 2);
    assert_true(has_name(plan.create_nodes, "n0") && has_name(plan.create_nodes, "n1"));
    assert_int_equal(json_array_size(plan.delete_pods), 0);
    assert_int_equal(wait, -1);
    plan_free(&plan);
    /* n0's new pod is available: its old one goes; n1's is not yet Ready:
     * n1 still surges, so one more node (n2) may start; n4's old pod is
     * unavailable: it gets its new pod regardless of maxSurge. */
    json_array_append_new(pods, dpod("q0", "n0", "new", "Running", true, "2020-01-01T00:00:01Z"));
    json_array_append_new(pods, dpod("q1", "n1", "new", "Running", false, "2020-01-01T00:00:01Z"));
    json_object_set_new(json_array_get(json_object_get(json_object_get(json_array_get(pods, 4),
                                                                       "status"),
                                                       "conditions"),
                                       0),
                        "status", json_string("False"));
    ctl_ds_plan_surge(ds, nodes, pods, "new", 0, &plan, &wait);
    assert_int_equal(json_array_size(plan.delete_pods), 1);
    assert_true(has_name(plan.delete_pods, "p0"));
    assert_int_equal(json_array_size(plan.create_nodes), 2);
    assert_true(has_name(plan.create_nodes, "n4") && has_name(plan.create_nodes, "n2"));
    plan_free(&plan);
    json_decref(ds);
    /* A percentage of the desired nodes rounds up: 30% of 5 = 2. */
    ds = ds_with(NULL, SURGE("'30%'"));
    json_t *fresh = rolling_pods(old, all);
    ctl_ds_plan_surge(ds, nodes, fresh, "new", 0, &plan, &wait);
    assert_int_equal(json_array_size(plan.create_nodes), 2);
    plan_free(&plan);
    json_decref(fresh);
    json_decref(ds);
    /* minReadySeconds: a Ready new pod keeps its node surging until it has
     * been Ready that long, and the sync is due then. */
    ds = ds_with(NULL, SURGE("1"));
    json_object_set_new(json_object_get(ds, "spec"), "minReadySeconds", json_integer(30));
    int64_t t0 = 1577836860000; /* 2020-01-01T00:01:00Z: the new pod turned Ready */
    json_t *two = rolling_pods(old, all); /* Ready a minute earlier */
    json_t *q0 = dpod("q0", "n0", "new", "Running", true, "2020-01-01T00:00:01Z");
    json_object_set_new(json_array_get(json_object_get(json_object_get(q0, "status"),
                                                       "conditions"),
                                       0),
                        "lastTransitionTime", json_string("2020-01-01T00:01:00Z"));
    json_array_append_new(two, q0);
    ctl_ds_plan_surge(ds, nodes, two, "new", t0 + 10000, &plan, &wait);
    assert_int_equal(json_array_size(plan.delete_pods), 0);
    assert_int_equal(json_array_size(plan.create_nodes), 0); /* n0 takes the one surge */
    assert_int_equal(wait, 20000);
    plan_free(&plan);
    ctl_ds_plan_surge(ds, nodes, two, "new", t0 + 31000, &plan, &wait);
    assert_true(has_name(plan.delete_pods, "p0"));
    assert_true(has_name(plan.create_nodes, "n1"));
    assert_int_equal(wait, -1);
    plan_free(&plan);
    json_decref(two);
    json_decref(ds);
    json_decref(pods);
    json_decref(nodes);
}

/* Manage with surge: two pods stay on a node while the oldest new one is
 * not available and the oldest old one is Ready; extras always go. */
static void test_manage_surge(void **state)
{
    (void)state;
    json_t *ds = ds_with(NULL, SURGE("1"));
    json_t *nodes = json_array();
    for (int i = 0; i < 4; i++) {
        char n[8];
        snprintf(n, sizeof n, "n%d", i);
        json_array_append_new(nodes, node(n, NULL, NULL));
    }
    json_t *pods = json_array();
    const char *t1 = "2020-01-01T00:00:01Z", *t2 = "2020-01-01T00:00:02Z";
    /* n0: new not Ready yet beside a Ready old: both stay. */
    json_array_append_new(pods, dpod("o0", "n0", "old", "Running", true, t1));
    json_array_append_new(pods, dpod("w0", "n0", "new", "Running", false, t2));
    /* n1: the new one is available: the old goes. */
    json_array_append_new(pods, dpod("o1", "n1", "old", "Running", true, t1));
    json_array_append_new(pods, dpod("w1", "n1", "new", "Running", true, t2));
    /* n2: the old one is not Ready: it goes. */
    json_array_append_new(pods, dpod("o2", "n2", "old", "Running", false, t1));
    json_array_append_new(pods, dpod("w2", "n2", "new", "Running", false, t2));
    /* n3: two new ones: the younger goes. */
    json_array_append_new(pods, dpod("w3", "n3", "new", "Running", true, t1));
    json_array_append_new(pods, dpod("x3", "n3", "new", "Running", true, t2));
    struct ctl_ds_plan plan;
    ctl_ds_plan_manage(ds, nodes, pods, "new", 0, NULL, &plan);
    assert_int_equal(json_array_size(plan.create_nodes), 0);
    assert_int_equal(json_array_size(plan.delete_pods), 3);
    assert_true(has_name(plan.delete_pods, "o1"));
    assert_true(has_name(plan.delete_pods, "o2"));
    assert_true(has_name(plan.delete_pods, "x3"));
    plan_free(&plan);
    /* Without surge the same pods keep only the oldest of each node. */
    json_t *plain = ds_with(NULL, NULL);
    assert_false(ctl_ds_allows_surge(plain));
    ctl_ds_plan_manage(plain, nodes, pods, "new", 0, NULL, &plan);
    assert_int_equal(json_array_size(plan.delete_pods), 4);
    assert_true(has_name(plan.delete_pods, "w0"));
    plan_free(&plan);
    json_decref(plain);
    json_decref(pods);
    json_decref(nodes);
    json_decref(ds);
}

static void test_min_ready_seconds(void **state)
{
    (void)state;
    json_t *ds = ds_with(NULL, NULL);
    json_object_set_new(json_object_get(ds, "spec"), "minReadySeconds", json_integer(30));
    json_t *nodes = five_nodes();
    const char *h[] = {"h", "h", "h", "h", "h"};
    const bool all[] = {true, true, true, true, true};
    json_t *pods = rolling_pods(h, all); /* Ready since 2020-01-01T00:00:00Z */
    int64_t t0 = 1577836800000; /* that instant in Unix ms */
    json_t *st = ctl_ds_status(ds, nodes, pods, "h", t0 + 10000);
    assert_int_equal(json_integer_value(json_object_get(st, "numberReady")), 5);
    assert_int_equal(json_integer_value(json_object_get(st, "numberAvailable")), 0);
    json_decref(st);
    st = ctl_ds_status(ds, nodes, pods, "h", t0 + 31000);
    assert_int_equal(json_integer_value(json_object_get(st, "numberAvailable")), 5);
    assert_int_equal(json_integer_value(json_object_get(st, "numberUnavailable")), 0);
    json_decref(st);
    json_decref(pods);
    json_decref(nodes);
    json_decref(ds);
}

static void test_revision_matches(void **state)
{
    (void)state;
    json_t *ds = ds_with(NULL, NULL);
    json_t *tmpl = json_deep_copy(json_object_get(json_object_get(ds, "spec"), "template"));
    json_object_set_new(tmpl, "$patch", json_string("replace"));
    json_t *rev = json_pack("{s:{s:{s:o}}, s:i}", "data", "spec", "template", tmpl, "revision", 1);
    assert_true(ctl_ds_revision_matches(ds, rev));
    json_t *c0 = json_array_get(
        json_object_get(json_object_get(json_object_get(json_object_get(ds, "spec"), "template"),
                                        "spec"),
                        "containers"),
        0);
    json_object_set_new(c0, "image", json_string("i2"));
    assert_false(ctl_ds_revision_matches(ds, rev));
    json_decref(rev);
    json_decref(ds);
}

/* A failed pod goes at once, then not again on that node before 1 s, 2 s,
 * 4 s ... have passed since the last time (failedPodsBackoff); a
 * succeeded pod goes without a backoff; another node has its own. */
static void test_failed_pod_backoff(void **state)
{
    (void)state;
    json_t *ds = ds_with(NULL, NULL);
    json_t *nodes = json_array();
    json_array_append_new(nodes, node("n1", NULL, NULL));
    json_array_append_new(nodes, node("n2", NULL, NULL));
    json_t *failed = json_array();
    json_array_append_new(failed, dpod("f1", "n1", "h", "Failed", false, "2020-01-01T00:00:01Z"));
    struct ctl_backoff bo;
    ctl_backoff_init(&bo, CTL_DS_FAILED_BACKOFF_MS, CTL_DS_FAILED_BACKOFF_MAX_MS);
    struct ctl_ds_plan plan;
    int64_t t = 1000000;
    /* delete at t, then in backoff until t+1 s; deleted at t+1 s; then
     * until t+1+2 s; deleted at t+3 s; then until t+3+4 s. */
    int64_t at_ms[] = {0, 500, 999, 1000, 2999, 3000, 6999, 7000};
    bool goes[] = {true, false, false, true, false, true, false, true};
    for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++) {
        ctl_ds_plan_manage(ds, nodes, failed, "h", t + at_ms[k], &bo, &plan);
        assert_int_equal(json_array_size(plan.delete_pods), goes[k]);
        assert_int_equal(json_array_size(plan.failed_pods), goes[k]);
        if (!goes[k]) /* comes back when the backoff ends */
            assert_true(plan.requeue_ms > 0 && plan.requeue_ms <= 4000);
        assert_int_equal(json_array_size(plan.create_nodes), 1); /* n2 */
        plan_free(&plan);
    }
    ctl_ds_plan_manage(ds, nodes, failed, "h", t + 7500, &bo, &plan);
    assert_int_equal(plan.requeue_ms, 7500); /* 8 s from t+7 s */
    plan_free(&plan);
    /* n2's failed pod is not held back by n1's backoff. */
    json_array_append_new(failed, dpod("f2", "n2", "h", "Failed", false, "2020-01-01T00:00:01Z"));
    ctl_ds_plan_manage(ds, nodes, failed, "h", t + 7500, &bo, &plan);
    assert_int_equal(json_array_size(plan.delete_pods), 1);
    assert_true(has_name(plan.delete_pods, "f2"));
    plan_free(&plan);
    /* A succeeded pod is deleted every time. */
    json_t *done = json_array();
    json_array_append_new(done, dpod("s1", "n1", "h", "Succeeded", false, "2020-01-01T00:00:01Z"));
    ctl_ds_plan_manage(ds, nodes, done, "h", t + 7600, &bo, &plan);
    assert_int_equal(json_array_size(plan.delete_pods), 1);
    assert_int_equal(json_array_size(plan.failed_pods), 0);
    plan_free(&plan);
    /* Left alone for 2 x 15 min, the backoff is forgotten. */
    ctl_backoff_gc(&bo, t + 7000 + 2 * CTL_DS_FAILED_BACKOFF_MAX_MS + 1);
    assert_int_equal(bo.keys.n, 1); /* n2's stepped later */
    ctl_backoff_gc(&bo, t + 7500 + 2 * CTL_DS_FAILED_BACKOFF_MAX_MS + 1);
    assert_int_equal(bo.keys.n, 0);
    ctl_backoff_free(&bo);
    json_decref(done);
    json_decref(failed);
    json_decref(nodes);
    json_decref(ds);
}

/* The backoff itself: doubling, capped, and back to the start after 2 x
 * max unused. */
static void test_backoff(void **state)
{
    (void)state;
    struct ctl_backoff bo;
    ctl_backoff_init(&bo, 100, 400);
    int64_t left = -1;
    assert_false(ctl_backoff_active(&bo, "k", 0, &left));
    ctl_backoff_next(&bo, "k", 0); /* 100 */
    assert_true(ctl_backoff_active(&bo, "k", 99, &left));
    assert_int_equal(left, 1);
    assert_false(ctl_backoff_active(&bo, "k", 100, NULL));
    ctl_backoff_next(&bo, "k", 100); /* 200 */
    ctl_backoff_next(&bo, "k", 300); /* 400 */
    ctl_backoff_next(&bo, "k", 700); /* 400: the cap */
    assert_true(ctl_backoff_active(&bo, "k", 1099, NULL));
    assert_false(ctl_backoff_active(&bo, "k", 1100, NULL));
    ctl_backoff_next(&bo, "k", 700 + 801); /* unused > 2 x max: 100 again */
    assert_false(ctl_backoff_active(&bo, "k", 1501 + 100, NULL));
    assert_false(ctl_backoff_active(&bo, "other", 1501, NULL));
    ctl_backoff_free(&bo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_fit),        cmocka_unit_test(test_default_tolerations),
        cmocka_unit_test(test_new_pod),         cmocka_unit_test(test_plan_manage),
        cmocka_unit_test(test_plan_rolling),    cmocka_unit_test(test_failed_pod_backoff),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_plan_surge),
        cmocka_unit_test(test_manage_surge),    cmocka_unit_test(test_min_ready_seconds),
        cmocka_unit_test(test_revision_matches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
