// scaler.toml as plain validated structs (SPEC.md §7). Produced by load_scaler_config().
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/duration.h"
#include "config/cron.h"

namespace ebb::config {

using namespace std::chrono_literals;

enum class ScalerMetric { cpu_percent, latency_p95_ms, latency_p50_ms, requests_per_backend, active_per_backend };

struct ScalerTarget {
  ScalerMetric metric = ScalerMetric::cpu_percent;
  double target = 60.0;
};

struct ScheduleEntry {
  std::string cron;  // 5 fields, UTC: minute hour day-of-month month day-of-week
  CronSpec when;     // `cron` parsed (when.matches(tm) tells whether a minute starts a window)
  Duration duration = 1h;
  unsigned min = 0;
};

enum class DriverType { process, exec, systemd };

struct Driver {
  DriverType type = DriverType::process;
  // process
  std::vector<std::string> command;  // {port} and {address} substituted
  uint16_t port_min = 9100;          // from ports = "9100-9199"
  uint16_t port_max = 9199;
  std::string host = "127.0.0.1";
  // exec
  std::vector<std::string> launch;
  std::vector<std::string> terminate;
  std::vector<std::string> cpu;
  Duration exec_timeout = 30s;  // extension: a script running longer is killed and counted as failed
  // systemd
  std::string unit;                                // e.g. "web@{port}.service"
  std::vector<std::string> systemctl{"systemctl"};  // extension: the systemctl command (tests point it at a double)
};

struct Simulate {
  double service_ms = 50.0;     // per-request service time at low load
  double capacity_rps = 100.0;  // requests/s one backend serves at 100 % CPU
};

struct ScalerConfig {
  std::string path;
  std::string pool;
  std::vector<std::string> lb_admin{"http://127.0.0.1:9901"};
  std::string token_file;
  HostPort metrics_listen{"127.0.0.1", 9902};
  std::string state_file = "/var/lib/ebb/scaler-app.json";
  unsigned min = 2;
  unsigned max = 10;
  Duration interval = 10s;
  Duration scale_out_cooldown = 30s;
  Duration scale_in_cooldown = 120s;
  Duration warmup = 20s;
  Duration health_grace = 30s;
  unsigned scale_in_step = 1;
  Duration drain_timeout = 30s;  // extension: how long to wait for a drain on the LBs
  std::vector<ScalerTarget> targets;
  std::vector<ScheduleEntry> schedule;
  Driver driver;
  Simulate simulate;
};

const char* to_string(ScalerMetric m);
const char* to_string(DriverType t);

}  // namespace ebb::config
