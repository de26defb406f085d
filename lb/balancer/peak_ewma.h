// Peak-EWMA latency estimate kept in BackendLive (for the response_time balancer), after
// Finagle/Linkerd/tower: a sample above the estimate replaces it at once (peak: slowness is
// noticed within one response); lower samples are blended in with weight 1 - e^(-Δt/τ) (so the
// estimate follows the backend over ~τ of wall time whatever the request rate). When nothing is
// observed the estimate read by the balancer decays towards 0 with the same τ, so a penalised,
// hence avoided, backend is tried again and re-measured.
#pragma once
#include <atomic>
#include <cstdint>

#include "lb/backend.h"

namespace ebb::lb {

inline constexpr int64_t kEwmaTauNs = 10'000'000'000;             // τ = 10 s
inline constexpr uint64_t kFailurePenaltyNs = 1'000'000'000;      // latency charged for a failure

// Thread: any worker (relaxed atomics; two workers recording at once may lose one sample, which
// an estimate tolerates). `latency_ns`: time to the first response byte; `now_ns`: steady clock.
void record_response(BackendLive& live, uint64_t latency_ns, int64_t now_ns);

// Thread: any worker. A connect error, 5xx or timeout: charged as a latency of
// max(penalty_ns, 2 × the current estimate), so repeated failures keep pushing the backend away.
void record_failure(BackendLive& live, int64_t now_ns, uint64_t penalty_ns = kFailurePenaltyNs);

namespace detail {
double decayed_estimate_ns(double value, int64_t dt_ns);  // value · e^(-dt/τ)
}

// Thread: any. The estimate as of `now_ns` (decayed towards 0 since the last sample); 0 when the
// backend was never measured. Inline: the response_time pick calls it twice.
inline double ewma_estimate_ns(const BackendLive& live, int64_t now_ns) {
  const double v = static_cast<double>(live.peak_ewma_ns.load(std::memory_order_relaxed));
  const int64_t dt = now_ns - live.ewma_stamp_ns.load(std::memory_order_relaxed);
  // Below τ/128 the decay is under 1 %: skip the exp() on the hot path.
  if (dt <= kEwmaTauNs / 128) [[likely]] return v;
  return detail::decayed_estimate_ns(v, dt);
}

}  // namespace ebb::lb
