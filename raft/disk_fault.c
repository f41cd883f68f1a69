/* disk_fault.c — a fault hook on the disk under the Raft log: slow and full
 * disks for `bosun chaos --faults disk`, without root (no small filesystem
 * to mount, no device mapper), so it runs wherever the tests run.
 *
 * Off by default: only a server started with BOSUN_FAULT_DISK=PATH has it
 * (server/main.c reads the variable once into cluster_config.fault_disk;
 * cluster.c then puts the hook between libraft and raft_uv's append and
 * close). PATH is a control file the chaos runner rewrites; the hook reads
 * it every 100 ms (missing or empty: ok):
 *   ok        a log write completes when the disk completes it;
 *   slow MS   each completes MS ms after the disk did, as if every fsync
 *             took that long;
 *   full      none completes until the file says otherwise. raft_uv meets
 *             ENOSPC by retrying the failed write every 5 s (uv_append.c,
 *             uv_prepare.c), so to Raft a full disk is a write that does not
 *             complete until space is freed.
 * What the hook holds back is the completion, which is all Raft knows of
 * persistence: an entry counts towards a commit, and a follower acknowledges
 * it, only once its append callback ran. The bytes go to raft_uv at once
 * (holding them back would mean reordering them around raft_uv's own
 * truncations and snapshot installs), so a kill during the fault does not
 * lose them as a real full disk would; kill faults cover that. Completions
 * keep the order the disk gave them (a FIFO whose due times never
 * decrease), as raft_uv's do. Closing completes the held ones as canceled,
 * as raft_uv does with its pending writes.
 * Not covered: term and vote writes (synchronous in raft_uv), snapshots,
 * and the LMDB state file (derived state, rebuilt from the log at start).
 * A real full disk under the whole data dir (tried on a 40 MB tmpfs) ends
 * the server with SIGBUS as soon as LMDB's writable map needs a new page;
 * restarted once space is freed, it had every acknowledged write. Such an
 * exit is what the kill fault does.
 *
 * Everything here runs on the Raft loop thread: no locks. */
#include "raft/disk_fault.h"

#include <assert.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

enum { DF_POLL_MS = 100, DF_DELAY_MAX_MS = 60000, DF_TEXT_MAX = 64 };

/* One log write: submitted to raft_uv, then (once the disk completed it)
 * held in the FIFO until due. */
struct df_write {
    struct raft_io_append inner; /* what raft_uv completes; data: this */
    struct raft_io_append *req;  /* what libraft gave */
    raft_io_append_cb cb;
    struct disk_fault *f;
    int status;      /* raft_uv's */
    uint64_t due_ms; /* when it may complete (held ones) */
    struct df_write *next;
};

struct disk_fault {
    uv_timer_t poll, release;
    char *path;
    struct disk_fault_state st;
    char text[DF_TEXT_MAX]; /* the control file's last text, for the log */
    int (*append)(struct raft_io *io, struct raft_io_append *req,
                  const struct raft_entry entries[], unsigned n, raft_io_append_cb cb);
    void (*close)(struct raft_io *io, raft_io_close_cb cb);
    struct df_write *head, *tail; /* completed by the disk, held: oldest first */
    uint64_t last_due;            /* the tail's due time: dues never decrease */
    unsigned inflight;            /* submitted to raft_uv, not completed by it */
    int handles;                  /* timers not closed yet */
    bool closed;
};

int disk_fault_parse(const char *text, struct disk_fault_state *out)
{
    *out = (struct disk_fault_state){DISK_FAULT_OK, 0};
    while (isspace((unsigned char)*text))
        text++;
    char word[8] = "";
    long ms = 0;
    int n = 0;
    if (*text && sscanf(text, "%7s %n", word, &n) < 1)
        return -1;
    const char *rest = text + n;
    if (!*text || strcmp(word, "ok") == 0)
        return *rest ? -1 : 0;
    if (strcmp(word, "full") == 0 && !*rest) {
        out->mode = DISK_FAULT_FULL;
        return 0;
    }
    char *end;
    if (strcmp(word, "slow") == 0 && (ms = strtol(rest, &end, 10)) >= 1 && ms <= DF_DELAY_MAX_MS &&
        end != rest) {
        while (isspace((unsigned char)*end))
            end++;
        if (!*end) {
            *out = (struct disk_fault_state){DISK_FAULT_SLOW, (unsigned)ms};
            return 0;
        }
    }
    return -1;
}

static void df_maybe_free(struct disk_fault *f)
{
    if (f->closed && f->handles == 0 && f->inflight == 0) {
        assert(!f->head);
        free(f->path);
        free(f);
    }
}

static void df_release_cb(uv_timer_t *t);

/* Completes the held writes that are due, in order (all of them, canceled,
 * once closed); re-arms the release timer for the next. */
static void df_release(struct disk_fault *f)
{
    uint64_t now = util_now_ms();
    while (f->head && (f->closed || (f->st.mode != DISK_FAULT_FULL && f->head->due_ms <= now))) {
        struct df_write *w = f->head;
        f->head = w->next;
        if (!f->head)
            f->tail = NULL;
        w->cb(w->req, f->closed ? RAFT_CANCELED : w->status);
        free(w);
    }
    if (f->head && !f->closed && f->st.mode != DISK_FAULT_FULL)
        uv_timer_start(&f->release, df_release_cb, f->head->due_ms - now, 0);
}

static void df_release_cb(uv_timer_t *t)
{
    df_release(t->data);
}

/* raft_uv completed a write: through at once when nothing is held and the
 * disk is fine, else to the back of the FIFO. */
static void df_write_done(struct raft_io_append *inner, int status)
{
    struct df_write *w = inner->data;
    struct disk_fault *f = w->f;
    assert(f->inflight > 0);
    f->inflight--;
    if (f->closed || (!f->head && f->st.mode == DISK_FAULT_OK)) {
        w->cb(w->req, status);
        free(w);
        df_maybe_free(f);
        return;
    }
    uint64_t due = util_now_ms() + (f->st.mode == DISK_FAULT_SLOW ? f->st.delay_ms : 0);
    if (due < f->last_due)
        due = f->last_due;
    f->last_due = w->due_ms = due;
    w->status = status;
    if (f->tail)
        f->tail->next = w;
    else
        f->head = w;
    f->tail = w;
    df_release(f);
}

/* Reads the control file; a change of state is logged. */
static void df_poll(struct disk_fault *f)
{
    char text[DF_TEXT_MAX] = "";
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = read(fd, text, sizeof text - 1);
        text[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    text[strcspn(text, "\n")] = '\0';
    if (strcmp(text, f->text) == 0)
        return;
    snprintf(f->text, sizeof f->text, "%s", text);
    struct disk_fault_state was = f->st;
    if (disk_fault_parse(text, &f->st) != 0)
        LOG_WARN("disk fault hook: cannot read \"%s\" in %s; the disk is fine", text, f->path);
    else if (f->st.mode != was.mode || f->st.delay_ms != was.delay_ms)
        LOG_WARN("disk fault hook: the disk is now %s", text[0] ? text : "ok");
}

static void df_poll_cb(uv_timer_t *t)
{
    struct disk_fault *f = t->data;
    df_poll(f);
    df_release(f);
}

struct disk_fault *disk_fault_new(uv_loop_t *loop, struct raft_io *io, const char *path)
{
    assert(io->append && io->close && path && path[0]);
    struct disk_fault *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    f->append = io->append;
    f->close = io->close;
    uv_timer_init(loop, &f->poll);
    uv_timer_init(loop, &f->release);
    f->poll.data = f->release.data = f;
    f->handles = 2;
    LOG_WARN("disk fault hook on: the Raft log's disk follows %s", path);
    df_poll(f);
    uv_timer_start(&f->poll, df_poll_cb, DF_POLL_MS, DF_POLL_MS);
    return f;
}

int disk_fault_append(struct disk_fault *f, struct raft_io *io, struct raft_io_append *req,
                      const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
    assert(!f->closed);
    struct df_write *w = xcalloc(1, sizeof *w);
    w->inner.data = w;
    w->req = req;
    w->cb = req->cb = cb;
    w->f = f;
    f->inflight++;
    int rv = f->append(io, &w->inner, entries, n, df_write_done);
    if (rv != 0) {
        f->inflight--;
        free(w);
    }
    return rv;
}

static void df_timer_closed(uv_handle_t *h)
{
    struct disk_fault *f = h->data;
    assert(f->handles > 0);
    f->handles--;
    df_maybe_free(f);
}

void disk_fault_close(struct disk_fault *f, struct raft_io *io, raft_io_close_cb cb)
{
    assert(!f->closed);
    f->closed = true;
    df_release(f);
    uv_timer_stop(&f->poll);
    uv_timer_stop(&f->release);
    uv_close((uv_handle_t *)&f->poll, df_timer_closed);
    uv_close((uv_handle_t *)&f->release, df_timer_closed);
    void (*close)(struct raft_io *, raft_io_close_cb) = f->close;
    close(io, cb); /* f may be freed from here on (by the timers' close callbacks) */
}
