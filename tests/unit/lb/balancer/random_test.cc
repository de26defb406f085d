#include <catch2/catch.hpp>

#include "fixtures.h"

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;

TEST_CASE("random: picks in proportion to weight", "[random]") {
  auto backends = make_backends({1, 2, 3, 4, 0});
  auto sel = build_selector(make_pool(config::Balance::random), backends, 0);
  PickState st = make_pick_state(99);
  auto h = histogram(pick_n(*sel, 100000, st));
  REQUIRE(h.size() == 4);  // weight 0 never
  for (size_t i = 0; i < 4; ++i)
    REQUIRE(static_cast<double>(h[i]) == Approx(10000.0 * static_cast<double>(i + 1)).margin(1000));
}

TEST_CASE("random: workers with different seeds draw different sequences", "[random]") {
  auto backends = make_backends(10);
  auto sel = build_selector(make_pool(config::Balance::random), backends, 0);
  PickState a = make_pick_state(1), b = make_pick_state(2);
  REQUIRE(pick_n(*sel, 50, a) != pick_n(*sel, 50, b));
}

TEST_CASE("random: only healthy, exclusions respected", "[random]") {
  auto backends = make_backends({5, 1, 1});
  backends[1].state = BackendState::draining;
  auto sel = build_selector(make_pool(config::Balance::random), backends, 0);
  const uint32_t tried[] = {0};
  PickRequest req;
  req.exclude = tried;
  PickState st;
  for (int i = 0; i < 200; ++i) REQUIRE(sel->pick(req, st) == 2);
  auto h = histogram(pick_n(*sel, 600, st));
  REQUIRE(h.count(1) == 0);
  const uint32_t both[] = {0, 2};
  req.exclude = both;
  REQUIRE(sel->pick(req, st) == kNoBackend);
}
