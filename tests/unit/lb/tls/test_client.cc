#include "test_client.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "test_pki.h"

namespace ebb::lb::tls::test {

TestClient::TestClient(const ClientOptions& o) {
  ctx_.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_set_min_proto_version(ctx_.get(), o.min_version);
  SSL_CTX_set_max_proto_version(ctx_.get(), o.max_version);
  if (!o.ciphers.empty()) SSL_CTX_set_cipher_list(ctx_.get(), o.ciphers.c_str());
  if (!o.sigalgs.empty()) SSL_CTX_set1_sigalgs_list(ctx_.get(), o.sigalgs.c_str());
  if (!o.tickets) SSL_CTX_set_options(ctx_.get(), SSL_OP_NO_TICKET);
  // No client cache: freeing an SSL that was not shut down would mark its cached session
  // non-resumable (ssl_clear_bad_session), and the tests keep sessions themselves.
  SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_OFF);
  SSL_CTX_load_verify_locations(ctx_.get(), test_pki().root_ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
  if (!o.alpn.empty()) {
    std::string wire;
    for (const auto& p : o.alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    SSL_CTX_set_alpn_protos(ctx_.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  ssl_.reset(SSL_new(ctx_.get()));
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio_, -1);
  SSL_set_bio(ssl_.get(), rbio_, wbio_);
  SSL_set_connect_state(ssl_.get());
  if (!o.sni.empty()) {
    SSL_set_tlsext_host_name(ssl_.get(), o.sni.c_str());
    if (o.verify_name) SSL_set1_host(ssl_.get(), o.sni.c_str());
  }
  if (o.resume) SSL_set_session(ssl_.get(), o.resume);
}

TestClient::~TestClient() {
  if (done_ && !failed_) SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

int TestClient::step_handshake() {
  if (done_) return 1;
  if (failed_) return -1;
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_.get());
  if (r == 1) {
    done_ = true;
    return 1;
  }
  int e = SSL_get_error(ssl_.get(), r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  failed_ = true;
  char buf[256];
  ERR_error_string_n(ERR_peek_last_error(), buf, sizeof buf);
  error_ = buf;
  ERR_clear_error();
  return -1;
}

std::string TestClient::take_output() {
  std::string out;
  size_t n = BIO_ctrl_pending(wbio_);
  out.resize(n);
  if (n) BIO_read(wbio_, out.data(), static_cast<int>(n));
  return out;
}

void TestClient::give_input(const char* data, size_t len) {
  if (len) BIO_write(rbio_, data, static_cast<int>(len));
}
void TestClient::give_input(const std::string& bytes) { give_input(bytes.data(), bytes.size()); }

bool TestClient::write(const char* data, size_t len) {
  ERR_clear_error();
  return SSL_write(ssl_.get(), data, static_cast<int>(len)) == static_cast<int>(len);
}

bool TestClient::read_available(std::string& out) {
  char buf[16384];
  for (int i = 0; i < 100000; ++i) {
    ERR_clear_error();
    int r = SSL_read(ssl_.get(), buf, sizeof buf);
    if (r > 0) {
      out.append(buf, static_cast<size_t>(r));
      continue;
    }
    int e = SSL_get_error(ssl_.get(), r);
    if (e == SSL_ERROR_WANT_READ) return true;
    if (e == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      return true;
    }
    ERR_clear_error();
    return false;
  }
  return true;
}

std::string TestClient::peer_names() const {
  X509Ptr peer(SSL_get1_peer_certificate(ssl_.get()));
  if (!peer) return "";
  GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(peer.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::string out;
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
    if (gn->type != GEN_DNS) continue;
    if (!out.empty()) out += ",";
    out.append(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
               static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)));
  }
  return out;
}

std::string TestClient::peer_key_type() const {
  X509Ptr peer(SSL_get1_peer_certificate(ssl_.get()));
  if (!peer) return "";
  EVP_PKEY* k = X509_get0_pubkey(peer.get());
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_EC: return "EC";
    case EVP_PKEY_RSA: return "RSA";
    default: return "other";
  }
}

SSL_SESSION* TestClient::session() const {
  SSL_SESSION* s = SSL_get1_session(ssl_.get());
  if (s && !SSL_SESSION_is_resumable(s)) {
    SSL_SESSION_free(s);
    return nullptr;
  }
  return s;
}

void shuttle(TestClient& c, TlsSession& s) {
  std::string to_server = c.take_output();
  if (!to_server.empty()) s.feed_ciphertext(to_server.data(), to_server.size());
  std::string to_client;
  s.drain_ciphertext(to_client);
  c.give_input(to_client);
}

bool pump_handshake(TestClient& c, TlsSession& s, std::string* client_received) {
  for (int round = 0; round < 50; ++round) {
    c.step_handshake();
    std::string to_server = c.take_output();
    if (!to_server.empty()) s.feed_ciphertext(to_server.data(), to_server.size());
    std::string to_client;
    s.drain_ciphertext(to_client);
    c.give_input(to_client);
    if (to_server.empty() && to_client.empty()) break;
  }
  // Let the client process what arrived last (TLS 1.3 tickets come after the server's Finished).
  if (c.done()) {
    std::string data;
    c.read_available(data);
    if (client_received) *client_received += data;
  }
  return c.done() && s.state() == TlsSession::State::established;
}

void server_read_all(TlsSession& s, std::string& out) {
  char buf[16384];
  for (int i = 0; i < 100000; ++i) {
    size_t n = s.read_plaintext(buf, sizeof buf);
    if (n == 0) return;
    out.append(buf, n);
  }
}

}  // namespace ebb::lb::tls::test
