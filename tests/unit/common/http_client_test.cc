// HttpClient against a real ebb-testbackend child process on a free loopback port.
#include "common/http_client.h"

#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/uv.h"

extern char** environ;

namespace {

using ebb::HostPort;
using ebb::HttpClient;
using ebb::HttpRequest;
using ebb::HttpResponse;
using ebb::Result;

// A loopback port that was free a moment ago (bind to 0, read it back, release it).
uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool port_accepts(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

// ebb-testbackend as a child process; stopped with SIGTERM (then SIGKILL) on destruction.
class Backend {
 public:
  explicit Backend(std::vector<std::string> extra = {}, uint16_t port = 0, std::string name = "tb")
      : port_(port ? port : free_port()) {
    std::vector<std::string> args = {EBB_TESTBACKEND, "--listen", "127.0.0.1:" + std::to_string(port_),
                                     "--name", name};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) == 0);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!port_accepts(port_)) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a child's start-up
    }
  }
  ~Backend() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 500; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  HostPort address() const { return HostPort{"127.0.0.1", port_}; }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_;
  pid_t pid_ = 0;
};

struct Outcome {
  std::optional<Result<HttpResponse>> result;
  int calls = 0;
};

// Issues one request and runs the loop until its callback ran. Termination is bounded by the
// request's own timeout (the client's total timer); the iteration cap guards against a bug.
Outcome run(uv_loop_t* loop, HttpClient& client, HttpRequest req) {
  Outcome out;
  client.request(std::move(req), [&out](Result<HttpResponse> r) {
    ++out.calls;
    out.result.emplace(std::move(r));
  });
  REQUIRE(out.calls == 0);  // never called from inside request()
  for (int i = 0; i < 1'000'000 && !out.result; ++i) uv_run(loop, UV_RUN_ONCE);
  REQUIRE(out.result.has_value());
  return out;
}

HttpRequest get(HostPort target, std::string path) {
  HttpRequest r;
  r.target = std::move(target);
  r.path = std::move(path);
  r.timeout = std::chrono::seconds(10);
  return r;
}

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    char b[3];
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  return hex;
}

std::string pattern(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}

// Runs the loop for a few more turns so that a second callback, if the client had a bug, would
// have a chance to arrive.
void drain(uv_loop_t* loop) {
  for (int i = 0; i < 20; ++i) uv_run(loop, UV_RUN_NOWAIT);
}

}  // namespace

TEST_CASE("http client: GET 200 with headers and body") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  auto out = run(loop.get(), client, get(backend.address(), "/"));
  REQUIRE(out.result->ok());
  const HttpResponse& r = out.result->value();
  CHECK(r.status == 200);
  REQUIRE(r.header("x-backend"));
  CHECK(*r.header("X-Backend") == "tb");
  CHECK(r.body == "backend tb\n");
  drain(loop.get());
  CHECK(out.calls == 1);
}

TEST_CASE("http client: POST a body to /echo, the server's sha256 matches") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  std::string body;
  for (int i = 0; i < 300000; ++i) body.push_back(static_cast<char>(i * 7 + i / 13));
  HttpRequest req = get(backend.address(), "/echo?x=1");
  req.method = "POST";
  req.body = body;
  req.headers = {{"X-Test", "value"}, {"Content-Type", "application/octet-stream"}};
  auto out = run(loop.get(), client, req);
  REQUIRE(out.result->ok());
  REQUIRE(out.result->value().status == 200);
  auto j = nlohmann::json::parse(out.result->value().body);
  CHECK(j["method"] == "POST");
  CHECK(j["path"] == "/echo?x=1");
  CHECK(j["body_length"] == body.size());
  CHECK(j["body_sha256"] == sha256_hex(body));
  CHECK(j["headers"].dump().find(R"(["X-Test","value"])") != std::string::npos);
  CHECK(j["headers"].dump().find("[\"Host\",\"" + backend.address().str() + "\"]") != std::string::npos);
}

TEST_CASE("http client: a 503 is a response, not an error") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  auto out = run(loop.get(), client, get(backend.address(), "/status/503"));
  REQUIRE(out.result->ok());
  CHECK(out.result->value().status == 503);
  CHECK(out.result->value().body == "status 503\n");
}

TEST_CASE("http client: a response slower than the timeout is a timeout error, reported once") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  HttpRequest req = get(backend.address(), "/delay?ms=3000");
  req.timeout = std::chrono::milliseconds(200);
  auto out = run(loop.get(), client, req);
  REQUIRE_FALSE(out.result->ok());
  CHECK_THAT(out.result->error(), Catch::Contains("timed out after 200ms"));
  CHECK_THAT(out.result->error(), Catch::Contains("GET 127.0.0.1:"));
  drain(loop.get());
  CHECK(out.calls == 1);
  CHECK(client.in_flight() == 0);
}

TEST_CASE("http client: connection refused is an error") {
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  auto out = run(loop.get(), client, get(HostPort{"127.0.0.1", free_port()}, "/"));
  REQUIRE_FALSE(out.result->ok());
  CHECK_THAT(out.result->error(), Catch::Contains("connection refused"));
  drain(loop.get());
  CHECK(out.calls == 1);
}

TEST_CASE("http client: chunked response bodies are decoded") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  auto out = run(loop.get(), client, get(backend.address(), "/stream?chunks=5&interval_ms=10&size=100"));
  REQUIRE(out.result->ok());
  CHECK(out.result->value().status == 200);
  REQUIRE(out.result->value().header("Transfer-Encoding"));
  CHECK(out.result->value().body == pattern(500));
}

TEST_CASE("http client: bodies delimited by the connection close, and chunked ones") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  auto out = run(loop.get(), client, get(backend.address(), "/bytes?n=300000&framing=close"));
  REQUIRE(out.result->ok());
  CHECK_FALSE(out.result->value().header("Content-Length"));
  CHECK(out.result->value().body == pattern(300000));
  CHECK(client.idle_connections() == 0);  // it ended with the connection

  out = run(loop.get(), client, get(backend.address(), "/bytes?n=700000&framing=chunked"));
  REQUIRE(out.result->ok());
  CHECK(out.result->value().body == pattern(700000));
  CHECK(client.idle_connections() == 1);
}

TEST_CASE("http client: a reset connection is an error") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  auto out = run(loop.get(), client, get(backend.address(), "/reset"));
  REQUIRE_FALSE(out.result->ok());
  CHECK_THAT(out.result->error(), Catch::Contains("/reset"));
  drain(loop.get());
  CHECK(out.calls == 1);
}

TEST_CASE("http client: bodies past max_body and heads past 64 KiB are errors") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  for (const char* path : {"/bytes?n=2000000", "/bytes?n=2000000&framing=chunked", "/bytes?n=2000000000"}) {
    HttpRequest req = get(backend.address(), path);
    req.max_body = 1 << 20;
    auto out = run(loop.get(), client, req);
    REQUIRE_FALSE(out.result->ok());
    CHECK_THAT(out.result->error(), Catch::Contains("exceeds 1048576 bytes"));
  }

  auto big_head = run(loop.get(), client, get(backend.address(), "/headers?count=100&size=1000"));
  REQUIRE_FALSE(big_head.result->ok());
  CHECK_THAT(big_head.result->error(), Catch::Contains("response head exceeds 65536 bytes"));
  auto fine_head = run(loop.get(), client, get(backend.address(), "/headers?count=50&size=1000"));
  REQUIRE(fine_head.result->ok());
  CHECK(fine_head.result->value().headers.size() > 50);

  auto ok = run(loop.get(), client, get(backend.address(), "/bytes?n=1048576"));
  REQUIRE(ok.result->ok());
  CHECK(ok.result->value().body == pattern(1048576));
}

TEST_CASE("http client: keep-alive reuses one connection, Connection: close is honoured") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  for (int i = 0; i < 3; ++i) {
    auto out = run(loop.get(), client, get(backend.address(), "/healthz"));
    REQUIRE(out.result->ok());
    CHECK(out.result->value().body == "ok");
    CHECK(client.idle_connections() == 1);
    CHECK(uv_run(loop.get(), UV_RUN_NOWAIT) == 0);  // idle connections do not hold the loop
  }
  auto closing = run(loop.get(), client, get(backend.address(), "/close"));
  REQUIRE(closing.result->ok());
  CHECK(client.idle_connections() == 0);

  HttpClient no_reuse(loop.get(), HttpClient::Options{.keep_alive = false});
  auto out = run(loop.get(), no_reuse, get(backend.address(), "/"));
  REQUIRE(out.result->ok());
  CHECK(no_reuse.idle_connections() == 0);
}

TEST_CASE("http client: a kept-alive connection the server dropped is retried on a new one") {
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  uint16_t port;
  {
    Backend first({}, 0, "first");
    port = first.port();
    auto out = run(loop.get(), client, get(first.address(), "/"));
    REQUIRE(out.result->ok());
    REQUIRE(client.idle_connections() == 1);
  }  // the backend exits; the loop has not run since, so the dead connection is still idle
  Backend second({}, port, "second");
  auto out = run(loop.get(), client, get(HostPort{"127.0.0.1", port}, "/"));
  REQUIRE(out.result->ok());
  CHECK(out.result->value().body == "backend second\n");

  // A POST is not retried: the failure is reported.
  HttpClient post_client(loop.get());
  {
    Backend third({}, 0, "third");
    port = third.port();
    REQUIRE(run(loop.get(), post_client, get(third.address(), "/")).result->ok());
  }
  Backend fourth({}, port, "fourth");
  HttpRequest post = get(HostPort{"127.0.0.1", port}, "/echo");
  post.method = "POST";
  post.body = "x";
  auto failed = run(loop.get(), post_client, post);
  CHECK_FALSE(failed.result->ok());
}

TEST_CASE("http client: idle connections the server closes leave the pool") {
  Backend backend({"--idle-timeout", "100"});
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  REQUIRE(run(loop.get(), client, get(backend.address(), "/")).result->ok());
  REQUIRE(client.idle_connections() == 1);
  // A repeating timer bounds each loop turn, the deadline bounds the wait.
  ebb::UvHandle<uv_timer_t> tick;
  uv_timer_init(loop.get(), tick.get());
  tick.mark_initialized();
  uv_timer_start(tick.get(), [](uv_timer_t*) {}, 10, 10);
  const uint64_t deadline = uv_now(loop.get()) + 5000;
  while (client.idle_connections() > 0 && uv_now(loop.get()) < deadline) uv_run(loop.get(), UV_RUN_ONCE);
  CHECK(client.idle_connections() == 0);
  tick.reset();
  auto again = run(loop.get(), client, get(backend.address(), "/"));
  REQUIRE(again.result->ok());
}

TEST_CASE("http client: HEAD responses have no body") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  HttpRequest req = get(backend.address(), "/bytes?n=5000");
  req.method = "HEAD";
  auto out = run(loop.get(), client, req);
  REQUIRE(out.result->ok());
  CHECK(out.result->value().status == 200);
  CHECK(*out.result->value().header("Content-Length") == "5000");
  CHECK(out.result->value().body.empty());
  // The connection stays usable after a bodiless HEAD response.
  auto next = run(loop.get(), client, get(backend.address(), "/"));
  REQUIRE(next.result->ok());
  CHECK(next.result->value().body == "backend tb\n");
}

TEST_CASE("http client: an invalid response is an error") {
  Backend echo({"--tcp-echo"});  // echoes our request back: not an HTTP response
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  auto out = run(loop.get(), client, get(echo.address(), "/"));
  REQUIRE_FALSE(out.result->ok());
  CHECK_THAT(out.result->error(), Catch::Contains("bad response"));
}

TEST_CASE("http client: names are resolved asynchronously") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  auto out = run(loop.get(), client, get(HostPort{"localhost", backend.port()}, "/"));
  REQUIRE(out.result->ok());
  CHECK(out.result->value().body == "backend tb\n");

  auto bad = run(loop.get(), client, get(HostPort{"no-such-host.invalid", 80}, "/"));
  REQUIRE_FALSE(bad.result->ok());
  CHECK_THAT(bad.result->error(), Catch::Contains("cannot resolve no-such-host.invalid"));
}

TEST_CASE("http client: invalid requests fail on the next loop turn") {
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  HttpRequest req = get(HostPort{"127.0.0.1", 1}, "/a b");
  auto out = run(loop.get(), client, req);
  REQUIRE_FALSE(out.result->ok());
  CHECK_THAT(out.result->error(), Catch::Contains("invalid path"));

  req = get(HostPort{"127.0.0.1", 1}, "/");
  req.headers = {{"X-Evil", "a\r\nInjected: 1"}};
  out = run(loop.get(), client, req);
  REQUIRE_FALSE(out.result->ok());
  CHECK_THAT(out.result->error(), Catch::Contains("invalid header"));
}

TEST_CASE("http client: concurrent requests all complete") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  constexpr int kRequests = 20;
  int ok = 0, done = 0;
  for (int i = 0; i < kRequests; ++i)
    client.request(get(backend.address(), "/delay?ms=20"), [&](Result<HttpResponse> r) {
      ++done;
      if (r.ok() && r->status == 200) ++ok;
    });
  CHECK(client.in_flight() == kRequests);
  for (int i = 0; i < 1'000'000 && done < kRequests; ++i) uv_run(loop.get(), UV_RUN_ONCE);
  CHECK(done == kRequests);
  CHECK(ok == kRequests);
  CHECK(client.idle_connections() == 4);  // max_idle_per_host
}

TEST_CASE("http client: destroying the client abandons requests without calling back") {
  Backend backend;
  ebb::UvLoop loop;
  int calls = 0;
  {
    HttpClient client(loop.get());
    client.request(get(backend.address(), "/delay?ms=5000"), [&](Result<HttpResponse>) { ++calls; });
    client.request(get(HostPort{"localhost", backend.port()}, "/"), [&](Result<HttpResponse>) { ++calls; });
    uv_run(loop.get(), UV_RUN_NOWAIT);
  }
  drain(loop.get());
  CHECK(calls == 0);

  // ... and destroying it from inside a callback is allowed.
  auto owned = std::make_unique<HttpClient>(loop.get());
  bool called = false;
  owned->request(get(backend.address(), "/"), [&](Result<HttpResponse> r) {
    called = r.ok();
    owned.reset();
  });
  for (int i = 0; i < 1'000'000 && owned; ++i) uv_run(loop.get(), UV_RUN_ONCE);
  CHECK(called);
}

TEST_CASE("http client: cancel abandons a request without calling back") {
  Backend backend;
  ebb::UvLoop loop;
  HttpClient client(loop.get());
  int calls = 0;
  auto slow = client.request(get(backend.address(), "/delay?ms=5000"), [&](Result<HttpResponse>) { ++calls; });
  auto resolving = client.request(get(HostPort{"localhost", backend.port()}, "/"), [&](Result<HttpResponse>) { ++calls; });
  auto invalid = client.request(get(backend.address(), "bad path"), [&](Result<HttpResponse>) { ++calls; });
  CHECK(slow != resolving);
  CHECK(client.cancel(invalid));  // before its deferred error is delivered
  uv_run(loop.get(), UV_RUN_NOWAIT);
  CHECK(client.cancel(slow));
  CHECK(client.cancel(resolving));
  CHECK_FALSE(client.cancel(slow));
  CHECK(client.in_flight() == 0);
  drain(loop.get());
  CHECK(calls == 0);
  // The client keeps working, and a completed request can no longer be cancelled.
  HttpClient::RequestId done_id = 0;
  Outcome out;
  done_id = client.request(get(backend.address(), "/"), [&](Result<HttpResponse> r) {
    ++out.calls;
    out.result.emplace(std::move(r));
  });
  for (int i = 0; i < 1'000'000 && !out.result; ++i) uv_run(loop.get(), UV_RUN_ONCE);
  REQUIRE(out.result->ok());
  CHECK_FALSE(client.cancel(done_id));
}

TEST_CASE("parse_http_url") {
  auto u = ebb::parse_http_url("http://127.0.0.1:9901");
  REQUIRE(u.ok());
  CHECK(u->target == HostPort{"127.0.0.1", 9901});
  CHECK(u->path == "/");
  u = ebb::parse_http_url("http://lb.example:8080/api/v1/pools?x=1");
  REQUIRE(u.ok());
  CHECK(u->target == HostPort{"lb.example", 8080});
  CHECK(u->path == "/api/v1/pools?x=1");
  u = ebb::parse_http_url("[::1]:9/metrics");
  REQUIRE(u.ok());
  CHECK(u->target == HostPort{"::1", 9});
  CHECK(u->path == "/metrics");
  u = ebb::parse_http_url("http://example.com");
  REQUIRE(u.ok());
  CHECK(u->target == HostPort{"example.com", 80});
  CHECK_FALSE(ebb::parse_http_url("https://example.com").ok());
  CHECK_FALSE(ebb::parse_http_url("ftp://example.com").ok());
  CHECK_FALSE(ebb::parse_http_url("http://:80/").ok());
  CHECK_FALSE(ebb::parse_http_url("http://host:99999/").ok());
  CHECK_FALSE(ebb::parse_http_url("http://host/a b").ok());
}
