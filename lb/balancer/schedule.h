// An interleaved weighted schedule, precomputed when a selector is built: slot t holds the backend
// for the t-th pick of a cycle of W = Σweights picks. Backend i owns exactly w_i slots per cycle,
// spread evenly instead of in bursts: nginx's smooth weighted round robin when that is cheap to
// run (W × n ≤ 1 M steps), else earliest-deadline-first at the ideal times (k + ½)·W/w_i. Used by
// round_robin, weighted_round_robin and hash's keyless fallback. Picking is one load plus a
// per-worker cursor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb::detail {

// Longest schedule kept. Weight sets whose (gcd-reduced) sum is larger, and ramping sets, are
// scaled to about this length (each backend keeps ≥ 1 slot), which bounds memory at 256 KiB.
inline constexpr uint64_t kMaxScheduleSlots = 65536;

// Thread: control. Integer weights for the schedule: configured weights (or 1 each when
// `use_configured` is false, for round_robin) reduced by their gcd, or, when some backend is
// ramping or the sum exceeds `cap`, effective weights scaled to a sum of about min(cap, 100·Σ).
std::vector<uint64_t> schedule_weights(std::span<const Candidate> candidates, bool use_configured,
                                       uint64_t cap = kMaxScheduleSlots);

class Schedule {
 public:
  // Thread: control. `weights[i]` > 0 is the number of slots of candidates[i].
  void build(std::span<const Candidate> candidates, std::span<const uint64_t> weights);

  size_t size() const { return slots_.size(); }
  uint32_t at(size_t slot) const { return slots_[slot]; }
  std::span<const uint32_t> slots() const { return slots_; }

  // Thread: any worker. The next backend index for this worker, skipping `exclude`; falls back
  // to any non-excluded candidate; kNoBackend if there is none.
  size_t next(std::span<const Candidate> candidates, std::span<const uint32_t> exclude,
              PickState& state) const;

 private:
  std::vector<uint32_t> slots_;  // backend indices (into the snapshot's vector)
};

}  // namespace ebb::lb::detail
