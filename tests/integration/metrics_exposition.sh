#!/usr/bin/env bash
# GET /metrics of a running pushsvc: `promtool check metrics` (Prometheus's own parser and
# linter) accepts every scrape without a single complaint, and the counters and gauges say
# what happened: one user agent on the WebSocket channel and one monitoring over HTTP/2
# (pushctl ua), error pushes by reason, accepted pushes, deliveries, then both disconnected.
# Scrapes carry the admin token, as a remote Prometheus would: loopback is not exempted here
# (admin.loopback_without_token = false), and /metrics without it or with a wrong one is a
# counted JSON 401/403.
# Usage: metrics_exposition.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- last scrape"; cat "$work/metrics.txt" 2>/dev/null || true;
         echo "--- pushsvc log"; tail -n 30 "$work/pushsvc.log" || true; exit 1; }
source "$(dirname "$0")/lib.sh"  # start_pushsvc
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus, tools/install-deps.sh)"

token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '[server]\nlisten = "127.0.0.1:0"\n[store]\npath = "%s/data"\n[admin]\ntoken = "%s"\nloopback_without_token = false\n' \
    "$work" "$token" > "$work/pushsvc.toml"
start_pushsvc "$bin" "$work" || { pids+=("$pushsvc_pid"); fail "pushsvc not ready"; }
pids+=("$pushsvc_pid")

# Scrapes into metrics.txt and has promtool check it: any parse error or lint warning fails.
scrape() {
    curl -sSf -H "Authorization: Bearer $token" "http://$clear/metrics" -o "$work/metrics.txt" ||
        fail "GET /metrics"
    if ! promtool check metrics <"$work/metrics.txt" >"$work/promtool.out" 2>&1 ||
        [ -s "$work/promtool.out" ]; then
        fail "promtool check metrics: $(cat "$work/promtool.out")"
    fi
}
# The value of one exact series (name with its label set, as exposed), or "absent".
value() { awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' \
              "$work/metrics.txt"; }
# Every "SERIES VALUE" pair given matches the last scrape.
matches() {
    while [ $# -gt 0 ]; do [ "$(value "$1")" = "$2" ] || return 1; shift 2; done
}
# Scrapes until the pairs match: the service reaches these states asynchronously (a session
# attaches after the client sees its subscription, an ack is counted after the client moved
# on), and a scrape is the only way to observe them from outside.
await() {
    local what=$1; shift
    for _ in $(seq 100); do scrape; matches "$@" && return 0; sleep 0.1; done
    for ((i = 1; i <= $#; i += 2)); do
        local s=${!i} j=$((i + 1)); echo "  $s = $(value "$s") (want ${!j})"
    done
    fail "$what"
}

# Freshly started: every family is there, counters at 0, nobody connected.
scrape
for family in pushsvc_push_accepted_total pushsvc_errors_total pushsvc_push_seconds \
    pushsvc_connected_user_agents pushsvc_build_info pushsvc_uptime_seconds; do
    [ "$(grep -c "^# HELP $family " "$work/metrics.txt")" = 1 ] || fail "no single HELP for $family"
    [ "$(grep -c "^# TYPE $family " "$work/metrics.txt")" = 1 ] || fail "no single TYPE for $family"
done
matches pushsvc_push_accepted_total 0 'pushsvc_errors_total{reason="ttl_missing"}' 0 \
    'pushsvc_connected_user_agents{channel="websocket"}' 0 \
    'pushsvc_connected_user_agents{channel="http2"}' 0 || fail "fresh counters are not 0"
grep -Eq '^pushsvc_build_info\{version="[^"]+"\} 1$' "$work/metrics.txt" || fail "build_info"
started=$(value pushsvc_process_start_time_seconds)
now=$(date +%s)
awk -v s="$started" -v n="$now" 'BEGIN { exit !(s > n - 600 && s <= n + 1) }' ||
    fail "process start time $started is not about now ($now)"

# One browser on each channel; each takes one message and exits.
"$bin/pushctl" ua --url "ws://$clear/" --count 1 --timeout 30 \
    --subscription-out "$work/ws.json" >"$work/ua_ws.out" 2>&1 &
ua_ws=$!; pids+=($ua_ws)
"$bin/pushctl" ua --http2 --url "http://$clear/subscribe" --count 1 --timeout 30 \
    --subscription-out "$work/h2.json" >"$work/ua_h2.out" 2>&1 &
ua_h2=$!; pids+=($ua_h2)
await "both user agents connected" \
    'pushsvc_connected_user_agents{channel="websocket"}' 1 \
    'pushsvc_connected_user_agents{channel="http2"}' 1
endpoint() { sed -E 's/.*"endpoint":"([^"]+)".*/\1/' "$1"; }
ws_push=$(endpoint "$work/ws.json")
h2_push=$(endpoint "$work/h2.json")

post() {  # URL [curl args...] -> HTTP status
    local url=$1; shift
    curl -sS -o /dev/null -w '%{http_code}' -X POST "$@" "$url"
}
[ "$(post "$ws_push")" = 400 ] || fail "push without TTL was not 400"
[ "$(post "$h2_push")" = 400 ] || fail "push without TTL was not 400"
[ "$(post "http://$clear/push/not-a-token" -H 'TTL: 60')" = 404 ] || fail "bad token was not 404"
[ "$(post "$ws_push" -H 'TTL: 60')" = 201 ] || fail "push to the WebSocket user agent"
[ "$(post "$h2_push" -H 'TTL: 60')" = 201 ] || fail "push to the HTTP/2 user agent"
wait "$ua_ws" || fail "pushctl ua (WebSocket) exited with $?: $(cat "$work/ua_ws.out")"
wait "$ua_h2" || fail "pushctl ua (HTTP/2) exited with $?: $(cat "$work/ua_h2.out")"

await "counters after the pushes and both disconnects" \
    'pushsvc_connected_user_agents{channel="websocket"}' 0 \
    'pushsvc_connected_user_agents{channel="http2"}' 0 \
    pushsvc_push_accepted_total 2 \
    pushsvc_push_seconds_count 2 \
    'pushsvc_push_seconds_bucket{le="+Inf"}' 2 \
    'pushsvc_errors_total{reason="ttl_missing"}' 2 \
    'pushsvc_errors_total{reason="token_invalid"}' 1 \
    pushsvc_subscriptions_total 1 \
    pushsvc_monitors_total 1 \
    pushsvc_http2_pushes_total 1 \
    pushsvc_ws_sessions_total 1 \
    pushsvc_ws_sessions_closed_total 1 \
    'pushsvc_ws_frames_total{type="hello"}' 1 \
    'pushsvc_ws_frames_total{type="register"}' 1 \
    'pushsvc_ws_frames_total{type="ack"}' 1 \
    pushsvc_delivered_total 1 \
    'pushsvc_connections_total{protocol="h2c"}' 1 \
    'pushsvc_receipts_total{status="204"}' 0

# No other error reason moved: the three error responses are all there are.
errors=$(awk '/^pushsvc_errors_total\{/ { n += $2 } END { print n }' "$work/metrics.txt")
[ "$errors" = 3 ] || fail "pushsvc_errors_total sums to $errors, want 3"
# Every accepted connection was classified (cleartext only: no TLS failures in between).
accepted=$(value pushsvc_accepted_total)
classified=$(awk '/^pushsvc_connections_total\{/ { n += $2 } END { print n }' "$work/metrics.txt")
[ "$accepted" = "$classified" ] || fail "accepted $accepted connections, classified $classified"
awk -v u="$(value pushsvc_uptime_seconds)" 'BEGIN { exit !(u > 0 && u < 600) }' || fail "uptime"
grep -q "$token" "$work/pushsvc.log" && fail "the admin token appears in the log"

# Without the token (or with a wrong one) /metrics is a JSON error, counted by reason.
denied=$(curl -sS -D "$work/denied.head" "http://$clear/metrics")
grep -q '^HTTP/1.1 401' "$work/denied.head" || fail "/metrics without a token: $(head -1 "$work/denied.head")"
grep -qi '^www-authenticate: Bearer' "$work/denied.head" || fail "401 without a Bearer challenge"
[[ $denied == *'"reason":"admin_token_missing"'* ]] || fail "401 body: $denied"
[ "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong-token-xxxxxxxx' \
    "http://$clear/metrics")" = 403 ] || fail "/metrics with a wrong token was not 403"
await "denials counted" 'pushsvc_errors_total{reason="admin_token_missing"}' 1 \
    'pushsvc_errors_total{reason="admin_token_invalid"}' 1
echo "PASS: /metrics passes promtool and counts what happened; it needs the admin token"
