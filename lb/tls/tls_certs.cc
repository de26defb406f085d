#include "lb/tls/tls_certs.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lb/tls/openssl_error.h"

namespace ebb::lb::tls {

const char* to_string(KeyType t) {
  switch (t) {
    case KeyType::ecdsa: return "ECDSA";
    case KeyType::rsa: return "RSA";
    case KeyType::other: return "other";
  }
  return "?";
}

namespace {

constexpr size_t kMaxPemBytes = 1 << 20;  // a chain file is a few KiB; refuse /dev/zero & co.
constexpr int kMinRsaBits = 2048;

// A file's bytes; wiped on destruction because it may hold a private key.
class SecretBytes {
 public:
  ~SecretBytes() {
    if (!data_.empty()) OPENSSL_cleanse(data_.data(), data_.size());
  }
  std::string& str() { return data_; }

 private:
  std::string data_;
};

// Reads a whole regular file. `what` is "certificate" or "key" for the message.
Result<void> read_file(const std::string& path, const char* what, SecretBytes& out) {
  if (path.empty()) return make_error(std::string("no ") + what + " file given");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return make_error(std::string("cannot open ") + what + " file \"" + path + "\": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error(std::string(what) + " file \"" + path + "\" is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxPemBytes) {
    ::close(fd);
    return make_error(std::string(what) + " file \"" + path + "\" is too large for a PEM file");
  }
  out.str().resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.str().size()) {
    ssize_t n = ::read(fd, out.str().data() + got, out.str().size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return make_error(std::string("cannot read ") + what + " file \"" + path + "\": " + std::strerror(e));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.str().resize(got);
  ::close(fd);
  return {};
}

BioPtr mem_bio(const std::string& s) {
  return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

std::string asn1_time_text(const ASN1_TIME* t) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || ASN1_TIME_print(b.get(), t) != 1) return "?";
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string subject_text(X509* x) {
  BioPtr b(BIO_new(BIO_s_mem()));
  if (!b || X509_NAME_print_ex(b.get(), X509_get_subject_name(x), 0, XN_FLAG_ONELINE) < 0) return "?";
  char* data = nullptr;
  long n = BIO_get_mem_data(b.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// PEM password callback that never prompts (the default one would read the terminal).
int no_passphrase(char*, int, int, void* asked) {
  *static_cast<bool*>(asked) = true;
  return -1;
}

bool is_pem_end(unsigned long err) {
  return ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
}

std::vector<std::string> dns_names(X509* x, bool& from_cn) {
  std::vector<std::string> names;
  from_cn = false;
  GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr)));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      if (gn->type != GEN_DNS) continue;
      const unsigned char* p = ASN1_STRING_get0_data(gn->d.dNSName);
      int len = ASN1_STRING_length(gn->d.dNSName);
      std::string n(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
      if (n.find('\0') != std::string::npos) continue;  // embedded NUL: a forged name
      std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      names.push_back(std::move(n));
    }
  }
  if (names.empty()) {
    X509_NAME* subj = X509_get_subject_name(x);
    int idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    if (idx >= 0) {
      ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
      unsigned char* utf8 = nullptr;
      int len = ASN1_STRING_to_UTF8(&utf8, cn);
      if (len > 0) {
        std::string n(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
        if (n.find('\0') == std::string::npos) {
          std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          names.push_back(std::move(n));
          from_cn = true;
        }
      }
      OPENSSL_free(utf8);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

void check_validity(X509* x, const std::string& label, std::vector<std::string>& warnings) {
  if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
    warnings.push_back(label + " expired on " + asn1_time_text(X509_get0_notAfter(x)) +
                       "; clients will reject it");
  else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
    warnings.push_back(label + " is not valid before " + asn1_time_text(X509_get0_notBefore(x)));
}

}  // namespace

Result<LoadedCert> load_cert(const config::TlsCert& c, std::vector<std::string>& warnings) {
  clear_openssl_errors();
  LoadedCert out;
  out.cert_path = c.cert;
  out.key_path = c.key;

  SecretBytes cert_pem;
  if (auto r = read_file(c.cert, "certificate", cert_pem); !r) return make_error(r.error());
  BioPtr cb = mem_bio(cert_pem.str());
  if (!cb) return make_error("out of memory reading \"" + c.cert + "\"");
  out.leaf.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  if (!out.leaf) {
    clear_openssl_errors();
    return make_error("certificate file \"" + c.cert + "\" holds no PEM certificate");
  }
  out.chain.reset(sk_X509_new_null());
  if (!out.chain) return make_error("out of memory reading \"" + c.cert + "\"");
  for (;;) {
    X509* x = PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr);
    if (!x) {
      unsigned long err = ERR_peek_last_error();
      if (err != 0 && !is_pem_end(err)) {
        std::string why = drain_openssl_errors();
        return make_error("certificate file \"" + c.cert + "\": bad certificate " +
                          std::to_string(sk_X509_num(out.chain.get()) + 2) + ": " + why);
      }
      clear_openssl_errors();
      break;
    }
    if (sk_X509_push(out.chain.get(), x) <= 0) {
      X509_free(x);
      return make_error("out of memory reading \"" + c.cert + "\"");
    }
  }

  SecretBytes key_pem;
  if (auto r = read_file(c.key, "key", key_pem); !r) return make_error(r.error());
  {
    struct stat st {};
    if (::stat(c.key.c_str(), &st) == 0 && (st.st_mode & S_IROTH))
      warnings.push_back("key file \"" + c.key + "\" is readable by every user; chmod o-r it");
  }
  BioPtr kb = mem_bio(key_pem.str());
  if (!kb) return make_error("out of memory reading \"" + c.key + "\"");
  bool asked_passphrase = false;
  out.key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, no_passphrase, &asked_passphrase));
  if (!out.key) {
    clear_openssl_errors();
    if (asked_passphrase)
      return make_error("key file \"" + c.key + "\" is encrypted; passphrase-protected keys are not supported");
    return make_error("key file \"" + c.key + "\" holds no PEM private key");
  }

  if (X509_check_private_key(out.leaf.get(), out.key.get()) != 1) {
    clear_openssl_errors();
    return make_error("key file \"" + c.key + "\" does not match the certificate in \"" + c.cert + "\"");
  }

  switch (EVP_PKEY_get_base_id(out.key.get())) {
    case EVP_PKEY_EC: out.key_type = KeyType::ecdsa; break;
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS: out.key_type = KeyType::rsa; break;
    default: out.key_type = KeyType::other; break;
  }
  if (out.key_type == KeyType::rsa && EVP_PKEY_get_bits(out.key.get()) < kMinRsaBits)
    return make_error("key file \"" + c.key + "\": RSA key of " + std::to_string(EVP_PKEY_get_bits(out.key.get())) +
                      " bits is too weak (at least " + std::to_string(kMinRsaBits) + " needed)");

  out.subject = subject_text(out.leaf.get());
  const std::string label = "certificate \"" + c.cert + "\" (" + out.subject + ")";
  check_validity(out.leaf.get(), label, warnings);
  for (int i = 0; i < sk_X509_num(out.chain.get()); ++i)
    check_validity(sk_X509_value(out.chain.get(), i),
                   "chain certificate " + std::to_string(i + 2) + " in \"" + c.cert + "\"", warnings);
  if (sk_X509_num(out.chain.get()) > 0 &&
      X509_check_issued(sk_X509_value(out.chain.get(), 0), out.leaf.get()) != X509_V_OK)
    warnings.push_back(label + ": the second certificate in the file did not issue the first; "
                       "the chain should be leaf first, then its issuer, and so on");

  bool from_cn = false;
  out.names = dns_names(out.leaf.get(), from_cn);
  if (from_cn)
    warnings.push_back(label + " has no DNS names in subjectAltName; using its CN for SNI (clients may reject it)");
  else if (out.names.empty())
    warnings.push_back(label + " has no DNS names; it can only be the default certificate");
  clear_openssl_errors();
  return out;
}

namespace {

Result<std::string> alpn_wire(const std::vector<std::string>& protos) {
  std::string wire;
  for (const auto& p : protos) {
    if (p.empty() || p.size() > 255) return make_error("alpn: protocol name \"" + p + "\" must be 1 to 255 bytes");
    wire.push_back(static_cast<char>(p.size()));
    wire += p;
  }
  return wire;
}

}  // namespace

Result<std::shared_ptr<const TlsMaterial>> load_tls_material(const config::Tls& cfg) {
  auto m = std::make_shared<TlsMaterial>();
  if (cfg.min_version == "1.2") m->min_version = TLS1_2_VERSION;
  else if (cfg.min_version == "1.3") m->min_version = TLS1_3_VERSION;
  else return make_error("min_version: unknown value \"" + cfg.min_version + "\" (expected 1.2 or 1.3)");
  m->session_tickets = cfg.session_tickets;
  auto wire = alpn_wire(cfg.alpn);
  if (!wire) return make_error(wire.error());
  m->alpn_wire = std::move(*wire);

  auto first = load_cert(cfg.default_cert, m->warnings);
  if (!first) return make_error(first.error());
  m->certs.push_back(std::move(*first));
  for (const auto& c : cfg.sni) {
    auto loaded = load_cert(c, m->warnings);
    if (!loaded) return make_error(loaded.error());
    m->certs.push_back(std::move(*loaded));
  }

  // Group certificates with identical names: one SSL_CTX holding one certificate per key type.
  for (size_t i = 0; i < m->certs.size(); ++i) {
    const LoadedCert& c = m->certs[i];
    CertGroup* home = nullptr;
    for (auto& g : m->groups)
      if (g.names == c.names && !c.names.empty()) home = &g;
    if (i == 0 || !home) {
      m->groups.push_back(CertGroup{{i}, c.names});
      continue;
    }
    bool same_type = std::any_of(home->certs.begin(), home->certs.end(),
                                 [&](size_t j) { return m->certs[j].key_type == c.key_type; });
    if (same_type) {
      m->warnings.push_back("certificate \"" + c.cert_path + "\" has the same names and key type as an earlier one; ignored");
      continue;
    }
    home->certs.push_back(i);
    std::stable_sort(home->certs.begin(), home->certs.end(), [&](size_t a, size_t b) {
      return m->certs[a].key_type == KeyType::ecdsa && m->certs[b].key_type != KeyType::ecdsa;
    });
  }
  for (size_t g = 0; g < m->groups.size(); ++g)
    for (const auto& name : m->groups[g].names)
      if (!m->sni.add(name, g) && g != 0)
        m->warnings.push_back("SNI name \"" + name + "\" of certificate \"" +
                              m->certs[m->groups[g].certs[0]].cert_path +
                              "\" is already served by an earlier certificate (or is not a valid DNS name)");
  return std::shared_ptr<const TlsMaterial>(std::move(m));
}

}  // namespace ebb::lb::tls
