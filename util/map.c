/* map.c — a string-keyed hash map (open addressing, linear probing).
 *
 * Keys are copied in; values are opaque pointers the caller owns. Deleted
 * slots become tombstones so probes keep going past them; the table is
 * rebuilt (which drops tombstones) when live keys and tombstones together
 * pass 70% of the slots. FNV-1a is enough here: keys are object names the
 * cluster chose, not adversarial input to a long-lived table — and a probe
 * sequence stays O(1) on average either way. */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static char umap_tomb_key;
#define UMAP_TOMB (&umap_tomb_key)

uint64_t util_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t umap_hash(const char *s)
{
    return util_hash_str(UTIL_HASH_SEED, s);
}

static void umap_grow(struct umap *m, size_t cap)
{
    struct umap_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->cap = cap;
    m->n = 0;
    m->used = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].key || old[i].key == UMAP_TOMB)
            continue;
        size_t j = old[i].hash & (cap - 1);
        while (m->slots[j].key)
            j = (j + 1) & (cap - 1);
        m->slots[j] = old[i];
        m->n++;
        m->used++;
    }
    free(old);
}

/* The slot holding key, or NULL. */
static struct umap_slot *umap_find(const struct umap *m, const char *key, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        struct umap_slot *s = &m->slots[j];
        if (!s->key)
            return NULL;
        if (s->key != UMAP_TOMB && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

void *umap_get(const struct umap *m, const char *key)
{
    struct umap_slot *s = umap_find(m, key, umap_hash(key));
    return s ? s->val : NULL;
}

void *umap_put(struct umap *m, const char *key, void *val)
{
    uint64_t h = umap_hash(key);
    struct umap_slot *s = umap_find(m, key, h);
    if (s) {
        void *old = s->val;
        s->val = val;
        return old;
    }
    if ((m->used + 1) * 10 >= m->cap * 7)
        umap_grow(m, m->cap ? (m->n * 2 >= m->cap / 2 ? m->cap * 2 : m->cap) : 16);
    size_t j = h & (m->cap - 1);
    while (m->slots[j].key && m->slots[j].key != UMAP_TOMB)
        j = (j + 1) & (m->cap - 1);
    if (!m->slots[j].key)
        m->used++;
    m->slots[j] = (struct umap_slot){xstrdup(key), val, h};
    m->n++;
    return NULL;
}

void *umap_del(struct umap *m, const char *key)
{
    struct umap_slot *s = umap_find(m, key, umap_hash(key));
    if (!s)
        return NULL;
    void *val = s->val;
    free(s->key);
    s->key = UMAP_TOMB;
    s->val = NULL;
    m->n--;
    return val;
}

bool umap_next(const struct umap *m, size_t *iter, const char **key, void **val)
{
    for (; *iter < m->cap; (*iter)++) {
        struct umap_slot *s = &m->slots[*iter];
        if (s->key && s->key != UMAP_TOMB) {
            if (key)
                *key = s->key;
            if (val)
                *val = s->val;
            (*iter)++;
            return true;
        }
    }
    return false;
}

void umap_free(struct umap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != UMAP_TOMB)
            free(m->slots[i].key);
    free(m->slots);
    memset(m, 0, sizeof *m);
}
