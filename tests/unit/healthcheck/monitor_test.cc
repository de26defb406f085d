// HealthMonitor on a real loop with loopback backends: scheduling, rise/fall in both
// directions, API-added backends, passive ejection through BackendLive, drains, removal
// from inside a callback, checks skipped while the process is out of descriptors.
#include <catch2/catch.hpp>

#include <vector>

#include "common/uv.h"
#include "fake_backend.h"
#include "fd_limit.h"
#include "healthcheck/monitor.h"
#include "loop_util.h"

using ebb::config::Health;
using ebb::config::HealthCheck;
using ebb::health::BackendRef;
using ebb::health::BackendState;
using ebb::health::HealthMonitor;
using ebb::health::Origin;
using ebb::health::ProbeResult;
using ebb::health::Transition;
using ebb::test::FakeBackend;
using ebb::test::run_until;

namespace {
Health fast_http() {
  Health h;
  h.check = HealthCheck::http;
  h.interval = std::chrono::milliseconds(40);
  h.timeout = std::chrono::milliseconds(200);
  h.healthy_threshold = 2;
  h.unhealthy_threshold = 2;
  h.passive_failures = 3;
  return h;
}

struct Recorder {
  std::vector<std::pair<BackendRef, Transition>> changes;
  int checks = 0;
  HealthMonitor::Callbacks callbacks() {
    return {[this](const BackendRef& r, const Transition& t) { changes.emplace_back(r, t); },
            [this](const BackendRef&, const ProbeResult&) { ++checks; }};
  }
};

const sockaddr* sa(const sockaddr_storage& ss) { return reinterpret_cast<const sockaddr*>(&ss); }

// A monitor and one fake backend on a loop; add() registers the backend from the config.
struct OneBackend {
  ebb::UvLoop loop;
  FakeBackend fb{loop.get()};
  Recorder rec;
  HealthMonitor mon{loop.get(), rec.callbacks(), 42};
  const BackendRef ref{"app", "127.0.0.1:" + std::to_string(fb.port())};
  const sockaddr_storage addr = ebb::test::loopback(fb.port());
  BackendState add() { return mon.add(ref, sa(addr), sizeof(sockaddr_in), fast_http(), Origin::config); }
};
}  // namespace

TEST_CASE("monitor: health goes down and up again with the backend") {
  OneBackend t;
  CHECK(t.add() == BackendState::healthy);

  REQUIRE(run_until(t.loop.get(), [&] { return t.rec.checks >= 3; }));
  CHECK(t.rec.changes.empty());
  CHECK(t.fb.last_request().find("Host: " + t.ref.address + "\r\n") != std::string::npos);

  t.fb.set_status(503);
  REQUIRE(run_until(t.loop.get(), [&] { return t.mon.state(t.ref) == BackendState::unhealthy; }));
  REQUIRE(t.rec.changes.size() == 1);
  CHECK(t.rec.changes[0].first.pool == "app");
  CHECK(t.rec.changes[0].second.reason == "2 consecutive failed checks: HTTP 503");

  t.fb.set_status(200);
  REQUIRE(run_until(t.loop.get(), [&] { return t.mon.state(t.ref) == BackendState::healthy; }));
  REQUIRE(t.rec.changes.size() == 2);
  CHECK(t.rec.changes[1].second.from == BackendState::unhealthy);
  CHECK(t.rec.changes[1].second.to == BackendState::healthy);
}

TEST_CASE("monitor: checks that cannot run for lack of descriptors leave the backend as it is") {
  OneBackend t;
  REQUIRE(t.add() == BackendState::healthy);
  REQUIRE(run_until(t.loop.get(), [&] { return t.rec.checks >= 1; }));
  const int counted = t.rec.checks;
  bool limited = false;
  {
    // 8 intervals of 40 ms: two failed checks would have made it unhealthy.
    ebb::test::OutOfDescriptors out;
    limited = out.active();
    const uint64_t until = uv_now(t.loop.get()) + 320;
    if (limited) run_until(t.loop.get(), [&] { return uv_now(t.loop.get()) >= until; });
  }
  REQUIRE(limited);
  CHECK(t.mon.state(t.ref) == BackendState::healthy);
  CHECK(t.rec.changes.empty());
  CHECK(t.rec.checks == counted);  // skipped checks are not counted as passes or failures
  REQUIRE(run_until(t.loop.get(), [&] { return t.rec.checks >= counted + 2; }));  // and checks go on
  CHECK(t.mon.state(t.ref) == BackendState::healthy);
}

TEST_CASE("monitor: a config backend whose first check fails is unhealthy at once") {
  ebb::UvLoop loop;
  Recorder rec;
  HealthMonitor mon(loop.get(), rec.callbacks(), 1);
  const int port = ebb::test::closed_port();
  const BackendRef ref{"app", "127.0.0.1:" + std::to_string(port)};
  auto addr = ebb::test::loopback(port);
  mon.add(ref, sa(addr), sizeof(sockaddr_in), fast_http(), Origin::config);
  REQUIRE(run_until(loop.get(), [&] { return !rec.changes.empty(); }));
  CHECK(rec.changes[0].second.reason == "first check failed: connection refused");
  CHECK(rec.checks == 1);
}

TEST_CASE("monitor: an API backend starts unknown and becomes healthy") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  Recorder rec;
  HealthMonitor mon(loop.get(), rec.callbacks(), 7);
  const BackendRef ref{"app", "127.0.0.1:" + std::to_string(fb.port())};
  auto addr = ebb::test::loopback(fb.port());
  CHECK(mon.add(ref, sa(addr), sizeof(sockaddr_in), fast_http(), Origin::api) ==
        BackendState::unknown);
  REQUIRE(run_until(loop.get(), [&] { return mon.state(ref) == BackendState::healthy; }));
  CHECK(rec.checks == 2);
  REQUIRE(rec.changes.size() == 1);
  CHECK(rec.changes[0].second.from == BackendState::unknown);
}

TEST_CASE("monitor: tcp checks and checks off") {
  ebb::UvLoop loop;
  Recorder rec;
  HealthMonitor mon(loop.get(), rec.callbacks(), 3);
  const int port = ebb::test::closed_port();
  auto addr = ebb::test::loopback(port);
  Health tcp = fast_http();
  tcp.check = HealthCheck::tcp;
  const BackendRef a{"p", "a:1"};
  mon.add(a, sa(addr), sizeof(sockaddr_in), tcp, Origin::api);
  REQUIRE(run_until(loop.get(), [&] { return mon.state(a) == BackendState::unhealthy; }));

  Health off = fast_http();
  off.check = HealthCheck::none;
  const BackendRef b{"q", "b:1"};
  CHECK(mon.add(b, sa(addr), sizeof(sockaddr_in), off, Origin::api) == BackendState::healthy);
  const int before = rec.checks;
  run_until(loop.get(), [] { return false; }, 150);
  CHECK(mon.state(b) == BackendState::healthy);
  // only pool p's backend was probed
  CHECK(rec.checks > before);
  for (const auto& [ref, t] : rec.changes) CHECK(ref.pool == "p");

  // Reload turns pool p's checks off: its unhealthy backend becomes healthy.
  mon.set_pool_health("p", off);
  CHECK(mon.state(a) == BackendState::healthy);
  CHECK(rec.changes.back().second.reason == "health checks turned off");
}

TEST_CASE("monitor: passive ejection from BackendLive, re-admitted by active checks") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  Recorder rec;
  HealthMonitor mon(loop.get(), rec.callbacks(), 9);
  const BackendRef ref{"app", "127.0.0.1:" + std::to_string(fb.port())};
  auto addr = ebb::test::loopback(fb.port());
  auto live = std::make_shared<ebb::lb::BackendLive>();
  Health h = fast_http();
  h.interval = std::chrono::milliseconds(300);
  mon.add(ref, sa(addr), sizeof(sockaddr_in), h, Origin::config, live);

  live->consecutive_failures.store(3);
  REQUIRE(run_until(loop.get(), [&] { return mon.state(ref) == BackendState::unhealthy; }));
  CHECK(rec.changes.at(0).second.reason.rfind("passive: 3 consecutive", 0) == 0);
  REQUIRE(run_until(loop.get(), [&] { return mon.state(ref) == BackendState::healthy; }));
  CHECK(live->consecutive_failures.load() == 0);
  CHECK(rec.changes.back().second.reason.find("re-admitted after passive ejection") !=
        std::string::npos);
}

TEST_CASE("monitor: explicit passive reports and back-off with checks off") {
  ebb::UvLoop loop;
  Recorder rec;
  HealthMonitor mon(loop.get(), rec.callbacks(), 11);
  auto addr = ebb::test::loopback(ebb::test::closed_port());
  Health off = fast_http();
  off.check = HealthCheck::none;
  off.interval = std::chrono::milliseconds(10);  // back-off = max(1s, 5 × interval) = 1 s
  const BackendRef ref{"p", "x:1"};
  mon.add(ref, sa(addr), sizeof(sockaddr_in), off, Origin::config);
  mon.report_passive(ref, 2);
  CHECK(mon.state(ref) == BackendState::healthy);
  mon.report_passive(ref, 3);
  CHECK(mon.state(ref) == BackendState::unhealthy);
  REQUIRE(run_until(loop.get(), [&] { return mon.state(ref) == BackendState::healthy; }, 3000));
  CHECK(rec.changes.back().second.reason == "passive ejection back-off elapsed (checks off)");
}

TEST_CASE("monitor: drains and removal from inside a callback") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  HealthMonitor* monp = nullptr;
  std::vector<Transition> seen;
  HealthMonitor mon(
      loop.get(),
      {[&](const BackendRef& r, const Transition& t) {
         seen.push_back(t);
         if (t.health_to == BackendState::unhealthy) monp->remove(r);
       },
       nullptr},
      5);
  monp = &mon;
  const BackendRef ref{"app", "127.0.0.1:" + std::to_string(fb.port())};
  auto addr = ebb::test::loopback(fb.port());
  mon.add(ref, sa(addr), sizeof(sockaddr_in), fast_http(), Origin::config);

  auto t = mon.set_draining(ref, true, "drain requested by API");
  REQUIRE(t);
  REQUIRE(*t);
  CHECK((*t)->to == BackendState::draining);
  CHECK(mon.state(ref) == BackendState::draining);
  CHECK_FALSE(*mon.set_draining(ref, true, "again"));  // no change
  CHECK_FALSE(mon.set_draining(BackendRef{"app", "nope:1"}, true, "x"));
  REQUIRE(*mon.set_draining(ref, false, "drain cancelled"));
  CHECK(mon.state(ref) == BackendState::healthy);

  fb.set_status(500);
  REQUIRE(run_until(loop.get(), [&] { return mon.size() == 0; }));
  CHECK(seen.size() == 3);
  CHECK_FALSE(mon.state(ref));
}

TEST_CASE("monitor: jitter spreads first checks and keeps intervals within ±10 %") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  std::vector<std::pair<std::string, int64_t>> times;
  auto t0 = std::chrono::steady_clock::now();
  HealthMonitor mon(loop.get(),
                    {nullptr,
                     [&](const BackendRef& r, const ProbeResult&) {
                       times.emplace_back(r.address, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         std::chrono::steady_clock::now() - t0)
                                                         .count());
                     }},
                    13);
  auto addr = ebb::test::loopback(fb.port());
  Health h = fast_http();
  h.interval = std::chrono::milliseconds(200);
  for (int i = 0; i < 8; ++i)
    mon.add(BackendRef{"app", "b" + std::to_string(i)}, sa(addr), sizeof(sockaddr_in), h,
            Origin::config);
  REQUIRE(run_until(loop.get(), [&] { return times.size() >= 8; }));
  // The 8 first checks fall inside one interval and do not all coincide.
  int64_t lo = times.front().second, hi = times.front().second;
  for (size_t i = 0; i < 8; ++i) {
    lo = std::min(lo, times[i].second);
    hi = std::max(hi, times[i].second);
  }
  CHECK(hi <= 200 + 400);  // + generous scheduling slack on a busy machine
  CHECK(hi - lo >= 20);
}
