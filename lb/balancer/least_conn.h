// least_conn (SPEC §3): the backend with the fewest active requests (L7) / connections (L4)
// divided by its effective weight — scored as (active + 1) / weight so that weights (and slow
// start) also shape an idle pool; ties broken by a random starting point. The counts are the
// BackendLive atomics every worker updates, so all workers see one another's load.
#pragma once
#include <memory>

#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb {

// Thread: control.
std::unique_ptr<Selector> make_least_conn(detail::Eligible eligible);

}  // namespace ebb::lb
