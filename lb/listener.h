// SO_REUSEPORT listen sockets (TOOLCHAIN.md: libuv 1.44 has no UV_TCP_REUSEPORT, so the socket
// is created here and handed to a worker, which uv_tcp_open()s it). Every worker gets its own
// socket per listener; the kernel spreads connections among them.
#pragma once
#include "common/result.h"
#include "lb/resolve.h"
#include "lb/unique_fd.h"

namespace ebb::lb {

// Thread: control. Creates a non-blocking, close-on-exec TCP socket with SO_REUSEADDR and
// SO_REUSEPORT, bound to `addr` and listening. Errors name the address.
Result<UniqueFd> open_reuseport_listener(const SockAddr& addr, const std::string& what);

}  // namespace ebb::lb
