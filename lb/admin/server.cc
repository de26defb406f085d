#include "lb/admin/server.h"

#include <llhttp.h>
#include <netdb.h>
#include <strings.h>

#include <cstring>
#include <deque>

#include "common/log.h"

namespace ebb::lb::admin {

// One client connection. Owned by AdminServer::conns_; destroyed only from the reaper timer,
// never inside one of its own callbacks. Pending writes point back to it until it is gone.
class AdminServer::Connection {
 public:
  Connection(AdminServer& server) : server_(server) {}
  ~Connection() {
    for (WriteReq* w : pending_writes_) w->owner = nullptr;
  }

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
    settings_.on_headers_complete = [](llhttp_t* p) { return self(p)->on_headers_complete(); };
    settings_.on_body = [](llhttp_t* p, const char* at, size_t n) { return self(p)->on_body(at, n); };
    settings_.on_message_complete = [](llhttp_t* p) { return self(p)->on_message_complete(); };
    llhttp_init(&parser_, HTTP_REQUEST, &settings_);
    parser_.data = this;
    arm_timer();
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
  struct WriteReq {
    uv_write_t req;
    Connection* owner;
    std::string data;
  };

  static Connection* self(llhttp_t* p) { return static_cast<Connection*>(p->data); }

  void arm_timer() {
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
      auto* c = static_cast<Connection*>(t->data);
      c->server_.retire(c);
    }, server_.options_.idle_timeout_ms, 0);
  }

  void on_read(ssize_t n, const uv_buf_t* b) {
    if (n == 0) return;
    if (n < 0) return server_.retire(this);
    arm_timer();
    if (stop_parsing_) return;  // a final response is queued; ignore what follows
    const llhttp_errno_t err = llhttp_execute(&parser_, b->base, static_cast<size_t>(n));
    if (err == HPE_OK || err == HPE_PAUSED) return;
    if (err == HPE_USER) return;  // a limit reply was already queued by a callback
    if (!stop_parsing_) {
      send_error(400, std::string("malformed request: ") + llhttp_get_error_reason(&parser_));
    }
  }

  int on_message_begin() {
    req_ = AdminRequest{};
    head_bytes_ = 0;
    field_.clear();
    value_.clear();
    in_value_ = false;
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

  void finish_header() {
    if (in_value_ && strcasecmp(field_.c_str(), "authorization") == 0) req_.authorization = value_;
    field_.clear();
    value_.clear();
    in_value_ = false;
  }

  int on_header_field(const char* at, size_t n) {
    if (head_limit(n)) return HPE_USER;
    if (in_value_) finish_header();
    field_.append(at, n);
    return 0;
  }

  int on_header_value(const char* at, size_t n) {
    if (head_limit(n)) return HPE_USER;
    in_value_ = true;
    value_.append(at, n);
    return 0;
  }

  int on_headers_complete() {
    finish_header();
    req_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
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
    const bool head = req_.method == "HEAD";
    const AdminReply reply = handle_admin_request(server_.api_, server_.auth_, req_);
    const bool keep_alive = llhttp_should_keep_alive(&parser_);
    send(reply, keep_alive, head);
    if (!keep_alive) {
      stop_parsing_ = true;
      return HPE_PAUSED;
    }
    return 0;
  }

  void send_error(int status, const std::string& message) {
    AdminReply r{status, "application/json",
                 nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                         nlohmann::json::error_handler_t::replace),
                 {}};
    send(r, false, false);
    stop_parsing_ = true;
  }

  // Queues a response; with keep_alive false the connection closes once it is written.
  void send(const AdminReply& r, bool keep_alive, bool head_only) {
    if (closed_) return;
    auto* w = new WriteReq{{}, this, {}};
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
          std::unique_ptr<WriteReq> own(reinterpret_cast<WriteReq*>(req));
          if (own->owner) own->owner->on_written(own.get(), status);
        }) != 0) {
      delete w;
      server_.retire(this);
      return;
    }
    pending_writes_.push_back(w);
  }

  void on_written(WriteReq* w, int status) {
    if (!pending_writes_.empty() && pending_writes_.front() == w) pending_writes_.pop_front();
    if (status != 0 || (close_after_write_ && pending_writes_.empty())) server_.retire(this);
  }

  AdminServer& server_;
  UvHandle<uv_tcp_t> tcp_;
  UvHandle<uv_timer_t> timer_;
  llhttp_t parser_{};
  llhttp_settings_t settings_{};
  AdminRequest req_;
  size_t head_bytes_ = 0;
  std::string field_, value_;
  bool in_value_ = false;
  bool stop_parsing_ = false;
  bool close_after_write_ = false;
  bool closed_ = false;
  std::deque<WriteReq*> pending_writes_;
  char buf_[16 * 1024];
};

AdminServer::AdminServer(uv_loop_t* loop, ControlApi& api, AdminServerOptions options)
    : loop_(loop), api_(api), options_(std::move(options)), auth_(options_.token) {
  uv_timer_init(loop_, reaper_.get());
  reaper_.mark_initialized();
  reaper_->data = this;
}

AdminServer::~AdminServer() {
  for (auto& [raw, c] : conns_) c->close();
  for (auto& c : retired_) c->close();
  // Pending write requests see their owner gone (Connection's destructor) and just free.
}

Result<void> AdminServer::listen(const HostPort& address) {
  sockaddr_storage ss{};
  if (uv_ip4_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in*>(&ss)) != 0 &&
      uv_ip6_addr(address.host.c_str(), address.port, reinterpret_cast<sockaddr_in6*>(&ss)) != 0) {
    // A name: resolved once at start-up (blocking is fine before the loop serves anything).
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(address.host.c_str(), std::to_string(address.port).c_str(), &hints, &res);
    if (rc != 0 || !res)
      return make_error("admin listen " + address.str() + ": " + gai_strerror(rc));
    std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
  }
  uv_tcp_init(loop_, listener_.get());
  listener_.mark_initialized();
  listener_->data = this;
  int rc = uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&ss), 0);
  if (rc == 0)
    rc = uv_listen(listener_.stream(), 128, [](uv_stream_t* s, int status) {
      static_cast<AdminServer*>(s->data)->on_connection(status);
    });
  if (rc != 0) {
    listener_.reset();
    return make_error("admin listen " + address.str() + ": " + uv_strerror(rc));
  }
  sockaddr_storage bound{};
  int len = sizeof bound;
  uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {};
}

void AdminServer::on_connection(int status) {
  if (status != 0) return;
  auto c = std::make_unique<Connection>(*this);
  Connection* raw = c.get();
  if (!c->start(listener_.stream()) || conns_.size() >= options_.max_connections) {
    if (conns_.size() >= options_.max_connections)
      log::warn("admin: too many connections; closing a new one");
    c->close();
    retired_.push_back(std::move(c));
    uv_timer_start(reaper_.get(), [](uv_timer_t* t) {
      static_cast<AdminServer*>(t->data)->retired_.clear();
    }, 0, 0);
    return;
  }
  conns_.emplace(raw, std::move(c));
}

void AdminServer::retire(Connection* c) {
  auto it = conns_.find(c);
  if (it == conns_.end()) return;
  c->close();
  retired_.push_back(std::move(it->second));
  conns_.erase(it);
  uv_timer_start(reaper_.get(), [](uv_timer_t* t) {
    static_cast<AdminServer*>(t->data)->retired_.clear();
  }, 0, 0);
}

}  // namespace ebb::lb::admin
