// round_robin (SPEC §3): each healthy backend in turn, weights ignored (slow start still ramps
// a newly healthy backend's turn count).
#pragma once
#include <memory>

#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb {

// Thread: control.
std::unique_ptr<Selector> make_round_robin(detail::Eligible eligible);

}  // namespace ebb::lb
