#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "fixtures.h"
#include "lb/balancer/hash_key.h"
#include "lb/balancer/maglev.h"

using namespace ebb;
using namespace ebb::lb;
using namespace ebb::lb::test;

namespace {

PickRequest keyed(uint64_t h) {
  PickRequest r;
  r.key_hash = h;
  r.has_key = true;
  return r;
}

std::vector<uint64_t> key_hashes(size_t count, const std::string& prefix = "client-") {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < count; ++i) out.push_back(hash_key_bytes(prefix + std::to_string(i)));
  return out;
}

// The address each key lands on.
std::vector<std::string> route(const std::vector<Backend>& backends, const std::vector<uint64_t>& keys) {
  auto sel = build_selector(make_pool(config::Balance::hash), backends, 0);
  PickState st;
  std::vector<std::string> out;
  for (uint64_t k : keys) {
    const size_t i = sel->pick(keyed(k), st);
    REQUIRE(i < backends.size());
    out.push_back(backends[i].address);
  }
  return out;
}

KeySource client_src(const void* sa) {
  KeySource k;
  k.client = static_cast<const sockaddr*>(sa);
  return k;
}
KeySource uri_src(std::string_view uri) {
  KeySource k;
  k.uri = uri;
  return k;
}
KeySource header_src(std::string_view v) {
  KeySource k;
  k.header = v;
  return k;
}
KeySource cookie_src(std::string_view v) {
  KeySource k;
  k.cookie_header = v;
  return k;
}

}  // namespace

TEST_CASE("hash_key_bytes is a fixed function: same value in every process and on every node",
          "[hash]") {
  // Golden values: a change here remaps every client of every deployed pool.
  CHECK(hash_key_bytes("") == 0x34e19c872460a731ull);
  CHECK(hash_key_bytes("10.1.2.3") == 0x794c19cdb8f60600ull);
  CHECK(hash_key_bytes("/a/fairly/long/uri/that/spans/several/blocks?x=1") == 0xb6a35a1931d50c0aull);
  CHECK(hash_key_bytes("a") != hash_key_bytes("b"));
  CHECK(hash_bytes("a", 1) != hash_bytes("a", 2));
}

TEST_CASE("hash: removing one of N backends remaps about 1/N of the keys", "[hash]") {
  const auto keys = key_hashes(20000);
  std::mt19937 rng(4);
  for (size_t n : {3u, 5u, 10u, 30u, 100u}) {
    auto backends = make_backends(n);
    const auto before = route(backends, keys);
    auto fewer = backends;
    fewer.erase(fewer.begin() + static_cast<long>(rng() % n));
    const auto after = route(fewer, keys);
    size_t moved = 0;
    for (size_t i = 0; i < keys.size(); ++i) moved += before[i] != after[i];
    const double fraction = static_cast<double>(moved) / static_cast<double>(keys.size());
    INFO("n=" << n << " moved=" << fraction);
    REQUIRE(fraction <= 1.0 / static_cast<double>(n) + 0.05);
  }
}

TEST_CASE("hash: an unhealthy backend's keys move, nearly all others stay", "[hash]") {
  const auto keys = key_hashes(5000);
  auto backends = make_backends(8);
  const auto before = route(backends, keys);
  backends[3].state = BackendState::unhealthy;
  const auto after = route(backends, keys);
  size_t others = 0, others_moved = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    REQUIRE(after[i] != backends[3].address);
    if (before[i] == backends[3].address) continue;
    ++others;
    others_moved += after[i] != before[i];
  }
  // Maglev trades a little extra movement for an even spread; it stays small.
  REQUIRE(static_cast<double>(others_moved) <= 0.05 * static_cast<double>(others));
  // And the backend coming back takes back exactly its old keys.
  backends[3].state = BackendState::healthy;
  REQUIRE(route(backends, keys) == before);
}

TEST_CASE("hash: 10k keys spread within 10 % of fair", "[hash]") {
  for (size_t n : {2u, 5u, 10u}) {
    auto backends = make_backends(n);
    const auto keys = key_hashes(10000, "user-" + std::to_string(n) + "-");
    auto sel = build_selector(make_pool(config::Balance::hash), backends, 0);
    PickState st;
    std::vector<size_t> count(n);
    for (uint64_t k : keys) ++count[sel->pick(keyed(k), st)];
    const double fair = 10000.0 / static_cast<double>(n);
    for (size_t c : count) REQUIRE(std::abs(static_cast<double>(c) - fair) <= 0.10 * fair);
  }
}

TEST_CASE("hash: weights give proportional shares", "[hash]") {
  auto backends = make_backends({1, 3});
  const auto keys = key_hashes(20000);
  auto sel = build_selector(make_pool(config::Balance::hash), backends, 0);
  PickState st;
  size_t heavy = 0;
  for (uint64_t k : keys) heavy += sel->pick(keyed(k), st) == 1;
  REQUIRE(static_cast<double>(heavy) / 20000.0 == Approx(0.75).margin(0.03));
}

TEST_CASE("hash: two nodes with the same pool map every key to the same backend", "[hash]") {
  // Node B lists the backends in another order and has its own Backend objects.
  auto a = make_backends(12);
  std::vector<Backend> b;
  for (size_t i = a.size(); i-- > 0;) b.push_back(make_backend(a[i].address, a[i].weight));
  std::shuffle(b.begin(), b.end(), std::mt19937(9));
  const auto keys = key_hashes(5000);
  REQUIRE(route(a, keys) == route(b, keys));
}

TEST_CASE("hash: a request without the key is balanced round robin", "[hash]") {
  auto backends = make_backends({1, 1, 2});
  auto sel = build_selector(make_pool(config::Balance::hash), backends, 0);
  PickState st;
  auto h = histogram(pick_n(*sel, 400, st));
  REQUIRE(h[0] == 100);
  REQUIRE(h[1] == 100);
  REQUIRE(h[2] == 200);
}

TEST_CASE("hash: retries go to another backend, the same one for the same key", "[hash]") {
  auto backends = make_backends(5);
  auto sel = build_selector(make_pool(config::Balance::hash), backends, 0);
  PickState st;
  for (uint64_t k : key_hashes(200)) {
    PickRequest req = keyed(k);
    const uint32_t first = static_cast<uint32_t>(sel->pick(req, st));
    const uint32_t tried[] = {first};
    req.exclude = tried;
    const size_t second = sel->pick(req, st);
    REQUIRE(second != first);
    REQUIRE(second < 5);
    REQUIRE(sel->pick(req, st) == second);
  }
  const uint32_t all[] = {0, 1, 2, 3, 4};
  PickRequest req = keyed(42);
  req.exclude = all;
  REQUIRE(sel->pick(req, st) == kNoBackend);
}

TEST_CASE("maglev table size is prime and at least 100 per backend", "[hash]") {
  REQUIRE(detail::maglev_table_size(1) == 65537);
  REQUIRE(detail::maglev_table_size(655) == 65537);
  const uint64_t m = detail::maglev_table_size(1000);
  REQUIRE(m >= 100000);
  for (uint64_t d = 2; d * d <= m; ++d) REQUIRE(m % d != 0);
}

TEST_CASE("hash keys from the request", "[hash][key]") {
  config::HashKey ip;
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(1234);
  inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
  sockaddr_in v4b = v4;
  v4b.sin_port = htons(999);
  sockaddr_in6 mapped{};
  mapped.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:192.0.2.7", &mapped.sin6_addr);
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr);

  auto h4 = request_key_hash(ip, client_src(&v4));
  REQUIRE(h4);
  // The port does not matter; an IPv4-mapped address is the IPv4 address.
  REQUIRE(request_key_hash(ip, client_src(&v4b)) == h4);
  REQUIRE(request_key_hash(ip, client_src(&mapped)) == h4);
  REQUIRE(request_key_hash(ip, client_src(&v6)) != h4);
  REQUIRE_FALSE(request_key_hash(ip, KeySource{}));

  config::HashKey uri{config::HashKey::Kind::uri, ""};
  REQUIRE(request_key_hash(uri, uri_src("/a?b=1")) == hash_key_bytes("/a?b=1"));
  REQUIRE_FALSE(request_key_hash(uri, KeySource{}));

  config::HashKey header{config::HashKey::Kind::header, "X-User"};
  REQUIRE(request_key_hash(header, header_src("alice")) == hash_key_bytes("alice"));
  REQUIRE_FALSE(request_key_hash(header, KeySource{}));

  config::HashKey cookie{config::HashKey::Kind::cookie, "sid"};
  REQUIRE(request_key_hash(cookie, cookie_src("a=1; sid=xyz; b=2")) == hash_key_bytes("xyz"));
  REQUIRE(request_key_hash(cookie, cookie_src("sid=\"xyz\"")) == hash_key_bytes("xyz"));
  REQUIRE_FALSE(request_key_hash(cookie, cookie_src("sidx=1; xsid=2")));
  REQUIRE_FALSE(request_key_hash(cookie, KeySource{}));
}

TEST_CASE("find_cookie parses Cookie header values", "[key]") {
  REQUIRE(find_cookie("a=1", "a") == "1");
  REQUIRE(find_cookie("  a = 1 ;b=2", "b") == "2");
  REQUIRE(find_cookie("a=1; a=2", "a") == "1");
  REQUIRE(find_cookie("a=", "a") == "");
  REQUIRE_FALSE(find_cookie("", "a"));
  REQUIRE_FALSE(find_cookie("ab=1; b", "a"));
  REQUIRE_FALSE(find_cookie(";;;", "a"));
}
