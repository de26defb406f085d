// Incremental HTTP/1.x parsers on llhttp, with the request-smuggling defences of SPEC §4.
//
// Streaming model: feed() bytes as they arrive; the parser calls the sink for the head, for
// de-chunked body bytes, and when the message is complete. After each complete message the
// parser stops (ParseStatus::message_complete) and reports how many bytes it used, so a proxy
// can handle one request at a time and feed the rest (pipelined requests) later. Feeding
// again after message_complete starts the next message (and invalidates the previous head).
//
// Pure and deterministic: no I/O, no clock, no globals; safe to fuzz. Thread: a parser belongs
// to one thread (its connection's worker loop). The sink must not call back into the parser
// (feed/finish/reset) from inside a callback.
//
// Errors end the parser: every later feed() returns the same error until reset().
// Request errors carry the status to answer (400, 413, 431, 501); response errors carry 502.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lb/http/message.h"

namespace ebb::lb::http {

struct ParserLimits {
  // Bytes from the first byte of a message through the blank line ending its head (request
  // line or status line + headers + CRLFs). A head of exactly this size is accepted; one byte
  // more is an error: 431 for requests, 502 for responses. The (dropped) trailer section of a
  // chunked body has the same bound.
  uint32_t max_head_bytes = 64 * 1024;
  // Header lines per message; more is 431 (requests) / 502 (responses).
  uint32_t max_headers = 128;
  // Request body limit, 0 = unlimited. A Content-Length above it is 413 before the head is
  // reported; a chunked body that grows past it is 413 once the excess byte arrives (the sink
  // may already have received the bytes up to the limit).
  uint64_t max_body_bytes = 0;
};

enum class ParseStatus : uint8_t {
  need_more,         // all bytes consumed, message not finished: feed more when they arrive
  head_paused,       // the sink's on_*_head returned true: `consumed` ends exactly at the head
  message_complete,  // one whole message parsed (on_*_complete was called); `consumed` ends
                     // exactly at its last byte; bytes after it belong to the next message
                     // (or, after a request with head.upgrade answered by 101, to the tunnel)
  upgrade,           // response only: 101 to an upgrade request; `consumed` ends at the head;
                     // every later byte is tunnel data. The parser is done.
  error,             // see ParseResult::error_status / reason; close after answering
};

struct ParseResult {
  ParseStatus status = ParseStatus::need_more;
  size_t consumed = 0;        // bytes of this feed() used (always <= len)
  int error_status = 0;       // with ParseStatus::error: 400, 413, 431, 501 (requests), 502 (responses)
  const char* reason = "";    // static text for logs, e.g. "Content-Length with Transfer-Encoding"

  bool ok() const { return status != ParseStatus::error; }
};

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  // The request head is complete and passed every check (SPEC §4 smuggling rules, limits,
  // Host rules). Called once per request. Return true to pause right after the head (feed()
  // then returns head_paused; call feed() with the remaining bytes to continue with the body).
  virtual bool on_request_head(RequestHead& head) = 0;
  // De-chunked body bytes (never called for a body-less request). Pointers are valid only
  // during the call.
  virtual void on_request_body(const char* data, size_t len) = 0;
  // The request ended (body complete; chunk trailers are read and dropped).
  virtual void on_request_complete() = 0;
};

class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // The response head is complete and valid. Also called for each 1xx interim response (each
  // is then its own message: message_complete follows at once; feed the rest to get the final
  // response). Return true to pause right after the head.
  virtual bool on_response_head(ResponseHead& head) = 0;
  virtual void on_response_body(const char* data, size_t len) = 0;
  virtual void on_response_complete() = 0;
};

// Parses requests from one client connection.
class RequestParser {
 public:
  RequestParser(RequestSink& sink, const ParserLimits& limits = {});
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses bytes [data, data+len). Stops at the first of: end of input (need_more), a paused
  // head, a complete message, an error. Never reads past len; never keeps `data`.
  ParseResult feed(const char* data, size_t len);
  // The client closed its sending side (EOF). need_more when between messages (a clean close),
  // error 400 when a message was cut short (the caller just closes: there is nobody to answer).
  ParseResult finish();
  // Forget everything (after an error, or to reuse the object for a new connection).
  void reset();
  // True between messages: nothing of the next message has been seen yet.
  bool idle() const;
  // True while the current message's head is incomplete (for the header-read timeout).
  bool in_head() const;
  // The current (or last) head; see message.h for its lifetime.
  const RequestHead& head() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses responses from one upstream connection.
class ResponseParser {
 public:
  ResponseParser(ResponseSink& sink, const ParserLimits& limits = {});
  ~ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Call before feeding the response to each request: a HEAD request gets a body-less
  // response; only an upgrade request may get 101 (a 101 to anything else is a 502 error).
  void expect(bool head_request, bool upgrade_request);
  ParseResult feed(const char* data, size_t len);
  // The upstream closed (EOF). message_complete when it ends a close-delimited body;
  // need_more when idle between responses; error 502 when a response was cut short.
  ParseResult finish();
  void reset();
  bool idle() const;
  const ResponseHead& head() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ebb::lb::http
