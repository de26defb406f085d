// The shared HTTP/1.1 server (common/http_server.h) over real loopback sockets: what the
// handler sees, the options the admin API does not use (methods, keep_alive = false), the
// per-request deadline, half-closing clients, listen errors. Keep-alive, pipelining and the
// size limits are covered through the admin API in tests/unit/lb/admin/server_test.cc.
// The server runs on its own loop thread; the test talks to it with blocking sockets that
// have receive timeouts, so nothing hangs.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "common/http_server.h"
#include "common/uv.h"

using ebb::HttpServer;

namespace {

// Echoes what the handler saw, so the test can check it from its own thread.
HttpServer::Reply echo(const HttpServer::Request& r) {
  std::string text = r.method + " " + r.target + "\n";
  for (const auto& [k, v] : r.headers) text += k + "=" + v + "\n";
  const std::string* x = r.header("x-TEST");
  text += "x-test:" + (x ? *x : std::string("-")) + "\n";
  text += "body:" + r.body;
  return {201, "text/plain", text, {{"X-Extra", "yes"}}};
}

class Serving {
 public:
  explicit Serving(HttpServer::Options opts) {
    server_ = std::make_unique<HttpServer>(loop_.get(), std::move(opts), echo);
    REQUIRE(server_->listen(ebb::HostPort{"127.0.0.1", 0}).ok());
    port = server_->port();
    uv_async_init(loop_.get(), &stop_, [](uv_async_t* a) {
      static_cast<Serving*>(a->data)->server_.reset();
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
    });
    stop_.data = this;
    thread_ = std::thread([this] { uv_run(loop_.get(), UV_RUN_DEFAULT); });
  }
  ~Serving() {
    uv_async_send(&stop_);
    thread_.join();
  }
  int port = 0;

 private:
  ebb::UvLoop loop_;
  std::unique_ptr<HttpServer> server_;
  uv_async_t stop_;
  std::thread thread_;
};

// A blocking loopback connection; every receive gives up after 5 s.
class Socket {
 public:
  explicit Socket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Socket() { ::close(fd_); }
  bool write(const std::string& s) { return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()); }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Everything until the server closes (or 5 s pass without a byte).
  std::string read_to_close() {
    std::string in;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) in.append(buf, static_cast<size_t>(n));
    return in;
  }
  // Reads until `text` has arrived (or EOF / 5 s).
  std::string read_until(const std::string& text) {
    std::string in;
    char buf[4096];
    while (in.find(text) == std::string::npos) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }
  // True once the server has closed: EOF (or a reset) within `wait`.
  bool closed_within(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = ::recv(fd_, &c, 1, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("http server: the handler sees method, target, headers and the de-chunked body") {
  Serving srv(HttpServer::Options{});
  Socket s(srv.port);
  REQUIRE(s.write("PUT /a/b?x=1&y=%20 HTTP/1.1\r\nHost: h\r\nX-Test: one\r\nEmpty:\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  const std::string r = s.read_until("body:abcde");
  CHECK(r.rfind("HTTP/1.1 201 Created\r\n", 0) == 0);
  CHECK(r.find("\r\nX-Extra: yes\r\n") != std::string::npos);
  CHECK(r.find("\r\nCache-Control: no-store\r\n") != std::string::npos);
  CHECK(r.find("\r\nConnection: close") == std::string::npos);  // keep-alive by default
  CHECK(r.find("PUT /a/b?x=1&y=%20\nHost=h\nX-Test=one\nEmpty=\nTransfer-Encoding=chunked\n"
               "x-test:one\nbody:abcde") != std::string::npos);
}

TEST_CASE("http server: HEAD gets the headers and the length, not the body") {
  Serving srv(HttpServer::Options{});
  Socket s(srv.port);
  REQUIRE(s.write("HEAD /h HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));
  const std::string r = s.read_to_close();
  const std::string body = echo(HttpServer::Request{"HEAD", "/h", {{"Host", "h"}, {"Connection", "close"}}, ""}).body;
  CHECK(r.rfind("HTTP/1.1 201 ", 0) == 0);
  CHECK(r.find("Content-Length: " + std::to_string(body.size()) + "\r\n") != std::string::npos);
  CHECK(r.size() == r.find("\r\n\r\n") + 4);  // nothing after the head
}

TEST_CASE("http server: methods outside Options::methods get 405 with Allow before any body") {
  HttpServer::Options opts;
  opts.methods = {"GET", "HEAD"};
  Serving srv(opts);
  {
    Socket s(srv.port);
    // A body is announced but never sent: the answer cannot wait for it.
    REQUIRE(s.write("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 100000\r\n\r\n"));
    const std::string r = s.read_to_close();
    CHECK(r.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
    CHECK(r.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
    CHECK(r.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(r.find("{\"error\":\"method POST not allowed\"}") != std::string::npos);
  }
  Socket s(srv.port);
  REQUIRE(s.write("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"));
  CHECK(s.read_until("body:").rfind("HTTP/1.1 201 ", 0) == 0);
}

TEST_CASE("http server: keep_alive = false answers one request per connection") {
  HttpServer::Options opts;
  opts.keep_alive = false;
  Serving srv(opts);
  Socket s(srv.port);
  // Two pipelined HTTP/1.1 requests: only the first is answered, then the connection closes.
  REQUIRE(s.write("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"));
  const std::string r = s.read_to_close();
  CHECK(r.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(r.find("GET /1\n") != std::string::npos);
  CHECK(r.find("GET /2\n") == std::string::npos);
}

TEST_CASE("http server: an Upgrade request gets one answer, then the connection closes") {
  Serving srv(HttpServer::Options{});
  Socket s(srv.port);
  REQUIRE(s.write("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"));
  const std::string r = s.read_to_close();
  CHECK(r.rfind("HTTP/1.1 201 ", 0) == 0);
  CHECK(r.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(r.find("HTTP/1.1", 1) == std::string::npos);  // no second response
}

TEST_CASE("http server: a client that half-closes after its request still gets the response") {
  Serving srv(HttpServer::Options{});
  Socket s(srv.port);
  REQUIRE(s.write("GET /half HTTP/1.1\r\nHost: h\r\n\r\n"));
  s.shutdown_write();
  const std::string r = s.read_to_close();
  CHECK(r.rfind("HTTP/1.1 201 ", 0) == 0);
  CHECK(r.find("GET /half\n") != std::string::npos);
}

TEST_CASE("http server: a request trickled in slower than the timeout is cut off") {
  HttpServer::Options opts;
  opts.idle_timeout_ms = 200;
  Serving srv(opts);
  Socket s(srv.port);
  REQUIRE(s.write("GET /slow HTTP/1.1\r\nHost: h\r\n"));
  // One header byte every 20 ms keeps the connection busy but never finishes the request. The
  // server must close it anyway: at most 5 s (250 rounds) of trickling.
  bool closed = false;
  for (int i = 0; i < 250 && !closed; ++i) {
    closed = !s.write("x") || s.closed_within(std::chrono::milliseconds(20));
  }
  CHECK(closed);
}

TEST_CASE("http server: listen resolves a name, errors name the server and the address") {
  ebb::UvLoop loop;
  HttpServer::Options opts;
  opts.name = "metrics";
  HttpServer named(loop.get(), opts, echo);
  REQUIRE(named.listen(ebb::HostPort{"localhost", 0}).ok());  // resolved once, here
  CHECK(named.port() != 0);
  HttpServer a(loop.get(), opts, echo);
  REQUIRE(a.listen(ebb::HostPort{"127.0.0.1", 0}).ok());
  HttpServer b(loop.get(), opts, echo);
  auto r = b.listen(ebb::HostPort{"127.0.0.1", a.port()});
  REQUIRE(!r.ok());
  CHECK(r.error() == "metrics listen 127.0.0.1:" + std::to_string(a.port()) + ": address already in use");
}
