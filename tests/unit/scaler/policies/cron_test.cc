// Cron matching (on config::parse_cron's CronSpec) and schedule floors (UTC). 2026-01-05 is a Monday.
#include <catch2/catch.hpp>

#include "scaler/policies/cron.h"

using namespace ebb::scaler;
using namespace std::chrono;

namespace {
ebb::config::CronSpec cron(const char* text) {
  auto c = ebb::config::parse_cron(text);
  REQUIRE(c.ok());
  return *c;
}
ebb::config::ScheduleEntry entry(const char* text, Millis duration, unsigned min) {
  ebb::config::ScheduleEntry e;
  e.cron = text;
  e.when = cron(text);
  e.duration = duration;
  e.min = min;
  return e;
}
TimePoint at(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return TimePoint{sys_days{year{y} / month{mo} / day{d}}} + hours{h} + minutes{mi} + seconds{s};
}
}  // namespace

TEST_CASE("cron: matching minutes") {
  struct Row { const char* expr; TimePoint t; bool match; };
  const Row rows[] = {
      {"* * * * *", at(2026, 1, 5, 13, 37, 59), true},
      {"0 8 * * 1-5", at(2026, 1, 5, 8, 0), true},        // Monday 08:00
      {"0 8 * * 1-5", at(2026, 1, 5, 8, 0, 59), true},    // any second of the minute
      {"0 8 * * 1-5", at(2026, 1, 5, 8, 1), false},
      {"0 8 * * 1-5", at(2026, 1, 10, 8, 0), false},      // Saturday
      {"0 8 * * 1-5", at(2026, 1, 9, 8, 0), true},        // Friday
      {"*/15 * * * *", at(2026, 1, 5, 3, 45), true},
      {"*/15 * * * *", at(2026, 1, 5, 3, 46), false},
      {"5/20 * * * *", at(2026, 1, 5, 3, 25), true},
      {"5/20 * * * *", at(2026, 1, 5, 3, 26), false},
      {"10-20/5 * * * *", at(2026, 1, 5, 3, 15), true},
      {"10-20/5 * * * *", at(2026, 1, 5, 3, 25), false},
      {"0,30 9,17 * * *", at(2026, 1, 5, 17, 30), true},
      {"0,30 9,17 * * *", at(2026, 1, 5, 16, 30), false},
      {"0 0 1 jan *", at(2026, 1, 1, 0, 0), true},
      {"0 0 1 JAN *", at(2026, 2, 1, 0, 0), false},
      {"0 0 * * sun", at(2026, 1, 4, 0, 0), true},        // Sunday
      {"0 0 * * 7", at(2026, 1, 4, 0, 0), true},          // 7 is Sunday too
      {"0 0 * * 0", at(2026, 1, 4, 0, 0), true},
      {"0 0 * * mon-fri", at(2026, 1, 4, 0, 0), false},
      // both day fields restricted: either matches (Vixie cron)
      {"0 0 13 * 5", at(2026, 1, 9, 0, 0), true},         // Friday the 9th: day-of-week matches
      {"0 0 13 * 5", at(2026, 1, 13, 0, 0), true},        // Tuesday the 13th: day-of-month matches
      {"0 0 13 * 5", at(2026, 1, 14, 0, 0), false},
      // one restricted: both must match
      {"0 0 13 * *", at(2026, 1, 9, 0, 0), false},
      {"0 0 */2 * *", at(2026, 1, 3, 0, 0), true},        // 1, 3, 5, ...
      {"0 0 */2 * *", at(2026, 1, 4, 0, 0), false},
      {"0 12 29 2 *", at(2028, 2, 29, 12, 0), true},      // leap day
  };
  for (const auto& r : rows) {
    INFO(r.expr);
    CHECK(cron_matches(cron(r.expr), r.t) == r.match);
  }
}

TEST_CASE("cron: last match searches back within the lookback") {
  const auto e = cron("0 8 * * 1-5");
  // Monday 12:00 → Monday 08:00
  CHECK(cron_last_match(e, at(2026, 1, 5, 12, 0), hours{10}) == at(2026, 1, 5, 8, 0));
  // Monday 07:59 → previous Friday 08:00, but only with a long enough lookback
  CHECK_FALSE(cron_last_match(e, at(2026, 1, 5, 7, 59), hours{10}).has_value());
  CHECK(cron_last_match(e, at(2026, 1, 5, 7, 59), days{4}) == at(2026, 1, 2, 8, 0));
  // exactly at the match
  CHECK(cron_last_match(e, at(2026, 1, 5, 8, 0, 30), minutes{0}).has_value() == false);
  CHECK(cron_last_match(e, at(2026, 1, 5, 8, 0, 30), seconds{30}) == at(2026, 1, 5, 8, 0));
  // a year-long lookback for a yearly expression is answered
  CHECK(cron_last_match(cron("0 0 1 1 *"), at(2026, 12, 31, 23, 0), days{366}) == at(2026, 1, 1, 0, 0));
}

TEST_CASE("schedule floor: the window starts at a match and ends before match + duration") {
  std::vector<ebb::config::ScheduleEntry> sched = {
      entry("0 8 * * 1-5", hours{10}, 4),
      entry("0 12 * * *", hours{1}, 6),
      entry("0 0 1 1 *", hours{1}, 100),  // not active in these rows
  };
  struct Row { TimePoint t; unsigned floor; };
  const Row rows[] = {
      {at(2026, 1, 5, 7, 59, 59), 0},
      {at(2026, 1, 5, 8, 0), 4},
      {at(2026, 1, 5, 11, 59), 4},
      {at(2026, 1, 5, 12, 0), 6},   // both active: the larger floor
      {at(2026, 1, 5, 12, 59, 59), 6},
      {at(2026, 1, 5, 13, 0), 4},
      {at(2026, 1, 5, 17, 59, 59), 4},
      {at(2026, 1, 5, 18, 0), 0},   // 10 h after 08:00
      {at(2026, 1, 10, 9, 0), 0},   // Saturday
      {at(2026, 1, 10, 12, 30), 6},
  };
  for (const auto& r : rows) {
    INFO(ebb::scaler::epoch_seconds(r.t));
    CHECK(schedule_floor(sched, r.t).floor == r.floor);
  }
  CHECK(schedule_floor(sched, at(2026, 1, 5, 12, 0)).cron == "0 12 * * *");
}
