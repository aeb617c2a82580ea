#pragma once

#include <functional>
#include <sstream>
#include <string>
#include <string_view>

/// mudit's logging facade. The library and the CLI log through these functions; the backend
/// (spdlog in a full build, a plain stderr writer in a core-only build) stays private.
/// Embedding applications redirect messages with set_sink().
namespace mudit::log {

enum class Level { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

/// Parses "trace", "debug", "info", "warn" (or "warning"), "error", "off"; throws ConfigError.
Level parse_level(std::string_view name);
const char* level_name(Level level);

void set_level(Level level);
Level level();
inline bool enabled(Level l) {
  return l >= level() && l != Level::kOff;
}

/// Tags every line with the process rank when the world has more than one process.
void set_rank(int rank, int world_size);

/// Also writes every message to `path` (appending), e.g. the run folder's log file.
/// Throws IoError when the file cannot be opened.
void add_file(const std::string& path);
/// Closes every file added with add_file().
void close_files();

/// Replaces the console output with a callback (nullptr restores the console). The callback
/// receives each message once, already filtered by level, without prefixes.
using Sink = std::function<void(Level, std::string_view)>;
void set_sink(Sink sink);

/// Writes one message at `level` (no filtering beyond the level check).
void write(Level level, std::string_view message);
void flush();

namespace detail {
template <class... Args>
void emit(Level level, const Args&... args) {
  if (!enabled(level)) return;
  std::ostringstream out;
  (out << ... << args);
  write(level, out.str());
}
}  // namespace detail

/// Stream-style logging: log::info("loaded ", n, " songs from ", path);
template <class... Args>
void trace(const Args&... a) {
  detail::emit(Level::kTrace, a...);
}
template <class... Args>
void debug(const Args&... a) {
  detail::emit(Level::kDebug, a...);
}
template <class... Args>
void info(const Args&... a) {
  detail::emit(Level::kInfo, a...);
}
template <class... Args>
void warn(const Args&... a) {
  detail::emit(Level::kWarn, a...);
}
template <class... Args>
void error(const Args&... a) {
  detail::emit(Level::kError, a...);
}

}  // namespace mudit::log
