#!/usr/bin/env bash
# Google Benchmark micro-benchmarks: endpoint codec, VAPID verify (cached / uncached), push
# header parsing, RocksStore enqueue + ack (sync off / on). Extra args go to the binary
# (e.g. --benchmark_filter=Vapid).
source "$(dirname "$0")/lib.sh"
if [ ! -x "$BIN/pushsvc_micro_bench" ]; then
    echo "pushsvc_micro_bench not built (libbenchmark-dev missing?)" >&2
    exit 77
fi
ARGS=(--benchmark_counters_tabular=true)
if [ "$SMOKE" = 1 ]; then ARGS+=(--benchmark_min_time=0.01); fi
cd "$WORK"
TMPDIR=$WORK "$BIN/pushsvc_micro_bench" "${ARGS[@]}" "$@"
