// A selector that walks a precomputed schedule: round_robin (unit weights) and
// weighted_round_robin (configured weights) differ only in the weights they build it from.
#pragma once
#include "lb/balancer/balancer.h"
#include "lb/balancer/eligible.h"
#include "lb/balancer/schedule.h"

namespace ebb::lb::detail {

class ScheduleSelector final : public Selector {
 public:
  ScheduleSelector(Eligible eligible, bool use_configured_weights) : eligible_(std::move(eligible)) {
    schedule_.build(eligible_.candidates, schedule_weights(eligible_.candidates, use_configured_weights));
  }
  size_t pick(const PickRequest& req, PickState& state) const override {
    return schedule_.next(eligible_.candidates, req.exclude, state);
  }
  const Schedule& schedule() const { return schedule_; }

 private:
  Eligible eligible_;
  Schedule schedule_;
};

}  // namespace ebb::lb::detail
