#include "lb/tls/sni_map.h"

namespace ebb::lb::tls {

std::optional<std::string_view> normalize_dns_name(std::string_view name, char (&buf)[256]) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return std::nullopt;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_' || c == '*';
    if (!ok) return std::nullopt;
    buf[i] = c;
  }
  return std::string_view(buf, name.size());
}

bool SniMap::add(std::string_view pattern, size_t index) {
  char buf[256];
  auto norm = normalize_dns_name(pattern, buf);
  if (!norm) return false;
  std::string_view n = *norm;
  if (n.starts_with("*.")) {
    std::string_view suffix = n.substr(2);
    // A wildcard needs at least two labels after it ("*.com" would cover a whole TLD) and no
    // further stars.
    if (suffix.find('*') != std::string_view::npos || suffix.find('.') == std::string_view::npos ||
        suffix.front() == '.' || suffix.back() == '.')
      return false;
    return wildcard_.try_emplace(std::string(suffix), index).second;
  }
  if (n.find('*') != std::string_view::npos) return false;  // partial wildcards are not honoured
  return exact_.try_emplace(std::string(n), index).second;
}

std::optional<size_t> SniMap::find(std::string_view server_name) const {
  char buf[256];
  auto norm = normalize_dns_name(server_name, buf);
  if (!norm || norm->find('*') != std::string_view::npos) return std::nullopt;
  std::string_view n = *norm;
  if (auto it = exact_.find(n); it != exact_.end()) return it->second;
  size_t dot = n.find('.');
  if (dot == 0 || dot == std::string_view::npos) return std::nullopt;
  if (auto it = wildcard_.find(n.substr(dot + 1)); it != wildcard_.end()) return it->second;
  return std::nullopt;
}

}  // namespace ebb::lb::tls
