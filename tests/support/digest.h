// Hashing helpers for the test backend on OpenSSL EVP: incremental SHA-256 for /echo bodies of
// any size, and the SHA-1 + base64 of the WebSocket handshake (RFC 6455 §4.2.2).
#pragma once
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace ebb::testbackend {

// Incremental SHA-256. Single-threaded use; the EVP context is owned (RAII).
class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  // Lower-case hex digest; the object must not be updated afterwards.
  std::string hex_digest();

 private:
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxFree> ctx_;
};

// base64(SHA-1(key + RFC 6455 GUID)): the Sec-WebSocket-Accept value for a client key.
std::string websocket_accept_key(std::string_view client_key);

}  // namespace ebb::testbackend
