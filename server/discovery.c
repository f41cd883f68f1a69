/* discovery.c — API discovery: which groups, versions and resources this
 * server serves, in the two forms kubectl reads.
 *
 * Everything is derived from the resource table (resources.c): the groups
 * and versions are the distinct ones of the table in table order (the first
 * version of a group is its preferred one), and each resource's scope, short
 * names, categories and subresources come from its row. What Kubernetes
 * answers for a subresource (the kind, the verbs) is a fact about the
 * subresource's name, kept in one table below and shared with openapi.c.
 *
 * Two forms, chosen by the Accept header (accept_aggregated):
 *   aggregated  GET /api and /apis with Accept naming
 *               application/json;g=apidiscovery.k8s.io;v=v2[beta1];as=APIGroupDiscoveryList
 *               answer one APIGroupDiscoveryList (k8s.io/api/apidiscovery/v2)
 *               holding every resource, with that exact Content-Type: kubectl
 *               ignores the body under any other type;
 *   legacy      plain JSON: APIVersions (/api), APIGroupList (/apis),
 *               APIGroup (/apis/{g}), APIResourceList (/api/v1,
 *               /apis/{g}/{v}), where subresources are entries of their own
 *               ("deployments/scale", kind autoscaling/v1 Scale).
 * Documents are built per request: the table is small, building one takes
 * microseconds. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/internal.h"

#define AGGREGATED_TYPE "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList"

/* Every resource of the table supports the full set of object verbs. */
static const char RESOURCE_VERBS[] = "create,delete,deletecollection,get,list,patch,update,watch";

/* Kubernetes' subresources: the kind each answers with (NULL kind: the
 * parent resource's own kind) and its verbs. */
static const struct discovery_subresource subresources[] = {
    {"status", NULL, NULL, NULL, "get,patch,update"},
    {"scale", "autoscaling", "v1", "Scale", "get,patch,update"},
    {"log", "", "v1", "Pod", "get"},
    {"exec", "", "v1", "PodExecOptions", "create,get"},
    {"binding", "", "v1", "Binding", "create"},
    {"eviction", "policy", "v1", "Eviction", "create"},
    {"finalize", "", "v1", "Namespace", "update"},
};

const struct discovery_subresource *discovery_subresource(const char *name)
{
    for (size_t i = 0; i < sizeof subresources / sizeof subresources[0]; i++)
        if (strcmp(subresources[i].name, name) == 0)
            return &subresources[i];
    return NULL;
}

void discovery_subresource_kind(const struct resource *r, const struct discovery_subresource *sr,
                                const char **group, const char **version, const char **kind)
{
    *group = sr->kind ? sr->group : r->group;
    *version = sr->kind ? sr->version : r->version;
    *kind = sr->kind ? sr->kind : r->kind;
}

bool discovery_csv_next(const char **cursor, char *buf, size_t len)
{
    const char *s = *cursor;
    while (*s == ',')
        s++;
    if (!*s)
        return false;
    size_t n = strcspn(s, ",");
    snprintf(buf, len, "%.*s", (int)n, s);
    *cursor = s + n;
    return true;
}

/* ---- groups and versions of the table ---- */

static bool same_gv(const struct resource *a, const struct resource *b)
{
    return strcmp(a->group, b->group) == 0 && strcmp(a->version, b->version) == 0;
}

/* True if r is the first row of its group (by_group) or group/version. */
static bool first_of(unsigned i, bool by_group)
{
    const struct resource *r = resource_at(i);
    for (unsigned j = 0; j < i; j++) {
        const struct resource *o = resource_at(j);
        if (by_group ? strcmp(o->group, r->group) == 0 : same_gv(o, r))
            return false;
    }
    return true;
}

const struct resource *discovery_gv_at(unsigned n)
{
    for (unsigned i = 0; resource_at(i); i++)
        if (first_of(i, false) && n-- == 0)
            return resource_at(i);
    return NULL;
}

/* The first row of the n-th group (core included), or NULL past the end. */
static const struct resource *group_at(unsigned n)
{
    for (unsigned i = 0; resource_at(i); i++)
        if (first_of(i, true) && n-- == 0)
            return resource_at(i);
    return NULL;
}

static bool group_served(const char *group)
{
    for (unsigned i = 0; resource_at(i); i++)
        if (strcmp(resource_at(i)->group, group) == 0)
            return true;
    return false;
}

static bool gv_served(const char *group, const char *version)
{
    for (unsigned i = 0; resource_at(i); i++)
        if (strcmp(resource_at(i)->group, group) == 0 &&
            strcmp(resource_at(i)->version, version) == 0)
            return true;
    return false;
}

/* ---- small JSON pieces ---- */

static json_t *csv_array(const char *csv)
{
    json_t *a = json_array();
    char item[128];
    while (discovery_csv_next(&csv, item, sizeof item))
        json_array_append_new(a, json_string(item));
    return a;
}

/* Sets key to the array of csv's items, unless csv is empty (omitempty). */
static void set_csv(json_t *o, const char *key, const char *csv)
{
    json_t *a = csv_array(csv);
    if (json_array_size(a))
        json_object_set_new(o, key, a);
    else
        json_decref(a);
}

static json_t *gvk_json(const char *group, const char *version, const char *kind)
{
    return json_pack("{s:s, s:s, s:s}", "group", group, "version", version, "kind", kind);
}

static void gv_string(const char *group, const char *version, char *buf, size_t len)
{
    if (group[0])
        snprintf(buf, len, "%s/%s", group, version);
    else
        snprintf(buf, len, "%s", version);
}

/* ---- aggregated discovery (apidiscovery.k8s.io/v2) ---- */

static json_t *agg_subresources(const struct resource *r)
{
    json_t *a = json_array();
    const char *csv = r->subresources;
    char name[32];
    while (discovery_csv_next(&csv, name, sizeof name)) {
        const struct discovery_subresource *sr = discovery_subresource(name);
        if (!sr)
            continue;
        const char *g, *v, *k;
        discovery_subresource_kind(r, sr, &g, &v, &k);
        json_array_append_new(a, json_pack("{s:s, s:o, s:o}", "subresource", name, "responseKind",
                                           gvk_json(g, v, k), "verbs", csv_array(sr->verbs)));
    }
    return a;
}

static json_t *agg_resource(const struct resource *r)
{
    json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:o}", "resource", r->plural, "responseKind",
                          gvk_json(r->group, r->version, r->kind), "scope",
                          r->namespaced ? "Namespaced" : "Cluster", "singularResource",
                          r->singular, "verbs", csv_array(RESOURCE_VERBS));
    set_csv(o, "shortNames", r->short_names);
    set_csv(o, "categories", r->categories);
    json_t *subs = agg_subresources(r);
    if (json_array_size(subs))
        json_object_set_new(o, "subresources", subs);
    else
        json_decref(subs);
    return o;
}

static json_t *agg_version(const struct resource *gv)
{
    json_t *resources = json_array();
    for (unsigned i = 0; resource_at(i); i++)
        if (same_gv(resource_at(i), gv))
            json_array_append_new(resources, agg_resource(resource_at(i)));
    return json_pack("{s:s, s:o, s:s}", "version", gv->version, "resources", resources,
                     "freshness", "Current");
}

static json_t *agg_group(const char *group)
{
    json_t *versions = json_array();
    for (unsigned i = 0; discovery_gv_at(i); i++)
        if (strcmp(discovery_gv_at(i)->group, group) == 0)
            json_array_append_new(versions, agg_version(discovery_gv_at(i)));
    return json_pack("{s:{s:s}, s:o}", "metadata", "name", group, "versions", versions);
}

/* /api holds the core group only, /apis every named group. */
static json_t *agg_list(bool apis, const char *version)
{
    json_t *items = json_array();
    for (unsigned i = 0; group_at(i); i++) {
        const char *g = group_at(i)->group;
        if ((g[0] != '\0') == apis)
            json_array_append_new(items, agg_group(g));
    }
    char api_version[64];
    snprintf(api_version, sizeof api_version, "apidiscovery.k8s.io/%s", version);
    return json_pack("{s:s, s:s, s:{}, s:o}", "kind", "APIGroupDiscoveryList", "apiVersion",
                     api_version, "metadata", "items", items);
}

/* ---- content negotiation ---- */

static const char *const aggregated_versions[] = {"v2", "v2beta1"};

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t");
    memmove(s, s + lead, n - lead + 1);
}

/* One media range of an Accept header: its type and the parameters we
 * look at. */
struct media_range {
    char type[96];
    char g[64], v[32], as[64], q[16];
};

static void media_range_parse(const char *text, size_t len, struct media_range *m)
{
    memset(m, 0, sizeof *m);
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)len, text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        trim(tok);
        char *eq = strchr(tok, '=');
        if (!eq) {
            if (!m->type[0])
                snprintf(m->type, sizeof m->type, "%s", tok);
            continue;
        }
        *eq = '\0';
        trim(tok);
        char *val = eq + 1;
        trim(val);
        struct {
            const char *name;
            char *dst;
            size_t len;
        } params[] = {{"g", m->g, sizeof m->g},
                      {"v", m->v, sizeof m->v},
                      {"as", m->as, sizeof m->as},
                      {"q", m->q, sizeof m->q}};
        for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
            if (strcasecmp(tok, params[i].name) == 0)
                snprintf(params[i].dst, params[i].len, "%s", val);
    }
}

/* The aggregated version a media range names ("v2", "v2beta1"), or NULL. */
static const char *range_aggregated(const struct media_range *m)
{
    if (strcasecmp(m->type, "application/json") != 0 ||
        strcmp(m->g, "apidiscovery.k8s.io") != 0 || strcmp(m->as, "APIGroupDiscoveryList") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof aggregated_versions / sizeof aggregated_versions[0]; i++)
        if (strcmp(m->v, aggregated_versions[i]) == 0)
            return aggregated_versions[i];
    return NULL;
}

static bool range_plain_json(const struct media_range *m)
{
    return !m->as[0] && (strcasecmp(m->type, "application/json") == 0 ||
                         strcmp(m->type, "*/*") == 0 || strcasecmp(m->type, "application/*") == 0);
}

/* Which form the client asks for first, as Kubernetes negotiates: the
 * first media range we can serve wins (q=0 ranges are refused ones).
 * Returns "v2" or "v2beta1" for aggregated discovery, NULL for legacy. */
static const char *accept_aggregated(const char *accept)
{
    if (!accept)
        return NULL;
    for (const char *p = accept; *p;) {
        size_t n = strcspn(p, ",");
        struct media_range m;
        media_range_parse(p, n, &m);
        p += n + (p[n] == ',');
        if (m.q[0] && strtod(m.q, NULL) <= 0)
            continue;
        const char *v = range_aggregated(&m);
        if (v)
            return v;
        if (range_plain_json(&m))
            return NULL;
    }
    return NULL;
}

/* ---- replies ---- */

static enum MHD_Result reply_typed(struct request *rq, const char *type, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!s)
        return reply_text(rq, 500, "text/plain", "cannot encode the reply\n");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-cache, private");
    MHD_add_response_header(r, "Vary", "Accept");
    return http_queue(rq, 200, r);
}

static enum MHD_Result reply_not_found(struct request *rq)
{
    return reply_status(rq, 404, "NotFound", "the server could not find the requested resource");
}

static bool method_get(struct request *rq)
{
    return strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0;
}

static enum MHD_Result reply_method(struct request *rq)
{
    return reply_status(rq, 405, "MethodNotAllowed", "%s is not supported on discovery documents",
                        rq->method);
}

/* ---- legacy documents ---- */

static json_t *api_versions(void)
{
    json_t *versions = json_array();
    for (unsigned i = 0; discovery_gv_at(i); i++)
        if (!discovery_gv_at(i)->group[0])
            json_array_append_new(versions, json_string(discovery_gv_at(i)->version));
    return json_pack("{s:s, s:o, s:[{s:s, s:s}]}", "kind", "APIVersions", "versions", versions,
                     "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0", "serverAddress",
                     "");
}

static json_t *gv_for_discovery(const char *group, const char *version)
{
    char gv[128];
    gv_string(group, version, gv, sizeof gv);
    return json_pack("{s:s, s:s}", "groupVersion", gv, "version", version);
}

/* An APIGroup without kind/apiVersion (as inside an APIGroupList); group
 * is one the table serves. */
static json_t *api_group(const char *group)
{
    json_t *versions = json_array();
    const struct resource *preferred = NULL;
    for (unsigned i = 0; discovery_gv_at(i); i++) {
        const struct resource *gv = discovery_gv_at(i);
        if (strcmp(gv->group, group) != 0)
            continue;
        preferred = preferred ? preferred : gv;
        json_array_append_new(versions, gv_for_discovery(gv->group, gv->version));
    }
    assert(preferred);
    return json_pack("{s:s, s:o, s:o}", "name", group, "versions", versions, "preferredVersion",
                     gv_for_discovery(group, preferred->version));
}

static json_t *api_group_list(void)
{
    json_t *groups = json_array();
    for (unsigned i = 0; group_at(i); i++)
        if (group_at(i)->group[0])
            json_array_append_new(groups, api_group(group_at(i)->group));
    return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
                     groups);
}

static json_t *api_resource(const struct resource *r)
{
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", r->plural, "singularName",
                          r->singular, "namespaced", r->namespaced, "kind", r->kind, "verbs",
                          csv_array(RESOURCE_VERBS));
    set_csv(o, "shortNames", r->short_names);
    set_csv(o, "categories", r->categories);
    return o;
}

/* "pods/log": group and version only where they differ from the parent's. */
static json_t *api_subresource(const struct resource *r, const struct discovery_subresource *sr)
{
    const char *g, *v, *k;
    discovery_subresource_kind(r, sr, &g, &v, &k);
    char name[160];
    snprintf(name, sizeof name, "%s/%s", r->plural, sr->name);
    json_t *o = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "",
                          "namespaced", r->namespaced, "kind", k, "verbs", csv_array(sr->verbs));
    if (strcmp(g, r->group) != 0 || strcmp(v, r->version) != 0) {
        json_object_set_new(o, "group", json_string(g));
        json_object_set_new(o, "version", json_string(v));
    }
    return o;
}

static json_t *api_resource_list(const char *group, const char *version)
{
    json_t *list = json_array();
    for (unsigned i = 0; resource_at(i); i++) {
        const struct resource *r = resource_at(i);
        if (strcmp(r->group, group) != 0 || strcmp(r->version, version) != 0)
            continue;
        json_array_append_new(list, api_resource(r));
        const char *csv = r->subresources;
        char name[32];
        while (discovery_csv_next(&csv, name, sizeof name))
            if (discovery_subresource(name))
                json_array_append_new(list, api_subresource(r, discovery_subresource(name)));
    }
    char gv[128];
    gv_string(group, version, gv, sizeof gv);
    return json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion", "v1",
                     "groupVersion", gv, "resources", list);
}

/* ---- handlers ---- */

enum MHD_Result discovery_handle_root(struct request *rq, bool apis)
{
    if (!method_get(rq))
        return reply_method(rq);
    const char *accept = request_header(rq, MHD_HTTP_HEADER_ACCEPT);
    const char *agg = accept_aggregated(accept);
    if (agg) {
        char type[128];
        snprintf(type, sizeof type, AGGREGATED_TYPE, agg);
        return reply_typed(rq, type, agg_list(apis, agg));
    }
    return reply_json(rq, 200, apis ? api_group_list() : api_versions());
}

enum MHD_Result discovery_handle_group_version(struct request *rq, const char *group,
                                               const char *version)
{
    bool served = version && version[0] ? gv_served(group, version)
                                        : group[0] && group_served(group);
    if (!served)
        return reply_not_found(rq);
    if (!method_get(rq))
        return reply_method(rq);
    if (!version || !version[0]) {
        json_t *g = api_group(group);
        json_object_set_new(g, "kind", json_string("APIGroup"));
        json_object_set_new(g, "apiVersion", json_string("v1"));
        return reply_json(rq, 200, g);
    }
    return reply_json(rq, 200, api_resource_list(group, version));
}
