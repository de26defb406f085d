// Admin API routing, validation, status codes and auth, without sockets.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "fake_control_api.h"
#include "lb/admin/routes.h"

using ebb::lb::admin::AdminReply;
using ebb::lb::admin::AdminRequest;
using ebb::lb::admin::handle_admin_request;
using ebb::lb::admin::TokenAuth;
using nlohmann::json;

namespace {
struct Fixture {
  ebb::test::FakeControlApi api;
  TokenAuth auth{""};
  AdminReply call(const std::string& method, const std::string& target, const std::string& body = "",
                  const std::string& authz = "") {
    return handle_admin_request(api, auth, AdminRequest{method, target, authz, body, false});
  }
};
json body(const AdminReply& r) { return json::parse(r.body); }
}  // namespace

TEST_CASE("routes: healthz, dashboard placeholder, metrics") {
  Fixture f;
  auto r = f.call("GET", "/healthz");
  CHECK(r.status == 200);
  CHECK(r.body == "ok");
  r = f.call("GET", "/");
  CHECK(r.status == 200);
  CHECK(r.content_type.rfind("text/html", 0) == 0);
  r = f.call("GET", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.body == f.api.metrics);
  CHECK(f.call("POST", "/healthz").status == 405);
  CHECK(f.call("GET", "/nope").status == 404);
  CHECK(body(f.call("GET", "/nope"))["error"] == "no such route: /nope");
}

TEST_CASE("routes: pools") {
  Fixture f;
  auto r = f.call("GET", "/api/v1/pools");
  REQUIRE(r.status == 200);
  auto j = body(r);
  REQUIRE(j.is_array());
  CHECK(j.size() == 2);
  r = f.call("GET", "/api/v1/pools/app");
  REQUIRE(r.status == 200);
  CHECK(body(r)["backends"][0]["address"] == "127.0.0.1:9001");
  CHECK(f.call("GET", "/api/v1/pools/none").status == 404);
  CHECK(f.call("DELETE", "/api/v1/pools/app").status == 405);
  CHECK(f.call("POST", "/api/v1/pools").status == 405);
  auto allow = f.call("PATCH", "/api/v1/pools/app/backends");
  CHECK(allow.status == 405);
  REQUIRE(allow.headers.size() == 1);
  CHECK(allow.headers[0] == std::make_pair(std::string("Allow"), std::string("GET, HEAD, POST")));
}

TEST_CASE("routes: add backend") {
  Fixture f;
  auto r = f.call("POST", "/api/v1/pools/app/backends", R"({"address": "127.0.0.1:9002", "weight": 3})");
  CHECK(r.status == 201);
  CHECK(body(r)["weight"] == 3);
  r = f.call("POST", "/api/v1/pools/app/backends", R"({"address": "127.0.0.1:9002"})");
  CHECK(r.status == 200);
  CHECK(f.call("POST", "/api/v1/pools/zzz/backends", R"({"address": "127.0.0.1:9002"})").status == 404);
  // validation: 400 with a message naming the problem
  for (const char* bad : {"", "nope", "[1,2]", R"({"weight": 1})", R"({"address": 5})",
                          R"({"address": "no-port"})", R"({"address": "h:0"})",
                          R"({"address": "h:70000"})", R"({"address": "h:1", "weight": 0})",
                          R"({"address": "h:1", "weight": "2"})", R"({"address": "h:1", "weight": 1.5})",
                          R"({"address": "h:1", "extra": true})"}) {
    INFO(bad);
    auto e = f.call("POST", "/api/v1/pools/app/backends", bad);
    CHECK(e.status == 400);
    CHECK(body(e)["error"].is_string());
  }
  f.call("DELETE", "/api/v1/pools/app/backends/127.0.0.1:9002");
  CHECK(f.call("POST", "/api/v1/pools/app/backends", R"({"address": "127.0.0.1:9002"})").status == 409);
}

TEST_CASE("routes: drain, update, percent-encoded addresses") {
  Fixture f;
  auto r = f.call("DELETE", "/api/v1/pools/app/backends/127.0.0.1%3A9001");
  CHECK(r.status == 202);
  CHECK(f.api.pools_map["app"][0].state == "draining");
  CHECK(f.call("DELETE", "/api/v1/pools/app/backends/127.0.0.1:9999").status == 404);
  CHECK(f.call("DELETE", "/api/v1/pools/app/backends/not-an-address").status == 400);
  CHECK(f.call("DELETE", "/api/v1/pools/app/backends/%zz").status == 400);

  r = f.call("PUT", "/api/v1/pools/app/backends/127.0.0.1:9001", R"({"state": "healthy"})");
  CHECK(r.status == 200);
  CHECK(f.api.pools_map["app"][0].state == "healthy");
  r = f.call("PUT", "/api/v1/pools/app/backends/127.0.0.1:9001", R"({"weight": 7})");
  CHECK(r.status == 200);
  CHECK(f.api.pools_map["app"][0].weight == 7);
  CHECK(f.call("PUT", "/api/v1/pools/app/backends/127.0.0.1:9001", R"({"state": "unknown"})").status == 400);
  CHECK(f.call("PUT", "/api/v1/pools/app/backends/127.0.0.1:9001", R"({})").status == 400);
  CHECK(f.call("PUT", "/api/v1/pools/app/backends/127.0.0.1:9001", R"({"weight": -1})").status == 400);
  CHECK(f.call("PUT", "/api/v1/pools/app/backends/127.0.0.1:9009", R"({"weight": 2})").status == 404);

  r = f.call("GET", "/api/v1/pools/app/backends/127.0.0.1:9001");
  CHECK(r.status == 200);
  CHECK(body(r)["weight"] == 7);
  CHECK(f.call("POST", "/api/v1/pools/app/backends/127.0.0.1:9001").status == 405);
  CHECK(f.call("GET", "/api/v1/pools/app/backends/127.0.0.1:9001/x").status == 404);
}

TEST_CASE("routes: reload and events") {
  Fixture f;
  CHECK(f.call("POST", "/api/v1/reload").status == 200);
  f.api.reload_ok = false;
  auto r = f.call("POST", "/api/v1/reload");
  CHECK(r.status == 400);
  CHECK(body(r)["errors"][0] == "lb.toml:3:1: bad");
  CHECK(f.call("GET", "/api/v1/reload").status == 405);
  r = f.call("GET", "/api/v1/events?since=41&limit=5");
  CHECK(r.status == 200);
  CHECK(body(r)[0]["seq"] == 42);
  CHECK(body(r)[0]["limit"] == 5);
  CHECK(f.call("GET", "/api/v1/events?since=x").status == 400);
}

TEST_CASE("routes: bearer token on mutating routes only") {
  Fixture f;
  f.auth = TokenAuth("s3cret");
  CHECK(f.call("GET", "/api/v1/pools").status == 200);
  CHECK(f.call("GET", "/metrics").status == 200);
  auto r = f.call("POST", "/api/v1/reload");
  CHECK(r.status == 401);
  CHECK(r.headers.at(0).first == "WWW-Authenticate");
  CHECK(f.call("POST", "/api/v1/reload", "", "Bearer wrong").status == 401);
  CHECK(f.call("POST", "/api/v1/reload", "", "Bearer s3cre").status == 401);
  CHECK(f.call("POST", "/api/v1/reload", "", "Basic s3cret").status == 401);
  CHECK(f.call("POST", "/api/v1/reload", "", "Bearer s3cret").status == 200);
  CHECK(f.call("POST", "/api/v1/reload", "", "bearer  s3cret ").status == 200);
  CHECK(f.call("DELETE", "/api/v1/pools/app/backends/127.0.0.1:9001").status == 401);
  CHECK(f.call("PUT", "/api/v1/pools/app/backends/127.0.0.1:9001", R"({"weight": 2})").status == 401);
  CHECK(f.call("POST", "/api/v1/pools/app/backends", R"({"address": "h:1"})").status == 401);
  CHECK(f.api.reloads == 2);
  CHECK(f.api.pools_map["app"].size() == 1);
}

TEST_CASE("routes: token file") {
  const std::string path = "/tmp/ebb-admin-token-test";
  {
    std::ofstream(path) << "  abc123 \n second line ignored\n";
  }
  auto t = ebb::lb::admin::read_token_file(path);
  REQUIRE(t);
  CHECK(*t == "abc123");
  { std::ofstream(path) << "\n"; }
  CHECK_FALSE(ebb::lb::admin::read_token_file(path));
  std::remove(path.c_str());
  CHECK_FALSE(ebb::lb::admin::read_token_file(path));
}

TEST_CASE("routes: an exception in the API becomes a 500") {
  struct Throwing : ebb::test::FakeControlApi {
    nlohmann::json pools() override { throw std::runtime_error("boom"); }
  } api;
  TokenAuth auth;
  auto r = handle_admin_request(api, auth, AdminRequest{"GET", "/api/v1/pools", "", "", false});
  CHECK(r.status == 500);
  CHECK(json::parse(r.body)["error"] == "internal error");
}

TEST_CASE("routes: percent_decode") {
  bool ok = false;
  CHECK(ebb::lb::admin::percent_decode("%5B%3A%3A1%5D%3A80", &ok) == "[::1]:80");
  CHECK(ok);
  ebb::lb::admin::percent_decode("%4", &ok);
  CHECK_FALSE(ok);
  ebb::lb::admin::percent_decode("%", &ok);
  CHECK_FALSE(ok);
}
