/* events.c — what the controllers' event recorder writes, decided as
 * client-go's EventCorrelator decides it (tools/record/events_cache.go),
 * so that a controller creating 10,000 pods writes a few dozen Events
 * about its ReplicaSet, not 10,000:
 *
 *  - aggregation: events about one object from one source that differ only
 *    in their message (same type and reason) are counted by distinct
 *    message over a 10-minute window; from the 10th distinct message on,
 *    the event becomes "(combined from similar events): MESSAGE" under one
 *    name per object, type and reason, whose count grows;
 *  - de-duplication: otherwise the event's name is a hash of the object's
 *    uid, the reason and the message, so a repeat finds the same Event and
 *    bumps its count (the runtime's ctl_event and event_bump);
 *  - the spam filter: a token bucket per source and object, 25 events of
 *    burst refilled at one every 5 minutes; an event without a token is
 *    dropped.
 *
 * client-go keeps its records in LRU caches of 4,096 entries. Here a map
 * past 4,096 records first forgets the records that no longer change a
 * decision (windows over, buckets full again) and, if that is not enough,
 * all of them: the next events are then judged as a new process would. A
 * skipped event is not counted in the count of the combined one (client-go
 * counts it locally and writes the sum with the next event it lets
 * through). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/ctl_internal.h"
#include "util/util.h"

#define EV_MAX_RECORDS 4096
#define EV_AGGREGATE_MAX 10
#define EV_AGGREGATE_WINDOW_MS (600 * 1000)
#define EV_SPAM_BURST 25.0
#define EV_SPAM_REFILL_MS (300 * 1000) /* one token every 5 minutes */

struct aggregate {
    int64_t last_ms;
    uint64_t msgs[EV_AGGREGATE_MAX]; /* hashes of the distinct messages */
    unsigned n;
};

struct bucket {
    double tokens;
    int64_t last_ms;
};

/* A field of a hash: its bytes and a separator, so "ab"+"c" != "a"+"bc". */
static uint64_t hash_str(uint64_t h, const char *s)
{
    return util_hash(util_hash_str(h, s), "\x1f", 1);
}

static void sweep(struct umap *m, int64_t now_ms, bool aggregates)
{
    if (m->n <= EV_MAX_RECORDS)
        return;
    size_t it = 0;
    const char *k;
    void *v;
    while (umap_next(m, &it, &k, &v)) {
        bool spent = aggregates
                         ? now_ms - ((struct aggregate *)v)->last_ms > EV_AGGREGATE_WINDOW_MS
                         : ((struct bucket *)v)->tokens +
                                   (double)(now_ms - ((struct bucket *)v)->last_ms) /
                                       EV_SPAM_REFILL_MS >=
                               EV_SPAM_BURST;
        if (spent)
            free(umap_del(m, k));
    }
    if (m->n <= EV_MAX_RECORDS)
        return;
    it = 0;
    while (umap_next(m, &it, &k, &v))
        free(v);
    umap_free(m);
}

/* Whether this event is the combined one: the aggregate's record takes
 * its message. */
static bool aggregate(struct ctl_correlator *k, const char *key, const char *msg,
                      int64_t now_ms)
{
    sweep(&k->aggregates, now_ms, true);
    struct aggregate *a = umap_get(&k->aggregates, key);
    if (!a) {
        a = xcalloc(1, sizeof *a);
        umap_put(&k->aggregates, key, a);
    } else if (now_ms - a->last_ms > EV_AGGREGATE_WINDOW_MS) {
        a->n = 0;
    }
    a->last_ms = now_ms;
    uint64_t h = hash_str(UTIL_HASH_SEED, msg);
    bool known = false;
    for (unsigned i = 0; i < a->n && !known; i++)
        known = a->msgs[i] == h;
    if (!known)
        a->msgs[a->n++] = h;
    if (a->n < EV_AGGREGATE_MAX)
        return false;
    a->n--; /* as client-go: the set never grows past the threshold */
    if (!known)
        a->msgs[a->n - 1] = h; /* drop another one, keep this one */
    return true;
}

/* The spam filter: whether a token is left for this source and object. */
static bool spam_ok(struct ctl_correlator *k, const char *key, int64_t now_ms)
{
    sweep(&k->buckets, now_ms, false);
    struct bucket *b = umap_get(&k->buckets, key);
    if (!b) {
        b = xcalloc(1, sizeof *b);
        b->tokens = EV_SPAM_BURST;
        b->last_ms = now_ms;
        umap_put(&k->buckets, key, b);
    }
    b->tokens += (double)(now_ms - b->last_ms) / EV_SPAM_REFILL_MS;
    if (b->tokens > EV_SPAM_BURST)
        b->tokens = EV_SPAM_BURST;
    b->last_ms = now_ms;
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}

bool ctl_correlate(struct ctl_correlator *k, const struct ctl_event_about *e, int64_t now_ms,
                   char *msg, size_t msg_len, char *name, size_t name_len)
{
    char spam_key[1200], agg_key[1400];
    snprintf(spam_key, sizeof spam_key, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", e->component, e->kind,
             e->ns, e->name, e->uid, e->api_version);
    snprintf(agg_key, sizeof agg_key, "%s\x1f%s\x1f%s", spam_key, e->type, e->reason);
    bool combined = aggregate(k, agg_key, e->message, now_ms);
    if (!spam_ok(k, spam_key, now_ms))
        return false;
    uint64_t h = hash_str(hash_str(UTIL_HASH_SEED, e->uid), e->reason);
    if (combined) {
        snprintf(msg, msg_len, "(combined from similar events): %s", e->message);
        h = hash_str(hash_str(h, e->type), "(combined from similar events)");
    } else {
        snprintf(msg, msg_len, "%s", e->message);
        h = hash_str(h, e->message);
    }
    snprintf(name, name_len, "%.200s.%016llx", e->name, (unsigned long long)h);
    return true;
}

void ctl_correlator_free(struct ctl_correlator *k)
{
    struct umap *maps[] = {&k->aggregates, &k->buckets};
    for (int i = 0; i < 2; i++) {
        size_t it = 0;
        const char *key;
        void *v;
        while (umap_next(maps[i], &it, &key, &v))
            free(v);
        umap_free(maps[i]);
    }
}
