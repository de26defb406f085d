#include "common/cli.h"

#include <cstdio>
#include <cstring>

#ifndef EBB_VERSION
#define EBB_VERSION "0.0.0"
#endif

namespace ebb {

CliParse parse_cli(const CliSpec& spec, int argc, char** argv) {
  CliParse r;
  r.options.config = spec.default_config;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) {
        r.error = std::string(flag) + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-c" || a == "--config") {
      const char* v = value("--config");
      if (!v) return r;
      r.options.config = v;
    } else if (a.rfind("--config=", 0) == 0) {
      r.options.config = a.substr(9);
    } else if (a == "--check") {
      r.options.check = true;
    } else if (a == "--version" || a == "-V") {
      r.options.version = true;
    } else if (a == "--help" || a == "-h") {
      r.options.help = true;
    } else if (spec.scaler && a == "--dry-run") {
      r.options.dry_run = true;
    } else if (spec.scaler && a == "--simulate") {
      const char* v = value("--simulate");
      if (!v) return r;
      r.options.simulate = v;
    } else {
      r.error = "unknown option '" + a + "'";
      return r;
    }
  }
  if (r.options.config.empty()) r.error = "--config needs a non-empty file name";
  return r;
}

std::string cli_help(const CliSpec& spec) {
  std::string h = std::string("Usage: ") + spec.program + " [options]\n" + spec.summary + "\n\n";
  h += "  -c, --config FILE   configuration file (default " + std::string(spec.default_config) + ")\n";
  h += "      --check         validate the configuration, print 'ok' or every error, exit 0/1\n";
  if (spec.scaler) {
    h += "      --dry-run       decide and log as usual, never call the driver or change the LB\n";
    h += "      --simulate TRACE.csv\n"
         "                      run the policy against a load trace on a simulated clock, print a scorecard\n";
  }
  h += "  -V, --version       print the version\n";
  h += "  -h, --help          print this help\n";
  return h;
}

std::optional<int> cli_early_exit(const CliSpec& spec, const CliParse& parse) {
  if (!parse.error.empty()) {
    std::fprintf(stderr, "%s: %s\n%s", spec.program, parse.error.c_str(), cli_help(spec).c_str());
    return 2;
  }
  if (parse.options.help) {
    std::fputs(cli_help(spec).c_str(), stdout);
    return 0;
  }
  if (parse.options.version) {
    std::fputs(cli_version(spec).c_str(), stdout);
    return 0;
  }
  return std::nullopt;
}

std::string cli_version(const CliSpec& spec) { return std::string(spec.program) + " " EBB_VERSION "\n"; }

}  // namespace ebb
