// The `process` driver: local child processes. Spawns `command` with {port}, {host} and
// {address} substituted (the port is the first free one of `ports`), owns the child through a
// uv_process_t (exit detected at once), stops it with SIGTERM then SIGKILL, and reads its CPU use
// from /proc/PID/stat. Children are started detached (own session) so they outlive a scaler
// restart and can be re-adopted by pid; adopted ones are watched by polling.
#pragma once
#include <map>
#include <memory>

#include "scaler/drivers/cpu_sampler.h"
#include "scaler/drivers/driver.h"

namespace ebb::scaler {

class ProcessDriver final : public Driver {
 public:
  ProcessDriver(uv_loop_t* loop, config::Driver cfg, DriverOptions opts);
  ~ProcessDriver() override;  // leaves the children running (they are re-adopted on restart)
  const char* type() const override { return "process"; }
  void launch(LaunchCb cb) override;
  void terminate(const Instance& inst, DoneCb cb) override;
  void cpu_percent(const Instance& inst, CpuCb cb) override;
  void adopt(const Instance& inst, DoneCb cb) override;

  size_t children() const { return children_.size(); }

 private:
  struct Child;
  std::vector<std::string> argv_for(uint16_t port) const;
  void exited(Child* c, const std::string& why);

  uv_loop_t* loop_;
  config::Driver cfg_;
  DriverOptions opts_;
  std::map<std::string, std::unique_ptr<Child>> children_;  // by address
  uint32_t next_port_offset_ = 0;  // where the next search of `ports` starts
};

}  // namespace ebb::scaler
