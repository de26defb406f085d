#include <catch2/catch.hpp>

#include <deque>

#include "fixtures.h"
#include "lb/balancer/hash_key.h"
#include "lb/balancer/slow_start.h"

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kUp = 100'000;  // steady ms when backend 2 became healthy

std::vector<Backend> ramp_backends() {
  auto b = make_backends(3);
  b[2].healthy_since_ms = kUp;
  return b;
}

// Share of backend 2 among `picks` picks (keyed for hash).
double share(config::Balance balance, int64_t now_ms) {
  auto pool = make_pool(balance);
  pool.slow_start = 10s;
  auto backends = ramp_backends();
  auto sel = build_selector(pool, backends, now_ms);
  PickState st = make_pick_state(3);
  const int picks = 30000;
  int hits = 0;
  for (int i = 0; i < picks; ++i) {
    PickRequest req;
    req.now_ms = now_ms;
    if (balance == config::Balance::hash) {
      req.has_key = true;
      req.key_hash = hash_key_bytes("k" + std::to_string(i));
    }
    hits += sel->pick(req, st) == 2;
  }
  return static_cast<double>(hits) / picks;
}

}  // namespace

TEST_CASE("slow start: factor ramps linearly from ~0 to 1", "[slow_start]") {
  auto pool = make_pool(config::Balance::round_robin);
  auto b = make_backend("a:1");
  b.healthy_since_ms = kUp;
  REQUIRE(slow_start_factor(pool, b, kUp) == 1.0);  // off
  pool.slow_start = 10s;
  REQUIRE(slow_start_factor(pool, b, kUp) == kSlowStartMinFactor);
  REQUIRE(slow_start_factor(pool, b, kUp + 2500) == Approx(0.25));
  REQUIRE(slow_start_factor(pool, b, kUp + 10000) == 1.0);
  b.healthy_since_ms = 0;  // healthy since start-up
  REQUIRE(slow_start_factor(pool, b, kUp) == 1.0);
}

TEST_CASE("slow start: the share ramps monotonically and in proportion, for every weighted "
          "algorithm", "[slow_start]") {
  for (auto balance : {config::Balance::round_robin, config::Balance::weighted_round_robin,
                       config::Balance::random, config::Balance::hash}) {
    INFO("balance " << static_cast<int>(balance));
    double prev = -1;
    for (int64_t t = 0; t <= 12000; t += 1000) {
      const double f = std::clamp(static_cast<double>(t) / 10000.0, kSlowStartMinFactor, 1.0);
      const double expected = f / (2.0 + f);  // two full-weight peers
      const double got = share(balance, kUp + t);
      REQUIRE(got == Approx(expected).margin(0.02));
      REQUIRE(got >= prev - 0.01);
      prev = got;
    }
  }
}

TEST_CASE("slow start: least_conn and response_time hold back a ramping backend", "[slow_start]") {
  for (auto balance : {config::Balance::least_conn, config::Balance::response_time}) {
    INFO("balance " << static_cast<int>(balance));
    std::vector<int> sent_at;
    for (int64_t t : {0, 2500, 5000, 10000}) {
      auto pool = make_pool(balance);
      pool.slow_start = 10s;
      auto backends = ramp_backends();
      auto sel = build_selector(pool, backends, kUp + t);
      PickState st = make_pick_state(8);
      // A steady 30 requests in flight; each pick replaces the oldest.
      std::deque<size_t> inflight;
      int sent = 0;
      for (int i = 0; i < 3000; ++i) {
        if (inflight.size() == 30) {
          backends[inflight.front()].live->active.fetch_sub(1);
          inflight.pop_front();
        }
        PickRequest req;
        req.now_ms = kUp + t;
        const size_t b = sel->pick(req, st);
        backends[b].live->active.fetch_add(1);
        inflight.push_back(b);
        sent += b == 2;
      }
      sent_at.push_back(sent);
    }
    for (size_t i = 1; i < sent_at.size(); ++i) REQUIRE(sent_at[i] > sent_at[i - 1]);
    REQUIRE(sent_at.front() < 100);        // ~0 at first
    REQUIRE(sent_at.back() > 3000 / 3 - 150);  // a full share at the end
  }
}

TEST_CASE("slow start: the control thread rebuilds while a backend ramps, and once after",
          "[slow_start]") {
  auto pool = make_pool(config::Balance::round_robin);
  auto backends = ramp_backends();
  REQUIRE_FALSE(selector_needs_rebuild(pool, backends, kUp));
  pool.slow_start = 10s;
  REQUIRE(selector_needs_rebuild(pool, backends, kUp));
  REQUIRE(selector_needs_rebuild(pool, backends, kUp + 9999));
  REQUIRE(selector_needs_rebuild(pool, backends, kUp + 10000 + kSlowStartStepMs - 1));
  REQUIRE_FALSE(selector_needs_rebuild(pool, backends, kUp + 10000 + kSlowStartStepMs));
  REQUIRE(slow_start_ramp_end_ms(pool, backends, kUp) == kUp + 10000);
  backends[2].state = BackendState::unhealthy;
  REQUIRE_FALSE(selector_needs_rebuild(pool, backends, kUp));
}
