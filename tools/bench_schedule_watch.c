/* bench_schedule_watch.c — the watch thread of `bosun bench schedule`: it
 * sees every pod of the namespace change, and records when each was first
 * seen bound to a node and whether its node ever changed.
 *
 * Before the first create, a LIST of the namespace (limit=1) gives the
 * current revision; the watch starts from it (resourceVersion=R), so every
 * binding is in the stream however late the stream opens. It runs on a
 * follower when there is one, to keep its cost off the leader whose CPU we
 * measure; if the stream ends or breaks it is reopened from the last
 * revision seen (bookmarks included), on the next server of the list. If
 * the server answers 410 Gone (its change log no longer reaches back that
 * far) we LIST the pods, page by page, take what they say as seen now, and
 * watch from the list's revision.
 *
 * Events come as newline-delimited JSON, several per pod (created, bound,
 * Running...) at tens of thousands a second: too many to decode with
 * jansson on a machine whose cores the servers need. So each event is
 * scanned, not decoded: util_json_member (util/jscan.c) walks an object's members,
 * skipping values it does not want by their brackets and quotes, to reach
 * type, object.metadata.{name,resourceVersion} and object.spec.nodeName.
 * The time of an event is the time its bytes were read.
 *
 * The interned node names (struct bsch_names) live here too; the checks
 * use the same table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "httpc/httpc.h"
#include "tools/bench_schedule_internal.h"
#include "tools/tools.h"

enum {
    BSCH_WATCH_READ = 256 * 1024,
    BSCH_WATCH_POLL_MS = 200,
    BSCH_WATCH_OPEN_MS = 10000,
    BSCH_WATCH_READY_MS = 15000,
    BSCH_RELIST_PAGE = 500,
};

/* ---- interned names --------------------------------------------------- */

static uint64_t bsch_hash(const char *s, size_t len)
{
    return util_hash(UTIL_HASH_SEED, s, len);
}

static size_t bsch_names_slot(const struct bsch_names *t, const char *s, size_t len)
{
    size_t mask = t->n_slots - 1, k = bsch_hash(s, len) & mask;
    while (t->slots[k]) {
        const char *have = t->names[t->slots[k] - 1];
        if (strlen(have) == len && memcmp(have, s, len) == 0)
            break;
        k = (k + 1) & mask;
    }
    return k;
}

int bsch_names_find(const struct bsch_names *t, const char *s, size_t len)
{
    if (t->n_slots == 0)
        return -1;
    size_t k = bsch_names_slot(t, s, len);
    return t->slots[k] ? (int)t->slots[k] - 1 : -1;
}

static void bsch_names_grow(struct bsch_names *t)
{
    free(t->slots);
    t->n_slots = t->n_slots ? t->n_slots * 2 : 1024;
    t->slots = xcalloc(t->n_slots, sizeof *t->slots);
    for (size_t i = 0; i < t->n; i++)
        t->slots[bsch_names_slot(t, t->names[i], strlen(t->names[i]))] = (uint32_t)i + 1;
}

int bsch_names_intern(struct bsch_names *t, const char *s, size_t len)
{
    int have = bsch_names_find(t, s, len);
    if (have >= 0)
        return have;
    if ((t->n + 1) * 2 > t->n_slots)
        bsch_names_grow(t);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 256;
        t->names = xrealloc(t->names, t->cap * sizeof *t->names);
    }
    t->names[t->n] = xstrndup(s, len);
    t->slots[bsch_names_slot(t, s, len)] = (uint32_t)(t->n + 1);
    return (int)t->n++;
}

void bsch_names_free(struct bsch_names *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    free(t->slots);
    *t = (struct bsch_names){0};
}

/* ---- applying what was seen ------------------------------------------- */

/* Pod i was seen (deleted or not) on node (NULL or empty: no node). */
static void bsch_watch_apply(struct bsch_run *r, long long i, bool deleted, const char *node,
                             size_t nlen, uint64_t now)
{
    struct bsch_pod *p = &r->pods[i];
    struct bsch_phase *ph = bsch_phase_of(r, i);
    if (node && nlen > 0) {
        int id = bsch_names_intern(&r->nodes, node, nlen);
        if (p->node < 0) {
            p->node = id;
            atomic_store(&p->bound_us, now);
            atomic_fetch_add(&ph->bound, 1);
        } else if (p->node != id && p->rebinds < UINT8_MAX) {
            p->rebinds++;
        }
    } else if (p->node >= 0 && !deleted && p->rebinds < UINT8_MAX) {
        p->rebinds++; /* nodeName cleared */
    }
    if (deleted && !atomic_load(&p->deleted)) {
        atomic_store(&p->deleted, 1);
        if (p->node < 0)
            atomic_fetch_add(&ph->gone, 1);
    }
}

static void bsch_watch_rv(struct bsch_run *r, const char *v, const char *end)
{
    const char *s;
    size_t n;
    if (v && util_json_string(v, end, &s, &n) && n > 0 && n < sizeof r->watch_rv) {
        memcpy(r->watch_rv, s, n);
        r->watch_rv[n] = '\0';
    }
}

/* One event line. Returns -1 if the watch must start over from a LIST. */
static int bsch_watch_event(struct bsch_run *r, const char *line, size_t len, uint64_t now)
{
    static const char *const ev_keys[] = {"type", "object"};
    static const char *const obj_keys[] = {"metadata", "spec"};
    static const char *const err_keys[] = {"code"};
    static const char *const md_keys[] = {"name", "resourceVersion"};
    const char *end = line + len, *ev[2], *obj[2], *code, *type, *name, *node = NULL;
    size_t tlen, nlen, node_len = 0;
    util_json_members(line, end, ev_keys, 2, ev);
    if (!ev[0] || !ev[1] || !util_json_string(ev[0], end, &type, &tlen))
        return 0;
    atomic_fetch_add(&r->watch_events, 1);
    if (tlen == 5 && memcmp(type, "ERROR", 5) == 0) {
        util_json_members(ev[1], end, err_keys, 1, &code);
        return code && strncmp(code, "410", 3) == 0 ? -1 : 0;
    }
    /* Only the keys a pod has, so that the scan stops at spec and never
     * walks the status (most of a running pod's text). */
    util_json_members(ev[1], end, obj_keys, 2, obj);
    const char *md[2] = {NULL, NULL};
    if (obj[0])
        util_json_members(obj[0], end, md_keys, 2, md);
    bsch_watch_rv(r, md[1], end);
    if (!md[0] || !util_json_string(md[0], end, &name, &nlen))
        return 0;
    long long i = bsch_pod_index(r, name, nlen);
    if (i < 0)
        return 0;
    const char *nn = obj[1] ? util_json_member(obj[1], end, "nodeName") : NULL;
    if (nn && !util_json_string(nn, end, &node, &node_len))
        node = NULL;
    bsch_watch_apply(r, i, tlen == 7 && memcmp(type, "DELETED", 7) == 0, node, node_len, now);
    return 0;
}

/* ---- the LIST: at the start, and after 410 ----------------------------- */

int bsch_watch_prepare(struct bsch_run *r)
{
    char path[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?limit=1", r->o->ns);
    json_t *list = bsch_get_json(r, path, 30000);
    const char *rv = json_string_value(json_object_get(json_object_get(list, "metadata"),
                                                       "resourceVersion"));
    if (rv)
        snprintf(r->watch_rv, sizeof r->watch_rv, "%s", rv);
    json_decref(list);
    if (!rv)
        bsch_say("cannot list the pods of %s (for the watch's starting revision)", r->o->ns);
    return rv ? 0 : -1;
}

/* Takes every pod of a LIST as seen now; the list's revision is where the
 * watch goes on. 0, or -1 if the list failed: then the watch's revision is
 * left alone and the caller lists again, since a list that stopped part
 * way (a page's continue token expired, 410) says nothing of the pods on
 * the pages it did not reach, and watching from its revision would never
 * show their bindings. */
static int bsch_watch_relist(struct bsch_run *r)
{
    char path[1024], cont[512] = "", list_rv[sizeof r->watch_rv] = "";
    bool first = true;
    bool *present = xcalloc((size_t)r->n_pods, sizeof *present);
    int rc = 0;
    do {
        snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods?limit=%d%s%s", r->o->ns,
                 BSCH_RELIST_PAGE, *cont ? "&continue=" : "", cont);
        json_t *list = bsch_get_json(r, path, 60000), *pod;
        if (!list) {
            rc = -1;
            break;
        }
        json_t *md = json_object_get(list, "metadata");
        const char *rv = json_string_value(json_object_get(md, "resourceVersion"));
        if (first && rv)
            snprintf(list_rv, sizeof list_rv, "%s", rv);
        first = false;
        const char *c = json_string_value(json_object_get(md, "continue"));
        snprintf(cont, sizeof cont, "%s", c ? c : "");
        uint64_t now = util_now_us();
        size_t k;
        json_array_foreach(json_object_get(list, "items"), k, pod)
        {
            json_t *pmd = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
            const char *name = json_string_value(json_object_get(pmd, "name"));
            const char *node = json_string_value(json_object_get(spec, "nodeName"));
            long long i = name ? bsch_pod_index(r, name, strlen(name)) : -1;
            if (i >= 0) {
                present[i] = true;
                bsch_watch_apply(r, i, false, node, node ? strlen(node) : 0, now);
            }
        }
        json_decref(list);
    } while (*cont && !atomic_load(&r->stop));
    if (rc == 0 && (!*list_rv || *cont))
        rc = -1; /* no revision, or stopped before the last page */
    for (long long i = 0; rc == 0 && i < r->n_pods; i++)
        if (!present[i] && r->pods[i].node >= 0)
            bsch_watch_apply(r, i, true, NULL, 0, util_now_us());
    if (rc == 0)
        snprintf(r->watch_rv, sizeof r->watch_rv, "%s", list_rv);
    free(present);
    atomic_fetch_add(&r->watch_relists, 1);
    return rc;
}

/* ---- the thread ------------------------------------------------------- */

/* Reads one stream until it ends, breaks, or must start over (returns -1
 * then: 410). Complete lines are events; a partial one waits in buf. */
static int bsch_watch_stream(struct bsch_run *r, struct httpc *h, struct ubuf *buf, char *chunk)
{
    buf->len = 0;
    while (!atomic_load(&r->stop)) {
        long n = httpc_stream_read(h, chunk, BSCH_WATCH_READ, BSCH_WATCH_POLL_MS);
        if (n < 0 && errno == ETIMEDOUT)
            continue;
        if (n <= 0)
            return 0;
        uint64_t now = util_now_us();
        ubuf_append(buf, chunk, (size_t)n);
        size_t from = 0;
        for (char *nl; (nl = memchr(buf->data + from, '\n', buf->len - from));) {
            size_t len = (size_t)(nl - (buf->data + from));
            if (len > 0 && bsch_watch_event(r, buf->data + from, len, now) != 0)
                return -1;
            from += len + 1;
        }
        memmove(buf->data, buf->data + from, buf->len - from);
        buf->len -= from;
    }
    return 0;
}

/* The first server to watch: a follower if we know one. */
static int bsch_watch_first_server(const struct bsch_run *r)
{
    for (int i = 0; i < r->n_servers; i++)
        if (strcmp(r->servers[i], r->leader_api) != 0)
            return i;
    return 0;
}

static void *bsch_watch_run(void *arg)
{
    struct bsch_run *r = arg;
    struct ubuf buf = {0};
    char *chunk = xmalloc(BSCH_WATCH_READ);
    int k = bsch_watch_first_server(r);
    while (!atomic_load(&r->stop)) {
        char path[512];
        snprintf(path, sizeof path,
                 "/api/v1/namespaces/%s/pods?watch=1&resourceVersion=%s&allowWatchBookmarks=true"
                 "&timeoutSeconds=3600",
                 r->o->ns, r->watch_rv);
        struct httpc *h = httpc_new(r->servers[k]);
        const char *const headers[] = {"Accept: application/json", NULL};
        struct httpc_response resp = {0};
        int rc = h ? httpc_stream_open(h, "GET", path, headers, NULL, 0, BSCH_WATCH_OPEN_MS, &resp)
                   : -1;
        int status = rc == 0 ? resp.status : 0;
        if (rc == 0)
            httpc_response_free(&resp);
        int again = 0;
        if (status == 200) {
            atomic_store(&r->watch_ready, true);
            again = bsch_watch_stream(r, h, &buf, chunk);
        } else if (status == 410) {
            again = -1;
        }
        if (h)
            httpc_free(h);
        if (atomic_load(&r->stop))
            break;
        while (again < 0 && bsch_watch_relist(r) != 0 && !atomic_load(&r->stop))
            bench_sleep_ms(500); /* until one whole list succeeds */
        if (status != 200) {
            k = (k + 1) % r->n_servers;
            bench_sleep_ms(200);
        }
        atomic_fetch_add(&r->watch_reconnects, 1);
    }
    ubuf_free(&buf);
    free(chunk);
    return NULL;
}

int bsch_watch_start(struct bsch_run *r)
{
    int err = pthread_create(&r->watch_thread, NULL, bsch_watch_run, r);
    if (err != 0) {
        bsch_say("cannot start the watch thread: %s", strerror(err));
        return -1;
    }
    r->watch_started = true;
    uint64_t deadline = util_now_ms() + BSCH_WATCH_READY_MS;
    while (!atomic_load(&r->watch_ready)) {
        if (util_now_ms() >= deadline || bsch_interrupted(r)) {
            if (!r->interrupted)
                bsch_say("the pods' watch did not open in %d s", BSCH_WATCH_READY_MS / 1000);
            return -1;
        }
        bench_sleep_ms(20);
    }
    return 0;
}

void bsch_watch_stop(struct bsch_run *r)
{
    if (!r->watch_started)
        return;
    atomic_store(&r->stop, true);
    pthread_join(r->watch_thread, NULL);
    r->watch_started = false;
}
