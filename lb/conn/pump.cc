#include "lb/conn/pump.h"

#include <uv.h>

namespace ebb::lb {

void Pump::start(uv_loop_t* loop, Transport& a, Transport& b, Owner& owner, Watermarks wm,
                 std::string_view a_to_b_initial, std::string_view b_to_a_initial) {
  loop_ = loop;
  last_activity_ms_ = uv_now(loop);
  ends_[0] = &a;
  ends_[1] = &b;
  owner_ = &owner;
  wm_ = wm;
  a.set_handler(this);
  b.set_handler(this);
  if (!a_to_b_initial.empty()) forward(0, a_to_b_initial.data(), a_to_b_initial.size());
  if (!b_to_a_initial.empty()) forward(1, b_to_a_initial.data(), b_to_a_initial.size());
  if (!paused_[0]) a.start_reading();
  if (!paused_[1]) b.start_reading();
}

void Pump::stop() {
  done_ = true;
  for (auto* t : ends_)
    if (t) t->set_handler(nullptr);
}

void Pump::forward(int from, const char* data, size_t len) {
  Transport* src = ends_[from];
  Transport* dst = ends_[1 - from];
  bytes_[from] += len;
  last_activity_ms_ = uv_now(loop_);
  dst->write(std::string_view(data, len));
  if (dst->pending_write_bytes() > wm_.high) {
    src->stop_reading();
    paused_[from] = true;
  }
}

void Pump::on_read(Transport& t, const char* data, size_t len) {
  if (done_) return;
  forward(side(t), data, len);
}

void Pump::on_eof(Transport& t) {
  if (done_) return;
  int s = side(t);
  eof_[s] = true;
  ends_[1 - s]->shutdown_write();
  check_done();
}

void Pump::on_error(Transport&, int) {
  if (done_) return;
  done_ = true;
  owner_->on_pump_done(true);
}

void Pump::on_write_progress(Transport& t) {
  if (done_) return;
  int dst = side(t);
  int src = 1 - dst;
  if (paused_[src] && t.pending_write_bytes() <= wm_.low) {
    paused_[src] = false;
    if (!eof_[src]) ends_[src]->start_reading();
  }
  check_done();
}

void Pump::check_done() {
  if (done_ || !eof_[0] || !eof_[1]) return;
  if (ends_[0]->pending_write_bytes() != 0 || ends_[1]->pending_write_bytes() != 0) return;
  done_ = true;
  owner_->on_pump_done(false);
}

}  // namespace ebb::lb
