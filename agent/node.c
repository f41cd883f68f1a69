/* node.c — the hollow nodes: a Node object each, registered, kept alive by
 * a coordination.k8s.io Lease, and a heartbeat in its status.
 *
 * Node i is PREFIX followed by i in cfg.name_width digits (hollow-0000 ...
 * hollow-4999), so names sort by index and a pod's spec.nodeName maps back
 * to its node by parsing, with no lookup table (agent_node_index). Its
 * InternalIP is 10.0.0.0/9 + i + 1.
 *
 * Each node has two embedded jobs (jobs.c):
 *  - reg: AGENT_JOB_REGISTER until the node is registered — POST the Node
 *    with its status (capacity, allocatable, conditions, nodeInfo,
 *    addresses, and the kubelet endpoint's address as the annotation
 *    bosun.dev/kubelet-endpoint); on 409 AlreadyExists it takes the node over: a merge patch
 *    of its labels and taints, then of its status — and then becomes
 *    AGENT_JOB_HEARTBEAT: the conditions rewritten with a new
 *    lastHeartbeatTime every 5 minutes, as the kubelet does when nothing
 *    changes (a 404 means someone deleted the node: register it again);
 *  - lease: the Lease kube-node-lease/NAME (holderIdentity and owner the
 *    node), written with PUT every leaseDurationSeconds/4 (a 404 creates it).
 * Both are periodic with a fixed phase per node: node i's renewals fall at
 * start + i * period / N + k * period, so N nodes spread their writes evenly
 * over the period instead of all at once; a late or failed write does not
 * move the phase. A failed write is retried with backoff, never later than
 * the next regular slot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "util/util.h"

#define LEASE_PATH "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"

void agent_nodes_init(struct agent *ag)
{
    int n = ag->cfg.hollow;
    pthread_mutex_init(&ag->nodes_mu, NULL);
    ag->nodes = xcalloc((size_t)n, sizeof *ag->nodes);
    uint64_t lease_period = (uint64_t)ag->cfg.lease_seconds * 1000 / 4;
    for (int i = 0; i < n; i++) {
        struct agent_node *nd = &ag->nodes[i];
        nd->reg.kind = AGENT_JOB_REGISTER;
        nd->lease.kind = AGENT_JOB_LEASE;
        snprintf(nd->name, sizeof nd->name, "%s%0*d", ag->cfg.prefix, ag->cfg.name_width, i);
        agent_ip_format((10u << 24) + (uint32_t)i + 1, nd->ip, sizeof nd->ip);
        nd->phase_ms = (uint64_t)i * lease_period / (uint64_t)n;
    }
}

void agent_nodes_free(struct agent *ag)
{
    pthread_mutex_destroy(&ag->nodes_mu);
    free(ag->nodes);
    ag->nodes = NULL;
}

void agent_nodes_start(struct agent *ag)
{
    for (int i = 0; i < ag->cfg.hollow; i++)
        agent_sched_now(ag, &ag->nodes[i].reg);
}

int agent_node_index(const struct agent *ag, const char *name)
{
    size_t pl = strlen(ag->cfg.prefix);
    if (strncmp(name, ag->cfg.prefix, pl) != 0)
        return -1;
    const char *d = name + pl;
    int v = 0, w = 0;
    for (; d[w]; w++) {
        if (d[w] < '0' || d[w] > '9' || w >= ag->cfg.name_width)
            return -1;
        v = v * 10 + (d[w] - '0');
    }
    return w == ag->cfg.name_width && v < ag->cfg.hollow ? v : -1;
}

static struct agent_node *node_of(struct agent *ag, struct agent_job *j, size_t offset)
{
    return (struct agent_node *)((char *)j - offset);
}

/* The next slot of a periodic job with this phase, after now. */
static uint64_t slot_after(const struct agent *ag, uint64_t phase, uint64_t period, uint64_t now)
{
    uint64_t due = ag->start_ms + phase;
    if (due <= now)
        due += ((now - due) / period + 1) * period;
    return due;
}

static uint64_t heartbeat_phase(const struct agent *ag, int i)
{
    return (uint64_t)i * AGENT_HEARTBEAT_MS / (uint64_t)ag->cfg.hollow;
}

/* A failed periodic write: backoff, but no later than the next slot. */
static uint64_t retry_at(struct agent_job *j, uint64_t next_slot)
{
    uint64_t retry = util_now_ms() + agent_backoff_ms(++j->attempts);
    return retry < next_slot ? retry : next_slot;
}

/* ---- the objects ---- */

static json_t *node_conditions(struct agent *ag, const char *heartbeat)
{
    static const struct {
        const char *type, *status, *reason, *message;
    } conds[] = {
        {"MemoryPressure", "False", "KubeletHasSufficientMemory",
         "kubelet has sufficient memory available"},
        {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
        {"PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"},
        {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
    };
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                                           conds[i].type, "status", conds[i].status,
                                           "lastHeartbeatTime", heartbeat, "lastTransitionTime",
                                           ag->started_at, "reason", conds[i].reason, "message",
                                           conds[i].message));
    return a;
}

static json_t *node_resources(const struct agent *ag)
{
    char pods[24];
    snprintf(pods, sizeof pods, "%ld", ag->cfg.pods);
    return json_pack("{s:s, s:s, s:s, s:s}", "cpu", ag->cfg.cpu, "memory", ag->cfg.memory, "pods",
                     pods, "ephemeral-storage", "100Gi");
}

static json_t *node_status(struct agent *ag, const struct agent_node *nd, const char *now)
{
    char machine[33], boot[33];
    agent_fake_id("machine", nd->name, machine, sizeof machine);
    agent_fake_id(ag->started_at, nd->name, boot, sizeof boot);
    json_t *info = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "machineID", machine, "systemUUID",
        machine, "bootID", boot, "kernelVersion", "6.1.0-hollow", "osImage",
        "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion", "hollow://1.0.0",
        "kubeletVersion", "v1.32.0-hollow", "kubeProxyVersion", "v1.32.0-hollow",
        "operatingSystem", "linux", "architecture", "amd64");
    return json_pack("{s:o, s:o, s:o, s:[{s:s, s:s}, {s:s, s:s}], s:{s:{s:i}}, s:o}", "capacity",
                     node_resources(ag), "allocatable", node_resources(ag), "conditions",
                     node_conditions(ag, now), "addresses", "type", "InternalIP", "address",
                     nd->ip, "type", "Hostname", "address", nd->name, "daemonEndpoints",
                     "kubeletEndpoint", "Port", ag->kubelet_port, "nodeInfo", info);
}

static json_t *node_labels(struct agent *ag, int i)
{
    json_t *l = json_deep_copy(ag->cfg.labels);
    json_object_set_new(l, "kubernetes.io/hostname", json_string(ag->nodes[i].name));
    if (ag->cfg.zones > 0) {
        char zone[32];
        snprintf(zone, sizeof zone, "zone-%d", i % ag->cfg.zones);
        json_object_set_new(l, "topology.kubernetes.io/zone", json_string(zone));
    }
    return l;
}

/* Where the API servers reach our kubelet endpoint (kubelet.c). */
static json_t *node_annotations(struct agent *ag)
{
    char ep[96];
    snprintf(ep, sizeof ep, "%s:%d", ag->cfg.kubelet_address, ag->kubelet_port);
    return json_pack("{s:s}", AGENT_ENDPOINT_ANNOTATION, ep);
}

static json_t *node_object(struct agent *ag, int i, const char *now)
{
    json_t *spec = json_object();
    if (json_array_size(ag->cfg.taints))
        json_object_set_new(spec, "taints", json_deep_copy(ag->cfg.taints));
    return json_pack("{s:s, s:s, s:{s:s, s:o, s:o}, s:o, s:o}", "apiVersion", "v1", "kind",
                     "Node", "metadata", "name", ag->nodes[i].name, "labels", node_labels(ag, i),
                     "annotations", node_annotations(ag), "spec", spec, "status",
                     node_status(ag, &ag->nodes[i], now));
}

/* The node's uid is written by its registration and read by its Lease
 * renewals, which may run at once on two workers after a re-registration. */
static void node_uid_set(struct agent *ag, struct agent_node *nd, json_t *obj)
{
    const char *uid = json_string_value(json_object_get(json_object_get(obj, "metadata"), "uid"));
    pthread_mutex_lock(&ag->nodes_mu);
    snprintf(nd->uid, sizeof nd->uid, "%s", uid ? uid : "");
    pthread_mutex_unlock(&ag->nodes_mu);
}

static void node_uid_get(struct agent *ag, const struct agent_node *nd, char *out, size_t len)
{
    pthread_mutex_lock(&ag->nodes_mu);
    snprintf(out, len, "%s", nd->uid);
    pthread_mutex_unlock(&ag->nodes_mu);
}

static json_t *lease_object(struct agent *ag, const struct agent_node *nd)
{
    char renew[40], uid[48];
    agent_time_micro(agent_wall_ms(), renew, sizeof renew);
    node_uid_get(ag, nd, uid, sizeof uid);
    json_t *md = json_pack("{s:s, s:s}", "name", nd->name, "namespace", "kube-node-lease");
    if (uid[0])
        json_object_set_new(md, "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s}]", "apiVersion", "v1", "kind",
                                      "Node", "name", nd->name, "uid", uid));
    return json_pack("{s:s, s:s, s:o, s:{s:s, s:i, s:s}}", "apiVersion", "coordination.k8s.io/v1",
                     "kind", "Lease", "metadata", md, "spec", "holderIdentity", nd->name,
                     "leaseDurationSeconds", ag->cfg.lease_seconds, "renewTime", renew);
}

/* ---- the writes ---- */

static const char *status_reason(json_t *st)
{
    const char *r = json_string_value(json_object_get(st, "message"));
    return r ? r : "(no message)";
}

/* Writes the node's Lease: PUT, or POST when it does not exist yet (tried
 * first when create_first). True when written. */
static bool lease_write(struct agent *ag, struct agent_conn *k, struct agent_node *nd,
                        bool create_first)
{
    char path[512];
    snprintf(path, sizeof path, LEASE_PATH "/%s", nd->name);
    json_t *lease = lease_object(ag, nd), *out = NULL;
    int st;
    if (create_first) {
        st = agent_conn_write(k, "POST", LEASE_PATH, "application/json", lease, &out);
        if (st == 409) {
            json_decref(out);
            st = agent_conn_write(k, "PUT", path, "application/json", lease, &out);
        }
    } else {
        st = agent_conn_write(k, "PUT", path, "application/json", lease, &out);
        if (st == 404) {
            json_decref(out);
            st = agent_conn_write(k, "POST", LEASE_PATH, "application/json", lease, &out);
        }
    }
    json_decref(lease);
    bool ok = st == 200 || st == 201;
    if (ok)
        atomic_fetch_add(&ag->st.leases, 1);
    else
        agent_error(ag, AGENT_ERR_LEASE, "lease %s: %s", nd->name,
                    st < 0 ? "no server answers" : status_reason(out));
    json_decref(out);
    return ok;
}

/* 409 AlreadyExists: the node is ours now. Its labels and taints become
 * ours, then its status. True when done; else *err gets the answer. */
static bool node_take_over(struct agent *ag, struct agent_conn *k, int i, const char *now,
                           json_t **err)
{
    struct agent_node *nd = &ag->nodes[i];
    char path[512];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", nd->name);
    json_t *taints = json_array_size(ag->cfg.taints) ? json_deep_copy(ag->cfg.taints) : json_null();
    json_t *patch = json_pack("{s:{s:o, s:o}, s:{s:o}}", "metadata", "labels",
                              node_labels(ag, i), "annotations", node_annotations(ag), "spec",
                              "taints", taints);
    json_t *out = NULL;
    int st = agent_conn_json(k, "PATCH", path, "application/merge-patch+json", patch, &out);
    json_decref(patch);
    if (st != 200) {
        *err = out;
        return false;
    }
    node_uid_set(ag, nd, out);
    json_decref(out);
    strncat(path, "/status", sizeof path - strlen(path) - 1);
    patch = json_pack("{s:o}", "status", node_status(ag, nd, now));
    st = agent_conn_json(k, "PATCH", path, "application/merge-patch+json", patch, &out);
    json_decref(patch);
    if (st != 200) {
        *err = out;
        return false;
    }
    json_decref(out);
    return true;
}

static void node_registered(struct agent *ag)
{
    long n = atomic_fetch_add(&ag->st.registered, 1) + 1;
    if (n == ag->cfg.hollow) {
        uint64_t now = util_now_ms();
        atomic_store(&ag->all_registered_ms, now);
        LOG_INFO("all %d nodes registered in %.2f s", ag->cfg.hollow,
                 (double)(now - ag->start_ms) / 1000.0);
    }
}

uint64_t agent_node_register(struct agent *ag, struct agent_conn *k, struct agent_job *j)
{
    struct agent_node *nd = node_of(ag, j, offsetof(struct agent_node, reg));
    int i = (int)(nd - ag->nodes);
    char now[32];
    agent_time_rfc3339(agent_wall_ms(), now, sizeof now);
    json_t *obj = node_object(ag, i, now), *out = NULL;
    int st = agent_conn_json(k, "POST", "/api/v1/nodes", "application/json", obj, &out);
    json_decref(obj);
    bool ok = st == 201;
    if (ok) {
        node_uid_set(ag, nd, out);
    } else if (st == 409) {
        json_decref(out);
        out = NULL;
        ok = node_take_over(ag, k, i, now, &out);
    }
    if (!ok) {
        agent_error(ag, AGENT_ERR_REGISTER, "node %s: %s", nd->name,
                    st < 0 ? "no server answers" : status_reason(out));
        json_decref(out);
        return util_now_ms() + agent_backoff_ms(++j->attempts);
    }
    json_decref(out);
    j->attempts = 0;
    uint64_t period = (uint64_t)ag->cfg.lease_seconds * 1000 / 4;
    atomic_store(&nd->lease_exists, lease_write(ag, k, nd, true));
    if (!nd->registered) {
        nd->registered = true;
        node_registered(ag);
        agent_sched_at(ag, &nd->lease, slot_after(ag, nd->phase_ms, period, util_now_ms()));
    }
    j->kind = AGENT_JOB_HEARTBEAT;
    /* The status was just written: the first heartbeat is at least half a
     * heartbeat period away. */
    return slot_after(ag, heartbeat_phase(ag, i), AGENT_HEARTBEAT_MS,
                      util_now_ms() + AGENT_HEARTBEAT_MS / 2);
}

uint64_t agent_node_lease(struct agent *ag, struct agent_conn *k, struct agent_job *j)
{
    struct agent_node *nd = node_of(ag, j, offsetof(struct agent_node, lease));
    uint64_t period = (uint64_t)ag->cfg.lease_seconds * 1000 / 4;
    uint64_t next = slot_after(ag, nd->phase_ms, period, util_now_ms());
    if (!lease_write(ag, k, nd, !atomic_load(&nd->lease_exists)))
        return retry_at(j, next);
    atomic_store(&nd->lease_exists, true);
    j->attempts = 0;
    return next;
}

uint64_t agent_node_heartbeat(struct agent *ag, struct agent_conn *k, struct agent_job *j)
{
    struct agent_node *nd = node_of(ag, j, offsetof(struct agent_node, reg));
    uint64_t next = slot_after(ag, heartbeat_phase(ag, (int)(nd - ag->nodes)), AGENT_HEARTBEAT_MS,
                               util_now_ms());
    char path[512], now[32];
    snprintf(path, sizeof path, "/api/v1/nodes/%s/status", nd->name);
    agent_time_rfc3339(agent_wall_ms(), now, sizeof now);
    json_t *patch = json_pack("{s:{s:o}}", "status", "conditions", node_conditions(ag, now));
    json_t *out = NULL;
    int st = agent_conn_write(k, "PATCH", path, "application/merge-patch+json", patch, &out);
    json_decref(patch);
    if (st == 404) { /* deleted behind our back: register it again */
        json_decref(out);
        j->kind = AGENT_JOB_REGISTER;
        j->attempts = 0;
        return util_now_ms();
    }
    if (st != 200) {
        agent_error(ag, AGENT_ERR_HEARTBEAT, "node %s heartbeat: %s", nd->name,
                    st < 0 ? "no server answers" : status_reason(out));
        json_decref(out);
        return retry_at(j, next);
    }
    json_decref(out);
    atomic_fetch_add(&ag->st.heartbeats, 1);
    j->attempts = 0;
    return next;
}
