/* cache.c — the scheduler's view of the cluster: every node with what it
 * can hold and what its pods ask, and every pod the scheduler must place
 * or count.
 *
 * Built from the stored objects (the leader's replica) and kept current by
 * the change stream, one object at a time: a node's allocatable, labels,
 * taints, cordon and Ready condition; a pod's requests, labels, owner,
 * priority, host ports and anti-affinity terms. A bound pod is counted on
 * its node (requests, pod count, ports, owner's per-zone count); a pod the
 * scheduler assumed is counted the same way before its binding is applied,
 * so the next decision sees the node as taken. Finished pods (Succeeded,
 * Failed) free their node, as in kube-scheduler. A pod bound to a node the
 * cache has not seen is kept on a placeholder node that is not schedulable
 * until the Node object arrives. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "scheduler/sched_internal.h"

const char *sched_str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

const char *sched_node_name(const struct sched_node *n)
{
    return n->name;
}

const char *sched_pod_node_name(const struct sched_pod *p)
{
    return p->node ? p->node->name : "";
}

void sched_node_usage(const struct sched_node *n, int64_t *cpu_milli, int64_t *memory,
                      int64_t *pods)
{
    *cpu_milli = n->req_cpu;
    *memory = n->req_mem;
    *pods = n->n_pods;
}

const char *sched_node_label(const struct sched_node *n, const char *key)
{
    return json_string_value(json_object_get(n->labels, key));
}

struct sched_cache *sched_cache_new(unsigned percentage_of_nodes, uint64_t seed)
{
    struct sched_cache *c = xcalloc(1, sizeof *c);
    c->percentage = percentage_of_nodes;
    c->rng = seed | 1;
    return c;
}

struct sched_node *sched_cache_node(struct sched_cache *c, const char *name)
{
    struct sched_node *n = umap_get(&c->nodes, name);
    return n && n->present ? n : NULL;
}

unsigned sched_cache_node_count(const struct sched_cache *c)
{
    return c->n_list;
}

struct sched_pod *sched_cache_pod(struct sched_cache *c, const char *ns, const char *name)
{
    char key[640];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    return umap_get(&c->pods, key);
}

/* ---- owners and zones ---- */

static int zone_intern(struct sched_cache *c, const char *zone)
{
    if (!zone || !*zone)
        return -1;
    for (unsigned i = 0; i < c->n_zones; i++)
        if (strcmp(c->zones[i], zone) == 0)
            return (int)i;
    c->zones = xrealloc(c->zones, (c->n_zones + 1) * sizeof *c->zones);
    c->zones[c->n_zones] = xstrdup(zone);
    return (int)c->n_zones++;
}

struct sched_owner *sched_owner_get(struct sched_cache *c, const char *uid)
{
    return uid ? umap_get(&c->owners, uid) : NULL;
}

static void owner_count(struct sched_cache *c, const char *uid, int zone, int delta)
{
    if (!uid)
        return;
    struct sched_owner *o = umap_get(&c->owners, uid);
    if (!o) {
        if (delta < 0)
            return;
        o = xcalloc(1, sizeof *o);
        umap_put(&c->owners, uid, o);
    }
    o->total += delta;
    if (zone >= 0) {
        if ((unsigned)zone >= o->n_zones) {
            o->zone_counts = xrealloc(o->zone_counts, (zone + 1) * sizeof *o->zone_counts);
            memset(o->zone_counts + o->n_zones, 0, (zone + 1 - o->n_zones) * sizeof(unsigned));
            o->n_zones = zone + 1;
        }
        o->zone_counts[zone] += delta;
    }
    if (o->total == 0) {
        umap_del(&c->owners, uid);
        free(o->zone_counts);
        free(o);
    }
}

/* ---- node accounting ---- */

void sched_node_add_pod(struct sched_cache *c, struct sched_node *n, struct sched_pod *p)
{
    assert(!p->node);
    if (n->n_pods == n->cap_pods) {
        n->cap_pods = n->cap_pods ? n->cap_pods * 2 : 8;
        n->pods = xrealloc(n->pods, n->cap_pods * sizeof *n->pods);
    }
    p->node = n;
    p->node_slot = n->n_pods;
    n->pods[n->n_pods++] = p;
    n->req_cpu += p->req.cpu_milli;
    n->req_mem += p->req.memory;
    n->nz_cpu += p->nz.cpu_milli;
    n->nz_mem += p->nz.memory;
    owner_count(c, p->owner, n->zone, 1);
    sched_index_pod(c, p, true);
}

static void node_free_if_unused(struct sched_cache *c, struct sched_node *n);

void sched_node_remove_pod(struct sched_cache *c, struct sched_pod *p)
{
    struct sched_node *n = p->node;
    if (!n)
        return;
    assert(p->node_slot < n->n_pods && n->pods[p->node_slot] == p);
    n->pods[p->node_slot] = n->pods[--n->n_pods];
    n->pods[p->node_slot]->node_slot = p->node_slot;
    n->req_cpu -= p->req.cpu_milli;
    n->req_mem -= p->req.memory;
    n->nz_cpu -= p->nz.cpu_milli;
    n->nz_mem -= p->nz.memory;
    owner_count(c, p->owner, n->zone, -1);
    sched_index_pod(c, p, false);
    p->node = NULL;
    p->assumed = false;
    p->nominated = false;
    node_free_if_unused(c, n);
}

/* ---- nodes ---- */

static void node_clear_fields(struct sched_node *n)
{
    json_decref(n->labels);
    n->labels = NULL;
    for (unsigned i = 0; i < n->n_taints; i++) {
        free(n->taints[i].key);
        free(n->taints[i].value);
    }
    free(n->taints);
    n->taints = NULL;
    n->n_taints = 0;
}

static void node_destroy(struct sched_node *n)
{
    node_clear_fields(n);
    free(n->pods);
    free(n->name);
    free(n);
}

static void node_free_if_unused(struct sched_cache *c, struct sched_node *n)
{
    if (n->present || n->n_pods)
        return;
    umap_del(&c->nodes, n->name);
    node_destroy(n);
}

static struct sched_node *node_get_or_add(struct sched_cache *c, const char *name)
{
    struct sched_node *n = umap_get(&c->nodes, name);
    if (n)
        return n;
    n = xcalloc(1, sizeof *n);
    n->name = xstrdup(name);
    n->labels = json_object();
    n->zone = -1;
    umap_put(&c->nodes, name, n);
    return n;
}

static int taint_effect(const char *s)
{
    if (strcmp(s, "NoSchedule") == 0)
        return SCHED_NO_SCHEDULE;
    if (strcmp(s, "PreferNoSchedule") == 0)
        return SCHED_PREFER_NO_SCHEDULE;
    if (strcmp(s, "NoExecute") == 0)
        return SCHED_NO_EXECUTE;
    return 0;
}

static bool node_ready(json_t *status)
{
    json_t *cond;
    size_t i;
    json_array_foreach(json_object_get(status, "conditions"), i, cond)
        if (strcmp(sched_str(cond, "type"), "Ready") == 0)
            return strcmp(sched_str(cond, "status"), "True") == 0;
    return false;
}

/* Allocatable, or capacity where allocatable does not say. */
static int64_t node_resource(json_t *status, const char *name, bool milli)
{
    int64_t v = kube_quantity_value(json_object_get(json_object_get(status, "allocatable"), name),
                                    milli);
    if (v < 0)
        v = kube_quantity_value(json_object_get(json_object_get(status, "capacity"), name), milli);
    return v < 0 ? 0 : v;
}

/* A changed zone moves the node's pods between their owners' zone counts. */
static void node_set_zone(struct sched_cache *c, struct sched_node *n, int zone)
{
    if (zone == n->zone)
        return;
    for (unsigned i = 0; i < n->n_pods; i++) {
        /* Out of the old zone and into the new; an owner whose total drops
         * to zero in between had no other pods, so nothing is lost. */
        owner_count(c, n->pods[i]->owner, n->zone, -1);
        owner_count(c, n->pods[i]->owner, zone, 1);
    }
    n->zone = zone;
}

static bool taints_equal(const struct sched_taint *a, unsigned na, const struct sched_taint *b,
                         unsigned nb)
{
    if (na != nb)
        return false;
    for (unsigned i = 0; i < na; i++)
        if (a[i].effect != b[i].effect || strcmp(a[i].key, b[i].key) != 0 ||
            strcmp(a[i].value, b[i].value) != 0)
            return false;
    return true;
}

bool sched_cache_node_set(struct sched_cache *c, json_t *obj)
{
    const char *name = sched_str(json_object_get(obj, "metadata"), "name");
    if (!*name)
        return false;
    struct sched_node *n = node_get_or_add(c, name), old = *n;
    json_t *spec = json_object_get(obj, "spec"), *status = json_object_get(obj, "status");
    /* Keep the old labels and taints until compared. */
    n->labels = NULL;
    n->taints = NULL;
    n->n_taints = 0;
    json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");
    n->labels = json_is_object(labels) ? json_incref(labels) : json_object();
    json_t *t;
    size_t i;
    json_t *taints = json_object_get(spec, "taints");
    n->taints = xcalloc(json_array_size(taints) + 1, sizeof *n->taints);
    json_array_foreach(taints, i, t) {
        int eff = taint_effect(sched_str(t, "effect"));
        if (!eff)
            continue;
        n->taints[n->n_taints++] = (struct sched_taint){xstrdup(sched_str(t, "key")),
                                                        xstrdup(sched_str(t, "value")), eff};
    }
    n->unschedulable = json_is_true(json_object_get(spec, "unschedulable"));
    n->ready = node_ready(status);
    n->alloc_cpu = node_resource(status, "cpu", true);
    n->alloc_mem = node_resource(status, "memory", false);
    n->alloc_pods = node_resource(status, "pods", false);
    node_set_zone(c, n, zone_intern(c, sched_node_label(n, "topology.kubernetes.io/zone")));
    bool changed = !old.present || old.unschedulable != n->unschedulable ||
                   old.ready != n->ready || old.alloc_cpu != n->alloc_cpu ||
                   old.alloc_mem != n->alloc_mem || old.alloc_pods != n->alloc_pods ||
                   !json_equal(old.labels, n->labels) ||
                   !taints_equal(old.taints, old.n_taints, n->taints, n->n_taints);
    if (old.labels && !json_equal(old.labels, n->labels))
        sched_index_node_labels(c, n, old.labels, n->labels);
    struct sched_node dead = {.labels = old.labels, .taints = old.taints, .n_taints = old.n_taints};
    node_clear_fields(&dead);
    if (!n->present) {
        n->present = true;
        if (c->n_list == c->cap_list) {
            c->cap_list = c->cap_list ? c->cap_list * 2 : 64;
            c->list = xrealloc(c->list, c->cap_list * sizeof *c->list);
        }
        n->index = c->n_list;
        c->list[c->n_list++] = n;
    }
    return changed;
}

void sched_cache_node_remove(struct sched_cache *c, const char *name)
{
    struct sched_node *n = umap_get(&c->nodes, name);
    if (!n || !n->present)
        return;
    assert(n->index < c->n_list && c->list[n->index] == n);
    c->list[n->index] = c->list[--c->n_list];
    c->list[n->index]->index = n->index;
    n->present = false;
    node_free_if_unused(c, n);
}

/* ---- pods ---- */

static void pod_clear_fields(struct sched_pod *p)
{
    json_decref(p->obj);
    json_decref(p->labels);
    json_decref(p->anti);
    free(p->owner);
    free(p->ports);
    free(p->uid);
    p->obj = p->labels = p->anti = NULL;
    p->owner = NULL;
    p->ports = NULL;
    p->uid = NULL;
    p->n_ports = 0;
}

static char *pod_owner(json_t *md)
{
    json_t *ref;
    size_t i;
    json_array_foreach(json_object_get(md, "ownerReferences"), i, ref)
        if (json_is_true(json_object_get(ref, "controller")) && *sched_str(ref, "uid"))
            return xstrdup(sched_str(ref, "uid"));
    return NULL;
}

static void pod_ports(struct sched_pod *p, json_t *spec)
{
    json_t *ctr, *port;
    size_t i, j;
    json_array_foreach(json_object_get(spec, "containers"), i, ctr)
        json_array_foreach(json_object_get(ctr, "ports"), j, port) {
        json_int_t hp = json_integer_value(json_object_get(port, "hostPort"));
        if (hp <= 0)
            continue;
        p->ports = xrealloc(p->ports, (p->n_ports + 1) * sizeof *p->ports);
        struct sched_port *sp = &p->ports[p->n_ports++];
        memset(sp, 0, sizeof *sp);
        sp->port = (int)hp;
        snprintf(sp->proto, sizeof sp->proto, "%s",
                 *sched_str(port, "protocol") ? sched_str(port, "protocol") : "TCP");
        snprintf(sp->ip, sizeof sp->ip, "%s", sched_str(port, "hostIP"));
    }
}

/* Fills p's fields from the stored object. */
/* What the cache reads from a pod that has a node (pod_parse,
 * sched_cache_pod_set): it is never bound again, so only what it counts
 * (requests, ports, labels, owner, anti-affinity terms, priority) and
 * whether it still counts (phase, deletion) are decoded, not its status
 * (conditions and container statuses: most of a running pod) nor its
 * managedFields. A bound pod changes mostly by its status, so this is most
 * of the pod changes the scheduler reads. */
static const char *const bound_paths[] = {
    "metadata.name",     "metadata.namespace",        "metadata.uid",
    "metadata.labels",   "metadata.ownerReferences",  "metadata.finalizers",
    "metadata.deletionTimestamp", "spec", "status.phase",
};

/* A pod as the cache needs it: while pending, all but its managedFields
 * (the writes made for it edit its stored bytes, scheduler.c), else only
 * bound_paths. */
json_t *sched_pod_decode(const void *buf, size_t len)
{
    static const char *const node_path[] = {"spec.nodeName"};
    json_t *probe = codec_msgpack_extract(buf, len, node_path, 1);
    const char *node = sched_str(json_object_get(probe, "spec"), "nodeName");
    bool bound = *node != '\0';
    json_decref(probe);
    if (bound)
        return codec_msgpack_extract(buf, len, bound_paths,
                                     sizeof bound_paths / sizeof bound_paths[0]);
    return codec_msgpack_to_json_without(buf, len, "metadata.managedFields");
}

static void pod_parse(struct sched_pod *p, json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec");
    pod_clear_fields(p);
    p->uid = xstrdup(sched_str(md, "uid"));
    json_t *labels = json_object_get(md, "labels");
    p->labels = json_is_object(labels) ? json_incref(labels) : json_object();
    p->owner = pod_owner(md);
    p->priority = (int32_t)json_integer_value(json_object_get(spec, "priority"));
    p->never_preempt = strcmp(sched_str(spec, "preemptionPolicy"), "Never") == 0;
    p->finalizers = json_array_size(json_object_get(md, "finalizers")) > 0;
    kube_pod_requests(obj, false, &p->req);
    kube_pod_requests(obj, true, &p->nz);
    pod_ports(p, spec);
    json_t *anti = json_object_get(json_object_get(json_object_get(spec, "affinity"),
                                                   "podAntiAffinity"),
                                   "requiredDuringSchedulingIgnoredDuringExecution");
    if (json_array_size(anti))
        p->anti = json_incref(anti);
}

static bool pod_finished(json_t *obj)
{
    const char *phase = sched_str(json_object_get(obj, "status"), "phase");
    return strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
}

static struct sched_pod *pod_get_or_add(struct sched_cache *c, json_t *md)
{
    char key[640];
    snprintf(key, sizeof key, "%s/%s", sched_str(md, "namespace"), sched_str(md, "name"));
    struct sched_pod *p = umap_get(&c->pods, key);
    if (p)
        return p;
    p = xcalloc(1, sizeof *p);
    p->key = xstrdup(key);
    p->ns = xstrdup(sched_str(md, "namespace"));
    p->name = xstrdup(sched_str(md, "name"));
    umap_put(&c->pods, key, p);
    return p;
}

static void pod_destroy(struct sched_pod *p)
{
    pod_clear_fields(p);
    free(p->last_message);
    free(p->key);
    free(p->ns);
    free(p->name);
    free(p);
}

static void pod_free(struct sched_cache *c, struct sched_pod *p)
{
    sched_node_remove_pod(c, p);
    umap_del(&c->pods, p->key);
    pod_destroy(p);
}

struct sched_pod *sched_cache_pod_set(struct sched_cache *c, json_t *obj, uint64_t rev)
{
    json_t *md = json_object_get(obj, "metadata"), *spec = json_object_get(obj, "spec");
    if (!*sched_str(md, "name"))
        return NULL;
    struct sched_pod *p = pod_get_or_add(c, md);
    if (rev && rev <= p->rev)
        return p->pending ? p : NULL; /* older than what we know */
    assert(p->qstate == SCHED_Q_NONE || p->pending);
    const char *node = sched_str(spec, "nodeName");
    bool uid_changed = p->uid && strcmp(p->uid, sched_str(md, "uid")) != 0;
    /* Uncount, reparse, recount: the counts on a node are always the sums
     * of the fields its pods have now (an assumption the binding confirms
     * is counted again the same way). */
    sched_node_remove_pod(c, p);
    p->rev = rev;
    if (uid_changed)
        p->first_seen_ms = 0;
    pod_parse(p, obj);
    p->pending = false;
    if (*node) {
        if (!pod_finished(obj))
            sched_node_add_pod(c, node_get_or_add(c, node), p);
        return NULL;
    }
    if (json_object_get(md, "deletionTimestamp") || pod_finished(obj))
        return NULL;
    const char *sn = sched_str(spec, "schedulerName");
    if (*sn && strcmp(sn, SCHED_NAME) != 0)
        return NULL;
    p->obj = json_incref(obj);
    p->pending = true;
    if (!p->first_seen_ms)
        p->first_seen_ms = util_now_ms();
    return p;
}

void sched_cache_pod_remove(struct sched_cache *c, const char *ns, const char *name)
{
    struct sched_pod *p = sched_cache_pod(c, ns, name);
    if (p)
        pod_free(c, p);
}

void sched_cache_assume(struct sched_cache *c, struct sched_pod *p, struct sched_node *node)
{
    assert(!p->node);
    sched_node_add_pod(c, node, p);
    p->assumed = true;
}

void sched_cache_nominate(struct sched_cache *c, struct sched_pod *p, struct sched_node *node)
{
    assert(!p->node);
    sched_node_add_pod(c, node, p);
    p->nominated = true;
}

struct sched_node *sched_cache_unreserve(struct sched_cache *c, struct sched_pod *p)
{
    struct sched_node *n = p->nominated ? p->node : NULL;
    if (n)
        sched_node_remove_pod(c, p);
    return n && n->present ? n : NULL;
}

void sched_cache_forget_counted(struct sched_cache *c, struct sched_pod *p)
{
    sched_node_remove_pod(c, p);
}

void sched_cache_forget(struct sched_cache *c, struct sched_pod *p)
{
    if (p->assumed)
        sched_node_remove_pod(c, p);
}

void sched_cache_free(struct sched_cache *c)
{
    if (!c)
        return;
    size_t it = 0;
    void *v;
    while (umap_next(&c->pods, &it, NULL, &v))
        pod_destroy(v);
    it = 0;
    while (umap_next(&c->nodes, &it, NULL, &v))
        node_destroy(v);
    it = 0;
    while (umap_next(&c->owners, &it, NULL, &v)) {
        struct sched_owner *o = v;
        free(o->zone_counts);
        free(o);
    }
    for (unsigned i = 0; i < c->n_zones; i++)
        free(c->zones[i]);
    free(c->zones);
    free(c->list);
    free(c->feasible);
    umap_free(&c->pods);
    umap_free(&c->nodes);
    umap_free(&c->owners);
    sched_index_free(c);
    free(c);
}
