#!/usr/bin/env bash
# Backlog: M messages queued for offline UAs (registered over WebSocket, then gone); store
# size on disk, restart time (SIGTERM + start until ready), then all UAs reconnect and the
# drain rate (received + acked per second) is measured.
# Env: BENCH_SMOKE=1, BENCH_MESSAGES (default 1000000), BENCH_UAS (default 2000).
source "$(dirname "$0")/lib.sh"
need_bin pushsvc pushsvc-loadgen h2load
raise_nofile

MSGS=${BENCH_MESSAGES:-1000000}
UAS=${BENCH_UAS:-2000}
if [ "$SMOKE" = 1 ]; then
    MSGS=2000
    UAS=20
fi
# Each UA holds MSGS/UAS messages: keep that under the per-UA queue cap.
export PUSHSVC__PUSH__MAX_QUEUED_PER_UA=$((MSGS / UAS + 1000))
start_pushsvc backlog
log "pushsvc $PS_CLEAR (pid $PS_PID)"
W=$WORK/workload
mkdir -p "$W"
"$BIN/pushsvc-loadgen" setup --ws --target "$PS_CLEAR" --subs "$UAS" --sources 4 --ttl 86400 \
    --out "$W"
HDRS=()
while IFS= read -r line; do HDRS+=(-H "$line"); done <"$W/headers.txt"
h2load_run backlog_fill -t 1 -c 8 -m 32 -n "$MSGS" -d "$W/body.bin" "${HDRS[@]}" -i "$W/uris.txt"
FILL=$H2LOAD_RATE
DB_BYTES=$(du -sb "$PS_DIR/data" | cut -f1)
T0=$(date +%s.%N)
stop_pid "$PS_PID"
STOP_S=$(awk -v a="$(date +%s.%N)" -v b="$T0" 'BEGIN{printf "%.3f", a - b}')
DB_BYTES_CLOSED=$(du -sb "$PS_DIR/data" | cut -f1)
restart_pushsvc
log "restarted in ${PS_START_S}s"
DRAIN=$("$BIN/pushsvc-loadgen" drain --url "$PS_CLEAR" --state "$W/state.txt" --expect "$MSGS" \
    --timeout-s 600 || true)  # a drain that times out still reports what it received
echo "$DRAIN"
stop_pid "$PS_PID"
printf '{"bench":"backlog_summary","messages":%s,"uas":%s,"fill_per_s":%.0f,"store_bytes":%s,"store_bytes_after_close":%s,"bytes_per_msg":%.0f,"stop_s":%s,"restart_s":%s,"drain_per_s":%s}\n' \
    "$MSGS" "$UAS" "$FILL" "$DB_BYTES" "$DB_BYTES_CLOSED" \
    "$(awk -v a="$DB_BYTES_CLOSED" -v b="$MSGS" 'BEGIN{print a / b}')" "$STOP_S" "$PS_START_S" \
    "$(echo "$DRAIN" | sed 's/.*"msgs_per_s":\([0-9.]*\).*/\1/')"
