// A backend as the data path sees it: immutable description (inside a PoolSnapshot) plus live
// counters shared by every worker that outlive snapshots.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/address.h"

namespace ebb::lb {

enum class BackendState : uint8_t { unknown, healthy, unhealthy, draining };
const char* to_string(BackendState s);

// Live per-backend counters. Written by workers with relaxed atomics, read by the control
// thread (metrics, admin API) and by balancers. One per backend identity, kept across
// snapshots and reloads while the backend stays in the pool.
struct BackendLive {
  std::atomic<int64_t> active{0};          // in-flight requests (L7) / open connections (L4)
  std::atomic<uint64_t> requests{0};       // requests (L7) / connections (L4) sent to it
  std::atomic<uint64_t> peak_ewma_ns{0};   // peak-EWMA of response time (response_time balancer)
  std::atomic<int64_t> ewma_stamp_ns{0};   // steady-clock ns of the last EWMA update
  std::atomic<uint32_t> consecutive_failures{0};  // passive health: connect errors / 5xx in a row
  // Metrics slot of this (pool, backend), stored by the admin layer on the control thread while
  // the backend is a member (UINT32_MAX otherwise), so per-request metrics need no name lookup.
  std::atomic<uint32_t> metrics_slot{UINT32_MAX};
};

struct Backend {
  std::string address;        // identity: "host:port" as configured or registered
  HostPort host_port;
  sockaddr_storage sockaddr{};  // resolved address (names resolved at load / reload)
  socklen_t sockaddr_len = 0;
  uint32_t weight = 1;
  BackendState state = BackendState::unknown;
  int64_t healthy_since_ms = 0;  // steady clock ms when it last became healthy (slow start)
  uint64_t identity_hash = 0;    // stable hash of `address` (consistent hashing, sticky tokens)
  std::shared_ptr<BackendLive> live;
};

}  // namespace ebb::lb
