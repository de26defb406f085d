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

uint64_t identity_hash(const std::string& address) { return hash_key_bytes(address); }

}  // namespace ebb::lb
