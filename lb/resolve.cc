#include "lb/resolve.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>
#include <string>

namespace ebb::lb {

Result<SockAddr> resolve_address(const HostPort& hp, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  std::string port = std::to_string(hp.port);
  addrinfo* res = nullptr;
  // "*" / "" listen on every address (IPv4 wildcard first).
  bool any = passive && (hp.host.empty() || hp.host == "*");
  if (any) hints.ai_family = AF_INET;
  int rc = ::getaddrinfo(any ? nullptr : hp.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr)
    return make_error("cannot resolve \"" + hp.host + "\": " + ::gai_strerror(rc));
  SockAddr out;
  std::memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
  out.len = static_cast<socklen_t>(res->ai_addrlen);
  ::freeaddrinfo(res);
  return out;
}

std::string sockaddr_ip(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (sa->sa_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else if (sa->sa_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

uint16_t sockaddr_port(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  return 0;
}

}  // namespace ebb::lb
