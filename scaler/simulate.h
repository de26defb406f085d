// `ebb-scaler --simulate TRACE.csv` (SPEC §7): the policy code of scaler/policies/ run against a
// load trace on a simulated clock, with a simple queueing model of the backends, scored.
//
// The model (1 s ticks): requests arrive at the trace's rate (piecewise constant between rows)
// into one queue at the LB, served by the ready backends, each serving `capacity_rps` at 100 %
// CPU. A launched backend is ready after `warmup` (launch delay = warmup). CPU % = utilisation.
// A backend is c = capacity_rps × service_ms parallel servers; a request waits the M/M/c queueing
// delay (Sakasegawa's approximation) plus its place behind the backlog, then is served in an
// exponentially distributed time of mean service_ms. That gives the latency histogram the LB
// would export; in-flight per backend follows Little's law plus its share of the backlog. A drained backend takes
// no new requests and finishes its in-flight ones at full speed before it is terminated.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/scaler_config.h"
#include "scaler/policies/decision.h"

namespace ebb::scaler {

struct TracePoint {
  double t = 0;    // seconds from the start
  double rps = 0;  // requests per second from t until the next row
};

// CSV `seconds,requests_per_second`; an optional header row, `#` comments and blank lines are
// skipped. Times must start at 0 and increase; the last row marks the end of the trace.
// Errors name the line.
Result<std::vector<TracePoint>> parse_trace(std::string_view csv);
Result<std::vector<TracePoint>> load_trace(const std::string& path);

enum class SimPolicy { target_tracking, baseline };

struct LoadStep {
  double at = 0;  // seconds
  double from_rps = 0, to_rps = 0;
  std::optional<double> seconds_to_capacity;  // nullopt: not reached before the load changed again
};

struct Scorecard {
  std::string policy;
  double duration_s = 0;
  double instance_seconds = 0;    // every launched, not yet terminated instance (warming, draining too)
  unsigned actions = 0;           // decisions that acted
  unsigned launched = 0, drained = 0, drains_cancelled = 0;
  // needed = max(min, ceil(load / (capacity_rps × target utilisation))): the backends that serve
  // the load at the cpu_percent target (100 % without one).
  double under_pct = 0;           // % of time the ready backends run above target + 10 % tolerance
  double over_pct = 0;            // % of time more (non-draining) backends than needed
  double mean_missing = 0;        // time-mean of (needed - ready)+ while under-provisioned, in backends
  double mean_excess = 0;         // time-mean of (backends - needed)+, in backends
  std::vector<LoadStep> steps;    // each rise of >= 50 % in the trace; capacity = ready >= needed
  unsigned reversals = 0;         // every change of direction (scale-out then scale-in, or back)
  unsigned oscillations = 0;      // reversals within 10 minutes of the previous action
  double oscillations_per_hour = 0;
  unsigned peak_backends = 0;
  double worst_p95_ms = 0;        // worst interval p95 latency seen by the LB
};

// Runs one policy over the trace. `decisions`, if given, receives every decision.
// Needed backends at the target utilisation = ceil(load / (capacity_rps × cpu target / 100)) (or
// / capacity_rps without a cpu_percent target), at least `min`.
Scorecard simulate(const config::ScalerConfig& cfg, const std::vector<TracePoint>& trace, SimPolicy policy,
                   std::vector<Decision>* decisions = nullptr);

// Both scorecards side by side, as --simulate prints them.
std::string format_scorecards(const config::ScalerConfig& cfg, const std::string& trace_name,
                              const Scorecard& ours, const Scorecard& baseline);

}  // namespace ebb::scaler
