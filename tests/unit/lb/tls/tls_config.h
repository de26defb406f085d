// Builds config::Tls values from the test PKI.
#pragma once
#include <string>
#include <vector>

#include "config/lb_config.h"
#include "test_pki.h"

namespace ebb::lb::tls::test {

inline config::Tls tls_config(const CertFiles& def, const std::vector<CertFiles>& sni = {},
                              const std::string& min_version = "1.2", bool tickets = true) {
  config::Tls t;
  t.default_cert = {def.cert, def.key};
  for (const auto& s : sni) t.sni.push_back({s.cert, s.key});
  t.min_version = min_version;
  t.session_tickets = tickets;
  return t;
}

}  // namespace ebb::lb::tls::test
