#!/usr/bin/env bash
# Configures and builds one build tree. Usage: scripts/build.sh [normal|asan]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind="${1:-normal}"
case "$kind" in
  normal) dir="$root/build"; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)   dir="$root/build-asan"; flags=(-DCMAKE_BUILD_TYPE=Debug -DEBB_SANITIZE=ON) ;;
  *) echo "usage: $0 [normal|asan]" >&2; exit 2 ;;
esac
jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
