// Every request-smuggling vector of SPEC §4 (and what llhttp 8.1 lets through on its own) is
// answered 400 before any head reaches the proxy: checked all at once and byte by byte.
#include <catch2/catch.hpp>

#include "lb/http/parser.h"
#include "lb/http/validate.h"
#include "sinks.h"

using namespace ebb::lb::http;
using namespace ebb::lb::http::test;

namespace {

void expect_rejected(const std::string& req, int status = 400) {
  for (size_t step : {0, 1}) {
    RecordingRequestSink s;
    RequestParser p(s);
    auto r = feed_all(p, req, step);
    INFO("request: " << req << " step " << step << " reason " << r.reason);
    CHECK(r.status == ParseStatus::error);
    CHECK(r.error_status == status);
    CHECK(s.heads.empty());
    CHECK(s.completes == 0);
  }
}

// Errors inside a chunked body come after the (valid) head was delivered: the proxy has
// forwarded the head and re-chunked what it got, and now aborts both connections.
void expect_body_rejected(const std::string& req) {
  for (size_t step : {0, 1}) {
    RecordingRequestSink s;
    RequestParser p(s);
    auto r = feed_all(p, req, step);
    INFO("request: " << req << " step " << step << " reason " << r.reason);
    CHECK(r.status == ParseStatus::error);
    CHECK(r.error_status == 400);
    CHECK(s.completes == 0);
  }
}

void expect_accepted(const std::string& req) {
  RecordingRequestSink s;
  RequestParser p(s);
  auto r = feed_all(p, req, 0);
  INFO("request: " << req << " reason " << r.reason);
  CHECK(r.status == ParseStatus::message_complete);
  CHECK(s.heads.size() == 1);
}

const std::string kPost = "POST / HTTP/1.1\r\nHost: a\r\n";

}  // namespace

TEST_CASE("smuggling: framing headers", "[http][smuggling]") {
  SECTION("Content-Length and Transfer-Encoding") {
    expect_rejected(kPost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding then Content-Length") {
    expect_rejected(kPost + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n");
  }
  SECTION("two differing Content-Length") {
    expect_rejected(kPost + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef");
  }
  SECTION("two identical Content-Length (never merged)") {
    expect_rejected(kPost + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nabcde");
  }
  SECTION("Content-Length list") { expect_rejected(kPost + "Content-Length: 5, 5\r\n\r\nabcde"); }
  SECTION("Content-Length with sign") { expect_rejected(kPost + "Content-Length: +5\r\n\r\nabcde"); }
  SECTION("Content-Length negative") { expect_rejected(kPost + "Content-Length: -1\r\n\r\n"); }
  SECTION("Content-Length hex") { expect_rejected(kPost + "Content-Length: 0x5\r\n\r\nabcde"); }
  SECTION("Content-Length empty") { expect_rejected(kPost + "Content-Length: \r\n\r\n"); }
  SECTION("Content-Length inner space") { expect_rejected(kPost + "Content-Length: 1 2\r\n\r\n"); }
  SECTION("Content-Length overflow") {
    expect_rejected(kPost + "Content-Length: 99999999999999999999999\r\n\r\n");
  }
  SECTION("Transfer-Encoding: chunked, gzip (chunked not final)") {
    expect_rejected(kPost + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding: gzip, chunked (only a single chunked is accepted)") {
    expect_rejected(kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding: gzip") { expect_rejected(kPost + "Transfer-Encoding: gzip\r\n\r\n"); }
  SECTION("Transfer-Encoding: xchunked") {
    expect_rejected(kPost + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding: chunkedx") {
    expect_rejected(kPost + "Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding: 'chunked ' (trailing space)") {
    expect_rejected(kPost + "Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding: chunked with trailing tab") {
    expect_rejected(kPost + "Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding twice") {
    expect_rejected(kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding: identity then chunked in two headers") {
    expect_rejected(kPost + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding in HTTP/1.0") {
    expect_rejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  }
  SECTION("Transfer-Encoding with space before colon") {
    expect_rejected(kPost + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n");
  }
  SECTION("chunk size with bad characters") {
    expect_body_rejected(kPost + "Transfer-Encoding: chunked\r\n\r\n5x\r\nabcde\r\n0\r\n\r\n");
  }
  SECTION("chunk data longer than its size") {
    expect_body_rejected(kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n");
  }
  SECTION("bare LF after chunk size") {
    expect_body_rejected(kPost + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n");
  }
  SECTION("bare LF after chunk data") {
    expect_body_rejected(kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n");
  }
  SECTION("bare LF ending the last chunk") {
    expect_body_rejected(kPost + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\n");
  }
  SECTION("bare LF ending the trailers") {
    expect_body_rejected(kPost + "Transfer-Encoding: chunked\r\n\r\n0\r\nT: x\r\n\n");
  }
}

TEST_CASE("smuggling: header syntax", "[http][smuggling]") {
  SECTION("space before colon (llhttp accepts it)") { expect_rejected("GET / HTTP/1.1\r\nHost : a\r\n\r\n"); }
  SECTION("tab before colon") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n"); }
  SECTION("space inside a name") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX Y: b\r\n\r\n"); }
  SECTION("empty name") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"); }
  SECTION("non-token name char") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n"); }
  SECTION("obs-fold continuation line") {
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n");
  }
  SECTION("obs-fold with tab") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n"); }
  SECTION("obs-fold after an empty value") {
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX:\r\n c\r\n\r\n");
  }
  SECTION("whitespace-prefixed first header line") {
    expect_rejected("GET / HTTP/1.1\r\n Host: a\r\n\r\n");
  }
  SECTION("bare LF line endings") { expect_rejected("GET / HTTP/1.1\nHost: a\n\n"); }
  SECTION("bare LF after a header") { expect_rejected("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"); }
  SECTION("bare LF as the blank line (llhttp accepts it)") {
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n\n");
  }
  SECTION("bare CR line ending") { expect_rejected("GET / HTTP/1.1\rHost: a\r\n\r\n"); }
  SECTION("bare CR inside a value") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"); }
  SECTION("bare CR as the blank line") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"); }
  SECTION("NUL in a value") {
    static const char kReq[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
    expect_rejected(std::string(kReq, sizeof kReq - 1));
  }
  SECTION("NUL in a name") {
    static const char kReq[] = "GET / HTTP/1.1\r\nHost: a\r\nX\0: b\r\n\r\n";
    expect_rejected(std::string(kReq, sizeof kReq - 1));
  }
  SECTION("DEL in a value") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f" "b\r\n\r\n"); }
  SECTION("control character in the target") { expect_rejected("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"); }
  SECTION("space in the target") { expect_rejected("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"); }
  SECTION("tab in the target (llhttp accepts it)") {
    expect_rejected("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n");
  }
  SECTION("DEL in the target") { expect_rejected("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n"); }
  SECTION("trailing space after the version") { expect_rejected("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"); }
  SECTION("tab between method and target") { expect_rejected("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"); }
}

TEST_CASE("smuggling: every CTL byte in a header value is rejected", "[http][smuggling]") {
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\t') continue;
    std::string req = "GET / HTTP/1.1\r\nHost: a\r\nX: a";
    req.push_back(char(c));
    req += "b\r\n\r\n";
    INFO("byte " << c);
    expect_rejected(req);
  }
  expect_accepted("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n");
  expect_accepted("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9\r\n\r\n");  // obs-text is allowed
}

TEST_CASE("smuggling: Host rules", "[http][smuggling]") {
  SECTION("HTTP/1.1 without Host") { expect_rejected("GET / HTTP/1.1\r\nX: y\r\n\r\n"); }
  SECTION("two Host headers") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"); }
  SECTION("two identical Host headers") { expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"); }
  SECTION("Host with a space") { expect_rejected("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"); }
  SECTION("Host with a path") { expect_rejected("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"); }
  SECTION("Host with userinfo") { expect_rejected("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"); }
  SECTION("Host with a bad port") { expect_rejected("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n"); }
  SECTION("Host with obs-text") { expect_rejected("GET / HTTP/1.1\r\nHost: \xff\r\n\r\n"); }
  SECTION("absolute-form with userinfo") {
    expect_rejected("GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n");
  }
  SECTION("absolute-form with another scheme") {
    expect_rejected("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n");
  }
  SECTION("asterisk for GET") { expect_rejected("GET * HTTP/1.1\r\nHost: a\r\n\r\n"); }
  SECTION("HTTP/1.0 without Host is fine") { expect_accepted("GET / HTTP/1.0\r\n\r\n"); }
  SECTION("empty Host is fine") { expect_accepted("GET / HTTP/1.1\r\nHost:\r\n\r\n"); }
}

TEST_CASE("smuggling: versions and methods", "[http][smuggling]") {
  SECTION("HTTP/2.0 request line (llhttp accepts it)") { expect_rejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n"); }
  SECTION("HTTP/0.9 (llhttp accepts it)") { expect_rejected("GET / HTTP/0.9\r\nHost: a\r\n\r\n"); }
  SECTION("HTTP/1.2") { expect_rejected("GET / HTTP/1.2\r\nHost: a\r\n\r\n"); }
  SECTION("lowercase version") { expect_rejected("GET / http/1.1\r\nHost: a\r\n\r\n"); }
  SECTION("unknown method") { expect_rejected("FOO / HTTP/1.1\r\nHost: a\r\n\r\n"); }
  SECTION("lowercase method") { expect_rejected("get / HTTP/1.1\r\nHost: a\r\n\r\n"); }
  SECTION("HTTP/2 preface") { expect_rejected("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"); }
  SECTION("CONNECT is not supported") { expect_rejected("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501); }
  SECTION("garbage") { expect_rejected("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"); }
}

TEST_CASE("smuggling: a rejected request never lets the next one through", "[http][smuggling]") {
  RecordingRequestSink s;
  RequestParser p(s);
  std::string attack = kPost + "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n";
  auto r = p.feed(attack.data(), attack.size());
  CHECK(r.status == ParseStatus::error);
  std::string next = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(p.feed(next.data(), next.size()).status == ParseStatus::error);
  CHECK(s.heads.empty());
}

// The parser relies on llhttp for most byte classes: these exhaustive checks pin down that the
// parser as a whole accepts a byte in a name / value exactly when validate.h says it is valid.
TEST_CASE("smuggling: header bytes accepted exactly per validate.h", "[http][smuggling]") {
  for (int c = 0; c < 256; ++c) {
    if (c == ':') continue;  // ends the name
    std::string name_req = "GET / HTTP/1.1\r\nHost: a\r\nX";
    name_req.push_back(char(c));
    name_req += "Y: v\r\n\r\n";
    std::string value_req = "GET / HTTP/1.1\r\nHost: a\r\nX: a";
    value_req.push_back(char(c));
    value_req += "b\r\n\r\n";
    for (int which = 0; which < 2; ++which) {
      const std::string& req = which == 0 ? name_req : value_req;
      bool valid = which == 0 ? is_token_char((unsigned char)c)
                              : is_valid_field_value(std::string_view(req).substr(28, 3));
      RecordingRequestSink s;
      RequestParser p(s);
      auto r = p.feed(req.data(), req.size());
      INFO("byte " << c << (which == 0 ? " in a name" : " in a value"));
      CHECK((r.status == ParseStatus::message_complete) == valid);
      CHECK(s.heads.size() == (valid ? 1u : 0u));
    }
  }
}
