// Leveled logging to stderr (journald picks it up under systemd). Thread-safe: each line is
// written with a single write(2).
#pragma once
#include <string_view>

namespace ebb::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level level);
Level level();
bool enabled(Level level);
void write(Level level, std::string_view message);

inline void error(std::string_view m) { write(Level::error, m); }
inline void warn(std::string_view m) { write(Level::warn, m); }
inline void info(std::string_view m) { if (enabled(Level::info)) write(Level::info, m); }
inline void debug(std::string_view m) { if (enabled(Level::debug)) write(Level::debug, m); }

}  // namespace ebb::log
