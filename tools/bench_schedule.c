/* bench_schedule.c — placeholder for `bosun bench schedule` (being written). */
#include <stdio.h>

#include "tools/tools.h"

int tools_bench_schedule_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bosun bench schedule: not built yet\n");
    return 2;
}
