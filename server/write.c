/* write.c — every write of the Kubernetes API: create (POST), update (PUT),
 * patch (PATCH: JSON patch, merge patch, strategic merge patch, server-side
 * apply), delete, and the /status and /scale subresources.
 *
 * Everything is decided here, before proposing, so apply stays a plain
 * precondition check: the object to store is computed from the request and
 * the current object, and proposed with the current resourceVersion as a
 * precondition. If another write got in first, apply answers Conflict and,
 * unless the client named a resourceVersion, we read again and recompute
 * (Kubernetes' GuaranteedUpdate). Each step follows the apiserver:
 *
 *   decode body → strict field check (fieldValidation) → mutate (replace,
 *   patch, apply, subresource) → carry identity and system fields →
 *   defaults → namespace and allocation checks → validation (422 with
 *   causes) → managedFields → no-op check → propose (or dryRun=All: reply
 *   without writing).
 *
 * Deletion honours finalizers: an object with finalizers, or deleted with
 * propagationPolicy Foreground or Orphan (which add the foregroundDeletion
 * and orphan finalizers), is only marked with deletionTimestamp; it goes
 * when an update leaves it without finalizers. Namespaces are always marked
 * (Terminating); the leader's namespace and garbage collectors
 * (controllers/) finish the job. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/codec.h"
#include "kube/kube.h"
#include "server/internal.h"

#define UPDATE_RETRIES 8
#define IP_ALLOC_TRIES 64
#define JSON_PATCH_MAX_OPS 10000 /* Kubernetes' limit on one JSON patch */

/* What a mutation produced when it failed: a Status to send. */
struct werr {
    unsigned code;
    const char *reason;
    char msg[1024];
    json_t *causes; /* owned; NULL if none */
    bool stale_rv;  /* a patch's resourceVersion did not name the read revision */
};

static void werr_set(struct werr *e, unsigned code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void werr_set(struct werr *e, unsigned code, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    e->reason = reason;
}

/* The write being served. */
struct wctx {
    struct request *rq;
    const struct api_target *t;
    const struct kube_type *type; /* the kind's schema type */
    char manager[128];
    bool strict; /* fieldValidation=Strict */
    bool warn;   /* fieldValidation=Warn, or unset (Kubernetes' default) */
    unsigned ok_code; /* the success status, if not 200 */
    bool dry_run;
    bool no_block;    /* on the event loop: a step that would block gives up */
    bool would_block; /* one did: run the request again on a worker */
    uint64_t cur_rev; /* the revision of the object being mutated */
    char now[32];
};

static void wctx_init(struct wctx *w, struct request *rq, const struct api_target *t,
                      const char *default_manager)
{
    memset(w, 0, sizeof *w);
    w->rq = rq;
    w->t = t;
    w->type = kube_schema_kind(t->res->group, t->res->version, t->res->kind);
    const char *fm = request_arg(rq, "fieldManager");
    if (fm && *fm) {
        snprintf(w->manager, sizeof w->manager, "%s", fm);
    } else if (default_manager) {
        snprintf(w->manager, sizeof w->manager, "%s", default_manager);
    } else {
        /* Kubernetes names an unnamed manager after the User-Agent's
         * program: "kubectl/v1.32 (linux/amd64)..." -> "kubectl". */
        const char *ua = request_header(rq, "User-Agent");
        snprintf(w->manager, sizeof w->manager, "%.*s", ua ? (int)strcspn(ua, "/ ") : 0,
                 ua ? ua : "");
        if (!w->manager[0])
            snprintf(w->manager, sizeof w->manager, "unknown");
    }
    const char *fv = request_arg(rq, "fieldValidation");
    w->strict = fv && strcmp(fv, "Strict") == 0;
    w->warn = !fv || strcmp(fv, "Warn") == 0;
    w->dry_run = api_dry_run(rq);
    util_time_rfc3339(w->now, sizeof w->now);
}

static enum MHD_Result reply_werr(struct wctx *w, struct werr *e)
{
    json_t *st = kube_status(e->code, e->reason, e->msg);
    if (e->causes || e->code == 422 || e->code == 409 || e->code == 404) {
        json_t *d = json_pack("{s:s, s:s, s:s}", "name", w->t->name, "group", w->t->res->group,
                              "kind", e->code == 422 ? w->t->res->kind : w->t->res->plural);
        if (e->causes)
            json_object_set(d, "causes", e->causes);
        json_object_set_new(st, "details", d);
    }
    json_decref(e->causes);
    e->causes = NULL;
    return reply_json(w->rq, e->code, st);
}

/* "[spec.a: Required value, spec.b: Invalid value: ...]" as Kubernetes
 * joins causes into the message. */
static void causes_message(json_t *causes, char *buf, size_t len)
{
    struct ubuf b = {0};
    size_t n = json_array_size(causes), i;
    json_t *c;
    if (n > 1)
        ubuf_append(&b, "[", 1);
    json_array_foreach(causes, i, c)
    {
        const char *field = api_str(c, "field"), *msg = api_str(c, "message");
        ubuf_appendf(&b, "%s%s%s%s", i ? ", " : "", field, *field ? ": " : "", msg);
    }
    if (n > 1)
        ubuf_append(&b, "]", 1);
    ubuf_append(&b, "", 1);
    snprintf(buf, len, "%s", b.data);
    ubuf_free(&b);
}

static void werr_invalid(struct wctx *w, struct werr *e, const char *name, json_t *causes)
{
    char joined[900];
    causes_message(causes, joined, sizeof joined);
    werr_set(e, 422, "Invalid", "%s%s%s \"%s\" is invalid: %s", w->t->res->kind,
             w->t->res->group[0] ? "." : "", w->t->res->group, name, joined);
    e->causes = causes;
}

/* ---- decoding rules: kind, apiVersion, namespace, fieldValidation ---- */

/* Checks a decoded body against the target and the schema; false with e
 * set. Unknown fields are an error under Strict and dropped otherwise. */
static bool body_check(struct wctx *w, json_t *obj, const char *want_kind, const char *want_av,
                       struct werr *e)
{
    const char *kind = api_str(obj, "kind"), *av = api_str(obj, "apiVersion");
    if (*kind && strcmp(kind, want_kind) != 0) {
        werr_set(e, 400, "BadRequest",
                 "the kind in the body (%s) does not match the kind of the path (%s)", kind,
                 want_kind);
        return false;
    }
    if (*av && strcmp(av, want_av) != 0) {
        werr_set(e, 400, "BadRequest",
                 "the API version in the data (%s) does not match the expected API version (%s)",
                 av, want_av);
        return false;
    }
    json_object_set_new(obj, "kind", json_string(want_kind));
    json_object_set_new(obj, "apiVersion", json_string(want_av));
    json_t *md = json_object_get(obj, "metadata");
    if (md && !json_is_object(md)) {
        werr_set(e, 400, "BadRequest", "metadata must be an object");
        return false;
    }
    /* The body's own type: the resource's kind, or a subresource's
     * (autoscaling/v1 Scale, v1 Binding). */
    const struct kube_type *type = w->type;
    if (strcmp(want_kind, w->t->res->kind) != 0) {
        char g[96];
        const char *slash = strchr(want_av, '/');
        snprintf(g, sizeof g, "%.*s", slash ? (int)(slash - want_av) : 0, want_av);
        type = kube_schema_kind(g, slash ? slash + 1 : want_av, want_kind);
    }
    if (!type)
        return true;
    /* Checked strictly first: unknown fields are errors under Strict,
     * warnings under Warn (the default) and silent under Ignore, and are
     * dropped from the object in both latter cases; a wrong type is always
     * an error. */
    json_t *causes = kube_schema_check(type, obj, true);
    size_t i, n_unknown = 0;
    json_t *c;
    json_array_foreach(causes, i, c) n_unknown +=
        strncmp(api_str(c, "message"), "unknown field", 13) == 0;
    if (causes && (w->strict || n_unknown < json_array_size(causes))) {
        char joined[900];
        causes_message(causes, joined, sizeof joined);
        json_decref(causes);
        werr_set(e, 400, "BadRequest", "%s in version \"%s\" cannot be handled as a %s: %s%s",
                 want_kind, w->t->res->version, want_kind,
                 w->strict ? "strict decoding error: " : "", joined);
        return false;
    }
    if (causes) {
        if (w->warn)
            json_array_foreach(causes, i, c) request_warn(w->rq, api_str(c, "message"));
        json_decref(causes);
        json_decref(kube_schema_check(type, obj, false)); /* prunes them */
    }
    return true;
}

bool write_body_check(struct request *rq, const struct api_target *t, json_t *obj,
                      const char *kind, const char *api_version, enum MHD_Result *ret)
{
    struct wctx w;
    struct werr e = {0};
    wctx_init(&w, rq, t, NULL);
    if (body_check(&w, obj, kind, api_version, &e))
        return true;
    *ret = reply_werr(&w, &e);
    return false;
}

static bool target_body_check(struct wctx *w, json_t *obj, struct werr *e)
{
    char av[96];
    resource_api_version(w->t->res, av, sizeof av);
    if (!body_check(w, obj, w->t->res->kind, av, e))
        return false;
    const char *ns = api_str(api_metadata(obj), "namespace");
    if (w->t->res->namespaced && *ns && strcmp(ns, w->t->ns) != 0) {
        werr_set(e, 400, "BadRequest",
                 "the namespace of the provided object does not match the namespace sent on the "
                 "request");
        return false;
    }
    return true;
}

/* ---- the object's system fields ---- */

static bool has_status_subresource(const struct resource *r)
{
    return strstr(r->subresources, "status") != NULL;
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

/* What the registry does to a new object before defaults: identity, and
 * status reset where clients may not set it (Kubernetes' PrepareForCreate). */
static void prepare_create(struct wctx *w, json_t *obj, const char *name, bool keep_managed)
{
    json_t *md = api_metadata(obj);
    char uid[40];
    util_uuid4(uid, sizeof uid);
    json_object_set_new(md, "name", json_string(name));
    if (w->t->res->namespaced)
        json_object_set_new(md, "namespace", json_string(w->t->ns));
    else
        json_object_del(md, "namespace");
    json_object_set_new(md, "uid", json_string(uid));
    json_object_set_new(md, "creationTimestamp", json_string(w->now));
    static const char *drop[] = {"resourceVersion", "deletionTimestamp",
                                 "deletionGracePeriodSeconds", "selfLink"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        json_object_del(md, drop[i]);
    if (!keep_managed)
        json_object_del(md, "managedFields");
    if (w->type && kube_type_field(w->type, "spec"))
        json_object_set_new(md, "generation", json_integer(1));
    const char *kind = w->t->res->kind;
    /* Nodes register with their status (the node agent's job); others
     * start without one. */
    if (has_status_subresource(w->t->res) && strcmp(kind, "Node") != 0)
        json_object_del(obj, "status");
    if (strcmp(kind, "Pod") == 0)
        json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Pending"));
    else if (strcmp(kind, "PersistentVolumeClaim") == 0 || strcmp(kind, "PersistentVolume") == 0)
        json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Pending"));
    else if (strcmp(kind, "PodDisruptionBudget") == 0) /* its counts are not omitempty */
        json_object_set_new(obj, "status", json_pack("{s:i, s:i, s:i, s:i}", "disruptionsAllowed",
                                                     0, "currentHealthy", 0, "desiredHealthy", 0,
                                                     "expectedPods", 0));
}

/* Carries what a client cannot change from cur into next, and bumps the
 * generation when the spec changed (Kubernetes' PrepareForUpdate). */
static void carry_system_fields(struct wctx *w, json_t *cur, json_t *next)
{
    json_t *md = api_metadata(next), *cmd = api_metadata(cur);
    static const char *keep[] = {"uid", "creationTimestamp", "namespace", "name",
                                 "deletionTimestamp", "deletionGracePeriodSeconds", "generation"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        json_t *v = json_object_get(cmd, keep[i]);
        if (v)
            json_object_set(md, keep[i], v);
        else
            json_object_del(md, keep[i]);
    }
    json_object_del(md, "resourceVersion");
    json_object_del(md, "selfLink");
    /* The main resource cannot change status, nor /status the rest. */
    if (has_status_subresource(w->t->res) && strcmp(w->t->sub, "status") != 0 &&
        strcmp(w->t->sub, "binding") != 0) {
        json_t *st = json_object_get(cur, "status");
        if (st)
            json_object_set(next, "status", st);
        else
            json_object_del(next, "status");
    }
    json_int_t gen = json_integer_value(json_object_get(cmd, "generation"));
    json_t *ns = json_object_get(next, "spec"), *os = json_object_get(cur, "spec");
    if (gen && !json_equal(ns, os) && !(ns == NULL && os == NULL))
        json_object_set_new(md, "generation", json_integer(gen + 1));
}

/* /status: only the status of the client's object counts. */
static json_t *status_only(json_t *cur, json_t *body)
{
    json_t *next = json_deep_copy(cur);
    json_t *st = json_object_get(body, "status");
    if (st)
        json_object_set(next, "status", st);
    else
        json_object_del(next, "status");
    /* Labels and annotations may change through /status too. */
    json_t *md = api_metadata(next), *bmd = json_object_get(body, "metadata");
    static const char *meta[] = {"labels", "annotations"};
    for (size_t i = 0; i < 2 && json_is_object(bmd); i++) {
        json_t *v = json_object_get(bmd, meta[i]);
        if (v)
            json_object_set(md, meta[i], v);
        else
            json_object_del(md, meta[i]);
    }
    return next;
}

/* A namespace's /finalize: only spec.finalizers changes (what the
 * namespace controller clears once the namespace is empty). */
static json_t *finalizers_only(json_t *cur, json_t *body)
{
    json_t *next = json_deep_copy(cur);
    json_t *spec = json_object_get(next, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(next, "spec", spec);
    }
    json_t *f = json_object_get(json_object_get(body, "spec"), "finalizers");
    if (f)
        json_object_set(spec, "finalizers", f);
    else
        json_object_del(spec, "finalizers");
    return next;
}

/* ---- namespaces and allocations ---- */

/* Objects may be created only in a namespace that exists and is not being
 * deleted. */
static bool namespace_usable(struct wctx *w, struct werr *e)
{
    if (!w->t->res->namespaced)
        return true;
    /* Only whether it is being deleted is needed: the rest of the
     * namespace (its managedFields) is not decoded on every create. */
    static const char *const deleting[] = {"metadata.deletionTimestamp"};
    struct api_target nt = {.res = resource_find("", "v1", "namespaces")};
    snprintf(nt.name, sizeof nt.name, "%s", w->t->ns);
    json_t *ns = NULL;
    uint64_t rev;
    char uid[64];
    int rc = api_read_paths(w->rq->srv, &nt, deleting, 1, &ns, &rev, uid, sizeof uid);
    if (rc == STORE_NOT_FOUND && w->no_block) {
        w->would_block = true; /* a namespace just created may not be here yet */
        return false;
    }
    if (rc == STORE_NOT_FOUND) {
        enum MHD_Result ignored;
        if (api_read_fresh(w->rq, &ignored) == 0)
            rc = api_read_paths(w->rq->srv, &nt, deleting, 1, &ns, &rev, uid, sizeof uid);
    }
    if (rc == STORE_NOT_FOUND) {
        werr_set(e, 404, "NotFound", "namespaces \"%s\" not found", w->t->ns);
        return false;
    }
    bool terminating = rc == 0 && json_object_get(api_metadata(ns), "deletionTimestamp");
    json_decref(ns);
    if (terminating) {
        werr_set(e, 403, "Forbidden",
                 "%s \"%s\" is forbidden: unable to create new content in namespace %s because it "
                 "is being terminated",
                 w->t->res->plural, w->t->name, w->t->ns);
        e->causes = json_pack("[{s:s, s:s, s:s}]", "reason", "NamespaceTerminating", "message",
                              "namespace is being terminated", "field", "metadata.namespace");
        return false;
    }
    return true;
}

/* A Service's clusterIP, from SERVICE_CIDR (10.96.0.0/16 as kind's
 * clusters use). Each address in use is a record ("_ipaddresses", "", ip)
 * created before the Service, so two Services racing for one address
 * cannot both get it: the second create of the record fails and we try
 * another (Kubernetes' IPAddress allocator works the same way). */
static bool service_allocate_ip(struct wctx *w, json_t *svc, struct werr *e)
{
    json_t *spec = json_object_get(svc, "spec");
    if (!json_is_object(spec))
        return true;
    const char *type = api_str(spec, "type");
    const char *ip = api_str(spec, "clusterIP");
    if (strcmp(type, "ExternalName") == 0 || strcmp(ip, "None") == 0)
        return true;
    char chosen[32] = "";
    for (int attempt = 0; attempt < IP_ALLOC_TRIES && !chosen[0]; attempt++) {
        char cand[32];
        if (*ip) {
            snprintf(cand, sizeof cand, "%s", ip);
        } else {
            unsigned char r[2];
            util_random_bytes(r, sizeof r);
            if ((r[0] == 0 && r[1] <= 10) || (r[0] == 255 && r[1] == 255))
                continue; /* keep .0.0-.0.10 for well-known services */
            snprintf(cand, sizeof cand, "10.96.%u.%u", r[0], r[1]);
        }
        if (w->dry_run) {
            snprintf(chosen, sizeof chosen, "%s", cand);
            break;
        }
        json_t *rec = json_pack("{s:s, s:s, s:s}", "service", w->t->name, "namespace", w->t->ns,
                                "ip", cand);
        struct store_cmd cmd = {.op = STORE_OP_CREATE, .resource = "_ipaddresses", .ns = "",
                                .name = cand, .uid = ""};
        struct cluster_result cr;
        server_submit_object(w->rq->srv, &cmd, rec, &cr);
        json_decref(rec);
        if (cr.code != CLUSTER_OK) {
            werr_set(e, 503, "ServiceUnavailable", "cannot allocate a cluster IP: %s",
                     cluster_code_name(cr.code));
            return false;
        }
        if (cr.res.code == STORE_OK)
            snprintf(chosen, sizeof chosen, "%s", cand);
        else if (*ip) {
            werr_set(e, 422, "Invalid", "Service \"%s\" is invalid: spec.clusterIPs: Invalid "
                     "value: [\"%s\"]: failed to allocate IP %s: provided IP is already allocated",
                     w->t->name, ip, ip);
            e->causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
                                  "provided IP is already allocated", "field", "spec.clusterIPs");
            return false;
        }
    }
    if (!chosen[0]) {
        werr_set(e, 500, "InternalError", "cannot allocate a cluster IP: the range is full");
        return false;
    }
    json_object_set_new(spec, "clusterIP", json_string(chosen));
    json_object_set_new(spec, "clusterIPs", json_pack("[s]", chosen));
    return true;
}

static void service_release_ip(struct server *s, json_t *svc)
{
    const char *ip = api_str(json_object_get(svc, "spec"), "clusterIP");
    if (!*ip || strcmp(ip, "None") == 0)
        return;
    struct store_cmd cmd = {.op = STORE_OP_DELETE, .resource = "_ipaddresses", .ns = "",
                            .name = ip};
    struct cluster_result cr;
    server_submit_object(s, &cmd, NULL, &cr);
}

/* ---- create ---- */

static void stamp_rv(json_t *obj, uint64_t rev)
{
    char rv[24];
    snprintf(rv, sizeof rv, "%llu", (unsigned long long)rev);
    json_object_set_new(api_metadata(obj), "resourceVersion", json_string(rv));
}

static bool validate(struct wctx *w, json_t *next, json_t *cur, struct werr *e)
{
    json_t *causes = kube_validate(w->t->res->group, w->t->res->kind, next, cur);
    if (!causes)
        return true;
    werr_invalid(w, e, api_str(api_metadata(next), "name"), causes);
    return false;
}

/* The proposal of obj's creation into out; the object's own encoding, which
 * the reply is rendered from, into enc. */
static void create_encode(struct wctx *w, json_t *obj, struct ubuf *enc, struct ubuf *out)
{
    codec_json_to_msgpack(obj, enc);
    struct store_cmd cmd = {.op = STORE_OP_CREATE, .resource = w->t->res->plural,
                            .ns = w->t->res->namespaced ? w->t->ns : "",
                            .name = api_str(api_metadata(obj), "name"),
                            .uid = api_str(api_metadata(obj), "uid"), .obj = enc->data,
                            .obj_len = enc->len};
    store_cmd_encode(&cmd, out);
}

/* Replies to a create from the outcome of its proposal; steals obj, whose
 * msgpack encoding is enc. */
static enum MHD_Result create_answer(struct wctx *w, json_t *obj, const struct ubuf *enc,
                                     const struct cluster_result *cr);

/* Proposes the creation of obj (already prepared); replies. */
static enum MHD_Result create_submit(struct wctx *w, json_t *obj)
{
    if (w->dry_run)
        return reply_json(w->rq, 201, obj);
    struct ubuf cmd = {0}, enc = {0};
    create_encode(w, obj, &enc, &cmd);
    struct cluster_result cr;
    server_submit(w->rq->srv, cmd.data, cmd.len, &cr);
    ubuf_free(&cmd);
    enum MHD_Result ret = create_answer(w, obj, &enc, &cr);
    ubuf_free(&enc);
    return ret;
}

static enum MHD_Result create_answer(struct wctx *w, json_t *obj, const struct ubuf *enc,
                                     const struct cluster_result *cr0)
{
    struct werr e = {0};
    const struct cluster_result cr = *cr0;
    const char *name = api_str(api_metadata(obj), "name");
    bool is_svc = strcmp(w->t->res->plural, "services") == 0;
    if (cr.code != CLUSTER_OK || cr.res.code != STORE_OK) {
        if (is_svc && !(cr.code == CLUSTER_UNKNOWN || cr.code == CLUSTER_TIMEOUT))
            service_release_ip(w->rq->srv, obj);
    }
    if (cr.code != CLUSTER_OK) {
        json_decref(obj);
        return api_reply_cluster_failure(w->rq, &cr);
    }
    if (cr.res.code == STORE_EXISTS) {
        struct api_target t = *w->t;
        snprintf(t.name, sizeof t.name, "%s", name);
        json_decref(obj);
        return api_reply_object_status(w->rq, 409, "AlreadyExists", &t, t.name, "already exists");
    }
    if (cr.res.code != STORE_OK) {
        json_decref(obj);
        werr_set(&e, 500, "InternalError", "create failed: %s", store_code_name(cr.res.code));
        return reply_werr(w, &e);
    }
    json_decref(obj);
    return reply_object_msgpack(w->rq, 201, enc->data, enc->len, cr.res.rev);
}

/* The create pipeline for a decoded, checked object; steals obj. */
/* Admission that reads the cluster (admit.c). */
static bool admit(struct wctx *w, json_t *obj, struct werr *e)
{
    if (strcmp(w->t->res->plural, "persistentvolumeclaims") == 0)
        admit_pvc_default_class(w->rq->srv, obj);
    admit_storage_protection(w->t->res->plural, obj);
    if (strcmp(w->t->res->plural, "pods") != 0)
        return true;
    char msg[512];
    admit_pod_default_tolerations(obj);
    int code = admit_pod_priority(w->rq->srv, obj, !w->no_block, msg, sizeof msg);
    if (code < 0) {
        w->would_block = true;
        return false;
    }
    if (code)
        werr_set(e, (unsigned)code, "Forbidden", "%s", msg);
    return code == 0;
}

/* Everything a create does before its proposal: name, system fields,
 * defaults, namespace, admission, validation, cluster IP, managedFields.
 * False with e set if the object is refused, or with w->would_block set if
 * a step had to wait and w->no_block forbade it (nothing was written). */
static bool create_prepare(struct wctx *w, json_t *obj, bool managed_by_apply, struct werr *e)
{
    json_t *md = api_metadata(obj);
    char name[256];
    snprintf(name, sizeof name, "%s", api_str(md, "name"));
    if (!name[0] && *api_str(md, "generateName"))
        name_generate(api_str(md, "generateName"), name, sizeof name);
    if (!name[0]) {
        werr_set(e, 422, "Invalid", "%s \"\" is invalid: metadata.name: Required value: name or "
                 "generateName is required", w->t->res->kind);
        e->causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueRequired", "message",
                              "Required value: name or generateName is required", "field",
                              "metadata.name");
        return false;
    }
    prepare_create(w, obj, name, managed_by_apply);
    kube_defaults_apply(w->t->res->group, w->t->res->kind, obj);
    bool ok = namespace_usable(w, e) && admit(w, obj, e) && validate(w, obj, NULL, e);
    if (ok && strcmp(w->t->res->plural, "services") == 0) {
        assert(!w->no_block); /* write_create_start leaves Services to a worker */
        ok = service_allocate_ip(w, obj, e);
    }
    if (ok && !managed_by_apply)
        kube_managed_fields_update(w->type, NULL, obj, w->manager, "", w->now);
    return ok;
}

static enum MHD_Result create_object(struct wctx *w, json_t *obj, bool managed_by_apply)
{
    struct werr e = {0};
    if (!create_prepare(w, obj, managed_by_apply, &e)) {
        json_decref(obj);
        return reply_werr(w, &e);
    }
    return create_submit(w, obj);
}

/* The decoded body of a create, checked against its target; NULL after
 * replying. t becomes the named target in *named. */
static json_t *create_decode(struct wctx *w, struct request *rq, const struct api_target *t,
                             struct api_target *named, enum MHD_Result *ret)
{
    struct werr e = {0};
    json_t *obj = body_decode_object(rq, ret);
    if (!obj)
        return NULL;
    if (!target_body_check(w, obj, &e)) {
        json_decref(obj);
        *ret = reply_werr(w, &e);
        return NULL;
    }
    *named = *t;
    snprintf(named->name, sizeof named->name, "%s", api_str(api_metadata(obj), "name"));
    w->t = named;
    return obj;
}

enum MHD_Result write_create(struct request *rq, const struct api_target *t)
{
    struct wctx w;
    enum MHD_Result ret;
    struct api_target named;
    wctx_init(&w, rq, t, NULL);
    json_t *obj = create_decode(&w, rq, t, &named, &ret);
    return obj ? create_object(&w, obj, false) : ret;
}

/* ---- create without a thread ----
 *
 * A create is mostly CPU work (decoding, defaults, validation) and then one
 * wait, for its proposal to be applied. Run on a worker, it costs four
 * thread hand-offs (event loop, worker, Raft loop, worker, event loop), and
 * with hundreds of clients those context switches were most of the leader's
 * CPU. So write_create_start runs the CPU work on the event loop, suspends
 * the connection, and submits the proposal with a callback; the Raft loop
 * (on the leader) or the forwarder (on a follower) calls create_applied,
 * which resumes the connection, and the event loop replies (create_reply).
 * Whatever must wait on the way (a namespace or PriorityClass this replica
 * has not seen yet, a Service's cluster IP, no leader known) goes to a
 * worker instead, as every other request does. */
struct create_async {
    struct wctx w;
    struct api_target t;
    json_t *obj;
    struct ubuf enc; /* obj in msgpack: the reply is rendered from it */
    struct ubuf cmd;
    uint64_t deadline;
    struct cluster_result cr;
};

static void create_async_free(struct create_async *ca)
{
    json_decref(ca->obj);
    ubuf_free(&ca->enc);
    ubuf_free(&ca->cmd);
    free(ca);
}

/* On the event loop: the reply from the proposal's outcome. */
static enum MHD_Result create_reply(struct request *rq)
{
    struct create_async *ca = rq->async;
    rq->async = NULL;
    enum MHD_Result ret = create_answer(&ca->w, json_incref(ca->obj), &ca->enc, &ca->cr);
    create_async_free(ca);
    return ret;
}

/* On the event loop: the connection ended before create_reply could run
 * (the client went away while its create waited). */
static void create_abandon(struct request *rq)
{
    create_async_free(rq->async);
    rq->async = NULL;
}

/* On a worker: no leader took the proposal; wait for one as server_submit
 * does, until the same deadline. */
static enum MHD_Result create_retry(struct request *rq)
{
    struct create_async *ca = rq->async;
    server_submit_until(rq->srv, ca->cmd.data, ca->cmd.len, ca->deadline, &ca->cr);
    return create_reply(rq);
}

/* Any thread: the outcome of the first try. */
static void create_applied(void *arg, const struct cluster_result *cr)
{
    struct request *rq = arg;
    struct create_async *ca = rq->async;
    ca->cr = *cr;
    if (cr->code == CLUSTER_NOT_LEADER)
        http_async_to_worker(rq, create_retry);
    else
        http_async_finish(rq, create_reply);
}

int write_create_start(struct request *rq, const struct api_target *t)
{
    if (strcmp(t->res->plural, "services") == 0)
        return -1;
    struct create_async *ca = xcalloc(1, sizeof *ca);
    enum MHD_Result ret;
    wctx_init(&ca->w, rq, t, NULL);
    ca->w.no_block = true;
    ca->obj = create_decode(&ca->w, rq, t, &ca->t, &ret);
    if (!ca->obj) {
        free(ca);
        return (int)ret;
    }
    struct werr e = {0};
    if (!create_prepare(&ca->w, ca->obj, false, &e)) {
        int r = -1; /* would block: nothing was done, a worker starts over */
        if (ca->w.would_block)
            json_decref(e.causes);
        else
            r = (int)reply_werr(&ca->w, &e);
        create_async_free(ca);
        return r;
    }
    if (ca->w.dry_run) {
        ret = reply_json(rq, 201, json_incref(ca->obj));
        create_async_free(ca);
        return (int)ret;
    }
    create_encode(&ca->w, ca->obj, &ca->enc, &ca->cmd);
    ca->deadline = util_now_ms() + (uint64_t)rq->srv->cfg.request_timeout_ms;
    rq->async = ca;
    rq->abandon = create_abandon;
    http_async_begin(rq);
    server_submit_async(rq->srv, ca->cmd.data, ca->cmd.len, ca->deadline, create_applied, rq);
    return MHD_YES;
}

/* ---- the update loop ---- */

/* Computes the next object from the current one; NULL with e set. cur is
 * NULL when the object does not exist (only apply may then create). */
typedef json_t *(*mutate_fn)(struct wctx *w, void *arg, json_t *cur, struct werr *e);

/* Everything after the mutation, for an existing object: system fields,
 * defaults, validation, managedFields. */
static json_t *finish_update(struct wctx *w, json_t *cur, json_t *next, bool managed_by_apply,
                             struct werr *e)
{
    /* Defaults first, so that a spec the client sent without defaulted
     * fields compares equal to the stored one (no generation bump). */
    kube_defaults_apply(w->t->res->group, w->t->res->kind, next);
    carry_system_fields(w, cur, next);
    /* A binding sets spec.nodeName, which a pod update may not change:
     * it is validated as an object, not as an update. */
    bool binding = strcmp(w->t->sub, "binding") == 0;
    if (!validate(w, next, binding ? NULL : cur, e)) {
        json_decref(next);
        return NULL;
    }
    /* The field manager resets the part a subresource may not change
     * (status for the main resource, the rest for /status); a binding
     * changes both spec.nodeName and the status, so it is not tracked. */
    if (!managed_by_apply && !binding)
        kube_managed_fields_update(w->type, cur, next, w->manager, w->t->sub, w->now);
    return next;
}

static bool is_one_of(const char *k, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(k, set[i]) == 0)
            return true;
    return false;
}

/* Whether objects a and b are equal but for the members named in skip
 * (NULL counts as empty: jansson iterates and looks up nothing in it). */
static bool equal_except(json_t *a, json_t *b, const char *const *skip, size_t n)
{
    const char *k;
    json_t *v;
    size_t na = 0, nb = 0;
    json_object_foreach(a, k, v)
    {
        if (is_one_of(k, skip, n))
            continue;
        na++;
        json_t *w = json_object_get(b, k);
        if (!w || !json_equal(v, w))
            return false;
    }
    json_object_foreach(b, k, v) nb += !is_one_of(k, skip, n);
    return na == nb;
}

/* True if next differs from cur in more than managedFields and the
 * resourceVersion. Compared in place: deep copies of both objects were most
 * of the cost of this check, made on every update. A metadata that is not
 * an object counts as empty, as api_metadata makes it. */
static bool changed(json_t *cur, json_t *next)
{
    static const char *const top[] = {"metadata"};
    static const char *const md[] = {"managedFields", "resourceVersion"};
    if (!equal_except(cur, next, top, 1))
        return true;
    json_t *ma = json_object_get(cur, "metadata"), *mb = json_object_get(next, "metadata");
    return !equal_except(json_is_object(ma) ? ma : NULL, json_is_object(mb) ? mb : NULL, md, 2);
}

/* An object's deletionGracePeriodSeconds (0 when absent). */
static long grace_of(json_t *md)
{
    json_t *g = json_object_get(md, "deletionGracePeriodSeconds");
    return json_is_integer(g) ? (long)json_integer_value(g) : 0;
}

static bool finalizers_empty(json_t *obj)
{
    return json_array_size(json_object_get(api_metadata(obj), "finalizers")) == 0;
}

/* A namespace also waits for its spec.finalizers ("kubernetes": the
 * namespace controller empties it once the content is gone). */
static bool namespace_finalized(struct wctx *w, json_t *obj)
{
    return strcmp(w->t->res->plural, "namespaces") != 0 ||
           json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers")) == 0;
}

/* ShouldDeleteDuringUpdate: whether an update that leaves next removes the
 * object (marked, no grace period left, no finalizers); a pod still in its
 * grace period stays. */
static bool update_finishes_delete(struct wctx *w, json_t *next)
{
    return json_object_get(api_metadata(next), "deletionTimestamp") &&
           grace_of(api_metadata(next)) == 0 && finalizers_empty(next) &&
           namespace_finalized(w, next);
}

/* The proposal that stores next at revision rev into out; next's own
 * encoding, which the reply is rendered from, into enc. */
static void update_encode(struct wctx *w, json_t *next, uint64_t rev, struct ubuf *enc,
                          struct ubuf *out)
{
    codec_json_to_msgpack(next, enc);
    struct store_cmd cmd = {.op = STORE_OP_UPDATE, .resource = w->t->res->plural,
                            .ns = w->t->res->namespaced ? w->t->ns : "", .name = w->t->name,
                            .expect_rev = rev, .obj = enc->data, .obj_len = enc->len};
    store_cmd_encode(&cmd, out);
}

/* The proposal that removes the object at revision rev with uid (marked
 * NULL), or stores marked in its place (a deletion that only marks), into
 * out; marked's encoding, the reply, into enc. Both preconditions hold
 * either way: a deletion never touches a namesake made since. */
static void delete_encode(struct wctx *w, json_t *marked, uint64_t rev, const char *uid,
                          struct ubuf *enc, struct ubuf *out)
{
    struct store_cmd cmd = {.op = marked ? STORE_OP_UPDATE : STORE_OP_DELETE,
                            .resource = w->t->res->plural,
                            .ns = w->t->res->namespaced ? w->t->ns : "", .name = w->t->name,
                            .expect_rev = rev, .expect_uid = uid};
    if (marked) {
        codec_json_to_msgpack(marked, enc);
        cmd.obj = enc->data;
        cmd.obj_len = enc->len;
    }
    store_cmd_encode(&cmd, out);
}

/* Proposes next as the object at revision rev (or its removal, when an
 * update finishes a deletion); the encoding of next, unless removed, is left
 * in enc for the reply. */
static int propose_update(struct wctx *w, json_t *next, uint64_t rev, const char *uid,
                          struct ubuf *enc, struct cluster_result *cr)
{
    bool finish_delete = update_finishes_delete(w, next);
    struct ubuf cmd = {0};
    if (finish_delete)
        delete_encode(w, NULL, rev, uid, enc, &cmd);
    else
        update_encode(w, next, rev, enc, &cmd);
    server_submit(w->rq->srv, cmd.data, cmd.len, cr);
    ubuf_free(&cmd);
    if (finish_delete && cr->code == CLUSTER_OK && cr->res.code == STORE_OK &&
        strcmp(w->t->res->plural, "services") == 0)
        service_release_ip(w->rq->srv, next);
    return cr->code == CLUSTER_OK ? cr->res.code : -1;
}

/* Kubernetes' GuaranteedUpdate: read, mutate, propose with the read
 * revision as precondition, and on a conflict read again, unless the client
 * pinned a resourceVersion (client_rev). As etcd3's GuaranteedUpdate, it
 * does not give up on races while the request has time: with two dozen
 * clients patching one object, eight tries were not always enough, and a
 * merge patch answered 409, which Kubernetes never does without a
 * precondition. The reply is built by `out` from the stored object (the
 * object itself, or a Scale). */
typedef json_t *(*reply_fn)(struct wctx *w, json_t *stored);

static enum MHD_Result guaranteed_update(struct wctx *w, mutate_fn fn, void *arg,
                                         uint64_t client_rev, bool may_create,
                                         bool managed_by_apply, reply_fn out)
{
    struct request *rq = w->rq;
    const struct api_target *t = w->t;
    enum MHD_Result ret;
    bool fresh = false;
    uint64_t deadline = util_now_ms() + (uint64_t)rq->srv->cfg.request_timeout_ms;
    for (int attempt = 0; attempt < UPDATE_RETRIES || util_now_ms() < deadline; attempt++) {
        json_t *cur = NULL;
        uint64_t rev = 0;
        char uid[64] = "";
        int rc = api_read_current(rq->srv, t, &cur, &rev, uid, sizeof uid);
        if (!fresh && (rc == STORE_NOT_FOUND || (rc == 0 && client_rev && client_rev != rev))) {
            json_decref(cur);
            if (api_read_fresh(rq, &ret) != 0)
                return ret;
            fresh = true;
            attempt--;
            continue;
        }
        if (rc != 0 && rc != STORE_NOT_FOUND)
            return reply_status(rq, 500, "InternalError", "cannot read the store");
        if (rc == STORE_NOT_FOUND && !may_create)
            return api_reply_not_found(rq, t, t->name);
        if (client_rev && client_rev != rev) {
            json_decref(cur);
            return api_reply_conflict(rq, t, t->name);
        }
        struct werr e = {0};
        w->cur_rev = rev;
        json_t *next = fn(w, arg, cur, &e);
        if (!next && e.stale_rv && !fresh) {
            /* This replica may lag the revision the client named. */
            json_decref(cur);
            json_decref(e.causes);
            if (api_read_fresh(rq, &ret) != 0)
                return ret;
            fresh = true;
            attempt--;
            continue;
        }
        if (next && !cur) { /* apply created it */
            json_object_set_new(api_metadata(next), "name", json_string(t->name));
            return create_object(w, next, true);
        }
        if (next)
            next = finish_update(w, cur, next, managed_by_apply, &e);
        if (!next) {
            json_decref(cur);
            return reply_werr(w, &e);
        }
        bool diff = changed(cur, next);
        if (!diff && !fresh) {
            /* A no-op is answered from this replica's state, which may lag
             * the leader's: confirm it on a fresh read first. */
            json_decref(cur);
            json_decref(next);
            if (api_read_fresh(rq, &ret) != 0)
                return ret;
            fresh = true;
            attempt--;
            continue;
        }
        if (!diff) { /* a no-op writes nothing and keeps the resourceVersion */
            json_decref(next);
            stamp_rv(cur, rev);
            next = cur;
            cur = NULL;
        }
        if (!diff || w->dry_run) {
            json_decref(cur);
            json_t *reply = out ? out(w, next) : json_incref(next);
            json_decref(next);
            return reply_json(rq, w->ok_code ? w->ok_code : 200, reply);
        }
        json_decref(cur);
        struct cluster_result cr;
        struct ubuf enc = {0};
        int code = propose_update(w, next, rev, uid, &enc, &cr);
        if (code == STORE_OK && !out && enc.len) {
            json_decref(next);
            ret = reply_object_msgpack(rq, w->ok_code ? w->ok_code : 200, enc.data, enc.len,
                                       cr.res.rev);
            ubuf_free(&enc);
            return ret;
        }
        ubuf_free(&enc);
        if (code == -1) {
            json_decref(next);
            return api_reply_cluster_failure(rq, &cr);
        }
        if (code == STORE_OK) {
            stamp_rv(next, cr.res.rev);
            json_t *reply = out ? out(w, next) : json_incref(next);
            json_decref(next);
            return reply_json(rq, w->ok_code ? w->ok_code : 200, reply);
        }
        json_decref(next);
        if (code == STORE_NOT_FOUND && !may_create)
            return api_reply_not_found(rq, t, t->name);
        if (code != STORE_CONFLICT && code != STORE_NOT_FOUND)
            return reply_status(rq, 500, "InternalError", "update failed: %s",
                                store_code_name(code));
        if (client_rev)
            return api_reply_conflict(rq, t, t->name);
        /* Someone else wrote first: the entry is applied here, read again. */
    }
    return api_reply_conflict(rq, t, t->name);
}

/* ---- PUT ---- */

static uint64_t parse_rv(json_t *obj, bool *bad)
{
    const char *rvs = api_str(api_metadata(obj), "resourceVersion");
    *bad = false;
    if (!*rvs)
        return 0;
    char *end;
    uint64_t v = strtoull(rvs, &end, 10);
    *bad = *end || v == 0 || rvs[0] == '-';
    return v;
}

static json_t *mutate_replace(struct wctx *w, void *arg, json_t *cur, struct werr *e)
{
    json_t *body = arg;
    if (strcmp(w->t->sub, "status") == 0)
        return status_only(cur, body);
    if (strcmp(w->t->sub, "finalize") == 0)
        return finalizers_only(cur, body);
    return json_deep_copy(body);
}

/* ---- /scale ---- */

/* The autoscaling/v1 Scale of a workload. */
static json_t *scale_of(struct wctx *w, json_t *obj)
{
    json_t *md = api_metadata(obj), *spec = json_object_get(obj, "spec");
    json_t *smd = json_object();
    static const char *copy[] = {"name", "namespace", "uid", "resourceVersion",
                                 "creationTimestamp"};
    for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
        json_t *v = json_object_get(md, copy[i]);
        if (v)
            json_object_set(smd, copy[i], v);
    }
    json_t *sel = json_object_get(spec, "selector");
    char selstr[1024] = "";
    /* status.selector is the label selector in its string form. */
    json_t *ml = json_object_get(sel, "matchLabels");
    const char *k;
    json_t *v;
    size_t n = 0;
    json_object_foreach(ml, k, v) n += (size_t)snprintf(selstr + n, n < sizeof selstr ? sizeof selstr - n : 0, "%s%s=%s", n ? "," : "", k, json_string_value(v) ? json_string_value(v) : "");
    json_t *st = json_pack("{s:I}", "replicas",
                           (json_int_t)json_integer_value(
                               json_object_get(json_object_get(obj, "status"), "replicas")));
    if (selstr[0])
        json_object_set_new(st, "selector", json_string(selstr));
    json_t *replicas = json_object_get(spec, "replicas");
    return json_pack("{s:s, s:s, s:o, s:{s:I}, s:o}", "kind", "Scale", "apiVersion",
                     "autoscaling/v1", "metadata", smd, "spec", "replicas",
                     (json_int_t)(replicas ? json_integer_value(replicas) : 1), "status", st);
}

static json_t *reply_scale(struct wctx *w, json_t *stored)
{
    return scale_of(w, stored);
}

/* arg: the new Scale; only spec.replicas reaches the workload. */
static json_t *mutate_scale(struct wctx *w, void *arg, json_t *cur, struct werr *e)
{
    json_t *scale = arg;
    json_t *r = json_object_get(json_object_get(scale, "spec"), "replicas");
    if (r && (!json_is_integer(r) || json_integer_value(r) < 0)) {
        json_t *causes = json_pack("[{s:s, s:s, s:s}]", "reason", "FieldValueInvalid", "message",
                                   "Invalid value: must be greater than or equal to 0", "field",
                                   "spec.replicas");
        werr_invalid(w, e, w->t->name, causes);
        return NULL;
    }
    json_t *next = json_deep_copy(cur);
    json_t *spec = json_object_get(next, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(next, "spec", spec);
    }
    json_object_set_new(spec, "replicas", json_integer(r ? json_integer_value(r) : 0));
    return next;
}

/* ---- PATCH ---- */

enum patch_type { PATCH_JSON, PATCH_MERGE, PATCH_STRATEGIC, PATCH_APPLY, PATCH_UNKNOWN };

static enum patch_type patch_type_of(const char *mt)
{
    static const struct {
        const char *mt;
        enum patch_type t;
    } types[] = {
        {"application/json-patch+json", PATCH_JSON},
        {"application/merge-patch+json", PATCH_MERGE},
        {"application/strategic-merge-patch+json", PATCH_STRATEGIC},
        {"application/apply-patch+yaml", PATCH_APPLY},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].mt, mt) == 0)
            return types[i].t;
    return PATCH_UNKNOWN;
}

struct patch_arg {
    enum patch_type type;
    json_t *patch;
    bool force;
};

/* Applies the patch to doc (the object, or its Scale); NULL with e set. */
static json_t *patch_doc(struct wctx *w, struct patch_arg *pa, json_t *doc,
                         const struct kube_type *type, struct werr *e)
{
    char err[512] = "";
    json_t *next = NULL;
    switch (pa->type) {
    case PATCH_JSON:
        next = kube_patch_json(doc, pa->patch, err, sizeof err);
        break;
    case PATCH_MERGE:
        next = kube_patch_merge(doc, pa->patch, err, sizeof err);
        break;
    case PATCH_STRATEGIC:
        next = kube_patch_strategic(type, doc, pa->patch, err, sizeof err);
        break;
    default:
        break;
    }
    if (!next) {
        werr_set(e, 422, "Invalid", "the patch could not be applied: %s", err);
        return NULL;
    }
    if (!json_is_object(next)) {
        json_decref(next);
        werr_set(e, 422, "Invalid", "the patched document is not an object");
        return NULL;
    }
    return next;
}

/* The patched object must stay the same object of the same kind. */
static bool patched_identity_ok(struct wctx *w, json_t *next, const char *kind, const char *av,
                                struct werr *e)
{
    const char *name = api_str(api_metadata(next), "name");
    if (*name && strcmp(name, w->t->name) != 0) {
        werr_set(e, 400, "BadRequest", "the name of the object (%s) does not match the name on "
                 "the URL (%s)", name, w->t->name);
        return false;
    }
    return body_check(w, next, kind, av, e);
}

/* A resourceVersion in a patch is a precondition, as in Kubernetes: the
 * patched object must still name the revision it was read at, or the
 * patch fails with Conflict instead of being applied to a newer object
 * (`kubectl patch` with metadata.resourceVersion, `kubectl label
 * --resource-version`, a node agent reporting on the pod it last saw).
 * `obj` is the patched document; without a resourceVersion it is
 * unconditional. */
static bool patch_rv_ok(struct wctx *w, json_t *obj, struct werr *e)
{
    json_t *v = json_object_get(api_metadata(obj), "resourceVersion");
    if (!v || json_is_null(v))
        return true;
    const char *rvs = json_string_value(v);
    char *end = NULL;
    uint64_t rv = rvs && *rvs && *rvs != '-' ? strtoull(rvs, &end, 10) : 0;
    if (!rv || *end) {
        werr_set(e, 400, "BadRequest", "invalid resourceVersion in the patch: must be a "
                 "resourceVersion read from the server");
        return false;
    }
    if (rv == w->cur_rev)
        return true;
    werr_set(e, 409, "Conflict", "Operation cannot be fulfilled on %s%s%s \"%s\": the object "
             "has been modified; please apply your changes to the latest version and try again",
             w->t->res->plural, w->t->res->group[0] ? "." : "", w->t->res->group, w->t->name);
    e->stale_rv = true;
    return false;
}

static json_t *mutate_patch(struct wctx *w, void *arg, json_t *cur, struct werr *e)
{
    struct patch_arg *pa = arg;
    char av[96];
    resource_api_version(w->t->res, av, sizeof av);
    /* The patch sees the object as read, resourceVersion included, so a
     * JSON patch can test it and a merge patch can name it. */
    stamp_rv(cur, w->cur_rev);
    if (strcmp(w->t->sub, "scale") == 0) {
        json_t *scale = scale_of(w, cur);
        json_t *ns = patch_doc(w, pa, scale, kube_schema_kind("autoscaling", "v1", "Scale"), e);
        json_decref(scale);
        if (!ns || !patched_identity_ok(w, ns, "Scale", "autoscaling/v1", e) ||
            !patch_rv_ok(w, ns, e)) {
            json_decref(ns);
            return NULL;
        }
        json_t *next = mutate_scale(w, ns, cur, e);
        json_decref(ns);
        return next;
    }
    json_t *next = patch_doc(w, pa, cur, w->type, e);
    if (!next || !patched_identity_ok(w, next, w->t->res->kind, av, e) ||
        !patch_rv_ok(w, next, e)) {
        json_decref(next);
        return NULL;
    }
    if (strcmp(w->t->sub, "status") == 0) {
        json_t *only = status_only(cur, next);
        json_decref(next);
        return only;
    }
    return next;
}

static json_t *mutate_apply(struct wctx *w, void *arg, json_t *cur, struct werr *e)
{
    struct patch_arg *pa = arg;
    char av[96], err[1024] = "";
    resource_api_version(w->t->res, av, sizeof av);
    if (cur && !patch_rv_ok(w, pa->patch, e))
        return NULL;
    json_t *config = json_deep_copy(pa->patch);
    if (!target_body_check(w, config, e)) {
        json_decref(config);
        return NULL;
    }
    const char *name = api_str(api_metadata(config), "name");
    if (*name && strcmp(name, w->t->name) != 0) {
        werr_set(e, 400, "BadRequest", "the name of the object (%s) does not match the name on "
                 "the URL (%s)", name, w->t->name);
        json_decref(config);
        return NULL;
    }
    json_object_set_new(api_metadata(config), "name", json_string(w->t->name));
    json_t *conflicts = NULL;
    json_t *next = kube_apply(w->type, cur, config, w->manager, w->t->sub, pa->force, w->now,
                              &conflicts, err, sizeof err);
    json_decref(config);
    if (!next && conflicts) {
        werr_set(e, 409, "Conflict", "%s", err);
        e->causes = conflicts;
    } else if (!next) {
        werr_set(e, 422, "Invalid", "the apply configuration could not be applied: %s", err);
    }
    return next;
}

/* A PATCH's patch and arguments into *pa; false after replying (the
 * request is refused). */
static bool patch_args(struct wctx *w, struct patch_arg *pa, enum MHD_Result *ret)
{
    struct request *rq = w->rq;
    const struct api_target *t = w->t;
    char mt[128];
    request_media_type(rq, mt, sizeof mt);
    *pa = (struct patch_arg){.type = patch_type_of(mt)};
    if (pa->type == PATCH_UNKNOWN) {
        *ret = reply_status(rq, 415, "UnsupportedMediaType",
                            "the body of the request was in an unknown format - accepted media "
                            "types include: application/json-patch+json, "
                            "application/merge-patch+json, application/apply-patch+yaml, "
                            "application/strategic-merge-patch+json");
        return false;
    }
    if (pa->type == PATCH_APPLY) {
        const char *fm = request_arg(rq, "fieldManager");
        if (!fm || !*fm) {
            *ret = reply_status(rq, 400, "BadRequest", "PATCH, application/apply-patch+yaml "
                                                       "requests require fieldManager to be set");
            return false;
        }
        const char *force = request_arg(rq, "force");
        pa->force = force && strcmp(force, "true") == 0;
    }
    pa->patch = body_decode_any(rq, ret);
    if (!pa->patch)
        return false;
    if (pa->type == PATCH_JSON && json_array_size(pa->patch) > JSON_PATCH_MAX_OPS)
        *ret = reply_status(rq, 413, "RequestEntityTooLarge",
                            "The allowed operations in a JSON patch are at most %d, got more",
                            JSON_PATCH_MAX_OPS);
    else if ((pa->type == PATCH_JSON && !json_is_array(pa->patch)) ||
             (pa->type != PATCH_JSON && !json_is_object(pa->patch)))
        *ret = reply_status(rq, 400, "BadRequest", "the patch must be a JSON %s",
                            pa->type == PATCH_JSON ? "array of operations" : "object");
    else if (pa->type == PATCH_APPLY && t->sub[0] && strcmp(t->sub, "status") != 0)
        *ret = reply_status(rq, 415, "UnsupportedMediaType",
                            "server-side apply is not supported on the %s subresource", t->sub);
    else
        return true;
    json_decref(pa->patch);
    pa->patch = NULL;
    return false;
}

enum MHD_Result write_patch(struct request *rq, const struct api_target *t)
{
    struct wctx w;
    enum MHD_Result ret;
    struct patch_arg pa;
    wctx_init(&w, rq, t, NULL);
    if (!patch_args(&w, &pa, &ret))
        return ret;
    bool apply = pa.type == PATCH_APPLY;
    ret = guaranteed_update(&w, apply ? mutate_apply : mutate_patch, &pa, 0, apply, apply,
                            strcmp(t->sub, "scale") == 0 ? reply_scale : NULL);
    json_decref(pa.patch);
    return ret;
}

/* A PUT's body, checked, and the resourceVersion it names (0 if none);
 * NULL after replying. */
static json_t *update_args(struct wctx *w, uint64_t *client_rev, enum MHD_Result *ret)
{
    struct request *rq = w->rq;
    const struct api_target *t = w->t;
    struct werr e = {0};
    json_t *body = body_decode_object(rq, ret);
    if (!body)
        return NULL;
    bool is_scale = strcmp(t->sub, "scale") == 0;
    char av[96];
    resource_api_version(t->res, av, sizeof av);
    bool ok = is_scale ? body_check(w, body, "Scale", "autoscaling/v1", &e)
                       : target_body_check(w, body, &e);
    const char *bname = api_str(api_metadata(body), "name");
    if (ok && *bname && strcmp(bname, t->name) != 0) {
        werr_set(&e, 400, "BadRequest",
                 "the name of the object (%s) does not match the name on the URL (%s)", bname,
                 t->name);
        ok = false;
    }
    bool bad_rv;
    *client_rev = parse_rv(body, &bad_rv);
    if (ok && bad_rv) {
        werr_set(&e, 400, "BadRequest", "invalid resourceVersion \"%s\"",
                 api_str(api_metadata(body), "resourceVersion"));
        ok = false;
    }
    if (!ok) {
        json_decref(body);
        *ret = reply_werr(w, &e);
        return NULL;
    }
    return body;
}

enum MHD_Result write_update(struct request *rq, const struct api_target *t)
{
    struct wctx w;
    enum MHD_Result ret;
    uint64_t client_rev;
    wctx_init(&w, rq, t, NULL);
    json_t *body = update_args(&w, &client_rev, &ret);
    if (!body)
        return ret;
    bool is_scale = strcmp(t->sub, "scale") == 0;
    ret = guaranteed_update(&w, is_scale ? mutate_scale : mutate_replace, body, client_rev, false,
                            false, is_scale ? reply_scale : NULL);
    json_decref(body);
    return ret;
}

/* ---- updates without a thread ----
 *
 * As creates do (write_create_start): a PUT, or a PATCH that is not
 * server-side apply, of an object or of its /status runs its CPU work on
 * the event loop and waits for its proposal without a thread. Hollow
 * nodes' Lease renewals and pod status writes are such updates, hundreds a
 * second, and each cost a worker four thread hand-offs. Only the common
 * case goes this way: the object is in this replica (at the revision the
 * client named, if any), the result differs from it and does not finish a
 * deletion, no dryRun. Anything else, and a proposal that loses a race
 * (Conflict: another write got in first) or finds no leader, goes to a
 * worker that serves the request from the start, as guaranteed_update
 * would have retried it: nothing was written. */
struct update_async {
    struct wctx w;
    struct api_target t;
    struct ubuf enc; /* the object proposed, in msgpack: the reply */
    struct ubuf cmd;
    struct cluster_result cr;
    bool gone;    /* a deletion that removes the object (enc empty) */
    char uid[64]; /* a deletion: the object's, for the Status */
};

/* An update or deletion that is decided on the event loop: never blocks. */
static struct update_async *update_async_new(struct request *rq, const struct api_target *t)
{
    struct update_async *ua = xcalloc(1, sizeof *ua);
    ua->t = *t;
    wctx_init(&ua->w, rq, &ua->t, NULL);
    ua->w.no_block = true;
    return ua;
}

static void update_async_free(struct update_async *ua)
{
    ubuf_free(&ua->enc);
    ubuf_free(&ua->cmd);
    free(ua);
}

static void update_abandon(struct request *rq)
{
    update_async_free(rq->async);
    rq->async = NULL;
}

static enum MHD_Result reply_deleted(struct wctx *w, const char *uid);

/* On the event loop: the reply from the proposal's outcome: the object as
 * written (an update, or a deletion that only marks), or the Status of a
 * deletion. */
static enum MHD_Result update_reply(struct request *rq)
{
    struct update_async *ua = rq->async;
    rq->async = NULL;
    rq->abandon = NULL;
    const struct cluster_result cr = ua->cr;
    enum MHD_Result ret;
    if (cr.code != CLUSTER_OK)
        ret = api_reply_cluster_failure(rq, &cr);
    else if (cr.res.code != STORE_OK)
        ret = reply_status(rq, 500, "InternalError", "write failed: %s",
                           store_code_name(cr.res.code));
    else if (ua->gone)
        ret = reply_deleted(&ua->w, ua->uid);
    else
        ret = reply_object_msgpack(rq, 200, ua->enc.data, ua->enc.len, cr.res.rev);
    update_async_free(ua);
    return ret;
}

/* On a worker: the request from the start, as a handler. */
static enum MHD_Result update_restart(struct request *rq)
{
    update_async_free(rq->async);
    rq->async = NULL;
    rq->abandon = NULL;
    return http_restart(rq);
}

/* Any thread: the proposal's outcome. */
static void update_applied(void *arg, const struct cluster_result *cr)
{
    struct request *rq = arg;
    struct update_async *ua = rq->async;
    ua->cr = *cr;
    bool lost = cr->code == CLUSTER_NOT_LEADER ||
                (cr->code == CLUSTER_OK &&
                 (cr->res.code == STORE_CONFLICT || cr->res.code == STORE_NOT_FOUND));
    if (lost)
        http_async_to_worker(rq, update_restart);
    else
        http_async_finish(rq, update_reply);
}

/* ua->cmd proposed from the event loop: ua now belongs to the request (its
 * outcome may free it before this returns). */
static int update_submit(struct update_async *ua, bool *submitted)
{
    struct request *rq = ua->w.rq;
    rq->async = ua;
    rq->abandon = update_abandon;
    *submitted = true;
    http_async_begin(rq);
    server_submit_async(rq->srv, ua->cmd.data, ua->cmd.len,
                        util_now_ms() + (uint64_t)rq->srv->cfg.request_timeout_ms,
                        update_applied, rq);
    return MHD_YES;
}

/* One try of guaranteed_update on the event loop: MHD_YES (or NO) when
 * the request was answered or its proposal submitted (then *submitted, and
 * ua belongs to the request: its outcome may already have freed it), -1
 * when a worker must serve it. */
static int update_try(struct update_async *ua, mutate_fn fn, void *arg, uint64_t client_rev,
                      bool *submitted)
{
    struct wctx *w = &ua->w;
    struct request *rq = w->rq;
    json_t *cur = NULL;
    uint64_t rev = 0;
    char uid[64] = "";
    if (w->dry_run || api_read_current(rq->srv, w->t, &cur, &rev, uid, sizeof uid) != 0 ||
        (client_rev && client_rev != rev)) {
        json_decref(cur);
        return -1;
    }
    struct werr e = {0};
    w->cur_rev = rev;
    json_t *next = fn(w, arg, cur, &e);
    if (next)
        next = finish_update(w, cur, next, false, &e);
    if (!next) {
        json_decref(cur);
        if (!w->would_block && !e.stale_rv)
            return (int)reply_werr(w, &e);
        json_decref(e.causes);
        return -1;
    }
    bool go = changed(cur, next) && !update_finishes_delete(w, next);
    json_decref(cur);
    if (!go) {
        json_decref(next);
        return -1;
    }
    update_encode(w, next, rev, &ua->enc, &ua->cmd);
    json_decref(next);
    return update_submit(ua, submitted);
}

int write_update_start(struct request *rq, const struct api_target *t)
{
    bool put = strcmp(rq->method, "PUT") == 0;
    if ((!put && strcmp(rq->method, "PATCH") != 0) || (t->sub[0] && strcmp(t->sub, "status") != 0))
        return -1;
    struct update_async *ua = update_async_new(rq, t);
    enum MHD_Result ret;
    json_t *body = NULL;
    struct patch_arg pa = {0};
    uint64_t client_rev = 0;
    bool submitted = false;
    int r;
    if (put ? !(body = update_args(&ua->w, &client_rev, &ret)) : !patch_args(&ua->w, &pa, &ret))
        r = (int)ret; /* refused, and answered */
    else if (!put && pa.type == PATCH_APPLY)
        r = -1;
    else
        r = update_try(ua, put ? mutate_replace : mutate_patch, put ? (void *)body : &pa,
                       client_rev, &submitted);
    json_decref(body);
    json_decref(pa.patch);
    if (!submitted)
        update_async_free(ua);
    return r;
}

enum MHD_Result write_get_scale(struct request *rq, const struct api_target *t)
{
    json_t *cur = NULL;
    uint64_t rev;
    char uid[64];
    enum MHD_Result ret;
    if (api_read_consistency(rq, &ret))
        return ret;
    int rc = api_read_current(rq->srv, t, &cur, &rev, uid, sizeof uid);
    if (rc == STORE_NOT_FOUND)
        return api_reply_not_found(rq, t, t->name);
    if (rc != 0)
        return reply_status(rq, 500, "InternalError", "cannot read the store");
    stamp_rv(cur, rev);
    struct wctx w;
    wctx_init(&w, rq, t, NULL);
    json_t *scale = scale_of(&w, cur);
    json_decref(cur);
    return reply_json(rq, 200, scale);
}

/* ---- DELETE ---- */

bool delete_opts_from_json(json_t *opts, struct delete_opts *o, unsigned *code, char *msg,
                           size_t len)
{
    assert(o);
    if (!json_is_object(opts)) {
        *code = 400;
        snprintf(msg, len, "the DeleteOptions body is not a JSON object");
        return false;
    }
    const char *p = api_str(opts, "propagationPolicy");
    if (*p)
        snprintf(o->propagation, sizeof o->propagation, "%s", p);
    json_t *g = json_object_get(opts, "gracePeriodSeconds");
    if (json_is_integer(g))
        o->grace = (long)json_integer_value(g);
    json_t *pre = json_object_get(opts, "preconditions");
    if (json_is_object(pre)) {
        const char *rv = api_str(pre, "resourceVersion");
        o->pre_rev = *rv ? strtoull(rv, NULL, 10) : 0;
        snprintf(o->pre_uid, sizeof o->pre_uid, "%s", api_str(pre, "uid"));
    }
    if (o->propagation[0] && strcmp(o->propagation, "Background") != 0 &&
        strcmp(o->propagation, "Foreground") != 0 && strcmp(o->propagation, "Orphan") != 0) {
        *code = 422;
        snprintf(msg, len, "DeleteOptions.propagationPolicy: Unsupported value: \"%s\": "
                 "supported values: \"Background\", \"Foreground\", \"Orphan\"",
                 o->propagation);
        return false;
    }
    return true;
}

/* The query's DeleteOptions into o, cleared first. */
static void delete_opts_query(struct request *rq, struct delete_opts *o)
{
    memset(o, 0, sizeof *o);
    o->grace = -1;
    const char *qp = request_arg(rq, "propagationPolicy");
    if (qp)
        snprintf(o->propagation, sizeof o->propagation, "%s", qp);
    const char *qg = request_arg(rq, "gracePeriodSeconds");
    if (qg)
        o->grace = strtol(qg, NULL, 10);
}

/* A DELETE's options: the query's, then its body's (dryRun in the body is
 * honoured through the query too). */
static bool delete_opts_parse(struct request *rq, struct delete_opts *o, struct werr *e)
{
    delete_opts_query(rq, o);
    json_t *opts = json_object();
    if (rq->body.len) {
        enum MHD_Result ignored;
        json_decref(opts);
        opts = body_decode_object(rq, &ignored);
    }
    unsigned code = 0;
    char msg[512];
    bool ok = delete_opts_from_json(opts, o, &code, msg, sizeof msg);
    json_decref(opts);
    if (!ok)
        werr_set(e, code, code == 422 ? "Invalid" : "BadRequest", "%s", msg);
    return ok;
}

static void finalizer_add(json_t *obj, const char *f)
{
    json_t *md = api_metadata(obj), *fs = json_object_get(md, "finalizers"), *v;
    size_t i;
    if (!json_is_array(fs)) {
        fs = json_array();
        json_object_set_new(md, "finalizers", fs);
    }
    json_array_foreach(fs, i, v) if (json_is_string(v) && !strcmp(json_string_value(v), f)) return;
    json_array_append_new(fs, json_string(f));
}

/* Kubernetes' default propagation per kind: batch Jobs (and CronJobs)
 * orphan their pods unless told otherwise, for compatibility. */
static const char *default_propagation(const struct resource *r)
{
    return strcmp(r->group, "batch") == 0 ? "Orphan" : "Background";
}

/* Kubernetes' pod strategy CheckGracefulDelete: the grace period a pod's
 * deletion gets. The one asked for, else the pod's
 * terminationGracePeriodSeconds; none for a pod that no node runs (not
 * bound, or already Succeeded/Failed); a negative one counts as 1. */
static long pod_grace_period(json_t *pod, long requested)
{
    json_t *spec = json_object_get(pod, "spec");
    long period = requested;
    if (period < 0) {
        json_t *t = json_object_get(spec, "terminationGracePeriodSeconds");
        period = json_is_integer(t) ? (long)json_integer_value(t) : 0;
    }
    const char *phase = api_str(json_object_get(pod, "status"), "phase");
    if (!*api_str(spec, "nodeName") || !strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))
        period = 0;
    return period < 0 ? 1 : period;
}

/* The RFC 3339 time `secs` seconds after `when` (one), into out. */
static void time_after(const char *when, long secs, char *out, size_t len)
{
    int64_t ms = util_time_parse(when);
    time_t t = (time_t)((ms < 0 ? util_wall_ms() : ms) / 1000 + secs);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* rest.BeforeDelete for a pod being deleted gracefully: a later delete may
 * only shorten the grace period (moving the deletionTimestamp back by the
 * difference); 0 deletes at once unless finalizers hold it. Returns the
 * grace period to keep, and sets *shortened when md changes. */
static long pod_grace_again(json_t *md, long requested, bool *shortened)
{
    long had = grace_of(md);
    *shortened = false;
    if (had == 0 || requested < 0 || requested >= had)
        return had;
    char when[40];
    time_after(api_str(md, "deletionTimestamp"), requested - had, when, sizeof when);
    json_object_set_new(md, "deletionTimestamp", json_string(when));
    json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(requested));
    *shortened = true;
    return requested;
}

/* The marked object, if deletion only marks it; NULL if it goes now. A
 * pod that a node may be running is deleted gracefully (as Kubernetes
 * does): marked with deletionTimestamp = now + its grace period, and gone
 * when its kubelet (our agent) deletes it again with grace 0. */
static json_t *delete_mark(struct wctx *w, json_t *cur, const struct delete_opts *o)
{
    const char *prop = o->propagation[0] ? o->propagation : default_propagation(w->t->res);
    bool is_ns = strcmp(w->t->res->plural, "namespaces") == 0;
    bool is_pod = strcmp(w->t->res->plural, "pods") == 0;
    bool fg = strcmp(prop, "Foreground") == 0, orphan = strcmp(prop, "Orphan") == 0;
    json_t *md_cur = api_metadata(cur);
    bool marked_before = json_object_get(md_cur, "deletionTimestamp") != NULL;
    long grace = 0;
    json_t *next = NULL;
    if (is_pod && marked_before) {
        next = json_deep_copy(cur);
        bool shortened;
        grace = pod_grace_again(api_metadata(next), o->grace, &shortened);
    } else if (is_pod) {
        grace = pod_grace_period(cur, o->grace);
    }
    if (!is_ns && !fg && !orphan && grace == 0 && finalizers_empty(cur)) {
        json_decref(next);
        return NULL;
    }
    if (is_ns && marked_before && finalizers_empty(cur) && namespace_finalized(w, cur))
        return NULL; /* emptied by the namespace controller: it goes now */
    if (!next)
        next = json_deep_copy(cur);
    json_t *md = api_metadata(next);
    if (!json_object_get(md, "deletionTimestamp")) {
        char when[40];
        time_after(w->now, grace, when, sizeof when);
        json_object_set_new(md, "deletionTimestamp", json_string(grace ? when : w->now));
        json_object_set_new(md, "deletionGracePeriodSeconds", json_integer(grace));
    }
    if (fg)
        finalizer_add(next, "foregroundDeletion");
    if (orphan)
        finalizer_add(next, "orphan");
    if (is_ns) {
        json_t *st = json_object_get(next, "status");
        if (!json_is_object(st)) {
            st = json_object();
            json_object_set_new(next, "status", st);
        }
        json_object_set_new(st, "phase", json_string("Terminating"));
    }
    return next;
}

static enum MHD_Result reply_deleted(struct wctx *w, const char *uid)
{
    json_t *st = kube_status(200, "", "");
    json_object_del(st, "reason");
    json_object_del(st, "message");
    json_object_set_new(st, "details", json_pack("{s:s, s:s, s:s, s:s}", "name", w->t->name,
                                                 "group", w->t->res->group, "kind",
                                                 w->t->res->plural, "uid", uid));
    return reply_json(w->rq, 200, st);
}

/* Whether the object at rev with uid meets the client's preconditions. */
static bool delete_preconditions_hold(const struct delete_opts *o, uint64_t rev, const char *uid)
{
    return (!o->pre_rev || o->pre_rev == rev) && (!o->pre_uid[0] || strcmp(o->pre_uid, uid) == 0);
}

/* Reads, decides (delete or mark), proposes with the read revision and uid
 * as preconditions, and on a race reads again. Replies nothing. */
static void delete_do(struct wctx *w, const struct delete_opts *o, struct del_result *dr)
{
    const struct api_target *t = w->t;
    struct server *srv = w->rq->srv;
    bool fresh = false;
    memset(dr, 0, sizeof *dr);
    dr->outcome = DEL_CONFLICT;
    for (int attempt = 0; attempt < UPDATE_RETRIES; attempt++) {
        json_t *cur = NULL;
        uint64_t rev = 0;
        char uid[64] = "";
        int rc = api_read_current(srv, t, &cur, &rev, uid, sizeof uid);
        bool mismatch = rc == 0 && !delete_preconditions_hold(o, rev, uid);
        if (!fresh && (rc == STORE_NOT_FOUND || mismatch)) {
            json_decref(cur);
            int code = server_read_barrier(srv, dr->msg, sizeof dr->msg);
            if (code) {
                dr->outcome = DEL_FAILED;
                dr->code = (unsigned)code;
                return;
            }
            fresh = true;
            attempt--;
            continue;
        }
        snprintf(dr->uid, sizeof dr->uid, "%s", uid);
        if (rc != 0 || mismatch) {
            json_decref(cur);
            dr->outcome = rc == STORE_NOT_FOUND ? DEL_NOT_FOUND : mismatch ? DEL_CONFLICT
                                                                           : DEL_FAILED;
            dr->code = 500;
            snprintf(dr->msg, sizeof dr->msg, "cannot read the store");
            return;
        }
        json_t *marked = delete_mark(w, cur, o);
        if (marked && o->on_mark)
            o->on_mark(marked, o->on_mark_arg);
        if (marked && !changed(cur, marked)) { /* already marked: nothing to do */
            json_decref(marked);
            stamp_rv(cur, rev);
            dr->outcome = DEL_ALREADY_MARKED;
            dr->obj = cur;
            return;
        }
        if (w->dry_run) { /* the answer a real deletion would give */
            json_decref(cur);
            if (marked)
                stamp_rv(marked, rev);
            dr->outcome = marked ? DEL_MARKED : DEL_GONE;
            dr->obj = marked;
            return;
        }
        struct ubuf enc = {0}, cmd = {0};
        delete_encode(w, marked, rev, uid, &enc, &cmd);
        server_submit(srv, cmd.data, cmd.len, &dr->cr);
        ubuf_free(&enc);
        ubuf_free(&cmd);
        if (dr->cr.code == CLUSTER_OK && dr->cr.res.code == STORE_OK) {
            if (marked)
                stamp_rv(marked, dr->cr.res.rev);
            else if (strcmp(t->res->plural, "services") == 0)
                service_release_ip(srv, cur);
            json_decref(cur);
            dr->outcome = marked ? DEL_MARKED : DEL_GONE;
            dr->obj = marked;
            return;
        }
        json_decref(marked);
        json_decref(cur);
        if (dr->cr.code != CLUSTER_OK) {
            dr->outcome = DEL_FAILED;
            return;
        }
        if (dr->cr.res.code == STORE_NOT_FOUND) {
            dr->outcome = DEL_NOT_FOUND;
            return;
        }
        if (dr->cr.res.code != STORE_CONFLICT || o->pre_rev || o->pre_uid[0]) {
            dr->outcome = DEL_CONFLICT;
            return;
        }
        /* Someone else wrote first: read again. */
    }
}

void write_delete_object(struct request *rq, const struct api_target *t,
                         const struct delete_opts *o, struct del_result *dr)
{
    struct wctx w;
    wctx_init(&w, rq, t, NULL);
    w.dry_run |= o->dry_run;
    delete_do(&w, o, dr);
}

enum MHD_Result write_delete_failed(struct request *rq, const struct api_target *t,
                                    const struct del_result *dr)
{
    switch (dr->outcome) {
    case DEL_NOT_FOUND:
        return api_reply_not_found(rq, t, t->name);
    case DEL_CONFLICT:
        return api_reply_conflict(rq, t, t->name);
    case DEL_FAILED:
        break;
    default:
        assert(!"write_delete_failed called on a deletion that succeeded");
    }
    if (dr->cr.code != CLUSTER_OK && !dr->code)
        return api_reply_cluster_failure(rq, &dr->cr);
    return reply_status(rq, dr->code, dr->code == 503 ? "ServiceUnavailable"
                                      : dr->code == 504 ? "Timeout" : "InternalError",
                        "%s", dr->msg);
}

enum MHD_Result write_delete(struct request *rq, const struct api_target *t)
{
    struct wctx w;
    struct werr e = {0};
    struct delete_opts o;
    wctx_init(&w, rq, t, NULL);
    if (!delete_opts_parse(rq, &o, &e))
        return reply_werr(&w, &e);
    struct del_result dr;
    delete_do(&w, &o, &dr);
    switch (dr.outcome) {
    case DEL_GONE:
        return reply_deleted(&w, dr.uid);
    case DEL_MARKED:
        return reply_json(rq, 200, dr.obj);
    case DEL_ALREADY_MARKED:
        return reply_json(rq, 202, dr.obj);
    default:
        return write_delete_failed(rq, t, &dr);
    }
}

/* ---- DELETE without a worker ----
 *
 * As updates (write_update_start): the event loop reads the object, decides
 * (gone, or only marked), and proposes with the read revision and uid as
 * preconditions; the proposal's outcome resumes the connection. What cannot
 * be done there goes to a worker's write_delete: the object missing here
 * or not at the revision or uid the client named (a fresh read decides),
 * already marked, dryRun, a DeleteOptions body that does not decode (the
 * worker answers the error), Services (their cluster IP is released after)
 * and Namespaces (their finalization reads what they hold); and so does a
 * proposal that lost a race or found no leader. */

/* A DELETE's options as delete_opts_parse reads them, or false (nothing
 * answered) when the body does not decode as a JSON object or is invalid. */
static bool delete_opts_quiet(struct request *rq, struct delete_opts *o)
{
    delete_opts_query(rq, o);
    json_t *opts =
        rq->body.len ? codec_json_load(rq->body.data, rq->body.len, 0, NULL) : json_object();
    unsigned code = 0;
    char msg[512];
    bool ok = opts && delete_opts_from_json(opts, o, &code, msg, sizeof msg);
    json_decref(opts);
    return ok;
}

/* The deletion proposed from the event loop: MHD_YES once submitted (then
 * ua belongs to the request), -1 when a worker must serve it. */
static int delete_try(struct update_async *ua, const struct delete_opts *o, bool *submitted)
{
    struct wctx *w = &ua->w;
    struct request *rq = w->rq;
    const struct api_target *t = w->t;
    json_t *cur = NULL;
    uint64_t rev = 0;
    char uid[64] = "";
    if (api_read_current(rq->srv, t, &cur, &rev, uid, sizeof uid) != 0 ||
        !delete_preconditions_hold(o, rev, uid)) {
        json_decref(cur);
        return -1;
    }
    json_t *marked = delete_mark(w, cur, o);
    bool noop = marked && !changed(cur, marked);
    json_decref(cur);
    if (noop) {
        json_decref(marked);
        return -1;
    }
    delete_encode(w, marked, rev, uid, &ua->enc, &ua->cmd);
    ua->gone = !marked;
    json_decref(marked);
    snprintf(ua->uid, sizeof ua->uid, "%s", uid);
    return update_submit(ua, submitted);
}

int write_delete_start(struct request *rq, const struct api_target *t)
{
    if (t->sub[0] || strcmp(t->res->plural, "services") == 0 ||
        strcmp(t->res->plural, "namespaces") == 0)
        return -1;
    struct update_async *ua = update_async_new(rq, t);
    struct delete_opts o;
    bool submitted = false;
    int r = -1;
    if (!ua->w.dry_run && delete_opts_quiet(rq, &o) && !o.dry_run)
        r = delete_try(ua, &o, &submitted);
    if (!submitted)
        update_async_free(ua);
    return r;
}

/* ---- DELETE on a collection (deletecollection) ---- */

struct victim {
    char ns[256], name[256];
};

struct victims {
    struct filter *f;
    struct victim *v;
    size_t n, cap;
};

static int victim_add(void *arg, const struct store_obj *o)
{
    struct victims *vs = arg;
    if (!filter_match_key(vs->f, o))
        return 0;
    if (filter_needs_object(vs->f)) {
        json_t *obj = object_render(o, o->mod_rev);
        bool m = obj && filter_match(vs->f, obj);
        json_decref(obj);
        if (!m)
            return 0;
    }
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? vs->cap * 2 : 64;
        vs->v = xrealloc(vs->v, vs->cap * sizeof *vs->v);
    }
    snprintf(vs->v[vs->n].ns, sizeof vs->v[vs->n].ns, "%.*s", (int)o->ns_len, o->ns);
    snprintf(vs->v[vs->n].name, sizeof vs->v[vs->n].name, "%.*s", (int)o->name_len, o->name);
    vs->n++;
    return 0;
}

/* Deletes every selected object, each as a DELETE of its own would (with
 * the same DeleteOptions), and answers with a Status. */
enum MHD_Result write_delete_collection(struct request *rq, const struct api_target *t)
{
    char err[512] = "";
    enum MHD_Result ret;
    struct victims vs = {.f = filter_parse(t->res, request_arg(rq, "labelSelector"),
                                           request_arg(rq, "fieldSelector"), err, sizeof err)};
    if (!vs.f)
        return reply_status(rq, 400, "BadRequest", "%s", err);
    if (api_read_consistency(rq, &ret)) {
        filter_free(vs.f);
        return ret;
    }
    struct store_read r;
    if (store_read_begin(rq->srv->store, &r) != 0) {
        filter_free(vs.f);
        return reply_status(rq, 500, "InternalError", "cannot read the store");
    }
    store_list(&r, t->res->plural, t->res->namespaced && t->ns[0] ? t->ns : NULL, victim_add, &vs);
    store_read_end(&r);
    filter_free(vs.f);
    struct wctx w;
    struct werr e = {0};
    struct delete_opts o;
    wctx_init(&w, rq, t, NULL);
    if (!delete_opts_parse(rq, &o, &e)) {
        free(vs.v);
        return reply_werr(&w, &e);
    }
    size_t failed = 0;
    for (size_t i = 0; i < vs.n; i++) {
        struct api_target one = *t;
        snprintf(one.ns, sizeof one.ns, "%s", vs.v[i].ns);
        snprintf(one.name, sizeof one.name, "%s", vs.v[i].name);
        struct wctx ow = w;
        ow.t = &one;
        struct del_result dr;
        delete_do(&ow, &o, &dr);
        json_decref(dr.obj);
        if (dr.outcome == DEL_FAILED || dr.outcome == DEL_CONFLICT)
            failed++;
    }
    free(vs.v);
    if (failed)
        return reply_status(rq, 500, "InternalError", "%zu of the selected %s could not be "
                            "deleted", failed, t->res->plural);
    json_t *st = kube_status(200, "", "");
    json_object_del(st, "reason");
    json_object_del(st, "message");
    return reply_json(rq, 200, st);
}

/* ---- pods/binding ---- */

/* Binding a pod to a node (what the scheduler does): sets spec.nodeName
 * if the pod has none, as Kubernetes' BindingREST; a pod already assigned,
 * or being deleted, is a 409. */
static json_t *mutate_bind(struct wctx *w, void *arg, json_t *cur, struct werr *e)
{
    json_t *binding = arg;
    const char *node = api_str(json_object_get(binding, "target"), "name");
    char why[512];
    json_t *next = kube_pod_bind(cur, node, json_object_get(api_metadata(binding), "annotations"),
                                 w->now, why, sizeof why);
    if (!next)
        werr_set(e, 409, "Conflict", "%s", why);
    return next;
}

static json_t *reply_bound(struct wctx *w, json_t *stored)
{
    json_t *st = kube_status(201, "", "");
    json_object_del(st, "reason");
    json_object_del(st, "message");
    return st;
}

enum MHD_Result write_bind(struct request *rq, const struct api_target *t)
{
    struct wctx w;
    struct werr e = {0};
    enum MHD_Result ret;
    wctx_init(&w, rq, t, NULL);
    w.ok_code = 201;
    /* The binding writes the pod's status too: treat it as /status plus
     * spec.nodeName, so the main resource's status protection lets it. */
    struct api_target bt = *t;
    snprintf(bt.sub, sizeof bt.sub, "binding");
    w.t = &bt;
    json_t *body = body_decode_object(rq, &ret);
    if (!body)
        return ret;
    const char *name = api_str(api_metadata(body), "name");
    const char *node = api_str(json_object_get(body, "target"), "name");
    if ((*name && strcmp(name, t->name) != 0) || !*node) {
        json_decref(body);
        werr_set(&e, 422, "Invalid", "Binding \"%s\" is invalid: %s", t->name,
                 *node ? "metadata.name: must match the pod's name"
                       : "target.name: Required value");
        return reply_werr(&w, &e);
    }
    if (!body_check(&w, body, "Binding", "v1", &e)) {
        json_decref(body);
        return reply_werr(&w, &e);
    }
    ret = guaranteed_update(&w, mutate_bind, body, 0, false, false, reply_bound);
    json_decref(body);
    return ret;
}
