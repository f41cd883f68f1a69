/* fsm.c — the Raft state machine callbacks over the store.
 *
 * libraft calls these on its loop thread: apply for each committed command
 * entry, snapshot when enough entries have accumulated, restore at start-up
 * (newest snapshot) and on InstallSnapshot. The index of the entry being
 * applied is raft_last_applied() + 1: libraft applies entries strictly in
 * order and advances last_applied right after apply returns.
 *
 * Results: the store returns one result per command. Only the member that
 * proposed an entry has anyone waiting for them, so the fsm offers them to
 * on_result (the proposer keeps those of its own in-flight entries) and frees
 * the rest; libraft itself is handed NULL. */
#include <assert.h>
#include <limits.h>
#include <raft.h>
#include <stdlib.h>
#include <string.h>

#include "raft/cluster.h"
#include "util/util.h"

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    struct cluster_fsm *cf = fsm->data;
    struct store_batch_result *br = NULL;
    uint64_t index = raft_last_applied(cf->raft) + 1;
    *result = NULL;
    cf->entries_applied++;
    cf->bytes_applied += buf->len;
    if (store_apply(cf->store, index, buf->base, buf->len, &br) != 0)
        return RAFT_IOERR; /* LMDB failed: libraft stops this member */
    if (!cf->on_result || !cf->on_result(cf->arg, br))
        free(br);
    return 0;
}

/* The snapshot's buffers point into the store's memory map (a view kept
 * open until finalize), so taking one costs a walk over the keys, not a
 * copy of the state: libraft 0.22.1 takes it on its loop thread (its
 * snapshot_async runs there too), where nothing is appended or applied
 * meanwhile; raft_uv then writes the buffers from its thread pool. */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct cluster_fsm *cf = fsm->data;
    assert(!cf->snap); /* libraft takes one at a time */
    uint64_t t0 = util_now_us();
    struct store_snapshot_view *v;
    if (store_snapshot_view(cf->store, &v) != 0)
        return RAFT_IOERR;
    size_t n = store_snapshot_pieces(v), total = 0;
    if (n > UINT_MAX || !(*bufs = malloc(n * sizeof **bufs))) {
        store_snapshot_release(v);
        return RAFT_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const void *p;
        store_snapshot_piece(v, i, &p, &(*bufs)[i].len);
        (*bufs)[i].base = (void *)p; /* read only: raft_uv writes it out */
        total += (*bufs)[i].len;
    }
    *n_bufs = (unsigned)n;
    cf->snap = v;
    LOG_INFO("raft: snapshot at %llu: %zu bytes in %zu pieces, taken in %.1f ms",
             (unsigned long long)raft_last_applied(cf->raft), total, n,
             (double)(util_now_us() - t0) / 1000.0);
    return 0;
}

/* After raft_uv wrote the snapshot (or gave up): the view goes. */
static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                                 unsigned *n_bufs)
{
    struct cluster_fsm *cf = fsm->data;
    free(*bufs);
    *bufs = NULL;
    *n_bufs = 0;
    store_snapshot_release(cf->snap);
    cf->snap = NULL;
    return 0;
}

/* On success the fsm owns buf->base (libraft's contract) and frees it. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct cluster_fsm *cf = fsm->data;
    if (store_restore(cf->store, buf->base, buf->len) != 0)
        return RAFT_CORRUPT;
    raft_free(buf->base);
    return 0;
}

void cluster_fsm_init(struct raft_fsm *fsm, struct cluster_fsm *cf)
{
    memset(fsm, 0, sizeof *fsm);
    fsm->version = 2;
    fsm->data = cf;
    fsm->apply = fsm_apply;
    fsm->snapshot = fsm_snapshot;
    fsm->restore = fsm_restore;
    fsm->snapshot_finalize = fsm_snapshot_finalize;
}
