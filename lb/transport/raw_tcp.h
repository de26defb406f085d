// Plain TCP transport over a uv_tcp_t (see transport.h for the contract).
#pragma once
#include <uv.h>

#include <string>

#include "lb/transport/transport.h"
#include "lb/unique_fd.h"

namespace ebb::lb {

class RawTcpTransport final : public Transport {
 public:
  // Thread: the loop's worker. Takes a freshly accepted connection from `server`. Returns null
  // (and the connection is dropped) if accept fails.
  static TransportPtr accept(uv_loop_t* loop, uv_stream_t* server);
  // Thread: the loop's worker. Takes a freshly accepted connection from `server` as a bare
  // descriptor, for another worker to open (connection balancing). Invalid if accept fails.
  static UniqueFd accept_fd(uv_loop_t* loop, uv_stream_t* server);
  // Thread: the loop's worker. Wraps a connected socket (from accept_fd). Null (and `fd` left
  // to close) on failure.
  static TransportPtr open(uv_loop_t* loop, UniqueFd& fd);
  // Thread: the loop's worker. Starts a non-blocking connect to `addr`; the result arrives via
  // handler->on_connect. Returns null (with *err set) if the connect could not be started.
  static TransportPtr connect(uv_loop_t* loop, const sockaddr* addr, TransportHandler* handler, int* err);

  void set_handler(TransportHandler* h) override { handler_ = h; }
  void start_reading() override;
  void stop_reading() override;
  bool reading() const override { return reading_; }
  bool write(std::string_view data) override { return write2(data, {}); }
  bool write2(std::string_view a, std::string_view b) override;
  size_t pending_write_bytes() const override { return pending_; }
  void shutdown_write() override;
  bool write_shut() const override { return shut_; }
  void close() override;
  bool peer_address(sockaddr_storage& out) const override;
  bool secure() const override { return false; }

  uv_tcp_t* tcp() { return &tcp_; }

 private:
  explicit RawTcpTransport(uv_loop_t* loop);
  struct WriteReq;
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_connect_cb(uv_connect_t* req, int status);
  static void on_shutdown_cb(uv_shutdown_t* req, int status);
  void fail(int err);

  uv_tcp_t tcp_;
  uv_connect_t connect_req_;
  uv_shutdown_t shutdown_req_;
  TransportHandler* handler_ = nullptr;
  size_t pending_ = 0;
  bool reading_ = false;
  bool shut_ = false;
  bool closed_ = false;
  bool failed_ = false;
};

}  // namespace ebb::lb
