#include "config/values.h"

#include <charconv>

namespace ebb::config {

namespace {

// Parses all of `text` as an unsigned decimal number no larger than `max`.
bool parse_uint(std::string_view text, unsigned max, unsigned& out) {
  if (text.empty() || text.size() > 9) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && out <= max;
}

}  // namespace

Result<std::pair<int, int>> parse_expect(std::string_view text) {
  auto bad = [&] {
    return make_error("invalid status range \"" + std::string(text) +
                      "\" (expected a status code like \"200\" or a range like \"200-399\", codes 100-599)");
  };
  size_t dash = text.find('-');
  unsigned lo = 0, hi = 0;
  if (dash == std::string_view::npos) {
    if (!parse_uint(text, 999, lo)) return bad();
    hi = lo;
  } else if (!parse_uint(text.substr(0, dash), 999, lo) || !parse_uint(text.substr(dash + 1), 999, hi)) {
    return bad();
  }
  if (lo < 100 || hi > 599) return bad();
  if (lo > hi)
    return make_error("invalid status range \"" + std::string(text) + "\": the first code is larger than the second");
  return std::pair<int, int>{static_cast<int>(lo), static_cast<int>(hi)};
}

Result<HashKey> parse_hash_key(std::string_view text) {
  const std::string expected = " (expected one of source_ip, uri, header:NAME, cookie:NAME)";
  HashKey k;
  if (text == "source_ip") {
    k.kind = HashKey::Kind::source_ip;
    return k;
  }
  if (text == "uri") {
    k.kind = HashKey::Kind::uri;
    return k;
  }
  for (auto [prefix, kind] : {std::pair{std::string_view("header:"), HashKey::Kind::header},
                              std::pair{std::string_view("cookie:"), HashKey::Kind::cookie}}) {
    if (text.substr(0, prefix.size()) != prefix) continue;
    std::string_view name = text.substr(prefix.size());
    if (!is_http_token(name))
      return make_error("invalid hash_key \"" + std::string(text) + "\": \"" + std::string(name) + "\" is not a valid " +
                        (kind == HashKey::Kind::header ? "header" : "cookie") + " name");
    k.kind = kind;
    k.name = std::string(name);
    return k;
  }
  return make_error("unknown value \"" + std::string(text) + "\"" + expected);
}

Result<std::pair<uint16_t, uint16_t>> parse_port_range(std::string_view text) {
  auto bad = [&] {
    return make_error("invalid port range \"" + std::string(text) +
                      "\" (expected \"FIRST-LAST\" like \"9100-9199\", ports 1-65535)");
  };
  size_t dash = text.find('-');
  unsigned lo = 0, hi = 0;
  if (dash == std::string_view::npos) {
    if (!parse_uint(text, 65535, lo)) return bad();
    hi = lo;
  } else if (!parse_uint(text.substr(0, dash), 65535, lo) || !parse_uint(text.substr(dash + 1), 65535, hi)) {
    return bad();
  }
  if (lo == 0) return bad();
  if (lo > hi)
    return make_error("invalid port range \"" + std::string(text) + "\": the first port is larger than the last");
  return std::pair<uint16_t, uint16_t>{static_cast<uint16_t>(lo), static_cast<uint16_t>(hi)};
}

Result<HostPort> parse_http_url(std::string_view text) {
  constexpr std::string_view scheme = "http://";
  if (text.substr(0, 8) == "https://")
    return make_error("invalid URL \"" + std::string(text) + "\": https is not supported (expected http://host:port)");
  if (text.substr(0, scheme.size()) != scheme)
    return make_error("invalid URL \"" + std::string(text) + "\" (expected http://host:port)");
  std::string_view rest = text.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos || rest.find('?') != std::string_view::npos ||
      rest.find('@') != std::string_view::npos)
    return make_error("invalid URL \"" + std::string(text) + "\": no path, query or user allowed (expected http://host:port)");
  auto hp = parse_host_port(rest);
  if (!hp) return make_error("invalid URL \"" + std::string(text) + "\" (expected http://host:port)");
  return hp;
}

bool is_http_token(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

Result<void> check_host_pattern(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return make_error("invalid host \"" + std::string(text) + "\": " + why +
                      " (expected a name like \"api.example.com\" or \"*.example.com\")");
  };
  if (text.empty()) return bad("empty");
  std::string_view name = text;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  if (name.empty()) return bad("nothing after \"*.\"");
  for (unsigned char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_';
    if (c == '*') return bad("'*' is only allowed as the first label, \"*.\"");
    if (c == ':') return bad("no port allowed");
    if (!ok) return bad("invalid character");
  }
  if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos)
    return bad("empty label");
  return {};
}

}  // namespace ebb::config
