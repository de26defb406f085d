#include "scaler/drivers/systemd_driver.h"

#include "common/address.h"

namespace ebb::scaler {
namespace {

double wall_seconds() { return static_cast<double>(uv_hrtime()) / 1e9; }

std::string first_line(const std::string& s) {
  std::string l = s.substr(0, s.find('\n'));
  while (!l.empty() && (l.back() == '\r' || l.back() == ' ')) l.pop_back();
  return l;
}

}  // namespace

SystemdDriver::SystemdDriver(uv_loop_t* loop, config::Driver cfg, DriverOptions opts)
    : loop_(loop), cfg_(std::move(cfg)), opts_(std::move(opts)) {}

std::vector<std::string> SystemdDriver::systemctl(std::initializer_list<std::string> args) const {
  std::vector<std::string> argv = cfg_.systemctl;
  argv.insert(argv.end(), args);
  return argv;
}

std::string SystemdDriver::unit_for(uint16_t port) const {
  return substitute({cfg_.unit}, {{"port", std::to_string(port)}, {"host", cfg_.host}})[0];
}

void SystemdDriver::launch(LaunchCb cb) {
  std::optional<uint16_t> port;
  for (uint32_t p = cfg_.port_min; p <= cfg_.port_max && !port; ++p)
    if (!ports_in_use_.count(static_cast<uint16_t>(p))) port = static_cast<uint16_t>(p);
  if (!port) {
    defer(loop_, [cb] { cb(make_error("no free port in the driver's range")); });
    return;
  }
  ports_in_use_.insert(*port);
  const std::string unit = unit_for(*port);
  const std::string address = HostPort{cfg_.host, *port}.str();  // [v6]:port for an IPv6 host
  run_with_retry(loop_, systemctl({"start", unit}), std::chrono::seconds(90), opts_.retry, nullptr,
                 [this, cb, unit, address, p = *port](Result<CommandResult> r) {
                   if (!r) {
                     ports_in_use_.erase(p);
                     return cb(make_error(r.error()));
                   }
                   cb(Instance{address, unit});
                 });
}

void SystemdDriver::terminate(const Instance& inst, DoneCb cb) {
  run_with_retry(loop_, systemctl({"stop", inst.handle}), std::chrono::seconds(90), opts_.retry, nullptr,
                 [this, cb, inst](Result<CommandResult> r) {
                   if (!r) return cb(make_error(r.error()));
                   if (auto hp = parse_host_port(inst.address)) ports_in_use_.erase(hp->port);
                   cpu_.erase(inst.handle);
                   cb(Result<void>());
                 });
}

void SystemdDriver::cpu_percent(const Instance& inst, CpuCb cb) {
  run_with_retry(loop_, systemctl({"show", "-p", "ControlGroup", "--value", inst.handle}), std::chrono::seconds(10),
                 RetryPolicy{1, {}}, nullptr, [this, cb, inst](Result<CommandResult> r) {
                   if (!r) return cb(make_error(r.error()));
                   const std::string cgroup = first_line(r->out);
                   if (cgroup.empty() || cgroup[0] != '/')
                     return cb(make_error(inst.handle + ": no control group (is the unit running?)"));
                   auto text = read_small_file(opts_.cgroup_root + cgroup + "/cpu.stat");
                   if (!text) return cb(make_error(text.error()));
                   auto secs = parse_cgroup_cpu_seconds(*text);
                   if (!secs) return cb(make_error(secs.error()));
                   auto pct = cpu_[inst.handle].sample(*secs, wall_seconds());
                   if (!pct) return cb(make_error(inst.handle + ": first CPU sample"));
                   cb(*pct);
                 });
}

void SystemdDriver::adopt(const Instance& inst, DoneCb cb) {
  run_with_retry(loop_, systemctl({"is-active", inst.handle}), std::chrono::seconds(10), RetryPolicy{1, {}}, nullptr,
                 [this, cb, inst](Result<CommandResult> r) {
                   if (!r) return cb(make_error(inst.handle + " is not active: " + r.error()));
                   if (auto hp = parse_host_port(inst.address)) ports_in_use_.insert(hp->port);
                   cb(Result<void>());
                 });
}

}  // namespace ebb::scaler
