/* watch.c — `?watch=true`: a stream of newline-delimited JSON events.
 *
 * A watch is a libmicrohttpd response of unknown size (sent chunked) whose
 * content reader fills the stream from this replica's change log:
 *  - resourceVersion absent or "0": first a synthetic ADDED event for every
 *    object that matches, from one read transaction at revision R, then the
 *    changes after R;
 *  - resourceVersion=N: the changes after N, or one ERROR event (410 Expired)
 *    if the change log no longer reaches back to N;
 *  - allowWatchBookmarks=true: an idle stream gets a BOOKMARK with the
 *    current revision every bookmark interval;
 *  - timeoutSeconds: the stream ends cleanly then (default 30 minutes).
 * The reader runs on libmicrohttpd's event loop and never blocks: when it has
 * nothing to send it suspends the connection and parks the watch in the hub,
 * whose one thread sends a parked watch its new events itself (see
 * "delivery by the hub") and resumes it when its bookmark or deadline falls
 * due, or when its client hung up (the hub's epoll set, struct hub_hups).
 * So an idle watch costs no thread and an event costs one pass over the
 * parked watches, not a wake-up of a thread per watch (thousands of those
 * on two cores were what bounded the watchers one server could serve
 * within 100 ms). A pass with news for thousands of watches is split
 * between the hub and a helper thread (struct hub_helper).
 * Events are filtered by resource, namespace, and the label and field
 * selectors (filter.c); the revision cursor advances past filtered events
 * too, so every server delivers the same events in the same order. As in
 * Kubernetes, a change that moves an object into the selection is sent as
 * ADDED and one that moves it out as DELETED: the object's previous state
 * is the change record at its previous revision. With a Table Accept
 * header each event's object is a one-row Table (render.c). */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "kube/kube.h"
#include "server/internal.h"

#define WATCH_DEFAULT_TIMEOUT_S 1800
#define WATCH_BATCH 512
#define WATCH_CHECK_MS 1000 /* how often an idle stream looks for a hung-up client */
#define HUB_TICK_MS 100     /* the hub's longest sleep: bookmarks are this late at most */
#define HUB_HUP_MAX 256     /* hung-up clients taken per pass (the rest on the next) */

struct watch {
    struct server *srv;
    struct MHD_Connection *conn;
    struct watch *prev, *next; /* in the hub while parked */
    bool parked;
    uint64_t due_ms;   /* parked: resume by then even without an event */
    uint64_t check_ms; /* the next look for a hung-up client, unless in_ep */
    bool in_ep;        /* its socket is in the hub's epoll set: no periodic look */
    bool hup;          /* the hub saw its client hang up: look now */
    const struct resource *res;
    char ns[256];          /* the path's namespace */
    struct filter *f;      /* labelSelector and fieldSelector */
    struct render rd;      /* JSON or Table */
    uint64_t rev;   /* every change up to rev has been considered */
    const uint64_t *res_rev; /* its resource's latest change (store_resource_revision) */
    bool synthetic; /* ADDED events for the current state still to send */
    bool bookmarks;
    bool ended;
    uint64_t deadline_ms;
    uint64_t last_sent_ms;
    int fd;
    struct ubuf out;
    size_t off;
    /* Parked: chunks the hub wrote on the socket itself, not yet all sent
     * (the socket's buffer was full); MHD may not write until they are. */
    struct ubuf raw;
    size_t raw_off;
};

/* The checks on the key: resource, namespace, name. */
static bool match_key(const struct watch *w, const struct store_obj *o)
{
    if (o->resource_len != strlen(w->res->plural) ||
        memcmp(o->resource, w->res->plural, o->resource_len) != 0)
        return false;
    if (w->ns[0] && (o->ns_len != strlen(w->ns) || memcmp(o->ns, w->ns, o->ns_len) != 0))
        return false;
    return filter_match_key(w->f, o);
}

static void emit(struct watch *w, const char *type, json_t *obj)
{
    if (strcmp(type, "BOOKMARK") != 0 && strcmp(type, "ERROR") != 0)
        obj = render_event(&w->rd, obj);
    json_t *ev = json_pack("{s:s, s:o}", "type", type, "object", obj);
    char *s = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (!s)
        return;
    ubuf_append(&w->out, s, strlen(s));
    ubuf_append(&w->out, "\n", 1);
    free(s);
}

static int emit_added(void *arg, const struct store_obj *o)
{
    struct watch *w = arg;
    if (!match_key(w, o))
        return 0;
    if (filter_needs_object(w->f)) {
        json_t *sv = filter_view(w->f, o);
        bool sel = sv && filter_match(w->f, sv);
        json_decref(sv);
        if (!sel)
            return 0;
    }
    json_t *v = object_render(o, o->mod_rev);
    if (v)
        emit(w, "ADDED", v);
    return 0;
}

/* Whether the object was selected before this change (its state at
 * prev_rev). Unknown (out of the log) counts as selected, so a change is
 * sent as MODIFIED rather than dropped. */
static bool was_selected(struct watch *w, struct store_read *r, const struct store_event *e)
{
    struct store_event old;
    if (e->prev_rev == 0)
        return false;
    if (store_change_at(r, e->prev_rev, &old) != 0)
        return true;
    json_t *v = filter_view(w->f, &old.o);
    bool sel = v && filter_match(w->f, v);
    json_decref(v);
    return sel;
}

struct change_ctx {
    struct watch *w;
    struct store_read *r;
    unsigned n;
};

/* The event's object as JSON text, rendered once per revision for all the
 * watches of this server (watch_cache): with thousands of watches on one
 * resource, decoding and encoding every event per watch dominated the cost
 * (85 us per delivery at 2,000 watches, `bosun bench watch`). Returns a
 * malloc'd copy, or NULL. */
static char *rendered(struct watch *w, const struct store_event *e, size_t *len)
{
    struct watch_cache *wc = w->srv->wcache;
    struct watch_slot *sl = &wc->slot[e->rev % WATCH_CACHE_SLOTS];
    char *out = NULL;
    pthread_mutex_lock(&wc->mu);
    if (sl->rev == e->rev && sl->json) {
        out = xmalloc(sl->len);
        memcpy(out, sl->json, sl->len);
        *len = sl->len;
    }
    pthread_mutex_unlock(&wc->mu);
    if (out)
        return out;
    out = object_text(&e->o, e->rev, len);
    if (!out)
        return NULL;
    pthread_mutex_lock(&wc->mu);
    free(sl->json);
    sl->rev = e->rev;
    sl->json = xmalloc(*len);
    memcpy(sl->json, out, *len);
    sl->len = *len;
    pthread_mutex_unlock(&wc->mu);
    return out;
}

/* A plain JSON event from the shared rendering: no per-watch encoding. */
static void emit_cached(struct watch *w, const char *type, const struct store_event *e)
{
    size_t len;
    char *obj = rendered(w, e, &len);
    if (!obj)
        return;
    ubuf_appendf(&w->out, "{\"type\":\"%s\",\"object\":", type);
    ubuf_append(&w->out, obj, len);
    ubuf_append(&w->out, "}\n", 2);
    free(obj);
}

static int emit_change(void *arg, const struct store_event *e)
{
    struct change_ctx *cc = arg;
    struct watch *w = cc->w;
    w->rev = e->rev;
    if (!match_key(w, &e->o))
        return ++cc->n >= WATCH_BATCH;
    static const char *types[] = {"", "ADDED", "MODIFIED", "DELETED"};
    const char *type = types[e->type & 3];
    if (!filter_needs_object(w->f) && !w->rd.table) {
        emit_cached(w, type, e);
        return ++cc->n >= WATCH_BATCH;
    }
    /* A selector decides on the selected fields alone (filter_view); the
     * event then goes out from the shared rendering unless a Table is
     * wanted. Decoding and encoding the whole object per watch made the
     * hollow nodes' watches (spec.nodeName!=) a third of the leader's CPU in
     * `bosun bench schedule`. */
    if (filter_needs_object(w->f)) {
        json_t *sv = filter_view(w->f, &e->o);
        if (!sv)
            return ++cc->n >= WATCH_BATCH;
        bool now = filter_match(w->f, sv);
        json_decref(sv);
        bool before = e->type == STORE_MODIFIED ? was_selected(w, cc->r, e) : now;
        if (!now && !before)
            return ++cc->n >= WATCH_BATCH;
        if (e->type == STORE_MODIFIED && now != before)
            type = now ? "ADDED" : "DELETED";
        if (!w->rd.table) {
            emit_cached(w, type, e);
            return ++cc->n >= WATCH_BATCH;
        }
    }
    json_t *v = object_render(&e->o, e->rev);
    if (v)
        emit(w, type, v);
    return ++cc->n >= WATCH_BATCH;
}

static void emit_bookmark(struct watch *w)
{
    char av[96], rv[24];
    resource_api_version(w->res, av, sizeof av);
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)w->rev);
    emit(w, "BOOKMARK",
         json_pack("{s:s, s:s, s:{s:s}}", "kind", w->res->kind, "apiVersion", av, "metadata",
                   "resourceVersion", rv));
}

static void emit_gone(struct watch *w)
{
    char msg[160];
    snprintf(msg, sizeof msg, "too old resource version: %llu", (unsigned long long)w->rev);
    emit(w, "ERROR", kube_status(410, "Expired", msg));
    w->ended = true;
}

/* Reads what is new in r into w->out; false on a store error. */
static bool fill_from(struct watch *w, struct store_read *r)
{
    if (w->synthetic) {
        store_list(r, w->res->plural, w->ns[0] ? w->ns : NULL, emit_added, w);
        w->rev = r->revision;
        w->synthetic = false;
        return true;
    }
    struct change_ctx cc = {w, r, 0};
    int rc = store_changes(r, w->rev, emit_change, &cc);
    if (rc == STORE_GONE_ERR)
        emit_gone(w);
    else if (rc != 0)
        return false;
    else if (cc.n < WATCH_BATCH && w->rev < r->revision)
        w->rev = r->revision; /* every change up to the snapshot was seen */
    return true;
}

static bool fill(struct watch *w)
{
    struct store_read r;
    if (store_read_begin(w->srv->store, &r) != 0)
        return false;
    bool ok = fill_from(w, &r);
    store_read_end(&r);
    return ok;
}

/* A client's hang-up, seen without a look per watch. Each parked watch's
 * socket is in the hub's epoll set (EPOLLRDHUP, level-triggered, never
 * EPOLLIN), from the first time it parks; every pass takes the sockets
 * whose clients hung up (epoll_wait without waiting) and resumes their
 * watches, whose reader then looks (util_peer_gone) and ends the stream. A
 * look once a second per watch had cost a resume per watch per second:
 * with 5,000 idle watches, 5,000 resumes a second. A stale report (a
 * socket number reused since) costs one resume and one look. */
struct hub_hups {
    int fd[HUB_HUP_MAX];
    unsigned n; /* sorted */
};

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static void hub_hups_take(int ep, struct hub_hups *hu)
{
    struct epoll_event ev[HUB_HUP_MAX];
    int n = ep >= 0 ? epoll_wait(ep, ev, HUB_HUP_MAX, 0) : 0;
    hu->n = 0;
    for (int i = 0; i < n; i++)
        hu->fd[hu->n++] = ev[i].data.fd;
    qsort(hu->fd, hu->n, sizeof hu->fd[0], cmp_int);
}

static bool hub_hups_has(const struct hub_hups *hu, int fd)
{
    return hu->n > 0 && bsearch(&fd, hu->fd, hu->n, sizeof fd, cmp_int) != NULL;
}

/* The hub's second sender. A pass over thousands of watches is a send
 * per watch, and a send on loopback costs the kernel's TCP work of both
 * ends (7.5 us here): 5,000 watches took one core 37 ms per event, and
 * the last watch waited all of it. A pass with news for at least
 * HUB_SPLIT_MIN watches is cut in two; the helper serves one half, with
 * its own read transaction and shared chunks, while the hub serves the
 * other. */
#define HUB_SPLIT_MIN 1024

struct hub_helper {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct watch *list; /* handed over for one pass; NULL when none is */
    struct watch *keep; /* after the pass: what it did not resume */
    uint64_t now;
    const struct hub_hups *hups;
    bool done, stop;
    pthread_t thread;
};

struct watch_hub {
    struct server *srv;
    pthread_mutex_t mu;
    struct watch *head; /* parked watches */
    unsigned parked;
    bool stopped;
    /* With nothing parked the hub sleeps on `idle` (monotonic clock), not on
     * the store's revision: a server nobody watches then skips a wake-up
     * and a pass per applied entry (1.8 us a create on the followers of a
     * writes benchmark). The first watch parked, or the stop, signals it. */
    pthread_cond_t idle;
    pthread_t thread;
    struct hub_helper helper;
    int ep; /* the parked watches' sockets, for hang-ups (-1: none, look periodically) */
};

static void hub_unlink(struct watch_hub *h, struct watch *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        h->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->parked = false;
    h->parked--;
}

/* Whether a change to w's resource came after what w has considered: a
 * watch of pods does not wake for Lease renewals or Events. A watch that
 * does not wake is moved past the other changes by the hub's passes
 * (hub_serve), long before the change log could forget them. */
static bool hub_news(const struct watch *w)
{
    return __atomic_load_n(w->res_rev, __ATOMIC_ACQUIRE) > w->rev;
}

/* Whether a pass reading at rev (have_r: it could read) has events for w. */
static bool hub_has_events(const struct watch *w, bool have_r, uint64_t rev)
{
    return have_r && !w->ended && rev > w->rev && hub_news(w);
}

/* Puts a parked watch at the head of the hub's list (under its lock). */
static void hub_push(struct watch_hub *h, struct watch *w)
{
    w->prev = NULL;
    w->next = h->head;
    if (h->head)
        h->head->prev = w;
    h->head = w;
    if (h->parked++ == 0)
        pthread_cond_signal(&h->idle);
}

/* Puts w's socket in the hub's epoll set (see struct hub_hups) the first
 * time it is about to park; from then on the hub, not a periodic look,
 * notices its client hanging up. The socket leaves the set when it is
 * closed. */
static void hub_watch_socket(struct watch_hub *h, struct watch *w)
{
    if (w->in_ep || h->ep < 0 || w->fd < 0)
        return;
    struct epoll_event ev = {.events = EPOLLRDHUP, .data.fd = w->fd};
    /* EEXIST: a keep-alive connection whose earlier watch put it there. */
    if (epoll_ctl(h->ep, EPOLL_CTL_ADD, w->fd, &ev) == 0 || errno == EEXIST)
        w->in_ep = true;
}

/* Called on the event loop right after the connection was suspended. The
 * revision is read again under the hub's lock: either it is news, and the
 * watch is resumed at once, or the hub's next pass, which a later revision
 * wakes (store_wait_revision_above), sees the watch parked. */
static void hub_park(struct watch_hub *h, struct watch *w)
{
    pthread_mutex_lock(&h->mu);
    if (h->stopped || (store_revision(w->srv->store) > w->rev && hub_news(w))) {
        pthread_mutex_unlock(&h->mu);
        MHD_resume_connection(w->conn);
        return;
    }
    assert(!w->parked);
    w->parked = true;
    hub_push(h, w);
    pthread_mutex_unlock(&h->mu);
}

/* ---- delivery by the hub ----
 *
 * A parked watch's new events are sent by the hub itself, on the socket,
 * without resuming the connection: resuming cost a write to libmicrohttpd's
 * wake-up eventfd per watch, a pass of its event loop, a call of the reader
 * with its own read transaction, and suspending again; at 4,000 watchers
 * the eventfd writes alone were as many system calls as the sends. This is
 * sound because libmicrohttpd calls the reader only once everything before
 * has been sent (it asserts an empty write buffer), so a suspended stream
 * stands between two chunks and takes whole chunks written by someone else;
 * and it does not touch a suspended connection. The hub keeps to whole
 * chunks: what the socket does not take at once waits in w->raw and goes
 * out on later passes, before anything else, and the connection is resumed
 * only once w->raw is empty. A client that reads nothing while
 * WATCH_RAW_MAX bytes pile up is cut off, as Kubernetes closes watchers too
 * slow for their buffers. */

#define WATCH_RAW_MAX (4u << 20)

/* Sends len bytes of data as far as the socket takes them at once: how
 * many, or -1 if the client is gone. */
static ssize_t send_some(int fd, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return -1;
        sent += (size_t)n;
    }
    return (ssize_t)sent;
}

/* Sends what w->raw holds (empty: raw.len 0); false if the client is gone
 * or too slow. */
static bool raw_flush(struct watch *w)
{
    ssize_t n = send_some(w->fd, w->raw.data + w->raw_off, w->raw.len - w->raw_off);
    if (n < 0)
        return false;
    w->raw_off += (size_t)n;
    if (w->raw_off < w->raw.len)
        return w->raw.len - w->raw_off <= WATCH_RAW_MAX;
    w->raw.len = w->raw_off = 0;
    return true;
}

/* Sends bytes behind whatever w->raw holds: on the socket at once when
 * nothing waits, the rest (the socket's buffer full) kept in w->raw. */
static bool raw_send(struct watch *w, const char *data, size_t len)
{
    if (w->raw.len > 0) {
        ubuf_append(&w->raw, data, len);
        return raw_flush(w);
    }
    ssize_t n = send_some(w->fd, data, len);
    if (n < 0)
        return false;
    ubuf_append(&w->raw, data + n, len - (size_t)n);
    return w->raw.len <= WATCH_RAW_MAX;
}

/* Moves src into dst as one HTTP chunk. */
static void chunk_append(struct ubuf *dst, struct ubuf *src)
{
    ubuf_appendf(dst, "%zx\r\n", src->len);
    ubuf_append(dst, src->data, src->len);
    ubuf_append(dst, "\r\n", 2);
    src->len = 0;
}

/* w->out as one chunk behind w->raw, then sent as far as the socket takes. */
static bool raw_send_out(struct watch *w)
{
    if (w->out.len > 0) {
        chunk_append(&w->raw, &w->out);
        w->off = 0;
        w->last_sent_ms = util_now_ms();
    }
    return raw_flush(w);
}

/* One pass's shared chunks: the events after revision `from` of a
 * resource in a namespace (all namespaces: ""), for every plain watch (no
 * selector, JSON) that stands at `from`; with thousands of watches on one
 * resource, one fill and one rendering serve them all, and each watch
 * costs a send. */
#define FAN_SLOTS 16

struct fan {
    const struct resource *res;
    char ns[256];
    uint64_t from, to;
    bool ended;     /* the events are a 410 */
    struct ubuf chunk;
};

struct fanout {
    struct fan f[FAN_SLOTS];
    unsigned n;
};

static bool watch_plain(const struct watch *w)
{
    return !w->rd.table && filter_is_empty(w->f);
}

static struct fan *fan_find(struct fanout *fo, const struct watch *w)
{
    for (unsigned i = 0; i < fo->n; i++) {
        struct fan *f = &fo->f[i];
        if (f->res == w->res && f->from == w->rev && strcmp(f->ns, w->ns) == 0)
            return f;
    }
    return NULL;
}

/* w's news as the pass's shared chunk (made from w if it is the first at
 * its revision); false on a store error. */
static bool fan_serve(struct fanout *fo, struct watch *w, struct store_read *r)
{
    struct fan *f = fan_find(fo, w);
    if (!f && fo->n < FAN_SLOTS) {
        f = &fo->f[fo->n];
        *f = (struct fan){.res = w->res, .from = w->rev};
        snprintf(f->ns, sizeof f->ns, "%s", w->ns);
        if (!fill_from(w, r))
            return false;
        fo->n++;
        f->to = w->rev;
        f->ended = w->ended;
        if (w->out.len > 0) {
            chunk_append(&f->chunk, &w->out);
            w->off = 0;
        }
    } else if (!f) { /* every slot taken: on its own */
        return fill_from(w, r) && raw_send_out(w);
    } else {
        w->rev = f->to;
        w->ended = f->ended;
    }
    if (f->chunk.len == 0)
        return true;
    w->last_sent_ms = util_now_ms();
    return raw_send(w, f->chunk.data, f->chunk.len);
}

static void fanout_free(struct fanout *fo)
{
    for (unsigned i = 0; i < fo->n; i++)
        ubuf_free(&fo->f[i].chunk);
    fo->n = 0;
}

/* One parked watch, on a pass of the hub: its news sent; true if it must
 * be resumed (due, ended, or broken: the reader then ends the stream). */
static bool hub_serve(struct watch *w, struct fanout *fo, struct store_read *r, bool have_r,
                      uint64_t rev, uint64_t now, const struct hub_hups *hups)
{
    bool ok = true;
    if (hub_hups_has(hups, w->fd)) {
        w->hup = true;
        return true;
    }
    if (hub_has_events(w, have_r, rev)) {
        if (watch_plain(w))
            ok = fan_serve(fo, w, r);
        else
            ok = fill_from(w, r) && raw_send_out(w);
    } else {
        /* No change to its resource in (w->rev, rev]: its resource's slot
         * is set before a revision is published, and rev was published
         * before this look. So w stands at rev, and never falls behind the
         * change log while other resources churn (that would be a 410 at
         * its next event). */
        if (have_r && !w->ended && rev > w->rev)
            w->rev = rev;
        if (w->raw.len > 0)
            ok = raw_flush(w);
    }
    if (!ok) {
        /* Whatever a half-sent chunk left, the stream is over: the reader
         * sees the closed socket's error, libmicrohttpd closes it. */
        shutdown(w->fd, SHUT_RDWR);
        w->raw.len = w->raw_off = 0;
        w->ended = true;
        return true;
    }
    if (w->raw.len > 0)
        return false; /* not before its chunks are out */
    /* A burst longer than one batch (WATCH_BATCH changes) is the reader's
     * to catch up with, in its loop. */
    return w->ended || now >= w->due_ms || (rev > w->rev && hub_news(w));
}

/* The parked watches, taken out of the hub for one pass (*n of them): the
 * sends happen without the hub's lock, so the event loops parking other
 * watches meanwhile do not wait for thousands of sends; what they park
 * waits for the next pass. */
static struct watch *hub_claim(struct watch_hub *h, unsigned *n)
{
    struct watch *list = h->head;
    *n = h->parked;
    h->head = NULL;
    h->parked = 0;
    return list;
}

/* A watch out of the hub's list, resumed: the reader takes it from here. A
 * chunk of ours half sent leaves the stream broken, so it ends it. */
static void hub_resume(struct watch *w)
{
    if (w->raw.len > 0)
        shutdown(w->fd, SHUT_RDWR);
    w->parked = false;
    w->prev = w->next = NULL;
    MHD_resume_connection(w->conn);
}

/* Back into the hub, after a pass: what was not resumed. Resumed all if
 * the hub stopped meanwhile. */
static void hub_return(struct watch_hub *h, struct watch *list)
{
    while (list) {
        struct watch *w = list;
        list = w->next;
        if (h->stopped)
            hub_resume(w);
        else
            hub_push(h, w);
    }
}

/* Cuts list (n watches from here) after its first half; hands the second
 * half to the helper. */
static void helper_give(struct hub_helper *hp, struct watch *list, unsigned n, uint64_t now,
                        const struct hub_hups *hups)
{
    struct watch *w = list;
    for (unsigned i = 1; i < n / 2; i++)
        w = w->next;
    struct watch *second = w->next;
    assert(second); /* n >= HUB_SPLIT_MIN counted the list (h->parked) */
    w->next = NULL;
    pthread_mutex_lock(&hp->mu);
    assert(!hp->list && !hp->done);
    hp->list = second;
    hp->now = now;
    hp->hups = hups;
    pthread_cond_broadcast(&hp->cond);
    pthread_mutex_unlock(&hp->mu);
}

/* Waits for the helper's half; what it kept, added to keep. */
static struct watch *helper_take(struct hub_helper *hp, struct watch *keep)
{
    pthread_mutex_lock(&hp->mu);
    while (!hp->done)
        pthread_cond_wait(&hp->cond, &hp->mu);
    struct watch *more = hp->keep;
    hp->keep = NULL;
    hp->done = false;
    pthread_mutex_unlock(&hp->mu);
    while (more) {
        struct watch *w = more;
        more = w->next;
        w->next = keep;
        keep = w;
    }
    return keep;
}

/* One pass over list (n watches, linked by next) at now, reading from r
 * (have_r: it could be begun): each watch's news sent, the due ones
 * resumed. With hp, the first watch that has news and at least
 * HUB_SPLIT_MIN watches from it on hands the second half of those to the
 * helper (a pass with nothing to send, most of them, wakes no one):
 * *given says so. Returns what stays parked (linked by next). */
static struct watch *hub_pass(struct store *st, struct store_read *r, bool have_r,
                              struct watch *list, unsigned n, struct hub_helper *hp, uint64_t now,
                              const struct hub_hups *hups, bool *given)
{
    uint64_t rev = have_r ? r->revision : store_revision(st);
    struct watch *keep = NULL, *next;
    struct fanout fo = {.n = 0};
    unsigned left = n;
    for (struct watch *w = list; w; w = next) {
        if (hp && !*given && left >= HUB_SPLIT_MIN && hub_has_events(w, have_r, rev)) {
            helper_give(hp, w, left, now, hups);
            *given = true;
        }
        next = w->next;
        left--;
        if (hub_serve(w, &fo, r, have_r, rev, now, hups)) {
            hub_resume(w);
        } else {
            w->next = keep;
            keep = w;
        }
    }
    fanout_free(&fo);
    return keep;
}

static void *helper_main(void *arg)
{
    struct watch_hub *h = arg;
    struct hub_helper *hp = &h->helper;
    pthread_mutex_lock(&hp->mu);
    for (;;) {
        while (!hp->list && !hp->stop)
            pthread_cond_wait(&hp->cond, &hp->mu);
        if (hp->stop)
            break;
        struct watch *list = hp->list;
        uint64_t now = hp->now;
        const struct hub_hups *hups = hp->hups;
        pthread_mutex_unlock(&hp->mu);
        struct store_read r;
        bool have_r = store_read_begin(h->srv->store, &r) == 0;
        bool given = false;
        struct watch *keep =
            hub_pass(h->srv->store, &r, have_r, list, 0, NULL, now, hups, &given);
        if (have_r)
            store_read_end(&r);
        pthread_mutex_lock(&hp->mu);
        hp->list = NULL;
        hp->keep = keep;
        hp->done = true;
        pthread_cond_broadcast(&hp->cond);
    }
    pthread_mutex_unlock(&hp->mu);
    return NULL;
}

/* Until there may be something to do: a revision above seen for the
 * parked watches, a first watch parked, the stop, or HUB_TICK_MS (for
 * bookmarks and timeouts). A watch parked while the hub checks is seen by
 * the pass that follows either way. */
static void hub_wait(struct watch_hub *h, struct store *st, uint64_t seen)
{
    pthread_mutex_lock(&h->mu);
    bool idle = h->parked == 0 && !h->stopped;
    if (idle) {
        struct timespec until;
        util_deadline(&until, HUB_TICK_MS);
        pthread_cond_timedwait(&h->idle, &h->mu, &until);
    }
    pthread_mutex_unlock(&h->mu);
    if (!idle)
        store_wait_revision_above(st, seen, HUB_TICK_MS);
}

static void *hub_main(void *arg)
{
    struct watch_hub *h = arg;
    struct store *st = h->srv->store;
    uint64_t seen = store_revision(st);
    for (;;) {
        hub_wait(h, st, seen);
        uint64_t now = util_now_ms();
        struct store_read r;
        bool have_r = store_read_begin(st, &r) == 0;
        uint64_t rev = have_r ? r.revision : store_revision(st);
        unsigned n = 0;
        pthread_mutex_lock(&h->mu);
        bool stopped = h->stopped;
        struct watch *list = stopped ? NULL : hub_claim(h, &n);
        pthread_mutex_unlock(&h->mu);
        if (stopped) {
            if (have_r)
                store_read_end(&r);
            break;
        }
        struct hub_hups hups;
        hub_hups_take(h->ep, &hups);
        bool given = false;
        struct watch *keep = hub_pass(st, &r, have_r, list, n, &h->helper, now, &hups, &given);
        if (have_r)
            store_read_end(&r);
        if (given)
            keep = helper_take(&h->helper, keep);
        pthread_mutex_lock(&h->mu);
        hub_return(h, keep);
        pthread_mutex_unlock(&h->mu);
        seen = rev;
    }
    return NULL;
}

struct watch_hub *watch_hub_new(struct server *s)
{
    struct watch_hub *h = xcalloc(1, sizeof *h);
    h->srv = s;
    h->ep = epoll_create1(EPOLL_CLOEXEC); /* -1: watches look once a second instead */
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->idle, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&h->helper.mu, NULL);
    pthread_cond_init(&h->helper.cond, NULL);
    if (pthread_create(&h->helper.thread, NULL, helper_main, h) != 0 ||
        pthread_create(&h->thread, NULL, hub_main, h) != 0) {
        LOG_ERROR("cannot start the watch hub thread");
        abort(); /* as for out-of-memory: nothing can run without it */
    }
    pthread_setname_np(h->helper.thread, "watch-helper");
    pthread_setname_np(h->thread, "watch-hub");
    return h;
}

void watch_hub_stop(struct watch_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    bool was = h->stopped;
    h->stopped = true;
    pthread_cond_signal(&h->idle);
    while (h->head) {
        struct watch *w = h->head;
        hub_unlink(h, w);
        hub_resume(w);
    }
    pthread_mutex_unlock(&h->mu);
    if (!was) {
        store_wake_all(h->srv->store);
        pthread_join(h->thread, NULL);
        /* The hub is gone: no pass of the helper's is under way. */
        pthread_mutex_lock(&h->helper.mu);
        h->helper.stop = true;
        pthread_cond_broadcast(&h->helper.cond);
        pthread_mutex_unlock(&h->helper.mu);
        pthread_join(h->helper.thread, NULL);
    }
}

void watch_hub_free(struct watch_hub *h)
{
    if (!h)
        return;
    watch_hub_stop(h);
    assert(h->parked == 0);
    pthread_mutex_destroy(&h->helper.mu);
    pthread_cond_destroy(&h->helper.cond);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->idle);
    if (h->ep >= 0)
        close(h->ep);
    free(h);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* libmicrohttpd asks for the next bytes of the stream (on an event loop). */
static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct watch *w = cls;
    struct server *srv = w->srv;
    while (w->off >= w->out.len) {
        w->out.len = w->off = 0;
        if (w->ended || srv->stopping)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (w->synthetic || store_revision(srv->store) > w->rev) {
            if (!fill(w)) /* a store error: the client watches again from
                           * its last revision (see below on the end) */
                return MHD_CONTENT_READER_END_OF_STREAM;
            if (w->out.len)
                break;
            if (store_revision(srv->store) > w->rev)
                continue; /* a batch of changes none of which matched */
        }
        uint64_t now = util_now_ms();
        if (now >= w->deadline_ms)
            return MHD_CONTENT_READER_END_OF_STREAM;
        uint64_t bookmark_ms = UINT64_MAX;
        if (w->bookmarks) {
            bookmark_ms = w->last_sent_ms + (uint64_t)srv->cfg.bookmark_interval_ms;
            if (now >= bookmark_ms) {
                emit_bookmark(w);
                break;
            }
        }
        if (w->hup || (!w->in_ep && now >= w->check_ms)) {
            /* Not END_WITH_ERROR: libmicrohttpd 0.9.75 closes a
             * connection whose reader fails without freeing it, which
             * only its timeout scan does later, and that scan stops at
             * the oldest live connection (an idle keep-alive client holds
             * up every closed watch behind it for an hour: a socket leak
             * per hung-up watch). An ended stream goes on to write its
             * last chunk, which fails on the closed socket, and that
             * close frees the connection at once. */
            if (util_peer_gone(w->fd))
                return MHD_CONTENT_READER_END_OF_STREAM;
            w->hup = false;
            w->check_ms = now + WATCH_CHECK_MS;
        }
        hub_watch_socket(srv->hub, w);
        w->due_ms = min_u64(min_u64(w->deadline_ms, bookmark_ms),
                            w->in_ep ? UINT64_MAX : w->check_ms);
        MHD_suspend_connection(w->conn);
        hub_park(srv->hub, w);
        return 0;
    }
    size_t n = w->out.len - w->off;
    if (n > max)
        n = max;
    memcpy(buf, w->out.data + w->off, n);
    w->off += n;
    w->last_sent_ms = util_now_ms();
    return (ssize_t)n;
}

static void watch_free(void *cls)
{
    struct watch *w = cls;
    filter_free(w->f);
    ubuf_free(&w->out);
    ubuf_free(&w->raw);
    free(w);
}

enum MHD_Result watch_start(struct request *rq, const struct api_target *t)
{
    struct watch *w = xcalloc(1, sizeof *w);
    w->srv = rq->srv;
    w->res = t->res;
    if (t->res->namespaced)
        snprintf(w->ns, sizeof w->ns, "%s", t->ns);
    w->res_rev = store_resource_revision(rq->srv->store, t->res->plural);
    char err[512] = "";
    w->f = filter_parse(t->res, request_arg(rq, "labelSelector"),
                        request_arg(rq, "fieldSelector"), err, sizeof err);
    if (!w->f) {
        free(w);
        return reply_status(rq, 400, "BadRequest", "%s", err);
    }
    render_init(&w->rd, rq, t->res);
    const char *rv = request_arg(rq, "resourceVersion");
    if (!rv || !*rv || strcmp(rv, "0") == 0) {
        w->synthetic = true;
    } else {
        char *end;
        w->rev = strtoull(rv, &end, 10);
        if (*end || rv[0] == '-') {
            filter_free(w->f);
            free(w);
            return reply_status(rq, 400, "BadRequest", "invalid resourceVersion \"%s\"", rv);
        }
    }
    const char *b = request_arg(rq, "allowWatchBookmarks");
    w->bookmarks = b && strcmp(b, "true") == 0;
    const char *to = request_arg(rq, "timeoutSeconds");
    long secs = to ? strtol(to, NULL, 10) : WATCH_DEFAULT_TIMEOUT_S;
    if (secs <= 0)
        secs = WATCH_DEFAULT_TIMEOUT_S;
    w->deadline_ms = util_now_ms() + (uint64_t)secs * 1000;
    w->last_sent_ms = util_now_ms();
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    w->fd = ci ? ci->connect_fd : -1;
    w->conn = rq->conn;
    w->check_ms = util_now_ms() + WATCH_CHECK_MS;

    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, reader, w, watch_free);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-cache, private");
    enum MHD_Result ret = MHD_queue_response(rq->conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

struct watch_cache *watch_cache_new(void)
{
    struct watch_cache *wc = xcalloc(1, sizeof *wc);
    pthread_mutex_init(&wc->mu, NULL);
    return wc;
}

void watch_cache_free(struct watch_cache *wc)
{
    if (!wc)
        return;
    for (unsigned i = 0; i < WATCH_CACHE_SLOTS; i++)
        free(wc->slot[i].json);
    pthread_mutex_destroy(&wc->mu);
    free(wc);
}
