/* test_ctl_kubesvc.c — unit tests for the `kubernetes` Service's decisions
 * (controllers/kubesvc.c through ctl_internal.h): which members count
 * (voters with an http://IPv4:PORT API), the targetPort, the Service made
 * and corrected (and left alone when right: no write churn), the Endpoints
 * grouped by port, and the slices (one per port, stale ones deleted, ones
 * not ours ignored).
 *
 * Objects are written as JSON with single quotes (J() turns them into
 * double quotes). */
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

/* A /cluster/status reply: three voters (two on port 6443), a spare, and a
 * voter whose API is a host name. */
static json_t *status(void)
{
    return J("{'members':["
             "{'id':1,'api':'http://127.0.0.2:6443','role':'voter'},"
             "{'id':2,'api':'http://127.0.0.1:6443','role':'voter'},"
             "{'id':3,'api':'http://127.0.0.3:7000','role':'voter'},"
             "{'id':4,'api':'http://127.0.0.4:6443','role':'spare'},"
             "{'id':5,'api':'http://api.example:6443','role':'voter'},"
             "{'id':6,'api':'','role':'voter'}]}");
}

static void test_members(void **state)
{
    (void)state;
    json_t *st = status();
    json_t *m = ctl_kubesvc_members(st);
    json_t *want = J("[{'ip':'127.0.0.1','port':6443},{'ip':'127.0.0.2','port':6443},"
                     "{'ip':'127.0.0.3','port':7000}]");
    assert_true(json_equal(m, want));
    assert_int_equal(ctl_kubesvc_target_port(m), 6443);
    json_t *none = json_array();
    assert_int_equal(ctl_kubesvc_target_port(none), 0);
    /* A tie: the smallest port. */
    json_t *tie = J("[{'ip':'127.0.0.1','port':5000},{'ip':'127.0.0.1','port':6000}]");
    assert_int_equal(ctl_kubesvc_target_port(tie), 5000);
    json_decref(tie);
    json_decref(none);
    json_decref(want);
    json_decref(m);
    json_decref(st);
    /* A member that does not answer its probes is no endpoint. */
    st = J("{'members':[{'id':1,'api':'http://127.0.0.1:6443','role':'voter','reachable':true},"
           "{'id':2,'api':'http://127.0.0.2:6443','role':'voter','reachable':false},"
           "{'id':3,'api':'http://127.0.0.3:6443','role':'voter'}]}");
    m = ctl_kubesvc_members(st);
    want = J("[{'ip':'127.0.0.1','port':6443},{'ip':'127.0.0.3','port':6443}]");
    assert_true(json_equal(m, want));
    json_decref(want);
    json_decref(m);
    json_decref(st);
}

static void test_service(void **state)
{
    (void)state;
    json_t *made = ctl_kubesvc_service(NULL, 6443);
    json_t *want = J("{'apiVersion':'v1','kind':'Service','metadata':{'name':'kubernetes',"
                     "'namespace':'default','labels':{'component':'apiserver',"
                     "'provider':'kubernetes'}},'spec':{'clusterIP':'10.96.0.1',"
                     "'clusterIPs':['10.96.0.1'],'sessionAffinity':'None','type':'ClusterIP',"
                     "'ports':[{'name':'https','port':443,'protocol':'TCP','targetPort':6443}]}}");
    assert_true(json_equal(made, want));
    assert_null(json_object_get(json_object_get(made, "spec"), "selector"));
    /* As stored (with what the server adds): nothing to write. */
    json_t *stored = json_deep_copy(made);
    json_object_set_new(json_object_get(stored, "metadata"), "resourceVersion", json_string("7"));
    json_object_set_new(json_object_get(stored, "spec"), "internalTrafficPolicy",
                        json_string("Cluster"));
    assert_null(ctl_kubesvc_service(stored, 6443));
    /* Another port: the ports are corrected, the rest kept. */
    json_t *fix = ctl_kubesvc_service(stored, 7000);
    assert_non_null(fix);
    json_t *p0 = json_array_get(json_object_get(json_object_get(fix, "spec"), "ports"), 0);
    assert_int_equal(json_integer_value(json_object_get(p0, "targetPort")), 7000);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(fix, "metadata"), "resourceVersion")),
                        "7");
    /* A user's clusterIP and extra label stay; a missing label comes back. */
    json_t *odd = J("{'metadata':{'name':'kubernetes','namespace':'default',"
                    "'resourceVersion':'9','labels':{'x':'y'}},'spec':{'clusterIP':'10.96.0.9',"
                    "'type':'NodePort','ports':[]}}");
    json_t *fix2 = ctl_kubesvc_service(odd, 6443);
    json_t *spec = json_object_get(fix2, "spec");
    assert_string_equal(json_string_value(json_object_get(spec, "clusterIP")), "10.96.0.9");
    assert_string_equal(json_string_value(json_object_get(spec, "type")), "ClusterIP");
    json_t *labels = json_object_get(json_object_get(fix2, "metadata"), "labels");
    assert_string_equal(json_string_value(json_object_get(labels, "x")), "y");
    assert_string_equal(json_string_value(json_object_get(labels, "provider")), "kubernetes");
    json_decref(fix2);
    json_decref(odd);
    json_decref(fix);
    json_decref(stored);
    json_decref(want);
    json_decref(made);
}

static void test_endpoints(void **state)
{
    (void)state;
    json_t *st = status();
    json_t *m = ctl_kubesvc_members(st);
    json_t *ep = ctl_kubesvc_endpoints(NULL, m);
    json_t *want = J("{'apiVersion':'v1','kind':'Endpoints','metadata':{'name':'kubernetes',"
                     "'namespace':'default','labels':{'endpointslice.kubernetes.io/skip-mirror':"
                     "'true'}},'subsets':["
                     "{'addresses':[{'ip':'127.0.0.1'},{'ip':'127.0.0.2'}],"
                     "'ports':[{'name':'https','port':6443,'protocol':'TCP'}]},"
                     "{'addresses':[{'ip':'127.0.0.3'}],"
                     "'ports':[{'name':'https','port':7000,'protocol':'TCP'}]}]}");
    assert_true(json_equal(ep, want));
    json_object_set_new(json_object_get(ep, "metadata"), "resourceVersion", json_string("3"));
    assert_null(ctl_kubesvc_endpoints(ep, m));
    /* A member gone: rewritten without it. */
    json_array_remove(m, 2);
    json_t *fewer = ctl_kubesvc_endpoints(ep, m);
    assert_non_null(fewer);
    assert_int_equal(json_array_size(json_object_get(fewer, "subsets")), 1);
    json_decref(fewer);
    json_decref(want);
    json_decref(ep);
    json_decref(m);
    json_decref(st);
}

static void test_slices(void **state)
{
    (void)state;
    json_t *st = status();
    json_t *m = ctl_kubesvc_members(st);
    json_t *write, *remove, *none = json_array();
    ctl_kubesvc_slices(none, m, 6443, &write, &remove);
    assert_int_equal(json_array_size(write), 2);
    assert_int_equal(json_array_size(remove), 0);
    json_t *main_slice = json_array_get(write, 0);
    json_t *want = J("{'apiVersion':'discovery.k8s.io/v1','kind':'EndpointSlice',"
                     "'metadata':{'name':'kubernetes','namespace':'default','labels':"
                     "{'kubernetes.io/service-name':'kubernetes'}},'addressType':'IPv4',"
                     "'endpoints':[{'addresses':['127.0.0.1'],'conditions':{'ready':true}},"
                     "{'addresses':['127.0.0.2'],'conditions':{'ready':true}}],"
                     "'ports':[{'name':'https','port':6443,'protocol':'TCP'}]}");
    assert_true(json_equal(main_slice, want));
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(write, 1), "metadata"), "name")),
                        "kubernetes-7000");
    /* Stored as written: nothing to do. Then the 7000 member goes: its slice
     * is deleted, and a slice of the EndpointSlice controller is not ours. */
    json_t *existing = json_deep_copy(write);
    json_t *s;
    size_t i;
    json_array_foreach(existing, i, s)
        json_object_set_new(json_object_get(s, "metadata"), "resourceVersion", json_string("5"));
    json_decref(write);
    json_decref(remove);
    ctl_kubesvc_slices(existing, m, 6443, &write, &remove);
    assert_int_equal(json_array_size(write), 0);
    assert_int_equal(json_array_size(remove), 0);
    json_decref(write);
    json_decref(remove);
    json_array_append_new(existing,
                          J("{'metadata':{'name':'kubernetes-abcde','labels':{"
                            "'kubernetes.io/service-name':'kubernetes',"
                            "'endpointslice.kubernetes.io/managed-by':'x'}}}"));
    json_array_remove(m, 2);
    ctl_kubesvc_slices(existing, m, 6443, &write, &remove);
    assert_int_equal(json_array_size(write), 0);
    assert_int_equal(json_array_size(remove), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(remove, 0), "metadata"), "name")),
                        "kubernetes-7000");
    json_decref(write);
    json_decref(remove);
    json_decref(existing);
    json_decref(want);
    json_decref(none);
    json_decref(m);
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_service),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_slices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
