#include "lb/http/path.h"

#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ebb::lb::http {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;

// 0x80 in every byte of `x` that is zero, 0 in the others (exact: no borrow across bytes).
inline uint64_t zero_bytes(uint64_t x) {
  const uint64_t t = (x & kLow7) + kLow7;  // a byte's high bit: its low 7 bits are not all 0
  return ~(t | x | kLow7);
}

inline uint64_t bytes_equal(uint64_t w, char c) { return zero_bytes(w ^ (kOnes * static_cast<uint8_t>(c))); }

inline uint64_t load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

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
  size_t i = 0;
#if defined(__SSE2__)
  // Sixteen bytes at a time: a '%' or '\\', or a '/' whose next byte (the same lane of the load
  // one byte further on) is '.' or '/'.
  const __m128i pct = _mm_set1_epi8('%'), bs = _mm_set1_epi8('\\'), sl = _mm_set1_epi8('/');
  const __m128i one = _mm_set1_epi8(1);
  for (; i + 17 <= n; i += 16) {
    const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(w, pct), _mm_cmpeq_epi8(w, bs)),
        _mm_and_si128(_mm_cmpeq_epi8(w, sl), _mm_cmpeq_epi8(_mm_or_si128(next, one), sl)));  // '.'|1 == '/'
    if (_mm_movemask_epi8(hit) != 0) return true;
  }
#endif
  if constexpr (std::endian::native == std::endian::little) {
    // Eight bytes at a time (SWAR): a '%' or '\', or a '/' whose next byte is '.' or '/'.
    // `next` holds each byte's successor in the same lane, so a pair across words is seen too.
    for (; i + 8 < n; i += 8) {
      const uint64_t w = load64(p + i);
      const uint64_t next = (w >> 8) | (uint64_t{static_cast<uint8_t>(p[i + 8])} << 56);
      const uint64_t hit = bytes_equal(w, '%') | bytes_equal(w, '\\') |
                           (bytes_equal(w, '/') & (bytes_equal(next, '.') | bytes_equal(next, '/')));
      if (hit != 0) return true;
    }
  }
  for (; i < n; ++i) {
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
  if (!path_may_need_normalizing(path)) {  // the common case: nothing else to do
    out.clear();
    return r;
  }
  r.status = normalize_path(path, out, &r.reason);
  if (r.status != PathStatus::normalized) return r;
  const size_t path_len = out.size();
  if (path.size() <= origin_target.size()) out.append(origin_target.substr(path.size()));
  r.path = std::string_view(out.data(), path_len);
  r.origin_target = out;
  return r;
}

}  // namespace ebb::lb::http
