#include <catch2/catch.hpp>

#include "lb/http/parser.h"
#include "sinks.h"

using namespace ebb::lb::http;
using namespace ebb::lb::http::test;

TEST_CASE("response parser: Content-Length response and keep-alive", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(false, false);
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: t\r\n\r\nhello";
  auto r = p.feed(resp.data(), resp.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == resp.size());
  REQUIRE(s.heads.size() == 1);
  CHECK(s.heads[0].status == 200);
  CHECK(s.heads[0].reason == "OK");
  CHECK(s.heads[0].keep_alive);
  CHECK(s.heads[0].content_length == 5u);
  CHECK(s.bodies[0] == "hello");
  CHECK(p.head().find("server")->value == "t");
}

TEST_CASE("response parser: response to HEAD has no body", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(true, false);
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  std::string next = "HTTP/1.1 204 No Content\r\n\r\n";
  std::string all = resp + next;
  auto r = p.feed(all.data(), all.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == resp.size());
  CHECK(s.heads[0].no_body);
  CHECK(s.heads[0].content_length == 1000u);
  CHECK(s.bodies[0].empty());
  p.expect(false, false);
  r = p.feed(all.data() + resp.size(), next.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(s.heads[1].status == 204);
  CHECK(s.heads[1].no_body);
}

TEST_CASE("response parser: HEAD response with chunked framing has no body", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(true, false);
  std::string resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto r = p.feed(resp.data(), resp.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(s.heads[0].chunked);
  CHECK(s.heads[0].no_body);
  CHECK(s.heads[0].keep_alive);
}

TEST_CASE("response parser: 204 and 304 have no body even with framing headers", "[http][response]") {
  for (std::string status : {"204 No Content", "304 Not Modified"}) {
    RecordingResponseSink s;
    ResponseParser p(s);
    p.expect(false, false);
    std::string resp = "HTTP/1.1 " + status + "\r\nContent-Length: 10\r\n\r\n";
    auto r = p.feed(resp.data(), resp.size());
    REQUIRE(r.status == ParseStatus::message_complete);
    CHECK(r.consumed == resp.size());
    CHECK(s.heads[0].no_body);
  }
}

TEST_CASE("response parser: 100 Continue then the final response", "[http][response]") {
  std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  std::string final_resp = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  std::string all = interim + final_resp;
  for (size_t step : {0, 1, 5}) {
    INFO("step " << step);
    RecordingResponseSink s;
    ResponseParser p(s);
    p.expect(false, false);
    auto r = feed_all(p, all, step);
    REQUIRE(r.status == ParseStatus::message_complete);
    REQUIRE(s.heads.size() == 2);
    CHECK(s.heads[0].status == 100);
    CHECK(s.heads[0].no_body);
    CHECK(s.heads[1].status == 201);
    CHECK(s.bodies[1] == "ok");
    CHECK(s.completes == 2);
  }
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(false, false);
  auto r = p.feed(all.data(), all.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK(r.consumed == interim.size());
  CHECK(p.head().status == 100);
}

TEST_CASE("response parser: close-delimited body", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(false, false);
  std::string resp = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this until close";
  auto r = p.feed(resp.data(), resp.size());
  REQUIRE(r.status == ParseStatus::need_more);
  CHECK(r.consumed == resp.size());
  CHECK(s.heads[0].until_close);
  CHECK_FALSE(s.heads[0].keep_alive);
  CHECK(s.completes == 0);
  r = p.finish();
  CHECK(r.status == ParseStatus::message_complete);
  CHECK(s.completes == 1);
  CHECK(s.bodies[0] == "all of this until close");
}

TEST_CASE("response parser: EOF mid-body is 502", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(false, false);
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
  REQUIRE(p.feed(resp.data(), resp.size()).status == ParseStatus::need_more);
  auto r = p.finish();
  CHECK(r.status == ParseStatus::error);
  CHECK(r.error_status == 502);
  CHECK(s.completes == 0);
}

TEST_CASE("response parser: chunked response", "[http][response]") {
  std::string resp =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "7\r\nchunked\r\n1;x=y\r\n!\r\n0\r\nTrailer-A: 1\r\n\r\n";
  for (size_t step : {0, 1, 4}) {
    RecordingResponseSink s;
    ResponseParser p(s);
    p.expect(false, false);
    auto r = feed_all(p, resp, step);
    REQUIRE(r.status == ParseStatus::message_complete);
    CHECK(s.bodies[0] == "chunked!");
    CHECK(s.heads[0].chunked);
    CHECK(s.heads[0].keep_alive);
  }
}

TEST_CASE("response parser: 101 to an upgrade request starts the tunnel", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(false, true);
  std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  std::string all = head + "\x81\x02hi";
  auto r = p.feed(all.data(), all.size());
  REQUIRE(r.status == ParseStatus::upgrade);
  CHECK(r.consumed == head.size());
  CHECK(s.heads[0].upgrade);
  CHECK(s.completes == 0);
}

TEST_CASE("response parser: 101 to a normal request is 502", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(false, false);
  std::string head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
  auto r = p.feed(head.data(), head.size());
  CHECK(r.status == ParseStatus::error);
  CHECK(r.error_status == 502);
  CHECK(s.heads.empty());
}

TEST_CASE("response parser: refused upgrade goes on as HTTP", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  p.expect(false, true);
  std::string resp = "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nno!";
  auto r = p.feed(resp.data(), resp.size());
  REQUIRE(r.status == ParseStatus::message_complete);
  CHECK_FALSE(s.heads[0].upgrade);
}

TEST_CASE("response parser: bad responses are 502", "[http][response]") {
  auto bad = [](const std::string& resp) {
    RecordingResponseSink s;
    ResponseParser p(s);
    p.expect(false, false);
    auto r = p.feed(resp.data(), resp.size());
    INFO(resp);
    CHECK(r.status == ParseStatus::error);
    CHECK(r.error_status == 502);
    CHECK(s.heads.empty());
  };
  bad("garbage\r\n\r\n");
  bad("HTTP/1.1 20 OK\r\n\r\n");
  bad("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
  bad("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  bad("HTTP/1.1 200 OK\r\nX : y\r\n\r\n");
  bad("HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n");
  bad("HTTP/1.1 200 OK\r\nX: y\r\n\n");
  bad("HTTP/2.0 200 OK\r\n\r\n");
}

TEST_CASE("response parser: head size limit gives 502", "[http][response]") {
  ParserLimits limits;
  limits.max_head_bytes = 64;
  RecordingResponseSink s;
  ResponseParser p(s, limits);
  p.expect(false, false);
  std::string resp = "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'a') + "\r\n\r\n";
  auto r = p.feed(resp.data(), resp.size());
  CHECK(r.status == ParseStatus::error);
  CHECK(r.error_status == 502);
}

TEST_CASE("response parser: keep-alive rules", "[http][response]") {
  auto keep = [](const std::string& resp) {
    RecordingResponseSink s;
    ResponseParser p(s);
    p.expect(false, false);
    auto r = p.feed(resp.data(), resp.size());
    REQUIRE(r.ok());
    return s.heads.at(0).keep_alive;
  };
  CHECK(keep("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  CHECK_FALSE(keep("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
  CHECK_FALSE(keep("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  CHECK(keep("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"));
  CHECK_FALSE(keep("HTTP/1.1 200 OK\r\n\r\n"));  // close-delimited
}

TEST_CASE("response parser: several responses on one connection", "[http][response]") {
  RecordingResponseSink s;
  ResponseParser p(s);
  std::string a = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na";
  std::string b = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nnf\r\n0\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    p.expect(false, false);
    REQUIRE(p.feed(a.data(), a.size()).status == ParseStatus::message_complete);
    p.expect(false, false);
    REQUIRE(p.feed(b.data(), b.size()).status == ParseStatus::message_complete);
  }
  REQUIRE(s.heads.size() == 6);
  CHECK(s.bodies[5] == "nf");
  CHECK(s.heads[5].status == 404);
}
