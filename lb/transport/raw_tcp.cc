#include "lb/transport/raw_tcp.h"

#include <fcntl.h>

#include <cstring>
#include <string>

namespace ebb::lb {

namespace {
// One read buffer per worker thread: every read is consumed (forwarded, parsed or copied) before
// the read callback returns, so reads never overlap.
constexpr size_t kReadBufferSize = 64 * 1024;
thread_local char t_read_buffer[kReadBufferSize];
}  // namespace

// A write that could not complete at once: owns the unsent bytes until libuv is done with them.
struct RawTcpTransport::WriteReq {
  uv_write_t req;
  std::string data;
  RawTcpTransport* owner;
};

RawTcpTransport::RawTcpTransport(uv_loop_t* loop) {
  uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
}

TransportPtr RawTcpTransport::accept(uv_loop_t* loop, uv_stream_t* server) {
  TransportPtr t(new RawTcpTransport(loop));
  auto* raw = static_cast<RawTcpTransport*>(t.get());
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&raw->tcp_)) != 0) return nullptr;
  uv_tcp_nodelay(&raw->tcp_, 1);
  return t;
}

UniqueFd RawTcpTransport::accept_fd(uv_loop_t* loop, uv_stream_t* server) {
  // libuv has already accepted the connection and only hands it over through uv_accept, into a
  // handle of this loop: keep a second descriptor and close the handle.
  TransportPtr t = accept(loop, server);
  if (!t) return UniqueFd();
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(static_cast<RawTcpTransport*>(t.get())->tcp()), &fd) != 0)
    return UniqueFd();
  return UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
}

TransportPtr RawTcpTransport::open(uv_loop_t* loop, UniqueFd& fd) {
  TransportPtr t(new RawTcpTransport(loop));
  auto* raw = static_cast<RawTcpTransport*>(t.get());
  if (uv_tcp_open(&raw->tcp_, fd.get()) != 0) return nullptr;
  fd.release();  // the handle owns it now; TCP_NODELAY was set when it was accepted
  return t;
}

TransportPtr RawTcpTransport::connect(uv_loop_t* loop, const sockaddr* addr, TransportHandler* handler,
                                      int* err) {
  TransportPtr t(new RawTcpTransport(loop));
  auto* raw = static_cast<RawTcpTransport*>(t.get());
  raw->handler_ = handler;
  raw->connect_req_.data = raw;
  int rc = uv_tcp_connect(&raw->connect_req_, &raw->tcp_, addr, on_connect_cb);
  if (rc != 0) {
    if (err) *err = rc;
    return nullptr;
  }
  uv_tcp_nodelay(&raw->tcp_, 1);
  return t;
}

void RawTcpTransport::on_connect_cb(uv_connect_t* req, int status) {
  auto* self = static_cast<RawTcpTransport*>(req->data);
  if (self->closed_) return;  // cancelled by close(); memory freed in the close callback
  if (self->handler_) self->handler_->on_connect(*self, status);
}

void RawTcpTransport::start_reading() {
  if (reading_ || closed_ || failed_) return;
  if (uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read_cb) == 0) reading_ = true;
}

void RawTcpTransport::stop_reading() {
  if (!reading_) return;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  reading_ = false;
}

void RawTcpTransport::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = t_read_buffer;
  buf->len = kReadBufferSize;
}

void RawTcpTransport::on_read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<RawTcpTransport*>(s->data);
  if (self->closed_ || self->handler_ == nullptr) return;
  if (n > 0) {
    self->handler_->on_read(*self, buf->base, static_cast<size_t>(n));
  } else if (n == UV_EOF) {
    self->stop_reading();
    self->handler_->on_eof(*self);
  } else if (n < 0) {
    self->fail(static_cast<int>(n));
  }
}

void RawTcpTransport::fail(int err) {
  if (failed_ || closed_) return;
  failed_ = true;
  stop_reading();
  if (handler_) handler_->on_error(*this, err);
}

bool RawTcpTransport::write2(std::string_view a, std::string_view b) {
  if (closed_ || failed_ || shut_) return false;
  if (a.empty() && b.empty()) return true;
  size_t written = 0;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  if (pending_ == 0) {
    uv_buf_t bufs[2];
    unsigned n = 0;
    if (!a.empty()) bufs[n++] = uv_buf_init(const_cast<char*>(a.data()), static_cast<unsigned>(a.size()));
    if (!b.empty()) bufs[n++] = uv_buf_init(const_cast<char*>(b.data()), static_cast<unsigned>(b.size()));
    int rc = uv_try_write(stream, bufs, n);
    if (rc > 0) written = static_cast<size_t>(rc);
    // On a hard error, fall through: uv_write reports it asynchronously through on_write_cb.
  }
  size_t total = a.size() + b.size();
  if (written == total) return true;
  auto* req = new WriteReq;
  req->owner = this;
  req->data.reserve(total - written);
  if (written < a.size()) {
    req->data.append(a.substr(written));
    req->data.append(b);
  } else {
    req->data.append(b.substr(written - a.size()));
  }
  req->req.data = req;
  uv_buf_t buf = uv_buf_init(req->data.data(), static_cast<unsigned>(req->data.size()));
  int rc = uv_write(&req->req, stream, &buf, 1, on_write_cb);
  if (rc != 0) {
    delete req;
    failed_ = true;
    return false;
  }
  pending_ += req->data.size();
  return true;
}

void RawTcpTransport::on_write_cb(uv_write_t* r, int status) {
  std::unique_ptr<WriteReq> req(static_cast<WriteReq*>(r->data));
  RawTcpTransport* self = req->owner;
  self->pending_ -= req->data.size();
  if (self->closed_) return;
  if (status < 0) {
    self->fail(status);
    return;
  }
  if (self->handler_) self->handler_->on_write_progress(*self);
}

void RawTcpTransport::shutdown_write() {
  if (shut_ || closed_) return;
  shut_ = true;
  if (failed_) return;
  shutdown_req_.data = this;
  uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_), on_shutdown_cb);
}

void RawTcpTransport::on_shutdown_cb(uv_shutdown_t*, int) {}

void RawTcpTransport::close() {
  if (closed_) return;
  closed_ = true;
  handler_ = nullptr;
  reading_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
           [](uv_handle_t* h) { delete static_cast<RawTcpTransport*>(h->data); });
}

bool RawTcpTransport::peer_address(sockaddr_storage& out) const {
  int len = sizeof out;
  return uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&out), &len) == 0;
}

}  // namespace ebb::lb
