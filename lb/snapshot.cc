#include "lb/snapshot.h"

#include "lb/balancer/hash_key.h"

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

bool Snapshot::backend_gone(const std::string& pool, const std::string& address) const {
  size_t i = pool_index(pool);
  if (i == kNoPool) return false;
  for (const auto& b : pools[i].backends)
    if (b.address == address) return false;
  return true;
}

uint64_t identity_hash(const std::string& address) { return hash_key_bytes(address); }

}  // namespace ebb::lb
