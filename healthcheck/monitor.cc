#include "healthcheck/monitor.h"

#include <chrono>
#include <cstring>

#include "common/log.h"

namespace ebb::health {

struct HealthMonitor::Entry {
  HealthMonitor* monitor;
  BackendRef ref;
  HealthTracker tracker;
  config::Health config;
  ProbeSpec spec;
  std::shared_ptr<lb::BackendLive> live;
  UvHandle<uv_timer_t> timer;
  std::unique_ptr<Probe> probe;
  int64_t probe_started_ms = 0;
};

namespace {
ProbeSpec make_spec(const BackendRef& ref, const sockaddr* addr, socklen_t len,
                    const config::Health& h) {
  ProbeSpec s;
  s.kind = h.check;
  std::memcpy(&s.addr, addr, std::min<size_t>(len, sizeof s.addr));
  s.addr_len = len;
  s.path = h.path.empty() ? "/" : h.path;
  s.host_header = h.host.empty() ? ref.address : h.host;
  s.expect_min = h.expect_min;
  s.expect_max = h.expect_max;
  s.timeout = h.timeout;
  return s;
}
}  // namespace

HealthMonitor::HealthMonitor(uv_loop_t* loop, Callbacks callbacks, uint64_t seed)
    : loop_(loop), callbacks_(std::move(callbacks)), rng_(seed) {
  uv_timer_init(loop_, passive_timer_.get());
  passive_timer_.mark_initialized();
  passive_timer_->data = this;
  uv_timer_start(passive_timer_.get(),
                 [](uv_timer_t* t) { static_cast<HealthMonitor*>(t->data)->poll_passive(); },
                 kPassivePollMs, kPassivePollMs);
  // Health polling alone must not keep a loop alive that has nothing else to do.
  uv_unref(passive_timer_.handle());
}

HealthMonitor::~HealthMonitor() = default;

int64_t HealthMonitor::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint64_t HealthMonitor::jittered(uint64_t interval_ms) {
  // ±10 % so that checks of many backends do not align.
  std::uniform_real_distribution<double> d(0.9, 1.1);
  return static_cast<uint64_t>(static_cast<double>(interval_ms) * d(rng_));
}

BackendState HealthMonitor::add(const BackendRef& ref, const sockaddr* addr, socklen_t addr_len,
                                const config::Health& health, Origin origin,
                                std::shared_ptr<lb::BackendLive> live) {
  Key key{ref.pool, ref.address};
  if (auto it = entries_.find(key); it != entries_.end()) {
    Entry& e = *it->second;
    const bool resched = e.config.interval != health.interval || e.config.check != health.check;
    e.spec = make_spec(ref, addr, addr_len, health);
    e.live = std::move(live);
    e.config = health;
    auto t = e.tracker.set_policy(Policy::from(health), now_ms());
    if (resched) {
      e.probe.reset();
      if (health.check != config::HealthCheck::none)
        schedule(e, std::uniform_int_distribution<uint64_t>(
                        0, static_cast<uint64_t>(health.interval.count()))(rng_));
      else
        uv_timer_stop(e.timer.get());
    }
    const BackendState st = e.tracker.state();
    if (t) emit(BackendRef(e.ref), *t);  // last: the callback may remove the entry
    return st;
  }

  auto e = std::make_unique<Entry>(Entry{this, ref, HealthTracker(Policy::from(health), origin),
                                         health, make_spec(ref, addr, addr_len, health),
                                         std::move(live), {}, nullptr, 0});
  uv_timer_init(loop_, e->timer.get());
  e->timer.mark_initialized();
  e->timer->data = e.get();
  const BackendState st = e->tracker.state();
  Entry& ref_e = *e;
  entries_.emplace(std::move(key), std::move(e));
  if (health.check != config::HealthCheck::none) {
    // Backends loaded together spread their first check over one interval; a backend
    // registered through the API is checked almost at once so it can start serving.
    const uint64_t iv = static_cast<uint64_t>(health.interval.count());
    const uint64_t spread = origin == Origin::config ? iv : iv / 10;
    schedule(ref_e, std::uniform_int_distribution<uint64_t>(0, spread)(rng_));
  }
  return st;
}

bool HealthMonitor::remove(const BackendRef& ref) {
  return entries_.erase(Key{ref.pool, ref.address}) > 0;
}

void HealthMonitor::set_pool_health(const std::string& pool, const config::Health& health) {
  std::vector<std::pair<BackendRef, Transition>> changes;
  for (auto& [key, e] : entries_) {
    if (key.first != pool) continue;
    const bool resched = e->config.interval != health.interval || e->config.check != health.check;
    sockaddr_storage addr = e->spec.addr;
    socklen_t len = e->spec.addr_len;
    e->spec = make_spec(e->ref, reinterpret_cast<const sockaddr*>(&addr), len, health);
    e->config = health;
    if (auto t = e->tracker.set_policy(Policy::from(health), now_ms()))
      changes.emplace_back(e->ref, *t);
    if (!resched) continue;
    e->probe.reset();
    if (health.check == config::HealthCheck::none) {
      uv_timer_stop(e->timer.get());
    } else {
      schedule(*e, std::uniform_int_distribution<uint64_t>(
                       0, static_cast<uint64_t>(health.interval.count()))(rng_));
    }
  }
  for (auto& [ref, t] : changes) emit(ref, t);
}

std::optional<std::optional<Transition>> HealthMonitor::set_draining(const BackendRef& ref,
                                                                     bool on,
                                                                     const std::string& why) {
  auto it = entries_.find(Key{ref.pool, ref.address});
  if (it == entries_.end()) return std::nullopt;
  auto t = it->second->tracker.set_draining(on, why);
  if (t) emit(ref, *t);
  return std::optional<std::optional<Transition>>(std::in_place, std::move(t));
}

void HealthMonitor::report_passive(const BackendRef& ref, uint32_t consecutive_failures) {
  auto it = entries_.find(Key{ref.pool, ref.address});
  if (it == entries_.end()) return;
  Entry& e = *it->second;
  auto t = e.tracker.on_passive_failures(consecutive_failures, now_ms());
  if (!t) return;
  if (e.tracker.policy().active) schedule(e, 0);  // re-admission starts with a prompt check
  emit(e.ref, *t);
}

std::optional<BackendState> HealthMonitor::state(const BackendRef& ref) const {
  auto it = entries_.find(Key{ref.pool, ref.address});
  if (it == entries_.end()) return std::nullopt;
  return it->second->tracker.state();
}

std::vector<std::pair<BackendRef, BackendState>> HealthMonitor::states() const {
  std::vector<std::pair<BackendRef, BackendState>> out;
  for (const auto& [key, e] : entries_) out.emplace_back(e->ref, e->tracker.state());
  return out;
}

void HealthMonitor::schedule(Entry& e, uint64_t delay_ms) {
  uv_timer_start(
      e.timer.get(),
      [](uv_timer_t* t) {
        auto* entry = static_cast<Entry*>(t->data);
        entry->monitor->run_probe(*entry);
      },
      delay_ms, 0);
}

void HealthMonitor::run_probe(Entry& e) {
  if (e.probe) return;  // previous probe still running (timeout ≥ interval): skip a beat
  e.probe_started_ms = now_ms();
  Entry* ep = &e;
  e.probe = Probe::start(loop_, e.spec, [this, ep](const ProbeResult& r) { on_probe_done(*ep, r); });
}

void HealthMonitor::on_probe_done(Entry& e, const ProbeResult& r) {
  e.probe.reset();  // safe: the probe's last action is calling us
  const int64_t now = now_ms();
  const uint64_t iv = jittered(static_cast<uint64_t>(e.config.interval.count()));
  const uint64_t elapsed = static_cast<uint64_t>(now - e.probe_started_ms);
  schedule(e, iv > elapsed ? iv - elapsed : 0);
  if (r.inconclusive) {  // our own shortage: the backend keeps its state, no check is counted
    if (now >= next_inconclusive_log_ms_) {
      next_inconclusive_log_ms_ = now + 10000;
      log::warn("health check of " + e.ref.address + " in pool " + e.ref.pool + " skipped: " + r.detail +
                " (a shortage of this process, not the backend's fault; logged at most every 10 s)");
    }
    return;
  }

  auto t = e.tracker.on_check(r.pass, r.detail, now);
  if (t && t->health_to == BackendState::healthy && e.live)
    e.live->consecutive_failures.store(0, std::memory_order_relaxed);
  const BackendRef ref = e.ref;  // the callbacks may remove the entry
  if (callbacks_.on_check) callbacks_.on_check(ref, r);
  if (t) emit(ref, *t);
}

void HealthMonitor::poll_passive() {
  const int64_t now = now_ms();
  std::vector<std::pair<BackendRef, Transition>> changes;
  for (auto& [key, e] : entries_) {
    std::optional<Transition> t;
    if (e->live)
      t = e->tracker.on_passive_failures(
          e->live->consecutive_failures.load(std::memory_order_relaxed), now);
    if (!t) t = e->tracker.on_tick(now);
    if (!t) continue;
    if (t->health_to == BackendState::healthy && e->live)
      e->live->consecutive_failures.store(0, std::memory_order_relaxed);
    if (t->health_to == BackendState::unhealthy && e->tracker.policy().active) schedule(*e, 0);
    changes.emplace_back(e->ref, std::move(*t));
  }
  for (auto& [ref, t] : changes) emit(ref, t);
}

void HealthMonitor::emit(BackendRef ref, const Transition& t) {
  std::string line = "health: " + ref.pool + "/" + ref.address + " " + state_name(t.from) + " -> " + state_name(t.to);
  // The underlying health only when it differs from the effective state (a draining backend).
  if (t.health_from != t.from || t.health_to != t.to)
    line += std::string(" (health ") + state_name(t.health_from) + " -> " + state_name(t.health_to) + ")";
  log::info(line + ": " + t.reason);
  if (callbacks_.on_change) callbacks_.on_change(ref, t);
}

}  // namespace ebb::health
