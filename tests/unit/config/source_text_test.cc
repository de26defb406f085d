// Bad files: each gives one clear file-level (or positioned) error, never a crash.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "config/load.h"
#include "config/source_text.h"
#include "helpers.h"

using namespace ebb::config;
using namespace ebb::config::test;

namespace {
template <typename T>
std::string only(const Loaded<T>& l) {
  INFO(all(l.errors));
  REQUIRE(l.errors.size() == 1);
  return l.errors[0].str();
}
}  // namespace

TEST_CASE("file: missing, a directory, a device", "[config][file]") {
  CHECK(only(load_lb_config("/nonexistent/lb.toml")) ==
        "/nonexistent/lb.toml: cannot open config file: No such file or directory");
  CHECK(only(load_scaler_config("/tmp")) == "/tmp: is a directory, not a config file");
  CHECK(only(load_lb_config("/dev/zero")) == "/dev/zero: not a regular file");
}

TEST_CASE("file: a read error on a regular file", "[config][file]") {
  // Root reads any mode-000 file, so unreadability is tested with a file whose read fails:
  // /proc/self/mem is a regular file whose offset 0 is never mapped (EIO).
  CHECK(only(load_lb_config("/proc/self/mem")) == "/proc/self/mem: cannot read config file: Input/output error");
}

TEST_CASE("file: larger than the limit is refused before parsing", "[config][file]") {
  TempFile big("", "big.toml");
  REQUIRE(::truncate(big.path().c_str(), 100 * 1024 * 1024) == 0);  // sparse: no disk used
  CHECK(only(load_lb_config(big.path())) == big.path() + ": file is too large (100.0 MiB; the limit is 4.0 MiB)");
}

TEST_CASE("file: invalid UTF-8 is reported at the first bad byte", "[config][file]") {
  CHECK(only(parse_lb_config("[runtime]\nlog_level = \"inf\xff\"\n", "lb.toml")) ==
        "lb.toml:2:17: invalid UTF-8 (byte 0xFF); a config file must be UTF-8 text");
  CHECK(only(parse_lb_config("# caf\xc3\n", "lb.toml")) ==  // truncated sequence at the end
        "lb.toml:1:6: invalid UTF-8 (byte 0xC3); a config file must be UTF-8 text");
  CHECK(only(parse_lb_config("a = \"\xc0\xaf\"\n", "lb.toml")) ==  // overlong '/'
        "lb.toml:1:6: invalid UTF-8 (byte 0xC0); a config file must be UTF-8 text");
  CHECK(only(parse_lb_config("a = \"\xed\xa0\x80\"\n", "lb.toml")) ==  // a UTF-16 surrogate
        "lb.toml:1:6: invalid UTF-8 (byte 0xED); a config file must be UTF-8 text");
  // valid multi-byte text (and a BOM) is fine up to the parser
  auto ok = parse_lb_config("\xef\xbb\xbf# caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n" + std::string(kMinimalListener) +
                                kMinimalPool,
                            "lb.toml");
  INFO(all(ok.errors));
  CHECK(ok.ok());
}

TEST_CASE("file: binary garbage and NUL bytes are a syntax error, not a crash", "[config][file]") {
  std::string nul("a = 1\n\0\0\0", 9);
  auto l = parse_lb_config(nul, "lb.toml");
  REQUIRE(!l.ok());
  CHECK(l.errors[0].line == 2);
}

TEST_CASE("file: nesting is bounded before the parser recurses", "[config][file]") {
  std::string deep = "a = " + std::string(100000, '[');
  CHECK(only(parse_lb_config(deep, "lb.toml")) ==
        "lb.toml:1:69: nesting deeper than 64 levels (arrays, inline tables, dotted keys)");
  std::string dotted = "a";
  for (int i = 0; i < 100000; ++i) dotted += ".a";
  CHECK(only(parse_lb_config(dotted + " = 1\n", "lb.toml")).find("nesting deeper than 64 levels") != std::string::npos);
  std::string inline_tables = "a = ";
  for (int i = 0; i < 1000; ++i) inline_tables += "{b = ";
  CHECK(only(parse_lb_config(inline_tables, "lb.toml")).find("nesting deeper than 64 levels") != std::string::npos);
  // brackets inside strings and comments do not count
  std::string harmless = "# " + std::string(200, '[') + "\na = \"" + std::string(200, '{') + "\"\nb = '''\n" +
                         std::string(200, '[') + "\n'''\n";
  Report rep("x");
  CHECK(check_nesting(harmless, rep));
  CHECK(!rep.has_errors());
}

TEST_CASE("file: load_* reads a real file", "[config][file]") {
  TempFile f(std::string(kMinimalListener) + kMinimalPool, "lb.toml");
  auto l = load_lb_config(f.path());
  INFO(all(l.errors));
  CHECK(l.ok());
  auto bad = load_lb_config(f.path() + ".missing");
  CHECK(!bad.ok());
}
