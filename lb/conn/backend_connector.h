// Picks a backend and connects to it, with the pool's connect timeout and `retries` further
// attempts on other backends after a connect failure (SPEC §2). Shared by TCP and HTTP sessions.
//
// Thread: the worker that owns it. The owner keeps it alive until on_connected/on_connect_failed
// (or cancel()).
#pragma once
#include <uv.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/uv.h"
#include "lb/snapshot.h"
#include "lb/transport/transport.h"

namespace ebb::lb {

class Worker;

class BackendConnector final : public TransportHandler {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // Connected to pool.backends[index]; the owner takes the transport and sets its handler.
    // BackendLive::active was already incremented for it (the owner decrements when done).
    virtual void on_connected(size_t backend_index, TransportPtr t, bool reused) = 0;
    // No backend could be reached. `no_backend`: none was eligible at all (503 rather than 502).
    virtual void on_connect_failed(bool no_backend) = 0;
  };

  BackendConnector(Worker& worker, Owner& owner);
  ~BackendConnector() override;

  enum class Start { pending, reused, no_backend };
  // Picks from `pool` (`req` carries the hash key; the exclude list is managed here).
  //  - reused: `allow_reuse` and an idle keep-alive connection to the picked backend was free:
  //    take it with take_reused() now (no callback follows).
  //  - no_backend: no backend is eligible (503 / close); no callback follows.
  //  - pending: connecting; exactly one owner callback follows, from a later loop callback.
  // `pinned`: a backend index chosen by the caller (sticky cookie) instead of the selector's.
  Start connect(const PoolSnapshot& pool, const PickRequest& req, bool allow_reuse,
                size_t pinned = kNoBackend);
  TransportPtr take_reused(size_t* backend_index);
  void cancel();
  bool busy() const { return pool_ != nullptr; }
  // Loop time (ms) the current attempt started, for upstream timing.
  uint64_t attempt_started_ms() const { return started_ms_; }

  void on_read(Transport&, const char*, size_t) override {}
  void on_eof(Transport&) override {}
  void on_error(Transport&, int) override {}
  void on_write_progress(Transport&) override {}
  void on_connect(Transport& t, int status) override;

 private:
  // Tries backends until one connect starts; false when none is left.
  // Next attempt: true if one is under way (or, with `may_reuse`, already handed to the owner
  // on an idle keep-alive connection). `may_reuse` only where the owner may be called back at
  // once (a retry from a callback), never from inside connect().
  bool attempt(bool may_reuse);
  void fail_attempt();
  void deliver_failure();
  void log_local_error(int err, const std::string& address);

  Worker& worker_;
  Owner& owner_;
  const PoolSnapshot* pool_ = nullptr;
  PickRequest req_;
  bool allow_reuse_ = false;
  uint32_t tried_[8];
  size_t tried_count_ = 0;
  unsigned attempts_left_ = 0;
  bool any_picked_ = false;
  size_t current_ = kNoBackend;
  size_t prepicked_ = kNoBackend;
  TransportPtr pending_;
  UvHandle<uv_timer_t> timer_;  // connect timeout, and deferral of immediate results
  uint64_t started_ms_ = 0;
  bool deferred_failure_ = false;  // timer_ is running as a 0 ms deferral of a failure
};

}  // namespace ebb::lb
