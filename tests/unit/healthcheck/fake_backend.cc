#include "fake_backend.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace ebb::test {

struct FakeBackend::Conn {
  uv_tcp_t tcp;
  FakeBackend* owner;
  std::string in;
  std::string out;
  uv_write_t write;
  char buf[4096];
  bool answered = false;
};

namespace {
void close_conn(uv_handle_t* h) {
  if (uv_is_closing(h)) return;
  uv_close(h, [](uv_handle_t* c) {
    auto* conn = static_cast<FakeBackend::Conn*>(c->data);
    if (conn->owner) conn->owner->forget(conn);
    delete conn;
  });
}
}  // namespace

FakeBackend::FakeBackend(uv_loop_t* loop) : loop_(loop), server_(new uv_tcp_t) {
  uv_tcp_init(loop_, server_);
  server_->data = this;
  sockaddr_in a{};
  uv_ip4_addr("127.0.0.1", 0, &a);
  if (uv_tcp_bind(server_, reinterpret_cast<sockaddr*>(&a), 0) != 0 ||
      uv_listen(reinterpret_cast<uv_stream_t*>(server_), 64, &FakeBackend::on_connection) != 0)
    throw std::runtime_error("fake backend: bind/listen failed");
  sockaddr_storage got{};
  int len = sizeof got;
  uv_tcp_getsockname(server_, reinterpret_cast<sockaddr*>(&got), &len);
  port_ = ntohs(reinterpret_cast<sockaddr_in*>(&got)->sin_port);
}

FakeBackend::~FakeBackend() {
  for (Conn* c : conns_) {
    c->owner = nullptr;
    close_conn(reinterpret_cast<uv_handle_t*>(&c->tcp));
  }
  server_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(server_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
}

void FakeBackend::on_connection(uv_stream_t* server, int status) {
  auto* self = static_cast<FakeBackend*>(server->data);
  if (status != 0 || !self) return;
  auto* c = new Conn;
  c->owner = self;
  uv_tcp_init(self->loop_, &c->tcp);
  c->tcp.data = c;
  self->conns_.insert(c);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    close_conn(reinterpret_cast<uv_handle_t*>(&c->tcp));
    return;
  }
  if (self->mode_ == Mode::close) {
    close_conn(reinterpret_cast<uv_handle_t*>(&c->tcp));
    return;
  }
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t* h, size_t, uv_buf_t* b) {
        auto* conn = static_cast<Conn*>(h->data);
        *b = uv_buf_init(conn->buf, sizeof conn->buf);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
        auto* conn = static_cast<Conn*>(s->data);
        if (n < 0) return close_conn(reinterpret_cast<uv_handle_t*>(s));
        conn->in.append(b->base, static_cast<size_t>(n));
        if (conn->answered || conn->in.find("\r\n\r\n") == std::string::npos) return;
        FakeBackend* fb = conn->owner;
        fb->requests_++;
        fb->last_request_ = conn->in;
        if (fb->mode_ != Mode::respond) return;
        conn->answered = true;
        conn->out = "HTTP/1.1 " + std::to_string(fb->status_) +
                    " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        uv_buf_t wb = uv_buf_init(conn->out.data(), static_cast<unsigned>(conn->out.size()));
        uv_write(&conn->write, s, &wb, 1, [](uv_write_t* w, int) {
          close_conn(reinterpret_cast<uv_handle_t*>(w->handle));
        });
      });
}

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace ebb::test
