// Rise/fall health tracking of one backend (SPEC §2 [pools.health]): a pure state machine with
// no clock or I/O of its own, so it can be tested like arithmetic. The caller feeds it active
// check results, the passive failure count reported by workers, drain requests and the time.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/duration.h"
#include "config/lb_config.h"
#include "lb/backend.h"

namespace ebb::health {

using lb::BackendState;

// Lower-case name as used by the admin API and metrics: "unknown", "healthy", ...
const char* state_name(BackendState s);

struct Policy {
  bool active = true;  // active checks on (check = http | tcp)
  unsigned healthy_threshold = 2;
  unsigned unhealthy_threshold = 3;
  unsigned passive_failures = 5;  // 0 = passive ejection off
  // With active checks off, a passively ejected backend is re-admitted after this back-off,
  // doubled for each ejection that follows a re-admission too closely (at most 16×).
  Duration passive_backoff = std::chrono::seconds(10);

  static Policy from(const config::Health& h);
};

// Where a backend came from: a config load starts healthy (a fresh LB serves at once) unless its
// first check fails; one registered through the admin API starts unknown until it passes.
enum class Origin { config, api };

struct Transition {
  BackendState from;         // effective state before (what a pool snapshot shows)
  BackendState to;           // effective state after
  BackendState health_from;  // underlying health before (differs from `from` while draining)
  BackendState health_to;
  std::string reason;        // human-readable, for events and logs

  bool effective_change() const { return from != to; }
};

// Not thread-safe: owned by the control thread.
class HealthTracker {
 public:
  HealthTracker(const Policy& policy, Origin origin);

  BackendState state() const { return draining_ ? BackendState::draining : health_; }
  BackendState health() const { return health_; }  // ignoring a drain
  bool draining() const { return draining_; }
  bool passively_ejected() const { return passive_ejected_; }
  const Policy& policy() const { return policy_; }

  // An active check finished. `detail` says what happened ("HTTP 200", "connection refused").
  // Ignored when active checks are off. Returns the transition if the health changed.
  std::optional<Transition> on_check(bool pass, std::string_view detail, int64_t now_ms);

  // The workers' count of consecutive connect errors / 5xx for this backend
  // (BackendLive::consecutive_failures). Ejects a healthy backend at `passive_failures`.
  // When a transition goes to healthy the caller must reset that counter to 0.
  std::optional<Transition> on_passive_failures(uint32_t consecutive, int64_t now_ms);

  // Time passes: re-admits a passively ejected backend after its back-off when checks are off.
  std::optional<Transition> on_tick(int64_t now_ms);

  // Starts (on = true) or cancels a drain; draining overrides the health state.
  std::optional<Transition> set_draining(bool on, std::string_view why);

  // Reload: new thresholds/check kind. Turning checks off makes an unknown or actively failed
  // backend healthy (nothing would ever re-admit it); turning them on restarts counting.
  std::optional<Transition> set_policy(const Policy& policy, int64_t now_ms);

  // Steady-clock ms at which on_tick will re-admit, or nullopt.
  std::optional<int64_t> readmit_at_ms() const;

 private:
  std::optional<Transition> move_to(BackendState health, std::string reason);

  Policy policy_;
  BackendState health_;
  bool draining_ = false;
  bool first_check_pending_;  // config-origin backend whose first check decides
  unsigned passes_ = 0;       // consecutive
  unsigned fails_ = 0;        // consecutive
  bool passive_ejected_ = false;
  unsigned ejection_streak_ = 0;
  int64_t readmit_at_ms_ = 0;
  int64_t healthy_since_ms_ = 0;
};

}  // namespace ebb::health
