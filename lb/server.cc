#include "lb/server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <thread>

#include "common/log.h"
#include "lb/balancer/slow_start.h"
#include "lb/admin/lb_admin.h"
#include "lb/notify.h"

namespace ebb::lb {

namespace {
log::Level to_log_level(config::LogLevel l) {
  switch (l) {
    case config::LogLevel::error: return log::Level::error;
    case config::LogLevel::warn: return log::Level::warn;
    case config::LogLevel::info: return log::Level::info;
    case config::LogLevel::debug: return log::Level::debug;
  }
  return log::Level::info;
}

unsigned worker_threads(unsigned configured) {
  if (configured > 0) return configured;
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

std::string reloading_message() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec = static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
}
}  // namespace

Server::Server(std::string config_path) : config_path_(std::move(config_path)), control_(*this) {}

Server::~Server() {
  for (auto& w : workers_) w->join();
}

Result<void> Server::start(config::LbConfig config) {
  log::set_level(to_log_level(config.runtime.log_level));
  unsigned n = worker_threads(config.runtime.workers);
  for (unsigned i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(i, shared_));
  for (auto& w : workers_) shared_.workers.push_back(w.get());
  shared_.max_connections.store(config.runtime.max_connections, std::memory_order_relaxed);
  auto started = control_.start(std::move(config));
  if (!started) return started;

  auto init_signal = [&](UvHandle<uv_signal_t>& h, int signum) {
    uv_signal_init(loop_.get(), h.get());
    h.mark_initialized();
    h->data = this;
    uv_signal_start(h.get(), [](uv_signal_t* s, int sig) { static_cast<Server*>(s->data)->on_signal(sig); }, signum);
  };
  init_signal(sighup_, SIGHUP);
  init_signal(sigterm_, SIGTERM);
  init_signal(sigint_, SIGINT);
  ::signal(SIGPIPE, SIG_IGN);

  uv_timer_init(loop_.get(), tick_.get());
  tick_.mark_initialized();
  tick_->data = this;
  uv_timer_start(tick_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<Server*>(t->data);
    self->control_.tick(ControlPlane::now_ms());
    self->probe_descriptors();
  }, kSlowStartStepMs, kSlowStartStepMs);  // drains and slow-start ramps

  uv_async_init(loop_.get(), worker_exit_.get(), [](uv_async_t* a) { static_cast<Server*>(a->data)->on_worker_exit(); });
  worker_exit_.mark_initialized();
  worker_exit_->data = this;
  shared_.on_worker_exit = [this] {
    exited_.fetch_add(1);
    uv_async_send(worker_exit_.get());
  };

  for (auto& w : workers_) {
    Worker* wp = w.get();
    w->start();
    (void)wp;
  }
  log::info("ebb-lb started: " + std::to_string(n) + " workers, " +
            std::to_string(control_.config().listeners.size()) + " listeners");
  return {};
}

int Server::run() {
  sd_notify("READY=1");
  uv_run(loop_.get(), UV_RUN_DEFAULT);
  for (auto& w : workers_) w->join();
  log::info("ebb-lb stopped");
  return 0;
}

void Server::publish(std::shared_ptr<const Snapshot> snap, std::vector<ListenerFds> new_fds) {
  shared_.max_connections.store(snap->runtime.max_connections, std::memory_order_relaxed);
  for (size_t i = 0; i < workers_.size(); ++i) {
    auto fds = std::make_shared<ListenerFds>(std::move(new_fds[i]));
    workers_[i]->post([snap, fds](Worker& w) { w.apply_snapshot(snap, std::move(*fds)); });
  }
}

Result<void> Server::reload() {
  sd_notify(reloading_message());
  auto r = control_.reload(config_path_);
  if (r) {
    log::set_level(to_log_level(control_.config().runtime.log_level));
    log::info("configuration reloaded from " + config_path_);
    if (worker_threads(control_.config().runtime.workers) != workers_.size())
      log::warn("runtime.workers changed: the new worker count applies after a restart (running " +
                std::to_string(workers_.size()) + ")");
  } else {
    log::error("reload rejected, keeping the running configuration:");
    size_t start = 0;
    const std::string& e = r.error();
    while (start <= e.size()) {
      size_t nl = e.find('\n', start);
      log::error("  " + e.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  sd_notify("READY=1");
  return r;
}

void Server::shutdown() {
  if (stopping_) return;
  stopping_ = true;
  sd_notify("STOPPING=1");
  uint64_t grace = static_cast<uint64_t>(control_.config().runtime.shutdown_grace.count());
  log::info("shutting down: finishing in-flight work (grace " + std::to_string(grace) + " ms)");
  uv_timer_stop(tick_.get());
  sighup_.reset();
  sigterm_.reset();
  tick_.reset();
  for (auto& w : workers_) {
    w->post([this, grace](Worker& wk) {
      wk.begin_shutdown(grace);
      (void)this;
    });
  }
  if (workers_.empty()) uv_stop(loop_.get());
}

void Server::probe_descriptors() {
  // Out of file descriptors, libuv accepts and closes new client connections itself (a reserve
  // descriptor) without telling us, and backend connects fail: log when that starts and ends.
  int fd = ::fcntl(uv_backend_fd(loop_.get()), F_DUPFD_CLOEXEC, 0);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  bool out = err == EMFILE || err == ENFILE;
  if (out == out_of_fds_) return;
  out_of_fds_ = out;
  if (out) {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    std::string which = err == EMFILE ? "RLIMIT_NOFILE " + std::to_string(lim.rlim_cur) : "system-wide limit";
    log::error("out of file descriptors (" + which + "): new client connections are closed and backend "
               "connections fail until some are released");
  } else {
    log::info("file descriptors available again");
  }
}

void Server::on_signal(int signum) {
  if (signum == SIGHUP) {
    (void)reload();
  } else if (signum == SIGTERM) {
    shutdown();
  } else if (signum == SIGINT) {
    if (++sigints_ >= 2) {
      log::warn("second SIGINT: exiting now");
      std::_Exit(130);
    }
    shutdown();
  }
}

void Server::on_worker_exit() {
  if (exited_.load() < workers_.size()) return;
  sigint_.reset();
  worker_exit_.reset();
  uv_stop(loop_.get());
}

int run_server(const std::string& config_path, config::LbConfig config) {
  Server server(config_path);
  admin::LbAdmin admin(server);  // admin API, health checks, metrics, events (lb/admin/lb_admin.h)
  auto started = server.start(std::move(config));
  if (!started) {
    std::fprintf(stderr, "ebb-lb: %s\n", started.error().c_str());
    return 1;
  }
  if (auto a = admin.start(); !a) {  // workers already run: stop them before exiting
    std::fprintf(stderr, "ebb-lb: %s\n", a.error().c_str());
    server.shutdown();
    server.run();
    return 1;
  }
  return server.run();
}

}  // namespace ebb::lb
