// A small HTTP/1.1 server on libuv + llhttp for ebb's own endpoints: ebb-lb's admin API (on the
// control thread, lb/admin/server.h) and ebb-scaler's metrics_listen (/metrics,
// /api/v1/decisions, /healthz). Not the proxy: requests are small, buffered whole, and answered
// synchronously by one handler.
//
// What every caller gets:
//  - keep-alive and pipelining (HTTP/1.0 and "Connection: close" close after the response), or
//    one request per connection with Options::keep_alive = false;
//  - HEAD: the handler's headers and Content-Length, no body;
//  - limits: request head (431), body (413; a declared Content-Length is refused before any of
//    the body is read), the methods served when Options::methods is set (405 with Allow, before
//    any body is read), time to wait for a request and to receive all of it (then the
//    connection closes), open connections (more are accepted and closed at once);
//  - malformed input gets 400; every error the server itself answers closes the connection and
//    has a {"error":"..."} JSON body;
//  - every response carries Content-Length and Cache-Control: no-store.
// Bad input never crashes it. Loop thread only: create, use and destroy it on its loop's thread.
#pragma once
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/address.h"
#include "common/result.h"
#include "common/uv.h"

namespace ebb {

class HttpServer {
 public:
  struct Request {
    std::string method;  // "GET", "POST", ... as llhttp names it
    std::string target;  // as received: path and optional "?query"
    std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
    std::string body;    // de-chunked

    // First header with this name (case-insensitive), or nullptr.
    const std::string* header(std::string_view name) const;
  };

  struct Reply {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;  // not sent for HEAD (its length is)
    // Extra headers (Allow, WWW-Authenticate). "= {}" lets {status, type, body} initialisers
    // compile under -Wextra (-Wmissing-field-initializers).
    std::vector<std::pair<std::string, std::string>> headers = {};
  };

  // Called on the loop thread for each complete request, in the order they arrive. Must not
  // throw and must not destroy the server.
  using Handler = std::function<Reply(const Request&)>;

  struct Options {
    std::string name = "http";          // in log lines and listen errors: "admin", "metrics"
    size_t max_head_bytes = 16 * 1024;  // target + headers; 431 past it
    size_t max_body_bytes = 64 * 1024;  // 413 past it
    uint64_t idle_timeout_ms = 30000;   // to wait for a request, and to receive all of one
    size_t max_connections = 256;       // more are accepted and closed at once
    bool keep_alive = true;             // false: every response closes its connection
    std::vector<std::string> methods;   // the methods served; empty: all (the handler decides)
  };

  HttpServer(uv_loop_t* loop, Options options, Handler handler);
  ~HttpServer();  // closes the listener and every connection
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens: an IP literal, or a name resolved here once (it blocks: call it before
  // the loop serves anything). Port 0 picks a free port. Errors name the server and address.
  Result<void> listen(const HostPort& address);
  uint16_t port() const { return port_; }
  size_t connections() const { return conns_.size(); }

 private:
  class Connection;
  friend class Connection;
  void on_connection(int status);
  void retire(Connection* c);  // closes now, frees on a later loop turn

  uv_loop_t* loop_;
  Options options_;
  Handler handler_;
  std::string allow_;  // Options::methods as an Allow header value
  UvHandle<uv_tcp_t> listener_;
  UvHandle<uv_timer_t> reaper_;  // frees retired connections outside their own callbacks
  uint16_t port_ = 0;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> conns_;
  std::vector<std::unique_ptr<Connection>> retired_;
};

}  // namespace ebb
