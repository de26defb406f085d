#include <catch2/catch.hpp>

#include "lb/http/router.h"

using namespace ebb::lb::http;

namespace {

ebb::config::Listener listener_with(std::vector<ebb::config::Route> routes) {
  ebb::config::Listener l;
  l.name = "web";
  l.pool = "default";
  l.routes = std::move(routes);
  return l;
}

std::string pool_of(const Router& r, std::string_view host, std::string_view path) {
  auto m = r.route(host, path);
  REQUIRE(m.pool != nullptr);
  return *m.pool;
}

}  // namespace

TEST_CASE("router: no routes goes to the default pool", "[http][router]") {
  Router r(listener_with({}));
  auto m = r.route("a.test", "/");
  CHECK(m.route == -1);
  CHECK(*m.pool == "default");
  CHECK(r.default_pool() == "default");
}

TEST_CASE("router: exact host, case-insensitive, port ignored", "[http][router]") {
  Router r(listener_with({{"API.Example.com", "", "api"}}));
  CHECK(pool_of(r, "api.example.com", "/") == "api");
  CHECK(pool_of(r, "API.EXAMPLE.COM", "/x") == "api");
  CHECK(pool_of(r, "api.example.com:8443", "/") == "api");
  CHECK(pool_of(r, "www.example.com", "/") == "default");
  CHECK(pool_of(r, "api.example.com.evil", "/") == "default");
  CHECK(pool_of(r, "", "/") == "default");
  CHECK(r.route("api.example.com", "/").route == 0);
}

TEST_CASE("router: wildcard host", "[http][router]") {
  Router r(listener_with({{"*.example.com", "", "wild"}}));
  CHECK(pool_of(r, "a.example.com", "/") == "wild");
  CHECK(pool_of(r, "A.B.Example.COM:80", "/") == "wild");
  CHECK(pool_of(r, "example.com", "/") == "default");
  CHECK(pool_of(r, ".example.com", "/") == "default");
  CHECK(pool_of(r, "aexample.com", "/") == "default");
  CHECK(pool_of(r, "a.example.org", "/") == "default");
}

TEST_CASE("router: path prefix", "[http][router]") {
  Router r(listener_with({{"", "/api/", "api"}, {"", "/static", "static"}}));
  CHECK(pool_of(r, "x", "/api/v1") == "api");
  CHECK(pool_of(r, "x", "/api/") == "api");
  CHECK(pool_of(r, "x", "/api") == "default");
  CHECK(pool_of(r, "x", "/API/v1") == "default");  // paths are case-sensitive
  CHECK(pool_of(r, "x", "/staticfile") == "static");
  CHECK(pool_of(r, "", "/static/a.css") == "static");
}

TEST_CASE("router: host and path together, first match wins", "[http][router]") {
  Router r(listener_with({
      {"api.example.com", "/v2/", "api-v2"},
      {"api.example.com", "", "api"},
      {"*.example.com", "/v2/", "wild-v2"},
      {"", "/", "catch-all"},
  }));
  CHECK(pool_of(r, "api.example.com", "/v2/x") == "api-v2");
  CHECK(pool_of(r, "api.example.com", "/v1/x") == "api");
  CHECK(pool_of(r, "b.example.com", "/v2/x") == "wild-v2");
  CHECK(pool_of(r, "b.example.com", "/v1/x") == "catch-all");
  CHECK(r.route("b.example.com", "/v1/x").route == 3);
  CHECK(pool_of(r, "other", "*") == "default");  // "*" does not start with "/"
}

TEST_CASE("router: IPv6 host with port", "[http][router]") {
  Router r(listener_with({{"[::1]", "", "local"}}));
  CHECK(pool_of(r, "[::1]:8080", "/") == "local");
  CHECK(pool_of(r, "[::1]", "/") == "local");
  CHECK(pool_of(r, "[::2]", "/") == "default");
}

TEST_CASE("router: trailing dot of the request host", "[http][router]") {
  Router r(listener_with({{"example.com", "", "ex"}, {"*.example.org", "", "org"}}));
  CHECK(pool_of(r, "example.com.", "/") == "ex");
  CHECK(pool_of(r, "Example.COM.:80", "/") == "ex");
  CHECK(pool_of(r, "a.example.org.", "/") == "org");
}
