// The per-backend numbers the scaler needs from one ebb-lb's /metrics (SPEC §6), and the rates
// derived from two consecutive scrapes:
//   requests/s  from ebb_requests_total{pool,backend,...} (summed over listener and code),
//   latency     from ebb_request_duration_seconds{pool,backend} histogram bucket increases,
//   in-flight   from ebb_backend_active{pool,backend}.
// Pure functions; the scrape time is an input.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scaler/metrics/histogram.h"
#include "scaler/metrics/prometheus_parser.h"
#include "scaler/policies/time.h"

namespace ebb::scaler {

// One backend's cumulative counters in one scrape of one LB.
struct BackendCounters {
  double requests = 0;        // sum of ebb_requests_total over listeners and codes (0 if no series)
  Histogram latency;          // cumulative ebb_request_duration_seconds (empty if no series)
  std::optional<double> active;  // ebb_backend_active
};

// One scrape of one LB, restricted to one pool. A backend is listed when any of its series
// (requests, duration, active, up, state) appears.
struct PoolScrape {
  TimePoint at{};
  std::map<std::string, BackendCounters> backends;  // by address
};

PoolScrape extract_pool(const Exposition& e, std::string_view pool, TimePoint at);

// What one LB says about a backend over the interval between two scrapes.
struct BackendRates {
  std::optional<double> requests_per_s;  // nullopt: not in both scrapes (no rate yet)
  std::optional<Histogram> latency;      // bucket increase; nullopt like requests_per_s
  std::optional<double> active;          // from the latest scrape
};

// Rates between `prev` and `cur` of the same LB. Counter resets (a value going down, e.g. an LB
// restart) count the new value as the increase, as Prometheus's rate() does. A non-positive
// interval gives no rates.
std::map<std::string, BackendRates> derive_rates(const PoolScrape& prev, const PoolScrape& cur);

// Combines the views of several LBs (each fronting a share of the traffic): rates and in-flight
// add up, histograms merge. A value is missing when any LB lacks it for that backend — a partial
// sum would look like less load than there is.
std::map<std::string, BackendRates> combine_lbs(const std::vector<std::map<std::string, BackendRates>>& per_lb);

}  // namespace ebb::scaler
