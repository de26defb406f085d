// Pick cost per balancing algorithm at 3, 100 and 1000 healthy backends (target: ≤ 50 ns per pick
// at 1000), plus the per-request extras: key hashing, sticky token check and issue, and the
// control thread's selector build.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "config/lb_config.h"
#include "lb/backend.h"
#include "lb/balancer/balancer.h"
#include "lb/balancer/hash_key.h"
#include "lb/balancer/peak_ewma.h"
#include "lb/balancer/sticky.h"

namespace {

using ebb::config::Balance;
using namespace ebb::lb;

std::vector<Backend> backends(size_t n) {
  std::vector<Backend> out(n);
  std::mt19937 rng(1);
  for (size_t i = 0; i < n; ++i) {
    out[i].address = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) + ":8080";
    out[i].weight = 1 + rng() % 4;
    out[i].state = BackendState::healthy;
    out[i].live = std::make_shared<BackendLive>();
    // Some load and latency history, as in a running proxy.
    out[i].live->active = static_cast<int64_t>(rng() % 20);
    record_response(*out[i].live, 1'000'000 + rng() % 9'000'000, 1'000'000'000);
  }
  return out;
}

void pick_bench(benchmark::State& state, Balance balance) {
  const size_t n = static_cast<size_t>(state.range(0));
  auto bs = backends(n);
  ebb::config::Pool pool;
  pool.name = "bench";
  pool.balance = balance;
  auto sel = build_selector(pool, bs, 1000);
  PickState ps = make_pick_state(42);
  // Pre-hashed keys: the hash figure excludes key hashing (measured separately below).
  std::vector<uint64_t> keys(4096);
  std::mt19937_64 rng(7);
  for (auto& k : keys) k = rng();
  PickRequest req;
  req.now_ms = 1000;
  req.has_key = balance == Balance::hash;
  size_t i = 0;
  for (auto _ : state) {
    req.key_hash = keys[i++ & 4095];
    benchmark::DoNotOptimize(sel->pick(req, ps));
  }
}

void BM_pick_round_robin(benchmark::State& s) { pick_bench(s, Balance::round_robin); }
void BM_pick_weighted_round_robin(benchmark::State& s) { pick_bench(s, Balance::weighted_round_robin); }
void BM_pick_least_conn(benchmark::State& s) { pick_bench(s, Balance::least_conn); }
void BM_pick_hash(benchmark::State& s) { pick_bench(s, Balance::hash); }
void BM_pick_response_time(benchmark::State& s) { pick_bench(s, Balance::response_time); }
void BM_pick_random(benchmark::State& s) { pick_bench(s, Balance::random); }

BENCHMARK(BM_pick_round_robin)->Arg(3)->Arg(100)->Arg(1000);
BENCHMARK(BM_pick_weighted_round_robin)->Arg(3)->Arg(100)->Arg(1000);
BENCHMARK(BM_pick_least_conn)->Arg(3)->Arg(100)->Arg(1000);
BENCHMARK(BM_pick_hash)->Arg(3)->Arg(100)->Arg(1000);
BENCHMARK(BM_pick_response_time)->Arg(3)->Arg(100)->Arg(1000);
BENCHMARK(BM_pick_random)->Arg(3)->Arg(100)->Arg(1000);

void BM_hash_key_bytes(benchmark::State& state) {
  const std::string key(static_cast<size_t>(state.range(0)), 'k');
  for (auto _ : state) benchmark::DoNotOptimize(hash_key_bytes(key));
}
BENCHMARK(BM_hash_key_bytes)->Arg(15)->Arg(64);

void BM_sticky_find(benchmark::State& state) {
  auto bs = backends(100);
  StickyTable table(make_sticky_key("bench", ""), bs, 3600);
  const std::string token = table.issue(17, 1'800'000'000);
  for (auto _ : state) benchmark::DoNotOptimize(table.find(token, 1'800'000'001));
}
BENCHMARK(BM_sticky_find);

void BM_sticky_issue(benchmark::State& state) {
  auto bs = backends(100);
  StickyTable table(make_sticky_key("bench", ""), bs, 3600);
  for (auto _ : state) benchmark::DoNotOptimize(table.issue(17, 1'800'000'000));
}
BENCHMARK(BM_sticky_issue);

// Control thread: rebuilding a selector (on membership/health changes, every 500 ms in slow start).
void build_bench(benchmark::State& state, Balance balance) {
  auto bs = backends(static_cast<size_t>(state.range(0)));
  ebb::config::Pool pool;
  pool.name = "bench";
  pool.balance = balance;
  for (auto _ : state) benchmark::DoNotOptimize(build_selector(pool, bs, 1000));
  state.SetLabel("per build");
}
void BM_build_weighted_round_robin(benchmark::State& s) { build_bench(s, Balance::weighted_round_robin); }
void BM_build_hash(benchmark::State& s) { build_bench(s, Balance::hash); }
BENCHMARK(BM_build_weighted_round_robin)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_build_hash)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
