/* server — `bosun server`: one member of the control plane. It parses flags,
 * opens the store, starts the Raft member (raft/) and serves the Kubernetes
 * REST API and the cluster endpoints over HTTP (libmicrohttpd). */
#ifndef BOSUN_SERVER_H
#define BOSUN_SERVER_H

int server_main(int argc, char **argv);

#endif
