/* disk_fault.h — internal to raft/: a fault hook on the disk under the Raft
 * log, for `bosun chaos --faults disk` (see disk_fault.c). Off unless the
 * server was started with BOSUN_FAULT_DISK=PATH (server/main.c reads it once
 * into cluster_config.fault_disk). */
#ifndef BOSUN_RAFT_DISK_FAULT_H
#define BOSUN_RAFT_DISK_FAULT_H

#include <raft.h>
#include <uv.h>

enum disk_fault_mode {
    DISK_FAULT_OK,   /* writes complete as the disk completes them */
    DISK_FAULT_SLOW, /* each completes delay_ms late */
    DISK_FAULT_FULL, /* none completes until the disk is no longer full */
};

struct disk_fault_state {
    enum disk_fault_mode mode;
    unsigned delay_ms; /* DISK_FAULT_SLOW only */
};

/* The control file's text: "" or "ok", "slow MS" (MS in 1..60000), "full";
 * 0, or -1 (and *out ok) for anything else. */
int disk_fault_parse(const char *text, struct disk_fault_state *out);

struct disk_fault;
/* The hook over io (raft_uv, initialised): it keeps io's append and close,
 * which the caller then points at trampolines calling the two below. Runs
 * on loop, io's loop; polls the control file at path. */
struct disk_fault *disk_fault_new(uv_loop_t *loop, struct raft_io *io, const char *path);
int disk_fault_append(struct disk_fault *f, struct raft_io *io, struct raft_io_append *req,
                      const struct raft_entry entries[], unsigned n, raft_io_append_cb cb);
/* Completes every held write as canceled, closes the hook's timers (f is
 * freed once they are closed) and closes io. */
void disk_fault_close(struct disk_fault *f, struct raft_io *io, raft_io_close_cb cb);

#endif
