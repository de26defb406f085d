#include "lb/http/router.h"

namespace ebb::lb::http {
namespace {

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

std::string lowercase(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower(c);
  return r;
}

// Strips ":port" from a Host value; keeps "[v6]" brackets.
std::string_view strip_port(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    return close == std::string_view::npos ? h : h.substr(0, close + 1);
  }
  size_t colon = h.rfind(':');
  return colon == std::string_view::npos ? h : h.substr(0, colon);
}

// `lowered` is already lowercase.
bool iequals_lowered(std::string_view s, std::string_view lowered) {
  if (s.size() != lowered.size()) return false;
  for (size_t i = 0; i < s.size(); ++i)
    if (lower(s[i]) != lowered[i]) return false;
  return true;
}

}  // namespace

Router::Router(const config::Listener& listener) : default_pool_(listener.pool) {
  routes_.reserve(listener.routes.size());
  for (const auto& r : listener.routes) {
    Entry e;
    std::string_view host = strip_port(r.host);
    if (host.size() > 1 && host[0] == '*' && host[1] == '.') {
      e.wildcard = true;
      e.host = lowercase(host.substr(1));  // ".example.com"
    } else {
      e.host = lowercase(host);
    }
    e.path_prefix = r.path_prefix;
    e.pool = r.pool;
    routes_.push_back(std::move(e));
  }
}

Router::Match Router::route(std::string_view host, std::string_view path) const {
  host = strip_port(host);
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);  // "example.com." is the same name
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Entry& e = routes_[i];
    if (!e.host.empty()) {
      if (e.wildcard) {
        if (host.size() <= e.host.size() ||
            !iequals_lowered(host.substr(host.size() - e.host.size()), e.host))
          continue;
      } else if (!iequals_lowered(host, e.host)) {
        continue;
      }
    }
    if (!e.path_prefix.empty() && path.substr(0, e.path_prefix.size()) != e.path_prefix) continue;
    return Match{int(i), &e.pool};
  }
  return Match{-1, &default_pool_};
}

}  // namespace ebb::lb::http
