/* forward.c — writes and linearizable reads from any server.
 *
 * On the leader a write goes straight to the proposer (cluster_propose). On a
 * follower it is forwarded, already encoded, to the leader's
 * POST /internal/propose; the leader answers with the result and the entry's
 * index, and the follower answers its client only once it has applied that
 * index itself, so a client sees its own writes on whichever server it asks.
 * A read without resourceVersion asks the leader for a read index (a barrier
 * it committed after the read arrived: GET /internal/readindex) and waits
 * until this replica has applied it.
 *
 * Outcomes: "not leader" (nothing was appended) is retried against the new
 * leader until the request's deadline; a connection that fails after the
 * request was sent is an unknown outcome (504), never "not done". While no
 * leader is known, requests wait up to two election timeouts, then get 503.
 * Connections to the leader are kept in a small pool. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/codec.h"
#include "httpc/httpc.h"
#include "server/internal.h"

#define POOL_MAX 64

struct pooled {
    char url[160];
    struct httpc *c;
};

struct fwd_pool {
    pthread_mutex_t mu;
    struct pooled idle[POOL_MAX];
    unsigned n;
};

struct fwd_pool *fwd_pool_new(void)
{
    struct fwd_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

void fwd_pool_free(struct fwd_pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n; i++)
        httpc_free(p->idle[i].c);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static struct httpc *pool_get(struct fwd_pool *p, const char *url)
{
    pthread_mutex_lock(&p->mu);
    for (unsigned i = p->n; i-- > 0;) {
        if (strcmp(p->idle[i].url, url) == 0) {
            struct httpc *c = p->idle[i].c;
            p->idle[i] = p->idle[--p->n];
            pthread_mutex_unlock(&p->mu);
            return c;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return httpc_new(url);
}

static void pool_put(struct fwd_pool *p, const char *url, struct httpc *c)
{
    pthread_mutex_lock(&p->mu);
    if (p->n < POOL_MAX) {
        snprintf(p->idle[p->n].url, sizeof p->idle[p->n].url, "%s", url);
        p->idle[p->n++].c = c;
        c = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (c)
        httpc_free(c);
}

bool server_member_api(struct server *s, uint64_t id, char *url, size_t len)
{
    for (unsigned i = 0; i < s->cfg.n_peers; i++)
        if (s->cfg.peers[i].id == id) {
            snprintf(url, len, "%s", s->cfg.peers[i].api_url);
            return true;
        }
    char name[24];
    snprintf(name, sizeof name, "%llu", (unsigned long long)id);
    struct store_read r;
    struct store_obj o;
    bool found = false;
    if (store_read_begin(s->store, &r) != 0)
        return false;
    if (store_get(&r, MEMBERS_RESOURCE, "", name, &o) == 0) {
        json_t *v = codec_msgpack_to_json(o.obj, o.obj_len);
        const char *api = json_string_value(json_object_get(v, "api"));
        if (api) {
            snprintf(url, len, "%s", api);
            found = true;
        }
        json_decref(v);
    }
    store_read_end(&r);
    return found;
}

static int remaining_ms(uint64_t deadline)
{
    uint64_t now = util_now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

/* One request to the leader's internal API; the JSON answer in *out. Returns
 * 0, -1 if the request may have been delivered, -2 if it surely was not
 * (the leader's address is unknown). */
static int leader_call(struct server *s, uint64_t leader, const char *method, const char *path,
                       const void *body, size_t len, int timeout_ms, json_t **out)
{
    char url[160];
    if (!server_member_api(s, leader, url, sizeof url))
        return -2;
    struct httpc *c = pool_get(s->pool, url);
    if (!c)
        return -2;
    static const char *const hdrs[] = {"Content-Type: application/x-msgpack", NULL};
    struct httpc_response resp;
    if (httpc_request(c, method, path, hdrs, body, len, timeout_ms, &resp) != 0) {
        /* httpc may have retried on a fresh connection, so even "refused"
         * can follow a first attempt that was delivered: unknown. */
        httpc_free(c);
        return -1;
    }
    pool_put(s->pool, url, c);
    *out = resp.status == 200 ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    httpc_response_free(&resp);
    return *out ? 0 : -1;
}

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

static uint64_t no_leader_wait_ms(struct server *s) { return 2ull * s->cfg.election_ms + 500; }

void server_submit(struct server *s, const void *cmd, size_t len, struct cluster_result *out)
{
    uint64_t deadline = util_now_ms() + (uint64_t)s->cfg.request_timeout_ms;
    uint64_t leaderless_since = 0;
    memset(out, 0, sizeof *out);
    for (;;) {
        int left = remaining_ms(deadline);
        if (left == 0) {
            out->code = CLUSTER_TIMEOUT;
            return;
        }
        struct cluster_info in;
        cluster_info(s->cluster, &in);
        if (in.leader_id == s->cfg.id) {
            cluster_propose(s->cluster, cmd, len, left, out);
            if (out->code != CLUSTER_NOT_LEADER)
                return;
        } else if (in.leader_id != 0) {
            leaderless_since = 0;
            json_t *ans = NULL;
            int rc = leader_call(s, in.leader_id, "POST", "/internal/propose", cmd, len, left,
                                 &ans);
            if (rc == -1) {
                out->code = CLUSTER_UNKNOWN;
                return;
            }
            if (rc == 0) {
                out->code = (int)json_integer_value(json_object_get(ans, "code"));
                out->res.code = (int)json_integer_value(json_object_get(ans, "store"));
                out->res.rev = (uint64_t)json_integer_value(json_object_get(ans, "rev"));
                out->index = (uint64_t)json_integer_value(json_object_get(ans, "index"));
                json_decref(ans);
                if (out->code == CLUSTER_OK) {
                    if (!store_wait_index(s->store, out->index, remaining_ms(deadline)))
                        out->code = CLUSTER_TIMEOUT;
                    return;
                }
                if (out->code != CLUSTER_NOT_LEADER)
                    return;
            }
        }
        /* No leader known, or it just moved: wait for the next one. */
        if (!leaderless_since)
            leaderless_since = util_now_ms();
        if (util_now_ms() - leaderless_since > no_leader_wait_ms(s)) {
            out->code = CLUSTER_NOT_LEADER;
            return;
        }
        sleep_ms(20);
    }
}

int server_read_barrier(struct server *s, char *msg, size_t msglen)
{
    uint64_t deadline = util_now_ms() + (uint64_t)s->cfg.request_timeout_ms;
    uint64_t start = util_now_ms();
    for (;;) {
        int left = remaining_ms(deadline);
        if (left == 0)
            break;
        struct cluster_info in;
        cluster_info(s->cluster, &in);
        struct cluster_result cr = {.code = CLUSTER_NOT_LEADER};
        if (in.leader_id == s->cfg.id) {
            cluster_read_index(s->cluster, left, &cr);
        } else if (in.leader_id != 0) {
            json_t *ans = NULL;
            if (leader_call(s, in.leader_id, "GET", "/internal/readindex", NULL, 0, left, &ans) ==
                0) {
                cr.code = (int)json_integer_value(json_object_get(ans, "code"));
                cr.index = (uint64_t)json_integer_value(json_object_get(ans, "index"));
                json_decref(ans);
            }
        }
        if (cr.code == CLUSTER_OK) {
            if (store_wait_index(s->store, cr.index, remaining_ms(deadline)))
                return 0;
            break;
        }
        if (cr.code == CLUSTER_TIMEOUT)
            break;
        if (util_now_ms() - start > no_leader_wait_ms(s)) {
            snprintf(msg, msglen, "no leader is known: the cluster has no quorum or is electing "
                                  "one");
            return 503;
        }
        sleep_ms(20);
    }
    snprintf(msg, msglen, "the read could not be made consistent in time");
    return 504;
}

enum MHD_Result server_forward_json(struct server *s, const char *method, const char *path,
                                    struct request *rq)
{
    struct cluster_info in;
    uint64_t start = util_now_ms();
    for (;;) {
        cluster_info(s->cluster, &in);
        if (in.leader_id && in.leader_id != s->cfg.id)
            break;
        if (util_now_ms() - start > no_leader_wait_ms(s))
            return reply_status(rq, 503, "ServiceUnavailable", "no leader is known");
        sleep_ms(20);
    }
    char url[160];
    if (!server_member_api(s, in.leader_id, url, sizeof url))
        return reply_status(rq, 503, "ServiceUnavailable", "the leader's API address is unknown");
    struct httpc *c = httpc_new(url);
    static const char *const hdrs[] = {"Content-Type: application/json", NULL};
    struct httpc_response resp;
    int rc = c ? httpc_request(c, method, path, hdrs, rq->body.data, rq->body.len, 60000, &resp)
               : -1;
    httpc_free(c);
    if (rc != 0)
        return reply_status(rq, 504, "Timeout", "the leader did not answer");
    enum MHD_Result ret =
        reply_text(rq, (unsigned)resp.status, resp.content_type ? resp.content_type
                                                                 : "application/json",
                   resp.body ? resp.body : "");
    httpc_response_free(&resp);
    return ret;
}

/* ---- the leader's side ---- */

static enum MHD_Result internal_propose(struct request *rq)
{
    if (!store_cmd_valid(rq->body.data, rq->body.len))
        return reply_status(rq, 400, "BadRequest", "malformed command");
    struct cluster_result cr;
    cluster_propose_ex(rq->srv->cluster, rq->body.data, rq->body.len, true,
                       rq->srv->cfg.request_timeout_ms, &cr);
    return reply_json(rq, 200,
                      json_pack("{s:i, s:i, s:I, s:I, s:I}", "code", cr.code, "store",
                                cr.res.code, "rev", (json_int_t)cr.res.rev, "index",
                                (json_int_t)cr.index, "leader", (json_int_t)cr.leader_id));
}

static enum MHD_Result internal_readindex(struct request *rq)
{
    struct cluster_result cr;
    cluster_read_index(rq->srv->cluster, rq->srv->cfg.request_timeout_ms, &cr);
    return reply_json(rq, 200, json_pack("{s:i, s:I}", "code", cr.code, "index",
                                         (json_int_t)cr.index));
}

enum MHD_Result internal_handle(struct request *rq)
{
    if (strcmp(rq->url, "/internal/propose") == 0 && strcmp(rq->method, "POST") == 0)
        return internal_propose(rq);
    if (strcmp(rq->url, "/internal/readindex") == 0 && strcmp(rq->method, "GET") == 0)
        return internal_readindex(rq);
    return reply_status(rq, 404, "NotFound", "no such internal endpoint");
}
