// RequestParser / ResponseParser: llhttp (built in its default, non-strict mode) plus our own
// checks where llhttp is lenient (see validate.h for the policy):
//  - llhttp 8.1 accepts SP in header names ("Host : a"), obs-fold lines, a bare LF or "\r\r\n"
//    as the blank line ending a head or a chunked body, HTAB in the request-target, HTTP/0.9
//    and HTTP/2.0 version strings, and TE in HTTP/1.0.
//  - We scan each head's line endings (every LF preceded by CR, every CR followed by LF, no
//    line starting with SP/HTAB), check names and counts in the header callbacks, and decide
//    on the head as a whole (smuggling rules, Host, target, limits) after llhttp pauses at its
//    end. llhttp's own checks cover the rest (validate.h; unit tests pin down the byte classes).
//
// Flow per message: llhttp runs until on_headers_complete, which always pauses, so the head's
// exact end is known; complete_head() validates it and calls the sink outside of llhttp; then
// llhttp resumes with the body and pauses again in on_message_complete.
// Head storage: all head text (target, reason, names, values, lowercased host) is appended to
// one reused std::string; headers are spans into it, turned into string_views once the head
// is complete (the string does not grow after that until the next message).
#include "lb/http/parser.h"

#include <llhttp.h>

#include <algorithm>
#include <cstring>

#include "lb/http/validate.h"

namespace ebb::lb::http {
namespace {

enum class Kind { request, response };

struct Span {
  uint32_t off = 0;
  uint32_t len = 0;
};

struct RawHeader {
  Span name;
  Span value;
};

enum class State : uint8_t {
  idle,      // between messages
  head,      // message begun, head incomplete
  body,      // head delivered, waiting for the body / message end
  upgraded,  // response 101: the rest is tunnel data
  dead,      // error, or finish() was called
};

inline bool ows(char c) { return c == ' ' || c == '\t'; }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

// Which of the headers we interpret a name is (compared by length first: cheap).
enum class Known : uint8_t { other, host, content_length, transfer_encoding, expect };
Known classify(std::string_view n) {
  switch (n.size()) {
    case 4: return iequals(n, "host") ? Known::host : Known::other;
    case 6: return iequals(n, "expect") ? Known::expect : Known::other;
    case 14: return iequals(n, "content-length") ? Known::content_length : Known::other;
    case 17: return iequals(n, "transfer-encoding") ? Known::transfer_encoding : Known::other;
    default: return Known::other;
  }
}

// One llhttp parser plus our per-connection and per-message state; the request and response
// parsers are thin wrappers around it (Kind says which).
class Codec {
 public:
  Codec(Kind kind, const ParserLimits& limits, RequestSink* rs, ResponseSink* ps)
      : kind_(kind), limits_(limits), req_sink_(rs), resp_sink_(ps) {
    buf_.reserve(1024);
    raw_.reserve(32);
    init();
  }

  void init() {
    llhttp_init(&p_, kind_ == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings());
    p_.data = this;
    state_ = State::idle;
    paused_ = false;
    need_reset_ = false;
    last_keep_alive_ = true;
    prev1_ = prev2_ = 0;
    error_ = ParseResult{};
    start_message();
  }

  ParseResult feed(const char* data, size_t len);
  ParseResult finish();

  bool idle() const { return state_ == State::idle; }
  bool in_head() const { return state_ == State::head; }

  RequestHead req;
  ResponseHead resp;
  bool expect_head_ = false;
  bool expect_upgrade_ = false;

 private:
  static const llhttp_settings_t& settings();
  static Codec& self(llhttp_t* p) { return *static_cast<Codec*>(p->data); }

  // llhttp callbacks.
  static int cb_message_begin(llhttp_t* p);
  static int cb_url(llhttp_t* p, const char* at, size_t len);
  static int cb_status(llhttp_t* p, const char* at, size_t len);
  static int cb_header_field(llhttp_t* p, const char* at, size_t len);
  static int cb_header_field_complete(llhttp_t* p);
  static int cb_header_value(llhttp_t* p, const char* at, size_t len);
  static int cb_header_value_complete(llhttp_t* p);
  static int cb_headers_complete(llhttp_t* p);
  static int cb_body(llhttp_t* p, const char* at, size_t len);
  static int cb_message_complete(llhttp_t* p);

  int user_error(int status, const char* reason) {
    cb_status_ = status;
    cb_reason_ = reason;
    llhttp_set_error_reason(&p_, reason);
    return HPE_USER;
  }
  int bad_status() const { return kind_ == Kind::request ? 400 : 502; }
  // Persistence by the Connection header: "close" always wins; HTTP/1.0 needs "keep-alive".
  bool wants_keep_alive() const {
    if (p_.flags & F_CONNECTION_CLOSE) return false;
    return p_.http_minor == 1 || (p_.flags & F_CONNECTION_KEEP_ALIVE) != 0;
  }
  // Trailers are dropped, but their size is bounded like a head's (else a client could stream
  // an endless trailer section that no body limit sees).
  int count_trailer(size_t len) {
    trailer_bytes_ += len;
    if (trailer_bytes_ > limits_.max_head_bytes) return user_error(too_large_status(), "trailers too large");
    return 0;
  }
  int too_large_status() const { return kind_ == Kind::request ? 431 : 502; }

  ParseResult fail(int status, const char* reason) {
    state_ = State::dead;
    error_ = ParseResult{ParseStatus::error, 0, status, reason};
    return error_;
  }
  ParseResult fail_at(size_t consumed, int status, const char* reason) {
    ParseResult r = fail(status, reason);
    r.consumed = consumed;
    return r;
  }

  void start_message();
  bool scan_head_lines(const char* d, size_t n);
  void remember_tail(const char* d, size_t n) {
    if (n >= 2) {
      prev2_ = d[n - 2];
      prev1_ = d[n - 1];
    } else if (n == 1) {
      prev2_ = prev1_;
      prev1_ = d[0];
    }
  }
  std::string_view view(Span s) const { return std::string_view(buf_.data() + s.off, s.len); }
  void append(Span& s, const char* at, size_t len) {
    if (s.len == 0) s.off = uint32_t(buf_.size());
    buf_.append(at, len);
    s.len += uint32_t(len);
  }
  void build_headers(HeaderList& out) const {
    out.items.clear();
    for (const RawHeader& h : raw_) out.items.push_back(Header{view(h.name), view(h.value)});
  }
  // Validates the complete head and fills req/resp. Returns 0 or an error status (reason set).
  int complete_request_head(const char*& reason);
  int complete_response_head(const char*& reason);
  int common_framing_checks(const char*& reason);

  Kind kind_;
  ParserLimits limits_;
  RequestSink* req_sink_;
  ResponseSink* resp_sink_;
  llhttp_t p_{};

  State state_ = State::idle;
  bool paused_ = false;      // llhttp is paused (we returned HPE_PAUSED)
  bool need_reset_ = false;  // a message completed; the next feed starts a new one
  bool last_keep_alive_ = true;
  ParseResult error_;

  // Per message.
  std::string buf_;
  std::vector<RawHeader> raw_;
  Span target_;
  Span reason_;
  enum class Cur : uint8_t { none, field, value } cur_ = Cur::none;
  uint32_t head_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  uint64_t trailer_bytes_ = 0;
  uint32_t cl_count_ = 0, te_count_ = 0, host_count_ = 0;
  int host_index_ = -1;
  bool te_chunked_ = false;  // every TE header is exactly "chunked"
  bool cl_valid_ = true;
  uint64_t cl_value_ = 0;
  bool expect_continue_ = false;
  bool llhttp_upgrade_ = false;  // llhttp's upgrade decision at the end of the head
  bool head_done_ = false;       // set by on_headers_complete, consumed by feed()
  bool msg_done_ = false;        // set by on_message_complete, consumed by feed()
  bool after_lf_ = false;        // the last scanned head byte was LF
  bool after_cr_ = false;        // the last scanned head byte was CR
  char prev1_ = 0, prev2_ = 0;   // the last two bytes handed to llhttp
  int cb_status_ = 0;
  const char* cb_reason_ = "";
};

const llhttp_settings_t& Codec::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t st;
    llhttp_settings_init(&st);
    st.on_message_begin = cb_message_begin;
    st.on_url = cb_url;
    st.on_status = cb_status;
    st.on_header_field = cb_header_field;
    st.on_header_field_complete = cb_header_field_complete;
    st.on_header_value = cb_header_value;
    st.on_header_value_complete = cb_header_value_complete;
    st.on_headers_complete = cb_headers_complete;
    st.on_body = cb_body;
    st.on_message_complete = cb_message_complete;
    return st;
  }();
  return s;
}

void Codec::start_message() {
  buf_.clear();
  raw_.clear();
  target_ = reason_ = Span{};
  cur_ = Cur::none;
  head_bytes_ = 0;
  body_bytes_ = 0;
  trailer_bytes_ = 0;
  cl_count_ = te_count_ = host_count_ = 0;
  host_index_ = -1;
  te_chunked_ = true;
  cl_valid_ = true;
  cl_value_ = 0;
  expect_continue_ = false;
  llhttp_upgrade_ = false;
  head_done_ = msg_done_ = false;
  after_lf_ = after_cr_ = false;
}

int Codec::cb_message_begin(llhttp_t* p) {
  self(p).state_ = State::head;
  return 0;
}

int Codec::cb_url(llhttp_t* p, const char* at, size_t len) {
  Codec& c = self(p);
  c.append(c.target_, at, len);
  return 0;
}

int Codec::cb_status(llhttp_t* p, const char* at, size_t len) {
  Codec& c = self(p);
  c.append(c.reason_, at, len);
  return 0;
}

int Codec::cb_header_field(llhttp_t* p, const char* at, size_t len) {
  Codec& c = self(p);
  if (c.state_ != State::head) return c.count_trailer(len);  // chunk trailers: dropped
  if (c.cur_ != Cur::field) {
    if (c.raw_.size() >= c.limits_.max_headers)
      return c.user_error(c.too_large_status(), "too many header fields");
    c.raw_.push_back(RawHeader{});
    c.raw_.back().name.off = uint32_t(c.buf_.size());
    c.cur_ = Cur::field;
  }
  c.append(c.raw_.back().name, at, len);
  return 0;
}

int Codec::cb_header_field_complete(llhttp_t* p) {
  Codec& c = self(p);
  if (c.state_ != State::head) return 0;
  if (c.cur_ != Cur::field) return c.user_error(c.bad_status(), "empty header name");
  RawHeader& h = c.raw_.back();
  // llhttp 8.1 checks name bytes against tchar but lets SP through anywhere in a name
  // ("Host : a" arrives as the name "Host "; RFC 9112 §5.1 says reject). SP is the only
  // non-tchar byte it passes (an exhaustive unit test guards this), so look only for SP.
  if (h.name.len == 0) return c.user_error(c.bad_status(), "invalid header name");
  for (const char* q = c.buf_.data() + h.name.off, *end = q + h.name.len; q != end; ++q)
    if (*q == ' ') return c.user_error(c.bad_status(), "invalid header name");
  h.value.off = uint32_t(c.buf_.size());
  c.cur_ = Cur::value;
  return 0;
}

int Codec::cb_header_value(llhttp_t* p, const char* at, size_t len) {
  Codec& c = self(p);
  if (c.state_ != State::head) return c.count_trailer(len);
  RawHeader& h = c.raw_.back();
  if (h.value.len == 0) h.value.off = uint32_t(c.buf_.size());
  c.buf_.append(at, len);
  h.value.len += uint32_t(len);
  return 0;
}

int Codec::cb_header_value_complete(llhttp_t* p) {
  Codec& c = self(p);
  if (c.state_ != State::head) return 0;
  c.cur_ = Cur::none;
  RawHeader& h = c.raw_.back();
  std::string_view untrimmed = c.view(h.value);
  // llhttp strips leading whitespace only; trailing OWS is not part of the value.
  while (h.value.len > 0 && ows(c.buf_[h.value.off + h.value.len - 1])) --h.value.len;
  std::string_view value = c.view(h.value);
  // Value bytes: llhttp 8.1 already rejects exactly what is_valid_field_value() rejects (CTLs
  // but HTAB, DEL); an exhaustive unit test guards this, so no second pass here.
  switch (classify(c.view(h.name))) {
    case Known::host:
      ++c.host_count_;
      c.host_index_ = int(c.raw_.size() - 1);
      break;
    case Known::content_length: {
      ++c.cl_count_;
      auto v = parse_content_length(value);
      if (!v) c.cl_valid_ = false;
      else c.cl_value_ = *v;
      break;
    }
    case Known::transfer_encoding:
      ++c.te_count_;
      // Exactly "chunked", no list, no trailing whitespace: nothing ambiguous gets through.
      if (!is_plain_chunked(untrimmed)) c.te_chunked_ = false;
      break;
    case Known::expect:
      if (iequals(value, "100-continue")) c.expect_continue_ = true;
      break;
    case Known::other:
      break;
  }
  return 0;
}

int Codec::cb_headers_complete(llhttp_t* p) {
  Codec& c = self(p);
  c.head_done_ = true;
  c.llhttp_upgrade_ = p->upgrade != 0;
  if (c.kind_ == Kind::request) {
    // We decide on upgrades after seeing the response: llhttp must treat the request as a
    // normal message and pause at its end like any other.
    p->upgrade = 0;
  } else {
    int s = p->status_code;
    if (c.expect_head_ || (s >= 100 && s < 200) || s == 204 || s == 304) p->flags |= F_SKIPBODY;
  }
  return HPE_PAUSED;
}

int Codec::cb_body(llhttp_t* p, const char* at, size_t len) {
  Codec& c = self(p);
  if (c.kind_ == Kind::request) {
    if (c.limits_.max_body_bytes != 0 && c.body_bytes_ + len > c.limits_.max_body_bytes)
      return c.user_error(413, "request body too large");
    c.body_bytes_ += len;
    c.req_sink_->on_request_body(at, len);
  } else {
    c.body_bytes_ += len;
    c.resp_sink_->on_response_body(at, len);
  }
  return 0;
}

int Codec::cb_message_complete(llhttp_t* p) {
  self(p).msg_done_ = true;
  return HPE_PAUSED;
}

// Line endings in a head must be exactly CRLF: every LF follows a CR (no bare LF), every CR
// is followed by LF (no bare CR; llhttp accepts "\r\r\n" as the blank line), and no line
// starts with SP/HTAB (no obs-fold, no whitespace-prefixed line). Words of 8 bytes without a
// byte below 0x0e are skipped at once (SWAR "has less than" test), so the pass costs about
// one instruction per byte.
bool Codec::scan_head_lines(const char* d, size_t n) {
  if (n == 0) return true;
  if (after_lf_ && ows(d[0])) return false;
  if (after_cr_ && d[0] != '\n') return false;
  after_lf_ = after_cr_ = false;
  auto check = [&](size_t i) {
    char ch = d[i];
    if (static_cast<unsigned char>(ch) > '\r') return true;
    if (ch == '\n') {
      if ((i > 0 ? d[i - 1] : prev1_) != '\r') return false;
      if (i + 1 < n) return !ows(d[i + 1]);
      after_lf_ = true;
    } else if (ch == '\r') {
      if (i + 1 < n) return d[i + 1] == '\n';
      after_cr_ = true;
    }
    return true;
  };
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, d + i, 8);
    uint64_t t = (w - kOnes * 0x0e) & ~w & kHigh;  // high bit set for bytes < 0x0e
    if (t == 0) {
      i += 8;
      continue;
    }
    // The lowest flagged byte is exact (borrows only corrupt flags above it): check it and
    // go on right after it.
    size_t j = i + size_t(__builtin_ctzll(t) >> 3);
    if (!check(j)) return false;
    i = j + 1;
  }
  for (; i < n; ++i)
    if (!check(i)) return false;
  return true;
}

ParseResult Codec::feed(const char* data, size_t len) {
  // The proxy feeds (nullptr, 0) to run a body-less request on to its end; llhttp computes
  // data + len, which is undefined for a null pointer in C even when len is 0 (UBSan:
  // "applying zero offset to null pointer"; found by tests/fuzz).
  static const char kNoBytes[1] = {0};
  if (data == nullptr) data = kNoBytes;
  if (state_ == State::dead) return error_;
  if (state_ == State::upgraded) return ParseResult{ParseStatus::upgrade, 0, 0, ""};
  if (need_reset_) {
    if (len == 0) return ParseResult{ParseStatus::need_more, 0, 0, ""};
    if (!last_keep_alive_)
      return fail(bad_status(), "data after a message that closes the connection");
    need_reset_ = false;
    start_message();
  }
  size_t off = 0;
  for (;;) {
    if (paused_) {
      llhttp_resume(&p_);
      paused_ = false;
    }
    bool heading = state_ == State::idle || state_ == State::head;
    size_t n = len - off;
    if (heading) {
      size_t room = limits_.max_head_bytes - head_bytes_;
      if (n > room) {
        if (room == 0) return fail_at(off, too_large_status(), "message head too large");
        n = room;
      }
    }
    const char* start = data + off;
    llhttp_errno_t e = llhttp_execute(&p_, start, n);
    size_t used = n;
    if (e != HPE_OK) {
      const char* pos = llhttp_get_error_pos(&p_);
      used = (pos && pos >= start && pos <= start + n) ? size_t(pos - start) : 0;
    }
    if (heading && (e == HPE_OK || e == HPE_PAUSED)) {
      if (!scan_head_lines(start, used))
        return fail_at(off, bad_status(), "bare LF or folded header line");
      head_bytes_ += uint32_t(used);
    }
    remember_tail(start, used);
    off += used;

    if (e == HPE_OK) {
      if (off < len) continue;  // the head slice was capped: the next round reports 431/502
      return ParseResult{ParseStatus::need_more, off, 0, ""};
    }
    if (e == HPE_PAUSED) {
      paused_ = true;
      if (head_done_) {
        head_done_ = false;
        after_lf_ = after_cr_ = false;
        const char* reason = "";
        int status = kind_ == Kind::request ? complete_request_head(reason)
                                            : complete_response_head(reason);
        if (status != 0) return fail_at(off, status, reason);
        state_ = State::body;
        bool pause;
        if (kind_ == Kind::request) {
          pause = req_sink_->on_request_head(req);
        } else {
          pause = resp_sink_->on_response_head(resp);
          if (resp.upgrade) {
            state_ = State::upgraded;
            return ParseResult{ParseStatus::upgrade, off, 0, ""};
          }
        }
        if (pause) return ParseResult{ParseStatus::head_paused, off, 0, ""};
        continue;  // on with the body (or straight to message complete), even with 0 bytes
      }
      if (msg_done_) {
        msg_done_ = false;
        bool chunked = kind_ == Kind::request ? req.chunked : resp.chunked;
        // llhttp accepts a bare LF as the blank line after the last chunk / trailers.
        if (chunked && (prev2_ != '\r' || prev1_ != '\n'))
          return fail_at(off, bad_status(), "bare LF ending a chunked body");
        state_ = State::idle;
        need_reset_ = true;
        if (kind_ == Kind::request) {
          last_keep_alive_ = req.keep_alive;
          req_sink_->on_request_complete();
        } else {
          last_keep_alive_ = resp.keep_alive;
          resp_sink_->on_response_complete();
        }
        return ParseResult{ParseStatus::message_complete, off, 0, ""};
      }
      // A pause we did not ask for cannot happen; treat it as a parser failure.
      return fail_at(off, bad_status(), "unexpected parser pause");
    }
    if (e == HPE_USER) return fail_at(off, cb_status_, cb_reason_);
    const char* reason = llhttp_get_error_reason(&p_);
    return fail_at(off, bad_status(), reason ? reason : llhttp_errno_name(e));
  }
}

ParseResult Codec::finish() {
  if (state_ == State::dead) return error_;
  if (state_ == State::upgraded) return ParseResult{ParseStatus::upgrade, 0, 0, ""};
  if (state_ == State::idle) {
    // Clean close between messages (stray CRLFs before a request are fine too).
    state_ = State::dead;
    error_ = ParseResult{ParseStatus::error, 0, bad_status(), "connection closed"};
    return ParseResult{ParseStatus::need_more, 0, 0, ""};
  }
  if (kind_ == Kind::response && state_ == State::body && resp.until_close) {
    state_ = State::dead;
    error_ = ParseResult{ParseStatus::error, 0, 502, "connection closed"};
    resp_sink_->on_response_complete();
    return ParseResult{ParseStatus::message_complete, 0, 0, ""};
  }
  return fail(bad_status(), kind_ == Kind::request ? "client closed mid-request"
                                                   : "upstream closed mid-response");
}

int Codec::common_framing_checks(const char*& reason) {
  if (p_.http_major != 1 || p_.http_minor > 1) {
    reason = "unsupported HTTP version";
    return bad_status();
  }
  if (cl_count_ > 1) {
    reason = "several Content-Length headers";
    return bad_status();
  }
  if (cl_count_ == 1 && !cl_valid_) {
    reason = "invalid Content-Length";
    return bad_status();
  }
  if (te_count_ > 0) {
    if (cl_count_ > 0) {
      reason = "Content-Length with Transfer-Encoding";
      return bad_status();
    }
    if (te_count_ > 1 || !te_chunked_) {
      reason = "Transfer-Encoding other than chunked";
      return bad_status();
    }
    if (p_.http_minor == 0) {
      reason = "Transfer-Encoding in HTTP/1.0";
      return bad_status();
    }
  }
  return 0;
}

namespace {

// A request-target split into parts, as offsets into the target text.
struct TargetParts {
  size_t path_off = 0, path_len = 0;      // path without query
  size_t origin_off = 0, origin_len = 0;  // path + query (origin-form)
  size_t auth_off = 0, auth_len = 0;      // absolute-form authority
  bool absolute = false;
  bool empty_path = false;  // absolute-form without a path: path is "/", origin is "/" + query
};

bool split_target(std::string_view t, bool options, TargetParts& out) {
  // llhttp (loose) lets HTAB and obs-text through in a target; a backend that splits the
  // request line on whitespace would read a tab differently, so refuse every CTL, SP and DEL.
  for (char ch : t) {
    auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  // A fragment is never sent to a server (RFC 9110 §4.2.4): drop it.
  t = t.substr(0, t.find('#'));
  if (t.empty()) return false;
  if (t[0] == '/') {
    out.origin_len = t.size();
    out.path_len = std::min(t.find('?'), t.size());
    return true;
  }
  if (t == "*") {
    if (!options) return false;
    out.origin_len = out.path_len = 1;
    return true;
  }
  // absolute-form: scheme "://" authority path-abempty [ "?" query ]
  size_t sep = t.find("://");
  if (sep == std::string_view::npos) return false;
  std::string_view scheme = t.substr(0, sep);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
  size_t auth = sep + 3;
  size_t end = std::min(t.find_first_of("/?", auth), t.size());
  out.absolute = true;
  out.auth_off = auth;
  out.auth_len = end - auth;
  if (out.auth_len == 0 || t.substr(auth, out.auth_len).find('@') != std::string_view::npos)
    return false;
  if (end == t.size() || t[end] == '?') {
    out.empty_path = true;
    out.origin_off = end;  // the query (possibly empty), after which "/" must be prefixed
    out.origin_len = t.size() - end;
    return true;
  }
  out.origin_off = end;
  out.origin_len = t.size() - end;
  out.path_off = end;
  out.path_len = std::min(t.find('?', end), t.size()) - end;
  return true;
}

}  // namespace

int Codec::complete_request_head(const char*& reason) {
  if (int s = common_framing_checks(reason)) return s;
  if (p_.method == HTTP_CONNECT) {
    reason = "CONNECT is not supported";
    return 501;
  }
  if (host_count_ > 1) {
    reason = "several Host headers";
    return 400;
  }
  if (host_count_ == 0 && p_.http_minor == 1) {
    reason = "HTTP/1.1 request without Host";
    return 400;
  }
  RequestHead& h = req;
  h.method = llhttp_method_name(static_cast<llhttp_method_t>(p_.method));
  h.is_head = p_.method == HTTP_HEAD;
  h.version_minor = p_.http_minor;
  h.content_length = cl_count_ == 1 ? std::optional<uint64_t>(cl_value_) : std::nullopt;
  h.chunked = te_count_ == 1;
  if (limits_.max_body_bytes != 0 && h.content_length && *h.content_length > limits_.max_body_bytes) {
    reason = "request body too large";
    return 413;
  }
  h.keep_alive = wants_keep_alive();
  h.upgrade = p_.http_minor == 1 && llhttp_upgrade_;
  h.expect_continue = p_.http_minor == 1 && expect_continue_;  // RFC 9110 §10.1.1: ignored in 1.0

  // Work with offsets while buf_ may still grow (lowercased host, "/" + query); views last.
  TargetParts tp;
  if (!split_target(view(target_), p_.method == HTTP_OPTIONS, tp)) {
    reason = "invalid request target";
    return 400;
  }
  Span authority = host_index_ >= 0 ? raw_[host_index_].value : Span{};
  std::string_view host_part;
  if (!parse_host(view(authority), host_part)) {
    reason = "invalid Host header";
    return 400;
  }
  if (tp.absolute) {
    authority = Span{uint32_t(target_.off + tp.auth_off), uint32_t(tp.auth_len)};
    if (!parse_host(view(authority), host_part)) {
      reason = "invalid authority in request target";
      return 400;
    }
  }
  size_t host_src = host_part.empty() ? 0 : size_t(host_part.data() - buf_.data());
  Span host{uint32_t(buf_.size()), uint32_t(host_part.size())};
  for (size_t i = 0; i < host.len; ++i) buf_.push_back(lower(buf_[host_src + i]));
  Span origin{uint32_t(target_.off + tp.origin_off), uint32_t(tp.origin_len)};
  Span path{uint32_t(target_.off + tp.path_off), uint32_t(tp.path_len)};
  if (tp.empty_path) {
    Span query = origin;
    buf_.reserve(buf_.size() + 1 + query.len);  // so the self-append below cannot reallocate
    origin = Span{uint32_t(buf_.size()), uint32_t(1 + query.len)};
    buf_.push_back('/');
    buf_.append(buf_.data() + query.off, query.len);
    path = Span{origin.off, 1};
  }

  // buf_ is final for this head: views are stable until the next message.
  h.target = view(target_);
  h.path = view(path);
  h.origin_target = view(origin);
  h.absolute_form = tp.absolute;
  h.host = view(host);
  h.authority = view(authority);
  build_headers(h.headers);
  return 0;
}

int Codec::complete_response_head(const char*& reason) {
  if (int s = common_framing_checks(reason)) return s;
  ResponseHead& h = resp;
  int s = p_.status_code;
  if (s < 100 || s > 999) {
    reason = "invalid status code";
    return 502;
  }
  h.status = s;
  h.version_minor = p_.http_minor;
  h.upgrade = false;
  if (s == 101) {
    if (!expect_upgrade_) {
      reason = "101 to a request that did not ask to upgrade";
      return 502;
    }
    h.upgrade = true;
  }
  h.content_length = cl_count_ == 1 ? std::optional<uint64_t>(cl_value_) : std::nullopt;
  h.chunked = te_count_ == 1;
  h.no_body = expect_head_ || (s >= 100 && s < 200) || s == 204 || s == 304;
  h.until_close = !h.no_body && !h.chunked && !h.content_length;
  h.keep_alive = !h.upgrade && !h.until_close && wants_keep_alive();
  h.reason = view(reason_);
  build_headers(h.headers);
  return 0;
}

}  // namespace

// ---- public wrappers ----

struct RequestParser::Impl {
  Codec codec;
  Impl(RequestSink& s, const ParserLimits& l) : codec(Kind::request, l, &s, nullptr) {}
};

RequestParser::RequestParser(RequestSink& sink, const ParserLimits& limits)
    : impl_(std::make_unique<Impl>(sink, limits)) {}
RequestParser::~RequestParser() = default;
ParseResult RequestParser::feed(const char* data, size_t len) { return impl_->codec.feed(data, len); }
ParseResult RequestParser::finish() { return impl_->codec.finish(); }
void RequestParser::reset() { impl_->codec.init(); }
bool RequestParser::idle() const { return impl_->codec.idle(); }
bool RequestParser::in_head() const { return impl_->codec.in_head(); }
const RequestHead& RequestParser::head() const { return impl_->codec.req; }

struct ResponseParser::Impl {
  Codec codec;
  Impl(ResponseSink& s, const ParserLimits& l) : codec(Kind::response, l, nullptr, &s) {}
};

ResponseParser::ResponseParser(ResponseSink& sink, const ParserLimits& limits)
    : impl_(std::make_unique<Impl>(sink, limits)) {}
ResponseParser::~ResponseParser() = default;
void ResponseParser::expect(bool head_request, bool upgrade_request) {
  impl_->codec.expect_head_ = head_request;
  impl_->codec.expect_upgrade_ = upgrade_request;
}
ParseResult ResponseParser::feed(const char* data, size_t len) { return impl_->codec.feed(data, len); }
ParseResult ResponseParser::finish() { return impl_->codec.finish(); }
void ResponseParser::reset() { impl_->codec.init(); }
bool ResponseParser::idle() const { return impl_->codec.idle(); }
const ResponseHead& ResponseParser::head() const { return impl_->codec.resp; }

}  // namespace ebb::lb::http
