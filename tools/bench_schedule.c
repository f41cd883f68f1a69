/* bench_schedule.c — `bosun bench schedule`: how fast the cluster schedules
 * pods onto hollow nodes, from the first create to the last binding.
 *
 * A run, in order (each step in its own function below):
 *   1. the cluster: with --server or --kubeconfig an existing one (its
 *      members' API URLs are asked for with GET /cluster/status); otherwise
 *      `bosun up --detach` starts --servers servers in a temporary directory
 *      on a free base port (bench_schedule_procs.c), stopped with `bosun
 *      down` at the end, also after an error or SIGINT/SIGTERM;
 *   2. the workload (bench_schedule_workload.c): the preset's node groups
 *      and pod bodies; PriorityClasses if it needs them;
 *   3. the nodes: one `bosun agent --hollow N` per node group, every node
 *      labelled bench.bosun.dev/run=RUN; we poll GET /api/v1/nodes with that
 *      selector until N nodes are Ready;
 *   4. the watch (bench_schedule_watch.c) on the pods of the namespace,
 *      from the revision of a LIST taken before the first create, so that
 *      no binding can be missed;
 *   5. the pods: --clients connections (bench_loop.c: on --threads epoll
 *      loops), each a keep-alive connection to one server (round-robin
 *      over all of them) with one request in flight, POST pods named
 *      bench-000001... one at a time; with --create-rate R pod k of a phase
 *      is sent no earlier than k/R seconds after the phase began. A POST
 *      that gets no answer, 429 or 5xx is retried (3 times, backing off);
 *      409 on a retry means the first attempt did create the pod;
 *   6. the main thread prints the progress line once a second and ends the
 *      phase when every created pod has been seen bound (or deleted, for the
 *      preemption preset's victims), or at --timeout, or on a signal;
 *   7. the agents are stopped (unless --keep), so that the state stops
 *      moving; the checks (bench_schedule_check.c) read it, and the report
 *      (bench_schedule_report.c) prints the figures, writes --json and
 *      draws --plot; then the cluster is stopped.
 *
 * Timing. Every time is CLOCK_MONOTONIC in this process (util_now_us): a
 * pod's latency is the time its binding was first seen in the watch minus
 * the time its first POST was sent, or under --create-rate the time it was
 * due (so that clients falling behind add their lag to the latency, and
 * the report says how late the POSTs went out and whether the binding kept
 * pace: bench_schedule_report.c); the run lasts from the measured phase's
 * first POST to its last binding seen. The leader's CPU time is read from
 * /proc/PID/stat before the first POST and after the last binding.
 *
 * Threads: the main thread (orchestration, progress, signals through a
 * signalfd, so no handler and no global flag), the creators of the current
 * phase, and the watch thread. They share struct bsch_run; see its comments. */
#include "tools/tools.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>

#include "httpc/httpc.h"
#include "tools/bench_schedule_internal.h"

enum {
    BSCH_DEFAULT_NODES = 5000,
    BSCH_DEFAULT_PODS = 50000,
    BSCH_DEFAULT_SERVERS = 3,
    BSCH_DEFAULT_CLIENTS = 64,
    BSCH_MAX_CLIENTS = 4096,
    BSCH_CLIENT_RATE = 5, /* pods/s one connection is counted on for (default clients) */
    BSCH_MAX_NODES = 1000000,
    BSCH_MAX_PODS = 10000000,
    BSCH_DEFAULT_TIMEOUT_MS = 300000,
    BSCH_HTTP_TIMEOUT_MS = 30000,
    BSCH_CREATE_ATTEMPTS = 4,
    BSCH_TICK_MS = 100,
    BSCH_LINE_EVERY_S = 5,       /* progress lines when stderr is not a terminal */
    BSCH_LEADER_WAIT_MS = 30000,
};

/* ---- small helpers shared by the files -------------------------------- */

void bsch_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bosun bench schedule: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool bsch_interrupted(struct bsch_run *r)
{
    struct signalfd_siginfo si;
    if (r->sigfd >= 0 && read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (!r->interrupted)
            bsch_say("interrupted (%s): stopping", strsignal((int)si.ssi_signo));
        r->interrupted = true;
        atomic_store(&r->stop, true);
    }
    return r->interrupted;
}

void bsch_pod_name(const struct bsch_run *r, long long i, char *buf, size_t len)
{
    snprintf(buf, len, "bench-%0*lld", r->name_digits, i + 1);
}

long long bsch_pod_index(const struct bsch_run *r, const char *name, size_t len)
{
    if (len != 6 + (size_t)r->name_digits || memcmp(name, "bench-", 6) != 0)
        return -1;
    long long v = 0;
    for (size_t k = 6; k < len; k++) {
        if (name[k] < '0' || name[k] > '9')
            return -1;
        v = v * 10 + (name[k] - '0');
    }
    return v >= 1 && v <= r->n_pods ? v - 1 : -1;
}

json_t *bsch_get_json(const struct bsch_run *r, const char *path, int timeout_ms)
{
    for (int i = 0; i < r->n_servers; i++) {
        json_t *v = bench_get_json(r->servers[i], path, timeout_ms);
        if (v)
            return v;
    }
    return NULL;
}

double bsch_self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

struct bsch_phase *bsch_phase_of(struct bsch_run *r, long long i)
{
    for (int k = 0; k < r->wl.n_phases; k++) {
        struct bsch_phase *ph = &r->wl.phases[k];
        if (i >= ph->first && i < ph->first + ph->count)
            return ph;
    }
    return NULL;
}

/* ---- flags ------------------------------------------------------------ */

static void bsch_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun bench schedule [--nodes N] [--pods P] [--preset NAME] [flags]\n"
            "\n"
            "Starts a cluster (or uses one), starts N hollow nodes (`bosun agent --hollow`),\n"
            "creates P pods through the API and measures until every pod is bound: pods/s\n"
            "(whole run and steady state), create->bound latency, the leader's CPU per pod.\n"
            "Checks at the end that every pod was bound once, to a node that exists, that\n"
            "fits it and that its constraints allow; exits 1 if not.\n"
            "\n"
            "  --nodes N          hollow nodes (default %d): 4 cpu, 32Gi, 110 pods each,\n"
            "                     over 3 zones (topology.kubernetes.io/zone)\n"
            "  --pods P           pods to create and measure (default %d)\n"
            "  --preset NAME      the workload (default basic):\n",
            BSCH_DEFAULT_NODES, BSCH_DEFAULT_PODS);
    bsch_presets_usage(f);
    fprintf(f,
            "  --pod-template F   a Pod (YAML or JSON) to start every pod from; the preset's\n"
            "                     constraints are added to it\n"
            "  --create-rate R    pods per second (default 0: as fast as the clients go)\n"
            "  --clients C        connections creating pods, one request in flight each\n"
            "                     (default %d; with --create-rate R, R/%d if more)\n"
            "  --threads T        event-loop threads the clients share (default %d)\n"
            "  --servers S        servers of the cluster to start (default %d)\n"
            "  --server URL,...   use this cluster instead (its other members are found)\n"
            "  --kubeconfig FILE  use the cluster of FILE's current context instead\n"
            "  --namespace NS     where the pods go (default bench; must hold no pods)\n"
            "  --json FILE        the report's figures as JSON\n"
            "  --plot FILE.svg    bound pods over time and latency percentiles, as SVG\n"
            "  --timeout D        give up after D, e.g. 300s (default 300s): for the nodes\n"
            "                     to be Ready, and again for the pods to be bound\n"
            "  --base-port P      the cluster's ports (default: a free range is picked)\n"
            "  --bin PATH         the bosun binary to run for up, down and agent\n"
            "                     (default: this one)\n"
            "  --keep             leave the cluster, the nodes and the directory running\n",
            BSCH_DEFAULT_CLIENTS, BSCH_CLIENT_RATE, BENCH_LOOP_THREADS, BSCH_DEFAULT_SERVERS);
}

static int bsch_flag_error(const char *flag, const char *value)
{
    bsch_say("bad %s %s (see bosun bench schedule --help)", flag, value);
    return 2;
}

/* "5000", "5000/s" or "2.5" pods per second. */
static int bsch_parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || v < 0 || v > 1e7 || (*end && strcmp(end, "/s") != 0))
        return -1;
    *out = v;
    return 0;
}

/* One flag with a value; 0, or 2 after a message. */
/* Connections when --clients is not given. Each has one POST in flight, so
 * at R pods/s with creates taking L seconds the rate needs R * L of them
 * (Little's law): R / BSCH_CLIENT_RATE allows L up to 200 ms. With fewer,
 * POSTs go out after their due time, and the cluster is measured at a
 * lower rate than asked (as 256 connections did at 5,000/s: 4,264/s). */
static int bsch_default_clients(double rate)
{
    double n = ceil(rate / BSCH_CLIENT_RATE);
    if (n < BSCH_DEFAULT_CLIENTS)
        return BSCH_DEFAULT_CLIENTS;
    return n > BSCH_MAX_CLIENTS ? BSCH_MAX_CLIENTS : (int)n;
}

static int bsch_parse_flag(struct bsch_options *o, int opt, const char *arg)
{
    long long v;
    switch (opt) {
    case 'n':
        if (bench_parse_long(arg, 1, BSCH_MAX_NODES, &o->nodes) != 0)
            return bsch_flag_error("--nodes", arg);
        return 0;
    case 'p':
        if (bench_parse_long(arg, 1, BSCH_MAX_PODS, &o->pods) != 0)
            return bsch_flag_error("--pods", arg);
        return 0;
    case 'S':
        if (bench_parse_long(arg, 1, 50, &v) != 0)
            return bsch_flag_error("--servers", arg);
        o->servers = (int)v;
        return 0;
    case 'c':
        if (bench_parse_long(arg, 1, BSCH_MAX_CLIENTS, &v) != 0)
            return bsch_flag_error("--clients", arg);
        o->clients = (int)v;
        return 0;
    case 'L':
        if (bench_parse_long(arg, 1, BENCH_LOOP_MAX_THREADS, &v) != 0)
            return bsch_flag_error("--threads", arg);
        o->threads = (int)v;
        return 0;
    case 'b':
        if (bench_parse_long(arg, 1024, 65000 - 200, &v) != 0)
            return bsch_flag_error("--base-port", arg);
        o->base_port = (int)v;
        return 0;
    case 'r':
        if (bsch_parse_rate(arg, &o->create_rate) != 0)
            return bsch_flag_error("--create-rate", arg);
        return 0;
    case 'T':
        if ((o->timeout_ms = util_parse_duration_ms(arg)) <= 0)
            return bsch_flag_error("--timeout", arg);
        return 0;
    case 'P':
        if (!bsch_preset_known(arg)) {
            bsch_say("unknown preset %s (basic, node-affinity, anti-affinity, topology-spread, "
                     "taints, preemption or mixed)", arg);
            return 2;
        }
        o->preset = arg;
        return 0;
    case 'u': o->server_list = arg; return 0;
    case 'k': o->kubeconfig = arg; return 0;
    case 't': o->pod_template = arg; return 0;
    case 'j': o->json_path = arg; return 0;
    case 'g': o->plot_path = arg; return 0;
    case 'B': o->bin = arg; return 0;
    case 'N':
        if (!*arg || strlen(arg) > 63)
            return bsch_flag_error("--namespace", arg);
        o->ns = arg;
        return 0;
    }
    return 2;
}

/* Every URL of a --server list is http://HOST:PORT; 0, or -1 after a message. */
static int bsch_urls_check(const char *list)
{
    char *copy = xstrdup(list), *save = NULL;
    int rc = 0, n = 0;
    for (char *u = strtok_r(copy, ",", &save); u && rc == 0; u = strtok_r(NULL, ",", &save)) {
        struct httpc *h = httpc_new(u);
        rc = h ? 0 : bsch_flag_error("--server URL", u);
        if (h)
            httpc_free(h);
        n++;
    }
    free(copy);
    return rc == 0 && n == 0 ? bsch_flag_error("--server", list) : rc ? -1 : 0;
}

/* Returns -1 to go on, or the exit status (0 after --help, 2 on an error). */
static int bsch_parse_options(int argc, char **argv, struct bsch_options *o)
{
    static const struct option longopts[] = {
        {"nodes", required_argument, NULL, 'n'},
        {"pods", required_argument, NULL, 'p'},
        {"servers", required_argument, NULL, 'S'},
        {"server", required_argument, NULL, 'u'},
        {"kubeconfig", required_argument, NULL, 'k'},
        {"pod-template", required_argument, NULL, 't'},
        {"create-rate", required_argument, NULL, 'r'},
        {"preset", required_argument, NULL, 'P'},
        {"clients", required_argument, NULL, 'c'},
        {"threads", required_argument, NULL, 'L'},
        {"json", required_argument, NULL, 'j'},
        {"plot", required_argument, NULL, 'g'},
        {"timeout", required_argument, NULL, 'T'},
        {"base-port", required_argument, NULL, 'b'},
        {"bin", required_argument, NULL, 'B'},
        {"namespace", required_argument, NULL, 'N'},
        {"keep", no_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    *o = (struct bsch_options){.nodes = BSCH_DEFAULT_NODES, .pods = BSCH_DEFAULT_PODS,
                               .servers = 0, .preset = "basic", .clients = 0,
                               .threads = BENCH_LOOP_THREADS,
                               .timeout_ms = BSCH_DEFAULT_TIMEOUT_MS, .ns = "bench"};
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            bsch_usage(stdout);
            return 0;
        }
        if (opt == 'K') {
            o->keep = true;
            continue;
        }
        if (opt == '?' || opt == ':') {
            bsch_say("%s flag %s (see bosun bench schedule --help)",
                     opt == ':' ? "missing value for" : "unknown", argv[optind - 1]);
            return 2;
        }
        if (bsch_parse_flag(o, opt, optarg) != 0)
            return 2;
    }
    if (optind < argc) {
        bsch_say("unexpected argument %s (see bosun bench schedule --help)", argv[optind]);
        return 2;
    }
    if ((o->server_list != NULL) + (o->kubeconfig != NULL) + (o->servers != 0) > 1) {
        bsch_say("give at most one of --servers (start a cluster), --server and --kubeconfig");
        return 2;
    }
    if (!o->server_list && !o->kubeconfig && o->servers == 0)
        o->servers = BSCH_DEFAULT_SERVERS;
    if (o->clients == 0)
        o->clients = bsch_default_clients(o->create_rate);
    return o->server_list && bsch_urls_check(o->server_list) != 0 ? 2 : -1;
}

/* ---- setting up ------------------------------------------------------- */

/* The cluster: started, or found from --server / --kubeconfig; then the
 * leader. 0, or -1 after a message. */
static int bsch_setup_cluster(struct bsch_run *r)
{
    const struct bsch_options *o = r->o;
    if (o->servers > 0) {
        if (bsch_cluster_start(r) != 0)
            return -1;
    } else if (o->kubeconfig) {
        if (bsch_servers_from_kubeconfig(r, o->kubeconfig) != 0)
            return -1;
    } else {
        bsch_servers_from_list(r, o->server_list);
    }
    for (int i = 0; i < r->n_servers; i++) { /* from a kubeconfig: not checked yet */
        struct httpc *h = httpc_new(r->servers[i]);
        if (!h) {
            bsch_say("bad server URL %s (http://HOST:PORT)", r->servers[i]);
            return -1;
        }
        httpc_free(h);
    }
    bsch_servers_discover(r);
    uint64_t deadline = util_now_ms() + BSCH_LEADER_WAIT_MS;
    int id;
    while (bsch_leader_find(r, &id) != 0) {
        if (util_now_ms() >= deadline || bsch_interrupted(r)) {
            bsch_say("no server knows a leader (asked %s and %d more)", r->servers[0],
                     r->n_servers - 1);
            return -1;
        }
        bench_sleep_ms(200);
    }
    r->leader_id = id;
    return 0;
}

/* The namespace exists and holds no pods (names would collide). */
static int bsch_setup_namespace(struct bsch_run *r)
{
    const char *ns = r->o->ns;
    struct httpc *h = httpc_new(r->servers[0]);
    if (!h)
        return -1;
    char body[256], path[256];
    snprintf(body, sizeof body,
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\"}}", ns);
    int status = bench_http_call(h, "POST", "/api/v1/namespaces", NULL, "application/json", body,
                                 BSCH_HTTP_TIMEOUT_MS, NULL);
    httpc_free(h);
    if (status != 201 && status != 409) {
        bsch_say("cannot create namespace %s: HTTP %d", ns, status);
        return -1;
    }
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?limit=1", ns);
    json_t *list = bsch_get_json(r, path, BSCH_HTTP_TIMEOUT_MS);
    size_t n = json_array_size(json_object_get(list, "items"));
    json_decref(list);
    if (!list) {
        bsch_say("cannot list the pods of namespace %s", ns);
        return -1;
    }
    if (n > 0) {
        bsch_say("namespace %s already has pods (an earlier run?): delete them, or use "
                 "--namespace", ns);
        return -1;
    }
    return 0;
}

/* Ready nodes of this run: GET /api/v1/nodes?labelSelector=run label. */
static long long bsch_nodes_ready(struct bsch_run *r)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/nodes?labelSelector=bench.bosun.dev%%2Frun%%3D%s", r->id);
    json_t *list = bsch_get_json(r, path, BSCH_HTTP_TIMEOUT_MS);
    if (!list)
        return -1;
    long long ready = 0;
    size_t i, k;
    json_t *node, *cond;
    json_array_foreach(json_object_get(list, "items"), i, node)
    {
        json_t *conds = json_object_get(json_object_get(node, "status"), "conditions");
        json_array_foreach(conds, k, cond)
        {
            const char *type = json_string_value(json_object_get(cond, "type"));
            const char *st = json_string_value(json_object_get(cond, "status"));
            if (type && st && strcmp(type, "Ready") == 0 && strcmp(st, "True") == 0)
                ready++;
        }
    }
    json_decref(list);
    return ready;
}

/* Starts the agents and waits until every node is Ready. */
static int bsch_setup_nodes(struct bsch_run *r)
{
    if (bsch_agents_start(r) != 0)
        return -1;
    uint64_t start = util_now_ms(), deadline = start + (uint64_t)r->o->timeout_ms, last = 0;
    bool tty = isatty(2);
    long long ready = 0;
    for (;;) {
        ready = bsch_nodes_ready(r);
        uint64_t now = util_now_ms();
        if (ready >= r->o->nodes)
            break;
        if (bsch_interrupted(r) || now >= deadline || bsch_agents_alive(r, true) == 0) {
            if (tty)
                fputc('\n', stderr);
            if (!r->interrupted)
                bsch_say("%lld of %lld nodes Ready after %.0f s%s", ready < 0 ? 0 : ready,
                         r->o->nodes, (double)(now - start) / 1e3,
                         bsch_agents_alive(r, false) == 0 ? ": the agents have exited" : "");
            return -1;
        }
        if (tty || now - last >= BSCH_LINE_EVERY_S * 1000) {
            fprintf(stderr, "%s[%4.0fs] nodes Ready %lld/%lld%s", tty ? "\r" : "",
                    (double)(now - start) / 1e3, ready < 0 ? 0 : ready, r->o->nodes,
                    tty ? "\033[K" : "\n");
            last = now;
        }
        bench_sleep_ms(1000);
    }
    fprintf(stderr, "%s[%4.0fs] nodes Ready %lld/%lld\n", tty ? "\r" : "",
            (double)(util_now_ms() - start) / 1e3, ready, r->o->nodes);
    return 0;
}

/* ---- the creators ----------------------------------------------------- */

/* One creator: a client of bench_loop.c, creating one pod at a time. */
struct bsch_creator {
    long long pod;   /* the pod being created */
    int attempt;     /* of its POST */
};

/* The creators of a phase, run by bench_loop_run on their own thread so
 * that the phase's progress loop goes on. */
struct bsch_creators {
    struct bsch_run *r;
    struct bsch_phase *ph;
    struct bsch_creator *cs;
    struct bench_loop_cfg cfg;
    pthread_t thread;
};

/* "2026-01-02T03:04:05Z" in the body after "creationTimestamp": Unix seconds. */
static int64_t bsch_created_ts(const char *body, size_t len)
{
    const char *md = util_json_member(body, body + len, "metadata"), *s;
    const char *v = md ? util_json_member(md, body + len, "creationTimestamp") : NULL;
    size_t n;
    if (!v || !util_json_string(v, body + len, &s, &n) || n < 19)
        return 0;
    struct tm tm = {0};
    char buf[32];
    snprintf(buf, sizeof buf, "%.*s", (int)n, s);
    if (!strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm))
        return 0;
    return (int64_t)timegm(&tm);
}

/* The next ticket's pod, due at its time under --create-rate. */
static bool bsch_creator_next(void *arg, int c, struct bench_req *req, uint64_t *at_us)
{
    static const char *const headers[] = {"Accept: application/json",
                                          "Content-Type: application/json", NULL};
    struct bsch_creators *cr = arg;
    struct bsch_run *r = cr->r;
    struct bsch_phase *ph = cr->ph;
    if (atomic_load(&r->stop))
        return false;
    long long k = atomic_fetch_add(&ph->next, 1);
    if (k >= ph->count)
        return false;
    if (r->o->create_rate > 0) {
        *at_us = ph->start_us + (uint64_t)((double)k * 1e6 / r->o->create_rate);
        r->pods[ph->first + k].due_us = *at_us;
    }
    cr->cs[c] = (struct bsch_creator){.pod = ph->first + k};
    snprintf(req->path, sizeof req->path, "/api/v1/namespaces/%s/pods", r->o->ns);
    req->headers = headers;
    bsch_pod_render(r, ph->first + k, &req->body);
    atomic_fetch_add(&ph->sent, 1);
    return true;
}

/* A POST's answer: the pod is created (201, or 409 after a retry: an
 * earlier attempt made it), failed, or worth another try (no answer, 429,
 * 5xx: up to BSCH_CREATE_ATTEMPTS, backing off 100, 200, 400 ms). */
static enum bench_then bsch_creator_done(void *arg, int c, int status, const char *body,
                                         size_t len, uint64_t sent_us, uint64_t *at_us)
{
    struct bsch_creators *cr = arg;
    struct bsch_creator *w = &cr->cs[c];
    struct bsch_pod *p = &cr->r->pods[w->pod];
    uint64_t now = util_now_us();
    if (w->attempt == 0)
        p->sent_us = sent_us;
    if (status == 201) {
        p->answered_us = now;
        p->created_ts = bsch_created_ts(body, len);
    }
    if (status == 409 && w->attempt > 0) {
        status = 201;
        p->answered_us = now;
    }
    w->attempt++;
    if ((status == 0 || status == 429 || status >= 500) && w->attempt < BSCH_CREATE_ATTEMPTS &&
        !atomic_load(&cr->r->stop)) {
        *at_us = now + (50ull << w->attempt) * 1000;
        return BENCH_RESEND;
    }
    atomic_store(&p->status, (int16_t)status);
    atomic_fetch_add(status == 201 ? &cr->ph->created : &cr->ph->failed, 1);
    return BENCH_NEXT;
}

static bool bsch_creators_stopping(void *arg)
{
    return atomic_load(&((struct bsch_creators *)arg)->r->stop);
}

static void bsch_creators_abort(void *arg)
{
    atomic_store(&((struct bsch_creators *)arg)->r->stop, true);
}

static void *bsch_creators_main(void *arg)
{
    struct bsch_creators *cr = arg;
    if (bench_loop_run(&cr->cfg) != 0)
        atomic_store(&cr->r->stop, true);
    return NULL;
}

/* Starts n creators on --threads loops; false if they could not start. */
static bool bsch_creators_start(struct bsch_run *r, struct bsch_phase *ph,
                                struct bsch_creators *cr, int n)
{
    *cr = (struct bsch_creators){.r = r, .ph = ph};
    cr->cs = xcalloc((size_t)n, sizeof *cr->cs);
    cr->cfg = (struct bench_loop_cfg){
        .servers = r->servers, .n_servers = r->n_servers, .clients = n,
        .threads = r->o->threads, .timeout_ms = BSCH_HTTP_TIMEOUT_MS, .arg = cr,
        .next = bsch_creator_next, .done = bsch_creator_done,
        .stopping = bsch_creators_stopping, .abort = bsch_creators_abort,
    };
    ph->start_us = util_now_us();
    int err = pthread_create(&cr->thread, NULL, bsch_creators_main, cr);
    if (err != 0) {
        bsch_say("cannot start the creators: %s", strerror(err));
        free(cr->cs);
        return false;
    }
    return true;
}

/* ---- a phase ---------------------------------------------------------- */

/* Every pod of the phase has an answer, and every created one has been
 * seen bound or deleted. The counters say when it is worth looking. */
static bool bsch_phase_done(struct bsch_run *r, struct bsch_phase *ph)
{
    long long created = atomic_load(&ph->created), failed = atomic_load(&ph->failed);
    if (created + failed < ph->count ||
        atomic_load(&ph->bound) + atomic_load(&ph->gone) < created)
        return false;
    for (long long i = ph->first; i < ph->first + ph->count; i++) {
        struct bsch_pod *p = &r->pods[i];
        if (atomic_load(&p->status) == 201 && atomic_load(&p->bound_us) == 0 &&
            !atomic_load(&p->deleted))
            return false;
    }
    return true;
}

/* The live line: created, bound, pending, binds in the last second (on
 * the final line, over the whole phase). */
static void bsch_progress(struct bsch_run *r, struct bsch_phase *ph, double t, double rate,
                          bool tty, bool final)
{
    long long created = atomic_load(&ph->created), bound = atomic_load(&ph->bound);
    long long pending = created - bound - atomic_load(&ph->gone);
    long long failed = atomic_load(&ph->failed);
    fprintf(stderr, "%s[%4.0fs] %s: created %lld/%lld  bound %lld  pending %lld  %.0f binds/s",
            tty ? "\r" : "", t, ph->name, created, ph->count, bound, pending < 0 ? 0 : pending,
            rate);
    if (failed)
        fprintf(stderr, "  failed %lld", failed);
    fputs(tty ? (final ? "\033[K\n" : "\033[K") : "\n", stderr);
}

/* Runs one phase: creators, then the progress loop until it is done, the
 * deadline passes, or a signal. Returns 0 when done. */
static int bsch_phase_run(struct bsch_run *r, struct bsch_phase *ph)
{
    int n = r->o->clients < ph->count ? r->o->clients : (int)ph->count;
    struct bsch_creators cr;
    if (ph->measured)
        bsch_cpu_sample(r, false);
    bool started = bsch_creators_start(r, ph, &cr, n);
    uint64_t start = ph->start_us, deadline = start + (uint64_t)r->o->timeout_ms * 1000;
    uint64_t last_line = start, last_tick = start;
    long long last_bound = 0;
    bool tty = isatty(2), done = !started;
    double rate = 0;
    while (!done) {
        bench_sleep_ms(BSCH_TICK_MS);
        uint64_t now = util_now_us();
        done = bsch_phase_done(r, ph);
        if (!done && (bsch_interrupted(r) || now >= deadline)) {
            r->timed_out = !r->interrupted;
            atomic_store(&r->stop, true);
            break;
        }
        if (now - last_tick >= 1000000) {
            long long b = atomic_load(&ph->bound);
            rate = (double)(b - last_bound) * 1e6 / (double)(now - last_tick);
            last_bound = b;
            last_tick = now;
            if (tty || now - last_line >= BSCH_LINE_EVERY_S * 1000000ull) {
                bsch_progress(r, ph, (double)(now - start) / 1e6, rate, tty, false);
                last_line = now;
            }
        }
    }
    if (ph->measured) {
        r->end_us = util_now_us();
        bsch_cpu_sample(r, true);
    }
    double took = (double)(util_now_us() - start) / 1e6;
    bsch_progress(r, ph, took, took > 0 ? (double)atomic_load(&ph->bound) / took : 0, tty, true);
    if (started) {
        pthread_join(cr.thread, NULL);
        free(cr.cs);
    }
    if (r->timed_out)
        bsch_say("%s: not every pod was bound after %.0f s", ph->name,
                 (double)r->o->timeout_ms / 1e3);
    return done && started ? 0 : -1;
}

/* ---- the run ---------------------------------------------------------- */

static int bsch_run_init(struct bsch_run *r, const struct bsch_options *o)
{
    *r = (struct bsch_run){.o = o, .sigfd = -1};
    unsigned char rnd[4];
    util_random_bytes(rnd, sizeof rnd);
    snprintf(r->id, sizeof r->id, "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
    int rc = bsch_workload_build(r);
    if (rc != 0)
        return rc;
    r->name_digits = 6;
    for (long long n = r->n_pods; n >= 1000000; n /= 10)
        r->name_digits++;
    r->pods = xcalloc((size_t)r->n_pods, sizeof *r->pods);
    for (long long i = 0; i < r->n_pods; i++)
        r->pods[i].node = -1;
    const char *tmp = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/bosun-bench-schedule.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpl)) {
        bsch_say("cannot create a directory %s: %s", tmpl, strerror(errno));
        return 1;
    }
    r->dir = xstrdup(tmpl);
    return 0;
}

static void bsch_run_free(struct bsch_run *r)
{
    bsch_workload_free(&r->wl);
    bsch_names_free(&r->nodes);
    for (int i = 0; i < r->n_servers; i++)
        free(r->servers[i]);
    free(r->pods);
    free(r->dir);
    free(r->bin);
}

/* Steps 1-6: everything before the report. Returns 0 if every phase
 * completed, -1 otherwise (the report is still printed if pods were sent). */
static int bsch_run_phases(struct bsch_run *r)
{
    if (bsch_setup_cluster(r) != 0 || bsch_setup_namespace(r) != 0)
        return -1;
    if (r->wl.priority_classes) {
        int rc = bsch_priority_classes_ensure(r);
        if (rc != 0) {
            if (rc > 0) {
                r->wl.skipped = true;
                bsch_say("the server does not serve scheduling.k8s.io/v1 priorityclasses: "
                         "preset %s skipped", r->wl.preset);
            }
            return -1;
        }
    }
    if (bsch_setup_nodes(r) != 0 || bsch_watch_prepare(r) != 0 || bsch_watch_start(r) != 0)
        return -1;
    for (int k = 0; k < r->wl.n_phases; k++)
        if (bsch_phase_run(r, &r->wl.phases[k]) != 0)
            return -1;
    return 0;
}

/* Blocks SIGINT and SIGTERM in every thread; the main thread reads them
 * from a signalfd. Children get the original mask back. An ignored signal
 * (a background job of a script ignores SIGINT) never reaches a signalfd,
 * so the default disposition comes back first: blocked, it acts on nothing. */
static int bsch_signals_take(struct bsch_run *r)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &r->child_mask);
    r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return r->sigfd >= 0 ? 0 : -1;
}

/* The report, the JSON and the plot; the exit status. */
static int bsch_finish(struct bsch_run *r, int phases_rc)
{
    const struct bsch_options *o = r->o;
    struct bsch_checks c = {0};
    struct bsch_figures f = {0};
    long long sent = 0;
    for (int k = 0; k < r->wl.n_phases; k++)
        sent += atomic_load(&r->wl.phases[k].sent);
    if (sent > 0 && !r->interrupted)
        bsch_checks_run(r, &c);
    bsch_figures_compute(r, &f);
    int rc = phases_rc == 0 && bsch_checks_ok(&c) ? 0 : 1;
    if (r->wl.skipped)
        rc = 0;
    if (sent > 0 || r->wl.skipped) {
        bsch_report_print(stdout, r, &f, &c);
        fflush(stdout);
        if (o->json_path && bsch_report_json(o->json_path, r, &f, &c) != 0)
            rc = 1;
        if (o->plot_path && !r->wl.skipped && bsch_report_svg(o->plot_path, r, &f) != 0)
            rc = 1;
    }
    bsch_figures_free(&f);
    return rc;
}

static bool bsch_dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool empty = true;
    while (d && empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    if (d)
        closedir(d);
    return empty;
}

/* Stops what we started, in order: the watch, the nodes, the cluster; the
 * directory goes too unless the run failed or an agent did not stop
 * cleanly (its log says why) and there are logs in it. */
static void bsch_teardown(struct bsch_run *r, int rc)
{
    atomic_store(&r->stop, true);
    bsch_watch_stop(r);
    if (r->o->keep) {
        bsch_say("kept: the directory %s%s", r->dir, r->own_cluster ? " (cluster.json, logs)" : "");
        if (r->own_cluster)
            bsch_say("kept: the cluster; stop it with: %s down --dir %s/cluster", r->bin, r->dir);
        for (int i = 0; i < r->n_agents; i++)
            if (r->agents[i] > 0)
                bsch_say("kept: bosun agent pid %d; stop it with: kill %d", (int)r->agents[i],
                         (int)r->agents[i]);
        return;
    }
    bool keep_logs = rc != 0;
    if (r->agents_unclean > 0)
        keep_logs = true; /* the exit status stays the run's */
    bsch_cluster_stop(r);
    if (!keep_logs || bsch_dir_empty(r->dir))
        tools_rmtree(r->dir);
    else
        bsch_say("logs kept in %s", r->dir);
}

int tools_bench_schedule_main(int argc, char **argv)
{
    struct bsch_options o;
    int rc = bsch_parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    struct bsch_run r;
    rc = bsch_run_init(&r, &o);
    if (rc != 0) {
        bsch_run_free(&r);
        return rc;
    }
    if (bsch_signals_take(&r) != 0) {
        bsch_say("signalfd: %s", strerror(errno));
        tools_rmtree(r.dir);
        bsch_run_free(&r);
        return 1;
    }
    bsch_say("run %s: %lld nodes, %lld pods, preset %s, in %s", r.id, o.nodes, o.pods,
             r.wl.preset, r.dir);
    int phases_rc = bsch_run_phases(&r);
    bsch_watch_stop(&r);
    if (!o.keep) /* the checks read a state that no longer moves */
        r.agents_unclean = bsch_agents_stop(&r);
    rc = bsch_finish(&r, phases_rc);
    bsch_teardown(&r, rc);
    close(r.sigfd);
    pthread_sigmask(SIG_SETMASK, &r.child_mask, NULL);
    bsch_run_free(&r);
    return rc;
}
