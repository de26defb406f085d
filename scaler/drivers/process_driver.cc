#include "scaler/drivers/process_driver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "common/address.h"
#include "common/uv.h"

namespace ebb::scaler {

struct ProcessDriver::Child {
  Instance inst;
  int pid = 0;
  bool adopted = false;      // not our child: liveness by polling
  bool terminating = false;
  std::vector<DoneCb> stop_waiters;
  UvHandle<uv_process_t> proc;
  UvHandle<uv_timer_t> kill_timer;  // SIGKILL after stop_grace
  UvHandle<uv_timer_t> poll_timer;  // adopted children: is it still there?
  CpuSampler cpu;
  ProcessDriver* owner = nullptr;
};

namespace {

double wall_seconds() { return static_cast<double>(uv_hrtime()) / 1e9; }

std::optional<double> cpu_seconds(int pid) {
  auto text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  auto s = parse_proc_stat_cpu_seconds(*text, sysconf(_SC_CLK_TCK));
  if (!s) return std::nullopt;
  return *s;
}

// True when nothing listens on (or holds) host:port right now.
bool port_free(const std::string& host, uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  if (host.find(':') != std::string::npos) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (uv_ip6_addr(host.c_str(), port, a6) != 0) return false;
    family = AF_INET6;
    len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    if (uv_ip4_addr(host.c_str(), port, a4) != 0) return false;
    len = sizeof(sockaddr_in);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  ::close(fd);
  return ok;
}

// A zombie counts as gone: it has exited, only its parent has not collected it yet.
bool pid_alive(int pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  auto stat = read_small_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  const size_t close = stat->rfind(')');
  return close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] != 'Z';
}

}  // namespace

ProcessDriver::ProcessDriver(uv_loop_t* loop, config::Driver cfg, DriverOptions opts)
    : loop_(loop), cfg_(std::move(cfg)), opts_(std::move(opts)) {}

ProcessDriver::~ProcessDriver() = default;

std::vector<std::string> ProcessDriver::argv_for(uint16_t port) const {
  return substitute(cfg_.command, {{"port", std::to_string(port)},
                                   {"host", cfg_.host},
                                   {"address", HostPort{cfg_.host, port}.str()}});
}

void ProcessDriver::launch(LaunchCb cb) {
  // Round-robin over the range from after the last port handed out: a replacement gets a new
  // address, so the LBs see a new backend (starts `unknown`, gets traffic only once its checks
  // pass) instead of the dead instance's entry, which may still be listed and healthy.
  std::optional<uint16_t> port;
  const uint32_t span = cfg_.port_max >= cfg_.port_min ? cfg_.port_max - cfg_.port_min + 1 : 0;
  for (uint32_t i = 0; i < span && !port; ++i) {
    const uint32_t offset = (next_port_offset_ + i) % span;
    const auto p = static_cast<uint16_t>(cfg_.port_min + offset);
    if (children_.count(HostPort{cfg_.host, p}.str()) || !port_free(cfg_.host, p)) continue;
    port = p;
    next_port_offset_ = (offset + 1) % span;
  }
  if (!port) {
    defer(loop_, [cb, this] {
      cb(make_error("no free port in " + std::to_string(cfg_.port_min) + "-" + std::to_string(cfg_.port_max)));
    });
    return;
  }
  auto argv = argv_for(*port);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = 1;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = 2;
  uv_process_options_t opts{};
  opts.file = args.empty() ? nullptr : args[0];
  opts.args = args.data();
  opts.stdio = stdio;
  opts.stdio_count = 3;
  opts.flags = UV_PROCESS_DETACHED;
  opts.exit_cb = [](uv_process_t* p, int64_t status, int sig) {
    auto* c = static_cast<Child*>(p->data);
    c->owner->exited(c, sig ? "killed by signal " + std::to_string(sig) : "exited with status " + std::to_string(status));
  };
  auto child = std::make_unique<Child>();
  child->owner = this;
  child->proc->data = child.get();
  const int rc = argv.empty() ? UV_EINVAL : uv_spawn(loop_, child->proc.get(), &opts);
  child->proc.mark_initialized();
  if (rc != 0) {
    std::string err = "cannot start " + (argv.empty() ? std::string("(empty command)") : argv[0]) + ": " + uv_strerror(rc);
    defer(loop_, [cb, err] { cb(make_error(err)); });
    return;
  }
  child->pid = child->proc->pid;
  child->inst = Instance{HostPort{cfg_.host, *port}.str(), std::to_string(child->pid)};
  if (auto s = cpu_seconds(child->pid)) child->cpu.sample(*s, wall_seconds());
  Instance inst = child->inst;
  children_[inst.address] = std::move(child);
  defer(loop_, [cb, inst] { cb(inst); });
}

void ProcessDriver::exited(Child* c, const std::string& why) {
  auto it = children_.find(c->inst.address);
  if (it == children_.end() || it->second.get() != c) return;
  std::unique_ptr<Child> owned = std::move(it->second);
  children_.erase(it);
  auto waiters = std::move(owned->stop_waiters);
  const bool asked = owned->terminating;
  const Instance inst = owned->inst;
  owned.reset();  // closes its handles (we may be inside one of their callbacks: libuv allows it)
  if (asked) {
    for (auto& w : waiters) w(Result<void>());
  } else if (on_exit_) {
    on_exit_(inst, why);
  }
}

void ProcessDriver::terminate(const Instance& inst, DoneCb cb) {
  auto it = children_.find(inst.address);
  if (it == children_.end()) {
    defer(loop_, [cb] { cb(Result<void>()); });  // gone already
    return;
  }
  Child* c = it->second.get();
  c->stop_waiters.push_back(std::move(cb));
  if (c->terminating) return;
  c->terminating = true;
  ::kill(c->pid, SIGTERM);
  uv_timer_init(loop_, c->kill_timer.get());
  c->kill_timer.mark_initialized();
  c->kill_timer->data = c;
  uv_timer_start(
      c->kill_timer.get(), [](uv_timer_t* t) { ::kill(static_cast<Child*>(t->data)->pid, SIGKILL); },
      static_cast<uint64_t>(opts_.stop_grace.count()), 0);
}

void ProcessDriver::cpu_percent(const Instance& inst, CpuCb cb) {
  auto it = children_.find(inst.address);
  Result<double> r = make_error(inst.address + ": not a running instance of this driver");
  if (it != children_.end()) {
    Child* c = it->second.get();
    if (auto s = cpu_seconds(c->pid)) {
      auto pct = c->cpu.sample(*s, wall_seconds());
      r = pct ? Result<double>(*pct) : Result<double>(make_error(inst.address + ": first CPU sample"));
    } else {
      r = make_error(inst.address + ": cannot read /proc/" + std::to_string(c->pid) + "/stat");
    }
  }
  defer(loop_, [cb, r] { cb(r); });
}

void ProcessDriver::adopt(const Instance& inst, DoneCb cb) {
  auto fail = [&](std::string why) { defer(loop_, [cb, why] { cb(make_error(why)); }); };
  if (children_.count(inst.address)) return defer(loop_, [cb] { cb(Result<void>()); });
  auto hp = parse_host_port(inst.address);
  int pid = 0;
  try {
    pid = std::stoi(inst.handle);
  } catch (...) {
    return fail(inst.address + ": no pid recorded");
  }
  if (!hp || !pid_alive(pid)) return fail(inst.address + ": process " + inst.handle + " is not running");
  // the pid must still be our command for that port (pids are reused)
  auto cmdline = read_small_file("/proc/" + std::to_string(pid) + "/cmdline");
  std::string want;
  for (const auto& a : argv_for(hp->port)) want += a + '\0';
  if (!cmdline || *cmdline != want) return fail(inst.address + ": process " + inst.handle + " runs something else");
  auto child = std::make_unique<Child>();
  child->owner = this;
  child->adopted = true;
  child->pid = pid;
  child->inst = inst;
  if (auto s = cpu_seconds(pid)) child->cpu.sample(*s, wall_seconds());
  uv_timer_init(loop_, child->poll_timer.get());
  child->poll_timer.mark_initialized();
  child->poll_timer->data = child.get();
  uv_timer_start(
      child->poll_timer.get(),
      [](uv_timer_t* t) {
        auto* c = static_cast<Child*>(t->data);
        if (!pid_alive(c->pid)) c->owner->exited(c, "exited (adopted process)");
      },
      100, 100);
  children_[inst.address] = std::move(child);
  defer(loop_, [cb] { cb(Result<void>()); });
}

}  // namespace ebb::scaler
