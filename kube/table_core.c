/* table_core.c — the Table rows of the core/v1 kinds other than Pod.
 *
 * Namespace, Node (status, roles from the node-role.kubernetes.io labels,
 * version, internal and external IPs, OS image, kernel and container
 * runtime), Service (type, cluster IP, external IPs and load balancer
 * ingress, ports, selector), Endpoints, ConfigMap, Secret, ServiceAccount,
 * PersistentVolume and PersistentVolumeClaim (capacity, access modes,
 * reclaim policy, claim, storage class, volume mode) and Event (last seen,
 * type, reason, object, source, message, first seen, count), as printers.go
 * prints them.
 *
 * How it works: one tbl_<kind>_cells per kind, called through table.c's
 * table of kinds, each appending one cell per column of its kind. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/table_internal.h"

/* ---- core kinds ---- */

void tbl_namespace_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_str(r, tbl_str_or(r->obj, "status.phase", "Active"));
    tbl_cell_age(r);
}

/* The first address of a type, or "<none>" */
static void cell_node_address(struct tbl_row *r, const char *type)
{
    json_t *a;
    size_t i;
    json_array_foreach(tbl_at(r->obj, "status.addresses"), i, a) {
        if (tbl_streq(a, "type", type)) {
            tbl_cell_str(r, tbl_str(a, "address"));
            return;
        }
    }
    tbl_cell_str(r, "<none>");
}

/* Ready, NotReady or Unknown from the (last) Ready condition, then
 * SchedulingDisabled for a cordoned node. */
static void cell_node_status(struct tbl_row *r)
{
    json_t *c, *ready = NULL;
    size_t i;
    json_array_foreach(tbl_at(r->obj, "status.conditions"), i, c) {
        if (tbl_streq(c, "type", "Ready"))
            ready = c;
    }
    const char *status = !ready                               ? "Unknown"
                         : tbl_streq(ready, "status", "True") ? "Ready"
                                                              : "NotReady";
    bool cordoned = tbl_true(r->obj, "spec.unschedulable");
    tbl_cell_fmt(r, "%s%s", status, cordoned ? ",SchedulingDisabled" : "");
}

/* findNodeRoles: node-role.kubernetes.io/<role> keys and the value of
 * kubernetes.io/role, sorted and without repeats; "<none>" */
static void cell_node_roles(struct tbl_row *r)
{
    static const char prefix[] = "node-role.kubernetes.io/";
    json_t *labels = tbl_at(r->obj, "metadata.labels"), *v;
    size_t n = 0, cap = json_is_object(labels) ? json_object_size(labels) : 0;
    const char **roles = xmalloc((cap ? cap : 1) * sizeof *roles);
    const char *k;
    if (cap)
        json_object_foreach(labels, k, v) {
            if (strncmp(k, prefix, sizeof prefix - 1) == 0 && k[sizeof prefix - 1])
                roles[n++] = k + sizeof prefix - 1;
            else if (strcmp(k, "kubernetes.io/role") == 0 && json_is_string(v) &&
                     *json_string_value(v))
                roles[n++] = json_string_value(v);
        }
    qsort(roles, n, sizeof *roles, tbl_strcmp);
    struct ubuf b = {0};
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(roles[i], roles[i - 1]) != 0) {
            tbl_sep(&b, ",");
            ubuf_appendf(&b, "%s", roles[i]);
        }
    free(roles);
    tbl_cell_buf(r, &b, "<none>");
}

void tbl_node_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    cell_node_status(r);
    cell_node_roles(r);
    tbl_cell_age(r);
    tbl_cell_str(r, tbl_str(r->obj, "status.nodeInfo.kubeletVersion"));
    cell_node_address(r, "InternalIP");
    cell_node_address(r, "ExternalIP");
    tbl_cell_field(r, "status.nodeInfo.osImage", "<unknown>");
    tbl_cell_field(r, "status.nodeInfo.kernelVersion", "<unknown>");
    tbl_cell_field(r, "status.nodeInfo.containerRuntimeVersion", "<unknown>");
}

/* spec.clusterIP, else the first of spec.clusterIPs, else "<none>" */
static const char *service_cluster_ip(json_t *svc)
{
    const char *ip = tbl_str(svc, "spec.clusterIP");
    if (!*ip)
        ip = json_string_value(json_array_get(tbl_at(svc, "spec.clusterIPs"), 0));
    return ip && *ip ? ip : "<none>";
}

static void tbl_join_strings(struct ubuf *b, json_t *list)
{
    json_t *v;
    size_t i;
    json_array_foreach(list, i, v) {
        tbl_sep(b, ",");
        ubuf_appendf(b, "%s", json_is_string(v) ? json_string_value(v) : "");
    }
}

/* loadBalancerStatusStringer (wide): the ingress IPs, or hostnames, sorted
 * and without repeats */
static void service_lb_ips(json_t *svc, struct ubuf *b)
{
    json_t *in = tbl_at(svc, "status.loadBalancer.ingress"), *e;
    size_t n = 0, i;
    const char **v =
        xmalloc((json_is_array(in) && json_array_size(in) ? json_array_size(in) : 1) * sizeof *v);
    json_array_foreach(in, i, e) {
        const char *s = *tbl_str(e, "ip") ? tbl_str(e, "ip") : tbl_str(e, "hostname");
        if (*s)
            v[n++] = s;
    }
    qsort(v, n, sizeof *v, tbl_strcmp);
    for (i = 0; i < n; i++)
        if (i == 0 || strcmp(v[i], v[i - 1]) != 0) {
            tbl_sep(b, ",");
            ubuf_appendf(b, "%s", v[i]);
        }
    free(v);
}

/* getServiceExternalIP, as the server renders it (wide) */
static void cell_service_external_ip(struct tbl_row *r, const char *type)
{
    json_t *ext = tbl_at(r->obj, "spec.externalIPs");
    bool has_ext = json_is_array(ext) && json_array_size(ext) > 0;
    struct ubuf b = {0};
    if (!strcmp(type, "ClusterIP") || !strcmp(type, "NodePort")) {
        tbl_join_strings(&b, ext);
        tbl_cell_buf(r, &b, "<none>");
    } else if (!strcmp(type, "LoadBalancer")) {
        service_lb_ips(r->obj, &b);
        if (has_ext)
            tbl_join_strings(&b, ext);
        tbl_cell_buf(r, &b, "<pending>");
    } else if (!strcmp(type, "ExternalName")) {
        tbl_cell_str(r, tbl_str(r->obj, "spec.externalName"));
    } else {
        tbl_cell_str(r, "<unknown>");
    }
}

/* makePortString: "80/TCP", "80:30080/TCP", joined by commas */
static void cell_service_ports(struct tbl_row *r)
{
    json_t *p;
    size_t i;
    struct ubuf b = {0};
    json_array_foreach(tbl_at(r->obj, "spec.ports"), i, p) {
        tbl_sep(&b, ",");
        ubuf_appendf(&b, "%lld", (long long)tbl_int(p, "port", 0));
        if (tbl_int(p, "nodePort", 0) > 0)
            ubuf_appendf(&b, ":%lld", (long long)tbl_int(p, "nodePort", 0));
        ubuf_appendf(&b, "/%s", tbl_str_or(p, "protocol", "TCP"));
    }
    tbl_cell_buf(r, &b, "<none>");
}

void tbl_service_cells(struct tbl_row *r)
{
    const char *type = tbl_str_or(r->obj, "spec.type", "ClusterIP");
    tbl_cell_name(r);
    tbl_cell_str(r, type);
    tbl_cell_str(r, service_cluster_ip(r->obj));
    cell_service_external_ip(r, type);
    cell_service_ports(r);
    tbl_cell_age(r);
    tbl_cell_labels(r, "spec.selector");
}

/* formatEndpoints: "ip:port" for every address and port, the first three */
void tbl_endpoints_cells(struct tbl_row *r)
{
    json_t *subsets = tbl_at(r->obj, "subsets"), *ss, *a, *p;
    size_t i, j, k;
    tbl_cell_name(r);
    if (!json_is_array(subsets) || json_array_size(subsets) == 0) {
        tbl_cell_str(r, "<none>");
    } else {
        struct tbl_list l = {.max = 3};
        json_array_foreach(subsets, i, ss) {
            json_t *addrs = tbl_at(ss, "addresses"), *ports = tbl_at(ss, "ports");
            if (!json_is_array(ports) || json_array_size(ports) == 0) {
                json_array_foreach(addrs, j, a) {
                    tbl_list_add(&l, "%s", tbl_str(a, "ip"));
                }
                continue;
            }
            json_array_foreach(ports, k, p) {
                json_array_foreach(addrs, j, a) {
                    tbl_list_hostport(&l, tbl_str(a, "ip"), tbl_int(p, "port", 0));
                }
            }
        }
        tbl_cell_list(r, &l, "");
    }
    tbl_cell_age(r);
}

void tbl_configmap_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_int(r, (int64_t)(tbl_len(r->obj, "data") + tbl_len(r->obj, "binaryData")));
    tbl_cell_age(r);
}

void tbl_secret_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_str(r, tbl_str_or(r->obj, "type", "Opaque"));
    tbl_cell_int(r, (int64_t)tbl_len(r->obj, "data"));
    tbl_cell_age(r);
}

void tbl_serviceaccount_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    tbl_cell_int(r, (int64_t)tbl_len(r->obj, "secrets"));
    tbl_cell_age(r);
}

/* GetAccessModesAsString: RWO, ROX, RWX, RWOP, in that order, once each */
static void cell_access_modes(struct tbl_row *r, const char *path)
{
    static const char *const modes[][2] = {{"ReadWriteOnce", "RWO"},
                                           {"ReadOnlyMany", "ROX"},
                                           {"ReadWriteMany", "RWX"},
                                           {"ReadWriteOncePod", "RWOP"}};
    json_t *list = tbl_at(r->obj, path), *m;
    struct ubuf b = {0};
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        size_t i;
        json_array_foreach(list, i, m) {
            if (json_is_string(m) && strcmp(json_string_value(m), modes[k][0]) == 0) {
                tbl_sep(&b, ",");
                ubuf_appendf(&b, "%s", modes[k][1]);
                break;
            }
        }
    }
    tbl_cell_buf(r, &b, "");
}

static void cell_quantity(struct tbl_row *r, const char *path)
{
    char buf[128];
    json_t *q = tbl_at(r->obj, path);
    if (q)
        tbl_quantity(buf, sizeof buf, q);
    else
        snprintf(buf, sizeof buf, "0"); /* the zero Quantity */
    tbl_cell_str(r, buf);
}

/* The beta storage-class annotation wins over spec.storageClassName. */
static void cell_storage_class(struct tbl_row *r)
{
    json_t *ann = json_object_get(tbl_at(r->obj, "metadata.annotations"),
                                  "volume.beta.kubernetes.io/storage-class");
    tbl_cell_str(r, json_is_string(ann) ? json_string_value(ann)
                                        : tbl_str(r->obj, "spec.storageClassName"));
}

/* the phase, or Terminating once deletion has begun */
static void cell_volume_phase(struct tbl_row *r)
{
    bool deleting = tbl_has(r->obj, "metadata.deletionTimestamp");
    tbl_cell_str(r, deleting ? "Terminating" : tbl_str_or(r->obj, "status.phase", "Pending"));
}

void tbl_pv_cells(struct tbl_row *r)
{
    tbl_cell_name(r);
    cell_quantity(r, "spec.capacity.storage");
    cell_access_modes(r, "spec.accessModes");
    tbl_cell_str(r, tbl_str(r->obj, "spec.persistentVolumeReclaimPolicy"));
    cell_volume_phase(r);
    if (tbl_has(r->obj, "spec.claimRef"))
        tbl_cell_fmt(r, "%s/%s", tbl_str(r->obj, "spec.claimRef.namespace"),
                     tbl_str(r->obj, "spec.claimRef.name"));
    else
        tbl_cell_str(r, "");
    cell_storage_class(r);
    tbl_cell_str(r, tbl_str_or(r->obj, "spec.volumeAttributesClassName", "<unset>"));
    tbl_cell_str(r, tbl_str(r->obj, "status.reason"));
    tbl_cell_age(r);
    tbl_cell_str(r, tbl_str_or(r->obj, "spec.volumeMode", "<unset>"));
}

void tbl_pvc_cells(struct tbl_row *r)
{
    bool bound = *tbl_str(r->obj, "spec.volumeName") != '\0';
    tbl_cell_name(r);
    cell_volume_phase(r);
    tbl_cell_str(r, tbl_str(r->obj, "spec.volumeName"));
    if (bound) {
        cell_quantity(r, "status.capacity.storage");
        cell_access_modes(r, "status.accessModes");
    } else {
        tbl_cell_str(r, "");
        tbl_cell_str(r, "");
    }
    cell_storage_class(r);
    tbl_cell_str(r, tbl_str_or(r->obj, "spec.volumeAttributesClassName", "<unset>"));
    tbl_cell_age(r);
    tbl_cell_str(r, tbl_str_or(r->obj, "spec.volumeMode", "<unset>"));
}

/* ---- Event ---- */

/* formatEventSource: component (or reportingComponent), then ", host" (or
 * reportingInstance) when there is one */
static void cell_event_source(struct tbl_row *r)
{
    const char *component = tbl_str(r->obj, "source.component");
    const char *host = tbl_str(r->obj, "source.host");
    if (!*component)
        component = tbl_str(r->obj, "reportingComponent");
    if (!*host)
        host = tbl_str(r->obj, "reportingInstance");
    tbl_cell_fmt(r, "%s%s%s", component, *host ? ", " : "", host);
}

/* strings.TrimSpace, for ASCII space */
static void cell_trimmed(struct tbl_row *r, const char *s)
{
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
        n--;
    tbl_cell_fmt(r, "%.*s", (int)n, s);
}

/* "kind/name", the kind lower-cased; just the kind when there is no name */
static void cell_event_object(struct tbl_row *r)
{
    struct ubuf b = {0};
    for (const char *k = tbl_str(r->obj, "involvedObject.kind"); *k; k++) {
        char c = *k >= 'A' && *k <= 'Z' ? (char)(*k - 'A' + 'a') : *k;
        ubuf_append(&b, &c, 1);
    }
    const char *name = tbl_str(r->obj, "involvedObject.name");
    if (*name)
        ubuf_appendf(&b, "/%s", name);
    tbl_cell_buf(r, &b, "");
}

void tbl_event_cells(struct tbl_row *r)
{
    char first[32], last[32];
    struct tbl_time ft = tbl_time_at(r->obj, "firstTimestamp");
    tbl_since(r, ft.set ? ft : tbl_time_at(r->obj, "eventTime"), first, sizeof first);
    struct tbl_time lt = tbl_time_at(r->obj, "lastTimestamp");
    if (lt.set)
        tbl_since(r, lt, last, sizeof last);
    else
        snprintf(last, sizeof last, "%s", first);
    int64_t count = tbl_int(r->obj, "count", 0);
    if (tbl_has(r->obj, "series")) {
        tbl_since(r, tbl_time_at(r->obj, "series.lastObservedTime"), last, sizeof last);
        count = tbl_int(r->obj, "series.count", 0);
    } else if (count == 0) {
        count = 1; /* singleton events of the new API have no count */
    }
    tbl_cell_str(r, last);
    tbl_cell_str(r, tbl_str(r->obj, "type"));
    tbl_cell_str(r, tbl_str(r->obj, "reason"));
    cell_event_object(r);
    tbl_cell_str(r, tbl_str(r->obj, "involvedObject.fieldPath"));
    cell_event_source(r);
    cell_trimmed(r, tbl_str(r->obj, "message"));
    tbl_cell_str(r, first);
    tbl_cell_int(r, count);
    tbl_cell_name(r);
}
