#include "lb/http/rewrite.h"

#include <sys/random.h>

#include <charconv>
#include <chrono>

namespace ebb::lb::http {
namespace {

// Headers the rewriting treats specially, classified by length first (cheap).
enum class Special : uint8_t {
  none,
  connection,
  keep_alive,
  proxy_connection,
  te,
  trailer,
  upgrade,
  transfer_encoding,
  content_length,
  host,
  x_forwarded_for,
  x_forwarded_proto,
  x_forwarded_port,
  x_request_id,
  expect,
};

Special classify(std::string_view n) {
  switch (n.size()) {
    case 2: return iequals(n, "te") ? Special::te : Special::none;
    case 4: return iequals(n, "host") ? Special::host : Special::none;
    case 6: return iequals(n, "expect") ? Special::expect : Special::none;
    case 7:
      if (iequals(n, "upgrade")) return Special::upgrade;
      if (iequals(n, "trailer")) return Special::trailer;
      return Special::none;
    case 10:
      if (iequals(n, "connection")) return Special::connection;
      if (iequals(n, "keep-alive")) return Special::keep_alive;
      return Special::none;
    case 12: return iequals(n, "x-request-id") ? Special::x_request_id : Special::none;
    case 14: return iequals(n, "content-length") ? Special::content_length : Special::none;
    case 15: return iequals(n, "x-forwarded-for") ? Special::x_forwarded_for : Special::none;
    case 16:
      if (iequals(n, "proxy-connection")) return Special::proxy_connection;
      if (iequals(n, "x-forwarded-port")) return Special::x_forwarded_port;
      return Special::none;
    case 17:
      if (iequals(n, "transfer-encoding")) return Special::transfer_encoding;
      if (iequals(n, "x-forwarded-proto")) return Special::x_forwarded_proto;
      return Special::none;
    default: return Special::none;
  }
}

inline bool ows(char c) { return c == ' ' || c == '\t'; }

// True if the comma-separated token list `list` contains `name` (case-insensitive).
bool list_contains(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view tok = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!tok.empty() && ows(tok.front())) tok.remove_prefix(1);
    while (!tok.empty() && ows(tok.back())) tok.remove_suffix(1);
    if (iequals(tok, name)) return true;
  }
  return false;
}

// The header names listed in a message's Connection headers, except "close", "keep-alive"
// and "upgrade" (which name nothing we would keep: Keep-Alive and Upgrade are handled by
// name), so the common "Connection: keep-alive" costs nothing per header.
class ConnectionTokens {
 public:
  explicit ConnectionTokens(const HeaderList& headers) {
    for (const Header& h : headers.items) {
      if (h.name.size() != 10 || !iequals(h.name, "connection")) continue;
      std::string_view list = h.value;
      while (!list.empty()) {
        size_t comma = list.find(',');
        std::string_view tok = list.substr(0, comma);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        while (!tok.empty() && ows(tok.front())) tok.remove_prefix(1);
        while (!tok.empty() && ows(tok.back())) tok.remove_suffix(1);
        if (tok.empty() || iequals(tok, "close") || iequals(tok, "keep-alive") ||
            iequals(tok, "upgrade"))
          continue;
        if (n_ == kMax) {
          overflow_ = true;  // absurd header: fall back to scanning the raw values
          break;
        }
        tokens_[n_++] = tok;
      }
    }
    if (overflow_) headers_ = &headers;
  }
  // True if some Connection header names `name`.
  bool names(std::string_view name) const {
    if (overflow_) {
      for (const Header& h : headers_->items)
        if (h.name.size() == 10 && iequals(h.name, "connection") && list_contains(h.value, name))
          return true;
      return false;
    }
    for (size_t i = 0; i < n_; ++i)
      if (iequals(tokens_[i], name)) return true;
    return false;
  }
  bool empty() const { return n_ == 0 && !overflow_; }

 private:
  static constexpr size_t kMax = 16;
  const HeaderList* headers_ = nullptr;
  std::string_view tokens_[kMax];
  size_t n_ = 0;
  bool overflow_ = false;
};

void append_uint(std::string& out, uint64_t v) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  out.append(tmp, size_t(r.ptr - tmp));
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

// xoshiro256** (Blackman & Vigna), seeded once per thread.
struct Prng {
  uint64_t s[4];
  Prng() {
    if (getrandom(s, sizeof s, 0) != ssize_t(sizeof s)) {
      // No entropy source (very early boot): fall back to time and address mixing.
      uint64_t t = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
      uint64_t a = reinterpret_cast<uintptr_t>(this);
      for (int i = 0; i < 4; ++i) s[i] = splitmix(t += 0x9e3779b97f4a7c15ULL ^ a);
    }
    if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;
  }
  static uint64_t splitmix(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }
};

void append_hex64(std::string& out, uint64_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  char tmp[16];
  for (int i = 14; i >= 0; i -= 2) {
    tmp[i + 1] = kHex[v & 0xf];
    tmp[i] = kHex[(v >> 4) & 0xf];
    v >>= 8;
  }
  out.append(tmp, 16);
}

}  // namespace

void append_request_id(std::string& out) {
  thread_local Prng prng;
  append_hex64(out, prng.next());
  append_hex64(out, prng.next());
}

BodyFraming write_upstream_request_head(const RequestHead& head, const ForwardInfo& info,
                                        std::string& out, std::string_view origin_target) {
  out.append(head.method);
  out.push_back(' ');
  out.append(origin_target.empty() ? head.origin_target : origin_target);
  out.append(" HTTP/1.1\r\n", 11);
  append_header(out, "Host", head.authority);

  ConnectionTokens conn(head.headers);
  bool has_request_id = false;
  size_t xff_count = 0;
  for (const Header& h : head.headers.items) {
    Special s = classify(h.name);
    switch (s) {
      case Special::connection:
      case Special::keep_alive:
      case Special::proxy_connection:
      case Special::te:
      case Special::trailer:
      case Special::transfer_encoding:
      case Special::content_length:
      case Special::host:
      case Special::x_forwarded_proto:
      case Special::x_forwarded_port:
        continue;
      case Special::upgrade:
        if (!info.upgrade) continue;
        append_header(out, h.name, h.value);  // "Connection: upgrade" names it: keep anyway
        continue;
      case Special::x_forwarded_for:
        if (!conn.empty() && conn.names(h.name)) continue;
        ++xff_count;
        continue;  // merged below
      case Special::x_request_id:
        if (!conn.empty() && conn.names(h.name)) continue;
        has_request_id = true;
        break;
      case Special::expect:
        // An HTTP/1.0 client's 100-continue is ignored (RFC 9110 §10.1.1: head.expect_continue
        // is false); forwarded on our HTTP/1.1 request line the backend would act on it
        // (a 100, or a 417 the client never asked for). Found by tests/fuzz.
        if (!head.expect_continue && iequals(h.value, "100-continue")) continue;
        if (!conn.empty() && conn.names(h.name)) continue;
        break;
      case Special::none:
        if (!conn.empty() && conn.names(h.name)) continue;
        break;
    }
    append_header(out, h.name, h.value);
  }

  out.append("X-Forwarded-For: ", 17);
  if (xff_count > 0) {
    for (const Header& h : head.headers.items) {
      if (classify(h.name) != Special::x_forwarded_for) continue;
      if (h.value.empty()) continue;
      out.append(h.value);
      out.append(", ", 2);
    }
  }
  out.append(info.client_ip);
  out.append("\r\n", 2);
  out.append(info.tls ? "X-Forwarded-Proto: https\r\n" : "X-Forwarded-Proto: http\r\n");
  out.append("X-Forwarded-Port: ", 18);
  append_uint(out, info.listener_port);
  out.append("\r\n", 2);
  if (!has_request_id) {
    out.append("X-Request-Id: ", 14);
    append_request_id(out);
    out.append("\r\n", 2);
  }
  if (info.upgrade) out.append("Connection: upgrade\r\n", 21);

  BodyFraming framing = BodyFraming::none;
  if (head.chunked) {
    out.append("Transfer-Encoding: chunked\r\n", 28);
    framing = BodyFraming::chunked;
  } else if (head.content_length) {
    out.append("Content-Length: ", 16);
    append_uint(out, *head.content_length);
    out.append("\r\n", 2);
    if (*head.content_length > 0) framing = BodyFraming::content_length;
  }
  out.append("\r\n", 2);
  return framing;
}

DownstreamHead write_downstream_response_head(const ResponseHead& head, const ResponseRewrite& rw,
                                              std::string& out) {
  DownstreamHead d;
  bool interim = head.status >= 100 && head.status < 200 && !head.upgrade;
  if (interim && rw.client_version_minor == 0) {
    d.written = false;  // HTTP/1.0 clients do not understand 1xx (RFC 9110 §15.2)
    return d;
  }
  bool client11 = rw.client_version_minor >= 1;

  out.append("HTTP/1.1 ", 9);
  append_uint(out, uint64_t(head.status));
  out.push_back(' ');
  out.append(head.reason);
  out.append("\r\n", 2);

  ConnectionTokens conn(head.headers);
  for (const Header& h : head.headers.items) {
    switch (classify(h.name)) {
      case Special::connection:
      case Special::keep_alive:
      case Special::proxy_connection:
      case Special::te:
      case Special::trailer:
      case Special::transfer_encoding:
      case Special::content_length:
        continue;
      case Special::upgrade:
        if (!head.upgrade) continue;
        append_header(out, h.name, h.value);
        continue;
      default:
        if (!conn.empty() && conn.names(h.name)) continue;
        break;
    }
    append_header(out, h.name, h.value);
  }
  if (!rw.set_cookie.empty() && !interim) append_header(out, "Set-Cookie", rw.set_cookie);

  if (head.upgrade) {
    out.append("Connection: upgrade\r\n", 21);
    d.framing = BodyFraming::none;
    d.close = false;
  } else if (interim) {
    d.framing = BodyFraming::none;
    d.close = false;
  } else {
    if (head.no_body) {
      // Framing headers describe the representation (HEAD, 304): keep them, send no body.
      if (head.content_length) {
        out.append("Content-Length: ", 16);
        append_uint(out, *head.content_length);
        out.append("\r\n", 2);
      } else if (head.chunked && client11) {
        out.append("Transfer-Encoding: chunked\r\n", 28);
      }
      d.framing = BodyFraming::none;
    } else if (head.content_length) {
      out.append("Content-Length: ", 16);
      append_uint(out, *head.content_length);
      out.append("\r\n", 2);
      d.framing = *head.content_length > 0 ? BodyFraming::content_length : BodyFraming::none;
    } else if (client11) {
      out.append("Transfer-Encoding: chunked\r\n", 28);
      d.framing = BodyFraming::chunked;
    } else {
      d.framing = BodyFraming::until_close;
    }
    d.close = rw.close || d.framing == BodyFraming::until_close;
    if (d.close) out.append("Connection: close\r\n", 19);
    else if (!client11) out.append("Connection: keep-alive\r\n", 24);
  }
  out.append("\r\n", 2);
  return d;
}

void append_chunk_header(std::string& out, size_t len) {
  static constexpr char kHex[] = "0123456789abcdef";
  char tmp[18];
  int i = 16;
  tmp[16] = '\r';
  tmp[17] = '\n';
  do {
    tmp[--i] = kHex[len & 0xf];
    len >>= 4;
  } while (len != 0);
  out.append(tmp + i, size_t(18 - i));
}

void append_chunk_end(std::string& out) { out.append("\r\n", 2); }

void append_chunk(std::string& out, const char* data, size_t len) {
  if (len == 0) return;
  append_chunk_header(out, len);
  out.append(data, len);
  append_chunk_end(out);
}

void append_last_chunk(std::string& out) { out.append("0\r\n\r\n", 5); }

}  // namespace ebb::lb::http
