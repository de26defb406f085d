#include "tests/support/backend_conn.h"

#include <sys/socket.h>

#include <memory>

#include "tests/support/backend_server.h"

namespace ebb::testbackend {

struct Conn::WriteReq {
  uv_write_t req{};
  Conn* conn = nullptr;
  std::string owned;
  uv_buf_t buf{};
  int tag = 0;
};

Conn::Conn(Server& server) : server_(server) { tcp_.data = this; }

Conn::~Conn() = default;

uv_loop_t* Conn::loop() const { return server_.loop(); }

void Conn::accept_from(uv_stream_t* listener) {
  uv_tcp_init(loop(), &tcp_);
  if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0) {
    close();
    return;
  }
  uv_tcp_nodelay(&tcp_, 1);
  resume_reading();
  if (!closing_) on_accepted();
}

void Conn::close() {
  if (closing_) return;
  closing_ = true;
  linger_timer_.reset();
  on_closing();
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), [](uv_handle_t* h) {
    auto* self = static_cast<Conn*>(h->data);
    self->server_.release(self);  // frees self
  });
}

void Conn::reset() {
  if (closing_) return;
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) == 0) {
    struct linger lg {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  close();
}

void Conn::close_gracefully() {
  if (closing_ || shutdown_started_) return;
  shutdown_started_ = true;
  lingering_ = true;
  auto req = std::make_unique<uv_shutdown_t>();  // owned by libuv until the callback
  req->data = this;
  int rc = uv_shutdown(req.get(), reinterpret_cast<uv_stream_t*>(&tcp_), [](uv_shutdown_t* r, int status) {
    std::unique_ptr<uv_shutdown_t> owned(r);
    auto* self = static_cast<Conn*>(r->data);
    if (self->closing_) return;
    if (status != 0 || self->peer_eof_) {
      self->close();
      return;
    }
    // Drain what the peer still sends so our close does not turn into an RST that could
    // destroy the response in flight; give up after kLingerMs.
    if (uv_timer_init(self->loop(), self->linger_timer_.get()) == 0) {
      self->linger_timer_.mark_initialized();
      self->linger_timer_->data = self;
      uv_timer_start(self->linger_timer_.get(), [](uv_timer_t* t) { static_cast<Conn*>(t->data)->close(); },
                     kLingerMs, 0);
    }
    self->resume_reading();
  });
  if (rc != 0) {
    close();
    return;
  }
  req.release();
}

void Conn::write_owned(std::string data, int tag) {
  auto req = std::make_unique<WriteReq>();
  req->owned = std::move(data);
  req->buf = uv_buf_init(req->owned.data(), static_cast<unsigned>(req->owned.size()));
  req->tag = tag;
  queue_write(std::move(req));
}

void Conn::write_static(const char* data, size_t len, int tag) {
  auto req = std::make_unique<WriteReq>();
  req->buf = uv_buf_init(const_cast<char*>(data), static_cast<unsigned>(len));
  req->tag = tag;
  queue_write(std::move(req));
}

void Conn::queue_write(std::unique_ptr<WriteReq> req) {
  if (closing_ || shutdown_started_) return;
  req->conn = this;
  req->req.data = req.get();
  ++writes_in_flight_;
  int rc = uv_write(&req->req, reinterpret_cast<uv_stream_t*>(&tcp_), &req->buf, 1, [](uv_write_t* w, int status) {
    std::unique_ptr<WriteReq> owned(static_cast<WriteReq*>(w->data));
    Conn* self = owned->conn;  // alive: write callbacks run before the close callback
    --self->writes_in_flight_;
    if (self->closing_) return;
    if (status != 0) {
      self->close();
      return;
    }
    self->on_write_done(owned->tag);
  });
  if (rc != 0) {
    --writes_in_flight_;
    close();
    return;
  }
  req.release();  // the write callback owns it now
}

size_t Conn::write_queue_bytes() const {
  return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_));
}

void Conn::pause_reading() {
  want_reading_ = false;
  if (reading_) {
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    reading_ = false;
  }
}

void Conn::resume_reading() {
  want_reading_ = true;
  if (reading_ || closing_ || peer_eof_) return;
  int rc = uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp_),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<Conn*>(h->data);
        *buf = uv_buf_init(self->server_.read_buffer(), Server::kReadBufferSize);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) { static_cast<Conn*>(s->data)->on_read(nread, buf); });
  if (rc != 0) {
    close();
    return;
  }
  reading_ = true;
}

void Conn::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (closing_ || nread == 0) return;
  if (nread == UV_EOF) {
    peer_eof_ = true;
    reading_ = false;
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
    if (lingering_) {
      if (linger_timer_.initialized()) close();
      // else the shutdown is still pending: its callback sees peer_eof_ and closes
      return;
    }
    on_eof();
    return;
  }
  if (nread < 0) {
    close();
    return;
  }
  if (lingering_) return;  // discard
  on_data(buf->base, static_cast<size_t>(nread));
}

}  // namespace ebb::testbackend
