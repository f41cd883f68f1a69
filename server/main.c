/* main.c — `bosun server`: flags, the data directory, start-up and shutdown.
 *
 * Start-up order fails fast on the mistakes people make: flags are checked,
 * the data directory is checked to be ours and this server's (a file
 * `bosun-id` names the server id it belongs to), the API port is bound, then
 * the store is opened, the Raft member started (bootstrapping a pristine
 * directory from --peers, or joining through --join), and the HTTP server
 * started. SIGINT/SIGTERM stop it in the reverse order. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "controllers/controllers.h"
#include "scheduler/scheduler.h"
#include "httpc/httpc.h"
#include "server/internal.h"
#include "server/server.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bosun server --id N --data-dir DIR --listen HOST:PORT --raft-address HOST:PORT\n"
            "                    (--peers LIST | --join URL) [flags]\n\n"
            "Runs one member of a bosun control plane: the Kubernetes API over HTTP, a Raft\n"
            "member, and an LMDB replica of the cluster state.\n\n"
            "  --id N                    this server's id (> 0), unique in the cluster\n"
            "  --data-dir DIR            where the Raft log and snapshots live (the durable\n"
            "                            record)\n"
            "  --state-memory DIR        a memory file system for the LMDB replica, which is\n"
            "                            rebuilt from the Raft log at every start (default\n"
            "                            /dev/shm; \"none\": in the data dir, on disk)\n"
            "  --listen HOST:PORT        the HTTP API address (default 127.0.0.1:6443)\n"
            "  --advertise-url URL       how other servers reach this API (default http://LISTEN)\n"
            "  --raft-address HOST:PORT  the Raft transport address\n"
            "  --advertise-raft-address HOST:PORT  how other servers reach this one's Raft\n"
            "                            transport, when not at --raft-address (a proxy, a\n"
            "                            NAT); what --join announces (default --raft-address)\n"
            "  --peers LIST              the initial members, to bootstrap a new cluster:\n"
            "                            ID=RAFTADDR=APIURL,... (must include this server)\n"
            "  --join URL                join an existing cluster through any member's API\n"
            "  --election-timeout D      Raft election timeout (default 1000ms)\n"
            "  --heartbeat-timeout D     Raft heartbeat interval (default 100ms)\n"
            "  --snapshot-threshold N    entries between snapshots (default: adaptive, at least\n"
            "                            1024 and about as many log bytes as the state holds)\n"
            "  --snapshot-trailing N     entries kept after a snapshot (default 128)\n"
            "  --max-inflight N          Raft entries appended but not applied (default 2)\n"
            "  --watch-history N         changes kept for watches (default 100000)\n"
            "  --request-timeout D       how long a write or read may wait (default 10s)\n"
            "  --bookmark-interval D     watch bookmark interval (default 5s)\n"
            "  --percentage-of-nodes-to-score P  scheduler: nodes to examine per pod once enough\n"
            "                            fit (default: adaptive, as kube-scheduler)\n"
            "  --node-monitor-grace-period D  a node whose Lease is older is marked NotReady\n"
            "                            (default 40s)\n"
            "  --log-level L             debug, info, warn or error (default info)\n");
}

static int parse_peers(const char *list, struct server_config *cfg, char *err, size_t errlen)
{
    char *copy = xstrdup(list), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *a = strchr(tok, '='), *b = a ? strchr(a + 1, '=') : NULL;
        char *end;
        unsigned long long id = strtoull(tok, &end, 10);
        if (!a || !b || end != a || id == 0 || cfg->n_peers >= SERVER_MAX_PEERS) {
            snprintf(err, errlen, "--peers: expected ID=RAFTADDR=APIURL,... near \"%s\"", tok);
            free(copy);
            return -1;
        }
        struct cluster_peer *p = &cfg->peers[cfg->n_peers++];
        p->id = id;
        snprintf(p->raft_addr, sizeof p->raft_addr, "%.*s", (int)(b - a - 1), a + 1);
        snprintf(p->api_url, sizeof p->api_url, "%s", b + 1);
        for (unsigned i = 0; i + 1 < cfg->n_peers; i++)
            if (cfg->peers[i].id == id) {
                snprintf(err, errlen, "--peers: id %llu appears twice", id);
                free(copy);
                return -1;
            }
    }
    free(copy);
    return 0;
}

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v > 0xffffffffUL)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* The flags' defaults. */
static void config_defaults(struct server_config *cfg)
{
    snprintf(cfg->listen, sizeof cfg->listen, "127.0.0.1:6443");
    cfg->election_ms = 1000;
    cfg->heartbeat_ms = 100;
    cfg->request_timeout_ms = 10000;
    cfg->bookmark_interval_ms = 5000;
    cfg->history = 100000;
    cfg->log_level = UTIL_LOG_INFO;
    cfg->node_grace_ms = 40000;
    snprintf(cfg->state_memory, sizeof cfg->state_memory, "/dev/shm");
}

struct server *server_embed(uint64_t id, struct store *st, struct cluster *cl)
{
    struct server *s = xcalloc(1, sizeof *s);
    config_defaults(&s->cfg);
    s->cfg.id = id;
    s->store = st;
    s->cluster = cl;
    s->pool = fwd_pool_new();
    return s;
}

void server_embed_free(struct server *s)
{
    if (!s)
        return;
    fwd_pool_free(s->pool);
    free(s);
}

static int parse_flags(int argc, char **argv, struct server_config *cfg, char *err, size_t errlen)
{
    static const struct option opts[] = {
        {"id", 1, 0, 'i'},           {"data-dir", 1, 0, 'd'},
        {"listen", 1, 0, 'l'},       {"raft-address", 1, 0, 'r'},
        {"peers", 1, 0, 'p'},        {"join", 1, 0, 'j'},
        {"election-timeout", 1, 0, 'E'}, {"heartbeat-timeout", 1, 0, 'H'},
        {"snapshot-threshold", 1, 0, 'S'}, {"snapshot-trailing", 1, 0, 'T'},
        {"max-inflight", 1, 0, 'M'}, {"watch-history", 1, 0, 'W'},
        {"request-timeout", 1, 0, 'R'}, {"bookmark-interval", 1, 0, 'B'},
        {"log-level", 1, 0, 'L'},    {"advertise-url", 1, 0, 'A'},
        {"percentage-of-nodes-to-score", 1, 0, 'P'}, {"node-monitor-grace-period", 1, 0, 'G'},
        {"state-memory", 1, 0, 'm'}, {"advertise-raft-address", 1, 0, 'a'},
        {"help", 0, 0, 'h'},         {0, 0, 0, 0}};
    unsigned u;
    long d;
    int c, li = -1;
    optind = 1;
    opterr = 0;
    config_defaults(cfg);
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        switch (c) {
        case 'i': {
            char *end;
            cfg->id = strtoull(optarg, &end, 10);
            if (*end || cfg->id == 0)
                goto bad;
            break;
        }
        case 'd': snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", optarg); break;
        case 'm':
            snprintf(cfg->state_memory, sizeof cfg->state_memory, "%s",
                     strcmp(optarg, "none") == 0 ? "" : optarg);
            break;
        case 'l': snprintf(cfg->listen, sizeof cfg->listen, "%s", optarg); break;
        case 'A': snprintf(cfg->api_url, sizeof cfg->api_url, "%s", optarg); break;
        case 'r': snprintf(cfg->raft_addr, sizeof cfg->raft_addr, "%s", optarg); break;
        case 'a': snprintf(cfg->raft_advertise, sizeof cfg->raft_advertise, "%s", optarg); break;
        case 'p':
            if (parse_peers(optarg, cfg, err, errlen) != 0)
                return -1;
            break;
        case 'j': snprintf(cfg->join, sizeof cfg->join, "%s", optarg); break;
        case 'P':
            if (parse_uint(optarg, &u) != 0 || u > 100)
                goto bad;
            cfg->percentage_of_nodes = u;
            break;
        case 'G':
            if ((d = util_parse_duration_ms(optarg)) <= 0)
                goto bad;
            cfg->node_grace_ms = (unsigned)d;
            break;
        case 'E':
        case 'H':
        case 'R':
        case 'B':
            if ((d = util_parse_duration_ms(optarg)) <= 0)
                goto bad;
            if (c == 'E')
                cfg->election_ms = (unsigned)d;
            else if (c == 'H')
                cfg->heartbeat_ms = (unsigned)d;
            else if (c == 'R')
                cfg->request_timeout_ms = (int)d;
            else
                cfg->bookmark_interval_ms = (int)d;
            break;
        case 'S':
        case 'T':
        case 'M':
        case 'W':
            if (parse_uint(optarg, &u) != 0 || u == 0)
                goto bad;
            if (c == 'S')
                cfg->snapshot_threshold = u;
            else if (c == 'T')
                cfg->snapshot_trailing = u;
            else if (c == 'M')
                cfg->max_inflight = u;
            else
                cfg->history = u;
            break;
        case 'L':
            if (strcmp(optarg, "debug") == 0)
                cfg->log_level = UTIL_LOG_DEBUG;
            else if (strcmp(optarg, "info") == 0)
                cfg->log_level = UTIL_LOG_INFO;
            else if (strcmp(optarg, "warn") == 0)
                cfg->log_level = UTIL_LOG_WARN;
            else if (strcmp(optarg, "error") == 0)
                cfg->log_level = UTIL_LOG_ERROR;
            else
                goto bad;
            break;
        case 'h': return 1;
        default:
            snprintf(err, errlen, "unknown or incomplete flag %s (see bosun server --help)",
                     argv[optind - 1]);
            return -1;
        }
        continue;
    bad:
        snprintf(err, errlen, "invalid value \"%s\" for --%s", optarg,
                 li >= 0 ? opts[li].name : "?");
        return -1;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
        return -1;
    }
    if (!cfg->id || !cfg->data_dir[0] || !cfg->raft_addr[0]) {
        snprintf(err, errlen, "--id, --data-dir and --raft-address are required (see --help)");
        return -1;
    }
    if (!cfg->n_peers == !cfg->join[0]) {
        snprintf(err, errlen, "give exactly one of --peers (new cluster) or --join (existing)");
        return -1;
    }
    if (cfg->n_peers) {
        bool self = false;
        for (unsigned i = 0; i < cfg->n_peers; i++)
            self |= cfg->peers[i].id == cfg->id;
        if (!self) {
            snprintf(err, errlen, "--peers does not contain this server's id %llu",
                     (unsigned long long)cfg->id);
            return -1;
        }
    }
    if (!cfg->api_url[0])
        snprintf(cfg->api_url, sizeof cfg->api_url, "http://%s", cfg->listen);
    if (!cfg->raft_advertise[0])
        snprintf(cfg->raft_advertise, sizeof cfg->raft_advertise, "%s", cfg->raft_addr);
    return 0;
}

/* True if dir holds nothing (or does not exist). */
static bool dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return true;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            empty = false;
    closedir(d);
    return empty;
}

/* Checks (or claims) the data directory; *fresh tells if Raft has no state. */
static int data_dir_check(const struct server_config *cfg, bool *fresh, char *err, size_t errlen)
{
    char path[1200];
    if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data directory %s: %s", cfg->data_dir,
                 strerror(errno));
        return -1;
    }
    if (access(cfg->data_dir, R_OK | W_OK | X_OK) != 0) {
        snprintf(err, errlen, "data directory %s is not readable and writable: %s",
                 cfg->data_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/bosun-id", cfg->data_dir);
    FILE *f = fopen(path, "r");
    if (f) {
        unsigned long long id = 0;
        int ok = fscanf(f, "server-id=%llu", &id);
        fclose(f);
        if (ok != 1) {
            snprintf(err, errlen, "%s is not a bosun identity file", path);
            return -1;
        }
        if (id != cfg->id) {
            snprintf(err, errlen, "data directory %s belongs to server %llu, not %llu",
                     cfg->data_dir, id, (unsigned long long)cfg->id);
            return -1;
        }
    } else {
        if (!dir_empty(cfg->data_dir)) {
            snprintf(err, errlen, "data directory %s is not empty and is not a bosun data "
                                  "directory", cfg->data_dir);
            return -1;
        }
        f = fopen(path, "w");
        if (!f || fprintf(f, "server-id=%llu\n", (unsigned long long)cfg->id) < 0 ||
            fclose(f) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
    }
    /* One server per data directory: a second one would empty the LMDB file
     * under the first and append to the same Raft log. The lock lives as
     * long as the process (the descriptor is never closed). */
    snprintf(path, sizeof path, "%s/bosun-id", cfg->data_dir);
    int lock_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "data directory %s is in use by another process", cfg->data_dir);
        if (lock_fd >= 0)
            close(lock_fd);
        return -1;
    }
    snprintf(path, sizeof path, "%s/raft", cfg->data_dir);
    *fresh = dir_empty(path);
    if (mkdir(path, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Whether this server's configuration (what its leader sent) lists it. */
static bool self_member(struct server *s)
{
    struct cluster_info in;
    cluster_info(s->cluster, &in);
    for (unsigned i = 0; i < in.n_members; i++)
        if (in.members[i].id == s->cfg.id)
            return true;
    return false;
}

/* Asks the cluster (through --join) to add this server; retried until added
 * (by this request or by someone else's: an operator may add it too). */
static int join_cluster(struct server *s)
{
    char body[512];
    snprintf(body, sizeof body, "{\"id\":%llu,\"address\":\"%s\",\"api\":\"%s\"}",
             (unsigned long long)s->cfg.id, s->cfg.raft_advertise, s->cfg.api_url);
    static const char *const hdrs[] = {"Content-Type: application/json", NULL};
    for (int attempt = 0; attempt < 60 && !s->stopping; attempt++) {
        if (attempt > 0 && self_member(s)) {
            LOG_INFO("joined: a member of the cluster");
            return 0;
        }
        struct httpc *c = httpc_new(s->cfg.join);
        if (!c) {
            LOG_ERROR("--join %s: not an http:// URL", s->cfg.join);
            return -1;
        }
        struct httpc_response resp;
        int rc = httpc_request(c, "POST", "/cluster/members", hdrs, body, strlen(body), 90000,
                               &resp);
        httpc_free(c);
        if (rc == 0) {
            int status = resp.status;
            LOG_INFO("join through %s: %d %s", s->cfg.join, status, resp.body ? resp.body : "");
            httpc_response_free(&resp);
            if (status == 200)
                return 0;
        }
        sleep(1);
    }
    return -1;
}

/* The leader's controllers talk to this server's API over loopback. */
static void controllers_launch(struct server *s)
{
    struct controllers_config cc = {.store = s->store, .cluster = s->cluster};
    const char *colon = strrchr(s->cfg.listen, ':');
    bool any = strncmp(s->cfg.listen, "0.0.0.0:", 8) == 0;
    snprintf(cc.api_url, sizeof cc.api_url, "http://%s%s", any ? "127.0.0.1" : "",
             any && colon ? colon : s->cfg.listen);
    cc.node_grace_ms = s->cfg.node_grace_ms;
    s->controllers = controllers_start(&cc);
    if (!s->controllers)
        LOG_ERROR("cannot start the controllers (API URL %s)", cc.api_url);
    struct scheduler_config sc = {.store = s->store, .cluster = s->cluster,
                                  .percentage_of_nodes = s->cfg.percentage_of_nodes,
                                  .history = s->cfg.history};
    snprintf(sc.api_url, sizeof sc.api_url, "%s", cc.api_url);
    s->scheduler = scheduler_start(&sc);
}

static void server_cleanup(struct server *s)
{
    scheduler_stop(s->scheduler);
    s->scheduler = NULL;
    controllers_stop(s->controllers);
    s->controllers = NULL;
    http_stop(s);
    if (s->housekeeper)
        pthread_join(s->housekeeper, NULL);
    server_probes_free(s);
    leader_watch_stop(s->lwatch);
    s->lwatch = NULL;
    forwarder_stop(s->fwd);
    cluster_stop(s->cluster);
    store_close(s->store);
    fwd_pool_free(s->pool);
    watch_cache_free(s->wcache);
    s->wcache = NULL;
    if (s->listen_fd >= 0)
        close(s->listen_fd);
}

/* LMDB writes the state through a shared memory map (MDB_WRITEMAP): when
 * the disk under the data dir is full, the kernel cannot back a new page
 * and the write faults with SIGBUS, which would end the server without a
 * word. Say why, then die of the signal as before: a restart once space is
 * freed recovers every acknowledged write from the Raft log. Only
 * async-signal-safe calls here. */
static void on_sigbus(int sig)
{
    static const char msg[] =
        "bosun server: SIGBUS writing the store's memory map: is the disk of the data dir "
        "(or the --state-memory file system) full? (nothing acknowledged is lost; restart "
        "once there is space)\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    signal(sig, SIG_DFL);
    raise(sig);
}

int server_main(int argc, char **argv)
{
    struct server srv = {.listen_fd = -1};
    struct server *s = &srv;
    char err[512] = "";
    int rc = parse_flags(argc, argv, &s->cfg, err, sizeof err);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc != 0) {
        fprintf(stderr, "bosun server: %s\n", err);
        return 2;
    }
    char prefix[32];
    snprintf(prefix, sizeof prefix, "s%llu", (unsigned long long)s->cfg.id);
    util_log_set_prefix(prefix);
    util_log_set_level(s->cfg.log_level);

    /* Signals are taken synchronously by this thread (sigwait); every thread
     * started from here on inherits the blocked mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGBUS, on_sigbus);

    bool fresh;
    char state_dir[1200], raft_dir[1200];
    int raft_probe = -1;
    if (data_dir_check(&s->cfg, &fresh, err, sizeof err) != 0 ||
        (s->listen_fd = http_listen(s->cfg.listen, err, sizeof err)) < 0 ||
        (raft_probe = http_listen(s->cfg.raft_addr, err, sizeof err)) < 0) {
        /* libraft reports a Raft port in use only as "I/O error": probe it. */
        fprintf(stderr, "bosun server: %s\n", err);
        if (s->listen_fd >= 0)
            close(s->listen_fd);
        return 1;
    }
    close(raft_probe);
    snprintf(state_dir, sizeof state_dir, "%s/state", s->cfg.data_dir);
    snprintf(raft_dir, sizeof raft_dir, "%s/raft", s->cfg.data_dir);
    if (store_open(&s->store, state_dir, 0, s->cfg.state_memory, err, sizeof err) != 0) {
        fprintf(stderr, "bosun server: %s\n", err);
        server_cleanup(s);
        return 1;
    }
    s->pool = fwd_pool_new();
    s->wcache = watch_cache_new();
    s->fwd = forwarder_start(s);
    struct cluster_config cc = {
        .id = s->cfg.id, .raft_dir = raft_dir, .raft_addr = s->cfg.raft_addr,
        .raft_advertise = s->cfg.raft_advertise,
        .peers = s->cfg.n_peers ? s->cfg.peers : NULL, .n_peers = s->cfg.n_peers,
        .election_ms = s->cfg.election_ms, .heartbeat_ms = s->cfg.heartbeat_ms,
        .snapshot_threshold = s->cfg.snapshot_threshold,
        .snapshot_adaptive = s->cfg.snapshot_threshold == 0,
        .snapshot_trailing = s->cfg.snapshot_trailing, .max_inflight = s->cfg.max_inflight,
        .history = s->cfg.history,
        /* A fault hook for `bosun chaos` (raft/disk_fault.c); off unless set. */
        .fault_disk = getenv("BOSUN_FAULT_DISK")};
    if (cluster_start(&s->cluster, &cc, s->store, err, sizeof err) != 0) {
        fprintf(stderr, "bosun server: %s\n", err);
        s->cluster = NULL;
        server_cleanup(s);
        return 1;
    }
    if (http_start(s, err, sizeof err) != 0) {
        fprintf(stderr, "bosun server: %s\n", err);
        server_cleanup(s);
        return 1;
    }
    server_probes_new(s);
    s->lwatch = leader_watch_start(s);
    pthread_create(&s->housekeeper, NULL, server_housekeeper, s);
    pthread_setname_np(s->housekeeper, "housekeeper");
    controllers_launch(s);
    bool announced = strcmp(s->cfg.raft_advertise, s->cfg.raft_addr) != 0;
    LOG_INFO("server %llu: API %s, raft %s%s%s, data %s", (unsigned long long)s->cfg.id,
             s->cfg.api_url, s->cfg.raft_addr, announced ? " announced as " : "",
             announced ? s->cfg.raft_advertise : "", s->cfg.data_dir);
    if (s->cfg.join[0] && fresh && join_cluster(s) != 0)
        LOG_ERROR("could not join the cluster through %s; still waiting to be added",
                  s->cfg.join);

    int sig = 0;
    sigwait(&sigs, &sig);
    LOG_INFO("signal %d: shutting down", sig);
    s->stopping = 1;
    store_wake_all(s->store);
    server_cleanup(s);
    return 0;
}
