// HTTP mode (L7): one client connection, requests answered strictly in order (pipelined requests
// are parsed only after the previous response is done), each proxied to a backend picked per
// request, over a reused idle keep-alive upstream connection when the worker has one.
//
// An explicit state machine (DESIGN point 5), one handler per state:
//   reading_head → connecting → proxying → (reading_head | tunnel | closing) → closed
//  - reading_head: waiting for / parsing a request head (header_timeout → 408; idle keep-alive
//    connections close after the pool's idle_timeout).
//  - connecting:   head parsed and routed, backend picked, connect in progress (connect timeout
//    and retries inside BackendConnector; none reachable → 502, none eligible → 503).
//  - proxying:     rewritten head sent; request body streamed up while the response comes down
//    (response_timeout → 504, bad response → 502). Watermarks on both directions.
//  - tunnel:       101 Switching Protocols: both connections are a byte Pump.
//  - closing:      a final response (error or last) is being flushed; then close.
//
// Thread: the owning worker.
#pragma once
#include <sys/socket.h>

#include <memory>
#include <string>

#include "common/uv.h"
#include "lb/conn/backend_connector.h"
#include "lb/conn/proxy_protocol.h"
#include "lb/conn/pump.h"
#include "lb/conn/session.h"
#include "lb/http/parser.h"
#include "lb/http/rewrite.h"
#include "lb/snapshot.h"
#include "lb/transport/transport.h"

namespace ebb::lb {

class HttpSession final : public Session,
                          public BackendConnector::Owner,
                          public Pump::Owner,
                          public TransportHandler,
                          public http::RequestSink,
                          public http::ResponseSink {
 public:
  enum class State { reading_head, connecting, proxying, tunnel, closing, closed };

  HttpSession(Worker& worker, std::shared_ptr<const Snapshot> snap, const ListenerSnapshot& listener,
              TransportPtr client);
  ~HttpSession() override;

  void start() override;
  void begin_shutdown() override;
  void abort() override { close(); }
  void on_snapshot(const Snapshot& snap) override;
  State state() const { return state_; }

  // BackendConnector::Owner
  void on_connected(size_t backend_index, TransportPtr t, bool reused) override;
  void on_connect_failed(bool no_backend) override;
  // Pump::Owner
  void on_pump_done(bool error) override;
  // TransportHandler (client and upstream)
  void on_read(Transport& t, const char* data, size_t len) override;
  void on_eof(Transport& t) override;
  void on_error(Transport& t, int err) override;
  void on_write_progress(Transport& t) override;
  // http::RequestSink
  bool on_request_head(http::RequestHead& head) override;
  void on_request_body(const char* data, size_t len) override;
  void on_request_complete() override;
  // http::ResponseSink
  bool on_response_head(http::ResponseHead& head) override;
  void on_response_body(const char* data, size_t len) override;
  void on_response_complete() override;

 private:
  enum class TimerKind { none, idle, header, response, linger };

  // reading_head
  void enter_reading_head();
  void feed_client(const char* data, size_t len);
  void handle_head();
  void follow_snapshot();  // between requests: route with the worker's latest snapshot
  void buffer_client_input(const char* data, size_t len);
  // connecting
  void connect_upstream(bool allow_reuse);
  // proxying
  void start_exchange();
  void flush_upstream();
  void feed_upstream(const char* data, size_t len);
  void upstream_finished_early(int err);
  void complete_exchange();
  void flush_client();
  // tunnel
  void enter_tunnel(std::string_view upstream_rest);
  // closing / closed
  void respond_error(int status);
  void close_after_flush();
  // The client half-closed and sent nothing after this request: its response is the last.
  // (Pipelined requests read before the FIN are still answered.)
  bool last_before_eof() const { return client_eof_ && in_buf_.empty(); }
  void close();
  void release_backend();
  void log_request();

  void arm_timer(TimerKind kind, uint64_t ms);
  void arm_idle_timer();
  uint64_t pool_idle_ms() const;
  void on_timer();

  std::shared_ptr<const Snapshot> snap_;
  const ListenerSnapshot* listener_;  // in snap_; both follow the worker's snapshot between requests
  TransportPtr client_;
  TransportPtr upstream_;
  BackendConnector connector_;
  Pump pump_;
  http::RequestParser parser_;
  http::ResponseParser rparser_;
  UvHandle<uv_timer_t> timer_;
  TimerKind timer_kind_ = TimerKind::none;
  State state_ = State::reading_head;

  // Per connection
  sockaddr_storage peer_{};
  std::string client_ip_;
  std::string in_buf_;     // client bytes read but not yet parsed (pipelined / tunnel data)
  std::string swap_buf_;
  std::string up_out_;     // framed bytes to send upstream, flushed once per read
  std::string up_head_;    // the rewritten request head (kept for a resend on a stale connection)
  std::string norm_target_;  // the normalised origin target when it differs ("" = as received)
  std::string down_out_;   // framed bytes to send to the client, flushed once per read
  std::unique_ptr<ProxyProtocolParser> proxy_header_;  // until the PROXY header is read
  bool draining_ = false;  // graceful shutdown: close after the current response
  bool client_eof_ = false;

  // Per request
  const PoolSnapshot* pool_ = nullptr;
  size_t backend_ = kNoBackend;
  bool holds_active_ = false;  // BackendLive::active incremented for backend_
  bool reused_ = false;
  bool req_done_ = false;
  bool resp_head_seen_ = false;
  bool resp_done_ = false;
  bool resp_bytes_seen_ = false;  // any upstream byte for this request
  bool client_paused_ = false;    // client reading paused by backpressure
  bool upstream_paused_ = false;
  bool resend_tried_ = false;
  bool upstream_reusable_ = false;
  bool close_after_response_ = false;
  bool upgrade_ = false;
  bool interim_ = false;          // the response head being parsed is a 1xx
  http::BodyFraming up_framing_ = http::BodyFraming::none;
  http::BodyFraming down_framing_ = http::BodyFraming::none;
  int status_ = 0;
  uint64_t req_bytes_ = 0;
  uint64_t resp_bytes_ = 0;
  int64_t req_start_wall_ms_ = 0;
  uint64_t req_start_ns_ = 0;     // uv_hrtime at the request's first byte
  uint64_t req_sent_ms_ = 0;
  uint64_t req_sent_ns_ = 0;       // uv_hrtime when the request went upstream
  uint64_t last_activity_ms_ = 0;  // loop time of the last byte either way (idle timeout)
  bool record_latency_ = false;
  size_t sticky_backend_ = kNoBackend;  // backend the client's valid sticky cookie pins
  std::string set_cookie_;              // Set-Cookie value to add to the response, if any
  double upstream_ms_ = -1;
  std::string_view upstream_rest_;  // bytes after a 101 head in the current upstream read
};

}  // namespace ebb::lb
