// Helpers for the config tests: temporary files and looking up diagnostics by key path.
#pragma once
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "config/load.h"

namespace ebb::config::test {

// A file in a fresh temporary directory, removed (with the directory) at scope exit.
class TempFile {
 public:
  explicit TempFile(const std::string& content, const std::string& name = "file") {
    char tmpl[] = "/tmp/ebb-config-test-XXXXXX";
    const char* d = ::mkdtemp(tmpl);
    REQUIRE(d != nullptr);
    dir_ = d;
    path_ = dir_ + "/" + name;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() {
    std::remove(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_, path_;
};

inline std::string all(const std::vector<Diagnostic>& ds) {
  std::string out;
  for (const auto& d : ds) out += d.str() + "\n";
  return out;
}

// The one diagnostic with this key path (fails the test if there is not exactly one).
template <typename T>
Diagnostic the_error(const Loaded<T>& l, const std::string& key) {
  const Diagnostic* found = nullptr;
  int n = 0;
  for (const auto& d : l.errors)
    if (d.key == key) {
      found = &d;
      ++n;
    }
  INFO("errors:\n" << all(l.errors));
  REQUIRE(n == 1);
  return *found;
}

// Asserts that loading gave exactly one error, with this position, key and message.
template <typename T>
void expect_only_error(const Loaded<T>& l, unsigned line, unsigned col, const std::string& key,
                       const std::string& message) {
  INFO("errors:\n" << all(l.errors));
  REQUIRE(l.errors.size() == 1);
  const Diagnostic& d = l.errors[0];
  CHECK(d.line == line);
  CHECK(d.column == col);
  CHECK(d.key == key);
  CHECK(d.message == message);
}

// The minimal valid lb.toml body the error tests append to (2 lines + what they add).
inline const char* kMinimalPool = "[[pools]]\nname = \"app\"\nbackends = [\"127.0.0.1:9001\"]\n";
inline const char* kMinimalListener = "[[listeners]]\nname = \"web\"\nlisten = \"127.0.0.1:8080\"\npool = \"app\"\n";

}  // namespace ebb::config::test
