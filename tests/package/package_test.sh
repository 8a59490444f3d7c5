#!/usr/bin/env bash
# The Debian package end to end (needs root and dpkg; exit 77 = skipped): tools/package.sh
# builds it from this build tree, lintian reports no error, `systemd-analyze verify` accepts
# the installed unit, `dpkg -i` installs it (user, conffile), the installed /usr/bin/pushsvc
# runs with /etc/pushsvc/pushsvc.toml as the unit runs it (check-config first, then the
# service, as the pushsvc user on its state directory) and a message goes through it; then
# `dpkg -r` removes the program but keeps configuration and data, and `dpkg -P` removes
# everything.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1; src=$2
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (dpkg -i)"; exit 77; }
for tool in dpkg-deb lintian help2man systemd-analyze setpriv nghttp; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool missing (tools/install-deps.sh)"; exit 77; }
done
if dpkg-query -W -f='${Status}' pushsvc 2>/dev/null | grep -q installed; then
    echo "SKIP: a pushsvc package is already installed here; not touching it"; exit 77
fi
work=$(mktemp -d)
pid=""
cleanup() {
    [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
    # Never leave the package behind on the machine, whatever failed.
    dpkg_locked -P pushsvc >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/pushsvc.log" ] && tail -n 20 "$work/pushsvc.log"; exit 1; }
source "$src/tests/integration/lib.sh"  # wait_for_file
# dpkg ARGS..., waiting (5 min at most) while another dpkg or apt holds the lock: on a shared
# machine someone may be installing packages right now.
dpkg_locked() {
    local i out
    for i in $(seq 300); do
        if out=$(dpkg "$@" 2>&1); then printf '%s\n' "$out"; return 0; fi
        case "$out" in *"lock"*) sleep 1 ;; *) printf '%s\n' "$out"; return 1 ;; esac
    done
    printf '%s\n' "$out"; return 1
}

# Build.
deb=$(PACKAGE_NO_BUILD=1 "$src/tools/package.sh" "$build" "$work") || fail "tools/package.sh"
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ "$(basename "$deb")" = "pushsvc_${version}_$(dpkg --print-architecture).deb" ] || fail "named $deb"
echo "ok: built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

# lintian: no errors (warnings are printed for the record).
lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.out" 2>&1 ||
    fail "lintian: $(cat "$work/lintian.out")"
echo "ok: lintian reports no error$( [ -s "$work/lintian.out" ] && printf ', but:\n%s' "$(cat "$work/lintian.out")")"

# Contents.
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/bin/pushsvc ./usr/bin/pushctl ./usr/bin/webpush-conformance \
    ./etc/pushsvc/pushsvc.toml ./lib/systemd/system/pushsvc.service ./usr/share/doc/pushsvc/copyright; do
    grep -q " $f\$" "$work/contents" || fail "$f not in the package"
done
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version"

# Install.
dpkg_locked -i "$deb" >"$work/dpkg-i.out" 2>&1 || fail "dpkg -i: $(cat "$work/dpkg-i.out")"
getent passwd pushsvc >/dev/null || fail "no pushsvc user"
dpkg-query -W -f='${Conffiles}\n' pushsvc | grep -q '/etc/pushsvc/pushsvc.toml' || fail "not a conffile"
/usr/bin/pushsvc --version | grep -q "^pushsvc $version" || fail "installed --version"
unit=/lib/systemd/system/pushsvc.service
systemd-analyze verify "$unit" >"$work/verify.out" 2>&1 || fail "systemd-analyze verify: $(cat "$work/verify.out")"
! grep -v '^$' "$work/verify.out" | grep -q . || fail "systemd-analyze verify complains: $(cat "$work/verify.out")"
echo "ok: installed; systemd-analyze verify accepts the unit"
for setting in 'User=pushsvc' 'StateDirectory=pushsvc' 'LimitNOFILE=1048576' 'ProtectSystem=strict' \
    'NoNewPrivileges=yes' 'AmbientCapabilities=CAP_NET_BIND_SERVICE' 'Restart=on-failure' \
    'ExecReload=/bin/kill -HUP $MAINPID' \
    'ExecStartPre=/usr/bin/pushsvc check-config /etc/pushsvc/pushsvc.toml'; do
    grep -qxF -- "$setting" "$unit" || fail "unit lacks $setting"
done

# Run it the way the unit does: the state directory systemd would create, then ExecStartPre
# and ExecStart as the pushsvc user. Only the listen port is overridden (to a free one: 8080
# may be taken on a shared machine), through the environment as an operator's drop-in would.
grep -qx 'path = "/var/lib/pushsvc"' /etc/pushsvc/pushsvc.toml || fail "store.path in the shipped config"
grep -qx 'listen = "127.0.0.1:8080"' /etc/pushsvc/pushsvc.toml || fail "shipped listener not on loopback"
install -d -o pushsvc -g pushsvc -m 0700 /var/lib/pushsvc
chmod 0711 "$work"  # mktemp made it 0700: the service user must reach run/
install -d -o pushsvc -g pushsvc -m 0700 "$work/run"
as_service() { setpriv --reuid=pushsvc --regid=pushsvc --init-groups --no-new-privs "$@"; }
as_service /usr/bin/pushsvc check-config /etc/pushsvc/pushsvc.toml >/dev/null || fail "ExecStartPre"
# setpriv itself, not the function: it execs pushsvc, so $! is the service's own PID.
PUSHSVC__SERVER__LISTEN=127.0.0.1:0 setpriv --reuid=pushsvc --regid=pushsvc --init-groups --no-new-privs \
    /usr/bin/pushsvc --config /etc/pushsvc/pushsvc.toml --ready-file "$work/run/ready.json" \
    >"$work/pushsvc.log" 2>&1 &
pid=$!
wait_for_file "$work/run/ready.json" "$pid" || fail "installed pushsvc not ready"
origin=$(sed -E 's/.*"origin":"([^"]+)".*/\1/' "$work/run/ready.json")
curl -sS -D "$work/sub.h" -o /dev/null -X POST "$origin/subscribe" || fail "subscribe"
sub=$(grep -i '^location:' "$work/sub.h" | awk '{print $2}' | tr -d '\r')
push=$(grep -i 'rel="urn:ietf:params:push"' "$work/sub.h" | sed -E 's/.*<([^>]+)>.*/\1/')
[ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'TTL: 60' "$push")" = 201 ] || fail "push"
timeout 10 nghttp -nv -H 'prefer: wait=0' "$sub" >"$work/nghttp.out" 2>&1 || fail "drain"
[ "$(grep -c 'recv PUSH_PROMISE' "$work/nghttp.out")" = 1 ] || fail "the message did not come back"
[ "$(stat -c %U /var/lib/pushsvc/db/CURRENT)" = pushsvc ] || fail "store not owned by pushsvc"
kill -TERM "$pid"
status=0; wait "$pid" || status=$?; pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
echo "ok: the installed service ran as pushsvc on /var/lib/pushsvc and delivered a message"

# Remove: program gone, configuration and data kept.
dpkg_locked -r pushsvc >"$work/dpkg-r.out" 2>&1 || fail "dpkg -r: $(cat "$work/dpkg-r.out")"
[ ! -e /usr/bin/pushsvc ] && [ ! -e /usr/bin/pushctl ] && [ ! -e "$unit" ] || fail "files left after dpkg -r"
[ -f /etc/pushsvc/pushsvc.toml ] && [ -d /var/lib/pushsvc ] || fail "dpkg -r removed configuration or data"
# Purge: everything gone.
dpkg_locked -P pushsvc >"$work/dpkg-p.out" 2>&1 || fail "dpkg -P: $(cat "$work/dpkg-p.out")"
[ ! -e /etc/pushsvc ] && [ ! -e /var/lib/pushsvc ] && [ ! -e /usr/share/doc/pushsvc ] || fail "files left after purge"
! dpkg-query -W -f='${Status}' pushsvc 2>/dev/null | grep -q installed || fail "still installed"
echo "ok: dpkg -r keeps /etc/pushsvc and /var/lib/pushsvc, dpkg -P removes them"
