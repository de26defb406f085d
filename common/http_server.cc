#include "common/http_server.h"

#include <llhttp.h>
#include <netdb.h>
#include <strings.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <deque>

#include "common/log.h"

namespace ebb {
namespace {

const char* status_reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
  }
  return "Status";
}

// {"error":"message"}: the server's own messages, escaped as JSON strings (non-ASCII bytes,
// which none of them has, become '?' so the body is always valid UTF-8).
std::string error_body(std::string_view message) {
  std::string out = "{\"error\":\"";
  for (char c : message) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", u);
      out += esc;
    } else {
      out += u < 0x80 ? c : '?';
    }
  }
  out += "\"}";
  return out;
}

}  // namespace

const std::string* HttpServer::Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return &v;
  return nullptr;
}

// One client connection. Owned by HttpServer::conns_; destroyed only from the reaper timer (or
// the server's destructor), never inside one of its own callbacks. Pending writes point back to
// it until it is gone.
class HttpServer::Connection {
 public:
  explicit Connection(HttpServer& server) : server_(server) {}
  ~Connection() {
    for (WriteReq* w : pending_writes_) w->owner = nullptr;
  }

  // Accepts the pending connection on `listener` and starts reading. False: close it.
  bool start(uv_stream_t* listener) {
    uv_tcp_init(server_.loop_, tcp_.get());
    tcp_.mark_initialized();
    tcp_->data = this;
    uv_timer_init(server_.loop_, timer_.get());
    timer_.mark_initialized();
    timer_->data = this;
    if (uv_accept(listener, tcp_.stream()) != 0) return false;
    llhttp_settings_init(&settings_);
    settings_.on_message_begin = [](llhttp_t* p) { return self(p)->on_message_begin(); };
    settings_.on_url = [](llhttp_t* p, const char* at, size_t n) { return self(p)->on_url(at, n); };
    settings_.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
      return self(p)->on_header_field(at, n);
    };
    settings_.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
      return self(p)->on_header_value(at, n);
    };
    settings_.on_header_value_complete = [](llhttp_t* p) { return self(p)->on_header_value_complete(); };
    settings_.on_headers_complete = [](llhttp_t* p) { return self(p)->on_headers_complete(); };
    settings_.on_body = [](llhttp_t* p, const char* at, size_t n) { return self(p)->on_body(at, n); };
    settings_.on_message_complete = [](llhttp_t* p) { return self(p)->on_message_complete(); };
    llhttp_init(&parser_, HTTP_REQUEST, &settings_);
    parser_.data = this;
    arm_timer();  // the first request must arrive in time
    return uv_read_start(
               tcp_.stream(),
               [](uv_handle_t* h, size_t, uv_buf_t* b) {
                 auto* c = static_cast<Connection*>(h->data);
                 *b = uv_buf_init(c->buf_, sizeof c->buf_);
               },
               [](uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
                 static_cast<Connection*>(s->data)->on_read(n, b);
               }) == 0;
  }

  // Stops all I/O now (handles close); the object itself is freed later by the server.
  void close() {
    if (closed_) return;
    closed_ = true;
    tcp_.reset();
    timer_.reset();
  }

 private:
  // Owns itself while libuv holds it: the callback runs even after the handle closed
  // (UV_ECANCELED), and then only frees it.
  struct WriteReq {
    uv_write_t req;
    Connection* owner;
    std::string data;
  };

  static Connection* self(llhttp_t* p) { return static_cast<Connection*>(p->data); }

  // One timer bounds both the wait for a request and the time to receive all of it (re-armed
  // when a request begins and when a response is queued, not on every read), so a client that
  // trickles a request cannot hold a connection forever.
  void arm_timer() {
    if (closed_) return;
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
      auto* c = static_cast<Connection*>(t->data);
      c->server_.retire(c);
    }, server_.options_.idle_timeout_ms, 0);
  }

  void on_read(ssize_t n, const uv_buf_t* b) {
    if (n == 0) return;
    if (n < 0) {
      // A client that half-closes after its request still gets the response being written.
      if (n == UV_EOF && !pending_writes_.empty()) {
        stop_parsing_ = true;
        close_after_write_ = true;
        uv_read_stop(tcp_.stream());
        return;
      }
      return server_.retire(this);
    }
    if (stop_parsing_ || closed_) return;  // a final response is queued; ignore what follows
    const llhttp_errno_t err = llhttp_execute(&parser_, b->base, static_cast<size_t>(n));
    if (err == HPE_OK || err == HPE_PAUSED) return;
    if (err == HPE_USER) return;  // a limit reply was already queued by a callback
    if (!stop_parsing_ && !closed_) {
      send_error(400, std::string("malformed request: ") + llhttp_get_error_reason(&parser_));
    }
  }

  int on_message_begin() {
    req_ = Request{};
    head_bytes_ = 0;
    field_.clear();
    value_.clear();
    arm_timer();
    return 0;
  }

  bool head_limit(size_t n) {
    head_bytes_ += n;
    if (head_bytes_ <= server_.options_.max_head_bytes) return false;
    send_error(431, "request head too large");
    return true;
  }

  int on_url(const char* at, size_t n) {
    if (head_limit(n)) return HPE_USER;
    req_.target.append(at, n);
    return 0;
  }

  int on_header_field(const char* at, size_t n) {
    if (head_limit(n)) return HPE_USER;
    field_.append(at, n);
    return 0;
  }

  int on_header_value(const char* at, size_t n) {
    if (head_limit(n)) return HPE_USER;
    value_.append(at, n);
    return 0;
  }

  int on_header_value_complete() {
    req_.headers.emplace_back(std::move(field_), std::move(value_));
    field_.clear();
    value_.clear();
    return 0;
  }

  int on_headers_complete() {
    req_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
    const auto& methods = server_.options_.methods;
    if (!methods.empty() && std::find(methods.begin(), methods.end(), req_.method) == methods.end()) {
      send_error(405, "method " + req_.method + " not allowed", {{"Allow", server_.allow_}});
      return HPE_PAUSED;  // before reading any body
    }
    if (parser_.flags & F_CONTENT_LENGTH && parser_.content_length > server_.options_.max_body_bytes)
      return too_large();  // answer at once instead of reading a body we will not keep
    return 0;
  }

  int too_large() {
    send_error(413, "request body too large (limit " +
                        std::to_string(server_.options_.max_body_bytes) + " bytes)");
    return HPE_PAUSED;
  }

  int on_body(const char* at, size_t n) {
    if (req_.body.size() + n > server_.options_.max_body_bytes) return too_large();
    req_.body.append(at, n);
    return 0;
  }

  int on_message_complete() {
    const Reply reply = server_.handler_(req_);
    // An Upgrade or CONNECT request is answered like any other, then the connection closes:
    // there is no other protocol here to switch to.
    const bool keep_alive =
        server_.options_.keep_alive && llhttp_should_keep_alive(&parser_) && !parser_.upgrade;
    send(reply, keep_alive, req_.method == "HEAD");
    if (!keep_alive || closed_) {
      stop_parsing_ = true;
      return HPE_PAUSED;
    }
    arm_timer();  // idle until the next request
    return 0;
  }

  // The server's own answers (limits, malformed input): JSON, and the connection closes after.
  void send_error(int status, const std::string& message,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    send(Reply{status, "application/json", error_body(message), std::move(headers)}, false, false);
    stop_parsing_ = true;
  }

  // Queues a response; with keep_alive false the connection closes once it is written.
  void send(const Reply& r, bool keep_alive, bool head_only) {
    if (closed_) return;
    auto w = std::make_unique<WriteReq>();
    w->owner = this;
    w->req.data = w.get();
    std::string& d = w->data;
    d = "HTTP/1.1 " + std::to_string(r.status) + " " + status_reason(r.status) + "\r\n";
    d += "Content-Type: " + r.content_type + "\r\n";
    d += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    d += "Cache-Control: no-store\r\n";
    for (const auto& [k, v] : r.headers) d += k + ": " + v + "\r\n";
    if (!keep_alive) d += "Connection: close\r\n";
    d += "\r\n";
    if (!head_only) d += r.body;
    if (!keep_alive) close_after_write_ = true;
    uv_buf_t buf = uv_buf_init(d.data(), static_cast<unsigned>(d.size()));
    if (uv_write(&w->req, tcp_.stream(), &buf, 1, [](uv_write_t* req, int status) {
          std::unique_ptr<WriteReq> own(static_cast<WriteReq*>(req->data));
          if (own->owner) own->owner->on_written(own.get(), status);
        }) != 0) {
      server_.retire(this);
      return;
    }
    pending_writes_.push_back(w.release());  // owned by libuv until the write callback
  }

  void on_written(WriteReq* w, int status) {
    if (!pending_writes_.empty() && pending_writes_.front() == w) pending_writes_.pop_front();
    if (status != 0 || (close_after_write_ && pending_writes_.empty())) server_.retire(this);
  }

  HttpServer& server_;
  UvHandle<uv_tcp_t> tcp_;
  UvHandle<uv_timer_t> timer_;
  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  Request req_;
  size_t head_bytes_ = 0;
  std::string field_, value_;
  bool stop_parsing_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;
  std::deque<WriteReq*> pending_writes_;
  char buf_[16 * 1024];
};

HttpServer::HttpServer(uv_loop_t* loop, Options options, Handler handler)
    : loop_(loop), options_(std::move(options)), handler_(std::move(handler)) {
  for (const std::string& m : options_.methods) allow_ += (allow_.empty() ? "" : ", ") + m;
  uv_timer_init(loop_, reaper_.get());
  reaper_.mark_initialized();
  reaper_->data = this;
}

HttpServer::~HttpServer() {
  for (auto& [raw, c] : conns_) c->close();
  for (auto& c : retired_) c->close();
  // Pending write requests see their owner gone (Connection's destructor) and just free.
}

Result<void> HttpServer::listen(const HostPort& address) {
  const std::string what = options_.name + " listen " + address.str() + ": ";
  sockaddr_storage ss{};
  if (uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&ss)) != 0 &&
      uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&ss)) != 0) {
    // A name: resolved once at start-up (blocking is fine before the loop serves anything).
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(), &hints, &res);
    if (rc != 0 || !res) {
      if (res) freeaddrinfo(res);
      return make_error(what + gai_strerror(rc));
    }
    std::memcpy(&ss, res->ai_addr, std::min<size_t>(res->ai_addrlen, sizeof ss));
    freeaddrinfo(res);
  }
  uv_tcp_init(loop_, listener_.get());
  listener_.mark_initialized();
  listener_->data = this;
  int rc = uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&ss), 0);
  if (rc == 0)
    rc = uv_listen(listener_.stream(), 128, [](uv_stream_t* s, int status) {
      static_cast<HttpServer*>(s->data)->on_connection(status);
    });
  if (rc != 0) {
    listener_.reset();
    return make_error(what + uv_strerror(rc));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {};
}

void HttpServer::on_connection(int status) {
  if (status != 0) return;
  auto c = std::make_unique<Connection>(*this);
  Connection* raw = c.get();
  const bool full = conns_.size() >= options_.max_connections;
  if (!c->start(listener_.stream()) || full) {
    if (full) log::warn(options_.name + ": too many connections; closing a new one");
    c->close();
    retired_.push_back(std::move(c));
    uv_timer_start(reaper_.get(), [](uv_timer_t* t) {
      static_cast<HttpServer*>(t->data)->retired_.clear();
    }, 0, 0);
    return;
  }
  conns_.emplace(raw, std::move(c));
}

void HttpServer::retire(Connection* c) {
  auto it = conns_.find(c);
  if (it == conns_.end()) return;
  c->close();
  retired_.push_back(std::move(it->second));
  conns_.erase(it);
  uv_timer_start(reaper_.get(), [](uv_timer_t* t) {
    static_cast<HttpServer*>(t->data)->retired_.clear();
  }, 0, 0);
}

}  // namespace ebb
