// hash (SPEC §3): consistent hashing of the request's hash_key over a weighted Maglev table
// (maglev.h). A request without the key is balanced by weighted round robin instead.
#pragma once
#include <memory>

#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb {

// Thread: control.
std::unique_ptr<Selector> make_hash(detail::Eligible eligible);

}  // namespace ebb::lb
