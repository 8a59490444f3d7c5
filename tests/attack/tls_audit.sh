#!/usr/bin/env bash
# TLS audit of pushsvc's TLS listener with testssl.sh (Debian package testssl.sh): only TLS 1.2
# and 1.3 offered; no NULL, anonymous, EXPORT, LOW, RC4, 3DES/IDEA or CBC suites (AEAD only);
# no client-initiated renegotiation; no TLS compression (CRIME). Loopback only;
# only the checks needed (-p protocols, -s cipher categories, -R renegotiation, -C
# compression), read from testssl.sh's JSON output.
# Usage: tls_audit.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$1
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
source "$root/tests/integration/lib.sh"  # wait_for_file
command -v testssl >/dev/null || fail "testssl missing (Debian package testssl.sh, tools/install-deps.sh)"

"$root/tools/dev-cert.sh" "$work/tls" >/dev/null
cat >"$work/pushsvc.toml" <<TOML
[server]
listen = ""
tls_listen = "127.0.0.1:0"
tls_cert = "$work/tls/cert.pem"
tls_key = "$work/tls/key.pem"
[store]
path = "$work/data"
TOML
"$bin/pushsvc" --config "$work/pushsvc.toml" --ready-file "$work/ready.json" >"$work/pushsvc.log" 2>&1 &
pid=$!
wait_for_file "$work/ready.json" "$pid" || fail "pushsvc not ready"
tls=$(sed -E 's/.*"tls":"([^"]+)".*/\1/' "$work/ready.json")

# --warnings off: no interactive questions; --connect-timeout/--openssl-timeout: a hang is a
# failure, not a stuck test.
testssl --quiet --color 0 --warnings off --connect-timeout 5 --openssl-timeout 5 \
    -p -s -R -C --jsonfile "$work/out.json" "$tls" >"$work/testssl.txt" 2>&1 ||
    true  # its exit status counts findings of any severity; the JSON is judged below
[ -s "$work/out.json" ] || { cat "$work/testssl.txt"; fail "testssl wrote no JSON"; }

# "id finding" per line, from the flat JSON array.
node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const f of r) console.log(`${f.id}\t${f.finding}`);
' "$work/out.json" >"$work/findings.tsv"
finding() { awk -F'\t' -v id="$1" '$1 == id { print $2; found = 1 } END { if (!found) print "absent" }' \
    "$work/findings.tsv"; }
expect() {  # ID REGEX: the finding of ID matches REGEX
    local got; got=$(finding "$1")
    [[ $got =~ $2 ]] || { echo "--- testssl output"; cat "$work/testssl.txt"; fail "$1: '$got' (want /$2/)"; }
    echo "ok: $1: $got"
}
expect SSLv2 '^not offered'
expect SSLv3 '^not offered'
expect TLS1 '^not offered'
expect TLS1_1 '^not offered'
expect TLS1_2 '^offered'
expect TLS1_3 '^offered'
expect cipherlist_NULL '^not offered'
expect cipherlist_aNULL '^not offered'
expect cipherlist_EXPORT '^not offered'
expect cipherlist_LOW '^not offered'
expect cipherlist_3DES_IDEA '^not offered'
expect cipherlist_AVERAGE '^not offered'     # "obsolete CBC": CBC suites with SHA-1 or SHA-2 MACs
expect cipherlist_STRONG '^offered'          # AEAD only
# RFC 5746 secure renegotiation *indication* is what a server must advertise (it closes the
# 2009 renegotiation attack); renegotiation itself is refused: a client asking for it gets no
# new handshake (SSL_OP_NO_RENEGOTIATION), which testssl reports as not vulnerable.
expect secure_renego '^supported'
expect secure_client_renego '^not vulnerable'
expect CRIME_TLS '^not vulnerable'
kill -0 "$pid" 2>/dev/null || fail "pushsvc died during the audit"
echo "PASS: TLS 1.2+ only, AEAD suites only, no client renegotiation, no compression"
