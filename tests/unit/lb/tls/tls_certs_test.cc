#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "lb/tls/tls_certs.h"
#include "lb/tls/tls_context.h"
#include "test_pki.h"
#include "tls_config.h"

using namespace ebb::lb::tls;
using namespace ebb::lb::tls::test;
using Catch::Matchers::Contains;

namespace {

bool any_contains(const std::vector<std::string>& v, const std::string& needle) {
  return std::any_of(v.begin(), v.end(), [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

}  // namespace

TEST_CASE("tls_certs: a chain file and its key load with SAN names and the intermediate", "[tls][certs]") {
  std::vector<std::string> warnings;
  auto c = load_cert({test_pki().ecdsa_site.cert, test_pki().ecdsa_site.key}, warnings);
  REQUIRE(c.ok());
  CHECK(c->key_type == KeyType::ecdsa);
  CHECK(c->names == std::vector<std::string>{"example.com", "www.example.com"});
  CHECK(sk_X509_num(c->chain.get()) == 1);
  CHECK(warnings.empty());

  auto r = load_cert({test_pki().rsa_wildcard.cert, test_pki().rsa_wildcard.key}, warnings);
  REQUIRE(r.ok());
  CHECK(r->key_type == KeyType::rsa);
  CHECK(r->names == std::vector<std::string>{"*.example.org"});
}

TEST_CASE("tls_certs: clear errors for missing, non-PEM, mismatched, encrypted and weak keys", "[tls][certs]") {
  const auto& pki = test_pki();
  std::vector<std::string> w;
  auto missing = load_cert({pki.dir + "/nope.pem", pki.ecdsa_site.key}, w);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error(), Contains("nope.pem") && Contains("No such file"));

  auto missing_key = load_cert({pki.ecdsa_site.cert, pki.dir + "/nope.key"}, w);
  REQUIRE_FALSE(missing_key.ok());
  CHECK_THAT(missing_key.error(), Contains("key file") && Contains("nope.key"));

  auto garbage = load_cert({pki.garbage, pki.ecdsa_site.key}, w);
  REQUIRE_FALSE(garbage.ok());
  CHECK_THAT(garbage.error(), Contains("holds no PEM certificate"));

  auto garbage_key = load_cert({pki.ecdsa_site.cert, pki.garbage}, w);
  REQUIRE_FALSE(garbage_key.ok());
  CHECK_THAT(garbage_key.error(), Contains("holds no PEM private key"));

  auto mismatch = load_cert({pki.mismatched.cert, pki.mismatched.key}, w);
  REQUIRE_FALSE(mismatch.ok());
  CHECK_THAT(mismatch.error(), Contains("does not match the certificate"));

  auto enc = load_cert({pki.encrypted_key.cert, pki.encrypted_key.key}, w);
  REQUIRE_FALSE(enc.ok());
  CHECK_THAT(enc.error(), Contains("encrypted"));

  auto weak = load_cert({pki.weak_rsa.cert, pki.weak_rsa.key}, w);
  REQUIRE_FALSE(weak.ok());
  CHECK_THAT(weak.error(), Contains("1024 bits is too weak"));

  // A FIFO must not block the loader (open is non-blocking; only regular files are read).
  std::string fifo = pki.dir + "/fifo.pem";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  auto f = load_cert({fifo, pki.ecdsa_site.key}, w);
  REQUIRE_FALSE(f.ok());
  CHECK_THAT(f.error(), Contains("not a regular file"));

  auto dir = load_cert({pki.dir, pki.ecdsa_site.key}, w);
  REQUIRE_FALSE(dir.ok());
  CHECK_THAT(dir.error(), Contains("not a regular file"));
}

TEST_CASE("tls_certs: an unreadable key file is an error naming the path only", "[tls][certs]") {
  if (geteuid() == 0) {
    WARN("skipped: running as root, which can read any file");
    return;
  }
  const auto& pki = test_pki();
  std::string key = write_test_file("unreadable.key", "-----BEGIN PRIVATE KEY-----\nsecret\n");
  REQUIRE(chmod(key.c_str(), 0) == 0);
  std::vector<std::string> w;
  auto r = load_cert({pki.ecdsa_site.cert, key}, w);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), Contains("Permission denied") && Contains("unreadable.key"));
  CHECK_THAT(r.error(), !Contains("secret"));
}

TEST_CASE("tls_certs: error messages never contain key material", "[tls][certs]") {
  const auto& pki = test_pki();
  // A key file whose text is a certificate: the parse fails; the message names only the path.
  std::vector<std::string> w;
  auto r = load_cert({pki.ecdsa_site.cert, pki.rsa_site.cert}, w);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error(), !Contains("BEGIN"));
  auto m = load_cert({pki.mismatched.cert, pki.mismatched.key}, w);
  REQUIRE_FALSE(m.ok());
  CHECK_THAT(m.error(), !Contains("PRIVATE"));
}

TEST_CASE("tls_certs: an expired certificate loads with a warning, a world-readable key warns", "[tls][certs]") {
  const auto& pki = test_pki();
  std::vector<std::string> w;
  auto r = load_cert({pki.expired.cert, pki.expired.key}, w);
  REQUIRE(r.ok());
  CHECK(any_contains(w, "expired on"));
  CHECK(any_contains(w, "expired.pem"));

  std::string open_key = write_test_file("world_readable.key", "");
  {
    // Same key bytes, mode 0644.
    FILE* in = fopen(pki.ecdsa_site.key.c_str(), "rb");
    FILE* out = fopen(open_key.c_str(), "wb");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    chmod(open_key.c_str(), 0644);
  }
  std::vector<std::string> w2;
  REQUIRE(load_cert({pki.ecdsa_site.cert, open_key}, w2).ok());
  CHECK(any_contains(w2, "readable by every user"));
}

TEST_CASE("tls_certs: material groups an ECDSA and an RSA certificate with the same names", "[tls][certs]") {
  const auto& pki = test_pki();
  auto m = load_tls_material(tls_config(pki.rsa_site, {pki.ecdsa_site, pki.rsa_wildcard, pki.ecdsa_api}));
  REQUIRE(m.ok());
  const TlsMaterial& mat = **m;
  REQUIRE(mat.groups.size() == 3);
  REQUIRE(mat.groups[0].certs.size() == 2);
  CHECK(mat.certs[mat.groups[0].certs[0]].key_type == KeyType::ecdsa);  // ECDSA first
  CHECK(mat.sni.find("www.example.com") == 0u);
  CHECK(mat.sni.find("x.example.org") == 1u);
  CHECK(mat.sni.find("api.example.net") == 2u);
}

TEST_CASE("tls_certs: bad min_version and ALPN entries are errors", "[tls][certs]") {
  const auto& pki = test_pki();
  auto cfg = tls_config(pki.ecdsa_site, {}, "1.1");
  auto m = load_tls_material(cfg);
  REQUIRE_FALSE(m.ok());
  CHECK_THAT(m.error(), Contains("min_version"));
  cfg = tls_config(pki.ecdsa_site);
  cfg.alpn = {""};
  auto a = load_tls_material(cfg);
  REQUIRE_FALSE(a.ok());
  CHECK_THAT(a.error(), Contains("alpn"));
}

TEST_CASE("tls_context: a set builds one context per worker sharing the ticket keys, reload keeps them",
          "[tls][context]") {
  const auto& pki = test_pki();
  auto set = TlsContextSet::build("web", tls_config(pki.ecdsa_site), 3, nullptr);
  REQUIRE(set.ok());
  REQUIRE((*set)->workers() == 3);
  CHECK((*set)->context(0) != (*set)->context(1));
  CHECK((*set)->context(0)->default_ctx() != (*set)->context(1)->default_ctx());
  CHECK((*set)->context(0)->tickets() == (*set)->context(2)->tickets());

  auto bad = (*set)->reload(tls_config(pki.mismatched));
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error(), Contains("listener \"web\"") && Contains("does not match"));

  auto next = (*set)->reload(tls_config(pki.ecdsa_site_v2));
  REQUIRE(next.ok());
  CHECK((*next)->tickets() == (*set)->tickets());
  CHECK((*next)->context(0) != (*set)->context(0));
}
