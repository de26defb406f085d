// Five-field cron expressions (minute hour day-of-month month day-of-week), evaluated in UTC.
// Fields: "*", numbers, ranges "1-5", lists "1,3,5", steps "*/15" or "0-30/10", and names for
// months (jan..dec) and weekdays (sun..sat). Day-of-week 0 and 7 are both Sunday. When both
// day-of-month and day-of-week are restricted, a day matches if either matches (classic cron).
#pragma once
#include <bitset>
#include <ctime>
#include <string_view>

#include "common/result.h"

namespace ebb::config {

struct CronSpec {
  std::bitset<60> minute;
  std::bitset<24> hour;
  std::bitset<32> day_of_month;  // 1..31
  std::bitset<13> month;         // 1..12
  std::bitset<7> day_of_week;    // 0..6, 0 = Sunday
  bool dom_restricted = false;   // the field was not "*"
  bool dow_restricted = false;

  // True if the minute that `utc` falls in matches (tm_sec is ignored).
  bool matches(const std::tm& utc) const;
};

// Parses an expression; the error names the field and what is wrong with it.
Result<CronSpec> parse_cron(std::string_view text);

}  // namespace ebb::config
