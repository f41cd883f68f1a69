/* filter.c — which objects a list or a watch returns: the labelSelector
 * and fieldSelector query parameters, parsed once per request.
 *
 * Field selectors follow Kubernetes: `key=value`, `key==value` and
 * `key!=value` joined by commas, with `\` escaping `,`, `=` and `\` in
 * values; only the fields Kubernetes indexes for the kind may be used (every
 * kind: metadata.name and metadata.namespace; pods: spec.nodeName,
 * status.phase, ...; events: involvedObject.*, reason, type, ...), anything
 * else is a 400 "field label not supported", as Kubernetes answers.
 * metadata.name and metadata.namespace equality are checked on the store
 * key, before the object is decoded; the rest on the decoded JSON, where a
 * missing field reads as "" (so `spec.nodeName=` selects unscheduled pods).
 * Label selectors are kube/selector.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "kube/kube.h"
#include "server/internal.h"

#define FILTER_MAX_REQS 16

struct field_req {
    char path[64]; /* dotted JSON path */
    char *value;
    bool negate;
};

struct filter {
    struct kube_selector *labels; /* NULL: no label selector */
    struct field_req reqs[FILTER_MAX_REQS];
    unsigned n_reqs;
    const char *name, *ns; /* equality on the key; point into reqs */
    bool needs_object;     /* a requirement other than key equality */
};

/* The extra fields each kind's field selector supports (Kubernetes'
 * GetAttrs / field label conversion functions). */
static const struct {
    const char *group, *kind;
    const char *fields[12];
} selectable[] = {
    {"", "Pod",
     {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
      "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"}},
    {"", "Event",
     {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
      "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
      "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"}},
    {"", "Namespace", {"status.phase"}},
    {"", "Node", {"spec.unschedulable"}},
    {"", "Secret", {"type"}},
    {"", "PersistentVolumeClaim", {"status.phase"}},
    {"apps", "ReplicaSet", {"status.replicas"}},
    {"batch", "Job", {"status.successful"}},
};

static bool field_supported(const struct resource *r, const char *path)
{
    if (strcmp(path, "metadata.name") == 0 || strcmp(path, "metadata.namespace") == 0)
        return true;
    for (size_t i = 0; i < sizeof selectable / sizeof selectable[0]; i++) {
        if (strcmp(selectable[i].group, r->group) != 0 || strcmp(selectable[i].kind, r->kind) != 0)
            continue;
        for (size_t j = 0; j < 12 && selectable[i].fields[j]; j++)
            if (strcmp(selectable[i].fields[j], path) == 0)
                return true;
    }
    return false;
}

/* Splits s at unescaped c; *out gets the unescaped token (malloc'd). Returns
 * the position after the separator, or NULL at the end of s. */
static const char *token(const char *s, const char *seps, char *found, char **out)
{
    struct ubuf b = {0};
    *found = '\0';
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            ubuf_append(&b, s, 1);
            continue;
        }
        if (strchr(seps, *s)) {
            *found = *s;
            break;
        }
        ubuf_append(&b, s, 1);
    }
    ubuf_append(&b, "", 1);
    *out = b.data;
    return *s ? s + 1 : NULL;
}

static void trim(char *s)
{
    size_t n = strlen(s), i = 0;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

/* One requirement "key=value", "key==value" or "key!=value". */
static bool req_parse(struct filter *f, const struct resource *r, char *req, char *err,
                      size_t errlen)
{
    char *op = strstr(req, "!=");
    size_t oplen = 2;
    bool negate = op != NULL;
    if (!op) {
        op = strstr(req, "==");
        if (!op) {
            op = strchr(req, '=');
            oplen = 1;
        }
    }
    if (!op) {
        snprintf(err, errlen, "invalid selector: '%s'; can't understand '%s'", req, req);
        return false;
    }
    *op = '\0';
    trim(req);
    if (!field_supported(r, req)) {
        snprintf(err, errlen, "field label not supported: %s", req);
        return false;
    }
    if (f->n_reqs == FILTER_MAX_REQS) {
        snprintf(err, errlen, "too many field selector requirements");
        return false;
    }
    struct field_req *fr = &f->reqs[f->n_reqs++];
    snprintf(fr->path, sizeof fr->path, "%s", req);
    fr->value = xstrdup(op + oplen);
    trim(fr->value);
    fr->negate = negate;
    return true;
}

static bool fields_parse(struct filter *f, const struct resource *r, const char *s, char *err,
                         size_t errlen)
{
    while (s && *s) {
        /* Split at an unescaped comma, keeping escapes for the value. */
        const char *e = s;
        while (*e && *e != ',') {
            if (*e == '\\' && e[1])
                e++;
            e++;
        }
        char *raw = xstrndup(s, (size_t)(e - s)), *req, found;
        token(raw, "", &found, &req); /* unescape */
        free(raw);
        if (!*req) {
            free(req);
            s = *e ? e + 1 : NULL;
            continue;
        }
        bool ok = req_parse(f, r, req, err, errlen);
        free(req);
        if (!ok)
            return false;
        s = *e ? e + 1 : NULL;
    }
    return true;
}

struct filter *filter_parse(const struct resource *r, const char *label_sel,
                            const char *field_sel, char *err, size_t errlen)
{
    struct filter *f = xcalloc(1, sizeof *f);
    if (label_sel && *label_sel) {
        f->labels = kube_selector_parse(label_sel, err, errlen);
        if (!f->labels) {
            filter_free(f);
            return NULL;
        }
        if (kube_selector_empty(f->labels)) {
            kube_selector_free(f->labels);
            f->labels = NULL;
        }
    }
    if (!fields_parse(f, r, field_sel, err, errlen)) {
        filter_free(f);
        return NULL;
    }
    for (unsigned i = 0; i < f->n_reqs; i++) {
        struct field_req *fr = &f->reqs[i];
        if (!fr->negate && strcmp(fr->path, "metadata.name") == 0 && !f->name)
            f->name = fr->value;
        else if (!fr->negate && strcmp(fr->path, "metadata.namespace") == 0 && !f->ns)
            f->ns = fr->value;
        else
            f->needs_object = true;
    }
    f->needs_object |= f->labels != NULL;
    return f;
}

void filter_free(struct filter *f)
{
    if (!f)
        return;
    kube_selector_free(f->labels);
    for (unsigned i = 0; i < f->n_reqs; i++)
        free(f->reqs[i].value);
    free(f);
}

static bool bytes_eq(const char *s, const char *p, size_t n)
{
    return strlen(s) == n && memcmp(s, p, n) == 0;
}

bool filter_match_key(const struct filter *f, const struct store_obj *o)
{
    if (f->name && !bytes_eq(f->name, o->name, o->name_len))
        return false;
    if (f->ns && !bytes_eq(f->ns, o->ns, o->ns_len))
        return false;
    return true;
}

bool filter_is_empty(const struct filter *f)
{
    return f->n_reqs == 0 && !f->labels && !f->needs_object;
}

bool filter_needs_object(const struct filter *f)
{
    return f->needs_object;
}

const char *filter_name(const struct filter *f)
{
    return f->name;
}

/* The value at a dotted path as the string a field selector compares. */
static void field_value(json_t *obj, const char *path, char *out, size_t len)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = obj;
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok && v;
         tok = strtok_r(NULL, ".", &save))
        v = json_object_get(v, tok);
    out[0] = '\0';
    if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(out, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(out, len, "%s", json_is_true(v) ? "true" : "false");
    else if (!v && strcmp(path, "spec.unschedulable") == 0)
        snprintf(out, len, "false"); /* Kubernetes reads a missing bool as false */
}

json_t *filter_view(const struct filter *f, const struct store_obj *o)
{
    const char *paths[FILTER_MAX_REQS + 1];
    unsigned n = 0;
    for (unsigned i = 0; i < f->n_reqs; i++)
        paths[n++] = f->reqs[i].path;
    if (f->labels)
        paths[n++] = "metadata.labels";
    return codec_msgpack_extract(o->obj, o->obj_len, paths, n);
}

bool filter_match(const struct filter *f, json_t *obj)
{
    for (unsigned i = 0; i < f->n_reqs; i++) {
        const struct field_req *fr = &f->reqs[i];
        char val[512];
        field_value(obj, fr->path, val, sizeof val);
        if ((strcmp(val, fr->value) == 0) == fr->negate)
            return false;
    }
    if (f->labels) {
        json_t *md = json_object_get(obj, "metadata");
        if (!kube_selector_match(f->labels, json_object_get(md, "labels")))
            return false;
    }
    return true;
}
