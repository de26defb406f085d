#include "scaler/policies/cron.h"

namespace ebb::scaler {
namespace {

using namespace std::chrono;

bool day_matches(const config::CronSpec& s, sys_days day) {
  year_month_day ymd{day};
  const unsigned mday = static_cast<unsigned>(ymd.day());
  if (!s.month.test(static_cast<unsigned>(ymd.month()))) return false;
  const bool dom = s.day_of_month.test(mday);
  const bool dow = s.day_of_week.test(weekday{day}.c_encoding());
  if (s.dom_restricted && s.dow_restricted) return dom || dow;
  return dom && dow;
}

}  // namespace

bool cron_matches(const config::CronSpec& spec, TimePoint t) {
  const auto day = floor<days>(t);
  const hh_mm_ss hms{floor<minutes>(t - day)};
  return day_matches(spec, day) && spec.hour.test(static_cast<size_t>(hms.hours().count())) &&
         spec.minute.test(static_cast<size_t>(hms.minutes().count()));
}

std::optional<TimePoint> cron_last_match(const config::CronSpec& spec, TimePoint t, Millis lookback) {
  const TimePoint limit = t - lookback;
  TimePoint cur = floor<minutes>(t);
  while (cur >= limit) {
    const auto day = floor<days>(cur);
    if (!day_matches(spec, day)) {
      cur = TimePoint{day} - minutes{1};  // the last minute of the previous day
      continue;
    }
    const TimePoint hour_start = floor<hours>(cur);
    if (!spec.hour.test(static_cast<size_t>(duration_cast<hours>(hour_start - day).count()))) {
      cur = hour_start - minutes{1};
      continue;
    }
    if (spec.minute.test(static_cast<size_t>(duration_cast<minutes>(cur - hour_start).count()))) return cur;
    cur -= minutes{1};
  }
  return std::nullopt;
}

ScheduleFloor schedule_floor(const std::vector<config::ScheduleEntry>& schedule, TimePoint now) {
  ScheduleFloor out;
  for (const auto& entry : schedule) {
    if (entry.min <= out.floor) continue;
    auto m = cron_last_match(entry.when, now, entry.duration);
    if (m && now - *m < entry.duration) {
      out.floor = entry.min;
      out.cron = entry.cron;
    }
  }
  return out;
}

}  // namespace ebb::scaler
