#include "lb/access_log.h"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

TEST_CASE("access log line is one valid JSON object with every field", "[access_log]") {
  ebb::lb::RequestRecord r;
  r.start_unix_ms = 1700000000123;
  r.client = "10.0.0.1";
  r.listener = "web";
  r.pool = "app";
  r.backend = "127.0.0.1:9001";
  r.method = "GET";
  r.path = "/a\"b\\c\x01\xff";
  r.status = 200;
  r.bytes_in = 10;
  r.bytes_out = 20;
  r.duration_ms = 1.5;
  r.upstream_ms = 0.25;
  std::string line;
  ebb::lb::AccessLog::format(r, line);
  auto j = nlohmann::json::parse(line);
  CHECK(j["time"] == "2023-11-14T22:13:20.123Z");
  CHECK(j["type"] == "http");
  CHECK(j["client"] == "10.0.0.1");
  CHECK(j["listener"] == "web");
  CHECK(j["pool"] == "app");
  CHECK(j["backend"] == "127.0.0.1:9001");
  CHECK(j["method"] == "GET");
  CHECK(j["path"] == "/a\"b\\c\x01\xc3\xbf");  // \u00ff
  CHECK(j["status"] == 200);
  CHECK(j["bytes_in"] == 10);
  CHECK(j["bytes_out"] == 20);
  CHECK(j["duration_ms"].get<double>() == Approx(1.5));
  CHECK(j["upstream_ms"].get<double>() == Approx(0.25));
}

TEST_CASE("access log TCP record has no HTTP fields and null upstream time when unknown", "[access_log]") {
  ebb::lb::RequestRecord r;
  r.tcp = true;
  r.client = "::1";
  std::string line;
  ebb::lb::AccessLog::format(r, line);
  auto j = nlohmann::json::parse(line);
  CHECK(j["type"] == "tcp");
  CHECK_FALSE(j.contains("status"));
  CHECK_FALSE(j.contains("method"));
  CHECK(j["upstream_ms"].is_null());
}
