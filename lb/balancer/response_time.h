// response_time (SPEC §3): lowest expected latency, cost = peak-EWMA (peak_ewma.h) ×
// (active requests + 1) / effective weight, between two distinct random candidates (power of two
// choices: near-best load spread without scanning, and no herd on one "best" backend).
#pragma once
#include <memory>

#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb {

// Thread: control.
std::unique_ptr<Selector> make_response_time(detail::Eligible eligible);

}  // namespace ebb::lb
