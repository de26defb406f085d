#include "tests/support/tcp_echo_conn.h"

#include <string>

#include "tests/support/backend_server.h"

namespace ebb::testbackend {

void TcpEchoConn::on_accepted() {
  if (server_.options().tcp_greeting) write_owned("backend " + server_.name() + "\n", kTagNone);
}

void TcpEchoConn::on_data(const char* data, size_t len) {
  write_owned(std::string(data, len), kTagNone);
  if (write_queue_bytes() > kHighWater) pause_reading();
}

void TcpEchoConn::on_eof() { maybe_finish(); }

void TcpEchoConn::on_write_done(int) {
  if (!peer_eof() && write_queue_bytes() < kLowWater) resume_reading();
  maybe_finish();
}

void TcpEchoConn::maybe_finish() {
  // Both directions are done once the peer has finished and every echo byte is flushed.
  if (peer_eof() && writes_in_flight() == 0) close_gracefully();
}

}  // namespace ebb::testbackend
