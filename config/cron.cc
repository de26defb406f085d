#include "config/cron.h"

#include <array>
#include <charconv>
#include <string>
#include <vector>

namespace ebb::config {

namespace {

struct FieldDef {
  const char* name;
  unsigned min, max;
  const char* const* names;  // optional names, index 0 ↔ value `min`... see name_value()
  unsigned name_base;        // value of names[0]
  unsigned name_count;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr std::array<FieldDef, 5> kFields{{
    {"minute", 0, 59, nullptr, 0, 0},
    {"hour", 0, 23, nullptr, 0, 0},
    {"day of month", 1, 31, nullptr, 0, 0},
    {"month", 1, 12, kMonthNames, 1, 12},
    {"day of week", 0, 7, kDayNames, 0, 7},
}};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool parse_value(const FieldDef& f, std::string_view text, unsigned& out) {
  if (f.names) {
    std::string l = lower(text);
    for (unsigned i = 0; i < f.name_count; ++i)
      if (l == f.names[i]) {
        out = f.name_base + i;
        return true;
      }
  }
  if (text.empty() || text.size() > 3) return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

// Parses one field into `bits` (indexed by value). Returns "" or an error message.
std::string parse_field(const FieldDef& f, std::string_view text, std::vector<bool>& bits, bool& restricted) {
  restricted = text != "*";
  std::string range_hint = " (" + std::to_string(f.min) + "-" + std::to_string(f.max) + ")";
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) return "empty list item in " + std::string(f.name) + " field";
    unsigned step = 1;
    size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      std::string_view st = item.substr(slash + 1);
      auto [p, ec] = std::from_chars(st.data(), st.data() + st.size(), step);
      if (st.empty() || ec != std::errc() || p != st.data() + st.size() || step == 0 || step > f.max)
        return "invalid step \"" + std::string(st) + "\" in " + f.name + " field";
      item = item.substr(0, slash);
    }
    unsigned lo, hi;
    if (item == "*") {
      lo = f.min;
      hi = f.max;
    } else {
      size_t dash = item.find('-');
      std::string_view a = item.substr(0, dash);
      if (!parse_value(f, a, lo)) return "invalid value \"" + std::string(a) + "\" in " + f.name + " field" + range_hint;
      if (dash == std::string_view::npos) {
        hi = slash == std::string_view::npos ? lo : f.max;  // "5/15" means 5-max/15
      } else {
        std::string_view b = item.substr(dash + 1);
        if (!parse_value(f, b, hi)) return "invalid value \"" + std::string(b) + "\" in " + f.name + " field" + range_hint;
      }
      if (lo < f.min || lo > f.max || hi < f.min || hi > f.max)
        return "value out of range in " + std::string(f.name) + " field \"" + std::string(item) + "\"" + range_hint;
      if (lo > hi) return "range \"" + std::string(item) + "\" in " + f.name + " field goes backwards";
    }
    for (unsigned v = lo; v <= hi; v += step) bits[v] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return "";
}

}  // namespace

Result<CronSpec> parse_cron(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) parts.push_back(text.substr(start, i - start));
  }
  if (parts.size() != 5)
    return make_error("invalid cron expression \"" + std::string(text) + "\": expected 5 fields " +
                      "(minute hour day-of-month month day-of-week), got " + std::to_string(parts.size()));
  CronSpec spec;
  for (size_t f = 0; f < 5; ++f) {
    std::vector<bool> bits(kFields[f].max + 1, false);
    bool restricted = false;
    std::string err = parse_field(kFields[f], parts[f], bits, restricted);
    if (!err.empty()) return make_error("invalid cron expression \"" + std::string(text) + "\": " + err);
    for (unsigned v = kFields[f].min; v <= kFields[f].max; ++v) {
      if (!bits[v]) continue;
      switch (f) {
        case 0: spec.minute.set(v); break;
        case 1: spec.hour.set(v); break;
        case 2: spec.day_of_month.set(v); break;
        case 3: spec.month.set(v); break;
        case 4: spec.day_of_week.set(v % 7); break;
      }
    }
    if (f == 2) spec.dom_restricted = restricted;
    if (f == 4) spec.dow_restricted = restricted;
  }
  return spec;
}

bool CronSpec::matches(const std::tm& t) const {
  if (t.tm_min < 0 || t.tm_min > 59 || t.tm_hour < 0 || t.tm_hour > 23 || t.tm_mday < 1 || t.tm_mday > 31 ||
      t.tm_mon < 0 || t.tm_mon > 11 || t.tm_wday < 0 || t.tm_wday > 6)
    return false;
  if (!minute.test(static_cast<size_t>(t.tm_min)) || !hour.test(static_cast<size_t>(t.tm_hour)) ||
      !month.test(static_cast<size_t>(t.tm_mon + 1)))
    return false;
  bool dom = day_of_month.test(static_cast<size_t>(t.tm_mday));
  bool dow = day_of_week.test(static_cast<size_t>(t.tm_wday));
  if (dom_restricted && dow_restricted) return dom || dow;
  return dom && dow;
}

}  // namespace ebb::config
