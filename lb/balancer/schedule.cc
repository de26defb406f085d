#include "lb/balancer/schedule.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>

#include "lb/balancer/pick_util.h"

namespace ebb::lb::detail {

std::vector<uint64_t> schedule_weights(std::span<const Candidate> candidates, bool use_configured,
                                       uint64_t cap) {
  const size_t n = candidates.size();
  std::vector<uint64_t> w(n);
  if (n == 0) return w;
  cap = std::max<uint64_t>(cap, 2 * n);
  bool ramping = false;
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    w[i] = use_configured ? candidates[i].weight : 1;
    sum += w[i];
    ramping = ramping || candidates[i].factor < 1.0;
  }
  if (!ramping) {
    uint64_t g = 0;
    for (uint64_t x : w) g = std::gcd(g, x);
    sum /= g;
    for (uint64_t& x : w) x /= g;
    if (sum <= cap) return w;
  }
  // Scale effective weights to the target length; every backend keeps at least one slot.
  double real_sum = 0;
  for (size_t i = 0; i < n; ++i) real_sum += static_cast<double>(w[i]) * candidates[i].factor;
  const double target = ramping ? std::min(static_cast<double>(cap), static_cast<double>(sum) * 100.0)
                                : static_cast<double>(cap);
  const double scale = target / real_sum;
  uint64_t g = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(w[i]) * candidates[i].factor * scale;
    w[i] = std::max<uint64_t>(1, static_cast<uint64_t>(std::llround(x)));
    g = std::gcd(g, w[i]);
  }
  for (uint64_t& x : w) x /= g;
  return w;
}

namespace {

// nginx's smooth weighted round robin, run for one cycle: every step each backend earns its
// weight, the richest is picked and pays W. Smoothest known interleaving (a,a,b,a,c,a,a for
// 5,1,1) but O(W·n) to build.
void build_smooth(std::span<const Candidate> candidates, std::span<const uint64_t> weights,
                  uint64_t total, std::vector<uint32_t>& slots) {
  const size_t n = candidates.size();
  std::vector<int64_t> current(n, 0);
  for (uint64_t t = 0; t < total; ++t) {
    size_t best = 0;
    for (size_t i = 0; i < n; ++i) {
      current[i] += static_cast<int64_t>(weights[i]);
      if (current[i] > current[best]) best = i;
    }
    current[best] -= static_cast<int64_t>(total);
    slots.push_back(candidates[best].index);
  }
}

// Earliest deadline first: candidate i's k-th slot is due at (2k+1)/(2·w_i) of the cycle.
// O(W log n); used where the smooth build would cost too much (many backends × long cycle).
void build_deadline(std::span<const Candidate> candidates, std::span<const uint64_t> weights,
                    uint64_t total, std::vector<uint32_t>& slots) {
  struct Next {
    uint64_t num;  // 2k+1
    uint64_t w;
    uint32_t pos;
  };
  auto later = [](const Next& a, const Next& b) {
    const unsigned __int128 l = static_cast<unsigned __int128>(a.num) * b.w;
    const unsigned __int128 r = static_cast<unsigned __int128>(b.num) * a.w;
    return l != r ? l > r : a.pos > b.pos;
  };
  std::priority_queue<Next, std::vector<Next>, decltype(later)> heap(later);
  for (size_t i = 0; i < candidates.size(); ++i)
    if (weights[i] > 0) heap.push(Next{1, weights[i], static_cast<uint32_t>(i)});
  while (slots.size() < total) {
    Next top = heap.top();
    heap.pop();
    slots.push_back(candidates[top.pos].index);
    top.num += 2;
    if (top.num < 2 * top.w) heap.push(top);
  }
}

constexpr uint64_t kSmoothBuildBudget = 1'000'000;  // steps × backends: ~3 ms at most

}  // namespace

void Schedule::build(std::span<const Candidate> candidates, std::span<const uint64_t> weights) {
  slots_.clear();
  uint64_t total = 0;
  for (uint64_t w : weights) total += w;
  slots_.reserve(total);
  if (total * candidates.size() <= kSmoothBuildBudget)
    build_smooth(candidates, weights, total, slots_);
  else
    build_deadline(candidates, weights, total, slots_);
}

size_t Schedule::next(std::span<const Candidate> candidates, std::span<const uint32_t> exclude,
                      PickState& state) const {
  const size_t size = slots_.size();
  if (size == 0) return kNoBackend;
  uint64_t c = state.cursor;
  if (c >= size) c %= size;  // cursor from another snapshot: rare
  state.cursor = c + 1 == size ? 0 : c + 1;
  // Each worker walks the cycle from its own offset (from its RNG state, which schedule picks
  // never advance), so workers that all start at cursor 0 on a new snapshot do not all send
  // their first requests to the same backend.
  c += reduce(state.rng, size);
  if (c >= size) c -= size;
  const uint32_t idx = slots_[c];
  if (exclude.empty() || !is_excluded(exclude, idx)) return idx;
  // Retry path: look a few slots ahead, then take anything not yet tried.
  for (size_t k = 1; k <= 8 && k < size; ++k) {
    size_t p = c + k;
    if (p >= size) p -= size;
    if (!is_excluded(exclude, slots_[p])) return slots_[p];
  }
  return first_not_excluded(candidates, static_cast<size_t>(c % candidates.size()), exclude);
}

}  // namespace ebb::lb::detail
