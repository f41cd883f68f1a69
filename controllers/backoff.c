/* backoff.c — per-key exponential backoff for controllers, as Kubernetes'
 * client-go util/flowcontrol.Backoff: each key remembers its current delay
 * and when it was last stepped. A key is "in backoff" while less than its
 * delay has passed since that step; stepping it (ctl_backoff_next) doubles
 * the delay up to the maximum, or starts again from the initial delay when
 * the key was left alone for twice the maximum. Entries are the leader's
 * memory only: a new leader starts with none, as a restarted
 * kube-controller-manager does. */
#include <assert.h>
#include <stdlib.h>

#include "controllers/ctl_internal.h"
#include "util/util.h"

struct entry {
    int64_t delay_ms;
    int64_t last_ms;
};

void ctl_backoff_init(struct ctl_backoff *b, int64_t initial_ms, int64_t max_ms)
{
    assert(initial_ms > 0 && max_ms >= initial_ms);
    *b = (struct ctl_backoff){.initial_ms = initial_ms, .max_ms = max_ms};
}

static bool expired(const struct ctl_backoff *b, const struct entry *e, int64_t now_ms)
{
    return now_ms - e->last_ms > 2 * b->max_ms;
}

bool ctl_backoff_active(const struct ctl_backoff *b, const char *key, int64_t now_ms,
                        int64_t *remaining_ms)
{
    const struct entry *e = umap_get(&b->keys, key);
    if (!e || expired(b, e, now_ms) || now_ms - e->last_ms >= e->delay_ms)
        return false;
    if (remaining_ms)
        *remaining_ms = e->delay_ms - (now_ms - e->last_ms);
    return true;
}

void ctl_backoff_next(struct ctl_backoff *b, const char *key, int64_t now_ms)
{
    struct entry *e = umap_get(&b->keys, key);
    if (!e) {
        e = xmalloc(sizeof *e);
        umap_put(&b->keys, key, e);
        e->delay_ms = b->initial_ms;
    } else if (expired(b, e, now_ms)) {
        e->delay_ms = b->initial_ms;
    } else {
        e->delay_ms = e->delay_ms * 2 > b->max_ms ? b->max_ms : e->delay_ms * 2;
    }
    e->last_ms = now_ms;
}

void ctl_backoff_gc(struct ctl_backoff *b, int64_t now_ms)
{
    size_t it = 0;
    const char *k;
    void *v;
    while (umap_next(&b->keys, &it, &k, &v))
        if (expired(b, v, now_ms))
            free(umap_del(&b->keys, k));
}

void ctl_backoff_free(struct ctl_backoff *b)
{
    size_t it = 0;
    void *v;
    while (umap_next(&b->keys, &it, NULL, &v))
        free(v);
    umap_free(&b->keys);
}
