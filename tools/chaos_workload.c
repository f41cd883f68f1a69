/* chaos_workload.c — the clients of `bosun chaos`: concurrent threads doing
 * create / get / CAS update / delete on ConfigMaps, every operation recorded
 * for the checker (the format of history.jsonl is at the top of
 * chaos_history.c).
 *
 * Client c (0..clients-1) runs in its own thread with its own keep-alive
 * connection (httpc) to server c mod N at first: followers forward writes to
 * the leader, so every server is exercised. The objects are ConfigMaps
 * chaos/k0..k(K-1) with data {"v": VALUE}; every value written is
 * "c<client>-<counter>", unique in the history. Operations:
 *   objects:  get 40%, update 30% (CAS with the resourceVersion this client
 *             last saw for the key, blind when it saw none), create 15%,
 *             delete 15% (with a resourceVersion precondition when known);
 *   register: get 50%, update 50%, over keys created first (by client
 *             `clients`, recorded as creates).
 * Results. ok: 200/201 (a write's assigned rv and a get's value and rv are
 * recorded). fail, only for definite non-effects: 409 AlreadyExists on a
 * create, 404 NotFound on get/update/delete, 409 Conflict on an update or
 * delete with a precondition. Anything else — a timeout, a lost connection,
 * a 5xx, a 429, another 4xx — is "unknown": it may have taken effect. After
 * an unknown result the client closes its connection and moves to the next
 * server, so a client whose server was killed or paused carries on.
 *
 * Rate. --rate R spaces operations 1/R s apart over all clients: each one
 * takes the next slot from a shared atomic clock and sleeps until it.
 * Times are chaos_now_ns(): invoke just before sending, complete just after
 * the answer. Each client keeps its own records; they are written out once
 * the clients have stopped. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "tools/chaos_internal.h"
#include "tools/tools.h"

#define WL_NS CHAOS_NAMESPACE

enum { WL_VALUE_MAX = 32, WL_SETUP_TRIES = 100 };

struct wl_op {
    int64_t id;
    int client;
    enum chaos_fn fn;
    int key;
    char value[WL_VALUE_MAX]; /* written, or observed ("" none) */
    uint64_t expect_rv, rv;
    int64_t invoke, complete;
    enum chaos_result result;
    int status;
    char reason[32];
    int server; /* its id */
    char error[64];
};

struct wl_client {
    struct chaos_workload *w;
    int id;
    pthread_t thread;
    bool started;
    struct chaos_rng rng;
    int server; /* index into w->api */
    struct httpc *h;
    uint64_t *seen_rv; /* per key: the last rv this client saw, 0 none */
    long counter;
    struct wl_op *ops;
    size_t n, cap;
};

struct chaos_workload {
    struct chaos_workload_options o;
    int nservers;
    char api[CHAOS_MAX_SERVERS][48];
    int ids[CHAOS_MAX_SERVERS];
    atomic_bool stop;
    atomic_llong next_id;
    atomic_llong next_slot; /* ns; --rate only */
    struct wl_client *clients; /* o.clients + 1: the last one sets up */
};

/* ---------------------------------------------------------------- recording */

static struct wl_op *wl_op_new(struct wl_client *c, enum chaos_fn fn, int key)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->ops = xrealloc(c->ops, c->cap * sizeof *c->ops);
    }
    struct wl_op *op = &c->ops[c->n++];
    *op = (struct wl_op){.id = atomic_fetch_add(&c->w->next_id, 1), .client = c->id, .fn = fn,
                         .key = key, .server = c->w->ids[c->server]};
    return op;
}

static void wl_value_new(struct wl_client *c, struct wl_op *op)
{
    snprintf(op->value, sizeof op->value, "c%d-%ld", c->id, c->counter++);
}

/* ---------------------------------------------------------------- requests */

static void wl_connect(struct wl_client *c)
{
    if (!c->h)
        c->h = httpc_new(c->w->api[c->server]);
}

static void wl_move_on(struct wl_client *c)
{
    httpc_free(c->h);
    c->h = NULL;
    c->server = (c->server + 1) % c->w->nservers;
}

static uint64_t wl_rv(json_t *obj)
{
    const char *rv = json_string_value(json_object_get(json_object_get(obj, "metadata"),
                                                       "resourceVersion"));
    return rv ? strtoull(rv, NULL, 10) : 0;
}

static const char *wl_data_v(json_t *obj)
{
    return json_string_value(json_object_get(json_object_get(obj, "data"), "v"));
}

/* Whether a failed answer is a definite non-effect of op. */
static bool wl_definite(const struct wl_op *op)
{
    if (op->fn == CHAOS_CREATE)
        return op->status == 409 && strcmp(op->reason, "AlreadyExists") == 0;
    if (op->status == 404 && strcmp(op->reason, "NotFound") == 0)
        return true;
    return op->expect_rv && op->status == 409 && strcmp(op->reason, "Conflict") == 0;
}

static char *wl_body(const struct wl_op *op)
{
    char name[16];
    snprintf(name, sizeof name, "k%d", op->key);
    json_t *md = json_pack("{s:s, s:s}", "name", name, "namespace", WL_NS);
    if (op->expect_rv) {
        char rv[24];
        snprintf(rv, sizeof rv, "%" PRIu64, op->expect_rv);
        json_object_set_new(md, "resourceVersion", json_string(rv));
    }
    json_t *o = json_pack("{s:s, s:s, s:o, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                          "metadata", md, "data", "v", op->value);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Sends op's request and records its result. */
static void wl_execute(struct wl_client *c, struct wl_op *op)
{
    static const char *const methods[CHAOS_NFN] = {"POST", "GET", "PUT", "DELETE"};
    char path[96], *body = NULL;
    if (op->fn == CHAOS_CREATE)
        snprintf(path, sizeof path, "/api/v1/namespaces/" WL_NS "/configmaps");
    else
        snprintf(path, sizeof path, "/api/v1/namespaces/" WL_NS "/configmaps/k%d", op->key);
    if (op->fn == CHAOS_CREATE || op->fn == CHAOS_UPDATE) {
        body = wl_body(op);
    } else if (op->fn == CHAOS_DELETE && op->expect_rv) {
        char b[96];
        snprintf(b, sizeof b, "{\"preconditions\":{\"resourceVersion\":\"%" PRIu64 "\"}}",
                 op->expect_rv);
        body = xstrdup(b);
    }
    wl_connect(c);
    struct httpc_response resp = {0};
    op->invoke = chaos_now_ns();
    int status = c->h ? bench_http_call(c->h, methods[op->fn], path, "application/json",
                                        body ? "application/json" : NULL, body,
                                        c->w->o.timeout_ms, &resp)
                      : 0;
    op->complete = chaos_now_ns();
    free(body);
    op->status = status;
    json_t *j = status && resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    httpc_response_free(&resp);
    if (status == 200 || status == 201) {
        op->result = CHAOS_OK;
        if (op->fn != CHAOS_DELETE)
            op->rv = wl_rv(j);
        if (op->fn == CHAOS_GET || op->fn == CHAOS_DELETE) {
            const char *v = wl_data_v(j);
            snprintf(op->value, sizeof op->value, "%s", v ? v : "");
        }
        if (op->rv)
            c->seen_rv[op->key] = op->rv;
        if (op->fn == CHAOS_DELETE)
            c->seen_rv[op->key] = 0;
    } else {
        const char *reason = json_string_value(json_object_get(j, "reason"));
        snprintf(op->reason, sizeof op->reason, "%s", reason ? reason : "");
        op->result = status && wl_definite(op) ? CHAOS_FAIL : CHAOS_UNKNOWN;
        if (op->result == CHAOS_FAIL && status == 404)
            c->seen_rv[op->key] = 0;
        if (!status)
            snprintf(op->error, sizeof op->error, "no answer in time or connection lost");
        else if (op->result == CHAOS_UNKNOWN)
            snprintf(op->error, sizeof op->error, "HTTP %d %s", status, op->reason);
        if (op->fn == CHAOS_GET || op->fn == CHAOS_DELETE)
            op->value[0] = '\0';
    }
    json_decref(j);
    if (op->result == CHAOS_UNKNOWN)
        wl_move_on(c);
}

/* ---------------------------------------------------------------- the clients */

static void wl_pace(struct chaos_workload *w)
{
    if (w->o.rate <= 0)
        return;
    int64_t step = (int64_t)(1e9 / w->o.rate);
    int64_t now = chaos_now_ns();
    long long slot = atomic_load(&w->next_slot);
    for (;;) {
        long long mine = slot < now ? now : slot;
        if (atomic_compare_exchange_weak(&w->next_slot, &slot, mine + step)) {
            slot = mine;
            break;
        }
    }
    while (!atomic_load(&w->stop) && chaos_now_ns() < slot) {
        int64_t d = slot - chaos_now_ns();
        struct timespec ts = {0, d > 50000000 ? 50000000 : d};
        nanosleep(&ts, NULL);
    }
}

static void wl_one(struct wl_client *c)
{
    struct chaos_workload *w = c->w;
    int key = (int)chaos_rng_below(&c->rng, (uint64_t)w->o.keys);
    unsigned p = (unsigned)chaos_rng_below(&c->rng, 100);
    enum chaos_fn fn;
    if (w->o.kind == CHAOS_W_REGISTER)
        fn = p < 50 ? CHAOS_GET : CHAOS_UPDATE;
    else
        fn = p < 40 ? CHAOS_GET : p < 70 ? CHAOS_UPDATE : p < 85 ? CHAOS_CREATE : CHAOS_DELETE;
    struct wl_op *op = wl_op_new(c, fn, key);
    if (fn == CHAOS_CREATE || fn == CHAOS_UPDATE)
        wl_value_new(c, op);
    if (fn == CHAOS_UPDATE || fn == CHAOS_DELETE)
        op->expect_rv = c->seen_rv[key];
    wl_execute(c, op);
}

static void *wl_thread(void *arg)
{
    struct wl_client *c = arg;
    while (!atomic_load(&c->w->stop)) {
        wl_pace(c->w);
        if (atomic_load(&c->w->stop))
            break;
        wl_one(c);
    }
    httpc_free(c->h);
    c->h = NULL;
    return NULL;
}

/* The namespace, then (register) every key, each created by the setup
 * client until it exists. 0, or -1 after a message. */
static int wl_setup(struct chaos_workload *w, char *err, size_t errlen)
{
    struct wl_client *c = &w->clients[w->o.clients];
    int status = 0;
    for (int t = 0; t < WL_SETUP_TRIES && status != 201 && status != 409; t++) {
        wl_connect(c);
        status = c->h ? bench_http_call(c->h, "POST", "/api/v1/namespaces", NULL,
                                        "application/json",
                                        "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                                        "\"metadata\":{\"name\":\"" WL_NS "\"}}",
                                        w->o.timeout_ms, NULL)
                      : 0;
        if (status != 201 && status != 409) {
            wl_move_on(c);
            struct timespec ts = {0, 200000000};
            nanosleep(&ts, NULL);
        }
    }
    if (status != 201 && status != 409) {
        snprintf(err, errlen, "cannot create namespace %s (last HTTP status %d)", WL_NS, status);
        return -1;
    }
    for (int k = 0; w->o.kind == CHAOS_W_REGISTER && k < w->o.keys; k++) {
        bool exists = false;
        for (int t = 0; t < WL_SETUP_TRIES && !exists; t++) {
            struct wl_op *op = wl_op_new(c, CHAOS_CREATE, k);
            wl_value_new(c, op);
            wl_execute(c, op);
            exists = op->result == CHAOS_OK || op->result == CHAOS_FAIL;
        }
        if (!exists) {
            snprintf(err, errlen, "cannot create the register keys");
            return -1;
        }
    }
    return 0;
}

struct chaos_workload *chaos_workload_start(const struct chaos_cluster *cl,
                                            const struct chaos_workload_options *o, char *err,
                                            size_t errlen)
{
    assert(o->clients >= 1 && o->keys >= 1 && cl->n >= 1);
    struct chaos_workload *w = xcalloc(1, sizeof *w);
    w->o = *o;
    w->nservers = cl->n;
    for (int i = 0; i < cl->n; i++) {
        snprintf(w->api[i], sizeof w->api[i], "%s", cl->servers[i].api);
        w->ids[i] = cl->servers[i].id;
    }
    atomic_init(&w->stop, false);
    atomic_init(&w->next_id, 0);
    atomic_init(&w->next_slot, 0);
    w->clients = xcalloc((size_t)o->clients + 1, sizeof *w->clients);
    for (int i = 0; i <= o->clients; i++) {
        struct wl_client *c = &w->clients[i];
        c->w = w;
        c->id = i;
        c->server = i % cl->n;
        c->rng.s = o->seed * 0x9e3779b97f4a7c15ull + (uint64_t)i + 1;
        c->seen_rv = xcalloc((size_t)o->keys, sizeof *c->seen_rv);
    }
    if (wl_setup(w, err, errlen) != 0)
        return w; /* no thread started: the caller frees it after checking */
    for (int i = 0; i < o->clients; i++)
        w->clients[i].started = pthread_create(&w->clients[i].thread, NULL, wl_thread,
                                               &w->clients[i]) == 0;
    return w;
}

void chaos_workload_stop(struct chaos_workload *w)
{
    atomic_store(&w->stop, true);
    for (int i = 0; i < w->o.clients; i++)
        if (w->clients[i].started) {
            pthread_join(w->clients[i].thread, NULL);
            w->clients[i].started = false;
        }
}

static bool wl_running(const struct chaos_workload *w)
{
    for (int i = 0; i < w->o.clients; i++)
        if (w->clients[i].started)
            return true;
    return false;
}

long long chaos_workload_count(const struct chaos_workload *w)
{
    long long n = 0;
    for (int i = 0; i <= w->o.clients; i++)
        n += (long long)w->clients[i].n;
    return n;
}

static json_t *wl_op_json(const struct wl_op *op)
{
    char key[32];
    snprintf(key, sizeof key, WL_NS "/k%d", op->key);
    json_t *o = json_pack("{s:I, s:i, s:s, s:s, s:I, s:s, s:i}", "id", (json_int_t)op->id,
                          "client", op->client, "f", chaos_fn_name(op->fn), "key", key, "invoke",
                          (json_int_t)op->invoke, "result", chaos_result_name(op->result),
                          "server", op->server);
    if (op->value[0])
        json_object_set_new(o, "value", json_string(op->value));
    char rv[24];
    if (op->expect_rv) {
        snprintf(rv, sizeof rv, "%" PRIu64, op->expect_rv);
        json_object_set_new(o, "expect_rv", json_string(rv));
    }
    if (op->result != CHAOS_UNKNOWN)
        json_object_set_new(o, "complete", json_integer(op->complete));
    if (op->result == CHAOS_OK && op->rv) {
        snprintf(rv, sizeof rv, "%" PRIu64, op->rv);
        json_object_set_new(o, "rv", json_string(rv));
    }
    if (op->result == CHAOS_FAIL) {
        json_object_set_new(o, "status", json_integer(op->status));
        json_object_set_new(o, "reason", json_string(op->reason));
    }
    if (op->result == CHAOS_UNKNOWN) {
        /* for the report: when the client gave up on it */
        json_object_set_new(o, "gave_up", json_integer(op->complete));
        json_object_set_new(o, "error", json_string(op->error));
    }
    return o;
}

int chaos_workload_write(const struct chaos_workload *w, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (int i = 0; i <= w->o.clients; i++) {
        const struct wl_client *c = &w->clients[i];
        for (size_t k = 0; k < c->n; k++) {
            json_t *o = wl_op_json(&c->ops[k]);
            char *line = json_dumps(o, JSON_COMPACT);
            fprintf(f, "%s\n", line);
            free(line);
            json_decref(o);
        }
    }
    return fclose(f) == 0 ? 0 : -1;
}

void chaos_workload_free(struct chaos_workload *w)
{
    if (!w)
        return;
    assert(!wl_running(w));
    for (int i = 0; i <= w->o.clients; i++) {
        httpc_free(w->clients[i].h);
        free(w->clients[i].ops);
        free(w->clients[i].seen_rv);
    }
    free(w->clients);
    free(w);
}
