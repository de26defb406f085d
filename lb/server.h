// The ebb-lb daemon: control thread + worker threads (DESIGN.md "Threads and shared state").
#pragma once
#include <string>

#include "config/lb_config.h"

namespace ebb::lb {

// Runs the load balancer until SIGTERM/SIGINT. `config_path` is re-read on SIGHUP.
// Returns the process exit status.
int run_server(const std::string& config_path, config::LbConfig config);

}  // namespace ebb::lb
