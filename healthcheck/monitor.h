// Health of every backend of every pool, on the control thread's uv loop: schedules the active
// probes (per pool interval, jittered ±10 %, first checks spread over the interval), feeds the
// results and the workers' passive failure counts into one HealthTracker per backend, and
// reports every state change. The control plane turns those changes into pool snapshots.
#pragma once
#include <sys/socket.h>
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/uv.h"
#include "config/lb_config.h"
#include "healthcheck/probe.h"
#include "healthcheck/tracker.h"
#include "lb/backend.h"

namespace ebb::health {

struct BackendRef {
  std::string pool;
  std::string address;  // the backend's identity ("host:port" as configured/registered)
};

// Loop thread only: every method and every callback runs on the loop's thread.
class HealthMonitor {
 public:
  struct Callbacks {
    // Every transition (health change, ejection, re-admission, drain start/cancel).
    std::function<void(const BackendRef&, const Transition&)> on_change;
    // Every finished active check (for ebb_health_checks_total).
    std::function<void(const BackendRef&, const ProbeResult&)> on_check;
  };

  // Callbacks may add, remove or drain backends (including the one reported).
  HealthMonitor(uv_loop_t* loop, Callbacks callbacks,
                uint64_t seed = std::random_device{}());
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Starts tracking (and checking) a backend. `addr` is its resolved address; `live` (optional)
  // is where the workers count consecutive failures for passive ejection. Adding a backend that
  // is already tracked replaces its address/config but keeps its state. Returns its state.
  BackendState add(const BackendRef& ref, const sockaddr* addr, socklen_t addr_len,
                   const config::Health& health, Origin origin,
                   std::shared_ptr<lb::BackendLive> live = nullptr);
  // Stops tracking; an in-flight probe is cancelled. Returns false if unknown.
  bool remove(const BackendRef& ref);
  // Reload: new [pools.health] for every backend of `pool` (rescheduled at the new interval).
  void set_pool_health(const std::string& pool, const config::Health& health);

  // Starts / cancels a drain. nullopt if the backend is unknown, else the transition (which is
  // also reported through on_change) or an empty optional-inner when nothing changed.
  std::optional<std::optional<Transition>> set_draining(const BackendRef& ref, bool on,
                                                        const std::string& why);
  // An explicit passive report (alternative to polling BackendLive::consecutive_failures).
  void report_passive(const BackendRef& ref, uint32_t consecutive_failures);

  std::optional<BackendState> state(const BackendRef& ref) const;
  std::vector<std::pair<BackendRef, BackendState>> states() const;
  size_t size() const { return entries_.size(); }

  // How often the passive counters are polled and back-offs are evaluated.
  static constexpr uint64_t kPassivePollMs = 100;

 private:
  struct Entry;
  using Key = std::pair<std::string, std::string>;

  void schedule(Entry& e, uint64_t delay_ms);
  void run_probe(Entry& e);
  void on_probe_done(Entry& e, const ProbeResult& r);
  void poll_passive();
  uint64_t jittered(uint64_t interval_ms);
  void emit(BackendRef ref, const Transition& t);  // by value: callbacks may remove the entry
  static int64_t now_ms();

  uv_loop_t* loop_;
  Callbacks callbacks_;
  std::mt19937_64 rng_;
  std::map<Key, std::unique_ptr<Entry>> entries_;
  UvHandle<uv_timer_t> passive_timer_;
  int64_t next_inconclusive_log_ms_ = 0;  // skipped checks are logged at most every 10 s
};

}  // namespace ebb::health
