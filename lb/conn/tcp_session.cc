#include "lb/conn/tcp_session.h"

#include "lb/balancer/hash_key.h"
#include "lb/resolve.h"
#include "lb/worker.h"

namespace ebb::lb {

TcpSession::TcpSession(Worker& worker, std::shared_ptr<const Snapshot> snap, const ListenerSnapshot& listener,
                       TransportPtr client)
    : Session(worker), snap_(std::move(snap)), listener_(listener), client_(std::move(client)),
      connector_(worker, *this) {
  uv_timer_init(worker.loop(), idle_timer_.get());
  idle_timer_.mark_initialized();
  idle_timer_->data = this;
}

TcpSession::~TcpSession() { close(); }

void TcpSession::start() {
  start_wall_ms_ = worker_.wall_ms();
  start_ns_ = uv_hrtime();
  client_->peer_address(peer_);
  client_->set_handler(this);
  if (listener_.default_pool == kNoPool) {
    close();
    return;
  }
  pool_ = &snap_->pools[listener_.default_pool];
  if (listener_.settings.proxy_protocol) {
    state_ = State::reading_proxy_header;
    proxy_header_ = std::make_unique<ProxyProtocolParser>();
    client_->start_reading();
    uv_timer_start(idle_timer_.get(), [](uv_timer_t* t) { static_cast<TcpSession*>(t->data)->close(); },
                   static_cast<uint64_t>(listener_.settings.header_timeout.count()), 0);
    return;
  }
  connect_backend();
}

void TcpSession::on_read(Transport&, const char* data, size_t len) {
  if (state_ != State::reading_proxy_header) return;
  ProxyProtocolParser::Result r = proxy_header_->feed(data, len);
  if (r.status == ProxyProtocolParser::Status::error) {
    close();
    return;
  }
  if (r.status == ProxyProtocolParser::Status::need_more) return;
  if (proxy_header_->has_address()) peer_ = proxy_header_->address();
  proxy_header_.reset();
  early_data_.assign(data + r.consumed, len - r.consumed);
  client_->stop_reading();
  uv_timer_stop(idle_timer_.get());
  state_ = State::connecting;
  connect_backend();
}

void TcpSession::connect_backend() {
  PickRequest req;
  if (auto h = hash_source_ip(reinterpret_cast<const sockaddr*>(&peer_))) {  // L4: source_ip only
    req.key_hash = *h;
    req.has_key = true;
  }
  req.now_ms = static_cast<int64_t>(uv_now(worker_.loop()));
  if (connector_.connect(*pool_, req, false) == BackendConnector::Start::no_backend) close();  // SPEC §3
}

void TcpSession::on_connected(size_t backend_index, TransportPtr t, bool) {
  backend_ = backend_index;
  upstream_ = std::move(t);
  pool_->backends[backend_index].live->consecutive_failures.store(0, std::memory_order_relaxed);  // passive health
  connect_ms_ = static_cast<double>(uv_hrtime() - start_ns_) / 1e6;
  state_ = State::tunneling;
  pump_.start(worker_.loop(), *client_, *upstream_, *this, Watermarks{}, early_data_);
  early_data_.clear();
  uint64_t idle = static_cast<uint64_t>(pool_->settings.idle_timeout.count());
  if (idle > 0)
    uv_timer_start(idle_timer_.get(), [](uv_timer_t* t) { static_cast<TcpSession*>(t->data)->on_idle_timer(); },
                   idle, 0);
}

void TcpSession::on_idle_timer() {
  uint64_t idle = static_cast<uint64_t>(pool_->settings.idle_timeout.count());
  uint64_t now = uv_now(worker_.loop());
  uint64_t last = pump_.last_activity_ms();
  if (now - last >= idle) {
    close();
    return;
  }
  uv_timer_start(idle_timer_.get(), [](uv_timer_t* t) { static_cast<TcpSession*>(t->data)->on_idle_timer(); },
                 idle - (now - last), 0);
}

void TcpSession::on_connect_failed(bool) { close(); }

void TcpSession::on_pump_done(bool) { close(); }

void TcpSession::close() {
  if (state_ == State::closed) return;
  State was = state_;
  state_ = State::closed;
  pump_.stop();
  connector_.cancel();
  uv_timer_stop(idle_timer_.get());
  const Backend* b = (pool_ && backend_ != kNoBackend) ? &pool_->backends[backend_] : nullptr;
  if (b) b->live->active.fetch_sub(1, std::memory_order_relaxed);
  auto& c = worker_.counters();
  c.bytes_in.fetch_add(pump_.bytes_a_to_b(), std::memory_order_relaxed);
  c.bytes_out.fetch_add(pump_.bytes_b_to_a(), std::memory_order_relaxed);
  if (worker_.access_log().enabled() || worker_.shared().observer) {
    std::string ip = sockaddr_ip(reinterpret_cast<const sockaddr*>(&peer_));
    RequestRecord r;
    r.tcp = true;
    r.start_unix_ms = start_wall_ms_;
    r.client = ip;
    r.listener = listener_.settings.name;
    r.pool = pool_ ? std::string_view(pool_->settings.name) : std::string_view();
    r.backend = b ? std::string_view(b->address) : std::string_view();
    r.backend_live = b ? b->live.get() : nullptr;
    r.bytes_in = pump_.bytes_a_to_b();
    r.bytes_out = pump_.bytes_b_to_a();
    r.duration_ms = static_cast<double>(uv_hrtime() - start_ns_) / 1e6;
    r.upstream_ms = connect_ms_;
    worker_.access_log().append(r);
    if (worker_.shared().observer) worker_.shared().observer->on_request(worker_.id(), r);
  }
  (void)was;
  upstream_.reset();
  client_.reset();
  worker_.connection_closed(listener_);
  finish();
}

void TcpSession::on_snapshot(const Snapshot& snap) {
  if (state_ != State::tunneling || pool_ == nullptr || backend_ == kNoBackend) return;
  const Backend& b = pool_->backends[backend_];
  if (snap.backend_gone(pool_->settings.name, b.address)) close();
}

}  // namespace ebb::lb
