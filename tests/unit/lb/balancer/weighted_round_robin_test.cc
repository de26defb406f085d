#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <random>

#include "fixtures.h"

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;

namespace {

// Largest |count_i(window) - L·w_i/W| over every window of every length L ≤ W, every start. The
// schedule repeats with period W and gives exact shares per period, so with
// D(t) = count_i(first t picks) - t·w_i/W this is max D - min D over one period.
double max_window_discrepancy(const std::vector<size_t>& cycle, const std::vector<uint32_t>& w) {
  const size_t W = cycle.size();
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  double worst = 0;
  std::vector<int64_t> count(w.size());
  std::vector<double> lo(w.size(), 0), hi(w.size(), 0);
  for (size_t t = 1; t <= W; ++t) {
    ++count[cycle[t - 1]];
    for (size_t b = 0; b < w.size(); ++b) {
      const double d = static_cast<double>(count[b]) - static_cast<double>(t) * w[b] / total;
      lo[b] = std::min(lo[b], d);
      hi[b] = std::max(hi[b], d);
    }
  }
  for (size_t b = 0; b < w.size(); ++b) worst = std::max(worst, hi[b] - lo[b]);
  return worst;
}

}  // namespace

TEST_CASE("weighted_round_robin: each window of W picks gives every backend exactly its weight, "
          "interleaved", "[wrr]") {
  std::mt19937 rng(20261122);
  for (int round = 0; round < 60; ++round) {
    const size_t n = 1 + rng() % 10;
    std::vector<uint32_t> weights(n);
    for (auto& w : weights) w = 1 + rng() % 12;
    const uint32_t W = std::accumulate(weights.begin(), weights.end(), 0u);
    auto backends = make_backends(weights);
    auto pool = make_pool(config::Balance::weighted_round_robin);
    auto sel = build_selector(pool, backends, 0);
    PickState st = make_pick_state(round);
    auto seq = pick_n(*sel, 3 * W, st);
    // Any window of W consecutive picks (not only aligned cycles).
    for (size_t start = 0; start + W <= seq.size(); ++start) {
      std::vector<uint32_t> count(n);
      for (size_t k = start; k < start + W; ++k) {
        REQUIRE(seq[k] < n);
        ++count[seq[k]];
      }
      for (size_t b = 0; b < n; ++b) REQUIRE(count[b] == weights[b]);
    }
    // Interleaving: no window of any length strays 2 or more picks from its fair share.
    std::vector<size_t> cycle(seq.begin(), seq.begin() + W);
    INFO("weights round " << round);
    REQUIRE(max_window_discrepancy(cycle, weights) < 2.0);
  }
}

TEST_CASE("weighted_round_robin: interleaves like nginx's smooth WRR", "[wrr]") {
  // The sequence nginx documents for weights {a:5, b:1, c:1}.
  auto backends = make_backends({5, 1, 1});
  auto sel = build_selector(make_pool(config::Balance::weighted_round_robin), backends, 0);
  PickState st;
  st.rng = 0;  // offset 0: start at the head of the cycle
  REQUIRE(pick_n(*sel, 14, st) == std::vector<size_t>{0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0});
}

TEST_CASE("weighted_round_robin: many backends with a long cycle stay smooth", "[wrr]") {
  // Σw × n beyond the smooth build's budget: the deadline-ordered build takes over.
  std::mt19937 rng(77);
  std::vector<uint32_t> weights(1000);
  for (auto& w : weights) w = 1 + rng() % 10;
  const size_t W = std::accumulate(weights.begin(), weights.end(), size_t{0});
  REQUIRE(W * weights.size() > 1'000'000);
  auto backends = make_backends(weights);
  auto sel = build_selector(make_pool(config::Balance::weighted_round_robin), backends, 0);
  PickState st;
  auto cycle = pick_n(*sel, W, st);
  auto h = histogram(cycle);
  for (size_t b = 0; b < weights.size(); ++b) REQUIRE(h[b] == weights[b]);
  REQUIRE(max_window_discrepancy(cycle, weights) < 2.0);
}

TEST_CASE("weighted_round_robin: large weights keep their proportions", "[wrr]") {
  // Σ = 300000 > the precomputed limit: scaled, proportions kept to within a fraction of 1 %.
  auto backends = make_backends({100000, 200000});
  auto sel = build_selector(make_pool(config::Balance::weighted_round_robin), backends, 0);
  PickState st;
  auto h = histogram(pick_n(*sel, 30000, st));
  REQUIRE(h[0] == Approx(10000).margin(50));
  REQUIRE(h[1] == Approx(20000).margin(50));
}

TEST_CASE("weighted_round_robin: only healthy backends, exclusions respected", "[wrr]") {
  auto backends = make_backends({3, 2, 4, 1, 2});
  backends[1].state = BackendState::draining;
  backends[3].state = BackendState::unhealthy;
  backends[4].state = BackendState::unknown;
  auto sel = build_selector(make_pool(config::Balance::weighted_round_robin), backends, 0);
  PickState st;
  auto h = histogram(pick_n(*sel, 70, st));
  REQUIRE(h.size() == 2);
  REQUIRE(h[0] == 30);
  REQUIRE(h[2] == 40);

  const uint32_t tried[] = {2};
  PickRequest req;
  req.exclude = tried;
  for (int i = 0; i < 20; ++i) REQUIRE(sel->pick(req, st) == 0);
  const uint32_t both[] = {0, 2};
  req.exclude = both;
  REQUIRE(sel->pick(req, st) == kNoBackend);
}

TEST_CASE("weighted_round_robin: no healthy backend gives kNoBackend", "[wrr]") {
  auto backends = make_backends({1, 1});
  for (auto& b : backends) b.state = BackendState::unhealthy;
  auto sel = build_selector(make_pool(config::Balance::weighted_round_robin), backends, 0);
  PickState st;
  REQUIRE(sel->pick({}, st) == kNoBackend);
  std::vector<Backend> none;
  REQUIRE(build_selector(make_pool(config::Balance::weighted_round_robin), none, 0)->pick({}, st) ==
          kNoBackend);
}
