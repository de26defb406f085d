// Server-name → certificate index, built from the DNS names in each certificate's SAN.
// Exact names win over wildcards; "*.example.com" matches exactly one extra label
// ("a.example.com", not "example.com" nor "a.b.example.com"), as RFC 6125 §6.4.3 allows.
// Names are compared case-insensitively; a trailing dot on the client's name is ignored.
//
// Built once (any thread), then read-only: lookups from any number of threads are safe and
// allocate nothing.
#pragma once
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ebb::lb::tls {

class SniMap {
 public:
  // Registers `pattern` (a SAN DNS name, possibly "*.suffix") for certificate `index`. The
  // first registration of a name wins; returns false if the name was already taken or is not a
  // usable DNS name / wildcard.
  bool add(std::string_view pattern, size_t index);

  // The certificate index for the name a client sent in SNI, or nullopt for an unknown or
  // malformed name.
  std::optional<size_t> find(std::string_view server_name) const;

  bool empty() const { return exact_.empty() && wildcard_.empty(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Map = std::unordered_map<std::string, size_t, Hash, std::equal_to<>>;
  Map exact_;     // "www.example.com"
  Map wildcard_;  // "example.com" for "*.example.com"
};

// Lower-cases a DNS name into `buf` and strips one trailing dot. Returns the normalized view
// or nullopt if `name` is empty, too long (> 253) or has bytes outside [A-Za-z0-9.-_*].
std::optional<std::string_view> normalize_dns_name(std::string_view name, char (&buf)[256]);

}  // namespace ebb::lb::tls
