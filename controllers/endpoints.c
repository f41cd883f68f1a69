/* endpoints.c — the Endpoints controller: for every Service with a
 * selector, an Endpoints object of the same name listing the pods it
 * selects, as Kubernetes' pkg/controller/endpoint keeps it.
 *
 * A sync of one Service, level-triggered: the Service gone → its
 * Endpoints are deleted; an ExternalName Service or one without a selector
 * → left alone (its Endpoints are the user's); otherwise every pod of the
 * namespace the selector selects, with an IP, not terminal and not being
 * deleted (unless publishNotReadyAddresses), gives an address {ip,
 * nodeName, targetRef} — under addresses when Ready (or when
 * publishNotReadyAddresses), under notReadyAddresses otherwise — for each
 * Service port whose targetPort resolves on that pod (a number, or a named
 * container port of the same protocol). The addresses are then grouped as
 * Kubernetes' RepackSubsets does: ports offered by the same set of
 * addresses share one subset; addresses, ports and subsets are sorted so
 * the result is deterministic. Over 1000 addresses are truncated
 * (proportionally over the subsets, ready ones kept first) and marked
 * endpoints.kubernetes.io/over-capacity: truncated. The object is written
 * only when its subsets, labels (the Service's, plus
 * service.kubernetes.io/headless for headless Services) or capacity mark
 * differ, with endpoints.kubernetes.io/last-change-trigger-time set to the
 * time of the write. Every full pass also deletes Endpoints whose Service is
 * gone (Kubernetes' checkLeftoverEndpoints).
 *
 * Which Services a pod concerns: a small index (struct ctl_svc_index) of
 * each namespace's Services and their selectors, and of the Services each
 * pod was last seen selected by — by a sync or by a change of the pod — so
 * a pod whose labels change leaves its old Service's endpoints too (every
 * Service is synced at a leader's first full pass, which fills it in). Pods change often (readiness), so the
 * prefilter is cheap — only pods whose bytes hold "podIP" are decoded —
 * and a pod's change queues its Services CTL_EP_BATCH_MS later: every pod
 * change of that window is one sync. The index, the prefilter and the pod
 * rules are shared with the EndpointSlice controller (endpointslice.c),
 * which keeps its own index. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "util/util.h"

#define EP "endpoints"
#define OVER_CAPACITY "endpoints.kubernetes.io/over-capacity"
#define TRIGGER_TIME "endpoints.kubernetes.io/last-change-trigger-time"
#define HEADLESS "service.kubernetes.io/headless"
#define LEADER_ANNOTATION "control-plane.alpha.kubernetes.io/leader"

static json_t *meta(json_t *o)
{
    return json_object_get(o, "metadata");
}

static json_t *at(json_t *o, const char *a, const char *b)
{
    return json_object_get(json_object_get(o, a), b);
}

/* ---- pods and ports ---- */

bool ctl_ep_selects(json_t *svc, json_t *pod)
{
    json_t *sel = at(svc, "spec", "selector"), *v;
    json_t *labels = at(pod, "metadata", "labels");
    const char *k;
    if (!json_object_size(sel))
        return false;
    json_object_foreach(sel, k, v)
    {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    return true;
}

const char *ctl_ep_pod_ip(json_t *pod)
{
    json_t *st = json_object_get(pod, "status");
    const char *ip = ctl_str(st, "podIP");
    if (!*ip)
        ip = ctl_str(json_array_get(json_object_get(st, "podIPs"), 0), "ip");
    return ip;
}

bool ctl_ep_pod_included(json_t *pod, bool include_terminating)
{
    const char *phase = ctl_str(json_object_get(pod, "status"), "phase");
    if (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)
        return false;
    if (!*ctl_ep_pod_ip(pod))
        return false;
    return include_terminating || !json_object_get(meta(pod), "deletionTimestamp");
}

static const char *protocol(json_t *port)
{
    const char *p = ctl_str(port, "protocol");
    return *p ? p : "TCP";
}

/* A named container port of the containers (and restartable init
 * containers, the sidecars) with the protocol; -1 if none. */
static int named_port(json_t *spec, const char *name, const char *proto)
{
    static const char *lists[] = {"containers", "initContainers"};
    for (int l = 0; l < 2; l++) {
        json_t *ctr, *p;
        size_t i, j;
        json_array_foreach(json_object_get(spec, lists[l]), i, ctr)
        {
            if (l == 1 && strcmp(ctl_str(ctr, "restartPolicy"), "Always") != 0)
                continue;
            json_array_foreach(json_object_get(ctr, "ports"), j, p) if (
                strcmp(ctl_str(p, "name"), name) == 0 && strcmp(protocol(p), proto) == 0) return (
                int)json_integer_value(json_object_get(p, "containerPort"));
        }
    }
    return -1;
}

int ctl_ep_find_port(json_t *pod, json_t *svc_port)
{
    json_t *target = json_object_get(svc_port, "targetPort");
    if (!target)
        target = json_object_get(svc_port, "port");
    if (json_is_integer(target))
        return (int)json_integer_value(target);
    const char *name = json_string_value(target);
    if (!name)
        return -1;
    char *end;
    long n = strtol(name, &end, 10);
    if (*name && !*end) /* "8080": a number in a string */
        return (int)n;
    return named_port(json_object_get(pod, "spec"), name, protocol(svc_port));
}

/* ---- subsets ---- */

/* One (address, port) pair before repacking. */
struct ep_pair {
    char addr_key[160]; /* "ip/uid/r" or ".../n": address identity and readiness */
    char port_key[200]; /* "name/port/protocol", "" for the no-port sentinel */
    json_t *addr;       /* borrowed from the address table */
    json_t *port;       /* NULL for the sentinel */
    bool ready;
};

struct ep_build {
    struct ep_pair *v;
    size_t n, cap;
    json_t *addrs; /* addr_key -> address object */
    json_t *ports; /* port_key -> port object */
};

static void pair_add(struct ep_build *b, const char *addr_key, json_t *addr, bool ready,
                     json_t *port)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 16;
        b->v = xrealloc(b->v, b->cap * sizeof *b->v);
    }
    struct ep_pair *p = &b->v[b->n++];
    snprintf(p->addr_key, sizeof p->addr_key, "%s", addr_key);
    p->port_key[0] = '\0';
    if (port)
        snprintf(p->port_key, sizeof p->port_key, "%s/%lld/%s", ctl_str(port, "name"),
                 (long long)json_integer_value(json_object_get(port, "port")),
                 ctl_str(port, "protocol"));
    json_object_set(b->addrs, addr_key, addr);
    p->addr = json_object_get(b->addrs, addr_key);
    if (port)
        json_object_set(b->ports, p->port_key, port);
    p->port = port ? json_object_get(b->ports, p->port_key) : NULL;
    p->ready = ready;
}

json_t *ctl_ep_address(json_t *svc, json_t *pod)
{
    json_t *pmd = meta(pod), *spec = json_object_get(pod, "spec");
    json_t *a = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "ip", ctl_ep_pod_ip(pod), "targetRef",
                          "kind", "Pod", "namespace", ctl_str(pmd, "namespace"), "name",
                          ctl_str(pmd, "name"), "uid", ctl_str(pmd, "uid"));
    if (*ctl_str(spec, "nodeName"))
        json_object_set_new(a, "nodeName", json_string(ctl_str(spec, "nodeName")));
    /* ShouldSetHostname: the pod's hostname under the Service as subdomain */
    if (*ctl_str(spec, "hostname") &&
        strcmp(ctl_str(spec, "subdomain"), ctl_str(meta(svc), "name")) == 0)
        json_object_set_new(a, "hostname", json_string(ctl_str(spec, "hostname")));
    return a;
}

json_t *ctl_ep_port(json_t *svc_port, int number, bool slice)
{
    json_t *p = json_pack("{s:i, s:s}", "port", number, "protocol", protocol(svc_port));
    const char *name = ctl_str(svc_port, "name");
    if (*name || slice)
        json_object_set_new(p, "name", json_string(name));
    json_t *ap = json_object_get(svc_port, "appProtocol");
    if (json_is_string(ap))
        json_object_set(p, "appProtocol", ap);
    return p;
}

/* The pairs one pod contributes (podToEndpointAddressForService and
 * addEndpointSubset). */
static void pod_pairs(struct ep_build *b, json_t *svc, json_t *pod, bool tolerate)
{
    json_t *spec = json_object_get(svc, "spec");
    json_t *addr = ctl_ep_address(svc, pod);
    bool ready = tolerate || ctl_pod_ready(pod);
    char key[160];
    snprintf(key, sizeof key, "%s/%s/%c", ctl_ep_pod_ip(pod), ctl_str(meta(pod), "uid"),
             ready ? 'r' : 'n');
    json_t *ports = json_object_get(spec, "ports"), *sp;
    size_t i;
    if (!json_array_size(ports)) {
        if (strcmp(ctl_str(spec, "clusterIP"), "None") == 0) /* headless, no ports */
            pair_add(b, key, addr, ready, NULL);
    }
    json_array_foreach(ports, i, sp)
    {
        int n = ctl_ep_find_port(pod, sp);
        if (n <= 0)
            continue;
        json_t *port = ctl_ep_port(sp, n, false);
        pair_add(b, key, addr, ready, port);
        json_decref(port);
    }
    json_decref(addr);
}

/* LessEndpointAddress: by IP, then the target's uid. */
static int addr_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(ctl_str(x, "ip"), ctl_str(y, "ip"));
    return c ? c : strcmp(ctl_str(json_object_get(x, "targetRef"), "uid"),
                          ctl_str(json_object_get(y, "targetRef"), "uid"));
}

static int port_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int c = strcmp(ctl_str(x, "name"), ctl_str(y, "name"));
    if (c)
        return c;
    json_int_t p = json_integer_value(json_object_get(x, "port")),
               q = json_integer_value(json_object_get(y, "port"));
    return p < q ? -1 : p > q ? 1 : strcmp(ctl_str(x, "protocol"), ctl_str(y, "protocol"));
}

/* Sorts a JSON array in place. */
static void sort_array(json_t *arr, int (*cmp)(const void *, const void *))
{
    size_t n = json_array_size(arr);
    if (n < 2)
        return;
    json_t **v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(arr, i));
    qsort(v, n, sizeof *v, cmp);
    json_array_clear(arr);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, v[i]);
    free(v);
}

/* The first address of a subset, ready ones first: subsets' order. */
static json_t *subset_first(json_t *s)
{
    json_t *a = json_array_get(json_object_get(s, "addresses"), 0);
    return a ? a : json_array_get(json_object_get(s, "notReadyAddresses"), 0);
}

static int subset_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_t *fx = subset_first(x), *fy = subset_first(y);
    int c = addr_cmp(&fx, &fy);
    if (c)
        return c;
    json_t *px = json_array_get(json_object_get(x, "ports"), 0);
    json_t *py = json_array_get(json_object_get(y, "ports"), 0);
    if (!px || !py)
        return px ? 1 : py ? -1 : 0;
    return port_cmp(&px, &py);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* RepackSubsets: each port's set of addresses is its signature; ports
 * with the same signature share a subset. */
static json_t *repack(struct ep_build *b)
{
    json_t *port_addrs = json_object(); /* port_key -> {addr_key: true} */
    for (size_t i = 0; i < b->n; i++) {
        json_t *set = json_object_get(port_addrs, b->v[i].port_key);
        if (!set) {
            set = json_object();
            json_object_set_new(port_addrs, b->v[i].port_key, set);
        }
        json_object_set_new(set, b->v[i].addr_key, json_true());
    }
    json_t *groups = json_object(); /* signature -> subset */
    const char *pk;
    json_t *set;
    json_object_foreach(port_addrs, pk, set)
    {
        size_t n = json_object_size(set), k = 0;
        const char **keys = xmalloc(n * sizeof *keys);
        const char *ak;
        json_t *v;
        struct ubuf sig = {0};
        json_object_foreach(set, ak, v) keys[k++] = ak;
        qsort(keys, n, sizeof *keys, str_cmp);
        for (k = 0; k < n; k++)
            ubuf_appendf(&sig, "%s|", keys[k]);
        ubuf_append(&sig, "", 1);
        json_t *sub = json_object_get(groups, sig.data);
        if (!sub) {
            sub = json_object();
            json_t *ready = json_array(), *not_ready = json_array();
            for (k = 0; k < n; k++) {
                size_t kl = strlen(keys[k]);
                json_array_append(keys[k][kl - 1] == 'r' ? ready : not_ready,
                                  json_object_get(b->addrs, keys[k]));
            }
            sort_array(ready, addr_cmp);
            sort_array(not_ready, addr_cmp);
            if (json_array_size(ready))
                json_object_set(sub, "addresses", ready);
            if (json_array_size(not_ready))
                json_object_set(sub, "notReadyAddresses", not_ready);
            json_decref(ready);
            json_decref(not_ready);
            json_object_set_new(groups, sig.data, sub);
        }
        if (*pk) { /* not the sentinel */
            json_t *ports = json_object_get(sub, "ports");
            if (!ports) {
                ports = json_array();
                json_object_set_new(sub, "ports", ports);
            }
            json_array_append(ports, json_object_get(b->ports, pk));
        }
        ubuf_free(&sig);
        free(keys);
    }
    json_t *out = json_array(), *sub;
    const char *sk;
    json_object_foreach(groups, sk, sub)
    {
        sort_array(json_object_get(sub, "ports"), port_cmp);
        json_array_append(out, sub);
    }
    sort_array(out, subset_cmp);
    json_decref(groups);
    json_decref(port_addrs);
    return out;
}

json_t *ctl_ep_subsets(json_t *svc, json_t *pods)
{
    bool tolerate = json_is_true(at(svc, "spec", "publishNotReadyAddresses"));
    struct ep_build b = {NULL, 0, 0, json_object(), json_object()};
    json_t *pod;
    size_t i;
    json_array_foreach(pods, i, pod)
    {
        if (!ctl_ep_selects(svc, pod) || !ctl_ep_pod_included(pod, tolerate))
            continue;
        pod_pairs(&b, svc, pod, tolerate);
    }
    json_t *out = repack(&b);
    free(b.v);
    json_decref(b.addrs);
    json_decref(b.ports);
    return out;
}

/* Keeps the first n entries of an array member (dropping it when empty). */
static void keep_first(json_t *sub, const char *key, size_t n)
{
    json_t *a = json_object_get(sub, key);
    while (json_array_size(a) > n)
        json_array_remove(a, json_array_size(a) - 1);
    if (a && !json_array_size(a))
        json_object_del(sub, key);
}

bool ctl_ep_truncate(json_t *subsets, size_t max)
{
    size_t ready = 0, not_ready = 0, i;
    json_t *sub;
    json_array_foreach(subsets, i, sub)
    {
        ready += json_array_size(json_object_get(sub, "addresses"));
        not_ready += json_array_size(json_object_get(sub, "notReadyAddresses"));
    }
    if (ready + not_ready <= max)
        return false;
    bool cut_ready = ready > max;
    size_t budget = cut_ready ? max : max - ready, total = cut_ready ? ready : not_ready;
    size_t left = budget;
    json_array_foreach(subsets, i, sub)
    {
        const char *key = cut_ready ? "addresses" : "notReadyAddresses";
        size_t here = json_array_size(json_object_get(sub, key));
        size_t share = (here * budget + total - 1) / total; /* rounded up */
        share = share > left ? left : share;
        keep_first(sub, key, share);
        if (cut_ready)
            keep_first(sub, "notReadyAddresses", 0);
        left -= json_array_size(json_object_get(sub, key));
    }
    /* A subset left without addresses is dropped. */
    for (i = json_array_size(subsets); i-- > 0;) {
        sub = json_array_get(subsets, i);
        if (!json_object_get(sub, "addresses") && !json_object_get(sub, "notReadyAddresses"))
            json_array_remove(subsets, i);
    }
    return true;
}

/* The Endpoints' labels: the Service's, and the headless mark. */
json_t *ctl_ep_labels(json_t *svc)
{
    json_t *l = json_deep_copy(at(svc, "metadata", "labels"));
    if (!json_is_object(l)) {
        json_decref(l);
        l = json_object();
    }
    if (strcmp(ctl_str(json_object_get(svc, "spec"), "clusterIP"), "None") == 0)
        json_object_set_new(l, HEADLESS, json_string(""));
    else
        json_object_del(l, HEADLESS);
    return l;
}

static bool same_or_both_empty(json_t *a, json_t *b)
{
    if (!json_object_size(a) && !json_array_size(a) && !json_object_size(b) &&
        !json_array_size(b))
        return true;
    return a && b && json_equal(a, b);
}

json_t *ctl_ep_desired(json_t *svc, json_t *pods, json_t *cur, const char *now)
{
    json_t *subsets = ctl_ep_subsets(svc, pods);
    bool truncated = ctl_ep_truncate(subsets, CTL_EP_MAX_ADDRESSES);
    json_t *labels = ctl_ep_labels(svc);
    json_t *ann = at(cur, "metadata", "annotations");
    bool marked = json_object_get(ann, OVER_CAPACITY) != NULL;
    if (cur && same_or_both_empty(json_object_get(cur, "subsets"), subsets) &&
        same_or_both_empty(at(cur, "metadata", "labels"), labels) && marked == truncated) {
        json_decref(subsets);
        json_decref(labels);
        return NULL;
    }
    json_t *ep = cur ? json_deep_copy(cur) : NULL;
    if (!ep) {
        json_t *smd = meta(svc);
        ep = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "Endpoints",
                       "metadata", "name", ctl_str(smd, "name"), "namespace",
                       ctl_str(smd, "namespace"));
    }
    json_t *md = meta(ep);
    json_object_set_new(md, "labels", labels);
    ann = json_object_get(md, "annotations");
    if (!json_is_object(ann)) {
        ann = json_object();
        json_object_set_new(md, "annotations", ann);
    }
    json_object_set_new(ann, TRIGGER_TIME, json_string(now));
    if (truncated)
        json_object_set_new(ann, OVER_CAPACITY, json_string("truncated"));
    else
        json_object_del(ann, OVER_CAPACITY);
    if (json_array_size(subsets))
        json_object_set(ep, "subsets", subsets);
    else
        json_object_del(ep, "subsets");
    json_decref(subsets);
    return ep;
}

/* ---- the Service index (shared with endpointslice.c) ---- */

struct svc_entry {
    char *name;
    json_t *selector; /* spec.selector, a non-empty object */
};

struct ns_services {
    struct svc_entry *v;
    size_t n, cap;
};

struct ctl_svc_index {
    struct umap by_ns;    /* ns -> struct ns_services */
    struct umap pod_svcs; /* "ns/pod" -> "svc\nsvc\n": whom the pod was last seen selected by */
};

struct ctl_svc_index *ctl_svc_index_new(void)
{
    return xcalloc(1, sizeof(struct ctl_svc_index));
}

static void index_reset_services(struct ctl_svc_index *x);

void ctl_svc_index_free(void *p)
{
    struct ctl_svc_index *x = p;
    if (!x)
        return;
    index_reset_services(x);
    size_t it = 0;
    void *v;
    while (umap_next(&x->pod_svcs, &it, NULL, &v))
        free(v);
    umap_free(&x->pod_svcs);
    free(x);
}

void ctl_svc_index_set(struct ctl_svc_index *x, const char *ns, const char *name, json_t *svc)
{
    struct ns_services *s = umap_get(&x->by_ns, ns);
    json_t *sel = at(svc, "spec", "selector");
    bool want = json_object_size(sel) > 0;
    if (!s) {
        if (!want)
            return;
        s = xcalloc(1, sizeof *s);
        umap_put(&x->by_ns, ns, s);
    }
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].name, name) != 0)
            continue;
        json_decref(s->v[i].selector);
        if (want) {
            s->v[i].selector = json_deep_copy(sel);
        } else {
            free(s->v[i].name);
            s->v[i] = s->v[--s->n];
        }
        return;
    }
    if (!want)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 4;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (struct svc_entry){xstrdup(name), json_deep_copy(sel)};
}

static bool selector_match(json_t *sel, json_t *labels)
{
    const char *k;
    json_t *v;
    json_object_foreach(sel, k, v)
    {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    return true;
}

void ctl_svc_index_pod(struct ctl_svc_index *x, const char *ns, const char *pod, json_t *labels,
                       bool gone, ctl_svc_fn fn, void *arg)
{
    char key[520];
    snprintf(key, sizeof key, "%s/%s", ns, pod);
    struct ubuf now = {0};
    struct ns_services *s = umap_get(&x->by_ns, ns);
    for (size_t i = 0; s && i < s->n; i++)
        if (selector_match(s->v[i].selector, labels)) {
            fn(arg, ns, s->v[i].name);
            ubuf_appendf(&now, "%s\n", s->v[i].name);
        }
    char *before = umap_del(&x->pod_svcs, key);
    for (char *p = before, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
        *nl = '\0';
        fn(arg, ns, p); /* selected it before: its endpoints lose it */
    }
    free(before);
    if (now.len && !gone) {
        ubuf_append(&now, "", 1);
        umap_put(&x->pod_svcs, key, now.data);
    } else {
        ubuf_free(&now);
    }
}

void ctl_svc_index_remember(struct ctl_svc_index *x, const char *ns, const char *pod,
                            const char *svc)
{
    char key[520], line[300];
    snprintf(key, sizeof key, "%s/%s", ns, pod);
    snprintf(line, sizeof line, "%s\n", svc);
    char *have = umap_get(&x->pod_svcs, key);
    for (char *p = have; p && (p = strstr(p, line));) {
        if (p == have || p[-1] == '\n')
            return; /* known */
        p++;
    }
    size_t n = have ? strlen(have) : 0;
    char *next = xmalloc(n + strlen(line) + 1);
    memcpy(next, have ? have : "", n);
    strcpy(next + n, line);
    free(umap_put(&x->pod_svcs, key, next));
}

/* Forgets every Service (kept: what pods were selected by). */
static void index_reset_services(struct ctl_svc_index *x)
{
    size_t it = 0;
    void *v;
    while (umap_next(&x->by_ns, &it, NULL, &v)) {
        struct ns_services *s = v;
        for (size_t i = 0; i < s->n; i++) {
            free(s->v[i].name);
            json_decref(s->v[i].selector);
        }
        free(s->v);
        free(s);
    }
    umap_free(&x->by_ns);
}

/* ---- the change stream, shared with endpointslice.c ---- */

static bool is(const struct store_event *e, const char *res)
{
    size_t n = strlen(res);
    return e->o.resource_len == n && memcmp(e->o.resource, res, n) == 0;
}

bool ctl_ep_wants(const struct store_event *e)
{
    return is(e, "services") || (is(e, "pods") && ctl_obj_has(&e->o, "podIP"));
}

struct ctl_svc_index *ctl_ep_index(struct ctl *c, const char *controller)
{
    void **slot = ctl_state(c, controller);
    if (!*slot)
        *slot = ctl_svc_index_new();
    return *slot;
}

struct enqueue_ctx {
    struct ctl *c;
    const char *controller;
};

static void enqueue_later(void *arg, const char *ns, const char *svc)
{
    struct enqueue_ctx *ec = arg;
    ctl_enqueue_after(ec->c, ec->controller, "services", ns, svc, CTL_EP_BATCH_MS);
}

/* Of a pod, reads only its labels: a ctl_pod_head field (both controllers
 * are .pod_head). */
void ctl_ep_on_change(struct ctl *c, const char *controller, const struct store_event *e,
                      json_t *obj)
{
    char ns[256], name[256];
    snprintf(ns, sizeof ns, "%.*s", (int)e->o.ns_len, e->o.ns);
    snprintf(name, sizeof name, "%.*s", (int)e->o.name_len, e->o.name);
    struct ctl_svc_index *x = ctl_ep_index(c, controller);
    if (is(e, "services")) {
        ctl_svc_index_set(x, ns, name, e->type == STORE_DELETED ? NULL : obj);
        ctl_enqueue(c, controller, "services", ns, name);
        return;
    }
    struct enqueue_ctx ec = {c, controller};
    ctl_svc_index_pod(x, ns, name, at(obj, "metadata", "labels"), e->type == STORE_DELETED,
                      enqueue_later, &ec);
}

/* Every Service is recorded afresh and synced. */
void ctl_ep_resync(struct ctl *c, const char *controller)
{
    struct ctl_svc_index *x = ctl_ep_index(c, controller);
    index_reset_services(x);
    json_t *svcs = ctl_list(c, "services", NULL, NULL), *s;
    size_t i;
    json_array_foreach(svcs, i, s)
    {
        const char *ns = ctl_str(meta(s), "namespace"), *name = ctl_str(meta(s), "name");
        ctl_svc_index_set(x, ns, name, s);
        ctl_enqueue(c, controller, "services", ns, name);
    }
    json_decref(svcs);
}

void ctl_ep_remember(struct ctl *c, const char *controller, json_t *svc, json_t *pods)
{
    struct ctl_svc_index *x = ctl_ep_index(c, controller);
    json_t *smd = meta(svc), *p;
    size_t i;
    json_array_foreach(pods, i, p) if (ctl_ep_selects(svc, p))
        ctl_svc_index_remember(x, ctl_str(smd, "namespace"), ctl_str(meta(p), "name"),
                               ctl_str(smd, "name"));
}

/* ---- the Endpoints controller ---- */

/* The namespace's pods a Service may select: prefiltered on the bytes of
 * one of its selector's values. */
json_t *ctl_ep_candidate_pods(struct ctl *c, json_t *svc)
{
    const char *k;
    json_t *v;
    const char *needle = NULL;
    json_object_foreach(at(svc, "spec", "selector"), k, v) if (json_is_string(v) &&
                                                                *json_string_value(v))
    {
        needle = json_string_value(v);
        break;
    }
    return ctl_list(c, "pods", ctl_str(meta(svc), "namespace"), needle);
}

static bool delete_endpoints(struct ctl *c, const char *ns, const char *name)
{
    char path[800];
    if (!ctl_object_path("endpoints", ns, name, path, sizeof path))
        return true;
    int st = ctl_api(c, "DELETE", path, NULL, NULL, NULL);
    return st == 200 || st == 202 || st == 404;
}

static bool write_endpoints(struct ctl *c, json_t *ep, bool exists)
{
    char path[800];
    const char *ns = ctl_str(meta(ep), "namespace"), *name = ctl_str(meta(ep), "name");
    int st;
    if (exists) {
        ctl_object_path("endpoints", ns, name, path, sizeof path);
        st = ctl_api(c, "PUT", path, NULL, ep, NULL);
    } else {
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/endpoints", ns);
        st = ctl_api(c, "POST", path, NULL, ep, NULL);
    }
    if (st != 200 && st != 201)
        LOG_WARN("controllers: endpoints %s/%s: write failed (%d)", ns, name, st);
    return st == 200 || st == 201;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource;
    json_t *svc = ctl_get(c, "services", ns, name);
    if (!svc)
        return delete_endpoints(c, ns, name);
    json_t *spec = json_object_get(svc, "spec");
    bool ok = true;
    if (strcmp(ctl_str(spec, "type"), "ExternalName") != 0 &&
        json_object_size(json_object_get(spec, "selector"))) {
        json_t *pods = ctl_ep_candidate_pods(c, svc);
        json_t *cur = ctl_get(c, "endpoints", ns, name);
        char now[40];
        util_time_rfc3339(now, sizeof now);
        ctl_ep_remember(c, EP, svc, pods);
        json_t *ep = ctl_ep_desired(svc, pods, cur, now);
        if (ep)
            ok = write_endpoints(c, ep, cur != NULL);
        json_decref(ep);
        json_decref(cur);
        json_decref(pods);
    }
    json_decref(svc);
    return ok;
}

/* Of a pod, reads only what ctl_pod_head decodes (.pod_head below). */
static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    ctl_ep_on_change(c, EP, e, obj);
}

/* Endpoints whose Service is gone (checkLeftoverEndpoints). */
static void leftover(struct ctl *c)
{
    json_t *eps = ctl_list(c, "endpoints", NULL, NULL), *ep;
    size_t i;
    json_array_foreach(eps, i, ep)
    {
        const char *ns = ctl_str(meta(ep), "namespace"), *name = ctl_str(meta(ep), "name");
        if (json_object_get(at(ep, "metadata", "annotations"), LEADER_ANNOTATION))
            continue;
        json_t *svc = ctl_get(c, "services", ns, name);
        if (!svc)
            ctl_enqueue(c, EP, "services", ns, name);
        json_decref(svc);
    }
    json_decref(eps);
}

static void resync(struct ctl *c)
{
    ctl_ep_resync(c, EP);
    leftover(c);
}

const struct ctl_def ctl_endpoints = {
    .name = EP,
    .component = "endpoint-controller",
    .wants = ctl_ep_wants,
    .on_change = on_change,
    .pod_head = true,
    .sync = sync,
    .resync = resync,
    .free_state = ctl_svc_index_free,
};
