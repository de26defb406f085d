// Durations as written in config files: "250ms", "5s", "2m", "1h", "1m30s".
#pragma once
#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ebb {

using Duration = std::chrono::milliseconds;

// Parses a duration string. Accepts one or more <number><unit> groups, unit one of
// ms, s, m, h, d; numbers may have a fraction ("1.5s"). Returns an error for anything else,
// including negative values and overflow.
Result<Duration> parse_duration(std::string_view text);

// Formats a duration the way a user would write it ("250ms", "5s", "2m", "1h30m").
std::string format_duration(Duration d);

}  // namespace ebb
