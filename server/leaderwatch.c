/* leaderwatch.c — fast failover: a follower learns at once that its
 * leader's process died, instead of after an election timeout of silence.
 *
 * One thread per server. While this server follows a leader, it holds an
 * idle TCP connection to that leader's API (httpc_open: nothing is sent;
 * the API keeps idle connections for an hour). When the leader's process
 * dies, its kernel closes the connection; if a new connection is then
 * refused, nothing listens on the leader's API any more: its process is
 * gone (kill -9, crash), not merely slow or cut off. The thread then calls
 * cluster_leader_gone, and the follower campaigns after a short timeout
 * (raft/cluster.c, hurry_start). Every survivor sees the same thing at the
 * same moment, so they all stop waiting.
 *
 * What it does not see, on purpose: a paused leader (SIGSTOP) or a network
 * partition keep the connection open or time out without a refusal, and
 * are left to the election timeout, which is what tells those apart from a
 * slow leader. A connection the leader's API closes for its own reasons
 * (idle timeout) is followed by a new one that succeeds: nothing happens.
 * A leader that stops cleanly hands leadership over first. */
#include <errno.h>
#include <pthread.h>
#include <raft.h>
#include <stdlib.h>
#include <unistd.h>

#include "httpc/httpc.h"
#include "server/internal.h"

#define WATCH_TICK_MS 100      /* how often leadership is looked at again */
#define WATCH_CONNECT_MS 300   /* a connect to the leader's API */
#define WATCH_RECENT_MS 1000   /* a refusal this soon after a close: gone */

static void sleep_ms(int ms) { usleep((useconds_t)ms * 1000); }

struct leader_watch {
    struct server *s;
    pthread_t thread;
    uint64_t leader;  /* the leader watched (0: none) */
    struct httpc *conn;
    uint64_t closed_ms; /* when the leader's side last closed conn (0: never) */
    bool told;          /* cluster_leader_gone was called for this leader */
    volatile int stop;
};

/* This server's leader if it is a follower that knows one, else 0. */
static uint64_t leader_to_watch(struct server *s)
{
    struct cluster_info in;
    cluster_info(s->cluster, &in);
    return in.state == RAFT_FOLLOWER && in.leader_id != s->cfg.id ? in.leader_id : 0;
}

static void watch_reset(struct leader_watch *w, uint64_t leader)
{
    httpc_free(w->conn);
    w->conn = NULL;
    w->leader = leader;
    w->closed_ms = 0;
    w->told = false;
    char url[160];
    if (leader && server_member_api(w->s, leader, url, sizeof url))
        w->conn = httpc_new(url);
}

/* One tick: follow leadership changes, keep the connection, and tell the
 * cluster when the leader's side closed it and its API then refuses. A
 * dying process closes its connections a moment before its listening
 * socket, so a reconnect right after the close may still be accepted (and
 * is then closed at once): a refusal within WATCH_RECENT_MS of a close
 * counts. */
static void watch_tick(struct leader_watch *w)
{
    server_leader_changed(w->s, cluster_leader_id(w->s->cluster));
    uint64_t leader = leader_to_watch(w->s);
    if (leader != w->leader || (leader && !w->conn)) /* (a joined leader's URL comes later) */
        watch_reset(w, leader);
    if (!w->conn) {
        sleep_ms(WATCH_TICK_MS);
        return;
    }
    int closed = httpc_wait_closed(w->conn, WATCH_TICK_MS);
    if (closed == 0)
        return;
    uint64_t now = util_now_ms();
    if (closed == 1)
        w->closed_ms = now;
    if (httpc_open(w->conn, WATCH_CONNECT_MS) == 0)
        return;
    bool recent = w->closed_ms && now - w->closed_ms < WATCH_RECENT_MS;
    if (recent && errno == ECONNREFUSED && !w->told) {
        LOG_INFO("leader %llu: its API closed our connection and refuses new ones: "
                 "its process is gone",
                 (unsigned long long)w->leader);
        w->told = true;
        cluster_leader_gone(w->s->cluster, w->leader);
    }
    sleep_ms(WATCH_TICK_MS / 4); /* not connected: again soon */
}

static void *watch_main(void *arg)
{
    struct leader_watch *w = arg;
    while (!w->stop && !w->s->stopping)
        watch_tick(w);
    return NULL;
}

struct leader_watch *leader_watch_start(struct server *s)
{
    struct leader_watch *w = xcalloc(1, sizeof *w);
    w->s = s;
    if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

void leader_watch_stop(struct leader_watch *w)
{
    if (!w)
        return;
    w->stop = 1;
    pthread_join(w->thread, NULL);
    httpc_free(w->conn);
    free(w);
}
