// The per-worker idle upstream pool: only backends that may receive new requests keep idle
// keep-alive connections (issue 5: draining closes them, and a request that finishes on a
// backend which started draining meanwhile does not park its connection).
#include "lb/conn/upstream_pool.h"

#include <catch2/catch.hpp>

#include "common/uv.h"
#include "fake_transport.h"

using namespace ebb;
using namespace ebb::lb;
using ebb::lb::test::FakeTransport;

namespace {
constexpr const char* kA = "127.0.0.1:9001";
constexpr const char* kB = "127.0.0.1:9002";
}  // namespace

TEST_CASE("only backends kept by the latest snapshot park idle connections", "[upstream_pool]") {
  UvLoop loop;
  FakeTransport a1, a2, b1;
  UpstreamPool pool(loop.get());
  pool.retain_only({kA, kB});
  pool.put(kA, TransportPtr(&a1), 60000);
  pool.put(kB, TransportPtr(&b1), 60000);
  CHECK(pool.idle_count() == 2);
  CHECK(a1.handler == &pool);
  CHECK(a1.is_reading);  // watches for the backend closing it

  // kB starts draining: its idle connection closes at once, kA's stays.
  pool.retain_only({kA});
  CHECK(b1.closed);
  CHECK_FALSE(a1.closed);
  CHECK(pool.idle_count() == 1);

  // A request to kB that was in flight during the change finishes: not parked, closed.
  FakeTransport b2;
  pool.put(kB, TransportPtr(&b2), 60000);
  CHECK(b2.closed);
  CHECK(pool.idle_count() == 1);

  // kA is still eligible: parked, and taken back most recent first.
  pool.put(kA, TransportPtr(&a2), 60000);
  CHECK(pool.idle_count() == 2);
  TransportPtr t = pool.take(kA);
  CHECK(t.get() == &a2);
  CHECK(a2.handler == nullptr);
  CHECK(pool.take(kB) == nullptr);
  t.release();  // a stack object: not the pool's to close any more
  pool.close_all();
  CHECK(a1.closed);
  CHECK(pool.idle_count() == 0);
}

TEST_CASE("an idle connection the backend closes or writes to is dropped", "[upstream_pool]") {
  UvLoop loop;
  FakeTransport a1, a2;
  UpstreamPool pool(loop.get());
  pool.retain_only({kA});
  pool.put(kA, TransportPtr(&a1), 60000);
  pool.put(kA, TransportPtr(&a2), 60000);
  a1.eof();
  CHECK(a1.closed);
  a2.receive("HTTP/1.1 408 Request Timeout\r\n\r\n");
  CHECK(a2.closed);
  CHECK(pool.idle_count() == 0);
}
