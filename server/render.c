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
#include <stdio.h>
#include <string.h>
#include <time.h>

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

json_t *render_row(struct render *rd, json_t *obj)
{
    return row(rd, obj);
}

json_t *render_table(struct render *rd, json_t *rows, const char *rv, const char *cont)
{
    json_t *t = table_new(rd, rv, cont, true);
    json_object_set_new(t, "rows", rows);
    return t;
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
    json_array_append_new(json_object_get(t, "rows"), row(rd, obj));
    json_decref(obj);
    return t;
}
