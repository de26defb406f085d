// A ControlApi double for the admin server tests: a tiny in-memory pool registry with the same
// status-code contract the real control plane implements.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "lb/admin/control_api.h"

namespace ebb::test {

class FakeControlApi : public lb::admin::ControlApi {
 public:
  struct Backend {
    std::string address;
    uint32_t weight = 1;
    std::string state = "healthy";
  };
  std::map<std::string, std::vector<Backend>> pools_map{{"app", {{"127.0.0.1:9001", 1, "healthy"}}},
                                                        {"api", {}}};
  bool reload_ok = true;
  int reloads = 0;
  std::string metrics = "# TYPE ebb_config_reloads_total counter\nebb_config_reloads_total{result=\"success\"} 0\n";

  Backend* find(const std::string& pool, const std::string& address) {
    auto it = pools_map.find(pool);
    if (it == pools_map.end()) return nullptr;
    for (auto& b : it->second)
      if (b.address == address) return &b;
    return nullptr;
  }

  nlohmann::json pool_json(const std::string& name) {
    nlohmann::json backends = nlohmann::json::array();
    for (const auto& b : pools_map[name])
      backends.push_back({{"address", b.address}, {"weight", b.weight}, {"state", b.state},
                          {"active", 0}, {"requests", 0}, {"latency_ms", 0.0}});
    return {{"name", name}, {"balance", "round_robin"}, {"backends", backends}};
  }

  nlohmann::json pools() override {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& [name, _] : pools_map) a.push_back(pool_json(name));
    return a;
  }
  std::optional<nlohmann::json> pool(const std::string& name) override {
    if (!pools_map.count(name)) return std::nullopt;
    return pool_json(name);
  }
  lb::admin::ApiResponse add_backend(const std::string& pool, const std::string& address,
                                     uint32_t weight) override {
    if (!pools_map.count(pool)) return lb::admin::ApiResponse::error(404, "no such pool: " + pool);
    if (Backend* b = find(pool, address)) {
      if (b->state == "draining") return lb::admin::ApiResponse::error(409, "draining");
      return {200, {{"address", address}, {"weight", b->weight}, {"state", b->state}}};
    }
    pools_map[pool].push_back({address, weight, "unknown"});
    return {201, {{"address", address}, {"weight", weight}, {"state", "unknown"}}};
  }
  lb::admin::ApiResponse drain_backend(const std::string& pool, const std::string& address) override {
    Backend* b = find(pool, address);
    if (!b) return lb::admin::ApiResponse::error(404, "no backend " + address);
    b->state = "draining";
    return {202, {{"address", address}, {"state", "draining"}}};
  }
  lb::admin::ApiResponse update_backend(const std::string& pool, const std::string& address,
                                        const lb::admin::BackendUpdate& u) override {
    Backend* b = find(pool, address);
    if (!b) return lb::admin::ApiResponse::error(404, "no backend " + address);
    if (u.weight) b->weight = *u.weight;
    if (u.state) b->state = *u.state;
    return {200, {{"address", address}, {"weight", b->weight}, {"state", b->state}}};
  }
  lb::admin::ApiResponse reload() override {
    ++reloads;
    if (reload_ok) return {200, {{"result", "ok"}}};
    return {400, {{"error", "config rejected"}, {"errors", {"lb.toml:3:1: bad"}}}};
  }
  nlohmann::json events(uint64_t since, size_t limit) override {
    return nlohmann::json::array({{{"seq", since + 1}, {"limit", limit}}});
  }
  std::string metrics_text() override { return metrics; }
};

}  // namespace ebb::test
