// The ebb-lb daemon: control thread + worker threads (DESIGN.md "Threads and shared state").
//
// The thread that calls Server::run() is the control thread: its uv loop (control_loop()) hosts
// signals, reloads and the drain timer, and is where the admin API and health checks (issue 5)
// attach: they get the loop, the ControlPlane (membership/state/weights → snapshots published
// to workers), per-worker counters and the request observer hook.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/uv.h"
#include "config/lb_config.h"
#include "lb/control_plane.h"
#include "lb/worker.h"

namespace ebb::lb {

class Server final : public SnapshotSink {
 public:
  // `config_path` is re-read on SIGHUP / reload().
  explicit Server(std::string config_path);
  ~Server() override;

  // Thread: control. Creates the workers, binds the listeners, publishes the first snapshot
  // and starts the worker threads. Errors (bind failures, unresolvable backends) are returned.
  Result<void> start(config::LbConfig config);
  // Thread: control. Runs the control loop until shutdown completes; returns the exit status.
  int run();

  // Thread: control. Reload from the config file (SIGHUP; admin POST /api/v1/reload).
  // On failure the old config keeps running; the error text has one line per problem.
  Result<void> reload();
  // Thread: control. Graceful shutdown (SIGTERM): stop accepting, finish in flight work up to
  // runtime.shutdown_grace, exit.
  void shutdown();

  uv_loop_t* control_loop() const { return loop_.get(); }
  ControlPlane& control() { return control_; }
  const std::vector<std::unique_ptr<Worker>>& workers() const { return workers_; }
  // Metrics hook, called on workers per finished request. Set before start().
  void set_request_observer(RequestObserver* o) { shared_.observer = o; }

  // SnapshotSink
  size_t worker_count() const override { return workers_.size(); }
  void publish(std::shared_ptr<const Snapshot> snap, std::vector<ListenerFds> new_fds) override;

 private:
  void on_signal(int signum);
  void on_worker_exit();
  void probe_descriptors();

  std::string config_path_;
  UvLoop loop_;
  WorkerShared shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  ControlPlane control_;
  UvHandle<uv_signal_t> sighup_, sigterm_, sigint_;
  UvHandle<uv_timer_t> tick_;
  UvHandle<uv_async_t> worker_exit_;
  std::atomic<unsigned> exited_{0};
  bool stopping_ = false;
  bool out_of_fds_ = false;  // the last probe_descriptors() found none free
  unsigned sigints_ = 0;
};

// Runs the load balancer until SIGTERM/SIGINT. `config_path` is re-read on SIGHUP.
// Returns the process exit status.
int run_server(const std::string& config_path, config::LbConfig config);

}  // namespace ebb::lb
