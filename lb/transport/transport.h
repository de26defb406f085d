// One byte-stream interface for every connection the proxy drives (DESIGN point 6): raw TCP now,
// TLS (OpenSSL memory BIOs over the same uv stream) later. Connections (lb/conn/) talk only to
// this interface, so HTTP and TCP modes get TLS without change.
//
// Lifetime: a Transport is created on a worker and used only on that worker's loop. Its owner
// calls close() (or destroys the TransportPtr, which closes); the object itself is freed later,
// in the uv_close callback of its handle (DESIGN point 8), so in-flight write callbacks never
// touch freed memory. After close() the handler is never called again.
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace ebb::lb {

class Transport;

// Events from a transport to its owner. Never called re-entrantly from inside a Transport method:
// only from libuv callbacks.
class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  // Bytes received (plaintext). Valid only during the call.
  virtual void on_read(Transport& t, const char* data, size_t len) = 0;
  // The peer finished sending (FIN, or TLS close_notify).
  virtual void on_eof(Transport& t) = 0;
  // A read or write failed (reset, timeout, TLS error); the transport is unusable. `err` is a
  // libuv error code.
  virtual void on_error(Transport& t, int err) = 0;
  // Some queued bytes were written; pending_write_bytes() has decreased (watermark checks).
  virtual void on_write_progress(Transport& t) = 0;
  // Outgoing connect finished (client-side transports only); status 0 or a libuv error.
  virtual void on_connect(Transport& /*t*/, int /*status*/) {}
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual void set_handler(TransportHandler* h) = 0;
  // Start / stop delivering on_read and on_eof. Idempotent.
  virtual void start_reading() = 0;
  virtual void stop_reading() = 0;
  virtual bool reading() const = 0;
  // Queues `data` for sending (copied if it cannot be written at once). Returns false if the
  // transport is already failed or shut down for writing (data dropped).
  virtual bool write(std::string_view data) = 0;
  // Two pieces in one send when possible (e.g. a head and the first body bytes).
  virtual bool write2(std::string_view a, std::string_view b) = 0;
  // Bytes accepted by write() but not yet handed to the kernel.
  virtual size_t pending_write_bytes() const = 0;
  // Sends FIN after everything queued (half-close). Further writes are refused.
  virtual void shutdown_write() = 0;
  virtual bool write_shut() const = 0;
  // Closes at once (queued bytes are dropped). Safe to call more than once.
  virtual void close() = 0;
  // Peer and local addresses (for X-Forwarded-For, access log).
  virtual bool peer_address(sockaddr_storage& out) const = 0;
  // True for TLS transports (X-Forwarded-Proto, Secure cookies).
  virtual bool secure() const = 0;
};

// Owner handle: destroying it closes the transport (the memory goes in the close callback).
struct TransportCloser {
  void operator()(Transport* t) const { t->close(); }
};
using TransportPtr = std::unique_ptr<Transport, TransportCloser>;

// Flow-control thresholds on pending write bytes (DESIGN "Backpressure"): past `high`, stop
// reading the side that feeds this transport; resume once it drops to `low`.
struct Watermarks {
  size_t high = 256 * 1024;
  size_t low = 128 * 1024;
};

}  // namespace ebb::lb
