// Balancing interface (SPEC §3, DESIGN points 2-4). A Selector is built once per pool snapshot
// from the backends that may receive traffic; picking only reads it (plus the backends' relaxed
// atomic live counters) and so may run on every worker at once. Health filtering happens when the
// snapshot is built; the caller bounds retries by passing the backends already tried.
//
// Related headers in this folder: hash_key.h (request key → PickRequest::key_hash), peak_ewma.h
// (record_response / record_failure for response_time), slow_start.h (selector_needs_rebuild:
// rebuild the snapshot every kSlowStartStepMs while it is true), sticky.h (StickyTable per pool
// snapshot, Set-Cookie value), registry.h (algorithms by name).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "config/lb_config.h"
#include "lb/backend.h"

namespace ebb::lb {

// Per-worker, per-pool mutable picking state (round-robin cursor, RNG). Never shared.
struct PickState {
  uint64_t cursor = 0;
  uint64_t rng = 0x9E3779B97F4A7C15ull;  // seeded per worker
  uint64_t generation = 0;               // snapshot generation the cursor belongs to
};

// A worker's initial state for one pool: the RNG seeded from `seed` (e.g. worker id mixed with a
// per-process random value) and the cursor at a seed-dependent position, so workers do not all
// start their round robin on the same backend.
PickState make_pick_state(uint64_t seed);

struct PickRequest {
  uint64_t key_hash = 0;   // hash balancer: hash of the request's hash_key value
  bool has_key = false;    // false: key missing → the hash balancer falls back to round robin
  std::span<const uint32_t> exclude;  // backend indices already tried for this request
  int64_t now_ms = 0;      // steady clock ms (slow start)
};

inline constexpr size_t kNoBackend = static_cast<size_t>(-1);

class Selector {
 public:
  virtual ~Selector() = default;
  // Thread: any worker, concurrently. Returns an index into the backends the selector was built
  // from (the snapshot's backend vector), never one in `req.exclude` and never one that is not
  // healthy; kNoBackend when there is none.
  virtual size_t pick(const PickRequest& req, PickState& state) const = 0;
};

// Thread: control thread. Builds the selector for `pool`'s algorithm over `backends` (the
// snapshot's full vector; only `healthy` ones are eligible). `now_ms` is used for slow start.
std::unique_ptr<Selector> build_selector(const config::Pool& pool, std::span<const Backend> backends,
                                         int64_t now_ms);

}  // namespace ebb::lb
