#include "scaler/policies/target_tracking.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "scaler/policies/cron.h"
#include "scaler/policies/metric_name.h"

namespace ebb::scaler {
namespace {

using config::ScalerMetric;
constexpr double kTolerance = 0.10;

bool from_lb(ScalerMetric m) { return m != ScalerMetric::cpu_percent; }

struct TargetEval {
  TargetResult result;
  bool scale_in_blocked = false;  // the metrics asked for less, missing data kept `current`
  bool no_data = false;
  bool in_tolerance = false;
};

// Evaluates one target over `measured` (the backends whose metrics count). `block_on_missing`:
// partial or missing data may not lower the count (the SPEC rule; the baseline does not have it).
TargetEval evaluate(const config::ScalerTarget& t, const std::vector<const BackendSample*>& measured,
                    unsigned current, const Observation& obs, bool block_on_missing) {
  TargetEval e;
  TargetResult& r = e.result;
  r.metric = t.metric;
  r.target = t.target;
  r.desired = current;
  bool idle = false;
  if (measured.empty()) {
    r.note = current == 0 ? "no backends" : "no data: all backends in warmup";
  } else if (from_lb(t.metric) && !obs.lb_metrics_ok) {
    r.missing = static_cast<unsigned>(measured.size());
    r.note = "no data: " + (obs.lb_metrics_error.empty() ? std::string("LB scrape failed") : obs.lb_metrics_error);
  } else if (t.metric == ScalerMetric::latency_p50_ms || t.metric == ScalerMetric::latency_p95_ms) {
    Histogram merged;
    for (const auto* b : measured) {
      if (b->latency) {
        merged.merge(*b->latency);
        ++r.samples;
      } else {
        ++r.missing;
      }
    }
    if (r.samples > 0) {
      const double q = t.metric == ScalerMetric::latency_p50_ms ? 0.5 : 0.95;
      if (auto v = histogram_quantile(q, merged)) r.value = *v * 1000.0;
      else if (merged.buckets.empty() ? merged.count == 0 : merged.buckets.back().count == 0) idle = true;
    }
  } else {
    double sum = 0;
    for (const auto* b : measured) {
      const std::optional<double>& v = t.metric == ScalerMetric::cpu_percent        ? b->cpu_percent
                                       : t.metric == ScalerMetric::requests_per_backend ? b->requests_per_s
                                                                                        : b->active;
      if (v && std::isfinite(*v)) {
        sum += *v;
        ++r.samples;
      } else {
        ++r.missing;
      }
    }
    if (r.samples > 0) r.value = sum / r.samples;
  }

  if (idle) {
    // No request at all in the interval: no latency to track, and no load to keep capacity for.
    r.desired = 0;
    r.note = "idle: no requests";
  } else if (r.value) {
    const double ratio = *r.value / t.target;
    if (std::fabs(ratio - 1.0) <= kTolerance) {
      r.desired = current;
      r.note = "within tolerance";
      e.in_tolerance = true;
    } else {
      // the epsilon keeps 3 × 0.8 / 0.6 = 4.0000000001 from becoming 5
      const double want = std::ceil(static_cast<double>(current) * ratio - 1e-9);
      r.desired = want <= 0 ? 0 : want >= 1e6 ? 1000000u : static_cast<unsigned>(want);
    }
  } else if (r.note.empty()) {
    r.note = "no data: " + std::to_string(r.missing) + " backend(s) without " + metric_name(t.metric);
  }
  if (!r.value && !idle) e.no_data = true;
  if (block_on_missing && r.missing > 0 && r.value && r.desired < current) {
    r.note = "scale-in blocked: " + std::to_string(r.missing) + " backend(s) without data";
    r.desired = current;
    e.scale_in_blocked = true;
  }
  return e;
}

unsigned count_draining(const Observation& obs) {
  unsigned n = 0;
  for (const auto& b : obs.backends) n += b.draining ? 1 : 0;
  return n;
}

// Clamps to [min, max] raised to the schedule floor, records the bound, and plans the action.
void clamp_and_plan(const config::ScalerConfig& cfg, const Observation& obs, Decision& d) {
  auto floor = schedule_floor(cfg.schedule, d.at);
  d.schedule_floor = floor.floor;
  d.schedule_cron = floor.cron;
  if (d.desired < cfg.min) {
    d.desired = cfg.min;
    d.bounds.push_back(Bound::min);
  }
  if (d.desired < floor.floor) {
    d.desired = floor.floor;
    d.bounds.push_back(Bound::schedule);
  }
  if (d.desired > cfg.max) {
    d.desired = cfg.max;
    d.bounds.push_back(Bound::max);
  }
  // A floor that raised the count removes fewer than scale_in_step: the step did not bind (else
  // every idle decision at `min` would read "bound=step,min").
  if (std::find(d.bounds.begin(), d.bounds.end(), Bound::min) != d.bounds.end() ||
      std::find(d.bounds.begin(), d.bounds.end(), Bound::schedule) != d.bounds.end())
    std::erase(d.bounds, Bound::step);
  if (d.desired > d.current) {
    const unsigned k = d.desired - d.current;
    d.cancel_drain = choose_drains_to_cancel(obs.backends, k);
    d.launch = k - static_cast<unsigned>(d.cancel_drain.size());
  } else if (d.desired < d.current) {
    d.drain = choose_victims(obs.backends, d.current - d.desired);
  }
}

std::string summarize_missing(const std::vector<TargetEval>& evals) {
  std::string s;
  for (const auto& e : evals) {
    if (!e.no_data && !e.scale_in_blocked && e.result.missing == 0) continue;
    if (!s.empty()) s += "; ";
    s += std::string(metric_name(e.result.metric)) + ": ";
    s += e.no_data || e.scale_in_blocked ? e.result.note
                                         : std::to_string(e.result.missing) + " backend(s) without data";
  }
  return s;
}

Decision begin(const config::ScalerConfig& cfg, const Observation& obs, TimePoint now, const char* policy) {
  Decision d;
  d.at = now;
  d.pool = cfg.pool;
  d.policy = policy;
  d.draining = count_draining(obs);
  d.current = static_cast<unsigned>(obs.backends.size()) - d.draining;
  return d;
}

}  // namespace

PolicyOutput decide_target_tracking(const config::ScalerConfig& cfg, const PolicyState& state,
                                    const Observation& obs, TimePoint now) {
  PolicyOutput out;
  Decision& d = out.decision;
  d = begin(cfg, obs, now, "target_tracking");

  std::vector<const BackendSample*> measured;
  for (const auto& b : obs.backends) {
    if (b.draining) continue;
    if (now - b.launched_at < cfg.warmup) ++d.warming;
    else measured.push_back(&b);
  }

  std::vector<TargetEval> evals;
  for (const auto& t : cfg.targets) evals.push_back(evaluate(t, measured, d.current, obs, true));
  d.recommended = d.current;
  if (!evals.empty()) {
    d.recommended = 0;
    for (const auto& e : evals) d.recommended = std::max(d.recommended, e.result.desired);
  }
  bool any_value = false, all_tolerance = true, any_blocked = false;
  for (const auto& e : evals) {
    d.targets.push_back(e.result);
    if (e.result.value) {
      any_value = true;
      all_tolerance = all_tolerance && e.in_tolerance;
    }
    any_blocked = any_blocked || e.scale_in_blocked || e.no_data;
  }
  d.missing = summarize_missing(evals);
  if (d.recommended == d.current) {
    if (any_value && all_tolerance) d.bounds.push_back(Bound::tolerance);
    else if (any_blocked) d.bounds.push_back(Bound::missing_data);
  }

  // Stabilisation window: the highest recommendation over the last scale_in_cooldown.
  for (const auto& h : state.history)
    if (now - h.first < cfg.scale_in_cooldown) out.next.history.push_back(h);
  out.next.history.emplace_back(now, d.recommended);
  d.stabilised = 0;
  for (const auto& h : out.next.history) d.stabilised = std::max(d.stabilised, h.second);

  const auto since_action = [&](Millis cooldown) {
    return !state.last_action || now - *state.last_action >= cooldown;
  };
  d.desired = d.current;
  if (d.recommended > d.current) {
    if (since_action(cfg.scale_out_cooldown)) d.desired = d.recommended;
    else d.bounds.push_back(Bound::cooldown);
  } else if (d.recommended < d.current) {
    if (d.stabilised >= d.current) {
      d.bounds.push_back(Bound::stabilisation);
    } else if (!since_action(cfg.scale_in_cooldown)) {
      d.bounds.push_back(Bound::cooldown);
    } else {
      d.desired = d.stabilised;
      if (d.current - d.desired > cfg.scale_in_step) {
        d.desired = d.current - cfg.scale_in_step;
        d.bounds.push_back(Bound::step);
      }
    }
  }
  clamp_and_plan(cfg, obs, d);

  out.next.last_action = d.acts() ? std::optional<TimePoint>(now) : state.last_action;
  return out;
}

PolicyOutput decide_baseline(const config::ScalerConfig& cfg, const PolicyState& state,
                             const Observation& obs, TimePoint now) {
  PolicyOutput out;
  Decision& d = out.decision;
  d = begin(cfg, obs, now, "baseline");
  std::vector<const BackendSample*> measured;
  for (const auto& b : obs.backends) {
    if (b.draining) continue;
    if (now - b.launched_at < cfg.warmup) ++d.warming;
    measured.push_back(&b);
  }
  std::vector<TargetEval> evals;
  d.recommended = d.current;
  if (!cfg.targets.empty()) d.recommended = 0;
  for (const auto& t : cfg.targets) {
    evals.push_back(evaluate(t, measured, d.current, obs, false));
    d.targets.push_back(evals.back().result);
    d.recommended = std::max(d.recommended, evals.back().result.desired);
  }
  d.missing = summarize_missing(evals);
  d.stabilised = d.recommended;
  d.desired = d.current;
  if (d.recommended != d.current) {
    if (!state.last_action || now - *state.last_action >= cfg.scale_out_cooldown) d.desired = d.recommended;
    else d.bounds.push_back(Bound::cooldown);
  }
  clamp_and_plan(cfg, obs, d);
  out.next.last_action = d.acts() ? std::optional<TimePoint>(now) : state.last_action;
  return out;
}

std::vector<std::string> choose_victims(const std::vector<BackendSample>& backends, unsigned k) {
  std::vector<const BackendSample*> c;
  for (const auto& b : backends)
    if (!b.draining) c.push_back(&b);
  const double unknown = std::numeric_limits<double>::infinity();
  std::sort(c.begin(), c.end(), [&](const BackendSample* a, const BackendSample* b) {
    const double aa = a->active.value_or(unknown), ba = b->active.value_or(unknown);
    if (aa != ba) return aa < ba;
    if (a->launched_at != b->launched_at) return a->launched_at > b->launched_at;
    return a->address < b->address;
  });
  std::vector<std::string> out;
  for (size_t i = 0; i < c.size() && out.size() < k; ++i) out.push_back(c[i]->address);
  return out;
}

std::vector<std::string> choose_drains_to_cancel(const std::vector<BackendSample>& backends, unsigned k) {
  std::vector<const BackendSample*> c;
  for (const auto& b : backends)
    if (b.draining) c.push_back(&b);
  std::sort(c.begin(), c.end(), [](const BackendSample* a, const BackendSample* b) {
    const double aa = a->active.value_or(0), ba = b->active.value_or(0);
    if (aa != ba) return aa > ba;
    if (a->launched_at != b->launched_at) return a->launched_at > b->launched_at;
    return a->address < b->address;
  });
  std::vector<std::string> out;
  for (size_t i = 0; i < c.size() && out.size() < k; ++i) out.push_back(c[i]->address);
  return out;
}

}  // namespace ebb::scaler
