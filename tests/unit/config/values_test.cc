#include <catch2/catch.hpp>

#include "config/values.h"

using namespace ebb::config;

TEST_CASE("parse_expect", "[config][values]") {
  CHECK(*parse_expect("200-399") == std::pair{200, 399});
  CHECK(*parse_expect("204") == std::pair{204, 204});
  CHECK(!parse_expect("99"));
  CHECK(!parse_expect("200-600"));
  CHECK(!parse_expect("300-200"));
  CHECK(!parse_expect("2xx"));
  CHECK(!parse_expect(""));
  CHECK(!parse_expect("-"));
  CHECK(!parse_expect("200-"));
}

TEST_CASE("parse_hash_key", "[config][values]") {
  CHECK(parse_hash_key("source_ip")->kind == HashKey::Kind::source_ip);
  CHECK(parse_hash_key("uri")->kind == HashKey::Kind::uri);
  auto h = parse_hash_key("header:X-Tenant");
  REQUIRE(h);
  CHECK(h->kind == HashKey::Kind::header);
  CHECK(h->name == "X-Tenant");
  auto c = parse_hash_key("cookie:sid");
  REQUIRE(c);
  CHECK(c->kind == HashKey::Kind::cookie);
  CHECK(c->name == "sid");
  CHECK(!parse_hash_key("cookie:"));
  CHECK(!parse_hash_key("header:a b"));
  CHECK(!parse_hash_key("ip"));
}

TEST_CASE("parse_port_range", "[config][values]") {
  CHECK(*parse_port_range("9100-9199") == std::pair<uint16_t, uint16_t>{9100, 9199});
  CHECK(*parse_port_range("8080") == std::pair<uint16_t, uint16_t>{8080, 8080});
  CHECK(!parse_port_range("0-10"));
  CHECK(!parse_port_range("10-70000"));
  CHECK(!parse_port_range("20-10"));
  CHECK(!parse_port_range("a-b"));
}

TEST_CASE("parse_http_url", "[config][values]") {
  CHECK(parse_http_url("http://127.0.0.1:9901")->str() == "127.0.0.1:9901");
  CHECK(parse_http_url("http://[::1]:9901/")->str() == "[::1]:9901");
  CHECK(parse_http_url("http://lb.internal:80")->host == "lb.internal");
  CHECK(!parse_http_url("127.0.0.1:9901"));
  CHECK(!parse_http_url("https://127.0.0.1:9901"));
  CHECK(!parse_http_url("http://127.0.0.1"));
  CHECK(!parse_http_url("http://127.0.0.1:9901/api"));
  CHECK(!parse_http_url("http://user@127.0.0.1:9901"));
}

TEST_CASE("host patterns and tokens", "[config][values]") {
  CHECK(check_host_pattern("api.example.com"));
  CHECK(check_host_pattern("*.example.com"));
  CHECK(!check_host_pattern("*"));
  CHECK(!check_host_pattern("a.*.com"));
  CHECK(!check_host_pattern("a..com"));
  CHECK(!check_host_pattern("host:80"));
  CHECK(is_http_token("X-Forwarded-For"));
  CHECK(!is_http_token(""));
  CHECK(!is_http_token("a b"));
  CHECK(!is_http_token("a;b"));
}
