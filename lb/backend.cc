#include "lb/backend.h"

namespace ebb::lb {

const char* to_string(BackendState s) {
  switch (s) {
    case BackendState::unknown: return "unknown";
    case BackendState::healthy: return "healthy";
    case BackendState::unhealthy: return "unhealthy";
    case BackendState::draining: return "draining";
  }
  return "unknown";
}

}  // namespace ebb::lb
