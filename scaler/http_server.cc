#include "scaler/http_server.h"

#include <llhttp.h>

#include <cstring>

namespace ebb::scaler {
namespace {

constexpr size_t kMaxHead = 16 * 1024;
constexpr size_t kMaxConnections = 64;
constexpr uint64_t kIdleMs = 10000;

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

}  // namespace

struct HttpServer::Conn {
  HttpServer* server = nullptr;
  UvHandle<uv_tcp_t> tcp;
  UvHandle<uv_timer_t> idle;
  llhttp_t parser{};
  llhttp_settings_t settings{};
  std::string method, target, out;
  size_t seen = 0;
  bool responding = false;
  uv_write_t write_req{};
  char buf[4096];
};

HttpServer::HttpServer(uv_loop_t* loop, HttpHandler handler) : loop_(loop), handler_(std::move(handler)) {}

HttpServer::~HttpServer() = default;  // UvHandles close the listener and every connection

Result<void> HttpServer::listen(const HostPort& address) {
  sockaddr_storage ss{};
  const bool v6 = address.host.find(':') != std::string::npos;
  int rc = v6 ? uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&ss))
              : uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&ss));
  if (rc != 0) return make_error("metrics_listen: \"" + address.host + "\" is not an IP address");
  uv_tcp_init(loop_, listener_.get());
  listener_.mark_initialized();
  listener_->data = this;
  rc = uv_tcp_bind(listener_.get(), reinterpret_cast<sockaddr*>(&ss), 0);
  if (rc == 0)
    rc = uv_listen(listener_.stream(), 64, [](uv_stream_t* s, int status) {
      if (status == 0) static_cast<HttpServer*>(s->data)->accept_one();
    });
  if (rc != 0) return make_error("metrics_listen " + address.host + ":" + std::to_string(address.port) + ": " + uv_strerror(rc));
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {};
}

void HttpServer::accept_one() {
  auto c = std::make_unique<Conn>();
  c->server = this;
  uv_tcp_init(loop_, c->tcp.get());
  c->tcp.mark_initialized();
  if (uv_accept(listener_.stream(), c->tcp.stream()) != 0) return;
  if (conns_.size() >= kMaxConnections) return;  // closed by the destructor of c
  c->tcp->data = c.get();
  uv_timer_init(loop_, c->idle.get());
  c->idle.mark_initialized();
  c->idle->data = c.get();
  uv_timer_start(c->idle.get(), [](uv_timer_t* t) {
    auto* conn = static_cast<Conn*>(t->data);
    conn->server->close_conn(conn);
  }, kIdleMs, 0);

  llhttp_settings_init(&c->settings);
  c->settings.on_method = [](llhttp_t* p, const char* at, size_t n) {
    static_cast<Conn*>(p->data)->method.append(at, n);
    return 0;
  };
  c->settings.on_url = [](llhttp_t* p, const char* at, size_t n) {
    static_cast<Conn*>(p->data)->target.append(at, n);
    return 0;
  };
  c->settings.on_message_complete = [](llhttp_t* p) {
    auto* conn = static_cast<Conn*>(p->data);
    HttpReply r;
    if (conn->method != "GET" && conn->method != "HEAD") {
      r = HttpReply{405, "application/json", "{\"error\": \"only GET\"}\n"};
    } else {
      r = conn->server->handler_(conn->method, conn->target);
    }
    conn->out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\nContent-Type: " +
                r.content_type + "\r\nContent-Length: " + std::to_string(r.body.size()) +
                "\r\nConnection: close\r\n\r\n" + (conn->method == "HEAD" ? std::string() : r.body);
    return static_cast<int>(HPE_PAUSED);  // one request per connection
  };
  llhttp_init(&c->parser, HTTP_REQUEST, &c->settings);
  c->parser.data = c.get();

  uv_read_start(
      c->tcp.stream(),
      [](uv_handle_t* h, size_t, uv_buf_t* b) {
        auto* conn = static_cast<Conn*>(h->data);
        *b = uv_buf_init(conn->buf, sizeof conn->buf);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
        auto* conn = static_cast<Conn*>(s->data);
        if (n < 0) return conn->server->close_conn(conn);
        if (n == 0 || conn->responding) return;
        conn->seen += static_cast<size_t>(n);
        int status = 0;
        if (conn->seen > kMaxHead) {  // GET requests have no body: all of it is head
          status = 431;
        } else {
          llhttp_errno_t err = llhttp_execute(&conn->parser, b->base, static_cast<size_t>(n));
          if (err == HPE_PAUSED) status = 200;  // out is ready
          else if (err != HPE_OK) status = 400;
        }
        if (status == 0) return;
        if (status != 200)
          conn->out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) +
                      "\r\nContent-Type: application/json\r\nContent-Length: 31\r\nConnection: close\r\n\r\n"
                      "{\"error\": \"malformed request\"}\n";
        conn->responding = true;
        uv_read_stop(s);
        uv_buf_t out = uv_buf_init(conn->out.data(), static_cast<unsigned>(conn->out.size()));
        conn->write_req.data = conn;
        uv_write(&conn->write_req, s, &out, 1, [](uv_write_t* w, int) {
          auto* c2 = static_cast<Conn*>(w->data);
          c2->server->close_conn(c2);
        });
      });
  Conn* raw = c.get();
  conns_.emplace(raw, std::move(c));
}

void HttpServer::close_conn(Conn* c) {
  // Erasing closes the handles (their memory is freed in the close callbacks, DESIGN.md point 8).
  conns_.erase(c);
}

}  // namespace ebb::scaler
