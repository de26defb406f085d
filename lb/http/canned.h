// Responses the LB produces itself (SPEC §4): precomputed at compile/first use, never built
// per request. Thread: any (immutable data).
#pragma once
#include <string_view>

namespace ebb::lb::http {

// The full HTTP/1.1 response bytes for `status`: status line, "Content-Type: text/plain",
// "Content-Length", "Connection: close" when `close` (else no Connection header), and a short
// text body like "400 Bad Request\n". Statuses: 400, 408, 413, 417, 431, 500, 501, 502, 503,
// 504; any other status returns the 500 response.
std::string_view canned_response(int status, bool close);

// The interim "HTTP/1.1 100 Continue\r\n\r\n" (for an Expect: 100-continue the proxy answers
// itself, if it decides to).
std::string_view continue_response();

}  // namespace ebb::lb::http
