// The part of building a selector every algorithm shares: which backends may receive traffic
// (healthy, weight > 0) and with what effective weight (configured weight × slow-start factor).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/lb_config.h"
#include "lb/backend.h"

namespace ebb::lb::detail {

struct Candidate {
  uint32_t index = 0;        // into the snapshot's backend vector (what pick() returns)
  uint32_t weight = 1;       // configured weight
  double factor = 1.0;       // slow-start factor in (0, 1]
  BackendLive* live = nullptr;  // never null: kept alive by Eligible::keep_alive
  std::string_view address;  // identity ("host:port"); points into Eligible::addresses

  double effective_weight() const { return static_cast<double>(weight) * factor; }
};

struct Eligible {
  std::vector<Candidate> candidates;
  // Owns the live counters the candidates point to, so a selector never dangles even if the
  // snapshot that built it dropped a backend first. Backends without counters get private ones.
  std::vector<std::shared_ptr<BackendLive>> keep_alive;
  // Owns the addresses the candidates view (reserved up front, so the views stay valid, also
  // when the Eligible is moved into a selector).
  std::vector<std::string> addresses;
  bool ramping = false;  // some candidate has factor < 1
};

// Thread: control. Collects the healthy backends with weight > 0, in snapshot order.
Eligible collect_eligible(const config::Pool& pool, std::span<const Backend> backends,
                          int64_t now_ms);

// Thread: any worker. The retry fallback of every algorithm: the backend index of the first
// candidate at or after position `start` (cyclic, start < size) not in `exclude`, else kNoBackend.
size_t first_not_excluded(std::span<const Candidate> candidates, size_t start,
                          std::span<const uint32_t> exclude);

}  // namespace ebb::lb::detail
