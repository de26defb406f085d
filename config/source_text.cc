#include "config/source_text.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace ebb::config {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// Position (1-based line and byte column) of offset `at` in `text`.
Pos pos_of(std::string_view text, size_t at) {
  Pos p{1, 1};
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

}  // namespace

std::optional<std::string> read_config_file(const std::string& path, Report& rep) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    rep.file_error(std::string("cannot open config file: ") + std::strerror(errno));
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    rep.file_error("is a directory, not a config file");
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) {
    rep.file_error("not a regular file");
    return std::nullopt;
  }
  if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > kMaxConfigBytes) {
    rep.file_error("file is too large (" + mib(static_cast<size_t>(st.st_size)) + "; the limit is " +
                   mib(kMaxConfigBytes) + ")");
    return std::nullopt;
  }
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    rep.file_error(std::string("cannot open config file: ") + std::strerror(errno));
    return std::nullopt;
  }
  std::string text;
  std::vector<char> buf(64 * 1024);
  while (true) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rep.file_error(std::string("cannot read config file: ") + std::strerror(errno));
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf.data(), static_cast<size_t>(n));
    if (text.size() > kMaxConfigBytes) {  // a pipe, or a file that grew while we read it
      rep.file_error("file is too large (over " + mib(kMaxConfigBytes) + ", the limit)");
      return std::nullopt;
    }
  }
  return text;
}

bool check_utf8(std::string_view text, Report& rep) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      len = 0;
      cp = 0;
    }
    bool ok = len != 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // No overlong forms, no surrogates, nothing past U+10FFFF.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF))
      ok = false;
    if (!ok) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      rep.error_at(pos_of(text, i), "", std::string("invalid UTF-8 (byte ") + hex + "); a config file must be UTF-8 text");
      return false;
    }
    i += len;
  }
  return true;
}

bool check_nesting(std::string_view text, Report& rep) {
  // One frame per open '[' or '{' inside a value, plus the implicit top level. A frame is in
  // "key" state where a key may be written (top-level line start, after '{' or ',' in an
  // inline table); dots seen in that state are dotted-key levels.
  struct Frame {
    char kind;  // 0 = top level, '[' or '{'
    bool in_key;
    int dots;
  };
  std::vector<Frame> stack{{0, true, 0}};
  size_t i = 0, n = text.size();
  auto too_deep = [&](size_t at) {
    rep.error_at(pos_of(text, at), "",
                 "nesting deeper than " + std::to_string(kMaxNesting) + " levels (arrays, inline tables, dotted keys)");
    return false;
  };
  auto depth = [&] {
    int d = 0;
    for (const auto& f : stack) d += 1 + f.dots;
    return d - 1;
  };
  while (i < n) {
    char c = text[i];
    Frame& top = stack.back();
    if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (c == '"' || c == '\'') {
      bool triple = i + 2 < n && text[i + 1] == c && text[i + 2] == c;
      i += triple ? 3 : 1;
      while (i < n) {
        if (c == '"' && text[i] == '\\') {
          i += 2;
          continue;
        }
        if (!triple && text[i] == '\n') break;  // unterminated: the parser reports it
        if (text[i] == c && (!triple || (i + 2 < n && text[i + 1] == c && text[i + 2] == c))) {
          i += triple ? 3 : 1;
          // A multi-line string may end with up to two more quotes ("""a"""" is legal).
          while (triple && i < n && text[i] == c) ++i;
          break;
        }
        ++i;
      }
      continue;
    }
    if (top.kind == 0) {
      if (c == '\n') {
        top.in_key = true;
        top.dots = 0;
      } else if (c == '=' && top.in_key) {
        top.in_key = false;
      } else if (c == '.' && top.in_key) {
        if (++top.dots > kMaxNesting || depth() > kMaxNesting) return too_deep(i);
      } else if ((c == '[' || c == '{') && !top.in_key) {
        stack.push_back({c, c == '{', 0});
        if (depth() > kMaxNesting) return too_deep(i);
      }
    } else {
      if (c == '[' || c == '{') {
        if (top.kind == '{' && top.in_key) {
          // not valid TOML; the parser reports it
        } else {
          stack.push_back({c, c == '{', 0});
          if (depth() > kMaxNesting) return too_deep(i);
        }
      } else if ((c == ']' && top.kind == '[') || (c == '}' && top.kind == '{')) {
        stack.pop_back();
      } else if (top.kind == '{') {
        if (c == '=' && top.in_key) {
          top.in_key = false;
        } else if (c == ',') {
          top.in_key = true;
          top.dots = 0;
        } else if (c == '.' && top.in_key) {
          if (++top.dots > kMaxNesting || depth() > kMaxNesting) return too_deep(i);
        }
      }
    }
    ++i;
  }
  return true;
}

bool is_blank_toml(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace ebb::config
