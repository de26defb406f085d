#include "lb/admin/events.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/log.h"

namespace ebb::lb::admin {

const char* to_string(EventType t) {
  switch (t) {
    case EventType::health: return "health";
    case EventType::registration: return "registration";
    case EventType::deregistration: return "deregistration";
    case EventType::drain_started: return "drain_started";
    case EventType::drain_finished: return "drain_finished";
    case EventType::drain_cancelled: return "drain_cancelled";
    case EventType::weight: return "weight";
    case EventType::reload: return "reload";
  }
  return "unknown";
}

std::string format_time_ms(int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

nlohmann::json to_json(const Event& e) {
  return {{"seq", e.seq},         {"time", format_time_ms(e.time_ms)}, {"time_ms", e.time_ms},
          {"type", to_string(e.type)}, {"pool", e.pool},              {"backend", e.backend},
          {"message", e.message}};
}

EventLog::EventLog(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

uint64_t EventLog::append(EventType type, std::string pool, std::string backend,
                          std::string message, bool warn) {
  Event e;
  e.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  e.type = type;
  e.pool = std::move(pool);
  e.backend = std::move(backend);
  e.message = std::move(message);

  std::string line = std::string("event ") + to_string(type);
  if (!e.pool.empty()) line += " pool=" + e.pool;
  if (!e.backend.empty()) line += " backend=" + e.backend;
  line += ": " + e.message;
  if (warn) log::warn(line);
  else log::info(line);

  std::lock_guard lock(mu_);
  e.seq = next_seq_++;
  ring_.push_back(std::move(e));
  if (ring_.size() > capacity_) ring_.pop_front();
  return ring_.back().seq;
}

std::vector<Event> EventLog::since(uint64_t since, size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<Event> out;
  // seqs are consecutive inside the ring, so the first wanted index is computed directly.
  size_t first = 0;
  if (!ring_.empty() && since >= ring_.front().seq)
    first = static_cast<size_t>(std::min<uint64_t>(since - ring_.front().seq + 1, ring_.size()));
  const size_t n = ring_.size() - first;
  if (n > limit) first += n - limit;
  out.assign(ring_.begin() + static_cast<std::ptrdiff_t>(first), ring_.end());
  return out;
}

nlohmann::json EventLog::to_json(uint64_t since_seq, size_t limit) const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : since(since_seq, limit)) arr.push_back(admin::to_json(e));
  return arr;
}

uint64_t EventLog::last_seq() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

}  // namespace ebb::lb::admin
