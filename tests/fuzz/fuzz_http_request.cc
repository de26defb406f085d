// Fuzz target: the client side of the HTTP proxy path, as lb/conn/http_session.cc runs it.
// A client byte stream (pipelined requests, chunked or Content-Length bodies) arrives in pieces
// cut where the input says; RequestParser (llhttp + the SPEC §4 smuggling checks of
// validate.cc) parses it, normalize_target() normalises each path (a rejected path ends the
// connection with 400, as in the proxy), write_upstream_request_head() rewrites each head with
// the normalised target, and bodies are re-framed with append_chunk()/append_last_chunk().
//
// Checks beyond "no crash, no sanitizer report":
//  - the parser's result contract (consumed <= given, need_more consumes all, sticky errors
//    with a request status, progress on every call);
//  - every head it accepts passes the stricter re-check of validate.h (token names, clean
//    values, one framing, target without CTL/SP);
//  - a path normalize_target() forwards is in normal form (no "//", no dot segments, "%XX" only
//    for reserved octets, in upper case), is a fixed point of normalize_path(), and keeps the
//    query byte for byte;
//  - the request the proxy would send upstream parses again, with our own parser, to the same
//    method, target, authority, framing and body: a rewrite can never produce something a
//    backend would read differently (header injection, lost or doubled framing).
//
// Input: see ebb::fuzz::Splitter. Options byte: bit 0 pause at each head (what the proxy
// does), bit 1 small head limits, bit 2 a 64-byte body limit, bit 3 TLS listener, bits 4-5
// client address.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "lb/http/parser.h"
#include "lb/http/path.h"
#include "lb/http/rewrite.h"
#include "lb/http/validate.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ebb::lb::http;

namespace {

constexpr const char* kClientIps[] = {"10.0.0.1", "::1", "192.0.2.7", "2001:db8::5"};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower-case hex is not normal form
}

// An independent statement of lb/http/path.h's normal form for an origin-form path.
bool is_normal_path(std::string_view p) {
  if (p.empty() || p[0] != '/') return false;
  if (p.find("//") != std::string_view::npos) return false;
  size_t i = 1;
  while (i <= p.size()) {
    size_t end = std::min(p.find('/', i), p.size());
    std::string_view seg = p.substr(i, end - i);
    if (seg == "." || seg == "..") return false;
    i = end + 1;
  }
  for (size_t k = 0; k < p.size(); ++k) {
    if (p[k] != '%') continue;
    if (k + 2 >= p.size()) return false;
    int hi = hex_value(p[k + 1]), lo = hex_value(p[k + 2]);
    if (hi < 0 || lo < 0) return false;
    char c = char(hi * 16 + lo);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || c == 0) return false;
  }
  return true;
}

// What the re-parse of the upstream request must agree on.
struct Expect {
  std::string method, origin_target, authority;
  std::optional<uint64_t> content_length;
  bool chunked = false, upgrade = false, expect_continue = false;
};

// Parses the upstream bytes with a fresh parser; they must form exactly one valid request.
struct ReparseSink : RequestSink {
  const Expect* want = nullptr;
  std::string body;
  bool head_seen = false, complete = false;

  bool on_request_head(RequestHead& h) override {
    FUZZ_CHECK(!head_seen, "upstream request has one head");
    head_seen = true;
    FUZZ_CHECK(h.method == want->method, "method survives the rewrite");
    FUZZ_CHECK(h.target == want->origin_target, "upstream target is the origin-form target");
    FUZZ_CHECK(h.authority == want->authority, "Host survives the rewrite");
    FUZZ_CHECK(h.version_minor == 1, "upstream requests are HTTP/1.1");
    FUZZ_CHECK(h.content_length == want->content_length, "Content-Length survives the rewrite");
    FUZZ_CHECK(h.chunked == want->chunked, "chunked framing survives the rewrite");
    FUZZ_CHECK(h.upgrade == want->upgrade, "upgrade survives the rewrite");
    FUZZ_CHECK(h.expect_continue == want->expect_continue, "Expect survives the rewrite");
    FUZZ_CHECK(h.headers.count("host") == 1, "one Host upstream");
    return false;
  }
  void on_request_body(const char* d, size_t n) override { body.append(d, n); }
  void on_request_complete() override { complete = true; }
};

// The proxy's side of the parser: rewrite each head, re-frame each body, then check the result.
class ProxySink : public RequestSink {
 public:
  ProxySink(bool pause, ForwardInfo info, const ParserLimits& limits)
      : pause_(pause), info_(info), limits_(limits) {}

  bool on_request_head(RequestHead& h) override {
    check_head(h);
    if (!pause_) rewrite(h);
    return pause_;
  }
  // Called by the driver after ParseStatus::head_paused, with parser.head().
  void rewrite(const RequestHead& h) {
    FUZZ_CHECK(!rewritten_, "one rewrite per head");
    rewritten_ = true;
    // HttpSession::handle_head: route on the normalised path, refuse an ambiguous one.
    NormalizedTarget t = normalize_target(h.path, h.origin_target, norm_);
    if (t.status == PathStatus::rejected) {
      FUZZ_CHECK(t.reason != nullptr && t.reason[0] != '\0', "a rejected path has a reason");
      if (ebb::fuzz::verbose()) std::fprintf(stderr, "  path rejected (%s)\n", t.reason);
      refused = true;  // 400 and close: nothing of this connection goes upstream
      return;
    }
    check_normalized(h, t);
    want_ = Expect{std::string(h.method), std::string(t.origin_target), std::string(h.authority),
                   h.content_length, h.chunked, h.upgrade, h.expect_continue};
    up_.clear();
    body_.clear();
    ForwardInfo info = info_;
    info.upgrade = h.upgrade;
    framing_ = write_upstream_request_head(h, info, up_, norm_);
    FUZZ_CHECK(framing_ != BodyFraming::until_close, "requests are never close-delimited");
    FUZZ_CHECK((framing_ == BodyFraming::chunked) == h.chunked, "chunked requests go out chunked");
  }
  void on_request_body(const char* d, size_t n) override {
    FUZZ_CHECK(rewritten_, "body after the head was forwarded");
    if (refused) return;
    FUZZ_CHECK(n > 0, "no empty body callbacks");
    FUZZ_CHECK(framing_ != BodyFraming::none, "body bytes only with a body framing");
    body_.append(d, n);
    if (limits_.max_body_bytes != 0)
      FUZZ_CHECK(body_.size() <= limits_.max_body_bytes, "body limit holds");
    if (framing_ == BodyFraming::chunked) append_chunk(up_, d, n);
    else up_.append(d, n);
  }
  void on_request_complete() override {
    FUZZ_CHECK(rewritten_, "complete after the head");
    rewritten_ = false;
    if (refused) return;
    if (framing_ == BodyFraming::chunked) append_last_chunk(up_);
    if (want_.content_length) FUZZ_CHECK(body_.size() == *want_.content_length, "whole Content-Length body");
    reparse();
    ++completed;
  }

  int completed = 0;
  bool refused = false;  // a path was rejected: the connection ends with 400

 private:
  void check_normalized(const RequestHead& h, const NormalizedTarget& t) {
    std::string again;
    if (h.path.empty() || h.path[0] != '/') {
      FUZZ_CHECK(t.status == PathStatus::unchanged, "only origin-form paths are normalised");
      return;
    }
    FUZZ_CHECK(is_normal_path(t.path), "the forwarded path is in normal form");
    FUZZ_CHECK(normalize_path(t.path, again) == PathStatus::unchanged, "normalising is idempotent");
    FUZZ_CHECK(t.origin_target.substr(0, t.path.size()) == t.path, "target = path + query");
    FUZZ_CHECK(t.origin_target.substr(t.path.size()) == h.origin_target.substr(h.path.size()),
               "the query is kept byte for byte");
    if (t.status == PathStatus::unchanged) FUZZ_CHECK(t.path == h.path, "unchanged means unchanged");
  }

  void check_head(const RequestHead& h) {
    FUZZ_CHECK(!h.method.empty(), "method");
    FUZZ_CHECK(h.version_minor == 0 || h.version_minor == 1, "HTTP/1.0 or 1.1");
    FUZZ_CHECK(!(h.chunked && h.content_length), "never both framings");
    FUZZ_CHECK(!(h.chunked && h.version_minor == 0), "no chunked HTTP/1.0 request");
    FUZZ_CHECK(h.method != "CONNECT", "CONNECT is refused");
    FUZZ_CHECK(h.headers.items.size() <= limits_.max_headers, "header count limit holds");
    FUZZ_CHECK(h.headers.count("host") <= 1, "at most one Host");
    FUZZ_CHECK(h.headers.count("content-length") <= 1, "at most one Content-Length");
    FUZZ_CHECK(h.headers.count("transfer-encoding") <= 1, "at most one Transfer-Encoding");
    if (h.version_minor == 1) FUZZ_CHECK(h.headers.count("host") == 1, "HTTP/1.1 needs Host");
    for (const Header& x : h.headers.items) {
      FUZZ_CHECK(is_token(x.name), "header names are tokens");
      FUZZ_CHECK(is_valid_field_value(x.value), "header values are clean");
    }
    for (char c : h.target) {
      auto u = static_cast<unsigned char>(c);
      FUZZ_CHECK(u > 0x20 && u != 0x7f, "no SP/CTL/DEL in the target");
    }
    FUZZ_CHECK(!h.origin_target.empty(), "origin-form target");
    FUZZ_CHECK(h.origin_target[0] == '/' || (h.origin_target == "*" && h.method == "OPTIONS"),
               "origin-form target starts with / (or is * for OPTIONS)");
    FUZZ_CHECK(!h.path.empty(), "path");
    FUZZ_CHECK(h.origin_target.find('#') == std::string_view::npos, "no fragment upstream");
    for (char c : h.host) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'), "host is lowercased");
    std::string_view host;
    FUZZ_CHECK(parse_host(h.authority, host), "authority is a valid Host value");
    if (limits_.max_body_bytes != 0 && h.content_length)
      FUZZ_CHECK(*h.content_length <= limits_.max_body_bytes, "Content-Length limit holds");
  }

  void reparse() {
    ReparseSink sink;
    sink.want = &want_;
    ParserLimits big;
    big.max_head_bytes = 1 << 20;
    big.max_headers = 4096;
    RequestParser p(sink, big);
    ParseResult r = p.feed(up_.data(), up_.size());
    if (r.status != ParseStatus::message_complete)
      std::fprintf(stderr, "upstream request rejected (%d %s):\n%s\n", r.error_status, r.reason, up_.c_str());
    FUZZ_CHECK(r.status == ParseStatus::message_complete, "the upstream request parses");
    FUZZ_CHECK(r.consumed == up_.size(), "the upstream request is exactly one message");
    FUZZ_CHECK(sink.complete, "re-parse completes");
    FUZZ_CHECK(sink.body == body_, "body survives the re-framing");
  }

  bool pause_;
  ForwardInfo info_;
  ParserLimits limits_;
  bool rewritten_ = false;
  Expect want_;
  BodyFraming framing_ = BodyFraming::none;
  std::string up_, body_, norm_;
};

void check_error(const ParseResult& r) {
  FUZZ_CHECK(r.error_status == 400 || r.error_status == 413 || r.error_status == 431 ||
                 r.error_status == 501,
             "request errors answer 400/413/431/501");
  FUZZ_CHECK(r.reason != nullptr && r.reason[0] != '\0', "errors have a reason");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ebb::fuzz::Splitter in;
  if (!in.init(data, size)) return 0;
  const uint8_t opt = in.options();
  ParserLimits limits;
  if (opt & 2) {
    limits.max_head_bytes = 256;
    limits.max_headers = 6;
  }
  if (opt & 4) limits.max_body_bytes = 64;
  ForwardInfo info;
  info.client_ip = kClientIps[(opt >> 4) & 3];
  info.tls = (opt & 8) != 0;
  info.listener_port = info.tls ? 443 : 8080;

  ProxySink sink((opt & 1) != 0, info, limits);
  RequestParser parser(sink, limits);

  // Like HttpSession::feed_client: unconsumed bytes wait in a buffer (pipelined requests, a
  // body behind a paused head) and are fed again before new ones.
  std::string pending;
  bool want_input = true;
  const size_t max_rounds = 64 + 4 * in.stream().size();
  for (size_t round = 0;; ++round) {
    FUZZ_CHECK(round < max_rounds, "the parser makes progress");
    if (want_input) {
      if (in.done()) break;
      std::string_view piece = in.next();
      pending.append(piece);
    }
    const size_t given = pending.size();
    ParseResult r = parser.feed(pending.empty() ? nullptr : pending.data(), given);
    FUZZ_CHECK(r.consumed <= given, "consumed <= given");
    pending.erase(0, r.consumed);
    if (sink.refused) return 0;  // the proxy answered 400 and closed
    switch (r.status) {
      case ParseStatus::need_more:
        FUZZ_CHECK(pending.empty(), "need_more consumes everything");
        want_input = true;
        break;
      case ParseStatus::head_paused:
        FUZZ_CHECK((opt & 1) != 0, "pauses only when the sink asks");
        sink.rewrite(parser.head());
        if (sink.refused) return 0;
        want_input = false;  // go on with what is buffered (possibly nothing), like start_exchange
        break;
      case ParseStatus::message_complete:
        want_input = pending.empty();
        break;
      case ParseStatus::upgrade:
        FUZZ_CHECK(false, "request parsers never report upgrade");
        break;
      case ParseStatus::error: {
        if (ebb::fuzz::verbose())
          std::fprintf(stderr, "  %d requests, then error %d (%s)\n", sink.completed, r.error_status, r.reason);
        check_error(r);
        ParseResult again = parser.feed(pending.data(), pending.size());
        FUZZ_CHECK(again.status == ParseStatus::error && again.error_status == r.error_status,
                   "errors are sticky");
        return 0;
      }
    }
  }
  ParseResult end = parser.finish();
  if (ebb::fuzz::verbose())
    std::fprintf(stderr, "  %d requests, then close: %s\n", sink.completed,
                 end.status == ParseStatus::error ? end.reason : "clean");
  FUZZ_CHECK(end.status == ParseStatus::need_more || end.status == ParseStatus::error,
             "finish() is a clean close or an error");
  if (end.status == ParseStatus::error) check_error(end);
  FUZZ_CHECK(parser.feed("x", 1).status == ParseStatus::error, "no parsing after finish()");
  return 0;
}
