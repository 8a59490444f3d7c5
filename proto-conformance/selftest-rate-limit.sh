#!/usr/bin/env bash
# Row R8030-8.4-b ("429 over the limit carries Retry-After") against a pushsvc with a low
# push rate limit: the row must pass, where against the default limits (far above the 60
# pushes it sends) it reports n/a. Shows the suite sees the limit from outside, over TLS and
# HTTP/2, and that the 429 carries Retry-After in seconds.
#   proto-conformance/selftest-rate-limit.sh BUILD_DIR
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# 10 pushes at once, then one a minute: the row's 11th push is refused, told to wait at most
# a minute (less by however long the first ten took).
PUSHSVC__RATE__PUSH_PER_MIN=1 PUSHSVC__RATE__PUSH_BURST=10 \
    "$root/proto-conformance/run-against-pushsvc.sh" "$build" compat "$tmp/rate.md" \
    --only R8030-8.4-b --report "$tmp/rate.json" >"$tmp/rate.log" 2>&1
status=$?
[ -s "$tmp/rate.json" ] || { echo "FAIL: no report written"; cat "$tmp/rate.log"; exit 1; }
row=$(grep -o '"id":"R8030-8.4-b"[^}]*' "$tmp/rate.json")
verdict=$(echo "$row" | sed -n 's/.*"verdict":"\([^"]*\)".*/\1/p')
reason=$(echo "$row" | sed -n 's/.*"reason":"\([^"]*\)".*/\1/p')
errors=0
if [ "$verdict" = pass ]; then echo "ok: R8030-8.4-b passes ($reason)"
else echo "FAIL: R8030-8.4-b should pass under rate.push_burst = 10, got '$verdict' ($reason)"; errors=1; fi
# The limit's own figures: refused after exactly the burst, told to wait 1..60 seconds.
retry=$(echo "$reason" | sed -n 's/^429 after 10 pushes, Retry-After \([0-9]*\)$/\1/p')
if [ -n "$retry" ] && [ "$retry" -ge 1 ] && [ "$retry" -le 60 ]; then
    echo "ok: 429 after the burst of 10, Retry-After $retry"
else
    echo "FAIL: expected '429 after 10 pushes, Retry-After <1..60>', got '$reason'"; errors=1
fi
if [ $status -ne 0 ]; then echo "FAIL: suite exit status $status"; errors=1; fi
[ $errors -eq 0 ] || cat "$tmp/rate.log"
exit $errors
