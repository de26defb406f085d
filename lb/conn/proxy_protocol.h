// PROXY protocol v1 (text) and v2 (binary) header parsing, for listeners with
// proxy_protocol = true behind an L4 balancer (SPEC §2). The header is the first thing on the
// connection; it carries the original client address, which then replaces the peer address
// (X-Forwarded-For, source_ip hashing, access log).
//
// Pure and incremental: feed() bytes until it says done or error. No I/O, no allocation beyond
// a small internal buffer of at most 232 bytes (v1 ≤ 107, v2 ≤ 16 + 216 used).
#pragma once
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ebb::lb {

class ProxyProtocolParser {
 public:
  enum class Status { need_more, done, error };
  struct Result {
    Status status = Status::need_more;
    size_t consumed = 0;  // bytes of this feed() that belonged to the header
  };

  // Thread: the connection's worker. Consumes header bytes from [data, data+len).
  Result feed(const char* data, size_t len);

  // After done: true when the header named a client address (TCP4/TCP6 PROXY); false for
  // v1 "UNKNOWN" and v2 LOCAL (health checks of the fronting balancer): keep the socket's peer.
  bool has_address() const { return has_address_; }
  const sockaddr_storage& address() const { return addr_; }
  const char* error() const { return error_; }

 private:
  Result parse_v1(size_t before);
  Result parse_v2(size_t before);
  Result fail(const char* why);

  std::string buf_;
  sockaddr_storage addr_{};
  bool has_address_ = false;
  const char* error_ = "";
};

}  // namespace ebb::lb
