// Parsers for the small string-valued config fields (no toml11 here). Each returns the parsed
// value or an error message meant to follow "key.path: " in a diagnostic.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/address.h"
#include "common/result.h"
#include "config/lb_config.h"

namespace ebb::config {

// "200-399" or "200" → [min, max], status codes 100..599.
Result<std::pair<int, int>> parse_expect(std::string_view text);

// "source_ip" | "uri" | "header:NAME" | "cookie:NAME".
Result<HashKey> parse_hash_key(std::string_view text);

// "9100-9199" or "9100" → [min, max], ports 1..65535.
Result<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view text);

// "http://host:port" (an optional trailing "/") → host and port. Only plain http is supported.
Result<HostPort> parse_http_url(std::string_view text);

// An RFC 9110 token (header names, cookie names): 1+ of !#$%&'*+-.^_`|~ digits letters.
bool is_http_token(std::string_view text);

// A route host pattern: "example.com" or "*.example.com" (letters, digits, '-', '.').
Result<void> check_host_pattern(std::string_view text);

}  // namespace ebb::config
