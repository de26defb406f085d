#include "lb/admin/lb_admin.h"

#include <algorithm>

#include "common/log.h"
#include "lb/control_plane.h"
#include "lb/server.h"
#include "lb/tls/tls_stats.h"

namespace ebb::lb::admin {

using nlohmann::json;

namespace {
BackendState parse_state(const std::string& s) {
  return s == "draining" ? BackendState::draining : BackendState::healthy;
}
}  // namespace

LbAdmin::LbAdmin(Server& server) : server_(server) { server_.set_request_observer(this); }

LbAdmin::~LbAdmin() {
  hub_ready_.store(nullptr, std::memory_order_release);
  server_.control().on_change(nullptr);
}

Result<void> LbAdmin::start() {
  ControlPlane& cp = server_.control();
  const config::LbConfig& cfg = cp.config();
  const unsigned workers = static_cast<unsigned>(std::max<size_t>(1, server_.worker_count()));
  hub_ = std::make_unique<MetricsHub>(workers, std::max<uint32_t>(16, 2 * static_cast<uint32_t>(cfg.listeners.size())));
  for (unsigned i = 0; i < workers; ++i) caches_.push_back(std::make_unique<SlotCache>());
  hub_ready_.store(hub_.get(), std::memory_order_release);

  AdminServerOptions opts;
  token_file_ = cfg.admin.token_file;
  if (!token_file_.empty()) {
    auto token = read_token_file(token_file_);
    if (!token) return make_error("admin." + token.error());
    opts.token = *token;
  }
  http_ = std::make_unique<AdminServer>(server_.control_loop(), *this, opts);
  if (auto r = http_->listen(cfg.admin.listen); !r) return r;
  listen_ = cfg.admin.listen;
  log::info("admin API on " + cfg.admin.listen.str());

  uv_timer_init(server_.control_loop(), sync_timer_.get());
  sync_timer_.mark_initialized();
  sync_timer_->data = this;

  monitor_ = std::make_unique<health::HealthMonitor>(
      server_.control_loop(),
      health::HealthMonitor::Callbacks{
          [this](const health::BackendRef& ref, const health::Transition& t) { on_health_change(ref, t); },
          [this](const health::BackendRef& ref, const health::ProbeResult& r) {
            hub_->on_health_check(ref.pool, ref.address, r.pass);
          }});
  cp.on_change([this](const std::string& what) {
    if (what.rfind("configuration reloaded", 0) == 0) {
      events_.append(EventType::reload, "", "", "configuration reloaded");
      after_reload();
    }
    schedule_sync();
  });
  reloads_failed_seen_ = cp.reloads_failed();
  uv_timer_init(server_.control_loop(), reload_watch_.get());
  reload_watch_.mark_initialized();
  reload_watch_->data = this;
  uv_timer_start(reload_watch_.get(), [](uv_timer_t* t) { static_cast<LbAdmin*>(t->data)->watch_reloads(); },
                 1000, 1000);
  uv_unref(reload_watch_.handle());
  sync();
  return {};
}

void LbAdmin::after_reload() {
  const config::LbConfig& cfg = server_.control().config();
  if (!(cfg.admin.listen == listen_))
    log::warn("admin.listen changed to " + cfg.admin.listen.str() + ": the admin API stays on " +
              listen_.str() + " until a restart");
  if (cfg.admin.token_file.empty()) {
    if (!token_file_.empty()) log::info("admin: token_file removed; mutating routes are open");
    token_file_.clear();
    http_->set_token("");
    return;
  }
  auto token = read_token_file(cfg.admin.token_file);
  if (!token) {
    log::error("admin." + token.error() + "; keeping the previous token");
    return;
  }
  token_file_ = cfg.admin.token_file;
  http_->set_token(*token);
}

void LbAdmin::watch_reloads() {
  const uint64_t failed = server_.control().reloads_failed();
  if (failed > reloads_failed_seen_)
    events_.append(EventType::reload, "", "", "configuration rejected (see the log); the running configuration is kept",
                   true);
  reloads_failed_seen_ = failed;
}

void LbAdmin::schedule_sync() {
  uv_timer_start(sync_timer_.get(), [](uv_timer_t* t) { static_cast<LbAdmin*>(t->data)->sync(); }, 0, 0);
}

void LbAdmin::sync() {
  ControlPlane& cp = server_.control();
  std::map<std::pair<std::string, std::string>, Known> seen;
  for (const PoolState& p : cp.pools()) {
    const std::string& pool = p.settings.name;
    auto ph = pool_health_.find(pool);
    const bool health_changed = ph == pool_health_.end() ||
                                ph->second.check != p.settings.health.check ||
                                ph->second.interval != p.settings.health.interval;
    pool_health_[pool] = p.settings.health;
    hub_->backend_slot(pool, "");  // requests of this pool that reached no backend
    if (health_changed) monitor_->set_pool_health(pool, p.settings.health);
    for (const BackendEntry& e : p.backends) {
      const auto key = std::make_pair(pool, e.address);
      const health::BackendRef ref{pool, e.address};
      auto prev = known_.find(key);
      if (prev == known_.end()) {
        // New member: an API registration starts unknown (checks on), anything else healthy.
        const auto origin = e.state == BackendState::unknown ? health::Origin::api : health::Origin::config;
        monitor_->add(ref, e.addr.get(), e.addr.len, p.settings.health, origin, e.live);
        if (origin == health::Origin::config)
          events_.append(EventType::registration, pool, e.address, "added by configuration (weight " +
                                                                      std::to_string(e.weight) + ")");
      } else {
        monitor_->add(ref, e.addr.get(), e.addr.len, p.settings.health, health::Origin::config, e.live);
        if (prev->second.state != BackendState::draining && e.state == BackendState::draining)
          events_.append(EventType::drain_started, pool, e.address,
                         "removed from the configuration; draining (drain_timeout " +
                             format_duration(p.settings.drain_timeout) + ")");
      }
      // Every sync, as a member re-added between two syncs has a new BackendLive.
      if (e.live) e.live->metrics_slot.store(hub_->backend_slot(pool, e.address), std::memory_order_relaxed);
      seen[key] = Known{e.state, e.live};
    }
  }
  for (const auto& [key, k] : known_) {
    if (seen.count(key)) continue;
    monitor_->remove(health::BackendRef{key.first, key.second});
    if (k.live) k.live->metrics_slot.store(kNoSlot, std::memory_order_relaxed);  // before the slot is freed
    hub_->release_backend_slot(key.first, key.second);
    if (k.state == BackendState::draining)
      events_.append(EventType::drain_finished, key.first, key.second, "drained; removed from the pool");
    else
      events_.append(EventType::deregistration, key.first, key.second, "removed from the pool");
  }
  known_ = std::move(seen);

  // The control plane may have (re)set a state the checks disagree with (reload, re-registration).
  for (const PoolState& p : cp.pools())
    for (const BackendEntry& e : p.backends) {
      if (e.state == BackendState::draining) continue;
      auto st = monitor_->state(health::BackendRef{p.settings.name, e.address});
      if (st && *st != e.state) (void)cp.set_state(p.settings.name, e.address, *st);
    }
}

void LbAdmin::on_health_change(const health::BackendRef& ref, const health::Transition& t) {
  const bool bad = t.health_to != BackendState::healthy;
  events_.append(EventType::health, ref.pool, ref.address,
                 std::string(health::state_name(t.health_from)) + " -> " + health::state_name(t.health_to) +
                     ": " + t.reason,
                 bad);
  ControlPlane& cp = server_.control();
  PoolState* p = cp.find_pool(ref.pool);
  BackendEntry* e = p ? p->find(ref.address) : nullptr;
  if (!e || e->state == BackendState::draining) return;  // a drain overrides health
  if (e->state != t.health_to) (void)cp.set_state(ref.pool, ref.address, t.health_to);
}

json LbAdmin::backend_json(const std::string& pool, const void* entry) {
  const auto& e = *static_cast<const BackendEntry*>(entry);
  double latency = -1;
  const uint64_t ewma = e.live ? e.live->peak_ewma_ns.load(std::memory_order_relaxed) : 0;
  if (ewma > 0) latency = static_cast<double>(ewma) / 1e6;
  else latency = hub_->mean_latency_ms(pool, e.address);
  return json{{"address", e.address},
              {"weight", e.weight},
              {"state", health::state_name(e.state)},
              {"active", e.live ? e.live->active.load(std::memory_order_relaxed) : 0},
              {"requests", e.live ? e.live->requests.load(std::memory_order_relaxed) : 0},
              {"latency_ms", latency < 0 ? json(nullptr) : json(latency)}};
}

json LbAdmin::pool_json(const void* pool_state) {
  const auto& p = *static_cast<const PoolState*>(pool_state);
  json backends = json::array();
  for (const auto& e : p.backends) backends.push_back(backend_json(p.settings.name, &e));
  return json{{"name", p.settings.name},
              {"balance", config::to_string(p.settings.balance)},
              {"managed", p.settings.managed},
              {"backends", std::move(backends)}};
}

json LbAdmin::pools() {
  json out = json::array();
  for (const auto& p : server_.control().pools()) out.push_back(pool_json(&p));
  return out;
}

std::optional<json> LbAdmin::pool(const std::string& name) {
  const PoolState* p = server_.control().find_pool(name);
  if (!p) return std::nullopt;
  return pool_json(p);
}

ApiResponse LbAdmin::add_backend(const std::string& pool, const std::string& address, uint32_t weight) {
  ControlPlane& cp = server_.control();
  PoolState* p = cp.find_pool(pool);
  if (!p) return ApiResponse::error(404, "no such pool: " + pool);
  const std::string key = parse_host_port(address)->str();
  const bool checks = p->settings.health.check != config::HealthCheck::none;
  BackendEntry* existing = p->find(key);
  const bool was_draining = existing && existing->state == BackendState::draining;
  // A re-registration of a draining backend cancels the drain; its health is what checks say.
  BackendState initial = checks ? BackendState::unknown : BackendState::healthy;
  if (was_draining) {
    auto st = monitor_->state(health::BackendRef{pool, key});
    initial = st ? *st : initial;
  }
  auto r = cp.add_backend(pool, key, weight, initial);
  if (!r) return ApiResponse::error(400, r.error());
  p = cp.find_pool(pool);
  BackendEntry* e = p ? p->find(key) : nullptr;
  if (*r) {
    events_.append(EventType::registration, pool, key, "registered via API (weight " + std::to_string(weight) + ")");
  } else if (was_draining) {
    events_.append(EventType::drain_cancelled, pool, key, "re-registered via API");
  }
  sync();
  json body = e ? backend_json(pool, e) : json::object();
  return {*r ? 201 : 200, std::move(body)};
}

ApiResponse LbAdmin::drain_backend(const std::string& pool, const std::string& address) {
  ControlPlane& cp = server_.control();
  PoolState* p = cp.find_pool(pool);
  if (!p) return ApiResponse::error(404, "no such pool: " + pool);
  const std::string key = parse_host_port(address)->str();
  BackendEntry* e = p->find(key);
  if (!e) return ApiResponse::error(404, "no backend " + key + " in pool " + pool);
  if (e->state != BackendState::draining) {
    auto r = cp.drain_backend(pool, key);
    if (!r) return ApiResponse::error(409, r.error());
    events_.append(EventType::drain_started, pool, key,
                   "drain requested via API (drain_timeout " + format_duration(p->settings.drain_timeout) + ")");
    known_[{pool, key}].state = BackendState::draining;
  }
  p = cp.find_pool(pool);
  e = p ? p->find(key) : nullptr;
  return {202, e ? backend_json(pool, e) : json{{"address", key}, {"state", "draining"}}};
}

ApiResponse LbAdmin::update_backend(const std::string& pool, const std::string& address,
                                    const BackendUpdate& u) {
  ControlPlane& cp = server_.control();
  PoolState* p = cp.find_pool(pool);
  if (!p) return ApiResponse::error(404, "no such pool: " + pool);
  const std::string key = parse_host_port(address)->str();
  BackendEntry* e = p->find(key);
  if (!e) return ApiResponse::error(404, "no backend " + key + " in pool " + pool);
  if (u.weight && *u.weight != e->weight) {
    const uint32_t old = e->weight;
    auto r = cp.set_weight(pool, key, *u.weight);
    if (!r) return ApiResponse::error(409, r.error());
    events_.append(EventType::weight, pool, key, "weight " + std::to_string(old) + " -> " + std::to_string(*u.weight));
  }
  if (u.state) {
    p = cp.find_pool(pool);
    e = p ? p->find(key) : nullptr;
    if (!e) return ApiResponse::error(404, "no backend " + key + " in pool " + pool);
    const BackendState want = parse_state(*u.state);
    if (want == BackendState::draining && e->state != BackendState::draining) {
      auto r = cp.drain_backend(pool, key);
      if (!r) return ApiResponse::error(409, r.error());
      events_.append(EventType::drain_started, pool, key,
                     "drain requested via API (drain_timeout " + format_duration(p->settings.drain_timeout) + ")");
      known_[{pool, key}].state = BackendState::draining;
    } else if (want == BackendState::healthy && e->state == BackendState::draining) {
      // Cancel the drain: back to what the health checks say (healthy unless they disagree).
      auto st = monitor_->state(health::BackendRef{pool, key});
      auto r = cp.set_state(pool, key, st ? *st : BackendState::healthy);
      if (!r) return ApiResponse::error(409, r.error());
      events_.append(EventType::drain_cancelled, pool, key, "drain cancelled via API");
      known_[{pool, key}].state = st ? *st : BackendState::healthy;
    }
    // "healthy" on a backend that is not draining changes nothing: health is the checks' call.
  }
  p = cp.find_pool(pool);
  e = p ? p->find(key) : nullptr;
  if (!e) return ApiResponse::error(404, "no backend " + key + " in pool " + pool);
  return {200, backend_json(pool, e)};
}

ApiResponse LbAdmin::reload() {
  auto r = server_.reload();
  if (r) {
    // The control plane's notification already recorded the event and scheduled a sync.
    return {200, json{{"result", "reloaded"}}};
  }
  json errors = json::array();
  size_t start = 0;
  const std::string& all = r.error();
  while (start <= all.size()) {
    size_t nl = all.find('\n', start);
    errors.push_back(all.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  events_.append(EventType::reload, "", "", "configuration rejected: " + errors[0].get<std::string>(), true);
  reloads_failed_seen_ = server_.control().reloads_failed();  // recorded here, not by the watcher
  return {400, json{{"error", "configuration rejected; the running configuration is kept"}, {"errors", errors}}};
}

json LbAdmin::events(uint64_t since, size_t limit) { return events_.to_json(since, limit); }

std::string LbAdmin::metrics_text() {
  ControlPlane& cp = server_.control();
  std::vector<BackendStatus> backends;
  for (const auto& p : cp.pools())
    for (const auto& e : p.backends)
      backends.push_back({p.settings.name, e.address, e.state,
                          e.live ? e.live->active.load(std::memory_order_relaxed) : 0});
  hub_->set_reloads(cp.reloads_ok(), cp.reloads_failed());
  // Connections per listener: the workers' per-listener counters, summed. Listeners that a
  // reload removed keep their (final) series, as counters should.
  std::map<std::string, MetricsHub::ListenerTotals> totals;
  const auto& names = cp.listener_counter_names();
  for (uint32_t i = 0; i < names.size(); ++i) {
    MetricsHub::ListenerTotals& conns = totals[names[i]];
    for (const auto& w : server_.workers()) {
      const ListenerCounters& lc = w->counters().listeners[i];
      conns.connections_total += lc.connections_total.load(std::memory_order_relaxed);
      conns.connections_active += lc.connections_active.load(std::memory_order_relaxed);
    }
  }
  // TLS handshakes: lb/tls counts them per listener and worker; sum here.
  for (const auto& set : cp.tls().sets()) {
    auto& results = totals[set->listener()].tls_results;
    for (const auto& r : tls::handshake_results(set->stats()->totals())) results.emplace_back(r.result, r.count);
  }
  hub_->set_listener_totals(std::move(totals));
  std::vector<MetricsHub::WorkerConnections> per_worker;
  for (const auto& w : server_.workers())
    per_worker.push_back({w->counters().connections_active.load(std::memory_order_relaxed),
                          w->counters().connections_moved.load(std::memory_order_relaxed)});
  hub_->set_worker_connections(std::move(per_worker));
  return hub_->render(backends);
}

namespace {
// Slot of `name` in a per-worker cache; `resolve` runs (and may allocate) only on a miss.
template <class Resolve>
uint32_t cached_slot(std::vector<std::pair<std::string, uint32_t>>& cache, std::string_view name,
                     Resolve&& resolve) {
  for (const auto& [n, slot] : cache)
    if (n == name) return slot;
  const uint32_t slot = resolve();
  cache.emplace_back(std::string(name), slot);
  return slot;
}
}  // namespace

void LbAdmin::on_request(unsigned worker_id, const RequestRecord& r) {
  static_assert(kNoSlot == UINT32_MAX, "BackendLive::metrics_slot's 'none' value");
  MetricsHub* hub = hub_ready_.load(std::memory_order_acquire);
  if (!hub || worker_id >= caches_.size()) return;
  SlotCache& c = *caches_[worker_id];
  const uint64_t epoch = hub->epoch();
  if (epoch != c.epoch) {
    c.pools.clear();
    c.epoch = epoch;
  }
  const uint32_t ls =
      cached_slot(c.listeners, r.listener, [&] { return hub->listener_slot(std::string(r.listener)); });
  uint32_t bs = kNoSlot;
  if (r.backend_live) {
    bs = r.backend_live->metrics_slot.load(std::memory_order_relaxed);
    // Rare: the control thread has not synced this new member yet. Counted without a backend
    // until it has, so a released slot is never revived.
    if (bs == kNoSlot) bs = hub->find_backend_slot(std::string(r.pool), std::string(r.backend));
    if (bs == kNoSlot) {
      hub->worker(worker_id).on_request(ls, kNoSlot, r.status, 0, r.bytes_in, r.bytes_out);
      return;
    }
  } else if (!r.pool.empty()) {  // routed, but no backend reached: the pool's "no backend" slot
    bs = cached_slot(c.pools, r.pool, [&] { return hub->find_backend_slot(std::string(r.pool), ""); });
  }
  const int status = r.tcp ? (r.backend.empty() ? 502 : 200) : r.status;
  const uint64_t ns = r.duration_ms > 0 ? static_cast<uint64_t>(r.duration_ms * 1e6) : 0;
  hub->worker(worker_id).on_request(ls, bs, status, ns, r.bytes_in, r.bytes_out);
}

}  // namespace ebb::lb::admin
