#include "lb/control_plane.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "config/load.h"
#include "lb/balancer/slow_start.h"
#include "lb/listener.h"

namespace ebb::lb {

BackendEntry* PoolState::find(const std::string& address) {
  for (auto& b : backends)
    if (b.address == address) return &b;
  return nullptr;
}

ControlPlane::ControlPlane(SnapshotSink& sink) : sink_(sink) {}

int64_t ControlPlane::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

PoolState* ControlPlane::find_pool(const std::string& name) {
  for (auto& p : pools_)
    if (p.settings.name == name) return &p;
  return nullptr;
}

Result<void> ControlPlane::start(config::LbConfig config) { return apply_internal(std::move(config), true); }

Result<void> ControlPlane::apply(config::LbConfig config) {
  auto r = apply_internal(std::move(config), false);
  if (r) ++reloads_ok_;
  else ++reloads_failed_;
  return r;
}

Result<void> ControlPlane::reload(const std::string& config_path) {
  auto loaded = config::load_lb_config(config_path);
  if (!loaded.ok()) {
    ++reloads_failed_;
    std::string all;
    for (const auto& e : loaded.errors) {
      if (!all.empty()) all += '\n';
      all += e.str();
    }
    return make_error(all);
  }
  return apply(std::move(loaded.config));
}

Result<void> ControlPlane::apply_internal(config::LbConfig config, bool initial) {
  std::vector<std::string> errors;
  const int64_t now = now_ms();
  const size_t workers = sink_.worker_count();

  // Listeners: keep sockets whose address is unchanged, bind the new ones (one per worker).
  std::vector<std::string> keys;
  std::vector<ListenerFds> new_fds(workers);
  for (const auto& l : config.listeners) {
    std::string key = l.listen.str();
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      errors.push_back("listeners." + l.name + ": address " + key + " used by two listeners");
      continue;
    }
    keys.push_back(key);
    if (config.find_pool(l.pool) == nullptr)
      errors.push_back("listeners." + l.name + ": unknown pool \"" + l.pool + "\"");
    for (const auto& r : l.routes)
      if (config.find_pool(r.pool) == nullptr)
        errors.push_back("listeners." + l.name + ".routes: unknown pool \"" + r.pool + "\"");
    if (std::find(listener_keys_.begin(), listener_keys_.end(), key) != listener_keys_.end()) continue;
    auto addr = resolve_address(l.listen, true);
    if (!addr) {
      errors.push_back("listeners." + l.name + ": " + addr.error());
      continue;
    }
    for (size_t w = 0; w < workers; ++w) {
      auto fd = open_reuseport_listener(*addr, key);
      if (!fd) {
        errors.push_back("listeners." + l.name + ": " + fd.error());
        break;
      }
      new_fds[w].emplace_back(key, std::move(*fd));
    }
  }

  // Pools: config-owned membership follows the file; managed pools keep theirs after the start.
  std::vector<PoolState> pools;
  for (const auto& pc : config.pools) {
    PoolState ps;
    ps.settings = pc;
    if (!pc.sticky_cookie.empty()) {
      auto key = load_sticky_key(pc);
      if (!key) errors.push_back("pools." + pc.name + ".sticky_secret_file: " + key.error());
      else ps.sticky_key = *key;
    }
    PoolState* old = initial ? nullptr : find_pool(pc.name);
    if (old != nullptr && pc.managed) {
      ps.backends = old->backends;
      pools.push_back(std::move(ps));
      continue;
    }
    for (const auto& bc : pc.backends) {
      std::string address = bc.address.str();
      if (std::any_of(ps.backends.begin(), ps.backends.end(),
                      [&](const BackendEntry& e) { return e.address == address; }))
        continue;  // duplicates collapse into one backend
      auto addr = resolve_address(bc.address, false);
      if (!addr) {
        errors.push_back("pools." + pc.name + ".backends: " + addr.error());
        continue;
      }
      BackendEntry e;
      e.address = address;
      e.host_port = bc.address;
      e.addr = *addr;
      e.weight = bc.weight;
      BackendEntry* prev = old ? old->find(address) : nullptr;
      if (prev != nullptr) {
        e.live = prev->live;
        e.state = prev->state == BackendState::draining ? BackendState::healthy : prev->state;
        e.healthy_since_ms = prev->state == BackendState::draining ? now : prev->healthy_since_ms;
      } else {
        e.live = std::make_shared<BackendLive>();
        e.state = BackendState::healthy;  // SPEC §2: a backend added at load time starts healthy
        // At start-up nothing else serves yet, so nothing ramps; one added by a reload ramps.
        e.healthy_since_ms = initial ? 0 : now;
      }
      ps.backends.push_back(std::move(e));
    }
    if (old != nullptr) {  // removed from the file: drain (SPEC §5)
      for (const auto& prev : old->backends) {
        if (ps.find(prev.address) != nullptr) continue;
        BackendEntry e = prev;
        if (e.state != BackendState::draining) {
          e.state = BackendState::draining;
          e.drain_deadline_ms = now + pc.drain_timeout.count();
        }
        ps.backends.push_back(std::move(e));
      }
    }
    pools.push_back(std::move(ps));
  }

  // TLS: certificates re-read on every start/reload; ticket keys survive (resumption).
  auto tls = tls_.rebuild(config, static_cast<unsigned>(workers));
  if (!tls) errors.push_back(tls.error());

  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) {
      if (!all.empty()) all += '\n';
      all += (config.path.empty() ? std::string() : config.path + ": ") + e;
    }
    return make_error(all);
  }
  config_ = std::move(config);
  tls_ = std::move(*tls);
  pools_ = std::move(pools);
  listener_keys_ = std::move(keys);
  publish_with(std::move(new_fds));
  notify(initial ? "configuration loaded" : "configuration reloaded");
  return {};
}

void ControlPlane::publish() { publish_with(std::vector<ListenerFds>(sink_.worker_count())); }

void ControlPlane::publish_with(std::vector<ListenerFds> new_fds) {
  auto snap = std::make_shared<Snapshot>();
  snap->generation = ++generation_;
  snap->runtime = config_.runtime;
  const int64_t now = now_ms();
  snap->pools.reserve(pools_.size());
  for (const auto& p : pools_) {
    PoolSnapshot ps;
    ps.settings = p.settings;
    ps.index = snap->pools.size();
    ps.backends.reserve(p.backends.size());
    for (const auto& e : p.backends) {
      Backend b;
      b.address = e.address;
      b.host_port = e.host_port;
      b.sockaddr = e.addr.storage;
      b.sockaddr_len = e.addr.len;
      b.weight = e.weight;
      b.state = e.state;
      b.healthy_since_ms = e.healthy_since_ms;
      b.identity_hash = identity_hash(e.address);
      b.live = e.live;
      ps.backends.push_back(std::move(b));
    }
    ps.selector = build_selector(ps.settings, ps.backends, now);
    if (p.sticky_key)
      ps.sticky = StickyTable(*p.sticky_key, ps.backends, p.settings.sticky_ttl.count() / 1000);
    snap->pools.push_back(std::move(ps));
  }
  for (const auto& l : config_.listeners) {
    ListenerSnapshot ls;
    ls.settings = l;
    ls.key = l.listen.str();
    ls.default_pool = snap->pool_index(l.pool);
    for (const auto& r : l.routes) ls.route_pools.push_back(snap->pool_index(r.pool));
    ls.router = std::make_shared<const http::Router>(l);
    ls.tls = tls_.find(l.name);
    ls.counter_slot = listener_counter_slot(l.name);
    snap->listeners.push_back(std::move(ls));
  }
  current_ = snap;
  sink_.publish(std::move(snap), std::move(new_fds));
}

uint32_t ControlPlane::listener_counter_slot(const std::string& name) {
  for (uint32_t i = 0; i < listener_counter_names_.size(); ++i)
    if (listener_counter_names_[i] == name) return i;
  if (listener_counter_names_.size() >= kMaxListenerCounterSlots) return kMaxListenerCounterSlots;
  listener_counter_names_.push_back(name);
  return static_cast<uint32_t>(listener_counter_names_.size() - 1);
}

void ControlPlane::notify(const std::string& what) {
  if (on_change_) on_change_(what);
}

Result<bool> ControlPlane::add_backend(const std::string& pool, const std::string& address,
                                       uint32_t weight, BackendState initial) {
  PoolState* p = find_pool(pool);
  if (p == nullptr) return make_error("unknown pool \"" + pool + "\"");
  auto hp = parse_host_port(address);
  if (!hp) return make_error(hp.error());
  std::string key = hp->str();
  if (BackendEntry* e = p->find(key)) {
    if (e->state == BackendState::draining) {  // re-registration cancels a drain
      e->state = initial;
      e->drain_deadline_ms = 0;
      if (initial == BackendState::healthy) e->healthy_since_ms = now_ms();
      publish();
    }
    return false;
  }
  auto addr = resolve_address(*hp, false);
  if (!addr) return make_error(addr.error());
  BackendEntry e;
  e.address = key;
  e.host_port = *hp;
  e.addr = *addr;
  e.weight = weight;
  e.state = initial;
  e.healthy_since_ms = initial == BackendState::healthy ? now_ms() : 0;
  e.live = std::make_shared<BackendLive>();
  p->backends.push_back(std::move(e));
  publish();
  notify("backend " + key + " added to pool " + pool);
  return true;
}

Result<void> ControlPlane::drain_backend(const std::string& pool, const std::string& address) {
  return set_state(pool, address, BackendState::draining);
}

Result<void> ControlPlane::set_weight(const std::string& pool, const std::string& address, uint32_t weight) {
  PoolState* p = find_pool(pool);
  if (p == nullptr) return make_error("unknown pool \"" + pool + "\"");
  BackendEntry* e = p->find(address);
  if (e == nullptr) return make_error("unknown backend \"" + address + "\" in pool " + pool);
  if (e->weight == weight) return {};
  e->weight = weight;
  publish();
  return {};
}

Result<void> ControlPlane::set_state(const std::string& pool, const std::string& address, BackendState state) {
  PoolState* p = find_pool(pool);
  if (p == nullptr) return make_error("unknown pool \"" + pool + "\"");
  BackendEntry* e = p->find(address);
  if (e == nullptr) return make_error("unknown backend \"" + address + "\" in pool " + pool);
  if (e->state == state) return {};
  if (state == BackendState::draining) e->drain_deadline_ms = now_ms() + p->settings.drain_timeout.count();
  else e->drain_deadline_ms = 0;
  if (state == BackendState::healthy) e->healthy_since_ms = now_ms();
  e->state = state;
  publish();
  notify("backend " + address + " in pool " + pool + " is now " + to_string(state));
  return {};
}

void ControlPlane::tick(int64_t now) {
  bool changed = false;
  for (auto& p : pools_) {
    auto it = std::remove_if(p.backends.begin(), p.backends.end(), [&](const BackendEntry& e) {
      if (e.state != BackendState::draining) return false;
      bool gone = e.live->active.load(std::memory_order_relaxed) <= 0 || now >= e.drain_deadline_ms;
      if (gone) log::info("backend " + e.address + " left pool " + p.settings.name + " (drained)");
      return gone;
    });
    if (it != p.backends.end()) {
      p.backends.erase(it, p.backends.end());
      changed = true;
    }
  }
  // Slow start: selectors are immutable, so a ramping backend's share only grows when the
  // snapshot is rebuilt; do that every tick while some pool ramps (or just finished).
  bool ramping = false;
  if (!changed && current_)
    for (const auto& ps : current_->pools)
      if (selector_needs_rebuild(ps.settings, ps.backends, now)) {
        ramping = true;
        break;
      }
  if (changed) {
    publish();
    notify("drained backends removed");
  } else if (ramping) {
    publish();
  }
}

}  // namespace ebb::lb
