// Loading and checking the certificates and keys of one [listeners.tls] table. Done once per
// load or reload on the control thread; the result is immutable and shared by every worker's
// TlsContext (X509 / EVP_PKEY are reference-counted and safe to use from several threads).
//
// Errors name the file and what is wrong with it (missing, unreadable, not PEM, encrypted key,
// key does not match the certificate, weak RSA key). Key files are only ever named by path:
// their contents never reach a log line or an error message.
#pragma once
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/lb_config.h"
#include "lb/tls/openssl_ptr.h"
#include "lb/tls/sni_map.h"

namespace ebb::lb::tls {

enum class KeyType { ecdsa, rsa, other };
const char* to_string(KeyType t);

struct LoadedCert {
  std::string cert_path;
  std::string key_path;
  X509Ptr leaf;
  X509StackPtr chain;  // intermediates after the leaf in the PEM file (may be empty)
  EvpPkeyPtr key;
  KeyType key_type = KeyType::other;
  std::vector<std::string> names;  // lower-case DNS names from the SAN (CN if there is no SAN)
  std::string subject;             // one-line subject, for logs
};

// Certificates that share one SSL_CTX: the same names, different key types (an ECDSA and an RSA
// certificate for one site). OpenSSL then serves ECDSA to clients that support it, RSA to the rest.
struct CertGroup {
  std::vector<size_t> certs;  // indexes into TlsMaterial::certs, ECDSA first
  std::vector<std::string> names;
};

struct TlsMaterial {
  std::vector<LoadedCert> certs;  // certs[0] is the configured default `cert`
  std::vector<CertGroup> groups;  // groups[0] holds certs[0]: served without SNI / unknown name
  SniMap sni;                     // server name → group index
  int min_version = TLS1_2_VERSION;
  bool session_tickets = true;
  std::string alpn_wire;              // ALPN protocol list in wire format (length-prefixed)
  std::vector<std::string> warnings;  // e.g. an expired certificate: logged, not fatal
};

// Reads and checks one certificate chain + key. Appends non-fatal findings to `warnings`.
// Any thread (blocking file I/O: not on a worker loop).
Result<LoadedCert> load_cert(const config::TlsCert& c, std::vector<std::string>& warnings);

// Loads every certificate of `cfg`, groups them and builds the SNI map. Any thread (blocking
// file I/O: not on a worker loop).
Result<std::shared_ptr<const TlsMaterial>> load_tls_material(const config::Tls& cfg);

}  // namespace ebb::lb::tls
