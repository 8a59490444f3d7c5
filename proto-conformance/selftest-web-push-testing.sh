#!/usr/bin/env bash
# The conformance suite against a deliberately non-conforming target: npm web-push-testing
# 1.2.2 (tests/e2e/node_modules, `npm ci --prefix tests/e2e`), a plain-HTTP test double that
# skips many rules (it checks neither VAPID nor encryption headers strictly). Subscriptions come from its own API
# (--subscribe-via web-push-testing); rows that need RFC 8030 subscribe or monitoring are
# skipped with that reason. Asserts that the rows guarding the rules it is known to break fail,
# that rows it does follow pass, and that the suite exits non-zero.
#   proto-conformance/selftest-web-push-testing.sh BUILD_DIR
# Exit 77 (skipped) without node or the npm package.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
server="$root/tests/e2e/node_modules/web-push-testing/src/bin/server.js"
command -v node >/dev/null || { echo "skip: node not found"; exit 77; }
[ -f "$server" ] || { echo "skip: run npm ci --prefix tests/e2e"; exit 77; }
tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
node "$server" "$port" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "running" "$tmp/server.log" && break; sleep 0.1; done

# What web-push-testing skips -> the rows that must notice it.
#   no RFC 8030 subscribe (200 + JSON, no Location/Link)  R8030-4-a
#   201 without Location                                  R8030-5-b
#   no TTL response header for a TTL above any maximum    R8030-5.2-f
#   no Topic handling (33-char topic accepted, no replace) R8030-5.4-b, R8030-5.4-a
#   400 instead of 401 for missing VAPID credentials      R8292-4.2-b
#   400 instead of 403 for a bad signature                R8292-4.2-d
#   no payload-less pushes ("tickles") -> 400             R8030-5-a
must_fail="R8030-4-a R8030-5-b R8030-5.2-f R8030-5.4-b R8030-5.4-a R8292-4.2-b R8292-4.2-d R8030-5-a"
# What it does follow.
must_pass="R8030-5.2-b"
# Rows it cannot run: RFC 8030 monitoring / sets.
must_skip="R8030-6-a R8030-6.1-b"

"$build/bin/webpush-conformance" --target "http://127.0.0.1:$port" \
    --subscribe-via web-push-testing --report "$tmp/wpt.json" >"$tmp/wpt.log" 2>&1
status=$?
[ -s "$tmp/wpt.json" ] || { echo "no report written"; cat "$tmp/wpt.log"; exit 1; }
verdict() { grep -o "\"id\":\"$1\"[^}]*\"verdict\":\"[a-z/]*\"" "$tmp/wpt.json" |
    sed 's/.*"verdict":"\([^"]*\)"/\1/'; }
errors=0
check() {  # expected-verdict ids...
    local want=$1; shift
    for id in "$@"; do
        v=$(verdict "$id")
        if [ "$v" = "$want" ]; then echo "ok: $id $want against web-push-testing"
        else echo "FAIL: $id should be $want against web-push-testing, got '$v'"; errors=1; fi
    done
}
check fail $must_fail
check pass $must_pass
check skipped $must_skip
if [ $status -eq 1 ]; then echo "ok: exit status $status (MUSTs failed)"
else echo "FAIL: exit status $status, expected 1"; errors=1; fi
[ $errors -eq 0 ] || tail -60 "$tmp/wpt.log"
exit $errors
