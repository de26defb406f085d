// random (SPEC §3): a random healthy backend with probability proportional to its effective
// weight, drawn in O(1) from a Walker/Vose alias table built with the selector.
#pragma once
#include <memory>

#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb {

// Thread: control.
std::unique_ptr<Selector> make_random(detail::Eligible eligible);

}  // namespace ebb::lb
