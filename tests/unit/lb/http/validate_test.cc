#include <catch2/catch.hpp>

#include "lb/http/message.h"
#include "lb/http/validate.h"

using namespace ebb::lb::http;

TEST_CASE("validate: tokens", "[http][validate]") {
  CHECK(is_token("Content-Type"));
  CHECK(is_token("x!#$%&'*+-.^_`|~9"));
  CHECK_FALSE(is_token(""));
  CHECK_FALSE(is_token("Host "));
  CHECK_FALSE(is_token("a:b"));
  CHECK_FALSE(is_token("a\"b"));
  CHECK_FALSE(is_token(std::string_view("a\0b", 3)));
  CHECK_FALSE(is_token("caf\xc3\xa9"));
}

TEST_CASE("validate: field values", "[http][validate]") {
  CHECK(is_valid_field_value(""));
  CHECK(is_valid_field_value("a b\tc \xff"));
  CHECK_FALSE(is_valid_field_value("a\rb"));
  CHECK_FALSE(is_valid_field_value("a\nb"));
  CHECK_FALSE(is_valid_field_value(std::string_view("a\0b", 3)));
  CHECK_FALSE(is_valid_field_value("a\x7f"));
}

TEST_CASE("validate: Content-Length", "[http][validate]") {
  CHECK(parse_content_length("0") == 0u);
  CHECK(parse_content_length("00012") == 12u);
  CHECK(parse_content_length("9223372036854775807") == 9223372036854775807ull);
  CHECK_FALSE(parse_content_length("9223372036854775808"));
  CHECK_FALSE(parse_content_length("99999999999999999999"));
  CHECK_FALSE(parse_content_length(""));
  CHECK_FALSE(parse_content_length("+1"));
  CHECK_FALSE(parse_content_length("-1"));
  CHECK_FALSE(parse_content_length("1 "));
  CHECK_FALSE(parse_content_length("1,1"));
  CHECK_FALSE(parse_content_length("0x10"));
}

TEST_CASE("validate: Transfer-Encoding", "[http][validate]") {
  CHECK(is_plain_chunked("chunked"));
  CHECK(is_plain_chunked("CHUNKED"));
  CHECK(is_plain_chunked("Chunked"));
  CHECK_FALSE(is_plain_chunked("chunked "));
  CHECK_FALSE(is_plain_chunked("xchunked"));
  CHECK_FALSE(is_plain_chunked("gzip, chunked"));
  CHECK_FALSE(is_plain_chunked("chunked, gzip"));
  CHECK_FALSE(is_plain_chunked("chunke\xe4"));  // 'd' | 0x80 must not match
}

TEST_CASE("validate: Host", "[http][validate]") {
  std::string_view h;
  CHECK(parse_host("example.com", h));
  CHECK(h == "example.com");
  CHECK(parse_host("Example.com:8080", h));
  CHECK(h == "Example.com");
  CHECK(parse_host("[::1]:80", h));
  CHECK(h == "[::1]");
  CHECK(parse_host("[2001:db8::1]", h));
  CHECK(parse_host("10.0.0.1:", h));
  CHECK(h == "10.0.0.1");
  CHECK(parse_host("", h));
  CHECK(h.empty());
  CHECK_FALSE(parse_host("a b", h));
  CHECK_FALSE(parse_host("a/b", h));
  CHECK_FALSE(parse_host("u@a", h));
  CHECK_FALSE(parse_host(":80", h));
  CHECK_FALSE(parse_host("a:8x", h));
  CHECK_FALSE(parse_host("a:123456", h));
  CHECK_FALSE(parse_host("[::1", h));
  CHECK_FALSE(parse_host("[::g]", h));
  CHECK_FALSE(parse_host("[::1]x", h));
  CHECK_FALSE(parse_host("a:1:2", h));
}

TEST_CASE("iequals", "[http][validate]") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK_FALSE(iequals("a", "ab"));
  CHECK_FALSE(iequals("@", "`"));  // 0x40 vs 0x60: not letters
  CHECK_FALSE(iequals("[", "{"));
}
