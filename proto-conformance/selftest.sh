#!/usr/bin/env bash
# The conformance suite's own test: a suite that cannot fail is worthless. Runs
# webpush-conformance against a pushsvc whose test double breaks rules on purpose
# ([testdouble] break, pushsvc/testdouble/testdouble.h) and asserts that exactly the rows
# guarding those rules fail, that rows it did not break still pass, and that the exit status
# reports the failed MUSTs.
#   proto-conformance/selftest.sh BUILD_DIR
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# rule -> the checklist rows that must notice it
breaks="ttl-required,location,www-authenticate,413-at-4096,topic-length"
must_fail="R8030-5.2-b R8030-5-b R8292-3-b R8292-4.2-b R8030-7.2-e R8030-5.4-b"
must_pass="R8030-4-a R8030-5.2-c R8030-5.2-e R8030-5.3-h R8292-4.2-d"
only=$(echo $must_fail $must_pass | tr ' ' ',')

PUSHSVC__TESTDOUBLE__BREAK=$breaks "$root/proto-conformance/run-against-pushsvc.sh" \
    "$build" compat "$tmp/broken.md" --only "$only" --report "$tmp/broken.json" \
    >"$tmp/broken.log" 2>&1
status=$?
verdict() { grep -o "\"id\":\"$1\"[^}]*\"verdict\":\"[a-z/]*\"" "$tmp/broken.json" |
    sed 's/.*"verdict":"\([^"]*\)"/\1/'; }
errors=0
[ -s "$tmp/broken.json" ] || { echo "no report written"; cat "$tmp/broken.log"; exit 1; }
for id in $must_fail; do
    v=$(verdict "$id")
    if [ "$v" = fail ]; then echo "ok: $id fails against the broken rule"
    else echo "FAIL: $id should fail with [testdouble] break = $breaks, got '$v'"; errors=1; fi
done
for id in $must_pass; do
    v=$(verdict "$id")
    if [ "$v" = pass ]; then echo "ok: $id still passes"
    else echo "FAIL: $id should pass (rule not broken), got '$v'"; errors=1; fi
done
if [ $status -eq 0 ]; then echo "FAIL: exit status 0 although MUSTs failed"; errors=1
else echo "ok: exit status $status"; fi
[ $errors -eq 0 ] || cat "$tmp/broken.log"
exit $errors
