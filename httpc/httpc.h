/* httpc — a small blocking HTTP/1.1 client over TCP, for talking to bosun
 * servers: followers forwarding writes to the leader, the CLI (status, down,
 * join), the benchmarks and the agents.
 *
 * A `struct httpc` is one keep-alive connection to one base URL
 * ("http://127.0.0.1:6001"); requests on it are sequential. Responses may be
 * sized by Content-Length or chunked; a streaming reader returns one chunk
 * of body at a time (for watches). Only plain http:// is supported. Every
 * call takes a timeout in milliseconds and never blocks longer than it. */
#ifndef BOSUN_HTTPC_H
#define BOSUN_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct httpc;
struct ubuf;

struct httpc_response {
    int status;         /* HTTP status code, e.g. 200 */
    char *content_type; /* malloc'd, or NULL */
    char *body;         /* malloc'd, NUL-terminated; NULL for streams */
    size_t body_len;
};

/* Parses url (http://host:port[/...]) and prepares a connection; it connects
 * lazily on the first request and reconnects once if a kept-alive connection
 * was closed by the peer. Returns NULL if the URL is malformed. */
struct httpc *httpc_new(const char *url);
void httpc_free(struct httpc *c);

/* Sends one request and reads the whole response. body may be NULL.
 * headers is NULL or a NULL-terminated array of "Name: value" strings.
 * Returns 0 and fills resp (release with httpc_response_free), or -1 on a
 * connection error or timeout (errno set; the connection is closed). */
int httpc_request(struct httpc *c, const char *method, const char *path, const char *const *headers,
                  const void *body, size_t body_len, int timeout_ms, struct httpc_response *resp);
void httpc_response_free(struct httpc_response *resp);

/* Streaming: sends the request and reads only the status line and headers.
 * Then httpc_stream_read returns the next piece of body (up to cap bytes):
 * >0 bytes read, 0 at the end of the body, -1 on error or timeout. */
int httpc_stream_open(struct httpc *c, const char *method, const char *path,
                      const char *const *headers, const void *body, size_t body_len,
                      int timeout_ms, struct httpc_response *resp);
long httpc_stream_read(struct httpc *c, char *buf, size_t cap, int timeout_ms);
/* Closes the connection (e.g. to abandon a stream). */
void httpc_close(struct httpc *c);
/* From any thread: fails the request under way on c (-1, errno ECANCELED
 * or the socket's), without its one retry, and every later one; c is only
 * good for httpc_free afterwards. The one call of httpc that another thread
 * may make while c is in use. */
void httpc_abort(struct httpc *c);

/* Presence: a connection that carries no request, only to learn when the
 * peer goes (server/leaderwatch.c). httpc_open (re)connects without
 * sending anything: 0, or -1 with errno (ECONNREFUSED: nothing listens
 * there). httpc_wait_closed waits up to timeout_ms: 1 if the peer closed
 * the connection or it failed (it is closed here too), 0 if it is still
 * open (bytes the peer sent are dropped), -1 if there was none. */
int httpc_open(struct httpc *c, int timeout_ms);
int httpc_wait_closed(struct httpc *c, int timeout_ms);

/* For event-driven clients, which own the socket's reads and writes
 * (tools/bench.c). httpc_fd: the connected socket (non-blocking), or -1;
 * httpc_open connects it. httpc_build_head writes a request's line and
 * headers as httpc_request would send them (Host, keep-alive and
 * Content-Length added unless given); -1 (EINVAL) if an argument would
 * break the framing. httpc_response_scan looks at buf[0..n), what arrived
 * since the request was sent: 0 while the response is incomplete, its
 * whole length (head, body and framing) once it is there, -1 if it is
 * malformed or would end only with the connection (no Content-Length, not
 * chunked; a 101). Interim 1xx responses are skipped; *out describes the
 * final one: its status, whether the connection stays open, and where its
 * body starts (as sent: with its chunk framing if chunked). Pure: the
 * caller rescans from the start as bytes arrive, which is cheap for the
 * small answers it is for. */
struct httpc_scan {
    int status;
    bool keep_alive;
    bool chunked;
    size_t body_off; /* the body is buf[body_off .. the returned length) */
};
int httpc_fd(const struct httpc *c);
int httpc_build_head(const struct httpc *c, struct ubuf *out, const char *method,
                     const char *path, const char *const *headers, bool has_body, size_t body_len);
long httpc_response_scan(const char *buf, size_t n, bool head_request, struct httpc_scan *out);

/* Does the comma-separated header value v[0..n) hold token (any case,
 * spaces around elements ignored)? With last, must it be the final one
 * (Transfer-Encoding's chunked)? */
bool httpc_list_has(const char *v, size_t n, const char *token, bool last);

#endif
