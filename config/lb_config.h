// lb.toml as plain validated structs (SPEC.md §2). Produced by load_lb_config(); every field
// has its SPEC default. Extensions beyond SPEC are marked "extension" and documented in ebb.toml(5).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/duration.h"

namespace ebb::config {

using namespace std::chrono_literals;

enum class LogLevel { error, warn, info, debug };

struct Runtime {
  unsigned workers = 0;  // 0 = one per CPU core
  uint64_t max_connections = 100000;
  Duration shutdown_grace = 30s;
  LogLevel log_level = LogLevel::info;
  std::string access_log = "off";  // "off" | "stdout" | a file path
};

struct Admin {
  HostPort listen{"127.0.0.1", 9901};
  std::string token_file;  // "" = no auth
};

struct TlsCert {
  std::string cert;  // PEM chain
  std::string key;
};

struct Tls {
  TlsCert default_cert;        // served without SNI or for an unknown name
  std::vector<TlsCert> sni;    // more certificates, chosen by the names in their SAN
  std::string min_version = "1.2";  // "1.2" | "1.3"
  bool session_tickets = true;
  std::vector<std::string> alpn{"http/1.1"};
};

struct Route {
  std::string host;         // "" = any; exact or "*.example.com"
  std::string path_prefix;  // "" = any
  std::string pool;
};

enum class ListenerMode { http, tcp };

struct Listener {
  std::string name;
  HostPort listen;
  ListenerMode mode = ListenerMode::http;
  std::string pool;
  bool proxy_protocol = false;
  std::optional<Tls> tls;
  std::vector<Route> routes;
  // extensions (SPEC §4 "by default"):
  uint32_t max_header_bytes = 64 * 1024;  // request line + headers; 431 past it
  Duration header_timeout = 10s;          // request head must arrive within this; 408 past it
  uint64_t max_body_bytes = 0;            // 0 = unlimited; 413 past it
};

enum class Balance { round_robin, weighted_round_robin, least_conn, hash, response_time, random };

struct HashKey {
  enum class Kind { source_ip, uri, header, cookie };
  Kind kind = Kind::source_ip;
  std::string name;  // header or cookie name for Kind::header / Kind::cookie
};

struct BackendConfig {
  HostPort address;
  uint32_t weight = 1;
};

enum class HealthCheck { http, tcp, none };

struct Health {
  HealthCheck check = HealthCheck::http;
  std::string path = "/healthz";
  std::string host;  // "" = the backend address
  int expect_min = 200;  // "200-399" → [200, 399]; "200" → [200, 200]
  int expect_max = 399;
  Duration interval = 2s;
  Duration timeout = 1s;
  unsigned healthy_threshold = 2;
  unsigned unhealthy_threshold = 3;
  unsigned passive_failures = 5;  // 0 = off
};

struct Pool {
  std::string name;
  Balance balance = Balance::round_robin;
  HashKey hash_key;
  std::string sticky_cookie;  // "" = off
  Duration sticky_ttl = 1h;
  std::string sticky_secret_file;  // "" = key derived from the pool name
  Duration connect_timeout = 3s;
  Duration response_timeout = 60s;
  Duration idle_timeout = 60s;
  unsigned retries = 1;
  Duration drain_timeout = 30s;
  Duration slow_start = 0s;
  bool managed = false;
  std::vector<BackendConfig> backends;
  Health health;
};

struct LbConfig {
  std::string path;  // the file it was loaded from
  Runtime runtime;
  Admin admin;
  std::vector<Listener> listeners;
  std::vector<Pool> pools;

  const Pool* find_pool(const std::string& name) const {
    for (const auto& p : pools)
      if (p.name == name) return &p;
    return nullptr;
  }
};

const char* to_string(Balance b);
const char* to_string(ListenerMode m);
const char* to_string(HealthCheck c);
const char* to_string(LogLevel l);

}  // namespace ebb::config
