// Fuzz target: the config loader (config/load.h) on arbitrary text, through its in-memory
// entry points parse_lb_config / parse_scaler_config (the same code load_*_config runs after
// reading the file): the UTF-8 and nesting pre-checks, toml11, the readers and the validation.
//
// Input: first byte, bit 0: 0 = lb.toml, 1 = scaler.toml; the rest is the file's text.
// Checks beyond "no crash, no sanitizer report, no exception": the loader's contract that
// every diagnostic has a message and a position inside the text, and that a config it accepts
// has what the validation requires.
#include <algorithm>
#include <cstdint>
#include <string>

#include "config/load.h"
#include "tests/fuzz/fuzz_support.h"

using namespace ebb::config;

namespace {

template <typename T>
void check_diagnostics(const Loaded<T>& l, const std::string& text) {
  if (ebb::fuzz::verbose())
    std::fprintf(stderr, "  %zu errors%s%s\n", l.errors.size(), l.errors.empty() ? "" : ", first: ",
                 l.errors.empty() ? "" : l.errors[0].str().c_str());
  const unsigned lines = 1 + unsigned(std::count(text.begin(), text.end(), '\n'));
  for (const auto* list : {&l.errors, &l.warnings}) {
    for (const Diagnostic& d : *list) {
      FUZZ_CHECK(!d.message.empty(), "diagnostics have a message");
      FUZZ_CHECK(d.file == "fuzz.toml", "diagnostics name the file");
      FUZZ_CHECK(d.line <= lines, "diagnostic lines are inside the text");
      FUZZ_CHECK(!d.str().empty(), "diagnostics format");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool scaler = (data[0] & 1) != 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (scaler) {
    Loaded<ScalerConfig> l = parse_scaler_config(text, "fuzz.toml");
    check_diagnostics(l, text);
  } else {
    Loaded<LbConfig> l = parse_lb_config(text, "fuzz.toml");
    check_diagnostics(l, text);
    if (l.ok()) {
      FUZZ_CHECK(!l.config.listeners.empty() && !l.config.pools.empty(), "a valid lb.toml has listeners and pools");
      for (const auto& lis : l.config.listeners)
        FUZZ_CHECK(lis.pool.empty() || l.config.find_pool(lis.pool) != nullptr, "listeners name defined pools");
    }
  }
  return 0;
}
