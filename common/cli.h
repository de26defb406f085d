// Command-line parsing shared by ebb-lb and ebb-scaler (SPEC §1).
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace ebb {

struct CliSpec {
  const char* program;         // "ebb-lb"
  const char* default_config;  // "/etc/ebb/lb.toml"
  const char* summary;         // one line for --help
  bool scaler = false;         // accepts --dry-run and --simulate TRACE.csv
};

struct CliOptions {
  std::string config;
  bool check = false;
  bool version = false;
  bool help = false;
  bool dry_run = false;
  std::string simulate;  // trace file for --simulate
};

struct CliParse {
  CliOptions options;
  std::string error;  // non-empty: print it with the usage line and exit 2
};

CliParse parse_cli(const CliSpec& spec, int argc, char** argv);
std::string cli_help(const CliSpec& spec);

// Handles what ends the program before any config is read: a usage error (message + help on
// stderr, 2), --help and --version (stdout, 0). Returns the exit status, or nothing to go on.
std::optional<int> cli_early_exit(const CliSpec& spec, const CliParse& parse);
std::string cli_version(const CliSpec& spec);

}  // namespace ebb
