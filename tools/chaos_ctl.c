/* chaos_ctl.c — the controller invariants of `bosun chaos --workload
 * controllers`: reads DIR/controllers.jsonl (what the recorder of
 * chaos_ctl_run.c saw of the workload's Pods, Jobs, StatefulSets and
 * ReplicaSets while faults were injected) and judges it.
 *
 * controllers.jsonl has one JSON object per line, each with its time "t"
 * (ns, the history's clock) and either "driver" (a change the workload's
 * driver made, {"driver":"scale statefulset sts-a to 4","status":200}) or
 * "kind" (Pod, Job, StatefulSet, ReplicaSet) and one of:
 *   {"open":"list","rv":R,"items":[OBJ,...]}
 *        a LIST at revision R: the kind's objects then. The first starts
 *        the kind's record; a later one (after a 410) replaces what was
 *        known of the kind at R.
 *   {"open":"resume","rv":R,"server":"s2"}  the stream reopened from R;
 *   {"type":"ADDED"|"MODIFIED"|"DELETED","rv":R,"object":OBJ}
 *   {"type":"BOOKMARK","rv":R}  every change up to R was delivered;
 *   {"expired":R}  410 Expired on a resume from R (a list follows);
 *   {"close":WHY}  the stream ended.
 * OBJ is a summary: "name", "uid" and, per kind,
 *   Pod: "owner" (its controller's kind, "" none), "owner_uid", "node" (""
 *        unbound), "phase", "ready", "deleting", "index" (the StatefulSet
 *        ordinal or the Job completion index, -1 none);
 *   Job: "parallelism", "completions", "indexed", "succeeded", "complete",
 *        "failed";
 *   StatefulSet: "replicas", "ordered" (OrderedReady), "ready_replicas";
 *   ReplicaSet: "replicas", "status_replicas".
 *
 * The check first asserts that each kind's stream is itself in strictly
 * increasing revisions, resumes included (the record is then the whole
 * change history of the kind). It then replays every kind's changes in one
 * revision order (each revision is one change in bosun, so the order is
 * total) and after each change asserts what Kubernetes' controllers
 * promise:
 *   - a pod is bound once: its node, once set, never changes;
 *   - no two live pods of a StatefulSet share an ordinal, and under
 *     OrderedReady pod N is created only while pods 0..N-1 exist and have
 *     been Running and Ready;
 *   - a Job never has more active pods (not terminal, not terminating)
 *     than its parallelism, never counts more succeeded than its
 *     completions, nor more than the distinct pods (Indexed: indexes) that
 *     were seen to succeed.
 * At the end of the record (the runner waits for the controllers to settle
 * after healing) it asserts convergence:
 *   - every ReplicaSet has exactly replicas live pods and says so;
 *   - every StatefulSet has exactly pods 0..replicas-1, all Ready;
 *   - every Job is Complete with succeeded == completions and no active
 *     pod, and none is Failed (its pods never fail);
 *   - every live pod is bound, none is still terminating.
 * Violations are listed in revision order, with the objects named. */
#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tools/chaos_internal.h"

enum ctl_kind { CTL_POD, CTL_JOB, CTL_STS, CTL_RS, CTL_NKIND };
static const char *const ctl_kind_names[CTL_NKIND] = {"Pod", "Job", "StatefulSet", "ReplicaSet"};

enum { CTL_MAX_SHOWN = 8 };

/* An object as one event or list showed it. Strings are interned in
 * chaos_ctl.strs; -1 for none. */
struct ctl_obj {
    int name, uid;
    int owner_kind; /* enum ctl_kind, -1 none */
    int owner_uid;
    int node;
    char phase[12];
    bool ready, deleting;
    int index;
    int replicas, status_replicas, ready_replicas;
    int parallelism, completions, succeeded;
    bool indexed, ordered, complete, failed;
};

enum ctl_etype { CTL_ADDED, CTL_MODIFIED, CTL_DELETED, CTL_LIST, CTL_RESUME, CTL_BOOKMARK };

struct ctl_event {
    uint64_t rv;
    enum ctl_kind kind;
    enum ctl_etype type;
    int obj;  /* objs index; a list: its first item */
    int nobj; /* a list's items */
    int line;
};

struct chaos_ctl {
    struct chaos_strtab strs;
    struct ctl_obj *objs;
    int nobjs, capobjs;
    struct ctl_event *ev; /* in file order */
    int nev, capev;
    int drivers, driver_failed; /* driver lines; those not answered 2xx */
    int resumes, expired;
    bool listed[CTL_NKIND]; /* parse: whether the kind's first list came */
};

/* ---------------------------------------------------------------- parsing */

static int ctl_kind_parse(const char *s)
{
    for (int k = 0; s && k < CTL_NKIND; k++)
        if (strcmp(s, ctl_kind_names[k]) == 0)
            return k;
    return -1;
}

static int ctl_int(const json_t *o, const char *name, int def)
{
    const json_t *v = json_object_get(o, name);
    return json_is_integer(v) ? (int)json_integer_value(v) : def;
}

static int ctl_str(struct chaos_ctl *c, const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s && *s ? chaos_strtab_intern(&c->strs, s) : -1;
}

static int ctl_obj_parse(struct chaos_ctl *c, const json_t *o, char *why, size_t len)
{
    if (!json_is_object(o))
        return chaos_fail(why, len, "an object summary must be a JSON object");
    struct ctl_obj b = {.name = ctl_str(c, o, "name"), .uid = ctl_str(c, o, "uid")};
    if (b.name < 0 || b.uid < 0)
        return chaos_fail(why, len, "an object needs \"name\" and \"uid\"");
    b.owner_kind = ctl_kind_parse(json_string_value(json_object_get(o, "owner")));
    b.owner_uid = ctl_str(c, o, "owner_uid");
    if ((b.owner_kind < 0) != (b.owner_uid < 0))
        return chaos_fail(why, len, "\"owner\" (a kind) and \"owner_uid\" go together");
    b.node = ctl_str(c, o, "node");
    snprintf(b.phase, sizeof b.phase, "%s",
             json_string_value(json_object_get(o, "phase")) ?: "");
    b.ready = json_is_true(json_object_get(o, "ready"));
    b.deleting = json_is_true(json_object_get(o, "deleting"));
    b.index = ctl_int(o, "index", -1);
    b.replicas = ctl_int(o, "replicas", 1);
    b.status_replicas = ctl_int(o, "status_replicas", 0);
    b.ready_replicas = ctl_int(o, "ready_replicas", 0);
    b.parallelism = ctl_int(o, "parallelism", 1);
    b.completions = ctl_int(o, "completions", -1);
    b.succeeded = ctl_int(o, "succeeded", 0);
    b.indexed = json_is_true(json_object_get(o, "indexed"));
    b.ordered = json_is_true(json_object_get(o, "ordered"));
    b.complete = json_is_true(json_object_get(o, "complete"));
    b.failed = json_is_true(json_object_get(o, "failed"));
    if (c->nobjs == c->capobjs) {
        c->capobjs = c->capobjs ? 2 * c->capobjs : 256;
        c->objs = xrealloc(c->objs, (size_t)c->capobjs * sizeof *c->objs);
    }
    c->objs[c->nobjs++] = b;
    return 0;
}

static void ctl_push(struct chaos_ctl *c, const struct ctl_event *e)
{
    if (c->nev == c->capev) {
        c->capev = c->capev ? 2 * c->capev : 256;
        c->ev = xrealloc(c->ev, (size_t)c->capev * sizeof *c->ev);
    }
    c->ev[c->nev++] = *e;
}

static int ctl_type_parse(const char *t)
{
    return !t ? -1 : strcmp(t, "ADDED") == 0 ? CTL_ADDED : strcmp(t, "MODIFIED") == 0 ? CTL_MODIFIED
                   : strcmp(t, "DELETED") == 0 ? CTL_DELETED
                   : strcmp(t, "BOOKMARK") == 0 ? CTL_BOOKMARK : -1;
}

static int ctl_open_parse(struct chaos_ctl *c, const json_t *o, struct ctl_event *e, char *why,
                          size_t len)
{
    const char *open = json_string_value(json_object_get(o, "open"));
    if (chaos_parse_rv(json_object_get(o, "rv"), &e->rv) < 0)
        return chaos_fail(why, len, "an opening needs \"rv\", a revision > 0");
    if (open && strcmp(open, "resume") == 0) {
        if (!c->listed[e->kind])
            return chaos_fail(why, len, "a resume before the kind's first list");
        e->type = CTL_RESUME;
        c->resumes++;
        return 0;
    }
    const json_t *items = json_object_get(o, "items");
    if (!open || strcmp(open, "list") != 0 || !json_is_array(items))
        return chaos_fail(why, len, "\"open\" must be \"list\" (with \"items\") or \"resume\"");
    e->type = CTL_LIST;
    e->obj = c->nobjs;
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
    {
        if (ctl_obj_parse(c, it, why, len) < 0)
            return -1;
    }
    e->nobj = c->nobjs - e->obj;
    c->listed[e->kind] = true;
    return 0;
}

static int ctl_line(void *ctx, const json_t *o, int lineno, char *why, size_t len)
{
    struct chaos_ctl *c = ctx;
    if (json_object_get(o, "driver")) {
        int status = ctl_int(o, "status", 0);
        c->drivers++;
        c->driver_failed += status < 200 || status > 299;
        return 0;
    }
    struct ctl_event e = {.kind = ctl_kind_parse(json_string_value(json_object_get(o, "kind"))),
                          .line = lineno, .obj = -1};
    if ((int)e.kind < 0)
        return chaos_fail(why, len, "\"kind\" must be Pod, Job, StatefulSet or ReplicaSet");
    if (json_object_get(o, "close"))
        return 0;
    if (json_object_get(o, "expired")) {
        c->expired++;
        return 0;
    }
    if (json_object_get(o, "open")) {
        if (ctl_open_parse(c, o, &e, why, len) < 0)
            return -1;
        ctl_push(c, &e);
        return 0;
    }
    int type = ctl_type_parse(json_string_value(json_object_get(o, "type")));
    if (type < 0)
        return chaos_fail(why, len, "a line needs \"open\", \"type\" (ADDED, MODIFIED, DELETED, BOOKMARK), "
                                    "\"expired\", \"close\" or \"driver\"");
    if (!c->listed[e.kind])
        return chaos_fail(why, len, "an event before the kind's first list");
    if (chaos_parse_rv(json_object_get(o, "rv"), &e.rv) < 0)
        return chaos_fail(why, len, "an event needs \"rv\", a revision > 0");
    e.type = (enum ctl_etype)type;
    if (e.type == CTL_BOOKMARK) {
        ctl_push(c, &e);
        return 0;
    }
    e.obj = c->nobjs;
    if (ctl_obj_parse(c, json_object_get(o, "object"), why, len) < 0)
        return -1;
    ctl_push(c, &e);
    return 0;
}

int chaos_ctl_parse(struct chaos_ctl **out, const char *text, size_t len, char *err,
                    size_t errlen)
{
    struct chaos_ctl *c = xcalloc(1, sizeof *c);
    *out = c;
    return chaos_each_line("controllers.jsonl", text, len, ctl_line, c, err, errlen);
}

void chaos_ctl_free(struct chaos_ctl *c)
{
    if (!c)
        return;
    chaos_strtab_free(&c->strs);
    free(c->objs);
    free(c->ev);
    free(c);
}

/* ---------------------------------------------------------------- replay */

/* What the replay knows of one uid. */
struct ctl_state {
    const struct ctl_obj *cur; /* as last seen; NULL before */
    enum ctl_kind kind;
    bool live;
    bool ever_ready, ever_succeeded; /* pods */
    int node;                        /* pods: the node it was bound to, -1 */
    uint64_t bound_rv;
};

struct ctl_check {
    const struct chaos_ctl *c;
    struct ctl_state *st; /* by interned uid */
    int *live;            /* uids live now, any kind */
    int nlive;
    struct chaos_ctl_result *out;
    struct ubuf detail; /* the violations shown, under the verdict's line */
    json_t *violations;
    int events, counts[CTL_NKIND];
};

static void ctl_violation(struct ctl_check *k, uint64_t rv, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ctl_violation(struct ctl_check *k, uint64_t rv, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    k->out->violations++;
    if (k->out->violations <= CTL_MAX_SHOWN) {
        if (rv)
            ubuf_appendf(&k->detail, "  at rv %" PRIu64 ": %s\n", rv, why);
        else
            ubuf_appendf(&k->detail, "  at the end: %s\n", why);
        json_array_append_new(k->violations, json_pack("{s:I, s:s}", "rv", (json_int_t)rv,
                                                       "why", why));
    }
}

static const char *ctl_s(const struct ctl_check *k, int id)
{
    return id >= 0 ? k->c->strs.s[id] : "";
}

static void ctl_set_live(struct ctl_check *k, int uid, bool live)
{
    struct ctl_state *s = &k->st[uid];
    if (s->live == live)
        return;
    s->live = live;
    if (live) {
        k->live[k->nlive++] = uid;
        return;
    }
    for (int i = 0; i < k->nlive; i++)
        if (k->live[i] == uid) {
            k->live[i] = k->live[--k->nlive];
            break;
        }
}

/* The live object of kind with uid, or NULL. */
static const struct ctl_obj *ctl_owner(const struct ctl_check *k, const struct ctl_obj *pod)
{
    if (pod->owner_uid < 0)
        return NULL;
    const struct ctl_state *s = &k->st[pod->owner_uid];
    return s->live && (int)s->kind == pod->owner_kind ? s->cur : NULL;
}

static bool ctl_pod_active(const struct ctl_obj *p)
{
    return !p->deleting && strcmp(p->phase, "Succeeded") != 0 && strcmp(p->phase, "Failed") != 0;
}

/* Bound once: a pod's node, once set, never changes. */
static void ctl_check_binding(struct ctl_check *k, const struct ctl_obj *p, uint64_t rv)
{
    struct ctl_state *s = &k->st[p->uid];
    if (s->node >= 0 && p->node != s->node)
        ctl_violation(k, rv, "pod %s (uid %s) was bound to %s at rv %" PRIu64 ", now %s%s",
                      ctl_s(k, p->name), ctl_s(k, p->uid), ctl_s(k, s->node), s->bound_rv,
                      p->node >= 0 ? "to " : "", p->node >= 0 ? ctl_s(k, p->node) : "unbound");
    if (s->node < 0 && p->node >= 0) {
        s->node = p->node;
        s->bound_rv = rv;
    }
}

/* The live pod of the StatefulSet with uid set and ordinal i, other than
 * uid not (-1: any), or -1. */
static int ctl_sts_pod(const struct ctl_check *k, int set, int i, int not)
{
    for (int j = 0; j < k->nlive; j++) {
        const struct ctl_state *s = &k->st[k->live[j]];
        if (s->kind == CTL_POD && s->cur->owner_kind == CTL_STS && s->cur->owner_uid == set &&
            s->cur->index == i && k->live[j] != not)
            return k->live[j];
    }
    return -1;
}

/* A new pod of a StatefulSet: its ordinal is free, and under OrderedReady
 * its predecessors exist and have been Ready. */
static void ctl_check_sts_create(struct ctl_check *k, const struct ctl_obj *p, uint64_t rv)
{
    const struct ctl_obj *set = ctl_owner(k, p);
    int other = ctl_sts_pod(k, p->owner_uid, p->index, p->uid);
    if (other >= 0)
        ctl_violation(k, rv, "pod %s (uid %s) created while pod %s (uid %s) has ordinal %d of "
                             "the same StatefulSet",
                      ctl_s(k, p->name), ctl_s(k, p->uid), ctl_s(k, k->st[other].cur->name),
                      ctl_s(k, other), p->index);
    if (!set || !set->ordered)
        return;
    for (int i = 0; i < p->index; i++) {
        int prev = ctl_sts_pod(k, p->owner_uid, i, -1);
        if (prev < 0 || !k->st[prev].ever_ready) {
            ctl_violation(k, rv, "pod %s created (OrderedReady) while ordinal %d %s",
                          ctl_s(k, p->name), i, prev < 0 ? "did not exist" : "had never been Ready");
            return;
        }
    }
}

/* A Job's pods now: active ones, and those that were seen to succeed
 * (Indexed: distinct indexes). */
static void ctl_job_pods(const struct ctl_check *k, int job, int *active, int *succeeded)
{
    *active = *succeeded = 0;
    int nidx = 0, cap = 0, *idx = NULL;
    for (int u = 0; u < k->c->strs.n; u++) {
        const struct ctl_state *s = &k->st[u];
        if (!s->cur || s->kind != CTL_POD || s->cur->owner_uid != job)
            continue;
        *active += s->live && ctl_pod_active(s->cur);
        if (!s->ever_succeeded)
            continue;
        bool dup = false;
        for (int i = 0; i < nidx && s->cur->index >= 0; i++)
            dup |= idx[i] == s->cur->index;
        if (dup)
            continue;
        if (nidx == cap) {
            cap = cap ? 2 * cap : 16;
            idx = xrealloc(idx, (size_t)cap * sizeof *idx);
        }
        idx[nidx++] = s->cur->index;
        (*succeeded)++;
    }
    free(idx);
}

static void ctl_check_job(struct ctl_check *k, int uid, uint64_t rv)
{
    const struct ctl_state *s = &k->st[uid];
    if (!s->live || s->kind != CTL_JOB)
        return;
    const struct ctl_obj *j = s->cur;
    int active, seen;
    ctl_job_pods(k, uid, &active, &seen);
    if (active > j->parallelism)
        ctl_violation(k, rv, "job %s has %d active pods, parallelism %d", ctl_s(k, j->name),
                      active, j->parallelism);
    if (j->completions >= 0 && j->succeeded > j->completions)
        ctl_violation(k, rv, "job %s counts %d succeeded, completions %d", ctl_s(k, j->name),
                      j->succeeded, j->completions);
    if (j->succeeded > seen)
        ctl_violation(k, rv, "job %s counts %d succeeded, but only %d %s succeeded",
                      ctl_s(k, j->name), j->succeeded, seen,
                      j->indexed ? "distinct indexes" : "distinct pods");
}

static void ctl_apply_pod(struct ctl_check *k, const struct ctl_event *e, const struct ctl_obj *p)
{
    struct ctl_state *s = &k->st[p->uid];
    bool created = e->type == CTL_ADDED; /* not a list's item: a list may follow a gap */
    ctl_check_binding(k, p, e->rv);
    if (created && e->type != CTL_DELETED && p->owner_kind == CTL_STS)
        ctl_check_sts_create(k, p, e->rv);
    s->cur = p;
    s->ever_ready |= p->ready && strcmp(p->phase, "Running") == 0;
    s->ever_succeeded |= strcmp(p->phase, "Succeeded") == 0;
    ctl_set_live(k, p->uid, e->type != CTL_DELETED);
    if (p->owner_kind == CTL_JOB)
        ctl_check_job(k, p->owner_uid, e->rv);
}

static void ctl_apply(struct ctl_check *k, const struct ctl_event *e, const struct ctl_obj *o)
{
    struct ctl_state *s = &k->st[o->uid];
    if (!s->cur)
        k->counts[e->kind]++;
    s->kind = e->kind;
    if (e->kind == CTL_POD) {
        ctl_apply_pod(k, e, o);
        return;
    }
    s->cur = o;
    ctl_set_live(k, o->uid, e->type != CTL_DELETED);
    if (e->kind == CTL_JOB)
        ctl_check_job(k, o->uid, e->rv);
}

/* A list after a 410 replaces what was known of its kind. */
static void ctl_apply_list(struct ctl_check *k, const struct ctl_event *e)
{
    for (int i = k->nlive - 1; i >= 0; i--)
        if (k->st[k->live[i]].kind == e->kind)
            ctl_set_live(k, k->live[i], false);
    for (int i = 0; i < e->nobj; i++) {
        ctl_apply(k, e, &k->c->objs[e->obj + i]);
    }
}

/* Each kind's stream in strictly increasing revisions, resumes included:
 * a bookmark says every change up to its revision came, a resume starts
 * from the last revision delivered (event or bookmark). */
static void ctl_check_order(struct ctl_check *k)
{
    uint64_t last[CTL_NKIND] = {0};
    for (int i = 0; i < k->c->nev; i++) {
        const struct ctl_event *e = &k->c->ev[i];
        if (e->type == CTL_BOOKMARK) {
            if (e->rv < last[e->kind])
                ctl_violation(k, e->rv, "the %s watch sent a bookmark at rv %" PRIu64 " after rv "
                                        "%" PRIu64 " (line %d)",
                              ctl_kind_names[e->kind], e->rv, last[e->kind], e->line);
            else
                last[e->kind] = e->rv;
            continue;
        }
        if (e->type == CTL_LIST || e->type == CTL_RESUME) {
            if (e->type == CTL_RESUME && e->rv != last[e->kind])
                ctl_violation(k, e->rv, "the %s watch resumed from rv %" PRIu64 ", but its last "
                                        "revision was %" PRIu64 " (line %d)",
                              ctl_kind_names[e->kind], e->rv, last[e->kind], e->line);
            last[e->kind] = e->rv;
            continue;
        }
        if (e->rv <= last[e->kind])
            ctl_violation(k, e->rv, "the %s watch delivered rv %" PRIu64 " after rv %" PRIu64
                                    " (line %d): out of order or duplicated",
                          ctl_kind_names[e->kind], e->rv, last[e->kind], e->line);
        last[e->kind] = e->rv > last[e->kind] ? e->rv : last[e->kind];
    }
}

static int ctl_event_cmp(const void *a, const void *b)
{
    const struct ctl_event *x = *(const struct ctl_event *const *)a;
    const struct ctl_event *y = *(const struct ctl_event *const *)b;
    if (x->rv != y->rv)
        return x->rv < y->rv ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static void ctl_replay(struct ctl_check *k)
{
    const struct chaos_ctl *c = k->c;
    const struct ctl_event **order = xmalloc(((size_t)c->nev + 1) * sizeof *order);
    int n = 0;
    for (int i = 0; i < c->nev; i++)
        if (c->ev[i].type != CTL_RESUME && c->ev[i].type != CTL_BOOKMARK)
            order[n++] = &c->ev[i];
    qsort(order, (size_t)n, sizeof *order, ctl_event_cmp);
    for (int i = 0; i < n; i++) {
        if (order[i]->type == CTL_LIST) {
            ctl_apply_list(k, order[i]);
            continue;
        }
        k->events++;
        ctl_apply(k, order[i], &c->objs[order[i]->obj]);
    }
    free(order);
}

/* ---------------------------------------------------------------- the end */

static void ctl_final_rs(struct ctl_check *k, const struct ctl_obj *rs)
{
    int pods = 0;
    for (int i = 0; i < k->nlive; i++) {
        const struct ctl_state *s = &k->st[k->live[i]];
        pods += s->kind == CTL_POD && s->cur->owner_uid == rs->uid && !s->cur->deleting;
    }
    if (pods != rs->replicas || rs->status_replicas != rs->replicas)
        ctl_violation(k, 0, "replicaset %s has %d live pods and status.replicas %d, replicas %d",
                      ctl_s(k, rs->name), pods, rs->status_replicas, rs->replicas);
}

static void ctl_final_sts(struct ctl_check *k, const struct ctl_obj *set)
{
    int pods = 0, bad = -1;
    for (int i = 0; i < k->nlive; i++) {
        const struct ctl_state *s = &k->st[k->live[i]];
        if (s->kind != CTL_POD || s->cur->owner_uid != set->uid)
            continue;
        pods++;
        if (s->cur->index < 0 || s->cur->index >= set->replicas || !s->cur->ready ||
            s->cur->deleting)
            bad = k->live[i];
    }
    if (bad >= 0 || pods != set->replicas || set->ready_replicas != set->replicas)
        ctl_violation(k, 0, "statefulset %s has %d live pods%s%s, readyReplicas %d, replicas %d",
                      ctl_s(k, set->name), pods, bad >= 0 ? ", among them (not Ready, terminating "
                                                           "or out of range) " : "",
                      bad >= 0 ? ctl_s(k, k->st[bad].cur->name) : "", set->ready_replicas,
                      set->replicas);
}

static void ctl_final_job(struct ctl_check *k, const struct ctl_obj *j)
{
    int active, seen;
    ctl_job_pods(k, j->uid, &active, &seen);
    if (!j->complete || j->failed || active > 0 ||
        (j->completions >= 0 && j->succeeded != j->completions))
        ctl_violation(k, 0, "job %s is %s with %d succeeded of %d completions and %d active pods",
                      ctl_s(k, j->name), j->failed ? "Failed" : j->complete ? "Complete"
                                                                            : "not finished",
                      j->succeeded, j->completions, active);
}

static void ctl_final(struct ctl_check *k)
{
    for (int i = 0; i < k->nlive; i++) {
        const struct ctl_state *s = &k->st[k->live[i]];
        const struct ctl_obj *o = s->cur;
        if (s->kind == CTL_RS)
            ctl_final_rs(k, o);
        else if (s->kind == CTL_STS)
            ctl_final_sts(k, o);
        else if (s->kind == CTL_JOB)
            ctl_final_job(k, o);
        else if (o->node < 0 || o->deleting)
            ctl_violation(k, 0, "pod %s is %s", ctl_s(k, o->name),
                          o->deleting ? "still terminating" : "not bound to a node");
    }
}

void chaos_ctl_check(const struct chaos_ctl *c, struct chaos_ctl_result *out)
{
    memset(out, 0, sizeof *out);
    struct ctl_check k = {.c = c, .out = out, .violations = json_array()};
    k.st = xcalloc((size_t)c->strs.n + 1, sizeof *k.st);
    k.live = xmalloc(((size_t)c->strs.n + 1) * sizeof *k.live);
    for (int i = 0; i < c->strs.n; i++)
        k.st[i].node = -1;
    ctl_check_order(&k);
    ctl_replay(&k);
    ctl_final(&k);
    out->ok = out->violations == 0;
    ubuf_appendf(&out->text,
                 "controllers  %s (%d changes of %d pods, %d jobs, %d statefulsets, "
                 "%d replicasets; %d driver changes, %d not acknowledged; %d resumes, %d 410s)\n",
                 out->ok ? "PASS" : "FAIL", k.events, k.counts[CTL_POD], k.counts[CTL_JOB],
                 k.counts[CTL_STS], k.counts[CTL_RS], c->drivers, c->driver_failed, c->resumes,
                 c->expired);
    if (!out->ok)
        ubuf_appendf(&out->text, "  %d violation%s%s:\n", out->violations,
                     out->violations == 1 ? "" : "s",
                     out->violations > CTL_MAX_SHOWN ? ", the first ones" : "");
    ubuf_append(&out->text, k.detail.data, k.detail.len);
    ubuf_free(&k.detail);
    json_t *fig = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "changes", k.events,
                            "pods", k.counts[CTL_POD], "jobs", k.counts[CTL_JOB], "statefulsets",
                            k.counts[CTL_STS], "replicasets", k.counts[CTL_RS], "driver_changes",
                            c->drivers, "driver_failed", c->driver_failed, "resumes", c->resumes,
                            "expired", c->expired);
    out->json = json_pack("{s:s, s:o, s:i, s:o}", "result", out->ok ? "PASS" : "FAIL", "figures",
                          fig, "violations_total", out->violations, "violations", k.violations);
    free(k.st);
    free(k.live);
}

void chaos_ctl_result_free(struct chaos_ctl_result *r)
{
    ubuf_free(&r->text);
    json_decref(r->json);
}
