#include "lb/conn/pump.h"

#include <catch2/catch.hpp>

#include <string>

#include "common/uv.h"
#include "fake_transport.h"

using ebb::lb::Pump;
using ebb::lb::Watermarks;
using ebb::lb::test::FakeTransport;

namespace {
struct Owner : Pump::Owner {
  int done = 0;
  bool error = false;
  void on_pump_done(bool e) override {
    ++done;
    error = e;
  }
};
}  // namespace

TEST_CASE("pump forwards both ways and counts bytes", "[pump]") {
  ebb::UvLoop loop;
  FakeTransport a, b;
  Owner owner;
  Pump pump;
  pump.start(loop.get(), a, b, owner, Watermarks{}, "early", "");
  CHECK(b.written == "early");
  CHECK(a.is_reading);
  CHECK(b.is_reading);
  a.receive("hello");
  b.receive("world!");
  CHECK(b.written == "earlyhello");
  CHECK(a.written == "world!");
  CHECK(pump.bytes_a_to_b() == 10);
  CHECK(pump.bytes_b_to_a() == 6);
  CHECK(owner.done == 0);
}

TEST_CASE("pump half-close: EOF one way shuts the other side, the other way keeps flowing", "[pump]") {
  ebb::UvLoop loop;
  FakeTransport a, b;
  Owner owner;
  Pump pump;
  pump.start(loop.get(), a, b, owner, Watermarks{});
  a.receive("request");
  a.eof();
  CHECK(b.shut);
  CHECK_FALSE(a.shut);
  CHECK(owner.done == 0);
  b.receive("late reply");
  CHECK(a.written == "late reply");
  b.eof();
  CHECK(a.shut);
  CHECK(owner.done == 1);
  CHECK_FALSE(owner.error);
}

TEST_CASE("pump is done only after pending writes are flushed", "[pump]") {
  ebb::UvLoop loop;
  FakeTransport a, b;
  b.hold_writes = true;
  Owner owner;
  Pump pump;
  pump.start(loop.get(), a, b, owner, Watermarks{});
  a.receive("xyz");
  a.eof();
  b.eof();
  CHECK(owner.done == 0);  // 3 bytes still queued towards b
  b.flushed(3);
  CHECK(owner.done == 1);
}

TEST_CASE("pump backpressure: stop reading past the high watermark, resume at the low one", "[pump]") {
  ebb::UvLoop loop;
  FakeTransport a, b;
  b.hold_writes = true;
  Owner owner;
  Pump pump;
  Watermarks wm{100, 50};
  pump.start(loop.get(), a, b, owner, wm);
  a.receive(std::string(80, 'x'));
  CHECK(a.is_reading);
  a.receive(std::string(40, 'x'));  // 120 pending > 100
  CHECK_FALSE(a.is_reading);
  CHECK(b.is_reading);  // the other direction is unaffected
  b.flushed(60);        // 60 left: still above low
  CHECK_FALSE(a.is_reading);
  b.flushed(10);        // 50: at the low watermark
  CHECK(a.is_reading);
}

TEST_CASE("pump reports an error once", "[pump]") {
  ebb::UvLoop loop;
  FakeTransport a, b;
  Owner owner;
  Pump pump;
  pump.start(loop.get(), a, b, owner, Watermarks{});
  a.handler->on_error(a, -104);
  b.handler->on_error(b, -104);
  CHECK(owner.done == 1);
  CHECK(owner.error);
}
