// Host/path routing of one L7 listener (SPEC §2 [[listeners.routes]]).
//
// Built once per config (on the control thread), then immutable: route() may be called from
// any thread concurrently. route() allocates nothing.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "config/lb_config.h"

namespace ebb::lb::http {

class Router {
 public:
  struct Match {
    int route = -1;                  // index into listener.routes, -1 = the listener's default pool
    const std::string* pool = nullptr;  // pool name; points into the Router (never null)
  };

  explicit Router(const config::Listener& listener);

  // First route whose host and path_prefix both match, else the default pool.
  //  - host: compared case-insensitively, a ":port" suffix ignored (so raw Host values work);
  //    a route host "*.example.com" matches any name ending in ".example.com" with at least one
  //    more label ("a.example.com", "a.b.example.com"), not "example.com" itself. One trailing
  //    dot of the request host is ignored ("example.com." = "example.com"). A route
  //    without host matches every request (also ones without Host).
  //  - path: byte-wise prefix match of path_prefix (case-sensitive); none = any.
  Match route(std::string_view host, std::string_view path) const;

  const std::string& default_pool() const { return default_pool_; }
  size_t size() const { return routes_.size(); }

 private:
  struct Entry {
    std::string host;    // lowercased; for wildcards the suffix including the dot (".example.com")
    bool wildcard = false;
    std::string path_prefix;
    std::string pool;
  };
  std::vector<Entry> routes_;
  std::string default_pool_;
};

}  // namespace ebb::lb::http
