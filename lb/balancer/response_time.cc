#include "lb/balancer/response_time.h"

#include <vector>

#include "lb/balancer/peak_ewma.h"
#include "lb/balancer/pick_util.h"

namespace ebb::lb {
namespace {

class ResponseTimeSelector final : public Selector {
 public:
  explicit ResponseTimeSelector(detail::Eligible eligible) : eligible_(std::move(eligible)) {
    entries_.reserve(eligible_.candidates.size());
    for (const detail::Candidate& c : eligible_.candidates)
      entries_.push_back(Entry{c.live, 1.0 / c.effective_weight(), c.index});
  }

  size_t pick(const PickRequest& req, PickState& state) const override {
    const size_t n = entries_.size();
    if (n == 1) return available(req, entries_[0].index) ? entries_[0].index : kNoBackend;
    const uint64_t r = detail::next_random(state);
    const size_t i = ((r >> 32) * n) >> 32;
    size_t j = ((r & 0xffffffffu) * (n - 1)) >> 32;
    j += j >= i;  // distinct from i, uniform over the rest (branch-free: it is a coin flip)
    const Entry& a = entries_[i];
    const Entry& b = entries_[j];
    const bool a_ok = available(req, a.index), b_ok = available(req, b.index);
    if (a_ok && b_ok) {
      const int64_t now_ns = req.now_ms * 1'000'000;
      double ea = ewma_estimate_ns(*a.live, now_ns), eb = ewma_estimate_ns(*b.live, now_ns);
      // A backend never measured is assumed as fast as its rival: load alone decides, and it
      // gets measured quickly.
      if (ea == 0) ea = eb;
      if (eb == 0) eb = ea;
      if (ea == 0) ea = eb = 1;
      const double ca = ea * static_cast<double>(active(a) + 1) * a.inv_weight;
      const double cb = eb * static_cast<double>(active(b) + 1) * b.inv_weight;
      return ca <= cb ? a.index : b.index;
    }
    if (a_ok) return a.index;
    if (b_ok) return b.index;
    return detail::first_not_excluded(eligible_.candidates, i, req.exclude);
  }

 private:
  struct Entry {
    const BackendLive* live;
    double inv_weight;
    uint32_t index;
  };
  static bool available(const PickRequest& req, uint32_t index) {
    return req.exclude.empty() || !detail::is_excluded(req.exclude, index);
  }
  static int64_t active(const Entry& e) {
    const int64_t a = e.live->active.load(std::memory_order_relaxed);
    return a < 0 ? 0 : a;
  }

  detail::Eligible eligible_;
  std::vector<Entry> entries_;
};

}  // namespace

std::unique_ptr<Selector> make_response_time(detail::Eligible eligible) {
  return std::make_unique<ResponseTimeSelector>(std::move(eligible));
}

}  // namespace ebb::lb
