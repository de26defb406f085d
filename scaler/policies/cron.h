// Schedule windows (SPEC §7 [[scaler.schedule]]): the semantics on top of config::CronSpec (the
// config loader parses and validates the syntax). A window is active from a cron match for
// `duration`. Pure functions of their inputs, UTC.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config/cron.h"
#include "config/scaler_config.h"
#include "scaler/policies/time.h"

namespace ebb::scaler {

// True when the minute containing `t` (UTC) matches.
bool cron_matches(const config::CronSpec& spec, TimePoint t);

// The start of the latest matching minute at or before `t` and no earlier than `t - lookback`.
// Skips non-matching days and hours whole, so a long lookback costs days, not minutes.
std::optional<TimePoint> cron_last_match(const config::CronSpec& spec, TimePoint t, Millis lookback);

// The schedule floor at `now`: the largest `min` among entries whose window is active (a match
// at m with m <= now < m + duration). 0 when none is.
struct ScheduleFloor {
  unsigned floor = 0;
  std::string cron;  // the entry that set the floor (empty if none)
};
ScheduleFloor schedule_floor(const std::vector<config::ScheduleEntry>& schedule, TimePoint now);

}  // namespace ebb::scaler
