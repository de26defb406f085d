#include "lb/control_plane.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace ebb;
using namespace ebb::lb;

namespace {
struct FakeSink : SnapshotSink {
  size_t workers = 2;
  std::vector<std::shared_ptr<const Snapshot>> published;
  size_t worker_count() const override { return workers; }
  void publish(std::shared_ptr<const Snapshot> snap, std::vector<ListenerFds> fds) override {
    REQUIRE(fds.size() == workers);
    published.push_back(std::move(snap));
  }
};

config::Pool pool(const std::string& name, std::vector<uint16_t> ports, bool managed = false) {
  config::Pool p;
  p.name = name;
  p.managed = managed;
  p.drain_timeout = std::chrono::milliseconds(1000);
  for (auto port : ports) p.backends.push_back({HostPort{"127.0.0.1", port}, 1});
  return p;
}

config::LbConfig cfg(std::vector<config::Pool> pools) {
  config::LbConfig c;
  c.pools = std::move(pools);
  return c;
}

const PoolSnapshot& snap_pool(const FakeSink& s, const std::string& name) {
  const auto& snap = *s.published.back();
  size_t i = snap.pool_index(name);
  REQUIRE(i != kNoPool);
  return snap.pools[i];
}

BackendState state_of(const PoolSnapshot& p, const std::string& addr) {
  for (const auto& b : p.backends)
    if (b.address == addr) return b.state;
  FAIL("no backend " << addr);
  return BackendState::unknown;
}
}  // namespace

TEST_CASE("start publishes healthy config backends with a selector", "[control]") {
  FakeSink sink;
  ControlPlane cp(sink);
  REQUIRE(cp.start(cfg({pool("app", {9001, 9002})})).ok());
  REQUIRE(sink.published.size() == 1);
  const auto& p = snap_pool(sink, "app");
  REQUIRE(p.backends.size() == 2);
  CHECK(p.backends[0].state == BackendState::healthy);
  CHECK(p.backends[0].sockaddr_len > 0);
  REQUIRE(p.selector);
  PickState st;
  PickRequest req;
  CHECK(p.selector->pick(req, st) != kNoBackend);
}

TEST_CASE("reload: config-owned membership follows the file, removed backends drain", "[control]") {
  FakeSink sink;
  ControlPlane cp(sink);
  REQUIRE(cp.start(cfg({pool("app", {9001, 9002})})).ok());
  auto live_9001 = snap_pool(sink, "app").backends[0].live;
  REQUIRE(cp.apply(cfg({pool("app", {9001, 9003})})).ok());
  const auto& p = snap_pool(sink, "app");
  CHECK(p.backends.size() == 3);
  CHECK(state_of(p, "127.0.0.1:9001") == BackendState::healthy);
  CHECK(state_of(p, "127.0.0.1:9003") == BackendState::healthy);
  CHECK(state_of(p, "127.0.0.1:9002") == BackendState::draining);
  CHECK(p.backends[0].live == live_9001);  // live counters survive the reload
  CHECK(cp.reloads_ok() == 1);

  // Idle draining backends disappear on the next tick.
  cp.tick(ControlPlane::now_ms());
  CHECK(snap_pool(sink, "app").backends.size() == 2);
}

TEST_CASE("draining backend with in-flight work stays until idle or the deadline", "[control]") {
  FakeSink sink;
  ControlPlane cp(sink);
  REQUIRE(cp.start(cfg({pool("app", {9001, 9002})})).ok());
  snap_pool(sink, "app").backends[1].live->active = 1;
  REQUIRE(cp.drain_backend("app", "127.0.0.1:9002").ok());
  int64_t now = ControlPlane::now_ms();
  cp.tick(now);
  CHECK(snap_pool(sink, "app").backends.size() == 2);
  cp.tick(now + 1500);  // past drain_timeout (1 s)
  CHECK(snap_pool(sink, "app").backends.size() == 1);
}

TEST_CASE("managed pools keep API membership across reloads", "[control]") {
  FakeSink sink;
  ControlPlane cp(sink);
  REQUIRE(cp.start(cfg({pool("app", {9001}, true)})).ok());
  auto added = cp.add_backend("app", "127.0.0.1:9005", 3, BackendState::unknown);
  REQUIRE(added.ok());
  CHECK(*added);
  auto again = cp.add_backend("app", "127.0.0.1:9005", 3, BackendState::unknown);
  REQUIRE(again.ok());
  CHECK_FALSE(*again);
  REQUIRE(cp.apply(cfg({pool("app", {9009}, true)})).ok());
  const auto& p = snap_pool(sink, "app");
  REQUIRE(p.backends.size() == 2);
  CHECK(state_of(p, "127.0.0.1:9001") == BackendState::healthy);
  CHECK(state_of(p, "127.0.0.1:9005") == BackendState::unknown);
}

TEST_CASE("set_weight / set_state republish, errors name the pool or backend", "[control]") {
  FakeSink sink;
  ControlPlane cp(sink);
  REQUIRE(cp.start(cfg({pool("app", {9001})})).ok());
  size_t n = sink.published.size();
  REQUIRE(cp.set_weight("app", "127.0.0.1:9001", 5).ok());
  CHECK(sink.published.size() == n + 1);
  CHECK(snap_pool(sink, "app").backends[0].weight == 5);
  REQUIRE(cp.set_state("app", "127.0.0.1:9001", BackendState::unhealthy).ok());
  CHECK(state_of(snap_pool(sink, "app"), "127.0.0.1:9001") == BackendState::unhealthy);
  PickState st;
  CHECK(snap_pool(sink, "app").selector->pick(PickRequest{}, st) == kNoBackend);
  CHECK_FALSE(cp.set_weight("nope", "127.0.0.1:9001", 1).ok());
  CHECK_FALSE(cp.set_state("app", "127.0.0.1:1", BackendState::healthy).ok());
}

TEST_CASE("invalid apply keeps the running config and counts the failure", "[control]") {
  FakeSink sink;
  ControlPlane cp(sink);
  REQUIRE(cp.start(cfg({pool("app", {9001})})).ok());
  auto bad = cfg({pool("app", {9001})});
  bad.pools[0].backends.push_back({HostPort{"no-such-host.invalid", 80}, 1});
  auto r = cp.apply(bad);
  CHECK_FALSE(r.ok());
  CHECK(r.error().find("no-such-host.invalid") != std::string::npos);
  CHECK(cp.reloads_failed() == 1);
  CHECK(snap_pool(sink, "app").backends.size() == 1);
}
