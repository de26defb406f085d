// The `exec` driver: the user's scripts do the work. `launch` prints the new backend's host:port
// (the last non-empty line of its stdout); `terminate` and `cpu` get {address} (and {host},
// {port}); `cpu` prints a percentage. A script that runs longer than exec_timeout is killed;
// timeouts, non-zero exits and unreadable output are errors, retried with back-off, then
// reported — never a crash.
#pragma once
#include "scaler/drivers/driver.h"

namespace ebb::scaler {

class ExecDriver final : public Driver {
 public:
  ExecDriver(uv_loop_t* loop, config::Driver cfg, DriverOptions opts);
  const char* type() const override { return "exec"; }
  void launch(LaunchCb cb) override;
  void terminate(const Instance& inst, DoneCb cb) override;
  void cpu_percent(const Instance& inst, CpuCb cb) override;
  // Without a status script there is nothing to ask: adoption trusts the state file.
  void adopt(const Instance& inst, DoneCb cb) override;

 private:
  std::map<std::string, std::string> vars(const Instance& inst) const;
  uv_loop_t* loop_;
  config::Driver cfg_;
  DriverOptions opts_;
};

// The backend address a launch script printed: its last non-empty line, as host:port.
Result<std::string> parse_launch_output(const std::string& out);
// A percentage as a cpu script printed it: "42", "42.5", "42.5%", blanks and a newline allowed.
Result<double> parse_cpu_output(const std::string& out);

}  // namespace ebb::scaler
