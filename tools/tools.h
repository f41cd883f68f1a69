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

/* Helpers the benchmarks share (bench.c). */
#include <stddef.h>
#include <stdint.h>
/* A decimal in [min, max] into *out: 0, or -1. */
int bench_parse_long(const char *s, long long min, long long max, long long *out);
void bench_sleep_ms(long ms); /* nanosleep, resumed after signals */
int bench_cmp_u32(const void *a, const void *b); /* qsort order of uint32_t */
/* Nearest rank: the smallest sample with at least p percent at or below it. */
uint32_t bench_percentile(const uint32_t *sorted, size_t n, double p);
int tools_transfer_main(int argc, char **argv);

#endif
