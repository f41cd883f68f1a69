/* chaos_explain.c — puts a failed key's anomaly into words for `bosun chaos
 * check`: which operations are involved and why no order explains them.
 *
 * First it looks for a proof that needs only two or three operations, each
 * sound on its own because values are unique per write:
 *   - a read of a value no operation on this key wrote, or whose only write
 *     began after the read returned, or with an rv other than the one its
 *     write was assigned;
 *   - a stale read: the value's write W finished, then an ok write X
 *     (update, delete or create) began and finished, then the read began —
 *     X is after W, the read after X, and nothing writes W's value again;
 *   - NotFound (or a successful create) although an ok create/update X
 *     finished before it began and no delete (ok or unknown) could have
 *     run between the two.
 * The earliest such read (by completion) is the anomaly. Without a proof it
 * falls back on the search: the operation that could not be placed after
 * the longest linearizable prefix, the model's state there and why the
 * step fails; the operations involved are the key's operations minus every
 * read-like one (get, NotFound, AlreadyExists, Conflict) whose removal
 * leaves the history non-linearizable — removing an operation that changes
 * nothing keeps any valid order valid, so what is left still has none. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/chaos_internal.h"

/* ---------------------------------------------------------------- words */

static bool is_final(const struct chaos_kop *k)
{
    return k->op < 0;
}

static bool is_ok_write(const struct chaos_kop *k)
{
    return k->kind == CHAOS_K_CREATE || k->kind == CHAOS_K_UPDATE || k->kind == CHAOS_K_DELETE;
}

/* "update v9 by client 1 (op 12, 0.900–1.100 s)" or "the final read of server s2". */
void chaos_kop_short(const struct chaos_history *h, const struct chaos_kop *k, struct ubuf *out)
{
    if (is_final(k)) {
        ubuf_appendf(out, "the final read of server %s", h->servers[-1 - k->op].id);
        return;
    }
    const struct chaos_op *op = &h->ops[k->op];
    char a[32], b[32];
    chaos_time_fmt(h, op->invoke, a, sizeof a);
    chaos_time_fmt(h, op->complete, b, sizeof b);
    ubuf_appendf(out, "%s", chaos_fn_name(op->fn));
    if (op->fn == CHAOS_CREATE || op->fn == CHAOS_UPDATE)
        ubuf_appendf(out, " %s", h->values.s[op->value]);
    ubuf_appendf(out, " by client %d (op %" PRId64 ", %s, %s–%s s)", op->client, op->id,
                 op->result == CHAOS_OK ? "ok" : op->result == CHAOS_FAIL ? op->reason : "unknown",
                 a, b);
}

/* "value v7 (rv 88)", "v7", or "no object". */
static void state_words(const struct chaos_history *h, int value, uint64_t rv, struct ubuf *out)
{
    if (value < 0)
        ubuf_appendf(out, "no object");
    else if (rv)
        ubuf_appendf(out, "value %s (rv %" PRIu64 ")", h->values.s[value], rv);
    else
        ubuf_appendf(out, "value %s (rv not yet known)", h->values.s[value]);
}

/* ---------------------------------------------------------------- proofs */

/* The kop that wrote value on this key, or -1. */
static int writer_kop(const struct chaos_history *h, const struct chaos_keyops *ko, int value)
{
    if (value < 0 || h->writer[value] < 0 || h->ops[h->writer[value]].key != ko->key)
        return -1; /* never written, or written to another key */
    int k = ko->kop_of_op[h->writer[value]];
    assert(k >= 0 && k < ko->n);
    return k;
}

/* An ok write that began after w returned and returned before s began: the
 * latest to return, or -1. */
static int overwrite_between(const struct chaos_keyops *ko, int w, int s)
{
    const struct chaos_kop *k = ko->kops;
    int best = -1;
    if (k[w].ret == CHAOS_NEVER)
        return -1;
    for (int i = 0; i < ko->n; i++)
        if (i != w && is_ok_write(&k[i]) && k[i].call > k[w].ret && k[i].ret < k[s].call &&
            (best < 0 || k[i].ret > k[best].ret))
            best = i;
    return best;
}

/* Whether some delete (ok or unknown) could lie between x and s. */
static bool delete_between(const struct chaos_keyops *ko, int x, int s)
{
    const struct chaos_kop *k = ko->kops;
    for (int i = 0; i < ko->n; i++)
        if ((k[i].kind == CHAOS_K_DELETE || k[i].kind == CHAOS_K_DELETE_MAYBE) &&
            k[i].call < k[s].ret && k[i].ret > k[x].call)
            return true;
    return false;
}

/* An ok create/update that finished before s began with no delete possible
 * in between: the object was present at s. */
static int present_before(const struct chaos_keyops *ko, int s)
{
    const struct chaos_kop *k = ko->kops;
    for (int i = 0; i < ko->n; i++)
        if (i != s && (k[i].kind == CHAOS_K_CREATE || k[i].kind == CHAOS_K_UPDATE) &&
            k[i].ret < k[s].call && !delete_between(ko, i, s))
            return i;
    return -1;
}

static bool proof_for_read(const struct chaos_history *h, const struct chaos_keyops *ko, int s,
                           struct chaos_proof *p)
{
    const struct chaos_kop *k = ko->kops;
    int w = writer_kop(h, ko, k[s].value);
    *p = (struct chaos_proof){.s = s, .w = w, .x = -1};
    if (w < 0)
        p->kind = CHAOS_PROOF_NO_WRITER;
    else if (k[w].call > k[s].ret)
        p->kind = CHAOS_PROOF_WRITTEN_LATER;
    else if (is_ok_write(&k[w]) && k[w].rv && k[s].rv && k[w].rv != k[s].rv)
        p->kind = CHAOS_PROOF_WRONG_RV;
    else if ((p->x = overwrite_between(ko, w, s)) >= 0)
        p->kind = CHAOS_PROOF_OVERWRITTEN;
    else
        return false;
    return true;
}

static bool proof_for(const struct chaos_history *h, const struct chaos_keyops *ko, int s,
                      struct chaos_proof *p)
{
    const struct chaos_kop *k = ko->kops;
    if (k[s].kind == CHAOS_K_READ)
        return proof_for_read(h, ko, s, p);
    if (k[s].kind != CHAOS_K_ABSENT && k[s].kind != CHAOS_K_CREATE)
        return false;
    int x = present_before(ko, s);
    if (x < 0)
        return false;
    *p = (struct chaos_proof){.s = s, .w = -1, .x = x};
    p->kind = k[s].kind == CHAOS_K_ABSENT ? CHAOS_PROOF_ABSENT_BUT_WRITTEN
                                          : CHAOS_PROOF_CREATE_BUT_PRESENT;
    return true;
}

bool chaos_find_proof(const struct chaos_history *h, const struct chaos_keyops *ko,
                      struct chaos_proof *out)
{
    /* Quadratic in the key's ops: skipped on huge keys (the search's
     * explanation remains). */
    if ((long long)ko->n * ko->n > 50000000ll)
        return false;
    bool found = false;
    for (int s = 0; s < ko->n; s++) {
        struct chaos_proof p;
        if (!proof_for(h, ko, s, &p))
            continue;
        const struct chaos_kop *a = &ko->kops[s], *b = found ? &ko->kops[out->s] : NULL;
        if (!b || a->ret < b->ret || (a->ret == b->ret && a->call < b->call)) {
            *out = p;
            found = true;
        }
    }
    return found;
}

static const char *removal_words(const struct chaos_kop *x)
{
    switch (x->kind) {
    case CHAOS_K_DELETE:
        return "removed by";
    case CHAOS_K_CREATE:
        return "replaced by";
    default:
        return "overwritten by";
    }
}

void chaos_proof_words(const struct chaos_history *h, const struct chaos_keyops *ko,
                       const struct chaos_proof *p, struct ubuf *out)
{
    const struct chaos_kop *k = ko->kops, *s = &k[p->s];
    chaos_kop_short(h, s, out);
    const char *v = s->value >= 0 ? h->values.s[s->value] : "";
    switch (p->kind) {
    case CHAOS_PROOF_NO_WRITER:
        ubuf_appendf(out, " returned value %s, which no operation on this key wrote", v);
        break;
    case CHAOS_PROOF_WRITTEN_LATER:
        ubuf_appendf(out, " returned value %s, but %s was only written by ", v, v);
        chaos_kop_short(h, &k[p->w], out);
        ubuf_appendf(out, ", which began after the read had returned");
        break;
    case CHAOS_PROOF_WRONG_RV:
        ubuf_appendf(out, " returned value %s with rv %" PRIu64 ", but ", v, s->rv);
        chaos_kop_short(h, &k[p->w], out);
        ubuf_appendf(out, " was assigned rv %" PRIu64 " for it", k[p->w].rv);
        break;
    case CHAOS_PROOF_OVERWRITTEN:
        ubuf_appendf(out, " returned ");
        state_words(h, s->value, s->rv, out);
        ubuf_appendf(out, ", but %s was written by ", v);
        chaos_kop_short(h, &k[p->w], out);
        ubuf_appendf(out, " and %s ", removal_words(&k[p->x]));
        chaos_kop_short(h, &k[p->x], out);
        ubuf_appendf(out, ", which finished before the read began; nothing wrote %s after it "
                          "(values are unique)", v);
        break;
    case CHAOS_PROOF_ABSENT_BUT_WRITTEN:
    case CHAOS_PROOF_CREATE_BUT_PRESENT:
        ubuf_appendf(out, p->kind == CHAOS_PROOF_ABSENT_BUT_WRITTEN
                              ? " found no object, but "
                              : " succeeded although the object existed: ");
        chaos_kop_short(h, &k[p->x], out);
        ubuf_appendf(out, " had finished before it began, and no delete could have removed "
                          "the object in between");
        break;
    }
}

/* ---------------------------------------------------------------- search words */

/* Why op cannot take effect in state at (the model's rules in words). */
static void mismatch_words(const struct chaos_history *h, const struct chaos_state *at,
                           const struct chaos_kop *op, struct ubuf *out)
{
    bool present = at->value >= 0;
    switch (op->kind) {
    case CHAOS_K_READ:
        ubuf_appendf(out, "it returned ");
        state_words(h, op->value, op->rv, out);
        break;
    case CHAOS_K_ABSENT:
        ubuf_appendf(out, "it found no object");
        break;
    case CHAOS_K_PRESENT:
        ubuf_appendf(out, "it failed with AlreadyExists");
        break;
    case CHAOS_K_CONFLICT:
        ubuf_appendf(out, "it failed with Conflict on rv %" PRIu64, op->expect);
        break;
    case CHAOS_K_CREATE:
        ubuf_appendf(out, present ? "it created the object" : "it was assigned rv %" PRIu64,
                     op->rv);
        break;
    default:
        if (op->expect)
            ubuf_appendf(out, "it expected rv %" PRIu64 " and ", op->expect);
        ubuf_appendf(out, "it %s", op->kind == CHAOS_K_DELETE ? "deleted the object" : "succeeded");
        if (op->rv)
            ubuf_appendf(out, " (rv %" PRIu64 ")", op->rv);
        break;
    }
    ubuf_appendf(out, ", but the object there was ");
    if (!present)
        ubuf_appendf(out, "absent");
    else
        state_words(h, at->value, at->rv, out);
    if (at->floor)
        ubuf_appendf(out, " (highest rv so far %" PRIu64 ")", at->floor);
}

void chaos_search_words(const struct chaos_history *h, const struct chaos_keyops *ko,
                        const struct chaos_key_result *r, struct ubuf *out)
{
    assert(r->stuck >= 0 && r->stuck < ko->n);
    const struct chaos_kop *s = &ko->kops[r->stuck];
    struct chaos_state next;
    chaos_kop_short(h, s, out);
    ubuf_appendf(out, " cannot be placed after the longest linearizable prefix found (%d of %d "
                      "operations): ", r->nprefix, ko->n);
    if (chaos_model_step(&r->at, s, &next))
        ubuf_appendf(out, "it fits the state there, but every order of the operations "
                          "concurrent with it fails later");
    else
        mismatch_words(h, &r->at, s, out);
}

/* ---------------------------------------------------------------- minimizing */

static bool changes_nothing(const struct chaos_kop *k)
{
    return k->kind == CHAOS_K_READ || k->kind == CHAOS_K_ABSENT || k->kind == CHAOS_K_PRESENT ||
           k->kind == CHAOS_K_CONFLICT;
}

/* Whether the kops of ko flagged in keep still have no valid order. */
static bool still_fails(const struct chaos_keyops *ko, const bool *keep, struct chaos_kop *tmp,
                        long long max_states)
{
    int m = 0;
    for (int i = 0; i < ko->n; i++)
        if (keep[i])
            tmp[m++] = ko->kops[i];
    struct chaos_key_result r;
    chaos_check_key(tmp, m, max_states, &r);
    bool fails = r.verdict == CHAOS_KEY_FAIL;
    chaos_key_result_free(&r);
    return fails;
}

int chaos_minimize(const struct chaos_keyops *ko, int stuck, bool *keep, long long max_states)
{
    struct chaos_kop *tmp = xmalloc(((size_t)ko->n + 1) * sizeof *tmp);
    int left = ko->n, budget = 400;
    for (int i = 0; i < ko->n; i++)
        keep[i] = true;
    for (int i = ko->n - 1; i >= 0 && budget > 0; i--) {
        if (i == stuck || !changes_nothing(&ko->kops[i]))
            continue;
        keep[i] = false;
        budget--;
        if (still_fails(ko, keep, tmp, max_states < 20000 ? max_states : 20000))
            left--;
        else
            keep[i] = true;
    }
    free(tmp);
    return left;
}
