// Names of the scaling metrics as written in scaler.toml (SPEC §7) and in explanations.
#pragma once
#include "config/scaler_config.h"

namespace ebb::scaler {

inline const char* metric_name(config::ScalerMetric m) {
  switch (m) {
    case config::ScalerMetric::cpu_percent: return "cpu_percent";
    case config::ScalerMetric::latency_p95_ms: return "latency_p95_ms";
    case config::ScalerMetric::latency_p50_ms: return "latency_p50_ms";
    case config::ScalerMetric::requests_per_backend: return "requests_per_backend";
    case config::ScalerMetric::active_per_backend: return "active_per_backend";
  }
  return "?";
}

}  // namespace ebb::scaler
