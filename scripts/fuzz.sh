#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, -DEBB_FUZZ=ON, ASan+UBSan) in build-fuzz/
# and runs each for a bounded time, two at a time. Exit status is non-zero if any fuzzer found a
# crash, leak, timeout or out-of-memory; the inputs are under build-fuzz/artifacts/<name>/.
#
# Usage: scripts/fuzz.sh [seconds-per-fuzzer] [fuzzer...]     (default: 60 s, all fuzzers)
# Env:   EBB_FUZZ_KEEP_CORPUS=1  keep build-fuzz/work/<name>/corpus from the last run (grows it
#                                instead of starting again from the seeds)
#        EBB_FUZZ_JOBS=N         fuzzers run at the same time (default 2)
# Each fuzzer starts from a scratch copy of tests/fuzz/corpus/<name>/ + regressions/<name>/, so
# the repository's seed corpus is never changed. See tests/fuzz/README.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-60}"
[ $# -gt 0 ] && shift
all=(http_request http_response config prometheus admin_json)
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] || fuzzers=("${all[@]}")
parallel="${EBB_FUZZ_JOBS:-2}"
dir="$root/build-fuzz"
src="$root/tests/fuzz"

for tool in clang-14 clang++-14; do
  command -v "$tool" >/dev/null || { echo "fuzz: $tool not found (scripts/setup.sh installs clang-14 and libclang-rt-14-dev)" >&2; exit 2; }
done

# Per fuzzer: dictionary and largest input (big enough for every seed and for the limits the
# fuzzers set; small enough to keep executions fast).
dict_of() { case "$1" in http_*) echo "$src/dict/http.dict" ;; *) echo "$src/dict/$1.dict" ;; esac; }
max_len_of() { case "$1" in config) echo 16384 ;; admin_json) echo 4096 ;; *) echo 8192 ;; esac; }

echo "=== fuzz: build ($dir)"
start=$(date +%s)
# -O1 without NDEBUG: the product's assertions stay on while fuzzing.
cmake -S "$root" -B "$dir" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DEBB_FUZZ=ON -DEBB_BUILD_TESTS=OFF >/dev/null
targets=()
for f in "${fuzzers[@]}"; do targets+=(--target "fuzz_$f"); done
cmake --build "$dir" -j "$(nproc 2>/dev/null || echo 2)" "${targets[@]}"
echo "=== fuzz: built in $(( $(date +%s) - start )) s; running ${#fuzzers[@]} fuzzers for $secs s each, $parallel at a time"

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

run_one() {
  local name="$1" work="$dir/work/$1" art="$dir/artifacts/$1"
  mkdir -p "$work" "$art"
  rm -f "$art"/*  # inputs of an earlier run (move the ones you keep to tests/fuzz/regressions/)
  [ "${EBB_FUZZ_KEEP_CORPUS:-}" = 1 ] || rm -rf "$work/corpus"
  mkdir -p "$work/corpus"
  find "$src/corpus/$name" "$src/regressions/$name" -maxdepth 1 -type f ! -name '.*' -exec cp -t "$work/corpus" {} +
  local rc=0
  nice -n 10 "$dir/bin/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len_of "$name")" -dict="$(dict_of "$name")" -print_final_stats=1 \
    -artifact_prefix="$art/" "$work/corpus" >"$work/log" 2>&1 || rc=$?
  echo "$rc" >"$work/rc"
}

for f in "${fuzzers[@]}"; do rm -f "$dir/work/$f/rc"; done
running=0
for f in "${fuzzers[@]}"; do
  if [ "$running" -ge "$parallel" ]; then wait -n || true; running=$((running - 1)); fi
  run_one "$f" &
  running=$((running + 1))
done
wait || true

status=0
printf '%-14s %10s %8s %8s %7s %s\n' fuzzer execs cov ft corpus result
for f in "${fuzzers[@]}"; do
  work="$dir/work/$f"
  rc="$(cat "$work/rc" 2>/dev/null || echo 99)"
  done_line="$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$work/log" | tail -n 1 || true)"
  execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$work/log" | tail -n 1)"
  cov="$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$done_line")"
  ft="$(sed -nE 's/.* ft: ([0-9]+) .*/\1/p' <<<"$done_line")"
  corp="$(sed -nE 's/.* corp: ([0-9]+)\/.*/\1/p' <<<"$done_line")"
  result=ok
  if [ "$rc" != 0 ]; then result="FAILED (exit $rc)"; status=1; fi
  printf '%-14s %10s %8s %8s %7s %s\n' "$f" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
  if [ "$rc" != 0 ]; then
    echo "--- $f: last lines of $work/log" >&2
    tail -n 40 "$work/log" >&2
    for a in "$dir/artifacts/$f"/*; do [ -e "$a" ] && echo "fuzz: $f: input that fails: $a" >&2; done
  fi
done
exit $status
