#include "lb/balancer/peak_ewma.h"

#include <algorithm>
#include <cmath>

namespace ebb::lb {

void record_response(BackendLive& live, uint64_t latency_ns, int64_t now_ns) {
  // Blend into the estimate as the balancer sees it now (decayed while unobserved), so a
  // backend coming back from a penalty is judged by its fresh samples.
  const double cur = ewma_estimate_ns(live, now_ns);
  const int64_t stamp = live.ewma_stamp_ns.load(std::memory_order_relaxed);
  const double lat = static_cast<double>(latency_ns);
  double next;
  if (cur == 0 || lat >= cur) {
    next = lat;  // peak: slowness shows at once
  } else {
    const double dt = static_cast<double>(std::max<int64_t>(0, now_ns - stamp));
    const double keep = std::exp(-dt / static_cast<double>(kEwmaTauNs));
    next = cur * keep + lat * (1.0 - keep);
  }
  live.peak_ewma_ns.store(std::max<uint64_t>(static_cast<uint64_t>(next), 1), std::memory_order_relaxed);
  live.ewma_stamp_ns.store(now_ns, std::memory_order_relaxed);
}

void record_failure(BackendLive& live, int64_t now_ns, uint64_t penalty_ns) {
  const auto cur = static_cast<uint64_t>(ewma_estimate_ns(live, now_ns));
  record_response(live, std::max(penalty_ns, 2 * cur), now_ns);
}

double detail::decayed_estimate_ns(double value, int64_t dt_ns) {
  return value * std::exp(-static_cast<double>(dt_ns) / static_cast<double>(kEwmaTauNs));
}

}  // namespace ebb::lb
