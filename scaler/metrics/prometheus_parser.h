// A parser of the Prometheus text exposition format, version 0.0.4 — what ebb-lb's /metrics
// serves (SPEC §5, §6). Small and strict: any malformed line makes the whole scrape an error
// (a half-parsed scrape would be "missing" data pretending to be zero).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ebb::scaler {

struct Sample {
  std::string name;  // full series name, e.g. "ebb_request_duration_seconds_bucket"
  std::vector<std::pair<std::string, std::string>> labels;  // in the order written, unescaped
  double value = 0;  // may be ±Inf or NaN
  std::optional<int64_t> timestamp_ms;

  // The value of label `key`, or nullptr.
  const std::string* label(std::string_view key) const;
};

struct Exposition {
  std::vector<Sample> samples;                // in the order written
  std::map<std::string, std::string> types;   // family name → counter|gauge|histogram|summary|untyped
  std::map<std::string, std::string> help;    // family name → help text, unescaped
};

// Parses a whole exposition. Accepts: `# HELP name text` (escapes \\ and \n), `# TYPE name type`,
// other `#` comments, blank lines, CRLF line ends, samples `name{l="v",...} value [timestamp]` with
// label value escapes \\ \" \n, a trailing comma in the label set, values as floats or
// +Inf/-Inf/NaN. Errors name the line: "line 7: expected '=' after label name".
Result<Exposition> parse_prometheus_text(std::string_view text);

}  // namespace ebb::scaler
