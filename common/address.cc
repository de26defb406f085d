#include "common/address.h"

#include <charconv>

namespace ebb {

std::string HostPort::str() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view text, bool allow_zero) {
  auto bad = [&](const std::string& why) {
    return make_error("invalid address \"" + std::string(text) + "\": " + why +
                      " (expected host:port or [v6]:port)");
  };
  HostPort hp;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    hp.host = std::string(text.substr(1, close - 1));
    if (hp.host.empty()) return bad("empty host");
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad("missing port");
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("missing port");
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.empty()) return bad("empty host");
    if (hp.host.find(':') != std::string::npos) return bad("IPv6 addresses need brackets");
    port_text = text.substr(colon + 1);
  }
  for (char c : hp.host)
    if (c == ' ' || c == '/' || c == '\t') return bad("invalid character in host");
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() ||
      port > 65535 || (port == 0 && !allow_zero))
    return bad("port must be a number from 1 to 65535");
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

}  // namespace ebb
