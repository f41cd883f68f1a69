/* sim.h — what the simulation (sim.c: the fixture, faults, checks) offers a
 * workload beside its own, and what the controllers' workload
 * (workload_controllers.c) offers it. sim.c's own `struct server` (a
 * simulated member) would clash with bosun's, so the two files meet only
 * here, through opaque pointers. */
#ifndef BOSUN_SIM_H
#define BOSUN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/cluster.h"

struct sim;
struct raft;
struct store;

/* ---- sim.c ---- */

/* The seed's random stream: [0, n), and true with probability num/den. */
unsigned sim_rnd(struct sim *sm, unsigned n);
bool sim_chance(struct sim *sm, unsigned num, unsigned den);
/* A line of the event trace; a failed check (the first one is reported). */
void sim_trace(struct sim *sm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_fail(struct sim *sm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sim_failed(const struct sim *sm);
/* Simulated milliseconds since the start. */
uint64_t sim_time_ms(const struct sim *sm);
unsigned sim_servers(const struct sim *sm);
bool sim_alive(struct sim *sm, unsigned i);
struct raft *sim_raft(struct sim *sm, unsigned i);
struct store *sim_store(struct sim *sm, unsigned i);
/* One step of the world: a fault if one is due (not while healing or
 * settling), then the fixture's next event. Workloads that wait (for a
 * proposal, a barrier, a sleep) call this, so faults strike during their
 * waits as they would in a real cluster. */
void sim_advance(struct sim *sm);
/* Kills server i now, a fault aimed at an instant the workload knows to
 * be delicate (not while healing or settling). */
void sim_kill(struct sim *sm, unsigned i, const char *why);
/* Proposes n store commands (store_cmd_encode's bytes; n <= 8) on server
 * i as one entry, as cluster_propose and cluster_propose_batch do, and
 * steps until it is applied on i, fails, or timeout_ms pass: outs[k] as
 * they fill theirs. */
void sim_propose_cmds(struct sim *sm, unsigned i, const void *const *cmds, const size_t *lens,
                      unsigned n, int timeout_ms, struct cluster_result *outs);
/* Leader i's read index: a barrier, committed and applied on i within
 * timeout_ms. */
void sim_read_index(struct sim *sm, unsigned i, int timeout_ms, struct cluster_result *out);

/* ---- workload_controllers.c ---- */

/* The controllers' workload: an embedded API server (server_embed) and the
 * real controllers on every simulated member, a user creating and scaling
 * ReplicaSets, StatefulSets and Jobs and deleting pods through the API,
 * and a kubelet moving pods through their phases. */
struct ctlw;
struct ctlw *ctlw_new(struct sim *sm);
void ctlw_free(struct ctlw *w);
/* A turn of the user, the kubelet and every member's controllers; checks
 * the controllers' invariants on every live replica. */
void ctlw_tick(struct ctlw *w);
/* Server i was killed: its controllers and API server lose their memory
 * (they are made anew before its next turn), as a process's would. */
void ctlw_killed(struct ctlw *w, unsigned i);
/* After the heal: ticks without faults until every workload object reached
 * its spec, or fails the seed after timeout_ms of simulated time. */
void ctlw_settle(struct ctlw *w, uint64_t timeout_ms);
/* Totals for the summary line. */
void ctlw_totals(const struct ctlw *w, uint64_t *calls, uint64_t *pods, uint64_t *turns);

#endif
