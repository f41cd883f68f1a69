#!/usr/bin/env bash
# Runs every test of `make test` and ends with one line "N passed, N failed".
#
# Unit tests (cmocka binaries in build/test/unit), the deterministic
# simulation (build/test/sim/sim over SIM_SEEDS seeds, one test per seed
# group), a short run of every fuzz target (build/fuzz), and the end-to-end
# tests (pytest in tests/e2e against real servers
# built with ASan and UBSan: build/test/bosun).
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0
failures=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}

for t in build/test/unit/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1); rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    p=${p:-0}; f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f))
    [ "$f" -eq 0 ] || { failures+=("$t"); printf '%s\n' "$out" | tail -30; }
    echo "unit $(basename "$t"): $p passed, $f failed"
done

if [ -x build/test/sim/sim ]; then
    out=$(build/test/sim/sim --seeds "${SIM_SEEDS:-300}" 2>&1); rc=$?
    printf '%s\n' "$out" | tail -3
    if [ "$rc" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=(sim); fi
fi

# Fuzz targets (libFuzzer, built by make test): FUZZ_SECONDS each (default
# 5), one test per target; `make fuzz` runs them longer.
for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    # Seeds from tests/fuzz/corpus/NAME, copied to a writable corpus that
    # libFuzzer grows (build/fuzz/corpus/NAME), so runs start deep.
    name=$(basename "$f"); corpus=()
    if [ -d "tests/fuzz/corpus/$name" ]; then
        mkdir -p "build/fuzz/corpus/$name"
        cp -n "tests/fuzz/corpus/$name"/* "build/fuzz/corpus/$name/" 2>/dev/null
        corpus=("build/fuzz/corpus/$name")
    fi
    out=$("$f" -max_total_time="${FUZZ_SECONDS:-5}" -rss_limit_mb=2048 -artifact_prefix=build/fuzz/ "${corpus[@]}" 2>&1); rc=$?
    runs=$(printf '%s\n' "$out" | sed -n 's/^Done \([0-9]*\) runs.*/\1/p' | tail -1)
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "fuzz $(basename "$f"): ${runs:-?} runs, no failure"
    else
        failed=$((failed + 1)); failures+=("$(basename "$f")")
        printf '%s\n' "$out" | tail -30
    fi
done

if [ -d tests/e2e ] && ls tests/e2e/test_*.py >/dev/null 2>&1; then
    # Debian's pytest (python3-pytest, installed by make deps) belongs to
    # /usr/bin/python3; a python3 earlier on PATH (pyenv) may lack it.
    py=python3
    /usr/bin/python3 -c 'import pytest' 2>/dev/null && py=/usr/bin/python3
    out=$($py -m pytest -q -p no:cacheprovider tests/e2e 2>&1); rc=$?
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
