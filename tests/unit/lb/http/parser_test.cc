#include <catch2/catch.hpp>

#include "lb/http/parser.h"
#include "sinks.h"

using namespace ebb::lb::http;
using namespace ebb::lb::http::test;

TEST_CASE("request parser: simple GET", "[http][parser]") {
  RecordingRequestSink sink;
  RequestParser p(sink);
  std::string req = "GET /a/b?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nUser-Agent: t\r\n\r\n";
  auto r = p.feed(req.data(), req.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == req.size());
  REQUIRE(sink.heads.size() == 1);
  const auto& h = sink.heads[0];
  CHECK(h.method == "GET");
  CHECK(h.target == "/a/b?x=1");
  CHECK(h.path == "/a/b");
  CHECK(h.origin_target == "/a/b?x=1");
  CHECK(h.host == "example.com");
  CHECK(h.authority == "Example.COM:8080");
  CHECK(h.version_minor == 1);
  CHECK(h.keep_alive);
  CHECK_FALSE(h.upgrade);
  CHECK_FALSE(h.content_length);
  CHECK_FALSE(h.chunked);
  REQUIRE(h.headers.size() == 2);
  CHECK(h.headers[1].first == "User-Agent");
  CHECK(h.headers[1].second == "t");
  CHECK(sink.completes == 1);
  // The head stays readable through the parser until the next message starts.
  CHECK(p.head().find("user-agent") != nullptr);
  CHECK(p.head().find("user-agent")->value == "t");
  CHECK(p.head().find("missing") == nullptr);
  CHECK(p.idle());
}

TEST_CASE("request parser: values are trimmed, names keep case", "[http][parser]") {
  RecordingRequestSink sink;
  RequestParser p(sink);
  std::string req = "GET / HTTP/1.1\r\nHost: a\r\nX-Thing: \t v a l \t \r\nEmpty:\r\n\r\n";
  REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  REQUIRE(sink.heads.size() == 1);
  CHECK(sink.heads[0].headers[1] == std::make_pair(std::string("X-Thing"), std::string("v a l")));
  CHECK(sink.heads[0].headers[2] == std::make_pair(std::string("Empty"), std::string("")));
}

TEST_CASE("request parser: Content-Length body", "[http][parser]") {
  RecordingRequestSink sink;
  RequestParser p(sink);
  std::string req = "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world";
  auto r = p.feed(req.data(), req.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == req.size());
  CHECK(sink.heads[0].content_length == 11u);
  CHECK(sink.bodies[0] == "hello world");
}

TEST_CASE("request parser: pipelined requests one at a time", "[http][parser]") {
  RecordingRequestSink sink;
  RequestParser p(sink);
  std::string a = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string b = "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz";
  std::string c = "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string all = a + b + c + "GET /4";
  size_t off = 0;

  auto r = p.feed(all.data() + off, all.size() - off);
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == a.size());
  CHECK(sink.heads.size() == 1);
  CHECK(p.head().target == "/1");
  off += r.consumed;

  r = p.feed(all.data() + off, all.size() - off);
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == b.size());
  CHECK(sink.bodies[1] == "xyz");
  off += r.consumed;

  r = p.feed(all.data() + off, all.size() - off);
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == c.size());
  off += r.consumed;

  r = p.feed(all.data() + off, all.size() - off);
  CHECK(r.status == ParseStatus::need_more);
  CHECK(r.consumed == 6);
  CHECK(p.in_head());
  CHECK(sink.heads.size() == 3);
  CHECK(sink.completes == 3);
  std::string rest = " HTTP/1.1\r\nHost: a\r\n\r\n";
  r = p.feed(rest.data(), rest.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(sink.heads[3].target == "/4");
}

TEST_CASE("request parser: chunked body with extensions and trailers", "[http][parser]") {
  RecordingRequestSink sink;
  RequestParser p(sink);
  std::string req =
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "6;a;b=\"q\"\r\n world\r\n"
      "0\r\nX-Trailer: t\r\nOther: o\r\n\r\n";
  std::string next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  std::string all = req + next;
  auto r = p.feed(all.data(), all.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == req.size());
  CHECK(sink.heads[0].chunked);
  CHECK(sink.bodies[0] == "hello world");
  // Trailers are dropped: they did not become headers.
  CHECK(sink.heads[0].headers.size() == 2);
  r = p.feed(all.data() + req.size(), next.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(sink.heads[1].target == "/next");
}

TEST_CASE("request parser: byte-at-a-time equals all-at-once", "[http][parser]") {
  std::string stream =
      "POST /a HTTP/1.1\r\nHost: x.test\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nabcde"
      "PUT /b?q HTTP/1.1\r\nHost: x.test\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;e=1\r\nfoo\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n"
      "GET http://Other.Test:81/c HTTP/1.1\r\nHost: x.test\r\nX-Long: " + std::string(300, 'v') +
      "\r\n\r\n"
      "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  RecordingRequestSink whole_sink;
  RequestParser whole(whole_sink);
  auto rw = feed_all(whole, stream, 0);
  REQUIRE(rw.ok());
  REQUIRE(whole_sink.heads.size() == 4);

  for (size_t step : {1, 2, 3, 7, 64}) {
    RecordingRequestSink s;
    RequestParser p(s);
    auto r = feed_all(p, stream, step);
    INFO("step " << step);
    REQUIRE(r.ok());
    REQUIRE(s.heads.size() == 4);
    CHECK(s.completes == 4);
    for (size_t i = 0; i < 4; ++i) {
      CHECK(s.heads[i].method == whole_sink.heads[i].method);
      CHECK(s.heads[i].target == whole_sink.heads[i].target);
      CHECK(s.heads[i].host == whole_sink.heads[i].host);
      CHECK(s.heads[i].headers == whole_sink.heads[i].headers);
      CHECK(s.bodies[i] == whole_sink.bodies[i]);
    }
  }
  CHECK(whole_sink.bodies[0] == "abcde");
  CHECK(whole_sink.bodies[1] == "foo0123456789abcdef");
  CHECK(whole_sink.heads[2].host == "other.test");
  CHECK(whole_sink.heads[2].authority == "Other.Test:81");
  CHECK(whole_sink.heads[2].origin_target == "/c");
  CHECK(whole_sink.heads[3].method == "HEAD");
  CHECK(whole_sink.heads[3].version_minor == 0);
  CHECK(whole_sink.heads[3].keep_alive);
}

TEST_CASE("request parser: every split point of a chunked request", "[http][parser]") {
  std::string req =
      "POST /s HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nTr: 1\r\n\r\n";
  for (size_t cut = 0; cut <= req.size(); ++cut) {
    RecordingRequestSink s;
    RequestParser p(s);
    INFO("cut at " << cut);
    auto r1 = p.feed(req.data(), cut);
    REQUIRE(r1.ok());
    size_t used = r1.consumed;
    if (r1.status != ParseStatus::message_complete) {
      REQUIRE(used == cut);
      auto r2 = p.feed(req.data() + cut, req.size() - cut);
      REQUIRE(r2.status == ParseStatus::message_complete);
      used += r2.consumed;
    }
    CHECK(used == req.size());
    CHECK(s.bodies.at(0) == "wikipedia");
    CHECK(s.completes == 1);
  }
}

TEST_CASE("request parser: keep-alive rules", "[http][parser]") {
  auto keep = [](const std::string& req) {
    RecordingRequestSink s;
    RequestParser p(s);
    auto r = p.feed(req.data(), req.size());
    REQUIRE(r.status == ParseStatus::message_complete);
    return s.heads.at(0).keep_alive;
  };
  CHECK(keep("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"));
}

TEST_CASE("request parser: Expect: 100-continue is ignored in HTTP/1.0", "[http][parser]") {
  RecordingRequestSink s;
  RequestParser p(s);
  std::string req = "PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx";
  REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  CHECK_FALSE(s.heads.at(0).expect_continue);
}

TEST_CASE("request parser: data after Connection: close is refused", "[http][parser]") {
  RecordingRequestSink s;
  RequestParser p(s);
  std::string a = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  std::string all = a + "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
  auto r = p.feed(all.data(), all.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == a.size());
  r = p.feed(all.data() + a.size(), all.size() - a.size());
  CHECK(r.status == ParseStatus::error);
  CHECK(s.heads.size() == 1);
}

TEST_CASE("request parser: upgrade request ends at its head, tunnel bytes follow", "[http][parser]") {
  RecordingRequestSink s;
  RequestParser p(s);
  std::string req =
      "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: k\r\n\r\n";
  std::string all = req + "\x81\x05hello";
  auto r = p.feed(all.data(), all.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == req.size());
  CHECK(s.heads.at(0).upgrade);
  // If the upstream refuses (no 101), the connection goes on as HTTP.
  std::string next = "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n";
  r = p.feed(next.data(), next.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK_FALSE(s.heads.at(1).upgrade);
}

TEST_CASE("request parser: Upgrade without Connection: upgrade is no upgrade", "[http][parser]") {
  RecordingRequestSink s;
  RequestParser p(s);
  std::string req = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n";
  REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  CHECK_FALSE(s.heads.at(0).upgrade);
}

TEST_CASE("request parser: Expect: 100-continue", "[http][parser]") {
  RecordingRequestSink s;
  RequestParser p(s);
  std::string head = "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 4\r\n\r\n";
  auto r = p.feed(head.data(), head.size());
  CHECK(r.status == ParseStatus::need_more);
  CHECK(r.consumed == head.size());
  REQUIRE(s.heads.size() == 1);
  CHECK(s.heads[0].expect_continue);
  r = p.feed("data", 4);
  CHECK(r.status == ParseStatus::message_complete);
  CHECK(s.bodies[0] == "data");
}

TEST_CASE("request parser: pause after head", "[http][parser]") {
  RecordingRequestSink s;
  s.pause_on_head = true;
  RequestParser p(s);
  std::string head = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
  std::string all = head + "abc";
  auto r = p.feed(all.data(), all.size());
  REQUIRE(r.status == ParseStatus::head_paused);
  CHECK(r.consumed == head.size());
  CHECK(s.bodies[0].empty());
  r = p.feed(all.data() + head.size(), 3);
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == 3);
  CHECK(s.bodies[0] == "abc");

  // A body-less request paused at the end of the buffer completes with an empty feed.
  std::string get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  r = p.feed(get.data(), get.size());
  REQUIRE(r.status == ParseStatus::head_paused);
  r = p.feed(nullptr, 0);
  CHECK(r.status == ParseStatus::message_complete);
  CHECK(s.completes == 2);
}

TEST_CASE("request parser: absolute-form and asterisk targets", "[http][parser]") {
  auto parse = [](const std::string& req) {
    RecordingRequestSink s;
    RequestParser p(s);
    auto r = p.feed(req.data(), req.size());
    REQUIRE(r.status == ParseStatus::message_complete);
    return s.heads.at(0);
  };
  auto h = parse("GET http://API.example.com:8080/v1/x?y=2 HTTP/1.1\r\nHost: ignored\r\n\r\n");
  CHECK(h.host == "api.example.com");
  CHECK(h.authority == "API.example.com:8080");
  CHECK(h.path == "/v1/x");
  CHECK(h.origin_target == "/v1/x?y=2");
  h = parse("GET http://a.test?q=1 HTTP/1.1\r\nHost: a.test\r\n\r\n");
  CHECK(h.path == "/");
  CHECK(h.origin_target == "/?q=1");
  h = parse("GET https://a.test HTTP/1.1\r\nHost: a.test\r\n\r\n");
  CHECK(h.origin_target == "/");
  h = parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(h.path == "*");
  CHECK(h.origin_target == "*");
  h = parse("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
  CHECK(h.host == "[::1]");
  h = parse("GET / HTTP/1.0\r\n\r\n");
  CHECK(h.host.empty());
  h = parse("GET /p?q#frag HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(h.path == "/p");
  CHECK(h.origin_target == "/p?q");
  h = parse("GET /p#f?notquery HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(h.path == "/p");
  CHECK(h.origin_target == "/p");
  h = parse("GET http://a.test/x#f HTTP/1.1\r\nHost: a.test\r\n\r\n");
  CHECK(h.origin_target == "/x");
}

TEST_CASE("request parser: head size limit is exact", "[http][parser]") {
  std::string base = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  ParserLimits limits;
  limits.max_head_bytes = 200;
  // A head of exactly 200 bytes: base + value + "\r\n\r\n".
  std::string exact = base + std::string(200 - base.size() - 4, 'v') + "\r\n\r\n";
  REQUIRE(exact.size() == 200);
  std::string over = base + std::string(200 - base.size() - 3, 'v') + "\r\n\r\n";
  REQUIRE(over.size() == 201);

  for (size_t step : {0, 1, 13}) {
    INFO("step " << step);
    {
      RecordingRequestSink s;
      RequestParser p(s, limits);
      auto r = feed_all(p, exact, step);
      CHECK(r.status == ParseStatus::message_complete);
      CHECK(s.heads.size() == 1);
    }
    {
      RecordingRequestSink s;
      RequestParser p(s, limits);
      auto r = feed_all(p, over, step);
      CHECK(r.status == ParseStatus::error);
      CHECK(r.error_status == 431);
      CHECK(s.heads.empty());
    }
  }
  // Each message of a pipeline gets its own budget.
  RecordingRequestSink s;
  RequestParser p(s, limits);
  auto r = feed_all(p, exact + exact + exact, 0);
  CHECK(r.ok());
  CHECK(s.heads.size() == 3);
}

TEST_CASE("request parser: too many headers is 431", "[http][parser]") {
  ParserLimits limits;
  limits.max_headers = 5;
  std::string req = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 4; ++i) req += "X" + std::to_string(i) + ": v\r\n";
  RecordingRequestSink ok_sink;
  RequestParser ok(ok_sink, limits);
  std::string fine = req + "\r\n";
  CHECK(ok.feed(fine.data(), fine.size()).status == ParseStatus::message_complete);
  RecordingRequestSink s;
  RequestParser p(s, limits);
  std::string bad = req + "X9: v\r\n\r\n";
  auto r = p.feed(bad.data(), bad.size());
  CHECK(r.status == ParseStatus::error);
  CHECK(r.error_status == 431);
  CHECK(s.heads.empty());
}

TEST_CASE("request parser: body limit", "[http][parser]") {
  ParserLimits limits;
  limits.max_body_bytes = 10;
  SECTION("Content-Length over the limit: 413 before the head") {
    RecordingRequestSink s;
    RequestParser p(s, limits);
    std::string req = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
    auto r = p.feed(req.data(), req.size());
    CHECK(r.status == ParseStatus::error);
    CHECK(r.error_status == 413);
    CHECK(s.heads.empty());
  }
  SECTION("Content-Length at the limit is fine") {
    RecordingRequestSink s;
    RequestParser p(s, limits);
    std::string req = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789";
    CHECK(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  }
  SECTION("chunked body growing past the limit") {
    RecordingRequestSink s;
    RequestParser p(s, limits);
    std::string req =
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "a\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n";
    auto r = p.feed(req.data(), req.size());
    CHECK(r.status == ParseStatus::error);
    CHECK(r.error_status == 413);
    CHECK(s.bodies.at(0) == "0123456789");
    CHECK(s.completes == 0);
  }
}

TEST_CASE("request parser: errors are sticky, reset recovers", "[http][parser]") {
  RecordingRequestSink s;
  RequestParser p(s);
  std::string bad = "GET / HTTP/1.1\r\nHost : a\r\n\r\n";
  auto r = p.feed(bad.data(), bad.size());
  REQUIRE(r.status == ParseStatus::error);
  std::string good = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  r = p.feed(good.data(), good.size());
  CHECK(r.status == ParseStatus::error);
  p.reset();
  r = p.feed(good.data(), good.size());
  CHECK(r.status == ParseStatus::message_complete);
  CHECK(s.heads.size() == 1);
}

TEST_CASE("request parser: finish()", "[http][parser]") {
  RecordingRequestSink s;
  SECTION("clean close between requests") {
    RequestParser p(s);
    std::string req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
    CHECK(p.finish().status == ParseStatus::need_more);
  }
  SECTION("close on a fresh connection") {
    RequestParser p(s);
    CHECK(p.finish().status == ParseStatus::need_more);
  }
  SECTION("close mid-head") {
    RequestParser p(s);
    std::string part = "GET / HTTP/1.1\r\nHo";
    REQUIRE(p.feed(part.data(), part.size()).status == ParseStatus::need_more);
    auto r = p.finish();
    CHECK(r.status == ParseStatus::error);
    CHECK(r.error_status == 400);
  }
  SECTION("close mid-body") {
    RequestParser p(s);
    std::string part = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc";
    REQUIRE(p.feed(part.data(), part.size()).status == ParseStatus::need_more);
    CHECK(p.finish().status == ParseStatus::error);
    CHECK(s.completes == 0);
  }
}

TEST_CASE("request parser: storage is reused across messages", "[http][parser]") {
  RecordingRequestSink s;
  RequestParser p(s);
  std::string req = "GET /x HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  const Header* first = p.head().headers.items.data();
  const char* target_storage = p.head().target.data();
  for (int i = 0; i < 100; ++i) {
    REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  }
  // Same vector buffer and same text buffer: no reallocation in steady state.
  CHECK(p.head().headers.items.data() == first);
  CHECK(p.head().target.data() == target_storage);
  CHECK(s.heads.size() == 101);
}

TEST_CASE("request parser: trailer section is bounded", "[http][parser]") {
  ParserLimits limits;
  limits.max_head_bytes = 100;
  std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  std::string small = head + "T: " + std::string(50, 'v') + "\r\n\r\n";
  std::string big = head;
  for (int i = 0; i < 20; ++i) big += "T" + std::to_string(i) + ": " + std::string(20, 'v') + "\r\n";
  big += "\r\n";
  {
    RecordingRequestSink s;
    RequestParser p(s, limits);
    CHECK(p.feed(small.data(), small.size()).status == ParseStatus::message_complete);
  }
  RecordingRequestSink s;
  RequestParser p(s, limits);
  auto r = p.feed(big.data(), big.size());
  CHECK(r.status == ParseStatus::error);
  CHECK(r.error_status == 431);
  CHECK(s.completes == 0);
}
