// Session ticket keys shared by every worker of a listener, so a client that got a ticket from
// one worker resumes on any other (SO_REUSEPORT spreads reconnects across workers).
//
// Keys rotate every `period` (default kTicketKeyRotation): the store rotates itself when a
// ticket is issued after the period has passed, so no timer is needed and an idle listener does
// no work. New tickets are always encrypted with the newest key; the previous kTicketKeysKept-1
// keys still decrypt, so a ticket stays usable for at least (kTicketKeysKept-1) periods. A
// ticket decrypted with an older key is renewed (re-issued under the current key).
//
// Thread-safety: readers (one per handshake on any worker) take a shared lock just long enough to
// copy one key; rotation takes the exclusive lock. Key bytes are wiped when replaced.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <shared_mutex>

namespace ebb::lb::tls {

inline constexpr std::chrono::seconds kTicketKeyRotation{3600};
inline constexpr size_t kTicketKeysKept = 3;  // current + 2 previous
// Ticket lifetime announced to clients: as long as a ticket is guaranteed to stay decryptable.
inline constexpr std::chrono::seconds kTicketLifetime = kTicketKeyRotation * (kTicketKeysKept - 1);

struct TicketKey {
  std::array<uint8_t, 16> name;      // sent in the clear in the ticket; selects the key
  std::array<uint8_t, 32> aes_key;   // AES-256-CBC
  std::array<uint8_t, 32> hmac_key;  // HMAC-SHA256
  void wipe();
};

class TicketKeyStore {
 public:
  // Starts with one fresh random key. Aborts only if the system RNG is broken.
  explicit TicketKeyStore(std::chrono::steady_clock::duration period = kTicketKeyRotation);
  ~TicketKeyStore();
  TicketKeyStore(const TicketKeyStore&) = delete;
  TicketKeyStore& operator=(const TicketKeyStore&) = delete;

  // Makes a fresh random key current; the oldest kept key is dropped. Any thread. Returns false
  // (and changes nothing) if the RNG failed.
  bool rotate();

  // Rotates if a full period has passed since the last rotation at time `now`. Any thread.
  void rotate_if_due(std::chrono::steady_clock::time_point now);

  // The key to encrypt a new ticket with (rotating first if the period is over). Any thread.
  void current(TicketKey& out);

  enum class Lookup { not_found, current, previous };
  // The key named `name` (for decrypting a ticket). `previous` means the ticket should be
  // renewed. Any thread.
  Lookup find(const uint8_t* name, TicketKey& out) const;

  // Number of rotate() calls so far (for tests and logs). Any thread.
  uint64_t rotations() const;

 private:
  bool replace_current();

  const std::chrono::steady_clock::duration period_;
  std::atomic<int64_t> last_rotation_;  // steady_clock ticks; read without the lock
  mutable std::shared_mutex mu_;
  std::array<TicketKey, kTicketKeysKept> keys_{};  // keys_[0] is current
  size_t count_ = 0;                               // how many of keys_ are valid
  uint64_t rotations_ = 0;
};

}  // namespace ebb::lb::tls
