// weighted_round_robin (SPEC §3): smooth weighted round robin. Over every cycle of W = Σweights
// picks each backend gets exactly its weight, interleaved at evenly spaced positions.
#pragma once
#include <memory>

#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb {

// Thread: control.
std::unique_ptr<Selector> make_weighted_round_robin(detail::Eligible eligible);

}  // namespace ebb::lb
