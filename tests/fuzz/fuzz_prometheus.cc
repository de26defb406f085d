// Fuzz target: how ebb-scaler reads ebb-lb's /metrics (scaler/metrics/): the Prometheus text
// parser, then what the controller does with two scrapes: extract_pool() per pool,
// derive_rates() between them, combine_lbs() across LBs, histogram_quantile() on the result.
//
// Input: one or two scrapes of text; a form feed byte (\f) separates the first from the second
// (without one, the same text is scraped twice). Checks beyond "no crash, no sanitizer report":
// a parse error names its line, parsed samples have a name, and quantiles of a usable
// histogram lie within its finite bounds.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "scaler/metrics/histogram.h"
#include "scaler/metrics/lb_metrics.h"
#include "scaler/metrics/prometheus_parser.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ebb::scaler;

namespace {

void check_quantiles(const Histogram& h) {
  for (double q : {0.9, -1.0, 2.0, std::nan("")}) (void)histogram_quantile(q, h);  // any q is safe
  // A well-formed histogram (finite, non-decreasing counts, sorted bounds, +Inf last) has its
  // quantiles between 0 (or the first bound if negative) and the largest finite bound.
  if (h.buckets.size() < 2 || !std::isinf(h.buckets.back().le)) return;
  double prev_le = -INFINITY, prev_count = 0;
  for (const Bucket& b : h.buckets) {
    if (!std::isfinite(b.count) || b.count < prev_count || !(b.le > prev_le) || std::isnan(b.le)) return;
    prev_le = b.le;
    prev_count = b.count;
  }
  const double lo = std::min(0.0, h.buckets.front().le);
  const double hi = h.buckets[h.buckets.size() - 2].le;
  if (!std::isfinite(hi - lo)) return;
  const double slack = 1e-9 * std::max({std::fabs(lo), std::fabs(hi), 1.0});  // interpolation rounding
  for (double q : {0.0, 0.5, 0.99, 1.0}) {
    auto v = histogram_quantile(q, h);
    if (v) FUZZ_CHECK(*v >= lo - slack && *v <= hi + slack, "quantile within the bucket bounds");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t ff = all.find('\f');
  std::string_view first = all.substr(0, ff);
  std::string_view second = ff == std::string_view::npos ? all : all.substr(ff + 1);

  auto e1 = parse_prometheus_text(first);
  auto e2 = parse_prometheus_text(second);
  for (const auto* e : {&e1, &e2}) {
    if (ebb::fuzz::verbose())
      std::fprintf(stderr, "  %s\n", *e ? (std::to_string((*e)->samples.size()) + " samples").c_str() : e->error().c_str());
    if (!*e) {
      FUZZ_CHECK(e->error().rfind("line ", 0) == 0, "parse errors name the line");
      continue;
    }
    for (const Sample& s : (*e)->samples) FUZZ_CHECK(!s.name.empty(), "samples have a name");
  }
  if (!e1 || !e2) return 0;

  // The pools to look at: "app" and whatever pool the first labelled sample names.
  std::string pools[2] = {"app", ""};
  for (const Sample& s : e1->samples)
    if (const std::string* p = s.label("pool")) {
      pools[1] = *p;
      break;
    }
  using namespace std::chrono;
  const TimePoint t0{milliseconds{1'700'000'000'000}};
  for (const std::string& pool : pools) {
    PoolScrape a = extract_pool(*e1, pool, t0);
    PoolScrape b = extract_pool(*e2, pool, t0 + seconds{5});
    for (const auto* s : {&a, &b})
      for (const auto& [addr, c] : s->backends) {
        FUZZ_CHECK(!addr.empty(), "backends have an address");
        for (size_t i = 1; i < c.latency.buckets.size(); ++i)
          FUZZ_CHECK(!(c.latency.buckets[i].le < c.latency.buckets[i - 1].le), "buckets sorted by bound");
        check_quantiles(c.latency);
      }
    auto r1 = derive_rates(a, b);
    auto r2 = derive_rates(b, a);  // time going backwards: no rates
    for (const auto& [addr, r] : r2) FUZZ_CHECK(!r.requests_per_s, "no rate over a negative interval");
    auto combined = combine_lbs({r1, r1, derive_rates(a, a)});
    for (const auto* m : {&r1, &combined})
      for (const auto& [addr, r] : *m)
        if (r.latency) check_quantiles(*r.latency);
  }
  return 0;
}
