#include "lb/tls/tls_context.h"

#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/tls1.h>

#include <cstring>

#include "common/log.h"
#include "lb/tls/openssl_error.h"

namespace ebb::lb::tls {

namespace {

// Mozilla "intermediate" TLS 1.2 suites minus DHE: forward secret AEADs only. Server order:
// ECDSA before RSA at each strength (ECDSA signs ~10x cheaper than RSA-2048).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
// X25519 first: the cheapest key exchange; the NIST curves for clients without it.
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr unsigned char kSessionIdContext[] = "ebb";

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::create(std::shared_ptr<const TlsMaterial> material,
                                                       std::shared_ptr<TicketKeyStore> tickets,
                                                       std::shared_ptr<TlsStats> stats, unsigned worker) {
  clear_openssl_errors();
  std::shared_ptr<TlsContext> self(new TlsContext());  // private constructor: no make_shared
  self->material_ = std::move(material);
  self->tickets_ = std::move(tickets);
  self->stats_ = stats ? std::move(stats) : std::make_shared<TlsStats>(1);
  self->counters_ = &self->stats_->worker(worker);
  if (self->material_->session_tickets) {
    if (!self->tickets_) return make_error("session tickets are on but no ticket key store was given");
    self->ticket_cipher_.reset(EVP_CIPHER_fetch(nullptr, "AES-256-CBC", nullptr));
    if (!self->ticket_cipher_) return make_error("cannot load AES-256-CBC: " + drain_openssl_errors());
  }
  for (const auto& group : self->material_->groups) {
    auto ctx = self->build_ctx(group);
    if (!ctx) return make_error(ctx.error());
    self->ctxs_.push_back(std::move(*ctx));
  }
  return self;
}

Result<std::shared_ptr<TlsContext>> TlsContext::load(const config::Tls& cfg,
                                                     std::shared_ptr<TicketKeyStore> tickets) {
  auto material = load_tls_material(cfg);
  if (!material) return make_error(material.error());
  return create(std::move(*material), std::move(tickets));
}

Result<SslCtxPtr> TlsContext::build_ctx(const CertGroup& group) {
  const TlsMaterial& m = *material_;
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return make_error("SSL_CTX_new: " + drain_openssl_errors());
  SSL_CTX* c = ctx.get();

  bool ok = SSL_CTX_set_min_proto_version(c, m.min_version) == 1 &&
            SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) == 1 &&
            SSL_CTX_set_cipher_list(c, kTls12Ciphers) == 1 && SSL_CTX_set_ciphersuites(c, kTls13Suites) == 1 &&
            SSL_CTX_set1_groups_list(c, kGroups) == 1;
  if (!ok) return make_error("cannot apply TLS protocol settings: " + drain_openssl_errors());
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
                             SSL_OP_NO_COMPRESSION);
  // Idle keep-alive connections then hold no 2 x 16 KiB record buffers (what HAProxy does too).
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);

  for (size_t idx : group.certs) {
    const LoadedCert& lc = m.certs[idx];
    if (SSL_CTX_use_cert_and_key(c, lc.leaf.get(), lc.key.get(), lc.chain.get(), 1) != 1)
      return make_error("certificate \"" + lc.cert_path + "\": " + drain_openssl_errors());
  }

  // Resumption is by tickets only: a server-side cache would be per worker (a reconnect lands
  // on a random worker) and costs a locked insert per full handshake.
  SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof kSessionIdContext - 1);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  if (m.session_tickets) {
    SSL_CTX_set_tlsext_ticket_key_evp_cb(c, &TlsContext::on_ticket_key);
    SSL_CTX_set_num_tickets(c, 1);  // one per handshake is what browsers use; the default 2 doubles the work
    SSL_CTX_set_timeout(c, static_cast<long>(kTicketLifetime.count()));
  } else {
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(c, 0);
  }

  SSL_CTX_set_app_data(c, this);
  SSL_CTX_set_tlsext_servername_callback(c, &TlsContext::on_servername);
  SSL_CTX_set_tlsext_servername_arg(c, this);
  if (!m.alpn_wire.empty()) SSL_CTX_set_alpn_select_cb(c, &TlsContext::on_alpn, this);
  clear_openssl_errors();
  return ctx;
}

// Worker thread, during a handshake.
int TlsContext::on_servername(SSL* ssl, int*, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_NOACK;  // no SNI: the default certificate
  auto group = self->material_->sni.find(name);
  if (!group) return SSL_TLSEXT_ERR_NOACK;  // unknown name: the default certificate
  SSL_CTX* target = self->ctxs_[*group].get();
  if (SSL_get_SSL_CTX(ssl) != target) SSL_set_SSL_CTX(ssl, target);
  return SSL_TLSEXT_ERR_OK;
}

// Worker thread, during a handshake. Server order wins; no overlap → no ALPN (the client then
// decides; answering with an alert would break clients that offer only h2 plus a fallback).
int TlsContext::on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                        unsigned int inlen, void* arg) {
  auto* self = static_cast<TlsContext*>(arg);
  const std::string& wire = self->material_->alpn_wire;
  unsigned char* selected = nullptr;
  unsigned char selected_len = 0;
  if (SSL_select_next_proto(&selected, &selected_len, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = selected;
  *outlen = selected_len;
  return SSL_TLSEXT_ERR_OK;
}

// Worker thread, when a ticket is issued (enc = 1) or presented (enc = 0). Returns 1 (ok),
// 2 (decrypted with an older key: issue a fresh ticket), 0 (unknown key: full handshake), -1 (error).
int TlsContext::on_ticket_key(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cctx,
                              EVP_MAC_CTX* hctx, int enc) {
  auto* self = static_cast<TlsContext*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (!self || !self->tickets_ || !self->ticket_cipher_) return -1;
  EVP_CIPHER* cipher = self->ticket_cipher_.get();
  TicketKey key;
  int ret = 1;
  if (enc) {
    self->tickets_->current(key);
    int iv_len = EVP_CIPHER_get_iv_length(cipher);
    if (iv_len <= 0 || iv_len > EVP_MAX_IV_LENGTH || RAND_bytes(iv, iv_len) != 1) {
      key.wipe();
      return -1;
    }
    std::memcpy(key_name, key.name.data(), key.name.size());
    if (EVP_EncryptInit_ex(cctx, cipher, nullptr, key.aes_key.data(), iv) != 1) {
      key.wipe();
      return -1;
    }
  } else {
    auto found = self->tickets_->find(key_name, key);
    if (found == TicketKeyStore::Lookup::not_found) return 0;
    if (EVP_DecryptInit_ex(cctx, cipher, nullptr, key.aes_key.data(), iv) != 1) {
      key.wipe();
      return -1;
    }
    ret = found == TicketKeyStore::Lookup::current ? 1 : 2;
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac_key.data(), key.hmac_key.size()),
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  int mac_ok = EVP_MAC_CTX_set_params(hctx, params);
  key.wipe();
  return mac_ok == 1 ? ret : -1;
}

Result<std::shared_ptr<const TlsContextSet>> TlsContextSet::build(const std::string& listener,
                                                                  const config::Tls& cfg, unsigned workers,
                                                                  std::shared_ptr<TicketKeyStore> tickets,
                                                                  std::shared_ptr<TlsStats> stats) {
  auto material = load_tls_material(cfg);
  if (!material) return make_error("listener \"" + listener + "\": tls: " + material.error());
  for (const auto& w : (*material)->warnings) log::warn("listener \"" + listener + "\": tls: " + w);
  auto set = std::make_shared<TlsContextSet>();
  set->listener_ = listener;
  if (workers == 0) workers = 1;
  set->tickets_ = tickets ? std::move(tickets) : std::make_shared<TicketKeyStore>();
  set->stats_ = stats && stats->workers() == workers ? std::move(stats) : std::make_shared<TlsStats>(workers);
  for (unsigned i = 0; i < workers; ++i) {
    auto ctx = TlsContext::create(*material, set->tickets_, set->stats_, i);
    if (!ctx) return make_error("listener \"" + listener + "\": tls: " + ctx.error());
    set->contexts_.push_back(std::move(*ctx));
  }
  return std::shared_ptr<const TlsContextSet>(std::move(set));
}

Result<std::shared_ptr<const TlsContextSet>> TlsContextSet::reload(const config::Tls& cfg) const {
  return build(listener_, cfg, workers(), tickets_, stats_);
}

}  // namespace ebb::lb::tls
