/* chaos_search.c — the linearizability search of `bosun chaos check`: the
 * model of one key's object and Wing & Gong's algorithm with Lowe's
 * memoization (as in Porcupine), run on one key's operations at a time.
 *
 * The model. A key's object is absent, or present with (value, rv). Every
 * operation (struct chaos_kop, built by chaos_check.c) is a step that either
 * can take effect in a state, giving the next state, or cannot. ok results
 * must match exactly; definite failures are reads of a condition (present,
 * absent, rv differs); unknown writes take effect when they can and leave
 * the rv unbound (0) until a read or a precondition binds it — values are
 * unique per write, so the first read that observes the value observes
 * that write's rv. Revisions only grow: a write's rv (or a binding) must
 * exceed the highest rv the key had (floor).
 *
 * The search. Each operation is a call event at its invoke time and a
 * return event at its completion (infinity for unknown results, so they can
 * be placed anywhere after their call — placing one last is "it never
 * happened": a no-op placement is always equivalent to that). The events
 * form a doubly linked list sorted by time (calls first on ties, so touching
 * intervals count as concurrent). Walking the list from the head: at a
 * call, try to linearize its operation now (the model step); if that works
 * and the pair (set of linearized ops, state) is new, remember it in the
 * cache, push (call, old state) on a stack, take the call and its return
 * out of the list and start again from the head. At a return, the
 * operation it ends was not linearized before its completion: undo the
 * last choice (pop, put the events back) and try the next call after it.
 * An empty list means every operation was placed: linearizable. A return
 * with an empty stack means no order exists. The cache (Lowe) prunes
 * paths that reach a (set, state) pair already explored; it is bounded by
 * max_states (and by memory) and the search gives up past it.
 *
 * Read-only operations (ok gets, NotFound, AlreadyExists, Conflict) are
 * taken greedily: at a newly reached node, one that is enabled (its call
 * lies before the first pending return, so every op that returned before
 * it was called is already placed) and fits the state is linearized at
 * once, and on backtracking that node is abandoned rather than tried with
 * other choices. This loses no order: in any completion from the node the
 * read can be moved to the front, since it changes nothing — but for
 * binding an unbound rv, which every later read of that same value must
 * agree with anyway, and no write can come between (it would change the
 * value, and values are unique). Without it, k concurrent reads that all
 * fit make 2^k (set, state) pairs.
 *
 * Unknown writes nobody observed are tried only where they change
 * something, and interchangeable ones in one order (see unknown_skip and
 * classes_build); the cache keeps a set as a fingerprint (see struct
 * cache), so a key's history can be long. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tools/chaos_internal.h"

/* ---------------------------------------------------------------- model */

/* Whether the object's rv can be want (0: no condition): equal, or unbound
 * and bindable (above floor), in which case next binds it. */
static bool rv_matches(const struct chaos_state *s, uint64_t want, struct chaos_state *next)
{
    if (want == 0 || s->rv == want)
        return true;
    if (s->rv != 0 || want <= s->floor)
        return false;
    next->rv = next->floor = want;
    return true;
}

/* The object becomes (value, rv); rv 0 is unbound. False if rv does not
 * exceed the key's highest revision so far. */
static bool put(struct chaos_state *next, int value, uint64_t rv)
{
    if (rv != 0 && rv <= next->floor)
        return false;
    next->value = value;
    next->rv = rv;
    if (rv > next->floor)
        next->floor = rv;
    return true;
}

static void remove_object(struct chaos_state *next)
{
    next->value = -1;
    next->rv = 0;
}

static bool step_delete(const struct chaos_state *s, const struct chaos_kop *op,
                        struct chaos_state *next)
{
    if (s->value < 0 || (op->value >= 0 && s->value != op->value))
        return false;
    if (!rv_matches(s, op->expect, next))
        return false;
    struct chaos_state bound = *next;
    if (!rv_matches(&bound, op->rv, next))
        return false;
    remove_object(next);
    return true;
}

bool chaos_model_step(const struct chaos_state *s, const struct chaos_kop *op,
                      struct chaos_state *next)
{
    *next = *s;
    bool present = s->value >= 0;
    switch (op->kind) {
    case CHAOS_K_CREATE:
        return !present && put(next, op->value, op->rv);
    case CHAOS_K_CREATE_MAYBE:
        if (!present)
            put(next, op->value, 0);
        return true;
    case CHAOS_K_PRESENT:
        return present;
    case CHAOS_K_READ:
        return present && s->value == op->value && rv_matches(s, op->rv, next);
    case CHAOS_K_ABSENT:
        return !present;
    case CHAOS_K_UPDATE:
        return present && rv_matches(s, op->expect, next) && put(next, op->value, op->rv);
    case CHAOS_K_UPDATE_MAYBE:
        if (present && rv_matches(s, op->expect, next))
            put(next, op->value, 0);
        return true;
    case CHAOS_K_CONFLICT:
        return present && s->rv != op->expect;
    case CHAOS_K_DELETE:
        return step_delete(s, op, next);
    case CHAOS_K_DELETE_MAYBE:
        if (present && rv_matches(s, op->expect, next))
            remove_object(next);
        return true;
    }
    assert(!"unknown kind");
    return false;
}

/* ---------------------------------------------------------------- events */

struct event {
    int op;      /* kop index */
    bool call;
    int match;   /* the other event of the same op */
    int prev, next; /* list links; 0 is the head sentinel, -1 the end */
    int64_t time;
};

static int cmp_event(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->call != y->call)
        return x->call ? -1 : 1;
    return (x->op > y->op) - (x->op < y->op);
}

/* The list of 2n events after a head sentinel at index 0. */
static struct event *events_build(const struct chaos_kop *ops, int n)
{
    struct event *e = xcalloc((size_t)2 * n + 1, sizeof *e);
    for (int i = 0; i < n; i++) {
        assert(ops[i].ret >= ops[i].call);
        e[1 + 2 * i] = (struct event){.op = i, .call = true, .time = ops[i].call};
        e[2 + 2 * i] = (struct event){.op = i, .call = false, .time = ops[i].ret};
    }
    qsort(e + 1, (size_t)2 * n, sizeof *e, cmp_event);
    int *call_at = xmalloc((size_t)n * sizeof *call_at);
    for (int i = 1; i <= 2 * n; i++) {
        e[i].prev = i - 1;
        e[i].next = i < 2 * n ? i + 1 : -1;
        if (e[i].call)
            call_at[e[i].op] = i;
        else
            e[i].match = call_at[e[i].op], e[call_at[e[i].op]].match = i;
    }
    e[0] = (struct event){.op = -1, .prev = -1, .next = n ? 1 : -1};
    free(call_at);
    return e;
}

/* Takes a call event and its return out of the list. */
static void lift(struct event *e, int c)
{
    int r = e[c].match;
    e[e[c].prev].next = e[c].next;
    if (e[c].next >= 0)
        e[e[c].next].prev = e[c].prev;
    e[e[r].prev].next = e[r].next;
    if (e[r].next >= 0)
        e[e[r].next].prev = e[r].prev;
}

/* Puts them back, in the reverse order of lift. */
static void unlift(struct event *e, int c)
{
    int r = e[c].match;
    e[e[r].prev].next = r;
    if (e[r].next >= 0)
        e[e[r].next].prev = r;
    e[e[c].prev].next = c;
    if (e[c].next >= 0)
        e[e[c].next].prev = c;
}

/* ---------------------------------------------------------------- cache */

/* The cache stays under this many bytes whatever max_states says. */
#define CHAOS_CACHE_BYTES ((size_t)1 << 30)

/* A set of (linearized set, state) pairs. The set is kept as its 128-bit
 * Zobrist fingerprint (two random words per op, xored in as ops are
 * placed), not as the bitset itself: a key with 70,000 operations would
 * need 9 KB an entry, and the cache would give up long before the search.
 * Two sets share a fingerprint with probability 2^-128 a pair: under
 * 10^-20 for the 10^8 entries memory allows. A collision could only make
 * the search skip a node as explored — turning a PASS into a FAIL or
 * UNKNOWN, never hiding an anomaly. An entry is the fingerprint and the
 * state's three words, found through an open-addressing table of indexes
 * + 1. */
struct fp {
    uint64_t a, b;
};

struct cache {
    uint64_t *arena;   /* ENTRY_WORDS a entry */
    size_t n, cap;     /* entries */
    uint32_t *slots;   /* 0 empty */
    size_t nslots;     /* a power of two */
};

#define ENTRY_WORDS 5

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t entry_hash(const uint64_t *en)
{
    return mix64(en[0] ^ mix64(en[2] ^ mix64(en[3] ^ mix64(en[4]))));
}

static void cache_grow_slots(struct cache *c)
{
    size_t ns = c->nslots ? 2 * c->nslots : 1024;
    uint32_t *slots = xcalloc(ns, sizeof *slots);
    for (size_t i = 0; i < c->nslots; i++) {
        if (!c->slots[i])
            continue;
        size_t j = entry_hash(c->arena + (c->slots[i] - 1) * ENTRY_WORDS) & (ns - 1);
        while (slots[j])
            j = (j + 1) & (ns - 1);
        slots[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = ns;
}

/* Adds (set, s); false if it was there already. */
static bool cache_add(struct cache *c, struct fp set, const struct chaos_state *s)
{
    uint64_t key[ENTRY_WORDS] = {set.a, set.b};
    static_assert(sizeof *s == 3 * sizeof key[0], "a state is three words");
    memcpy(key + 2, s, sizeof *s);
    if (2 * (c->n + 1) > c->nslots)
        cache_grow_slots(c);
    size_t j = entry_hash(key) & (c->nslots - 1);
    for (; c->slots[j]; j = (j + 1) & (c->nslots - 1))
        if (memcmp(c->arena + (c->slots[j] - 1) * ENTRY_WORDS, key, sizeof key) == 0)
            return false;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->arena = xrealloc(c->arena, c->cap * sizeof key);
    }
    assert(c->n + 1 < UINT32_MAX);
    memcpy(c->arena + c->n * ENTRY_WORDS, key, sizeof key);
    c->slots[j] = (uint32_t)++c->n;
    return true;
}

static size_t cache_bytes(const struct cache *c)
{
    return c->cap * ENTRY_WORDS * 8 + c->nslots * 4;
}

/* ---------------------------------------------------------------- search */

struct frame {
    int call;               /* the call event linearized */
    bool forced;            /* a read-only op taken as soon as enabled */
    struct chaos_state before;
    struct fp set_before;   /* the fingerprint of the linearized set before it */
};

struct search {
    const struct chaos_kop *ops;
    int n;
    struct event *ev;
    struct cache cache;
    uint64_t *bits;         /* the linearized set, by op */
    struct fp *zobrist;     /* by op */
    int *prev_same;         /* op → the unknown write before it of its class, or -1 */
    struct frame *stack;
    int depth;
    bool stuck_seen;        /* a return was met at the best depth */
    struct chaos_key_result *out;
};

/* The deepest prefix so far is recorded when the search first gets there. */
static void note_depth(struct search *s, const struct chaos_state *now)
{
    if (s->depth <= s->out->nprefix)
        return;
    for (int i = 0; i < s->depth; i++)
        s->out->prefix[i] = s->ev[s->stack[i].call].op;
    s->out->nprefix = s->depth;
    s->out->at = *now;
    s->stuck_seen = false;
}

static bool placed(const struct search *s, int op)
{
    return s->bits[op / 64] & 1ull << (op % 64);
}

/* Tries to linearize the call event c's op in *state; true if it did. */
static bool try_call(struct search *s, int c, struct chaos_state *state, struct fp *set)
{
    int op = s->ev[c].op;
    struct chaos_state next;
    if (!chaos_model_step(state, &s->ops[op], &next))
        return false;
    struct fp after = {set->a ^ s->zobrist[op].a, set->b ^ s->zobrist[op].b};
    if (!cache_add(&s->cache, after, &next))
        return false;
    s->bits[op / 64] |= 1ull << (op % 64);
    s->stack[s->depth++] = (struct frame){.call = c, .before = *state, .set_before = *set};
    *state = next;
    *set = after;
    lift(s->ev, c);
    return true;
}

static bool read_only(const struct chaos_kop *k)
{
    return k->kind == CHAOS_K_READ || k->kind == CHAOS_K_ABSENT || k->kind == CHAOS_K_PRESENT ||
           k->kind == CHAOS_K_CONFLICT;
}

/* A read-only op that is enabled here (its call lies before the first
 * pending return) and fits the state: linearizing it at once loses no
 * order (see the top of the file). Its call event, or 0. */
static int find_forced(const struct search *s, const struct chaos_state *state)
{
    struct chaos_state next;
    for (int at = s->ev[0].next; at > 0 && s->ev[at].call; at = s->ev[at].next) {
        const struct chaos_kop *k = &s->ops[s->ev[at].op];
        if (read_only(k) && chaos_model_step(state, k, &next))
            return at;
    }
    return 0;
}

/* Undoes the last linearization; returns its call event. */
static int backtrack(struct search *s, struct chaos_state *state, struct fp *set)
{
    assert(s->depth > 0);
    const struct frame *f = &s->stack[--s->depth];
    int op = s->ev[f->call].op;
    s->bits[op / 64] &= ~(1ull << (op % 64));
    *state = f->before;
    *set = f->set_before;
    unlift(s->ev, f->call);
    return f->call;
}

/* Pops frames back to the last real choice: a forced frame's node has no
 * other option worth trying. Returns the call event to continue after, or
 * 0 when nothing is left (no order exists). */
static int backtrack_choice(struct search *s, struct chaos_state *state, struct fp *set)
{
    while (s->depth > 0) {
        bool forced = s->stack[s->depth - 1].forced;
        int c = backtrack(s, state, set);
        if (!forced)
            return c;
    }
    return 0;
}

/* Whether the call event c is an unknown write nobody observed (at
 * infinity) that is not worth trying here: it would change nothing in
 * this state (placing it last, i.e. never, is the same order), or an
 * earlier write of its class is not placed yet (that one is tried
 * instead, see classes_build). Trying such a write anyway is sound but
 * makes refuting a key with many timeouts exponential in them. */
static bool unknown_skip(const struct search *s, int c, const struct chaos_state *state)
{
    int op = s->ev[c].op;
    if (s->ops[op].ret != CHAOS_NEVER)
        return false;
    struct chaos_state next;
    chaos_model_step(state, &s->ops[op], &next);
    if (memcmp(&next, state, sizeof next) == 0)
        return true;
    int p = s->prev_same[op];
    return p >= 0 && !placed(s, p);
}

/* When only unknown writes at infinity are left — the first pending
 * return is at infinity — the history is explained: they all go last, in
 * any order, as the model always accepts them. */
static enum chaos_key_verdict search_run(struct search *s, long long max_states)
{
    struct chaos_state state = {.value = -1};
    struct fp set = {0, 0};
    int at = s->ev[0].next;
    bool fresh = true; /* at a node just reached: look for a forced read first */
    while (s->ev[0].next >= 0) {
        assert(at > 0);
        if ((long long)s->cache.n > max_states || cache_bytes(&s->cache) > CHAOS_CACHE_BYTES)
            return CHAOS_KEY_LIMIT;
        int forced = fresh ? find_forced(s, &state) : 0;
        fresh = false;
        if (forced) {
            if (try_call(s, forced, &state, &set)) {
                s->stack[s->depth - 1].forced = true;
                note_depth(s, &state);
                at = s->ev[0].next;
                fresh = true;
                continue;
            }
            /* Explored before from here, without success: so is this node. */
            int c = backtrack_choice(s, &state, &set);
            if (!c)
                return CHAOS_KEY_FAIL;
            at = s->ev[c].next;
            continue;
        }
        if (s->ev[at].call) {
            if (!unknown_skip(s, at, &state) && try_call(s, at, &state, &set)) {
                note_depth(s, &state);
                at = s->ev[0].next;
                fresh = true;
            } else {
                at = s->ev[at].next;
            }
            continue;
        }
        if (s->ev[at].time == CHAOS_NEVER)
            return CHAOS_KEY_OK;
        if (s->depth == s->out->nprefix && !s->stuck_seen) {
            s->out->stuck = s->ev[at].op;
            s->stuck_seen = true;
        }
        int c = backtrack_choice(s, &state, &set);
        if (!c)
            return CHAOS_KEY_FAIL;
        at = s->ev[c].next;
    }
    return CHAOS_KEY_OK;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Orders unknown writes by (kind, expected rv, call order: invoke time,
 * then index, as the event list has it). */
static int cmp_class(const void *a, const void *b, void *arg)
{
    const struct search *s = arg;
    const struct chaos_kop *x = &s->ops[*(const int *)a], *y = &s->ops[*(const int *)b];
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->expect != y->expect)
        return x->expect < y->expect ? -1 : 1;
    if (x->call != y->call)
        return x->call < y->call ? -1 : 1;
    return cmp_int(a, b);
}

bool chaos_kop_unknown_write(const struct chaos_kop *k)
{
    return k->kind == CHAOS_K_CREATE_MAYBE || k->kind == CHAOS_K_UPDATE_MAYBE ||
           k->kind == CHAOS_K_DELETE_MAYBE;
}

/* Classes of interchangeable unknown writes. Two unknown writes at
 * infinity of the same kind and expected rv, whose values nobody reads,
 * have the same constraints once both are called (none: they may go
 * anywhere later, or never) and the same effect on everything an op
 * checks (presence, rv), so in any order that places the later one first,
 * swapping their roles gives an order that places the earlier one first.
 * The search therefore places a class's members in call order: prev_same
 * links each to the one before it. Without this, k timed-out deletes on a
 * key make 2^k sets of placed ones that the cache cannot merge. */
static void classes_build(struct search *s)
{
    int n = s->n, nseen = 0, nd = 0;
    int *seen = xmalloc(((size_t)n + 1) * sizeof *seen);
    int *d = xmalloc(((size_t)n + 1) * sizeof *d);
    for (int i = 0; i < n; i++) {
        const struct chaos_kop *k = &s->ops[i];
        if ((k->kind == CHAOS_K_READ || k->kind == CHAOS_K_DELETE) && k->value >= 0)
            seen[nseen++] = k->value;
        s->prev_same[i] = -1;
    }
    qsort(seen, (size_t)nseen, sizeof *seen, cmp_int);
    for (int i = 0; i < n; i++) {
        const struct chaos_kop *k = &s->ops[i];
        if (chaos_kop_unknown_write(k) && k->ret == CHAOS_NEVER &&
            (k->value < 0 || !bsearch(&k->value, seen, (size_t)nseen, sizeof *seen, cmp_int)))
            d[nd++] = i;
    }
    qsort_r(d, (size_t)nd, sizeof *d, cmp_class, s);
    for (int i = 1; i < nd; i++) {
        const struct chaos_kop *x = &s->ops[d[i - 1]], *y = &s->ops[d[i]];
        if (x->kind == y->kind && x->expect == y->expect)
            s->prev_same[d[i]] = d[i - 1];
    }
    free(seen);
    free(d);
}

void chaos_check_key(const struct chaos_kop *ops, int n, long long max_states,
                     struct chaos_key_result *out)
{
    assert(n >= 0);
    memset(out, 0, sizeof *out);
    out->stuck = -1;
    out->prefix = xcalloc((size_t)n + 1, sizeof *out->prefix);
    out->at.value = -1;
    struct search s = {.ops = ops, .n = n, .out = out};
    s.ev = events_build(ops, n);
    s.prev_same = xmalloc(((size_t)n + 1) * sizeof *s.prev_same);
    classes_build(&s);
    s.bits = xcalloc((size_t)n / 64 + 1, 8);
    s.zobrist = xmalloc(((size_t)n + 1) * sizeof *s.zobrist);
    for (int i = 0; i < n; i++)
        s.zobrist[i] = (struct fp){mix64(0x5eedull + 2 * (uint64_t)i),
                                   mix64(0x5eedull + 2 * (uint64_t)i + 1)};
    s.stack = xmalloc(((size_t)n + 1) * sizeof *s.stack);
    out->verdict = search_run(&s, max_states);
    out->states = (long long)s.cache.n;
    if (out->verdict == CHAOS_KEY_OK)
        out->stuck = -1;
    free(s.ev);
    free(s.prev_same);
    free(s.bits);
    free(s.zobrist);
    free(s.stack);
    free(s.cache.arena);
    free(s.cache.slots);
}

void chaos_key_result_free(struct chaos_key_result *r)
{
    free(r->prefix);
    memset(r, 0, sizeof *r);
}
