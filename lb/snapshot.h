// Immutable views of the configuration that workers proxy with (DESIGN "Threads and shared
// state"). The control thread builds a new Snapshot on every change (reload, admin API, health)
// and publishes it to every worker; a worker swaps its pointer, and each connection keeps the
// snapshot it started with (shared_ptr) until it is done, so a reload never disturbs it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/lb_config.h"
#include "lb/backend.h"
#include "lb/balancer/balancer.h"
#include "lb/balancer/sticky.h"
#include "lb/http/router.h"
#include "lb/tls/tls_context.h"

namespace ebb::lb {

inline constexpr size_t kNoPool = static_cast<size_t>(-1);

struct PoolSnapshot {
  config::Pool settings;          // backends field: as configured (membership is `backends` below)
  size_t index = 0;               // position in Snapshot::pools (per-worker PickState index)
  std::vector<Backend> backends;  // every member (any state); the selector only picks healthy ones
  std::unique_ptr<Selector> selector;
  StickyTable sticky;             // sticky_cookie tokens → backend (disabled when "")
};

// Listener names with their own connection counters (more are not counted per listener).
inline constexpr uint32_t kMaxListenerCounterSlots = 64;

struct ListenerSnapshot {
  config::Listener settings;
  std::string key;                   // identity of the listen socket: canonical listen address
  size_t default_pool = kNoPool;     // index into Snapshot::pools
  std::vector<size_t> route_pools;   // index per settings.routes entry
  std::shared_ptr<const http::Router> router;  // host/path → route (HTTP listeners)
  std::shared_ptr<const tls::TlsContextSet> tls;  // per-worker TLS contexts; null = plain TCP
  // Index of this listener's connection counters in every worker (stable per listener name for
  // the process lifetime); kMaxListenerCounterSlots = not counted.
  uint32_t counter_slot = kMaxListenerCounterSlots;
};

struct Snapshot {
  uint64_t generation = 0;
  config::Runtime runtime;
  std::vector<PoolSnapshot> pools;
  std::vector<ListenerSnapshot> listeners;

  // Thread: any. Index of the pool named `name`, or kNoPool.
  size_t pool_index(const std::string& name) const;
  const ListenerSnapshot* find_listener(const std::string& key) const;
  // Thread: any. True if pool `pool` exists but no longer has backend `address` (it drained or
  // its drain_timeout ended). A pool removed by a reload does not count: its work finishes.
  bool backend_gone(const std::string& pool, const std::string& address) const;
};

// Stable hash of a backend identity (the same on every node and restart).
uint64_t identity_hash(const std::string& address);

}  // namespace ebb::lb

