// Byte-level validation rules used by the parsers (RFC 9110 / 9112, SPEC §4 smuggling rules).
// Pure functions, no allocation; exposed for unit tests and fuzzers.
//
// Policy (what the parsers reject with 400 for requests / 502 for responses):
//  - Content-Length and Transfer-Encoding together.
//  - More than one Content-Length header, even with identical values (never merged), and a
//    Content-Length value that is not 1*DIGIT (no sign, no spaces inside, no list, <= 2^63).
//  - Transfer-Encoding other than exactly one "chunked" coding (case-insensitive): "gzip,
//    chunked", "chunked, gzip", "xchunked", "chunked " (trailing whitespace), several TE
//    headers, and any TE in an HTTP/1.0 request.
//  - Header names that are not tokens (includes whitespace before the colon: "Host : a"),
//    values with CTL bytes other than HTAB (NUL, CR, LF, DEL...), obs-fold continuation lines,
//    bare LF or bare CR line endings (llhttp rejects those; we keep it strict).
//  - HTTP/1.1 requests without Host, several Host headers, an invalid Host value.
//  - A request-target with SP, HTAB, other CTLs or DEL (llhttp lets HTAB through), an
//    absolute-form target with userinfo or a scheme other than http/https, "*" except for
//    OPTIONS, CONNECT (501), HTTP versions other than 1.0 and 1.1.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace ebb::lb::http {

// tchar of RFC 9110 §5.6.2. (llhttp enforces it for header names except for SP, which the
// parsers reject themselves.)
bool is_token_char(unsigned char c);
// 1*tchar.
bool is_token(std::string_view s);
// A field value: VCHAR / obs-text / SP / HTAB only; rejects NUL, CR, LF, other CTLs and DEL.
// (The parsers get this check from llhttp, which enforces exactly this set; a unit test
// compares the two byte by byte.)
bool is_valid_field_value(std::string_view s);
// Content-Length value: 1*DIGIT, at most 2^63-1. nullopt if invalid.
std::optional<uint64_t> parse_content_length(std::string_view s);
// True iff the Transfer-Encoding value is exactly the single coding "chunked" (case-insensitive).
bool is_plain_chunked(std::string_view te);
// Host header value: uri-host [ ":" port ] with reg-name / IPv4 / "[" IPv6 "]" characters only.
// Empty is valid (RFC 9112 §3.2). On success `host_out` is the host part (port stripped).
bool parse_host(std::string_view value, std::string_view& host_out);

}  // namespace ebb::lb::http
