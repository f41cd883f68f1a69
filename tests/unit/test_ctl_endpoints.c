/* test_ctl_endpoints.c — unit tests for the Endpoints and EndpointSlice
 * controllers' decisions (controllers/endpoints.c, endpointslice.c,
 * through ctl_internal.h): which pods count, targetPort resolution, the
 * subsets (ready and not ready, grouping by port set, order, headless
 * Services, publishNotReadyAddresses), truncation over capacity, when the
 * Endpoints need no write, the Service index, and the slices: endpoints
 * and their conditions, grouping by ports, and packing into slices of at
 * most 100 with few rewrites.
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

/* A pod labelled app=web (or app), with a container port named http. */
static json_t *pod(const char *name, const char *app, const char *ip, int port, bool ready,
                   const char *extra_md)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'%s','namespace':'ns','uid':'u-%s','labels':{'app':'%s'}%s%s},"
             "'spec':{'nodeName':'node-%s','containers':[{'name':'c','ports':"
             "[{'name':'http','containerPort':%d,'protocol':'TCP'}]}]},"
             "'status':{'phase':'Running','podIP':'%s','conditions':[{'type':'Ready',"
             "'status':'%s'}]}}",
             name, name, app, extra_md ? "," : "", extra_md ? extra_md : "", name, port, ip,
             ready ? "True" : "False");
    return J(buf);
}

static json_t *svc(const char *spec_extra)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{'metadata':{'name':'web','namespace':'ns','uid':'u-svc','labels':{'team':'a'}},"
             "'spec':{'selector':{'app':'web'},'clusterIP':'10.0.0.1',"
             "'ports':[{'name':'web','port':80,'targetPort':'http','protocol':'TCP'}]%s%s}}",
             spec_extra ? "," : "", spec_extra ? spec_extra : "");
    return J(buf);
}

static void test_pod_rules(void **state)
{
    (void)state;
    json_t *p = pod("a", "web", "10.1.0.1", 8080, true, NULL);
    assert_true(ctl_ep_pod_included(p, false));
    json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
                        json_string("2020-01-01T00:00:00Z"));
    assert_false(ctl_ep_pod_included(p, false));
    assert_true(ctl_ep_pod_included(p, true));
    json_decref(p);
    p = pod("b", "web", "", 8080, true, NULL);
    assert_false(ctl_ep_pod_included(p, true)); /* no IP */
    json_decref(p);
    p = pod("c", "web", "10.1.0.3", 8080, true, NULL);
    json_object_set_new(json_object_get(p, "status"), "phase", json_string("Succeeded"));
    assert_false(ctl_ep_pod_included(p, true)); /* terminal */
    json_decref(p);

    /* targetPort: a number, a name (same protocol), a number in a string. */
    p = pod("a", "web", "10.1.0.1", 8080, true, NULL);
    json_t *sp = J("{'port':80,'targetPort':'http'}");
    assert_int_equal(ctl_ep_find_port(p, sp), 8080);
    json_decref(sp);
    sp = J("{'port':80,'targetPort':'http','protocol':'UDP'}");
    assert_int_equal(ctl_ep_find_port(p, sp), -1);
    json_decref(sp);
    sp = J("{'port':80,'targetPort':'metrics'}");
    assert_int_equal(ctl_ep_find_port(p, sp), -1);
    json_decref(sp);
    sp = J("{'port':80,'targetPort':9000}");
    assert_int_equal(ctl_ep_find_port(p, sp), 9000);
    json_decref(sp);
    sp = J("{'port':81}");
    assert_int_equal(ctl_ep_find_port(p, sp), 81);
    json_decref(sp);
    /* a sidecar's port counts, a plain init container's not */
    json_object_set_new(json_object_get(p, "spec"), "initContainers",
                        J("[{'name':'i','ports':[{'name':'init','containerPort':1}]},"
                          "{'name':'s','restartPolicy':'Always','ports':[{'name':'side',"
                          "'containerPort':2}]}]"));
    sp = J("{'port':80,'targetPort':'side'}");
    assert_int_equal(ctl_ep_find_port(p, sp), 2);
    json_decref(sp);
    sp = J("{'port':80,'targetPort':'init'}");
    assert_int_equal(ctl_ep_find_port(p, sp), -1);
    json_decref(sp);
    json_decref(p);
}

static const char *addr_name(json_t *a)
{
    return ctl_str(json_object_get(a, "targetRef"), "name");
}

static void test_subsets(void **state)
{
    (void)state;
    json_t *s = svc(NULL);
    json_t *pods = json_array();
    json_array_append_new(pods, pod("b", "web", "10.1.0.2", 8080, true, NULL));
    json_array_append_new(pods, pod("a", "web", "10.1.0.1", 8080, true, NULL));
    json_array_append_new(pods, pod("c", "web", "10.1.0.3", 9090, true, NULL));
    json_array_append_new(pods, pod("d", "web", "10.1.0.4", 8080, false, NULL));
    json_array_append_new(pods, pod("e", "web", "", 8080, true, NULL));
    json_array_append_new(pods, pod("f", "db", "10.1.0.6", 8080, true, NULL));
    json_array_append_new(pods, pod("g", "web", "10.1.0.7", 8080, true,
                                    "'deletionTimestamp':'2020-01-01T00:00:00Z'"));
    json_t *subs = ctl_ep_subsets(s, pods);
    assert_int_equal(json_array_size(subs), 2);
    json_t *s0 = json_array_get(subs, 0), *s1 = json_array_get(subs, 1);
    /* sorted: the subset starting with 10.1.0.1 first */
    json_t *ready = json_object_get(s0, "addresses");
    assert_int_equal(json_array_size(ready), 2);
    assert_string_equal(addr_name(json_array_get(ready, 0)), "a");
    assert_string_equal(addr_name(json_array_get(ready, 1)), "b");
    json_t *nr = json_object_get(s0, "notReadyAddresses");
    assert_int_equal(json_array_size(nr), 1);
    assert_string_equal(addr_name(json_array_get(nr, 0)), "d");
    json_t *port = json_array_get(json_object_get(s0, "ports"), 0);
    assert_int_equal(json_integer_value(json_object_get(port, "port")), 8080);
    assert_string_equal(ctl_str(port, "name"), "web");
    assert_string_equal(ctl_str(port, "protocol"), "TCP");
    json_t *a = json_array_get(ready, 0);
    assert_string_equal(ctl_str(a, "ip"), "10.1.0.1");
    assert_string_equal(ctl_str(a, "nodeName"), "node-a");
    assert_string_equal(ctl_str(json_object_get(a, "targetRef"), "kind"), "Pod");
    assert_string_equal(ctl_str(json_object_get(a, "targetRef"), "uid"), "u-a");
    assert_string_equal(addr_name(json_array_get(json_object_get(s1, "addresses"), 0)), "c");
    assert_null(json_object_get(s1, "notReadyAddresses"));
    json_decref(subs);

    /* publishNotReadyAddresses: all ready, the terminating one too. */
    json_t *s2 = svc("'publishNotReadyAddresses':true");
    subs = ctl_ep_subsets(s2, pods);
    s0 = json_array_get(subs, 0);
    assert_int_equal(json_array_size(json_object_get(s0, "addresses")), 4); /* a b d g */
    assert_null(json_object_get(s0, "notReadyAddresses"));
    json_decref(subs);
    json_decref(s2);

    /* Two ports: 9100 is offered by all, http by each at its own port. */
    s2 = svc(NULL);
    json_array_append_new(json_object_get(json_object_get(s2, "spec"), "ports"),
                          J("{'name':'metrics','port':9100,'protocol':'TCP'}"));
    subs = ctl_ep_subsets(s2, pods);
    /* {a,b,d}:8080, {c}:9090, {a,b,c,d}:9100 */
    assert_int_equal(json_array_size(subs), 3);
    size_t i;
    json_t *sub;
    int seen = 0;
    json_array_foreach(subs, i, sub)
    {
        json_t *ports = json_object_get(sub, "ports");
        assert_int_equal(json_array_size(ports), 1);
        size_t n = json_array_size(json_object_get(sub, "addresses")) +
                   json_array_size(json_object_get(sub, "notReadyAddresses"));
        json_int_t pn = json_integer_value(json_object_get(json_array_get(ports, 0), "port"));
        seen |= (pn == 8080 && n == 3) | (pn == 9090 && n == 1) << 1 | (pn == 9100 && n == 4) << 2;
    }
    assert_int_equal(seen, 7);
    json_decref(subs);
    json_decref(s2);

    /* Headless without ports: addresses without ports; with a ClusterIP: none. */
    s2 = J("{'metadata':{'name':'web','namespace':'ns'},'spec':{'selector':{'app':'web'},"
           "'clusterIP':'None'}}");
    subs = ctl_ep_subsets(s2, pods);
    assert_int_equal(json_array_size(subs), 1);
    assert_null(json_object_get(json_array_get(subs, 0), "ports"));
    json_decref(subs);
    json_object_set_new(json_object_get(s2, "spec"), "clusterIP", json_string("10.0.0.9"));
    subs = ctl_ep_subsets(s2, pods);
    assert_int_equal(json_array_size(subs), 0);
    json_decref(subs);
    json_decref(s2);
    json_decref(pods);
    json_decref(s);
}

static json_t *many_addresses(const char *key, int n, int base)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.%d.%d.%d", base, i / 256, i % 256);
        json_array_append_new(arr, json_pack("{s:s}", "ip", ip));
    }
    json_t *sub = json_object();
    json_object_set_new(sub, key, arr);
    return sub;
}

static void test_truncate(void **state)
{
    (void)state;
    json_t *subs = json_array();
    json_array_append_new(subs, many_addresses("addresses", 500, 1));
    assert_false(ctl_ep_truncate(subs, 1000));
    json_array_append_new(subs, many_addresses("notReadyAddresses", 600, 2));
    assert_true(ctl_ep_truncate(subs, 1000)); /* ready kept, not ready cut to 500 */
    assert_int_equal(json_array_size(json_object_get(json_array_get(subs, 0), "addresses")), 500);
    assert_int_equal(
        json_array_size(json_object_get(json_array_get(subs, 1), "notReadyAddresses")), 500);
    json_decref(subs);

    /* Too many ready: proportionally over the subsets, not ready dropped. */
    subs = json_array();
    json_t *s0 = many_addresses("addresses", 900, 1);
    json_object_set_new(s0, "notReadyAddresses", json_pack("[{s:s}]", "ip", "10.9.9.9"));
    json_array_append_new(subs, s0);
    json_array_append_new(subs, many_addresses("addresses", 300, 2));
    assert_true(ctl_ep_truncate(subs, 1000));
    assert_int_equal(json_array_size(json_object_get(json_array_get(subs, 0), "addresses")), 750);
    assert_null(json_object_get(json_array_get(subs, 0), "notReadyAddresses"));
    assert_int_equal(json_array_size(json_object_get(json_array_get(subs, 1), "addresses")), 250);
    json_decref(subs);
}

static void test_desired(void **state)
{
    (void)state;
    json_t *s = svc(NULL);
    json_t *pods = json_array();
    json_array_append_new(pods, pod("a", "web", "10.1.0.1", 8080, true, NULL));
    json_t *ep = ctl_ep_desired(s, pods, NULL, "2020-01-01T00:00:00Z");
    assert_non_null(ep);
    json_t *md = json_object_get(ep, "metadata");
    assert_string_equal(ctl_str(md, "name"), "web");
    assert_string_equal(ctl_str(json_object_get(md, "labels"), "team"), "a");
    assert_string_equal(ctl_str(json_object_get(md, "annotations"),
                                "endpoints.kubernetes.io/last-change-trigger-time"),
                        "2020-01-01T00:00:00Z");
    assert_null(json_object_get(json_object_get(md, "annotations"),
                                "endpoints.kubernetes.io/over-capacity"));
    /* Written: nothing more to do. */
    assert_null(ctl_ep_desired(s, pods, ep, "2020-01-01T00:00:09Z"));
    /* A readiness change is a write. */
    json_object_set_new(json_array_get(json_object_get(json_object_get(json_array_get(pods, 0),
                                                                       "status"),
                                                       "conditions"),
                                       0),
                        "status", json_string("False"));
    json_t *ep2 = ctl_ep_desired(s, pods, ep, "2020-01-01T00:00:09Z");
    assert_non_null(ep2);
    assert_non_null(json_object_get(json_array_get(json_object_get(ep2, "subsets"), 0),
                                    "notReadyAddresses"));
    json_decref(ep2);
    /* No pods: no subsets at all. */
    json_t *none = json_array();
    ep2 = ctl_ep_desired(s, none, ep, "2020-01-01T00:00:09Z");
    assert_null(json_object_get(ep2, "subsets"));
    assert_null(ctl_ep_desired(s, none, ep2, "x"));
    json_decref(ep2);
    json_decref(none);
    /* Headless: the label. */
    json_object_set_new(json_object_get(s, "spec"), "clusterIP", json_string("None"));
    ep2 = ctl_ep_desired(s, pods, ep, "t");
    assert_non_null(json_object_get(json_object_get(json_object_get(ep2, "metadata"), "labels"),
                                    "service.kubernetes.io/headless"));
    json_decref(ep2);
    json_decref(ep);
    json_decref(pods);
    json_decref(s);
}

struct calls {
    char seen[8][64];
    int n;
};

static void record(void *arg, const char *ns, const char *name)
{
    struct calls *c = arg;
    if (c->n < 8)
        snprintf(c->seen[c->n++], 64, "%s/%s", ns, name);
}

static bool called(struct calls *c, const char *what)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->seen[i], what) == 0)
            return true;
    return false;
}

static void test_service_index(void **state)
{
    (void)state;
    struct ctl_svc_index *x = ctl_svc_index_new();
    json_t *web = svc(NULL);
    json_t *all = J("{'spec':{'selector':{'tier':'front'}}}");
    json_t *nosel = J("{'spec':{}}");
    ctl_svc_index_set(x, "ns", "web", web);
    ctl_svc_index_set(x, "ns", "front", all);
    ctl_svc_index_set(x, "ns", "manual", nosel);
    ctl_svc_index_set(x, "other", "web", web);
    struct calls c = {.n = 0};
    json_t *labels = J("{'app':'web','tier':'front'}");
    ctl_svc_index_pod(x, "ns", "p", labels, false, record, &c);
    assert_int_equal(c.n, 2);
    assert_true(called(&c, "ns/web") && called(&c, "ns/front"));
    /* Labels change: the Services it left hear of it too. */
    json_decref(labels);
    labels = J("{'app':'db'}");
    c.n = 0;
    ctl_svc_index_pod(x, "ns", "p", labels, false, record, &c);
    assert_int_equal(c.n, 2);
    c.n = 0;
    ctl_svc_index_pod(x, "ns", "p", labels, false, record, &c);
    assert_int_equal(c.n, 0);
    /* A deleted Service is forgotten; a deleted pod too. */
    json_decref(labels);
    labels = J("{'app':'web'}");
    ctl_svc_index_set(x, "ns", "web", NULL);
    c.n = 0;
    ctl_svc_index_pod(x, "ns", "q", labels, true, record, &c);
    assert_int_equal(c.n, 0);
    ctl_svc_index_set(x, "ns", "web", web);
    ctl_svc_index_pod(x, "ns", "q", labels, true, record, &c);
    assert_int_equal(c.n, 1);
    c.n = 0;
    ctl_svc_index_pod(x, "ns", "q", NULL, true, record, &c);
    assert_int_equal(c.n, 0);
    /* What a sync saw is remembered (once), as after a new leader's first
     * pass: the pod's next change reaches the Service. */
    ctl_svc_index_remember(x, "ns", "r", "web");
    ctl_svc_index_remember(x, "ns", "r", "web");
    ctl_svc_index_remember(x, "ns", "r", "we");
    c.n = 0;
    ctl_svc_index_pod(x, "ns", "r", NULL, false, record, &c);
    assert_int_equal(c.n, 2);
    assert_true(called(&c, "ns/web") && called(&c, "ns/we"));
    json_decref(labels);
    json_decref(web);
    json_decref(all);
    json_decref(nosel);
    ctl_svc_index_free(x);
}

/* ---- slices ---- */

static void test_slice_endpoints(void **state)
{
    (void)state;
    json_t *s = svc(NULL);
    json_t *zones = J("{'node-a':'zone-1'}");
    json_t *pods = json_array();
    json_array_append_new(pods, pod("a", "web", "10.1.0.1", 8080, true, NULL));
    json_array_append_new(pods, pod("b", "web", "10.1.0.2", 8080, false, NULL));
    json_array_append_new(pods, pod("t", "web", "10.1.0.3", 8080, true,
                                    "'deletionTimestamp':'2020-01-01T00:00:00Z'"));
    json_array_append_new(pods, pod("c", "web", "10.1.0.4", 9090, true, NULL));
    json_array_append_new(pods, pod("x", "db", "10.1.0.5", 8080, true, NULL));
    json_t *d = ctl_eps_desired(s, pods, zones);
    assert_int_equal(json_array_size(d), 2);
    json_t *g8080 = NULL, *g;
    size_t i;
    json_array_foreach(d, i, g) if (json_integer_value(json_object_get(
                                        json_array_get(json_object_get(g, "ports"), 0), "port")) ==
                                    8080) g8080 = g;
    assert_non_null(g8080);
    json_t *eps = json_object_get(g8080, "endpoints");
    assert_int_equal(json_array_size(eps), 3);
    json_t *a = json_array_get(eps, 0), *b = json_array_get(eps, 1), *t = json_array_get(eps, 2);
    json_t *ca = json_object_get(a, "conditions"), *cb = json_object_get(b, "conditions");
    json_t *ct = json_object_get(t, "conditions");
    assert_true(json_is_true(json_object_get(ca, "ready")));
    assert_true(json_is_true(json_object_get(ca, "serving")));
    assert_false(json_is_true(json_object_get(ca, "terminating")));
    assert_false(json_is_true(json_object_get(cb, "ready")));
    assert_false(json_is_true(json_object_get(cb, "serving")));
    assert_false(json_is_true(json_object_get(ct, "ready"))); /* terminating */
    assert_true(json_is_true(json_object_get(ct, "serving")));
    assert_true(json_is_true(json_object_get(ct, "terminating")));
    assert_string_equal(ctl_str(a, "zone"), "zone-1");
    assert_string_equal(ctl_str(a, "nodeName"), "node-a");
    assert_null(json_object_get(b, "zone"));
    assert_string_equal(ctl_str(json_object_get(a, "targetRef"), "name"), "a");
    json_t *port = json_array_get(json_object_get(g8080, "ports"), 0);
    assert_string_equal(ctl_str(port, "name"), "web");
    json_decref(d);
    json_decref(pods);
    json_decref(zones);
    json_decref(s);
}

/* One group of n endpoints (ips 10.0.x.y from first), port 8080. */
static json_t *group(int first, int n)
{
    json_t *eps = json_array();
    for (int i = first; i < first + n; i++) {
        char ip[32], uid[32];
        snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        snprintf(uid, sizeof uid, "uid-%05d", i);
        json_array_append_new(
            eps, json_pack("{s:[s], s:{s:b, s:b, s:b}, s:{s:s, s:s}}", "addresses", ip,
                           "conditions", "ready", 1, "serving", 1, "terminating", 0, "targetRef",
                           "kind", "Pod", "uid", uid));
    }
    return json_pack("{s:[{s:s, s:i, s:s}], s:o}", "ports", "name", "web", "port", 8080,
                     "protocol", "TCP", "endpoints", eps);
}

/* An existing slice of ours holding g's endpoints [from, from+n). */
static json_t *slice_of(json_t *s, json_t *g, const char *name, int from, int n)
{
    json_t *eps = json_array();
    for (int i = from; i < from + n; i++)
        json_array_append(eps, json_array_get(json_object_get(g, "endpoints"), (size_t)i));
    json_t *sl = json_pack("{s:{s:s, s:s, s:o, s:[{s:s, s:s, s:s, s:b}]}, s:s, s:O, s:o}",
                           "metadata", "name", name, "uid", name, "labels", ctl_eps_labels(s),
                           "ownerReferences", "kind", "Service", "name", "web", "uid", "u-svc",
                           "controller", 1, "addressType", "IPv4", "ports",
                           json_object_get(g, "ports"), "endpoints", eps);
    return sl;
}

static size_t n_eps(json_t *slice)
{
    return json_array_size(json_object_get(slice, "endpoints"));
}

static void plan_free(struct ctl_eps_plan *p)
{
    json_decref(p->create);
    json_decref(p->update);
    json_decref(p->remove);
}

static void test_slice_packing(void **state)
{
    (void)state;
    json_t *s = svc(NULL);
    struct ctl_eps_plan p;
    /* 250 new endpoints: 100 + 100 + 50. */
    json_t *d = json_array(), *none = json_array();
    json_array_append_new(d, group(0, 250));
    ctl_eps_reconcile(s, d, none, 100, &p);
    assert_int_equal(json_array_size(p.create), 3);
    assert_int_equal(n_eps(json_array_get(p.create, 0)), 100);
    assert_int_equal(n_eps(json_array_get(p.create, 2)), 50);
    json_t *md = json_object_get(json_array_get(p.create, 0), "metadata");
    assert_string_equal(ctl_str(md, "generateName"), "web-");
    assert_string_equal(ctl_str(json_object_get(md, "labels"), "kubernetes.io/service-name"),
                        "web");
    assert_string_equal(ctl_str(json_object_get(md, "labels"),
                                "endpointslice.kubernetes.io/managed-by"),
                        "endpointslice-controller.k8s.io");
    assert_string_equal(ctl_str(json_object_get(md, "labels"), "team"), "a");
    assert_string_equal(ctl_str(ctl_controller_ref(json_array_get(p.create, 0)), "uid"), "u-svc");
    assert_string_equal(ctl_str(json_array_get(p.create, 0), "addressType"), "IPv4");
    assert_int_equal(json_array_size(p.update) + json_array_size(p.remove), 0);
    plan_free(&p);

    /* A full slice unchanged; the 150 others: one new full slice, and 50 more
     * that fit nowhere: another new one. */
    json_t *g = json_incref(json_array_get(d, 0));
    json_t *ex = json_array();
    json_array_append_new(ex, slice_of(s, g, "s1", 0, 100));
    ctl_eps_reconcile(s, d, ex, 100, &p);
    assert_int_equal(json_array_size(p.create), 2);
    assert_int_equal(json_array_size(p.update) + json_array_size(p.remove), 0);
    plan_free(&p);
    json_decref(ex);

    /* In sync: nothing to write. */
    ex = json_array();
    json_array_append_new(ex, slice_of(s, g, "s1", 0, 100));
    json_array_append_new(ex, slice_of(s, g, "s2", 100, 100));
    json_array_append_new(ex, slice_of(s, g, "s3", 200, 50));
    ctl_eps_reconcile(s, d, ex, 100, &p);
    assert_int_equal(json_array_size(p.create) + json_array_size(p.update) +
                         json_array_size(p.remove),
                     0);
    plan_free(&p);

    /* 20 more endpoints: into the unchanged slice with room, not a new one. */
    json_decref(d);
    d = json_array();
    json_array_append_new(d, group(0, 270));
    ctl_eps_reconcile(s, d, ex, 100, &p);
    assert_int_equal(json_array_size(p.create), 0);
    assert_int_equal(json_array_size(p.update), 1);
    assert_string_equal(ctl_str(json_object_get(json_array_get(p.update, 0), "metadata"), "name"),
                        "s3");
    assert_int_equal(n_eps(json_array_get(p.update, 0)), 70);
    plan_free(&p);

    /* One endpoint gone from s1 and one changed in s2: those two are
     * rewritten, and the removed room is filled by the new ones. */
    json_t *g2 = group(0, 260); /* 250..259 new */
    json_t *gone = json_array_get(json_object_get(g2, "endpoints"), 5);
    json_array_remove(json_object_get(g2, "endpoints"), 5);
    (void)gone;
    json_t *changed = json_array_get(json_object_get(g2, "endpoints"), 150);
    json_object_set_new(json_object_get(changed, "conditions"), "ready", json_false());
    json_decref(d);
    d = json_array();
    json_array_append_new(d, g2);
    ctl_eps_reconcile(s, d, ex, 100, &p);
    assert_int_equal(json_array_size(p.update), 3); /* s1, s2 and s3 (the last 9 fit) */
    assert_int_equal(json_array_size(p.create), 0);
    size_t total = 0, i;
    json_t *u;
    json_array_foreach(p.update, i, u) total += n_eps(u);
    assert_int_equal(total, 259);
    plan_free(&p);

    /* Ports changed: old slices go, new ones come; a foreign-owned slice goes. */
    json_decref(d);
    d = json_array();
    g2 = group(0, 10);
    json_object_set_new(json_array_get(json_object_get(g2, "ports"), 0), "port", json_integer(81));
    json_array_append_new(d, g2);
    json_t *foreign = slice_of(s, g, "old-owner", 0, 1);
    json_object_set_new(ctl_controller_ref(foreign), "uid", json_string("u-old"));
    json_array_append_new(ex, foreign);
    ctl_eps_reconcile(s, d, ex, 100, &p);
    assert_int_equal(json_array_size(p.remove), 4);
    assert_int_equal(json_array_size(p.create), 1);
    assert_int_equal(n_eps(json_array_get(p.create, 0)), 10);
    plan_free(&p);

    /* No endpoints: one placeholder, kept once there. */
    ctl_eps_reconcile(s, none, ex, 100, &p);
    assert_int_equal(json_array_size(p.remove), 4);
    assert_int_equal(json_array_size(p.create), 1);
    json_t *ph = json_incref(json_array_get(p.create, 0));
    assert_int_equal(n_eps(ph), 0);
    assert_int_equal(json_array_size(json_object_get(ph, "ports")), 0);
    plan_free(&p);
    json_t *only = json_array();
    json_object_set_new(json_object_get(ph, "metadata"), "name", json_string("web-ph"));
    json_array_append_new(only, ph);
    ctl_eps_reconcile(s, none, only, 100, &p);
    assert_int_equal(json_array_size(p.create) + json_array_size(p.update) +
                         json_array_size(p.remove),
                     0);
    plan_free(&p);
    /* ... and given up when endpoints come. */
    json_t *one = json_array();
    json_array_append_new(one, group(0, 1));
    ctl_eps_reconcile(s, one, only, 100, &p);
    assert_int_equal(json_array_size(p.remove), 1);
    assert_int_equal(json_array_size(p.create), 1);
    plan_free(&p);
    json_decref(one);
    json_decref(only);
    json_decref(ex);
    json_decref(d);
    json_decref(g);
    json_decref(none);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pod_rules),       cmocka_unit_test(test_subsets),
        cmocka_unit_test(test_truncate),        cmocka_unit_test(test_desired),
        cmocka_unit_test(test_service_index),   cmocka_unit_test(test_slice_endpoints),
        cmocka_unit_test(test_slice_packing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
