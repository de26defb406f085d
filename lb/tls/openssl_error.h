// The OpenSSL error queue is per thread and sticky: every SSL_* call site clears it first and
// drains it after a failure, so one connection's error never shows up on another.
#pragma once
#include <string>

namespace ebb::lb::tls {

// Empties this thread's OpenSSL error queue and returns its last (most specific) entry as
// "reason (lib)" text, or `fallback` if the queue was empty. Any thread.
std::string drain_openssl_errors(const char* fallback = "unknown OpenSSL error");

// Empties this thread's OpenSSL error queue. Any thread.
void clear_openssl_errors();

}  // namespace ebb::lb::tls
