// The scaling policies (SPEC §7). Pure functions of (config, state, observation, now): no clock,
// no I/O, so the same code runs live, in --dry-run and in --simulate, and is tested like
// arithmetic (DESIGN.md point 11).
#pragma once
#include <optional>
#include <utility>
#include <vector>

#include "config/scaler_config.h"
#include "scaler/policies/decision.h"
#include "scaler/policies/observation.h"

namespace ebb::scaler {

// What a policy remembers between evaluations. The caller keeps it and passes the `next` state
// of one decision into the following one (and may persist it).
struct PolicyState {
  std::optional<TimePoint> last_action;  // time of the last decision that acted
  // (time, recommended count) of the decisions within the last scale_in_cooldown
  std::vector<std::pair<TimePoint, unsigned>> history;
};

struct PolicyOutput {
  Decision decision;
  PolicyState next;
};

// Target tracking as SPEC §7 specifies it:
// - per target desired = ceil(current × value / target); ignored (desired = current) when the
//   value is within ±10 % of the target; the largest desired count over the targets wins;
// - `current` counts every backend not draining, warming ones included; the metrics of backends
//   launched less than `warmup` ago are left out;
// - missing or stale metrics never cause a scale-in: a target whose data is partial may ask for
//   more, never for less, and one without data asks for `current`; both are reported;
// - scale-out applies at once, but only `scale_out_cooldown` after the last action;
// - scale-in uses the highest recommendation of the last `scale_in_cooldown` (stabilisation),
//   happens only `scale_in_cooldown` after the last action, and removes at most `scale_in_step`;
// - the result is clamped to [min, max] and raised to the active schedule floor (max wins).
// The action: a scale-out cancels drains in progress first, then launches; a scale-in drains the
// backends with the fewest in-flight requests, newest first on ties.
PolicyOutput decide_target_tracking(const config::ScalerConfig& cfg, const PolicyState& state,
                                    const Observation& obs, TimePoint now);

// The baseline to compare against in --simulate: Kubernetes-HPA-style plain ratio. Same targets,
// tolerance, min/max/schedule clamp and victim choice, but every non-draining backend's metrics
// count (no warmup exclusion), no scale-in stabilisation or step limit, and one cooldown
// (scale_out_cooldown) in both directions.
PolicyOutput decide_baseline(const config::ScalerConfig& cfg, const PolicyState& state,
                             const Observation& obs, TimePoint now);

// Scale-in victims: the `k` non-draining backends with the fewest in-flight requests (unknown
// counts last), newest first on ties, then by address.
std::vector<std::string> choose_victims(const std::vector<BackendSample>& backends, unsigned k);

// Drains to cancel for a scale-out of `k`: up to `k` draining backends, those with the most
// in-flight requests (least drained) first, newest first on ties.
std::vector<std::string> choose_drains_to_cancel(const std::vector<BackendSample>& backends, unsigned k);

}  // namespace ebb::scaler
