#include "lb/balancer/balancer.h"
#include "lb/balancer/pick_util.h"

namespace ebb::lb {

PickState make_pick_state(uint64_t seed) {
  PickState s;
  s.rng = seed ^ 0x9E3779B97F4A7C15ull;
  detail::next_random(s);
  // The cursor is reduced modulo the schedule length on first use.
  s.cursor = detail::next_random(s) >> 1;
  return s;
}

}  // namespace ebb::lb
