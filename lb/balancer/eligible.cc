#include "lb/balancer/eligible.h"

#include "lb/balancer/pick_util.h"
#include "lb/balancer/slow_start.h"

namespace ebb::lb::detail {

Eligible collect_eligible(const config::Pool& pool, std::span<const Backend> backends,
                          int64_t now_ms) {
  Eligible out;
  out.candidates.reserve(backends.size());
  out.keep_alive.reserve(backends.size());
  out.addresses.reserve(backends.size());  // never reallocated: candidates view its strings
  for (size_t i = 0; i < backends.size(); ++i) {
    const Backend& b = backends[i];
    if (b.state != BackendState::healthy || b.weight == 0) continue;
    std::shared_ptr<BackendLive> live = b.live ? b.live : std::make_shared<BackendLive>();
    Candidate c;
    c.index = static_cast<uint32_t>(i);
    c.weight = b.weight;
    c.factor = slow_start_factor(pool, b, now_ms);
    c.live = live.get();
    c.address = out.addresses.emplace_back(b.address);
    if (c.factor < 1.0) out.ramping = true;
    out.keep_alive.push_back(std::move(live));
    out.candidates.push_back(c);
  }
  return out;
}

size_t first_not_excluded(std::span<const Candidate> candidates, size_t start,
                          std::span<const uint32_t> exclude) {
  const size_t n = candidates.size();
  for (size_t k = 0; k < n; ++k) {
    size_t p = start + k;
    if (p >= n) p -= n;
    if (!is_excluded(exclude, candidates[p].index)) return candidates[p].index;
  }
  return kNoBackend;
}

}  // namespace ebb::lb::detail
