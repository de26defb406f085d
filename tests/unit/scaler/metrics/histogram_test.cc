// histogram_quantile semantics (as Prometheus's), merge and delta.
#include <catch2/catch.hpp>

#include <limits>

#include "scaler/metrics/histogram.h"

using namespace ebb::scaler;

namespace {
const double kInf = std::numeric_limits<double>::infinity();
Histogram h(std::initializer_list<Bucket> b) {
  Histogram x;
  x.buckets = b;
  x.count = x.buckets.empty() ? 0 : x.buckets.back().count;
  return x;
}
}  // namespace

TEST_CASE("histogram_quantile: interpolation inside the bucket") {
  const Histogram x = h({{0.1, 10}, {0.5, 60}, {1.0, 90}, {kInf, 100}});
  struct Row { double q; std::optional<double> want; };
  const Row rows[] = {
      {0.0, 0.0},
      {0.05, 0.05},              // rank 5 in [0, 0.1]
      {0.1, 0.1},                // rank 10: the first bucket's top
      {0.5, 0.1 + 0.4 * 40 / 50},  // rank 50 in (0.1, 0.5]
      {0.9, 1.0},
      {0.95, 1.0},               // rank in +Inf: the largest finite bound
      {1.0, 1.0},
  };
  for (const auto& r : rows) {
    INFO(r.q);
    auto v = histogram_quantile(r.q, x);
    REQUIRE(v.has_value());
    CHECK(*v == Approx(*r.want));
  }
}

TEST_CASE("histogram_quantile: unusable input gives no value") {
  CHECK_FALSE(histogram_quantile(0.5, h({})).has_value());
  CHECK_FALSE(histogram_quantile(0.5, h({{kInf, 3}})).has_value());          // one bucket
  CHECK_FALSE(histogram_quantile(0.5, h({{0.1, 1}, {1.0, 2}})).has_value());  // no +Inf
  CHECK_FALSE(histogram_quantile(0.5, h({{0.1, 0}, {kInf, 0}})).has_value()); // no observations
  CHECK_FALSE(histogram_quantile(std::nan(""), h({{0.1, 1}, {kInf, 1}})).has_value());
}

TEST_CASE("histogram: merge adds counts bucket by bucket, delta subtracts, reset keeps the new") {
  Histogram a = h({{0.1, 1}, {1.0, 3}, {kInf, 4}});
  Histogram b = h({{0.1, 2}, {0.5, 4}, {1.0, 5}, {kInf, 5}});  // an extra bound
  a.merge(b);
  REQUIRE(a.buckets.size() == 4);
  CHECK(a.buckets[0].count == 3);
  CHECK(a.buckets[1].count == 1 + 4);  // a had 1 at <= 0.5
  CHECK(a.buckets[2].count == 8);
  CHECK(a.buckets[3].count == 9);
  CHECK(a.count == 9);

  Histogram later = h({{0.1, 5}, {1.0, 9}, {kInf, 10}});
  Histogram earlier = h({{0.1, 2}, {1.0, 3}, {kInf, 4}});
  Histogram d = later.delta_since(earlier);
  CHECK(d.buckets[0].count == 3);
  CHECK(d.buckets[1].count == 6);
  CHECK(d.buckets[2].count == 6);
  CHECK(d.count == 6);

  Histogram reset = h({{0.1, 1}, {1.0, 1}, {kInf, 1}});
  Histogram r = reset.delta_since(later);
  CHECK(r.buckets[2].count == 1);
}
