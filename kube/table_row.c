/* table_row.c — building a Table row: reading the object, times, and the shared cells.
 *
 * What the cells functions of every kind share: reading fields by dotted
 * path with Kubernetes' defaults for absent ones, RFC 3339 timestamps and
 * duration.HumanDuration ages ("5m", "3d4h"), appending cells of each JSON
 * type to the row, and the formats printers.go uses for many kinds: "<none>"
 * for what is empty, container names and images joined by commas, labels as
 * "k=v,...", label selectors as LabelSelectorAsSelector prints them, lists
 * cut short with "+ N more...", host:port pairs, quantities, int-or-string
 * values and conditions.
 *
 * How it works: a struct tbl_row carries the object, the wall clock and the
 * cells so far; every tbl_cell_* appends exactly one cell, which is what
 * keeps a row at one cell per column. Values of the wrong JSON type read as
 * absent. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "kube/table_internal.h"

/* ---- reading the object ---- */

/* The value at a dotted path ("status.nodeInfo.osImage"), or NULL when any
 * step is missing, null, or not an object. */
json_t *tbl_at(json_t *o, const char *path)
{
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        o = json_is_object(o) ? json_object_getn(o, path, n) : NULL;
        path += n + (dot != NULL);
    }
    return json_is_null(o) ? NULL : o;
}

bool tbl_has(json_t *o, const char *path)
{
    return tbl_at(o, path) != NULL;
}

/* A string field, "" when absent or not a string. */
const char *tbl_str(json_t *o, const char *path)
{
    json_t *v = tbl_at(o, path);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* A string field, or def when absent (or not a string). */
const char *tbl_str_or(json_t *o, const char *path, const char *def)
{
    json_t *v = tbl_at(o, path);
    return json_is_string(v) ? json_string_value(v) : def;
}

int64_t tbl_int(json_t *o, const char *path, int64_t def)
{
    json_t *v = tbl_at(o, path);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v) && json_real_value(v) > -9e18 && json_real_value(v) < 9e18)
        return (int64_t)json_real_value(v);
    return def;
}

/* An int32 field (counts like restartCount), clamped to its range so sums
 * of them cannot overflow. */
int64_t tbl_int32(json_t *o, const char *path, int64_t def)
{
    int64_t v = tbl_int(o, path, def);
    return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v;
}

bool tbl_true(json_t *o, const char *path)
{
    return json_is_true(tbl_at(o, path));
}

size_t tbl_len(json_t *o, const char *path)
{
    json_t *v = tbl_at(o, path);
    return json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0;
}

bool tbl_streq(json_t *o, const char *path, const char *want)
{
    return strcmp(tbl_str(o, path), want) == 0;
}

/* ---- time: RFC 3339 timestamps and duration.HumanDuration ---- */

static int64_t tbl_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool tbl_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "2006-01-02T15:04:05[.999999999](Z|+07:00)"; unset when absent or bad, and
 * for Go's zero time (0001-01-01T00:00:00Z), which Kubernetes prints as
 * unknown. */
struct tbl_time tbl_time_at(json_t *o, const char *path)
{
    struct tbl_time t = {0};
    const char *s = tbl_str(o, path);
    int y, mo, d, h, mi, se;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) < 20 || !tbl_digits(s, 4, &y) || s[4] != '-' || !tbl_digits(s + 5, 2, &mo) ||
        s[7] != '-' || !tbl_digits(s + 8, 2, &d) || s[10] != 'T' || !tbl_digits(s + 11, 2, &h) ||
        s[13] != ':' || !tbl_digits(s + 14, 2, &mi) || s[16] != ':' || !tbl_digits(s + 17, 2, &se))
        return t;
    bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) ||
        h > 23 || mi > 59 || se > 59)
        return t;
    const char *p = s + 19;
    int32_t nsec = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < 9)
                nsec = nsec * 10 + (*p - '0');
        if (digits == 0)
            return t;
        for (; digits < 9; digits++)
            nsec *= 10;
    }
    int64_t offset = 0;
    if (*p == 'Z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (!tbl_digits(p + 1, 2, &oh) || !tbl_digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return t;
        offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return t;
    }
    if (*p != '\0')
        return t;
    t.sec = tbl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
    t.nsec = nsec;
    t.set =
        !(y == 1 && mo == 1 && d == 1 && h == 0 && mi == 0 && se == 0 && nsec == 0 && offset == 0);
    return t;
}

/* a before b, as metav1.Time.Before; unset is earlier than everything. */
bool tbl_before(struct tbl_time a, struct tbl_time b)
{
    if (!b.set)
        return false;
    if (!a.set)
        return true;
    return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec);
}

#define TBL_NS 1000000000LL

/* b - a in nanoseconds, saturating like Go's Time.Sub. */
int64_t tbl_sub(int64_t b_sec, int32_t b_nsec, int64_t a_sec, int32_t a_nsec)
{
    int64_t ds;
    if (__builtin_sub_overflow(b_sec, a_sec, &ds))
        return b_sec > a_sec ? INT64_MAX : INT64_MIN;
    if (ds > INT64_MAX / TBL_NS - 1)
        return INT64_MAX;
    if (ds < INT64_MIN / TBL_NS + 1)
        return INT64_MIN;
    return ds * TBL_NS + (b_nsec - a_nsec);
}

/* duration.HumanDuration: about two significant figures, "0s" .. "10y". */
void tbl_human(char *buf, size_t len, int64_t d)
{
    const int64_t minute = 60 * TBL_NS, hour = 60 * minute;
    int64_t seconds = d / TBL_NS;
    if (seconds < -1) {
        snprintf(buf, len, "<invalid>");
        return;
    }
    if (seconds < 0) {
        snprintf(buf, len, "0s");
        return;
    }
    if (seconds < 60 * 2) {
        snprintf(buf, len, "%llds", (long long)seconds);
        return;
    }
    int64_t minutes = d / minute;
    if (minutes < 10) {
        int64_t s = seconds % 60;
        if (s == 0)
            snprintf(buf, len, "%lldm", (long long)minutes);
        else
            snprintf(buf, len, "%lldm%llds", (long long)minutes, (long long)s);
        return;
    }
    if (minutes < 60 * 3) {
        snprintf(buf, len, "%lldm", (long long)minutes);
        return;
    }
    int64_t hours = d / hour;
    if (hours < 8) {
        int64_t m = minutes % 60;
        if (m == 0)
            snprintf(buf, len, "%lldh", (long long)hours);
        else
            snprintf(buf, len, "%lldh%lldm", (long long)hours, (long long)m);
    } else if (hours < 48) {
        snprintf(buf, len, "%lldh", (long long)hours);
    } else if (hours < 24 * 8) {
        int64_t h = hours % 24;
        if (h == 0)
            snprintf(buf, len, "%lldd", (long long)(hours / 24));
        else
            snprintf(buf, len, "%lldd%lldh", (long long)(hours / 24), (long long)h);
    } else if (hours < 24 * 365 * 2) {
        snprintf(buf, len, "%lldd", (long long)(hours / 24));
    } else if (hours < 24 * 365 * 8) {
        int64_t dy = (hours / 24) % 365;
        if (dy == 0)
            snprintf(buf, len, "%lldy", (long long)(hours / 24 / 365));
        else
            snprintf(buf, len, "%lldy%lldd", (long long)(hours / 24 / 365), (long long)dy);
    } else {
        snprintf(buf, len, "%lldy", (long long)(hours / 24 / 365));
    }
}

/* ---- building a row ---- */

/* translateTimestampSince: the age of t, "<unknown>" when unset. */
void tbl_since(const struct tbl_row *r, struct tbl_time t, char *buf, size_t len)
{
    if (!t.set)
        snprintf(buf, len, "<unknown>");
    else
        tbl_human(buf, len, tbl_sub(r->now, 0, t.sec, t.nsec));
}

void tbl_cell_str(struct tbl_row *r, const char *s)
{
    json_t *v = json_string(s);
    json_array_append_new(r->cells, v ? v : json_string(""));
}

void tbl_cell_fmt(struct tbl_row *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    tbl_cell_str(r, s);
    free(s);
}

void tbl_cell_int(struct tbl_row *r, int64_t v)
{
    json_array_append_new(r->cells, json_integer(v));
}

void tbl_cell_bool(struct tbl_row *r, bool v)
{
    json_array_append_new(r->cells, json_boolean(v));
}

/* The text in b (or fallback when b is empty), and b is freed. */
void tbl_cell_buf(struct tbl_row *r, struct ubuf *b, const char *fallback)
{
    tbl_cell_str(r, b->len ? b->data : fallback);
    ubuf_free(b);
}

/* A string field, or fallback when it is absent or empty. */
void tbl_cell_field(struct tbl_row *r, const char *path, const char *fallback)
{
    const char *s = tbl_str(r->obj, path);
    tbl_cell_str(r, *s ? s : fallback);
}

void tbl_cell_since(struct tbl_row *r, const char *path)
{
    char buf[32];
    tbl_since(r, tbl_time_at(r->obj, path), buf, sizeof buf);
    tbl_cell_str(r, buf);
}

void tbl_cell_name(struct tbl_row *r)
{
    tbl_cell_str(r, tbl_str(r->obj, "metadata.name"));
}

void tbl_cell_age(struct tbl_row *r)
{
    tbl_cell_since(r, "metadata.creationTimestamp");
}

void tbl_sep(struct ubuf *b, const char *sep)
{
    if (b->len)
        ubuf_appendf(b, "%s", sep);
}

/* ---- shared formatting ---- */

/* layoutContainerCells: the names and the images of containers, each joined
 * by commas. */
void tbl_cells_containers(struct tbl_row *r, const char *path)
{
    json_t *cs = tbl_at(r->obj, path), *c;
    struct ubuf names = {0}, images = {0};
    size_t i;
    json_array_foreach(cs, i, c) {
        ubuf_appendf(&names, "%s%s", i ? "," : "", tbl_str(c, "name"));
        ubuf_appendf(&images, "%s%s", i ? "," : "", tbl_str(c, "image"));
    }
    tbl_cell_buf(r, &names, "");
    tbl_cell_buf(r, &images, "");
}

int tbl_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* labels.FormatLabels: "k=v" pairs of a string map sorted by key, "<none>"
 * when there are none. */
void tbl_cell_labels(struct tbl_row *r, const char *path)
{
    json_t *m = tbl_at(r->obj, path);
    size_t n = json_is_object(m) ? json_object_size(m) : 0, i = 0;
    const char **keys = xmalloc((n ? n : 1) * sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        keys[i++] = k;
    }
    qsort(keys, n, sizeof *keys, tbl_strcmp);
    struct ubuf b = {0};
    for (i = 0; i < n; i++) {
        json_t *val = json_object_get(m, keys[i]);
        tbl_sep(&b, ",");
        ubuf_appendf(&b, "%s=%s", keys[i], json_is_string(val) ? json_string_value(val) : "");
    }
    free(keys);
    tbl_cell_buf(r, &b, "<none>");
}

/* One requirement of a LabelSelector, for printing. */
struct tbl_req {
    size_t at; /* its place in the selector, to keep the sort stable */
    const char *key;
    const char *op; /* "=", "in", "notin", "" (exists), "!" (does not exist) */
    json_t *values; /* the value of "=", or the values array */
};

static int tbl_req_cmp(const void *x, const void *y)
{
    const struct tbl_req *a = x, *b = y;
    int c = strcmp(a->key, b->key);
    return c ? c : (a->at > b->at) - (a->at < b->at);
}

/* Requirement.String() */
static void tbl_req_format(struct ubuf *b, const struct tbl_req *q)
{
    if (strcmp(q->op, "!") == 0) {
        ubuf_appendf(b, "!%s", q->key);
        return;
    }
    if (!*q->op) {
        ubuf_appendf(b, "%s", q->key);
        return;
    }
    if (strcmp(q->op, "=") == 0) {
        ubuf_appendf(b, "%s=%s", q->key, json_string_value(q->values));
        return;
    }
    size_t n = json_array_size(q->values);
    const char **vals = xmalloc((n ? n : 1) * sizeof *vals);
    for (size_t i = 0; i < n; i++)
        vals[i] = json_string_value(json_array_get(q->values, i));
    qsort(vals, n, sizeof *vals, tbl_strcmp);
    ubuf_appendf(b, "%s %s (", q->key, q->op);
    for (size_t i = 0; i < n; i++)
        ubuf_appendf(b, "%s%s", i ? "," : "", vals[i]);
    ubuf_appendf(b, ")");
    free(vals);
}

/* LabelSelectorAsSelector(sel).String(): the requirements sorted by key
 * (stably: matchLabels before matchExpressions of the same key), joined by
 * commas; "" for a nil selector (labels.Nothing) and an empty one. false if
 * Kubernetes would refuse the selector. */
bool tbl_selector_string(json_t *sel, struct ubuf *out)
{
    struct kube_selector *parsed = kube_selector_from_json(sel, NULL, 0);
    if (!parsed)
        return false;
    kube_selector_free(parsed);
    json_t *ml = tbl_at(sel, "matchLabels"), *me = tbl_at(sel, "matchExpressions");
    size_t n = (json_is_object(ml) ? json_object_size(ml) : 0) +
               (json_is_array(me) ? json_array_size(me) : 0);
    struct tbl_req *reqs = xmalloc((n ? n : 1) * sizeof *reqs), q;
    size_t k = 0, i;
    const char *key;
    json_t *v;
    json_object_foreach(ml, key, v) {
        reqs[k] = (struct tbl_req){k, key, "=", v};
        k++;
    }
    json_array_foreach(me, i, v) {
        const char *op = tbl_str(v, "operator");
        q = (struct tbl_req){k, tbl_str(v, "key"), "", tbl_at(v, "values")};
        q.op = !strcmp(op, "In")       ? "in"
               : !strcmp(op, "NotIn")  ? "notin"
               : !strcmp(op, "Exists") ? ""
                                       : "!";
        reqs[k++] = q;
    }
    qsort(reqs, k, sizeof *reqs, tbl_req_cmp);
    for (i = 0; i < k; i++) {
        tbl_sep(out, ",");
        tbl_req_format(out, &reqs[i]);
    }
    free(reqs);
    return true;
}

/* metav1.FormatLabelSelector: "<none>" when empty, "<error>" when invalid. */
void tbl_cell_selector(struct tbl_row *r, const char *path)
{
    struct ubuf b = {0};
    if (!tbl_selector_string(tbl_at(r->obj, path), &b)) {
        ubuf_free(&b);
        tbl_cell_str(r, "<error>");
        return;
    }
    tbl_cell_buf(r, &b, "<none>");
}

void tbl_list_add(struct tbl_list *l, const char *fmt, ...)
{
    l->count++;
    if (l->shown == l->max)
        return;
    l->shown++;
    tbl_sep(&l->b, ",");
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    ubuf_appendf(&l->b, "%s", s);
    free(s);
}

void tbl_cell_list(struct tbl_row *r, struct tbl_list *l, const char *if_empty)
{
    if (l->count > l->max)
        ubuf_appendf(&l->b, " + %zu more...", l->count - l->max);
    tbl_cell_buf(r, &l->b, if_empty);
}

/* net.JoinHostPort */
void tbl_list_hostport(struct tbl_list *l, const char *host, int64_t port)
{
    if (strchr(host, ':'))
        tbl_list_add(l, "[%s]:%lld", host, (long long)port);
    else
        tbl_list_add(l, "%s:%lld", host, (long long)port);
}

/* A resource.Quantity as stored: a string, or a JSON number. */
void tbl_quantity(char *buf, size_t len, json_t *q)
{
    if (json_is_string(q))
        snprintf(buf, len, "%s", json_string_value(q));
    else if (json_is_integer(q))
        snprintf(buf, len, "%lld", (long long)json_integer_value(q));
    else if (json_is_real(q))
        snprintf(buf, len, "%g", json_real_value(q));
    else
        snprintf(buf, len, "<nil>");
}

/* intstr.IntOrString.String() */
void tbl_int_or_string(char *buf, size_t len, json_t *v)
{
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, len, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* The first condition of a type in a conditions list, or NULL. */
static json_t *tbl_condition(json_t *o, const char *path, const char *type)
{
    json_t *c;
    size_t i;
    json_array_foreach(tbl_at(o, path), i, c) {
        if (tbl_streq(c, "type", type))
            return c;
    }
    return NULL;
}

bool tbl_condition_true(json_t *o, const char *path, const char *type)
{
    return tbl_streq(tbl_condition(o, path, type), "status", "True");
}
