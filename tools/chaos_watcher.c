/* chaos_watcher.c — the watchers of `bosun chaos`: on every server, a
 * thread keeps a watch on the workload's ConfigMaps open on that server
 * alone, and writes each line it gets to DIR/watch.jsonl (the format is at
 * the top of chaos_history.c; chaos_watch.c checks it).
 *
 * A watcher's life, in streams:
 *  - First, and after a 410, a LIST of namespace chaos gives its objects
 *    and the revision R; the watch opens from R ("open":"list", with the
 *    objects).
 *  - Whenever a stream ends, it is closed ("close": eof when the server
 *    ended it at its timeoutSeconds, drawn per stream from the seed, 2-6 s,
 *    so that streams are resumed often; broken when the connection failed,
 *    as when the server is killed; silent after 5 s without a byte, as when
 *    it is paused) and reopened on the same server from the last revision
 *    it delivered, event or bookmark ("open":"resume"), every 200 ms until
 *    the server answers.
 *  - 410 Expired on a resume (an ERROR event with code 410, or the HTTP
 *    status) is written ("expired", with the servers' --watch-history, so
 *    the checker can tell whether the log had really dropped that
 *    revision); a new LIST follows.
 * Bookmarks are asked for (the runner's servers send one each second when
 * idle), so a quiet stream still says how far it has seen: at the end
 * chaos_watchers_settle waits until every watcher has seen its server's
 * revision of that moment, so that the streams cover the whole run.
 * Events are decoded with jansson (a few hundred a second at most); a
 * line's t is chaos_now_ns() when its bytes were read. Lines go to the file
 * whole, under one mutex. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "httpc/httpc.h"
#include "tools/chaos_internal.h"
#include "tools/tools.h"

#define WT_PATH "/api/v1/namespaces/" CHAOS_NAMESPACE "/configmaps"

enum {
    WT_OPEN_MS = 3000,
    WT_LIST_MS = 3000,
    WT_STATUS_MS = 2000,
    WT_POLL_MS = 200,
    WT_SILENT_MS = 5000,
    WT_RETRY_MS = 200,
    WT_READ = 64 * 1024,
    WT_TIMEOUT_MIN_S = 2,
    WT_TIMEOUT_SPAN_S = 5,
};

/* How a stream ended. */
enum wt_end { WT_GO_ON = -1, WT_EOF, WT_BROKEN, WT_SILENT, WT_STOP, WT_EXPIRED, WT_ERROR };
static const char *const wt_end_names[] = {"eof", "broken", "silent", "stop", "expired", "error"};

struct wt_watcher {
    struct chaos_watchers *ws;
    char api[48], id[16];
    pthread_t thread;
    bool started;
    struct chaos_rng rng;
    atomic_ullong seen; /* the last revision delivered or listed; 0 none */
    atomic_bool ready;  /* a stream has been open */
    uint64_t rv;        /* the thread's: where to resume from; 0 to list first */
    struct ubuf pending; /* the thread's: a line not read whole yet */
    char *chunk;
    int code; /* the code of the ERROR event that ended the stream */
};

struct chaos_watchers {
    int n;
    struct wt_watcher w[CHAOS_MAX_SERVERS];
    long history; /* the servers' --watch-history */
    atomic_bool stop;
    pthread_mutex_t mu; /* f and failed */
    FILE *f;
    bool failed;
};

/* ---------------------------------------------------------------- lines */

static json_t *wt_line(const struct wt_watcher *w, int64_t t)
{
    return json_pack("{s:s, s:I}", "server", w->id, "t", (json_int_t)t);
}

static json_t *wt_rv(uint64_t rv)
{
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, rv);
    return json_string(s);
}

static void wt_emit(struct wt_watcher *w, json_t *line)
{
    char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    pthread_mutex_lock(&w->ws->mu);
    if (!s || fprintf(w->ws->f, "%s\n", s) < 0)
        w->ws->failed = true;
    pthread_mutex_unlock(&w->ws->mu);
    free(s);
}

static void wt_delivered(struct wt_watcher *w, uint64_t rv)
{
    w->rv = rv;
    atomic_store(&w->seen, rv);
}

/* An object's "namespace/name", resourceVersion and data.v (NULL if
 * none); -1 if it lacks a name or a revision. */
static int wt_object(const json_t *obj, char *key, size_t keylen, uint64_t *rv, const char **v)
{
    const json_t *md = json_object_get(obj, "metadata");
    const char *ns = json_string_value(json_object_get(md, "namespace"));
    const char *name = json_string_value(json_object_get(md, "name"));
    const char *rvs = json_string_value(json_object_get(md, "resourceVersion"));
    *v = json_string_value(json_object_get(json_object_get(obj, "data"), "v"));
    *rv = rvs ? strtoull(rvs, NULL, 10) : 0;
    snprintf(key, keylen, "%s/%s", ns ? ns : CHAOS_NAMESPACE, name ? name : "");
    return name && *rv ? 0 : -1;
}

/* ---------------------------------------------------------------- requests */

/* A LIST of the namespace: its objects as {key: {value, rv}}, and its
 * revision in *rv; NULL if it failed. */
static json_t *wt_list(const struct wt_watcher *w, uint64_t *rv)
{
    json_t *list = bench_get_json(w->api, WT_PATH, WT_LIST_MS);
    const char *lrv = json_string_value(
        json_object_get(json_object_get(list, "metadata"), "resourceVersion"));
    json_t *items = json_object_get(list, "items"), *out = NULL, *it;
    *rv = lrv ? strtoull(lrv, NULL, 10) : 0;
    if (*rv > 0 && json_is_array(items)) {
        out = json_object();
        size_t i;
        json_array_foreach(items, i, it)
        {
            char key[320];
            uint64_t orv;
            const char *v;
            if (wt_object(it, key, sizeof key, &orv, &v) != 0)
                continue;
            json_t *e = json_pack("{s:o}", "rv", wt_rv(orv));
            if (v)
                json_object_set_new(e, "value", json_string(v));
            json_object_set_new(out, key, e);
        }
    }
    json_decref(list);
    return out;
}

/* Opens the watch from rv: the HTTP status (0 without an answer), and on
 * 200 the stream in *out. */
static int wt_open(struct wt_watcher *w, uint64_t rv, struct httpc **out)
{
    char path[256];
    int timeout = WT_TIMEOUT_MIN_S + (int)chaos_rng_below(&w->rng, WT_TIMEOUT_SPAN_S);
    snprintf(path, sizeof path,
             WT_PATH "?watch=true&resourceVersion=%" PRIu64 "&allowWatchBookmarks=true"
                     "&timeoutSeconds=%d",
             rv, timeout);
    int status;
    *out = chaos_stream_open(w->api, path, WT_OPEN_MS, &status);
    return status;
}

struct httpc *chaos_stream_open(const char *api, const char *path, int timeout_ms, int *status)
{
    struct httpc *h = httpc_new(api);
    const char *const headers[] = {"Accept: application/json", NULL};
    struct httpc_response resp = {0};
    *status = 0;
    if (h && httpc_stream_open(h, "GET", path, headers, NULL, 0, timeout_ms, &resp) == 0) {
        *status = resp.status;
        httpc_response_free(&resp);
    }
    if (*status != 200) {
        httpc_free(h);
        h = NULL;
    }
    return h;
}

/* ---------------------------------------------------------------- the stream */

/* A bookmark's or an event's line (key NULL for a bookmark). */
static void wt_write_event(struct wt_watcher *w, int64_t t, const char *type, const char *key,
                           uint64_t rv, const char *v)
{
    json_t *line = wt_line(w, t);
    json_object_set_new(line, "type", json_string(type));
    if (key)
        json_object_set_new(line, "key", json_string(key));
    json_object_set_new(line, "rv", wt_rv(rv));
    if (key && v)
        json_object_set_new(line, "value", json_string(v));
    wt_emit(w, line);
    wt_delivered(w, rv);
}

/* One event: written down and its revision noted; an ERROR ends the stream
 * (its code in *code). */
static enum wt_end wt_event(struct wt_watcher *w, const char *text, size_t len, int64_t t,
                            int *code)
{
    json_t *ev = json_loadb(text, len, 0, NULL), *obj = json_object_get(ev, "object");
    const char *type = json_string_value(json_object_get(ev, "type"));
    enum wt_end end = WT_GO_ON;
    char key[320];
    uint64_t rv;
    const char *v;
    if (!type) {
        /* not an event: nothing to record */
    } else if (strcmp(type, "ERROR") == 0) {
        *code = (int)json_integer_value(json_object_get(obj, "code"));
        end = *code == 410 ? WT_EXPIRED : WT_ERROR;
    } else if (strcmp(type, "BOOKMARK") == 0) {
        const char *rvs = json_string_value(
            json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
        if (rvs && (rv = strtoull(rvs, NULL, 10)) > 0)
            wt_write_event(w, t, type, NULL, rv, NULL);
    } else if (wt_object(obj, key, sizeof key, &rv, &v) == 0) {
        wt_write_event(w, t, type, key, rv, v);
    }
    json_decref(ev);
    return end;
}

/* One line of the stream, for chaos_stream_read: 0 to go on, else how the
 * stream ends (its code in w->code). */
static int wt_line_fn(void *ctx, const char *text, size_t len, int64_t t)
{
    struct wt_watcher *w = ctx;
    enum wt_end end = wt_event(w, text, len, t, &w->code);
    return end == WT_GO_ON ? 0 : (int)end + 1;
}

/* Reads the stream until it ends; how it did. */
static enum wt_end wt_read(struct wt_watcher *w, struct httpc *h, int *code)
{
    int rc = chaos_stream_read(h, &w->pending, w->chunk, WT_READ, &w->ws->stop, WT_SILENT_MS,
                               wt_line_fn, w);
    *code = w->code;
    static const enum wt_end ends[] = {WT_EOF, WT_BROKEN, WT_SILENT, WT_STOP};
    return rc > 0 ? (enum wt_end)(rc - 1) : ends[-rc];
}

int chaos_stream_read(struct httpc *h, struct ubuf *pending, char *chunk, size_t cap,
                      const atomic_bool *stop, int silent_ms, chaos_stream_line_fn fn, void *ctx)
{
    int64_t last = chaos_now_ns();
    pending->len = 0;
    while (!atomic_load(stop)) {
        long n = httpc_stream_read(h, chunk, cap, WT_POLL_MS);
        int64_t now = chaos_now_ns();
        if (n < 0 && errno == ETIMEDOUT) {
            if (now - last > silent_ms * 1000000LL)
                return CHAOS_STREAM_SILENT;
            continue;
        }
        if (n <= 0)
            return n == 0 ? CHAOS_STREAM_EOF : CHAOS_STREAM_BROKEN;
        last = now;
        ubuf_append(pending, chunk, (size_t)n);
        size_t used = 0;
        int rc = 0;
        char *nl;
        while (rc == 0 && (nl = memchr(pending->data + used, '\n', pending->len - used))) {
            size_t len = (size_t)(nl - (pending->data + used));
            if (len > 0)
                rc = fn(ctx, pending->data + used, len, now);
            used += len + 1;
        }
        memmove(pending->data, pending->data + used, pending->len - used);
        pending->len -= used;
        if (rc != 0)
            return rc;
    }
    return CHAOS_STREAM_STOP;
}

static void wt_expired(struct wt_watcher *w, int64_t t)
{
    json_t *line = wt_line(w, t);
    json_object_set_new(line, "expired", wt_rv(w->rv));
    json_object_set_new(line, "history", json_integer(w->ws->history));
    wt_emit(w, line);
    w->rv = 0; /* list again */
}

static void wt_close(struct wt_watcher *w, enum wt_end end, int code)
{
    char why[24];
    if (end == WT_ERROR)
        snprintf(why, sizeof why, "error %d", code);
    else
        snprintf(why, sizeof why, "%s", wt_end_names[end]);
    json_t *line = wt_line(w, chaos_now_ns());
    json_object_set_new(line, "close", json_string(why));
    wt_emit(w, line);
}

static void wt_pause(void)
{
    struct timespec ts = {0, WT_RETRY_MS * 1000000L};
    nanosleep(&ts, NULL);
}

/* One stream: opened (after a list when there is nothing to resume from),
 * read to its end, closed. */
static void wt_stream(struct wt_watcher *w)
{
    uint64_t from = w->rv;
    json_t *items = from ? NULL : wt_list(w, &from);
    struct httpc *h = NULL;
    int status = from ? wt_open(w, from, &h) : 0;
    int64_t t = chaos_now_ns();
    if (status == 410 && !items) {
        wt_expired(w, t);
        return;
    }
    if (status != 200) {
        json_decref(items);
        wt_pause();
        return;
    }
    json_t *line = wt_line(w, t);
    json_object_set_new(line, "open", json_string(items ? "list" : "resume"));
    json_object_set_new(line, "rv", wt_rv(from));
    if (items)
        json_object_set_new(line, "items", items);
    wt_emit(w, line);
    wt_delivered(w, from);
    atomic_store(&w->ready, true);
    int code = 0;
    enum wt_end end = wt_read(w, h, &code);
    httpc_free(h);
    if (end == WT_EXPIRED)
        wt_expired(w, chaos_now_ns());
    else
        wt_close(w, end, code);
}

static void *wt_thread(void *arg)
{
    struct wt_watcher *w = arg;
    w->chunk = xmalloc(WT_READ);
    while (!atomic_load(&w->ws->stop))
        wt_stream(w);
    free(w->chunk);
    ubuf_free(&w->pending);
    return NULL;
}

/* ---------------------------------------------------------------- the watchers */

struct chaos_watchers *chaos_watchers_start(const struct chaos_cluster *c, const char *path,
                                            uint64_t seed, long watch_history, char *err,
                                            size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return NULL;
    }
    struct chaos_watchers *ws = xcalloc(1, sizeof *ws);
    ws->n = c->n;
    ws->f = f;
    ws->history = watch_history;
    atomic_init(&ws->stop, false);
    pthread_mutex_init(&ws->mu, NULL);
    for (int i = 0; i < c->n; i++) {
        struct wt_watcher *w = &ws->w[i];
        w->ws = ws;
        snprintf(w->api, sizeof w->api, "%s", c->servers[i].api);
        snprintf(w->id, sizeof w->id, "s%d", c->servers[i].id);
        w->rng.s = seed * 0xd1342543de82ef95ull + (uint64_t)c->servers[i].id;
        atomic_init(&w->seen, 0);
        atomic_init(&w->ready, false);
    }
    for (int i = 0; i < c->n; i++)
        ws->w[i].started = pthread_create(&ws->w[i].thread, NULL, wt_thread, &ws->w[i]) == 0;
    return ws;
}

/* Until every watcher has seen target[i] (0: nothing needed), or ms pass. */
static bool wt_wait(struct chaos_watchers *ws, const uint64_t *target, bool ready, int ms,
                    const volatile sig_atomic_t *stop)
{
    int64_t deadline = chaos_now_ns() + (int64_t)ms * 1000000;
    for (;;) {
        bool all = true;
        for (int i = 0; i < ws->n; i++) {
            const struct wt_watcher *w = &ws->w[i];
            all &= ready ? atomic_load(&w->ready) : atomic_load(&w->seen) >= target[i];
        }
        if (all || *stop || chaos_now_ns() >= deadline)
            return all;
        chaos_sleep_until(chaos_now_ns() + 50000000, stop);
    }
}

bool chaos_watchers_ready(struct chaos_watchers *ws, int ms, const volatile sig_atomic_t *stop)
{
    return wt_wait(ws, NULL, true, ms, stop);
}

bool chaos_watchers_settle(struct chaos_watchers *ws, int ms, const volatile sig_atomic_t *stop)
{
    uint64_t target[CHAOS_MAX_SERVERS] = {0};
    for (int i = 0; i < ws->n; i++) {
        json_t *st = tools_status_fetch(ws->w[i].api, WT_STATUS_MS);
        target[i] = (uint64_t)json_integer_value(json_object_get(st, "revision"));
        json_decref(st);
    }
    return wt_wait(ws, target, false, ms, stop);
}

int chaos_watchers_stop(struct chaos_watchers *ws)
{
    atomic_store(&ws->stop, true);
    for (int i = 0; i < ws->n; i++)
        if (ws->w[i].started)
            pthread_join(ws->w[i].thread, NULL);
    int rc = ws->failed ? -1 : 0;
    if (fclose(ws->f) != 0)
        rc = -1;
    pthread_mutex_destroy(&ws->mu);
    free(ws);
    return rc;
}
