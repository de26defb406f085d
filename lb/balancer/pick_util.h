// Small inline helpers shared by the algorithms' pick paths: the per-worker RNG, the
// "already tried" check and a division-free range reduction. Nothing here allocates or locks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "lb/balancer/balancer.h"

namespace ebb::lb::detail {

// splitmix64 step on the worker's private state: fast, and good enough to spread picks.
inline uint64_t next_random(PickState& s) {
  uint64_t z = (s.rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Maps a uniformly distributed 64-bit value onto [0, n) without a division (Lemire).
inline uint64_t reduce(uint64_t x, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(x) * n) >> 64);
}

// The exclude list is the handful of backends a request already tried (≤ retries + 1).
inline bool is_excluded(std::span<const uint32_t> exclude, uint32_t index) {
  for (uint32_t e : exclude)
    if (e == index) return true;
  return false;
}

}  // namespace ebb::lb::detail
