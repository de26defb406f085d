// The control plane of ebb-lb: owns the current configuration, each pool's membership and
// backend states, the listen sockets, and publishes immutable Snapshots to the workers.
//
// Thread: every method runs on the control thread (its uv loop also hosts signals, the admin API
// and health checks). Nothing here is touched by workers: they only see published Snapshots and
// the BackendLive counters (relaxed atomics) shared through them.
//
// Seams for the admin API and health checks (issue 5): add_backend / drain_backend /
// set_weight / set_state / reload change state and republish; pools() exposes membership with
// the live counters; on_change() lets them observe (events).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "config/lb_config.h"
#include "lb/backend.h"
#include "lb/resolve.h"
#include "lb/snapshot.h"
#include "lb/tls/tls_listeners.h"
#include "lb/unique_fd.h"

namespace ebb::lb {

// A listen socket a worker must start: (listener key, fd).
using ListenerFds = std::vector<std::pair<std::string, UniqueFd>>;

// Where snapshots go: the set of workers (lb/server.cc) or a test double.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual size_t worker_count() const = 0;
  // Thread: control. Hands `snap` to every worker; `new_fds[w]` are the listen sockets worker w
  // opens (listeners new in this snapshot). Workers close sockets of listeners absent from `snap`.
  virtual void publish(std::shared_ptr<const Snapshot> snap, std::vector<ListenerFds> new_fds) = 0;
};

struct BackendEntry {
  std::string address;  // identity "host:port"
  HostPort host_port;
  SockAddr addr;        // resolved at load / reload / registration
  uint32_t weight = 1;
  BackendState state = BackendState::unknown;
  int64_t healthy_since_ms = 0;
  int64_t drain_deadline_ms = 0;  // when draining: removed at this time even if still busy
  std::shared_ptr<BackendLive> live;
};

struct PoolState {
  config::Pool settings;
  std::optional<StickyKey> sticky_key;  // when sticky_cookie is set (read at load / reload)
  std::vector<BackendEntry> backends;
  BackendEntry* find(const std::string& address);
};

class ControlPlane {
 public:
  explicit ControlPlane(SnapshotSink& sink);

  // First configuration at start-up: resolves names, binds every listener (one socket per
  // worker), publishes. On error nothing is published and the errors are returned.
  Result<void> start(config::LbConfig config);

  // Re-reads `config_path` (SIGHUP, POST /api/v1/reload). On any error the old configuration
  // keeps running and every error is returned (one per line). Counts successes and failures.
  Result<void> reload(const std::string& config_path);
  // Same with an already loaded and validated config.
  Result<void> apply(config::LbConfig config);

  // Membership changes (admin API, scaler). Each republishes on success.
  // add_backend: 201-like `true` when added, `false` when already present.
  Result<bool> add_backend(const std::string& pool, const std::string& address, uint32_t weight,
                           BackendState initial);
  Result<void> drain_backend(const std::string& pool, const std::string& address);
  Result<void> set_weight(const std::string& pool, const std::string& address, uint32_t weight);
  // healthy / unhealthy / unknown / draining (draining = drain_backend; healthy cancels a drain).
  Result<void> set_state(const std::string& pool, const std::string& address, BackendState state);

  // Removes draining backends that are idle or past their drain deadline, and advances slow
  // start ramps (rebuilds the selectors while a backend ramps); republishes if either applies.
  // Call every kSlowStartStepMs (the server does). `now_ms`: steady clock ms.
  void tick(int64_t now_ms);

  const config::LbConfig& config() const { return config_; }
  const std::vector<PoolState>& pools() const { return pools_; }
  PoolState* find_pool(const std::string& name);
  std::shared_ptr<const Snapshot> current() const { return current_; }
  uint64_t reloads_ok() const { return reloads_ok_; }
  uint64_t reloads_failed() const { return reloads_failed_; }
  // Listener names by connection counter slot (WorkerCounters::listeners); names are never
  // removed, so a slot keeps its listener across reloads.
  const std::vector<std::string>& listener_counter_names() const { return listener_counter_names_; }
  // Every TLS listener's contexts and handshake counters (metrics).
  const tls::TlsListeners& tls() const { return tls_; }

  // Observer for changes (events): called with a one-line description after each publish.
  void on_change(std::function<void(const std::string&)> cb) { on_change_ = std::move(cb); }

  // Rebuilds the snapshot from the current state and publishes it.
  void publish();

  static int64_t now_ms();

 private:
  struct ListenSocket {
    std::string key;
    std::vector<UniqueFd> fds;  // one per worker until handed over
  };
  Result<void> apply_internal(config::LbConfig config, bool initial);
  void publish_with(std::vector<ListenerFds> new_fds);
  void notify(const std::string& what);
  uint32_t listener_counter_slot(const std::string& name);

  SnapshotSink& sink_;
  config::LbConfig config_;
  std::vector<PoolState> pools_;
  std::vector<std::string> listener_keys_;  // listeners the workers currently serve
  tls::TlsListeners tls_;                   // certificates + ticket keys of TLS listeners
  std::vector<std::string> listener_counter_names_;  // index = ListenerSnapshot::counter_slot
  std::shared_ptr<const Snapshot> current_;
  uint64_t generation_ = 0;
  uint64_t reloads_ok_ = 0;
  uint64_t reloads_failed_ = 0;
  std::function<void(const std::string&)> on_change_;
};

}  // namespace ebb::lb
