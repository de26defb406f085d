#include "lb/tls/tls_transport.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/log.h"

namespace ebb::lb::tls {

namespace {

// Per worker thread: plaintext is consumed by the handler before deliver() returns, and
// ciphertext is handed to the inner transport (which copies what it cannot send at once), so
// neither buffer is ever in use by two transports at the same time.
constexpr size_t kPlainBufferSize = 64 * 1024;
thread_local char t_plain[kPlainBufferSize];
thread_local std::string t_cipher;

// Encrypt in slices so one big write does not build a matching ciphertext copy in memory.
constexpr size_t kEncryptSlice = 64 * 1024;
// Up to one TLS record's worth of plaintext from write2's two pieces is merged first.
constexpr size_t kSmallMerge = 16 * 1024;
thread_local char t_plain_out[kSmallMerge];
// Plaintext delivered per read callback before yielding to the loop (DESIGN point 7).
constexpr size_t kDeliverBudget = 256 * 1024;

}  // namespace

TransportPtr TlsTransport::wrap(uv_loop_t* loop, TransportPtr inner, std::shared_ptr<TlsContext> ctx,
                                std::chrono::milliseconds handshake_timeout) {
  if (!inner) return nullptr;
  auto* t = new TlsTransport(loop, std::move(inner), std::move(ctx));
  TransportPtr owned(t);
  if (t->session_.state() == TlsSession::State::failed) {
    // SSL_new failed (out of memory): report it on the next loop turn, never re-entrantly.
    t->count_handshake(HandshakeResult::failed);
    t->failed_ = true;
    uv_timer_start(&t->timer_, on_timer, 0, 0);
    return owned;
  }
  uv_timer_start(&t->timer_, on_timer, static_cast<uint64_t>(std::max<int64_t>(handshake_timeout.count(), 1)), 0);
  t->inner_->start_reading();  // the handshake needs the client's bytes whatever the owner does
  return owned;
}

TlsTransport::TlsTransport(uv_loop_t* loop, TransportPtr inner, std::shared_ptr<TlsContext> ctx)
    : inner_(std::move(inner)), session_(ctx), counters_(ctx->counters()) {
  uv_timer_init(loop, &timer_);
  timer_.data = this;
  inner_->set_handler(this);
}

void TlsTransport::count_handshake(HandshakeResult r) {
  if (counted_) return;
  counted_ = true;
  switch (r) {
    case HandshakeResult::ok:
      TlsHandshakeCounters::bump(counters_.ok);
      if (session_.resumed()) TlsHandshakeCounters::bump(counters_.resumed);
      break;
    case HandshakeResult::failed:
      TlsHandshakeCounters::bump(counters_.failed);
      if (session_.failure() == TlsSession::Failure::plain_http) TlsHandshakeCounters::bump(counters_.plain_http);
      break;
    case HandshakeResult::timeout: TlsHandshakeCounters::bump(counters_.timeout); break;
    case HandshakeResult::closed: TlsHandshakeCounters::bump(counters_.closed); break;
  }
}

void TlsTransport::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<TlsTransport*>(timer->data);
  if (self->closed_) return;
  if (self->failed_) {  // deferred report of a failure found outside a libuv callback
    if (self->handler_) self->handler_->on_error(*self, UV_EPROTO);
    return;
  }
  if (!self->handshake_done()) {
    if (self->inner_eof_) {  // the peer left mid-handshake before the owner was reading
      if (self->reading_ && self->handler_ && !self->eof_delivered_) {
        self->eof_delivered_ = true;
        self->handler_->on_eof(*self);
      }
      return;
    }
    self->count_handshake(HandshakeResult::timeout);
    if (log::enabled(log::Level::debug)) log::debug("tls: handshake timed out");
    self->fail(UV_ETIMEDOUT);
    return;
  }
  self->deliver();
}

void TlsTransport::schedule_deliver() {
  if (closed_ || !handshake_done()) return;
  uv_timer_start(&timer_, on_timer, 0, 0);
}

void TlsTransport::start_reading() {
  if (reading_ || closed_ || failed_) return;
  reading_ = true;
  if (!handshake_done()) {  // the inner transport already reads for the handshake
    if (inner_eof_) uv_timer_start(&timer_, on_timer, 0, 0);  // report the EOF seen meanwhile
    return;
  }
  if (!inner_eof_) inner_->start_reading();
  // Plaintext (or an EOF) may be waiting from before: hand it over on the next loop turn.
  schedule_deliver();
}

void TlsTransport::stop_reading() {
  if (!reading_) return;
  reading_ = false;
  if (handshake_done() && inner_) inner_->stop_reading();
}

bool TlsTransport::flush() {
  if (!inner_ || session_.pending_ciphertext() == 0) return true;
  t_cipher.clear();
  session_.drain_ciphertext(t_cipher);
  bool ok = inner_->write(t_cipher);
  if (t_cipher.capacity() > 4 * kEncryptSlice) std::string().swap(t_cipher);  // don't pin a huge buffer
  return ok;
}

void TlsTransport::on_read(Transport&, const char* data, size_t len) {
  if (closed_ || failed_) return;
  const bool was_handshaking = !handshake_done();
  session_.feed_ciphertext(data, len);
  if (was_handshaking) {
    switch (session_.state()) {
      case TlsSession::State::handshaking:
        flush();  // our handshake messages
        return;
      case TlsSession::State::failed:
        count_handshake(HandshakeResult::failed);
        if (log::enabled(log::Level::debug)) log::debug("tls: " + session_.error());
        fail(UV_EPROTO);
        return;
      default:
        count_handshake(HandshakeResult::ok);
        after_handshake();
        if (closed_ || failed_) return;
        break;
    }
  }
  deliver();
}

void TlsTransport::after_handshake() {
  uv_timer_stop(&timer_);
  flush();  // the server Finished / session ticket, and any plaintext written meanwhile
  if (!reading_) inner_->stop_reading();
}

void TlsTransport::deliver() {
  size_t budget = kDeliverBudget;
  while (reading_ && !closed_ && handler_) {
    size_t filled = 0;
    while (filled < kPlainBufferSize) {
      size_t n = session_.read_plaintext(t_plain + filled, kPlainBufferSize - filled);
      if (n == 0) break;
      filled += n;
    }
    if (filled == 0) break;
    handler_->on_read(*this, t_plain, filled);
    if (filled >= budget) {
      schedule_deliver();  // more may be buffered: continue on the next loop turn
      break;
    }
    budget -= filled;
  }
  if (closed_ || failed_) return;
  if (!flush()) return;  // key-update replies and the like; a failed inner write reports itself
  if (session_.state() == TlsSession::State::failed) {
    if (log::enabled(log::Level::debug)) log::debug("tls: " + session_.error());
    fail(UV_EPROTO);
    return;
  }
  const bool peer_done = session_.state() == TlsSession::State::closed || inner_eof_;
  if (peer_done && reading_ && !eof_delivered_ && handler_) {
    eof_delivered_ = true;
    handler_->on_eof(*this);
  }
}

void TlsTransport::on_eof(Transport&) {
  if (closed_ || failed_) return;
  inner_eof_ = true;
  if (!handshake_done()) {
    count_handshake(HandshakeResult::closed);
    uv_timer_stop(&timer_);
    // Nothing was decrypted; tell the owner the peer is gone as soon as it reads.
    if (reading_ && handler_) {
      eof_delivered_ = true;
      handler_->on_eof(*this);
    }
    return;
  }
  deliver();  // plaintext decrypted before the FIN first, then on_eof
}

void TlsTransport::on_error(Transport&, int err) {
  if (closed_ || failed_) return;
  if (!handshake_done()) count_handshake(HandshakeResult::closed);
  fail(err);
}

void TlsTransport::on_write_progress(Transport&) {
  if (closed_ || !handler_) return;
  handler_->on_write_progress(*this);
}

void TlsTransport::fail(int err) {
  if (failed_ || closed_) return;
  failed_ = true;
  uv_timer_stop(&timer_);
  flush();  // a fatal alert, if OpenSSL produced one
  if (inner_) inner_->stop_reading();
  if (handler_) handler_->on_error(*this, err);
}

bool TlsTransport::write2(std::string_view a, std::string_view b) {
  if (closed_ || failed_ || shut_) return false;
  // Small head + body pieces go out as one TLS record (one AEAD pass, one record header).
  if (!a.empty() && !b.empty() && a.size() + b.size() <= kSmallMerge) {
    std::memcpy(t_plain_out, a.data(), a.size());
    std::memcpy(t_plain_out + a.size(), b.data(), b.size());
    if (!session_.write_plaintext(t_plain_out, a.size() + b.size())) return false;
    return flush();
  }
  for (std::string_view part : {a, b}) {
    while (!part.empty()) {
      size_t n = std::min(part.size(), kEncryptSlice);
      if (!session_.write_plaintext(part.data(), n)) return false;
      part.remove_prefix(n);
      if (session_.pending_ciphertext() >= kEncryptSlice && !flush()) return false;
    }
  }
  return flush();  // one socket write for everything encrypted above
}

size_t TlsTransport::pending_write_bytes() const {
  return (inner_ ? inner_->pending_write_bytes() : 0) + session_.pending_ciphertext() + session_.held_plaintext();
}

void TlsTransport::shutdown_write() {
  if (shut_ || closed_) return;
  shut_ = true;
  if (failed_) return;
  session_.shutdown();  // close_notify (only once established)
  flush();
  inner_->shutdown_write();
}

void TlsTransport::close() {
  if (closed_) return;
  if (!counted_) count_handshake(HandshakeResult::closed);  // the owner gave up mid-handshake
  closed_ = true;
  handler_ = nullptr;
  reading_ = false;
  inner_.reset();  // closes the socket; its memory goes in its own close callback
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_),
           [](uv_handle_t* h) { delete static_cast<TlsTransport*>(h->data); });
}

bool TlsTransport::peer_address(sockaddr_storage& out) const {
  return inner_ && inner_->peer_address(out);
}

}  // namespace ebb::lb::tls
