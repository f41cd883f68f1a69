/* pod.c — what a Pod means to the scheduler and to pods/binding, without I/O:
 * binding a pod to a node (Kubernetes' BindingREST.assignPod), the
 * resources a pod asks of its node (its effective requests), and whether a
 * toleration tolerates a taint, and whether a node satisfies a pod's
 * nodeSelector and required node affinity (for the controllers; the
 * scheduler matches the same rules against its own compiled node cache);
 * its Ready condition, and setting a condition as podutil's
 * UpdatePodCondition does (the eviction subresource's DisruptionTarget).
 *
 * Effective requests, as kube-scheduler computes them: the sum over the
 * app containers and the restartable init containers (sidecars, which run
 * for the pod's life), or, if larger, what any one ordinary init container
 * needs while the sidecars started before it run; plus spec.overhead.
 * "Non-zero" requests, used only for scoring, count a container without a
 * cpu or memory request as 100m and 200Mi, so that pods that ask for
 * nothing still spread. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

static const char *pod_str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* A deep copy of o's member k (an object) set into parent, or a new
 * object there. */
static json_t *pod_member_copy(json_t *parent, json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    json_t *c = json_is_object(v) ? json_deep_copy(v) : json_object();
    json_object_set_new(parent, k, c);
    return c;
}

/* pods/binding: a wholly new object, the given pod unchanged. The
 * scheduler writes the same bytes by editing the stored pod
 * (scheduler/bind.c). */
json_t *kube_pod_bind(json_t *pod, const char *node, json_t *annotations, const char *now,
                      char *err, size_t errlen)
{
    json_t *md = json_object_get(pod, "metadata");
    const char *name = pod_str(md, "name");
    const char *have = pod_str(json_object_get(pod, "spec"), "nodeName");
    if (json_object_get(md, "deletionTimestamp")) {
        snprintf(err, errlen, "pod %s is being deleted, cannot be assigned to a host", name);
        return NULL;
    }
    if (*have) {
        snprintf(err, errlen, "pod %s is already assigned to node \"%s\"", name, have);
        return NULL;
    }
    json_t *next = json_copy(pod);
    json_t *nmd = pod_member_copy(next, pod, "metadata");
    json_t *spec = pod_member_copy(next, pod, "spec");
    json_object_set_new(spec, "nodeName", json_string(node));
    if (json_is_object(annotations) && json_object_size(annotations)) {
        json_t *pann = pod_member_copy(nmd, md, "annotations");
        json_object_update(pann, annotations);
    }
    /* The PodScheduled condition, in the status the binding owns. */
    json_t *st = pod_member_copy(next, pod, "status");
    json_t *conds = json_object_get(st, "conditions"), *kept = json_array(), *c;
    size_t i;
    json_array_foreach(conds, i, c) if (strcmp(pod_str(c, "type"), "PodScheduled") != 0)
        json_array_append(kept, c);
    json_array_append_new(kept, json_pack("{s:s, s:s, s:n, s:s}", "type", "PodScheduled", "status",
                                          "True", "lastProbeTime", "lastTransitionTime", now));
    json_object_set_new(st, "conditions", kept);
    return next;
}

/* ---- conditions ---- */

bool kube_pod_ready(json_t *pod)
{
    json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions"), *cd;
    size_t i;
    json_array_foreach(conds, i, cd) if (strcmp(pod_str(cd, "type"), "Ready") == 0) return strcmp(
        pod_str(cd, "status"), "True") == 0;
    return false;
}

bool kube_pod_condition_set(json_t *pod, const char *type, const char *status,
                            const char *reason, const char *message, const char *now)
{
    json_t *st = json_object_get(pod, "status");
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(pod, "status", st);
    }
    json_t *conds = json_object_get(st, "conditions"), *cd, *found = NULL;
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(st, "conditions", conds);
    }
    size_t i;
    json_array_foreach(conds, i, cd) if (strcmp(pod_str(cd, "type"), type) == 0) found = cd;
    if (found && !strcmp(pod_str(found, "status"), status) &&
        !strcmp(pod_str(found, "reason"), reason) && !strcmp(pod_str(found, "message"), message))
        return false;
    if (!found) {
        found = json_pack("{s:s}", "type", type);
        json_array_append_new(conds, found);
    }
    if (strcmp(pod_str(found, "status"), status) != 0)
        json_object_set_new(found, "lastTransitionTime", json_string(now));
    json_object_set_new(found, "status", json_string(status));
    json_object_set_new(found, "reason", json_string(reason));
    json_object_set_new(found, "message", json_string(message));
    return true;
}

/* ---- requests ---- */

int64_t kube_quantity_value(json_t *v, bool milli)
{
    const char *s = json_string_value(v);
    double d;
    if (s) {
        if (!kube_quantity_parse(s, &d))
            return -1;
    } else if (json_is_number(v)) {
        d = json_number_value(v);
    } else {
        return -1;
    }
    d = milli ? ceil(d * 1000.0) : ceil(d);
    return d < 0 ? 0 : d > 9e18 ? INT64_MAX / 4 : (int64_t)d;
}

static int64_t pod_quantity(json_t *list, const char *name, bool milli)
{
    return kube_quantity_value(json_object_get(list, name), milli);
}

/* One container's requests; a limit stands in for a missing request (as
 * defaulting does when only limits are given). */
static void container_requests(json_t *ctr, struct kube_pod_requests *out, bool nonzero)
{
    json_t *res = json_object_get(ctr, "resources");
    json_t *req = json_object_get(res, "requests"), *lim = json_object_get(res, "limits");
    int64_t cpu = pod_quantity(req, "cpu", true), mem = pod_quantity(req, "memory", false);
    if (cpu < 0)
        cpu = pod_quantity(lim, "cpu", true);
    if (mem < 0)
        mem = pod_quantity(lim, "memory", false);
    if (nonzero) {
        out->cpu_milli = cpu < 0 || (cpu == 0 && !json_object_get(req, "cpu")) ? 100 : cpu;
        out->memory = mem < 0 || (mem == 0 && !json_object_get(req, "memory")) ? 200LL << 20 : mem;
    } else {
        out->cpu_milli = cpu < 0 ? 0 : cpu;
        out->memory = mem < 0 ? 0 : mem;
    }
}

static void req_add(struct kube_pod_requests *a, const struct kube_pod_requests *b)
{
    a->cpu_milli += b->cpu_milli;
    a->memory += b->memory;
}

static void req_max(struct kube_pod_requests *a, const struct kube_pod_requests *b)
{
    if (b->cpu_milli > a->cpu_milli)
        a->cpu_milli = b->cpu_milli;
    if (b->memory > a->memory)
        a->memory = b->memory;
}

bool kube_toleration_matches(json_t *tol, const char *key, const char *value,
                             const char *effect)
{
    const char *eff = pod_str(tol, "effect"), *tkey = pod_str(tol, "key");
    const char *op = pod_str(tol, "operator");
    if (*eff && strcmp(eff, effect) != 0)
        return false;
    if (*tkey && strcmp(tkey, key) != 0)
        return false;
    if (!*op || strcmp(op, "Equal") == 0)
        return strcmp(pod_str(tol, "value"), value) == 0;
    return strcmp(op, "Exists") == 0;
}

static bool values_contain(json_t *values, const char *v)
{
    json_t *x;
    size_t i;
    json_array_foreach(values, i, x) if (json_is_string(x) && strcmp(json_string_value(x), v) == 0)
        return true;
    return false;
}

static bool parse_ll(const char *s, long long *out)
{
    char *end;
    if (!s || !*s)
        return false;
    *out = strtoll(s, &end, 10);
    return *end == '\0';
}

bool kube_node_requirement_match(json_t *req, const char *value)
{
    const char *op = pod_str(req, "operator");
    json_t *values = json_object_get(req, "values");
    long long a, b;
    if (strcmp(op, "In") == 0)
        return value && values_contain(values, value);
    if (strcmp(op, "NotIn") == 0)
        return !value || !values_contain(values, value);
    if (strcmp(op, "Exists") == 0)
        return value != NULL;
    if (strcmp(op, "DoesNotExist") == 0)
        return value == NULL;
    if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
        if (!parse_ll(value, &a) || !parse_ll(json_string_value(json_array_get(values, 0)), &b))
            return false;
        return op[0] == 'G' ? a > b : a < b;
    }
    return false;
}

static const char *node_label(json_t *node, const char *key)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(node, "metadata"), "labels"), key));
}

/* A NodeSelectorTerm: all its requirements hold; an empty term matches
 * nothing. matchFields knows metadata.name only, as in Kubernetes. */
static bool term_match(json_t *term, json_t *node)
{
    json_t *exprs = json_object_get(term, "matchExpressions");
    json_t *fields = json_object_get(term, "matchFields"), *r;
    const char *name = pod_str(json_object_get(node, "metadata"), "name");
    size_t i;
    if (!json_array_size(exprs) && !json_array_size(fields))
        return false;
    json_array_foreach(exprs, i, r) if (!kube_node_requirement_match(r, node_label(node, pod_str(r, "key"))))
        return false;
    json_array_foreach(fields, i, r) if (strcmp(pod_str(r, "key"), "metadata.name") != 0 ||
                                         !kube_node_requirement_match(r, name)) return false;
    return true;
}

bool kube_node_affinity_match(json_t *pod_spec, json_t *node)
{
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(pod_spec, "nodeSelector"), k, v)
    {
        const char *have = node_label(node, k);
        if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)) != 0)
            return false;
    }
    json_t *req = json_object_get(
        json_object_get(json_object_get(pod_spec, "affinity"), "nodeAffinity"),
        "requiredDuringSchedulingIgnoredDuringExecution");
    json_t *terms = json_object_get(req, "nodeSelectorTerms"), *term;
    if (!json_is_array(terms))
        return true;
    size_t i;
    json_array_foreach(terms, i, term) if (term_match(term, node)) return true;
    return false;
}

void kube_pod_requests(json_t *pod, bool nonzero, struct kube_pod_requests *out)
{
    json_t *spec = json_object_get(pod, "spec"), *c;
    struct kube_pod_requests sum = {0, 0}, init_max = {0, 0}, sidecars = {0, 0}, one;
    size_t i;
    json_array_foreach(json_object_get(spec, "containers"), i, c) {
        container_requests(c, &one, nonzero);
        req_add(&sum, &one);
    }
    json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
        container_requests(c, &one, nonzero);
        if (strcmp(pod_str(c, "restartPolicy"), "Always") == 0) {
            req_add(&sidecars, &one);
            req_add(&sum, &one);
        } else {
            req_add(&one, &sidecars); /* the sidecars started before it still run */
            req_max(&init_max, &one);
        }
    }
    req_max(&sum, &init_max);
    if (!nonzero) {
        json_t *ovh = json_object_get(spec, "overhead");
        int64_t cpu = pod_quantity(ovh, "cpu", true), mem = pod_quantity(ovh, "memory", false);
        sum.cpu_milli += cpu > 0 ? cpu : 0;
        sum.memory += mem > 0 ? mem : 0;
    }
    *out = sum;
}

