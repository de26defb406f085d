// One server-side TLS connection with no I/O of its own: ciphertext goes in through
// feed_ciphertext() (bytes the caller read from the socket) and comes out through
// drain_ciphertext() (bytes the caller must write to the socket); plaintext is read with
// read_plaintext() and written with write_plaintext(). OpenSSL memory BIOs sit in between
// (DESIGN point 6); a memory BIO never blocks, so WANT_WRITE never happens and WANT_READ only
// means "feed me more".
//
// After every call the caller drains the ciphertext: handshake messages, alerts, session
// tickets and key-update replies are produced by feed/read calls too, not only by writes.
//
// Thread: one worker; not thread-safe. The session keeps its TlsContext alive.
#pragma once
#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "lb/tls/openssl_ptr.h"
#include "lb/tls/tls_context.h"

namespace ebb::lb::tls {

class TlsSession {
 public:
  enum class State {
    handshaking,  // waiting for the client's handshake messages
    established,  // application data flows both ways
    closed,       // the peer sent close_notify: no more plaintext will come; writing still works
    failed,       // fatal: see failure() / error(); only an alert (if any) is left to send
  };
  enum class Failure {
    none,
    not_tls,          // the first bytes are not a TLS handshake record (garbage); nothing is sent back
    plain_http,       // an HTTP request on a TLS port; nothing is sent back
    handshake,        // the TLS handshake failed (protocol version, no shared cipher, bad message...)
    protocol,         // a TLS error after the handshake (bad record MAC, unexpected message...)
    closed_in_handshake,  // the peer sent an alert / close_notify before finishing the handshake
    internal,         // out of memory and the like
  };

  // Starts a session on the context's default certificate. Worker thread.
  explicit TlsSession(std::shared_ptr<TlsContext> ctx);
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Takes bytes received from the peer and advances the handshake if it is still running.
  // Returns the state afterwards. Decrypted data is then available through read_plaintext().
  State feed_ciphertext(const char* data, size_t len);

  // Decrypts into `buf` (at most `cap` bytes). Returns the number of bytes, 0 when nothing more
  // can be decrypted from what was fed so far; check state() for closed / failed.
  size_t read_plaintext(char* buf, size_t cap);

  // Encrypts `data` for the peer. During the handshake the bytes are held and sent once it
  // completes. Returns false (nothing queued) if the session failed or shutdown() was called.
  bool write_plaintext(const char* data, size_t len);

  // Queues a close_notify alert (once). Nothing more can be written afterwards.
  void shutdown();

  // Ciphertext waiting to go to the socket.
  size_t pending_ciphertext() const;
  // Plaintext written during the handshake, held until it completes.
  size_t held_plaintext() const { return early_plaintext_.size(); }
  // Appends all pending ciphertext to `out` (reusing its capacity) and returns how much.
  size_t drain_ciphertext(std::string& out);
  // Moves up to `cap` bytes of pending ciphertext to `dst`; returns how many.
  size_t read_ciphertext(char* dst, size_t cap);

  State state() const { return state_; }
  Failure failure() const { return failure_; }
  // Why the session failed (for logs; never contains key material). Empty unless failed.
  const std::string& error() const { return error_; }
  bool shutdown_sent() const { return shutdown_sent_; }

  // Negotiated parameters (meaningful once established).
  std::string_view alpn() const;
  std::string_view server_name() const;  // SNI sent by the client, "" if none
  const char* version() const;           // "TLSv1.2", "TLSv1.3"
  const char* cipher() const;
  bool resumed() const;
  SSL* ssl() const { return ssl_.get(); }

 private:
  State do_handshake();
  void fail(Failure f, std::string why);
  bool check_first_bytes(const char* data, size_t len);
  bool write_now(const char* data, size_t len);

  std::shared_ptr<TlsContext> ctx_;
  SslPtr ssl_;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  State state_ = State::handshaking;
  Failure failure_ = Failure::none;
  bool saw_first_byte_ = false;
  bool shutdown_sent_ = false;
  std::string early_plaintext_;  // written before the handshake finished
  std::string error_;
};

const char* to_string(TlsSession::State s);
const char* to_string(TlsSession::Failure f);

}  // namespace ebb::lb::tls
