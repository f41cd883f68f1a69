/* chaos.c — `bosun chaos`: chaos-testing failovers (issue 6). Dispatch:
 *   bosun chaos [flags]        the runner (chaos_run.c): starts a local
 *                              cluster behind a Raft fault proxy, drives a
 *                              workload, injects faults, heals, and judges
 *                              the recorded history;
 *   bosun chaos check DIR ...  the checker alone: judges DIR/history.jsonl,
 *                              DIR/final.json and DIR/watch.jsonl when
 *                              there is one (formats at the top of
 *                              tools/chaos_history.c, the checks at the top
 *                              of tools/chaos_check.c).
 *
 * Exit status: 0 PASS, 1 FAIL, 2 when the tool could not run (usage, a
 * missing, unreadable or malformed file) or could not decide (a key's
 * search hit its limit and nothing failed: verdict UNKNOWN). With --json the
 * text verdict goes to stderr and stdout gets the verdict as one JSON line
 * (as `bosun bench` does). */
#include <stdio.h>
#include <string.h>

#include "tools/chaos_internal.h"
#include "tools/tools.h"

static void chaos_usage(FILE *f)
{
    fprintf(f,
            "usage: bosun chaos check DIR [--json] [--no-final] [--max-states N]\n"
            "\n"
            "  check DIR      judge a recorded history: DIR/history.jsonl (one operation per\n"
            "                 line), DIR/final.json (each server's final state) and, if there,\n"
            "                 DIR/watch.jsonl (each server's watch streams); checks\n"
            "                 linearizability per key, lost acknowledged writes, convergence,\n"
            "                 and watch streams in order without gaps or duplicates; with\n"
            "                 DIR/controllers.jsonl (--workload controllers) the controller\n"
            "                 invariants too.\n"
            "                 Exit 0 PASS, 1 FAIL, 2 could not run or could not decide.\n"
            "  --json         the verdict as one JSON line on stdout (the text goes to stderr)\n"
            "  --no-final     DIR has no final.json: check linearizability only\n"
            "  --max-states N give up on a key after N search states (default 1000000)\n"
            "\n"
            "The runner, which starts a cluster, injects faults and records the history:\n"
            "see bosun chaos --help.\n");
}

static int chaos_check_main(int argc, char **argv)
{
    struct chaos_options o = {0};
    const char *dir = NULL;
    bool no_final = false;
    for (int i = 1; i < argc; i++) {
        long long n;
        if (strcmp(argv[i], "--json") == 0) {
            o.json = true;
        } else if (strcmp(argv[i], "--no-final") == 0) {
            no_final = true;
        } else if (strcmp(argv[i], "--max-states") == 0 && i + 1 < argc &&
                   bench_parse_long(argv[i + 1], 1, 1000000000000ll, &n) == 0) {
            o.max_states = n;
            i++;
        } else if (argv[i][0] != '-' && !dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "bosun chaos check: unexpected argument %s\n", argv[i]);
            chaos_usage(stderr);
            return 2;
        }
    }
    if (!dir) {
        chaos_usage(stderr);
        return 2;
    }
    struct chaos_history h;
    char err[512];
    chaos_history_init(&h);
    if (chaos_history_load(&h, dir, no_final, err, sizeof err) < 0) {
        fprintf(stderr, "bosun chaos check: %s\n", err);
        chaos_history_free(&h);
        return 2;
    }
    struct chaos_report r;
    chaos_check_history(&h, &o, &r);
    fwrite(r.text.data, 1, r.text.len, o.json ? stderr : stdout);
    if (o.json)
        fwrite(r.json.data, 1, r.json.len, stdout);
    int rc = r.verdict == CHAOS_PASS ? 0 : r.verdict == CHAOS_FAILED ? 1 : 2;
    chaos_report_free(&r);
    chaos_history_free(&h);
    return rc;
}

int tools_chaos_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                chaos_usage(stdout);
                return 0;
            }
        return chaos_check_main(argc - 1, argv + 1);
    }
    return chaos_run_main(argc, argv);
}
