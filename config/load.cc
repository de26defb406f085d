// Placeholder until the loader lands (issue 2, in progress).
#include "config/load.h"

namespace ebb::config {
std::string Diagnostic::str() const {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
         (key.empty() ? "" : key + ": ") + message;
}
Loaded<LbConfig> load_lb_config(const std::string& path) {
  Loaded<LbConfig> r;
  r.errors.push_back({path, 0, 0, "", "config loader not implemented yet"});
  return r;
}
Loaded<ScalerConfig> load_scaler_config(const std::string& path) {
  Loaded<ScalerConfig> r;
  r.errors.push_back({path, 0, 0, "", "config loader not implemented yet"});
  return r;
}
}  // namespace ebb::config
