#include "scaler/drivers/exec_driver.h"

#include <charconv>
#include <cmath>

#include "common/address.h"

namespace ebb::scaler {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Result<std::string> parse_launch_output(const std::string& out) {
  std::string last;
  size_t pos = 0;
  while (pos <= out.size()) {
    size_t nl = out.find('\n', pos);
    std::string line = trim(std::string_view(out).substr(pos, nl == std::string::npos ? std::string::npos : nl - pos));
    if (!line.empty()) last = line;
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  if (last.empty()) return make_error("launch printed no address (expected host:port on stdout)");
  auto hp = parse_host_port(last);
  if (!hp) return make_error("launch printed \"" + last + "\", not host:port: " + hp.error());
  return last;
}

Result<double> parse_cpu_output(const std::string& out) {
  std::string t = trim(out);
  if (!t.empty() && t.back() == '%') t = trim(t.substr(0, t.size() - 1));
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size() || !std::isfinite(v) || v < 0)
    return make_error("cpu printed \"" + trim(out) + "\", not a percentage");
  return v;
}

ExecDriver::ExecDriver(uv_loop_t* loop, config::Driver cfg, DriverOptions opts)
    : loop_(loop), cfg_(std::move(cfg)), opts_(std::move(opts)) {}

std::map<std::string, std::string> ExecDriver::vars(const Instance& inst) const {
  std::map<std::string, std::string> v{{"address", inst.address}};
  if (auto hp = parse_host_port(inst.address)) {
    v["host"] = hp->host;
    v["port"] = std::to_string(hp->port);
  }
  return v;
}

void ExecDriver::launch(LaunchCb cb) {
  run_with_retry(
      loop_, cfg_.launch, cfg_.exec_timeout, opts_.retry,
      [](const CommandResult& r) -> Result<void> {
        auto a = parse_launch_output(r.out);
        if (!a) return make_error(a.error());
        return {};
      },
      [cb](Result<CommandResult> r) {
        if (!r) return cb(make_error(r.error()));
        cb(Instance{*parse_launch_output(r->out), ""});
      });
}

void ExecDriver::terminate(const Instance& inst, DoneCb cb) {
  run_with_retry(loop_, substitute(cfg_.terminate, vars(inst)), cfg_.exec_timeout, opts_.retry, nullptr,
                 [cb](Result<CommandResult> r) {
                   if (!r) return cb(make_error(r.error()));
                   cb(Result<void>());
                 });
}

void ExecDriver::cpu_percent(const Instance& inst, CpuCb cb) {
  if (cfg_.cpu.empty()) {
    defer(loop_, [cb] { cb(make_error("no cpu script configured")); });
    return;
  }
  // A CPU sample is taken every interval: no retries (a missing sample is reported as missing).
  run_with_retry(
      loop_, substitute(cfg_.cpu, vars(inst)), cfg_.exec_timeout, RetryPolicy{1, {}},
      [](const CommandResult& r) -> Result<void> {
        auto v = parse_cpu_output(r.out);
        if (!v) return make_error(v.error());
        return {};
      },
      [cb](Result<CommandResult> r) {
        if (!r) return cb(make_error(r.error()));
        cb(*parse_cpu_output(r->out));
      });
}

void ExecDriver::adopt(const Instance&, DoneCb cb) {
  defer(loop_, [cb] { cb(Result<void>()); });
}

}  // namespace ebb::scaler
