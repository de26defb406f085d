#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages. Idempotent: does nothing
# (and needs no network) when everything is already installed.
set -euo pipefail
packages=(
  cmake g++ make pkg-config
  libuv1-dev libssl-dev libtoml11-dev prometheus-cpp-dev nlohmann-json3-dev catch2 node-llhttp
  python3 python3-pytest curl openssl mandoc
)
[ "${EBB_SETUP_EXTRA:-}" ] && packages+=(${EBB_SETUP_EXTRA})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
