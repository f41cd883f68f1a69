/* validate_core.c — the core/v1 kinds other than Pod.
 *
 * core/validation's rules for Service (ports, cluster IPs and IP families,
 * traffic policies, and what an update may not change), Endpoints,
 * Namespace, Node (taints; podCIDRs and providerID fixed once set),
 * ConfigMap and Secret (keys, total size, secret types and immutability),
 * PersistentVolume and PersistentVolumeClaim (access modes, capacity,
 * volume sources; a claim's spec is immutable but for its volumeName and
 * storageClassName set once and a bound claim's storage request, which
 * may only grow), and Event (the involved object's
 * namespace). ServiceAccount has only ObjectMeta to check.
 *
 * How it works: one kv_check_<kind> per kind, and a kv_check_<kind>_update
 * for the kinds whose updates have rules, called from kube_validate's
 * table; they use the shared syntaxes, selectors and volume sources. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/validate_internal.h"

/* ==== core/v1: Service, Endpoints ==== */

/* The duplicate key of ValidateService: core.ServicePort{Protocol, Port}. */
static void go_service_port_key(struct ubuf *b, json_t *port)
{
    ubuf_appendf(b, "core.ServicePort{Name:\"\", Protocol:");
    kv_go_quote(b, jstr0(port, "protocol"));
    ubuf_appendf(b,
                 ", AppProtocol:(*string)(nil), Port:%" JSON_INTEGER_FORMAT
                 ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
                 jint0(port, "port"));
}

static void check_service_port(struct vctx *c, json_t *port, bool require_name, json_t *names)
{
    const char *name = jstr0(port, "name"), *proto = jstr0(port, "protocol");
    if (require_name && !*name) {
        kv_required(c, "name", "");
    } else if (*name) {
        kv_check_dns_label(c, "name", name);
        if (json_object_get(names, name))
            kv_duplicate(c, "name", name);
        else
            json_object_set_new(names, name, json_true());
    }
    kv_check_port_num(c, "port", jint0(port, "port"));
    if (!*proto)
        kv_required(c, "protocol", "");
    else if (!str_in(proto, kv_protocols))
        kv_unsupported(c, "protocol", proto, kv_protocols);
    kv_check_port_num_or_name(c, "targetPort", jget(port, "targetPort"));
    json_int_t node_port;
    if (jint(port, "nodePort", &node_port) && node_port != 0)
        kv_check_port_num(c, "nodePort", node_port);
}

static void check_service_ports(struct vctx *c, json_t *spec)
{
    json_t *ports = jarr(spec, "ports"), *names = json_object(), *seen = json_object();
    json_t *node_ports = json_object();
    bool cluster_ip_type = strcmp(jstr0(spec, "type"), "ClusterIP") == 0;
    size_t mark = kv_path_child(c, "ports"), i;
    json_t *port;
    json_array_foreach(ports, i, port) {
        size_t mi = kv_path_index(c, i);
        check_service_port(c, port, json_array_size(ports) > 1, names);
        json_int_t np = jint0(port, "nodePort");
        char key[96];
        if (np && cluster_ip_type)
            kv_forbidden(c, "nodePort", "may not be used when `type` is 'ClusterIP'");
        snprintf(key, sizeof key, "%.32s/%" JSON_INTEGER_FORMAT, jstr0(port, "protocol"), np);
        if (np && json_object_get(node_ports, key))
            kv_duplicate_raw(c, "nodePort", strchr(key, '/') + 1, NULL);
        json_object_set_new(node_ports, key, json_true());
        snprintf(key, sizeof key, "%.32s/%" JSON_INTEGER_FORMAT, jstr0(port, "protocol"),
                 jint0(port, "port"));
        if (json_object_get(seen, key)) {
            struct ubuf r = {0};
            go_service_port_key(&r, port);
            kv_duplicate_raw(c, NULL, r.data, NULL);
            ubuf_free(&r);
        }
        json_object_set_new(seen, key, json_true());
        kv_path_pop(c, mi);
    }
    kv_path_pop(c, mark);
    json_decref(names);
    json_decref(seen);
    json_decref(node_ports);
}

static void check_cluster_ips(struct vctx *c, json_t *spec)
{
    const char *ip = jstr0(spec, "clusterIP");
    json_t *ips = jarr(spec, "clusterIPs");
    if (*ip && strcmp(ip, "None") != 0)
        kv_check_ip(c, "clusterIP", ip);
    if (!ips || json_array_size(ips) == 0)
        return;
    size_t mark = kv_path_child(c, "clusterIPs"), i;
    json_t *e;
    const char *first = json_string_value(json_array_get(ips, 0));
    if (*ip && (!first || strcmp(first, ip) != 0)) {
        size_t m = kv_path_index(c, 0);
        kv_invalid(c, NULL, first ? first : "", "first value must match `clusterIP`");
        kv_path_pop(c, m);
    }
    bool none = false;
    json_array_foreach(ips, i, e) {
        const char *s = json_string_value(e);
        if (s && strcmp(s, "None") == 0) {
            none = true;
            continue;
        }
        size_t m = kv_path_index(c, i);
        kv_check_ip(c, NULL, s);
        kv_path_pop(c, m);
    }
    if (json_array_size(ips) > 2)
        kv_invalid_go(c, NULL, kv_go_strings, ips, "may only hold up to 2 values");
    if (none && json_array_size(ips) > 1)
        kv_invalid_go(c, NULL, kv_go_strings, ips, "'None' must be the first and only value");
    kv_path_pop(c, mark);
}

static void check_ip_families(struct vctx *c, json_t *spec)
{
    static const char *const policies[] = {"PreferDualStack", "RequireDualStack", "SingleStack",
                                           NULL};
    static const char *const families[] = {"IPv4", "IPv6", NULL};
    const char *policy = jstr(spec, "ipFamilyPolicy");
    if (policy && !str_in(policy, policies))
        kv_unsupported(c, "ipFamilyPolicy", policy, policies);
    json_t *list = jarr(spec, "ipFamilies");
    size_t mark = kv_path_child(c, "ipFamilies"), i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *f = json_is_string(e) ? json_string_value(e) : "";
        size_t m = kv_path_index(c, i);
        if (!str_in(f, families))
            kv_unsupported(c, NULL, f, families);
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(list, j), e)) {
                kv_duplicate(c, NULL, f);
                break;
            }
        kv_path_pop(c, m);
    }
    if (json_array_size(list) > 2)
        kv_invalid_go(c, NULL, kv_go_strings, list, "may specify no more than two IP families");
    kv_path_pop(c, mark);
}

static void check_service_traffic(struct vctx *c, json_t *spec)
{
    static const char *const policies[] = {"Cluster", "Local", NULL};
    const char *type = jstr0(spec, "type"), *etp = jstr0(spec, "externalTrafficPolicy");
    bool external = strcmp(type, "LoadBalancer") == 0 || strcmp(type, "NodePort") == 0 ||
                    (strcmp(type, "ClusterIP") == 0 && jsize(spec, "externalIPs") > 0);
    if (external && !*etp)
        kv_required(c, "externalTrafficPolicy", "");
    else if (external && !str_in(etp, policies))
        kv_unsupported(c, "externalTrafficPolicy", etp, policies);
    else if (!external && *etp)
        kv_invalid(c, "externalTrafficPolicy", etp,
                   "may only be set for externally-accessible services");
    const char *itp = jstr(spec, "internalTrafficPolicy");
    if (itp && !str_in(itp, policies))
        kv_unsupported(c, "internalTrafficPolicy", itp, policies);
}

void kv_check_service(struct vctx *c, json_t *obj)
{
    static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                        NULL};
    static const char *const affinities[] = {"ClientIP", "None", NULL};
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    const char *type = jstr0(spec, "type"), *ip = jstr0(spec, "clusterIP");
    bool headless = strcmp(ip, "None") == 0;
    if (jsize(spec, "ports") == 0 && !headless && strcmp(type, "ExternalName") != 0)
        kv_required(c, "ports", "");
    if (strcmp(type, "LoadBalancer") == 0 && headless)
        kv_invalid(c, "clusterIP", ip, "may not be set to 'None' for LoadBalancer services");
    if (strcmp(type, "NodePort") == 0 && headless)
        kv_invalid(c, "clusterIP", ip, "may not be set to 'None' for NodePort services");
    if (strcmp(type, "ExternalName") == 0) {
        const char *name = jstr0(spec, "externalName");
        if (*ip)
            kv_forbidden(c, "clusterIP", "must be empty for ExternalName services");
        if (!*name) {
            kv_required(c, "externalName", "");
        } else {
            char trimmed[300];
            snprintf(trimmed, sizeof trimmed, "%s", name);
            size_t n = strlen(trimmed);
            if (n && trimmed[n - 1] == '.')
                trimmed[n - 1] = '\0';
            kv_check_subdomain(c, "externalName", trimmed);
        }
    } else {
        check_cluster_ips(c, spec);
        check_ip_families(c, spec);
    }
    check_service_ports(c, spec);
    kv_check_labels(c, "selector", jget(spec, "selector"));
    kv_check_enum(c, spec, "sessionAffinity", affinities);
    const char *affinity = jstr0(spec, "sessionAffinity");
    json_t *cfg = jobj(spec, "sessionAffinityConfig");
    if (strcmp(affinity, "ClientIP") == 0) {
        json_t *client = jobj(cfg, "clientIP");
        json_int_t timeout;
        size_t m = kv_path_child(c, "sessionAffinityConfig");
        if (!cfg)
            kv_required(c, NULL, "when session affinity type is ClientIP");
        else if (!client)
            kv_required(c, "clientIP", "when session affinity type is ClientIP");
        else if (jint(client, "timeoutSeconds", &timeout) && (timeout <= 0 || timeout > 86400)) {
            size_t m2 = kv_path_child(c, "clientIP");
            kv_invalid_int(c, "timeoutSeconds", timeout,
                           "must be greater than 0 and less than 86400");
            kv_path_pop(c, m2);
        }
        kv_path_pop(c, m);
    } else if (strcmp(affinity, "None") == 0 && cfg) {
        kv_forbidden(c, "sessionAffinityConfig", "must not be set when session affinity is None");
    }
    size_t i;
    json_t *e;
    json_array_foreach(jarr(spec, "externalIPs"), i, e) {
        size_t m1 = kv_path_child(c, "externalIPs"), m2 = kv_path_index(c, i);
        const char *s = json_is_string(e) ? json_string_value(e) : "";
        if (!kv_is_ip(s))
            kv_check_ip(c, NULL, s);
        else
            kv_check_non_special_ip(c, NULL, s);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    kv_check_enum(c, spec, "type", types);
    check_service_traffic(c, spec);
    kv_path_pop(c, mark);
}

/* ValidateServiceUpdate: an allocated cluster IP stays. An empty one in
 * the update means "keep": the server copies it back, as the registry does. */
void kv_check_service_update(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    const char *ip = jstr0(spec, "clusterIP"), *old_ip = jstr0(was, "clusterIP");
    if (strcmp(jstr0(spec, "type"), "ExternalName") == 0 ||
        strcmp(jstr0(was, "type"), "ExternalName") == 0 || !*old_ip || !*ip ||
        (strcmp(ip, "None") == 0 && strcmp(old_ip, "None") == 0))
        return;
    if (strcmp(ip, old_ip) != 0) {
        size_t m1 = kv_path_child(c, "spec"), m2 = kv_path_child(c, "clusterIPs"),
               m3 = kv_path_index(c, 0);
        json_t *ips = jarr(spec, "clusterIPs");
        json_t *shown = ips ? json_incref(ips) : json_pack("[s]", ip);
        kv_invalid_go(c, NULL, kv_go_strings, shown, "may not change once set");
        json_decref(shown);
        kv_path_pop(c, m3);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
}

/* Whether ip is in 127.0.0.0/8 or is ::1. */
static bool is_loopback_ip(const char *ip)
{
    unsigned char a[16];
    static const unsigned char loop[16] = {[15] = 1};
    if (inet_pton(AF_INET, ip, a) == 1)
        return a[0] == 127;
    return inet_pton(AF_INET6, ip, a) == 1 && !memcmp(a, loop, 16);
}

/* allow_loopback: the `kubernetes` Endpoints (see kv_check_endpoints). */
static void check_endpoint_address(struct vctx *c, json_t *addr, bool allow_loopback)
{
    const char *ip = jstr0(addr, "ip");
    kv_check_ip(c, "ip", ip);
    if (*jstr0(addr, "hostname"))
        kv_check_dns_label(c, "hostname", jstr0(addr, "hostname"));
    json_t *node = jget(addr, "nodeName");
    if (json_is_string(node))
        kv_check_subdomain(c, "nodeName", json_string_value(node));
    size_t m = kv_path_child(c, "ip");
    if (kv_is_ip(ip) && !(allow_loopback && is_loopback_ip(ip)))
        kv_check_non_special_ip(c, NULL, ip);
    else if (!kv_is_ip(ip))
        kv_invalid(c, NULL, ip, "must be a valid IP address");
    kv_path_pop(c, m);
}

static void check_endpoint_port(struct vctx *c, json_t *port, bool require_name)
{
    const char *name = jstr0(port, "name"), *proto = jstr0(port, "protocol");
    if (require_name && !*name)
        kv_required(c, "name", "");
    else if (*name)
        kv_check_dns_label(c, "name", name);
    kv_check_port_num(c, "port", jint0(port, "port"));
    if (!*proto)
        kv_required(c, "protocol", "");
    else if (!str_in(proto, kv_protocols))
        kv_unsupported(c, "protocol", proto, kv_protocols);
}

static void check_endpoint_list(struct vctx *c, json_t *subset, const char *list,
                                bool allow_loopback)
{
    size_t i;
    json_t *e;
    json_array_foreach(jarr(subset, list), i, e) {
        size_t m1 = kv_path_child(c, list), m2 = kv_path_index(c, i);
        check_endpoint_address(c, e, allow_loopback);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
}

/* One departure from ValidateEndpoints: the Endpoints default/kubernetes,
 * which the leader writes with the API servers' addresses
 * (controllers/kubesvc.c), may hold loopback addresses. Kubernetes refuses
 * them because a proxy cannot forward to another host's loopback; bosun's
 * servers commonly listen on 127.0.0.x (bosun up, the tests), and that
 * object's job is to say where the API is. */
void kv_check_endpoints(struct vctx *c, json_t *obj)
{
    size_t mark = kv_path_child(c, "subsets"), i, j;
    json_t *ss, *port, *md = jobj(obj, "metadata");
    bool api = strcmp(jstr0(md, "name"), "kubernetes") == 0 &&
               strcmp(jstr0(md, "namespace"), "default") == 0;
    json_array_foreach(jarr(obj, "subsets"), i, ss) {
        size_t mi = kv_path_index(c, i);
        if (jsize(ss, "addresses") == 0 && jsize(ss, "notReadyAddresses") == 0)
            kv_required(c, NULL, "must specify `addresses` or `notReadyAddresses`");
        check_endpoint_list(c, ss, "addresses", api);
        check_endpoint_list(c, ss, "notReadyAddresses", api);
        json_array_foreach(jarr(ss, "ports"), j, port) {
            size_t m1 = kv_path_child(c, "ports"), m2 = kv_path_index(c, j);
            check_endpoint_port(c, port, jsize(ss, "ports") > 1);
            kv_path_pop(c, m2);
            kv_path_pop(c, m1);
        }
        kv_path_pop(c, mi);
    }
    kv_path_pop(c, mark);
}

/* ==== core/v1: Namespace, Node, ConfigMap, Secret ==== */

void kv_check_namespace(struct vctx *c, json_t *obj)
{
    static const char *const phases[] = {"Active", "Terminating", NULL};
    size_t mark = kv_path_child(c, "spec"), i;
    json_t *f;
    json_array_foreach(jarr(jobj(obj, "spec"), "finalizers"), i, f) {
        const char *name = json_is_string(f) ? json_string_value(f) : "";
        size_t m = kv_path_child(c, "finalizers");
        kv_check_qualified_name(c, NULL, name);
        if (!strchr(name, '/') && strcmp(name, "kubernetes") != 0 && strcmp(name, "orphan") != 0 &&
            strcmp(name, "foregroundDeletion") != 0)
            kv_invalid(c, NULL, name,
                       "name is neither a standard finalizer name nor is it fully qualified");
        kv_path_pop(c, m);
    }
    kv_path_pop(c, mark);
    const char *phase = jstr(jobj(obj, "status"), "phase");
    if (phase && *phase && !str_in(phase, phases)) {
        size_t m = kv_path_child(c, "status");
        kv_unsupported(c, "phase", phase, phases);
        kv_path_pop(c, m);
    }
}

/* A taint as %#v prints core.Taint. */
static void go_taint(struct ubuf *b, json_t *t)
{
    ubuf_appendf(b, "core.Taint{Key:");
    kv_go_quote(b, jstr0(t, "key"));
    ubuf_appendf(b, ", Value:");
    kv_go_quote(b, jstr0(t, "value"));
    ubuf_appendf(b, ", Effect:");
    kv_go_quote(b, jstr0(t, "effect"));
    ubuf_appendf(b, ", TimeAdded:(*v1.Time)(nil)}");
}

static void check_taints(struct vctx *c, json_t *taints)
{
    json_t *seen = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(taints, i, t) {
        size_t mi = kv_path_index(c, i);
        const char *key = jstr0(t, "key"), *value = jstr0(t, "value"), *effect = jstr0(t, "effect");
        struct msgs ms = {0};
        kv_check_qualified_name(c, "key", key);
        kv_is_label_value(value, &ms);
        if (ms.n)
            kv_invalid(c, "value", value, ms.m[0]);
        if (!*effect)
            kv_required(c, "effect", "");
        else if (!str_in(effect, kv_taint_effects))
            kv_unsupported(c, "effect", effect, kv_taint_effects);
        char k[400];
        snprintf(k, sizeof k, "%.64s\n%.300s", effect, key);
        if (json_object_get(seen, k)) {
            struct ubuf r = {0};
            go_taint(&r, t);
            kv_duplicate_raw(c, NULL, r.data, "taints must be unique by key and effect pair");
            ubuf_free(&r);
        }
        json_object_set_new(seen, k, json_true());
        kv_path_pop(c, mi);
    }
    json_decref(seen);
}

void kv_check_node(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec"), i;
    json_t *e;
    size_t m = kv_path_child(c, "taints");
    check_taints(c, jarr(spec, "taints"));
    kv_path_pop(c, m);
    json_array_foreach(jarr(spec, "podCIDRs"), i, e) {
        const char *cidr = json_is_string(e) ? json_string_value(e) : "";
        size_t m1 = kv_path_child(c, "podCIDRs"), m2 = kv_path_index(c, i);
        if (!kv_is_cidr(cidr))
            kv_invalid(c, NULL, cidr,
                       "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    kv_path_pop(c, mark);
}

/* ValidateNodeUpdate: podCIDRs and providerID only go from unset to set. */
void kv_check_node_update(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    size_t mark = kv_path_child(c, "spec");
    if (jsize(was, "podCIDRs") && !kv_sem_equal(jget(spec, "podCIDRs"), jget(was, "podCIDRs")))
        kv_forbidden(c, "podCIDRs",
                     "node updates may not change podCIDR except from \"\" to valid");
    if (*jstr0(was, "providerID") &&
        strcmp(jstr0(was, "providerID"), jstr0(spec, "providerID")) != 0)
        kv_forbidden(c, "providerID",
                     "node updates may not change providerID except from \"\" to valid");
    kv_path_pop(c, mark);
}

#define MAX_SECRET_SIZE (1024 * 1024)

/* Keys of data maps: config keys, at "<member>[<key>]". */
static void check_data_keys(struct vctx *c, json_t *data, const char *member, json_t *other,
                            const char *other_msg)
{
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v) {
        struct msgs ms = {0};
        size_t m1 = kv_path_child(c, member), m2 = kv_path_key(c, k);
        kv_is_config_map_key(k, &ms);
        kv_invalid_each(c, NULL, k, &ms);
        if (other && json_object_get(other, k))
            kv_invalid(c, NULL, k, other_msg);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
}

/* Decoded size of a base64 value. */
static size_t base64_size(json_t *v)
{
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    size_t pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
    return n / 4 * 3 - (pad <= n / 4 * 3 ? pad : 0);
}

void kv_check_config_map(struct vctx *c, json_t *obj)
{
    json_t *data = jobj(obj, "data"), *binary = jobj(obj, "binaryData");
    check_data_keys(c, data, "data", binary, "duplicate of key present in binaryData");
    check_data_keys(c, binary, "binaryData", NULL, NULL);
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v)
        total += json_string_length(v);
    json_object_foreach(binary, k, v)
        total += base64_size(v);
    if (total > MAX_SECRET_SIZE)
        kv_too_long(c, NULL, MAX_SECRET_SIZE);
}

/* ConfigMap and Secret updates once immutable is set. */
static void check_immutable_data(struct vctx *c, json_t *obj, json_t *old,
                                 const char *const *members)
{
    static const char msg[] = "field is immutable when `immutable` is set";
    if (!jtrue(old, "immutable"))
        return;
    if (!jtrue(obj, "immutable"))
        kv_forbidden(c, "immutable", msg);
    for (size_t i = 0; members[i]; i++)
        if (!kv_sem_equal(jget(obj, members[i]), jget(old, members[i])))
            kv_forbidden(c, members[i], msg);
}

void kv_check_config_map_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const members[] = {"data", "binaryData", NULL};
    check_immutable_data(c, obj, old, members);
}

/* The keys a Secret of each type must hold. */
static const struct {
    const char *type;
    const char *keys[2];
    bool either; /* one of the keys suffices (basic-auth) */
} secret_types[] = {
    {"kubernetes.io/dockercfg", {".dockercfg"}, false},
    {"kubernetes.io/dockerconfigjson", {".dockerconfigjson"}, false},
    {"kubernetes.io/basic-auth", {"username", "password"}, true},
    {"kubernetes.io/ssh-auth", {"ssh-privatekey"}, false},
    {"kubernetes.io/tls", {"tls.crt", "tls.key"}, false},
};

static void check_secret_type(struct vctx *c, json_t *obj, json_t *data)
{
    const char *type = jstr0(obj, "type");
    if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
        if (!*jstr0(jobj(jobj(obj, "metadata"), "annotations"),
                    "kubernetes.io/service-account.name")) {
            size_t m1 = kv_path_child(c, "metadata"), m2 = kv_path_child(c, "annotations"),
                   m3 = kv_path_key(c, "kubernetes.io/service-account.name");
            kv_required(c, NULL, "");
            kv_path_pop(c, m3);
            kv_path_pop(c, m2);
            kv_path_pop(c, m1);
        }
        return;
    }
    for (size_t i = 0; i < sizeof secret_types / sizeof secret_types[0]; i++) {
        if (strcmp(secret_types[i].type, type) != 0)
            continue;
        bool any = false;
        for (size_t k = 0; k < 2 && secret_types[i].keys[k]; k++)
            any |= json_object_get(data, secret_types[i].keys[k]) != NULL;
        for (size_t k = 0; k < 2 && secret_types[i].keys[k]; k++) {
            const char *key = secret_types[i].keys[k];
            if (json_object_get(data, key) || (secret_types[i].either && any))
                continue;
            size_t m1 = kv_path_child(c, "data"), m2 = kv_path_key(c, key);
            kv_required(c, NULL, "");
            kv_path_pop(c, m2);
            kv_path_pop(c, m1);
        }
    }
}

void kv_check_secret(struct vctx *c, json_t *obj)
{
    json_t *data = jobj(obj, "data");
    check_data_keys(c, data, "data", NULL, NULL);
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v)
        total += base64_size(v);
    if (total > MAX_SECRET_SIZE)
        kv_too_long(c, "data", MAX_SECRET_SIZE);
    check_secret_type(c, obj, data);
}

void kv_check_secret_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const members[] = {"data", NULL};
    kv_check_immutable_str(c, "type", obj, old);
    check_immutable_data(c, obj, old, members);
}

/* ==== core/v1: PersistentVolume, PersistentVolumeClaim ==== */

static const char *const access_modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                           "ReadWriteOncePod", NULL};
static const char *const volume_modes[] = {"Block", "Filesystem", NULL};

static void check_access_modes(struct vctx *c, json_t *spec, const char *required_msg)
{
    json_t *modes = jarr(spec, "accessModes");
    if (json_array_size(modes) == 0)
        kv_required(c, "accessModes", required_msg);
    bool once_pod = false, other = false;
    size_t i;
    json_t *e;
    json_array_foreach(modes, i, e) {
        const char *m = json_is_string(e) ? json_string_value(e) : "";
        if (!str_in(m, access_modes))
            kv_unsupported(c, "accessModes", m, access_modes);
        if (strcmp(m, "ReadWriteOncePod") == 0)
            once_pod = true;
        else
            other = true;
    }
    if (once_pod && other)
        kv_forbidden(c, "accessModes", "may not use ReadWriteOncePod with other access modes");
}

void kv_check_pv(struct vctx *c, json_t *obj)
{
    static const char *const reclaim[] = {"Delete", "Recycle", "Retain", NULL};
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    check_access_modes(c, spec, "must specify at least 1 access mode");
    json_t *capacity = jobj(spec, "capacity");
    if (!capacity || json_object_size(capacity) == 0) {
        kv_required(c, "capacity", "");
    } else if (!json_object_get(capacity, "storage") || json_object_size(capacity) > 1) {
        static const char *const storage[] = {"storage", NULL};
        struct ubuf r = {0};
        kv_go_json(&r, capacity);
        kv_unsupported_raw(c, "capacity", r.data, storage);
        ubuf_free(&r);
    } else {
        double v;
        if (kv_quantity_value(json_object_get(capacity, "storage"), &v) && v <= 0) {
            char buf[48];
            size_t m1 = kv_path_child(c, "capacity"), m2 = kv_path_key(c, "storage");
            kv_invalid(c, NULL,
                       kv_quantity_text(json_object_get(capacity, "storage"), buf, sizeof buf),
                       "must be greater than zero");
            kv_path_pop(c, m2);
            kv_path_pop(c, m1);
        }
    }
    kv_check_volume_sources(c, spec, "io.k8s.api.core.v1.PersistentVolumeSpec");
    const char *policy = jstr(spec, "persistentVolumeReclaimPolicy");
    if (policy && !str_in(policy, reclaim))
        kv_unsupported(c, "persistentVolumeReclaimPolicy", policy, reclaim);
    const char *mode = jstr(spec, "volumeMode");
    if (mode && !str_in(mode, volume_modes))
        kv_unsupported(c, "volumeMode", mode, volume_modes);
    if (*jstr0(spec, "storageClassName"))
        kv_check_subdomain(c, "storageClassName", jstr0(spec, "storageClassName"));
    kv_path_pop(c, mark);
}

/* ValidatePersistentVolumeUpdate: the volume source is fixed at creation. */
void kv_check_pv_update(struct vctx *c, json_t *obj, json_t *old)
{
    const struct kube_type *t = kube_schema_type("io.k8s.api.core.v1.PersistentVolumeSpec");
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    for (unsigned i = 0; t && i < t->n_fields; i++) {
        const char *name = t->fields[i].name;
        if (t->fields[i].inlined && !kv_sem_equal(jget(spec, name), jget(was, name))) {
            size_t m = kv_path_child(c, "spec");
            kv_forbidden(c, "persistentvolumesource",
                         "spec.persistentvolumesource is immutable after creation");
            kv_path_pop(c, m);
            break;
        }
    }
    if (strcmp(jstr0(spec, "volumeMode"), jstr0(was, "volumeMode")) != 0)
        kv_invalid(c, "volumeMode", jstr0(spec, "volumeMode"), kv_immutable_msg);
}

/* ValidatePersistentVolumeClaimSpec at the current path. */
static void check_pvc_spec(struct vctx *c, json_t *spec)
{
    check_access_modes(c, spec, "at least 1 access mode is required");
    kv_check_label_selector(c, "selector", jobj(spec, "selector"));
    json_t *storage = jget(jobj(jobj(spec, "resources"), "requests"), "storage");
    size_t m1 = kv_path_child(c, "resources"), m2 = kv_path_key(c, "storage");
    double v;
    char buf[48];
    if (!storage)
        kv_required(c, NULL, "");
    else if (kv_quantity_value(storage, &v) && v <= 0)
        kv_invalid(c, NULL, kv_quantity_text(storage, buf, sizeof buf),
                   "must be greater than zero");
    kv_path_pop(c, m2);
    kv_path_pop(c, m1);
    if (*jstr0(spec, "storageClassName"))
        kv_check_subdomain(c, "storageClassName", jstr0(spec, "storageClassName"));
    const char *mode = jstr(spec, "volumeMode");
    if (mode && !str_in(mode, volume_modes))
        kv_unsupported(c, "volumeMode", mode, volume_modes);
}

void kv_check_pvc(struct vctx *c, json_t *obj)
{
    size_t mark = kv_path_child(c, "spec");
    check_pvc_spec(c, jobj(obj, "spec"));
    kv_path_pop(c, mark);
}

/* ValidatePersistentVolumeClaimUpdate: the spec is fixed, but for a
 * volumeName and a storageClassName set once and, on a bound claim, a
 * storage request that grows. */
void kv_check_pvc_update(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    json_t *now_clone = spec ? json_deep_copy(spec) : json_object();
    json_t *was_clone = was ? json_deep_copy(was) : json_object();
    if (!*jstr0(was, "volumeName"))
        kv_munge_member(was_clone, now_clone, "volumeName");
    /* Retroactive default StorageClass: a claim created with no class may
     * be given one later (unless the beta annotation names one). */
    json_t *was_class = jget(was, "storageClassName");
    if ((!was_class || json_is_null(was_class)) &&
        !jget(jobj(jobj(old, "metadata"), "annotations"), "volume.beta.kubernetes.io/storage-class"))
        kv_munge_member(was_clone, now_clone, "storageClassName");
    bool bound = strcmp(jstr0(jobj(old, "status"), "phase"), "Bound") == 0;
    json_t *now_req = jobj(jobj(now_clone, "resources"), "requests");
    json_t *was_storage = jget(jobj(jobj(was, "resources"), "requests"), "storage");
    if (bound && now_req) {
        if (was_storage)
            json_object_set(now_req, "storage", was_storage);
        else
            json_object_del(now_req, "storage");
    }
    if (!kv_sem_equal(now_clone, was_clone))
        kv_forbidden(c, "spec",
                     "spec is immutable after creation except resources.requests for bound claims");
    double now_v, was_v;
    json_t *now_storage = jget(jobj(jobj(spec, "resources"), "requests"), "storage");
    if (kv_quantity_value(now_storage, &now_v) && kv_quantity_value(was_storage, &was_v) &&
        now_v < was_v) {
        size_t m1 = kv_path_child(c, "spec"), m2 = kv_path_child(c, "resources"),
               m3 = kv_path_child(c, "requests");
        kv_forbidden(c, "storage", "field can not be less than previous value");
        kv_path_pop(c, m3);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    json_decref(now_clone);
    json_decref(was_clone);
}

/* ==== core/v1: Event ==== */

/* legacyValidateEvent: the involved object lives in the event's namespace. */
void kv_check_event(struct vctx *c, json_t *obj)
{
    const char *ns = jstr0(jobj(obj, "metadata"), "namespace");
    const char *ins = jstr0(jobj(obj, "involvedObject"), "namespace");
    if (jget(obj, "eventTime"))
        return;
    bool ok = *ins ? strcmp(ns, ins) == 0 : (!*ns || strcmp(ns, "default") == 0);
    if (!ok) {
        size_t m = kv_path_child(c, "involvedObject");
        kv_invalid(c, "namespace", ins, "does not match event.namespace");
        kv_path_pop(c, m);
    }
}
