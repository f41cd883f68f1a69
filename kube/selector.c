/* selector.c — Kubernetes label selectors: parsed once, matched many times.
 *
 * Two ways in, one representation:
 *   - kube_selector_parse reads the string form of `?labelSelector=`, with the
 *     grammar, the token rules and the error messages of apimachinery 0.32's
 *     labels.Parse (pkg/labels/selector.go): a lexer turns the text into
 *     tokens, a recursive-descent parser with one token of lookahead turns the
 *     tokens into requirements, and each requirement is validated like
 *     labels.NewRequirement (keys are qualified names, values label values).
 *   - kube_selector_from_json reads a metav1.LabelSelector object and follows
 *     metav1.LabelSelectorAsSelector: matchLabels become `key=value`,
 *     matchExpressions take In, NotIn, Exists or DoesNotExist. A missing
 *     selector (NULL or JSON null) matches nothing; an empty one, everything.
 *
 * A parsed selector is a flat array of requirements. Every key and value is
 * copied into one string pool (NUL-terminated, so a key goes straight to
 * json_object_get), and requirements refer to it by offset, so a selector is
 * four allocations however large, and kube_selector_match walks the array
 * with no allocation at all: one hash lookup per requirement, then a compare
 * against each of its values.
 *
 * Semantics worth knowing (all as Kubernetes):
 *   - `k!=v` and `k notin (...)` match objects that lack the label k.
 *   - `k in ()` is the set {""}; values are a set (order and repeats do not
 *     matter).
 *   - `k>5` and `k<5` (the symbols, as in labels.Parse) compare the label as a
 *     base-10 int64 and fail when it is absent or not a number; the words `gt`
 *     and `lt` are not operators in the string form (they parse as
 *     identifiers and are refused), nor in LabelSelector objects.
 *   - `in` and `notin` are keywords only where an operator may stand:
 *     `in in (in)` is key "in", operator in, value "in".
 * A label whose JSON value is not a string exists but equals no value. */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "util/util.h"

/* ---- the parsed form ---- */

enum sel_op {
    SEL_IN,        /* =, ==, in: the label exists and its value is one of the values */
    SEL_NOT_IN,    /* !=, notin: the label is absent or its value is none of them */
    SEL_EXISTS,    /* k */
    SEL_NOT_EXIST, /* !k */
    SEL_GT,        /* k>n: the label is an integer greater than num */
    SEL_LT,        /* k<n */
};

/* A string in the pool: pool[off .. off+len) followed by a NUL. */
struct sel_span {
    uint32_t off, len;
};

struct sel_req {
    struct sel_span key;
    enum sel_op op;
    uint32_t first, count; /* its values: vals[first .. first+count) */
    int64_t num;           /* SEL_GT, SEL_LT: the operand */
};

struct kube_selector {
    bool nothing; /* labels.Nothing(): matches no object (a nil LabelSelector) */
    uint32_t n_reqs;
    struct sel_req *reqs;
    struct sel_span *vals;
    char *pool;
};

/* ---- building a selector ---- */

struct sel_build {
    struct ubuf pool;
    struct sel_req *reqs;
    size_t n_reqs, cap_reqs;
    struct sel_span *vals;
    size_t n_vals, cap_vals;
};

static struct sel_span sel_build_str(struct sel_build *b, const char *s, size_t n)
{
    struct sel_span sp = {(uint32_t)b->pool.len, (uint32_t)n};
    ubuf_append(&b->pool, s, n);
    ubuf_append(&b->pool, "", 1);
    return sp;
}

/* A value: a pointer into the text or the JSON, and a length. */
struct sel_val {
    const char *s;
    size_t n;
};

/* Adds a requirement whose values are vals[0..n). */
static void sel_build_req(struct sel_build *b, const char *key, size_t klen, enum sel_op op,
                          const struct sel_val *vals, size_t n, int64_t num)
{
    if (b->n_reqs == b->cap_reqs) {
        b->cap_reqs = b->cap_reqs ? 2 * b->cap_reqs : 4;
        b->reqs = xrealloc(b->reqs, b->cap_reqs * sizeof *b->reqs);
    }
    struct sel_req *r = &b->reqs[b->n_reqs++];
    r->key = sel_build_str(b, key, klen);
    r->op = op;
    r->first = (uint32_t)b->n_vals;
    r->count = (uint32_t)n;
    r->num = num;
    for (size_t i = 0; i < n; i++) {
        if (b->n_vals == b->cap_vals) {
            b->cap_vals = b->cap_vals ? 2 * b->cap_vals : 4;
            b->vals = xrealloc(b->vals, b->cap_vals * sizeof *b->vals);
        }
        b->vals[b->n_vals++] = sel_build_str(b, vals[i].s, vals[i].n);
    }
}

static struct kube_selector *sel_build_finish(struct sel_build *b)
{
    struct kube_selector *s = xcalloc(1, sizeof *s);
    s->n_reqs = (uint32_t)b->n_reqs;
    s->reqs = b->reqs;
    s->vals = b->vals;
    ubuf_append(&b->pool, "", 1); /* a pool even for the empty selector */
    s->pool = b->pool.data;
    memset(b, 0, sizeof *b);
    return s;
}

static void sel_build_discard(struct sel_build *b)
{
    ubuf_free(&b->pool);
    free(b->reqs);
    free(b->vals);
    memset(b, 0, sizeof *b);
}

/* ---- error text, worded as apimachinery words it ---- */

static void sel_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sel_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Go's strconv.Quote, as %q prints a string: printable ASCII as is, the
 * usual backslash escapes, other bytes as \xNN (valid UTF-8 sequences of
 * two bytes or more are kept). */
static void sel_quote(struct ubuf *b, const char *s, size_t n)
{
    ubuf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\a': esc = "\\a"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\v': esc = "\\v"; break;
        default: break;
        }
        if (esc) {
            ubuf_append(b, esc, strlen(esc));
        } else if (c >= 0x20 && c < 0x7f) {
            ubuf_append(b, &s[i], 1);
        } else if (c >= 0xc2 && c <= 0xf4) {
            size_t len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, k = 1;
            while (k < len && i + k < n && ((unsigned char)s[i + k] & 0xc0) == 0x80)
                k++;
            if (k == len) {
                ubuf_append(b, &s[i], len);
                i += len - 1;
            } else {
                ubuf_appendf(b, "\\x%02x", c);
            }
        } else {
            ubuf_appendf(b, "\\x%02x", c);
        }
    }
    ubuf_append(b, "\"", 1);
}

/* The problems of one requirement, each a field.Error string; reported as
 * utilerrors.Aggregate reports them: one alone, several as "[a, b]" with
 * repeats dropped. (Each names its field, and value problems their index,
 * so a repeat can only follow its twin: comparing with the last message is
 * enough, and keeps a selector with thousands of bad values linear.) */
struct sel_errs {
    char **msg;
    size_t n, cap;
};

static void sel_errs_add(struct sel_errs *e, struct ubuf *m)
{
    if (e->n && strcmp(e->msg[e->n - 1], m->data) == 0) {
        ubuf_free(m);
        return;
    }
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 4;
        e->msg = xrealloc(e->msg, e->cap * sizeof *e->msg);
    }
    e->msg[e->n++] = m->data;
    memset(m, 0, sizeof *m);
}

static void sel_errs_report(struct sel_errs *e, const char *prefix, char *err, size_t errlen)
{
    struct ubuf b = {0};
    ubuf_appendf(&b, "%s%s", prefix, e->n > 1 ? "[" : "");
    for (size_t i = 0; i < e->n; i++)
        ubuf_appendf(&b, "%s%s", i ? ", " : "", e->msg[i]);
    ubuf_appendf(&b, "%s", e->n > 1 ? "]" : "");
    sel_err(err, errlen, "%s", b.data);
    ubuf_free(&b);
}

static void sel_errs_free(struct sel_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msg[i]);
    free(e->msg);
    memset(e, 0, sizeof *e);
}

/* field.Invalid(path, "value", detail).Error() */
static void sel_errs_invalid(struct sel_errs *e, const char *path, const char *v, size_t n,
                             const char *detail)
{
    struct ubuf m = {0};
    ubuf_appendf(&m, "%s: Invalid value: ", path);
    sel_quote(&m, v, n);
    ubuf_appendf(&m, ": %s", detail);
    sel_errs_add(e, &m);
}

/* ---- validation: IsQualifiedName and IsValidLabelValue ---- */

#define SEL_QNAME_FMT "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define SEL_QNAME_MSG                                                                              \
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "    \
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "        \
    "validation is '" SEL_QNAME_FMT "')"
#define SEL_DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define SEL_SUBDOMAIN_MSG                                                                          \
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "   \
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "  \
    "for validation is '" SEL_DNS1123_LABEL_FMT "(\\." SEL_DNS1123_LABEL_FMT ")*')"
#define SEL_VALUE_MSG                                                                              \
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "    \
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "            \
    "'my_value',  or '12345', regex used for validation is '(" SEL_QNAME_FMT ")?')"

static bool sel_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], the whole of s */
static bool sel_is_qname(const char *s, size_t n)
{
    if (n == 0 || !sel_alnum(s[0]) || !sel_alnum(s[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!sel_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)* */
static bool sel_is_subdomain(const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.')
            continue;
        const char *l = s + start;
        size_t ln = i - start;
        if (ln == 0)
            return false;
        for (size_t k = 0; k < ln; k++) {
            char c = l[k];
            bool lower_digit = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!lower_digit && (c != '-' || k == 0 || k == ln - 1))
                return false;
        }
        start = i + 1;
    }
    return true;
}

/* IsQualifiedName's messages for k, joined by "; "; false if there are any. */
static bool sel_check_key(const char *k, size_t n, struct ubuf *msg)
{
    const char *slash = memchr(k, '/', n);
    const char *name = k;
    size_t nlen = n;
    int found = 0;
#define SEL_PROBLEM(...)                                                                           \
    (ubuf_appendf(msg, "%s", found++ ? "; " : ""), ubuf_appendf(msg, __VA_ARGS__))
    if (slash) {
        const char *name_at = slash + 1;
        if (memchr(name_at, '/', n - (size_t)(name_at - k))) {
            SEL_PROBLEM("a qualified name " SEL_QNAME_MSG " with an optional DNS subdomain prefix "
                        "and '/' (e.g. 'example.com/MyName')");
            return false;
        }
        size_t plen = (size_t)(slash - k);
        if (plen == 0)
            SEL_PROBLEM("prefix part must be non-empty");
        else {
            if (plen > 253)
                SEL_PROBLEM("prefix part must be no more than 253 characters");
            if (!sel_is_subdomain(k, plen))
                SEL_PROBLEM("prefix part " SEL_SUBDOMAIN_MSG);
        }
        name = name_at;
        nlen = n - plen - 1;
    }
    if (nlen == 0)
        SEL_PROBLEM("name part must be non-empty");
    else if (nlen > 63)
        SEL_PROBLEM("name part must be no more than 63 characters");
    if (!sel_is_qname(name, nlen))
        SEL_PROBLEM("name part " SEL_QNAME_MSG);
    return found == 0;
}

/* IsValidLabelValue's messages for v, joined by "; "; false if there are any. */
static bool sel_check_value(const char *v, size_t n, struct ubuf *msg)
{
    int found = 0;
    if (n > 63)
        SEL_PROBLEM("must be no more than 63 characters");
    if (n > 0 && !sel_is_qname(v, n))
        SEL_PROBLEM(SEL_VALUE_MSG);
#undef SEL_PROBLEM
    return found == 0;
}

/* strconv.ParseInt(s, 10, 64) */
static bool sel_parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return false;
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* ---- one requirement, as labels.NewRequirement checks it ---- */

struct sel_newreq {
    const char *key;
    size_t klen;
    enum sel_op op;
    bool exact;             /* =, ==, != (one value required) */
    const struct sel_val *vals;
    size_t n;
    bool check_key;         /* the JSON path checks the key here; the parser already has */
    bool values_nil;        /* for the message: []string(nil) rather than []string{} */
};

/* %#v of a []string */
static void sel_go_slice(struct ubuf *b, const struct sel_newreq *q)
{
    if (q->n == 0) {
        ubuf_appendf(b, "%s", q->values_nil ? "[]string(nil)" : "[]string{}");
        return;
    }
    ubuf_appendf(b, "[]string{");
    for (size_t i = 0; i < q->n; i++) {
        if (i)
            ubuf_appendf(b, ", ");
        sel_quote(b, q->vals[i].s, q->vals[i].n);
    }
    ubuf_appendf(b, "}");
}

static void sel_errs_values(struct sel_errs *e, const struct sel_newreq *q, const char *detail)
{
    struct ubuf m = {0};
    ubuf_appendf(&m, "values: Invalid value: ");
    sel_go_slice(&m, q);
    ubuf_appendf(&m, ": %s", detail);
    sel_errs_add(e, &m);
}

/* Checks q and adds it to b; false with the reason in err. */
static bool sel_add_req(struct sel_build *b, const struct sel_newreq *q, const char *prefix,
                        char *err, size_t errlen)
{
    struct sel_errs e = {0};
    struct ubuf detail = {0};
    if (q->check_key && !sel_check_key(q->key, q->klen, &detail))
        sel_errs_invalid(&e, "key", q->key, q->klen, detail.data);
    ubuf_free(&detail);

    int64_t num = 0;
    switch (q->op) {
    case SEL_IN:
    case SEL_NOT_IN:
        if (q->exact && q->n != 1)
            sel_errs_values(&e, q, "exact-match compatibility requires one single value");
        else if (q->n == 0)
            sel_errs_values(&e, q, "for 'in', 'notin' operators, values set can't be empty");
        break;
    case SEL_EXISTS:
    case SEL_NOT_EXIST:
        if (q->n != 0)
            sel_errs_values(&e, q, "values set must be empty for exists and does not exist");
        break;
    case SEL_GT:
    case SEL_LT:
        if (q->n != 1)
            sel_errs_values(&e, q, "for 'Gt', 'Lt' operators, exactly one value is required");
        for (size_t i = 0; i < q->n; i++) {
            if (!sel_parse_int(q->vals[i].s, q->vals[i].n, &num)) {
                char path[32];
                snprintf(path, sizeof path, "values[%zu]", i);
                sel_errs_invalid(&e, path, q->vals[i].s, q->vals[i].n,
                                 "for 'Gt', 'Lt' operators, the value must be an integer");
            }
        }
        break;
    }
    for (size_t i = 0; i < q->n; i++) {
        if (sel_check_value(q->vals[i].s, q->vals[i].n, &detail)) {
            ubuf_free(&detail);
            continue;
        }
        struct ubuf path = {0};
        ubuf_appendf(&path, "values[%zu][%.*s]", i, (int)q->klen, q->key);
        sel_errs_invalid(&e, path.data, q->vals[i].s, q->vals[i].n, detail.data);
        ubuf_free(&path);
        ubuf_free(&detail);
    }

    bool ok = e.n == 0;
    if (ok)
        sel_build_req(b, q->key, q->klen, q->op, q->vals, q->n, num);
    else
        sel_errs_report(&e, prefix, err, errlen);
    sel_errs_free(&e);
    return ok;
}

/* ---- the string form: lexer ---- */

enum sel_tok {
    TOK_END,
    TOK_CLOSE,      /* ) */
    TOK_COMMA,      /* , */
    TOK_NOT,        /* ! */
    TOK_EQEQ,       /* == */
    TOK_EQ,         /* = */
    TOK_GT,         /* > */
    TOK_ID,         /* a key or a value */
    TOK_IN,         /* in */
    TOK_LT,         /* < */
    TOK_NE,         /* != */
    TOK_NOTIN,      /* notin */
    TOK_OPEN,       /* ( */
};

struct sel_token {
    enum sel_tok t;
    const char *lit; /* the text it came from, for values and messages */
    size_t len;
};

static bool sel_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool sel_special(char c)
{
    return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

/* Splits s into tokens, the last TOK_END. Identifiers run until a space or
 * a special character; special characters pair only as "==" and "!=". */
static struct sel_token *sel_lex(const char *s, size_t *count)
{
    size_t n = strlen(s), cap = 8, k = 0;
    struct sel_token *toks = xmalloc(cap * sizeof *toks);
    for (size_t i = 0;;) {
        while (i < n && sel_space(s[i]))
            i++;
        if (k + 1 >= cap) {
            cap *= 2;
            toks = xrealloc(toks, cap * sizeof *toks);
        }
        struct sel_token *t = &toks[k++];
        t->lit = s + i;
        if (i == n) {
            t->t = TOK_END;
            t->len = 0;
            break;
        }
        if (sel_special(s[i])) {
            bool pair = (s[i] == '=' || s[i] == '!') && i + 1 < n && s[i + 1] == '=';
            t->len = pair ? 2 : 1;
            switch (s[i]) {
            case '=': t->t = pair ? TOK_EQEQ : TOK_EQ; break;
            case '!': t->t = pair ? TOK_NE : TOK_NOT; break;
            case '(': t->t = TOK_OPEN; break;
            case ')': t->t = TOK_CLOSE; break;
            case ',': t->t = TOK_COMMA; break;
            case '>': t->t = TOK_GT; break;
            default: t->t = TOK_LT; break;
            }
            i += t->len;
            continue;
        }
        size_t j = i;
        while (j < n && !sel_special(s[j]) && !sel_space(s[j]))
            j++;
        t->len = j - i;
        if (t->len == 2 && memcmp(t->lit, "in", 2) == 0)
            t->t = TOK_IN;
        else if (t->len == 5 && memcmp(t->lit, "notin", 5) == 0)
            t->t = TOK_NOTIN;
        else
            t->t = TOK_ID;
        i = j;
    }
    *count = k;
    return toks;
}

/* ---- the string form: parser ---- */

struct sel_parser {
    const struct sel_token *toks;
    size_t pos;
    struct sel_build *b;
    char *err;
    size_t errlen;
};

/* The token at pos; where a value may stand ("values" context), the
 * keywords in and notin are plain identifiers. */
static struct sel_token sel_peek(const struct sel_parser *p, bool values)
{
    struct sel_token t = p->toks[p->pos];
    if (values && (t.t == TOK_IN || t.t == TOK_NOTIN))
        t.t = TOK_ID;
    return t;
}

static struct sel_token sel_next(struct sel_parser *p, bool values)
{
    struct sel_token t = sel_peek(p, values);
    if (t.t != TOK_END)
        p->pos++;
    return t;
}

#define SEL_BAD(p, ...) (sel_err((p)->err, (p)->errlen, __VA_ARGS__), false)
#define SEL_REQ "unable to parse requirement: "

/* A growable list of values for one requirement. */
struct sel_vlist {
    struct sel_val *v;
    size_t n, cap;
};

static void sel_vlist_add(struct sel_vlist *l, const char *s, size_t n)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 4;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = (struct sel_val){s, n};
}

static int sel_val_cmp(const void *a, const void *b)
{
    const struct sel_val *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* sets.String.List(): sorted, without repeats (so errors name values in the
 * order Kubernetes names them). */
static void sel_vlist_set(struct sel_vlist *l)
{
    if (l->n < 2)
        return;
    qsort(l->v, l->n, sizeof *l->v, sel_val_cmp);
    size_t k = 1;
    for (size_t i = 1; i < l->n; i++)
        if (sel_val_cmp(&l->v[i], &l->v[k - 1]) != 0)
            l->v[k++] = l->v[i];
    l->n = k;
}

/* ( values ): "()" is {""}; empty items between commas are "" too. This is
 * 0.32's parseIdentifiersList, quirks included: "(a,,)" is refused. */
static bool sel_parse_values(struct sel_parser *p, struct sel_vlist *l)
{
    struct sel_token t = sel_next(p, true);
    if (t.t != TOK_OPEN)
        return SEL_BAD(p, SEL_REQ "found '%.*s' expected: '('", (int)t.len, t.lit);
    t = sel_peek(p, true);
    if (t.t == TOK_CLOSE) {
        sel_next(p, true);
        sel_vlist_add(l, "", 0);
        return true;
    }
    if (t.t != TOK_ID && t.t != TOK_COMMA)
        return SEL_BAD(p, SEL_REQ "found '%.*s', expected: ',', ')' or identifier", (int)t.len,
                       t.lit);
    for (;;) {
        t = sel_next(p, true);
        if (t.t == TOK_ID) {
            sel_vlist_add(l, t.lit, t.len);
            struct sel_token after = sel_peek(p, true);
            if (after.t == TOK_CLOSE) {
                sel_next(p, true);
                return true;
            }
            if (after.t != TOK_COMMA)
                return SEL_BAD(p, SEL_REQ "found '%.*s', expected: ',' or ')'", (int)after.len,
                               after.lit);
        } else if (t.t == TOK_COMMA) {
            if (l->n == 0)
                sel_vlist_add(l, "", 0); /* "(," */
            struct sel_token after = sel_peek(p, true);
            if (after.t == TOK_CLOSE) {    /* ",)" */
                sel_next(p, true);
                sel_vlist_add(l, "", 0);
                return true;
            }
            if (after.t == TOK_COMMA) {    /* ",," */
                sel_next(p, true);
                sel_vlist_add(l, "", 0);
            }
        } else {
            return SEL_BAD(p, SEL_REQ "found '%.*s', expected: ',', or identifier", (int)t.len,
                           t.lit);
        }
    }
}

/* The one value after =, == or !=, "" when the requirement ends there. */
static bool sel_parse_exact(struct sel_parser *p, struct sel_vlist *l)
{
    struct sel_token t = sel_peek(p, true);
    if (t.t == TOK_END || t.t == TOK_COMMA) {
        sel_vlist_add(l, "", 0);
        return true;
    }
    t = sel_next(p, true);
    if (t.t != TOK_ID)
        return SEL_BAD(p, SEL_REQ "found '%.*s', expected: identifier", (int)t.len, t.lit);
    sel_vlist_add(l, t.lit, t.len);
    return true;
}

/* [!] KEY [ op value | op ( values ) ] */
static bool sel_parse_requirement(struct sel_parser *p)
{
    struct sel_token t = sel_next(p, true);
    bool negated = t.t == TOK_NOT;
    if (negated)
        t = sel_next(p, true);
    if (t.t != TOK_ID)
        return SEL_BAD(p, SEL_REQ "found '%.*s', expected: identifier", (int)t.len, t.lit);
    struct sel_token key = t;
    struct ubuf detail = {0};
    if (!sel_check_key(key.lit, key.len, &detail)) {
        struct ubuf q = {0};
        sel_quote(&q, key.lit, key.len);
        sel_err(p->err, p->errlen, SEL_REQ "<nil>: Invalid value: %s: %s", q.data, detail.data);
        ubuf_free(&q);
        ubuf_free(&detail);
        return false;
    }
    ubuf_free(&detail);

    struct sel_newreq q = {.key = key.lit, .klen = key.len};
    struct sel_token after = sel_peek(p, true);
    if (negated || after.t == TOK_END || after.t == TOK_COMMA) {
        /* "!k" is complete whatever follows; what follows is the caller's */
        q.op = negated ? SEL_NOT_EXIST : SEL_EXISTS;
        return sel_add_req(p->b, &q, SEL_REQ, p->err, p->errlen);
    }

    struct sel_token op = sel_next(p, false);
    bool set = false;
    switch (op.t) {
    case TOK_IN: q.op = SEL_IN; set = true; break;
    case TOK_NOTIN: q.op = SEL_NOT_IN; set = true; break;
    case TOK_EQ:
    case TOK_EQEQ: q.op = SEL_IN; q.exact = true; break;
    case TOK_NE: q.op = SEL_NOT_IN; q.exact = true; break;
    case TOK_GT: q.op = SEL_GT; break;
    case TOK_LT: q.op = SEL_LT; break;
    default:
        return SEL_BAD(p, SEL_REQ "found '%.*s', expected: in, notin, =, ==, !=, gt, lt",
                       (int)op.len, op.lit);
    }
    struct sel_vlist l = {0};
    bool ok = set ? sel_parse_values(p, &l) : sel_parse_exact(p, &l);
    if (ok) {
        sel_vlist_set(&l);
        q.vals = l.v;
        q.n = l.n;
        ok = sel_add_req(p->b, &q, SEL_REQ, p->err, p->errlen);
    }
    free(l.v);
    return ok;
}

/* requirement { "," requirement } */
static bool sel_parse_all(struct sel_parser *p)
{
    for (;;) {
        struct sel_token t = sel_peek(p, true);
        if (t.t == TOK_END)
            return true;
        if (t.t != TOK_ID && t.t != TOK_NOT)
            return SEL_BAD(p, "found '%.*s', expected: !, identifier, or 'end of string'",
                           (int)t.len, t.lit);
        if (!sel_parse_requirement(p))
            return false;
        t = sel_next(p, true);
        if (t.t == TOK_END)
            return true;
        if (t.t != TOK_COMMA)
            return SEL_BAD(p, "found '%.*s', expected: ',' or 'end of string'", (int)t.len,
                           t.lit);
        t = sel_peek(p, true);
        if (t.t != TOK_ID && t.t != TOK_NOT)
            return SEL_BAD(p, "found '%.*s', expected: identifier after ','", (int)t.len, t.lit);
    }
}

struct kube_selector *kube_selector_parse(const char *s, char *err, size_t errlen)
{
    sel_err(err, errlen, "%s", "");
    struct sel_build b = {0};
    size_t n_toks = 0;
    struct sel_token *toks = sel_lex(s ? s : "", &n_toks);
    struct sel_parser p = {.toks = toks, .b = &b, .err = err, .errlen = errlen};
    bool ok = sel_parse_all(&p);
    free(toks);
    if (!ok) {
        sel_build_discard(&b);
        return NULL;
    }
    return sel_build_finish(&b);
}

/* ---- the object form: metav1.LabelSelector ---- */

static bool sel_json_values(json_t *expr, struct sel_vlist *l, bool *is_nil, char *err,
                            size_t errlen)
{
    json_t *vals = json_object_get(expr, "values");
    *is_nil = true;
    if (!vals || json_is_null(vals))
        return true;
    if (!json_is_array(vals)) {
        sel_err(err, errlen, "matchExpressions: values must be a list of strings");
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(vals, i, v) {
        if (!json_is_string(v)) {
            sel_err(err, errlen, "matchExpressions: values[%zu] must be a string", i);
            return false;
        }
        sel_vlist_add(l, json_string_value(v), json_string_length(v));
    }
    *is_nil = l->n == 0; /* append([]string(nil), empty...) stays nil */
    return true;
}

static bool sel_json_match_labels(struct sel_build *b, json_t *ml, char *err, size_t errlen)
{
    if (!ml || json_is_null(ml))
        return true;
    if (!json_is_object(ml)) {
        sel_err(err, errlen, "matchLabels must be an object of strings");
        return false;
    }
    const char *k;
    json_t *v;
    json_object_foreach(ml, k, v) {
        if (!json_is_string(v)) {
            sel_err(err, errlen, "matchLabels: the value of %s must be a string", k);
            return false;
        }
        struct sel_val val = {json_string_value(v), json_string_length(v)};
        struct sel_newreq q = {.key = k, .klen = strlen(k), .op = SEL_IN, .exact = true,
                               .vals = &val, .n = 1, .check_key = true};
        if (!sel_add_req(b, &q, "", err, errlen))
            return false;
    }
    return true;
}

static const struct {
    const char *name;
    enum sel_op op;
} sel_json_ops[] = {
    {"In", SEL_IN},
    {"NotIn", SEL_NOT_IN},
    {"Exists", SEL_EXISTS},
    {"DoesNotExist", SEL_NOT_EXIST},
};

static bool sel_json_expression(struct sel_build *b, json_t *expr, size_t i, char *err,
                                size_t errlen)
{
    if (!json_is_object(expr)) {
        sel_err(err, errlen, "matchExpressions[%zu] must be an object", i);
        return false;
    }
    json_t *key = json_object_get(expr, "key"), *op = json_object_get(expr, "operator");
    if ((key && !json_is_string(key) && !json_is_null(key)) ||
        (op && !json_is_string(op) && !json_is_null(op))) {
        sel_err(err, errlen, "matchExpressions[%zu]: key and operator must be strings", i);
        return false;
    }
    const char *opname = json_is_string(op) ? json_string_value(op) : "";
    struct sel_newreq q = {.key = json_is_string(key) ? json_string_value(key) : "",
                           .check_key = true};
    q.klen = json_is_string(key) ? json_string_length(key) : 0;
    size_t k = 0;
    while (k < sizeof sel_json_ops / sizeof sel_json_ops[0] &&
           strcmp(sel_json_ops[k].name, opname) != 0)
        k++;
    if (k == sizeof sel_json_ops / sizeof sel_json_ops[0]) {
        struct ubuf quoted = {0};
        sel_quote(&quoted, opname, strlen(opname));
        sel_err(err, errlen, "%s is not a valid label selector operator", quoted.data);
        ubuf_free(&quoted);
        return false;
    }
    q.op = sel_json_ops[k].op;
    struct sel_vlist l = {0};
    bool ok = sel_json_values(expr, &l, &q.values_nil, err, errlen);
    if (ok) {
        q.vals = l.v;
        q.n = l.n;
        ok = sel_add_req(b, &q, "", err, errlen);
    }
    free(l.v);
    return ok;
}

struct kube_selector *kube_selector_from_json(json_t *ls, char *err, size_t errlen)
{
    sel_err(err, errlen, "%s", "");
    struct sel_build b = {0};
    if (!ls || json_is_null(ls)) {
        struct kube_selector *s = sel_build_finish(&b);
        s->nothing = true;
        return s;
    }
    if (!json_is_object(ls)) {
        sel_err(err, errlen, "a label selector must be an object");
        return NULL;
    }
    json_t *exprs = json_object_get(ls, "matchExpressions");
    if (exprs && !json_is_null(exprs) && !json_is_array(exprs)) {
        sel_err(err, errlen, "matchExpressions must be a list");
        return NULL;
    }
    bool ok = sel_json_match_labels(&b, json_object_get(ls, "matchLabels"), err, errlen);
    size_t i;
    json_t *e;
    if (ok && json_is_array(exprs))
        json_array_foreach(exprs, i, e) {
            if (!(ok = sel_json_expression(&b, e, i, err, errlen)))
                break;
        }
    if (!ok) {
        sel_build_discard(&b);
        return NULL;
    }
    return sel_build_finish(&b);
}

/* ---- matching ---- */

static bool sel_has_value(const struct kube_selector *s, const struct sel_req *r, json_t *v)
{
    if (!json_is_string(v))
        return false;
    const char *str = json_string_value(v);
    size_t n = json_string_length(v);
    for (uint32_t i = 0; i < r->count; i++) {
        const struct sel_span *sp = &s->vals[r->first + i];
        if (sp->len == n && memcmp(s->pool + sp->off, str, n) == 0)
            return true;
    }
    return false;
}

static bool sel_req_match(const struct kube_selector *s, const struct sel_req *r, json_t *labels)
{
    json_t *v = labels ? json_object_get(labels, s->pool + r->key.off) : NULL;
    int64_t n;
    switch (r->op) {
    case SEL_IN:
        return v && sel_has_value(s, r, v);
    case SEL_NOT_IN:
        return !v || !sel_has_value(s, r, v);
    case SEL_EXISTS:
        return v != NULL;
    case SEL_NOT_EXIST:
        return v == NULL;
    case SEL_GT:
    case SEL_LT:
        if (!json_is_string(v) || !sel_parse_int(json_string_value(v), json_string_length(v), &n))
            return false;
        return r->op == SEL_GT ? n > r->num : n < r->num;
    }
    return false;
}

bool kube_selector_match(const struct kube_selector *sel, json_t *labels)
{
    assert(sel);
    if (sel->nothing)
        return false;
    for (uint32_t i = 0; i < sel->n_reqs; i++)
        if (!sel_req_match(sel, &sel->reqs[i], labels))
            return false;
    return true;
}

bool kube_selector_empty(const struct kube_selector *sel)
{
    return !sel->nothing && sel->n_reqs == 0;
}

void kube_selector_free(struct kube_selector *sel)
{
    if (!sel)
        return;
    free(sel->reqs);
    free(sel->vals);
    free(sel->pool);
    free(sel);
}
