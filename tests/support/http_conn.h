// One HTTP/1.1 connection of the test backend: llhttp parses requests; one request is answered
// at a time, in order (pipelined requests wait in the input buffer: the parser pauses at each
// message end until the response is fully written). Keep-alive per HTTP/1.0 and 1.1 rules.
// A /ws upgrade turns the connection into a WebSocket echo. Loop thread only.
#pragma once
#include <llhttp.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/uv.h"
#include "tests/support/backend_conn.h"
#include "tests/support/digest.h"
#include "tests/support/request_target.h"

namespace ebb::testbackend {

struct Request {
  std::string method;
  std::string target;
  std::string version;  // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string field, value;  // header being parsed
  bool in_value = false;
  size_t head_bytes = 0;

  RequestTarget parsed;
  bool hash_body = false;                 // /echo: hash and (when small) keep the body
  std::optional<Sha256> body_sha;
  std::string body;                       // up to kMaxEchoBody bytes
  uint64_t body_length = 0;
  bool keep_alive = true;
  bool upgrade = false;

  const std::string* header(std::string_view name) const;  // case-insensitive, first match
};

class HttpConn final : public Conn {
 public:
  explicit HttpConn(Server& server);

  static constexpr size_t kMaxHead = 64 * 1024;        // request line + headers → 431 past it
  static constexpr size_t kMaxEchoBody = 64 * 1024;    // /echo includes "body" up to this size
  static constexpr size_t kMaxBufferedInput = 256 * 1024;
  static constexpr uint64_t kMaxWsPayload = 16 << 20;

 private:
  enum class State { reading, responding, websocket };
  enum Tag : int { kResponseEnd = 1, kBytesPiece = 2, kStreamChunk = 3, kWsEcho = 4 };

  // Conn
  void on_data(const char* data, size_t len) override;
  void on_eof() override;
  void on_write_done(int tag) override;

  // parsing
  static const llhttp_settings_t& settings();
  void parse();
  void after_input_consumed();
  int on_headers_complete();
  int count_head(size_t len);  // 0, or -1 once the head passes kMaxHead
  void ensure_timer();

  // responses (http_routes.cc)
  void dispatch();
  void route_default();
  void route_healthz();
  void route_fail_health();
  void route_delay();
  void route_status(std::string_view code);
  void route_echo();
  void route_stream();
  void route_bytes();
  void route_cpu();
  void route_headers();
  void route_websocket();
  void respond(int status, std::string_view body, std::string_view content_type = "text/plain");
  void respond_error(int status, std::string_view body);  // and close
  // How a response body is delimited. chunked falls back to close for HTTP/1.0 clients.
  enum class Framing { length, chunked, close };
  // The status line and headers (sets chunked_ / close_after_ to match the framing).
  // `extra_headers` are complete "Name: value\r\n" lines.
  std::string head(int status, std::string_view content_type, Framing framing, uint64_t length = 0,
                   std::string_view extra_headers = {});
  // The ?framing= parameter: length | chunked | close, `fallback` when absent.
  std::optional<Framing> framing_param(Framing fallback) const;
  void finish_response();
  void log_request(int status);
  void write_next_bytes_piece();
  void start_idle_timer();
  void write_stream_chunk();

  void on_accepted() override;
  void on_closing() override;

  // websocket
  void ws_process();

  llhttp_t parser_{};
  State state_ = State::reading;
  std::string in_;        // received, not yet parsed
  size_t in_pos_ = 0;     // parse position in in_
  Request req_;
  bool message_ready_ = false;
  bool head_too_large_ = false;
  bool close_after_ = false;   // this response ends the connection
  bool chunked_ = false;       // the response body in flight is chunked

  UvHandle<uv_timer_t> timer_;       // /delay and /stream
  UvHandle<uv_timer_t> idle_timer_;  // --idle-timeout: closes a connection waiting for a request
  uint64_t remaining_ = 0;      // /bytes: bytes left; /stream: chunks left
  uint64_t stream_offset_ = 0;  // position in the body pattern
  uint64_t chunk_size_ = 0;
  uint64_t interval_ms_ = 0;
  int status_ = 0;
  bool ws_closing_ = false;
};

// The deterministic body of /bytes and /stream: byte i is 'a' + (i mod 26).
char pattern_byte(uint64_t offset);
// `len` pattern bytes starting at `offset`, from static storage (len <= kPatternSpan).
const char* pattern_at(uint64_t offset);
inline constexpr size_t kPatternSpan = 256 * 1024;

}  // namespace ebb::testbackend
