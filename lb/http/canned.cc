#include "lb/http/canned.h"

#include <array>
#include <string>

namespace ebb::lb::http {
namespace {

struct Canned {
  int status;
  const char* reason;
};

constexpr std::array<Canned, 10> kCanned{{
    {400, "Bad Request"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {417, "Expectation Failed"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
}};

std::string build(const Canned& c, bool close) {
  std::string body = std::to_string(c.status) + " " + c.reason + "\n";
  std::string r = "HTTP/1.1 " + std::to_string(c.status) + " " + c.reason + "\r\n";
  r += "Content-Type: text/plain\r\n";
  r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (close) r += "Connection: close\r\n";
  r += "\r\n";
  r += body;
  return r;
}

// Built once (thread-safe static init), then read-only.
struct Table {
  std::array<std::string, kCanned.size()> keep, close;
  Table() {
    for (size_t i = 0; i < kCanned.size(); ++i) {
      keep[i] = build(kCanned[i], false);
      close[i] = build(kCanned[i], true);
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

std::string_view canned_response(int status, bool close) {
  const Table& t = table();
  size_t fallback = 0;
  for (size_t i = 0; i < kCanned.size(); ++i) {
    if (kCanned[i].status == 500) fallback = i;
    if (kCanned[i].status == status) return close ? t.close[i] : t.keep[i];
  }
  return close ? t.close[fallback] : t.keep[fallback];
}

std::string_view continue_response() { return "HTTP/1.1 100 Continue\r\n\r\n"; }

}  // namespace ebb::lb::http
