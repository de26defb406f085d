// Base of the test backend's connections: owns the uv_tcp_t (freed only in its close callback,
// DESIGN.md point 8), tracks writes, and offers the three ways a connection ends: close,
// graceful close (shutdown our side, drain the peer for a while, then close) and reset (RST).
// Loop thread only.
#pragma once
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/uv.h"

namespace ebb::testbackend {

class Server;

class Conn {
 public:
  explicit Conn(Server& server);
  virtual ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Accepts a pending connection from `listener` and starts reading. On failure the
  // connection closes itself (and is released through the server).
  void accept_from(uv_stream_t* listener);

  // Closes now; pending writes are cancelled. Idempotent.
  void close();
  // Shuts our write side down once pending writes are flushed, discards input until the peer
  // closes (at most kLingerMs), then closes: the peer gets every byte we sent and no RST.
  void close_gracefully();
  // Closes with SO_LINGER 0 so the kernel sends RST instead of FIN.
  void reset();
  bool closing() const { return closing_; }

 protected:
  enum WriteTag : int { kTagNone = 0 };

  // Queues bytes; the string is owned by the write request until it completes.
  void write_owned(std::string data, int tag);
  // Queues bytes that outlive the write (static storage).
  void write_static(const char* data, size_t len, int tag);
  size_t write_queue_bytes() const;
  int writes_in_flight() const { return writes_in_flight_; }

  void pause_reading();
  void resume_reading();
  bool peer_eof() const { return peer_eof_; }
  // Closed or shutting down: no more writes are accepted.
  bool ending() const { return closing_ || shutdown_started_; }

  // Input bytes (not called while lingering or after close).
  virtual void on_data(const char* data, size_t len) = 0;
  // The peer shut its write side down. Reading has stopped.
  virtual void on_eof() = 0;
  // A write with `tag` completed successfully (never called once closing).
  virtual void on_write_done(int tag) { (void)tag; }
  // The connection was accepted and reading started.
  virtual void on_accepted() {}
  // close() was called: stop timers so nothing fires for a connection that is going away.
  virtual void on_closing() {}

  uv_loop_t* loop() const;
  Server& server_;

 private:
  static constexpr uint64_t kLingerMs = 2000;
  struct WriteReq;
  void queue_write(std::unique_ptr<WriteReq> req);
  void on_read(ssize_t nread, const uv_buf_t* buf);

  uv_tcp_t tcp_{};
  UvHandle<uv_timer_t> linger_timer_;
  bool closing_ = false;
  bool lingering_ = false;
  bool reading_ = false;
  bool want_reading_ = true;
  bool peer_eof_ = false;
  bool shutdown_started_ = false;
  int writes_in_flight_ = 0;
};

}  // namespace ebb::testbackend
