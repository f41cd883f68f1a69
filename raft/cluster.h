/* cluster — bosun's glue over libraft: one Raft member of the control plane.
 *
 * libraft is single-threaded: everything that touches `struct raft` runs on
 * this module's own libuv loop thread. Other threads (HTTP handlers, leader
 * loops) talk to it only through the calls below, which queue a request,
 * wake the loop with uv_async_send, and block on their own condition variable
 * until the loop answers or their timeout expires.
 *
 * Writes: cluster_propose queues one encoded store command. The loop drains
 * the queue into as few Raft entries as it can (group commit: every command
 * that arrived while earlier entries were being replicated goes into the next
 * entry), with at most `max_inflight` entries appended and not yet applied.
 * Reads: cluster_read_index proves leadership with a Raft barrier proposed
 * after the read arrived (one barrier serves every read waiting for it) and
 * returns an index the caller waits for in the store. The store (store/) is
 * this member's state machine. */
#ifndef BOSUN_CLUSTER_H
#define BOSUN_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct cluster;
struct raft_fsm;

struct cluster_peer {
    uint64_t id;
    char raft_addr[128]; /* host:port of the Raft transport */
    char api_url[128];   /* http://host:port of the HTTP API */
};

struct cluster_config {
    uint64_t id;
    const char *raft_dir;  /* libraft's log and snapshots */
    const char *raft_addr; /* where this member's Raft transport listens (host:port) */
    const char *raft_advertise; /* how the others reach it; NULL: raft_addr */
    const struct cluster_peer *peers; /* bootstrap configuration, or NULL when joining */
    unsigned n_peers;
    unsigned election_ms;  /* default 1000 */
    unsigned heartbeat_ms; /* default 100 */
    unsigned snapshot_threshold; /* entries between snapshots; default 1024, the
                                  * floor when snapshot_adaptive */
    bool snapshot_adaptive;      /* grow the threshold with the state (cluster.c) */
    unsigned snapshot_trailing;  /* entries kept behind a snapshot; default 128 */
    unsigned max_inflight;       /* appended-but-unapplied entries; default 2 */
    size_t max_entry_bytes;      /* bytes of commands per entry; default 8 MiB */
    uint64_t history;            /* change log length written into entries */
    const char *fault_disk; /* the disk fault hook's control file (disk_fault.c), from
                             * BOSUN_FAULT_DISK; NULL or "": off */
};

/* Outcome of a call into the loop. */
enum cluster_status_code {
    CLUSTER_OK = 0,
    CLUSTER_NOT_LEADER = 1, /* not done; retry on the leader (leader_id if known) */
    CLUSTER_UNKNOWN = 2,    /* appended, then leadership was lost: may still commit */
    CLUSTER_TIMEOUT = 3,    /* no answer in time: outcome unknown */
    CLUSTER_ERROR = 4,      /* refused (bad member id, change in progress, ...) */
    CLUSTER_SHUTDOWN = 5,
};
const char *cluster_code_name(int code);

struct cluster_result {
    int code;                /* enum cluster_status_code */
    struct store_result res; /* the command's result, when code == CLUSTER_OK */
    uint64_t index;          /* Raft index of the entry (propose, read index) */
    uint64_t leader_id;      /* for CLUSTER_NOT_LEADER, 0 if unknown */
    char message[160];       /* for CLUSTER_ERROR */
};

struct cluster_member {
    uint64_t id;
    char address[128];
    int role; /* RAFT_VOTER, RAFT_STANDBY, RAFT_SPARE */
};

#define CLUSTER_MAX_MEMBERS 16
/* A copy of the member's state, refreshed by the loop on every iteration. */
struct cluster_info {
    uint64_t id;
    int state;            /* RAFT_FOLLOWER/CANDIDATE/LEADER/UNAVAILABLE */
    const char *state_name;
    uint64_t term;
    uint64_t leader_id;
    char leader_addr[128];
    uint64_t commit_index;
    uint64_t last_applied;
    uint64_t last_index;
    unsigned n_members;
    struct cluster_member members[CLUSTER_MAX_MEMBERS];
};

/* Starts the member: opens libraft's directory, bootstraps it from the peer
 * list if it is pristine, and runs the loop thread. Returns 0, or -1 with a
 * one-line reason in err. */
int cluster_start(struct cluster **out, const struct cluster_config *cfg, struct store *store,
                  char *err, size_t errlen);
/* Stops the loop and frees everything; pending calls answer CLUSTER_SHUTDOWN. */
void cluster_stop(struct cluster *c);

/* Proposes one command (store_cmd_encode output) and waits for its result. */
void cluster_propose(struct cluster *c, const void *cmd, size_t len, int timeout_ms,
                     struct cluster_result *out);
/* Like cluster_propose without waiting: fn runs once with the result, on the
 * loop thread (or on the caller's, if the member is stopping), and must not
 * block. After timeout_ms it gets CLUSTER_TIMEOUT. */
typedef void (*cluster_done_fn)(void *arg, const struct cluster_result *r);
void cluster_propose_async(struct cluster *c, const void *cmd, size_t len, int timeout_ms,
                           cluster_done_fn fn, void *arg);
/* Proposes n commands at once (one queueing, one wake-up), waiting for all:
 * how the scheduler proposes a batch of bindings. */
void cluster_propose_batch(struct cluster *c, const void *const *cmds, const size_t *lens,
                           unsigned n, int timeout_ms, struct cluster_result *outs);
/* The same without waiting: fn(args[i], result) runs once for each command,
 * as cluster_propose_async's does: how the leader takes a batch of writes a
 * follower forwarded together. */
void cluster_propose_batch_async(struct cluster *c, const void *const *cmds, const size_t *lens,
                                 unsigned n, int timeout_ms, cluster_done_fn fn,
                                 void *const *args);
/* Leader only: returns in out->index an index whose application makes a read
 * linearizable. */
void cluster_read_index(struct cluster *c, int timeout_ms, struct cluster_result *out);

/* Membership and leadership (leader only; one configuration change at a
 * time). member_add adds the server as a spare, lets it catch up, then makes
 * it a voter. */
void cluster_member_add(struct cluster *c, uint64_t id, const char *address, int timeout_ms,
                        struct cluster_result *out);
void cluster_member_assign(struct cluster *c, uint64_t id, int role, int timeout_ms,
                           struct cluster_result *out);
void cluster_member_remove(struct cluster *c, uint64_t id, int timeout_ms,
                           struct cluster_result *out);
void cluster_transfer(struct cluster *c, uint64_t id, int timeout_ms, struct cluster_result *out);
/* Tells a follower that the process of its leader leader_id is gone (its
 * API connection closed and a new one was refused): it campaigns after a
 * short timeout (150 ms or two heartbeats, whichever is longer) instead of
 * a whole election timeout, until a new leader is known. Nothing happens
 * if leader_id is no longer its leader. */
void cluster_leader_gone(struct cluster *c, uint64_t leader_id);

void cluster_info(struct cluster *c, struct cluster_info *out);
bool cluster_is_leader(struct cluster *c);
uint64_t cluster_leader_id(struct cluster *c); /* 0 if none is known */

/* The state machine callbacks over a store, for libraft (and for the
 * deterministic simulation, which drives them through raft_fixture). The fsm
 * needs the raft instance to learn the index of the entry it applies. */
struct cluster_fsm {
    struct store *store;
    struct raft *raft;
    /* Called on the loop thread with each applied entry's results; may keep
     * them (return true) or let the fsm free them. */
    bool (*on_result)(void *arg, struct store_batch_result *br);
    void *arg;
    uint64_t entries_applied; /* command entries applied since start */
    uint64_t bytes_applied;   /* and their bytes */
    struct store_snapshot_view *snap; /* the snapshot being written, if any */
};
void cluster_fsm_init(struct raft_fsm *fsm, struct cluster_fsm *cf);

#endif
