/* test_raft_config.c — membership changes in the libraft bosun links
 * (scripts/deps.sh builds it with scripts/libraft-patches/), under
 * raft_fixture's simulated network and disks.
 *
 * A server removed from a three-server cluster and added back while writes
 * went on catches up with one AppendEntries batch of the writes it missed
 * followed by the configuration entry that adds it. Once it has applied
 * that entry, it must not believe any configuration uncommitted: libraft
 * 0.22.1 recorded the batch's first index instead of the entry's (patch
 * 0008), never cleared it, and, when that server later led, refused every
 * membership change. Here the re-added server is then made leader, and a
 * removal through it must be accepted and committed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/fixture.h>

enum { N = 3, WRITES = 20, MAX_WRITES = 400, MAX_MS = 30000 };

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    (void)buf;
    (*(unsigned *)fsm->data)++;
    *result = NULL;
    return 0;
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n)
{
    (void)fsm;
    *bufs = raft_malloc(sizeof **bufs);
    (*bufs)[0].len = 8;
    (*bufs)[0].base = raft_calloc(1, 8);
    *n = 1;
    return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    (void)fsm;
    raft_free(buf->base);
    return 0;
}

struct done {
    bool fired;
    int status;
};

static void change_cb(struct raft_change *req, int status)
{
    struct done *d = req->data;
    d->fired = true;
    d->status = status;
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
    (void)result;
    struct done *d = req->data;
    d->fired = true;
    d->status = status;
}

static bool fired(struct raft_fixture *f, void *arg)
{
    (void)f;
    return ((struct done *)arg)->fired;
}

/* Waits for a request's callback: its status. */
static int wait_done(struct raft_fixture *f, struct done *d)
{
    assert_true(raft_fixture_step_until(f, fired, d, MAX_MS));
    return d->status;
}

static void write_one(struct raft_fixture *f, struct raft *leader)
{
    struct raft_apply req;
    struct done d = {0};
    struct raft_buffer buf = {.len = 8, .base = raft_calloc(1, 8)};
    req.data = &d;
    assert_int_equal(raft_apply(leader, &req, &buf, 1, apply_cb), 0);
    assert_int_equal(wait_done(f, &d), 0);
}

static void change(struct raft_fixture *f, struct raft *leader, int what, raft_id id)
{
    struct raft_change req;
    struct done d = {0};
    char address[8];
    snprintf(address, sizeof address, "%llu", (unsigned long long)id);
    req.data = &d;
    int rv = what == 0 ? raft_remove(leader, &req, id, change_cb)
                       : raft_add(leader, &req, id, address, change_cb);
    if (rv != 0)
        fail_msg("%s of %llu through %llu: %s", what == 0 ? "removal" : "addition",
                 (unsigned long long)id, (unsigned long long)leader->id, raft_strerror(rv));
    assert_int_equal(wait_done(f, &d), 0);
}

static void transfer_cb(struct raft_transfer *req)
{
    ((struct done *)req->data)->fired = true;
}

static bool leads(struct raft_fixture *f, void *arg)
{
    struct raft *r = raft_fixture_get(f, (unsigned)(uintptr_t)arg - 1);
    return raft_state(r) == RAFT_LEADER;
}

/* Leadership from leader to server id, as POST /cluster/transfer does. */
static void transfer(struct raft_fixture *f, struct raft *leader, raft_id id)
{
    struct raft_transfer req;
    struct done d = {0};
    req.data = &d;
    assert_int_equal(raft_transfer(leader, &req, id, transfer_cb), 0);
    wait_done(f, &d);
    assert_true(raft_fixture_step_until(f, leads, (void *)(uintptr_t)id, MAX_MS));
}

static void test_readded_server_leads_and_changes_membership(void **state)
{
    (void)state;
    struct raft_fixture f;
    struct raft_fsm fsms[N];
    unsigned applied[N] = {0};
    struct raft_configuration conf;
    memset(&f, 0, sizeof f); /* raft_fixture_init leaves fields unset */
    assert_int_equal(raft_fixture_init(&f), 0);
    for (unsigned i = 0; i < N; i++) {
        fsms[i] = (struct raft_fsm){.version = 1, .data = &applied[i], .apply = fsm_apply,
                                    .snapshot = fsm_snapshot, .restore = fsm_restore};
        assert_int_equal(raft_fixture_grow(&f, &fsms[i]), 0);
        raft_fixture_get(&f, i)->tracer = NULL;
    }
    assert_int_equal(raft_fixture_configuration(&f, N, &conf), 0);
    assert_int_equal(raft_fixture_bootstrap(&f, &conf), 0);
    raft_configuration_close(&conf);
    assert_int_equal(raft_fixture_start(&f), 0);
    assert_true(raft_fixture_step_until_has_leader(&f, MAX_MS));
    unsigned li = raft_fixture_leader_index(&f);
    if (li == 2) { /* the server to remove must not lead */
        transfer(&f, raft_fixture_get(&f, 2), 1);
        li = 0;
    }
    struct raft *leader = raft_fixture_get(&f, li), *third = raft_fixture_get(&f, 2);
    write_one(&f, leader);

    change(&f, leader, 0, 3); /* out */
    for (int i = 0; i < WRITES; i++)
        write_one(&f, leader);
    change(&f, leader, 1, 3); /* back, as a spare */

    /* Made a voter while writes go on, so that the entries it catches up
     * with come in batches with the configuration entries among them. */
    struct raft_change req;
    struct done d = {0};
    req.data = &d;
    assert_int_equal(raft_assign(leader, &req, 3, RAFT_VOTER, change_cb), 0);
    struct raft_apply writes[MAX_WRITES];
    struct done wd[MAX_WRITES] = {{0}};
    int n = 0;
    for (raft_time end = f.time + MAX_MS; !d.fired && f.time < end;) {
        if (n < MAX_WRITES) {
            struct raft_buffer buf = {.len = 8, .base = raft_calloc(1, 8)};
            writes[n].data = &wd[n];
            assert_int_equal(raft_apply(leader, &writes[n], &buf, 1, apply_cb), 0);
            n++;
        }
        raft_fixture_step_n(&f, 3);
    }
    assert_true(d.fired);
    assert_int_equal(d.status, 0);
    assert_true(raft_fixture_step_until_applied(&f, N, raft_last_index(leader), MAX_MS));
    for (int i = 0; i < n; i++)
        assert_true(wd[i].fired && wd[i].status == 0);
    assert_int_equal(third->configuration_uncommitted_index, 0);

    /* Then leader: it can change the membership. */
    transfer(&f, leader, 3);
    write_one(&f, third); /* a committed entry of its term first */
    change(&f, third, 0, 2);
    assert_int_equal(third->configuration_uncommitted_index, 0);
    raft_fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readded_server_leads_and_changes_membership),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
