#!/usr/bin/env bash
# api.sh — the read side of bosun's API, measured on a local 3-server
# cluster: the issue's performance figures in one run.
#
# How it works. It copies build/bosun to a temporary directory (a rebuild
# during the run must not change what runs), starts a 3-server cluster with
# `bosun up --detach` on ports BASE_PORT+1..3 (Raft BASE_PORT+101..103),
# finds the leader and a follower from GET /cluster/status, and runs, each
# under `timeout`:
#   1. bosun bench list  — OBJECTS Pods, full LISTs as JSON and as Table, on
#      the leader and on a follower, linearizable and resourceVersion=0;
#   2. bosun bench reads — CLIENTS threads GET ConfigMaps by name on the
#      follower, linearizable and resourceVersion=0;
#   3. bosun bench watch --sweep SWEEP — watch streams on the follower, with
#      the writes sent to that follower (forwarded to the leader), then one
#      small point with the writes sent straight to the leader, which shows
#      how long a follower takes to learn of a commit it did not forward;
# and prints a summary. The load average goes on record before and after
# (the machine may be shared), and so do each server's CPU seconds during
# each benchmark and the watched follower's threads and RSS after the sweep.
# A trap on EXIT stops the cluster (`bosun down`, then SIGKILL to any server
# of this directory still alive) and removes the temporary directory.
# Figures go to stdout and build/bench/api-TIME.txt, the JSON lines of every
# benchmark to the same name + .jsonl.
#
# Knobs (environment): OBJECTS=10000 ROUNDS=5 CLIENTS=64 DURATION=10s
# READ_OBJECTS=1000 SWEEP=100,500,1000,1500,2000,3000,4000,5000 EVENTS=200
# RATE=20 WATCH_THREADS=1 BASE_PORT=34400 KEEP=1 (keep the directory).
set -euo pipefail
cd "$(dirname "$0")/../.."

OBJECTS=${OBJECTS:-10000}
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-10s}
READ_OBJECTS=${READ_OBJECTS:-1000}
SWEEP=${SWEEP:-100,500,1000,1500,2000,3000,4000,5000}
EVENTS=${EVENTS:-200}
RATE=${RATE:-20}
WATCH_THREADS=${WATCH_THREADS:-1}
BASE_PORT=${BASE_PORT:-34400}
KEEP=${KEEP:-0}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bosun-bench-api.XXXXXX")
BIN=$TMP/bin/bosun
DIR=$TMP/cluster
mkdir -p build/bench "$TMP/bin"
RESULTS=$PWD/build/bench/api-$(date +%Y%m%d-%H%M%S).txt
JSONL=$RESULTS.jsonl

log() { echo "bench: $*" >&2; }
say() { echo "$*" | tee -a "$RESULTS"; }

# The pids of DIR/cluster.json that are still servers of DIR.
server_pids() {
    local pid
    [ -f "$DIR/cluster.json" ] || return 0
    for pid in $(grep -o '"pid": *[0-9]*' "$DIR/cluster.json" | grep -o '[0-9]*$'); do
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--data-dir $DIR/s"; then
            echo "$pid"
        fi
    done
}

cleanup() {
    local rc=$? pid
    set +e
    if [ -f "$DIR/cluster.json" ]; then
        timeout 30 "$BIN" down --dir "$DIR" >/dev/null 2>&1
        for pid in $(server_pids); do kill -KILL "$pid" 2>/dev/null; done
    fi
    if [ "$KEEP" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

api_url() { echo "http://127.0.0.1:$((BASE_PORT + $1))"; }

# The API URL of the first server whose /cluster/status has "role":"$1".
url_of_role() {
    local i
    for i in 1 2 3; do
        if curl -s -m 2 "$(api_url $i)/cluster/status" | grep -q "\"role\":\"$1\""; then
            api_url "$i"
            return 0
        fi
    done
    return 1
}

# Waits up to $3 s until process $1 has at most $2 threads; prints the wait.
# A server reaps a closed watch stream's thread only when that thread next
# looks at its socket (about once a second, later under load), and until
# then the stream holds one of its connections.
wait_threads_below() {
    local start=$SECONDS t
    while t=$(awk '/^Threads/ { print $2 }' "/proc/$1/status" 2>/dev/null) &&
        [ "${t:-0}" -gt "$2" ] && [ $((SECONDS - start)) -lt "$3" ]; do
        sleep 1
    done
    echo "$((SECONDS - start)) s (now ${t:-?} threads)"
}

# The pid of server i (1..3) from cluster.json.
server_pid() { grep -o '"pid": *[0-9]*' "$DIR/cluster.json" | sed -n "${1}p" | grep -o '[0-9]*$'; }

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    set -- $stat
    echo $(( ${12} + ${13} ))
}
cpu_snapshot() { local i; for i in 1 2 3; do echo -n "$(cpu_ticks "$(server_pid $i)") "; done; }
cpu_delta() {
    local -a a=($1) b=($2)
    local i out=""
    for i in 0 1 2; do
        out="$out${out:+ }s$((i + 1)) $(awk -v x="${a[$i]}" -v y="${b[$i]}" -v t="$CLK_TCK" \
            'BEGIN { printf "%.1f", (y - x) / t }')"
    done
    echo "$out"
}

# run NAME TIMEOUT_S ARGS...: one benchmark with --json; its summary (stderr)
# to the terminal and RESULTS, its JSON lines to JSONL.
run() {
    local name=$1 limit=$2 before after rc=0
    shift 2
    before=$(cpu_snapshot)
    timeout "$limit" "$BIN" bench "$@" --json >"$TMP/$name.jsonl" 2>"$TMP/$name.txt" || rc=$?
    after=$(cpu_snapshot)
    tee -a "$RESULTS" <"$TMP/$name.txt"
    cat "$TMP/$name.jsonl" >>"$JSONL"
    [ "$rc" = 0 ] || say "($name: exit status $rc; 124 means it timed out after ${limit}s)"
    say "server CPU-s during $name: $(cpu_delta "$before" "$after")"
    say ""
}

# ---- the cluster -------------------------------------------------------

[ -x build/bosun ] || { log "build/bosun is missing: make build/bosun"; exit 1; }
cp build/bosun "$BIN"
for p in $((BASE_PORT + 1)) $((BASE_PORT + 2)) $((BASE_PORT + 3)) \
         $((BASE_PORT + 101)) $((BASE_PORT + 102)) $((BASE_PORT + 103)); do
    if port_in_use "$p"; then log "port $p is in use; set BASE_PORT"; exit 1; fi
done
: >"$RESULTS"
: >"$JSONL"
say "bosun API read benchmarks on $(hostname), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "bosun $(git rev-parse --short HEAD 2>/dev/null || echo '?') (+ the working tree)"
say "load before: $(uptime)"
log "starting a 3-server cluster in $DIR"
if ! timeout 60 "$BIN" up --servers 3 --dir "$DIR" --base-port "$BASE_PORT" --detach \
    -- --log-level warn >"$TMP/up.log" 2>&1; then
    log "bosun up failed:"; tail -5 "$TMP/up.log" >&2; exit 1
fi
deadline=$((SECONDS + 30))
until LEADER=$(url_of_role leader) && FOLLOWER=$(url_of_role follower); do
    [ $SECONDS -lt $deadline ] || { log "no leader and follower after 30 s"; exit 1; }
    sleep 0.2
done
ALL="$(api_url 1),$(api_url 2),$(api_url 3)"
FPID=$(server_pid $(( ${FOLLOWER##*:} - BASE_PORT )))
IDLE_THREADS=$(awk '/^Threads/ { print $2 }' "/proc/$FPID/status")
say "leader $LEADER, follower $FOLLOWER (pid $FPID, $IDLE_THREADS threads idle)"
say ""

# ---- the benchmarks ----------------------------------------------------

say "\$ bosun bench list --servers $ALL --objects $OBJECTS --rounds $ROUNDS"
run list 900 list --servers "$ALL" --objects "$OBJECTS" --rounds "$ROUNDS"

say "\$ bosun bench reads --servers $FOLLOWER --clients $CLIENTS --duration $DURATION" \
    "--objects $READ_OBJECTS"
run reads 300 reads --servers "$FOLLOWER" --clients "$CLIENTS" --duration "$DURATION" \
    --objects "$READ_OBJECTS"

say "\$ bosun bench watch --servers $FOLLOWER --sweep $SWEEP --events $EVENTS --rate $RATE/s" \
    "--threads $WATCH_THREADS"
run watch 1800 watch --servers "$FOLLOWER" --sweep "$SWEEP" --events "$EVENTS" --rate "$RATE/s" \
    --threads "$WATCH_THREADS"
say "follower after the sweep: $(grep -E '^(Threads|VmRSS|VmSize)' "/proc/$FPID/status" \
    2>/dev/null | tr -s ' \t\n' ' ')"
say "follower back to <= $((IDLE_THREADS + 50)) threads after $(wait_threads_below "$FPID" \
    $((IDLE_THREADS + 50)) 120)"
say ""

say "\$ bosun bench watch --servers $FOLLOWER --writer $LEADER --watchers 10 --events 100" \
    "--rate $RATE/s"
run watch_leader_writes 300 watch --servers "$FOLLOWER" --writer "$LEADER" --watchers 10 \
    --events 100 --rate "$RATE/s"

# ---- the summary -------------------------------------------------------

say "summary"
python3 - "$JSONL" <<'EOF' | tee -a "$RESULTS"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
for r in rows:
    if r["bench"] == "list":
        print("  LIST %5d pods  %-8s %-5s %-12s median %8.1f ms  (min %.1f, max %.1f)  %5.1f MB" % (
            r["objects"], r["role"], r["format"], r["read"], r["median_ms"], r["min_ms"],
            r["max_ms"], r["bytes"] / 1e6))
for r in rows:
    if r["bench"] == "reads":
        print("  GET  %d clients on a %s, %-12s %8.0f/s  p50 %.2f ms  p99 %.2f ms  errors %d" % (
            r["clients"], r["role"], r["read"], r["rate"], r["p50_ms"], r["p99_ms"], r["errors"]))
watch = [r for r in rows if r["bench"] == "watch"]
for r in watch:
    print("  WATCH %5d watchers on a %s: connected %5d, p50 %6.1f ms, p99 %7.1f ms, lost %d%s" % (
        r["watchers"], r["role"], r["connected"], r["p50_ms"], r["p99_ms"], r["lost_watchers"],
        "" if r["writer"] == r["server"] else "  (writes sent to " + r["writer"] + ")"))
for r in rows:
    if r["bench"] == "watch_sweep":
        print("  largest watcher count with every watcher connected, nothing lost, "
              "p99 <= 100 ms: %d" % r["max_watchers_p99_le_100ms"])
EOF
say ""
say "load after: $(uptime)"
say "figures in $RESULTS (JSON lines in $JSONL)"
