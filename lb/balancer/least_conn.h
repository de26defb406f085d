// least_conn (SPEC §3): the backend with the fewest active requests (L7) / connections (L4)
// divided by its effective weight — scored as (active + 1) / weight, as HAProxy does, so that
// weights (and slow start) also shape an idle pool. The counts are the BackendLive atomics every
// worker updates, so all workers see one another's load.
//
// Up to kLeastConnExactMax eligible backends every pick scans them all, from a random start so
// that ties are broken randomly. Above that a full scan costs microseconds per request (one cache
// line per backend), so a pick takes the best of kLeastConnSamples random candidates instead —
// Envoy's LEAST_REQUEST approach: it keeps the load spread within a few requests of the least
// loaded backend at a fixed cost.
#pragma once
#include <cstddef>
#include <memory>

#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb {

inline constexpr size_t kLeastConnExactMax = 32;
inline constexpr size_t kLeastConnSamples = 4;

// Thread: control.
std::unique_ptr<Selector> make_least_conn(detail::Eligible eligible);

}  // namespace ebb::lb
