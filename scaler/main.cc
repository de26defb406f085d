// ebb-scaler: command line, config check, simulate, then the daemon (scaler/controller.h).
#include <cstdio>
#include <string>

#include "common/cli.h"
#include "config/load.h"
#include "scaler/simulate.h"

namespace {
const ebb::CliSpec kSpec{"ebb-scaler", "/etc/ebb/scaler.toml",
                         "ebb-scaler: auto-scaler for an ebb-lb pool.", true};
}

int main(int argc, char** argv) {
  auto cli = ebb::parse_cli(kSpec, argc, argv);
  if (!cli.error.empty()) {
    std::fprintf(stderr, "ebb-scaler: %s\n%s", cli.error.c_str(), ebb::cli_help(kSpec).c_str());
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
  auto loaded = ebb::config::load_scaler_config(cli.options.config);
  for (const auto& w : loaded.warnings) std::fprintf(stderr, "warning: %s\n", w.str().c_str());
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.str().c_str());
    return 1;
  }
  if (cli.options.check) {
    std::puts("ok");
    return 0;
  }
  if (!cli.options.simulate.empty()) {
    auto trace = ebb::scaler::load_trace(cli.options.simulate);
    if (!trace) {
      std::fprintf(stderr, "ebb-scaler: %s\n", trace.error().c_str());
      return 1;
    }
    const auto& cfg = loaded.config;
    auto ours = ebb::scaler::simulate(cfg, *trace, ebb::scaler::SimPolicy::target_tracking);
    auto base = ebb::scaler::simulate(cfg, *trace, ebb::scaler::SimPolicy::baseline);
    std::fputs(ebb::scaler::format_scorecards(cfg, cli.options.simulate, ours, base).c_str(), stdout);
    return 0;
  }
  std::fprintf(stderr, "ebb-scaler: %s is valid, but the scaler daemon is not implemented yet\n",
               cli.options.config.c_str());
  return 1;
}
