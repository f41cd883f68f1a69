/* conn.c — the agent's connections to the API servers, with failover.
 *
 * The agent has one list of servers (--server URL,URL,...) and one current
 * index into it, shared by every connection (an atomic in struct agent).
 * A struct agent_conn is one httpc keep-alive connection; before each
 * request it checks that it talks to the current server and reconnects if
 * the index moved. When a request fails at the transport level (refused,
 * reset, timeout), the connection moves the shared index from the server
 * it used to the next one with a compare-and-swap, so that one failure
 * moves everybody once, however many connections saw it, and tries again
 * there: each server at most once per request. A server that answers but
 * keeps answering 503 or 504 (no quorum, no leader) is left after three
 * such answers in a row on one connection; the answer itself is still
 * returned, and the job retries later.
 *
 * Failovers are logged at WARN, at most one line a second (the rest are
 * counted in the progress lines). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "codec/codec.h"
#include "util/util.h"

#define CONN_MAX_UNAVAILABLE 3

void agent_conn_init(struct agent_conn *k, struct agent *ag)
{
    memset(k, 0, sizeof *k);
    k->ag = ag;
    k->idx = -1;
}

void agent_conn_close(struct agent_conn *k)
{
    httpc_free(k->c);
    k->c = NULL;
    k->idx = -1;
}

/* Points k at the current server. */
static void conn_follow(struct agent_conn *k)
{
    int cur = atomic_load(&k->ag->server_cur);
    if (k->c && k->idx == cur)
        return;
    httpc_free(k->c);
    k->c = httpc_new(k->ag->cfg.servers[cur]); /* URLs were checked when parsed */
    k->idx = cur;
    k->unavail = 0;
}

void agent_conn_failed(struct agent_conn *k, const char *why)
{
    struct agent *ag = k->ag;
    int from = k->idx, n = ag->cfg.n_servers;
    if (k->c)
        httpc_close(k->c);
    if (from < 0)
        return;
    int expected = from, to = (from + 1) % n;
    if (n < 2 || !atomic_compare_exchange_strong(&ag->server_cur, &expected, to))
        return; /* alone, or someone already moved on */
    atomic_fetch_add(&ag->st.failovers, 1);
    unsigned long long now = util_now_ms(), last = atomic_load(&ag->last_failover_log);
    if (now - last >= 1000 && atomic_compare_exchange_strong(&ag->last_failover_log, &last, now))
        LOG_WARN("server %s does not answer (%s): moving to %s", ag->cfg.servers[from], why,
                 ag->cfg.servers[to]);
}

static void conn_note_status(struct agent_conn *k, int status)
{
    if (status != 503 && status != 504) {
        k->unavail = 0;
        return;
    }
    if (++k->unavail >= CONN_MAX_UNAVAILABLE) {
        char why[32];
        snprintf(why, sizeof why, "HTTP %d %d times", status, k->unavail);
        agent_conn_failed(k, why);
        k->unavail = 0;
    }
}

int agent_conn_request(struct agent_conn *k, const char *method, const char *path,
                       const char *content_type, const char *body, size_t body_len,
                       struct httpc_response *resp)
{
    char ct[96];
    const char *headers[3] = {"Accept: application/json", NULL, NULL};
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        headers[1] = ct;
    }
    for (int attempt = 0; attempt < k->ag->cfg.n_servers; attempt++) {
        if (atomic_load(&k->ag->stopping) && attempt > 0)
            break;
        conn_follow(k);
        if (httpc_request(k->c, method, path, headers, body, body ? body_len : 0,
                          AGENT_REQUEST_TIMEOUT_MS, resp) == 0) {
            atomic_fetch_add(&k->ag->st.requests, 1);
            conn_note_status(k, resp->status);
            return 0;
        }
        agent_conn_failed(k, strerror(errno));
    }
    return -1;
}

int agent_conn_stream(struct agent_conn *k, const char *path, struct httpc_response *resp)
{
    const char *headers[] = {"Accept: application/json", NULL};
    for (int attempt = 0; attempt < k->ag->cfg.n_servers; attempt++) {
        conn_follow(k);
        if (httpc_stream_open(k->c, "GET", path, headers, NULL, 0, AGENT_REQUEST_TIMEOUT_MS,
                              resp) == 0) {
            conn_note_status(k, resp->status);
            return 0;
        }
        agent_conn_failed(k, strerror(errno));
    }
    return -1;
}

/* A JSON request; the answer decoded into *out (when out is not NULL),
 * only if it is not 2xx when errors_only. */
static int conn_json(struct agent_conn *k, const char *method, const char *path,
                     const char *content_type, json_t *body, json_t **out, bool errors_only)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct httpc_response resp;
    if (out)
        *out = NULL;
    int rc = agent_conn_request(k, method, path, text ? content_type : NULL, text,
                                text ? strlen(text) : 0, &resp);
    free(text);
    if (rc != 0)
        return -1;
    bool wanted = !errors_only || resp.status < 200 || resp.status > 299;
    if (out && wanted && resp.body && resp.body_len)
        *out = codec_json_load(resp.body, resp.body_len, 0, NULL);
    int status = resp.status;
    httpc_response_free(&resp);
    return status;
}

int agent_conn_json(struct agent_conn *k, const char *method, const char *path,
                    const char *content_type, json_t *body, json_t **out)
{
    return conn_json(k, method, path, content_type, body, out, false);
}

int agent_conn_write(struct agent_conn *k, const char *method, const char *path,
                     const char *content_type, json_t *body, json_t **err)
{
    return conn_json(k, method, path, content_type, body, err, true);
}
