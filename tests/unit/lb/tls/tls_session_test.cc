#include <catch2/catch.hpp>

#include <cstring>
#include <random>

#include "lb/tls/tls_context.h"
#include "lb/tls/tls_session.h"
#include "test_client.h"
#include "test_pki.h"
#include "tls_config.h"

using namespace ebb::lb::tls;
using namespace ebb::lb::tls::test;
using State = TlsSession::State;
using Catch::Matchers::Contains;

namespace {

std::shared_ptr<TlsContext> make_ctx(const ebb::config::Tls& cfg, std::shared_ptr<TicketKeyStore> store = nullptr) {
  if (!store) store = std::make_shared<TicketKeyStore>();
  auto ctx = TlsContext::load(cfg, store);
  REQUIRE(ctx.ok());
  return *ctx;
}

// The usual listener: ECDSA + RSA for example.com (default), a wildcard, and an exact name.
std::shared_ptr<TlsContext> site_ctx(std::shared_ptr<TicketKeyStore> store = nullptr) {
  const auto& pki = test_pki();
  return make_ctx(tls_config(pki.ecdsa_site, {pki.rsa_site, pki.rsa_wildcard, pki.ecdsa_api}), std::move(store));
}

struct SessionPtrFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionPtrFree>;

// Full handshake on `ctx`; returns the client's resumable session (may be null).
SessionPtr handshake_for_session(const std::shared_ptr<TlsContext>& ctx, ClientOptions o) {
  TestClient c(o);
  TlsSession s(ctx);
  REQUIRE(pump_handshake(c, s));
  return SessionPtr(c.session());
}

std::string pattern(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  std::mt19937 rng(seed);
  for (auto& ch : out) ch = static_cast<char>(rng());
  return out;
}

}  // namespace

TEST_CASE("tls_session: TLS 1.3 handshake with chain verification, ALPN and data", "[tls][session]") {
  auto ctx = site_ctx();
  ClientOptions o;
  o.sni = "www.example.com";
  o.alpn = {"h2", "http/1.1"};
  TestClient c(o);
  TlsSession s(ctx);
  CHECK(s.state() == State::handshaking);
  REQUIRE(pump_handshake(c, s));
  CHECK(std::string(s.version()) == "TLSv1.3");
  CHECK(s.alpn() == "http/1.1");
  CHECK(s.server_name() == "www.example.com");
  CHECK_FALSE(s.resumed());
  // The client verified the chain to the root: the intermediate was sent.
  CHECK(SSL_get_verify_result(c.ssl()) == X509_V_OK);
  CHECK(c.peer_key_type() == "EC");

  REQUIRE(c.write("GET / HTTP/1.1\r\n\r\n", 18));
  shuttle(c, s);
  std::string got;
  server_read_all(s, got);
  CHECK(got == "GET / HTTP/1.1\r\n\r\n");
  REQUIRE(s.write_plaintext("HTTP/1.1 200 OK\r\n\r\n", 19));
  shuttle(c, s);
  std::string reply;
  REQUIRE(c.read_available(reply));
  CHECK(reply == "HTTP/1.1 200 OK\r\n\r\n");
}

TEST_CASE("tls_session: SNI picks the certificate whose SAN matches, otherwise the default", "[tls][session][sni]") {
  auto ctx = site_ctx();
  struct Case {
    std::string sni;
    std::string names;
  } cases[] = {
      {"a.example.org", "*.example.org"},
      {"API.example.net", "api.example.net"},
      {"example.com", "example.com,www.example.com"},
      {"a.b.example.org", "example.com,www.example.com"},  // wildcard covers one label only
      {"unknown.test", "example.com,www.example.com"},
      {"", "example.com,www.example.com"},  // no SNI
  };
  for (const auto& tc : cases) {
    INFO("sni=" << tc.sni);
    ClientOptions o;
    o.sni = tc.sni;
    o.verify_name = false;  // some cases get a certificate for other names, on purpose
    TestClient c(o);
    TlsSession s(ctx);
    REQUIRE(pump_handshake(c, s));
    CHECK(c.peer_names() == tc.names);
  }
}

TEST_CASE("tls_session: ECDSA is preferred, RSA-only clients get the RSA certificate", "[tls][session]") {
  auto ctx = site_ctx();
  {
    ClientOptions o;
    o.sni = "example.com";
    o.max_version = TLS1_2_VERSION;
    TestClient c(o);
    TlsSession s(ctx);
    REQUIRE(pump_handshake(c, s));
    CHECK(c.peer_key_type() == "EC");
    CHECK(std::string(s.cipher()) == "ECDHE-ECDSA-AES128-GCM-SHA256");
  }
  {
    ClientOptions o;
    o.sni = "example.com";
    o.max_version = TLS1_2_VERSION;
    o.ciphers = "ECDHE-RSA-AES256-GCM-SHA384";
    TestClient c(o);
    TlsSession s(ctx);
    REQUIRE(pump_handshake(c, s));
    CHECK(c.peer_key_type() == "RSA");
  }
  {
    ClientOptions o;
    o.sni = "example.com";
    o.sigalgs = "rsa_pss_rsae_sha256";
    TestClient c(o);
    TlsSession s(ctx);
    REQUIRE(pump_handshake(c, s));
    CHECK(std::string(s.version()) == "TLSv1.3");
    CHECK(c.peer_key_type() == "RSA");
  }
}

TEST_CASE("tls_session: weak TLS 1.2 ciphers are refused", "[tls][session]") {
  auto ctx = site_ctx();
  for (const char* weak : {"AES128-SHA", "ECDHE-RSA-AES128-SHA", "DES-CBC3-SHA:AES256-SHA256", "AES128-GCM-SHA256"}) {
    INFO(weak);
    ClientOptions o;
    o.max_version = TLS1_2_VERSION;
    o.ciphers = weak;
    o.sni = "example.com";
    TestClient c(o);
    TlsSession s(ctx);
    CHECK_FALSE(pump_handshake(c, s));
    CHECK(s.state() == State::failed);
    CHECK(s.failure() == TlsSession::Failure::handshake);
    CHECK_THAT(s.error(), Contains("no shared cipher"));
  }
}

TEST_CASE("tls_session: a TLS 1.3-only context rejects a client capped at 1.2", "[tls][session]") {
  const auto& pki = test_pki();
  auto ctx = make_ctx(tls_config(pki.ecdsa_site, {}, "1.3"));
  ClientOptions o;
  o.max_version = TLS1_2_VERSION;
  TestClient c(o);
  TlsSession s(ctx);
  CHECK_FALSE(pump_handshake(c, s));
  CHECK(s.state() == State::failed);
  CHECK(s.failure() == TlsSession::Failure::handshake);
  CHECK_THAT(s.error(), Contains("protocol"));
  CHECK(c.failed());  // it got a protocol_version alert
  CHECK_THAT(c.error(), Contains("alert protocol version"));

  ClientOptions o13;
  TestClient c13(o13);
  TlsSession s13(ctx);
  REQUIRE(pump_handshake(c13, s13));
  CHECK(std::string(s13.version()) == "TLSv1.3");
}

TEST_CASE("tls_session: ALPN negotiates http/1.1, no overlap means no ALPN", "[tls][session]") {
  auto ctx = site_ctx();
  {
    ClientOptions o;
    o.alpn = {"http/1.1"};
    TestClient c(o);
    TlsSession s(ctx);
    REQUIRE(pump_handshake(c, s));
    CHECK(s.alpn() == "http/1.1");
  }
  {
    ClientOptions o;
    o.alpn = {"h2"};
    TestClient c(o);
    TlsSession s(ctx);
    REQUIRE(pump_handshake(c, s));
    CHECK(s.alpn().empty());
  }
}

TEST_CASE("tls_session: resumption works across two workers' contexts sharing one ticket store",
          "[tls][session][tickets]") {
  auto store = std::make_shared<TicketKeyStore>();
  auto worker1 = site_ctx(store);
  auto worker2 = site_ctx(store);
  for (int max_version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    INFO("max_version=" << std::hex << max_version);
    ClientOptions o;
    o.sni = "www.example.com";
    o.max_version = max_version;
    auto sess = handshake_for_session(worker1, o);
    REQUIRE(sess);

    o.resume = sess.get();
    TestClient c(o);
    TlsSession s(worker2);
    REQUIRE(pump_handshake(c, s));
    CHECK(s.resumed());
    CHECK(SSL_session_reused(c.ssl()) == 1);
    CHECK(s.server_name() == "www.example.com");

    // A context with its own (different) keys cannot decrypt the ticket: full handshake.
    auto stranger = site_ctx(std::make_shared<TicketKeyStore>());
    TestClient c2(o);
    TlsSession s2(stranger);
    REQUIRE(pump_handshake(c2, s2));
    CHECK_FALSE(s2.resumed());
  }
}

TEST_CASE("tls_session: resumption with an SNI certificate other than the default", "[tls][session][tickets]") {
  auto store = std::make_shared<TicketKeyStore>();
  auto w1 = site_ctx(store);
  auto w2 = site_ctx(store);
  ClientOptions o;
  o.sni = "shop.example.org";
  auto sess = handshake_for_session(w1, o);
  REQUIRE(sess);
  o.resume = sess.get();
  TestClient c(o);
  TlsSession s(w2);
  REQUIRE(pump_handshake(c, s));
  CHECK(s.resumed());
}

TEST_CASE("tls_session: session_tickets = false disables resumption", "[tls][session][tickets]") {
  const auto& pki = test_pki();
  auto store = std::make_shared<TicketKeyStore>();
  auto ctx = make_ctx(tls_config(pki.ecdsa_site, {}, "1.2", false), store);
  for (int max_version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    INFO("max_version=" << std::hex << max_version);
    ClientOptions o;
    o.max_version = max_version;
    auto sess = handshake_for_session(ctx, o);
    if (!sess) {
      SUCCEED("no resumable session was issued");
      continue;
    }
    o.resume = sess.get();
    TestClient c(o);
    TlsSession s(ctx);
    REQUIRE(pump_handshake(c, s));
    CHECK_FALSE(s.resumed());
  }
}

TEST_CASE("tls_session: rotation keeps the previous keys valid for decryption for two rotations",
          "[tls][session][tickets]") {
  auto store = std::make_shared<TicketKeyStore>();
  auto ctx = site_ctx(store);
  for (int max_version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    INFO("max_version=" << std::hex << max_version);
    ClientOptions o;
    o.max_version = max_version;
    auto sess = handshake_for_session(ctx, o);
    REQUIRE(sess);
    o.resume = sess.get();
    for (int rotation = 1; rotation <= 3; ++rotation) {
      INFO("after rotation " << rotation);
      REQUIRE(store->rotate());
      TestClient c(o);
      TlsSession s(ctx);
      REQUIRE(pump_handshake(c, s));
      CHECK(s.resumed() == (rotation <= 2));
    }
  }
}

TEST_CASE("tls_session: garbage and plain HTTP fail cleanly and answer nothing", "[tls][session][bad]") {
  auto ctx = site_ctx();
  {
    TlsSession s(ctx);
    const char req[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
    CHECK(s.feed_ciphertext(req, sizeof req - 1) == State::failed);
    CHECK(s.failure() == TlsSession::Failure::plain_http);
    CHECK(s.error() == "http request on https port");
    CHECK(s.pending_ciphertext() == 0);
    CHECK_FALSE(s.write_plaintext("x", 1));
    CHECK(s.feed_ciphertext("more", 4) == State::failed);  // further input is ignored
  }
  {
    TlsSession s(ctx);
    CHECK(s.feed_ciphertext("PO", 2) == State::failed);  // a method split across reads
    CHECK(s.failure() == TlsSession::Failure::plain_http);
  }
  {
    TlsSession s(ctx);
    const char junk[] = "\x00\xff\x13garbage";
    CHECK(s.feed_ciphertext(junk, sizeof junk - 1) == State::failed);
    CHECK(s.failure() == TlsSession::Failure::not_tls);
    CHECK_THAT(s.error(), Contains("0x00"));
    CHECK(s.pending_ciphertext() == 0);
  }
  {
    // A handshake record header with a garbage body: OpenSSL rejects it; no crash.
    TlsSession s(ctx);
    std::string rec = std::string("\x16\x03\x01\x00\x20", 5) + std::string(32, '\x42');
    CHECK(s.feed_ciphertext(rec.data(), rec.size()) == State::failed);
    CHECK(s.failure() == TlsSession::Failure::handshake);
  }
  // Random bytes after a valid record type: every outcome is a state, never a crash.
  std::mt19937 rng(1234);
  for (int i = 0; i < 300; ++i) {
    TlsSession s(ctx);
    std::string blob = std::string("\x16\x03\x01", 3) + pattern(rng() % 600, static_cast<uint32_t>(rng()));
    for (size_t off = 0; off < blob.size();) {
      size_t n = std::min<size_t>(blob.size() - off, 1 + rng() % 64);
      s.feed_ciphertext(blob.data() + off, n);
      off += n;
    }
    std::string out;
    s.drain_ciphertext(out);
    CHECK((s.state() == State::failed || s.state() == State::handshaking));
  }
}

TEST_CASE("tls_session: 1 MiB each way in odd-sized pieces arrives intact", "[tls][session][data]") {
  auto ctx = site_ctx();
  TestClient c(ClientOptions{});
  TlsSession s(ctx);
  REQUIRE(pump_handshake(c, s));
  const size_t kTotal = 1 << 20;
  const std::string up = pattern(kTotal, 1), down = pattern(kTotal, 2);
  const size_t pieces[] = {1, 7, 4093, 16385, 3, 65537, 999, 16384, 257};
  std::string got_up, got_down, wire;
  size_t off_up = 0, off_down = 0;
  for (int i = 0; (off_up < kTotal || off_down < kTotal) && i < 100000; ++i) {
    size_t n = std::min(pieces[i % 9], kTotal - off_up);
    if (n) REQUIRE(c.write(up.data() + off_up, n));
    off_up += n;
    size_t m = std::min(pieces[(i + 4) % 9], kTotal - off_down);
    if (m) REQUIRE(s.write_plaintext(down.data() + off_down, m));
    off_down += m;
    // Deliver the client's ciphertext to the server in odd chunks too.
    std::string to_server = c.take_output();
    for (size_t p = 0, k = 0; p < to_server.size(); ++k) {
      size_t chunk = std::min(pieces[k % 9], to_server.size() - p);
      s.feed_ciphertext(to_server.data() + p, chunk);
      p += chunk;
      server_read_all(s, got_up);
    }
    wire.clear();
    s.drain_ciphertext(wire);
    c.give_input(wire);
    REQUIRE(c.read_available(got_down));
  }
  REQUIRE(s.state() == State::established);
  CHECK(got_up.size() == kTotal);
  CHECK(got_down.size() == kTotal);
  CHECK(got_up == up);
  CHECK(got_down == down);
}

TEST_CASE("tls_session: plaintext written during the handshake is sent once it completes", "[tls][session]") {
  auto ctx = site_ctx();
  TestClient c(ClientOptions{});
  TlsSession s(ctx);
  REQUIRE(s.write_plaintext("220 hello\r\n", 11));  // server-first protocols over TLS (tcp mode)
  c.step_handshake();
  std::string hello = c.take_output();
  s.feed_ciphertext(hello.data(), hello.size());
  std::string got;
  REQUIRE(pump_handshake(c, s, &got));
  CHECK(got == "220 hello\r\n");
}

TEST_CASE("tls_session: close_notify both ways", "[tls][session]") {
  auto ctx = site_ctx();
  {
    TestClient c(ClientOptions{});
    TlsSession s(ctx);
    REQUIRE(pump_handshake(c, s));
    SSL_shutdown(c.ssl());
    shuttle(c, s);
    char buf[64];
    CHECK(s.read_plaintext(buf, sizeof buf) == 0);
    CHECK(s.state() == State::closed);
    // Half-close: the server can still answer, then close too.
    REQUIRE(s.write_plaintext("bye", 3));
    s.shutdown();
    CHECK(s.shutdown_sent());
    CHECK_FALSE(s.write_plaintext("late", 4));
    shuttle(c, s);
    std::string got;
    REQUIRE(c.read_available(got));
    CHECK(got == "bye");
    CHECK(c.peer_closed());
  }
  {
    // A client that gives up mid-handshake with an alert is a handshake failure, not a crash.
    TestClient c(ClientOptions{});
    TlsSession s(ctx);
    c.step_handshake();
    std::string hello = c.take_output();
    s.feed_ciphertext(hello.data(), hello.size());
    const char alert[] = "\x15\x03\x03\x00\x02\x02\x28";  // fatal handshake_failure
    s.feed_ciphertext(alert, 7);
    CHECK(s.state() == State::failed);
  }
}

TEST_CASE("tls_session: a connection outlives its context set across a reload", "[tls][session][reload]") {
  const auto& pki = test_pki();
  auto set = TlsContextSet::build("web", tls_config(pki.ecdsa_site), 1, nullptr);
  REQUIRE(set.ok());
  ClientOptions o;
  o.sni = "example.com";
  TestClient old_client(o);
  auto old_session = std::make_unique<TlsSession>((*set)->context(0));
  REQUIRE(pump_handshake(old_client, *old_session));

  auto next = (*set)->reload(tls_config(pki.ecdsa_site_v2));
  REQUIRE(next.ok());
  set = std::move(next);  // the old set (and its SSL_CTXs' owners) is dropped here

  // The old connection still works...
  REQUIRE(old_client.write("ping", 4));
  shuttle(old_client, *old_session);
  std::string got;
  server_read_all(*old_session, got);
  CHECK(got == "ping");
  // ...and a new one gets the new certificate.
  TestClient new_client(o);
  TlsSession new_session((*set)->context(0));
  REQUIRE(pump_handshake(new_client, new_session));
  X509Ptr peer(SSL_get1_peer_certificate(new_client.ssl()));
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(peer.get()), NID_commonName, cn, sizeof cn);
  CHECK(std::string(cn) == "example.com v2");
}
