#!/usr/bin/env bash
# Quick start: installs what is missing, builds pushsvc (Release) and runs it with
# config/dev.toml: RocksDB under ./data, cleartext on 127.0.0.1:8080, TLS on 127.0.0.1:8443
# with a local development certificate. Extra arguments go to pushsvc.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/install-deps.sh
mkdir -p build
echo "Building pushsvc (Release) in build/ ..."
if ! tools/build.sh build Release -- pushsvc pushctl >build/build.log 2>&1; then
    tail -n 40 build/build.log
    echo "build failed; full log in build/build.log"
    exit 1
fi
tools/dev-cert.sh ./data/tls

cat <<MSG

pushsvc is starting with config/dev.toml (data in ./data).
  Subscribe (RFC 8030):  curl -si -X POST http://127.0.0.1:8080/subscribe
  Ready to paste (subscribe, then push to the new endpoint over TLS):
    EP=\$(curl -s -X POST http://127.0.0.1:8080/subscribe | sed -E 's/.*"endpoint":"([^"]+)".*/\\1/')
    curl -si --cacert data/tls/ca.pem -X POST -H 'TTL: 60' "\$EP"
  With pushctl:          build/bin/pushctl --help
  TLS listener:          https://127.0.0.1:8443 (trust ./data/tls/ca.pem,
                         e.g. NODE_EXTRA_CA_CERTS=$root/data/tls/ca.pem)
  Firefox:               about:config -> dom.push.serverURL = wss://localhost:8443/
  Metrics:               http://127.0.0.1:8080/metrics
Stop with Ctrl-C.

MSG
exec build/bin/pushsvc --config config/dev.toml "$@"
