// The server-side TLS configuration of one listener on one worker: one SSL_CTX per certificate
// group (tls_certs.h), all with the same protocol settings:
//   - TLS 1.2 and 1.3 (or 1.3 only, per min_version); no renegotiation, no compression;
//   - TLS 1.2 ciphers: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only, server
//     preference (ECDSA before RSA, so ECDSA is served when a site has both certificates;
//     ChaCha20 first for clients that prefer it, i.e. phones without AES instructions);
//   - SNI: the servername callback switches the connection to the group whose SAN names match
//     (exact, then "*.suffix"); no SNI or an unknown name keeps the default certificate;
//   - ALPN from the configured list (server order), no ALPN if nothing matches;
//   - session tickets encrypted with the listener's TicketKeyStore shared by all workers, so a
//     client resumes on any worker; no server-side session cache (it would be per worker).
//     session_tickets = false turns resumption off entirely.
//
// Each worker gets its own TlsContext (its own SSL_CTXs: no cross-thread contention on their
// counters and locks); all of them share one TlsMaterial and one TicketKeyStore.
// Lifetime: a TlsSession holds a shared_ptr to its TlsContext, so a reload that publishes new
// contexts never pulls the callbacks' state out from under a connection that is mid-handshake.
#pragma once
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/lb_config.h"
#include "lb/tls/openssl_ptr.h"
#include "lb/tls/ticket_key_store.h"
#include "lb/tls/tls_certs.h"
#include "lb/tls/tls_stats.h"

namespace ebb::lb::tls {

class TlsContext {
 public:
  // Builds the SSL_CTXs for worker `worker` from loaded material. Any thread; afterwards the
  // context is used (SSL_new, callbacks) by that worker's thread. Handshakes are counted in
  // stats->worker(worker) (a private TlsStats if none is given).
  static Result<std::shared_ptr<TlsContext>> create(std::shared_ptr<const TlsMaterial> material,
                                                    std::shared_ptr<TicketKeyStore> tickets,
                                                    std::shared_ptr<TlsStats> stats = nullptr,
                                                    unsigned worker = 0);

  // load_tls_material + create, for one-off use (tests, --check).
  static Result<std::shared_ptr<TlsContext>> load(const config::Tls& cfg,
                                                  std::shared_ptr<TicketKeyStore> tickets);

  // The context a new connection starts on (the default certificate's).
  SSL_CTX* default_ctx() const { return ctxs_.front().get(); }
  const TlsMaterial& material() const { return *material_; }
  TicketKeyStore* tickets() const { return tickets_.get(); }
  // This worker's handshake counters (written by the worker only).
  TlsHandshakeCounters& counters() const { return *counters_; }

  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

 private:
  TlsContext() = default;
  Result<SslCtxPtr> build_ctx(const CertGroup& group);

  static int on_servername(SSL* ssl, int* alert, void* arg);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* outlen,
                     const unsigned char* in, unsigned int inlen, void* arg);
  static int on_ticket_key(SSL* ssl, unsigned char* key_name, unsigned char* iv,
                           EVP_CIPHER_CTX* cctx, EVP_MAC_CTX* hctx, int enc);

  std::shared_ptr<const TlsMaterial> material_;
  std::shared_ptr<TicketKeyStore> tickets_;
  std::shared_ptr<TlsStats> stats_;
  TlsHandshakeCounters* counters_ = nullptr;  // inside stats_
  EvpCipherPtr ticket_cipher_;    // AES-256-CBC, fetched once (an implicit fetch per ticket costs)
  std::vector<SslCtxPtr> ctxs_;   // one per material_->groups, same order
};

// TLS contexts of one listener for every worker, plus what survives reloads (the ticket keys).
// Owned by the control thread; workers get their context through context(worker).
class TlsContextSet {
 public:
  // Loads the files once and builds `workers` contexts. Logs the material's warnings.
  // Control thread (blocking file I/O).
  // `tickets` / `stats` carry a listener's ticket keys and counters over (null: new ones).
  static Result<std::shared_ptr<const TlsContextSet>> build(const std::string& listener,
                                                            const config::Tls& cfg, unsigned workers,
                                                            std::shared_ptr<TicketKeyStore> tickets,
                                                            std::shared_ptr<TlsStats> stats = nullptr);

  // SIGHUP: the same listener with re-read files. Returns a new set (keeping this set's ticket
  // keys, so resumption survives a reload, and its counters) or the error, in which case this
  // set stays in use.
  // Connections on the old contexts keep them (and their SSL objects) until they close.
  Result<std::shared_ptr<const TlsContextSet>> reload(const config::Tls& cfg) const;

  const std::shared_ptr<TlsContext>& context(unsigned worker) const { return contexts_.at(worker); }
  unsigned workers() const { return static_cast<unsigned>(contexts_.size()); }
  const std::shared_ptr<TicketKeyStore>& tickets() const { return tickets_; }
  const std::shared_ptr<TlsStats>& stats() const { return stats_; }
  const std::string& listener() const { return listener_; }

 private:
  std::string listener_;
  std::shared_ptr<TicketKeyStore> tickets_;
  std::shared_ptr<TlsStats> stats_;
  std::vector<std::shared_ptr<TlsContext>> contexts_;
};

}  // namespace ebb::lb::tls
