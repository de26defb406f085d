#include <catch2/catch.hpp>

#include "fixtures.h"
#include "lb/balancer/peak_ewma.h"

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;

namespace {

constexpr int64_t kMs = 1'000'000;

// Drives `count` sequential requests, one every `step_ms`, each answered after latency_ms[b];
// returns how many went to each backend. Time is explicit: no clock, no sleep.
std::vector<size_t> drive(const Selector& sel, std::vector<Backend>& backends, PickState& st,
                          int64_t& now_ms, int count, int64_t step_ms,
                          const std::vector<int64_t>& latency_ms, std::vector<size_t>* order = nullptr) {
  std::vector<size_t> sent(backends.size());
  for (int i = 0; i < count; ++i) {
    PickRequest req;
    req.now_ms = now_ms;
    const size_t b = sel.pick(req, st);
    REQUIRE(b < backends.size());
    ++sent[b];
    if (order) order->push_back(b);
    now_ms += step_ms;
    record_response(*backends[b].live, static_cast<uint64_t>(latency_ms[b] * kMs), now_ms * kMs);
  }
  return sent;
}

}  // namespace

TEST_CASE("peak-EWMA: a slower sample takes over at once, faster ones blend in over time",
          "[response_time]") {
  BackendLive live;
  record_response(live, 10 * kMs, 0);
  REQUIRE(ewma_estimate_ns(live, 0) == Approx(10 * kMs));
  record_response(live, 100 * kMs, 1 * kMs);
  REQUIRE(ewma_estimate_ns(live, 1 * kMs) == Approx(100 * kMs));  // peak
  record_response(live, 10 * kMs, 2 * kMs);  // 1 ms later: barely moves
  REQUIRE(ewma_estimate_ns(live, 2 * kMs) > 99 * kMs);
  // τ later: the unobserved estimate has decayed to 100/e ms, and the 10 ms sample then moves
  // it 1 - 1/e of the way down.
  const double e1 = 0.36787944;
  record_response(live, 10 * kMs, 2 * kMs + kEwmaTauNs);
  REQUIRE(ewma_estimate_ns(live, 2 * kMs + kEwmaTauNs) ==
          Approx(10 * kMs + (100 * kMs * e1 - 10 * kMs) * e1).epsilon(0.01));
  // Unobserved, the estimate decays (so an avoided backend is eventually tried again).
  REQUIRE(ewma_estimate_ns(live, 2 * kMs + 4 * kEwmaTauNs) < 0.1 * ewma_estimate_ns(live, 2 * kMs + kEwmaTauNs));
  BackendLive fresh;
  REQUIRE(ewma_estimate_ns(fresh, 12345) == 0);
}

TEST_CASE("response_time: traffic leaves a slow backend within a few requests and returns after "
          "it recovers", "[response_time]") {
  auto backends = make_backends(3);
  auto sel = build_selector(make_pool(config::Balance::response_time), backends, 0);
  PickState st = make_pick_state(5);
  int64_t now = 1000;
  // Warm-up: all equally fast, all used.
  auto sent = drive(*sel, backends, st, now, 300, 1, {2, 2, 2});
  for (size_t s : sent) REQUIRE(s > 50);

  // Backend 0 turns slow: after its first slow answer it is (almost) never chosen.
  std::vector<size_t> order;
  sent = drive(*sel, backends, st, now, 300, 1, {200, 2, 2}, &order);
  size_t first_slow = 0;
  while (order[first_slow] != 0) ++first_slow;
  size_t later = 0;
  for (size_t i = first_slow + 1; i < order.size(); ++i) later += order[i] == 0;
  REQUIRE(later <= 2);

  // It recovers. Once its estimate has decayed it is tried again, measured fast, and back.
  now += 60'000;  // a minute passes
  sent = drive(*sel, backends, st, now, 3000, 10, {2, 2, 2});
  order.clear();
  sent = drive(*sel, backends, st, now, 600, 10, {2, 2, 2});
  REQUIRE(sent[0] > 120);
}

TEST_CASE("response_time: errors are penalised, and the penalty wears off", "[response_time]") {
  auto backends = make_backends(2);
  auto sel = build_selector(make_pool(config::Balance::response_time), backends, 0);
  PickState st;
  int64_t now = 1000;
  drive(*sel, backends, st, now, 100, 1, {5, 5});
  record_failure(*backends[1].live, now * kMs);
  REQUIRE(ewma_estimate_ns(*backends[1].live, now * kMs) >= kFailurePenaltyNs);
  auto sent = drive(*sel, backends, st, now, 200, 1, {5, 5});
  REQUIRE(sent[1] == 0);
  now += 120'000;
  sent = drive(*sel, backends, st, now, 400, 10, {5, 5});
  REQUIRE(sent[1] > 100);
}

TEST_CASE("response_time: with equal latency, in-flight requests decide", "[response_time]") {
  auto backends = make_backends(2);
  auto sel = build_selector(make_pool(config::Balance::response_time), backends, 0);
  for (auto& b : backends) record_response(*b.live, 3 * kMs, 0);
  backends[0].live->active = 4;
  PickState st;
  PickRequest req;
  for (int i = 0; i < 20; ++i) REQUIRE(sel->pick(req, st) == 1);
  backends[1].live->active = 9;
  for (int i = 0; i < 20; ++i) REQUIRE(sel->pick(req, st) == 0);
  // A backend never measured competes on load alone.
  auto more = make_backends(2);
  auto sel2 = build_selector(make_pool(config::Balance::response_time), more, 0);
  record_response(*more[0].live, 3 * kMs, 0);
  more[0].live->active = 2;
  REQUIRE(sel2->pick(req, st) == 1);
}

TEST_CASE("response_time: exclusions and health", "[response_time]") {
  auto backends = make_backends(4);
  backends[3].state = BackendState::unhealthy;
  auto sel = build_selector(make_pool(config::Balance::response_time), backends, 0);
  const uint32_t tried[] = {0, 2};
  PickRequest req;
  req.exclude = tried;
  PickState st;
  for (int i = 0; i < 50; ++i) REQUIRE(sel->pick(req, st) == 1);
  const uint32_t all[] = {0, 1, 2};
  req.exclude = all;
  REQUIRE(sel->pick(req, st) == kNoBackend);
}
