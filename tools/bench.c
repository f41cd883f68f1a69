/* bench.c — `bosun bench`: load generators that measure a cluster.
 *
 * `bosun bench writes` measures the write path (HTTP → leader → group commit
 * → Raft → LMDB apply → answer) by creating ConfigMaps as fast as C clients
 * can, or, with --target etcd, by putting the same-size values into an etcd
 * cluster through its v3 JSON gateway, so that both can be compared on the
 * same machine with the same load generator.
 *
 * How it works. Each of the C clients owns one keep-alive connection to one
 * server, chosen round-robin over the --servers list, so that followers get
 * their share and forward to the leader as they would for kubectl. A client
 * sends one request at a time and waits for the answer: C is the number of
 * requests in flight. The clients are dealt out to --threads event loops
 * (epoll; one by default), which send and receive for all of theirs: a
 * thread per client cost 39 us of CPU per request here, mostly in waking
 * 256 threads, and the servers under test share the machine's cores with
 * the load generator. A request is
 *   bosun: POST /api/v1/namespaces/NS/configmaps, a ConfigMap named
 *          bench-RUN-CLIENT-I whose data.v pads the body to --size bytes,
 *          201 expected;
 *   etcd:  POST /v3/kv/put {"key": base64("/registry/configmaps/NS/NAME"),
 *          "value": base64(the same ConfigMap body)}, 200 expected.
 *
 * Measuring. The run stops at --duration, or after --count requests, or at
 * whichever comes first when both are given; a client checks both before
 * each request. The first part of the run is warm-up (connections, the
 * leader's caches, the LMDB map growing): with --duration the first second
 * (or a tenth of the duration if that is shorter), with --count only the
 * first 5% of the requests. A request is measured when it completes inside
 * the window [end of warm-up, end of run] (the end is the deadline, or the
 * last success when --count ends the run first); the rate is the successful
 * measured requests divided by the window's length, and the latency
 * percentiles (nearest rank) are over every measured success, each sample
 * kept in a per-client array and all of them sorted at the end. Requests
 * still in flight at the deadline may complete (their timeout is cut to one
 * second past it) but are not counted. Failures are counted by HTTP status (0 = no answer:
 * connection refused or reset, or timeout) over the whole run up to its end,
 * warm-up included, and a client that fails backs off (10 ms, doubling up
 * to 500 ms) so that a dead cluster is not spun on; every failed attempt
 * still uses up one of --count, so a run always ends.
 *
 * Output: a human summary; with --json the summary goes to stderr and stdout
 * gets one JSON line with the figures, for scripts (tests/bench/). */
#include "tools/tools.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "util/util.h"

enum {
    BENCH_DEFAULT_CLIENTS = 64,
    BENCH_MAX_CLIENTS = 10000,
    BENCH_DEFAULT_SIZE = 1024,
    BENCH_MAX_SIZE = 1024 * 1024,
    BENCH_DEFAULT_DURATION_MS = 10000,
    BENCH_MAX_WARMUP_MS = 1000,
    BENCH_WARMUP_PERCENT = 5,        /* of --count */
    BENCH_DEFAULT_TIMEOUT_MS = 10000,
    BENCH_BACKOFF_MIN_MS = 10,
    BENCH_BACKOFF_MAX_MS = 500,
    BENCH_DEFAULT_THREADS = 1,
    BENCH_MAX_THREADS = 64,
    BENCH_TIMER_US = 5000,           /* how often timeouts and backoffs are looked at */
    BENCH_MAX_STATUSES = 16,         /* distinct failure statuses kept per thread */
};

enum bench_target { BENCH_TARGET_BOSUN, BENCH_TARGET_ETCD };

struct bench_options {
    char **servers;      /* base URLs, NULL-terminated */
    int n_servers;
    int clients;
    int threads;         /* event loops the clients are dealt to */
    long duration_ms;    /* 0: no time limit (then count > 0) */
    long long count;     /* 0: no count limit (then duration_ms > 0) */
    long warmup_ms;      /* -1: the default for the duration */
    int size;
    int timeout_ms;
    const char *ns;
    enum bench_target target;
    bool json;
};

/* What every thread shares. The clock values are util_now_us() readings. */
struct bench_run {
    const struct bench_options *o;
    char id[9];                    /* random hex, makes names unique per run */
    uint64_t start_us;
    uint64_t deadline_us;          /* UINT64_MAX with no --duration */
    bool warmup_by_count;          /* --count only: the warm-up is counted in requests */
    long long warmup_count;        /* then tickets below this are warm-up; else -1 */
    _Atomic long long next_ticket; /* count mode: requests handed out */
    _Atomic uint64_t measure_us;   /* start of the window; 0 until known */
};

struct bench_status_count {
    int status;
    long long n;
};

/* One client (a connection with one request at a time) and what it
 * measured; owned by one loop thread. */
struct bench_worker {
    struct bench_run *run;
    int index;
    struct httpc *http;            /* its connection; the loop reads and writes the socket */
    int reg_fd;                    /* the socket in the loop's epoll set, or -1 */
    struct ubuf out;               /* the request being sent: head and body */
    size_t out_off;                /* bytes of it sent */
    struct ubuf in;                /* what came back of the answer so far */
    long long next;                /* the number of its next request (names the ConfigMap) */
    uint64_t t0, timeout_us;       /* the request's start and when it times out */
    uint64_t retry_us;             /* waiting: when to try again */
    int failures;                  /* in a row, for the backoff */
    bool busy, waiting, done, reused, want_out;
    const char *server;
    char *padding;                 /* --size filler for data.v */
    uint32_t *lat_us;              /* latencies of measured successes */
    size_t n_lat, cap_lat;
    long long attempts;
    uint64_t last_done_us;         /* completion time of the last measured success */
    struct bench_status_count fails[BENCH_MAX_STATUSES];
    int n_fails;
    long long fails_other;         /* failures beyond BENCH_MAX_STATUSES statuses */
};

/* One event loop thread and its clients. */
struct bench_loop {
    struct bench_run *run;
    struct bench_worker **ws;
    int n;
    int active;                    /* clients not done */
    int ep;                        /* epoll set of their sockets */
    pthread_t thread;
};

/* The merged figures of a run. */
struct bench_result {
    long long ops;                 /* measured successes */
    long long errors;              /* failures, whole run */
    long long attempts;
    double seconds;                /* the window */
    double rate;
    uint32_t p50, p90, p99, max;   /* microseconds */
    double mean_us;
    struct bench_status_count fails[BENCH_MAX_STATUSES];
    int n_fails;
    long long fails_other;
    double cpu_s;                  /* this process's CPU time: the load generator's cost */
};

/* ---- small helpers ---------------------------------------------------- */

int bench_parse_long(const char *s, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void bench_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int bench_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples: the smallest value with at
 * least p percent of the samples at or below it. */
void bench_lat_summarize(uint32_t *v, size_t n, struct bench_lat *out)
{
    qsort(v, n, sizeof *v, bench_cmp_u32);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    *out = (struct bench_lat){.n = (long long)n, .p50 = bench_percentile(v, n, 50),
                              .p90 = bench_percentile(v, n, 90), .p99 = bench_percentile(v, n, 99),
                              .max = n ? v[n - 1] : 0, .mean_us = n ? sum / (double)n : 0};
}

uint32_t bench_percentile(const uint32_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    return sorted[(rank > n ? n : rank) - 1];
}

/* One request on h with an Accept (default JSON) and, when a body is sent,
 * a Content-Type. Returns the HTTP status, 0 if there was no answer; the
 * response goes to out (free with httpc_response_free) if out is not NULL. */
int bench_http_call(struct httpc *h, const char *method, const char *path, const char *accept,
                    const char *ctype, const char *body, int timeout_ms,
                    struct httpc_response *out)
{
    char a[160], c[96];
    const char *headers[3];
    int n = 0;
    snprintf(a, sizeof a, "Accept: %s", accept ? accept : "application/json");
    headers[n++] = a;
    if (ctype) {
        snprintf(c, sizeof c, "Content-Type: %s", ctype);
        headers[n++] = c;
    }
    headers[n] = NULL;
    struct httpc_response resp = {0};
    if (httpc_request(h, method, path, headers, body, body ? strlen(body) : 0, timeout_ms, &resp) !=
        0)
        return 0;
    int status = resp.status;
    if (out)
        *out = resp;
    else
        httpc_response_free(&resp);
    return status;
}

/* A one-off GET of a JSON document; NULL unless the answer is 200 JSON. */
json_t *bench_get_json(const char *url, const char *path, int timeout_ms)
{
    struct httpc *h = httpc_new(url);
    if (!h)
        return NULL;
    struct httpc_response resp = {0};
    json_t *v = NULL;
    if (bench_http_call(h, "GET", path, NULL, NULL, NULL, timeout_ms, &resp) == 200 && resp.body)
        v = json_loadb(resp.body, resp.body_len, 0, NULL);
    if (resp.status)
        httpc_response_free(&resp);
    httpc_free(h);
    return v;
}

static void bench_status_add(struct bench_status_count *t, int *n, long long *other, int status,
                             long long k)
{
    for (int i = 0; i < *n; i++)
        if (t[i].status == status) {
            t[i].n += k;
            return;
        }
    if (*n < BENCH_MAX_STATUSES)
        t[(*n)++] = (struct bench_status_count){status, k};
    else
        *other += k;
}

/* ---- options ---------------------------------------------------------- */

static void bench_writes_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun bench writes (--servers URL[,URL...] | --dir DIR) [flags]\n"
            "\n"
            "Creates ConfigMaps of about --size bytes from C clients, each a keep-alive\n"
            "connection with one request at a time, spread round-robin over the servers,\n"
            "and reports creates per second and latency percentiles. With --target etcd\n"
            "the same clients put same-size values into etcd (POST /v3/kv/put).\n"
            "\n"
            "  --servers LIST    the servers' base URLs, comma-separated\n"
            "  --dir DIR         the servers of the local cluster in DIR/cluster.json\n"
            "  --clients C       connections = requests in flight (default %d)\n"
            "  --threads T       event-loop threads the clients share (default %d)\n"
            "  --duration D      run for D, e.g. 10s (default 10s unless --count)\n"
            "  --count N         stop after N requests (with --duration: whichever first)\n"
            "  --warmup D        not measured at the start (default 1s, at most a tenth of\n"
            "                    --duration; with --count only, the first 5%% of requests)\n"
            "  --size BYTES      request body size (default %d)\n"
            "  --namespace NS    where the ConfigMaps go (default default)\n"
            "  --target T        bosun or etcd (default bosun)\n"
            "  --timeout D       per-request timeout (default 10s)\n"
            "  --json            one JSON line on stdout (the summary goes to stderr)\n",
            BENCH_DEFAULT_CLIENTS, BENCH_DEFAULT_THREADS, BENCH_DEFAULT_SIZE);
}

/* Fills o->servers from DIR/cluster.json (the "api" of every server). */
static int bench_servers_from_dir(struct bench_options *o, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cluster.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    json_t *servers = root ? json_object_get(root, "servers") : NULL;
    if (!json_is_array(servers) || json_array_size(servers) == 0) {
        fprintf(stderr, "bosun bench: cannot read servers from %s: %s\n", path,
                root ? "no \"servers\" array" : jerr.text);
        json_decref(root);
        return -1;
    }
    size_t n = json_array_size(servers);
    o->servers = xcalloc(n + 1, sizeof *o->servers);
    for (size_t i = 0; i < n; i++) {
        const char *api = json_string_value(json_object_get(json_array_get(servers, i), "api"));
        if (api && *api)
            o->servers[o->n_servers++] = xstrdup(api);
    }
    json_decref(root);
    if (o->n_servers == 0) {
        fprintf(stderr, "bosun bench: %s names no server with an \"api\"\n", path);
        return -1;
    }
    return 0;
}

char **bench_list_split(const char *list, int *n)
{
    size_t cap = 1;
    for (const char *p = list; *p; p++)
        cap += *p == ',';
    char **items = xcalloc(cap + 1, sizeof *items);
    char *copy = xstrdup(list), *save = NULL;
    *n = 0;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
        items[(*n)++] = xstrdup(s);
    free(copy);
    return items;
}

static void bench_servers_from_list(struct bench_options *o, const char *list)
{
    o->servers = bench_list_split(list, &o->n_servers);
}

static void bench_options_free(struct bench_options *o)
{
    for (int i = 0; i < o->n_servers; i++)
        free(o->servers[i]);
    free(o->servers);
}

static int bench_flag_error(const char *what, const char *value)
{
    fprintf(stderr, "bosun bench writes: bad %s %s (see bosun bench writes --help)\n", what, value);
    return 2;
}

/* Parses one flag with a value into o; returns 0, or 2 after a message. */
static int bench_parse_flag(struct bench_options *o, int opt, const char *arg, const char **servers,
                            const char **dir)
{
    long long v;
    switch (opt) {
    case 's': *servers = arg; return 0;
    case 'd': *dir = arg; return 0;
    case 'n': o->ns = arg; return 0;
    case 'c':
        if (bench_parse_long(arg, 1, BENCH_MAX_CLIENTS, &v) != 0)
            return bench_flag_error("--clients", arg);
        o->clients = (int)v;
        return 0;
    case 'P':
        if (bench_parse_long(arg, 1, BENCH_MAX_THREADS, &v) != 0)
            return bench_flag_error("--threads", arg);
        o->threads = (int)v;
        return 0;
    case 'N':
        if (bench_parse_long(arg, 1, INT64_MAX / 2, &v) != 0)
            return bench_flag_error("--count", arg);
        o->count = v;
        return 0;
    case 'z':
        if (bench_parse_long(arg, 1, BENCH_MAX_SIZE, &v) != 0)
            return bench_flag_error("--size", arg);
        o->size = (int)v;
        return 0;
    case 'D':
        if ((o->duration_ms = util_parse_duration_ms(arg)) <= 0)
            return bench_flag_error("--duration", arg);
        return 0;
    case 'w':
        if ((o->warmup_ms = util_parse_duration_ms(arg)) < 0)
            return bench_flag_error("--warmup", arg);
        return 0;
    case 'T': {
        long ms = util_parse_duration_ms(arg);
        if (ms <= 0 || ms > INT32_MAX)
            return bench_flag_error("--timeout", arg);
        o->timeout_ms = (int)ms;
        return 0;
    }
    case 't':
        if (strcmp(arg, "bosun") == 0)
            o->target = BENCH_TARGET_BOSUN;
        else if (strcmp(arg, "etcd") == 0)
            o->target = BENCH_TARGET_ETCD;
        else
            return bench_flag_error("--target", arg);
        return 0;
    }
    return 2;
}

/* Returns -1 to go on, or the exit status (0 after --help, 2 on an error). */
static int bench_parse_options(int argc, char **argv, struct bench_options *o)
{
    static const struct option longopts[] = {
        {"servers", required_argument, NULL, 's'}, {"dir", required_argument, NULL, 'd'},
        {"clients", required_argument, NULL, 'c'}, {"duration", required_argument, NULL, 'D'},
        {"count", required_argument, NULL, 'N'},   {"warmup", required_argument, NULL, 'w'},
        {"size", required_argument, NULL, 'z'},    {"namespace", required_argument, NULL, 'n'},
        {"target", required_argument, NULL, 't'},  {"timeout", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {"threads", required_argument, NULL, 'P'},
        {0},
    };
    *o = (struct bench_options){.clients = BENCH_DEFAULT_CLIENTS,
                                .threads = BENCH_DEFAULT_THREADS, .size = BENCH_DEFAULT_SIZE,
                                .timeout_ms = BENCH_DEFAULT_TIMEOUT_MS, .warmup_ms = -1,
                                .ns = "default", .target = BENCH_TARGET_BOSUN};
    const char *servers = NULL, *dir = NULL;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            bench_writes_usage(stdout);
            return 0;
        }
        if (opt == 'j') {
            o->json = true;
            continue;
        }
        if (opt == '?' || opt == ':') {
            fprintf(stderr, "bosun bench writes: %s flag %s (see bosun bench writes --help)\n",
                    opt == ':' ? "missing value for" : "unknown", argv[optind - 1]);
            return 2;
        }
        if (bench_parse_flag(o, opt, optarg, &servers, &dir) != 0)
            return 2;
    }
    if (optind < argc || !servers == !dir) {
        fprintf(stderr, "bosun bench writes: give exactly one of --servers and --dir, and no "
                        "other arguments (see bosun bench writes --help)\n");
        return 2;
    }
    if (dir ? bench_servers_from_dir(o, dir) != 0 : (bench_servers_from_list(o, servers), 0))
        return 2;
    if (o->n_servers == 0)
        return bench_flag_error("--servers", servers);
    if (o->duration_ms == 0 && o->count == 0)
        o->duration_ms = BENCH_DEFAULT_DURATION_MS;
    if (o->threads > o->clients)
        o->threads = o->clients;
    return -1;
}

/* ---- one request ------------------------------------------------------ */

/* The ConfigMap every request creates, sized to --size by its padding. */
static void bench_body_configmap(const struct bench_worker *w, long long i, struct ubuf *b)
{
    ubuf_appendf(b,
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                 "\"bench-%s-%d-%lld\",\"namespace\":\"%s\"},\"data\":{\"v\":\"",
                 w->run->id, w->index, i, w->run->o->ns);
    size_t tail = 3; /* "}} */
    size_t want = (size_t)w->run->o->size;
    if (b->len + tail < want)
        ubuf_append(b, w->padding, want - b->len - tail);
    ubuf_append(b, "\"}}", tail);
}

/* etcd's put of the same body under the key Kubernetes would use. */
static void bench_body_etcd(const struct bench_worker *w, long long i, struct ubuf *b)
{
    struct ubuf value = {0}, key = {0};
    bench_body_configmap(w, i, &value);
    ubuf_appendf(&key, "/registry/configmaps/%s/bench-%s-%d-%lld", w->run->o->ns, w->run->id,
                 w->index, i);
    ubuf_append(b, "{\"key\":\"", 8);
    util_base64_encode(key.data, key.len, b); /* etcd's JSON gateway wants base64 */
    ubuf_append(b, "\",\"value\":\"", 11);
    util_base64_encode(value.data, value.len, b);
    ubuf_append(b, "\"}", 2);
    ubuf_free(&value);
    ubuf_free(&key);
}

/* Builds request i into w->out: head and body, as one buffer to send. */
static void bench_request_build(struct bench_worker *w, long long i)
{
    static const char *const headers[] = {"Content-Type: application/json",
                                          "Accept: application/json", NULL};
    char path[512];
    struct ubuf body = {0};
    if (w->run->o->target == BENCH_TARGET_ETCD) {
        snprintf(path, sizeof path, "/v3/kv/put");
        bench_body_etcd(w, i, &body);
    } else {
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", w->run->o->ns);
        bench_body_configmap(w, i, &body);
    }
    w->out.len = 0;
    int rc = httpc_build_head(w->http, &w->out, "POST", path, headers, true, body.len);
    assert(rc == 0); /* the path and headers are ours: always well formed */
    (void)rc;
    ubuf_append(&w->out, body.data, body.len);
    ubuf_free(&body);
}

/* ---- the client threads ----------------------------------------------- */

/* Hands out the next request of the run, or false when the run is over.
 * With a counted warm-up, the first request past it opens the window. */
static bool bench_ticket_take(struct bench_run *r)
{
    if (util_now_us() >= r->deadline_us)
        return false;
    if (r->o->count == 0)
        return true;
    long long t = atomic_fetch_add(&r->next_ticket, 1);
    if (t == r->warmup_count)
        atomic_store(&r->measure_us, util_now_us());
    return t < r->o->count;
}

static void bench_sample_add(struct bench_worker *w, uint64_t us)
{
    if (w->n_lat == w->cap_lat) {
        w->cap_lat = w->cap_lat ? w->cap_lat * 2 : 4096;
        w->lat_us = xrealloc(w->lat_us, w->cap_lat * sizeof *w->lat_us);
    }
    w->lat_us[w->n_lat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/* Books one finished request: a success inside the window is a sample; a
 * failure before the end of the run is counted by status. */
static void bench_outcome_record(struct bench_worker *w, int status, uint64_t t0, uint64_t t1)
{
    struct bench_run *r = w->run;
    int want = r->o->target == BENCH_TARGET_ETCD ? 200 : 201;
    if (t1 > r->deadline_us)
        return; /* drained after the deadline: outside the run */
    if (status != want) {
        bench_status_add(w->fails, &w->n_fails, &w->fails_other, status, 1);
        return;
    }
    uint64_t from = atomic_load(&r->measure_us);
    if (from == 0 || t1 < from)
        return;
    bench_sample_add(w, t1 - t0);
    w->last_done_us = t1;
}

/* The request timeout: never much past the deadline, so that a hung server
 * cannot hold the run open for long. */
static int bench_timeout_ms(const struct bench_run *r, uint64_t now)
{
    if (r->deadline_us == UINT64_MAX)
        return r->o->timeout_ms;
    uint64_t left_ms = (r->deadline_us > now ? r->deadline_us - now : 0) / 1000 + 1000;
    return left_ms < (uint64_t)r->o->timeout_ms ? (int)left_ms : r->o->timeout_ms;
}

/* When a client that failed for the failures-th time in a row may try
 * again: 10 ms, doubling up to 500 ms, never past the deadline. */
static uint64_t bench_retry_at(const struct bench_run *r, int failures, uint64_t now)
{
    long ms = BENCH_BACKOFF_MIN_MS;
    for (int i = 1; i < failures && ms < BENCH_BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > BENCH_BACKOFF_MAX_MS)
        ms = BENCH_BACKOFF_MAX_MS;
    uint64_t at = now + (uint64_t)ms * 1000;
    return at > r->deadline_us ? r->deadline_us : at;
}

/* ---- the event loops --------------------------------------------------- */

/* Forgets w's connection: closed, so also out of the loop's epoll set. */
static void bench_conn_drop(struct bench_worker *w)
{
    httpc_close(w->http);
    w->reg_fd = -1;
}

/* Ends w's request with status (0: no answer) and starts its next one, or
 * schedules it after a backoff, or marks w done when the run is over. */
static void bench_client_next(struct bench_loop *l, struct bench_worker *w, int status);

/* Sends what is left of w->out; arms EPOLLOUT if the socket is full. */
static void bench_client_send(struct bench_loop *l, struct bench_worker *w)
{
    int fd = httpc_fd(w->http);
    while (w->out_off < w->out.len) {
        ssize_t n = send(fd, w->out.data + w->out_off, w->out.len - w->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            w->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = w};
            epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
            w->want_out = true;
            return;
        }
        bench_conn_drop(w);
        bench_client_next(l, w, 0);
        return;
    }
    if (w->want_out) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
        w->want_out = false;
    }
}

/* Sends w's current request (w->out), connecting first if need be. */
static void bench_client_issue(struct bench_loop *l, struct bench_worker *w)
{
    w->reused = httpc_fd(w->http) >= 0;
    if (!w->reused) {
        if (httpc_open(w->http, bench_timeout_ms(l->run, util_now_us())) != 0) {
            bench_client_next(l, w, 0);
            return;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        w->reg_fd = httpc_fd(w->http);
        epoll_ctl(l->ep, EPOLL_CTL_ADD, w->reg_fd, &ev);
        w->want_out = false;
    }
    w->in.len = 0;
    w->out_off = 0;
    w->busy = true;
    bench_client_send(l, w);
}

/* Takes the next ticket and sends request number w->next, or ends w. */
static void bench_client_start(struct bench_loop *l, struct bench_worker *w)
{
    w->waiting = false;
    if (!bench_ticket_take(l->run)) {
        w->done = true;
        l->active--;
        bench_conn_drop(w);
        return;
    }
    bench_request_build(w, w->next++);
    w->t0 = util_now_us();
    w->timeout_us = w->t0 + (uint64_t)bench_timeout_ms(l->run, w->t0) * 1000;
    bench_client_issue(l, w);
}

static void bench_client_next(struct bench_loop *l, struct bench_worker *w, int status)
{
    struct bench_run *r = l->run;
    int want = r->o->target == BENCH_TARGET_ETCD ? 200 : 201;
    w->busy = false;
    w->attempts++;
    bench_outcome_record(w, status, w->t0, util_now_us());
    w->failures = status == want ? 0 : w->failures + 1;
    if (w->failures == 0) {
        bench_client_start(l, w);
        return;
    }
    w->waiting = true;
    w->retry_us = bench_retry_at(r, w->failures, util_now_us());
}

/* The socket of a busy client is readable: take what came and, once the
 * answer is whole, book it. A kept-alive connection that the server had
 * closed before any byte of the answer is retried once, as httpc does. */
static void bench_client_read(struct bench_loop *l, struct bench_worker *w)
{
    ubuf_reserve(&w->in, 16 * 1024);
    ssize_t n = recv(httpc_fd(w->http), w->in.data + w->in.len, w->in.cap - w->in.len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (!w->busy) { /* the server spoke out of turn or closed an idle connection */
        bench_conn_drop(w);
        return;
    }
    if (n <= 0) {
        bool retry = w->reused && w->in.len == 0 && w->out_off == w->out.len;
        bench_conn_drop(w);
        if (retry) {
            bench_client_issue(l, w);
            return;
        }
        bench_client_next(l, w, 0);
        return;
    }
    w->in.len += (size_t)n;
    int status = 0;
    bool keep = false;
    long end = httpc_response_scan(w->in.data, w->in.len, false, &status, &keep);
    if (end == 0)
        return;
    if (end < 0 || (size_t)end != w->in.len || !keep) {
        bench_conn_drop(w); /* broken, or more than one answer: start afresh */
        if (end < 0)
            status = 0;
    }
    bench_client_next(l, w, status);
}

/* Fails requests past their timeout and starts clients whose backoff is over. */
static void bench_loop_timers(struct bench_loop *l, uint64_t now)
{
    for (int k = 0; k < l->n; k++) {
        struct bench_worker *w = l->ws[k];
        if (w->busy && now >= w->timeout_us) {
            bench_conn_drop(w);
            bench_client_next(l, w, 0);
        } else if (w->waiting && now >= w->retry_us) {
            bench_client_start(l, w);
        }
    }
}

static void *bench_loop_run(void *arg)
{
    struct bench_loop *l = arg;
    for (int k = 0; k < l->n; k++)
        bench_client_start(l, l->ws[k]);
    struct epoll_event evs[256];
    uint64_t next_timers = util_now_us() + BENCH_TIMER_US;
    while (l->active > 0) {
        int n = epoll_wait(l->ep, evs, 256, BENCH_TIMER_US / 1000);
        for (int i = 0; i < n; i++) {
            struct bench_worker *w = evs[i].data.ptr;
            if (w->reg_fd < 0 || w->done)
                continue; /* dropped earlier in this batch */
            if ((evs[i].events & EPOLLOUT) && w->busy)
                bench_client_send(l, w);
            if ((evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && w->reg_fd >= 0)
                bench_client_read(l, w);
        }
        uint64_t now = util_now_us();
        if (now >= next_timers) {
            bench_loop_timers(l, now);
            next_timers = now + BENCH_TIMER_US;
        }
    }
    return NULL;
}

/* Random filler for data.v: letters and digits, so that it is valid in
 * JSON as is and does not compress to nothing. */
static char *bench_padding_new(int size)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char *raw = xmalloc((size_t)size + 1);
    util_random_bytes(raw, (size_t)size);
    char *p = (char *)raw;
    for (int i = 0; i < size; i++)
        p[i] = alnum[raw[i] % (sizeof alnum - 1)];
    p[size] = '\0';
    return p;
}

/* Deals the clients out to the loops (client i to loop i % threads) and
 * starts the loops; -1 if one cannot start (those started are stopped). */
static int bench_loops_start(struct bench_run *r, struct bench_worker *ws, struct bench_loop *ls)
{
    const struct bench_options *o = r->o;
    for (int i = 0; i < o->clients; i++) {
        struct bench_worker *w = &ws[i];
        w->run = r;
        w->index = i;
        w->server = o->servers[i % o->n_servers];
        w->reg_fd = -1;
        w->http = httpc_new(w->server);
        if (!w->http) {
            fprintf(stderr, "bosun bench writes: bad server URL %s\n", w->server);
            return -1;
        }
        w->padding = bench_padding_new(o->size);
    }
    for (int t = 0; t < o->threads; t++) {
        ls[t] = (struct bench_loop){.run = r, .ep = epoll_create1(EPOLL_CLOEXEC)};
        ls[t].ws = xcalloc((size_t)o->clients / (size_t)o->threads + 1, sizeof *ls[t].ws);
        if (ls[t].ep < 0) {
            fprintf(stderr, "bosun bench writes: epoll: %s\n", strerror(errno));
            return -1;
        }
    }
    for (int i = 0; i < o->clients; i++) {
        struct bench_loop *l = &ls[i % o->threads];
        l->ws[l->n++] = &ws[i];
    }
    for (int t = 0; t < o->threads; t++)
        ls[t].active = ls[t].n;
    r->start_us = util_now_us();
    r->deadline_us = o->duration_ms ? r->start_us + (uint64_t)o->duration_ms * 1000 : UINT64_MAX;
    if (!r->warmup_by_count)
        atomic_store(&r->measure_us, r->start_us + (uint64_t)o->warmup_ms * 1000);
    for (int t = 0; t < o->threads; t++) {
        int err = pthread_create(&ls[t].thread, NULL, bench_loop_run, &ls[t]);
        if (err != 0) {
            fprintf(stderr, "bosun bench writes: cannot start thread %d: %s\n", t, strerror(err));
            r->deadline_us = 0; /* the loops already started stop at once */
            for (int j = 0; j < t; j++)
                pthread_join(ls[j].thread, NULL);
            return -1;
        }
    }
    return 0;
}

static void bench_loops_free(struct bench_loop *ls, int n)
{
    for (int t = 0; t < n; t++) {
        if (ls[t].ep >= 0)
            close(ls[t].ep);
        free(ls[t].ws);
    }
    free(ls);
}

/* ---- the figures ------------------------------------------------------ */

/* The end of the window: the deadline if the run went that long, else the
 * last measured success. */
static uint64_t bench_window_end(const struct bench_run *r, const struct bench_worker *ws, int n)
{
    uint64_t last = 0;
    for (int i = 0; i < n; i++)
        if (ws[i].last_done_us > last)
            last = ws[i].last_done_us;
    if (r->deadline_us != UINT64_MAX && util_now_us() >= r->deadline_us)
        return r->deadline_us;
    return last;
}

static void bench_result_merge(const struct bench_run *r, const struct bench_worker *ws,
                               struct bench_result *res)
{
    int n = r->o->clients;
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += ws[i].n_lat;
    uint32_t *all = xmalloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        if (ws[i].n_lat) /* lat_us is NULL until the first sample */
            memcpy(all + k, ws[i].lat_us, ws[i].n_lat * sizeof *all);
        k += ws[i].n_lat;
        res->attempts += ws[i].attempts;
        for (int j = 0; j < ws[i].n_fails; j++)
            bench_status_add(res->fails, &res->n_fails, &res->fails_other, ws[i].fails[j].status,
                             ws[i].fails[j].n);
        res->fails_other += ws[i].fails_other;
    }
    for (int j = 0; j < res->n_fails; j++)
        res->errors += res->fails[j].n;
    res->errors += res->fails_other;
    qsort(all, total, sizeof *all, bench_cmp_u32);
    for (size_t i = 0; i < total; i++)
        sum += all[i];
    res->ops = (long long)total;
    res->p50 = bench_percentile(all, total, 50);
    res->p90 = bench_percentile(all, total, 90);
    res->p99 = bench_percentile(all, total, 99);
    res->max = total ? all[total - 1] : 0;
    res->mean_us = total ? sum / (double)total : 0;
    uint64_t from = atomic_load(&r->measure_us), to = bench_window_end(r, ws, n);
    res->seconds = to > from && from != 0 ? (double)(to - from) / 1e6 : 0;
    res->rate = res->seconds > 0 ? (double)res->ops / res->seconds : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    res->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    free(all);
}

static const char *bench_target_name(const struct bench_options *o)
{
    return o->target == BENCH_TARGET_ETCD ? "etcd" : "bosun";
}

static void bench_summary_print(FILE *f, const struct bench_run *r, const struct bench_result *res)
{
    const struct bench_options *o = r->o;
    fprintf(f, "bosun bench writes: target %s, %d server(s), %d clients, %d-byte %s, run %s\n",
            bench_target_name(o), o->n_servers, o->clients, o->size,
            o->target == BENCH_TARGET_ETCD ? "values" : "ConfigMaps", r->id);
    fprintf(f, "  %-9s %lld in %.2f s = %.1f/s (%lld attempts in all, warm-up included)\n",
            o->target == BENCH_TARGET_ETCD ? "puts" : "creates", res->ops, res->seconds, res->rate,
            res->attempts);
    fprintf(f, "  latency   p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  mean %.2f ms\n",
            res->p50 / 1e3, res->p90 / 1e3, res->p99 / 1e3, res->max / 1e3, res->mean_us / 1e3);
    fprintf(f, "  errors    %lld", res->errors);
    for (int i = 0; i < res->n_fails; i++) {
        fprintf(f, "%s%lld x ", i ? ", " : " (", res->fails[i].n);
        if (res->fails[i].status)
            fprintf(f, "HTTP %d", res->fails[i].status);
        else
            fprintf(f, "no answer");
    }
    if (res->fails_other)
        fprintf(f, ", %lld x other", res->fails_other);
    fprintf(f, "%s\n", res->n_fails ? ")" : "");
    fprintf(f, "  client    %.2f CPU-s in this process (the load generator)\n", res->cpu_s);
}

static void bench_json_print(const struct bench_run *r, const struct bench_result *res)
{
    const struct bench_options *o = r->o;
    json_t *by = json_object();
    for (int i = 0; i < res->n_fails; i++) {
        char k[16];
        snprintf(k, sizeof k, "%d", res->fails[i].status);
        json_object_set_new(by, k, json_integer(res->fails[i].n));
    }
    if (res->fails_other)
        json_object_set_new(by, "other", json_integer(res->fails_other));
    json_t *j = json_pack(
        "{s:s, s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:f}",
        "target", bench_target_name(o), "run", r->id, "servers", o->n_servers, "clients",
        o->clients, "size", o->size, "ops", (json_int_t)res->ops, "errors", (json_int_t)res->errors,
        "attempts", (json_int_t)res->attempts, "seconds", res->seconds, "rate", res->rate,
        "p50_ms", res->p50 / 1e3, "p90_ms", res->p90 / 1e3, "p99_ms", res->p99 / 1e3, "max_ms",
        res->max / 1e3, "mean_ms", res->mean_us / 1e3, "errors_by_status", by, "client_cpu_s",
        res->cpu_s);
    json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(j);
}

/* ---- bosun bench writes ----------------------------------------------- */

/* The warm-up: the first 5% of the requests with --count only, else the
 * first second (at most a tenth of the duration, or --warmup). */
static void bench_warmup_decide(struct bench_options *o, struct bench_run *r)
{
    r->warmup_by_count = o->duration_ms == 0;
    if (r->warmup_by_count) {
        r->warmup_count = o->count * BENCH_WARMUP_PERCENT / 100;
        return;
    }
    r->warmup_count = -1; /* no ticket opens the window */
    if (o->warmup_ms < 0) {
        o->warmup_ms = o->duration_ms / 10;
        if (o->warmup_ms > BENCH_MAX_WARMUP_MS)
            o->warmup_ms = BENCH_MAX_WARMUP_MS;
    }
    if (o->warmup_ms >= o->duration_ms)
        o->warmup_ms = o->duration_ms / 2;
}

static int bench_writes_main(int argc, char **argv)
{
    struct bench_options o;
    int rc = bench_parse_options(argc, argv, &o);
    if (rc >= 0) {
        bench_options_free(&o);
        return rc;
    }
    struct bench_run r = {.o = &o};
    bench_warmup_decide(&o, &r);
    unsigned char rnd[4];
    util_random_bytes(rnd, sizeof rnd);
    snprintf(r.id, sizeof r.id, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    struct bench_worker *ws = xcalloc((size_t)o.clients, sizeof *ws);
    struct bench_loop *ls = xcalloc((size_t)o.threads, sizeof *ls);
    for (int t = 0; t < o.threads; t++)
        ls[t].ep = -1;
    rc = bench_loops_start(&r, ws, ls);
    if (rc == 0) {
        for (int t = 0; t < o.threads; t++)
            pthread_join(ls[t].thread, NULL);
        struct bench_result res = {0};
        bench_result_merge(&r, ws, &res);
        bench_summary_print(o.json ? stderr : stdout, &r, &res);
        if (o.json)
            bench_json_print(&r, &res);
        rc = res.ops > 0 ? 0 : 1;
    } else {
        rc = 1;
    }
    bench_loops_free(ls, o.threads);
    for (int i = 0; i < o.clients; i++) {
        if (ws[i].http)
            httpc_free(ws[i].http);
        free(ws[i].padding);
        free(ws[i].lat_us);
        ubuf_free(&ws[i].out);
        ubuf_free(&ws[i].in);
    }
    free(ws);
    bench_options_free(&o);
    return rc;
}

/* The benchmarks, one table; `bosun bench <name> --help` for each. */
static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} bench_commands[] = {
    {"writes", bench_writes_main, "create ConfigMaps (or etcd puts) as fast as C clients can"},
    {"list", tools_bench_list_main, "time full LISTs (JSON, Table) of N Pods on leader and follower"},
    {"reads", tools_bench_reads_main, "GET ConfigMaps by name from C clients on one server"},
    {"watch", tools_bench_watch_main, "watch-event delivery latency with W concurrent watchers"},
    {"schedule", tools_bench_schedule_main, "pods scheduled per second onto hollow nodes"},
};

static void bench_usage(FILE *f)
{
    fprintf(f, "usage: bosun bench <benchmark> [flags]\n\nbenchmarks:\n");
    for (size_t i = 0; i < sizeof bench_commands / sizeof bench_commands[0]; i++)
        fprintf(f, "  %-8s %s\n", bench_commands[i].name, bench_commands[i].help);
}

int tools_bench_main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        bench_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof bench_commands / sizeof bench_commands[0]; i++)
        if (strcmp(argv[1], bench_commands[i].name) == 0)
            return bench_commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "bosun bench: unknown benchmark %s\n", argv[1]);
    bench_usage(stderr);
    return 2;
}
