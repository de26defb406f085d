#include "lb/balancer/weighted_round_robin.h"

#include "lb/balancer/schedule_selector.h"

namespace ebb::lb {

std::unique_ptr<Selector> make_weighted_round_robin(detail::Eligible eligible) {
  return std::make_unique<detail::ScheduleSelector>(std::move(eligible), true);
}

}  // namespace ebb::lb
