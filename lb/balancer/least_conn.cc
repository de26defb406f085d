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

  size_t pick(const PickRequest& req, PickState& state) const override {
    const size_t n = entries_.size();
    if (n > kLeastConnExactMax) {
      const size_t best = req.exclude.empty() ? sampled_fast(state) : sampled(req, state);
      if (best != kNoBackend) return best;
      // Every sample was excluded (a retry): fall through to the exact scan.
    }
    const size_t start = detail::reduce(detail::next_random(state), n);
    return req.exclude.empty() ? scan_fast(start) : scan(req, start);
  }

 private:
  struct Entry {
    const std::atomic<int64_t>* active;
    double inv_weight;
    uint32_t index;
  };

  static double score(const Entry& e) {
    int64_t active = e.active->load(std::memory_order_relaxed);
    if (active < 0) active = 0;
    return static_cast<double>(active + 1) * e.inv_weight;
  }
  static bool available(const PickRequest& req, uint32_t index) {
    return req.exclude.empty() || !detail::is_excluded(req.exclude, index);
  }

  // Every entry once from `start`; among equal scores the first after the start wins. Written
  // without data-dependent branches (the winner is random: branches would mispredict).
  size_t scan_fast(size_t start) const {
    const size_t n = entries_.size();
    const Entry* e = entries_.data();
    size_t best = start;
    double best_score = score(e[start]);
    auto consider = [&](size_t p) {
      const double s = score(e[p]);
      const bool better = s < best_score;
      best = better ? p : best;
      best_score = better ? s : best_score;
    };
    for (size_t p = start + 1; p < n; ++p) consider(p);
    for (size_t p = 0; p < start; ++p) consider(p);
    return e[best].index;
  }

  // The retry path: as scan_fast, skipping the backends already tried.
  size_t scan(const PickRequest& req, size_t start) const {
    const size_t n = entries_.size();
    size_t best = kNoBackend;
    double best_score = 0;
    for (size_t k = 0; k < n; ++k) {
      size_t p = start + k;
      if (p >= n) p -= n;
      const Entry& e = entries_[p];
      const double s = score(e);
      if ((best == kNoBackend || s < best_score) && available(req, e.index)) {
        best = e.index;
        best_score = s;
      }
    }
    return best;
  }

  size_t sampled_fast(PickState& state) const {
    const uint64_t n = entries_.size();
    const Entry* e = entries_.data();
    static_assert(kLeastConnSamples == 4);
    const uint64_t r1 = detail::next_random(state), r2 = detail::next_random(state);
    const size_t c[4] = {static_cast<size_t>(((r1 >> 32) * n) >> 32),
                         static_cast<size_t>(((r1 & 0xffffffffu) * n) >> 32),
                         static_cast<size_t>(((r2 >> 32) * n) >> 32),
                         static_cast<size_t>(((r2 & 0xffffffffu) * n) >> 32)};
    size_t best = c[0];
    double best_score = score(e[c[0]]);
    for (size_t k = 1; k < 4; ++k) {
      const double s = score(e[c[k]]);
      const bool better = s < best_score;
      best = better ? c[k] : best;
      best_score = better ? s : best_score;
    }
    return e[best].index;
  }

  size_t sampled(const PickRequest& req, PickState& state) const {
    const uint64_t n = entries_.size();
    size_t best = kNoBackend;
    double best_score = 0;
    for (size_t k = 0; k < kLeastConnSamples; k += 2) {
      const uint64_t r = detail::next_random(state);
      for (uint64_t half : {r >> 32, r & 0xffffffffu}) {
        const Entry& e = entries_[(half * n) >> 32];
        const double s = score(e);
        if ((best == kNoBackend || s < best_score) && available(req, e.index)) {
          best = e.index;
          best_score = s;
        }
      }
    }
    return best;
  }

  detail::Eligible eligible_;
  std::vector<Entry> entries_;
};

}  // namespace

std::unique_ptr<Selector> make_least_conn(detail::Eligible eligible) {
  return std::make_unique<LeastConnSelector>(std::move(eligible));
}

}  // namespace ebb::lb
