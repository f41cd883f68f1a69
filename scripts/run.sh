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
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=run/cluster
BIN=build/bosun
SERVERS=${SERVERS:-3}

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

echo "run.sh: starting $SERVERS servers in $DIR; Ctrl-C stops them."
echo "run.sh: once a leader is elected: kubectl --kubeconfig $(cd "$DIR" && pwd -P)/kubeconfig get namespaces"
exec "$BIN" up --servers "$SERVERS" --dir "$DIR" "$@"
