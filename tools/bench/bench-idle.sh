#!/usr/bin/env bash
# Idle user agents: N WebSocket UAs (hello + one register each) from many 127.0.0.x source
# addresses; pushsvc's RSS growth per UA; then every socket drops and all reconnect at once.
# The open-files hard limit of the box caps N (both pushsvc and the client need one fd per
# UA); the script uses what the limit allows and says so.
# Env: BENCH_SMOKE=1, BENCH_UAS (default: 100000 or the fd limit minus headroom), BENCH_TLS=1
# (wss:// to pushsvc's own TLS listener instead of ws://).
source "$(dirname "$0")/lib.sh"
need_bin pushsvc pushsvc-loadgen
raise_nofile

# The UAs come from 16 addresses: the default of 256 connections per address would stop them
# at 4,096 (an environment override wins).
export PUSHSVC__LIMITS__MAX_CONNECTIONS_PER_IP=${PUSHSVC__LIMITS__MAX_CONNECTIONS_PER_IP:-100000}
LIMIT=$(ulimit -n)
UAS=${BENCH_UAS:-100000}
if [ "$SMOKE" = 1 ]; then UAS=200; fi
if [ "$UAS" -gt $((LIMIT - 1000)) ]; then
    log "open-files limit $LIMIT: measuring $((LIMIT - 1000)) UAs instead of $UAS"
    UAS=$((LIMIT - 1000))
fi
if [ "${BENCH_TLS:-0}" = 1 ]; then
    start_pushsvc idle tls
    URL=$PS_TLS
else
    start_pushsvc idle
    URL=$PS_CLEAR
fi
log "pushsvc $URL (pid $PS_PID)"
SETTLE=3000
if [ "$SMOKE" = 1 ]; then SETTLE=300; fi
"$BIN/pushsvc-loadgen" idle --url "$URL" --uas "$UAS" --sources 16 --pid "$PS_PID" \
    --settle-ms "$SETTLE" --storm --timeout-s 240
stop_pid "$PS_PID"
