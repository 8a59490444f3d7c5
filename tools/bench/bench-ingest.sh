#!/usr/bin/env bash
# Push ingestion: one h2load POST workload (3 KB aes128gcm body, VAPID, TTL, many streams)
# against pushsvc and against nghttpd (the HTTP/2 ceiling: same box, same client, no work per
# request) in one run; ratios, not absolute numbers, are the result. Variants: h2c vs TLS,
# HTTP/1.1, VAPID cache hit vs every request freshly signed, store.sync off vs on, and the
# same HTTP/1.1 workload against npm web-push-testing (if `npm ci --prefix tools/bench` ran).
# Besides rates, each server's CPU per request over the measured interval (utime + stime of
# the whole process from /proc/PID/stat, pushsvc's RocksDB background threads included) and
# the efficiency = nghttpd's CPU per request / pushsvc's, both from the same run: the figure
# that moves least when other work shares the box.
# Env: BENCH_SMOKE=1 (tiny counts), BENCH_SECONDS (per variant, default 10), BENCH_SUBS,
# BENCH_CONNS, BENCH_STREAMS, BENCH_REPEAT (h2c pairs nghttpd/pushsvc, default 1; the summary
# gives the median and the spread), BENCH_ONLY_H2C=1 (the h2c pairs alone), PUSHSVC_BIN_DIR.
source "$(dirname "$0")/lib.sh"
need_bin pushsvc pushsvc-loadgen h2load nghttpd
raise_nofile

SECS=${BENCH_SECONDS:-10}
SUBS=${BENCH_SUBS:-10000}
CONNS=${BENCH_CONNS:-8}
STREAMS=${BENCH_STREAMS:-32}
REPEAT=${BENCH_REPEAT:-1}
if [ "$SMOKE" = 1 ]; then
    SUBS=20
    RUN=(-n 400)
    WARM=()
    WARM_S=0
else
    RUN=(-D "$SECS")
    WARM_S=2
    WARM=(--warm-up-time=$WARM_S)
fi

# The queue cap is not what is measured: at ~30k pushes/s to 500 subscriptions the repeated
# pairs would fill the default 1,000 per user agent (TTL 60 expires nothing in time) and
# measure 429s instead of stored pushes. An operator's setting in the environment wins.
export PUSHSVC__PUSH__MAX_QUEUED_PER_UA=${PUSHSVC__PUSH__MAX_QUEUED_PER_UA:-1000000}
start_pushsvc ingest tls
log "pushsvc $PS_CLEAR / $PS_TLS (pid $PS_PID)"
W=$WORK/workload
mkdir -p "$W"
"$BIN/pushsvc-loadgen" setup --target "$PS_CLEAR" --subs "$SUBS" --out "$W"
# setup used the advertised (TLS) endpoints; the cleartext listener serves the same paths.
sed "s#^https://[^/]*#$PS_CLEAR#" "$W/uris.txt" >"$W/uris-h2c.txt"
sed "s#^https\?://[^/]*#$PS_TLS#" "$W/uris.txt" >"$W/uris-tls.txt"
HDRS=()
while IFS= read -r line; do HDRS+=(-H "$line"); done <"$W/headers.txt"
COMMON=(-t 1 -c "$CONNS" -m "$STREAMS" -d "$W/body.bin" "${HDRS[@]}" "${RUN[@]}" "${WARM[@]}")

# Reference: nghttpd serving an empty file for the same POSTs (2 workers = pushsvc's threads).
NG_PORT=$(free_port)
mkdir -p "$WORK/htdocs/push"
: >"$WORK/htdocs/push/bench"
nghttpd --no-tls -n "$(nproc)" -d "$WORK/htdocs" "$NG_PORT" >"$WORK/nghttpd.log" 2>&1 &
NG_PID=$!
STARTED_PIDS+=("$NG_PID")
NG_TLS_PORT=$(free_port)
nghttpd -n "$(nproc)" -d "$WORK/htdocs" "$NG_TLS_PORT" "$WORK/tls/key.pem" "$WORK/tls/cert.pem" \
    >"$WORK/nghttpd-tls.log" 2>&1 &
NG_TLS_PID=$!
STARTED_PIDS+=("$NG_TLS_PID")
# Both listening before the first run (a busy box once took longer than a fixed half second).
wait_listening "$NG_PORT" 20 && wait_listening "$NG_TLS_PORT" 20 ||
    { log "nghttpd did not start listening"; exit 1; }

# The h2c pair (cache hit, sync off) is the headline; repeated pairs give its spread.
NG_RATES=(); PS_RATES=(); NG_CPUS=(); PS_CPUS=(); EFFS=()
for r in $(seq 1 "$REPEAT"); do
    CPU_PID=$NG_PID h2load_run nghttpd_h2c "${COMMON[@]}" "http://127.0.0.1:$NG_PORT/push/bench"
    NG_RATES+=("$H2LOAD_RATE"); NG_CPUS+=("$H2LOAD_CPU_US")
    CPU_PID=$PS_PID h2load_run pushsvc_h2c "${COMMON[@]}" -i "$W/uris-h2c.txt"
    PS_RATES+=("$H2LOAD_RATE"); PS_CPUS+=("$H2LOAD_CPU_US")
    EFFS+=("$(ratio "${NG_CPUS[-1]}" "${PS_CPUS[-1]}")")
    printf '{"bench":"ingest_pair","run":%d,"rate_ratio":%s,"nghttpd_cpu_us":%s,"pushsvc_cpu_us":%s,"efficiency":%s}\n' \
        "$r" "$(ratio "${PS_RATES[-1]}" "${NG_RATES[-1]}")" "${NG_CPUS[-1]}" "${PS_CPUS[-1]}" "${EFFS[-1]}"
done
# median and min..max of a list of numbers
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{printf "%s", (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
spread() { printf '%s\n' "$@" | sort -g | awk 'NR==1{lo=$1} {hi=$1} END{printf "\"%s..%s\"", lo, hi}'; }
NG=$(median "${NG_RATES[@]}")
PS=$(median "${PS_RATES[@]}")
NG_CPU=$(median "${NG_CPUS[@]}")
PS_CPU=$(median "${PS_CPUS[@]}")
if [ "${BENCH_ONLY_H2C:-0}" = 1 ]; then
    printf '{"bench":"ingest_summary","runs":%d,"efficiency_h2c":%s,"efficiency_spread":%s,"target_efficiency":0.33,' \
        "$REPEAT" "$(median "${EFFS[@]}")" "$(spread "${EFFS[@]}")"
    printf '"nghttpd_cpu_us":%s,"pushsvc_cpu_us":%s,"pushsvc_cpu_us_spread":%s,' \
        "$NG_CPU" "$PS_CPU" "$(spread "${PS_CPUS[@]}")"
    printf '"nghttpd_h2c":%.0f,"pushsvc_h2c":%.0f,"ratio_h2c":%s}\n' "$NG" "$PS" "$(ratio "$PS" "$NG")"
    exit 0
fi
CPU_PID=$NG_TLS_PID h2load_run nghttpd_tls "${COMMON[@]}" "https://127.0.0.1:$NG_TLS_PORT/push/bench"
NG_TLS=$H2LOAD_RATE
NG_TLS_CPU=$H2LOAD_CPU_US
CPU_PID=$PS_PID h2load_run pushsvc_tls "${COMMON[@]}" -i "$W/uris-tls.txt"
PS_TLS_RATE=$H2LOAD_RATE
PS_TLS_CPU=$H2LOAD_CPU_US
H1=(--h1 -t 1 -c $((CONNS * 8)) -m 1 -d "$W/body.bin" "${HDRS[@]}" "${RUN[@]}" "${WARM[@]}")
CPU_PID=$PS_PID h2load_run pushsvc_h1 "${H1[@]}" -i "$W/uris-h2c.txt"
PS_H1=$H2LOAD_RATE
PS_H1_CPU=$H2LOAD_CPU_US

# VAPID: the same loadgen client with one reused token (cache hit) vs a fresh token per push.
LG=(--dir "$W" --threads 1 --window $((CONNS * STREAMS)))
if [ "$SMOKE" = 1 ]; then LG+=(--max 300 --duration 20); else LG+=(--duration "$SECS"); fi
cp "$W/uris-h2c.txt" "$W/uris.txt"
rate_of() { echo "$1" | sed 's/.*"req_per_s":\([0-9.]*\).*/\1/'; }
count_of() { echo "$1" | sed -n 's/.*"ok":\([0-9]*\).*/\1/p'; }
T0=$(cpu_ticks "$PS_PID")
HIT=$("$BIN/pushsvc-loadgen" ingest "${LG[@]}")
HIT_CPU=$(cpu_us_per vapid_hit "$PS_PID" "$T0" "$(count_of "$HIT")")
echo "$HIT"
T0=$(cpu_ticks "$PS_PID")
FRESH=$("$BIN/pushsvc-loadgen" ingest "${LG[@]}" --fresh)
FRESH_CPU=$(cpu_us_per vapid_fresh "$PS_PID" "$T0" "$(count_of "$FRESH")")
echo "$FRESH"

stop_pid "$PS_PID"

# store.sync = true: every 201 fsynced (group commit).
PUSHSVC__STORE__SYNC=true start_pushsvc ingest-sync
"$BIN/pushsvc-loadgen" setup --target "$PS_CLEAR" --subs "$SUBS" --out "$W" >/dev/null
HDRS=()
while IFS= read -r line; do HDRS+=(-H "$line"); done <"$W/headers.txt"
CPU_PID=$PS_PID h2load_run pushsvc_h2c_sync -t 1 -c "$CONNS" -m "$STREAMS" -d "$W/body.bin" "${HDRS[@]}" \
    "${RUN[@]}" "${WARM[@]}" -i "$W/uris.txt"
PS_SYNC=$H2LOAD_RATE
PS_SYNC_CPU=$H2LOAD_CPU_US
stop_pid "$PS_PID"

# npm web-push-testing (HTTP/1.1 only, decrypts and verifies every push).
WPT_JS=$BENCH_DIR/node_modules/web-push-testing/src/bin/server.js
WPT=""
if [ -f "$WPT_JS" ] && command -v node >/dev/null; then
    WPT_PORT=$(free_port)
    node "$WPT_JS" "$WPT_PORT" >"$WORK/wpt.log" 2>&1 &
    WPT_PID=$!
    STARTED_PIDS+=("$WPT_PID")
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$WPT_PORT") 2>/dev/null && break
        sleep 0.1
    done
    mkdir -p "$WORK/wpt"
    "$BIN/pushsvc-loadgen" setup --wpt --target "http://127.0.0.1:$WPT_PORT" --out "$WORK/wpt" >/dev/null
    HDRS=()
    while IFS= read -r line; do HDRS+=(-H "$line"); done <"$WORK/wpt/headers.txt"
    h2load_run web_push_testing_h1 --h1 -t 1 -c $((CONNS * 8)) -m 1 -d "$WORK/wpt/body.bin" \
        "${HDRS[@]}" "${RUN[@]}" "${WARM[@]}" -i "$WORK/wpt/uris.txt"
    WPT=$H2LOAD_RATE
    stop_pid "$WPT_PID"
else
    log "web-push-testing not installed (npm ci --prefix tools/bench): skipped"
fi

# Efficiency first: CPU per request, nghttpd's over pushsvc's (1.0 = as cheap as nghttpd).
printf '{"bench":"ingest_summary","runs":%d,"efficiency_h2c":%s,"efficiency_spread":%s,"target_efficiency":0.33,' \
    "$REPEAT" "$(median "${EFFS[@]}")" "$(spread "${EFFS[@]}")"
printf '"nghttpd_cpu_us":%s,"pushsvc_cpu_us":%s,"pushsvc_cpu_us_spread":%s,' \
    "$NG_CPU" "$PS_CPU" "$(spread "${PS_CPUS[@]}")"
printf '"nghttpd_tls_cpu_us":%s,"pushsvc_tls_cpu_us":%s,"efficiency_tls":%s,' \
    "$NG_TLS_CPU" "$PS_TLS_CPU" "$(ratio "$NG_TLS_CPU" "$PS_TLS_CPU")"
printf '"pushsvc_h1_cpu_us":%s,"vapid_cached_cpu_us":%s,"vapid_fresh_cpu_us":%s,"sync_cpu_us":%s,' \
    "$PS_H1_CPU" "$HIT_CPU" "$FRESH_CPU" "$PS_SYNC_CPU"
printf '"nghttpd_h2c":%.0f,"pushsvc_h2c":%.0f,"ratio_h2c":%s,"target_ratio_h2c":0.4,' \
    "$NG" "$PS" "$(ratio "$PS" "$NG")"
printf '"nghttpd_tls":%.0f,"pushsvc_tls":%.0f,"ratio_tls":%s,"pushsvc_h1":%.0f,' \
    "$NG_TLS" "$PS_TLS_RATE" "$(ratio "$PS_TLS_RATE" "$NG_TLS")" "$PS_H1"
printf '"loadgen_vapid_cached":%.0f,"loadgen_vapid_fresh":%.0f,"fresh_over_cached":%s,' \
    "$(rate_of "$HIT")" "$(rate_of "$FRESH")" "$(ratio "$(rate_of "$FRESH")" "$(rate_of "$HIT")")"
printf '"pushsvc_h2c_sync":%.0f,"target_sync":5000' "$PS_SYNC"
if [ -n "$WPT" ]; then
    printf ',"web_push_testing_h1":%.0f,"ratio_h1_vs_wpt":%s,"ratio_h2c_vs_wpt":%s,"target_vs_wpt":10' \
        "$WPT" "$(ratio "$PS_H1" "$WPT")" "$(ratio "$PS" "$WPT")"
fi
echo "}"
