// A policy's decision and its explanation (SPEC §7: "every decision is logged as one line with its
// inputs, the desired count per target, the bound that applied and the action").
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "config/scaler_config.h"
#include "scaler/policies/time.h"

namespace ebb::scaler {

// The rules that can hold the desired count away from what the metrics ask for.
enum class Bound {
  tolerance,      // every target within ±10 %: no change
  missing_data,   // a scale-in was blocked because metrics were missing or stale
  cooldown,       // scale-out before scale_out_cooldown, or scale-in before scale_in_cooldown
  stabilisation,  // scale-in held at the highest desired count seen over scale_in_cooldown
  step,           // scale-in limited to scale_in_step backends per decision
  min,
  max,
  schedule,       // raised to a schedule window's floor
};
const char* to_string(Bound b);

struct TargetResult {
  config::ScalerMetric metric = config::ScalerMetric::cpu_percent;
  double target = 0;
  std::optional<double> value;  // the observed value (nullopt: no data)
  unsigned samples = 0;         // backends whose data went into the value
  unsigned missing = 0;         // eligible backends without data (or all of them if the scrape failed)
  unsigned desired = 0;         // this target's desired count
  std::string note;             // "within tolerance", "no data: scrape failed", ...
};

struct Decision {
  TimePoint at{};
  std::string pool;
  std::string policy;           // "target_tracking" or "baseline"
  unsigned current = 0;         // backends counted as capacity (warming included, draining not)
  unsigned warming = 0;
  unsigned draining = 0;
  std::vector<TargetResult> targets;
  unsigned recommended = 0;     // max over targets, after tolerance and missing-data rules
  unsigned stabilised = 0;      // after the scale-in stabilisation window
  unsigned schedule_floor = 0;
  std::string schedule_cron;
  unsigned desired = 0;         // final
  std::vector<Bound> bounds;    // every bound that applied, in the order applied
  std::string missing;          // human summary of missing data ("" when none)
  // The action. A scale-out first cancels drains in progress, then launches the rest.
  std::vector<std::string> cancel_drain;  // addresses whose drain is cancelled (back to healthy)
  unsigned launch = 0;
  std::vector<std::string> drain;         // scale-in victims

  bool acts() const { return launch > 0 || !drain.empty() || !cancel_drain.empty(); }
  // "none", "launch 2", "drain 1", "cancel_drain 1 + launch 1"
  std::string action() const;
  // One log line: inputs, desired per target, bounds, action.
  std::string log_line() const;
};

void to_json(nlohmann::json& j, const Decision& d);

}  // namespace ebb::scaler
