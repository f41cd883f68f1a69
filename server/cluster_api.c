/* cluster_api.c — the cluster's own endpoints, on every server:
 *   GET    /cluster/status             this member's view (role, term, leader,
 *                                      commit/applied index, members)
 *   GET    /cluster/digest             a digest of the replica's objects, for
 *                                      comparing replicas (tests, chaos)
 *   POST   /cluster/members            {"id","address","api"}: add a server
 *                                      (spare, caught up, then voter)
 *   POST   /cluster/members/{id}/role  {"role":"voter|standby|spare"}
 *   DELETE /cluster/members/{id}       remove a server (the leader removing
 *                                      itself hands leadership over first)
 *   POST   /cluster/transfer           {"id":N}: move leadership (0: any)
 * Changes run on the leader; a follower forwards them there. Each member's API
 * URL is kept in replicated records (MEMBERS_RESOURCE) so that every server,
 * also one that joined later, can find the leader's API.
 * The housekeeper (on the leader, once a second) records those URLs and
 * creates the namespaces a Kubernetes cluster starts with (default,
 * kube-system, kube-public, kube-node-lease) if they are missing. On every
 * server it also probes the other members' GET /readyz (500 ms timeout), so
 * that /cluster/status says which members answer ("reachable"): the
 * `kubernetes` Service's endpoints leave out a member that has not
 * answered for MEMBER_DOWN_MS, as Kubernetes drops an API server whose
 * endpoint lease expired. Probing on followers too means a new leader
 * already knows. The probes are HTTP, not Raft's own heartbeats: a member
 * whose Raft runs but whose API does not serve is no endpoint. */
#include <raft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kube/kube.h"
#include "codec/codec.h"
#include "httpc/httpc.h"
#include "server/internal.h"

#define PROBE_TIMEOUT_MS 500

/* Per member: when it started failing its probes (0: it answers). */
struct member_probes {
    pthread_mutex_t mu;
    unsigned n;
    struct {
        uint64_t id;
        uint64_t down_since_ms;
    } m[CLUSTER_MAX_MEMBERS];
};

static const char *role_name(int role)
{
    return role == RAFT_VOTER ? "voter" : role == RAFT_STANDBY ? "standby" : "spare";
}

static const char *state_name(int state)
{
    switch (state) {
    case RAFT_LEADER: return "leader";
    case RAFT_FOLLOWER: return "follower";
    case RAFT_CANDIDATE: return "candidate";
    default: return "unavailable";
    }
}

static enum MHD_Result handle_status(struct request *rq)
{
    struct server *s = rq->srv;
    struct cluster_info in;
    cluster_info(s->cluster, &in);
    json_t *members = json_array();
    const char *my_role = "spare";
    for (unsigned i = 0; i < in.n_members; i++) {
        char api[160] = "";
        server_member_api(s, in.members[i].id, api, sizeof api);
        json_array_append_new(members,
                              json_pack("{s:I, s:s, s:s, s:s, s:b}", "id",
                                        (json_int_t)in.members[i].id, "address",
                                        in.members[i].address, "api", api, "role",
                                        role_name(in.members[i].role), "reachable",
                                        server_member_reachable(s, in.members[i].id)));
        if (in.members[i].id == s->cfg.id)
            my_role = role_name(in.members[i].role);
    }
    char leader_api[160] = "";
    if (in.leader_id)
        server_member_api(s, in.leader_id, leader_api, sizeof leader_api);
    const char *role = state_name(in.state);
    if (in.state == RAFT_FOLLOWER && strcmp(my_role, "voter") != 0)
        role = my_role;
    json_t *v = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:o}", "id",
                          (json_int_t)s->cfg.id, "role", role, "member_role", my_role, "term",
                          (json_int_t)in.term, "leader_id", (json_int_t)in.leader_id,
                          "leader_api", leader_api, "commit_index", (json_int_t)in.commit_index,
                          "applied_index", (json_int_t)store_applied_index(s->store),
                          "last_index", (json_int_t)in.last_index, "revision",
                          (json_int_t)store_revision(s->store), "members", members);
    return reply_json(rq, 200, v);
}

static enum MHD_Result handle_digest(struct request *rq)
{
    struct store_read r;
    if (store_read_begin(rq->srv->store, &r) != 0)
        return reply_status(rq, 500, "InternalError", "cannot read the store");
    uint64_t n = 0, d = store_digest(&r, &n);
    char hex[20];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)d);
    json_t *v = json_pack("{s:I, s:I, s:I, s:s, s:I}", "id", (json_int_t)rq->srv->cfg.id,
                          "applied", (json_int_t)r.applied, "revision", (json_int_t)r.revision,
                          "digest", hex, "objects", (json_int_t)n);
    store_read_end(&r);
    return reply_json(rq, 200, v);
}

/* Records a member's addresses in the replicated members records. */
static int members_put(struct server *s, uint64_t id, const char *address, const char *api)
{
    char name[24];
    snprintf(name, sizeof name, "%llu", (unsigned long long)id);
    json_t *rec = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "address", address, "api",
                            api);
    struct store_cmd cmd = {.op = STORE_OP_PUT, .resource = MEMBERS_RESOURCE, .ns = "",
                            .name = name};
    struct cluster_result cr;
    server_submit_object(s, &cmd, rec, &cr);
    json_decref(rec);
    return cr.code == CLUSTER_OK && cr.res.code == STORE_OK ? 0 : -1;
}

static enum MHD_Result reply_change(struct request *rq, const struct cluster_result *cr)
{
    if (cr->code == CLUSTER_OK)
        return reply_json(rq, 200, kube_status(200, "", "done"));
    if (cr->code == CLUSTER_ERROR)
        return reply_status(rq, 409, "Conflict", "%s", cr->message);
    if (cr->code == CLUSTER_NOT_LEADER)
        return reply_status(rq, 503, "ServiceUnavailable", "not the leader");
    return reply_status(rq, 504, "Timeout", "%s", cluster_code_name(cr->code));
}

static json_t *body_json(struct request *rq)
{
    json_t *v = codec_json_load(rq->body.data ? rq->body.data : "", rq->body.len, 0, NULL);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

static enum MHD_Result handle_add(struct request *rq)
{
    json_t *b = body_json(rq);
    json_int_t id = json_integer_value(json_object_get(b, "id"));
    const char *addr = json_string_value(json_object_get(b, "address"));
    const char *api = json_string_value(json_object_get(b, "api"));
    if (!b || id <= 0 || !addr || !*addr || !api || !*api) {
        json_decref(b);
        return reply_status(rq, 400, "BadRequest",
                            "expected {\"id\": N > 0, \"address\": \"host:port\", \"api\": "
                            "\"http://host:port\"}");
    }
    struct server *s = rq->srv;
    if (members_put(s, (uint64_t)id, addr, api) != 0) {
        json_decref(b);
        return reply_status(rq, 503, "ServiceUnavailable", "cannot record the member");
    }
    struct cluster_result cr;
    cluster_member_add(s->cluster, (uint64_t)id, addr, 60000, &cr);
    json_decref(b);
    return reply_change(rq, &cr);
}

static int parse_role(const char *s)
{
    if (!s)
        return -1;
    if (strcmp(s, "voter") == 0)
        return RAFT_VOTER;
    if (strcmp(s, "standby") == 0)
        return RAFT_STANDBY;
    if (strcmp(s, "spare") == 0)
        return RAFT_SPARE;
    return -1;
}

static enum MHD_Result handle_member(struct request *rq, uint64_t id, const char *tail)
{
    struct cluster_result cr;
    if (strcmp(rq->method, "DELETE") == 0 && !*tail) {
        /* The leader asked to remove itself hands leadership over first and
         * lets the new leader remove it: the cluster then has a leader all
         * along, instead of an election timeout without one after the
         * removed leader steps down. If the transfer fails, it removes
         * itself. */
        if (id == rq->srv->cfg.id) {
            cluster_transfer(rq->srv->cluster, 0, 10000, &cr);
            bool leading = true;
            enum MHD_Result ret = MHD_NO;
            if (cr.code == CLUSTER_OK && !cluster_is_leader(rq->srv->cluster))
                ret = server_forward_json(rq->srv, rq->method, rq->url, rq, &leading);
            if (!leading)
                return ret;
        }
        cluster_member_remove(rq->srv->cluster, id, 30000, &cr);
        return reply_change(rq, &cr);
    }
    if (strcmp(rq->method, "POST") == 0 && strcmp(tail, "/role") == 0) {
        json_t *b = body_json(rq);
        int role = parse_role(json_string_value(json_object_get(b, "role")));
        json_decref(b);
        if (role < 0)
            return reply_status(rq, 400, "BadRequest",
                                "expected {\"role\": \"voter\"|\"standby\"|\"spare\"}");
        cluster_member_assign(rq->srv->cluster, id, role, 60000, &cr);
        return reply_change(rq, &cr);
    }
    return reply_status(rq, 405, "MethodNotAllowed", "unsupported method");
}

static enum MHD_Result handle_transfer(struct request *rq)
{
    json_t *b = body_json(rq);
    json_int_t id = b ? json_integer_value(json_object_get(b, "id")) : 0;
    json_decref(b);
    struct cluster_result cr;
    cluster_transfer(rq->srv->cluster, (uint64_t)(id < 0 ? 0 : id), 10000, &cr);
    return reply_change(rq, &cr);
}

enum MHD_Result cluster_api_handle(struct request *rq)
{
    struct server *s = rq->srv;
    const char *url = rq->url;
    bool get = strcmp(rq->method, "GET") == 0;
    if (strcmp(url, "/cluster/status") == 0 && get)
        return handle_status(rq);
    if (strcmp(url, "/cluster/digest") == 0 && get)
        return handle_digest(rq);
    bool change = strncmp(url, "/cluster/members", 16) == 0 || strcmp(url, "/cluster/transfer") == 0;
    if (!change || get)
        return reply_status(rq, 404, "NotFound", "no such cluster endpoint");
    if (!cluster_is_leader(s->cluster)) {
        bool leading;
        enum MHD_Result ret = server_forward_json(s, rq->method, url, rq, &leading);
        if (!leading)
            return ret;
    }
    if (strcmp(url, "/cluster/transfer") == 0 && strcmp(rq->method, "POST") == 0)
        return handle_transfer(rq);
    if (strcmp(url, "/cluster/members") == 0 && strcmp(rq->method, "POST") == 0)
        return handle_add(rq);
    if (url[16] == '/') {
        char *end;
        unsigned long long id = strtoull(url + 17, &end, 10);
        if (id > 0 && end != url + 17)
            return handle_member(rq, id, end);
    }
    return reply_status(rq, 404, "NotFound", "no such cluster endpoint");
}

/* The namespaces every Kubernetes cluster starts with. */
static const char *const system_namespaces[] = {"default", "kube-system", "kube-public",
                                                "kube-node-lease"};

static void namespace_ensure(struct server *s, const char *name)
{
    struct store_read r;
    struct store_obj o;
    if (store_read_begin(s->store, &r) != 0)
        return;
    bool have = store_get(&r, "namespaces", "", name, &o) == 0;
    store_read_end(&r);
    if (have)
        return;
    char uid[40], now[32];
    util_uuid4(uid, sizeof uid);
    util_time_rfc3339(now, sizeof now);
    json_t *ns = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:i, s:{s:s}}, s:{s:[s]}, s:{s:s}}",
                           "apiVersion", "v1", "kind", "Namespace", "metadata", "name", name,
                           "uid", uid, "creationTimestamp", now, "generation", 1, "labels",
                           "kubernetes.io/metadata.name", name, "spec", "finalizers",
                           "kubernetes", "status", "phase", "Active");
    /* CREATE, not PUT: if a user or an earlier leader made it, it stays. */
    struct store_cmd cmd = {.op = STORE_OP_CREATE, .resource = "namespaces", .ns = "",
                            .name = name, .uid = uid};
    struct cluster_result cr;
    server_submit_object(s, &cmd, ns, &cr);
    json_decref(ns);
}

/* The probe slot of member id, made if missing; NULL if all are taken.
 * Under p->mu. */
static uint64_t *probe_slot(struct member_probes *p, uint64_t id)
{
    for (unsigned i = 0; i < p->n; i++)
        if (p->m[i].id == id)
            return &p->m[i].down_since_ms;
    if (p->n == CLUSTER_MAX_MEMBERS)
        return NULL;
    p->m[p->n].id = id;
    p->m[p->n].down_since_ms = 0;
    return &p->m[p->n++].down_since_ms;
}

bool server_member_reachable(struct server *s, uint64_t id)
{
    if (id == s->cfg.id || !s->probes)
        return true;
    pthread_mutex_lock(&s->probes->mu);
    uint64_t *down = probe_slot(s->probes, id);
    bool up = !down || !*down || util_now_ms() - *down < MEMBER_DOWN_MS;
    pthread_mutex_unlock(&s->probes->mu);
    return up;
}

static bool member_answers(struct server *s, uint64_t id)
{
    char url[160];
    if (!server_member_api(s, id, url, sizeof url))
        return false;
    struct httpc *c = httpc_new(url);
    if (!c)
        return false;
    struct httpc_response resp;
    bool ok = httpc_request(c, "GET", "/readyz", NULL, NULL, 0, PROBE_TIMEOUT_MS, &resp) == 0;
    if (ok) {
        ok = resp.status == 200;
        httpc_response_free(&resp);
    }
    httpc_free(c);
    return ok;
}

/* One round: every other member (voter, standby or spare) is asked once. */
static void probe_members(struct server *s)
{
    struct cluster_info in;
    cluster_info(s->cluster, &in);
    for (unsigned i = 0; i < in.n_members && !s->stopping; i++) {
        uint64_t id = in.members[i].id;
        if (id == s->cfg.id)
            continue;
        bool up = member_answers(s, id);
        pthread_mutex_lock(&s->probes->mu);
        uint64_t *down = probe_slot(s->probes, id);
        if (down && up)
            *down = 0;
        else if (down && !*down)
            *down = util_now_ms();
        pthread_mutex_unlock(&s->probes->mu);
    }
}

void server_probes_new(struct server *s)
{
    s->probes = xcalloc(1, sizeof *s->probes);
    pthread_mutex_init(&s->probes->mu, NULL);
}

void server_probes_free(struct server *s)
{
    if (!s->probes)
        return;
    pthread_mutex_destroy(&s->probes->mu);
    free(s->probes);
    s->probes = NULL;
}

void *server_housekeeper(void *arg)
{
    struct server *s = arg;
    while (!s->stopping) {
        sleep(1);
        if (!s->stopping)
            probe_members(s);
        if (s->stopping || !cluster_is_leader(s->cluster))
            continue;
        for (unsigned i = 0; i < s->cfg.n_peers && !s->stopping; i++) {
            const struct cluster_peer *p = &s->cfg.peers[i];
            char name[24];
            snprintf(name, sizeof name, "%llu", (unsigned long long)p->id);
            struct store_read r;
            struct store_obj o;
            if (store_read_begin(s->store, &r) != 0)
                continue;
            bool have = store_get(&r, MEMBERS_RESOURCE, "", name, &o) == 0;
            store_read_end(&r);
            if (!have)
                members_put(s, p->id, p->raft_addr, p->api_url);
        }
        for (size_t i = 0; i < sizeof system_namespaces / sizeof system_namespaces[0]; i++)
            if (!s->stopping && cluster_is_leader(s->cluster))
                namespace_ensure(s, system_namespaces[i]);
    }
    return NULL;
}
