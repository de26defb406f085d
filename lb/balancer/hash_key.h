// Keys for the hash balancer (SPEC §2 `hash_key`). The caller extracts the key from the request
// and hashes it here; the hash is fixed (no per-process seed), so every ebb-lb node and every
// restart maps the same key to the same value — and so to the same backend.
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/lb_config.h"

namespace ebb::lb {

// Thread: any. Stable 64-bit hash of `bytes` (wyhash-style 128-bit multiply mixing, fixed
// constants, little-endian reads on every platform). Not a MAC: keys are not secret.
uint64_t hash_bytes(std::string_view bytes, uint64_t seed);
uint64_t hash_key_bytes(std::string_view bytes);

// Thread: any. Hash of the client's IP address (port ignored; an IPv4-mapped IPv6 address hashes
// like the IPv4 address). nullopt for a null pointer or a family other than AF_INET/AF_INET6.
std::optional<uint64_t> hash_source_ip(const sockaddr* client);

// Thread: any. The value of cookie `name` in a Cookie header value ("a=1; b=2"), surrounding
// double quotes removed; nullopt when absent.
std::optional<std::string_view> find_cookie(std::string_view cookie_header, std::string_view name);

// What the request offers for each key kind; the caller fills what it has (L4: client only).
struct KeySource {
  const sockaddr* client = nullptr;
  std::string_view uri;                      // request target as received (path + query)
  std::optional<std::string_view> header;    // value of the header named by HashKey::name
  std::optional<std::string_view> cookie_header;  // the Cookie header value, if any
};

// Thread: any. The key hash for `key` from `src`; nullopt when the request has no such key
// (then the hash balancer round-robins that request: PickRequest::has_key = false).
std::optional<uint64_t> request_key_hash(const config::HashKey& key, const KeySource& src);

}  // namespace ebb::lb
