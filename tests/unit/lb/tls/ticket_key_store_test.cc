#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "lb/tls/ticket_key_store.h"

using ebb::lb::tls::kTicketKeysKept;
using ebb::lb::tls::TicketKey;
using ebb::lb::tls::TicketKeyStore;

TEST_CASE("ticket_key_store: rotation keeps previous keys for decryption, then drops them", "[tls][tickets]") {
  TicketKeyStore store;
  TicketKey first;
  store.current(first);
  TicketKey k;
  CHECK(store.find(first.name.data(), k) == TicketKeyStore::Lookup::current);
  CHECK(k.aes_key == first.aes_key);
  CHECK(k.hmac_key == first.hmac_key);

  REQUIRE(store.rotate());
  TicketKey second;
  store.current(second);
  CHECK(second.name != first.name);
  CHECK(second.aes_key != first.aes_key);
  CHECK(store.find(first.name.data(), k) == TicketKeyStore::Lookup::previous);
  CHECK(k.aes_key == first.aes_key);
  CHECK(store.find(second.name.data(), k) == TicketKeyStore::Lookup::current);

  for (size_t i = 1; i < kTicketKeysKept - 1; ++i) REQUIRE(store.rotate());
  CHECK(store.find(first.name.data(), k) == TicketKeyStore::Lookup::previous);  // kept for 2 rotations
  REQUIRE(store.rotate());
  CHECK(store.find(first.name.data(), k) == TicketKeyStore::Lookup::not_found);
  CHECK(store.find(second.name.data(), k) == TicketKeyStore::Lookup::previous);
  CHECK(store.rotations() == kTicketKeysKept);
}

TEST_CASE("ticket_key_store: readers on several threads while rotating see whole keys", "[tls][tickets]") {
  TicketKeyStore store;
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&] {
      for (int i = 0; i < 20000 && !stop.load(); ++i) {
        TicketKey cur, found;
        store.current(cur);
        auto r = store.find(cur.name.data(), found);
        // The key may have rotated in between, but a found key must be the same key.
        if (r != TicketKeyStore::Lookup::not_found && found.aes_key != cur.aes_key) torn.fetch_add(1);
      }
    });
  for (int i = 0; i < 200; ++i) store.rotate();
  stop = true;
  for (auto& t : readers) t.join();
  CHECK(torn.load() == 0);
  CHECK(store.rotations() == 200);
}

TEST_CASE("ticket_key_store: rotates by itself once a period has passed", "[tls][tickets]") {
  using namespace std::chrono;
  TicketKeyStore store(hours(1));
  const auto now = steady_clock::now();
  store.rotate_if_due(now + minutes(59));
  CHECK(store.rotations() == 0);
  store.rotate_if_due(now + minutes(61));
  CHECK(store.rotations() == 1);
  store.rotate_if_due(now + minutes(62));  // the period restarts at the rotation
  CHECK(store.rotations() == 1);
  TicketKey k;
  store.current(k);  // issuing a ticket right now does not rotate again
  CHECK(store.rotations() == 1);
}
