#!/usr/bin/env bash
# admin.listen: /metrics moves to a listener of its own. The public listener answers it 404
# (and keeps /health); the admin listener serves /metrics under the admin.token rule and
# /health, and nothing else (404 JSON); SIGTERM drains both and pushsvc exits 0.
# Usage: admin_listener.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- pushsvc log"; tail -n 30 "$work/pushsvc.log" || true; exit 1; }
source "$(dirname "$0")/lib.sh"  # start_pushsvc

token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$work/pushsvc.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[store]
path = "$work/data"
[admin]
token = "$token"
loopback_without_token = false
listen = "127.0.0.1:0"
TOML
start_pushsvc "$bin" "$work" || { pid=$pushsvc_pid; fail "pushsvc not ready"; }
pid=$pushsvc_pid
admin=$(sed -E 's/.*"admin":"([^"]+)".*/\1/' "$work/ready.json")
[ "$admin" != "$clear" ] && [[ $admin == 127.0.0.1:* ]] || fail "no admin address in ready.json"

status() { curl -sS -o "$work/body" -w '%{http_code}' "$@"; }
auth=(-H "Authorization: Bearer $token")
[ "$(status "${auth[@]}" "http://$clear/metrics")" = 404 ] || fail "public /metrics is not 404"
grep -q '"reason":"not_found"' "$work/body" || fail "public /metrics body: $(cat "$work/body")"
[ "$(status "http://$clear/health")" = 200 ] || fail "public /health"
[ "$(status "http://$admin/metrics")" = 401 ] || fail "admin /metrics without a token"
[ "$(status "${auth[@]}" "http://$admin/metrics")" = 200 ] || fail "admin /metrics with the token"
grep -q '^pushsvc_errors_total{reason="admin_token_missing"} 1$' "$work/body" ||
    fail "the 401 is not counted"
# HTTP/2 (h2c prior knowledge) on the admin listener too.
[ "$(status --http2-prior-knowledge "${auth[@]}" "http://$admin/metrics")" = 200 ] ||
    fail "admin /metrics over h2c"
[ "$(status "http://$admin/health")" = 200 ] || fail "admin /health"
[ "$(status -X POST "http://$admin/subscribe")" = 404 ] || fail "admin listener serves /subscribe"
[ "$(status -X POST "http://$clear/subscribe")" = 201 ] || fail "public /subscribe"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
grep -q "$token" "$work/pushsvc.log" && fail "the admin token appears in the log"
echo "PASS: admin.listen serves /metrics (token rule) and /health only; public /metrics is 404"
