// A Transport without a socket: records what is written, lets the test set pending bytes and
// drive the handler's events by hand.
#pragma once
#include <string>

#include "lb/transport/transport.h"

namespace ebb::lb::test {

class FakeTransport final : public Transport {
 public:
  void set_handler(TransportHandler* h) override { handler = h; }
  void start_reading() override { is_reading = true; }
  void stop_reading() override { is_reading = false; }
  bool reading() const override { return is_reading; }
  bool write(std::string_view d) override { return write2(d, {}); }
  bool write2(std::string_view a, std::string_view b) override {
    if (shut) return false;
    written.append(a);
    written.append(b);
    pending += hold_writes ? a.size() + b.size() : 0;
    return true;
  }
  size_t pending_write_bytes() const override { return pending; }
  void shutdown_write() override { shut = true; }
  bool write_shut() const override { return shut; }
  void close() override { closed = true; }
  bool peer_address(sockaddr_storage&) const override { return false; }
  bool secure() const override { return false; }

  // Test controls
  void flushed(size_t n) {  // the kernel took n queued bytes
    pending -= n;
    if (handler) handler->on_write_progress(*this);
  }
  void receive(std::string_view d) { handler->on_read(*this, d.data(), d.size()); }
  void eof() { handler->on_eof(*this); }

  TransportHandler* handler = nullptr;
  bool is_reading = false;
  bool shut = false;
  bool closed = false;
  bool hold_writes = false;  // true: writes stay pending until flushed()
  size_t pending = 0;
  std::string written;
};

}  // namespace ebb::lb::test
