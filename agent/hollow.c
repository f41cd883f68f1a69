/* hollow.c — `bosun agent --hollow N`: N simulated nodes in one process,
 * like kubemark or KWOK, talking to the cluster only through its API.
 *
 * This file is the command: its flags (into struct agent_config), the
 * start, the wait and the stop, and the small helpers the other files of
 * agent/ share (times, addresses, fake ids, once-per-kind error logging).
 * The work itself is elsewhere (agent_internal.h lists the files):
 * node.c registers the nodes and renews their Leases, podwatch.c follows
 * the pods bound to them, podstatus.c writes the pods' status, metrics.c
 * reports their synthetic usage, jobs.c runs the node and pod writes on a
 * pool of workers, conn.c fails over along the --server list.
 *
 * Start: SIGINT and SIGTERM are blocked before any thread exists, so every
 * thread inherits the mask and the signals stay pending for the main
 * thread, which waits for them with sigtimedwait (bounded by --duration):
 * no handler, no global flag. Then the workers and the ticker start, every
 * node's registration is queued, and the pod watcher starts (pods bound to
 * a node before it registers are handled too). Stop: the agent's stopping
 * flag is set, the watcher is joined (it checks the flag every second),
 * then the scheduler stops its threads and frees what was still queued.
 * Nodes and Leases are left in place, as a stopped kubelet leaves them: the
 * node lifecycle controller marks the nodes NotReady once their Leases
 * expire, and a new agent with the same prefix takes them over. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/agent_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define AGENT_DEFAULT_WORKERS 32
#define AGENT_MAX_WORKERS 512

static void agent_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun agent --hollow N --server URL[,URL...] [flags]\n"
            "\n"
            "Simulates N nodes in one process (like kubemark or KWOK): registers them, keeps\n"
            "their Leases renewed, moves the pods bound to them to Running, completes pods\n"
            "annotated " AGENT_RUN_SECONDS_ANNOTATION ": \"S\" (restartPolicy Never or\n"
            "OnFailure) after S seconds, and finishes the deletion of their pods.\n"
            "\n"
            "  --hollow N              nodes to simulate, 1..%d (required)\n"
            "  --server URL[,URL...]   API servers, in failover order (required)\n"
            "  --name-prefix P         node names P0000, P0001, ... (default hollow-)\n"
            "  --cpu Q                 capacity and allocatable cpu (default 4)\n"
            "  --memory Q              memory (default 32Gi)\n"
            "  --pods N                pods (default 110)\n"
            "  --labels k=v[,k=v...]   labels on every node (besides hostname, os, arch,\n"
            "                          instance-type)\n"
            "  --zones Z               spread nodes over zone-0..zone-(Z-1) by the label\n"
            "                          topology.kubernetes.io/zone (default 0: no label)\n"
            "  --taints k=v:Effect[,...] taints on every node (NoSchedule,\n"
            "                          PreferNoSchedule, NoExecute; k:Effect without value)\n"
            "  --lease-seconds S       Lease duration; renewed every S/4 (default 40)\n"
            "  --duration D            exit after D (e.g. 90s, 10m; default 0: until\n"
            "                          SIGINT or SIGTERM)\n"
            "  --workers N             concurrent writes, one connection each (default %d)\n"
            "  --cpu-usage F           reported usage of a running pod: its cpu and memory\n"
            "                          requests x F (default 0.5); a pod annotated\n"
            "                          bosun.dev/hollow-cpu-usage (-memory-usage): Q uses Q\n"
            "  --start-delay D         a pod bound to a node is reported Running D after\n"
            "                          the agent sees it (image pulls, container starts;\n"
            "                          default 0)\n"
            "  --metrics-interval D    write metrics.k8s.io PodMetrics/NodeMetrics (kubectl top,\n"
            "                          autoscaling) every D (default 5s; 0: never)\n"
            "  --kubelet-address A     where the nodes' kubelet endpoint listens, for\n"
            "                          kubectl logs and exec through the API servers\n"
            "                          (default 127.0.0.1)\n"
            "  --kubelet-port P        its port (default 0: any free port)\n"
            "  --exec-dir DIR          (absolute) serve kubectl exec and cp: commands run on this\n"
            "                          host, as this user, in DIR/NS/POD/CONTAINER, with the\n"
            "                          container's literal env (default: exec off)\n"
            "  --log-level L           debug, info, warn or error (default info)\n"
            "  --help                  this text\n",
            AGENT_MAX_NODES, AGENT_DEFAULT_WORKERS);
}

/* ---- shared helpers ---- */

void agent_error(struct agent *ag, enum agent_err kind, const char *fmt, ...)
{
    atomic_fetch_add(&ag->st.errors[kind], 1);
    if (atomic_exchange(&ag->st.logged[kind], true))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    LOG_WARN("%s (further errors of this kind are only counted)", msg);
}

void agent_ip_format(uint32_t ip, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int64_t agent_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void agent_time_format(int64_t wall_ms, bool micro, char *buf, size_t len)
{
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    if (micro)
        snprintf(buf, len, "%s.%06ldZ", base, (long)(wall_ms % 1000) * 1000);
    else
        snprintf(buf, len, "%sZ", base);
}

void agent_time_rfc3339(int64_t wall_ms, char *buf, size_t len)
{
    agent_time_format(wall_ms, false, buf, len);
}

void agent_time_micro(int64_t wall_ms, char *buf, size_t len)
{
    agent_time_format(wall_ms, true, buf, len);
}

int64_t agent_time_parse(const char *s)
{
    struct tm tm = {0};
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return -1;
    int64_t ms = (int64_t)timegm(&tm) * 1000;
    if (*end == '.') {
        int64_t scale = 100;
        for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
            ms += (*end - '0') * scale;
    }
    return *end == 'Z' ? ms : -1;
}

void agent_fake_id(const char *salt, const char *name, char *out, size_t len)
{
    uint64_t h = util_hash_str(util_hash_str(UTIL_HASH_SEED, salt), name);
    size_t n = 0;
    for (int round = 0; round < 4 && n + 1 < len; round++) {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        char part[17];
        snprintf(part, sizeof part, "%016llx", (unsigned long long)h);
        for (int i = 0; i < 16 && n + 1 < len; i++)
            out[n++] = part[i];
    }
    out[n] = '\0';
}

/* ---- flags ---- */

static bool label_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (n == 0 || n > 316)
        return false;
    for (const char *p = k; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-._/", *p)))
            return false;
    return true;
}

static bool label_value_ok(const char *v)
{
    if (strlen(v) > 63)
        return false;
    for (const char *p = v; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("-._", *p)))
            return false;
    return true;
}

/* "k=v,k2=v2" into obj; false on a malformed pair. */
static bool parse_labels(const char *s, json_t *obj)
{
    char *copy = xstrdup(s), *save = NULL;
    bool ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            ok = false;
            break;
        }
        *eq = '\0';
        ok = label_key_ok(tok) && label_value_ok(eq + 1);
        if (ok)
            json_object_set_new(obj, tok, json_string(eq + 1));
    }
    free(copy);
    return ok;
}

/* "key=value:Effect,key:Effect" into an array of taints. */
static bool parse_taints(const char *s, json_t *arr)
{
    static const char *effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute"};
    char *copy = xstrdup(s), *save = NULL;
    bool ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(tok, ':');
        ok = colon != NULL;
        if (!ok)
            break;
        *colon = '\0';
        const char *effect = colon + 1;
        ok = false;
        for (size_t i = 0; i < sizeof effects / sizeof effects[0]; i++)
            ok |= strcmp(effect, effects[i]) == 0;
        char *eq = strchr(tok, '=');
        if (eq)
            *eq = '\0';
        const char *value = eq ? eq + 1 : "";
        ok = ok && label_key_ok(tok) && label_value_ok(value);
        if (!ok)
            break;
        json_t *t = json_pack("{s:s, s:s}", "key", tok, "effect", effect);
        if (*value)
            json_object_set_new(t, "value", json_string(value));
        json_array_append_new(arr, t);
    }
    free(copy);
    return ok;
}

static bool parse_servers(const char *s, struct agent_config *cfg)
{
    char *copy = xstrdup(s), *save = NULL;
    bool ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        struct httpc *probe = httpc_new(tok);
        ok = probe != NULL && cfg->n_servers < AGENT_MAX_SERVERS;
        httpc_free(probe);
        if (!ok)
            break;
        cfg->servers[cfg->n_servers++] = xstrdup(tok);
    }
    free(copy);
    return ok && cfg->n_servers > 0;
}

static bool parse_int(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool prefix_ok(const char *p)
{
    if (strlen(p) > 200)
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
            return false;
    return true;
}

static void config_free(struct agent_config *cfg)
{
    for (int i = 0; i < cfg->n_servers; i++)
        free(cfg->servers[i]);
    json_decref(cfg->labels);
    json_decref(cfg->taints);
    memset(cfg, 0, sizeof *cfg);
}

/* 0 to run, 1 after --help, -1 with err set. */
static int config_parse(struct agent_config *cfg, int argc, char **argv, int *log_level,
                        char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"hollow", 1, 0, 'n'},     {"server", 1, 0, 's'},   {"name-prefix", 1, 0, 'p'},
        {"cpu", 1, 0, 'c'},        {"memory", 1, 0, 'm'},   {"pods", 1, 0, 'P'},
        {"labels", 1, 0, 'l'},     {"zones", 1, 0, 'z'},    {"taints", 1, 0, 't'},
        {"lease-seconds", 1, 0, 'L'}, {"duration", 1, 0, 'd'}, {"workers", 1, 0, 'w'},
        {"log-level", 1, 0, 'v'},  {"help", 0, 0, 'h'},     {"cpu-usage", 1, 0, 'u'},
        {"metrics-interval", 1, 0, 'M'}, {"start-delay", 1, 0, 'S'},
        {"kubelet-address", 1, 0, 'A'}, {"kubelet-port", 1, 0, 'K'}, {"exec-dir", 1, 0, 'E'},
        {0, 0, 0, 0}};
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->prefix, sizeof cfg->prefix, "hollow-");
    snprintf(cfg->cpu, sizeof cfg->cpu, "4");
    snprintf(cfg->memory, sizeof cfg->memory, "32Gi");
    cfg->pods = 110;
    cfg->lease_seconds = 40;
    cfg->workers = AGENT_DEFAULT_WORKERS;
    cfg->cpu_usage = 0.5;
    cfg->metrics_interval_ms = 5000;
    cfg->labels = json_pack("{s:s, s:s, s:s}", "kubernetes.io/os", "linux", "kubernetes.io/arch",
                            "amd64", "node.kubernetes.io/instance-type", "hollow");
    cfg->taints = json_array();
    snprintf(cfg->kubelet_address, sizeof cfg->kubelet_address, "127.0.0.1");
    *log_level = UTIL_LOG_INFO;
    optind = 1;
    opterr = 0;
    int c, li = -1;
    long v;
    while ((li = -1, c = getopt_long(argc, argv, ":h", opts, &li)) != -1) {
        bool ok = true;
        switch (c) {
        case 'h':
            return 1;
        case 'n':
            ok = parse_int(optarg, 1, AGENT_MAX_NODES, &v);
            cfg->hollow = (int)v;
            break;
        case 's':
            ok = parse_servers(optarg, cfg);
            break;
        case 'p':
            ok = prefix_ok(optarg);
            snprintf(cfg->prefix, sizeof cfg->prefix, "%s", optarg);
            break;
        case 'c':
        case 'm':
            ok = strlen(optarg) < sizeof cfg->cpu && kube_quantity_parse(optarg, NULL);
            snprintf(c == 'c' ? cfg->cpu : cfg->memory, sizeof cfg->cpu, "%s", optarg);
            break;
        case 'P':
            ok = parse_int(optarg, 0, 1000000, &cfg->pods);
            break;
        case 'l':
            ok = parse_labels(optarg, cfg->labels);
            break;
        case 'z':
            ok = parse_int(optarg, 0, AGENT_MAX_NODES, &v);
            cfg->zones = (int)v;
            break;
        case 't':
            ok = parse_taints(optarg, cfg->taints);
            break;
        case 'L':
            ok = parse_int(optarg, 1, 3600, &v);
            cfg->lease_seconds = (int)v;
            break;
        case 'd':
            cfg->duration_ms = util_parse_duration_ms(optarg);
            ok = cfg->duration_ms >= 0 && strcmp(optarg, "") != 0;
            break;
        case 'w':
            ok = parse_int(optarg, 1, AGENT_MAX_WORKERS, &v);
            cfg->workers = (int)v;
            break;
        case 'u': {
            char *end;
            cfg->cpu_usage = strtod(optarg, &end);
            ok = end != optarg && !*end && cfg->cpu_usage >= 0 && cfg->cpu_usage <= 1000;
            break;
        }
        case 'M':
        case 'S': {
            long ms = util_parse_duration_ms(optarg);
            ok = ms >= 0 && *optarg;
            *(c == 'M' ? &cfg->metrics_interval_ms : &cfg->start_delay_ms) =
                ms > 0 ? (uint64_t)ms : 0;
            break;
        }
        case 'A': {
            struct in_addr a;
            ok = strlen(optarg) < sizeof cfg->kubelet_address && inet_pton(AF_INET, optarg, &a) == 1;
            snprintf(cfg->kubelet_address, sizeof cfg->kubelet_address, "%s", optarg);
            break;
        }
        case 'K':
            ok = parse_int(optarg, 0, 65535, &v);
            cfg->kubelet_port = (int)v;
            break;
        case 'E':
            ok = *optarg == '/' && strlen(optarg) < sizeof cfg->exec_dir - 200;
            snprintf(cfg->exec_dir, sizeof cfg->exec_dir, "%s", optarg);
            break;
        case 'v':
            ok = true;
            if (strcmp(optarg, "debug") == 0)
                *log_level = UTIL_LOG_DEBUG;
            else if (strcmp(optarg, "info") == 0)
                *log_level = UTIL_LOG_INFO;
            else if (strcmp(optarg, "warn") == 0)
                *log_level = UTIL_LOG_WARN;
            else if (strcmp(optarg, "error") == 0)
                *log_level = UTIL_LOG_ERROR;
            else
                ok = false;
            break;
        case ':':
            snprintf(err, errlen, "flag %s needs a value", argv[optind - 1]);
            return -1;
        default:
            snprintf(err, errlen, "unknown flag %s", argv[optind - 1]);
            return -1;
        }
        if (!ok) {
            snprintf(err, errlen, "invalid value \"%s\" for --%s", optarg,
                     li >= 0 ? opts[li].name : "?");
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
        return -1;
    }
    if (!cfg->hollow) {
        snprintf(err, errlen, "--hollow N is required (only hollow nodes are implemented)");
        return -1;
    }
    if (!cfg->n_servers) {
        snprintf(err, errlen, "--server URL[,URL...] is required");
        return -1;
    }
    int width = 1;
    for (int n = cfg->hollow - 1; n >= 10; n /= 10)
        width++;
    cfg->name_width = width < 4 ? 4 : width;
    return 0;
}

/* ---- run ---- */

/* Waits for SIGINT or SIGTERM, or until duration_ms (0: no limit). */
static const char *agent_wait(const sigset_t *set, long duration_ms)
{
    uint64_t end = util_now_ms() + (uint64_t)duration_ms;
    for (;;) {
        int sig;
        if (duration_ms <= 0) {
            sig = sigwaitinfo(set, NULL);
        } else {
            uint64_t now = util_now_ms();
            if (now >= end)
                return "--duration elapsed";
            uint64_t left = end - now;
            struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
            sig = sigtimedwait(set, NULL, &ts);
        }
        if (sig == SIGINT)
            return "interrupted";
        if (sig == SIGTERM)
            return "terminated";
        if (sig < 0 && errno != EINTR && errno != EAGAIN)
            return "sigwait failed";
    }
}

static void agent_report(struct agent *ag, const char *why)
{
    struct agent_stats *st = &ag->st;
    long errors = 0;
    for (int i = 0; i < AGENT_ERR_COUNT; i++)
        errors += atomic_load(&st->errors[i]);
    LOG_INFO("stopping (%s) after %.1f s: %ld/%d nodes registered, %ld pods started, %ld "
             "succeeded, %ld deleted, %ld lease renewals, %ld heartbeats, %ld requests, %ld "
             "failovers, %ld errors",
             why, (double)(util_now_ms() - ag->start_ms) / 1000.0,
             (long)atomic_load(&st->registered), ag->cfg.hollow, (long)atomic_load(&st->running),
             (long)atomic_load(&st->succeeded), (long)atomic_load(&st->deleted),
             (long)atomic_load(&st->leases), (long)atomic_load(&st->heartbeats),
             (long)atomic_load(&st->requests), (long)atomic_load(&st->failovers), errors);
}

int agent_main(int argc, char **argv)
{
    struct agent *ag = xcalloc(1, sizeof *ag);
    char err[512];
    int level;
    int rc = config_parse(&ag->cfg, argc, argv, &level, err, sizeof err);
    if (rc != 0) {
        if (rc > 0)
            agent_usage(stdout);
        else
            fprintf(stderr, "bosun agent: %s (see bosun agent --help)\n", err);
        config_free(&ag->cfg);
        free(ag);
        return rc > 0 ? 0 : 2;
    }
    util_log_set_level(level);
    util_log_set_prefix("agent");

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A write to an exec'd command that closed its stdin fails with EPIPE
     * (exec.c drops the rest) instead of killing the agent. */
    signal(SIGPIPE, SIG_IGN);

    struct agent_config *cfg = &ag->cfg;
    ag->start_ms = util_now_ms();
    agent_time_rfc3339(agent_wall_ms(), ag->started_at, sizeof ag->started_at);
    LOG_INFO("hollow agent: %d nodes %s%0*d..%s%0*d (cpu %s, memory %s, pods %ld, %d zones, "
             "%zu taints), lease %d s, %d workers, servers %s%s",
             cfg->hollow, cfg->prefix, cfg->name_width, 0, cfg->prefix, cfg->name_width,
             cfg->hollow - 1, cfg->cpu, cfg->memory, cfg->pods, cfg->zones,
             json_array_size(cfg->taints), cfg->lease_seconds, cfg->workers, cfg->servers[0],
             cfg->n_servers > 1 ? " (+ failover)" : "");
    agent_pods_init(&ag->pods);
    if (agent_kubelet_start(ag) != 0) {
        agent_pods_free(&ag->pods);
        config_free(cfg);
        free(ag);
        return 1;
    }
    agent_sched_init(&ag->sched);
    agent_nodes_init(ag);
    agent_sched_start(ag, cfg->workers);
    agent_nodes_start(ag);
    agent_podwatch_start(ag);
    agent_metrics_start(ag);

    const char *why = agent_wait(&set, cfg->duration_ms);

    atomic_store(&ag->stopping, true);
    agent_kubelet_stop(ag);
    agent_podwatch_stop(ag);
    agent_metrics_stop(ag);
    agent_sched_stop(ag);
    agent_report(ag, why);
    agent_nodes_free(ag);
    agent_pods_free(&ag->pods);
    config_free(cfg);
    free(ag);
    return 0;
}
