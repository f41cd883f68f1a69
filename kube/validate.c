/* validate.c — Kubernetes' validation of API objects.
 *
 * The rules, field paths and messages of Kubernetes 1.32's
 * pkg/apis/{core,apps,batch,autoscaling,coordination,discovery,scheduling}
 * /validation and of apimachinery's ObjectMeta, label and name checks, for
 * the kinds bosun serves, run on the defaulted JSON object. Each failure is
 * a cause {reason, message, field} as Kubernetes' field.Error renders it:
 *
 *   reason                 message (field.Error's ErrorBody)
 *   FieldValueRequired     Required value[: detail]
 *   FieldValueInvalid      Invalid value: <value>: detail
 *   FieldValueNotSupported Unsupported value: "x": supported values: "a", "b"
 *   FieldValueDuplicate    Duplicate value: "x"
 *   FieldValueForbidden    Forbidden: detail
 *   FieldValueTooLong      Too long: may not be more than N bytes
 *   FieldValueTooMany      Too many: N: must have at most M items
 *   FieldValueNotFound     Not found: "x"
 *
 * with <value> printed as Go 1.32 prints it: strings quoted (strconv.Quote),
 * numbers plain, and the composite values the way %#v shows them
 * (map[string]string{"app":"x"}, v1.LabelSelector{...},
 * intstr.IntOrString{...}) or, for big structs (a pod template), as compact
 * JSON; field paths are Kubernetes' ("spec.containers[0].ports[1]
 * .containerPort", "metadata.labels", "data[key]"). Quantities are shown as
 * written, where Kubernetes shows its canonical form ("0.5" for "500m").
 *
 * How it works: a table maps each kind to its namespace scope, its name
 * rule (DNS-1123 subdomain, DNS-1123 label or DNS-1035 label), a validate
 * function and, for updates (old != NULL), an update function for the
 * immutable fields. The shared parts (ObjectMeta, label selectors, pod
 * specs and pod templates, the name and value syntaxes) are functions used
 * by every kind that embeds them. The walk keeps the current field path in a
 * fixed buffer (struct vctx), pushing and popping segments as it descends.
 * Values of the wrong JSON type are treated as unset: the schema check
 * reports them, and validation must not crash on a body it never saw
 * checked.
 *
 * Not checked (Kubernetes does): security contexts, affinity, topology
 * spread, resource claims, scheduling and readiness gates, host aliases,
 * pod-specific annotations (seccomp, AppArmor, sysctls), downward API field
 * paths, the internals of most volume sources, status (subresources), most
 * of Event, EndpointSlice's topology hints, a CronJob's time zone database,
 * fields behind alpha feature gates. A Job's selector is checked only when
 * set: the server generates it. */
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

/* ==== the walk: causes and the field path ==== */

#define VPATH_MAX 512
#define VPATH_OVERFLOW ((size_t)-1)

struct vctx {
    json_t *causes;     /* NULL until the first cause */
    json_t *old;        /* the stored object on update, else NULL */
    size_t len;         /* path[len] == '\0' */
    unsigned overflows; /* pushed segments that did not fit */
    char path[VPATH_MAX];
};

static size_t vp_append(struct vctx *c, const char *seg, bool dot)
{
    size_t mark = c->len, room = sizeof c->path - c->len;
    int n = snprintf(c->path + c->len, room, "%s%s", dot && c->len ? "." : "", seg);
    if (n < 0 || (size_t)n >= room) {
        c->path[mark] = '\0';
        c->overflows++;
        return VPATH_OVERFLOW;
    }
    c->len += (size_t)n;
    return mark;
}

/* field.Path's Child, Index and Key; each returns the mark vp_pop takes. */
static size_t vp_child(struct vctx *c, const char *name)
{
    return vp_append(c, name, true);
}

static size_t vp_index(struct vctx *c, size_t i)
{
    char seg[32];
    snprintf(seg, sizeof seg, "[%zu]", i);
    return vp_append(c, seg, false);
}

static size_t vp_key(struct vctx *c, const char *key)
{
    char seg[VPATH_MAX];
    snprintf(seg, sizeof seg, "[%s]", key);
    return vp_append(c, seg, false);
}

static void vp_pop(struct vctx *c, size_t mark)
{
    if (mark == VPATH_OVERFLOW) {
        c->overflows--;
        return;
    }
    c->len = mark;
    c->path[mark] = '\0';
}

/* A JSON string; bytes that are not UTF-8 (a value cut short) become '?'. */
static json_t *string_lossy(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = xstrdup(s);
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

/* Adds a cause at the current path, or at its child when child is set. */
static void v_emit(struct vctx *c, const char *child, const char *reason, const char *message)
{
    size_t mark = child ? vp_child(c, child) : c->len;
    char field[VPATH_MAX + 8];
    snprintf(field, sizeof field, "%s%s", c->path, c->overflows ? "..." : "");
    if (child)
        vp_pop(c, mark);
    if (!c->causes)
        c->causes = json_array();
    json_t *cause = json_object();
    json_object_set_new(cause, "reason", json_string(reason));
    json_object_set_new(cause, "message", string_lossy(message));
    json_object_set_new(cause, "field", string_lossy(field));
    json_array_append_new(c->causes, cause);
}

/* ---- Go's rendering of values ---- */

/* strconv.Quote: printable runes kept, the rest escaped. */
static void go_quote(struct ubuf *b, const char *s)
{
    ubuf_append(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': ubuf_append(b, "\\\"", 2); break;
        case '\\': ubuf_append(b, "\\\\", 2); break;
        case '\a': ubuf_append(b, "\\a", 2); break;
        case '\b': ubuf_append(b, "\\b", 2); break;
        case '\f': ubuf_append(b, "\\f", 2); break;
        case '\n': ubuf_append(b, "\\n", 2); break;
        case '\r': ubuf_append(b, "\\r", 2); break;
        case '\t': ubuf_append(b, "\\t", 2); break;
        case '\v': ubuf_append(b, "\\v", 2); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                ubuf_appendf(b, "\\x%02x", *p);
            else
                ubuf_append(b, p, 1);
        }
    }
    ubuf_append(b, "\"", 1);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* %#v of a map[string]string: keys sorted, nil when absent. */
static void go_map(struct ubuf *b, json_t *m)
{
    if (!json_is_object(m)) {
        ubuf_appendf(b, "map[string]string(nil)");
        return;
    }
    size_t n = json_object_size(m), i = 0;
    const char **keys = xcalloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof *keys, cmp_str);
    ubuf_appendf(b, "map[string]string{");
    for (i = 0; i < n; i++) {
        if (i)
            ubuf_append(b, ", ", 2);
        go_quote(b, keys[i]);
        ubuf_append(b, ":", 1);
        const char *val = json_string_value(json_object_get(m, keys[i]));
        go_quote(b, val ? val : "");
    }
    ubuf_append(b, "}", 1);
    free(keys);
}

/* %#v of a []string: nil when absent. */
static void go_strings(struct ubuf *b, json_t *a)
{
    if (!json_is_array(a)) {
        ubuf_appendf(b, "[]string(nil)");
        return;
    }
    ubuf_appendf(b, "[]string{");
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e) {
        if (i)
            ubuf_append(b, ", ", 2);
        go_quote(b, json_is_string(e) ? json_string_value(e) : "");
    }
    ubuf_append(b, "}", 1);
}

static const char *jstr0(json_t *o, const char *k);

/* %#v of a *metav1.LabelSelector, dereferenced as field.Error does. */
static void go_label_selector(struct ubuf *b, json_t *sel)
{
    ubuf_appendf(b, "v1.LabelSelector{MatchLabels:");
    go_map(b, json_object_get(sel, "matchLabels"));
    ubuf_appendf(b, ", MatchExpressions:");
    json_t *exprs = json_object_get(sel, "matchExpressions");
    if (!json_is_array(exprs)) {
        ubuf_appendf(b, "[]v1.LabelSelectorRequirement(nil)}");
        return;
    }
    ubuf_appendf(b, "[]v1.LabelSelectorRequirement{");
    size_t i;
    json_t *e;
    json_array_foreach(exprs, i, e) {
        ubuf_appendf(b, "%sv1.LabelSelectorRequirement{Key:", i ? ", " : "");
        go_quote(b, jstr0(e, "key"));
        ubuf_appendf(b, ", Operator:");
        go_quote(b, jstr0(e, "operator"));
        ubuf_appendf(b, ", Values:");
        go_strings(b, json_object_get(e, "values"));
        ubuf_append(b, "}", 1);
    }
    ubuf_appendf(b, "}}");
}

/* %#v of an intstr.IntOrString value. */
static void go_intstr(struct ubuf *b, json_t *v)
{
    if (json_is_string(v)) {
        ubuf_appendf(b, "intstr.IntOrString{Type:1, IntVal:0, StrVal:");
        go_quote(b, json_string_value(v));
        ubuf_append(b, "}", 1);
    } else {
        ubuf_appendf(b, "intstr.IntOrString{Type:0, IntVal:%" JSON_INTEGER_FORMAT ", StrVal:\"\"}",
                     json_is_integer(v) ? json_integer_value(v) : 0);
    }
}

/* Compact JSON, for values Go would print as a large struct. */
static void go_json(struct ubuf *b, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
    ubuf_appendf(b, "%s", s ? s : "null");
    free(s);
}

/* ---- the error constructors of field/errors.go ---- */

static void v_simple(struct vctx *c, const char *child, const char *reason, const char *type,
                     const char *detail)
{
    struct ubuf m = {0};
    ubuf_appendf(&m, "%s", type);
    if (detail && *detail)
        ubuf_appendf(&m, ": %s", detail);
    v_emit(c, child, reason, m.data);
    ubuf_free(&m);
}

static void v_required(struct vctx *c, const char *child, const char *detail)
{
    v_simple(c, child, "FieldValueRequired", "Required value", detail);
}

static void v_forbidden(struct vctx *c, const char *child, const char *detail)
{
    v_simple(c, child, "FieldValueForbidden", "Forbidden", detail);
}

static void v_too_long(struct vctx *c, const char *child, long max)
{
    char detail[64];
    snprintf(detail, sizeof detail, "may not be more than %ld byte%s", max, max == 1 ? "" : "s");
    v_simple(c, child, "FieldValueTooLong", "Too long", detail);
}

static void v_too_many(struct vctx *c, const char *child, size_t actual, size_t max)
{
    char msg[96];
    snprintf(msg, sizeof msg, "Too many: %zu: must have at most %zu item%s", actual, max,
             max == 1 ? "" : "s");
    v_emit(c, child, "FieldValueTooMany", msg);
}

/* type: "Invalid value" and the like; rendered: the value as Go prints it. */
static void v_valued(struct vctx *c, const char *child, const char *reason, const char *type,
                     const char *rendered, const char *detail)
{
    struct ubuf m = {0};
    ubuf_appendf(&m, "%s: %s", type, rendered);
    if (detail && *detail)
        ubuf_appendf(&m, ": %s", detail);
    v_emit(c, child, reason, m.data);
    ubuf_free(&m);
}

static void v_invalid_raw(struct vctx *c, const char *child, const char *rendered,
                          const char *detail)
{
    v_valued(c, child, "FieldValueInvalid", "Invalid value", rendered, detail);
}

static void v_invalid(struct vctx *c, const char *child, const char *value, const char *detail)
{
    struct ubuf q = {0};
    go_quote(&q, value);
    v_invalid_raw(c, child, q.data, detail);
    ubuf_free(&q);
}

static void v_invalid_int(struct vctx *c, const char *child, json_int_t value, const char *detail)
{
    char s[32];
    snprintf(s, sizeof s, "%" JSON_INTEGER_FORMAT, value);
    v_invalid_raw(c, child, s, detail);
}

/* Invalid with a value rendered by a go_* function. */
static void v_invalid_go(struct vctx *c, const char *child, void (*render)(struct ubuf *, json_t *),
                         json_t *value, const char *detail)
{
    struct ubuf r = {0};
    render(&r, value);
    v_invalid_raw(c, child, r.data, detail);
    ubuf_free(&r);
}

/* NotSupported with a value rendered already; valid: NULL-terminated, in
 * the order Kubernetes lists them. */
static void v_unsupported_raw(struct vctx *c, const char *child, const char *rendered,
                              const char *const *valid)
{
    struct ubuf d = {0};
    ubuf_appendf(&d, "supported values: ");
    for (size_t i = 0; valid[i]; i++) {
        if (i)
            ubuf_append(&d, ", ", 2);
        go_quote(&d, valid[i]);
    }
    v_valued(c, child, "FieldValueNotSupported", "Unsupported value", rendered, d.data);
    ubuf_free(&d);
}

static void v_unsupported(struct vctx *c, const char *child, const char *value,
                          const char *const *valid)
{
    struct ubuf q = {0};
    go_quote(&q, value);
    v_unsupported_raw(c, child, q.data, valid);
    ubuf_free(&q);
}

static void v_duplicate_raw(struct vctx *c, const char *child, const char *rendered,
                            const char *detail)
{
    v_valued(c, child, "FieldValueDuplicate", "Duplicate value", rendered, detail);
}

static void v_duplicate(struct vctx *c, const char *child, const char *value)
{
    struct ubuf q = {0};
    go_quote(&q, value);
    v_duplicate_raw(c, child, q.data, NULL);
    ubuf_free(&q);
}

static void v_not_found(struct vctx *c, const char *child, const char *value)
{
    struct ubuf q = {0};
    go_quote(&q, value);
    v_valued(c, child, "FieldValueNotFound", "Not found", q.data, NULL);
    ubuf_free(&q);
}

/* ==== JSON access: wrong types read as unset ==== */

static json_t *jget(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_null(v) ? NULL : v;
}

static json_t *jobj(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_object(v) ? v : NULL;
}

static json_t *jarr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_array(v) ? v : NULL;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static const char *jstr0(json_t *o, const char *k)
{
    const char *s = jstr(o, k);
    return s ? s : "";
}

static bool jint(json_t *o, const char *k, json_int_t *v)
{
    json_t *j = json_object_get(o, k);
    if (!json_is_integer(j))
        return false;
    *v = json_integer_value(j);
    return true;
}

static json_int_t jint0(json_t *o, const char *k)
{
    json_int_t v = 0;
    jint(o, k, &v);
    return v;
}

static bool jtrue(json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

static size_t jsize(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_array(v) ? json_array_size(v) : json_is_object(v) ? json_object_size(v) : 0;
}

static bool str_in(const char *s, const char *const *set)
{
    for (size_t i = 0; s && set[i]; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

/* Semantic equality as apiequality.Semantic.DeepEqual sees JSON: absent,
 * null, [] and {} are all the empty value. */
static bool json_empty(json_t *v)
{
    return !v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

static bool sem_equal(json_t *a, json_t *b)
{
    if (json_empty(a) || json_empty(b))
        return json_empty(a) && json_empty(b);
    if (json_is_object(a) && json_is_object(b)) {
        const char *k;
        json_t *v;
        json_object_foreach(a, k, v) {
            if (!sem_equal(v, json_object_get(b, k)))
                return false;
        }
        json_object_foreach(b, k, v) {
            if (!json_object_get(a, k) && !json_empty(v))
                return false;
        }
        return true;
    }
    if (json_is_array(a) && json_is_array(b)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!sem_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    return json_equal(a, b);
}

/* ==== syntaxes (apimachinery/pkg/util/validation) ==== */

/* The messages one syntax check produces, as Go's []string. */
struct msgs {
    int n;
    char m[4][640];
};

static void msgs_add(struct msgs *ms, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msgs_add(struct msgs *ms, const char *fmt, ...)
{
    if (ms->n >= 4)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ms->m[ms->n++], sizeof ms->m[0], fmt, ap);
    va_end(ap);
}

/* One Invalid cause per message, as the callers of the Is* functions do. */
static void v_invalid_each(struct vctx *c, const char *child, const char *value,
                           const struct msgs *ms)
{
    for (int i = 0; i < ms->n; i++)
        v_invalid(c, child, value, ms->m[i]);
}

#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"

static const char dns1123_label_msg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '" DNS1123_LABEL_FMT "')";
static const char dns1123_subdomain_msg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '" DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*')";
static const char dns1035_label_msg[] =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
    "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
static const char qualified_name_msg[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '" QNAME_FMT "')";
static const char label_value_msg[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is '(" QNAME_FMT ")?')";
static const char config_key_msg[] =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')";
static const char not_negative_msg[] = "must be greater than or equal to 0";
static const char immutable_msg[] = "field is immutable";

static bool is_lower_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool is_alnum(char ch)
{
    return isalnum((unsigned char)ch) != 0;
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n). */
static bool match_dns_label(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

static bool match_subdomain(const char *s)
{
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        if (!match_dns_label(s, n))
            return false;
        if (!dot)
            return true;
        s = dot + 1;
    }
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n). */
static bool match_qname(const char *s, size_t n)
{
    if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
            return false;
    return true;
}

static void is_dns1123_label(const char *s, struct msgs *ms)
{
    size_t n = strlen(s);
    if (n > 63)
        msgs_add(ms, "must be no more than 63 characters");
    if (!match_dns_label(s, n))
        msgs_add(ms, "%s", dns1123_label_msg);
}

static void is_dns1123_subdomain(const char *s, struct msgs *ms)
{
    if (strlen(s) > 253)
        msgs_add(ms, "must be no more than 253 characters");
    if (!match_subdomain(s))
        msgs_add(ms, "%s", dns1123_subdomain_msg);
}

static void is_dns1035_label(const char *s, struct msgs *ms)
{
    size_t n = strlen(s);
    if (n > 63)
        msgs_add(ms, "must be no more than 63 characters");
    if (!match_dns_label(s, n) || !(s[0] >= 'a' && s[0] <= 'z'))
        msgs_add(ms, "%s", dns1035_label_msg);
}

/* IsQualifiedName: [prefix/]name. */
static void is_qualified_name(const char *s, struct msgs *ms)
{
    const char *slash = strchr(s, '/');
    const char *name = s;
    if (slash && strchr(slash + 1, '/')) {
        msgs_add(ms,
                 "a qualified name %s with an optional DNS subdomain prefix and '/' (e.g. "
                 "'example.com/MyName')",
                 qualified_name_msg);
        return;
    }
    if (slash) {
        size_t plen = (size_t)(slash - s);
        char prefix[300];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(plen < 299 ? plen : 299), s);
        if (plen == 0) {
            msgs_add(ms, "prefix part must be non-empty");
        } else {
            struct msgs pm = {0};
            is_dns1123_subdomain(prefix, &pm);
            for (int i = 0; i < pm.n; i++)
                msgs_add(ms, "prefix part %s", pm.m[i]);
        }
        name = slash + 1;
    }
    size_t n = strlen(name);
    if (n == 0)
        msgs_add(ms, "name part must be non-empty");
    else if (n > 63)
        msgs_add(ms, "name part must be no more than 63 characters");
    if (!match_qname(name, n))
        msgs_add(ms, "name part %s", qualified_name_msg);
}

static void is_label_value(const char *s, struct msgs *ms)
{
    size_t n = strlen(s);
    if (n > 63)
        msgs_add(ms, "must be no more than 63 characters");
    if (n > 0 && !match_qname(s, n))
        msgs_add(ms, "%s", label_value_msg);
}

static void is_config_map_key(const char *s, struct msgs *ms)
{
    if (strlen(s) > 253)
        msgs_add(ms, "must be no more than 253 characters");
    bool ok = *s != '\0';
    for (const char *p = s; *p; p++)
        if (!is_alnum(*p) && !strchr("-._", *p))
            ok = false;
    if (!ok)
        msgs_add(ms, "%s", config_key_msg);
    if (strcmp(s, ".") == 0)
        msgs_add(ms, "must not be '.'");
    else if (strcmp(s, "..") == 0)
        msgs_add(ms, "must not be '..'");
    else if (strncmp(s, "..", 2) == 0)
        msgs_add(ms, "must not start with '..'");
}

static void is_port_name(const char *s, struct msgs *ms)
{
    size_t n = strlen(s);
    bool charset = n > 0, letter = false;
    for (const char *p = s; *p; p++) {
        if (!is_lower_alnum(*p) && *p != '-')
            charset = false;
        if (*p >= 'a' && *p <= 'z')
            letter = true;
    }
    if (n > 15)
        msgs_add(ms, "must be no more than 15 characters");
    if (!charset)
        msgs_add(ms, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    if (!letter)
        msgs_add(ms, "must contain at least one letter (a-z)");
    if (strstr(s, "--"))
        msgs_add(ms, "must not contain consecutive hyphens");
    if (n > 0 && (s[0] == '-' || s[n - 1] == '-'))
        msgs_add(ms, "must not begin or end with a hyphen");
}

/* IsRelaxedEnvVarName (RelaxedEnvironmentVariableValidation is on in 1.32). */
static void is_env_var_name(const char *s, struct msgs *ms)
{
    if (!*s)
        msgs_add(ms, "environment variable name must be non-empty");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '=') {
            msgs_add(ms, "a valid environment variable name must consist only of printable "
                         "ASCII characters other than '='");
            break;
        }
    }
}

/* IsValidPathSegmentName, for names that become URL path segments. */
static void is_path_segment_name(const char *s, struct msgs *ms)
{
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
        msgs_add(ms, "may not be '%s'", s);
        return;
    }
    if (strchr(s, '/'))
        msgs_add(ms, "may not contain '/'");
    if (strchr(s, '%'))
        msgs_add(ms, "may not contain '%%'");
}

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static bool is_ipv4(const char *s)
{
    unsigned char buf[4];
    return s && inet_pton(AF_INET, s, buf) == 1;
}

static bool is_ipv6(const char *s)
{
    unsigned char buf[16];
    return s && strchr(s, ':') && inet_pton(AF_INET6, s, buf) == 1;
}

static bool is_cidr(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash || !slash[1] || strlen(slash + 1) > 3)
        return false;
    char ip[64];
    snprintf(ip, sizeof ip, "%.*s", (int)(slash - s), s);
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    if (*end || !isdigit((unsigned char)slash[1]))
        return false;
    return (is_ipv4(ip) && bits >= 0 && bits <= 32) || (is_ipv6(ip) && bits >= 0 && bits <= 128);
}

static bool is_percent(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != '%')
        return false;
    for (size_t i = 0; i + 1 < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* ---- names of objects (apimachinery/pkg/api/validation/generic.go) ---- */

typedef void (*name_fn)(const char *name, bool prefix, struct msgs *ms);

/* maskTrailingDash: a generateName prefix may end in '-'. */
static const char *mask_trailing_dash(const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    if (n > 1 && name[n - 1] == '-' && n < len) {
        snprintf(buf, len, "%.*sa", (int)(n - 2), name);
        return buf;
    }
    return name;
}

static void name_subdomain(const char *name, bool prefix, struct msgs *ms)
{
    char buf[512];
    is_dns1123_subdomain(prefix ? mask_trailing_dash(name, buf, sizeof buf) : name, ms);
}

static void name_label(const char *name, bool prefix, struct msgs *ms)
{
    char buf[512];
    is_dns1123_label(prefix ? mask_trailing_dash(name, buf, sizeof buf) : name, ms);
}

static void name_dns1035(const char *name, bool prefix, struct msgs *ms)
{
    char buf[512];
    is_dns1035_label(prefix ? mask_trailing_dash(name, buf, sizeof buf) : name, ms);
}

/* ValidateDNS1123Label / Subdomain with their field: Invalid per message. */
static void check_dns_label(struct vctx *c, const char *child, const char *value)
{
    struct msgs ms = {0};
    is_dns1123_label(value, &ms);
    v_invalid_each(c, child, value, &ms);
}

static void check_subdomain(struct vctx *c, const char *child, const char *value)
{
    struct msgs ms = {0};
    is_dns1123_subdomain(value, &ms);
    v_invalid_each(c, child, value, &ms);
}

static void check_qualified_name(struct vctx *c, const char *child, const char *value)
{
    struct msgs ms = {0};
    is_qualified_name(value, &ms);
    v_invalid_each(c, child, value, &ms);
}

/* ValidateNonnegativeField for o[k] when it is set. */
static void check_nonnegative(struct vctx *c, json_t *o, const char *k)
{
    json_int_t v;
    if (jint(o, k, &v) && v < 0)
        v_invalid_int(c, k, v, not_negative_msg);
}

static void check_port_num(struct vctx *c, const char *child, json_int_t port)
{
    if (port < 1 || port > 65535)
        v_invalid_int(c, child, port, "must be between 1 and 65535, inclusive");
}

/* ValidatePortNumOrName for an IntOrString. */
static void check_port_num_or_name(struct vctx *c, const char *child, json_t *port)
{
    if (json_is_string(port)) {
        struct msgs ms = {0};
        is_port_name(json_string_value(port), &ms);
        v_invalid_each(c, child, json_string_value(port), &ms);
    } else {
        check_port_num(c, child, json_is_integer(port) ? json_integer_value(port) : 0);
    }
}

static void check_ip(struct vctx *c, const char *child, const char *ip)
{
    if (!is_ip(ip))
        v_invalid(c, child, ip ? ip : "",
                  "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
}

/* ValidateNonSpecialIP: endpoints may not point at these ranges. */
static void check_non_special_ip(struct vctx *c, const char *child, const char *ip)
{
    unsigned char a[16];
    char msg[96];
    if (inet_pton(AF_INET, ip, a) == 1) {
        if (!a[0] && !a[1] && !a[2] && !a[3]) {
            snprintf(msg, sizeof msg, "may not be unspecified (%s)", ip);
            v_invalid(c, child, ip, msg);
        }
        if (a[0] == 127)
            v_invalid(c, child, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)");
        if (a[0] == 169 && a[1] == 254)
            v_invalid(c, child, ip,
                      "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
        if (a[0] == 224 && a[1] == 0 && a[2] == 0)
            v_invalid(c, child, ip,
                      "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    } else if (inet_pton(AF_INET6, ip, a) == 1) {
        static const unsigned char zero[16], loop[16] = {[15] = 1};
        if (!memcmp(a, zero, 16)) {
            snprintf(msg, sizeof msg, "may not be unspecified (%s)", ip);
            v_invalid(c, child, ip, msg);
        }
        if (!memcmp(a, loop, 16))
            v_invalid(c, child, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)");
        if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
            v_invalid(c, child, ip,
                      "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
        if (a[0] == 0xff && (a[1] & 0x0f) == 0x02)
            v_invalid(c, child, ip,
                      "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    }
}

/* A quantity's text, as a string value (numbers printed as given). */
static const char *quantity_text(json_t *q, char *buf, size_t len)
{
    if (json_is_string(q))
        return json_string_value(q);
    if (json_is_integer(q))
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(q));
    else
        snprintf(buf, len, "%g", json_real_value(q));
    return buf;
}

static bool quantity_value(json_t *q, double *v)
{
    if (json_is_number(q)) {
        *v = json_number_value(q);
        return true;
    }
    return json_is_string(q) && kube_quantity_parse(json_string_value(q), v);
}

/* ==== ObjectMeta (apimachinery/pkg/api/validation/objectmeta.go) ==== */

/* Pushes child when set; the mark pops either way. */
static size_t vp_enter(struct vctx *c, const char *child)
{
    return child ? vp_child(c, child) : c->len;
}

/* ValidateLabels: key and value errors both at the map's path. */
static void check_labels(struct vctx *c, const char *child, json_t *labels)
{
    if (!json_is_object(labels))
        return;
    size_t mark = vp_enter(c, child);
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v) {
        struct msgs km = {0}, vm = {0};
        is_qualified_name(k, &km);
        v_invalid_each(c, NULL, k, &km);
        const char *val = json_is_string(v) ? json_string_value(v) : "";
        is_label_value(val, &vm);
        v_invalid_each(c, NULL, val, &vm);
    }
    vp_pop(c, mark);
}

#define ANNOTATIONS_MAX_BYTES (256 * 1024)

static void check_annotations(struct vctx *c, const char *child, json_t *ann)
{
    if (!json_is_object(ann))
        return;
    size_t mark = vp_enter(c, child), total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(ann, k, v) {
        /* A qualified name, except that case does not matter. */
        char *lower = xstrdup(k);
        for (char *p = lower; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        struct msgs ms = {0};
        is_qualified_name(lower, &ms);
        v_invalid_each(c, NULL, k, &ms);
        free(lower);
        total += strlen(k) + (json_is_string(v) ? json_string_length(v) : 0);
    }
    if (total > ANNOTATIONS_MAX_BYTES)
        v_too_long(c, NULL, ANNOTATIONS_MAX_BYTES);
    vp_pop(c, mark);
}

/* Events may not own anything: the garbage collector would chase them. */
static bool banned_owner(const char *api_version, const char *kind)
{
    return strcmp(kind, "Event") == 0 &&
           (strcmp(api_version, "v1") == 0 || strcmp(api_version, "events.k8s.io/v1") == 0);
}

static void check_owner_reference(struct vctx *c, json_t *ref)
{
    const char *api_version = jstr0(ref, "apiVersion"), *slash = strchr(api_version, '/');
    const char *version = slash ? slash + 1 : api_version;
    if (!*version || strchr(version, '/'))
        v_invalid(c, "apiVersion", api_version, "version must not be empty");
    if (!*jstr0(ref, "kind"))
        v_invalid(c, "kind", "", "kind must not be empty");
    if (!*jstr0(ref, "name"))
        v_invalid(c, "name", "", "name must not be empty");
    if (!*jstr0(ref, "uid"))
        v_invalid(c, "uid", "", "uid must not be empty");
    if (banned_owner(api_version, jstr0(ref, "kind"))) {
        char detail[128];
        snprintf(detail, sizeof detail, "%s, Kind=Event is disallowed from being an owner",
                 strcmp(api_version, "v1") == 0 ? "/v1" : "events.k8s.io/v1");
        v_invalid_go(c, NULL, go_json, ref, detail);
    }
}

static void check_owner_references(struct vctx *c, json_t *refs)
{
    if (!refs)
        return;
    size_t mark = vp_child(c, "ownerReferences");
    char first[300] = "";
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref) {
        check_owner_reference(c, ref);
        if (!jtrue(ref, "controller"))
            continue;
        char cur[300];
        snprintf(cur, sizeof cur, "%.140s/%.140s", jstr0(ref, "kind"), jstr0(ref, "name"));
        if (!first[0]) {
            snprintf(first, sizeof first, "%s", cur);
            continue;
        }
        char detail[700];
        snprintf(detail, sizeof detail,
                 "Only one reference can have Controller set to true. Found \"true\" in "
                 "references for %s and %s",
                 first, cur);
        v_invalid_go(c, NULL, go_json, refs, detail);
    }
    vp_pop(c, mark);
}

static void check_finalizers(struct vctx *c, json_t *finalizers)
{
    static const char *const standard[] = {"kubernetes", "orphan", "foregroundDeletion", NULL};
    if (!finalizers)
        return;
    size_t mark = vp_child(c, "finalizers");
    bool orphan = false, foreground = false;
    size_t i;
    json_t *f;
    json_array_foreach(finalizers, i, f) {
        const char *name = json_is_string(f) ? json_string_value(f) : "";
        check_qualified_name(c, NULL, name);
        orphan |= strcmp(name, "orphan") == 0;
        foreground |= strcmp(name, "foregroundDeletion") == 0;
        if (!strchr(name, '/') && !str_in(name, standard)) {
            size_t m = vp_index(c, i);
            v_invalid(c, NULL, name,
                      "name is neither a standard finalizer name nor is it fully qualified");
            vp_pop(c, m);
        }
    }
    if (orphan && foreground)
        v_invalid_go(c, NULL, go_strings, finalizers,
                     "finalizer orphan and foregroundDeletion cannot be both set");
    vp_pop(c, mark);
}

/* ValidateObjectMeta: name (or generateName), namespace scope, labels,
 * annotations, owner references, finalizers. */
static void check_object_meta(struct vctx *c, json_t *md, bool namespaced, name_fn name_rule)
{
    size_t mark = vp_child(c, "metadata");
    struct msgs ms = {0};
    const char *generate = jstr0(md, "generateName"), *name = jstr0(md, "name");
    if (*generate) {
        name_rule(generate, true, &ms);
        v_invalid_each(c, "generateName", generate, &ms);
    }
    if (!*name) {
        v_required(c, "name", "name or generateName is required");
    } else {
        memset(&ms, 0, sizeof ms);
        name_rule(name, false, &ms);
        v_invalid_each(c, "name", name, &ms);
    }
    const char *ns = jstr0(md, "namespace");
    if (namespaced && !*ns) {
        v_required(c, "namespace", "");
    } else if (namespaced) {
        memset(&ms, 0, sizeof ms);
        name_label(ns, false, &ms);
        v_invalid_each(c, "namespace", ns, &ms);
    } else if (*ns) {
        v_forbidden(c, "namespace", "not allowed on this type");
    }
    check_nonnegative(c, md, "generation");
    check_labels(c, "labels", jget(md, "labels"));
    check_annotations(c, "annotations", jget(md, "annotations"));
    check_owner_references(c, jarr(md, "ownerReferences"));
    check_finalizers(c, jarr(md, "finalizers"));
    vp_pop(c, mark);
}

/* ValidateImmutableField for a string member. */
static void check_immutable_str(struct vctx *c, const char *child, json_t *cur, json_t *old)
{
    const char *now = jstr0(cur, child), *was = jstr0(old, child);
    if (strcmp(now, was) != 0)
        v_invalid(c, child, now, immutable_msg);
}

/* ValidateObjectMetaUpdate: identity and creation are immutable; a
 * deleted object takes no new finalizers. */
static void check_object_meta_update(struct vctx *c, json_t *md, json_t *old_md)
{
    size_t mark = vp_child(c, "metadata");
    static const char *const immutable[] = {"name", "namespace", "uid", "creationTimestamp"};
    for (size_t i = 0; i < sizeof immutable / sizeof immutable[0]; i++)
        check_immutable_str(c, immutable[i], md, old_md);
    json_t *added = json_array();
    json_t *now = jarr(md, "finalizers"), *was = jarr(old_md, "finalizers");
    size_t i, j;
    json_t *f, *g;
    json_array_foreach(now, i, f) {
        bool found = false;
        json_array_foreach(was, j, g)
            found |= json_equal(f, g);
        if (!found && json_is_string(f))
            json_array_append(added, f);
    }
    if (jstr(old_md, "deletionTimestamp") && json_array_size(added)) {
        struct ubuf d = {0};
        ubuf_appendf(&d, "no new finalizers can be added if the object is being deleted, found "
                         "new finalizers ");
        go_strings(&d, added);
        v_forbidden(c, "finalizers", d.data);
        ubuf_free(&d);
    }
    json_decref(added);
    vp_pop(c, mark);
}

/* ==== label selectors (meta/v1 validation and LabelSelectorAsSelector) ==== */

static const char *const selector_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};

static void check_selector_requirement(struct vctx *c, json_t *req)
{
    const char *op = jstr0(req, "operator");
    size_t nvalues = jsize(req, "values");
    if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
        if (nvalues == 0)
            v_required(c, "values", "must be specified when `operator` is 'In' or 'NotIn'");
    } else if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
        if (nvalues > 0)
            v_forbidden(c, "values",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else {
        v_invalid(c, "operator", op, "not a valid selector operator");
    }
    check_qualified_name(c, "key", jstr0(req, "key"));
    json_t *values = jarr(req, "values");
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";
        struct msgs ms = {0};
        is_label_value(s, &ms);
        size_t mark = vp_child(c, "values"), m2 = vp_index(c, i);
        v_invalid_each(c, NULL, s, &ms);
        vp_pop(c, m2);
        vp_pop(c, mark);
    }
}

/* ValidateLabelSelector at child (nothing when the selector is unset). */
static void check_label_selector(struct vctx *c, const char *child, json_t *sel)
{
    if (!sel)
        return;
    size_t mark = vp_enter(c, child);
    check_labels(c, "matchLabels", jget(sel, "matchLabels"));
    json_t *exprs = jarr(sel, "matchExpressions");
    size_t i;
    json_t *req;
    json_array_foreach(exprs, i, req) {
        size_t m1 = vp_child(c, "matchExpressions"), m2 = vp_index(c, i);
        check_selector_requirement(c, req);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    vp_pop(c, mark);
}

static bool selector_is_empty(json_t *sel)
{
    return sel && jsize(sel, "matchLabels") == 0 && jsize(sel, "matchExpressions") == 0;
}

/* Whether LabelSelectorAsSelector accepts sel (every requirement valid). */
static bool selector_parses(json_t *sel)
{
    struct msgs ms = {0};
    const char *k;
    json_t *v;
    json_object_foreach(jobj(sel, "matchLabels"), k, v) {
        is_qualified_name(k, &ms);
        is_label_value(json_is_string(v) ? json_string_value(v) : "", &ms);
    }
    size_t i, j;
    json_t *req, *val;
    json_array_foreach(jarr(sel, "matchExpressions"), i, req) {
        const char *op = jstr0(req, "operator");
        size_t n = jsize(req, "values");
        if (!str_in(op, selector_ops))
            return false;
        if ((n == 0) != (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0))
            return false;
        is_qualified_name(jstr0(req, "key"), &ms);
        json_array_foreach(jarr(req, "values"), j, val)
            is_label_value(json_is_string(val) ? json_string_value(val) : "", &ms);
    }
    return ms.n == 0;
}

/* Whether sel selects labels; an unset selector selects nothing
 * (kube/selector.c, as LabelSelectorAsSelector). */
static bool selector_matches(json_t *sel, json_t *labels)
{
    char err[256];
    struct kube_selector *ks = kube_selector_from_json(sel, err, sizeof err);
    bool m = ks && kube_selector_match(ks, labels);
    kube_selector_free(ks);
    return m;
}

/* A workload's selector against its template, at "template.metadata.labels"
 * under the current path: an empty selector selects everything, an unset
 * one nothing (LabelSelectorAsSelector's Everything and Nothing). */
static void check_selector_selects_template(struct vctx *c, json_t *sel, json_t *template)
{
    if (selector_is_empty(sel))
        return;
    json_t *labels = jobj(jobj(template, "metadata"), "labels");
    if (selector_matches(sel, labels))
        return;
    size_t m1 = vp_child(c, "template"), m2 = vp_child(c, "metadata");
    v_invalid_go(c, "labels", go_map, labels, "`selector` does not match template `labels`");
    vp_pop(c, m2);
    vp_pop(c, m1);
}

/* ==== pod specs (core/validation: ValidatePodSpec and its parts) ==== */

static const char file_mode_msg[] = "must be a number between 0 and 0777 (octal), both inclusive";

static size_t cause_count(const struct vctx *c)
{
    return c->causes ? json_array_size(c->causes) : 0;
}

static void check_file_mode(struct vctx *c, json_t *o, const char *k)
{
    json_int_t mode;
    if (jint(o, k, &mode) && (mode < 0 || mode > 0777))
        v_invalid_int(c, k, mode, file_mode_msg);
}

/* validateLocalDescendingPath: relative, no "..". */
static void check_local_descending_path(struct vctx *c, const char *child, const char *path)
{
    if (path[0] == '/')
        v_invalid(c, child, path, "must be a relative path");
    for (const char *p = path; p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            v_invalid(c, child, path, "must not contain '..'");
            break;
        }
        p = slash ? slash + 1 : NULL;
    }
}

static void check_key_to_path(struct vctx *c, json_t *item)
{
    const char *path = jstr0(item, "path");
    if (!*jstr0(item, "key"))
        v_required(c, "key", "");
    if (!*path)
        v_required(c, "path", "");
    check_local_descending_path(c, "path", path);
    if (strncmp(path, "..", 2) == 0)
        v_invalid(c, "path", path, "must not start with '..'");
    check_file_mode(c, item, "mode");
}

static void check_items(struct vctx *c, json_t *src)
{
    size_t i;
    json_t *item;
    json_array_foreach(jarr(src, "items"), i, item) {
        size_t m1 = vp_child(c, "items"), m2 = vp_index(c, i);
        check_key_to_path(c, item);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
}

static void check_src_host_path(struct vctx *c, json_t *src)
{
    static const char *const types[] = {
        "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
        "File", "FileOrCreate", "Socket",     NULL};
    const char *path = jstr0(src, "path");
    if (!*path)
        v_required(c, "path", "");
    else if (strstr(path, ".."))
        check_local_descending_path(c, "path", path[0] == '/' ? path + 1 : path);
    const char *type = jstr(src, "type");
    if (type && !str_in(type, types))
        v_unsupported(c, "type", type, types);
}

static void check_src_secret(struct vctx *c, json_t *src)
{
    if (!*jstr0(src, "secretName"))
        v_required(c, "secretName", "");
    check_file_mode(c, src, "defaultMode");
    check_items(c, src);
}

static void check_src_config_map(struct vctx *c, json_t *src)
{
    if (!*jstr0(src, "name"))
        v_required(c, "name", "");
    check_file_mode(c, src, "defaultMode");
    check_items(c, src);
}

static void check_src_pvc(struct vctx *c, json_t *src)
{
    if (!*jstr0(src, "claimName"))
        v_required(c, "claimName", "");
}

static void check_src_nfs(struct vctx *c, json_t *src)
{
    const char *path = jstr0(src, "path");
    if (!*jstr0(src, "server"))
        v_required(c, "server", "");
    if (!*path)
        v_required(c, "path", "");
    if (path[0] != '/')
        v_invalid(c, "path", path, "must be an absolute path");
}

static void check_src_empty_dir(struct vctx *c, json_t *src)
{
    double size;
    if (quantity_value(jget(src, "sizeLimit"), &size) && size < 0)
        v_forbidden(c, "sizeLimit", "SizeLimit field must be a valid resource quantity");
}

static void check_src_mode_only(struct vctx *c, json_t *src)
{
    check_file_mode(c, src, "defaultMode");
}

static void check_src_ephemeral(struct vctx *c, json_t *src)
{
    if (!jobj(src, "volumeClaimTemplate"))
        v_required(c, "volumeClaimTemplate", "");
}

/* The sources whose internals are checked; the others only count. */
static const struct {
    const char *name;
    void (*check)(struct vctx *c, json_t *src);
} volume_source_checks[] = {
    {"hostPath", check_src_host_path},
    {"secret", check_src_secret},
    {"configMap", check_src_config_map},
    {"persistentVolumeClaim", check_src_pvc},
    {"nfs", check_src_nfs},
    {"emptyDir", check_src_empty_dir},
    {"downwardAPI", check_src_mode_only},
    {"projected", check_src_mode_only},
    {"ephemeral", check_src_ephemeral},
};

static void check_volume_source_member(struct vctx *c, const char *name, json_t *src)
{
    for (size_t i = 0; i < sizeof volume_source_checks / sizeof volume_source_checks[0]; i++) {
        if (strcmp(volume_source_checks[i].name, name) == 0) {
            size_t mark = vp_child(c, name);
            volume_source_checks[i].check(c, json_is_object(src) ? src : NULL);
            vp_pop(c, mark);
        }
    }
}

/* Exactly one source: the inline members of the schema type (Volume's
 * VolumeSource, PersistentVolumeSpec's PersistentVolumeSource). */
static void check_volume_sources(struct vctx *c, json_t *holder, const char *type_name)
{
    const struct kube_type *t = kube_schema_type(type_name);
    int n = 0;
    for (unsigned i = 0; t && i < t->n_fields; i++) {
        const struct kube_field *f = &t->fields[i];
        json_t *src = jget(holder, f->name);
        if (!f->inlined || !src)
            continue;
        if (n++ > 0) {
            v_forbidden(c, f->name, "may not specify more than 1 volume type");
            continue;
        }
        check_volume_source_member(c, f->name, src);
    }
    if (n == 0)
        v_required(c, NULL, "must specify a volume type");
}

/* ValidateVolumes: returns the names of the valid volumes (a JSON object
 * used as a set), which volume mounts must name. */
static json_t *check_volumes(struct vctx *c, json_t *spec)
{
    json_t *names = json_object();
    size_t mark = vp_child(c, "volumes"), i;
    json_t *vol;
    json_array_foreach(jarr(spec, "volumes"), i, vol) {
        size_t mi = vp_index(c, i), before = cause_count(c);
        const char *name = jstr0(vol, "name");
        check_volume_sources(c, vol, "io.k8s.api.core.v1.Volume");
        if (!*name)
            v_required(c, "name", "");
        else
            check_dns_label(c, "name", name);
        if (json_object_get(names, name))
            v_duplicate(c, "name", name);
        if (cause_count(c) == before)
            json_object_set_new(names, name, json_true());
        vp_pop(c, mi);
    }
    vp_pop(c, mark);
    return names;
}

/* ---- containers ---- */

static const char *const protocols[] = {"SCTP", "TCP", "UDP", NULL};

static void check_container_ports(struct vctx *c, json_t *ctr)
{
    json_t *names = json_object();
    size_t mark = vp_child(c, "ports"), i;
    json_t *port;
    json_array_foreach(jarr(ctr, "ports"), i, port) {
        size_t mi = vp_index(c, i);
        const char *name = jstr0(port, "name");
        if (*name) {
            struct msgs ms = {0};
            is_port_name(name, &ms);
            if (ms.n)
                v_invalid_each(c, "name", name, &ms);
            else if (json_object_get(names, name))
                v_duplicate(c, "name", name);
            else
                json_object_set_new(names, name, json_true());
        }
        json_int_t cp = jint0(port, "containerPort"), hp = jint0(port, "hostPort");
        if (cp == 0)
            v_required(c, "containerPort", "");
        else
            check_port_num(c, "containerPort", cp);
        if (hp != 0)
            check_port_num(c, "hostPort", hp);
        const char *proto = jstr0(port, "protocol");
        if (!*proto)
            v_required(c, "protocol", "");
        else if (!str_in(proto, protocols))
            v_unsupported(c, "protocol", proto, protocols);
        vp_pop(c, mi);
    }
    vp_pop(c, mark);
    json_decref(names);
}

/* checkHostPortConflicts: hostIP/protocol/hostPort unique across the
 * containers given; seen accumulates. */
static void check_host_ports(struct vctx *c, json_t *containers, size_t only, json_t *seen)
{
    size_t i, j;
    json_t *ctr, *port;
    json_array_foreach(containers, i, ctr) {
        if (only != (size_t)-1 && i != only)
            continue;
        json_array_foreach(jarr(ctr, "ports"), j, port) {
            json_int_t hp = jint0(port, "hostPort");
            if (hp == 0)
                continue;
            char key[300];
            snprintf(key, sizeof key, "%.128s/%.64s/%" JSON_INTEGER_FORMAT, jstr0(port, "hostIP"),
                     jstr0(port, "protocol"), hp);
            if (json_object_get(seen, key)) {
                size_t m1 = vp_index(c, i), m2 = vp_child(c, "ports"), m3 = vp_index(c, j);
                v_duplicate(c, "hostPort", key);
                vp_pop(c, m3);
                vp_pop(c, m2);
                vp_pop(c, m1);
            } else {
                json_object_set_new(seen, key, json_true());
            }
        }
    }
}

static void check_key_selector(struct vctx *c, const char *child, json_t *sel)
{
    size_t mark = vp_child(c, child);
    struct msgs ms = {0};
    const char *name = jstr0(sel, "name"), *key = jstr0(sel, "key");
    is_dns1123_subdomain(name, &ms);
    v_invalid_each(c, "name", name, &ms);
    if (!*key) {
        v_required(c, "key", "");
    } else {
        memset(&ms, 0, sizeof ms);
        is_config_map_key(key, &ms);
        v_invalid_each(c, "key", key, &ms);
    }
    vp_pop(c, mark);
}

static void check_env_value_from(struct vctx *c, json_t *ev)
{
    json_t *from = jobj(ev, "valueFrom");
    if (!from)
        return;
    size_t mark = vp_child(c, "valueFrom");
    static const char *const sources[] = {"fieldRef", "resourceFieldRef", "configMapKeyRef",
                                          "secretKeyRef"};
    int n = 0;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        n += jget(from, sources[i]) != NULL;
    json_t *field_ref = jobj(from, "fieldRef");
    if (field_ref) {
        size_t m = vp_child(c, "fieldRef");
        if (!*jstr0(field_ref, "apiVersion"))
            v_required(c, "apiVersion", "");
        else if (!*jstr0(field_ref, "fieldPath"))
            v_required(c, "fieldPath", "");
        vp_pop(c, m);
    }
    if (jobj(from, "resourceFieldRef") && !*jstr0(jobj(from, "resourceFieldRef"), "resource")) {
        size_t m = vp_child(c, "resourceFieldRef");
        v_required(c, "resource", "");
        vp_pop(c, m);
    }
    if (jobj(from, "configMapKeyRef"))
        check_key_selector(c, "configMapKeyRef", jobj(from, "configMapKeyRef"));
    if (jobj(from, "secretKeyRef"))
        check_key_selector(c, "secretKeyRef", jobj(from, "secretKeyRef"));
    if (n == 0)
        v_invalid(c, NULL, "",
                  "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or "
                  "`secretKeyRef`");
    else if (*jstr0(ev, "value"))
        v_invalid(c, NULL, "", "may not be specified when `value` is not empty");
    else if (n > 1)
        v_invalid(c, NULL, "", "may not have more than one field specified at a time");
    vp_pop(c, mark);
}

static void check_env(struct vctx *c, json_t *ctr)
{
    size_t mark = vp_child(c, "env"), i;
    json_t *ev;
    json_array_foreach(jarr(ctr, "env"), i, ev) {
        size_t mi = vp_index(c, i);
        const char *name = jstr0(ev, "name");
        struct msgs ms = {0};
        if (!*name)
            v_required(c, "name", "");
        is_env_var_name(name, &ms);
        v_invalid_each(c, "name", name, &ms);
        check_env_value_from(c, ev);
        vp_pop(c, mi);
    }
    vp_pop(c, mark);
}

static void check_env_from_ref(struct vctx *c, const char *child, json_t *ref)
{
    size_t mark = vp_child(c, child);
    const char *name = jstr0(ref, "name");
    if (!*name) {
        v_required(c, "name", "");
    } else {
        struct msgs ms = {0};
        is_dns1123_subdomain(name, &ms);
        v_invalid_each(c, "name", name, &ms);
    }
    vp_pop(c, mark);
}

static void check_env_from(struct vctx *c, json_t *ctr)
{
    size_t mark = vp_child(c, "envFrom"), i;
    json_t *ef;
    json_array_foreach(jarr(ctr, "envFrom"), i, ef) {
        size_t mi = vp_index(c, i);
        const char *prefix = jstr(ef, "prefix");
        if (prefix && *prefix) {
            struct msgs ms = {0};
            is_env_var_name(prefix, &ms);
            v_invalid_each(c, "prefix", prefix, &ms);
        }
        int n = 0;
        if (jobj(ef, "configMapRef")) {
            n++;
            check_env_from_ref(c, "configMapRef", jobj(ef, "configMapRef"));
        }
        if (jobj(ef, "secretRef")) {
            n++;
            check_env_from_ref(c, "secretRef", jobj(ef, "secretRef"));
        }
        vp_pop(c, mi);
        if (n == 0)
            v_invalid(c, NULL, "", "must specify one of: `configMapRef` or `secretRef`");
        else if (n > 1)
            v_invalid(c, NULL, "", "may not have more than one field specified at a time");
    }
    vp_pop(c, mark);
}

static void check_volume_mounts(struct vctx *c, json_t *ctr, json_t *volumes)
{
    json_t *paths = json_object();
    size_t mark = vp_child(c, "volumeMounts"), i;
    json_t *mnt;
    json_array_foreach(jarr(ctr, "volumeMounts"), i, mnt) {
        size_t mi = vp_index(c, i);
        const char *name = jstr0(mnt, "name"), *path = jstr0(mnt, "mountPath");
        if (!*name)
            v_required(c, "name", "");
        if (!json_object_get(volumes, name))
            v_not_found(c, "name", name);
        if (!*path)
            v_required(c, "mountPath", "");
        if (json_object_get(paths, path))
            v_invalid(c, "mountPath", path, "must be unique");
        json_object_set_new(paths, path, json_true());
        vp_pop(c, mi);
        /* Kubernetes reports these two at the list's path, not the entry's. */
        const char *sub = jstr0(mnt, "subPath"), *expr = jstr0(mnt, "subPathExpr");
        if (*sub)
            check_local_descending_path(c, "subPath", sub);
        if (*expr) {
            if (*sub) {
                size_t m = vp_index(c, i);
                v_invalid(c, "subPathExpr", expr, "subPathExpr and subPath are mutually exclusive");
                vp_pop(c, m);
            }
            check_local_descending_path(c, "subPathExpr", expr);
        }
    }
    vp_pop(c, mark);
    json_decref(paths);
}

static const char *const pull_policies[] = {"Always", "IfNotPresent", "Never", NULL};

static void check_pull_policy(struct vctx *c, json_t *ctr)
{
    const char *p = jstr0(ctr, "imagePullPolicy");
    if (!*p)
        v_required(c, "imagePullPolicy", "");
    else if (!str_in(p, pull_policies))
        v_unsupported(c, "imagePullPolicy", p, pull_policies);
}

/* ---- resources ---- */

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_hugepages(const char *name)
{
    return has_prefix(name, "hugepages-");
}

/* IsNativeResource: no domain, or a kubernetes.io one. */
static bool is_native_resource(const char *name)
{
    return !strchr(name, '/') || strstr(name, "kubernetes.io/");
}

static bool overcommit_allowed(const char *name)
{
    return is_native_resource(name) && !is_hugepages(name);
}

/* validateContainerResourceName (with validateResourceName). */
static void check_container_resource_name(struct vctx *c, const char *name)
{
    static const char *const standard[] = {"cpu",
                                           "memory",
                                           "ephemeral-storage",
                                           "requests.cpu",
                                           "requests.memory",
                                           "requests.storage",
                                           "requests.ephemeral-storage",
                                           "limits.cpu",
                                           "limits.memory",
                                           "limits.ephemeral-storage",
                                           "pods",
                                           "services",
                                           "replicationcontrollers",
                                           "resourcequotas",
                                           "secrets",
                                           "configmaps",
                                           "persistentvolumeclaims",
                                           "storage",
                                           "services.nodeports",
                                           "services.loadbalancers",
                                           NULL};
    static const char *const container[] = {"cpu", "memory", "ephemeral-storage", NULL};
    struct msgs ms = {0};
    is_qualified_name(name, &ms);
    v_invalid_each(c, NULL, name, &ms);
    if (ms.n)
        return;
    if (!strchr(name, '/')) {
        if (!str_in(name, standard) && !is_hugepages(name))
            v_invalid(c, NULL, name, "must be a standard resource type or fully qualified");
        if (!str_in(name, container) && !is_hugepages(name))
            v_invalid(c, NULL, name, "must be a standard resource for containers");
    } else if (!is_native_resource(name) && has_prefix(name, "requests.")) {
        v_invalid(c, NULL, name, "doesn't follow extended resource name standard");
    }
}

/* ValidateResourceQuantityValue: not negative; whole for extended resources. */
static void check_resource_quantity(struct vctx *c, const char *name, json_t *q)
{
    double v;
    char buf[48];
    if (!quantity_value(q, &v))
        return;
    const char *text = quantity_text(q, buf, sizeof buf);
    if (v < 0)
        v_invalid(c, NULL, text, not_negative_msg);
    if (!is_native_resource(name) && v != (double)(long long)v)
        v_invalid(c, NULL, text, "must be an integer");
}

static void check_resources(struct vctx *c, json_t *ctr)
{
    json_t *res = jobj(ctr, "resources");
    json_t *limits = jobj(res, "limits"), *requests = jobj(res, "requests");
    size_t mark = vp_child(c, "resources");
    const char *k;
    json_t *q;
    json_object_foreach(limits, k, q) {
        size_t m1 = vp_child(c, "limits"), m2 = vp_key(c, k);
        check_container_resource_name(c, k);
        check_resource_quantity(c, k, q);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    json_object_foreach(requests, k, q) {
        size_t m1 = vp_child(c, "requests"), m2 = vp_key(c, k);
        check_container_resource_name(c, k);
        check_resource_quantity(c, k, q);
        vp_pop(c, m2);
        json_t *limit = json_object_get(limits, k);
        double req_v, lim_v;
        char rb[48], lb[48], detail[256];
        if (limit && quantity_value(q, &req_v) && quantity_value(limit, &lim_v)) {
            const char *rt = quantity_text(q, rb, sizeof rb),
                       *lt = quantity_text(limit, lb, sizeof lb);
            if (req_v != lim_v && !overcommit_allowed(k)) {
                snprintf(detail, sizeof detail, "must be equal to %s limit of %s", k, lt);
                v_invalid(c, NULL, rt, detail);
            } else if (req_v > lim_v) {
                snprintf(detail, sizeof detail, "must be less than or equal to %s limit of %s", k,
                         lt);
                v_invalid(c, NULL, rt, detail);
            }
        } else if (!limit && !overcommit_allowed(k)) {
            vp_pop(c, m1);
            m1 = c->len;
            v_required(c, "limits", "Limit must be set for non overcommitable resources");
        }
        vp_pop(c, m1);
    }
    vp_pop(c, mark);
}

/* ---- probes and lifecycle handlers ---- */

/* validateHandler: exactly one action; which ones depends on the holder. */
static void check_handler(struct vctx *c, json_t *h, const char *const *actions)
{
    int n = 0;
    for (size_t i = 0; actions[i]; i++) {
        json_t *a = jget(h, actions[i]);
        if (!a)
            continue;
        if (n++ > 0) {
            v_forbidden(c, actions[i], "may not specify more than 1 handler type");
            continue;
        }
        size_t mark = vp_child(c, actions[i]);
        if (strcmp(actions[i], "exec") == 0 && jsize(a, "command") == 0)
            v_required(c, "command", "");
        if (strcmp(actions[i], "httpGet") == 0) {
            static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
            const char *scheme = jstr0(a, "scheme");
            if (!*jstr0(a, "path"))
                v_required(c, "path", "");
            check_port_num_or_name(c, "port", jget(a, "port"));
            if (!str_in(scheme, schemes))
                v_unsupported(c, "scheme", scheme, schemes);
        }
        if (strcmp(actions[i], "tcpSocket") == 0)
            check_port_num_or_name(c, "port", jget(a, "port"));
        if (strcmp(actions[i], "grpc") == 0)
            check_port_num(c, "port", jint0(a, "port"));
        vp_pop(c, mark);
    }
    if (n == 0)
        v_required(c, NULL, "must specify a handler type");
}

enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };

static void check_probe(struct vctx *c, json_t *ctr, const char *which, enum probe_kind kind)
{
    static const char *const actions[] = {"exec", "httpGet", "tcpSocket", "grpc", NULL};
    json_t *probe = jobj(ctr, which);
    if (!probe)
        return;
    size_t mark = vp_child(c, which);
    check_handler(c, probe, actions);
    static const char *const counts[] = {"initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                         "successThreshold", "failureThreshold"};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        check_nonnegative(c, probe, counts[i]);
    json_int_t tgps, success;
    if (jint(probe, "terminationGracePeriodSeconds", &tgps) && tgps <= 0)
        v_invalid_int(c, "terminationGracePeriodSeconds", tgps, "must be greater than 0");
    if (kind == PROBE_READINESS && jget(probe, "terminationGracePeriodSeconds"))
        v_invalid_int(c, "terminationGracePeriodSeconds",
                      jint0(probe, "terminationGracePeriodSeconds"),
                      "must not be set for readinessProbes");
    if (kind != PROBE_READINESS && jint(probe, "successThreshold", &success) && success != 1)
        v_invalid_int(c, "successThreshold", success, "must be 1");
    vp_pop(c, mark);
}

static void check_lifecycle(struct vctx *c, json_t *ctr)
{
    static const char *const actions[] = {"exec", "httpGet", "tcpSocket", "sleep", NULL};
    json_t *lc = jobj(ctr, "lifecycle");
    if (!lc)
        return;
    size_t mark = vp_child(c, "lifecycle");
    static const char *const hooks[] = {"postStart", "preStop"};
    for (size_t i = 0; i < 2; i++) {
        json_t *h = jobj(lc, hooks[i]);
        if (!h)
            continue;
        size_t m = vp_child(c, hooks[i]);
        check_handler(c, h, actions);
        vp_pop(c, m);
    }
    vp_pop(c, mark);
}

/* validateContainerCommon: what every kind of container must satisfy. */
static void check_container_common(struct vctx *c, json_t *ctr, json_t *volumes)
{
    static const char *const policies[] = {"File", "FallbackToLogsOnError", NULL};
    const char *name = jstr0(ctr, "name"), *tmp = jstr0(ctr, "terminationMessagePolicy");
    if (!*name)
        v_required(c, "name", "");
    else
        check_dns_label(c, "name", name);
    if (!*jstr0(ctr, "image"))
        v_required(c, "image", "");
    if (!*tmp)
        v_required(c, "terminationMessagePolicy", "");
    else if (!str_in(tmp, policies))
        v_unsupported(c, "terminationMessagePolicy", tmp, policies);
    check_container_ports(c, ctr);
    check_env(c, ctr);
    check_env_from(c, ctr);
    check_volume_mounts(c, ctr, volumes);
    check_pull_policy(c, ctr);
    check_resources(c, ctr);
}

/* validateContainers: at least one; names unique; probes allowed. */
static void check_containers(struct vctx *c, json_t *spec, json_t *volumes, json_t *names)
{
    json_t *containers = jarr(spec, "containers");
    size_t mark = vp_child(c, "containers"), i;
    json_t *ctr;
    if (json_array_size(containers) == 0)
        v_required(c, NULL, "");
    json_array_foreach(containers, i, ctr) {
        size_t mi = vp_index(c, i);
        const char *name = jstr0(ctr, "name");
        check_container_common(c, ctr, volumes);
        if (json_object_get(names, name))
            v_duplicate(c, "name", name);
        else
            json_object_set_new(names, name, json_true());
        check_lifecycle(c, ctr);
        check_probe(c, ctr, "livenessProbe", PROBE_LIVENESS);
        check_probe(c, ctr, "readinessProbe", PROBE_READINESS);
        check_probe(c, ctr, "startupProbe", PROBE_STARTUP);
        if (jget(ctr, "restartPolicy"))
            v_forbidden(c, "restartPolicy", "may not be set for non-init containers");
        vp_pop(c, mi);
    }
    json_t *seen = json_object();
    check_host_ports(c, containers, (size_t)-1, seen);
    json_decref(seen);
    vp_pop(c, mark);
}

/* validateInitContainers: names unique with the app containers; sidecars
 * (restartPolicy Always) may have probes and hooks, the others not. */
static void check_init_containers(struct vctx *c, json_t *spec, json_t *volumes, json_t *names)
{
    static const char *const restart[] = {"Always", NULL};
    static const char without[] = "may not be set for init containers without restartPolicy=Always";
    json_t *containers = jarr(spec, "initContainers");
    size_t mark = vp_child(c, "initContainers"), i;
    json_t *ctr;
    json_array_foreach(containers, i, ctr) {
        size_t mi = vp_index(c, i);
        const char *name = jstr0(ctr, "name"), *policy = jstr(ctr, "restartPolicy");
        check_container_common(c, ctr, volumes);
        if (policy && !str_in(policy, restart))
            v_unsupported(c, "restartPolicy", policy, restart);
        if (json_object_get(names, name))
            v_duplicate(c, "name", name);
        else if (*name)
            json_object_set_new(names, name, json_true());
        vp_pop(c, mi);
        json_t *seen = json_object();
        check_host_ports(c, containers, i, seen);
        json_decref(seen);
        mi = vp_index(c, i);
        if (policy && strcmp(policy, "Always") == 0) {
            check_lifecycle(c, ctr);
            check_probe(c, ctr, "livenessProbe", PROBE_LIVENESS);
            check_probe(c, ctr, "readinessProbe", PROBE_READINESS);
            check_probe(c, ctr, "startupProbe", PROBE_STARTUP);
        } else {
            if (jget(ctr, "lifecycle"))
                v_forbidden(c, "lifecycle", without);
            if (jget(ctr, "livenessProbe"))
                v_forbidden(c, "livenessProbe", without);
            if (jget(ctr, "readinessProbe"))
                v_forbidden(c, "readinessProbe", "may not be set for init containers");
            if (jget(ctr, "startupProbe"))
                v_forbidden(c, "startupProbe", without);
        }
        vp_pop(c, mi);
    }
    vp_pop(c, mark);
}

/* ---- the rest of the pod spec ---- */

static const char *const restart_policies[] = {"Always", "OnFailure", "Never", NULL};

static void check_enum(struct vctx *c, json_t *o, const char *k, const char *const *valid)
{
    const char *v = jstr0(o, k);
    if (!*v)
        v_required(c, k, "");
    else if (!str_in(v, valid))
        v_unsupported(c, k, v, valid);
}

/* A toleration as %#v prints core.Toleration. */
static void go_toleration(struct ubuf *b, json_t *t)
{
    ubuf_appendf(b, "core.Toleration{Key:");
    go_quote(b, jstr0(t, "key"));
    ubuf_appendf(b, ", Operator:");
    go_quote(b, jstr0(t, "operator"));
    ubuf_appendf(b, ", Value:");
    go_quote(b, jstr0(t, "value"));
    ubuf_appendf(b, ", Effect:");
    go_quote(b, jstr0(t, "effect"));
    json_int_t secs;
    if (jint(t, "tolerationSeconds", &secs))
        ubuf_appendf(b, ", TolerationSeconds:&%" JSON_INTEGER_FORMAT "}", secs);
    else
        ubuf_appendf(b, ", TolerationSeconds:(*int64)(nil)}");
}

static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

static void check_tolerations(struct vctx *c, json_t *tolerations)
{
    static const char *const operators[] = {"Equal", "Exists", NULL};
    size_t i;
    json_t *t;
    json_array_foreach(tolerations, i, t) {
        size_t mi = vp_index(c, i);
        const char *key = jstr0(t, "key"), *op = jstr0(t, "operator"), *effect = jstr0(t, "effect");
        const char *value = jstr0(t, "value");
        if (*key)
            check_qualified_name(c, "key", key);
        if (!*key && strcmp(op, "Exists") != 0)
            v_invalid(c, "operator", op,
                      "operator must be Exists when `key` is empty, which means \"match all "
                      "values and all keys\"");
        if (jget(t, "tolerationSeconds") && strcmp(effect, "NoExecute") != 0)
            v_invalid(c, "effect", effect,
                      "effect must be 'NoExecute' when `tolerationSeconds` is set");
        if (!*op || strcmp(op, "Equal") == 0) {
            struct msgs ms = {0};
            is_label_value(value, &ms);
            if (ms.n) {
                char joined[1300] = "";
                for (int m = 0; m < ms.n; m++)
                    snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s",
                             m ? ";" : "", ms.m[m]);
                v_invalid(c, "operator", value, joined);
            }
        } else if (strcmp(op, "Exists") == 0) {
            if (*value)
                v_invalid_go(c, "operator", go_toleration, t,
                             "value must be empty when `operator` is 'Exists'");
        } else {
            v_unsupported(c, "operator", op, operators);
        }
        if (*effect && !str_in(effect, taint_effects))
            v_unsupported(c, "effect", effect, taint_effects);
        vp_pop(c, mi);
    }
}

static void check_dns_config(struct vctx *c, json_t *spec)
{
    json_t *cfg = jobj(spec, "dnsConfig");
    size_t mark = vp_child(c, "dnsConfig");
    if (strcmp(jstr0(spec, "dnsPolicy"), "None") == 0) {
        if (!cfg) {
            v_required(c, NULL, "must provide `dnsConfig` when `dnsPolicy` is None");
            vp_pop(c, mark);
            return;
        }
        if (jsize(cfg, "nameservers") == 0) {
            v_required(c, "nameservers",
                       "must provide at least one DNS nameserver when `dnsPolicy` is None");
            vp_pop(c, mark);
            return;
        }
    }
    json_t *servers = jarr(cfg, "nameservers"), *searches = jarr(cfg, "searches");
    if (json_array_size(servers) > 3)
        v_invalid_go(c, "nameservers", go_strings, servers,
                     "must not have more than 3 nameservers");
    size_t i, total = 0;
    json_t *e;
    json_array_foreach(servers, i, e) {
        size_t m1 = vp_child(c, "nameservers"), m2 = vp_index(c, i);
        check_ip(c, NULL, json_string_value(e));
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    if (json_array_size(searches) > 32)
        v_invalid_go(c, "searches", go_strings, searches,
                     "must not have more than 32 search paths");
    json_array_foreach(searches, i, e)
        total += json_string_length(e) + (i ? 1 : 0);
    if (total > 2048)
        v_invalid_go(
            c, "searches", go_strings, searches,
            "must not have more than 2048 characters (including spaces) in the search list");
    json_array_foreach(searches, i, e) {
        char search[300];
        snprintf(search, sizeof search, "%s", json_is_string(e) ? json_string_value(e) : "");
        size_t n = strlen(search);
        if (n && search[n - 1] == '.')
            search[n - 1] = '\0';
        size_t m1 = vp_child(c, "searches"), m2 = vp_index(c, i);
        check_subdomain(c, NULL, search);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    json_array_foreach(jarr(cfg, "options"), i, e) {
        if (*jstr0(e, "name"))
            continue;
        size_t m1 = vp_child(c, "options"), m2 = vp_index(c, i);
        v_required(c, NULL, "Option.Name must not be empty");
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    vp_pop(c, mark);
}

static const char *const preemption_policies[] = {"PreemptLowerPriority", "Never", NULL};

/* Optional names that must be DNS subdomains when set. */
static void check_optional_subdomain(struct vctx *c, json_t *o, const char *k)
{
    const char *v = jstr0(o, k);
    if (*v)
        check_subdomain(c, k, v);
}

/* ValidatePodSpec. extra_volumes: names a StatefulSet's claim templates
 * add (or NULL). */
static void check_pod_spec(struct vctx *c, json_t *spec, json_t *extra_volumes)
{
    static const char *const dns_policies[] = {"ClusterFirstWithHostNet", "ClusterFirst", "Default",
                                               "None", NULL};
    json_t *volumes = check_volumes(c, spec), *names = json_object();
    if (extra_volumes)
        json_object_update_missing(volumes, extra_volumes);
    check_containers(c, spec, volumes, names);
    check_init_containers(c, spec, volumes, names);
    json_decref(names);
    json_decref(volumes);
    check_enum(c, spec, "restartPolicy", restart_policies);
    check_enum(c, spec, "dnsPolicy", dns_policies);
    check_labels(c, "nodeSelector", jget(spec, "nodeSelector"));
    check_dns_config(c, spec);
    check_optional_subdomain(c, spec, "serviceAccountName");
    check_optional_subdomain(c, spec, "nodeName");
    json_int_t ads;
    if (jint(spec, "activeDeadlineSeconds", &ads) && (ads < 1 || ads > INT32_MAX))
        v_invalid_int(c, "activeDeadlineSeconds", ads,
                      "must be between 1 and 2147483647, inclusive");
    if (*jstr0(spec, "hostname"))
        check_dns_label(c, "hostname", jstr0(spec, "hostname"));
    if (*jstr0(spec, "subdomain"))
        check_dns_label(c, "subdomain", jstr0(spec, "subdomain"));
    size_t mark = vp_child(c, "tolerations");
    check_tolerations(c, jarr(spec, "tolerations"));
    vp_pop(c, mark);
    check_optional_subdomain(c, spec, "priorityClassName");
    const char *preempt = jstr(spec, "preemptionPolicy");
    if (preempt && !str_in(preempt, preemption_policies))
        v_unsupported(c, "preemptionPolicy", preempt, preemption_policies);
}

/* ValidatePodTemplateSpec at the current path ("spec.template"). Labels
 * and annotations are reported at "labels" and "annotations", as there. */
static void check_pod_template(struct vctx *c, json_t *template, json_t *extra_volumes)
{
    json_t *md = jobj(template, "metadata");
    check_labels(c, "labels", jget(md, "labels"));
    check_annotations(c, "annotations", jget(md, "annotations"));
    size_t mark = vp_child(c, "spec");
    json_t *spec = jobj(template, "spec");
    check_pod_spec(c, spec, extra_volumes);
    if (jsize(spec, "ephemeralContainers"))
        v_forbidden(c, "ephemeralContainers", "ephemeral containers not allowed in pod template");
    vp_pop(c, mark);
}

/* ==== Pod ==== */

static void check_pod(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec");
    check_pod_spec(c, spec, NULL);
    static const char *const lists[] = {"containers", "initContainers"};
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *ctr;
        json_array_foreach(jarr(spec, lists[l]), i, ctr) {
            const char *image = jstr0(ctr, "image");
            size_t n = strlen(image);
            if (n && (isspace((unsigned char)image[0]) || isspace((unsigned char)image[n - 1]))) {
                size_t m1 = vp_child(c, lists[l]), m2 = vp_index(c, i);
                v_invalid(c, "image", image, "must not have leading or trailing whitespace");
                vp_pop(c, m2);
                vp_pop(c, m1);
            }
        }
    }
    vp_pop(c, mark);
}

/* ValidateContainerUpdates: same containers, images still set. */
static bool check_container_updates(struct vctx *c, const char *list, json_t *now, json_t *was)
{
    size_t mark = vp_child(c, list);
    if (json_array_size(now) != json_array_size(was)) {
        v_forbidden(c, NULL, "pod updates may not add or remove containers");
        vp_pop(c, mark);
        return false;
    }
    size_t i;
    json_t *ctr;
    json_array_foreach(now, i, ctr) {
        const char *image = jstr0(ctr, "image");
        size_t n = strlen(image), m = vp_index(c, i);
        if (!n)
            v_required(c, "image", "");
        if (n && (isspace((unsigned char)image[0]) || isspace((unsigned char)image[n - 1])))
            v_invalid(c, "image", image, "must not have leading or trailing whitespace");
        vp_pop(c, m);
    }
    vp_pop(c, mark);
    return true;
}

/* validateOnlyAddedTolerations: each old one still there, but for
 * tolerationSeconds. */
static void check_added_tolerations(struct vctx *c, json_t *now, json_t *was)
{
    size_t i, j;
    json_t *o, *n;
    json_array_foreach(was, i, o) {
        bool found = false;
        json_array_foreach(now, j, n) {
            json_t *a = json_deep_copy(o), *b = json_deep_copy(n);
            if (json_is_object(a) && json_is_object(b)) {
                json_object_del(a, "tolerationSeconds");
                json_object_del(b, "tolerationSeconds");
            }
            found |= sem_equal(a, b);
            json_decref(a);
            json_decref(b);
        }
        if (!found) {
            v_forbidden(c, "tolerations",
                        "existing toleration can not be modified except its tolerationSeconds");
            return;
        }
    }
}

static const char pod_update_msg[] =
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)";

/* The first member of two specs that differs, for the message's diff. */
static const char *first_difference(json_t *a, json_t *b)
{
    const char *k;
    json_t *v;
    json_object_foreach(a, k, v) {
        if (!sem_equal(v, json_object_get(b, k)))
            return k;
    }
    json_object_foreach(b, k, v) {
        if (!sem_equal(v, json_object_get(a, k)))
            return k;
    }
    return "";
}

/* Copies the mutable parts of now into a clone of was's shape: what is
 * left different is forbidden. */
static void munge_images(json_t *munged, json_t *was, const char *list)
{
    json_t *m = jarr(munged, list), *w = jarr(was, list);
    for (size_t i = 0; i < json_array_size(m) && i < json_array_size(w); i++) {
        json_t *mc = json_array_get(m, i), *wc = json_array_get(w, i);
        json_t *image = json_object_get(wc, "image");
        if (!json_is_object(mc))
            continue;
        if (image)
            json_object_set(mc, "image", image);
        else
            json_object_del(mc, "image");
    }
}

static void munge_member(json_t *munged, json_t *was, const char *k)
{
    json_t *v = json_object_get(was, k);
    if (v)
        json_object_set(munged, k, v);
    else
        json_object_del(munged, k);
}

static void check_pod_update(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    size_t mark = vp_child(c, "spec");
    if (!check_container_updates(c, "containers", jarr(spec, "containers"),
                                 jarr(was, "containers")) ||
        !check_container_updates(c, "initContainers", jarr(spec, "initContainers"),
                                 jarr(was, "initContainers"))) {
        vp_pop(c, mark);
        return;
    }
    json_int_t now_ads, was_ads;
    bool has_now = jint(spec, "activeDeadlineSeconds", &now_ads);
    bool has_was = jint(was, "activeDeadlineSeconds", &was_ads);
    if (has_now && (now_ads < 0 || now_ads > INT32_MAX)) {
        v_invalid_int(c, "activeDeadlineSeconds", now_ads,
                      "must be between 0 and 2147483647, inclusive");
        vp_pop(c, mark);
        return;
    }
    if (has_now && has_was && was_ads < now_ads) {
        v_invalid_int(c, "activeDeadlineSeconds", now_ads,
                      "must be less than or equal to previous value");
        vp_pop(c, mark);
        return;
    }
    if (!has_now && has_was)
        v_invalid(c, "activeDeadlineSeconds", "null",
                  "must not update from a positive integer to nil value");
    json_t *munged = json_is_object(spec) ? json_deep_copy(spec) : json_object();
    munge_images(munged, was, "containers");
    munge_images(munged, was, "initContainers");
    munge_member(munged, was, "activeDeadlineSeconds");
    munge_member(munged, was, "tolerations");
    check_added_tolerations(c, jarr(spec, "tolerations"), jarr(was, "tolerations"));
    json_int_t was_tgps;
    if (jint(was, "terminationGracePeriodSeconds", &was_tgps) && was_tgps < 0 &&
        jint0(spec, "terminationGracePeriodSeconds") == 1)
        munge_member(munged, was, "terminationGracePeriodSeconds");
    if (!sem_equal(munged, was)) {
        char detail[sizeof pod_update_msg + 128];
        snprintf(detail, sizeof detail, "%s\n  spec.%.64s: changed", pod_update_msg,
                 first_difference(munged, was));
        v_forbidden(c, NULL, detail);
    }
    json_decref(munged);
    vp_pop(c, mark);
}

/* ==== core/v1: Service, Endpoints ==== */

/* The duplicate key of ValidateService: core.ServicePort{Protocol, Port}. */
static void go_service_port_key(struct ubuf *b, json_t *port)
{
    ubuf_appendf(b, "core.ServicePort{Name:\"\", Protocol:");
    go_quote(b, jstr0(port, "protocol"));
    ubuf_appendf(b,
                 ", AppProtocol:(*string)(nil), Port:%" JSON_INTEGER_FORMAT
                 ", TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
                 jint0(port, "port"));
}

static void check_service_port(struct vctx *c, json_t *port, bool require_name, json_t *names)
{
    const char *name = jstr0(port, "name"), *proto = jstr0(port, "protocol");
    if (require_name && !*name) {
        v_required(c, "name", "");
    } else if (*name) {
        check_dns_label(c, "name", name);
        if (json_object_get(names, name))
            v_duplicate(c, "name", name);
        else
            json_object_set_new(names, name, json_true());
    }
    check_port_num(c, "port", jint0(port, "port"));
    if (!*proto)
        v_required(c, "protocol", "");
    else if (!str_in(proto, protocols))
        v_unsupported(c, "protocol", proto, protocols);
    check_port_num_or_name(c, "targetPort", jget(port, "targetPort"));
    json_int_t node_port;
    if (jint(port, "nodePort", &node_port) && node_port != 0)
        check_port_num(c, "nodePort", node_port);
}

static void check_service_ports(struct vctx *c, json_t *spec)
{
    json_t *ports = jarr(spec, "ports"), *names = json_object(), *seen = json_object();
    json_t *node_ports = json_object();
    bool cluster_ip_type = strcmp(jstr0(spec, "type"), "ClusterIP") == 0;
    size_t mark = vp_child(c, "ports"), i;
    json_t *port;
    json_array_foreach(ports, i, port) {
        size_t mi = vp_index(c, i);
        check_service_port(c, port, json_array_size(ports) > 1, names);
        json_int_t np = jint0(port, "nodePort");
        char key[96];
        if (np && cluster_ip_type)
            v_forbidden(c, "nodePort", "may not be used when `type` is 'ClusterIP'");
        snprintf(key, sizeof key, "%.32s/%" JSON_INTEGER_FORMAT, jstr0(port, "protocol"), np);
        if (np && json_object_get(node_ports, key))
            v_duplicate_raw(c, "nodePort", strchr(key, '/') + 1, NULL);
        json_object_set_new(node_ports, key, json_true());
        snprintf(key, sizeof key, "%.32s/%" JSON_INTEGER_FORMAT, jstr0(port, "protocol"),
                 jint0(port, "port"));
        if (json_object_get(seen, key)) {
            struct ubuf r = {0};
            go_service_port_key(&r, port);
            v_duplicate_raw(c, NULL, r.data, NULL);
            ubuf_free(&r);
        }
        json_object_set_new(seen, key, json_true());
        vp_pop(c, mi);
    }
    vp_pop(c, mark);
    json_decref(names);
    json_decref(seen);
    json_decref(node_ports);
}

static void check_cluster_ips(struct vctx *c, json_t *spec)
{
    const char *ip = jstr0(spec, "clusterIP");
    json_t *ips = jarr(spec, "clusterIPs");
    if (*ip && strcmp(ip, "None") != 0)
        check_ip(c, "clusterIP", ip);
    if (!ips || json_array_size(ips) == 0)
        return;
    size_t mark = vp_child(c, "clusterIPs"), i;
    json_t *e;
    const char *first = json_string_value(json_array_get(ips, 0));
    if (*ip && (!first || strcmp(first, ip) != 0)) {
        size_t m = vp_index(c, 0);
        v_invalid(c, NULL, first ? first : "", "first value must match `clusterIP`");
        vp_pop(c, m);
    }
    bool none = false;
    json_array_foreach(ips, i, e) {
        const char *s = json_string_value(e);
        if (s && strcmp(s, "None") == 0) {
            none = true;
            continue;
        }
        size_t m = vp_index(c, i);
        check_ip(c, NULL, s);
        vp_pop(c, m);
    }
    if (json_array_size(ips) > 2)
        v_invalid_go(c, NULL, go_strings, ips, "may only hold up to 2 values");
    if (none && json_array_size(ips) > 1)
        v_invalid_go(c, NULL, go_strings, ips, "'None' must be the first and only value");
    vp_pop(c, mark);
}

static void check_ip_families(struct vctx *c, json_t *spec)
{
    static const char *const policies[] = {"PreferDualStack", "RequireDualStack", "SingleStack",
                                           NULL};
    static const char *const families[] = {"IPv4", "IPv6", NULL};
    const char *policy = jstr(spec, "ipFamilyPolicy");
    if (policy && !str_in(policy, policies))
        v_unsupported(c, "ipFamilyPolicy", policy, policies);
    json_t *list = jarr(spec, "ipFamilies");
    size_t mark = vp_child(c, "ipFamilies"), i;
    json_t *e;
    json_array_foreach(list, i, e) {
        const char *f = json_is_string(e) ? json_string_value(e) : "";
        size_t m = vp_index(c, i);
        if (!str_in(f, families))
            v_unsupported(c, NULL, f, families);
        for (size_t j = 0; j < i; j++)
            if (json_equal(json_array_get(list, j), e)) {
                v_duplicate(c, NULL, f);
                break;
            }
        vp_pop(c, m);
    }
    if (json_array_size(list) > 2)
        v_invalid_go(c, NULL, go_strings, list, "may specify no more than two IP families");
    vp_pop(c, mark);
}

static void check_service_traffic(struct vctx *c, json_t *spec)
{
    static const char *const policies[] = {"Cluster", "Local", NULL};
    const char *type = jstr0(spec, "type"), *etp = jstr0(spec, "externalTrafficPolicy");
    bool external = strcmp(type, "LoadBalancer") == 0 || strcmp(type, "NodePort") == 0 ||
                    (strcmp(type, "ClusterIP") == 0 && jsize(spec, "externalIPs") > 0);
    if (external && !*etp)
        v_required(c, "externalTrafficPolicy", "");
    else if (external && !str_in(etp, policies))
        v_unsupported(c, "externalTrafficPolicy", etp, policies);
    else if (!external && *etp)
        v_invalid(c, "externalTrafficPolicy", etp,
                  "may only be set for externally-accessible services");
    const char *itp = jstr(spec, "internalTrafficPolicy");
    if (itp && !str_in(itp, policies))
        v_unsupported(c, "internalTrafficPolicy", itp, policies);
}

static void check_service(struct vctx *c, json_t *obj)
{
    static const char *const types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
                                        NULL};
    static const char *const affinities[] = {"ClientIP", "None", NULL};
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec");
    const char *type = jstr0(spec, "type"), *ip = jstr0(spec, "clusterIP");
    bool headless = strcmp(ip, "None") == 0;
    if (jsize(spec, "ports") == 0 && !headless && strcmp(type, "ExternalName") != 0)
        v_required(c, "ports", "");
    if (strcmp(type, "LoadBalancer") == 0 && headless)
        v_invalid(c, "clusterIP", ip, "may not be set to 'None' for LoadBalancer services");
    if (strcmp(type, "NodePort") == 0 && headless)
        v_invalid(c, "clusterIP", ip, "may not be set to 'None' for NodePort services");
    if (strcmp(type, "ExternalName") == 0) {
        const char *name = jstr0(spec, "externalName");
        if (*ip)
            v_forbidden(c, "clusterIP", "must be empty for ExternalName services");
        if (!*name) {
            v_required(c, "externalName", "");
        } else {
            char trimmed[300];
            snprintf(trimmed, sizeof trimmed, "%s", name);
            size_t n = strlen(trimmed);
            if (n && trimmed[n - 1] == '.')
                trimmed[n - 1] = '\0';
            check_subdomain(c, "externalName", trimmed);
        }
    } else {
        check_cluster_ips(c, spec);
        check_ip_families(c, spec);
    }
    check_service_ports(c, spec);
    check_labels(c, "selector", jget(spec, "selector"));
    check_enum(c, spec, "sessionAffinity", affinities);
    const char *affinity = jstr0(spec, "sessionAffinity");
    json_t *cfg = jobj(spec, "sessionAffinityConfig");
    if (strcmp(affinity, "ClientIP") == 0) {
        json_t *client = jobj(cfg, "clientIP");
        json_int_t timeout;
        size_t m = vp_child(c, "sessionAffinityConfig");
        if (!cfg)
            v_required(c, NULL, "when session affinity type is ClientIP");
        else if (!client)
            v_required(c, "clientIP", "when session affinity type is ClientIP");
        else if (jint(client, "timeoutSeconds", &timeout) && (timeout <= 0 || timeout > 86400)) {
            size_t m2 = vp_child(c, "clientIP");
            v_invalid_int(c, "timeoutSeconds", timeout,
                          "must be greater than 0 and less than 86400");
            vp_pop(c, m2);
        }
        vp_pop(c, m);
    } else if (strcmp(affinity, "None") == 0 && cfg) {
        v_forbidden(c, "sessionAffinityConfig", "must not be set when session affinity is None");
    }
    size_t i;
    json_t *e;
    json_array_foreach(jarr(spec, "externalIPs"), i, e) {
        size_t m1 = vp_child(c, "externalIPs"), m2 = vp_index(c, i);
        const char *s = json_is_string(e) ? json_string_value(e) : "";
        if (!is_ip(s))
            check_ip(c, NULL, s);
        else
            check_non_special_ip(c, NULL, s);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    check_enum(c, spec, "type", types);
    check_service_traffic(c, spec);
    vp_pop(c, mark);
}

/* ValidateServiceUpdate: an allocated cluster IP stays. An empty one in
 * the update means "keep": the server copies it back, as the registry does. */
static void check_service_update(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    const char *ip = jstr0(spec, "clusterIP"), *old_ip = jstr0(was, "clusterIP");
    if (strcmp(jstr0(spec, "type"), "ExternalName") == 0 ||
        strcmp(jstr0(was, "type"), "ExternalName") == 0 || !*old_ip || !*ip ||
        (strcmp(ip, "None") == 0 && strcmp(old_ip, "None") == 0))
        return;
    if (strcmp(ip, old_ip) != 0) {
        size_t m1 = vp_child(c, "spec"), m2 = vp_child(c, "clusterIPs"), m3 = vp_index(c, 0);
        json_t *ips = jarr(spec, "clusterIPs");
        json_t *shown = ips ? json_incref(ips) : json_pack("[s]", ip);
        v_invalid_go(c, NULL, go_strings, shown, "may not change once set");
        json_decref(shown);
        vp_pop(c, m3);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
}

static void check_endpoint_address(struct vctx *c, json_t *addr)
{
    const char *ip = jstr0(addr, "ip");
    check_ip(c, "ip", ip);
    if (*jstr0(addr, "hostname"))
        check_dns_label(c, "hostname", jstr0(addr, "hostname"));
    json_t *node = jget(addr, "nodeName");
    if (json_is_string(node))
        check_subdomain(c, "nodeName", json_string_value(node));
    size_t m = vp_child(c, "ip");
    if (is_ip(ip))
        check_non_special_ip(c, NULL, ip);
    else
        v_invalid(c, NULL, ip, "must be a valid IP address");
    vp_pop(c, m);
}

static void check_endpoint_port(struct vctx *c, json_t *port, bool require_name)
{
    const char *name = jstr0(port, "name"), *proto = jstr0(port, "protocol");
    if (require_name && !*name)
        v_required(c, "name", "");
    else if (*name)
        check_dns_label(c, "name", name);
    check_port_num(c, "port", jint0(port, "port"));
    if (!*proto)
        v_required(c, "protocol", "");
    else if (!str_in(proto, protocols))
        v_unsupported(c, "protocol", proto, protocols);
}

static void check_endpoint_list(struct vctx *c, json_t *subset, const char *list)
{
    size_t i;
    json_t *e;
    json_array_foreach(jarr(subset, list), i, e) {
        size_t m1 = vp_child(c, list), m2 = vp_index(c, i);
        check_endpoint_address(c, e);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
}

static void check_endpoints(struct vctx *c, json_t *obj)
{
    size_t mark = vp_child(c, "subsets"), i, j;
    json_t *ss, *port;
    json_array_foreach(jarr(obj, "subsets"), i, ss) {
        size_t mi = vp_index(c, i);
        if (jsize(ss, "addresses") == 0 && jsize(ss, "notReadyAddresses") == 0)
            v_required(c, NULL, "must specify `addresses` or `notReadyAddresses`");
        check_endpoint_list(c, ss, "addresses");
        check_endpoint_list(c, ss, "notReadyAddresses");
        json_array_foreach(jarr(ss, "ports"), j, port) {
            size_t m1 = vp_child(c, "ports"), m2 = vp_index(c, j);
            check_endpoint_port(c, port, jsize(ss, "ports") > 1);
            vp_pop(c, m2);
            vp_pop(c, m1);
        }
        vp_pop(c, mi);
    }
    vp_pop(c, mark);
}

/* ==== core/v1: Namespace, Node, ConfigMap, Secret ==== */

static void check_namespace(struct vctx *c, json_t *obj)
{
    static const char *const phases[] = {"Active", "Terminating", NULL};
    size_t mark = vp_child(c, "spec"), i;
    json_t *f;
    json_array_foreach(jarr(jobj(obj, "spec"), "finalizers"), i, f) {
        const char *name = json_is_string(f) ? json_string_value(f) : "";
        size_t m = vp_child(c, "finalizers");
        check_qualified_name(c, NULL, name);
        if (!strchr(name, '/') && strcmp(name, "kubernetes") != 0 && strcmp(name, "orphan") != 0 &&
            strcmp(name, "foregroundDeletion") != 0)
            v_invalid(c, NULL, name,
                      "name is neither a standard finalizer name nor is it fully qualified");
        vp_pop(c, m);
    }
    vp_pop(c, mark);
    const char *phase = jstr(jobj(obj, "status"), "phase");
    if (phase && *phase && !str_in(phase, phases)) {
        size_t m = vp_child(c, "status");
        v_unsupported(c, "phase", phase, phases);
        vp_pop(c, m);
    }
}

/* A taint as %#v prints core.Taint. */
static void go_taint(struct ubuf *b, json_t *t)
{
    ubuf_appendf(b, "core.Taint{Key:");
    go_quote(b, jstr0(t, "key"));
    ubuf_appendf(b, ", Value:");
    go_quote(b, jstr0(t, "value"));
    ubuf_appendf(b, ", Effect:");
    go_quote(b, jstr0(t, "effect"));
    ubuf_appendf(b, ", TimeAdded:(*v1.Time)(nil)}");
}

static void check_taints(struct vctx *c, json_t *taints)
{
    json_t *seen = json_object();
    size_t i;
    json_t *t;
    json_array_foreach(taints, i, t) {
        size_t mi = vp_index(c, i);
        const char *key = jstr0(t, "key"), *value = jstr0(t, "value"), *effect = jstr0(t, "effect");
        struct msgs ms = {0};
        check_qualified_name(c, "key", key);
        is_label_value(value, &ms);
        if (ms.n)
            v_invalid(c, "value", value, ms.m[0]);
        if (!*effect)
            v_required(c, "effect", "");
        else if (!str_in(effect, taint_effects))
            v_unsupported(c, "effect", effect, taint_effects);
        char k[400];
        snprintf(k, sizeof k, "%.64s\n%.300s", effect, key);
        if (json_object_get(seen, k)) {
            struct ubuf r = {0};
            go_taint(&r, t);
            v_duplicate_raw(c, NULL, r.data, "taints must be unique by key and effect pair");
            ubuf_free(&r);
        }
        json_object_set_new(seen, k, json_true());
        vp_pop(c, mi);
    }
    json_decref(seen);
}

static void check_node(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec"), i;
    json_t *e;
    size_t m = vp_child(c, "taints");
    check_taints(c, jarr(spec, "taints"));
    vp_pop(c, m);
    json_array_foreach(jarr(spec, "podCIDRs"), i, e) {
        const char *cidr = json_is_string(e) ? json_string_value(e) : "";
        size_t m1 = vp_child(c, "podCIDRs"), m2 = vp_index(c, i);
        if (!is_cidr(cidr))
            v_invalid(c, NULL, cidr,
                      "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)");
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    vp_pop(c, mark);
}

/* ValidateNodeUpdate: podCIDRs and providerID only go from unset to set. */
static void check_node_update(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    size_t mark = vp_child(c, "spec");
    if (jsize(was, "podCIDRs") && !sem_equal(jget(spec, "podCIDRs"), jget(was, "podCIDRs")))
        v_forbidden(c, "podCIDRs", "node updates may not change podCIDR except from \"\" to valid");
    if (*jstr0(was, "providerID") &&
        strcmp(jstr0(was, "providerID"), jstr0(spec, "providerID")) != 0)
        v_forbidden(c, "providerID",
                    "node updates may not change providerID except from \"\" to valid");
    vp_pop(c, mark);
}

#define MAX_SECRET_SIZE (1024 * 1024)

/* Keys of data maps: config keys, at "<member>[<key>]". */
static void check_data_keys(struct vctx *c, json_t *data, const char *member, json_t *other,
                            const char *other_msg)
{
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v) {
        struct msgs ms = {0};
        size_t m1 = vp_child(c, member), m2 = vp_key(c, k);
        is_config_map_key(k, &ms);
        v_invalid_each(c, NULL, k, &ms);
        if (other && json_object_get(other, k))
            v_invalid(c, NULL, k, other_msg);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
}

/* Decoded size of a base64 value. */
static size_t base64_size(json_t *v)
{
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    size_t pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
    return n / 4 * 3 - (pad <= n / 4 * 3 ? pad : 0);
}

static void check_config_map(struct vctx *c, json_t *obj)
{
    json_t *data = jobj(obj, "data"), *binary = jobj(obj, "binaryData");
    check_data_keys(c, data, "data", binary, "duplicate of key present in binaryData");
    check_data_keys(c, binary, "binaryData", NULL, NULL);
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v)
        total += json_string_length(v);
    json_object_foreach(binary, k, v)
        total += base64_size(v);
    if (total > MAX_SECRET_SIZE)
        v_too_long(c, NULL, MAX_SECRET_SIZE);
}

/* ConfigMap and Secret updates once immutable is set. */
static void check_immutable_data(struct vctx *c, json_t *obj, json_t *old,
                                 const char *const *members)
{
    static const char msg[] = "field is immutable when `immutable` is set";
    if (!jtrue(old, "immutable"))
        return;
    if (!jtrue(obj, "immutable"))
        v_forbidden(c, "immutable", msg);
    for (size_t i = 0; members[i]; i++)
        if (!sem_equal(jget(obj, members[i]), jget(old, members[i])))
            v_forbidden(c, members[i], msg);
}

static void check_config_map_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const members[] = {"data", "binaryData", NULL};
    check_immutable_data(c, obj, old, members);
}

/* The keys a Secret of each type must hold. */
static const struct {
    const char *type;
    const char *keys[2];
    bool either; /* one of the keys suffices (basic-auth) */
} secret_types[] = {
    {"kubernetes.io/dockercfg", {".dockercfg"}, false},
    {"kubernetes.io/dockerconfigjson", {".dockerconfigjson"}, false},
    {"kubernetes.io/basic-auth", {"username", "password"}, true},
    {"kubernetes.io/ssh-auth", {"ssh-privatekey"}, false},
    {"kubernetes.io/tls", {"tls.crt", "tls.key"}, false},
};

static void check_secret_type(struct vctx *c, json_t *obj, json_t *data)
{
    const char *type = jstr0(obj, "type");
    if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
        if (!*jstr0(jobj(jobj(obj, "metadata"), "annotations"),
                    "kubernetes.io/service-account.name")) {
            size_t m1 = vp_child(c, "metadata"), m2 = vp_child(c, "annotations"),
                   m3 = vp_key(c, "kubernetes.io/service-account.name");
            v_required(c, NULL, "");
            vp_pop(c, m3);
            vp_pop(c, m2);
            vp_pop(c, m1);
        }
        return;
    }
    for (size_t i = 0; i < sizeof secret_types / sizeof secret_types[0]; i++) {
        if (strcmp(secret_types[i].type, type) != 0)
            continue;
        bool any = false;
        for (size_t k = 0; k < 2 && secret_types[i].keys[k]; k++)
            any |= json_object_get(data, secret_types[i].keys[k]) != NULL;
        for (size_t k = 0; k < 2 && secret_types[i].keys[k]; k++) {
            const char *key = secret_types[i].keys[k];
            if (json_object_get(data, key) || (secret_types[i].either && any))
                continue;
            size_t m1 = vp_child(c, "data"), m2 = vp_key(c, key);
            v_required(c, NULL, "");
            vp_pop(c, m2);
            vp_pop(c, m1);
        }
    }
}

static void check_secret(struct vctx *c, json_t *obj)
{
    json_t *data = jobj(obj, "data");
    check_data_keys(c, data, "data", NULL, NULL);
    size_t total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(data, k, v)
        total += base64_size(v);
    if (total > MAX_SECRET_SIZE)
        v_too_long(c, "data", MAX_SECRET_SIZE);
    check_secret_type(c, obj, data);
}

static void check_secret_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const members[] = {"data", NULL};
    check_immutable_str(c, "type", obj, old);
    check_immutable_data(c, obj, old, members);
}

/* ==== core/v1: PersistentVolume, PersistentVolumeClaim ==== */

static const char *const access_modes[] = {"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce",
                                           "ReadWriteOncePod", NULL};
static const char *const volume_modes[] = {"Block", "Filesystem", NULL};

static void check_access_modes(struct vctx *c, json_t *spec, const char *required_msg)
{
    json_t *modes = jarr(spec, "accessModes");
    if (json_array_size(modes) == 0)
        v_required(c, "accessModes", required_msg);
    bool once_pod = false, other = false;
    size_t i;
    json_t *e;
    json_array_foreach(modes, i, e) {
        const char *m = json_is_string(e) ? json_string_value(e) : "";
        if (!str_in(m, access_modes))
            v_unsupported(c, "accessModes", m, access_modes);
        if (strcmp(m, "ReadWriteOncePod") == 0)
            once_pod = true;
        else
            other = true;
    }
    if (once_pod && other)
        v_forbidden(c, "accessModes", "may not use ReadWriteOncePod with other access modes");
}

static void check_pv(struct vctx *c, json_t *obj)
{
    static const char *const reclaim[] = {"Delete", "Recycle", "Retain", NULL};
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec");
    check_access_modes(c, spec, "must specify at least 1 access mode");
    json_t *capacity = jobj(spec, "capacity");
    if (!capacity || json_object_size(capacity) == 0) {
        v_required(c, "capacity", "");
    } else if (!json_object_get(capacity, "storage") || json_object_size(capacity) > 1) {
        static const char *const storage[] = {"storage", NULL};
        struct ubuf r = {0};
        go_json(&r, capacity);
        v_unsupported_raw(c, "capacity", r.data, storage);
        ubuf_free(&r);
    } else {
        double v;
        if (quantity_value(json_object_get(capacity, "storage"), &v) && v <= 0) {
            char buf[48];
            size_t m1 = vp_child(c, "capacity"), m2 = vp_key(c, "storage");
            v_invalid(c, NULL, quantity_text(json_object_get(capacity, "storage"), buf, sizeof buf),
                      "must be greater than zero");
            vp_pop(c, m2);
            vp_pop(c, m1);
        }
    }
    check_volume_sources(c, spec, "io.k8s.api.core.v1.PersistentVolumeSpec");
    const char *policy = jstr(spec, "persistentVolumeReclaimPolicy");
    if (policy && !str_in(policy, reclaim))
        v_unsupported(c, "persistentVolumeReclaimPolicy", policy, reclaim);
    const char *mode = jstr(spec, "volumeMode");
    if (mode && !str_in(mode, volume_modes))
        v_unsupported(c, "volumeMode", mode, volume_modes);
    if (*jstr0(spec, "storageClassName"))
        check_subdomain(c, "storageClassName", jstr0(spec, "storageClassName"));
    vp_pop(c, mark);
}

/* ValidatePersistentVolumeUpdate: the volume source is fixed at creation. */
static void check_pv_update(struct vctx *c, json_t *obj, json_t *old)
{
    const struct kube_type *t = kube_schema_type("io.k8s.api.core.v1.PersistentVolumeSpec");
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    for (unsigned i = 0; t && i < t->n_fields; i++) {
        const char *name = t->fields[i].name;
        if (t->fields[i].inlined && !sem_equal(jget(spec, name), jget(was, name))) {
            size_t m = vp_child(c, "spec");
            v_forbidden(c, "persistentvolumesource",
                        "spec.persistentvolumesource is immutable after creation");
            vp_pop(c, m);
            break;
        }
    }
    if (strcmp(jstr0(spec, "volumeMode"), jstr0(was, "volumeMode")) != 0)
        v_invalid(c, "volumeMode", jstr0(spec, "volumeMode"), immutable_msg);
}

/* ValidatePersistentVolumeClaimSpec at the current path. */
static void check_pvc_spec(struct vctx *c, json_t *spec)
{
    check_access_modes(c, spec, "at least 1 access mode is required");
    check_label_selector(c, "selector", jobj(spec, "selector"));
    json_t *storage = jget(jobj(jobj(spec, "resources"), "requests"), "storage");
    size_t m1 = vp_child(c, "resources"), m2 = vp_key(c, "storage");
    double v;
    char buf[48];
    if (!storage)
        v_required(c, NULL, "");
    else if (quantity_value(storage, &v) && v <= 0)
        v_invalid(c, NULL, quantity_text(storage, buf, sizeof buf), "must be greater than zero");
    vp_pop(c, m2);
    vp_pop(c, m1);
    if (*jstr0(spec, "storageClassName"))
        check_subdomain(c, "storageClassName", jstr0(spec, "storageClassName"));
    const char *mode = jstr(spec, "volumeMode");
    if (mode && !str_in(mode, volume_modes))
        v_unsupported(c, "volumeMode", mode, volume_modes);
}

static void check_pvc(struct vctx *c, json_t *obj)
{
    size_t mark = vp_child(c, "spec");
    check_pvc_spec(c, jobj(obj, "spec"));
    vp_pop(c, mark);
}

/* ValidatePersistentVolumeClaimUpdate: the spec is fixed, but for a
 * volumeName set once and, on a bound claim, a storage request that grows. */
static void check_pvc_update(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    json_t *now_clone = spec ? json_deep_copy(spec) : json_object();
    json_t *was_clone = was ? json_deep_copy(was) : json_object();
    if (!*jstr0(was, "volumeName"))
        munge_member(was_clone, now_clone, "volumeName");
    bool bound = strcmp(jstr0(jobj(old, "status"), "phase"), "Bound") == 0;
    json_t *now_req = jobj(jobj(now_clone, "resources"), "requests");
    json_t *was_storage = jget(jobj(jobj(was, "resources"), "requests"), "storage");
    if (bound && now_req) {
        if (was_storage)
            json_object_set(now_req, "storage", was_storage);
        else
            json_object_del(now_req, "storage");
    }
    if (!sem_equal(now_clone, was_clone))
        v_forbidden(c, "spec",
                    "spec is immutable after creation except resources.requests for bound claims");
    double now_v, was_v;
    json_t *now_storage = jget(jobj(jobj(spec, "resources"), "requests"), "storage");
    if (quantity_value(now_storage, &now_v) && quantity_value(was_storage, &was_v) &&
        now_v < was_v) {
        size_t m1 = vp_child(c, "spec"), m2 = vp_child(c, "resources"),
               m3 = vp_child(c, "requests");
        v_forbidden(c, "storage", "field can not be less than previous value");
        vp_pop(c, m3);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    json_decref(now_clone);
    json_decref(was_clone);
}

/* ==== apps/v1 ==== */

static const char percent_msg[] =
    "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or "
    "'93%', regex used for validation is '[0-9]+%')";

/* getIntOrPercentValue: the number, percent or not. */
static long intstr_value(json_t *v, bool *percent)
{
    *percent = json_is_string(v);
    if (json_is_integer(v))
        return (long)json_integer_value(v);
    if (json_is_string(v) && is_percent(json_string_value(v)))
        return strtol(json_string_value(v), NULL, 10);
    return 0;
}

/* ValidatePositiveIntOrPercent and IsNotMoreThan100Percent. */
static void check_int_or_percent(struct vctx *c, json_t *o, const char *k, bool at_most_100)
{
    json_t *v = jget(o, k);
    bool percent;
    if (json_is_string(v) && !is_percent(json_string_value(v)))
        v_invalid_go(c, k, go_intstr, v, percent_msg);
    else if (json_is_integer(v) && json_integer_value(v) < 0)
        v_invalid_int(c, k, json_integer_value(v), not_negative_msg);
    if (at_most_100 && intstr_value(v, &percent) > 100 && percent)
        v_invalid_go(c, k, go_intstr, v, "must not be greater than 100%");
}

static bool intstr_zero(json_t *v)
{
    bool percent;
    return intstr_value(v, &percent) == 0;
}

/* %#v of apps.DeploymentStrategy / DaemonSetUpdateStrategy / ...: the type
 * and whether a rolling update is set. */
static void go_strategy(struct ubuf *b, const char *type_name, const char *ru_type, json_t *s)
{
    ubuf_appendf(b, "apps.%s{Type:", type_name);
    go_quote(b, jstr0(s, "type"));
    if (jobj(s, "rollingUpdate")) {
        ubuf_appendf(b, ", RollingUpdate:&apps.%s", ru_type);
        go_json(b, jobj(s, "rollingUpdate"));
        ubuf_append(b, "}", 1);
    } else {
        ubuf_appendf(b, ", RollingUpdate:(*apps.%s)(nil)}", ru_type);
    }
}

static void go_deployment_strategy(struct ubuf *b, json_t *s)
{
    go_strategy(b, "DeploymentStrategy", "RollingUpdateDeployment", s);
}

static void go_daemonset_strategy(struct ubuf *b, json_t *s)
{
    go_strategy(b, "DaemonSetUpdateStrategy", "RollingUpdateDaemonSet", s);
}

static void go_statefulset_strategy(struct ubuf *b, json_t *s)
{
    go_strategy(b, "StatefulSetUpdateStrategy", "RollingUpdateStatefulSetStrategy", s);
}

/* The selector checks every workload makes: required, valid, and not
 * empty; returns whether LabelSelectorAsSelector accepts it. */
static bool check_workload_selector(struct vctx *c, json_t *spec, const char *kind_name)
{
    json_t *sel = jobj(spec, "selector");
    if (!sel) {
        v_required(c, "selector", "");
        return true;
    }
    check_label_selector(c, "selector", sel);
    if (selector_is_empty(sel)) {
        char detail[64];
        snprintf(detail, sizeof detail, "empty selector is invalid for %s", kind_name);
        v_invalid_go(c, "selector", go_label_selector, sel, detail);
    }
    return selector_parses(sel);
}

/* Workload pods run until replaced: restartPolicy Always and no deadline,
 * at "template.spec" under the current path. A DaemonSet reports the
 * deadline as Invalid, the others as Forbidden. */
static void check_template_runs_forever(struct vctx *c, json_t *template, const char *kind)
{
    static const char *const always[] = {"Always", NULL};
    json_t *pod = jobj(template, "spec");
    const char *restart = jstr0(pod, "restartPolicy");
    char detail[64];
    snprintf(detail, sizeof detail, "activeDeadlineSeconds in %s is not Supported", kind);
    size_t m1 = vp_child(c, "template"), m2 = vp_child(c, "spec");
    if (strcmp(restart, "Always") != 0)
        v_unsupported(c, "restartPolicy", restart, always);
    json_t *ads = jget(pod, "activeDeadlineSeconds");
    if (ads && strcmp(kind, "DaemonSet") == 0)
        v_invalid_int(c, "activeDeadlineSeconds", jint0(pod, "activeDeadlineSeconds"), detail);
    else if (ads)
        v_forbidden(c, "activeDeadlineSeconds", detail);
    vp_pop(c, m2);
    vp_pop(c, m1);
}

/* ValidatePodTemplateSpecForReplicaSet, shared by Deployment and
 * ReplicaSet, at the current path "spec". */
static void check_replicaset_template(struct vctx *c, json_t *spec)
{
    json_t *template = jobj(spec, "template");
    if (!template) {
        v_required(c, "template", "");
        return;
    }
    check_selector_selects_template(c, jobj(spec, "selector"), template);
    size_t mark = vp_child(c, "template");
    check_pod_template(c, template, NULL);
    vp_pop(c, mark);
    check_template_runs_forever(c, template, "ReplicaSet");
}

static void check_deployment_strategy(struct vctx *c, json_t *spec)
{
    static const char *const types[] = {"Recreate", "RollingUpdate", NULL};
    json_t *s = jobj(spec, "strategy");
    const char *type = jstr0(s, "type");
    size_t mark = vp_child(c, "strategy");
    json_t *ru = jobj(s, "rollingUpdate");
    if (strcmp(type, "Recreate") == 0) {
        if (ru)
            v_forbidden(c, "rollingUpdate",
                        "may not be specified when strategy `type` is 'Recreate'");
    } else if (strcmp(type, "RollingUpdate") == 0) {
        if (!ru) {
            v_required(c, "rollingUpdate", "this should be defaulted and never be nil");
        } else {
            size_t m = vp_child(c, "rollingUpdate");
            check_int_or_percent(c, ru, "maxUnavailable", false);
            check_int_or_percent(c, ru, "maxSurge", false);
            if (intstr_zero(jget(ru, "maxUnavailable")) && intstr_zero(jget(ru, "maxSurge")))
                v_invalid_go(c, "maxUnavailable", go_intstr, jget(ru, "maxUnavailable"),
                             "may not be 0 when `maxSurge` is 0");
            check_int_or_percent(c, ru, "maxUnavailable", true);
            vp_pop(c, m);
        }
    } else {
        struct ubuf r = {0};
        go_deployment_strategy(&r, s);
        v_unsupported_raw(c, NULL, r.data, types);
        ubuf_free(&r);
    }
    vp_pop(c, mark);
}

static void check_deployment(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec");
    check_nonnegative(c, spec, "replicas");
    if (!check_workload_selector(c, spec, "deployment"))
        v_invalid_go(c, "selector", go_label_selector, jobj(spec, "selector"),
                     "invalid label selector");
    else
        check_replicaset_template(c, spec);
    check_deployment_strategy(c, spec);
    check_nonnegative(c, spec, "minReadySeconds");
    check_nonnegative(c, spec, "revisionHistoryLimit");
    json_int_t pds;
    if (jint(spec, "progressDeadlineSeconds", &pds)) {
        check_nonnegative(c, spec, "progressDeadlineSeconds");
        if (pds <= jint0(spec, "minReadySeconds"))
            v_invalid_int(c, "progressDeadlineSeconds", pds,
                          "must be greater than minReadySeconds");
    }
    vp_pop(c, mark);
}

static void check_replicaset(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec");
    check_nonnegative(c, spec, "replicas");
    check_nonnegative(c, spec, "minReadySeconds");
    if (!check_workload_selector(c, spec, "deployment"))
        v_invalid_go(c, "selector", go_label_selector, jobj(spec, "selector"),
                     "invalid label selector");
    else
        check_replicaset_template(c, spec);
    vp_pop(c, mark);
}

/* Deployment, ReplicaSet and DaemonSet updates: the selector is fixed
 * (apps/v1 strategies' ValidateUpdate). */
static void check_selector_immutable(struct vctx *c, json_t *obj, json_t *old)
{
    json_t *sel = jget(jobj(obj, "spec"), "selector"), *was = jget(jobj(old, "spec"), "selector");
    if (sem_equal(sel, was))
        return;
    size_t mark = vp_child(c, "spec");
    if (json_is_object(sel))
        v_invalid_go(c, "selector", go_label_selector, sel, immutable_msg);
    else
        v_invalid_raw(c, "selector", "\"null\"", immutable_msg);
    vp_pop(c, mark);
}

static void check_daemonset_strategy(struct vctx *c, json_t *spec)
{
    json_t *s = jobj(spec, "updateStrategy");
    const char *type = jstr0(s, "type");
    size_t mark = vp_child(c, "updateStrategy");
    if (strcmp(type, "RollingUpdate") == 0) {
        json_t *ru = jobj(s, "rollingUpdate");
        if (!ru) {
            v_required(c, "rollingUpdate", "");
        } else {
            size_t m = vp_child(c, "rollingUpdate");
            check_int_or_percent(c, ru, "maxUnavailable", false);
            check_int_or_percent(c, ru, "maxSurge", false);
            check_int_or_percent(c, ru, "maxUnavailable", true);
            check_int_or_percent(c, ru, "maxSurge", true);
            bool unavailable = !intstr_zero(jget(ru, "maxUnavailable"));
            bool surge = !intstr_zero(jget(ru, "maxSurge"));
            if (unavailable && surge)
                v_invalid_go(c, "maxSurge", go_intstr, jget(ru, "maxSurge"),
                             "may not be set when maxUnavailable is non-zero");
            else if (!unavailable && !surge)
                v_required(c, "maxUnavailable", "cannot be 0 when maxSurge is 0");
            vp_pop(c, m);
        }
    } else if (strcmp(type, "OnDelete") != 0) {
        static const char *const types[] = {"RollingUpdate", "OnDelete", NULL};
        struct ubuf r = {0};
        go_daemonset_strategy(&r, s);
        v_unsupported_raw(c, NULL, r.data, types);
        ubuf_free(&r);
    }
    vp_pop(c, mark);
}

static void check_daemonset(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec"), *sel = jobj(spec, "selector");
    json_t *template = jobj(spec, "template");
    size_t mark = vp_child(c, "spec");
    check_label_selector(c, "selector", sel);
    if ((!sel || selector_parses(sel)) && !selector_is_empty(sel))
        check_selector_selects_template(c, sel, template);
    if (selector_is_empty(sel))
        v_invalid_go(c, "selector", go_label_selector, sel,
                     "empty selector is invalid for daemonset");
    if (!template) {
        v_required(c, "template", "");
    } else {
        size_t m = vp_child(c, "template");
        check_pod_template(c, template, NULL);
        vp_pop(c, m);
        check_template_runs_forever(c, template, "DaemonSet");
    }
    check_nonnegative(c, spec, "minReadySeconds");
    check_daemonset_strategy(c, spec);
    check_nonnegative(c, spec, "revisionHistoryLimit");
    vp_pop(c, mark);
}

static void check_statefulset_strategy(struct vctx *c, json_t *spec)
{
    json_t *s = jobj(spec, "updateStrategy"), *ru = jobj(s, "rollingUpdate");
    const char *type = jstr0(s, "type");
    if (!*type) {
        v_required(c, "updateStrategy", "");
    } else if (strcmp(type, "OnDelete") == 0) {
        if (ru) {
            size_t m = vp_child(c, "updateStrategy");
            v_invalid_go(c, "rollingUpdate", go_json, ru,
                         "only allowed for updateStrategy 'RollingUpdate'");
            vp_pop(c, m);
        }
    } else if (strcmp(type, "RollingUpdate") == 0) {
        size_t m1 = vp_child(c, "updateStrategy"), m2 = vp_child(c, "rollingUpdate");
        check_nonnegative(c, ru, "partition");
        vp_pop(c, m2);
        vp_pop(c, m1);
    } else {
        v_invalid_go(c, "updateStrategy", go_statefulset_strategy, s,
                     "must be 'RollingUpdate' or 'OnDelete'");
    }
}

static void check_statefulset(struct vctx *c, json_t *obj)
{
    static const char *const retention[] = {"Retain", "Delete", NULL};
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec");
    const char *pmp = jstr0(spec, "podManagementPolicy");
    if (!*pmp)
        v_required(c, "podManagementPolicy", "");
    else if (strcmp(pmp, "OrderedReady") != 0 && strcmp(pmp, "Parallel") != 0)
        v_invalid(c, "podManagementPolicy", pmp, "must be 'OrderedReady' or 'Parallel'");
    check_statefulset_strategy(c, spec);
    json_t *policy = jobj(spec, "persistentVolumeClaimRetentionPolicy");
    if (policy) {
        size_t m = vp_child(c, "persistentVolumeClaimRetentionPolicy");
        static const char *const members[] = {"whenDeleted", "whenScaled"};
        for (size_t i = 0; i < 2; i++)
            if (!str_in(jstr0(policy, members[i]), retention))
                v_unsupported(c, members[i], jstr0(policy, members[i]), retention);
        vp_pop(c, m);
    }
    check_nonnegative(c, spec, "replicas");
    check_nonnegative(c, spec, "minReadySeconds");
    json_int_t start;
    if (jint(jobj(spec, "ordinals"), "start", &start) && start < 0)
        v_invalid_int(c, "ordinals.start", start, not_negative_msg);
    json_t *sel = jobj(spec, "selector"), *template = jobj(spec, "template");
    bool parses = check_workload_selector(c, spec, "statefulset");
    if (!parses) {
        v_invalid_go(c, "selector", go_label_selector, sel, NULL);
    } else if (!template) {
        v_required(c, "template", "");
    } else {
        /* ValidatePodTemplateSpecForStatefulSet: Kubernetes leaves the pod
         * spec itself unchecked here. */
        check_selector_selects_template(c, sel, template);
        size_t m = vp_child(c, "template");
        json_t *md = jobj(template, "metadata");
        check_labels(c, "labels", jget(md, "labels"));
        check_annotations(c, "annotations", jget(md, "annotations"));
        vp_pop(c, m);
    }
    if (template)
        check_template_runs_forever(c, template, "StatefulSet");
    vp_pop(c, mark);
}

/* ValidateStatefulSetUpdate: only some of the spec may change. */
static void check_statefulset_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const mutable[] = {"replicas",       "template",
                                          "updateStrategy", "minReadySeconds",
                                          "ordinals",       "persistentVolumeClaimRetentionPolicy"};
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    json_t *clone = spec ? json_deep_copy(spec) : json_object();
    for (size_t i = 0; i < sizeof mutable / sizeof mutable[0]; i++)
        munge_member(clone, was, mutable[i]);
    if (!sem_equal(clone, was))
        v_forbidden(c, "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                    "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
                    "'minReadySeconds' are forbidden");
    json_decref(clone);
}

static void check_controller_revision(struct vctx *c, json_t *obj)
{
    if (!jget(obj, "data"))
        v_required(c, "data", "data is mandatory");
    check_nonnegative(c, obj, "revision");
}

static void check_controller_revision_update(struct vctx *c, json_t *obj, json_t *old)
{
    if (!sem_equal(jget(obj, "data"), jget(old, "data")))
        v_invalid_go(c, "data", go_json, jget(obj, "data"), immutable_msg);
}

/* %#v of a scalar, or JSON for anything bigger; an unset pointer is "null"
 * as field.Error prints it. */
static void go_value(struct ubuf *b, json_t *v)
{
    if (json_is_string(v))
        go_quote(b, json_string_value(v));
    else if (json_is_integer(v))
        ubuf_appendf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_boolean(v))
        ubuf_appendf(b, "%s", json_is_true(v) ? "true" : "false");
    else if (!v || json_is_null(v))
        ubuf_appendf(b, "\"null\"");
    else
        go_json(b, v);
}

/* ValidateImmutableField for any member of now and was. */
static void check_immutable(struct vctx *c, const char *child, json_t *now, json_t *was)
{
    if (sem_equal(now, was))
        return;
    bool selector = json_is_object(now) && (json_object_get(now, "matchLabels") ||
                                            json_object_get(now, "matchExpressions"));
    v_invalid_go(c, child, selector ? go_label_selector : go_value, now, immutable_msg);
}

/* ==== batch/v1 ==== */

/* ---- cron schedules (robfig/cron/v3's ParseStandard) ---- */

struct cron_bounds {
    unsigned min, max;
    const char *const *names; /* names[i] stands for min + i... see cron_name */
};

static const char *const cron_months[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec", NULL};
static const char *const cron_days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL};

static const struct cron_bounds cron_fields[5] = {
    {0, 59, NULL}, {0, 23, NULL}, {1, 31, NULL}, {1, 12, cron_months}, {0, 6, cron_days},
};

/* strconv.Atoi and mustParseInt; false with the error in err. */
static bool cron_int(const char *s, long *out, char *err, size_t errlen)
{
    const char *p = s + (*s == '+' || *s == '-');
    bool ok = *p != '\0';
    for (const char *q = p; *q; q++)
        ok &= isdigit((unsigned char)*q) != 0;
    if (!ok || strlen(p) > 18) {
        struct ubuf q = {0};
        go_quote(&q, s);
        snprintf(err, errlen, "failed to parse int from %s: strconv.Atoi: parsing %s: %s", s,
                 q.data, ok ? "value out of range" : "invalid syntax");
        ubuf_free(&q);
        return false;
    }
    *out = strtol(s, NULL, 10);
    if (*out < 0) {
        snprintf(err, errlen, "negative number (%ld) not allowed: %s", *out, s);
        return false;
    }
    return true;
}

static bool cron_value(const char *s, const struct cron_bounds *b, long *out, char *err,
                       size_t errlen)
{
    for (size_t i = 0; b->names && b->names[i]; i++) {
        if (strcasecmp(s, b->names[i]) == 0) {
            *out = (long)(b->names == cron_months ? i + 1 : i);
            return true;
        }
    }
    return cron_int(s, out, err, errlen);
}

/* getRange: "*", "?", "a", "a-b", each with an optional "/step". */
static bool cron_range(const char *expr, const struct cron_bounds *b, char *err, size_t errlen)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", expr);
    char *slash = strchr(buf, '/');
    if (slash && strchr(slash + 1, '/')) {
        snprintf(err, errlen, "too many slashes: %s", expr);
        return false;
    }
    if (slash)
        *slash = '\0';
    long start, end, step = 1;
    bool single = !strchr(buf, '-');
    if (strcmp(buf, "*") == 0 || strcmp(buf, "?") == 0) {
        start = b->min;
        end = b->max;
    } else {
        char *dash = strchr(buf, '-');
        if (dash && strchr(dash + 1, '-')) {
            snprintf(err, errlen, "too many hyphens: %s", expr);
            return false;
        }
        if (dash)
            *dash = '\0';
        if (!cron_value(buf, b, &start, err, errlen))
            return false;
        end = start;
        if (dash && !cron_value(dash + 1, b, &end, err, errlen))
            return false;
    }
    if (slash) {
        if (!cron_int(slash + 1, &step, err, errlen))
            return false;
        if (single && strcmp(buf, "*") != 0 && strcmp(buf, "?") != 0)
            end = b->max;
    }
    if (start < (long)b->min)
        snprintf(err, errlen, "beginning of range (%ld) below minimum (%u): %s", start, b->min,
                 expr);
    else if (end > (long)b->max)
        snprintf(err, errlen, "end of range (%ld) above maximum (%u): %s", end, b->max, expr);
    else if (start > end)
        snprintf(err, errlen, "beginning of range (%ld) beyond end of range (%ld): %s", start, end,
                 expr);
    else if (step == 0)
        snprintf(err, errlen, "step of range should be a positive number: %s", expr);
    else
        return true;
    return false;
}

/* time.ParseDuration's syntax, for "@every <duration>": NULL when s
 * parses, else Go's error (without the quoted input) in err. */
static const char *go_duration_error(const char *s, char *err, size_t errlen)
{
    static const char *const units[] = {"ns", "us", "\xc2\xb5s", "\xce\xbcs", "ms",
                                        "s",  "m",  "h",         NULL};
    const char *p = s + (*s == '+' || *s == '-');
    if (strcmp(p, "0") == 0)
        return NULL;
    if (!*p)
        return "time: invalid duration";
    while (*p) {
        const char *num = p;
        while (isdigit((unsigned char)*p))
            p++;
        bool digits = p > num;
        if (*p == '.') {
            const char *frac = ++p;
            while (isdigit((unsigned char)*p))
                p++;
            digits |= p > frac;
        }
        if (!digits)
            return "time: invalid duration";
        const char *unit = p;
        while (*p && *p != '.' && !isdigit((unsigned char)*p))
            p++;
        if (p == unit)
            return "time: missing unit in duration";
        struct ubuf q = {0};
        ubuf_append(&q, unit, (size_t)(p - unit));
        bool known = str_in(q.data, units);
        if (!known) {
            struct ubuf u = {0};
            go_quote(&u, q.data);
            snprintf(err, errlen, "time: unknown unit %s in duration", u.data);
            ubuf_free(&u);
        }
        ubuf_free(&q);
        if (!known)
            return err;
    }
    return NULL;
}

static bool cron_descriptor(const char *spec, char *err, size_t errlen)
{
    static const char *const known[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                        "@daily",  "@midnight", "@hourly",  NULL};
    if (str_in(spec, known))
        return true;
    if (strncmp(spec, "@every ", 7) == 0) {
        char why[128];
        const char *e = go_duration_error(spec + 7, why, sizeof why);
        if (!e)
            return true;
        struct ubuf q = {0};
        go_quote(&q, spec + 7);
        snprintf(err, errlen, "failed to parse duration %s: %s %s", spec, e, q.data);
        ubuf_free(&q);
        return false;
    }
    snprintf(err, errlen, "unrecognized descriptor: %s", spec);
    return false;
}

/* cron.ParseStandard: NULL when spec parses, else the error text in err. */
static const char *cron_parse(const char *spec, char *err, size_t errlen)
{
    if (!*spec)
        return "empty spec string";
    if (strncmp(spec, "TZ=", 3) == 0 || strncmp(spec, "CRON_TZ=", 8) == 0) {
        const char *space = strchr(spec, ' ');
        if (!space) {
            snprintf(err, errlen, "provided bad location %s: unknown time zone",
                     strchr(spec, '=') + 1);
            return err;
        }
        while (*space == ' ')
            space++;
        spec = space;
    }
    if (spec[0] == '@')
        return cron_descriptor(spec, err, errlen) ? NULL : err;
    char *copy = xstrdup(spec), *save = NULL;
    char *fields[6];
    size_t n = 0, total = 0;
    struct ubuf joined = {0};
    for (char *tok = strtok_r(copy, " \t\n\r\v\f", &save); tok;
         tok = strtok_r(NULL, " \t\n\r\v\f", &save)) {
        if (n < 6)
            fields[n++] = tok;
        ubuf_appendf(&joined, "%s%s", total++ ? " " : "", tok);
    }
    const char *result = NULL;
    if (total != 5) {
        snprintf(err, errlen, "expected exactly 5 fields, found %zu: [%s]", total,
                 joined.data ? joined.data : "");
        result = err;
    }
    for (size_t f = 0; !result && f < 5; f++) {
        char *save2 = NULL;
        for (char *r = strtok_r(fields[f], ",", &save2); r && !result;
             r = strtok_r(NULL, ",", &save2))
            if (!cron_range(r, &cron_fields[f], err, errlen))
                result = err;
    }
    ubuf_free(&joined);
    free(copy);
    return result;
}

/* ---- Job and CronJob ---- */

static void check_job_restart_policy(struct vctx *c, json_t *spec)
{
    static const char *const allowed[] = {"OnFailure", "Never", NULL};
    const char *restart = jstr0(jobj(jobj(spec, "template"), "spec"), "restartPolicy");
    size_t m1 = vp_child(c, "template"), m2 = vp_child(c, "spec");
    if (!*restart || strcmp(restart, "Always") == 0)
        v_required(c, "restartPolicy", "valid values: \"OnFailure\", \"Never\"");
    else if (!str_in(restart, allowed))
        v_unsupported(c, "restartPolicy", restart, allowed);
    else if (jobj(spec, "podFailurePolicy") && strcmp(restart, "Never") != 0)
        v_invalid(c, "restartPolicy", restart,
                  "only \"Never\" is supported when podFailurePolicy is specified");
    vp_pop(c, m2);
    vp_pop(c, m1);
}

/* validateJobSpec, at the current path (a Job's "spec" or a CronJob's
 * "spec.jobTemplate.spec"). */
static void check_job_spec(struct vctx *c, json_t *spec)
{
    static const char *const counts[] = {"parallelism", "completions", "activeDeadlineSeconds",
                                         "backoffLimit", "ttlSecondsAfterFinished"};
    static const char *const modes[] = {"NonIndexed", "Indexed", NULL};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        check_nonnegative(c, spec, counts[i]);
    const char *mode = jstr(spec, "completionMode");
    if (mode && !str_in(mode, modes))
        v_unsupported(c, "completionMode", mode, modes);
    if (mode && strcmp(mode, "Indexed") == 0) {
        json_int_t parallelism;
        if (!jget(spec, "completions"))
            v_required(c, "completions", "when completion mode is Indexed");
        if (jint(spec, "parallelism", &parallelism) && parallelism > 100000)
            v_invalid_int(c, "parallelism", parallelism,
                          "must be less than or equal to 100000 when completion mode is Indexed");
    }
    const char *replacement = jstr(spec, "podReplacementPolicy");
    if (replacement) {
        static const char *const failed[] = {"Failed", NULL};
        static const char *const all[] = {"Failed", "TerminatingOrFailed", NULL};
        const char *const *valid = jobj(spec, "podFailurePolicy") ? failed : all;
        if (!str_in(replacement, valid))
            v_unsupported(c, "podReplacementPolicy", replacement, valid);
    }
    json_t *template = jobj(spec, "template");
    if (!template) {
        v_required(c, "template", "");
        return;
    }
    size_t mark = vp_child(c, "template");
    check_pod_template(c, template, NULL);
    vp_pop(c, mark);
    check_job_restart_policy(c, spec);
}

static void check_job(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec"), *sel = jobj(spec, "selector");
    size_t mark = vp_child(c, "spec");
    check_job_spec(c, spec);
    /* The server generates the selector (controller-uid) when the client
     * does not set one; a given selector must select the template. */
    if (sel) {
        check_label_selector(c, "selector", sel);
        if (selector_parses(sel) &&
            !selector_matches(sel, jobj(jobj(jobj(spec, "template"), "metadata"), "labels"))) {
            size_t m1 = vp_child(c, "template"), m2 = vp_child(c, "metadata");
            v_invalid_go(c, "labels", go_map,
                         jobj(jobj(jobj(spec, "template"), "metadata"), "labels"),
                         "`selector` does not match template `labels`");
            vp_pop(c, m2);
            vp_pop(c, m1);
        }
    }
    vp_pop(c, mark);
    json_int_t completions;
    if (strcmp(jstr0(spec, "completionMode"), "Indexed") == 0 &&
        jint(spec, "completions", &completions) && completions > 0) {
        const char *name = jstr0(jobj(obj, "metadata"), "name");
        char host[128];
        struct msgs ms = {0};
        snprintf(host, sizeof host, "%.100s-%" JSON_INTEGER_FORMAT, name, completions - 1);
        is_dns1123_label(host, &ms);
        if (ms.n) {
            char detail[200];
            snprintf(detail, sizeof detail,
                     "will not able to create pod with invalid DNS label: %s", host);
            size_t m = vp_child(c, "metadata");
            v_invalid(c, "name", name, detail);
            vp_pop(c, m);
        }
    }
}

/* Pod template fields a suspended Job that never started may still change
 * (JobMutableNodeSchedulingDirectives). */
static void unmunge_scheduling(json_t *clone, json_t *template)
{
    static const char *const spec_fields[] = {"nodeSelector", "tolerations", "affinity",
                                              "schedulingGates"};
    static const char *const meta_fields[] = {"labels", "annotations"};
    json_t *cs = jobj(clone, "spec"), *cm = jobj(clone, "metadata");
    for (size_t i = 0; cs && i < sizeof spec_fields / sizeof spec_fields[0]; i++)
        munge_member(cs, jobj(template, "spec"), spec_fields[i]);
    for (size_t i = 0; cm && i < sizeof meta_fields / sizeof meta_fields[0]; i++)
        munge_member(cm, jobj(template, "metadata"), meta_fields[i]);
}

static void check_job_update(struct vctx *c, json_t *obj, json_t *old)
{
    static const char *const immutable[] = {
        "podFailurePolicy", "backoffLimitPerIndex", "managedBy",           "successPolicy",
        "selector",         "completionMode",       "podReplacementPolicy"};
    json_t *spec = jobj(obj, "spec"), *was = jobj(old, "spec");
    size_t mark = vp_child(c, "spec");
    bool elastic = strcmp(jstr0(spec, "completionMode"), "Indexed") == 0 &&
                   sem_equal(jget(spec, "completions"), jget(spec, "parallelism"));
    if (!elastic)
        check_immutable(c, "completions", jget(spec, "completions"), jget(was, "completions"));
    for (size_t i = 0; i < sizeof immutable / sizeof immutable[0]; i++)
        check_immutable(c, immutable[i], jget(spec, immutable[i]), jget(was, immutable[i]));
    json_t *template = jget(spec, "template"), *was_template = jget(was, "template");
    json_t *clone = was_template ? json_deep_copy(was_template) : NULL;
    if (clone && jtrue(was, "suspend") && !jget(jobj(old, "status"), "startTime"))
        unmunge_scheduling(clone, template);
    if (!sem_equal(template, clone))
        v_invalid_go(c, "template", go_json, template, immutable_msg);
    json_decref(clone);
    vp_pop(c, mark);
}

static void check_cronjob(struct vctx *c, json_t *obj)
{
    static const char *const policies[] = {"Allow", "Forbid", "Replace", NULL};
    const char *name = jstr0(jobj(obj, "metadata"), "name");
    if (strlen(name) > 52) {
        size_t m = vp_child(c, "metadata");
        v_invalid(c, "name", name, "must be no more than 52 characters");
        vp_pop(c, m);
    }
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec");
    const char *schedule = jstr0(spec, "schedule");
    if (!*schedule) {
        v_required(c, "schedule", "");
    } else {
        char err[512];
        const char *why = cron_parse(schedule, err, sizeof err);
        if (why)
            v_invalid(c, "schedule", schedule, why);
        bool allow_tz = c->old && strstr(jstr0(jobj(c->old, "spec"), "schedule"), "TZ");
        if (allow_tz && strstr(schedule, "TZ") && jget(spec, "timeZone"))
            v_invalid(c, "schedule", schedule,
                      "cannot use both timeZone field and TZ or CRON_TZ in schedule");
        else if (!allow_tz && strstr(schedule, "TZ"))
            v_invalid(c, "schedule", schedule,
                      "cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    }
    check_nonnegative(c, spec, "startingDeadlineSeconds");
    const char *tz = jstr(spec, "timeZone");
    if (tz && !*tz)
        v_invalid(c, "timeZone", tz, "timeZone must be nil or non-empty string");
    else if (tz && strcasecmp(tz, "Local") == 0)
        v_invalid(
            c, "timeZone", tz,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones");
    check_enum(c, spec, "concurrencyPolicy", policies);
    json_t *job_spec = jobj(jobj(spec, "jobTemplate"), "spec");
    size_t m1 = vp_child(c, "jobTemplate"), m2 = vp_child(c, "spec");
    check_job_spec(c, job_spec);
    if (jget(job_spec, "selector"))
        v_invalid_go(c, "selector", go_label_selector, jobj(job_spec, "selector"),
                     "`selector` will be auto-generated");
    if (jtrue(job_spec, "manualSelector")) {
        static const char *const manual[] = {"nil", "false", NULL};
        v_unsupported_raw(c, "manualSelector", "true", manual);
    }
    vp_pop(c, m2);
    vp_pop(c, m1);
    check_nonnegative(c, spec, "successfulJobsHistoryLimit");
    check_nonnegative(c, spec, "failedJobsHistoryLimit");
    vp_pop(c, mark);
}

/* ==== autoscaling/v2: HorizontalPodAutoscaler ==== */

static void check_metric_target(struct vctx *c, json_t *target)
{
    static const char *const types[] = {"Utilization", "Value", "AverageValue", NULL};
    const char *type = jstr0(target, "type");
    size_t mark = vp_child(c, "target");
    if (!*type)
        v_required(c, "type", "must specify a metric target type");
    if (!str_in(type, types))
        v_invalid(c, "type", type, "must be either Utilization, Value, or AverageValue");
    static const char *const quantities[] = {"value", "averageValue"};
    for (size_t i = 0; i < 2; i++) {
        double v;
        char buf[48];
        json_t *q = jget(target, quantities[i]);
        if (quantity_value(q, &v) && v <= 0)
            v_invalid(c, quantities[i], quantity_text(q, buf, sizeof buf), "must be positive");
    }
    json_int_t util;
    if (jint(target, "averageUtilization", &util) && util < 1)
        v_invalid_int(c, "averageUtilization", util, "must be greater than 0");
    vp_pop(c, mark);
}

static void check_resource_metric(struct vctx *c, json_t *src)
{
    const char *name = jstr0(src, "name");
    json_t *target = jobj(src, "target");
    if (!*name) {
        v_required(c, "name", "must specify a resource name");
    } else {
        size_t m = vp_child(c, "name");
        check_container_resource_name(c, name);
        vp_pop(c, m);
    }
    check_metric_target(c, target);
    size_t m = vp_child(c, "target");
    if (!jget(target, "averageUtilization") && !jget(target, "averageValue"))
        v_required(c, "averageUtilization",
                   "must set either a target raw value or a target utilization");
    if (jget(target, "averageUtilization") && jget(target, "averageValue"))
        v_forbidden(c, "averageValue",
                    "may not set both a target raw value and a target utilization");
    vp_pop(c, m);
}

/* The metric source types and the member each one fills. */
static const struct {
    const char *type, *member;
} metric_sources[] = {
    {"Object", "object"},
    {"Pods", "pods"},
    {"Resource", "resource"},
    {"External", "external"},
    {"ContainerResource", "containerResource"},
};

static void check_metric(struct vctx *c, json_t *metric)
{
    static const char *const types[] = {
        "Object", "Pods", "Resource", "External", "ContainerResource", NULL};
    const char *type = jstr0(metric, "type");
    if (!*type)
        v_required(c, "type", "must specify a metric source type");
    if (!str_in(type, types))
        v_unsupported(c, "type", type, types);
    size_t present = 0;
    for (size_t i = 0; i < sizeof metric_sources / sizeof metric_sources[0]; i++)
        present += jget(metric, metric_sources[i].member) != NULL;
    for (size_t i = 0; i < sizeof metric_sources / sizeof metric_sources[0]; i++) {
        const char *member = metric_sources[i].member;
        bool chosen = strcmp(metric_sources[i].type, type) == 0;
        if (chosen && !jget(metric, member))
            v_required(c, member, "must populate information for the given metric source");
        else if (!chosen && jget(metric, member) && present > 1)
            v_forbidden(c, member, "must populate the given metric source only");
    }
    if (strcmp(type, "Resource") == 0 && jobj(metric, "resource")) {
        size_t m = vp_child(c, "resource");
        check_resource_metric(c, jobj(metric, "resource"));
        vp_pop(c, m);
    }
}

static void check_scaling_rules(struct vctx *c, json_t *rules)
{
    static const char *const selects[] = {"Max", "Min", "Disabled", NULL};
    static const char *const types[] = {"Pods", "Percent", NULL};
    json_int_t window;
    if (jint(rules, "stabilizationWindowSeconds", &window) && window < 0)
        v_invalid_int(c, "stabilizationWindowSeconds", window,
                      "must be greater than or equal to zero");
    if (jint(rules, "stabilizationWindowSeconds", &window) && window > 3600)
        v_invalid_int(c, "stabilizationWindowSeconds", window,
                      "must be less than or equal to 3600");
    const char *select = jstr(rules, "selectPolicy");
    if (select && !str_in(select, selects))
        v_unsupported(c, "selectPolicy", select, selects);
    json_t *policies = jarr(rules, "policies");
    if (json_array_size(policies) == 0)
        v_required(c, "policies", "must specify at least one Policy");
    size_t i;
    json_t *p;
    json_array_foreach(policies, i, p) {
        size_t m1 = vp_child(c, "policies"), m2 = vp_index(c, i);
        const char *type = jstr0(p, "type");
        json_int_t value = jint0(p, "value"), period = jint0(p, "periodSeconds");
        if (!str_in(type, types))
            v_unsupported(c, "type", type, types);
        if (value <= 0)
            v_invalid_int(c, "value", value, "must be greater than zero");
        if (period <= 0)
            v_invalid_int(c, "periodSeconds", period, "must be greater than zero");
        if (period > 1800)
            v_invalid_int(c, "periodSeconds", period, "must be less than or equal to 1800");
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
}

static void check_hpa(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    size_t mark = vp_child(c, "spec");
    json_int_t min = 0, max = jint0(spec, "maxReplicas");
    bool has_min = jint(spec, "minReplicas", &min);
    if (has_min && min < 1)
        v_invalid_int(c, "minReplicas", min, "must be greater than or equal to 1");
    if (max < 1)
        v_invalid_int(c, "maxReplicas", max, "must be greater than 0");
    if (has_min && max < min)
        v_invalid_int(c, "maxReplicas", max, "must be greater than or equal to `minReplicas`");
    json_t *ref = jobj(spec, "scaleTargetRef");
    size_t m = vp_child(c, "scaleTargetRef");
    static const char *const ref_fields[] = {"kind", "name"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = jstr0(ref, ref_fields[i]);
        struct msgs ms = {0};
        if (!*v)
            v_required(c, ref_fields[i], "");
        is_path_segment_name(v, &ms);
        v_invalid_each(c, ref_fields[i], v, &ms);
    }
    vp_pop(c, m);
    size_t i;
    json_t *metric;
    json_array_foreach(jarr(spec, "metrics"), i, metric) {
        size_t m1 = vp_child(c, "metrics"), m2 = vp_index(c, i);
        check_metric(c, metric);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    json_t *behavior = jobj(spec, "behavior");
    static const char *const directions[] = {"scaleUp", "scaleDown"};
    for (size_t d = 0; behavior && d < 2; d++) {
        json_t *rules = jobj(behavior, directions[d]);
        if (!rules)
            continue;
        size_t m1 = vp_child(c, "behavior"), m2 = vp_child(c, directions[d]);
        check_scaling_rules(c, rules);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    vp_pop(c, mark);
}

/* ==== coordination, discovery, scheduling; events and accounts ==== */

static void check_lease(struct vctx *c, json_t *obj)
{
    json_t *spec = jobj(obj, "spec");
    json_int_t v;
    size_t mark = vp_child(c, "spec");
    if (jint(spec, "leaseDurationSeconds", &v) && v <= 0)
        v_invalid_int(c, "leaseDurationSeconds", v, "must be greater than 0");
    if (jint(spec, "leaseTransitions", &v) && v < 0)
        v_invalid_int(c, "leaseTransitions", v, not_negative_msg);
    vp_pop(c, mark);
}

/* IsFullyQualifiedDomainName, for FQDN endpoint addresses. */
static void check_fqdn(struct vctx *c, const char *name)
{
    char buf[300];
    snprintf(buf, sizeof buf, "%s", name);
    size_t n = strlen(buf);
    if (!n) {
        v_required(c, NULL, "");
        return;
    }
    if (buf[n - 1] == '.')
        buf[--n] = '\0';
    struct msgs ms = {0};
    is_dns1123_subdomain(buf, &ms);
    if (ms.n) {
        char joined[1300] = "";
        for (int i = 0; i < ms.n; i++)
            snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? "," : "",
                     ms.m[i]);
        v_invalid(c, NULL, buf, joined);
    } else if (!strchr(buf, '.')) {
        v_invalid(c, NULL, buf, "should be a domain with at least two segments separated by dots");
    }
}

static void check_slice_endpoint(struct vctx *c, json_t *ep, const char *type)
{
    json_t *addrs = jarr(ep, "addresses");
    if (json_array_size(addrs) == 0)
        v_required(c, "addresses", "must contain at least 1 address");
    else if (json_array_size(addrs) > 100)
        v_too_many(c, "addresses", json_array_size(addrs), 100);
    size_t i;
    json_t *a;
    json_array_foreach(addrs, i, a) {
        const char *s = json_is_string(a) ? json_string_value(a) : "";
        size_t m1 = vp_child(c, "addresses"), m2 = vp_index(c, i);
        if (strcmp(type, "IPv4") == 0 && !is_ipv4(s))
            v_invalid(c, NULL, s, "must be a valid IPv4 address");
        else if (strcmp(type, "IPv6") == 0 && !is_ipv6(s))
            v_invalid(c, NULL, s, "must be a valid IPv6 address");
        else if (strcmp(type, "FQDN") == 0)
            check_fqdn(c, s);
        vp_pop(c, m2);
        vp_pop(c, m1);
    }
    if (json_is_string(jget(ep, "nodeName")))
        check_subdomain(c, "nodeName", jstr(ep, "nodeName"));
    if (json_is_string(jget(ep, "hostname")))
        check_dns_label(c, "hostname", jstr(ep, "hostname"));
}

static void check_endpoint_slice(struct vctx *c, json_t *obj)
{
    static const char *const types[] = {"FQDN", "IPv4", "IPv6", NULL};
    const char *type = jstr0(obj, "addressType");
    if (!*type)
        v_required(c, "addressType", "");
    else if (!str_in(type, types))
        v_unsupported(c, "addressType", type, types);
    json_t *endpoints = jarr(obj, "endpoints");
    size_t mark = vp_child(c, "endpoints"), i;
    json_t *e;
    if (json_array_size(endpoints) > 1000)
        v_too_many(c, NULL, json_array_size(endpoints), 1000);
    json_array_foreach(endpoints, i, e) {
        size_t m = vp_index(c, i);
        check_slice_endpoint(c, e, type);
        vp_pop(c, m);
    }
    vp_pop(c, mark);
    json_t *names = json_object();
    mark = vp_child(c, "ports");
    json_array_foreach(jarr(obj, "ports"), i, e) {
        size_t m = vp_index(c, i);
        const char *name = jstr0(e, "name"), *proto = jstr(e, "protocol");
        if (*name)
            check_dns_label(c, "name", name);
        if (json_object_get(names, name))
            v_duplicate(c, "name", name);
        json_object_set_new(names, name, json_true());
        if (!proto)
            v_required(c, "protocol", "");
        else if (!str_in(proto, protocols))
            v_unsupported(c, "protocol", proto, protocols);
        vp_pop(c, m);
    }
    vp_pop(c, mark);
    json_decref(names);
}

static void check_endpoint_slice_update(struct vctx *c, json_t *obj, json_t *old)
{
    check_immutable(c, "addressType", jget(obj, "addressType"), jget(old, "addressType"));
}

/* The system classes a "system-" name may take, with their values. */
static const struct {
    const char *name;
    json_int_t value;
} system_priority_classes[] = {
    {"system-node-critical", 2000001000},
    {"system-cluster-critical", 2000000000},
};

static void check_priority_class(struct vctx *c, json_t *obj)
{
    const char *name = jstr0(jobj(obj, "metadata"), "name");
    json_int_t value = jint0(obj, "value");
    if (has_prefix(name, "system-")) {
        char why[200];
        snprintf(why, sizeof why, "%.100s is not a known system priority class", name);
        for (size_t i = 0; i < sizeof system_priority_classes / sizeof system_priority_classes[0];
             i++) {
            if (strcmp(system_priority_classes[i].name, name) != 0)
                continue;
            if (value != system_priority_classes[i].value)
                snprintf(why, sizeof why, "value of %s PriorityClass must be %" JSON_INTEGER_FORMAT,
                         name, system_priority_classes[i].value);
            else if (jtrue(obj, "globalDefault"))
                snprintf(why, sizeof why, "globalDefault of %s PriorityClass must be false", name);
            else
                why[0] = '\0';
        }
        if (why[0]) {
            char detail[300];
            snprintf(detail, sizeof detail,
                     "priority class names with 'system-' prefix are reserved for system use only. "
                     "error: %s",
                     why);
            size_t m = vp_child(c, "metadata");
            v_forbidden(c, "name", detail);
            vp_pop(c, m);
        }
    } else if (value > 1000000000) {
        v_forbidden(c, "value", "maximum allowed value of a user defined priority is 1000000000");
    }
    const char *preempt = jstr(obj, "preemptionPolicy");
    if (preempt && !str_in(preempt, preemption_policies))
        v_unsupported(c, "preemptionPolicy", preempt, preemption_policies);
}

static void check_priority_class_update(struct vctx *c, json_t *obj, json_t *old)
{
    if (!sem_equal(jget(obj, "value"), jget(old, "value")))
        v_forbidden(c, "value", "may not be changed in an update.");
    check_immutable(c, "preemptionPolicy", jget(obj, "preemptionPolicy"),
                    jget(old, "preemptionPolicy"));
}

/* legacyValidateEvent: the involved object lives in the event's namespace. */
static void check_event(struct vctx *c, json_t *obj)
{
    const char *ns = jstr0(jobj(obj, "metadata"), "namespace");
    const char *ins = jstr0(jobj(obj, "involvedObject"), "namespace");
    if (jget(obj, "eventTime"))
        return;
    bool ok = *ins ? strcmp(ns, ins) == 0 : (!*ns || strcmp(ns, "default") == 0);
    if (!ok) {
        size_t m = vp_child(c, "involvedObject");
        v_invalid(c, "namespace", ins, "does not match event.namespace");
        vp_pop(c, m);
    }
}

/* ==== the table ==== */

typedef void (*validate_fn)(struct vctx *c, json_t *obj);
typedef void (*update_fn)(struct vctx *c, json_t *obj, json_t *old);

static const struct kind_rules {
    const char *group, *kind;
    bool namespaced;
    name_fn name;
    validate_fn validate; /* the object itself, on create and update */
    update_fn update;     /* what may not change; NULL when only metadata */
} kind_rules[] = {
    {"", "Namespace", false, name_label, check_namespace, NULL},
    {"", "Node", false, name_subdomain, check_node, check_node_update},
    {"", "Pod", true, name_subdomain, check_pod, check_pod_update},
    {"", "Service", true, name_dns1035, check_service, check_service_update},
    {"", "Endpoints", true, name_subdomain, check_endpoints, NULL},
    {"", "ConfigMap", true, name_subdomain, check_config_map, check_config_map_update},
    {"", "Secret", true, name_subdomain, check_secret, check_secret_update},
    {"", "PersistentVolume", false, name_subdomain, check_pv, check_pv_update},
    {"", "PersistentVolumeClaim", true, name_subdomain, check_pvc, check_pvc_update},
    {"", "Event", true, name_subdomain, check_event, NULL},
    {"", "ServiceAccount", true, name_subdomain, NULL, NULL},
    {"apps", "Deployment", true, name_subdomain, check_deployment, check_selector_immutable},
    {"apps", "ReplicaSet", true, name_subdomain, check_replicaset, check_selector_immutable},
    {"apps", "DaemonSet", true, name_subdomain, check_daemonset, check_selector_immutable},
    {"apps", "StatefulSet", true, name_label, check_statefulset, check_statefulset_update},
    {"apps", "ControllerRevision", true, name_subdomain, check_controller_revision,
     check_controller_revision_update},
    {"batch", "Job", true, name_subdomain, check_job, check_job_update},
    {"batch", "CronJob", true, name_subdomain, check_cronjob, NULL},
    {"autoscaling", "HorizontalPodAutoscaler", true, name_subdomain, check_hpa, NULL},
    {"coordination.k8s.io", "Lease", true, name_subdomain, check_lease, NULL},
    {"discovery.k8s.io", "EndpointSlice", true, name_subdomain, check_endpoint_slice,
     check_endpoint_slice_update},
    {"scheduling.k8s.io", "PriorityClass", false, name_subdomain, check_priority_class,
     check_priority_class_update},
};

static const struct kind_rules *rules_find(const char *group, const char *kind)
{
    for (size_t i = 0; i < sizeof kind_rules / sizeof kind_rules[0]; i++)
        if (strcmp(kind_rules[i].group, group) == 0 && strcmp(kind_rules[i].kind, kind) == 0)
            return &kind_rules[i];
    return NULL;
}

json_t *kube_validate(const char *group, const char *kind, json_t *obj, json_t *old)
{
    const struct kind_rules *r = group && kind ? rules_find(group, kind) : NULL;
    if (!r)
        return NULL;
    struct vctx c = {.old = json_is_object(old) ? old : NULL};
    json_t *md = jobj(obj, "metadata");
    check_object_meta(&c, md, r->namespaced, r->name);
    if (c.old) {
        check_object_meta_update(&c, md, jobj(c.old, "metadata"));
        if (r->update)
            r->update(&c, obj, c.old);
    }
    if (r->validate)
        r->validate(&c, obj);
    assert(c.len == 0 && c.overflows == 0); /* every push was popped */
    return c.causes;
}
