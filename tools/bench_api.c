/* bench_api.c — `bosun bench list`, `bosun bench reads` and `bosun bench
 * watch`: the read side of the API under load (full LISTs, GETs by name,
 * the fan-out of watch events), to answer the performance questions
 * with one command each.
 *
 * list. Makes sure the namespace exists (POST, 201 or 409), counts the
 * bench-pod-NNNNN Pods already in it and, if fewer than --objects, creates
 * them from --clients threads with keep-alive connections spread over the
 * servers (409 counts as done). Each Pod is about 1 KB as sent (one
 * container with ports, env, resources and a probe, labels, annotations;
 * schedulerName "bench-none" so that no scheduler acts on them). Then, on the
 * leader and on a follower (roles from GET /cluster/status), it times
 * --rounds full LISTs in each of four ways: as JSON and as a Table (kubectl's
 * Accept header), each linearizable (no resourceVersion: a read-index
 * barrier) and local (resourceVersion=0). Every round is a new request, timed
 * from sending it to the last byte of the answer; it reports min, median and
 * max ms, the bytes and the number of items (or rows) of the answer.
 *
 * reads. Creates --objects ConfigMaps (bench-read-NNNNN, --size bytes), then
 * runs two phases of --duration each on the one server given (meant: a
 * follower): --clients threads, each with one keep-alive connection and one
 * GET in flight, read random ConfigMaps by name, first linearizable then with
 * resourceVersion=0. As in `bench writes`, the first second (at most a tenth
 * of the duration) is warm-up; a GET is measured when it completes inside
 * the window; percentiles are nearest-rank over every measured GET.
 *
 * watch. Opens W watch streams on one server (GET .../configmaps?watch=true&
 * resourceVersion=<the current revision, from a list>) and a writer
 * (the main thread, one httpc connection to --writer) patches one ConfigMap
 * --events times at --rate, putting the send time (CLOCK_REALTIME, µs) in
 * data.t and the event's number in data.s. Every watcher takes the time of
 * each read(2) and records, per event, latency = that time − data.t.
 *
 * Why epoll and not threads with httpc streams: a blocked thread per watcher
 * means thousands of threads (256 KiB of stack each: over 1 GiB for 5,000)
 * that all wake for every event, on a machine whose cores the server under
 * test needs; the client's own scheduling delay would land in the figures.
 * Instead --threads threads (default 1) each own an epoll set and a slice of
 * the watchers: plain non-blocking sockets, a small HTTP/1.1 reader (status
 * line, headers, chunked framing, newline-delimited events) and a cheap scan
 * of each event line for data.s and data.t (no JSON parse: the scan is what
 * lets one thread keep up with thousands of streams). Connections are opened
 * at most WATCH_MAX_PENDING at a time per thread so that the server's listen
 * backlog is not flooded. A watcher counts as connected when it has a 200
 * with a chunked body. Event 0 is a warm-up: the measured events start once
 * every connected watcher has received it (or after a timeout), so that a
 * stream still being set up does not count as slow. After the last event the
 * run waits until every watcher has every event, or a grace period. Reported:
 * p50/p90/p99/max delivery latency over all (watcher, event) pairs, watchers
 * that missed events (lost), events missed, watchers connected, and the
 * writer's own PATCH latency (the commit path, part of every delivery).
 * RLIMIT_NOFILE is raised to what W needs (and said if it cannot be).
 * --sweep W1,W2,... runs one point per count (a fresh set of streams each,
 * a pause between them for the server to reap the old ones) and names the
 * largest count whose every watcher connected, lost nothing and saw
 * p99 <= 100 ms.
 *
 * Output: a human summary; with --json it goes to stderr and stdout gets one
 * JSON line per figure set (like `bench writes`), for tests/bench/api.sh.
 * Nothing here is global: each run's state lives in structs on main's stack
 * or the heap, shared with its threads through atomics. */
#include "tools/tools.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "util/util.h"

enum {
    BAPI_THREAD_STACK = 256 * 1024,
    BAPI_DEFAULT_TIMEOUT_MS = 120000, /* a LIST of 10,000 Pods may be slow */
    BAPI_MAX_SWEEP = 32,
    BAPI_ATTEMPTS = 3,                /* per create/delete, on 0, 429 and 5xx */
    LIST_DEFAULT_OBJECTS = 10000,
    LIST_DEFAULT_ROUNDS = 5,
    LIST_DEFAULT_CLIENTS = 32,
    READS_DEFAULT_OBJECTS = 1000,
    READS_DEFAULT_CLIENTS = 64,
    READS_DEFAULT_DURATION_MS = 10000,
    READS_DEFAULT_SIZE = 1024,
    READS_MAX_WARMUP_MS = 1000,
    WATCH_DEFAULT_WATCHERS = 1000,
    WATCH_DEFAULT_EVENTS = 200,
    WATCH_MAX_WATCHERS = 100000,
    WATCH_MAX_THREADS = 64,
    WATCH_MAX_PENDING = 128,          /* per thread: connecting or awaiting headers */
    WATCH_READ_BUF = 64 * 1024,
    WATCH_EPOLL_BATCH = 256,
    WATCH_FD_SLACK = 64,              /* descriptors beyond one per watcher */
    WATCH_READY_WAIT_MS = 15000,
    WATCH_GRACE_MS = 5000,
    WATCH_SETTLE_MS = 2500,           /* between sweep points: the server reaps streams */
    WATCH_RV_TRIES = 60,              /* a second apart, while the server is full */
    WATCH_GOAL_P99_US = 100000,
};

#define WATCH_MISSING UINT32_MAX
#define BAPI_TABLE_ACCEPT "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
#define WATCH_OBJECT "bench-watch"

/* Every flag of the three benchmarks; each one accepts a subset. */
struct bapi_options {
    const char *cmd;     /* "list", "reads", "watch": for messages */
    char **servers;      /* base URLs, NULL-terminated */
    int n_servers;
    const char *ns;
    long long objects;
    int rounds;
    int clients;
    long duration_ms;
    int size;
    int watchers;
    int events;
    double rate;         /* events per second */
    const char *writer;  /* NULL: the watched server */
    int sweep[BAPI_MAX_SWEEP];
    int n_sweep;
    int threads;
    int timeout_ms;
    bool cleanup;
    bool json;
};

/* Latency figures of a set of samples, in microseconds. */

/* ---- small helpers ---------------------------------------------------- */



static int bapi_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}




static uint64_t bapi_realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static double bapi_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void bapi_json_emit(json_t *j)
{
    json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(j);
}

/* Letters and digits: valid inside a JSON string as is. */
static char *bapi_padding_new(int size)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char *raw = xmalloc((size_t)size + 1);
    util_random_bytes(raw, (size_t)size);
    for (int i = 0; i < size; i++)
        raw[i] = (unsigned char)alnum[raw[i] % (sizeof alnum - 1)];
    raw[size] = '\0';
    return (char *)raw;
}

/* ---- HTTP ------------------------------------------------------------- */

/* The server's Raft role ("leader", "follower", ...) from /cluster/status. */
static void bapi_role(const char *url, char *role, size_t len)
{
    json_t *v = bench_get_json(url, "/cluster/status", 5000);
    const char *r = json_string_value(json_object_get(v, "role"));
    snprintf(role, len, "%s", r ? r : "unknown");
    json_decref(v);
}

/* POST the namespace; 0 if it was created or already there. */
static int bapi_namespace_ensure(const struct bapi_options *o, const char *url)
{
    struct httpc *h = httpc_new(url);
    if (!h) {
        fprintf(stderr, "bosun bench %s: bad server URL %s\n", o->cmd, url);
        return -1;
    }
    char body[512];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}",
             o->ns);
    int status = bench_http_call(h, "POST", "/api/v1/namespaces", NULL, "application/json", body,
                           o->timeout_ms, NULL);
    httpc_free(h);
    if (status == 201 || status == 409)
        return 0;
    fprintf(stderr, "bosun bench %s: cannot create namespace %s on %s: HTTP %d\n", o->cmd, o->ns,
            url, status);
    return -1;
}

/* Splits http://HOST:PORT[/...] into host and port. */
static int bapi_url_split(const char *url, char *host, size_t hlen, char *port, size_t plen)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *p = url + 7, *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p || (size_t)(colon - p) >= hlen || n - (size_t)(colon - p) - 1 >= plen)
        return -1;
    snprintf(host, hlen, "%.*s", (int)(colon - p), p);
    snprintf(port, plen, "%.*s", (int)(n - (size_t)(colon - p) - 1), colon + 1);
    return 0;
}

/* ---- a pool of threads doing one request per item ---------------------- */

/* Runs one request per item 0..n-1 from threads spread over the servers;
 * an item is done when its status is ok1 or ok2 (e.g. 201 or 409). */
struct bapi_pool {
    char *const *servers;
    int n_servers;
    const char *method;
    const char *ctype;
    /* Fills the path and body (body may stay empty) of item i. */
    void (*build)(const struct bapi_pool *p, long long i, struct ubuf *path, struct ubuf *body);
    const void *ctx;
    const char *ns;
    long long n;
    int ok1, ok2;
    int timeout_ms;
    _Atomic long long next, done, failed;
    _Atomic int bad_status; /* the last status that was not ok */
};

struct bapi_pool_worker {
    struct bapi_pool *p;
    int index;
    pthread_t thread;
};

static int bapi_pool_one(struct bapi_pool *p, struct httpc *h, long long i)
{
    struct ubuf path = {0}, body = {0};
    p->build(p, i, &path, &body);
    ubuf_append(&path, "", 1);
    if (body.len)
        ubuf_append(&body, "", 1);
    int status = 0;
    for (int attempt = 0; attempt < BAPI_ATTEMPTS; attempt++) {
        status = bench_http_call(h, p->method, path.data, NULL, body.len ? p->ctype : NULL,
                           body.len ? body.data : NULL, p->timeout_ms, NULL);
        if (status != 0 && status != 429 && status < 500)
            break;
        bench_sleep_ms(50L << attempt);
    }
    ubuf_free(&path);
    ubuf_free(&body);
    return status;
}

static void *bapi_pool_run_worker(void *arg)
{
    struct bapi_pool_worker *w = arg;
    struct bapi_pool *p = w->p;
    struct httpc *h = httpc_new(p->servers[w->index % p->n_servers]);
    if (!h)
        return NULL;
    for (long long i; (i = atomic_fetch_add(&p->next, 1)) < p->n;) {
        int status = bapi_pool_one(p, h, i);
        if (status == p->ok1 || status == p->ok2) {
            atomic_fetch_add(&p->done, 1);
        } else {
            atomic_fetch_add(&p->failed, 1);
            atomic_store(&p->bad_status, status);
        }
    }
    httpc_free(h);
    return NULL;
}

/* Runs the pool to the end; returns the seconds it took. */
static double bapi_pool_run(struct bapi_pool *p, int threads)
{
    if (threads > p->n)
        threads = p->n > 0 ? (int)p->n : 1;
    struct bapi_pool_worker *ws = xcalloc((size_t)threads, sizeof *ws);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, BAPI_THREAD_STACK);
    uint64_t t0 = util_now_us();
    int started = 0;
    for (; started < threads; started++) {
        ws[started] = (struct bapi_pool_worker){.p = p, .index = started};
        if (pthread_create(&ws[started].thread, &attr, bapi_pool_run_worker, &ws[started]) != 0)
            break;
    }
    if (started == 0) /* no thread: do it here */
        bapi_pool_run_worker(&(struct bapi_pool_worker){.p = p});
    for (int i = 0; i < started; i++)
        pthread_join(ws[i].thread, NULL);
    pthread_attr_destroy(&attr);
    free(ws);
    return (double)(util_now_us() - t0) / 1e6;
}

/* ---- options ---------------------------------------------------------- */

static const struct option bapi_longopts[] = {
    {"servers", required_argument, NULL, 's'},  {"dir", required_argument, NULL, 'd'},
    {"namespace", required_argument, NULL, 'n'}, {"objects", required_argument, NULL, 'N'},
    {"rounds", required_argument, NULL, 'r'},    {"clients", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'D'},  {"size", required_argument, NULL, 'z'},
    {"watchers", required_argument, NULL, 'W'},  {"events", required_argument, NULL, 'E'},
    {"rate", required_argument, NULL, 'R'},      {"writer", required_argument, NULL, 'w'},
    {"sweep", required_argument, NULL, 'S'},     {"threads", required_argument, NULL, 'T'},
    {"timeout", required_argument, NULL, 't'},   {"cleanup", no_argument, NULL, 'x'},
    {"json", no_argument, NULL, 'j'},            {"help", no_argument, NULL, 'h'},
    {0},
};

static int bapi_flag_error(const struct bapi_options *o, const char *what, const char *value)
{
    fprintf(stderr, "bosun bench %s: bad %s %s (see bosun bench %s --help)\n", o->cmd, what, value,
            o->cmd);
    return 2;
}

static int bapi_servers_from_list(struct bapi_options *o, const char *list)
{
    o->servers = bench_list_split(list, &o->n_servers);
    return o->n_servers > 0 ? 0 : bapi_flag_error(o, "--servers", list);
}

/* The "api" of every server in DIR/cluster.json (written by bosun up). */
static int bapi_servers_from_dir(struct bapi_options *o, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/cluster.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    json_t *servers = json_object_get(root, "servers");
    size_t n = json_array_size(servers);
    o->servers = xcalloc(n + 1, sizeof *o->servers);
    for (size_t i = 0; i < n; i++) {
        const char *api = json_string_value(json_object_get(json_array_get(servers, i), "api"));
        if (api && *api)
            o->servers[o->n_servers++] = xstrdup(api);
    }
    json_decref(root);
    if (o->n_servers > 0)
        return 0;
    fprintf(stderr, "bosun bench %s: no server with an \"api\" in %s\n", o->cmd, path);
    return 2;
}

static void bapi_options_free(struct bapi_options *o)
{
    for (int i = 0; i < o->n_servers; i++)
        free(o->servers[i]);
    free(o->servers);
}

static int bapi_parse_sweep(struct bapi_options *o, const char *arg)
{
    char *copy = xstrdup(arg), *save = NULL;
    o->n_sweep = 0;
    int rc = 0;
    for (char *s = strtok_r(copy, ",", &save); s && rc == 0; s = strtok_r(NULL, ",", &save)) {
        long long v;
        if (o->n_sweep == BAPI_MAX_SWEEP || bench_parse_long(s, 1, WATCH_MAX_WATCHERS, &v) != 0)
            rc = bapi_flag_error(o, "--sweep", arg);
        else
            o->sweep[o->n_sweep++] = (int)v;
    }
    free(copy);
    return rc == 0 && o->n_sweep == 0 ? bapi_flag_error(o, "--sweep", arg) : rc;
}

/* "20", "20/s" or "2.5/s": events per second. */
static int bapi_parse_rate(struct bapi_options *o, const char *arg)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || (strcmp(end, "") != 0 && strcmp(end, "/s") != 0) || !(v > 0) || v > 100000)
        return bapi_flag_error(o, "--rate", arg);
    o->rate = v;
    return 0;
}

/* An integer flag into *out, within [min, max]. */
static int bapi_parse_int(struct bapi_options *o, const char *what, const char *arg, long long min,
                          long long max, int *out)
{
    long long v;
    if (bench_parse_long(arg, min, max, &v) != 0)
        return bapi_flag_error(o, what, arg);
    *out = (int)v;
    return 0;
}

static int bapi_parse_ms(struct bapi_options *o, const char *what, const char *arg, long *out)
{
    long ms = util_parse_duration_ms(arg);
    if (ms <= 0 || ms > INT32_MAX)
        return bapi_flag_error(o, what, arg);
    *out = ms;
    return 0;
}

/* One flag with a value; 0, or 2 after a message. */
static int bapi_parse_flag(struct bapi_options *o, int opt, const char *arg)
{
    long long v;
    long ms;
    switch (opt) {
    case 's': return bapi_servers_from_list(o, arg);
    case 'd': return bapi_servers_from_dir(o, arg);
    case 'n': o->ns = arg; return 0;
    case 'w': o->writer = arg; return 0;
    case 'S': return bapi_parse_sweep(o, arg);
    case 'R': return bapi_parse_rate(o, arg);
    case 'N':
        if (bench_parse_long(arg, 1, 10000000, &v) != 0)
            return bapi_flag_error(o, "--objects", arg);
        o->objects = v;
        return 0;
    case 'r': return bapi_parse_int(o, "--rounds", arg, 1, 1000, &o->rounds);
    case 'c': return bapi_parse_int(o, "--clients", arg, 1, 10000, &o->clients);
    case 'z': return bapi_parse_int(o, "--size", arg, 16, 1024 * 1024, &o->size);
    case 'W': return bapi_parse_int(o, "--watchers", arg, 1, WATCH_MAX_WATCHERS, &o->watchers);
    case 'E': return bapi_parse_int(o, "--events", arg, 1, 1000000, &o->events);
    case 'T': return bapi_parse_int(o, "--threads", arg, 1, WATCH_MAX_THREADS, &o->threads);
    case 'D': return bapi_parse_ms(o, "--duration", arg, &o->duration_ms);
    case 't':
        if (bapi_parse_ms(o, "--timeout", arg, &ms) != 0)
            return 2;
        o->timeout_ms = (int)ms;
        return 0;
    }
    return 2;
}

/* Parses argv into o (already holding the defaults), accepting only the
 * flags whose codes are in allowed. Returns -1 to go on, or the exit status
 * (0 after --help, 2 on an error). */
static int bapi_parse_options(int argc, char **argv, const char *allowed, void (*usage)(FILE *),
                              struct bapi_options *o)
{
    optind = 1;
    opterr = 0;
    int opt, idx = -1;
    while ((opt = getopt_long(argc, argv, ":h", bapi_longopts, &idx)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        }
        if (opt == '?' || opt == ':' || !strchr(allowed, opt)) {
            bool known = opt != '?' && opt != ':' && idx >= 0;
            fprintf(stderr, "bosun bench %s: %s flag %s%s (see bosun bench %s --help)\n", o->cmd,
                    opt == ':' ? "missing value for" : "unknown",
                    known ? "--" : "", known ? bapi_longopts[idx].name : argv[optind - 1],
                    o->cmd);
            return 2;
        }
        idx = -1;
        if (opt == 'j' || opt == 'x') {
            *(opt == 'j' ? &o->json : &o->cleanup) = true;
            continue;
        }
        if (o->n_servers && (opt == 's' || opt == 'd')) {
            fprintf(stderr, "bosun bench %s: give one of --servers and --dir\n", o->cmd);
            return 2;
        }
        if (bapi_parse_flag(o, opt, optarg) != 0)
            return 2;
    }
    if (optind < argc || o->n_servers == 0) {
        fprintf(stderr, "bosun bench %s: give --servers or --dir, and no other arguments "
                        "(see bosun bench %s --help)\n", o->cmd, o->cmd);
        return 2;
    }
    return -1;
}

/* ---- bosun bench list ------------------------------------------------- */

static void bench_list_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun bench list (--servers URL[,URL...] | --dir DIR) [flags]\n"
            "\n"
            "Creates --objects Pods of about 1 KB in a namespace (unless they are there),\n"
            "then times full LISTs of them on the leader and on a follower: as JSON and\n"
            "as a Table (kubectl's Accept header), linearizable and with resourceVersion=0.\n"
            "\n"
            "  --servers LIST    the servers' base URLs, comma-separated\n"
            "  --dir DIR         the servers of the local cluster in DIR/cluster.json\n"
            "  --objects N       Pods to list (default %d)\n"
            "  --namespace NS    where they live (default bench-list)\n"
            "  --rounds R        LISTs per case (default %d)\n"
            "  --clients C       threads creating the Pods (default %d)\n"
            "  --cleanup         delete the namespace's Pods at the end\n"
            "  --timeout D       per-request timeout (default 120s)\n"
            "  --json            one JSON line per case on stdout (the summary to stderr)\n",
            LIST_DEFAULT_OBJECTS, LIST_DEFAULT_ROUNDS, LIST_DEFAULT_CLIENTS);
}

/* A realistic Pod of about 1 KB as sent: one container with ports, env,
 * resources and a probe; schedulerName keeps any scheduler's hands off. */
static void bench_list_pod_build(const struct bapi_pool *p, long long i, struct ubuf *path,
                                 struct ubuf *body)
{
    ubuf_appendf(path, "/api/v1/namespaces/%s/pods", p->ns);
    ubuf_appendf(
        body,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"bench-pod-%05lld\","
        "\"namespace\":\"%s\",\"labels\":{\"app\":\"bench-list\",\"tier\":\"backend\","
        "\"shard\":\"s%lld\",\"pod-template-hash\":\"5d8f9c7b6d\"},\"annotations\":{"
        "\"bench.bosun.io/created-by\":\"bosun bench list\",\"prometheus.io/scrape\":\"true\","
        "\"prometheus.io/port\":\"9102\"}},\"spec\":{\"schedulerName\":\"bench-none\","
        "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"containers\":[{"
        "\"name\":\"app\",\"image\":\"registry.example.com/bench/app:1.27.3\","
        "\"imagePullPolicy\":\"IfNotPresent\",\"args\":[\"--listen=:8080\",\"--log-level=info\"],"
        "\"ports\":[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"},"
        "{\"name\":\"metrics\",\"containerPort\":9102,\"protocol\":\"TCP\"}],"
        "\"env\":[{\"name\":\"POD_INDEX\",\"value\":\"%lld\"},{\"name\":\"GOMAXPROCS\","
        "\"value\":\"2\"}],\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"},"
        "\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"}},\"readinessProbe\":{\"httpGet\":{"
        "\"path\":\"/healthz\",\"port\":8080},\"periodSeconds\":10}}]}}",
        i, p->ns, i % 16, i);
}

static void bench_list_delete_build(const struct bapi_pool *p, long long i, struct ubuf *path,
                                    struct ubuf *body)
{
    char *const *names = p->ctx;
    (void)body; /* a DELETE has none */
    ubuf_appendf(path, "/api/v1/namespaces/%s/pods/%s", p->ns, names[i]);
}

/* The names of the namespace's Pods (linearizable list); NULL on failure. */
static char **bench_list_names(const struct bapi_options *o, const char *url, long long *n)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", o->ns);
    json_t *list = bench_get_json(url, path, o->timeout_ms);
    json_t *items = json_object_get(list, "items");
    if (!json_is_array(items)) {
        json_decref(list);
        return NULL;
    }
    size_t k = json_array_size(items);
    char **names = xcalloc(k + 1, sizeof *names);
    *n = 0;
    for (size_t i = 0; i < k; i++) {
        json_t *md = json_object_get(json_array_get(items, i), "metadata");
        const char *name = json_string_value(json_object_get(md, "name"));
        if (name)
            names[(*n)++] = xstrdup(name);
    }
    json_decref(list);
    return names;
}

static void bench_list_names_free(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

/* Creates the Pods unless --objects of them are there already. */
static int bench_list_populate(const struct bapi_options *o, const char *url, json_t **line)
{
    long long have = 0;
    char **names = bench_list_names(o, url, &have);
    if (!names) {
        fprintf(stderr, "bosun bench list: cannot list pods in %s on %s\n", o->ns, url);
        return -1;
    }
    bench_list_names_free(names);
    FILE *out = o->json ? stderr : stdout;
    if (have >= o->objects) {
        fprintf(out, "bosun bench list: %lld pods already in %s: nothing to create\n", have, o->ns);
        *line = json_pack("{s:s, s:I, s:I, s:f}", "bench", "list_create", "existing",
                          (json_int_t)have, "created", (json_int_t)0, "seconds", 0.0);
        return 0;
    }
    struct bapi_pool p = {.servers = o->servers, .n_servers = o->n_servers, .method = "POST",
                          .ctype = "application/json", .build = bench_list_pod_build,
                          .ns = o->ns, .n = o->objects, .ok1 = 201, .ok2 = 409,
                          .timeout_ms = o->timeout_ms};
    double s = bapi_pool_run(&p, o->clients);
    long long done = atomic_load(&p.done), failed = atomic_load(&p.failed);
    fprintf(out, "bosun bench list: %lld pods were there; created or found %lld of %lld in %.1f s "
                 "(%.0f/s, %d threads), %lld failed%s\n",
            have, done, o->objects, s, s > 0 ? (double)done / s : 0, o->clients, failed,
            failed ? " (see below)" : "");
    if (failed)
        fprintf(stderr, "bosun bench list: last failure HTTP %d\n", atomic_load(&p.bad_status));
    *line = json_pack("{s:s, s:I, s:I, s:I, s:f, s:f}", "bench", "list_create", "existing",
                      (json_int_t)have, "created", (json_int_t)done, "failed", (json_int_t)failed,
                      "seconds", s, "rate", s > 0 ? (double)done / s : 0);
    return failed ? -1 : 0;
}

/* One way of listing: a server, a format, a consistency. */
struct list_case {
    const char *url;
    const char *role;
    bool table;
    bool local; /* resourceVersion=0 */
};

struct list_figures {
    double min_ms, median_ms, max_ms;
    size_t bytes;
    long long items; /* items or Table rows of the first answer; -1 unknown */
    int rounds_ok;
    int bad_status;
};

/* Items of a List, or rows of a Table. */
static long long bench_list_count_items(const struct httpc_response *r, bool table)
{
    json_t *v = json_loadb(r->body, r->body_len, 0, NULL);
    json_t *a = json_object_get(v, table ? "rows" : "items");
    long long n = json_is_array(a) ? (long long)json_array_size(a) : -1;
    json_decref(v);
    return n;
}

static void bench_list_case_run(const struct bapi_options *o, const struct list_case *c,
                                struct list_figures *f)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods%s", o->ns,
             c->local ? "?resourceVersion=0" : "");
    double *ms = xcalloc((size_t)o->rounds, sizeof *ms);
    *f = (struct list_figures){.items = -1};
    struct httpc *h = httpc_new(c->url);
    for (int i = 0; h && i < o->rounds; i++) {
        struct httpc_response r = {0};
        uint64_t t0 = util_now_us();
        int status = bench_http_call(h, "GET", path, c->table ? BAPI_TABLE_ACCEPT : NULL, NULL,
                                     NULL, o->timeout_ms, &r);
        uint64_t t1 = util_now_us();
        if (status == 200) {
            ms[f->rounds_ok++] = (double)(t1 - t0) / 1e3;
            f->bytes = r.body_len;
            if (f->items < 0)
                f->items = bench_list_count_items(&r, c->table);
        } else {
            f->bad_status = status;
        }
        if (status)
            httpc_response_free(&r);
    }
    if (h)
        httpc_free(h);
    qsort(ms, (size_t)f->rounds_ok, sizeof *ms, bapi_cmp_double);
    if (f->rounds_ok) {
        f->min_ms = ms[0];
        f->median_ms = ms[(f->rounds_ok - 1) / 2];
        f->max_ms = ms[f->rounds_ok - 1];
    }
    free(ms);
}

static void bench_list_case_report(const struct bapi_options *o, const struct list_case *c,
                                   const struct list_figures *f)
{
    FILE *out = o->json ? stderr : stdout;
    fprintf(out, "  %-9s %-6s %-12s %9.1f %9.1f %9.1f %11zu %7lld", c->role,
            c->table ? "table" : "json", c->local ? "rv=0" : "linearizable", f->min_ms,
            f->median_ms, f->max_ms, f->bytes, f->items);
    if (f->rounds_ok < o->rounds)
        fprintf(out, "  (%d of %d failed, last HTTP %d)", o->rounds - f->rounds_ok, o->rounds,
                f->bad_status);
    fputc('\n', out);
    if (o->json)
        bapi_json_emit(json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:f, s:f, s:f, s:I, s:I, s:i}", "bench",
            "list", "server", c->url, "role", c->role, "format", c->table ? "table" : "json",
            "read", c->local ? "rv=0" : "linearizable", "objects", (json_int_t)o->objects,
            "rounds", o->rounds, "rounds_ok", f->rounds_ok, "min_ms", f->min_ms, "median_ms",
            f->median_ms, "max_ms", f->max_ms, "bytes", (json_int_t)f->bytes, "items",
            (json_int_t)f->items, "bad_status", f->bad_status));
}

/* The leader and one follower among the servers (NULL when none). */
struct list_targets {
    const char *url[2];
    char role[2][32];
};

static void bench_list_targets_find(const struct bapi_options *o, struct list_targets *t)
{
    *t = (struct list_targets){0};
    for (int i = 0; i < o->n_servers; i++) {
        char role[32];
        bapi_role(o->servers[i], role, sizeof role);
        int k = strcmp(role, "leader") == 0 ? 0 : strcmp(role, "follower") == 0 ? 1 : -1;
        if (k >= 0 && !t->url[k]) {
            t->url[k] = o->servers[i];
            snprintf(t->role[k], sizeof t->role[k], "%s", role);
        }
    }
    if (!t->url[0] && !t->url[1]) { /* no roles known: time the first server */
        t->url[0] = o->servers[0];
        snprintf(t->role[0], sizeof t->role[0], "unknown");
    }
}

static void bench_list_measure(const struct bapi_options *o)
{
    struct list_targets t;
    bench_list_targets_find(o, &t);
    FILE *out = o->json ? stderr : stdout;
    fprintf(out, "bosun bench list: LIST of the pods in %s, %d rounds each, ms from request to "
                 "last byte\n  %-9s %-6s %-12s %9s %9s %9s %11s %7s\n",
            o->ns, o->rounds, "role", "format", "read", "min", "median", "max", "bytes",
            "items");
    for (int k = 0; k < 2; k++) {
        if (!t.url[k])
            continue;
        for (int m = 0; m < 4; m++) {
            struct list_case c = {t.url[k], t.role[k], m / 2 == 1, m % 2 == 1};
            struct list_figures f;
            bench_list_case_run(o, &c, &f);
            bench_list_case_report(o, &c, &f);
        }
    }
}

static void bench_list_cleanup(const struct bapi_options *o)
{
    long long n = 0;
    char **names = bench_list_names(o, o->servers[0], &n);
    if (!names)
        return;
    struct bapi_pool p = {.servers = o->servers, .n_servers = o->n_servers, .method = "DELETE",
                          .build = bench_list_delete_build, .ctx = names, .ns = o->ns, .n = n,
                          .ok1 = 200, .ok2 = 404, .timeout_ms = o->timeout_ms};
    double s = bapi_pool_run(&p, o->clients);
    fprintf(o->json ? stderr : stdout,
            "bosun bench list: deleted %lld pods in %.1f s, %lld failed\n", atomic_load(&p.done),
            s, atomic_load(&p.failed));
    bench_list_names_free(names);
}

int tools_bench_list_main(int argc, char **argv)
{
    struct bapi_options o = {.cmd = "list", .ns = "bench-list", .objects = LIST_DEFAULT_OBJECTS,
                             .rounds = LIST_DEFAULT_ROUNDS, .clients = LIST_DEFAULT_CLIENTS,
                             .timeout_ms = BAPI_DEFAULT_TIMEOUT_MS};
    int rc = bapi_parse_options(argc, argv, "sdnNrcxtj", bench_list_usage, &o);
    if (rc >= 0) {
        bapi_options_free(&o);
        return rc;
    }
    json_t *created = NULL;
    rc = bapi_namespace_ensure(&o, o.servers[0]) == 0 &&
                 bench_list_populate(&o, o.servers[0], &created) == 0
             ? 0
             : 1;
    if (o.json && created)
        bapi_json_emit(created);
    else
        json_decref(created);
    if (rc == 0)
        bench_list_measure(&o);
    if (o.cleanup)
        bench_list_cleanup(&o);
    bapi_options_free(&o);
    return rc;
}

/* ---- bosun bench reads ------------------------------------------------ */

static void bench_reads_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun bench reads --servers URL [flags]\n"
            "\n"
            "Creates --objects ConfigMaps, then --clients threads, each with one keep-alive\n"
            "connection to the first server and one GET in flight, read random ones by\n"
            "name for --duration: first linearizable (read-index), then resourceVersion=0.\n"
            "Reports GETs per second and latency percentiles of each phase.\n"
            "\n"
            "  --servers URL     the server to read from (meant: a follower)\n"
            "  --dir DIR         the first server of DIR/cluster.json\n"
            "  --objects N       ConfigMaps to read (default %d)\n"
            "  --size BYTES      their data size (default %d)\n"
            "  --namespace NS    where they live (default bench-reads)\n"
            "  --clients C       threads = GETs in flight (default %d)\n"
            "  --duration D      each phase (default 10s; the first second is warm-up)\n"
            "  --timeout D       per-request timeout (default 120s)\n"
            "  --json            one JSON line per phase on stdout (the summary to stderr)\n",
            READS_DEFAULT_OBJECTS, READS_DEFAULT_SIZE, READS_DEFAULT_CLIENTS);
}

static void bench_reads_cm_build(const struct bapi_pool *p, long long i, struct ubuf *path,
                                 struct ubuf *body)
{
    ubuf_appendf(path, "/api/v1/namespaces/%s/configmaps", p->ns);
    ubuf_appendf(body,
                 "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
                 "\"bench-read-%05lld\",\"namespace\":\"%s\",\"labels\":{\"app\":\"bench-reads\"}},"
                 "\"data\":{\"v\":\"%s\"}}",
                 i, p->ns, (const char *)p->ctx);
}

/* One phase: what its threads share. */
struct reads_run {
    const struct bapi_options *o;
    const char *url;
    bool local;
    uint64_t measure_us, deadline_us;
};

struct reads_thread {
    struct reads_run *run;
    pthread_t thread;
    uint64_t rng;
    uint32_t *lat;
    size_t n, cap;
    long long attempts, errors;
    int bad_status;
};

/* xorshift64*: each thread's own random names. */
static uint64_t bench_reads_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void bench_reads_sample(struct reads_thread *t, uint64_t us)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 4096;
        t->lat = xrealloc(t->lat, t->cap * sizeof *t->lat);
    }
    t->lat[t->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void *bench_reads_thread_run(void *arg)
{
    struct reads_thread *t = arg;
    const struct reads_run *r = t->run;
    struct httpc *h = httpc_new(r->url);
    if (!h)
        return NULL;
    char path[512];
    while (util_now_us() < r->deadline_us) {
        long long i = (long long)(bench_reads_next(&t->rng) % (uint64_t)r->o->objects);
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/bench-read-%05lld%s",
                 r->o->ns, i, r->local ? "?resourceVersion=0" : "");
        uint64_t t0 = util_now_us();
        int status = bench_http_call(h, "GET", path, NULL, NULL, NULL, r->o->timeout_ms, NULL);
        uint64_t t1 = util_now_us();
        t->attempts++;
        if (status != 200) {
            t->errors++;
            t->bad_status = status;
            bench_sleep_ms(10);
        } else if (t1 >= r->measure_us && t1 <= r->deadline_us) {
            bench_reads_sample(t, t1 - t0);
        }
    }
    httpc_free(h);
    return NULL;
}

struct reads_figures {
    struct bench_lat lat;
    double seconds, rate;
    long long attempts, errors;
    int bad_status;
};

static void bench_reads_merge(const struct reads_run *r, struct reads_thread *ts, int n,
                              struct reads_figures *f)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += ts[i].n;
    uint32_t *all = xmalloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    *f = (struct reads_figures){0};
    for (int i = 0; i < n; i++) {
        if (ts[i].n)
            memcpy(all + k, ts[i].lat, ts[i].n * sizeof *all);
        k += ts[i].n;
        f->attempts += ts[i].attempts;
        f->errors += ts[i].errors;
        if (ts[i].bad_status)
            f->bad_status = ts[i].bad_status;
    }
    bench_lat_summarize(all, total, &f->lat);
    f->seconds = (double)(r->deadline_us - r->measure_us) / 1e6;
    f->rate = f->seconds > 0 ? (double)total / f->seconds : 0;
    free(all);
}

static void bench_reads_phase(const struct bapi_options *o, const char *url, bool local,
                              struct reads_figures *f)
{
    long warmup = o->duration_ms / 10 < READS_MAX_WARMUP_MS ? o->duration_ms / 10
                                                            : READS_MAX_WARMUP_MS;
    uint64_t now = util_now_us();
    struct reads_run r = {.o = o, .url = url, .local = local,
                          .measure_us = now + (uint64_t)warmup * 1000,
                          .deadline_us = now + (uint64_t)o->duration_ms * 1000};
    struct reads_thread *ts = xcalloc((size_t)o->clients, sizeof *ts);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, BAPI_THREAD_STACK);
    int started = 0;
    for (; started < o->clients; started++) {
        ts[started].run = &r;
        util_random_bytes(&ts[started].rng, sizeof ts[started].rng);
        ts[started].rng |= 1;
        if (pthread_create(&ts[started].thread, &attr, bench_reads_thread_run, &ts[started]) != 0)
            break;
    }
    pthread_attr_destroy(&attr);
    if (started < o->clients)
        fprintf(stderr, "bosun bench reads: only %d of %d threads started\n", started, o->clients);
    for (int i = 0; i < started; i++)
        pthread_join(ts[i].thread, NULL);
    bench_reads_merge(&r, ts, started, f);
    for (int i = 0; i < o->clients; i++)
        free(ts[i].lat);
    free(ts);
}

static void bench_reads_report(const struct bapi_options *o, const char *url, const char *role,
                               bool local, const struct reads_figures *f)
{
    FILE *out = o->json ? stderr : stdout;
    fprintf(out, "  %-12s %9.0f/s  p50 %6.2f  p90 %6.2f  p99 %7.2f  max %8.2f ms  errors %lld",
            local ? "rv=0" : "linearizable", f->rate, f->lat.p50 / 1e3, f->lat.p90 / 1e3,
            f->lat.p99 / 1e3, f->lat.max / 1e3, f->errors);
    if (f->errors)
        fprintf(out, " (last HTTP %d)", f->bad_status);
    fputc('\n', out);
    if (o->json)
        bapi_json_emit(json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:f, s:f, s:f, s:f, "
                                 "s:f, s:f, s:f, s:I, s:i}",
                                 "bench", "reads", "server", url, "role", role, "read",
                                 local ? "rv=0" : "linearizable", "clients", o->clients, "objects",
                                 (json_int_t)o->objects, "ops", (json_int_t)f->lat.n, "attempts",
                                 (json_int_t)f->attempts, "seconds", f->seconds, "rate", f->rate,
                                 "p50_ms", f->lat.p50 / 1e3, "p90_ms", f->lat.p90 / 1e3,
                                 "p99_ms", f->lat.p99 / 1e3, "max_ms", f->lat.max / 1e3,
                                 "mean_ms", f->lat.mean_us / 1e3, "errors", (json_int_t)f->errors,
                                 "bad_status", f->bad_status));
}

static int bench_reads_populate(const struct bapi_options *o, const char *url)
{
    char *pad = bapi_padding_new(o->size);
    struct bapi_pool p = {.servers = (char *const[]){(char *)url}, .n_servers = 1,
                          .method = "POST", .ctype = "application/json",
                          .build = bench_reads_cm_build, .ctx = pad, .ns = o->ns, .n = o->objects,
                          .ok1 = 201, .ok2 = 409, .timeout_ms = o->timeout_ms};
    double s = bapi_pool_run(&p, o->clients < 32 ? o->clients : 32);
    free(pad);
    long long failed = atomic_load(&p.failed);
    fprintf(o->json ? stderr : stdout,
            "bosun bench reads: %lld ConfigMaps of %d bytes in %s created or found in %.1f s%s\n",
            atomic_load(&p.done), o->size, o->ns, s, failed ? "; some failed" : "");
    if (failed)
        fprintf(stderr, "bosun bench reads: %lld creates failed, last HTTP %d\n", failed,
                atomic_load(&p.bad_status));
    return failed ? -1 : 0;
}

int tools_bench_reads_main(int argc, char **argv)
{
    struct bapi_options o = {.cmd = "reads", .ns = "bench-reads", .objects = READS_DEFAULT_OBJECTS,
                             .clients = READS_DEFAULT_CLIENTS, .size = READS_DEFAULT_SIZE,
                             .duration_ms = READS_DEFAULT_DURATION_MS,
                             .timeout_ms = BAPI_DEFAULT_TIMEOUT_MS};
    int rc = bapi_parse_options(argc, argv, "sdnNzcDtj", bench_reads_usage, &o);
    if (rc >= 0) {
        bapi_options_free(&o);
        return rc;
    }
    const char *url = o.servers[0];
    char role[32];
    bapi_role(url, role, sizeof role);
    rc = 1;
    if (bapi_namespace_ensure(&o, url) == 0 && bench_reads_populate(&o, url) == 0) {
        fprintf(o.json ? stderr : stdout,
                "bosun bench reads: GET by name on %s (%s), %d clients, %.1f s per phase\n", url,
                role, o.clients, o.duration_ms / 1e3);
        long long ops = 0;
        for (int local = 0; local < 2; local++) {
            struct reads_figures f;
            bench_reads_phase(&o, url, local, &f);
            bench_reads_report(&o, url, role, local, &f);
            ops += f.lat.n;
        }
        rc = ops > 0 ? 0 : 1;
    }
    bapi_options_free(&o);
    return rc;
}

/* ---- bosun bench watch: the streams ----------------------------------- */

enum watcher_state { WS_IDLE, WS_CONNECTING, WS_HEAD, WS_BODY, WS_DONE };
enum chunk_state { CK_SIZE, CK_EXT, CK_DATA, CK_CRLF };

/* One watch stream. Owned by one thread; main reads it after the join. */
struct watcher {
    int fd;
    uint8_t state;    /* enum watcher_state */
    uint8_t ck;       /* enum chunk_state, in WS_BODY */
    bool ok;          /* answered 200 with a chunked body */
    bool ready;       /* received the warm-up event (0) */
    bool dropped;     /* the stream ended after ok */
    size_t ck_left;   /* bytes left in the current chunk */
    struct ubuf buf;  /* the response head, then the event line being read */
    int last_seq;
    int got;          /* measured events received */
    uint32_t *lat;    /* --events slots (µs), WATCH_MISSING until received */
};

/* One point of a run: what main and the stream threads share. */
struct watch_point {
    const struct bapi_options *o;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char request[1024];
    size_t request_len;
    int watchers;
    _Atomic int n_ok, n_failed, n_ready, n_complete, n_dropped, n_errors;
    _Atomic bool stop;
};

struct watch_thread {
    struct watch_point *p;
    pthread_t thread;
    int ep;
    struct watcher *ws;
    int n, opened, pending;
};

static void watcher_finish(struct watch_thread *t, struct watcher *w)
{
    if (w->state == WS_DONE)
        return;
    if (w->state == WS_CONNECTING || w->state == WS_HEAD)
        t->pending--;
    if (w->fd >= 0)
        close(w->fd); /* also leaves the epoll set */
    w->fd = -1;
    if (w->ok) {
        w->dropped = true;
        atomic_fetch_add(&t->p->n_dropped, 1);
    } else {
        atomic_fetch_add(&t->p->n_failed, 1);
    }
    w->state = WS_DONE;
}

static void watcher_open(struct watch_thread *t, struct watcher *w)
{
    w->state = WS_CONNECTING;
    t->pending++;
    w->fd = socket(t->p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (w->fd < 0) {
        watcher_finish(t, w);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = w};
    if ((connect(w->fd, (struct sockaddr *)&t->p->addr, t->p->addr_len) != 0 &&
         errno != EINPROGRESS) ||
        epoll_ctl(t->ep, EPOLL_CTL_ADD, w->fd, &ev) != 0)
        watcher_finish(t, w);
}

/* Connected (or not): send the request, then wait for the head. */
static void watcher_on_writable(struct watch_thread *t, struct watcher *w)
{
    int err = 0;
    socklen_t len = sizeof err;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = w};
    if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0 ||
        write(w->fd, t->p->request, t->p->request_len) != (ssize_t)t->p->request_len ||
        epoll_ctl(t->ep, EPOLL_CTL_MOD, w->fd, &ev) != 0) {
        watcher_finish(t, w);
        return;
    }
    w->state = WS_HEAD;
}

/* Finds `"key":"` in s and reads the number after it. */
static bool watch_field(const char *s, const char *key, unsigned long long *v)
{
    const char *p = strstr(s, key);
    if (!p)
        return false;
    char *end;
    *v = strtoull(p + strlen(key), &end, 10);
    return *end == '"';
}

/* One event line (NUL-terminated), received at now (µs, realtime). Only
 * the data object is looked at: data.s (event number) and data.t (sent). */
static void watcher_event(struct watch_thread *t, struct watcher *w, const char *line, uint64_t now)
{
    if (strstr(line, "\"type\":\"ERROR\"")) {
        atomic_fetch_add(&t->p->n_errors, 1);
        watcher_finish(t, w);
        return;
    }
    const char *d = strstr(line, "\"data\":{");
    unsigned long long seq, sent;
    if (!d || !watch_field(d, "\"s\":\"", &seq) || !watch_field(d, "\"t\":\"", &sent) ||
        seq > (unsigned long long)t->p->o->events || (int)seq <= w->last_seq)
        return;
    w->last_seq = (int)seq;
    if (seq == 0) {
        w->ready = true;
        atomic_fetch_add(&t->p->n_ready, 1);
        return;
    }
    uint64_t us = now > sent ? now - sent : 0;
    w->lat[seq - 1] = us >= WATCH_MISSING ? WATCH_MISSING - 1 : (uint32_t)us;
    if (++w->got == t->p->o->events)
        atomic_fetch_add(&t->p->n_complete, 1);
}

/* Body bytes (de-chunked): split into lines. */
static void watcher_body(struct watch_thread *t, struct watcher *w, const char *p, size_t n,
                         uint64_t now)
{
    while (n > 0 && w->state == WS_BODY) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) + 1 : n;
        ubuf_append(&w->buf, p, k);
        p += k;
        n -= k;
        if (nl) {
            w->buf.data[w->buf.len - 1] = '\0';
            watcher_event(t, w, w->buf.data, now);
            w->buf.len = 0;
        }
    }
}

/* The end of a chunk-size line: a 0-size chunk ends the stream. */
static void watcher_chunk_start(struct watch_thread *t, struct watcher *w)
{
    if (w->ck_left == 0)
        watcher_finish(t, w);
    else
        w->ck = CK_DATA;
}

/* Chunked framing, byte by byte for the size lines. */
static void watcher_chunked(struct watch_thread *t, struct watcher *w, const char *p, size_t n,
                            uint64_t now)
{
    while (n > 0 && w->state == WS_BODY) {
        if (w->ck == CK_DATA) {
            size_t k = n < w->ck_left ? n : w->ck_left;
            watcher_body(t, w, p, k, now);
            p += k;
            n -= k;
            w->ck_left -= k;
            if (w->ck_left == 0)
                w->ck = CK_CRLF;
            continue;
        }
        char c = *p++;
        n--;
        if (w->ck == CK_CRLF) {
            if (c == '\n') {
                w->ck = CK_SIZE;
                w->ck_left = 0;
            }
        } else if (c == '\n') {
            watcher_chunk_start(t, w);
        } else if (w->ck == CK_SIZE && c == ';') {
            w->ck = CK_EXT;
        } else if (w->ck == CK_SIZE && c != '\r') {
            const char *hex = "0123456789abcdef", *x = strchr(hex, c | 0x20);
            if (!x || !c)
                watcher_finish(t, w);
            else
                w->ck_left = w->ck_left * 16 + (size_t)(x - hex);
        }
    }
}

/* The response head: 200 and chunked, or the stream failed. */
static void watcher_head(struct watch_thread *t, struct watcher *w, const char *p, size_t n,
                         uint64_t now)
{
    ubuf_append(&w->buf, p, n);
    ubuf_append(&w->buf, "", 1);
    w->buf.len--;
    char *end = strstr(w->buf.data, "\r\n\r\n");
    if (!end) {
        if (w->buf.len > 16384)
            watcher_finish(t, w);
        return;
    }
    *end = '\0';
    int status = 0;
    sscanf(w->buf.data, "HTTP/1.%*d %d", &status);
    if (status != 200 || !strcasestr(w->buf.data, "\r\ntransfer-encoding: chunked")) {
        watcher_finish(t, w);
        return;
    }
    size_t body = (size_t)(end + 4 - w->buf.data), rest = w->buf.len - body;
    char *tail = rest ? xstrndup(end + 4, rest) : NULL;
    w->buf.len = 0;
    w->ok = true;
    w->state = WS_BODY;
    w->ck = CK_SIZE;
    t->pending--;
    atomic_fetch_add(&t->p->n_ok, 1);
    if (tail)
        watcher_chunked(t, w, tail, rest, now);
    free(tail);
}

static void watcher_on_readable(struct watch_thread *t, struct watcher *w, char *buf)
{
    ssize_t n = read(w->fd, buf, WATCH_READ_BUF);
    uint64_t now = bapi_realtime_us();
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        watcher_finish(t, w);
        return;
    }
    if (w->state == WS_HEAD)
        watcher_head(t, w, buf, (size_t)n, now);
    else if (w->state == WS_BODY)
        watcher_chunked(t, w, buf, (size_t)n, now);
}

static void watcher_on_event(struct watch_thread *t, struct watcher *w, uint32_t events, char *buf)
{
    if (w->state == WS_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            watcher_on_writable(t, w);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
        watcher_on_readable(t, w, buf);
}

/* A stream thread: opens its watchers (a few at a time), then reads them
 * until main says stop. */
static void *watch_thread_run(void *arg)
{
    struct watch_thread *t = arg;
    char *buf = xmalloc(WATCH_READ_BUF);
    struct epoll_event evs[WATCH_EPOLL_BATCH];
    while (!atomic_load(&t->p->stop)) {
        while (t->opened < t->n && t->pending < WATCH_MAX_PENDING)
            watcher_open(t, &t->ws[t->opened++]);
        int k = epoll_wait(t->ep, evs, WATCH_EPOLL_BATCH, 20);
        for (int i = 0; i < k; i++)
            watcher_on_event(t, evs[i].data.ptr, evs[i].events, buf);
    }
    for (int i = 0; i < t->n; i++)
        if (t->ws[i].fd >= 0)
            close(t->ws[i].fd);
    free(buf);
    return NULL;
}

/* ---- bosun bench watch: one point ------------------------------------- */

struct watch_figures {
    int requested, ok, ready, dropped, errors, failed, lost;
    long long missing;           /* (watcher, event) pairs never received */
    struct bench_lat lat;         /* delivery: receive − data.t */
    struct bench_lat write;       /* the writer's PATCH */
    int write_errors;
    double send_seconds;         /* from the first measured event to the last */
    double cpu_s;                /* this process during the point */
};

/* The watched server's current revision (a linearizable list, limit=1). */
static int watch_current_rv(const struct bapi_options *o, const char *url, char *rv, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps?limit=1", o->ns);
    json_t *v = bench_get_json(url, path, o->timeout_ms);
    const char *s = json_string_value(json_object_get(json_object_get(v, "metadata"),
                                                      "resourceVersion"));
    snprintf(rv, len, "%s", s ? s : "");
    json_decref(v);
    return s ? 0 : -1;
}

/* The watch request and the server's address. */
static int watch_point_prepare(struct watch_point *p, const char *url)
{
    char host[256], port[16], rv[32];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (bapi_url_split(url, host, sizeof host, port, sizeof port) != 0 ||
        getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "bosun bench watch: cannot resolve %s\n", url);
        return -1;
    }
    memcpy(&p->addr, ai->ai_addr, ai->ai_addrlen);
    p->addr_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    /* A server still reaping the streams of the previous point may have its
     * connection table full for a while: try again, a second apart. */
    int tries = 0;
    while (watch_current_rv(p->o, url, rv, sizeof rv) != 0) {
        if (++tries == WATCH_RV_TRIES) {
            fprintf(stderr, "bosun bench watch: cannot read the revision of %s\n", url);
            return -1;
        }
        bench_sleep_ms(1000);
    }
    int n = snprintf(p->request, sizeof p->request,
                     "GET /api/v1/namespaces/%s/configmaps?watch=true&resourceVersion=%s "
                     "HTTP/1.1\r\nHost: %s:%s\r\nAccept: application/json\r\n"
                     "User-Agent: bosun-bench\r\n\r\n",
                     p->o->ns, rv, host, port);
    p->request_len = (size_t)n;
    return n > 0 && (size_t)n < sizeof p->request ? 0 : -1;
}

/* Waits until cond(p) holds or timeout_ms passes; true if it held. */
static bool watch_wait(const struct watch_point *p, bool (*cond)(const struct watch_point *),
                       long timeout_ms)
{
    uint64_t deadline = util_now_ms() + (uint64_t)timeout_ms;
    while (!cond(p)) {
        if (util_now_ms() >= deadline)
            return false;
        bench_sleep_ms(10);
    }
    return true;
}

static bool watch_all_answered(const struct watch_point *p)
{
    return atomic_load(&p->n_ok) + atomic_load(&p->n_failed) >= p->watchers;
}

static bool watch_all_ready(const struct watch_point *p)
{
    return atomic_load(&p->n_ready) + atomic_load(&p->n_dropped) >= atomic_load(&p->n_ok);
}

static bool watch_all_complete(const struct watch_point *p)
{
    return atomic_load(&p->n_complete) + atomic_load(&p->n_dropped) >= atomic_load(&p->n_ok);
}

/* PATCHes data.s = seq, data.t = now (µs, realtime); the HTTP status. */
static int watch_write(struct httpc *h, const struct bapi_options *o, int seq, uint32_t *us)
{
    char path[512], body[128];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/" WATCH_OBJECT, o->ns);
    uint64_t t0 = util_now_us();
    snprintf(body, sizeof body, "{\"data\":{\"s\":\"%d\",\"t\":\"%llu\"}}", seq,
             (unsigned long long)bapi_realtime_us());
    int status = bench_http_call(h, "PATCH", path, NULL, "application/merge-patch+json", body,
                           o->timeout_ms, NULL);
    uint64_t d = util_now_us() - t0;
    *us = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    return status;
}

/* The measured events 1..E at --rate; the writer's latencies go to f. */
static void watch_send_events(const struct bapi_options *o, struct httpc *h,
                              struct watch_figures *f)
{
    uint32_t *lat = xcalloc((size_t)o->events, sizeof *lat);
    size_t n = 0;
    uint64_t start = util_now_us();
    double period_us = 1e6 / o->rate;
    for (int seq = 1; seq <= o->events; seq++) {
        uint64_t at = start + (uint64_t)((seq - 1) * period_us), now = util_now_us();
        if (at > now)
            bench_sleep_ms((long)((at - now + 999) / 1000));
        uint32_t us;
        if (watch_write(h, o, seq, &us) == 200)
            lat[n++] = us;
        else
            f->write_errors++;
    }
    f->send_seconds = (double)(util_now_us() - start) / 1e6;
    bench_lat_summarize(lat, n, &f->write);
    free(lat);
}

/* Delivery latencies over all (watcher, event) pairs of connected watchers. */
static void watch_merge(const struct watch_point *p, const struct watcher *ws,
                        struct watch_figures *f)
{
    int e = p->o->events;
    uint32_t *all = xmalloc((size_t)p->watchers * (size_t)e * sizeof *all);
    size_t n = 0;
    for (int i = 0; i < p->watchers; i++) {
        if (!ws[i].ok)
            continue;
        f->ready += ws[i].ready;
        f->dropped += ws[i].dropped;
        f->lost += ws[i].got < e;
        f->missing += e - ws[i].got;
        for (int k = 0; k < e; k++)
            if (ws[i].lat[k] != WATCH_MISSING)
                all[n++] = ws[i].lat[k];
    }
    bench_lat_summarize(all, n, &f->lat);
    free(all);
}

static int watch_threads_start(struct watch_point *p, struct watch_thread *ts, int nt,
                               struct watcher *ws)
{
    int per = (p->watchers + nt - 1) / nt, started = 0;
    for (int i = 0; i < nt; i++) {
        int from = i * per, to = from + per < p->watchers ? from + per : p->watchers;
        ts[i] = (struct watch_thread){.p = p, .ws = ws + from, .n = to > from ? to - from : 0};
        ts[i].ep = epoll_create1(EPOLL_CLOEXEC);
        if (ts[i].ep < 0 || pthread_create(&ts[i].thread, NULL, watch_thread_run, &ts[i]) != 0) {
            fprintf(stderr, "bosun bench watch: cannot start stream thread %d\n", i);
            if (ts[i].ep >= 0)
                close(ts[i].ep);
            break;
        }
        started++;
    }
    return started;
}

/* Connect, warm up, send, wait, stop: the run of one point. */
static void watch_point_drive(struct watch_point *p, struct httpc *writer, struct watch_figures *f)
{
    const struct bapi_options *o = p->o;
    watch_wait(p, watch_all_answered, 10000 + (long)p->watchers * 4);
    uint32_t us;
    int status = watch_write(writer, o, 0, &us);
    if (status != 200)
        fprintf(stderr, "bosun bench watch: the warm-up PATCH answered HTTP %d\n", status);
    if (!watch_wait(p, watch_all_ready, WATCH_READY_WAIT_MS))
        fprintf(stderr, "bosun bench watch: %d of %d streams got the warm-up event in %d s\n",
                atomic_load(&p->n_ready), atomic_load(&p->n_ok), WATCH_READY_WAIT_MS / 1000);
    watch_send_events(o, writer, f);
    watch_wait(p, watch_all_complete, WATCH_GRACE_MS);
    atomic_store(&p->stop, true);
}

/* Opens the writer's keep-alive connection with a GET of the ConfigMap,
 * before the streams: a server whose connection table they fill would
 * refuse the writer (and then nothing could be measured). */
static int watch_writer_connect(const struct bapi_options *o, struct httpc *writer)
{
    char path[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/" WATCH_OBJECT
             "?resourceVersion=0", o->ns);
    int status = bench_http_call(writer, "GET", path, NULL, NULL, NULL, o->timeout_ms, NULL);
    if (status == 200)
        return 0;
    fprintf(stderr, "bosun bench watch: the writer's GET answered HTTP %d\n", status);
    return -1;
}

/* Runs one point with `watchers` streams; 0, or -1 if it could not start. */
static int watch_point_run(const struct bapi_options *o, const char *url, const char *writer_url,
                           int watchers, struct watch_figures *f)
{
    struct watch_point *p = xcalloc(1, sizeof *p);
    p->o = o;
    p->watchers = watchers;
    *f = (struct watch_figures){.requested = watchers};
    struct httpc *writer = httpc_new(writer_url);
    if (!writer || watch_point_prepare(p, url) != 0 || watch_writer_connect(o, writer) != 0) {
        if (writer)
            httpc_free(writer);
        free(p);
        return -1;
    }
    struct watcher *ws = xcalloc((size_t)watchers, sizeof *ws);
    uint32_t *lat = xmalloc((size_t)watchers * (size_t)o->events * sizeof *lat);
    memset(lat, 0xff, (size_t)watchers * (size_t)o->events * sizeof *lat); /* WATCH_MISSING */
    for (int i = 0; i < watchers; i++)
        ws[i] = (struct watcher){.fd = -1, .last_seq = -1, .lat = lat + (size_t)i * o->events};
    int nt = o->threads < watchers ? o->threads : watchers;
    struct watch_thread *ts = xcalloc((size_t)nt, sizeof *ts);
    double cpu0 = bapi_cpu_seconds();
    int started = watch_threads_start(p, ts, nt, ws);
    if (started == nt)
        watch_point_drive(p, writer, f);
    atomic_store(&p->stop, true);
    for (int i = 0; i < started; i++) {
        pthread_join(ts[i].thread, NULL);
        close(ts[i].ep);
    }
    f->cpu_s = bapi_cpu_seconds() - cpu0;
    f->ok = atomic_load(&p->n_ok);
    f->failed = watchers - f->ok;
    f->errors = atomic_load(&p->n_errors);
    watch_merge(p, ws, f);
    for (int i = 0; i < watchers; i++)
        ubuf_free(&ws[i].buf);
    free(lat);
    free(ws);
    free(ts);
    httpc_free(writer);
    free(p);
    return started == nt ? 0 : -1;
}

/* ---- bosun bench watch: the command ----------------------------------- */

static void bench_watch_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun bench watch --servers URL [flags]\n"
            "\n"
            "Opens --watchers watch streams on ConfigMaps on one server, then patches one\n"
            "ConfigMap --events times at --rate with its send time in data.t, and reports\n"
            "the delivery latency (receive time - data.t) over every (watcher, event) pair,\n"
            "the watchers that missed events and the watchers actually connected.\n"
            "\n"
            "  --servers URL     the server to watch (the first of the list)\n"
            "  --dir DIR         the first server of DIR/cluster.json\n"
            "  --writer URL      where the PATCHes go (default the watched server)\n"
            "  --watchers W      streams (default %d)\n"
            "  --sweep W1,W2,..  one point per count instead, and the largest count whose\n"
            "                    every watcher connected, lost nothing and saw p99 <= 100 ms\n"
            "  --events E        measured events per point (default %d; plus one warm-up)\n"
            "  --rate R[/s]      events per second (default 20)\n"
            "  --threads T       client threads reading the streams with epoll (default 1)\n"
            "  --namespace NS    where the ConfigMap lives (default bench-watch)\n"
            "  --timeout D       per-request timeout (default 120s)\n"
            "  --json            one JSON line per point on stdout (the summary to stderr)\n",
            WATCH_DEFAULT_WATCHERS, WATCH_DEFAULT_EVENTS);
}

/* Room for one descriptor per watcher; the count that fits, which may be
 * less than asked for when the hard limit is too low. */
static int watch_nofile_raise(int want_watchers, FILE *out)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)want_watchers + WATCH_FD_SLACK;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want_watchers;
    if (rl.rlim_cur >= want)
        return want_watchers;
    struct rlimit up = {want, rl.rlim_max > want ? rl.rlim_max : want};
    if (setrlimit(RLIMIT_NOFILE, &up) == 0)
        return want_watchers;
    up.rlim_max = rl.rlim_max;
    up.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &up) != 0)
        up.rlim_cur = rl.rlim_cur;
    int fit = up.rlim_cur > WATCH_FD_SLACK ? (int)(up.rlim_cur - WATCH_FD_SLACK) : 1;
    fprintf(out, "bosun bench watch: cannot raise RLIMIT_NOFILE to %llu (hard limit %llu): "
                 "at most %d watchers\n",
            (unsigned long long)want, (unsigned long long)rl.rlim_max, fit);
    return fit;
}

/* The ConfigMap the writer patches; 0 if it exists. */
static int watch_object_ensure(const struct bapi_options *o, const char *url)
{
    struct httpc *h = httpc_new(url);
    if (!h)
        return -1;
    char path[512], body[512];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", o->ns);
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" WATCH_OBJECT
             "\",\"namespace\":\"%s\"},\"data\":{\"s\":\"-1\",\"t\":\"0\"}}",
             o->ns);
    int status =
        bench_http_call(h, "POST", path, NULL, "application/json", body, o->timeout_ms, NULL);
    httpc_free(h);
    if (status == 201 || status == 409)
        return 0;
    fprintf(stderr, "bosun bench watch: cannot create the ConfigMap on %s: HTTP %d\n", url, status);
    return -1;
}

static bool watch_point_good(const struct watch_figures *f)
{
    return f->ok == f->requested && f->ready == f->requested && f->lost == 0 &&
           f->lat.n > 0 && f->lat.p99 <= WATCH_GOAL_P99_US;
}

static void watch_point_report(const struct bapi_options *o, const char *url, const char *writer,
                               const char *role, const struct watch_figures *f)
{
    FILE *out = o->json ? stderr : stdout;
    fprintf(out, "  %8d %9d %10d %7.1f %7.1f %7.1f %8.1f %6d %8lld %6.1f/%-6.1f %6.1f\n",
            f->requested, f->ok, f->ready, f->lat.p50 / 1e3, f->lat.p90 / 1e3, f->lat.p99 / 1e3,
            f->lat.max / 1e3, f->lost, f->missing, f->write.p50 / 1e3, f->write.p99 / 1e3,
            f->cpu_s);
    if (f->dropped || f->errors || f->write_errors)
        fprintf(out, "           (%d streams ended early, %d ERROR events, %d PATCHes failed)\n",
                f->dropped, f->errors, f->write_errors);
    if (!o->json)
        return;
    bapi_json_emit(json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:f, s:i, s:I, s:f, s:f, s:f, s:f, s:f, s:i, "
        "s:I, s:i, s:i, s:f, s:f, s:i, s:f, s:b}",
        "bench", "watch", "server", url, "writer", writer, "role", role, "watchers", f->requested,
        "connected", f->ok, "delivering", f->ready, "events", o->events, "rate", o->rate,
        "threads", o->threads, "samples", (json_int_t)f->lat.n, "p50_ms", f->lat.p50 / 1e3,
        "p90_ms", f->lat.p90 / 1e3, "p99_ms", f->lat.p99 / 1e3, "max_ms", f->lat.max / 1e3,
        "mean_ms", f->lat.mean_us / 1e3,
        "lost_watchers", f->lost, "missing_events", (json_int_t)f->missing, "dropped", f->dropped,
        "error_events", f->errors, "write_p50_ms", f->write.p50 / 1e3, "write_p99_ms",
        f->write.p99 / 1e3, "write_errors", f->write_errors, "client_cpu_s", f->cpu_s, "goal_met",
        watch_point_good(f)));
}

/* Runs every point; prints the largest good count of a sweep. */
static int watch_run_points(const struct bapi_options *o, const int *counts, int n)
{
    const char *url = o->servers[0], *writer = o->writer ? o->writer : url;
    char role[32];
    bapi_role(url, role, sizeof role);
    FILE *out = o->json ? stderr : stdout;
    fprintf(out,
            "bosun bench watch: streams on %s (%s), writer %s, %d events at %.1f/s per point, "
            "%d client thread(s); ms\n  %8s %9s %10s %7s %7s %7s %8s %6s %8s %13s %6s\n",
            url, role, writer, o->events, o->rate, o->threads, "watchers", "connected",
            "delivering", "p50", "p90", "p99", "max", "lost", "missing", "write p50/p99",
            "cpu-s");
    int best = 0, ran = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0)
            bench_sleep_ms(WATCH_SETTLE_MS);
        struct watch_figures f;
        if (watch_point_run(o, url, writer, counts[i], &f) != 0)
            continue;
        ran++;
        watch_point_report(o, url, writer, role, &f);
        if (watch_point_good(&f) && counts[i] > best)
            best = counts[i];
    }
    if (n > 1) {
        fprintf(out, "largest watcher count with every watcher connected, nothing lost and p99 "
                     "<= 100 ms: %d\n", best);
        if (o->json)
            bapi_json_emit(json_pack("{s:s, s:s, s:i}", "bench", "watch_sweep", "server", url,
                                     "max_watchers_p99_le_100ms", best));
    }
    return ran == n ? 0 : 1;
}

int tools_bench_watch_main(int argc, char **argv)
{
    struct bapi_options o = {.cmd = "watch", .ns = "bench-watch",
                             .watchers = WATCH_DEFAULT_WATCHERS, .events = WATCH_DEFAULT_EVENTS,
                             .rate = 20, .threads = 1, .timeout_ms = BAPI_DEFAULT_TIMEOUT_MS};
    int rc = bapi_parse_options(argc, argv, "sdnwWSERTtj", bench_watch_usage, &o);
    if (rc >= 0) {
        bapi_options_free(&o);
        return rc;
    }
    if (o.n_sweep == 0)
        o.sweep[o.n_sweep++] = o.watchers;
    int most = 0;
    for (int i = 0; i < o.n_sweep; i++)
        most = o.sweep[i] > most ? o.sweep[i] : most;
    int fit = watch_nofile_raise(most, o.json ? stderr : stdout);
    for (int i = 0; i < o.n_sweep; i++)
        o.sweep[i] = o.sweep[i] < fit ? o.sweep[i] : fit;
    const char *writer = o.writer ? o.writer : o.servers[0];
    rc = 1;
    if (bapi_namespace_ensure(&o, writer) == 0 && watch_object_ensure(&o, writer) == 0)
        rc = watch_run_points(&o, o.sweep, o.n_sweep);
    bapi_options_free(&o);
    return rc;
}
