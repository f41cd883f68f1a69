/* chaos_run.c — `bosun chaos [flags]`: the runner. It starts a local
 * cluster behind a Raft fault proxy, drives a workload from concurrent
 * clients, injects faults, heals, records what every server holds, and
 * judges the history with the checker (chaos_check.c).
 *
 * The run, in order:
 *   1. DIR (--out) must be empty or new. N servers start (chaos_faults.c:
 *      ports, argv, DIR/sN data, DIR/sN.log), their Raft links through the
 *      proxy (chaos_proxy.c); we wait for a leader. With --kubeconfig the
 *      runner attaches to a running cluster instead (chaos_attach.c): its
 *      members are the servers, namespace chaos is deleted first, only the
 *      API faults run, and nothing is stopped at the end.
 *   2. A watcher per server (chaos_watcher.c) opens a watch on the
 *      workload's ConfigMaps there, recorded in DIR/watch.jsonl; then the
 *      clients start (chaos_workload.c) — with --workload controllers also
 *      the hollow nodes, the driver and the recorders of chaos_ctl_run.c
 *      (DIR/controllers.jsonl) — and a monitor thread samples
 *      GET /cluster/status of every server every 250 ms: the leader and
 *      term of each moment, for the report.
 *   3. For --duration, faults at seeded random intervals (chaos_faults.c,
 *      membership changes in chaos_membership.c), each appended to
 *      DIR/faults.jsonl when it ends.
 *   4. Heal: every fault has ended (partition healed, paused resumed,
 *      killed restarted). Quiet period: the clients go on for 3 s, then
 *      stop (DIR/history.jsonl), and we wait until a leader is elected and
 *      every server has applied the same index (bounded: 60 s).
 *   5. With --workload controllers, until the controllers settle
 *      (bounded: 90 s) and the recorders catch up; the nodes stop.
 *      Final state: every server's ConfigMaps in namespace chaos (a list
 *      read, linearizable) into DIR/final.json, and GET /cluster/digest of
 *      every server until they agree at one applied index (convergence).
 *      The watchers go on until each has seen its server's revision of
 *      then (bounded: 10 s), and stop.
 *   6. Every server is stopped (SIGTERM, SIGKILL after 20 s) and reaped; the
 *      checker runs in-process on DIR; the verdict and figures are printed
 *      and DIR/report.html written (chaos_report.c).
 * Exit status: 0 PASS, 1 FAIL (an anomaly, servers that diverge, crash, or
 * never recover, a removed server not a voter again), 2 the tool could not run (usage, ports, a cluster that
 * never elected a leader, an interrupt) or the checker could not decide.
 *
 * SIGINT and SIGTERM set a flag that every wait checks: the run stops
 * early, heals, stops every server by pid and exits 2. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "tools/chaos_internal.h"
#include "tools/tools.h"

enum {
    RUN_LEADER_WAIT_MS = 60000,
    RUN_QUIET_MS = 3000,
    RUN_RECOVER_MS = 60000,
    RUN_DIGEST_MS = 20000,
    RUN_STOP_GRACE_MS = 20000,
    RUN_MONITOR_MS = 250,
    RUN_HTTP_TIMEOUT_MS = 2000,
    RUN_WATCH_READY_MS = 10000,
    RUN_WATCH_SETTLE_MS = 10000,
    RUN_WATCH_HISTORY = 100000, /* the servers' --watch-history by default */
    RUN_CTL_SETTLE_MS = 90000,
};

/* The one piece of global mutable state: a signal handler cannot be handed
 * a pointer, so SIGINT/SIGTERM set this flag and every wait polls it. */
static volatile sig_atomic_t run_interrupted;

static void run_on_signal(int sig)
{
    (void)sig;
    run_interrupted = 1;
}

/* ---------------------------------------------------------------- clock, PRNG */

int64_t chaos_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void chaos_sleep_until(int64_t t, const volatile sig_atomic_t *stop)
{
    for (int64_t now; !*stop && (now = chaos_now_ns()) < t;) {
        int64_t d = t - now > 50000000 ? 50000000 : t - now;
        struct timespec ts = {0, (long)d};
        nanosleep(&ts, NULL);
    }
}

uint64_t chaos_rng_next(struct chaos_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t chaos_rng_below(struct chaos_rng *r, uint64_t n)
{
    assert(n > 0);
    return chaos_rng_next(r) % n;
}

/* ---------------------------------------------------------------- flags */

struct run_options {
    int servers;
    int64_t duration_ms;
    unsigned faults;
    struct chaos_workload_options w;
    bool controllers; /* --workload controllers: objects clients + chaos_ctl_run.c */
    uint64_t seed;
    long watch_history;
    const char *out;
    const char *bin;
    const char *election_timeout; /* the servers' --election-timeout, NULL: theirs */
    const char *kubeconfig; /* attach to the cluster it names (chaos_attach.c) */
    const char *context;
    bool faults_given;
};

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun chaos [--servers 3|5] [--duration 60s] [--faults LIST]\n"
            "                   [--workload objects|register|controllers] [--clients 16]\n"
            "                   [--rate R]\n"
            "                   [--keys K] [--timeout 3s] [--seed S] [--watch-history N]\n"
            "                   [--out DIR] [--bin PATH] [--election-timeout D]\n"
            "                   [--kubeconfig FILE [--context C]]\n"
            "       bosun chaos check DIR [--json] [--no-final] [--max-states N]\n"
            "\n"
            "Runs a local cluster of N servers with a fault proxy on every Raft link,\n"
            "drives a workload on ConfigMaps from concurrent clients spread over all\n"
            "servers, injects faults at random intervals from the seed, heals, and checks\n"
            "the recorded history: linearizable per key, no acknowledged write lost,\n"
            "every replica identical, and every server's watch streams in order without\n"
            "gaps or duplicates across reconnects. Prints PASS or FAIL with the first\n"
            "anomaly and the figures; writes DIR/history.jsonl, faults.jsonl, final.json,\n"
            "watch.jsonl, report.html.\n"
            "\n"
            "  --servers N     3 or 5 (up to %d; default 3)\n"
            "  --duration D    how long faults are injected: 60s, 500ms, 2m (default 60s)\n"
            "  --faults LIST   comma-separated: kill (kill -9 and restart a server or the\n"
            "                  leader), pause (SIGSTOP/SIGCONT), partition (majority/minority\n"
            "                  split; with 5 servers also a ring of overlapping majorities),\n"
            "                  partition-leader (the leader isolated), disk (a slow or full\n"
            "                  disk under a server's Raft log, through the servers' fault\n"
            "                  hook), membership (a server removed through the API and added\n"
            "                  back), transfer (leadership moved through the API), or all\n"
            "                  (the default)\n"
            "  --workload W    objects: create/get/CAS update/delete (default); register:\n"
            "                  get/update over keys created first; controllers: the objects\n"
            "                  clients plus hollow nodes, StatefulSets and ReplicaSets scaled\n"
            "                  and Jobs created throughout, every change of their pods\n"
            "                  recorded (controllers.jsonl) and checked: no StatefulSet\n"
            "                  ordinal twice, OrderedReady order, no Job above its\n"
            "                  parallelism or counting more completions than it has, every\n"
            "                  pod bound once, everything converged after healing\n"
            "  --clients N     concurrent clients, each with its own connection (default 16)\n"
            "  --rate R        at most R operations per second in all (default 0: unlimited)\n"
            "  --keys K        distinct ConfigMaps in namespace chaos (default 16)\n"
            "  --timeout D     an operation without an answer by then is unknown (default 3s)\n"
            "  --seed S        the faults' and clients' random choices (default: the clock)\n"
            "  --watch-history N  changes each server keeps for watches (default %d); a\n"
            "                  small one makes resumed watches meet 410 Expired\n"
            "  --out DIR       where to write (must be empty or new; default chaos-SEED)\n"
            "  --bin PATH      the bosun binary to run as servers (default: this one)\n"
            "  --election-timeout D  the servers' Raft election timeout (default: theirs,\n"
            "                  1000ms), to see what a shorter one buys after leader faults\n"
            "  --kubeconfig FILE  attach to the running cluster whose server FILE names\n"
            "                  (its current context, or --context C) instead of starting\n"
            "                  one: its members (all voters, ids 1..N) serve the clients;\n"
            "                  only API faults are possible: membership and transfer\n"
            "                  (the default there); namespace chaos is deleted first.\n"
            "                  Nothing of the cluster is stopped at the end\n"
            "\n"
            "  check DIR       judge a recorded history again, without running anything:\n"
            "                  see bosun chaos check --help.\n"
            "\n"
            "Exit status: 0 PASS, 1 FAIL, 2 the tool could not run or could not decide.\n",
            CHAOS_MAX_SERVERS, RUN_WATCH_HISTORY);
}

/* "60s", "500ms", "2m", "1h" or a bare number of seconds → ms; -1 if bad. */
static int64_t run_parse_duration(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    double mul = strcmp(end, "ms") == 0 ? 1 : strcmp(end, "s") == 0 || !*end ? 1000
               : strcmp(end, "m") == 0 ? 60000 : strcmp(end, "h") == 0 ? 3600000 : -1;
    return mul < 0 || v * mul > 1e11 ? -1 : (int64_t)(v * mul);
}

static int run_parse_faults(const char *list, unsigned *out)
{
    char err[160];
    if (chaos_fault_kinds_parse(list, out, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "bosun chaos: %s (known: kill, pause, partition, partition-leader, disk, "
                    "membership, all)\n", err);
    return -1;
}

static int run_bad(const char *flag, const char *v)
{
    fprintf(stderr, "bosun chaos: invalid value \"%s\" for %s (see bosun chaos --help)\n", v, flag);
    return 2;
}

/* Attached, only the faults done through the API can run: -1 to go on,
 * else the exit status. */
static int run_check_attach(struct run_options *o)
{
    const unsigned api = 1u << CHAOS_F_MEMBERSHIP | 1u << CHAOS_F_TRANSFER;
    if (o->context && !o->kubeconfig) {
        fprintf(stderr, "bosun chaos: --context goes with --kubeconfig\n");
        return 2;
    }
    if (!o->kubeconfig)
        return -1;
    if (o->election_timeout) {
        fprintf(stderr, "bosun chaos: --election-timeout is for the servers the runner starts, "
                        "not for a cluster it attaches to\n");
        return 2;
    }
    if (!o->faults_given) {
        o->faults = api;
    } else if (o->faults & ~api) {
        fprintf(stderr, "bosun chaos: attached to a running cluster (--kubeconfig), only the "
                        "faults done through the API can run: membership, transfer\n");
        return 2;
    }
    return -1;
}

/* Parses the flags into o; -1 to go on, else the exit status. */
static int run_parse(int argc, char **argv, struct run_options *o)
{
    static const struct option longopts[] = {
        {"servers", 1, 0, 'n'}, {"duration", 1, 0, 'd'}, {"faults", 1, 0, 'f'},
        {"workload", 1, 0, 'w'}, {"clients", 1, 0, 'c'}, {"rate", 1, 0, 'r'},
        {"keys", 1, 0, 'k'},    {"timeout", 1, 0, 't'},  {"seed", 1, 0, 's'},
        {"out", 1, 0, 'o'},     {"bin", 1, 0, 'b'},      {"help", 0, 0, 'h'},
        {"watch-history", 1, 0, 'W'}, {"kubeconfig", 1, 0, 'K'}, {"context", 1, 0, 'C'},
        {"election-timeout", 1, 0, 'E'},
        {0, 0, 0, 0}};
    *o = (struct run_options){.servers = 3, .duration_ms = 60000,
                              .faults = (1u << CHAOS_NFAULTKIND) - 1,
                              .w = {.kind = CHAOS_W_OBJECTS, .clients = 16, .keys = 16,
                                    .timeout_ms = 3000},
                              .watch_history = RUN_WATCH_HISTORY};
    o->seed = (uint64_t)time(NULL) % 1000000;
    optind = 0;
    opterr = 0;
    int opt;
    long long v;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            if (bench_parse_long(optarg, 3, CHAOS_MAX_SERVERS, &v) != 0)
                return run_bad("--servers", optarg);
            o->servers = (int)v;
            break;
        case 'd':
            if ((o->duration_ms = run_parse_duration(optarg)) < 0)
                return run_bad("--duration", optarg);
            break;
        case 'f':
            if (run_parse_faults(optarg, &o->faults) != 0)
                return 2;
            o->faults_given = true;
            break;
        case 'w':
            if (strcmp(optarg, "objects") == 0)
                o->w.kind = CHAOS_W_OBJECTS;
            else if (strcmp(optarg, "register") == 0)
                o->w.kind = CHAOS_W_REGISTER;
            else if (strcmp(optarg, "controllers") == 0)
                o->w.kind = CHAOS_W_OBJECTS, o->controllers = true;
            else
                return run_bad("--workload", optarg);
            break;
        case 'c':
            if (bench_parse_long(optarg, 1, 256, &v) != 0)
                return run_bad("--clients", optarg);
            o->w.clients = (int)v;
            break;
        case 'r': {
            char *end;
            o->w.rate = strtod(optarg, &end);
            if (*end || end == optarg || o->w.rate < 0)
                return run_bad("--rate", optarg);
            break;
        }
        case 'k':
            if (bench_parse_long(optarg, 1, 10000, &v) != 0)
                return run_bad("--keys", optarg);
            o->w.keys = (int)v;
            break;
        case 't': {
            int64_t ms = run_parse_duration(optarg);
            if (ms < 100 || ms > 600000)
                return run_bad("--timeout", optarg);
            o->w.timeout_ms = (int)ms;
            break;
        }
        case 's':
            if (bench_parse_long(optarg, 0, LLONG_MAX, &v) != 0)
                return run_bad("--seed", optarg);
            o->seed = (uint64_t)v;
            break;
        case 'W':
            if (bench_parse_long(optarg, 1, 1000000000, &v) != 0)
                return run_bad("--watch-history", optarg);
            o->watch_history = (long)v;
            break;
        case 'E': {
            int64_t ms = run_parse_duration(optarg);
            if (ms < 50 || ms > 60000)
                return run_bad("--election-timeout", optarg);
            o->election_timeout = optarg;
            break;
        }
        case 'K': o->kubeconfig = optarg; break;
        case 'C': o->context = optarg; break;
        case 'o': o->out = optarg; break;
        case 'b': o->bin = optarg; break;
        case 'h': run_usage(stdout); return 0;
        default:
            fprintf(stderr, "bosun chaos: %s %s (see bosun chaos --help)\n",
                    opt == ':' ? "a value is needed for" : "unknown flag", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bosun chaos: unexpected argument %s (see bosun chaos --help)\n",
                argv[optind]);
        return 2;
    }
    o->w.seed = o->seed;
    return run_check_attach(o);
}

/* ---------------------------------------------------------------- the monitor */

struct run_monitor {
    char api[CHAOS_MAX_SERVERS][48];
    int n;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t mu;
    struct chaos_term *terms; /* under mu */
    int nterms, cap;
};

/* The leader the servers claim with the highest term: a deposed leader cut
 * off by a partition may still claim its old term. */
static int run_monitor_sample(struct run_monitor *m, uint64_t *term)
{
    int leader = 0;
    *term = 0;
    for (int i = 0; i < m->n; i++) {
        json_t *st = tools_status_fetch(m->api[i], 200);
        if (!st)
            continue;
        const char *role = json_string_value(json_object_get(st, "role"));
        uint64_t t = (uint64_t)json_integer_value(json_object_get(st, "term"));
        if (role && strcmp(role, "leader") == 0 && t >= *term) {
            leader = (int)json_integer_value(json_object_get(st, "id"));
            *term = t;
        }
        json_decref(st);
    }
    return leader;
}

static void *run_monitor_thread(void *arg)
{
    struct run_monitor *m = arg;
    while (!atomic_load(&m->stop)) {
        uint64_t term;
        int64_t t = chaos_now_ns();
        int leader = run_monitor_sample(m, &term);
        pthread_mutex_lock(&m->mu);
        const struct chaos_term *last = m->nterms ? &m->terms[m->nterms - 1] : NULL;
        if (!last || last->leader != leader || last->term != term) {
            if (m->nterms == m->cap) {
                m->cap = m->cap ? 2 * m->cap : 64;
                m->terms = xrealloc(m->terms, (size_t)m->cap * sizeof *m->terms);
            }
            m->terms[m->nterms++] = (struct chaos_term){.t = t, .leader = leader, .term = term};
        }
        pthread_mutex_unlock(&m->mu);
        int64_t next = t + RUN_MONITOR_MS * 1000000LL;
        while (!atomic_load(&m->stop) && chaos_now_ns() < next) {
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

static void run_monitor_start(struct run_monitor *m, const struct chaos_cluster *c)
{
    memset(m, 0, sizeof *m);
    m->n = c->n;
    for (int i = 0; i < c->n; i++)
        snprintf(m->api[i], sizeof m->api[i], "%s", c->servers[i].api);
    atomic_init(&m->stop, false);
    pthread_mutex_init(&m->mu, NULL);
    if (pthread_create(&m->thread, NULL, run_monitor_thread, m) != 0)
        m->n = -1;
}

static void run_monitor_stop(struct run_monitor *m)
{
    if (m->n < 0)
        return;
    atomic_store(&m->stop, true);
    pthread_join(m->thread, NULL);
    pthread_mutex_destroy(&m->mu);
    m->n = -1;
}

/* ---------------------------------------------------------------- waiting */

static int run_wait_leader(const struct chaos_cluster *c, int ms)
{
    int64_t deadline = chaos_now_ns() + (int64_t)ms * 1000000;
    int leader = 0;
    while (!run_interrupted && chaos_now_ns() < deadline &&
           (leader = chaos_cluster_leader(c, NULL)) <= 0)
        chaos_sleep_until(chaos_now_ns() + 200000000, &run_interrupted);
    return leader;
}

/* Until a leader is known and every server reports the same applied index
 * (twice in a row), or ms pass; the index, or 0. */
static long long run_wait_applied(const struct chaos_cluster *c, int ms)
{
    int64_t deadline = chaos_now_ns() + (int64_t)ms * 1000000;
    long long prev = -1;
    while (!run_interrupted && chaos_now_ns() < deadline) {
        long long applied = -1;
        bool same = true, leader = false;
        for (int i = 0; i < c->n && same; i++) {
            json_t *st = tools_status_fetch(c->servers[i].api, RUN_HTTP_TIMEOUT_MS);
            long long a = st ? json_integer_value(json_object_get(st, "applied_index")) : -2;
            leader |= st && json_integer_value(json_object_get(st, "leader_id")) > 0;
            json_decref(st);
            same = a >= 0 && (applied < 0 || a == applied);
            applied = a;
        }
        if (same && leader && applied == prev)
            return applied;
        prev = same && leader ? applied : -1;
        chaos_sleep_until(chaos_now_ns() + 300000000, &run_interrupted);
    }
    return 0;
}

/* ---------------------------------------------------------------- final state */

/* One server's ConfigMaps in namespace chaos as final.json's object for
 * it; NULL if it could not be read. */
static json_t *run_read_final(const struct chaos_server *s)
{
    json_t *list = bench_get_json(s->api, "/api/v1/namespaces/chaos/configmaps", 10000);
    json_t *items = json_object_get(list, "items");
    if (!json_is_array(items)) {
        json_decref(list);
        return NULL;
    }
    json_t *out = json_object();
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        json_t *md = json_object_get(it, "metadata");
        const char *name = json_string_value(json_object_get(md, "name"));
        const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
        const char *v = json_string_value(json_object_get(json_object_get(it, "data"), "v"));
        if (!name || !rv || !v)
            continue;
        char key[300];
        snprintf(key, sizeof key, "chaos/%s", name);
        json_object_set_new(out, key, json_pack("{s:s, s:s}", "value", v, "rv", rv));
    }
    json_decref(list);
    return out;
}

static int run_write_final(const struct chaos_cluster *c, const char *path, struct ubuf *notes)
{
    json_t *servers = json_object();
    int rc = 0;
    for (int i = 0; i < c->n; i++) {
        json_t *one = run_read_final(&c->servers[i]);
        if (!one) {
            ubuf_appendf(notes, "could not read the final state of s%d\n", c->servers[i].id);
            rc = -1;
            continue;
        }
        char id[16];
        snprintf(id, sizeof id, "s%d", c->servers[i].id);
        json_object_set_new(servers, id, one);
    }
    json_t *root = json_pack("{s:o}", "servers", servers);
    if (json_dump_file(root, path, JSON_INDENT(1) | JSON_SORT_KEYS) != 0)
        rc = -1;
    json_decref(root);
    return rc;
}

/* Every server's /cluster/digest until all agree at one applied index;
 * whether they did, with what was seen in notes. */
static bool run_compare_digests(const struct chaos_cluster *c, struct ubuf *notes)
{
    int64_t deadline = chaos_now_ns() + RUN_DIGEST_MS * 1000000LL;
    char last[512] = "";
    while (!run_interrupted) {
        bool same = true;
        char first[40] = "";
        struct ubuf seen = {0};
        for (int i = 0; i < c->n; i++) {
            json_t *d = bench_get_json(c->servers[i].api, "/cluster/digest", RUN_HTTP_TIMEOUT_MS);
            char one[40];
            snprintf(one, sizeof one, "%lld/%s",
                     (long long)json_integer_value(json_object_get(d, "applied")),
                     d ? json_string_value(json_object_get(d, "digest")) : "down");
            ubuf_appendf(&seen, "s%d %s  ", c->servers[i].id, one);
            same &= d && (i == 0 || strcmp(one, first) == 0);
            if (i == 0)
                snprintf(first, sizeof first, "%s", one);
            json_decref(d);
        }
        ubuf_append(&seen, "", 1);
        snprintf(last, sizeof last, "%s", seen.data);
        ubuf_free(&seen);
        if (same) {
            ubuf_appendf(notes, "convergence: every server has digest %s (applied/digest)\n", first);
            return true;
        }
        if (chaos_now_ns() >= deadline)
            break;
        chaos_sleep_until(chaos_now_ns() + 500000000, &run_interrupted);
    }
    ubuf_appendf(notes, "convergence: the servers' digests differ (applied/digest): %s\n", last);
    return false;
}

/* ---------------------------------------------------------------- the run */

struct run {
    struct run_options o;
    char dir[PATH_MAX];
    struct chaos_cluster c;
    struct chaos_workload *w;
    struct chaos_watchers *watchers;
    struct chaos_ctl_run *ctl; /* --workload controllers */
    struct run_monitor m;
    struct chaos_faults faults;
    struct ubuf notes;
    bool recovered, converged;
    char command[512];
};

static char *run_path(const struct run *r, const char *name)
{
    struct ubuf b = {0};
    ubuf_appendf(&b, "%s/%s%c", r->dir, name, '\0');
    return b.data;
}

static bool run_dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return true;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* DIR and the cluster's layout; 0, or an exit status after a message. */
static int run_prepare(struct run *r)
{
    char def[64];
    snprintf(def, sizeof def, "chaos-%" PRIu64, r->o.seed);
    const char *out = r->o.out ? r->o.out : def;
    if (!run_dir_empty(out)) {
        fprintf(stderr, "bosun chaos: %s is not empty (give a new or empty --out DIR)\n", out);
        return 2;
    }
    if (tools_mkdir_p(out) != 0 || !realpath(out, r->dir)) {
        fprintf(stderr, "bosun chaos: cannot create %s: %s\n", out, strerror(errno));
        return 2;
    }
    char *bin = tools_resolve_bin("chaos", r->o.bin);
    if (!bin)
        return 2;
    char err[512];
    bool disk_hook = r->o.faults & (1u << CHAOS_F_DISK);
    int rc;
    if (r->o.kubeconfig) {
        char url[256];
        rc = chaos_kubeconfig_server(r->o.kubeconfig, r->o.context, url, sizeof url, err,
                                     sizeof err);
        if (rc == 0)
            rc = chaos_cluster_attach(&r->c, url, r->dir, bin, err, sizeof err);
    } else {
        struct chaos_server_options so = {.watch_history = r->o.watch_history,
                                          .disk_hook = disk_hook,
                                          .election_timeout = r->o.election_timeout};
        rc = chaos_cluster_init(&r->c, r->o.servers, r->dir, bin, &so, err, sizeof err);
    }
    free(bin);
    if (rc != 0) {
        fprintf(stderr, "bosun chaos: %s\n", err);
        return 2;
    }
    return 0;
}

/* Attached: a leader, and namespace chaos as new. */
static int run_attach_cluster(struct run *r)
{
    char err[256];
    int leader = run_wait_leader(&r->c, RUN_LEADER_WAIT_MS);
    if (leader <= 0) {
        fprintf(stderr, "bosun chaos: the cluster of %s has no leader\n", r->o.kubeconfig);
        return 2;
    }
    if (chaos_namespace_reset(&r->c, RUN_RECOVER_MS, err, sizeof err) != 0) {
        fprintf(stderr, "bosun chaos: %s\n", err);
        return 2;
    }
    printf("bosun chaos: attached to the %d servers of %s (", r->c.n, r->o.kubeconfig);
    for (int i = 0; i < r->c.n; i++)
        printf("%s%s", i ? ", " : "", r->c.servers[i].api);
    printf("), leader s%d; writing to %s\n", leader, r->dir);
    return 0;
}

static int run_start_cluster(struct run *r)
{
    if (r->c.attached)
        return run_attach_cluster(r);
    for (int i = 0; i < r->c.n; i++)
        if (chaos_server_spawn(&r->c.servers[i]) != 0)
            return 2;
    int leader = run_wait_leader(&r->c, RUN_LEADER_WAIT_MS);
    if (leader <= 0) {
        fprintf(stderr, "bosun chaos: no leader within %d s; see %s/sN.log\n",
                RUN_LEADER_WAIT_MS / 1000, r->dir);
        return 2;
    }
    printf("bosun chaos: %d servers up in %s (API ports %d..%d, Raft through the proxy), "
           "leader s%d\n",
           r->c.n, r->dir, r->c.servers[0].api_port, r->c.servers[r->c.n - 1].api_port, leader);
    return 0;
}

/* The watchers, before the clients: 0, or an exit status after a message. */
static int run_watch_start(struct run *r)
{
    char err[256], *path = run_path(r, "watch.jsonl");
    /* Attached, the servers' change log size is not ours to know: 0 says so. */
    r->watchers = chaos_watchers_start(&r->c, path, r->o.seed,
                                       r->c.attached ? 0 : r->o.watch_history, err, sizeof err);
    free(path);
    if (!r->watchers) {
        fprintf(stderr, "bosun chaos: %s\n", err);
        return 2;
    }
    if (!chaos_watchers_ready(r->watchers, RUN_WATCH_READY_MS, &run_interrupted) &&
        !run_interrupted)
        ubuf_appendf(&r->notes, "watch: not every server's watch was open within %d s of the "
                                "start\n", RUN_WATCH_READY_MS / 1000);
    return 0;
}

/* After the final state: the watchers catch up with their servers (when
 * settle) and stop. */
static void run_watch_stop(struct run *r, bool settle)
{
    if (!r->watchers)
        return;
    if (settle && !run_interrupted &&
        !chaos_watchers_settle(r->watchers, RUN_WATCH_SETTLE_MS, &run_interrupted))
        ubuf_appendf(&r->notes, "watch: not every watcher saw its server's final revision "
                                "within %d s\n", RUN_WATCH_SETTLE_MS / 1000);
    if (chaos_watchers_stop(r->watchers) != 0)
        ubuf_appendf(&r->notes, "watch: watch.jsonl could not be written whole\n");
    r->watchers = NULL;
}

/* The faults phase and the quiet period after it. */
static int run_faults(struct run *r)
{
    char *path = run_path(r, "faults.jsonl");
    FILE *f = fopen(path, "w");
    free(path);
    if (!f) {
        fprintf(stderr, "bosun chaos: cannot write faults.jsonl: %s\n", strerror(errno));
        return 2;
    }
    struct chaos_rng rng = {r->o.seed};
    int64_t end = r->c.t0 + r->o.duration_ms * 1000000;
    printf("bosun chaos: %d clients, faults for %.0f s (seed %" PRIu64 "):\n", r->o.w.clients,
           (double)r->o.duration_ms / 1000, r->o.seed);
    fflush(stdout);
    chaos_faults_run(&r->c, r->o.faults, &rng, end, &run_interrupted, &r->faults, f);
    fclose(f);
    printf("bosun chaos: healed; quiet period\n");
    fflush(stdout);
    chaos_sleep_until(chaos_now_ns() + RUN_QUIET_MS * 1000000LL, &run_interrupted);
    return 0;
}

/* After the clients stopped: history, final state, digests. */
static int run_record(struct run *r)
{
    char *path = run_path(r, "history.jsonl");
    int rc = chaos_workload_write(r->w, path);
    free(path);
    if (rc != 0) {
        fprintf(stderr, "bosun chaos: cannot write history.jsonl: %s\n", strerror(errno));
        return 2;
    }
    if (run_interrupted)
        return 2;
    long long applied = run_wait_applied(&r->c, RUN_RECOVER_MS);
    r->recovered = applied > 0;
    if (!r->recovered && !run_interrupted)
        ubuf_appendf(&r->notes, "recovery: no leader with every server at one applied index "
                                "within %d s of healing\n", RUN_RECOVER_MS / 1000);
    if (r->ctl && !run_interrupted)
        chaos_ctl_settle(r->ctl, RUN_CTL_SETTLE_MS, &run_interrupted, &r->notes);
    path = run_path(r, "final.json");
    rc = run_write_final(&r->c, path, &r->notes);
    free(path);
    r->converged = run_compare_digests(&r->c, &r->notes);
    return rc == 0 ? 0 : 1;
}

static int run_judge(struct run *r)
{
    struct chaos_history h;
    char err[512];
    chaos_history_init(&h);
    if (chaos_history_load(&h, r->dir, false, err, sizeof err) != 0) {
        fprintf(stderr, "bosun chaos: cannot check the history: %s\n", err);
        chaos_history_free(&h);
        return 2;
    }
    struct chaos_options co = {0};
    struct chaos_report cr;
    chaos_check_history(&h, &co, &cr);
    if (r->c.crashes)
        ubuf_appendf(&r->notes, "crashes: %d server exit(s) nobody asked for (see DIR/sN.log)\n",
                     r->c.crashes);
    if (r->c.unrejoined)
        ubuf_appendf(&r->notes, "membership: %d removed server(s) not a voter again within 60 s "
                                "of being added back (see faults.jsonl)\n", r->c.unrejoined);
    bool healthy = r->recovered && r->converged && !r->c.crashes && !r->c.unrejoined;
    bool ok = cr.verdict == CHAOS_PASS && healthy;
    int rc = ok ? 0 : cr.verdict == CHAOS_UNDECIDED && healthy ? 2 : 1;
    const char *verdict = rc == 0 ? "PASS" : rc == 1 ? "FAIL" : "UNKNOWN";
    ubuf_append(&r->notes, "", 1);
    ubuf_append(&cr.text, "", 1);
    struct chaos_term *terms = r->m.terms;
    struct chaos_run_record rec = {.h = &h, .faults = r->faults.f, .nfaults = r->faults.n,
                                   .terms = terms, .nterms = r->m.nterms, .servers = r->c.n,
                                   .command = r->command, .verdict = verdict,
                                   .checker_text = cr.text.data, .notes = r->notes.data};
    struct ubuf fig = {0};
    chaos_figures(&rec, &fig);
    ubuf_append(&fig, "", 1);
    printf("\n%s%s%s\n", cr.text.data, r->notes.data, fig.data);
    char *path = run_path(r, "report.html");
    if (chaos_report_html(&rec, path) != 0)
        fprintf(stderr, "bosun chaos: cannot write %s\n", path);
    printf("verdict: %s   (history in %s, report %s)\n", verdict, r->dir, path);
    free(path);
    ubuf_free(&fig);
    chaos_report_free(&cr);
    chaos_history_free(&h);
    return rc;
}

static void run_command_line(struct run *r, int argc, char **argv)
{
    size_t len = 0;
    r->command[0] = '\0';
    for (int i = -1; i < argc; i++) {
        const char *a = i < 0 ? "bosun" : argv[i];
        int n = snprintf(r->command + len, sizeof r->command - len, "%s%s", len ? " " : "", a);
        if (n < 0 || (size_t)n >= sizeof r->command - len)
            break;
        len += (size_t)n;
    }
}

static void run_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = run_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL); /* an inherited SIG_IGN would reap the servers behind our back */
}

int chaos_run_main(int argc, char **argv)
{
    struct run *r = xcalloc(1, sizeof *r);
    int rc = run_parse(argc, argv, &r->o);
    if (rc >= 0) {
        free(r);
        return rc;
    }
    run_command_line(r, argc, argv);
    run_signals();
    r->m.n = -1;
    rc = run_prepare(r);
    if (rc == 0)
        rc = run_start_cluster(r);
    if (rc == 0)
        rc = run_watch_start(r);
    if (rc == 0) {
        char err[256] = "";
        run_monitor_start(&r->m, &r->c);
        r->c.t0 = chaos_now_ns();
        r->w = chaos_workload_start(&r->c, &r->o.w, err, sizeof err);
        if (!err[0] && r->o.controllers) {
            char *path = run_path(r, "controllers.jsonl");
            r->ctl = chaos_ctl_start(&r->c, path, r->o.seed, err, sizeof err);
            free(path);
        }
        if (err[0]) {
            fprintf(stderr, "bosun chaos: %s\n", err);
            rc = 2;
        }
    }
    if (rc == 0)
        rc = run_faults(r);
    if (r->w)
        chaos_workload_stop(r->w);
    chaos_ctl_stop_driver(r->ctl);
    if (rc == 0)
        rc = run_record(r);
    run_watch_stop(r, rc == 0 || rc == 1);
    if (r->ctl && chaos_ctl_stop(r->ctl) != 0)
        ubuf_appendf(&r->notes, "controllers: controllers.jsonl could not be written whole\n");
    r->ctl = NULL;
    run_monitor_stop(&r->m);
    if (r->c.n > 0 && !r->c.attached) {
        printf("bosun chaos: stopping the servers\n");
        fflush(stdout);
        chaos_cluster_stop(&r->c, RUN_STOP_GRACE_MS);
    }
    if (run_interrupted) {
        fprintf(stderr, "bosun chaos: interrupted; every server stopped\n");
        rc = 2;
    } else if (rc == 0 || rc == 1) {
        int judged = run_judge(r);
        rc = rc == 1 && judged == 0 ? 1 : judged; /* rc 1: a final state went unread */
    }
    chaos_workload_free(r->w);
    if (r->c.n > 0)
        chaos_cluster_free(&r->c);
    chaos_faults_free(&r->faults);
    free(r->m.terms);
    ubuf_free(&r->notes);
    free(r);
    return rc;
}
