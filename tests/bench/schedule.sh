#!/usr/bin/env bash
# schedule.sh — scheduling throughput, measured the way issue 4 states its
# target: 3 servers, 5,000 hollow nodes, 50,000 pods, the basic preset, on
# this machine, with the release build.
#
# How it works. It copies build/bosun to a temporary directory (a rebuild
# during the run must not change what runs) and runs `bosun bench schedule`
# once per creation rate in RATES: by default as fast as the clients go (0:
# the pods/s figure, target >= 10,000 from the first create to the last
# binding) and 5,000 pods/s (the latency figure, target p99 create->bound
# < 1 s). Each run starts its own cluster and hollow nodes on a free port
# range and stops them at the end (also on Ctrl-C or a timeout: `timeout`
# sends SIGTERM, which the benchmark handles), each under `timeout`. The
# load average goes on record before and after (the machine may be shared).
# Reports go to stdout and build/bench/schedule-TIME-rR.{txt,json,svg}, and a
# summary against the targets to build/bench/schedule-TIME.txt.
#
# Knobs (environment): NODES=5000 PODS=50000 PRESET=basic SERVERS=3
# RATES="0 5000" CLIENTS= (default: the benchmark's, 64, or R/5 at R pods/s)
# TIMEOUT=300s BASE_PORT= (default: picked) KEEP=1 (keep the cluster and the
# nodes of the last run running).
set -euo pipefail
cd "$(dirname "$0")/../.."

NODES=${NODES:-5000}
PODS=${PODS:-50000}
PRESET=${PRESET:-basic}
SERVERS=${SERVERS:-3}
RATES=${RATES:-0 5000}
CLIENTS=${CLIENTS:-}
TIMEOUT=${TIMEOUT:-300s}
BASE_PORT=${BASE_PORT:-}
KEEP=${KEEP:-0}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bosun-bench-schedule-sh.XXXXXX")
BIN=$TMP/bosun
mkdir -p build/bench
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$PWD/build/bench/schedule-$STAMP
SUMMARY=$OUT.txt

log() { echo "bench: $*" >&2; }
say() { echo "$*" | tee -a "$SUMMARY"; }

cleanup() {
    local rc=$?
    rm -rf "$TMP"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x build/bosun ] || { log "build/bosun is missing: make build/bosun"; exit 1; }
cp build/bosun "$BIN"
: >"$SUMMARY"
say "bosun bench schedule on $(hostname), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "bosun $(git rev-parse --short HEAD 2>/dev/null || echo '?') (+ the working tree)"
say "load before: $(uptime)"
say ""

# The seconds of a duration like 300s or 5m, plus 10 minutes for the nodes
# to register (the benchmark's --timeout covers that wait and the run
# separately) and for the cluster to start and stop.
case $TIMEOUT in
    *ms) secs=$(( ${TIMEOUT%ms} / 1000 )) ;;
    *m) secs=$(( ${TIMEOUT%m} * 60 )) ;;
    *s) secs=${TIMEOUT%s} ;;
    *) secs=$TIMEOUT ;;
esac
limit=$(( secs * 2 + 600 ))

failed=0
for rate in $RATES; do
    r=$OUT-r$rate
    args=(--nodes "$NODES" --pods "$PODS" --preset "$PRESET" --servers "$SERVERS"
          --create-rate "$rate" --timeout "$TIMEOUT" --json "$r.json" --plot "$r.svg")
    [ -n "$CLIENTS" ] && args+=(--clients "$CLIENTS")
    [ -n "$BASE_PORT" ] && args+=(--base-port "$BASE_PORT")
    [ "$KEEP" = 1 ] && args+=(--keep)
    say "\$ bosun bench schedule ${args[*]}"
    rc=0
    timeout "$limit" "$BIN" bench schedule "${args[@]}" >"$r.txt" || rc=$?
    tee -a "$SUMMARY" <"$r.txt"
    [ "$rc" = 0 ] || { say "(exit status $rc; 124 means it timed out after ${limit}s)"; failed=1; }
    say ""
done

say "summary (targets: >= 10000 pods/s at the maximum rate; p99 < 1000 ms at 5000/s)"
for rate in $RATES; do
    [ -f "$OUT-r$rate.json" ] || { say "  rate $rate: no report"; continue; }
    python3 - "$OUT-r$rate.json" "$rate" <<'EOF' | tee -a "$SUMMARY"
import json, sys
j = json.load(open(sys.argv[1]))
rate = float(sys.argv[2])
lat = j["latency_ms"]
cpu = j["cpu_ms_per_pod"]
line = "  create rate %-5s %6d/%d bound  %8.0f pods/s (steady %s)  p50 %.0f ms  p99 %.0f ms  " \
       "max %.0f ms  leader CPU %s ms/pod  checks %s" % (
    "max" if rate == 0 else "%g" % rate, j["bound"], j["pods"], j["pods_per_s"],
    "%.0f" % j["steady_pods_per_s"] if j["steady_pods_per_s"] is not None else "n/a",
    lat["p50"], lat["p99"], lat["max"], "%.3f" % cpu if cpu is not None else "n/a",
    "ok" if j["checks"]["ok"] else "FAILED")
if rate == 0:
    line += "  [target 10000 pods/s: %s]" % ("met" if j["pods_per_s"] >= 10000 else "not met")
elif rate == 5000:
    line += "  [target p99 < 1 s: %s]" % ("met" if lat["p99"] < 1000 else "not met")
print(line)
EOF
done
say ""
say "load after: $(uptime)"
say "reports in $OUT-r*.{txt,json,svg}; this summary in $SUMMARY"
exit $failed
