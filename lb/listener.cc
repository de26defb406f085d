#include "lb/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ebb::lb {

Result<UniqueFd> open_reuseport_listener(const SockAddr& addr, const std::string& what) {
  auto fail = [&](const char* step) {
    return make_error("listen " + what + ": " + step + ": " + std::strerror(errno));
  };
  UniqueFd fd(::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fail("socket");
  int one = 1;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return fail("SO_REUSEADDR");
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) return fail("SO_REUSEPORT");
  if (addr.storage.ss_family == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (::bind(fd.get(), addr.get(), addr.len) != 0) return fail("bind");
  if (::listen(fd.get(), 4096) != 0) return fail("listen");
  return fd;
}

}  // namespace ebb::lb
