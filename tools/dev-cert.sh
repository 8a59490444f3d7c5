#!/usr/bin/env bash
# Makes a local development CA and a server certificate for localhost/127.0.0.1 signed by it,
# under DIR (default ./data/tls). Trust DIR/ca.pem (not the server cert) in browsers and
# senders: NODE_EXTRA_CA_CERTS=DIR/ca.pem, Firefox: Settings > Certificates > Import.
# Existing files are kept, so the CA stays trusted across runs.
set -euo pipefail
dir=${1:-./data/tls}
mkdir -p "$dir"
cd "$dir"
if [ -s cert.pem ] && [ -s key.pem ] && [ -s ca.pem ]; then exit 0; fi
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj "/CN=pushsvc development CA" -keyout ca-key.pem -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout key.pem -out server.csr 2>/dev/null
cat > server.ext <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 825 \
    -extfile server.ext -out cert.pem 2>/dev/null
rm -f server.csr server.ext
chmod 644 ca.pem cert.pem
echo "dev-cert: created $(pwd)/cert.pem signed by $(pwd)/ca.pem"
