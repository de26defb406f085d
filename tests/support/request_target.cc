#include "tests/support/request_target.h"

#include <charconv>

namespace ebb::testbackend {

const std::string* RequestTarget::param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

RequestTarget parse_request_target(std::string_view target) {
  RequestTarget t;
  // absolute-form: "http://host:port/path?q" → "/path?q"
  if (size_t scheme = target.find("://"); scheme != std::string_view::npos && target.front() != '/') {
    size_t slash = target.find('/', scheme + 3);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  size_t q = target.find('?');
  t.path = std::string(target.substr(0, q));
  if (q == std::string_view::npos) return t;
  std::string_view rest = target.substr(q + 1);
  if (size_t frag = rest.find('#'); frag != std::string_view::npos) rest = rest.substr(0, frag);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos)
      t.query.emplace_back(std::string(pair), std::string());
    else
      t.query.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
  }
  return t;
}

std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v > max) return std::nullopt;
  return v;
}

std::optional<uint64_t> query_number(const RequestTarget& t, std::string_view name, uint64_t fallback,
                                     uint64_t max) {
  const std::string* v = t.param(name);
  if (!v) return fallback;
  return parse_decimal(*v, max);
}

}  // namespace ebb::testbackend
