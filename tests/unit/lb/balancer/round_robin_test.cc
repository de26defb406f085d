#include <catch2/catch.hpp>

#include "fixtures.h"

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;

TEST_CASE("round_robin: each healthy backend in turn, weights ignored", "[rr]") {
  auto backends = make_backends({1, 5, 2, 9});
  backends[2].state = BackendState::draining;
  auto sel = build_selector(make_pool(config::Balance::round_robin), backends, 0);
  PickState st = make_pick_state(7);
  auto seq = pick_n(*sel, 30, st);
  // A fixed rotation of the three healthy backends.
  for (size_t i = 3; i < seq.size(); ++i) REQUIRE(seq[i] == seq[i - 3]);
  auto h = histogram(seq);
  REQUIRE(h.size() == 3);
  REQUIRE(h[0] == 10);
  REQUIRE(h[1] == 10);
  REQUIRE(h[3] == 10);
}

TEST_CASE("round_robin: workers keep separate cursors", "[rr]") {
  auto backends = make_backends(4);
  auto sel = build_selector(make_pool(config::Balance::round_robin), backends, 0);
  PickState a, b;
  auto sa = pick_n(*sel, 8, a);
  auto sb = pick_n(*sel, 8, b);
  REQUIRE(sa == sb);  // same state, and one worker's picks do not move the other's cursor
  REQUIRE(histogram(sa).size() == 4);
}

TEST_CASE("round_robin: workers with differently seeded states start on different backends",
          "[rr]") {
  auto backends = make_backends(8);
  auto sel = build_selector(make_pool(config::Balance::round_robin), backends, 0);
  std::map<size_t, int> first;
  for (uint64_t w = 0; w < 16; ++w) {
    PickState st;  // cursor 0, as a worker has right after a snapshot swap
    st.rng ^= (w + 1) * 0x2545F4914F6CDD1Dull;
    ++first[sel->pick({}, st)];
  }
  REQUIRE(first.size() >= 4);
}

TEST_CASE("round_robin: retries skip the backends already tried", "[rr]") {
  auto backends = make_backends(3);
  auto sel = build_selector(make_pool(config::Balance::round_robin), backends, 0);
  PickState st;
  const uint32_t tried[] = {0, 1};
  PickRequest req;
  req.exclude = tried;
  for (int i = 0; i < 10; ++i) REQUIRE(sel->pick(req, st) == 2);
  const uint32_t all[] = {0, 1, 2};
  req.exclude = all;
  REQUIRE(sel->pick(req, st) == kNoBackend);
}

TEST_CASE("round_robin: a cursor left over from a larger snapshot is reduced, not trusted",
          "[rr]") {
  auto backends = make_backends(3);
  auto sel = build_selector(make_pool(config::Balance::round_robin), backends, 0);
  PickState st;
  st.cursor = 1'000'000'007;
  for (int i = 0; i < 10; ++i) REQUIRE(sel->pick({}, st) < 3);
}

TEST_CASE("backend state names", "[backend]") {
  REQUIRE(std::string(to_string(BackendState::healthy)) == "healthy");
  REQUIRE(std::string(to_string(BackendState::unhealthy)) == "unhealthy");
  REQUIRE(std::string(to_string(BackendState::draining)) == "draining");
  REQUIRE(std::string(to_string(BackendState::unknown)) == "unknown");
}
