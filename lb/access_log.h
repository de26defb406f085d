// Access log (runtime.access_log): one JSON object per HTTP request / TCP connection, written by
// the worker that served it. Lines are appended to a per-worker buffer and written with one
// write(2) per loop iteration (flush()) or when the buffer passes 64 KiB, so logging never costs
// a syscall per request. "off" costs one branch.
//
// Thread: one AccessLog per worker, used only on that worker.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace ebb::lb {

struct BackendLive;

// What one finished request (or TCP connection) was. Also what metrics observers receive.
struct RequestRecord {
  int64_t start_unix_ms = 0;     // wall clock at accept / first request byte
  std::string_view client;       // client IP
  std::string_view listener;     // listener name
  std::string_view pool;         // "" when routing failed
  std::string_view backend;      // "" when no backend was reached
  std::string_view method;       // "" for TCP
  std::string_view path;         // "" for TCP
  int status = 0;                // HTTP status sent to the client; 0 for TCP
  uint64_t bytes_in = 0;         // from the client
  uint64_t bytes_out = 0;        // to the client
  double duration_ms = 0;        // whole request / connection
  double upstream_ms = -1;       // request sent → response head (HTTP) / connect time (TCP); -1 none
  bool tcp = false;
  const BackendLive* backend_live = nullptr;  // the backend's live counters; null when none reached
};

// Seam for metrics (issue 5): called on the worker thread once per finished request/connection.
// Implementations must be cheap and must not block (per-worker counters, relaxed atomics).
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void on_request(unsigned worker_id, const RequestRecord& r) = 0;
};

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Thread: worker. "off", "stdout" or a file path (opened O_APPEND; reopened on each reload,
  // which also serves log rotation). Flushes what was buffered for the previous target.
  void configure(const std::string& target);
  bool enabled() const { return fd_ >= 0; }
  // Appends one JSON line (does nothing when disabled).
  void append(const RequestRecord& r);
  // Writes out the buffer (one write(2)). Called once per loop iteration by the worker.
  void flush();

  // The JSON line for `r` (without newline); exposed for tests.
  static void format(const RequestRecord& r, std::string& out);

 private:
  int fd_ = -1;
  bool owns_fd_ = false;
  std::string target_ = "off";
  std::string buf_;
};

}  // namespace ebb::lb
