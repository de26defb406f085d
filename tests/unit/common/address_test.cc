#include <catch2/catch.hpp>

#include "common/address.h"

using ebb::parse_host_port;

TEST_CASE("host:port and [v6]:port parse", "[address]") {
  auto a = parse_host_port("127.0.0.1:8080");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 8080);
  auto b = parse_host_port("[::1]:9901");
  REQUIRE(b.ok());
  CHECK(b->host == "::1");
  CHECK(b->port == 9901);
  CHECK(b->str() == "[::1]:9901");
  auto c = parse_host_port("app2.internal:9001");
  REQUIRE(c.ok());
  CHECK(c->str() == "app2.internal:9001");
}

TEST_CASE("bad addresses are errors", "[address]") {
  for (const char* bad : {"", "localhost", ":80", "host:", "host:0", "host:65536", "host:80x",
                          "::1:80", "[::1]", "[::1]80", "[]:80", "a b:80"}) {
    INFO(bad);
    CHECK_FALSE(parse_host_port(bad).ok());
  }
  CHECK(parse_host_port("0.0.0.0:0", true).ok());
}
