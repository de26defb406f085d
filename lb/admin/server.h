// The admin HTTP/1.1 server (SPEC §5) on the control thread's uv loop: llhttp-parsed requests,
// keep-alive, size and time limits, routing by handle_admin_request() against a ControlApi.
// Bad input gets a 4xx and never crashes it; it shares nothing with the workers.
#pragma once
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/address.h"
#include "common/result.h"
#include "common/uv.h"
#include "lb/admin/control_api.h"
#include "lb/admin/routes.h"

namespace ebb::lb::admin {

struct AdminServerOptions {
  std::string token;                     // "" = mutating routes open (token_file unset)
  size_t max_head_bytes = 16 * 1024;     // request line + headers; 431 past it
  size_t max_body_bytes = 64 * 1024;     // 413 past it
  uint64_t idle_timeout_ms = 30000;      // keep-alive idle / slow request limit
  size_t max_connections = 256;          // more are accepted and closed at once
};

// Loop thread only.
class AdminServer {
 public:
  AdminServer(uv_loop_t* loop, ControlApi& api, AdminServerOptions options = {});
  ~AdminServer();  // closes the listener and every connection
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and listens (an IP literal or a name resolved once, here). Port 0 picks a free port.
  Result<void> listen(const HostPort& address);
  uint16_t port() const { return port_; }
  // Reload may change token_file.
  void set_token(const std::string& token) { auth_ = TokenAuth(token); }
  size_t connections() const { return conns_.size(); }

 private:
  class Connection;
  friend class Connection;
  void on_connection(int status);
  void retire(Connection* c);  // closes now, frees on a later loop turn

  uv_loop_t* loop_;
  ControlApi& api_;
  AdminServerOptions options_;
  TokenAuth auth_;
  UvHandle<uv_tcp_t> listener_;
  UvHandle<uv_timer_t> reaper_;  // frees retired connections outside their own callbacks
  uint16_t port_ = 0;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> conns_;
  std::vector<std::unique_ptr<Connection>> retired_;
};

}  // namespace ebb::lb::admin
