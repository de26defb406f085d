// Metrics: per-worker blocks summed on scrape, every SPEC §6 name and label set, histogram
// buckets, slot lifecycle, and the output validated by promtool.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

#include "lb/admin/metrics.h"

using ebb::lb::BackendState;
using ebb::lb::admin::BackendStatus;
using ebb::lb::admin::kNoSlot;
using ebb::lb::admin::MetricsHub;

namespace {
bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

// promtool from PATH, else the copy scripts/setup.sh unpacks into .cache/tools; "" if neither.
std::string find_promtool() {
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) return "promtool";
  const std::string cached = std::string(EBB_SOURCE_DIR) + "/.cache/tools/promtool";
  if (access(cached.c_str(), X_OK) == 0) return cached;
  return "";
}

// Runs promtool on the text; returns "" if it passes, the reason otherwise, or "absent".
std::string promtool_check(const std::string& text) {
  const std::string promtool = find_promtool();
  if (promtool.empty()) return "absent";
  char path[] = "/tmp/ebb-metrics-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  const std::string cmd = promtool + " check metrics < " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = pclose(p);
  unlink(path);
  return rc == 0 ? std::string() : "promtool failed: " + out;
}
}  // namespace

TEST_CASE("metrics: requests from several workers are summed per label set") {
  MetricsHub hub(2, 4);
  const uint32_t web = hub.listener_slot("web");
  const uint32_t api = hub.listener_slot("api");
  CHECK(hub.listener_slot("web") == web);
  const uint32_t b1 = hub.backend_slot("app", "127.0.0.1:9001");
  const uint32_t b2 = hub.backend_slot("app", "127.0.0.1:9002");
  const uint32_t none = hub.backend_slot("app", "");
  CHECK(hub.backend_slot("app", "127.0.0.1:9001") == b1);

  std::thread w0([&] {
    auto& m = hub.worker(0);
    for (int i = 0; i < 1000; ++i) m.on_request(web, b1, 200, 300'000, 100, 1000);  // 0.3 ms
    m.on_request(web, b2, 502, 2'000'000'000, 10, 20);                           // 2 s
    m.on_request(web, none, 503, 1000, 10, 20);
  });
  std::thread w1([&] {
    auto& m = hub.worker(1);
    for (int i = 0; i < 500; ++i) m.on_request(web, b1, 404, 7'000'000, 1, 1);  // 7 ms
    m.on_request(api, b1, 301, 20'000'000'000ull, 0, 0);                        // 20 s: +Inf only
  });
  w0.join();
  w1.join();

  const std::string text = hub.render({});
  CHECK(has_line(text, R"(ebb_requests_total{listener="web",pool="app",backend="127.0.0.1:9001",code="2xx"} 1000)"));
  CHECK(has_line(text, R"(ebb_requests_total{listener="web",pool="app",backend="127.0.0.1:9001",code="4xx"} 500)"));
  CHECK(has_line(text, R"(ebb_requests_total{listener="api",pool="app",backend="127.0.0.1:9001",code="3xx"} 1)"));
  CHECK(has_line(text, R"(ebb_requests_total{listener="web",pool="app",backend="127.0.0.1:9002",code="5xx"} 1)"));
  CHECK(has_line(text, R"(ebb_requests_total{listener="web",pool="app",backend="",code="5xx"} 1)"));
  CHECK(text.find(R"(code="1xx")") == std::string::npos);  // zero series are left out

  CHECK(has_line(text, R"(ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="0.0005"} 1000)"));
  CHECK(has_line(text, R"(ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="0.005"} 1000)"));
  CHECK(has_line(text, R"(ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="0.01"} 1500)"));
  CHECK(has_line(text, R"(ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="10"} 1500)"));
  CHECK(has_line(text, R"(ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9001",le="+Inf"} 1501)"));
  CHECK(has_line(text, R"(ebb_request_duration_seconds_count{pool="app",backend="127.0.0.1:9001"} 1501)"));
  CHECK(has_line(text, R"(ebb_request_duration_seconds_sum{pool="app",backend="127.0.0.1:9001"} 23.8)"));
  CHECK(has_line(text, R"(ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9002",le="2.5"} 1)"));
  CHECK(has_line(text, R"(ebb_request_duration_seconds_bucket{pool="app",backend="127.0.0.1:9002",le="1"} 0)"));

  CHECK(has_line(text, R"(ebb_bytes_total{listener="web",direction="in"} 100520)"));
  CHECK(has_line(text, R"(ebb_bytes_total{listener="web",direction="out"} 1000540)"));
  const std::string verdict = promtool_check(text);
  if (verdict == "absent") FAIL("promtool not found: run scripts/setup.sh (it unpacks promtool into .cache/tools)");
  CHECK(verdict.empty());
}

TEST_CASE("metrics: listeners, TLS, backends, health checks, reloads") {
  MetricsHub hub(3, 4);
  const uint32_t web = hub.listener_slot("web");
  const uint32_t tls = hub.listener_slot("tls");
  hub.worker(0).on_connection_open(web);
  hub.worker(1).on_connection_open(web);
  hub.worker(2).on_connection_open(web);
  hub.worker(1).on_connection_close(web);
  hub.worker(2).on_tls_handshake(tls, true);
  hub.worker(2).on_tls_handshake(tls, false);
  hub.worker(0).on_bytes(tls, 5, 7);
  hub.backend_slot("app", "a:1");
  hub.on_health_check("app", "a:1", true);
  hub.on_health_check("app", "a:1", true);
  hub.on_health_check("app", "a:1", false);
  hub.on_reload(true);
  hub.on_reload(false);
  hub.on_reload(true);

  const std::string text = hub.render({{"app", "a:1", BackendState::healthy, 3},
                                       {"app", "b:2", BackendState::draining, 1}});
  CHECK(has_line(text, R"(ebb_connections_active{listener="web"} 2)"));
  CHECK(has_line(text, R"(ebb_connections_total{listener="web"} 3)"));
  CHECK(has_line(text, R"(ebb_connections_active{listener="tls"} 0)"));
  CHECK(has_line(text, R"(ebb_tls_handshakes_total{listener="tls",result="ok"} 1)"));
  CHECK(has_line(text, R"(ebb_tls_handshakes_total{listener="tls",result="failed"} 1)"));
  CHECK(has_line(text, R"(ebb_tls_handshakes_total{listener="tls",result="timeout"} 0)"));
  CHECK(text.find(R"(ebb_tls_handshakes_total{listener="web")") == std::string::npos);
  CHECK(has_line(text, R"(ebb_bytes_total{listener="tls",direction="out"} 7)"));
  CHECK(has_line(text, R"(ebb_backend_active{pool="app",backend="a:1"} 3)"));
  CHECK(has_line(text, R"(ebb_backend_up{pool="app",backend="a:1"} 1)"));
  CHECK(has_line(text, R"(ebb_backend_up{pool="app",backend="b:2"} 0)"));
  CHECK(has_line(text, R"(ebb_backend_state{pool="app",backend="b:2",state="draining"} 1)"));
  CHECK(has_line(text, R"(ebb_backend_state{pool="app",backend="b:2",state="healthy"} 0)"));
  CHECK(has_line(text, R"(ebb_health_checks_total{pool="app",backend="a:1",result="pass"} 2)"));
  CHECK(has_line(text, R"(ebb_health_checks_total{pool="app",backend="a:1",result="fail"} 1)"));
  CHECK(has_line(text, R"(ebb_config_reloads_total{result="success"} 2)"));
  CHECK(has_line(text, R"(ebb_config_reloads_total{result="failure"} 1)"));
  for (const char* name :
       {"ebb_requests_total counter", "ebb_request_duration_seconds histogram",
        "ebb_connections_active gauge", "ebb_connections_total counter", "ebb_backend_active gauge",
        "ebb_backend_up gauge", "ebb_backend_state gauge", "ebb_health_checks_total counter",
        "ebb_bytes_total counter", "ebb_tls_handshakes_total counter",
        "ebb_config_reloads_total counter"})
    CHECK(has_line(text, std::string("# TYPE ") + name));

  const std::string verdict = promtool_check(text);
  if (verdict == "absent") FAIL("promtool not found: run scripts/setup.sh (it unpacks promtool into .cache/tools)");
  CHECK(verdict.empty());
  CHECK_FALSE(promtool_check("ebb_broken{a=\"1\" 1\n").empty());  // the checker does reject
}

TEST_CASE("metrics: released slots disappear and keep their identity during quarantine") {
  MetricsHub hub(1, 2);
  const uint32_t l = hub.listener_slot("web");
  const uint32_t a = hub.backend_slot("app", "a:1");
  hub.worker(0).on_request(l, a, 200, 1000, 0, 0);
  hub.release_backend_slot("app", "a:1");
  CHECK(hub.render({}).find("a:1") == std::string::npos);
  // A new backend does not get the quarantined slot...
  const uint32_t b = hub.backend_slot("app", "b:1");
  CHECK(b != a);
  // ...but the same identity coming back does, with its counts.
  CHECK(hub.backend_slot("app", "a:1") == a);
  CHECK(has_line(hub.render({}), R"(ebb_requests_total{listener="web",pool="app",backend="a:1",code="2xx"} 1)"));
}

TEST_CASE("metrics: out-of-range slots are ignored, never crash") {
  MetricsHub hub(1, 1);
  CHECK(hub.listener_slot("one") == 0);
  CHECK(hub.listener_slot("two") == kNoSlot);
  auto& w = hub.worker(0);
  w.on_request(kNoSlot, kNoSlot, 200, 1, 1, 1);
  w.on_request(0, 12345, 200, 1, 1, 1);  // slot never allocated
  w.on_connection_open(kNoSlot);
  w.on_request(0, hub.backend_slot("p", "x"), 0, 1, 1, 1);  // no status: counted as 5xx
  const std::string text = hub.render({});
  CHECK(has_line(text, R"(ebb_requests_total{listener="one",pool="p",backend="x",code="5xx"} 1)"));
  CHECK(has_line(text, R"(ebb_bytes_total{listener="one",direction="in"} 2)"));
}

TEST_CASE("metrics: many backends span several chunks") {
  MetricsHub hub(2, 2);
  const uint32_t l = hub.listener_slot("web");
  for (int i = 0; i < 200; ++i) {
    const uint32_t s = hub.backend_slot("p", "b" + std::to_string(i));
    hub.worker(i % 2).on_request(l, s, 200, 1, 0, 0);
  }
  const std::string text = hub.render({});
  CHECK(has_line(text, R"(ebb_requests_total{listener="web",pool="p",backend="b199",code="2xx"} 1)"));
  CHECK(has_line(text, R"(ebb_requests_total{listener="web",pool="p",backend="b64",code="2xx"} 1)"));
}

TEST_CASE("metrics: lookups for worker caches, core-provided listener totals, mean latency") {
  MetricsHub hub(1, 4);
  const uint32_t l = hub.listener_slot("web");
  CHECK(hub.find_backend_slot("app", "a:1") == kNoSlot);  // never creates
  const uint32_t a = hub.backend_slot("app", "a:1");
  CHECK(hub.find_backend_slot("app", "a:1") == a);
  CHECK(hub.mean_latency_ms("app", "a:1") < 0);
  hub.worker(0).on_request(l, a, 200, 2'000'000, 0, 0);
  hub.worker(0).on_request(l, a, 200, 4'000'000, 0, 0);
  CHECK(hub.mean_latency_ms("app", "a:1") == Approx(3.0));
  const uint64_t epoch = hub.epoch();
  hub.release_backend_slot("app", "a:1");
  CHECK(hub.epoch() != epoch);
  CHECK(hub.find_backend_slot("app", "a:1") == kNoSlot);

  hub.set_listener_totals({{"web", {10, 4, {}}},
                           {"*", {3, 1, {{"ok", 2}, {"failed", 1}, {"timeout", 0}, {"closed", 5}}}}});
  const std::string text = hub.render({});
  CHECK(has_line(text, R"(ebb_connections_total{listener="web"} 10)"));
  CHECK(has_line(text, R"(ebb_connections_active{listener="web"} 4)"));
  CHECK(has_line(text, R"(ebb_connections_active{listener="*"} 1)"));
  CHECK(has_line(text, R"(ebb_tls_handshakes_total{listener="*",result="ok"} 2)"));
  CHECK(has_line(text, R"(ebb_tls_handshakes_total{listener="*",result="failed"} 1)"));
  CHECK(has_line(text, R"(ebb_tls_handshakes_total{listener="*",result="closed"} 5)"));
  CHECK(text.find(R"(ebb_tls_handshakes_total{listener="web")") == std::string::npos);
  CHECK(text.find(R"(result="fail")") == std::string::npos);
  hub.set_reloads(7, 1);
  CHECK(has_line(hub.render({}), R"(ebb_config_reloads_total{result="success"} 7)"));
}
