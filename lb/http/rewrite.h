// Header rewriting between client and upstream (SPEC §4) and chunked re-framing.
//
// Bodies reach the proxy de-chunked (parser on_*_body); the proxy frames them again for the
// other side as the BodyFraming returned here says: raw bytes for Content-Length,
// append_chunk()/append_last_chunk() for chunked, raw bytes then close for until_close.
// Chunk trailers are not forwarded.
//
// Pure functions on caller-provided strings: they only append to `out` (reserve once and reuse
// it per connection: no allocation per request in steady state). Thread: any; the request-id
// generator is thread_local (seeded once per thread, no syscall per request).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lb/http/message.h"

namespace ebb::lb::http {

enum class BodyFraming : uint8_t {
  none,            // no body follows the head
  content_length,  // pass exactly Content-Length body bytes as they are
  chunked,         // wrap body bytes with append_chunk(), end with append_last_chunk()
  until_close,     // pass body bytes as they are, then close the connection (HTTP/1.0 client)
};

struct ForwardInfo {
  std::string_view client_ip;  // textual address without port ("10.0.0.1", "::1")
  uint16_t listener_port = 0;  // X-Forwarded-Port
  bool tls = false;            // X-Forwarded-Proto: https (else http)
  bool upgrade = false;        // forward Upgrade + "Connection: upgrade" (head.upgrade)
};

// Appends the upstream request head for `head` to `out` and returns the body framing to use.
//  - Request line: method, origin-form target (absolute-form is converted), always HTTP/1.1.
//  - Host: the client's authority (absolute-form target wins); an empty Host if it sent none.
//  - Removed: Connection and every header it names, Keep-Alive, Proxy-Connection, TE,
//    Trailer, Upgrade (kept when info.upgrade: then "Connection: upgrade" is added),
//    Transfer-Encoding and Content-Length (re-added from the parsed framing),
//    X-Forwarded-Proto and X-Forwarded-Port (replaced by ours, never trusted from the client).
//  - X-Forwarded-For: the client's non-empty value(s), joined with ", ", + ", " + client_ip
//    (one header), or just client_ip.
//  - X-Request-Id: kept if present, else a fresh random 32-hex-digit id is added.
//  - Expect: 100-continue is forwarded as is (dropped from HTTP/1.0 requests, which ignore it).
// No Connection header otherwise: HTTP/1.1 upstream connections default to keep-alive.
// `origin_target`, when not empty, is sent instead of head.origin_target: the normalised
// target (lb/http/path.h), so the backend sees the path that was routed.
BodyFraming write_upstream_request_head(const RequestHead& head, const ForwardInfo& info,
                                        std::string& out, std::string_view origin_target = {});

struct ResponseRewrite {
  // The proxy will close the client connection after this response: set it when the request
  // was not keep_alive, on shutdown, or for any reason of its own. (A HEAD request needs no
  // flag: the ResponseParser was told via expect() and head.no_body is set.)
  bool close = false;
  int client_version_minor = 1;  // 0: HTTP/1.0 client (no chunked, no 1xx)
  std::string_view set_cookie;   // "" = none, else a full Set-Cookie value (sticky cookie)
};

struct DownstreamHead {
  BodyFraming framing = BodyFraming::none;
  // The client connection must be closed after this response's body (the proxy asked for it,
  // the client did not ask for keep-alive, or the body is close-delimited). For a 1xx interim
  // response this is always false.
  bool close = false;
  // false when nothing was written: a 1xx interim response to an HTTP/1.0 client (dropped).
  bool written = true;
};

// Appends the response head to send to the client.
//  - Status line "HTTP/1.1 <status> <reason>".
//  - Hop-by-hop headers removed as above (Upgrade kept and "Connection: upgrade" added for 101).
//  - Framing: Content-Length kept; a chunked or close-delimited upstream body goes out chunked
//    to HTTP/1.1 clients and close-delimited (no Content-Length, no Transfer-Encoding, then
//    close) to HTTP/1.0 clients. No body for 1xx/204/304/HEAD (their Content-Length, or
//    "Transfer-Encoding: chunked" to 1.1 clients, is still shown: it describes the resource).
//  - 1xx interim responses (not 101): only the status line and end-to-end headers; nothing
//    written for HTTP/1.0 clients (written = false). No Set-Cookie on 1xx.
//  - "Connection: close" when closing; "Connection: keep-alive" to HTTP/1.0 clients kept alive.
//  - rw.set_cookie appended as a Set-Cookie header.
DownstreamHead write_downstream_response_head(const ResponseHead& head, const ResponseRewrite& rw,
                                              std::string& out);

// Chunk framing for BodyFraming::chunked: "<hex len>\r\n<data>\r\n". len 0 appends nothing
// (an empty chunk would end the body).
void append_chunk(std::string& out, const char* data, size_t len);
// Writes only the chunk header ("<hex len>\r\n") so the caller can send the data from its own
// buffer, then append_chunk_end() ("\r\n"). len must be > 0.
void append_chunk_header(std::string& out, size_t len);
void append_chunk_end(std::string& out);
// The last chunk with no trailers: "0\r\n\r\n".
void append_last_chunk(std::string& out);

// Appends 32 lowercase hex digits from a thread_local PRNG (xoshiro256**, seeded once per
// thread from the OS). Not for secrets; unique enough for request ids.
void append_request_id(std::string& out);

}  // namespace ebb::lb::http
