#include "lb/snapshot.h"

#include <netinet/in.h>
#include <sys/socket.h>

namespace ebb::lb {

size_t Snapshot::pool_index(const std::string& name) const {
  for (size_t i = 0; i < pools.size(); ++i)
    if (pools[i].settings.name == name) return i;
  return kNoPool;
}

const ListenerSnapshot* Snapshot::find_listener(const std::string& key) const {
  for (const auto& l : listeners)
    if (l.key == key) return &l;
  return nullptr;
}

uint64_t hash_bytes(const void* data, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < len; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t identity_hash(const std::string& address) { return hash_bytes(address.data(), address.size()); }

uint64_t hash_client_ip(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    const auto& a = reinterpret_cast<const sockaddr_in&>(addr);
    return hash_bytes(&a.sin_addr, sizeof a.sin_addr);
  }
  if (addr.ss_family == AF_INET6) {
    const auto& a = reinterpret_cast<const sockaddr_in6&>(addr);
    return hash_bytes(&a.sin6_addr, sizeof a.sin6_addr);
  }
  return 0;
}

}  // namespace ebb::lb
