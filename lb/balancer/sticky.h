// Sticky cookies (SPEC §3). A token pins a client to a backend without revealing it:
//
//   token = base64url( 0x01 | tag[8] | expiry[4] | mac[12] )          (25 bytes → 34 characters)
//   tag   = HMAC-SHA256(key, "id" | backend address)[0..8)            (keyed: opaque, stable)
//   mac   = HMAC-SHA256(key, "tok" | 0x01 | tag | expiry)[0..12)      (tamper-proof, enforced TTL)
//
// The key is HMAC-SHA256 of the pool name and the optional sticky_secret_file's contents, so a
// token is valid on every ebb-lb node with the same pool (and secret) and across restarts. The
// expiry is wall-clock seconds (tokens cross processes and machines, so steady time won't do).
// Tokens from another pool, another secret, edited, or past their expiry are rejected.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/lb_config.h"
#include "lb/backend.h"

namespace ebb::lb {

struct StickyKey {
  std::array<unsigned char, 32> bytes{};
  bool operator==(const StickyKey&) const = default;
};

inline constexpr size_t kStickyTokenChars = 34;

// Thread: any. Derives the pool's key; `secret` empty = from the pool name alone (stable but
// guessable: SPEC's default), else the secret file's bytes.
StickyKey make_sticky_key(std::string_view pool_name, std::string_view secret);

// Thread: control (reads a file). The key for `pool`: its sticky_secret_file's contents (trailing
// whitespace stripped; at least 16 bytes) or, without one, derived from the name.
Result<StickyKey> load_sticky_key(const config::Pool& pool);

// Thread: any. Wall-clock seconds, the time base of token expiry (shared by nodes and restarts).
int64_t sticky_now_s();

// Thread: any. The opaque per-backend tag carried in tokens.
uint64_t sticky_identity_tag(const StickyKey& key, std::string_view identity);

// Thread: any. A token for `identity` that expires at now_s + ttl_s (wall-clock seconds).
std::string issue_token(const StickyKey& key, std::string_view identity, int64_t now_s,
                        int64_t ttl_s);

// Thread: any. The identity tag inside `token` if it is authentic and not expired at now_s.
std::optional<uint64_t> verify_token(const StickyKey& key, std::string_view token, int64_t now_s);

// Thread: any. The Set-Cookie header value:
// "<name>=<token>; Path=/; Max-Age=<max_age_s>; HttpOnly" plus "; Secure" on TLS listeners.
std::string sticky_set_cookie(std::string_view name, std::string_view token, int64_t max_age_s,
                              bool secure);

// A pool snapshot's sticky state: which backend each tag belongs to. Built by the control thread
// with the snapshot; read by workers.
//
// Use in the HTTP path (sketch):
//   request:  if (auto i = table.find_in_request(cookie_header, sticky_now_s()); i && !tried(*i))
//               backend = *i;                       // pinned
//             else { backend = selector.pick(...); issue = table.enabled(); }
//   response: if (issue) add "Set-Cookie: " + table.set_cookie(backend, sticky_now_s(), tls)
class StickyTable {
 public:
  StickyTable() = default;  // sticky cookies off: find() never matches
  // Thread: control. `backends` is the snapshot's vector (indices are the same as pick()'s).
  StickyTable(const StickyKey& key, std::span<const Backend> backends, int64_t ttl_s);
  // Thread: control. Enabled iff pool.sticky_cookie is set; cookie name and TTL from the pool.
  // `key` from load_sticky_key(pool), loaded once per config load (it may read a file).
  StickyTable(const config::Pool& pool, const StickyKey& key, std::span<const Backend> backends);

  bool enabled() const { return enabled_; }
  int64_t ttl_s() const { return ttl_s_; }
  const std::string& cookie_name() const { return cookie_name_; }

  // Thread: any worker. find() on the value of this table's cookie in a Cookie header value.
  std::optional<size_t> find_in_request(std::optional<std::string_view> cookie_header,
                                        int64_t now_s) const;

  // Thread: any worker. The Set-Cookie value pinning the client to backends[index]:
  // "<name>=<token>; Path=/; Max-Age=<ttl>; HttpOnly" (+ "; Secure" when `secure`).
  std::string set_cookie(size_t index, int64_t now_s, bool secure) const;

  // Thread: any worker. The index of the healthy backend `token` pins, or nullopt: bad, expired
  // or foreign token, or a backend that is draining, unhealthy or gone (balance normally and
  // issue a new cookie).
  std::optional<size_t> find(std::string_view token, int64_t now_s) const;

  // Thread: any worker. A token for backends[index] expiring ttl_s from now_s.
  std::string issue(size_t index, int64_t now_s) const;

 private:
  bool enabled_ = false;
  std::string cookie_name_;
  StickyKey key_;
  int64_t ttl_s_ = 0;
  std::vector<uint64_t> tag_by_index_;                    // every backend of the snapshot
  std::vector<std::pair<uint64_t, uint32_t>> healthy_;  // (tag, index), sorted by tag
};

}  // namespace ebb::lb
