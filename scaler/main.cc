// ebb-scaler: command line, config check, simulate, then the daemon (scaler/controller.h).
#include <csignal>
#include <cstdio>
#include <string>

#include "common/cli.h"
#include "config/load.h"
#include "common/log.h"
#include "common/uv.h"
#include "scaler/controller.h"
#include "scaler/drivers/driver.h"
#include "scaler/simulate.h"

namespace {
const ebb::CliSpec kSpec{"ebb-scaler", "/etc/ebb/scaler.toml",
                         "ebb-scaler: auto-scaler for an ebb-lb pool.", true};
}

int main(int argc, char** argv) {
  auto cli = ebb::parse_cli(kSpec, argc, argv);
  if (auto status = ebb::cli_early_exit(kSpec, cli)) return *status;
  auto loaded = ebb::config::load_scaler_config(cli.options.config);
  if (!ebb::config::report(loaded)) return 1;
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
  // The daemon: one uv loop, the controller, SIGTERM/SIGINT stop it (instances keep running and
  // are re-adopted by the next start).
  ebb::UvLoop loop;
  auto driver = ebb::scaler::make_driver(loop.get(), loaded.config.driver);
  ebb::scaler::Controller controller(loop.get(), loaded.config, std::move(driver),
                                     ebb::scaler::ControllerOptions{cli.options.dry_run});
  if (auto r = controller.start(); !r) {
    std::fprintf(stderr, "ebb-scaler: %s\n", r.error().c_str());
    return 1;
  }
  struct Stop {
    ebb::scaler::Controller* controller;
    uv_loop_t* loop;
  } stop{&controller, loop.get()};
  ebb::UvHandle<uv_signal_t> sigterm, sigint;
  for (auto* h : {&sigterm, &sigint}) {
    uv_signal_init(loop.get(), h->get());
    h->mark_initialized();
    (*h)->data = &stop;
  }
  auto on_signal = [](uv_signal_t* s, int signum) {
    auto* st = static_cast<Stop*>(s->data);
    ebb::log::info(std::string("ebb-scaler: ") + (signum == SIGTERM ? "SIGTERM" : "SIGINT") + ", stopping");
    st->controller->stop();
    uv_stop(st->loop);
  };
  uv_signal_start(sigterm.get(), on_signal, SIGTERM);
  uv_signal_start(sigint.get(), on_signal, SIGINT);
  uv_run(loop.get(), UV_RUN_DEFAULT);
  return 0;
}
