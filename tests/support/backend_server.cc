#include "tests/support/backend_server.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <vector>

#include "tests/support/backend_conn.h"
#include "tests/support/http_conn.h"
#include "tests/support/tcp_echo_conn.h"

namespace ebb::testbackend {

Server::Server(uv_loop_t* loop, Options options)
    : loop_(loop), options_(std::move(options)), healthy_(!options_.start_unhealthy),
      read_buffer_(std::make_unique<char[]>(kReadBufferSize)) {}

Server::~Server() = default;

Result<void> Server::start() {
  sockaddr_storage addr{};
  const std::string& host = options_.listen.host;
  if (uv_ip4_addr(host.c_str(), options_.listen.port, reinterpret_cast<sockaddr_in*>(&addr)) != 0 &&
      uv_ip6_addr(host.c_str(), options_.listen.port, reinterpret_cast<sockaddr_in6*>(&addr)) != 0) {
    // A name ("localhost"): resolved once at start-up, before the loop runs (a NULL callback
    // makes uv_getaddrinfo synchronous).
    uv_getaddrinfo_t req{};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    const std::string port = std::to_string(options_.listen.port);
    if (int rc = uv_getaddrinfo(loop_, &req, nullptr, host.c_str(), port.c_str(), &hints); rc != 0)
      return make_error("cannot resolve " + host + ": " + uv_strerror(rc));
    std::memcpy(&addr, req.addrinfo->ai_addr, std::min<size_t>(req.addrinfo->ai_addrlen, sizeof addr));
    uv_freeaddrinfo(req.addrinfo);
  }

  if (int rc = uv_tcp_init(loop_, listener_.get()); rc != 0)
    return make_error(std::string("uv_tcp_init: ") + uv_strerror(rc));
  listener_.mark_initialized();
  listener_->data = this;
  if (int rc = uv_tcp_bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), 0); rc != 0)
    return make_error("bind " + options_.listen.str() + ": " + uv_strerror(rc));
  if (int rc = uv_listen(listener_.stream(), 1024,
                         [](uv_stream_t* s, int status) { static_cast<Server*>(s->data)->on_connection(status); });
      rc != 0)
    return make_error("listen " + options_.listen.str() + ": " + uv_strerror(rc));

  for (auto [handle, sig] : {std::pair{&sigterm_, SIGTERM}, std::pair{&sigint_, SIGINT}}) {
    if (int rc = uv_signal_init(loop_, handle->get()); rc != 0)
      return make_error(std::string("uv_signal_init: ") + uv_strerror(rc));
    handle->mark_initialized();
    (*handle)->data = this;
    uv_signal_start(handle->get(), [](uv_signal_t* s, int) { static_cast<Server*>(s->data)->stop(); }, sig);
  }
  return {};
}

void Server::on_connection(int status) {
  if (status != 0 || stopped_) return;
  std::unique_ptr<Conn> conn;
  if (options_.tcp_echo)
    conn = std::make_unique<TcpEchoConn>(*this);
  else
    conn = std::make_unique<HttpConn>(*this);
  Conn* raw = conn.get();
  conns_.emplace(raw, std::move(conn));
  raw->accept_from(listener_.stream());
}

void Server::release(Conn* conn) { conns_.erase(conn); }

void Server::stop() {
  if (stopped_) return;
  stopped_ = true;
  listener_.reset();
  sigterm_.reset();
  sigint_.reset();
  std::vector<Conn*> open;
  open.reserve(conns_.size());
  for (auto& [raw, owned] : conns_) open.push_back(raw);
  for (Conn* c : open) c->close();
}

}  // namespace ebb::testbackend
