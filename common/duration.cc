#include "common/duration.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace ebb {

Result<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return make_error("empty duration (expected e.g. \"250ms\", \"5s\", \"2m\")");
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    bool dot = false;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || (text[i] == '.' && !dot))) {
      if (text[i] == '.') dot = true;
      ++i;
    }
    if (i == start || (i - start == 1 && dot))
      return make_error("invalid duration \"" + std::string(text) + "\" (expected e.g. \"250ms\", \"5s\", \"2m\")");
    // strtod, not stod: a 400-digit number gives HUGE_VAL (caught below), not an exception.
    double n = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
    size_t ustart = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    double mult;
    if (unit == "ms") mult = 1;
    else if (unit == "s") mult = 1000;
    else if (unit == "m") mult = 60'000;
    else if (unit == "h") mult = 3'600'000;
    else if (unit == "d") mult = 86'400'000;
    else
      return make_error("invalid duration \"" + std::string(text) +
                        "\": unit must be one of ms, s, m, h, d");
    total_ms += n * mult;
    if (total_ms > 1e15) return make_error("duration \"" + std::string(text) + "\" is too large");
  }
  return Duration(static_cast<int64_t>(std::llround(total_ms)));
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  std::string out;
  if (s >= 3600) { out += std::to_string(s / 3600) + "h"; s %= 3600; }
  if (s >= 60) { out += std::to_string(s / 60) + "m"; s %= 60; }
  if (s > 0) out += std::to_string(s) + "s";
  return out;
}

}  // namespace ebb
