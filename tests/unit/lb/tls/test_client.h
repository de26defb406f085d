// An OpenSSL TLS client over memory BIOs, and a pump that shuttles bytes between it and a
// TlsSession in memory, so the server side is tested without sockets or an event loop.
#pragma once
#include <openssl/ssl.h>

#include <string>
#include <vector>

#include "lb/tls/openssl_ptr.h"
#include "lb/tls/tls_session.h"

namespace ebb::lb::tls::test {

struct ClientOptions {
  std::string sni;                 // "" = send no SNI
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string ciphers;             // TLS 1.2 list, "" = OpenSSL default
  std::string sigalgs;             // "" = default
  std::vector<std::string> alpn;   // offered protocols
  SSL_SESSION* resume = nullptr;   // session to offer (not owned)
  bool tickets = true;
  bool verify_name = true;         // check the certificate against `sni` (the chain is always verified)
};

class TestClient {
 public:
  explicit TestClient(const ClientOptions& o);
  // Sends close_notify if the handshake finished: OpenSSL marks the session of an SSL freed
  // without a shutdown non-resumable, and real clients close cleanly.
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  // Runs the client's side of the handshake as far as the bytes it has allow.
  // Returns 1 done, 0 waiting, -1 failed.
  int step_handshake();
  bool done() const { return done_; }
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }

  // Bytes for the server / from the server.
  std::string take_output();
  void give_input(const std::string& bytes);
  void give_input(const char* data, size_t len);

  // Application data (after the handshake).
  bool write(const char* data, size_t len);
  // Appends what can be decrypted now to `out`; returns false on a fatal error.
  bool read_available(std::string& out);
  bool peer_closed() const { return peer_closed_; }

  SSL* ssl() const { return ssl_.get(); }
  // The peer certificate's subjectAltName DNS entries, comma-separated.
  std::string peer_names() const;
  // The peer certificate's public key type: "EC" or "RSA".
  std::string peer_key_type() const;
  // A resumable session once the handshake is done and tickets were read (null if none).
  SSL_SESSION* session() const;  // caller frees with SSL_SESSION_free

 private:
  SslCtxPtr ctx_;
  SslPtr ssl_;
  BIO* rbio_ = nullptr;
  BIO* wbio_ = nullptr;
  bool done_ = false;
  bool failed_ = false;
  bool peer_closed_ = false;
  std::string error_;
};

// Moves bytes both ways until neither side has anything to say (bounded). Returns true when
// both handshakes finished. Application data the client received on the way (the server may
// write during its handshake) is appended to `client_received` if given.
bool pump_handshake(TestClient& c, TlsSession& s, std::string* client_received = nullptr);

// Moves pending ciphertext client→server and server→client once each way.
void shuttle(TestClient& c, TlsSession& s);

// Reads everything the server can decrypt now into `out`.
void server_read_all(TlsSession& s, std::string& out);

}  // namespace ebb::lb::tls::test
