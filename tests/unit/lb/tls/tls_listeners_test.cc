#include <catch2/catch.hpp>

#include "lb/tls/tls_listeners.h"
#include "test_pki.h"
#include "tls_config.h"

using namespace ebb::lb::tls;
using namespace ebb::lb::tls::test;
using Catch::Matchers::Contains;

namespace {

ebb::config::LbConfig config_with(const std::vector<std::pair<std::string, std::optional<ebb::config::Tls>>>& ls) {
  ebb::config::LbConfig cfg;
  for (const auto& [name, tls] : ls) {
    ebb::config::Listener l;
    l.name = name;
    l.tls = tls;
    cfg.listeners.push_back(l);
  }
  return cfg;
}

}  // namespace

TEST_CASE("tls_listeners: one set per TLS listener, reload keeps ticket keys and counters", "[tls][listeners]") {
  const auto& pki = test_pki();
  TlsListeners none;
  auto first = none.rebuild(config_with({{"web", tls_config(pki.ecdsa_site)}, {"plain", std::nullopt}}), 2);
  REQUIRE(first.ok());
  auto web = first->find("web");
  REQUIRE(web);
  CHECK(web->workers() == 2);
  CHECK_FALSE(first->find("plain"));
  CHECK(first->sets().size() == 1);
  web->context(1)->counters().ok.fetch_add(5);

  auto second = first->rebuild(config_with({{"web", tls_config(pki.ecdsa_site_v2)}}), 2);
  REQUIRE(second.ok());
  auto web2 = second->find("web");
  REQUIRE(web2);
  CHECK(web2 != web);
  CHECK(web2->tickets() == web->tickets());
  CHECK(web2->stats()->totals().ok == 5);
  auto results = handshake_results(web2->stats()->totals());
  CHECK(std::string(results[0].result) == "ok");
  CHECK(results[0].count == 5);
  CHECK(std::string(results[2].result) == "timeout");

  auto bad = second->rebuild(config_with({{"web", tls_config(pki.mismatched)}, {"api", tls_config(pki.weak_rsa)}}), 2);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Contains("listener \"web\"") && Contains("listener \"api\""));
  CHECK(second->find("web") == web2);  // unchanged
}
