#include <catch2/catch.hpp>

#include "lb/http/canned.h"
#include "lb/http/parser.h"
#include "sinks.h"

using namespace ebb::lb::http;
using namespace ebb::lb::http::test;

TEST_CASE("canned responses parse as valid HTTP with the right length", "[http][canned]") {
  for (int status : {400, 408, 413, 417, 431, 500, 501, 502, 503, 504}) {
    for (bool close : {false, true}) {
      INFO("status " << status << " close " << close);
      std::string bytes(canned_response(status, close));
      RecordingResponseSink s;
      ResponseParser p(s);
      p.expect(false, false);
      auto r = p.feed(bytes.data(), bytes.size());
      REQUIRE(r.status == ParseStatus::message_complete);
      CHECK(r.consumed == bytes.size());  // Content-Length matches the body exactly
      REQUIRE(s.heads.size() == 1);
      CHECK(s.heads[0].status == status);
      CHECK(s.heads[0].keep_alive == !close);
      CHECK(s.bodies[0].rfind(std::to_string(status) + " ", 0) == 0);
      CHECK(s.bodies[0].back() == '\n');
      bool has_type = false;
      for (const auto& [n, v] : s.heads[0].headers)
        if (n == "Content-Type" && v == "text/plain") has_type = true;
      CHECK(has_type);
    }
  }
}

TEST_CASE("canned responses: unknown status falls back to 500", "[http][canned]") {
  CHECK(canned_response(299, true) == canned_response(500, true));
  CHECK(canned_response(400, true) != canned_response(400, false));
  CHECK(continue_response() == "HTTP/1.1 100 Continue\r\n\r\n");
}
