#include "lb/http/validate.h"

#include <array>

namespace ebb::lb::http {
namespace {

constexpr std::array<bool, 256> make_token_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kToken = make_token_table();

// VCHAR, obs-text, SP, HTAB.
constexpr std::array<bool, 256> make_value_table() {
  std::array<bool, 256> t{};
  t['\t'] = true;
  for (int c = 0x20; c <= 0x7e; ++c) t[c] = true;
  for (int c = 0x80; c <= 0xff; ++c) t[c] = true;
  return t;
}
constexpr std::array<bool, 256> kValue = make_value_table();

// Characters of a uri-host (reg-name unreserved / pct-encoded / sub-delims, IPv4) outside brackets.
constexpr std::array<bool, 256> make_host_table() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("-._~%!$&'()*+,;=")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kHost = make_host_table();

}  // namespace

bool is_token_char(unsigned char c) { return kToken[c]; }

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!kToken[static_cast<unsigned char>(c)]) return false;
  return true;
}

bool is_valid_field_value(std::string_view s) {
  for (char c : s)
    if (!kValue[static_cast<unsigned char>(c)]) return false;
  return true;
}

std::optional<uint64_t> parse_content_length(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;  // 19 digits fit below 2^63
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  if (v > (uint64_t(1) << 63) - 1) return std::nullopt;
  return v;
}

bool is_plain_chunked(std::string_view te) {
  static constexpr std::string_view kChunked = "chunked";
  if (te.size() != kChunked.size()) return false;
  for (size_t i = 0; i < te.size(); ++i)
    if ((static_cast<unsigned char>(te[i]) | 0x20) != kChunked[i]) return false;
  return true;
}

bool parse_host(std::string_view value, std::string_view& host_out) {
  std::string_view host = value;
  std::string_view port;
  if (!value.empty() && value.front() == '[') {
    size_t close = value.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (size_t i = 1; i < close; ++i) {
      char c = value[i];
      bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                c == ':' || c == '.';
      if (!ok) return false;
    }
    host = value.substr(0, close + 1);
    std::string_view rest = value.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    }
  } else {
    size_t colon = value.find(':');
    if (colon != std::string_view::npos) {
      host = value.substr(0, colon);
      port = value.substr(colon + 1);
      if (host.empty()) return false;
    }
    for (char c : host)
      if (!kHost[static_cast<unsigned char>(c)]) return false;
  }
  if (port.size() > 5) return false;
  for (char c : port)
    if (c < '0' || c > '9') return false;
  host_out = host;
  return true;
}

}  // namespace ebb::lb::http
