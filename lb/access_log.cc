#include "lb/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/log.h"

namespace ebb::lb {

namespace {
constexpr size_t kFlushBytes = 64 * 1024;

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {  // keep the line ASCII and valid JSON whatever the bytes
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", c);
          out += esc;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_time(std::string& out, int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  out += stamp;
}

void append_number(std::string& out, double v) {
  char num[32];
  std::snprintf(num, sizeof num, "%.3f", v);
  out += num;
}
}  // namespace

AccessLog::~AccessLog() {
  flush();
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

void AccessLog::configure(const std::string& target) {
  flush();
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  owns_fd_ = false;
  target_ = target;
  if (target == "off" || target.empty()) return;
  if (target == "stdout") {
    fd_ = STDOUT_FILENO;
    return;
  }
  fd_ = ::open(target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    log::error("access_log: cannot open " + target + ": " + std::strerror(errno));
    return;
  }
  owns_fd_ = true;
}

void AccessLog::format(const RequestRecord& r, std::string& out) {
  out += "{\"time\":";
  append_time(out, r.start_unix_ms);
  out += ",\"type\":";
  out += r.tcp ? "\"tcp\"" : "\"http\"";
  out += ",\"client\":";
  append_json_string(out, r.client);
  out += ",\"listener\":";
  append_json_string(out, r.listener);
  out += ",\"pool\":";
  append_json_string(out, r.pool);
  out += ",\"backend\":";
  append_json_string(out, r.backend);
  if (!r.tcp) {
    out += ",\"method\":";
    append_json_string(out, r.method);
    out += ",\"path\":";
    append_json_string(out, r.path);
    out += ",\"status\":";
    out += std::to_string(r.status);
  }
  out += ",\"bytes_in\":";
  out += std::to_string(r.bytes_in);
  out += ",\"bytes_out\":";
  out += std::to_string(r.bytes_out);
  out += ",\"duration_ms\":";
  append_number(out, r.duration_ms);
  out += ",\"upstream_ms\":";
  if (r.upstream_ms < 0) out += "null";
  else append_number(out, r.upstream_ms);
  out += '}';
}

void AccessLog::append(const RequestRecord& r) {
  if (fd_ < 0) return;
  format(r, buf_);
  buf_ += '\n';
  if (buf_.size() >= kFlushBytes) flush();
}

void AccessLog::flush() {
  size_t off = 0;
  while (fd_ >= 0 && off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // a full disk or closed stdout must not stop proxying: drop the lines
    }
    off += static_cast<size_t>(n);
  }
  buf_.clear();
}

}  // namespace ebb::lb
