// The admin API (SPEC §5) served over HTTP/1.1 on the control thread's uv loop: the shared
// server (common/http_server.h: keep-alive, HEAD, size/time/connection limits, 400/413/431)
// with the admin's limits, each request routed by handle_admin_request() against a ControlApi
// and checked against the bearer token. It shares nothing with the workers.
#pragma once
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/address.h"
#include "common/http_server.h"
#include "common/result.h"
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
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and listens (an IP literal or a name resolved once, here). Port 0 picks a free port.
  Result<void> listen(const HostPort& address) { return http_.listen(address); }
  uint16_t port() const { return http_.port(); }
  // Reload may change token_file.
  void set_token(const std::string& token) { auth_ = TokenAuth(token); }
  size_t connections() const { return http_.connections(); }

 private:
  HttpServer::Reply handle(const HttpServer::Request& request);

  ControlApi& api_;
  TokenAuth auth_;
  HttpServer http_;  // last: destroyed (connections closed) before what its handler uses
};

}  // namespace ebb::lb::admin
