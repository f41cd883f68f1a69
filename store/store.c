/* store.c — the LMDB state machine (see store.h for the model).
 *
 * Layout: three LMDB databases in one environment.
 *   objects  key "resource\0namespace\0name" -> [create_rev, mod_rev, uid, obj]
 *   changes  key revision (8 bytes big-endian) -> [type, resource, ns, name,
 *            create_rev, uid, obj, prev_rev]: the change log that feeds
 *            watches (prev_rev: the object's revision before this change, 0
 *            when added; a watch with a selector finds the previous state
 *            there to tell an object leaving the selection); every
 *            revision has exactly one record, so trimming the front is a walk
 *            from first_rev upwards.
 *   meta     "applied", "revision", "first_rev" (host-order uint64).
 * Invariant (asserted in apply): first_rev <= revision + 1, and the change log
 * holds exactly the revisions [first_rev, revision].
 *
 * Why a crash at any instant loses no acknowledged write and never applies an
 * entry twice:
 *  - A write is acknowledged only after its Raft entry is committed, that is
 *    fsynced in the Raft log (libraft's raft_uv, fsync on) of a majority, and
 *    applied here. The Raft log and snapshots are the durable record.
 *  - Nothing reads the LMDB file back, so it may live in memory: with
 *    mem_root (a memory file system) store_open puts it there and removes
 *    its name once LMDB holds it open; the kernel frees it when the process
 *    ends. On disk, writeback copied every dirtied page to the file for
 *    nothing, and each later write to a page it had cleaned faulted again.
 *  - The LMDB file is derived state. store_open empties it on every start, and
 *    libraft then restores the newest snapshot through store_restore and
 *    re-applies every committed entry after it, in order, exactly once into
 *    the empty database. So LMDB needs no fsync at all (MDB_NOSYNC): whatever
 *    a crash did to the file, it is thrown away, and an entry can never be
 *    applied on top of a state that already holds it. The cost is a replay of
 *    at most one snapshot plus snapshot-threshold entries at start.
 *  - Within one run, store_apply asserts that indexes strictly increase, and
 *    each entry is one write transaction with its applied index inside it:
 *    readers see an entry's writes all or none.
 *  - A snapshot is taken from one read transaction (a consistent view at the
 *    applied index libraft asked for) while writes continue.
 *
 * Apply is deterministic: it reads the entry and LMDB only; no clock, random
 * number or server id. The only tunable it uses, the change log length, comes
 * in the entry's header. */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

#define STORE_ENTRY_FORMAT 1
#define STORE_DEFAULT_MAP (8ull << 30)
#define STORE_DEFAULT_HISTORY 100000
#define STORE_KEY_MAX 500 /* LMDB's default maximum key size is 511 */
#define SNAP_MAGIC "BOSUNSS1"

/* A thread waiting for the published index to reach `index` (on its stack). */
struct index_waiter {
    uint64_t index;
    pthread_cond_t cond;
    struct index_waiter *next;
};

struct store {
    MDB_env *env;
    MDB_dbi objects, changes, meta;
    pthread_mutex_t mu;   /* guards the published fields and waiters below */
    pthread_cond_t cond;  /* revision changes (watches), broadcast */
    /* Index waiters, sorted by index: publishing wakes only those it reaches.
     * Waking every waiter on every apply woke ~170 forwarding threads ~100
     * times a second at 256 clients, nearly all to sleep again. */
    struct index_waiter *waiters;
    uint64_t published; /* highest Raft index applied (commands or not) */
    uint64_t applied;   /* highest Raft index of a command entry */
    uint64_t revision;
    uint64_t first_rev;
    /* Per resource (plural), the revision of its latest change: a watch
     * wakes only for its own resource (store_resource_revision). Slots are
     * made on first ask and live until store_close; guarded by mu for
     * insertion, their values stored and read atomically. A slot is set
     * before the commit that makes its revision visible (store_apply), so
     * no reader sees a revision its resource's slot does not show yet;
     * noted is the highest revision so set (mu), a new slot's start. */
    struct umap res_revs;
    uint64_t noted;
    char *map; /* where LMDB mapped the data file; NULL: unknown */
    /* Bytes at the start of the map whose pages are populated (prefault);
     * only the applying thread touches it. */
    size_t populated;
    bool prefault_off; /* the kernel has no MADV_POPULATE_WRITE */
};

static void waiters_wake(struct store *s);
static void prefault(struct store *s);


const char *store_code_name(int code)
{
    switch (code) {
    case STORE_OK: return "OK";
    case STORE_EXISTS: return "AlreadyExists";
    case STORE_NOT_FOUND: return "NotFound";
    case STORE_CONFLICT: return "Conflict";
    case STORE_INVALID: return "Invalid";
    default: return "Unknown";
    }
}

/* ---- encoding ---- */

void store_cmd_encode(const struct store_cmd *c, struct ubuf *out)
{
    mp_put_array(out, 8);
    mp_put_uint(out, (uint64_t)c->op);
    mp_put_str(out, c->resource, strlen(c->resource));
    mp_put_str(out, c->ns ? c->ns : "", c->ns ? strlen(c->ns) : 0);
    mp_put_str(out, c->name, strlen(c->name));
    mp_put_uint(out, c->expect_rev);
    mp_put_str(out, c->expect_uid ? c->expect_uid : "", c->expect_uid ? strlen(c->expect_uid) : 0);
    mp_put_str(out, c->uid ? c->uid : "", c->uid ? strlen(c->uid) : 0);
    mp_put_bin(out, c->obj, c->obj ? c->obj_len : 0);
}

void store_entry_encode_header(unsigned n_cmds, uint64_t history, struct ubuf *out)
{
    mp_put_array(out, 3);
    mp_put_uint(out, STORE_ENTRY_FORMAT);
    mp_put_uint(out, history);
    mp_put_array(out, n_cmds);
}

/* A decoded command: strings by pointer and length, into the entry buffer. */
struct cmd_view {
    uint64_t op;
    const char *resource, *ns, *name, *expect_uid, *uid;
    size_t resource_len, ns_len, name_len, expect_uid_len, uid_len;
    uint64_t expect_rev;
    const void *obj;
    size_t obj_len;
};

static bool cmd_read(struct mp_reader *r, struct cmd_view *c)
{
    if (mp_get_array(r) != 8)
        return false;
    c->op = mp_get_uint(r);
    c->resource = mp_get_str(r, &c->resource_len);
    c->ns = mp_get_str(r, &c->ns_len);
    c->name = mp_get_str(r, &c->name_len);
    c->expect_rev = mp_get_uint(r);
    c->expect_uid = mp_get_str(r, &c->expect_uid_len);
    c->uid = mp_get_str(r, &c->uid_len);
    c->obj = mp_get_bin(r, &c->obj_len);
    return !r->err;
}

/* A command is well-formed if its key fits and has no NUL inside a part. */
static bool cmd_sane(const struct cmd_view *c)
{
    if (c->op < STORE_OP_CREATE || c->op > STORE_OP_PUT)
        return false;
    if (c->resource_len == 0 || c->name_len == 0)
        return false;
    if (c->resource_len + c->ns_len + c->name_len + 2 > STORE_KEY_MAX)
        return false;
    if (memchr(c->resource, 0, c->resource_len) || memchr(c->ns, 0, c->ns_len) ||
        memchr(c->name, 0, c->name_len))
        return false;
    return true;
}

bool store_cmd_valid(const void *buf, size_t len)
{
    struct mp_reader r;
    struct cmd_view c;
    mp_reader_init(&r, buf, len);
    return cmd_read(&r, &c) && r.p == r.end && cmd_sane(&c);
}

/* ---- keys and records ---- */

static size_t key_build(char *key, const char *res, size_t rl, const char *ns, size_t nl,
                        const char *name, size_t ml)
{
    memcpy(key, res, rl);
    key[rl] = '\0';
    memcpy(key + rl + 1, ns, nl);
    key[rl + 1 + nl] = '\0';
    memcpy(key + rl + nl + 2, name, ml);
    return rl + nl + ml + 2;
}

/* Splits a key into its three parts; false if it is not a well-formed key. */
static bool key_split(const MDB_val *k, struct store_obj *o)
{
    const char *p = k->mv_data, *end = p + k->mv_size;
    const char *z1 = memchr(p, 0, k->mv_size);
    if (!z1)
        return false;
    const char *z2 = memchr(z1 + 1, 0, (size_t)(end - z1 - 1));
    if (!z2)
        return false;
    o->resource = p;
    o->resource_len = (size_t)(z1 - p);
    o->ns = z1 + 1;
    o->ns_len = (size_t)(z2 - z1 - 1);
    o->name = z2 + 1;
    o->name_len = (size_t)(end - z2 - 1);
    return true;
}

static void record_encode(struct ubuf *b, uint64_t create_rev, uint64_t mod_rev, const char *uid,
                          size_t uid_len, const void *obj, size_t obj_len)
{
    mp_put_array(b, 4);
    mp_put_uint(b, create_rev);
    mp_put_uint(b, mod_rev);
    mp_put_str(b, uid, uid_len);
    mp_put_bin(b, obj, obj_len);
}

static bool record_decode(const MDB_val *v, struct store_obj *o)
{
    struct mp_reader r;
    mp_reader_init(&r, v->mv_data, v->mv_size);
    if (mp_get_array(&r) != 4)
        return false;
    o->create_rev = mp_get_uint(&r);
    o->mod_rev = mp_get_uint(&r);
    o->uid = mp_get_str(&r, &o->uid_len);
    o->obj = mp_get_bin(&r, &o->obj_len);
    return !r.err;
}

static void rev_key(unsigned char k[8], uint64_t rev)
{
    for (int i = 0; i < 8; i++)
        k[i] = (unsigned char)(rev >> (56 - 8 * i));
}

static uint64_t rev_from_key(const MDB_val *k)
{
    uint64_t rev = 0;
    const unsigned char *p = k->mv_data;
    for (size_t i = 0; i < 8 && i < k->mv_size; i++)
        rev = (rev << 8) | p[i];
    return rev;
}

static bool change_decode(const MDB_val *k, const MDB_val *v, struct store_event *e)
{
    struct mp_reader r;
    mp_reader_init(&r, v->mv_data, v->mv_size);
    /* Seven elements: records from before prev_rev existed (snapshots). */
    uint32_t n = mp_get_array(&r);
    if (k->mv_size != 8 || (n != 7 && n != 8))
        return false;
    e->rev = rev_from_key(k);
    e->type = (int)mp_get_uint(&r);
    e->o.resource = mp_get_str(&r, &e->o.resource_len);
    e->o.ns = mp_get_str(&r, &e->o.ns_len);
    e->o.name = mp_get_str(&r, &e->o.name_len);
    e->o.create_rev = mp_get_uint(&r);
    e->o.mod_rev = e->rev;
    e->o.uid = mp_get_str(&r, &e->o.uid_len);
    e->o.obj = mp_get_bin(&r, &e->o.obj_len);
    e->prev_rev = n == 8 ? mp_get_uint(&r) : 0;
    return !r.err;
}

/* ---- meta ---- */

static int meta_get(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t *v)
{
    MDB_val k = {strlen(name), (void *)name}, d;
    int rc = mdb_get(txn, dbi, &k, &d);
    if (rc == MDB_NOTFOUND) {
        *v = 0;
        return 0;
    }
    if (rc != 0 || d.mv_size != sizeof *v)
        return rc ? rc : EINVAL;
    memcpy(v, d.mv_data, sizeof *v);
    return 0;
}

static int meta_put(MDB_txn *txn, MDB_dbi dbi, const char *name, uint64_t v)
{
    MDB_val k = {strlen(name), (void *)name}, d = {sizeof v, &v};
    return mdb_put(txn, dbi, &k, &d, 0);
}

/* ---- open/close ---- */

static int remove_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) != 0 && errno != ENOENT)
        return -1;
    return 0;
}

/* The directory LMDB opens its files in: a new one under mem_root (a
 * memory file system) when given and usable, else dir. */
static void env_dir_pick(const char *dir, const char *mem_root, char *out, size_t len)
{
    snprintf(out, len, "%s", dir);
    if (!mem_root || !*mem_root)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/bosun-state-XXXXXX", mem_root);
    if (mkdtemp(tmp))
        snprintf(out, len, "%s", tmp);
    else
        LOG_WARN("store: cannot use %s (%s): the state stays in %s", mem_root, strerror(errno),
                 dir);
}

/* Once LMDB holds its files open, their names under mem_root go: the memory
 * is freed when this process ends, however it ends. */
static void env_dir_forget(const char *env_dir, const char *dir)
{
    if (strcmp(env_dir, dir) == 0)
        return;
    remove_file(env_dir, "data.mdb");
    remove_file(env_dir, "lock.mdb");
    rmdir(env_dir);
}

/* The address LMDB mapped its data file at. LMDB does not say (its
 * me_mapaddr is only set for MDB_FIXEDMAP), so the mapping of the file's
 * device and inode is looked up in /proc/self/maps. NULL if not found. */
static char *map_find(MDB_env *env)
{
    int fd;
    struct stat st;
    if (mdb_env_get_fd(env, &fd) != 0 || fstat(fd, &st) != 0)
        return NULL;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return NULL;
    char line[4096], *found = NULL;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long start, end, off, ino;
        unsigned maj, min;
        if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &start, &end, &off, &maj, &min, &ino) == 6 &&
            off == 0 && ino == (unsigned long)st.st_ino && maj == major(st.st_dev) &&
            min == minor(st.st_dev))
            found = (char *)start;
    }
    fclose(f);
    return found;
}

int store_open(struct store **out, const char *dir, size_t map_size, const char *mem_root,
               char *err, size_t errlen)
{
    struct store *s = xcalloc(1, sizeof *s);
    int rc;
    MDB_txn *txn = NULL;
    char env_dir[4096];
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        goto fail;
    }
    /* Derived state: start empty, libraft replays snapshot + log (see top). */
    if (remove_file(dir, "data.mdb") != 0 || remove_file(dir, "lock.mdb") != 0) {
        snprintf(err, errlen, "cannot reset %s: %s", dir, strerror(errno));
        goto fail;
    }
    if ((rc = mdb_env_create(&s->env)) != 0)
        goto lmdb_fail;
    env_dir_pick(dir, mem_root, env_dir, sizeof env_dir);
    mdb_env_set_maxdbs(s->env, 4);
    mdb_env_set_maxreaders(s->env, 4096);
    mdb_env_set_mapsize(s->env, map_size ? map_size : STORE_DEFAULT_MAP);
    /* NOSYNC/MAPASYNC: the file is rebuilt on every start, so syncing it buys
     * nothing. WRITEMAP: apply writes pages in place instead of a pwrite per
     * page (1.8 pwrite calls per create before). NORDAHEAD: with WRITEMAP
     * every fault on a new page of the sparse file made ext4 read ahead (and
     * zero) a whole window: 8% of the servers' CPU. NOTLS: read transactions are
     * not tied to threads (a watch thread may hold one while another read
     * runs on the same thread). */
    rc = mdb_env_open(s->env, env_dir,
                      MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC | MDB_NOTLS |
                          MDB_NORDAHEAD,
                      0640);
    env_dir_forget(env_dir, dir);
    if (rc != 0)
        goto lmdb_fail;
    s->map = map_find(s->env);
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        goto lmdb_fail;
    if ((rc = mdb_dbi_open(txn, "objects", MDB_CREATE, &s->objects)) != 0 ||
        (rc = mdb_dbi_open(txn, "changes", MDB_CREATE, &s->changes)) != 0 ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta)) != 0 ||
        (rc = meta_put(txn, s->meta, "first_rev", 1)) != 0)
        goto lmdb_fail;
    if ((rc = mdb_txn_commit(txn)) != 0) {
        txn = NULL;
        goto lmdb_fail;
    }
    s->first_rev = 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = s;
    return 0;
lmdb_fail:
    snprintf(err, errlen, "lmdb in %s: %s", dir, mdb_strerror(rc));
    if (txn)
        mdb_txn_abort(txn);
fail:
    if (s->env)
        mdb_env_close(s->env);
    free(s);
    return -1;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    size_t it = 0;
    void *slot;
    while (umap_next(&s->res_revs, &it, NULL, &slot))
        free(slot);
    umap_free(&s->res_revs);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- apply ---- */

/* A resource an entry changed, and the revision of its last change there. */
struct res_change {
    const char *resource;
    size_t len;
    uint64_t rev;
};

/* Records the entry's changes in the per-resource revisions (mu held). Only
 * resources someone asked about have a slot. */
static void res_revs_note(struct store *s, const struct res_change *ch, unsigned n)
{
    if (s->res_revs.n == 0)
        return;
    char name[STORE_KEY_MAX + 1];
    for (unsigned i = 0; i < n; i++) {
        if (ch[i].len > STORE_KEY_MAX)
            continue;
        memcpy(name, ch[i].resource, ch[i].len);
        name[ch[i].len] = '\0';
        uint64_t *slot = umap_get(&s->res_revs, name);
        if (slot)
            __atomic_store_n(slot, ch[i].rev, __ATOMIC_RELEASE);
    }
}

/* Every slot to rev: after a restore, anything may have changed (mu held). */
static void res_revs_all(struct store *s, uint64_t rev)
{
    size_t it = 0;
    void *slot;
    while (umap_next(&s->res_revs, &it, NULL, &slot))
        __atomic_store_n((uint64_t *)slot, rev, __ATOMIC_RELEASE);
}

const uint64_t *store_resource_revision(struct store *s, const char *resource)
{
    pthread_mutex_lock(&s->mu);
    uint64_t *slot = umap_get(&s->res_revs, resource);
    if (!slot) {
        slot = xmalloc(sizeof *slot);
        /* changes before now are unknown: say "now", or the revision
         * being committed if its slots are already set */
        *slot = s->noted > s->revision ? s->noted : s->revision;
        umap_put(&s->res_revs, resource, slot);
    }
    pthread_mutex_unlock(&s->mu);
    return slot;
}

/* The state one entry's transaction works on. */
struct apply_ctx {
    struct store *s;
    MDB_txn *txn;
    uint64_t revision;
    uint64_t first_rev;
    struct ubuf val; /* scratch for encoded records */
};

static int change_append(struct apply_ctx *a, int type, const struct cmd_view *c,
                         uint64_t create_rev, const char *uid, size_t uid_len, const void *obj,
                         size_t obj_len, uint64_t prev_rev)
{
    unsigned char k[8];
    rev_key(k, a->revision);
    assert(prev_rev < a->revision);
    a->val.len = 0;
    mp_put_array(&a->val, 8);
    mp_put_uint(&a->val, (uint64_t)type);
    mp_put_str(&a->val, c->resource, c->resource_len);
    mp_put_str(&a->val, c->ns, c->ns_len);
    mp_put_str(&a->val, c->name, c->name_len);
    mp_put_uint(&a->val, create_rev);
    mp_put_str(&a->val, uid, uid_len);
    mp_put_bin(&a->val, obj, obj_len);
    mp_put_uint(&a->val, prev_rev);
    MDB_val key = {8, k}, val = {a->val.len, a->val.data};
    return mdb_put(a->txn, a->s->changes, &key, &val, MDB_APPEND);
}

static bool preconditions_hold(const struct cmd_view *c, const struct store_obj *cur)
{
    if (c->expect_rev && c->expect_rev != cur->mod_rev)
        return false;
    if (c->expect_uid_len &&
        (c->expect_uid_len != cur->uid_len || memcmp(c->expect_uid, cur->uid, cur->uid_len) != 0))
        return false;
    return true;
}

/* Applies one command; returns an LMDB error (fatal) or 0 with *res set. */
static int apply_cmd(struct apply_ctx *a, const struct cmd_view *c, struct store_result *res)
{
    char kbuf[STORE_KEY_MAX + 2];
    MDB_val key, cur;
    struct store_obj old = {0};
    int rc;

    res->code = STORE_OK;
    res->rev = 0;
    if (!cmd_sane(c)) {
        res->code = STORE_INVALID;
        return 0;
    }
    key.mv_size = key_build(kbuf, c->resource, c->resource_len, c->ns, c->ns_len, c->name,
                            c->name_len);
    key.mv_data = kbuf;
    rc = mdb_get(a->txn, a->s->objects, &key, &cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    bool exists = rc == 0;
    if (exists && !record_decode(&cur, &old))
        return MDB_CORRUPTED;

    switch (c->op) {
    case STORE_OP_CREATE:
        if (exists) {
            res->code = STORE_EXISTS;
            return 0;
        }
        break;
    case STORE_OP_UPDATE:
    case STORE_OP_DELETE:
        if (!exists) {
            res->code = STORE_NOT_FOUND;
            return 0;
        }
        if (!preconditions_hold(c, &old)) {
            res->code = STORE_CONFLICT;
            return 0;
        }
        break;
    default:
        break;
    }

    uint64_t rev = ++a->revision;
    res->rev = rev;
    if (c->op == STORE_OP_DELETE) {
        /* The DELETED event carries the last state; copy it before the del
         * invalidates LMDB's pointers. */
        struct ubuf keep = {0};
        ubuf_append(&keep, old.obj, old.obj_len);
        char *uid = xstrndup(old.uid, old.uid_len);
        rc = mdb_del(a->txn, a->s->objects, &key, NULL);
        if (rc == 0)
            rc = change_append(a, STORE_DELETED, c, old.create_rev, uid, old.uid_len, keep.data,
                               keep.len, old.mod_rev);
        free(uid);
        ubuf_free(&keep);
        return rc;
    }

    /* An update keeps the object's identity: its uid and creation revision. */
    uint64_t create_rev = exists ? old.create_rev : rev;
    uint64_t prev_rev = exists ? old.mod_rev : 0;
    const char *uid = c->uid;
    size_t uid_len = c->uid_len;
    if (exists && (c->op == STORE_OP_UPDATE || c->uid_len == 0)) {
        uid = old.uid;
        uid_len = old.uid_len;
    }
    char *uid_copy = xstrndup(uid, uid_len);
    a->val.len = 0;
    record_encode(&a->val, create_rev, rev, uid_copy, uid_len, c->obj, c->obj_len);
    MDB_val val = {a->val.len, a->val.data};
    rc = mdb_put(a->txn, a->s->objects, &key, &val, 0);
    if (rc == 0)
        rc = change_append(a, exists ? STORE_MODIFIED : STORE_ADDED, c, create_rev, uid_copy,
                           uid_len, c->obj, c->obj_len, prev_rev);
    free(uid_copy);
    return rc;
}

/* Drops change records from the front so at most `history` remain. */
static int changes_trim(struct apply_ctx *a, uint64_t history)
{
    if (history == 0)
        history = STORE_DEFAULT_HISTORY;
    while (a->revision >= a->first_rev && a->revision - a->first_rev + 1 > history) {
        unsigned char k[8];
        rev_key(k, a->first_rev);
        MDB_val key = {8, k};
        int rc = mdb_del(a->txn, a->s->changes, &key, NULL);
        if (rc != 0)
            return rc;
        a->first_rev++;
    }
    return 0;
}

static struct store_batch_result *results_new(uint64_t index, unsigned n)
{
    struct store_batch_result *br = xcalloc(1, sizeof *br + (size_t)n * sizeof br->r[0]);
    br->index = index;
    br->n = n;
    return br;
}

int store_apply(struct store *s, uint64_t index, const void *buf, size_t len,
                struct store_batch_result **out)
{
    struct mp_reader r;
    struct apply_ctx a = {.s = s};
    int rc;

    assert(index > s->applied); /* never apply an entry twice */
    mp_reader_init(&r, buf, len);
    uint32_t parts = mp_get_array(&r);
    uint64_t format = mp_get_uint(&r);
    uint64_t history = mp_get_uint(&r);
    uint32_t n = mp_get_array(&r);
    bool malformed = r.err || parts != 3 || format != STORE_ENTRY_FORMAT || n > len;
    if (malformed)
        n = 0; /* nothing to apply, not even its history; the index still advances */

    if ((rc = mdb_txn_begin(s->env, NULL, 0, &a.txn)) != 0)
        goto fail;
    a.revision = s->revision;
    a.first_rev = s->first_rev;
    struct store_batch_result *br = results_new(index, n);
    /* The resources this entry changes, with their last revision: at most
     * one per command (cmd_view points into buf, which outlives this). */
    struct res_change *rc_list = xmalloc((n ? n : 1) * sizeof *rc_list);
    unsigned n_rc = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct cmd_view c;
        if (!cmd_read(&r, &c)) {
            for (; i < n; i++)
                br->r[i].code = STORE_INVALID;
            break;
        }
        uint64_t before = a.revision;
        if ((rc = apply_cmd(&a, &c, &br->r[i])) != 0) {
            free(rc_list);
            free(br);
            goto fail;
        }
        if (a.revision != before)
            rc_list[n_rc++] = (struct res_change){c.resource, c.resource_len, a.revision};
    }
    if ((!malformed && (rc = changes_trim(&a, history)) != 0) ||
        (rc = meta_put(a.txn, s->meta, "applied", index)) ||
        (rc = meta_put(a.txn, s->meta, "revision", a.revision)) ||
        (rc = meta_put(a.txn, s->meta, "first_rev", a.first_rev))) {
        free(rc_list);
        free(br);
        goto fail;
    }
    /* The slots before the commit: a reader whose transaction shows this
     * revision must find it in its resources' slots, or the watch hub
     * moves a parked watch past the change without sending it. A slot
     * ahead of what readers see only wakes a watch early (and a failed
     * commit fails the server). */
    pthread_mutex_lock(&s->mu);
    res_revs_note(s, rc_list, n_rc);
    if (a.revision > s->noted)
        s->noted = a.revision;
    pthread_mutex_unlock(&s->mu);
    free(rc_list);
    rc = mdb_txn_commit(a.txn);
    a.txn = NULL;
    if (rc != 0) {
        free(br);
        goto fail;
    }
    assert(a.first_rev <= a.revision + 1);
    pthread_mutex_lock(&s->mu);
    s->applied = index;
    if (index > s->published)
        s->published = index;
    s->revision = a.revision;
    s->first_rev = a.first_rev;
    waiters_wake(s);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    ubuf_free(&a.val);
    prefault(s);
    *out = br;
    return 0;
fail:
    LOG_ERROR("store: apply of entry %llu failed: %s", (unsigned long long)index, mdb_strerror(rc));
    if (a.txn)
        mdb_txn_abort(a.txn);
    ubuf_free(&a.val);
    return -1;
}

/* Populates the map's pages ahead of LMDB's last page, a chunk at a time.
 * Why: the database grows by about a page per create, and each first write
 * to a page of the (memory) file was a page fault: about one per create on
 * every server, each a trap into the kernel that costs several
 * microseconds here (under a hypervisor, more). MADV_POPULATE_WRITE
 * (Linux 5.14) makes a chunk's pages in one call. It changes no contents:
 * LMDB never reads past its last page, and apply stays deterministic. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define PREFAULT_CHUNK (4u << 20)

static void prefault(struct store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    if (!s->map || s->prefault_off || mdb_env_info(s->env, &info) != 0 ||
        mdb_env_stat(s->env, &st) != 0)
        return;
    size_t used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
    if (used + PREFAULT_CHUNK / 2 <= s->populated)
        return;
    size_t from = used > s->populated ? used : s->populated; /* both whole pages */
    if (from >= info.me_mapsize)
        return;
    size_t len = info.me_mapsize - from < PREFAULT_CHUNK ? info.me_mapsize - from : PREFAULT_CHUNK;
    if (madvise(s->map + from, len, MADV_POPULATE_WRITE) != 0) {
        LOG_INFO("store: no prefault of the map (%s)", strerror(errno));
        s->prefault_off = true;
        return;
    }
    s->populated = from + len;
}

void store_publish_index(struct store *s, uint64_t index)
{
    pthread_mutex_lock(&s->mu);
    if (index > s->published) {
        s->published = index;
        waiters_wake(s);
    }
    pthread_mutex_unlock(&s->mu);
}

uint64_t store_size_bytes(struct store *s)
{
    MDB_envinfo info;
    MDB_stat st;
    if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &st) != 0)
        return 0;
    return ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
}

uint64_t store_applied_index(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->published;
    pthread_mutex_unlock(&s->mu);
    return v;
}

uint64_t store_revision(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->revision;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Wakes the index waiters the published index has reached (lock held). */
static void waiters_wake(struct store *s)
{
    while (s->waiters && s->waiters->index <= s->published) {
        struct index_waiter *w = s->waiters;
        s->waiters = w->next;
        w->next = NULL;
        pthread_cond_signal(&w->cond);
    }
}


/* Waits until *field (read under the lock) exceeds `above`. */
static bool wait_above(struct store *s, const uint64_t *field, uint64_t above, int timeout_ms)
{
    struct timespec ts;
    util_deadline(&ts, timeout_ms);
    pthread_mutex_lock(&s->mu);
    while (*field <= above) {
        if (pthread_cond_timedwait(&s->cond, &s->mu, &ts) == ETIMEDOUT)
            break;
    }
    bool ok = *field > above;
    pthread_mutex_unlock(&s->mu);
    return ok;
}

bool store_wait_index(struct store *s, uint64_t index, int timeout_ms)
{
    struct timespec ts;
    util_deadline(&ts, timeout_ms);
    pthread_mutex_lock(&s->mu);
    if (s->published >= index) {
        pthread_mutex_unlock(&s->mu);
        return true;
    }
    struct index_waiter w = {.index = index};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &ca);
    pthread_condattr_destroy(&ca);
    struct index_waiter **pp = &s->waiters;
    while (*pp && (*pp)->index <= index)
        pp = &(*pp)->next;
    w.next = *pp;
    *pp = &w;
    while (s->published < index)
        if (pthread_cond_timedwait(&w.cond, &s->mu, &ts) == ETIMEDOUT)
            break;
    bool ok = s->published >= index;
    /* Still queued (timeout): unlink ourselves. */
    for (pp = &s->waiters; *pp; pp = &(*pp)->next)
        if (*pp == &w) {
            *pp = w.next;
            break;
        }
    pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&w.cond);
    return ok;
}

bool store_wait_revision_above(struct store *s, uint64_t rev, int timeout_ms)
{
    return wait_above(s, &s->revision, rev, timeout_ms);
}

void store_wake_all(struct store *s)
{
    pthread_mutex_lock(&s->mu);
    for (struct index_waiter *w = s->waiters; w; w = w->next)
        pthread_cond_signal(&w->cond);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

/* ---- snapshots ---- */

enum { SNAP_END = 0, SNAP_OBJECTS = 1, SNAP_CHANGES = 2, SNAP_META = 3 };

static void put_u32(struct ubuf *b, uint32_t v)
{
    unsigned char t[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    ubuf_append(b, t, 4);
}

/* A snapshot as pieces to write in order, without copying the values: the
 * record headers and keys go into one arena, each value is a piece that
 * points into the memory map, which the view's read transaction keeps
 * unchanged (LMDB never reuses a page an open reader can see) until
 * store_snapshot_release. A piece is in the arena (p NULL, at off) or in
 * the map (p). Copying 270 MB of state into one buffer took 1.7-2.5 s on
 * the Raft loop (libraft 0.22.1 takes snapshots there); the values are
 * nearly all of it. */
struct snap_piece {
    const void *p;
    size_t off, len;
};
struct store_snapshot_view {
    struct store_read r;
    struct ubuf arena;
    struct snap_piece *pieces;
    size_t n, cap;
    size_t arena_from; /* where the arena piece being built starts */
};

static void snap_piece_add(struct store_snapshot_view *v, const void *p, size_t off, size_t len)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 1024;
        v->pieces = xrealloc(v->pieces, v->cap * sizeof *v->pieces);
    }
    v->pieces[v->n++] = (struct snap_piece){p, off, len};
}

/* Ends the arena piece being built (if it has bytes). */
static void snap_arena_cut(struct store_snapshot_view *v)
{
    if (v->arena.len > v->arena_from)
        snap_piece_add(v, NULL, v->arena_from, v->arena.len - v->arena_from);
    v->arena_from = v->arena.len;
}

static int snap_dump_db(struct store_snapshot_view *v, MDB_dbi dbi, uint8_t tag)
{
    MDB_cursor *cur;
    MDB_val k, val;
    int rc = mdb_cursor_open(v->r.txn, dbi, &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        ubuf_append(&v->arena, &tag, 1);
        put_u32(&v->arena, (uint32_t)k.mv_size);
        ubuf_append(&v->arena, k.mv_data, k.mv_size);
        put_u32(&v->arena, (uint32_t)val.mv_size);
        if (val.mv_size) {
            snap_arena_cut(v);
            snap_piece_add(v, val.mv_data, 0, val.mv_size);
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_snapshot_view(struct store *s, struct store_snapshot_view **out)
{
    struct store_snapshot_view *v = xcalloc(1, sizeof *v);
    if (store_read_begin(s, &v->r) != 0) {
        free(v);
        return -1;
    }
    ubuf_append(&v->arena, SNAP_MAGIC, 8);
    int rc = snap_dump_db(v, s->meta, SNAP_META);
    if (rc == 0)
        rc = snap_dump_db(v, s->objects, SNAP_OBJECTS);
    if (rc == 0)
        rc = snap_dump_db(v, s->changes, SNAP_CHANGES);
    if (rc != 0) {
        store_snapshot_release(v);
        return -1;
    }
    uint8_t end = SNAP_END;
    ubuf_append(&v->arena, &end, 1);
    snap_arena_cut(v);
    *out = v;
    return 0;
}

size_t store_snapshot_pieces(const struct store_snapshot_view *v)
{
    return v->n;
}

void store_snapshot_piece(const struct store_snapshot_view *v, size_t i, const void **base,
                          size_t *len)
{
    assert(i < v->n);
    const struct snap_piece *pc = &v->pieces[i];
    *base = pc->p ? pc->p : (const unsigned char *)v->arena.data + pc->off;
    *len = pc->len;
}

void store_snapshot_release(struct store_snapshot_view *v)
{
    if (!v)
        return;
    store_read_end(&v->r);
    ubuf_free(&v->arena);
    free(v->pieces);
    free(v);
}

int store_snapshot(struct store *s, void **buf, size_t *len)
{
    struct store_snapshot_view *v;
    if (store_snapshot_view(s, &v) != 0)
        return -1;
    struct ubuf b = {0};
    for (size_t i = 0; i < v->n; i++) {
        const void *p;
        size_t n;
        store_snapshot_piece(v, i, &p, &n);
        ubuf_append(&b, p, n);
    }
    store_snapshot_release(v);
    *buf = b.data;
    *len = b.len;
    return 0;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A restored state must keep the invariants apply relies on: the change log
 * holds exactly the revisions [first_rev, revision] under 8-byte keys, and
 * every object key has its three parts. A snapshot that breaks them (corrupt,
 * or not ours) is refused rather than applied on. */
static bool restored_consistent(MDB_txn *txn, struct store *s, uint64_t revision,
                                uint64_t first_rev)
{
    MDB_cursor *cur;
    MDB_val k, v;
    bool ok = first_rev <= revision + 1;
    uint64_t expect = first_rev;
    if (!ok || mdb_cursor_open(txn, s->changes, &cur) != 0)
        return false;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); ok && rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        ok = k.mv_size == 8 && rev_from_key(&k) == expect++;
    mdb_cursor_close(cur);
    ok = ok && expect == revision + 1;
    if (!ok || mdb_cursor_open(txn, s->objects, &cur) != 0)
        return false;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); ok && rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct store_obj o;
        ok = key_split(&k, &o) && record_decode(&v, &o);
    }
    mdb_cursor_close(cur);
    return ok;
}

int store_restore(struct store *s, const void *buf, size_t len)
{
    const unsigned char *p = buf, *end;
    MDB_txn *txn;
    int rc;
    if (len < 9 || memcmp(p, SNAP_MAGIC, 8) != 0)
        return -1;
    end = p + len; /* after the check: buf may be NULL when len is 0 */
    p += 8;
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        return -1;
    if ((rc = mdb_drop(txn, s->objects, 0)) || (rc = mdb_drop(txn, s->changes, 0)) ||
        (rc = mdb_drop(txn, s->meta, 0)))
        goto fail;
    for (;;) {
        if (p >= end)
            goto bad;
        uint8_t tag = *p++;
        if (tag == SNAP_END) {
            if (p != end) /* an early end marker would drop the rest */
                goto bad;
            break;
        }
        MDB_dbi dbi = tag == SNAP_OBJECTS ? s->objects : tag == SNAP_CHANGES ? s->changes : s->meta;
        if (tag > SNAP_META || end - p < 4)
            goto bad;
        MDB_val k, v;
        k.mv_size = get_u32(p);
        p += 4;
        if ((size_t)(end - p) < k.mv_size + 4)
            goto bad;
        k.mv_data = (void *)p;
        p += k.mv_size;
        v.mv_size = get_u32(p);
        p += 4;
        if ((size_t)(end - p) < v.mv_size)
            goto bad;
        v.mv_data = (void *)p;
        p += v.mv_size;
        if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0)
            goto fail;
    }
    uint64_t applied, revision, first_rev;
    if (meta_get(txn, s->meta, "applied", &applied) || meta_get(txn, s->meta, "revision", &revision) ||
        meta_get(txn, s->meta, "first_rev", &first_rev))
        goto bad;
    if (first_rev == 0)
        first_rev = 1;
    if (!restored_consistent(txn, s, revision, first_rev))
        goto bad;
    pthread_mutex_lock(&s->mu); /* the slots before the commit, as in store_apply */
    res_revs_all(s, revision);
    s->noted = revision;
    pthread_mutex_unlock(&s->mu);
    if ((rc = mdb_txn_commit(txn)) != 0)
        return -1;
    pthread_mutex_lock(&s->mu);
    s->applied = applied;
    if (applied > s->published)
        s->published = applied;
    s->revision = revision;
    s->first_rev = first_rev;
    waiters_wake(s);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    return 0;
bad:
    LOG_ERROR("store: malformed snapshot");
fail:
    mdb_txn_abort(txn);
    return -1;
}

/* ---- reads ---- */

int store_read_begin(struct store *s, struct store_read *r)
{
    MDB_txn *txn;
    memset(r, 0, sizeof *r);
    r->s = s;
    if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0)
        return -1;
    r->txn = txn;
    /* The revision the transaction sees is the one stored inside it. */
    if (meta_get(txn, s->meta, "revision", &r->revision) ||
        meta_get(txn, s->meta, "applied", &r->applied) ||
        meta_get(txn, s->meta, "first_rev", &r->first_rev)) {
        mdb_txn_abort(txn);
        r->txn = NULL;
        return -1;
    }
    if (r->first_rev == 0)
        r->first_rev = 1;
    return 0;
}

void store_read_end(struct store_read *r)
{
    if (r->txn)
        mdb_txn_abort(r->txn);
    r->txn = NULL;
}

int store_get(struct store_read *r, const char *resource, const char *ns, const char *name,
              struct store_obj *out)
{
    char kbuf[STORE_KEY_MAX + 2];
    size_t rl = strlen(resource), nl = ns ? strlen(ns) : 0, ml = strlen(name);
    if (rl + nl + ml + 2 > STORE_KEY_MAX)
        return STORE_NOT_FOUND;
    MDB_val k = {key_build(kbuf, resource, rl, ns ? ns : "", nl, name, ml), kbuf}, v;
    int rc = mdb_get(r->txn, r->s->objects, &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_NOT_FOUND;
    if (rc != 0 || !record_decode(&v, out))
        return -1;
    /* The key parts are the caller's own strings (kbuf dies with us). */
    out->resource = resource;
    out->resource_len = rl;
    out->ns = ns ? ns : "";
    out->ns_len = nl;
    out->name = name;
    out->name_len = ml;
    return 0;
}

int store_list_after(struct store_read *r, const char *resource, const char *ns,
                     const char *after_ns, const char *after_name, store_obj_fn fn, void *arg)
{
    char prefix[STORE_KEY_MAX + 2], start[STORE_KEY_MAX + 2];
    size_t rl = strlen(resource), plen;
    if (rl + (ns ? strlen(ns) : 0) + 2 > STORE_KEY_MAX)
        return 0;
    memcpy(prefix, resource, rl);
    prefix[rl] = '\0';
    plen = rl + 1;
    if (ns) {
        size_t nl = strlen(ns);
        memcpy(prefix + plen, ns, nl);
        prefix[plen + nl] = '\0';
        plen += nl + 1;
    }
    MDB_val k = {plen, prefix}, v;
    bool skip_equal = false;
    if (after_name) {
        size_t anl = strlen(after_ns), aml = strlen(after_name);
        if (rl + anl + aml + 2 > STORE_KEY_MAX)
            return 0;
        k.mv_size = key_build(start, resource, rl, after_ns, anl, after_name, aml);
        k.mv_data = start;
        skip_equal = true;
    }
    MDB_cursor *cur;
    if (mdb_cursor_open(r->txn, r->s->objects, &cur) != 0)
        return -1;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE), ret = 0;
    if (rc == 0 && skip_equal && k.mv_size == (size_t)(rl + strlen(after_ns) + strlen(after_name) + 2) &&
        memcmp(k.mv_data, start, k.mv_size) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        struct store_obj o;
        if (!key_split(&k, &o) || !record_decode(&v, &o)) {
            ret = -1;
            break;
        }
        if (fn(arg, &o) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        ret = -1;
    return ret;
}

int store_list(struct store_read *r, const char *resource, const char *ns, store_obj_fn fn,
               void *arg)
{
    return store_list_after(r, resource, ns, NULL, NULL, fn, arg);
}

int store_changes(struct store_read *r, uint64_t after, store_event_fn fn, void *arg)
{
    if (after + 1 < r->first_rev)
        return STORE_GONE_ERR;
    if (after >= r->revision)
        return 0;
    unsigned char kb[8];
    rev_key(kb, after + 1);
    MDB_cursor *cur;
    MDB_val k = {8, kb}, v;
    if (mdb_cursor_open(r->txn, r->s->changes, &cur) != 0)
        return -1;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE), ret = 0;
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct store_event e;
        if (!change_decode(&k, &v, &e)) {
            ret = -1;
            break;
        }
        if (fn(arg, &e) != 0)
            break;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        ret = -1;
    return ret;
}

int store_change_at(struct store_read *r, uint64_t rev, struct store_event *e)
{
    if (rev < r->first_rev || rev > r->revision)
        return STORE_NOT_FOUND;
    unsigned char kb[8];
    rev_key(kb, rev);
    MDB_val k = {8, kb}, v;
    int rc = mdb_get(r->txn, r->s->changes, &k, &v);
    if (rc == MDB_NOTFOUND)
        return STORE_NOT_FOUND;
    if (rc != 0 || !change_decode(&k, &v, e))
        return -1;
    return 0;
}

uint64_t store_digest(struct store_read *r, uint64_t *n_objects)
{
    uint64_t h = UTIL_HASH_SEED, n = 0;
    MDB_cursor *cur;
    MDB_val k, v;
    if (mdb_cursor_open(r->txn, r->s->objects, &cur) != 0)
        return 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        h = util_hash(util_hash(h, k.mv_data, k.mv_size), v.mv_data, v.mv_size);
        n++;
    }
    mdb_cursor_close(cur);
    h = (h ^ r->revision) * 1099511628211ull;
    if (n_objects)
        *n_objects = n;
    return h;
}
