#include "lb/balancer/hash.h"

#include "lb/balancer/maglev.h"
#include "lb/balancer/pick_util.h"
#include "lb/balancer/schedule.h"

namespace ebb::lb {
namespace {

class HashSelector final : public Selector {
 public:
  explicit HashSelector(detail::Eligible eligible) : eligible_(std::move(eligible)) {
    table_.build(eligible_.candidates);
    fallback_.build(eligible_.candidates, detail::schedule_weights(eligible_.candidates, true));
  }

  size_t pick(const PickRequest& req, PickState& state) const override {
    if (!req.has_key) return fallback_.next(eligible_.candidates, req.exclude, state);
    const size_t slot = table_.slot_of(req.key_hash);
    const uint32_t idx = table_.at(slot);
    if (req.exclude.empty() || !detail::is_excluded(req.exclude, idx)) return idx;
    // Retry: the next slots belong to other backends in a key-determined, spread-out order.
    const size_t m = table_.size();
    for (size_t k = 1; k <= 64; ++k) {
      size_t s = slot + k;
      if (s >= m) s -= m;
      if (!detail::is_excluded(req.exclude, table_.at(s))) return table_.at(s);
    }
    return detail::first_not_excluded(eligible_.candidates, slot % eligible_.candidates.size(),
                                      req.exclude);
  }

 private:
  detail::Eligible eligible_;
  detail::MaglevTable table_;
  detail::Schedule fallback_;
};

}  // namespace

std::unique_ptr<Selector> make_hash(detail::Eligible eligible) {
  return std::make_unique<HashSelector>(std::move(eligible));
}

}  // namespace ebb::lb
