// A minimal HTTP/1.1 server for the scaler's own endpoints on metrics_listen (/metrics,
// /api/v1/decisions, /healthz): GET/HEAD only, one request per connection (Connection: close),
// llhttp-parsed, with a head size limit (431), an idle timeout and a connection cap. Bad input
// gets a 4xx, never a crash. Loop thread only.
#pragma once
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/address.h"
#include "common/result.h"
#include "common/uv.h"

namespace ebb::scaler {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called for each complete request with its method and target (path and query).
using HttpHandler = std::function<HttpReply(std::string_view method, std::string_view target)>;

class HttpServer {
 public:
  HttpServer(uv_loop_t* loop, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds an IP literal (port 0 picks one) and listens.
  Result<void> listen(const HostPort& address);
  uint16_t port() const { return port_; }

 private:
  struct Conn;
  void accept_one();
  void close_conn(Conn* c);

  uv_loop_t* loop_;
  HttpHandler handler_;
  UvHandle<uv_tcp_t> listener_;
  uint16_t port_ = 0;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;
};

}  // namespace ebb::scaler
