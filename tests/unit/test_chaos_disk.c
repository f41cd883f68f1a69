/* test_chaos_disk.c — unit tests for the disk fault hook that `bosun chaos
 * --faults disk` drives (raft/disk_fault.c), over a fake raft_io on a real
 * libuv loop.
 *
 * The fake io's append only records the request; the test plays the disk
 * and completes the recorded writes when it likes. What must hold: the
 * control file's text is read strictly ("ok", "slow MS", "full"; anything
 * else is a fine disk); with the file missing or "ok" a completion goes
 * straight through; "slow MS" holds each at least MS ms; "full" holds them
 * until the file says otherwise; completions keep the disk's order across a
 * change of mode; closing completes the held ones as canceled before the
 * io's own close, passes later ones through, and frees the hook (ASan
 * would report a leak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "raft/disk_fault.h"
#include "util/util.h"

enum { MAXW = 8 };

/* The fake disk: appends recorded, completed by the test. */
struct fake {
    struct raft_io_append *pending[MAXW];
    int npending;
    bool closed;
};

/* What libraft saw: completions in order, with their status. */
struct seen {
    int order[MAXW], status[MAXW];
    int n;
};

static struct fake fake;
static struct seen seen;
static char ctl[64];

static int fake_append(struct raft_io *io, struct raft_io_append *req,
                       const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
    (void)io, (void)entries, (void)n;
    assert_true(fake.npending < MAXW);
    req->cb = cb;
    fake.pending[fake.npending++] = req;
    return 0;
}

/* The disk completes every recorded write, oldest first. */
static void fake_complete(int status)
{
    int n = fake.npending;
    fake.npending = 0;
    for (int i = 0; i < n; i++)
        fake.pending[i]->cb(fake.pending[i], status);
}

static void fake_close(struct raft_io *io, raft_io_close_cb cb)
{
    fake_complete(RAFT_CANCELED); /* as raft_uv cancels its pending writes */
    fake.closed = true;
    if (cb)
        cb(io);
}

/* libraft's side: request i, completed with status. */
struct req {
    struct raft_io_append a;
    int i;
};

static void raft_done(struct raft_io_append *a, int status)
{
    struct req *r = a->data;
    seen.order[seen.n] = r->i;
    seen.status[seen.n++] = status;
}

static void ctl_write(const char *text)
{
    FILE *f = fopen(ctl, "w");
    assert_non_null(f);
    fprintf(f, "%s\n", text);
    fclose(f);
}

static void on_tick(uv_timer_t *t)
{
    *(bool *)t->data = true;
}

/* Runs the loop for ms, or until want completions were seen (want >= 0). */
static void run(uv_loop_t *loop, int ms, int want)
{
    bool done = false;
    uv_timer_t t;
    uv_timer_init(loop, &t);
    t.data = &done;
    uv_timer_start(&t, on_tick, (uint64_t)ms, 0);
    while (!done && (want < 0 || seen.n < want))
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
}

struct world {
    uv_loop_t loop;
    struct raft_io io;
    struct disk_fault *f;
    struct req reqs[MAXW];
    int nreqs;
};

static void world_start(struct world *w, const char *text)
{
    memset(&fake, 0, sizeof fake);
    memset(&seen, 0, sizeof seen);
    snprintf(ctl, sizeof ctl, "/tmp/test_chaos_disk.%d", (int)getpid());
    unlink(ctl);
    if (text)
        ctl_write(text);
    memset(w, 0, sizeof *w);
    uv_loop_init(&w->loop);
    w->io.append = fake_append;
    w->io.close = fake_close;
    w->f = disk_fault_new(&w->loop, &w->io, ctl);
}

static void world_append(struct world *w)
{
    struct req *r = &w->reqs[w->nreqs];
    r->i = w->nreqs++;
    r->a.data = r;
    struct raft_entry e = {0};
    assert_int_equal(disk_fault_append(w->f, &w->io, &r->a, &e, 1, raft_done), 0);
}

static void world_close(struct world *w)
{
    disk_fault_close(w->f, &w->io, NULL);
    assert_true(fake.closed);
    run(&w->loop, 50, -1);
    assert_int_equal(uv_loop_close(&w->loop), 0); /* the hook's timers are closed */
    unlink(ctl);
}

static void test_parse(void **state)
{
    (void)state;
    struct disk_fault_state st;
    assert_int_equal(disk_fault_parse("", &st), 0);
    assert_int_equal(st.mode, DISK_FAULT_OK);
    assert_int_equal(disk_fault_parse(" ok ", &st), 0);
    assert_int_equal(st.mode, DISK_FAULT_OK);
    assert_int_equal(disk_fault_parse("slow 200", &st), 0);
    assert_int_equal(st.mode, DISK_FAULT_SLOW);
    assert_int_equal(st.delay_ms, 200);
    assert_int_equal(disk_fault_parse("full", &st), 0);
    assert_int_equal(st.mode, DISK_FAULT_FULL);
    static const char *const bad[] = {"slow", "slow 0", "slow 60001", "slow 20ms", "slow -5",
                                      "full now", "ok then", "bogus", "fullish"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(disk_fault_parse(bad[i], &st), -1);
        assert_int_equal(st.mode, DISK_FAULT_OK); /* unreadable: a fine disk */
    }
}

static void test_ok_passes_through(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, NULL); /* no control file */
    world_append(&w);
    world_append(&w);
    fake_complete(0);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.order[0], 0);
    assert_int_equal(seen.order[1], 1);
    assert_int_equal(seen.status[0], 0);
    world_close(&w);
}

static void test_slow_holds_each_write(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, "slow 80");
    world_append(&w);
    world_append(&w);
    uint64_t t0 = util_now_ms();
    fake_complete(0);
    assert_int_equal(seen.n, 0);
    run(&w.loop, 2000, 2);
    assert_int_equal(seen.n, 2);
    assert_true(util_now_ms() - t0 >= 80);
    assert_int_equal(seen.order[0], 0);
    assert_int_equal(seen.order[1], 1);
    world_close(&w);
}

static void test_full_holds_until_freed(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, "full");
    world_append(&w);
    fake_complete(0);
    run(&w.loop, 300, -1);
    assert_int_equal(seen.n, 0); /* not while the disk is full */
    ctl_write("ok");
    run(&w.loop, 2000, 1);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.status[0], 0);
    world_append(&w); /* and the disk is fine again */
    fake_complete(0);
    assert_int_equal(seen.n, 2);
    world_close(&w);
}

static void test_order_kept_across_modes(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, "slow 600");
    world_append(&w);
    fake_complete(0); /* due in 600 ms */
    ctl_write("ok");
    run(&w.loop, 250, -1); /* the hook sees "ok"; write 0 is not due yet */
    assert_int_equal(seen.n, 0);
    world_append(&w);
    fake_complete(0); /* the disk is fine, but write 0 is still held: behind it */
    assert_int_equal(seen.n, 0);
    run(&w.loop, 2000, 2);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.order[0], 0);
    assert_int_equal(seen.order[1], 1);
    world_close(&w);
}

static void test_close_cancels_held(void **state)
{
    (void)state;
    struct world w;
    world_start(&w, "full");
    world_append(&w);
    fake_complete(0); /* held */
    world_append(&w); /* still with the disk */
    world_close(&w);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.order[0], 0);
    assert_int_equal(seen.status[0], RAFT_CANCELED);
    assert_int_equal(seen.order[1], 1);
    assert_int_equal(seen.status[1], RAFT_CANCELED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_ok_passes_through),
        cmocka_unit_test(test_slow_holds_each_write),
        cmocka_unit_test(test_full_holds_until_freed),
        cmocka_unit_test(test_order_kept_across_modes),
        cmocka_unit_test(test_close_cancels_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
