/* bind.c — the writes of a binding, encoded without building them in
 * jansson: the bound pod, edited from its stored bytes, and its Event.
 *
 * pods/binding (kube_pod_bind) changes three things of a pod: it sets
 * spec.nodeName, replaces any PodScheduled condition with PodScheduled=True,
 * and (as every write the scheduler makes) leaves metadata.resourceVersion
 * out. Building that through jansson meant decoding the whole stored pod
 * (its managedFields are two fifths of a small pod's bytes, in many small
 * maps), copying the changed objects and encoding all of it again: a third
 * of the scheduler thread's time in the scheduling benchmark. Here the
 * conditions come from the pod the cache decoded (without managedFields),
 * and codec_msgpack_edit rewrites the three maps on the way while every
 * other byte is copied. The result is byte for byte what
 * codec_json_to_msgpack makes of kube_pod_bind's pod (test_scheduler
 * checks it), so the replicas store what they stored before.
 *
 * The Event that goes with each binding is written straight into msgpack
 * too (util's mp_put_ writer), in the order of the keys json_pack would
 * give it: every field is a string but count, and the strings are names
 * the API validated. */
#include <string.h>

#include "codec/codec.h"
#include "scheduler/sched_internal.h"

int sched_bind_encode(const void *buf, size_t len, json_t *pod, const char *node,
                      const char *now, struct ubuf *out)
{
    json_t *spec = json_object_get(pod, "spec"), *md = json_object_get(pod, "metadata");
    if (json_object_get(md, "deletionTimestamp") || *sched_str(spec, "nodeName"))
        return -1;
    json_t *conds = json_object_get(json_object_get(pod, "status"), "conditions");
    json_t *kept = json_array(), *c, *name = json_string(node);
    size_t i;
    json_array_foreach(conds, i, c) if (strcmp(sched_str(c, "type"), "PodScheduled") != 0)
        json_array_append(kept, c);
    json_array_append_new(kept, json_pack("{s:s, s:s, s:n, s:s}", "type", "PodScheduled",
                                          "status", "True", "lastProbeTime",
                                          "lastTransitionTime", now));
    const struct codec_edit edits[] = {
        {"metadata.resourceVersion", NULL},
        {"spec.nodeName", name},
        {"status.conditions", kept},
    };
    int rc = codec_msgpack_edit(buf, len, edits, sizeof edits / sizeof edits[0], out);
    json_decref(kept);
    json_decref(name);
    return rc;
}

static void put_str(struct ubuf *out, const char *v)
{
    mp_put_str(out, v, strlen(v));
}

/* A key and its string value. */
static void put_kv(struct ubuf *out, const char *k, const char *v)
{
    put_str(out, k);
    put_str(out, v);
}

void sched_event_encode(const struct sched_event *e, struct ubuf *out)
{
    mp_put_map(out, 14);
    put_kv(out, "apiVersion", "v1");
    put_kv(out, "kind", "Event");
    put_str(out, "metadata");
    mp_put_map(out, 4);
    put_kv(out, "name", e->name);
    put_kv(out, "namespace", e->ns);
    put_kv(out, "uid", e->uid);
    put_kv(out, "creationTimestamp", e->now);
    put_str(out, "involvedObject");
    mp_put_map(out, 5);
    put_kv(out, "kind", "Pod");
    put_kv(out, "apiVersion", "v1");
    put_kv(out, "namespace", e->ns);
    put_kv(out, "name", e->pod);
    put_kv(out, "uid", e->pod_uid);
    put_kv(out, "reason", e->reason);
    put_kv(out, "message", e->message);
    put_kv(out, "type", e->type);
    put_str(out, "source");
    mp_put_map(out, 1);
    put_kv(out, "component", SCHED_NAME);
    put_kv(out, "firstTimestamp", e->now);
    put_kv(out, "lastTimestamp", e->now);
    put_str(out, "count");
    mp_put_int(out, 1);
    put_kv(out, "reportingComponent", SCHED_NAME);
    put_kv(out, "reportingInstance", SCHED_NAME);
    put_kv(out, "action", e->action);
}
