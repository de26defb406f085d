#include "scaler/drivers/driver.h"

#include "scaler/drivers/exec_driver.h"
#include "scaler/drivers/process_driver.h"
#include "scaler/drivers/systemd_driver.h"

namespace ebb::scaler {

std::unique_ptr<Driver> make_driver(uv_loop_t* loop, const config::Driver& cfg, DriverOptions opts) {
  switch (cfg.type) {
    case config::DriverType::process: return std::make_unique<ProcessDriver>(loop, cfg, std::move(opts));
    case config::DriverType::exec: return std::make_unique<ExecDriver>(loop, cfg, std::move(opts));
    case config::DriverType::systemd: return std::make_unique<SystemdDriver>(loop, cfg, std::move(opts));
  }
  return nullptr;
}

}  // namespace ebb::scaler
