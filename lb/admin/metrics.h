// ebb-lb metrics (SPEC §6), cheap on the hot path.
//
// Workers never touch a prometheus-cpp object or a lock: each worker owns a WorkerMetrics block
// of plain uint64 counters (relaxed atomics with a single writer, so an increment is a load and
// a store, no locked instruction), indexed by a listener slot and a backend slot. The control
// thread sums the blocks of all workers on scrape, builds prometheus-cpp MetricFamily values
// and serialises them with prometheus::TextSerializer (exposition format 0.0.4).
//
// Slots: the control thread gives every (pool, backend) identity a stable backend slot
// (MetricsHub::backend_slot) and every listener name a listener slot. The core stores them in its
// snapshots (e.g. next to Backend) and passes them to the WorkerMetrics calls. A released
// backend slot is quarantined before reuse, so a worker still holding an old snapshot never
// counts into a different backend's series.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "lb/backend.h"

namespace ebb::lb::admin {

// Upper bounds (seconds) of ebb_request_duration_seconds, plus the implicit +Inf bucket:
// sub-millisecond for local backends up to the 10 s a slow upstream may take.
inline constexpr std::array<double, 14> kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};

inline constexpr uint32_t kNoSlot = UINT32_MAX;  // "do not count" (slot space exhausted)

class MetricsHub;

// One worker's counters. Every on_* method may be called only by the worker that owns the
// block (single writer); the control thread reads concurrently on scrape.
class WorkerMetrics {
 public:
  // One proxied request (L7) or connection (L4) finished with `status` (HTTP status; for TCP
  // pass 200 for a connection that reached a backend, 502 when none could be reached).
  // `backend_slot` may be the pool's "no backend" slot (MetricsHub::backend_slot(pool, "")).
  void on_request(uint32_t listener_slot, uint32_t backend_slot, int status,
                  uint64_t duration_ns, uint64_t bytes_in, uint64_t bytes_out);
  void on_connection_open(uint32_t listener_slot) { bump(listener(listener_slot, kConnOpen), 1); }
  void on_connection_close(uint32_t listener_slot) { bump(listener(listener_slot, kConnClose), 1); }
  void on_tls_handshake(uint32_t listener_slot, bool ok) {
    bump(listener(listener_slot, ok ? kTlsOk : kTlsFail), 1);
  }
  // Bytes moved outside on_request (TCP mode, tunnels): `in` from clients, `out` to clients.
  void on_bytes(uint32_t listener_slot, uint64_t in, uint64_t out) {
    bump(listener(listener_slot, kBytesIn), in);
    bump(listener(listener_slot, kBytesOut), out);
  }

  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

 private:
  friend class MetricsHub;
  using Counter = std::atomic<uint64_t>;

  // Per listener slot.
  enum ListenerField : uint32_t { kConnOpen, kConnClose, kBytesIn, kBytesOut, kTlsOk, kTlsFail, kListenerFields };
  static constexpr uint32_t kChunkSlots = 64;    // backend slots per allocation
  static constexpr uint32_t kMaxChunks = 1024;   // → at most 65536 backend slots

  WorkerMetrics(uint32_t max_listeners, uint32_t slot_stride);

  static void bump(Counter& c, uint64_t d) {
    c.store(c.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  Counter& listener(uint32_t slot, uint32_t field) {
    if (slot >= max_listeners_) slot = max_listeners_;  // the overflow row, never exported
    return listeners_[slot * kListenerFields + field];
  }
  Counter* backend(uint32_t slot) const;
  void ensure_chunk(uint32_t chunk);  // control thread

  const uint32_t max_listeners_;
  const uint32_t slot_stride_;
  std::unique_ptr<Counter[]> listeners_;  // (max_listeners + 1) × kListenerFields
  std::array<std::atomic<Counter*>, kMaxChunks> chunks_{};
  std::vector<std::unique_ptr<Counter[]>> owned_chunks_;  // control thread only
};

// What the control plane knows about a backend at scrape time.
struct BackendStatus {
  std::string pool;
  std::string address;
  BackendState state = BackendState::unknown;
  int64_t active = 0;  // BackendLive::active
};

// Owned by the control thread. Slot assignment, release, health/reload counts and render are
// serialised by an internal mutex, so a worker may also ask for a slot on a cache miss (rare:
// once per backend per worker); the per-request path never locks.
class MetricsHub {
 public:
  // `workers` blocks are created up front; `max_listeners` bounds listener slots (listener names
  // seen over the process lifetime; give headroom for reloads that add listeners).
  MetricsHub(unsigned workers, uint32_t max_listeners = 16);

  // The block of worker `i`; hand it to that worker thread.
  WorkerMetrics& worker(unsigned i) { return *workers_.at(i); }
  unsigned workers() const { return static_cast<unsigned>(workers_.size()); }

  // Stable slot for a listener name (kNoSlot past max_listeners).
  uint32_t listener_slot(const std::string& name);
  // Stable slot for a (pool, backend) identity; `backend` "" is the pool's "no backend" slot for
  // requests that never reached one (503). Allocates counter memory for every worker before it
  // returns, so a slot may be published to workers right after. kNoSlot if exhausted.
  uint32_t backend_slot(const std::string& pool, const std::string& backend);
  // The live slot of a (pool, backend), or kNoSlot; never creates one (worker cache misses).
  uint32_t find_backend_slot(const std::string& pool, const std::string& backend) const;
  // The backend left its pool: its series disappear; the slot is reused only after a quarantine.
  void release_backend_slot(const std::string& pool, const std::string& backend);

  void on_health_check(const std::string& pool, const std::string& backend, bool pass);
  void on_reload(bool ok);

  // The exposition text (version 0.0.4) of every SPEC §6 metric. `backends` are the current
  // members with their state (ebb_backend_active/up/state).
  std::string render(const std::vector<BackendStatus>& backends) const;

  // Changes whenever a slot is released; slot caches compare it to know when to forget.
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // Mean request duration (ms) of a backend over its lifetime, or -1 without data.
  double mean_latency_ms(const std::string& pool, const std::string& backend) const;
  // Connection/TLS totals the core counts itself (it has no per-listener WorkerMetrics calls);
  // when set for a listener name they replace the worker blocks' values for that listener.
  struct ListenerTotals {
    uint64_t connections_total = 0;
    int64_t connections_active = 0;
    // ebb_tls_handshakes_total by result (lb/tls's labels: ok, failed, timeout, closed);
    // empty for a listener without TLS.
    std::vector<std::pair<std::string, uint64_t>> tls_results;
  };
  void set_listener_totals(std::map<std::string, ListenerTotals> totals);
  void set_reloads(uint64_t ok, uint64_t failed);
  // Per worker thread: open client connections, and those it accepted and handed to a
  // less-loaded worker (ebb_worker_connections_*; extensions to SPEC §6, see ebb-lb(8)).
  struct WorkerConnections {
    int64_t active = 0;
    uint64_t moved = 0;
  };
  void set_worker_connections(std::vector<WorkerConnections> workers);

  static constexpr int64_t kSlotQuarantineMs = 5 * 60 * 1000;

 private:
  struct SlotInfo {
    std::string pool;
    std::string backend;
    bool live = false;
    int64_t released_ms = 0;
  };

  static int64_t now_ms();
  uint32_t listener_slot_locked(const std::string& name);

  mutable std::mutex mu_;
  std::atomic<uint64_t> epoch_{0};
  std::map<std::string, ListenerTotals> listener_totals_;

  uint32_t max_listeners_;
  uint32_t slot_stride_;
  std::vector<std::unique_ptr<WorkerMetrics>> workers_;
  std::vector<std::string> listener_names_;
  std::vector<SlotInfo> slots_;
  std::map<std::pair<std::string, std::string>, uint32_t> slot_by_key_;
  std::vector<uint32_t> free_slots_;  // released, in release order
  std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> health_checks_;
  uint64_t reloads_ok_ = 0;
  uint64_t reloads_failed_ = 0;
  std::vector<WorkerConnections> worker_connections_;
};

}  // namespace ebb::lb::admin
