#include "scaler/simulate.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "scaler/policies/metric_name.h"
#include "scaler/policies/target_tracking.h"

namespace ebb::scaler {
namespace {

using namespace std::chrono;

// ebb-lb's request duration buckets (seconds).
const double kBounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
constexpr double kStepRise = 1.5;        // a trace row this much above the previous one is a load step
constexpr double kTolerance = 1.10;      // the policies' ±10 % band
constexpr double kFlapWindowS = 600;     // a reversal within this long of the previous action is an oscillation

struct SimBackend {
  std::string address;
  TimePoint launched{};
  TimePoint ready_at{};
  bool draining = false;
  TimePoint drain_end{};
  // accumulated since the last decision
  double busy_s = 0;
  double ready_s = 0;
  double served = 0;
};

std::optional<double> parse_number(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Histogram empty_histogram() {
  Histogram h;
  for (double b : kBounds) h.buckets.push_back({b, 0});
  h.buckets.push_back({std::numeric_limits<double>::infinity(), 0});
  return h;
}

// Adds `n` requests with a fixed wait plus an exponential sojourn of mean `mean_s`.
void observe(Histogram& h, double n, double wait_s, double mean_s) {
  if (n <= 0) return;
  for (auto& b : h.buckets) {
    if (std::isinf(b.le)) b.count += n;
    else if (b.le > wait_s) b.count += n * (1.0 - std::exp(-(b.le - wait_s) / mean_s));
  }
  h.count += n;
  h.sum += n * (wait_s + mean_s);
}

Histogram scaled(const Histogram& h, double f) {
  Histogram out = h;
  for (auto& b : out.buckets) b.count *= f;
  out.count *= f;
  out.sum *= f;
  return out;
}

double target_utilisation(const config::ScalerConfig& cfg) {
  for (const auto& t : cfg.targets)
    if (t.metric == config::ScalerMetric::cpu_percent) return std::clamp(t.target / 100.0, 0.01, 1.0);
  return 1.0;
}

}  // namespace

Result<std::vector<TracePoint>> parse_trace(std::string_view csv) {
  std::vector<TracePoint> out;
  size_t pos = 0;
  unsigned line_no = 0;
  while (pos < csv.size()) {
    size_t nl = csv.find('\n', pos);
    std::string_view line = csv.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? csv.size() : nl + 1;
    ++line_no;
    std::string_view trimmed = line;
    while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\t')) trimmed.remove_prefix(1);
    if (trimmed.empty() || trimmed == "\r" || trimmed.front() == '#') continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    size_t comma = trimmed.find(',');
    if (comma == std::string_view::npos) return make_error(where + "expected \"seconds,requests_per_second\"");
    auto t = parse_number(trimmed.substr(0, comma));
    auto rps = parse_number(trimmed.substr(comma + 1));
    if (!t || !rps) {
      if (out.empty() && line_no == 1 && !t) continue;  // a header row
      return make_error(where + "expected two numbers \"seconds,requests_per_second\"");
    }
    if (*rps < 0) return make_error(where + "requests_per_second must not be negative");
    if (out.empty() && *t != 0) return make_error(where + "the trace must start at 0 seconds");
    if (!out.empty() && *t <= out.back().t) return make_error(where + "seconds must increase");
    out.push_back({*t, *rps});
  }
  if (out.size() < 2) return make_error("a trace needs at least two rows (a start and an end)");
  return out;
}

Result<std::vector<TracePoint>> load_trace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = parse_trace(ss.str());
  if (!r) return make_error(path + ": " + r.error());
  return r;
}

Scorecard simulate(const config::ScalerConfig& cfg, const std::vector<TracePoint>& trace, SimPolicy policy,
                   std::vector<Decision>* decisions) {
  Scorecard sc;
  sc.policy = policy == SimPolicy::target_tracking ? "target_tracking" : "baseline";
  if (trace.size() < 2) return sc;
  const double cap = cfg.simulate.capacity_rps;
  const double service_s = cfg.simulate.service_ms / 1000.0;
  const double util = target_utilisation(cfg);
  const double servers = std::max(1.0, cap * service_s);
  const auto duration_s = static_cast<int64_t>(std::ceil(trace.back().t));
  sc.duration_s = static_cast<double>(duration_s);
  const TimePoint start = TimePoint{sys_days{year{2026} / January / 5}};  // a Monday, 00:00 UTC

  unsigned next_id = 0;
  auto new_backend = [&](TimePoint launched, TimePoint ready) {
    SimBackend b;
    ++next_id;
    b.address = "10.0." + std::to_string(next_id / 250) + "." + std::to_string(next_id % 250 + 1) + ":8080";
    b.launched = launched;
    b.ready_at = ready;
    return b;
  };
  std::vector<SimBackend> backends;
  for (unsigned i = 0; i < std::max(cfg.min, 1u); ++i) backends.push_back(new_backend(start - hours{1}, start - hours{1}));

  // load steps and how long each row's rate lasts
  for (size_t i = 1; i + 1 < trace.size(); ++i)
    if (trace[i].rps > trace[i - 1].rps && trace[i].rps >= kStepRise * trace[i - 1].rps)
      sc.steps.push_back({trace[i].t, trace[i - 1].rps, trace[i].rps, std::nullopt});

  PolicyState state;
  Histogram interval_hist = empty_histogram();
  double backlog = 0;
  double last_served = 0, last_mean_s = service_s, last_wait_s = 0;
  TimePoint next_decision = start + cfg.interval;
  int last_direction = 0;
  TimePoint last_action_at{};
  double under_s = 0, over_s = 0, missing_sum = 0, excess_sum = 0;
  size_t row = 0;

  for (int64_t sec = 0; sec < duration_s; ++sec) {
    const TimePoint now = start + seconds{sec};
    std::erase_if(backends, [&](const SimBackend& b) { return b.draining && now >= b.drain_end; });

    if (now >= next_decision) {
      next_decision += cfg.interval;
      unsigned ready_now = 0;
      for (const auto& b : backends) ready_now += !b.draining && now >= b.ready_at ? 1 : 0;
      const double in_flight_total = last_served * (last_wait_s + last_mean_s) + backlog;
      double served_total = 0;
      for (const auto& b : backends) served_total += b.served;
      Observation obs;
      for (auto& b : backends) {
        BackendSample s;
        s.address = b.address;
        s.launched_at = b.launched;
        s.draining = b.draining;
        if (b.ready_s > 0) {
          s.cpu_percent = 100.0 * b.busy_s / b.ready_s;
          s.requests_per_s = b.served / b.ready_s;
          s.latency = served_total > 0 ? scaled(interval_hist, b.served / served_total) : empty_histogram();
          s.active = !b.draining && ready_now > 0 ? in_flight_total / ready_now : 0.0;
        } else {  // still starting: up, idle, no traffic yet
          s.cpu_percent = 0.0;
          s.requests_per_s = 0.0;
          s.latency = empty_histogram();
          s.active = 0.0;
        }
        obs.backends.push_back(std::move(s));
        b.busy_s = b.ready_s = b.served = 0;
      }
      if (auto p95 = histogram_quantile(0.95, interval_hist)) sc.worst_p95_ms = std::max(sc.worst_p95_ms, *p95 * 1000);
      interval_hist = empty_histogram();

      PolicyOutput out = policy == SimPolicy::target_tracking ? decide_target_tracking(cfg, state, obs, now)
                                                              : decide_baseline(cfg, state, obs, now);
      state = std::move(out.next);
      const Decision& d = out.decision;
      for (const auto& a : d.cancel_drain)
        for (auto& b : backends)
          if (b.address == a) b.draining = false;
      for (unsigned i = 0; i < d.launch; ++i) backends.push_back(new_backend(now, now + cfg.warmup));
      for (const auto& a : d.drain)
        for (auto& b : backends)
          if (b.address == a) {
            b.draining = true;  // finishes what it has in service, then is terminated
            b.drain_end = now + seconds{std::max<int64_t>(1, static_cast<int64_t>(std::ceil(last_wait_s + last_mean_s)))};
          }
      if (d.acts()) {
        ++sc.actions;
        const int dir = d.drain.empty() ? 1 : -1;
        if (last_direction != 0 && dir != last_direction) {
          ++sc.reversals;
          if (duration<double>(now - last_action_at).count() < kFlapWindowS) ++sc.oscillations;
        }
        last_direction = dir;
        last_action_at = now;
      }
      sc.launched += d.launch;
      sc.drained += static_cast<unsigned>(d.drain.size());
      sc.drains_cancelled += static_cast<unsigned>(d.cancel_drain.size());
      if (decisions) decisions->push_back(d);
    }

    // this second's load and service
    while (row + 1 < trace.size() && trace[row + 1].t <= static_cast<double>(sec)) ++row;
    const double load = trace[row].rps;
    unsigned ready = 0, live = 0;
    for (const auto& b : backends) {
      if (b.draining) continue;
      ++live;
      if (now >= b.ready_at) ++ready;
    }
    const double capacity = ready * cap;
    const double available = backlog + load;
    const double served = std::min(available, capacity);
    backlog = available - served;
    const double rho = capacity > 0 ? served / capacity : 0.0;
    // each backend is c parallel servers (c = capacity × service time); M/M/c queueing delay by
    // Sakasegawa's approximation, plus the wait behind the backlog
    const double rho_c = std::min(rho, 0.99);
    const double queueing = service_s / servers * std::pow(rho_c, std::sqrt(2.0 * (servers + 1)) - 1) / (1 - rho_c);
    last_mean_s = service_s;
    last_wait_s = queueing + (capacity > 0 ? backlog / capacity : 0.0);
    last_served = served;
    observe(interval_hist, served, last_wait_s, last_mean_s);
    for (auto& b : backends) {
      if (b.draining || now < b.ready_at) continue;
      b.busy_s += rho;
      b.ready_s += 1;
      b.served += served / ready;
    }

    // the score
    sc.instance_seconds += static_cast<double>(backends.size());
    sc.peak_backends = std::max(sc.peak_backends, static_cast<unsigned>(backends.size()));
    // needed: backends to serve the load at the target utilisation; under-provisioned: the ready
    // ones run above the target's tolerance band
    const double needed = std::max<double>(cfg.min, std::ceil(load / (cap * util) - 1e-9));
    if (capacity * util * kTolerance + 1e-9 < load) {
      under_s += 1;
      missing_sum += std::max(0.0, needed - ready);
    }
    if (live > needed) {
      over_s += 1;
      excess_sum += live - needed;
    }
    for (auto& st : sc.steps) {
      if (st.seconds_to_capacity || static_cast<double>(sec) < st.at) continue;
      const bool same_row = trace[row].t == st.at;
      if (same_row && ready >= needed) st.seconds_to_capacity = static_cast<double>(sec) - st.at;
    }
  }
  sc.under_pct = 100.0 * under_s / sc.duration_s;
  sc.over_pct = 100.0 * over_s / sc.duration_s;
  sc.mean_missing = missing_sum / sc.duration_s;
  sc.mean_excess = excess_sum / sc.duration_s;
  sc.oscillations_per_hour = sc.oscillations / (sc.duration_s / 3600.0);
  return sc;
}

std::string format_scorecards(const config::ScalerConfig& cfg, const std::string& trace_name,
                              const Scorecard& ours, const Scorecard& base) {
  std::string out;
  char buf[256];
  auto line = [&](const char* what, const std::string& a, const std::string& b) {
    std::snprintf(buf, sizeof buf, "%-40s %16s %16s\n", what, a.c_str(), b.c_str());
    out += buf;
  };
  auto num = [](double v, const char* f) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return std::string(b);
  };
  std::string targets;
  for (const auto& t : cfg.targets)
    targets += std::string(targets.empty() ? "" : ", ") + metric_name(t.metric) + "=" + num(t.target, "%g");
  out += "simulation of " + trace_name + ": " + num(ours.duration_s, "%.0f") + " s; pool " + cfg.pool + " min " +
         std::to_string(cfg.min) + " max " + std::to_string(cfg.max) + ", interval " + format_duration(cfg.interval) +
         ", warmup (launch delay) " + format_duration(cfg.warmup) + ", cooldowns out " +
         format_duration(cfg.scale_out_cooldown) + " / in " + format_duration(cfg.scale_in_cooldown) +
         ", scale_in_step " + std::to_string(cfg.scale_in_step) + "\n";
  out += "model: " + num(cfg.simulate.capacity_rps, "%g") + " req/s per backend at 100 % CPU, service " +
         num(cfg.simulate.service_ms, "%g") + " ms; targets: " + (targets.empty() ? "none" : targets) + "\n\n";
  line("", ours.policy, base.policy);
  line("instance-seconds", num(ours.instance_seconds, "%.0f"), num(base.instance_seconds, "%.0f"));
  line("scaling actions", std::to_string(ours.actions), std::to_string(base.actions));
  line("  backends launched / drained",
       std::to_string(ours.launched) + " / " + std::to_string(ours.drained),
       std::to_string(base.launched) + " / " + std::to_string(base.drained));
  line("% time under-provisioned (>target+10%)", num(ours.under_pct, "%.2f"), num(base.under_pct, "%.2f"));
  line("% time over-provisioned (>needed)", num(ours.over_pct, "%.2f"), num(base.over_pct, "%.2f"));
  line("mean missing capacity (backends)", num(ours.mean_missing, "%.3f"), num(base.mean_missing, "%.3f"));
  line("mean excess capacity (backends)", num(ours.mean_excess, "%.3f"), num(base.mean_excess, "%.3f"));
  for (size_t i = 0; i < ours.steps.size() && i < base.steps.size(); ++i) {
    const auto& s = ours.steps[i];
    std::string what = "s to capacity, step @" + num(s.at, "%.0f") + "s " + num(s.from_rps, "%g") + "->" +
                       num(s.to_rps, "%g") + " rps";
    auto val = [&](const LoadStep& x) {
      return x.seconds_to_capacity ? num(*x.seconds_to_capacity, "%.0f") : std::string("not reached");
    };
    line(what.c_str(), val(s), val(base.steps[i]));
  }
  line("oscillations per hour", num(ours.oscillations_per_hour, "%.2f"), num(base.oscillations_per_hour, "%.2f"));
  line("  direction reversals (all)", std::to_string(ours.reversals), std::to_string(base.reversals));
  line("peak backends", std::to_string(ours.peak_backends), std::to_string(base.peak_backends));
  line("worst interval p95 latency (ms)", num(ours.worst_p95_ms, "%.0f"), num(base.worst_p95_ms, "%.0f"));
  return out;
}

}  // namespace ebb::scaler
