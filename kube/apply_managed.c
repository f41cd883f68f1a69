/* apply_managed.c — metadata.managedFields: the entries decoded, written back
 * in Kubernetes' order, and the Update entries capped.
 *
 * Each entry is one manager's fields for one (manager, operation,
 * subresource, and for Update the apiVersion): ka_mgrs_decode reads and
 * checks them with apimachinery's messages, ka_mgrs_add finds or makes the
 * writer's entry, ka_mgrs_encode writes the non-empty ones back sorted as
 * Kubernetes sorts them (Apply before Update, then by time, manager,
 * apiVersion and subresource), and ka_cap_updaters folds the oldest Update entries into
 * "ancient-changes" once there are more than Kubernetes'
 * DefaultMaxUpdateManagers.
 *
 * How it works: entries keep their index while a request runs (an emptied
 * one has a NULL set) so apply.c can refer to them by index; times are read
 * as RFC 3339 seconds for the ordering. */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/apply_internal.h"

#define MAX_UPDATE_MANAGERS 10 /* Kubernetes' DefaultMaxUpdateManagers */

/* ---- managers: metadata.managedFields decoded ---- */

void ka_mgrs_free(struct mgrs *ms)
{
    for (size_t i = 0; i < ms->n; i++) {
        struct mgr *m = &ms->v[i];
        free(m->manager);
        free(m->api_version);
        free(m->subresource);
        free(m->time);
        fs_node_free(m->set);
    }
    free(ms->v);
    memset(ms, 0, sizeof *ms);
}

/* Kubernetes' manager identity: Apply entries are one per manager and
 * subresource whatever the version; Update entries one per version too. */
static bool mgr_is(const struct mgr *m, const char *manager, bool apply, const char *gv,
                   const char *sub)
{
    return m->apply == apply && !strcmp(m->manager, manager) && !strcmp(m->subresource, sub) &&
           (apply || !strcmp(m->api_version, gv));
}

/* The live entry (one that owns something) with this identity, or NONE. */
static size_t mgrs_find(const struct mgrs *ms, const char *manager, bool apply, const char *gv,
                        const char *sub)
{
    for (size_t i = 0; i < ms->n; i++)
        if (ms->v[i].set && mgr_is(&ms->v[i], manager, apply, gv, sub))
            return i;
    return NONE;
}

size_t ka_mgrs_add(struct mgrs *ms, const char *manager, bool apply, const char *gv,
                   const char *sub)
{
    size_t i = mgrs_find(ms, manager, apply, gv, sub);
    if (i != NONE)
        return i;
    if (ms->n == ms->cap) {
        ms->cap = ms->cap ? 2 * ms->cap : 4;
        ms->v = xrealloc(ms->v, ms->cap * sizeof *ms->v);
    }
    struct mgr *m = &ms->v[ms->n];
    memset(m, 0, sizeof *m);
    m->manager = xstrdup(manager);
    m->apply = apply;
    m->api_version = xstrdup(gv);
    m->subresource = xstrdup(sub);
    return ms->n++;
}

static int mgr_decode(struct mgrs *ms, json_t *en, size_t i, struct aerr *e)
{
    const char *op = str_field(en, "operation"), *av = str_field(en, "apiVersion");
    const char *ft = str_field(en, "fieldsType");
    struct fnode *set;
    if (!json_is_object(en)) {
        ka_aerr_set(e, "managed fields entry %zu is not an object", i);
        return -1;
    }
    if (!op || (strcmp(op, "Apply") && strcmp(op, "Update"))) {
        ka_aerr_set(e, "operation must be `Apply` or `Update`");
        return -1;
    }
    if (!av || !*av) {
        ka_aerr_set(e, "apiVersion must not be empty");
        return -1;
    }
    if (!ft || !*ft) {
        ka_aerr_set(e, "missing fieldsType in managed fields entry %zu", i);
        return -1;
    }
    if (strcmp(ft, "FieldsV1")) {
        ka_aerr_set(e, "invalid fieldsType \"%s\" in managed fields entry %zu", ft, i);
        return -1;
    }
    if (fs_parse(json_object_get(en, "fieldsV1"), &set)) {
        ka_aerr_set(e, "error decoding set of managed fields entry %zu", i);
        return -1;
    }
    const char *manager = str_field(en, "manager"), *sub = str_field(en, "subresource");
    size_t at = ka_mgrs_add(ms, manager ? manager : "", !strcmp(op, "Apply"), av, sub ? sub : "");
    struct mgr *m = &ms->v[at]; /* a repeated identity: the last entry wins */
    fs_node_free(m->set);
    m->set = set;
    free(m->api_version);
    m->api_version = xstrdup(av);
    free(m->time);
    m->time = str_field(en, "time") ? xstrdup(str_field(en, "time")) : NULL;
    return 0;
}

int ka_mgrs_decode(struct mgrs *ms, json_t *arr, struct aerr *e)
{
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr)) {
        ka_aerr_set(e, "metadata.managedFields must be a list");
        return -1;
    }
    for (size_t i = 0; i < json_array_size(arr); i++)
        if (mgr_decode(ms, json_array_get(arr, i), i, e)) {
            ka_mgrs_free(ms);
            return -1;
        }
    return 0;
}

static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Seconds since the epoch of an RFC 3339 time; 0 when absent or unparsable. */
static long long time_secs(const char *s)
{
    int y, mo, d, h, mi, se, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6)
        return 0;
    const char *p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    long long t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    int oh, om;
    if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2)
        t -= (*p == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    return t;
}

/* Kubernetes' identifier for a manager (BuildManagerIdentifier), which
 * orders conflicts and capped managers. */
static void mgr_ident(const struct mgr *m, struct ubuf *b)
{
    ubuf_append(b, "{\"manager\":", 11);
    ka_go_quote(b, m->manager, strlen(m->manager));
    ubuf_appendf(b, ",\"operation\":\"%s\"", m->apply ? "Apply" : "Update");
    if (!m->apply) {
        ubuf_append(b, ",\"apiVersion\":", 14);
        ka_go_quote(b, m->api_version, strlen(m->api_version));
    }
    if (m->subresource[0]) {
        ubuf_append(b, ",\"subresource\":", 15);
        ka_go_quote(b, m->subresource, strlen(m->subresource));
    }
    ubuf_append(b, "}", 1);
}

int ka_ident_cmp(const struct mgr *a, const struct mgr *b)
{
    struct ubuf x = {0}, y = {0};
    mgr_ident(a, &x);
    mgr_ident(b, &y);
    int c = strcmp(x.data, y.data);
    ubuf_free(&x);
    ubuf_free(&y);
    return c;
}

/* How a conflict message names a manager (printManager). */
void ka_mgr_print(const struct mgr *m, struct ubuf *b)
{
    json_t *s = json_string(m->manager);
    ka_go_tostring(b, s);
    json_decref(s);
    if (m->subresource[0])
        ubuf_appendf(b, " with subresource \"%s\"", m->subresource);
    if (!m->apply)
        ubuf_appendf(b, " using %s", m->api_version);
}

/* Kubernetes' order of managedFields entries: Apply before Update, then
 * by time, manager, apiVersion, subresource. */
static int mgr_order(const void *a, const void *b)
{
    const struct mgr *p = *(const struct mgr *const *)a, *q = *(const struct mgr *const *)b;
    if (p->apply != q->apply)
        return p->apply ? -1 : 1;
    long long ps = time_secs(p->time), qs = time_secs(q->time);
    if (ps != qs)
        return ps < qs ? -1 : 1;
    int c = strcmp(p->manager, q->manager);
    if (!c)
        c = strcmp(p->api_version, q->api_version);
    return c ? c : strcmp(p->subresource, q->subresource);
}

static json_t *mgr_entry(const struct mgr *m)
{
    json_t *o = json_object();
    json_object_set_new(o, "manager", json_string(m->manager));
    json_object_set_new(o, "operation", json_string(m->apply ? "Apply" : "Update"));
    json_object_set_new(o, "apiVersion", json_string(m->api_version));
    if (m->time)
        json_object_set_new(o, "time", json_string(m->time));
    json_object_set_new(o, "fieldsType", json_string("FieldsV1"));
    json_object_set_new(o, "fieldsV1", fs_emit(m->set, false));
    if (m->subresource[0])
        json_object_set_new(o, "subresource", json_string(m->subresource));
    return o;
}

/* Writes the managers into obj's metadata.managedFields (removed when none). */
void ka_mgrs_encode(const struct mgrs *ms, json_t *obj)
{
    const struct mgr **order = xmalloc((ms->n + 1) * sizeof *order);
    size_t n = 0;
    for (size_t i = 0; i < ms->n; i++)
        if (ms->v[i].set)
            order[n++] = &ms->v[i];
    qsort(order, n, sizeof *order, mgr_order);
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta) && n) {
        meta = json_object();
        json_object_set_new(obj, "metadata", meta);
    }
    if (json_is_object(meta)) {
        if (!n) {
            json_object_del(meta, "managedFields");
        } else {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, mgr_entry(order[i]));
            json_object_set_new(meta, "managedFields", arr);
        }
    }
    free(order);
}

struct aged {
    const struct mgrs *ms;
    size_t i;
};

static int aged_cmp(const void *a, const void *b)
{
    const struct aged *x = a, *y = b;
    const struct mgr *p = &x->ms->v[x->i], *q = &y->ms->v[y->i];
    long long ps = time_secs(p->time), qs = time_secs(q->time);
    if (ps != qs)
        return ps < qs ? -1 : 1;
    return ka_ident_cmp(p, q);
}

/* Keeps at most MAX_UPDATE_MANAGERS Update entries by folding the oldest
 * into one "ancient-changes" entry per version (capManagersManager). */
void ka_cap_updaters(struct mgrs *ms)
{
    struct aged *up = xmalloc((ms->n + 1) * sizeof *up);
    size_t n = 0;
    for (size_t i = 0; i < ms->n; i++)
        if (ms->v[i].set && !ms->v[i].apply)
            up[n++] = (struct aged){ms, i};
    if (n > MAX_UPDATE_MANAGERS) {
        qsort(up, n, sizeof *up, aged_cmp);
        size_t *first = xmalloc(n * sizeof *first), nfirst = 0, length = n;
        for (size_t k = 0; k < n && length > MAX_UPDATE_MANAGERS; k++) {
            struct mgr *m = &ms->v[up[k].i];
            size_t f = NONE;
            for (size_t x = 0; x < nfirst && f == NONE; x++)
                if (!strcmp(ms->v[first[x]].api_version, m->api_version))
                    f = first[x];
            if (f == NONE) {
                first[nfirst++] = up[k].i;
                continue;
            }
            size_t b = mgrs_find(ms, "ancient-changes", false, m->api_version, "");
            if (b == NONE) { /* the version's oldest becomes the bucket */
                b = f;
                free(ms->v[b].manager);
                ms->v[b].manager = xstrdup("ancient-changes");
                ms->v[b].subresource[0] = '\0';
            }
            m = &ms->v[up[k].i];
            assert(m != &ms->v[b]);
            ms->v[b].set = fs_union_take(ms->v[b].set, m->set);
            m->set = NULL;
            free(ms->v[b].time);
            ms->v[b].time = m->time ? xstrdup(m->time) : NULL;
            length--;
        }
        free(first);
    }
    free(up);
}

