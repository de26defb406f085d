#include "config/enums.h"

namespace ebb::config {

const char* to_string(Balance b) { return enum_name<Balance>(kBalanceNames, b); }
const char* to_string(ListenerMode m) { return enum_name<ListenerMode>(kListenerModeNames, m); }
const char* to_string(HealthCheck c) { return enum_name<HealthCheck>(kHealthCheckNames, c); }
const char* to_string(LogLevel l) { return enum_name<LogLevel>(kLogLevelNames, l); }
const char* to_string(ScalerMetric m) { return enum_name<ScalerMetric>(kScalerMetricNames, m); }
const char* to_string(DriverType t) { return enum_name<DriverType>(kDriverTypeNames, t); }

}  // namespace ebb::config
