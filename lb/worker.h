// A worker thread: its own uv loop, its own SO_REUSEPORT socket per listener, and every
// connection accepted there (DESIGN "Threads and shared state"). The control thread talks to it
// only through post() (a mutex-protected queue + uv_async) carrying immutable Snapshots.
#pragma once
#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/uv.h"
#include "lb/access_log.h"
#include "lb/balancer/balancer.h"
#include "lb/control_plane.h"
#include "lb/snapshot.h"
#include "lb/transport/transport.h"
#include "lb/unique_fd.h"

namespace ebb::lb {

class Session;
class UpstreamPool;
class Worker;

// Connection counters of one listener on one worker (ebb_connections_total/active{listener}).
struct ListenerCounters {
  std::atomic<uint64_t> connections_total{0};
  std::atomic<int64_t> connections_active{0};
};

// Per-worker counters for metrics (issue 5 sums them over workers on scrape). Written only by
// the owning worker (relaxed), read by anyone.
struct WorkerCounters {
  std::atomic<uint64_t> connections_total{0};
  std::atomic<int64_t> connections_active{0};
  std::atomic<uint64_t> requests_total{0};
  std::atomic<uint64_t> bytes_in{0};   // from clients
  std::atomic<uint64_t> bytes_out{0};  // to clients
  std::atomic<uint64_t> connections_refused{0};  // over max_connections
  std::atomic<uint64_t> connections_moved{0};    // accepted here, handed to a less-loaded worker
  // Indexed by ListenerSnapshot::counter_slot (ControlPlane::listener_counter_names()).
  std::array<ListenerCounters, kMaxListenerCounterSlots> listeners;
};

// State shared by all workers of one process.
struct WorkerShared {
  std::atomic<uint64_t> connections{0};      // client connections open, all workers
  std::atomic<uint64_t> max_connections{100000};
  RequestObserver* observer = nullptr;       // metrics hook (set before workers start), may be null
  std::function<void()> on_worker_exit;      // called on a worker thread when its loop has ended
  // Every worker, set before they start (connection balancing reads their loads).
  std::vector<Worker*> workers;
};

// One listen socket of this worker.
struct WorkerListener {
  Worker* worker = nullptr;
  std::string key;
  const ListenerSnapshot* config = nullptr;  // in the worker's current snapshot
  UvHandle<uv_tcp_t> tcp;
  // A second descriptor of the same socket, made while descriptors are plentiful: accepting can
  // pause (tcp closed, the socket and its backlog kept alive by this one) when accept() fails,
  // e.g. out of file descriptors, instead of libuv retrying it in a busy loop. -1 if none.
  UniqueFd spare;
  UvHandle<uv_timer_t> resume_timer;  // ends such a pause
};

class Worker {
 public:
  Worker(unsigned id, WorkerShared& shared);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Thread: control. Starts the thread and its loop.
  void start();
  // Thread: control. Waits for the thread to end (after shutdown).
  void join();

  // Thread: any. Runs `task` on this worker's loop soon.
  void post(std::function<void(Worker&)> task);

  // --- everything below: worker thread only ---
  // Installs a new snapshot, opens `new_fds`, closes listeners the snapshot no longer has.
  void apply_snapshot(std::shared_ptr<const Snapshot> snap, ListenerFds new_fds);
  // Graceful shutdown: stop accepting, let sessions finish, abort them after `grace_ms`.
  void begin_shutdown(uint64_t grace_ms);

  unsigned id() const { return id_; }
  uv_loop_t* loop() const { return loop_.get(); }
  const std::shared_ptr<const Snapshot>& snapshot() const { return snapshot_; }
  PickState& pick_state(size_t pool_index);
  UpstreamPool& upstreams() { return *upstreams_; }
  AccessLog& access_log() { return access_log_; }
  WorkerCounters& counters() { return counters_; }
  WorkerShared& shared() { return shared_; }
  bool shutting_down() const { return shutting_down_; }
  // Wall-clock ms, cached per loop iteration (access log timestamps).
  int64_t wall_ms() const;

  // Links a new session into the worker's list and starts it (accept path; tests).
  Session* adopt(std::unique_ptr<Session> s);
  // Session bookkeeping (Session::finish calls session_finished).
  void session_finished(Session* s);
  // A client connection accepted on `listener` closed (max_connections accounting, metrics).
  void connection_closed(const ListenerSnapshot& listener);
  size_t session_count() const { return session_count_; }
  // Thread: any. Client connections this worker has or is being handed (connection balancing).
  int64_t load() const;

 private:
  void run();
  void drain_posts();
  void on_connection(WorkerListener& l);
  // Hands the connection waiting on `l` to `owner`, which opens it (see connection_balance.h).
  void hand_off(Worker& owner, WorkerListener& l);
  // Thread: this worker. Opens a connection another worker accepted for it.
  void adopt_connection(UniqueFd fd, const std::string& key, std::shared_ptr<const Snapshot> snap,
                        const ListenerSnapshot& accepted_on);
  // TLS, counters and the session of a connection accepted on `listener`.
  void start_session(const std::shared_ptr<const Snapshot>& snap, const ListenerSnapshot& listener,
                     TransportPtr t);
  // Opens `fd` as l.tcp and starts accepting (fd released to libuv once it took it); 0 or a uv error.
  int listen_on(WorkerListener& l, UniqueFd& fd);
  void on_accept_error(WorkerListener& l, int status);
  void arm_resume(WorkerListener& l);
  void resume_listener(WorkerListener& l);
  void close_listener(size_t i);
  void reap();
  void maybe_exit();

  unsigned id_;
  WorkerShared& shared_;
  UvLoop loop_;
  std::thread thread_;
  UvHandle<uv_async_t> async_;
  UvHandle<uv_check_t> check_;
  UvHandle<uv_timer_t> grace_timer_;
  std::mutex mu_;
  std::vector<std::function<void(Worker&)>> posted_;  // guarded by mu_

  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<PickState> pick_states_;
  std::vector<std::unique_ptr<WorkerListener>> listeners_;
  std::unique_ptr<UpstreamPool> upstreams_;
  AccessLog access_log_;
  WorkerCounters counters_;
  Session* sessions_ = nullptr;  // intrusive list head of live sessions
  size_t session_count_ = 0;
  std::vector<Session*> graveyard_;  // finished, deleted in the check callback
  bool shutting_down_ = false;
  bool exiting_ = false;
  uint64_t next_accept_log_ms_ = 0;  // accept errors are logged at most once a second
  // Connections handed to this worker that it has not opened yet: part of its load, so a burst
  // of hand-offs does not all go to the same worker. Written by other workers.
  alignas(64) std::atomic<int64_t> incoming_{0};
};

}  // namespace ebb::lb
