/* hollow.c — placeholder for `bosun agent --hollow N` (being written). */
#include <stdio.h>

#include "agent/agent.h"

int agent_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "bosun agent: not built yet\n");
    return 2;
}
