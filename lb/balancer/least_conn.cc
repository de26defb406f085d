#include "lb/balancer/least_conn.h"

#include <vector>

#include "lb/balancer/pick_util.h"

namespace ebb::lb {
namespace {

class LeastConnSelector final : public Selector {
 public:
  explicit LeastConnSelector(detail::Eligible eligible) : eligible_(std::move(eligible)) {
    entries_.reserve(eligible_.candidates.size());
    for (const detail::Candidate& c : eligible_.candidates)
      entries_.push_back(Entry{&c.live->active, 1.0 / c.effective_weight(), c.index});
  }

  // Scans every eligible backend once, starting at a random position: among equal scores the
  // first one after the start wins, so ties (e.g. an idle pool) are spread uniformly.
  size_t pick(const PickRequest& req, PickState& state) const override {
    const size_t n = entries_.size();
    const size_t start = detail::reduce(detail::next_random(state), n);
    size_t best = kNoBackend;
    double best_score = 0;
    const Entry* e = entries_.data();
    for (size_t k = 0; k < n; ++k) {
      size_t p = start + k;
      if (p >= n) p -= n;
      int64_t active = e[p].active->load(std::memory_order_relaxed);
      if (active < 0) active = 0;
      // (active + 1) / weight, as HAProxy's leastconn: weights matter even on an idle pool.
      const double score = static_cast<double>(active + 1) * e[p].inv_weight;
      if ((best == kNoBackend || score < best_score) &&
          (req.exclude.empty() || !detail::is_excluded(req.exclude, e[p].index))) {
        best = e[p].index;
        best_score = score;
      }
    }
    return best;
  }

 private:
  struct Entry {
    const std::atomic<int64_t>* active;
    double inv_weight;
    uint32_t index;
  };
  detail::Eligible eligible_;
  std::vector<Entry> entries_;
};

}  // namespace

std::unique_ptr<Selector> make_least_conn(detail::Eligible eligible) {
  return std::make_unique<LeastConnSelector>(std::move(eligible));
}

}  // namespace ebb::lb
