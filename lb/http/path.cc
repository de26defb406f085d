#include "lb/http/path.h"

namespace ebb::lb::http {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

inline int hex_value(char ch) {
  auto c = static_cast<unsigned char>(ch);
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<unsigned char>(c | 0x20);  // ASCII lowercase
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
inline bool is_unreserved(unsigned v) {
  return (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') || (v >= '0' && v <= '9') || v == '-' ||
         v == '.' || v == '_' || v == '~';
}

// "." or "..", ignoring ";parameters" (servlet containers drop them before resolving).
inline bool is_dot_piece(std::string_view piece) {
  piece = piece.substr(0, piece.find(';'));
  return piece == "." || piece == "..";
}

// True if the normalised segment `seg` (not itself "." or "..") would hold a dot segment for a
// backend that also splits at "\", "%2F" or "%5C" or drops ";parameters". Percent-encodings in
// `seg` are already uppercase.
bool hides_dot_segment(std::string_view seg) {
  if (seg.find('.') == std::string_view::npos) return false;  // the usual answer
  size_t start = 0;
  size_t i = 0;
  for (;;) {
    size_t sep = 0;
    if (i == seg.size()) {
      sep = 0;
    } else if (seg[i] == '\\') {
      sep = 1;
    } else if (seg[i] == '%' && i + 2 < seg.size() &&
               ((seg[i + 1] == '2' && seg[i + 2] == 'F') || (seg[i + 1] == '5' && seg[i + 2] == 'C'))) {
      sep = 3;
    } else {
      ++i;
      continue;
    }
    if (is_dot_piece(seg.substr(start, i - start))) return true;
    if (i == seg.size()) return false;
    i += sep;
    start = i;
  }
}

}  // namespace

bool path_may_need_normalizing(std::string_view path) noexcept {
  const char* p = path.data();
  const size_t n = path.size();
  for (size_t i = 0; i < n; ++i) {
    char c = p[i];
    if (c == '%' || c == '\\') return true;
    if (c == '/' && i + 1 < n && (p[i + 1] == '.' || p[i + 1] == '/')) return true;
  }
  return false;
}

PathStatus normalize_path(std::string_view p, std::string& out, const char** reason) {
  out.clear();
  if (p.empty() || p[0] != '/' || !path_may_need_normalizing(p)) return PathStatus::unchanged;
  auto reject = [&](const char* why) {
    out.clear();
    if (reason) *reason = why;
    return PathStatus::rejected;
  };
  out.reserve(p.size() + 1);
  const size_t n = p.size();
  size_t i = 1;  // just after a '/'
  for (;;) {
    while (i < n && p[i] == '/') ++i;  // merge slashes
    if (i == n) {                      // the path ends with a slash
      out.push_back('/');
      break;
    }
    // One segment p[i, j): append "/" + its normal form, then look at what it is.
    const size_t mark = out.size();
    out.push_back('/');
    size_t j = i;
    for (; j < n && p[j] != '/'; ++j) {
      if (p[j] != '%') {
        out.push_back(p[j]);
        continue;
      }
      int hi = j + 2 < n ? hex_value(p[j + 1]) : -1;
      int lo = j + 2 < n ? hex_value(p[j + 2]) : -1;
      if (hi < 0 || lo < 0) return reject("invalid percent-encoding in path");
      auto v = static_cast<unsigned>(hi * 16 + lo);
      if (v == 0) return reject("%00 in path");
      if (is_unreserved(v)) {
        out.push_back(static_cast<char>(v));
      } else {
        out.push_back('%');
        out.push_back(kHexUpper[hi]);
        out.push_back(kHexUpper[lo]);
      }
      j += 2;
    }
    const bool last = j == n;
    std::string_view seg(out.data() + mark + 1, out.size() - mark - 1);
    if (seg == "." || seg == "..") {
      const bool up = seg.size() == 2;
      out.resize(mark);
      if (up) {  // drop the previous segment; at the root there is none (stays at "/")
        size_t slash = out.rfind('/');
        out.resize(slash == std::string::npos ? 0 : slash);
      }
      if (last) {  // "/a/." and "/a/b/.." name the directory: "/a/"
        out.push_back('/');
        break;
      }
    } else if (hides_dot_segment(seg)) {
      return reject("ambiguous dot segment in path");
    } else if (last) {
      break;
    }
    i = j + 1;
  }
  if (out == p) {
    out.clear();
    return PathStatus::unchanged;
  }
  return PathStatus::normalized;
}

NormalizedTarget normalize_target(std::string_view path, std::string_view origin_target,
                                  std::string& out) {
  NormalizedTarget r;
  r.path = path;
  r.origin_target = origin_target;
  r.status = normalize_path(path, out, &r.reason);
  if (r.status != PathStatus::normalized) return r;
  const size_t path_len = out.size();
  if (path.size() <= origin_target.size()) out.append(origin_target.substr(path.size()));
  r.path = std::string_view(out.data(), path_len);
  r.origin_target = out;
  return r;
}

}  // namespace ebb::lb::http
