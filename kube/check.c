/* check.c — decoding rules: an object checked against the API schema.
 *
 * Kubernetes decodes a request body into Go structs, so a value of the wrong
 * JSON type, a quantity that does not parse or a field the struct does not
 * have is a 400 BadRequest before any validation runs. kube_schema_check
 * gives the same answers for a JSON document: it walks obj and the schema
 * type side by side, field by field (kube_type_field is a binary search),
 * and checks each value against its field's value type:
 *
 *   STRING a string; BYTES a base64 string; BOOL true or false; INT32 an
 *   integer in int32 range; INT64 an integer; DOUBLE any number; OBJECT an
 *   object, walked with field->type; QUANTITY a number, or a string that
 *   parses as a resource.Quantity; INT_OR_STRING an int32 or a string; TIME
 *   an RFC 3339 string; DURATION a string; RAW anything.
 *
 * repeated fields must be arrays and map fields objects, each element or
 * value checked as above. null is accepted anywhere: it means unset.
 *
 * Causes (at most CHECK_MAX_CAUSES, so a hostile body cannot make a huge
 * reply) have the shape the server turns into a 400 Status:
 *   wrong type or value  {"reason":"FieldValueTypeInvalid",
 *                         "message":"expected an integer, got a string",
 *                         "field":".spec.containers[0].ports[0].containerPort"}
 *   unknown field        {"reason":"FieldValueInvalid",
 *                         "message":"unknown field \"spec.foo\"",
 *                         "field":".spec.foo"}
 * The unknown-field message is Kubernetes' strict-decoding wording; the
 * reason is FieldValueInvalid because Kubernetes has no cause type of its
 * own for it. When not strict, unknown fields are deleted from obj instead
 * (Kubernetes prunes what its structs do not hold).
 *
 * Every write body passes through here, so the happy path allocates and
 * formats nothing: the field path is a fixed stack of segments pointing at
 * the schema's names and the object's keys, turned into text only when a
 * cause is reported. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"

#define CHECK_MAX_CAUSES 100
#define CHECK_MAX_DEPTH 64  /* path segments kept; deeper ones print as "..." */
#define CHECK_PATH_MAX 1024 /* a rendered path, cut beyond this */

/* One segment of the path to the value being checked: a field (".name"),
 * an index ("[3]") or a map key ("[key]"). name points into the schema or
 * the object's keys, which outlive the walk of that value. */
struct segment {
    const char *name; /* NULL for an index */
    size_t index;
    bool key;
};

/* One walk: the causes so far and the path as a stack of segments, turned
 * into text only when a cause is reported. */
struct check {
    json_t *causes; /* NULL until the first cause */
    bool strict;
    unsigned depth; /* may exceed CHECK_MAX_DEPTH; those are not kept */
    struct segment path[CHECK_MAX_DEPTH];
};

/* ---- the path ---- */

static void path_push(struct check *c, const char *name, size_t index, bool key)
{
    if (c->depth < CHECK_MAX_DEPTH)
        c->path[c->depth] = (struct segment){.name = name, .index = index, .key = key};
    c->depth++;
}

static void path_field(struct check *c, const char *name)
{
    path_push(c, name, 0, false);
}

static void path_index(struct check *c, size_t i)
{
    path_push(c, NULL, i, false);
}

static void path_key(struct check *c, const char *key)
{
    path_push(c, key, 0, true);
}

static void path_pop(struct check *c)
{
    c->depth--;
}

/* The path as text (".spec.containers[0].ports"), cut short with "...". */
static void path_render(const struct check *c, char *buf, size_t len)
{
    size_t n = 0;
    unsigned kept = c->depth < CHECK_MAX_DEPTH ? c->depth : CHECK_MAX_DEPTH;
    buf[0] = '\0';
    for (unsigned i = 0; i < kept && n < len; i++) {
        const struct segment *s = &c->path[i];
        int w = !s->name ? snprintf(buf + n, len - n, "[%zu]", s->index)
                : s->key ? snprintf(buf + n, len - n, "[%s]", s->name)
                         : snprintf(buf + n, len - n, ".%s", s->name);
        n += w > 0 ? (size_t)w : 0;
    }
    if (n >= len || c->depth > CHECK_MAX_DEPTH) {
        size_t at = n < len - 4 ? n : len - 4;
        snprintf(buf + at, len - at, "...");
    }
}

/* ---- causes ---- */

/* A JSON string of s; a byte that is not valid UTF-8 (a path or value cut
 * short mid-character) becomes '?'. */
static json_t *string_lossy(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char buf[CHECK_PATH_MAX + 64];
    size_t i = 0;
    for (; s[i] && i < sizeof buf - 1; i++)
        buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    buf[i] = '\0';
    return json_string(buf);
}

static void cause_add(struct check *c, const char *reason, const char *message)
{
    if (!c->causes)
        c->causes = json_array();
    if (json_array_size(c->causes) >= CHECK_MAX_CAUSES)
        return;
    char field[CHECK_PATH_MAX];
    path_render(c, field, sizeof field);
    json_t *cause = json_object();
    json_object_set_new(cause, "reason", json_string(reason));
    json_object_set_new(cause, "message", string_lossy(message));
    json_object_set_new(cause, "field", string_lossy(field));
    json_array_append_new(c->causes, cause);
}

static void cause_type(struct check *c, const char *message)
{
    cause_add(c, "FieldValueTypeInvalid", message);
}

/* ---- value types ---- */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* What each value type expects, for "expected X, got Y". */
static const char *const vtype_expects[] = {
    [KUBE_V_STRING] = "a string",
    [KUBE_V_BYTES] = "a base64 string",
    [KUBE_V_BOOL] = "a boolean",
    [KUBE_V_INT32] = "an integer",
    [KUBE_V_INT64] = "an integer",
    [KUBE_V_DOUBLE] = "a number",
    [KUBE_V_OBJECT] = "an object",
    [KUBE_V_QUANTITY] = "a quantity (a string like \"100m\" or a number)",
    [KUBE_V_INT_OR_STRING] = "an integer or a string",
    [KUBE_V_TIME] = "an RFC 3339 time string",
    [KUBE_V_DURATION] = "a duration string",
    [KUBE_V_RAW] = "any value",
};

static void cause_expected(struct check *c, const char *expected, const json_t *got)
{
    char msg[160];
    snprintf(msg, sizeof msg, "expected %s, got %s", expected, json_kind(got));
    cause_type(c, msg);
}

/* ---- quantities (resource.Quantity's parser) ---- */

static const char quantity_format_error[] = "quantities must match the regular expression "
                                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
static const char quantity_suffix_error[] = "unable to parse quantity's suffix";

/* The suffixes and the power each stands for: base^exp. */
static const struct {
    const char *suffix;
    int base, exp;
} quantity_suffixes[] = {
    {"", 10, 0},   {"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3}, {"k", 10, 3},  {"M", 10, 6},
    {"G", 10, 9},  {"T", 10, 12}, {"P", 10, 15}, {"E", 10, 18}, {"Ki", 2, 10}, {"Mi", 2, 20},
    {"Gi", 2, 30}, {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60},
};

static bool quantity_suffix(const char *suf, double *scale)
{
    for (size_t i = 0; i < sizeof quantity_suffixes / sizeof quantity_suffixes[0]; i++) {
        if (strcmp(quantity_suffixes[i].suffix, suf) == 0) {
            *scale = pow(quantity_suffixes[i].base, quantity_suffixes[i].exp);
            return true;
        }
    }
    /* A decimal exponent: "e3", "E-2". */
    if ((suf[0] == 'e' || suf[0] == 'E') && suf[1]) {
        const char *p = suf + 1;
        if (*p == '+' || *p == '-')
            p++;
        if (!*p)
            return false;
        for (const char *q = p; *q; q++)
            if (!isdigit((unsigned char)*q))
                return false;
        errno = 0;
        long e = strtol(suf + 1, NULL, 10);
        if (errno)
            return false;
        *scale = pow(10, (double)e);
        return true;
    }
    return false;
}

/* Kubernetes' parseQuantityString and ParseQuantity: NULL when s parses,
 * with its value in *value, or the error Kubernetes gives. */
static const char *quantity_parse(const char *s, double *value)
{
    size_t end = strlen(s), pos = 0;
    if (end == 0)
        return quantity_format_error;
    bool negative = false;
    if (s[0] == '-' || s[0] == '+') {
        negative = s[0] == '-';
        pos++;
    }
    size_t num_start = pos;
    while (pos < end && isdigit((unsigned char)s[pos]))
        pos++;
    if (pos < end && s[pos] == '.') {
        pos++;
        while (pos < end && isdigit((unsigned char)s[pos]))
            pos++;
    }
    size_t num_end = pos;
    /* The suffix: letters from the set, then an optional sign and digits. */
    size_t suf_start = pos;
    while (pos < end && strchr("eEinumkKMGTP", s[pos]))
        pos++;
    if (pos < end && (s[pos] == '-' || s[pos] == '+'))
        pos++;
    while (pos < end && isdigit((unsigned char)s[pos]))
        pos++;
    if (pos < end)
        return quantity_format_error;
    double scale;
    if (!quantity_suffix(s + suf_start, &scale))
        return quantity_suffix_error;
    char num[64];
    size_t n = num_end - num_start;
    double mantissa = 0;
    if (n > 0 && !(n == 1 && s[num_start] == '.')) {
        if (n >= sizeof num) {
            /* Very long numbers: their magnitude is all that matters here. */
            n = sizeof num - 1;
        }
        memcpy(num, s + num_start, n);
        num[n] = '\0';
        mantissa = strtod(num, NULL);
    }
    *value = (negative ? -mantissa : mantissa) * scale;
    return NULL;
}

bool kube_quantity_parse(const char *s, double *value)
{
    double v = 0;
    if (!s || quantity_parse(s, &v))
        return false;
    if (value)
        *value = v;
    return true;
}

/* ---- base64 (Go's StdEncoding, as encoding/json decodes []byte) ---- */

static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* -1 when s is valid padded base64 (newlines ignored), else the offset of
 * the input byte Go would name in "illegal base64 data at input byte N". */
static long b64_invalid_at(const char *s, size_t len)
{
    size_t quantum = 0, quantum_start = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\r' || ch == '\n')
            continue;
        if (quantum == 0)
            quantum_start = i;
        if (ch == '=') {
            /* Padding only in the last two places of the final quantum. */
            if (quantum < 2)
                return (long)i;
            pad++;
        } else if (pad > 0 || b64_value(ch) < 0) {
            return (long)i;
        }
        quantum = (quantum + 1) % 4;
        if (quantum == 0 && pad > 0) {
            /* Nothing may follow the padded quantum but newlines. */
            for (size_t j = i + 1; j < len; j++)
                if (s[j] != '\r' && s[j] != '\n')
                    return (long)j;
            return -1;
        }
    }
    return quantum == 0 ? -1 : (long)quantum_start;
}

/* ---- RFC 3339 times (time.RFC3339, fractional seconds allowed) ---- */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static bool rfc3339_valid(const char *s)
{
    int y, mo, d, h, mi, se;
    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    if (*p == 'Z')
        return p[1] == '\0';
    int oh, om;
    return (*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
           digits(p + 4, 2, &om) && p[6] == '\0' && oh < 24 && om < 60;
}

/* ---- the walk ---- */

static void check_object(struct check *c, const struct kube_type *t, json_t *obj);

static void check_int(struct check *c, const json_t *v, bool int32)
{
    if (!json_is_integer(v)) {
        cause_expected(c, "an integer", v);
        return;
    }
    json_int_t i = json_integer_value(v);
    if (int32 && (i < INT32_MIN || i > INT32_MAX)) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected a 32-bit integer, got %" JSON_INTEGER_FORMAT, i);
        cause_type(c, msg);
    }
}

static void check_bytes(struct check *c, const json_t *v)
{
    long at = b64_invalid_at(json_string_value(v), json_string_length(v));
    if (at >= 0) {
        char msg[80];
        snprintf(msg, sizeof msg, "illegal base64 data at input byte %ld", at);
        cause_type(c, msg);
    }
}

static void check_time(struct check *c, const json_t *v)
{
    const char *s = json_string_value(v);
    if (rfc3339_valid(s))
        return;
    char msg[160];
    snprintf(msg, sizeof msg, "expected an RFC 3339 time, got \"%.64s\"", s);
    cause_type(c, msg);
}

/* One value (not a list or map) against its field's value type. */
static void check_scalar(struct check *c, const struct kube_field *f, json_t *v)
{
    if (json_is_null(v) || f->vtype == KUBE_V_RAW)
        return;
    bool ok;
    switch (f->vtype) {
    case KUBE_V_STRING:
    case KUBE_V_DURATION: ok = json_is_string(v); break;
    case KUBE_V_BOOL: ok = json_is_boolean(v); break;
    case KUBE_V_DOUBLE: ok = json_is_number(v); break;
    case KUBE_V_INT32:
    case KUBE_V_INT64: check_int(c, v, f->vtype == KUBE_V_INT32); return;
    case KUBE_V_BYTES:
        if ((ok = json_is_string(v)))
            check_bytes(c, v);
        break;
    case KUBE_V_TIME:
        if ((ok = json_is_string(v)))
            check_time(c, v);
        break;
    case KUBE_V_QUANTITY:
        ok = json_is_number(v) || json_is_string(v);
        if (json_is_string(v)) {
            double q;
            const char *err = quantity_parse(json_string_value(v), &q);
            if (err)
                cause_type(c, err);
        }
        break;
    case KUBE_V_INT_OR_STRING:
        if (json_is_integer(v)) {
            check_int(c, v, true);
            return;
        }
        ok = json_is_string(v);
        break;
    case KUBE_V_OBJECT:
        if ((ok = json_is_object(v)) && f->type)
            check_object(c, f->type, v);
        break;
    default: ok = true; break;
    }
    if (!ok)
        cause_expected(c, vtype_expects[f->vtype], v);
}

static void check_list(struct check *c, const struct kube_field *f, json_t *v)
{
    if (!json_is_array(v)) {
        char expected[160];
        snprintf(expected, sizeof expected, "an array of %s", vtype_expects[f->vtype]);
        cause_expected(c, f->vtype == KUBE_V_OBJECT ? "an array" : expected, v);
        return;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        path_index(c, i);
        check_scalar(c, f, e);
        path_pop(c);
    }
}

static void check_map(struct check *c, const struct kube_field *f, json_t *v)
{
    if (!json_is_object(v)) {
        cause_expected(c, "an object", v);
        return;
    }
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) {
        path_key(c, k);
        check_scalar(c, f, e);
        path_pop(c);
    }
}

static void check_value(struct check *c, const struct kube_field *f, json_t *v)
{
    if (json_is_null(v) || f->vtype == KUBE_V_RAW)
        return;
    if (f->repeated)
        check_list(c, f, v);
    else if (f->map)
        check_map(c, f, v);
    else
        check_scalar(c, f, v);
}

static void unknown_field(struct check *c)
{
    char path[CHECK_PATH_MAX], msg[CHECK_PATH_MAX + 32];
    path_render(c, path, sizeof path);
    snprintf(msg, sizeof msg, "unknown field \"%s\"", path[0] == '.' ? path + 1 : path);
    cause_add(c, "FieldValueInvalid", msg);
}

static void check_object(struct check *c, const struct kube_type *t, json_t *obj)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v) {
        const struct kube_field *f = kube_type_field(t, k);
        if (!f && !c->strict) {
            json_object_del(obj, k);
            continue;
        }
        path_field(c, k);
        if (f)
            check_value(c, f, v);
        else
            unknown_field(c);
        path_pop(c);
    }
}

json_t *kube_schema_check(const struct kube_type *t, json_t *obj, bool strict)
{
    struct check c = {.strict = strict};
    if (!json_is_object(obj)) {
        cause_expected(&c, "an object", obj);
        return c.causes;
    }
    if (t)
        check_object(&c, t, obj);
    assert(c.depth == 0); /* every push was popped */
    return c.causes;
}
