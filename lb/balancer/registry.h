// The balancing algorithms by name (SPEC §3 `balance`), one file pair each. build_selector()
// (balancer.h) looks the pool's algorithm up here.
#pragma once
#include <memory>
#include <span>
#include <string_view>

#include "config/lb_config.h"
#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"

namespace ebb::lb {

struct Algorithm {
  config::Balance balance;
  std::string_view name;  // as written in lb.toml
  // Thread: control. Builds the selector over the eligible backends (never empty).
  std::unique_ptr<Selector> (*make)(const config::Pool& pool, detail::Eligible eligible);
};

// Every registered algorithm, in SPEC order.
std::span<const Algorithm> algorithms();
const Algorithm* find_algorithm(std::string_view name);
const Algorithm* find_algorithm(config::Balance balance);

}  // namespace ebb::lb
