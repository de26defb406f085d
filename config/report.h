// Collects diagnostics while a config file is read and validated, and remembers where in the
// file each key and value was, so that checks done later on the plain structs (references,
// duplicates, min <= max) can still point at the offending line and column. Internal to config/.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "config/load.h"

namespace ebb::config {

struct Pos {
  unsigned line = 0;  // 1-based; 0 = unknown
  unsigned column = 0;
};

class Report {
 public:
  explicit Report(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  // Positions, recorded by the reader for every key it reads ("pools[0].backends[1].weight").
  void set_pos(const std::string& path, Pos key, Pos value);
  bool has(const std::string& path) const { return pos_.count(path) != 0; }
  // Where the value at `path` is; for a key never written, where its table starts.
  Pos value_pos(const std::string& path) const;
  Pos key_pos(const std::string& path) const;

  void error(const std::string& path, std::string message);         // at the value
  void error_at_key(const std::string& path, std::string message);  // at the key
  void error_at(Pos pos, const std::string& path, std::string message);
  void warning(const std::string& path, std::string message);
  void file_error(std::string message);  // "FILE: message", no position

  bool has_errors() const { return !errors_.empty(); }
  // True if an error was reported for `path` or a key under it ("a.b" covers "a.b[0].c").
  bool has_error_under(const std::string& path) const;

  // Moves the diagnostics into `out`, sorted by position (file-level ones first).
  template <typename T>
  void finish(Loaded<T>& out) {
    out.errors = sorted(std::move(errors_));
    out.warnings = sorted(std::move(warnings_));
  }

 private:
  struct Entry {
    Pos key, value;
  };
  const Entry* find_self_or_parent(const std::string& path) const;
  static std::vector<Diagnostic> sorted(std::vector<Diagnostic> v);

  std::string file_;
  std::unordered_map<std::string, Entry> pos_;
  std::vector<Diagnostic> errors_;
  std::vector<Diagnostic> warnings_;
};

// "pools[0].health.interval" → "pools[0].health"; "pools[0]" → "pools"; "pools" → "".
std::string parent_path(const std::string& path);

}  // namespace ebb::config
