#!/usr/bin/env bash
# Installs what is missing, builds the normal and the sanitizer (ASan+UBSan) trees, and runs
# every test through CTest in both. Exit status is non-zero if anything fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
jobs="$(nproc 2>/dev/null || echo 2)"
status=0
for kind in normal asan; do
  echo "=== build ($kind)"
  "$root/scripts/build.sh" "$kind"
done
export PATH="$root/.cache/tools:$PATH"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for dir in build build-asan; do
  echo "=== test ($dir)"
  ctest --test-dir "$root/$dir" --output-on-failure -j "$jobs" --timeout 300 || status=1
done
# libFuzzer (clang-14) on every fuzz target for a bounded time; the corpora already ran above
# as the fuzz_replay:* tests. ~75 s build + 3 rounds of 30 s on 2 cores (tests/fuzz/README.md).
echo "=== fuzz"
"$root/scripts/fuzz.sh" "${EBB_CI_FUZZ_SECONDS:-30}" || status=1
exit $status
