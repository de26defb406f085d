// Parsed HTTP/1.x message heads (SPEC §4). Produced by RequestParser / ResponseParser.
//
// Memory: every string_view in a head points into storage owned by the parser that produced
// it. A head is valid from the on_*_head callback until the parser starts the next message,
// i.e. until the first feed() after a ParseStatus::message_complete (or until the parser is
// destroyed or reset()). Copy what must outlive that. The parser reuses its storage across
// messages, so a keep-alive connection does no heap allocation per request once warmed up.
//
// Thread: a head belongs to the thread of its parser (a worker loop); no internal locking.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace ebb::lb::http {

// One header line as received: name with its original case, value without leading or
// trailing whitespace. Names are validated tokens; values contain no CTL bytes except HTAB.
struct Header {
  std::string_view name;
  std::string_view value;
};

// Case-insensitive ASCII equality (header names, tokens). No locale, no allocation.
bool iequals(std::string_view a, std::string_view b);

// The headers of one message, in order of arrival (duplicates kept as separate entries).
struct HeaderList {
  std::vector<Header> items;

  // First header whose name equals `name` case-insensitively, or nullptr.
  const Header* find(std::string_view name) const;
  // Number of headers named `name` (case-insensitive).
  size_t count(std::string_view name) const;
};

struct RequestHead {
  std::string_view method;  // as sent, e.g. "GET" (llhttp only accepts known methods)
  bool is_head = false;     // method == HEAD: the response has no body
  std::string_view target;  // request-target as sent: origin-form "/a?b", absolute-form, or "*"
  std::string_view path;    // the path of the target, without query or fragment: "/a" ("*" for OPTIONS *)
  // The target in origin-form (path + query, fragment dropped) for the upstream request line.
  std::string_view origin_target;
  int version_minor = 1;    // HTTP/1.<version_minor>: 0 or 1
  HeaderList headers;
  std::optional<uint64_t> content_length;  // a valid, single Content-Length
  bool chunked = false;          // Transfer-Encoding: chunked (the only coding accepted)
  bool keep_alive = false;       // the client wants to keep the connection ("close" wins; 1.0 needs "keep-alive")
  bool upgrade = false;          // HTTP/1.1 with Upgrade + "Connection: upgrade" (e.g. WebSocket)
  bool expect_continue = false;  // Expect: 100-continue (HTTP/1.1 only; ignored in 1.0)
  // Host from the absolute-form target if any, else from the Host header; lowercased, port
  // stripped, IPv6 brackets kept ("[::1]"). Empty when absent (HTTP/1.0) or empty.
  std::string_view host;
  // The authority to send upstream as Host (with port, original case): from the absolute-form
  // target if any, else the Host header value. Empty when the client sent none.
  std::string_view authority;
  bool absolute_form = false;    // the target was absolute-form ("http://host/path")

  const Header* find(std::string_view name) const { return headers.find(name); }
  // True when the request carries a body (chunked or Content-Length > 0).
  bool has_body() const { return chunked || (content_length && *content_length > 0); }
};

struct ResponseHead {
  int status = 0;
  int version_minor = 1;
  std::string_view reason;
  HeaderList headers;
  std::optional<uint64_t> content_length;
  bool chunked = false;        // Transfer-Encoding: chunked
  bool keep_alive = false;     // the upstream connection may be reused after this response
  bool upgrade = false;        // 101 Switching Protocols to an upgrade request: tunnel follows
  bool no_body = false;        // 1xx, 204, 304, or the response to a HEAD request
  bool until_close = false;    // body delimited by the upstream closing the connection

  const Header* find(std::string_view name) const { return headers.find(name); }
};

// Value of cookie `name` in the request's Cookie header(s) ("a=1; b=2"), or nullopt.
// Cookie names compare case-sensitively (RFC 6265). Allocation-free.
std::optional<std::string_view> find_cookie(const RequestHead& head, std::string_view name);

}  // namespace ebb::lb::http
