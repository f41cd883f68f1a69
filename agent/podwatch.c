/* podwatch.c — the agent's one view of the pods: LIST, then WATCH, of every
 * pod bound to a node, deciding what each of ours needs.
 *
 * One thread, one connection (conn.c, so it fails over like the writers).
 * As a Kubernetes informer: a paged LIST (fieldSelector spec.nodeName!=,
 * which server/filter.c supports: bound pods only; 500 a page) gives the
 * state and a resourceVersion; a WATCH from that resourceVersion (with
 * bookmarks, so the resourceVersion advances while idle) gives the changes.
 * When the stream ends or breaks, the watch resumes from the last
 * resourceVersion seen, on the next server if this one stopped answering;
 * a 410 Gone (the change log no longer reaches it) means a new LIST, after
 * which the pods the LIST did not return are forgotten (a generation mark
 * on every entry, then one sweep). A stream silent for 30 s — bookmarks
 * come every few seconds — counts as a server that stopped answering.
 *
 * Each pod whose spec.nodeName parses as one of our nodes (agent_node_index:
 * no lookup table) gets an entry in the pod table (podtable.c), and the
 * event decides, level-triggered, under the table's lock:
 *   - deletionTimestamp set: a delete job (once);
 *   - Pending: a run job (once per pod uid), with a pod IP from a counter
 *     in 10.128.0.0/9 and the start time, due after --start-delay;
 *   - Running with restartPolicy Never or OnFailure and the annotation
 *     bosun.dev/hollow-run-seconds: S: a complete job at start + S (once);
 *     the start is ours if we ran it, else status.startTime (a restarted
 *     agent picks up where the last one stopped). With the annotation
 *     bosun.dev/hollow-exit-code: N (N != 0) the containers exit with N:
 *     under restartPolicy Never the pod ends Failed (what a Job's backoff
 *     limit and pod failure policy count); under OnFailure a kubelet would
 *     restart the container for ever, so the pod just stays Running;
 *   - DELETED: the entry goes.
 * The "once" flags live in the entry, so our own status writes coming back
 * as MODIFIED events do not queue anything again. The jobs (podstatus.c)
 * get copies of what they need (names, containers), not the JSON. An
 * event's pod is decoded only in the parts these decisions read
 * (agent_pod_view); the rest of its text is skipped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_internal.h"
#include "codec/codec.h"
#include "util/util.h"

#define WATCH_PAGE 500
#define WATCH_STALL_MS 30000
#define WATCH_READ_MS 1000
#define WATCH_TIMEOUT_S 600
#define WATCH_SELECTOR "fieldSelector=spec.nodeName%%21%%3D" /* a format string */

/* ---- small helpers ---- */

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Sleeps up to ms, waking early when the agent stops. */
static void watch_sleep(struct agent *ag, uint64_t ms)
{
    uint64_t end = util_now_ms() + ms;
    while (!atomic_load(&ag->stopping) && util_now_ms() < end) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void url_escape(const char *s, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s && n + 4 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
}

/* "name\0image\0" for each container of the list, then "\0"; NULL if none. */
static char *containers_blob(json_t *list)
{
    if (!json_array_size(list))
        return NULL;
    struct ubuf b = {0};
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        const char *name = jstr(c, "name"), *image = jstr(c, "image");
        ubuf_append(&b, name, strlen(name) + 1);
        ubuf_append(&b, image, strlen(image) + 1);
    }
    ubuf_append(&b, "", 1);
    return b.data;
}

/* The hollow run time in ms of a pod that may complete, or -1. */
static int64_t run_ms(json_t *pod)
{
    json_t *spec = json_object_get(pod, "spec");
    const char *rp = jstr(spec, "restartPolicy");
    if (strcmp(rp, "Never") != 0 && strcmp(rp, "OnFailure") != 0)
        return -1;
    json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
    const char *s = json_string_value(json_object_get(ann, AGENT_RUN_SECONDS_ANNOTATION));
    if (!s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || v < 0 || v > 1e7)
        return -1;
    return (int64_t)(v * 1000.0);
}

/* The hollow exit code of a pod (0 when absent or not a number). */
static int exit_code(json_t *pod)
{
    json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
    const char *s = json_string_value(json_object_get(ann, AGENT_EXIT_CODE_ANNOTATION));
    if (!s)
        return 0;
    char *end;
    long v = strtol(s, &end, 10);
    return end == s || *end || v < -2147483647L || v > 2147483647L ? 0 : (int)v;
}

static bool has_condition(json_t *status, const char *type)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c) if (
        strcmp(jstr(c, "type"), type) == 0) return true;
    return false;
}

/* ---- what a pod needs ---- */

enum pod_action { POD_NOTHING, POD_RUN, POD_COMPLETE, POD_DELETE };

static struct agent_pod_job *pod_job(struct agent *ag, enum pod_action a, json_t *pod,
                                     const char *ns, const char *name, const char *uid,
                                     const struct agent_pod *p)
{
    static const enum agent_job_kind kinds[] = {
        [POD_RUN] = AGENT_JOB_POD_RUN,
        [POD_COMPLETE] = AGENT_JOB_POD_COMPLETE,
        [POD_DELETE] = AGENT_JOB_POD_DELETE,
    };
    struct agent_pod_job *pj = agent_pod_job_new(kinds[a], ns, name, uid, p->node);
    json_t *spec = json_object_get(pod, "spec"), *status = json_object_get(pod, "status");
    const char *phase = jstr(status, "phase");
    pj->ip = p->ip;
    snprintf(pj->rv, sizeof pj->rv, "%s", jstr(json_object_get(pod, "metadata"),
                                               "resourceVersion"));
    pj->start_wall_ms = p->start_wall_ms;
    if (!pj->start_wall_ms)
        pj->start_wall_ms = agent_time_parse(jstr(status, "startTime"));
    if (pj->start_wall_ms < 0)
        pj->start_wall_ms = agent_wall_ms();
    pj->terminal = strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0;
    pj->started = p->run_queued || strcmp(phase, "Running") == 0;
    pj->has_scheduled = has_condition(status, "PodScheduled");
    pj->exit_code = a == POD_COMPLETE ? exit_code(pod) : 0;
    pj->containers = containers_blob(json_object_get(spec, "containers"));
    pj->init_containers = containers_blob(json_object_get(spec, "initContainers"));
    (void)ag;
    return pj;
}

/* Decides under the table's lock; returns the action and the due time. */
static enum pod_action pod_decide(struct agent *ag, struct agent_pod *p, json_t *pod,
                                  uint64_t *due)
{
    json_t *md = json_object_get(pod, "metadata"), *status = json_object_get(pod, "status");
    const char *phase = jstr(status, "phase");
    *due = 0;
    if (json_object_get(md, "deletionTimestamp")) {
        if (p->delete_queued)
            return POD_NOTHING;
        p->delete_queued = true;
        return POD_DELETE;
    }
    if (!*phase || strcmp(phase, "Pending") == 0) {
        if (p->run_queued)
            return POD_NOTHING;
        p->run_queued = true;
        uint32_t n = atomic_fetch_add(&ag->pod_ip_next, 1) % ((1u << 23) - 2);
        p->ip = (10u << 24) + (128u << 16) + 1 + n; /* 10.128.0.1 ... 10.255.255.254 */
        p->start_wall_ms = agent_wall_ms();
        if (ag->cfg.start_delay_ms)
            *due = util_now_ms() + ag->cfg.start_delay_ms;
        return POD_RUN;
    }
    if (strcmp(phase, "Running") == 0 && !p->complete_queued) {
        int64_t ms = run_ms(pod);
        if (ms < 0)
            return POD_NOTHING;
        if (exit_code(pod) != 0 &&
            strcmp(jstr(json_object_get(pod, "spec"), "restartPolicy"), "Never") != 0)
            return POD_NOTHING; /* OnFailure: restarted for ever, never done */
        int64_t start = p->start_wall_ms ? p->start_wall_ms
                                         : agent_time_parse(jstr(status, "startTime"));
        int64_t left = start < 0 ? ms : start + ms - agent_wall_ms();
        p->complete_queued = true;
        *due = util_now_ms() + (uint64_t)(left > 0 ? left : 0);
        return POD_COMPLETE;
    }
    return POD_NOTHING;
}

/* One pod from a LIST or an event. */
static void pod_seen(struct agent *ag, json_t *pod, bool deleted)
{
    json_t *md = json_object_get(pod, "metadata");
    int node = agent_node_index(ag, jstr(json_object_get(pod, "spec"), "nodeName"));
    if (node < 0)
        return; /* someone else's */
    const char *ns = jstr(md, "namespace"), *name = jstr(md, "name"), *uid = jstr(md, "uid");
    char key[600];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    struct agent_pods *t = &ag->pods;
    enum pod_action a = POD_NOTHING;
    uint64_t due = 0;
    struct agent_pod snapshot;
    pthread_mutex_lock(&t->mu);
    struct agent_pod *p = agent_pods_find(t, key);
    if (p && strcmp(p->uid, uid) != 0) { /* a namesake replaced it */
        agent_pods_remove(t, key);
        p = NULL;
    }
    if (deleted) {
        if (p)
            agent_pods_remove(t, key);
        pthread_mutex_unlock(&t->mu);
        return;
    }
    if (!p)
        p = agent_pods_insert(t, key, uid, node);
    p->gen = t->gen;
    a = pod_decide(ag, p, pod, &due);
    snapshot = *p;
    pthread_mutex_unlock(&t->mu);
    if (a == POD_NOTHING)
        return;
    struct agent_pod_job *pj = pod_job(ag, a, pod, ns, name, uid, &snapshot);
    if (due)
        agent_sched_at(ag, &pj->job, due);
    else
        agent_sched_now(ag, &pj->job);
}

/* ---- LIST ---- */

/* A full paged LIST; rv gets its resourceVersion. 0, or -1. */
static int pods_list(struct agent *ag, struct agent_conn *k, char *rv, size_t rv_len)
{
    struct agent_pods *t = &ag->pods;
    pthread_mutex_lock(&t->mu);
    uint32_t gen = ++t->gen;
    pthread_mutex_unlock(&t->mu);
    char cont[1024] = "", path[1400];
    rv[0] = '\0';
    size_t items = 0;
    while (!atomic_load(&ag->stopping)) {
        snprintf(path, sizeof path, "/api/v1/pods?" WATCH_SELECTOR "&limit=%d%s%s", WATCH_PAGE,
                 cont[0] ? "&continue=" : "", cont);
        json_t *out = NULL;
        int st = agent_conn_json(k, "GET", path, NULL, NULL, &out);
        if (st == 410 && cont[0]) { /* the snapshot expired: start over */
            json_decref(out);
            cont[0] = '\0';
            items = 0;
            continue;
        }
        if (st != 200 || !out) {
            agent_error(ag, AGENT_ERR_LIST, "listing pods: %s",
                        st < 0 ? "no server answers" : jstr(out, "message"));
            json_decref(out);
            return -1;
        }
        json_t *lmd = json_object_get(out, "metadata");
        if (!cont[0]) /* the first page's revision is the snapshot's */
            snprintf(rv, rv_len, "%s", jstr(lmd, "resourceVersion"));
        size_t i;
        json_t *pod;
        json_array_foreach(json_object_get(out, "items"), i, pod) pod_seen(ag, pod, false);
        items += json_array_size(json_object_get(out, "items"));
        url_escape(jstr(lmd, "continue"), cont, sizeof cont);
        json_decref(out);
        if (!cont[0])
            break;
    }
    if (!rv[0] || cont[0])
        return -1; /* stopped midway, or no revision */
    pthread_mutex_lock(&t->mu);
    size_t gone = agent_pods_sweep(t, gen);
    size_t ours = t->n;
    pthread_mutex_unlock(&t->mu);
    LOG_INFO("listed %zu bound pods at resourceVersion %s: %zu on our nodes%s", items, rv, ours,
             gone ? " (forgot the ones gone meanwhile)" : "");
    return 0;
}

/* ---- WATCH ---- */

enum watch_end { WATCH_RESUME, WATCH_RELIST, WATCH_FAILED };

/* What the agent reads of a pod (pod_seen, pod_decide, pod_job), decoded
 * member by member from the event's text (util/jscan.c): the rest of the
 * pod, its managedFields and most of its spec and status, is skipped, not
 * decoded. Decoding whole events was two thirds of the agent's CPU under
 * `bosun bench schedule`. NULL if the text does not scan as expected; the
 * caller then decodes the event whole. */
json_t *agent_pod_view(const char *obj, const char *end)
{
    static const char *const parts[] = {"metadata", "spec", "status"};
    static const char *const md_keys[] = {"namespace",       "name",
                                          "uid",             "resourceVersion",
                                          "deletionTimestamp", "annotations"};
    static const char *const spec_keys[] = {"nodeName", "restartPolicy", "containers",
                                            "initContainers"};
    static const char *const st_keys[] = {"phase", "startTime", "conditions"};
    static const struct {
        const char *const *keys;
        int n;
    } wanted[] = {{md_keys, 6}, {spec_keys, 4}, {st_keys, 3}};
    const char *pv[3], *v[6];
    if (!util_json_members(obj, end, parts, 3, pv))
        return NULL;
    json_t *pod = json_object();
    for (int i = 0; i < 3; i++) {
        if (!pv[i])
            continue;
        if (!util_json_members(pv[i], end, wanted[i].keys, wanted[i].n, v))
            goto fail;
        json_t *part = json_object();
        json_object_set_new(pod, parts[i], part);
        for (int k = 0; k < wanted[i].n; k++) {
            if (!v[k])
                continue;
            const char *e = util_json_skip(v[k], end);
            json_t *x = e ? codec_json_load(v[k], (size_t)(e - v[k]), JSON_DECODE_ANY, NULL) : NULL;
            if (!x)
                goto fail;
            json_object_set_new(part, wanted[i].keys[k], x);
        }
    }
    return pod;
fail:
    json_decref(pod);
    return NULL;
}

/* A pod event of type (not ERROR): rv follows it; the pod is seen. */
static void event_apply(struct agent *ag, const char *type, json_t *pod, char *rv, size_t rv_len)
{
    const char *orv = jstr(json_object_get(pod, "metadata"), "resourceVersion");
    if (*orv)
        snprintf(rv, rv_len, "%s", orv);
    if (strcmp(type, "BOOKMARK") != 0)
        pod_seen(ag, pod, strcmp(type, "DELETED") == 0);
}

/* One event line decoded whole: an ERROR, or one that does not scan. */
static enum watch_end watch_event_whole(struct agent *ag, const char *line, size_t len, char *rv,
                                        size_t rv_len)
{
    json_error_t err;
    json_t *ev = codec_json_load(line, len, 0, &err);
    if (!ev) {
        agent_error(ag, AGENT_ERR_WATCH, "a watch event is not JSON: %s", err.text);
        return WATCH_FAILED;
    }
    const char *type = jstr(ev, "type");
    json_t *obj = json_object_get(ev, "object");
    enum watch_end r = WATCH_RESUME;
    if (strcmp(type, "ERROR") == 0) {
        json_int_t code = json_integer_value(json_object_get(obj, "code"));
        if (code != 410)
            agent_error(ag, AGENT_ERR_WATCH, "watch error %lld: %s", (long long)code,
                        jstr(obj, "message"));
        r = code == 410 ? WATCH_RELIST : WATCH_FAILED;
    } else {
        event_apply(ag, type, obj, rv, rv_len);
    }
    json_decref(ev);
    return r;
}

/* One event line: scanned for its type, and its pod decoded in part
 * (agent_pod_view); an ERROR, or anything that does not scan, decoded whole. */
static enum watch_end watch_event(struct agent *ag, const char *line, size_t len, char *rv,
                                  size_t rv_len)
{
    static const char *const ev_keys[] = {"type", "object"};
    const char *end = line + len, *ev[2], *t;
    char type[16];
    size_t tlen;
    json_t *pod = NULL;
    if (util_json_members(line, end, ev_keys, 2, ev) && ev[0] && ev[1] &&
        util_json_string(ev[0], end, &t, &tlen) && tlen < sizeof type && !memchr(t, '\\', tlen)) {
        memcpy(type, t, tlen);
        type[tlen] = '\0';
        if (strcmp(type, "ERROR") != 0)
            pod = agent_pod_view(ev[1], end);
    }
    if (!pod)
        return watch_event_whole(ag, line, len, rv, rv_len);
    event_apply(ag, type, pod, rv, rv_len);
    json_decref(pod);
    return WATCH_RESUME;
}

/* Watches from rv until the stream ends; rv follows the events. */
static enum watch_end pods_watch(struct agent *ag, struct agent_conn *k, char *rv, size_t rv_len)
{
    char path[256];
    snprintf(path, sizeof path,
             "/api/v1/pods?watch=1&" WATCH_SELECTOR
             "&allowWatchBookmarks=true&timeoutSeconds=%d&resourceVersion=%s",
             WATCH_TIMEOUT_S, rv);
    struct httpc_response resp;
    if (agent_conn_stream(k, path, &resp) != 0) {
        agent_error(ag, AGENT_ERR_WATCH, "watching pods: no server answers");
        return WATCH_FAILED;
    }
    int status = resp.status;
    httpc_response_free(&resp);
    if (status == 410)
        return WATCH_RELIST;
    if (status != 200) {
        agent_error(ag, AGENT_ERR_WATCH, "watching pods: HTTP %d", status);
        httpc_close(k->c);
        return WATCH_FAILED;
    }
    struct ubuf buf = {0};
    size_t cap = 64 * 1024;
    char *chunk = xmalloc(cap);
    uint64_t last_byte = util_now_ms();
    enum watch_end r = WATCH_RESUME;
    while (!atomic_load(&ag->stopping)) {
        long n = httpc_stream_read(k->c, chunk, cap, WATCH_READ_MS);
        if (n == 0)
            break; /* the server ended the stream (timeoutSeconds, shutdown) */
        if (n < 0 && errno == ETIMEDOUT) {
            if (util_now_ms() - last_byte < WATCH_STALL_MS)
                continue;
            agent_conn_failed(k, "the watch went silent");
            r = WATCH_FAILED;
            break;
        }
        if (n < 0) {
            agent_conn_failed(k, strerror(errno));
            r = WATCH_FAILED;
            break;
        }
        last_byte = util_now_ms();
        ubuf_append(&buf, chunk, (size_t)n);
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf.data + start, '\n', buf.len - start);
            if (!nl)
                break;
            size_t len = (size_t)(nl - (buf.data + start));
            if (len)
                r = watch_event(ag, buf.data + start, len, rv, rv_len);
            start += len + 1;
            if (r != WATCH_RESUME)
                break;
        }
        memmove(buf.data, buf.data + start, buf.len - start);
        buf.len -= start;
        if (r != WATCH_RESUME)
            break;
    }
    free(chunk);
    ubuf_free(&buf);
    httpc_close(k->c);
    return r;
}

static void *watcher_main(void *arg)
{
    struct agent *ag = arg;
    struct agent_conn k;
    agent_conn_init(&k, ag);
    char rv[32] = "";
    unsigned failures = 0;
    while (!atomic_load(&ag->stopping)) {
        if (!rv[0] && pods_list(ag, &k, rv, sizeof rv) != 0) {
            watch_sleep(ag, agent_backoff_ms(++failures));
            continue;
        }
        enum watch_end r = pods_watch(ag, &k, rv, sizeof rv);
        if (r == WATCH_RELIST) {
            LOG_INFO("pod watch: resourceVersion %s is too old, listing again", rv);
            rv[0] = '\0';
        }
        if (r == WATCH_FAILED)
            watch_sleep(ag, agent_backoff_ms(++failures));
        else
            failures = 0;
    }
    agent_conn_close(&k);
    return NULL;
}

void agent_podwatch_start(struct agent *ag)
{
    pthread_create(&ag->watcher, NULL, watcher_main, ag);
    ag->watcher_started = true;
}

void agent_podwatch_stop(struct agent *ag)
{
    if (ag->watcher_started)
        pthread_join(ag->watcher, NULL);
    ag->watcher_started = false;
}
