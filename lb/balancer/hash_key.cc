#include "lb/balancer/hash_key.h"

#include <netinet/in.h>

#include <bit>
#include <cstring>

namespace ebb::lb {
namespace {

constexpr uint64_t kP0 = 0xa0761d6478bd642full;
constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kP2 = 0x8ebc6af09c88c6e3ull;
constexpr uint64_t kKeySeed = 0x6562622d6c622d31ull;  // "ebb-lb-1": changing it remaps every key

inline uint64_t mix(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// Up to 8 bytes, little-endian, zero-padded.
inline uint64_t load_tail(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

uint64_t hash_bytes(std::string_view bytes, uint64_t seed) {
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = mix(seed ^ kP0, static_cast<uint64_t>(n) ^ kP1);
  while (n >= 16) {
    h = mix(load64(p) ^ kP1, load64(p + 8) ^ h);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n > 8) {
    a = load64(p);
    b = load_tail(p + 8, n - 8);
  } else {
    a = load_tail(p, n);
  }
  h = mix(a ^ kP1 ^ h, b ^ kP2);
  h = mix(h ^ kP0, static_cast<uint64_t>(bytes.size()) ^ kP2);
  // Final avalanche (splitmix64) so every output bit depends on every input bit.
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

uint64_t hash_key_bytes(std::string_view bytes) { return hash_bytes(bytes, kKeySeed); }

std::optional<uint64_t> hash_source_ip(const sockaddr* client) {
  if (client == nullptr) return std::nullopt;
  if (client->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, client, sizeof in);
    return hash_key_bytes(
        std::string_view(reinterpret_cast<const char*>(&in.sin_addr), sizeof in.sin_addr));
  }
  if (client->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, client, sizeof in6);
    const char* a = reinterpret_cast<const char*>(&in6.sin6_addr);
    if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) return hash_key_bytes(std::string_view(a + 12, 4));
    return hash_key_bytes(std::string_view(a, 16));
  }
  return std::nullopt;
}

std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const size_t semi = cookie_header.find(';');
    std::string_view pair = trim(cookie_header.substr(0, semi));
    cookie_header = semi == std::string_view::npos ? std::string_view{} : cookie_header.substr(semi + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

std::optional<uint64_t> request_key_hash(const config::HashKey& key, const KeySource& src) {
  switch (key.kind) {
    case config::HashKey::Kind::source_ip:
      return hash_source_ip(src.client);
    case config::HashKey::Kind::uri:
      if (src.uri.empty()) return std::nullopt;
      return hash_key_bytes(src.uri);
    case config::HashKey::Kind::header:
      if (!src.header) return std::nullopt;
      return hash_key_bytes(*src.header);
    case config::HashKey::Kind::cookie: {
      if (!src.cookie_header) return std::nullopt;
      auto v = find_cookie(*src.cookie_header, key.name);
      if (!v) return std::nullopt;
      return hash_key_bytes(*v);
    }
  }
  return std::nullopt;
}

}  // namespace ebb::lb
