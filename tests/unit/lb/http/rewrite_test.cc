#include <catch2/catch.hpp>

#include <set>

#include "lb/http/parser.h"
#include "lb/http/rewrite.h"
#include "sinks.h"

using namespace ebb::lb::http;
using namespace ebb::lb::http::test;

namespace {

struct RewritingSink : RequestSink {
  ForwardInfo info;
  std::string out;
  BodyFraming framing = BodyFraming::none;
  bool on_request_head(RequestHead& h) override {
    ForwardInfo i = info;
    i.upgrade = h.upgrade;
    framing = write_upstream_request_head(h, i, out);
    return false;
  }
  void on_request_body(const char*, size_t) override {}
  void on_request_complete() override {}
};

// Rewrites `req` as the proxy would, then parses the result again to check it is valid HTTP.
struct Rewritten {
  std::string bytes;
  BodyFraming framing;
  HeadCopy head;
};

Rewritten rewrite(const std::string& req, ForwardInfo info = {"10.0.0.9", 8080, false, false}) {
  RewritingSink sink;
  sink.info = info;
  RequestParser p(sink);
  auto r = p.feed(req.data(), req.size());
  REQUIRE(r.ok());
  RecordingRequestSink check;
  RequestParser reparse(check);
  std::string bytes = sink.out;
  auto r2 = reparse.feed(bytes.data(), bytes.size());
  INFO(bytes);
  REQUIRE(r2.ok());
  REQUIRE(check.heads.size() == 1);
  return Rewritten{sink.out, sink.framing, check.heads[0]};
}

std::vector<std::string> values(const HeadCopy& h, const std::string& name) {
  std::vector<std::string> v;
  for (const auto& [n, val] : h.headers)
    if (iequals(n, name)) v.push_back(val);
  return v;
}

}  // namespace

TEST_CASE("rewrite: request line and forwarding headers", "[http][rewrite]") {
  auto w = rewrite("GET /p?q=1 HTTP/1.0\r\nHost: Site.test:8080\r\nAccept: */*\r\n\r\n");
  CHECK(w.bytes.rfind("GET /p?q=1 HTTP/1.1\r\nHost: Site.test:8080\r\n", 0) == 0);
  CHECK(values(w.head, "X-Forwarded-For") == std::vector<std::string>{"10.0.0.9"});
  CHECK(values(w.head, "X-Forwarded-Proto") == std::vector<std::string>{"http"});
  CHECK(values(w.head, "X-Forwarded-Port") == std::vector<std::string>{"8080"});
  CHECK(values(w.head, "Accept") == std::vector<std::string>{"*/*"});
  auto id = values(w.head, "X-Request-Id");
  REQUIRE(id.size() == 1);
  CHECK(id[0].size() == 32);
  CHECK(id[0].find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(w.framing == BodyFraming::none);
  CHECK(w.head.keep_alive);  // HTTP/1.1 upstream without Connection: keep-alive by default
}

TEST_CASE("rewrite: X-Forwarded-For is appended", "[http][rewrite]") {
  auto w = rewrite("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\n\r\n");
  CHECK(values(w.head, "X-Forwarded-For") == std::vector<std::string>{"1.1.1.1, 2.2.2.2, 10.0.0.9"});
  w = rewrite("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 3.3.3.3\r\n\r\n");
  CHECK(values(w.head, "X-Forwarded-For") == std::vector<std::string>{"1.1.1.1, 3.3.3.3, 10.0.0.9"});
  w = rewrite("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For:\r\n\r\n");
  CHECK(values(w.head, "X-Forwarded-For") == std::vector<std::string>{"10.0.0.9"});
}

TEST_CASE("rewrite: client forwarding headers are replaced, proto https", "[http][rewrite]") {
  auto w = rewrite(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Port: 1\r\n\r\n",
      ForwardInfo{"::1", 443, true, false});
  CHECK(values(w.head, "X-Forwarded-Proto") == std::vector<std::string>{"https"});
  CHECK(values(w.head, "X-Forwarded-Port") == std::vector<std::string>{"443"});
  CHECK(values(w.head, "X-Forwarded-For") == std::vector<std::string>{"::1"});
}

TEST_CASE("rewrite: X-Request-Id only when absent", "[http][rewrite]") {
  auto w = rewrite("GET / HTTP/1.1\r\nHost: a\r\nx-request-id: abc-123\r\n\r\n");
  CHECK(values(w.head, "X-Request-Id") == std::vector<std::string>{"abc-123"});
  std::set<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto v = values(rewrite("GET / HTTP/1.1\r\nHost: a\r\n\r\n").head, "X-Request-Id");
    REQUIRE(v.size() == 1);
    ids.insert(v[0]);
  }
  CHECK(ids.size() == 50);
}

TEST_CASE("rewrite: hop-by-hop headers removed", "[http][rewrite]") {
  auto w = rewrite(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret, x-other\r\n"
      "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
      "Trailer: X\r\nUpgrade: h2c\r\nX-Secret: s\r\nX-Other: o\r\nX-Kept: k\r\n\r\n");
  for (const char* gone : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
                           "Upgrade", "X-Secret", "X-Other"}) {
    INFO(gone);
    CHECK(values(w.head, gone).empty());
  }
  CHECK(values(w.head, "X-Kept") == std::vector<std::string>{"k"});
  CHECK_FALSE(w.head.upgrade);
}

TEST_CASE("rewrite: upgrade keeps Upgrade and sends Connection: upgrade", "[http][rewrite]") {
  auto w = rewrite(
      "GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
  CHECK(w.head.upgrade);
  CHECK(values(w.head, "Upgrade") == std::vector<std::string>{"websocket"});
  CHECK(values(w.head, "Connection") == std::vector<std::string>{"upgrade"});
  CHECK(values(w.head, "Sec-WebSocket-Key").size() == 1);
}

TEST_CASE("rewrite: body framing", "[http][rewrite]") {
  auto w = rewrite("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(w.framing == BodyFraming::content_length);
  CHECK(w.head.content_length == 3u);
  w = rewrite("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  CHECK(w.framing == BodyFraming::none);
  CHECK(w.head.content_length == 0u);
  w = rewrite("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  CHECK(w.framing == BodyFraming::chunked);
  CHECK(w.head.chunked);
  CHECK(values(w.head, "Transfer-Encoding") == std::vector<std::string>{"chunked"});
  w = rewrite("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  CHECK(w.head.expect_continue);
}

TEST_CASE("rewrite: an HTTP/1.0 client's Expect: 100-continue is not forwarded", "[http][rewrite]") {
  // RFC 9110 §10.1.1: ignored in HTTP/1.0; our HTTP/1.1 upstream request must not revive it
  // (found by tests/fuzz/fuzz_http_request, regression input http10-expect-continue).
  auto w = rewrite("PUT / HTTP/1.0\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
  CHECK_FALSE(w.head.expect_continue);
  CHECK(values(w.head, "Expect").empty());
  w = rewrite("PUT / HTTP/1.0\r\nHost: a\r\nExpect: x-other\r\n\r\n");
  CHECK(values(w.head, "Expect") == std::vector<std::string>{"x-other"});
  w = rewrite("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx");
  CHECK(w.head.expect_continue);
  CHECK(values(w.head, "Expect") == std::vector<std::string>{"100-Continue"});
}

TEST_CASE("rewrite: absolute-form becomes origin-form", "[http][rewrite]") {
  auto w = rewrite("GET http://Up.Test:81/x?y HTTP/1.1\r\nHost: other\r\n\r\n");
  CHECK(w.bytes.rfind("GET /x?y HTTP/1.1\r\nHost: Up.Test:81\r\n", 0) == 0);
  CHECK(values(w.head, "Host") == std::vector<std::string>{"Up.Test:81"});
}

TEST_CASE("rewrite: HTTP/1.0 request without Host gets an empty Host", "[http][rewrite]") {
  auto w = rewrite("GET / HTTP/1.0\r\n\r\n");
  CHECK(values(w.head, "Host") == std::vector<std::string>{""});
}

TEST_CASE("rewrite: chunk framing helpers", "[http][rewrite]") {
  std::string out;
  append_chunk(out, "hello", 5);
  append_chunk(out, "", 0);
  std::string big(300, 'x');
  append_chunk(out, big.data(), big.size());
  append_chunk_header(out, 1);
  out += "!";
  append_chunk_end(out);
  append_last_chunk(out);
  CHECK(out == "5\r\nhello\r\n12c\r\n" + big + "\r\n1\r\n!\r\n0\r\n\r\n");

  // The re-chunked body parses back to the same bytes.
  RecordingRequestSink s;
  RequestParser p(s);
  std::string req = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + out;
  REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  CHECK(s.bodies[0] == "hello" + big + "!");
}

namespace {

struct ResponseRewritten {
  std::string bytes;
  DownstreamHead d;
};

ResponseRewritten rewrite_response(const std::string& resp, ResponseRewrite rw, bool head_req = false) {
  struct Sink : ResponseSink {
    ResponseRewrite rw;
    std::string out;
    DownstreamHead d;
    bool on_response_head(ResponseHead& h) override {
      d = write_downstream_response_head(h, rw, out);
      return false;
    }
    void on_response_body(const char*, size_t) override {}
    void on_response_complete() override {}
  } sink;
  sink.rw = rw;
  ResponseParser p(sink);
  p.expect(head_req, false);
  auto r = p.feed(resp.data(), resp.size());
  REQUIRE(r.ok());
  return ResponseRewritten{sink.out, sink.d};
}

}  // namespace

TEST_CASE("rewrite: response hop-by-hop removal and keep-alive", "[http][rewrite]") {
  auto w = rewrite_response(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nKeep-Alive: timeout=5\r\nX-Hop: 1\r\n"
      "Content-Length: 2\r\nServer: s\r\n\r\nok",
      ResponseRewrite{});
  CHECK(w.bytes == "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 2\r\n\r\n");
  CHECK(w.d.framing == BodyFraming::content_length);
  CHECK_FALSE(w.d.close);
}

TEST_CASE("rewrite: response Connection: close when the proxy closes", "[http][rewrite]") {
  ResponseRewrite rw;
  rw.close = true;
  auto w = rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", rw);
  CHECK(w.bytes == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK(w.d.close);
  CHECK(w.d.framing == BodyFraming::none);
}

TEST_CASE("rewrite: HTTP/1.0 client kept alive", "[http][rewrite]") {
  ResponseRewrite rw;
  rw.client_version_minor = 0;
  auto w = rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", rw);
  CHECK(w.bytes == "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n");
  CHECK_FALSE(w.d.close);
}

TEST_CASE("rewrite: chunked or close-delimited response framing", "[http][rewrite]") {
  ResponseRewrite v11;
  auto w = rewrite_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", v11);
  CHECK(w.bytes == "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(w.d.framing == BodyFraming::chunked);
  // A close-delimited upstream body is re-chunked for HTTP/1.1 clients: the client connection
  // stays usable.
  w = rewrite_response("HTTP/1.0 200 OK\r\nX: y\r\n\r\nbody", v11);
  CHECK(w.bytes == "HTTP/1.1 200 OK\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(w.d.framing == BodyFraming::chunked);
  CHECK_FALSE(w.d.close);

  ResponseRewrite v10;
  v10.client_version_minor = 0;
  w = rewrite_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", v10);
  CHECK(w.bytes == "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
  CHECK(w.d.framing == BodyFraming::until_close);
  CHECK(w.d.close);
}

TEST_CASE("rewrite: HEAD, 304 and 1xx responses", "[http][rewrite]") {
  auto w = rewrite_response("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", ResponseRewrite{}, true);
  CHECK(w.bytes == "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n");
  CHECK(w.d.framing == BodyFraming::none);
  w = rewrite_response("HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n", ResponseRewrite{});
  CHECK(w.bytes == "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\n\r\n");
  CHECK(w.d.framing == BodyFraming::none);

  ResponseRewrite rw;
  rw.set_cookie = "sid=abc";
  w = rewrite_response("HTTP/1.1 100 Continue\r\n\r\n", rw);
  CHECK(w.bytes == "HTTP/1.1 100 Continue\r\n\r\n");
  CHECK(w.d.written);
  CHECK_FALSE(w.d.close);
  rw.client_version_minor = 0;
  w = rewrite_response("HTTP/1.1 100 Continue\r\n\r\n", rw);
  CHECK(w.bytes.empty());
  CHECK_FALSE(w.d.written);
}

TEST_CASE("rewrite: sticky Set-Cookie is added", "[http][rewrite]") {
  ResponseRewrite rw;
  rw.set_cookie = "ebb=tok; Path=/; Max-Age=3600; HttpOnly";
  auto w = rewrite_response("HTTP/1.1 200 OK\r\nSet-Cookie: app=1\r\nContent-Length: 0\r\n\r\n", rw);
  CHECK(w.bytes ==
        "HTTP/1.1 200 OK\r\nSet-Cookie: app=1\r\nSet-Cookie: ebb=tok; Path=/; Max-Age=3600; "
        "HttpOnly\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("rewrite: 101 response keeps Upgrade", "[http][rewrite]") {
  struct Sink : ResponseSink {
    std::string out;
    bool on_response_head(ResponseHead& h) override {
      write_downstream_response_head(h, ResponseRewrite{}, out);
      return false;
    }
    void on_response_body(const char*, size_t) override {}
    void on_response_complete() override {}
  } sink;
  ResponseParser p(sink);
  p.expect(false, true);
  std::string resp =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: x\r\n\r\n";
  REQUIRE(p.feed(resp.data(), resp.size()).status == ParseStatus::upgrade);
  CHECK(sink.out ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: x\r\n"
        "Connection: upgrade\r\n\r\n");
}

TEST_CASE("find_cookie", "[http][rewrite]") {
  struct Sink : RequestSink {
    std::optional<std::string> a, b, c;
    bool on_request_head(RequestHead& h) override {
      if (auto v = find_cookie(h, "a")) a = std::string(*v);
      if (auto v = find_cookie(h, "b")) b = std::string(*v);
      if (auto v = find_cookie(h, "c")) c = std::string(*v);
      return false;
    }
    void on_request_body(const char*, size_t) override {}
    void on_request_complete() override {}
  } s;
  RequestParser p(s);
  std::string req = "GET / HTTP/1.1\r\nHost: x\r\nCookie: x=1; a=one;b=\"two\"\r\nCookie: A=no\r\n\r\n";
  REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  CHECK(s.a == "one");
  CHECK(s.b == "two");
  CHECK_FALSE(s.c);
}
