// What a policy sees at one evaluation: the pool's members and their latest metrics.
// Built by the controller from LB scrapes and the driver (or by the simulator). Missing data is
// std::nullopt, never zero: a policy must be able to tell "idle" from "unknown".
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "scaler/metrics/histogram.h"
#include "scaler/policies/time.h"

namespace ebb::scaler {

struct BackendSample {
  std::string address;                 // host:port, as registered with the LBs
  TimePoint launched_at{};             // when the scaler launched (or adopted) it
  bool draining = false;               // a drain is in progress: not capacity any more
  std::optional<double> cpu_percent;   // from the driver, averaged over the last interval
  std::optional<double> requests_per_s;  // from the LBs' ebb_requests_total deltas, summed over LBs
  std::optional<double> active;        // in-flight requests (ebb_backend_active), summed over LBs
  std::optional<Histogram> latency;    // ebb_request_duration_seconds bucket increase over the interval
};

struct Observation {
  std::vector<BackendSample> backends;
  // False when a scrape of any LB failed or is stale: every LB-sourced metric is then missing.
  bool lb_metrics_ok = true;
  std::string lb_metrics_error;  // why, for the decision's explanation
};

}  // namespace ebb::scaler
