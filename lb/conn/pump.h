// Bidirectional byte pump between two transports: the TCP-mode tunnel and the HTTP Upgrade
// (WebSocket) tunnel. Backpressure: when one side's pending writes pass the high watermark it
// stops reading the other side, and resumes at the low watermark. Half-close: EOF from one side
// becomes shutdown(write) on the other; the other direction keeps flowing until its own EOF.
// Done when both directions ended and everything was flushed, or on the first error.
//
// Thread: the worker owning both transports. Not copyable; the owner keeps the transports alive
// while the pump runs and is told once via on_pump_done().
#pragma once
#include <cstdint>
#include <string_view>

#include <uv.h>

#include "lb/transport/transport.h"

namespace ebb::lb {

class Pump final : public TransportHandler {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    // Both directions finished (error = false) or one side failed (error = true). Called once,
    // from a transport callback; the pump does nothing afterwards.
    virtual void on_pump_done(bool error) = 0;
  };

  // Takes over both transports' handlers and starts reading both (unless a side has already
  // reached EOF: pass a_eof/b_eof). `a_to_b_initial` / `b_to_a_initial`: bytes already read
  // that belong to the tunnel (e.g. after a 101 response head).
  void start(uv_loop_t* loop, Transport& a, Transport& b, Owner& owner, Watermarks wm,
             std::string_view a_to_b_initial = {}, std::string_view b_to_a_initial = {});
  // Stops delivering anything to the owner (before the owner closes the transports).
  void stop();

  uint64_t bytes_a_to_b() const { return bytes_[0]; }
  uint64_t bytes_b_to_a() const { return bytes_[1]; }
  // Loop time (ms, uv_now) of the last byte in either direction: for idle timeouts.
  uint64_t last_activity_ms() const { return last_activity_ms_; }

  void on_read(Transport& t, const char* data, size_t len) override;
  void on_eof(Transport& t) override;
  void on_error(Transport& t, int err) override;
  void on_write_progress(Transport& t) override;

 private:
  int side(const Transport& t) const { return &t == ends_[0] ? 0 : 1; }
  void forward(int from, const char* data, size_t len);
  void check_done();

  Transport* ends_[2] = {nullptr, nullptr};
  Owner* owner_ = nullptr;
  Watermarks wm_;
  uint64_t bytes_[2] = {0, 0};
  bool eof_[2] = {false, false};     // side i sent EOF (and the other side was shut for writing)
  bool paused_[2] = {false, false};  // reading side i is paused by backpressure
  bool done_ = false;
  uint64_t last_activity_ms_ = 0;
  uv_loop_t* loop_ = nullptr;
};

}  // namespace ebb::lb
