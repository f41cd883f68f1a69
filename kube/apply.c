/* apply.c — server-side apply and managed fields (metadata.managedFields).
 *
 * What it is for. Kubernetes records in every object which fields each
 * "manager" (kubectl, a controller, ...) owns. Server-side apply uses that
 * record to merge a partial configuration into the live object, to delete
 * what an applier stopped applying, and to refuse changes to fields other
 * managers own unless forced; every other write moves the fields it changes
 * to its manager. These files do what sigs.k8s.io/structured-merge-diff v4
 * (merge/update.go, typed/) and k8s.io/apimachinery's managedfields package
 * do for built-in types, with list and map semantics read from the
 * generated schema (kube.h).
 *
 * How it works. A field set is a tree of path elements (struct fnode):
 * "f:<name>" for struct fields and map keys, "k:{...}" for elements of
 * keyed ("map") lists, "v:<json>" for elements of sets; a node is a
 * member when its own path is in the set ("." in FieldsV1). Children stay
 * in smd's order (fields, then keys, then values; keys and values compared
 * as typed values), so union, difference and intersection are linear
 * merges and FieldsV1 comes out byte for byte as Kubernetes writes it.
 * Four walks over JSON, guided by the schema (struct shape), do the work:
 * fs_set_walk (the fields a configuration sets), fs_cmp_walk (what was added,
 * modified or removed between two objects), ka_merge_val (configuration onto
 * live) and ka_prune_walk (delete what an applier gave up). Lists are indexed
 * by a hash of their elements' path elements, so each walk is linear in
 * the size of the object (plus sorting the sets).
 *
 * Apply = merge; the applier's set becomes the configuration's; prune;
 * compare live with the result: fields another manager owns that were
 * added or changed are conflicts (with force they move to the applier),
 * removed fields leave every set. Update = compare old with new; what
 * changed moves to the manager. Both drop identity fields (apiVersion,
 * kind, metadata.name, ...) from the writer's set, ignore status on the
 * main resource and spec on /status (the registry resets those), and
 * write one managedFields entry per (manager, operation, subresource, and
 * for Update the apiVersion), sorted as Kubernetes sorts them.
 *
 * The files, one job each, share kube/apply_internal.h:
 *   apply.c          the request (schema, subresource, version, clock), the
 *                    field manager's update and its conflicts, kubectl's
 *                    upgrade from client-side apply, and the two entry
 *                    points, kube_apply and kube_managed_fields_update;
 *   apply_shape.c    shapes from the schema, Go's JSON encoding and smd's
 *                    order of values, path elements and list indexes;
 *   fieldset.c       field sets, FieldsV1, fs_set_walk and fs_cmp_walk;
 *   apply_merge.c    ka_merge_val and ka_prune_walk;
 *   apply_managed.c  metadata.managedFields decoded, sorted, written back
 *                    and capped (ancient-changes). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/apply_internal.h"
#include "kube/kube.h"
#include "util/util.h"

#define LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"

/* ---- errors ---- */

void ka_aerr_set(struct aerr *e, const char *fmt, ...)
{
    if (!e || e->set)
        return;
    e->set = true;
    if (!e->buf || !e->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->buf, e->len, fmt, ap);
    va_end(ap);
}

/* ---- the request: schema, subresource, version, clock ---- */

struct ctx {
    struct shape root;
    const char *sub;   /* "" for the main resource */
    const char *reset; /* the top-level field the registry resets: never owned */
    char gv[256];      /* the object's group/version */
    const char *now;
};

static void ctx_init(struct ctx *c, const struct kube_type *t, const char *sub, const char *now,
                     json_t *obj)
{
    memset(c, 0, sizeof *c);
    c->root.kind = SH_STRUCT;
    c->root.type = t;
    c->sub = sub ? sub : "";
    c->now = now;
    if (!c->sub[0])
        c->reset = "status";
    else if (!strcmp(c->sub, "status"))
        c->reset = "spec";
    if (t && t->version && t->version[0])
        snprintf(c->gv, sizeof c->gv, "%s%s%s", t->group ? t->group : "",
                 t->group && t->group[0] ? "/" : "", t->version);
    else if (json_is_string(json_object_get(obj, "apiVersion")))
        snprintf(c->gv, sizeof c->gv, "%s", json_string_value(json_object_get(obj, "apiVersion")));
}

/* Drops the reset field's subtree from a set (Kubernetes' ResetFields
 * filter): the main resource does not own status, /status not spec. */
static struct fnode *drop_reset(const struct ctx *c, struct fnode *s)
{
    size_t at;
    if (!s || !c->reset || !fs_field_kid(s, c->reset, &at))
        return s;
    fs_node_free(s->kid[at]);
    memmove(s->kid + at, s->kid + at + 1, (s->n - at - 1) * sizeof *s->kid);
    s->n--;
    return fs_done(s);
}

/* Drops what Kubernetes never records as owned (its stripMetaManager). */
static struct fnode *strip_identity(struct fnode *s)
{
    static const char *const top[] = {"apiVersion", "kind", "metadata"};
    static const char *const meta[] = {"clusterName", "creationTimestamp", "generation",
                                       "managedFields", "name", "namespace",
                                       "resourceVersion", "selfLink", "uid"};
    if (!s)
        return NULL;
    for (size_t i = 0; i < sizeof top / sizeof *top; i++) {
        struct fnode *k = fs_field_kid(s, top[i], NULL);
        if (k)
            k->member = false;
    }
    struct fnode *m = fs_field_kid(s, "metadata", NULL);
    for (size_t i = 0; m && i < sizeof meta / sizeof *meta; i++) {
        struct fnode *k = fs_field_kid(m, meta[i], NULL);
        if (k)
            k->member = false;
    }
    return fs_done(s);
}

/* The fields value v sets; -1 on a list item without its key. */
static int fields_of(const struct ctx *c, json_t *v, struct fnode **out, struct aerr *e)
{
    struct fnode *root = fs_node_new(PE_FIELD, NULL, NULL);
    struct frame fr = {NULL, PE_FIELD, NULL, NULL, {root, NULL, NULL}};
    *out = NULL;
    if (fs_set_walk(&fr, &c->root, v, e)) {
        fs_node_free(root);
        return -1;
    }
    root->member = false;
    *out = fs_done(root);
    return 0;
}

/* What changed from l to r: out[ADDED], out[MODIFIED], out[REMOVED]. */
static void compare(const struct ctx *c, json_t *l, json_t *r, struct fnode **out)
{
    struct fnode *roots[3];
    for (int i = 0; i < 3; i++)
        roots[i] = fs_node_new(PE_FIELD, NULL, NULL);
    struct frame fr = {NULL, PE_FIELD, NULL, NULL, {roots[0], roots[1], roots[2]}};
    fs_cmp_walk(&fr, &c->root, l, r, false);
    for (int i = 0; i < 3; i++) {
        roots[i]->member = false;
        out[i] = fs_done(roots[i]);
    }
}

/* A change as the field manager sees it: changed (added or modified) and
 * removed fields, without the reset field. */
struct change {
    struct fnode *changed, *removed;
};

static void change_compute(const struct ctx *c, json_t *old, json_t *new, struct change *ch)
{
    struct fnode *d[3];
    compare(c, old, new, d);
    ch->changed = drop_reset(c, fs_union_take(d[ADDED], d[MODIFIED]));
    ch->removed = drop_reset(c, d[REMOVED]);
}

static void change_free(struct change *ch)
{
    fs_node_free(ch->changed);
    fs_node_free(ch->removed);
}

/* ---- the field manager's update (merge.Updater.update) ---- */

/* Each manager's share of the changed fields, but self's (NONE: every
 * manager): conf[i], NULL when none. Returns how many managers have some. */
static size_t change_conflicts(const struct mgrs *ms, size_t self, const struct change *ch,
                               struct fnode **conf)
{
    size_t n = 0;
    for (size_t i = 0; i < ms->n; i++) {
        conf[i] = i == self ? NULL : fs_inter(ms->v[i].set, ch->changed);
        n += conf[i] != NULL;
    }
    return n;
}

/* Moves the changed fields away from the other managers and drops removed
 * fields from every set but self's. */
static void change_take(struct mgrs *ms, size_t self, struct fnode **conf, const struct change *ch)
{
    for (size_t i = 0; i < ms->n; i++) {
        if (i == self)
            continue;
        fs_subtract(&ms->v[i].set, conf[i]);
        fs_subtract(&ms->v[i].set, ch->removed);
    }
}

static void conf_free(struct fnode **conf, size_t n)
{
    for (size_t i = 0; conf && i < n; i++)
        fs_node_free(conf[i]);
    free(conf);
}

/* -- conflict reports, worded as Kubernetes words them -- */

struct report {
    json_t *causes;
    struct ubuf msg;   /* this manager's part of the message */
    const char *cause; /* "conflict with <manager>" */
    size_t count;
};

static void report_path(void *arg, const char *path)
{
    struct report *r = arg;
    json_t *c = json_object();
    json_object_set_new(c, "reason", json_string("FieldManagerConflict"));
    json_object_set_new(c, "message", json_string(r->cause));
    json_object_set_new(c, "field", json_string(path));
    json_array_append_new(r->causes, c);
    ubuf_appendf(&r->msg, "\n- %s", path);
    r->count++;
}

struct conf_ref {
    const struct mgrs *ms;
    size_t i;
};

static int conf_ref_cmp(const void *a, const void *b)
{
    const struct conf_ref *x = a, *y = b;
    return ka_ident_cmp(&x->ms->v[x->i], &y->ms->v[y->i]);
}

static json_t *report_conflicts(const struct mgrs *ms, struct fnode **conf, struct aerr *e)
{
    struct conf_ref *order = xmalloc((ms->n + 1) * sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < ms->n; i++)
        if (conf[i])
            order[n++] = (struct conf_ref){ms, i};
    qsort(order, n, sizeof *order, conf_ref_cmp);
    struct report r = {json_array(), {0}, NULL, 0};
    struct ubuf body = {0}, path = {0}, who = {0};
    ubuf_append(&path, "", 0);
    for (size_t k = 0; k < n; k++) {
        who.len = 0;
        ubuf_append(&who, "conflict with ", 14);
        ka_mgr_print(&ms->v[order[k].i], &who);
        r.cause = who.data;
        r.msg.len = 0;
        ubuf_appendf(&r.msg, "%sconflicts with %s:", k ? "\n" : "", who.data + 14);
        fs_paths(conf[order[k].i], &path, report_path, &r);
        ubuf_append(&body, r.msg.data, r.msg.len);
    }
    if (r.count == 1) {
        json_t *c = json_array_get(r.causes, 0);
        ka_aerr_set(e, "Apply failed with 1 conflict: %s: %s", str_field(c, "message"),
                    str_field(c, "field"));
    } else {
        ka_aerr_set(e, "Apply failed with %zu conflicts: %s", r.count, body.data ? body.data : "");
    }
    ubuf_free(&body);
    ubuf_free(&path);
    ubuf_free(&who);
    ubuf_free(&r.msg);
    free(order);
    return r.causes;
}

/* ---- kubectl's upgrade from client-side apply (lastAppliedManager) ----
 * When "kubectl" applies and its conflicts are all fields of the
 * last-applied-configuration annotation whose live values still match
 * it, client-side apply owned them: the apply goes through as forced. */

static json_t *last_applied_value(json_t *obj)
{
    json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    json_t *v = json_object_get(ann, LAST_APPLIED);
    return json_is_string(v) && json_string_length(v) ? v : NULL;
}

static struct fnode *last_applied_allowed(const struct ctx *c, json_t *live)
{
    json_t *s = last_applied_value(live);
    json_t *la = s ? json_loads(json_string_value(s), 0, NULL) : NULL;
    struct fnode *set = NULL, *d[3] = {NULL, NULL, NULL};
    const char *av = str_field(la, "apiVersion");
    if (json_is_object(la) && av && !strcmp(av, c->gv) && !fields_of(c, la, &set, NULL)) {
        compare(c, la, live, d);
        for (int i = 0; i < 3; i++) {
            fs_subtract(&set, d[i]);
            fs_node_free(d[i]);
        }
    }
    json_decref(la);
    return set;
}

/* kubectl's annotation follows its server-side applies (lastAppliedUpdater). */
static void last_applied_update(json_t *obj, json_t *config)
{
    json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
    if (!last_applied_value(obj))
        return;
    json_t *copy = json_deep_copy(config);
    json_t *cann = json_object_get(json_object_get(copy, "metadata"), "annotations");
    if (json_is_object(cann))
        json_object_del(cann, LAST_APPLIED);
    struct ubuf b = {0};
    ka_go_json(&b, copy);
    ubuf_append(&b, "\n", 1);
    json_object_set_new(ann, LAST_APPLIED, json_stringn(b.data, b.len));
    ubuf_free(&b);
    json_decref(copy);
}

/* ---- apply ---- */

static int check_config(const struct kube_type *t, const struct ctx *c, json_t *live,
                        json_t *config, struct aerr *e)
{
    if (!json_is_object(config)) {
        ka_aerr_set(e, "the applied configuration must be a JSON object");
        return -1;
    }
    if (live && !json_is_object(live)) {
        ka_aerr_set(e, "the live object must be a JSON object");
        return -1;
    }
    const char *av = str_field(config, "apiVersion"), *kind = str_field(config, "kind");
    if (!av || !*av || !kind || !*kind) {
        ka_aerr_set(e, "invalid object type: apiVersion and kind must be set");
        return -1;
    }
    if ((t && t->kind && strcmp(kind, t->kind)) || strcmp(av, c->gv)) {
        ka_aerr_set(e, "invalid object type: %s, Kind=%s", av, kind);
        return -1;
    }
    json_t *mf = json_object_get(json_object_get(config, "metadata"), "managedFields");
    if (mf && !json_is_null(mf)) {
        ka_aerr_set(e, "metadata.managedFields must be nil");
        return -1;
    }
    return 0;
}

/* An object with fields but no managedFields: its fields go to
 * "before-first-apply" so an applier does not take them silently
 * (skipNonAppliedManager). */
static void track_before_first_apply(const struct ctx *c, json_t *live, struct mgrs *ms)
{
    json_t *empty = json_object();
    struct change ch;
    change_compute(c, empty, live, &ch);
    struct fnode *set = strip_identity(ch.changed);
    ch.changed = NULL;
    if (set) {
        size_t i = ka_mgrs_add(ms, "before-first-apply", false, c->gv, c->sub);
        ms->v[i].set = set;
        free(ms->v[i].time);
        ms->v[i].time = c->now ? xstrdup(c->now) : NULL;
    }
    change_free(&ch);
    json_decref(empty);
}

/* The union of every manager's set. */
static struct fnode *all_owned(const struct mgrs *ms)
{
    struct fnode *u = NULL;
    for (size_t i = 0; i < ms->n; i++) {
        struct fnode *x = fs_union(u, ms->v[i].set);
        fs_node_free(u);
        u = x;
    }
    return u;
}

/* The registry keeps what the request may not change: status on the main
 * resource (dropped on create), spec on /status. */
static void reset_values(const struct ctx *c, json_t *live, json_t *obj)
{
    if (!c->reset || !is_named(&c->root, c->reset))
        return;
    json_t *lv = live ? json_object_get(live, c->reset) : NULL;
    if (lv)
        json_object_set_new(obj, c->reset, json_deep_copy(lv));
    else
        json_object_del(obj, c->reset);
}

/* Settles ownership after the merge: conflicts, force, removals. Returns
 * -1 (with *causes) when other managers' fields conflict. */
static int apply_settle(const struct ctx *c, json_t *base, json_t *obj, json_t *live,
                        struct mgrs *ms, size_t self, const char *manager, bool force,
                        json_t **causes, struct aerr *e)
{
    struct change ch;
    change_compute(c, base, obj, &ch);
    struct fnode **conf = xcalloc(ms->n + 1, sizeof *conf);
    int rc = 0;
    if (change_conflicts(ms, self, &ch, conf) && !force) {
        struct fnode *allowed = !strcmp(manager, "kubectl") ? last_applied_allowed(c, live) : NULL;
        struct fnode **left = xcalloc(ms->n + 1, sizeof *left);
        size_t nleft = 0;
        for (size_t i = 0; i < ms->n; i++) {
            left[i] = allowed ? fs_diff(conf[i], allowed) : conf[i] ? fs_node_copy(conf[i]) : NULL;
            nleft += left[i] != NULL;
        }
        if (nleft) {
            json_t *cs = report_conflicts(ms, left, e);
            if (causes)
                *causes = cs;
            else
                json_decref(cs);
            rc = -1;
        }
        conf_free(left, ms->n);
        fs_node_free(allowed);
    }
    if (!rc)
        change_take(ms, self, conf, &ch);
    conf_free(conf, ms->n);
    change_free(&ch);
    return rc;
}

json_t *kube_apply(const struct kube_type *t, json_t *live, json_t *config, const char *manager,
                   const char *subresource, bool force, const char *now, json_t **conflicts,
                   char *err, size_t errlen)
{
    struct aerr e = {err, errlen, false};
    struct ctx c;
    struct mgrs ms = {0};
    if (conflicts)
        *conflicts = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!manager || !*manager)
        manager = "unknown";
    ctx_init(&c, t, subresource, now, json_is_object(config) ? config : NULL);
    if (check_config(t, &c, live, config, &e))
        return NULL;
    if (live && ka_mgrs_decode(&ms,
                               json_object_get(json_object_get(live, "metadata"), "managedFields"),
                               &e))
        return NULL;
    json_t *empty = json_object(), *base = live ? live : empty;
    if (live && !ms.n)
        track_before_first_apply(&c, live, &ms);

    json_t *obj = json_deep_copy(base);
    struct frame root = {NULL, PE_FIELD, NULL, NULL, {NULL, NULL, NULL}};
    struct fnode *applied = NULL;
    if (ka_merge_val(&c.root, &obj, config, &root, &e) || fields_of(&c, config, &applied, &e))
        goto fail;
    size_t self = ka_mgrs_add(&ms, manager, true, c.gv, c.sub);
    struct fnode *last = ms.v[self].set;
    ms.v[self].set = drop_reset(&c, applied);
    free(ms.v[self].api_version);
    ms.v[self].api_version = xstrdup(c.gv);
    if (last) {
        struct fnode *owned = all_owned(&ms);
        ka_prune_walk(obj, &c.root, last, owned);
        fs_node_free(owned);
        fs_node_free(last);
    }
    reset_values(&c, live, obj);
    if (apply_settle(&c, base, obj, live, &ms, self, manager, force, conflicts, &e))
        goto fail;
    ms.v[self].set = strip_identity(ms.v[self].set);
    if (!live || !ka_val_equal(base, obj)) {
        free(ms.v[self].time);
        ms.v[self].time = now ? xstrdup(now) : NULL;
    }
    if (!strcmp(manager, "kubectl"))
        last_applied_update(obj, config);
    ka_mgrs_encode(&ms, obj);
    ka_mgrs_free(&ms);
    json_decref(empty);
    return obj;
fail:
    json_decref(obj);
    ka_mgrs_free(&ms);
    json_decref(empty);
    return NULL;
}

/* ---- every other write ---- */

/* Where an update's managers come from (decodeLiveOrNew): the new object's
 * managedFields unless absent, unreadable or empty (an explicit [] or
 * [{}] resets them); subresources always use the stored object's. */
static void update_managers_load(json_t *old, json_t *next, const char *sub, struct mgrs *ms)
{
    json_t *nmf = json_object_get(json_object_get(next, "metadata"), "managedFields");
    json_t *omf = json_object_get(json_object_get(old, "metadata"), "managedFields");
    if (!sub[0]) {
        if (json_is_array(nmf) &&
            (!json_array_size(nmf) ||
             (json_array_size(nmf) == 1 && json_is_object(json_array_get(nmf, 0)) &&
              !json_object_size(json_array_get(nmf, 0)))))
            return;
        if (!ka_mgrs_decode(ms, nmf, NULL) && ms->n)
            return;
        ka_mgrs_free(ms);
    }
    if (ka_mgrs_decode(ms, omf, NULL))
        ka_mgrs_free(ms);
}

void kube_managed_fields_update(const struct kube_type *t, json_t *old, json_t *next,
                                const char *manager, const char *subresource, const char *now)
{
    struct ctx c;
    struct mgrs ms = {0};
    if (!json_is_object(next) || (old && !json_is_object(old)))
        return;
    if (!manager || !*manager)
        manager = "unknown";
    ctx_init(&c, t, subresource, now, next);
    update_managers_load(old, next, c.sub, &ms);
    json_t *meta = json_object_get(next, "metadata");
    if (json_is_object(meta))
        json_object_del(meta, "managedFields");
    const char *uid = str_field(json_object_get(old, "metadata"), "uid");
    if (!ms.n && old && uid && *uid) /* never tracked: stays untracked */
        return;

    json_t *empty = json_object();
    struct change ch;
    change_compute(&c, old ? old : empty, next, &ch);
    struct fnode **conf = xcalloc(ms.n + 1, sizeof *conf);
    change_conflicts(&ms, NONE, &ch, conf);
    change_take(&ms, NONE, conf, &ch);
    conf_free(conf, ms.n);
    struct fnode *mine = strip_identity(ch.changed);
    ch.changed = NULL;
    if (mine) {
        size_t i = ka_mgrs_add(&ms, manager, false, c.gv, c.sub);
        ms.v[i].set = fs_union_take(ms.v[i].set, mine);
        free(ms.v[i].time);
        ms.v[i].time = now ? xstrdup(now) : NULL;
    }
    ka_cap_updaters(&ms);
    ka_mgrs_encode(&ms, next);
    change_free(&ch);
    ka_mgrs_free(&ms);
    json_decref(empty);
}
