/* api.c — the Kubernetes REST API over the store: routing of
 * /api/v1/... and /apis/{group}/{version}/..., and create, get, list,
 * update (PUT), delete, with Kubernetes' Status errors.
 *
 * Writes are decided here, before proposing: uid, creationTimestamp,
 * generation and generated names travel in the command, so apply stays
 * deterministic. An update or delete reads the current object locally and
 * proposes with that object's resourceVersion as precondition; if another
 * write got in between, apply answers Conflict and, unless the client named a
 * resourceVersion itself, we read again and retry (Kubernetes'
 * GuaranteedUpdate). Reads follow the resourceVersion rules: none means
 * linearizable (read-index), "0" means this replica's state at once, N means
 * wait until this replica has reached revision N. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "server/internal.h"

#define UPDATE_RETRIES 8

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

/* ---- names ---- */

/* RFC 1123 label (max 63) or, with dots allowed, subdomain (max 253). */
static const char *name_invalid(const char *name, bool allow_dots)
{
    size_t n = strlen(name);
    if (n == 0)
        return "a name is required";
    if (n > (allow_dots ? 253u : 63u))
        return allow_dots ? "must be no more than 253 characters"
                          : "must be no more than 63 characters";
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (alnum)
            continue;
        if ((c == '-' || (c == '.' && allow_dots)) && i > 0 && i + 1 < n)
            continue;
        return allow_dots
                   ? "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                     "characters, '-' or '.', and must start and end with an alphanumeric "
                     "character"
                   : "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                     "characters or '-', and must start and end with an alphanumeric character";
    }
    return NULL;
}

static enum MHD_Result reply_invalid(struct request *rq, const struct resource *r,
                                     const char *name, const char *field, const char *why)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "%s \"%s\" is invalid: %s: Invalid value: \"%s\": %s", r->kind,
             name, field, name, why);
    json_t *st = status_new(422, "Invalid", msg);
    char group[64];
    snprintf(group, sizeof group, "%s", r->group);
    json_object_set_new(
        st, "details",
        json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s}]}", "name", name, "group", group, "kind",
                  r->kind, "causes", "reason", "FieldValueInvalid", "message", why, "field",
                  field));
    return reply_json(rq, 422, st);
}

static void name_generate(const char *prefix, char *out, size_t len)
{
    static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    unsigned char rnd[5];
    util_random_bytes(rnd, sizeof rnd);
    char suffix[6];
    for (int i = 0; i < 5; i++)
        suffix[i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
    suffix[5] = '\0';
    snprintf(out, len, "%.*s%s", 58, prefix, suffix);
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

static const char *json_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

static json_t *metadata_of(json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) {
        md = json_object();
        json_object_set_new(obj, "metadata", md);
    }
    return md;
}

/* Parses the body as a JSON object of the target's kind; on failure replies
 * and returns NULL (with *replied set). */
static bool content_type_json(struct request *rq)
{
    const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Type");
    if (!ct || !*ct)
        return true;
    size_t n = strcspn(ct, ";");
    return (n == 16 && strncmp(ct, "application/json", 16) == 0) ||
           (n > 17 && strncmp(ct + n - 5, "+json", 5) == 0 && strncmp(ct, "application/", 12) == 0);
}

static json_t *body_object(struct request *rq, const struct api_target *t, enum MHD_Result *ret)
{
    json_error_t e;
    if (!content_type_json(rq)) {
        *ret = reply_status(rq, 415, "UnsupportedMediaType",
                            "the body's media type \"%s\" is not supported; send "
                            "application/json",
                            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                        "Content-Type"));
        return NULL;
    }
    json_t *obj = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, 0, &e);
    if (!obj) {
        *ret = reply_status(rq, 400, "BadRequest", "the request body is not valid JSON: %s",
                            e.text);
        return NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        *ret = reply_status(rq, 400, "BadRequest", "the request body must be a JSON object");
        return NULL;
    }
    char want_av[96];
    resource_api_version(t->res, want_av, sizeof want_av);
    const char *kind = json_str(obj, "kind"), *av = json_str(obj, "apiVersion");
    if (*kind && strcmp(kind, t->res->kind) != 0) {
        *ret = reply_status(rq, 400, "BadRequest",
                            "the kind in the body (%s) does not match the kind of the path (%s)",
                            kind, t->res->kind);
        json_decref(obj);
        return NULL;
    }
    if (*av && strcmp(av, want_av) != 0) {
        *ret = reply_status(rq, 400, "BadRequest",
                            "the API version in the data (%s) does not match the expected API "
                            "version (%s)",
                            av, want_av);
        json_decref(obj);
        return NULL;
    }
    json_object_set_new(obj, "kind", json_string(t->res->kind));
    json_object_set_new(obj, "apiVersion", json_string(want_av));
    json_t *md = json_object_get(obj, "metadata");
    if (md && !json_is_object(md)) {
        *ret = reply_status(rq, 400, "BadRequest", "metadata must be an object");
        json_decref(obj);
        return NULL;
    }
    const char *ns = json_str(metadata_of(obj), "namespace");
    if (t->res->namespaced && *ns && strcmp(ns, t->ns) != 0) {
        *ret = reply_status(rq, 400, "BadRequest",
                            "the namespace of the provided object does not match the namespace "
                            "sent on the request");
        json_decref(obj);
        return NULL;
    }
    return obj;
}


/* Maps a failed submission to a reply. */
static enum MHD_Result reply_cluster_failure(struct request *rq, const struct cluster_result *cr)
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

static enum MHD_Result reply_conflict(struct request *rq, const struct api_target *t,
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
static enum MHD_Result reply_object_status(struct request *rq, unsigned code, const char *reason,
                                           const struct api_target *t, const char *name,
                                           const char *what_happened)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s%s%s \"%s\" %s", t->res->plural, t->res->group[0] ? "." : "",
             t->res->group, name, what_happened);
    json_t *st = status_new(code, reason, msg);
    json_object_set_new(st, "details", json_pack("{s:s, s:s, s:s}", "name", name, "group",
                                                 t->res->group, "kind", t->res->plural));
    return reply_json(rq, code, st);
}

static enum MHD_Result reply_not_found(struct request *rq, const struct api_target *t,
                                       const char *name)
{
    return reply_object_status(rq, 404, "NotFound", t, name, "not found");
}

static bool dry_run(struct request *rq)
{
    const char *d = request_arg(rq, "dryRun");
    return d && strcmp(d, "All") == 0;
}

/* ---- create ---- */

static enum MHD_Result handle_create(struct request *rq, const struct api_target *t)
{
    enum MHD_Result ret;
    json_t *obj = body_object(rq, t, &ret);
    if (!obj)
        return ret;
    json_t *md = metadata_of(obj);
    char name[256];
    snprintf(name, sizeof name, "%s", json_str(md, "name"));
    if (!name[0] && *json_str(md, "generateName"))
        name_generate(json_str(md, "generateName"), name, sizeof name);
    bool dots = strcmp(t->res->plural, "namespaces") != 0;
    const char *why = name_invalid(name, dots);
    if (why) {
        json_decref(obj);
        return reply_invalid(rq, t->res, name,
                             name[0] ? "metadata.name" : "metadata.name", why);
    }
    char uid[40], now[32];
    util_uuid4(uid, sizeof uid);
    util_time_rfc3339(now, sizeof now);
    json_object_set_new(md, "name", json_string(name));
    if (t->res->namespaced)
        json_object_set_new(md, "namespace", json_string(t->ns));
    else
        json_object_del(md, "namespace");
    json_object_set_new(md, "uid", json_string(uid));
    json_object_set_new(md, "creationTimestamp", json_string(now));
    json_object_set_new(md, "generation", json_integer(1));
    json_object_del(md, "resourceVersion");
    json_object_del(md, "deletionTimestamp");

    if (dry_run(rq))
        return reply_json(rq, 201, obj);
    struct store_cmd cmd = {.op = STORE_OP_CREATE, .resource = t->res->plural,
                            .ns = t->res->namespaced ? t->ns : "", .name = name, .uid = uid};
    struct cluster_result cr;
    server_submit_object(rq->srv, &cmd, obj, &cr);
    if (cr.code != CLUSTER_OK) {
        json_decref(obj);
        return reply_cluster_failure(rq, &cr);
    }
    if (cr.res.code == STORE_EXISTS) {
        json_decref(obj);
        return reply_object_status(rq, 409, "AlreadyExists", t, name, "already exists");
    }
    if (cr.res.code != STORE_OK) {
        json_decref(obj);
        return reply_status(rq, 500, "InternalError", "create failed: %s",
                            store_code_name(cr.res.code));
    }
    char rv[24];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)cr.res.rev);
    json_object_set_new(md, "resourceVersion", json_string(rv));
    return reply_json(rq, 201, obj);
}

/* ---- reads ---- */

/* Applies the resourceVersion rules; 0 or an HTTP status already replied. */
static int read_consistency(struct request *rq, enum MHD_Result *ret)
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
    if (read_consistency(rq, &ret))
        return ret;
    struct store_read r;
    struct store_obj o;
    if (store_read_begin(rq->srv->store, &r) != 0)
        return reply_status(rq, 500, "InternalError", "cannot read the store");
    int rc = store_get(&r, t->res->plural, t->res->namespaced ? t->ns : "", t->name, &o);
    json_t *v = rc == 0 ? object_render(&o, o.mod_rev) : NULL;
    store_read_end(&r);
    if (rc == STORE_NOT_FOUND)
        return reply_not_found(rq, t, t->name);
    if (!v)
        return reply_status(rq, 500, "InternalError", "cannot decode the stored object");
    return reply_json(rq, 200, v);
}

struct list_ctx {
    json_t *items;
    const struct field_sel *fs;
    bool failed;
};


static int list_one(void *arg, const struct store_obj *o)
{
    struct list_ctx *lc = arg;
    if (!field_sel_match(lc->fs, o))
        return 0;
    json_t *v = object_render(o, o->mod_rev);
    if (!v) {
        lc->failed = true;
        return 1;
    }
    json_array_append_new(lc->items, v);
    return 0;
}

static enum MHD_Result handle_list(struct request *rq, const struct api_target *t)
{
    enum MHD_Result ret;
    struct field_sel fs;
    field_sel_parse(request_arg(rq, "fieldSelector"), &fs);
    if (fs.bad)
        return reply_status(rq, 400, "BadRequest", "unsupported field selector \"%s\"",
                            request_arg(rq, "fieldSelector"));
    if (read_consistency(rq, &ret))
        return ret;
    struct store_read r;
    if (store_read_begin(rq->srv->store, &r) != 0)
        return reply_status(rq, 500, "InternalError", "cannot read the store");
    struct list_ctx lc = {.items = json_array(), .fs = &fs};
    const char *ns = t->res->namespaced && t->ns[0] ? t->ns : NULL;
    int rc = store_list(&r, t->res->plural, ns, list_one, &lc);
    uint64_t rev = r.revision;
    store_read_end(&r);
    if (rc != 0 || lc.failed) {
        json_decref(lc.items);
        return reply_status(rq, 500, "InternalError", "cannot read the store");
    }
    char av[96], kind[96], rvs[24];
    resource_api_version(t->res, av, sizeof av);
    snprintf(kind, sizeof kind, "%sList", t->res->kind);
    snprintf(rvs, sizeof rvs, "%llu", (unsigned long long)rev);
    json_t *list = json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", kind, "apiVersion", av,
                             "metadata", "resourceVersion", rvs, "items", lc.items);
    return reply_json(rq, 200, list);
}

/* ---- update ---- */

/* An update or delete reads the object from this replica, which may lag the
 * leader. A precondition failure then makes the write retry, but "not found"
 * (or a resourceVersion newer than what we hold) would be answered wrongly,
 * so before believing it we catch up to a read index and read again. Returns
 * 0, or non-zero with the reply in *ret. */
static int read_fresh(struct request *rq, enum MHD_Result *ret)
{
    char msg[256];
    int code = server_read_barrier(rq->srv, msg, sizeof msg);
    if (code)
        *ret = reply_status(rq, (unsigned)code, code == 503 ? "ServiceUnavailable" : "Timeout",
                            "%s", msg);
    return code;
}

/* Reads the current object (decoded) and its revision and uid. */
static int read_current(struct server *s, const struct api_target *t, json_t **obj, uint64_t *rev,
                        char *uid, size_t uidlen)
{
    struct store_read r;
    struct store_obj o;
    if (store_read_begin(s->store, &r) != 0)
        return -1;
    int rc = store_get(&r, t->res->plural, t->res->namespaced ? t->ns : "", t->name, &o);
    if (rc == 0) {
        *obj = codec_msgpack_to_json(o.obj, o.obj_len);
        *rev = o.mod_rev;
        snprintf(uid, uidlen, "%.*s", (int)o.uid_len, o.uid);
        if (!*obj)
            rc = -1;
    }
    store_read_end(&r);
    return rc;
}

/* Builds the object to store from the client's and the current one. */
static json_t *merge_update(const struct api_target *t, json_t *body, json_t *cur)
{
    json_t *next;
    if (strcmp(t->sub, "status") == 0) {
        /* /status changes only the status. */
        next = json_deep_copy(cur);
        json_t *st = json_object_get(body, "status");
        if (st)
            json_object_set(next, "status", st);
        else
            json_object_del(next, "status");
        return next;
    }
    next = json_deep_copy(body);
    json_t *md = metadata_of(next), *cmd = metadata_of(cur);
    /* Identity and system fields come from the stored object. */
    static const char *keep[] = {"uid", "creationTimestamp", "namespace", "name",
                                 "deletionTimestamp"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(cmd, keep[i]);
        if (v)
            json_object_set(md, keep[i], v);
        else
            json_object_del(md, keep[i]);
    }
    json_int_t gen = json_integer_value(json_object_get(cmd, "generation"));
    json_t *new_spec = json_object_get(next, "spec"), *old_spec = json_object_get(cur, "spec");
    if ((new_spec || old_spec) && !json_equal(new_spec, old_spec))
        gen++;
    json_object_set_new(md, "generation", json_integer(gen ? gen : 1));
    json_object_del(md, "resourceVersion");
    return next;
}

static enum MHD_Result handle_update(struct request *rq, const struct api_target *t)
{
    enum MHD_Result ret;
    json_t *body = body_object(rq, t, &ret);
    if (!body)
        return ret;
    json_t *md = metadata_of(body);
    const char *bname = json_str(md, "name");
    if (*bname && strcmp(bname, t->name) != 0) {
        ret = reply_status(rq, 400, "BadRequest",
                           "the name of the object (%s) does not match the name on the URL (%s)",
                           bname, t->name);
        json_decref(body); /* bname points into body */
        return ret;
    }
    const char *rvs = json_str(md, "resourceVersion");
    uint64_t client_rev = 0;
    if (*rvs) {
        char *end;
        client_rev = strtoull(rvs, &end, 10);
        if (*end || client_rev == 0) {
            ret = reply_status(rq, 400, "BadRequest", "invalid resourceVersion \"%s\"", rvs);
            json_decref(body); /* rvs points into body */
            return ret;
        }
    }
    bool fresh = false;
    for (int attempt = 0; attempt < UPDATE_RETRIES; attempt++) {
        json_t *cur = NULL;
        uint64_t rev = 0;
        char uid[64];
        int rc = read_current(rq->srv, t, &cur, &rev, uid, sizeof uid);
        if (!fresh && (rc == STORE_NOT_FOUND || (rc == 0 && client_rev && client_rev != rev))) {
            json_decref(cur);
            if ((rc = read_fresh(rq, &ret)) != 0) {
                json_decref(body);
                return ret;
            }
            fresh = true;
            attempt--;
            continue;
        }
        if (rc == STORE_NOT_FOUND) {
            json_decref(body);
            return reply_not_found(rq, t, t->name);
        }
        if (rc != 0) {
            json_decref(body);
            return reply_status(rq, 500, "InternalError", "cannot read the store");
        }
        if (client_rev && client_rev != rev) {
            json_decref(cur);
            json_decref(body);
            return reply_conflict(rq, t, t->name);
        }
        json_t *next = merge_update(t, body, cur);
        json_decref(cur);
        if (dry_run(rq)) {
            json_decref(body);
            return reply_json(rq, 200, next);
        }
        struct store_cmd cmd = {.op = STORE_OP_UPDATE, .resource = t->res->plural,
                                .ns = t->res->namespaced ? t->ns : "", .name = t->name,
                                .expect_rev = rev};
        struct cluster_result cr;
        server_submit_object(rq->srv, &cmd, next, &cr);
        if (cr.code != CLUSTER_OK) {
            json_decref(next);
            json_decref(body);
            return reply_cluster_failure(rq, &cr);
        }
        if (cr.res.code == STORE_OK) {
            char rv[24];
            snprintf(rv, sizeof rv, "%llu", (unsigned long long)cr.res.rev);
            json_object_set_new(metadata_of(next), "resourceVersion", json_string(rv));
            json_decref(body);
            return reply_json(rq, 200, next);
        }
        json_decref(next);
        if (cr.res.code == STORE_NOT_FOUND) {
            json_decref(body);
            return reply_not_found(rq, t, t->name);
        }
        if (cr.res.code != STORE_CONFLICT || client_rev) {
            json_decref(body);
            return cr.res.code == STORE_CONFLICT
                       ? reply_conflict(rq, t, t->name)
                       : reply_status(rq, 500, "InternalError", "update failed: %s",
                                      store_code_name(cr.res.code));
        }
        /* Someone else wrote first: the entry is applied here, read again. */
    }
    json_decref(body);
    return reply_conflict(rq, t, t->name);
}

/* ---- delete ---- */

static enum MHD_Result handle_delete(struct request *rq, const struct api_target *t)
{
    uint64_t pre_rev = 0;
    char pre_uid[64] = "";
    if (rq->body.len) {
        json_error_t e;
        json_t *opts = json_loadb(rq->body.data, rq->body.len, 0, &e);
        if (!opts || !json_is_object(opts)) {
            json_decref(opts);
            return reply_status(rq, 400, "BadRequest", "the DeleteOptions body is not a JSON "
                                                       "object");
        }
        json_t *pre = json_object_get(opts, "preconditions");
        if (json_is_object(pre)) {
            const char *rv = json_str(pre, "resourceVersion");
            pre_rev = *rv ? strtoull(rv, NULL, 10) : 0;
            snprintf(pre_uid, sizeof pre_uid, "%s", json_str(pre, "uid"));
        }
        json_decref(opts);
    }
    bool fresh = false;
    enum MHD_Result ret;
    for (int attempt = 0; attempt < UPDATE_RETRIES; attempt++) {
        json_t *cur = NULL;
        uint64_t rev = 0;
        char uid[64] = "";
        int rc = read_current(rq->srv, t, &cur, &rev, uid, sizeof uid);
        bool mismatch = rc == 0 && ((pre_rev && pre_rev != rev) ||
                                    (pre_uid[0] && strcmp(pre_uid, uid) != 0));
        if (!fresh && (rc == STORE_NOT_FOUND || mismatch)) {
            json_decref(cur);
            if (read_fresh(rq, &ret) != 0)
                return ret;
            fresh = true;
            attempt--;
            continue;
        }
        if (rc == STORE_NOT_FOUND)
            return reply_not_found(rq, t, t->name);
        if (rc != 0)
            return reply_status(rq, 500, "InternalError", "cannot read the store");
        json_decref(cur);
        if ((pre_rev && pre_rev != rev) || (pre_uid[0] && strcmp(pre_uid, uid) != 0))
            return reply_conflict(rq, t, t->name);
        if (dry_run(rq))
            break;
        struct store_cmd cmd = {.op = STORE_OP_DELETE, .resource = t->res->plural,
                                .ns = t->res->namespaced ? t->ns : "", .name = t->name,
                                .expect_rev = rev, .expect_uid = uid};
        struct cluster_result cr;
        server_submit_object(rq->srv, &cmd, NULL, &cr);
        if (cr.code != CLUSTER_OK)
            return reply_cluster_failure(rq, &cr);
        if (cr.res.code == STORE_OK) {
            json_t *st = status_new(200, "", "");
            json_object_del(st, "reason");
            json_object_del(st, "message");
            json_object_set_new(st, "details",
                                json_pack("{s:s, s:s, s:s, s:s}", "name", t->name, "group",
                                          t->res->group, "kind", t->res->plural, "uid", uid));
            return reply_json(rq, 200, st);
        }
        if (cr.res.code == STORE_NOT_FOUND)
            return reply_not_found(rq, t, t->name);
        if (cr.res.code != STORE_CONFLICT || pre_rev || pre_uid[0])
            return reply_conflict(rq, t, t->name);
    }
    return reply_status(rq, 200, "", "dry run: %s \"%s\" would be deleted", t->res->kind,
                        t->name);
}

/* ---- discovery (legacy documents; derived from the resource table) ---- */

static enum MHD_Result handle_discovery(struct request *rq, const char *group, const char *version)
{
    char gv[96];
    if (group[0])
        snprintf(gv, sizeof gv, "%s/%s", group, version);
    else
        snprintf(gv, sizeof gv, "%s", version);
    json_t *list = json_array();
    bool any = false;
    for (unsigned i = 0; resource_at(i); i++) {
        const struct resource *r = resource_at(i);
        if (strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
            continue;
        any = true;
        json_t *shorts = json_array();
        char buf[128];
        snprintf(buf, sizeof buf, "%s", r->short_names);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save))
            json_array_append_new(shorts, json_string(tok));
        json_array_append_new(
            list, json_pack("{s:s, s:s, s:b, s:s, s:[s,s,s,s,s,s,s,s], s:o}", "name", r->plural,
                            "singularName", r->singular, "namespaced", r->namespaced, "kind",
                            r->kind, "verbs", "create", "delete", "deletecollection", "get",
                            "list", "patch", "update", "watch", "shortNames", shorts));
    }
    if (!any) {
        json_decref(list);
        return reply_status(rq, 404, "NotFound", "the server could not find the requested "
                                                 "resource");
    }
    return reply_json(rq, 200, json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList",
                                         "apiVersion", "v1", "groupVersion", gv, "resources",
                                         list));
}

static enum MHD_Result handle_api_roots(struct request *rq, bool apis)
{
    if (!apis)
        return reply_json(rq, 200, json_pack("{s:s, s:[s], s:[]}", "kind", "APIVersions",
                                             "versions", "v1", "serverAddressByClientCIDRs"));
    json_t *groups = json_array();
    for (unsigned i = 0; resource_at(i); i++) {
        const struct resource *r = resource_at(i);
        if (!r->group[0])
            continue;
        bool seen = false;
        for (unsigned j = 0; j < i; j++)
            seen |= strcmp(resource_at(j)->group, r->group) == 0;
        if (seen)
            continue;
        char gv[96];
        snprintf(gv, sizeof gv, "%s/%s", r->group, r->version);
        json_array_append_new(groups,
                              json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name", r->group,
                                        "versions", "groupVersion", gv, "version", r->version,
                                        "preferredVersion", "groupVersion", gv, "version",
                                        r->version));
    }
    return reply_json(rq, 200, json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion",
                                         "v1", "groups", groups));
}

/* ---- dispatch ---- */

enum MHD_Result api_handle(struct request *rq)
{
    char segs[12][256];
    int n = split_path(rq->url, segs, 12);
    if (n < 1)
        return reply_status(rq, 404, "NotFound", "the server could not find the requested "
                                                 "resource");
    bool apis = strcmp(segs[0], "apis") == 0;
    if (n == 1)
        return handle_api_roots(rq, apis);
    const char *group = apis ? segs[1] : "";
    int gv_len = apis ? 3 : 2;
    if (apis && n == 2)
        return reply_status(rq, 404, "NotFound", "the server could not find the requested "
                                                 "resource");
    const char *version = segs[gv_len - 1];
    if (n == gv_len)
        return handle_discovery(rq, group, version);

    struct api_target t;
    if (!parse_target(group, version, segs + gv_len, n - gv_len, &t))
        return reply_status(rq, 404, "NotFound", "the server could not find the requested "
                                                 "resource");
    if (t.sub[0] && strcmp(t.sub, "status") != 0)
        return reply_status(rq, 404, "NotFound", "the server could not find the requested "
                                                 "resource (subresource %s)", t.sub);
    if (t.sub[0] && !has_subresource(t.res, t.sub))
        return reply_status(rq, 404, "NotFound", "%s has no %s subresource", t.res->plural,
                            t.sub);
    const char *m = rq->method;
    if (!t.name[0]) {
        const char *w = request_arg(rq, "watch");
        if (strcmp(m, "GET") == 0 && w && (strcmp(w, "true") == 0 || strcmp(w, "1") == 0))
            return watch_start(rq, &t);
        if (strcmp(m, "GET") == 0)
            return handle_list(rq, &t);
        if (strcmp(m, "POST") == 0) {
            if (t.res->namespaced && !t.ns[0])
                return reply_status(rq, 405, "MethodNotAllowed",
                                    "create %s in a namespace: /namespaces/{namespace}/%s",
                                    t.res->plural, t.res->plural);
            return handle_create(rq, &t);
        }
        return reply_status(rq, 405, "MethodNotAllowed", "%s is not supported on a collection", m);
    }
    if (strcmp(m, "GET") == 0)
        return handle_get(rq, &t);
    if (strcmp(m, "PUT") == 0)
        return handle_update(rq, &t);
    if (strcmp(m, "DELETE") == 0 && !t.sub[0])
        return handle_delete(rq, &t);
    return reply_status(rq, 405, "MethodNotAllowed", "%s is not supported here", m);
}
