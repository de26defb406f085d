#include "test_pki.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "lb/tls/openssl_ptr.h"

namespace ebb::lb::tls::test {

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "test_pki: %s failed\n", what);
  std::abort();
}

EvpPkeyPtr ec_key() {
  EvpPkeyPtr k(EVP_EC_gen("P-256"));
  if (!k) die("EVP_EC_gen");
  return k;
}

EvpPkeyPtr rsa_key(unsigned bits) {
  EvpPkeyPtr k(EVP_RSA_gen(bits));
  if (!k) die("EVP_RSA_gen");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext || X509_add_ext(cert, ext, -1) != 1) die("X509_add_ext");
  X509_EXTENSION_free(ext);
}

// issuer == nullptr: self-signed.
X509Ptr make_cert(const char* cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool ca,
                  const char* san, long not_before_s, long not_after_s) {
  static long serial = 1;
  X509Ptr x(X509_new());
  if (!x) die("X509_new");
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial++);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), not_before_s);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), not_after_s);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("ebb tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* iss = issuer ? issuer : x.get();
  add_ext(x.get(), iss, NID_subject_key_identifier, "hash");
  if (issuer) add_ext(x.get(), iss, NID_authority_key_identifier, "keyid:always");
  if (ca) {
    add_ext(x.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x.get(), iss, NID_ext_key_usage, "serverAuth");
    if (san) add_ext(x.get(), iss, NID_subject_alt_name, san);
  }
  if (X509_sign(x.get(), issuer_key ? issuer_key : key, EVP_sha256()) <= 0) die("X509_sign");
  return x;
}

std::string pem_of(X509* x) {
  BioPtr b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(b.get(), x);
  char* p = nullptr;
  long n = BIO_get_mem_data(b.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

std::string pem_of(EVP_PKEY* k, const char* passphrase = nullptr) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (passphrase)
    PEM_write_bio_PrivateKey(b.get(), k, EVP_aes_256_cbc(), nullptr, 0, nullptr, const_cast<char*>(passphrase));
  else
    PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  char* p = nullptr;
  long n = BIO_get_mem_data(b.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

std::string g_dir;

void remove_dir() {
  std::error_code ec;
  if (!g_dir.empty()) std::filesystem::remove_all(g_dir, ec);
}

constexpr long kDay = 24 * 3600;

TestPki generate() {
  TestPki pki;
  std::string tmpl = (std::filesystem::temp_directory_path() / "ebb-tls-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) die("mkdtemp");
  g_dir = pki.dir = tmpl;
  std::atexit(remove_dir);

  auto root_key = ec_key();
  auto root = make_cert("ebb test root CA", root_key.get(), nullptr, nullptr, true, nullptr, -kDay, 365 * kDay);
  auto int_key = ec_key();
  auto inter = make_cert("ebb test intermediate CA", int_key.get(), root.get(), root_key.get(), true, nullptr,
                         -kDay, 365 * kDay);
  const std::string inter_pem = pem_of(inter.get());
  pki.root_ca = write_test_file("root.pem", pem_of(root.get()));

  auto leaf = [&](const char* name, EVP_PKEY* key, const char* cn, const char* san, long nb, long na) {
    auto x = make_cert(cn, key, inter.get(), int_key.get(), false, san, nb, na);
    CertFiles f;
    f.cert = write_test_file(std::string(name) + ".pem", pem_of(x.get()) + inter_pem);
    f.key = write_test_file(std::string(name) + ".key", pem_of(key));
    std::filesystem::permissions(f.key, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return f;
  };
  auto site_ec = ec_key();
  auto site_rsa = rsa_key(2048);
  auto wild_rsa = rsa_key(2048);
  auto api_ec = ec_key();
  auto v2_ec = ec_key();
  auto old_ec = ec_key();
  auto weak = rsa_key(1024);
  const char* site_san = "DNS:example.com,DNS:www.example.com";
  pki.ecdsa_site = leaf("ecdsa_site", site_ec.get(), "example.com", site_san, -kDay, 90 * kDay);
  pki.rsa_site = leaf("rsa_site", site_rsa.get(), "example.com", site_san, -kDay, 90 * kDay);
  pki.rsa_wildcard = leaf("rsa_wildcard", wild_rsa.get(), "*.example.org", "DNS:*.example.org", -kDay, 90 * kDay);
  pki.ecdsa_api = leaf("ecdsa_api", api_ec.get(), "api.example.net", "DNS:api.example.net", -kDay, 90 * kDay);
  pki.ecdsa_site_v2 = leaf("ecdsa_site_v2", v2_ec.get(), "example.com v2", site_san, -kDay, 90 * kDay);
  pki.expired = leaf("expired", old_ec.get(), "old.example.com", "DNS:old.example.com", -10 * kDay, -kDay);
  pki.weak_rsa = leaf("weak_rsa", weak.get(), "weak.example.com", "DNS:weak.example.com", -kDay, 90 * kDay);
  pki.mismatched = CertFiles{pki.ecdsa_site.cert, pki.ecdsa_api.key};
  pki.encrypted_key = CertFiles{pki.ecdsa_api.cert, write_test_file("encrypted.key", pem_of(api_ec.get(), "secret"))};
  pki.garbage = write_test_file("garbage.pem", "this is not a certificate\n");
  return pki;
}

}  // namespace

std::string write_test_file(const std::string& name, const std::string& content) {
  std::string path = g_dir + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << content;
  if (!f) die("write_test_file");
  return path;
}

const TestPki& test_pki() {
  static const TestPki pki = generate();
  return pki;
}

}  // namespace ebb::lb::tls::test
