#include "lb/balancer/slow_start.h"

#include <algorithm>

namespace ebb::lb {

double slow_start_factor(const config::Pool& pool, const Backend& b, int64_t now_ms) {
  const int64_t ramp = pool.slow_start.count();
  if (ramp <= 0 || b.healthy_since_ms <= 0) return 1.0;
  const int64_t elapsed = std::max<int64_t>(0, now_ms - b.healthy_since_ms);
  if (elapsed >= ramp) return 1.0;
  return std::clamp(static_cast<double>(elapsed) / static_cast<double>(ramp), kSlowStartMinFactor,
                    1.0);
}

int64_t slow_start_ramp_end_ms(const config::Pool& pool, std::span<const Backend> backends,
                               int64_t now_ms) {
  const int64_t ramp = pool.slow_start.count();
  if (ramp <= 0) return 0;
  int64_t end = 0;
  for (const Backend& b : backends) {
    if (b.state != BackendState::healthy || b.healthy_since_ms <= 0) continue;
    const int64_t e = b.healthy_since_ms + ramp;
    if (e > now_ms) end = std::max(end, e);
  }
  return end;
}

bool selector_needs_rebuild(const config::Pool& pool, std::span<const Backend> backends,
                            int64_t now_ms) {
  const int64_t ramp = pool.slow_start.count();
  if (ramp <= 0) return false;
  for (const Backend& b : backends) {
    if (b.state != BackendState::healthy || b.healthy_since_ms <= 0) continue;
    if (now_ms < b.healthy_since_ms + ramp + kSlowStartStepMs) return true;
  }
  return false;
}

}  // namespace ebb::lb
