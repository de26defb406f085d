// The scaler's loop (DESIGN.md: observe → decide → act → record), one per pool, on one uv loop.
//  observe: every `interval`, each LB's /metrics (rates and latency from the deltas between two
//           scrapes, in-flight) and pool listing (membership, health), and each instance's CPU
//           from the driver; a failed or stale scrape makes the LB metrics missing, never zero.
//  decide:  decide_target_tracking() — a pure function (scaler/policies/).
//  act:     launch + register (POST) with every LB; drain (DELETE) on every LB, wait until it is
//           gone from all of them or drain_timeout, then terminate; cancel drains (PUT healthy)
//           before launching; replace instances that exit or are not healthy by health_grace;
//           keep every LB's membership equal to ours (a node that was down is reconciled).
//  record:  one log line per decision, the last decisions for GET /api/v1/decisions, /metrics,
//           and the state file (atomically) after every change.
// --dry-run: observe and decide as usual, never call the driver or change an LB or the state file.
// Loop thread only.
#pragma once
#include <uv.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/http_server.h"
#include "common/uv.h"
#include "config/scaler_config.h"
#include "scaler/drivers/driver.h"
#include "scaler/metrics/lb_metrics.h"
#include "scaler/scaler_metrics.h"
#include "scaler/state.h"

namespace ebb::scaler {

struct ControllerOptions {
  bool dry_run = false;
  size_t decisions_kept = 100;  // for GET /api/v1/decisions
};

class Controller {
 public:
  Controller(uv_loop_t* loop, config::ScalerConfig cfg, std::unique_ptr<Driver> driver, ControllerOptions opts);
  ~Controller();

  // Loads the state file, re-adopts its instances, listens on metrics_listen and starts the
  // evaluation timer. Errors are start-up failures (bad state file, port in use).
  Result<void> start();
  // Stops the timer and the server and writes the state. Instances keep running.
  void stop();

  uint16_t metrics_port() const { return server_ ? server_->port() : 0; }
  const std::deque<Decision>& decisions() const { return decisions_; }

 private:
  struct Tracked {
    Instance inst;
    TimePoint launched_at{};
    bool draining = false;
    TimePoint drain_started{};
    bool healthy_seen = false;
    std::optional<double> cpu;
    bool terminating = false;  // drained; the driver is stopping it
  };
  struct Lb {
    std::string url;
    HostPort target;
    std::string base;  // path prefix of the admin API ("" or "/prefix")
    std::optional<PoolScrape> prev, cur;
    bool scrape_ok = false;
    std::string error;
    bool pool_ok = false;
    std::map<std::string, std::string> members;  // address → state (healthy, unhealthy, unknown, draining)
  };

  TimePoint now() const;
  void tick();
  void observed();  // every observation request of this tick has answered
  void decide_and_act();
  void act(const Decision& d);
  void launch_one(const char* why);
  void register_everywhere(const std::string& address);
  void drain(const std::string& address);
  void cancel_drain(const std::string& address);
  void finish_drains();
  void reconcile();
  void replace_unhealthy();
  void forget(const std::string& address, bool deregister);
  void save();
  void lb_call(Lb& lb, const std::string& method, const std::string& path, const std::string& body,
               std::function<void(Result<HttpResponse>)> cb);
  HttpServer::Reply handle(std::string_view method, std::string_view target);

  uv_loop_t* loop_;
  config::ScalerConfig cfg_;
  std::unique_ptr<Driver> driver_;
  ControllerOptions opts_;
  std::string token_;
  HttpClient http_;
  std::unique_ptr<HttpServer> server_;
  ScalerMetrics metrics_;
  UvHandle<uv_timer_t> timer_;
  std::vector<Lb> lbs_;
  std::map<std::string, Tracked> instances_;  // by address
  PolicyState policy_;
  std::deque<Decision> decisions_;
  unsigned pending_ = 0;    // observation requests of the current tick still out
  unsigned launching_ = 0;  // launches not yet answered by the driver
  unsigned adopting_ = 0;   // state-file instances not yet confirmed by the driver
  bool ticking_ = false;
};

}  // namespace ebb::scaler
