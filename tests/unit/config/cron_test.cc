#include <catch2/catch.hpp>

#include "config/cron.h"

using namespace ebb::config;

namespace {
std::tm at(int year, int mon, int mday, int hour, int min) {
  std::tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = mon - 1;
  t.tm_mday = mday;
  t.tm_hour = hour;
  t.tm_min = min;
  time_t s = timegm(&t);  // fills tm_wday
  gmtime_r(&s, &t);
  return t;
}
}  // namespace

TEST_CASE("cron: fields, ranges, lists, steps, names", "[config][cron]") {
  auto c = parse_cron("0 8 * * 1-5");
  REQUIRE(c);
  CHECK(c->matches(at(2026, 11, 23, 8, 0)));   // Monday 08:00
  CHECK(!c->matches(at(2026, 11, 23, 8, 1)));
  CHECK(!c->matches(at(2026, 11, 22, 8, 0)));  // Sunday
  auto steps = parse_cron("*/15 9-17/4 1,15 jan-MAR *");
  REQUIRE(steps);
  CHECK(steps->minute.count() == 4);
  CHECK(steps->hour.test(9));
  CHECK(steps->hour.test(13));
  CHECK(steps->hour.test(17));
  CHECK(!steps->hour.test(10));
  CHECK(steps->matches(at(2027, 2, 15, 13, 45)));
  CHECK(!steps->matches(at(2027, 4, 15, 13, 45)));
  auto sunday7 = parse_cron("0 0 * * 7");
  REQUIRE(sunday7);
  CHECK(sunday7->day_of_week.test(0));
  CHECK(parse_cron("0 0 * * sun")->day_of_week.test(0));
}

TEST_CASE("cron: day-of-month and day-of-week restricted together match either", "[config][cron]") {
  auto c = parse_cron("0 0 1 * 1");
  REQUIRE(c);
  CHECK(c->matches(at(2026, 12, 1, 0, 0)));   // the 1st (a Tuesday)
  CHECK(c->matches(at(2026, 11, 23, 0, 0)));  // a Monday
  CHECK(!c->matches(at(2026, 11, 24, 0, 0)));
}

TEST_CASE("cron: errors name the field", "[config][cron]") {
  CHECK(parse_cron("0 8 * *").error() ==
        "invalid cron expression \"0 8 * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 4");
  CHECK(parse_cron("60 * * * *").error() ==
        "invalid cron expression \"60 * * * *\": value out of range in minute field \"60\" (0-59)");
  CHECK(parse_cron("* * 0 * *").error() ==
        "invalid cron expression \"* * 0 * *\": value out of range in day of month field \"0\" (1-31)");
  CHECK(parse_cron("* * * foo *").error() ==
        "invalid cron expression \"* * * foo *\": invalid value \"foo\" in month field (1-12)");
  CHECK(parse_cron("*/0 * * * *").error() == "invalid cron expression \"*/0 * * * *\": invalid step \"0\" in minute field");
  CHECK(parse_cron("5-1 * * * *").error() == "invalid cron expression \"5-1 * * * *\": range \"5-1\" in minute field goes backwards");
  CHECK(parse_cron("1,,2 * * * *").error() == "invalid cron expression \"1,,2 * * * *\": empty list item in minute field");
}
