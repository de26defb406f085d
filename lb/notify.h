// sd_notify protocol (systemd Type=notify) without libsystemd: one unix datagram to
// $NOTIFY_SOCKET, which may be a path or an abstract socket name starting with '@'.
#pragma once
#include <string_view>

namespace ebb::lb {

// Thread: any (it opens its own socket). Sends `state` (e.g. "READY=1") when NOTIFY_SOCKET is set.
// Returns true if sent or if NOTIFY_SOCKET is unset; false (and logs at warn) on failure.
bool sd_notify(std::string_view state);

}  // namespace ebb::lb
