#!/usr/bin/env bash
# server.reuse_port: two pushsvc processes share one public port and the kernel spreads new
# connections over both (each one's own /metrics counts some); the admin listener never
# shares (a third process asking for the first one's admin address fails to start, so
# /metrics always names one process), and a process without reuse_port is refused the port.
# Usage: reuse_port.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null && { wait "$p" 2>/dev/null || true; }; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; local f; for f in "$work"/*/pushsvc.log; do echo "--- $f"; tail -n 15 "$f"; done; exit 1; }
source "$(dirname "$0")/lib.sh"  # start_pushsvc, wait_for_file

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# config NAME REUSE ADMIN: WORK/NAME/pushsvc.toml for a process on the shared port.
config() {
    mkdir -p "$work/$1"
    cat >"$work/$1/pushsvc.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
reuse_port = $2
[store]
path = "$work/$1/data"
[admin]
listen = "$3"
TOML
}
admin_of() { sed -E 's/.*"admin":"([^"]+)".*/\1/' "$work/$1/ready.json"; }

config a true 127.0.0.1:0
start_pushsvc "$bin" "$work/a" || fail "a not ready"
pids+=("$pushsvc_pid")
config b true 127.0.0.1:0
start_pushsvc "$bin" "$work/b" || fail "b not ready (the port is not shared)"
pids+=("$pushsvc_pid")

# 64 connections, each its own: the kernel picks a listener by a hash of the connection's
# addresses and ports, so each process gets some (all on one: odds 2^-63).
for _ in $(seq 64); do
    [ "$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] ||
        fail "/health on the shared port"
done
accepted() { curl -sS "http://$(admin_of "$1")/metrics" | sed -n 's/^pushsvc_accepted_total \([0-9]*\)$/\1/p'; }
na=$(accepted a); nb=$(accepted b)
[ -n "$na" ] && [ -n "$nb" ] || fail "no pushsvc_accepted_total on an admin listener"
[ "$na" -gt 0 ] && [ "$nb" -gt 0 ] && [ $((na + nb)) -ge 64 ] ||
    fail "connections per process: a $na, b $nb (want both > 0, 64 in all)"

# The admin listener does not share: c asks for a's admin address and exits non-zero.
config c true "$(admin_of a)"
rc=0; timeout 20 "$bin/pushsvc" --config "$work/c/pushsvc.toml" >"$work/c/pushsvc.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "c started on a's admin address (rc $rc)"
grep -q 'admin.listen' "$work/c/pushsvc.log" || fail "c's error does not name admin.listen"

# Without reuse_port the shared port is refused.
config d false 127.0.0.1:0
rc=0; timeout 20 "$bin/pushsvc" --config "$work/d/pushsvc.toml" >"$work/d/pushsvc.log" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "d started on the shared port without reuse_port (rc $rc)"
echo "PASS: two processes share port $port (a accepted $na, b $nb); admin.listen and a process without reuse_port are refused"
