/* chaos_history.c — reads a recorded chaos history: DIR/history.jsonl (the
 * operations the workload's clients ran), DIR/final.json (what every
 * server held after healing) and, when there is one, DIR/watch.jsonl (what
 * a watcher on every server saw; chaos_watch.c reads it) and
 * DIR/controllers.jsonl (the controllers workload's record; its format and
 * reader are in chaos_ctl.c). `bosun chaos check` judges them
 * (chaos_check.c, chaos_watch.c, chaos_ctl.c); the runner writes them.
 *
 * history.jsonl: one JSON object per line (blank lines are skipped), in any
 * order. Members (unknown ones are ignored, so runners may add e.g.
 * "server" or "error" text):
 *   id         integer >= 0, unique: the operation's id
 *   client     integer >= 0: the process that ran it. A client runs one
 *              operation at a time; after an unknown result it may go on
 *              (the unknown one may still take effect later).
 *   f          "create" | "get" | "update" | "delete" — the "objects"
 *              workload over ConfigMaps; the "register" workload is the
 *              same with only get and update (its objects created first,
 *              by recorded creates).
 *   key        "namespace/name". Every key starts absent.
 *   value      string: the value written by create and update (unique in
 *              the whole history: the checker relies on it), the value an
 *              ok get observed; optional on an ok delete (the object it
 *              deleted, as Kubernetes returns it).
 *   expect_rv  update/delete only, optional: the resourceVersion
 *              precondition. An update with it is a compare-and-set, without
 *              it a blind write.
 *   invoke     integer, ns on a monotonic clock: when the request was sent.
 *   complete   integer >= invoke: when its answer arrived. Required for ok
 *              and fail; ignored for unknown (its completion is infinity).
 *   result     "ok" | "fail" | "unknown".
 *              ok: the request took effect (a write) or observed the state
 *              (a get).
 *              fail: a definite non-effect, with "status" (HTTP code) and
 *              "reason" (Kubernetes Status reason): AlreadyExists (create:
 *              the object existed), NotFound (get/update/delete: it did not
 *              exist), Conflict (update/delete with expect_rv: its rv
 *              differed). A fail with any other reason (a 500, a 504,
 *              a timeout recorded as fail) is treated as unknown.
 *              unknown: no answer (timeout, connection lost): it may have
 *              taken effect at any time after invoke, or never.
 *   rv         the resourceVersion: assigned to an ok create/update,
 *              observed by an ok get (and ok delete, optional). A string
 *              of decimal digits or an integer, > 0. Optional; when missing
 *              it is unknown and bound by the first read that observes the
 *              value (so is an unknown write's).
 * Example:
 *   {"id":17,"client":3,"f":"update","key":"default/k3","value":"c3-17",
 *    "expect_rv":"88","invoke":1204000000,"complete":1230000000,
 *    "result":"fail","status":409,"reason":"Conflict"}
 *
 * final.json: the state read from every server after healing and a quiet
 * period, at least the keys the workload touched:
 *   {"servers": {"s1": {"default/k3": {"value": "c3-17", "rv": "91"}, ...},
 *                "s2": {...}}}
 * A key a server does not list is absent there. The checker appends each
 * server's value of every key to that key's history as a read by a
 * virtual client after every other operation.
 *
 * watch.jsonl (optional: without it the watch check is skipped, and says
 * so): one JSON object per line, each naming its "server" ("s2") and its
 * time "t" (integer ns, the history's clock: when its bytes arrived). One
 * server's lines are in the order its watcher got them; different servers'
 * lines may interleave. The watch is on the workload's ConfigMaps, and is
 * taken to see every key of history.jsonl. A line is one of:
 *   {"open":"list","rv":R,"items":{KEY:{"value":V,"rv":X},...}}
 *              a new stream after a LIST at revision R (its objects in
 *              items); the stream carries the changes after R.
 *   {"open":"resume","rv":N}
 *              the stream reopened from revision N (the last one this
 *              server's watch delivered): it must start with the first
 *              change after N.
 *   {"type":"ADDED"|"MODIFIED"|"DELETED","key":KEY,"rv":R,"value":V}
 *              one event: the change at revision R; value is the object's
 *              data.v (for DELETED the value it had), absent if none.
 *   {"type":"BOOKMARK","rv":R}   every change up to R was delivered.
 *   {"expired":N,"history":H}
 *              the server answered 410 Expired to a resume from N: legal
 *              only if its change log (the last H revisions; optional)
 *              no longer held N. A "list" opening follows.
 *   {"close":WHY}  the stream ended: "eof" (the server ended it),
 *              "broken" (connection lost), "silent" (nothing for too
 *              long), "stop" (the run ended), "error CODE".
 * Events, bookmarks and closes come only inside an open stream (an expired
 * line ends one). Revisions are as in history.jsonl (digits or integer).
 * Example:
 *   {"server":"s2","t":1200000000,"open":"resume","rv":"1230"}
 *   {"server":"s2","t":1204000000,"type":"MODIFIED","key":"chaos/k7",
 *    "rv":"1234","value":"c3-17"}
 *
 * Parsing uses jansson line by line; every error names the line (or the
 * member of final.json) and the checker exits 2 on it. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tools/chaos_internal.h"

/* ---------------------------------------------------------------- strings */

int chaos_strtab_find(const struct chaos_strtab *t, const char *s)
{
    void *v = umap_get(&t->ids, s);
    return v ? (int)((intptr_t)v - 1) : -1;
}

int chaos_strtab_intern(struct chaos_strtab *t, const char *s)
{
    int id = chaos_strtab_find(t, s);
    if (id >= 0)
        return id;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->s = xrealloc(t->s, (size_t)t->cap * sizeof *t->s);
    }
    t->s[t->n] = xstrdup(s);
    umap_put(&t->ids, s, (void *)(intptr_t)(t->n + 1));
    return t->n++;
}

void chaos_strtab_free(struct chaos_strtab *t)
{
    for (int i = 0; i < t->n; i++)
        free(t->s[i]);
    free(t->s);
    umap_free(&t->ids);
    memset(t, 0, sizeof *t);
}

/* ---------------------------------------------------------------- names */

static const char *const fn_names[CHAOS_NFN] = {"create", "get", "update", "delete"};
static const char *const result_names[CHAOS_NRESULT] = {"ok", "fail", "unknown"};

const char *chaos_fn_name(enum chaos_fn fn)
{
    assert(fn >= 0 && fn < CHAOS_NFN);
    return fn_names[fn];
}

const char *chaos_result_name(enum chaos_result r)
{
    assert(r >= 0 && r < CHAOS_NRESULT);
    return result_names[r];
}

bool chaos_fail_is_definite(const struct chaos_op *op)
{
    if (op->result != CHAOS_FAIL)
        return false;
    if (strcmp(op->reason, "AlreadyExists") == 0)
        return op->fn == CHAOS_CREATE;
    if (strcmp(op->reason, "NotFound") == 0)
        return op->fn != CHAOS_CREATE;
    if (strcmp(op->reason, "Conflict") == 0)
        return (op->fn == CHAOS_UPDATE || op->fn == CHAOS_DELETE) && op->expect_rv != 0;
    return false;
}

/* ---------------------------------------------------------------- history */

void chaos_history_init(struct chaos_history *h)
{
    memset(h, 0, sizeof *h);
}

void chaos_history_free(struct chaos_history *h)
{
    free(h->ops);
    free(h->writer);
    chaos_strtab_free(&h->keys);
    chaos_strtab_free(&h->values);
    for (int i = 0; i < h->nservers; i++) {
        free(h->servers[i].id);
        free(h->servers[i].entries);
    }
    free(h->servers);
    chaos_watch_free(h->watch);
    chaos_ctl_free(h->ctl);
    memset(h, 0, sizeof *h);
}

int chaos_fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

int chaos_parse_rv(const json_t *j, uint64_t *out)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        if (v <= 0)
            return -1;
        *out = (uint64_t)v;
        return 0;
    }
    if (!json_is_string(j))
        return -1;
    const char *s = json_string_value(j);
    if (!*s || strlen(s) > 20 || strspn(s, "0123456789") != strlen(s))
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v == 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_enum(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* A non-negative integer member; -1 if missing or not one. */
static int64_t member_nonneg(const json_t *o, const char *name)
{
    const json_t *j = json_object_get(o, name);
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return -1;
    return json_integer_value(j);
}

static const char *member_string(const json_t *o, const char *name)
{
    const json_t *j = json_object_get(o, name);
    return json_is_string(j) ? json_string_value(j) : NULL;
}

/* The members that say what was asked: id, client, f, key, value (written),
 * expect_rv. */
static int parse_request(struct chaos_history *h, const json_t *o, struct chaos_op *op,
                         char *err, size_t errlen)
{
    int64_t id = member_nonneg(o, "id"), client = member_nonneg(o, "client");
    if (id < 0)
        return chaos_fail(err, errlen, "\"id\" must be an integer >= 0");
    op->id = id;
    if (client < 0 || client > 1000000)
        return chaos_fail(err, errlen, "\"client\" must be an integer in [0, 1000000]");
    op->client = (int)client;
    const char *f = member_string(o, "f"), *key = member_string(o, "key");
    int fn = f ? parse_enum(f, fn_names, CHAOS_NFN) : -1;
    if (fn < 0)
        return chaos_fail(err, errlen, "\"f\" must be one of create, get, update, delete");
    op->fn = (enum chaos_fn)fn;
    if (!key || !*key)
        return chaos_fail(err, errlen, "\"key\" must be a non-empty string (namespace/name)");
    op->key = chaos_strtab_intern(&h->keys, key);
    const json_t *erv = json_object_get(o, "expect_rv");
    if (erv && !json_is_null(erv)) {
        if (op->fn != CHAOS_UPDATE && op->fn != CHAOS_DELETE)
            return chaos_fail(err, errlen, "\"expect_rv\" is only for update and delete");
        if (chaos_parse_rv(erv, &op->expect_rv) < 0)
            return chaos_fail(err, errlen, "\"expect_rv\" must be a revision > 0");
    }
    const char *value = member_string(o, "value");
    bool writes = op->fn == CHAOS_CREATE || op->fn == CHAOS_UPDATE;
    if (writes && !value)
        return chaos_fail(err, errlen, "a %s needs the string \"value\" it wrote", f);
    op->value = value ? chaos_strtab_intern(&h->values, value) : -1;
    return 0;
}

/* The members that say what came back: invoke, complete, result, status,
 * reason, rv, value (observed). */
static int parse_outcome(const json_t *o, struct chaos_op *op, char *err, size_t errlen)
{
    op->invoke = member_nonneg(o, "invoke");
    if (op->invoke < 0)
        return chaos_fail(err, errlen, "\"invoke\" must be an integer >= 0 (ns)");
    const char *res = member_string(o, "result");
    int r = res ? parse_enum(res, result_names, CHAOS_NRESULT) : -1;
    if (r < 0)
        return chaos_fail(err, errlen, "\"result\" must be one of ok, fail, unknown");
    op->result = (enum chaos_result)r;
    op->complete = CHAOS_NEVER;
    if (op->result != CHAOS_UNKNOWN) {
        op->complete = member_nonneg(o, "complete");
        if (op->complete < op->invoke)
            return chaos_fail(err, errlen, "\"complete\" must be an integer >= invoke for result %s",
                        res);
    }
    if (op->result == CHAOS_FAIL) {
        int64_t st = member_nonneg(o, "status");
        op->status = st > 0 && st < 1000 ? (int)st : 0;
        const char *reason = member_string(o, "reason");
        snprintf(op->reason, sizeof op->reason, "%s", reason ? reason : "");
    }
    const json_t *rv = json_object_get(o, "rv");
    if (op->result == CHAOS_OK && rv && !json_is_null(rv) && chaos_parse_rv(rv, &op->rv) < 0)
        return chaos_fail(err, errlen, "\"rv\" must be a revision > 0");
    if (op->fn == CHAOS_CREATE || op->fn == CHAOS_UPDATE)
        return 0; /* value: what it wrote */
    if (op->result != CHAOS_OK)
        op->value = -1; /* a get or delete without an answer observed nothing */
    else if (op->fn == CHAOS_GET && op->value < 0)
        return chaos_fail(err, errlen, "an ok get needs the string \"value\" it observed");
    return 0;
}

/* Records op as the writer of its value; a second writer is an error. */
static int note_writer(struct chaos_history *h, int index, char *err, size_t errlen)
{
    const struct chaos_op *op = &h->ops[index];
    if (op->fn != CHAOS_CREATE && op->fn != CHAOS_UPDATE)
        return 0;
    int w = h->writer[op->value];
    if (w >= 0)
        return chaos_fail(err, errlen, "value \"%s\" is written twice (lines %d and %d): values must be unique",
                    h->values.s[op->value], h->ops[w].line, op->line);
    h->writer[op->value] = index;
    return 0;
}

static void grow_writers(struct chaos_history *h, int old_n)
{
    if (h->values.n == old_n)
        return;
    h->writer = xrealloc(h->writer, (size_t)h->values.n * sizeof *h->writer);
    for (int i = old_n; i < h->values.n; i++)
        h->writer[i] = -1;
}

int chaos_each_line(const char *file, const char *text, size_t len, chaos_line_fn fn, void *ctx,
                    char *err, size_t errlen)
{
    size_t at = 0;
    for (int lineno = 1; at < len; lineno++) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t b = at;
        while (b < end && (text[b] == ' ' || text[b] == '\t' || text[b] == '\r'))
            b++;
        at = end + 1;
        if (b == end)
            continue;
        char why[256] = "";
        json_error_t je;
        json_t *o = json_loadb(text + b, end - b, JSON_REJECT_DUPLICATES, &je);
        int rc = !o                 ? chaos_fail(why, sizeof why, "not JSON: %s", je.text)
                 : !json_is_object(o) ? chaos_fail(why, sizeof why, "not a JSON object")
                                      : fn(ctx, o, lineno, why, sizeof why);
        json_decref(o);
        if (rc < 0)
            return chaos_fail(err, errlen, "%s line %d: %s", file, lineno, why);
    }
    return 0;
}

static int parse_line(void *ctx, const json_t *o, int lineno, char *why, size_t whylen)
{
    struct chaos_history *h = ctx;
    struct chaos_op op = {.line = lineno};
    int old_values = h->values.n;
    int rc = parse_request(h, o, &op, why, whylen);
    if (rc == 0)
        rc = parse_outcome(o, &op, why, whylen);
    grow_writers(h, old_values);
    if (rc < 0)
        return -1;
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 256;
        h->ops = xrealloc(h->ops, h->cap * sizeof *h->ops);
    }
    h->ops[h->n++] = op;
    return note_writer(h, (int)h->n - 1, why, whylen);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int count_clients(const struct chaos_history *h)
{
    int64_t *c = xmalloc(h->n * sizeof *c);
    for (size_t i = 0; i < h->n; i++)
        c[i] = h->ops[i].client;
    qsort(c, h->n, sizeof *c, cmp_i64);
    int n = 0;
    for (size_t i = 0; i < h->n; i++)
        n += i == 0 || c[i] != c[i - 1];
    free(c);
    return n;
}

/* Ids must be unique; times give t0 and t_end; clients are counted. */
static int finish_history(struct chaos_history *h, char *err, size_t errlen)
{
    if (h->n == 0)
        return chaos_fail(err, errlen, "history.jsonl holds no operation");
    int64_t *ids = xmalloc(h->n * sizeof *ids);
    h->t0 = INT64_MAX;
    h->t_end = 0;
    for (size_t i = 0; i < h->n; i++) {
        const struct chaos_op *op = &h->ops[i];
        ids[i] = op->id;
        h->t0 = op->invoke < h->t0 ? op->invoke : h->t0;
        int64_t last = op->complete != CHAOS_NEVER ? op->complete : op->invoke;
        h->t_end = last > h->t_end ? last : h->t_end;
    }
    qsort(ids, h->n, sizeof *ids, cmp_i64);
    h->nclients = count_clients(h);
    int64_t dup = -1;
    for (size_t i = 1; i < h->n && dup < 0; i++)
        if (ids[i] == ids[i - 1])
            dup = ids[i];
    free(ids);
    if (dup >= 0)
        return chaos_fail(err, errlen, "history.jsonl: op id %" PRId64 " appears twice", dup);
    return 0;
}

int chaos_history_parse(struct chaos_history *h, const char *text, size_t len, char *err,
                        size_t errlen)
{
    if (chaos_each_line("history.jsonl", text, len, parse_line, h, err, errlen) < 0)
        return -1;
    return finish_history(h, err, errlen);
}

/* ---------------------------------------------------------------- final.json */

static int cmp_entry(const void *a, const void *b)
{
    const struct chaos_entry *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static int cmp_server(const void *a, const void *b)
{
    const struct chaos_server_state *x = a, *y = b;
    return strcmp(x->id, y->id);
}

static int parse_server(struct chaos_history *h, const char *id, const json_t *map,
                        struct chaos_server_state *s, char *err, size_t errlen)
{
    s->id = xstrdup(id);
    if (!json_is_object(map))
        return chaos_fail(err, errlen, "final.json: servers.%s must be an object key → {value, rv}", id);
    s->entries = xcalloc(json_object_size(map) + 1, sizeof *s->entries);
    const char *key;
    json_t *e;
    json_object_foreach((json_t *)map, key, e) {
        const char *v = member_string(e, "value");
        struct chaos_entry *en = &s->entries[s->n];
        if (!*key || !v)
            return chaos_fail(err, errlen, "final.json: servers.%s.%s needs a string \"value\"", id, key);
        const json_t *rv = json_object_get(e, "rv");
        if (rv && !json_is_null(rv) && chaos_parse_rv(rv, &en->rv) < 0)
            return chaos_fail(err, errlen, "final.json: servers.%s.%s: \"rv\" must be a revision > 0",
                        id, key);
        int old_values = h->values.n;
        en->key = chaos_strtab_intern(&h->keys, key);
        en->value = chaos_strtab_intern(&h->values, v);
        grow_writers(h, old_values);
        s->n++;
    }
    qsort(s->entries, (size_t)s->n, sizeof *s->entries, cmp_entry);
    return 0;
}

int chaos_final_parse(struct chaos_history *h, const char *text, size_t len, char *err,
                      size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return chaos_fail(err, errlen, "final.json: not JSON: line %d: %s", je.line, je.text);
    const json_t *servers = json_object_get(o, "servers");
    int rc = 0;
    if (!json_is_object(servers) || json_object_size(servers) == 0)
        rc = chaos_fail(err, errlen, "final.json: \"servers\" must be a non-empty object");
    if (rc == 0) {
        h->servers = xcalloc(json_object_size(servers), sizeof *h->servers);
        const char *id;
        json_t *map;
        json_object_foreach((json_t *)servers, id, map) {
            if (rc == 0)
                rc = parse_server(h, id, map, &h->servers[h->nservers++], err, errlen);
        }
        qsort(h->servers, (size_t)h->nservers, sizeof *h->servers, cmp_server);
    }
    json_decref(o);
    h->has_final = rc == 0;
    return rc;
}

/* ---------------------------------------------------------------- watch.jsonl */

static const char *const wkind_names[CHAOS_NWKIND] = {
    "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "list", "resume", "expired", "close"};

const char *chaos_wkind_name(enum chaos_wkind k)
{
    assert(k >= 0 && k < CHAOS_NWKIND);
    return wkind_names[k];
}

struct watch_parse {
    struct chaos_watch *w;
    struct chaos_strtab names; /* server ids: the id of one is its index */
    bool *open;                /* per server: a stream is open */
    int cap;
};

static int watch_server(struct watch_parse *p, const char *id)
{
    struct chaos_watch *w = p->w;
    int i = chaos_strtab_intern(&p->names, id);
    if (i < w->nservers)
        return i;
    if (w->nservers == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        w->servers = xrealloc(w->servers, (size_t)p->cap * sizeof *w->servers);
        p->open = xrealloc(p->open, (size_t)p->cap * sizeof *p->open);
    }
    w->servers[w->nservers] = (struct chaos_wserver){.id = xstrdup(id)};
    p->open[w->nservers] = false;
    return w->nservers++;
}

/* A list's objects: {KEY: {"value": V, "rv": X}}. */
static int watch_items(struct chaos_watch *w, const json_t *items, struct chaos_wline *l,
                       char *why, size_t len)
{
    l->item0 = w->nitems;
    if (!items || json_is_null(items))
        return 0;
    if (!json_is_object(items))
        return chaos_fail(why, len, "\"items\" must be an object key → {value, rv}");
    const char *key;
    json_t *e;
    json_object_foreach((json_t *)items, key, e) {
        struct chaos_entry en = {.value = -1};
        const char *v = member_string(e, "value");
        if (!*key || chaos_parse_rv(json_object_get(e, "rv"), &en.rv) < 0)
            return chaos_fail(why, len, "items.%s needs a non-empty key and an \"rv\" > 0", key);
        en.key = chaos_strtab_intern(&w->keys, key);
        en.value = v ? chaos_strtab_intern(&w->values, v) : -1;
        if (w->nitems == w->cap) {
            w->cap = w->cap ? 2 * w->cap : 64;
            w->items = xrealloc(w->items, (size_t)w->cap * sizeof *w->items);
        }
        w->items[w->nitems++] = en;
        l->nitems++;
    }
    return 0;
}

static int watch_event(struct chaos_watch *w, const json_t *o, const char *type,
                       struct chaos_wline *l, char *why, size_t len)
{
    int k = parse_enum(type, wkind_names, CHAOS_WE_BOOKMARK + 1);
    if (k < 0)
        return chaos_fail(why, len, "\"type\" must be one of ADDED, MODIFIED, DELETED, BOOKMARK");
    l->kind = (enum chaos_wkind)k;
    if (chaos_parse_rv(json_object_get(o, "rv"), &l->rv) < 0)
        return chaos_fail(why, len, "\"rv\" must be a revision > 0");
    if (l->kind == CHAOS_WE_BOOKMARK)
        return 0;
    const char *key = member_string(o, "key"), *value = member_string(o, "value");
    if (!key || !*key)
        return chaos_fail(why, len, "an event needs \"key\", a non-empty string (namespace/name)");
    l->key = chaos_strtab_intern(&w->keys, key);
    l->value = value ? chaos_strtab_intern(&w->values, value) : -1;
    return 0;
}

static int watch_expired(const json_t *o, const json_t *expired, struct chaos_wline *l,
                         char *why, size_t len)
{
    l->kind = CHAOS_WE_EXPIRED;
    if (chaos_parse_rv(expired, &l->rv) < 0)
        return chaos_fail(why, len, "\"expired\" must be the revision > 0 resumed from");
    const json_t *hist = json_object_get(o, "history");
    if (!hist || json_is_null(hist))
        return 0;
    l->history = member_nonneg(o, "history");
    return l->history > 0 ? 0 : chaos_fail(why, len, "\"history\" must be an integer > 0");
}

/* Which kind of line o is, and its members into l. */
static int watch_members(struct chaos_watch *w, const json_t *o, struct chaos_wline *l,
                         char *why, size_t len)
{
    const json_t *open = json_object_get(o, "open"), *type = json_object_get(o, "type"),
                 *expired = json_object_get(o, "expired"), *close = json_object_get(o, "close");
    if (!!open + !!type + !!expired + !!close != 1)
        return chaos_fail(why, len, "a line has one of \"open\", \"type\", \"expired\", \"close\"");
    if (type)
        return json_is_string(type) ? watch_event(w, o, json_string_value(type), l, why, len)
                                    : chaos_fail(why, len, "\"type\" must be a string");
    if (expired)
        return watch_expired(o, expired, l, why, len);
    if (close) {
        l->kind = CHAOS_WE_CLOSE;
        if (!json_is_string(close))
            return chaos_fail(why, len, "\"close\" must be a string (why the stream ended)");
        snprintf(l->why, sizeof l->why, "%s", json_string_value(close));
        return 0;
    }
    const char *how = json_string_value(open);
    if (!how || (strcmp(how, "list") != 0 && strcmp(how, "resume") != 0))
        return chaos_fail(why, len, "\"open\" must be \"list\" or \"resume\"");
    l->kind = strcmp(how, "list") == 0 ? CHAOS_WE_LIST : CHAOS_WE_RESUME;
    if (chaos_parse_rv(json_object_get(o, "rv"), &l->rv) < 0)
        return chaos_fail(why, len, "\"rv\" must be a revision > 0");
    return l->kind == CHAOS_WE_LIST ? watch_items(w, json_object_get(o, "items"), l, why, len)
                                    : 0;
}

/* Events, bookmarks and closes come inside an open stream; an open starts
 * one, a close or an expired ends it. */
static int watch_fits(bool *open, const struct chaos_wline *l, char *why, size_t len)
{
    bool inside = l->kind <= CHAOS_WE_BOOKMARK || l->kind == CHAOS_WE_CLOSE;
    if (inside && !*open)
        return chaos_fail(why, len, "%s outside an open stream (an \"open\" line comes first)",
                    chaos_wkind_name(l->kind));
    if (l->kind == CHAOS_WE_LIST || l->kind == CHAOS_WE_RESUME)
        *open = true;
    else if (l->kind == CHAOS_WE_CLOSE || l->kind == CHAOS_WE_EXPIRED)
        *open = false;
    return 0;
}

static void watch_append(struct chaos_wserver *s, const struct chaos_wline *l)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->lines = xrealloc(s->lines, (size_t)s->cap * sizeof *s->lines);
    }
    s->lines[s->n++] = *l;
}

static int watch_line(void *ctx, const json_t *o, int lineno, char *why, size_t whylen)
{
    struct watch_parse *p = ctx;
    struct chaos_wline l = {.line = lineno, .key = -1, .value = -1};
    const char *server = member_string(o, "server");
    l.t = member_nonneg(o, "t");
    if (!server || !*server)
        return chaos_fail(why, whylen, "\"server\" must be a non-empty string");
    if (l.t < 0)
        return chaos_fail(why, whylen, "\"t\" must be an integer >= 0 (ns)");
    int s = watch_server(p, server);
    if (watch_members(p->w, o, &l, why, whylen) < 0 || watch_fits(&p->open[s], &l, why, whylen) < 0)
        return -1;
    watch_append(&p->w->servers[s], &l);
    return 0;
}

static int cmp_wserver(const void *a, const void *b)
{
    return strcmp(((const struct chaos_wserver *)a)->id, ((const struct chaos_wserver *)b)->id);
}

int chaos_watch_parse(struct chaos_watch *w, const char *text, size_t len, char *err,
                      size_t errlen)
{
    struct watch_parse p = {.w = w};
    int rc = chaos_each_line("watch.jsonl", text, len, watch_line, &p, err, errlen);
    chaos_strtab_free(&p.names);
    free(p.open);
    if (rc == 0 && w->nservers == 0)
        rc = chaos_fail(err, errlen, "watch.jsonl holds no line");
    if (rc == 0)
        qsort(w->servers, (size_t)w->nservers, sizeof *w->servers, cmp_wserver);
    return rc;
}

void chaos_watch_free(struct chaos_watch *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->nservers; i++) {
        free(w->servers[i].id);
        free(w->servers[i].lines);
    }
    free(w->servers);
    free(w->items);
    chaos_strtab_free(&w->keys);
    chaos_strtab_free(&w->values);
    free(w);
}

/* ---------------------------------------------------------------- files */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        chaos_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct ubuf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ubuf_append(&b, chunk, n);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        chaos_fail(err, errlen, "cannot read %s", path);
        ubuf_free(&b);
        return NULL;
    }
    ubuf_append(&b, "", 1);
    *len = b.len - 1;
    return b.data;
}

/* Reads DIR/name and hands it to parse. */
static int load_one(struct chaos_history *h, const char *dir, const char *name,
                    int (*parse)(struct chaos_history *, const char *, size_t, char *, size_t),
                    char *err, size_t errlen)
{
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = read_file(path, &len, err, errlen);
    if (!text)
        return -1;
    int rc = parse(h, text, len, err, errlen);
    free(text);
    return rc;
}

static int parse_watch(struct chaos_history *h, const char *text, size_t len, char *err,
                       size_t errlen)
{
    h->watch = xcalloc(1, sizeof *h->watch);
    return chaos_watch_parse(h->watch, text, len, err, errlen);
}

static int parse_ctl(struct chaos_history *h, const char *text, size_t len, char *err,
                     size_t errlen)
{
    return chaos_ctl_parse(&h->ctl, text, len, err, errlen);
}

int chaos_history_load(struct chaos_history *h, const char *dir, bool no_final, char *err,
                       size_t errlen)
{
    int rc = load_one(h, dir, "history.jsonl", chaos_history_parse, err, errlen);
    if (rc == 0 && !no_final)
        rc = load_one(h, dir, "final.json", chaos_final_parse, err, errlen);
    char path[4096];
    snprintf(path, sizeof path, "%s/watch.jsonl", dir);
    if (rc == 0 && access(path, F_OK) == 0)
        rc = load_one(h, dir, "watch.jsonl", parse_watch, err, errlen);
    snprintf(path, sizeof path, "%s/controllers.jsonl", dir);
    if (rc == 0 && access(path, F_OK) == 0)
        rc = load_one(h, dir, "controllers.jsonl", parse_ctl, err, errlen);
    return rc;
}

/* ---------------------------------------------------------------- words */

void chaos_time_fmt(const struct chaos_history *h, int64_t t, char *buf, size_t len)
{
    if (t == CHAOS_NEVER)
        snprintf(buf, len, "?");
    else
        snprintf(buf, len, "%.3f", (double)(t - h->t0) / 1e9);
}

static void describe_outcome(const struct chaos_history *h, const struct chaos_op *op,
                             struct ubuf *out)
{
    if (op->result == CHAOS_UNKNOWN) {
        ubuf_appendf(out, " → unknown");
        return;
    }
    if (op->result == CHAOS_FAIL) {
        ubuf_appendf(out, " → fail %d %s%s", op->status, op->reason[0] ? op->reason : "(no reason)",
                     chaos_fail_is_definite(op) ? "" : " (taken as unknown)");
        return;
    }
    ubuf_appendf(out, " → ok");
    if ((op->fn == CHAOS_GET || op->fn == CHAOS_DELETE) && op->value >= 0)
        ubuf_appendf(out, " value %s", h->values.s[op->value]);
    if (op->rv)
        ubuf_appendf(out, " rv %" PRIu64, op->rv);
}

void chaos_op_describe(const struct chaos_history *h, const struct chaos_op *op, struct ubuf *out)
{
    char a[32], b[32];
    chaos_time_fmt(h, op->invoke, a, sizeof a);
    chaos_time_fmt(h, op->complete, b, sizeof b);
    ubuf_appendf(out, "op %" PRId64 " client %d %s %s", op->id, op->client, chaos_fn_name(op->fn),
                 h->keys.s[op->key]);
    if (op->fn == CHAOS_CREATE || op->fn == CHAOS_UPDATE)
        ubuf_appendf(out, " %s", h->values.s[op->value]);
    if (op->expect_rv)
        ubuf_appendf(out, " if rv %" PRIu64, op->expect_rv);
    describe_outcome(h, op, out);
    ubuf_appendf(out, " [%s–%s s]", a, b);
}
