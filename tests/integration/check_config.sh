#!/usr/bin/env bash
# `pushsvc --version` and `pushsvc check-config FILE`: the version is the CMake project's (plus
# git describe in a checkout); check-config prints the effective configuration as TOML that
# parses, with the environment applied and secrets masked, and refuses a bad file, a bad
# token key or an unloadable certificate with one line on stderr and a non-zero exit, without
# creating the store.
# Usage: check_config.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1; src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --version
project_version=$(sed -n 's/^project(pushsvc VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
[ -n "$project_version" ] || fail "no VERSION in project()"
version=$("$bin/pushsvc" --version)
case "$version" in
    "pushsvc $project_version"|"pushsvc $project_version (git "*")") ;;
    *) fail "--version printed '$version', expected pushsvc $project_version" ;;
esac
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    commit=$(git -C "$src" rev-parse --short=7 HEAD)
    case "$version" in *"$commit"*) ;; *) fail "--version '$version' lacks the commit $commit" ;; esac
fi
echo "ok: --version -> $version"

# A good config: effective values, environment applied, secrets masked, valid TOML.
key1=$(head -c 32 /dev/urandom | basenc --base64url | tr -d =)
key2=$(head -c 32 /dev/urandom | basenc --base64url | tr -d =)
cat >"$work/good.toml" <<TOML
profile = "strict"
[server]
listen = "127.0.0.1:0"
public_url = "https://operator:hunter2@push.example"
[push]
token_keys = ["$key1", "$key2"]
[store]
path = "$work/data"
TOML
status=0
PUSHSVC__PUSH__MAX_QUEUED_PER_UA=77 "$bin/pushsvc" check-config "$work/good.toml" \
    >"$work/good.out" 2>"$work/good.err" || status=$?
[ "$status" -eq 0 ] || fail "good config refused ($status): $(cat "$work/good.err")"
[ ! -s "$work/good.err" ] || fail "stderr not empty: $(cat "$work/good.err")"
for secret in "$key1" "$key2" hunter2; do
    ! grep -qF -- "$secret" "$work/good.out" || fail "secret $secret printed"
done
# Parsed by an independent TOML reader (Python's tomllib), values checked by key.
python3 - "$work/good.out" "$work/data" <<'PY' || fail "check-config output: $(cat "$work/good.out")"
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))
assert c["profile"] == "strict", c["profile"]
assert c["server"]["listen"] == "127.0.0.1:0"
assert c["server"]["public_url"] == "https://operator:********@push.example", c["server"]["public_url"]
assert c["push"]["token_keys"] == ["********", "********"], c["push"]["token_keys"]
assert c["push"]["max_queued_per_ua"] == 77                    # from the environment
assert c["store"]["path"] == sys.argv[2]
assert c["store"]["sync"] is False and c["limits"]["max_body_bytes"] == 4352   # defaults
assert c["log"]["level"] == "info"
PY
[ ! -e "$work/data" ] || fail "check-config created the store folder"
echo "ok: good config printed as TOML, secrets masked"

# Cluster mode (docs/cluster.md): the shared secret is masked like the others.
cluster_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$work/cluster.toml" <<TOML
[store]
path = "$work/data"
backend = "postgres"
[store.postgres]
dsn = "host=db.internal dbname=pushsvc"
[cluster]
listen = "10.0.0.5:8081"
node_id = "node-5"
secret = "$cluster_secret"
TOML
"$bin/pushsvc" check-config "$work/cluster.toml" >"$work/cluster.out" 2>"$work/cluster.err" ||
    fail "cluster config refused: $(cat "$work/cluster.err")"
! grep -qF -- "$cluster_secret" "$work/cluster.out" || fail "cluster.secret printed"
python3 - "$work/cluster.out" <<'PY' || fail "check-config output: $(cat "$work/cluster.out")"
import sys, tomllib
c = tomllib.load(open(sys.argv[1], "rb"))["cluster"]
assert c == {"listen": "10.0.0.5:8081", "advertise": "", "node_id": "node-5",
             "secret": "********"}, c
PY
echo "ok: cluster config printed, cluster.secret masked"

# expect_refused NAME EXPECTED_TEXT: check-config on $work/NAME.toml exits non-zero with one
# line on stderr containing EXPECTED_TEXT and nothing on stdout.
expect_refused() {
    local name=$1 expected=$2 status=0
    "$bin/pushsvc" check-config "$work/$name.toml" >"$work/$name.out" 2>"$work/$name.err" ||
        status=$?
    [ "$status" -ne 0 ] || fail "$name: exit status 0"
    [ ! -s "$work/$name.out" ] || fail "$name: printed a config: $(cat "$work/$name.out")"
    [ "$(wc -l <"$work/$name.err")" -eq 1 ] || fail "$name: not one line: $(cat "$work/$name.err")"
    grep -qF -- "$expected" "$work/$name.err" || fail "$name: '$expected' not in: $(cat "$work/$name.err")"
    echo "ok: $name -> $(cat "$work/$name.err")"
}
printf '[store]\npath = "%s/data"\nsynk = true\n' "$work" >"$work/typo.toml"
expect_refused typo "config: unknown key 'store.synk' (did you mean 'store.sync'?)"
printf '[push]\ntoken_keys = ["short"]\n' >"$work/badkey.toml"
expect_refused badkey "config: push.token_keys entries must be base64url of 32 bytes"
# A certificate and a key that do not belong together (two self-signed pairs).
for n in a b; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=$n \
        -keyout "$work/$n.key" -out "$work/$n.pem" 2>/dev/null
done
printf '[server]\ntls_listen = "127.0.0.1:0"\ntls_cert = "%s"\ntls_key = "%s"\n' \
    "$work/a.pem" "$work/b.key" >"$work/mismatch.toml"
expect_refused mismatch "TLS certificate/key $work/a.pem $work/b.key"
printf '[server]\ntls_listen = "127.0.0.1:0"\ntls_cert = "%s"\ntls_key = "%s"\n' \
    "$work/a.pem" "$work/a.key" >"$work/tlsok.toml"
"$bin/pushsvc" check-config "$work/tlsok.toml" >/dev/null || fail "matching cert and key refused"
echo "ok: matching certificate and key accepted"
# Missing file: the loader's own message.
status=0
"$bin/pushsvc" check-config "$work/absent.toml" >/dev/null 2>"$work/absent.err" || status=$?
[ "$status" -ne 0 ] && grep -qF "config file '$work/absent.toml'" "$work/absent.err" ||
    fail "absent file: $status $(cat "$work/absent.err")"
echo "ok: absent file refused"
