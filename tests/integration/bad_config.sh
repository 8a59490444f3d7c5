#!/usr/bin/env bash
# pushsvc refuses a bad configuration at startup: a non-zero exit and one log line naming the
# key, before anything is opened or bound (a typo'd key, a zero interval, a value that does not
# fit its field, a bad or misspelt environment override). The example config starts.
# Usage: bad_config.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1; src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect_refused NAME EXPECTED_TEXT [VAR=VALUE ...]: runs pushsvc on $work/NAME.toml (with the
# given environment) and checks the exit status and the single line of output.
expect_refused() {
    local name=$1 expected=$2; shift 2
    local status=0
    env "$@" timeout 10 "$bin/pushsvc" --config "$work/$name.toml" >"$work/$name.out" 2>&1 ||
        status=$?
    [ "$status" -ne 0 ] || fail "$name: exit status 0"
    [ "$status" -ne 124 ] || fail "$name: still running after 10 s (timeout)"
    [ "$(wc -l <"$work/$name.out")" -eq 1 ] || fail "$name: not one line: $(cat "$work/$name.out")"
    grep -qF -- "$expected" "$work/$name.out" || fail "$name: '$expected' not in: $(cat "$work/$name.out")"
    [ ! -e "$work/data" ] || fail "$name: the store folder was created before the config was checked"
    echo "ok: $name -> $(cat "$work/$name.out")"
}

printf '[store]\npath = "%s/data"\nsynk = true\n' "$work" >"$work/typo.toml"
expect_refused typo "config: unknown key 'store.synk' (did you mean 'store.sync'?)"

printf '[store]\npath = "%s/data"\nsweep_batch = 0\n' "$work" >"$work/zero.toml"
expect_refused zero "config key 'store.sweep_batch': must be between 1 and 1000000, got 0"

printf '[store]\npath = "%s/data"\n[delivery]\nmax_inflight = 4294967296\n' "$work" >"$work/wide.toml"
expect_refused wide "config key 'delivery.max_inflight': must be between 1 and 4294967295, got 4294967296"

printf '[store]\npath = "%s/data"\n' "$work" >"$work/env.toml"
expect_refused env "config key 'limits.read_timeout_ms': must be between 1 and 4294967295, got 0 (from PUSHSVC__LIMITS__READ_TIMEOUT_MS)" \
    PUSHSVC__LIMITS__READ_TIMEOUT_MS=0
cp "$work/env.toml" "$work/envtypo.toml"
expect_refused envtypo "config: unknown key 'store.synk' from PUSHSVC__STORE__SYNK" PUSHSVC__STORE__SYNK=1

# Cluster mode needs the shared database and a real secret, said before anything starts; the
# secret is never quoted.
printf '[store]\npath = "%s/data"\n[cluster]\nlisten = "127.0.0.1:0"\nsecret = "%s"\n' "$work" \
    "$(printf 's%.0s' $(seq 40))" >"$work/cluster_rocks.toml"
expect_refused cluster_rocks 'config: cluster.listen needs store.backend = "postgres"'
printf '[store]\npath = "%s/data"\nbackend = "postgres"\n[store.postgres]\ndsn = "host=x"\n[cluster]\nlisten = "127.0.0.1:0"\nsecret = "hunter2"\n' \
    "$work" >"$work/cluster_secret.toml"
expect_refused cluster_secret "config: cluster.secret must be set, at least 32 characters"
! grep -q hunter2 "$work/cluster_secret.out" || fail "cluster_secret: the secret was quoted"

# The shipped example is accepted: with only the data folder overridden and an address that
# cannot be bound, pushsvc gets past the config and the store and stops at the listener.
status=0
PUSHSVC__STORE__PATH="$work/example-data" PUSHSVC__SERVER__LISTEN="256.0.0.1:0" \
    timeout 10 "$bin/pushsvc" --config "$src/config/pushsvc.example.toml" >"$work/example.out" 2>&1 ||
    status=$?
[ "$status" -ne 124 ] || fail "example: still running after 10 s"
[ "$status" -ne 0 ] || fail "example: bound an unbindable address?"
grep -q "cannot bind listeners" "$work/example.out" || fail "example config refused: $(cat "$work/example.out")"
echo "ok: example config accepted"
