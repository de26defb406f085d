// Cumulative histograms (Prometheus `le` buckets) and quantiles from them, like Prometheus's
// histogram_quantile(): linear interpolation inside the bucket that holds the rank.
#pragma once
#include <optional>
#include <vector>

namespace ebb::scaler {

struct Bucket {
  double le = 0;     // upper bound, +Inf for the last bucket
  double count = 0;  // cumulative: observations <= le
};

struct Histogram {
  std::vector<Bucket> buckets;  // sorted by le; the last one should be +Inf
  double sum = 0;
  double count = 0;

  bool empty() const { return buckets.empty(); }
  // Adds another histogram's buckets (same bounds expected; bounds missing on either side are
  // taken as the next lower bucket's count, which is what "cumulative" means).
  void merge(const Histogram& other);
  // this - earlier, bucket by bucket (the increase between two scrapes). A counter reset
  // (any bucket decreasing) yields `*this` unchanged, as Prometheus's increase() would.
  Histogram delta_since(const Histogram& earlier) const;
};

// The q-quantile (0 <= q <= 1) of the observations, or nullopt when there are none or the
// buckets are unusable. If the rank falls in the +Inf bucket the largest finite bound is returned
// (Prometheus does the same). The first bucket's lower edge is 0 (if its bound is positive).
std::optional<double> histogram_quantile(double q, const Histogram& h);

}  // namespace ebb::scaler
