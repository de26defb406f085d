// The contract between ebb-lb's /metrics and the scaler: the text lb/admin's MetricsHub renders
// is parsed by the scaler's parser into the request rate, latency and in-flight it scales on.
#include <catch2/catch.hpp>

#include "lb/admin/metrics.h"
#include "scaler/metrics/lb_metrics.h"
#include "scaler/metrics/prometheus_parser.h"

using namespace ebb::scaler;
using namespace std::chrono;

TEST_CASE("ebb-lb MetricsHub output → requests/s, latency quantiles, in-flight per backend") {
  ebb::lb::admin::MetricsHub hub(2);
  const uint32_t web = hub.listener_slot("web");
  const uint32_t b1 = hub.backend_slot("app", "127.0.0.1:9101");
  const uint32_t b2 = hub.backend_slot("app", "127.0.0.1:9102");
  const uint32_t other = hub.backend_slot("other", "127.0.0.1:9101");
  std::vector<ebb::lb::admin::BackendStatus> members = {
      {"app", "127.0.0.1:9101", ebb::lb::BackendState::healthy, 3},
      {"app", "127.0.0.1:9102", ebb::lb::BackendState::healthy, 0},
      {"other", "127.0.0.1:9101", ebb::lb::BackendState::healthy, 50},
  };
  const TimePoint t0 = TimePoint{sys_days{year{2026} / January / 5}};

  // before: 10 requests on b1, none on b2, plenty on another pool's backend of the same address
  for (int i = 0; i < 10; ++i) hub.worker(0).on_request(web, b1, 200, 20'000'000, 100, 100);
  for (int i = 0; i < 1000; ++i) hub.worker(1).on_request(web, other, 200, 1'000'000, 1, 1);
  auto e0 = parse_prometheus_text(hub.render(members));
  REQUIRE(e0.ok());
  PoolScrape s0 = extract_pool(*e0, "app", t0);
  CHECK(s0.backends.size() == 2);  // b2 is listed (active, up) before its first request

  // 5 s later: 100 more on b1 across both workers (90 fast, 10 slow, 5 of them errors), 20 on b2
  for (int i = 0; i < 90; ++i) hub.worker(i % 2).on_request(web, b1, 200, 40'000'000, 1, 1);
  for (int i = 0; i < 10; ++i) hub.worker(0).on_request(web, b1, i < 5 ? 502 : 200, 400'000'000, 1, 1);
  for (int i = 0; i < 20; ++i) hub.worker(1).on_request(web, b2, 200, 3'000'000, 1, 1);
  members[0].active = 7;
  auto e1 = parse_prometheus_text(hub.render(members));
  REQUIRE(e1.ok());
  PoolScrape s1 = extract_pool(*e1, "app", t0 + seconds{5});

  auto rates = derive_rates(s0, s1);
  const auto& r1 = rates.at("127.0.0.1:9101");
  const auto& r2 = rates.at("127.0.0.1:9102");
  CHECK(*r1.requests_per_s == Approx(20.0));  // 100 / 5 s, every code counted
  CHECK(*r2.requests_per_s == Approx(4.0));
  CHECK(*r1.active == 7);
  CHECK(*r2.active == 0);
  REQUIRE(r1.latency);
  CHECK(r1.latency->count == Approx(100));
  // p50 among the 90 at 40 ms: inside (0.025, 0.05]; p95 among the 10 at 400 ms: (0.25, 0.5]
  const double p50 = *histogram_quantile(0.5, *r1.latency);
  const double p95 = *histogram_quantile(0.95, *r1.latency);
  CHECK(p50 > 0.025);
  CHECK(p50 <= 0.05);
  CHECK(p95 > 0.25);
  CHECK(p95 <= 0.5);
  REQUIRE(r2.latency);
  CHECK(*histogram_quantile(0.5, *r2.latency) <= 0.005);
}
