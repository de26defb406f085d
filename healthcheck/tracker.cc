#include "healthcheck/tracker.h"

#include <algorithm>

namespace ebb::health {

const char* state_name(BackendState s) {
  switch (s) {
    case BackendState::unknown: return "unknown";
    case BackendState::healthy: return "healthy";
    case BackendState::unhealthy: return "unhealthy";
    case BackendState::draining: return "draining";
  }
  return "unknown";
}

Policy Policy::from(const config::Health& h) {
  Policy p;
  p.active = h.check != config::HealthCheck::none;
  p.healthy_threshold = std::max(1u, h.healthy_threshold);
  p.unhealthy_threshold = std::max(1u, h.unhealthy_threshold);
  p.passive_failures = h.passive_failures;
  // Back-off scales with the configured interval but never below 1 s.
  p.passive_backoff = std::max<Duration>(std::chrono::seconds(1), h.interval * 5);
  return p;
}

namespace {
std::string plural(unsigned n, const char* what) {
  return std::to_string(n) + " consecutive " + what + (n == 1 ? "" : "s");
}
}  // namespace

HealthTracker::HealthTracker(const Policy& policy, Origin origin)
    : policy_(policy),
      health_(origin == Origin::config || !policy.active ? BackendState::healthy
                                                         : BackendState::unknown),
      first_check_pending_(origin == Origin::config && policy.active) {}

std::optional<Transition> HealthTracker::move_to(BackendState health, std::string reason) {
  if (health == health_) return std::nullopt;
  Transition t{state(), state(), health_, health, std::move(reason)};
  health_ = health;
  t.to = state();
  return t;
}

std::optional<Transition> HealthTracker::on_check(bool pass, std::string_view detail,
                                                  int64_t now_ms) {
  if (!policy_.active) return std::nullopt;
  if (pass) {
    fails_ = 0;
    ++passes_;
  } else {
    passes_ = 0;
    ++fails_;
  }
  const bool first = first_check_pending_;
  first_check_pending_ = false;
  if (first && !pass)
    return move_to(BackendState::unhealthy, "first check failed: " + std::string(detail));

  if (health_ == BackendState::healthy) {
    if (fails_ >= policy_.unhealthy_threshold)
      return move_to(BackendState::unhealthy,
                     plural(fails_, "failed check") + ": " + std::string(detail));
    return std::nullopt;
  }
  if (passes_ >= policy_.healthy_threshold) {
    std::string reason = plural(passes_, "passed check") + ": " + std::string(detail);
    if (passive_ejected_) reason += " (re-admitted after passive ejection)";
    passive_ejected_ = false;
    healthy_since_ms_ = now_ms;
    return move_to(BackendState::healthy, std::move(reason));
  }
  if (health_ == BackendState::unknown && fails_ >= policy_.unhealthy_threshold)
    return move_to(BackendState::unhealthy,
                   plural(fails_, "failed check") + ": " + std::string(detail));
  return std::nullopt;
}

std::optional<Transition> HealthTracker::on_passive_failures(uint32_t consecutive,
                                                             int64_t now_ms) {
  if (policy_.passive_failures == 0 || health_ != BackendState::healthy) return std::nullopt;
  if (consecutive == 0) {
    // A clean record for a whole back-off period forgives earlier ejections.
    if (ejection_streak_ > 0 && now_ms - healthy_since_ms_ >= policy_.passive_backoff.count())
      ejection_streak_ = 0;
    return std::nullopt;
  }
  if (consecutive < policy_.passive_failures) return std::nullopt;

  passive_ejected_ = true;
  passes_ = 0;
  fails_ = 0;
  std::string reason = "passive: " + std::to_string(consecutive) +
                       " consecutive connect errors or 5xx responses";
  if (policy_.active) {
    reason += "; re-admission by active checks";
  } else {
    const int64_t backoff = policy_.passive_backoff.count() << std::min(ejection_streak_, 4u);
    readmit_at_ms_ = now_ms + backoff;
    reason += "; re-admission in " + format_duration(Duration(backoff));
  }
  ++ejection_streak_;
  return move_to(BackendState::unhealthy, std::move(reason));
}

std::optional<Transition> HealthTracker::on_tick(int64_t now_ms) {
  if (policy_.active || !passive_ejected_ || health_ != BackendState::unhealthy) return std::nullopt;
  if (now_ms < readmit_at_ms_) return std::nullopt;
  passive_ejected_ = false;
  healthy_since_ms_ = now_ms;
  return move_to(BackendState::healthy, "passive ejection back-off elapsed (checks off)");
}

std::optional<Transition> HealthTracker::set_draining(bool on, std::string_view why) {
  if (on == draining_) return std::nullopt;
  Transition t{state(), state(), health_, health_, std::string(why)};
  draining_ = on;
  t.to = state();
  return t;
}

std::optional<Transition> HealthTracker::set_policy(const Policy& policy, int64_t now_ms) {
  const bool was_active = policy_.active;
  policy_ = policy;
  if (was_active != policy.active) {
    passes_ = 0;
    fails_ = 0;
  }
  if (was_active && !policy.active) {
    first_check_pending_ = false;
    if (health_ == BackendState::unknown ||
        (health_ == BackendState::unhealthy && !passive_ejected_)) {
      healthy_since_ms_ = now_ms;
      return move_to(BackendState::healthy, "health checks turned off");
    }
    if (passive_ejected_) readmit_at_ms_ = now_ms + policy_.passive_backoff.count();
  }
  return std::nullopt;
}

std::optional<int64_t> HealthTracker::readmit_at_ms() const {
  if (policy_.active || !passive_ejected_ || health_ != BackendState::unhealthy) return std::nullopt;
  return readmit_at_ms_;
}

}  // namespace ebb::health
