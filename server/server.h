/* server — `bosun server`: one member of the control plane. It parses flags,
 * opens the store, starts the Raft member (raft/) and serves the Kubernetes
 * REST API and the cluster endpoints over HTTP (libmicrohttpd). */
#ifndef BOSUN_SERVER_H
#define BOSUN_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int server_main(int argc, char **argv);

/* A member without its HTTP listener, Raft transport or threads, over a
 * store and a cluster the caller runs, serving requests only through
 * server_call: how the deterministic simulation (tests/sim) runs the
 * controllers against the real API. Its writes go to cluster_propose, so
 * the caller's cluster must be the leader's; a follower's would forward. */
struct server;
struct store;
struct cluster;
struct server *server_embed(uint64_t id, struct store *st, struct cluster *cl);
void server_embed_free(struct server *s);
/* Serves one request on the calling thread, as a worker serves one from
 * HTTP: url is a path with its query, headers "Name: value" strings
 * (NULL-terminated, or NULL). Returns the status; the reply's body, malloc'd
 * and NUL-terminated, goes to *reply (if reply is not NULL; free it). Not
 * for watches (405). */
int server_call(struct server *s, const char *method, const char *url,
                const char *const *headers, const void *body, size_t len, char **reply,
                size_t *reply_len);

/* The API's resources, for the leader's loops (controllers, scheduler):
 * the i-th resource's plural name and scope (false past the end). */
bool server_resource_at(unsigned i, const char **plural, bool *namespaced);
/* The API path of an object or, with name "" or NULL, of its collection;
 * false for an unknown resource. */
bool server_resource_path(const char *plural, const char *ns, const char *name, char *buf,
                          size_t len);

/* The plural of the resource of apiVersion ("apps/v1", "v1") and kind, as
 * an ownerReference names it; NULL if not served. */
const char *server_resource_of_kind(const char *api_version, const char *kind);

#endif
