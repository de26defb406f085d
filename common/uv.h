// RAII for libuv handles. A handle's memory is freed only in its uv_close callback (DESIGN.md
// point 8): destroying a UvHandle closes the handle and hands ownership of the memory to libuv
// until the close callback runs. Use from the thread that owns the handle's loop only.
#pragma once
#include <uv.h>

#include <memory>
#include <utility>

namespace ebb {

template <typename T>
class UvHandle {
 public:
  UvHandle() : h_(std::make_unique<T>()) {}
  UvHandle(UvHandle&&) noexcept = default;
  UvHandle& operator=(UvHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::move(o.h_);
      initialized_ = o.initialized_;
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  ~UvHandle() { reset(); }

  T* get() const { return h_.get(); }
  T* operator->() const { return h_.get(); }
  uv_handle_t* handle() const { return reinterpret_cast<uv_handle_t*>(h_.get()); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(h_.get()); }

  // Call after a successful uv_*_init so the destructor knows to uv_close.
  void mark_initialized() { initialized_ = true; }
  bool initialized() const { return initialized_ && h_ != nullptr; }

  // Closes the handle (if initialized); its memory is released in the close callback.
  void reset() {
    if (!h_) return;
    if (initialized_) {
      T* raw = h_.release();
      if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(raw)))
        uv_close(reinterpret_cast<uv_handle_t*>(raw),
                 [](uv_handle_t* h) { std::unique_ptr<T> owned(reinterpret_cast<T*>(h)); });
    } else {
      h_.reset();
    }
    initialized_ = false;
  }

 private:
  std::unique_ptr<T> h_;
  bool initialized_ = false;
};

// Owns a uv_loop_t; closing walks and closes any handles left so uv_loop_close succeeds.
class UvLoop {
 public:
  UvLoop() : loop_(std::make_unique<uv_loop_t>()) { uv_loop_init(loop_.get()); }
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;
  ~UvLoop() {
    uv_walk(loop_.get(), [](uv_handle_t* h, void*) { if (!uv_is_closing(h)) uv_close(h, nullptr); }, nullptr);
    uv_run(loop_.get(), UV_RUN_DEFAULT);
    uv_loop_close(loop_.get());
  }
  uv_loop_t* get() const { return loop_.get(); }

 private:
  std::unique_ptr<uv_loop_t> loop_;
};

}  // namespace ebb
