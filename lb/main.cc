// ebb-lb: command line, config check, then the daemon (lb/server.h).
#include <cstdio>
#include <string>

#include "common/cli.h"
#include "config/load.h"
#include "lb/server.h"

namespace {
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
  if (cli.options.check) {
    std::puts("ok");
    return 0;
  }
  return ebb::lb::run_server(cli.options.config, std::move(loaded.config));
}
