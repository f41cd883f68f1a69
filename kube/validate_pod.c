/* validate_pod.c — the pod spec and the Pod kind.
 *
 * core/validation's ValidatePodSpec without its containers (those are in
 * validate_container.c): volumes and their sources, restart and DNS
 * policies, node selector, DNS config, the names of the service account,
 * node and priority class, deadline, host name and subdomain, tolerations
 * and preemption policy; the pod
 * template that workloads embed; the Pod kind itself; and
 * ValidatePodUpdate, which allows only images, activeDeadlineSeconds,
 * added tolerations and a negative grace period's fix to change.
 *
 * How it works: kv_check_pod_template and kv_check_pod run the same
 * check_pod_spec; it collects the names of the valid volumes first, so the
 * containers' volume mounts can be checked against them. An update copies
 * the allowed changes from the old spec into a clone of the new one
 * ("munging") and forbids whatever still differs, reporting the first
 * differing member as Kubernetes' message does. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/validate_internal.h"

/* ==== pod specs (core/validation: ValidatePodSpec and its parts) ==== */

static const char file_mode_msg[] = "must be a number between 0 and 0777 (octal), both inclusive";

static size_t cause_count(const struct vctx *c)
{
    return c->causes ? json_array_size(c->causes) : 0;
}

static void check_file_mode(struct vctx *c, json_t *o, const char *k)
{
    json_int_t mode;
    if (jint(o, k, &mode) && (mode < 0 || mode > 0777))
        kv_invalid_int(c, k, mode, file_mode_msg);
}

/* validateLocalDescendingPath: relative, no "..". */
void kv_check_local_descending_path(struct vctx *c, const char *child, const char *path)
{
    if (path[0] == '/')
        kv_invalid(c, child, path, "must be a relative path");
    for (const char *p = path; p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            kv_invalid(c, child, path, "must not contain '..'");
            break;
        }
        p = slash ? slash + 1 : NULL;
    }
}

static void check_key_to_path(struct vctx *c, json_t *item)
{
    const char *path = jstr0(item, "path");
    if (!*jstr0(item, "key"))
        kv_required(c, "key", "");
    if (!*path)
        kv_required(c, "path", "");
    kv_check_local_descending_path(c, "path", path);
    if (strncmp(path, "..", 2) == 0)
        kv_invalid(c, "path", path, "must not start with '..'");
    check_file_mode(c, item, "mode");
}

static void check_items(struct vctx *c, json_t *src)
{
    size_t i;
    json_t *item;
    json_array_foreach(jarr(src, "items"), i, item) {
        size_t m1 = kv_path_child(c, "items"), m2 = kv_path_index(c, i);
        check_key_to_path(c, item);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
}

static void check_src_host_path(struct vctx *c, json_t *src)
{
    static const char *const types[] = {
        "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
        "File", "FileOrCreate", "Socket",     NULL};
    const char *path = jstr0(src, "path");
    if (!*path)
        kv_required(c, "path", "");
    else if (strstr(path, ".."))
        kv_check_local_descending_path(c, "path", path[0] == '/' ? path + 1 : path);
    const char *type = jstr(src, "type");
    if (type && !str_in(type, types))
        kv_unsupported(c, "type", type, types);
}

static void check_src_secret(struct vctx *c, json_t *src)
{
    if (!*jstr0(src, "secretName"))
        kv_required(c, "secretName", "");
    check_file_mode(c, src, "defaultMode");
    check_items(c, src);
}

static void check_src_config_map(struct vctx *c, json_t *src)
{
    if (!*jstr0(src, "name"))
        kv_required(c, "name", "");
    check_file_mode(c, src, "defaultMode");
    check_items(c, src);
}

static void check_src_pvc(struct vctx *c, json_t *src)
{
    if (!*jstr0(src, "claimName"))
        kv_required(c, "claimName", "");
}

static void check_src_nfs(struct vctx *c, json_t *src)
{
    const char *path = jstr0(src, "path");
    if (!*jstr0(src, "server"))
        kv_required(c, "server", "");
    if (!*path)
        kv_required(c, "path", "");
    if (path[0] != '/')
        kv_invalid(c, "path", path, "must be an absolute path");
}

static void check_src_empty_dir(struct vctx *c, json_t *src)
{
    double size;
    if (kv_quantity_value(jget(src, "sizeLimit"), &size) && size < 0)
        kv_forbidden(c, "sizeLimit", "SizeLimit field must be a valid resource quantity");
}

static void check_src_mode_only(struct vctx *c, json_t *src)
{
    check_file_mode(c, src, "defaultMode");
}

static void check_src_ephemeral(struct vctx *c, json_t *src)
{
    if (!jobj(src, "volumeClaimTemplate"))
        kv_required(c, "volumeClaimTemplate", "");
}

/* The sources whose internals are checked; the others only count. */
static const struct {
    const char *name;
    void (*check)(struct vctx *c, json_t *src);
} volume_source_checks[] = {
    {"hostPath", check_src_host_path},
    {"secret", check_src_secret},
    {"configMap", check_src_config_map},
    {"persistentVolumeClaim", check_src_pvc},
    {"nfs", check_src_nfs},
    {"emptyDir", check_src_empty_dir},
    {"downwardAPI", check_src_mode_only},
    {"projected", check_src_mode_only},
    {"ephemeral", check_src_ephemeral},
};

static void check_volume_source_member(struct vctx *c, const char *name, json_t *src)
{
    for (size_t i = 0; i < sizeof volume_source_checks / sizeof volume_source_checks[0]; i++) {
        if (strcmp(volume_source_checks[i].name, name) == 0) {
            size_t mark = kv_path_child(c, name);
            volume_source_checks[i].check(c, json_is_object(src) ? src : NULL);
            kv_path_pop(c, mark);
        }
    }
}

/* Exactly one source: the inline members of the schema type (Volume's
 * VolumeSource, PersistentVolumeSpec's PersistentVolumeSource). */
void kv_check_volume_sources(struct vctx *c, json_t *holder, const char *type_name)
{
    const struct kube_type *t = kube_schema_type(type_name);
    int n = 0;
    for (unsigned i = 0; t && i < t->n_fields; i++) {
        const struct kube_field *f = &t->fields[i];
        json_t *src = jget(holder, f->name);
        if (!f->inlined || !src)
            continue;
        if (n++ > 0) {
            kv_forbidden(c, f->name, "may not specify more than 1 volume type");
            continue;
        }
        check_volume_source_member(c, f->name, src);
    }
    if (n == 0)
        kv_required(c, NULL, "must specify a volume type");
}

/* ValidateVolumes: returns the names of the valid volumes (a JSON object
 * used as a set), which volume mounts must name. */
static json_t *check_volumes(struct vctx *c, json_t *spec)
{
    json_t *names = json_object();
    size_t mark = kv_path_child(c, "volumes"), i;
    json_t *vol;
    json_array_foreach(jarr(spec, "volumes"), i, vol) {
        size_t mi = kv_path_index(c, i), before = cause_count(c);
        const char *name = jstr0(vol, "name");
        kv_check_volume_sources(c, vol, "io.k8s.api.core.v1.Volume");
        if (!*name)
            kv_required(c, "name", "");
        else
            kv_check_dns_label(c, "name", name);
        if (json_object_get(names, name))
            kv_duplicate(c, "name", name);
        if (cause_count(c) == before)
            json_object_set_new(names, name, json_true());
        kv_path_pop(c, mi);
    }
    kv_path_pop(c, mark);
    return names;
}

/* ---- the rest of the pod spec ---- */

static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};

void kv_check_enum(struct vctx *c, json_t *o, const char *k, const char *const *valid)
{
    const char *v = jstr0(o, k);
    if (!*v)
        kv_required(c, k, "");
    else if (!str_in(v, valid))
        kv_unsupported(c, k, v, valid);
}

/* A toleration as %#v prints core.Toleration. */
static void go_toleration(struct ubuf *b, json_t *t)
{
    ubuf_appendf(b, "core.Toleration{Key:");
    kv_go_quote(b, jstr0(t, "key"));
    ubuf_appendf(b, ", Operator:");
    kv_go_quote(b, jstr0(t, "operator"));
    ubuf_appendf(b, ", Value:");
    kv_go_quote(b, jstr0(t, "value"));
    ubuf_appendf(b, ", Effect:");
    kv_go_quote(b, jstr0(t, "effect"));
    json_int_t secs;
    if (jint(t, "tolerationSeconds", &secs))
        ubuf_appendf(b, ", TolerationSeconds:&%" JSON_INTEGER_FORMAT "}", secs);
    else
        ubuf_appendf(b, ", TolerationSeconds:(*int64)(nil)}");
}

const char *const kv_taint_effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

static void check_tolerations(struct vctx *c, json_t *tolerations)
{
    static const char *const operators[] = {"Equal", "Exists", NULL};
    size_t i;
    json_t *t;
    json_array_foreach(tolerations, i, t) {
        size_t mi = kv_path_index(c, i);
        const char *key = jstr0(t, "key"), *op = jstr0(t, "operator"), *effect = jstr0(t, "effect");
        const char *value = jstr0(t, "value");
        if (*key)
            kv_check_qualified_name(c, "key", key);
        if (!*key && strcmp(op, "Exists") != 0)
            kv_invalid(c, "operator", op,
                       "operator must be Exists when `key` is empty, which means \"match all "
                       "values and all keys\"");
        if (jget(t, "tolerationSeconds") && strcmp(effect, "NoExecute") != 0)
            kv_invalid(c, "effect", effect,
                       "effect must be 'NoExecute' when `tolerationSeconds` is set");
        if (!*op || strcmp(op, "Equal") == 0) {
            struct msgs ms = {0};
            kv_is_label_value(value, &ms);
            if (ms.n) {
                char joined[1300] = "";
                for (int m = 0; m < ms.n; m++)
                    snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s",
                             m ? ";" : "", ms.m[m]);
                kv_invalid(c, "operator", value, joined);
            }
        } else if (strcmp(op, "Exists") == 0) {
            if (*value)
                kv_invalid_go(c, "operator", go_toleration, t,
                              "value must be empty when `operator` is 'Exists'");
        } else {
            kv_unsupported(c, "operator", op, operators);
        }
        if (*effect && !str_in(effect, kv_taint_effects))
            kv_unsupported(c, "effect", effect, kv_taint_effects);
        kv_path_pop(c, mi);
    }
}

static void check_dns_config(struct vctx *c, json_t *spec)
{
    json_t *cfg = jobj(spec, "dnsConfig");
    size_t mark = kv_path_child(c, "dnsConfig");
    if (strcmp(jstr0(spec, "dnsPolicy"), "None") == 0) {
        if (!cfg) {
            kv_required(c, NULL, "must provide `dnsConfig` when `dnsPolicy` is None");
            kv_path_pop(c, mark);
            return;
        }
        if (jsize(cfg, "nameservers") == 0) {
            kv_required(c, "nameservers",
                        "must provide at least one DNS nameserver when `dnsPolicy` is None");
            kv_path_pop(c, mark);
            return;
        }
    }
    json_t *servers = jarr(cfg, "nameservers"), *searches = jarr(cfg, "searches");
    if (json_array_size(servers) > 3)
        kv_invalid_go(c, "nameservers", kv_go_strings, servers,
                      "must not have more than 3 nameservers");
    size_t i, total = 0;
    json_t *e;
    json_array_foreach(servers, i, e) {
        size_t m1 = kv_path_child(c, "nameservers"), m2 = kv_path_index(c, i);
        kv_check_ip(c, NULL, json_string_value(e));
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    if (json_array_size(searches) > 32)
        kv_invalid_go(c, "searches", kv_go_strings, searches,
                      "must not have more than 32 search paths");
    json_array_foreach(searches, i, e)
        total += json_string_length(e) + (i ? 1 : 0);
    if (total > 2048)
        kv_invalid_go(
            c, "searches", kv_go_strings, searches,
            "must not have more than 2048 characters (including spaces) in the search list");
    json_array_foreach(searches, i, e) {
        char search[300];
        snprintf(search, sizeof search, "%s", json_is_string(e) ? json_string_value(e) : "");
        size_t n = strlen(search);
        if (n && search[n - 1] == '.')
            search[n - 1] = '\0';
        size_t m1 = kv_path_child(c, "searches"), m2 = kv_path_index(c, i);
        kv_check_subdomain(c, NULL, search);
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    json_array_foreach(jarr(cfg, "options"), i, e) {
        if (*jstr0(e, "name"))
            continue;
        size_t m1 = kv_path_child(c, "options"), m2 = kv_path_index(c, i);
        kv_required(c, NULL, "Option.Name must not be empty");
        kv_path_pop(c, m2);
        kv_path_pop(c, m1);
    }
    kv_path_pop(c, mark);
}

const char *const kv_preemption_policies[] = {"PreemptLowerPriority", "Never", NULL};

/* Optional names that must be DNS subdomains when set. */
static void check_optional_subdomain(struct vctx *c, json_t *o, const char *k)
{
    const char *v = jstr0(o, k);
    if (*v)
        kv_check_subdomain(c, k, v);
}

/* ValidatePodSpec. extra_volumes: names a StatefulSet's claim templates
 * add (or NULL). */
static void check_pod_spec(struct vctx *c, json_t *spec, json_t *extra_volumes)
{
    static const char *const dns_policies[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                               "None", NULL};
    json_t *volumes = check_volumes(c, spec), *names = json_object();
    if (extra_volumes)
        json_object_update_missing(volumes, extra_volumes);
    kv_check_containers(c, spec, volumes, names);
    kv_check_init_containers(c, spec, volumes, names);
    json_decref(names);
    json_decref(volumes);
    kv_check_enum(c, spec, "restartPolicy", restart_policies);
    kv_check_enum(c, spec, "dnsPolicy", dns_policies);
    kv_check_labels(c, "nodeSelector", jget(spec, "nodeSelector"));
    check_dns_config(c, spec);
    check_optional_subdomain(c, spec, "serviceAccountName");
    check_optional_subdomain(c, spec, "nodeName");
    json_int_t ads;
    if (jint(spec, "activeDeadlineSeconds", &ads) && (ads < 1 || ads > INT32_MAX))
        kv_invalid_int(c, "activeDeadlineSeconds", ads,
                       "must be between 1 and 2147483647, inclusive");
    if (*jstr0(spec, "hostname"))
        kv_check_dns_label(c, "hostname", jstr0(spec, "hostname"));
    if (*jstr0(spec, "subdomain"))
        kv_check_dns_label(c, "subdomain", jstr0(spec, "subdomain"));
    size_t mark = kv_path_child(c, "tolerations");
    check_tolerations(c, jarr(spec, "tolerations"));
    kv_path_pop(c, mark);
    check_optional_subdomain(c, spec, "priorityClassName");
    const char *preempt = jstr(spec, "preemptionPolicy");
    if (preempt && !str_in(preempt, kv_preemption_policies))
        kv_unsupported(c, "preemptionPolicy", preempt, kv_preemption_policies);
}

/* ValidatePodTemplateSpec at the current path ("spec.template"). Labels
 * and annotations are reported at "labels" and "annotations", as there. */
void kv_check_pod_template(struct vctx *c, json_t *template, json_t *extra_volumes)
{
    json_t *md = jobj(template, "metadata");
    kv_check_labels(c, "labels", jget(md, "labels"));
    kv_check_annotations(c, "annotations", jget(md, "annotations"));
    size_t mark = kv_path_child(c, "spec");
    json_t *spec = jobj(template, "spec");
    check_pod_spec(c, spec, extra_volumes);
    if (jsize(spec, "ephemeralContainers"))
        kv_forbidden(c, "ephemeralContainers", "ephemeral containers not allowed in pod template");
    kv_path_pop(c, mark);
}

/* ==== Pod ==== */

void kv_check_pod(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = kv_path_child(c, "spec");
    check_pod_spec(c, spec, NULL);
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *ctr;
        json_array_foreach(jarr(spec, lists[l]), i, ctr) {
            const char *image = jstr0(ctr, "image");
            size_t n = strlen(image);
            if (n && (isspace((unsigned char)image[0]) || isspace((unsigned char)image[n - 1]))) {
                size_t m1 = kv_path_child(c, lists[l]), m2 = kv_path_index(c, i);
                kv_invalid(c, "image", image, "must not have leading or trailing whitespace");
                kv_path_pop(c, m2);
                kv_path_pop(c, m1);
            }
        }
    }
    kv_path_pop(c, mark);
}

/* ValidateContainerUpdates: same containers, images still set. */
static bool check_container_updates(struct vctx *c, const char *list, json_t *now, json_t *was)
{
    size_t mark = kv_path_child(c, list);
    if (json_array_size(now) != json_array_size(was)) {
        kv_forbidden(c, NULL, "pod updates may not add or remove containers");
        kv_path_pop(c, mark);
        return false;
    }
    size_t i;
    json_t *ctr;
    json_array_foreach(now, i, ctr) {
        const char *image = jstr0(ctr, "image");
        size_t n = strlen(image), m = kv_path_index(c, i);
        if (!n)
            kv_required(c, "image", "");
        if (n && (isspace((unsigned char)image[0]) || isspace((unsigned char)image[n - 1])))
            kv_invalid(c, "image", image, "must not have leading or trailing whitespace");
        kv_path_pop(c, m);
    }
    kv_path_pop(c, mark);
    return true;
}

/* validateOnlyAddedTolerations: each old one still there, but for
 * tolerationSeconds. */
static void check_added_tolerations(struct vctx *c, json_t *now, json_t *was)
{
    size_t i, j;
    json_t *o, *n;
    json_array_foreach(was, i, o) {
        bool found = false;
        json_array_foreach(now, j, n) {
            json_t *a = json_deep_copy(o), *b = json_deep_copy(n);
            if (json_is_object(a) && json_is_object(b)) {
                json_object_del(a, "tolerationSeconds");
                json_object_del(b, "tolerationSeconds");
            }
            found |= kv_sem_equal(a, b);
            json_decref(a);
            json_decref(b);
        }
        if (!found) {
            kv_forbidden(c, "tolerations",
                         "existing toleration can not be modified except its tolerationSeconds");
            return;
        }
    }
}

static const char pod_update_msg[] =
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)";

/* The first member of two specs that differs, for the message's diff. */
static const char *first_difference(json_t *a, json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) {
        if (!kv_sem_equal(v, json_object_get(b, k)))
            return k;
    }
    json_object_foreach(b, k, v) {
        if (!kv_sem_equal(v, json_object_get(a, k)))
            return k;
    }
    return "";
}

/* Copies the mutable parts of now into a clone of was's shape: what is
 * left different is forbidden. */
static void munge_images(json_t *munged, json_t *was, const char *list)
{
    json_t *m = jarr(munged, list), *w = jarr(was, list);
    for (size_t i = 0; i < json_array_size(m) && i < json_array_size(w); i++) {
        json_t *mc = json_array_get(m, i), *wc = json_array_get(w, i);
        json_t *image = json_object_get(wc, "image");
        if (!json_is_object(mc))
            continue;
        if (image)
            json_object_set(mc, "image", image);
        else
            json_object_del(mc, "image");
    }
}

void kv_munge_member(json_t *munged, json_t *was, const char *k)
{
    json_t *v = json_object_get(was, k);
    if (v)
        json_object_set(munged, k, v);
    else
        json_object_del(munged, k);
}

/* ValidateContainerStateTransition: unless the pod restarts always, a
 * container that terminated stays terminated (one that failed may restart
 * under OnFailure). So a kubelet's late "Running" cannot undo a pod's
 * completion that a Job has already counted. */
static void check_state_transitions(struct vctx *c, const char *field, json_t *now, json_t *was,
                                    const char *policy)
{
    if (!policy || strcmp(policy, "Always") == 0)
        return;
    size_t mark = kv_path_child(c, field);
    for (size_t i = 0; i < json_array_size(was); i++) {
        json_t *ws = json_array_get(was, i);
        json_t *term = jobj(jobj(ws, "state"), "terminated");
        if (!term || (jint0(term, "exitCode") != 0 && strcmp(policy, "OnFailure") == 0))
            continue;
        const char *name = jstr0(ws, "name");
        for (size_t k = 0; k < json_array_size(now); k++) {
            json_t *ns = json_array_get(now, k);
            if (strcmp(jstr0(ns, "name"), name) != 0 || jobj(jobj(ns, "state"), "terminated"))
                continue;
            size_t at = kv_path_index(c, i);
            kv_forbidden(c, "state", "may not be transitioned to non-terminated state");
            kv_path_pop(c, at);
        }
    }
    kv_path_pop(c, mark);
}

static void check_status_update(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *st = jobj(obj, "status"), *was = jobj(old, "status");
    const char *policy = jstr(jobj(old, "spec"), "restartPolicy");
    size_t mark = kv_path_child(c, "status");
    check_state_transitions(c, "containerStatuses", jarr(st, "containerStatuses"),
                            jarr(was, "containerStatuses"), policy);
    check_state_transitions(c, "initContainerStatuses", jarr(st, "initContainerStatuses"),
                            jarr(was, "initContainerStatuses"), policy);
    kv_path_pop(c, mark);
}

void kv_check_pod_update(struct vctx *c, json_t *obj, json_t *old)
{
    check_status_update(c, obj, old);
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    size_t mark = kv_path_child(c, "spec");
    if (!check_container_updates(c, "containers", jarr(spec, "containers"),
                                 jarr(was, "containers")) ||
        !check_container_updates(c, "initContainers", jarr(spec, "initContainers"),
                                 jarr(was, "initContainers"))) {
        kv_path_pop(c, mark);
        return;
    }
    json_int_t now_ads, was_ads;
    bool has_now = jint(spec, "activeDeadlineSeconds", &now_ads);
    bool has_was = jint(was, "activeDeadlineSeconds", &was_ads);
    if (has_now && (now_ads < 0 || now_ads > INT32_MAX)) {
        kv_invalid_int(c, "activeDeadlineSeconds", now_ads,
                       "must be between 0 and 2147483647, inclusive");
        kv_path_pop(c, mark);
        return;
    }
    if (has_now && has_was && was_ads < now_ads) {
        kv_invalid_int(c, "activeDeadlineSeconds", now_ads,
                       "must be less than or equal to previous value");
        kv_path_pop(c, mark);
        return;
    }
    if (!has_now && has_was)
        kv_invalid(c, "activeDeadlineSeconds", "null",
                   "must not update from a positive integer to nil value");
    json_t *munged = json_is_object(spec) ? json_deep_copy(spec) : json_object();
    munge_images(munged, was, "containers");
    munge_images(munged, was, "initContainers");
    kv_munge_member(munged, was, "activeDeadlineSeconds");
    kv_munge_member(munged, was, "tolerations");
    check_added_tolerations(c, jarr(spec, "tolerations"), jarr(was, "tolerations"));
    json_int_t was_tgps;
    if (jint(was, "terminationGracePeriodSeconds", &was_tgps) && was_tgps < 0 &&
        jint0(spec, "terminationGracePeriodSeconds") == 1)
        kv_munge_member(munged, was, "terminationGracePeriodSeconds");
    if (!kv_sem_equal(munged, was)) {
        char detail[sizeof pod_update_msg + 128];
        snprintf(detail, sizeof detail, "%s\n  spec.%.64s: changed", pod_update_msg,
                 first_difference(munged, was));
        kv_forbidden(c, NULL, detail);
    }
    json_decref(munged);
    kv_path_pop(c, mark);
}
