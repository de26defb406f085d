// Name resolution for listen and backend addresses. Blocking (getaddrinfo): call it on the
// control thread only, never on a worker.
#pragma once
#include <sys/socket.h>

#include "common/address.h"
#include "common/result.h"

namespace ebb::lb {

struct SockAddr {
  sockaddr_storage storage{};
  socklen_t len = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// Thread: control. Resolves `hp` to its first address (IPv4 or IPv6). `passive` for binding.
Result<SockAddr> resolve_address(const HostPort& hp, bool passive);

// "1.2.3.4:80" / "[::1]:80" text of a socket address (for logs and X-Forwarded-For).
std::string sockaddr_ip(const sockaddr* sa);
uint16_t sockaddr_port(const sockaddr* sa);

}  // namespace ebb::lb
