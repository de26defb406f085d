#include "config/validate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include "config/enums.h"

namespace ebb::config {

namespace {

std::string idx(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }
std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

std::string at_line(const Report& rep, const std::string& path) {
  Pos p = rep.value_pos(path);
  return p.line ? " (line " + std::to_string(p.line) + ")" : "";
}

// "" if `path` names a readable regular file, else why not. Opening it is the only test that
// also holds for root (access(2) says yes to root for mode 000 files; open does not lie).
std::string unreadable_reason(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory";
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return std::strerror(errno);
  ::close(fd);
  return "";
}

// True if `path` is readable and its first line holds nothing but whitespace (as ebb-lb reads a
// token file: the first line, trimmed). The content is never reported.
bool first_line_blank(const std::string& path) {
  std::ifstream in(path);
  if (!in) return false;  // check_file reports it
  std::string line;
  std::getline(in, line);
  return line.find_first_not_of(" \t\r\n") == std::string::npos;
}

// The admin API on a loopback address is reachable only from this host.
bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

void check_file(Report& rep, const std::string& key_path, const std::string& file, const char* what) {
  std::string why = unreadable_reason(file);
  if (!why.empty()) rep.error(key_path, std::string("cannot read ") + what + " " + in_quotes(file) + ": " + why);
}

// Whether two listen addresses would fight over the same socket: equal, or one is a wildcard
// that covers the other ("::" is dual-stack on Linux and covers IPv4 too; "0.0.0.0" covers
// IPv4 addresses and host names, not IPv6 literals).
bool covers(const std::string& wildcard, const std::string& host) {
  if (wildcard == "::") return true;
  if (wildcard == "0.0.0.0") return host.find(':') == std::string::npos;
  return false;
}

bool listen_overlaps(const HostPort& a, const HostPort& b) {
  if (a.port != b.port) return false;
  return a.host == b.host || covers(a.host, b.host) || covers(b.host, a.host);
}

std::string pool_list(const LbConfig& cfg) {
  std::string out;
  std::map<std::string, bool> seen;
  for (const auto& p : cfg.pools)
    if (!p.name.empty() && seen.emplace(p.name, true).second) out += (out.empty() ? "" : ", ") + p.name;
  return out.empty() ? "none" : out;
}

void check_pool_ref(const LbConfig& cfg, Report& rep, const std::string& path, const std::string& pool) {
  if (pool.empty() || cfg.find_pool(pool)) return;
  rep.error(path, "unknown pool " + in_quotes(pool) + " (defined pools: " + pool_list(cfg) + ")");
}

void validate_tls(const Tls& tls, const std::string& path, Report& rep) {
  auto pair = [&](const TlsCert& c, const std::string& p) {
    if (c.cert.empty() && c.key.empty()) {
      rep.error(p, "cert and key are required");
      return;
    }
    if (c.cert.empty()) rep.error(p + ".key", "key is given without cert (both are required)");
    if (c.key.empty()) rep.error(p + ".cert", "cert is given without key (both are required)");
    if (!c.cert.empty()) check_file(rep, p + ".cert", c.cert, "certificate file");
    if (!c.key.empty()) check_file(rep, p + ".key", c.key, "key file");
  };
  pair(tls.default_cert, path);
  for (size_t i = 0; i < tls.sni.size(); ++i) pair(tls.sni[i], idx(path + ".sni", i));
}

}  // namespace

void validate_lb(const LbConfig& cfg, Report& rep) {
  if (cfg.listeners.empty()) rep.error("listeners", "no listeners defined (at least one [[listeners]] is required)");
  if (cfg.pools.empty()) rep.error("pools", "no pools defined (at least one [[pools]] is required)");
  if (!cfg.admin.token_file.empty()) {
    check_file(rep, "admin.token_file", cfg.admin.token_file, "token file");
    if (first_line_blank(cfg.admin.token_file))  // the token is the file's first line, trimmed
      rep.error("admin.token_file", "token file " + in_quotes(cfg.admin.token_file) +
                                        " has no token on its first line");
  } else if (!is_loopback_host(cfg.admin.listen.host))
    rep.warning("admin.listen", "the admin API listens on " + cfg.admin.listen.str() +
                                    " without admin.token_file: anyone who can reach it can add, drain and "
                                    "reweight backends and reload the configuration");

  std::map<std::string, size_t> pool_names;
  for (size_t i = 0; i < cfg.pools.size(); ++i) {
    const Pool& p = cfg.pools[i];
    std::string path = idx("pools", i);
    if (!p.name.empty()) {
      auto [it, fresh] = pool_names.emplace(p.name, i);
      if (!fresh)
        rep.error(path + ".name", "duplicate pool name " + in_quotes(p.name) + ", first defined at pools[" +
                                      std::to_string(it->second) + "]" + at_line(rep, idx("pools", it->second) + ".name"));
    }
    std::map<std::string, size_t> addrs;
    for (size_t j = 0; j < p.backends.size(); ++j) {
      auto [it, fresh] = addrs.emplace(p.backends[j].address.str(), j);
      if (!fresh)
        rep.error(idx(path + ".backends", j) + ".address",
                  "duplicate backend " + it->first + " in pool " + in_quotes(p.name) + ", first at backends[" +
                      std::to_string(it->second) + "]");
    }
    if (rep.has(path + ".hash_key") && p.balance != Balance::hash)
      rep.warning(path + ".hash_key", "ignored: balance is " + in_quotes(to_string(p.balance)) + ", not \"hash\"");
    if (!p.managed && p.backends.empty())
      rep.warning(path, "pool " + in_quotes(p.name) + " has no backends and is not managed: it answers 503 until backends are added");
    if (p.health.check != HealthCheck::none && p.health.timeout > p.health.interval)
      rep.warning(path + ".health.timeout", "health check timeout is longer than its interval");
    if (!p.sticky_secret_file.empty()) check_file(rep, path + ".sticky_secret_file", p.sticky_secret_file, "secret file");
  }

  std::map<std::string, size_t> listener_names;
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    const Listener& l = cfg.listeners[i];
    std::string path = idx("listeners", i);
    if (!l.name.empty()) {
      auto [it, fresh] = listener_names.emplace(l.name, i);
      if (!fresh)
        rep.error(path + ".name", "duplicate listener name " + in_quotes(l.name) + ", first defined at listeners[" +
                                      std::to_string(it->second) + "]" +
                                      at_line(rep, idx("listeners", it->second) + ".name"));
    }
    if (l.listen.port != 0) {
      for (size_t k = 0; k < i; ++k) {
        if (cfg.listeners[k].listen.port != 0 && listen_overlaps(cfg.listeners[k].listen, l.listen)) {
          rep.error(path + ".listen", "address " + l.listen.str() + " is already used by listener " +
                                          in_quotes(cfg.listeners[k].name) + at_line(rep, idx("listeners", k) + ".listen"));
          break;
        }
      }
      if (listen_overlaps(cfg.admin.listen, l.listen))
        rep.error(path + ".listen", "address " + l.listen.str() + " is also the admin address (admin.listen = " +
                                        in_quotes(cfg.admin.listen.str()) + ")");
    }
    check_pool_ref(cfg, rep, path + ".pool", l.pool);
    for (size_t j = 0; j < l.routes.size(); ++j) check_pool_ref(cfg, rep, idx(path + ".routes", j) + ".pool", l.routes[j].pool);
    for (size_t j = 0; j < l.routes.size(); ++j) {
      const Route& r = l.routes[j];
      if (r.host.empty() && r.path_prefix.empty() && j + 1 < l.routes.size())
        rep.warning(idx(path + ".routes", j), "route has neither host nor path_prefix: it matches every request, "
                                              "so the routes after it are never used");
    }
    if (l.mode == ListenerMode::tcp) {
      if (!l.routes.empty())
        rep.error(path + ".routes", "routes need mode = \"http\" (listener " + in_quotes(l.name) + " is tcp)");
      if (const Pool* p = cfg.find_pool(l.pool)) {
        if (p->balance == Balance::hash && p->hash_key.kind != HashKey::Kind::source_ip) {
          const char* what = p->hash_key.kind == HashKey::Kind::uri      ? "uri"
                             : p->hash_key.kind == HashKey::Kind::header ? "a header"
                                                                          : "a cookie";
          rep.error(path + ".pool", "pool " + in_quotes(p->name) + " hashes on " + what +
                                        ", which is L7 only, but this listener has mode = \"tcp\" "
                                        "(use hash_key = \"source_ip\" or mode = \"http\")");
        }
        if (!p->sticky_cookie.empty())
          rep.warning(path + ".pool", "pool " + in_quotes(p->name) +
                                          " has a sticky_cookie, which is L7 only: ignored on this tcp listener");
      }
    }
    if (l.tls) validate_tls(*l.tls, path + ".tls", rep);
  }
}

void validate_scaler(const ScalerConfig& c, Report& rep) {
  if (c.min > c.max)
    rep.error(rep.has("scaler.min") ? "scaler.min" : "scaler.max",
              "min (" + std::to_string(c.min) + ") is larger than max (" + std::to_string(c.max) + ")");
  if (rep.has("scaler") && c.targets.empty() && !rep.has_error_under("scaler.targets"))
    rep.error("scaler.targets", "no targets defined (at least one [[scaler.targets]] is required)");
  std::map<ScalerMetric, size_t> metrics;
  for (size_t i = 0; i < c.targets.size(); ++i) {
    auto [it, fresh] = metrics.emplace(c.targets[i].metric, i);
    if (!fresh)
      rep.error(idx("scaler.targets", i) + ".metric", "duplicate target for metric " +
                                                          in_quotes(to_string(c.targets[i].metric)) +
                                                          ", first at scaler.targets[" + std::to_string(it->second) + "]");
  }
  for (size_t i = 0; i < c.schedule.size(); ++i)
    if (c.schedule[i].min > c.max)
      rep.error(idx("scaler.schedule", i) + ".min", "schedule min (" + std::to_string(c.schedule[i].min) +
                                                        ") is larger than scaler.max (" + std::to_string(c.max) + ")");
  std::map<std::string, size_t> urls;
  for (size_t i = 0; i < c.lb_admin.size(); ++i) {
    auto [it, fresh] = urls.emplace(c.lb_admin[i], i);
    if (!fresh) rep.error(idx("scaler.lb_admin", i), "duplicate LB admin URL " + in_quotes(c.lb_admin[i]));
  }
  if (!c.token_file.empty()) check_file(rep, "scaler.token_file", c.token_file, "token file");

  // Without a valid type, the per-type requirements would only add noise.
  if (!rep.has("driver.type") || rep.has_error_under("driver.type")) return;
  const Driver& d = c.driver;
  std::string type = in_quotes(to_string(d.type));
  auto require = [&](const char* key, bool present) {
    if (!present) rep.error(std::string("driver.") + key, "required with type = " + type);
  };
  switch (d.type) {
    case DriverType::process:
      require("command", !d.command.empty() || rep.has("driver.command"));
      require("ports", rep.has("driver.ports"));
      if (!d.command.empty()) {
        bool uses_port = false;
        for (const auto& a : d.command)
          if (a.find("{port}") != std::string::npos || a.find("{address}") != std::string::npos) uses_port = true;
        if (!uses_port)
          rep.warning("driver.command", "uses neither {port} nor {address}: every instance gets the same arguments");
      }
      break;
    case DriverType::exec:
      require("launch", !d.launch.empty() || rep.has("driver.launch"));
      require("terminate", !d.terminate.empty() || rep.has("driver.terminate"));
      break;
    case DriverType::systemd:
      require("unit", !d.unit.empty() || rep.has("driver.unit"));
      if (!d.unit.empty() && d.unit.find("{port}") == std::string::npos)
        rep.error("driver.unit", "must contain {port} (an instantiated unit like \"web@{port}.service\")");
      require("ports", rep.has("driver.ports"));
      break;
  }
  if (d.type != DriverType::exec && rep.has("driver.ports")) {
    unsigned n = static_cast<unsigned>(d.port_max - d.port_min) + 1;
    if (n < c.max)
      rep.error("driver.ports", "the range has " + std::to_string(n) + " ports, fewer than scaler.max (" +
                                    std::to_string(c.max) + ")");
  }
}

}  // namespace ebb::config
