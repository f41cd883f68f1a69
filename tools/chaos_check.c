/* chaos_check.c — the verdict of `bosun chaos check DIR`: is the recorded
 * history linearizable, was no acknowledged write lost, did the servers
 * converge. The history format is at the top of chaos_history.c.
 *
 * How it works.
 *  1. Every operation becomes a step of a per-key model (struct chaos_kop):
 *     ok results as recorded; a fail with a definite reason (AlreadyExists,
 *     NotFound, Conflict: see chaos_fail_is_definite) as the condition it
 *     proves; an unknown result — or a fail with another reason, which is
 *     no proof of a non-effect — as a write that may take effect at any
 *     time after its invoke or never (its return is at infinity); an
 *     unknown get says nothing and is dropped.
 *  2. With final.json, each server's final value of every key is appended
 *     to that key as a read by a virtual client after every other
 *     operation (the final reads overlap one another).
 *  3. Each key is checked on its own (P-compositionality: a history is
 *     linearizable iff each object's subhistory is) by the search in
 *     chaos_search.c, bounded to max_states cache entries per key: past it
 *     the key is "unknown (search limit)", which is not a PASS. Two sound
 *     shortcuts keep timeouts cheap: an unknown write whose value some
 *     operation observed must precede that operation, so its return moves
 *     from infinity to the earliest observer's; and the key is first
 *     searched without the unknown writes nobody observed (dropping an
 *     unknown op only removes orders), which decides PASS at once in the
 *     usual case — only if that fails does the full search run.
 *  4. A key that fails with its final reads but passes without them lost an
 *     acknowledged write (or gained an unexplained one): the final state is
 *     explained by no order. Otherwise it is a linearizability failure.
 *  5. Convergence: every server's final map must be identical; the first
 *     difference (by key) is reported.
 *  6. The first anomaly — the failing key whose unexplained operation
 *     completed first — is put into words (chaos_explain.c), with the
 *     figures: operations by function and result, keys, clients, states
 *     searched, the checker's time.
 *  7. With watch.jsonl, the watch guarantees (chaos_watch.c): every
 *     server's streams in order, without gaps or duplicates, resumed
 *     correctly; without it that check is NOT RUN.
 *  8. With controllers.jsonl (--workload controllers), the controller
 *     invariants (chaos_ctl.c).
 * The verdict is PASS, FAIL (any anomaly), or UNKNOWN (no anomaly, but a key
 * hit the search limit). */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tools/chaos_internal.h"

#define CHAOS_DEFAULT_MAX_STATES 1000000ll

enum outcome { KC_OK, KC_LINEAR, KC_FINAL, KC_LIMIT };

struct key_check {
    struct chaos_keyops ko; /* the key's kops: nhist from the history, then the final reads */
    int nhist;
    enum outcome outcome;
    struct chaos_key_result res; /* of the search that explains the outcome */
    int searched_n;              /* how many kops that search had */
    bool has_proof;
    struct chaos_proof proof;
    int64_t when;                /* the unexplained op's completion, to order anomalies */
};

struct figures {
    long long by[CHAOS_NFN][CHAOS_NRESULT];
    long long fail_as_unknown, unknown_gets;
    long long states, max_states_key;
    int keys_checked;
};

struct checker {
    const struct chaos_history *h;
    const struct chaos_options *o;
    struct key_check *keys;
    int *kop_of_op;
    int64_t *first_seen; /* per value: scratch for tighten_unknown */
    struct figures fig;
};

/* ---------------------------------------------------------------- building */

/* The model's step for history op i, or false when it says nothing. */
static bool kop_from_op(const struct chaos_op *op, int i, struct chaos_kop *k, struct figures *f)
{
    *k = (struct chaos_kop){.op = i, .value = op->value, .expect = op->expect_rv, .rv = op->rv,
                            .call = op->invoke, .ret = op->complete};
    f->by[op->fn][op->result]++;
    bool definite = op->result == CHAOS_OK || chaos_fail_is_definite(op);
    if (op->result == CHAOS_FAIL && !definite)
        f->fail_as_unknown++;
    if (!definite) {
        k->ret = CHAOS_NEVER;
        k->rv = 0;
        static const enum chaos_kind maybe[CHAOS_NFN] = {
            CHAOS_K_CREATE_MAYBE, CHAOS_K_READ, CHAOS_K_UPDATE_MAYBE, CHAOS_K_DELETE_MAYBE};
        if (op->fn == CHAOS_GET)
            f->unknown_gets++;
        k->kind = maybe[op->fn];
        return op->fn != CHAOS_GET;
    }
    if (op->result == CHAOS_FAIL) {
        k->kind = strcmp(op->reason, "AlreadyExists") == 0 ? CHAOS_K_PRESENT
                  : strcmp(op->reason, "NotFound") == 0    ? CHAOS_K_ABSENT
                                                           : CHAOS_K_CONFLICT;
        return true;
    }
    static const enum chaos_kind ok[CHAOS_NFN] = {CHAOS_K_CREATE, CHAOS_K_READ, CHAOS_K_UPDATE,
                                                  CHAOS_K_DELETE};
    k->kind = ok[op->fn];
    return true;
}

static void keyops_push(struct chaos_keyops *ko, int *cap, const struct chaos_kop *k)
{
    if (ko->n == *cap) {
        *cap = *cap ? 2 * *cap : 16;
        ko->kops = xrealloc(ko->kops, (size_t)*cap * sizeof *ko->kops);
    }
    ko->kops[ko->n++] = *k;
}

/* Server s's final read of key, after every other operation. */
static struct chaos_kop final_read(const struct chaos_history *h, int s, int key)
{
    const struct chaos_server_state *sv = &h->servers[s];
    struct chaos_kop k = {.kind = CHAOS_K_ABSENT, .op = -1 - s, .value = -1,
                          .call = h->t_end + 1, .ret = h->t_end + 2};
    struct chaos_entry probe = {.key = key};
    int lo = 0, hi = sv->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (sv->entries[mid].key < probe.key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < sv->n && sv->entries[lo].key == key) {
        k.kind = CHAOS_K_READ;
        k.value = sv->entries[lo].value;
        k.rv = sv->entries[lo].rv;
    }
    return k;
}

static void build_keys(struct checker *c)
{
    const struct chaos_history *h = c->h;
    int nkeys = h->keys.n;
    int *cap = xcalloc((size_t)nkeys + 1, sizeof *cap);
    c->keys = xcalloc((size_t)nkeys + 1, sizeof *c->keys);
    c->kop_of_op = xmalloc((h->n + 1) * sizeof *c->kop_of_op);
    for (int k = 0; k < nkeys; k++) {
        c->keys[k].ko.key = k;
        c->keys[k].ko.kop_of_op = c->kop_of_op;
    }
    for (size_t i = 0; i < h->n; i++) {
        struct chaos_kop k;
        struct chaos_keyops *ko = &c->keys[h->ops[i].key].ko;
        c->kop_of_op[i] = -1;
        if (!kop_from_op(&h->ops[i], (int)i, &k, &c->fig))
            continue;
        c->kop_of_op[i] = ko->n;
        keyops_push(ko, &cap[h->ops[i].key], &k);
    }
    for (int k = 0; k < nkeys; k++) {
        c->keys[k].nhist = c->keys[k].ko.n;
        for (int s = 0; s < h->nservers; s++) {
            struct chaos_kop f = final_read(h, s, k);
            keyops_push(&c->keys[k].ko, &cap[k], &f);
        }
    }
    free(cap);
}

/* An unknown write must precede every operation that observed its value
 * (values are unique): its return can be moved from infinity to the
 * earliest of theirs without losing any valid order (as etcd's robustness
 * tests do). first_seen is scratch space, one entry per value. */
static void tighten_unknown(struct chaos_keyops *ko, int64_t *first_seen)
{
    struct chaos_kop *k = ko->kops;
    for (int i = 0; i < ko->n; i++)
        if (k[i].value >= 0)
            first_seen[k[i].value] = CHAOS_NEVER;
    for (int i = 0; i < ko->n; i++)
        if ((k[i].kind == CHAOS_K_READ || k[i].kind == CHAOS_K_DELETE) && k[i].value >= 0 &&
            k[i].ret < first_seen[k[i].value])
            first_seen[k[i].value] = k[i].ret;
    for (int i = 0; i < ko->n; i++)
        if ((k[i].kind == CHAOS_K_CREATE_MAYBE || k[i].kind == CHAOS_K_UPDATE_MAYBE) &&
            first_seen[k[i].value] != CHAOS_NEVER)
            k[i].ret = first_seen[k[i].value] > k[i].call ? first_seen[k[i].value] : k[i].call;
}

/* ---------------------------------------------------------------- checking */

static void search(struct checker *c, struct key_check *kc, int n, struct chaos_key_result *r)
{
    long long max = c->o->max_states > 0 ? c->o->max_states : CHAOS_DEFAULT_MAX_STATES;
    chaos_check_key(kc->ko.kops, n, max, r);
    c->fig.states += r->states;
    if (r->states > c->fig.max_states_key)
        c->fig.max_states_key = r->states;
}

/* The first n kops without the unknown writes nobody observed (those
 * still at infinity). Dropping an unknown op only removes orders (it could
 * always have been placed last), so if this passes, the key passes; if not,
 * the full search decides. It keeps keys with many unobserved timeouts
 * fast. */
static bool relaxed_passes(struct checker *c, struct key_check *kc, int n)
{
    struct chaos_kop *tmp = xmalloc(((size_t)n + 1) * sizeof *tmp);
    int m = 0;
    bool dropped = false;
    for (int i = 0; i < n; i++) {
        const struct chaos_kop *k = &kc->ko.kops[i];
        if (chaos_kop_unknown_write(k) && k->ret == CHAOS_NEVER)
            dropped = true;
        else
            tmp[m++] = *k;
    }
    bool ok = false;
    if (dropped) {
        struct chaos_key_result r;
        long long max = c->o->max_states > 0 ? c->o->max_states : CHAOS_DEFAULT_MAX_STATES;
        chaos_check_key(tmp, m, max, &r);
        c->fig.states += r.states;
        if (r.states > c->fig.max_states_key)
            c->fig.max_states_key = r.states;
        ok = r.verdict == CHAOS_KEY_OK;
        chaos_key_result_free(&r);
    }
    free(tmp);
    return ok;
}

/* A key that hit the search limit may still have a short proof. */
static void try_proof(struct checker *c, struct key_check *kc, int n)
{
    struct chaos_keyops part = kc->ko;
    part.n = n;
    kc->has_proof = chaos_find_proof(c->h, &part, &kc->proof);
    if (kc->has_proof && kc->outcome == KC_LIMIT)
        kc->outcome = kc->proof.s >= kc->nhist ? KC_FINAL : KC_LINEAR;
}

/* Searches the key with its final reads; a failure is then searched again
 * without them, to tell a lost write (the history alone passes) from a
 * linearizability failure (the history alone fails: that search explains). */
static void check_key(struct checker *c, struct key_check *kc)
{
    tighten_unknown(&kc->ko, c->first_seen);
    if (relaxed_passes(c, kc, kc->ko.n)) {
        kc->outcome = KC_OK;
        return;
    }
    search(c, kc, kc->ko.n, &kc->res);
    kc->searched_n = kc->ko.n;
    if (kc->res.verdict == CHAOS_KEY_OK) {
        kc->outcome = KC_OK;
        return;
    }
    bool failed = kc->res.verdict == CHAOS_KEY_FAIL;
    kc->outcome = failed ? KC_LINEAR : KC_LIMIT;
    if (kc->ko.n > kc->nhist) {
        struct chaos_key_result alone = {.verdict = CHAOS_KEY_OK};
        if (!relaxed_passes(c, kc, kc->nhist))
            search(c, kc, kc->nhist, &alone);
        if (alone.verdict == CHAOS_KEY_OK && failed) {
            kc->outcome = KC_FINAL;
        } else if (alone.verdict == CHAOS_KEY_FAIL) {
            kc->outcome = KC_LINEAR;
            chaos_key_result_free(&kc->res);
            kc->res = alone;
            kc->searched_n = kc->nhist;
            alone.prefix = NULL;
        }
        chaos_key_result_free(&alone);
    }
    try_proof(c, kc, kc->searched_n);
    const struct chaos_kop *e = kc->has_proof ? &kc->ko.kops[kc->proof.s]
                                : kc->res.stuck >= 0 ? &kc->ko.kops[kc->res.stuck]
                                                     : NULL;
    kc->when = !e ? CHAOS_NEVER : e->ret != CHAOS_NEVER ? e->ret : e->call;
}

/* The first difference between the servers' final maps, in words; false if
 * they are identical. */
static bool find_divergence(const struct chaos_history *h, struct ubuf *why)
{
    const struct chaos_server_state *a = &h->servers[0];
    for (int s = 1; s < h->nservers; s++) {
        const struct chaos_server_state *b = &h->servers[s];
        int i = 0, j = 0;
        while (i < a->n || j < b->n) {
            const struct chaos_entry *x = i < a->n ? &a->entries[i] : NULL;
            const struct chaos_entry *y = j < b->n ? &b->entries[j] : NULL;
            int key = !y || (x && x->key < y->key) ? x->key : y->key;
            x = x && x->key == key ? x : NULL;
            y = y && y->key == key ? y : NULL;
            i += x != NULL;
            j += y != NULL;
            if (x && y && x->value == y->value && x->rv == y->rv)
                continue;
            ubuf_appendf(why, "key %s: server %s has ", h->keys.s[key], a->id);
            if (x)
                ubuf_appendf(why, "value %s (rv %" PRIu64 ")", h->values.s[x->value], x->rv);
            else
                ubuf_appendf(why, "no object");
            ubuf_appendf(why, ", server %s has ", b->id);
            if (y)
                ubuf_appendf(why, "value %s (rv %" PRIu64 ")", h->values.s[y->value], y->rv);
            else
                ubuf_appendf(why, "no object");
            return true;
        }
    }
    return false;
}

/* ---------------------------------------------------------------- report: ops */

static void kop_line(const struct chaos_history *h, const struct chaos_kop *k, struct ubuf *out)
{
    ubuf_appendf(out, "    ");
    if (k->op >= 0) {
        chaos_op_describe(h, &h->ops[k->op], out);
    } else {
        ubuf_appendf(out, "final read of server %s →", h->servers[-1 - k->op].id);
        if (k->kind == CHAOS_K_ABSENT)
            ubuf_appendf(out, " no object");
        else
            ubuf_appendf(out, " value %s rv %" PRIu64, h->values.s[k->value], k->rv);
    }
    ubuf_appendf(out, "\n");
}

static json_t *time_json(const struct chaos_history *h, int64_t t)
{
    return t == CHAOS_NEVER ? json_null() : json_real((double)(t - h->t0) / 1e9);
}

static json_t *kop_json(const struct chaos_history *h, const struct chaos_kop *k)
{
    json_t *j = json_object();
    if (k->op < 0) {
        json_object_set_new(j, "final_read_of", json_string(h->servers[-1 - k->op].id));
        json_object_set_new(j, "value", k->value >= 0 ? json_string(h->values.s[k->value])
                                                      : json_null());
        if (k->rv)
            json_object_set_new(j, "rv", json_integer((json_int_t)k->rv));
        return j;
    }
    const struct chaos_op *op = &h->ops[k->op];
    json_object_set_new(j, "id", json_integer(op->id));
    json_object_set_new(j, "client", json_integer(op->client));
    json_object_set_new(j, "f", json_string(chaos_fn_name(op->fn)));
    json_object_set_new(j, "key", json_string(h->keys.s[op->key]));
    if (op->value >= 0)
        json_object_set_new(j, "value", json_string(h->values.s[op->value]));
    if (op->expect_rv)
        json_object_set_new(j, "expect_rv", json_integer((json_int_t)op->expect_rv));
    json_object_set_new(j, "result", json_string(chaos_result_name(op->result)));
    if (op->result == CHAOS_FAIL) {
        json_object_set_new(j, "status", json_integer(op->status));
        json_object_set_new(j, "reason", json_string(op->reason));
    }
    if (op->rv)
        json_object_set_new(j, "rv", json_integer((json_int_t)op->rv));
    json_object_set_new(j, "invoke_s", time_json(h, op->invoke));
    json_object_set_new(j, "complete_s", time_json(h, op->complete));
    return j;
}

/* ---------------------------------------------------------------- report: anomaly */

static const char *outcome_kind(enum outcome o)
{
    return o == KC_FINAL ? "lost-write" : o == KC_LIMIT ? "search-limit" : "linearizability";
}

/* The involved operations: the proof's, or what minimizing leaves. */
static int involved(const struct checker *c, const struct key_check *kc, bool *keep)
{
    struct chaos_keyops part = kc->ko;
    part.n = kc->searched_n;
    if (kc->has_proof) {
        memset(keep, 0, (size_t)part.n * sizeof *keep);
        const struct chaos_proof *p = &kc->proof;
        keep[p->s] = true;
        if (p->w >= 0)
            keep[p->w] = true;
        if (p->x >= 0)
            keep[p->x] = true;
        return 1 + (p->w >= 0) + (p->x >= 0);
    }
    long long max = c->o->max_states > 0 ? c->o->max_states : CHAOS_DEFAULT_MAX_STATES;
    return chaos_minimize(&part, kc->res.stuck, keep, max);
}

static int cmp_kop_call(const void *a, const void *b, void *ctx)
{
    const struct chaos_kop *k = ctx;
    const struct chaos_kop *x = &k[*(const int *)a], *y = &k[*(const int *)b];
    if (x->call != y->call)
        return x->call < y->call ? -1 : 1;
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

static void explain_prefix(const struct checker *c, const struct key_check *kc, json_t *j,
                           struct ubuf *t)
{
    const struct chaos_key_result *r = &kc->res;
    const struct chaos_kop *k = kc->ko.kops;
    if (r->stuck >= 0) {
        ubuf_appendf(t, "  could not place:\n");
        kop_line(c->h, &k[r->stuck], t);
        json_object_set_new(j, "could_not_place", kop_json(c->h, &k[r->stuck]));
    }
    ubuf_appendf(t, "  longest linearizable prefix found: %d of %d operations", r->nprefix,
                 kc->searched_n);
    json_t *pre = json_array();
    for (int i = 0; i < r->nprefix; i++)
        json_array_append_new(pre, kop_json(c->h, &k[r->prefix[i]]));
    json_object_set_new(j, "prefix", pre);
    if (r->nprefix > 0)
        ubuf_appendf(t, "; its last %d:\n", r->nprefix < 5 ? r->nprefix : 5);
    else
        ubuf_appendf(t, "\n");
    for (int i = r->nprefix > 5 ? r->nprefix - 5 : 0; i < r->nprefix; i++)
        kop_line(c->h, &k[r->prefix[i]], t);
    ubuf_appendf(t, "  state after it: ");
    if (r->at.value < 0)
        ubuf_appendf(t, "no object\n");
    else
        ubuf_appendf(t, "value %s rv %" PRIu64 "\n", c->h->values.s[r->at.value], r->at.rv);
}

static void explain_key(const struct checker *c, const struct key_check *kc, json_t *j,
                        struct ubuf *t)
{
    const struct chaos_history *h = c->h;
    struct chaos_keyops part = kc->ko;
    part.n = kc->searched_n;
    struct ubuf why = {0};
    if (kc->has_proof)
        chaos_proof_words(h, &part, &kc->proof, &why);
    else if (kc->res.stuck >= 0)
        chaos_search_words(h, &part, &kc->res, &why);
    else if (kc->outcome == KC_LIMIT)
        ubuf_appendf(&why, "the search gave up after %lld states", kc->res.states);
    else
        ubuf_appendf(&why, "no order of its operations exists");
    ubuf_append(&why, "", 1);
    ubuf_appendf(t, "  key %s: %s\n", h->keys.s[kc->ko.key], why.data);
    json_object_set_new(j, "kind", json_string(outcome_kind(kc->outcome)));
    json_object_set_new(j, "key", json_string(h->keys.s[kc->ko.key]));
    json_object_set_new(j, "why", json_string(why.data));
    ubuf_free(&why);
    if (kc->outcome == KC_LIMIT)
        return;
    bool *keep = xcalloc((size_t)part.n + 1, sizeof *keep);
    int m = involved(c, kc, keep), *idx = xmalloc(((size_t)m + 1) * sizeof *idx), at = 0;
    for (int i = 0; i < part.n; i++)
        if (keep[i])
            idx[at++] = i;
    assert(at == m);
    qsort_r(idx, (size_t)m, sizeof *idx, cmp_kop_call, part.kops);
    ubuf_appendf(t, "  operations involved (%d):\n", m);
    json_t *inv = json_array();
    for (int i = 0; i < m; i++) {
        if (i < 30)
            kop_line(h, &part.kops[idx[i]], t);
        json_array_append_new(inv, kop_json(h, &part.kops[idx[i]]));
    }
    if (m > 30)
        ubuf_appendf(t, "    … and %d more (see --json)\n", m - 30);
    json_object_set_new(j, "operations", inv);
    free(idx);
    free(keep);
    if (!kc->has_proof)
        explain_prefix(c, kc, j, t);
}

/* ---------------------------------------------------------------- report: figures */

static void figures_text(const struct checker *c, struct ubuf *t)
{
    const struct chaos_history *h = c->h;
    ubuf_appendf(t, "operations   %zu on %d keys from %d clients over %.3f s\n", h->n, h->keys.n,
                 h->nclients, (double)(h->t_end - h->t0) / 1e9);
    for (int f = 0; f < CHAOS_NFN; f++) {
        const long long *b = c->fig.by[f];
        if (b[0] + b[1] + b[2])
            ubuf_appendf(t, "  %-7s    ok %lld, fail %lld, unknown %lld\n", chaos_fn_name(f),
                         b[CHAOS_OK], b[CHAOS_FAIL], b[CHAOS_UNKNOWN]);
    }
    if (c->fig.fail_as_unknown)
        ubuf_appendf(t, "  %lld fails without a definite reason (not AlreadyExists, NotFound or "
                        "Conflict) taken as unknown\n", c->fig.fail_as_unknown);
    if (h->has_final)
        ubuf_appendf(t, "final state  %d servers\n", h->nservers);
    else
        ubuf_appendf(t, "final state  not given (--no-final): lost writes and convergence not checked\n");
}

static json_t *figures_json(const struct checker *c, double secs)
{
    const struct chaos_history *h = c->h;
    json_t *j = json_object(), *by = json_object();
    for (int f = 0; f < CHAOS_NFN; f++) {
        json_t *r = json_object();
        for (int x = 0; x < CHAOS_NRESULT; x++)
            json_object_set_new(r, chaos_result_name(x), json_integer(c->fig.by[f][x]));
        json_object_set_new(by, chaos_fn_name(f), r);
    }
    json_object_set_new(j, "operations", json_integer((json_int_t)h->n));
    json_object_set_new(j, "by_function", by);
    json_object_set_new(j, "fail_taken_as_unknown", json_integer(c->fig.fail_as_unknown));
    json_object_set_new(j, "keys", json_integer(h->keys.n));
    json_object_set_new(j, "clients", json_integer(h->nclients));
    json_object_set_new(j, "servers", json_integer(h->nservers));
    json_object_set_new(j, "span_s", json_real((double)(h->t_end - h->t0) / 1e9));
    json_object_set_new(j, "states", json_integer(c->fig.states));
    json_object_set_new(j, "max_states_key", json_integer(c->fig.max_states_key));
    json_object_set_new(j, "checker_s", json_real(secs));
    return j;
}

/* ---------------------------------------------------------------- the check */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *pass_word(bool ran, bool ok)
{
    return !ran ? "NOT RUN" : ok ? "PASS" : "FAIL";
}

/* The failing key to explain: the one whose anomaly came first; -1 if none. */
static int first_anomaly(const struct checker *c, int *nfail, int *nlimit, bool *lost)
{
    int first = -1;
    *nfail = *nlimit = 0;
    *lost = false;
    for (int k = 0; k < c->h->keys.n; k++) {
        const struct key_check *kc = &c->keys[k];
        if (kc->outcome == KC_LIMIT)
            (*nlimit)++;
        if (kc->outcome != KC_LINEAR && kc->outcome != KC_FINAL)
            continue;
        (*nfail)++;
        *lost |= kc->outcome == KC_FINAL;
        if (first < 0 || kc->when < c->keys[first].when)
            first = k;
    }
    return first;
}

static void key_list(const struct checker *c, enum outcome a, enum outcome b, const char *name,
                     json_t *j)
{
    json_t *arr = json_array();
    for (int k = 0; k < c->h->keys.n; k++)
        if (c->keys[k].outcome == a || c->keys[k].outcome == b)
            json_array_append_new(arr, json_string(c->h->keys.s[k]));
    json_object_set_new(j, name, arr);
}

static void verdict(struct checker *c, struct chaos_report *r, double t_start)
{
    const struct chaos_history *h = c->h;
    int nfail, nlimit;
    bool lost;
    int first = first_anomaly(c, &nfail, &nlimit, &lost);
    struct ubuf div = {0};
    bool diverged = h->has_final && find_divergence(h, &div);
    ubuf_append(&div, "", 1);
    r->failed_keys = nfail;
    r->limit_keys = nlimit;
    r->lost_write = lost;
    r->converged = !diverged;
    r->linearizable = nfail == 0 && nlimit == 0;
    struct chaos_watch_result wr = {.ok = true};
    if (h->watch)
        chaos_watch_check(h, h->watch, &wr);
    r->watch_ok = wr.ok;
    struct chaos_ctl_result cr = {.ok = true};
    if (h->ctl)
        chaos_ctl_check(h->ctl, &cr);
    r->ctl_ok = cr.ok;
    r->verdict = nfail || diverged || !wr.ok || !cr.ok ? CHAOS_FAILED
               : nlimit                                 ? CHAOS_UNDECIDED
                                                        : CHAOS_PASS;
    const char *result = r->verdict == CHAOS_PASS ? "PASS" : r->verdict == CHAOS_FAILED ? "FAIL"
                                                                                        : "UNKNOWN";
    bool lin_fail = false;
    for (int k = 0; k < h->keys.n; k++)
        lin_fail |= c->keys[k].outcome == KC_LINEAR;
    json_t *j = json_object(), *checks = json_object(), *anomaly = json_null();
    struct ubuf *t = &r->text;
    figures_text(c, t);
    const char *lin = lin_fail ? "FAIL" : nlimit ? "UNKNOWN (search limit)" : "PASS";
    ubuf_appendf(t, "linearizable %s (%d keys; %lld states searched, at most %lld on one key)\n",
                 lin, h->keys.n, c->fig.states, c->fig.max_states_key);
    ubuf_appendf(t, "lost writes  %s\n", pass_word(h->has_final, !lost));
    ubuf_appendf(t, "convergence  %s\n", pass_word(h->has_final, !diverged));
    if (h->watch)
        ubuf_append(t, wr.text.data, wr.text.len);
    else
        ubuf_appendf(t, "watch        NOT RUN (no watch.jsonl)\n");
    if (h->ctl)
        ubuf_append(t, cr.text.data, cr.text.len);
    json_object_set_new(checks, "linearizable", json_string(lin_fail ? "FAIL" : nlimit ? "UNKNOWN" : "PASS"));
    json_object_set_new(checks, "lost_writes", json_string(pass_word(h->has_final, !lost)));
    json_object_set_new(checks, "convergence", json_string(pass_word(h->has_final, !diverged)));
    json_object_set_new(checks, "watch", json_string(pass_word(h->watch != NULL, wr.ok)));
    json_object_set_new(checks, "controllers", json_string(pass_word(h->ctl != NULL, cr.ok)));
    if (nfail || nlimit) {
        anomaly = json_object();
        int k = first;
        if (k < 0)
            for (k = 0; c->keys[k].outcome != KC_LIMIT; k++)
                ;
        ubuf_appendf(t, "anomaly      %s (%d key%s failed, %d undecided)\n",
                     outcome_kind(c->keys[k].outcome), nfail, nfail == 1 ? "" : "s", nlimit);
        explain_key(c, &c->keys[k], anomaly, t);
    } else if (diverged) {
        anomaly = json_object();
        json_object_set_new(anomaly, "kind", json_string("convergence"));
        json_object_set_new(anomaly, "why", json_string(div.data));
    } else if (!wr.ok) {
        anomaly = json_pack("{s:s, s:O}", "kind", "watch", "why",
                            json_object_get(json_array_get(json_object_get(wr.json, "violations"),
                                                           0), "why"));
    } else if (!cr.ok) {
        anomaly = json_pack("{s:s, s:O}", "kind", "controllers", "why",
                            json_object_get(json_array_get(json_object_get(cr.json, "violations"),
                                                           0), "why"));
    }
    if (diverged)
        ubuf_appendf(t, "divergence   %s\n", div.data);
    double secs = now_s() - t_start;
    ubuf_appendf(t, "checker time %.3f s\nresult       %s\n", secs, result);
    json_object_set_new(j, "result", json_string(result));
    json_object_set_new(j, "checks", checks);
    json_object_set_new(j, "figures", figures_json(c, secs));
    key_list(c, KC_LINEAR, KC_FINAL, "failed_keys", j);
    key_list(c, KC_LIMIT, KC_LIMIT, "undecided_keys", j);
    json_object_set_new(j, "anomaly", anomaly);
    json_object_set_new(j, "divergence", diverged ? json_string(div.data) : json_null());
    json_object_set_new(j, "watch", h->watch ? json_incref(wr.json) : json_null());
    json_object_set_new(j, "controllers", h->ctl ? json_incref(cr.json) : json_null());
    chaos_watch_result_free(&wr);
    if (h->ctl)
        chaos_ctl_result_free(&cr);
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
    ubuf_appendf(&r->json, "%s\n", s);
    free(s);
    json_decref(j);
    ubuf_free(&div);
}

void chaos_check_history(const struct chaos_history *h, const struct chaos_options *o,
                         struct chaos_report *r)
{
    assert(h->n > 0);
    memset(r, 0, sizeof *r);
    double t_start = now_s();
    struct checker c = {.h = h, .o = o};
    build_keys(&c);
    c.first_seen = xmalloc(((size_t)h->values.n + 1) * sizeof *c.first_seen);
    for (int k = 0; k < h->keys.n; k++)
        check_key(&c, &c.keys[k]);
    verdict(&c, r, t_start);
    for (int k = 0; k < h->keys.n; k++) {
        free(c.keys[k].ko.kops);
        chaos_key_result_free(&c.keys[k].res);
    }
    free(c.keys);
    free(c.kop_of_op);
    free(c.first_seen);
}

void chaos_report_free(struct chaos_report *r)
{
    ubuf_free(&r->text);
    ubuf_free(&r->json);
}
