#!/usr/bin/env bash
# Soak test of ebb-lb (not part of CI): wrk at ~2k req/s through ebb-lb for 30 min (--duration to
# change) with health flaps, SIGHUP reloads, admin API add/remove and backend crashes; RSS and fds
# sampled every 10 s. Needs a built tree (scripts/build.sh) and wrk. Everything is in soak.py.
#   nice -n 5 scripts/soak.sh [--duration 30m] [--build-dir build] [--workdir DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v wrk >/dev/null || { echo "soak: wrk not found (scripts/setup.sh installs it)" >&2; exit 2; }
exec python3 "$here/soak.py" "$@"
