// The scaler's own /metrics (SPEC §6): ebb_scaler_backends{pool,kind}, ebb_scaler_metric{pool,
// metric}, ebb_scaler_actions_total{pool,action}. prometheus-cpp core, serialised on request.
#pragma once
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "config/scaler_config.h"
#include "scaler/policies/decision.h"

namespace ebb::scaler {

class ScalerMetrics {
 public:
  explicit ScalerMetrics(const config::ScalerConfig& cfg);
  // current / desired / min / max and every target's observed value (a missing value removes
  // nothing: the gauge keeps its last value, the decision log says it was missing).
  void record(const Decision& d);
  // action ∈ launch | drain | terminate | replace
  void count_action(const std::string& action, double n = 1);
  std::string render() const;

 private:
  std::string pool_;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Gauge>& backends_;
  prometheus::Family<prometheus::Gauge>& metric_;
  prometheus::Family<prometheus::Counter>& actions_;
};

}  // namespace ebb::scaler
