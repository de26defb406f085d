#include "lb/tls/openssl_error.h"

#include <openssl/err.h>

namespace ebb::lb::tls {

std::string drain_openssl_errors(const char* fallback) {
  unsigned long last = 0;
  while (unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return fallback;
  const char* reason = ERR_reason_error_string(last);
  const char* lib = ERR_lib_error_string(last);
  std::string out = reason ? reason : "error " + std::to_string(ERR_GET_REASON(last));
  if (lib) {
    out += " (";
    out += lib;
    out += ')';
  }
  return out;
}

void clear_openssl_errors() { ERR_clear_error(); }

}  // namespace ebb::lb::tls
