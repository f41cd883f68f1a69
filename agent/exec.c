/* exec.c — one `kubectl exec` session: a child process behind kubectl's
 * WebSocket, in the v5.channel.k8s.io subprotocol.
 *
 * The protocol (Kubernetes' remotecommand, as kubectl 1.32 speaks it):
 * every message is a binary frame whose first byte is a channel — 0 stdin
 * (client to us), 1 stdout, 2 stderr, 3 the final status (us to client),
 * 4 terminal resizes ({"Width":W,"Height":H}); a message [255, 0]
 * closes stdin. The session ends with a Status on channel 3 (Success, or
 * Failure with reason NonZeroExitCode and the exit code as a cause, which
 * kubectl exits with) and a close frame. Pings are answered with pongs:
 * kubectl pings every 5 s and gives up without a pong.
 *
 * How: the command is spawned (posix_spawnp) in its own process group,
 * with pipes for the streams asked for, or with tty=true (kubectl exec -t)
 * in a session of its own on a pseudo-terminal whose master carries both
 * directions and takes the resizes, in the session's working directory,
 * with every other descriptor closed. One
 * thread polls the socket and the pipes: client frames are parsed as they
 * arrive, stdin is written as the pipe takes it (never blocking, so a
 * child that writes before it reads cannot deadlock us), and the child's
 * output is sent a frame per read. When its output has ended it is reaped
 * and the status sent. A client that goes (EOF, a close frame, an error)
 * or the agent's stop kills the process group. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent_internal.h"
#include "util/util.h"

#define EXEC_READ 32768
#define EXEC_TICK_MS 200 /* how often the loop looks at the agent's stop */
#define EXEC_SEND_MS 30000 /* the longest wait for a client to take our bytes */
#define EXEC_LINGER_MS 5000 /* the longest wait for the client's close frame */
#define EXEC_STDIN_MAX (1 << 20) /* stdin held for a slow command, at most */

enum { CH_STDIN = 0, CH_STDOUT = 1, CH_STDERR = 2, CH_STATUS = 3, CH_RESIZE = 4, CH_CLOSE = 255 };

struct session {
    struct agent_exec *x;
    int fd;                    /* the client's socket */
    pid_t pid;                 /* the child, or 0 once reaped */
    int status;                /* its wait status */
    int in, out, err;          /* our ends of its pipes, or -1 */
    int pty;                   /* tty: the terminal's master (also out), or -1 */
    struct ubuf rx;            /* client bytes not yet parsed */
    struct ubuf stdin_q;       /* stdin not yet written */
    size_t stdin_off;
    bool stdin_eof;            /* [255, 0] came: close in once drained */
    int cont_channel;          /* the channel of a fragmented message */
    bool client_gone;
    bool close_sent;           /* our close frame is out: never a second */
};

void agent_exec_free(struct agent_exec *x)
{
    if (!x)
        return;
    for (char **p = x->argv; p && *p; p++)
        free(*p);
    for (char **p = x->env; p && *p; p++)
        free(*p);
    free(x->argv);
    free(x->env);
    free(x);
}

static bool send_frame(struct session *s, int opcode, int channel, const void *data, size_t len)
{
    unsigned char hdr[11];
    size_t body = len + (channel >= 0);
    size_t h = agent_ws_header(hdr, opcode, body);
    if (channel >= 0)
        hdr[h++] = (unsigned char)channel;
    if (!util_send_all(s->fd, hdr, h, EXEC_SEND_MS) ||
        (len && !util_send_all(s->fd, data, len, EXEC_SEND_MS))) {
        s->client_gone = true;
        return false;
    }
    return true;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* The spawn's attributes: a process group of its own (a session of its
 * own with a terminal, whose leader it then is), default signals. */
static void spawn_attrs(posix_spawnattr_t *at, bool tty)
{
    posix_spawnattr_init(at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(at, &none);
    posix_spawnattr_setsigdefault(at, &all);
    posix_spawnattr_setpgroup(at, 0);
    posix_spawnattr_setflags(at, (tty ? POSIX_SPAWN_SETSID : POSIX_SPAWN_SETPGROUP) |
                                     POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

/* A pseudo-terminal for tty=true: the master (ours), the slave's path. */
static int open_pty(char *slave, size_t len)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0)
        return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, slave, len) != 0) {
        close(m);
        return -1;
    }
    return m;
}

/* Spawns the command; 0, or an errno. With tty, its stdin, stdout and
 * stderr are a pseudo-terminal's slave, opened after setsid so that it
 * becomes the controlling terminal (job control, a shell's prompt), and
 * both directions go through the master; else a pipe per stream. */
static int session_spawn(struct session *s)
{
    struct agent_exec *x = s->x;
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, master = -1;
    char slave[64];
    int rc = 0;
    if (x->tty ? (master = open_pty(slave, sizeof slave)) < 0
               : (x->in && pipe2(pin, O_CLOEXEC) != 0) || pipe2(pout, O_CLOEXEC) != 0 ||
                     pipe2(perr, O_CLOEXEC) != 0) {
        rc = errno;
        goto out;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (x->tty) {
        posix_spawn_file_actions_addopen(&fa, 0, slave, O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&fa, 0, 1);
        posix_spawn_file_actions_adddup2(&fa, 0, 2);
    } else {
        if (x->in)
            posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
        else
            posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        /* Unwanted output still needs somewhere to go: read and dropped. */
        posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
        posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
    }
    posix_spawn_file_actions_addchdir_np(&fa, x->dir);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t at;
    spawn_attrs(&at, x->tty);
    rc = posix_spawnp(&s->pid, x->argv[0], &fa, &at, x->argv, x->env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (rc != 0)
        s->pid = 0;
out:
    if (pin[0] >= 0)
        close(pin[0]);
    if (pout[1] >= 0)
        close(pout[1]);
    if (perr[1] >= 0)
        close(perr[1]);
    if (master >= 0) {
        s->pty = master;
        s->out = master;
        s->in = x->in ? fcntl(master, F_DUPFD_CLOEXEC, 0) : -1;
    } else {
        s->in = pin[1];
        s->out = pout[0];
        s->err = perr[0];
    }
    if (rc != 0) {
        close_fd(&s->in);
        close_fd(&s->out);
        close_fd(&s->err);
        s->pty = -1;
    }
    /* (with a pty this makes the master's reads non-blocking too: they
     * come only after poll says so, and EAGAIN is taken as "not yet") */
    if (s->in >= 0)
        fcntl(s->in, F_SETFL, fcntl(s->in, F_GETFL) | O_NONBLOCK);
    return rc;
}

/* A terminal resize ({"Width":W,"Height":H} on channel 4), for a pty. */
static void session_resize(struct session *s, const unsigned char *p, size_t n)
{
    json_t *v = s->pty >= 0 ? json_loadb((const char *)p, n, 0, NULL) : NULL;
    json_int_t w = json_integer_value(json_object_get(v, "Width"));
    json_int_t h = json_integer_value(json_object_get(v, "Height"));
    if (w > 0 && h > 0 && w < 65536 && h < 65536) {
        struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
        ioctl(s->pty, TIOCSWINSZ, &ws);
    }
    json_decref(v);
}

/* A whole message's payload for a channel (fragments continue cont_channel). */
static void session_message(struct session *s, int channel, const unsigned char *p, size_t n)
{
    if (channel == CH_STDIN && s->in >= 0 && !s->stdin_eof)
        ubuf_append(&s->stdin_q, p, n);
    else if (channel == CH_CLOSE && n >= 1 && p[0] == CH_STDIN && s->pty < 0)
        s->stdin_eof = true; /* a terminal has no end of input but ^D, a byte */
    else if (channel == CH_RESIZE)
        session_resize(s, p, n);
}

/* Parses what has arrived. False when the client is done with us. */
static bool session_rx(struct session *s)
{
    size_t off = 0;
    for (;;) {
        struct agent_ws_frame f;
        int n = agent_ws_parse((unsigned char *)s->rx.data + off, s->rx.len - off, &f);
        if (n < 0) {
            LOG_DEBUG("kubelet: exec: a malformed WebSocket frame");
            return false;
        }
        if (n == 0)
            break;
        off += (size_t)n;
        switch (f.opcode) {
        case 8: /* close: answer it (unless ours went first), then go */
            if (!s->close_sent)
                send_frame(s, 8, -1, f.payload, f.len >= 2 ? 2 : 0);
            s->close_sent = true;
            return false;
        case 9:
            send_frame(s, 10, -1, f.payload, f.len);
            break;
        case 10:
            break;
        case 0: /* a continuation of the channel's message */
            if (s->cont_channel >= 0)
                session_message(s, s->cont_channel, f.payload, f.len);
            if (f.fin)
                s->cont_channel = -1;
            break;
        default: /* 1, 2: a message, channel first */
            if (f.len == 0)
                break;
            session_message(s, f.payload[0], f.payload + 1, f.len - 1);
            s->cont_channel = f.fin ? -1 : f.payload[0];
        }
    }
    memmove(s->rx.data, s->rx.data + off, s->rx.len - off);
    s->rx.len -= off;
    return true;
}

static void session_write_stdin(struct session *s)
{
    while (s->in >= 0 && s->stdin_off < s->stdin_q.len) {
        ssize_t n = write(s->in, s->stdin_q.data + s->stdin_off, s->stdin_q.len - s->stdin_off);
        if (n > 0) {
            s->stdin_off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n < 0 && errno != EAGAIN)
                close_fd(&s->in); /* the child closed its stdin: drop the rest */
            break;
        }
    }
    if (s->stdin_off == s->stdin_q.len)
        s->stdin_off = s->stdin_q.len = 0;
    if (s->stdin_eof && s->stdin_q.len == 0)
        close_fd(&s->in);
}

/* Sends what a pipe has, on its channel; closes it at EOF. */
static void session_pipe(struct session *s, int *fd, int channel, bool wanted)
{
    char buf[EXEC_READ];
    ssize_t n = read(*fd, buf, sizeof buf);
    if (n > 0) {
        if (wanted)
            send_frame(s, 2, channel, buf, (size_t)n);
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        close_fd(fd); /* a pty's master reads EIO once the terminal is gone */
        if (fd == &s->out && s->pty >= 0) {
            close_fd(&s->in);
            s->pty = -1;
        }
    }
}

static void session_kill(struct session *s)
{
    if (s->pid > 0) {
        kill(-s->pid, SIGKILL);
        while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
            ;
        s->pid = 0;
    }
}

/* Reads what the client sent and handles it (pings answered, stdin kept
 * or dropped). False once the client is done with us. */
static bool session_read_client(struct session *s)
{
    ubuf_reserve(&s->rx, EXEC_READ);
    ssize_t got = recv(s->fd, s->rx.data + s->rx.len, EXEC_READ, MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
        return false;
    if (got > 0) {
        s->rx.len += (size_t)got;
        return session_rx(s);
    }
    return true;
}

/* The child's output has ended: reap it, unless the client or the agent
 * goes first. The client is still read meanwhile: its pings need pongs
 * (kubectl gives up after 61 s without one), and what it sends for stdin
 * is dropped once the command's stdin is closed. True once reaped. */
static bool session_reap(struct session *s)
{
    while (s->pid > 0) {
        pid_t r = waitpid(s->pid, &s->status, WNOHANG);
        if (r == s->pid || (r < 0 && errno != EINTR)) {
            s->pid = 0;
            break;
        }
        struct pollfd pf = {.fd = s->fd, .events = POLLIN | POLLRDHUP};
        int n = poll(&pf, 1, 50);
        if (atomic_load(&s->x->ag->stopping) || (n > 0 && !session_read_client(s))) {
            session_kill(s);
            return false;
        }
        if (s->in >= 0 && (s->stdin_q.len || s->stdin_eof))
            session_write_stdin(s);
        if (s->stdin_q.len > EXEC_STDIN_MAX) /* a command that never reads it */
            s->stdin_q.len = s->stdin_off = 0;
    }
    return true;
}

static void session_send_status(struct session *s, int spawn_err)
{
    json_t *st;
    const char *cmd = s->x->argv[0];
    if (spawn_err) {
        char msg[1200];
        snprintf(msg, sizeof msg, "failed to exec in container: exec: \"%s\": %s", cmd,
                 spawn_err == ENOENT ? "executable file not found in $PATH" : strerror(spawn_err));
        st = json_pack("{s:{}, s:s, s:s, s:s, s:i}", "metadata", "status", "Failure", "message",
                       msg, "reason", "InternalError", "code", 500);
    } else {
        int code = WIFEXITED(s->status) ? WEXITSTATUS(s->status)
                   : WIFSIGNALED(s->status) ? 128 + WTERMSIG(s->status)
                                            : 1;
        if (code == 0) {
            st = json_pack("{s:{}, s:s}", "metadata", "status", "Success");
        } else {
            char msg[200], num[16];
            snprintf(msg, sizeof msg, "command terminated with non-zero exit code: exit status %d",
                     code);
            snprintf(num, sizeof num, "%d", code);
            st = json_pack("{s:{}, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "metadata", "status",
                           "Failure", "message", msg, "reason", "NonZeroExitCode", "details",
                           "causes", "reason", "ExitCode", "message", num);
        }
    }
    char *js = json_dumps(st, JSON_COMPACT);
    json_decref(st);
    send_frame(s, 2, CH_STATUS, js, strlen(js));
    free(js);
    unsigned char normal[2] = {1000 >> 8, 1000 & 0xff};
    send_frame(s, 8, -1, normal, sizeof normal);
    s->close_sent = true;
}

/* The closing handshake: after our close frame, reads (and drops) what the
 * client still sends until its close frame or its end, bounded. Closing
 * with its bytes unread would reset the connection, and a reset can destroy
 * our status frame before kubectl has read it (a command that exits before
 * reading all of a large stdin). */
static void session_linger(struct session *s)
{
    close_fd(&s->in);
    uint64_t give_up = util_now_ms() + EXEC_LINGER_MS;
    while (!s->client_gone && util_now_ms() < give_up && !atomic_load(&s->x->ag->stopping)) {
        struct pollfd pf = {.fd = s->fd, .events = POLLIN | POLLRDHUP};
        if (poll(&pf, 1, EXEC_TICK_MS) > 0 && !session_read_client(s))
            return; /* its close frame, its end, or garbage */
    }
}

/* Polls the socket and the pipes until the output has ended (true) or the
 * client or the agent has gone (false). */
static bool session_pump(struct session *s)
{
    while (s->out >= 0 || s->err >= 0) {
        struct pollfd pf[4];
        int n = 0, i_sock = n++, i_out = -1, i_err = -1, i_in = -1;
        /* Backpressure: with a command behind on its stdin, the client's
         * bytes wait in the socket (and in TCP's window), not in memory. */
        bool read_client = s->stdin_q.len - s->stdin_off < EXEC_STDIN_MAX;
        pf[i_sock] = (struct pollfd){.fd = s->fd, .events = read_client ? POLLIN | POLLRDHUP
                                                                        : POLLRDHUP};
        if (s->out >= 0)
            pf[i_out = n++] = (struct pollfd){.fd = s->out, .events = POLLIN};
        if (s->err >= 0)
            pf[i_err = n++] = (struct pollfd){.fd = s->err, .events = POLLIN};
        if (s->in >= 0 && s->stdin_q.len)
            pf[i_in = n++] = (struct pollfd){.fd = s->in, .events = POLLOUT};
        int r = poll(pf, (nfds_t)n, EXEC_TICK_MS);
        if (atomic_load(&s->x->ag->stopping) || (r < 0 && errno != EINTR))
            return false;
        if (r <= 0)
            continue;
        if (read_client && (pf[i_sock].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) &&
            !session_read_client(s))
            return false;
        if (i_out >= 0 && pf[i_out].revents)
            session_pipe(s, &s->out, CH_STDOUT, s->x->out);
        if (i_err >= 0 && pf[i_err].revents)
            session_pipe(s, &s->err, CH_STDERR, s->x->err);
        if (s->in >= 0 && (s->stdin_q.len || s->stdin_eof))
            session_write_stdin(s);
        if (s->client_gone)
            return false;
    }
    return true;
}

void agent_exec_run(struct agent_exec *x, int fd, const char *extra, size_t extra_len)
{
    struct session s = {.x = x, .fd = fd, .in = -1, .out = -1, .err = -1, .pty = -1,
                        .cont_channel = -1};
    if (extra_len)
        ubuf_append(&s.rx, extra, extra_len);
    int rc = session_spawn(&s);
    bool ok = true;
    if (rc == 0) {
        LOG_DEBUG("kubelet: exec %s in %s: pid %d", x->argv[0], x->dir, (int)s.pid);
        if (s.rx.len)
            ok = session_rx(&s);
        ok = ok && session_pump(&s) && session_reap(&s);
    }
    if (ok) {
        session_send_status(&s, rc);
        session_linger(&s);
    }
    session_kill(&s);
    close_fd(&s.in);
    close_fd(&s.out);
    close_fd(&s.err);
    ubuf_free(&s.rx);
    ubuf_free(&s.stdin_q);
    agent_exec_free(x);
}
