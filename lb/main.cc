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
  if (auto status = ebb::cli_early_exit(kSpec, cli)) return *status;
  auto loaded = ebb::config::load_lb_config(cli.options.config);
  if (!ebb::config::report(loaded)) return 1;
  if (!check_tls(cli.options.config, loaded.config)) return 1;
  if (cli.options.check) {
    std::puts("ok");
    return 0;
  }
  return ebb::lb::run_server(cli.options.config, std::move(loaded.config));
}
