#!/usr/bin/env bash
# Runs every test of `make test` and ends with one line "N passed, N failed".
#
# Unit tests (cmocka binaries in build/test/unit), the deterministic
# simulation (build/test/sim/sim over SIM_SEEDS seeds of the store's workload
# and SIM_CTL_SEEDS of the controllers', one test per seed group), a short run of every fuzz target (build/fuzz), and the end-to-end
# tests (pytest in tests/e2e against real servers
# built with ASan and UBSan: build/test/bosun). The first three run one per
# core, the end-to-end tests in two pytest workers; see below.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}

# Unit tests, the simulation (in two halves of its seeds) and the fuzz
# targets are independent and mostly CPU-bound: they run JOBS at a time
# (default: one per core), each into its own log under build/test/logs, and
# are reported afterwards in a fixed order. The end-to-end tests run alone
# after them, since their servers' timing should not compete with fuzzers.
jobs_max=${JOBS:-$(nproc)}
logs=build/test/logs
rm -rf "$logs"; mkdir -p "$logs"
names=()

# job NAME CMD...: runs CMD in the background, NAME.out and NAME.rc in $logs,
# waiting first while jobs_max are already running.
job() {
    local name=$1; shift
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
    names+=("$name")
    ( "$@" >"$logs/$name.out" 2>&1; echo $? >"$logs/$name.rc" ) &
}

for t in build/test/unit/test_*; do
    [ -x "$t" ] || continue
    job "unit_$(basename "$t")" "$t"
done

# The store's workload over SIM_SEEDS seeds, the controllers' over
# SIM_CTL_SEEDS (about a second each with sanitizers), each in two halves.
seeds=${SIM_SEEDS:-300}
ctl_seeds=${SIM_CTL_SEEDS:-200}
if [ -x build/test/sim/sim ]; then
    half=$(( (seeds + 1) / 2 ))
    job sim_1 build/test/sim/sim --seeds "$half" --seed 1
    [ "$seeds" -gt "$half" ] && job sim_2 build/test/sim/sim --seeds $((seeds - half)) --seed $((half + 1))
    half=$(( (ctl_seeds + 1) / 2 ))
    job sim_ctl_1 build/test/sim/sim --workload controllers --seeds "$half" --seed 1
    [ "$ctl_seeds" -gt "$half" ] && job sim_ctl_2 build/test/sim/sim --workload controllers \
        --seeds $((ctl_seeds - half)) --seed $((half + 1))
fi

# Fuzz targets (libFuzzer, built by make test): FUZZ_SECONDS each (default
# 5), one test per target; `make fuzz` runs them longer. Seeds come from
# tests/fuzz/corpus/NAME, copied to a writable corpus that libFuzzer grows
# (build/fuzz/corpus/NAME), so runs start deep.
for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    name=$(basename "$f"); corpus=()
    if [ -d "tests/fuzz/corpus/$name" ]; then
        mkdir -p "build/fuzz/corpus/$name"
        cp -n "tests/fuzz/corpus/$name"/* "build/fuzz/corpus/$name/" 2>/dev/null
        corpus=("build/fuzz/corpus/$name")
    fi
    job "$name" "$f" -max_total_time="${FUZZ_SECONDS:-5}" -rss_limit_mb=2048 \
        -artifact_prefix=build/fuzz/ "${corpus[@]}"
done
wait

for name in "${names[@]}"; do
    out=$(cat "$logs/$name.out"); rc=$(cat "$logs/$name.rc" 2>/dev/null || echo 1)
    case $name in
    unit_*)
        p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
        f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
        p=${p:-0}; f=${f:-0}
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
        passed=$((passed + p)); failed=$((failed + f))
        [ "$f" -eq 0 ] || { failures+=("${name#unit_}"); printf '%s\n' "$out" | tail -30; }
        echo "unit ${name#unit_}: $p passed, $f failed" ;;
    sim_*)
        printf '%s\n' "$out" | tail -3
        if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi ;;
    *)
        runs=$(printf '%s\n' "$out" | sed -n 's/^Done \([0-9]*\) runs.*/\1/p' | tail -1)
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1))
            echo "fuzz $name: ${runs:-?} runs, no failure"
        else
            failed=$((failed + 1)); failures+=("$name")
            printf '%s\n' "$out" | tail -30
        fi ;;
    esac
done

if [ -d tests/e2e ] && ls tests/e2e/test_*.py >/dev/null 2>&1; then
    # Debian's pytest (python3-pytest, installed by make deps) belongs to
    # /usr/bin/python3; a python3 earlier on PATH (pyenv) may lack it.
    py=python3
    /usr/bin/python3 -c 'import pytest' 2>/dev/null && py=/usr/bin/python3
    # Two workers (pytest-xdist, from make deps): an end-to-end run is
    # mostly waiting for servers, 0.6 of a core on average. --dist loadfile
    # keeps a file's tests on one worker, so module-scoped clusters are
    # made once. E2E_JOBS=1 runs them one at a time.
    par=()
    jobs_e2e=${E2E_JOBS:-2}
    if [ "$jobs_e2e" -gt 1 ] && $py -c 'import xdist' 2>/dev/null; then
        par=(-n "$jobs_e2e" --dist loadfile)
    fi
    out=$($py -m pytest -q -p no:cacheprovider "${par[@]}" tests/e2e 2>&1); rc=$?
    # The failures' own lines first (the tail below is mostly server logs).
    printf '%s\n' "$out" | grep -E '^(E  |_{5,} |[a-z_/]+\.py:[0-9]+: )' | head -80
    printf '%s\n' "$out" | tail -40
    sum=$(printf '%s\n' "$out" | tail -1)
    p=$(printf '%s' "$sum" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
    f=$(printf '%s' "$sum" | grep -oE '[0-9]+ (failed|error|errors)' | grep -oE '[0-9]+' | paste -sd+ | bc 2>/dev/null || echo 0)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    [ "$f" -eq 0 ] || failures+=(e2e)
fi

[ ${#failures[@]} -eq 0 ] || echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
