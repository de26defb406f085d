// Connection balancing across workers: the accepting worker keeps a connection unless another
// worker is clearly less loaded, and a burst that all lands on one worker ends up even.
#include "lb/connection_balance.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

using ebb::lb::clearly_busier;
using ebb::lb::pick_owner;

namespace {
size_t pick(size_t self, const std::vector<int64_t>& loads) {
  return pick_owner(self, loads.size(), [&](size_t i) { return loads[i]; });
}
}  // namespace

TEST_CASE("one worker always keeps its connections", "[connection_balance]") {
  CHECK(pick(0, {0}) == 0);
  CHECK(pick(0, {1000}) == 0);
}

TEST_CASE("small differences stay, clear ones move to the least-loaded worker", "[connection_balance]") {
  CHECK(pick(0, {0, 0}) == 0);
  CHECK(pick(0, {1, 0}) == 0);       // one apart: not worth a wake-up
  CHECK(pick(0, {2, 0}) == 1);
  CHECK(pick(1, {0, 2}) == 0);
  CHECK(pick(0, {33, 31}) == 0);     // 1 + 33/32 = 2 tolerated
  CHECK(pick(0, {33, 30}) == 1);
  CHECK(pick(2, {9, 3, 9, 5}) == 1); // the least loaded, not the first lighter one
  CHECK(pick(0, {4, 1, 1}) == 1);    // lowest index among equals
  CHECK(pick(1, {5, 5, 5}) == 1);
}

TEST_CASE("the tolerated gap grows slowly with the load", "[connection_balance]") {
  CHECK_FALSE(clearly_busier(1, 0));
  CHECK(clearly_busier(2, 0));
  CHECK_FALSE(clearly_busier(320, 309));  // 1 + 10 = 11
  CHECK(clearly_busier(320, 308));
  CHECK_FALSE(clearly_busier(0, 5));      // never towards a busier worker
}

TEST_CASE("a burst accepted by one worker ends up spread evenly", "[connection_balance]") {
  // 64 keep-alive connections that the kernel all put on worker 0 (the worst case of the
  // SO_REUSEPORT hash); a move counts at once for the receiving worker, as in Worker.
  for (size_t workers : {2u, 3u, 4u}) {
    std::vector<int64_t> loads(workers, 0);
    for (int c = 0; c < 64; ++c) ++loads[pick(0, loads)];
    auto [lo, hi] = std::minmax_element(loads.begin(), loads.end());
    INFO("workers " << workers);
    CHECK(*hi - *lo <= 2);  // the tolerated gap, and the connection that may come after it
  }
}

TEST_CASE("connections arriving split by a skewed hash end up within the slack", "[connection_balance]") {
  // 43 of 64 accepted by worker 0 and 21 by worker 1, interleaved as the hash sends them.
  std::vector<int64_t> loads(2, 0);
  for (int c = 0; c < 64; ++c) {
    size_t accepted_by = (c % 3 == 2) ? 1 : 0;
    ++loads[pick(accepted_by, loads)];
  }
  CHECK(loads[0] + loads[1] == 64);
  CHECK(std::abs(loads[0] - loads[1]) <= 3);
}
