#!/usr/bin/env bash
# Instructions per durable push, counted by callgrind on a bounded run: the figure that does
# not move with whatever else shares the box (wall-clock CPU per push moves +-20 % here), so a
# 5 % step can be seen. Builds nothing: runs $PUSHSVC_BIN_DIR/pushsvc under
# `valgrind --tool=callgrind`, makes BENCH_SUBS restricted subscriptions (pushsvc-loadgen
# setup: 3,000-byte aes128gcm body, VAPID, one token so the cache hits), sends a warm-up
# (first-use costs: the one uncached VAPID verify, thread-local setup, ...), zeroes the
# counters (callgrind_control -z), sends BENCH_PUSHES pushes with h2load (-c32 -m16), dumps
# (callgrind_control -d) and divides by the pushes:
#   whole process (every thread: network, store, RocksDB background), and inclusive
#   PushService::push or ::push_batch (validation + store), RocksStore::enqueue or
#   ::enqueue_batch (the store half), EndpointCodec::decode (the endpoint token).
# User space only: syscalls, page faults and the kernel's TCP and page-cache work are not in
# it. TTL is BENCH_TTL (default 3600, not the 60 of bench-ingest.sh) so that no message
# expires during the slow run and no sweep lands in the count; a push costs the same either
# way. `store.sync = false` (the issue's workload); every 201 is still in the WAL first.
# Prints one JSON line; BENCH_KEEP=DIR copies the dump there (callgrind_annotate it).
# Env: PUSHSVC_BIN_DIR, BENCH_PUSHES (5000), BENCH_SUBS (100), BENCH_TTL, BENCH_SMOKE=1
# (300 pushes, 20 subscriptions: checks that the figures come out and are plausible).
# Exit 77 when valgrind or h2load is missing.
source "$(dirname "$0")/lib.sh"
for t in valgrind callgrind_control callgrind_annotate; do
    command -v "$t" >/dev/null || { echo "missing $t (tools/install-deps.sh)" >&2; exit 77; }
done
need_bin pushsvc pushsvc-loadgen h2load

PUSHES=${BENCH_PUSHES:-5000}
SUBS=${BENCH_SUBS:-100}
WARM_PUSHES=500
if [ "$SMOKE" = 1 ]; then
    PUSHES=300
    SUBS=20
    WARM_PUSHES=64
fi
TTL=${BENCH_TTL:-3600}

CG=$WORK/callgrind.out
PS_WRAP="valgrind --tool=callgrind --callgrind-out-file=$CG --dump-instr=no" \
    start_pushsvc instr
log "pushsvc under callgrind: $PS_CLEAR (pid $PS_PID, ready after ${PS_START_S}s)"
W=$WORK/workload
mkdir -p "$W"
"$BIN/pushsvc-loadgen" setup --target "$PS_CLEAR" --subs "$SUBS" --ttl "$TTL" --out "$W" >&2
HDRS=()
while IFS= read -r line; do HDRS+=(-H "$line"); done <"$W/headers.txt"
H2=(-t 1 -c 32 -m 16 -d "$W/body.bin" "${HDRS[@]}" -i "$W/uris.txt")

# run_pushes N LABEL: N pushes; fails unless every one was answered 2xx.
run_pushes() {
    local out=$WORK/h2load-$2.out ok
    timeout 600 h2load "${H2[@]}" -n "$1" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
    ok=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' "$out")
    if [ "$ok" != "$1" ]; then
        cat "$out" >&2
        echo "$2: $ok of $1 pushes answered 2xx" >&2
        return 1
    fi
}

run_pushes "$WARM_PUSHES" warmup
timeout 120 callgrind_control -z "$PS_PID" >/dev/null
run_pushes "$PUSHES" measured
# callgrind names the dumps of callgrind_control -d "$CG.1", "$CG.2", ... (none before it).
dumps() { find "$WORK" -maxdepth 1 -name 'callgrind.out.*' | sort -V; }
timeout 120 callgrind_control -d "$PS_PID" >/dev/null
DUMP=$(dumps | tail -1)
if [ -z "$DUMP" ]; then
    echo "callgrind wrote no dump" >&2
    exit 1
fi
stop_pid "$PS_PID"

ANN=$WORK/annotate.txt
callgrind_annotate --inclusive=yes --threshold=100 "$DUMP" >"$ANN"
# total_of NAME: the inclusive Ir of function NAME (qualified, any abi tag, any overload; the
# first listed, i.e. the largest).
total_of() {
    { grep -E "[: ]$1(\[abi:[a-z0-9]*\])?\(" "$ANN" || true; } | head -1 |
        awk '{gsub(",", "", $1); print $1 + 0}'
}
TOTAL=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1 + 0; exit}' "$ANN")
# The larger of two inclusive totals: pushes grouped per HTTP/2 read go through push_batch
# and enqueue_batch instead of push and enqueue (which, for a single push, calls
# enqueue_batch: summing would count it twice); a binary before group commit has neither.
max_of() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN{print (a > b ? a : b)}'; }
PUSH=$(max_of "$(total_of 'PushService::push')" "$(total_of 'PushService::push_batch')")
ENQ=$(max_of "$(total_of 'RocksStore::enqueue')" "$(total_of 'RocksStore::enqueue_batch')")
DEC=$(total_of 'EndpointCodec::decode')
per() { awk -v a="${1:-0}" -v n="$PUSHES" 'BEGIN{printf "%.0f", a / n}'; }
[ -n "${BENCH_KEEP:-}" ] && mkdir -p "$BENCH_KEEP" && cp "$DUMP" "$ANN" "$BENCH_KEEP/"
printf '{"bench":"instructions","pushes":%d,"subs":%d,"ttl":%d,"per_push":%s,"push_service_push":%s,"rocks_store_enqueue":%s,"endpoint_decode":%s}\n' \
    "$PUSHES" "$SUBS" "$TTL" "$(per "$TOTAL")" "$(per "$PUSH")" "$(per "$ENQ")" "$(per "$DEC")"

# Plausible, or the measurement is broken (a missing symbol, counters not zeroed, no pushes
# counted): a push costs tens of thousands of instructions, its parts are inside the whole.
awk -v t="$(per "$TOTAL")" -v p="$(per "$PUSH")" -v e="$(per "$ENQ")" -v d="$(per "$DEC")" 'BEGIN{
    ok = t > 5000 && t < 5000000 && p > 1000 && p < t && e > 500 && e < p && d > 100 && d < p
    if (!ok) { print "implausible figures" > "/dev/stderr"; exit 1 } }'
