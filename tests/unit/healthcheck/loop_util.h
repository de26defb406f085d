// Runs a test's uv loop until a condition holds or a deadline passes (never sleeps blindly).
#pragma once
#include <uv.h>

#include <chrono>
#include <functional>

namespace ebb::test {

inline bool run_until(uv_loop_t* loop, const std::function<bool()>& done, int timeout_ms = 5000) {
  uv_timer_t tick;  // wakes uv_run so `done` is re-evaluated even when nothing else happens
  uv_timer_init(loop, &tick);
  uv_timer_start(&tick, [](uv_timer_t*) {}, 5, 5);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool ok = done();
  while (!ok && std::chrono::steady_clock::now() < deadline) {
    uv_run(loop, UV_RUN_ONCE);
    ok = done();
  }
  bool closed = false;
  tick.data = &closed;
  uv_close(reinterpret_cast<uv_handle_t*>(&tick),
           [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
  while (!closed) uv_run(loop, UV_RUN_NOWAIT);  // `tick` lives on this stack frame
  return ok;
}

inline sockaddr_storage loopback(int port) {
  sockaddr_storage ss{};
  uv_ip4_addr("127.0.0.1", port, reinterpret_cast<sockaddr_in*>(&ss));
  return ss;
}

}  // namespace ebb::test
