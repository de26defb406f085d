// Name tables for the config enums: one place that maps the words users write to enum values
// (and back, for to_string, error messages and the admin API).
#pragma once
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/lb_config.h"
#include "config/scaler_config.h"

namespace ebb::config {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

inline constexpr EnumName<LogLevel> kLogLevelNames[] = {
    {LogLevel::error, "error"}, {LogLevel::warn, "warn"}, {LogLevel::info, "info"}, {LogLevel::debug, "debug"}};
inline constexpr EnumName<ListenerMode> kListenerModeNames[] = {{ListenerMode::http, "http"},
                                                                {ListenerMode::tcp, "tcp"}};
inline constexpr EnumName<Balance> kBalanceNames[] = {
    {Balance::round_robin, "round_robin"}, {Balance::weighted_round_robin, "weighted_round_robin"},
    {Balance::least_conn, "least_conn"},   {Balance::hash, "hash"},
    {Balance::response_time, "response_time"}, {Balance::random, "random"}};
inline constexpr EnumName<HealthCheck> kHealthCheckNames[] = {
    {HealthCheck::http, "http"}, {HealthCheck::tcp, "tcp"}, {HealthCheck::none, "none"}};
inline constexpr EnumName<ScalerMetric> kScalerMetricNames[] = {
    {ScalerMetric::cpu_percent, "cpu_percent"},
    {ScalerMetric::latency_p95_ms, "latency_p95_ms"},
    {ScalerMetric::latency_p50_ms, "latency_p50_ms"},
    {ScalerMetric::requests_per_backend, "requests_per_backend"},
    {ScalerMetric::active_per_backend, "active_per_backend"}};
inline constexpr EnumName<DriverType> kDriverTypeNames[] = {
    {DriverType::process, "process"}, {DriverType::exec, "exec"}, {DriverType::systemd, "systemd"}};

template <typename E>
std::optional<E> enum_from_name(std::span<const EnumName<E>> table, std::string_view name) {
  for (const auto& e : table)
    if (name == e.name) return e.value;
  return std::nullopt;
}

template <typename E>
const char* enum_name(std::span<const EnumName<E>> table, E value) {
  for (const auto& e : table)
    if (e.value == value) return e.name;
  return "?";
}

// "a, b, c": the allowed words, for "(expected one of ...)".
template <typename E>
std::string enum_list(std::span<const EnumName<E>> table) {
  std::string out;
  for (const auto& e : table) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

}  // namespace ebb::config
