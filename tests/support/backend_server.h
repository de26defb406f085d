// The test backend's listener and connection registry (single-threaded, one uv loop).
#pragma once
#include <uv.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "common/address.h"
#include "common/result.h"
#include "common/uv.h"

namespace ebb::testbackend {

class Conn;

struct Options {
  HostPort listen;
  std::string name;        // X-Backend value; defaults to the listen address
  bool verbose = false;    // log each request to stderr
  bool tcp_echo = false;   // raw TCP echo instead of HTTP
  bool tcp_greeting = false;  // tcp_echo: send "backend NAME\n" on connect
  bool start_unhealthy = false;
  uint64_t idle_timeout_ms = 0;  // close keep-alive connections idle this long (0 = never)
};

class Server {
 public:
  Server(uv_loop_t* loop, Options options);
  ~Server();

  // Binds and listens; also installs SIGTERM/SIGINT handlers that call stop().
  Result<void> start();
  // Stops accepting, closes every connection and the signal handlers; uv_run then returns.
  void stop();

  // Called from a connection's close callback: frees it.
  void release(Conn* conn);

  uv_loop_t* loop() const { return loop_; }
  const Options& options() const { return options_; }
  const std::string& name() const { return options_.name; }
  bool healthy() const { return healthy_; }
  bool toggle_health() { return healthy_ = !healthy_; }
  // One shared read buffer: libuv hands it to exactly one read callback at a time.
  char* read_buffer() { return read_buffer_.get(); }
  static constexpr size_t kReadBufferSize = 64 * 1024;

 private:
  void on_connection(int status);

  uv_loop_t* loop_;
  Options options_;
  bool healthy_ = true;
  bool stopped_ = false;
  UvHandle<uv_tcp_t> listener_;
  UvHandle<uv_signal_t> sigterm_;
  UvHandle<uv_signal_t> sigint_;
  std::unique_ptr<char[]> read_buffer_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;
};

}  // namespace ebb::testbackend
