// Splits an HTTP request target into path and query parameters, and reads bounded numbers
// from the query (the test backend's routes take their knobs there: /delay?ms=N ...).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ebb::testbackend {

struct RequestTarget {
  std::string path;  // "/delay"; for absolute-form targets the path part only
  std::vector<std::pair<std::string, std::string>> query;  // in order, not percent-decoded

  const std::string* param(std::string_view name) const;
};

RequestTarget parse_request_target(std::string_view target);

// The decimal value of query parameter `name`, `fallback` when absent; nullopt when it is
// present but not a plain decimal number in [0, max].
std::optional<uint64_t> query_number(const RequestTarget& t, std::string_view name, uint64_t fallback,
                                     uint64_t max);

// Parses a plain decimal number (digits only) in [0, max].
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max);

}  // namespace ebb::testbackend
