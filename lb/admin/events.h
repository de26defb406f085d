// Recent events of ebb-lb (SPEC §5 GET /api/v1/events): health transitions with their reason,
// registrations, drains started/finished, weight changes, reloads and their result. A bounded
// ring: the oldest events fall off. Every event is also logged.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ebb::lb::admin {

enum class EventType {
  health,           // a backend's health state changed (message = the reason)
  registration,     // a backend was added (API, reload or start-up)
  deregistration,   // a backend left its pool (after its drain)
  drain_started,
  drain_finished,
  drain_cancelled,
  weight,           // a backend's weight changed
  reload,           // config reload, successful or rejected
};
const char* to_string(EventType t);

struct Event {
  uint64_t seq = 0;      // 1, 2, 3, ... in append order; lets a poller ask for "since N"
  int64_t time_ms = 0;   // Unix time, milliseconds
  EventType type = EventType::health;
  std::string pool;      // "" when not about a pool (reload)
  std::string backend;   // "" when not about a backend
  std::string message;
};

// Thread-safe (a mutex: events are rare and never on the request path).
class EventLog {
 public:
  explicit EventLog(size_t capacity = 1000);

  // Appends (and logs at info level; `warn` for failures such as a rejected reload or a
  // backend going unhealthy). Returns the event's seq.
  uint64_t append(EventType type, std::string pool, std::string backend, std::string message,
                  bool warn = false);

  // Events with seq > since, oldest first (newest last), at most `limit` of the newest.
  std::vector<Event> since(uint64_t since = 0, size_t limit = SIZE_MAX) const;

  // JSON array, newest last: [{"seq", "time" (RFC 3339 UTC, ms), "time_ms", "type", "pool",
  // "backend", "message"}].
  nlohmann::json to_json(uint64_t since = 0, size_t limit = SIZE_MAX) const;

  size_t capacity() const { return capacity_; }
  uint64_t last_seq() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<Event> ring_;
  uint64_t next_seq_ = 1;
};

nlohmann::json to_json(const Event& e);
std::string format_time_ms(int64_t unix_ms);  // "2026-11-22T19:49:01.123Z"

}  // namespace ebb::lb::admin
