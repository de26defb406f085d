// The `systemd` driver: instantiated units. The unit name is `unit` with {port} (from `ports`)
// substituted; launch = `systemctl start UNIT`, terminate = `systemctl stop UNIT`, CPU from the
// unit's cgroup (`systemctl show -p ControlGroup --value UNIT`, then cpu.stat usage_usec under the
// cgroup root). `driver.systemctl` replaces the systemctl command (tests use a double).
// systemctl failures are retried with back-off.
#pragma once
#include <map>
#include <set>

#include "scaler/drivers/cpu_sampler.h"
#include "scaler/drivers/driver.h"

namespace ebb::scaler {

class SystemdDriver final : public Driver {
 public:
  SystemdDriver(uv_loop_t* loop, config::Driver cfg, DriverOptions opts);
  const char* type() const override { return "systemd"; }
  void launch(LaunchCb cb) override;
  void terminate(const Instance& inst, DoneCb cb) override;
  void cpu_percent(const Instance& inst, CpuCb cb) override;
  // Adoption asks `systemctl is-active UNIT`.
  void adopt(const Instance& inst, DoneCb cb) override;

 private:
  std::vector<std::string> systemctl(std::initializer_list<std::string> args) const;
  std::string unit_for(uint16_t port) const;
  uv_loop_t* loop_;
  config::Driver cfg_;
  DriverOptions opts_;
  std::set<uint16_t> ports_in_use_;
  std::map<std::string, CpuSampler> cpu_;  // by unit
};

}  // namespace ebb::scaler
