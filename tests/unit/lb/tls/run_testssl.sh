#!/bin/bash
# Runs testssl.sh (Debian package "testssl.sh") against the TLS stack and fails on any
# "NOT ok" finding for protocols, ciphers, forward secrecy, server defaults or known
# vulnerabilities. Findings that only reflect the private test CA (chain of trust, no
# CRL/OCSP URI) are listed but do not fail the run. Takes about two minutes; not part of ctest.
#
#   run_testssl.sh BUILD_DIR            start ebb-tls-test-server with generated ECDSA + RSA certs
#   run_testssl.sh --target HOST:PORT   test an already running listener (e.g. ebb-lb)
set -euo pipefail

command -v testssl >/dev/null || { echo "testssl not installed (apt-get install testssl.sh)" >&2; exit 2; }
work=$(mktemp -d)
server_pid=""
cleanup() { [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if [[ "${1:-}" == "--target" ]]; then
  target=$2
else
  build=${1:?usage: run_testssl.sh BUILD_DIR | --target HOST:PORT}
  cd "$work"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout root.key -out root.pem \
    -subj "/CN=ebb testssl root" -days 30 -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:example.com,DNS:www.example.com\nextendedKeyUsage=serverAuth\n' > leaf.ext
  for kind in ec rsa; do
    if [[ $kind == ec ]]; then newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); else newkey=(-newkey rsa:2048); fi
    openssl req -new "${newkey[@]}" -nodes -keyout $kind.key -out $kind.csr -subj "/CN=example.com" 2>/dev/null
    openssl x509 -req -in $kind.csr -CA root.pem -CAkey root.key -CAcreateserial -out $kind.pem -days 30 \
      -extfile leaf.ext 2>/dev/null
  done
  chmod 600 ./*.key
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$build/bin/ebb-tls-test-server" --port "$port" --cert ec.pem --key ec.key --sni rsa.pem,rsa.key \
    > server.out 2> server.err &
  server_pid=$!
  for _ in $(seq 100); do grep -q ready server.out 2>/dev/null && break; sleep 0.1; done
  target=127.0.0.1:$port
fi

host=${target%:*}
port=${target##*:}
testssl --quiet --color 0 --warnings off -p -s -f -U -S -P --ip "$host" "https://example.com:$port" \
  | tee "$work/testssl.txt"

echo
echo "=== NOT ok findings ==="
grep -n "NOT ok" "$work/testssl.txt" || true
fatal=$(grep "NOT ok" "$work/testssl.txt" | grep -v -e "Chain of trust" -e "neither CRL nor OCSP URI" || true)
if [[ -n "$fatal" ]]; then
  echo "FAIL: findings beyond the private test CA:" >&2
  echo "$fatal" >&2
  exit 1
fi
echo "PASS: no NOT ok findings for protocols, ciphers or vulnerabilities"
