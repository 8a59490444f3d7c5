#!/usr/bin/env bash
# Mass expiry: M messages queued for offline UAs all expire at once (the test-double clock
# jumps past their TTL). Delivery latency (POST -> WebSocket UA receipt, loadgen latency) is
# measured at a fixed rate first without the expiry, then from the moment of the jump, while
# the store sweeps the M messages in batches; and how long the sweep took.
# Env: BENCH_SMOKE=1, BENCH_MESSAGES (default 1000000), BENCH_UAS (offline UAs, 2000),
# BENCH_RATE (pushes/s during both rounds, 2000), BENCH_SECONDS (per round, 10).
source "$(dirname "$0")/lib.sh"
need_bin pushsvc pushsvc-loadgen h2load curl
raise_nofile

MSGS=${BENCH_MESSAGES:-1000000}
UAS=${BENCH_UAS:-2000}
RATE=${BENCH_RATE:-2000}
SECS=${BENCH_SECONDS:-10}
LIVE_UAS=200
if [ "$SMOKE" = 1 ]; then
    MSGS=3000
    UAS=20
    RATE=200
    SECS=1
    LIVE_UAS=20
fi
export PUSHSVC__PUSH__MAX_QUEUED_PER_UA=$((MSGS / UAS + 1000))
export PUSHSVC__TESTDOUBLE__ENABLED=true  # for the clock jump only
start_pushsvc expiry
log "pushsvc $PS_CLEAR (pid $PS_PID)"
W=$WORK/workload
mkdir -p "$W"
TTL=600
"$BIN/pushsvc-loadgen" setup --ws --target "$PS_CLEAR" --subs "$UAS" --sources 4 --ttl "$TTL" \
    --out "$W"
HDRS=()
while IFS= read -r line; do HDRS+=(-H "$line"); done <"$W/headers.txt"
h2load_run expiry_fill -t 1 -c 8 -m 32 -n "$MSGS" -d "$W/body.bin" "${HDRS[@]}" -i "$W/uris.txt"

expired_count() {
    # Loopback needs no admin token; PUSHSVC_ADMIN_TOKEN when the loopback exemption is off.
    curl -s ${PUSHSVC_ADMIN_TOKEN:+-H "Authorization: Bearer $PUSHSVC_ADMIN_TOKEN"} "$PS_CLEAR/metrics" | awk '/^pushsvc_messages_expired_total /{print $2; f=1} END{if(!f) print 0}'
}
# Round 1 at RATE without expiry; then the clock jumps past the fill's TTL and round 2 runs
# at the same rate while the sweep works through the M messages.
OUT=$("$BIN/pushsvc-loadgen" latency --url "$PS_CLEAR" --uas "$LIVE_UAS" --rates "$RATE,$RATE" \
    --duration "$SECS" --senders 2 --sources 4 \
    --trigger-url "$PS_CLEAR/_testdouble/clock" --trigger-body "{\"advance_s\":$((TTL + 1))}")
echo "$OUT"
T_JUMP_DONE=$(date +%s.%N)
# How long the sweep took: bounded wait for the expired counter to reach M.
DONE_S=""
for _ in $(seq 1 1200); do
    if [ "$(expired_count)" -ge "$MSGS" ]; then
        DONE_S=$(awk -v a="$(date +%s.%N)" -v b="$T_JUMP_DONE" 'BEGIN{printf "%.2f", a - b}')
        break
    fi
    sleep 0.25
done
EXPIRED=$(expired_count)
stop_pid "$PS_PID"
p99() { echo "$OUT" | grep '"bench":"latency"' | sed -n "$1p" | sed 's/.*"p99_ms":\([0-9.e+-]*\).*/\1/'; }
BASE=$(p99 1)
DURING=$(p99 2)
printf '{"bench":"expiry_summary","messages":%s,"rate":%s,"p99_ms_without":%s,"p99_ms_during_expiry":%s,"p99_ratio":%s,"expired":%s,"sweep_done_s_after_round_2":"%s"}\n' \
    "$MSGS" "$RATE" "$BASE" "$DURING" "$(ratio "$DURING" "$BASE")" "$EXPIRED" "${DONE_S:-not done}"
[ "$EXPIRED" -ge "$MSGS" ] || { echo "expiry did not finish: $EXPIRED of $MSGS" >&2; exit 1; }
