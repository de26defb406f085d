#include "lb/balancer/random.h"

#include <vector>

#include "lb/balancer/pick_util.h"
#include "lb/balancer/schedule.h"

namespace ebb::lb {
namespace {

class RandomSelector final : public Selector {
 public:
  explicit RandomSelector(detail::Eligible eligible) : eligible_(std::move(eligible)) {
    build_alias();
  }

  size_t pick(const PickRequest& req, PickState& state) const override {
    const size_t n = columns_.size();
    for (int attempt = 0; attempt < 4; ++attempt) {
      const uint64_t r = detail::next_random(state);
      const Column& c = columns_[((r >> 32) * n) >> 32];
      const uint32_t idx = static_cast<uint32_t>(r) < c.threshold ? c.self : c.alias;
      if (req.exclude.empty() || !detail::is_excluded(req.exclude, idx)) return idx;
    }
    return detail::first_not_excluded(eligible_.candidates,
                                      detail::reduce(detail::next_random(state), n), req.exclude);
  }

 private:
  // Column i is chosen uniformly; it yields `self` with probability threshold / 2^32, else `alias`.
  struct Column {
    uint64_t threshold;  // up to 2^32 (always self)
    uint32_t self;
    uint32_t alias;
  };

  void build_alias() {
    const auto& cands = eligible_.candidates;
    const size_t n = cands.size();
    double total = 0;
    for (const auto& c : cands) total += c.effective_weight();
    std::vector<double> scaled(n);
    std::vector<size_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      scaled[i] = cands[i].effective_weight() * static_cast<double>(n) / total;
      (scaled[i] < 1.0 ? small : large).push_back(i);
    }
    columns_.assign(n, Column{uint64_t{1} << 32, 0, 0});
    for (size_t i = 0; i < n; ++i) columns_[i].self = columns_[i].alias = cands[i].index;
    while (!small.empty() && !large.empty()) {
      const size_t s = small.back(), l = large.back();
      small.pop_back();
      columns_[s].threshold = static_cast<uint64_t>(scaled[s] * 4294967296.0);
      columns_[s].alias = cands[l].index;
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    // Leftovers are 1 up to rounding: they keep threshold 2^32 (always themselves).
  }

  detail::Eligible eligible_;
  std::vector<Column> columns_;
};

}  // namespace

std::unique_ptr<Selector> make_random(detail::Eligible eligible) {
  return std::make_unique<RandomSelector>(std::move(eligible));
}

}  // namespace ebb::lb
