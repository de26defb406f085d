// --tcp-echo mode: echoes every byte back. Half-close aware: when the peer shuts its write
// side down, the pending echo is flushed and then our write side is shut down too.
// Backpressure: stops reading while more than kHighWater bytes wait to be written.
// With --tcp-greeting it first sends "backend NAME\n", so L4 balancing can be observed.
#pragma once
#include "tests/support/backend_conn.h"

namespace ebb::testbackend {

class TcpEchoConn final : public Conn {
 public:
  using Conn::Conn;

 private:
  static constexpr size_t kHighWater = 1 << 20;
  static constexpr size_t kLowWater = 256 << 10;
  void on_accepted() override;
  void on_data(const char* data, size_t len) override;
  void on_eof() override;
  void on_write_done(int tag) override;
  void maybe_finish();
};

}  // namespace ebb::testbackend
