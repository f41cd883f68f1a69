/* yaml.c — YAML request bodies (application/yaml, and server-side apply's
 * application/apply-patch+yaml) into JSON, with libyaml.
 *
 * The document is read as a tree of libyaml parser events: mappings become
 * JSON objects (keys must be scalars), sequences arrays, and scalars are
 * typed as YAML 1.2's core schema does (what sigs.k8s.io/yaml gives for
 * Kubernetes manifests): plain `null`, `~` or nothing is null, `true` and
 * `false` are booleans, decimal, octal (0o), hex (0x) integers and floats
 * are numbers, everything quoted or otherwise is a string. Aliases are
 * expanded by copying the anchored value; the expansion is bounded
 * (YAML_MAX_NODES) so a "billion laughs" document is an error, not an
 * out-of-memory. Only the first document of a stream is read. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "codec/codec.h"

#define YAML_MAX_NODES 1000000
#define YAML_MAX_ANCHORS 1024

struct anchor {
    char *name;
    json_t *value;
};

struct yctx {
    yaml_parser_t p;
    struct anchor anchors[YAML_MAX_ANCHORS];
    unsigned n_anchors;
    size_t nodes;
    char *err;
    size_t errlen;
    bool failed;
};

static void fail(struct yctx *y, const char *fmt, const char *arg, size_t line)
{
    if (y->failed)
        return;
    y->failed = true;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    snprintf(y->err, y->errlen, "yaml: line %zu: %s", line + 1, msg);
}

static bool next_event(struct yctx *y, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&y->p, ev)) {
        fail(y, "%s", y->p.problem ? y->p.problem : "syntax error", y->p.problem_mark.line);
        return false;
    }
    return true;
}

static bool is_int(const char *s, long long *out)
{
    char *end;
    errno = 0;
    const char *d = s + (*s == '-' || *s == '+');
    long long v;
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'o') && d[2]) {
        unsigned long long u = strtoull(d + 2, &end, d[1] == 'x' ? 16 : 8);
        if (*end || errno || u > (unsigned long long)LLONG_MAX)
            return false;
        v = *s == '-' ? -(long long)u : (long long)u;
    } else {
        if (!(*d >= '0' && *d <= '9'))
            return false;
        for (const char *c = d; *c; c++)
            if (*c < '0' || *c > '9')
                return false;
        v = strtoll(s, &end, 10);
        if (*end || errno)
            return false;
    }
    *out = v;
    return true;
}

static bool is_float(const char *s, double *out)
{
    const char *c = s + (*s == '-' || *s == '+');
    if (!strcmp(c, ".inf") || !strcmp(c, ".Inf") || !strcmp(c, ".INF") || !strcmp(c, ".nan") ||
        !strcmp(c, ".NaN") || !strcmp(c, ".NAN"))
        return false; /* JSON has no infinities or NaN: keep the string */
    bool digit = false;
    for (; *c; c++) {
        if (*c >= '0' && *c <= '9')
            digit = true;
        else if (!strchr(".eE+-", *c))
            return false;
    }
    if (!digit)
        return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || !isfinite(d))
        return false;
    *out = d;
    return true;
}

static json_t *scalar(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || ev->data.scalar.tag)
        return json_stringn(v, len);
    if (len == 0 || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL") ||
        !strcmp(v, "~"))
        return json_null();
    if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
        return json_true();
    if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
        return json_false();
    long long i;
    double d;
    if (strlen(v) == len && is_int(v, &i))
        return json_integer(i);
    if (strlen(v) == len && is_float(v, &d))
        return json_real(d);
    return json_stringn(v, len);
}

static void anchor_add(struct yctx *y, const yaml_char_t *name, json_t *v, size_t line)
{
    if (!name)
        return;
    if (y->n_anchors == YAML_MAX_ANCHORS) {
        fail(y, "too many anchors", NULL, line);
        return;
    }
    y->anchors[y->n_anchors].name = xstrdup((const char *)name);
    y->anchors[y->n_anchors].value = json_incref(v);
    y->n_anchors++;
}

/* Counts the nodes an alias would copy, so expansion stays bounded. */
static size_t count_nodes(json_t *v)
{
    size_t n = 1;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) n += count_nodes(e);
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) n += count_nodes(e);
    }
    return n;
}

static json_t *alias(struct yctx *y, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (unsigned i = y->n_anchors; i-- > 0;) {
        if (strcmp(y->anchors[i].name, name) != 0)
            continue;
        y->nodes += count_nodes(y->anchors[i].value);
        if (y->nodes > YAML_MAX_NODES) {
            fail(y, "document expands to too many nodes", NULL, ev->start_mark.line);
            return NULL;
        }
        return json_deep_copy(y->anchors[i].value);
    }
    fail(y, "unknown anchor '%s' referenced", name, ev->start_mark.line);
    return NULL;
}

static json_t *node(struct yctx *y, yaml_event_t *ev, int depth);

static json_t *sequence(struct yctx *y, int depth)
{
    json_t *arr = json_array();
    for (;;) {
        yaml_event_t ev;
        if (!next_event(y, &ev))
            break;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return arr;
        }
        json_t *v = node(y, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!v)
            break;
        json_array_append_new(arr, v);
    }
    json_decref(arr);
    return NULL;
}

static json_t *mapping(struct yctx *y, int depth)
{
    json_t *obj = json_object();
    for (;;) {
        yaml_event_t kev;
        if (!next_event(y, &kev))
            break;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return obj;
        }
        if (kev.type != YAML_SCALAR_EVENT) {
            fail(y, "a mapping key must be a scalar", NULL, kev.start_mark.line);
            yaml_event_delete(&kev);
            break;
        }
        char *key = xstrndup((const char *)kev.data.scalar.value, kev.data.scalar.length);
        size_t line = kev.start_mark.line;
        yaml_event_delete(&kev);
        yaml_event_t vev;
        json_t *v = NULL;
        if (next_event(y, &vev)) {
            v = node(y, &vev, depth + 1);
            yaml_event_delete(&vev);
        }
        if (v && json_object_get(obj, key)) {
            fail(y, "mapping key \"%s\" already defined", key, line);
            json_decref(v);
            v = NULL;
        }
        if (!v) {
            free(key);
            break;
        }
        if (json_object_set_new(obj, key, v) != 0) {
            fail(y, "a mapping key is not valid UTF-8", NULL, line);
            free(key);
            break;
        }
        free(key);
    }
    json_decref(obj);
    return NULL;
}

static json_t *node(struct yctx *y, yaml_event_t *ev, int depth)
{
    if (depth > CODEC_MAX_DEPTH) {
        fail(y, "document nests too deeply", NULL, ev->start_mark.line);
        return NULL;
    }
    if (++y->nodes > YAML_MAX_NODES) {
        fail(y, "document has too many nodes", NULL, ev->start_mark.line);
        return NULL;
    }
    json_t *v = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        v = scalar(ev);
        if (!v)
            fail(y, "a string is not valid UTF-8", NULL, ev->start_mark.line);
        anchor_add(y, ev->data.scalar.anchor, v, ev->start_mark.line);
        break;
    case YAML_SEQUENCE_START_EVENT:
        v = sequence(y, depth);
        anchor_add(y, ev->data.sequence_start.anchor, v, ev->start_mark.line);
        break;
    case YAML_MAPPING_START_EVENT:
        v = mapping(y, depth);
        anchor_add(y, ev->data.mapping_start.anchor, v, ev->start_mark.line);
        break;
    case YAML_ALIAS_EVENT:
        v = alias(y, ev);
        break;
    default:
        fail(y, "unexpected YAML event", NULL, ev->start_mark.line);
    }
    return y->failed ? (json_decref(v), NULL) : v;
}

json_t *codec_yaml_to_json(const void *buf, size_t len, char *err, size_t errlen)
{
    struct yctx *y = xcalloc(1, sizeof *y);
    y->err = err;
    y->errlen = errlen;
    json_t *doc = NULL;
    yaml_parser_initialize(&y->p);
    yaml_parser_set_input_string(&y->p, buf, len);
    yaml_event_t ev;
    bool in_doc = false;
    while (!doc && !y->failed && next_event(y, &ev)) {
        yaml_event_type_t t = ev.type;
        if (t == YAML_DOCUMENT_START_EVENT)
            in_doc = true;
        else if (in_doc && t != YAML_DOCUMENT_END_EVENT)
            doc = node(y, &ev, 0);
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT || t == YAML_DOCUMENT_END_EVENT)
            break;
    }
    if (!doc && !y->failed)
        doc = json_null(); /* an empty document */
    yaml_parser_delete(&y->p);
    for (unsigned i = 0; i < y->n_anchors; i++) {
        free(y->anchors[i].name);
        json_decref(y->anchors[i].value);
    }
    free(y);
    return doc;
}
