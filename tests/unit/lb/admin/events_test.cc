#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "lb/admin/events.h"

using ebb::lb::admin::EventLog;
using ebb::lb::admin::EventType;

TEST_CASE("events: bounded ring, newest last, since filter") {
  EventLog log(3);
  for (int i = 1; i <= 5; ++i)
    CHECK(log.append(EventType::health, "app", "b:" + std::to_string(i), "m" + std::to_string(i)) ==
          static_cast<uint64_t>(i));
  auto all = log.since();
  REQUIRE(all.size() == 3);
  CHECK(all[0].seq == 3);
  CHECK(all[2].seq == 5);
  CHECK(all[2].backend == "b:5");
  CHECK(log.since(4).size() == 1);
  CHECK(log.since(5).empty());
  CHECK(log.since(99).empty());
  CHECK(log.since(0, 2).front().seq == 4);  // the newest two
  CHECK(log.last_seq() == 5);
}

TEST_CASE("events: JSON shape") {
  EventLog log(10);
  log.append(EventType::drain_started, "app", "127.0.0.1:9001", "drain requested by API");
  log.append(EventType::reload, "", "", "config rejected: x", true);
  auto j = log.to_json();
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 2);
  CHECK(j[0]["type"] == "drain_started");
  CHECK(j[0]["pool"] == "app");
  CHECK(j[0]["backend"] == "127.0.0.1:9001");
  CHECK(j[0]["message"] == "drain requested by API");
  CHECK(j[0]["seq"] == 1);
  const std::string t = j[1]["time"];
  CHECK(t.size() == 24);
  CHECK(t.back() == 'Z');
  CHECK(j[1]["time_ms"].get<int64_t>() >= j[0]["time_ms"].get<int64_t>());
  CHECK(ebb::lb::admin::format_time_ms(1700000000123) == "2023-11-14T22:13:20.123Z");
}

TEST_CASE("events: concurrent appends keep every seq once") {
  EventLog log(10000);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&log] {
      for (int i = 0; i < 500; ++i) log.append(EventType::weight, "p", "b", "w");
    });
  for (auto& t : ts) t.join();
  auto all = log.since();
  REQUIRE(all.size() == 2000);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i].seq == i + 1);
}
