/* kubelet.c — the hollow nodes' kubelet endpoint: what the API server
 * calls for `kubectl logs` and `kubectl exec` (pods/log, pods/exec), as
 * Kubernetes' API server calls a node's kubelet.
 *
 * One libmicrohttpd daemon per agent serves all of its nodes, on
 * --kubelet-address:--kubelet-port (default 127.0.0.1, any free port).
 * Every node advertises it: status.daemonEndpoints.kubeletEndpoint.Port
 * and the annotation bosun.dev/kubelet-endpoint ("HOST:PORT"), which is
 * where bosun's API server connects (a hollow node's InternalIP is made
 * up). A thread per connection: these are a few long requests, never a
 * flood, and a thread of its own lets a follow or an exec block.
 *
 *   GET /containerLogs/{ns}/{pod}/{container}?follow&tailLines&timestamps
 *       &sinceSeconds&sinceTime&limitBytes&previous
 *   GET|POST /exec/{ns}/{pod}/{container}?command=..&stdin&stdout&stderr&tty
 *       with a WebSocket upgrade, subprotocol v5.channel.k8s.io (exec.c)
 *
 * The pod must be bound to one of our nodes (the pod table) and is read
 * from the API for its containers and their states. Errors are Kubernetes
 * Status objects, which the API server passes on.
 *
 * A hollow container runs nothing, so its log is made up from the pod
 * (podlog.c). Following a log polls the pod twice a second until its
 * container terminates, the pod goes, or the client hangs up.
 *
 * Exec runs the command for real, on the agent's host, in a working
 * directory of its own (--exec-dir/NS/POD/CONTAINER), with the container's
 * literal env: like KWOK's ClusterExec, the closest a process-less node
 * can come. It is off unless --exec-dir is given, because it runs any
 * command a client of the API asks for as the agent's user. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "kube/kube.h"
#include "agent/agent_internal.h"
#include "util/util.h"

#define LOG_POLL_MS 500

struct agent_kubelet {
    struct agent *ag;
    struct MHD_Daemon *mhd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sessions; /* exec sessions running */
};

/* ---- replies ---- */

static enum MHD_Result reply_status(struct MHD_Connection *c, unsigned code, const char *reason,
                                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result reply_status(struct MHD_Connection *c, unsigned code, const char *reason,
                                    const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *st = kube_status(code, reason, msg);
    char *s = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static bool arg_true(struct MHD_Connection *c, const char *name)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* ---- the pod and its container ---- */

struct target {
    char ns[256], pod[256], container[256];
    json_t *obj;       /* the pod, as the API has it */
    json_t *spec;      /* its container's spec */
    json_t *status;    /* its container's status, or NULL */
};

/* "/PREFIX/{ns}/{pod}/{container}" */
static bool parse_path(const char *url, const char *prefix, struct target *t)
{
    size_t n = strlen(prefix);
    if (strncmp(url, prefix, n) != 0)
        return false;
    const char *p = url + n;
    char *parts[3] = {t->ns, t->pod, t->container};
    for (int i = 0; i < 3; i++) {
        size_t len = strcspn(p, "/");
        if (len == 0 || len >= 256)
            return false;
        memcpy(parts[i], p, len);
        parts[i][len] = '\0';
        p += len;
        if (i < 2 && *p++ != '/')
            return false;
    }
    return *p == '\0';
}

/* Finds t->container among the pod's containers, then its init containers. */
static bool target_find_container(struct target *t)
{
    return agent_pod_container(t->obj, t->container, &t->spec, &t->status);
}

/* Reads the pod bound to one of our nodes and finds its container. True on
 * success, else the reply already queued (as *ret). */
static bool target_load(struct agent *ag, struct MHD_Connection *c, struct target *t,
                        enum MHD_Result *ret)
{
    char key[520], uid[40] = "";
    snprintf(key, sizeof key, "%s/%s", t->ns, t->pod);
    pthread_mutex_lock(&ag->pods.mu);
    struct agent_pod *p = agent_pods_find(&ag->pods, key);
    if (p)
        snprintf(uid, sizeof uid, "%s", p->uid);
    pthread_mutex_unlock(&ag->pods.mu);
    if (!uid[0]) {
        *ret = reply_status(c, 404, "NotFound", "pod \"%s\" is not on any node of this agent",
                            key);
        return false;
    }
    struct agent_conn k;
    agent_conn_init(&k, ag);
    char path[640];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", t->ns, t->pod);
    int st = agent_conn_json(&k, "GET", path, NULL, NULL, &t->obj);
    agent_conn_close(&k);
    const char *got = json_string_value(
        json_object_get(json_object_get(t->obj, "metadata"), "uid"));
    if (st != 200 || !got || strcmp(got, uid) != 0) {
        *ret = st < 0 ? reply_status(c, 503, "ServiceUnavailable", "no API server answers")
                      : reply_status(c, 404, "NotFound", "pods \"%s\" not found", t->pod);
        json_decref(t->obj);
        t->obj = NULL;
        return false;
    }
    if (!target_find_container(t)) {
        json_decref(t->obj);
        t->obj = NULL;
        *ret = reply_status(c, 400, "BadRequest", "container %s is not valid for pod %s",
                            t->container, t->pod);
        return false;
    }
    return true;
}

static json_t *container_state(const struct target *t, const char *which)
{
    return json_object_get(json_object_get(t->status, "state"), which);
}

/* ---- logs ---- */

/* One streamed log: the lines still to send, and how to find more. */
struct log_stream {
    struct agent *ag;
    struct target t; /* ns, pod, container; obj and friends reloaded each poll */
    struct agent_log_opts o;
    int fd;          /* the client's socket, to see it hang up */
    size_t next;     /* the index of the next line to consider */
    long sent;       /* bytes so far, for limitBytes */
    struct ubuf out;
    size_t off;
    bool done;
};

/* Waits for more of a followed log: new lines, the end of the container or
 * of the pod, the client's hang-up or the agent's stop. */
static void stream_poll(struct log_stream *s)
{
    while (!s->done && s->out.len == s->off) {
        for (int waited = 0; waited < LOG_POLL_MS; waited += 50) {
            if (atomic_load(&s->ag->stopping) || util_peer_gone(s->fd)) {
                s->done = true;
                return;
            }
            usleep(50 * 1000);
        }
        json_decref(s->t.obj);
        s->t.obj = NULL;
        struct agent_conn k;
        agent_conn_init(&k, s->ag);
        char path[640];
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods/%s", s->t.ns, s->t.pod);
        int st = agent_conn_json(&k, "GET", path, NULL, NULL, &s->t.obj);
        agent_conn_close(&k);
        if (st == 404) { /* the pod is gone: so is its log */
            s->done = true;
            return;
        }
        if (st != 200)
            continue; /* no server answers for now: try again */
        struct agent_log l;
        if (!agent_log_make(s->t.obj, s->t.container, &l)) {
            s->done = true;
            return;
        }
        /* Lines only ever come after the ones sent (podlog.c). */
        size_t from = s->next;
        s->next = l.n;
        s->out.len = s->off = 0;
        if (agent_log_format(&l, from, &s->o, &s->sent, &s->out) || l.ended)
            s->done = true;
        agent_log_free(&l);
    }
}

static ssize_t log_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct log_stream *s = cls;
    if (s->off == s->out.len)
        stream_poll(s);
    if (s->off == s->out.len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = s->out.len - s->off;
    if (n > max)
        n = max;
    memcpy(buf, s->out.data + s->off, n);
    s->off += n;
    return (ssize_t)n;
}

static void log_stream_free(void *cls)
{
    struct log_stream *s = cls;
    json_decref(s->t.obj);
    ubuf_free(&s->out);
    free(s);
}

static bool parse_long_arg(struct MHD_Connection *c, const char *name, long *out)
{
    const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
    if (!v || !*v)
        return true;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (*end || errno || n < 0)
        return false;
    *out = n;
    return true;
}

static enum MHD_Result serve_logs(struct agent *ag, struct MHD_Connection *c, struct target *t)
{
    struct agent_log_opts o = {.limit = -1};
    long since_s = -1, tail = -1;
    if (!parse_long_arg(c, "tailLines", &tail) || !parse_long_arg(c, "limitBytes", &o.limit) ||
        !parse_long_arg(c, "sinceSeconds", &since_s))
        return reply_status(c, 400, "BadRequest",
                            "tailLines, limitBytes and sinceSeconds must be whole numbers >= 0");
    const char *since_time = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "sinceTime");
    if (since_s >= 0) /* beyond the epoch: every line */
        o.since_ms = since_s < agent_wall_ms() / 1000 ? agent_wall_ms() - since_s * 1000 : 0;
    else if (since_time && *since_time && (o.since_ms = agent_time_parse(since_time)) < 0)
        return reply_status(c, 400, "BadRequest", "sinceTime \"%s\" is not an RFC 3339 time",
                            since_time);
    o.timestamps = arg_true(c, "timestamps");
    enum MHD_Result ret;
    if (!target_load(ag, c, t, &ret))
        return ret;
    if (arg_true(c, "previous")) {
        json_decref(t->obj);
        return reply_status(c, 400, "BadRequest",
                            "previous terminated container \"%s\" in pod \"%s\" not found",
                            t->container, t->pod);
    }
    if (!container_state(t, "running") && !container_state(t, "terminated")) {
        const char *why = json_string_value(json_object_get(container_state(t, "waiting"),
                                                            "reason"));
        ret = reply_status(c, 400, "BadRequest",
                           "container \"%s\" in pod \"%s\" is waiting to start: %s",
                           t->container, t->pod, why ? why : "ContainerCreating");
        json_decref(t->obj);
        return ret;
    }
    struct log_stream *s = xcalloc(1, sizeof *s);
    s->ag = ag;
    s->t = *t;
    t->obj = NULL;
    s->o = o;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? ci->connect_fd : -1;
    struct agent_log l;
    agent_log_make(s->t.obj, s->t.container, &l);
    size_t from = tail >= 0 && (size_t)tail < l.n ? l.n - (size_t)tail : 0;
    s->next = l.n;
    if (agent_log_format(&l, from, &s->o, &s->sent, &s->out) || !arg_true(c, "follow") ||
        l.ended)
        s->done = true;
    agent_log_free(&l);
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                                               log_reader, s, log_stream_free);
    MHD_add_response_header(r, "Content-Type", "text/plain");
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- exec: the handshake; the session is exec.c's ---- */

struct exec_args {
    char **argv;
    size_t n;
};

static enum MHD_Result collect_command(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    struct exec_args *a = cls;
    if (strcmp(key, "command") == 0) {
        a->argv = xrealloc(a->argv, (a->n + 2) * sizeof *a->argv);
        a->argv[a->n++] = xstrdup(value ? value : "");
        a->argv[a->n] = NULL;
    }
    return MHD_YES;
}

/* Does a header's comma-separated value hold token (any case)? */
static bool header_has(const char *list, const char *token)
{
    return list && httpc_list_has(list, strlen(list), token, false);
}

static int mkdir_p(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static char **exec_env(const struct target *t, const char *dir)
{
    size_t n = 0;
    char **env = xcalloc(json_array_size(json_object_get(t->spec, "env")) + 5, sizeof *env);
    const char *path = getenv("PATH");
    struct ubuf b = {0};
    ubuf_appendf(&b, "PATH=%s", path ? path : "/usr/local/bin:/usr/bin:/bin");
    env[n++] = b.data;
    b = (struct ubuf){0};
    ubuf_appendf(&b, "HOME=%s", dir);
    env[n++] = b.data;
    b = (struct ubuf){0};
    ubuf_appendf(&b, "HOSTNAME=%s", t->pod);
    env[n++] = b.data;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(t->spec, "env"), i, e) {
        const char *k = json_string_value(json_object_get(e, "name"));
        const char *v = json_string_value(json_object_get(e, "value"));
        if (!k || !v) /* valueFrom needs a kubelet's resolution: left out */
            continue;
        b = (struct ubuf){0};
        ubuf_appendf(&b, "%s=%s", k, v);
        env[n++] = b.data;
    }
    env[n] = NULL;
    return env;
}

static void exec_thread_done(struct agent_kubelet *kl)
{
    pthread_mutex_lock(&kl->mu);
    kl->sessions--;
    pthread_cond_broadcast(&kl->cv);
    pthread_mutex_unlock(&kl->mu);
}

/* A connection's request: an exec answered 101 whose upgrade has not
 * happened yet is pending, given back if the connection ends first. */
struct kreq {
    struct upgraded *pending;
};

struct upgraded {
    struct agent_kubelet *kl;
    struct agent_exec *x;
    int fd;
    char *extra;
    size_t extra_len;
    struct MHD_UpgradeResponseHandle *urh;
};

static void *exec_thread(void *arg)
{
    struct upgraded *u = arg;
    agent_exec_run(u->x, u->fd, u->extra, u->extra_len);
    MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
    struct agent_kubelet *kl = u->kl;
    free(u->extra);
    free(u);
    exec_thread_done(kl);
    return NULL;
}

static void upgraded_abandon(struct upgraded *u)
{
    agent_exec_free(u->x);
    exec_thread_done(u->kl);
    free(u);
}

static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock,
                       struct MHD_UpgradeResponseHandle *urh)
{
    (void)c;
    struct kreq *kr = con_cls;
    struct upgraded *u = cls;
    kr->pending = NULL; /* the session's now: counted since serve_exec */
    u->fd = sock;
    u->urh = urh;
    u->extra = extra_in_size ? xmalloc(extra_in_size) : NULL;
    if (extra_in_size)
        memcpy(u->extra, extra_in, extra_in_size);
    u->extra_len = extra_in_size;
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, exec_thread, u) != 0) {
        LOG_WARN("kubelet: cannot start an exec session: %s", strerror(errno));
        agent_exec_free(u->x);
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        exec_thread_done(u->kl);
        free(u->extra);
        free(u);
    }
    pthread_attr_destroy(&attr);
}

/* The exec's target and options, checked in Kubernetes' order: the pod
 * and container first, so that a client refused for its protocol (kubectl
 * retries over SPDY) learns what is wrong with the exec itself. NULL after
 * replying (*ret). */
static struct agent_exec *exec_prepare(struct agent *ag, struct MHD_Connection *c,
                                       struct target *t, enum MHD_Result *ret)
{
    if (!target_load(ag, c, t, ret))
        return NULL;
    bool running = container_state(t, "running") != NULL;
    if (!running) {
        *ret = reply_status(c, 400, "BadRequest", "container %s is not running in pod %s",
                            t->container, t->pod);
        json_decref(t->obj);
        return NULL;
    }
    struct agent_exec *x = xcalloc(1, sizeof *x);
    x->ag = ag;
    snprintf(x->dir, sizeof x->dir, "%s/%s/%s/%s", ag->cfg.exec_dir, t->ns, t->pod,
             t->container);
    x->env = exec_env(t, x->dir);
    json_decref(t->obj);
    struct exec_args a = {0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_command, &a);
    x->argv = a.argv;
    if (!ag->cfg.exec_dir[0])
        *ret = reply_status(c, 403, "Forbidden",
                            "exec is off on this node: its agent was started without "
                            "--exec-dir");
    else if (!a.n)
        *ret = reply_status(c, 400, "BadRequest", "you must specify at least 1 command");
    else if (mkdir_p(x->dir) != 0)
        *ret = reply_status(c, 500, "InternalError", "cannot make the working directory: %s",
                            strerror(errno));
    else
        return x;
    agent_exec_free(x);
    return NULL;
}

static enum MHD_Result serve_exec(struct agent_kubelet *kl, struct kreq *kr,
                                  struct MHD_Connection *c, struct target *t)
{
    struct agent *ag = kl->ag;
    enum MHD_Result ret;
    struct agent_exec *x = exec_prepare(ag, c, t, &ret);
    if (!x)
        return ret;
    const char *upgrade = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade");
    const char *key = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Key");
    const char *proto = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-WebSocket-Protocol");
    const char *refusal = NULL;
    if (!header_has(upgrade, "websocket") || !key || strlen(key) > 64)
        refusal = "Upgrade request required: exec is served over a WebSocket (subprotocol "
                  "v5.channel.k8s.io) only";
    else if (!header_has(proto, "v5.channel.k8s.io"))
        refusal = "exec speaks the WebSocket subprotocol v5.channel.k8s.io only";
    /* Counted before the 101: a stop waits for it (on_upgrade's thread, or
     * kreq_completed if the upgrade never happens). */
    pthread_mutex_lock(&kl->mu);
    bool stopping = atomic_load(&ag->stopping);
    if (!refusal && !stopping)
        kl->sessions++;
    pthread_mutex_unlock(&kl->mu);
    if (refusal || stopping) {
        agent_exec_free(x);
        return refusal ? reply_status(c, 400, "BadRequest", "%s", refusal)
                       : reply_status(c, 503, "ServiceUnavailable", "the agent is stopping");
    }
    x->in = arg_true(c, "stdin");
    x->out = arg_true(c, "stdout");
    x->err = arg_true(c, "stderr");
    x->tty = arg_true(c, "tty");
    char accept[29];
    agent_ws_accept_key(key, accept);
    struct upgraded *u = xcalloc(1, sizeof *u);
    u->kl = kl;
    u->x = x;
    struct MHD_Response *r = MHD_create_response_for_upgrade(on_upgrade, u);
    if (!r) {
        upgraded_abandon(u);
        return MHD_NO;
    }
    kr->pending = u;
    MHD_add_response_header(r, "Upgrade", "websocket");
    MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
    MHD_add_response_header(r, "Sec-WebSocket-Protocol", "v5.channel.k8s.io");
    ret = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- the daemon ---- */

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    struct agent_kubelet *kl = cls;
    if (!*con_cls) { /* the headers: answer once the (empty) body is in */
        *con_cls = xcalloc(1, sizeof(struct kreq));
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* no route takes a body */
        return MHD_YES;
    }
    struct target t = {0};
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
    if (parse_path(url, "/containerLogs/", &t))
        return get ? serve_logs(kl->ag, c, &t)
                   : reply_status(c, 405, "MethodNotAllowed", "%s is not served here", method);
    if (parse_path(url, "/exec/", &t))
        return get || post ? serve_exec(kl, *con_cls, c, &t)
                           : reply_status(c, 405, "MethodNotAllowed", "%s is not served here",
                                          method);
    return reply_status(c, 404, "NotFound", "the kubelet serves no %s", url);
}

static void kreq_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct kreq *kr = *con_cls;
    if (kr && kr->pending) /* the 101 never went out */
        upgraded_abandon(kr->pending);
    free(kr);
    *con_cls = NULL;
}

static void mhd_log(void *arg, const char *fmt, va_list ap)
{
    (void)arg;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    LOG_DEBUG("kubelet: %s", line);
}

int agent_kubelet_start(struct agent *ag)
{
    struct agent_kubelet *kl = xcalloc(1, sizeof *kl);
    kl->ag = ag;
    pthread_mutex_init(&kl->mu, NULL);
    pthread_cond_init(&kl->cv, NULL);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)ag->cfg.kubelet_port)};
    if (inet_pton(AF_INET, ag->cfg.kubelet_address, &sa.sin_addr) != 1) {
        LOG_ERROR("--kubelet-address %s: expected an IPv4 address", ag->cfg.kubelet_address);
        goto fail;
    }
    kl->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                   MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG,
                               0, NULL, NULL, access_cb, kl, MHD_OPTION_SOCK_ADDR, &sa,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)3600,
                               MHD_OPTION_NOTIFY_COMPLETED, kreq_completed, kl,
                               MHD_OPTION_EXTERNAL_LOGGER, mhd_log, kl, MHD_OPTION_END);
    if (!kl->mhd) {
        LOG_ERROR("cannot serve the kubelet endpoint on %s:%d: %s", ag->cfg.kubelet_address,
                  ag->cfg.kubelet_port, strerror(errno));
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(kl->mhd, MHD_DAEMON_INFO_BIND_PORT);
    ag->kubelet_port = di ? di->port : ag->cfg.kubelet_port;
    ag->kubelet = kl;
    LOG_INFO("kubelet endpoint on %s:%d (logs%s)", ag->cfg.kubelet_address, ag->kubelet_port,
             ag->cfg.exec_dir[0] ? ", exec" : "; exec off: no --exec-dir");
    return 0;
fail:
    pthread_cond_destroy(&kl->cv);
    pthread_mutex_destroy(&kl->mu);
    free(kl);
    return -1;
}

void agent_kubelet_stop(struct agent *ag)
{
    struct agent_kubelet *kl = ag->kubelet;
    if (!kl)
        return;
    /* ag->stopping is set: the sessions kill their children and end. */
    pthread_mutex_lock(&kl->mu);
    while (kl->sessions > 0)
        pthread_cond_wait(&kl->cv, &kl->mu);
    pthread_mutex_unlock(&kl->mu);
    MHD_stop_daemon(kl->mhd);
    pthread_cond_destroy(&kl->cv);
    pthread_mutex_destroy(&kl->mu);
    free(kl);
    ag->kubelet = NULL;
}
