// Request path normalisation before routing (SPEC §2 routes, docs/SECURITY.md).
//
// Why: routes match `path_prefix` on the path, and the backend resolves the path it receives.
// If the two read a path differently ("/api/../admin" matches "/api/" but is "/admin" to the
// backend), a route is no boundary. So ebb-lb normalises the path once, routes on the result
// and forwards exactly that result: the backend sees the path that was routed.
//
// The rules (origin-form paths, i.e. ones starting with "/"; anything else, such as "*" of
// OPTIONS, is left alone):
//  1. Percent-encoding (RFC 3986 §6.2.2.1/§6.2.2.2): the hex digits of every "%XX" are
//     uppercased, and octets of unreserved characters (ALPHA DIGIT "-" "." "_" "~") are decoded
//     ("%7e" -> "~", "%2e" -> "."). A "%" not followed by two hex digits, and "%00", are
//     rejected (backends disagree on both).
//  2. Repeated slashes are merged ("//a///b" -> "/a/b"), as nginx and Apache do by default and
//     Envoy's merge_slashes / HAProxy's path-merge-slashes do.
//  3. Dot segments are removed (RFC 3986 §5.2.4 remove_dot_segments), after step 1, so
//     "%2e%2e" counts as ".."; ".." at the root stays at the root ("/../a" -> "/a").
//  4. An encoded slash or backslash ("%2F", "%5C") or a literal backslash stays as it is: it is
//     data inside a segment, not a separator (RFC 3986). But a segment that some backends would
//     split there into a "." or ".." piece ("..%2F", "%5C..", "..\"), and a dot segment
//     carrying ";" parameters ("..;x", which servlet containers read as ".."), are rejected:
//     whether they climb depends on the backend, so nothing ambiguous is forwarded.
// The query is never touched.
//
// Pure functions, no I/O, no globals. Thread: any. Allocation: only `out` may grow (reserve it
// once per connection and reuse it: no allocation per request in steady state).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace ebb::lb::http {

enum class PathStatus : uint8_t {
  unchanged,   // already normal: use the path as received
  normalized,  // `out` holds the normal form, which differs from the input
  rejected,    // ambiguous or malformed: answer 400
};

// The fast pre-scan: false when `path` certainly is normal already: no '%', no '\', no "//"
// and no segment starting with '.'. One pass over the bytes, no writes. Most real paths
// ("/index.html", "/api/v1/users?id=3") take only this.
bool path_may_need_normalizing(std::string_view path) noexcept;

// Normalises the path (no query, no fragment) by the rules above into `out` (cleared first).
// normalized: `out` is the normal form. unchanged: `out` is empty. rejected: `out` is empty and
// `*reason` (if given) names the rule, a static string for logs.
PathStatus normalize_path(std::string_view path, std::string& out, const char** reason = nullptr);

// What the proxy routes on and forwards.
struct NormalizedTarget {
  PathStatus status = PathStatus::unchanged;
  std::string_view path;           // the path to route on
  std::string_view origin_target;  // the origin-form target to forward (path + original query)
  const char* reason = "";         // with rejected
};

// Normalises a request's path, given its origin-form target (`path` must be a prefix of
// `origin_target`, as RequestHead guarantees; the rest is the "?query", kept byte for byte).
// normalized: `out` is the new origin target and both views point into it (valid until `out`
// changes). unchanged / rejected: `out` is cleared and the views are the inputs.
NormalizedTarget normalize_target(std::string_view path, std::string_view origin_target,
                                  std::string& out);

}  // namespace ebb::lb::http
