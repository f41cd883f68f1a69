/* chaos_watch.c — the watch guarantees of `bosun chaos check`: on every
 * server, watch streams are ordered by revision, without gaps or
 * duplicates, and resume correctly from any revision still in the log.
 * The input is DIR/watch.jsonl (format at the top of chaos_history.c,
 * written by chaos_watcher.c) next to the history of the clients.
 *
 * How it works.
 *  1. The log, as far as it is known: every replica applies the same Raft
 *     log, so the change at a revision is one (key, type, value) on every
 *     server. Its witnesses are every event of every server's watch and
 *     every ok create (ADDED) and update (MODIFIED) of the history, whose
 *     revision the client was told. Sorted by revision, the witnesses of one
 *     revision must agree; the first is the reference (the history's, when
 *     there is one). An ok delete's revision is not known (bosun answers a
 *     delete with a Status): it is known once a watch delivered it.
 *  2. Each server's lines are walked in order. A stream starts at a
 *     revision S (a resume from S, or a LIST at S) and has delivered up to
 *     A (its last event or bookmark; S at first). An event at R must be
 *     above every revision that server delivered before, in any stream
 *     (else it is a duplicate or out of order), and every known revision
 *     in (A, R) is one it skipped — right after a resume, one the resumed
 *     stream did not start with. A bookmark at B claims every change up to
 *     B: known revisions in (A, B] it lacks were skipped too. A resume from
 *     beyond the last revision delivered would leave revisions unchecked:
 *     it is reported as well.
 *  3. Each server's stream must also tell a consistent story per key: from
 *     a LIST (every key absent but those listed), ADDED only while absent,
 *     MODIFIED and DELETED only while present. This catches a delete that
 *     every server's watch skipped, whose revision nobody knows. A skipped
 *     revision that is known is applied from the log, so one fault is
 *     reported once.
 *  4. A 410 Expired answer to a resume from N is legal only if the change
 *     log (its last H revisions, from the line) had dropped N, that is if
 *     the server's revision then exceeded N + H. A write invoked after the
 *     410 arrived got a higher revision than the server had then, so an ok
 *     write invoked later with a revision U <= N + H proves the 410 wrong.
 * Violations are put into words with what the skipped change was and who
 * was told about it; the first few are printed, all are counted. */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tools/chaos_internal.h"

enum { WATCH_SHOWN = 10, WATCH_JSON_MAX = 100 };

/* One witness of the change at a revision. */
struct wrec {
    uint64_t rv;
    enum chaos_wkind type;   /* ADDED, MODIFIED or DELETED */
    const char *key, *value; /* value NULL: none */
    int op;                  /* the history's op, or -1 */
    int server, line;        /* the watch's (server index, line index), or -1 */
};

/* What one server's watch did, for the figures. */
struct wfig {
    long long events, bookmarks, streams, expired;
    long long resumed, relisted; /* reconnects: resumed, or after a new list */
    uint64_t first, last;        /* revisions delivered */
};

/* A key's state in one server's stream. */
enum { KEY_UNKNOWN, KEY_ABSENT, KEY_PRESENT };

/* Where the least revision a server may deliver next comes from. */
enum floor_src { FLOOR_EVENT, FLOOR_BOOKMARK, FLOOR_OPEN };

/* The walk over one server's lines. */
struct wstream {
    int si;
    const struct chaos_wserver *s;
    const struct chaos_wline *opened; /* the current stream's open line */
    bool fresh;          /* no event yet since it opened */
    uint64_t at;         /* the last revision it delivered (its start at first) */
    uint64_t floor;      /* the highest revision delivered or started from, in any
                          * stream: at <= floor */
    enum floor_src src;
    unsigned char *state; /* per key: KEY_* in this server's stream */
    uint64_t *since;      /* per key: the revision of its last change of state */
};

struct wcheck {
    const struct chaos_history *h;
    const struct chaos_watch *w;
    struct wrec *recs; /* every witness, by revision, the history's first */
    size_t nrecs;
    struct wrec *log; /* the reference of each revision */
    size_t nlog;
    int64_t *late_invoke; /* ok writes with a revision, by invoke ... */
    uint64_t *late_min_rv; /* ... and the least revision from there on */
    size_t nlate;
    long long acked;      /* revisions of the log the history acknowledged */
    int violations;
    struct ubuf shown;
    json_t *json;
};

/* ---------------------------------------------------------------- the log */

static int cmp_wrec(const void *a, const void *b)
{
    const struct wrec *x = a, *y = b;
    if (x->rv != y->rv)
        return x->rv < y->rv ? -1 : 1;
    if ((x->op >= 0) != (y->op >= 0))
        return x->op >= 0 ? -1 : 1;
    if (x->server != y->server)
        return x->server < y->server ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static void push_rec(struct wcheck *c, size_t *cap, const struct wrec *r)
{
    if (c->nrecs == *cap) {
        *cap = *cap ? 2 * *cap : 1024;
        c->recs = xrealloc(c->recs, *cap * sizeof *c->recs);
    }
    c->recs[c->nrecs++] = *r;
}

static bool op_has_revision(const struct chaos_op *op)
{
    return op->result == CHAOS_OK && op->rv && (op->fn == CHAOS_CREATE || op->fn == CHAOS_UPDATE);
}

static void collect(struct wcheck *c)
{
    const struct chaos_history *h = c->h;
    const struct chaos_watch *w = c->w;
    size_t cap = 0;
    for (size_t i = 0; i < h->n; i++) {
        const struct chaos_op *op = &h->ops[i];
        if (!op_has_revision(op))
            continue;
        struct wrec r = {.rv = op->rv, .type = op->fn == CHAOS_CREATE ? CHAOS_WE_ADDED
                                                                      : CHAOS_WE_MODIFIED,
                         .key = h->keys.s[op->key], .value = h->values.s[op->value],
                         .op = (int)i, .server = -1, .line = -1};
        push_rec(c, &cap, &r);
    }
    for (int s = 0; s < w->nservers; s++)
        for (int i = 0; i < w->servers[s].n; i++) {
            const struct chaos_wline *l = &w->servers[s].lines[i];
            if (l->kind > CHAOS_WE_DELETED)
                continue;
            struct wrec r = {.rv = l->rv, .type = l->kind, .key = w->keys.s[l->key],
                             .value = l->value >= 0 ? w->values.s[l->value] : NULL, .op = -1,
                             .server = s, .line = i};
            push_rec(c, &cap, &r);
        }
    if (c->nrecs)
        qsort(c->recs, c->nrecs, sizeof *c->recs, cmp_wrec);
}

/* The ok writes with a revision by invoke, and from each the least
 * revision of it and every later one: the bound for 410s. */
static int cmp_late(const void *a, const void *b, void *ctx)
{
    const struct chaos_history *h = ctx;
    int64_t x = h->ops[*(const int *)a].invoke, y = h->ops[*(const int *)b].invoke;
    return (x > y) - (x < y);
}

static void collect_late(struct wcheck *c)
{
    const struct chaos_history *h = c->h;
    int *idx = xmalloc((h->n + 1) * sizeof *idx);
    for (size_t i = 0; i < h->n; i++)
        if (op_has_revision(&h->ops[i]))
            idx[c->nlate++] = (int)i;
    qsort_r(idx, c->nlate, sizeof *idx, cmp_late, (void *)h);
    c->late_invoke = xmalloc((c->nlate + 1) * sizeof *c->late_invoke);
    c->late_min_rv = xmalloc((c->nlate + 1) * sizeof *c->late_min_rv);
    uint64_t least = UINT64_MAX;
    for (size_t i = c->nlate; i-- > 0;) {
        const struct chaos_op *op = &h->ops[idx[i]];
        least = op->rv < least ? op->rv : least;
        c->late_invoke[i] = op->invoke;
        c->late_min_rv[i] = least;
    }
    free(idx);
}

/* The least revision an ok write invoked after t was given; 0 if none. */
static uint64_t revision_after(const struct wcheck *c, int64_t t)
{
    size_t lo = 0, hi = c->nlate;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->late_invoke[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nlate ? c->late_min_rv[lo] : 0;
}

/* The first log index whose revision is above rv. */
static size_t log_after(const struct wcheck *c, uint64_t rv)
{
    size_t lo = 0, hi = c->nlog;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->log[mid].rv <= rv)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---------------------------------------------------------------- words */

static const char *server_name(const struct wcheck *c, int s)
{
    return s >= 0 ? c->w->servers[s].id : "the history";
}

/* "update of chaos/k7 to "c3-17"" */
static void change_words(const struct wrec *r, struct ubuf *out)
{
    if (r->type == CHAOS_WE_ADDED)
        ubuf_appendf(out, "create of %s as ", r->key);
    else if (r->type == CHAOS_WE_MODIFIED)
        ubuf_appendf(out, "update of %s to ", r->key);
    else
        ubuf_appendf(out, "delete of %s, value ", r->key);
    ubuf_appendf(out, r->value ? "\"%s\"" : "%s", r->value ? r->value : "(none)");
}

/* Who was told of the change: the client its write was acknowledged to,
 * or whose write it was, or the server whose watch showed it. */
static void witness_words(const struct wcheck *c, const struct wrec *r, struct ubuf *out)
{
    const struct chaos_history *h = c->h;
    int op = r->op;
    if (op < 0 && r->type != CHAOS_WE_DELETED && r->value) {
        int v = chaos_strtab_find(&h->values, r->value);
        op = v >= 0 ? h->writer[v] : -1;
    }
    if (op >= 0 && h->ops[op].result == CHAOS_OK)
        ubuf_appendf(out, ", acknowledged to client %d", h->ops[op].client);
    else if (op >= 0)
        ubuf_appendf(out, ", written by client %d (%s)", h->ops[op].client,
                     chaos_result_name(h->ops[op].result));
    if (r->server >= 0)
        ubuf_appendf(out, "%s seen by %s", op >= 0 ? ";" : ",", server_name(c, r->server));
}

static void revision_words(const struct wcheck *c, const struct wrec *r, struct ubuf *out)
{
    ubuf_appendf(out, "revision %" PRIu64 " (", r->rv);
    change_words(r, out);
    witness_words(c, r, out);
    ubuf_appendf(out, ")");
}

static void violation(struct wcheck *c, const char *kind, int server, uint64_t rv,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void violation(struct wcheck *c, const char *kind, int server, uint64_t rv,
                      const char *fmt, ...)
{
    char why[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (c->violations < WATCH_SHOWN)
        ubuf_appendf(&c->shown, "  %s\n", why);
    if (c->violations < WATCH_JSON_MAX)
        json_array_append_new(c->json, json_pack("{s:s, s:s, s:I, s:s}", "kind", kind, "server",
                                                 server_name(c, server), "rv", (json_int_t)rv,
                                                 "why", why));
    c->violations++;
}

/* A revision's words as a C string (for violation's format). */
static char *revision_str(const struct wcheck *c, const struct wrec *r)
{
    struct ubuf b = {0};
    revision_words(c, r, &b);
    ubuf_append(&b, "", 1);
    return b.data;
}

/* ---------------------------------------------------------------- agreement */

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_change(const struct wrec *a, const struct wrec *b)
{
    return a->type == b->type && strcmp(a->key, b->key) == 0 && same_str(a->value, b->value);
}

/* The witnesses of each revision must agree; the reference of each goes to
 * the log. */
static void agree(struct wcheck *c)
{
    c->log = xmalloc((c->nrecs + 1) * sizeof *c->log);
    for (size_t i = 0; i < c->nrecs;) {
        const struct wrec *ref = &c->recs[i];
        c->log[c->nlog++] = *ref;
        c->acked += ref->op >= 0 && c->h->ops[ref->op].result == CHAOS_OK;
        size_t j = i + 1;
        for (; j < c->nrecs && c->recs[j].rv == ref->rv; j++) {
            const struct wrec *x = &c->recs[j];
            if (same_change(ref, x))
                continue;
            char *a = revision_str(c, ref), *b = revision_str(c, x);
            if (x->server >= 0)
                violation(c, "divergence", x->server, x->rv,
                          "%s's watch disagrees on %s: it delivered %s", server_name(c, x->server),
                          a, b);
            else
                violation(c, "divergence", -1, x->rv,
                          "two acknowledged writes were given one revision: %s and %s", a, b);
            free(a);
            free(b);
        }
        i = j;
    }
}

/* ---------------------------------------------------------------- one server */

/* Applies the log's change at r to the key states (a skipped revision is
 * reported once, not again by the states it leaves wrong). */
static void apply_known(const struct wcheck *c, struct wstream *st, const struct wrec *r)
{
    int k = chaos_strtab_find(&c->w->keys, r->key);
    if (k < 0)
        return;
    st->state[k] = r->type == CHAOS_WE_DELETED ? KEY_ABSENT : KEY_PRESENT;
    st->since[k] = r->rv;
}

/* The known revisions in (from, to) — (from, to] when through — that the
 * stream did not deliver: one violation for the lot. */
static void skipped(struct wcheck *c, struct wstream *st, uint64_t to, bool through,
                    const char *what)
{
    uint64_t from = st->at;
    size_t lo = log_after(c, from), hi = log_after(c, through ? to : to - 1);
    if (lo >= hi)
        return;
    char *first = revision_str(c, &c->log[lo]);
    char more[64] = "";
    if (hi - lo > 1)
        snprintf(more, sizeof more, " and %zu more", hi - lo - 1);
    const char *id = st->s->id;
    if (st->fresh && !through)
        violation(c, "gap", st->si, c->log[lo].rv,
                  "%s's watch %s from %" PRIu64 " but its first event was revision %" PRIu64
                  ": it skipped %s%s",
                  id, st->opened->kind == CHAOS_WE_RESUME ? "resumed" : "opened after a list",
                  from, to, first, more);
    else
        violation(c, "gap", st->si, c->log[lo].rv,
                  "%s's watch skipped %s%s between %" PRIu64 " and %s%" PRIu64, id, first, more,
                  from, what, to);
    free(first);
    for (size_t i = lo; i < hi; i++)
        apply_known(c, st, &c->log[i]);
}

/* ADDED only while absent, MODIFIED and DELETED only while present. */
static void lifecycle(struct wcheck *c, struct wstream *st, const struct chaos_wline *l)
{
    unsigned char *s = &st->state[l->key];
    const char *key = c->w->keys.s[l->key];
    bool added = l->kind == CHAOS_WE_ADDED;
    if (*s != KEY_UNKNOWN && (*s == KEY_PRESENT) == added)
        violation(c, "lifecycle", st->si, l->rv,
                  "%s's watch sent %s of %s at revision %" PRIu64 " while %s %s in its stream "
                  "(since revision %" PRIu64 "): %s is missing",
                  st->s->id, chaos_wkind_name(l->kind), key, l->rv, key,
                  added ? "existed" : "did not exist", st->since[l->key],
                  added ? "a DELETED" : "an ADDED");
    *s = l->kind == CHAOS_WE_DELETED ? KEY_ABSENT : KEY_PRESENT;
    st->since[l->key] = l->rv;
}

static const char *const floor_words[] = {"revision", "its bookmark at", "starting from"};

/* Whether l comes after everything the server delivered or started from
 * (a bookmark may repeat it); if not, why. */
static bool in_order(struct wcheck *c, struct wstream *st, const struct chaos_wline *l)
{
    bool bookmark = l->kind == CHAOS_WE_BOOKMARK;
    if (l->rv > st->floor || (bookmark && l->rv == st->floor))
        return true;
    const char *id = st->s->id, *after = floor_words[st->src];
    if (bookmark) {
        violation(c, "order", st->si, l->rv,
                  "%s's watch sent a bookmark at %" PRIu64 " after %s %" PRIu64
                  " (bookmarks may not go back)", id, l->rv, after, st->floor);
        return false;
    }
    size_t i = log_after(c, l->rv - 1);
    struct wrec own = {.rv = l->rv, .type = l->kind, .key = c->w->keys.s[l->key],
                       .value = l->value >= 0 ? c->w->values.s[l->value] : NULL, .op = -1,
                       .server = -1};
    char *words = revision_str(c, i < c->nlog && c->log[i].rv == l->rv ? &c->log[i] : &own);
    if (l->rv == st->floor && st->src == FLOOR_EVENT)
        violation(c, "duplicate", st->si, l->rv, "%s's watch delivered %s twice", id, words);
    else
        violation(c, l->rv == st->floor ? "duplicate" : "order", st->si, l->rv,
                  "%s's watch delivered %s after %s %" PRIu64 " (out of order)", id, words, after,
                  st->floor);
    free(words);
    return false;
}

static void delivered(struct wstream *st, uint64_t rv, enum floor_src src)
{
    st->at = rv;
    if (rv > st->floor) {
        st->floor = rv;
        st->src = src;
    }
}

static void on_event(struct wcheck *c, struct wstream *st, const struct chaos_wline *l)
{
    assert(st->opened && st->at <= st->floor);
    if (!in_order(c, st, l))
        return;
    if (l->kind == CHAOS_WE_BOOKMARK) {
        skipped(c, st, l->rv, true, "its bookmark at ");
        delivered(st, l->rv, FLOOR_BOOKMARK);
        return;
    }
    skipped(c, st, l->rv, false, "");
    lifecycle(c, st, l);
    delivered(st, l->rv, FLOOR_EVENT);
    st->fresh = false;
}

static void on_open(struct wcheck *c, struct wstream *st, const struct chaos_wline *l)
{
    if (l->kind == CHAOS_WE_RESUME && st->opened && l->rv > st->floor)
        violation(c, "resume", st->si, l->rv,
                  "%s's watch resumed from %" PRIu64 ", past the last revision it had "
                  "delivered (%" PRIu64 "): the changes between went unchecked",
                  st->s->id, l->rv, st->floor);
    st->opened = l;
    st->fresh = true;
    st->at = l->rv;
    if (l->rv > st->floor) {
        st->floor = l->rv;
        st->src = FLOOR_OPEN;
    }
    if (l->kind != CHAOS_WE_LIST)
        return;
    for (int k = 0; k < c->w->keys.n; k++) {
        st->state[k] = KEY_ABSENT;
        st->since[k] = l->rv;
    }
    for (int i = 0; i < l->nitems; i++) {
        const struct chaos_entry *e = &c->w->items[l->item0 + i];
        st->state[e->key] = KEY_PRESENT;
        st->since[e->key] = e->rv;
    }
}

static void on_expired(struct wcheck *c, struct wstream *st, const struct chaos_wline *l)
{
    uint64_t u = revision_after(c, l->t);
    if (l->history <= 0 || u == 0 || u > l->rv + (uint64_t)l->history)
        return;
    char at[32];
    chaos_time_fmt(c->h, l->t, at, sizeof at);
    violation(c, "expired", st->si, l->rv,
              "%s answered 410 Expired to a resume from %" PRIu64 " at %s s, but its change log "
              "(the last %" PRId64 " revisions) still held it: a write invoked after that got "
              "revision %" PRIu64,
              st->s->id, l->rv, at, l->history, u);
}

static void walk_server(struct wcheck *c, int si)
{
    const struct chaos_wserver *s = &c->w->servers[si];
    size_t nk = (size_t)c->w->keys.n + 1;
    struct wstream st = {.si = si, .s = s, .state = xcalloc(nk, 1),
                         .since = xcalloc(nk, sizeof *st.since)};
    for (int i = 0; i < s->n; i++) {
        const struct chaos_wline *l = &s->lines[i];
        switch (l->kind) {
        case CHAOS_WE_ADDED:
        case CHAOS_WE_MODIFIED:
        case CHAOS_WE_DELETED:
        case CHAOS_WE_BOOKMARK:
            on_event(c, &st, l); /* the parser keeps events inside streams */
            break;
        case CHAOS_WE_LIST:
        case CHAOS_WE_RESUME:
            on_open(c, &st, l);
            break;
        case CHAOS_WE_EXPIRED:
            on_expired(c, &st, l);
            break;
        case CHAOS_WE_CLOSE:
        case CHAOS_NWKIND:
            break;
        }
    }
    free(st.state);
    free(st.since);
}

/* ---------------------------------------------------------------- figures */

static void server_figures(const struct chaos_wserver *s, struct wfig *f)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < s->n; i++) {
        const struct chaos_wline *l = &s->lines[i];
        bool event = l->kind <= CHAOS_WE_DELETED, open = l->kind == CHAOS_WE_LIST ||
                                                        l->kind == CHAOS_WE_RESUME;
        f->events += event;
        f->bookmarks += l->kind == CHAOS_WE_BOOKMARK;
        f->expired += l->kind == CHAOS_WE_EXPIRED;
        if (open && f->streams++ > 0) {
            f->resumed += l->kind == CHAOS_WE_RESUME;
            f->relisted += l->kind == CHAOS_WE_LIST;
        }
        if (event) {
            f->first = f->first && f->first < l->rv ? f->first : l->rv;
            f->last = l->rv > f->last ? l->rv : f->last;
        }
    }
}

void chaos_watch_figures(const struct chaos_watch *w, struct ubuf *out)
{
    for (int i = 0; i < w->nservers; i++) {
        struct wfig f;
        server_figures(&w->servers[i], &f);
        ubuf_appendf(out,
                     "  %-4s %6lld events, %lld bookmarks, %lld reconnects (%lld resumed, %lld "
                     "after a new list), %lld expired (410)",
                     w->servers[i].id, f.events, f.bookmarks, f.resumed + f.relisted, f.resumed,
                     f.relisted, f.expired);
        if (f.events)
            ubuf_appendf(out, ", revisions %" PRIu64 "–%" PRIu64, f.first, f.last);
        ubuf_appendf(out, "\n");
    }
}

static json_t *figures_json(const struct chaos_watch *w, long long *events, long long *reconnects)
{
    json_t *j = json_object();
    *events = *reconnects = 0;
    for (int i = 0; i < w->nservers; i++) {
        struct wfig f;
        server_figures(&w->servers[i], &f);
        *events += f.events;
        *reconnects += f.resumed + f.relisted;
        json_object_set_new(j, w->servers[i].id,
                            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "events",
                                      (json_int_t)f.events, "bookmarks", (json_int_t)f.bookmarks,
                                      "streams", (json_int_t)f.streams, "resumed",
                                      (json_int_t)f.resumed, "relisted", (json_int_t)f.relisted,
                                      "expired", (json_int_t)f.expired));
    }
    return j;
}

/* ---------------------------------------------------------------- the check */

void chaos_watch_check(const struct chaos_history *h, const struct chaos_watch *w,
                       struct chaos_watch_result *out)
{
    memset(out, 0, sizeof *out);
    struct wcheck c = {.h = h, .w = w, .json = json_array()};
    collect(&c);
    collect_late(&c);
    agree(&c);
    for (int s = 0; s < w->nservers; s++)
        walk_server(&c, s);
    long long events, reconnects;
    json_t *servers = figures_json(w, &events, &reconnects);
    out->ok = c.violations == 0;
    out->violations = c.violations;
    ubuf_appendf(&out->text, "watch        %s (", out->ok ? "PASS" : "FAIL");
    if (!out->ok)
        ubuf_appendf(&out->text, "%d violation%s; ", c.violations, c.violations == 1 ? "" : "s");
    ubuf_appendf(&out->text,
                 "%d servers: %lld events, %lld reconnects; %zu revisions known, %lld of them "
                 "acknowledged writes)\n",
                 w->nservers, events, reconnects, c.nlog, c.acked);
    ubuf_append(&out->text, c.shown.data ? c.shown.data : "", c.shown.len);
    if (c.violations > WATCH_SHOWN)
        ubuf_appendf(&out->text, "  … and %d more (see --json)\n", c.violations - WATCH_SHOWN);
    out->json = json_pack("{s:s, s:o, s:I, s:I, s:i, s:o}", "result", out->ok ? "PASS" : "FAIL",
                          "servers", servers, "revisions", (json_int_t)c.nlog, "acknowledged",
                          (json_int_t)c.acked, "violation_count", c.violations, "violations",
                          c.json);
    ubuf_free(&c.shown);
    free(c.recs);
    free(c.log);
    free(c.late_invoke);
    free(c.late_min_rv);
}

void chaos_watch_result_free(struct chaos_watch_result *r)
{
    ubuf_free(&r->text);
    json_decref(r->json);
    r->json = NULL;
}
