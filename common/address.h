// Network addresses as written in config files and the admin API: "host:port", "[v6]:port".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace ebb {

struct HostPort {
  std::string host;  // without brackets for IPv6 literals
  uint16_t port = 0;

  // Canonical text form: "host:port", or "[v6]:port" for IPv6 literals.
  std::string str() const;
  bool operator==(const HostPort&) const = default;
};

// Parses "host:port" or "[v6]:port". The port must be 1..65535 (0 allowed if allow_zero).
Result<HostPort> parse_host_port(std::string_view text, bool allow_zero = false);

}  // namespace ebb
