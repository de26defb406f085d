#include "scaler/metrics/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ebb::scaler {
namespace {

// Cumulative count at bound `le` in `h` (the count of the largest bucket <= le).
double cumulative_at(const Histogram& h, double le) {
  double c = 0;
  for (const auto& b : h.buckets) {
    if (b.le <= le) c = b.count;
    else break;
  }
  return c;
}

}  // namespace

void Histogram::merge(const Histogram& other) {
  std::vector<double> bounds;
  for (const auto& b : buckets) bounds.push_back(b.le);
  for (const auto& b : other.buckets) bounds.push_back(b.le);
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  std::vector<Bucket> merged;
  merged.reserve(bounds.size());
  for (double le : bounds) merged.push_back({le, cumulative_at(*this, le) + cumulative_at(other, le)});
  buckets = std::move(merged);
  sum += other.sum;
  count += other.count;
}

Histogram Histogram::delta_since(const Histogram& earlier) const {
  Histogram d;
  d.sum = sum - earlier.sum;
  d.count = count - earlier.count;
  for (const auto& b : buckets) {
    double prev = cumulative_at(earlier, b.le);
    if (b.count < prev) return *this;  // reset
    d.buckets.push_back({b.le, b.count - prev});
  }
  if (d.count < 0) return *this;
  return d;
}

std::optional<double> histogram_quantile(double q, const Histogram& h) {
  if (h.buckets.size() < 2 || std::isnan(q)) return std::nullopt;
  if (!std::isinf(h.buckets.back().le)) return std::nullopt;
  const double total = h.buckets.back().count;
  if (!(total > 0)) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * total;
  size_t i = 0;
  while (i < h.buckets.size() && h.buckets[i].count < rank) ++i;
  if (i >= h.buckets.size()) i = h.buckets.size() - 1;
  if (std::isinf(h.buckets[i].le)) return h.buckets[h.buckets.size() - 2].le;
  double lower = 0, lower_count = 0;
  if (i > 0) {
    lower = h.buckets[i - 1].le;
    lower_count = h.buckets[i - 1].count;
  } else if (h.buckets[0].le <= 0) {
    return h.buckets[0].le;
  }
  const double in_bucket = h.buckets[i].count - lower_count;
  if (in_bucket <= 0) return h.buckets[i].le;
  return lower + (h.buckets[i].le - lower) * ((rank - lower_count) / in_bucket);
}

}  // namespace ebb::scaler
