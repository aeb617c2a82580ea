// The logging backend. Compiled without torch's include folder (see src/CMakeLists.txt): the
// wheel's bundled fmt must not meet the fmt that Debian's spdlog was built with.
#include "mudit/core/log.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mudit/core/error.h"

#if MUDIT_HAVE_SPDLOG
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#else
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#endif

namespace mudit::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

struct State {
  std::mutex mutex;
  Sink sink;
  std::string prefix;  // "[rank r/w] " when world > 1
#if MUDIT_HAVE_SPDLOG
  std::shared_ptr<spdlog::logger> console;
  std::shared_ptr<spdlog::logger> files;
  State() {
    auto console_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console = std::make_shared<spdlog::logger>("mudit", console_sink);
    console->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    console->set_level(spdlog::level::trace);
    files = std::make_shared<spdlog::logger>("mudit-files");
    files->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    files->set_level(spdlog::level::trace);
  }
#else
  std::vector<std::unique_ptr<std::ofstream> > files;
#endif
};

State& state() {
  static State s;
  return s;
}

#if MUDIT_HAVE_SPDLOG
spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      break;
  }
  return spdlog::level::off;
}
#else
std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}
#endif

}  // namespace

Level parse_level(std::string_view name) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  if (n == "trace") return Level::kTrace;
  if (n == "debug") return Level::kDebug;
  if (n == "info") return Level::kInfo;
  if (n == "warn" || n == "warning") return Level::kWarn;
  if (n == "error") return Level::kError;
  if (n == "off" || n == "none") return Level::kOff;
  MUDIT_THROW(ConfigError, "unknown log level '", name,
              "' (expected trace, debug, info, warn, error or off)");
}

const char* level_name(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "?";
}

void set_level(Level level) {
  g_level.store(level);
}
Level level() {
  return g_level.load();
}

void set_rank(int rank, int world_size) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.prefix = world_size > 1
                 ? "[rank " + std::to_string(rank) + "/" + std::to_string(world_size) + "] "
                 : std::string();
}

void add_file(const std::string& path) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
#if MUDIT_HAVE_SPDLOG
  try {
    s.files->sinks().push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(path));
  } catch (const spdlog::spdlog_ex& e) {
    MUDIT_THROW(IoError, "cannot open log file ", path, ": ", e.what());
  }
#else
  auto f = std::make_unique<std::ofstream>(path, std::ios::app);
  MUDIT_CHECK(f->good(), IoError, "cannot open log file ", path);
  s.files.push_back(std::move(f));
#endif
}

void close_files() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
#if MUDIT_HAVE_SPDLOG
  s.files->flush();
  s.files->sinks().clear();
#else
  s.files.clear();
#endif
}

void set_sink(Sink sink) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.sink = std::move(sink);
}

void write(Level level, std::string_view message) {
  if (level == Level::kOff) return;
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.sink) {
    s.sink(level, message);
  }
#if MUDIT_HAVE_SPDLOG
  if (!s.sink) s.console->log(to_spdlog(level), "{}{}", s.prefix, message);
  if (!s.files->sinks().empty()) s.files->log(to_spdlog(level), "{}{}", s.prefix, message);
#else
  const std::string line =
      "[" + timestamp() + "] [" + level_name(level) + "] " + s.prefix + std::string(message);
  if (!s.sink) std::fprintf(stderr, "%s\n", line.c_str());
  for (auto& f : s.files) *f << line << '\n';
#endif
}

void flush() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
#if MUDIT_HAVE_SPDLOG
  s.console->flush();
  s.files->flush();
#else
  std::fflush(stderr);
  for (auto& f : s.files) f->flush();
#endif
}

}  // namespace mudit::log
