#include "scaler/scaler_metrics.h"

#include <prometheus/text_serializer.h>

#include "scaler/policies/metric_name.h"

namespace ebb::scaler {

ScalerMetrics::ScalerMetrics(const config::ScalerConfig& cfg)
    : pool_(cfg.pool),
      backends_(prometheus::BuildGauge()
                    .Name("ebb_scaler_backends")
                    .Help("Backends of the pool: current, desired, min, max.")
                    .Register(*registry_)),
      metric_(prometheus::BuildGauge()
                  .Name("ebb_scaler_metric")
                  .Help("The last observed value of each scaling metric.")
                  .Register(*registry_)),
      actions_(prometheus::BuildCounter()
                   .Name("ebb_scaler_actions_total")
                   .Help("Scaling actions taken: launch, drain, terminate, replace.")
                   .Register(*registry_)) {
  backends_.Add({{"pool", pool_}, {"kind", "min"}}).Set(cfg.min);
  backends_.Add({{"pool", pool_}, {"kind", "max"}}).Set(cfg.max);
  for (const char* a : {"launch", "drain", "terminate", "replace"}) actions_.Add({{"pool", pool_}, {"action", a}});
}

void ScalerMetrics::record(const Decision& d) {
  backends_.Add({{"pool", pool_}, {"kind", "current"}}).Set(d.current);
  backends_.Add({{"pool", pool_}, {"kind", "desired"}}).Set(d.desired);
  for (const auto& t : d.targets)
    if (t.value) metric_.Add({{"pool", pool_}, {"metric", metric_name(t.metric)}}).Set(*t.value);
}

void ScalerMetrics::count_action(const std::string& action, double n) {
  actions_.Add({{"pool", pool_}, {"action", action}}).Increment(n);
}

std::string ScalerMetrics::render() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace ebb::scaler
