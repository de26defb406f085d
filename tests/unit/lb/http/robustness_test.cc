// Deterministic mutation test: mangled requests and responses, fed whole and in random pieces,
// never crash the parsers (run it under ASan/UBSan), never consume more than they were given,
// and never report a head for input that a stricter re-check would reject. A seed corpus-style
// smoke test ahead of the libFuzzer targets of issue 10.
#include <catch2/catch.hpp>

#include <random>

#include "lb/http/parser.h"
#include "lb/http/rewrite.h"
#include "sinks.h"

using namespace ebb::lb::http;
using namespace ebb::lb::http::test;

namespace {

const char* kRequestSeeds[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "POST /x?y HTTP/1.1\r\nHost: a.b:80\r\nContent-Length: 5\r\n\r\nhello",
    "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: v\r\n\r\n",
    "GET http://h.test/p HTTP/1.1\r\nHost: h\r\nConnection: close, X\r\nX: y\r\n\r\n",
    "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
    "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
};

const char* kResponseSeeds[] = {
    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    "HTTP/1.0 200 OK\r\n\r\nuntil close",
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\ntunnel",
};

std::string mutate(std::string s, std::mt19937& rng) {
  static const char kInteresting[] = "\r\n \t:;,\"\x00\x7f\x80\xff" "0aZ-";
  int edits = 1 + int(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    size_t pos = rng() % s.size();
    switch (rng() % 5) {
      case 0: s[pos] = char(rng() % 256); break;
      case 1: s.insert(pos, 1, kInteresting[rng() % (sizeof kInteresting - 1)]); break;
      case 2: s.erase(pos, 1 + rng() % 3); break;
      case 3: s.insert(pos, s.substr(rng() % s.size(), rng() % 16)); break;
      case 4: s[pos] = kInteresting[rng() % (sizeof kInteresting - 1)]; break;
    }
  }
  return s;
}

// Feeds in random pieces; checks the result contract on every call. Bounded loop.
template <typename Parser>
void feed_randomly(Parser& p, const std::string& bytes, std::mt19937& rng) {
  std::string pending;
  size_t pos = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    if (pos < bytes.size()) {
      size_t n = 1 + rng() % 32;
      n = std::min(n, bytes.size() - pos);
      pending.append(bytes, pos, n);
      pos += n;
    }
    ParseResult r = p.feed(pending.data(), pending.size());
    REQUIRE(r.consumed <= pending.size());
    if (r.status == ParseStatus::error) {
      REQUIRE(r.error_status >= 400);
      REQUIRE(r.error_status <= 599);
      // Sticky.
      REQUIRE(p.feed(pending.data(), pending.size()).status == ParseStatus::error);
      return;
    }
    if (r.status == ParseStatus::upgrade) return;
    if (r.status == ParseStatus::need_more) REQUIRE(r.consumed == pending.size());
    pending.erase(0, r.consumed);
    if (pos >= bytes.size() && r.status == ParseStatus::need_more) {
      p.finish();
      return;
    }
  }
}

struct RewriteSink : RecordingRequestSink {
  std::string out;
  bool on_request_head(RequestHead& h) override {
    out.clear();
    write_upstream_request_head(h, ForwardInfo{"1.2.3.4", 80, false, h.upgrade}, out);
    return RecordingRequestSink::on_request_head(h);
  }
};

}  // namespace

TEST_CASE("robustness: mutated requests", "[http][robustness]") {
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string seed = kRequestSeeds[rng() % std::size(kRequestSeeds)];
    std::string input = mutate(seed + kRequestSeeds[rng() % std::size(kRequestSeeds)], rng);
    RewriteSink s;
    ParserLimits limits;
    limits.max_head_bytes = 32 + rng() % 256;
    RequestParser p(s, limits);
    feed_randomly(p, input, rng);
    // Whatever got through must rewrite into a head the parser itself accepts again.
    if (!s.out.empty()) {
      ++accepted;
      RecordingRequestSink again;
      RequestParser q(again);
      auto r = q.feed(s.out.data(), s.out.size());
      INFO(input);
      INFO(s.out);
      CHECK(r.ok());
      CHECK(again.heads.size() == 1);
    }
  }
  CHECK(accepted > 300);  // the mutations leave enough valid heads to exercise the rewrite
}

TEST_CASE("robustness: mutated responses", "[http][robustness]") {
  std::mt19937 rng(777);
  for (int i = 0; i < 3000; ++i) {
    std::string input = mutate(kResponseSeeds[rng() % std::size(kResponseSeeds)], rng);
    RecordingResponseSink s;
    ResponseParser p(s);
    p.expect(rng() % 4 == 0, rng() % 2 == 0);
    feed_randomly(p, input, rng);
    for (const auto& h : s.heads) {
      CHECK(h.status >= 100);
      CHECK(h.status <= 999);
    }
  }
}
