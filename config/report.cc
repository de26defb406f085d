#include "config/report.h"

#include <algorithm>
#include <cstdio>

namespace ebb::config {

std::string Diagnostic::str() const {
  if (line == 0) return file + ": " + (key.empty() ? "" : key + ": ") + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + (key.empty() ? "" : key + ": ") +
         message;
}

std::string parent_path(const std::string& path) {
  if (path.empty()) return "";
  if (path.back() == ']') {
    size_t open = path.rfind('[');
    return open == std::string::npos ? "" : path.substr(0, open);
  }
  size_t dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

void Report::set_pos(const std::string& path, Pos key, Pos value) { pos_[path] = Entry{key, value}; }

const Report::Entry* Report::find_self_or_parent(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = pos_.find(p);
    if (it != pos_.end()) return &it->second;
    if (p.empty()) return nullptr;
    p = parent_path(p);
  }
}

Pos Report::value_pos(const std::string& path) const {
  const Entry* e = find_self_or_parent(path);
  return e ? e->value : Pos{};
}

Pos Report::key_pos(const std::string& path) const {
  auto it = pos_.find(path);
  if (it != pos_.end()) return it->second.key;
  return value_pos(path);
}

void Report::error(const std::string& path, std::string message) { error_at(value_pos(path), path, std::move(message)); }

void Report::error_at_key(const std::string& path, std::string message) {
  error_at(key_pos(path), path, std::move(message));
}

namespace {

// Messages quote what the user wrote; a control character in it (a newline in a multi-line
// string, an escape sequence) must not break the one-line format or reach the terminal raw.
std::string one_line(std::string s) {
  if (std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return s;
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// At most this many errors are listed; one more line says how many were left out.
constexpr size_t kMaxErrors = 200;

}  // namespace

void Report::error_at(Pos pos, const std::string& path, std::string message) {
  errors_.push_back(Diagnostic{file_, pos.line, pos.column, one_line(path), one_line(std::move(message))});
}

void Report::warning(const std::string& path, std::string message) {
  Pos pos = value_pos(path);
  warnings_.push_back(Diagnostic{file_, pos.line, pos.column, one_line(path), one_line(std::move(message))});
}

bool Report::has_error_under(const std::string& path) const {
  for (const auto& d : errors_) {
    if (d.key.compare(0, path.size(), path) != 0) continue;
    if (d.key.size() == path.size() || d.key[path.size()] == '.' || d.key[path.size()] == '[') return true;
  }
  return false;
}

void Report::file_error(std::string message) {
  errors_.push_back(Diagnostic{file_, 0, 0, "", one_line(std::move(message))});
}

std::vector<Diagnostic> Report::sorted(std::vector<Diagnostic> v) {
  std::stable_sort(v.begin(), v.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  // The same problem found twice at the same place (e.g. by two checks) is reported once.
  v.erase(std::unique(v.begin(), v.end(),
                      [](const Diagnostic& a, const Diagnostic& b) {
                        return a.line == b.line && a.column == b.column && a.key == b.key && a.message == b.message;
                      }),
          v.end());
  if (v.size() > kMaxErrors) {
    size_t more = v.size() - kMaxErrors;
    v.resize(kMaxErrors);
    v.push_back(Diagnostic{v.front().file, 0, 0, "", "... and " + std::to_string(more) + " more not shown"});
  }
  return v;
}

}  // namespace ebb::config
