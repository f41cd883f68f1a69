/* bench_schedule_procs.c — the processes of `bosun bench schedule`: the
 * cluster, the hollow nodes, and the CPU time of the leader.
 *
 * The cluster. Without --server/--kubeconfig we run `BIN up --servers N
 * --dir RUNDIR/cluster --base-port P --detach --bin BIN -- --log-level warn`
 * and wait for it (it returns once a leader is elected); the servers then
 * run in their own sessions, their pids and API URLs in
 * RUNDIR/cluster/cluster.json. At the end `BIN down --dir RUNDIR/cluster`
 * stops them (SIGTERM, SIGKILL after 5 s, each pid checked against its
 * command line by `down`). P is --base-port or the first of a few random
 * bases in [20000, 30000) whose API and Raft ports all bind. With
 * --kubeconfig the URL is the current context's cluster server; with either
 * the members' other API URLs come from GET /cluster/status.
 *
 * The nodes. One `BIN agent --hollow COUNT` per node group, with the run's
 * label on every node and the group's labels and taints; output to
 * RUNDIR/agent-NAME.log. Agents are our children in their own process group
 * (a terminal's Ctrl-C reaches only us, and we stop them in order) and die
 * with us (PR_SET_PDEATHSIG) unless --keep. They are stopped by pid:
 * SIGTERM, then SIGKILL after 5 s.
 *
 * CPU. The leader is whoever GET /cluster/status names. Its pid comes from
 * cluster.json when we started the cluster; for a cluster given by URL, from
 * the process listening on the URL's port on this machine (/proc/net/tcp
 * gives the socket's inode, /proc/PID/fd the process holding it), so the
 * figure exists only for local clusters. CPU time is utime + stime of
 * /proc/PID/stat, in clock ticks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "codec/codec.h"
#include "tools/bench_schedule_internal.h"
#include "tools/tools.h"

enum {
    BSCH_UP_WAIT_MS = 120000,
    BSCH_DOWN_WAIT_MS = 30000,
    BSCH_STOP_GRACE_MS = 5000,
    BSCH_PORT_TRIES = 64,
    BSCH_RAFT_PORT_OFFSET = 100, /* as bosun up lays ports out */
};

/* ---- children --------------------------------------------------------- */

/* Forks and execs argv with stdin from /dev/null and stdout and stderr
 * appended to log. Returns the pid, or -1 after a message. */
static pid_t bsch_spawn(struct bsch_run *r, char *const *argv, const char *log, bool die_with_us)
{
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        bsch_say("cannot open %s: %s", log, strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        bsch_say("fork: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null > 0) {
            dup2(null, 0);
            close(null);
        }
        dup2(fd, 1);
        dup2(fd, 2);
        setpgid(0, 0);
        if (die_with_us) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent)
                _exit(1);
        }
        sigprocmask(SIG_SETMASK, &r->child_mask, NULL);
        execv(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd);
    return pid;
}

/* Waits for pid up to timeout_ms; its exit status (128 + signal if killed),
 * or -1 on a timeout or an interrupt (then it is sent SIGTERM). */
static int bsch_wait_child(struct bsch_run *r, pid_t pid, int timeout_ms)
{
    uint64_t deadline = util_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        pid_t got = waitpid(pid, &st, WNOHANG);
        if (got == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (got < 0 && errno != EINTR)
            return -1;
        if (util_now_ms() >= deadline || bsch_interrupted(r)) {
            kill(pid, SIGTERM);
            waitpid(pid, NULL, 0);
            return -1;
        }
        bench_sleep_ms(50);
    }
}

/* Prints the last lines of a log, indented, to stderr. */
static void bsch_log_tail(const char *path, int lines)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char **ring = xcalloc((size_t)lines, sizeof *ring);
    char buf[1024];
    long n = 0;
    while (fgets(buf, sizeof buf, f)) {
        free(ring[n % lines]);
        ring[n % lines] = xstrdup(buf);
        n++;
    }
    fclose(f);
    for (long i = n > lines ? n - lines : 0; i < n; i++)
        fprintf(stderr, "    %s", ring[i % lines]);
    for (int i = 0; i < lines; i++)
        free(ring[i]);
    free(ring);
}

static int bsch_bin_resolve(struct bsch_run *r)
{
    char path[PATH_MAX];
    if (r->bin)
        return 0;
    if (r->o->bin) {
        if (!realpath(r->o->bin, path) || access(path, X_OK) != 0) {
            bsch_say("--bin %s is not an executable", r->o->bin);
            return -1;
        }
    } else {
        ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
        if (n <= 0) {
            bsch_say("cannot find my own binary: %s", strerror(errno));
            return -1;
        }
        path[n] = '\0';
    }
    r->bin = xstrdup(path);
    return 0;
}

/* ---- the cluster ------------------------------------------------------ */


/* --base-port, or a random base whose 2N ports bind now. */
static int bsch_port_pick(struct bsch_run *r)
{
    if (r->o->base_port)
        return r->o->base_port;
    for (int t = 0; t < BSCH_PORT_TRIES; t++) {
        unsigned char rnd[2];
        util_random_bytes(rnd, sizeof rnd);
        int base = 20000 + ((rnd[0] << 8 | rnd[1]) % 50) * 200, ok = 1;
        for (int i = 1; i <= r->o->servers && ok; i++)
            ok = tools_port_free(base + i) && tools_port_free(base + BSCH_RAFT_PORT_OFFSET + i);
        if (ok)
            return base;
    }
    return -1;
}

/* The servers' API URLs and pids from RUNDIR/cluster/cluster.json. */
static int bsch_cluster_load(struct bsch_run *r, const char *cdir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/cluster.json", cdir);
    json_t *root = json_load_file(path, 0, NULL), *s;
    size_t i;
    json_array_foreach(json_object_get(root, "servers"), i, s)
    {
        const char *api = json_string_value(json_object_get(s, "api"));
        if (!api || r->n_servers == BSCH_MAX_SERVERS)
            continue;
        r->servers[r->n_servers++] = xstrdup(api);
        r->server_cpu[r->n_server_cpu++].pid = (pid_t)json_integer_value(json_object_get(s, "pid"));
    }
    json_decref(root);
    if (r->n_servers == 0) {
        bsch_say("no servers in %s", path);
        return -1;
    }
    return 0;
}

int bsch_cluster_start(struct bsch_run *r)
{
    if (bsch_bin_resolve(r) != 0)
        return -1;
    r->base_port = bsch_port_pick(r);
    if (r->base_port < 0) {
        bsch_say("no free range of ports found for %d servers; give --base-port", r->o->servers);
        return -1;
    }
    char cdir[4200], log[4200], servers[16], port[16];
    snprintf(cdir, sizeof cdir, "%s/cluster", r->dir);
    snprintf(log, sizeof log, "%s/up.log", r->dir);
    snprintf(servers, sizeof servers, "%d", r->o->servers);
    snprintf(port, sizeof port, "%d", r->base_port);
    char *argv[] = {r->bin, "up", "--servers", servers, "--dir", cdir, "--base-port", port,
                    "--detach", "--bin", r->bin, "--", "--log-level", "warn", NULL};
    bsch_say("starting %d servers (base port %d): %s up ... (log %s)", r->o->servers, r->base_port,
             r->bin, log);
    pid_t pid = bsch_spawn(r, argv, log, true);
    if (pid < 0)
        return -1;
    r->own_cluster = true; /* from here on, bosun down runs at the end */
    int st = bsch_wait_child(r, pid, BSCH_UP_WAIT_MS);
    if (st != 0) {
        if (!r->interrupted) {
            bsch_say("bosun up %s; the end of %s:", st < 0 ? "timed out" : "failed", log);
            bsch_log_tail(log, 8);
        }
        return -1;
    }
    return bsch_cluster_load(r, cdir);
}

void bsch_cluster_stop(struct bsch_run *r)
{
    if (!r->own_cluster)
        return;
    char cdir[4200], log[4200];
    snprintf(cdir, sizeof cdir, "%s/cluster", r->dir);
    snprintf(log, sizeof log, "%s/down.log", r->dir);
    char *argv[] = {r->bin, "down", "--dir", cdir, NULL};
    bool was = r->interrupted;
    r->interrupted = false; /* a second Ctrl-C must not cut the stop short */
    pid_t pid = bsch_spawn(r, argv, log, false);
    if (pid < 0 || bsch_wait_child(r, pid, BSCH_DOWN_WAIT_MS) != 0) {
        bsch_say("bosun down --dir %s did not finish; see %s", cdir, log);
        r->interrupted = was;
        return;
    }
    r->interrupted = was;
    r->own_cluster = false;
}

static void bsch_server_add(struct bsch_run *r, const char *url)
{
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        len--;
    if (len == 0 || r->n_servers == BSCH_MAX_SERVERS)
        return;
    for (int i = 0; i < r->n_servers; i++)
        if (strlen(r->servers[i]) == len && strncmp(r->servers[i], url, len) == 0)
            return;
    r->servers[r->n_servers++] = xstrndup(url, len);
}

void bsch_servers_from_list(struct bsch_run *r, const char *list)
{
    char *copy = xstrdup(list), *save = NULL;
    for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save))
        bsch_server_add(r, u);
    free(copy);
}

/* The named entry ("name": NAME) of a kubeconfig list, or its first. */
static json_t *bsch_kubeconfig_entry(json_t *list, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *n = json_string_value(json_object_get(e, "name"));
        if (!name || (n && strcmp(n, name) == 0))
            return e;
    }
    return NULL;
}

int bsch_servers_from_kubeconfig(struct bsch_run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        bsch_say("cannot read --kubeconfig %s: %s", path, strerror(errno));
        return -1;
    }
    struct ubuf b = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        ubuf_append(&b, buf, n);
    fclose(f);
    char err[256] = "";
    json_t *kc = codec_yaml_to_json(b.data ? b.data : "", b.len, err, sizeof err);
    ubuf_free(&b);
    const char *cur = json_string_value(json_object_get(kc, "current-context"));
    json_t *ctx = bsch_kubeconfig_entry(json_object_get(kc, "contexts"), cur);
    json_t *cref = json_object_get(json_object_get(ctx, "context"), "cluster");
    json_t *cl = bsch_kubeconfig_entry(json_object_get(kc, "clusters"), json_string_value(cref));
    json_t *server_v = json_object_get(json_object_get(cl, "cluster"), "server");
    const char *server = json_string_value(server_v);
    if (server)
        bsch_servers_from_list(r, server);
    json_decref(kc);
    if (r->n_servers == 0) {
        bsch_say("no cluster server in --kubeconfig %s%s%s", path, *err ? ": " : "", err);
        return -1;
    }
    return 0;
}

void bsch_servers_discover(struct bsch_run *r)
{
    json_t *st = bsch_get_json(r, "/cluster/status", 5000), *m;
    size_t i;
    json_array_foreach(json_object_get(st, "members"), i, m)
    {
        const char *api = json_string_value(json_object_get(m, "api"));
        if (api && *api)
            bsch_server_add(r, api);
    }
    json_decref(st);
}

int bsch_leader_find(struct bsch_run *r, int *id)
{
    for (int i = 0; i < r->n_servers; i++) {
        json_t *st = bench_get_json(r->servers[i], "/cluster/status", 2000);
        const char *role = json_string_value(json_object_get(st, "role"));
        bool leader = role && strcmp(role, "leader") == 0;
        json_int_t lid = json_integer_value(json_object_get(st, leader ? "id" : "leader_id"));
        const char *api = leader ? r->servers[i]
                                 : json_string_value(json_object_get(st, "leader_api"));
        if (lid > 0 && api && *api) {
            *id = (int)lid;
            snprintf(r->leader_api, sizeof r->leader_api, "%s", api);
            json_decref(st);
            return 0;
        }
        json_decref(st);
    }
    return -1;
}

/* ---- the hollow nodes ------------------------------------------------- */

static char *bsch_server_csv(const struct bsch_run *r)
{
    struct ubuf b = {0};
    for (int i = 0; i < r->n_servers; i++)
        ubuf_appendf(&b, "%s%s", i ? "," : "", r->servers[i]);
    ubuf_append(&b, "", 1);
    return b.data;
}

int bsch_agents_start(struct bsch_run *r)
{
    if (bsch_bin_resolve(r) != 0)
        return -1;
    char *urls = bsch_server_csv(r);
    int rc = 0;
    for (int g = 0; g < r->wl.n_groups && rc == 0; g++) {
        const struct bsch_node_group *ng = &r->wl.groups[g];
        char count[24], prefix[64], labels[320], zones[8], log[4200], cpu[16], pods[16];
        snprintf(count, sizeof count, "%lld", ng->count);
        snprintf(prefix, sizeof prefix, "bench-%s-%s-", r->id, ng->name);
        snprintf(labels, sizeof labels, BSCH_LABEL_RUN "=%s%s%s", r->id, ng->labels[0] ? "," : "",
                 ng->labels);
        snprintf(zones, sizeof zones, "%d", BSCH_ZONES);
        snprintf(cpu, sizeof cpu, "%d", BSCH_NODE_CPU_MILLI / 1000);
        snprintf(pods, sizeof pods, "%d", BSCH_NODE_PODS);
        snprintf(log, sizeof log, "%s/agent-%s.log", r->dir, ng->name);
        char *argv[24] = {r->bin,  "agent",      "--hollow", count,  "--server",      urls,
                          "--zones", zones,      "--name-prefix", prefix, "--labels", labels,
                          "--cpu",   cpu,        "--memory", "32Gi", "--pods",        pods,
                          /* scheduling is measured: no metrics writes beside it */
                          "--metrics-interval", "0"};
        int n = 20;
        if (ng->taints[0]) {
            argv[n++] = "--taints";
            argv[n++] = (char *)ng->taints;
        }
        argv[n] = NULL;
        bsch_say("starting %lld hollow nodes: %s agent --hollow %s ... (log %s)", ng->count, r->bin,
                 count, log);
        pid_t pid = bsch_spawn(r, argv, log, !r->o->keep);
        if (pid < 0) {
            rc = -1;
            break;
        }
        r->agents[r->n_agents] = pid;
        r->agent_cpu[r->n_agents++].pid = pid;
    }
    free(urls);
    return rc;
}

/* Says how agent i ended, with the end of its log. */
static void bsch_agent_report(const struct bsch_run *r, int i, int st, const char *when)
{
    char log[4200];
    snprintf(log, sizeof log, "%s/agent-%s.log", r->dir, r->wl.groups[i].name);
    if (WIFEXITED(st))
        bsch_say("bosun agent (nodes %s) exited with status %d%s; the end of %s:",
                 r->wl.groups[i].name, WEXITSTATUS(st), when, log);
    else
        bsch_say("bosun agent (nodes %s) was killed by signal %d%s; the end of %s:",
                 r->wl.groups[i].name, WTERMSIG(st), when, log);
    bsch_log_tail(log, 5);
}

int bsch_agents_alive(struct bsch_run *r, bool report)
{
    int alive = 0;
    for (int i = 0; i < r->n_agents; i++) {
        if (r->agents[i] <= 0)
            continue;
        int st;
        if (waitpid(r->agents[i], &st, WNOHANG) != r->agents[i]) {
            alive++;
            continue;
        }
        r->agents[i] = 0;
        if (report)
            bsch_agent_report(r, i, st, "");
    }
    return alive;
}

/* SIGTERM, then SIGKILL after the grace period. An agent that does not
 * exit 0 on SIGTERM (a crash, a sanitizer report) is reported; returns
 * how many did not. */
int bsch_agents_stop(struct bsch_run *r)
{
    int unclean = 0;
    for (int i = 0; i < r->n_agents; i++)
        if (r->agents[i] > 0)
            kill(r->agents[i], SIGTERM);
    uint64_t deadline = util_now_ms() + BSCH_STOP_GRACE_MS;
    for (int i = 0; i < r->n_agents; i++) {
        int st = 0;
        while (r->agents[i] > 0) {
            pid_t got = waitpid(r->agents[i], &st, WNOHANG);
            if (got == r->agents[i] || (got < 0 && errno != EINTR))
                break;
            if (util_now_ms() >= deadline) {
                kill(r->agents[i], SIGKILL);
                waitpid(r->agents[i], &st, 0);
                break;
            }
            bench_sleep_ms(20);
        }
        if (r->agents[i] > 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            bsch_agent_report(r, i, st, " when stopped");
            unclean++;
        }
        r->agents[i] = 0;
    }
    return unclean;
}

/* ---- CPU -------------------------------------------------------------- */

pid_t bsch_thread_find(pid_t pid, const char *name)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *d = pid > 0 ? opendir(dir) : NULL;
    struct dirent *e;
    pid_t found = 0;
    while (d && !found && (e = readdir(d))) {
        char path[400], comm[64] = "";
        snprintf(path, sizeof path, "%s/%s/comm", dir, e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(path, "r") : NULL;
        if (f && fgets(comm, sizeof comm, f)) {
            comm[strcspn(comm, "\n")] = '\0';
            if (strcmp(comm, name) == 0)
                found = (pid_t)atoi(e->d_name);
        }
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return found;
}

/* utime + stime in seconds from a stat file. */
static double bsch_stat_cpu(const char *path)
{
    char buf[1024];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut, st;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt
     * majflt cmajflt utime stime */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double bsch_proc_cpu(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    return pid > 0 ? bsch_stat_cpu(path) : -1;
}

/* One thread's own times: /proc/PID/task/TID/stat (/proc/TID/stat would
 * give the whole process's). */
double bsch_thread_cpu(pid_t pid, pid_t tid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    return pid > 0 && tid > 0 ? bsch_stat_cpu(path) : -1;
}

/* The inode of the socket listening on 127.0.0.1/0.0.0.0:port, or 0. */
static unsigned long bsch_listen_inode(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f)
        return 0;
    char line[512];
    unsigned long inode = 0;
    while (!inode && fgets(line, sizeof line, f)) {
        unsigned addr, lport, st;
        unsigned long ino;
        if (sscanf(line, " %*d: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &addr, &lport,
                   &st, &ino) == 4 &&
            st == 0x0A && (int)lport == port)
            inode = ino;
    }
    fclose(f);
    return inode;
}

/* The process holding the socket that listens on port, or 0. */
static pid_t bsch_pid_listening(int port)
{
    unsigned long inode = bsch_listen_inode(port);
    if (!inode)
        return 0;
    char want[64];
    snprintf(want, sizeof want, "socket:[%lu]", inode);
    DIR *proc = opendir("/proc");
    struct dirent *d;
    pid_t found = 0;
    while (proc && !found && (d = readdir(proc))) {
        if (d->d_name[0] < '1' || d->d_name[0] > '9')
            continue;
        char fddir[300];
        snprintf(fddir, sizeof fddir, "/proc/%s/fd", d->d_name);
        DIR *fds = opendir(fddir);
        struct dirent *e;
        while (fds && !found && (e = readdir(fds))) {
            char link[600], target[128];
            snprintf(link, sizeof link, "%s/%s", fddir, e->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n > 0 && (target[n] = '\0', strcmp(target, want) == 0))
                found = (pid_t)atoi(d->d_name);
        }
        if (fds)
            closedir(fds);
    }
    if (proc)
        closedir(proc);
    return found;
}

/* The pid of the server whose API is url: from cluster.json, or the local
 * process listening on its port. */
static pid_t bsch_server_pid(struct bsch_run *r, const char *url)
{
    for (int i = 0; i < r->n_servers && i < r->n_server_cpu; i++)
        if (strcmp(r->servers[i], url) == 0 && r->server_cpu[i].pid > 0)
            return r->server_cpu[i].pid;
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *colon = strrchr(host, ':');
    if (!colon || (strncmp(host, "127.", 4) != 0 && strncmp(host, "localhost", 9) != 0))
        return 0;
    return bsch_pid_listening(atoi(colon + 1));
}

void bsch_cpu_sample(struct bsch_run *r, bool after)
{
    if (!after) {
        int id = 0;
        if (bsch_leader_find(r, &id) == 0)
            r->leader_id = id;
        r->leader.pid = bsch_server_pid(r, r->leader_api);
        r->sched.pid = r->leader.pid;
        r->sched.tid = bsch_thread_find(r->leader.pid, "scheduler");
        r->ctl.pid = r->leader.pid;
        r->ctl.tid = bsch_thread_find(r->leader.pid, "controllers");
        if (!r->own_cluster)
            for (int i = 0; i < r->n_servers; i++)
                r->server_cpu[i].pid = bsch_server_pid(r, r->servers[i]);
        r->n_server_cpu = r->n_servers;
    } else {
        int id = 0;
        r->leader_id_after = bsch_leader_find(r, &id) == 0 ? id : 0;
    }
    struct bsch_cpu *all[3 + BSCH_MAX_SERVERS + BSCH_MAX_GROUPS];
    int n = 0;
    all[n++] = &r->leader;
    all[n++] = &r->sched;
    all[n++] = &r->ctl;
    for (int i = 0; i < r->n_server_cpu; i++)
        all[n++] = &r->server_cpu[i];
    for (int i = 0; i < r->n_agents; i++)
        all[n++] = &r->agent_cpu[i];
    for (int i = 0; i < n; i++) {
        double v = all[i]->tid ? bsch_thread_cpu(all[i]->pid, all[i]->tid)
                               : bsch_proc_cpu(all[i]->pid);
        if (after)
            all[i]->after = v;
        else
            all[i]->before = v;
    }
    if (after)
        r->self_cpu_after = bsch_self_cpu();
    else
        r->self_cpu_before = bsch_self_cpu();
}
