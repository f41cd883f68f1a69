/* chaos_faults.c — the servers `bosun chaos` runs, and the faults it does
 * to them.
 *
 * The cluster. chaos_cluster_init lays out N servers on 127.0.0.1: server i
 * serves the API on B+i, Raft on B+20+i, and the runner's fault proxy
 * (chaos_proxy.c) listens for it on B+40+i; B is a random base in [20000,
 * 32000) whose ports all bind (below the kernel's ephemeral range, so a
 * restarted server finds its port again). Every server's --peers list names
 * the proxy ports, so all Raft traffic goes through the proxy; each keeps
 * --watch-history changes for watches and sends an idle watch a bookmark
 * every second (for the watchers, chaos_watcher.c). Data lives in DIR/sN,
 * output is appended to DIR/sN.log. With disk faults, every server runs
 * with BOSUN_FAULT_DISK=DIR/sN.disk: the server's disk fault hook
 * (raft/disk_fault.c) reads that control file every 100 ms. Servers are our children, in
 * their own process group (a terminal's Ctrl-C reaches only the runner,
 * which stops them in order) and die with us (PR_SET_PDEATHSIG); they are
 * only ever signalled by the pids we forked and have not reaped yet, so a
 * signal never reaches a recycled pid.
 *
 * The faults, one at a time: a healthy gap of 1–3 s, then a fault held for
 * 1.5–4.5 s (cut short at the end of the run), both drawn from the seeded
 * PRNG, as are the kind (among --faults, from a shuffled bag: each kind once
 * before any twice; a fault that could not begin, such as a refused
 * membership change, stays in the bag) and the targets. A fault starts (its recorded start)
 * once it is in force: the killed server reaped, the partition installed.
 *   kill               kill -9 of the leader (half the time) or of a random
 *                      server; restarted with the same argv at the end;
 *   pause              SIGSTOP of the leader or a random server; SIGCONT;
 *   partition          a majority/minority split (random minority of 1 to
 *                      N/2 servers) or, with 5 servers or more, half the
 *                      time a ring: servers in a random circle each reach
 *                      only their two neighbours (overlapping majorities);
 *   partition-leader   the leader cut off from everyone;
 *   disk               the leader's or a random server's disk made slow
 *                      (every Raft log write 20-500 ms late) or, half the
 *                      time, full (no log write completes) through its
 *                      control file; "ok" again at the end. A server that
 *                      exited under it is restarted, as after a kill;
 *   membership         a server removed through the API and added back
 *                      (chaos_membership.c);
 *   transfer           leadership moved from the leader to a random other
 *                      server through POST /cluster/transfer (as before an
 *                      upgrade); nothing to undo at the end, which notes
 *                      the leader of then.
 * Attached to a running cluster (--kubeconfig, chaos_attach.c) only the
 * faults done through the API, membership and transfer, can be run.
 * Every fault keeps a connected majority, so the cluster should recover
 * while it lasts. Each fault goes to faults.jsonl once it ended:
 *   {"kind","what","shape","targets":[ids],"leader":bool,"start":ns,"end":ns,
 *    "steps":[{"t":ns,"what"}]}
 * (steps: what happened after the start, e.g. a membership fault's re-add).
 * A server that exits by itself (a crash) is reported and restarted. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "tools/chaos_internal.h"
#include "tools/tools.h"

enum {
    FAULT_GAP_MIN_MS = 1000,
    FAULT_GAP_SPAN_MS = 2000,
    FAULT_HOLD_MIN_MS = 1500,
    FAULT_HOLD_SPAN_MS = 3000,
    FAULT_PORT_TRIES = 64,
    FAULT_STATUS_TIMEOUT_MS = 300,
    FAULT_DISK_POLL_MS = 150, /* the hook reads its control file every 100 ms */
};

/* A slow disk's delay per Raft log write, ms: one is drawn per fault. */
static const unsigned disk_delays_ms[] = {20, 50, 100, 200, 500};

static const char *const kind_names[CHAOS_NFAULTKIND] = {"kill", "pause", "partition",
                                                         "partition-leader", "disk",
                                                         "membership", "transfer"};

const char *chaos_fault_kind_name(enum chaos_fault_kind k)
{
    assert(k >= 0 && k < CHAOS_NFAULTKIND);
    return kind_names[k];
}

int chaos_fault_kinds_parse(const char *list, unsigned *out, char *err, size_t errlen)
{
    int n = 0;
    char **items = bench_list_split(list, &n);
    int rc = n > 0 ? 0 : -1;
    if (n == 0)
        snprintf(err, errlen, "no fault named");
    *out = 0;
    for (int i = 0; i < n; i++) {
        bool known = strcmp(items[i], "all") == 0;
        if (known)
            *out |= (1u << CHAOS_NFAULTKIND) - 1;
        for (int k = 0; k < CHAOS_NFAULTKIND; k++)
            if (strcmp(items[i], kind_names[k]) == 0) {
                *out |= 1u << k;
                known = true;
            }
        if (!known && rc == 0) {
            snprintf(err, errlen, "unknown fault \"%s\"", items[i]);
            rc = -1;
        }
        free(items[i]);
    }
    free(items);
    return rc;
}

/* ---------------------------------------------------------------- the cluster */

static bool fault_ports_free(int base, int n)
{
    for (int i = 1; i <= n; i++)
        if (!tools_port_free(base + i) || !tools_port_free(base + 20 + i) ||
            !tools_port_free(base + 40 + i))
            return false;
    return true;
}

static int fault_pick_base(int n)
{
    struct chaos_rng r = {(uint64_t)chaos_now_ns() ^ ((uint64_t)getpid() << 32)};
    for (int t = 0; t < FAULT_PORT_TRIES; t++) {
        int base = 20000 + (int)chaos_rng_below(&r, 12000 - 64);
        if (fault_ports_free(base, n))
            return base;
    }
    return -1;
}

/* A bookmark a second keeps the watchers (chaos_watcher.c) up to date on
 * quiet streams. */
static char **fault_server_argv(const char *bin, const struct chaos_server *s, const char *peers,
                                const struct chaos_server_options *o)
{
    char id[16], listen[32], raft[32], hist[24];
    snprintf(id, sizeof id, "%d", s->id);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->api_port);
    snprintf(raft, sizeof raft, "127.0.0.1:%d", s->raft_port);
    snprintf(hist, sizeof hist, "%ld", o->watch_history);
    const char *a[] = {bin,      "server", "--id",  id,      "--data-dir", s->data_dir,
                       "--listen", listen, "--raft-address", raft, "--peers", peers,
                       "--watch-history", hist, "--bookmark-interval", "1s",
                       o->election_timeout ? "--election-timeout" : NULL, o->election_timeout,
                       NULL};
    size_t n = sizeof a / sizeof a[0];
    char **argv = xcalloc(n, sizeof *argv);
    for (size_t i = 0; i + 1 < n && a[i]; i++)
        argv[i] = xstrdup(a[i]);
    return argv;
}

/* This process's environment with BOSUN_FAULT_DISK=disk (when disk is
 * not NULL) in place of any it had: built before fork, since the child of
 * a threaded process may not allocate. */
static char **fault_server_envp(const char *disk)
{
    extern char **environ;
    static const char var[] = "BOSUN_FAULT_DISK=";
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = xcalloc(n + 2, sizeof *envp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], var, sizeof var - 1) != 0)
            envp[k++] = xstrdup(environ[i]);
    if (disk) {
        struct ubuf b = {0};
        ubuf_appendf(&b, "%s%s%c", var, disk, '\0');
        envp[k++] = b.data;
    }
    return envp;
}

static void fault_strv_free(char **v)
{
    for (char **a = v; a && *a; a++)
        free(*a);
    free(v);
}

int chaos_cluster_init(struct chaos_cluster *c, int n, const char *dir, const char *bin,
                       const struct chaos_server_options *o, char *err, size_t errlen)
{
    assert(n >= 1 && n <= CHAOS_MAX_SERVERS);
    memset(c, 0, sizeof *c);
    c->n = n;
    c->dir = xstrdup(dir);
    c->bin = xstrdup(bin);
    int base = fault_pick_base(n);
    if (base < 0) {
        snprintf(err, errlen, "no free ports for %d servers in [20000, 32000)", n);
        return -1;
    }
    struct ubuf peers = {0};
    int proxy_ports[CHAOS_MAX_SERVERS], raft_ports[CHAOS_MAX_SERVERS];
    for (int i = 0; i < n; i++) {
        struct chaos_server *s = &c->servers[i];
        s->id = i + 1;
        s->api_port = base + s->id;
        s->raft_port = raft_ports[i] = base + 20 + s->id;
        s->proxy_port = proxy_ports[i] = base + 40 + s->id;
        snprintf(s->api, sizeof s->api, "http://127.0.0.1:%d", s->api_port);
        ubuf_appendf(&peers, "%s%d=127.0.0.1:%d=%s", i ? "," : "", s->id, s->proxy_port, s->api);
    }
    ubuf_append(&peers, "", 1);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        struct chaos_server *s = &c->servers[i];
        struct ubuf b = {0};
        ubuf_appendf(&b, "%s/s%d%c", dir, s->id, '\0');
        s->data_dir = b.data;
        b = (struct ubuf){0};
        ubuf_appendf(&b, "%s/s%d.log%c", dir, s->id, '\0');
        s->log = b.data;
        s->argv = fault_server_argv(bin, s, peers.data, o);
        if (o->disk_hook) {
            b = (struct ubuf){0};
            ubuf_appendf(&b, "%s/s%d.disk%c", dir, s->id, '\0');
            s->disk = b.data;
        }
        s->envp = fault_server_envp(s->disk);
        if (rc == 0 && tools_mkdir_p(s->data_dir) != 0) {
            snprintf(err, errlen, "cannot create %s: %s", s->data_dir, strerror(errno));
            rc = -1;
        }
    }
    ubuf_free(&peers);
    if (rc == 0 && !(c->proxy = chaos_proxy_start(n, proxy_ports, raft_ports, err, errlen)))
        rc = -1;
    return rc;
}

/* In the child: stdin from /dev/null, output appended to log, its own
 * process group, death with the runner, default signals; then exec. */
static void fault_exec(const struct chaos_server *s, int logfd, pid_t parent)
    __attribute__((noreturn));
static void fault_exec(const struct chaos_server *s, int logfd, pid_t parent)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull > 0) {
        dup2(devnull, 0);
        close(devnull);
    }
    dup2(logfd, 1);
    dup2(logfd, 2);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(s->argv[0], s->argv, s->envp);
    dprintf(2, "bosun chaos: cannot run %s: %s\n", s->argv[0], strerror(errno));
    _exit(127);
}

int chaos_server_spawn(struct chaos_server *s)
{
    assert(s->pid == 0);
    int logfd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        fprintf(stderr, "bosun chaos: cannot open %s: %s\n", s->log, strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bosun chaos: fork: %s\n", strerror(errno));
        close(logfd);
        return -1;
    }
    if (pid == 0)
        fault_exec(s, logfd, parent);
    close(logfd);
    s->pid = pid;
    s->paused = false;
    return 0;
}

int chaos_cluster_leader(const struct chaos_cluster *c, uint64_t *term)
{
    int named = 0;
    uint64_t named_term = 0;
    for (int i = 0; i < c->n; i++) {
        const struct chaos_server *s = &c->servers[i];
        if (!chaos_server_up(s))
            continue;
        json_t *st = tools_status_fetch(s->api, FAULT_STATUS_TIMEOUT_MS);
        if (!st)
            continue;
        const char *role = json_string_value(json_object_get(st, "role"));
        int leader = (int)json_integer_value(json_object_get(st, "leader_id"));
        uint64_t t = (uint64_t)json_integer_value(json_object_get(st, "term"));
        bool is_leader = role && strcmp(role, "leader") == 0;
        json_decref(st);
        if (is_leader) {
            if (term)
                *term = t;
            return s->id;
        }
        if (leader > 0 && t >= named_term) {
            named = leader;
            named_term = t;
        }
    }
    if (term)
        *term = named_term;
    return named;
}

/* Waits for every pid in c to exit, up to ms; returns how many are left. */
static int fault_reap(struct chaos_cluster *c, int ms)
{
    int64_t deadline = chaos_now_ns() + (int64_t)ms * 1000000;
    for (;;) {
        int left = 0;
        for (int i = 0; i < c->n; i++) {
            struct chaos_server *s = &c->servers[i];
            if (s->pid > 0 && waitpid(s->pid, NULL, WNOHANG) == s->pid)
                s->pid = 0;
            left += s->pid > 0;
        }
        if (left == 0 || chaos_now_ns() >= deadline)
            return left;
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
}

void chaos_cluster_stop(struct chaos_cluster *c, int grace_ms)
{
    for (int i = 0; i < c->n; i++) {
        struct chaos_server *s = &c->servers[i];
        if (s->pid <= 0)
            continue;
        if (s->paused)
            kill(s->pid, SIGCONT);
        s->paused = false;
        kill(s->pid, SIGTERM); /* not reaped yet: the pid is still ours */
    }
    if (fault_reap(c, grace_ms) == 0)
        return;
    for (int i = 0; i < c->n; i++)
        if (c->servers[i].pid > 0) {
            fprintf(stderr, "bosun chaos: s%d (pid %d) still runs %d s after SIGTERM; SIGKILL\n",
                    c->servers[i].id, (int)c->servers[i].pid, grace_ms / 1000);
            kill(c->servers[i].pid, SIGKILL);
        }
    fault_reap(c, 10000);
}

void chaos_cluster_free(struct chaos_cluster *c)
{
    chaos_proxy_stop(c->proxy);
    for (int i = 0; i < c->n; i++) {
        struct chaos_server *s = &c->servers[i];
        assert(s->pid == 0); /* stopped and reaped first */
        fault_strv_free(s->argv);
        fault_strv_free(s->envp);
        free(s->disk);
        free(s->data_dir);
        free(s->log);
    }
    free(c->dir);
    free(c->bin);
    memset(c, 0, sizeof *c);
}

bool chaos_server_up(const struct chaos_server *s)
{
    return s->foreign || (s->pid > 0 && !s->paused);
}

/* ---------------------------------------------------------------- the faults */

static struct chaos_server *fault_server(struct chaos_cluster *c, int id)
{
    assert(id >= 1 && id <= c->n);
    return &c->servers[id - 1];
}

/* The leader (half the time, if one is known) or a random server; *leader
 * says which. */
static int fault_pick_target(struct chaos_cluster *c, struct chaos_rng *rng, bool *leader)
{
    int l = chaos_rng_below(rng, 2) ? chaos_cluster_leader(c, NULL) : 0;
    *leader = l > 0;
    if (l > 0)
        return l;
    int id = 1 + (int)chaos_rng_below(rng, (uint64_t)c->n);
    *leader = id == chaos_cluster_leader(c, NULL);
    return id;
}

static void fault_cut_between(bool *cut, int n, const int *group)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            cut[i * n + j] = group[i] != group[j];
}

static void fault_shuffle(int *ids, int n, struct chaos_rng *rng)
{
    for (int i = 0; i < n; i++)
        ids[i] = i + 1;
    for (int i = n - 1; i > 0; i--) {
        int k = (int)chaos_rng_below(rng, (uint64_t)i + 1), t = ids[i];
        ids[i] = ids[k];
        ids[k] = t;
    }
}

static void fault_partition_split(struct chaos_cluster *c, struct chaos_rng *rng,
                                   struct chaos_fault *f, bool *cut)
{
    int n = c->n, ids[CHAOS_MAX_SERVERS], group[CHAOS_MAX_SERVERS] = {0};
    int leader = chaos_cluster_leader(c, NULL);
    fault_shuffle(ids, n, rng);
    int minority = 1 + (int)chaos_rng_below(rng, (uint64_t)(n / 2 > 0 ? n / 2 : 1));
    struct ubuf w = {0};
    ubuf_appendf(&w, "split: {");
    for (int k = 0; k < minority; k++) {
        group[ids[k] - 1] = 1;
        f->targets[f->ntargets++] = ids[k];
        f->leader |= ids[k] == leader; /* the leader is in the minority */
        ubuf_appendf(&w, "%ss%d%s", k ? "," : "", ids[k], ids[k] == leader ? " (the leader)" : "");
    }
    ubuf_appendf(&w, "} | the rest%c", '\0');
    snprintf(f->what, sizeof f->what, "%s", w.data);
    ubuf_free(&w);
    snprintf(f->shape, sizeof f->shape, "split");
    fault_cut_between(cut, n, group);
}

static void fault_partition_ring(struct chaos_cluster *c, struct chaos_rng *rng,
                                 struct chaos_fault *f, bool *cut)
{
    int n = c->n, ids[CHAOS_MAX_SERVERS];
    fault_shuffle(ids, n, rng);
    struct ubuf w = {0};
    ubuf_appendf(&w, "ring:");
    for (int i = 0; i < n * n; i++)
        cut[i] = true;
    for (int k = 0; k < n; k++) {
        int a = ids[k], b = ids[(k + 1) % n];
        cut[(a - 1) * n + (b - 1)] = cut[(b - 1) * n + (a - 1)] = false;
        cut[(a - 1) * n + (a - 1)] = false;
        f->targets[f->ntargets++] = a;
        ubuf_appendf(&w, " s%d", a);
    }
    ubuf_appendf(&w, " (each reaches its neighbours)%c", '\0');
    snprintf(f->what, sizeof f->what, "%s", w.data);
    ubuf_free(&w);
    snprintf(f->shape, sizeof f->shape, "ring");
}

static void fault_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Writes s's disk control file whole (through a rename), so that the hook
 * never reads half of it; 0, or -1 after a message. */
static int fault_disk_set(const struct chaos_server *s, const char *text)
{
    struct ubuf tmp = {0};
    ubuf_appendf(&tmp, "%s.tmp%c", s->disk, '\0');
    FILE *f = fopen(tmp.data, "w");
    int rc = f && fprintf(f, "%s\n", text) > 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp.data, s->disk) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "bosun chaos: cannot write %s: %s\n", s->disk, strerror(errno));
    ubuf_free(&tmp);
    return rc;
}

/* A slow or full disk under the Raft log of the leader or a random server;
 * in force once the hook has read its control file. */
static int fault_disk_begin(struct chaos_cluster *c, struct chaos_rng *rng, struct chaos_fault *f)
{
    int id = fault_pick_target(c, rng, &f->leader);
    bool full = chaos_rng_below(rng, 2);
    unsigned ms = disk_delays_ms[chaos_rng_below(rng, sizeof disk_delays_ms /
                                                          sizeof disk_delays_ms[0])];
    struct chaos_server *s = fault_server(c, id);
    char text[32];
    snprintf(text, sizeof text, full ? "full" : "slow %u", ms);
    if (!s->disk || s->pid <= 0 || s->paused || fault_disk_set(s, text) != 0)
        return -1;
    f->targets[f->ntargets++] = id;
    snprintf(f->shape, sizeof f->shape, "%s", full ? "full" : "slow");
    if (full)
        snprintf(f->what, sizeof f->what, "full disk s%d%s", id, f->leader ? " (the leader)" : "");
    else
        snprintf(f->what, sizeof f->what, "slow disk s%d%s: +%u ms a write", id,
                 f->leader ? " (the leader)" : "", ms);
    fault_sleep_ms(FAULT_DISK_POLL_MS);
    f->start = chaos_now_ns();
    return 0;
}

/* The disk is fine again; a server that exited under the fault is
 * restarted, as after a kill (not a crash: a server may stop on a full
 * disk, as long as it loses nothing it acknowledged). */
static void fault_disk_end(struct chaos_cluster *c, struct chaos_server *s, struct chaos_fault *f)
{
    fault_disk_set(s, "ok");
    fault_sleep_ms(FAULT_DISK_POLL_MS);
    int st;
    if (s->pid <= 0 || waitpid(s->pid, &st, WNOHANG) != s->pid)
        return;
    s->pid = 0;
    chaos_fault_step(f, "s%d exited under it (%s %d); restarted", s->id,
                     WIFSIGNALED(st) ? "signal" : "status",
                     WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    if (chaos_server_spawn(s) == 0)
        c->restarts++;
}

/* Starts fault f of kind f->kind; 0, or -1 if it could not (no leader to
 * isolate, a server that is not running). */
/* Leadership moved from the leader to a random other server through POST
 * /cluster/transfer on the leader; in force once the leader answered. */
static int fault_transfer_begin(struct chaos_cluster *c, struct chaos_rng *rng,
                                struct chaos_fault *f)
{
    int leader = chaos_cluster_leader(c, NULL);
    int other = 1 + (int)chaos_rng_below(rng, (uint64_t)c->n - 1);
    if (leader <= 0)
        return -1;
    int to = other >= leader ? other + 1 : other;
    if (!chaos_server_up(fault_server(c, to)))
        return -1;
    char body[32];
    snprintf(body, sizeof body, "{\"id\":%d}", to);
    int64_t t = chaos_now_ns();
    struct httpc *h = httpc_new(fault_server(c, leader)->api);
    int status = h ? bench_http_call(h, "POST", "/cluster/transfer", NULL, "application/json",
                                     body, 5000, NULL)
                   : 0;
    httpc_free(h);
    if (status != 200) {
        fprintf(stderr, "bosun chaos: leadership transfer s%d → s%d: HTTP %d; no fault\n", leader,
                to, status);
        return -1;
    }
    f->start = t;
    f->leader = true;
    f->targets[f->ntargets++] = leader;
    snprintf(f->what, sizeof f->what, "transfer leadership s%d → s%d", leader, to);
    return 0;
}

static int fault_begin(struct chaos_cluster *c, struct chaos_rng *rng, struct chaos_fault *f)
{
    bool cut[CHAOS_MAX_SERVERS * CHAOS_MAX_SERVERS] = {false};
    int n = c->n, id;
    struct chaos_server *s;
    switch (f->kind) {
    case CHAOS_F_KILL:
    case CHAOS_F_PAUSE:
        id = fault_pick_target(c, rng, &f->leader);
        s = fault_server(c, id);
        if (s->pid <= 0 || s->paused)
            return -1;
        f->targets[f->ntargets++] = id;
        snprintf(f->what, sizeof f->what, "%s s%d%s",
                 f->kind == CHAOS_F_KILL ? "kill -9" : "SIGSTOP", id,
                 f->leader ? " (the leader)" : "");
        if (f->kind == CHAOS_F_PAUSE) {
            kill(s->pid, SIGSTOP);
            s->paused = true;
        } else {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0); /* dead for sure from here */
            s->pid = 0;
        }
        f->start = chaos_now_ns();
        return 0;
    case CHAOS_F_PARTITION:
        if (n >= 5 && chaos_rng_below(rng, 2))
            fault_partition_ring(c, rng, f, cut);
        else
            fault_partition_split(c, rng, f, cut);
        chaos_proxy_partition(c->proxy, cut);
        f->start = chaos_now_ns();
        return 0;
    case CHAOS_F_PARTITION_LEADER: {
        id = chaos_cluster_leader(c, NULL);
        if (id <= 0)
            return -1;
        int group[CHAOS_MAX_SERVERS] = {0};
        group[id - 1] = 1;
        fault_cut_between(cut, n, group);
        f->leader = true;
        f->targets[f->ntargets++] = id;
        snprintf(f->what, sizeof f->what, "isolate s%d (the leader)", id);
        snprintf(f->shape, sizeof f->shape, "isolate");
        chaos_proxy_partition(c->proxy, cut);
        f->start = chaos_now_ns();
        return 0;
    }
    case CHAOS_F_DISK: return fault_disk_begin(c, rng, f);
    case CHAOS_F_MEMBERSHIP: return chaos_membership_begin(c, rng, f);
    case CHAOS_F_TRANSFER: return fault_transfer_begin(c, rng, f);
    default: assert(0); return -1;
    }
}

static void fault_end(struct chaos_cluster *c, struct chaos_fault *f)
{
    struct chaos_server *s = f->ntargets ? fault_server(c, f->targets[0]) : NULL;
    switch (f->kind) {
    case CHAOS_F_KILL:
        if (s->pid == 0 && chaos_server_spawn(s) == 0)
            c->restarts++;
        break;
    case CHAOS_F_PAUSE:
        if (s->pid > 0)
            kill(s->pid, SIGCONT);
        s->paused = false;
        break;
    case CHAOS_F_DISK: fault_disk_end(c, s, f); break;
    case CHAOS_F_MEMBERSHIP: chaos_membership_end(c, f); break;
    case CHAOS_F_TRANSFER: {
        int now = chaos_cluster_leader(c, NULL);
        if (now > 0)
            chaos_fault_step(f, "the leader is s%d", now);
        else
            chaos_fault_step(f, "no leader known");
        break;
    }
    default: chaos_proxy_partition(c->proxy, NULL); break;
    }
    f->end = chaos_now_ns();
}

void chaos_fault_step(struct chaos_fault *f, const char *fmt, ...)
{
    int i = f->nsteps < CHAOS_FAULT_STEPS ? f->nsteps++ : CHAOS_FAULT_STEPS - 1;
    f->steps[i].t = chaos_now_ns();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->steps[i].what, sizeof f->steps[i].what, fmt, ap);
    va_end(ap);
}

json_t *chaos_fault_json(const struct chaos_fault *f)
{
    json_t *targets = json_array(), *steps = json_array();
    for (int i = 0; i < f->ntargets; i++)
        json_array_append_new(targets, json_integer(f->targets[i]));
    for (int i = 0; i < f->nsteps; i++)
        json_array_append_new(steps, json_pack("{s:I, s:s}", "t", (json_int_t)f->steps[i].t,
                                               "what", f->steps[i].what));
    return json_pack("{s:s, s:s, s:s, s:o, s:b, s:I, s:I, s:o}", "kind",
                     chaos_fault_kind_name(f->kind), "what", f->what, "shape", f->shape,
                     "targets", targets, "leader", f->leader, "start", (json_int_t)f->start,
                     "end", (json_int_t)f->end, "steps", steps);
}

static void fault_write(FILE *out, const struct chaos_fault *f)
{
    json_t *o = chaos_fault_json(f);
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fprintf(out, "%s\n", line);
    fflush(out);
    free(line);
    json_decref(o);
}

/* Restarts any server that exited by itself, and says so. */
static void fault_check_crashes(struct chaos_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        struct chaos_server *s = &c->servers[i];
        int st;
        if (s->pid <= 0 || waitpid(s->pid, &st, WNOHANG) != s->pid)
            continue;
        fprintf(stderr, "bosun chaos: s%d (pid %d) exited by itself (%s %d); restarting it\n",
                s->id, (int)s->pid, WIFSIGNALED(st) ? "signal" : "status",
                WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        tools_print_log_tail(s->log, 10);
        s->pid = 0;
        c->crashes++;
        if (chaos_server_spawn(s) == 0)
            c->restarts++;
    }
}

/* The next kind from a shuffled bag of the enabled kinds, so every kind
 * comes once before any comes again. *bag holds the kinds not drawn yet. */
static enum chaos_fault_kind fault_pick_kind(unsigned kinds, unsigned *bag, struct chaos_rng *rng)
{
    assert(kinds != 0);
    if ((*bag & kinds) == 0)
        *bag = kinds;
    int on[CHAOS_NFAULTKIND], n = 0;
    for (int k = 0; k < CHAOS_NFAULTKIND; k++)
        if (*bag & kinds & (1u << k))
            on[n++] = k;
    int k = on[chaos_rng_below(rng, (uint64_t)n)];
    *bag &= ~(1u << k);
    return (enum chaos_fault_kind)k;
}

static void fault_push(struct chaos_faults *out, const struct chaos_fault *f)
{
    if (out->n == out->cap) {
        out->cap = out->cap ? 2 * out->cap : 32;
        out->f = xrealloc(out->f, (size_t)out->cap * sizeof *out->f);
    }
    out->f[out->n++] = *f;
}

void chaos_faults_run(struct chaos_cluster *c, unsigned kinds, struct chaos_rng *rng,
                      int64_t end_ns, const volatile sig_atomic_t *stop, struct chaos_faults *out,
                      FILE *jsonl)
{
    unsigned bag = 0;
    c->stop = stop;
    while (!*stop) {
        int64_t gap = (FAULT_GAP_MIN_MS + (int64_t)chaos_rng_below(rng, FAULT_GAP_SPAN_MS)) * 1000000;
        int64_t hold = (FAULT_HOLD_MIN_MS + (int64_t)chaos_rng_below(rng, FAULT_HOLD_SPAN_MS)) * 1000000;
        int64_t at = chaos_now_ns() + gap;
        chaos_sleep_until(at < end_ns ? at : end_ns, stop);
        fault_check_crashes(c);
        if (*stop || chaos_now_ns() >= end_ns)
            break;
        struct chaos_fault f = {.kind = fault_pick_kind(kinds, &bag, rng)};
        if (fault_begin(c, rng, &f) != 0) {
            bag |= 1u << f.kind; /* not done: it stays due */
            continue;
        }
        assert(f.start > 0);
        printf("  %6.1f s  %s\n", (double)(f.start - c->t0) / 1e9, f.what);
        fflush(stdout);
        at = chaos_now_ns() + hold;
        chaos_sleep_until(at < end_ns ? at : end_ns, stop);
        fault_end(c, &f);
        for (int i = 0; i < f.nsteps; i++)
            printf("  %6.1f s    %s\n", (double)(f.steps[i].t - c->t0) / 1e9, f.steps[i].what);
        fflush(stdout);
        fault_write(jsonl, &f);
        fault_push(out, &f);
    }
    fault_check_crashes(c);
}

void chaos_faults_free(struct chaos_faults *f)
{
    free(f->f);
    memset(f, 0, sizeof *f);
}
