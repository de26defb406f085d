#include <catch2/catch.hpp>

#include "common/duration.h"

using ebb::Duration;
using ebb::parse_duration;

TEST_CASE("durations parse in every unit", "[duration]") {
  CHECK(parse_duration("250ms").value() == Duration(250));
  CHECK(parse_duration("5s").value() == Duration(5000));
  CHECK(parse_duration("2m").value() == Duration(120000));
  CHECK(parse_duration("1h").value() == Duration(3600000));
  CHECK(parse_duration("1m30s").value() == Duration(90000));
  CHECK(parse_duration("1.5s").value() == Duration(1500));
  CHECK(parse_duration("0s").value() == Duration(0));
}

TEST_CASE("bad durations are errors with the reason", "[duration]") {
  for (const char* bad : {"", "5", "s", "-1s", "5 s", "5sec", "1..5s", "5S", "1e3s", ".s"}) {
    INFO(bad);
    auto r = parse_duration(bad);
    REQUIRE_FALSE(r.ok());
    CHECK_FALSE(r.error().empty());
  }
  CHECK_FALSE(parse_duration("99999999999999999h").ok());
}

TEST_CASE("durations format back to what a user writes", "[duration]") {
  CHECK(ebb::format_duration(Duration(250)) == "250ms");
  CHECK(ebb::format_duration(Duration(5000)) == "5s");
  CHECK(ebb::format_duration(Duration(90000)) == "1m30s");
  CHECK(ebb::format_duration(Duration(3600000)) == "1h");
}
