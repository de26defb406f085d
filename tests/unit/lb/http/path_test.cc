// Path normalisation before routing (lb/http/path.h): RFC 3986 §5.2.4 / §5.4 / §6.2.2, the
// encoded variants of traversal, and what is rejected as ambiguous.
#include <catch2/catch.hpp>

#include <string>

#include "lb/http/parser.h"
#include "lb/http/path.h"
#include "lb/http/rewrite.h"
#include "lb/http/router.h"
#include "sinks.h"

using namespace ebb::lb::http;

namespace {

// The normal form of `p` (the input itself when unchanged), or "REJECT".
std::string norm(std::string_view p) {
  std::string out;
  const char* reason = "";
  switch (normalize_path(p, out, &reason)) {
    case PathStatus::unchanged:
      CHECK(out.empty());
      return std::string(p);
    case PathStatus::normalized:
      CHECK(out != p);
      return out;
    case PathStatus::rejected:
      CHECK(out.empty());
      CHECK(std::string_view(reason).size() > 0);
      return "REJECT";
  }
  return "?";
}

}  // namespace

TEST_CASE("path: RFC 3986 §5.4.1 normal examples, as merged paths", "[http][path]") {
  // Base "http://a/b/c/d;p?q": the merged path of each reference, then remove_dot_segments.
  CHECK(norm("/b/c/g") == "/b/c/g");
  CHECK(norm("/b/c/./g") == "/b/c/g");
  CHECK(norm("/b/c/g/") == "/b/c/g/");
  CHECK(norm("/b/c/.") == "/b/c/");
  CHECK(norm("/b/c/./") == "/b/c/");
  CHECK(norm("/b/c/..") == "/b/");
  CHECK(norm("/b/c/../") == "/b/");
  CHECK(norm("/b/c/../g") == "/b/g");
  CHECK(norm("/b/c/../..") == "/");
  CHECK(norm("/b/c/../../") == "/");
  CHECK(norm("/b/c/../../g") == "/g");
  CHECK(norm("/b/c/d;p") == "/b/c/d;p");
}

TEST_CASE("path: RFC 3986 §5.4.2 abnormal examples", "[http][path]") {
  CHECK(norm("/b/c/../../../g") == "/g");     // "../../../g": cannot climb above the root
  CHECK(norm("/b/c/../../../../g") == "/g");  // "../../../../g"
  CHECK(norm("/./g") == "/g");
  CHECK(norm("/../g") == "/g");
  CHECK(norm("/b/c/g.") == "/b/c/g.");
  CHECK(norm("/b/c/.g") == "/b/c/.g");
  CHECK(norm("/b/c/g..") == "/b/c/g..");
  CHECK(norm("/b/c/..g") == "/b/c/..g");
  CHECK(norm("/b/c/./../g") == "/b/g");
  CHECK(norm("/b/c/./g/.") == "/b/c/g/");
  CHECK(norm("/b/c/g/./h") == "/b/c/g/h");
  CHECK(norm("/b/c/g/../h") == "/b/c/h");
  CHECK(norm("/b/c/g;x=1/./y") == "/b/c/g;x=1/y");
  CHECK(norm("/b/c/g;x=1/../y") == "/b/c/y");
}

TEST_CASE("path: RFC 3986 §5.2.4 worked examples", "[http][path]") {
  CHECK(norm("/a/b/c/./../../g") == "/a/g");
  CHECK(norm("/mid/content=5/../6") == "/mid/6");
}

TEST_CASE("path: traversal above a route prefix is resolved", "[http][path]") {
  CHECK(norm("/api/../admin") == "/admin");
  CHECK(norm("/api/./x") == "/api/x");
  CHECK(norm("/api/x/../../admin/") == "/admin/");
  CHECK(norm("/..") == "/");
  CHECK(norm("/../..") == "/");
  CHECK(norm("/../../etc/passwd") == "/etc/passwd");
  CHECK(norm("/.") == "/");
  CHECK(norm("/./") == "/");
  CHECK(norm("/a/b/..") == "/a/");
}

TEST_CASE("path: percent-encoded dots are decoded before dot segments are removed", "[http][path]") {
  CHECK(norm("/api/%2e%2e/admin") == "/admin");
  CHECK(norm("/api/%2E%2E/admin") == "/admin");
  CHECK(norm("/api/.%2e/admin") == "/admin");
  CHECK(norm("/api/%2e./admin") == "/admin");
  CHECK(norm("/api/%2e/x") == "/api/x");
  CHECK(norm("/%2e%2e/%2e%2e/x") == "/x");
  CHECK(norm("/a/%2e%2e") == "/");
}

TEST_CASE("path: percent-encoding case and unreserved decoding (§6.2.2.1, §6.2.2.2)", "[http][path]") {
  CHECK(norm("/%7euser") == "/~user");
  CHECK(norm("/%41%62%2D%5f%30") == "/Ab-_0");
  CHECK(norm("/a%2fb") == "/a%2Fb");          // reserved: stays encoded, hex uppercased
  CHECK(norm("/a%2Fb") == "/a%2Fb");          // already normal
  CHECK(norm("/caf%c3%a9") == "/caf%C3%A9");  // non-ASCII octets stay encoded
  CHECK(norm("/q%3fx%23y") == "/q%3Fx%23y");  // "?" and "#" inside the path stay encoded
  CHECK(norm("/sp%20ace") == "/sp%20ace");
  CHECK(norm("/%25") == "/%25");              // a literal "%" stays "%25" (never double-decoded)
  CHECK(norm("/%252e%252e/x") == "/%252e%252e/x");
}

TEST_CASE("path: malformed percent-encoding and %00 are rejected", "[http][path]") {
  CHECK(norm("/a%") == "REJECT");
  CHECK(norm("/a%2") == "REJECT");
  CHECK(norm("/a%zz") == "REJECT");
  CHECK(norm("/a%g0/b") == "REJECT");
  CHECK(norm("/a%2/b") == "REJECT");
  CHECK(norm("/a%00b") == "REJECT");
  CHECK(norm("/%00") == "REJECT");
}

TEST_CASE("path: repeated slashes are merged", "[http][path]") {
  CHECK(norm("//api/x") == "/api/x");
  CHECK(norm("/api//x") == "/api/x");
  CHECK(norm("/api///x//") == "/api/x/");
  CHECK(norm("//") == "/");
  CHECK(norm("///") == "/");
  CHECK(norm("//..//admin") == "/admin");
  CHECK(norm("/a//../b") == "/b");  // merged first: ".." removes "a"
}

TEST_CASE("path: encoded slashes and backslashes are data, but never hide a dot segment",
          "[http][path]") {
  // Kept as they are (data inside a segment, RFC 3986 §2.2):
  CHECK(norm("/api/v4/projects/group%2Fproject") == "/api/v4/projects/group%2Fproject");
  CHECK(norm("/a%5cb") == "/a%5Cb");
  CHECK(norm("/a\\b") == "/a\\b");
  CHECK(norm("/a%2F%2Fb") == "/a%2F%2Fb");
  CHECK(norm("/v1.2%2Fx") == "/v1.2%2Fx");
  CHECK(norm("/a/...%2Fb") == "/a/...%2Fb");
  // A backend that splits at them, or drops ";params", would read "." or "..": rejected.
  CHECK(norm("/api/..%2Fadmin") == "REJECT");
  CHECK(norm("/api/..%2fadmin") == "REJECT");
  CHECK(norm("/api/%2e%2e%2fadmin") == "REJECT");
  CHECK(norm("/api%2F..%2Fadmin") == "REJECT");
  CHECK(norm("/api/x%2F..") == "REJECT");
  CHECK(norm("/api/..%5Cadmin") == "REJECT");
  CHECK(norm("/api/..%5cadmin") == "REJECT");
  CHECK(norm("/api/..\\admin") == "REJECT");
  CHECK(norm("/api\\..\\admin") == "REJECT");
  CHECK(norm("/api/.\\x") == "REJECT");
  CHECK(norm("/api/..;/admin") == "REJECT");   // Tomcat reads "..;" as ".."
  CHECK(norm("/api/..;x=1/admin") == "REJECT");
  CHECK(norm("/api/.;/x") == "REJECT");
  CHECK(norm("/api/%2e%2e;/admin") == "REJECT");
  // ";" after a real name is fine
  CHECK(norm("/api/x;..") == "/api/x;..");
}

TEST_CASE("path: not origin-form, empty and already-normal paths are left alone", "[http][path]") {
  CHECK(norm("") == "");
  CHECK(norm("*") == "*");  // OPTIONS *
  CHECK(norm("/") == "/");
  CHECK(norm("/index.html") == "/index.html");
  CHECK(norm("/.well-known/acme-challenge/x") == "/.well-known/acme-challenge/x");
  CHECK(norm("/a.b/c..d/e.") == "/a.b/c..d/e.");
  CHECK(norm("/caf\xc3\xa9") == "/caf\xc3\xa9");  // raw non-ASCII octets: not ours to judge
}

TEST_CASE("path: the pre-scan sends only suspicious paths to the slow path", "[http][path]") {
  CHECK_FALSE(path_may_need_normalizing(""));
  CHECK_FALSE(path_may_need_normalizing("/"));
  CHECK_FALSE(path_may_need_normalizing("/index.html"));
  CHECK_FALSE(path_may_need_normalizing("/api/v1/users/42"));
  CHECK_FALSE(path_may_need_normalizing("/static/app.min.js"));
  CHECK_FALSE(path_may_need_normalizing("/a;b=c"));
  CHECK_FALSE(path_may_need_normalizing("*"));
  CHECK(path_may_need_normalizing("/a%41"));
  CHECK(path_may_need_normalizing("/a\\b"));
  CHECK(path_may_need_normalizing("//a"));
  CHECK(path_may_need_normalizing("/a//"));
  CHECK(path_may_need_normalizing("/."));
  CHECK(path_may_need_normalizing("/a/../b"));
  CHECK(path_may_need_normalizing("/.well-known/x"));  // slow path, result unchanged
  // Whatever the pre-scan passes is normal: normalisation would not change it.
  for (const char* p : {"/", "/index.html", "/api/v1/users/42", "/a;b=c", "/a.b./c..", "/x-y_z~"}) {
    INFO(p);
    CHECK_FALSE(path_may_need_normalizing(p));
    std::string out;
    CHECK(normalize_path(p, out) == PathStatus::unchanged);
  }
}

TEST_CASE("path: very long paths are handled in linear time and bounded space", "[http][path]") {
  // 64 KiB of "/a/.." climbs back to the root every time.
  std::string climb;
  while (climb.size() < 64 * 1024) climb += "/a/..";
  CHECK(norm(climb) == "/");
  // 64 KiB of nested segments then as many ".." as there are segments (+ extra): the root.
  std::string deep, up;
  for (int k = 0; k < 8000; ++k) deep += "/d";
  for (int k = 0; k < 8100; ++k) up += "/..";
  CHECK(norm(deep + up + "/x") == "/x");
  // One huge segment with encoded bytes: decoded, same length bound.
  std::string big = "/";
  for (int k = 0; k < 20000; ++k) big += "%41";
  std::string out;
  REQUIRE(normalize_path(big, out) == PathStatus::normalized);
  CHECK(out.size() == 20001);
  CHECK(out.find_first_not_of('A', 1) == std::string::npos);
  // Slashes only.
  CHECK(norm(std::string(60000, '/')) == "/");
}

TEST_CASE("path: the output buffer is reused without reallocating", "[http][path]") {
  std::string out;
  out.reserve(256);
  const char* data = out.data();
  const size_t cap = out.capacity();
  for (int k = 0; k < 100; ++k) {
    CHECK(normalize_path("/api/../admin/%2e/x", out) == PathStatus::normalized);
    CHECK(out == "/admin/x");
    NormalizedTarget t = normalize_target("/a//b", "/a//b?x=1", out);
    CHECK(t.origin_target == "/a/b?x=1");
  }
  CHECK(out.data() == data);
  CHECK(out.capacity() == cap);
}

TEST_CASE("path: normalize_target keeps the query byte for byte", "[http][path]") {
  std::string out;
  NormalizedTarget t = normalize_target("/api/../admin", "/api/../admin?next=/a/../b&x=%2e%2E", out);
  CHECK(t.status == PathStatus::normalized);
  CHECK(t.path == "/admin");
  CHECK(t.origin_target == "/admin?next=/a/../b&x=%2e%2E");
  CHECK(t.path.data() == out.data());

  t = normalize_target("/plain", "/plain?a=/../b", out);
  CHECK(t.status == PathStatus::unchanged);
  CHECK(out.empty());
  CHECK(t.path == "/plain");
  CHECK(t.origin_target == "/plain?a=/../b");

  t = normalize_target("/a/..%2Fb", "/a/..%2Fb?q", out);
  CHECK(t.status == PathStatus::rejected);
  CHECK(std::string_view(t.reason) == "ambiguous dot segment in path");
  CHECK(t.origin_target == "/a/..%2Fb?q");

  t = normalize_target("//x", "//x?", out);  // empty query kept
  CHECK(t.origin_target == "/x?");
}

TEST_CASE("path: absolute-form and OPTIONS * targets from the parser", "[http][path]") {
  using ebb::lb::http::test::RecordingRequestSink;
  auto parse = [](const std::string& req) {
    RecordingRequestSink sink;
    RequestParser p(sink);
    ParseResult r = p.feed(req.data(), req.size());
    REQUIRE(r.status == ParseStatus::message_complete);
    REQUIRE(sink.heads.size() == 1);
    return sink.heads[0];
  };
  std::string out;
  auto h = parse("GET http://api.test/api/%2e%2e/admin?x=1 HTTP/1.1\r\nHost: api.test\r\n\r\n");
  NormalizedTarget t = normalize_target(h.path, h.origin_target, out);
  CHECK(t.status == PathStatus::normalized);
  CHECK(t.path == "/admin");
  CHECK(t.origin_target == "/admin?x=1");

  h = parse("GET http://api.test?x=1 HTTP/1.1\r\nHost: api.test\r\n\r\n");  // empty path: "/"
  t = normalize_target(h.path, h.origin_target, out);
  CHECK(t.status == PathStatus::unchanged);
  CHECK(t.origin_target == "/?x=1");

  h = parse("OPTIONS * HTTP/1.1\r\nHost: api.test\r\n\r\n");
  t = normalize_target(h.path, h.origin_target, out);
  CHECK(t.status == PathStatus::unchanged);
  CHECK(t.path == "*");
  CHECK(t.origin_target == "*");
}

TEST_CASE("path: routing on the normal form closes the prefix bypass", "[http][path][router]") {
  ebb::config::Listener l;
  l.name = "web";
  l.pool = "default";
  l.routes = {{"", "/api/", "api"}};
  Router r(l);
  std::string out;
  auto pool_for = [&](std::string_view path) -> std::string {
    NormalizedTarget t = normalize_target(path, path, out);
    if (t.status == PathStatus::rejected) return "400";
    return *r.route("", t.path).pool;
  };
  CHECK(pool_for("/api/x") == "api");
  CHECK(pool_for("/api/../admin") == "default");
  CHECK(pool_for("/api/%2e%2e/admin") == "default");
  CHECK(pool_for("/api/./x") == "api");
  CHECK(pool_for("//api/x") == "api");
  CHECK(pool_for("/x/../api/y") == "api");
  CHECK(pool_for("/api/..%2Fadmin") == "400");
  CHECK(pool_for("/api/..;/admin") == "400");
}

TEST_CASE("path: the upstream request line carries the normalised target", "[http][path][rewrite]") {
  using ebb::lb::http::test::RecordingRequestSink;
  struct Sink : RequestSink {
    std::string up, up_plain;
    bool on_request_head(RequestHead& h) override {
      std::string norm;
      NormalizedTarget t = normalize_target(h.path, h.origin_target, norm);
      REQUIRE(t.status == PathStatus::normalized);
      ForwardInfo info;
      info.client_ip = "10.0.0.1";
      info.listener_port = 80;
      write_upstream_request_head(h, info, up, norm);
      write_upstream_request_head(h, info, up_plain);  // no override: as received
      return false;
    }
    void on_request_body(const char*, size_t) override {}
    void on_request_complete() override {}
  } sink;
  RequestParser p(sink);
  std::string req = "GET //api/./v1/%2e%2e/x?a=/../b HTTP/1.1\r\nHost: h\r\n\r\n";
  REQUIRE(p.feed(req.data(), req.size()).status == ParseStatus::message_complete);
  CHECK(sink.up.rfind("GET /api/x?a=/../b HTTP/1.1\r\nHost: h\r\n", 0) == 0);
  CHECK(sink.up_plain.rfind("GET //api/./v1/%2e%2e/x?a=/../b HTTP/1.1\r\n", 0) == 0);
}

TEST_CASE("path: the word-at-a-time pre-scan agrees with a byte-wise one everywhere", "[http][path]") {
  auto reference = [](std::string_view p) {
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '%' || p[i] == '\\') return true;
      if (p[i] == '/' && i + 1 < p.size() && (p[i + 1] == '.' || p[i + 1] == '/')) return true;
    }
    return false;
  };
  // Every trigger at every offset of paths up to 40 bytes (so across and at word boundaries),
  // on a background of bytes that look alike ('.', '/', '-', 0x80+) but trigger nothing alone.
  const std::string background = "/a.b-c/d\x80" "e.f/g.h\xff" "i/j.k-l/m.n/o" "p.q/r.s/t.u/v.w/x.y/z";
  int checked = 0;
  for (size_t len = 0; len <= 40; ++len) {
    std::string base = background.substr(0, len);
    CHECK(path_may_need_normalizing(base) == reference(base));
    for (size_t pos = 0; pos < len; ++pos) {
      for (std::string_view trig : {"%", "\\", "/.", "//"}) {
        std::string p = base;
        p.replace(pos, std::min(trig.size(), len - pos), trig.substr(0, len - pos));
        INFO(p);
        CHECK(path_may_need_normalizing(p) == reference(p));
        ++checked;
      }
    }
  }
  CHECK(checked > 3000);
  // Pseudo-random bytes from a small alphabet rich in triggers.
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  const char alphabet[] = "/./%\\ab";
  for (int k = 0; k < 20000; ++k) {
    std::string p;
    size_t len = (x >> 59) + 1;
    for (size_t i = 0; i < len; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      p.push_back(alphabet[x % (sizeof alphabet - 1)]);
    }
    if (path_may_need_normalizing(p) != reference(p)) FAIL(p);
  }
}
