// Fuzz target: the upstream side of the HTTP proxy path, as lb/conn/http_session.cc runs it.
// A backend's byte stream (1xx interim responses, then a final response with a chunked,
// Content-Length or close-delimited body, or a 101 upgrade) arrives in pieces cut where the
// input says; ResponseParser parses it, write_downstream_response_head() rewrites each head
// for the client and the body is re-framed as the returned DownstreamHead says. Bytes after a
// complete response are parsed as the next response of a reused connection (reset() +
// expect()), and the end of the stream is the upstream closing (finish()).
//
// Checks beyond "no crash, no sanitizer report": the parser's result contract (as in
// fuzz_http_request), 502 for every error, and that what the client receives parses again to
// the same statuses, body and connection persistence.
//
// Input: see ebb::fuzz::Splitter. Options byte: bit 0 the request was HEAD, bit 1 it asked to
// upgrade, bit 2 the client speaks HTTP/1.0, bit 3 the proxy closes after the response, bit 4
// a sticky Set-Cookie is added, bit 5 small head limits.
#include <cstdint>
#include <string>
#include <vector>

#include "lb/http/parser.h"
#include "lb/http/rewrite.h"
#include "lb/http/validate.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ebb::lb::http;

namespace {

struct Options {
  bool head_request = false;
  bool upgrade_request = false;
  ResponseRewrite rw;
  ParserLimits limits;
};

// What the client would parse out of the downstream bytes.
struct ClientSink : ResponseSink {
  std::vector<int> statuses;
  std::string body;
  bool final_keep_alive = false;
  int completes = 0;

  bool on_response_head(ResponseHead& h) override {
    statuses.push_back(h.status);
    final_keep_alive = h.keep_alive;
    return false;
  }
  void on_response_body(const char* d, size_t n) override { body.append(d, n); }
  void on_response_complete() override { ++completes; }
};

class ProxySink : public ResponseSink {
 public:
  explicit ProxySink(const Options& o) : o_(o) {}

  bool on_response_head(ResponseHead& h) override {
    check_head(h);
    DownstreamHead d = write_downstream_response_head(h, o_.rw, down_);
    interim_ = h.status >= 100 && h.status < 200 && !h.upgrade;
    upgrade_ = h.upgrade;
    if (interim_) {
      FUZZ_CHECK(!d.close && d.framing == BodyFraming::none, "1xx: no body, no close");
      FUZZ_CHECK(d.written == (o_.rw.client_version_minor >= 1), "1xx only to HTTP/1.1 clients");
    } else {
      FUZZ_CHECK(d.written, "final responses are always written");
    }
    if (d.written) statuses_.push_back(h.status);
    if (!interim_) {
      down_framing_ = d.framing;
      close_ = d.close;
      content_length_ = h.content_length;
      no_body_ = h.no_body;
      if (o_.rw.close && !h.upgrade) FUZZ_CHECK(d.close, "the proxy's close is honoured");
      if (h.no_body) FUZZ_CHECK(d.framing == BodyFraming::none, "no body for 1xx/204/304/HEAD");
      if (o_.rw.client_version_minor == 0)
        FUZZ_CHECK(d.framing != BodyFraming::chunked, "never chunked to HTTP/1.0 clients");
    }
    return false;
  }
  void on_response_body(const char* d, size_t n) override {
    FUZZ_CHECK(!interim_ && !no_body_, "body only for final responses that have one");
    FUZZ_CHECK(n > 0, "no empty body callbacks");
    FUZZ_CHECK(down_framing_ != BodyFraming::none, "body bytes only with a body framing");
    body_.append(d, n);
    if (down_framing_ == BodyFraming::chunked) append_chunk(down_, d, n);
    else down_.append(d, n);
  }
  void on_response_complete() override {
    if (interim_) {
      interim_ = false;
      return;  // the final response follows on the same exchange
    }
    if (down_framing_ == BodyFraming::chunked) append_last_chunk(down_);
    if (content_length_ && !no_body_) FUZZ_CHECK(body_.size() == *content_length_, "whole Content-Length body");
    verify(false);
    reset_exchange();
    final_done_ = true;
    ++completed;
  }
  int completed = 0;
  // True once after each final response completed (a 1xx completes a message too).
  bool take_final_done() {
    bool f = final_done_;
    final_done_ = false;
    return f;
  }
  // The parser reported ParseStatus::upgrade: the head was the last thing of this exchange.
  void on_upgrade() {
    FUZZ_CHECK(upgrade_ && o_.upgrade_request, "upgrade only when asked");
    verify(true);
    reset_exchange();
  }


 private:
  void check_head(const ResponseHead& h) {
    FUZZ_CHECK(h.status >= 100 && h.status <= 999, "status code range");
    FUZZ_CHECK(h.version_minor == 0 || h.version_minor == 1, "HTTP/1.0 or 1.1");
    FUZZ_CHECK(!(h.chunked && h.content_length), "never both framings");
    FUZZ_CHECK(h.headers.items.size() <= o_.limits.max_headers, "header count limit holds");
    FUZZ_CHECK(h.headers.count("content-length") <= 1, "at most one Content-Length");
    FUZZ_CHECK(h.headers.count("transfer-encoding") <= 1, "at most one Transfer-Encoding");
    for (const Header& x : h.headers.items) {
      FUZZ_CHECK(is_token(x.name), "header names are tokens");
      FUZZ_CHECK(is_valid_field_value(x.value), "header values are clean");
    }
    if (h.status == 101) FUZZ_CHECK(o_.upgrade_request && h.upgrade, "101 only to upgrade requests");
    FUZZ_CHECK(!(h.until_close && (h.chunked || h.content_length || h.no_body)),
               "close-delimited only without other framing");
  }

  // The client's view of the downstream bytes of this exchange.
  void verify(bool upgraded) {
    ClientSink client;
    ParserLimits big;
    big.max_head_bytes = 1 << 20;
    big.max_headers = 4096;
    ResponseParser p(client, big);
    p.expect(o_.head_request, o_.upgrade_request);
    size_t off = 0;
    for (int guard = 0; guard < 1000; ++guard) {
      ParseResult r = p.feed(down_.data() + off, down_.size() - off);
      if (r.status == ParseStatus::error)
        std::fprintf(stderr, "downstream response rejected (%d %s):\n%s\n", r.error_status, r.reason,
                     down_.c_str());
      FUZZ_CHECK(r.status != ParseStatus::error, "the client can parse what we send");
      off += r.consumed;
      if (r.status == ParseStatus::upgrade) {
        FUZZ_CHECK(upgraded, "upgrade downstream only after upgrade upstream");
        FUZZ_CHECK(off == down_.size(), "nothing after a 101 head");
        break;
      }
      if (off == down_.size()) {
        if (r.status == ParseStatus::message_complete && client.completes == int(statuses_.size())) break;
        FUZZ_CHECK(r.status == ParseStatus::need_more || r.status == ParseStatus::message_complete,
                   "downstream ends cleanly");
        FUZZ_CHECK(down_framing_ == BodyFraming::until_close, "only a close-delimited body needs the close");
        FUZZ_CHECK(p.finish().status == ParseStatus::message_complete, "close ends the body");
        break;
      }
    }
    FUZZ_CHECK(!upgraded || client.statuses.size() == statuses_.size(), "statuses before 101");
    FUZZ_CHECK(client.statuses == statuses_, "the client sees the same statuses");
    FUZZ_CHECK(client.body == body_, "the client sees the same body");
    if (!upgraded) FUZZ_CHECK(client.final_keep_alive == !close_, "persistence as decided");
  }

  void reset_exchange() {
    down_.clear();
    body_.clear();
    statuses_.clear();
    interim_ = upgrade_ = close_ = no_body_ = false;
    down_framing_ = BodyFraming::none;
    content_length_.reset();
  }

  const Options& o_;
  std::string down_, body_;
  std::vector<int> statuses_;
  bool interim_ = false, upgrade_ = false, close_ = false, no_body_ = false;
  bool final_done_ = false;
  BodyFraming down_framing_ = BodyFraming::none;
  std::optional<uint64_t> content_length_;
};

void check_error(const ParseResult& r) {
  FUZZ_CHECK(r.error_status == 502, "response errors are 502");
  FUZZ_CHECK(r.reason != nullptr && r.reason[0] != '\0', "errors have a reason");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ebb::fuzz::Splitter in;
  if (!in.init(data, size)) return 0;
  const uint8_t opt = in.options();
  Options o;
  o.head_request = (opt & 1) != 0;
  o.upgrade_request = (opt & 2) != 0;
  o.rw.client_version_minor = (opt & 4) ? 0 : 1;
  o.rw.close = (opt & 8) != 0;
  if (opt & 16) o.rw.set_cookie = "ebb_sticky=1.2.abcdef; Path=/; HttpOnly; SameSite=Lax";
  if (opt & 32) {
    o.limits.max_head_bytes = 256;
    o.limits.max_headers = 6;
  }

  ProxySink sink(o);
  ResponseParser parser(sink, o.limits);
  parser.expect(o.head_request, o.upgrade_request);

  std::string pending;
  bool want_input = true;
  const size_t max_rounds = 64 + 4 * in.stream().size();
  for (size_t round = 0;; ++round) {
    FUZZ_CHECK(round < max_rounds, "the parser makes progress");
    if (want_input) {
      if (in.done()) break;
      pending.append(in.next());
    }
    const size_t given = pending.size();
    ParseResult r = parser.feed(pending.empty() ? nullptr : pending.data(), given);
    FUZZ_CHECK(r.consumed <= given, "consumed <= given");
    pending.erase(0, r.consumed);
    switch (r.status) {
      case ParseStatus::need_more:
        FUZZ_CHECK(pending.empty(), "need_more consumes everything");
        want_input = true;
        break;
      case ParseStatus::head_paused:
        FUZZ_CHECK(false, "the sink never pauses");
        break;
      case ParseStatus::message_complete:
        // A 1xx is its own message: the final response follows on the same exchange. After a
        // final response, what follows is the next exchange on a reused connection.
        if (sink.take_final_done() && !pending.empty()) {
          parser.reset();
          parser.expect(o.head_request, o.upgrade_request);
        }
        want_input = pending.empty();
        break;
      case ParseStatus::upgrade:
        if (ebb::fuzz::verbose()) std::fprintf(stderr, "  %d responses, then upgrade\n", sink.completed);
        sink.on_upgrade();
        return 0;  // the rest is tunnel data
      case ParseStatus::error: {
        if (ebb::fuzz::verbose())
          std::fprintf(stderr, "  %d responses, then error %d (%s)\n", sink.completed, r.error_status, r.reason);
        check_error(r);
        ParseResult again = parser.feed(pending.data(), pending.size());
        FUZZ_CHECK(again.status == ParseStatus::error, "errors are sticky");
        return 0;
      }
    }
  }
  ParseResult end = parser.finish();
  if (ebb::fuzz::verbose())
    std::fprintf(stderr, "  %d responses, then close: %s\n",
                 sink.completed,
                 end.status == ParseStatus::error ? end.reason : "clean");
  if (end.status == ParseStatus::error) check_error(end);
  else FUZZ_CHECK(end.status == ParseStatus::need_more || end.status == ParseStatus::message_complete,
                  "finish() is a clean close, the end of a close-delimited body, or an error");
  return 0;
}
