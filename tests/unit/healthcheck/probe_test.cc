// Active probes against a real loopback server on the same loop: pass, 5xx, expected range,
// refused, timeout, early close, tcp, cancellation, our own lack of descriptors.
#include <catch2/catch.hpp>

#include <optional>

#include "common/uv.h"
#include "fake_backend.h"
#include "fd_limit.h"
#include "healthcheck/probe.h"
#include "loop_util.h"

using ebb::config::HealthCheck;
using ebb::health::Probe;
using ebb::health::ProbeResult;
using ebb::health::ProbeSpec;
using ebb::test::FakeBackend;

namespace {
ProbeSpec http_spec(int port) {
  ProbeSpec s;
  s.kind = HealthCheck::http;
  s.addr = ebb::test::loopback(port);
  s.addr_len = sizeof(sockaddr_in);
  s.path = "/healthz";
  s.host_header = "app.test:80";
  s.timeout = std::chrono::milliseconds(300);
  return s;
}

std::optional<ProbeResult> run_probe(uv_loop_t* loop, const ProbeSpec& spec) {
  std::optional<ProbeResult> got;
  auto p = Probe::start(loop, spec, [&](const ProbeResult& r) { got = r; });
  REQUIRE_FALSE(got);  // never synchronously from start()
  ebb::test::run_until(loop, [&] { return got.has_value(); });
  return got;
}

// run_probe without Catch assertions, for stretches out of descriptors (see fd_limit.h).
std::optional<ProbeResult> run_probe_quietly(uv_loop_t* loop, const ProbeSpec& spec) {
  std::optional<ProbeResult> got;
  auto p = Probe::start(loop, spec, [&](const ProbeResult& r) { got = r; });
  ebb::test::run_until(loop, [&] { return got.has_value(); });
  return got;
}
}  // namespace

TEST_CASE("probe: http 200 passes and sends GET path with the Host header") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  auto r = run_probe(loop.get(), http_spec(fb.port()));
  REQUIRE(r);
  CHECK(r->pass);
  CHECK(r->status == 200);
  CHECK(r->detail == "HTTP 200");
  CHECK(fb.last_request().rfind("GET /healthz HTTP/1.1\r\n", 0) == 0);
  CHECK(fb.last_request().find("\r\nHost: app.test:80\r\n") != std::string::npos);
}

TEST_CASE("probe: http 503 fails") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  fb.set_status(503);
  auto r = run_probe(loop.get(), http_spec(fb.port()));
  REQUIRE(r);
  CHECK_FALSE(r->pass);
  CHECK(r->status == 503);
  CHECK(r->detail == "HTTP 503");
}

TEST_CASE("probe: expected status range is inclusive") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  auto spec = http_spec(fb.port());
  spec.expect_min = 200;
  spec.expect_max = 204;
  fb.set_status(204);
  CHECK(run_probe(loop.get(), spec)->pass);
  fb.set_status(205);
  CHECK_FALSE(run_probe(loop.get(), spec)->pass);
  fb.set_status(199);
  CHECK_FALSE(run_probe(loop.get(), spec)->pass);
}

TEST_CASE("probe: connection refused fails") {
  ebb::UvLoop loop;
  auto r = run_probe(loop.get(), http_spec(ebb::test::closed_port()));
  REQUIRE(r);
  CHECK_FALSE(r->pass);
  CHECK(r->detail == "connection refused");
}

TEST_CASE("probe: a silent backend times out") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  fb.set_mode(FakeBackend::Mode::silent);
  auto r = run_probe(loop.get(), http_spec(fb.port()));
  REQUIRE(r);
  CHECK_FALSE(r->pass);
  CHECK(r->detail == "timeout after 300ms");
}

TEST_CASE("probe: a backend closing before answering fails") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  fb.set_mode(FakeBackend::Mode::close);
  auto r = run_probe(loop.get(), http_spec(fb.port()));
  REQUIRE(r);
  CHECK_FALSE(r->pass);
  CHECK((r->detail == "connection closed before a response" || r->detail == "connection reset" ||
         r->detail.rfind("write:", 0) == 0));
}

TEST_CASE("probe: tcp passes on connect, fails when refused") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  fb.set_mode(FakeBackend::Mode::silent);
  auto spec = http_spec(fb.port());
  spec.kind = HealthCheck::tcp;
  auto r = run_probe(loop.get(), spec);
  REQUIRE(r);
  CHECK(r->pass);
  CHECK(r->detail == "connected");
  spec.addr = ebb::test::loopback(ebb::test::closed_port());
  CHECK_FALSE(run_probe(loop.get(), spec)->pass);
}

TEST_CASE("probe: destroying a probe cancels it silently") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  fb.set_mode(FakeBackend::Mode::silent);
  bool called = false;
  auto p = Probe::start(loop.get(), http_spec(fb.port()), [&](const ProbeResult&) { called = true; });
  ebb::test::run_until(loop.get(), [&] { return fb.requests() == 1; });
  REQUIRE(fb.requests() == 1);
  p.reset();
  // The server notices the close; the callback never runs.
  ebb::test::run_until(loop.get(), [] { return false; }, 400);
  CHECK_FALSE(called);
}

TEST_CASE("probe: destroying a probe while it connects is safe") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  bool called = false;
  auto p = Probe::start(loop.get(), http_spec(fb.port()), [&](const ProbeResult&) { called = true; });
  p.reset();  // connect request still pending inside libuv
  ebb::test::run_until(loop.get(), [] { return false; }, 100);
  CHECK_FALSE(called);
}

TEST_CASE("probe: out of file descriptors is inconclusive, not a failure of the backend") {
  ebb::UvLoop loop;
  FakeBackend fb(loop.get());
  for (auto kind : {HealthCheck::http, HealthCheck::tcp}) {
    auto spec = http_spec(fb.port());
    spec.kind = kind;
    std::optional<ProbeResult> r;
    bool limited = false;
    {
      ebb::test::OutOfDescriptors out;
      limited = out.active();
      if (limited) r = run_probe_quietly(loop.get(), spec);
    }
    REQUIRE(limited);
    REQUIRE(r);
    CHECK(r->inconclusive);
    CHECK_FALSE(r->pass);
    CHECK(r->detail.find("EMFILE") != std::string::npos);
    auto again = run_probe(loop.get(), spec);  // descriptors back: the same backend passes
    REQUIRE(again);
    CHECK(again->pass);
    CHECK_FALSE(again->inconclusive);
  }
}
