#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <random>

#include "fixtures.h"

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;

namespace {

// Largest |count_i(window) - L·w_i/W| over every window of every length L ≤ W, every start.
double max_window_discrepancy(const std::vector<size_t>& cycle, const std::vector<uint32_t>& w) {
  const size_t W = cycle.size();
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  double worst = 0;
  std::vector<int64_t> prefix(2 * W + 1);
  for (size_t b = 0; b < w.size(); ++b) {
    for (size_t t = 0; t < 2 * W; ++t) prefix[t + 1] = prefix[t] + (cycle[t % W] == b ? 1 : 0);
    for (size_t start = 0; start < W; ++start)
      for (size_t len = 1; len <= W; ++len) {
        const double dev = static_cast<double>(prefix[start + len] - prefix[start]) -
                           static_cast<double>(len) * w[b] / total;
        worst = std::max(worst, std::abs(dev));
      }
  }
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

TEST_CASE("weighted_round_robin: a heavy backend is spread out, not sent in a burst", "[wrr]") {
  auto backends = make_backends({5, 1, 1});
  auto sel = build_selector(make_pool(config::Balance::weighted_round_robin), backends, 0);
  PickState st;
  auto seq = pick_n(*sel, 7, st);
  // The two light backends are separated by heavy picks: never adjacent, never at the very ends
  // of one cycle together.
  size_t longest_run = 0, run = 0;
  for (size_t i = 0; i < seq.size(); ++i) {
    run = (i > 0 && seq[i] == seq[i - 1]) ? run + 1 : 1;
    longest_run = std::max(longest_run, run);
  }
  REQUIRE(longest_run <= 3);
  REQUIRE(histogram(seq)[0] == 5);
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
