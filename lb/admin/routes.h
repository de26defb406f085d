// The admin API's routing, validation and status codes (SPEC §5), independent of sockets:
// one parsed request in, one reply out. lb/admin/server.* does the HTTP/1.1 I/O around it.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "lb/admin/control_api.h"

namespace ebb::lb::admin {

struct AdminRequest {
  std::string method;         // "GET", "POST", ...
  std::string target;         // request target as received: path + optional "?query"
  std::string authorization;  // the Authorization header ("" if absent)
  std::string body;
  bool body_too_large = false;  // the server stopped collecting the body at its limit
};

struct AdminReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, ...)
};

// Bearer token check in constant time (SHA-256 of both sides compared with CRYPTO_memcmp, so
// neither content nor length leaks through timing). An empty token disables auth.
class TokenAuth {
 public:
  explicit TokenAuth(std::string token = "");
  bool enabled() const { return enabled_; }
  // `authorization` is the header value, e.g. "Bearer s3cret".
  bool allows(const std::string& authorization) const;

 private:
  bool enabled_;
  unsigned char digest_[32];
};

// Reads a token file (first line, surrounding whitespace trimmed). Errors when unreadable or
// empty: a configured token_file that yields no token must not silently disable auth.
Result<std::string> read_token_file(const std::string& path);

// Thread: the control thread (calls into `api`). Never throws.
AdminReply handle_admin_request(ControlApi& api, const TokenAuth& auth, const AdminRequest& req);

std::string percent_decode(const std::string& s, bool* ok);

}  // namespace ebb::lb::admin
