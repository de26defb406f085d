#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages. Idempotent: does nothing
# (and needs no network) when everything is already installed.
set -euo pipefail
packages=(
  cmake g++ make pkg-config
  libuv1-dev libssl-dev libtoml11-dev prometheus-cpp-dev nlohmann-json3-dev catch2 node-llhttp
  python3 python3-pytest curl openssl mandoc
  chromium chromium-driver python3-selenium  # tests/integration/test_dashboard.py
  systemd dpkg-dev lintian man-db            # test_systemd_units.py, test_packaging.py
  valgrind wrk                               # test_valgrind.py, scripts/soak.sh
  clang-14 libclang-rt-14-dev                # scripts/fuzz.sh (libFuzzer, ASan, UBSan)
)
[ "${EBB_SETUP_EXTRA:-}" ] && packages+=(${EBB_SETUP_EXTRA})
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
updated=""
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  updated=1
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# promtool validates /metrics in the tests. It ships in Debian's prometheus package, whose
# install would also start a Prometheus server: unpack just promtool into .cache/tools instead.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.cache/tools"
if ! command -v promtool >/dev/null 2>&1 && [ ! -x "$tools/promtool" ]; then
  echo "setup: unpacking promtool from Debian's prometheus package into $tools" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  [ -n "$updated" ] || $sudo apt-get update -qq
  (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) \
    || { echo "setup: could not download the prometheus package" >&2; exit 1; }
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
  mkdir -p "$tools"
  install -m 0755 "$tmp/x/usr/bin/promtool" "$tools/promtool"
fi
