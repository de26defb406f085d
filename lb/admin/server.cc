#include "lb/admin/server.h"

#include <strings.h>

#include <utility>

namespace ebb::lb::admin {

namespace {
HttpServer::Options http_options(const AdminServerOptions& o) {
  HttpServer::Options h;
  h.name = "admin";
  h.max_head_bytes = o.max_head_bytes;
  h.max_body_bytes = o.max_body_bytes;
  h.idle_timeout_ms = o.idle_timeout_ms;
  h.max_connections = o.max_connections;
  return h;  // keep-alive, every method: the routes answer 405 with each route's Allow
}
}  // namespace

AdminServer::AdminServer(uv_loop_t* loop, ControlApi& api, AdminServerOptions options)
    : api_(api),
      auth_(options.token),
      http_(loop, http_options(options), [this](const HttpServer::Request& r) { return handle(r); }) {}

HttpServer::Reply AdminServer::handle(const HttpServer::Request& request) {
  AdminRequest req;
  req.method = request.method;
  req.target = request.target;
  req.body = request.body;
  for (const auto& [name, value] : request.headers)  // the last one counts, as it always has
    if (strcasecmp(name.c_str(), "authorization") == 0) req.authorization = value;
  AdminReply reply = handle_admin_request(api_, auth_, req);
  return {reply.status, std::move(reply.content_type), std::move(reply.body), std::move(reply.headers)};
}

}  // namespace ebb::lb::admin
