#!/usr/bin/env bash
# Builds the Debian package pushsvc_<version>_amd64.deb from an existing build tree: its
# binaries are installed stripped with `cmake --install` (no second full build), next to the
# files in packaging/ (systemd unit, the package's /etc/pushsvc/pushsvc.toml, maintainer
# scripts, copyright), and assembled with dpkg-deb. Dependencies come from dpkg-shlibdeps.
# Usage: tools/package.sh [BUILD_DIR [OUT_DIR]]   (defaults: build, dist)
# Prints the path of the .deb.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$root/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Up to date (a no-op when they are), and CMake re-run if the install rules changed. Not with
# PACKAGE_NO_BUILD=1 (the package test): CTest runs it beside tests that use the tree's
# binaries, and a relink (the version changes with every commit) would pull them away.
if [ "${PACKAGE_NO_BUILD:-0}" != 1 ]; then
    ninja -C "$build" pushsvc pushctl webpush-conformance >/dev/null
fi
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || { echo "package: no project version in $build/CMakeCache.txt" >&2; exit 1; }
arch=$(dpkg --print-architecture)
commit=$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo unknown)
# The changelog's date is the commit's, so two builds of one commit give the same package.
date=$(git -C "$root" log -1 --format=%aD 2>/dev/null || date -R)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=$stage/pkg
cmake --install "$build" --prefix "$pkg/usr" --component pushsvc --strip >/dev/null
install -D -m 0644 "$root/packaging/pushsvc.toml" "$pkg/etc/pushsvc/pushsvc.toml"
install -D -m 0644 "$root/packaging/pushsvc.service" "$pkg/lib/systemd/system/pushsvc.service"
doc=$pkg/usr/share/doc/pushsvc
install -D -m 0644 "$root/packaging/copyright" "$doc/copyright"
install -m 0644 "$root/README.md" "$root/docs/operations.md" "$root/config/pushsvc.example.toml" "$doc/"
cat >"$stage/changelog" <<CHANGELOG
pushsvc ($version) unstable; urgency=medium

  * Release $version, built from git $commit.

 -- pushsvc maintainers <pushsvc@example.org>  $date
CHANGELOG
gzip -9n <"$stage/changelog" >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# Manual pages from each program's --help (help2man, tools/install-deps.sh).
man=$pkg/usr/share/man/man1
mkdir -p "$man"
for b in pushsvc:"self-hosted Web Push service" pushctl:"Web Push client for the terminal" \
    webpush-conformance:"Web Push conformance checker for any push service"; do
    name=${b%%:*}
    help2man --no-info --no-discard-stderr --version-string="$version" --name="${b#*:}" \
        "$pkg/usr/bin/$name" | gzip -9n >"$man/$name.1.gz"
    chmod 0644 "$man/$name.1.gz"
done

# Shared-library dependencies of the binaries (dpkg-shlibdeps wants a debian/control).
mkdir -p "$stage/src/debian"
printf 'Source: pushsvc\n\nPackage: pushsvc\nArchitecture: any\n' >"$stage/src/debian/control"
shlibs=$(cd "$stage/src" && dpkg-shlibdeps -O "$pkg"/usr/bin/* 2>/dev/null | sed -n 's/^shlibs:Depends=//p')

mkdir -p "$pkg/DEBIAN"
install -m 0755 "$root/packaging/postinst" "$root/packaging/prerm" "$root/packaging/postrm" "$pkg/DEBIAN/"
echo /etc/pushsvc/pushsvc.toml >"$pkg/DEBIAN/conffiles"
cat >"$pkg/DEBIAN/control" <<CONTROL
Package: pushsvc
Version: $version
Architecture: $arch
Maintainer: pushsvc maintainers <pushsvc@example.org>
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: $shlibs, adduser
Section: net
Priority: optional
Description: self-hosted Web Push service (RFC 8030, 8291, 8292)
 pushsvc is the push service browsers and application servers talk to for
 Web Push: it mints endpoints, checks VAPID, accepts encrypted messages,
 queues them durably in RocksDB and delivers them over HTTP/2 server push
 (RFC 8030) or the WebSocket protocol Firefox uses.
 .
 The package contains the service with a hardened systemd unit, the pushctl
 command-line client and the webpush-conformance checker.
CONTROL
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$pkg/DEBIAN/md5sums" "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles"
deb=$out/pushsvc_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$deb" >/dev/null
echo "$deb"
