/* chaos_attach.c — `bosun chaos --kubeconfig FILE`: the runner attached to a
 * cluster that already runs (one `bosun up` started, say) instead of
 * starting its own.
 *
 * The kubeconfig gives one server: the `server` URL of the cluster of its
 * current context (or of --context). GET /cluster/status there lists the
 * members, each with its id, API URL and Raft address; every one of them
 * becomes a foreign server of the runner's cluster (chaos_server.foreign):
 * clients, watchers and final reads spread over all of them as usual, but
 * no process is ours, so no server is started, signalled or stopped, and
 * there is no fault proxy. The faults are those an operator does through
 * the API (membership: remove and add back; transfer: move leadership).
 * The members must all be voters, numbered 1..N, N >= 3, as `bosun up`
 * makes them (the faults address servers by id).
 *
 * The workload lives in namespace chaos; what an earlier run left there is
 * deleted first (chaos_namespace_reset), so that every key starts absent,
 * as the checker assumes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec/codec.h"
#include "httpc/httpc.h"
#include "tools/chaos_internal.h"
#include "tools/tools.h"

enum { AT_STATUS_MS = 3000, AT_MAX_FILE = 1 << 20 };

/* The member of array named name ({"name": name, key: {...}}): its key
 * object, or NULL. */
static const json_t *at_named(const json_t *array, const char *name, const char *key)
{
    size_t i;
    const json_t *it;
    json_array_foreach(array, i, it)
    {
        const char *n = json_string_value(json_object_get(it, "name"));
        if (n && name && strcmp(n, name) == 0)
            return json_object_get(it, key);
    }
    return NULL;
}

static json_t *at_read_yaml(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        chaos_fail(err, errlen, "cannot open %s: %m", path);
        return NULL;
    }
    char *buf = xmalloc(AT_MAX_FILE);
    size_t n = fread(buf, 1, AT_MAX_FILE, f);
    fclose(f);
    char why[256] = "";
    json_t *doc = n < AT_MAX_FILE ? codec_yaml_to_json(buf, n, why, sizeof why) : NULL;
    free(buf);
    if (!doc)
        chaos_fail(err, errlen, "%s is not a kubeconfig: %s", path,
                   n >= AT_MAX_FILE ? "larger than 1 MiB" : why);
    return doc;
}

int chaos_kubeconfig_server(const char *path, const char *context, char *url, size_t len,
                            char *err, size_t errlen)
{
    json_t *doc = at_read_yaml(path, err, errlen);
    if (!doc)
        return -1;
    const char *ctx = context ? context
                              : json_string_value(json_object_get(doc, "current-context"));
    const json_t *c = at_named(json_object_get(doc, "contexts"), ctx, "context");
    const char *cluster = json_string_value(json_object_get(c, "cluster"));
    const json_t *cl = at_named(json_object_get(doc, "clusters"), cluster, "cluster");
    const char *server = json_string_value(json_object_get(cl, "server"));
    int rc = 0;
    if (!ctx)
        rc = chaos_fail(err, errlen, "%s names no current-context (give --context)", path);
    else if (!c)
        rc = chaos_fail(err, errlen, "%s has no context \"%s\"", path, ctx);
    else if (!server)
        rc = chaos_fail(err, errlen, "%s: context \"%s\" names no cluster with a server", path,
                        ctx);
    else if (strncmp(server, "http://", 7) != 0)
        rc = chaos_fail(err, errlen, "%s: server %s: only http:// servers can be attached to",
                        path, server);
    else
        snprintf(url, len, "%s", server);
    while (rc == 0 && strlen(url) > 7 && url[strlen(url) - 1] == '/')
        url[strlen(url) - 1] = '\0';
    json_decref(doc);
    return rc;
}

/* One member of /cluster/status into the cluster's slot for its id. */
static int at_member(struct chaos_cluster *c, const json_t *m, int n, char *err, size_t errlen)
{
    json_int_t id = json_integer_value(json_object_get(m, "id"));
    const char *api = json_string_value(json_object_get(m, "api"));
    const char *addr = json_string_value(json_object_get(m, "address"));
    const char *role = json_string_value(json_object_get(m, "role"));
    if (id < 1 || id > n || !api || !addr || !role)
        return chaos_fail(err, errlen, "the members must be numbered 1..%d, each with its api "
                                       "and address (member %lld is not)", n, (long long)id);
    if (strcmp(role, "voter") != 0)
        return chaos_fail(err, errlen, "member %lld is a %s: every member must be a voter",
                          (long long)id, role);
    struct chaos_server *s = &c->servers[id - 1];
    if (s->id)
        return chaos_fail(err, errlen, "member %lld is listed twice", (long long)id);
    if (strlen(api) >= sizeof s->api || strlen(addr) >= sizeof s->raft_address)
        return chaos_fail(err, errlen, "member %lld: its api or address is too long",
                          (long long)id);
    s->id = (int)id;
    s->foreign = true;
    snprintf(s->api, sizeof s->api, "%s", api);
    snprintf(s->raft_address, sizeof s->raft_address, "%s", addr);
    return 0;
}

int chaos_cluster_attach(struct chaos_cluster *c, const char *url, const char *dir,
                         const char *bin, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->dir = xstrdup(dir);
    c->bin = xstrdup(bin);
    c->attached = true;
    json_t *st = tools_status_fetch(url, AT_STATUS_MS);
    const json_t *members = json_object_get(st, "members"), *m;
    int n = (int)json_array_size(members), rc = 0;
    size_t i;
    if (!st)
        rc = chaos_fail(err, errlen, "%s does not answer GET /cluster/status (is it a bosun "
                                     "server?)", url);
    else if (n < 3 || n > CHAOS_MAX_SERVERS)
        rc = chaos_fail(err, errlen, "%s is in a cluster of %d members: 3 to %d are needed",
                        url, n, CHAOS_MAX_SERVERS);
    json_array_foreach(members, i, m)
    {
        if (rc == 0)
            rc = at_member(c, m, n, err, errlen);
    }
    json_decref(st);
    c->n = rc == 0 ? n : 0;
    return rc;
}

/* Namespace chaos's status on the first server that answers: 200 (there),
 * 404 (gone), or 0. */
static int at_namespace_status(const struct chaos_cluster *c)
{
    for (int i = 0; i < c->n; i++) {
        struct httpc *h = httpc_new(c->servers[i].api);
        int status = h ? bench_http_call(h, "GET", "/api/v1/namespaces/" CHAOS_NAMESPACE, NULL,
                                         NULL, NULL, AT_STATUS_MS, NULL)
                       : 0;
        httpc_free(h);
        if (status == 200 || status == 404)
            return status;
    }
    return 0;
}

int chaos_namespace_reset(const struct chaos_cluster *c, int ms, char *err, size_t errlen)
{
    int64_t deadline = chaos_now_ns() + (int64_t)ms * 1000000;
    bool asked = false;
    for (;;) {
        int status = at_namespace_status(c);
        if (status == 404)
            return 0;
        if (status == 200 && !asked) {
            struct httpc *h = httpc_new(c->servers[0].api);
            int del = h ? bench_http_call(h, "DELETE", "/api/v1/namespaces/" CHAOS_NAMESPACE,
                                          NULL, NULL, NULL, AT_STATUS_MS, NULL)
                        : 0;
            httpc_free(h);
            asked = del == 200 || del == 202;
        }
        if (chaos_now_ns() >= deadline)
            return chaos_fail(err, errlen, "namespace " CHAOS_NAMESPACE " (left by an earlier "
                                           "run) is still there %d s after its deletion", ms / 1000);
        bench_sleep_ms(500);
    }
}
