// What the admin API needs from ebb-lb (SPEC §5), as an interface so the HTTP layer
// (lb/admin/server.*) can be tested with a double and the real server can implement it on its
// control plane. The admin server has already validated the request (JSON shape, address
// syntax, weight range, state name, auth) before calling a method.
//
// Thread: every method is called on the control thread (the admin server's loop).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ebb::lb::admin {

// A status code and a JSON body. Errors use {"error": "..."} (see error()).
struct ApiResponse {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();

  static ApiResponse error(int status, std::string message) {
    return {status, nlohmann::json{{"error", std::move(message)}}};
  }
};

struct BackendUpdate {
  std::optional<uint32_t> weight;
  std::optional<std::string> state;  // "draining" | "healthy"
};

class ControlApi {
 public:
  virtual ~ControlApi() = default;

  // GET /api/v1/pools: [{"name", "balance", "backends": [{"address", "weight", "state",
  // "active", "requests", "latency_ms"}]}].
  virtual nlohmann::json pools() = 0;
  // GET /api/v1/pools/{pool}: the same shape for one pool; nullopt → 404.
  virtual std::optional<nlohmann::json> pool(const std::string& name) = 0;
  // POST /api/v1/pools/{pool}/backends → 201 added, 200 already present, 404 no such pool,
  // 400 unusable address (e.g. does not resolve), 409 conflicting state (e.g. draining).
  virtual ApiResponse add_backend(const std::string& pool, const std::string& address,
                                  uint32_t weight) = 0;
  // DELETE /api/v1/pools/{pool}/backends/{address} → 202 draining, 404 no pool or backend.
  virtual ApiResponse drain_backend(const std::string& pool, const std::string& address) = 0;
  // PUT /api/v1/pools/{pool}/backends/{address} → 200 with the backend, 404, 409.
  virtual ApiResponse update_backend(const std::string& pool, const std::string& address,
                                     const BackendUpdate& update) = 0;
  // POST /api/v1/reload → 200, or 400 with {"error", "errors": [...]}.
  virtual ApiResponse reload() = 0;
  // GET /api/v1/events?since=N&limit=M: events with seq > since, newest last.
  virtual nlohmann::json events(uint64_t since, size_t limit) = 0;
  // GET /metrics: Prometheus text exposition (0.0.4).
  virtual std::string metrics_text() = 0;
};

}  // namespace ebb::lb::admin
