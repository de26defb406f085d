// Drivers start and stop backend instances (SPEC §7 [driver]): `process` (local child processes),
// `exec` (user scripts), `systemd` (instantiated units). One interface, so the controller does not
// care which. Loop thread only; every callback runs later on the loop, exactly once.
#pragma once
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "config/scaler_config.h"
#include "scaler/drivers/command.h"

namespace ebb::scaler {

struct Instance {
  std::string address;  // host:port the LBs send traffic to
  std::string handle;   // the driver's own name for it: a pid (process), a unit (systemd), "" (exec)
};

class Driver {
 public:
  using LaunchCb = std::function<void(Result<Instance>)>;
  using DoneCb = std::function<void(Result<void>)>;
  using CpuCb = std::function<void(Result<double>)>;
  // An instance ended without being asked to (the process driver sees its children exit).
  using ExitCb = std::function<void(const Instance&, const std::string& why)>;

  virtual ~Driver() = default;
  virtual const char* type() const = 0;

  // Starts one new instance. The instance may not serve yet: readiness is the LBs' health checks.
  virtual void launch(LaunchCb cb) = 0;
  // Stops an instance (after the controller drained it). Stopping one that is gone already is ok.
  virtual void terminate(const Instance& inst, DoneCb cb) = 0;
  // CPU use of the instance in percent of one core, averaged since the previous call for it
  // (the first call averages since launch or adoption). Errors mean "missing", never zero.
  virtual void cpu_percent(const Instance& inst, CpuCb cb) = 0;
  // Takes over an instance recorded by an earlier run of the scaler (the state file). An error
  // means it is not running any more (the controller then forgets or cleans it up).
  virtual void adopt(const Instance& inst, DoneCb cb) = 0;

  void on_exit(ExitCb cb) { on_exit_ = std::move(cb); }

 protected:
  ExitCb on_exit_;
};

// Knobs tests turn; production uses the defaults.
struct DriverOptions {
  RetryPolicy retry;                               // exec scripts and systemctl
  std::chrono::milliseconds stop_grace{10000};     // process: SIGTERM, then SIGKILL after this
  std::string cgroup_root = "/sys/fs/cgroup";      // systemd: where ControlGroup paths live
};

std::unique_ptr<Driver> make_driver(uv_loop_t* loop, const config::Driver& cfg, DriverOptions opts = {});

}  // namespace ebb::scaler
