/* list.c — LIST: the objects of a resource in a namespace or in all of
 * them, filtered by label and field selectors, paged with limit/continue,
 * rendered as a List or a Table.
 *
 * Paging keeps Kubernetes' promise of a consistent snapshot: every page of
 * one list shows the state at the first page's revision R, even if writes
 * happened in between. The continue token carries R and the last key
 * returned. LMDB only holds the current state, so a later page rebuilds the
 * state at R from the change log: an object changed after R is shown as it
 * was at R (the change record at its previous revision, prev_rev) or not at
 * all if it was created after R; objects untouched since R are read as they
 * are. If the log no longer reaches back to R, the token has expired: 410,
 * with Kubernetes' message, and the client starts over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "server/internal.h"

/* One object of a page, in key order (its text is in the page's). */
struct item {
    char *ns, *name;
};

struct page {
    const struct api_target *t;
    const struct filter *f;
    struct item *items;
    size_t n, cap;
    /* The items as JSON text, one after another with commas: a List's
     * straight from the msgpack (codec_msgpack_json_text), a Table's rows
     * as render_row_text makes them. Decoding 10,000 pods into trees and
     * dumping those took 1.6-2 s of the leader's time for 30 MB, most of
     * it allocating. */
    struct ubuf *text;
    struct render *rows; /* a Table: items are its rows */
    size_t limit; /* 0: everything */
    bool more;    /* an item beyond the limit exists */
    bool failed;
};

static int key_cmp(const char *ans, const char *aname, const char *bns, const char *bname)
{
    int c = strcmp(ans, bns);
    return c ? c : strcmp(aname, bname);
}

/* Adds o (as of revision rev) if it passes the filter; 1 stops the walk. */
static int page_offer(struct page *p, const struct store_obj *o, uint64_t rev)
{
    if (!filter_match_key(p->f, o))
        return 0;
    if (filter_needs_object(p->f)) { /* decode in full only what is returned */
        json_t *sv = filter_view(p->f, o);
        if (!sv) {
            p->failed = true;
            return 1;
        }
        bool sel = filter_match(p->f, sv);
        json_decref(sv);
        if (!sel)
            return 0;
    }
    if (p->limit && p->n == p->limit) {
        p->more = true;
        return 1;
    }
    char rv[24];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    if (p->n)
        ubuf_append(p->text, ",", 1);
    if (p->rows ? render_row_text(p->rows, o, rv, p->text) != 0
                : codec_msgpack_json_text(o->obj, o->obj_len, rv, p->text) != 0) {
        p->failed = true;
        return 1;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->items = xrealloc(p->items, p->cap * sizeof *p->items);
    }
    p->items[p->n++] = (struct item){xstrndup(o->ns, o->ns_len), xstrndup(o->name, o->name_len)};
    return 0;
}

static void page_free(struct page *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].ns);
        free(p->items[i].name);
    }
    free(p->items);
}

static int page_offer_current(void *arg, const struct store_obj *o)
{
    return page_offer(arg, o, o->mod_rev);
}

/* ---- the state at an older revision ---- */

/* An object as it was at the snapshot revision. */
struct old_obj {
    char *ns, *name;
    bool existed;
    struct store_event ev; /* the change record holding it (valid in the txn) */
};

struct past {
    const struct api_target *t;
    const char *after_ns, *after_name;
    struct store_read *r;
    struct old_obj *v;
    size_t n, cap;
    bool expired;
};

static struct old_obj *past_find(struct past *ps, const char *ns, size_t nl, const char *name,
                                 size_t ml)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strlen(ps->v[i].ns) == nl && !memcmp(ps->v[i].ns, ns, nl) &&
            strlen(ps->v[i].name) == ml && !memcmp(ps->v[i].name, name, ml))
            return &ps->v[i];
    return NULL;
}

static bool same(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(s, want, n) == 0;
}

/* The first change of each object after the snapshot tells what it was. */
static int past_collect(void *arg, const struct store_event *e)
{
    struct past *ps = arg;
    const struct resource *res = ps->t->res;
    if (!same(e->o.resource, e->o.resource_len, res->plural))
        return 0;
    if (res->namespaced && ps->t->ns[0] && !same(e->o.ns, e->o.ns_len, ps->t->ns))
        return 0;
    if (past_find(ps, e->o.ns, e->o.ns_len, e->o.name, e->o.name_len))
        return 0;
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 32;
        ps->v = xrealloc(ps->v, ps->cap * sizeof *ps->v);
    }
    struct old_obj *oo = &ps->v[ps->n++];
    memset(oo, 0, sizeof *oo);
    oo->ns = xstrndup(e->o.ns, e->o.ns_len);
    oo->name = xstrndup(e->o.name, e->o.name_len);
    oo->existed = e->type != STORE_ADDED;
    if (oo->existed) {
        int rc = store_change_at(ps->r, e->prev_rev, &oo->ev);
        if (rc != 0)
            ps->expired = true; /* its state at the snapshot left the log */
    }
    return ps->expired;
}

static int old_cmp(const void *a, const void *b)
{
    const struct old_obj *x = a, *y = b;
    return key_cmp(x->ns, x->name, y->ns, y->name);
}

static void past_free(struct past *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->v[i].ns);
        free(ps->v[i].name);
    }
    free(ps->v);
}

/* Walks the current objects after the start key, skipping those changed
 * since the snapshot, and merges in the snapshot's versions of those. */
struct merge {
    struct page *p;
    struct past *ps;
    size_t next_old;
};

static int merge_old_until(struct merge *m, const char *ns, const char *name)
{
    while (m->next_old < m->ps->n) {
        struct old_obj *oo = &m->ps->v[m->next_old];
        if (ns && key_cmp(oo->ns, oo->name, ns, name) > 0)
            break;
        m->next_old++;
        if (!oo->existed)
            continue;
        if (m->ps->after_name &&
            key_cmp(oo->ns, oo->name, m->ps->after_ns, m->ps->after_name) <= 0)
            continue;
        if (page_offer(m->p, &oo->ev.o, oo->ev.rev))
            return 1;
    }
    return 0;
}

/* Whether o changed after the snapshot: a binary search, ps->v being
 * sorted by key once collected (this runs for every object listed). */
static bool past_changed(const struct past *ps, char *ns, char *name)
{
    struct old_obj key = {.ns = ns, .name = name};
    return ps->n && bsearch(&key, ps->v, ps->n, sizeof *ps->v, old_cmp) != NULL;
}

static int merge_current(void *arg, const struct store_obj *o)
{
    struct merge *m = arg;
    char *ns = xstrndup(o->ns, o->ns_len), *name = xstrndup(o->name, o->name_len);
    int stop = merge_old_until(m, ns, name);
    /* changed since the snapshot: its old version was merged instead */
    bool skip = !stop && past_changed(m->ps, ns, name);
    free(ns);
    free(name);
    if (stop || skip)
        return stop;
    return page_offer(m->p, o, o->mod_rev);
}

/* Fills the page with the state at revision at; false if expired. */
static bool page_fill_at(struct page *p, struct store_read *r, uint64_t at, const char *after_ns,
                         const char *after_name)
{
    const struct api_target *t = p->t;
    const char *ns = t->res->namespaced && t->ns[0] ? t->ns : NULL;
    if (at >= r->revision) {
        store_list_after(r, t->res->plural, ns, after_ns, after_name, page_offer_current, p);
        return true;
    }
    struct past ps = {.t = t, .after_ns = after_ns, .after_name = after_name, .r = r};
    if (store_changes(r, at, past_collect, &ps) != 0 || ps.expired) {
        past_free(&ps);
        return false;
    }
    if (ps.n)
        qsort(ps.v, ps.n, sizeof *ps.v, old_cmp);
    struct merge m = {p, &ps, 0};
    if (store_list_after(r, t->res->plural, ns, after_ns, after_name, merge_current, &m) == 0 &&
        !p->more && !p->failed)
        merge_old_until(&m, NULL, NULL);
    past_free(&ps);
    return true;
}

/* ---- continue tokens ---- */

struct cont {
    uint64_t rev;
    char ns[256], name[256];
};

static void cont_encode(const struct cont *c, struct ubuf *out)
{
    char rv[24];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)c->rev);
    json_t *j = json_pack("{s:s, s:s, s:s}", "rv", rv, "ns", c->ns, "name", c->name);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    util_base64_encode(s, strlen(s), out);
    ubuf_append(out, "", 1);
    free(s);
}

static bool cont_decode(const char *tok, struct cont *c)
{
    struct ubuf raw = {0};
    bool ok = util_base64_decode(tok, strlen(tok), &raw) == 0;
    json_t *j = ok ? codec_json_load(raw.data ? raw.data : "", raw.len, 0, NULL) : NULL;
    ubuf_free(&raw);
    const char *rv = json_string_value(json_object_get(j, "rv"));
    const char *ns = json_string_value(json_object_get(j, "ns"));
    const char *name = json_string_value(json_object_get(j, "name"));
    char *end = NULL;
    ok = rv && ns && name && *name && strlen(ns) < sizeof c->ns && strlen(name) < sizeof c->name;
    if (ok) {
        c->rev = strtoull(rv, &end, 10);
        ok = *rv && !*end && c->rev > 0;
        snprintf(c->ns, sizeof c->ns, "%s", ns);
        snprintf(c->name, sizeof c->name, "%s", name);
    }
    json_decref(j);
    return ok;
}

/* ---- the handler ---- */

/* The List around the items' text: the same keys in the same order as
 * json_dumps wrote when a List was a tree. */
static enum MHD_Result reply_list_text(struct request *rq, const struct api_target *t,
                                       const char *rv, const char *cont, struct ubuf *items)
{
    char av[96];
    resource_api_version(t->res, av, sizeof av);
    struct ubuf head = {0};
    ubuf_appendf(&head, "{\"kind\":\"%sList\",\"apiVersion\":\"%s\",\"metadata\":{"
                        "\"resourceVersion\":\"%s\"",
                 t->res->kind, av, rv);
    if (cont && *cont) /* base64: nothing to escape */
        ubuf_appendf(&head, ",\"continue\":\"%s\"", cont);
    ubuf_append(&head, "},\"items\":[", 11);
    return reply_json_parts(rq, 200, &head, items, "]}\n");
}

static bool parse_limit(const char *s, size_t *out)
{
    *out = 0;
    if (!s || !*s)
        return true;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || v < 0)
        return false;
    *out = (size_t)v;
    return true;
}

enum MHD_Result list_handle(struct request *rq, const struct api_target *t)
{
    enum MHD_Result ret;
    char err[512] = "";
    struct filter *f = filter_parse(t->res, request_arg(rq, "labelSelector"),
                                    request_arg(rq, "fieldSelector"), err, sizeof err);
    if (!f)
        return reply_status(rq, 400, "BadRequest", "%s", err);
    struct render rd;
    render_init(&rd, rq, t->res);
    struct ubuf text = {0};
    struct page p = {.t = t, .f = f, .text = &text, .rows = rd.table ? &rd : NULL};
    const char *tok = request_arg(rq, "continue");
    struct cont c = {0};
    if (!parse_limit(request_arg(rq, "limit"), &p.limit)) {
        filter_free(f);
        return reply_status(rq, 400, "BadRequest", "invalid limit \"%s\"",
                            request_arg(rq, "limit"));
    }
    if (tok && *tok) {
        const char *rv = request_arg(rq, "resourceVersion");
        if ((rv && *rv && strcmp(rv, "0") != 0) || !cont_decode(tok, &c)) {
            filter_free(f);
            return reply_status(rq, 400, "BadRequest",
                                rv && *rv ? "specifying resource version is not allowed when "
                                            "using continue"
                                          : "continue key is not valid: %s", tok);
        }
        /* The snapshot revision must be reached here before reading it. */
        if (!store_wait_revision_above(rq->srv->store, c.rev - 1, 3000)) {
            filter_free(f);
            return reply_status(rq, 504, "Timeout", "Too large resource version: %llu",
                                (unsigned long long)c.rev);
        }
    } else if (api_read_consistency(rq, &ret)) {
        filter_free(f);
        return ret;
    }
    struct store_read r;
    if (store_read_begin(rq->srv->store, &r) != 0) {
        filter_free(f);
        return reply_status(rq, 500, "InternalError", "cannot read the store");
    }
    uint64_t at = tok && *tok ? c.rev : r.revision;
    bool ok = page_fill_at(&p, &r, at, tok && *tok ? c.ns : NULL, tok && *tok ? c.name : NULL);
    store_read_end(&r);
    filter_free(f);
    if (!ok) {
        page_free(&p);
        ubuf_free(&text);
        return reply_status(rq, 410, "Expired",
                            "The provided continue parameter is too old to display a consistent "
                            "list result. You can start a new list without the continue "
                            "parameter.");
    }
    if (p.failed) {
        page_free(&p);
        ubuf_free(&text);
        return reply_status(rq, 500, "InternalError", "cannot decode a stored object");
    }
    struct ubuf next = {0};
    if (p.more && p.n) {
        struct cont nc = {.rev = at};
        snprintf(nc.ns, sizeof nc.ns, "%s", p.items[p.n - 1].ns);
        snprintf(nc.name, sizeof nc.name, "%s", p.items[p.n - 1].name);
        cont_encode(&nc, &next);
    }
    char rvs[24];
    snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)at);
    page_free(&p);
    enum MHD_Result res;
    if (rd.table) {
        struct ubuf head = {0};
        render_table_head(&rd, rvs, next.data, &head);
        res = reply_json_parts(rq, 200, &head, &text, "]}\n");
    } else {
        res = reply_list_text(rq, t, rvs, next.data, &text);
    }
    ubuf_free(&next);
    return res;
}
