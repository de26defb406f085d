#include "tests/support/http_conn.h"

#include <strings.h>

#include <array>

#include "tests/support/backend_server.h"

namespace ebb::testbackend {

const std::string* Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), name.size()) == 0) return &v;
  return nullptr;
}

namespace {
HttpConn* conn_of(llhttp_t* p) { return static_cast<HttpConn*>(p->data); }

// Pattern storage: kPatternSpan bytes readable from any start offset in [0, 26).
const std::array<char, kPatternSpan + 26>& pattern_storage() {
  static const auto storage = [] {
    std::array<char, kPatternSpan + 26> a{};
    for (size_t i = 0; i < a.size(); ++i) a[i] = pattern_byte(i);
    return a;
  }();
  return storage;
}
}  // namespace

char pattern_byte(uint64_t offset) { return static_cast<char>('a' + offset % 26); }
const char* pattern_at(uint64_t offset) { return pattern_storage().data() + offset % 26; }

HttpConn::HttpConn(Server& server) : Conn(server) {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
}

void HttpConn::on_accepted() { start_idle_timer(); }

const llhttp_settings_t& HttpConn::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = [](llhttp_t* p) {
      auto* c = conn_of(p);
      c->req_ = Request{};
      return 0;
    };
    s.on_url = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = conn_of(p);
      c->req_.target.append(at, len);
      return c->count_head(len);
    };
    s.on_header_field = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = conn_of(p);
      c->req_.field.append(at, len);
      return c->count_head(len);
    };
    s.on_header_value = [](llhttp_t* p, const char* at, size_t len) {
      auto* c = conn_of(p);
      c->req_.value.append(at, len);
      return c->count_head(len);
    };
    s.on_header_value_complete = [](llhttp_t* p) {
      auto& r = conn_of(p)->req_;
      r.headers.emplace_back(std::move(r.field), std::move(r.value));
      r.field.clear();
      r.value.clear();
      return 0;
    };
    s.on_headers_complete = [](llhttp_t* p) { return conn_of(p)->on_headers_complete(); };
    s.on_body = [](llhttp_t* p, const char* at, size_t len) {
      auto& r = conn_of(p)->req_;
      r.body_length += len;
      if (r.hash_body) {
        r.body_sha->update(std::string_view(at, len));
        if (r.body_length <= kMaxEchoBody) r.body.append(at, len);
      }
      return 0;
    };
    s.on_message_complete = [](llhttp_t* p) {
      auto* c = conn_of(p);
      c->req_.keep_alive = llhttp_should_keep_alive(p) != 0;
      c->message_ready_ = true;
      return static_cast<int>(HPE_PAUSED);  // one request at a time: resume after the response
    };
    return s;
  }();
  return s;
}

int HttpConn::count_head(size_t len) {
  if ((req_.head_bytes += len) <= kMaxHead) return 0;
  head_too_large_ = true;
  return -1;
}

void HttpConn::ensure_timer() {
  if (timer_.initialized()) return;
  uv_timer_init(loop(), timer_.get());
  timer_.mark_initialized();
  timer_->data = this;
}

int HttpConn::on_headers_complete() {
  req_.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&parser_)));
  req_.version = "HTTP/" + std::to_string(llhttp_get_http_major(&parser_)) + "." +
                 std::to_string(llhttp_get_http_minor(&parser_));
  req_.parsed = parse_request_target(req_.target);
  req_.upgrade = llhttp_get_upgrade(&parser_) != 0;
  req_.hash_body = req_.parsed.path == "/echo";
  if (req_.hash_body) req_.body_sha.emplace();
  if (const std::string* expect = req_.header("Expect");
      expect && strcasecmp(expect->c_str(), "100-continue") == 0 && req_.version == "HTTP/1.1")
    write_owned("HTTP/1.1 100 Continue\r\n\r\n", kTagNone);
  return 0;
}

void HttpConn::on_closing() {
  timer_.reset();
  idle_timer_.reset();
}

void HttpConn::start_idle_timer() {
  const uint64_t ms = server_.options().idle_timeout_ms;
  if (ms == 0 || ending()) return;
  if (!idle_timer_.initialized()) {
    uv_timer_init(loop(), idle_timer_.get());
    idle_timer_.mark_initialized();
    idle_timer_->data = this;
  }
  uv_timer_start(idle_timer_.get(), [](uv_timer_t* t) { static_cast<HttpConn*>(t->data)->close_gracefully(); }, ms, 0);
}

void HttpConn::on_data(const char* data, size_t len) {
  in_.append(data, len);
  if (state_ == State::websocket)
    ws_process();
  else if (state_ == State::reading)
    parse();
  else
    after_input_consumed();
}

void HttpConn::parse() {
  while (state_ == State::reading && !ending() && in_pos_ < in_.size()) {
    const char* start = in_.data() + in_pos_;
    llhttp_errno_t err = llhttp_execute(&parser_, start, in_.size() - in_pos_);
    if (err == HPE_OK) {
      in_pos_ = in_.size();
      break;
    }
    if ((err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) && message_ready_) {
      in_pos_ += static_cast<size_t>(llhttp_get_error_pos(&parser_) - start);
      if (err == HPE_PAUSED) llhttp_resume(&parser_);
      message_ready_ = false;
      dispatch();
      continue;
    }
    if (head_too_large_)
      respond_error(431, "request header too large\n");
    else
      respond_error(400, std::string("bad request: ") + llhttp_errno_name(err) + ": " +
                             llhttp_get_error_reason(&parser_) + "\n");
    return;
  }
  after_input_consumed();
}

void HttpConn::after_input_consumed() {
  if (ending()) return;
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > 64 * 1024) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  if (state_ == State::reading && peer_eof()) {
    close();  // nothing more will come; a partial request can never complete
    return;
  }
  // Waiting for (the rest of) a request: the idle timer runs; while responding it does not.
  if (state_ == State::reading)
    start_idle_timer();
  else if (idle_timer_.initialized())
    uv_timer_stop(idle_timer_.get());
  // Bound what a pipelining client can make us buffer while a response is in progress.
  if (in_.size() - in_pos_ > kMaxBufferedInput)
    pause_reading();
  else
    resume_reading();
}

void HttpConn::on_eof() {
  if (state_ == State::websocket)
    close_gracefully();
  else if (state_ == State::reading)
    close();
  // responding: finish_response() notices the EOF once the buffered requests are answered
}

void HttpConn::on_write_done(int tag) {
  switch (tag) {
    case kResponseEnd: finish_response(); break;
    case kBytesPiece:
      if (remaining_ > 0) write_next_bytes_piece();
      break;
    case kStreamChunk:
      uv_timer_start(timer_.get(), [](uv_timer_t* t) { static_cast<HttpConn*>(t->data)->write_stream_chunk(); },
                     interval_ms_, 0);
      break;
    case kWsEcho:
      if (write_queue_bytes() < (1u << 20)) resume_reading();
      break;
    default: break;
  }
}

void HttpConn::finish_response() {
  if (close_after_ || !req_.keep_alive) {
    close_gracefully();
    return;
  }
  state_ = State::reading;
  parse();
}

}  // namespace ebb::testbackend
