// ebb-lb: command line, config check, then the daemon (lb/server.h).
#include <cstdio>
#include <string>

#include "common/cli.h"
#include "config/load.h"
#include "lb/server.h"
#include "lb/tls/tls_certs.h"

namespace {
// Loads every [listeners.tls] table the way the server will (certificate chains, keys, key
// matches certificate), so --check catches what only the TLS loader sees. Prints each error
// as "FILE: listeners[i].tls: message"; returns false if there was any.
bool check_tls(const std::string& path, const ebb::config::LbConfig& cfg) {
  bool ok = true;
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    if (!cfg.listeners[i].tls) continue;
    auto material = ebb::lb::tls::load_tls_material(*cfg.listeners[i].tls);
    if (material) continue;
    ok = false;
    const std::string& all = material.error();
    for (size_t start = 0; start < all.size();) {
      size_t nl = all.find('\n', start);
      if (nl == std::string::npos) nl = all.size();
      ebb::config::Diagnostic d{path, 0, 0, "listeners[" + std::to_string(i) + "].tls", all.substr(start, nl - start)};
      std::fprintf(stderr, "%s\n", d.str().c_str());
      start = nl + 1;
    }
  }
  return ok;
}

const ebb::CliSpec kSpec{"ebb-lb", "/etc/ebb/lb.toml",
                         "ebb-lb: L4/L7 load balancer (HTTP/1.1, TCP, TLS termination).", false};
}

int main(int argc, char** argv) {
  auto cli = ebb::parse_cli(kSpec, argc, argv);
  if (!cli.error.empty()) {
    std::fprintf(stderr, "ebb-lb: %s\n%s", cli.error.c_str(), ebb::cli_help(kSpec).c_str());
    return 2;
  }
  if (cli.options.help) {
    std::fputs(ebb::cli_help(kSpec).c_str(), stdout);
    return 0;
  }
  if (cli.options.version) {
    std::fputs(ebb::cli_version(kSpec).c_str(), stdout);
    return 0;
  }
  auto loaded = ebb::config::load_lb_config(cli.options.config);
  for (const auto& w : loaded.warnings) std::fprintf(stderr, "warning: %s\n", w.str().c_str());
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.str().c_str());
    return 1;
  }
  if (!check_tls(cli.options.config, loaded.config)) return 1;
  if (cli.options.check) {
    std::puts("ok");
    return 0;
  }
  return ebb::lb::run_server(cli.options.config, std::move(loaded.config));
}
