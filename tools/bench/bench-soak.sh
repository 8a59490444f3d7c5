#!/usr/bin/env bash
# Soak ("running for months"): one pushsvc (test-double mode, for its clock) under continuous,
# light churn for BENCH_MINUTES, watching for anything that grows without bound. The churn
# (tools/bench/soak/driver.mjs, Node + ws): RFC 8030 subscribe/unsubscribe; pushes with TTL to
# WebSocket browsers and RFC 8030 subscriptions, some with short TTLs (expire undelivered),
# some with Prefer: respond-async (new receipt subscription) or naming an existing one in a
# request Link; Firefox-protocol browsers that hello/register/ack, vanish without a close,
# come back with their uaid, or never come back (abandoned: their queues fill to the per-UA
# cap until the service collects them); a few browsers stay connected all run and must never
# be collected. Every sample interval the service clock advances BENCH_CLOCK_STEP_S (default
# 12 h) with push.ua_idle_days = 2, so messages expire and idle user agents are collected
# many times per run (10 min = 20 samples = 10 service days).
#
# Each sample (one JSON line): pushsvc RSS (/proc/PID/status VmRSS), open fds (/proc/PID/fd),
# store size on disk (du -sb of the data folder), and the /metrics gauges
# pushsvc_queued_messages, pushsvc_user_agents, pushsvc_receipt_subscriptions (null = missing;
# pushsvc refreshes them every 30 s); also, not judged: the idle-removal and expiry counters,
# the oldest queued message's age (bounded by max_ttl when expiry works) and the connected
# WebSocket user agents, plus the driver's counters so far.
#
# Plateau rule (tools/bench/soak/analyze.mjs): samples in the first third of the run are
# warm-up and ignored. Over the rest, a least-squares line is fitted to each series; the series
# plateaus when the growth that line projects over that window (slope x window length) is at
# most 10 % of the series' mean over the window (a falling series plateaus), or when its upper
# envelope is that flat: 2 x (peak of the window's second half - peak of its first half) at
# most 10 % of the mean. The envelope is there for sawtooths: RocksDB's 64 MiB memtable fills
# for ~2.5 min at this rate and is then flushed (RSS and store size drop by ~50 MB), and a line
# fitted through a few teeth tilts with the phase at which the run ends; a leak raises the
# peaks too. The halves must be longer than a tooth, and the store has two: the memtable
# (~2.5 min) and RocksDB's L0 compaction every 4 flushes (~10 min at BENCH_RATE=1), between
# which the floor rises by 5-10 MB per flush and then falls back. Measured: 10 min judges RSS
# and the store before the first compaction (both "grow"); 20 min settles RSS, the store
# verdict still depends on where the run ends in the L0 cycle; use the default 30 min or more
# for a store verdict. The slope is printed per hour of wall time.
# Full run: exit 1 if RSS, fds, store size or any key count does not plateau, if a gauge is
# missing, or if a browser that stayed connected was collected.
# Smoke (BENCH_SMOKE=1, ~45 s, a sample every 3 s): only checks the machinery (samples taken,
# subscribes, unsubscribes, pushes, receipts, acks, vanished browsers, reconnects with the same
# uaid, collections all > 0, no connected browser lost) and reports the slopes without judging.
# Env: BENCH_MINUTES (30), BENCH_SAMPLE_S (30), BENCH_CLOCK_STEP_S (43200), BENCH_RATE (1:
# scales the churn, ~150 requests/s), BENCH_IDLE_DAYS (2), BENCH_QUEUE_CAP (30),
# BENCH_MAX_TTL_S (172800), PUSHSVC_BIN_DIR. Exit 77 when node or the ws package
# (npm ci --prefix tests/e2e) is missing.
source "$(dirname "$0")/lib.sh"
need_bin pushsvc node curl
raise_nofile
if [ ! -d "$ROOT/tests/e2e/node_modules/ws" ]; then
    echo "ws missing (npm ci --prefix tests/e2e): skipped" >&2
    exit 77
fi

MINUTES=${BENCH_MINUTES:-30}
SAMPLE_S=${BENCH_SAMPLE_S:-30}
STEP_S=${BENCH_CLOCK_STEP_S:-43200}
RATE=${BENCH_RATE:-1}
IDLE_DAYS=${BENCH_IDLE_DAYS:-2}
DURATION_S=$((MINUTES * 60))
# Browsers that go away come back within AWAY_MAX_MS of wall time: at most 1-2 clock steps,
# far from push.ua_idle_days, so a new uaid on their return would be a wrongful collection.
AWAY_MAX_MS=$((SAMPLE_S * 1000 * 5 / 6))
if [ "$SMOKE" = 1 ]; then
    DURATION_S=45
    SAMPLE_S=3
    AWAY_MAX_MS=4000
fi

export PUSHSVC__TESTDOUBLE__ENABLED=true
# A small cap so abandoned browsers reach it within a minute or two, well before they are
# collected (then pushes to them get 429 until they get 410).
export PUSHSVC__PUSH__MAX_QUEUED_PER_UA=${BENCH_QUEUE_CAP:-30}
# Receipt subscriptions nobody monitors or names expire after max_ttl (30 days by default, 60
# clock steps): 2 days (= the idle age) brings them, like everything else, to a steady state
# within the warm-up (4 steps + the 30 s gauge refresh). Longer TTLs sent are clamped to it.
export PUSHSVC__PUSH__MAX_TTL=${BENCH_MAX_TTL_S:-172800}
# Keys differ between builds and unknown keys are an error: set each only where the
# configuration knows it, and say so otherwise.
has_key() { grep -q "^$1 *=" "$ROOT/config/pushsvc.example.toml"; }
# Older builds swept expired messages on a wall-clock timer: make it follow the clock steps.
if has_key sweep_interval_ms; then export PUSHSVC__STORE__SWEEP_INTERVAL_MS=1000; fi
IDLE_SUPPORTED=0
if has_key ua_idle_days; then
    export PUSHSVC__PUSH__UA_IDLE_DAYS=$IDLE_DAYS
    IDLE_SUPPORTED=1
else
    log "this build has no push.ua_idle_days: abandoned browsers cannot be collected"
fi

start_pushsvc soak
log "pushsvc $PS_CLEAR (pid $PS_PID); ${DURATION_S}s, sample every ${SAMPLE_S}s, clock +${STEP_S}s per sample"

STATS=$WORK/driver-stats.json
node "$BENCH_DIR/soak/driver.mjs" --url "$PS_CLEAR" --seconds "$DURATION_S" --stats "$STATS" \
    --rate "$RATE" --away-max-ms "$AWAY_MAX_MS" >"$WORK/driver.out" 2>"$WORK/driver.err" &
DRIVER_PID=$!
STARTED_PIDS+=("$DRIVER_PID")

# Sum of a metric's samples (all label sets), or "null" when /metrics does not have it.
gauge() {
    awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $NF; f = 1 }
        END { if (f) printf "%.0f", s; else printf "null" }' "$WORK/metrics.txt"
}

SAMPLES=$WORK/samples.jsonl
: >"$SAMPLES"
T0=$(date +%s.%N)
MAX_SAMPLES=$((DURATION_S / SAMPLE_S + 2))
for i in $(seq 0 "$MAX_SAMPLES"); do
    # Sleep to the sample's due time (not a fixed sleep), so samples do not drift.
    due=$(awk -v t0="$T0" -v k="$i" -v s="$SAMPLE_S" 'BEGIN{printf "%.3f", t0 + k * s}')
    wait_s=$(awk -v d="$due" -v n="$(date +%s.%N)" 'BEGIN{w = d - n; printf "%.3f", (w > 0 ? w : 0)}')
    sleep "$wait_s"
    kill -0 "$PS_PID" 2>/dev/null || { log "pushsvc died"; cat "$PS_DIR/log" >&2; exit 1; }
    # A sample after the churn stopped would describe an idle server: not part of the run.
    [ "$i" = 0 ] || kill -0 "$DRIVER_PID" 2>/dev/null || break
    t=$(awk -v n="$(date +%s.%N)" -v t0="$T0" 'BEGIN{printf "%.1f", n - t0}')
    rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$PS_PID/status")
    fds=$(find "/proc/$PS_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    store=$(du -sb "$PS_DIR/data" 2>/dev/null | cut -f1)
    # /metrics answers loopback without a token; PUSHSVC_ADMIN_TOKEN for one started with admin.token
    # and admin.loopback_without_token = false.
    curl -s --max-time 5 ${PUSHSVC_ADMIN_TOKEN:+-H "Authorization: Bearer $PUSHSVC_ADMIN_TOKEN"} \
        "$PS_CLEAR/metrics" >"$WORK/metrics.txt" || : >"$WORK/metrics.txt"
    clock=$(curl -s --max-time 5 "$PS_CLEAR/_testdouble/clock" | sed -n 's/.*"now_ms":\([0-9-]*\).*/\1/p')
    driver=$(cat "$STATS" 2>/dev/null || true)
    printf '{"bench":"soak_sample","i":%d,"t_s":%s,"service_ms":%s,"rss_bytes":%d,"fds":%d,"store_bytes":%d,"queued_messages":%s,"user_agents":%s,"receipt_subscriptions":%s,"idle_removed_total":%s,"expired_total":%s,"oldest_queued_age_s":%s,"connected_ws":%s,"driver":%s}\n' \
        "$i" "$t" "${clock:-null}" $((rss_kb * 1024)) "$fds" "${store:-0}" \
        "$(gauge pushsvc_queued_messages)" "$(gauge pushsvc_user_agents)" \
        "$(gauge pushsvc_receipt_subscriptions)" "$(gauge pushsvc_idle_user_agents_removed_total)" \
        "$(gauge pushsvc_messages_expired_total)" \
        "$(gauge pushsvc_oldest_queued_message_age_seconds)" \
        "$(awk '/^pushsvc_connected_user_agents\{channel="websocket"\}/ {print $NF; f = 1}
            END {if (!f) print "null"}' "$WORK/metrics.txt")" "${driver:-null}" | tee -a "$SAMPLES"
    curl -s --max-time 5 -o /dev/null -X POST -H 'content-type: application/json' \
        -d "{\"advance_s\":$STEP_S}" "$PS_CLEAR/_testdouble/clock"
done

# The driver stops by itself at DURATION_S; bounded wait for it, then its final counts.
for i in $(seq 1 300); do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.1; done
stop_pid "$DRIVER_PID"
cat "$WORK/driver.err" >&2
FINAL=$(tail -1 "$WORK/driver.out")
echo "$FINAL"
curl -s --max-time 5 ${PUSHSVC_ADMIN_TOKEN:+-H "Authorization: Bearer $PUSHSVC_ADMIN_TOKEN"} \
    "$PS_CLEAR/metrics" >"$WORK/metrics.txt" || true
IDLE_REMOVED=$(gauge pushsvc_idle_user_agents_removed_total)
log "server: idle user agents removed $IDLE_REMOVED, messages expired $(gauge pushsvc_messages_expired_total)"
stop_pid "$PS_PID"

set +e
node "$BENCH_DIR/soak/analyze.mjs" "$SAMPLES" 0.3333 0.10
VERDICT=$?
set -e
num() { echo "$FINAL" | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2; }

if [ "$SMOKE" = 1 ]; then
    fail=0
    [ "$(wc -l <"$SAMPLES")" -ge 5 ] || { log "too few samples"; fail=1; }
    for c in subscribes unsubscribes pushes push_202 push_receipt_link push_short_ttl acks \
        vanished abandoned reconnect_same_uaid; do
        [ "$(num "$c")" -gt 0 ] 2>/dev/null || { log "no $c"; fail=1; }
    done
    if [ "$IDLE_SUPPORTED" = 1 ]; then
        # Seen both ways: the service's counter, and 410s on abandoned browsers' endpoints.
        [ "$(num collected_abandoned)" -gt 0 ] 2>/dev/null || { log "no abandoned browser was collected"; fail=1; }
        [ "$IDLE_REMOVED" = null ] || [ "$IDLE_REMOVED" -gt 0 ] || { log "no idle user agent removed"; fail=1; }
    fi
    [ "$(num loyal_lost)" = 0 ] || { log "a browser that stayed connected was collected"; fail=1; }
    [ "$VERDICT" = 1 ] || [ "$VERDICT" = 0 ] || [ "$VERDICT" = 4 ] || log "analysis: exit $VERDICT"
    exit "$fail"
fi
[ "$(num loyal_lost)" = 0 ] || { log "a browser that stayed connected was collected"; exit 1; }
exit "$VERDICT"
