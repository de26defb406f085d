#include "config/report.h"

#include <algorithm>

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

void Report::error_at(Pos pos, const std::string& path, std::string message) {
  errors_.push_back(Diagnostic{file_, pos.line, pos.column, path, std::move(message)});
}

void Report::warning(const std::string& path, std::string message) {
  Pos pos = value_pos(path);
  warnings_.push_back(Diagnostic{file_, pos.line, pos.column, path, std::move(message)});
}

bool Report::has_error_under(const std::string& path) const {
  for (const auto& d : errors_) {
    if (d.key.compare(0, path.size(), path) != 0) continue;
    if (d.key.size() == path.size() || d.key[path.size()] == '.' || d.key[path.size()] == '[') return true;
  }
  return false;
}

void Report::file_error(std::string message) { errors_.push_back(Diagnostic{file_, 0, 0, "", std::move(message)}); }

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
  return v;
}

}  // namespace ebb::config
