// The test backend's routes (see --help in testbackend_main.cc for the contract).
#include <strings.h>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "tests/support/backend_server.h"
#include "tests/support/http_conn.h"
#include "tests/support/websocket.h"

namespace ebb::testbackend {

namespace {
const char* reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
  }
}

// Statuses whose responses never carry a body (RFC 9110 §6.4.1).
bool bodiless(int status) { return status < 200 || status == 204 || status == 304; }

bool contains_token(std::string_view value, std::string_view token) {
  for (size_t i = 0; i + token.size() <= value.size(); ++i)
    if (strncasecmp(value.data() + i, token.data(), token.size()) == 0) return true;
  return false;
}
}  // namespace

void HttpConn::dispatch() {
  state_ = State::responding;
  close_after_ = false;
  chunked_ = false;
  const std::string& path = req_.parsed.path;
  if (req_.method == "CONNECT") return respond_error(405, "CONNECT is not supported\n");
  if (path == "/ws") return route_websocket();
  if (req_.upgrade) close_after_ = true;  // no protocol switch here: the connection ends after this
  if (path == "/healthz") return route_healthz();
  if (path == "/fail-health") return route_fail_health();
  if (path == "/delay") return route_delay();
  if (path.starts_with("/status/")) return route_status(std::string_view(path).substr(8));
  if (path == "/echo") return route_echo();
  if (path == "/stream") return route_stream();
  if (path == "/bytes") return route_bytes();
  if (path == "/cpu") return route_cpu();
  if (path == "/headers") return route_headers();
  if (path == "/close") {
    close_after_ = true;
    return route_default();
  }
  if (path == "/reset") {
    log_request(0);
    return reset();
  }
  route_default();
}

std::string HttpConn::head(int status, std::string_view content_type, Framing framing, uint64_t length,
                           std::string_view extra_headers) {
  status_ = status;
  log_request(status);
  std::string h;
  h.reserve(256);
  h += "HTTP/1.1 ";
  h += std::to_string(status);
  h += ' ';
  h += reason_phrase(status);
  h += "\r\nX-Backend: ";
  h += server_.name();
  h += "\r\n";
  if (!content_type.empty() && !bodiless(status)) {
    h += "Content-Type: ";
    h += content_type;
    h += "\r\n";
  }
  chunked_ = false;
  if (framing == Framing::chunked && req_.version != "HTTP/1.1") framing = Framing::close;
  if (bodiless(status)) {
    // no framing headers at all
  } else if (framing == Framing::length) {
    h += "Content-Length: " + std::to_string(length) + "\r\n";
  } else if (framing == Framing::chunked) {
    h += "Transfer-Encoding: chunked\r\n";
    chunked_ = true;
  } else {
    close_after_ = true;  // the body ends with the connection
  }
  if (close_after_ || !req_.keep_alive)
    h += "Connection: close\r\n";
  else if (req_.version == "HTTP/1.0")
    h += "Connection: keep-alive\r\n";
  h += extra_headers;
  h += "\r\n";
  return h;
}

std::optional<HttpConn::Framing> HttpConn::framing_param(Framing fallback) const {
  const std::string* f = req_.parsed.param("framing");
  if (!f) return fallback;
  if (*f == "length") return Framing::length;
  if (*f == "chunked") return Framing::chunked;
  if (*f == "close") return Framing::close;
  return std::nullopt;
}

void HttpConn::respond(int status, std::string_view body, std::string_view content_type) {
  std::string out = head(status, content_type, Framing::length, body.size());
  if (req_.method != "HEAD" && !bodiless(status)) out += body;
  write_owned(std::move(out), kResponseEnd);
}

void HttpConn::respond_error(int status, std::string_view body) {
  state_ = State::responding;
  close_after_ = true;
  if (req_.version.empty()) req_.version = "HTTP/1.1";
  respond(status, body);
}

void HttpConn::log_request(int status) {
  if (!server_.options().verbose) return;
  std::string line = server_.name() + ": " + req_.method + " " + req_.target + " " + req_.version + " -> ";
  line += status ? std::to_string(status) : std::string("RST");
  ebb::log::write(ebb::log::Level::info, line);
}

void HttpConn::route_default() { respond(200, "backend " + server_.name() + "\n"); }

void HttpConn::route_healthz() {
  if (server_.healthy())
    respond(200, "ok");
  else
    respond(503, "unhealthy");
}

void HttpConn::route_fail_health() { respond(200, server_.toggle_health() ? "healthy" : "unhealthy"); }

void HttpConn::route_delay() {
  auto ms = query_number(req_.parsed, "ms", 0, 3'600'000);
  if (!ms) return respond(400, "ms must be a number from 0 to 3600000\n");
  if (*ms == 0) return route_default();
  ensure_timer();
  uv_timer_start(timer_.get(), [](uv_timer_t* t) { static_cast<HttpConn*>(t->data)->route_default(); }, *ms, 0);
}

void HttpConn::route_status(std::string_view code) {
  auto n = parse_decimal(code, 599);
  if (!n || *n < 200) return respond(400, "status must be a number from 200 to 599\n");
  int status = static_cast<int>(*n);
  respond(status, "status " + std::to_string(status) + "\n");
}

void HttpConn::route_echo() {
  nlohmann::ordered_json j;
  j["backend"] = server_.name();
  j["method"] = req_.method;
  j["path"] = req_.target;
  j["version"] = req_.version;
  auto headers = nlohmann::ordered_json::array();
  for (const auto& [k, v] : req_.headers) headers.push_back({k, v});
  j["headers"] = std::move(headers);
  if (req_.body_length <= kMaxEchoBody) j["body"] = req_.body;
  j["body_sha256"] = req_.body_sha->hex_digest();
  j["body_length"] = req_.body_length;
  respond(200, j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n", "application/json");
}

void HttpConn::route_stream() {
  auto chunks = query_number(req_.parsed, "chunks", 5, 1'000'000);
  auto interval = query_number(req_.parsed, "interval_ms", 100, 60'000);
  auto size = query_number(req_.parsed, "size", 64, kPatternSpan);
  auto framing = framing_param(Framing::chunked);
  if (!chunks || !interval || !size || *size == 0 || !framing)
    return respond(400, "expected chunks=0..1000000, interval_ms=0..60000, size=1..262144, "
                        "framing=chunked|length|close\n");
  std::string out = head(200, "text/plain", *framing, *chunks * *size);
  if (req_.method == "HEAD") return write_owned(std::move(out), kResponseEnd);
  remaining_ = *chunks;
  chunk_size_ = *size;
  interval_ms_ = *interval;
  stream_offset_ = 0;
  ensure_timer();
  if (remaining_ == 0) {
    if (chunked_) out += "0\r\n\r\n";
    return write_owned(std::move(out), kResponseEnd);
  }
  write_owned(std::move(out), kTagNone);
  write_stream_chunk();
}

void HttpConn::write_stream_chunk() {
  if (ending() || remaining_ == 0) return;
  std::string c;
  c.reserve(chunk_size_ + 16);
  if (chunked_) {
    char hex[24];
    std::snprintf(hex, sizeof hex, "%llx\r\n", static_cast<unsigned long long>(chunk_size_));
    c += hex;
  }
  c.append(pattern_at(stream_offset_), chunk_size_);
  stream_offset_ += chunk_size_;
  if (chunked_) c += "\r\n";
  if (--remaining_ == 0) {
    if (chunked_) c += "0\r\n\r\n";
    write_owned(std::move(c), kResponseEnd);
  } else {
    write_owned(std::move(c), kStreamChunk);  // the next one is timed from this write's completion
  }
}

void HttpConn::route_bytes() {
  auto n = query_number(req_.parsed, "n", 1024, uint64_t{1} << 40);
  auto framing = framing_param(Framing::length);
  if (!n || !framing)
    return respond(400, "expected n=0..1099511627776, framing=length|chunked|close\n");
  std::string out = head(200, "application/octet-stream", *framing, *n);
  if (req_.method == "HEAD") return write_owned(std::move(out), kResponseEnd);
  if (*n == 0) {
    if (chunked_) out += "0\r\n\r\n";
    return write_owned(std::move(out), kResponseEnd);
  }
  write_owned(std::move(out), kTagNone);
  remaining_ = *n;
  stream_offset_ = 0;
  // Two pieces in flight keep the socket busy; each completion queues the next one, so memory
  // stays bounded whatever n is and a slow reader slows us down (backpressure).
  write_next_bytes_piece();
  if (remaining_ > 0) write_next_bytes_piece();
}

void HttpConn::write_next_bytes_piece() {
  const uint64_t piece = std::min<uint64_t>(remaining_, kPatternSpan);
  const char* data = pattern_at(stream_offset_);
  stream_offset_ += piece;
  remaining_ -= piece;
  const int tag = remaining_ == 0 ? kResponseEnd : kBytesPiece;
  if (!chunked_) return write_static(data, piece, tag);
  char size_line[24];
  std::snprintf(size_line, sizeof size_line, "%llx\r\n", static_cast<unsigned long long>(piece));
  write_owned(size_line, kTagNone);
  write_static(data, piece, kTagNone);
  static constexpr std::string_view kEnd = "\r\n", kLastEnd = "\r\n0\r\n\r\n";
  const std::string_view end = remaining_ == 0 ? kLastEnd : kEnd;
  write_static(end.data(), end.size(), tag);
}

void HttpConn::route_cpu() {
  auto ms = query_number(req_.parsed, "ms", 0, 60'000);
  if (!ms) return respond(400, "ms must be a number from 0 to 60000\n");
  // Burning the loop thread is the point: this is what a CPU-bound backend looks like.
  const uint64_t end = uv_hrtime() + *ms * 1'000'000;
  volatile uint64_t spins = 0;
  while (uv_hrtime() < end)
    for (int i = 0; i < 1000; ++i) spins = spins + 1;
  route_default();
}

void HttpConn::route_headers() {
  auto count = query_number(req_.parsed, "count", 10, 10'000);
  auto size = query_number(req_.parsed, "size", 16, 65'536);
  if (!count || !size) return respond(400, "expected count=0..10000, size=0..65536\n");
  std::string extra;
  extra.reserve(*count * (*size + 20));
  for (uint64_t i = 0; i < *count; ++i) {
    extra += "X-Fill-" + std::to_string(i) + ": ";
    extra.append(pattern_at(0), *size);
    extra += "\r\n";
  }
  const std::string body = "backend " + server_.name() + "\n";
  std::string out = head(200, "text/plain", Framing::length, body.size(), extra);
  if (req_.method != "HEAD") out += body;
  write_owned(std::move(out), kResponseEnd);
}

void HttpConn::route_websocket() {
  const std::string* upgrade = req_.header("Upgrade");
  if (!req_.upgrade || !upgrade || !contains_token(*upgrade, "websocket")) {
    close_after_ = req_.upgrade;
    return respond(426, "websocket upgrade required\n");
  }
  const std::string* key = req_.header("Sec-WebSocket-Key");
  const std::string* version = req_.header("Sec-WebSocket-Version");
  if (req_.method != "GET" || !key || key->empty() || !version || *version != "13")
    return respond_error(400, "bad websocket handshake\n");
  status_ = 101;
  log_request(101);
  std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  out += "Sec-WebSocket-Accept: " + websocket_accept_key(*key) + "\r\n";
  out += "X-Backend: " + server_.name() + "\r\n\r\n";
  write_owned(std::move(out), kTagNone);
  state_ = State::websocket;
  ws_process();  // frames may have arrived with the handshake
}

void HttpConn::ws_process() {
  while (!ending()) {
    WsDecodeResult r = ws_decode_client_frame(std::string_view(in_).substr(in_pos_), kMaxWsPayload);
    if (r.status == WsDecodeStatus::need_more) break;
    if (r.status == WsDecodeStatus::error) {
      write_owned(ws_encode_frame(true, WsOpcode::close, ws_close_payload(r.close_code)), kTagNone);
      close_gracefully();
      return;
    }
    in_pos_ += r.consumed;
    switch (r.frame.opcode) {
      case WsOpcode::ping:
        write_owned(ws_encode_frame(true, WsOpcode::pong, r.frame.payload), kWsEcho);
        break;
      case WsOpcode::pong: break;
      case WsOpcode::close:
        // Echo the status code back (RFC 6455 §5.5.1), then end the TCP connection.
        write_owned(ws_encode_frame(true, WsOpcode::close, r.frame.payload.substr(0, 2)), kTagNone);
        close_gracefully();
        return;
      default:
        write_owned(ws_encode_frame(r.frame.fin, r.frame.opcode, r.frame.payload), kWsEcho);
        break;
    }
  }
  if (ending()) return;
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > 64 * 1024) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  if (write_queue_bytes() > (4u << 20)) pause_reading();
}

}  // namespace ebb::testbackend
