// Maglev consistent hashing (Eisenbud et al., NSDI 2016) with weights: a lookup table of prime
// size M ≥ 100·N, each slot owned by one backend. Each backend walks its own permutation of the
// slots (offset and skip from two hashes of its address) and takes free slots in turns; a backend
// with effective weight w takes turns at rate w / max w, so a slow-starting backend owns
// proportionally fewer slots. The table depends only on the set of (address, effective weight):
// not on the order of the backends, nor on the process — the same key maps to the same backend on
// every node with the same pool, and removing one of N backends moves only about 1/N of the keys.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "lb/balancer/eligible.h"

namespace ebb::lb::detail {

// Thread: any. The table size for n backends: 65537 up to 655 backends, else the smallest prime
// ≥ 100·n.
uint64_t maglev_table_size(size_t n);

class MaglevTable {
 public:
  // Thread: control. Fills the table over the candidates (not empty).
  void build(std::span<const Candidate> candidates);

  size_t size() const { return slots_.size(); }
  // The slot a key hash falls in (division-free; uniform for a uniform hash).
  size_t slot_of(uint64_t key_hash) const {
    return static_cast<size_t>((static_cast<unsigned __int128>(key_hash) * slots_.size()) >> 64);
  }
  uint32_t at(size_t slot) const { return slots_[slot]; }  // backend index

 private:
  std::vector<uint32_t> slots_;
};

}  // namespace ebb::lb::detail
