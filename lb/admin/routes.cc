#include "lb/admin/routes.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/address.h"
#include "common/log.h"
#include "common/token_file.h"
#include "lb/admin/dashboard/dashboard.h"

namespace ebb::lb::admin {

using nlohmann::json;

namespace {
std::string dump(const json& j) {
  // Invalid UTF-8 (e.g. echoed from a URL) is replaced instead of throwing.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

AdminReply json_reply(int status, const json& body) { return {status, "application/json", dump(body), {}}; }

AdminReply error_reply(int status, const std::string& message) {
  return json_reply(status, json{{"error", message}});
}

AdminReply from_api(const ApiResponse& r) { return json_reply(r.status, r.body); }

AdminReply method_not_allowed(const char* allow) {
  AdminReply r = error_reply(405, "method not allowed; allowed: " + std::string(allow));
  r.headers.emplace_back("Allow", allow);
  return r;
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') { ++i; continue; }
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

// Value of `key` in a query string ("a=1&b=2"), or "".
std::string query_param(const std::string& query, const std::string& key) {
  size_t i = 0;
  while (i <= query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string::npos) amp = query.size();
    std::string kv = query.substr(i, amp - i);
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) == key) return eq == std::string::npos ? "" : kv.substr(eq + 1);
    i = amp + 1;
  }
  return "";
}

bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// The body as a JSON object, or an error reply.
std::optional<AdminReply> parse_object(const AdminRequest& req, json& out) {
  if (req.body_too_large) return error_reply(413, "request body too large");
  out = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) return error_reply(400, "request body is not valid JSON");
  if (!out.is_object()) return error_reply(400, "request body must be a JSON object");
  return std::nullopt;
}

// A weight as the config accepts it: an integer ≥ 1.
std::optional<AdminReply> parse_weight(const json& v, uint32_t& out) {
  if (!v.is_number_integer()) return error_reply(400, "weight: expected an integer");
  const auto w = v.get<int64_t>();
  if (w < 1 || w > 1000000) return error_reply(400, "weight: must be between 1 and 1000000");
  out = static_cast<uint32_t>(w);
  return std::nullopt;
}

std::optional<AdminReply> check_address(const std::string& address) {
  auto hp = parse_host_port(address);
  if (!hp) return error_reply(400, "address: " + hp.error());
  return std::nullopt;
}

AdminReply add_backend(ControlApi& api, const std::string& pool, const AdminRequest& req) {
  json body;
  if (auto bad = parse_object(req, body)) return *bad;
  std::string address;
  uint32_t weight = 1;
  for (const auto& [key, value] : body.items()) {
    if (key == "address") {
      if (!value.is_string()) return error_reply(400, "address: expected a string \"host:port\"");
      address = value.get<std::string>();
    } else if (key == "weight") {
      if (auto bad = parse_weight(value, weight)) return *bad;
    } else {
      return error_reply(400, "unknown field \"" + key + "\" (expected address, weight)");
    }
  }
  if (address.empty()) return error_reply(400, "address: required");
  if (auto bad = check_address(address)) return *bad;
  return from_api(api.add_backend(pool, address, weight));
}

AdminReply update_backend(ControlApi& api, const std::string& pool, const std::string& address,
                          const AdminRequest& req) {
  json body;
  if (auto bad = parse_object(req, body)) return *bad;
  BackendUpdate u;
  for (const auto& [key, value] : body.items()) {
    if (key == "weight") {
      uint32_t w = 0;
      if (auto bad = parse_weight(value, w)) return *bad;
      u.weight = w;
    } else if (key == "state") {
      if (!value.is_string() || (value != "draining" && value != "healthy"))
        return error_reply(400, "state: expected \"draining\" or \"healthy\"");
      u.state = value.get<std::string>();
    } else {
      return error_reply(400, "unknown field \"" + key + "\" (expected weight or state)");
    }
  }
  if (!u.weight && !u.state) return error_reply(400, "expected {\"weight\": n} or {\"state\": ...}");
  return from_api(api.update_backend(pool, address, u));
}

AdminReply route(ControlApi& api, const TokenAuth& auth, const AdminRequest& req) {
  const std::string& m = req.method;
  const size_t q = req.target.find('?');
  const std::string raw_path = req.target.substr(0, q);
  const std::string query = q == std::string::npos ? "" : req.target.substr(q + 1);
  if (raw_path.empty() || raw_path[0] != '/') return error_reply(400, "bad request target");
  const bool get = m == "GET" || m == "HEAD";
  const bool mutating = m == "POST" || m == "PUT" || m == "DELETE" || m == "PATCH";
  auto authorized = [&] { return !mutating || auth.allows(req.authorization); };
  auto unauthorized = [] {
    AdminReply r = error_reply(401, "missing or invalid bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ebb-lb\"");
    return r;
  };

  if (raw_path == "/") {
    if (!get) return method_not_allowed("GET, HEAD");
    return {200, "text/html; charset=utf-8", std::string(dashboard_page()), {}};
  }
  if (raw_path == "/healthz") {
    if (!get) return method_not_allowed("GET, HEAD");
    return {200, "text/plain; charset=utf-8", "ok", {}};
  }
  if (raw_path == "/metrics") {
    if (!get) return method_not_allowed("GET, HEAD");
    return {200, "text/plain; version=0.0.4; charset=utf-8", api.metrics_text(), {}};
  }

  std::vector<std::string> parts;
  for (auto& p : split_path(raw_path)) {
    bool ok = true;
    parts.push_back(percent_decode(p, &ok));
    if (!ok) return error_reply(400, "bad percent-encoding in the path");
  }
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1")
    return error_reply(404, "no such route: " + raw_path);

  if (parts.size() == 3 && parts[2] == "reload") {
    if (m != "POST") return method_not_allowed("POST");
    if (!authorized()) return unauthorized();
    return from_api(api.reload());
  }
  if (parts.size() == 3 && parts[2] == "events") {
    if (!get) return method_not_allowed("GET, HEAD");
    uint64_t since = 0, limit = SIZE_MAX;
    const std::string s = query_param(query, "since"), l = query_param(query, "limit");
    if (!s.empty() && !parse_u64(s, since)) return error_reply(400, "since: expected an integer");
    if (!l.empty() && !parse_u64(l, limit)) return error_reply(400, "limit: expected an integer");
    return json_reply(200, api.events(since, static_cast<size_t>(limit)));
  }
  if (parts[2] != "pools") return error_reply(404, "no such route: " + raw_path);

  if (parts.size() == 3) {
    if (!get) return method_not_allowed("GET, HEAD");
    return json_reply(200, api.pools());
  }
  const std::string& pool = parts[3];
  if (parts.size() == 4) {
    if (!get) return method_not_allowed("GET, HEAD");
    auto p = api.pool(pool);
    if (!p) return error_reply(404, "no such pool: " + pool);
    return json_reply(200, *p);
  }
  if (parts[4] != "backends" || parts.size() > 6) return error_reply(404, "no such route: " + raw_path);
  if (parts.size() == 5) {
    if (m == "GET" || m == "HEAD") {
      auto p = api.pool(pool);
      if (!p) return error_reply(404, "no such pool: " + pool);
      return json_reply(200, (*p)["backends"]);
    }
    if (m != "POST") return method_not_allowed("GET, HEAD, POST");
    if (!authorized()) return unauthorized();
    return add_backend(api, pool, req);
  }
  const std::string& address = parts[5];
  if (m == "DELETE") {
    if (!authorized()) return unauthorized();
    if (auto bad = check_address(address)) return *bad;
    return from_api(api.drain_backend(pool, address));
  }
  if (m == "PUT") {
    if (!authorized()) return unauthorized();
    if (auto bad = check_address(address)) return *bad;
    return update_backend(api, pool, address, req);
  }
  if (m == "GET" || m == "HEAD") {
    auto p = api.pool(pool);
    if (!p) return error_reply(404, "no such pool: " + pool);
    for (const auto& b : (*p)["backends"])
      if (b.value("address", "") == address) return json_reply(200, b);
    return error_reply(404, "no backend " + address + " in pool " + pool);
  }
  return method_not_allowed("GET, HEAD, PUT, DELETE");
}
}  // namespace

TokenAuth::TokenAuth(std::string token) : enabled_(!token.empty()) {
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest_);
}

bool TokenAuth::allows(const std::string& authorization) const {
  if (!enabled_) return true;
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() < kScheme.size() ||
      strncasecmp(authorization.data(), kScheme.data(), kScheme.size()) != 0)
    return false;
  std::string_view presented(authorization);
  presented.remove_prefix(kScheme.size());
  while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
  while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
  unsigned char d[32];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), d);
  return CRYPTO_memcmp(d, digest_, sizeof d) == 0;
}

Result<std::string> read_token_file(const std::string& path) {
  return ebb::read_token_file(path, "admin.token_file");
}

AdminReply handle_admin_request(ControlApi& api, const TokenAuth& auth, const AdminRequest& req) {
  try {
    return route(api, auth, req);
  } catch (const std::exception& e) {  // nothing may escape into the event loop
    log::error(std::string("admin: ") + req.method + " " + req.target + ": " + e.what());
    return error_reply(500, "internal error");
  } catch (...) {
    return error_reply(500, "internal error");
  }
}

std::string percent_decode(const std::string& s, bool* ok) {
  std::string out;
  out.reserve(s.size());
  *ok = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 2 >= s.size()) { *ok = false; return out; }
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) { *ok = false; return out; }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

}  // namespace ebb::lb::admin
