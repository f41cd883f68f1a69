/* kubesvc.c — the `kubernetes` Service of namespace default, as
 * kube-apiserver's bootstrap controller (pkg/controlplane/controller/
 * kubernetesservice and the endpoint reconcilers) keeps it: how a pod finds
 * the API.
 *
 * The leader ensures three things, level-triggered, each written only when
 * what is stored differs from what it should be (no write churn):
 *   - Service default/kubernetes: type ClusterIP, clusterIP CTL_KUBESVC_IP
 *     (the first address of the service range, which write.c's random
 *     allocator never hands out), no selector (so the Endpoints and
 *     EndpointSlice controllers leave it alone), one port {name https, port
 *     443, protocol TCP, targetPort: the API port}, labels
 *     component=apiserver and provider=kubernetes. An existing Service keeps
 *     its clusterIP (immutable); its ports, type and those labels are set
 *     right. Deleted, it is made again.
 *   - Endpoints default/kubernetes: the API address (ip, port) of every
 *     voting member that answers (reachable in /cluster/status: it has not
 *     failed the leader's probes of its /readyz for MEMBER_DOWN_MS, 3 s;
 *     Kubernetes drops an API server whose endpoint lease, 15 s, expired),
 *     one subset per port (sorted), labelled
 *     endpointslice.kubernetes.io/skip-mirror=true as Kubernetes does.
 *   - EndpointSlice default/kubernetes (IPv4, labelled
 *     kubernetes.io/service-name=kubernetes, no managed-by label so the
 *     EndpointSlice controller ignores it): the same endpoints, ready.
 *     Members on other ports than the targetPort's go into one more slice
 *     per port, "kubernetes-PORT"; ours that are no longer wanted go.
 * The members come from GET /cluster/status of this server (the leader's
 * view of the Raft configuration and every member's API URL). bosun's
 * servers serve plain HTTP: the port named "https" is their real HTTP port,
 * kept under Kubernetes' name so that clients looking for "https" find it.
 * The membership is not in the change stream, so the key is synced again
 * every CTL_KUBESVC_POLL_MS (a read of the status and of three objects);
 * a change to one of the objects queues it at once. Any new leader's first
 * full pass syncs it, so it survives failover. The decisions are pure
 * functions (ctl_kubesvc_*, ctl_internal.h) tested in
 * tests/unit/test_ctl_kubesvc.c. */
#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/controllers.h"
#include "controllers/ctl_internal.h"
#include "util/util.h"

#define KSC "kubernetes-service"
#define KS_NS "default"
#define KS_NAME "kubernetes"
#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define MANAGED_BY_LABEL "endpointslice.kubernetes.io/managed-by"
#define SKIP_MIRROR_LABEL "endpointslice.kubernetes.io/skip-mirror"
#define CTL_KUBESVC_POLL_MS 2000

static json_t *meta(json_t *o)
{
    return json_object_get(o, "metadata");
}

/* ---- the members ---- */

/* Splits an API URL "http://A.B.C.D:PORT[/...]" into an IPv4 address and
 * a port; false for anything else (a host name, IPv6, no port). */
static bool parse_api_url(const char *url, char *ip, size_t ip_len, int *port)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *colon = strchr(p, ':');
    if (!colon || (size_t)(colon - p) >= ip_len)
        return false;
    snprintf(ip, ip_len, "%.*s", (int)(colon - p), p);
    struct in_addr a;
    if (inet_pton(AF_INET, ip, &a) != 1)
        return false;
    char *end;
    long v = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || (*end && *end != '/') || v <= 0 || v > 65535)
        return false;
    *port = (int)v;
    return true;
}

static int member_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t px = json_integer_value(json_object_get(x, "port"));
    json_int_t py = json_integer_value(json_object_get(y, "port"));
    if (px != py)
        return px < py ? -1 : 1;
    return strcmp(ctl_str(x, "ip"), ctl_str(y, "ip"));
}

json_t *ctl_kubesvc_members(json_t *status)
{
    json_t *members = json_object_get(status, "members"), *m;
    size_t i, n = 0;
    json_t **v = xcalloc(json_array_size(members) + 1, sizeof *v);
    json_array_foreach(members, i, m)
    {
        char ip[64];
        int port;
        if (strcmp(ctl_str(m, "role"), "voter") != 0 ||
            json_is_false(json_object_get(m, "reachable")))
            continue;
        if (!parse_api_url(ctl_str(m, "api"), ip, sizeof ip, &port)) {
            /* Debug only: this runs every poll, and an Endpoints address
             * must be an IP (a host name has nowhere to go). */
            LOG_DEBUG("kubernetes service: member %lld's API \"%s\" is not http://IPv4:PORT; "
                      "left out of its endpoints",
                      (long long)json_integer_value(json_object_get(m, "id")), ctl_str(m, "api"));
            continue;
        }
        v[n++] = json_pack("{s:s, s:i}", "ip", ip, "port", port);
    }
    qsort(v, n, sizeof *v, member_cmp);
    json_t *out = json_array();
    for (i = 0; i < n; i++)
        if (i == 0 || member_cmp(&v[i - 1], &v[i]) != 0)
            json_array_append(out, v[i]);
    assert(json_array_size(out) <= json_array_size(members));
    for (i = 0; i < n; i++)
        json_decref(v[i]);
    free(v);
    return out;
}

static int member_port(json_t *m)
{
    return (int)json_integer_value(json_object_get(m, "port"));
}

/* For asserts: whether members is as ctl_kubesvc_members leaves it. */
static bool members_sorted(json_t *members)
{
    for (size_t i = 1; i < json_array_size(members); i++) {
        json_t *a = json_array_get(members, i - 1), *b = json_array_get(members, i);
        if (member_cmp(&a, &b) >= 0)
            return false;
    }
    return true;
}

int ctl_kubesvc_target_port(json_t *members)
{
    assert(members_sorted(members));
    int best = 0, best_n = 0;
    size_t i = 0, n = json_array_size(members);
    while (i < n) { /* members are sorted by port: count each run */
        int port = member_port(json_array_get(members, i));
        size_t j = i;
        while (j < n && member_port(json_array_get(members, j)) == port)
            j++;
        if ((int)(j - i) > best_n) {
            best = port;
            best_n = (int)(j - i);
        }
        i = j;
    }
    return best;
}

/* ---- the desired objects ---- */

/* cur (or a new object of apiVersion/kind named default/kubernetes) with
 * want's members set over it, labels merged into metadata.labels; NULL if
 * that changes nothing. */
static json_t *with_fields(json_t *cur, const char *api_version, const char *kind,
                           const char *name, json_t *labels, json_t *want)
{
    json_t *next = cur ? json_deep_copy(cur)
                       : json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", api_version, "kind",
                                   kind, "metadata", "name", name, "namespace", KS_NS);
    json_t *md = meta(next);
    if (!json_is_object(json_object_get(md, "labels")))
        json_object_set_new(md, "labels", json_object());
    json_object_update(json_object_get(md, "labels"), labels);
    json_object_update(next, want);
    if (cur && json_equal(cur, next)) {
        json_decref(next);
        return NULL;
    }
    return next;
}

json_t *ctl_kubesvc_service(json_t *cur, int target_port)
{
    assert(target_port > 0 && target_port <= 65535);
    json_t *labels = json_pack("{s:s, s:s}", "component", "apiserver", "provider", "kubernetes");
    json_t *ports = json_pack("[{s:s, s:i, s:s, s:i}]", "name", "https", "port", 443, "protocol",
                              "TCP", "targetPort", target_port);
    json_t *spec = cur ? json_deep_copy(json_object_get(cur, "spec")) : NULL;
    if (!json_is_object(spec)) {
        json_decref(spec);
        spec = json_pack("{s:s, s:[s], s:s}", "clusterIP", CTL_KUBESVC_IP, "clusterIPs",
                         CTL_KUBESVC_IP, "sessionAffinity", "None");
    }
    json_object_set_new(spec, "type", json_string("ClusterIP"));
    json_object_set_new(spec, "ports", ports);
    json_t *want = json_pack("{s:o}", "spec", spec);
    json_t *next = with_fields(cur, "v1", "Service", KS_NAME, labels, want);
    json_decref(want);
    json_decref(labels);
    return next;
}

/* The endpoint port every address of a port offers. */
static json_t *endpoint_port(int port)
{
    return json_pack("{s:s, s:i, s:s}", "name", "https", "port", port, "protocol", "TCP");
}

json_t *ctl_kubesvc_endpoints(json_t *cur, json_t *members)
{
    assert(members_sorted(members));
    json_t *subsets = json_array(), *sub = NULL, *m;
    size_t i;
    json_array_foreach(members, i, m)
    { /* sorted by port: a new subset at each new port */
        if (!sub || member_port(json_array_get(members, i - 1)) != member_port(m)) {
            sub = json_pack("{s:[], s:[o]}", "addresses", "ports", endpoint_port(member_port(m)));
            json_array_append_new(subsets, sub);
        }
        json_array_append_new(json_object_get(sub, "addresses"),
                              json_pack("{s:s}", "ip", ctl_str(m, "ip")));
    }
    json_t *labels = json_pack("{s:s}", SKIP_MIRROR_LABEL, "true");
    json_t *want = json_pack("{s:o}", "subsets", subsets);
    json_t *next = with_fields(cur, "v1", "Endpoints", KS_NAME, labels, want);
    json_decref(want);
    json_decref(labels);
    return next;
}

/* The slice name for the members on port: ours for the targetPort, one
 * more per other port. */
static void slice_name(int port, int target_port, char *out, size_t len)
{
    if (port == target_port)
        snprintf(out, len, "%s", KS_NAME);
    else
        snprintf(out, len, "%s-%d", KS_NAME, port);
}

/* Whether a slice of namespace default is one this controller keeps. */
static bool slice_is_ours(json_t *s)
{
    json_t *labels = json_object_get(meta(s), "labels");
    return strcmp(ctl_str(labels, SERVICE_NAME_LABEL), KS_NAME) == 0 &&
           !json_object_get(labels, MANAGED_BY_LABEL) &&
           strncmp(ctl_str(meta(s), "name"), KS_NAME, strlen(KS_NAME)) == 0;
}

static json_t *slice_find(json_t *slices, const char *name)
{
    json_t *s;
    size_t i;
    json_array_foreach(slices, i, s) if (strcmp(ctl_str(meta(s), "name"), name) == 0) return s;
    return NULL;
}

/* The endpoints of the members on port, ready. */
static json_t *slice_endpoints(json_t *members, int port)
{
    json_t *eps = json_array(), *m;
    size_t i;
    json_array_foreach(members, i, m) if (member_port(m) == port)
        json_array_append_new(eps, json_pack("{s:[s], s:{s:b}}", "addresses", ctl_str(m, "ip"),
                                             "conditions", "ready", 1));
    return eps;
}

void ctl_kubesvc_slices(json_t *existing, json_t *members, int target_port, json_t **write,
                        json_t **remove)
{
    assert(members_sorted(members));
    *write = json_array();
    *remove = json_array();
    json_t *wanted = json_array(), *m, *s;
    size_t i;
    json_array_foreach(members, i, m)
    {
        int port = member_port(m);
        if (i > 0 && member_port(json_array_get(members, i - 1)) == port)
            continue;
        char name[64];
        slice_name(port, target_port, name, sizeof name);
        json_array_append_new(wanted, json_string(name));
        json_t *labels = json_pack("{s:s}", SERVICE_NAME_LABEL, KS_NAME);
        json_t *want = json_pack("{s:s, s:o, s:[o]}", "addressType", "IPv4", "endpoints",
                                 slice_endpoints(members, port), "ports", endpoint_port(port));
        json_t *next = with_fields(slice_find(existing, name), "discovery.k8s.io/v1",
                                   "EndpointSlice", name, labels, want);
        if (next)
            json_array_append_new(*write, next);
        json_decref(want);
        json_decref(labels);
    }
    json_array_foreach(existing, i, s)
    {
        bool keep = false;
        json_t *w;
        size_t j;
        json_array_foreach(wanted, j, w) keep |= strcmp(json_string_value(w),
                                                        ctl_str(meta(s), "name")) == 0;
        if (slice_is_ours(s) && !keep)
            json_array_append(*remove, s);
    }
    json_decref(wanted);
}

/* ---- I/O ---- */

/* Creates obj (no resourceVersion: never stored) or updates it. */
static bool write_object(struct ctl *c, const char *resource, const char *collection,
                         json_t *obj)
{
    char path[512];
    const char *name = ctl_str(meta(obj), "name");
    bool exists = *ctl_str(meta(obj), "resourceVersion") != '\0';
    int st;
    json_t *reply = NULL;
    if (exists) {
        ctl_object_path(resource, KS_NS, name, path, sizeof path);
        st = ctl_api(c, "PUT", path, NULL, obj, &reply);
    } else {
        st = ctl_api(c, "POST", collection, NULL, obj, &reply);
    }
    if (st != 200 && st != 201) {
        LOG_WARN("kubernetes service: %s %s/%s: write failed (%d): %s", resource, KS_NS, name,
                 st, ctl_str(reply, "message"));
        json_decref(reply);
        return false;
    }
    json_decref(reply);
    LOG_INFO("kubernetes service: %s %s/%s %s", resource, KS_NS, name,
             exists ? "updated" : "created");
    return true;
}

static bool sync_service(struct ctl *c, int target_port)
{
    json_t *cur = ctl_get(c, "services", KS_NS, KS_NAME);
    json_t *next = ctl_kubesvc_service(cur, target_port);
    bool ok = !next || write_object(c, "services", "/api/v1/namespaces/" KS_NS "/services", next);
    json_decref(next);
    json_decref(cur);
    return ok;
}

static bool sync_endpoints(struct ctl *c, json_t *members)
{
    json_t *cur = ctl_get(c, "endpoints", KS_NS, KS_NAME);
    json_t *next = ctl_kubesvc_endpoints(cur, members);
    bool ok = !next ||
              write_object(c, "endpoints", "/api/v1/namespaces/" KS_NS "/endpoints", next);
    json_decref(next);
    json_decref(cur);
    return ok;
}

static bool sync_slices(struct ctl *c, json_t *members, int target_port)
{
    json_t *all = ctl_list(c, "endpointslices", KS_NS, SERVICE_NAME_LABEL), *existing = json_array();
    json_t *s, *write, *remove;
    size_t i;
    json_array_foreach(all, i, s) if (slice_is_ours(s)) json_array_append(existing, s);
    ctl_kubesvc_slices(existing, members, target_port, &write, &remove);
    bool ok = true;
    json_array_foreach(write, i, s) ok &= write_object(
        c, "endpointslices", "/apis/discovery.k8s.io/v1/namespaces/" KS_NS "/endpointslices", s);
    json_array_foreach(remove, i, s)
    {
        char path[512];
        ctl_object_path("endpointslices", KS_NS, ctl_str(meta(s), "name"), path, sizeof path);
        json_t *opts = json_pack("{s:{s:s}}", "preconditions", "uid", ctl_str(meta(s), "uid"));
        int st = ctl_api(c, "DELETE", path, NULL, opts, NULL);
        json_decref(opts);
        ok &= st == 200 || st == 404;
    }
    json_decref(write);
    json_decref(remove);
    json_decref(existing);
    json_decref(all);
    return ok;
}

static bool sync(struct ctl *c, const char *resource, const char *ns, const char *name)
{
    (void)resource, (void)ns, (void)name;
    ctl_enqueue_after(c, KSC, "services", KS_NS, KS_NAME, CTL_KUBESVC_POLL_MS);
    json_t *ns_obj = ctl_get(c, "namespaces", "", KS_NS);
    json_decref(ns_obj);
    if (!ns_obj)
        return false; /* the housekeeper makes it within a second */
    json_t *status = NULL;
    int st = ctl_api(c, "GET", "/cluster/status", NULL, NULL, &status);
    json_t *members = st == 200 ? ctl_kubesvc_members(status) : json_array();
    json_decref(status);
    int port = ctl_kubesvc_target_port(members);
    bool ok = port > 0 && sync_service(c, port);
    ok = ok && sync_endpoints(c, members) && sync_slices(c, members, port);
    json_decref(members);
    return ok;
}

/* A change of one of our objects (or of one that may become ours), or the
 * creation of their namespace: at a cluster's first start the housekeeper
 * makes `default` just after this controller's first sync found it missing,
 * and waiting for the retry's backoff left a new cluster busy for a second
 * longer (every e2e cluster start waits for these objects). */
static bool wants(const struct store_event *e)
{
    if (ctl_is_resource(&e->o, "namespaces"))
        return e->o.ns_len == 0 && e->o.name_len == strlen(KS_NS) &&
               memcmp(e->o.name, KS_NS, e->o.name_len) == 0;
    size_t n = strlen(KS_NAME);
    if (e->o.ns_len != strlen(KS_NS) || memcmp(e->o.ns, KS_NS, e->o.ns_len) != 0 ||
        e->o.name_len < n || memcmp(e->o.name, KS_NAME, n) != 0)
        return false;
    return ctl_is_resource(&e->o, "services") || ctl_is_resource(&e->o, "endpoints") ||
           ctl_is_resource(&e->o, "endpointslices");
}

static void on_change(struct ctl *c, const struct store_event *e, json_t *obj)
{
    (void)e, (void)obj;
    ctl_enqueue(c, KSC, "services", KS_NS, KS_NAME);
}

static void resync(struct ctl *c)
{
    ctl_enqueue(c, KSC, "services", KS_NS, KS_NAME);
}

const struct ctl_def ctl_kubernetes_service = {
    .name = KSC,
    .component = "kube-apiserver",
    .wants = wants,
    .on_change = on_change,
    .sync = sync,
    .resync = resync,
};
