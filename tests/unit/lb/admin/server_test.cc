// The admin HTTP/1.1 server over real loopback sockets: keep-alive, pipelining, limits,
// malformed input, HEAD, idle timeout, connection cap. The server runs on its own loop thread;
// the test talks to it with blocking sockets (with receive timeouts, so nothing hangs).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>

#include "common/uv.h"
#include "fake_control_api.h"
#include "lb/admin/server.h"

using ebb::lb::admin::AdminServer;
using ebb::lb::admin::AdminServerOptions;

namespace {

class Running {
 public:
  explicit Running(AdminServerOptions opts = {}) {
    server_ = std::make_unique<AdminServer>(loop_.get(), api, opts);
    auto r = server_->listen(ebb::HostPort{"127.0.0.1", 0});
    REQUIRE(r.ok());
    port = server_->port();
    uv_async_init(loop_.get(), &stop_, [](uv_async_t* a) {
      auto* self = static_cast<Running*>(a->data);
      self->server_.reset();
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
    });
    stop_.data = this;
    thread_ = std::thread([this] { uv_run(loop_.get(), UV_RUN_DEFAULT); });
  }
  ~Running() {
    uv_async_send(&stop_);
    thread_.join();
  }
  ebb::test::FakeControlApi api;
  int port = 0;

 private:
  ebb::UvLoop loop_;
  std::unique_ptr<AdminServer> server_;
  uv_async_t stop_;
  std::thread thread_;
};

struct Client {
  int fd = -1;
  explicit Client(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~Client() { ::close(fd); }
  void send(const std::string& s) { REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size())); }
  // Reads until `n` complete responses (by Content-Length) are in, or EOF/timeout.
  std::string read_responses(int n) {
    std::string in;
    char buf[8192];
    for (int guard = 0; guard < 1000 && complete(in) < n; ++guard) {
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r <= 0) break;
      in.append(buf, static_cast<size_t>(r));
    }
    return in;
  }
  // True when the server closed the connection (EOF) within the receive timeout.
  bool closed_by_server() {
    char c;
    ssize_t r = ::recv(fd, &c, 1, 0);
    return r == 0 || (r < 0 && errno == ECONNRESET);
  }
  static int complete(const std::string& in) {
    int count = 0;
    size_t pos = 0;
    while (true) {
      size_t end = in.find("\r\n\r\n", pos);
      if (end == std::string::npos) return count;
      size_t cl = in.find("Content-Length: ", pos);
      if (cl == std::string::npos || cl > end) return count;
      size_t len = std::stoul(in.substr(cl + 16));
      if (in.size() < end + 4 + len) return count;
      pos = end + 4 + len;
      ++count;
    }
  }
};

int status_of(const std::string& resp, size_t from = 0) {
  if (resp.size() < from + 12) return 0;
  return std::stoi(resp.substr(from + 9, 3));
}
}  // namespace

TEST_CASE("admin server: keep-alive and pipelining") {
  Running srv;
  Client c(srv.port);
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.read_responses(1);
  CHECK(status_of(r) == 200);
  CHECK(r.find("\r\n\r\nok") != std::string::npos);
  CHECK(r.find("Connection: close") == std::string::npos);
  c.send("GET /api/v1/pools/app HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
  r = c.read_responses(2);
  CHECK(status_of(r) == 200);
  const size_t second = r.find("HTTP/1.1 ", 1);
  REQUIRE(second != std::string::npos);
  CHECK(status_of(r, second) == 404);
  CHECK(r.find("{\"error\":\"no such route: /nope\"}") != std::string::npos);
}

TEST_CASE("admin server: POST with a body, HEAD without one") {
  Running srv;
  Client c(srv.port);
  const std::string body = R"({"address":"127.0.0.1:9005","weight":2})";
  c.send("POST /api/v1/pools/app/backends HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  std::string r = c.read_responses(1);
  CHECK(status_of(r) == 201);
  c.send("POST /api/v1/pools/app/backends HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
         [&] { char h[16]; std::snprintf(h, sizeof h, "%zx", body.size()); return std::string(h); }() +
         "\r\n" + body + "\r\n0\r\n\r\n");
  r = c.read_responses(1);
  CHECK(status_of(r) == 200);  // already present
  c.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  r = c.read_responses(1);
  // HEAD: headers only, with the GET's Content-Length; then the next response follows directly.
  CHECK(status_of(r) == 200);
  size_t next = r.find("\r\n\r\n") + 4;
  std::string rest = r.substr(next);
  if (rest.empty()) rest = c.read_responses(1);
  CHECK(rest.rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("admin server: Connection: close and HTTP/1.0 close after the response") {
  Running srv;
  {
    Client c(srv.port);
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string r = c.read_responses(1);
    CHECK(status_of(r) == 200);
    CHECK(r.find("Connection: close") != std::string::npos);
    CHECK(c.closed_by_server());
  }
  {
    Client c(srv.port);
    c.send("GET /healthz HTTP/1.0\r\n\r\n");
    CHECK(status_of(c.read_responses(1)) == 200);
    CHECK(c.closed_by_server());
  }
}

TEST_CASE("admin server: malformed and oversized requests get 4xx and a close") {
  AdminServerOptions opts;
  opts.max_body_bytes = 1024;
  opts.max_head_bytes = 2048;
  Running srv(opts);
  {
    Client c(srv.port);
    const char garbage[] = "\x16\x03\x01\x00\xff garbage\r\n\r\n";
    c.send(std::string(garbage, sizeof garbage - 1));
    std::string r = c.read_responses(1);
    CHECK(status_of(r) == 400);
    CHECK(r.find("malformed request") != std::string::npos);
    CHECK(c.closed_by_server());
  }
  {
    Client c(srv.port);
    c.send("POST /api/v1/pools/app/backends HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    std::string r = c.read_responses(1);
    CHECK(status_of(r) == 413);
    CHECK(c.closed_by_server());
  }
  {
    Client c(srv.port);
    c.send("POST /api/v1/pools/app/backends HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           "800\r\n" + std::string(0x800, 'x') + "\r\n0\r\n\r\n");
    CHECK(status_of(c.read_responses(1)) == 413);
  }
  {
    Client c(srv.port);
    c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
    std::string r = c.read_responses(1);
    CHECK(status_of(r) == 431);
    CHECK(c.closed_by_server());
  }
  {
    Client c(srv.port);
    c.send("GET /" + std::string(4096, 'a') + " HTTP/1.1\r\n\r\n");
    CHECK(status_of(c.read_responses(1)) == 431);
  }
  {
    Client c(srv.port);
    c.send("GET /healthz HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
    CHECK(status_of(c.read_responses(1)) == 400);
  }
  // Still serving.
  Client c(srv.port);
  c.send("GET /healthz HTTP/1.1\r\n\r\n");
  CHECK(status_of(c.read_responses(1)) == 200);
}

TEST_CASE("admin server: bearer auth over the wire") {
  AdminServerOptions opts;
  opts.token = "tok";
  Running srv(opts);
  Client c(srv.port);
  c.send("POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  std::string r = c.read_responses(1);
  CHECK(status_of(r) == 401);
  CHECK(r.find("WWW-Authenticate: Bearer") != std::string::npos);
  c.send("POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\nContent-Length: 0\r\n\r\n");
  CHECK(status_of(c.read_responses(1)) == 200);
}

TEST_CASE("admin server: idle connections are closed, too many are refused") {
  AdminServerOptions opts;
  opts.idle_timeout_ms = 150;
  opts.max_connections = 2;
  Running srv(opts);
  {
    Client idle(srv.port);
    CHECK(idle.closed_by_server());  // within the 5 s receive timeout
  }
  Client a(srv.port), b(srv.port);
  a.send("GET /healthz HTTP/1.1\r\n\r\n");
  CHECK(status_of(a.read_responses(1)) == 200);
  b.send("GET /healthz HTTP/1.1\r\n\r\n");
  CHECK(status_of(b.read_responses(1)) == 200);
  Client extra(srv.port);
  CHECK(extra.closed_by_server());
}

TEST_CASE("admin server: random bytes never crash it") {
  Running srv;
  uint64_t x = 0x9e3779b97f4a7c15ull;  // fixed seed: reproducible
  auto next = [&x] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  const std::string prefixes[] = {"", "GET / HTTP/1.1\r\n", "POST /api/v1/pools/app/backends HTTP/1.1\r\n",
                                  "PUT /api/v1/pools/app/backends/a:1 HTTP/1.1\r\nContent-Length: 5\r\n\r\n"};
  for (int i = 0; i < 60; ++i) {
    Client c(srv.port);
    std::string junk = prefixes[i % 4];
    const size_t n = next() % 600;
    for (size_t k = 0; k < n; ++k) junk.push_back(static_cast<char>(next() & 0xff));
    junk += "\r\n\r\n";
    ::send(c.fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::shutdown(c.fd, SHUT_WR);
    c.read_responses(1);  // whatever it answers (or not), it must go on serving
  }
  Client c(srv.port);
  c.send("GET /healthz HTTP/1.1\r\n\r\n");
  CHECK(status_of(c.read_responses(1)) == 200);
}
