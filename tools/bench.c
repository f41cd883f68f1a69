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
#include <sys/resource.h>

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
    BENCH_MAX_STATUSES = 16,         /* distinct failure statuses kept per client */
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

/* One client (a connection with one request at a time, bench_loop.c) and
 * what it measured; only its loop thread touches it during the run. */
struct bench_worker {
    struct bench_run *run;
    int index;
    long long next;                /* the number of its next request (names the ConfigMap) */
    int failures;                  /* in a row, for the backoff */
    char *padding;                 /* --size filler for data.v */
    uint32_t *lat_us;              /* latencies of measured successes */
    size_t n_lat, cap_lat;
    long long attempts;
    uint64_t last_done_us;         /* completion time of the last measured success */
    struct bench_status_count fails[BENCH_MAX_STATUSES];
    int n_fails;
    long long fails_other;         /* failures beyond BENCH_MAX_STATUSES statuses */
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
            BENCH_DEFAULT_CLIENTS, BENCH_LOOP_THREADS, BENCH_DEFAULT_SIZE);
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
        if (bench_parse_long(arg, 1, BENCH_LOOP_MAX_THREADS, &v) != 0)
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
                                .threads = BENCH_LOOP_THREADS, .size = BENCH_DEFAULT_SIZE,
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

/* Request i of w. */
static void bench_request_build(struct bench_worker *w, long long i, struct bench_req *req)
{
    static const char *const headers[] = {"Content-Type: application/json",
                                          "Accept: application/json", NULL};
    req->headers = headers;
    if (w->run->o->target == BENCH_TARGET_ETCD) {
        snprintf(req->path, sizeof req->path, "/v3/kv/put");
        bench_body_etcd(w, i, &req->body);
    } else {
        snprintf(req->path, sizeof req->path, "/api/v1/namespaces/%s/configmaps", w->run->o->ns);
        bench_body_configmap(w, i, &req->body);
    }
}

/* ---- tickets and outcomes ---------------------------------------------- */

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

/* ---- the clients' callbacks (bench_loop.c runs them) ------------------ */

static bool bench_next(void *arg, int c, struct bench_req *req, uint64_t *at_us)
{
    struct bench_worker *w = &((struct bench_worker *)arg)[c];
    (void)at_us;
    if (!bench_ticket_take(w->run))
        return false;
    bench_request_build(w, w->next++, req);
    return true;
}

static enum bench_then bench_done(void *arg, int c, int status, const char *body, size_t len,
                                  uint64_t sent_us, uint64_t *at_us)
{
    struct bench_worker *w = &((struct bench_worker *)arg)[c];
    int want = w->run->o->target == BENCH_TARGET_ETCD ? 200 : 201;
    uint64_t now = util_now_us();
    (void)body;
    (void)len;
    w->attempts++;
    bench_outcome_record(w, status, sent_us, now);
    w->failures = status == want ? 0 : w->failures + 1;
    if (w->failures > 0)
        *at_us = bench_retry_at(w->run, w->failures, now);
    return BENCH_NEXT;
}

static int bench_request_timeout_ms(void *arg, uint64_t now)
{
    return bench_timeout_ms(((struct bench_worker *)arg)->run, now);
}

static void bench_stop(void *arg)
{
    ((struct bench_worker *)arg)->run->deadline_us = 0;
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

/* Prepares the clients' figures and padding, opens the window and runs
 * the clients to the end of the run: 0, or -1. */
static int bench_clients_run(struct bench_run *r, struct bench_worker *ws)
{
    const struct bench_options *o = r->o;
    for (int i = 0; i < o->clients; i++) {
        struct bench_worker *w = &ws[i];
        w->run = r;
        w->index = i;
        w->padding = bench_padding_new(o->size);
    }
    r->start_us = util_now_us();
    r->deadline_us = o->duration_ms ? r->start_us + (uint64_t)o->duration_ms * 1000 : UINT64_MAX;
    if (!r->warmup_by_count)
        atomic_store(&r->measure_us, r->start_us + (uint64_t)o->warmup_ms * 1000);
    struct bench_loop_cfg cfg = {
        .servers = o->servers, .n_servers = o->n_servers, .clients = o->clients,
        .threads = o->threads, .timeout_ms = o->timeout_ms, .arg = ws, .next = bench_next,
        .done = bench_done, .timeout_ms_fn = bench_request_timeout_ms, .abort = bench_stop,
    };
    return bench_loop_run(&cfg);
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
    rc = bench_clients_run(&r, ws);
    if (rc == 0) {
        struct bench_result res = {0};
        bench_result_merge(&r, ws, &res);
        bench_summary_print(o.json ? stderr : stdout, &r, &res);
        if (o.json)
            bench_json_print(&r, &res);
        rc = res.ops > 0 ? 0 : 1;
    } else {
        rc = 1;
    }
    for (int i = 0; i < o.clients; i++) {
        free(ws[i].padding);
        free(ws[i].lat_us);
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
