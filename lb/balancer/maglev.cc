#include "lb/balancer/maglev.h"

#include <algorithm>
#include <numeric>

#include "lb/balancer/hash_key.h"

namespace ebb::lb::detail {
namespace {

constexpr uint64_t kOffsetSeed = 0x4d41474c45564f46ull;  // "MAGLEVOF"
constexpr uint64_t kSkipSeed = 0x4d41474c45565350ull;    // "MAGLEVSP"

bool is_prime(uint64_t x) {
  if (x < 2) return false;
  if (x % 2 == 0) return x == 2;
  for (uint64_t d = 3; d * d <= x; d += 2)
    if (x % d == 0) return false;
  return true;
}

}  // namespace

uint64_t maglev_table_size(size_t n) {
  if (n <= 655) return 65537;
  uint64_t m = 100 * static_cast<uint64_t>(n);
  while (!is_prime(m)) ++m;
  return m;
}

void MaglevTable::build(std::span<const Candidate> candidates) {
  const size_t n = candidates.size();
  const uint64_t m = maglev_table_size(n);
  constexpr uint32_t kEmpty = UINT32_MAX;
  slots_.assign(m, kEmpty);
  if (n == 0) return;

  // Populate in address order so the result does not depend on the snapshot's order.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return candidates[a].address != candidates[b].address
               ? candidates[a].address < candidates[b].address
               : candidates[a].index < candidates[b].index;
  });

  struct Walker {
    uint64_t offset, skip, next = 0;  // permutation: (offset + j·skip) mod m
    double rate;                      // turns per round, in (0, 1]
    uint64_t taken = 0;
    uint32_t index;
  };
  double max_w = 0;
  for (const Candidate& c : candidates) max_w = std::max(max_w, c.effective_weight());
  std::vector<Walker> walkers;
  walkers.reserve(n);
  for (size_t k : order) {
    const Candidate& c = candidates[k];
    Walker w;
    w.offset = hash_bytes(c.address, kOffsetSeed) % m;
    w.skip = hash_bytes(c.address, kSkipSeed) % (m - 1) + 1;
    w.rate = c.effective_weight() / max_w;
    w.index = c.index;
    walkers.push_back(w);
  }

  uint64_t filled = 0;
  for (uint64_t round = 1; filled < m; ++round) {
    for (Walker& w : walkers) {
      // A walker with rate r takes its t-th turn in round ceil(t / r).
      if (static_cast<double>(w.taken + 1) > w.rate * static_cast<double>(round) + 1e-9) continue;
      uint64_t slot;
      do {
        slot = (w.offset + w.next * w.skip) % m;
        ++w.next;
      } while (slots_[slot] != kEmpty);
      slots_[slot] = w.index;
      ++w.taken;
      if (++filled == m) break;
    }
  }
}

}  // namespace ebb::lb::detail
