// A small asynchronous HTTP/1.1 client on libuv + llhttp, for one uv loop: ebb-scaler's calls
// to the LBs' admin API and /metrics use it. (ebb-lb's active health checks do not: see
// healthcheck/probe.h for why they have their own.)
//
// Contract (all of it holds for every request):
//  - The callback runs exactly once, on the loop thread, never from inside request() (errors
//    found at once are reported on the next loop turn, like h2o's call_write_complete_delayed).
//  - Failures are values: refused, reset, closed early, timeouts, bad responses, oversized
//    bodies all arrive as Result errors whose message names the request ("GET 127.0.0.1:9/x: ...").
//  - Names are resolved with uv_getaddrinfo (the thread pool), never blocking the loop.
//  - Response bodies: Content-Length, chunked, or until close; capped at max_body.
//  - Optional keep-alive reuse per host:port. A request sent on a reused connection that the
//    server had closed meanwhile is retried once on a fresh one (idempotent methods only).
//    Idle connections are unref'd: they never keep uv_run from returning.
//
// Example (on the loop thread):
//   HttpRequest req;
//   req.target = backend.address;  req.path = "/healthz";  req.timeout = std::chrono::seconds(1);
//   client.request(std::move(req), [](Result<HttpResponse> r) {
//     if (!r) log::warn(r.error()); else if (r->status == 200) ...
//   });
// Not thread-safe: create, use and destroy a client on its loop's thread only.
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
#include "common/duration.h"
#include "common/result.h"

namespace ebb {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  HostPort target;          // where to connect
  std::string path = "/";   // origin-form request target, with the query
  HttpHeaders headers;      // "Host" is added (target.str()) unless present
  std::string body;         // sent with Content-Length when non-empty or method is POST/PUT/PATCH
  Duration connect_timeout{3000};
  Duration timeout{10000};  // whole exchange, from request() to the last response byte
  size_t max_body = 8 << 20;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // as received, in order
  std::string body;

  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

using HttpCallback = std::function<void(Result<HttpResponse>)>;

// "http://host:port/path?q" (or without scheme: "host:port/path") → target and path.
// The port defaults to 80. https is not supported.
struct HttpUrl {
  HostPort target;
  std::string path = "/";
};
Result<HttpUrl> parse_http_url(std::string_view url);

class HttpClient {
 public:
  struct Options {
    bool keep_alive = true;        // reuse connections per host:port
    size_t max_idle_per_host = 4;  // idle connections kept per host:port
    Duration idle_timeout{30000};  // idle connections older than this are not reused
  };

  explicit HttpClient(uv_loop_t* loop);
  HttpClient(uv_loop_t* loop, Options options);
  // Closes every connection. Requests still in flight are abandoned: their callbacks are not
  // called. Destroying the client from inside one of its callbacks is allowed.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Identifies a request in flight, for cancel(). Never 0.
  using RequestId = uint64_t;

  // Starts a request; `cb` gets the response or an error (see the contract above).
  RequestId request(HttpRequest req, HttpCallback cb);

  // Abandons a request in flight: its callback will not be called and its connection is
  // closed. Returns false when it already completed (or the id is unknown). Safe to call from
  // any callback of this client.
  bool cancel(RequestId id);

  size_t in_flight() const { return exchanges_.size(); }
  size_t idle_connections() const;

 private:
  struct Connection;
  struct Exchange;
  struct Resolve;
  friend struct Connection;
  friend struct Exchange;

  void start(Exchange* ex, bool allow_idle);
  void connect_next(Exchange* ex);  // the next resolved address, or an error
  void connect(Exchange* ex, const sockaddr* addr);
  void send(Exchange* ex);
  void on_read(Connection* conn, ssize_t nread, const uv_buf_t* buf);
  void on_response_complete(Connection* conn, bool reusable);
  // Completes `ex` (once; later calls are no-ops) and calls its callback last.
  void finish(Exchange* ex, Result<HttpResponse> result);
  void fail(Exchange* ex, std::string message) { finish(ex, make_error(std::move(message))); }
  void fail_or_retry(Exchange* ex, std::string message);
  // For errors found inside request(): reported from a zero-delay timer.
  void fail_later(Exchange* ex, std::string message);
  Connection* take_idle(const std::string& key);
  void park(Connection* conn);
  void close_connection(Connection* conn);

  static constexpr size_t kReadBufferSize = 64 * 1024;
  uv_loop_t* loop_;
  Options options_;
  std::unordered_map<RequestId, std::unique_ptr<Exchange>> exchanges_;
  RequestId next_id_ = 1;
  std::unordered_map<Connection*, std::unique_ptr<Connection>> connections_;
  std::unordered_map<std::string, std::vector<Connection*>> idle_;  // host:port → idle, oldest first
  std::unique_ptr<char[]> read_buffer_;  // shared: libuv fills it for one read callback at a time
};

}  // namespace ebb
