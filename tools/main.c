/* main.c — the `bosun` binary: one table of subcommands, one dispatch. */
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "server/server.h"
#include "tools/tools.h"

struct subcommand {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct subcommand subcommands[] = {
    {"server", server_main, "run one control-plane server (API + Raft member + LMDB replica)"},
    {"agent", agent_main, "run nodes: --hollow N simulates N nodes in one process"},
    {"up", tools_up_main, "start a local cluster of N servers"},
    {"down", tools_down_main, "stop a local cluster started with --detach"},
    {"status", tools_status_main, "print each server's role, term, commit and applied index"},
    {"member", tools_member_main, "add, promote or remove a cluster member"},
    {"transfer", tools_transfer_main, "transfer leadership to a server"},
    {"bench", tools_bench_main, "benchmarks: writes, list, reads, watch, schedule"},
    {"chaos", tools_chaos_main, "chaos testing: check DIR judges a recorded history"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: bosun <command> [flags]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        fprintf(f, "  %-9s %s\n", subcommands[i].name, subcommands[i].help);
    fprintf(f, "\n`bosun <command> --help` describes a command's flags.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "bosun: unknown command %s\n", argv[1]);
    usage(stderr);
    return 2;
}
