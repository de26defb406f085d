#include "lb/balancer/sticky.h"

#include "lb/balancer/hash_key.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

namespace ebb::lb {
namespace {

constexpr unsigned char kVersion = 0x01;
constexpr size_t kTagBytes = 8, kExpiryBytes = 4, kMacBytes = 12;
constexpr size_t kTokenBytes = 1 + kTagBytes + kExpiryBytes + kMacBytes;  // 25
static_assert((kTokenBytes * 8 + 5) / 6 == kStickyTokenChars);
constexpr std::string_view kKeyLabel = "ebb sticky cookie key v1";
constexpr size_t kMinSecretBytes = 16;

struct MacDeleter {
  void operator()(EVP_MAC* m) const { EVP_MAC_free(m); }
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};

// One HMAC-SHA256 context per thread, re-keyed per call: no allocation per token once warm,
// and no sharing between workers.
class Hmac {
 public:
  Hmac() {
    mac_.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (mac_) ctx_.reset(EVP_MAC_CTX_new(mac_.get()));
    if (ctx_) {
      char digest[] = "SHA256";
      OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                             OSSL_PARAM_construct_end()};
      ok_ = EVP_MAC_CTX_set_params(ctx_.get(), params) == 1;
    }
  }

  // out: 32 bytes. The message is the concatenation of `parts`.
  bool compute(std::span<const unsigned char> key, std::initializer_list<std::string_view> parts,
               unsigned char* out) {
    if (!ok_ || EVP_MAC_init(ctx_.get(), key.data(), key.size(), nullptr) != 1) return false;
    for (std::string_view p : parts)
      if (EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(p.data()), p.size()) != 1)
        return false;
    size_t len = 0;
    return EVP_MAC_final(ctx_.get(), out, &len, 32) == 1 && len == 32;
  }

 private:
  std::unique_ptr<EVP_MAC, MacDeleter> mac_;
  std::unique_ptr<EVP_MAC_CTX, MacDeleter> ctx_;
  bool ok_ = false;
};

bool hmac(std::span<const unsigned char> key, std::initializer_list<std::string_view> parts,
          unsigned char* out) {
  thread_local Hmac h;
  return h.compute(key, parts, out);
}

std::string_view bytes_view(const unsigned char* p, size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void base64url_encode(const unsigned char* in, size_t n, char* out) {
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      *out++ = kB64[(acc >> bits) & 63];
    }
  }
  if (bits > 0) *out++ = kB64[(acc << (6 - bits)) & 63];
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict: exactly kStickyTokenChars characters of the url-safe alphabet, no padding, and unused
// trailing bits zero (one canonical spelling per token).
bool base64url_decode_token(std::string_view s, unsigned char* out) {
  if (s.size() != kStickyTokenChars) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (char c : s) {
    const int v = b64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<unsigned char>((acc >> bits) & 0xff);
    }
  }
  return o == kTokenBytes && (acc & ((1u << bits) - 1)) == 0;
}

bool token_mac(const StickyKey& key, const unsigned char* head /* version|tag|expiry */,
               unsigned char* mac32) {
  return hmac(key.bytes, {"tok", bytes_view(head, 1 + kTagBytes + kExpiryBytes)}, mac32);
}

bool encode_token(const StickyKey& key, uint64_t tag, int64_t now_s, int64_t ttl_s, char* out) {
  unsigned char raw[kTokenBytes];
  raw[0] = kVersion;
  for (size_t i = 0; i < kTagBytes; ++i) raw[1 + i] = static_cast<unsigned char>(tag >> (56 - 8 * i));
  const int64_t expiry = std::clamp<int64_t>(now_s + std::max<int64_t>(ttl_s, 0), 0, UINT32_MAX);
  for (size_t i = 0; i < kExpiryBytes; ++i)
    raw[1 + kTagBytes + i] = static_cast<unsigned char>(static_cast<uint64_t>(expiry) >> (24 - 8 * i));
  unsigned char mac[32];
  if (!token_mac(key, raw, mac)) return false;
  std::memcpy(raw + 1 + kTagBytes + kExpiryBytes, mac, kMacBytes);
  base64url_encode(raw, kTokenBytes, out);
  return true;
}

}  // namespace

StickyKey make_sticky_key(std::string_view pool_name, std::string_view secret) {
  // Length-prefix the name so ("ab", "c") and ("a", "bc") differ.
  const uint32_t n = static_cast<uint32_t>(pool_name.size());
  const unsigned char len[4] = {static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
                                static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  StickyKey key;
  const bool ok = hmac({reinterpret_cast<const unsigned char*>(kKeyLabel.data()), kKeyLabel.size()},
                       {bytes_view(len, 4), pool_name, secret}, key.bytes.data());
  // HMAC-SHA256 with the default provider does not fail short of a broken OpenSSL install.
  if (!ok) std::abort();
  return key;
}

Result<StickyKey> load_sticky_key(const config::Pool& pool) {
  if (pool.sticky_secret_file.empty()) return make_sticky_key(pool.name, "");
  std::ifstream in(pool.sticky_secret_file, std::ios::binary);
  if (!in) return make_error("pool " + pool.name + ": cannot read sticky_secret_file " +
                             pool.sticky_secret_file);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error("pool " + pool.name + ": error reading sticky_secret_file " +
                                  pool.sticky_secret_file);
  while (!secret.empty() && std::string_view(" \t\r\n").find(secret.back()) != std::string_view::npos)
    secret.pop_back();
  if (secret.size() < kMinSecretBytes)
    return make_error("pool " + pool.name + ": sticky_secret_file " + pool.sticky_secret_file +
                      " must hold at least " + std::to_string(kMinSecretBytes) + " bytes");
  StickyKey key = make_sticky_key(pool.name, secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  return key;
}

int64_t sticky_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t sticky_identity_tag(const StickyKey& key, std::string_view identity) {
  unsigned char out[32];
  if (!hmac(key.bytes, {"id", identity}, out)) std::abort();
  uint64_t tag = 0;
  for (size_t i = 0; i < kTagBytes; ++i) tag = (tag << 8) | out[i];
  return tag;
}

std::string issue_token(const StickyKey& key, std::string_view identity, int64_t now_s,
                        int64_t ttl_s) {
  std::string out(kStickyTokenChars, '\0');
  if (!encode_token(key, sticky_identity_tag(key, identity), now_s, ttl_s, out.data())) return {};
  return out;
}

std::optional<uint64_t> verify_token(const StickyKey& key, std::string_view token, int64_t now_s) {
  unsigned char raw[kTokenBytes];
  if (!base64url_decode_token(token, raw) || raw[0] != kVersion) return std::nullopt;
  unsigned char mac[32];
  if (!token_mac(key, raw, mac)) return std::nullopt;
  if (CRYPTO_memcmp(mac, raw + 1 + kTagBytes + kExpiryBytes, kMacBytes) != 0) return std::nullopt;
  int64_t expiry = 0;
  for (size_t i = 0; i < kExpiryBytes; ++i) expiry = (expiry << 8) | raw[1 + kTagBytes + i];
  if (now_s >= expiry) return std::nullopt;
  uint64_t tag = 0;
  for (size_t i = 0; i < kTagBytes; ++i) tag = (tag << 8) | raw[1 + i];
  return tag;
}

std::string sticky_set_cookie(std::string_view name, std::string_view token, int64_t max_age_s,
                              bool secure) {
  std::string v;
  v.reserve(name.size() + token.size() + 48);
  v.append(name).append("=").append(token).append("; Path=/; Max-Age=");
  v.append(std::to_string(max_age_s)).append("; HttpOnly");
  if (secure) v.append("; Secure");
  return v;
}

StickyTable::StickyTable(const StickyKey& key, std::span<const Backend> backends, int64_t ttl_s)
    : enabled_(true), key_(key), ttl_s_(ttl_s) {
  tag_by_index_.reserve(backends.size());
  for (size_t i = 0; i < backends.size(); ++i) {
    const uint64_t tag = sticky_identity_tag(key, backends[i].address);
    tag_by_index_.push_back(tag);
    if (backends[i].state == BackendState::healthy && backends[i].weight > 0)
      healthy_.emplace_back(tag, static_cast<uint32_t>(i));
  }
  std::sort(healthy_.begin(), healthy_.end());
}

StickyTable::StickyTable(const config::Pool& pool, const StickyKey& key,
                         std::span<const Backend> backends)
    : StickyTable(key, backends,
                  std::chrono::duration_cast<std::chrono::seconds>(pool.sticky_ttl).count()) {
  enabled_ = !pool.sticky_cookie.empty();
  cookie_name_ = pool.sticky_cookie;
}

std::optional<size_t> StickyTable::find_in_request(std::optional<std::string_view> cookie_header,
                                                   int64_t now_s) const {
  if (!enabled_ || !cookie_header) return std::nullopt;
  const auto token = find_cookie(*cookie_header, cookie_name_);
  if (!token) return std::nullopt;
  return find(*token, now_s);
}

std::string StickyTable::set_cookie(size_t index, int64_t now_s, bool secure) const {
  const std::string token = issue(index, now_s);
  if (token.empty()) return {};
  return sticky_set_cookie(cookie_name_, token, ttl_s_, secure);
}

std::optional<size_t> StickyTable::find(std::string_view token, int64_t now_s) const {
  if (!enabled_) return std::nullopt;
  const auto tag = verify_token(key_, token, now_s);
  if (!tag) return std::nullopt;
  auto it = std::lower_bound(healthy_.begin(), healthy_.end(), std::make_pair(*tag, uint32_t{0}));
  if (it == healthy_.end() || it->first != *tag) return std::nullopt;
  return it->second;
}

std::string StickyTable::issue(size_t index, int64_t now_s) const {
  if (!enabled_ || index >= tag_by_index_.size()) return {};
  std::string out(kStickyTokenChars, '\0');
  if (!encode_token(key_, tag_by_index_[index], now_s, ttl_s_, out.data())) return {};
  return out;
}

}  // namespace ebb::lb
