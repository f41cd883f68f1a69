/* api.c — the Kubernetes REST API: routing of /api/v1/... and
 * /apis/{group}/{version}/... to the handlers, reads of one object, and the
 * helpers every handler shares (Status replies, reading the current object,
 * the resourceVersion rules).
 *
 * Reads follow the resourceVersion rules: none means linearizable
 * (read-index), "0" means this replica's state at once, N means wait until
 * this replica has reached revision N. Lists are list.c's, watches
 * watch.c's, writes write.c's, discovery discovery.c's. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/kube.h"
#include "codec/codec.h"
#include "server/internal.h"

/* ---- paths ---- */

static int split_path(const char *url, char segs[][256], int max)
{
    int n = 0;
    const char *p = url;
    while (*p == '/')
        p++;
    while (*p && n < max) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || len >= 256)
            return -1;
        memcpy(segs[n], p, len);
        segs[n][len] = '\0';
        n++;
        p += len;
        while (*p == '/')
            p++;
    }
    return *p ? -1 : n;
}

/* Fills t from the part of the path after the group/version. */
static bool parse_target(const char *group, const char *version, char rest[][256], int n,
                         struct api_target *t)
{
    memset(t, 0, sizeof *t);
    if (n >= 3 && strcmp(rest[0], "namespaces") == 0) {
        const struct resource *r = resource_find(group, version, rest[2]);
        if (r && r->namespaced && n <= 5) {
            t->res = r;
            snprintf(t->ns, sizeof t->ns, "%s", rest[1]);
            if (n >= 4)
                snprintf(t->name, sizeof t->name, "%s", rest[3]);
            if (n == 5)
                snprintf(t->sub, sizeof t->sub, "%s", rest[4]);
            return true;
        }
    }
    if (n < 1 || n > 3)
        return false;
    const struct resource *r = resource_find(group, version, rest[0]);
    if (!r || (n > 1 && r->namespaced))
        return false;
    t->res = r;
    if (n >= 2)
        snprintf(t->name, sizeof t->name, "%s", rest[1]);
    if (n == 3)
        snprintf(t->sub, sizeof t->sub, "%s", rest[2]);
    return true;
}

/* /api/... or /apis/... */
static bool prefix_is_api(const char *url)
{
    return strncmp(url, "/api/", 5) == 0 || strncmp(url, "/apis/", 6) == 0;
}

static bool has_subresource(const struct resource *r, const char *sub)
{
    size_t n = strlen(sub);
    for (const char *p = r->subresources; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, sub, n) == 0)
            return true;
        p += len + (e ? 1 : 0);
    }
    return false;
}

/* ---- objects ---- */

json_t *object_render(const struct store_obj *o, uint64_t rev)
{
    json_t *v = codec_msgpack_to_json(o->obj, o->obj_len);
    if (!v || !json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    json_t *md = json_object_get(v, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(v, "metadata", md);
    }
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)rev);
    json_object_set_new(md, "resourceVersion", json_string(buf));
    return v;
}

char *object_text(const struct store_obj *o, uint64_t rev, size_t *len)
{
    char rv[24];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    struct ubuf b = {0};
    /* The text is about 1.2x the msgpack (a pod's); sized at once, it is
     * not copied through 256, 512, ... bytes on the way (a tenth of its
     * rendering). */
    ubuf_reserve(&b, o->obj_len + o->obj_len / 4 + 64);
    if (codec_msgpack_json_text(o->obj, o->obj_len, rv, &b) != 0) {
        ubuf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.data;
}

const char *api_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

json_t *api_metadata(json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    return md;
}

/* Maps a failed submission to a reply. */
enum MHD_Result api_reply_cluster_failure(struct request *rq, const struct cluster_result *cr)
{
    switch (cr->code) {
    case CLUSTER_NOT_LEADER:
        return reply_status(rq, 503, "ServiceUnavailable",
                            "no leader is known: the cluster has no quorum or is electing one");
    case CLUSTER_UNKNOWN:
    case CLUSTER_TIMEOUT:
        return reply_status(rq, 504, "Timeout",
                            "the write was not confirmed in time (%s); it may still be applied",
                            cluster_code_name(cr->code));
    case CLUSTER_SHUTDOWN:
        return reply_status(rq, 503, "ServiceUnavailable", "the server is shutting down");
    default:
        return reply_status(rq, 500, "InternalError", "the write failed: %s",
                            cr->message[0] ? cr->message : cluster_code_name(cr->code));
    }
}

enum MHD_Result api_reply_conflict(struct request *rq, const struct api_target *t,
                                      const char *name)
{
    char group[80];
    snprintf(group, sizeof group, "%s%s%s", t->res->plural, t->res->group[0] ? "." : "",
             t->res->group);
    return reply_status(rq, 409, "Conflict",
                        "Operation cannot be fulfilled on %s \"%s\": the object has been "
                        "modified; please apply your changes to the latest version and try again",
                        group, name);
}

/* A Status about one object (NotFound, AlreadyExists), with the details
 * kubectl prints: "configmaps \"x\" not found". */
enum MHD_Result api_reply_object_status(struct request *rq, unsigned code, const char *reason,
                                           const struct api_target *t, const char *name,
                                           const char *what_happened)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s%s%s \"%s\" %s", t->res->plural, t->res->group[0] ? "." : "",
             t->res->group, name, what_happened);
    json_t *st = kube_status(code, reason, msg);
    json_object_set_new(st, "details", json_pack("{s:s, s:s, s:s}", "name", name, "group",
                                                 t->res->group, "kind", t->res->plural));
    return reply_json(rq, code, st);
}

enum MHD_Result api_reply_not_found(struct request *rq, const struct api_target *t,
                                       const char *name)
{
    return api_reply_object_status(rq, 404, "NotFound", t, name, "not found");
}

bool api_dry_run(struct request *rq)
{
    const char *d = request_arg(rq, "dryRun");
    return d && strcmp(d, "All") == 0;
}

/* ---- reads ---- */

/* Applies the resourceVersion rules; 0 or an HTTP status already replied. */
int api_read_consistency(struct request *rq, enum MHD_Result *ret)
{
    const char *rv = request_arg(rq, "resourceVersion");
    struct server *s = rq->srv;
    if (!rv || !*rv) {
        char msg[256];
        int code = server_read_barrier(s, msg, sizeof msg);
        if (code) {
            *ret = reply_status(rq, (unsigned)code, code == 503 ? "ServiceUnavailable" : "Timeout",
                                "%s", msg);
            return code;
        }
        return 0;
    }
    char *end;
    unsigned long long want = strtoull(rv, &end, 10);
    if (*end || rv[0] == '-') {
        *ret = reply_status(rq, 400, "BadRequest", "invalid resourceVersion \"%s\"", rv);
        return 400;
    }
    if (want > 0 && !store_wait_revision_above(s->store, want - 1, 3000)) {
        *ret = reply_status(rq, 504, "Timeout", "Too large resource version: %llu, current: %llu",
                            want, (unsigned long long)store_revision(s->store));
        return 504;
    }
    return 0;
}

static enum MHD_Result handle_get(struct request *rq, const struct api_target *t)
{
    enum MHD_Result ret;
    if (api_read_consistency(rq, &ret))
        return ret;
    struct store_read r;
    struct store_obj o;
    if (store_read_begin(rq->srv->store, &r) != 0)
        return reply_status(rq, 500, "InternalError", "cannot read the store");
    int rc = store_get(&r, t->res->plural, t->res->namespaced ? t->ns : "", t->name, &o);
    json_t *v = rc == 0 ? object_render(&o, o.mod_rev) : NULL;
    store_read_end(&r);
    if (rc == STORE_NOT_FOUND)
        return api_reply_not_found(rq, t, t->name);
    if (!v)
        return reply_status(rq, 500, "InternalError", "cannot decode the stored object");
    struct render rd;
    render_init(&rd, rq, t->res);
    if (strcmp(t->sub, "status") == 0)
        rd.table = false;
    return reply_json(rq, 200, render_object(&rd, v));
}

/* An update or delete reads the object from this replica, which may lag the
 * leader. A precondition failure then makes the write retry, but "not found"
 * (or a resourceVersion newer than what we hold) would be answered wrongly,
 * so before believing it we catch up to a read index and read again. Returns
 * 0, or non-zero with the reply in *ret. */
int api_read_fresh(struct request *rq, enum MHD_Result *ret)
{
    char msg[256];
    int code = server_read_barrier(rq->srv, msg, sizeof msg);
    if (code)
        *ret = reply_status(rq, (unsigned)code, code == 503 ? "ServiceUnavailable" : "Timeout",
                            "%s", msg);
    return code;
}

/* Reads the current object (decoded) and its revision and uid. */
int api_read_current(struct server *s, const struct api_target *t, json_t **obj, uint64_t *rev,
                        char *uid, size_t uidlen)
{
    return api_read_paths(s, t, NULL, 0, obj, rev, uid, uidlen);
}

int api_read_paths(struct server *s, const struct api_target *t, const char *const *paths,
                   unsigned n, json_t **obj, uint64_t *rev, char *uid, size_t uidlen)
{
    struct store_read r;
    struct store_obj o;
    if (store_read_begin(s->store, &r) != 0)
        return -1;
    int rc = store_get(&r, t->res->plural, t->res->namespaced ? t->ns : "", t->name, &o);
    if (rc == 0) {
        *obj = paths ? codec_msgpack_extract(o.obj, o.obj_len, paths, n)
                     : codec_msgpack_to_json(o.obj, o.obj_len);
        *rev = o.mod_rev;
        snprintf(uid, uidlen, "%.*s", (int)o.uid_len, o.uid);
        if (!*obj)
            rc = -1;
    }
    store_read_end(&r);
    return rc;
}

/* ---- dispatch ---- */

static enum MHD_Result not_found(struct request *rq)
{
    return reply_status(rq, 404, "NotFound", "the server could not find the requested resource");
}

static enum MHD_Result collection(struct request *rq, const struct api_target *t)
{
    const char *m = rq->method;
    if (strcmp(m, "GET") == 0)
        return request_is_watch(rq) ? watch_start(rq, t) : list_handle(rq, t);
    if (strcmp(m, "POST") == 0) {
        if (t->res->namespaced && !t->ns[0])
            return reply_status(rq, 405, "MethodNotAllowed",
                                "create %s in a namespace: /namespaces/{namespace}/%s",
                                t->res->plural, t->res->plural);
        return write_create(rq, t);
    }
    if (strcmp(m, "DELETE") == 0)
        return write_delete_collection(rq, t);
    return reply_status(rq, 405, "MethodNotAllowed", "%s is not supported on a collection of %s",
                        m, t->res->plural);
}

/* The verbs each subresource serves (Kubernetes' subresources). */
static enum MHD_Result subresource(struct request *rq, const struct api_target *t)
{
    const char *m = rq->method;
    bool get = strcmp(m, "GET") == 0, put = strcmp(m, "PUT") == 0,
         patch = strcmp(m, "PATCH") == 0;
    if (strcmp(t->sub, "status") == 0 && (get || put || patch))
        return get ? handle_get(rq, t) : put ? write_update(rq, t) : write_patch(rq, t);
    if (strcmp(t->sub, "scale") == 0 && (get || put || patch))
        return get ? write_get_scale(rq, t) : put ? write_update(rq, t) : write_patch(rq, t);
    if (strcmp(t->sub, "finalize") == 0 && put)
        return write_update(rq, t);
    if (strcmp(t->sub, "binding") == 0 && strcmp(m, "POST") == 0)
        return write_bind(rq, t);
    if (strcmp(t->sub, "eviction") == 0 && strcmp(m, "POST") == 0)
        return eviction_create(rq, t);
    if (strcmp(t->sub, "log") == 0 && get)
        return nodeproxy_log(rq, t);
    if (strcmp(t->sub, "exec") == 0 && (get || strcmp(m, "POST") == 0))
        return nodeproxy_exec(rq, t);
    if (strcmp(t->sub, "status") == 0 || strcmp(t->sub, "scale") == 0 ||
        strcmp(t->sub, "finalize") == 0 || strcmp(t->sub, "eviction") == 0 ||
        strcmp(t->sub, "log") == 0 || strcmp(t->sub, "exec") == 0)
        return reply_status(rq, 405, "MethodNotAllowed", "%s is not supported on %s/%s", m,
                            t->res->plural, t->sub);
    return reply_status(rq, 404, "NotFound", "the server could not find the requested resource "
                        "(%s %s/%s)", m, t->res->plural, t->sub);
}

/* On the event loop: a POST to a collection is a create, a PUT or PATCH of
 * an object or its status an update, and a DELETE of an object a deletion,
 * which may start without a worker (write_create_start, write_update_start,
 * write_delete_start); anything else, or a path that does not parse, is
 * left to the worker's api_handle (-1). */
int api_start_async(struct request *rq)
{
    bool post = strcmp(rq->method, "POST") == 0;
    bool update = strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "PATCH") == 0;
    bool del = strcmp(rq->method, "DELETE") == 0;
    if ((!post && !update && !del) || !prefix_is_api(rq->url))
        return -1;
    char segs[12][256];
    int n = split_path(rq->url, segs, 12);
    bool apis = n > 0 && strcmp(segs[0], "apis") == 0;
    int gv_len = apis ? 3 : 2;
    struct api_target t;
    if (n <= gv_len || !parse_target(apis ? segs[1] : "", segs[gv_len - 1], segs + gv_len,
                                     n - gv_len, &t))
        return -1;
    if (t.res->namespaced && !t.ns[0])
        return -1;
    if (update && t.name[0] && (!t.sub[0] || has_subresource(t.res, t.sub)))
        return write_update_start(rq, &t);
    if (del && t.name[0])
        return write_delete_start(rq, &t);
    if (!post || t.name[0] || t.sub[0])
        return -1;
    return write_create_start(rq, &t);
}

enum MHD_Result api_handle(struct request *rq)
{
    char segs[12][256];
    int n = split_path(rq->url, segs, 12);
    if (n < 1)
        return not_found(rq);
    bool apis = strcmp(segs[0], "apis") == 0;
    if (n == 1)
        return discovery_handle_root(rq, apis);
    const char *group = apis ? segs[1] : "";
    int gv_len = apis ? 3 : 2;
    if (apis && n == 2)
        return discovery_handle_group_version(rq, group, NULL);
    const char *version = segs[gv_len - 1];
    if (n == gv_len)
        return discovery_handle_group_version(rq, group, version);

    struct api_target t;
    if (!parse_target(group, version, segs + gv_len, n - gv_len, &t))
        return not_found(rq);
    if (t.sub[0] && !has_subresource(t.res, t.sub))
        return reply_status(rq, 404, "NotFound", "%s has no %s subresource", t.res->plural,
                            t.sub);
    if (!t.name[0])
        return collection(rq, &t);
    if (t.sub[0])
        return subresource(rq, &t);
    const char *m = rq->method;
    if (strcmp(m, "GET") == 0)
        return handle_get(rq, &t);
    if (strcmp(m, "PUT") == 0)
        return write_update(rq, &t);
    if (strcmp(m, "PATCH") == 0)
        return write_patch(rq, &t);
    if (strcmp(m, "DELETE") == 0)
        return write_delete(rq, &t);
    return reply_status(rq, 405, "MethodNotAllowed", "%s is not supported on %s", m,
                        t.res->plural);
}
