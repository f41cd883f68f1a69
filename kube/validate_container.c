/* validate_container.c — containers: what every container of a pod spec must satisfy.
 *
 * core/validation's validateContainers and validateInitContainers with
 * their parts: names unique across app and init containers, images,
 * ports and host port conflicts, environment variables and their sources,
 * volume mounts against the pod's volumes, pull policy, resource names and
 * quantities (requests within limits, and equal to them for resources that
 * cannot be overcommitted), probes and lifecycle handlers, and the
 * restartable init containers (sidecars) that alone among init containers
 * may have probes and hooks.
 *
 * How it works: validate_pod.c calls kv_check_containers and
 * kv_check_init_containers with the pod's valid volume names and a set of
 * the container names seen so far; each container goes through the common
 * checks, then the ones its kind of container adds or forbids. */
#include <stdio.h>
#include <string.h>

#include "kube/validate_internal.h"

/* ---- containers ---- */

const char *const kv_protocols[] = {"SCTP", "TCP", "UDP", NULL};

static void check_container_ports(struct vctx *c, json_t *ctr)
{
    json_t *names = json_object();
    size_t mark = kv_path_child(c, "ports"), i;
    json_t *port;
    json_array_foreach(jarr(ctr, "ports"), i, port) {
        size_t mi = kv_path_index(c, i);
        const char *name = jstr0(port, "name");
        if (*name) {
            struct msgs ms = {0};
            kv_is_port_name(name, &ms);
            if (ms.n)
                kv_invalid_each(c, "name", name, &ms);
            else if (json_object_get(names, name))
                kv_duplicate(c, "name", name);
            else
                json_object_set_new(names, name, json_true());
        }
        json_int_t cp = jint0(port, "containerPort"), hp = jint0(port, "hostPort");
        if (cp == 0)
            kv_required(c, "containerPort", "");
        else
            kv_check_port_num(c, "containerPort", cp);
        if (hp != 0)
            kv_check_port_num(c, "hostPort", hp);
        const char *proto = jstr0(port, "protocol");
        if (!*proto)
            kv_required(c, "protocol", "");
        else if (!str_in(proto, kv_protocols))
            kv_unsupported(c, "protocol", proto, kv_protocols);
        kv_path_pop(c, mi);
    }
    kv_path_pop(c, mark);
    json_decref(names);
}

/* checkHostPortConflicts: hostIP/protocol/hostPort unique across the
 * containers given; seen accumulates. */
static void check_host_ports(struct vctx *c, json_t *containers, size_t only, json_t *seen)
{
    size_t i, j;
    json_t *ctr, *port;
    json_array_foreach(containers, i, ctr) {
        if (only != (size_t)-1 && i != only)
            continue;
        json_array_foreach(jarr(ctr, "ports"), j, port) {
            json_int_t hp = jint0(port, "hostPort");
            if (hp == 0)
                continue;
            char key[300];
            snprintf(key, sizeof key, "%.128s/%.64s/%" JSON_INTEGER_FORMAT, jstr0(port, "hostIP"),
                     jstr0(port, "protocol"), hp);
            if (json_object_get(seen, key)) {
                size_t m1 = kv_path_index(c, i), m2 = kv_path_child(c, "ports"),
                       m3 = kv_path_index(c, j);
                kv_duplicate(c, "hostPort", key);
                kv_path_pop(c, m3);
                kv_path_pop(c, m2);
                kv_path_pop(c, m1);
            } else {
                json_object_set_new(seen, key, json_true());
            }
        }
    }
}

static void check_key_selector(struct vctx *c, const char *child, json_t *sel)
{
    size_t mark = kv_path_child(c, child);
    struct msgs ms = {0};
    const char *name = jstr0(sel, "name"), *key = jstr0(sel, "key");
    kv_is_dns1123_subdomain(name, &ms);
    kv_invalid_each(c, "name", name, &ms);
    if (!*key) {
        kv_required(c, "key", "");
    } else {
        memset(&ms, 0, sizeof ms);
        kv_is_config_map_key(key, &ms);
        kv_invalid_each(c, "key", key, &ms);
    }
    kv_path_pop(c, mark);
}

static void check_env_value_from(struct vctx *c, json_t *ev)
{
    json_t *from = jobj(ev, "valueFrom");
    if (!from)
        return;
    size_t mark = kv_path_child(c, "valueFrom");
    static const char *const sources[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
                                          "secretKeyRef"};
    int n = 0;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        n += jget(from, sources[i]) != NULL;
    json_t *field_ref = jobj(from, "fieldRef");
    if (field_ref) {
        size_t m = kv_path_child(c, "fieldRef");
        if (!*jstr0(field_ref, "apiVersion"))
            kv_required(c, "apiVersion", "");
        else if (!*jstr0(field_ref, "fieldPath"))
            kv_required(c, "fieldPath", "");
        kv_path_pop(c, m);
    }
    if (jobj(from, "resourceFieldRef") && !*jstr0(jobj(from, "resourceFieldRef"), "resource")) {
        size_t m = kv_path_child(c, "resourceFieldRef");
        kv_required(c, "resource", "");
        kv_path_pop(c, m);
    }
    if (jobj(from, "configMapKeyRef"))
        check_key_selector(c, "configMapKeyRef", jobj(from, "configMapKeyRef"));
    if (jobj(from, "secretKeyRef"))
        check_key_selector(c, "secretKeyRef", jobj(from, "secretKeyRef"));
    if (n == 0)
        kv_invalid(c, NULL, "",
                   "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                   "`secretKeyRef`");
    else if (*jstr0(ev, "value"))
        kv_invalid(c, NULL, "", "may not be specified when `value` is not empty");
    else if (n > 1)
        kv_invalid(c, NULL, "", "may not have more than one field specified at a time");
    kv_path_pop(c, mark);
}

static void check_env(struct vctx *c, json_t *ctr)
{
    size_t mark = kv_path_child(c, "env"), i;
    json_t *ev;
    json_array_foreach(jarr(ctr, "env"), i, ev) {
        size_t mi = kv_path_index(c, i);
        const char *name = jstr0(ev, "name");
        struct msgs ms = {0};
        if (!*name)
            kv_required(c, "name", "");
        kv_is_env_var_name(name, &ms);
        kv_invalid_each(c, "name", name, &ms);
        check_env_value_from(c, ev);
        kv_path_pop(c, mi);
    }
    kv_path_pop(c, mark);
}

static void check_env_from_ref(struct vctx *c, const char *child, json_t *ref)
{
    size_t mark = kv_path_child(c, child);
    const char *name = jstr0(ref, "name");
    if (!*name) {
        kv_required(c, "name", "");
    } else {
        struct msgs ms = {0};
        kv_is_dns1123_subdomain(name, &ms);
        kv_invalid_each(c, "name", name, &ms);
    }
    kv_path_pop(c, mark);
}

static void check_env_from(struct vctx *c, json_t *ctr)
{
    size_t mark = kv_path_child(c, "envFrom"), i;
    json_t *ef;
    json_array_foreach(jarr(ctr, "envFrom"), i, ef) {
        size_t mi = kv_path_index(c, i);
        const char *prefix = jstr(ef, "prefix");
        if (prefix && *prefix) {
            struct msgs ms = {0};
            kv_is_env_var_name(prefix, &ms);
            kv_invalid_each(c, "prefix", prefix, &ms);
        }
        int n = 0;
        if (jobj(ef, "configMapRef")) {
            n++;
            check_env_from_ref(c, "configMapRef", jobj(ef, "configMapRef"));
        }
        if (jobj(ef, "secretRef")) {
            n++;
            check_env_from_ref(c, "secretRef", jobj(ef, "secretRef"));
        }
        kv_path_pop(c, mi);
        if (n == 0)
            kv_invalid(c, NULL, "", "must specify one of: `configMapRef` or `secretRef`");
        else if (n > 1)
            kv_invalid(c, NULL, "", "may not have more than one field specified at a time");
    }
    kv_path_pop(c, mark);
}

static void check_volume_mounts(struct vctx *c, json_t *ctr, json_t *volumes)
{
    json_t *paths = json_object();
    size_t mark = kv_path_child(c, "volumeMounts"), i;
    json_t *mnt;
    json_array_foreach(jarr(ctr, "volumeMounts"), i, mnt) {
        size_t mi = kv_path_index(c, i);
        const char *name = jstr0(mnt, "name"), *path = jstr0(mnt, "mountPath");
        if (!*name)
            kv_required(c, "name", "");
        if (!json_object_get(volumes, name))
            kv_not_found(c, "name", name);
        if (!*path)
            kv_required(c, "mountPath", "");
        if (json_object_get(paths, path))
            kv_invalid(c, "mountPath", path, "must be unique");
        json_object_set_new(paths, path, json_true());
        kv_path_pop(c, mi);
        /* Kubernetes reports these two at the list's path, not the entry's. */
        const char *sub = jstr0(mnt, "subPath"), *expr = jstr0(mnt, "subPathExpr");
        if (*sub)
            kv_check_local_descending_path(c, "subPath", sub);
        if (*expr) {
            if (*sub) {
                size_t m = kv_path_index(c, i);
                kv_invalid(c, "subPathExpr", expr,
                           "subPathExpr and subPath are mutually exclusive");
                kv_path_pop(c, m);
            }
            kv_check_local_descending_path(c, "subPathExpr", expr);
        }
    }
    kv_path_pop(c, mark);
    json_decref(paths);
}

static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};

static void check_pull_policy(struct vctx *c, json_t *ctr)
{
    const char *p = jstr0(ctr, "imagePullPolicy");
    if (!*p)
        kv_required(c, "imagePullPolicy", "");
    else if (!str_in(p, pull_policies))
        kv_unsupported(c, "imagePullPolicy", p, pull_policies);
}

/* ---- resources ---- */

bool kv_has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_hugepages(const char *name)
{
    return kv_has_prefix(name, "hugepages-");
}

/* IsNativeResource: no domain, or a kubernetes.io one. */
static bool is_native_resource(const char *name)
{
    return !strchr(name, '/') || strstr(name, "kubernetes.io/");
}

static bool overcommit_allowed(const char *name)
{
    return is_native_resource(name) && !is_hugepages(name);
}

/* validateContainerResourceName (with validateResourceName). */
void kv_check_container_resource_name(struct vctx *c, const char *name)
{
    static const char *const standard[] = {"cpu",
                                           "memory",
                                           "ephemeral-storage",
                                           "requests.cpu",
                                           "requests.memory",
                                           "requests.storage",
                                           "requests.ephemeral-storage",
                                           "limits.cpu",
                                           "limits.memory",
                                           "limits.ephemeral-storage",
                                           "pods",
                                           "services",
                                           "replicationcontrollers",
                                           "resourcequotas",
                                           "secrets",
                                           "configmaps",
                                           "persistentvolumeclaims",
                                           "storage",
                                           "services.nodeports",
                                           "services.loadbalancers",
                                           NULL};
    static const char *const container[] = {"cpu", "memory", "ephemeral-storage", NULL};
    struct msgs ms = {0};
    kv_is_qualified_name(name, &ms);
    kv_invalid_each(c, NULL, name, &ms);
    if (ms.n)
        return;
    if (!strchr(name, '/')) {
        if (!str_in(name, standard) && !is_hugepages(name))
            kv_invalid(c, NULL, name, "must be a standard resource type or fully qualified");
        if (!str_in(name, container) && !is_hugepages(name))
            kv_invalid(c, NULL, name, "must be a standard resource for containers");
    } else if (!is_native_resource(name) && kv_has_prefix(name, "requests.")) {
        kv_invalid(c, NULL, name, "doesn't follow extended resource name standard");
    }
}

/* ValidateResourceQuantityValue: not negative; whole for extended resources. */
static void check_resource_quantity(struct vctx *c, const char *name, json_t *q)
{
    double v;
    char buf[48];
    if (!kv_quantity_value(q, &v))
        return;
    const char *text = kv_quantity_text(q, buf, sizeof buf);
    if (v < 0)
        kv_invalid(c, NULL, text, kv_not_negative_msg);
    if (!is_native_resource(name) && v != (double)(long long)v)
        kv_invalid(c, NULL, text, "must be an integer");
}

static void check_resources(struct vctx *c, json_t *ctr)
{
    json_t *res = jobj(ctr, "resources");
    json_t *limits = jobj(res, "limits"), *requests = jobj(res, "requests");
    size_t mark = kv_path_child(c, "resources");
    const char *k;
    json_t *q;
    json_object_foreach(limits, k, q) {
        size_t m1 = kv_path_child(c, "limits"), m2 = kv_path_key(c, k);
        kv_check_container_resource_name(c, k);
        check_resource_quantity(c, k, q);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    json_object_foreach(requests, k, q) {
        size_t m1 = kv_path_child(c, "requests"), m2 = kv_path_key(c, k);
        kv_check_container_resource_name(c, k);
        check_resource_quantity(c, k, q);
        kv_path_pop(c, m2);
        json_t *limit = json_object_get(limits, k);
        double req_v, lim_v;
        char rb[48], lb[48], detail[256];
        if (limit && kv_quantity_value(q, &req_v) && kv_quantity_value(limit, &lim_v)) {
            const char *rt = kv_quantity_text(q, rb, sizeof rb),
                       *lt = kv_quantity_text(limit, lb, sizeof lb);
            if (req_v != lim_v && !overcommit_allowed(k)) {
                snprintf(detail, sizeof detail, "must be equal to %s limit of %s", k, lt);
                kv_invalid(c, NULL, rt, detail);
            } else if (req_v > lim_v) {
                snprintf(detail, sizeof detail, "must be less than or equal to %s limit of %s", k,
                         lt);
                kv_invalid(c, NULL, rt, detail);
            }
        } else if (!limit && !overcommit_allowed(k)) {
            kv_path_pop(c, m1);
            m1 = c->len;
            kv_required(c, "limits", "Limit must be set for non overcommitable resources");
        }
        kv_path_pop(c, m1);
    }
    kv_path_pop(c, mark);
}

/* ---- probes and lifecycle handlers ---- */

/* validateHandler: exactly one action; which ones depends on the holder. */
static void check_handler(struct vctx *c, json_t *h, const char *const *actions)
{
    int n = 0;
    for (size_t i = 0; actions[i]; i++) {
        json_t *a = jget(h, actions[i]);
        if (!a)
            continue;
        if (n++ > 0) {
            kv_forbidden(c, actions[i], "may not specify more than 1 handler type");
            continue;
        }
        size_t mark = kv_path_child(c, actions[i]);
        if (strcmp(actions[i], "exec") == 0 && jsize(a, "command") == 0)
            kv_required(c, "command", "");
        if (strcmp(actions[i], "httpGet") == 0) {
            static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
            const char *scheme = jstr0(a, "scheme");
            if (!*jstr0(a, "path"))
                kv_required(c, "path", "");
            kv_check_port_num_or_name(c, "port", jget(a, "port"));
            if (!str_in(scheme, schemes))
                kv_unsupported(c, "scheme", scheme, schemes);
        }
        if (strcmp(actions[i], "tcpSocket") == 0)
            kv_check_port_num_or_name(c, "port", jget(a, "port"));
        if (strcmp(actions[i], "grpc") == 0)
            kv_check_port_num(c, "port", jint0(a, "port"));
        kv_path_pop(c, mark);
    }
    if (n == 0)
        kv_required(c, NULL, "must specify a handler type");
}

enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };

static void check_probe(struct vctx *c, json_t *ctr, const char *which, enum probe_kind kind)
{
    static const char *const actions[] = {"exec", "httpGet", "tcpSocket", "grpc", NULL};
    json_t *probe = jobj(ctr, which);
    if (!probe)
        return;
    size_t mark = kv_path_child(c, which);
    check_handler(c, probe, actions);
    static const char *const counts[] = {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                         "successThreshold", "failureThreshold"};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        kv_check_nonnegative(c, probe, counts[i]);
    json_int_t tgps, success;
    if (jint(probe, "terminationGracePeriodSeconds", &tgps) && tgps <= 0)
        kv_invalid_int(c, "terminationGracePeriodSeconds", tgps, "must be greater than 0");
    if (kind == PROBE_READINESS && jget(probe, "terminationGracePeriodSeconds"))
        kv_invalid_int(c, "terminationGracePeriodSeconds",
                       jint0(probe, "terminationGracePeriodSeconds"),
                       "must not be set for readinessProbes");
    if (kind != PROBE_READINESS && jint(probe, "successThreshold", &success) && success != 1)
        kv_invalid_int(c, "successThreshold", success, "must be 1");
    kv_path_pop(c, mark);
}

static void check_lifecycle(struct vctx *c, json_t *ctr)
{
    static const char *const actions[] = {"exec", "httpGet", "tcpSocket", "sleep", NULL};
    json_t *lc = jobj(ctr, "lifecycle");
    if (!lc)
        return;
    size_t mark = kv_path_child(c, "lifecycle");
    static const char *const hooks[] = {"postStart", "preStop"};
    for (size_t i = 0; i < 2; i++) {
        json_t *h = jobj(lc, hooks[i]);
        if (!h)
            continue;
        size_t m = kv_path_child(c, hooks[i]);
        check_handler(c, h, actions);
        kv_path_pop(c, m);
    }
    kv_path_pop(c, mark);
}

/* validateContainerCommon: what every kind of container must satisfy. */
static void check_container_common(struct vctx *c, json_t *ctr, json_t *volumes)
{
    static const char *const policies[] = {"File", "FallbackToLogsOnError", NULL};
    const char *name = jstr0(ctr, "name"), *tmp = jstr0(ctr, "terminationMessagePolicy");
    if (!*name)
        kv_required(c, "name", "");
    else
        kv_check_dns_label(c, "name", name);
    if (!*jstr0(ctr, "image"))
        kv_required(c, "image", "");
    if (!*tmp)
        kv_required(c, "terminationMessagePolicy", "");
    else if (!str_in(tmp, policies))
        kv_unsupported(c, "terminationMessagePolicy", tmp, policies);
    check_container_ports(c, ctr);
    check_env(c, ctr);
    check_env_from(c, ctr);
    check_volume_mounts(c, ctr, volumes);
    check_pull_policy(c, ctr);
    check_resources(c, ctr);
}

/* validateContainers: at least one; names unique; probes allowed. */
void kv_check_containers(struct vctx *c, json_t *spec, json_t *volumes, json_t *names)
{
    json_t *containers = jarr(spec, "containers");
    size_t mark = kv_path_child(c, "containers"), i;
    json_t *ctr;
    if (json_array_size(containers) == 0)
        kv_required(c, NULL, "");
    json_array_foreach(containers, i, ctr) {
        size_t mi = kv_path_index(c, i);
        const char *name = jstr0(ctr, "name");
        check_container_common(c, ctr, volumes);
        if (json_object_get(names, name))
            kv_duplicate(c, "name", name);
        else
            json_object_set_new(names, name, json_true());
        check_lifecycle(c, ctr);
        check_probe(c, ctr, "livenessProbe", PROBE_LIVENESS);
        check_probe(c, ctr, "readinessProbe", PROBE_READINESS);
        check_probe(c, ctr, "startupProbe", PROBE_STARTUP);
        if (jget(ctr, "restartPolicy"))
            kv_forbidden(c, "restartPolicy", "may not be set for non-init containers");
        kv_path_pop(c, mi);
    }
    json_t *seen = json_object();
    check_host_ports(c, containers, (size_t)-1, seen);
    json_decref(seen);
    kv_path_pop(c, mark);
}

/* validateInitContainers: names unique with the app containers; sidecars
 * (restartPolicy Always) may have probes and hooks, the others not. */
void kv_check_init_containers(struct vctx *c, json_t *spec, json_t *volumes, json_t *names)
{
    static const char *const restart[] = {"Always", NULL};
    static const char without[] = "may not be set for init containers without restartPolicy=Always";
    json_t *containers = jarr(spec, "initContainers");
    size_t mark = kv_path_child(c, "initContainers"), i;
    json_t *ctr;
    json_array_foreach(containers, i, ctr) {
        size_t mi = kv_path_index(c, i);
        const char *name = jstr0(ctr, "name"), *policy = jstr(ctr, "restartPolicy");
        check_container_common(c, ctr, volumes);
        if (policy && !str_in(policy, restart))
            kv_unsupported(c, "restartPolicy", policy, restart);
        if (json_object_get(names, name))
            kv_duplicate(c, "name", name);
        else if (*name)
            json_object_set_new(names, name, json_true());
        kv_path_pop(c, mi);
        json_t *seen = json_object();
        check_host_ports(c, containers, i, seen);
        json_decref(seen);
        mi = kv_path_index(c, i);
        if (policy && strcmp(policy, "Always") == 0) {
            check_lifecycle(c, ctr);
            check_probe(c, ctr, "livenessProbe", PROBE_LIVENESS);
            check_probe(c, ctr, "readinessProbe", PROBE_READINESS);
            check_probe(c, ctr, "startupProbe", PROBE_STARTUP);
        } else {
            if (jget(ctr, "lifecycle"))
                kv_forbidden(c, "lifecycle", without);
            if (jget(ctr, "livenessProbe"))
                kv_forbidden(c, "livenessProbe", without);
            if (jget(ctr, "readinessProbe"))
                kv_forbidden(c, "readinessProbe", "may not be set for init containers");
            if (jget(ctr, "startupProbe"))
                kv_forbidden(c, "startupProbe", without);
        }
        kv_path_pop(c, mi);
    }
    kv_path_pop(c, mark);
}
