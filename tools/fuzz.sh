#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/README.md) for SECONDS each (default 60) under ASan + UBSan:
#   tools/fuzz.sh [--update-corpus] [SECONDS] [TARGET...]      e.g. tools/fuzz.sh 300 ws_frame
# Builds the clang tree build-fuzz/ (-O1) first if needed. Each run starts from the committed corpus
# (fuzz/corpus/<target>/) and writes new inputs to a temporary directory, so the repository is
# unchanged unless --update-corpus, which merges (minimized) new inputs into fuzz/corpus/.
# Prints per target: seconds, executions, exec/s, crashes, coverage, corpus size. A crash, leak,
# timeout or failed invariant leaves its input in build-fuzz/fuzz/artifacts/ and makes the exit
# status non-zero.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

update=0
if [ "${1:-}" = "--update-corpus" ]; then update=1; shift; fi
seconds=${1:-60}
shift || true
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [--update-corpus] [SECONDS] [TARGET...]" >&2; exit 2;; esac
all=(http2_engine http1_request ws_frame ua_channel vapid_credentials vapid_jwt push_headers
     endpoint_token record_codec config_load testdouble_api)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=("${all[@]}"); fi

build=build-fuzz
CC=clang-14 CXX=clang++-14 tools/build.sh "$build" Debug -DPUSHSVC_FUZZ=ON -- \
    $(printf 'fuzz_%s ' "${targets[@]}") >/dev/null

artifacts="$build/fuzz/artifacts"
mkdir -p "$artifacts"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1

failed=0
total=0
printf '%-18s %7s %12s %9s %7s %7s %7s\n' target seconds executions exec/s crashes cov corpus
for t in "${targets[@]}"; do
    bin="$build/fuzz/fuzz_$t"
    corpus="fuzz/corpus/$t"
    new="$scratch/$t"
    log="$scratch/$t.log"
    mkdir -p "$new" "$corpus"
    status=0
    # New inputs go to the first directory ($new); the committed corpus is only read.
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$t-" "$new" "$corpus" >"$log" 2>&1 || status=$?
    execs=$(awk '/stat::number_of_executed_units/{print $2}' "$log")
    rate=$(awk '/stat::average_exec_per_sec/{print $2}' "$log")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    size=$(( $(ls "$corpus" | wc -l) + $(ls "$new" | wc -l) ))
    crashes=0
    if [ "$status" -ne 0 ]; then
        crashes=1
        failed=1
        echo "== $t failed (exit $status); input saved as:" >&2
        grep -E 'Test unit written to|SUMMARY|invariant failed|ERROR:' "$log" >&2 || tail -30 "$log" >&2
        cp "$log" "$artifacts/$t.log"
    fi
    total=$(( total + ${execs:-0} ))
    printf '%-18s %7s %12s %9s %7s %7s %7s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "$crashes" \
        "${cov:-?}" "$size"
    if [ "$update" -eq 1 ] && [ "$status" -eq 0 ]; then
        # -merge=1 adds only inputs that bring new coverage, minimized.
        "$bin" -merge=1 "$corpus" "$new" >"$scratch/$t.merge.log" 2>&1 ||
            { echo "== $t: corpus merge failed" >&2; failed=1; }
    fi
done
echo "total executions: $total"
exit "$failed"
