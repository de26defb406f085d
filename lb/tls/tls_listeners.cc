#include "lb/tls/tls_listeners.h"

namespace ebb::lb::tls {

Result<TlsListeners> TlsListeners::rebuild(const config::LbConfig& cfg, unsigned workers) const {
  TlsListeners next;
  std::string errors;
  for (const auto& l : cfg.listeners) {
    if (!l.tls) continue;
    std::shared_ptr<TicketKeyStore> tickets;
    std::shared_ptr<TlsStats> stats;
    if (auto old = find(l.name)) {
      tickets = old->tickets();
      stats = old->stats();
    }
    auto set = TlsContextSet::build(l.name, *l.tls, workers, std::move(tickets), std::move(stats));
    if (!set) {
      if (!errors.empty()) errors += '\n';
      errors += set.error();
      continue;
    }
    next.by_name_[l.name] = std::move(*set);
  }
  if (!errors.empty()) return make_error(errors);
  return next;
}

std::shared_ptr<const TlsContextSet> TlsListeners::find(const std::string& listener) const {
  auto it = by_name_.find(listener);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const TlsContextSet>> TlsListeners::sets() const {
  std::vector<std::shared_ptr<const TlsContextSet>> out;
  for (const auto& [name, set] : by_name_) out.push_back(set);
  return out;
}

}  // namespace ebb::lb::tls
