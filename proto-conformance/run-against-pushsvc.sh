#!/usr/bin/env bash
# Runs webpush-conformance against a fresh pushsvc in test-double mode, over TLS (RFC 8030 §3),
# on port 0, and writes the Markdown conformance table.
#
#   proto-conformance/run-against-pushsvc.sh BUILD_DIR PROFILE OUT.md [extra suite args...]
#
# PROFILE is compat or strict. Exit status: the suite's (non-zero when a MUST of a claimed
# feature fails). The pushsvc started here is stopped by its PID on exit.
#
# CLAIMED lists the features pushsvc implements today. Scenarios of other features still run
# and their failures are printed and published, marked "unclaimed", without failing the step.
# Features: core, delivery (WebSocket UA), control (test-double API), and since issue 5 landed
# monitor, urgency-filter, receipts, sets (RFC 8030 §4.1, §5.1, §6). A feature that regresses or
# is not finished can be dropped here (or via CONFORMANCE_CLAIMED) and is then published as
# "fail (unclaimed: ...)" instead of failing tools/test.sh.
CLAIMED=${CONFORMANCE_CLAIMED:-core,delivery,control,monitor,urgency-filter,receipts,sets}
set -euo pipefail
build=$(cd "$1" && pwd); profile=$2; out=$3; shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$root/tools/dev-cert.sh" "$work/tls" >/dev/null
cat > "$work/pushsvc.toml" <<TOML
profile = "$profile"
[server]
listen = "127.0.0.1:0"
tls_listen = "127.0.0.1:0"
tls_cert = "$work/tls/cert.pem"
tls_key = "$work/tls/key.pem"
[store]
path = "$work/data"
[log]
level = "warn"
[testdouble]
enabled = true
TOML
"$build/bin/pushsvc" --config "$work/pushsvc.toml" --ready-file "$work/ready.json" \
    >"$work/pushsvc.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
if [ ! -s "$work/ready.json" ]; then
    echo "run-against-pushsvc: pushsvc did not start:" >&2
    cat "$work/pushsvc.log" >&2
    exit 1
fi
origin=$(sed -n 's/.*"origin":"\([^"]*\)".*/\1/p' "$work/ready.json")
status=0
"$build/bin/webpush-conformance" --target "$origin" --cacert "$work/tls/ca.pem" \
    --profile "$profile" --control "$origin/_testdouble" --claim "$CLAIMED" \
    --markdown "$out" "$@" || status=$?
if ! kill -0 "$pid" 2>/dev/null; then
    echo "run-against-pushsvc: pushsvc exited during the run:" >&2
    tail -50 "$work/pushsvc.log" >&2
    status=1
fi
exit $status
