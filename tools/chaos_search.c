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
 * The set of linearized ops is a bitset; its hash is the xor of one random
 * word per op (Zobrist hashing), kept up to date as bits flip, so a cache
 * look-up costs one hash of the state plus a comparison of the bitset. */
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

/* A set of (bitset, state) pairs: entries packed in an arena, found through
 * an open-addressing table of arena indexes + 1. */
struct cache {
    int nw;            /* bitset words */
    size_t stride;     /* words per entry: bitset + state */
    uint64_t *arena;
    size_t n, cap;     /* entries, arena capacity in entries */
    uint32_t *slots;   /* 0 empty */
    size_t nslots;     /* a power of two */
};

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t state_hash(const struct chaos_state *s)
{
    return mix64((uint64_t)(uint32_t)s->value ^ mix64(s->rv ^ mix64(s->floor)));
}

static uint64_t *cache_entry(const struct cache *c, size_t i)
{
    return c->arena + i * c->stride;
}

static void cache_grow_slots(struct cache *c)
{
    size_t ns = c->nslots ? 2 * c->nslots : 1024;
    uint32_t *slots = xcalloc(ns, sizeof *slots);
    for (size_t i = 0; i < c->nslots; i++) {
        if (!c->slots[i])
            continue;
        size_t at = c->slots[i] - 1;
        const uint64_t *en = cache_entry(c, at);
        uint64_t hv = en[c->stride - 1]; /* the stored hash */
        size_t j = hv & (ns - 1);
        while (slots[j])
            j = (j + 1) & (ns - 1);
        slots[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = slots;
    c->nslots = ns;
}

/* Adds (bits, s) with hash hv; false if it was there already. An entry is
 * the bitset, the state's three words and the hash. */
static bool cache_add(struct cache *c, const uint64_t *bits, const struct chaos_state *s,
                      uint64_t hv)
{
    if (2 * (c->n + 1) > c->nslots)
        cache_grow_slots(c);
    size_t j = hv & (c->nslots - 1);
    for (; c->slots[j]; j = (j + 1) & (c->nslots - 1)) {
        const uint64_t *en = cache_entry(c, c->slots[j] - 1);
        if (en[c->stride - 1] == hv && memcmp(en, bits, (size_t)c->nw * 8) == 0 &&
            memcmp(en + c->nw, s, sizeof *s) == 0)
            return false;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 1024;
        c->arena = xrealloc(c->arena, c->cap * c->stride * 8);
    }
    uint64_t *en = cache_entry(c, c->n);
    memcpy(en, bits, (size_t)c->nw * 8);
    memcpy(en + c->nw, s, sizeof *s);
    en[c->stride - 1] = hv;
    c->slots[j] = (uint32_t)++c->n;
    return true;
}

/* ---------------------------------------------------------------- search */

struct frame {
    int call;               /* the call event linearized */
    bool forced;            /* a read-only op taken as soon as enabled */
    struct chaos_state before;
    uint64_t set_hash;      /* of the linearized set before it */
};

struct search {
    const struct chaos_kop *ops;
    int n;
    struct event *ev;
    struct cache cache;
    uint64_t *bits, *zobrist;
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

/* Tries to linearize the call event c's op in *state; true if it did. */
static bool try_call(struct search *s, int c, struct chaos_state *state, uint64_t *set_hash)
{
    int op = s->ev[c].op;
    struct chaos_state next;
    if (!chaos_model_step(state, &s->ops[op], &next))
        return false;
    uint64_t h = *set_hash ^ s->zobrist[op];
    s->bits[op / 64] |= 1ull << (op % 64);
    if (!cache_add(&s->cache, s->bits, &next, mix64(h ^ state_hash(&next)))) {
        s->bits[op / 64] &= ~(1ull << (op % 64));
        return false;
    }
    s->stack[s->depth++] = (struct frame){.call = c, .before = *state, .set_hash = *set_hash};
    *state = next;
    *set_hash = h;
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
static int backtrack(struct search *s, struct chaos_state *state, uint64_t *set_hash)
{
    assert(s->depth > 0);
    const struct frame *f = &s->stack[--s->depth];
    int op = s->ev[f->call].op;
    s->bits[op / 64] &= ~(1ull << (op % 64));
    *state = f->before;
    *set_hash = f->set_hash;
    unlift(s->ev, f->call);
    return f->call;
}

/* Pops frames back to the last real choice: a forced frame's node has no
 * other option worth trying. Returns the call event to continue after, or
 * 0 when nothing is left (no order exists). */
static int backtrack_choice(struct search *s, struct chaos_state *state, uint64_t *set_hash)
{
    while (s->depth > 0) {
        bool forced = s->stack[s->depth - 1].forced;
        int c = backtrack(s, state, set_hash);
        if (!forced)
            return c;
    }
    return 0;
}

static enum chaos_key_verdict search_run(struct search *s, long long max_states)
{
    struct chaos_state state = {.value = -1};
    uint64_t set_hash = 0;
    int at = s->ev[0].next;
    bool fresh = true; /* at a node just reached: look for a forced read first */
    while (s->ev[0].next >= 0) {
        assert(at > 0);
        if ((long long)s->cache.n > max_states)
            return CHAOS_KEY_LIMIT;
        int forced = fresh ? find_forced(s, &state) : 0;
        fresh = false;
        if (forced) {
            if (try_call(s, forced, &state, &set_hash)) {
                s->stack[s->depth - 1].forced = true;
                note_depth(s, &state);
                at = s->ev[0].next;
                fresh = true;
                continue;
            }
            /* Explored before from here, without success: so is this node. */
            int c = backtrack_choice(s, &state, &set_hash);
            if (!c)
                return CHAOS_KEY_FAIL;
            at = s->ev[c].next;
            continue;
        }
        if (s->ev[at].call) {
            if (try_call(s, at, &state, &set_hash)) {
                note_depth(s, &state);
                at = s->ev[0].next;
                fresh = true;
            } else {
                at = s->ev[at].next;
            }
            continue;
        }
        if (s->depth == s->out->nprefix && !s->stuck_seen) {
            s->out->stuck = s->ev[at].op;
            s->stuck_seen = true;
        }
        int c = backtrack_choice(s, &state, &set_hash);
        if (!c)
            return CHAOS_KEY_FAIL;
        at = s->ev[c].next;
    }
    return CHAOS_KEY_OK;
}

/* Each entry costs its bitset, the state, the hash and two slots; the
 * cache stays under this many bytes whatever max_states says. */
#define CHAOS_CACHE_BYTES (256ll << 20)

void chaos_check_key(const struct chaos_kop *ops, int n, long long max_states,
                     struct chaos_key_result *out)
{
    assert(n >= 0);
    memset(out, 0, sizeof *out);
    out->stuck = -1;
    out->prefix = xcalloc((size_t)n + 1, sizeof *out->prefix);
    out->at.value = -1;
    struct search s = {.ops = ops, .n = n, .out = out};
    s.cache.nw = n / 64 + 1;
    s.cache.stride = (size_t)s.cache.nw + sizeof(struct chaos_state) / 8 + 1;
    long long by_memory = CHAOS_CACHE_BYTES / (long long)(s.cache.stride * 8 + 8);
    if (max_states > by_memory)
        max_states = by_memory;
    s.ev = events_build(ops, n);
    s.bits = xcalloc((size_t)s.cache.nw, 8);
    s.zobrist = xmalloc((size_t)n * 8 + 8);
    for (int i = 0; i < n; i++)
        s.zobrist[i] = mix64(0x5eedull + (uint64_t)i);
    s.stack = xmalloc(((size_t)n + 1) * sizeof *s.stack);
    out->verdict = search_run(&s, max_states);
    out->states = (long long)s.cache.n;
    if (out->verdict == CHAOS_KEY_OK)
        out->stuck = -1;
    free(s.ev);
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
