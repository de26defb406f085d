// Reading a config file and the checks on its raw bytes that come before the TOML parser:
// size, file type, UTF-8, nesting depth. They keep bad input (a directory, a 100 MB file,
// binary data, "[[[[..." a million deep) from crashing or stalling the parser. No toml11 here.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/report.h"

namespace ebb::config {

inline constexpr size_t kMaxConfigBytes = 4 * 1024 * 1024;  // toml11 parses ~2 MB/s: a few seconds at most
inline constexpr int kMaxNesting = 64;  // arrays, inline tables and dotted-key levels

// The whole file, or nullopt with one file-level error in `rep` (missing, unreadable, a
// directory, a device, larger than kMaxConfigBytes).
std::optional<std::string> read_config_file(const std::string& path, Report& rep);

// False (with an error at the first bad byte) unless `text` is valid UTF-8.
bool check_utf8(std::string_view text, Report& rep);

// False (with an error at the place) if arrays / inline tables / dotted keys nest deeper than
// kMaxNesting. A rough TOML lexer: strings and comments are skipped, the rest is counted.
bool check_nesting(std::string_view text, Report& rep);

// True if `text` holds nothing but whitespace and comments.
bool is_blank_toml(std::string_view text);

}  // namespace ebb::config
