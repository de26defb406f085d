// Proves the hot-path rule "picking never allocates": this binary replaces the global allocator
// with a counting one and picks with every algorithm, with keys, without keys and with retries.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <new>

#include "fixtures.h"
#include "lb/balancer/hash_key.h"
#include "lb/balancer/peak_ewma.h"

namespace {
thread_local size_t g_allocations = 0;
}

// Every non-aligned form, so each allocation is counted and freed by the matching function.
namespace {
void* counted_alloc(std::size_t n) noexcept {
  ++g_allocations;
  return std::malloc(n ? n : 1);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;

TEST_CASE("picking never allocates, for every algorithm", "[alloc]") {
  for (auto balance : {config::Balance::round_robin, config::Balance::weighted_round_robin,
                       config::Balance::least_conn, config::Balance::hash,
                       config::Balance::response_time, config::Balance::random}) {
    for (size_t n : {3u, 100u}) {
      auto backends = make_backends(n);
      for (size_t i = 0; i < n; ++i) {
        backends[i].live->active = static_cast<int64_t>(i % 7);
        record_response(*backends[i].live, 1'000'000 + i * 1000, 0);
      }
      const size_t before_build = g_allocations;
      auto sel = build_selector(make_pool(balance), backends, 0);
      REQUIRE(g_allocations > before_build);  // the counter sees allocations (building does)
      PickState st = make_pick_state(1);
      const uint32_t tried[] = {0, 1};
      const size_t before = g_allocations;
      size_t sum = 0;
      for (uint64_t i = 0; i < 5000; ++i) {
        PickRequest req;
        req.now_ms = static_cast<int64_t>(i);
        req.has_key = (i % 3) != 0;
        req.key_hash = i * 0x9E3779B97F4A7C15ull;
        if (i % 5 == 0) req.exclude = tried;
        sum += sel->pick(req, st);
      }
      const size_t allocations = g_allocations - before;
      INFO("balance " << static_cast<int>(balance) << " n=" << n);
      REQUIRE(sum > 0);
      REQUIRE(allocations == 0);
    }
  }
}

TEST_CASE("hashing a request key never allocates", "[alloc]") {
  config::HashKey cookie{config::HashKey::Kind::cookie, "sid"};
  KeySource src;
  src.cookie_header = std::string_view("a=1; sid=abcdef; b=2");
  const size_t before = g_allocations;
  uint64_t sum = 0;
  for (int i = 0; i < 1000; ++i) sum += request_key_hash(cookie, src).value_or(0);
  const size_t allocations = g_allocations - before;
  REQUIRE(sum != 0);
  REQUIRE(allocations == 0);
}
