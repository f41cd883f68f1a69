/* test_store.c — unit tests of the replicated state machine (store/store.c).
 *
 * Each test opens stores in a fresh directory under /tmp (removed at
 * teardown), feeds them Raft entries encoded exactly as the proposer does
 * (store_entry_encode_header + store_cmd_encode, or by hand with the mp_put_ functions of util.h
 * for malformed ones) and checks the outcomes the API promises: command
 * results and revisions, reads, the change log and its trimming, rejection of
 * malformed input without any state change, determinism across replicas and
 * through snapshot/restore, the waiters, and the reset on open. A randomized
 * test checks a long run against a small in-memory model. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/util.h"

#define MAP_SIZE (64u << 20)
#define KEY_MAX 500 /* STORE_KEY_MAX in store.c */
#define MAX_STORES 4

/* ---- fixture: a temp dir and up to MAX_STORES stores inside it ---- */

struct tstore {
    struct store *s;
    uint64_t index; /* the last Raft index applied to s */
};

struct fix {
    char dir[64];
    struct tstore st[MAX_STORES];
    int n;
};

static struct tstore *fix_open(struct fix *f, const char *sub)
{
    char path[128], err[256] = "";
    assert_true(f->n < MAX_STORES);
    snprintf(path, sizeof path, "%s/%s", f->dir, sub);
    struct tstore *t = &f->st[f->n++];
    t->index = 0;
    assert_int_equal(store_open(&t->s, path, MAP_SIZE, NULL, err, sizeof err), 0);
    return t;
}

static int setup(void **state)
{
    struct fix *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/bosun-test-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fix *f = *state;
    for (int i = 0; i < f->n; i++)
        store_close(f->st[i].s);
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* The fixture's first store, opened on demand. */
static struct tstore *main_store(void **state)
{
    struct fix *f = *state;
    return f->n ? &f->st[0] : fix_open(f, "s0");
}

/* ---- building and applying entries ---- */

static struct store_cmd mk(int op, const char *res, const char *ns, const char *name,
                           uint64_t expect_rev, const char *expect_uid, const char *uid,
                           const char *obj)
{
    struct store_cmd c = {.op = op,
                          .resource = res,
                          .ns = ns,
                          .name = name,
                          .expect_rev = expect_rev,
                          .expect_uid = expect_uid,
                          .uid = uid,
                          .obj = obj,
                          .obj_len = obj ? strlen(obj) : 0};
    return c;
}

#define CREATE(res, ns, name, uid, obj) mk(STORE_OP_CREATE, res, ns, name, 0, NULL, uid, obj)
#define UPDATE(res, ns, name, rev, obj) mk(STORE_OP_UPDATE, res, ns, name, rev, NULL, NULL, obj)
#define DELETE(res, ns, name, rev, euid) mk(STORE_OP_DELETE, res, ns, name, rev, euid, NULL, NULL)
#define PUT(res, ns, name, uid, obj) mk(STORE_OP_PUT, res, ns, name, 0, NULL, uid, obj)

static void entry_build(struct ubuf *out, uint64_t history, const struct store_cmd *cmds,
                        unsigned n)
{
    out->len = 0;
    store_entry_encode_header(n, history, out);
    for (unsigned i = 0; i < n; i++)
        store_cmd_encode(&cmds[i], out);
}

/* Applies raw bytes as the next entry; the caller frees the result. */
static struct store_batch_result *apply_raw(struct tstore *t, const void *buf, size_t len)
{
    struct store_batch_result *br = NULL;
    t->index++;
    assert_int_equal(store_apply(t->s, t->index, buf, len, &br), 0);
    assert_non_null(br);
    assert_int_equal(br->index, t->index);
    return br;
}

static struct store_batch_result *apply_batch(struct tstore *t, uint64_t history,
                                              const struct store_cmd *cmds, unsigned n)
{
    struct ubuf b = {0};
    entry_build(&b, history, cmds, n);
    struct store_batch_result *br = apply_raw(t, b.data, b.len);
    ubuf_free(&b);
    assert_int_equal(br->n, n);
    return br;
}

static struct store_result apply_one(struct tstore *t, struct store_cmd c)
{
    struct store_batch_result *br = apply_batch(t, 0, &c, 1);
    struct store_result r = br->r[0];
    free(br);
    return r;
}

/* Encodes a command by hand, so parts may hold NULs or be empty. */
static void raw_cmd(struct ubuf *b, uint64_t op, const char *res, size_t rl, const char *ns,
                    size_t nl, const char *name, size_t ml)
{
    mp_put_array(b, 8);
    mp_put_uint(b, op);
    mp_put_str(b, res, rl);
    mp_put_str(b, ns, nl);
    mp_put_str(b, name, ml);
    mp_put_uint(b, 0);
    mp_put_str(b, "", 0);
    mp_put_str(b, "u", 1);
    mp_put_bin(b, "x", 1);
}

/* ---- reading back ---- */

struct got {
    int rc;
    uint64_t create_rev, mod_rev;
    char uid[64];
    char obj[600];
};

static void copy_str(char *dst, size_t cap, const void *p, size_t n)
{
    assert_true(n < cap);
    if (n)
        memcpy(dst, p, n);
    dst[n] = '\0';
}

static struct got get(struct store *s, const char *res, const char *ns, const char *name)
{
    struct store_read r;
    struct store_obj o;
    struct got g = {0};
    assert_int_equal(store_read_begin(s, &r), 0);
    g.rc = store_get(&r, res, ns, name, &o);
    if (g.rc == 0) {
        g.create_rev = o.create_rev;
        g.mod_rev = o.mod_rev;
        copy_str(g.uid, sizeof g.uid, o.uid, o.uid_len);
        copy_str(g.obj, sizeof g.obj, o.obj, o.obj_len);
    }
    store_read_end(&r);
    return g;
}

/* Lists as "resource:ns/name," per object. */
struct list_acc {
    struct ubuf out;
    int stop_after; /* 0: never stop */
    int count;
};

static int list_fn(void *arg, const struct store_obj *o)
{
    struct list_acc *a = arg;
    ubuf_appendf(&a->out, "%.*s:%.*s/%.*s,", (int)o->resource_len, o->resource, (int)o->ns_len,
                 o->ns, (int)o->name_len, o->name);
    a->count++;
    return a->stop_after && a->count >= a->stop_after;
}

/* Returns the listing as a malloc'd string. */
static char *list(struct store *s, const char *res, const char *ns, int stop_after)
{
    struct store_read r;
    struct list_acc a = {.stop_after = stop_after};
    assert_int_equal(store_read_begin(s, &r), 0);
    assert_int_equal(store_list(&r, res, ns, list_fn, &a), 0);
    store_read_end(&r);
    ubuf_append(&a.out, "", 0);
    return a.out.data;
}

#define MAX_EV 64
struct ev {
    int type;
    uint64_t rev, create_rev, mod_rev, prev_rev;
    char name[32];
    char uid[32];
    char obj[32];
};

struct ev_acc {
    struct ev e[MAX_EV];
    int n;
    int stop_after;
};

static int ev_fn(void *arg, const struct store_event *e)
{
    struct ev_acc *a = arg;
    assert_true(a->n < MAX_EV);
    struct ev *d = &a->e[a->n++];
    d->type = e->type;
    d->rev = e->rev;
    d->create_rev = e->o.create_rev;
    d->mod_rev = e->o.mod_rev;
    d->prev_rev = e->prev_rev;
    copy_str(d->name, sizeof d->name, e->o.name, e->o.name_len);
    copy_str(d->uid, sizeof d->uid, e->o.uid, e->o.uid_len);
    copy_str(d->obj, sizeof d->obj, e->o.obj, e->o.obj_len);
    return a->stop_after && a->n >= a->stop_after;
}

static int changes(struct store *s, uint64_t after, struct ev_acc *a)
{
    struct store_read r;
    memset(a->e, 0, sizeof a->e);
    a->n = 0;
    assert_int_equal(store_read_begin(s, &r), 0);
    int rc = store_changes(&r, after, ev_fn, a);
    store_read_end(&r);
    return rc;
}

/* Everything observable about a store, to compare replicas. */
struct state {
    uint64_t digest, n_objects, revision, first_rev, applied;
    struct ubuf log; /* every change record, serialized */
};

static int log_fn(void *arg, const struct store_event *e)
{
    struct ubuf *b = arg;
    ubuf_appendf(b, "%d %llu %.*s/%.*s/%.*s c%llu m%llu u%.*s ", e->type,
                 (unsigned long long)e->rev, (int)e->o.resource_len, e->o.resource,
                 (int)e->o.ns_len, e->o.ns, (int)e->o.name_len, e->o.name,
                 (unsigned long long)e->o.create_rev, (unsigned long long)e->o.mod_rev,
                 (int)e->o.uid_len, e->o.uid);
    ubuf_append(b, e->o.obj, e->o.obj_len);
    ubuf_append(b, "\n", 1);
    return 0;
}

static void state_read(struct store *s, struct state *st)
{
    struct store_read r;
    memset(st, 0, sizeof *st);
    assert_int_equal(store_read_begin(s, &r), 0);
    st->digest = store_digest(&r, &st->n_objects);
    st->revision = r.revision;
    st->first_rev = r.first_rev;
    st->applied = r.applied;
    /* The invariant of store.c: the log holds exactly [first_rev, revision]. */
    assert_true(r.first_rev >= 1 && r.first_rev <= r.revision + 1);
    assert_int_equal(store_changes(&r, r.first_rev - 1, log_fn, &st->log), 0);
    ubuf_append(&st->log, "", 0);
    store_read_end(&r);
    assert_int_equal(st->revision, store_revision(s));
}

static void state_assert_equal(const struct state *a, const struct state *b)
{
    assert_int_equal(a->digest, b->digest);
    assert_int_equal(a->n_objects, b->n_objects);
    assert_int_equal(a->revision, b->revision);
    assert_int_equal(a->first_rev, b->first_rev);
    assert_string_equal(a->log.data, b->log.data);
}

/* ---- a deterministic generator ---- */

static uint64_t rnd(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

/* ==== command outcomes ==== */

static void test_create_then_exists(void **state)
{
    struct tstore *t = main_store(state);
    struct store_result r = apply_one(t, CREATE("pods", "default", "a", "uid-a", "v1"));
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(r.rev, 1);
    assert_int_equal(store_revision(t->s), 1);

    r = apply_one(t, CREATE("pods", "default", "a", "uid-other", "v2"));
    assert_int_equal(r.code, STORE_EXISTS);
    assert_int_equal(r.rev, 0);
    assert_int_equal(store_revision(t->s), 1);

    struct got g = get(t->s, "pods", "default", "a");
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.create_rev, 1);
    assert_int_equal(g.mod_rev, 1);
    assert_string_equal(g.uid, "uid-a");
    assert_string_equal(g.obj, "v1");
    assert_int_equal(store_applied_index(t->s), 2);
    assert_string_equal(store_code_name(STORE_EXISTS), "AlreadyExists");
}

static void test_update_expect_rev(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "a", "u", "v1")).code, STORE_OK);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "b", "u2", "w1")).code, STORE_OK);
    struct store_result r = apply_one(t, UPDATE("pods", "ns", "a", 1, "v2"));
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(r.rev, 3);
    /* No precondition: always applies. */
    r = apply_one(t, UPDATE("pods", "ns", "a", 0, "v3"));
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(r.rev, 4);
    struct got g = get(t->s, "pods", "ns", "a");
    assert_int_equal(g.mod_rev, 4);
    assert_string_equal(g.obj, "v3");
}

static void test_update_stale_conflict(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "a", "u", "v1")).code, STORE_OK);
    assert_int_equal(apply_one(t, UPDATE("pods", "ns", "a", 1, "v2")).code, STORE_OK);
    struct store_result r = apply_one(t, UPDATE("pods", "ns", "a", 1, "v3"));
    assert_int_equal(r.code, STORE_CONFLICT);
    assert_int_equal(r.rev, 0);
    /* A future revision conflicts too. */
    assert_int_equal(apply_one(t, UPDATE("pods", "ns", "a", 9, "v3")).code, STORE_CONFLICT);
    assert_int_equal(store_revision(t->s), 2);
    struct got g = get(t->s, "pods", "ns", "a");
    assert_int_equal(g.mod_rev, 2);
    assert_string_equal(g.obj, "v2");
}

static void test_update_delete_missing(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, UPDATE("pods", "ns", "a", 0, "v")).code, STORE_NOT_FOUND);
    assert_int_equal(apply_one(t, DELETE("pods", "ns", "a", 0, NULL)).code, STORE_NOT_FOUND);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "a", "u", "v")).code, STORE_OK);
    /* Same name, other namespace or resource: still missing. */
    assert_int_equal(apply_one(t, UPDATE("pods", "ns2", "a", 0, "v")).code, STORE_NOT_FOUND);
    assert_int_equal(apply_one(t, DELETE("services", "ns", "a", 0, NULL)).code, STORE_NOT_FOUND);
    assert_int_equal(apply_one(t, DELETE("pods", "ns", "a", 0, NULL)).code, STORE_OK);
    assert_int_equal(apply_one(t, DELETE("pods", "ns", "a", 0, NULL)).code, STORE_NOT_FOUND);
    assert_int_equal(apply_one(t, UPDATE("pods", "ns", "a", 0, "v")).code, STORE_NOT_FOUND);
    assert_int_equal(store_revision(t->s), 2);
    assert_int_equal(get(t->s, "pods", "ns", "a").rc, STORE_NOT_FOUND);
}

static void test_delete_preconditions(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "a", "uid-1", "v")).code, STORE_OK);
    struct store_result r = apply_one(t, DELETE("pods", "ns", "a", 0, "uid-2"));
    assert_int_equal(r.code, STORE_CONFLICT);
    /* A uid that is a prefix of the real one is not a match either. */
    assert_int_equal(apply_one(t, DELETE("pods", "ns", "a", 0, "uid-")).code, STORE_CONFLICT);
    assert_int_equal(apply_one(t, DELETE("pods", "ns", "a", 0, "uid-10")).code, STORE_CONFLICT);
    assert_int_equal(apply_one(t, DELETE("pods", "ns", "a", 7, "uid-1")).code, STORE_CONFLICT);
    /* Update with a wrong uid conflicts too. */
    struct store_cmd c = UPDATE("pods", "ns", "a", 0, "v2");
    c.expect_uid = "nope";
    assert_int_equal(apply_one(t, c).code, STORE_CONFLICT);
    assert_int_equal(store_revision(t->s), 1);
    assert_int_equal(get(t->s, "pods", "ns", "a").rc, 0);

    r = apply_one(t, DELETE("pods", "ns", "a", 1, "uid-1"));
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(r.rev, 2);
    assert_int_equal(get(t->s, "pods", "ns", "a").rc, STORE_NOT_FOUND);
}

static void test_put_upsert(void **state)
{
    struct tstore *t = main_store(state);
    struct store_result r = apply_one(t, PUT("leases", "", "l", "uid-l", "p1"));
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(r.rev, 1);
    /* Replace, ignoring any precondition; an empty uid keeps the old one. */
    struct store_cmd c = PUT("leases", "", "l", NULL, "p2");
    c.expect_rev = 99;
    c.expect_uid = "whatever";
    r = apply_one(t, c);
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(r.rev, 2);
    struct got g = get(t->s, "leases", NULL, "l");
    assert_int_equal(g.rc, 0);
    assert_int_equal(g.create_rev, 1);
    assert_int_equal(g.mod_rev, 2);
    assert_string_equal(g.uid, "uid-l");
    assert_string_equal(g.obj, "p2");
    /* A put with a uid records it. */
    assert_int_equal(apply_one(t, PUT("leases", "", "l", "uid-new", "p3")).code, STORE_OK);
    g = get(t->s, "leases", "", "l");
    assert_string_equal(g.uid, "uid-new");
    assert_int_equal(g.create_rev, 1);
    assert_int_equal(g.mod_rev, 3);
    /* Put after delete creates afresh. */
    assert_int_equal(apply_one(t, DELETE("leases", "", "l", 0, NULL)).code, STORE_OK);
    r = apply_one(t, PUT("leases", "", "l", "uid-3", "p4"));
    assert_int_equal(r.code, STORE_OK);
    g = get(t->s, "leases", "", "l");
    assert_int_equal(g.create_rev, r.rev);
    assert_string_equal(g.uid, "uid-3");
}

static void test_update_keeps_identity(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "other", "uid-o", "o")).code, STORE_OK);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "a", "uid-a", "v1")).code, STORE_OK);
    /* The command's uid is ignored on update. */
    struct store_cmd c = UPDATE("pods", "ns", "a", 2, "v2");
    c.uid = "uid-evil";
    assert_int_equal(apply_one(t, c).code, STORE_OK);
    assert_int_equal(apply_one(t, UPDATE("pods", "ns", "a", 3, "")).code, STORE_OK);
    struct got g = get(t->s, "pods", "ns", "a");
    assert_int_equal(g.create_rev, 2);
    assert_int_equal(g.mod_rev, 4);
    assert_string_equal(g.uid, "uid-a");
    assert_string_equal(g.obj, "");
    /* Recreated after delete: a new identity. */
    assert_int_equal(apply_one(t, DELETE("pods", "ns", "a", 4, "uid-a")).code, STORE_OK);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "a", "uid-b", "v")).code, STORE_OK);
    g = get(t->s, "pods", "ns", "a");
    assert_int_equal(g.create_rev, 6);
    assert_string_equal(g.uid, "uid-b");
}

/* ==== batches ==== */

static void test_batch_consecutive_revs(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "x", "ux", "x")).code, STORE_OK);
    struct store_cmd cmds[] = {
        CREATE("pods", "ns", "a", "ua", "a"),
        CREATE("pods", "ns", "x", "ux2", "x2"), /* exists */
        CREATE("pods", "ns", "b", "ub", "b"),
        UPDATE("pods", "ns", "x", 5, "x3"),     /* stale */
        DELETE("pods", "ns", "nope", 0, NULL),  /* missing */
        UPDATE("pods", "ns", "x", 1, "x4"),
    };
    struct store_batch_result *br = apply_batch(t, 0, cmds, 6);
    int want_code[] = {STORE_OK, STORE_EXISTS, STORE_OK, STORE_CONFLICT, STORE_NOT_FOUND,
                       STORE_OK};
    uint64_t want_rev[] = {2, 0, 3, 0, 0, 4};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(br->r[i].code, want_code[i]);
        assert_int_equal(br->r[i].rev, want_rev[i]);
    }
    free(br);
    assert_int_equal(store_revision(t->s), 4);
    assert_int_equal(store_applied_index(t->s), 2);
    assert_int_equal(get(t->s, "pods", "ns", "b").mod_rev, 3);
}

static void test_batch_sees_earlier(void **state)
{
    struct tstore *t = main_store(state);
    struct store_cmd cmds[] = {
        CREATE("pods", "ns", "a", "ua", "v1"),
        UPDATE("pods", "ns", "a", 1, "v2"),    /* sees the create */
        CREATE("pods", "ns", "a", "ua2", "z"), /* exists now */
        UPDATE("pods", "ns", "a", 1, "v3"),    /* stale after the update */
        DELETE("pods", "ns", "a", 2, "ua"),
        UPDATE("pods", "ns", "a", 0, "v4"),    /* gone again */
        CREATE("pods", "ns", "a", "ua3", "v5"),
    };
    struct store_batch_result *br = apply_batch(t, 0, cmds, 7);
    int want_code[] = {STORE_OK,       STORE_OK,        STORE_EXISTS, STORE_CONFLICT,
                       STORE_OK,       STORE_NOT_FOUND, STORE_OK};
    uint64_t want_rev[] = {1, 2, 0, 0, 3, 0, 4};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(br->r[i].code, want_code[i]);
        assert_int_equal(br->r[i].rev, want_rev[i]);
    }
    free(br);
    struct got g = get(t->s, "pods", "ns", "a");
    assert_int_equal(g.create_rev, 4);
    assert_int_equal(g.mod_rev, 4);
    assert_string_equal(g.uid, "ua3");
    assert_string_equal(g.obj, "v5");

    struct ev_acc a;
    assert_int_equal(changes(t->s, 0, &a), 0);
    assert_int_equal(a.n, 4);
    int want_type[] = {STORE_ADDED, STORE_MODIFIED, STORE_DELETED, STORE_ADDED};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(a.e[i].type, want_type[i]);
        assert_int_equal(a.e[i].rev, (uint64_t)i + 1);
    }
}

static void test_empty_batch(void **state)
{
    struct tstore *t = main_store(state);
    struct store_batch_result *br = apply_batch(t, 0, NULL, 0);
    assert_int_equal(br->n, 0);
    free(br);
    assert_int_equal(store_applied_index(t->s), 1);
    assert_int_equal(store_revision(t->s), 0);
}

/* ==== reads ==== */

static void test_get_list_scoping(void **state)
{
    struct tstore *t = main_store(state);
    /* Inserted out of order; listed in key order (namespace, then name). */
    struct store_cmd cmds[] = {
        CREATE("pods", "b", "w", "1", "w"),  CREATE("pods", "a", "y", "2", "y"),
        CREATE("pods", "ab", "z", "3", "z"), CREATE("pods", "a", "x", "4", "x"),
        CREATE("pods", "a", "xx", "5", "xx"), CREATE("nodes", "", "n2", "6", "n2"),
        CREATE("nodes", "", "n1", "7", "n1"),
    };
    free(apply_batch(t, 0, cmds, 7));

    char *l = list(t->s, "pods", "a", 0);
    assert_string_equal(l, "pods:a/x,pods:a/xx,pods:a/y,");
    free(l);
    l = list(t->s, "pods", "ab", 0);
    assert_string_equal(l, "pods:ab/z,");
    free(l);
    l = list(t->s, "pods", NULL, 0);
    assert_string_equal(l, "pods:a/x,pods:a/xx,pods:a/y,pods:ab/z,pods:b/w,");
    free(l);
    l = list(t->s, "pods", "c", 0);
    assert_string_equal(l, "");
    free(l);
    l = list(t->s, "pods", "", 0); /* cluster scope: no pods there */
    assert_string_equal(l, "");
    free(l);
    l = list(t->s, "nodes", "", 0);
    assert_string_equal(l, "nodes:/n1,nodes:/n2,");
    free(l);
    l = list(t->s, "nodes", NULL, 0);
    assert_string_equal(l, "nodes:/n1,nodes:/n2,");
    free(l);
    /* fn returning non-zero stops the walk. */
    l = list(t->s, "pods", NULL, 2);
    assert_string_equal(l, "pods:a/x,pods:a/xx,");
    free(l);

    struct got g = get(t->s, "pods", "ab", "z");
    assert_int_equal(g.rc, 0);
    assert_string_equal(g.obj, "z");
    assert_int_equal(get(t->s, "pods", "a", "z").rc, STORE_NOT_FOUND);
    assert_int_equal(get(t->s, "pods", "ab", "x").rc, STORE_NOT_FOUND);
    assert_int_equal(get(t->s, "pods", "a", "x").rc, 0);
    assert_int_equal(get(t->s, "nodes", NULL, "n1").rc, 0);
    assert_int_equal(get(t->s, "nodes", "", "n1").rc, 0);
    assert_int_equal(get(t->s, "nodes", "a", "n1").rc, STORE_NOT_FOUND);

    /* store_get reports the key parts it was asked for. */
    struct store_read r;
    struct store_obj o;
    assert_int_equal(store_read_begin(t->s, &r), 0);
    assert_int_equal(store_get(&r, "pods", "b", "w", &o), 0);
    assert_int_equal(o.resource_len, 4);
    assert_memory_equal(o.resource, "pods", 4);
    assert_int_equal(o.ns_len, 1);
    assert_memory_equal(o.ns, "b", 1);
    assert_int_equal(o.name_len, 1);
    assert_memory_equal(o.name, "w", 1);
    assert_int_equal(r.revision, 7);
    assert_int_equal(r.applied, 1);
    store_read_end(&r);
}

static int list_after_fn(void *arg, const struct store_obj *o)
{
    return list_fn(arg, o);
}

/* Pages: store_list_after starts strictly after (ns, name), across
 * namespaces for a cluster-wide list, and at the first key of a namespace
 * when the name sorts before everything there. */
static void test_list_after(void **state)
{
    struct tstore *t = main_store(state);
    const char *keys[][2] = {{"a", "x"}, {"a", "y"}, {"b", "a"}, {"b", "z"}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(apply_one(t, CREATE("pods", keys[i][0], keys[i][1], "u", "o")).code,
                         STORE_OK);
    assert_int_equal(apply_one(t, CREATE("podsx", "a", "q", "u", "o")).code, STORE_OK);
    struct {
        const char *ns, *after_ns, *after_name, *want;
    } cases[] = {
        {NULL, "a", "x", "pods:a/y,pods:b/a,pods:b/z,"},
        {NULL, "a", "y", "pods:b/a,pods:b/z,"},
        {NULL, "a", "xx", "pods:a/y,pods:b/a,pods:b/z,"},
        {NULL, "b", "z", ""},
        {"a", "a", "x", "pods:a/y,"},
        {"b", "b", "", "pods:b/a,pods:b/z,"},
        {NULL, NULL, NULL, "pods:a/x,pods:a/y,pods:b/a,pods:b/z,"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct store_read r;
        struct list_acc a = {0};
        assert_int_equal(store_read_begin(t->s, &r), 0);
        assert_int_equal(store_list_after(&r, "pods", cases[i].ns, cases[i].after_ns,
                                          cases[i].after_name, list_after_fn, &a),
                         0);
        store_read_end(&r);
        ubuf_append(&a.out, "", 1);
        assert_string_equal(a.out.data, cases[i].want);
        ubuf_free(&a.out);
    }
}

static void test_list_resource_prefix(void **state)
{
    struct tstore *t = main_store(state);
    struct store_cmd cmds[] = {
        CREATE("pod", "a", "p1", "1", "x"),  CREATE("pods", "a", "p2", "2", "x"),
        CREATE("podsx", "a", "p3", "3", "x"), CREATE("pods", "ab", "p4", "4", "x"),
        CREATE("pod", "ab", "p5", "5", "x"), CREATE("po", "", "p6", "6", "x"),
    };
    free(apply_batch(t, 0, cmds, 6));
    char *l = list(t->s, "pod", NULL, 0);
    assert_string_equal(l, "pod:a/p1,pod:ab/p5,");
    free(l);
    l = list(t->s, "pods", NULL, 0);
    assert_string_equal(l, "pods:a/p2,pods:ab/p4,");
    free(l);
    l = list(t->s, "pod", "a", 0);
    assert_string_equal(l, "pod:a/p1,");
    free(l);
    l = list(t->s, "pods", "a", 0);
    assert_string_equal(l, "pods:a/p2,");
    free(l);
    l = list(t->s, "po", NULL, 0);
    assert_string_equal(l, "po:/p6,");
    free(l);
    l = list(t->s, "p", NULL, 0);
    assert_string_equal(l, "");
    free(l);
    assert_int_equal(get(t->s, "pod", "a", "p2").rc, STORE_NOT_FOUND);
    assert_int_equal(get(t->s, "pods", "a", "p1").rc, STORE_NOT_FOUND);
}

/* ==== the change log ==== */

static void test_changes_types_and_order(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "a", "ua", "a1")).code, STORE_OK);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "b", "ub", "b1")).code, STORE_OK);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "b", "ub", "b9")).code, STORE_EXISTS);
    assert_int_equal(apply_one(t, UPDATE("pods", "ns", "a", 1, "a2")).code, STORE_OK);
    assert_int_equal(apply_one(t, DELETE("pods", "ns", "a", 0, NULL)).code, STORE_OK);
    assert_int_equal(apply_one(t, PUT("pods", "ns", "b", NULL, "b2")).code, STORE_OK);

    struct ev_acc a;
    assert_int_equal(changes(t->s, 0, &a), 0);
    assert_int_equal(a.n, 5);
    struct {
        int type;
        const char *name, *obj, *uid;
        uint64_t create_rev;
    } want[] = {
        {STORE_ADDED, "a", "a1", "ua", 1},    {STORE_ADDED, "b", "b1", "ub", 2},
        {STORE_MODIFIED, "a", "a2", "ua", 1}, {STORE_DELETED, "a", "a2", "ua", 1},
        {STORE_MODIFIED, "b", "b2", "ub", 2},
    };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(a.e[i].rev, (uint64_t)i + 1);
        assert_int_equal(a.e[i].mod_rev, (uint64_t)i + 1);
        assert_int_equal(a.e[i].type, want[i].type);
        assert_string_equal(a.e[i].name, want[i].name);
        assert_string_equal(a.e[i].obj, want[i].obj);
        assert_string_equal(a.e[i].uid, want[i].uid);
        assert_int_equal(a.e[i].create_rev, want[i].create_rev);
    }

    /* Each change names the revision the object had before it. */
    uint64_t prev[] = {0, 0, 1, 3, 2};
    for (int i = 0; i < 5; i++)
        assert_int_equal(a.e[i].prev_rev, prev[i]);
    struct store_read r;
    struct store_event e;
    assert_int_equal(store_read_begin(t->s, &r), 0);
    assert_int_equal(store_change_at(&r, 3, &e), 0);
    assert_int_equal(e.type, STORE_MODIFIED);
    assert_int_equal(e.prev_rev, 1);
    assert_int_equal(e.o.obj_len, 2);
    assert_memory_equal(e.o.obj, "a2", 2);
    assert_int_equal(store_change_at(&r, 0, &e), STORE_NOT_FOUND);
    assert_int_equal(store_change_at(&r, 6, &e), STORE_NOT_FOUND);
    store_read_end(&r);

    /* after = N returns only revisions > N. */
    assert_int_equal(changes(t->s, 3, &a), 0);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.e[0].rev, 4);
    assert_int_equal(a.e[0].type, STORE_DELETED);
    assert_int_equal(changes(t->s, 4, &a), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.e[0].rev, 5);
    assert_int_equal(changes(t->s, 5, &a), 0);
    assert_int_equal(a.n, 0);
    assert_int_equal(changes(t->s, 1000, &a), 0);
    assert_int_equal(a.n, 0);
    /* fn returning non-zero stops. */
    a.stop_after = 2;
    assert_int_equal(changes(t->s, 0, &a), 0);
    assert_int_equal(a.n, 2);
}

static void test_changes_trim(void **state)
{
    struct tstore *t = main_store(state);
    char name[16];
    for (int i = 1; i <= 12; i++) {
        snprintf(name, sizeof name, "p%d", i);
        struct store_cmd c = CREATE("pods", "ns", name, "u", "v");
        free(apply_batch(t, 5, &c, 1));
        /* The log keeps the last min(5, revision) revisions. */
        struct store_read r;
        assert_int_equal(store_read_begin(t->s, &r), 0);
        assert_int_equal(r.revision, (uint64_t)i);
        assert_int_equal(r.first_rev, i <= 5 ? 1 : (uint64_t)i - 4);
        store_read_end(&r);
    }
    struct ev_acc a;
    assert_int_equal(changes(t->s, 0, &a), STORE_GONE_ERR);
    assert_int_equal(changes(t->s, 6, &a), STORE_GONE_ERR);
    assert_int_equal(changes(t->s, 7, &a), 0);
    assert_int_equal(a.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(a.e[i].rev, (uint64_t)i + 8);
    assert_int_equal(changes(t->s, 11, &a), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(changes(t->s, 12, &a), 0);
    assert_int_equal(a.n, 0);
    /* Objects are not trimmed, only their history. */
    assert_int_equal(get(t->s, "pods", "ns", "p1").rc, 0);

    /* One entry of many commands is trimmed at its end. */
    struct store_cmd cmds[8];
    char names[8][16];
    for (int i = 0; i < 8; i++) {
        snprintf(names[i], sizeof names[i], "q%d", i);
        cmds[i] = CREATE("pods", "ns", names[i], "u", "v");
    }
    free(apply_batch(t, 3, cmds, 8));
    struct state st;
    state_read(t->s, &st);
    assert_int_equal(st.revision, 20);
    assert_int_equal(st.first_rev, 18);
    ubuf_free(&st.log);
    assert_int_equal(changes(t->s, 16, &a), STORE_GONE_ERR);
    assert_int_equal(changes(t->s, 17, &a), 0);
    assert_int_equal(a.n, 3);

    /* Failed commands take no revision and trim nothing more. */
    struct store_cmd dup = CREATE("pods", "ns", "q0", "u", "v");
    free(apply_batch(t, 3, &dup, 1));
    state_read(t->s, &st);
    assert_int_equal(st.revision, 20);
    assert_int_equal(st.first_rev, 18);
    ubuf_free(&st.log);

    /* A larger history keeps what is left and lets the log grow again. */
    struct store_cmd more = CREATE("pods", "ns", "r", "u", "v");
    free(apply_batch(t, 0, &more, 1));
    state_read(t->s, &st);
    assert_int_equal(st.revision, 21);
    assert_int_equal(st.first_rev, 18);
    ubuf_free(&st.log);
}

static void test_changes_fresh_store(void **state)
{
    struct tstore *t = main_store(state);
    struct state st;
    state_read(t->s, &st);
    assert_int_equal(st.revision, 0);
    assert_int_equal(st.first_rev, 1);
    assert_int_equal(st.applied, 0);
    assert_int_equal(st.n_objects, 0);
    ubuf_free(&st.log);
    struct ev_acc a;
    assert_int_equal(changes(t->s, 0, &a), 0);
    assert_int_equal(a.n, 0);
    /* Trimming with history 1 keeps exactly the newest revision. */
    struct store_cmd c[] = {CREATE("pods", "", "a", "u", "v"), UPDATE("pods", "", "a", 0, "w")};
    free(apply_batch(t, 1, c, 2));
    state_read(t->s, &st);
    assert_int_equal(st.revision, 2);
    assert_int_equal(st.first_rev, 2);
    ubuf_free(&st.log);
    assert_int_equal(changes(t->s, 1, &a), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.e[0].type, STORE_MODIFIED);
    assert_int_equal(changes(t->s, 0, &a), STORE_GONE_ERR);
}

/* ==== malformed input ==== */

/* Applies buf and checks it changed nothing but the applied index. */
static void apply_expect_noop(struct tstore *t, const void *buf, size_t len)
{
    struct state before, after;
    state_read(t->s, &before);
    struct store_batch_result *br = apply_raw(t, buf, len);
    for (unsigned i = 0; i < br->n; i++) {
        assert_int_equal(br->r[i].code, STORE_INVALID);
        assert_int_equal(br->r[i].rev, 0);
    }
    free(br);
    state_read(t->s, &after);
    state_assert_equal(&before, &after);
    assert_int_equal(after.applied, t->index);
    assert_int_equal(store_applied_index(t->s), t->index);
    ubuf_free(&before.log);
    ubuf_free(&after.log);
}

/* A store with a few objects and revisions, so a bad trim would show. */
static struct tstore *populated(void **state)
{
    struct tstore *t = main_store(state);
    struct store_cmd cmds[] = {
        CREATE("pods", "ns", "a", "ua", "a"), CREATE("pods", "ns", "b", "ub", "b"),
        UPDATE("pods", "ns", "a", 1, "a2"),   DELETE("pods", "ns", "b", 0, NULL),
        CREATE("pods", "ns", "c", "uc", "c"),
    };
    free(apply_batch(t, 0, cmds, 5));
    return t;
}

static void test_malformed_random_bytes(void **state)
{
    struct tstore *t = populated(state);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned char buf[256];
    for (int i = 0; i < 300; i++) {
        size_t len = rnd(&x) % sizeof buf;
        for (size_t j = 0; j < len; j++)
            buf[j] = (unsigned char)rnd(&x);
        apply_expect_noop(t, buf, len);
    }
    apply_expect_noop(t, "", 0);
    apply_expect_noop(t, NULL, 0);
}

static void test_malformed_truncated(void **state)
{
    struct tstore *t = populated(state);
    /* The header carries history 1: applied, it would trim the log. */
    struct store_cmd c = CREATE("pods", "ns", "new", "un", "payload");
    struct ubuf b = {0}, h = {0};
    store_entry_encode_header(1, 1, &h);
    entry_build(&b, 1, &c, 1);
    /* Cut inside the header: the entry is not read at all. */
    for (size_t len = 0; len < h.len; len++)
        apply_expect_noop(t, b.data, len);
    /* Cut inside the command: it is invalid and takes no revision (the
     * header is whole, so its history applies). */
    for (size_t len = h.len; len < b.len; len++) {
        struct state before, after;
        state_read(t->s, &before);
        struct store_batch_result *br = apply_raw(t, b.data, len);
        assert_int_equal(br->n, 1);
        assert_int_equal(br->r[0].code, STORE_INVALID);
        free(br);
        state_read(t->s, &after);
        assert_int_equal(after.digest, before.digest);
        assert_int_equal(after.revision, before.revision);
        assert_int_equal(after.first_rev, before.revision);
        ubuf_free(&before.log);
        ubuf_free(&after.log);
    }
    ubuf_free(&h);
    ubuf_free(&b);
    assert_int_equal(get(t->s, "pods", "ns", "new").rc, STORE_NOT_FOUND);
}

static void test_malformed_header(void **state)
{
    struct tstore *t = populated(state);
    struct ubuf b = {0};
    struct store_cmd c = CREATE("pods", "ns", "new", "un", "payload");

    /* Wrong format version, with a history that would trim. */
    mp_put_array(&b, 3);
    mp_put_uint(&b, 2);
    mp_put_uint(&b, 1);
    mp_put_array(&b, 1);
    store_cmd_encode(&c, &b);
    apply_expect_noop(t, b.data, b.len);

    /* Header of 4 parts. */
    b.len = 0;
    mp_put_array(&b, 4);
    mp_put_uint(&b, 1);
    mp_put_uint(&b, 1);
    mp_put_array(&b, 1);
    store_cmd_encode(&c, &b);
    apply_expect_noop(t, b.data, b.len);

    /* A count far above what the bytes could hold. */
    b.len = 0;
    mp_put_array(&b, 3);
    mp_put_uint(&b, 1);
    mp_put_uint(&b, 1);
    mp_put_array(&b, 0xfffffff0u);
    store_cmd_encode(&c, &b);
    apply_expect_noop(t, b.data, b.len);

    /* History encoded as a string. */
    b.len = 0;
    mp_put_array(&b, 3);
    mp_put_uint(&b, 1);
    mp_put_str(&b, "1", 1);
    mp_put_array(&b, 1);
    store_cmd_encode(&c, &b);
    apply_expect_noop(t, b.data, b.len);
    ubuf_free(&b);
    assert_int_equal(get(t->s, "pods", "ns", "new").rc, STORE_NOT_FOUND);
}

static void test_malformed_commands(void **state)
{
    struct tstore *t = populated(state);
    struct ubuf b = {0};
    char long_name[KEY_MAX + 8];

    struct store_cmd bad[] = {
        CREATE("pods", "ns", "", "u", "v"),  /* empty name */
        CREATE("", "ns", "x", "u", "v"),     /* empty resource */
        PUT("pods", "ns", "", "u", "v"),
        DELETE("pods", "ns", "", 0, NULL),
        mk(0, "pods", "ns", "x", 0, NULL, "u", "v"), /* no such op */
        mk(5, "pods", "ns", "x", 0, NULL, "u", "v"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        entry_build(&b, 0, &bad[i], 1);
        apply_expect_noop(t, b.data, b.len);
    }

    /* NUL inside each part of the key. */
    const char *parts[3][3] = {
        {"po\0ds", "ns", "x"}, {"pods", "n\0s", "x"}, {"pods", "ns", "x\0y"}};
    size_t lens[3][3] = {{5, 2, 1}, {4, 3, 1}, {4, 2, 3}};
    for (int i = 0; i < 3; i++) {
        b.len = 0;
        store_entry_encode_header(1, 0, &b);
        raw_cmd(&b, STORE_OP_PUT, parts[i][0], lens[i][0], parts[i][1], lens[i][1], parts[i][2],
                lens[i][2]);
        apply_expect_noop(t, b.data, b.len);
    }

    /* A key longer than LMDB takes: resource + ns + name + 2 > 500. */
    memset(long_name, 'n', sizeof long_name);
    long_name[KEY_MAX - 4 - 2 - 2 + 1] = '\0'; /* with "pods", "ns": 501 bytes */
    struct store_cmd lc = PUT("pods", "ns", long_name, "u", "v");
    entry_build(&b, 0, &lc, 1);
    apply_expect_noop(t, b.data, b.len);
    assert_int_equal(get(t->s, "pods", "ns", long_name).rc, STORE_NOT_FOUND);
    /* One byte shorter fits exactly. */
    long_name[KEY_MAX - 4 - 2 - 2] = '\0';
    struct store_result r = apply_one(t, PUT("pods", "ns", long_name, "u", "v"));
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(get(t->s, "pods", "ns", long_name).rc, 0);
    char *l = list(t->s, "pods", "ns", 0);
    assert_non_null(strstr(l, long_name));
    free(l);
    /* A huge name neither crashes apply nor get. */
    char huge[4096];
    memset(huge, 'h', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    struct store_cmd hc = CREATE("pods", "ns", huge, "u", "v");
    entry_build(&b, 0, &hc, 1);
    apply_expect_noop(t, b.data, b.len);
    assert_int_equal(get(t->s, "pods", "ns", huge).rc, STORE_NOT_FOUND);
    l = list(t->s, huge, huge, 0);
    assert_string_equal(l, "");
    free(l);
    ubuf_free(&b);
}

static void test_malformed_command_in_batch(void **state)
{
    struct tstore *t = main_store(state);
    struct ubuf b = {0};
    struct store_cmd ok1 = CREATE("pods", "ns", "a", "ua", "a");
    struct store_cmd ok2 = CREATE("pods", "ns", "b", "ub", "b");
    struct store_cmd empty = CREATE("pods", "ns", "", "u", "v");
    /* A well-formed but invalid command fails alone. */
    store_entry_encode_header(3, 0, &b);
    store_cmd_encode(&ok1, &b);
    store_cmd_encode(&empty, &b);
    store_cmd_encode(&ok2, &b);
    struct store_batch_result *br = apply_raw(t, b.data, b.len);
    assert_int_equal(br->n, 3);
    assert_int_equal(br->r[0].code, STORE_OK);
    assert_int_equal(br->r[0].rev, 1);
    assert_int_equal(br->r[1].code, STORE_INVALID);
    assert_int_equal(br->r[1].rev, 0);
    assert_int_equal(br->r[2].code, STORE_OK);
    assert_int_equal(br->r[2].rev, 2);
    free(br);
    /* An undecodable command ends the entry: it and the rest are invalid. */
    struct store_cmd ok3 = CREATE("pods", "ns", "c", "uc", "c");
    struct store_cmd ok4 = CREATE("pods", "ns", "d", "ud", "d");
    b.len = 0;
    store_entry_encode_header(3, 0, &b);
    store_cmd_encode(&ok3, &b);
    mp_put_array(&b, 2);
    mp_put_uint(&b, 1);
    mp_put_uint(&b, 1);
    store_cmd_encode(&ok4, &b);
    br = apply_raw(t, b.data, b.len);
    assert_int_equal(br->n, 3);
    assert_int_equal(br->r[0].code, STORE_OK);
    assert_int_equal(br->r[0].rev, 3);
    assert_int_equal(br->r[1].code, STORE_INVALID);
    assert_int_equal(br->r[2].code, STORE_INVALID);
    free(br);
    /* A count above the commands present: the missing ones are invalid. */
    struct store_cmd ok5 = CREATE("pods", "ns", "e", "ue", "e");
    b.len = 0;
    store_entry_encode_header(3, 0, &b);
    store_cmd_encode(&ok5, &b);
    br = apply_raw(t, b.data, b.len);
    assert_int_equal(br->n, 3);
    assert_int_equal(br->r[0].code, STORE_OK);
    assert_int_equal(br->r[0].rev, 4);
    assert_int_equal(br->r[1].code, STORE_INVALID);
    assert_int_equal(br->r[2].code, STORE_INVALID);
    free(br);
    ubuf_free(&b);
    assert_int_equal(store_revision(t->s), 4);
    assert_int_equal(get(t->s, "pods", "ns", "c").rc, 0);
    assert_int_equal(get(t->s, "pods", "ns", "d").rc, STORE_NOT_FOUND);
}

static void test_malformed_bitflips(void **state)
{
    /* Corrupted proposals: whatever they do, nothing crashes and the change
     * log invariant holds. */
    struct tstore *t = populated(state);
    struct store_cmd cmds[] = {
        CREATE("pods", "ns", "f", "uf", "f"),
        UPDATE("pods", "ns", "a", 3, "a3"),
        DELETE("pods", "ns", "c", 0, "uc"),
        PUT("leases", "", "l", "ul", "l"),
    };
    struct ubuf b = {0};
    entry_build(&b, 50, cmds, 4);
    uint64_t x = 42;
    unsigned char *m = xmalloc(b.len);
    for (int i = 0; i < 400; i++) {
        memcpy(m, b.data, b.len);
        int flips = 1 + (int)(rnd(&x) % 3);
        for (int j = 0; j < flips; j++)
            m[rnd(&x) % b.len] ^= (unsigned char)(1u << (rnd(&x) % 8));
        size_t len = b.len - (rnd(&x) % 4 == 0 ? rnd(&x) % b.len : 0);
        struct state before, after;
        state_read(t->s, &before);
        struct store_batch_result *br = apply_raw(t, m, len);
        uint64_t took = 0;
        for (unsigned k = 0; k < br->n; k++) {
            assert_in_range(br->r[k].code, STORE_OK, STORE_INVALID);
            if (br->r[k].code == STORE_OK)
                assert_int_equal(br->r[k].rev, before.revision + ++took);
            else
                assert_int_equal(br->r[k].rev, 0);
        }
        free(br);
        state_read(t->s, &after); /* asserts the log invariant */
        assert_int_equal(after.revision, before.revision + took);
        ubuf_free(&before.log);
        ubuf_free(&after.log);
    }
    free(m);
    ubuf_free(&b);
}

static void test_cmd_valid(void **state)
{
    (void)state;
    struct ubuf b = {0};
    struct store_cmd c = CREATE("pods", "ns", "a", "uid", "body");
    store_cmd_encode(&c, &b);
    assert_true(store_cmd_valid(b.data, b.len));
    for (size_t len = 0; len < b.len; len++)
        assert_false(store_cmd_valid(b.data, len));
    assert_false(store_cmd_valid(NULL, 0));
    ubuf_append(&b, "\0", 1);
    assert_false(store_cmd_valid(b.data, b.len));
    /* Two commands are not one. */
    b.len = 0;
    store_cmd_encode(&c, &b);
    store_cmd_encode(&c, &b);
    assert_false(store_cmd_valid(b.data, b.len));
    /* Well-formed bytes of an insane command. */
    struct store_cmd empty = CREATE("pods", "ns", "", "u", "v");
    b.len = 0;
    store_cmd_encode(&empty, &b);
    assert_false(store_cmd_valid(b.data, b.len));
    b.len = 0;
    raw_cmd(&b, STORE_OP_CREATE, "pods", 4, "ns", 2, "a\0b", 3);
    assert_false(store_cmd_valid(b.data, b.len));
    /* Every op with optional fields left NULL encodes validly. */
    struct store_cmd all[] = {
        UPDATE("pods", NULL, "a", 0, NULL), DELETE("pods", NULL, "a", 3, NULL),
        PUT("pods", "", "a", NULL, NULL), CREATE("pods", NULL, "a", NULL, NULL)};
    for (int i = 0; i < 4; i++) {
        b.len = 0;
        store_cmd_encode(&all[i], &b);
        assert_true(store_cmd_valid(b.data, b.len));
    }
    /* An entry is not a command. */
    b.len = 0;
    entry_build(&b, 0, &c, 1);
    assert_false(store_cmd_valid(b.data, b.len));
    ubuf_free(&b);
}

/* ==== determinism, snapshots ==== */

/* A random entry of a few commands over a small key space, many failing. */
static void random_entry(uint64_t *x, struct ubuf *out, uint64_t history)
{
    static const char *names[] = {"a", "b", "c", "d", "e"};
    static const char *nss[] = {"", "x", "y"};
    unsigned n = 1 + (unsigned)(rnd(x) % 5);
    struct store_cmd cmds[5];
    char objs[5][32], uids[5][16];
    for (unsigned i = 0; i < n; i++) {
        snprintf(objs[i], sizeof objs[i], "obj-%llu", (unsigned long long)(rnd(x) % 1000));
        snprintf(uids[i], sizeof uids[i], "u%llu", (unsigned long long)(rnd(x) % 3));
        cmds[i] = mk(1 + (int)(rnd(x) % 4), rnd(x) % 2 ? "pods" : "pod", nss[rnd(x) % 3],
                     names[rnd(x) % 5], rnd(x) % 3 ? 0 : rnd(x) % 20,
                     rnd(x) % 4 ? NULL : uids[(i + 1) % n], uids[i], objs[i]);
    }
    entry_build(out, history, cmds, n);
}

static void test_determinism(void **state)
{
    struct fix *f = *state;
    struct tstore *a = fix_open(f, "a"), *b = fix_open(f, "b");
    uint64_t x = 7;
    struct ubuf e = {0};
    for (int i = 0; i < 150; i++) {
        random_entry(&x, &e, 20);
        struct store_batch_result *ra = apply_raw(a, e.data, e.len);
        struct store_batch_result *rb = apply_raw(b, e.data, e.len);
        assert_int_equal(ra->n, rb->n);
        assert_memory_equal(ra->r, rb->r, ra->n * sizeof ra->r[0]);
        free(ra);
        free(rb);
        if (i % 10 == 0) { /* failing entries too */
            apply_expect_noop(a, "junk", 4);
            apply_expect_noop(b, "junk", 4);
        }
    }
    ubuf_free(&e);
    struct state sa, sb;
    state_read(a->s, &sa);
    state_read(b->s, &sb);
    state_assert_equal(&sa, &sb);
    assert_int_equal(sa.applied, sb.applied);
    assert_true(sa.revision > 20); /* the run did trim */
    assert_true(sa.first_rev > 1);
    ubuf_free(&sa.log);
    ubuf_free(&sb.log);
}

static void test_digest_sensitive(void **state)
{
    struct fix *f = *state;
    struct tstore *a = fix_open(f, "a"), *b = fix_open(f, "b");
    struct state sa, sb;
    state_read(a->s, &sa);
    state_read(b->s, &sb);
    state_assert_equal(&sa, &sb);
    ubuf_free(&sa.log);
    ubuf_free(&sb.log);
    assert_int_equal(apply_one(a, CREATE("pods", "ns", "a", "u", "v1")).code, STORE_OK);
    assert_int_equal(apply_one(b, CREATE("pods", "ns", "a", "u", "v2")).code, STORE_OK);
    state_read(a->s, &sa);
    state_read(b->s, &sb);
    assert_int_not_equal(sa.digest, sb.digest);
    assert_int_equal(sa.n_objects, 1);
    ubuf_free(&sa.log);
    ubuf_free(&sb.log);
}

/* store_resource_revision: each resource's slot follows its own changes
 * only (a watch of pods must not wake for Leases), is at least as new as
 * the store's revision when first asked, is never ahead of the revision,
 * and jumps to the restored revision after a restore. */
static void test_resource_revision(void **state)
{
    struct fix *f = *state;
    struct tstore *a = fix_open(f, "a"), *b = fix_open(f, "b");
    assert_int_equal(apply_one(a, CREATE("pods", "ns", "p0", "u0", "v")).code, STORE_OK);
    const uint64_t *pods = store_resource_revision(a->s, "pods");
    const uint64_t *leases = store_resource_revision(a->s, "leases");
    assert_ptr_equal(store_resource_revision(a->s, "pods"), pods); /* one slot per name */
    assert_int_equal(*pods, store_revision(a->s));
    uint64_t pods_at = *pods;
    struct store_result r = apply_one(a, CREATE("leases", "kube-node-lease", "n1", "u1", "v"));
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(__atomic_load_n(leases, __ATOMIC_ACQUIRE), r.rev);
    assert_int_equal(__atomic_load_n(pods, __ATOMIC_ACQUIRE), pods_at);
    /* One entry that changes both: each gets its own last revision. */
    struct store_cmd two[] = {CREATE("pods", "ns", "p1", "u2", "v"),
                              UPDATE("leases", "kube-node-lease", "n1", r.rev, "w"),
                              CREATE("pods", "ns", "p0", "u3", "v")}; /* exists: no change */
    struct store_batch_result *br = apply_batch(a, 0, two, 3);
    assert_int_equal(br->r[2].code, STORE_EXISTS);
    assert_int_equal(*pods, br->r[0].rev);
    assert_int_equal(*leases, br->r[1].rev);
    assert_true(*pods <= store_revision(a->s) && *leases <= store_revision(a->s));
    free(br);
    /* A failed precondition changes nothing. */
    pods_at = *pods;
    assert_int_equal(apply_one(a, UPDATE("pods", "ns", "p1", 1, "x")).code, STORE_CONFLICT);
    assert_int_equal(*pods, pods_at);
    /* After a restore every slot says the restored revision. */
    const uint64_t *b_pods = store_resource_revision(b->s, "pods");
    void *snap;
    size_t len;
    assert_int_equal(store_snapshot(a->s, &snap, &len), 0);
    assert_int_equal(store_restore(b->s, snap, len), 0);
    free(snap);
    assert_int_equal(*b_pods, store_revision(b->s));
    assert_int_equal(store_revision(b->s), store_revision(a->s));
}

/* A reader that begins a transaction at revision R must find R already in
 * the slot of a resource that R changed: the watch hub moves an idle
 * watch of that resource to R when the slot says nothing newer than the
 * watch has, so a slot set after the commit (as it was) let a watch skip
 * an event (`bosun chaos` saw a watch on one server skip a delete). The
 * reader thread races the applier here; each entry changes "configmaps",
 * so every revision a transaction shows must be in the slot already. */
struct slot_reader {
    struct store *s;
    const uint64_t *slot;
    atomic_bool stop;
    uint64_t looks, ahead;
};

static void *slot_reader_main(void *arg)
{
    struct slot_reader *sr = arg;
    while (!atomic_load(&sr->stop)) {
        struct store_read r;
        if (store_read_begin(sr->s, &r) != 0)
            continue;
        uint64_t slot = __atomic_load_n(sr->slot, __ATOMIC_ACQUIRE);
        sr->looks++;
        sr->ahead += r.revision > slot;
        store_read_end(&r);
    }
    return NULL;
}

static void test_resource_revision_before_commit(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, CREATE("configmaps", "ns", "c", "u", "v0")).code, STORE_OK);
    struct slot_reader sr = {.s = t->s, .slot = store_resource_revision(t->s, "configmaps")};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slot_reader_main, &sr), 0);
    uint64_t rev = store_revision(t->s), t0 = util_now_ms();
    for (int i = 0; i < 20000 && util_now_ms() - t0 < 3000; i++) {
        struct store_result r = apply_one(t, UPDATE("configmaps", "ns", "c", rev, "v"));
        assert_int_equal(r.code, STORE_OK);
        rev = r.rev;
    }
    atomic_store(&sr.stop, true);
    pthread_join(th, NULL);
    assert_true(sr.looks > 0);
    assert_int_equal(sr.ahead, 0);
}

/* A snapshot view keeps the bytes of its moment while the store goes on:
 * its values point into the memory map, whose pages LMDB must not reuse
 * while the view's read transaction is open. */
static void test_snapshot_view_survives_writes(void **state)
{
    struct fix *f = *state;
    struct tstore *a = fix_open(f, "a");
    uint64_t x = 7;
    struct ubuf e = {0};
    for (int i = 0; i < 60; i++) {
        random_entry(&x, &e, 15);
        free(apply_raw(a, e.data, e.len));
    }
    void *ref;
    size_t ref_len;
    assert_int_equal(store_snapshot(a->s, &ref, &ref_len), 0);
    struct store_snapshot_view *v;
    assert_int_equal(store_snapshot_view(a->s, &v), 0);
    assert_true(store_snapshot_pieces(v) > 60);
    for (int i = 0; i < 400; i++) { /* every object rewritten, pages freed */
        random_entry(&x, &e, 15);
        free(apply_raw(a, e.data, e.len));
    }
    struct ubuf got = {0};
    for (size_t i = 0; i < store_snapshot_pieces(v); i++) {
        const void *p;
        size_t n;
        store_snapshot_piece(v, i, &p, &n);
        ubuf_append(&got, p, n);
    }
    store_snapshot_release(v);
    assert_int_equal(got.len, ref_len);
    assert_memory_equal(got.data, ref, ref_len);
    void *now;
    size_t now_len;
    assert_int_equal(store_snapshot(a->s, &now, &now_len), 0);
    assert_true(now_len != ref_len || memcmp(now, ref, ref_len) != 0); /* it did move on */
    free(now);
    free(ref);
    ubuf_free(&got);
    ubuf_free(&e);
}

static void test_snapshot_restore(void **state)
{
    struct fix *f = *state;
    struct tstore *a = fix_open(f, "a"), *b = fix_open(f, "b");
    uint64_t x = 99;
    struct ubuf e = {0};
    for (int i = 0; i < 60; i++) {
        random_entry(&x, &e, 15);
        free(apply_raw(a, e.data, e.len));
    }
    store_publish_index(a->s, a->index + 3); /* a barrier: not part of the state */
    /* b holds other data first: a restore replaces all of it. */
    assert_int_equal(apply_one(b, CREATE("other", "", "zzz", "u", "v")).code, STORE_OK);
    assert_int_equal(apply_one(b, CREATE("other", "", "yyy", "u", "v")).code, STORE_OK);

    void *snap;
    size_t len;
    assert_int_equal(store_snapshot(a->s, &snap, &len), 0);
    assert_int_equal(store_restore(b->s, snap, len), 0);
    free(snap);
    b->index = a->index;

    struct state sa, sb;
    state_read(a->s, &sa);
    state_read(b->s, &sb);
    state_assert_equal(&sa, &sb);
    assert_int_equal(sb.applied, a->index);
    assert_int_equal(store_revision(b->s), sa.revision);
    assert_int_equal(store_applied_index(b->s), a->index);
    assert_true(sa.first_rev > 1);
    ubuf_free(&sa.log);
    ubuf_free(&sb.log);
    assert_int_equal(get(b->s, "other", "", "zzz").rc, STORE_NOT_FOUND);
    struct ev_acc ev;
    assert_int_equal(changes(b->s, sa.first_rev - 2, &ev), STORE_GONE_ERR);

    a->index += 3; /* past the barrier */
    b->index += 3;
    for (int i = 0; i < 40; i++) {
        random_entry(&x, &e, 15);
        struct store_batch_result *ra = apply_raw(a, e.data, e.len);
        struct store_batch_result *rb = apply_raw(b, e.data, e.len);
        assert_memory_equal(ra->r, rb->r, ra->n * sizeof ra->r[0]);
        free(ra);
        free(rb);
    }
    ubuf_free(&e);
    state_read(a->s, &sa);
    state_read(b->s, &sb);
    state_assert_equal(&sa, &sb);
    ubuf_free(&sa.log);
    ubuf_free(&sb.log);

    /* A snapshot of an empty store restores to an empty store. */
    struct tstore *c = fix_open(f, "c");
    assert_int_equal(store_snapshot(c->s, &snap, &len), 0);
    assert_int_equal(store_restore(b->s, snap, len), 0);
    free(snap);
    state_read(b->s, &sb);
    state_read(c->s, &sa);
    state_assert_equal(&sa, &sb);
    ubuf_free(&sa.log);
    ubuf_free(&sb.log);
}

static void test_restore_corrupt(void **state)
{
    struct fix *f = *state;
    struct tstore *a = fix_open(f, "a"), *b = fix_open(f, "b");
    struct store_cmd cmds[] = {CREATE("pods", "ns", "a", "ua", "a"),
                               CREATE("pods", "ns", "b", "ub", "b")};
    free(apply_batch(a, 0, cmds, 2));
    assert_int_equal(apply_one(b, CREATE("keep", "", "me", "u", "v")).code, STORE_OK);
    struct state before, after;
    state_read(b->s, &before);

    void *snap;
    size_t len;
    assert_int_equal(store_snapshot(a->s, &snap, &len), 0);
    unsigned char *c = xmalloc(len + 1);
    for (size_t l = 0; l < len; l++) /* every truncation */
        assert_int_equal(store_restore(b->s, snap, l), -1);
    assert_int_equal(store_restore(b->s, NULL, 0), -1);
    memcpy(c, snap, len);
    c[0] ^= 1; /* bad magic */
    assert_int_equal(store_restore(b->s, c, len), -1);
    memcpy(c, snap, len);
    c[8] = 9; /* unknown record tag */
    assert_int_equal(store_restore(b->s, c, len), -1);
    memcpy(c, snap, len);
    c[9] = 0xff; /* key length far past the end */
    assert_int_equal(store_restore(b->s, c, len), -1);
    memcpy(c, snap, len);
    memset(c + 9, 0, 4); /* an empty key: LMDB refuses it */
    assert_int_equal(store_restore(b->s, c, len), -1);
    memcpy(c, snap, len);
    c[len - 1] = 7; /* no end marker */
    assert_int_equal(store_restore(b->s, c, len), -1);
    /* An end marker before the end (a record tag corrupted to 0) must not
     * restore only the records before it. */
    memcpy(c, snap, len);
    c[8] = 0;
    assert_int_equal(store_restore(b->s, c, len), -1);
    /* Bytes after the end marker. */
    memcpy(c, snap, len);
    c[len] = 0;
    assert_int_equal(store_restore(b->s, c, len + 1), -1);

    /* A failed restore leaves the store as it was. */
    state_read(b->s, &after);
    state_assert_equal(&before, &after);
    assert_int_equal(get(b->s, "keep", "", "me").rc, 0);
    ubuf_free(&before.log);
    ubuf_free(&after.log);

    /* Random garbage after a good magic never crashes; without a checksum a
     * mutation may still be well-formed, but almost all are refused. */
    uint64_t x = 5;
    int refused = 0;
    for (int i = 0; i < 200; i++) {
        memcpy(c, snap, len);
        for (size_t j = 8; j < len; j++)
            if (rnd(&x) % 8 == 0)
                c[j] = (unsigned char)rnd(&x);
        size_t l = 9 + (size_t)(rnd(&x) % (len - 8));
        int rc = store_restore(b->s, c, l);
        assert_true(rc == 0 || rc == -1);
        refused += rc == -1;
    }
    assert_true(refused >= 190);
    free(c);
    free(snap);
}

/* ==== waiting ==== */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_wait_reached(void **state)
{
    struct tstore *t = main_store(state);
    assert_true(store_wait_index(t->s, 0, 0));
    assert_int_equal(apply_one(t, CREATE("pods", "", "a", "u", "v")).code, STORE_OK);
    uint64_t t0 = now_ms();
    assert_true(store_wait_index(t->s, 1, 1000));
    assert_true(store_wait_index(t->s, 1, 0));
    assert_true(store_wait_revision_above(t->s, 0, 1000));
    assert_true(store_wait_revision_above(t->s, 0, 0));
    assert_true(now_ms() - t0 < 500);
    store_publish_index(t->s, 10);
    assert_int_equal(store_applied_index(t->s), 10);
    assert_true(store_wait_index(t->s, 10, 0));
    store_publish_index(t->s, 4); /* never goes back */
    assert_int_equal(store_applied_index(t->s), 10);
}

static void test_wait_timeout(void **state)
{
    struct tstore *t = main_store(state);
    assert_int_equal(apply_one(t, CREATE("pods", "", "a", "u", "v")).code, STORE_OK);
    uint64_t t0 = now_ms();
    assert_false(store_wait_index(t->s, 2, 60));
    uint64_t dt = now_ms() - t0;
    assert_true(dt >= 50 && dt < 2000);
    t0 = now_ms();
    assert_false(store_wait_revision_above(t->s, 1, 60));
    dt = now_ms() - t0;
    assert_true(dt >= 50 && dt < 2000);
    assert_false(store_wait_index(t->s, 2, 0));
    assert_false(store_wait_revision_above(t->s, 1, 0));
    /* A failed command advances the index, not the revision. */
    assert_int_equal(apply_one(t, CREATE("pods", "", "a", "u", "v")).code, STORE_EXISTS);
    assert_true(store_wait_index(t->s, 2, 0));
    assert_false(store_wait_revision_above(t->s, 1, 10));
}

struct applier {
    struct tstore *t;
    int delay_ms;
    bool publish_only; /* store_publish_index instead of an entry */
    bool wake_only;    /* store_wake_all only */
    int rc;
};

static void *applier_main(void *arg)
{
    struct applier *ap = arg;
    sleep_ms(ap->delay_ms);
    if (ap->wake_only) {
        store_wake_all(ap->t->s);
        return NULL;
    }
    ap->t->index++;
    if (ap->publish_only) {
        store_publish_index(ap->t->s, ap->t->index);
        return NULL;
    }
    struct store_cmd c = CREATE("pods", "", "late", "u", "v");
    struct ubuf b = {0};
    entry_build(&b, 0, &c, 1);
    struct store_batch_result *br = NULL;
    ap->rc = store_apply(ap->t->s, ap->t->index, b.data, b.len, &br);
    free(br);
    ubuf_free(&b);
    return NULL;
}

static void test_wait_other_thread(void **state)
{
    struct tstore *t = main_store(state);
    pthread_t th;
    struct applier ap = {.t = t, .delay_ms = 30};

    uint64_t t0 = now_ms();
    assert_int_equal(pthread_create(&th, NULL, applier_main, &ap), 0);
    assert_true(store_wait_revision_above(t->s, 0, 5000));
    assert_true(now_ms() - t0 < 4000);
    pthread_join(th, NULL);
    assert_int_equal(ap.rc, 0);

    ap = (struct applier){.t = t, .delay_ms = 30};
    assert_int_equal(pthread_create(&th, NULL, applier_main, &ap), 0);
    assert_true(store_wait_index(t->s, 2, 5000));
    pthread_join(th, NULL);
    assert_int_equal(ap.rc, 0);
    assert_int_equal(store_revision(t->s), 1); /* the second create failed */

    ap = (struct applier){.t = t, .delay_ms = 30, .publish_only = true};
    assert_int_equal(pthread_create(&th, NULL, applier_main, &ap), 0);
    assert_true(store_wait_index(t->s, 3, 5000));
    pthread_join(th, NULL);

    /* A bare wake-up is not a reason to return early. */
    ap = (struct applier){.t = t, .delay_ms = 10, .wake_only = true};
    t0 = now_ms();
    assert_int_equal(pthread_create(&th, NULL, applier_main, &ap), 0);
    assert_false(store_wait_index(t->s, 4, 100));
    assert_true(now_ms() - t0 >= 90);
    pthread_join(th, NULL);
}

/* ==== open ==== */

static void test_open_resets(void **state)
{
    struct fix *f = *state;
    struct tstore *t = fix_open(f, "s");
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "a", "u", "v")).code, STORE_OK);
    assert_int_equal(apply_one(t, CREATE("pods", "ns", "b", "u", "v")).code, STORE_OK);
    struct tstore *empty = fix_open(f, "empty");
    struct state fresh;
    state_read(empty->s, &fresh);

    store_close(t->s);
    t->s = NULL;
    char path[128], err[256] = "";
    snprintf(path, sizeof path, "%s/s", f->dir);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(store_open(&t->s, path, MAP_SIZE, NULL, err, sizeof err), 0);
    t->index = 0;
    struct state st;
    state_read(t->s, &st);
    state_assert_equal(&st, &fresh);
    assert_int_equal(st.applied, 0);
    assert_int_equal(store_applied_index(t->s), 0);
    assert_int_equal(store_revision(t->s), 0);
    assert_int_equal(get(t->s, "pods", "ns", "a").rc, STORE_NOT_FOUND);
    ubuf_free(&st.log);
    ubuf_free(&fresh.log);
    /* And it applies from index 1 again. */
    struct store_result r = apply_one(t, CREATE("pods", "ns", "a", "u", "v"));
    assert_int_equal(r.code, STORE_OK);
    assert_int_equal(r.rev, 1);

    /* A path that cannot be a directory fails cleanly. */
    struct store *bad = NULL;
    snprintf(path, sizeof path, "%s/missing/deeper", f->dir);
    assert_int_equal(store_open(&bad, path, MAP_SIZE, NULL, err, sizeof err), -1);
    assert_null(bad);
    assert_true(err[0] != '\0');
}

/* ==== a randomized run against a model ==== */

#define NKEYS 50

struct model_key {
    bool exists;
    uint64_t create_rev, mod_rev;
    char uid[16], obj[24];
};

static void model_check(struct store *s, const struct model_key *m, uint64_t revision,
                        uint64_t history)
{
    char ns[16], name[16];
    uint64_t live = 0;
    for (int k = 0; k < NKEYS; k++) {
        snprintf(ns, sizeof ns, "ns%d", k % 5);
        snprintf(name, sizeof name, "k%d", k);
        struct got g = get(s, "pods", ns, name);
        if (!m[k].exists) {
            assert_int_equal(g.rc, STORE_NOT_FOUND);
            continue;
        }
        live++;
        assert_int_equal(g.rc, 0);
        assert_int_equal(g.mod_rev, m[k].mod_rev);
        assert_int_equal(g.create_rev, m[k].create_rev);
        assert_string_equal(g.uid, m[k].uid);
        assert_string_equal(g.obj, m[k].obj);
    }
    struct store_read r;
    struct list_acc a = {0};
    assert_int_equal(store_read_begin(s, &r), 0);
    assert_int_equal(store_list(&r, "pods", NULL, list_fn, &a), 0);
    uint64_t n;
    store_digest(&r, &n);
    assert_int_equal(r.revision, revision);
    assert_int_equal(r.first_rev, revision > history ? revision - history + 1 : 1);
    store_read_end(&r);
    ubuf_free(&a.out);
    assert_int_equal((uint64_t)a.count, live);
    assert_int_equal(n, live);
    assert_int_equal(store_revision(s), revision);
}

static void test_random_model(void **state)
{
    struct tstore *t = main_store(state);
    struct model_key m[NKEYS] = {{0}};
    const uint64_t history = 64;
    uint64_t x = 0xdecafbadull, revision = 0;
    char ns[32][16], name[32][16], uid[32][16], euid[32][16], obj[32][24];
    struct store_cmd cmds[32];
    int want[32];
    int done = 0, entries = 0;

    while (done < 2000) {
        unsigned n = 1 + (unsigned)(rnd(&x) % 16);
        if (n > (unsigned)(2000 - done))
            n = (unsigned)(2000 - done);
        /* Decide each command against the model, as the store should. */
        for (unsigned i = 0; i < n; i++, done++) {
            int k = (int)(rnd(&x) % NKEYS);
            struct model_key *km = &m[k];
            int op = 1 + (int)(rnd(&x) % 4);
            snprintf(ns[i], sizeof ns[i], "ns%d", k % 5);
            snprintf(name[i], sizeof name[i], "k%d", k);
            snprintf(uid[i], sizeof uid[i], "u%d", done);
            snprintf(obj[i], sizeof obj[i], "o%d", done);
            uint64_t er = 0;
            switch (rnd(&x) % 3) {
            case 1: er = km->exists ? km->mod_rev : 1 + rnd(&x) % (revision + 1); break;
            case 2: er = km->mod_rev + 1 + rnd(&x) % 3; break;
            }
            const char *eu = NULL;
            if (rnd(&x) % 6 == 0) {
                snprintf(euid[i], sizeof euid[i], "%s", rnd(&x) % 2 ? km->uid : "bogus");
                eu = euid[i];
            }
            bool put_no_uid = op == STORE_OP_PUT && rnd(&x) % 4 == 0;
            cmds[i] = mk(op, "pods", ns[i], name[i], er, eu, put_no_uid ? NULL : uid[i], obj[i]);

            bool pre_ok = (!er || er == km->mod_rev) && (!eu || !*eu || !strcmp(eu, km->uid));
            switch (op) {
            case STORE_OP_CREATE:
                want[i] = km->exists ? STORE_EXISTS : STORE_OK;
                break;
            case STORE_OP_UPDATE:
            case STORE_OP_DELETE:
                want[i] = !km->exists ? STORE_NOT_FOUND : !pre_ok ? STORE_CONFLICT : STORE_OK;
                break;
            default:
                want[i] = STORE_OK;
            }
            if (want[i] != STORE_OK)
                continue;
            revision++;
            if (op == STORE_OP_DELETE) {
                km->exists = false;
                km->mod_rev = 0;
                continue;
            }
            if (!km->exists) {
                km->create_rev = revision;
                snprintf(km->uid, sizeof km->uid, "%s", put_no_uid ? "" : uid[i]);
            } else if (op == STORE_OP_PUT && !put_no_uid) {
                snprintf(km->uid, sizeof km->uid, "%s", uid[i]);
            }
            km->exists = true;
            km->mod_rev = revision;
            snprintf(km->obj, sizeof km->obj, "%s", obj[i]);
        }
        struct store_batch_result *br = apply_batch(t, history, cmds, n);
        uint64_t rev = revision;
        for (unsigned i = n; i-- > 0;) { /* revisions, counted back from the last */
            assert_int_equal(br->r[i].code, want[i]);
            assert_int_equal(br->r[i].rev, want[i] == STORE_OK ? rev-- : 0);
        }
        free(br);
        if (++entries % 10 == 0)
            model_check(t->s, m, revision, history);
    }
    model_check(t->s, m, revision, history);
    assert_true(revision > 500); /* the mix did exercise success paths */

    /* The change log replays to the same objects. */
    struct ev_acc a;
    assert_int_equal(changes(t->s, revision - 10, &a), 0);
    assert_int_equal(a.n, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(a.e[i].rev, revision - 9 + (uint64_t)i);
}

int main(void)
{
    util_log_set_level(UTIL_LOG_ERROR + 1); /* expected failures log errors */
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_create_then_exists),
        T(test_update_expect_rev),
        T(test_update_stale_conflict),
        T(test_update_delete_missing),
        T(test_delete_preconditions),
        T(test_put_upsert),
        T(test_update_keeps_identity),
        T(test_batch_consecutive_revs),
        T(test_batch_sees_earlier),
        T(test_empty_batch),
        T(test_get_list_scoping),
        T(test_list_resource_prefix),
        T(test_list_after),
    T(test_list_after),
        T(test_changes_types_and_order),
        T(test_changes_trim),
        T(test_changes_fresh_store),
        T(test_malformed_random_bytes),
        T(test_malformed_truncated),
        T(test_malformed_header),
        T(test_malformed_commands),
        T(test_malformed_command_in_batch),
        T(test_malformed_bitflips),
        T(test_cmd_valid),
        T(test_determinism),
        T(test_digest_sensitive),
        T(test_snapshot_restore),
        T(test_snapshot_view_survives_writes),
        T(test_resource_revision),
        T(test_resource_revision_before_commit),
        T(test_restore_corrupt),
        T(test_wait_reached),
        T(test_wait_timeout),
        T(test_wait_other_thread),
        T(test_open_resets),
        T(test_random_model),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
