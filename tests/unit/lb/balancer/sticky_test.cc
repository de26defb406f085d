#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "fixtures.h"
#include "lb/balancer/sticky.h"

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;

namespace {

constexpr int64_t kNow = 1'790'000'000;  // wall-clock seconds
constexpr int64_t kTtl = 3600;

std::string temp_file(const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("ebb-sticky-test-" + std::to_string(getpid()) + "-" + std::to_string(content.size()));
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

}  // namespace

TEST_CASE("sticky: a token maps back to its backend, on this node and on another", "[sticky]") {
  auto backends = make_backends(5);
  const StickyKey key = make_sticky_key("app", "");
  StickyTable table(key, backends, kTtl);
  // Node B (or this node after a restart): its own key derivation, backends in another order.
  std::vector<Backend> other(backends.rbegin(), backends.rend());
  StickyTable table_b(make_sticky_key("app", ""), other, kTtl);
  for (size_t i = 0; i < backends.size(); ++i) {
    const std::string token = table.issue(i, kNow);
    REQUIRE(token.size() == kStickyTokenChars);
    REQUIRE(table.find(token, kNow + 10) == i);
    const auto j = table_b.find(token, kNow + 10);
    REQUIRE(j);
    REQUIRE(other[*j].address == backends[i].address);
    // The free functions agree with the table.
    REQUIRE(verify_token(key, issue_token(key, backends[i].address, kNow, kTtl), kNow) ==
            sticky_identity_tag(key, backends[i].address));
  }
}

TEST_CASE("sticky: tokens are opaque", "[sticky]") {
  auto backends = make_backends(2);
  StickyTable table(make_sticky_key("app", ""), backends, kTtl);
  const std::string a = table.issue(0, kNow), b = table.issue(1, kNow);
  REQUIRE(a != b);
  REQUIRE(a.find("10.0") == std::string::npos);
  REQUIRE(std::all_of(a.begin(), a.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }));
  // Reissued later: a different token for the same backend, both valid.
  const std::string a2 = table.issue(0, kNow + 100);
  REQUIRE(a2 != a);
  REQUIRE(table.find(a2, kNow + 101) == 0u);
}

TEST_CASE("sticky: any edit of a token is rejected", "[sticky]") {
  auto backends = make_backends(3);
  StickyTable table(make_sticky_key("app", ""), backends, kTtl);
  const std::string token = table.issue(1, kNow);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t pos = 0; pos < token.size(); ++pos) {
    for (char c : {'A', 'z', '5', '-', '_'}) {
      if (c == token[pos]) continue;
      std::string t = token;
      t[pos] = c;
      INFO("pos " << pos << " char " << c);
      REQUIRE_FALSE(table.find(t, kNow));
    }
  }
  REQUIRE_FALSE(table.find(token.substr(1), kNow));
  REQUIRE_FALSE(table.find(token + "A", kNow));
  REQUIRE_FALSE(table.find(token.substr(0, 33) + "=", kNow));
  REQUIRE_FALSE(table.find("", kNow));
  REQUIRE_FALSE(table.find(std::string(kStickyTokenChars, 'A'), kNow));
  REQUIRE(table.find(token, kNow) == 1u);
}

TEST_CASE("sticky: the TTL is enforced by the token itself", "[sticky]") {
  auto backends = make_backends(1);
  StickyTable table(make_sticky_key("app", ""), backends, kTtl);
  const std::string token = table.issue(0, kNow);
  REQUIRE(table.find(token, kNow + kTtl - 1) == 0u);
  REQUIRE_FALSE(table.find(token, kNow + kTtl));
  REQUIRE_FALSE(table.find(token, kNow + 10 * kTtl));
}

TEST_CASE("sticky: another pool's or another secret's tokens are rejected", "[sticky]") {
  auto backends = make_backends(2);
  StickyTable app(make_sticky_key("app", ""), backends, kTtl);
  StickyTable api(make_sticky_key("api", ""), backends, kTtl);
  StickyTable secret(make_sticky_key("app", "0123456789abcdef-secret"), backends, kTtl);
  StickyTable secret2(make_sticky_key("app", "0123456789abcdef-other"), backends, kTtl);
  const std::string t = app.issue(0, kNow);
  REQUIRE_FALSE(api.find(t, kNow));
  REQUIRE_FALSE(secret.find(t, kNow));
  REQUIRE_FALSE(secret2.find(secret.issue(0, kNow), kNow));
  REQUIRE(secret.find(secret.issue(0, kNow), kNow) == 0u);
  REQUIRE(make_sticky_key("ab", "c") != make_sticky_key("a", "bc"));
}

TEST_CASE("sticky: a draining, unhealthy or removed backend no longer matches", "[sticky]") {
  auto backends = make_backends(4);
  const StickyKey key = make_sticky_key("app", "");
  StickyTable before(key, backends, kTtl);
  const std::string t1 = before.issue(1, kNow), t2 = before.issue(2, kNow), t3 = before.issue(3, kNow);
  backends[1].state = BackendState::draining;
  backends[2].state = BackendState::unhealthy;
  auto after = backends;
  after.erase(after.begin() + 3);
  StickyTable table(key, after, kTtl);
  REQUIRE_FALSE(table.find(t1, kNow));
  REQUIRE_FALSE(table.find(t2, kNow));
  REQUIRE_FALSE(table.find(t3, kNow));
  REQUIRE(table.find(before.issue(0, kNow), kNow) == 0u);
  // Sticky off: nothing matches.
  StickyTable off;
  REQUIRE_FALSE(off.enabled());
  REQUIRE_FALSE(off.find(t1, kNow));
}

TEST_CASE("sticky: Set-Cookie value per SPEC", "[sticky]") {
  REQUIRE(sticky_set_cookie("srv", "TOKEN", 3600, false) == "srv=TOKEN; Path=/; Max-Age=3600; HttpOnly");
  REQUIRE(sticky_set_cookie("srv", "TOKEN", 60, true) ==
          "srv=TOKEN; Path=/; Max-Age=60; HttpOnly; Secure");
}

TEST_CASE("sticky: key from the pool name or from the secret file", "[sticky]") {
  config::Pool pool = make_pool(config::Balance::round_robin, "app");
  auto k = load_sticky_key(pool);
  REQUIRE(k.ok());
  REQUIRE(*k == make_sticky_key("app", ""));

  pool.sticky_secret_file = temp_file("a-long-enough-secret-value\n");
  k = load_sticky_key(pool);
  REQUIRE(k.ok());
  REQUIRE(*k == make_sticky_key("app", "a-long-enough-secret-value"));
  std::filesystem::remove(pool.sticky_secret_file);

  pool.sticky_secret_file = temp_file("short\n");
  k = load_sticky_key(pool);
  REQUIRE_FALSE(k.ok());
  REQUIRE(k.error().find("at least 16 bytes") != std::string::npos);
  std::filesystem::remove(pool.sticky_secret_file);

  pool.sticky_secret_file = "/nonexistent/ebb-secret";
  k = load_sticky_key(pool);
  REQUIRE_FALSE(k.ok());
  REQUIRE(k.error().find("/nonexistent/ebb-secret") != std::string::npos);
}

TEST_CASE("sticky: the pool-configured table reads its cookie and writes Set-Cookie", "[sticky]") {
  auto backends = make_backends(3);
  config::Pool pool = make_pool(config::Balance::round_robin, "app");
  StickyTable off(pool, make_sticky_key("app", ""), backends);
  REQUIRE_FALSE(off.enabled());
  REQUIRE_FALSE(off.find_in_request("srv=anything", kNow));

  pool.sticky_cookie = "srv";
  pool.sticky_ttl = std::chrono::minutes(90);
  StickyTable table(pool, make_sticky_key("app", ""), backends);
  REQUIRE(table.enabled());
  REQUIRE(table.ttl_s() == 5400);
  const std::string value = table.set_cookie(2, kNow, true);
  REQUIRE(value.rfind("srv=", 0) == 0);
  REQUIRE(value.size() == 4 + kStickyTokenChars + std::string("; Path=/; Max-Age=5400; HttpOnly; Secure").size());
  REQUIRE(value.find("; Path=/; Max-Age=5400; HttpOnly; Secure") == 4 + kStickyTokenChars);
  const std::string token = value.substr(4, kStickyTokenChars);
  // The application's own cookies around ours do not matter.
  REQUIRE(table.find_in_request("app=1; srv=" + token + "; other=2", kNow + 60) == 2u);
  REQUIRE_FALSE(table.find_in_request("app=1; other=2", kNow));
  REQUIRE_FALSE(table.find_in_request(std::nullopt, kNow));
  REQUIRE_FALSE(table.find_in_request("srv=" + token, kNow + 5400));
  REQUIRE(std::abs(sticky_now_s() - static_cast<int64_t>(std::time(nullptr))) <= 1);
}
