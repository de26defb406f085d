#include "lb/balancer/registry.h"

#include <array>

#include "lb/balancer/hash.h"
#include "lb/balancer/least_conn.h"
#include "lb/balancer/random.h"
#include "lb/balancer/response_time.h"
#include "lb/balancer/round_robin.h"
#include "lb/balancer/weighted_round_robin.h"

namespace ebb::lb {
namespace {

// Chosen when no backend is eligible: every pick is kNoBackend (HTTP 503, TCP close).
class NoBackendSelector final : public Selector {
 public:
  size_t pick(const PickRequest&, PickState&) const override { return kNoBackend; }
};

const std::array kAlgorithms{
    Algorithm{config::Balance::round_robin, "round_robin",
              [](const config::Pool&, detail::Eligible e) { return make_round_robin(std::move(e)); }},
    Algorithm{config::Balance::weighted_round_robin, "weighted_round_robin",
              [](const config::Pool&, detail::Eligible e) {
                return make_weighted_round_robin(std::move(e));
              }},
    Algorithm{config::Balance::least_conn, "least_conn",
              [](const config::Pool&, detail::Eligible e) { return make_least_conn(std::move(e)); }},
    Algorithm{config::Balance::hash, "hash",
              [](const config::Pool&, detail::Eligible e) { return make_hash(std::move(e)); }},
    Algorithm{config::Balance::response_time, "response_time",
              [](const config::Pool&, detail::Eligible e) {
                return make_response_time(std::move(e));
              }},
    Algorithm{config::Balance::random, "random",
              [](const config::Pool&, detail::Eligible e) { return make_random(std::move(e)); }},
};

}  // namespace

std::span<const Algorithm> algorithms() { return kAlgorithms; }

const Algorithm* find_algorithm(std::string_view name) {
  for (const Algorithm& a : kAlgorithms)
    if (a.name == name) return &a;
  return nullptr;
}

const Algorithm* find_algorithm(config::Balance balance) {
  for (const Algorithm& a : kAlgorithms)
    if (a.balance == balance) return &a;
  return nullptr;
}

std::unique_ptr<Selector> build_selector(const config::Pool& pool, std::span<const Backend> backends,
                                         int64_t now_ms) {
  detail::Eligible eligible = detail::collect_eligible(pool, backends, now_ms);
  if (eligible.candidates.empty()) return std::make_unique<NoBackendSelector>();
  const Algorithm* algo = find_algorithm(pool.balance);
  if (algo == nullptr) algo = &kAlgorithms[0];  // unreachable: every Balance value is registered
  return algo->make(pool, std::move(eligible));
}

}  // namespace ebb::lb
