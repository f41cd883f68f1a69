/* test_forward_json.c — server_forward_json (server/forward.c), the way a
 * cluster endpoint (membership, transfer) reaches the leader, when the
 * server asked is itself about to lead.
 *
 * A leader handing over (DELETE of its own member) forwards the request to
 * the server it chose, which may receive it before it knows it won. That
 * server then waited for a leader other than itself for two election
 * timeouts and answered 503 "no leader is known" (seen in CI, 1 run in
 * about 30, test_membership). Here the cluster is replaced at link time
 * (-Wl,--wrap, as the simulation does): the server is a candidate for a
 * few looks and then leads, naming itself leader; the forward must then
 * hand the request back (leading) at once, without an answer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <raft.h>

#include "raft/cluster.h"
#include "server/server.h"
#include "server/internal.h"
#include "util/util.h"

static int looks_before_leading; /* cluster_is_leader: false this many times */

bool __wrap_cluster_is_leader(struct cluster *c)
{
    (void)c;
    return looks_before_leading-- <= 0;
}

void __wrap_cluster_info(struct cluster *c, struct cluster_info *out)
{
    (void)c;
    memset(out, 0, sizeof *out);
    out->id = 1;
    out->state = looks_before_leading <= 0 ? RAFT_LEADER : RAFT_CANDIDATE;
    out->leader_id = looks_before_leading <= 0 ? 1 : 0;
}

static void test_candidate_that_wins_serves_it(void **state)
{
    (void)state;
    struct server *s = server_embed(1, NULL, NULL);
    struct request rq = {.srv = s, .method = "DELETE", .url = "/cluster/members/2"};
    looks_before_leading = 3;
    bool leading = false;
    uint64_t t0 = util_now_ms();
    server_forward_json(s, rq.method, rq.url, &rq, &leading);
    assert_true(leading);
    assert_true(util_now_ms() - t0 < 1000); /* not the 2.5 s wait for a leader */
    server_embed_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_candidate_that_wins_serves_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
