// Time as the scaler's policies see it: an input, never read from a clock inside a policy
// (DESIGN.md point 11). UTC milliseconds since the Unix epoch.
#pragma once
#include <chrono>

namespace ebb::scaler {

using TimePoint = std::chrono::sys_time<std::chrono::milliseconds>;
using Millis = std::chrono::milliseconds;

// Seconds since the epoch, for logs and JSON.
inline double epoch_seconds(TimePoint t) { return static_cast<double>(t.time_since_epoch().count()) / 1000.0; }

}  // namespace ebb::scaler
