#!/usr/bin/env bash
# log.format = "json" + log.access = true: every line pushsvc writes (level debug, from
# startup to shutdown) is one JSON object that Python's json module parses, with time and
# level; each request gets one access line (method, redacted path, status, latency,
# protocol) over HTTP/1.1 and HTTP/2; and neither the endpoint token, the subscription id,
# the message id nor the JWT and key sent in Authorization appear anywhere in the log.
# Usage: json_logs.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
pid=""
cleanup() {
    [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- pushsvc log"; tail -n 40 "$work/pushsvc.log" || true; exit 1; }
source "$(dirname "$0")/lib.sh"  # start_pushsvc

cat >"$work/pushsvc.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[store]
path = "$work/data"
[log]
level = "debug"
format = "json"
access = true
TOML
start_pushsvc "$bin" "$work" || { pid=$pushsvc_pid; fail "pushsvc not ready"; }
pid=$pushsvc_pid

# Subscribe (HTTP/1.1), then push over HTTP/1.1 and over h2c, each carrying a VAPID-looking
# Authorization (an unrestricted subscription ignores it in the compat profile).
curl -sS -D "$work/sub.h" -o /dev/null -X POST "http://$clear/subscribe" || fail "subscribe"
endpoint=$(sed -n 's/^link: <\([^>]*\)>; rel="urn:ietf:params:push".*/\1/Ip' "$work/sub.h" | tr -d '\r')
subscription=$(sed -n 's/^location: //Ip' "$work/sub.h" | tr -d '\r')
[ -n "$endpoint" ] && [ -n "$subscription" ] || fail "no endpoint in: $(cat "$work/sub.h")"
push_path=${endpoint#*://*/}
jwt="eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwOi8vbG9jYWxob3N0Iiwic3ViIjoibWFpbHRvOmxvZ0BleGFtcGxlLmNvbSJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"
key="BLogTestKeyLogTestKeyLogTestKeyLogTestKeyLogTestKeyLogTestKeyLogTestKeyLogTestKeyLogTest"
status1=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 60' \
    -H "Authorization: vapid t=$jwt, k=$key" "http://$clear/$push_path") || fail "push 1"
[ "$status1" = 201 ] || fail "HTTP/1.1 push answered $status1"
status2=$(curl -sS --http2-prior-knowledge -D "$work/push2.h" -o /dev/null -w '%{http_code}' \
    -X POST -H 'TTL: 60' -H "Authorization: vapid t=$jwt, k=$key" "http://$clear/$push_path") ||
    fail "push 2"
[ "$status2" = 201 ] || fail "HTTP/2 push answered $status2"
message=$(sed -n 's/^location: //Ip' "$work/push2.h" | tr -d '\r')
curl -sS -o /dev/null "http://$clear/push/gAAAAnotAToken42?secret=1" || true  # an error answer too

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "pushsvc exited $status"

python3 - "$work/pushsvc.log" "$push_path" <<'PY' || fail "JSON log check"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines, "empty log"
access = []
for n, line in enumerate(lines, 1):
    obj = json.loads(line)  # raises on any line that is not one JSON object
    assert isinstance(obj, dict), f"line {n} is not an object: {line}"
    assert obj.get("time", "").endswith("Z") and obj.get("level"), f"line {n}: {line}"
    if obj.get("event") == "access":
        access.append(obj)
    else:
        assert "msg" in obj, f"line {n}: no msg: {line}"
def find(method, path, protocol, status):
    for a in access:
        if (a["method"], a["path"], a["protocol"], a["status"]) == (method, path, protocol, status):
            assert isinstance(a["latency_ms"], (int, float)) and a["latency_ms"] >= 0, a
            assert isinstance(a["conn"], int) and a["tls"] is False, a
            return
    raise AssertionError(f"no access line {method} {path} {protocol} {status} in {access}")
route = "/" + sys.argv[2].split("/")[0] + "/*"
find("POST", "/subscribe", "HTTP/1.1", 201)
find("POST", route, "HTTP/1.1", 201)
find("POST", route, "HTTP/2", 201)
bad = [a for a in access if a["path"] == "/push/*?*"]  # the query is dropped, the token hidden
assert len(bad) == 1 and 400 <= bad[0]["status"] < 500 and bad[0]["method"] == "GET", bad
assert len(access) == 4, f"one access line per request, got {len(access)}: {access}"
print(f"ok: {len(lines)} lines parsed, {len(access)} access lines")
PY
# Nothing secret anywhere in the log, in any form the test knows.
for secret in "$jwt" "${jwt%%.*}" "$key" "${push_path#*/}" "${subscription##*/}" "${message##*/}" \
    "secret=1"; do
    [ -n "$secret" ] || continue
    ! grep -qF -- "$secret" "$work/pushsvc.log" || fail "logged: $secret"
done
echo "ok: no token, id, JWT or key in the log"
