#include "common/http_client.h"

#include <llhttp.h>
#include <strings.h>

#include <algorithm>
#include <cstring>

#include "common/uv.h"

namespace ebb {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

// Header values and request targets must not smuggle line breaks or control bytes.
bool is_clean(std::string_view s, bool allow_space) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0x7f || (u < 0x20 && !(allow_space && c == '\t')) || (!allow_space && c == ' ')) return false;
  }
  return true;
}

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" || method == "OPTIONS";
}

std::string ms_text(Duration d) { return std::to_string(d.count()) + "ms"; }

}  // namespace

const std::string* HttpResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return &v;
  return nullptr;
}

Result<HttpUrl> parse_http_url(std::string_view url) {
  std::string_view rest = url;
  if (rest.size() >= 8 && iequals(rest.substr(0, 8), "https://"))
    return make_error("invalid URL \"" + std::string(url) + "\": https is not supported");
  if (rest.size() >= 7 && iequals(rest.substr(0, 7), "http://")) rest.remove_prefix(7);
  else if (rest.find("://") != std::string_view::npos)
    return make_error("invalid URL \"" + std::string(url) + "\": only http:// is supported");
  size_t end = rest.find_first_of("/?");
  std::string authority(rest.substr(0, end));
  HttpUrl out;
  if (end != std::string_view::npos) {
    out.path = std::string(rest.substr(end));
    if (out.path.front() == '?') out.path.insert(0, "/");
  }
  if (authority.find('@') != std::string::npos)
    return make_error("invalid URL \"" + std::string(url) + "\": user info is not supported");
  // Default port 80 when the authority has none ("host", "[v6]").
  size_t bracket = authority.rfind(']');
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) authority += ":80";
  auto hp = parse_host_port(authority);
  if (!hp) return make_error("invalid URL \"" + std::string(url) + "\": " + hp.error());
  if (!is_clean(out.path, false)) return make_error("invalid URL \"" + std::string(url) + "\": bad path");
  out.target = std::move(*hp);
  return out;
}

// One TCP connection. Owned by HttpClient::connections_ while open; after close_connection()
// it owns itself until its close callback frees it (DESIGN.md point 8). Every libuv callback
// checks `closing` first: write/connect callbacks may still run (UV_ECANCELED) after the
// client let go of it.
struct HttpClient::Connection {
  uv_tcp_t tcp{};
  uv_connect_t connect_req{};
  uv_write_t write_req{};
  std::string out;  // the request being written
  HttpClient* client = nullptr;
  std::string key;  // host:port
  Exchange* exchange = nullptr;  // the request using it; nullptr when idle
  llhttp_t parser{};
  std::string field, value;  // header being parsed
  bool closing = false;
  bool message_done = false;
  bool body_too_large = false;
  bool head_too_large = false;
  size_t head_bytes = 0;
  uint64_t idle_since = 0;

  static constexpr size_t kMaxHead = 64 * 1024;  // status line + headers
  // Counts head bytes; -1 (an llhttp callback error) once past kMaxHead.
  int count_head(size_t len) {
    if ((head_bytes += len) <= kMaxHead) return 0;
    head_too_large = true;
    return -1;
  }

  static const llhttp_settings_t& settings();
};

struct HttpClient::Resolve {
  uv_getaddrinfo_t req{};
  Exchange* owner = nullptr;  // nullptr once the exchange is gone: the callback only cleans up
};

struct HttpClient::Exchange {
  HttpClient* client = nullptr;
  RequestId id = 0;
  HttpRequest req;
  HttpCallback cb;
  std::string key;   // host:port
  std::string what;  // "GET host:port/path", for messages
  UvHandle<uv_timer_t> total_timer;
  UvHandle<uv_timer_t> connect_timer;
  UvHandle<uv_timer_t> defer_timer;
  std::string deferred_error;
  Resolve* resolve = nullptr;
  std::vector<sockaddr_storage> addresses;  // resolved, tried in order on connect errors
  size_t next_address = 0;
  Connection* conn = nullptr;
  HttpResponse response;
  bool reused = false;   // sent on a kept-alive connection
  bool retried = false;
  bool got_bytes = false;

  ~Exchange() {
    if (resolve) {
      resolve->owner = nullptr;
      uv_cancel(reinterpret_cast<uv_req_t*>(&resolve->req));
    }
  }

  void start_timer(UvHandle<uv_timer_t>& t, uint64_t ms, uv_timer_cb cb) {
    if (!t.initialized()) {
      uv_timer_init(client->loop_, t.get());
      t.mark_initialized();
      t->data = this;
    }
    uv_timer_start(t.get(), cb, ms, 0);
  }
};

const llhttp_settings_t& HttpClient::Connection::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_status = [](llhttp_t* p, const char*, size_t len) {
      return static_cast<Connection*>(p->data)->count_head(len);
    };
    s.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = static_cast<Connection*>(p->data);
      c->field.append(at, len);
      return c->count_head(len);
    };
    s.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = static_cast<Connection*>(p->data);
      c->value.append(at, len);
      return c->count_head(len);
    };
    s.on_header_value_complete = [](llhttp_t* p) {
      auto* c = static_cast<Connection*>(p->data);
      c->exchange->response.headers.emplace_back(std::move(c->field), std::move(c->value));
      c->field.clear();
      c->value.clear();
      return 0;
    };
    s.on_headers_complete = [](llhttp_t* p) {
      auto* c = static_cast<Connection*>(p->data);
      c->exchange->response.status = llhttp_get_status_code(p);
      // A response to HEAD has no body whatever its headers say.
      if (c->exchange->req.method == "HEAD") return 1;
      // Refuse a declared length past the cap before reading any of it.
      if ((p->flags & F_CONTENT_LENGTH) && p->content_length > c->exchange->req.max_body) {
        c->body_too_large = true;
        return -1;
      }
      return 0;
    };
    s.on_body = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = static_cast<Connection*>(p->data);
      auto& body = c->exchange->response.body;
      if (body.size() + len > c->exchange->req.max_body) {
        c->body_too_large = true;
        return -1;
      }
      body.append(at, len);
      return 0;
    };
    s.on_message_complete = [](llhttp_t* p) {
      auto* c = static_cast<Connection*>(p->data);
      auto& r = c->exchange->response;
      if (r.status >= 100 && r.status < 200 && r.status != 101) {
        r = HttpResponse{};  // interim response (100 Continue): the real one follows
        c->head_bytes = 0;
        return 0;
      }
      c->message_done = true;
      return static_cast<int>(HPE_PAUSED);
    };
    return s;
  }();
  return s;
}

HttpClient::HttpClient(uv_loop_t* loop) : HttpClient(loop, Options{}) {}

HttpClient::HttpClient(uv_loop_t* loop, Options options)
    : loop_(loop), options_(options), read_buffer_(std::make_unique<char[]>(kReadBufferSize)) {}

HttpClient::~HttpClient() {
  exchanges_.clear();  // abandons requests: timers close, pending resolves are detached
  std::vector<Connection*> open;
  open.reserve(connections_.size());
  for (auto& [raw, owned] : connections_) open.push_back(raw);
  for (Connection* c : open) close_connection(c);
}

size_t HttpClient::idle_connections() const {
  size_t n = 0;
  for (const auto& [key, conns] : idle_) n += conns.size();
  return n;
}

HttpClient::RequestId HttpClient::request(HttpRequest req, HttpCallback cb) {
  auto owned = std::make_unique<Exchange>();
  Exchange* ex = owned.get();
  ex->client = this;
  ex->id = next_id_++;
  const RequestId id = ex->id;
  ex->key = req.target.str();
  ex->what = req.method + " " + ex->key + req.path;
  ex->req = std::move(req);
  ex->cb = std::move(cb);
  exchanges_.emplace(id, std::move(owned));

  const HttpRequest& r = ex->req;
  std::string invalid;
  if (!is_token(r.method))
    invalid = "invalid method";
  else if (r.path.empty() || (r.path.front() != '/' && r.path != "*") || !is_clean(r.path, false))
    invalid = "invalid path (must start with '/', no spaces or control bytes)";
  else if (r.target.host.empty() || r.target.port == 0)
    invalid = "invalid target address";
  for (const auto& [k, v] : r.headers)
    if (invalid.empty() && (!is_token(k) || !is_clean(v, true))) invalid = "invalid header \"" + k + "\"";
  if (!invalid.empty()) {
    fail_later(ex, invalid);
    return id;
  }

  ex->start_timer(ex->total_timer, static_cast<uint64_t>(std::max<int64_t>(0, r.timeout.count())),
                  [](uv_timer_t* t) {
                    auto* e = static_cast<Exchange*>(t->data);
                    e->client->fail(e, "timed out after " + ms_text(e->req.timeout));
                  });
  start(ex, /*allow_idle=*/true);
  return id;
}

bool HttpClient::cancel(RequestId id) {
  auto it = exchanges_.find(id);
  if (it == exchanges_.end()) return false;
  std::unique_ptr<Exchange> owned = std::move(it->second);
  exchanges_.erase(it);
  if (Connection* c = owned->conn) {
    c->exchange = nullptr;
    owned->conn = nullptr;
    close_connection(c);
  }
  return true;  // `owned` goes: timers close, a pending resolve is detached
}

void HttpClient::start(Exchange* ex, bool allow_idle) {
  if (allow_idle && options_.keep_alive) {
    if (Connection* c = take_idle(ex->key)) {
      c->exchange = ex;
      ex->conn = c;
      ex->reused = true;
      send(ex);
      return;
    }
  }
  const HostPort& t = ex->req.target;
  sockaddr_storage addr{};
  if (uv_ip4_addr(t.host.c_str(), t.port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(t.host.c_str(), t.port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    ex->addresses.assign(1, addr);
    ex->next_address = 0;
    connect_next(ex);
    return;
  }
  auto res = std::make_unique<Resolve>();
  res->owner = ex;
  res->req.data = res.get();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string port = std::to_string(t.port);
  int rc = uv_getaddrinfo(
      loop_, &res->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* ai) {
        std::unique_ptr<Resolve> r(static_cast<Resolve*>(req->data));
        Exchange* e = r->owner;
        if (e) e->resolve = nullptr;
        if (e && status == 0 && ai) {
          e->addresses.clear();
          for (const addrinfo* a = ai; a; a = a->ai_next) {
            if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
            sockaddr_storage ss{};
            std::memcpy(&ss, a->ai_addr, a->ai_addrlen);
            e->addresses.push_back(ss);
          }
          e->next_address = 0;
          e->client->connect_next(e);
        } else if (e)
          e->client->fail(e, "cannot resolve " + e->req.target.host + ": " + uv_strerror(status));
        if (ai) uv_freeaddrinfo(ai);
      },
      t.host.c_str(), port.c_str(), &hints);
  if (rc != 0) return fail_later(ex, "cannot resolve " + t.host + ": " + uv_strerror(rc));
  ex->resolve = res.release();  // freed by its callback
}

void HttpClient::connect_next(Exchange* ex) {
  if (ex->next_address >= ex->addresses.size()) return fail_later(ex, "no address to connect to");
  const sockaddr_storage& addr = ex->addresses[ex->next_address++];
  connect(ex, reinterpret_cast<const sockaddr*>(&addr));
}

void HttpClient::connect(Exchange* ex, const sockaddr* addr) {
  auto owned = std::make_unique<Connection>();
  Connection* c = owned.get();
  c->client = this;
  c->key = ex->key;
  c->tcp.data = c;
  c->connect_req.data = c;
  if (int rc = uv_tcp_init(loop_, &c->tcp); rc != 0)
    return fail_later(ex, std::string("socket: ") + uv_strerror(rc));
  connections_.emplace(c, std::move(owned));
  c->exchange = ex;
  ex->conn = c;
  uv_tcp_nodelay(&c->tcp, 1);
  int rc = uv_tcp_connect(&c->connect_req, &c->tcp, addr, [](uv_connect_t* req, int status) {
    auto* conn = static_cast<Connection*>(req->data);
    if (conn->closing) return;
    HttpClient* self = conn->client;
    Exchange* e = conn->exchange;
    if (!e) return self->close_connection(conn);
    if (status != 0) {
      if (e->next_address < e->addresses.size()) {  // e.g. "localhost" → ::1 refused, try 127.0.0.1
        conn->exchange = nullptr;
        e->conn = nullptr;
        self->close_connection(conn);
        return self->connect_next(e);
      }
      return self->fail(e, std::string("connect: ") + uv_strerror(status));
    }
    uv_timer_stop(e->connect_timer.get());
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&conn->tcp),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* cn = static_cast<Connection*>(h->data);
          *buf = uv_buf_init(cn->client->read_buffer_.get(), kReadBufferSize);
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
          auto* cn = static_cast<Connection*>(s->data);
          if (!cn->closing) cn->client->on_read(cn, nread, buf);
        });
    self->send(e);
  });
  if (rc != 0) {
    c->exchange = nullptr;
    ex->conn = nullptr;
    close_connection(c);
    if (ex->next_address < ex->addresses.size()) return connect_next(ex);  // e.g. no IPv6 here
    return fail_later(ex, std::string("connect: ") + uv_strerror(rc));
  }
  ex->start_timer(ex->connect_timer, static_cast<uint64_t>(std::max<int64_t>(0, ex->req.connect_timeout.count())),
                  [](uv_timer_t* t) {
                    auto* e = static_cast<Exchange*>(t->data);
                    e->client->fail(e, "connect timed out after " + ms_text(e->req.connect_timeout));
                  });
}

void HttpClient::send(Exchange* ex) {
  Connection* c = ex->conn;
  llhttp_init(&c->parser, HTTP_RESPONSE, &Connection::settings());
  c->parser.data = c;
  c->field.clear();
  c->value.clear();
  c->message_done = false;
  c->body_too_large = false;
  c->head_too_large = false;
  c->head_bytes = 0;
  ex->response = HttpResponse{};
  ex->got_bytes = false;

  const HttpRequest& r = ex->req;
  bool has_host = false, has_length = false, has_connection = false;
  for (const auto& [k, v] : r.headers) {
    has_host |= iequals(k, "Host");
    has_length |= iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding");
    has_connection |= iequals(k, "Connection");
  }
  std::string& out = c->out;
  out.clear();
  out.reserve(256 + r.body.size());
  out += r.method;
  out += ' ';
  out += r.path;
  out += " HTTP/1.1\r\n";
  if (!has_host) out += "Host: " + ex->key + "\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  if (!has_length && (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH"))
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (!options_.keep_alive && !has_connection) out += "Connection: close\r\n";
  out += "\r\n";
  out += r.body;

  uv_buf_t buf = uv_buf_init(out.data(), static_cast<unsigned>(out.size()));
  c->write_req.data = c;
  int rc = uv_write(&c->write_req, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1, [](uv_write_t* w, int status) {
    auto* conn = static_cast<Connection*>(w->data);
    if (conn->closing || status == 0 || !conn->exchange) return;
    conn->client->fail_or_retry(conn->exchange, std::string("write: ") + uv_strerror(status));
  });
  // send() may run inside request() (reused connection): report on the next loop turn.
  if (rc != 0) fail_later(ex, std::string("write: ") + uv_strerror(rc));
}

void HttpClient::on_read(Connection* conn, ssize_t nread, const uv_buf_t* buf) {
  Exchange* ex = conn->exchange;
  if (!ex) {
    // Idle: the server closed it (EOF/error) or sent bytes nobody asked for. Either way it is
    // no longer reusable.
    if (nread != 0) close_connection(conn);
    return;
  }
  if (nread == 0) return;
  if (nread == UV_EOF) {
    llhttp_finish(&conn->parser);  // completes a body delimited by the close
    if (conn->message_done) return on_response_complete(conn, /*reusable=*/false);
    return fail_or_retry(ex, "connection closed before the response was complete");
  }
  if (nread < 0) return fail_or_retry(ex, std::string("read: ") + uv_strerror(static_cast<int>(nread)));
  ex->got_bytes = true;
  llhttp_errno_t err = llhttp_execute(&conn->parser, buf->base, static_cast<size_t>(nread));
  if (err == HPE_OK) return;
  if (err == HPE_PAUSED && conn->message_done) {
    const size_t consumed = static_cast<size_t>(llhttp_get_error_pos(&conn->parser) - buf->base);
    // Bytes after the response on a connection we did not ask anything else of: do not reuse.
    const bool reusable = consumed == static_cast<size_t>(nread) && llhttp_should_keep_alive(&conn->parser) &&
                          ex->response.status != 101;
    return on_response_complete(conn, reusable);
  }
  if (conn->body_too_large)
    return fail(ex, "response body exceeds " + std::to_string(ex->req.max_body) + " bytes");
  if (conn->head_too_large)
    return fail(ex, "response head exceeds " + std::to_string(Connection::kMaxHead) + " bytes");
  return fail(ex, std::string("bad response: ") + llhttp_errno_name(err) + " (" +
                      llhttp_get_error_reason(&conn->parser) + ")");
}

void HttpClient::on_response_complete(Connection* conn, bool reusable) {
  Exchange* ex = conn->exchange;
  conn->exchange = nullptr;
  ex->conn = nullptr;
  if (reusable && options_.keep_alive)
    park(conn);
  else
    close_connection(conn);
  finish(ex, std::move(ex->response));
}

void HttpClient::fail_or_retry(Exchange* ex, std::string message) {
  // A kept-alive connection the server closed while idle: the request never reached it.
  if (ex->reused && !ex->got_bytes && !ex->retried && is_idempotent(ex->req.method)) {
    ex->retried = true;
    ex->reused = false;
    if (Connection* c = ex->conn) {
      c->exchange = nullptr;
      ex->conn = nullptr;
      close_connection(c);
    }
    start(ex, /*allow_idle=*/false);
    return;
  }
  fail(ex, std::move(message));
}

void HttpClient::fail_later(Exchange* ex, std::string message) {
  ex->deferred_error = std::move(message);
  ex->start_timer(ex->defer_timer, 0, [](uv_timer_t* t) {
    auto* e = static_cast<Exchange*>(t->data);
    e->client->fail(e, std::move(e->deferred_error));
  });
}

void HttpClient::finish(Exchange* ex, Result<HttpResponse> result) {
  auto it = exchanges_.find(ex->id);
  if (it == exchanges_.end()) return;  // already finished: never call back twice
  std::unique_ptr<Exchange> owned = std::move(it->second);
  exchanges_.erase(it);
  if (Connection* c = ex->conn) {
    c->exchange = nullptr;
    ex->conn = nullptr;
    close_connection(c);  // mid-exchange: its state is unknown, never reuse it
  }
  HttpCallback cb = std::move(owned->cb);
  std::string what = owned->what;
  owned.reset();  // timers close, a pending resolve is detached
  if (!result.ok()) result = make_error(what + ": " + result.error());
  // Last statement: the callback may issue requests or destroy this client.
  cb(std::move(result));
}

HttpClient::Connection* HttpClient::take_idle(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  const uint64_t now = uv_now(loop_);
  while (!it->second.empty()) {
    Connection* c = it->second.back();  // the most recently used is the least likely to be stale
    it->second.pop_back();
    if (now - c->idle_since <= static_cast<uint64_t>(options_.idle_timeout.count())) {
      if (it->second.empty()) idle_.erase(it);
      uv_ref(reinterpret_cast<uv_handle_t*>(&c->tcp));
      return c;
    }
    close_connection(c);
  }
  idle_.erase(it);
  return nullptr;
}

void HttpClient::park(Connection* conn) {
  conn->idle_since = uv_now(loop_);
  // An idle connection alone does not keep the loop running (uv_run returns once no request
  // is in flight); it still notices the server closing it whenever the loop runs.
  uv_unref(reinterpret_cast<uv_handle_t*>(&conn->tcp));
  auto& list = idle_[conn->key];
  list.push_back(conn);
  if (list.size() > options_.max_idle_per_host) close_connection(list.front());
}

void HttpClient::close_connection(Connection* conn) {
  if (conn->closing) return;
  conn->closing = true;
  if (auto it = idle_.find(conn->key); it != idle_.end()) {
    std::erase(it->second, conn);
    if (it->second.empty()) idle_.erase(it);
  }
  auto it = connections_.find(conn);
  if (it == connections_.end()) return;
  it->second.release();  // owned by the handle until the close callback
  connections_.erase(it);
  uv_close(reinterpret_cast<uv_handle_t*>(&conn->tcp),
           [](uv_handle_t* h) { std::unique_ptr<Connection> owned(static_cast<Connection*>(h->data)); });
}

}  // namespace ebb
