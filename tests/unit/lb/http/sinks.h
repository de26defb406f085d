// Test sinks that record what the parsers report, copying heads (views die with the message).
#pragma once
#include <string>
#include <vector>

#include "lb/http/parser.h"

namespace ebb::lb::http::test {

struct HeadCopy {
  std::string method, target, path, origin_target, host, authority;
  int version_minor = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<uint64_t> content_length;
  bool chunked = false, keep_alive = false, upgrade = false, expect_continue = false;
};

struct RespCopy {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<uint64_t> content_length;
  bool chunked = false, keep_alive = false, upgrade = false, no_body = false, until_close = false;
};

struct RecordingRequestSink : RequestSink {
  std::vector<HeadCopy> heads;
  std::vector<std::string> bodies;  // one per message, de-chunked
  int completes = 0;
  bool pause_on_head = false;

  bool on_request_head(RequestHead& h) override {
    HeadCopy c;
    c.method = std::string(h.method);
    c.target = std::string(h.target);
    c.path = std::string(h.path);
    c.origin_target = std::string(h.origin_target);
    c.host = std::string(h.host);
    c.authority = std::string(h.authority);
    c.version_minor = h.version_minor;
    for (const auto& x : h.headers.items) c.headers.emplace_back(std::string(x.name), std::string(x.value));
    c.content_length = h.content_length;
    c.chunked = h.chunked;
    c.keep_alive = h.keep_alive;
    c.upgrade = h.upgrade;
    c.expect_continue = h.expect_continue;
    heads.push_back(std::move(c));
    bodies.emplace_back();
    return pause_on_head;
  }
  void on_request_body(const char* d, size_t n) override { bodies.back().append(d, n); }
  void on_request_complete() override { ++completes; }
};

struct RecordingResponseSink : ResponseSink {
  std::vector<RespCopy> heads;
  std::vector<std::string> bodies;
  int completes = 0;

  bool on_response_head(ResponseHead& h) override {
    RespCopy c;
    c.status = h.status;
    c.reason = std::string(h.reason);
    for (const auto& x : h.headers.items) c.headers.emplace_back(std::string(x.name), std::string(x.value));
    c.content_length = h.content_length;
    c.chunked = h.chunked;
    c.keep_alive = h.keep_alive;
    c.upgrade = h.upgrade;
    c.no_body = h.no_body;
    c.until_close = h.until_close;
    heads.push_back(std::move(c));
    bodies.emplace_back();
    return false;
  }
  void on_response_body(const char* d, size_t n) override { bodies.back().append(d, n); }
  void on_response_complete() override { ++completes; }
};

// Feeds `bytes` in pieces of `step` bytes (0 = all at once), re-feeding unconsumed bytes after
// each message_complete like the proxy does. Returns the last result; bounded loop.
template <typename Parser>
ParseResult feed_all(Parser& p, const std::string& bytes, size_t step = 0) {
  ParseResult last;
  std::string pending;
  size_t pos = 0;
  for (int guard = 0; guard < 1000000; ++guard) {
    if (pos < bytes.size()) {
      size_t n = step == 0 ? bytes.size() - pos : std::min(step, bytes.size() - pos);
      pending.append(bytes, pos, n);
      pos += n;
    }
    last = p.feed(pending.data(), pending.size());
    if (last.status == ParseStatus::error || last.status == ParseStatus::upgrade) return last;
    pending.erase(0, last.consumed);
    if (pos >= bytes.size() && last.status == ParseStatus::need_more) return last;
    if (pos >= bytes.size() && pending.empty() && last.status == ParseStatus::message_complete) {
      // One more empty feed would start a new message; stop here.
      return last;
    }
  }
  return last;
}

}  // namespace ebb::lb::http::test
