// The decision rules of SPEC §7, table-driven. Time is an input: nothing here reads a clock.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "scaler/policies/target_tracking.h"

using namespace ebb::scaler;
using namespace std::chrono;
using ebb::config::ScalerMetric;

namespace {

// 2026-01-05 is a Monday; 12:00 UTC.
const TimePoint kNow = TimePoint{sys_days{year{2026} / January / 5}} + hours{12};

ebb::config::ScalerConfig base_config() {
  ebb::config::ScalerConfig c;
  c.pool = "app";
  c.min = 2;
  c.max = 10;
  c.interval = seconds{10};
  c.scale_out_cooldown = seconds{30};
  c.scale_in_cooldown = seconds{120};
  c.warmup = seconds{20};
  c.scale_in_step = 1;
  c.targets = {{ScalerMetric::cpu_percent, 60.0}};
  return c;
}

// A warm backend (launched an hour ago, index i makes launch times distinct) with a CPU value.
BackendSample warm(int i, std::optional<double> cpu, std::optional<double> active = 1.0) {
  BackendSample b;
  b.address = "127.0.0.1:" + std::to_string(9100 + i);
  b.launched_at = kNow - hours{1} + seconds{i};
  b.cpu_percent = cpu;
  b.active = active;
  b.requests_per_s = 10.0;
  return b;
}

Observation pool(int n, std::optional<double> cpu) {
  Observation o;
  for (int i = 0; i < n; ++i) o.backends.push_back(warm(i, cpu));
  return o;
}

// A latency histogram whose observations all lie in one bucket (le seconds).
Histogram latency_in(double le, double n) {
  Histogram h;
  for (double b : {0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5}) h.buckets.push_back({b, b >= le ? n : 0});
  h.buckets.push_back({std::numeric_limits<double>::infinity(), n});
  h.count = n;
  return h;
}

ebb::config::ScheduleEntry schedule_entry(const char* text, Millis duration, unsigned min) {
  ebb::config::ScheduleEntry e;
  e.cron = text;
  auto spec = ebb::config::parse_cron(text);
  REQUIRE(spec.ok());
  e.when = *spec;
  e.duration = duration;
  e.min = min;
  return e;
}

bool has_bound(const Decision& d, Bound b) {
  return std::find(d.bounds.begin(), d.bounds.end(), b) != d.bounds.end();
}

PolicyState acted_ago(Millis ago) {
  PolicyState s;
  s.last_action = kNow - ago;
  return s;
}

}  // namespace

TEST_CASE("target tracking: desired count, tolerance, cooldowns, bounds") {
  struct Row {
    const char* name;
    int backends;
    double cpu;
    std::optional<Millis> last_action_ago;
    unsigned want_desired;
    unsigned want_launch;
    unsigned want_drain;
    std::optional<Bound> want_bound;
  };
  const Row rows[] = {
      // desired = ceil(current × value / target)
      {"scale out 4 → 6", 4, 90, std::nullopt, 6, 2, 0, std::nullopt},
      {"ceil rounds up", 3, 70, std::nullopt, 4, 1, 0, std::nullopt},  // 3.5 → 4
      {"exact ratio is not rounded up", 3, 80, std::nullopt, 4, 1, 0, std::nullopt},
      // ±10 % tolerance
      {"+8 % is within tolerance", 4, 65, std::nullopt, 4, 0, 0, Bound::tolerance},
      {"-8 % is within tolerance", 4, 55, std::nullopt, 4, 0, 0, Bound::tolerance},
      {"+11.7 % is acted on", 4, 67, std::nullopt, 5, 1, 0, std::nullopt},
      // scale-out cooldown since the last action
      {"scale out inside cooldown", 4, 90, seconds{29}, 4, 0, 0, Bound::cooldown},
      {"scale out at cooldown end", 4, 90, seconds{30}, 6, 2, 0, std::nullopt},
      // scale-in: cooldown, step
      {"scale in inside cooldown", 4, 30, seconds{119}, 4, 0, 0, Bound::cooldown},
      {"scale in after cooldown, one step", 4, 30, seconds{120}, 3, 0, 1, Bound::step},
      {"scale in without any earlier action", 4, 30, std::nullopt, 3, 0, 1, Bound::step},
      {"scale in of exactly one needs no step bound", 4, 40, std::nullopt, 3, 0, 1, std::nullopt},
      // min / max
      {"below min is clamped to min", 2, 10, std::nullopt, 2, 0, 0, Bound::min},
      {"above max is clamped to max", 9, 100, std::nullopt, 10, 1, 0, Bound::max},
      {"at max stays at max", 10, 100, std::nullopt, 10, 0, 0, Bound::max},
      {"an empty pool is raised to min at once", 0, 0, seconds{1}, 2, 2, 0, Bound::min},
      {"below min during a cooldown is raised anyway", 1, 60, seconds{1}, 2, 1, 0, Bound::min},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    auto cfg = base_config();
    PolicyState st;
    if (r.last_action_ago) st = acted_ago(*r.last_action_ago);
    auto out = decide_target_tracking(cfg, st, pool(r.backends, r.cpu), kNow);
    const Decision& d = out.decision;
    INFO(d.log_line());
    CHECK(d.desired == r.want_desired);
    CHECK(d.launch == r.want_launch);
    CHECK(d.drain.size() == r.want_drain);
    if (r.want_bound) CHECK(has_bound(d, *r.want_bound));
    else CHECK(d.bounds.empty());
    // the state records an action only when there was one
    if (d.acts()) CHECK(out.next.last_action == kNow);
    else CHECK(out.next.last_action == st.last_action);
  }
}

TEST_CASE("target tracking: at min with no load, min is the bound, not the step") {
  auto cfg = base_config();  // min 2, scale_in_step 1
  auto out = decide_target_tracking(cfg, PolicyState{}, pool(2, 0.0), kNow);
  INFO(out.decision.log_line());
  CHECK(out.decision.desired == 2);
  CHECK(has_bound(out.decision, Bound::min));
  CHECK_FALSE(has_bound(out.decision, Bound::step));
  // a step that does bind is still reported when min does not raise the count
  out = decide_target_tracking(cfg, PolicyState{}, pool(5, 0.0), kNow);
  CHECK(out.decision.desired == 4);
  CHECK(has_bound(out.decision, Bound::step));
}

TEST_CASE("target tracking: the largest desired count over the targets wins") {
  auto cfg = base_config();
  cfg.targets = {{ScalerMetric::cpu_percent, 60.0},
                 {ScalerMetric::latency_p95_ms, 200.0},
                 {ScalerMetric::active_per_backend, 10.0},
                 {ScalerMetric::requests_per_backend, 50.0}};
  auto obs = pool(4, 30.0);  // cpu alone: 2
  for (auto& b : obs.backends) {
    b.latency = latency_in(0.5, 100);  // p95 inside (0.25, 0.5] → 487.5 ms → ceil(4 × 2.44) = 10
    b.active = 5;                      // → 2
    b.requests_per_s = 100;            // → 8
  }
  auto d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  INFO(d.log_line());
  REQUIRE(d.targets.size() == 4);
  CHECK(d.targets[0].desired == 2);
  CHECK(d.targets[1].value == Approx(487.5));
  CHECK(d.targets[1].desired == 10);
  CHECK(d.targets[2].desired == 2);
  CHECK(d.targets[3].desired == 8);
  CHECK(d.recommended == 10);
  CHECK(d.launch == 6);

  // p50: rank 50 of 100 in (0.25, 0.5] → 375 ms → ceil(4 × 1.875) = 8
  cfg.targets = {{ScalerMetric::latency_p50_ms, 200.0}};
  d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  CHECK(d.targets[0].value == Approx(375.0));
  CHECK(d.desired == 8);
}

TEST_CASE("target tracking: scale-in stabilisation uses the highest recommendation of the window") {
  auto cfg = base_config();
  PolicyState st;
  st.history = {{kNow - seconds{121}, 9},   // outside the 120 s window: forgotten
                {kNow - seconds{100}, 5},
                {kNow - seconds{50}, 4}};
  auto out = decide_target_tracking(cfg, st, pool(6, 20.0), kNow);  // now: ceil(6 × 1/3) = 2
  INFO(out.decision.log_line());
  CHECK(out.decision.recommended == 2);
  CHECK(out.decision.stabilised == 5);
  CHECK(out.decision.desired == 5);
  CHECK(out.decision.drain.size() == 1);
  REQUIRE(out.next.history.size() == 3);  // the 121 s old entry was pruned, now's was added
  CHECK(out.next.history.back() == std::make_pair(kNow, 2u));

  // a window maximum at or above current holds the count
  st.history = {{kNow - seconds{10}, 6}};
  out = decide_target_tracking(cfg, st, pool(6, 20.0), kNow);
  CHECK(out.decision.desired == 6);
  CHECK(has_bound(out.decision, Bound::stabilisation));
  CHECK_FALSE(out.decision.acts());

  // the window does not delay a scale-out
  st.history = {{kNow - seconds{10}, 2}};
  out = decide_target_tracking(cfg, st, pool(2, 120.0), kNow);
  CHECK(out.decision.desired == 4);
}

TEST_CASE("target tracking: a load drop scales in only after the window, one step per decision") {
  auto cfg = base_config();
  PolicyState st;
  int n = 6;
  std::vector<int> sizes;
  // load was high and steady until t = 0 (recommendation 6), then drops to a third.
  st.history = {{kNow - seconds{10}, 6}};
  st.last_action = kNow - seconds{300};
  for (int step = 0; step <= 20; ++step) {
    const TimePoint t = kNow + seconds{10 * step};
    // CPU per backend follows the load: total 6 × 60 % → 120 % after the drop, spread over n
    auto out = decide_target_tracking(cfg, st, pool(n, 120.0 / n), t);
    st = out.next;
    n += static_cast<int>(out.decision.launch) - static_cast<int>(out.decision.drain.size());
    sizes.push_back(n);
  }
  // the window holds 6 until the t = -10 s entry expires (t = 110 s), then one backend per
  // decision, each only after scale_in_cooldown since the previous one
  CHECK(sizes[0] == 6);
  CHECK(sizes[10] == 6);
  CHECK(sizes[11] == 5);   // t = 110 s
  CHECK(sizes[20] == 5);  // t = 200 s: next removal waits for 120 s after the first
}

TEST_CASE("target tracking: warming backends count as capacity, their metrics do not") {
  auto cfg = base_config();
  auto obs = pool(2, 60.0);
  for (int i = 0; i < 2; ++i) {
    BackendSample b = warm(10 + i, 0.0, 0.0);
    b.launched_at = kNow - seconds{5};  // warmup is 20 s
    obs.backends.push_back(b);
  }
  auto d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  INFO(d.log_line());
  CHECK(d.current == 4);
  CHECK(d.warming == 2);
  CHECK(d.targets[0].samples == 2);
  CHECK(d.targets[0].value == Approx(60.0));
  CHECK(d.desired == 4);
  CHECK(has_bound(d, Bound::tolerance));

  // the baseline averages the cold ones in and scales in
  auto b = decide_baseline(cfg, {}, obs, kNow).decision;
  CHECK(b.targets[0].value == Approx(30.0));
  CHECK(b.desired == 2);
  CHECK(b.drain.size() == 2);

  // every backend warming: no data, no change
  for (auto& s : obs.backends) s.launched_at = kNow - seconds{1};
  d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  CHECK(d.desired == 4);
  CHECK(has_bound(d, Bound::missing_data));
  CHECK_THAT(d.missing, Catch::Contains("warmup"));
}

TEST_CASE("target tracking: missing or stale metrics never cause a scale-in") {
  struct Row {
    const char* name;
    ScalerMetric metric;
    double target;
    bool lb_ok;
    std::optional<double> cpu_of_backend0;  // nullopt: that backend has no CPU data
    double cpu_others;
    unsigned want_desired;
    bool want_missing_bound;
  };
  const Row rows[] = {
      {"one backend without CPU, others low", ScalerMetric::cpu_percent, 60, true, std::nullopt, 20, 4, true},
      {"one backend without CPU, others high", ScalerMetric::cpu_percent, 60, true, std::nullopt, 120, 8, false},
      {"every backend without CPU", ScalerMetric::cpu_percent, 60, true, std::nullopt, -1, 4, true},
      {"failed scrape, latency target", ScalerMetric::latency_p95_ms, 200, false, 20.0, 20, 4, true},
      {"failed scrape, requests target", ScalerMetric::requests_per_backend, 50, false, 20.0, 20, 4, true},
      {"failed scrape, active target", ScalerMetric::active_per_backend, 10, false, 20.0, 20, 4, true},
  };
  for (const auto& r : rows) {
    INFO(r.name);
    auto cfg = base_config();
    cfg.targets = {{r.metric, r.target}};
    Observation obs;
    for (int i = 0; i < 4; ++i) {
      std::optional<double> cpu = i == 0 ? r.cpu_of_backend0 : std::optional<double>(r.cpu_others);
      if (r.cpu_others < 0) cpu = std::nullopt;
      auto b = warm(i, cpu, 0.0);
      b.requests_per_s = 1.0;
      b.latency = latency_in(0.01, 5);
      obs.backends.push_back(b);
    }
    obs.lb_metrics_ok = r.lb_ok;
    if (!r.lb_ok) obs.lb_metrics_error = "scrape of http://127.0.0.1:9901/metrics failed: connection refused";
    auto d = decide_target_tracking(cfg, {}, obs, kNow).decision;
    INFO(d.log_line());
    CHECK(d.desired == r.want_desired);
    CHECK(d.drain.empty());
    CHECK(has_bound(d, Bound::missing_data) == r.want_missing_bound);
    CHECK_FALSE(d.missing.empty());  // always reported
    if (!r.lb_ok) CHECK_THAT(d.log_line(), Catch::Contains("connection refused"));
  }

  // a failed scrape does not hide a CPU target asking for more
  auto cfg = base_config();
  cfg.targets = {{ScalerMetric::cpu_percent, 60}, {ScalerMetric::latency_p95_ms, 200}};
  auto obs = pool(4, 90.0);
  obs.lb_metrics_ok = false;
  auto d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  CHECK(d.desired == 6);
  CHECK(d.targets[1].desired == 4);
  CHECK_FALSE(d.targets[1].value.has_value());
}

TEST_CASE("target tracking: an idle pool (no requests) shrinks on a latency target") {
  auto cfg = base_config();
  cfg.targets = {{ScalerMetric::latency_p95_ms, 200}};
  auto obs = pool(4, 0.0);
  for (auto& b : obs.backends) b.latency = latency_in(0.01, 0);
  auto d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  INFO(d.log_line());
  CHECK(d.targets[0].desired == 0);
  CHECK_THAT(d.targets[0].note, Catch::Contains("idle"));
  CHECK(d.desired == 3);  // one step
}

TEST_CASE("target tracking: schedule floor in UTC") {
  auto cfg = base_config();
  cfg.schedule = {schedule_entry("0 8 * * 1-5", hours{10}, 4)};
  struct Row { TimePoint t; unsigned want; bool bound; };
  const TimePoint monday = TimePoint{sys_days{year{2026} / January / 5}};
  const Row rows[] = {
      {monday + hours{7} + minutes{59}, 2, false},
      {monday + hours{8}, 4, true},
      {monday + hours{17} + minutes{59}, 4, true},
      {monday + hours{18}, 2, false},
      {monday + days{5} + hours{9}, 2, false},  // Saturday
  };
  for (const auto& r : rows) {
    INFO(epoch_seconds(r.t));
    // 2 backends at low load, an action just happened: only the floor can move the count
    PolicyState st;
    st.last_action = r.t - seconds{1};
    Observation obs;
    for (int i = 0; i < 2; ++i) {
      auto b = warm(i, 10.0);
      b.launched_at = r.t - hours{1};
      obs.backends.push_back(b);
    }
    auto d = decide_target_tracking(cfg, st, obs, r.t).decision;
    INFO(d.log_line());
    CHECK(d.desired == r.want);
    CHECK(has_bound(d, Bound::schedule) == r.bound);
    CHECK(d.launch == r.want - 2);
  }
  // max wins over a floor above it
  cfg.schedule = {schedule_entry("* * * * *", hours{1}, 20)};
  auto d = decide_target_tracking(cfg, {}, pool(2, 60), kNow).decision;
  CHECK(d.desired == 10);
  CHECK(has_bound(d, Bound::max));
}

TEST_CASE("target tracking: scale_in_step caps removals per decision") {
  for (unsigned step : {1u, 2u, 3u, 10u}) {
    auto cfg = base_config();
    cfg.scale_in_step = step;
    auto d = decide_target_tracking(cfg, {}, pool(10, 12.0), kNow).decision;  // wants 2
    INFO(step);
    CHECK(d.drain.size() == std::min(step, 8u));
    CHECK(d.desired == 10 - std::min(step, 8u));
  }
}

TEST_CASE("scale-in victims: fewest in-flight, newest first on ties, unknown last") {
  std::vector<BackendSample> bs;
  auto add = [&](const char* addr, int age_s, std::optional<double> active, bool draining = false) {
    BackendSample b;
    b.address = addr;
    b.launched_at = kNow - seconds{age_s};
    b.active = active;
    b.draining = draining;
    bs.push_back(b);
  };
  add("a:1", 100, 3);
  add("b:1", 50, 1);
  add("c:1", 10, 1);   // newest of the two with 1
  add("d:1", 5, std::nullopt);
  add("e:1", 1, 0, true);  // draining already: never chosen again
  add("f:1", 200, 0);
  struct Row { unsigned k; std::vector<std::string> want; };
  const Row rows[] = {
      {0, {}},
      {1, {"f:1"}},
      {2, {"f:1", "c:1"}},
      {3, {"f:1", "c:1", "b:1"}},
      {5, {"f:1", "c:1", "b:1", "a:1", "d:1"}},
      {9, {"f:1", "c:1", "b:1", "a:1", "d:1"}},
  };
  for (const auto& r : rows) {
    INFO(r.k);
    CHECK(choose_victims(bs, r.k) == r.want);
  }
}

TEST_CASE("a scale-out during a drain cancels the drain before launching") {
  auto cfg = base_config();
  auto obs = pool(3, 120.0);  // 3 serving at 120 % of target → 6
  auto d1 = warm(7, 50.0, 4.0);
  d1.draining = true;
  auto d2 = warm(8, 50.0, 9.0);
  d2.draining = true;
  obs.backends.push_back(d1);
  obs.backends.push_back(d2);
  auto d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  INFO(d.log_line());
  CHECK(d.current == 3);
  CHECK(d.draining == 2);
  CHECK(d.desired == 6);
  // both drains cancelled (least drained first), one launch for the rest
  CHECK(d.cancel_drain == std::vector<std::string>{d2.address, d1.address});
  CHECK(d.launch == 1);
  CHECK(d.action() == "cancel_drain 2 + launch 1");

  // a scale-out of one cancels only one drain and launches nothing
  obs = pool(3, 80.0);  // → 4
  obs.backends.push_back(d1);
  obs.backends.push_back(d2);
  d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  CHECK(d.cancel_drain == std::vector<std::string>{d2.address});
  CHECK(d.launch == 0);
  CHECK(d.acts());

  // draining backends are neither capacity nor measured
  obs = pool(3, 60.0);
  obs.backends.push_back(d1);
  d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  CHECK(d.current == 3);
  CHECK(d.targets[0].samples == 3);
  CHECK_FALSE(d.acts());
}

TEST_CASE("baseline: plain ratio, symmetric cooldown, no stabilisation or step") {
  auto cfg = base_config();
  PolicyState st;
  st.history = {{kNow - seconds{10}, 10}};  // ignored by the baseline
  auto d = decide_baseline(cfg, st, pool(10, 12.0), kNow).decision;
  CHECK(d.desired == 2);
  CHECK(d.drain.size() == 8);
  st.last_action = kNow - seconds{29};
  d = decide_baseline(cfg, st, pool(10, 12.0), kNow).decision;
  CHECK(d.desired == 10);
  CHECK(has_bound(d, Bound::cooldown));
  st.last_action = kNow - seconds{30};
  d = decide_baseline(cfg, st, pool(10, 12.0), kNow).decision;
  CHECK(d.desired == 2);
}

TEST_CASE("decision explanation: one log line and JSON with inputs, targets, bounds, action") {
  auto cfg = base_config();
  cfg.targets = {{ScalerMetric::cpu_percent, 60}, {ScalerMetric::latency_p95_ms, 200}};
  auto obs = pool(4, 30.0);
  obs.lb_metrics_ok = false;
  obs.lb_metrics_error = "scrape failed";
  auto d = decide_target_tracking(cfg, {}, obs, kNow).decision;
  const std::string line = d.log_line();
  CHECK(line.find('\n') == std::string::npos);
  CHECK_THAT(line, Catch::StartsWith("decision pool=app policy=target_tracking current=4 warming=0 draining=0"));
  CHECK_THAT(line, Catch::Contains("cpu_percent=30/60->2"));
  CHECK_THAT(line, Catch::Contains("latency_p95_ms=missing/200->4(no data: scrape failed)"));
  CHECK_THAT(line, Catch::Contains("desired=4 bound=missing_data"));
  CHECK_THAT(line, Catch::EndsWith("action=none"));

  nlohmann::json j = d;
  CHECK(j["pool"] == "app");
  CHECK(j["current"] == 4);
  CHECK(j["desired"] == 4);
  CHECK(j["action"] == "none");
  CHECK(j["bounds"] == nlohmann::json::array({"missing_data"}));
  CHECK(j["targets"][0]["metric"] == "cpu_percent");
  CHECK(j["targets"][0]["value"] == 30.0);
  CHECK(j["targets"][1]["value"].is_null());
  CHECK(j["time"] == Approx(epoch_seconds(kNow)));

  cfg.targets = {{ScalerMetric::cpu_percent, 60}};
  auto out = decide_target_tracking(cfg, {}, pool(4, 30.0), kNow);
  nlohmann::json j2 = out.decision;
  CHECK(j2["action"] == "drain 1");
  CHECK(j2["drain"].size() == 1);
  CHECK_THAT(out.decision.log_line(), Catch::Contains("action=drain 1 drain=127.0.0.1:91"));
}
