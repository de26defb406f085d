// The HTTP session state machine driven without sockets: fake transports for the client and a
// pooled (reused) upstream connection, a hand-built snapshot, a worker whose loop never runs.
#include "lb/conn/http_session.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "fake_transport.h"
#include "lb/conn/upstream_pool.h"
#include "lb/resolve.h"
#include "lb/worker.h"

using namespace ebb;
using namespace ebb::lb;
using ebb::lb::test::FakeTransport;

namespace {

constexpr const char* kBackend = "127.0.0.1:9";

std::shared_ptr<Snapshot> make_snapshot(bool with_backend) {
  auto snap = std::make_shared<Snapshot>();
  snap->generation = 1;
  PoolSnapshot pool;
  pool.settings.name = "app";
  pool.index = 0;
  if (with_backend) {
    Backend b;
    b.address = kBackend;
    b.host_port = HostPort{"127.0.0.1", 9};
    auto addr = resolve_address(b.host_port, false);
    REQUIRE(addr.ok());
    b.sockaddr = addr->storage;
    b.sockaddr_len = addr->len;
    b.state = BackendState::healthy;
    b.live = std::make_shared<BackendLive>();
    pool.backends.push_back(b);
  }
  pool.selector = build_selector(pool.settings, pool.backends, 0);
  snap->pools.push_back(std::move(pool));
  ListenerSnapshot l;
  l.settings.name = "web";
  l.settings.listen = HostPort{"127.0.0.1", 8080};
  l.settings.pool = "app";
  l.key = l.settings.listen.str();
  l.default_pool = 0;
  l.router = std::make_shared<const http::Router>(l.settings);
  snap->listeners.push_back(std::move(l));
  return snap;
}

// Declared before the worker: the worker's sessions close these fakes when destroyed.
struct Fixture {
  FakeTransport client;
  FakeTransport upstream;
  WorkerShared shared;
  Worker worker{0, shared};
  std::shared_ptr<Snapshot> snap;
  HttpSession* session = nullptr;

  explicit Fixture(bool with_backend = true) : snap(make_snapshot(with_backend)) {
    worker.apply_snapshot(snap, {});
    if (with_backend) worker.upstreams().put(kBackend, TransportPtr(&upstream), 60000);
    session = static_cast<HttpSession*>(
        worker.adopt(std::make_unique<HttpSession>(worker, snap, snap->listeners[0], TransportPtr(&client))));
  }
  const BackendLive& live() const { return *snap->pools[0].backends[0].live; }
};

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

}  // namespace

TEST_CASE("a request goes up rewritten over the pooled connection, the response comes down", "[http_session]") {
  Fixture f;
  REQUIRE(f.session->state() == HttpSession::State::reading_head);
  f.client.receive("GET /x?y=1 HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n");
  CHECK(f.session->state() == HttpSession::State::proxying);
  CHECK(f.upstream.handler == f.session);
  CHECK(f.worker.upstreams().idle_count() == 0);
  CHECK(starts_with(f.upstream.written, "GET /x?y=1 HTTP/1.1\r\n"));
  CHECK(f.upstream.written.find("X-Forwarded-Proto: http\r\n") != std::string::npos);
  CHECK(f.upstream.written.find("X-Forwarded-Port: 8080\r\n") != std::string::npos);
  CHECK(f.live().active == 1);

  f.upstream.receive("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  CHECK(starts_with(f.client.written, "HTTP/1.1 200 OK\r\n"));
  CHECK(f.client.written.substr(f.client.written.size() - 2) == "ok");
  CHECK(f.session->state() == HttpSession::State::reading_head);
  CHECK(f.worker.upstreams().idle_count() == 1);  // reusable: back in the pool
  CHECK(f.live().active == 0);
  CHECK_FALSE(f.client.shut);
}

TEST_CASE("pipelined requests: the second goes up only after the first response", "[http_session]") {
  Fixture f;
  f.client.receive("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(f.upstream.written.find("GET /1 ") != std::string::npos);
  CHECK(f.upstream.written.find("GET /2 ") == std::string::npos);
  f.upstream.receive("HTTP/1.1 204 No Content\r\n\r\n");
  CHECK(f.upstream.written.find("GET /2 ") != std::string::npos);  // same pooled connection
  CHECK(f.session->state() == HttpSession::State::proxying);
  f.upstream.receive("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz");
  size_t first = f.client.written.find("204 No Content");
  size_t second = f.client.written.find("200 OK");
  CHECK(first != std::string::npos);
  CHECK(second != std::string::npos);
  CHECK(first < second);
}

TEST_CASE("request body streams up chunked-in, chunked-out, response body chunked", "[http_session]") {
  Fixture f;
  f.client.receive("POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  CHECK(f.upstream.written.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(f.upstream.written.find("5\r\nhello\r\n") != std::string::npos);
  f.client.receive("0\r\n\r\n");
  CHECK(f.upstream.written.substr(f.upstream.written.size() - 5) == "0\r\n\r\n");
  f.upstream.receive("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  CHECK(f.client.written.find("3\r\nabc\r\n0\r\n\r\n") != std::string::npos);
  CHECK(f.session->state() == HttpSession::State::reading_head);
}

TEST_CASE("interim 100 Continue is relayed before the final response", "[http_session]") {
  Fixture f;
  f.client.receive("POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n");
  CHECK(f.upstream.written.find("Expect: 100-continue") != std::string::npos);
  f.upstream.receive("HTTP/1.1 100 Continue\r\n\r\n");
  CHECK(starts_with(f.client.written, "HTTP/1.1 100 Continue\r\n"));
  f.client.receive("hi");
  CHECK(f.upstream.written.substr(f.upstream.written.size() - 2) == "hi");
  f.upstream.receive("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  CHECK(f.client.written.find("201 Created") != std::string::npos);
}

TEST_CASE("a smuggling request is answered 400, closes, and nothing goes upstream", "[http_session]") {
  Fixture f;
  f.client.receive("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  CHECK(starts_with(f.client.written, "HTTP/1.1 400 "));
  CHECK(f.client.written.find("Connection: close") != std::string::npos);
  CHECK(f.client.shut);
  CHECK(f.session->state() == HttpSession::State::closing);
  CHECK(f.upstream.written.empty());
  f.client.eof();  // the client closes too
  CHECK(f.session->state() == HttpSession::State::closed);
}

TEST_CASE("no eligible backend answers 503", "[http_session]") {
  Fixture f(false);
  f.client.receive("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(starts_with(f.client.written, "HTTP/1.1 503 "));
  CHECK(f.session->state() == HttpSession::State::closing);
}

TEST_CASE("an invalid response is a 502, the upstream connection is not reused", "[http_session]") {
  Fixture f;
  f.client.receive("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  f.upstream.receive("SPDY/9 what\r\n\r\n");
  CHECK(starts_with(f.client.written, "HTTP/1.1 502 "));
  CHECK(f.upstream.closed);
  CHECK(f.worker.upstreams().idle_count() == 0);
  CHECK(f.live().active == 0);
}

TEST_CASE("an upstream cut mid-body closes the client without a second response", "[http_session]") {
  Fixture f;
  f.client.receive("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  f.upstream.receive("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  f.upstream.eof();
  CHECK(f.session->state() == HttpSession::State::closed);
  CHECK(f.client.closed);
  CHECK(f.client.written.find("502") == std::string::npos);
}

TEST_CASE("backpressure: a slow client stops reading the upstream, resumes at the low mark", "[http_session]") {
  Fixture f;
  f.client.hold_writes = true;
  f.client.receive("GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
  f.upstream.receive("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
  std::string chunk(100000, 'x');
  for (int i = 0; i < 3; ++i) f.upstream.receive(chunk);
  CHECK(f.client.pending > Watermarks{}.high);
  CHECK_FALSE(f.upstream.is_reading);
  f.client.flushed(f.client.pending - Watermarks{}.low);
  CHECK(f.upstream.is_reading);
}

TEST_CASE("graceful shutdown closes an idle keep-alive connection at once", "[http_session]") {
  Fixture f;
  f.session->begin_shutdown();
  CHECK(f.session->state() == HttpSession::State::closed);
  CHECK(f.client.closed);
}

TEST_CASE("graceful shutdown lets the request in flight finish, then closes", "[http_session]") {
  Fixture f;
  f.client.receive("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  f.session->begin_shutdown();
  CHECK(f.session->state() == HttpSession::State::proxying);
  f.upstream.receive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  CHECK(f.client.written.find("Connection: close") != std::string::npos);
  CHECK(f.client.shut);
}
