/* store — the replicated state machine: cluster state in LMDB.
 *
 * Objects live in LMDB keyed by (resource, namespace, name) and are stored as
 * msgpack. Every mutation takes the next cluster revision, which becomes the
 * object's metadata.resourceVersion, and appends a record to a bounded change
 * log (keyed by revision) that feeds watches. Writes arrive as Raft entries,
 * each a batch of commands decided before proposing (uids, timestamps, object
 * bodies); store_apply applies one entry in one LMDB write transaction and
 * decides each command's outcome (AlreadyExists, NotFound, Conflict) from the
 * entry and the LMDB contents alone, so every replica reaches the same state.
 *
 * Readers (HTTP threads, the leader's loops) open LMDB read transactions:
 * they never block the writer or each other. See store.c for why a crash at any
 * instant loses no acknowledged write and never applies an entry twice. */
#ifndef BOSUN_STORE_H
#define BOSUN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

struct store;

/* The operations a command can carry. */
enum store_op {
    STORE_OP_CREATE = 1, /* fails with STORE_EXISTS if present */
    STORE_OP_UPDATE = 2, /* fails with STORE_NOT_FOUND / STORE_CONFLICT */
    STORE_OP_DELETE = 3, /* fails with STORE_NOT_FOUND / STORE_CONFLICT */
    STORE_OP_PUT = 4,    /* create or replace, no preconditions (internal records) */
};

/* A command's outcome. */
enum store_code {
    STORE_OK = 0,
    STORE_EXISTS = 1,    /* create of a present key */
    STORE_NOT_FOUND = 2, /* update/delete of a missing key */
    STORE_CONFLICT = 3,  /* expected resourceVersion or uid differs */
    STORE_INVALID = 4,   /* the command itself is malformed */
};
const char *store_code_name(int code);

/* Change types, as in watch events. */
enum store_change { STORE_ADDED = 1, STORE_MODIFIED = 2, STORE_DELETED = 3 };

/* One write, fully decided before it is proposed. Strings are NUL-terminated;
 * ns is "" for cluster-scoped resources. */
struct store_cmd {
    int op;
    const char *resource;
    const char *ns;
    const char *name;
    uint64_t expect_rev;    /* 0: no resourceVersion precondition */
    const char *expect_uid; /* NULL or "": no uid precondition */
    const char *uid;        /* uid recorded with the object (create/put) */
    const void *obj;        /* the object, msgpack; create/update/put */
    size_t obj_len;
};

struct store_result {
    int code;     /* enum store_code */
    uint64_t rev; /* the revision this command took (0 unless STORE_OK) */
};

/* What applying one entry produced: one result per command, in order. */
struct store_batch_result {
    uint64_t index; /* the Raft index of the entry */
    unsigned n;
    struct store_result r[];
};

/* Encoding of proposals. An entry is a header followed by n encoded commands;
 * the proposer concatenates commands that HTTP threads encoded on their own. */
void store_cmd_encode(const struct store_cmd *cmd, struct ubuf *out);
void store_entry_encode_header(unsigned n_cmds, uint64_t history, struct ubuf *out);
/* True if buf holds exactly one well-formed encoded command: the leader checks
 * forwarded commands before it concatenates them into an entry. */
bool store_cmd_valid(const void *buf, size_t len);

/* Opens (creating) the LMDB environment in dir. The LMDB file is derived
 * state: it is emptied here and rebuilt from the Raft snapshot and log (see
 * store.c). map_size 0 picks the default (8 GiB of address space). With
 * mem_root (a memory file system such as /dev/shm), the LMDB files live
 * there instead, unnamed once open, so they go when the process ends (see
 * store.c). */
int store_open(struct store **out, const char *dir, size_t map_size, const char *mem_root,
               char *err, size_t errlen);
void store_close(struct store *s);

/* Applies the entry at Raft index `index` (which must be above every index
 * applied before) in one write transaction. On success *out holds one result
 * per command (free() it). Returns 0, or -1 if LMDB failed (fatal). A
 * malformed entry is applied as a batch of STORE_INVALID results. */
int store_apply(struct store *s, uint64_t index, const void *buf, size_t len,
                struct store_batch_result **out);

/* Marks that the Raft log has been applied up to index even where no command
 * was (barriers, configuration changes), and wakes waiters. */
void store_publish_index(struct store *s, uint64_t index);

uint64_t store_applied_index(struct store *s); /* highest published index */
uint64_t store_revision(struct store *s);      /* current cluster revision */
uint64_t store_size_bytes(struct store *s);    /* pages in use, in bytes */

/* Waits until the published index reaches index; false on timeout. */
bool store_wait_index(struct store *s, uint64_t index, int timeout_ms);
/* The revision of the latest change to resource (a plural, "pods"), at an
 * address that stays valid until store_close: read it with
 * __atomic_load_n(..., __ATOMIC_ACQUIRE). It is updated before the store's
 * revision, so a reader that has seen revision R also sees every change of
 * the resource up to R. Changes before the first ask count as "now". */
const uint64_t *store_resource_revision(struct store *s, const char *resource);
/* Waits until the revision exceeds rev; false on timeout. */
bool store_wait_revision_above(struct store *s, uint64_t rev, int timeout_ms);
/* Wakes every waiter (used at shutdown). */
void store_wake_all(struct store *s);

/* Snapshots: the whole state from one read transaction, and its restore. */
int store_snapshot(struct store *s, void **buf, size_t *len);
int store_restore(struct store *s, const void *buf, size_t len);
/* The same snapshot without copying the values: pieces whose concatenation
 * is store_snapshot's bytes, most of them pointing into the memory map,
 * valid until store_snapshot_release (any thread; it ends the view's read
 * transaction, which meanwhile keeps LMDB from reusing those pages). */
struct store_snapshot_view;
int store_snapshot_view(struct store *s, struct store_snapshot_view **out);
size_t store_snapshot_pieces(const struct store_snapshot_view *v);
void store_snapshot_piece(const struct store_snapshot_view *v, size_t i, const void **base,
                          size_t *len);
void store_snapshot_release(struct store_snapshot_view *v);

/* ---- reads ---- */
struct store_read {
    struct store *s;
    void *txn; /* MDB_txn */
    uint64_t revision;
    uint64_t applied;
    uint64_t first_rev; /* oldest revision still in the change log */
};

/* An object as stored; pointers are valid until store_read_end. */
struct store_obj {
    const char *resource;
    size_t resource_len;
    const char *ns;
    size_t ns_len;
    const char *name;
    size_t name_len;
    uint64_t create_rev;
    uint64_t mod_rev;
    const char *uid;
    size_t uid_len;
    const void *obj;
    size_t obj_len;
};

struct store_event {
    int type; /* enum store_change */
    uint64_t rev;
    uint64_t prev_rev; /* the object's revision before this change; 0 if added */
    struct store_obj o;
};

int store_read_begin(struct store *s, struct store_read *r);
void store_read_end(struct store_read *r);
/* 0 found, STORE_NOT_FOUND, or -1 on LMDB error. */
int store_get(struct store_read *r, const char *resource, const char *ns, const char *name,
              struct store_obj *out);
/* Calls fn for each object of resource in ns (ns NULL: every namespace), in
 * key order (namespace, then name). fn returns non-zero to stop. */
typedef int (*store_obj_fn)(void *arg, const struct store_obj *o);
int store_list(struct store_read *r, const char *resource, const char *ns, store_obj_fn fn,
               void *arg);
/* The same, starting strictly after the object (after_ns, after_name): the
 * last one a previous page returned. after_name NULL starts at the first. */
int store_list_after(struct store_read *r, const char *resource, const char *ns,
                     const char *after_ns, const char *after_name, store_obj_fn fn, void *arg);
/* Calls fn for each change with revision > after, in revision order. Returns
 * STORE_CONFLICT-free codes: 0, or STORE_GONE_ERR if `after` is older than the
 * log keeps (the client must relist), -1 on LMDB error. */
#define STORE_GONE_ERR 410
typedef int (*store_event_fn)(void *arg, const struct store_event *e);
int store_changes(struct store_read *r, uint64_t after, store_event_fn fn, void *arg);
/* The change record of revision rev (the object as it was written then):
 * 0, STORE_NOT_FOUND when rev is outside the log, -1 on LMDB error. */
int store_change_at(struct store_read *r, uint64_t rev, struct store_event *e);
/* A digest of every object and the revision: equal on replicas that applied
 * the same entries. */
uint64_t store_digest(struct store_read *r, uint64_t *n_objects);

#endif
