#!/usr/bin/env bash
# Delivery latency: N WebSocket UAs connected, HTTP/2 senders POST at fixed rates; p50 / p99 /
# p99.9 from the POST to the UA's receipt, and the highest tested rate with p99 <= 5 ms.
# Sender, UAs and server share the 2 cores, so this is a worst case for the server.
# Env: BENCH_SMOKE=1, BENCH_RATES (default 1000,2000,5000,8000), BENCH_UAS (1000),
# BENCH_SECONDS (per rate, default 10).
source "$(dirname "$0")/lib.sh"
need_bin pushsvc pushsvc-loadgen
raise_nofile

RATES=${BENCH_RATES:-1000,2000,5000,8000}
UAS=${BENCH_UAS:-1000}
SECS=${BENCH_SECONDS:-10}
if [ "$SMOKE" = 1 ]; then
    RATES=200
    UAS=20
    SECS=1
fi
start_pushsvc latency
log "pushsvc $PS_CLEAR (pid $PS_PID)"
"$BIN/pushsvc-loadgen" latency --url "$PS_CLEAR" --uas "$UAS" --rates "$RATES" \
    --duration "$SECS" --senders 2 --sources 4
stop_pid "$PS_PID"
