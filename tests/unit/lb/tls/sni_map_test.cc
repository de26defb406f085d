#include <catch2/catch.hpp>

#include "lb/tls/sni_map.h"

using ebb::lb::tls::SniMap;

TEST_CASE("sni_map: exact names win over wildcards, case-insensitively", "[tls][sni]") {
  SniMap m;
  REQUIRE(m.add("example.com", 0));
  REQUIRE(m.add("*.example.com", 1));
  REQUIRE(m.add("API.example.com", 2));
  CHECK(m.find("example.com") == 0u);
  CHECK(m.find("Example.COM.") == 0u);  // trailing dot, upper case
  CHECK(m.find("www.example.com") == 1u);
  CHECK(m.find("api.example.com") == 2u);
}

TEST_CASE("sni_map: a wildcard covers exactly one label", "[tls][sni]") {
  SniMap m;
  REQUIRE(m.add("*.example.org", 7));
  CHECK(m.find("a.example.org") == 7u);
  CHECK_FALSE(m.find("example.org"));
  CHECK_FALSE(m.find("a.b.example.org"));
  CHECK_FALSE(m.find(".example.org"));
  CHECK_FALSE(m.find("aexample.org"));
}

TEST_CASE("sni_map: first registration wins, bad patterns and names are refused", "[tls][sni]") {
  SniMap m;
  REQUIRE(m.add("a.example.com", 1));
  CHECK_FALSE(m.add("A.EXAMPLE.COM", 2));
  CHECK(m.find("a.example.com") == 1u);
  CHECK_FALSE(m.add("*.com", 3));            // a whole TLD
  CHECK_FALSE(m.add("w*.example.com", 3));   // partial wildcard
  CHECK_FALSE(m.add("*.*.example.com", 3));
  CHECK_FALSE(m.add("", 3));
  CHECK_FALSE(m.add("bad name.com", 3));
  CHECK_FALSE(m.find("*.example.com"));       // a client cannot ask for a wildcard
  CHECK_FALSE(m.find(std::string(300, 'a')));
  CHECK_FALSE(m.find(std::string("a\0b.com", 7)));
  CHECK_FALSE(m.find(""));
}
