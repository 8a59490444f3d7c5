#!/usr/bin/env bash
# Cross-check of RFC 8030 server push with an independent HTTP/2 implementation: nghttp
# (nghttp2-client) drains a subscription (R8030-6-b, -e) and a receipt subscription
# (R8030-6.3-b) of a running pushsvc, and must see the same PUSH_PROMISEs our own client sees.
# Usage: nghttp_crosscheck.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- nghttp"; cat "$work/nghttp.out" 2>/dev/null | tail -40; exit 1; }

source "$(dirname "$0")/lib.sh"  # wait_for_file

printf '[server]\nlisten = "127.0.0.1:0"\n[store]\npath = "%s/data"\n' "$work" > "$work/pushsvc.toml"
"$bin/pushsvc" --config "$work/pushsvc.toml" --ready-file "$work/ready.json" >"$work/log" 2>&1 &
pid=$!
wait_for_file "$work/ready.json" "$pid" || fail "pushsvc not ready"
origin=$(sed -E 's/.*"origin":"([^"]+)".*/\1/' "$work/ready.json")

curl -sS -D "$work/sub.h" -o /dev/null -X POST "$origin/subscribe"
sub=$(grep -i '^location:' "$work/sub.h" | awk '{print $2}' | tr -d '\r')
push=$(grep -i 'rel="urn:ietf:params:push"' "$work/sub.h" | sed -E 's/.*<([^>]+)>.*/\1/')
[ -n "$sub" ] && [ -n "$push" ] || fail "subscribe"

# Two messages, the first asking for a receipt.
curl -sS -D "$work/m1.h" -o /dev/null -X POST -H 'TTL: 60' -H 'Prefer: respond-async' "$push"
curl -sS -D "$work/m2.h" -o /dev/null -X POST -H 'TTL: 60' "$push"
grep -q '^HTTP/1.1 201' "$work/m2.h" || fail "second push was not answered 201"
m1=$(grep -i '^location:' "$work/m1.h" | awk '{print $2}' | tr -d '\r')
receipts=$(grep -i 'rel="urn:ietf:params:push:receipt"' "$work/m1.h" | sed -E 's/.*<([^>]+)>.*/\1/')
grep -q '^HTTP/1.1 202' "$work/m1.h" || fail "respond-async was not answered 202"

# nghttp drains the subscription: two PUSH_PROMISEs for /m/..., then :status 200.
timeout 10 nghttp -nv -H 'prefer: wait=0' "$sub" >"$work/nghttp.out" 2>&1 || fail "nghttp drain"
promises=$(grep -c 'recv PUSH_PROMISE' "$work/nghttp.out" || true)
[ "$promises" = 2 ] || fail "expected 2 PUSH_PROMISE frames, saw $promises"
grep -q ":path: ${m1#$origin}" "$work/nghttp.out" || fail "promised :path is not the message resource"
grep -q ':status: 200' "$work/nghttp.out" || fail "no final 200"

# The UA acknowledges the first; nghttp drains the receipt subscription: one 204 receipt.
curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$m1" | grep -q 204 || fail "ack"
timeout 10 nghttp -nv -H 'prefer: wait=0' "$receipts" >"$work/nghttp.out" 2>&1 || fail "nghttp receipts"
grep -q 'recv PUSH_PROMISE' "$work/nghttp.out" || fail "no receipt pushed"
grep -q ":path: ${m1#$origin}" "$work/nghttp.out" || fail "receipt does not name the message"
grep -q ':status: 204' "$work/nghttp.out" || fail "receipt status is not 204"
echo "PASS: nghttp saw the same pushes and receipts"
