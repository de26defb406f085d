// One active health check of one backend on a uv loop: `tcp` (connect within the timeout) or
// `http` (GET path with a Host header; pass when the status is in [expect_min, expect_max]).
// Every check uses its own connection; nothing blocks the loop (the address is already resolved).
// Not built on common/http_client.h, on purpose: a check reads only the status line and closes
// (the client buffers whole bodies and fails past its cap, which would fail a healthy backend
// with a large status page), `tcp` checks are a bare connect the client cannot do, the address
// is already resolved (the client takes host:port text), and `detail` is a short classified reason
// ("connection refused", "timeout after 1s") that goes into transitions and events, where the
// client reports prose errors. What they share is only the libuv/llhttp boilerplate.
#pragma once
#include <sys/socket.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/duration.h"
#include "common/uv.h"
#include "config/lb_config.h"

namespace ebb::health {

struct ProbeSpec {
  config::HealthCheck kind = config::HealthCheck::tcp;  // tcp | http (none never probes)
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::string path = "/healthz";  // http only
  std::string host_header;        // http only: config `host` or the backend address
  int expect_min = 200;
  int expect_max = 399;
  Duration timeout = std::chrono::seconds(1);
};

struct ProbeResult {
  bool pass = false;
  int status = 0;      // HTTP status, 0 when none was read
  std::string detail;  // "HTTP 200", "connected", "connection refused", "timeout after 1s", ...
  // The check could not be made for a reason of our own (out of file descriptors, memory or
  // local ports): it says nothing about the backend, so it is neither a pass nor a failure.
  bool inconclusive = false;
};

class Probe {
 public:
  using Done = std::function<void(const ProbeResult&)>;

  // Starts a check on `loop`. `done` runs exactly once, on a later loop turn (never inside
  // start()), unless the Probe is destroyed first, which cancels it silently. `done` is the
  // last thing the probe does, so it may destroy the Probe. Loop thread only.
  static std::unique_ptr<Probe> start(uv_loop_t* loop, const ProbeSpec& spec, Done done);

  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

 private:
  struct ConnectReq;
  struct WriteReq;
  struct Parser;

  Probe(uv_loop_t* loop, const ProbeSpec& spec, Done done);
  void begin();
  void on_connect(int status);
  void on_write(int status);
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_timer();
  // Must be the caller's last action. `inconclusive`: see ProbeResult.
  void finish(bool pass, int status, std::string detail, bool inconclusive = false);

  uv_loop_t* loop_;
  ProbeSpec spec_;
  Done done_;
  UvHandle<uv_tcp_t> tcp_;
  UvHandle<uv_timer_t> timer_;
  ConnectReq* pending_connect_ = nullptr;  // owned by libuv until its callback
  WriteReq* pending_write_ = nullptr;
  std::unique_ptr<Parser> parser_;
  std::string deferred_failure_;  // a synchronous start error, reported from the timer
  bool deferred_local_ = false;   // ... and it was our own shortage (ProbeResult::inconclusive)
  char read_buf_[4096];
};

}  // namespace ebb::health
