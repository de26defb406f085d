// Fuzz target: the admin API's request handling (lb/admin/routes.cc handle_admin_request):
// routing, percent-decoding, bearer-token auth, and the JSON bodies of the mutating routes
// (POST .../backends, PUT .../backends/{address}, DELETE, POST /api/v1/reload), against the
// in-memory pool registry the admin unit tests use (tests/unit/lb/admin/fake_control_api.h):
// pools "app" (one backend) and "api" (empty). No sockets: lb/admin/server.* only does the
// HTTP/1.1 I/O around this function.
//
// Input: up to 16 requests separated by NUL bytes, applied in order to the same registry (so
// add → update → drain sequences are reachable). Each request: "METHOD TARGET[ AUTHORIZATION]"
// on the first line, the body after it. The API's token is "t0k3n" ("Bearer t0k3n" passes).
// Checks beyond "no crash, no sanitizer report": nothing throws out of the handler (no 500),
// every status is one the API documents, every JSON reply is valid JSON of the documented
// shape, and 401/405 carry their headers.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lb/admin/routes.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/unit/lb/admin/fake_control_api.h"

using namespace ebb::lb::admin;

namespace {

constexpr size_t kMaxRequests = 16;
constexpr size_t kBodyLimit = 1024;  // stands in for AdminServerOptions::max_body_bytes

AdminRequest parse_record(std::string_view rec) {
  AdminRequest req;
  size_t nl = rec.find('\n');
  std::string_view line = rec.substr(0, nl);
  std::string_view body = nl == std::string_view::npos ? std::string_view{} : rec.substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp1 = line.find(' ');
  req.method = std::string(line.substr(0, sp1));
  if (sp1 != std::string_view::npos) {
    std::string_view rest = line.substr(sp1 + 1);
    size_t sp2 = rest.find(' ');
    req.target = std::string(rest.substr(0, sp2));
    if (sp2 != std::string_view::npos) req.authorization = std::string(rest.substr(sp2 + 1));
  }
  if (body.size() > kBodyLimit) {
    req.body_too_large = true;
    body = body.substr(0, kBodyLimit);
  }
  req.body = std::string(body);
  return req;
}

bool has_header(const AdminReply& r, const char* name) {
  for (const auto& [k, v] : r.headers)
    if (k == name && !v.empty()) return true;
  return false;
}

void check_reply(const AdminRequest& req, const AdminReply& r) {
  switch (r.status) {
    case 200: case 201: case 202: case 400: case 401: case 404: case 405: case 409: case 413: break;
    default:
      std::fprintf(stderr, "%s %s -> %d %s\n", req.method.c_str(), req.target.c_str(), r.status, r.body.c_str());
      FUZZ_CHECK(false, "a documented status (500 means something threw)");
  }
  if (r.status == 401) FUZZ_CHECK(has_header(r, "WWW-Authenticate"), "401 names the scheme");
  if (r.status == 405) FUZZ_CHECK(has_header(r, "Allow"), "405 lists the methods");
  if (r.status == 401 || r.status == 413)
    FUZZ_CHECK(req.method != "GET" && req.method != "HEAD", "reads need no token and send no body");
  if (r.content_type != "application/json") return;
  auto j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!j.is_discarded(), "JSON replies are valid JSON");
  if (r.status >= 400) {
    FUZZ_CHECK(j.is_object() && j.contains("error") && j["error"].is_string(), "errors are {\"error\": \"...\"}");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ebb::test::FakeControlApi api;
  const TokenAuth auth("t0k3n");
  for (size_t n = 0; n < kMaxRequests && !in.empty(); ++n) {
    size_t nul = in.find('\0');
    std::string_view rec = in.substr(0, nul);
    in = nul == std::string_view::npos ? std::string_view{} : in.substr(nul + 1);
    AdminRequest req = parse_record(rec);
    AdminReply reply = handle_admin_request(api, auth, req);
    if (ebb::fuzz::verbose())
      std::fprintf(stderr, "  %s %s -> %d %.100s\n", req.method.c_str(), req.target.c_str(), reply.status,
                   reply.content_type == "application/json" ? reply.body.c_str() : "");
    check_reply(req, reply);
  }
  return 0;
}
