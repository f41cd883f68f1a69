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
#include <raft.h>
#include <stdlib.h>
#include <string.h>

#include "raft/cluster.h"

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

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct cluster_fsm *cf = fsm->data;
    void *data;
    size_t len;
    if (store_snapshot(cf->store, &data, &len) != 0)
        return RAFT_IOERR;
    *bufs = malloc(sizeof **bufs);
    if (!*bufs) {
        free(data);
        return RAFT_NOMEM;
    }
    (*bufs)[0].base = data;
    (*bufs)[0].len = len;
    *n_bufs = 1;
    return 0;
}

/* With snapshot_finalize set, the buffers stay ours: free them here. */
static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[],
                                 unsigned *n_bufs)
{
    if (*bufs) {
        for (unsigned i = 0; i < *n_bufs; i++)
            free((*bufs)[i].base);
        free(*bufs);
    }
    *bufs = NULL;
    *n_bufs = 0;
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
