#!/usr/bin/env bash
# writes_vs_etcd.sh — `make bench`: bosun's write throughput side by side
# with etcd's, on this machine, in one run.
#
# How it works. It starts a local 3-server bosun cluster (`bosun up
# --detach`, or the three servers directly with --peers if `up` fails) and a
# 3-member etcd 3.4 cluster (Debian's etcd-server, installed with apt-get if
# missing), everything on 127.0.0.1 with its data in one temporary directory
# and etcd with its default fsync. Then `bosun bench writes` drives each with
# the same clients, body size and duration, alternating (bosun, etcd, bosun,
# etcd, ...) on the same two clusters, so that the noise of the machine falls
# on both; it prints one line per run with creates/s, latency percentiles and
# the CPU seconds each cluster's processes used during it, then the mean of
# each target and the ratio bosun/etcd. Last it sweeps bosun alone over
# client counts (1 16 64 256), each point on a new empty cluster so that the
# points differ only in clients (state left by earlier runs slows later
# ones): once round-robin over the servers and once with every client on the
# leader. Throughput should grow with clients because the proposer puts
# every waiting write into one Raft entry (group commit).
#
# Everything is bounded: each bench run stops at its duration, waits for
# readiness are polled with deadlines, and a trap on EXIT stops the servers
# (bosun down, then SIGTERM/SIGKILL by pid) and removes the temporary
# directory. The figures go to stdout and to build/bench/writes_vs_etcd-TIME.txt
# (and the JSON line of every run to the same name + .jsonl).
#
# Knobs (environment): CLIENTS=256 SIZE=1024 DURATION=10s ROUNDS=2
# SWEEP="1 16 64 256" (empty: no sweep) LEADER_SWEEP=1 (sweep again with every
# client on the leader, to tell forwarding from group commit)
# BOSUN_PORT=18440 (API P+1..P+3, Raft P+101..P+103) ETCD_PORT=18600
# (clients P+1..P+3, peers P+11..P+13) PROFILE=1 (perf record the bosun
# leader during one more run at CLIENTS, if perf exists) KEEP=1 (keep the
# temporary directory: logs, data) BOSUN_DIRECT=1 (start the servers
# directly instead of with `bosun up`).
set -euo pipefail
cd "$(dirname "$0")/../.."

CLIENTS=${CLIENTS:-256}
SIZE=${SIZE:-1024}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-2}
SWEEP=${SWEEP-1 16 64 256}
BOSUN_PORT=${BOSUN_PORT:-18440}
ETCD_PORT=${ETCD_PORT:-18600}
PROFILE=${PROFILE:-0}
LEADER_SWEEP=${LEADER_SWEEP:-1}
KEEP=${KEEP:-0}
BOSUN_DIRECT=${BOSUN_DIRECT:-0}
READY_WAIT_S=30

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bosun-bench.XXXXXX")
# A private copy of the binary: a rebuild of build/bosun during the run must
# not change what runs (and perf must still find its symbols).
BIN=$TMP/bin/bosun
mkdir -p build/bench
RESULTS=$PWD/build/bench/writes_vs_etcd-$(date +%Y%m%d-%H%M%S).txt
BOSUN_PIDS=() # the running bosun servers, s1..s3 in order
ETCD_PIDS=()  # the etcd members
OTHER_PIDS=() # perf
BOSUN_UP=0    # 1 when `bosun up` started the running bosun cluster

log() { echo "bench: $*" >&2; }
say() { echo "$*" | tee -a "$RESULTS"; }

# SIGTERM, then SIGKILL half a second later, to the given pids.
stop_pids() {
    local pid
    [ $# -gt 0 ] || return 0
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "$@"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true # only our children can be waited for
    done
    return 0
}

cleanup() {
    local rc=$?
    set +e
    bosun_stop
    stop_pids "${ETCD_PIDS[@]}" "${OTHER_PIDS[@]}"
    if [ "$KEEP" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- prerequisites -----------------------------------------------------

ensure_etcd() {
    command -v etcd >/dev/null && return 0
    log "installing etcd-server with apt-get"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq etcd-server >/dev/null
    command -v etcd >/dev/null || { log "etcd is still missing"; exit 1; }
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports() {
    local p
    for p in "$@"; do
        if port_in_use "$p"; then
            log "port $p on 127.0.0.1 is in use; set BOSUN_PORT/ETCD_PORT"
            exit 1
        fi
    done
}

[ -x build/bosun ] || { log "build/bosun is missing: make build/bosun"; exit 1; }
mkdir -p "$TMP/bin" && cp build/bosun "$BIN"
ensure_etcd
check_ports $((BOSUN_PORT + 1)) $((BOSUN_PORT + 2)) $((BOSUN_PORT + 3)) \
            $((BOSUN_PORT + 101)) $((BOSUN_PORT + 102)) $((BOSUN_PORT + 103)) \
            $((ETCD_PORT + 1)) $((ETCD_PORT + 2)) $((ETCD_PORT + 3)) \
            $((ETCD_PORT + 11)) $((ETCD_PORT + 12)) $((ETCD_PORT + 13))

# ---- bosun -------------------------------------------------------------

bosun_api() { echo "http://127.0.0.1:$((BOSUN_PORT + $1))"; }
BOSUN_URLS="$(bosun_api 1),$(bosun_api 2),$(bosun_api 3)"

# Polls GET /cluster/status until some server names a leader.
bosun_wait_leader() {
    local deadline=$((SECONDS + READY_WAIT_S)) i
    while [ $SECONDS -lt $deadline ]; do
        for i in 1 2 3; do
            if curl -s -m 1 "$(bosun_api $i)/cluster/status" | grep -q '"leader_id":[1-9]'; then
                return 0
            fi
        done
        sleep 0.2
    done
    log "no bosun leader after ${READY_WAIT_S}s"
    return 1
}

# The documented fallback: the three servers of `bosun server --help`.
bosun_start_direct() {
    local peers="" i
    for i in 1 2 3; do
        peers="$peers${peers:+,}$i=127.0.0.1:$((BOSUN_PORT + 100 + i))=$(bosun_api $i)"
    done
    for i in 1 2 3; do
        mkdir -p "$TMP/bosun/s$i"
        "$BIN" server --id $i --data-dir "$TMP/bosun/s$i" --listen "127.0.0.1:$((BOSUN_PORT + i))" \
            --raft-address "127.0.0.1:$((BOSUN_PORT + 100 + i))" --peers "$peers" \
            --log-level warn >"$TMP/bosun/s$i.log" 2>&1 &
        BOSUN_PIDS+=($!)
    done
}

bosun_start() {
    if [ "$BOSUN_DIRECT" = 1 ]; then
        bosun_start_direct
    elif "$BIN" up --servers 3 --dir "$TMP/bosun" --base-port "$BOSUN_PORT" --detach \
        -- --log-level warn >"$TMP/bosun-up.log" 2>&1; then
        BOSUN_UP=1
        BOSUN_PIDS=($(grep -o '"pid": *[0-9]*' "$TMP/bosun/cluster.json" | grep -o '[0-9]*$'))
    else
        log "bosun up failed (see below); starting the servers directly"
        tail -5 "$TMP/bosun-up.log" >&2 || true
        [ ! -f "$TMP/bosun/cluster.json" ] || timeout 20 "$BIN" down --dir "$TMP/bosun" >/dev/null 2>&1 || true
        rm -rf "$TMP/bosun"
        bosun_start_direct
    fi
    bosun_wait_leader
}

# Stops the bosun cluster (bosun down, then by pid) and forgets its pids.
bosun_stop() {
    if [ "$BOSUN_UP" = 1 ]; then
        timeout 20 "$BIN" down --dir "$TMP/bosun" >/dev/null 2>&1 || true
    fi
    stop_pids "${BOSUN_PIDS[@]}"
    BOSUN_PIDS=()
    BOSUN_UP=0
}

# A new, empty bosun cluster in place of the running one.
bosun_restart() {
    bosun_stop
    rm -rf "$TMP/bosun"
    bosun_start
}

# The pid of the bosun leader, from /cluster/status and the servers' order.
bosun_leader_pid() {
    local id
    id=$(curl -s -m 2 "$(bosun_api 1)/cluster/status" | grep -o '"leader_id":[0-9]*' | grep -o '[0-9]*$')
    [ -n "$id" ] && [ "$id" -ge 1 ] && [ "$id" -le 3 ] && echo "${BOSUN_PIDS[$((id - 1))]}"
}

bosun_leader_api() {
    local id
    id=$(curl -s -m 2 "$(bosun_api 1)/cluster/status" | grep -o '"leader_id":[0-9]*' | grep -o '[0-9]*$')
    [ -n "$id" ] && [ "$id" -ge 1 ] && [ "$id" -le 3 ] && bosun_api "$id"
}

# ---- etcd --------------------------------------------------------------

etcd_client() { echo "http://127.0.0.1:$((ETCD_PORT + $1))"; }
etcd_peer() { echo "http://127.0.0.1:$((ETCD_PORT + 10 + $1))"; }
ETCD_URLS="$(etcd_client 1),$(etcd_client 2),$(etcd_client 3)"

etcd_start() {
    local cluster="e1=$(etcd_peer 1),e2=$(etcd_peer 2),e3=$(etcd_peer 3)" i
    for i in 1 2 3; do
        etcd --name "e$i" --data-dir "$TMP/etcd/e$i" \
            --listen-client-urls "$(etcd_client $i)" --advertise-client-urls "$(etcd_client $i)" \
            --listen-peer-urls "$(etcd_peer $i)" --initial-advertise-peer-urls "$(etcd_peer $i)" \
            --initial-cluster "$cluster" --initial-cluster-state new \
            --initial-cluster-token bosun-bench --logger zap --log-level warn \
            >"$TMP/etcd-e$i.log" 2>&1 &
        ETCD_PIDS+=($!)
    done
    local deadline=$((SECONDS + READY_WAIT_S))
    while [ $SECONDS -lt $deadline ]; do
        if curl -s -m 1 "$(etcd_client 1)/health" | grep -q '"health":"true"'; then
            return 0
        fi
        sleep 0.2
    done
    log "etcd is not healthy after ${READY_WAIT_S}s"
    tail -5 "$TMP/etcd-e1.log" >&2
    return 1
}

# ---- measuring ---------------------------------------------------------

CLK_TCK=$(getconf CLK_TCK)

# CPU ticks (user + system) of a pid so far; 0 if it is gone.
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }   # the fields after the command name
    set -- $stat
    echo $(( ${12} + ${13} ))
}

# "t1 t2 t3" for a list of pids.
cpu_snapshot() {
    local pid out=""
    for pid in "$@"; do out="$out $(cpu_ticks "$pid")"; done
    echo $out
}

# Seconds of CPU per pid between two snapshots, e.g. "3.10/1.02/0.98".
cpu_delta() {
    local -a a=($1) b=($2)
    local i out=""
    for i in "${!a[@]}"; do
        out="$out${out:+/}$(awk -v x="${a[$i]}" -v y="${b[$i]}" -v t="$CLK_TCK" \
            'BEGIN { printf "%.1f", (y - x) / t }')"
    done
    echo "$out"
}

json_num() { grep -o "\"$2\":[-0-9.e+]*" <<<"$1" | head -1 | cut -d: -f2; }

printf -v HEADER '%-6s %7s %6s %10s %9s %9s %9s %7s  %s' \
    target clients size "creates/s" p50_ms p90_ms p99_ms errors "server CPU-s (per process)"

# Runs one bench; prints a row, appends the JSON line to $TMP/runs.jsonl.
run_bench() {
    local target=$1 clients=$2 urls pids before after line
    if [ "$target" = etcd ]; then urls=$ETCD_URLS; pids=("${ETCD_PIDS[@]}");
    else urls=$BOSUN_URLS; pids=("${BOSUN_PIDS[@]}"); fi
    before=$(cpu_snapshot "${pids[@]}")
    line=$("$BIN" bench writes --servers "$urls" --target "$target" --clients "$clients" \
        --size "$SIZE" --duration "$DURATION" --json 2>>"$TMP/bench.log") || true
    after=$(cpu_snapshot "${pids[@]}")
    if [ -z "$line" ]; then
        say "$(printf '%-6s %7s %6s %10s' "$target" "$clients" "$SIZE" failed)"
        return 0
    fi
    echo "$line" >>"$TMP/runs.jsonl"
    echo "$line" >>"$RESULTS.jsonl"
    say "$(printf '%-6s %7s %6s %10.1f %9.2f %9.2f %9.2f %7s  %s' "$target" "$clients" "$SIZE" \
        "$(json_num "$line" rate)" "$(json_num "$line" p50_ms)" "$(json_num "$line" p90_ms)" \
        "$(json_num "$line" p99_ms)" "$(json_num "$line" errors)" "$(cpu_delta "$before" "$after")")"
}

# The mean rate of the runs of a target at a client count.
mean_rate() {
    grep "\"target\":\"$1\"" "$TMP/runs.jsonl" | grep "\"clients\":$2," |
        grep -o '"rate":[0-9.e+]*' | cut -d: -f2 |
        awk '{ s += $1; n++ } END { if (n) printf "%.1f", s / n; else print 0 }'
}

# Records the bosun leader with perf during one more run, if perf is here:
# a flat profile by symbol (the release build has no frame pointers). It
# samples the whole machine (-a) and keeps the leader's samples: with a
# thread per HTTP connection, `perf record -p` loses threads that come and go.
profile_leader() {
    command -v perf >/dev/null || { log "no perf: PROFILE skipped"; return 0; }
    local pid
    pid=$(bosun_leader_pid) || { log "no leader pid: PROFILE skipped"; return 0; }
    say ""
    say "profile: perf record -a, samples of the bosun leader (pid $pid), a run at $CLIENTS clients"
    perf record -a -F 999 -o "$TMP/perf.data" >/dev/null 2>&1 &
    local perf_pid=$!
    OTHER_PIDS+=($perf_pid)
    run_bench bosun "$CLIENTS"
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf report -i "$TMP/perf.data" --pid "$pid" --percentage relative --stdio --no-children \
        --sort dso,symbol \
        >"$TMP/perf.txt" 2>/dev/null || true
    { grep -E '^ +[0-9]' "$TMP/perf.txt" || echo "(perf report gave nothing)"; } |
        sed -n 1,40p | tee -a "$RESULTS"
}

# ---- the run -----------------------------------------------------------

: >"$RESULTS"
say "bosun vs etcd writes on $(hostname), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "bosun $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(etcd --version | head -1)"
say "clients=$CLIENTS size=$SIZE duration=$DURATION rounds=$ROUNDS; 3 servers each on 127.0.0.1,"
say "requests round-robin over the 3 servers (followers forward to the leader)"
say "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
log "starting a 3-server bosun cluster and a 3-member etcd cluster in $TMP"
bosun_start
etcd_start
say ""
say "$HEADER"
for ((r = 1; r <= ROUNDS; r++)); do
    run_bench bosun "$CLIENTS"
    run_bench etcd "$CLIENTS"
done
b=$(mean_rate bosun "$CLIENTS")
e=$(mean_rate etcd "$CLIENTS")
say ""
say "mean creates/s at $CLIENTS clients: bosun $b, etcd $e; bosun/etcd = $(awk -v b="$b" -v e="$e" \
    'BEGIN { if (e > 0) printf "%.2f", b / e; else print "n/a" }')"

if [ -n "$SWEEP" ]; then
    say ""
    say "bosun alone, by clients, each on a new empty cluster (group commit: the rate"
    say "should grow with clients)"
    say "$HEADER"
    for c in $SWEEP; do
        bosun_restart
        run_bench bosun "$c"
    done
    if [ "$LEADER_SWEEP" = 1 ]; then
        say ""
        say "bosun alone, every client on the leader: no forwarding"
        say "$HEADER"
        for c in $SWEEP; do
            bosun_restart
            leader=$(bosun_leader_api) || { log "no bosun leader"; continue; }
            BOSUN_URLS=$leader run_bench bosun "$c"
        done
    fi
fi

[ "$PROFILE" = 1 ] && profile_leader
say ""
say "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
say "figures in $RESULTS (JSON lines in $RESULTS.jsonl)"
