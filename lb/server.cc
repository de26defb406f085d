#include "lb/server.h"

#include <cstdio>

namespace ebb::lb {

int run_server(const std::string& config_path, config::LbConfig) {
  std::fprintf(stderr, "ebb-lb: %s is valid, but the proxy daemon is not implemented yet\n",
               config_path.c_str());
  return 1;
}

}  // namespace ebb::lb
