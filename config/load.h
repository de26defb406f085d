// Loading and validating lb.toml / scaler.toml. Never throws: toml11's exceptions stay inside.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "config/lb_config.h"
#include "config/scaler_config.h"

namespace ebb::config {

struct Diagnostic {
  std::string file;
  unsigned line = 0;    // 1-based; 0 when the error has no position (e.g. unreadable file)
  unsigned column = 0;  // 1-based
  std::string key;      // key path, e.g. "pools[0].balance"; may be empty
  std::string message;

  // "FILE:LINE:COL: key: message" (SPEC §1), or "FILE: message" without a position.
  std::string str() const;
};

template <typename T>
struct Loaded {
  T config;                              // valid only when errors is empty
  std::vector<Diagnostic> errors;        // every error found, in file order
  std::vector<Diagnostic> warnings;      // non-fatal findings
  bool ok() const { return errors.empty(); }
};

// Prints warnings ("warning: ...") and errors, one per line, to stderr; returns ok().
template <typename T>
bool report(const Loaded<T>& loaded) {
  for (const auto& w : loaded.warnings) std::fprintf(stderr, "warning: %s\n", w.str().c_str());
  for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.str().c_str());
  return loaded.ok();
}

// Loads a file. Reports every error at once (not just the first).
Loaded<LbConfig> load_lb_config(const std::string& path);
Loaded<ScalerConfig> load_scaler_config(const std::string& path);

// Same, from text already in memory (`name` is used in diagnostics). For tests and fuzzing.
Loaded<LbConfig> parse_lb_config(const std::string& text, const std::string& name);
Loaded<ScalerConfig> parse_scaler_config(const std::string& text, const std::string& name);

}  // namespace ebb::config
