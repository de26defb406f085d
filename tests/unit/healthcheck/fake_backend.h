// A tiny HTTP backend on the test's own uv loop (loopback, free port): answers every request
// with the configured status, or stays silent, or closes at once. Single-threaded with the
// code under test, so tests are deterministic and need no sleeps.
#pragma once
#include <uv.h>

#include <set>
#include <string>

namespace ebb::test {

class FakeBackend {
 public:
  enum class Mode { respond, silent, close };

  explicit FakeBackend(uv_loop_t* loop);
  ~FakeBackend();

  int port() const { return port_; }
  void set_status(int status) { status_ = status; }
  void set_mode(Mode m) { mode_ = m; }
  int requests() const { return requests_; }
  const std::string& last_request() const { return last_request_; }

 public:
  struct Conn;
  void forget(Conn* c) { conns_.erase(c); }

 private:
  static void on_connection(uv_stream_t* server, int status);

  uv_loop_t* loop_;
  uv_tcp_t* server_;  // freed in its close callback
  int port_ = 0;
  int status_ = 200;
  Mode mode_ = Mode::respond;
  int requests_ = 0;
  std::string last_request_;
  std::set<Conn*> conns_;
};

// A loopback port with nothing listening on it (bound then closed), for "connection refused".
int closed_port();

}  // namespace ebb::test
