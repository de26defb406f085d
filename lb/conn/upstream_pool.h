// Per-worker pool of idle keep-alive upstream connections, keyed by backend address
// (SPEC §4 "per-worker upstream connection reuse"). An idle connection that the backend closes
// or writes to is dropped; one idle longer than its pool's idle_timeout is closed by a sweep.
// Only backends that may receive new requests (healthy in the worker's latest snapshot, see
// retain_only) keep idle connections: a draining, unhealthy or removed backend has none (issue 5).
//
// Thread: one pool per worker, used only on that worker's loop.
#pragma once
#include <uv.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/uv.h"
#include "lb/transport/transport.h"

namespace ebb::lb {

class UpstreamPool final : public TransportHandler {
 public:
  explicit UpstreamPool(uv_loop_t* loop);
  ~UpstreamPool() override;

  // An idle connection to `backend` (most recently used first), or null. The caller becomes the
  // handler of the returned transport, which is still reading (set_handler before the next
  // loop turn).
  TransportPtr take(const std::string& backend);
  // Parks a reusable connection (its response fully read, nothing pending). Closes it instead
  // when `backend` is not in the set last given to retain_only (it started draining or failed
  // while this request was in flight) or already holds `kMaxIdlePerBackend` idle connections.
  void put(const std::string& backend, TransportPtr t, uint64_t idle_timeout_ms);
  // After a snapshot change: `keep` are the backends that may receive new requests. Closes the
  // idle connections of every other backend, and put() parks connections only to these.
  void retain_only(const std::unordered_set<std::string>& keep);
  void close_all();
  size_t idle_count() const;

  static constexpr size_t kMaxIdlePerBackend = 256;

  void on_read(Transport& t, const char*, size_t) override { drop(t); }
  void on_eof(Transport& t) override { drop(t); }
  void on_error(Transport& t, int) override { drop(t); }
  void on_write_progress(Transport&) override {}

 private:
  struct Idle {
    TransportPtr transport;
    uint64_t expires_ms;
  };
  void drop(Transport& t);
  void sweep();

  uv_loop_t* loop_;
  UvHandle<uv_timer_t> sweep_timer_;
  std::unordered_map<std::string, std::vector<Idle>> idle_;
};

}  // namespace ebb::lb
