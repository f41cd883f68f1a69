/* server — `bosun server`: one member of the control plane. It parses flags,
 * opens the store, starts the Raft member (raft/) and serves the Kubernetes
 * REST API and the cluster endpoints over HTTP (libmicrohttpd). */
#ifndef BOSUN_SERVER_H
#define BOSUN_SERVER_H

#include <stdbool.h>
#include <stddef.h>

int server_main(int argc, char **argv);

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
