/* render.c — what a read returns: the objects as JSON, or a
 * meta.k8s.io/v1 Table when the client asks for one.
 *
 * kubectl's human output sends `Accept: application/json;as=Table;v=v1;
 * g=meta.k8s.io, ...`; it then prints the server's columns (kube/table.c,
 * Kubernetes' printers) and needs each row's `object` for the NAMESPACE
 * column of -A and for --show-labels: by default a PartialObjectMetadata
 * (kind, apiVersion, metadata), the full object with includeObject=Object
 * (--sort-by), nothing with includeObject=None. A watch sends one Table of
 * one row per event, with the column definitions in the first only, as
 * Kubernetes does. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "kube/kube.h"
#include "server/internal.h"

void render_init(struct render *rd, struct request *rq, const struct resource *r)
{
    memset(rd, 0, sizeof *rd);
    rd->res = r;
    rd->now = (int64_t)time(NULL);
    const char *accept = request_header(rq, "Accept");
    rd->table = accept && strstr(accept, "as=Table") && strstr(accept, "g=meta.k8s.io");
    const char *inc = request_arg(rq, "includeObject");
    rd->include = RENDER_INCLUDE_METADATA;
    if (inc && strcmp(inc, "Object") == 0)
        rd->include = RENDER_INCLUDE_OBJECT;
    else if (inc && strcmp(inc, "None") == 0)
        rd->include = RENDER_INCLUDE_NONE;
    rd->columns_sent = false;
}

static json_t *row_object(const struct render *rd, json_t *obj)
{
    switch (rd->include) {
    case RENDER_INCLUDE_NONE:
        return NULL;
    case RENDER_INCLUDE_OBJECT:
        return json_incref(obj);
    default:
        break;
    }
    json_t *md = json_object_get(obj, "metadata");
    return json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata", "apiVersion",
                     "meta.k8s.io/v1", "metadata", md ? md : json_object());
}

static json_t *row(const struct render *rd, json_t *obj)
{
    json_t *cells = kube_table_cells(rd->res->group, rd->res->kind, obj, rd->now);
    json_t *r = json_pack("{s:o}", "cells", cells ? cells : json_array());
    json_t *o = row_object(rd, obj);
    if (o)
        json_object_set_new(r, "object", o);
    return r;
}

static json_t *table_new(struct render *rd, const char *rv, const char *cont, bool columns)
{
    json_t *t = json_pack("{s:s, s:s, s:{}}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                          "metadata");
    json_t *md = json_object_get(t, "metadata");
    if (rv)
        json_object_set_new(md, "resourceVersion", json_string(rv));
    if (cont && *cont)
        json_object_set_new(md, "continue", json_string(cont));
    if (columns) {
        json_t *cols = kube_table_columns(rd->res->group, rd->res->kind);
        json_object_set_new(t, "columnDefinitions", cols ? cols : json_array());
    }
    json_object_set_new(t, "rows", json_array());
    return t;
}

/* The row's object as text: nothing, the whole object, or its
 * PartialObjectMetadata; the bytes json_dumps wrote of row_object's tree. */
static int row_object_text(const struct render *rd, const struct store_obj *o, const char *rv,
                           struct ubuf *out)
{
    switch (rd->include) {
    case RENDER_INCLUDE_NONE:
        return 0;
    case RENDER_INCLUDE_OBJECT:
        ubuf_append(out, ",\"object\":", 10);
        return codec_msgpack_json_text(o->obj, o->obj_len, rv, out);
    default:
        break;
    }
    ubuf_appendf(out, ",\"object\":{\"kind\":\"PartialObjectMetadata\","
                      "\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":");
    int rc = codec_msgpack_json_text_at(o->obj, o->obj_len, "metadata", rv, out);
    if (rc == 1) /* none stored: object_render's */
        ubuf_appendf(out, "{\"resourceVersion\":\"%s\"}", rv);
    ubuf_append(out, "}", 1);
    return rc < 0 ? -1 : 0;
}

int render_row_text(struct render *rd, const struct store_obj *o, const char *rv,
                    struct ubuf *out)
{
    json_t *v = codec_msgpack_to_json_without(o->obj, o->obj_len, "metadata.managedFields");
    if (!json_is_object(v)) {
        json_decref(v);
        return -1;
    }
    json_t *md = json_object_get(v, "metadata");
    if (json_is_object(md)) /* as object_render: a printer may read it */
        json_object_set_new(md, "resourceVersion", json_string(rv));
    json_t *cells = kube_table_cells(rd->res->group, rd->res->kind, v, rd->now);
    json_decref(v);
    char *text = json_dumps(cells, JSON_COMPACT);
    json_decref(cells);
    if (!text)
        return -1;
    size_t start = out->len;
    ubuf_appendf(out, "{\"cells\":%s", text);
    free(text);
    if (row_object_text(rd, o, rv, out) != 0) {
        out->len = start;
        return -1;
    }
    ubuf_append(out, "}", 1);
    return 0;
}

void render_table_head(struct render *rd, const char *rv, const char *cont, struct ubuf *head)
{
    json_t *t = table_new(rd, rv, cont, true);
    json_object_del(t, "rows");
    char *s = json_dumps(t, JSON_COMPACT);
    json_decref(t);
    size_t len = strlen(s);
    assert(len > 2 && s[len - 1] == '}');
    ubuf_append(head, s, len - 1); /* rows go last, as table_new puts them */
    ubuf_append(head, ",\"rows\":[", 9);
    free(s);
}

json_t *render_object(struct render *rd, json_t *obj)
{
    if (!rd->table)
        return obj;
    const char *rv =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    json_t *t = table_new(rd, rv, NULL, true);
    json_array_append_new(json_object_get(t, "rows"), row(rd, obj));
    json_decref(obj);
    return t;
}

json_t *render_event(struct render *rd, json_t *obj)
{
    if (!rd->table)
        return obj;
    const char *rv =
        json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
    json_t *t = table_new(rd, rv, NULL, !rd->columns_sent);
    rd->columns_sent = true;
    /* Ages are of the moment the event goes out, as Kubernetes' printers
     * compute them, not of the watch's start: an object created after the
     * watch began would be older than "now" (<invalid>). */
    rd->now = (int64_t)time(NULL);
    json_array_append_new(json_object_get(t, "rows"), row(rd, obj));
    json_decref(obj);
    return t;
}
