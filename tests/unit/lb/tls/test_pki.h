// Test certificates generated at test time with the OpenSSL API (no files in the repository,
// no dependency on the openssl CLI): a root CA, an intermediate CA, and leaves signed by the
// intermediate, written as PEM files into a fresh temporary directory that is removed at exit.
#pragma once
#include <string>

namespace ebb::lb::tls::test {

struct CertFiles {
  std::string cert;  // leaf + intermediate (chain order)
  std::string key;
};

struct TestPki {
  std::string dir;
  std::string root_ca;         // PEM of the root CA (trust anchor for clients)
  CertFiles ecdsa_site;        // ECDSA P-256, SAN example.com, www.example.com
  CertFiles rsa_site;          // RSA 2048, same names as ecdsa_site
  CertFiles rsa_wildcard;      // RSA 2048, SAN *.example.org
  CertFiles ecdsa_api;         // ECDSA P-256, SAN api.example.net
  CertFiles ecdsa_site_v2;     // ECDSA P-256, SAN example.com, www.example.com (a renewed cert)
  CertFiles expired;           // ECDSA P-256, SAN old.example.com, expired yesterday
  CertFiles mismatched;        // ecdsa_site's certificate with ecdsa_api's key
  CertFiles encrypted_key;     // ecdsa_api's certificate with its key encrypted (AES-256)
  CertFiles weak_rsa;          // RSA 1024
  std::string garbage;         // a file that is not PEM
};

// Generated on first use (once per process). Aborts the test run on failure.
const TestPki& test_pki();

// Writes `content` to a new file in the PKI directory and returns its path.
std::string write_test_file(const std::string& name, const std::string& content);

}  // namespace ebb::lb::tls::test
