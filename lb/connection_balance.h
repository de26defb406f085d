// Which worker owns a client connection. The kernel spreads connections over the workers'
// SO_REUSEPORT sockets by a hash of the addresses, not by load: 64 keep-alive connections often
// split 36/28, sometimes 43/21 (BENCHMARKS.md), and the busier worker's clients wait longer for
// as long as the connections live. So the accepting worker hands a
// connection to the least-loaded worker when its own load is clearly higher — what HAProxy's
// accept queues and Envoy's exact_balance do.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ebb::lb {

// A move costs a cross-thread wake-up, so small differences are left alone: a worker keeps the
// connection while it has at most 1 + load/32 more than the least-loaded one (2 for a few dozen
// connections, about 3 % under heavy load).
inline bool clearly_busier(int64_t mine, int64_t theirs) {
  return mine - theirs > 1 + mine / 32;
}

// The index of the worker that should own a connection accepted by worker `self`, given
// load_of(i) = the connections worker i has or is being handed. `self` unless another worker
// is clearly less loaded; then the least-loaded one (the lowest index among equals).
template <typename LoadOf>
size_t pick_owner(size_t self, size_t workers, LoadOf&& load_of) {
  if (workers < 2) return self;
  int64_t mine = load_of(self);
  size_t best = self;
  int64_t best_load = mine;
  for (size_t i = 0; i < workers; ++i) {
    if (i == self) continue;
    int64_t l = load_of(i);
    if (l < best_load) {
      best = i;
      best_load = l;
    }
  }
  return best != self && clearly_busier(mine, best_load) ? best : self;
}

}  // namespace ebb::lb
