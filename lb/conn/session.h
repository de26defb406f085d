// Base of every client-side connection a worker serves (TCP tunnel, HTTP session). The worker
// keeps all live sessions in an intrusive list (for graceful shutdown) and deletes finished ones
// after the current loop iteration's callbacks, never from inside one (DESIGN point 7).
#pragma once

namespace ebb::lb {

class Worker;
struct Snapshot;

class Session {
 public:
  explicit Session(Worker& worker) : worker_(worker) {}
  virtual ~Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Thread: worker. Called once right after the worker linked the session.
  virtual void start() = 0;
  // Thread: worker. Graceful shutdown began (SIGTERM): close now if idle between requests,
  // otherwise after the request in flight. Must eventually call finish().
  virtual void begin_shutdown() = 0;
  // Thread: worker. The grace period is over: close everything now and finish().
  virtual void abort() = 0;

  // Thread: worker. A new snapshot was installed. Sessions whose backend has left its pool
  // (drained past drain_timeout, or removed) close their upstream work now.
  virtual void on_snapshot(const Snapshot& /*snap*/) {}

  bool finished() const { return finished_; }

  // Intrusive list links, owned by Worker.
  Session* prev_ = nullptr;
  Session* next_ = nullptr;

 protected:
  // Thread: worker. Marks the session done; the worker deletes it after the current callback.
  // Idempotent.
  void finish();

  Worker& worker_;

 private:
  bool finished_ = false;
};

}  // namespace ebb::lb
