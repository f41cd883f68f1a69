/* endpointslice.c — the EndpointSlice controller: for every Service with
 * a selector, discovery.k8s.io/v1 EndpointSlices listing the pods it
 * selects, as Kubernetes' pkg/controller/endpointslice and its reconciler
 * (staging/src/k8s.io/endpointslice/reconciler.go) keep them.
 *
 * Desired state: every selected pod with an IP that is not terminal
 * (terminating pods included) is an endpoint {addresses [ip], conditions
 * {ready, serving, terminating}, nodeName, zone (its node's
 * topology.kubernetes.io/zone), targetRef}; ready = Ready and not
 * terminating (or publishNotReadyAddresses), serving = Ready. Endpoints are
 * grouped by the ports their pod resolves (the Service's ports whose
 * targetPort it has), and each group goes into slices of at most
 * CTL_EPS_MAX_ENDPOINTS endpoints.
 *
 * Reconciling (ctl_eps_reconcile, pure): our slices are those labelled
 * kubernetes.io/service-name=SERVICE and endpointslice.kubernetes.io/
 * managed-by=endpointslice-controller.k8s.io; one not owned by the Service
 * (a Service deleted and made again) or of another address type is
 * deleted. Each slice keeps the desired endpoints it already holds
 * (updated when they changed) and drops the others; slices that changed are
 * then filled up with the remaining endpoints, new slices take what is left
 * in chunks of the maximum, and a last partial chunk goes into an unchanged
 * slice with room for it rather than into a new one, so few slices are
 * rewritten. Slices left empty are deleted; a Service with no endpoints at
 * all keeps one placeholder slice with no endpoints and no ports. New slices
 * are named by the server from generateName "SERVICE-" and owned by the
 * Service, so the garbage collector deletes them with it.
 *
 * The change stream, the Service index and the pod rules are endpoints.c's
 * (pods queue their Services CTL_EP_BATCH_MS later, so a burst of
 * readiness changes is one sync). */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "util/util.h"

#define EPS "endpointslice"
#define MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define CONTROLLER_NAME "endpointslice-controller.k8s.io"
#define SERVICE_NAME "kubernetes.io/service-name"
#define HEADLESS "service.kubernetes.io/headless"
#define ZONE_LABEL "topology.kubernetes.io/zone"
#define TRIGGER_TIME "endpoints.kubernetes.io/last-change-trigger-time"

static json_t *meta(json_t *o)
{
    return json_object_get(o, "metadata");
}

static json_t *at(json_t *o, const char *a, const char *b)
{
    return json_object_get(json_object_get(o, a), b);
}

/* ---- desired endpoints ---- */

json_t *ctl_eps_endpoint(json_t *svc, json_t *pod, json_t *zones)
{
    json_t *pmd = meta(pod), *spec = json_object_get(pod, "spec");
    bool serving = ctl_pod_ready(pod);
    bool terminating = json_object_get(pmd, "deletionTimestamp") != NULL;
    bool ready = json_is_true(at(svc, "spec", "publishNotReadyAddresses")) ||
                 (serving && !terminating);
    json_t *ep = json_pack("{s:[s], s:{s:b, s:b, s:b}, s:{s:s, s:s, s:s, s:s}}", "addresses",
                           ctl_ep_pod_ip(pod), "conditions", "ready", ready, "serving", serving,
                           "terminating", terminating, "targetRef", "kind", "Pod", "namespace",
                           ctl_str(pmd, "namespace"), "name", ctl_str(pmd, "name"), "uid",
                           ctl_str(pmd, "uid"));
    const char *node = ctl_str(spec, "nodeName");
    if (*node) {
        json_object_set_new(ep, "nodeName", json_string(node));
        const char *zone = json_string_value(json_object_get(zones, node));
        if (zone && *zone)
            json_object_set_new(ep, "zone", json_string(zone));
    }
    if (*ctl_str(spec, "hostname") &&
        strcmp(ctl_str(spec, "subdomain"), ctl_str(meta(svc), "name")) == 0)
        json_object_set_new(ep, "hostname", json_string(ctl_str(spec, "hostname")));
    return ep;
}

/* The canonical text of a ports array: groups and slices by port set. */
static char *ports_key(json_t *ports)
{
    char *s = json_dumps(ports ? ports : json_array(), JSON_COMPACT | JSON_SORT_KEYS);
    return s ? s : xstrdup("[]");
}

static const char *ep_ip(json_t *ep)
{
    return json_string_value(json_array_get(json_object_get(ep, "addresses"), 0));
}

/* An endpoint's identity: its pod's uid, else its address. */
static const char *ep_id(json_t *ep)
{
    const char *uid = ctl_str(json_object_get(ep, "targetRef"), "uid");
    return *uid ? uid : (ep_ip(ep) ? ep_ip(ep) : "");
}

static int ep_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *p = ep_ip(x), *q = ep_ip(y);
    int c = strcmp(p ? p : "", q ? q : "");
    return c ? c : strcmp(ep_id(x), ep_id(y));
}

static void sort_eps(json_t *arr)
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return;
    json_t **v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, ep_cmp);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}

json_t *ctl_eps_desired(json_t *svc, json_t *pods, json_t *zones)
{
    json_t *groups = json_object(); /* ports key -> {ports, endpoints} */
    json_t *pod, *sp;
    size_t i, j;
    json_array_foreach(pods, i, pod)
    {
        if (!ctl_ep_selects(svc, pod) || !ctl_ep_pod_included(pod, true))
            continue;
        json_t *ports = json_array();
        json_array_foreach(at(svc, "spec", "ports"), j, sp)
        {
            int n = ctl_ep_find_port(pod, sp);
            if (n > 0)
                json_array_append_new(ports, ctl_ep_port(sp, n, true));
        }
        char *key = ports_key(ports);
        json_t *g = json_object_get(groups, key);
        if (!g) {
            g = json_pack("{s:O, s:[]}", "ports", ports, "endpoints");
            json_object_set_new(groups, key, g);
        }
        json_array_append_new(json_object_get(g, "endpoints"), ctl_eps_endpoint(svc, pod, zones));
        free(key);
        json_decref(ports);
    }
    json_t *out = json_array(), *g;
    const char *k;
    json_object_foreach(groups, k, g)
    {
        sort_eps(json_object_get(g, "endpoints"));
        json_array_append(out, g);
    }
    json_decref(groups);
    return out;
}

/* ---- reconciling ---- */

json_t *ctl_eps_labels(json_t *svc)
{
    json_t *l = json_object(), *v;
    const char *k;
    json_object_foreach(at(svc, "metadata", "labels"), k, v)
    {
        if (strcmp(k, SERVICE_NAME) == 0 || strcmp(k, MANAGED_BY) == 0 || strcmp(k, HEADLESS) == 0)
            continue;
        json_object_set(l, k, v);
    }
    json_object_set_new(l, SERVICE_NAME, json_string(ctl_str(meta(svc), "name")));
    json_object_set_new(l, MANAGED_BY, json_string(CONTROLLER_NAME));
    if (strcmp(ctl_str(json_object_get(svc, "spec"), "clusterIP"), "None") == 0)
        json_object_set_new(l, HEADLESS, json_string(""));
    return l;
}

/* A slice being kept: its new endpoints, and whether it must be written. */
struct work {
    json_t *slice;
    json_t *eps;
    const char *key; /* its group's ports key, borrowed */
    bool changed;
};

struct rec {
    json_t *svc, *labels;
    size_t max;
    struct work *w;
    size_t n, cap;
    struct ctl_eps_plan *out;
};

static bool owned(json_t *slice, json_t *svc)
{
    json_t *ref = ctl_controller_ref(slice);
    return ref && strcmp(ctl_str(ref, "uid"), ctl_str(meta(svc), "uid")) == 0 &&
           strcmp(ctl_str(slice, "addressType"), "IPv4") == 0;
}

/* Takes what a slice already holds of its group's desired endpoints out of
 * the pool. */
static void keep_slice(struct rec *r, json_t *slice, json_t *pool, const char *key)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->w = xrealloc(r->w, r->cap * sizeof *r->w);
    }
    struct work *w = &r->w[r->n++];
    *w = (struct work){json_incref(slice), json_array(), key, false};
    json_t *have = at(slice, "metadata", "labels");
    w->changed = !have || !json_equal(have, r->labels);
    json_t *ep;
    size_t i;
    json_array_foreach(json_object_get(slice, "endpoints"), i, ep)
    {
        json_t *d = json_object_get(pool, ep_id(ep));
        if (!d) {
            w->changed = true; /* gone */
            continue;
        }
        if (!json_equal(d, ep))
            w->changed = true;
        json_array_append(w->eps, d);
        json_object_del(pool, ep_id(ep));
    }
}

static size_t room(const struct rec *r, const struct work *w)
{
    size_t n = json_array_size(w->eps);
    return n < r->max ? r->max - n : 0;
}

static json_t *new_slice(struct rec *r, json_t *ports)
{
    json_t *smd = meta(r->svc);
    char gn[300];
    snprintf(gn, sizeof gn, "%.250s-", ctl_str(smd, "name"));
    json_t *md = json_pack("{s:s, s:s, s:O, s:[o]}", "generateName", gn, "namespace",
                           ctl_str(smd, "namespace"), "labels", r->labels, "ownerReferences",
                           ctl_owner_ref(r->svc, "v1", "Service"));
    return json_pack("{s:s, s:s, s:o, s:s, s:O, s:[]}", "apiVersion", "discovery.k8s.io/v1",
                     "kind", "EndpointSlice", "metadata", md, "addressType", "IPv4", "ports",
                     ports, "endpoints");
}

/* Places one group's remaining endpoints (pool, sorted into rest). */
static void place_group(struct rec *r, json_t *group, const char *key, json_t *pool)
{
    json_t *rest = json_array(), *ep;
    const char *k;
    json_object_foreach(pool, k, ep) json_array_append(rest, ep);
    sort_eps(rest);
    size_t next = 0, total = json_array_size(rest);
    /* 1. slices being written anyway are filled up */
    for (size_t i = 0; i < r->n && next < total; i++) {
        struct work *w = &r->w[i];
        if (w->key != key || !w->changed)
            continue;
        while (room(r, w) && next < total)
            json_array_append(w->eps, json_array_get(rest, next++));
    }
    while (next < total) {
        size_t left = total - next;
        /* 2. a last partial chunk into an unchanged slice with room */
        struct work *fit = NULL;
        for (size_t i = 0; left < r->max && i < r->n && !fit; i++)
            if (r->w[i].key == key && !r->w[i].changed && room(r, &r->w[i]) >= left)
                fit = &r->w[i];
        if (fit) {
            while (next < total)
                json_array_append(fit->eps, json_array_get(rest, next++));
            fit->changed = true;
            break;
        }
        /* 3. new slices */
        json_t *s = new_slice(r, json_object_get(group, "ports"));
        json_t *eps = json_object_get(s, "endpoints");
        for (size_t n = 0; n < r->max && next < total; n++)
            json_array_append(eps, json_array_get(rest, next++));
        json_array_append_new(r->out->create, s);
    }
    json_decref(rest);
}

static bool is_placeholder(json_t *slice)
{
    return !json_array_size(json_object_get(slice, "endpoints")) &&
           !json_array_size(json_object_get(slice, "ports"));
}

/* A Service without endpoints keeps one empty slice (kept: how many
 * slices with endpoints stay). */
static void placeholder(struct rec *r, size_t kept)
{
    if (kept || json_array_size(r->out->create) || json_array_size(r->out->update))
        return;
    json_t *s;
    size_t i;
    json_array_foreach(r->out->remove, i, s)
    {
        if (!owned(s, r->svc) || !is_placeholder(s))
            continue;
        if (!json_equal(at(s, "metadata", "labels"), r->labels)) {
            json_t *u = json_deep_copy(s);
            json_object_set(meta(u), "labels", r->labels);
            json_array_append_new(r->out->update, u);
        }
        json_array_remove(r->out->remove, i);
        return;
    }
    json_t *empty = json_array();
    json_array_append_new(r->out->create, new_slice(r, empty));
    json_decref(empty);
}

void ctl_eps_reconcile(json_t *svc, json_t *desired, json_t *existing, size_t max,
                       struct ctl_eps_plan *out)
{
    assert(max > 0);
    out->create = json_array();
    out->update = json_array();
    out->remove = json_array();
    struct rec r = {svc, ctl_eps_labels(svc), max, NULL, 0, 0, out};
    size_t ng = json_array_size(desired), i;
    char **keys = xcalloc(ng + 1, sizeof *keys);
    json_t **pools = xcalloc(ng + 1, sizeof *pools);
    json_t *g, *s, *ep;
    json_array_foreach(desired, i, g)
    {
        keys[i] = ports_key(json_object_get(g, "ports"));
        pools[i] = json_object();
        size_t j;
        json_array_foreach(json_object_get(g, "endpoints"), j, ep)
            json_object_set(pools[i], ep_id(ep), ep);
    }
    json_array_foreach(existing, i, s)
    {
        char *k = ports_key(json_object_get(s, "ports"));
        size_t gi = ng;
        for (size_t j = 0; j < ng && gi == ng; j++)
            if (strcmp(keys[j], k) == 0)
                gi = j;
        free(k);
        if (!owned(s, svc) || gi == ng)
            json_array_append(out->remove, s);
        else
            keep_slice(&r, s, pools[gi], keys[gi]);
    }
    json_array_foreach(desired, i, g) place_group(&r, g, keys[i], pools[i]);
    size_t kept = 0;
    for (i = 0; i < r.n; i++) {
        struct work *w = &r.w[i];
        kept += json_array_size(w->eps) > 0;
        if (!json_array_size(w->eps)) {
            json_array_append(out->remove, w->slice);
        } else if (w->changed) {
            json_t *u = json_deep_copy(w->slice);
            sort_eps(w->eps);
            json_object_set(u, "endpoints", w->eps);
            json_object_set(meta(u), "labels", r.labels);
            json_array_append_new(out->update, u);
        }
        json_decref(w->slice);
        json_decref(w->eps);
    }
    placeholder(&r, kept);
    for (i = 0; i < ng; i++) {
        free(keys[i]);
        json_decref(pools[i]);
    }
    free(keys);
    free(pools);
    free(r.w);
    json_decref(r.labels);
}

/* ---- I/O ---- */

/* Our slices of the Service (by labels, whoever owns them). */
static json_t *service_slices(struct ctl *c, const char *ns, const char *name)
{
    json_t *all = ctl_list(c, "endpointslices", ns, name), *out = json_array(), *s;
    size_t i;
    json_array_foreach(all, i, s)
    {
        json_t *l = at(s, "metadata", "labels");
        if (strcmp(ctl_str(l, SERVICE_NAME), name) == 0 &&
            strcmp(ctl_str(l, MANAGED_BY), CONTROLLER_NAME) == 0)
            json_array_append(out, s);
    }
    json_decref(all);
    return out;
}

/* node name -> zone, for the nodes the selected pods run on. */
static json_t *node_zones(struct ctl *c, json_t *pods)
{
    json_t *zones = json_object(), *p;
    size_t i;
    json_array_foreach(pods, i, p)
    {
        const char *node = ctl_str(json_object_get(p, "spec"), "nodeName");
        if (!*node || json_object_get(zones, node))
            continue;
        json_t *n = ctl_get(c, "nodes", "", node);
        json_object_set_new(zones, node,
                            json_string(ctl_str(at(n, "metadata", "labels"), ZONE_LABEL)));
        json_decref(n);
    }
    return zones;
}

static void stamp(json_t *slice, const char *now)
{
    json_t *md = meta(slice), *ann = json_object_get(md, "annotations");
    if (!json_is_object(ann)) {
        ann = json_object();
        json_object_set_new(md, "annotations", ann);
    }
    json_object_set_new(ann, TRIGGER_TIME, json_string(now));
}

static bool write_plan(struct ctl *c, const char *ns, struct ctl_eps_plan *p)
{
    size_t nc = json_array_size(p->create), nu = json_array_size(p->update);
    size_t nr = json_array_size(p->remove), n = nc + nu + nr, k = 0, i;
    if (!n)
        return true;
    char now[40];
    util_time_rfc3339(now, sizeof now);
    struct ctl_call *calls = xcalloc(n, sizeof *calls);
    json_t *s;
    json_array_foreach(p->create, i, s)
    {
        stamp(s, now);
        calls[k].method = "POST";
        snprintf(calls[k].path, sizeof calls[k].path,
                 "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices", ns);
        calls[k++].body = json_incref(s);
    }
    json_array_foreach(p->update, i, s)
    {
        stamp(s, now);
        calls[k].method = "PUT";
        ctl_object_path("endpointslices", ns, ctl_str(meta(s), "name"), calls[k].path,
                        sizeof calls[k].path);
        calls[k++].body = json_incref(s);
    }
    json_array_foreach(p->remove, i, s)
    {
        calls[k].method = "DELETE";
        ctl_object_path("endpointslices", ns, ctl_str(meta(s), "name"), calls[k].path,
                        sizeof calls[k].path);
        calls[k++].body = json_pack("{s:{s:s}}", "preconditions", "uid",
                                    ctl_str(meta(s), "uid"));
    }
    assert(k == n);
    ctl_api_many(c, calls, n);
    bool ok = true;
    for (k = 0; k < n; k++) {
        int st = calls[k].status;
        bool good = k < nc ? st == 201 : k < nc + nu ? st == 200 : (st == 200 || st == 404);
        if (!good) {
            LOG_WARN("controllers: endpointslices in %s: %s %s failed (%d)", ns,
                     calls[k].method, calls[k].path, st);
            ok = false;
        }
        json_decref(calls[k].body);
    }
    free(calls);
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    json_t *svc = ctl_get(c, "services", ns, name);
    if (!svc)
        return true; /* its slices are owned by it: the garbage collector's */
    json_t *spec = json_object_get(svc, "spec");
    bool ok = true;
    if (strcmp(ctl_str(spec, "type"), "ExternalName") != 0 &&
        json_object_size(json_object_get(spec, "selector"))) {
        json_t *pods = ctl_ep_candidate_pods(c, svc);
        ctl_ep_remember(c, EPS, svc, pods);
        json_t *zones = node_zones(c, pods);
        json_t *desired = ctl_eps_desired(svc, pods, zones);
        json_t *existing = service_slices(c, ns, name);
        struct ctl_eps_plan plan;
        ctl_eps_reconcile(svc, desired, existing, CTL_EPS_MAX_ENDPOINTS, &plan);
        ok = write_plan(c, ns, &plan);
        json_decref(plan.create);
        json_decref(plan.update);
        json_decref(plan.remove);
        json_decref(existing);
        json_decref(desired);
        json_decref(zones);
        json_decref(pods);
    }
    json_decref(svc);
    return ok;
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    ctl_ep_on_change(c, EPS, e, obj);
}

static void resync(struct ctl *c)
{
    ctl_ep_resync(c, EPS);
}

const struct ctl_def ctl_endpointslice = {
    .name = EPS,
    .component = "endpoint-slice-controller",
    .wants = ctl_ep_wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
    .free_state = ctl_svc_index_free,
};
