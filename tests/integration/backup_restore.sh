#!/usr/bin/env bash
# `pushsvc backup --config FILE DIR` while pushes go on: the copy holds every message accepted
# before the backup started and is one consistent point (of the messages pushed during the
# backup, it holds a prefix: between those answered before it started and those sent before
# it ended); restored into a new data folder (docs/operations.md) a new pushsvc serves the
# same subscriptions (the token key came along) with the messages queued, bodies included
# (drained with nghttp). Then the same with the service stopped, and a non-empty DIR refused.
# Usage: backup_restore.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- pushsvc log"; tail -n 30 "$work"/*.log || true; exit 1; }
source "$(dirname "$0")/lib.sh"  # wait_for_file
command -v nghttp >/dev/null || fail "nghttp missing (nghttp2-client, tools/install-deps.sh)"

# start NAME DATA: pushsvc on DATA, cleartext on a free port; sets $origin.
start() {
    # max_inflight above anything the test queues: a drain then gets every message at once.
    printf '[server]\nlisten = "127.0.0.1:0"\n[store]\npath = "%s"\n[delivery]\nmax_inflight = 5000\n' \
        "$2" >"$work/$1.toml"
    "$bin/pushsvc" --config "$work/$1.toml" --ready-file "$work/$1.ready" >"$work/$1.log" 2>&1 &
    pids+=($!)
    wait_for_file "$work/$1.ready" "${pids[-1]}" || fail "$1 not ready"
    origin=$(sed -E 's/.*"origin":"([^"]+)".*/\1/' "$work/$1.ready")
}
stop_last() {
    kill -TERM "${pids[-1]}"
    wait "${pids[-1]}" || fail "pushsvc exited non-zero"
    unset 'pids[-1]'
}
subscribe() {
    curl -sS -D "$work/sub.h" -o /dev/null -X POST "$origin/subscribe" || fail "subscribe"
    sub_path=$(grep -i '^location:' "$work/sub.h" | awk '{print $2}' | tr -d '\r' | sed -E 's|^https?://[^/]+||')
    push_path=$(grep -i 'rel="urn:ietf:params:push"' "$work/sub.h" | sed -E 's/.*<([^>]+)>.*/\1/' | sed -E 's|^https?://[^/]+||')
    [ -n "$sub_path" ] && [ -n "$push_path" ] || fail "subscribe: $(cat "$work/sub.h")"
}
# An aes128gcm-shaped body (RFC 8188 header: salt, rs 4096, a 65-byte key id) of 2 KB: large
# enough that RocksDB keeps it in a blob file, which the backup must carry too.
head -c 16 /dev/urandom >"$work/body.bin"
printf '\x00\x00\x10\x00\x41\x04' >>"$work/body.bin"
head -c 2100 /dev/urandom >>"$work/body.bin"
push() {  # push PATH -> status
    curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 86400' \
        -H 'Content-Encoding: aes128gcm' --data-binary @"$work/body.bin" "$origin$1"
}
# drained PATH: number of messages a monitoring drain gets (PUSH_PROMISEs, each with its body).
drained() {
    timeout 20 nghttp -nv -H 'prefer: wait=0' "$origin$1" >"$work/nghttp.out" 2>&1 || fail "nghttp drain $1"
    grep -q ':status: 200\|:status: 204' "$work/nghttp.out" || fail "drain did not end: $(tail "$work/nghttp.out")"
    grep -c 'recv PUSH_PROMISE' "$work/nghttp.out" || true
}

start live "$work/data"
subscribe; sub1=$sub_path; push1=$push_path
for i in $(seq 30); do [ "$(push "$push1")" = 201 ] || fail "push $i"; done
subscribe; sub2=$sub_path; push2=$push_path

# A sender keeps pushing to the second subscription during the backup; it counts the pushes
# it started and those answered 201.
: >"$work/started"; : >"$work/accepted"
(
    for i in $(seq 4000); do
        [ -e "$work/stop" ] && break
        echo "$i" >>"$work/started"
        [ "$(push "$push2")" = 201 ] && echo "$i" >>"$work/accepted"
    done
) &
sender=$!
wait_for_file "$work/accepted" "$sender" || fail "the sender did not get going"
accepted_before=$(wc -l <"$work/accepted")
"$bin/pushsvc" backup --config "$work/live.toml" "$work/backup" >"$work/backup.out" 2>&1 ||
    fail "backup: $(cat "$work/backup.out")"
started_by_end=$(wc -l <"$work/started")
touch "$work/stop"; wait "$sender" || true
grep -q "from the running service" "$work/backup.out" || fail "not a hot backup: $(cat "$work/backup.out")"
echo "ok: $(cat "$work/backup.out")"
[ -s "$work/backup/token_keys" ] && [ -s "$work/backup/db/CURRENT" ] || fail "backup lacks db or token_keys"
[ -z "$(ls -A "$work/data/backups" 2>/dev/null)" ] || fail "staging folder left in the store"
total_sent=$(wc -l <"$work/accepted")
stop_last

# Restore into a new data folder, as docs/operations.md says, and serve from it.
mkdir "$work/restored"
cp -a "$work/backup/db" "$work/backup/token_keys" "$work/restored/"
start restored "$work/restored"
n1=$(drained "$sub1")
[ "$n1" = 30 ] || fail "restored: $n1 of the 30 messages pushed before the backup"
n2=$(drained "$sub2")
[ "$n2" -ge "$accepted_before" ] && [ "$n2" -le "$started_by_end" ] ||
    fail "restored: $n2 messages of the concurrent sender, expected $accepted_before..$started_by_end"
echo "ok: restored 30 + $n2 messages (sender: $accepted_before accepted before, $started_by_end started by the end, $total_sent in all)"
[ "$(push "$push1")" = 201 ] || fail "an endpoint minted before the backup is refused after the restore"
echo "ok: endpoints minted before the backup still work after the restore"
stop_last

# With no service running the command opens the store itself.
"$bin/pushsvc" backup --config "$work/live.toml" "$work/cold" >"$work/cold.out" 2>&1 ||
    fail "cold backup: $(cat "$work/cold.out")"
grep -q "with the service stopped" "$work/cold.out" || fail "cold backup: $(cat "$work/cold.out")"
echo "ok: $(cat "$work/cold.out")"
# DIR must be new or empty.
status=0
"$bin/pushsvc" backup --config "$work/live.toml" "$work/cold" >"$work/again.out" 2>&1 || status=$?
[ "$status" -ne 0 ] && grep -q "exists and is not empty" "$work/again.out" ||
    fail "backup into a non-empty folder: $status $(cat "$work/again.out")"
echo "ok: a non-empty DIR is refused"
