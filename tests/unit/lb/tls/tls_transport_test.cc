#include <catch2/catch.hpp>

#include <chrono>

#include "common/uv.h"
#include "lb/tls/tls_transport.h"
#include "test_client.h"
#include "test_pki.h"
#include "tls_config.h"

using namespace ebb::lb;
using namespace ebb::lb::tls;
using namespace ebb::lb::tls::test;
using namespace std::chrono_literals;

namespace {

// What the fake ciphertext transport saw; outlives it (TlsTransport closes it).
struct Wire {
  TransportHandler* handler = nullptr;
  Transport* self = nullptr;
  std::string written;
  bool reading = false;
  bool shut = false;
  bool closed = false;
};

// Stands in for RawTcpTransport: the test plays libuv by calling wire->handler directly.
class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(std::shared_ptr<Wire> w) : w_(std::move(w)) { w_->self = this; }
  void set_handler(TransportHandler* h) override { w_->handler = h; }
  void start_reading() override { w_->reading = true; }
  void stop_reading() override { w_->reading = false; }
  bool reading() const override { return w_->reading; }
  bool write(std::string_view d) override { return write2(d, {}); }
  bool write2(std::string_view a, std::string_view b) override {
    if (w_->closed || w_->shut) return false;
    w_->written.append(a);
    w_->written.append(b);
    return true;
  }
  size_t pending_write_bytes() const override { return 0; }
  void shutdown_write() override { w_->shut = true; }
  bool write_shut() const override { return w_->shut; }
  void close() override {
    w_->closed = true;
    w_->handler = nullptr;
    w_->self = nullptr;
    delete this;
  }
  bool peer_address(sockaddr_storage&) const override { return false; }
  bool secure() const override { return false; }

 private:
  std::shared_ptr<Wire> w_;
};

struct Owner : TransportHandler {
  std::string data;
  int eofs = 0;
  int errors = 0;
  int last_error = 0;
  int progress = 0;
  bool stop_after_first_read = false;
  void on_read(Transport& t, const char* d, size_t n) override {
    data.append(d, n);
    if (stop_after_first_read) t.stop_reading();
  }
  void on_eof(Transport&) override { ++eofs; }
  void on_error(Transport&, int err) override {
    ++errors;
    last_error = err;
  }
  void on_write_progress(Transport&) override { ++progress; }
};

struct Fixture {
  ebb::UvLoop loop;
  std::shared_ptr<Wire> wire = std::make_shared<Wire>();
  std::shared_ptr<TlsContext> ctx;
  TransportPtr t;
  Owner owner;

  explicit Fixture(std::chrono::milliseconds timeout = 5s) {
    auto c = TlsContext::load(tls_config(test_pki().ecdsa_site), std::make_shared<TicketKeyStore>());
    REQUIRE(c.ok());
    ctx = *c;
    t = TlsTransport::wrap(loop.get(), TransportPtr(new FakeTransport(wire)), ctx, timeout);
    t->set_handler(&owner);
    t->start_reading();
  }
  // Client bytes arrive on the socket.
  void client_sends(TestClient& c) {
    std::string bytes = c.take_output();
    if (!bytes.empty() && wire->handler) wire->handler->on_read(*wire->self, bytes.data(), bytes.size());
  }
  void server_sends(TestClient& c) {
    c.give_input(wire->written);
    wire->written.clear();
  }
  bool handshake(TestClient& c, std::string* client_got = nullptr) {
    for (int i = 0; i < 20 && !c.done() && !c.failed(); ++i) {
      c.step_handshake();
      client_sends(c);
      server_sends(c);
    }
    c.step_handshake();
    std::string got;
    c.read_available(got);
    if (client_got) *client_got += got;
    return c.done();
  }
  void run_loop_turns(int n) {
    for (int i = 0; i < n; ++i) uv_run(loop.get(), UV_RUN_NOWAIT);
  }
  template <typename Pred>
  bool run_until(Pred p, std::chrono::milliseconds limit = 3s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!p() && std::chrono::steady_clock::now() < deadline) uv_run(loop.get(), UV_RUN_ONCE);
    return p();
  }
};

}  // namespace

TEST_CASE("tls_transport: handshake, both directions, counters", "[tls][transport]") {
  Fixture f;
  CHECK(f.t->secure());
  CHECK(f.wire->reading);  // reads for the handshake at once
  // Written before the handshake finishes: held, counted as pending, sent after it.
  REQUIRE(f.t->write("early "));
  CHECK(f.t->pending_write_bytes() == 6);
  TestClient c(ClientOptions{});
  std::string got;
  REQUIRE(f.handshake(c, &got));
  CHECK(f.ctx->counters().ok.load() == 1);
  REQUIRE(c.write("hello", 5));
  f.client_sends(c);
  CHECK(f.owner.data == "hello");
  REQUIRE(f.t->write2("wor", "ld"));
  f.server_sends(c);
  REQUIRE(c.read_available(got));
  CHECK(got == "early world");
  CHECK(f.t->pending_write_bytes() == 0);

  // close_notify from the client: data first, then on_eof.
  REQUIRE(c.write("bye", 3));
  SSL_shutdown(c.ssl());
  f.client_sends(c);
  CHECK(f.owner.data == "hellobye");
  CHECK(f.owner.eofs == 1);
  // Our side closes too: close_notify, then FIN on the inner transport.
  f.t->shutdown_write();
  CHECK(f.wire->shut);
  CHECK_FALSE(f.t->write("x"));
  f.server_sends(c);
  REQUIRE(c.read_available(got));
  CHECK(c.peer_closed());
  f.t.reset();
  CHECK(f.wire->closed);
}

TEST_CASE("tls_transport: plain HTTP fails the handshake and answers nothing", "[tls][transport]") {
  Fixture f;
  const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  f.wire->handler->on_read(*f.wire->self, req, sizeof req - 1);
  CHECK(f.owner.errors == 1);
  CHECK(f.owner.last_error == UV_EPROTO);
  CHECK(f.wire->written.empty());
  CHECK(f.ctx->counters().failed.load() == 1);
  CHECK(f.ctx->counters().plain_http.load() == 1);
  CHECK(f.ctx->counters().ok.load() == 0);
}

TEST_CASE("tls_transport: a stalled handshake times out", "[tls][transport]") {
  Fixture f(30ms);
  TestClient c(ClientOptions{});
  c.step_handshake();
  std::string hello = c.take_output();
  // Only half of the ClientHello ever arrives.
  f.wire->handler->on_read(*f.wire->self, hello.data(), hello.size() / 2);
  REQUIRE(f.run_until([&] { return f.owner.errors > 0; }));
  CHECK(f.owner.last_error == UV_ETIMEDOUT);
  CHECK(f.ctx->counters().timeout.load() == 1);
  CHECK(f.ctx->counters().failed.load() == 0);
}

TEST_CASE("tls_transport: the client leaving mid-handshake is an EOF, counted as closed", "[tls][transport]") {
  Fixture f;
  f.wire->handler->on_eof(*f.wire->self);
  CHECK(f.owner.eofs == 1);
  CHECK(f.owner.errors == 0);
  CHECK(f.ctx->counters().closed.load() == 1);
}

TEST_CASE("tls_transport: stop_reading holds decrypted data until start_reading, delivered later",
          "[tls][transport]") {
  Fixture f;
  TestClient c(ClientOptions{});
  REQUIRE(f.handshake(c));
  f.owner.stop_after_first_read = true;
  REQUIRE(c.write("one", 3));
  f.client_sends(c);
  CHECK(f.owner.data == "one");
  CHECK_FALSE(f.t->reading());
  CHECK_FALSE(f.wire->reading);  // backpressure reaches the socket
  REQUIRE(c.write("two", 3));
  f.client_sends(c);              // already in flight when reading stopped
  CHECK(f.owner.data == "one");   // held
  f.owner.stop_after_first_read = false;
  f.t->start_reading();
  CHECK(f.owner.data == "one");   // never delivered re-entrantly from start_reading
  CHECK(f.wire->reading);
  f.run_loop_turns(3);
  CHECK(f.owner.data == "onetwo");
}

TEST_CASE("tls_transport: EOF without close_notify after data is delivered after the data", "[tls][transport]") {
  Fixture f;
  TestClient c(ClientOptions{});
  REQUIRE(f.handshake(c));
  REQUIRE(c.write("last words", 10));
  f.client_sends(c);
  f.wire->handler->on_eof(*f.wire->self);
  CHECK(f.owner.data == "last words");
  CHECK(f.owner.eofs == 1);
}

TEST_CASE("tls_transport: closing mid-handshake counts once and frees everything", "[tls][transport]") {
  Fixture f;
  TestClient c(ClientOptions{});
  c.step_handshake();
  f.client_sends(c);
  f.t.reset();
  CHECK(f.wire->closed);
  CHECK(f.ctx->counters().closed.load() == 1);
  f.run_loop_turns(2);  // the transport's memory goes in its timer's close callback
}

TEST_CASE("tls_transport: two-piece and large writes arrive intact", "[tls][transport]") {
  Fixture f;
  TestClient c(ClientOptions{});
  REQUIRE(f.handshake(c));
  std::string big(300 * 1024 + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  REQUIRE(f.t->write2("HTTP/1.1 200 OK\r\n\r\n", "tiny body"));   // merged into one record
  REQUIRE(f.t->write2(std::string_view(big).substr(0, 1000), std::string_view(big).substr(1000)));
  REQUIRE(f.t->write(big));
  std::string got;
  for (int i = 0; i < 100 && got.size() < 28 + 2 * big.size(); ++i) {
    f.server_sends(c);
    REQUIRE(c.read_available(got));
  }
  CHECK(got == "HTTP/1.1 200 OK\r\n\r\ntiny body" + big + big);
}
