// TLS server transport: the Transport interface (lb/transport/transport.h) over another
// transport carrying the ciphertext (a RawTcpTransport on the accepted socket), with a
// TlsSession (memory BIOs) in between. Connections above see plaintext only, so HTTP and TCP
// modes get TLS unchanged (DESIGN point 6).
//
// Handshake: runs as soon as the transport is created, whether or not the owner reads yet; it
// must finish within `handshake_timeout` or the owner gets on_error(UV_ETIMEDOUT). Each
// handshake is counted once in the worker's TlsHandshakeCounters: ok (resumed), failed
// (plain_http), timeout, or closed. A failed handshake reports on_error(UV_EPROTO) after sending
// the TLS alert, if any (nothing at all for garbage or plain HTTP).
//
// Lifetime: as for every Transport, close() hands the memory to libuv; the object is deleted
// in its timer's close callback, after the inner transport has been closed.
#pragma once
#include <uv.h>

#include <chrono>
#include <memory>

#include "lb/tls/tls_context.h"
#include "lb/tls/tls_session.h"
#include "lb/transport/transport.h"

namespace ebb::lb::tls {

inline constexpr std::chrono::milliseconds kDefaultHandshakeTimeout{10000};

class TlsTransport final : public Transport, private TransportHandler {
 public:
  // Worker thread (the one whose loop is `loop` and whose context `ctx` is). Takes over `inner`
  // (freshly accepted, no handler yet) and starts the server handshake on it. Returns null only
  // if `inner` is null. Wrap after any admission check (max_connections): closing a wrapped
  // transport before its handshake ends counts as a "closed" handshake.
  static TransportPtr wrap(uv_loop_t* loop, TransportPtr inner, std::shared_ptr<TlsContext> ctx,
                           std::chrono::milliseconds handshake_timeout = kDefaultHandshakeTimeout);

  // Transport
  void set_handler(TransportHandler* h) override { handler_ = h; }
  void start_reading() override;
  void stop_reading() override;
  bool reading() const override { return reading_; }
  bool write(std::string_view data) override { return write2(data, {}); }
  bool write2(std::string_view a, std::string_view b) override;
  size_t pending_write_bytes() const override;
  void shutdown_write() override;
  bool write_shut() const override { return shut_; }
  void close() override;
  bool peer_address(sockaddr_storage& out) const override;
  bool secure() const override { return true; }

  const TlsSession& session() const { return session_; }
  bool handshake_done() const { return session_.state() != TlsSession::State::handshaking; }

 private:
  TlsTransport(uv_loop_t* loop, TransportPtr inner, std::shared_ptr<TlsContext> ctx);

  // TransportHandler, from the inner (ciphertext) transport.
  void on_read(Transport& t, const char* data, size_t len) override;
  void on_eof(Transport& t) override;
  void on_error(Transport& t, int err) override;
  void on_write_progress(Transport& t) override;

  enum class HandshakeResult { ok, failed, timeout, closed };
  void count_handshake(HandshakeResult r);
  void after_handshake();
  bool flush();              // pending ciphertext → inner transport; false if that failed
  void deliver();            // decrypted data → handler, while it reads
  void schedule_deliver();   // deliver() on a later loop turn (never re-entrantly)
  void fail(int err);
  static void on_timer(uv_timer_t* t);

  uv_timer_t timer_;  // the handshake timeout, then deferred deliveries
  TransportPtr inner_;
  TlsSession session_;
  TlsHandshakeCounters& counters_;
  TransportHandler* handler_ = nullptr;
  bool reading_ = false;     // the owner wants on_read
  bool counted_ = false;     // the handshake result was counted
  bool inner_eof_ = false;   // the peer sent FIN
  bool eof_delivered_ = false;
  bool shut_ = false;
  bool failed_ = false;
  bool closed_ = false;
};

}  // namespace ebb::lb::tls
