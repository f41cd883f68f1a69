/* fuzz_store.c — libFuzzer harness for the state machine's input parsers.
 *
 * Raft entries and snapshots reach store_apply and store_restore from other
 * servers; a corrupt or hostile one must give an error or STORE_INVALID
 * results, never a crash or a broken invariant. The first input byte picks
 * the target; the store lives in one temp dir for the whole run, and the
 * harness checks after every input that the change log still holds exactly
 * the revisions [first_rev, revision]. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static struct store *fuzz_store;
static uint64_t fuzz_index;

static int count_change(void *arg, const struct store_event *e)
{
    uint64_t *expect = arg;
    assert(e->rev == *expect); /* no gaps, no duplicates */
    (*expect)++;
    return 0;
}

static void check_invariants(void)
{
    struct store_read r;
    if (store_read_begin(fuzz_store, &r) != 0)
        abort();
    assert(r.first_rev >= 1 && r.first_rev <= r.revision + 1);
    uint64_t expect = r.first_rev;
    int rc = store_changes(&r, r.first_rev - 1, count_change, &expect);
    assert(rc == 0);
    assert(expect == r.revision + 1);
    store_read_end(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fuzz_store) {
        char dir[] = "/tmp/bosun-fuzz-XXXXXX";
        char err[256];
        if (!mkdtemp(dir) || store_open(&fuzz_store, dir, 1ull << 30, NULL, err, sizeof err) != 0)
            abort();
    }
    if (size == 0)
        return 0;
    if (data[0] & 1) {
        struct store_batch_result *br = NULL;
        if (store_apply(fuzz_store, ++fuzz_index, data + 1, size - 1, &br) != 0)
            abort();
        for (unsigned i = 0; i < br->n; i++)
            assert(br->r[i].code >= STORE_OK && br->r[i].code <= STORE_INVALID);
        free(br);
    } else {
        store_restore(fuzz_store, data + 1, size - 1);
        fuzz_index = store_applied_index(fuzz_store) + 1;
    }
    check_invariants();
    return 0;
}
