/* tools — the `bosun` command-line front end: subcommand dispatch and the
 * commands that are clients of a cluster (up, down, status, bench, member,
 * transfer). `bosun server` itself lives in server/. Each *_main takes the
 * arguments after the subcommand name (argv[0] is the subcommand) and returns
 * the process exit status. */
#ifndef BOSUN_TOOLS_H
#define BOSUN_TOOLS_H

int tools_up_main(int argc, char **argv);
int tools_down_main(int argc, char **argv);
int tools_status_main(int argc, char **argv);
int tools_bench_main(int argc, char **argv);
/* bench_api.c: bosun bench list, reads and watch (the read side of the API). */
int tools_bench_list_main(int argc, char **argv);
int tools_bench_reads_main(int argc, char **argv);
int tools_bench_watch_main(int argc, char **argv);
/* bench_schedule.c: bosun bench schedule (scheduling throughput, hollow nodes). */
int tools_bench_schedule_main(int argc, char **argv);
int tools_member_main(int argc, char **argv);
/* chaos.c: bosun chaos (the runner, chaos_run.c) and bosun chaos check DIR. */
int tools_chaos_main(int argc, char **argv);

/* Helpers the benchmarks share (bench.c). */
#include <stddef.h>
#include <stdint.h>
/* A decimal in [min, max] into *out: 0, or -1. */
int bench_parse_long(const char *s, long long min, long long max, long long *out);
void bench_sleep_ms(long ms); /* nanosleep, resumed after signals */
int bench_cmp_u32(const void *a, const void *b); /* qsort order of uint32_t */
/* Nearest rank: the smallest sample with at least p percent at or below it. */
uint32_t bench_percentile(const uint32_t *sorted, size_t n, double p);
/* The comma-separated items of list ("a,b,,c": a, b, c), NULL-terminated,
 * each and the array to free; *n their number. */
char **bench_list_split(const char *list, int *n);
/* Latency figures of n samples (microseconds); sorts v. */
struct bench_lat {
    long long n;
    uint32_t p50, p90, p99, max;
    double mean_us;
};
void bench_lat_summarize(uint32_t *v, size_t n, struct bench_lat *out);
/* Helpers of the commands that run local clusters (up.c). */
#include <stdbool.h>
/* Whether nothing listens on 127.0.0.1:port. */
bool tools_port_free(int port);
/* mkdir -p: 0, or -1 with errno. */
int tools_mkdir_p(const char *path);
/* rm -rf: dir and everything under it (nothing for NULL or ""); 0, or -1
 * if something could not be removed. */
int tools_rmtree(const char *dir);
/* The absolute path of bin, or of this binary when bin is NULL; NULL after
 * a message naming `bosun cmd`. The caller frees it. */
char *tools_resolve_bin(const char *cmd, const char *bin);
/* Prints the last lines of a log file to stderr, indented. */
void tools_print_log_tail(const char *path, int lines);
struct httpc;
struct httpc_response;
struct json_t;
/* One request on h (Accept: accept or JSON; Content-Type: ctype when body is
 * sent); the HTTP status, 0 without an answer; the response to out if not NULL. */
int bench_http_call(struct httpc *h, const char *method, const char *path, const char *accept,
                    const char *ctype, const char *body, int timeout_ms,
                    struct httpc_response *out);
/* GET /cluster/status from the server at api: the parsed object (a new
 * reference), or NULL if the server is unreachable or answers anything but
 * 200 with a JSON object. */
struct json_t *tools_status_fetch(const char *api, int timeout_ms);
/* A one-off GET of a JSON document; a new reference, NULL unless 200 JSON. */
struct json_t *bench_get_json(const char *url, const char *path, int timeout_ms);
int tools_transfer_main(int argc, char **argv);

/* bench_loop.c: many HTTP clients, one request in flight each, on a few
 * epoll threads; the callbacks run on the client's thread (see there). */
#include "util/util.h"
enum bench_then { BENCH_NEXT, BENCH_RESEND };
struct bench_req {
    const char *method;         /* POST when NULL */
    char path[512];
    const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
    struct ubuf body;           /* empty on each call of next */
};
struct bench_loop_cfg {
    char **servers; /* client c talks to servers[c % n_servers] */
    int n_servers;
    int clients, threads;
    int timeout_ms; /* per request, unless timeout_ms_fn says */
    void *arg;
    /* Client c's next request into req, to be sent not before *at_us (0:
     * now); false when c has no more. */
    bool (*next)(void *arg, int c, struct bench_req *req, uint64_t *at_us);
    /* Its answer (status 0: none), sent at sent_us: resend the same request
     * or go on with next, not before *at_us. body is terminated. */
    enum bench_then (*done)(void *arg, int c, int status, const char *body, size_t len,
                            uint64_t sent_us, uint64_t *at_us);
    int (*timeout_ms_fn)(void *arg, uint64_t now_us); /* optional */
    bool (*stopping)(void *arg); /* optional: true ends the clients that wait */
    void (*abort)(void *arg); /* next returns false from now on (a loop failed to start) */
};
/* Runs until every client is done: 0, or -1 after a message. threads is
 * at least 1 and at most clients; the flags that set it take 1 to
 * BENCH_LOOP_MAX_THREADS, BENCH_LOOP_THREADS by default. */
int bench_loop_run(const struct bench_loop_cfg *cfg);
#define BENCH_LOOP_THREADS 1
#define BENCH_LOOP_MAX_THREADS 64

#endif
