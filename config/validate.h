// Checks across keys, run on the structs after every key was read (references, duplicates,
// min <= max, per-type requirements, files that must exist). Internal to config/.
#pragma once
#include "config/lb_config.h"
#include "config/report.h"
#include "config/scaler_config.h"

namespace ebb::config {

void validate_lb(const LbConfig& cfg, Report& rep);
void validate_scaler(const ScalerConfig& cfg, Report& rep);

}  // namespace ebb::config
