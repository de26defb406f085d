// The TLS state of every listener that has [listeners.tls], by listener name: one
// TlsContextSet each (per-worker contexts, ticket keys, handshake counters). Owned by the
// control thread; rebuilt on start and on every reload, never on membership changes.
//
// How ebb-lb uses it (see the tls report / docs/internals):
//   start / reload (control thread):  auto next = tls_.rebuild(config, workers);
//                                     on error: reject the config; else tls_ = std::move(*next);
//   publishing a snapshot:            listener_snapshot.tls = tls_.find(listener.name);
//   accept (worker w):                if (ls.tls) t = TlsTransport::wrap(loop, std::move(t),
//                                                   ls.tls->context(w), ls.settings.header_timeout);
//   /metrics:                         for (auto& s : tls_.sets()) s->stats()->totals() ...
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/lb_config.h"
#include "lb/tls/tls_context.h"

namespace ebb::lb::tls {

class TlsListeners {
 public:
  // Loads the certificates of every TLS listener in `cfg` for `workers` workers. A listener
  // that already had TLS here (same name) keeps its ticket keys (clients resume across the
  // reload) and its counters. On any error returns all of them (one line per listener) and
  // this object is unchanged. Control thread (blocking file I/O).
  Result<TlsListeners> rebuild(const config::LbConfig& cfg, unsigned workers) const;

  // The listener's contexts, or null if it has no TLS. Any thread holding this object.
  std::shared_ptr<const TlsContextSet> find(const std::string& listener) const;

  // Every TLS listener's set, in name order (for metrics).
  std::vector<std::shared_ptr<const TlsContextSet>> sets() const;

 private:
  std::map<std::string, std::shared_ptr<const TlsContextSet>> by_name_;
};

}  // namespace ebb::lb::tls
