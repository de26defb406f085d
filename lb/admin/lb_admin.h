// The admin side of a running ebb-lb, attached to its control thread: the admin API server,
// health checks, metrics and events, implemented on the core's ControlPlane.
//
// Usage (lb/server.cc run_server):
//   Server server(path);
//   admin::LbAdmin admin(server);                 // before start(): installs the request observer
//   server.start(config) ...; admin.start() ...;  // after start(): membership exists, binds admin
//   server.run();                                 // admin is destroyed before server
//
// Thread: constructor, start() and every ControlApi method run on the control thread;
// on_request() runs on the workers (lock-free on the hot path, see MetricsHub).
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/uv.h"
#include "healthcheck/monitor.h"
#include "lb/access_log.h"
#include "lb/admin/control_api.h"
#include "lb/admin/events.h"
#include "lb/admin/metrics.h"
#include "lb/admin/server.h"

namespace ebb::lb {
class Server;
}

namespace ebb::lb::admin {

class LbAdmin final : public ControlApi, public RequestObserver {
 public:
  explicit LbAdmin(Server& server);
  ~LbAdmin() override;

  // Binds [admin] listen, reads token_file, starts health checks for every backend.
  Result<void> start();

  // ControlApi
  nlohmann::json pools() override;
  std::optional<nlohmann::json> pool(const std::string& name) override;
  ApiResponse add_backend(const std::string& pool, const std::string& address, uint32_t weight) override;
  ApiResponse drain_backend(const std::string& pool, const std::string& address) override;
  ApiResponse update_backend(const std::string& pool, const std::string& address,
                             const BackendUpdate& update) override;
  ApiResponse reload() override;
  nlohmann::json events(uint64_t since, size_t limit) override;
  std::string metrics_text() override;

  // RequestObserver (worker threads)
  void on_request(unsigned worker_id, const RequestRecord& r) override;

  EventLog& event_log() { return events_; }

 private:
  struct Known {  // what sync() last saw of a backend
    BackendState state;
    std::shared_ptr<BackendLive> live;  // its metrics_slot is reset when it leaves
  };
  // Per worker: listener and pool names → metric slots (a backend's own slot is in its
  // BackendLive). Few names, so a linear scan; no allocation on a hit.
  struct alignas(64) SlotCache {
    std::vector<std::pair<std::string, uint32_t>> listeners;  // listener slots never change
    std::vector<std::pair<std::string, uint32_t>> pools;      // "no backend" slots; forgotten per epoch
    uint64_t epoch = 0;
  };

  void sync();            // membership/config of the control plane → health monitor, events
  void after_reload();    // token_file re-read; admin.listen changes need a restart
  void watch_reloads();   // 1 s timer: records SIGHUP reloads that were rejected
  void schedule_sync();   // sync() on the next loop turn (never re-entrantly inside the core)
  void on_health_change(const health::BackendRef& ref, const health::Transition& t);
  nlohmann::json pool_json(const void* pool_state);
  nlohmann::json backend_json(const std::string& pool, const void* entry);

  Server& server_;
  EventLog events_;
  std::unique_ptr<MetricsHub> hub_;
  std::atomic<MetricsHub*> hub_ready_{nullptr};
  std::vector<std::unique_ptr<SlotCache>> caches_;
  std::unique_ptr<health::HealthMonitor> monitor_;
  std::unique_ptr<AdminServer> http_;
  UvHandle<uv_timer_t> sync_timer_;
  UvHandle<uv_timer_t> reload_watch_;
  uint64_t reloads_failed_seen_ = 0;
  HostPort listen_;
  std::map<std::pair<std::string, std::string>, Known> known_;
  std::map<std::string, config::Health> pool_health_;
  std::string token_file_;
};

}  // namespace ebb::lb::admin
