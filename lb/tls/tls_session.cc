#include "lb/tls/tls_session.h"

#include <openssl/err.h>

#include <algorithm>
#include <climits>
#include <cstdio>

#include "lb/tls/openssl_error.h"

namespace ebb::lb::tls {

namespace {

constexpr unsigned char kTlsHandshakeRecord = 0x16;
constexpr size_t kMaxChunk = 1u << 30;  // SSL_read/SSL_write/BIO_write take an int

// Methods a plain-HTTP client starts with (RFC 9110 §9 plus the HTTP/2 preface "PRI").
bool looks_like_http(const char* data, size_t len) {
  static constexpr std::string_view kMethods[] = {"GET ",   "HEAD ",    "POST ",  "PUT ", "DELETE ",
                                                  "OPTIONS ", "CONNECT ", "TRACE ", "PATCH ", "PRI "};
  std::string_view got(data, len);
  for (auto m : kMethods) {
    size_t n = std::min(got.size(), m.size());
    if (got.substr(0, n) == m.substr(0, n)) return true;
  }
  return false;
}

}  // namespace

const char* to_string(TlsSession::State s) {
  switch (s) {
    case TlsSession::State::handshaking: return "handshaking";
    case TlsSession::State::established: return "established";
    case TlsSession::State::closed: return "closed";
    case TlsSession::State::failed: return "failed";
  }
  return "?";
}

const char* to_string(TlsSession::Failure f) {
  switch (f) {
    case TlsSession::Failure::none: return "none";
    case TlsSession::Failure::not_tls: return "not_tls";
    case TlsSession::Failure::plain_http: return "plain_http";
    case TlsSession::Failure::handshake: return "handshake";
    case TlsSession::Failure::protocol: return "protocol";
    case TlsSession::Failure::closed_in_handshake: return "closed_in_handshake";
    case TlsSession::Failure::internal: return "internal";
  }
  return "?";
}

TlsSession::TlsSession(std::shared_ptr<TlsContext> ctx) : ctx_(std::move(ctx)) {
  clear_openssl_errors();
  ssl_.reset(SSL_new(ctx_->default_ctx()));
  BIO* r = BIO_new(BIO_s_mem());
  BIO* w = BIO_new(BIO_s_mem());
  if (!ssl_ || !r || !w) {
    BIO_free(r);
    BIO_free(w);
    fail(Failure::internal, "cannot create TLS session: " + drain_openssl_errors("out of memory"));
    return;
  }
  // An empty read BIO means "no data yet" (retry), not end of file (TOOLCHAIN.md).
  BIO_set_mem_eof_return(r, -1);
  SSL_set_bio(ssl_.get(), r, w);  // the SSL owns both BIOs now
  rbio_ = r;
  wbio_ = w;
  SSL_set_accept_state(ssl_.get());
}

void TlsSession::fail(Failure f, std::string why) {
  state_ = State::failed;
  failure_ = f;
  error_ = std::move(why);
  early_plaintext_.clear();
}

// A TLS client's first record is a handshake record (0x16). Anything else is garbage or a
// plain-text protocol; reject it before OpenSSL spends work on it, and answer nothing.
bool TlsSession::check_first_bytes(const char* data, size_t len) {
  if (saw_first_byte_ || len == 0) return true;
  saw_first_byte_ = true;
  auto first = static_cast<unsigned char>(data[0]);
  if (first == kTlsHandshakeRecord) return true;
  if (looks_like_http(data, len)) {
    fail(Failure::plain_http, "http request on https port");
  } else {
    char why[64];
    std::snprintf(why, sizeof why, "not a TLS handshake (first byte 0x%02x)", first);
    fail(Failure::not_tls, why);
  }
  return false;
}

TlsSession::State TlsSession::feed_ciphertext(const char* data, size_t len) {
  if (state_ == State::failed || state_ == State::closed) return state_;
  if (!check_first_bytes(data, len)) return state_;
  while (len > 0) {
    int n = static_cast<int>(std::min(len, kMaxChunk));
    if (BIO_write(rbio_, data, n) != n) {
      fail(Failure::internal, "out of memory buffering TLS input");
      return state_;
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  if (state_ == State::handshaking) return do_handshake();
  return state_;
}

TlsSession::State TlsSession::do_handshake() {
  clear_openssl_errors();
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    state_ = State::established;
    if (!early_plaintext_.empty()) {
      // Sent right behind the handshake. Used at most once per connection: free the memory.
      std::string pending;
      pending.swap(early_plaintext_);
      write_now(pending.data(), pending.size());
    }
    return state_;
  }
  switch (SSL_get_error(ssl_.get(), r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:  // cannot happen with a memory BIO; treat as "wait"
      return state_;
    case SSL_ERROR_ZERO_RETURN:
      fail(Failure::closed_in_handshake, "peer closed the connection during the handshake");
      break;
    default: {
      unsigned long e = ERR_peek_last_error();
      // A received fatal alert (e.g. the client rejected our certificate) is the peer's choice.
      bool alert = ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) >= SSL_AD_REASON_OFFSET;
      std::string why = drain_openssl_errors("handshake failed");
      fail(alert ? Failure::closed_in_handshake : Failure::handshake, "handshake failed: " + why);
      break;
    }
  }
  return state_;
}

size_t TlsSession::read_plaintext(char* buf, size_t cap) {
  if (state_ != State::established || cap == 0) return 0;
  clear_openssl_errors();
  int r = SSL_read(ssl_.get(), buf, static_cast<int>(std::min(cap, kMaxChunk)));
  if (r > 0) return static_cast<size_t>(r);
  switch (SSL_get_error(ssl_.get(), r)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return 0;
    case SSL_ERROR_ZERO_RETURN:
      state_ = State::closed;  // close_notify received
      return 0;
    default:
      fail(Failure::protocol, "TLS error: " + drain_openssl_errors("read failed"));
      return 0;
  }
}

bool TlsSession::write_now(const char* data, size_t len) {
  while (len > 0) {
    clear_openssl_errors();
    int n = static_cast<int>(std::min(len, kMaxChunk));
    int r = SSL_write(ssl_.get(), data, n);
    if (r <= 0) {
      fail(Failure::protocol, "TLS error: " + drain_openssl_errors("write failed"));
      return false;
    }
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE a successful SSL_write wrote everything.
    data += r;
    len -= static_cast<size_t>(r);
  }
  return true;
}

bool TlsSession::write_plaintext(const char* data, size_t len) {
  if (state_ == State::failed || shutdown_sent_) return false;
  if (len == 0) return true;
  if (state_ == State::handshaking) {
    early_plaintext_.append(data, len);
    return true;
  }
  return write_now(data, len);
}

void TlsSession::shutdown() {
  if (shutdown_sent_ || state_ == State::failed) return;
  shutdown_sent_ = true;
  early_plaintext_.clear();
  if (state_ == State::handshaking) return;  // nothing to close politely: the caller just closes
  clear_openssl_errors();
  SSL_shutdown(ssl_.get());  // 0 = close_notify queued, peer's not seen yet: fine, we don't wait
  clear_openssl_errors();
}

size_t TlsSession::pending_ciphertext() const { return wbio_ ? BIO_ctrl_pending(wbio_) : 0; }

size_t TlsSession::drain_ciphertext(std::string& out) {
  size_t n = pending_ciphertext();
  if (n == 0) return 0;
  size_t old = out.size();
  out.resize(old + n);
  size_t got = read_ciphertext(out.data() + old, n);
  out.resize(old + got);
  return got;
}

size_t TlsSession::read_ciphertext(char* dst, size_t cap) {
  if (!wbio_ || cap == 0) return 0;
  int r = BIO_read(wbio_, dst, static_cast<int>(std::min(cap, kMaxChunk)));
  return r > 0 ? static_cast<size_t>(r) : 0;
}

std::string_view TlsSession::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int len = 0;
  if (ssl_) SSL_get0_alpn_selected(ssl_.get(), &p, &len);
  return p ? std::string_view(reinterpret_cast<const char*>(p), len) : std::string_view();
}

std::string_view TlsSession::server_name() const {
  const char* n = ssl_ ? SSL_get_servername(ssl_.get(), TLSEXT_NAMETYPE_host_name) : nullptr;
  return n ? std::string_view(n) : std::string_view();
}

const char* TlsSession::version() const { return ssl_ ? SSL_get_version(ssl_.get()) : ""; }

const char* TlsSession::cipher() const {
  const char* c = ssl_ ? SSL_get_cipher_name(ssl_.get()) : nullptr;
  return c ? c : "";
}

bool TlsSession::resumed() const { return ssl_ && SSL_session_reused(ssl_.get()) == 1; }

}  // namespace ebb::lb::tls
