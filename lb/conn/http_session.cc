#include "lb/conn/http_session.h"

#include "lb/balancer/hash_key.h"
#include "lb/balancer/peak_ewma.h"
#include "lb/conn/upstream_pool.h"
#include "lb/http/canned.h"
#include "lb/http/path.h"
#include "lb/resolve.h"
#include "lb/worker.h"

namespace ebb::lb {

namespace {
constexpr uint64_t kLingerMs = 2000;  // after a final error response: wait for the client's FIN
// Client bytes held while a request is routed/connected or a response is in flight (body bytes
// that came early, pipelined requests); past this, reading pauses.
constexpr size_t kMaxBufferedInput = 256 * 1024;

http::ParserLimits request_limits(const config::Listener& l) {
  http::ParserLimits lim;
  lim.max_head_bytes = l.max_header_bytes;
  lim.max_body_bytes = l.max_body_bytes;
  return lim;
}
}  // namespace

HttpSession::HttpSession(Worker& worker, std::shared_ptr<const Snapshot> snap, const ListenerSnapshot& listener,
                         TransportPtr client)
    : Session(worker), snap_(std::move(snap)), listener_(&listener), client_(std::move(client)),
      connector_(worker, *this), parser_(*this, request_limits(listener.settings)), rparser_(*this) {
  uv_timer_init(worker.loop(), timer_.get());
  timer_.mark_initialized();
  timer_->data = this;
}

HttpSession::~HttpSession() { close(); }

// ---------------------------------------------------------------------------------------------
// reading_head

void HttpSession::start() {
  client_->peer_address(peer_);
  client_ip_ = sockaddr_ip(reinterpret_cast<const sockaddr*>(&peer_));
  if (listener_->settings.proxy_protocol) proxy_header_ = std::make_unique<ProxyProtocolParser>();
  client_->set_handler(this);
  enter_reading_head();
  // The first request's head must arrive within header_timeout from accept (slowloris).
  if (state_ == State::reading_head)
    arm_timer(TimerKind::header, static_cast<uint64_t>(listener_->settings.header_timeout.count()));
}

void HttpSession::enter_reading_head() {
  state_ = State::reading_head;
  pool_ = nullptr;
  backend_ = kNoBackend;
  holds_active_ = reused_ = req_done_ = resp_head_seen_ = resp_done_ = resp_bytes_seen_ = false;
  client_paused_ = upstream_paused_ = resend_tried_ = upstream_reusable_ = upgrade_ = interim_ = false;
  close_after_response_ = draining_;
  up_framing_ = down_framing_ = http::BodyFraming::none;
  status_ = 0;
  req_bytes_ = resp_bytes_ = 0;
  upstream_ms_ = -1;
  up_head_.clear();
  if (draining_ && in_buf_.empty()) {
    close();
    return;
  }
  if (!in_buf_.empty()) {  // a pipelined request already read
    swap_buf_.swap(in_buf_);
    in_buf_.clear();
    feed_client(swap_buf_.data(), swap_buf_.size());
    swap_buf_.clear();
    if (state_ != State::reading_head) return;
  }
  if (client_eof_) {  // nothing more will come
    close();
    return;
  }
  client_->start_reading();
  if (parser_.in_head())
    arm_timer(TimerKind::header, static_cast<uint64_t>(listener_->settings.header_timeout.count()));
  else
    arm_idle_timer();
}

void HttpSession::feed_client(const char* data, size_t len) {
  while (len > 0) {
    if (state_ == State::reading_head && timer_kind_ == TimerKind::idle)
      arm_timer(TimerKind::header, static_cast<uint64_t>(listener_->settings.header_timeout.count()));
    if (state_ == State::reading_head && req_bytes_ == 0) {
      req_start_wall_ms_ = worker_.wall_ms();
      req_start_ns_ = uv_hrtime();  // ns: the latency histogram has sub-ms buckets
    }
    http::ParseResult r = parser_.feed(data, len);
    req_bytes_ += r.consumed;
    data += r.consumed;
    len -= r.consumed;
    switch (r.status) {
      case http::ParseStatus::need_more:
        continue;
      case http::ParseStatus::head_paused:
        if (len > 0) buffer_client_input(data, len);
        handle_head();
        return;
      case http::ParseStatus::message_complete:
        // Keep reading (no epoll_ctl per request): later bytes are buffered as pipelined input.
        if (len > 0) buffer_client_input(data, len);
        if (state_ == State::proxying) flush_upstream();
        return;
      case http::ParseStatus::upgrade:  // responses only
      case http::ParseStatus::error:
        if (r.status == http::ParseStatus::error && state_ == State::proxying && resp_head_seen_) {
          close();  // the response is already going out: nothing sensible to answer
          return;
        }
        respond_error(r.error_status ? r.error_status : 400);
        return;
    }
  }
  if (state_ == State::proxying) flush_upstream();
}

bool HttpSession::on_request_head(http::RequestHead&) { return true; }  // pause: route first

void HttpSession::on_request_body(const char* data, size_t len) {
  if (up_framing_ == http::BodyFraming::chunked) http::append_chunk(up_out_, data, len);
  else up_out_.append(data, len);
}

void HttpSession::on_request_complete() {
  req_done_ = true;
  if (up_framing_ == http::BodyFraming::chunked) http::append_last_chunk(up_out_);
}

void HttpSession::buffer_client_input(const char* data, size_t len) {
  in_buf_.append(data, len);
  if (in_buf_.size() > kMaxBufferedInput && client_->reading()) {
    client_->stop_reading();  // bounded: resumed when the buffer is parsed
    client_paused_ = true;
  }
}

// A keep-alive client must see reloads, drains and health changes on its next request, not
// keep the configuration it was accepted with. Only between requests: pool_ and backend_ index
// into snap_ while a request is in flight. Costs a pointer compare when nothing changed.
void HttpSession::follow_snapshot() {
  const std::shared_ptr<const Snapshot>& latest = worker_.snapshot();
  if (!latest || latest == snap_) return;
  const ListenerSnapshot* ls = latest->find_listener(listener_->key);
  if (ls == nullptr || ls->counter_slot != listener_->counter_slot) {
    close_after_response_ = true;  // its listener left or was renamed: finish on the old config
    return;
  }
  snap_ = latest;
  listener_ = ls;
}

void HttpSession::handle_head() {
  const http::RequestHead& head = parser_.head();
  arm_timer(TimerKind::none, 0);
  follow_snapshot();
  size_t idx = listener_->default_pool;
  // Route on the normalised path and forward that (lb/http/path.h); ambiguous paths are 400.
  http::NormalizedTarget target = http::normalize_target(head.path, head.origin_target, norm_target_);
  if (target.status == http::PathStatus::rejected) {
    respond_error(400);
    return;
  }
  if (listener_->router) {
    http::Router::Match m = listener_->router->route(head.host, target.path);
    if (m.route >= 0 && static_cast<size_t>(m.route) < listener_->route_pools.size())
      idx = listener_->route_pools[static_cast<size_t>(m.route)];
  }
  if (idx == kNoPool) {
    respond_error(503);
    return;
  }
  pool_ = &snap_->pools[idx];
  record_latency_ = pool_->settings.balance == config::Balance::response_time;
  upgrade_ = head.upgrade;
  if (!head.keep_alive) close_after_response_ = true;
  state_ = State::connecting;
  connect_upstream(true);
}

// ---------------------------------------------------------------------------------------------
// connecting

void HttpSession::connect_upstream(bool allow_reuse) {
  const http::RequestHead& head = parser_.head();
  PickRequest req;
  req.now_ms = static_cast<int64_t>(uv_now(worker_.loop()));
  const config::HashKey& key = pool_->settings.hash_key;
  KeySource src;
  src.client = reinterpret_cast<const sockaddr*>(&peer_);
  src.uri = head.target;
  if (key.kind == config::HashKey::Kind::header) {
    if (const http::Header* h = head.find(key.name)) src.header = h->value;
  } else if (key.kind == config::HashKey::Kind::cookie) {
    if (const http::Header* h = head.find("cookie")) src.cookie_header = h->value;
  }
  if (auto h = request_key_hash(key, src)) {
    req.key_hash = *h;
    req.has_key = true;
  }
  sticky_backend_ = kNoBackend;
  if (pool_->sticky.enabled()) {
    if (auto token = http::find_cookie(head, pool_->settings.sticky_cookie)) {
      if (auto idx = pool_->sticky.find(*token, worker_.wall_ms() / 1000)) sticky_backend_ = *idx;
    }
  }
  switch (connector_.connect(*pool_, req, allow_reuse, resend_tried_ ? backend_ : sticky_backend_)) {
    case BackendConnector::Start::reused: {
      size_t idx = kNoBackend;
      TransportPtr t = connector_.take_reused(&idx);
      on_connected(idx, std::move(t), true);
      break;
    }
    case BackendConnector::Start::no_backend:
      respond_error(503);
      break;
    case BackendConnector::Start::pending:
      break;
  }
}

void HttpSession::on_connected(size_t backend_index, TransportPtr t, bool reused) {
  backend_ = backend_index;
  holds_active_ = true;
  reused_ = reused;
  upstream_ = std::move(t);
  upstream_->set_handler(this);
  state_ = State::proxying;
  start_exchange();
}

void HttpSession::on_connect_failed(bool no_backend) { respond_error(no_backend ? 503 : 502); }


// ---------------------------------------------------------------------------------------------
// proxying

void HttpSession::start_exchange() {
  const http::RequestHead& head = parser_.head();
  rparser_.reset();
  rparser_.expect(head.is_head, head.upgrade);
  if (up_head_.empty()) {
    http::ForwardInfo info;
    info.client_ip = client_ip_;
    info.listener_port = listener_->settings.listen.port;
    info.tls = client_->secure();
    info.upgrade = head.upgrade;
    up_framing_ = http::write_upstream_request_head(head, info, up_head_, norm_target_);
  }
  up_out_.assign(up_head_);
  req_sent_ms_ = uv_now(worker_.loop());
  last_activity_ms_ = req_sent_ms_;
  req_sent_ns_ = uv_hrtime();
  arm_idle_timer();  // request body upload; replaced by the response timer once the request is sent
  upstream_->start_reading();
  if (!req_done_) {
    // Body bytes that arrived with the head, or (for a body-less request) nothing: either way
    // the parser runs on to the end of the message if it can.
    swap_buf_.swap(in_buf_);
    in_buf_.clear();
    client_paused_ = false;  // the buffer that may have paused reading is being parsed now
    if (swap_buf_.empty()) {
      http::ParseResult r = parser_.feed(nullptr, 0);
      if (r.status == http::ParseStatus::error) {
        respond_error(r.error_status ? r.error_status : 400);
        return;
      }
      flush_upstream();
    } else {
      feed_client(swap_buf_.data(), swap_buf_.size());
      swap_buf_.clear();
    }
    if (state_ != State::proxying) return;
    if (client_eof_ && !req_done_) {  // the client hung up before sending its whole body
      close();
      return;
    }
    if (!client_paused_) client_->start_reading();
  } else {
    flush_upstream();
  }
}

void HttpSession::flush_upstream() {
  if (!up_out_.empty() && upstream_) {
    upstream_->write(up_out_);
    up_out_.clear();
    if (!req_done_ && upstream_->pending_write_bytes() > Watermarks{}.high) {
      client_->stop_reading();
      client_paused_ = true;
    }
  }
  if (req_done_ && !resp_head_seen_ && timer_kind_ != TimerKind::response)
    arm_timer(TimerKind::response, static_cast<uint64_t>(pool_->settings.response_timeout.count()));
}

void HttpSession::feed_upstream(const char* data, size_t len) {
  resp_bytes_seen_ = true;
  while (len > 0) {
    http::ParseResult r = rparser_.feed(data, len);
    data += r.consumed;
    len -= r.consumed;
    switch (r.status) {
      case http::ParseStatus::need_more:
        continue;
      case http::ParseStatus::head_paused:
        continue;  // not requested; keep going
      case http::ParseStatus::message_complete:
        if (interim_) {
          interim_ = false;
          continue;  // a 1xx: the final response follows
        }
        if (len > 0) upstream_reusable_ = false;  // bytes after the response: not trustworthy
        len = 0;
        break;
      case http::ParseStatus::upgrade:
        flush_client();
        enter_tunnel(std::string_view(data, len));
        return;
      case http::ParseStatus::error:
        if (!resp_head_seen_) {
          respond_error(502);
        } else {
          flush_client();
          close();
        }
        return;
    }
  }
  flush_client();
  if (resp_done_ && state_ == State::proxying) {
    if (req_done_) complete_exchange();
    else {
      // The backend answered before the request body ended: finish the response, then close.
      upstream_reusable_ = false;
      close_after_response_ = true;
      complete_exchange();
    }
  }
}

bool HttpSession::on_response_head(http::ResponseHead& head) {
  const http::RequestHead& req = parser_.head();
  interim_ = head.status < 200 && !head.upgrade;
  http::ResponseRewrite rw;
  rw.close = close_after_response_ || last_before_eof();
  if (!interim_ && pool_->sticky.enabled() && backend_ != kNoBackend && backend_ != sticky_backend_) {
    std::string token = pool_->sticky.issue(backend_, worker_.wall_ms() / 1000);
    set_cookie_ = sticky_set_cookie(pool_->settings.sticky_cookie, token, pool_->sticky.ttl_s(),
                                    client_->secure());
    rw.set_cookie = set_cookie_;
  }
  rw.client_version_minor = req.version_minor;
  http::DownstreamHead dh = http::write_downstream_response_head(head, rw, down_out_);
  if (interim_) return false;
  resp_head_seen_ = true;
  status_ = head.status;
  const uint64_t now_ns = uv_hrtime();
  upstream_ms_ = static_cast<double>(now_ns - req_sent_ns_) / 1e6;
  if (backend_ != kNoBackend) {  // passive health (SPEC §2): 5xx in a row eject, anything else resets
    auto& failures = pool_->backends[backend_].live->consecutive_failures;
    if (head.status >= 500) failures.fetch_add(1, std::memory_order_relaxed);
    else failures.store(0, std::memory_order_relaxed);
  }
  if (record_latency_ && backend_ != kNoBackend) {
    BackendLive& live = *pool_->backends[backend_].live;
    if (head.status >= 500) record_failure(live, static_cast<int64_t>(now_ns));
    else record_response(live, now_ns - req_sent_ns_, static_cast<int64_t>(now_ns));
  }
  arm_idle_timer();
  down_framing_ = dh.framing;
  if (dh.close) close_after_response_ = true;
  upstream_reusable_ = head.keep_alive && !head.until_close && !head.upgrade;
  return false;
}

void HttpSession::on_response_body(const char* data, size_t len) {
  if (down_framing_ == http::BodyFraming::chunked) http::append_chunk(down_out_, data, len);
  else if (down_framing_ != http::BodyFraming::none) down_out_.append(data, len);
}

void HttpSession::on_response_complete() {
  if (interim_) return;
  resp_done_ = true;
  if (down_framing_ == http::BodyFraming::chunked) http::append_last_chunk(down_out_);
}

void HttpSession::flush_client() {
  if (down_out_.empty()) return;
  resp_bytes_ += down_out_.size();
  client_->write(down_out_);
  down_out_.clear();
  if (upstream_ && !resp_done_ && client_->pending_write_bytes() > Watermarks{}.high) {
    upstream_->stop_reading();
    upstream_paused_ = true;
  }
}

void HttpSession::on_write_progress(Transport& t) {
  const Watermarks wm;
  if (&t == client_.get()) {
    if (state_ == State::closing) {
      if (client_->pending_write_bytes() == 0) close_after_flush();
      return;
    }
    if (upstream_paused_ && upstream_ && client_->pending_write_bytes() <= wm.low) {
      upstream_paused_ = false;
      upstream_->start_reading();
    }
  } else if (upstream_ && &t == upstream_.get()) {
    if (client_paused_ && upstream_->pending_write_bytes() <= wm.low) {
      client_paused_ = false;
      if (!req_done_ && state_ == State::proxying) client_->start_reading();
    }
  }
}

void HttpSession::upstream_finished_early(int err) {
  // A reused keep-alive connection the backend had already closed: resend once on a fresh
  // connection, but only when nothing of the request's body can have been lost.
  const http::RequestHead& head = parser_.head();
  if (reused_ && !resp_bytes_seen_ && !resend_tried_ && !head.has_body() && err != UV_ETIMEDOUT) {
    resend_tried_ = true;
    release_backend();
    upstream_.reset();
    state_ = State::connecting;
    connect_upstream(false);
    return;
  }
  if (!resp_head_seen_) {
    respond_error(502);
  } else {
    flush_client();
    close();
  }
}

void HttpSession::complete_exchange() {
  arm_timer(TimerKind::none, 0);
  log_request();
  const Backend* b = backend_ != kNoBackend ? &pool_->backends[backend_] : nullptr;
  release_backend();
  if (upstream_ && b && upstream_reusable_ && upstream_->pending_write_bytes() == 0 && !upgrade_) {
    worker_.upstreams().put(b->address, std::move(upstream_),
                            static_cast<uint64_t>(pool_->settings.idle_timeout.count()));
  }
  upstream_.reset();
  if (close_after_response_ || last_before_eof()) {
    close_after_flush();
    return;
  }
  enter_reading_head();
}

// ---------------------------------------------------------------------------------------------
// tunnel

void HttpSession::enter_tunnel(std::string_view upstream_rest) {
  arm_timer(TimerKind::none, 0);
  state_ = State::tunnel;
  log_request();
  std::string client_rest;
  client_rest.swap(in_buf_);
  pump_.start(worker_.loop(), *client_, *upstream_, *this, Watermarks{}, client_rest, upstream_rest);
  arm_idle_timer();
}

void HttpSession::on_pump_done(bool) { close(); }

// ---------------------------------------------------------------------------------------------
// events

void HttpSession::on_read(Transport& t, const char* data, size_t len) {
  last_activity_ms_ = uv_now(worker_.loop());
  if (&t == client_.get()) {
    switch (state_) {
      case State::reading_head:
        if (proxy_header_) {
          ProxyProtocolParser::Result r = proxy_header_->feed(data, len);
          if (r.status == ProxyProtocolParser::Status::error) {
            close();  // not from our fronting balancer: say nothing
            return;
          }
          if (r.status == ProxyProtocolParser::Status::need_more) return;
          if (proxy_header_->has_address()) {
            peer_ = proxy_header_->address();
            client_ip_ = sockaddr_ip(reinterpret_cast<const sockaddr*>(&peer_));
          }
          proxy_header_.reset();
          data += r.consumed;
          len -= r.consumed;
          if (len == 0) return;
        }
        feed_client(data, len);
        break;
      case State::proxying:
        if (!req_done_ && in_buf_.empty()) feed_client(data, len);
        else buffer_client_input(data, len);  // pipelined: parsed after this response
        break;
      case State::connecting:
        buffer_client_input(data, len);
        break;
      case State::closing:  // lingering: discard
      case State::tunnel:
      case State::closed:
        break;
    }
    return;
  }
  if (upstream_ && &t == upstream_.get() && state_ == State::proxying) feed_upstream(data, len);
}

void HttpSession::on_eof(Transport& t) {
  if (&t == client_.get()) {
    client_eof_ = true;
    switch (state_) {
      case State::reading_head:
        close();  // between requests, or a head cut short: nobody to answer
        return;
      case State::proxying:
        if (!req_done_) {
          http::ParseResult r = parser_.finish();
          if (r.status == http::ParseStatus::error) {
            close();
            return;
          }
        }
        return;  // the response still goes out, then we close
      case State::connecting:
        return;
      case State::closing:
        close();
        return;
      case State::tunnel:
      case State::closed:
        return;
    }
    return;
  }
  if (upstream_ && &t == upstream_.get() && state_ == State::proxying) {
    http::ParseResult r = rparser_.finish();
    if (r.status == http::ParseStatus::message_complete) {
      upstream_reusable_ = false;
      flush_client();
      if (req_done_) complete_exchange();
      else {
        close_after_response_ = true;
        complete_exchange();
      }
      return;
    }
    upstream_finished_early(UV_EOF);
  }
}

void HttpSession::on_error(Transport& t, int err) {
  if (&t == client_.get()) {
    close();
    return;
  }
  if (upstream_ && &t == upstream_.get() && state_ == State::proxying) upstream_finished_early(err);
}

// ---------------------------------------------------------------------------------------------
// closing / closed

void HttpSession::respond_error(int status) {
  status_ = status;
  connector_.cancel();
  release_backend();
  upstream_.reset();
  down_out_.clear();
  std::string_view resp = http::canned_response(status, true);
  resp_bytes_ += resp.size();
  client_->write(resp);
  log_request();
  close_after_flush();
}

void HttpSession::close_after_flush() {
  if (state_ == State::closed) return;
  if (state_ != State::closing) {
    state_ = State::closing;
    client_->shutdown_write();  // FIN after the queued response
    client_->start_reading();   // read and drop until the client closes too (no RST on unread data)
    arm_timer(TimerKind::linger, kLingerMs);
  }
  if (client_eof_ && client_->pending_write_bytes() == 0) close();
}

void HttpSession::begin_shutdown() {
  draining_ = true;
  close_after_response_ = true;
  if (state_ == State::reading_head && !parser_.in_head()) close();
}

void HttpSession::release_backend() {
  if (holds_active_ && pool_ && backend_ != kNoBackend) {
    pool_->backends[backend_].live->active.fetch_sub(1, std::memory_order_relaxed);
  }
  holds_active_ = false;
}

void HttpSession::log_request() {
  worker_.counters().requests_total.fetch_add(1, std::memory_order_relaxed);
  auto& c = worker_.counters();
  c.bytes_in.fetch_add(req_bytes_, std::memory_order_relaxed);
  c.bytes_out.fetch_add(resp_bytes_, std::memory_order_relaxed);
  RequestObserver* obs = worker_.shared().observer;
  if (!worker_.access_log().enabled() && obs == nullptr) return;
  const http::RequestHead& head = parser_.head();
  RequestRecord r;
  r.start_unix_ms = req_start_wall_ms_;
  r.client = client_ip_;
  r.listener = listener_->settings.name;
  if (pool_) r.pool = pool_->settings.name;
  if (pool_ && backend_ != kNoBackend) {
    r.backend = pool_->backends[backend_].address;
    r.backend_live = pool_->backends[backend_].live.get();
  }
  if (req_bytes_ > 0 && status_ != 400 && status_ != 408 && status_ != 431 && status_ != 413) {
    r.method = head.method;
    r.path = head.path;
  }
  r.status = status_;
  r.bytes_in = req_bytes_;
  r.bytes_out = resp_bytes_;
  r.duration_ms = static_cast<double>(uv_hrtime() - req_start_ns_) / 1e6;
  r.upstream_ms = upstream_ms_;
  worker_.access_log().append(r);
  if (obs) obs->on_request(worker_.id(), r);
}

void HttpSession::close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  pump_.stop();
  connector_.cancel();
  arm_timer(TimerKind::none, 0);
  release_backend();
  upstream_.reset();
  client_.reset();
  worker_.connection_closed(*listener_);
  finish();
}

void HttpSession::arm_timer(TimerKind kind, uint64_t ms) {
  timer_kind_ = kind;
  if (kind == TimerKind::none || ms == 0) {
    timer_kind_ = TimerKind::none;
    uv_timer_stop(timer_.get());
    return;
  }
  uv_timer_start(timer_.get(), [](uv_timer_t* t) { static_cast<HttpSession*>(t->data)->on_timer(); }, ms, 0);
}

uint64_t HttpSession::pool_idle_ms() const {
  const PoolSnapshot* p = pool_;
  if (p == nullptr && listener_->default_pool != kNoPool) p = &snap_->pools[listener_->default_pool];
  return p ? static_cast<uint64_t>(p->settings.idle_timeout.count()) : 60000;
}

void HttpSession::arm_idle_timer() { arm_timer(TimerKind::idle, pool_idle_ms()); }

void HttpSession::on_timer() {
  TimerKind kind = timer_kind_;
  timer_kind_ = TimerKind::none;
  switch (kind) {
    case TimerKind::idle:
      if (state_ == State::proxying || state_ == State::tunnel) {
        uint64_t idle = pool_idle_ms();
        uint64_t last = state_ == State::tunnel ? pump_.last_activity_ms() : last_activity_ms_;
        uint64_t now = uv_now(worker_.loop());
        if (now - last < idle) {
          arm_timer(TimerKind::idle, idle - (now - last));
          return;
        }
        if (state_ == State::proxying && !resp_head_seen_ && req_done_) {
          respond_error(504);
          return;
        }
      }
      close();
      return;
    case TimerKind::header:
      if (req_bytes_ == 0 && !parser_.in_head()) close();  // never sent anything: just close
      else respond_error(408);
      return;
    case TimerKind::response:
      if (record_latency_ && backend_ != kNoBackend)
        record_failure(*pool_->backends[backend_].live, static_cast<int64_t>(uv_hrtime()));
      if (!resp_head_seen_) respond_error(504);
      else close();
      return;
    case TimerKind::linger:
      close();
      return;
    case TimerKind::none:
      return;
  }
}

void HttpSession::on_snapshot(const Snapshot& snap) {
  if ((state_ != State::proxying && state_ != State::tunnel) || pool_ == nullptr || backend_ == kNoBackend) return;
  const Backend& b = pool_->backends[backend_];
  if (snap.backend_gone(pool_->settings.name, b.address)) close();
}

}  // namespace ebb::lb
