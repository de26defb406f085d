// Slow start (SPEC §2 `slow_start`): a backend that became healthy less than `slow_start` ago gets
// a share that ramps linearly from ~0 to full. Selectors are immutable, so the ramp advances by
// rebuilding: the control thread asks selector_needs_rebuild() on a timer and rebuilds the
// snapshot's selector every kSlowStartStepMs while it says yes.
#pragma once
#include <cstdint>
#include <span>

#include "config/lb_config.h"
#include "lb/backend.h"

namespace ebb::lb {

inline constexpr int64_t kSlowStartStepMs = 500;   // how often the ramp is re-applied
inline constexpr double kSlowStartMinFactor = 0.01;  // share of a backend that just came up

// Thread: any. Factor in [kSlowStartMinFactor, 1] applied to `b`'s weight at `now_ms` (steady
// clock ms). 1 when slow start is off, when the backend is not ramping, or when
// healthy_since_ms is 0 (healthy since before anyone cared, e.g. at load).
double slow_start_factor(const config::Pool& pool, const Backend& b, int64_t now_ms);

// Thread: any. Ramp end (steady ms) of the backend ramping longest, or 0 when none ramps at now_ms.
int64_t slow_start_ramp_end_ms(const config::Pool& pool, std::span<const Backend> backends,
                               int64_t now_ms);

// Thread: control. True while a selector built at `now_ms` would differ from one built a step
// later: some healthy backend is ramping, or finished ramping less than one step ago (so the
// last rebuild lands on the full weight).
bool selector_needs_rebuild(const config::Pool& pool, std::span<const Backend> backends,
                            int64_t now_ms);

}  // namespace ebb::lb
