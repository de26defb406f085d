// The simulator: trace parsing, the queueing model's bookkeeping and the scorecard.
#include <catch2/catch.hpp>

#include "scaler/simulate.h"

using namespace ebb::scaler;
using namespace std::chrono;
using ebb::config::ScalerMetric;

namespace {
ebb::config::ScalerConfig sim_config() {
  ebb::config::ScalerConfig c;
  c.pool = "sim";
  c.min = 2;
  c.max = 12;
  c.interval = seconds{10};
  c.scale_out_cooldown = seconds{30};
  c.scale_in_cooldown = seconds{300};
  c.warmup = seconds{10};
  c.scale_in_step = 4;
  c.targets = {{ScalerMetric::cpu_percent, 60}, {ScalerMetric::active_per_backend, 10}};
  c.simulate.capacity_rps = 100;
  c.simulate.service_ms = 50;
  return c;
}
}  // namespace

TEST_CASE("trace: CSV with header and comments, errors name the line") {
  auto t = parse_trace("seconds,requests_per_second\n# comment\n\n0,100\n600, 500\r\n1200,100\n");
  REQUIRE(t.ok());
  REQUIRE(t->size() == 3);
  CHECK((*t)[1].t == 600);
  CHECK((*t)[1].rps == 500);
  struct Row { const char* csv; const char* fragment; };
  const Row rows[] = {
      {"0,1\n", "at least two rows"},
      {"5,1\n10,1\n", "line 1: the trace must start at 0"},
      {"0,1\n10,1\n10,2\n", "line 3: seconds must increase"},
      {"0,1\n10,-1\n", "line 2: requests_per_second must not be negative"},
      {"0,1\n10\n", "line 2: expected \"seconds,requests_per_second\""},
      {"0,1\nten,1\n", "line 2: expected two numbers"},
      {"0,1\n10,nan\n", "line 2: expected two numbers"},
  };
  for (const auto& r : rows) {
    INFO(r.csv);
    auto e = parse_trace(r.csv);
    REQUIRE_FALSE(e.ok());
    CHECK_THAT(e.error(), Catch::Contains(r.fragment));
  }
}

TEST_CASE("simulate: a steady load at the target never scales") {
  auto cfg = sim_config();
  std::vector<Decision> log;
  // 2 backends at 60 %: 120 rps
  auto sc = simulate(cfg, {{0, 120}, {3600, 120}}, SimPolicy::target_tracking, &log);
  CHECK(sc.duration_s == 3600);
  CHECK(log.size() == 359);  // a decision every 10 s, from t = 10 s
  CHECK(sc.actions == 0);
  CHECK(sc.instance_seconds == Approx(2 * 3600));
  CHECK(sc.under_pct == 0);
  CHECK(sc.over_pct == 0);
  REQUIRE_FALSE(log.empty());
  CHECK(log.back().targets[0].value == Approx(60.0));

  // 90 % on 2 → one scale-out to 3, then steady at 60 %
  log.clear();
  sc = simulate(cfg, {{0, 180}, {3600, 180}}, SimPolicy::target_tracking, &log);
  CHECK(sc.actions == 1);
  CHECK(sc.launched == 1);
  CHECK(sc.peak_backends == 3);
  CHECK(sc.instance_seconds == Approx(2 * 10 + 3 * 3590));
  CHECK(log.back().targets[0].value == Approx(60.0));
}

TEST_CASE("simulate: the 5x spike reaches capacity within two intervals, then shrinks back") {
  auto cfg = sim_config();
  const std::vector<TracePoint> spike{{0, 100}, {600, 500}, {1200, 100}, {3600, 100}};
  auto ours = simulate(cfg, spike, SimPolicy::target_tracking);
  auto base = simulate(cfg, spike, SimPolicy::baseline);
  REQUIRE(ours.steps.size() == 1);
  CHECK(ours.steps[0].from_rps == 100);
  CHECK(ours.steps[0].to_rps == 500);
  REQUIRE(ours.steps[0].seconds_to_capacity.has_value());
  CHECK(*ours.steps[0].seconds_to_capacity <= 20);  // 2 intervals
  CHECK(ours.oscillations_per_hour <= 1.0);
  // both end at min: every launched backend was drained again
  CHECK(ours.launched == ours.drained);
  CHECK(base.launched == base.drained);
  // the scorecard prints both columns
  const std::string text = format_scorecards(cfg, "spike", ours, base);
  CHECK_THAT(text, Catch::Contains("target_tracking"));
  CHECK_THAT(text, Catch::Contains("baseline"));
  CHECK_THAT(text, Catch::Contains("s to capacity, step @600s 100->500 rps"));
  CHECK_THAT(text, Catch::Contains("instance-seconds"));
  CHECK_THAT(text, Catch::Contains("oscillations per hour"));
}

TEST_CASE("simulate: noisy load makes the baseline flap, not target tracking") {
  auto cfg = sim_config();
  // 200 rps ± 20 % alternating every minute for two hours
  std::vector<TracePoint> noisy;
  for (int m = 0; m <= 120; ++m) noisy.push_back({m * 60.0, m % 2 ? 240.0 : 160.0});
  auto ours = simulate(cfg, noisy, SimPolicy::target_tracking);
  auto base = simulate(cfg, noisy, SimPolicy::baseline);
  CHECK(ours.oscillations_per_hour <= 1.0);
  CHECK(base.oscillations_per_hour > 5.0);
  CHECK(ours.under_pct <= base.under_pct / 2);
}
