#!/usr/bin/env bash
# run.sh — what `make run` does once build/bosun is built: a local cluster of
# three servers in the foreground, in run/cluster, until Ctrl-C.
#
# A run/cluster left by an earlier run is removed first (a fresh cluster each
# time), but only when none of the servers its cluster.json names is still
# running; if one is, we stop and say how to take it down instead. The
# servers' output is printed with "[sN] " prefixes and `bosun up` prints the
# kubectl line once a leader is elected. Arguments are passed to `bosun up`,
# e.g. `scripts/run.sh -- --log-level debug`; SERVERS=5 changes the size.
#
# RUN_DIR (default run) holds it all. Beside the servers, NODES (default 3;
# 0 for none) hollow nodes run in one `bosun agent --hollow` (log:
# RUN_DIR/agent.log), so a pod gets scheduled and
# goes Running, and `kubectl logs`, `exec` and `cp` work (exec runs the
# command on this machine, in RUN_DIR/exec/NS/POD/CONTAINER). The agent is
# started two seconds after the servers, with every server in its failover
# list, and dies with `bosun up` (setpriv --pdeathsig: its parent is `up`,
# which this script becomes with exec).
set -euo pipefail
cd "$(dirname "$0")/.."

RUN=${RUN_DIR:-run} # everything of this run goes here (the tests use their own)
DIR=$RUN/cluster
BIN=build/bosun
SERVERS=${SERVERS:-3}
NODES=${NODES:-3}

# Prints the pids in $DIR/cluster.json that are still bosun servers of $DIR.
live_pids() {
    local json=$DIR/cluster.json abs pid
    [ -f "$json" ] || return 0
    abs=$(cd "$DIR" && pwd -P)
    for pid in $(grep -o '"pid": *[0-9]*' "$json" | grep -o '[0-9]*$'); do
        [ "$pid" -gt 0 ] 2>/dev/null || continue
        if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- " server .*--data-dir $abs/s"; then
            echo "$pid"
        fi
    done
}

if [ ! -x "$BIN" ]; then
    echo "run.sh: $BIN is missing; build it with \`make build/bosun\`" >&2
    exit 1
fi
live=$(live_pids)
if [ -n "$live" ]; then
    echo "run.sh: a cluster is already running in $DIR (pids:" $live")." >&2
    echo "run.sh: stop it with \`$BIN down --dir $DIR\` and run again." >&2
    exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR"

# The API URLs `bosun up` will use: 127.0.0.1:BASE+i (its --base-port, if given).
base=16440
prev=
for a in "$@"; do
    [ "$prev" = --base-port ] && base=$a
    case $a in --base-port=*) base=${a#--base-port=} ;; esac
    prev=$a
done
if [ "$NODES" -gt 0 ]; then
    urls=$(for i in $(seq 1 "$SERVERS"); do printf 'http://127.0.0.1:%d,' $((base + i)); done)
    rm -rf "$RUN/exec" "$RUN/agent.log"
    mkdir -p "$RUN/exec"
    (sleep 2; exec setpriv --pdeathsig TERM "$BIN" agent --hollow "$NODES" --server "${urls%,}" \
        --exec-dir "$(cd "$RUN/exec" && pwd -P)" --zones 3 --cpu 8 --memory 32Gi \
        >>"$RUN/agent.log" 2>&1 </dev/null) &
    echo "run.sh: $NODES hollow nodes (bosun agent, log in $RUN/agent.log) join in a few seconds."
fi

echo "run.sh: starting $SERVERS servers in $DIR; Ctrl-C stops them."
echo "run.sh: once a leader is elected: kubectl --kubeconfig $(cd "$DIR" && pwd -P)/kubeconfig get namespaces"
exec "$BIN" up --servers "$SERVERS" --dir "$DIR" "$@"
