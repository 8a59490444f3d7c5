#!/usr/bin/env bash
# pushctl end to end against a running pushsvc: `pushctl ua` subscribes over WebSocket with an
# application server key, `pushctl send` encrypts, signs and posts (aes128gcm over HTTP/1.1,
# aesgcm over HTTP/2 with TLS), and the texts come out of `pushctl ua` decrypted.
# Usage: pushctl_roundtrip.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1; src=$2
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- pushsvc log"; tail -n 30 "$work/pushsvc.log" || true;
         echo "--- ua output"; cat "$work/ua.out" || true; exit 1; }

source "$(dirname "$0")/lib.sh"  # wait_for_file

"$src/tools/dev-cert.sh" "$work/tls" >/dev/null
cat > "$work/pushsvc.toml" <<TOML
[server]
listen = "127.0.0.1:0"
tls_listen = "127.0.0.1:0"
tls_cert = "$work/tls/cert.pem"
tls_key = "$work/tls/key.pem"
[store]
path = "$work/data"
TOML
"$bin/pushsvc" --config "$work/pushsvc.toml" --ready-file "$work/ready.json" >"$work/pushsvc.log" 2>&1 &
pids+=($!)
wait_for_file "$work/ready.json" "$!" || fail "pushsvc not ready"
clear=$(sed -E 's/.*"cleartext":"([^"]+)".*/\1/' "$work/ready.json")

"$bin/pushctl" vapid-keygen --pem "$work/vapid.pem" >/dev/null
"$bin/pushctl" ua --url "ws://$clear/" --vapid-key "$work/vapid.pem" --count 2 --timeout 30 \
    --subscription-out "$work/sub.json" >"$work/ua.out" 2>&1 &
ua=$!
pids+=($ua)
wait_for_file "$work/sub.json" "$ua" || fail "pushctl ua did not subscribe"

"$bin/pushctl" send -s "$work/sub.json" -p "hello over http/1.1" --ttl 60 \
    --vapid-key "$work/vapid.pem" --subject mailto:ops@example.com \
    --cacert "$work/tls/ca.pem" --http1 >"$work/send1.out" || fail "send 1: $(cat "$work/send1.out")"
grep -q '^Status: 201' "$work/send1.out" || fail "send 1 not 201: $(cat "$work/send1.out")"
"$bin/pushctl" send -s "$work/sub.json" -p "hello over h2 with aesgcm" --ttl 60 --encoding aesgcm \
    --vapid-key "$work/vapid.pem" --subject mailto:ops@example.com \
    --cacert "$work/tls/ca.pem" --http2 >"$work/send2.out" || fail "send 2: $(cat "$work/send2.out")"
grep -q '^Status: 201' "$work/send2.out" || fail "send 2 not 201: $(cat "$work/send2.out")"

wait "$ua" || fail "pushctl ua exited with $?"
grep -q "hello over http/1.1" "$work/ua.out" || fail "first text not received"
grep -q "hello over h2 with aesgcm" "$work/ua.out" || fail "second text not received"
echo "PASS: both messages round-tripped through pushsvc"
