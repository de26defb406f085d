#include "lb/tls/ticket_key_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/log.h"

namespace ebb::lb::tls {

void TicketKey::wipe() {
  OPENSSL_cleanse(name.data(), name.size());
  OPENSSL_cleanse(aes_key.data(), aes_key.size());
  OPENSSL_cleanse(hmac_key.data(), hmac_key.size());
}

namespace {

bool random_key(TicketKey& k) {
  return RAND_priv_bytes(k.name.data(), static_cast<int>(k.name.size())) == 1 &&
         RAND_priv_bytes(k.aes_key.data(), static_cast<int>(k.aes_key.size())) == 1 &&
         RAND_priv_bytes(k.hmac_key.data(), static_cast<int>(k.hmac_key.size())) == 1;
}

}  // namespace

TicketKeyStore::TicketKeyStore(std::chrono::steady_clock::duration period)
    : period_(period), last_rotation_(std::chrono::steady_clock::now().time_since_epoch().count()) {
  if (!random_key(keys_[0])) {
    // Without randomness no TLS is safe at all; refusing to run beats predictable keys.
    log::error("tls: the system random number generator failed; cannot create ticket keys");
    std::abort();
  }
  count_ = 1;
}

TicketKeyStore::~TicketKeyStore() {
  for (auto& k : keys_) k.wipe();
}

bool TicketKeyStore::rotate() {
  if (!replace_current()) return false;
  last_rotation_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  return true;
}

bool TicketKeyStore::replace_current() {
  TicketKey fresh;
  if (!random_key(fresh)) {
    fresh.wipe();
    return false;
  }
  {
    std::unique_lock lock(mu_);
    keys_.back().wipe();
    for (size_t i = keys_.size() - 1; i > 0; --i) keys_[i] = keys_[i - 1];
    keys_[0] = fresh;
    if (count_ < keys_.size()) ++count_;
    ++rotations_;
  }
  fresh.wipe();
  return true;
}

void TicketKeyStore::rotate_if_due(std::chrono::steady_clock::time_point now) {
  const int64_t now_ticks = now.time_since_epoch().count();
  const int64_t seen = last_rotation_.load(std::memory_order_relaxed);
  if (now_ticks - seen < period_.count()) return;
  // Only the thread that moves the timestamp forward rotates; the others keep the current key.
  int64_t expected = seen;
  if (!last_rotation_.compare_exchange_strong(expected, now_ticks, std::memory_order_relaxed)) return;
  if (!replace_current()) log::error("tls: ticket key rotation failed (random number generator); keeping the current key");
}

void TicketKeyStore::current(TicketKey& out) {
  rotate_if_due(std::chrono::steady_clock::now());
  std::shared_lock lock(mu_);
  out = keys_[0];
}

TicketKeyStore::Lookup TicketKeyStore::find(const uint8_t* name, TicketKey& out) const {
  std::shared_lock lock(mu_);
  for (size_t i = 0; i < count_; ++i) {
    // Key names are public (they travel in the ticket), so a plain compare leaks nothing.
    if (std::memcmp(keys_[i].name.data(), name, keys_[i].name.size()) == 0) {
      out = keys_[i];
      return i == 0 ? Lookup::current : Lookup::previous;
    }
  }
  return Lookup::not_found;
}

uint64_t TicketKeyStore::rotations() const {
  std::shared_lock lock(mu_);
  return rotations_;
}

}  // namespace ebb::lb::tls
