// Handshake counters for ebb_tls_handshakes_total{listener,result} (SPEC §6). One cache-line
// aligned block per worker, written only by that worker (relaxed atomics, no sharing on the hot
// path), summed by whoever scrapes. A listener's TlsStats survives reloads (TlsContextSet
// hands it on), so the counters never go backwards.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace ebb::lb::tls {

struct alignas(64) TlsHandshakeCounters {
  std::atomic<uint64_t> ok{0};          // completed handshakes (full or resumed)
  std::atomic<uint64_t> resumed{0};     // of which resumed from a session ticket
  std::atomic<uint64_t> failed{0};      // protocol errors, garbage, plain HTTP on the TLS port
  std::atomic<uint64_t> plain_http{0};  // of which plain HTTP requests
  std::atomic<uint64_t> timeout{0};     // no complete handshake within the timeout
  std::atomic<uint64_t> closed{0};      // the client went away (FIN / reset) mid-handshake

  static void bump(std::atomic<uint64_t>& c) { c.fetch_add(1, std::memory_order_relaxed); }
};

struct TlsHandshakeTotals {
  uint64_t ok = 0, resumed = 0, failed = 0, plain_http = 0, timeout = 0, closed = 0;
};

// The `result` label values of ebb_tls_handshakes_total with their counts (resumed and
// plain_http are subsets of ok and failed, for extra metrics if wanted).
struct HandshakeResultCount {
  const char* result;
  uint64_t count;
};
inline std::array<HandshakeResultCount, 4> handshake_results(const TlsHandshakeTotals& t) {
  return {{{"ok", t.ok}, {"failed", t.failed}, {"timeout", t.timeout}, {"closed", t.closed}}};
}

class TlsStats {
 public:
  explicit TlsStats(unsigned workers) {
    for (unsigned i = 0; i < (workers == 0 ? 1 : workers); ++i)
      per_worker_.push_back(std::make_unique<TlsHandshakeCounters>());
  }
  // The block worker `i` writes to. Any thread.
  TlsHandshakeCounters& worker(unsigned i) { return *per_worker_.at(i % per_worker_.size()); }
  unsigned workers() const { return static_cast<unsigned>(per_worker_.size()); }

  // Sum over workers. Any thread (each value is exact; the set is not a single snapshot).
  TlsHandshakeTotals totals() const {
    TlsHandshakeTotals t;
    for (const auto& c : per_worker_) {
      t.ok += c->ok.load(std::memory_order_relaxed);
      t.resumed += c->resumed.load(std::memory_order_relaxed);
      t.failed += c->failed.load(std::memory_order_relaxed);
      t.plain_http += c->plain_http.load(std::memory_order_relaxed);
      t.timeout += c->timeout.load(std::memory_order_relaxed);
      t.closed += c->closed.load(std::memory_order_relaxed);
    }
    return t;
  }

 private:
  std::vector<std::unique_ptr<TlsHandshakeCounters>> per_worker_;
};

}  // namespace ebb::lb::tls
